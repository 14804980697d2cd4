// The Fellegi-Sunter record-linkage model (the statistics behind Splink): per
// compared attribute, m = P(level | match) and u = P(level | non-match); a pair's
// match weight is the log2 prior odds plus the sum of log2(m/u) of its levels.
// Only the model math lives here: the caller computes the comparison vectors.
// All types are thread-compatible values; const methods are thread-safe.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdp {

// One compared attribute with its ordered comparison levels, strongest first,
// e.g. name "FirstName", levels {"exact", "jaro_winkler>=0.92", "else"}. The last
// level is the catch-all "else". A null comparison (either side missing) is not a
// level: it is encoded as kFsNull and contributes nothing to the weight.
struct FsComparisonSpec {
  std::string name;
  std::vector<std::string> levels;
  // Term-frequency adjustment on level 0; level 0 must then be an exact-equality
  // level (the caller's contract: only then is "the shared value" defined).
  bool tf_exact = false;
};

inline constexpr uint8_t kFsNull = 255;
// Level indexes are 0..254, so a comparison has at most this many levels.
inline constexpr size_t kFsMaxLevels = 255;

// Comparison vectors of many pairs, row-major: pair i's level for comparison c
// is levels[i * num_comparisons + c].
struct FsPairs {
  size_t num_comparisons = 0;
  std::vector<uint8_t> levels;

  size_t size() const { return num_comparisons == 0 ? 0 : levels.size() / num_comparisons; }
  const uint8_t* pair(size_t i) const { return levels.data() + i * num_comparisons; }
  // Appends one pair; `pair_levels` must hold num_comparisons values.
  void Add(std::initializer_list<uint8_t> pair_levels) {
    assert(pair_levels.size() == num_comparisons);
    levels.insert(levels.end(), pair_levels);
  }
  void Add(const uint8_t* pair_levels) {
    levels.insert(levels.end(), pair_levels, pair_levels + num_comparisons);
  }
};

struct FsLevelParams {
  std::string label;
  double m = 0;  // P(level | match)
  double u = 0;  // P(level | non-match)
  // log2(m / u), the level's match weight in bits.
  double Weight() const;
};

struct FsComparisonParams {
  std::string name;
  std::vector<FsLevelParams> levels;
  bool tf_exact = false;
  // Floor on the term frequency used by the tf adjustment (caps its bonus).
  double tf_min_u = 1e-6;
};

struct FsModel {
  double prior = 0;  // lambda: the probability that a candidate pair is a match
  std::vector<FsComparisonParams> comparisons;
  // Training diagnostics (kept in the JSON form).
  int em_iterations = 0;
  bool converged = false;
  int64_t candidate_pairs = 0;   // pairs EM was trained on
  int64_t distinct_vectors = 0;  // distinct comparison vectors among them (what EM iterated over)

  // log2(prior / (1 - prior)).
  double PriorWeight() const;

  // Match weight in bits: PriorWeight() + the sum over non-null comparisons of
  // log2(m/u) of the pair's level. Term frequency: when comparison c has
  // tf_exact, the pair's level is 0 and tf != nullptr and tf[c] is a finite
  // value > 0 (the relative frequency of the shared value among records; NaN or
  // <= 0 means unknown), log2(u_0 / max(tf[c], tf_min_u)) is added on top, i.e.
  // the level's u is replaced by the value's frequency (Splink's tf adjustment).
  // `levels` holds comparisons.size() values, each a level index or kFsNull; an
  // out-of-range index is a caller bug (asserted) and counts as null.
  double MatchWeight(const uint8_t* levels, const double* tf = nullptr) const;

  // 2^w / (1 + 2^w), finite (0 or 1 at the extremes) for any finite w.
  static double Probability(double weight);

  // One comparison's share of a pair's match weight.
  struct Contribution {
    std::string comparison;
    std::string level;          // the level's label, or "null"
    double m = 0, u = 0;        // the level's parameters (0 for null)
    double weight = 0;          // bits added, including the tf adjustment
    double term_frequency = 0;  // > 0 when the tf adjustment applied
  };
  // One Contribution per comparison, in model order. PriorWeight() plus the sum
  // of the weights equals MatchWeight(levels, tf).
  std::vector<Contribution> Explain(const uint8_t* levels, const double* tf = nullptr) const;

  nlohmann::json ToJson() const;
  // Validates the shape (a non-empty, uniquely named list of comparisons with at
  // least two levels each), prior in (0, 1), m and u in (0, 1], tf_min_u in
  // (0, 1], and rejects unknown fields. Errors are InvalidArgument naming the
  // field, e.g. "comparisons[1].levels[0].m: must be a number in (0, 1], got 0".
  static StatusOr<FsModel> FromJson(const nlohmann::json& json);
};

struct FsTrainingOptions {
  int max_iterations = 100;
  double tolerance = 1e-6;        // stop when max |delta m| < tolerance
  double min_probability = 1e-6;  // floor for m and u (then renormalized) so no weight is +-inf
};

// Trains the model the Splink way:
//  - u: the distribution of each comparison's levels among `random_pairs` (pairs
//    of records drawn at random, almost all non-matches), nulls excluded,
//    floored at min_probability and renormalized.
//  - m: expectation-maximisation over `candidate_pairs` (the blocked pairs) with
//    u fixed and the prior FIXED at `fixed_prior` (never re-estimated). Starting
//    m: 0.9 on level 0, the remaining 0.1 halving level by level (see README).
//    EM runs on the distinct comparison vectors with their counts.
// Errors (InvalidArgument, naming the problem): empty specs, a spec without a
// name or with fewer than two levels, duplicate names, pairs whose
// num_comparisons differs from specs.size(), a level value out of range,
// fixed_prior not in (0, 1), no random pairs, a comparison that is null in every
// random pair (its u cannot be estimated), invalid options. Empty
// candidate_pairs is not an error: m keeps its starting values, converged=false.
StatusOr<FsModel> TrainFsModel(const std::vector<FsComparisonSpec>& specs, const FsPairs& random_pairs,
                               const FsPairs& candidate_pairs, double fixed_prior,
                               const FsTrainingOptions& options = {});

// The prior from strict deterministic rules: (deterministic_matches / recall) /
// candidate_pairs, clamped to [1e-9, 1 - 1e-9]. A recall outside (0, 1] is
// clamped into it (NaN counts as 1); candidate_pairs <= 0 gives 1e-9.
double EstimatePrior(int64_t deterministic_matches, int64_t candidate_pairs, double recall);

// A human-readable table: per comparison and level m, u, the Bayes factor m/u
// and the weight in bits; plus the prior and its weight.
std::string ExplainFsModel(const FsModel& model);

}  // namespace cdp
