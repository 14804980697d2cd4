// Enrichment: the stage of the refresh that computes the project's
// `enrichments:` (config/enrichment_config.h) after activities and before
// measures, so measures, predictions and segments can use them, and the one
// service behind `cdp enrich`, the REST API and the card.
//
// Outputs, each a new entity in the data generation, keyed by CustomerId:
// - affinity:   Enrichment_<name> long form, one row per customer and value:
//               CustomerId, Value (e.g. the brand), Score (0-100), Level
//               ("Very high" 85-100, "High" 70-84, "Medium" 35-69, "Low" 1-34), Rank;
// - engagement: one row per customer: CustomerId, EngagementScore (0-100),
//               EngagementLevel, LastActivity (date) and one column per activity
//               type with its weighted contribution;
// - third_party: one row per matched customer: CustomerId, MatchedBy (key
//               field), then the configured fields of the third-party entity.
// LinkedEntities groups Enrichment_* by CustomerId like any related entity.
// Thread-safety: functions may be called from several threads on one
// workspace (the data store serialises commits).
#pragma once

#include <cstdint>
#include <functional>
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
// enrichment and key.
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
// [{"name", "display_name", "kind", "output_entity", "rows" (null until computed), "computed"}].
// The match report and counts of a run are RunEnrichments' (and the refresh's stage message).
StatusOr<nlohmann::ordered_json> ListEnrichments(Workspace& workspace);

// One customer's enrichment values for the card:
// [{"name", "display_name", "kind", "values": [{"Value", "Score", "Level"}]} (affinity) |
//  {"name", ..., "values": {"EngagementScore": 72, "EngagementLevel": "High", ...}} (engagement, third party)].
// NotFound for an unknown CustomerId.
StatusOr<nlohmann::ordered_json> CustomerEnrichments(Workspace& workspace, int64_t customer_id);

// The stage: after activities, before measures. Not applicable without enrichments.
StageDescriptor EnrichmentsStage();

}  // namespace cdp
