#include "insight/differentiators.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

#include <boost/math/distributions/chi_squared.hpp>

#include "common/parallel.h"
#include "insight/internal/insight_text.h"

namespace cdp {

namespace {

using insight_internal::HumanNumber;
using insight_internal::HumanPercent;
using insight_internal::RangeLabel;
using insight_internal::SortedQuantile;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr uint8_t kInSegment = 1;
constexpr uint8_t kInBase = 2;

double Ratio(double a, double b) { return b == 0 ? 0.0 : a / b; }

nlohmann::ordered_json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Sum of squared deviations from `mean`.
double SumSquares(const std::vector<double>& v, double mean) {
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  return s;
}

// Sample median of ascending values.
double SortedMedian(const std::vector<double>& v) { return SortedQuantile(v, 0.5); }

// KS D on ascending samples, and the same with `missing_a` / `missing_b`
// customers placed below every value (the score).
struct KsPair {
  double d = kNaN;
  double d_with_missing = 0;
};
KsPair SortedKs(const std::vector<double>& a, const std::vector<double>& b, uint64_t missing_a, uint64_t missing_b) {
  KsPair out;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  const double ta = na + static_cast<double>(missing_a), tb = nb + static_cast<double>(missing_b);
  double d = 0;
  double dm = std::fabs(Ratio(static_cast<double>(missing_a), ta) - Ratio(static_cast<double>(missing_b), tb));
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double x;
    if (j >= b.size() || (i < a.size() && a[i] <= b[j])) {
      x = a[i];
    } else {
      x = b[j];
    }
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    const double fa = Ratio(static_cast<double>(i), na), fb = Ratio(static_cast<double>(j), nb);
    d = std::max(d, std::fabs(fa - fb));
    const double ga = Ratio(static_cast<double>(missing_a + i), ta), gb = Ratio(static_cast<double>(missing_b + j), tb);
    dm = std::max(dm, std::fabs(ga - gb));
  }
  if (!a.empty() && !b.empty()) out.d = d;
  out.d_with_missing = dm;
  return out;
}

std::string SignedPercent(double seg, double base) {
  if (base == 0 || !std::isfinite(seg) || !std::isfinite(base)) return "";
  const double change = (seg - base) / std::fabs(base);
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%+.0f%%)", change * 100);
  return buf;
}

struct Sides {
  std::vector<uint8_t> side;  // per customer: kInSegment | kInBase bits
  uint64_t segment = 0, base = 0, overlap = 0;
};

void AddMissingBucket(AttributeDifference& r, uint64_t seg_missing, uint64_t base_missing, double seg_total,
                      double base_total) {
  if (seg_missing == 0 && base_missing == 0) return;
  DistributionBucket m;
  m.label = "(missing)";
  m.segment_count = seg_missing;
  m.base_count = base_missing;
  m.segment_share = Ratio(static_cast<double>(seg_missing), seg_total);
  m.base_share = Ratio(static_cast<double>(base_missing), base_total);
  r.distribution.push_back(std::move(m));
}

AttributeDifference Numeric(const CustomerAttribute& a, const Sides& s, const DifferentiatorOptions& o) {
  AttributeDifference r;
  std::vector<double> seg, base;
  seg.reserve(s.segment);
  base.reserve(s.base);
  for (size_t c = 0; c < s.side.size(); ++c) {
    const uint8_t k = s.side[c];
    if (k == 0) continue;
    const double v = a.numbers[c];
    if (std::isnan(v)) continue;
    if (k & kInSegment) seg.push_back(v);
    if (k & kInBase) base.push_back(v);
  }
  std::sort(seg.begin(), seg.end());
  std::sort(base.begin(), base.end());
  const uint64_t seg_missing = s.segment - seg.size(), base_missing = s.base - base.size();
  r.segment_present = seg.size();
  r.base_present = base.size();
  r.segment_missing_share = Ratio(static_cast<double>(seg_missing), static_cast<double>(s.segment));
  r.base_missing_share = Ratio(static_cast<double>(base_missing), static_cast<double>(s.base));
  r.segment_mean = Mean(seg);
  r.base_mean = Mean(base);
  r.segment_median = SortedMedian(seg);
  r.base_median = SortedMedian(base);
  const double n1 = static_cast<double>(seg.size()), n2 = static_cast<double>(base.size());
  if (n1 > 0 && n2 > 0 && n1 + n2 > 2) {
    const double pooled = std::sqrt((SumSquares(seg, r.segment_mean) + SumSquares(base, r.base_mean)) / (n1 + n2 - 2));
    r.cohens_d = pooled > 0 ? (r.segment_mean - r.base_mean) / pooled : 0.0;
  }
  const KsPair ks = SortedKs(seg, base, seg_missing, base_missing);
  r.ks_d = ks.d;
  if (!std::isnan(ks.d)) r.ks_p_value = KolmogorovSmirnovPValue(ks.d, seg.size(), base.size());
  r.score = ks.d_with_missing;

  // Chart buckets on the pooled present values.
  std::vector<double> pooled(seg.size() + base.size());
  std::merge(seg.begin(), seg.end(), base.begin(), base.end(), pooled.begin());
  if (!pooled.empty()) {
    std::vector<double> distinct;
    for (double v : pooled) {
      if (distinct.empty() || distinct.back() != v) distinct.push_back(v);
      if (distinct.size() > static_cast<size_t>(o.numeric_bins)) break;
    }
    std::vector<DistributionBucket> buckets;
    std::vector<double> edges;  // inner edges: value v goes to the number of edges <= v
    if (distinct.size() <= static_cast<size_t>(o.numeric_bins)) {
      for (size_t k = 0; k < distinct.size(); ++k) {
        DistributionBucket b;
        b.low = b.high = distinct[k];
        b.label = HumanNumber(distinct[k]);
        buckets.push_back(std::move(b));
        if (k > 0) edges.push_back(distinct[k]);
      }
    } else {
      double lo = SortedQuantile(pooled, 0.01), hi = SortedQuantile(pooled, 0.99);
      if (!(hi > lo)) {
        lo = pooled.front();
        hi = pooled.back();
      }
      const double width = (hi - lo) / o.numeric_bins;
      for (int k = 0; k < o.numeric_bins; ++k) {
        DistributionBucket b;
        b.low = k == 0 ? pooled.front() : lo + width * k;
        b.high = k + 1 == o.numeric_bins ? pooled.back() : lo + width * (k + 1);
        b.label = RangeLabel(b.low, b.high);
        buckets.push_back(std::move(b));
        if (k > 0) edges.push_back(lo + width * k);
      }
    }
    auto bucket_of = [&](double v) {
      return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin());
    };
    for (double v : seg) ++buckets[bucket_of(v)].segment_count;
    for (double v : base) ++buckets[bucket_of(v)].base_count;
    for (auto& b : buckets) {
      b.segment_share = Ratio(static_cast<double>(b.segment_count), static_cast<double>(s.segment));
      b.base_share = Ratio(static_cast<double>(b.base_count), static_cast<double>(s.base));
      r.distribution.push_back(std::move(b));
    }
  }
  AddMissingBucket(r, seg_missing, base_missing, static_cast<double>(s.segment), static_cast<double>(s.base));

  // Summary: the means, unless missing values make most of the difference.
  const double missing_gap = std::fabs(r.segment_missing_share - r.base_missing_share);
  if (std::isnan(r.ks_d) || missing_gap >= r.score) {
    r.summary = a.name + ": missing " + HumanPercent(r.segment_missing_share) + " vs " +
                HumanPercent(r.base_missing_share);
  } else {
    r.summary = a.name + ": mean " + HumanNumber(r.segment_mean) + " vs " + HumanNumber(r.base_mean) +
                SignedPercent(r.segment_mean, r.base_mean);
  }
  return r;
}

AttributeDifference Categorical(const CustomerAttribute& a, const Sides& s, const DifferentiatorOptions& o) {
  AttributeDifference r;
  const size_t k = a.categories.size();
  std::vector<double> seg(k, 0), base(k, 0);
  uint64_t seg_missing = 0, base_missing = 0;
  for (size_t c = 0; c < s.side.size(); ++c) {
    const uint8_t side = s.side[c];
    if (side == 0) continue;
    const int32_t code = a.codes[c];
    if (code < 0 || static_cast<size_t>(code) >= k) {
      if (side & kInSegment) ++seg_missing;
      if (side & kInBase) ++base_missing;
      continue;
    }
    if (side & kInSegment) seg[static_cast<size_t>(code)] += 1;
    if (side & kInBase) base[static_cast<size_t>(code)] += 1;
  }
  const double st = static_cast<double>(s.segment), bt = static_cast<double>(s.base);
  r.segment_present = s.segment - seg_missing;
  r.base_present = s.base - base_missing;
  r.segment_missing_share = Ratio(static_cast<double>(seg_missing), st);
  r.base_missing_share = Ratio(static_cast<double>(base_missing), bt);
  r.js_divergence = JensenShannonDivergence(seg, base);
  const ChiSquareTest chi = ChiSquareIndependence(seg, base);
  r.chi_square = chi.statistic;
  r.chi_square_dof = chi.dof;
  r.chi_square_p_value = chi.p_value;
  // Total variation over categories + missing, as shares of each side.
  double tv = std::fabs(r.segment_missing_share - r.base_missing_share);
  size_t widest = k;  // the category with the largest share gap (k = missing)
  double widest_gap = tv;
  for (size_t i = 0; i < k; ++i) {
    const double gap = std::fabs(seg[i] / st - base[i] / bt);
    tv += gap;
    // On a tie (the two values of a bool always tie) the value the segment
    // has more of reads better: "IsVip: true 47% vs 3%".
    const bool tie = std::fabs(gap - widest_gap) <= 1e-12 && widest < k && seg[i] / st > base[i] / bt;
    if (gap > widest_gap + 1e-12 || tie) {
      widest_gap = gap;
      widest = i;
    }
  }
  r.score = std::min(1.0, tv / 2);

  // Chart: the top categories by the larger share of either side.
  std::vector<size_t> order;
  for (size_t i = 0; i < k; ++i) {
    if ((seg[i] > 0 || base[i] > 0) && a.categories[i] != "(other)") order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return std::max(seg[x] / st, base[x] / bt) > std::max(seg[y] / st, base[y] / bt);
  });
  if (order.size() > static_cast<size_t>(o.top_categories)) order.resize(static_cast<size_t>(o.top_categories));
  std::vector<bool> shown(k, false);
  for (size_t i : order) {
    shown[i] = true;
    DistributionBucket b;
    b.label = a.categories[i];
    b.segment_count = static_cast<uint64_t>(seg[i]);
    b.base_count = static_cast<uint64_t>(base[i]);
    b.segment_share = seg[i] / st;
    b.base_share = base[i] / bt;
    r.distribution.push_back(std::move(b));
  }
  DistributionBucket other;
  other.label = "(other)";
  for (size_t i = 0; i < k; ++i) {
    if (shown[i]) continue;
    other.segment_count += static_cast<uint64_t>(seg[i]);
    other.base_count += static_cast<uint64_t>(base[i]);
  }
  if (other.segment_count > 0 || other.base_count > 0) {
    other.segment_share = static_cast<double>(other.segment_count) / st;
    other.base_share = static_cast<double>(other.base_count) / bt;
    r.distribution.push_back(std::move(other));
  }
  AddMissingBucket(r, seg_missing, base_missing, st, bt);

  if (widest == k) {
    r.summary = a.name + ": missing " + HumanPercent(r.segment_missing_share) + " vs " +
                HumanPercent(r.base_missing_share);
  } else {
    r.summary = a.name + ": " + a.categories[widest] + " " + HumanPercent(seg[widest] / st) + " vs " +
                HumanPercent(base[widest] / bt);
  }
  return r;
}

const char* BaseLabel(DifferentiatorBase b) {
  switch (b) {
    case DifferentiatorBase::kRestOfCustomers:
      return "rest of customers";
    case DifferentiatorBase::kAllCustomers:
      return "all customers";
    default:
      return "base segment";
  }
}

}  // namespace

double KolmogorovSmirnovD(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  const double d = SortedKs(a, b, 0, 0).d;
  return std::isnan(d) ? 0.0 : d;
}

double KolmogorovSmirnovPValue(double d, uint64_t n, uint64_t m) {
  if (n == 0 || m == 0 || !(d > 0)) return 1.0;
  const double en = static_cast<double>(n) * static_cast<double>(m) / (static_cast<double>(n) + static_cast<double>(m));
  const double x = std::sqrt(en) * d;
  // Kolmogorov's limiting distribution (as scipy.special.kolmogorov): for
  // small x the theta-function form of the CDF converges fast, for large x
  // the alternating series of the survival function does.
  if (x < 1.0) {
    if (x < 0.04) return 1.0;
    const double pi = std::numbers::pi;
    double cdf = 0;
    for (int k = 1; k <= 50; ++k) {
      const double t = (2.0 * k - 1) * pi / x;
      const double term = std::exp(-t * t / 8);
      cdf += term;
      if (term < 1e-17 * cdf) break;
    }
    cdf *= std::sqrt(2 * pi) / x;
    return std::clamp(1.0 - cdf, 0.0, 1.0);
  }
  double q = 0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * x * x);
    q += (k % 2 == 1 ? 2.0 : -2.0) * term;
    if (term < 1e-17) break;
  }
  return std::clamp(q, 0.0, 1.0);
}

double JensenShannonDivergence(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (double v : p) sp += v;
  for (double v : q) sq += v;
  if (sp <= 0 || sq <= 0 || p.size() != q.size()) return 0.0;
  double js = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * std::log2(a / m);
    if (b > 0) js += 0.5 * b * std::log2(b / m);
  }
  return std::clamp(js, 0.0, 1.0);
}

ChiSquareTest ChiSquareIndependence(const std::vector<double>& a, const std::vector<double>& b) {
  ChiSquareTest out;
  double ra = 0, rb = 0;
  std::vector<size_t> kept;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] + b[i] > 0) kept.push_back(i);
    ra += a[i];
    rb += b[i];
  }
  if (kept.size() < 2 || ra <= 0 || rb <= 0) return out;
  const double total = ra + rb;
  double stat = 0;
  for (size_t i : kept) {
    const double col = a[i] + b[i];
    const double ea = ra * col / total, eb = rb * col / total;
    stat += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
  }
  out.statistic = stat;
  out.dof = static_cast<int64_t>(kept.size()) - 1;
  const boost::math::chi_squared dist(static_cast<double>(out.dof));
  out.p_value = boost::math::cdf(boost::math::complement(dist, stat));
  return out;
}

StatusOr<DifferentiatorsResult> ComputeDifferentiators(const CustomerAttributes& attributes,
                                                       const CustomerSet& segment,
                                                       const DifferentiatorOptions& options) {
  if (options.numeric_bins < 2 || options.numeric_bins > 50) {
    return InvalidArgumentError("differentiators: numeric_bins must be in [2, 50], got " +
                                std::to_string(options.numeric_bins));
  }
  if (options.top_categories < 1 || options.top_categories > 50) {
    return InvalidArgumentError("differentiators: top_categories must be in [1, 50], got " +
                                std::to_string(options.top_categories));
  }
  if (options.threads < 0 || options.threads > 256) {
    return InvalidArgumentError("differentiators: threads must be in [0, 256], got " +
                                std::to_string(options.threads));
  }
  if (options.base == DifferentiatorBase::kSegment && !options.base_segment) {
    return InvalidArgumentError("differentiators: base is a segment but base_segment is not given");
  }
  if (attributes.customers < 0) {
    return InvalidArgumentError("differentiators: attributes.customers is negative (" +
                                std::to_string(attributes.customers) + ")");
  }
  // The attributes to compare.
  std::vector<const CustomerAttribute*> chosen;
  if (options.attributes.empty()) {
    for (const auto& a : attributes.attributes) chosen.push_back(&a);
  } else {
    for (const auto& name : options.attributes) {
      const CustomerAttribute* a = attributes.Find(name);
      if (!a) return InvalidArgumentError("differentiators: no attribute named '" + name + "'");
      chosen.push_back(a);
    }
  }
  const size_t n = static_cast<size_t>(attributes.customers);
  for (const CustomerAttribute* a : chosen) {
    const size_t size = a->kind == AttributeKind::kNumeric ? a->numbers.size() : a->codes.size();
    if (size != n) {
      return InvalidArgumentError("differentiators: attribute '" + a->name + "' has " + std::to_string(size) +
                                  " values for " + std::to_string(n) + " customers");
    }
  }

  Sides s;
  s.side.assign(n, 0);
  auto mark = [&](const CustomerSet& set, uint8_t bit, const char* what) -> Status {
    const std::vector<uint32_t> members = set.ToVector();
    if (!members.empty() && members.back() >= n) {
      return InvalidArgumentError(std::string("differentiators: the ") + what + " has customer " +
                                  std::to_string(members.back()) + ", beyond the " + std::to_string(n) +
                                  " customers of the attributes");
    }
    for (uint32_t c : members) s.side[c] |= bit;
    return Status::Ok();
  };
  CDP_RETURN_IF_ERROR(mark(segment, kInSegment, "segment"));
  switch (options.base) {
    case DifferentiatorBase::kRestOfCustomers:
      for (auto& k : s.side) k = k == 0 ? kInBase : k;
      break;
    case DifferentiatorBase::kAllCustomers:
      for (auto& k : s.side) k |= kInBase;
      break;
    case DifferentiatorBase::kSegment:
      CDP_RETURN_IF_ERROR(mark(*options.base_segment, kInBase, "base segment"));
      break;
  }
  for (uint8_t k : s.side) {
    s.segment += (k & kInSegment) != 0;
    s.base += (k & kInBase) != 0;
    s.overlap += k == (kInSegment | kInBase);
  }
  if (s.segment == 0) return InvalidArgumentError("differentiators: the segment has no members");
  if (s.base == 0) {
    return InvalidArgumentError(std::string("differentiators: the base (") + BaseLabel(options.base) +
                                ") has no customers");
  }

  DifferentiatorsResult out;
  out.base = options.base_name.empty() ? BaseLabel(options.base) : options.base_name;
  out.segment_members = s.segment;
  out.base_members = s.base;
  out.base_overlap = s.overlap;
  out.attributes.resize(chosen.size());
  ParallelFor(options.threads, chosen.size(), 1, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      const CustomerAttribute& a = *chosen[i];
      AttributeDifference r = a.kind == AttributeKind::kNumeric ? Numeric(a, s, options) : Categorical(a, s, options);
      r.attribute = a.name;
      r.entity = a.entity;
      r.field = a.field;
      r.kind = a.kind;
      r.is_date = a.is_date;
      out.attributes[i] = std::move(r);
    }
  });
  std::stable_sort(out.attributes.begin(), out.attributes.end(),
                   [](const AttributeDifference& x, const AttributeDifference& y) { return x.score > y.score; });
  return out;
}

nlohmann::ordered_json DifferentiatorsResult::ToJson() const {
  nlohmann::ordered_json j;
  j["base"] = base;
  j["segment_members"] = segment_members;
  j["base_members"] = base_members;
  j["base_overlap"] = base_overlap;
  j["attributes"] = nlohmann::ordered_json::array();
  for (const auto& a : attributes) {
    nlohmann::ordered_json e;
    e["attribute"] = a.attribute;
    e["entity"] = a.entity;
    e["field"] = a.field;
    e["kind"] = a.kind == AttributeKind::kNumeric ? "numeric" : "categorical";
    e["is_date"] = a.is_date;
    e["score"] = Number(a.score);
    e["summary"] = a.summary;
    e["segment_present"] = a.segment_present;
    e["base_present"] = a.base_present;
    e["segment_missing_share"] = Number(a.segment_missing_share);
    e["base_missing_share"] = Number(a.base_missing_share);
    if (a.kind == AttributeKind::kNumeric) {
      e["segment_mean"] = Number(a.segment_mean);
      e["base_mean"] = Number(a.base_mean);
      e["segment_median"] = Number(a.segment_median);
      e["base_median"] = Number(a.base_median);
      e["cohens_d"] = Number(a.cohens_d);
      e["ks_d"] = Number(a.ks_d);
      e["ks_p_value"] = Number(a.ks_p_value);
    } else {
      e["js_divergence"] = Number(a.js_divergence);
      e["chi_square"] = Number(a.chi_square);
      e["chi_square_dof"] = a.chi_square_dof;
      e["chi_square_p_value"] = Number(a.chi_square_p_value);
    }
    e["distribution"] = nlohmann::ordered_json::array();
    for (const auto& b : a.distribution) {
      nlohmann::ordered_json d;
      d["label"] = b.label;
      if (!std::isnan(b.low)) {
        d["low"] = Number(b.low);
        d["high"] = Number(b.high);
      }
      d["segment_count"] = b.segment_count;
      d["base_count"] = b.base_count;
      d["segment_share"] = Number(b.segment_share);
      d["base_share"] = Number(b.base_share);
      e["distribution"].push_back(std::move(d));
    }
    j["attributes"].push_back(std::move(e));
  }
  return j;
}

}  // namespace cdp
