// The unification stage of a workspace: reads the profile sources from the
// current generation, unifies them (unify/unifier.h) with the catalog's match
// overrides and the previous run's CustomerIds, and commits Customer,
// CustomerSourceKeys, ConflationMatchPairs and the Dedup_* entities in one new
// generation. A failure leaves the previous outputs in place.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "unify/unifier.h"
#include "workspace/workspace.h"

namespace cdp {

struct UnifyRunOptions {
  int threads = 0;
  bool preview = false;  // matching only: report stats, write nothing
  // Compare every candidate pair (and, in probabilistic mode, train the model
  // again) instead of only the pairs of records that changed since the last
  // run (unify/incremental.h; the default when the last run left its state).
  bool full = false;
  // Non-zero: record the work as part of this open run (e.g. a refresh's)
  // instead of opening and finishing a run row of its own.
  int64_t run_id = 0;
  std::function<void(std::string_view step, int64_t done, int64_t total)> on_progress;
};

struct UnifyRunResult {
  int64_t run_id = 0;
  uint64_t generation = 0;  // 0 in preview mode
  UnifyStats stats;
  std::vector<IdChange> id_changes;
};

// FailedPrecondition when the project has no unification section or a
// profile source has not been ingested yet.
StatusOr<UnifyRunResult> RunUnify(Workspace& workspace, const UnifyRunOptions& options,
                                  const std::string& run_kind = "unify");

// The profile sources' tables from the current generation, in unification order, with the
// columns of the applied project's enrichments before unification joined
// (JoinSourceEnrichments, enrichment_runner.h).
StatusOr<std::vector<std::shared_ptr<const Table>>> LoadProfileSources(Workspace& workspace,
                                                                        const UnifyConfig& config);

// `cdp explain-pair`: both records' verdicts under the applied rules (and the
// newest trained model in probabilistic mode).
StatusOr<PairExplanation> ExplainPairInWorkspace(Workspace& workspace, const std::string& source_a,
                                                 const std::string& key_a, const std::string& source_b,
                                                 const std::string& key_b);

// A record reference "SOURCE:KEY" where SOURCE is one of the unification
// sources (a source name may hold ':'); InvalidArgument naming the sources.
StatusOr<std::pair<std::string, std::string>> ParseRecordRef(const UnifyConfig& config, const std::string& ref);

// The explanation as JSON (`cdp explain-pair --json` and the REST API):
// {a, b, matched, matched_by, rules: [{rule, applies, matched, score,
// conditions: [{field, compare, a, b, similarity, passed}]}], and in
// probabilistic mode comparisons, match_weight, match_probability}.
nlohmann::ordered_json PairExplanationToJson(const PairExplanation& e);

}  // namespace cdp
