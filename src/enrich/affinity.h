// Affinity: how much more than the average customer each customer buys (or
// views, or follows) each value of a dictionary: product brands, product
// categories, interests. Pure: the caller (workspace/enrichment_runner.h)
// resolves activities and products to value codes and writes Enrichment_*.
// Thread-safety: ComputeAffinities is a pure function; it runs its own worker
// threads (options.threads) and may be called concurrently.
//
// The statistic (chosen before any data was scored, from the level
// definitions; see "Why these settings" below):
//
//   events      customer c has n_c events (CSR rows) of positive weight,
//               event e on value v_e with weight w_e (1 per purchase, or
//               the amount); events of weight 0 are ignored.
//   share       s_cv = W_cv / W_c, c's weight on v over c's total weight.
//   population  p_v  = sum_c W_cv / sum_c W_c (pooled share of v).
//   evidence    x_cv = n_c * s_cv  (observed events on v; with weights, the
//               customer's share rescaled to its number of events, so the
//               shrinkage below is always measured in events, never in money)
//               E_cv = n_c * p_v   (events on v expected from the population)
//   raw lift    x_cv / E_cv = s_cv / p_v.
//   shrunk lift L_cv = (x_cv + a) / (E_cv + a), a = prior_strength.
//
// The shrinkage is the Gamma-Poisson model of observed-over-expected ratios:
// x_cv ~ Poisson(lambda * E_cv) with lambda ~ Gamma(a, a) (prior mean 1 = "no
// preference", a pseudo-events of prior evidence); L_cv is the posterior mean
// of lambda. References: D. Clayton and J. Kaldor, "Empirical Bayes estimates
// of age-standardized relative risks for use in disease mapping", Biometrics
// 43 (1987); W. DuMouchel, "Bayesian data mining in large frequency tables",
// The American Statistician 53 (1999), whose Gamma-Poisson shrinker ranks
// observed/expected ratios of rare pairs exactly as here. It is chosen over
// additive smoothing of the share ((x + m p)/(n + m), a Beta prior of fixed
// strength m) because the latter does not shrink the lift of rare values:
// one purchase of a brand with p = 1% gives a share of 1/(1+m), a lift of
// 1/((1+m) p) = 17 for m = 5, "Very high" from a single purchase. With the
// Gamma-Poisson form the lift of x events is at most (x + a) / a whatever p.
//
// Score (0-100) and level (the product's levels):
//   score = round(100 * ln(L) / ln(full_score_lift)), clipped to [0, 100];
//   0 = no affinity shown (L <= ~1: the customer buys v no more than
//   average). Monotone in L. With full_score_lift = 5:
//     Very high 85-100  L >= 3.90     High    70-84  L >= 3.06
//     Medium    35-69   L >= 1.74     Low      1-34  L >= 1.008
//   The level is read from the rounded integer score.
//
// Why these settings (defaults, fixed a priori):
// - full_score_lift = 5: a customer buying a value five times as often as the
//   average customer is as strong a preference as the scale can say (100);
//   "Very high" starts near 4x, "High" near 3x, "Medium" near 2x, i.e.
//   each level is roughly one more multiple of the population rate; the
//   log makes equal ratios equal score steps (2x -> 43, 4x -> 86).
// - prior_strength a = 2: one event alone must never leave Low; one event of
//   any value gives L <= (1 + a)/a, which stays below Medium's 1.74 for
//   a > 1.35; a = 2 is the round value above that (L <= 1.5, score <= 25),
//   so two events of a rare value reach Medium (L ~ 2, score ~ 42), five
//   reach High (L ~ 3.4), eight Very high (L ~ 4.8). A customer with 80% of
//   15 purchases on a brand holding 10% of the market has
//   L = (12 + 2)/(1.5 + 2) = 4.0 (score 86, Very high); with 80% of 10
//   purchases L = 3.33 (High).
// - min_score = 1: every level the product defines (Low included) is shown;
//   0 (no affinity) never is. top_k = 3 keeps the card short.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

enum class AffinityLevel : uint8_t { kNone = 0, kLow, kMedium, kHigh, kVeryHigh };
// "None", "Low", "Medium", "High", "Very high".
std::string_view AffinityLevelName(AffinityLevel level);
// The level of an integer score 0..100: 0 None, 1-34 Low, 35-69 Medium,
// 70-84 High, 85-100 Very high.
AffinityLevel AffinityLevelOfScore(int score);

// Per-customer weighted events over a dictionary of values, as CSR:
// customer i's events are [offsets[i], offsets[i+1]) of `values` (and of
// `weights`). A value may repeat within a customer (one event per purchase
// line); the order of events does not matter.
struct AffinityEvents {
  std::vector<std::string> value_names;  // code -> "Contoso", "Outdoor", ...
  std::vector<int64_t> offsets;          // customers + 1 entries, offsets[0] = 0, non-decreasing
  std::vector<int32_t> values;           // value code per event, in [0, value_names.size())
  std::vector<double> weights;  // per event, finite and >= 0 (0 = ignored); empty = every event weighs 1
  int64_t customers() const { return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1; }
};

struct AffinityOptions {
  int top_k = 3;                 // values kept per customer, 1..1000
  int min_score = 1;             // scores below are not output, 1..100
  double prior_strength = 2.0;   // a, pseudo-events of "no preference", finite, 0 < a <= 1e6
  double full_score_lift = 5.0;  // shrunk lift scored 100, finite, 1 < x <= 1e6
  int high_score = 70;           // ValueAffinityStats::high_customers counts scores >= this, 1..100
  int threads = 0;               // worker threads, <= 0 = one per core
};

// One kept affinity of one customer.
struct CustomerAffinity {
  int32_t value = -1;  // code in value_names
  int32_t score = 0;   // 1..100
  AffinityLevel level = AffinityLevel::kNone;
  double shrunk_lift = 0;  // L_cv
  double lift = 0;         // raw s_cv / p_v
  double share = 0;        // s_cv (of the customer's weight)
  int64_t events = 0;      // the customer's events on the value
};

// Population figures of one value.
struct ValueAffinityStats {
  double population_share = 0;  // p_v
  double weight = 0;            // sum of weights on v
  int64_t events = 0;           // events on v
  int64_t customers = 0;        // customers with at least one event on v
  int64_t high_customers = 0;   // customers whose score for v is >= options.high_score (kept or not)
  // Customers per level for v (index = AffinityLevel), whether or not the
  // value made their top K; [kNone] counts customers with events on v
  // whose score is 0.
  std::array<int64_t, 5> customers_per_level{};
};

struct AffinityResult {
  // CSR over customers: customer i's kept affinities are
  // [offsets[i], offsets[i+1]) of `affinities`, best first (score desc, then
  // shrunk lift desc, then value code asc), at most top_k, all >= min_score.
  std::vector<int64_t> offsets;
  std::vector<CustomerAffinity> affinities;
  std::vector<ValueAffinityStats> values;  // per value code
  int64_t customers_with_events = 0;       // customers with a positive total weight
  int64_t events = 0;
  double total_weight = 0;
};

// Scores every customer's affinity to every value it has events on and keeps
// the top K. Customers without events (or whose weights are all 0) get no
// affinities. Deterministic for a given input, whatever `threads`.
// InvalidArgument, naming the option or the input field and the value:
// an option out of range; offsets of the wrong shape (empty, offsets[0] != 0,
// decreasing, last != values.size()); a value code out of range; weights of
// a size other than 0 or values.size(), or a weight negative or not finite.
StatusOr<AffinityResult> ComputeAffinities(const AffinityEvents& events, const AffinityOptions& options);

}  // namespace cdp
