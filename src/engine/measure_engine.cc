#include "engine/measure_engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <type_traits>
#include <unordered_map>

#include "common/datetime.h"
#include "common/parallel.h"
#include "common/value_text.h"
#include "config/time_window.h"
#include "engine/formula.h"

namespace cdp {
namespace {

// ---------------------------------------------------------------- helpers

bool IsNumber(DataType t) { return t == DataType::kInt64 || t == DataType::kDouble; }
bool IsTime(DataType t) { return t == DataType::kDate || t == DataType::kTimestamp; }
// Types with an order for min/max and order_by.
bool IsOrdered(DataType t) { return t != DataType::kBool; }

inline bool Bit(const uint64_t* v, size_t i) { return (v[i >> 6] >> (i & 63)) & 1u; }

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string FieldList(const Schema& s) {
  std::string out;
  for (const auto& f : s.fields()) out += (out.empty() ? "" : ", ") + f.name;
  return out;
}

// Typed comparison of two non-null values of one column: <0, 0, >0.
int CompareAt(const Column& c, size_t a, size_t b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: return cmp(c.Int64At(a), c.Int64At(b));
    case DataType::kDouble: return cmp(c.DoubleAt(a), c.DoubleAt(b));
    case DataType::kBool: return cmp(c.BoolAt(a), c.BoolAt(b));
    case DataType::kDate: return cmp(c.DateAt(a), c.DateAt(b));
    case DataType::kString: return cmp(c.StringAt(a), c.StringAt(b));
  }
  return 0;
}

// Nulls first, then typed order.
int CompareNullable(const Column& c, size_t a, size_t b) {
  bool na = c.IsNull(a), nb = c.IsNull(b);
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  return CompareAt(c, a, b);
}

// Bytes identifying a value for grouping/distinct (equal values, equal bytes).
void AppendKey(const Column& c, size_t p, std::string* key) {
  if (c.IsNull(p)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  auto raw = [&](const auto& v) { key->append(reinterpret_cast<const char*>(&v), sizeof v); };
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: raw(c.Int64At(p)); break;
    case DataType::kDouble: {
      double d = c.DoubleAt(p);
      if (d == 0) d = 0;  // -0 == 0
      raw(d);
      break;
    }
    case DataType::kBool: key->push_back(c.BoolAt(p) ? '\1' : '\0'); break;
    case DataType::kDate: raw(c.DateAt(p)); break;
    case DataType::kString: {
      std::string_view s = c.StringAt(p);
      uint64_t n = s.size();
      raw(n);
      key->append(s);
      break;
    }
  }
}

// ---------------------------------------------------------------- filters

enum class FilterOp { kEquals, kNotEquals, kLess, kLessEqual, kGreater, kGreaterEqual, kIn, kNotIn, kIsEmpty, kIsNotEmpty, kContains, kStartsWith };

std::optional<FilterOp> ParseFilterOp(std::string_view s) {
  static const std::pair<std::string_view, FilterOp> kOps[] = {
      {"equals", FilterOp::kEquals},       {"not_equals", FilterOp::kNotEquals},
      {"less", FilterOp::kLess},           {"less_equal", FilterOp::kLessEqual},
      {"greater", FilterOp::kGreater},     {"greater_equal", FilterOp::kGreaterEqual},
      {"in", FilterOp::kIn},               {"not_in", FilterOp::kNotIn},
      {"is_empty", FilterOp::kIsEmpty},    {"is_not_empty", FilterOp::kIsNotEmpty},
      {"contains", FilterOp::kContains},   {"starts_with", FilterOp::kStartsWith},
  };
  for (const auto& [name, op] : kOps) {
    if (name == s) return op;
  }
  return std::nullopt;
}

struct CompiledFilter {
  int col = -1;
  DataType type = DataType::kString;
  FilterOp op = FilterOp::kEquals;
  bool by_date = false;  // timestamp field compared by UTC date
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
};

// Applies one filter to positions [rb, re) of `t`: mask[i] &= pass.
template <typename K, typename Get>
void ApplyCompare(const CompiledFilter& f, const Column& c, size_t rb, size_t re, uint8_t* mask, Get get,
                  const std::vector<K>& vals) {
  const bool has_nulls = c.null_count() > 0;
  const uint64_t* valid = c.validity().data();
  for (size_t p = rb; p < re; ++p) {
    uint8_t& m = mask[p - rb];
    if (!m) continue;
    if (has_nulls && !Bit(valid, p)) {
      m = f.op == FilterOp::kIsEmpty;
      continue;
    }
    K k = get(p);
    bool r = false;
    switch (f.op) {
      case FilterOp::kEquals: r = k == vals[0]; break;
      case FilterOp::kNotEquals: r = !(k == vals[0]); break;
      case FilterOp::kLess: r = k < vals[0]; break;
      case FilterOp::kLessEqual: r = k <= vals[0]; break;
      case FilterOp::kGreater: r = k > vals[0]; break;
      case FilterOp::kGreaterEqual: r = k >= vals[0]; break;
      case FilterOp::kIn:
      case FilterOp::kNotIn: {
        bool found = false;
        for (const auto& v : vals) {
          if (k == v) {
            found = true;
            break;
          }
        }
        r = (f.op == FilterOp::kIn) == found;
        break;
      }
      case FilterOp::kIsEmpty:
      case FilterOp::kIsNotEmpty: {
        bool empty = false;
        if constexpr (std::is_same_v<K, std::string_view>) empty = k.empty();
        r = (f.op == FilterOp::kIsEmpty) == empty;
        break;
      }
      case FilterOp::kContains:
      case FilterOp::kStartsWith:
        if constexpr (std::is_same_v<K, std::string_view>) {
          r = f.op == FilterOp::kContains ? k.find(vals[0]) != std::string_view::npos : k.substr(0, vals[0].size()) == vals[0];
        }
        break;
    }
    m = r;
  }
}

void ApplyFilter(const CompiledFilter& f, const Table& t, size_t rb, size_t re, uint8_t* mask) {
  const Column& c = t.column(f.col);
  switch (c.type()) {
    case DataType::kInt64: {
      const int64_t* d = c.int64_data().data();
      ApplyCompare<int64_t>(f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.ints);
      break;
    }
    case DataType::kTimestamp: {
      const int64_t* d = c.int64_data().data();
      if (f.by_date) {
        ApplyCompare<int64_t>(f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(DayOfMicros(d[p])); }, f.ints);
      } else {
        ApplyCompare<int64_t>(f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.ints);
      }
      break;
    }
    case DataType::kDate: {
      const int32_t* d = c.date_data().data();
      ApplyCompare<int64_t>(f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(d[p]); }, f.ints);
      break;
    }
    case DataType::kBool: {
      const uint8_t* d = c.bool_data().data();
      ApplyCompare<int64_t>(f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(d[p] != 0); }, f.ints);
      break;
    }
    case DataType::kDouble: {
      const double* d = c.double_data().data();
      ApplyCompare<double>(f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.doubles);
      break;
    }
    case DataType::kString: {
      std::vector<std::string_view> views(f.strings.begin(), f.strings.end());
      ApplyCompare<std::string_view>(f, c, rb, re, mask, [&c](size_t p) { return c.StringAt(p); }, views);
      break;
    }
  }
}

// Filters + window of a measure: the rows it reads. Measures with the same
// selection over the same source share one mask per morsel.
struct Selection {
  std::vector<CompiledFilter> filters;
  bool has_window = false;
  int time_col = -1;
  DataType time_type = DataType::kDate;
  int32_t lo = 0, hi = 0;
  std::string key;

  // mask[p - rb] = 1 for the positions in [rb, re) that pass.
  void Compute(const Table& t, size_t rb, size_t re, std::vector<uint8_t>* mask) const {
    mask->assign(re - rb, 1);
    uint8_t* m = mask->data();
    if (has_window) {
      const Column& c = t.column(time_col);
      const uint64_t* valid = c.validity().data();
      const bool nulls = c.null_count() > 0;
      if (time_type == DataType::kDate) {
        const int32_t* d = c.date_data().data();
        for (size_t p = rb; p < re; ++p) m[p - rb] = (!nulls || Bit(valid, p)) && d[p] >= lo && d[p] <= hi;
      } else {
        const int64_t* d = c.int64_data().data();
        // [lo day 00:00, hi day 24:00) in micros.
        const int64_t ulo = static_cast<int64_t>(lo) * kMicrosPerDay;
        const int64_t uhi = hi == INT32_MAX ? INT64_MAX : (static_cast<int64_t>(hi) + 1) * kMicrosPerDay - 1;
        for (size_t p = rb; p < re; ++p) m[p - rb] = (!nulls || Bit(valid, p)) && d[p] >= ulo && d[p] <= uhi;
      }
    }
    for (const auto& f : filters) ApplyFilter(f, t, rb, re, m);
  }
};

// ---------------------------------------------------------------- compiled measures

enum class PickRule { kLess, kGreater, kGreaterEqual };

struct SourceState {
  std::string label;  // "activity 'X'" / "entity 'Y'"
  const EntityByCustomer* rows = nullptr;
  const Table* table = nullptr;  // clustered
  std::vector<Selection> selections;
  std::vector<int> attribute_measures;  // indexes into measures
};

struct CompiledMeasure {
  const MeasureConfig* cfg = nullptr;
  bool is_formula = false;
  int source = -1;
  int field_col = -1;
  DataType field_type = DataType::kString;
  int order_col = -1;  // pick functions: the key column (field for min/max)
  PickRule rule = PickRule::kLess;
  int selection = -1;  // -1: all rows
  std::vector<int> dim_cols;
  DataType result_type = DataType::kDouble;
  std::unique_ptr<FormulaNode> formula;
  int attribute_slot = -1;  // column in MeasureResults::attributes
};

bool IsPick(AggregateFunction f) {
  return f == AggregateFunction::kMin || f == AggregateFunction::kMax || f == AggregateFunction::kFirst ||
         f == AggregateFunction::kLast || f == AggregateFunction::kArgMax || f == AggregateFunction::kArgMin;
}

// Per-customer raw outputs of one attribute aggregate.
struct AttributeOut {
  std::vector<double> sum;
  std::vector<int64_t> count;  // rows counted / non-null values / distinct values
  std::vector<int64_t> pos;    // pick: chosen position in the clustered table, -1 none
};

// ---------------------------------------------------------------- kernels (contiguous customers)

template <typename T, bool kMask, bool kNulls>
void SumKernel(const T* v, const uint64_t* valid, const uint64_t* off, size_t cb, size_t ce, const uint8_t* mask,
               size_t rb, double* sum, int64_t* cnt) {
  for (size_t c = cb; c < ce; ++c) {
    double s = 0;
    int64_t n = 0;
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if constexpr (kMask) {
        if (!mask[p - rb]) continue;
      }
      if constexpr (kNulls) {
        if (!Bit(valid, p)) continue;
      }
      s += static_cast<double>(v[p]);
      ++n;
    }
    sum[c] = s;
    cnt[c] = n;
  }
}

template <bool kMask, bool kNulls>
void CountKernel(const uint64_t* valid, const uint64_t* off, size_t cb, size_t ce, const uint8_t* mask, size_t rb,
                 int64_t* cnt) {
  for (size_t c = cb; c < ce; ++c) {
    if constexpr (!kMask && !kNulls) {
      cnt[c] = static_cast<int64_t>(off[c + 1] - off[c]);
    } else {
      int64_t n = 0;
      for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
        bool ok = true;
        if constexpr (kMask) ok = mask[p - rb];
        if constexpr (kNulls) ok = ok && Bit(valid, p);
        n += ok;
      }
      cnt[c] = n;
    }
  }
}

template <PickRule kRule, typename K>
inline bool Better(const K& k, const K& best) {
  if constexpr (kRule == PickRule::kLess) return k < best;
  if constexpr (kRule == PickRule::kGreater) return best < k;
  return !(k < best);
}

// For each customer, the position whose key wins under kRule among rows that
// pass the mask and have both key and field non-null.
template <PickRule kRule, typename K, typename Get>
void PickKernel(Get key, const uint64_t* kvalid, const uint64_t* fvalid, const uint64_t* off, size_t cb, size_t ce,
                const uint8_t* mask, size_t rb, int64_t* pos) {
  for (size_t c = cb; c < ce; ++c) {
    int64_t best = -1;
    K bk{};
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if (mask && !mask[p - rb]) continue;
      if (kvalid && !Bit(kvalid, p)) continue;
      if (fvalid && !Bit(fvalid, p)) continue;
      K k = key(p);
      if (best < 0 || Better<kRule>(k, bk)) {
        best = static_cast<int64_t>(p);
        bk = k;
      }
    }
    pos[c] = best;
  }
}

template <typename K, typename Get>
void DistinctKernel(Get get, const uint64_t* fvalid, const uint64_t* off, size_t cb, size_t ce, const uint8_t* mask,
                    size_t rb, int64_t* cnt, std::vector<K>* scratch) {
  for (size_t c = cb; c < ce; ++c) {
    scratch->clear();
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if (mask && !mask[p - rb]) continue;
      if (fvalid && !Bit(fvalid, p)) continue;
      scratch->push_back(get(p));
    }
    std::sort(scratch->begin(), scratch->end());
    cnt[c] = std::unique(scratch->begin(), scratch->end()) - scratch->begin();
  }
}

// Calls fn(getter, K{}) with a typed value getter for column c.
template <typename Fn>
void VisitColumn(const Column& c, Fn&& fn) {
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* d = c.int64_data().data();
      fn([d](size_t p) { return d[p]; }, int64_t{});
      break;
    }
    case DataType::kDouble: {
      const double* d = c.double_data().data();
      fn([d](size_t p) { return d[p] == 0 ? 0.0 : d[p]; }, double{});
      break;
    }
    case DataType::kDate: {
      const int32_t* d = c.date_data().data();
      fn([d](size_t p) { return d[p]; }, int32_t{});
      break;
    }
    case DataType::kBool: {
      const uint8_t* d = c.bool_data().data();
      fn([d](size_t p) { return static_cast<uint8_t>(d[p] != 0); }, uint8_t{});
      break;
    }
    case DataType::kString: {
      const Column* col = &c;
      fn([col](size_t p) { return col->StringAt(p); }, std::string_view{});
      break;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- engine

struct MeasureEngine::Impl {
  std::vector<MeasureConfig> configs;  // owned copies; CompiledMeasure::cfg points here
  size_t num_customers = 0;
  int32_t run_date = 0;
  std::vector<SourceState> sources;
  std::vector<CompiledMeasure> measures;
  std::vector<int> formula_order;  // formula measures, dependencies first
  std::vector<int> attribute_slots;  // measure index of each attributes column
  std::map<std::string, int> by_name;

  Status CompileMeasure(size_t i, const MeasureInputs& in, std::map<std::string, int>* source_ids);
  Status CompileFormulas();
  StatusOr<MeasureResults> Evaluate(int threads) const;
  void EvaluateAttributeSource(const SourceState& s, int threads, std::vector<AttributeOut>* outs) const;
  Column FinishAttribute(const CompiledMeasure& m, AttributeOut& out) const;
  void EvaluateFormulas(int threads, std::vector<Column>* cols) const;
  Table EvaluateGrouped(const CompiledMeasure& m, int threads) const;
};

namespace {

Status MeasureError(const MeasureConfig& m, const std::string& what) {
  return InvalidArgumentError("measure '" + m.name + "': " + what);
}

StatusOr<CompiledFilter> CompileFilter(const MeasureConfig& m, const MeasureFilterConfig& fc, const Schema& schema,
                                       const std::string& label) {
  CompiledFilter f;
  f.col = schema.FieldIndex(fc.field);
  if (f.col < 0) {
    return MeasureError(m, "filter field '" + fc.field + "' is not a field of " + label + " (fields: " + FieldList(schema) + ")");
  }
  f.type = schema.field(f.col).type;
  auto op = ParseFilterOp(fc.op);
  if (!op) return MeasureError(m, "unknown filter operator '" + fc.op + "' on field '" + fc.field + "'");
  f.op = *op;
  std::string tname(DataTypeName(f.type));
  bool ordered_op = f.op == FilterOp::kLess || f.op == FilterOp::kLessEqual || f.op == FilterOp::kGreater ||
                    f.op == FilterOp::kGreaterEqual;
  bool text_op = f.op == FilterOp::kContains || f.op == FilterOp::kStartsWith;
  if (ordered_op && !IsNumber(f.type) && !IsTime(f.type)) {
    return MeasureError(m, "filter '" + fc.op + "' needs a number, date or timestamp field; '" + fc.field + "' is a " + tname);
  }
  if (text_op && f.type != DataType::kString) {
    return MeasureError(m, "filter '" + fc.op + "' needs a string field; '" + fc.field + "' is a " + tname);
  }
  bool none = f.op == FilterOp::kIsEmpty || f.op == FilterOp::kIsNotEmpty;
  bool multi = f.op == FilterOp::kIn || f.op == FilterOp::kNotIn;
  if (none != fc.values.empty() || (!none && !multi && fc.values.size() != 1)) {
    return MeasureError(m, "filter '" + fc.op + "' on '" + fc.field + "' takes " + (none ? "no value" : multi ? "a list of values" : "one value"));
  }
  int dates = 0;
  for (const auto& v : fc.values) {
    auto bad = [&](const std::string& expected) {
      return MeasureError(m, "filter value '" + v + "' for field '" + fc.field + "' (" + tname + ") is not " + expected);
    };
    switch (f.type) {
      case DataType::kInt64: {
        int64_t x;
        if (!ParseInteger(v, &x)) return bad("a whole number");
        f.ints.push_back(x);
        break;
      }
      case DataType::kDouble: {
        double x;
        if (!ParseNumber(v, &x)) return bad("a number");
        f.doubles.push_back(x);
        break;
      }
      case DataType::kBool: {
        std::string l;
        for (char ch : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (l == "true" || l == "yes" || l == "1") {
          f.ints.push_back(1);
        } else if (l == "false" || l == "no" || l == "0") {
          f.ints.push_back(0);
        } else {
          return bad("true or false");
        }
        break;
      }
      case DataType::kDate: {
        int32_t d;
        if (!ParseIsoDate(v, &d)) return bad("a date (YYYY-MM-DD)");
        f.ints.push_back(d);
        break;
      }
      case DataType::kTimestamp: {
        int32_t d;
        int64_t us;
        if (ParseIsoDate(v, &d)) {
          f.ints.push_back(d);
          ++dates;
        } else if (ParseIsoTimestamp(v, &us)) {
          f.ints.push_back(us);
        } else {
          return bad("a date (YYYY-MM-DD) or timestamp (YYYY-MM-DDTHH:MM:SSZ)");
        }
        break;
      }
      case DataType::kString: f.strings.push_back(v); break;
    }
  }
  if (f.type == DataType::kTimestamp) {
    if (dates != 0 && dates != static_cast<int>(fc.values.size())) {
      return MeasureError(m, "filter values for timestamp field '" + fc.field + "' mix dates and timestamps; use one form");
    }
    f.by_date = dates > 0;
  }
  return f;
}

std::string FilterKey(const MeasureFilterConfig& f) {
  std::string k = f.field + '\x1f' + f.op;
  for (const auto& v : f.values) k += '\x1f' + v;
  return k + '\x1e';
}

}  // namespace

Status MeasureEngine::Impl::CompileMeasure(size_t i, const MeasureInputs& in, std::map<std::string, int>* source_ids) {
  const MeasureConfig& cfg = *measures[i].cfg;
  CompiledMeasure& m = measures[i];
  if (!cfg.formula.empty()) {
    m.is_formula = true;
    if (cfg.kind != MeasureKind::kAttribute) return MeasureError(cfg, "formula measures are customer attributes (kind: attribute)");
    if (cfg.window.kind != WindowKind::kAllTime) return MeasureError(cfg, "a formula takes no window (put windows on the measures it uses)");
    if (!cfg.dimensions.empty()) return MeasureError(cfg, "a formula takes no dimensions");
    auto f = ParseFormula(cfg.formula);
    if (!f.ok()) return MeasureError(cfg, "formula '" + cfg.formula + "' " + f.status().message());
    m.formula = std::move(f).value();
    m.result_type = DataType::kDouble;
    return Status::Ok();
  }
  // Source.
  const MeasureSource* src = nullptr;
  std::string label;
  if (!cfg.activity.empty() && !cfg.entity.empty()) return MeasureError(cfg, "give exactly one of 'activity' and 'entity'");
  if (!cfg.activity.empty()) {
    auto it = in.activities.find(cfg.activity);
    if (it == in.activities.end()) {
      std::string names;
      for (const auto& [n, _] : in.activities) names += (names.empty() ? "" : ", ") + n;
      return MeasureError(cfg, "activity '" + cfg.activity + "' is not defined (activities: " + names + ")");
    }
    src = &it->second;
    label = Quote(cfg.activity);
  } else if (!cfg.entity.empty()) {
    auto it = in.entities.find(cfg.entity);
    if (it == in.entities.end()) {
      std::string names;
      for (const auto& [n, _] : in.entities) names += (names.empty() ? "" : ", ") + n;
      return MeasureError(cfg, "entity '" + cfg.entity + "' is not available (entities: " + names + ")");
    }
    src = &it->second;
    label = Quote(cfg.entity);
  } else {
    return MeasureError(cfg, "needs 'activity' or 'entity' (or a 'formula')");
  }
  if (src->rows == nullptr || src->rows->clustered == nullptr) return MeasureError(cfg, "source " + label + " has no rows loaded");
  if (src->rows->num_customers != num_customers) {
    return MeasureError(cfg, "source " + label + " was grouped for " + std::to_string(src->rows->num_customers) +
                                 " customers, expected " + std::to_string(num_customers));
  }
  std::string skey = (cfg.activity.empty() ? "e:" : "a:") + (cfg.activity.empty() ? cfg.entity : cfg.activity);
  auto sit = source_ids->find(skey);
  if (sit == source_ids->end()) {
    SourceState s;
    s.label = label;
    s.rows = src->rows;
    s.table = src->rows->clustered.get();
    sources.push_back(std::move(s));
    sit = source_ids->emplace(skey, static_cast<int>(sources.size() - 1)).first;
  }
  m.source = sit->second;
  SourceState& source = sources[m.source];
  const Schema& schema = source.table->schema();
  auto field_index = [&](const std::string& name, const std::string& role) -> StatusOr<int> {
    int k = schema.FieldIndex(name);
    if (k < 0) {
      return MeasureError(cfg, role + "'" + name + "' is not a field of " + label + " (fields: " + FieldList(schema) + ")");
    }
    return k;
  };
  // Field and function.
  const std::string fname(AggregateFunctionName(cfg.function));
  if (!cfg.field.empty()) {
    CDP_ASSIGN_OR_RETURN(m.field_col, field_index(cfg.field, "field "));
    m.field_type = schema.field(m.field_col).type;
  } else if (cfg.function != AggregateFunction::kCount) {
    return MeasureError(cfg, "function '" + fname + "' needs 'field'");
  }
  const std::string ftype(DataTypeName(m.field_type));
  // Time field (windows; First/Last default order).
  const std::string& time_name = cfg.time_field.empty() ? src->time_field : cfg.time_field;
  int time_col = -1;
  if (!time_name.empty()) {
    CDP_ASSIGN_OR_RETURN(time_col, field_index(time_name, "time field "));
  }
  switch (cfg.function) {
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage:
      if (!IsNumber(m.field_type)) {
        return MeasureError(cfg, "function '" + fname + "' needs a number field; '" + cfg.field + "' is a " + ftype);
      }
      m.result_type = DataType::kDouble;
      break;
    case AggregateFunction::kCount:
    case AggregateFunction::kCountUnique: m.result_type = DataType::kInt64; break;
    case AggregateFunction::kMin:
    case AggregateFunction::kMax:
      if (!IsOrdered(m.field_type)) {
        return MeasureError(cfg, "function '" + fname + "' needs a number, date, timestamp or string field; '" + cfg.field + "' is a " + ftype);
      }
      m.order_col = m.field_col;
      m.rule = cfg.function == AggregateFunction::kMin ? PickRule::kLess : PickRule::kGreater;
      m.result_type = m.field_type;
      break;
    case AggregateFunction::kFirst:
    case AggregateFunction::kLast:
    case AggregateFunction::kArgMax:
    case AggregateFunction::kArgMin: {
      if (!cfg.order_by.empty()) {
        CDP_ASSIGN_OR_RETURN(m.order_col, field_index(cfg.order_by, "order_by "));
      } else if (cfg.function == AggregateFunction::kFirst || cfg.function == AggregateFunction::kLast) {
        if (time_col < 0) {
          return MeasureError(cfg, "function '" + fname + "' needs 'order_by' or a time field (" + label + " has none)");
        }
        m.order_col = time_col;
      } else {
        return MeasureError(cfg, "function '" + fname + "' needs 'order_by'");
      }
      DataType ot = schema.field(m.order_col).type;
      if (!IsOrdered(ot)) {
        return MeasureError(cfg, "order_by field '" + schema.field(m.order_col).name + "' is a " + std::string(DataTypeName(ot)) +
                                     "; it needs a number, date, timestamp or string");
      }
      m.rule = cfg.function == AggregateFunction::kLast      ? PickRule::kGreaterEqual
               : cfg.function == AggregateFunction::kArgMax ? PickRule::kGreater
                                                            : PickRule::kLess;
      m.result_type = m.field_type;
      break;
    }
  }
  if (cfg.default_value) {
    double d = *cfg.default_value;
    if (m.result_type == DataType::kInt64 && (d != std::floor(d) || std::fabs(d) > 9e15)) {
      return MeasureError(cfg, "default " + std::to_string(d) + " is not a whole number (the result is an int64)");
    }
    if (!IsNumber(m.result_type)) {
      return MeasureError(cfg, "a default is a number, but the result is a " + std::string(DataTypeName(m.result_type)));
    }
    if (cfg.kind == MeasureKind::kCustomer) return MeasureError(cfg, "a customer measure takes no default (customers without rows have no groups)");
  }
  // Dimensions.
  if (cfg.kind == MeasureKind::kAttribute && !cfg.dimensions.empty()) {
    return MeasureError(cfg, "an attribute measure takes no dimensions (use kind: customer)");
  }
  if (cfg.kind == MeasureKind::kCustomer && cfg.dimensions.empty()) {
    return MeasureError(cfg, "a customer measure needs 'dimensions'");
  }
  for (const auto& d : cfg.dimensions) {
    int k;
    CDP_ASSIGN_OR_RETURN(k, field_index(d, "dimension "));
    if (std::find(m.dim_cols.begin(), m.dim_cols.end(), k) != m.dim_cols.end()) return MeasureError(cfg, "dimension '" + d + "' is listed twice");
    if (d == "Value" || (cfg.kind == MeasureKind::kCustomer && d == "CustomerIndex")) {
      return MeasureError(cfg, "dimension '" + d + "' clashes with an output column name");
    }
    m.dim_cols.push_back(k);
  }
  // Selection.
  Selection sel;
  std::string key;
  for (const auto& fc : cfg.filters) {
    CompiledFilter f;
    CDP_ASSIGN_OR_RETURN(f, CompileFilter(cfg, fc, schema, label));
    sel.filters.push_back(std::move(f));
    key += FilterKey(fc);
  }
  if (cfg.window.kind != WindowKind::kAllTime) {
    if (time_col < 0) {
      return MeasureError(cfg, "a window needs a time field, and " + label + " has none (set 'time_field')");
    }
    DataType tt = schema.field(time_col).type;
    if (!IsTime(tt)) {
      return MeasureError(cfg, "the window's time field '" + time_name + "' is a " + std::string(DataTypeName(tt)) + "; it needs a date or timestamp");
    }
    sel.has_window = true;
    sel.time_col = time_col;
    sel.time_type = tt;
    const DayRange days = WindowDays(cfg.window, run_date);
    sel.lo = days.lo;
    sel.hi = days.hi;
    key += "w" + std::to_string(time_col) + ":" + std::to_string(sel.lo) + ":" + std::to_string(sel.hi);
  }
  if (!key.empty()) {
    sel.key = key;
    int found = -1;
    for (size_t k = 0; k < source.selections.size(); ++k) {
      if (source.selections[k].key == key) found = static_cast<int>(k);
    }
    if (found < 0) {
      source.selections.push_back(std::move(sel));
      found = static_cast<int>(source.selections.size() - 1);
    }
    m.selection = found;
  }
  if (cfg.kind == MeasureKind::kAttribute) source.attribute_measures.push_back(static_cast<int>(i));
  return Status::Ok();
}

Status MeasureEngine::Impl::CompileFormulas() {
  // Type check and dependency order (DFS; 0 = new, 1 = visiting, 2 = done).
  std::vector<int> state(measures.size(), 0);
  std::function<Status(int, std::vector<std::string>&)> visit = [&](int i, std::vector<std::string>& stack) -> Status {
    CompiledMeasure& m = measures[i];
    if (state[i] == 2) return Status::Ok();
    if (state[i] == 1) {
      std::string cycle;
      for (const auto& s : stack) cycle += s + " -> ";
      return MeasureError(*m.cfg, "formula refers to itself through a cycle: " + cycle + m.cfg->name);
    }
    state[i] = 1;
    stack.push_back(m.cfg->name);
    // Type check the tree.
    std::function<Status(const FormulaNode&, bool)> check = [&](const FormulaNode& n, bool time_ok) -> Status {
      if (n.kind == FormulaNode::Kind::kMeasure) {
        auto it = by_name.find(n.measure);
        if (it == by_name.end()) {
          std::string names;
          for (const auto& cm : measures) {
            if (cm.cfg->kind == MeasureKind::kAttribute) names += (names.empty() ? "" : ", ") + cm.cfg->name;
          }
          return MeasureError(*m.cfg, "formula refers to '" + n.measure + "', which is not a measure (attribute measures: " + names + ")");
        }
        const CompiledMeasure& r = measures[it->second];
        if (r.cfg->kind != MeasureKind::kAttribute) {
          return MeasureError(*m.cfg, "formula refers to '" + n.measure + "', a " + std::string(MeasureKindName(r.cfg->kind)) +
                                          " measure; formulas use attribute measures (one value per customer)");
        }
        if (r.is_formula) CDP_RETURN_IF_ERROR(visit(it->second, stack));
        if (time_ok) {
          if (!IsTime(r.result_type)) {
            return MeasureError(*m.cfg, "days_since needs a date or timestamp measure; '" + n.measure + "' is a " +
                                            std::string(DataTypeName(r.result_type)));
          }
        } else if (!IsNumber(r.result_type)) {
          std::string hint = IsTime(r.result_type) ? " (use days_since(" + n.measure + "))" : "";
          return MeasureError(*m.cfg, "formula uses '" + n.measure + "', a " + std::string(DataTypeName(r.result_type)) +
                                          " measure, as a number" + hint);
        }
        return Status::Ok();
      }
      if (time_ok) {
        return MeasureError(*m.cfg, "days_since takes a date or timestamp measure by name (at position " + std::to_string(n.position) + ")");
      }
      bool child_time = n.kind == FormulaNode::Kind::kDaysSince;
      for (const auto& a : n.args) CDP_RETURN_IF_ERROR(check(*a, child_time));
      return Status::Ok();
    };
    CDP_RETURN_IF_ERROR(check(*m.formula, false));
    stack.pop_back();
    state[i] = 2;
    formula_order.push_back(i);
    return Status::Ok();
  };
  for (size_t i = 0; i < measures.size(); ++i) {
    if (!measures[i].is_formula) continue;
    std::vector<std::string> stack;
    CDP_RETURN_IF_ERROR(visit(static_cast<int>(i), stack));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- evaluation

void MeasureEngine::Impl::EvaluateAttributeSource(const SourceState& s, int threads, std::vector<AttributeOut>* outs) const {
  const uint64_t* off = s.rows->offsets.data();
  const Table& t = *s.table;
  for (int mi : s.attribute_measures) {
    const CompiledMeasure& m = measures[mi];
    AttributeOut& o = (*outs)[mi];
    if (IsPick(m.cfg->function)) {
      o.pos.assign(num_customers, -1);
    } else {
      o.count.assign(num_customers, 0);
      if (m.cfg->function == AggregateFunction::kSum || m.cfg->function == AggregateFunction::kAverage) o.sum.assign(num_customers, 0);
    }
  }
  const int workers = ResolveThreads(threads);
  struct Scratch {
    std::vector<std::vector<uint8_t>> masks;
    std::vector<int64_t> i64;
    std::vector<double> f64;
    std::vector<int32_t> i32;
    std::vector<uint8_t> u8;
    std::vector<std::string_view> sv;
  };
  std::vector<Scratch> scratch(workers);
  for (auto& sc : scratch) sc.masks.resize(s.selections.size());
  // About 64K rows per morsel keeps a morsel's columns in L2.
  size_t avg = std::max<size_t>(1, s.rows->num_rows() / std::max<size_t>(1, num_customers));
  size_t grain = std::clamp<size_t>(65536 / avg, 256, 65536);
  ParallelFor(threads, num_customers, grain, [&](size_t cb, size_t ce, int worker) {
    Scratch& sc = scratch[worker];
    const size_t rb = off[cb], re = off[ce];
    std::vector<bool> computed(s.selections.size(), false);
    for (int mi : s.attribute_measures) {
      const CompiledMeasure& m = measures[mi];
      AttributeOut& o = (*outs)[mi];
      const uint8_t* mask = nullptr;
      if (m.selection >= 0) {
        if (!computed[m.selection]) {
          s.selections[m.selection].Compute(t, rb, re, &sc.masks[m.selection]);
          computed[m.selection] = true;
        }
        mask = sc.masks[m.selection].data();
      }
      const Column* field = m.field_col >= 0 ? &t.column(m.field_col) : nullptr;
      const uint64_t* fvalid = field && field->null_count() > 0 ? field->validity().data() : nullptr;
      switch (m.cfg->function) {
        case AggregateFunction::kSum:
        case AggregateFunction::kAverage: {
          auto run = [&](const auto* v) {
            using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
            if (mask && fvalid) SumKernel<T, true, true>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else if (mask) SumKernel<T, true, false>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else if (fvalid) SumKernel<T, false, true>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else SumKernel<T, false, false>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
          };
          if (field->type() == DataType::kDouble) {
            run(field->double_data().data());
          } else {
            run(field->int64_data().data());
          }
          break;
        }
        case AggregateFunction::kCount:
          // Count counts rows passing filters and window, whatever the field holds.
          if (mask) CountKernel<true, false>(nullptr, off, cb, ce, mask, rb, o.count.data());
          else CountKernel<false, false>(nullptr, off, cb, ce, mask, rb, o.count.data());
          break;
        case AggregateFunction::kCountUnique:
          VisitColumn(*field, [&](auto get, auto tag) {
            using K = decltype(tag);
            std::vector<K>* buf;
            if constexpr (std::is_same_v<K, int64_t>) buf = &sc.i64;
            else if constexpr (std::is_same_v<K, double>) buf = &sc.f64;
            else if constexpr (std::is_same_v<K, int32_t>) buf = &sc.i32;
            else if constexpr (std::is_same_v<K, uint8_t>) buf = &sc.u8;
            else buf = &sc.sv;
            DistinctKernel<K>(get, fvalid, off, cb, ce, mask, rb, o.count.data(), buf);
          });
          break;
        default: {  // pick functions
          const Column& key = t.column(m.order_col);
          const uint64_t* kvalid = key.null_count() > 0 ? key.validity().data() : nullptr;
          const uint64_t* fv = m.order_col == m.field_col ? nullptr : fvalid;
          VisitColumn(key, [&](auto get, auto tag) {
            using K = decltype(tag);
            switch (m.rule) {
              case PickRule::kLess: PickKernel<PickRule::kLess, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data()); break;
              case PickRule::kGreater: PickKernel<PickRule::kGreater, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data()); break;
              case PickRule::kGreaterEqual: PickKernel<PickRule::kGreaterEqual, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data()); break;
            }
          });
          break;
        }
      }
    }
  });
}

namespace {

// Builds a column of `type` from per-customer values; null where null[i].
Column NumericColumn(DataType type, const std::vector<double>& d, const std::vector<int64_t>& i64, const std::vector<uint8_t>& null) {
  Column c(type);
  if (type == DataType::kDouble) {
    c.AppendDoubles(d.data(), null.data(), null.size());
  } else {
    c.AppendInt64s(i64.data(), null.data(), null.size());
  }
  return c;
}

// Gathers field values at `pos` (-1 = null, or `def` for numeric columns).
Column GatherPicked(const Column& field, const std::vector<int64_t>& pos, std::optional<double> def) {
  const size_t n = pos.size();
  Column out(field.type());
  std::vector<uint8_t> null(n);
  for (size_t i = 0; i < n; ++i) null[i] = pos[i] < 0 && !def;
  switch (field.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      std::vector<int64_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.Int64At(pos[i]) : def ? static_cast<int64_t>(*def) : 0;
      out.AppendInt64s(v.data(), null.data(), n);
      break;
    }
    case DataType::kDouble: {
      std::vector<double> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.DoubleAt(pos[i]) : def ? *def : 0;
      out.AppendDoubles(v.data(), null.data(), n);
      break;
    }
    case DataType::kDate: {
      std::vector<int32_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.DateAt(pos[i]) : 0;
      out.AppendDates(v.data(), null.data(), n);
      break;
    }
    case DataType::kBool: {
      std::vector<uint8_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.BoolAt(pos[i]) : 0;
      out.AppendBools(v.data(), null.data(), n);
      break;
    }
    case DataType::kString:
      out.Reserve(n);
      for (size_t i = 0; i < n; ++i) {
        if (pos[i] < 0) {
          out.AppendNull();
        } else {
          out.AppendString(field.StringAt(pos[i]));
        }
      }
      break;
  }
  return out;
}

}  // namespace

Column MeasureEngine::Impl::FinishAttribute(const CompiledMeasure& m, AttributeOut& o) const {
  const auto def = m.cfg->default_value;
  const size_t n = num_customers;
  if (IsPick(m.cfg->function)) return GatherPicked(sources[m.source].table->column(m.field_col), o.pos, def);
  std::vector<uint8_t> null(n, 0);
  std::vector<double> d;
  switch (m.cfg->function) {
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage: {
      d.resize(n);
      bool avg = m.cfg->function == AggregateFunction::kAverage;
      for (size_t c = 0; c < n; ++c) {
        if (o.count[c] == 0) {
          null[c] = !def;
          d[c] = def ? *def : 0;
        } else {
          d[c] = avg ? o.sum[c] / static_cast<double>(o.count[c]) : o.sum[c];
        }
      }
      return NumericColumn(DataType::kDouble, d, {}, null);
    }
    default: {  // count, count_unique
      for (size_t c = 0; c < n; ++c) {
        if (o.count[c] == 0) {
          null[c] = !def;
          o.count[c] = def ? static_cast<int64_t>(*def) : 0;
        }
      }
      return NumericColumn(DataType::kInt64, d, o.count, null);
    }
  }
}

namespace {

// Values and null flags of a formula over customers [b, e).
struct Vec {
  std::vector<double> v;
  std::vector<uint8_t> null;
};

double NumberAt(const Column& c, size_t i) {
  return c.type() == DataType::kDouble ? c.DoubleAt(i) : static_cast<double>(c.Int64At(i));
}

}  // namespace

void MeasureEngine::Impl::EvaluateFormulas(int threads, std::vector<Column>* cols) const {
  for (int fi : formula_order) {
    const CompiledMeasure& fm = measures[fi];
    std::vector<double> out(num_customers);
    std::vector<uint8_t> out_null(num_customers);
    ParallelFor(threads, num_customers, 16384, [&](size_t b, size_t e, int) {
      const size_t n = e - b;
      std::function<Vec(const FormulaNode&)> eval = [&](const FormulaNode& node) -> Vec {
        Vec r;
        r.v.assign(n, 0);
        r.null.assign(n, 0);
        using K = FormulaNode::Kind;
        switch (node.kind) {
          case K::kNumber: std::fill(r.v.begin(), r.v.end(), node.number); break;
          case K::kMeasure: {
            const Column& c = (*cols)[measures[by_name.at(node.measure)].attribute_slot];
            for (size_t i = 0; i < n; ++i) {
              if (c.IsNull(b + i)) {
                r.null[i] = 1;
              } else {
                r.v[i] = NumberAt(c, b + i);
              }
            }
            break;
          }
          case K::kDaysSince: {
            const Column& c = (*cols)[measures[by_name.at(node.args[0]->measure)].attribute_slot];
            for (size_t i = 0; i < n; ++i) {
              if (c.IsNull(b + i)) {
                r.null[i] = 1;
              } else {
                int32_t day = c.type() == DataType::kDate ? c.DateAt(b + i) : DayOfMicros(c.TimestampAt(b + i));
                r.v[i] = static_cast<double>(run_date) - static_cast<double>(day);
              }
            }
            break;
          }
          case K::kNegate: {
            r = eval(*node.args[0]);
            for (size_t i = 0; i < n; ++i) r.v[i] = -r.v[i];
            break;
          }
          case K::kCoalesce: {
            r = eval(*node.args[0]);
            for (size_t a = 1; a < node.args.size(); ++a) {
              Vec x = eval(*node.args[a]);
              for (size_t i = 0; i < n; ++i) {
                if (r.null[i] && !x.null[i]) {
                  r.null[i] = 0;
                  r.v[i] = x.v[i];
                }
              }
            }
            break;
          }
          default: {
            Vec x = eval(*node.args[0]);
            Vec y = eval(*node.args[1]);
            for (size_t i = 0; i < n; ++i) {
              r.null[i] = x.null[i] | y.null[i];
              switch (node.kind) {
                case K::kAdd: r.v[i] = x.v[i] + y.v[i]; break;
                case K::kSubtract: r.v[i] = x.v[i] - y.v[i]; break;
                case K::kMultiply: r.v[i] = x.v[i] * y.v[i]; break;
                default:
                  if (y.v[i] == 0) {
                    r.null[i] = 1;
                  } else {
                    r.v[i] = x.v[i] / y.v[i];
                  }
              }
              if (r.null[i]) r.v[i] = 0;
            }
            break;
          }
        }
        return r;
      };
      Vec r = eval(*fm.formula);
      const auto def = fm.cfg->default_value;
      for (size_t i = 0; i < n; ++i) {
        bool null = r.null[i] || !std::isfinite(r.v[i]);
        out_null[b + i] = null && !def;
        out[b + i] = null ? (def ? *def : 0) : r.v[i];
      }
    });
    (*cols)[fm.attribute_slot] = NumericColumn(DataType::kDouble, out, {}, out_null);
  }
}

namespace {

// Aggregate of one group of positions (generic, any order): value, picked
// position or count; `rowid` breaks pick ties by original row order.
struct GroupValue {
  bool null = true;
  double d = 0;
  int64_t i = 0;
  int64_t pos = -1;
};

GroupValue AggregateGroup(const CompiledMeasure& m, const Table& t, const std::vector<uint32_t>& rowid,
                          const uint32_t* pos, size_t n) {
  GroupValue g;
  const Column* field = m.field_col >= 0 ? &t.column(m.field_col) : nullptr;
  switch (m.cfg->function) {
    case AggregateFunction::kCount:
      g.i = static_cast<int64_t>(n);
      g.null = n == 0;
      return g;
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage: {
      double s = 0;
      int64_t k = 0;
      for (size_t j = 0; j < n; ++j) {
        if (field->IsNull(pos[j])) continue;
        s += NumberAt(*field, pos[j]);
        ++k;
      }
      g.null = k == 0;
      g.d = m.cfg->function == AggregateFunction::kSum ? s : (k ? s / static_cast<double>(k) : 0);
      return g;
    }
    case AggregateFunction::kCountUnique: {
      std::vector<std::string> keys;
      for (size_t j = 0; j < n; ++j) {
        if (field->IsNull(pos[j])) continue;
        std::string k;
        AppendKey(*field, pos[j], &k);
        keys.push_back(std::move(k));
      }
      std::sort(keys.begin(), keys.end());
      g.i = std::unique(keys.begin(), keys.end()) - keys.begin();
      g.null = keys.empty();
      return g;
    }
    default: {
      const Column& key = t.column(m.order_col);
      int64_t best = -1;
      for (size_t j = 0; j < n; ++j) {
        size_t p = pos[j];
        if (field->IsNull(p) || key.IsNull(p)) continue;
        if (best < 0) {
          best = static_cast<int64_t>(p);
          continue;
        }
        int c = CompareAt(key, p, best);
        bool take;
        switch (m.rule) {
          case PickRule::kLess: take = c < 0 || (c == 0 && rowid[p] < rowid[best]); break;
          case PickRule::kGreater: take = c > 0 || (c == 0 && rowid[p] < rowid[best]); break;
          default: take = c > 0 || (c == 0 && rowid[p] > rowid[best]); break;
        }
        if (take) best = static_cast<int64_t>(p);
      }
      g.pos = best;
      g.null = best < 0;
      return g;
    }
  }
}

void AppendGroupValue(const CompiledMeasure& m, const Table& t, const GroupValue& g, std::optional<double> def, Column* out) {
  if (g.null) {
    if (def) {
      if (out->type() == DataType::kDouble) out->AppendDouble(*def);
      else out->AppendInt64(static_cast<int64_t>(*def));
    } else {
      out->AppendNull();
    }
    return;
  }
  if (IsPick(m.cfg->function)) {
    out->AppendFrom(t.column(m.field_col), g.pos);
  } else if (out->type() == DataType::kDouble) {
    out->AppendDouble(g.d);
  } else {
    out->AppendInt64(g.i);
  }
}

}  // namespace

Table MeasureEngine::Impl::EvaluateGrouped(const CompiledMeasure& m, int threads) const {
  const SourceState& s = sources[m.source];
  const Table& t = *s.table;
  const std::vector<uint32_t>& rowid = s.rows->rows;
  const uint64_t* off = s.rows->offsets.data();
  const bool customer = m.cfg->kind == MeasureKind::kCustomer;
  std::vector<Field> fields;
  if (customer) fields.push_back({"CustomerIndex", DataType::kInt64, {}});
  for (int d : m.dim_cols) fields.push_back({t.schema().field(d).name, t.schema().field(d).type, {}});
  fields.push_back({"Value", m.result_type, {}});
  Table out{Schema(fields)};
  auto dims_less = [&](uint32_t a, uint32_t b) {
    for (int d : m.dim_cols) {
      int c = CompareNullable(t.column(d), a, b);
      if (c != 0) return c < 0;
    }
    return false;
  };
  const Selection* sel = m.selection >= 0 ? &s.selections[m.selection] : nullptr;
  if (customer) {
    // Per morsel of customers: selected positions, stably sorted by the
    // dimension values, then one group per run of equal values.
    struct Part {
      std::vector<int64_t> customer;
      std::vector<uint32_t> first;  // representative position
      std::vector<GroupValue> value;
    };
    const size_t grain = 4096;
    const size_t morsels = (num_customers + grain - 1) / grain;
    std::vector<Part> parts(morsels);
    ParallelFor(threads, num_customers, grain, [&](size_t cb, size_t ce, int) {
      Part& part = parts[cb / grain];
      std::vector<uint8_t> mask;
      const size_t rb = off[cb], re = off[ce];
      if (sel) sel->Compute(t, rb, re, &mask);
      std::vector<uint32_t> pos;
      for (size_t c = cb; c < ce; ++c) {
        pos.clear();
        for (size_t p = off[c]; p < off[c + 1]; ++p) {
          if (!sel || mask[p - rb]) pos.push_back(static_cast<uint32_t>(p));
        }
        std::stable_sort(pos.begin(), pos.end(), dims_less);
        for (size_t j = 0; j < pos.size();) {
          size_t k = j + 1;
          while (k < pos.size() && !dims_less(pos[j], pos[k])) ++k;
          part.customer.push_back(static_cast<int64_t>(c));
          part.first.push_back(pos[j]);
          part.value.push_back(AggregateGroup(m, t, rowid, pos.data() + j, k - j));
          j = k;
        }
      }
    });
    for (const Part& part : parts) {
      for (size_t g = 0; g < part.customer.size(); ++g) {
        out.mutable_column(0).AppendInt64(part.customer[g]);
        for (size_t d = 0; d < m.dim_cols.size(); ++d) out.mutable_column(1 + d).AppendFrom(t.column(m.dim_cols[d]), part.first[g]);
        AppendGroupValue(m, t, part.value[g], std::nullopt, &out.mutable_column(1 + m.dim_cols.size()));
        out.FinishRow();
      }
    }
    return out;
  }
  // Business: every selected row of every customer; groups by hashing the
  // dimension values, ordered by typed dimension values.
  const size_t total = s.rows->num_rows();
  std::vector<uint8_t> mask;
  if (sel) sel->Compute(t, 0, total, &mask);
  std::unordered_map<std::string, uint32_t> group_of;
  std::vector<std::vector<uint32_t>> groups;
  std::string key;
  for (size_t p = 0; p < total; ++p) {
    if (sel && !mask[p]) continue;
    key.clear();
    for (int d : m.dim_cols) AppendKey(t.column(d), p, &key);
    auto [it, inserted] = group_of.try_emplace(key, static_cast<uint32_t>(groups.size()));
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(static_cast<uint32_t>(p));
  }
  std::vector<size_t> order(groups.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dims_less(groups[a][0], groups[b][0]); });
  Column& value = out.mutable_column(m.dim_cols.size());
  if (m.dim_cols.empty()) {
    GroupValue g = groups.empty() ? GroupValue{} : AggregateGroup(m, t, rowid, groups[0].data(), groups[0].size());
    AppendGroupValue(m, t, g, m.cfg->default_value, &value);
    out.FinishRow();
    return out;
  }
  for (size_t g : order) {
    for (size_t d = 0; d < m.dim_cols.size(); ++d) out.mutable_column(d).AppendFrom(t.column(m.dim_cols[d]), groups[g][0]);
    AppendGroupValue(m, t, AggregateGroup(m, t, rowid, groups[g].data(), groups[g].size()), m.cfg->default_value, &value);
    out.FinishRow();
  }
  return out;
}

StatusOr<MeasureResults> MeasureEngine::Impl::Evaluate(int threads) const {
  MeasureResults r;
  std::vector<AttributeOut> outs(measures.size());
  for (const SourceState& s : sources) {
    if (!s.attribute_measures.empty()) EvaluateAttributeSource(s, threads, &outs);
  }
  std::vector<Column> cols(attribute_slots.size());
  std::vector<Field> fields;
  for (size_t slot = 0; slot < attribute_slots.size(); ++slot) {
    const CompiledMeasure& m = measures[attribute_slots[slot]];
    fields.push_back({m.cfg->name, m.result_type, {}});
    if (!m.is_formula) {
      cols[slot] = FinishAttribute(m, outs[attribute_slots[slot]]);
      outs[attribute_slots[slot]] = AttributeOut{};
    }
  }
  EvaluateFormulas(threads, &cols);
  r.attributes = Table(Schema(fields));
  for (size_t slot = 0; slot < cols.size(); ++slot) r.attributes.mutable_column(slot) = std::move(cols[slot]);
  if (cols.empty()) {
    // No attribute measure: an empty table.
  } else {
    CDP_RETURN_IF_ERROR(r.attributes.Validate());
  }
  for (const CompiledMeasure& m : measures) {
    if (m.cfg->kind == MeasureKind::kCustomer) r.customer.emplace(m.cfg->name, EvaluateGrouped(m, threads));
    if (m.cfg->kind == MeasureKind::kBusiness) r.business.emplace(m.cfg->name, EvaluateGrouped(m, threads));
  }
  return r;
}

MeasureEngine::MeasureEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MeasureEngine::~MeasureEngine() = default;

StatusOr<std::unique_ptr<MeasureEngine>> MeasureEngine::Compile(const std::vector<MeasureConfig>& measures,
                                                                const MeasureInputs& inputs) {
  auto impl = std::make_unique<Impl>();
  impl->num_customers = inputs.num_customers;
  impl->run_date = inputs.run_date;
  impl->configs = measures;
  impl->measures.resize(measures.size());
  for (size_t i = 0; i < measures.size(); ++i) {
    impl->measures[i].cfg = &impl->configs[i];
    if (!impl->by_name.emplace(measures[i].name, static_cast<int>(i)).second) {
      return MeasureError(measures[i], "the name is used by two measures");
    }
  }
  std::map<std::string, int> source_ids;
  for (size_t i = 0; i < measures.size(); ++i) CDP_RETURN_IF_ERROR(impl->CompileMeasure(i, inputs, &source_ids));
  for (size_t i = 0; i < measures.size(); ++i) {
    if (measures[i].kind == MeasureKind::kAttribute) {
      impl->measures[i].attribute_slot = static_cast<int>(impl->attribute_slots.size());
      impl->attribute_slots.push_back(static_cast<int>(i));
    }
  }
  CDP_RETURN_IF_ERROR(impl->CompileFormulas());
  return std::unique_ptr<MeasureEngine>(new MeasureEngine(std::move(impl)));
}

StatusOr<MeasureResults> MeasureEngine::Evaluate(int threads) const { return impl_->Evaluate(threads); }

DataType MeasureEngine::ResultType(const std::string& measure) const {
  auto it = impl_->by_name.find(measure);
  return it == impl_->by_name.end() ? DataType::kDouble : impl_->measures[it->second].result_type;
}

StatusOr<MeasureResults> EvaluateMeasures(const std::vector<MeasureConfig>& measures, const MeasureInputs& inputs,
                                          int threads) {
  CDP_ASSIGN_OR_RETURN(auto engine, MeasureEngine::Compile(measures, inputs));
  return engine->Evaluate(threads);
}

}  // namespace cdp
