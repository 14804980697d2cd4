// Routes: segment insights and enrichment (issue 19). Overlap of segments,
// differentiators (a segment against all customers or another segment),
// find similar customers (an Expansion segment from a lookalike model),
// suggested segments for a target and RFM groups, the attributes the insights
// can use, a segment's member-count trend, every segment's growth since last
// week, activating and deactivating a dynamic segment; the enrichments, a run
// of them and one customer's values. Every route calls one service
// (workspace/insight_service.h, workspace/enrichment_runner.h) and renders its
// result or Status; none holds insight logic. Bodies are checked by their
// schemas (request_schemas.h) and query parameters here, before any work.
//
// Roles: reading insights needs a viewer (overlap, compare and suggest are
// POSTs for their bodies but write nothing); writing a segment (expand,
// activate, deactivate) needs a contributor; running enrichments needs the
// right to run refreshes. Writes are audited and their generation is served
// at once.
#include <cmath>
#include <cstdio>

#include "common/value_text.h"
#include "ingest/value_parser.h"
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "workspace/enrichment_runner.h"
#include "workspace/insight_service.h"

namespace cdp {
namespace {

// A number of a validated body (the schema checked its type and range).
double BodyNumber(const OJson& body, const char* field, double fallback) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) return fallback;
  return body[field].get<double>();
}
int64_t BodyInteger(const OJson& body, const char* field, int64_t fallback) {
  if (!body.is_object() || !body.contains(field) || body[field].is_null()) return fallback;
  return body[field].get<int64_t>();
}

// "YYYY-MM-DD" of a query parameter or body field as days since 1970-01-01;
// `fallback` when absent or empty; 400 naming `what` when it is not a date.
int32_t DateOr(const std::string& text, const std::string& what, int32_t fallback) {
  if (text.empty()) return fallback;
  int32_t days = 0;
  if (!ParseIsoDate(text, &days)) ThrowError(400, "invalid_value", what + " must be a calendar date YYYY-MM-DD, got '" + text + "'");
  return days;
}

// Serves the generation a write made (a new Segment_* or Enrichment_*
// entity, a changed status). A failed reload keeps serving the previous
// generation; the write itself succeeded.
void ServeNewGeneration(RouteContext& c, const char* what) {
  Status s = c.api.Reload();
  if (!s.ok()) fprintf(stderr, "reloading after %s failed: %s\n", what, s.ToString().c_str());
}

HttpResponse Compare(RouteContext& c, const std::string& segment, const std::string& base, int limit) {
  CompareRequest r;
  r.segment = segment;
  r.base = base;
  r.limit = limit;
  return JsonResponse(Unwrap(CompareSegment(c.api.workspace(), r)));
}

HttpResponse SetActive(RouteContext& c, bool active) {
  const std::string& name = c.param(0);
  Check(SetSegmentActive(c.api.workspace(), name, active));
  c.api.Audit(c, active ? "segment.activate" : "segment.deactivate", "segment:" + name, OJson::object());
  ServeNewGeneration(c, active ? "activating a segment" : "deactivating a segment");
  c.api.ResetSchedules();  // a deactivated segment's exports are skipped
  return JsonResponse({{"name", name}, {"active", active}});
}

}  // namespace

void ApiServerImpl::AddInsightRoutes() {
  // ---- segment insights ----
  router_.Add({.method = "GET", .pattern = "/api/v1/insights/attributes", .tag = "insights",
               .summary = "list the attributes the insights can use (profile fields, measures, predictions, enrichments): "
                          "name, kind (numeric or categorical) and a categorical attribute's values",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse(Unwrap(InsightAttributes(c.api.workspace()))); }});
  router_.Add({.method = "POST", .pattern = "/api/v1/insights/overlap", .tag = "insights",
               .summary = "overlap of 2 to 200 segments: shared members (count, share of each), the rest of each, "
                          "the matrix of shared counts, and an optional breakdown of the shared members by an attribute",
               .permission = Permission::kRead,
               .body = &InsightOverlapBody(),
               .handler = [](RouteContext& c) {
                 OverlapRequest r;
                 r.segments = BodyStringList(c.body, "segments");
                 r.breakdown = BodyString(c.body, "breakdown", false);
                 return JsonResponse(Unwrap(SegmentOverlap(c.api.workspace(), r)));
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/insights/compare", .tag = "insights",
               .summary = "differentiators: a difference score per attribute between a segment and all customers or "
                          "another segment, ranked, with both sides' distributions",
               .permission = Permission::kRead,
               .body = &InsightCompareBody(),
               .handler = [](RouteContext& c) {
                 return Compare(c, BodyString(c.body, "segment", true), BodyString(c.body, "base", false),
                                static_cast<int>(BodyInteger(c.body, "limit", 50)));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/differentiators", .tag = "insights",
               .summary = "differentiators of a segment (as POST /api/v1/insights/compare)",
               .permission = Permission::kRead,
               .query = {{.name = "base", .description = "rest (default: the customers outside the segment), all (every "
                                                         "customer) or another segment"},
                         {.name = "limit", .type = "integer", .description = "attributes listed (default 50, 1-1000)"}},
               .handler = [](RouteContext& c) {
                 int limit = static_cast<int>(QueryInt(c.req, "limit", 50, 1, 1000));
                 return Compare(c, c.param(0), c.req.Query("base", ""), limit);
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/insights/expand", .tag = "insights",
               .summary = "find customers similar to a segment: a classifier of the source against the pool, its quality "
                          "on held-back members (AUC against a baseline), the similarity bands and drivers; with save "
                          "(the default) the look-alikes become a segment of type expansion",
               .permission = Permission::kWriteDefinitions,
               .body = &InsightExpandBody(),
               .handler = [](RouteContext& c) {
                 ExpandRequest r;
                 r.source = BodyString(c.body, "source", true);
                 r.pool = BodyString(c.body, "pool", false);
                 r.output = BodyString(c.body, "output", false);
                 r.display_name = BodyString(c.body, "display_name", false);
                 r.share = BodyNumber(c.body, "share", r.share);
                 r.min_similarity = BodyNumber(c.body, "min_similarity", r.min_similarity);
                 r.include_source = BodyBool(c.body, "include_source", r.include_source);
                 r.save = BodyBool(c.body, "save", r.save);
                 r.seed = static_cast<uint64_t>(BodyInteger(c.body, "seed", static_cast<int64_t>(r.seed)));
                 OJson result = Unwrap(ExpandSegment(c.api.workspace(), r));
                 if (r.save) {
                   ServeNewGeneration(c, "saving an expansion segment");
                   c.api.ResetSchedules();
                   c.api.Audit(c, "segment.expand", "segment:" + result.value("segment", r.output),
                               {{"source", r.source}, {"pool", r.pool}, {"members", result.value("members", OJson(nullptr))}});
                 }
                 return JsonResponse(result);
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/insights/suggest", .tag = "insights",
               .summary = "suggested segments for a target (a numeric attribute, or a categorical one with at most 10 "
                          "values): groups as rules, with size, target average or share against the population, lift, "
                          "and a definition ready to save",
               .permission = Permission::kRead,
               .body = &InsightSuggestBody(),
               .handler = [](RouteContext& c) {
                 SuggestRequest r;
                 r.target = BodyString(c.body, "target", true);
                 r.value = BodyString(c.body, "value", false);
                 r.min_lift = BodyNumber(c.body, "min_lift", r.min_lift);
                 r.min_share = BodyNumber(c.body, "min_share", r.min_share);
                 r.max_suggestions = static_cast<int>(BodyInteger(c.body, "max_suggestions", r.max_suggestions));
                 r.profile_only = BodyBool(c.body, "profile_only", false);
                 if (c.body.contains("exclude") && c.body["exclude"].is_array()) {
                   for (const auto& x : c.body["exclude"]) r.exclude.push_back(x.get<std::string>());
                 }
                 return JsonResponse(Unwrap(SuggestSegments(c.api.workspace(), r)));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/insights/rfm", .tag = "insights",
               .summary = "RFM groups (recency, frequency, monetary quintiles of the transactions): champions, loyal, "
                          "at risk, lost ..., each with its size and, when both measures are named, a definition ready "
                          "to save",
               .permission = Permission::kRead,
               .query = {{.name = "activity", .description = "an activity whose rows are transactions (default: every "
                                                             "SalesOrder activity with an amount)", .repeated = true},
                         {.name = "last_date_measure", .description = "a measure holding each customer's last transaction (for definitions)"},
                         {.name = "frequency_measure", .description = "a measure holding each customer's transaction count (for definitions)"},
                         {.name = "as_of", .description = "the day recency is counted from, YYYY-MM-DD (default: the server's run "
                                                          "date, else the day after the last transaction)"}},
               .handler = [](RouteContext& c) {
                 RfmRequest r;
                 r.activities = c.req.QueryAll("activity");
                 if (r.activities.size() > 1000) ThrowError(400, "invalid_parameter", "parameter 'activity' may be given at most 1000 times");
                 r.last_date_measure = c.req.Query("last_date_measure", "");
                 r.frequency_measure = c.req.Query("frequency_measure", "");
                 r.run_date = DateOr(c.req.Query("as_of", ""), "parameter 'as_of'", c.api.options().run_date);
                 return JsonResponse(Unwrap(RfmSuggestions(c.api.workspace(), r)));
               }});

  // ---- segment lifecycle ----
  // /segment-growth, not /segments/growth: a segment may be named "growth".
  router_.Add({.method = "GET", .pattern = "/api/v1/segment-growth", .tag = "insights",
               .summary = "every segment's members now and a week ago, and the change (the home page's tiles)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse({{"items", Unwrap(SegmentGrowth(c.api.workspace()))}}); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/trend", .tag = "insights",
               .summary = "a segment's member count after each run within the last N days, and its growth since last week",
               .permission = Permission::kRead,
               .query = {{.name = "days", .type = "integer", .description = "the time scope in days (default 30, 1-3650)"}},
               .handler = [](RouteContext& c) {
                 int days = static_cast<int>(QueryInt(c.req, "days", 30, 1, 3650));
                 return JsonResponse(Unwrap(SegmentTrend(c.api.workspace(), c.param(0), days)));
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments/{name}/activate", .tag = "segments",
               .summary = "activate a dynamic segment: refreshes evaluate it again and its exports run (idempotent)",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) { return SetActive(c, true); }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments/{name}/deactivate", .tag = "segments",
               .summary = "deactivate a dynamic segment: it keeps its definition and last members, refreshes skip it "
                          "and so do its exports (idempotent; 409 for a static or expansion segment)",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) { return SetActive(c, false); }});

  // ---- enrichment ----
  router_.Add({.method = "GET", .pattern = "/api/v1/enrichments", .tag = "enrichments",
               .summary = "list the project's enrichments (affinity, engagement, third party) with the last run's report",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse({{"items", Unwrap(ListEnrichments(c.api.workspace()))}}); }});
  router_.Add({.method = "POST", .pattern = "/api/v1/enrichments/run", .tag = "enrichments",
               .summary = "run the named enrichments (all by default) now, in one new generation that is served at once "
                          "(may take seconds)",
               .permission = Permission::kRunRefresh,
               .body = &EnrichmentRunBody(), .body_optional = true,
               .handler = [](RouteContext& c) {
                 EnrichmentRunOptions o;
                 o.run_date = c.api.options().run_date;
                 if (c.body.is_object() && c.body.contains("as_of") && c.body["as_of"].is_string()) {
                   o.run_date = DateOr(c.body["as_of"].get<std::string>(), "field 'as_of'", o.run_date);
                 }
                 std::vector<std::string> names = BodyStringList(c.body, "names");
                 std::vector<EnrichmentReport> reports = Unwrap(RunEnrichments(c.api.workspace(), names, o));
                 ServeNewGeneration(c, "an enrichment run");
                 OJson items = OJson::array(), audit = OJson::array();
                 for (const auto& r : reports) {
                   items.push_back(ToJson(r));
                   audit.push_back({{"name", r.name}, {"rows", r.rows}, {"customers", r.customers}});
                 }
                 c.api.Audit(c, "enrichment.run", "enrichments", {{"runs", audit}});
                 return JsonResponse({{"items", std::move(items)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/{id}/enrichments", .tag = "customers",
               .summary = "one customer's enrichment values: affinities (value, score, level), engagement score and "
                          "level, third-party attributes (also on the card)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 const std::string& text = c.param(0);
                 int64_t id = 0;
                 if (!ParseInt64(text, &id)) ThrowError(400, "invalid_parameter", "customer id '" + text + "' is not an integer CustomerId");
                 return JsonResponse({{"items", Unwrap(CustomerEnrichments(c.api.workspace(), id))}});
               }});
}

}  // namespace cdp
