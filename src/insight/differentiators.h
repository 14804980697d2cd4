// Differentiators: what sets a segment apart from a base group, attribute by
// attribute, ranked. For every CustomerAttribute (or the ones named):
// - numeric: means, medians, the standardized mean difference (Cohen's d with
//   the pooled standard deviation; Cohen 1988), and the two-sample
//   Kolmogorov-Smirnov statistic D with its asymptotic p-value (Kolmogorov's
//   limiting distribution Q(sqrt(n m / (n + m)) D), as scipy.stats.kstwobign;
//   Boost 1.74 has no KS distribution, so the alternating series is ours;
//   scipy's ks_2samp(method="asymp") uses the finite-n kstwo at round(n m /
//   (n + m)) instead; ours is slightly larger, i.e. conservative: 0.0430
//   vs 0.0406 at n m / (n + m) = 300 and D = 0.08);
// - categorical: the Jensen-Shannon divergence (log base 2, in [0, 1]; Lin
//   1991) and Pearson's chi-square test of independence on the 2 x K table of
//   counts (statistic, degrees of freedom, p-value from
//   boost::math::chi_squared); categories empty on both sides are dropped;
// - both: the share of missing values on each side, and both distributions
//   on shared buckets for a chart.
// Tests use the present values only; missing values are reported apart.
//
// The ranking score, in [0, 1], is the same quantity for both kinds: the
// largest difference between the two sides in the share of customers over a
// group of values, with "missing" as a value of its own:
// - numeric: Kolmogorov-Smirnov D over the values with missing placed below
//   every number (sup over thresholds x of |P_seg(v <= x) - P_base(v <= x)|);
// - categorical: the total variation distance 1/2 sum |p_seg - p_base| over
//   the categories plus "missing" (the sup over ALL groups of categories).
// Both read "some group of values holds X more of one side than of the
// other", so 0.30 means the same on both kinds. The Jensen-Shannon
// divergence was not used as the score: it grows with the square of small
// differences (a 10-point shift in one category gives JSD ~ 0.01 but D =
// 0.10), so numbers would always outrank categories. Cohen's d was not used:
// it is unbounded, blind to differences of shape, and undefined for
// categories. Chosen before looking at any data set's scores.
//
// The base: by default the REST of the customers (every customer not in the
// segment), so the two sides are disjoint, which the chi-square and KS tests
// assume. kAllCustomers compares with every customer including the
// segment's own members (as Dynamics 365 Customer Insights shows it:
// "segment vs all customers"); the tests then treat the sides as
// independent, which makes their p-values conservative (the overlap pulls
// the sides together). kSegment compares with another segment as given;
// members of both count on both sides (reported as base_overlap).
//
// Chart buckets: numeric attributes get `numeric_bins` equal-width bins
// between the pooled 1st and 99th percentiles (values beyond fall into the
// end bins, so one outlier cannot squeeze the chart), or one bucket per value
// when the pooled data have at most `numeric_bins` distinct values (counts,
// ratings); categorical attributes list the top_categories categories with
// the largest share on either side, the rest summed as "(other)".
//
// Thread-safety: ComputeDifferentiators is a pure function of its inputs and
// may be called from many threads; it spreads attributes over its own
// worker threads. Deterministic: the result does not depend on `threads`.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "insight/customer_attributes.h"
#include "segment/customer_set.h"

namespace cdp {

enum class DifferentiatorBase {
  kRestOfCustomers,  // customers not in the segment (default)
  kAllCustomers,     // every customer, the segment included
  kSegment,          // DifferentiatorOptions::base_segment
};

struct DifferentiatorOptions {
  DifferentiatorBase base = DifferentiatorBase::kRestOfCustomers;
  const CustomerSet* base_segment = nullptr;  // required for kSegment, else ignored
  std::string base_name;                      // for display; "" = "rest of customers" / "all customers" / "base segment"
  std::vector<std::string> attributes;        // names (CustomerAttributes::Find); empty = every attribute
  int numeric_bins = 10;    // chart bins, 2..50
  int top_categories = 8;   // chart categories, 1..50
  int threads = 0;          // 0 = one per core, else 1..256
};

// One chart bucket with both sides' counts and shares (of each side's
// customers, missing included, so a side's shares sum to 1).
struct DistributionBucket {
  std::string label;  // "Gold", "(other)", "(missing)", "40 - 50", "3"
  double low = std::numeric_limits<double>::quiet_NaN();  // numeric: [low, high)
  double high = std::numeric_limits<double>::quiet_NaN();
  uint64_t segment_count = 0;
  uint64_t base_count = 0;
  double segment_share = 0;
  double base_share = 0;
};

struct AttributeDifference {
  std::string attribute;  // CustomerAttribute::name
  std::string entity, field;
  AttributeKind kind = AttributeKind::kNumeric;
  bool is_date = false;
  double score = 0;            // [0, 1], see the header comment; the ranking key
  std::string summary;         // "Income: mean 92,400 vs 61,300 (+51%)", "LoyaltyTier: Gold 41% vs 12%"
  uint64_t segment_present = 0, base_present = 0;  // customers with a value
  double segment_missing_share = 0, base_missing_share = 0;
  // Numeric (NaN for categorical, or when a side has no values).
  double segment_mean = std::numeric_limits<double>::quiet_NaN();
  double base_mean = std::numeric_limits<double>::quiet_NaN();
  double segment_median = std::numeric_limits<double>::quiet_NaN();
  double base_median = std::numeric_limits<double>::quiet_NaN();
  double cohens_d = std::numeric_limits<double>::quiet_NaN();  // (mean_seg - mean_base) / pooled SD; 0 when SD is 0
  double ks_d = std::numeric_limits<double>::quiet_NaN();      // on present values
  double ks_p_value = std::numeric_limits<double>::quiet_NaN();
  // Categorical (NaN / 0 for numeric).
  double js_divergence = std::numeric_limits<double>::quiet_NaN();  // bits, on present values
  double chi_square = std::numeric_limits<double>::quiet_NaN();
  int64_t chi_square_dof = 0;
  double chi_square_p_value = std::numeric_limits<double>::quiet_NaN();
  std::vector<DistributionBucket> distribution;  // "(missing)" last when either side has missing values
};

struct DifferentiatorsResult {
  std::string base;              // "rest of customers", "all customers", or base_name
  uint64_t segment_members = 0;
  uint64_t base_members = 0;
  uint64_t base_overlap = 0;     // members in both (kAllCustomers: all of the segment)
  std::vector<AttributeDifference> attributes;  // highest score first; ties by attribute order
  // {"base","segment_members","base_members","base_overlap","attributes":[
  //  {"attribute","entity","field","kind":"numeric"|"categorical","is_date",
  //   "score","summary","segment_present","base_present",
  //   "segment_missing_share","base_missing_share", numeric: "segment_mean",
  //   "base_mean","segment_median","base_median","cohens_d","ks_d",
  //   "ks_p_value"; categorical: "js_divergence","chi_square",
  //   "chi_square_dof","chi_square_p_value"; "distribution":[{"label",
  //   ("low","high"),"segment_count","base_count","segment_share",
  //   "base_share"}]}]}. Non-finite numbers are null.
  nlohmann::ordered_json ToJson() const;
};

// InvalidArgument for: an empty segment; an empty base (e.g. a segment of
// every customer against the rest); kSegment without base_segment; a member
// of either side >= attributes.customers; an unknown name in `attributes`;
// numeric_bins, top_categories or threads out of range.
StatusOr<DifferentiatorsResult> ComputeDifferentiators(const CustomerAttributes& attributes,
                                                       const CustomerSet& segment,
                                                       const DifferentiatorOptions& options);

// The statistics on their own, for tests and other modules. `a` and `b` are
// the two samples (no NaN).
double KolmogorovSmirnovD(std::vector<double> a, std::vector<double> b);
// P(D > d) for samples of sizes n and m, asymptotically (Kolmogorov's Q at
// sqrt(n m / (n + m)) d). 1 when n or m is 0.
double KolmogorovSmirnovPValue(double d, uint64_t n, uint64_t m);
// Jensen-Shannon divergence in bits of two count vectors of one length
// (normalised inside); 0 when either sums to 0.
double JensenShannonDivergence(const std::vector<double>& p, const std::vector<double>& q);
struct ChiSquareTest {
  double statistic = 0;
  int64_t dof = 0;
  double p_value = 1;
};
// Pearson's chi-square test of independence on the 2 x K table (a[k], b[k]);
// columns empty on both sides are dropped; dof = (kept columns - 1); with
// fewer than 2 columns or an empty side: statistic 0, dof 0, p 1.
ChiSquareTest ChiSquareIndependence(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace cdp
