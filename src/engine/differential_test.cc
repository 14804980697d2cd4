// Differential test: the engine against a naive reference evaluator (simple
// loops over all rows of the original table, no CSR, no masks) on random
// data and thousands of random measure definitions (fixed seeds).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/datetime.h"
#include "engine/entity_by_customer.h"
#include "engine/measure_engine.h"

namespace cdp {
namespace {

// ------------------------------------------------------------ reference values

struct Val {
  bool null = true;
  DataType type = DataType::kDouble;
  int64_t i = 0;  // int64, timestamp, date, bool
  double d = 0;
  std::string s;
};

Val Cell(const Column& c, size_t r) {
  Val v;
  v.type = c.type();
  if (c.IsNull(r)) return v;
  v.null = false;
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: v.i = c.Int64At(r); break;
    case DataType::kDate: v.i = c.DateAt(r); break;
    case DataType::kBool: v.i = c.BoolAt(r); break;
    case DataType::kDouble: v.d = c.DoubleAt(r); break;
    case DataType::kString: v.s = std::string(c.StringAt(r)); break;
  }
  return v;
}

// a < b for non-null values of one type.
bool Less(const Val& a, const Val& b) {
  if (a.type == DataType::kDouble) return a.d < b.d;
  if (a.type == DataType::kString) return a.s < b.s;
  return a.i < b.i;
}
bool Equal(const Val& a, const Val& b) { return !Less(a, b) && !Less(b, a); }

double Num(const Val& v) { return v.type == DataType::kDouble ? v.d : static_cast<double>(v.i); }

int32_t UtcDay(int64_t us) { return static_cast<int32_t>(std::floor(static_cast<double>(us) / static_cast<double>(kMicrosPerDay))); }

std::string Render(const Val& v) {
  if (v.null) return "<null>";
  switch (v.type) {
    case DataType::kDouble: {
      char b[64];
      snprintf(b, sizeof b, "%.17g", v.d);
      return b;
    }
    case DataType::kString: return "s:" + v.s;
    default: return std::to_string(v.i);
  }
}

// ------------------------------------------------------------ random data

struct Data {
  std::shared_ptr<Table> table;
  std::vector<int64_t> customer_of_row;
  size_t n = 0;
};

const char* kStrings[] = {"", "a", "b", "ab", "ba", "abc", "c"};

Data MakeData(std::mt19937_64& rng, size_t customers, size_t rows, bool sorted, int32_t base_day) {
  Schema s({{"Amount", DataType::kDouble, {}},
            {"Qty", DataType::kInt64, {}},
            {"Category", DataType::kString, {}},
            {"Flag", DataType::kBool, {}},
            {"Day", DataType::kDate, {}},
            {"At", DataType::kTimestamp, {}},
            {"Code", DataType::kInt64, {}}});
  Data d;
  d.n = customers;
  d.table = std::make_shared<Table>(s);
  auto r = [&](int n) { return static_cast<int>(rng() % n); };
  for (size_t i = 0; i < rows; ++i) {
    Table& t = *d.table;
    auto maybe_null = [&](int pct) { return r(100) < pct; };
    if (maybe_null(10)) t.mutable_column(0).AppendNull(); else t.mutable_column(0).AppendDouble((r(21) - 5) * 0.5);
    if (maybe_null(10)) t.mutable_column(1).AppendNull(); else t.mutable_column(1).AppendInt64(r(7) - 2);
    if (maybe_null(10)) t.mutable_column(2).AppendNull(); else t.mutable_column(2).AppendString(kStrings[r(7)]);
    if (maybe_null(5)) t.mutable_column(3).AppendNull(); else t.mutable_column(3).AppendBool(r(2));
    if (maybe_null(5)) t.mutable_column(4).AppendNull(); else t.mutable_column(4).AppendDate(base_day - 500 + r(560));
    if (maybe_null(5)) {
      t.mutable_column(5).AppendNull();
    } else {
      // Whole days plus a few fixed times so ties happen, some just before midnight.
      static const int64_t kTimes[] = {0, 1, 12 * 3600 * kMicrosPerSecond, kMicrosPerDay - 1};
      t.mutable_column(5).AppendTimestamp(static_cast<int64_t>(base_day - 500 + r(560)) * kMicrosPerDay + kTimes[r(4)]);
    }
    if (maybe_null(5)) t.mutable_column(6).AppendNull(); else t.mutable_column(6).AppendInt64(r(4));
    t.FinishRow();
    d.customer_of_row.push_back(customers == 0 ? -1 : r(10) == 0 ? -1 : r(static_cast<int>(customers)));
  }
  if (sorted) {
    std::sort(d.customer_of_row.begin(), d.customer_of_row.end());
    for (auto& c : d.customer_of_row) c = std::max<int64_t>(c, 0);
    if (customers == 0) d.customer_of_row.assign(rows, -1);
  }
  return d;
}

// ------------------------------------------------------------ random measures

struct RefFilter {
  int col;
  std::string op;
  std::vector<Val> values;
  bool by_date = false;
};

struct Formula {  // reference tree
  char op = 0;    // 'n' number, 'm' measure, 'd' days_since, 'c' coalesce, '~' negate, + - * /
  double number = 0;
  std::string measure;
  std::vector<Formula> args;
};

std::string FormulaText(const Formula& f) {
  switch (f.op) {
    case 'n': {
      char b[32];
      snprintf(b, sizeof b, "%g", f.number);
      return b;
    }
    case 'm': return f.measure;
    case 'd': return "days_since(" + f.args[0].measure + ")";
    case 'c': return "coalesce(" + FormulaText(f.args[0]) + ", " + FormulaText(f.args[1]) + ")";
    case '~': return "-(" + FormulaText(f.args[0]) + ")";
    default: return "(" + FormulaText(f.args[0]) + ") " + std::string(1, f.op) + " (" + FormulaText(f.args[1]) + ")";
  }
}

struct RefMeasure {
  MeasureConfig cfg;
  std::vector<RefFilter> filters;
  int time_col = -1;
  Formula formula;
  DataType type = DataType::kDouble;
};

const int kAmount = 0, kQty = 1, kCategory = 2, kFlag = 3, kDay = 4, kAt = 5, kCode = 6;
const char* kFieldNames[] = {"Amount", "Qty", "Category", "Flag", "Day", "At", "Code"};

std::string FormatValue(DataType t, const Val& v, bool ts_as_date) {
  switch (t) {
    case DataType::kInt64: return std::to_string(v.i);
    case DataType::kDouble: {
      char b[64];
      snprintf(b, sizeof b, "%.17g", v.d);
      return b;
    }
    case DataType::kBool: return v.i ? "true" : "false";
    case DataType::kDate: return FormatDate(static_cast<int32_t>(v.i));
    case DataType::kTimestamp: return ts_as_date ? FormatDate(static_cast<int32_t>(v.i)) : FormatTimestamp(v.i);
    case DataType::kString: return v.s;
  }
  return "";
}

class Generator {
 public:
  Generator(std::mt19937_64& rng, const Table& t, int32_t base_day) : rng_(rng), t_(t), base_(base_day) {}

  int R(int n) { return static_cast<int>(rng_() % n); }

  Val RandomValue(int col, bool* ts_as_date) {
    Val v;
    v.null = false;
    v.type = t_.schema().field(col).type;
    switch (col) {
      case kAmount: v.d = (R(21) - 5) * 0.5; break;
      case kQty: v.i = R(7) - 2; break;
      case kCategory: v.s = kStrings[R(7)]; break;
      case kFlag: v.i = R(2); break;
      case kDay: v.i = base_ - 500 + R(560); break;
      case kAt:
        if (*ts_as_date) {
          v.i = base_ - 500 + R(560);
        } else {
          v.i = static_cast<int64_t>(base_ - 500 + R(560)) * kMicrosPerDay + (R(2) ? 0 : 12 * 3600 * kMicrosPerSecond);
        }
        break;
      case kCode: v.i = R(4); break;
    }
    return v;
  }

  RefFilter RandomFilter(MeasureFilterConfig* fc) {
    RefFilter f;
    f.col = R(7);
    DataType type = t_.schema().field(f.col).type;
    std::vector<std::string> ops = {"equals", "not_equals", "in", "not_in", "is_empty", "is_not_empty"};
    if (type == DataType::kInt64 || type == DataType::kDouble || type == DataType::kDate || type == DataType::kTimestamp) {
      for (const char* o : {"less", "less_equal", "greater", "greater_equal"}) ops.push_back(o);
    }
    if (type == DataType::kString) {
      ops.push_back("contains");
      ops.push_back("starts_with");
    }
    f.op = ops[R(static_cast<int>(ops.size()))];
    f.by_date = type == DataType::kTimestamp && R(2);
    int count = (f.op == "is_empty" || f.op == "is_not_empty") ? 0 : (f.op == "in" || f.op == "not_in") ? 1 + R(3) : 1;
    fc->field = kFieldNames[f.col];
    fc->op = f.op;
    for (int i = 0; i < count; ++i) {
      Val v = RandomValue(f.col, &f.by_date);
      fc->values.push_back(FormatValue(type, v, f.by_date));
      f.values.push_back(v);
    }
    return f;
  }

  TimeWindowConfig RandomWindow() {
    TimeWindowConfig w;
    switch (R(5)) {
      case 0: break;
      case 1:
        w.kind = WindowKind::kLast;
        w.n = 1 + R(R(2) ? 3 : 40);
        w.unit = static_cast<TimeUnit>(R(5));
        break;
      case 2:
        w.kind = WindowKind::kBetween;
        w.from = base_ - 500 + R(560);
        w.to = w.from + R(200);
        break;
      default:
        w.kind = R(2) ? WindowKind::kThisPeriod : WindowKind::kLastPeriod;
        w.unit = static_cast<TimeUnit>(2 + R(3));
        break;
    }
    return w;
  }

  // A valid aggregate measure over source "Act" (time field At) or "Ent" (none).
  RefMeasure RandomAggregate(const std::string& name, MeasureKind kind) {
    RefMeasure m;
    m.cfg.name = name;
    m.cfg.kind = kind;
    bool activity = R(2);
    if (activity) m.cfg.activity = "Act"; else m.cfg.entity = "Ent";
    auto f = static_cast<AggregateFunction>(R(10));
    m.cfg.function = f;
    switch (f) {
      case AggregateFunction::kSum:
      case AggregateFunction::kAverage: m.cfg.field = R(2) ? "Amount" : "Qty"; break;
      case AggregateFunction::kCount:
        if (R(2)) m.cfg.field = kFieldNames[R(7)];
        break;
      case AggregateFunction::kMin:
      case AggregateFunction::kMax: {
        static const int kOrdered[] = {kAmount, kQty, kCategory, kDay, kAt, kCode};
        m.cfg.field = kFieldNames[kOrdered[R(6)]];
        break;
      }
      default: m.cfg.field = kFieldNames[R(7)]; break;
    }
    int order_col = -1;
    if (f == AggregateFunction::kFirst || f == AggregateFunction::kLast || f == AggregateFunction::kArgMax || f == AggregateFunction::kArgMin) {
      bool need = f == AggregateFunction::kArgMax || f == AggregateFunction::kArgMin || !activity;
      if (need || R(3) == 0) {
        static const int kOrdered[] = {kAmount, kQty, kCategory, kDay, kAt, kCode};
        order_col = kOrdered[R(6)];
        m.cfg.order_by = kFieldNames[order_col];
      }
    }
    int nf = R(4) == 0 ? 2 : R(2);
    for (int i = 0; i < nf; ++i) {
      MeasureFilterConfig fc;
      m.filters.push_back(RandomFilter(&fc));
      m.cfg.filters.push_back(fc);
    }
    m.cfg.window = RandomWindow();
    if (!activity && (m.cfg.window.kind != WindowKind::kAllTime || (order_col < 0 && (f == AggregateFunction::kFirst || f == AggregateFunction::kLast)))) {
      m.cfg.time_field = R(2) ? "Day" : "At";
    } else if (activity && R(5) == 0) {
      m.cfg.time_field = "Day";
    }
    m.time_col = !m.cfg.time_field.empty() ? t_.schema().FieldIndex(m.cfg.time_field) : activity ? kAt : -1;
    if (kind == MeasureKind::kCustomer || (kind == MeasureKind::kBusiness && R(3))) {
      static const int kDims[] = {kCategory, kCode, kFlag, kDay, kAmount};
      int a = kDims[R(5)], b = kDims[R(5)];
      m.cfg.dimensions.push_back(kFieldNames[a]);
      if (b != a && R(2)) m.cfg.dimensions.push_back(kFieldNames[b]);
    }
    int field_col = m.cfg.field.empty() ? -1 : t_.schema().FieldIndex(m.cfg.field);
    m.type = f == AggregateFunction::kSum || f == AggregateFunction::kAverage ? DataType::kDouble
             : f == AggregateFunction::kCount || f == AggregateFunction::kCountUnique ? DataType::kInt64
                                                                                    : t_.schema().field(field_col).type;
    if (kind != MeasureKind::kCustomer && (m.type == DataType::kDouble || m.type == DataType::kInt64) && R(3) == 0) {
      m.cfg.default_value = R(5) - 1;
    }
    return m;
  }

  Formula RandomFormula(const std::vector<RefMeasure>& prior, int depth) {
    Formula f;
    std::vector<const RefMeasure*> nums, times;
    for (const auto& p : prior) {
      if (p.cfg.kind != MeasureKind::kAttribute) continue;
      if (p.type == DataType::kDouble || p.type == DataType::kInt64) nums.push_back(&p);
      if (p.type == DataType::kDate || p.type == DataType::kTimestamp) times.push_back(&p);
    }
    int k = depth > 2 ? R(3) : R(9);
    if (k == 0 || (k == 1 && nums.empty()) || (k == 2 && times.empty())) {
      f.op = 'n';
      f.number = R(5) - 1;  // zero sometimes: division by zero
    } else if (k == 1) {
      f.op = 'm';
      f.measure = nums[R(static_cast<int>(nums.size()))]->cfg.name;
    } else if (k == 2) {
      f.op = 'd';
      Formula a;
      a.op = 'm';
      a.measure = times[R(static_cast<int>(times.size()))]->cfg.name;
      f.args.push_back(a);
    } else {
      static const char kOps[] = {'+', '-', '*', '/', 'c', '~'};
      f.op = kOps[R(6)];
      f.args.push_back(RandomFormula(prior, depth + 1));
      if (f.op != '~') f.args.push_back(RandomFormula(prior, depth + 1));
    }
    return f;
  }

 private:
  std::mt19937_64& rng_;
  const Table& t_;
  int32_t base_;
};

// ------------------------------------------------------------ reference evaluator

bool InWindow(const TimeWindowConfig& w, int32_t d, int32_t run) {
  int y, ry;
  unsigned m, dd, rm, rd;
  CivilFromDays(d, &y, &m, &dd);
  CivilFromDays(run, &ry, &rm, &rd);
  switch (w.kind) {
    case WindowKind::kAllTime: return true;
    case WindowKind::kBetween: return w.from <= d && d <= w.to;
    case WindowKind::kLast: {
      if (d > run) return false;
      if (w.unit == TimeUnit::kDay) return d > run - w.n;
      if (w.unit == TimeUnit::kWeek) return d > run - 7 * w.n;
      int64_t months = w.unit == TimeUnit::kMonth ? w.n : w.unit == TimeUnit::kQuarter ? 3 * w.n : 12 * w.n;
      // Walk back month by month from the run date's month.
      int sy = ry;
      int sm = static_cast<int>(rm);
      for (int64_t i = 0; i < months; ++i) {
        if (--sm == 0) {
          sm = 12;
          --sy;
        }
      }
      unsigned sd = std::min<unsigned>(rd, DaysInMonth(sy, sm));
      return d > DaysFromCivil(sy, sm, sd);
    }
    case WindowKind::kThisPeriod:
    case WindowKind::kLastPeriod: {
      auto index = [&](int yy, unsigned mm) -> int64_t {
        if (w.unit == TimeUnit::kMonth) return yy * 12LL + mm - 1;
        if (w.unit == TimeUnit::kQuarter) return yy * 4LL + (mm - 1) / 3;
        return yy;
      };
      return index(y, m) == index(ry, rm) - (w.kind == WindowKind::kLastPeriod ? 1 : 0);
    }
  }
  return false;
}

bool PassFilter(const RefFilter& f, const Column& c, size_t r) {
  Val v = Cell(c, r);
  if (v.null) return f.op == "is_empty";
  if (f.by_date) v.i = UtcDay(v.i);
  if (f.op == "is_empty") return v.type == DataType::kString && v.s.empty();
  if (f.op == "is_not_empty") return !(v.type == DataType::kString && v.s.empty());
  const Val& x = f.values.empty() ? v : f.values[0];
  if (f.op == "equals") return Equal(v, x);
  if (f.op == "not_equals") return !Equal(v, x);
  if (f.op == "less") return Less(v, x);
  if (f.op == "less_equal") return !Less(x, v);
  if (f.op == "greater") return Less(x, v);
  if (f.op == "greater_equal") return !Less(v, x);
  if (f.op == "contains") return v.s.find(x.s) != std::string::npos;
  if (f.op == "starts_with") return v.s.rfind(x.s, 0) == 0;
  bool found = false;
  for (const auto& y : f.values) found = found || Equal(v, y);
  return f.op == "in" ? found : !found;
}

// Aggregate of rows (original row order).
Val RefAggregate(const RefMeasure& m, const Table& t, const std::vector<size_t>& rows) {
  Val out;
  out.type = m.type;
  int field = m.cfg.field.empty() ? -1 : t.schema().FieldIndex(m.cfg.field);
  auto f = m.cfg.function;
  if (f == AggregateFunction::kCount) {
    if (!rows.empty()) {
      out.null = false;
      out.i = static_cast<int64_t>(rows.size());
    }
    return out;
  }
  std::vector<size_t> valid;
  for (size_t r : rows) {
    if (!t.column(field).IsNull(r)) valid.push_back(r);
  }
  if (f == AggregateFunction::kSum || f == AggregateFunction::kAverage) {
    if (valid.empty()) return out;
    double s = 0;
    for (size_t r : valid) s += Num(Cell(t.column(field), r));
    out.null = false;
    out.d = f == AggregateFunction::kSum ? s : s / static_cast<double>(valid.size());
    return out;
  }
  if (f == AggregateFunction::kCountUnique) {
    std::set<std::string> seen;
    for (size_t r : valid) seen.insert(t.column(field).ValueToString(r));
    if (!seen.empty()) {
      out.null = false;
      out.i = static_cast<int64_t>(seen.size());
    }
    return out;
  }
  int key = f == AggregateFunction::kMin || f == AggregateFunction::kMax ? field
            : !m.cfg.order_by.empty()                                   ? t.schema().FieldIndex(m.cfg.order_by)
                                                                        : m.time_col;
  bool have = false;
  Val best_key;
  size_t best = 0;
  for (size_t r : valid) {
    Val k = Cell(t.column(key), r);
    if (k.null) continue;
    bool take = !have;
    if (have) {
      switch (f) {
        case AggregateFunction::kMin:
        case AggregateFunction::kFirst:
        case AggregateFunction::kArgMin: take = Less(k, best_key); break;
        case AggregateFunction::kMax:
        case AggregateFunction::kArgMax: take = Less(best_key, k); break;
        default: take = !Less(k, best_key); break;  // Last: latest row among ties
      }
    }
    if (take) {
      have = true;
      best_key = k;
      best = r;
    }
  }
  if (have) out = Cell(t.column(field), best);
  return out;
}

std::vector<size_t> SelectedRows(const RefMeasure& m, const Table& t, const std::vector<int64_t>& cust, int32_t run) {
  std::vector<size_t> out;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    if (cust[r] < 0) continue;
    if (m.cfg.window.kind != WindowKind::kAllTime) {
      Val tv = Cell(t.column(m.time_col), r);
      if (tv.null) continue;
      int32_t day = tv.type == DataType::kTimestamp ? UtcDay(tv.i) : static_cast<int32_t>(tv.i);
      if (!InWindow(m.cfg.window, day, run)) continue;
    }
    bool ok = true;
    for (const auto& f : m.filters) ok = ok && PassFilter(f, t.column(f.col), r);
    if (ok) out.push_back(r);
  }
  return out;
}

Val WithDefault(Val v, const RefMeasure& m) {
  if (v.null && m.cfg.default_value) {
    v.null = false;
    v.d = *m.cfg.default_value;
    v.i = static_cast<int64_t>(*m.cfg.default_value);
  }
  return v;
}

Val RefFormula(const Formula& f, const std::map<std::string, std::vector<Val>>& attrs, size_t c, int32_t run) {
  Val out;
  out.type = DataType::kDouble;
  switch (f.op) {
    case 'n': out.null = false; out.d = f.number; return out;
    case 'm': {
      const Val& v = attrs.at(f.measure)[c];
      if (!v.null) {
        out.null = false;
        out.d = Num(v);
      }
      return out;
    }
    case 'd': {
      const Val& v = attrs.at(f.args[0].measure)[c];
      if (!v.null) {
        out.null = false;
        out.d = run - (v.type == DataType::kTimestamp ? UtcDay(v.i) : v.i);
      }
      return out;
    }
    case 'c': {
      Val a = RefFormula(f.args[0], attrs, c, run);
      return a.null ? RefFormula(f.args[1], attrs, c, run) : a;
    }
    case '~': {
      Val a = RefFormula(f.args[0], attrs, c, run);
      a.d = -a.d;
      return a;
    }
    default: {
      Val a = RefFormula(f.args[0], attrs, c, run), b = RefFormula(f.args[1], attrs, c, run);
      if (a.null || b.null) return out;
      if (f.op == '/' && b.d == 0) return out;
      out.null = false;
      out.d = f.op == '+' ? a.d + b.d : f.op == '-' ? a.d - b.d : f.op == '*' ? a.d * b.d : a.d / b.d;
      if (!std::isfinite(out.d)) out.null = true;
      return out;
    }
  }
}

bool Same(const Val& a, const Val& b) {
  if (a.null || b.null) return a.null == b.null;
  if (a.type == DataType::kDouble || b.type == DataType::kDouble) {
    double x = Num(a), y = Num(b);
    return std::fabs(x - y) <= 1e-9 * std::max({1.0, std::fabs(x), std::fabs(y)});
  }
  if (a.type == DataType::kString) return a.s == b.s;
  return a.i == b.i;
}

std::string Describe(const MeasureConfig& m) {
  std::string s = m.name + " kind=" + std::string(MeasureKindName(m.kind));
  if (!m.formula.empty()) return s + " formula=" + m.formula;
  s += " fn=" + std::string(AggregateFunctionName(m.function)) + " src=" + m.activity + m.entity + " field=" + m.field +
       " order_by=" + m.order_by + " time=" + m.time_field;
  for (const auto& f : m.filters) {
    s += " [" + f.field + " " + f.op;
    for (const auto& v : f.values) s += " '" + v + "'";
    s += "]";
  }
  s += " window=" + std::to_string(static_cast<int>(m.window.kind)) + "/" + std::to_string(m.window.n) + "/" +
       std::string(TimeUnitName(m.window.unit)) + "/" + FormatDate(m.window.from) + ".." + FormatDate(m.window.to);
  for (const auto& d : m.dimensions) s += " dim=" + d;
  if (m.default_value) s += " default=" + std::to_string(*m.default_value);
  return s;
}

// Key of a grouped row: customer (or -1) and rendered dimension values.
std::string GroupKey(int64_t customer, const std::vector<Val>& dims) {
  std::string k = std::to_string(customer);
  for (const auto& d : dims) k += "|" + Render(d);
  return k;
}

int RunCase(uint64_t seed, size_t customers, size_t rows, int measures) {
  std::mt19937_64 rng(seed);
  const int32_t base = DaysFromCivil(2024, 1 + rng() % 12, 1 + rng() % 28);
  Data act = MakeData(rng, customers, rows, rng() % 4 == 0, base);
  Data ent = MakeData(rng, customers, rows / 2, rng() % 4 == 0, base);
  EntityByCustomer act_rows = EntityByCustomer::Build(act.table, act.customer_of_row, customers);
  EntityByCustomer ent_rows = EntityByCustomer::Build(ent.table, ent.customer_of_row, customers);
  MeasureInputs in;
  in.num_customers = customers;
  in.run_date = base - static_cast<int32_t>(rng() % 120);
  in.activities["Act"] = MeasureSource{&act_rows, "At"};
  in.entities["Ent"] = MeasureSource{&ent_rows, ""};

  Generator gen(rng, *act.table, base);
  std::vector<RefMeasure> refs;
  for (int i = 0; i < measures; ++i) {
    std::string name = "M" + std::to_string(i);
    int k = gen.R(10);
    if (k < 2 && !refs.empty()) {
      RefMeasure m;
      m.cfg.name = name;
      m.formula = gen.RandomFormula(refs, 0);
      m.cfg.formula = FormulaText(m.formula);
      if (gen.R(4) == 0) m.cfg.default_value = -7;
      refs.push_back(std::move(m));
    } else {
      MeasureKind kind = k < 7 ? MeasureKind::kAttribute : k < 9 ? MeasureKind::kCustomer : MeasureKind::kBusiness;
      refs.push_back(gen.RandomAggregate(name, kind));
    }
  }
  std::vector<MeasureConfig> configs;
  for (const auto& r : refs) configs.push_back(r.cfg);
  auto engine = MeasureEngine::Compile(configs, in);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return 0;
  auto res = (*engine)->Evaluate(1 + static_cast<int>(rng() % 3));
  EXPECT_TRUE(res.ok()) << res.status().ToString();
  if (!res.ok()) return 0;

  std::map<std::string, std::vector<Val>> attrs;
  int checked = 0;
  for (const auto& m : refs) {
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + Describe(m.cfg));
    bool is_act = m.cfg.activity == "Act";
    const Data& data = is_act ? act : ent;
    const Table& t = *data.table;
    if (!m.cfg.formula.empty() || m.cfg.kind == MeasureKind::kAttribute) {
      std::vector<Val> vals(customers);
      if (!m.cfg.formula.empty()) {
        for (size_t c = 0; c < customers; ++c) {
          vals[c] = RefFormula(m.formula, attrs, c, in.run_date);
          vals[c].type = DataType::kDouble;
          if (vals[c].null && m.cfg.default_value) vals[c] = WithDefault(vals[c], m);
        }
      } else {
        std::vector<std::vector<size_t>> per(customers);
        for (size_t r : SelectedRows(m, t, data.customer_of_row, in.run_date)) per[data.customer_of_row[r]].push_back(r);
        for (size_t c = 0; c < customers; ++c) vals[c] = WithDefault(RefAggregate(m, t, per[c]), m);
      }
      const Column* col = res->attributes.ColumnByName(m.cfg.name);
      EXPECT_NE(col, nullptr);
      if (!col) continue;
      EXPECT_EQ(col->type(), m.cfg.formula.empty() ? m.type : DataType::kDouble);
      for (size_t c = 0; c < customers; ++c) {
        Val got = Cell(*col, c);
        EXPECT_TRUE(Same(got, vals[c])) << "customer " << c << ": engine " << Render(got) << ", reference " << Render(vals[c]);
      }
      attrs[m.cfg.name] = std::move(vals);
      ++checked;
      continue;
    }
    // Grouped measures.
    bool customer = m.cfg.kind == MeasureKind::kCustomer;
    std::vector<int> dims;
    for (const auto& d : m.cfg.dimensions) dims.push_back(t.schema().FieldIndex(d));
    std::map<std::string, std::vector<size_t>> groups;
    std::vector<size_t> sel = SelectedRows(m, t, data.customer_of_row, in.run_date);
    for (size_t r : sel) {
      std::vector<Val> dv;
      for (int d : dims) dv.push_back(Cell(t.column(d), r));
      groups[GroupKey(customer ? data.customer_of_row[r] : -1, dv)].push_back(r);
    }
    std::map<std::string, Val> expected;
    for (const auto& [k, rs] : groups) expected[k] = WithDefault(RefAggregate(m, t, rs), m);
    if (!customer && dims.empty()) expected[GroupKey(-1, {})] = WithDefault(RefAggregate(m, t, sel), m);
    const auto& tables = customer ? res->customer : res->business;
    auto it = tables.find(m.cfg.name);
    EXPECT_TRUE(it != tables.end());
    if (it == tables.end()) continue;
    const Table& got = it->second;
    EXPECT_EQ(got.num_rows(), expected.size());
    size_t first_dim = customer ? 1 : 0;
    std::string prev_key;
    for (size_t r = 0; r < got.num_rows(); ++r) {
      std::vector<Val> dv;
      for (size_t d = 0; d < dims.size(); ++d) dv.push_back(Cell(got.column(first_dim + d), r));
      int64_t c = customer ? got.column(0).Int64At(r) : -1;
      if (customer && r > 0) EXPECT_LE(got.column(0).Int64At(r - 1), c);
      std::string key = GroupKey(c, dv);
      auto e = expected.find(key);
      EXPECT_TRUE(e != expected.end()) << "unexpected group " << key;
      if (e == expected.end()) continue;
      Val v = Cell(got.column(got.num_columns() - 1), r);
      EXPECT_TRUE(Same(v, e->second)) << "group " << key << ": engine " << Render(v) << ", reference " << Render(e->second);
    }
    ++checked;
  }
  return checked;
}

TEST(MeasureDifferentialTest, EngineMatchesNaiveReferenceOnRandomMeasures) {
  int checked = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    size_t customers = seed % 50 == 0 ? 0 : seed % 7 == 0 ? 1 : 1 + seed % 40;
    checked += RunCase(seed, customers, customers * (seed % 5), 12);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(checked, 4000);
  std::printf("checked %d random measures\n", checked);
}

TEST(MeasureDifferentialTest, ManyMorselsAndThreads) {
  int checked = 0;
  for (uint64_t seed = 1000; seed < 1006; ++seed) {
    checked += RunCase(seed, 3000 + seed % 3 * 1000, 9000, 20);
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(checked, 100);
}

}  // namespace
}  // namespace cdp
