#include "segment/segment_evaluator.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <string_view>

#include "common/parallel.h"
#include "segment/internal/segment_ops.h"

namespace cdp {

using namespace segment_internal;

namespace {

// Dense bitmap over n items (rows or customers): bit i of word i/64.
using Bits = std::vector<uint64_t>;

// Morsels are whole words so workers never share one.
constexpr size_t kGrain = 64 * 1024;

size_t Words(size_t n) { return (n + 63) / 64; }

void MaskTail(Bits& b, size_t n) {
  if (n % 64 && !b.empty()) b.back() &= (~0ULL >> (64 - n % 64));
}

Bits AllOnes(size_t n) {
  Bits b(Words(n), ~0ULL);
  MaskTail(b, n);
  return b;
}

void AndInto(Bits& a, const Bits& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] &= b[i];
}
void OrInto(Bits& a, const Bits& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] |= b[i];
}

// out bit i = valid(i) && pred(i) for i in [0, n); nulls_pass: null rows pass instead.
template <typename Pred>
Bits Scan(const Column& col, size_t n, int threads, bool nulls_pass, Pred pred) {
  Bits out(Words(n));
  const uint64_t* valid = col.validity().data();
  ParallelFor(threads, n, kGrain, [&](size_t b, size_t e, int) {
    for (size_t w = b / 64; w * 64 < e; ++w) {
      uint64_t word = 0;
      uint64_t v = valid[w];
      size_t end = std::min(e, w * 64 + 64);
      // Branch-free: the predicate also runs on null slots (their stored
      // value is a default), and the validity word decides afterwards.
      for (size_t i = w * 64; i < end; ++i) word |= static_cast<uint64_t>(pred(i)) << (i & 63);
      const size_t count = end - w * 64;
      const uint64_t range = count == 64 ? ~0ULL : ((1ULL << count) - 1);
      word = ((word & v) | (nulls_pass ? ~v : 0)) & range;
      out[w] = word;
    }
  });
  return out;
}

Bits ScanNulls(const Column& col, size_t n, bool want_null) {
  Bits out(Words(n));
  for (size_t w = 0; w < out.size(); ++w) out[w] = want_null ? ~col.validity()[w] : col.validity()[w];
  MaskTail(out, n);
  return out;
}

// Comparison of one value against the condition's literals.
template <typename T>
struct Compare {
  ConditionOp op = ConditionOp::kEquals;
  T a{}, b{};
  std::vector<T> set;  // sorted, for in / not_in

  bool Test(T v) const {
    switch (op) {
      case ConditionOp::kEquals: return v == a;
      case ConditionOp::kNotEquals: return v != a;
      case ConditionOp::kGreater: return v > a;
      case ConditionOp::kGreaterEqual: return v >= a;
      case ConditionOp::kLess: return v < a;
      case ConditionOp::kLessEqual: return v <= a;
      case ConditionOp::kBetween: return v >= a && v <= b;
      case ConditionOp::kIn: return std::binary_search(set.begin(), set.end(), v);
      case ConditionOp::kNotIn: return !std::binary_search(set.begin(), set.end(), v);
      default: return false;
    }
  }
};

template <typename T, typename Conv>
Compare<T> MakeCompare(const Condition& c, Conv conv) {
  Compare<T> cmp;
  cmp.op = c.op;
  if (c.op == ConditionOp::kIn || c.op == ConditionOp::kNotIn) {
    for (const auto& v : c.values) cmp.set.push_back(static_cast<T>(*conv(v)));
    std::sort(cmp.set.begin(), cmp.set.end());
  } else {
    if (!c.values.empty()) cmp.a = static_cast<T>(*conv(c.values[0]));
    if (c.values.size() > 1) cmp.b = static_cast<T>(*conv(c.values[1]));
  }
  return cmp;
}

// Simple Unicode lower-casing (utf8proc); invalid UTF-8 bytes are kept as they are.
void FoldCase(std::string_view s, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch < 0x80) {
      out->push_back(static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
      ++i;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                            static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (len <= 0) {
      out->push_back(static_cast<char>(ch));
      ++i;
      continue;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
    i += static_cast<size_t>(len);
  }
}

bool IsEmptyOp(ConditionOp op) { return op == ConditionOp::kIsEmpty || op == ConditionOp::kIsNotEmpty; }

Bits ScanNumber(const Column& col, const Condition& c, size_t n, int threads) {
  if (IsEmptyOp(c.op)) return ScanNulls(col, n, c.op == ConditionOp::kIsEmpty);
  if (col.type() == DataType::kInt64) {
    bool exact = std::all_of(c.values.begin(), c.values.end(), [](const SegmentValue& v) { return AsInt64(v).has_value(); });
    const int64_t* d = col.int64_data().data();
    if (exact) {
      auto cmp = MakeCompare<int64_t>(c, AsInt64);
      return Scan(col, n, threads, false, [&](size_t i) { return cmp.Test(d[i]); });
    }
    auto cmp = MakeCompare<double>(c, AsDouble);
    return Scan(col, n, threads, false, [&](size_t i) { return cmp.Test(static_cast<double>(d[i])); });
  }
  const double* d = col.double_data().data();
  auto cmp = MakeCompare<double>(c, AsDouble);
  return Scan(col, n, threads, false, [&](size_t i) { return cmp.Test(d[i]); });
}

Bits ScanString(const Column& col, const Condition& c, size_t n, int threads) {
  if (IsEmptyOp(c.op)) {
    bool want_empty = c.op == ConditionOp::kIsEmpty;
    return Scan(col, n, threads, want_empty, [&](size_t i) { return col.StringAt(i).empty() == want_empty; });
  }
  const bool fold = c.case_insensitive;
  std::vector<std::string> needles;
  for (const auto& v : c.values) {
    std::string t = *AsText(v);
    if (fold) {
      std::string f;
      FoldCase(t, &f);
      t = std::move(f);
    }
    needles.push_back(std::move(t));
  }
  std::set<std::string, std::less<>> set(needles.begin(), needles.end());
  const std::string_view a = needles.empty() ? std::string_view() : std::string_view(needles[0]);
  const ConditionOp op = c.op;
  auto test = [&, op](std::string_view s) {
    switch (op) {
      case ConditionOp::kEquals: return s == a;
      case ConditionOp::kNotEquals: return s != a;
      case ConditionOp::kContains: return s.find(a) != std::string_view::npos;
      case ConditionOp::kNotContains: return s.find(a) == std::string_view::npos;
      case ConditionOp::kStartsWith: return s.substr(0, a.size()) == a;
      case ConditionOp::kEndsWith: return s.size() >= a.size() && s.substr(s.size() - a.size()) == a;
      case ConditionOp::kIn: return set.find(s) != set.end();
      case ConditionOp::kNotIn: return set.find(s) == set.end();
      default: return false;
    }
  };
  // A plain comparison is cheaper than a lookup.
  if (!fold && op != ConditionOp::kIn && op != ConditionOp::kNotIn) {
    return Scan(col, n, threads, false, [&](size_t i) { return test(col.StringAt(i)); });
  }
  // Profile text columns repeat few values (State, LoyaltyTier, ...): each
  // worker remembers the verdict per distinct value (up to a cap), so folding
  // and set lookups run once per value instead of once per row.
  constexpr size_t kMemoCap = 1 << 16;
  const size_t workers = static_cast<size_t>(ResolveThreads(threads));
  std::vector<std::string> buffers(workers);
  std::vector<std::unordered_map<std::string_view, bool>> memos(workers);
  Bits out(Words(n));
  const uint64_t* valid = col.validity().data();
  ParallelFor(threads, n, kGrain, [&](size_t b, size_t e, int worker) {
    std::string& buf = buffers[static_cast<size_t>(worker)];
    auto& memo = memos[static_cast<size_t>(worker)];
    for (size_t w = b / 64; w * 64 < e; ++w) {
      uint64_t word = 0;
      uint64_t v = valid[w];
      size_t end = std::min(e, w * 64 + 64);
      for (size_t i = std::max(b, w * 64); i < end; ++i) {
        if (!((v >> (i & 63)) & 1u)) continue;
        std::string_view sv = col.StringAt(i);
        bool ok;
        auto it = memo.find(sv);
        if (it != memo.end()) {
          ok = it->second;
        } else {
          if (fold) {
            FoldCase(sv, &buf);
            ok = test(buf);
          } else {
            ok = test(sv);
          }
          if (memo.size() < kMemoCap) memo.emplace(sv, ok);
        }
        word |= static_cast<uint64_t>(ok) << (i & 63);
      }
      out[w] |= word;
    }
  });
  return out;
}

// Rows whose day (date, or UTC day of a timestamp) is in [lo, hi].
Bits ScanDayRange(const Column& col, size_t n, int threads, int32_t lo, int32_t hi) {
  if (col.type() == DataType::kTimestamp) {
    // The day range as a range of raw microseconds: no per-row day conversion.
    constexpr int64_t kDay = 86400000000LL;
    const int64_t lo_us = lo == INT32_MIN ? INT64_MIN : static_cast<int64_t>(lo) * kDay;
    const int64_t hi_us = hi == INT32_MAX ? INT64_MAX : (static_cast<int64_t>(hi) + 1) * kDay - 1;
    const int64_t* td = col.int64_data().data();
    return Scan(col, n, threads, false, [&](size_t i) { return td[i] >= lo_us && td[i] <= hi_us; });
  }
  const int32_t* dd = col.date_data().data();
  return Scan(col, n, threads, false, [&](size_t i) { return dd[i] >= lo && dd[i] <= hi; });
}

Bits ScanDate(const Column& col, const Condition& c, size_t n, int threads, int32_t run) {
  if (IsEmptyOp(c.op)) return ScanNulls(col, n, c.op == ConditionOp::kIsEmpty);
  const bool ts = col.type() == DataType::kTimestamp;
  const int32_t* dd = ts ? nullptr : col.date_data().data();
  const int64_t* td = ts ? col.int64_data().data() : nullptr;
  auto day = [=](size_t i) { return ts ? DayOfMicros(td[i]) : dd[i]; };
  if (c.op == ConditionOp::kAnniversaryWithin) {
    int64_t within = *AsInt64(c.values[0]);
    return Scan(col, n, threads, false, [&](size_t i) { return AnniversaryWithin(day(i), run, within); });
  }
  if (c.op == ConditionOp::kNotEquals) {
    int32_t v = *AsDate(c.values[0]);
    return Scan(col, n, threads, false, [&](size_t i) { return day(i) != v; });
  }
  // Everything else is an inclusive day range.
  int32_t lo = INT32_MIN, hi = INT32_MAX;
  std::optional<DayRange> range;
  auto v0 = [&] { return *AsDate(c.values[0]); };
  switch (c.op) {
    case ConditionOp::kEquals:
    case ConditionOp::kOn: lo = hi = v0(); break;
    case ConditionOp::kGreater:
    case ConditionOp::kAfter: lo = v0() + 1; break;
    case ConditionOp::kGreaterEqual:
    case ConditionOp::kOnOrAfter: lo = v0(); break;
    case ConditionOp::kLess:
    case ConditionOp::kBefore: hi = v0() - 1; break;
    case ConditionOp::kLessEqual:
    case ConditionOp::kOnOrBefore: hi = v0(); break;
    case ConditionOp::kBetween: lo = v0(); hi = *AsDate(c.values[1]); break;
    case ConditionOp::kInLast: range = LastDays(*AsInt64(c.values[0]), c.unit, run); break;
    case ConditionOp::kInNext: range = NextDays(*AsInt64(c.values[0]), c.unit, run); break;
    case ConditionOp::kThisPeriod: range = PeriodDays(false, c.unit, run); break;
    case ConditionOp::kLastPeriod: range = PeriodDays(true, c.unit, run); break;
    default: return Bits(Words(n));
  }
  if (range) {
    lo = range->lo;
    hi = range->hi;
  }
  return ScanDayRange(col, n, threads, lo, hi);
}

Bits ScanBool(const Column& col, const Condition& c, size_t n, int threads) {
  if (IsEmptyOp(c.op)) return ScanNulls(col, n, c.op == ConditionOp::kIsEmpty);
  bool want;
  bool negate = false;
  switch (c.op) {
    case ConditionOp::kIsTrue: want = true; break;
    case ConditionOp::kIsFalse: want = false; break;
    case ConditionOp::kEquals: want = *AsBool(c.values[0]); break;
    case ConditionOp::kNotEquals: want = *AsBool(c.values[0]); negate = true; break;
    default: return Bits(Words(n));
  }
  const uint8_t* d = col.bool_data().data();
  return Scan(col, n, threads, false, [&](size_t i) { return ((d[i] != 0) == want) != negate; });
}

// A field condition over the n rows of `col`.
Bits ScanField(const Column& col, const Condition& c, size_t n, int threads, int32_t run) {
  switch (KindOf(col.type())) {
    case ValueKind::kNumber: return ScanNumber(col, c, n, threads);
    case ValueKind::kString: return ScanString(col, c, n, threads);
    case ValueKind::kDate: return ScanDate(col, c, n, threads, run);
    case ValueKind::kBool: return ScanBool(col, c, n, threads);
  }
  return Bits(Words(n));
}

class Evaluator {
 public:
  Evaluator(const SegmentData& data, const SegmentEvalOptions& options)
      : data_(data), run_(options.run_date), threads_(options.threads), n_(data.customer->num_rows()) {}

  CustomerSet EvaluateRule(const Rule& rule) {
    if (!rule.segment.empty()) {
      auto it = data_.segments.find(rule.segment);
      return it != data_.segments.end() && it->second ? *it->second : CustomerSet();
    }
    Bits bits = RuleBits(rule);
    CustomerSet s = CustomerSet::FromBits(bits, static_cast<uint32_t>(n_));
    s.Optimize();
    return s;
  }

 private:
  static bool IsPerCustomer(std::string_view e) { return e == kCustomerEntity || e == kCustomerMeasureEntity; }

  const Table& PerCustomerTable(std::string_view e) const {
    return e == kCustomerEntity ? *data_.customer : *data_.customer_measure;
  }

  // A condition is row-level when it reads a field of a related rule entity.
  static bool IsRowLevel(const Condition& c, const Rule& rule) {
    return !IsPerCustomer(rule.entity) && !c.is_aggregate() && (c.entity.empty() || c.entity == rule.entity);
  }

  Bits CustomerLevel(const Condition& c, const Rule& rule) {
    if (c.is_aggregate()) return Aggregate(c, rule);
    const std::string& entity = c.entity.empty() ? rule.entity : c.entity;
    const Column& col = *PerCustomerTable(entity).ColumnByName(c.field);
    return ScanField(col, c, n_, threads_, run_);
  }

  Bits RowLevel(const Condition& c, const EntityByCustomer& e) {
    const Column& col = *e.clustered->ColumnByName(c.field);
    return ScanField(col, c, e.num_rows(), threads_, run_);
  }

  // Row bit p = customer bit of the customer owning position p.
  Bits Broadcast(const Bits& customers, const EntityByCustomer& e) {
    size_t rows = e.num_rows();
    Bits out(Words(rows));
    const auto& off = e.offsets;
    ParallelFor(threads_, rows, kGrain, [&](size_t b, size_t end, int) {
      size_t c = static_cast<size_t>(std::upper_bound(off.begin(), off.end(), b) - off.begin()) - 1;
      for (size_t p = b; p < end; ++p) {
        while (off[c + 1] <= p) ++c;
        if ((customers[c >> 6] >> (c & 63)) & 1u) out[p >> 6] |= 1ULL << (p & 63);
      }
    });
    return out;
  }

  // Customer bit c = any row bit in c's positions (rows == nullptr: has any row).
  Bits Reduce(const Bits* rows, const EntityByCustomer& e) {
    Bits out(Words(n_));
    const auto& off = e.offsets;
    ParallelFor(threads_, n_, kGrain, [&](size_t b, size_t end, int) {
      for (size_t c = b; c < end; ++c) {
        uint64_t lo = off[c], hi = off[c + 1];
        bool any = false;
        if (rows == nullptr) {
          any = hi > lo;
        } else {
          while (lo < hi && !any) {
            uint64_t w = lo >> 6;
            uint64_t word = (*rows)[w] >> (lo & 63);
            uint64_t span = std::min<uint64_t>(64 - (lo & 63), hi - lo);
            if (span < 64) word &= (1ULL << span) - 1;
            any = word != 0;
            lo += span;
          }
        }
        if (any) out[c >> 6] |= 1ULL << (c & 63);
      }
    });
    return out;
  }

  Bits RuleBits(const Rule& rule) {
    if (IsPerCustomer(rule.entity)) {
      Bits acc = AllOnes(n_);
      for (const auto& t : rule.conditions) {
        if (auto* c = std::get_if<Condition>(&t)) {
          AndInto(acc, CustomerLevel(*c, rule));
        } else {
          Bits any(Words(n_));
          for (const auto& c2 : std::get<OrGroup>(t).any_of) OrInto(any, CustomerLevel(c2, rule));
          AndInto(acc, any);
        }
      }
      return acc;
    }
    const EntityByCustomer& e = *data_.related.at(rule.entity);
    Bits customers = AllOnes(n_);
    std::optional<Bits> rows;
    auto and_rows = [&](Bits b) {
      if (rows) {
        AndInto(*rows, b);
      } else {
        rows = std::move(b);
      }
    };
    for (const auto& t : rule.conditions) {
      if (auto* c = std::get_if<Condition>(&t)) {
        if (IsRowLevel(*c, rule)) {
          and_rows(RowLevel(*c, e));
        } else {
          AndInto(customers, CustomerLevel(*c, rule));
        }
        continue;
      }
      const auto& g = std::get<OrGroup>(t);
      bool any_row = std::any_of(g.any_of.begin(), g.any_of.end(), [&](const Condition& c) { return IsRowLevel(c, rule); });
      if (!any_row) {
        Bits any(Words(n_));
        for (const auto& c2 : g.any_of) OrInto(any, CustomerLevel(c2, rule));
        AndInto(customers, any);
        continue;
      }
      // Mixed group: customer-level conditions hold on every row of the customer.
      Bits any(Words(e.num_rows()));
      for (const auto& c2 : g.any_of) {
        OrInto(any, IsRowLevel(c2, rule) ? RowLevel(c2, e) : Broadcast(CustomerLevel(c2, rule), e));
      }
      and_rows(std::move(any));
    }
    Bits has_row = Reduce(rows ? &*rows : nullptr, e);
    AndInto(customers, has_row);
    return customers;
  }

  // function(field) per customer over the rows passing filters and window,
  // compared with the condition's op and values.
  Bits Aggregate(const Condition& c, const Rule& rule) {
    const std::string& entity = c.entity.empty() ? rule.entity : c.entity;
    const EntityByCustomer& e = *data_.related.at(entity);
    const Table& t = *e.clustered;
    size_t rows = e.num_rows();
    std::optional<Bits> pass;
    for (const auto& f : c.filters) {
      Bits b = ScanField(*t.ColumnByName(f.field), f, rows, threads_, run_);
      if (pass) {
        AndInto(*pass, b);
      } else {
        pass = std::move(b);
      }
    }
    if (c.window.kind != WindowKind::kAllTime) {
      const DayRange days = WindowDays(c.window, run_);
      Bits b = ScanDayRange(*t.ColumnByName(c.time_field), rows, threads_, days.lo, days.hi);
      if (pass) {
        AndInto(*pass, b);
      } else {
        pass = std::move(b);
      }
    }
    const Column* field = c.field.empty() ? nullptr : t.ColumnByName(c.field);
    const AggregateFunction fn = *c.function;
    Compare<double> cmp;
    if (!IsEmptyOp(c.op)) cmp = MakeCompare<double>(c, AsDouble);
    const auto& off = e.offsets;
    Bits out(Words(n_));
    ParallelFor(threads_, n_, kGrain, [&](size_t b, size_t end, int) {
      for (size_t cu = b; cu < end; ++cu) {
        double acc = 0;
        uint64_t count = 0;
        for (uint64_t p = off[cu]; p < off[cu + 1]; ++p) {
          if (pass && !(((*pass)[p >> 6] >> (p & 63)) & 1u)) continue;
          if (field == nullptr) {
            ++count;
            continue;
          }
          if (field->IsNull(p)) continue;
          double v = field->type() == DataType::kInt64 ? static_cast<double>(field->Int64At(p))
                     : field->type() == DataType::kDouble ? field->DoubleAt(p)
                                                          : 0.0;
          if (count == 0 && (fn == AggregateFunction::kMin || fn == AggregateFunction::kMax)) {
            acc = v;
          } else if (fn == AggregateFunction::kMin) {
            acc = std::min(acc, v);
          } else if (fn == AggregateFunction::kMax) {
            acc = std::max(acc, v);
          } else {
            acc += v;
          }
          ++count;
        }
        bool valid = true;
        double value = acc;
        switch (fn) {
          case AggregateFunction::kCount: value = static_cast<double>(count); break;
          case AggregateFunction::kSum: break;
          case AggregateFunction::kAverage: valid = count > 0; value = valid ? acc / static_cast<double>(count) : 0; break;
          default: valid = count > 0; break;
        }
        bool ok;
        if (c.op == ConditionOp::kIsEmpty) {
          ok = !valid;
        } else if (c.op == ConditionOp::kIsNotEmpty) {
          ok = valid;
        } else {
          ok = valid && cmp.Test(value);
        }
        if (ok) out[cu >> 6] |= 1ULL << (cu & 63);
      }
    });
    return out;
  }

  const SegmentData& data_;
  int32_t run_;
  int threads_;
  size_t n_;
};

Status CheckData(const SegmentData& data) {
  if (data.customer == nullptr) return InvalidArgumentError("segment data: no Customer table");
  size_t n = data.customer->num_rows();
  if (n > UINT32_MAX) return InvalidArgumentError("segment data: more than 2^32 customers");
  if (data.customer_measure && data.customer_measure->num_rows() != n) {
    return InvalidArgumentError("segment data: Customer_Measure has " + std::to_string(data.customer_measure->num_rows()) +
                                " rows, Customer has " + std::to_string(n));
  }
  for (const auto& [name, e] : data.related) {
    if (e == nullptr || e->clustered == nullptr || e->num_customers != n || e->offsets.size() != n + 1 ||
        e->offsets.back() != e->rows.size() || e->clustered->num_rows() != e->rows.size()) {
      return InvalidArgumentError("segment data: related entity '" + name + "' is not grouped by the " +
                                  std::to_string(n) + " customers of the Customer table");
    }
  }
  return Status::Ok();
}

}  // namespace

SegmentSchema SchemaOf(const SegmentData& data) {
  SegmentSchema s;
  if (data.customer) s.customer = data.customer->schema();
  if (data.customer_measure) s.customer_measure = data.customer_measure->schema();
  for (const auto& [name, e] : data.related) {
    if (e && e->clustered) s.related[name] = e->clustered->schema();
  }
  for (const auto& [name, set] : data.segments) {
    if (set) s.segments.insert(name);
  }
  return s;
}

StatusOr<SegmentResult> EvaluateSegment(const SegmentDefinition& d, const SegmentData& data,
                                        const SegmentEvalOptions& options) {
  CDP_RETURN_IF_ERROR(CheckData(data));
  std::vector<SegmentProblem> problems = Validate(d, SchemaOf(data));
  if (!problems.empty()) {
    return FailedPreconditionError("segment '" + d.name + "' is not valid (" +
                                   std::string(SegmentStateName(StateAfterSave(d, problems))) + "):\n" +
                                   FormatProblems(problems));
  }
  Evaluator ev(data, options);
  SegmentResult result;
  for (size_t i = 0; i < d.rules.size(); ++i) {
    CustomerSet s = ev.EvaluateRule(d.rules[i]);
    RuleCount count;
    count.members = s.Count();
    if (i == 0) {
      result.members = std::move(s);
    } else {
      switch (d.rules[i].combine) {
        case SetOperator::kUnion: result.members.UnionWith(s); break;
        case SetOperator::kIntersect: result.members.IntersectWith(s); break;
        case SetOperator::kExcept: result.members.Subtract(s); break;
      }
    }
    count.running_total = result.members.Count();
    result.rules.push_back(count);
  }
  result.members.Optimize();
  return result;
}

}  // namespace cdp
