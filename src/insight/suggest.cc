#include "insight/suggest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include <boost/math/distributions/students_t.hpp>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "common/parallel.h"
#include "common/text.h"
#include "insight/internal/insight_text.h"

namespace cdp {
namespace {

using insight_internal::HumanNumber;

constexpr double kDaysPerYear = 365.25;  // customer_attributes.cc's "years since"
constexpr uint16_t kMissingBucket = 0xFFFF;
constexpr int kPolishQuantiles = 200;
constexpr int kMaxInPrefix = 5;
constexpr int kPerAttributeSet = 2;  // beam and result pool entries per set of attributes

// `v` rounded to 2 significant digits.
double RoundTwoDigits(double v) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double unit = std::pow(10.0, std::floor(std::log10(std::fabs(v))) - 1);
  return std::round(v / unit) * unit;
}

// A condition of a group. Numbers compare the attribute's search value:
// the number itself, or minus the day for a date attribute (so that
// "years since >= t" is "-day >= -D", i.e. "day <= D").
struct Cond {
  int attr = 0;
  enum Kind { kGe, kLt, kIn } kind = kGe;
  double cut = 0;        // search-space threshold
  double threshold = 0;  // in the attribute's units (years for a date)
  int32_t day = 0;       // dates: D
  std::vector<int32_t> codes;  // kIn: the category codes (one = equals)
  bool operator==(const Cond& o) const {
    return attr == o.attr && kind == o.kind && cut == o.cut && codes == o.codes;
  }
};

// Per selectable attribute: search values (numbers) or codes, and the
// search grid as buckets.
struct AttrColumn {
  int attr = 0;
  bool numeric = true;
  bool is_date = false;
  const double* value = nullptr;  // search value per customer (NaN = missing)
  std::vector<double> own;        // storage for dates' -day
  const int32_t* code = nullptr;  // categorical
  std::vector<Cond> grid;         // numeric: cuts ascending, one kGe cond per cut (kLt from the same)
  std::vector<uint16_t> bucket;   // numeric: number of grid cuts <= value; categorical: code; missing: kMissingBucket
  int buckets = 0;                // numeric: cuts + 1; categorical: categories
  std::vector<int32_t> usable;    // categorical: codes that may appear in a rule
  std::vector<std::vector<int32_t>> prefixes;  // categorical: "in" sets
};

bool Matches(const AttrColumn& col, const Cond& c, uint32_t customer) {
  if (c.kind == Cond::kIn) {
    const int32_t code = col.code[customer];
    if (code < 0) return false;
    return std::find(c.codes.begin(), c.codes.end(), code) != c.codes.end();
  }
  const double v = col.value[customer];
  if (std::isnan(v)) return false;
  return c.kind == Cond::kGe ? v >= c.cut : v < c.cut;
}

// Target statistics of a set of customers (y centred on the population mean).
struct Stats {
  int64_t all = 0;     // customers
  int64_t with = 0;    // with a target value
  double sum = 0;      // of y - mean0
  double sumsq = 0;    // of (y - mean0)^2
  void Add(double yc) {
    ++with;
    sum += yc;
    sumsq += yc * yc;
  }
  void Merge(const Stats& o) {
    all += o.all;
    with += o.with;
    sum += o.sum;
    sumsq += o.sumsq;
  }
};

struct Context {
  const CustomerAttributes* attributes = nullptr;
  const SuggestOptions* options = nullptr;
  std::vector<AttrColumn> columns;
  std::vector<uint8_t> has_target;
  std::vector<double> yc;  // centred target (0 when missing)
  double mean0 = 0;        // population average (share)
  int64_t population = 0;
  int64_t min_group = 0;
  double direction = 1;  // +1 above, -1 below
  int64_t tests = 0;

  double Quality(const Stats& s) const {
    if (s.with == 0) return -std::numeric_limits<double>::infinity();
    return std::sqrt(static_cast<double>(s.with) / static_cast<double>(population)) * direction * (s.sum / s.with);
  }
  double Mean(const Stats& s) const { return s.with > 0 ? mean0 + s.sum / s.with : std::nan(""); }
  bool LiftOk(const Stats& s) const {
    const double m = Mean(s);
    const double lift_needed = options->min_lift;
    if (mean0 <= 0) return lift_needed == 1 && direction * (m - mean0) > 0;
    return direction > 0 ? m >= lift_needed * mean0 : m <= mean0 / lift_needed;
  }
  Stats StatsOf(const std::vector<uint32_t>& members) const {
    Stats s;
    s.all = static_cast<int64_t>(members.size());
    for (uint32_t c : members) {
      if (has_target[c]) s.Add(yc[c]);
    }
    return s;
  }
};

const AttrColumn& ColumnOf(const Context& ctx, int attr) {
  for (const AttrColumn& col : ctx.columns) {
    if (col.attr == attr) return col;
  }
  return ctx.columns.front();  // not reached: conditions only use selectable attributes
}

// Customers matching every condition in `conds` except index `skip`.
// One bit per customer (customer c is bit c % 64 of word c / 64).
using Bits = std::vector<uint64_t>;

// The customers matching `c`, in one pass over its column.
Bits CondBits(const Context& ctx, const Cond& c) {
  const auto n = static_cast<size_t>(ctx.attributes->customers);
  const AttrColumn& col = ColumnOf(ctx, c.attr);
  Bits bits((n + 63) / 64, 0);
  if (c.kind == Cond::kIn) {
    std::vector<uint8_t> in(ctx.attributes->attributes[static_cast<size_t>(c.attr)].categories.size() + 1, 0);
    for (int32_t code : c.codes) in[static_cast<size_t>(code)] = 1;
    for (size_t i = 0; i < n; ++i) {
      const int32_t code = col.code[i];
      if (code >= 0 && in[static_cast<size_t>(code)]) bits[i >> 6] |= uint64_t{1} << (i & 63);
    }
    return bits;
  }
  const double* v = col.value;
  const double cut = c.cut;
  // NaN compares false both ways: a missing value fails either selector.
  if (c.kind == Cond::kGe) {
    for (size_t i = 0; i < n; ++i) bits[i >> 6] |= static_cast<uint64_t>(v[i] >= cut) << (i & 63);
  } else {
    for (size_t i = 0; i < n; ++i) bits[i >> 6] |= static_cast<uint64_t>(v[i] < cut) << (i & 63);
  }
  return bits;
}

// Calls fn(customer) in ascending order for the customers in [0, n) in every
// bit set of `sets` except index `skip` (all of [0, n) when that leaves
// none), and (when `minus` is given) not in `minus`.
template <typename Fn>
void ForEachIn(size_t n, const std::vector<Bits>& sets, size_t skip, const Bits* minus, Fn&& fn) {
  const size_t words = (n + 63) / 64;
  for (size_t w = 0; w < words; ++w) {
    uint64_t x = w + 1 < words || n % 64 == 0 ? ~uint64_t{0} : (uint64_t{1} << (n % 64)) - 1;
    for (size_t k = 0; k < sets.size(); ++k) {
      if (k != skip) x &= sets[k][w];
    }
    if (minus) x &= ~(*minus)[w];
    while (x) {
      const int b = __builtin_ctzll(x);
      fn(static_cast<uint32_t>(w * 64 + static_cast<size_t>(b)));
      x &= x - 1;
    }
  }
}

// The intersection of `sets` (every customer when empty is not allowed: a
// candidate has at least one condition).
Bits AndOf(const std::vector<Bits>& sets) {
  Bits out = sets.front();
  for (size_t k = 1; k < sets.size(); ++k) {
    for (size_t w = 0; w < out.size(); ++w) out[w] &= sets[k][w];
  }
  return out;
}

std::vector<uint32_t> MembersOfBits(const Bits& bits) {
  std::vector<uint32_t> out;
  for (size_t w = 0; w < bits.size(); ++w) {
    uint64_t x = bits[w];
    while (x) {
      out.push_back(static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(x))));
      x &= x - 1;
    }
  }
  return out;
}

// The cut points of `sorted` (ascending search values of customers with a
// value) at `k` interior quantiles, rounded to 2 significant digits in the
// attribute's units; strictly increasing, each splitting the values.
std::vector<Cond> MakeGrid(const Context& ctx, const AttrColumn& col, const std::vector<double>& sorted, int k) {
  std::vector<Cond> grid;
  if (sorted.empty()) return grid;
  const int32_t as_of = ctx.options->as_of_day;
  std::set<double> seen;
  for (int q = 1; q <= k; ++q) {
    const double v = sorted[static_cast<size_t>(static_cast<double>(sorted.size() - 1) * q / (k + 1))];
    Cond c;
    c.attr = col.attr;
    c.kind = Cond::kGe;
    if (col.is_date) {
      // v = -day; years = (as_of - day) / 365.25.
      const double years = RoundTwoDigits((as_of + v) / kDaysPerYear);
      c.threshold = years;
      c.day = static_cast<int32_t>(std::floor(as_of - kDaysPerYear * years));
      c.cut = -static_cast<double>(c.day);
    } else {
      c.threshold = RoundTwoDigits(v);
      c.cut = c.threshold;
    }
    if (!(c.cut > sorted.front() && c.cut <= sorted.back())) continue;
    if (!seen.insert(c.cut).second) continue;
    grid.push_back(c);
  }
  std::sort(grid.begin(), grid.end(), [](const Cond& a, const Cond& b) { return a.cut < b.cut; });
  return grid;
}

std::vector<double> SortedValues(const AttrColumn& col, int64_t n) {
  std::vector<double> v;
  const size_t step = std::max<size_t>(1, static_cast<size_t>(n) / 500000);  // a sample above 500k
  for (size_t i = 0; i < static_cast<size_t>(n); i += step) {
    if (!std::isnan(col.value[i])) v.push_back(col.value[i]);
  }
  std::sort(v.begin(), v.end());
  return v;
}

std::string CondText(const Context& ctx, const Cond& c) {
  const CustomerAttribute& a = ctx.attributes->attributes[static_cast<size_t>(c.attr)];
  const AttrColumn& col = ColumnOf(ctx, c.attr);
  if (c.kind == Cond::kIn) {
    std::string s = a.name + " is ";
    for (size_t i = 0; i < c.codes.size(); ++i) {
      if (i > 0) s += i + 1 == c.codes.size() ? " or " : ", ";
      s += a.categories[static_cast<size_t>(c.codes[i])];
    }
    return s;
  }
  if (col.is_date) {
    return c.kind == Cond::kGe
               ? a.field + " on or before " + FormatDate(c.day) + " (" + HumanNumber(c.threshold) + "+ years)"
               : a.field + " after " + FormatDate(c.day) + " (under " + HumanNumber(c.threshold) + " years)";
  }
  return a.name + (c.kind == Cond::kGe ? " >= " : " < ") + HumanNumber(c.threshold);
}

SegmentValue NumberValue(double v) {
  if (std::fabs(v) < 9.0e15 && v == std::floor(v)) return static_cast<int64_t>(v);
  return v;
}

SuggestCondition ToSuggestCondition(const Context& ctx, const Cond& c) {
  const CustomerAttribute& a = ctx.attributes->attributes[static_cast<size_t>(c.attr)];
  const AttrColumn& col = ColumnOf(ctx, c.attr);
  SuggestCondition s;
  s.attribute = a.name;
  s.entity = a.entity;
  s.field = a.field;
  s.text = CondText(ctx, c);
  if (c.kind == Cond::kIn) {
    s.op = c.codes.size() == 1 ? ConditionOp::kEquals : ConditionOp::kIn;
    for (int32_t code : c.codes) s.categories.push_back(a.categories[static_cast<size_t>(code)]);
  } else if (col.is_date) {
    s.op = c.kind == Cond::kGe ? ConditionOp::kOnOrBefore : ConditionOp::kAfter;
    s.threshold = c.threshold;
    s.day = c.day;
  } else {
    s.op = c.kind == Cond::kGe ? ConditionOp::kGreaterEqual : ConditionOp::kLess;
    s.threshold = c.threshold;
  }
  return s;
}

Condition ToCondition(const SuggestCondition& s, bool is_date) {
  Condition c;
  c.field = s.field;
  c.op = s.op;
  if (s.op == ConditionOp::kEquals || s.op == ConditionOp::kIn) {
    for (const auto& v : s.categories) c.values.emplace_back(v);
  } else if (is_date) {
    c.values.emplace_back(FormatDate(s.day));
  } else {
    c.values.push_back(NumberValue(s.threshold));
  }
  return c;
}

// One rule on Customer (Customer_Measure conditions carry their entity);
// another per-customer entity's conditions as an intersect rule on it.
SegmentDefinition MakeDefinition(const Context& ctx, const std::vector<SuggestCondition>& conds,
                                 const std::string& name, const std::string& text) {
  SegmentDefinition d;
  d.name = name;
  d.display_name = text.size() > 200 ? text.substr(0, 197) + "..." : text;
  d.description = "Suggested for " + ctx.options->target + ": " + text;
  d.type = SegmentType::kDynamic;
  Rule customer;
  customer.entity = std::string(kCustomerEntity);
  std::map<std::string, Rule> others;
  for (const SuggestCondition& s : conds) {
    const CustomerAttribute* a = ctx.attributes->Find(s.attribute);
    Condition c = ToCondition(s, a != nullptr && a->is_date);
    if (s.entity == kCustomerEntity) {
      customer.conditions.emplace_back(std::move(c));
    } else if (s.entity == kCustomerMeasureEntity) {
      c.entity = s.entity;
      customer.conditions.emplace_back(std::move(c));
    } else {
      Rule& r = others[s.entity];
      r.entity = s.entity;
      r.combine = SetOperator::kIntersect;
      r.conditions.emplace_back(std::move(c));
    }
  }
  if (!customer.conditions.empty()) d.rules.push_back(std::move(customer));
  for (auto& [entity, r] : others) d.rules.push_back(std::move(r));
  if (!d.rules.empty()) d.rules[0].combine = SetOperator::kUnion;
  return d;
}

// Welch's t-test, two-sided, of a group against the rest.
double WelchP(const Stats& g, const Stats& total) {
  const double n1 = static_cast<double>(g.with), n2 = static_cast<double>(total.with - g.with);
  if (n1 < 2 || n2 < 2) return 1;
  const double m1 = g.sum / n1, m2 = (total.sum - g.sum) / n2;
  const double v1 = std::max(0.0, (g.sumsq - n1 * m1 * m1) / (n1 - 1));
  const double v2 = std::max(0.0, ((total.sumsq - g.sumsq) - n2 * m2 * m2) / (n2 - 1));
  const double se2 = v1 / n1 + v2 / n2;
  if (!(se2 > 0)) return m1 == m2 ? 1 : 0;
  const double t = std::fabs(m1 - m2) / std::sqrt(se2);
  const double df = se2 * se2 / ((v1 / n1) * (v1 / n1) / (n1 - 1) + (v2 / n2) * (v2 / n2) / (n2 - 1));
  try {
    boost::math::students_t dist(std::max(df, 1.0));
    return std::min(1.0, 2 * boost::math::cdf(boost::math::complement(dist, t)));
  } catch (const std::exception&) {
    return 1;
  }
}

// Fisher's exact test, two-sided: the probability, given the margins, of the
// 2x2 tables (successes / trials in group 1 and group 2) no more probable
// than the observed one. Walks from the mode outward with the hypergeometric
// ratio, so it costs O(distance from the mode + tail length), exact for any
// counts (the group against a small removed part as well as against the
// rest of a million customers).
double FisherP(int64_t a, int64_t n1, int64_t c, int64_t n2) {
  if (n1 <= 0 || n2 <= 0) return 1;
  const int64_t big_n = n1 + n2, k = a + c;
  const int64_t lo = std::max<int64_t>(0, k - n2), hi = std::min<int64_t>(k, n1);
  if (lo >= hi) return 1;
  auto lchoose = [](double nn, double kk) { return std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1); };
  const double lnorm = lchoose(static_cast<double>(big_n), static_cast<double>(n1));
  auto lp_at = [&](int64_t x) {
    return lchoose(static_cast<double>(k), static_cast<double>(x)) +
           lchoose(static_cast<double>(big_n - k), static_cast<double>(n1 - x)) - lnorm;
  };
  // log P(x+1) - log P(x).
  auto step_up = [&](int64_t x) {
    return std::log(static_cast<double>(k - x)) + std::log(static_cast<double>(n1 - x)) -
           std::log(static_cast<double>(x + 1)) - std::log(static_cast<double>(big_n - k - n1 + x + 1));
  };
  const double lp_obs = lp_at(a) + 1e-7;  // relative tolerance for ties
  int64_t mode = static_cast<int64_t>(std::floor(static_cast<double>(n1 + 1) * static_cast<double>(k + 1) /
                                                 static_cast<double>(big_n + 2)));
  mode = std::clamp(mode, lo, hi);
  const double lp_mode = lp_at(mode);
  double p = lp_mode <= lp_obs ? std::exp(lp_mode) : 0;
  // Right of the mode.
  double lp = lp_mode;
  for (int64_t x = mode; x < hi; ++x) {
    lp += step_up(x);
    if (lp <= lp_obs) {
      const double t = std::exp(lp);
      p += t;
      if (t < p * 1e-17 || lp < -745) break;
    }
  }
  // Left of the mode.
  lp = lp_mode;
  for (int64_t x = mode; x > lo; --x) {
    lp -= step_up(x - 1);
    if (lp <= lp_obs) {
      const double t = std::exp(lp);
      p += t;
      if (t < p * 1e-17 || lp < -745) break;
    }
  }
  return std::min(1.0, p);
}

struct Candidate {
  std::vector<Cond> conds;
  std::vector<int> selectors;  // search selector ids, sorted (the dedup key)
  Stats stats;
  double quality = 0;
};

// A search selector: a grid condition of a column.
struct Selector {
  size_t column = 0;
  Cond cond;
  // numeric: bucket range [lo, hi]; categorical: codes.
  int lo = 0, hi = 0;
};

// The attributes a candidate's conditions use, sorted (its diversity key).
std::vector<int> AttrKey(const Candidate& c) {
  std::vector<int> k;
  for (const Cond& x : c.conds) k.push_back(x.attr);
  std::sort(k.begin(), k.end());
  k.erase(std::unique(k.begin(), k.end()), k.end());
  return k;
}

}  // namespace

Status ValidateSuggestOptions(const SuggestOptions& o) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("suggest: " + what); };
  if (o.target.empty()) return bad("target is empty: name a numeric attribute or a categorical one");
  if (!(o.min_lift >= 1 && o.min_lift <= 100)) return bad("min_lift " + FormatFixed(o.min_lift, 3) + " must be in [1, 100]");
  if (!(o.min_share > 0 && o.min_share <= 0.5)) return bad("min_share " + FormatFixed(o.min_share, 4) + " must be in (0, 0.5]");
  if (o.min_size < 2) return bad("min_size " + std::to_string(o.min_size) + " must be at least 2");
  if (o.max_suggestions < 1 || o.max_suggestions > 100) {
    return bad("max_suggestions " + std::to_string(o.max_suggestions) + " must be in 1..100");
  }
  if (o.max_conditions < 1 || o.max_conditions > 5) {
    return bad("max_conditions " + std::to_string(o.max_conditions) + " must be in 1..5");
  }
  if (o.beam_width < 1 || o.beam_width > 200) return bad("beam_width " + std::to_string(o.beam_width) + " must be in 1..200");
  if (o.cut_points < 3 || o.cut_points > 63) return bad("cut_points " + std::to_string(o.cut_points) + " must be in 3..63");
  if (!(o.alpha > 0 && o.alpha <= 0.5)) return bad("alpha " + FormatFixed(o.alpha, 4) + " must be in (0, 0.5]");
  if (!(o.max_overlap > 0 && o.max_overlap <= 1)) {
    return bad("max_overlap " + FormatFixed(o.max_overlap, 3) + " must be in (0, 1]");
  }
  if (o.threads < 0 || o.threads > 256) return bad("threads " + std::to_string(o.threads) + " must be in 0..256");
  if (o.as_of_day != 0 && !IsSupportedRunDate(o.as_of_day)) {
    return bad("as_of_day " + std::to_string(o.as_of_day) + " is outside 1900-01-01 .. 9999-12-31");
  }
  return Status::Ok();
}

StatusOr<SuggestResult> FindSuggestedSegments(const CustomerAttributes& attributes, const SuggestOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateSuggestOptions(options));
  auto phase = [&](std::string_view name) {
    if (options.on_phase) options.on_phase(name);
  };
  phase("target");
  const int64_t n = attributes.customers;
  if (n < 0 || n > static_cast<int64_t>(UINT32_MAX)) {
    return InvalidArgumentError("suggest: customers " + std::to_string(n) + " is outside [0, 2^32)");
  }
  for (const auto& a : attributes.attributes) {
    const auto want = static_cast<size_t>(n);
    if ((a.kind == AttributeKind::kNumeric && a.numbers.size() != want) ||
        (a.kind == AttributeKind::kCategorical && a.codes.size() != want)) {
      return InvalidArgumentError("suggest: attribute '" + a.name + "' does not have one value per customer");
    }
  }
  const CustomerAttribute* target = attributes.Find(options.target);
  if (target == nullptr) return InvalidArgumentError("suggest: target '" + options.target + "' is not an attribute");
  const int target_index = static_cast<int>(target - attributes.attributes.data());

  Context ctx;
  ctx.attributes = &attributes;
  ctx.options = &options;
  ctx.direction = options.direction == SuggestDirection::kAbove ? 1 : -1;
  SuggestResult result;
  result.target = target->name;
  result.kind = target->kind;
  result.customers = n;

  // Target.
  ctx.has_target.assign(static_cast<size_t>(n), 0);
  std::vector<double> y(static_cast<size_t>(n), 0);
  if (target->kind == AttributeKind::kCategorical) {
    if (target->categories.size() > 10) {
      return InvalidArgumentError("suggest: target '" + target->name + "' has " +
                                  std::to_string(target->categories.size()) +
                                  " values; a categorical target may have at most 10");
    }
    auto it = std::find(target->categories.begin(), target->categories.end(), options.value);
    if (options.value.empty() || it == target->categories.end()) {
      std::string values;
      for (const auto& v : target->categories) values += (values.empty() ? "" : ", ") + v;
      return InvalidArgumentError("suggest: value '" + options.value + "' is not a value of " + target->name +
                                  " (" + values + ")");
    }
    result.value = options.value;
    const auto want = static_cast<int32_t>(it - target->categories.begin());
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (target->codes[i] >= 0) {
        ctx.has_target[i] = 1;
        y[i] = target->codes[i] == want ? 1 : 0;
      }
    }
  } else {
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      if (!std::isnan(target->numbers[i])) {
        ctx.has_target[i] = 1;
        y[i] = target->numbers[i];
      }
    }
  }
  double sum = 0;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (ctx.has_target[i]) {
      ++ctx.population;
      sum += y[i];
    }
  }
  if (ctx.population < 2 * options.min_size) {
    return FailedPreconditionError("suggest: " + std::to_string(ctx.population) + " customers have a value of " +
                                   target->name + "; at least " + std::to_string(2 * options.min_size) +
                                   " (2 x min_size) are needed");
  }
  ctx.mean0 = sum / static_cast<double>(ctx.population);
  ctx.yc.assign(static_cast<size_t>(n), 0);
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (ctx.has_target[i]) ctx.yc[i] = y[i] - ctx.mean0;
  }
  y.clear();
  y.shrink_to_fit();
  result.population = ctx.population;
  result.population_average = ctx.mean0;
  ctx.min_group = std::max<int64_t>(options.min_size,
                                    static_cast<int64_t>(std::ceil(options.min_share * static_cast<double>(n) - 1e-9)));

  // Selectable attributes.
  phase("columns");
  std::set<int> excluded;
  for (const std::string& name : options.exclude) {
    const CustomerAttribute* a = attributes.Find(name);
    if (a == nullptr) return InvalidArgumentError("suggest: exclude: '" + name + "' is not an attribute");
    excluded.insert(static_cast<int>(a - attributes.attributes.data()));
  }
  // Each attribute's column (search values, grid, buckets) on its own, in
  // parallel; kept in attribute order.
  auto build_column = [&](size_t ai, AttrColumn& col, std::string* why) -> bool {
    const CustomerAttribute& a = attributes.attributes[ai];
    const int attr = static_cast<int>(ai);
    col.attr = attr;
    if (a.kind == AttributeKind::kNumeric) {
      col.is_date = a.is_date;
      if (a.is_date) {
        if (options.as_of_day == 0) {
          *why = a.name + ": a date attribute, and no as_of_day to write its rule as a date";
          return false;
        }
        col.own.resize(static_cast<size_t>(n));
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          const double years = a.numbers[i];
          col.own[i] = std::isnan(years) ? years
                                         : -static_cast<double>(options.as_of_day -
                                                                std::llround(years * kDaysPerYear));
        }
        col.value = col.own.data();
      } else {
        col.value = a.numbers.data();
      }
      std::vector<double> sorted = SortedValues(col, n);
      col.grid = MakeGrid(ctx, col, sorted, options.cut_points);
      if (col.grid.empty()) {
        *why = a.name + ": fewer than two distinct values";
        return false;
      }
      col.buckets = static_cast<int>(col.grid.size()) + 1;
      col.bucket.resize(static_cast<size_t>(n));
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        const double v = col.value[i];
        if (std::isnan(v)) {
          col.bucket[i] = kMissingBucket;
        } else {
          col.bucket[i] = static_cast<uint16_t>(
              std::upper_bound(col.grid.begin(), col.grid.end(), v, [](double x, const Cond& c) { return x < c.cut; }) -
              col.grid.begin());
        }
      }
    } else {
      col.numeric = false;
      col.code = a.codes.data();
      col.buckets = static_cast<int>(a.categories.size());
      if (col.buckets > 0xFFFE) {
        *why = a.name + ": too many categories";
        return false;
      }
      for (size_t k = 0; k < a.categories.size(); ++k) {
        if (a.categories[k] != "(other)" && !a.categories[k].empty()) col.usable.push_back(static_cast<int32_t>(k));
      }
      if (col.usable.empty()) {
        *why = a.name + ": no value usable in a rule";
        return false;
      }
      col.bucket.resize(static_cast<size_t>(n));
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        col.bucket[i] = a.codes[i] < 0 ? kMissingBucket : static_cast<uint16_t>(a.codes[i]);
      }
      // "in" prefixes of the usable values ordered by target average (best first).
      if (col.usable.size() >= 3) {
        std::vector<double> s(a.categories.size(), 0), c(a.categories.size(), 0);
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          if (a.codes[i] >= 0 && ctx.has_target[i]) {
            s[static_cast<size_t>(a.codes[i])] += ctx.yc[i];
            c[static_cast<size_t>(a.codes[i])] += 1;
          }
        }
        std::vector<int32_t> order = col.usable;
        std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t z) {
          const double mx = c[x] > 0 ? s[x] / c[x] : -ctx.direction * 1e300;
          const double mz = c[z] > 0 ? s[z] / c[z] : -ctx.direction * 1e300;
          return ctx.direction * mx > ctx.direction * mz;
        });
        for (size_t len = 2; len < order.size() && len <= static_cast<size_t>(kMaxInPrefix); ++len) {
          col.prefixes.emplace_back(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(len));
        }
      }
    }
    return true;
  };
  {
    std::vector<size_t> todo;
    for (size_t ai = 0; ai < attributes.attributes.size(); ++ai) {
      const int attr = static_cast<int>(ai);
      if (attr != target_index && !excluded.count(attr)) todo.push_back(ai);
    }
    std::vector<AttrColumn> built(todo.size());
    std::vector<std::string> why(todo.size());
    std::vector<char> keep(todo.size(), 0);
    ParallelFor(options.threads, todo.size(), 1, [&](size_t begin, size_t end, int) {
      for (size_t i = begin; i < end; ++i) keep[i] = build_column(todo[i], built[i], &why[i]);
    });
    for (size_t i = 0; i < todo.size(); ++i) {
      if (keep[i]) {
        ctx.columns.push_back(std::move(built[i]));
      } else {
        result.not_used.push_back(std::move(why[i]));
      }
    }
  }

  // Search selectors.
  phase("search");
  std::vector<Selector> selectors;
  for (size_t ci = 0; ci < ctx.columns.size(); ++ci) {
    const AttrColumn& col = ctx.columns[ci];
    if (col.numeric) {
      for (size_t j = 0; j < col.grid.size(); ++j) {
        Selector ge{ci, col.grid[j], static_cast<int>(j) + 1, col.buckets - 1};
        Selector lt{ci, col.grid[j], 0, static_cast<int>(j)};
        lt.cond.kind = Cond::kLt;
        selectors.push_back(ge);
        selectors.push_back(lt);
      }
    } else {
      for (int32_t code : col.usable) {
        Selector s{ci, Cond{}, 0, 0};
        s.cond.attr = col.attr;
        s.cond.kind = Cond::kIn;
        s.cond.codes = {code};
        selectors.push_back(s);
      }
      for (const auto& prefix : col.prefixes) {
        Selector s{ci, Cond{}, 0, 0};
        s.cond.attr = col.attr;
        s.cond.kind = Cond::kIn;
        s.cond.codes = prefix;
        selectors.push_back(s);
      }
    }
  }
  // Per column, its selectors.
  std::vector<std::vector<int>> column_selectors(ctx.columns.size());
  for (size_t s = 0; s < selectors.size(); ++s) column_selectors[selectors[s].column].push_back(static_cast<int>(s));

  // Beam search.
  struct BeamEntry {
    Candidate cand;
    std::vector<uint32_t> members;
  };
  std::vector<BeamEntry> beam(1);
  beam[0].members.resize(static_cast<size_t>(n));
  std::iota(beam[0].members.begin(), beam[0].members.end(), 0u);
  beam[0].cand.stats = ctx.StatsOf(beam[0].members);
  beam[0].cand.quality = 0;
  const size_t pool_cap = static_cast<size_t>(std::max(50, 5 * options.max_suggestions));
  std::vector<Candidate> pool;  // kept sorted by quality, best first, at most pool_cap
  std::set<std::vector<int>> seen;
  for (int depth = 0; depth < options.max_conditions && !beam.empty(); ++depth) {
    phase("search");
    std::vector<std::pair<Candidate, size_t>> next;  // refinement and its parent's beam index
    for (size_t bi = 0; bi < beam.size(); ++bi) {
      const BeamEntry& entry = beam[bi];
      // Bucket statistics of the entry's members per column, in parallel.
      std::vector<std::vector<Stats>> per_column(ctx.columns.size());
      ParallelFor(options.threads, ctx.columns.size(), 1, [&](size_t begin, size_t end, int) {
        for (size_t ci = begin; ci < end; ++ci) {
          const AttrColumn& col = ctx.columns[ci];
          std::vector<Stats>& per = per_column[ci];
          per.resize(static_cast<size_t>(col.buckets));
          for (uint32_t c : entry.members) {
            const uint16_t b = col.bucket[c];
            if (b == kMissingBucket) continue;
            Stats& st = per[b];
            ++st.all;
            if (ctx.has_target[c]) st.Add(ctx.yc[c]);
          }
        }
      });
      for (size_t ci = 0; ci < ctx.columns.size(); ++ci) {
        const AttrColumn& col = ctx.columns[ci];
        // What the entry already says about this attribute.
        bool has_ge = false, has_lt = false, has_in = false;
        for (const Cond& c : entry.cand.conds) {
          if (c.attr != col.attr) continue;
          has_ge |= c.kind == Cond::kGe;
          has_lt |= c.kind == Cond::kLt;
          has_in |= c.kind == Cond::kIn;
        }
        if (has_in || (has_ge && has_lt)) continue;
        const std::vector<Stats>& per = per_column[ci];
        for (int si : column_selectors[ci]) {
          const Selector& sel = selectors[static_cast<size_t>(si)];
          if ((sel.cond.kind == Cond::kGe && has_ge) || (sel.cond.kind == Cond::kLt && has_lt)) continue;
          Stats s;
          if (col.numeric) {
            for (int b = sel.lo; b <= sel.hi; ++b) s.Merge(per[static_cast<size_t>(b)]);
          } else {
            for (int32_t code : sel.cond.codes) s.Merge(per[static_cast<size_t>(code)]);
          }
          if (s.all < ctx.min_group || s.with < 2 || s.all == entry.cand.stats.all) continue;
          Candidate cand;
          cand.selectors = entry.cand.selectors;
          cand.selectors.push_back(si);
          std::sort(cand.selectors.begin(), cand.selectors.end());
          if (!seen.insert(cand.selectors).second) continue;
          ++ctx.tests;
          cand.conds = entry.cand.conds;
          cand.conds.push_back(sel.cond);
          cand.stats = s;
          cand.quality = ctx.Quality(s);
          if (!(cand.quality > 0)) continue;
          // A result candidate must improve on its parent (minimum improvement)
          // and reach the lift.
          if (cand.quality > entry.cand.quality && ctx.LiftOk(s)) {
            auto at = std::upper_bound(pool.begin(), pool.end(), cand.quality,
                                       [](double q, const Candidate& c) { return q > c.quality; });
            if (static_cast<size_t>(at - pool.begin()) < pool_cap) {
              const std::vector<int> key = AttrKey(cand);
              at = pool.insert(at, cand);
              // At most kPerAttributeSet per set of attributes: drop the worst of them.
              size_t same = 0;
              for (auto it = pool.begin(); it != pool.end();) {
                if (AttrKey(*it) == key && ++same > kPerAttributeSet) {
                  it = pool.erase(it);
                } else {
                  ++it;
                }
              }
              if (pool.size() > pool_cap) pool.pop_back();
            }
          }
          next.emplace_back(std::move(cand), bi);
        }
      }
    }
    if (depth + 1 >= options.max_conditions) break;
    // The next beam: the best refinements, members filtered from their parent's.
    std::stable_sort(next.begin(), next.end(),
                     [](const auto& a, const auto& b) { return a.first.quality > b.first.quality; });
    {
      std::map<std::vector<int>, int> per_key;
      std::vector<std::pair<Candidate, size_t>> chosen;
      for (auto& e : next) {
        if (chosen.size() >= static_cast<size_t>(options.beam_width)) break;
        if (++per_key[AttrKey(e.first)] > kPerAttributeSet) continue;
        chosen.push_back(std::move(e));
      }
      next = std::move(chosen);
    }
    phase("beam");
    std::vector<BeamEntry> new_beam;
    for (auto& [cand, parent] : next) {
      BeamEntry e;
      const Cond& added = cand.conds.back();
      const AttrColumn& col = ColumnOf(ctx, added.attr);
      for (uint32_t c : beam[parent].members) {
        if (Matches(col, added, c)) e.members.push_back(c);
      }
      e.cand = std::move(cand);
      new_beam.push_back(std::move(e));
    }
    beam = std::move(new_beam);
  }
  beam.clear();

  // Polish the numeric thresholds of the pool's candidates on a finer grid.
  // The fine grid of every numeric attribute in the pool, once.
  phase("polish");
  // Per customer its fine bucket (bucket j: values in [cut j-1, cut j); a
  // missing value kMissingBucket), so values < cut j are buckets 0..j.
  struct FineGrid {
    std::vector<Cond> grid;
    std::vector<uint16_t> bucket;
  };
  std::map<int, FineGrid> fine_grid;
  for (const Candidate& cand : pool) {
    for (const Cond& cond : cand.conds) {
      if (cond.kind != Cond::kIn) fine_grid.emplace(cond.attr, FineGrid());
    }
  }
  {
    std::vector<std::pair<const int, FineGrid>*> grids;
    for (auto& e : fine_grid) grids.push_back(&e);
    ParallelFor(options.threads, grids.size(), 1, [&](size_t begin, size_t end, int) {
      for (size_t i = begin; i < end; ++i) {
        const AttrColumn& col = ColumnOf(ctx, grids[i]->first);
        FineGrid& f = grids[i]->second;
        f.grid = MakeGrid(ctx, col, SortedValues(col, n), kPolishQuantiles);
        f.bucket.resize(static_cast<size_t>(n));
        for (size_t c = 0; c < static_cast<size_t>(n); ++c) {
          const double v = col.value[c];
          f.bucket[c] = std::isnan(v) ? kMissingBucket
                                      : static_cast<uint16_t>(std::upper_bound(f.grid.begin(), f.grid.end(), v,
                                                                               [](double x, const Cond& g) {
                                                                                 return x < g.cut;
                                                                               }) -
                                                              f.grid.begin());
        }
      }
    });
  }
  // Each candidate on its own (in parallel; each counts its tests): a
  // condition's cut is re-chosen with the others fixed, in order, each
  // condition seeing the ones polished before it.
  std::vector<Bits> candidate_bits(pool.size());  // members after polishing
  {
    std::vector<int64_t> polish_tests(pool.size(), 0);
    ParallelFor(options.threads, pool.size(), 1, [&](size_t begin, size_t end, int) {
      for (size_t pi = begin; pi < end; ++pi) {
        Candidate& cand = pool[pi];
        std::vector<Bits> bits;
        for (const Cond& c : cand.conds) bits.push_back(CondBits(ctx, c));
        for (size_t k = 0; k < cand.conds.size(); ++k) {
          Cond& cond = cand.conds[k];
          if (cond.kind == Cond::kIn) continue;
          const FineGrid& fine = fine_grid.at(cond.attr);
          const std::vector<Cond>& grid = fine.grid;
          // Statistics per fine bucket of the customers matching the other conditions.
          std::vector<Stats> per(grid.size() + 1);
          ForEachIn(static_cast<size_t>(n), bits, k, nullptr, [&](uint32_t c) {
            const uint16_t j = fine.bucket[c];
            if (j == kMissingBucket) return;
            Stats& st = per[j];
            ++st.all;
            if (ctx.has_target[c]) st.Add(ctx.yc[c]);
          });
          Stats with_value;
          for (const Stats& st : per) with_value.Merge(st);
          Cond best = cond;
          double best_quality = cand.quality;
          Stats below;  // values < grid[j].cut
          for (size_t j = 0; j < grid.size(); ++j) {
            below.Merge(per[j]);
            const Cond& g = grid[j];
            if (g.cut == cond.cut) continue;
            Stats st;
            if (cond.kind == Cond::kGe) {
              st = with_value;
              st.all -= below.all;
              st.with -= below.with;
              st.sum -= below.sum;
              st.sumsq -= below.sumsq;
            } else {
              st = below;
            }
            if (st.all < ctx.min_group || st.with < 2) continue;
            ++polish_tests[pi];
            const double q = ctx.Quality(st);
            if (q > best_quality && ctx.LiftOk(st)) {
              best_quality = q;
              best = g;
              best.kind = cond.kind;
            }
          }
          if (!(best == cond)) {
            cond = best;
            bits[k] = CondBits(ctx, cond);
          }
          cand.quality = best_quality;
        }
        candidate_bits[pi] = AndOf(bits);
        Stats st;
        ForEachIn(static_cast<size_t>(n), std::vector<Bits>{candidate_bits[pi]}, SIZE_MAX, nullptr, [&](uint32_t c) {
          ++st.all;
          if (ctx.has_target[c]) st.Add(ctx.yc[c]);
        });
        cand.stats = st;
        cand.quality = ctx.Quality(cand.stats);
      }
    });
    for (int64_t t : polish_tests) ctx.tests += t;
  }
  {
    // Best quality first (stable), the members' bits along.
    std::vector<size_t> order(pool.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return pool[x].quality > pool[y].quality; });
    std::vector<Candidate> sorted;
    std::vector<Bits> sorted_bits;
    for (size_t i : order) {
      sorted.push_back(std::move(pool[i]));
      sorted_bits.push_back(std::move(candidate_bits[i]));
    }
    pool = std::move(sorted);
    candidate_bits = std::move(sorted_bits);
  }
  result.tests = ctx.tests;

  // Significance, size, lift, productivity, overlap.
  phase("significance");
  Stats total;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    if (ctx.has_target[i]) total.Add(ctx.yc[i]);
  }
  // A categorical target's count of the value in a set (y is 0/1, centred).
  auto Successes = [&](const Stats& x) {
    return static_cast<int64_t>(std::llround(static_cast<double>(x.with) * ctx.mean0 + x.sum));
  };
  auto p_value = [&](const Stats& g) {
    if (target->kind == AttributeKind::kNumeric) return WelchP(g, total);
    const int64_t k = Successes(g), kt = Successes(total);
    return FisherP(k, g.with, kt - k, total.with - g.with);
  };
  const double tests = static_cast<double>(std::max<int64_t>(ctx.tests, 1));
  std::vector<CustomerSet> kept_sets;
  std::set<std::vector<std::pair<int, double>>> kept_keys;
  const std::string target_key = [&] {
    std::string s;
    for (char c : target->name) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      s += ok ? c : '_';
    }
    return s.substr(0, 100);
  }();
  // The candidates that pass size, lift and significance, and (in parallel)
  // for each of their conditions the statistics of the customers it removes
  // from the group of the other conditions (for the productivity test).
  std::vector<double> cand_p(pool.size(), 1);
  std::vector<char> eligible(pool.size(), 0);
  for (size_t pi = 0; pi < pool.size(); ++pi) {
    const Stats& g = pool[pi].stats;
    if (g.all < ctx.min_group || g.with < 2 || !(pool[pi].quality > 0) || !ctx.LiftOk(g)) continue;
    cand_p[pi] = p_value(g);
    eligible[pi] = cand_p[pi] * tests <= options.alpha;
  }
  std::vector<std::vector<Stats>> removed_stats(pool.size());
  ParallelFor(options.threads, pool.size(), 1, [&](size_t begin, size_t end, int) {
    for (size_t pi = begin; pi < end; ++pi) {
      const Candidate& cand = pool[pi];
      if (!eligible[pi] || cand.conds.size() < 2) continue;
      std::vector<Bits> bits;
      for (const Cond& c : cand.conds) bits.push_back(CondBits(ctx, c));
      for (size_t k = 0; k < cand.conds.size(); ++k) {
        Stats removed;
        ForEachIn(static_cast<size_t>(n), bits, k, &candidate_bits[pi], [&](uint32_t c) {
          ++removed.all;
          if (ctx.has_target[c]) removed.Add(ctx.yc[c]);
        });
        removed_stats[pi].push_back(removed);
      }
    }
  });
  for (size_t pi = 0; pi < pool.size(); ++pi) {
    const Candidate& cand = pool[pi];
    if (static_cast<int>(result.suggestions.size()) >= options.max_suggestions) break;
    if (!eligible[pi]) continue;
    const Stats& g = cand.stats;
    const double p = cand_p[pi];
    // Productive (Webb 2007): every condition must matter: the customers it
    // removes from the group of the other conditions differ in the wanted
    // direction, significantly at the same corrected level (the condition was
    // chosen by the same search, so the same correction applies).
    bool productive = true;
    if (cand.conds.size() > 1) {
      for (size_t k = 0; k < cand.conds.size() && productive; ++k) {
        const Stats& removed = removed_stats[pi][k];
        Stats both = g;
        both.Merge(removed);
        const double mg = g.sum / static_cast<double>(g.with);
        const double mr = removed.with > 0 ? removed.sum / static_cast<double>(removed.with) : mg;
        double pr;
        if (target->kind == AttributeKind::kNumeric) {
          pr = WelchP(g, both);
        } else {
          pr = FisherP(Successes(g), g.with, Successes(removed), removed.with);
        }
        productive = ctx.direction * (mg - mr) > 0 && pr * tests <= options.alpha;
      }
    }
    if (!productive) continue;
    std::vector<uint32_t> members = MembersOfBits(candidate_bits[pi]);
    CustomerSet set = CustomerSet::Of(members);
    set.Optimize();
    bool overlaps = false;
    for (const CustomerSet& k : kept_sets) {
      const double inter = static_cast<double>(set.IntersectionCount(k));
      const double smaller = static_cast<double>(std::min(set.Count(), k.Count()));
      if (smaller > 0 && inter / smaller > options.max_overlap) overlaps = true;
    }
    if (overlaps) continue;

    Suggestion s;
    std::vector<Cond> conds = cand.conds;
    // Conditions in attribute order, ">=" before "<" (stable text and definition).
    std::stable_sort(conds.begin(), conds.end(), [](const Cond& a, const Cond& b) {
      return a.attr != b.attr ? a.attr < b.attr : a.kind < b.kind;
    });
    for (const Cond& c : conds) s.conditions.push_back(ToSuggestCondition(ctx, c));
    for (size_t i = 0; i < s.conditions.size(); ++i) s.rules_text += (i ? " and " : "") + s.conditions[i].text;
    s.size = g.all;
    s.share = static_cast<double>(g.all) / static_cast<double>(std::max<int64_t>(n, 1));
    s.target_count = g.with;
    s.target_average = ctx.Mean(g);
    s.lift = ctx.mean0 > 0 ? s.target_average / ctx.mean0 : std::nan("");
    s.p_value = p;
    s.adjusted_p_value = std::min(1.0, p * tests);
    s.quality = cand.quality;
    s.definition = MakeDefinition(ctx, s.conditions,
                                  "Suggested_" + target_key + "_" + std::to_string(result.suggestions.size() + 1),
                                  s.rules_text);
    s.members = set;
    kept_sets.push_back(std::move(set));
    result.suggestions.push_back(std::move(s));
  }
  return result;
}

nlohmann::ordered_json ToJson(const SuggestResult& r) {
  const bool numeric = r.kind == AttributeKind::kNumeric;
  nlohmann::ordered_json j;
  j["target"] = r.target;
  j["kind"] = numeric ? "numeric" : "categorical";
  if (!numeric) j["value"] = r.value;
  j["customers"] = r.customers;
  j["population"] = {{"customers", r.population}, {numeric ? "average" : "share", r.population_average}};
  j["tests"] = r.tests;
  auto list = nlohmann::ordered_json::array();
  for (const Suggestion& s : r.suggestions) {
    nlohmann::ordered_json o;
    o["rules_text"] = s.rules_text;
    auto conds = nlohmann::ordered_json::array();
    for (const SuggestCondition& c : s.conditions) {
      nlohmann::ordered_json v = nlohmann::ordered_json::array();
      if (c.op == ConditionOp::kEquals || c.op == ConditionOp::kIn) {
        for (const auto& x : c.categories) v.push_back(x);
      } else if (c.op == ConditionOp::kOnOrBefore || c.op == ConditionOp::kAfter) {
        v.push_back(FormatDate(c.day));
      } else {
        v.push_back(c.threshold);
      }
      conds.push_back({{"attribute", c.attribute}, {"entity", c.entity}, {"field", c.field},
                       {"op", std::string(ConditionOpName(c.op))}, {"values", std::move(v)}, {"text", c.text}});
    }
    o["conditions"] = std::move(conds);
    o["size"] = s.size;
    o["share"] = s.share;
    o[numeric ? "target_average" : "target_share"] = s.target_average;
    o["lift"] = std::isnan(s.lift) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.lift);
    o["p_value"] = s.p_value;
    o["adjusted_p_value"] = s.adjusted_p_value;
    o["definition"] = nlohmann::ordered_json::parse(SegmentToJson(s.definition, -1));
    list.push_back(std::move(o));
  }
  j["suggestions"] = std::move(list);
  j["not_used"] = r.not_used;
  return j;
}

}  // namespace cdp
