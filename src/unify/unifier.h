// Unify: map -> deduplicate -> match -> merge, in memory. Takes the profile
// sources' tables and the unification config, and produces the Customer
// entity (one row per person, CustomerId stable across runs), the lineage
// (CustomerSourceKeys), the accepted match pairs (ConflationMatchPairs) and
// each source's deduplication output, with statistics. Thread-compatible;
// runs on options.threads workers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/entity_names.h"
#include "common/status.h"
#include "config/unify_config.h"
#include "table/column.h"
#include "unify/clustering.h"
#include "unify/incremental.h"
#include "unify/matcher.h"
#include "unify/record_set.h"

namespace cdp {

// A user's override: these two records always / never belong to one profile.
struct MatchOverride {
  std::string source_a, key_a, source_b, key_b;
  bool always = false;
};

// CustomerIds of the previous run, by (source, key).
struct PreviousLineage {
  std::unordered_map<std::string, int64_t> id_of;  // key: source + '\x1f' + key
  int64_t max_id = 0;
  void Add(std::string_view source, std::string_view key, int64_t id);
  std::optional<int64_t> Find(std::string_view source, std::string_view key) const;
};

// A profile whose records came from several previous profiles (merge), or a
// previous profile whose records went to several profiles (split).
struct IdChange {
  std::string kind;                   // "merge" or "split"
  int64_t customer_id = 0;            // merge: the surviving id; split: the previous id
  std::vector<int64_t> other_ids;     // merge: previous ids joined; split: ids of the parts
};

struct RuleStats {
  std::string rule;
  int64_t pairs = 0;   // accepted pairs
  int64_t merges = 0;  // pairs that joined two clusters
  int64_t guard_refusals = 0;     // conditions held, but one of the rule's own guards failed (not accepted)
  int64_t blocked_by_guard = 0;   // accepted, refused in clustering by unification.guards
  int64_t blocked_by_source = 0;  // accepted, refused by one_record_per_source
  int64_t split_by_cap = 0;       // accepted, refused at max_cluster_size
};

struct UnifyStats {
  int64_t records_in = 0;
  std::vector<std::pair<std::string, int64_t>> records_per_source;
  int64_t profiles_out = 0;
  double merge_rate = 0;  // 1 - profiles_out / records_in
  int64_t dropped_unmatched = 0;  // include_all: false
  MatchStats matching;
  std::vector<RuleStats> rules;
  std::vector<ClusterSplit> cluster_splits;
  std::vector<std::string> cluster_split_examples;  // a record of each split cluster
  int64_t overrides_always = 0, overrides_never = 0, pairs_blocked_by_override = 0;
  int64_t pairs_blocked_by_guard = 0, pairs_blocked_by_source = 0, pairs_split_by_cap = 0;
  int64_t unions_too_large_to_check = 0;  // refused because the two clusters were too large to check guards
  int64_t kept_ids = 0, new_ids = 0;
  std::vector<std::pair<std::string, double>> seconds;  // per step
  IncrementalStats incremental;
  std::vector<std::string> warnings;
  std::string ToJson() const;
};

struct UnifyOptions {
  int threads = 0;
  // Matching only: no merge (the result has no tables, only stats and pairs).
  bool preview = false;
  // Probabilistic mode: score with this model instead of training.
  const FsModel* model = nullptr;
  // Incremental matching from the previous run's state (unify/incremental.h);
  // false: compare every candidate pair. The run still goes in full when the
  // previous state was made under another configuration or model, the
  // blocking has a sorted neighbourhood, or more than
  // `incremental_max_share` of the records are new, changed or removed (in
  // probabilistic mode the model is then trained again).
  bool incremental = false;
  const UnifyState* previous_state = nullptr;  // the last run's UnifyResult::state
  // Probabilistic mode: the model the previous run used (and an incremental
  // run keeps); ignored when the run goes in full.
  const FsModel* incremental_model = nullptr;
  double incremental_max_share = 0.1;
  // Fill UnifyResult::state for the next run's incremental matching.
  bool make_state = false;
  std::function<void(std::string_view step, int64_t done, int64_t total)> progress;
};

// A candidate pair the probabilistic model left uncertain (for the review
// queue): match probability in [review_min_probability, threshold).
struct ReviewPair {
  std::string source_a, key_a, source_b, key_b;
  double probability = 0;
  double weight = 0;  // match weight in bits
};

struct UnifyResult {
  UnifyStats stats;
  std::shared_ptr<Table> customers;
  std::shared_ptr<Table> source_keys;
  std::shared_ptr<Table> match_pairs;
  std::vector<std::pair<std::string, std::shared_ptr<Table>>> dedup;  // entity name, table
  std::vector<IdChange> id_changes;
  std::optional<FsModel> model;
  // Probabilistic mode: Matcher::review_pairs(), most uncertain first.
  std::vector<ReviewPair> review_pairs;
  std::optional<UnifyState> state;  // options.make_state
};

// Errors: InvalidArgument naming the source, rule and field for a mapping or
// rule problem, or an override naming a record that does not exist.
StatusOr<UnifyResult> Unify(const UnifyConfig& config, const std::vector<std::shared_ptr<const Table>>& tables,
                            const std::vector<MatchOverride>& overrides, const PreviousLineage& previous,
                            const UnifyOptions& options);

// Explains one pair of records (every rule's verdict, or the model's), for
// `cdp explain-pair`: builds the record set of the two sources only.
StatusOr<PairExplanation> ExplainRecordPair(const UnifyConfig& config,
                                            const std::vector<std::shared_ptr<const Table>>& tables,
                                            const std::string& source_a, const std::string& key_a,
                                            const std::string& source_b, const std::string& key_b,
                                            const FsModel* model);

}  // namespace cdp
