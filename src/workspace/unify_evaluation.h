// Evaluation of a workspace's unification against a known truth (`cdp unify
// evaluate`, POST /api/v1/unification/evaluate, bench/unify_accuracy): the
// truth is a CSV (source,key,entity) naming the true entity of each record;
// the result is pairwise, B-cubed and exact-cluster precision/recall/F1, the
// largest profiles, and the worst false merges and misses with their explain.
// ScoreClustering is pure and thread-safe; the workspace functions read the
// current generation (thread-compatible, as Workspace).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "workspace/workspace.h"

namespace cdp {

// One record's predicted cluster (profile) and true entity, as integers.
struct LabelledRecord {
  int64_t predicted = 0;
  int64_t truth = 0;
};

// Scores of a clustering against the truth (docs/unification-evaluation.md).
struct ClusteringScore {
  int64_t records = 0;
  int64_t predicted_clusters = 0, true_clusters = 0;
  // Pairwise, over unordered record pairs (a cluster of n holds n(n-1)/2):
  // tp = pairs together in both, fp = together only in the prediction,
  // fn = together only in the truth. precision = tp/(tp+fp) and recall =
  // tp/(tp+fn), each 1 when its denominator is 0; f1 their harmonic mean.
  int64_t predicted_pairs = 0, true_pairs = 0, tp = 0, fp = 0, fn = 0;
  double precision = 1, recall = 1, f1 = 1;
  // B-cubed: per record r with predicted cluster C and true cluster T,
  // precision_r = |C∩T|/|C| and recall_r = |C∩T|/|T|, averaged over records.
  double bcubed_precision = 1, bcubed_recall = 1, bcubed_f1 = 1;
  // Exact clusters: predicted clusters whose records are exactly one true
  // entity's records. precision = exact/predicted_clusters, recall =
  // exact/true_clusters.
  int64_t exact_clusters = 0;
  double cluster_precision = 1, cluster_recall = 1, cluster_f1 = 1;
};

// Scores `records` (one entry per record; ids are opaque). A record without
// a predicted cluster should be given an id of its own (a singleton).
ClusteringScore ScoreClustering(const std::vector<LabelledRecord>& records);

// One truth row.
struct TruthRecord {
  std::string source, key, entity;
  int64_t line = 0;  // line in the truth file (header = 1)
};

// Limits of a truth file.
inline constexpr int64_t kMaxTruthRecords = 20'000'000;
inline constexpr size_t kMaxTruthTextBytes = size_t{64} << 20;  // text given to EvaluateUnificationText

// Reads a truth CSV: a header naming source, key and entity (any order, other
// columns ignored), one record per line. InvalidArgument naming
// `display_name`, the line and the field for a missing column, a short row,
// an empty value or a malformed row; more than kMaxTruthRecords rows is an
// error too. Duplicates are checked by EvaluateUnification.
StatusOr<std::vector<TruthRecord>> ReadTruthCsv(const std::string& path, const std::string& display_name);

struct EvaluationOptions {
  int samples = 5;  // largest clusters, false merges and misses listed (each)
  std::string truth_name = "truth";  // names the truth in errors ("truth:12: ...")
};

// A predicted profile: its size and how many true entities it holds.
struct EvaluatedCluster {
  int64_t customer_id = 0;
  int64_t records = 0;
  int64_t true_entities = 0;
  int64_t false_pairs = 0;  // pairs in it that are different entities
};

// One accepted match pair of a chain (ConflationMatchPairs).
struct ChainLink {
  std::string a, b;  // SOURCE:KEY
  std::string rule;
  double score = 0;
  std::string entity_a, entity_b;  // their true entities
};

// A profile holding several true entities: the chain of match pairs joining a
// record of its largest true entity to one of the second largest, and the
// explanation of the link where the true entity changes ("joining pair").
struct FalseMerge {
  EvaluatedCluster cluster;
  std::string entity_a, entity_b;  // the two largest true entities in it
  std::vector<ChainLink> chain;     // empty when no path of match pairs was found
  int joining_link = -1;            // index into chain
  nlohmann::ordered_json explanation;  // PairExplanationToJson of the joining pair, or {"error": ...}
};

// A true entity spread over several profiles: a record of its largest part
// and one of its second largest, with explain-pair's verdict.
struct Miss {
  std::string entity;
  int64_t records = 0, profiles = 0, missed_pairs = 0;
  std::string a, b;  // SOURCE:KEY
  int64_t customer_a = 0, customer_b = 0;
  nlohmann::ordered_json explanation;
};

struct UnifyEvaluation {
  ClusteringScore score;
  int64_t truth_rows = 0;
  int64_t records_not_in_truth = 0;   // profiled records the truth does not name (ignored)
  int64_t truth_without_profile = 0;  // truth records with no profile (dropped): scored as singletons
  // Truth records naming a key the source's stored records do not hold
  // (quarantined or filtered at ingest): scored as singletons too; the
  // first few as SOURCE:KEY (file:line). Included in truth_without_profile.
  int64_t truth_not_in_data = 0;
  std::vector<std::string> truth_not_in_data_examples;
  std::vector<EvaluatedCluster> largest_clusters;
  std::vector<FalseMerge> false_merges;  // worst first (most false pairs)
  std::vector<Miss> misses;              // worst first (most missed pairs)
};

// Evaluates the current unification (CustomerSourceKeys, ConflationMatchPairs)
// against `truth`. FailedPrecondition before the first unification or without
// a unification section; InvalidArgument naming options.truth_name and the
// line for a source that is not a unification source, a key that is not a
// record of it when no truth record is (a wrong file), or a (source,key)
// given twice (naming both lines). Truth records whose key the stored source
// does not hold (quarantined or filtered rows) and truth records without a
// profile count as singletons (both counted); profiled records the truth
// does not name are ignored (counted).
StatusOr<UnifyEvaluation> EvaluateUnification(Workspace& workspace, const std::vector<TruthRecord>& truth,
                                              const EvaluationOptions& options);

// The same from a CSV file / from CSV text (the API's body; at most
// kMaxTruthTextBytes). Errors name `display_name` and the line.
StatusOr<UnifyEvaluation> EvaluateUnificationFile(Workspace& workspace, const std::string& path,
                                                  const EvaluationOptions& options);
StatusOr<UnifyEvaluation> EvaluateUnificationText(Workspace& workspace, const std::string& csv_text,
                                                  const EvaluationOptions& options);

// {pairwise: {precision, recall, f1, tp, fp, fn, predicted_pairs, true_pairs},
//  bcubed: {precision, recall, f1}, clusters: {precision, recall, f1, exact,
//  predicted, true}, records, truth_rows, records_not_in_truth,
//  truth_without_profile, truth_not_in_data(_examples), largest_clusters: [...], false_merges: [...],
//  misses: [...]} (docs/unification-evaluation.md).
nlohmann::ordered_json UnifyEvaluationToJson(const UnifyEvaluation& e);

// The last evaluation is kept in the workspace (unify_evaluation.json) with
// the time it was made, for the UI. Save overwrites it atomically; Load is
// NotFound when no evaluation was saved.
Status SaveLastEvaluation(Workspace& workspace, const nlohmann::ordered_json& evaluation_json);
StatusOr<nlohmann::ordered_json> LoadLastEvaluation(Workspace& workspace);

}  // namespace cdp
