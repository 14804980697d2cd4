// Matcher: finds the pairs of records that are the same person. Candidate
// pairs come from blocking keys (each rule's exact conditions, plus
// configured prefix / phonetic / sorted-neighbourhood keys); a block larger
// than max_block_size is skipped with a warning naming the key value. Pairs
// are then judged by the match rules (tried in order, conditions ANDed) or by
// a Fellegi-Sunter model, and same-source pairs by that source's dedup rules.
// Not thread-safe while running; Explain is const and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "config/unify_config.h"
#include "unify/probabilistic/fellegi_sunter.h"
#include "unify/record_set.h"

namespace cdp {

// An accepted pair. `rule` indexes Matcher::rule_names(); `score` is the mean
// condition similarity (rules) or the match probability (probabilistic);
// `strength` orders pairs when an oversized cluster is split: a pair from an
// earlier rule is stronger than any from a later one, then by score.
struct MatchPair {
  RecordId a = 0;
  RecordId b = 0;
  int32_t rule = 0;
  float score = 0;
  double strength = 0;
};

struct SkippedBlock {
  std::string rule;  // rule (or "probabilistic") whose blocking key it was
  std::string key;   // the shared key value, e.g. "test@test.com"
  int64_t records = 0;
};

struct MatchStats {
  int64_t records = 0;
  int64_t candidate_pairs = 0;     // distinct pairs compared
  double reduction_ratio = 0;      // 1 - candidate_pairs / all possible pairs
  std::vector<int64_t> pairs_per_rule;  // accepted pairs, by rule_names() index
  // Pairs whose conditions held but one of the rule's own guards failed, by rule_names() index.
  std::vector<int64_t> guard_refusals_per_rule;
  std::vector<SkippedBlock> skipped_blocks;
  // Probabilistic mode with a trained model: the prior rules and the pairs
  // each accepted over all pairs (they estimate the prior; they match nothing),
  // and the distinct pairs they accepted together.
  struct PriorRule {
    std::string rule;
    int64_t pairs = 0;
  };
  std::vector<PriorRule> prior_rules;
  int64_t deterministic_prior_pairs = 0;
  // Probabilistic: labelled pairs (overrides) scored by the model, and how
  // many of them the threshold decides as labelled.
  int64_t labelled_matches = 0, labelled_matches_accepted = 0;
  int64_t labelled_non_matches = 0, labelled_non_matches_rejected = 0;
  int64_t review_pairs = 0;  // size of Matcher::review_pairs()
  double seconds_blocking = 0;
  double seconds_comparing = 0;
  double seconds_training = 0;
};

// One condition's outcome for an explained pair.
struct ConditionExplanation {
  // `field_a` when both records' attributes are the same, else
  // "field_a ~ field_b" (a condition with `other`, in the orientation shown).
  std::string field;
  std::string field_a, field_b;  // record a's and record b's attribute
  std::string compare;     // "exact", "fuzzy >= 0.80", ...
  std::string value_a, value_b;  // normalized
  // Why a value is blank although the record has one (RecordSet::BlankNote), e.g. "invalid
  // phone, fewer than 7 digits: '12-34'"; "" otherwise.
  std::string blank_a, blank_b;
  double similarity = 0;
  bool passed = false;  // a guard: true when it does not block (it holds or a value is missing)
  std::string note;     // guards: "holds", "a value is missing: no verdict", "differs: ..."
};
struct RuleExplanation {
  std::string rule;
  bool applies = true;         // false: the rule is not for this pair of sources
  std::string exception;       // non-empty when an exception blocked the rule
  bool matched = false;
  double score = 0;
  // A rule with `other` conditions: true when shown (and judged) in the
  // orientation (b, a), i.e. record b's `field` against record a's `other`.
  bool swapped = false;
  std::vector<ConditionExplanation> conditions;
  std::vector<ConditionExplanation> guards;  // the rule's own guards
  bool guard_failed = false;                 // one of them blocks the rule
};
struct PairExplanation {
  std::string record_a, record_b;
  std::vector<RuleExplanation> rules;                // rules mode and dedup rules
  std::vector<FsModel::Contribution> contributions;  // probabilistic mode
  double match_weight = 0, match_probability = 0;
  bool matched = false;
  std::string matched_by;
  // unification.guards, shown for every pair (rules and probabilistic mode);
  // `blocked_by_guard` names the first that fails (then `matched` is false).
  std::vector<ConditionExplanation> guards;
  std::string blocked_by_guard;
};

// A pair a user labelled (an always / never override): in probabilistic mode
// its EM posterior is fixed to the label, and the run scores it.
struct LabelledPair {
  RecordId a = 0, b = 0;
  bool match = false;
};

struct MatcherProgress {
  std::string_view step;  // "blocking", "comparing", "training"
  int64_t done = 0, total = 0;
};

class Matcher {
 public:
  // Compiles the rules against `records` and registers their features (call
  // records->ComputeFeatures() before Run). InvalidArgument naming the rule
  // and field for an unknown attribute, a bad normalizer or a type mismatch.
  static StatusOr<std::unique_ptr<Matcher>> Create(const UnifyConfig& config, RecordSet* records);
  ~Matcher();

  // Finds and judges candidate pairs on `threads` workers; returns the
  // accepted pairs sorted by (a, b). `model` (probabilistic mode): use this
  // trained model instead of training a new one.
  // `labels` (probabilistic mode, optional): pairs with a known verdict, used
  // in training and scored in stats().
  StatusOr<std::vector<MatchPair>> Run(int threads, const std::function<void(const MatcherProgress&)>& progress = {},
                                       const FsModel* model = nullptr,
                                       const std::vector<LabelledPair>* labels = nullptr);

  const std::vector<std::string>& rule_names() const { return rule_names_; }
  const MatchStats& stats() const { return stats_; }
  // The trained (or given) model, in probabilistic mode after Run.
  const std::optional<FsModel>& model() const { return model_; }
  // Probabilistic mode, after Run: the candidate pairs the model left
  // uncertain, with a match probability (score) in
  // [probabilistic.review_min_probability, threshold), most uncertain
  // (closest to 0.5) first, at most probabilistic.review_limit. `rule` is the
  // "probabilistic" rule, `strength` the match weight. Rules mode: empty.
  const std::vector<MatchPair>& review_pairs() const { return review_pairs_; }

  // Incremental matching (unify/incremental.h). The filter is called once per
  // Run, after blocking, with every slot's key per record (slot major; 0: no
  // key) and fills `compare` (one byte per record; left empty: all records).
  // Run then compares only the pairs with at least one marked record.
  using CompareFilter =
      std::function<void(const std::vector<std::vector<uint64_t>>& slot_keys, std::vector<uint8_t>* compare)>;
  void SetCompareFilter(CompareFilter filter) { compare_filter_ = std::move(filter); }
  // Keep the slot keys of the next Run for TakeSlotKeys (the unification state).
  void KeepSlotKeys(bool keep) { keep_slot_keys_ = keep; }
  std::vector<std::vector<uint64_t>> TakeSlotKeys() { return std::move(slot_keys_); }
  // Whether a blocking key sorts records into windows (no incremental form).
  bool HasSortedNeighbourhood() const;
  // Features whose values' frequencies adjust the model's weights.
  std::vector<int> TermFrequencyFeatures() const;
  // Uses `model` for Explain without running (explain-pair in probabilistic mode).
  void SetModel(const FsModel& model) { model_ = model; }
  // Whether a guard of unification.guards fails for the pair (both records
  // have a value and the comparison fails): such records may not share a
  // cluster. Const and thread-safe (after ComputeFeatures).
  bool Conflicts(RecordId a, RecordId b) const;
  bool HasGuards() const;  // unification.guards is not empty
  // The source whose dedup rule `rule` (a rule_names() index) is, or -1.
  int RuleSource(int rule) const;
  // Every rule's (or the model's) verdict on a pair, matched or not.
  PairExplanation Explain(RecordId a, RecordId b) const;

  struct Impl;

 private:
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> rule_names_;
  MatchStats stats_;
  std::optional<FsModel> model_;
  std::vector<MatchPair> review_pairs_;
  CompareFilter compare_filter_;
  bool keep_slot_keys_ = false;
  std::vector<std::vector<uint64_t>> slot_keys_;
};

}  // namespace cdp
