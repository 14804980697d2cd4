// Routes: health, OpenAPI document, metrics, the caller's identity, and the
// overview the home page shows.
#include "common/entity_names.h"
#include "segment/segment_definition.h"
#include "server/internal/api_impl.h"

namespace cdp {

void ApiServerImpl::AddSystemRoutes() {
  router_.Add({.method = "GET", .pattern = "/api/v1/health", .tag = "system",
               .summary = "check the server is up (no API key needed)",
               .permission = std::nullopt,
               .handler = [](RouteContext& c) {
                 OJson j = {{"status", "ok"},
                            {"generation", c.gen ? c.gen->generation() : 0},
                            {"customers", c.gen && c.gen->customers() ? c.gen->customers()->num_rows() : 0},
                            {"refresh_running", c.api.RefreshActive()}};
                 return JsonResponse(j);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/openapi.json", .tag = "system",
               .summary = "read this API's OpenAPI 3 document (no API key needed)",
               .permission = std::nullopt,
               .handler = [](RouteContext& c) { return JsonResponse(BuildOpenApi(c.api.router().routes(), kApiVersion)); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/metrics", .tag = "system",
               .summary = "read Prometheus metrics",
               .permission = Permission::kRead,
               .response_type = "text/plain",
               .handler = [](RouteContext& c) {
                 HttpResponse r;
                 r.content_type = "text/plain; version=0.0.4";
                 r.body = c.api.MetricsText();
                 return r;
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/me", .tag = "system",
               .summary = "read the calling key's name and role",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"id", c.principal.id}, {"name", c.principal.name},
                                      {"role", RoleName(c.principal.role)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/overview", .tag = "system",
               .summary = "read the overview: customers, sources, unification rate, last refresh, segments",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 const auto& g = *c.gen;
                 OJson j;
                 int64_t customers = g.customers() ? static_cast<int64_t>(g.customers()->num_rows()) : 0;
                 int64_t source_rows = 0, profile_rows = 0;
                 OJson sources = OJson::array();
                 for (const auto& s : g.project().sources) {
                   auto shape = g.EntityShape(s.name);
                   int64_t rows = shape.ok() ? static_cast<int64_t>(shape->second) : 0;
                   source_rows += rows;
                   bool profile = false;
                   for (const auto& u : g.project().unification.sources) profile |= u.source == s.name;
                   if (profile) profile_rows += rows;
                   sources.push_back({{"name", s.name}, {"rows", rows}, {"profile", profile}});
                 }
                 j["customers"] = customers;
                 j["source_records"] = source_rows;
                 j["profile_records"] = profile_rows;
                 j["unification_rate"] = profile_rows > 0 ? 1.0 - static_cast<double>(customers) / profile_rows : 0.0;
                 j["sources"] = sources;
                 j["generation"] = g.generation();
                 auto runs = c.api.workspace().catalog().ListRuns(50);
                 j["last_run"] = nullptr;
                 if (runs.ok()) {
                   for (const auto& r : *runs) {
                     if (r.kind == "refresh") {
                       j["last_run"] = RunJson(r);
                       break;
                     }
                   }
                 }
                 OJson segs = OJson::array();
                 auto list = c.api.workspace().catalog().ListSegments();
                 if (list.ok()) {
                   for (const auto& s : *list) {
                     auto it = g.segment_members().find(s.name);
                     OJson hist = OJson::array();
                     auto h = c.api.workspace().catalog().SegmentHistory(s.name, 30);
                     if (h.ok()) {
                       for (const auto& e : *h) {
                         hist.push_back({{"run_id", e.run_id}, {"members", e.members}, {"evaluated_at", IsoTime(e.evaluated_at)}});
                       }
                     }
                     // The tile shows the display name (the name when there is none).
                     auto def = ParseStoredSegmentJson(s.definition_json);
                     std::string display = def.ok() ? def->display_name : "";
                     segs.push_back({{"name", s.name}, {"display_name", display.empty() ? s.name : display}, {"status", s.status},
                                     {"members", it == g.segment_members().end() ? OJson(nullptr) : OJson(it->second.size())},
                                     {"history", hist}});
                   }
                 }
                 j["segments"] = segs;
                 j["refresh_running"] = c.api.RefreshActive();
                 return JsonResponse(j);
               }});
}

}  // namespace cdp
