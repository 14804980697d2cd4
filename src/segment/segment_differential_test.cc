// Differential test: thousands of random segment definitions (every operator,
// OR groups, set operators, related-entity and aggregate conditions) evaluated
// by the columnar evaluator and by a naive row-by-row reference written here
// independently (no shared evaluation code), on random data with nulls.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cmath>
#include <memory>
#include <random>
#include <map>
#include <set>

#include "common/datetime.h"
#include "segment/internal/segment_ops.h"
#include "segment/segment_evaluator.h"
#include "segment/segment_operators.h"

namespace cdp {
namespace {

constexpr int64_t kDay = 86400LL * 1000000;

const std::vector<std::string> kWords = {"alpha", "Alpha", "ALPHA beta", "beta", "", "Ünïcode", "ünïcode", "gam", "ßtraße", "x"};
const std::vector<std::string> kNeedles = {"al", "AL", "ph", "ta", "Ü", "ü", "", "beta", "alpha", "ünïcode", "zz", "x"};

// ------------------------------------------------------------------ data

struct Dataset {
  int32_t run = 0;
  std::shared_ptr<Table> customer, measure, purchases, reviews;
  std::vector<int64_t> purchase_owner, review_owner;  // customer of each row, -1 orphan
  EntityByCustomer purchases_by, reviews_by;
  SegmentData data;
};

struct RandomData {
  std::mt19937_64& rng;
  double null_rate = 0.15;
  int32_t run = 0;

  bool Null() { return std::uniform_real_distribution<double>(0, 1)(rng) < null_rate; }
  int64_t Int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

  void Fill(Column& c, DataType t) {
    if (Null()) {
      c.AppendNull();
      return;
    }
    switch (t) {
      case DataType::kString: c.AppendString(kWords[static_cast<size_t>(Int(0, kWords.size() - 1))]); break;
      case DataType::kInt64: c.AppendInt64(Int(-5, 5)); break;
      case DataType::kDouble: c.AppendDouble(static_cast<double>(Int(-20, 20)) / 4.0); break;
      case DataType::kBool: c.AppendBool(Int(0, 1) == 1); break;
      case DataType::kDate: c.AppendDate(RandomDay()); break;
      case DataType::kTimestamp: c.AppendTimestamp(static_cast<int64_t>(RandomDay()) * kDay + Int(0, kDay - 1)); break;
    }
  }
  int32_t RandomDay() {
    switch (Int(0, 3)) {
      case 0: return run + static_cast<int32_t>(Int(-40, 40));
      case 1: return run + static_cast<int32_t>(Int(-800, 800));
      case 2: return DaysFromCivil(static_cast<int>(Int(1960, 2004)), 2, static_cast<unsigned>(Int(27, 28)));
      default: {
        // Leap-day births and dates around New Year.
        int y = static_cast<int>(Int(1960, 2004)) / 4 * 4;
        if (Int(0, 1)) return DaysFromCivil(y, 2, 29);
        return DaysFromCivil(y + static_cast<int>(Int(0, 3)), Int(0, 1) ? 12 : 1, static_cast<unsigned>(Int(1, 31)));
      }
    }
  }
  std::shared_ptr<Table> MakeTable(const Schema& s, size_t rows) {
    auto t = std::make_shared<Table>(s);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t f = 0; f < s.num_fields(); ++f) Fill(t->mutable_column(f), s.field(f).type);
      t->FinishRow();
    }
    return t;
  }
};

Schema CustomerSchema() {
  return Schema({{"Name", DataType::kString, {}},
                 {"Age", DataType::kInt64, {}},
                 {"Score", DataType::kDouble, {}},
                 {"Vip", DataType::kBool, {}},
                 {"DateOfBirth", DataType::kDate, {}},
                 {"LastSeen", DataType::kTimestamp, {}}});
}
Schema MeasureSchema() { return Schema({{"Spend", DataType::kDouble, {}}, {"Orders", DataType::kInt64, {}}, {"FirstOrder", DataType::kDate, {}}}); }
Schema PurchaseSchema() {
  return Schema({{"Price", DataType::kDouble, {}},
                 {"Qty", DataType::kInt64, {}},
                 {"Product", DataType::kString, {}},
                 {"At", DataType::kTimestamp, {}},
                 {"Shipped", DataType::kDate, {}},
                 {"Gift", DataType::kBool, {}}});
}
Schema ReviewSchema() {
  return Schema({{"Rating", DataType::kInt64, {}}, {"On", DataType::kDate, {}}, {"Text", DataType::kString, {}}});
}

std::unique_ptr<Dataset> MakeDataset(std::mt19937_64& rng, size_t customers, size_t purchases, size_t reviews) {
  auto ds = std::make_unique<Dataset>();
  ds->run = DaysFromCivil(2024, 1, 1) + static_cast<int32_t>(std::uniform_int_distribution<int>(-400, 400)(rng));
  RandomData rd{rng};
  rd.run = ds->run;
  ds->customer = rd.MakeTable(CustomerSchema(), customers);
  ds->measure = rd.MakeTable(MeasureSchema(), customers);
  ds->purchases = rd.MakeTable(PurchaseSchema(), purchases);
  ds->reviews = rd.MakeTable(ReviewSchema(), reviews);
  auto owners = [&](size_t rows) {
    std::vector<int64_t> o(rows);
    // Skewed: some customers have many rows, some none; a few orphans.
    for (auto& x : o) x = rd.Int(0, 9) == 0 ? -1 : rd.Int(0, static_cast<int64_t>(customers) - 1) * rd.Int(0, 1);
    for (auto& x : o) {
      if (x == 0 && rd.Int(0, 1)) x = rd.Int(0, static_cast<int64_t>(customers) - 1);
    }
    return o;
  };
  ds->purchase_owner = owners(purchases);
  ds->review_owner = owners(reviews);
  ds->purchases_by = EntityByCustomer::Build(ds->purchases, ds->purchase_owner, customers);
  ds->reviews_by = EntityByCustomer::Build(ds->reviews, ds->review_owner, customers);
  ds->data.customer = ds->customer.get();
  ds->data.customer_measure = ds->measure.get();
  ds->data.related["Purchases"] = &ds->purchases_by;
  ds->data.related["Reviews"] = &ds->reviews_by;
  return ds;
}

// ------------------------------------------------------------------ random definitions

struct Generator {
  std::mt19937_64& rng;
  const Dataset& ds;

  int64_t Int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<size_t>(Int(0, static_cast<int64_t>(v.size()) - 1))]; }

  const Table& TableOf(const std::string& e) const {
    if (e == "Customer") return *ds.customer;
    if (e == "Customer_Measure") return *ds.measure;
    if (e == "Purchases") return *ds.purchases;
    return *ds.reviews;
  }

  std::string Date(int32_t d) { return FormatDate(d); }
  int32_t NearDay() { return ds.run + static_cast<int32_t>(Int(-800, 800)); }

  SegmentValue NumberValue(DataType t) {
    switch (Int(0, 5)) {
      case 0: return static_cast<double>(Int(-20, 20)) / 4.0;
      case 1: return std::to_string(Int(-5, 5));  // numeric text
      case 2: return static_cast<double>(Int(-5, 5));  // whole double
      default: return Int(-5, 5);
    }
  }
  SegmentValue ValueFor(ValueKind k, DataType t) {
    switch (k) {
      case ValueKind::kNumber: return NumberValue(t);
      case ValueKind::kString: return Int(0, 1) ? Pick(kWords) : Pick(kNeedles);
      case ValueKind::kDate: return Date(NearDay());
      case ValueKind::kBool: return Int(0, 1) == 1;
    }
    return int64_t{0};
  }

  // A field condition on `entity` (valid by construction).
  Condition FieldCondition(const std::string& entity) {
    const Table& t = TableOf(entity);
    const Field& f = t.schema().field(static_cast<size_t>(Int(0, static_cast<int64_t>(t.schema().num_fields()) - 1)));
    ValueKind k = KindOf(f.type);
    std::vector<ConditionOp> ops;
    for (int i = 1; i <= static_cast<int>(ConditionOp::kIsFalse); ++i) {
      if (OpApplies(static_cast<ConditionOp>(i), k)) ops.push_back(static_cast<ConditionOp>(i));
    }
    Condition c;
    c.field = f.name;
    c.op = Pick(ops);
    switch (c.op) {
      case ConditionOp::kIsEmpty:
      case ConditionOp::kIsNotEmpty:
      case ConditionOp::kIsTrue:
      case ConditionOp::kIsFalse: break;
      case ConditionOp::kThisPeriod:
      case ConditionOp::kLastPeriod: c.unit = Pick(std::vector<TimeUnit>{TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear}); break;
      case ConditionOp::kInLast:
      case ConditionOp::kInNext:
        c.unit = Pick(std::vector<TimeUnit>{TimeUnit::kDay, TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear});
        c.values = {Int(1, 40)};
        break;
      case ConditionOp::kAnniversaryWithin: c.values = {Int(0, 60)}; break;
      case ConditionOp::kBetween:
        if (k == ValueKind::kNumber) {
          double a = static_cast<double>(Int(-20, 20)) / 4.0, b = static_cast<double>(Int(-20, 20)) / 4.0;
          if (a > b) std::swap(a, b);
          if (Int(0, 1)) {
            c.values = {a, b};
          } else {
            c.values = {static_cast<int64_t>(std::floor(a)), static_cast<int64_t>(std::ceil(b))};
          }
        } else {
          int32_t a = NearDay(), b = NearDay();
          if (a > b) std::swap(a, b);
          c.values = {Date(a), Date(b)};
        }
        break;
      case ConditionOp::kIn:
      case ConditionOp::kNotIn: {
        int n = static_cast<int>(Int(1, 4));
        for (int i = 0; i < n; ++i) c.values.push_back(ValueFor(k, f.type));
        break;
      }
      default: c.values = {ValueFor(k, f.type)}; break;
    }
    if (k == ValueKind::kString) c.case_insensitive = Int(0, 2) == 0;
    return c;
  }

  Condition AggregateCondition(const std::string& rule_entity) {
    Condition c;
    std::string entity = Int(0, 1) ? "Purchases" : "Reviews";
    if (rule_entity == entity && Int(0, 1)) {
      c.entity.clear();
    } else {
      c.entity = entity;
    }
    const Table& t = TableOf(entity);
    c.function = Pick(std::vector<AggregateFunction>{AggregateFunction::kCount, AggregateFunction::kSum, AggregateFunction::kAverage,
                                                     AggregateFunction::kMin, AggregateFunction::kMax});
    std::vector<std::string> numeric, times, all;
    for (const auto& f : t.schema().fields()) {
      all.push_back(f.name);
      if (KindOf(f.type) == ValueKind::kNumber) numeric.push_back(f.name);
      if (KindOf(f.type) == ValueKind::kDate) times.push_back(f.name);
    }
    if (*c.function == AggregateFunction::kCount) {
      if (Int(0, 1)) c.field = Pick(all);
    } else {
      c.field = Pick(numeric);
    }
    int nf = static_cast<int>(Int(0, 2));
    for (int i = 0; i < nf; ++i) c.filters.push_back(FieldCondition(entity));
    switch (Int(0, 5)) {
      case 0: break;
      case 1:
        c.window.kind = WindowKind::kLast;
        c.window.n = Int(1, 30);
        c.window.unit = Pick(std::vector<TimeUnit>{TimeUnit::kDay, TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear});
        break;
      case 2: {
        c.window.kind = WindowKind::kBetween;
        int32_t a = NearDay(), b = NearDay();
        c.window.from = std::min(a, b);
        c.window.to = std::max(a, b);
        break;
      }
      case 3:
        c.window.kind = Int(0, 1) ? WindowKind::kThisPeriod : WindowKind::kLastPeriod;
        c.window.unit = Pick(std::vector<TimeUnit>{TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear});
        break;
      default: c.window.kind = WindowKind::kLast; c.window.n = Int(1, 400); break;
    }
    if (c.window.kind != WindowKind::kAllTime || Int(0, 3) == 0) c.time_field = Pick(times);
    std::vector<ConditionOp> ops;
    for (int i = 1; i <= static_cast<int>(ConditionOp::kIsFalse); ++i) {
      if (OpApplies(static_cast<ConditionOp>(i), ValueKind::kNumber)) ops.push_back(static_cast<ConditionOp>(i));
    }
    c.op = Pick(ops);
    auto num = [&]() -> SegmentValue {
      if (*c.function == AggregateFunction::kCount) return Int(0, 4);
      return Int(0, 2) ? SegmentValue(static_cast<double>(Int(-40, 40)) / 4.0) : SegmentValue(Int(-5, 10));
    };
    if (c.op == ConditionOp::kBetween) {
      SegmentValue a = num(), b = num();
      if (*segment_internal::AsDouble(a) > *segment_internal::AsDouble(b)) std::swap(a, b);
      c.values = {a, b};
    } else if (c.op == ConditionOp::kIn || c.op == ConditionOp::kNotIn) {
      int n = static_cast<int>(Int(1, 3));
      for (int i = 0; i < n; ++i) c.values.push_back(num());
    } else if (c.op != ConditionOp::kIsEmpty && c.op != ConditionOp::kIsNotEmpty) {
      c.values = {num()};
    }
    return c;
  }

  Condition AnyCondition(const std::string& rule_entity) {
    int64_t r = Int(0, 19);
    if (r < 11) return FieldCondition(rule_entity);
    if (r < 15) {
      Condition c;
      std::string e = Int(0, 1) ? "Customer" : "Customer_Measure";
      c = FieldCondition(e);
      c.entity = e;
      return c;
    }
    return AggregateCondition(rule_entity);
  }

  SegmentDefinition Definition() {
    SegmentDefinition d;
    d.name = "Random";
    int rules = static_cast<int>(Int(1, 3));
    for (int i = 0; i < rules; ++i) {
      Rule r;
      r.entity = Pick(std::vector<std::string>{"Customer", "Customer_Measure", "Purchases", "Reviews"});
      if (i > 0) r.combine = Pick(std::vector<SetOperator>{SetOperator::kUnion, SetOperator::kIntersect, SetOperator::kExcept});
      int terms = static_cast<int>(Int(0, 3));
      for (int k = 0; k < terms; ++k) {
        if (Int(0, 3) == 0) {
          OrGroup g;
          int n = static_cast<int>(Int(1, 3));
          for (int j = 0; j < n; ++j) g.any_of.push_back(AnyCondition(r.entity));
          r.conditions.emplace_back(std::move(g));
        } else {
          r.conditions.emplace_back(AnyCondition(r.entity));
        }
      }
      r.all_records = r.conditions.empty() || Int(0, 4) == 0;
      d.rules.push_back(std::move(r));
    }
    return d;
  }
};

// ------------------------------------------------------------------ reference evaluator
// Deliberately simple: long double numbers, strings folded whole, dates
// checked day by day, each customer's rows found by a scan.

std::string RefFold(const std::string& s) {
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(s.size());
  while (i < n) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0) {
      out.push_back(s[static_cast<size_t>(i)]);
      ++i;
      continue;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), buf);
    out.append(reinterpret_cast<char*>(buf), static_cast<size_t>(m));
    i += len;
  }
  return out;
}

std::optional<long double> RefNumber(const SegmentValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<long double>(*i);
  if (auto* d = std::get_if<double>(&v)) return static_cast<long double>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    char* end = nullptr;
    long double x = std::strtold(s->c_str(), &end);
    if (end && *end == '\0' && !s->empty()) return x;
  }
  return std::nullopt;
}

std::string RefText(const SegmentValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return std::to_string(std::get<int64_t>(v));
}

int32_t RefDate(const SegmentValue& v) {
  const std::string& s = std::get<std::string>(v);
  return DaysFromCivil(std::stoi(s.substr(0, 4)), static_cast<unsigned>(std::stoi(s.substr(5, 2))),
                       static_cast<unsigned>(std::stoi(s.substr(8, 2))));
}

int32_t RefDayOf(const Column& c, size_t row) {
  if (c.type() == DataType::kDate) return c.DateAt(row);
  int64_t us = c.TimestampAt(row);
  int64_t rem = ((us % kDay) + kDay) % kDay;
  return static_cast<int32_t>((us - rem) / kDay);
}

int64_t MonthIndex(int32_t day) {
  int y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  return static_cast<int64_t>(y) * 12 + (m - 1);
}

int32_t RefAddMonths(int32_t day, int64_t months) {
  int y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  int64_t idx = static_cast<int64_t>(y) * 12 + (m - 1) + months;
  int ny = static_cast<int>(std::floor(static_cast<double>(idx) / 12.0));
  unsigned nm = static_cast<unsigned>(idx - static_cast<int64_t>(ny) * 12 + 1);
  return DaysFromCivil(ny, nm, std::min(d, DaysInMonth(ny, nm)));
}

int64_t UnitMonths(TimeUnit u) { return u == TimeUnit::kYear ? 12 : u == TimeUnit::kQuarter ? 3 : 1; }

bool RefInLast(int32_t d, int32_t run, int64_t n, TimeUnit u) {
  if (d > run) return false;
  if (u == TimeUnit::kDay) return d > run - n;
  if (u == TimeUnit::kWeek) return d > run - 7 * n;
  return d > RefAddMonths(run, -n * UnitMonths(u));
}
bool RefInNext(int32_t d, int32_t run, int64_t n, TimeUnit u) {
  if (d < run) return false;
  if (u == TimeUnit::kDay) return d < run + n;
  if (u == TimeUnit::kWeek) return d < run + 7 * n;
  return d < RefAddMonths(run, n * UnitMonths(u));
}
bool RefPeriod(int32_t d, int32_t run, TimeUnit u, bool last) {
  int64_t span = UnitMonths(u);
  int64_t pr = MonthIndex(run), pd = MonthIndex(d);
  auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  int64_t period_run = floor_div(pr, span), period_d = floor_div(pd, span);
  return period_d == period_run - (last ? 1 : 0);
}
bool RefAnniversary(int32_t date, int32_t run, int64_t n) {
  int y, yy;
  unsigned m, d, mm, dd;
  CivilFromDays(date, &y, &m, &d);
  for (int64_t k = 0; k <= n; ++k) {
    CivilFromDays(static_cast<int32_t>(run + k), &yy, &mm, &dd);
    if (mm == m && dd == d) return true;
    bool leap = DaysInMonth(yy, 2) == 29;
    if (m == 2 && d == 29 && !leap && mm == 2 && dd == 28) return true;
  }
  return false;
}

bool RefCompareNumber(long double v, const Condition& c) {
  auto a = [&](size_t i) { return *RefNumber(c.values[i]); };
  switch (c.op) {
    case ConditionOp::kEquals: return v == a(0);
    case ConditionOp::kNotEquals: return v != a(0);
    case ConditionOp::kGreater: return v > a(0);
    case ConditionOp::kGreaterEqual: return v >= a(0);
    case ConditionOp::kLess: return v < a(0);
    case ConditionOp::kLessEqual: return v <= a(0);
    case ConditionOp::kBetween: return v >= a(0) && v <= a(1);
    case ConditionOp::kIn:
    case ConditionOp::kNotIn: {
      bool found = false;
      for (size_t i = 0; i < c.values.size(); ++i) found |= v == a(i);
      return c.op == ConditionOp::kIn ? found : !found;
    }
    default: ADD_FAILURE() << "number op"; return false;
  }
}

bool RefField(const Column& col, size_t row, const Condition& c, int32_t run) {
  bool null = col.IsNull(row);
  if (col.type() == DataType::kString) {
    bool empty = null || col.StringAt(row).empty();
    if (c.op == ConditionOp::kIsEmpty) return empty;
    if (c.op == ConditionOp::kIsNotEmpty) return !empty;
  } else {
    if (c.op == ConditionOp::kIsEmpty) return null;
    if (c.op == ConditionOp::kIsNotEmpty) return !null;
  }
  if (null) return false;
  switch (col.type()) {
    case DataType::kInt64: return RefCompareNumber(static_cast<long double>(col.Int64At(row)), c);
    case DataType::kDouble: return RefCompareNumber(static_cast<long double>(col.DoubleAt(row)), c);
    case DataType::kBool: {
      bool v = col.BoolAt(row);
      if (c.op == ConditionOp::kIsTrue) return v;
      if (c.op == ConditionOp::kIsFalse) return !v;
      bool want = std::get<bool>(c.values[0]);
      return c.op == ConditionOp::kEquals ? v == want : v != want;
    }
    case DataType::kString: {
      std::string s(col.StringAt(row));
      std::vector<std::string> vals;
      for (const auto& v : c.values) vals.push_back(RefText(v));
      if (c.case_insensitive) {
        s = RefFold(s);
        for (auto& v : vals) v = RefFold(v);
      }
      switch (c.op) {
        case ConditionOp::kEquals: return s == vals[0];
        case ConditionOp::kNotEquals: return s != vals[0];
        case ConditionOp::kContains: return s.find(vals[0]) != std::string::npos;
        case ConditionOp::kNotContains: return s.find(vals[0]) == std::string::npos;
        case ConditionOp::kStartsWith: return s.rfind(vals[0], 0) == 0;
        case ConditionOp::kEndsWith: return s.size() >= vals[0].size() && s.compare(s.size() - vals[0].size(), vals[0].size(), vals[0]) == 0;
        case ConditionOp::kIn:
        case ConditionOp::kNotIn: {
          bool found = std::find(vals.begin(), vals.end(), s) != vals.end();
          return c.op == ConditionOp::kIn ? found : !found;
        }
        default: ADD_FAILURE() << "string op"; return false;
      }
    }
    case DataType::kDate:
    case DataType::kTimestamp: {
      int32_t d = RefDayOf(col, row);
      auto v = [&](size_t i) { return RefDate(c.values[i]); };
      switch (c.op) {
        case ConditionOp::kEquals:
        case ConditionOp::kOn: return d == v(0);
        case ConditionOp::kNotEquals: return d != v(0);
        case ConditionOp::kGreater:
        case ConditionOp::kAfter: return d > v(0);
        case ConditionOp::kGreaterEqual:
        case ConditionOp::kOnOrAfter: return d >= v(0);
        case ConditionOp::kLess:
        case ConditionOp::kBefore: return d < v(0);
        case ConditionOp::kLessEqual:
        case ConditionOp::kOnOrBefore: return d <= v(0);
        case ConditionOp::kBetween: return d >= v(0) && d <= v(1);
        case ConditionOp::kInLast: return RefInLast(d, run, std::get<int64_t>(c.values[0]), c.unit);
        case ConditionOp::kInNext: return RefInNext(d, run, std::get<int64_t>(c.values[0]), c.unit);
        case ConditionOp::kThisPeriod: return RefPeriod(d, run, c.unit, false);
        case ConditionOp::kLastPeriod: return RefPeriod(d, run, c.unit, true);
        case ConditionOp::kAnniversaryWithin: return RefAnniversary(d, run, std::get<int64_t>(c.values[0]));
        default: ADD_FAILURE() << "date op"; return false;
      }
    }
  }
  return false;
}

bool RefInWindow(const TimeWindowConfig& w, int32_t d, int32_t run) {
  switch (w.kind) {
    case WindowKind::kAllTime: return true;
    case WindowKind::kBetween: return d >= w.from && d <= w.to;
    case WindowKind::kLast: return RefInLast(d, run, w.n, w.unit);
    case WindowKind::kThisPeriod: return RefPeriod(d, run, w.unit, false);
    case WindowKind::kLastPeriod: return RefPeriod(d, run, w.unit, true);
  }
  return false;
}

struct Reference {
  const Dataset& ds;
  std::vector<std::vector<size_t>> purchase_rows, review_rows;  // by customer, in row order

  explicit Reference(const Dataset& d) : ds(d) {
    auto group = [&](const std::vector<int64_t>& owner, std::vector<std::vector<size_t>>* out) {
      out->resize(ds.customer->num_rows());
      for (size_t r = 0; r < owner.size(); ++r) {
        if (owner[r] >= 0) (*out)[static_cast<size_t>(owner[r])].push_back(r);
      }
    };
    group(ds.purchase_owner, &purchase_rows);
    group(ds.review_owner, &review_rows);
  }

  const Table& TableOf(const std::string& e) const {
    if (e == "Customer") return *ds.customer;
    if (e == "Customer_Measure") return *ds.measure;
    if (e == "Purchases") return *ds.purchases;
    return *ds.reviews;
  }
  const std::vector<size_t>& RowsOf(const std::string& e, size_t customer) const {
    return e == "Purchases" ? purchase_rows[customer] : review_rows[customer];
  }

  // Aggregates are per customer: computed once per (condition, customer).
  mutable std::map<std::pair<const Condition*, size_t>, bool> aggregate_cache;

  bool Aggregate(const Condition& c, const std::string& rule_entity, size_t customer) const {
    auto key = std::make_pair(&c, customer);
    if (auto it = aggregate_cache.find(key); it != aggregate_cache.end()) return it->second;
    bool result = ComputeAggregate(c, rule_entity, customer);
    aggregate_cache[key] = result;
    return result;
  }

  bool ComputeAggregate(const Condition& c, const std::string& rule_entity, size_t customer) const {
    std::string entity = c.entity.empty() ? rule_entity : c.entity;
    const Table& t = TableOf(entity);
    double sum = 0;
    std::optional<double> mn, mx;
    int64_t count = 0;
    for (size_t r : RowsOf(entity, customer)) {
      bool pass = true;
      for (const auto& f : c.filters) pass = pass && RefField(*t.ColumnByName(f.field), r, f, ds.run);
      if (c.window.kind != WindowKind::kAllTime) {
        const Column& tc = *t.ColumnByName(c.time_field);
        pass = pass && !tc.IsNull(r) && RefInWindow(c.window, RefDayOf(tc, r), ds.run);
      }
      if (!pass) continue;
      if (c.field.empty()) {
        ++count;
        continue;
      }
      const Column& fc = *t.ColumnByName(c.field);
      if (fc.IsNull(r)) continue;
      ++count;
      double v = fc.type() == DataType::kInt64 ? static_cast<double>(fc.Int64At(r)) : fc.type() == DataType::kDouble ? fc.DoubleAt(r) : 0;
      sum += v;
      mn = mn ? std::min(*mn, v) : v;
      mx = mx ? std::max(*mx, v) : v;
    }
    std::optional<double> value;
    switch (*c.function) {
      case AggregateFunction::kCount: value = static_cast<double>(count); break;
      case AggregateFunction::kSum: value = sum; break;
      case AggregateFunction::kAverage: if (count) value = sum / static_cast<double>(count); break;
      case AggregateFunction::kMin: value = mn; break;
      case AggregateFunction::kMax: value = mx; break;
      default: break;
    }
    if (c.op == ConditionOp::kIsEmpty) return !value;
    if (c.op == ConditionOp::kIsNotEmpty) return value.has_value();
    return value && RefCompareNumber(static_cast<long double>(*value), c);
  }

  // Condition c of a rule on `rule_entity`, at `row` of that entity (the customer's row for per-customer entities).
  bool Cond(const Condition& c, const std::string& rule_entity, size_t row, size_t customer) const {
    if (c.is_aggregate()) return Aggregate(c, rule_entity, customer);
    if (!c.entity.empty() && c.entity != rule_entity) {
      return RefField(*TableOf(c.entity).ColumnByName(c.field), customer, c, ds.run);
    }
    return RefField(*TableOf(rule_entity).ColumnByName(c.field), row, c, ds.run);
  }

  bool RowPasses(const Rule& rule, size_t row, size_t customer) const {
    for (const auto& t : rule.conditions) {
      if (auto* c = std::get_if<Condition>(&t)) {
        if (!Cond(*c, rule.entity, row, customer)) return false;
      } else {
        bool any = false;
        for (const auto& c2 : std::get<OrGroup>(t).any_of) any = any || Cond(c2, rule.entity, row, customer);
        if (!any) return false;
      }
    }
    return true;
  }

  std::set<uint32_t> Rule1(const Rule& rule) const {
    std::set<uint32_t> out;
    for (size_t c = 0; c < ds.customer->num_rows(); ++c) {
      bool member = false;
      if (rule.entity == "Customer" || rule.entity == "Customer_Measure") {
        member = RowPasses(rule, c, c);
      } else {
        for (size_t r : RowsOf(rule.entity, c)) {
          if (RowPasses(rule, r, c)) {
            member = true;
            break;
          }
        }
      }
      if (member) out.insert(static_cast<uint32_t>(c));
    }
    return out;
  }

  std::vector<uint32_t> Evaluate(const SegmentDefinition& d, std::vector<RuleCount>* counts) const {
    std::set<uint32_t> acc;
    for (size_t i = 0; i < d.rules.size(); ++i) {
      std::set<uint32_t> s = Rule1(d.rules[i]);
      if (i == 0) {
        acc = s;
      } else if (d.rules[i].combine == SetOperator::kUnion) {
        acc.insert(s.begin(), s.end());
      } else {
        std::set<uint32_t> next;
        for (uint32_t x : acc) {
          bool in = s.count(x) > 0;
          if (in == (d.rules[i].combine == SetOperator::kIntersect)) next.insert(x);
        }
        acc = std::move(next);
      }
      counts->push_back({s.size(), acc.size()});
    }
    return std::vector<uint32_t>(acc.begin(), acc.end());
  }
};

void RunDifferential(uint64_t seed, int datasets, int defs_per_dataset, size_t customers, size_t purchases, size_t reviews,
                     int threads, int* evaluated, int64_t* nonempty) {
  std::mt19937_64 rng(seed);
  for (int k = 0; k < datasets; ++k) {
    auto ds = MakeDataset(rng, customers, purchases, reviews);
    Generator gen{rng, *ds};
    Reference ref(*ds);
    for (int i = 0; i < defs_per_dataset; ++i) {
      ref.aggregate_cache.clear();
      SegmentDefinition d = gen.Definition();
      auto problems = Validate(d, SchemaOf(ds->data));
      ASSERT_TRUE(problems.empty()) << FormatProblems(problems) << "\n" << SegmentToJson(d);
      // Every generated definition also survives the JSON round trip.
      auto back = ParseSegmentJson(SegmentToJson(d, -1));
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      ASSERT_EQ(*back, d) << SegmentToJson(d);
      auto got = EvaluateSegment(d, ds->data, {ds->run, threads});
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::vector<RuleCount> want_counts;
      std::vector<uint32_t> want = ref.Evaluate(d, &want_counts);
      ASSERT_EQ(got->members.ToVector(), want) << "seed " << seed << " dataset " << k << " def " << i << " run "
                                               << FormatDate(ds->run) << "\n" << SegmentToJson(d);
      ASSERT_EQ(got->rules.size(), want_counts.size());
      for (size_t r = 0; r < want_counts.size(); ++r) {
        ASSERT_EQ(got->rules[r].members, want_counts[r].members) << "rule " << r << "\n" << SegmentToJson(d);
        ASSERT_EQ(got->rules[r].running_total, want_counts[r].running_total) << "rule " << r;
      }
      ++*evaluated;
      *nonempty += !want.empty() && want.size() < customers;
    }
  }
}

TEST(SegmentDifferential, RandomDefinitionsMatchTheNaiveEvaluator) {
  int evaluated = 0;
  int64_t informative = 0;
  RunDifferential(20240601, 12, 250, 120, 500, 250, 1, &evaluated, &informative);
  EXPECT_EQ(evaluated, 3000);
  // Most results are neither empty nor everyone, so the comparison says something.
  EXPECT_GT(informative, evaluated / 3) << informative;
}

TEST(SegmentDifferential, ManyMorselsAndThreadsMatchTheNaiveEvaluator) {
  // Enough rows and customers that scans split into several morsels across threads.
  int evaluated = 0;
  int64_t informative = 0;
  RunDifferential(777, 1, 12, 70000, 140000, 20000, 2, &evaluated, &informative);
  EXPECT_EQ(evaluated, 12);
}

}  // namespace
}  // namespace cdp
