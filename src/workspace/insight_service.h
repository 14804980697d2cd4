// Segment insights: the one service behind `cdp segment overlap|compare|
// expand|suggest|trend|activate|deactivate`, the REST API (/api/v1/insights/...,
// /api/v1/segments/{name}/...) and the web UI's insights tab, "Find similar
// customers" and "Suggested segments". It reads the current generation
// (Customer, Customer_Measure, Prediction_*, Enrichment_*, Segment_*,
// UnifiedActivity), builds the customer attributes (insight/customer_attributes.h;
// predictions' explanation columns Factor<i>[Impact] left out) once per
// generation and as-of day, kept for the next call (one entry, process-wide),
// and runs the pure algorithms of insight/ (overlap.h, differentiators.h,
// lookalike.h, suggest.h, rfm.h).
//
// Errors: NotFound naming an unknown segment or attribute; FailedPrecondition
// when there is no Customer yet or a segment has never been evaluated
// ("run `cdp segment run NAME` first"); InvalidArgument naming the parameter
// and value of a bad option.
// Thread-safety: every function may be called from several threads; reads use
// one snapshot of the data store; ExpandSegment writes through the segment
// definitions service.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "segment/segment_definition.h"
#include "workspace/workspace.h"

namespace cdp {

// ---- Overlap ------------------------------------------------------------
struct OverlapRequest {
  std::vector<std::string> segments;  // 2..200 segment names (evaluated: Segment_<name> exists)
  std::string breakdown;              // optional attribute name ("LoyaltyTier", "Income") for the shared members
};
// {"segments": [{"name", "display_name", "members"}], "customers": N,
//  "pairs": [{"a", "b", "shared", "share_of_a", "share_of_b"}],
//  "matrix": [[shared counts]] (segments x segments, diagonal = members),
//  "all_shared": N (members of every segment), "rest": [{"name", "only"}],
//  "breakdown": {"attribute", "kind", "buckets": [{"label", "shared", "share"}]} (when asked)}
// plus whatever insight/overlap.h's ToJson adds.
StatusOr<nlohmann::ordered_json> SegmentOverlap(Workspace& workspace, const OverlapRequest& request);

// ---- Differentiators ----------------------------------------------------
struct CompareRequest {
  std::string segment;
  std::string base;  // "" or "rest" = the customers outside the segment; "all" = all customers; else a segment
  int limit = 50;    // attributes listed, 1..1000
};
// {"segment", "base", "segment_members", "base_members",
//  "attributes": [{"name", "entity", "field", "kind": "numeric"|"categorical", "score" (0..1, ranked high first),
//                  "statistic": {...}, "summary": "Income: mean 92,400 vs 61,300 (+51%)",
//                  "distribution": {"bins"|"categories": [...], "segment": [...], "base": [...]}}], "skipped": [...]}
// (the attribute objects are insight/differentiators.h's ToJson).
StatusOr<nlohmann::ordered_json> CompareSegment(Workspace& workspace, const CompareRequest& request);

// ---- Find similar customers (lookalike) -----------------------------------
struct ExpandRequest {
  std::string source;       // the source segment
  std::string pool;         // "" = all customers outside the source; else a segment
  std::string output;       // name of the Expansion segment to write ("" = <source>_Similar)
  std::string display_name;
  double share = 0.2;           // output size as a share of the pool, (0, 1]; ignored when min_similarity > 0
  double min_similarity = 0;    // 0 or a threshold in [0.4, 1)
  bool include_source = false;  // also list the source's members (similarity 1)
  bool save = true;             // false: preview only (nothing written)
  uint64_t seed = 1;
};
// {"segment" (the output name), "source", "pool", "saved": bool, "members": N, "pool_size",
//  "quality": {"auc", "baseline_auc", "holdout_source", "holdout_pool", "verdict": "similar means something" | ...},
//  "bands": [{"band": "very similar", "from": 0.85, "to": 1.0, "members"}...],
//  "drivers": [{"attribute", "importance"}], "preview": [{"CustomerId", "Similarity", "Band"}] (top 20)}
// When saved: a segment of type expansion (its definition records source,
// pool and options), Segment_<output> with CustomerId, Similarity, Band.
StatusOr<nlohmann::ordered_json> ExpandSegment(Workspace& workspace, const ExpandRequest& request);
// Trains the lookalike of an expansion segment's definition on the current
// data and writes its Segment_<name> (CustomerId, Similarity, Band); returns
// the member count. Called by the definitions service when an expansion
// segment's definition is saved with evaluation (`cdp apply`).
StatusOr<int64_t> WriteExpansionMembers(Workspace& workspace, const SegmentDefinition& definition);

// ---- Suggested segments --------------------------------------------------
struct SuggestRequest {
  std::string target;      // a numeric attribute ("LifetimeSpend") or a categorical one with <= 10 values
  std::string value;       // categorical target: the value whose share should be high
  double min_lift = 1.2;   // numeric: group average >= min_lift x population average
  double min_share = 0.01; // smallest group as a share of customers
  int max_suggestions = 10;
  // Rules only on Customer fields ("which profiles spend more"), not on
  // measures, predictions or enrichments; and attributes never used.
  bool profile_only = false;
  std::vector<std::string> exclude;
};
// {"target", "kind", "population": {"customers", "average"|"share"},
//  "suggestions": [{"rules_text": "Income >= 100,000 and LoyaltyTier is Gold", "size", "share",
//                   "target_average"|"target_share", "lift", "p_value",
//                   "definition": {segment definition JSON, a dynamic segment ready to save}}]}
StatusOr<nlohmann::ordered_json> SuggestSegments(Workspace& workspace, const SuggestRequest& request);
// RFM groups from the transactions (UnifiedActivity rows of `activities`,
// default every activity of type SalesOrder with an amount): insight/rfm.h's
// ToJson ({"as_of_day", "customers", "customers_with_transactions",
// "groups": [{"name", "key", "description", "size", "share", "average_spend", ...,
// "rules_text", "definition" (when the two measures are named)}]}) plus "activities".
struct RfmRequest {
  std::vector<std::string> activities;
  std::string last_date_measure;  // a measure with each customer's last transaction (for definitions)
  std::string frequency_measure;  // a measure with each customer's transaction count
  // Neither named: measures over exactly these activities are looked for in
  // the project (a max of the timestamp, a count), so the groups can be saved
  // as segments; missing ones are listed in "measures_to_add" (their JSON
  // form), or created and computed when add_measures is set
  // (RfmLastTransaction, RfmTransactions).
  bool add_measures = false;
  int32_t run_date = 0;           // recency as of this day; 0 = the day after the last transaction
};
StatusOr<nlohmann::ordered_json> RfmSuggestions(Workspace& workspace, const RfmRequest& request);

// ---- Segment lifecycle ---------------------------------------------------
// Member counts over time: {"segment", "since" (ISO day), "points": [{"at" (ISO time), "members", "run_id"}],
// "growth": {"members", "week_ago", "change", "change_pct"} (null fields when no count a week old)}.
// since_days: 1..3650 (the time scope).
StatusOr<nlohmann::ordered_json> SegmentTrend(Workspace& workspace, const std::string& segment, int since_days);
// Every segment's current members and growth since last week, for the home tiles:
// [{"name", "display_name", "type", "active", "members", "week_ago", "change"}].
StatusOr<nlohmann::ordered_json> SegmentGrowth(Workspace& workspace);
// Activate / deactivate a dynamic segment: a deactivated segment keeps its
// definition and last members but is not evaluated by refreshes or runs, and
// its exports are skipped. Idempotent. NotFound; FailedPrecondition for a
// static or expansion segment.
Status SetSegmentActive(Workspace& workspace, const std::string& segment, bool active);

// The attributes the insights can use (for the UI's pickers):
// {"customers", "attributes": [{"name", "entity", "field", "kind", "is_date", "categories": [...]
// (categorical, at most 50)}], "skipped": [...]}
StatusOr<nlohmann::ordered_json> InsightAttributes(Workspace& workspace);

}  // namespace cdp
