// Segment insights: the one service behind `cdp segment overlap|compare|
// expand|suggest|trend|activate|deactivate`, the REST API (/api/v1/insights/...,
// /api/v1/segments/{name}/...) and the web UI's insights tab, "Find similar
// customers" and "Suggested segments". It reads the current generation
// (Customer, Customer_Measure, Prediction_*, Enrichment_*, Segment_*,
// UnifiedActivity), builds the customer attributes once per call
// (insight/customer_attributes.h) and runs the pure algorithms of insight/
// (overlap.h, differentiators.h, lookalike.h, suggest.h, rfm.h).
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
  std::string base;  // "" = all customers; else another segment's name
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

// ---- Suggested segments --------------------------------------------------
struct SuggestRequest {
  std::string target;      // a numeric attribute ("LifetimeSpend") or a categorical one with <= 10 values
  std::string value;       // categorical target: the value whose share should be high
  double min_lift = 1.2;   // numeric: group average >= min_lift x population average
  double min_share = 0.01; // smallest group as a share of customers
  int max_suggestions = 10;
};
// {"target", "kind", "population": {"customers", "average"|"share"},
//  "suggestions": [{"rules_text": "Income >= 100,000 and LoyaltyTier is Gold", "size", "share",
//                   "target_average"|"target_share", "lift", "p_value",
//                   "definition": {segment definition JSON, a dynamic segment ready to save}}]}
StatusOr<nlohmann::ordered_json> SuggestSegments(Workspace& workspace, const SuggestRequest& request);
// RFM groups from the transactions (UnifiedActivity rows with an amount):
// {"as_of", "customers_with_transactions",
//  "groups": [{"name": "Champions", "description", "size", "share", "average_spend", "recency_days",
//              "frequency", "definition": {...} (when the group is expressible as a segment)}]}
StatusOr<nlohmann::ordered_json> RfmSuggestions(Workspace& workspace, int32_t run_date = 0);

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
// [{"name", "entity", "field", "kind", "categories": [...] (categorical, at most 50)}], "skipped": [...]
StatusOr<nlohmann::ordered_json> InsightAttributes(Workspace& workspace);

}  // namespace cdp
