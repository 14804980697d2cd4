// Enrichment: the stage of the refresh that computes the project's
// `enrichments:` (config/enrichment_config.h) after activities and before
// measures, so measures, predictions and segments can use them; the stage
// source_enrichments that computes third-party enrichments before
// unification, whose columns unification joins to a source's records; and
// the one service behind `cdp enrich`, the REST API and the card.
//
// Outputs, each a new entity in the data generation, keyed by CustomerId:
// - affinity:   Enrichment_<name> long form, one row per customer and value:
//               CustomerId, Value (e.g. the brand), Score (0-100), Level
//               ("Very high" 85-100, "High" 70-84, "Medium" 35-69, "Low" 1-34), Rank;
// - engagement: one row per customer: CustomerId, EngagementScore (0-100),
//               EngagementLevel, LastActivity (date) and one column per activity
//               type with its weighted contribution;
// - third_party: one row per matched customer: CustomerId, MatchedBy (key
//               field), then the configured fields of the third-party entity;
//               before unification keyed by the source's key instead (below).
// LinkedEntities groups Enrichment_* by CustomerId like any related entity.
// Thread-safety: functions may be called from several threads on one
// workspace (the data store serialises commits).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/enrichment_config.h"
#include "config/project_config.h"
#include "workspace/stage.h"
#include "workspace/workspace.h"

namespace cdp {

// References to activities, entities and fields: InvalidArgument naming the
// enrichment and key. Before unification also: `source` must be a
// unification source and `entity` not one, two enrichments of one source may
// not write the same column, and key fields must be declared when the
// source's types are not inferred (otherwise the stage checks them against
// the ingested data).
Status ValidateEnrichments(const ProjectConfig& project);

struct EnrichmentRunOptions {
  int32_t run_date = 0;  // days since 1970-01-01 of "today" (engagement's as-of); 0 = today (UTC)
  std::function<void(double fraction, const std::string& detail)> progress;
};

struct EnrichmentReport {
  std::string name;
  std::string kind;
  std::string output_entity;
  int64_t rows = 0;
  int64_t customers = 0;       // customers with at least one row
  nlohmann::ordered_json details;  // kind-specific: affinity {"values": [{"value", "customers_high"}]},
                                   // engagement {"levels": {...}, "average"}, third_party match report
                                   // {"records", "matched_records", "matched_customers", "match_rate",
                                   //  "keys": [{"field", "matched", "ambiguous", "blank"}]}
  int64_t duration_micros = 0;
};
nlohmann::ordered_json ToJson(const EnrichmentReport& report);

// Runs the named enrichments (all when empty) now, in one new generation.
// NotFound for an unknown name; FailedPrecondition without a Customer.
StatusOr<std::vector<EnrichmentReport>> RunEnrichments(Workspace& workspace, const std::vector<std::string>& names,
                                                       const EnrichmentRunOptions& options = {});

// The project's enrichments and their outputs in the current generation:
// [{"name", "display_name", "kind", "when", "source" (before unification only), "output_entity",
//   "rows" (null until computed), "computed",
//   third party only: "match_rate" and "match": {"records", "matched_records", "match_rate",
//   "customer_coverage", "source", "source_records"} of the run that wrote the entity (null until computed)}].
// The full match report of a run is RunEnrichments' (and the refresh's stage message).
StatusOr<nlohmann::ordered_json> ListEnrichments(Workspace& workspace);

// One customer's enrichment values for the card:
// [{"name", "display_name", "kind", "values": [{"Value", "Score", "Level"}]} (affinity) |
//  {"name", ..., "values": {"EngagementScore": 72, "EngagementLevel": "High", ...}} (engagement, third party)].
// NotFound for an unknown CustomerId.
StatusOr<nlohmann::ordered_json> CustomerEnrichments(Workspace& workspace, int64_t customer_id);
// The same for a project and snapshot the caller holds (the server's served
// generation, whose customer the caller has checked): no catalog read.
StatusOr<nlohmann::ordered_json> CustomerEnrichments(Workspace& workspace, const ProjectConfig& project,
                                                     const Snapshot& snapshot, int64_t customer_id);

// The stage: after activities, before measures. Not applicable without
// enrichments after unification.
StageDescriptor EnrichmentsStage();

// Before unification (`when: before_unification`, third party only): the
// stage "source_enrichments" after ingest and before unify matches each such
// enrichment's third-party records with its source's records (the same
// matcher and report as after unification) and writes Enrichment_<name>:
// the source's key field, MatchedBy, then the copied fields, one row per
// matched record; the entity's properties keep the match counts and rate.
// A failure fails the stage (unification would read stale columns).
StageDescriptor SourceEnrichmentsStage();

// The unify stage's extra inputs: each before-unification enrichment's
// definition and output entity, so a change runs unification again.
void AddSourceEnrichmentInputs(const ProjectConfig& project, const Snapshot& snapshot, StageInputs* in);

// `table` (the records of unification source `source` in `snapshot`) with
// the columns of its before-unification enrichments joined by the source's
// key: a column named like a field of the source fills that field where it
// is null or "" (the source's own value wins); another column is added
// (null for unmatched records) with its semantic type, so unification maps
// it like a source field. `table` itself when the source has none.
// FailedPrecondition when such an enrichment has not been computed.
StatusOr<std::shared_ptr<const Table>> JoinSourceEnrichments(Workspace& workspace, const Snapshot& snapshot,
                                                             const ProjectConfig& project, const std::string& source,
                                                             std::shared_ptr<const Table> table);

}  // namespace cdp
