// The Fellegi-Sunter record-linkage model (the statistics behind Splink): per
// compared attribute, m = P(level | match) and u = P(level | non-match); a pair's
// match weight is the log2 prior odds plus the sum of log2(m/u) of its levels.
// Only the model math lives here: the caller computes the comparison vectors.
// References: Fellegi & Sunter (1969), Splink's training recipe (u from random
// pairs, m by EM per blocking rule, m from labels), and Winkler (1988, 1993)
// for the optional third latent class of pairs from one household
// (unify/probabilistic/README.md says why each was chosen).
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
  // Records with a value for this comparison when the model was trained: the
  // fixed denominator of the term frequencies (count of a value / tf_records),
  // so a stored model scores changed data with the same denominators. 0:
  // unknown (models stored before it existed); the caller then divides by the
  // current count.
  int64_t tf_records = 0;
  // Names of the training sessions whose EM estimated this comparison's m
  // (m is their average). Empty: m was not trained (hand-written or old model).
  std::vector<std::string> trained_by;
};

// One EM session: the pairs one training blocking key joins (see TrainFsModel).
struct FsSessionInfo {
  std::string name;                // the training key, e.g. "postcode" or "soundex(surname)"
  std::vector<std::string> fixed;  // comparisons not trained here (their field is in the key)
  int64_t blocked_pairs = 0;       // pairs the key joins
  int64_t pairs = 0;               // pairs EM ran on (a deterministic sample of at most the bound)
  int64_t labelled_pairs = 0;      // of which labelled (posterior fixed to 1 or 0)
  int64_t distinct_vectors = 0;
  double lambda = 0;               // the match share among the session's pairs, estimated by EM
  // With FsTrainingOptions::household_class: the share of the third class (pairs that share
  // the key but are different people, e.g. a household's phone); 0 without it. A labelled-match
  // set (FsLabelledMatches) is listed as a session named "labels(<name>)" with lambda 1, no EM
  // iterations and its pairs as labelled_pairs.
  double household_lambda = 0;
  int em_iterations = 0;
  bool converged = false;
};

// The household component of the non-match class (FitHouseholdComponent): among non-matches, a
// share `share` of pairs are two people of one household, whose comparisons in `comparisons`
// (e.g. surname, phone, address, postcode) follow `h` instead of u; every other comparison
// follows u in both parts. Such comparisons agree together, so with u alone (independence) a
// household pair collects each field's full weight; with the component their joint agreement
// counts about once (see MatchWeight).
struct FsHouseholdComponent {
  std::vector<size_t> comparisons;    // indexes into FsModel::comparisons, ascending; empty: none
  std::vector<std::vector<double>> h;  // per entry of `comparisons`: P(level | household non-match)
  double share = 0;                    // P(household | non-match) over all comparable pairs
  int64_t pairs = 0;                   // random pairs the component was fitted on
  double expected_pairs = 0;           // of which household pairs (sum of posteriors)
  int em_iterations = 0;
  bool converged = false;
  // Model selection: the random pairs' log likelihood (nats) with the component minus without it,
  // and the BIC penalty 0.5 * parameters * ln(pairs). When the gain is not above the penalty the
  // share is 0 and the component changes no score (h is kept for explain-model).
  double log_likelihood_gain = 0;
  double bic_penalty = 0;

  bool empty() const { return comparisons.empty(); }
  bool active() const { return !comparisons.empty() && share > 0; }
};

struct FsModel {
  // lambda: the probability that two records drawn from ALL comparable pairs
  // (n(n-1)/2 for n records) are a match. Blocking evidence is therefore
  // counted once, through the comparison weights. (Models stored before
  // training sessions existed hold the candidate-pair match rate here.)
  double prior = 0;
  // How the prior was estimated: "rules" (deterministic rules' matches /
  // recall / comparable pairs), "data" (EM share among the candidate pairs,
  // scaled to all pairs), or "" (unknown: a hand-written or old model).
  std::string prior_method;
  int64_t comparable_pairs = 0;  // the denominator of the prior
  double prior_matches = 0;      // rules: pairs the rules accepted; data: expected matches among candidates
  double prior_recall = 0;       // rules: the assumed recall of the rules
  std::vector<FsComparisonParams> comparisons;
  std::vector<FsSessionInfo> sessions;  // training sessions, in configuration order
  FsHouseholdComponent household;       // empty: non-matches are u alone (independence)
  // Training diagnostics (kept in the JSON form): totals over the sessions;
  // converged = every session converged.
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
  // With a household component, the non-match likelihood is (1 - share) * prod u + share *
  // prod h * (u of the other comparisons), so HouseholdWeight(levels, tf) is added on top.
  // `levels` holds comparisons.size() values, each a level index or kFsNull; an
  // out-of-range index is a caller bug (asserted) and counts as null.
  double MatchWeight(const uint8_t* levels, const double* tf = nullptr) const;

  // 2^w / (1 + 2^w), finite (0 or 1 at the extremes) for any finite w.
  static double Probability(double weight);

  // The household correction in bits, -log2(1 - share + share * prod over the pair's non-null
  // household comparisons of h / u), where u of an exact level 0 with a term frequency is that
  // frequency (as in MatchWeight). 0 without a component or when those comparisons are all null;
  // about -log2(share * prod h/u) for a pair that agrees like a household: the fields' joint
  // agreement then weighs about log2(prod m / (share * prod h)), once, instead of the sum of
  // their weights. Never above -log2(1 - share).
  double HouseholdWeight(const uint8_t* levels, const double* tf = nullptr) const;

  // One comparison's share of a pair's match weight.
  struct Contribution {
    std::string comparison;
    std::string level;          // the level's label, or "null"
    double m = 0, u = 0;        // the level's parameters (0 for null)
    double weight = 0;          // bits added, including the tf adjustment
    double term_frequency = 0;  // > 0 when the tf adjustment applied
  };
  // One Contribution per comparison, in model order, then with an active household component one more,
  // comparison "household(<names joined by +>)", level "correction", m and u 0, weight
  // HouseholdWeight(levels, tf). PriorWeight() plus the sum of the weights equals
  // MatchWeight(levels, tf).
  std::vector<Contribution> Explain(const uint8_t* levels, const double* tf = nullptr) const;

  // The JSON form (stored with each run, printed by `cdp explain-model --json`):
  //   {"prior": p, "prior_method": "rules"|"data", "comparable_pairs": n,
  //    "prior_matches": x, "prior_recall": r,
  //    "comparisons": [{"name", "tf_exact", "tf_min_u", "tf_records",
  //                     "trained_by": [session names],
  //                     "levels": [{"label", "m", "u", "bayes_factor", "weight"}]}],
  //    "sessions": [{"name", "fixed": [comparison names], "blocked_pairs",
  //                  "pairs", "labelled_pairs", "distinct_vectors", "lambda",
  //                  "household_lambda" (optional), "em_iterations", "converged"}],
  //    "household" (optional): {"comparisons": [{"name", "h": [per level]}], "share", "pairs",
  //                             "expected_pairs", "em_iterations", "converged",
  //                             "log_likelihood_gain", "bic_penalty"},
  //    "prior_weight", "em_iterations", "converged", "candidate_pairs",
  //    "distinct_vectors"}
  // "bayes_factor" (m/u), "weight" (log2 m/u, bits) and "prior_weight" are
  // derived, written for readers (the UI's chart) and ignored when read.
  nlohmann::json ToJson() const;
  // Validates the shape (a non-empty, uniquely named list of comparisons with at
  // least two levels each), prior in (0, 1), m and u in (0, 1], tf_min_u in
  // (0, 1], and rejects unknown fields. Every field added after the first
  // version (prior_method ... sessions, tf_records, trained_by, the derived
  // ones) is optional, so models stored earlier still load. Errors are
  // InvalidArgument naming the field, e.g.
  // "comparisons[1].levels[0].m: must be a number in (0, 1], got 0".
  static StatusOr<FsModel> FromJson(const nlohmann::json& json);
};

struct FsTrainingOptions {
  int max_iterations = 100;
  double tolerance = 1e-6;        // stop when max |delta m| and |delta lambda| < tolerance
  double min_probability = 1e-6;  // floor for m and u (then renormalized) so no weight is +-inf
  // A third latent class in every session's EM (Winkler 1988/1993: matches, non-matches of the
  // same household, other non-matches): pairs that share the session's key but are different
  // people, with their own level distribution h (free, like m) and share. Without it a phone or
  // e-mail session has only "match" (m) and "random pair" (u) to explain its pairs, and household
  // members sharing the phone, surname and address are far from random, so EM puts them in the
  // match class and m learns "same household" (first name and birth date disagreeing often).
  // h and its share are used in training only; scoring stays m/u. Off by default: a free third
  // class can also take duplicates with a typo or a wrong value (see the README).
  bool household_class = false;
  // A labelled-match set estimates a comparison only when at least this many of its pairs have
  // a value for it (fewer would give a noisy m).
  int64_t min_labelled_pairs = 50;
};

// Pairs known to be matches, e.g. those a strict deterministic rule accepts (Splink's "estimate
// m from labels"). For every comparison not in `fixed`, m is estimated as the distribution of its
// levels among these pairs (nulls excluded) and averaged with the sessions' EM estimates. `fixed`
// holds the comparisons whose fields the rule uses: the rule chose its pairs by them, so their
// levels among these pairs say nothing about m.
struct FsLabelledMatches {
  std::string name;         // e.g. the rule's name
  std::vector<bool> fixed;  // per comparison (specs order); empty: nothing fixed
  FsPairs pairs;
};

// The pairs of one training blocking key.
struct FsTrainingSession {
  std::string name;
  // Per comparison (specs order): true when the key uses the comparison's
  // field, so the comparison is neither in the E step nor estimated here.
  // Empty: nothing fixed.
  std::vector<bool> fixed;
  FsPairs pairs;                // unlabelled pairs
  FsPairs labelled;             // labelled pairs (user overrides), and
  std::vector<bool> labels;     // their labels: true = match, false = non-match
  int64_t blocked_pairs = 0;    // pairs the key joins before sampling (diagnostic)
};

// Trains the model the Splink way:
//  - u: the distribution of each comparison's levels among `random_pairs` (pairs
//    of records drawn at random, almost all non-matches), nulls excluded,
//    floored at min_probability and renormalized.
//  - m: one expectation-maximisation per session, over the session's pairs,
//    with u fixed, the session's own match share lambda_s free, and the
//    session's fixed comparisons left out of both steps (with
//    options.household_class, a third class with its own free distribution h
//    and share takes the pairs that share the key but are other people). A labelled pair's
//    posterior is its label (1 or 0) in every iteration. Starting m: 0.9 on
//    level 0, the remaining 0.1 halving level by level; starting lambda_s:
//    prior * comparable_pairs / blocked_pairs clamped to [1e-4, 0.5] when
//    prior > 0, else 0.01. A comparison's m is the average over the sessions
//    that trained it (had it active and at least one pair non-null on it).
//  - prior: `prior` (the all-pairs prior, e.g. from EstimatePrior) with the
//    `prior_*` diagnostics copied from `prior_info`; prior 0 means the caller
//    estimates it afterwards with EstimatePriorFromPairs.
// Errors (InvalidArgument, naming the problem): empty specs, a spec without a
// name or with fewer than two levels, duplicate names, pairs whose
// num_comparisons differs from specs.size(), a level value out of range,
// prior not in [0, 1), no random pairs, a comparison that is null in every
// random pair (its u cannot be estimated), no sessions, a session whose
// `fixed` has the wrong size or fixes every comparison, labels not matching
// the labelled pairs, a comparison no session trains (naming it and the
// sessions that fixed it, and telling the user to add a training key on
// other fields), invalid options.
//  - labelled matches (optional): each set with at least options.min_labelled_pairs non-null
//    pairs on a comparison it does not fix is one more estimate of that comparison's m (the
//    level distribution among its pairs), averaged with the sessions' on an equal footing; it is
//    listed in `sessions` as "labels(<name>)" and in trained_by under that name. Errors: a set
//    whose `fixed` has the wrong size or whose pairs do not fit the specs.
StatusOr<FsModel> TrainFsModel(const std::vector<FsComparisonSpec>& specs, const FsPairs& random_pairs,
                               const std::vector<FsTrainingSession>& sessions, double prior,
                               const FsModel& prior_info = {}, const FsTrainingOptions& options = {},
                               const std::vector<FsLabelledMatches>& labelled_matches = {});

// The prior from strict deterministic rules (Splink's
// estimate_probability_two_random_records_match):
// (deterministic_matches / recall) / comparable_pairs, clamped to
// [1e-9, 1 - 1e-9]. `comparable_pairs` counts all pairs the model judges (not
// only the blocked ones). A recall outside (0, 1] is clamped into it (NaN
// counts as 1); comparable_pairs <= 0 gives 1e-9.
double EstimatePrior(int64_t deterministic_matches, int64_t comparable_pairs, double recall);

// The prior from the data: with the model's m and u fixed, EM estimates the
// match share among `candidate_pairs` (one free parameter, a concave
// likelihood, so the start does not matter), and the expected matches
// (share * candidate pairs) are divided by `comparable_pairs`. Blocking is
// assumed to find every match (its recall is taken as 1). Sets model->prior
// (clamped to [1e-9, 1 - 1e-9]), prior_method "data", comparable_pairs and
// prior_matches. InvalidArgument when the pairs do not fit the model or there
// are none, or comparable_pairs < candidate pairs.
Status EstimatePriorFromPairs(const FsPairs& candidate_pairs, int64_t comparable_pairs, FsModel* model);

// Fits the household component of the non-match class (model->household) on `random_pairs`
// (the pairs u was estimated from), for the comparisons `household` (indexes into
// model->comparisons, at least two, no duplicates). A latent class model with three classes over
// every comparison (Winkler 1988/1993's household class; Thibaudeau 1993 on dependence among
// non-matches): matches with share model->prior and distribution m (both fixed), household
// non-matches with share (1 - prior) * share and h on the household comparisons, u on the others
// (share and h free), and other non-matches with u (fixed). Random pairs hold the households at
// their true rate, so unlike blocked pairs they identify the share over all comparable pairs;
// the fixed match class keeps the matches among them (same household keys AND same person) out
// of h. Start: share 1e-3, h = 0.9 on level 0 halving over the other levels; EM until max |delta
// h| < options.tolerance and |delta share| < options.tolerance * share, at most
// options.max_iterations (x10: the class is small and moves slowly); h is floored at
// options.min_probability; the share is kept in [1e-12, 0.5]. Then BIC model selection: unless
// the log likelihood gain over share 0 exceeds 0.5 * (1 + sum of (levels - 1)) * ln(pairs), the
// share is set to 0 (no correction). Deterministic (distinct vectors in sorted order). The model needs prior in (0, 1) and its m and u. InvalidArgument: fewer than two
// comparisons or an index out of range or repeated, pairs that do not fit the model, no pairs.
Status FitHouseholdComponent(const FsPairs& random_pairs, const std::vector<size_t>& household, FsModel* model,
                             const FsTrainingOptions& options = {});

// A human-readable table: the prior (value, weight, how estimated), the
// training sessions (pairs, lambda, EM iterations, fixed comparisons) and per
// comparison and level m, u, the Bayes factor m/u, the weight in bits and the
// sessions that trained it.
std::string ExplainFsModel(const FsModel& model);

}  // namespace cdp
