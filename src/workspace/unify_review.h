// The review queue of uncertain pairs (`cdp review`, /api/v1/unification/review):
// candidate pairs whose match probability lay in [review_min_probability,
// threshold) at the last unify (probabilistic mode), written by the unify
// stage as the entity UnificationReviewPairs, minus the pairs that already
// have an override. Accepting or rejecting a pair adds an always / never
// match override: it applies at the next unify and is a label for training.
// Thread-compatible, as Workspace.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "table/column.h"
#include "unify/unifier.h"
#include "workspace/workspace.h"

namespace cdp {

// A row of UnificationReviewPairs.
struct ReviewQueuePair {
  std::string source_a, key_a, source_b, key_b;
  double probability = 0;  // the model's match probability
  double weight = 0;       // the match weight in bits
  std::string rule;        // what scored it ("probabilistic")
};

// The pairs unify left uncertain (UnifyResult::review_pairs), in its order
// (most uncertain first).
std::vector<ReviewQueuePair> ReviewPairsOf(const UnifyResult& result);

// The UnificationReviewPairs table: SourceA, KeyA, SourceB, KeyB (strings),
// Probability, Weight (doubles), Rule (string).
std::shared_ptr<Table> ReviewPairsTable(const std::vector<ReviewQueuePair>& pairs);

struct ReviewQueue {
  int64_t total = 0;       // pairs in the queue
  int64_t decided = 0;     // review pairs that already have an override (not in the queue)
  std::vector<ReviewQueuePair> pairs;  // `limit` pairs from `offset`, in unify's order (most uncertain first)
};

// The queue of the current generation. An empty queue (total 0) before the
// first unify, in rules mode, or when no pair was uncertain. `offset` skips
// that many open pairs (a page of the queue; past the end: no pairs).
StatusOr<ReviewQueue> ListReviewQueue(Workspace& workspace, size_t limit, size_t offset = 0);

// A pair as the review page shows it: both records' values (field, text; the
// key field and empty values left out) and explain-pair's verdict
// (PairExplanationToJson, or {"error": message}).
struct ReviewPairDetail {
  std::vector<std::pair<std::string, std::string>> values_a, values_b;
  nlohmann::ordered_json explanation;
};

// Details of `pairs`, in order; the sources and the model are loaded once.
// Errors: FailedPrecondition without unification or before ingest.
StatusOr<std::vector<ReviewPairDetail>> DescribeReviewPairs(Workspace& workspace, const std::vector<ReviewQueuePair>& pairs);

struct ReviewDecision {
  int64_t override_id = 0;
  ReviewQueuePair pair;
};

// Accepts (`accept` true: always match) or rejects (never match) the pair of
// records "SOURCE:KEY" a and b by adding a match override with `note` (a
// default note names the review and the probability). InvalidArgument for a
// malformed record reference; NotFound when the pair (in either order) is not
// in the review queue (decided already, or never uncertain).
StatusOr<ReviewDecision> DecideReviewPair(Workspace& workspace, const std::string& a, const std::string& b, bool accept,
                                          const std::string& note);

}  // namespace cdp
