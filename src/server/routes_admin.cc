// Routes: refresh runs (start, status, history, cancel), schedules, API keys
// and the audit log.
#include "segment/segment_definition.h"
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "workspace/definitions.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

int64_t IdParam(const RouteContext& c, size_t i, const char* what) {
  const std::string& t = c.param(i);
  char* end = nullptr;
  long long v = strtoll(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0' || v <= 0) ThrowError(400, "invalid_parameter", std::string(what) + " id '" + t + "' is not a positive integer");
  return v;
}

OJson KeyJson(const ApiKeyInfo& k) {
  return {{"id", k.id}, {"name", k.name}, {"role", RoleName(k.role)}, {"prefix", k.prefix},
          {"created_by", k.created_by}, {"created_at", IsoTime(k.created_at)},
          {"revoked_at", k.revoked_at ? OJson(IsoTime(k.revoked_at)) : OJson(nullptr)},
          {"last_used_at", k.last_used_at ? OJson(IsoTime(k.last_used_at)) : OJson(nullptr)}};
}

// The run with `id`, or nullopt.
std::optional<RunRecord> FindRun(RouteContext& c, int64_t id) {
  auto r = c.api.workspace().catalog().GetRun(id);
  if (r.status().code() == StatusCode::kNotFound) return std::nullopt;
  return Unwrap(std::move(r));
}

void CheckCron(const std::string& what, const std::string& cron) {
  if (cron.empty()) return;
  auto p = CronSchedule::Parse(cron);
  if (!p.ok()) ThrowError(400, "invalid_schedule", what + ": " + p.status().message());
}

}  // namespace

void ApiServerImpl::AddAdminRoutes() {
  router_.Add({.method = "POST", .pattern = "/api/v1/runs", .tag = "runs",
               .summary = "start a refresh (all stages whose inputs changed; or some sources, or some segments)",
               .permission = Permission::kRunRefresh,
               .body = &RefreshRequestBody(), .body_optional = true, .success_status = 202,
               .handler = [](RouteContext& c) {
                 const OJson& body = c.body;
                 RefreshOptions o;
                 o.sources = BodyStringList(body, "sources");
                 o.segments = BodyStringList(body, "segments");
                 o.force = BodyBool(body, "force", false);
                 o.trigger = "api:" + c.principal.name;
                 for (const auto& s : o.sources) {
                   if (!c.gen->project().FindSource(s)) ThrowError(400, "invalid_parameter", "sources: '" + s + "' is not a source of the project");
                 }
                 for (const auto& s : o.segments) {
                   if (!Unwrap(c.api.workspace().catalog().GetSegment(s))) ThrowError(400, "invalid_parameter", "segments: there is no segment '" + s + "'");
                 }
                 int64_t run = Unwrap(c.api.EnqueueRefresh(o));
                 c.api.Audit(c, "run.start", run ? "run:" + std::to_string(run) : "run:queued", body);
                 return JsonResponse({{"id", run == 0 ? OJson(nullptr) : OJson(run)}, {"queued", run == 0}}, 202);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/runs", .tag = "runs",
               .summary = "list runs, newest first, with per-stage durations and row counts",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}},
               .handler = [](RouteContext& c) {
                 int limit = static_cast<int>(QueryInt(c.req, "limit", 50, 1, 1000));
                 OJson items = OJson::array();
                 for (const auto& r : Unwrap(c.api.workspace().catalog().ListRuns(limit))) items.push_back(RunJson(r));
                 return JsonResponse({{"items", items}, {"refresh_running", c.api.RefreshActive()}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/runs/{id}", .tag = "runs",
               .summary = "read a run's status, error and stages",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 int64_t id = IdParam(c, 0, "run");
                 auto r = FindRun(c, id);
                 if (!r) ThrowError(404, "not_found", "there is no run " + std::to_string(id));
                 return JsonResponse(RunJson(*r));
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/runs/{id}/cancel", .tag = "runs",
               .summary = "cancel the running refresh (it stops before its next stage)",
               .permission = Permission::kRunRefresh,
               .success_status = 202,
               .handler = [](RouteContext& c) {
                 int64_t id = IdParam(c, 0, "run");
                 auto r = FindRun(c, id);
                 if (!r) ThrowError(404, "not_found", "there is no run " + std::to_string(id));
                 Check(c.api.CancelRun(id));
                 c.api.Audit(c, "run.cancel", "run:" + std::to_string(id), OJson::object());
                 return JsonResponse({{"id", id}, {"cancelling", true}}, 202);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/schedules", .tag = "runs",
               .summary = "read the cron schedules: whole refresh, per source, per dynamic segment",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 auto project = Unwrap(c.api.workspace().catalog().LoadProject());
                 OJson sources = OJson::object(), segments = OJson::object();
                 for (const auto& s : project.sources) sources[s.name] = s.schedule;
                 for (const auto& r : Unwrap(c.api.workspace().catalog().ListSegments())) {
                   auto d = ParseStoredSegmentJson(r.definition_json);
                   if (d.ok() && d->type == SegmentType::kDynamic) segments[r.name] = d->schedule;
                 }
                 OJson jobs = OJson::array();
                 for (const auto& j : c.api.ScheduleStates()) {
                   jobs.push_back({{"name", j.name}, {"schedule", j.schedule}, {"next_at", IsoTime(j.next_at)},
                                   {"last_fired_at", j.last_fired_at > 0 ? OJson(IsoTime(j.last_fired_at)) : OJson(nullptr)},
                                   {"running", j.running}, {"skipped", j.skipped}, {"last_error", j.last_error}});
                 }
                 return JsonResponse({{"refresh", project.refresh_schedule}, {"sources", sources}, {"segments", segments},
                                      {"timezone", "UTC"}, {"active", c.api.options().run_schedules}, {"jobs", jobs}});
               }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/schedules", .tag = "runs",
               .summary = "set cron schedules (fields given are replaced; \"\" removes a schedule)",
               .permission = Permission::kWriteDefinitions,
               .body = &SchedulesBody(),
               .handler = [](RouteContext& c) {
                 const OJson& body = c.body;
                 ScheduleChange change;
                 if (body.contains("refresh")) {
                   change.refresh = BodyString(body, "refresh", false);
                   CheckCron("refresh", *change.refresh);
                 }
                 for (const char* group : {"sources", "segments"}) {
                   if (!body.contains(group)) continue;
                   if (!body[group].is_object()) ThrowError(400, "wrong_type", std::string("field '") + group + "' must be an object of NAME: \"cron\"");
                   for (const auto& [name, v] : body[group].items()) {
                     if (!v.is_string()) ThrowError(400, "wrong_type", std::string(group) + "." + name + " must be a cron string");
                     std::string cron = v.get<std::string>();
                     CheckCron(std::string(group) + "." + name, cron);
                     (std::string(group) == "sources" ? change.sources : change.segments)[name] = cron;
                   }
                 }
                 // One transaction; unknown sources and segments, and static segments, are refused.
                 Status set = SetSchedules(c.api.workspace(), change);
                 if (set.code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_parameter", set.message());
                 Check(set);
                 c.api.Audit(c, "schedules.update", "schedules", body);
                 c.api.ResetSchedules();
                 return JsonResponse({{"updated", true}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/apikeys", .tag = "admin",
               .summary = "list API keys (never their secrets)",
               .permission = Permission::kManageKeys,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::array();
                 for (const auto& k : Unwrap(c.api.keys().List())) items.push_back(KeyJson(k));
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/apikeys", .tag = "admin",
               .summary = "create an API key (its text is in this response only)",
               .permission = Permission::kManageKeys,
               .body = &ApiKeyRequestBody(), .success_status = 201,
               .handler = [](RouteContext& c) {
                 const OJson& body = c.body;
                 std::string name = BodyString(body, "name", true);
                 if (name.empty()) ThrowError(400, "invalid_parameter", "field 'name' may not be empty");
                 auto role = ParseRole(BodyString(body, "role", true));
                 if (!role.ok()) ThrowError(400, "invalid_parameter", "field 'role': " + role.status().message());
                 CreatedApiKey k = Unwrap(c.api.keys().Create(name, *role, c.actor()));
                 c.api.Audit(c, "apikey.create", "apikey:" + std::to_string(k.id), {{"name", name}, {"role", RoleName(*role)}});
                 return JsonResponse({{"id", k.id}, {"name", name}, {"role", RoleName(*role)}, {"key", k.key},
                                      {"note", "store this key now: it is not shown again"}}, 201);
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/apikeys/{id}", .tag = "admin",
               .summary = "revoke an API key",
               .permission = Permission::kManageKeys,
               .handler = [](RouteContext& c) {
                 int64_t id = IdParam(c, 0, "API key");
                 Check(c.api.keys().Revoke(id));
                 c.api.Audit(c, "apikey.revoke", "apikey:" + std::to_string(id), OJson::object());
                 return JsonResponse({{"revoked", id}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/audit", .tag = "admin",
               .summary = "read the audit log of definition changes, newest first, paged",
               .permission = Permission::kManageKeys,
               .query = {{.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 int limit = static_cast<int>(QueryInt(c.req, "limit", 50, 1, static_cast<int64_t>(c.api.options().max_page_size)));
                 int64_t before = 0;
                 if (!c.req.Query("cursor").empty()) {
                   std::string cur = c.req.Query("cursor");
                   char* end = nullptr;
                   before = cur.size() > 1 && cur[0] == 'b' ? strtoll(cur.c_str() + 1, &end, 10) : -1;
                   if (before <= 0 || *end != '\0') ThrowError(400, "invalid_cursor", "cursor '" + cur + "' is not one this server returned");
                 }
                 auto list = Unwrap(c.api.workspace().catalog().ListAudit(limit + 1, before));
                 OJson items = OJson::array();
                 for (size_t i = 0; i < list.size() && static_cast<int>(i) < limit; ++i) {
                   const auto& a = list[i];
                   OJson detail = OJson::parse(a.detail_json.empty() ? "null" : a.detail_json, nullptr, false);
                   items.push_back({{"id", a.id}, {"at", IsoTime(a.at)}, {"actor", a.actor}, {"action", a.action},
                                    {"target", a.target}, {"detail", detail.is_discarded() ? OJson(a.detail_json) : detail}});
                 }
                 OJson next = static_cast<int>(list.size()) > limit ? OJson("b" + std::to_string(list[static_cast<size_t>(limit) - 1].id)) : OJson(nullptr);
                 return JsonResponse({{"items", items}, {"next_cursor", next}});
               }});
}

}  // namespace cdp
