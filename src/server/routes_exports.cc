// Routes: activation. Connections (settings and which secrets are set, never
// their values), the secret store (write-only), exports (definitions, runs
// now, run history) and triggers. Every route calls the export service
// (workspace/export_runner.h); none holds export logic.
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "workspace/export_runner.h"

namespace cdp {
namespace {

OJson Parsed(const std::string& text) { return OJson::parse(text); }

template <typename T>
OJson ListJson(const std::vector<T>& items) {
  OJson a = OJson::array();
  for (const auto& x : items) a.push_back(ToJson(x));
  return a;
}

// The body's export (its name from the path in a PUT): 400 naming the field
// the export parser refuses.
ExportConfig ParseExportBody(const OJson& body, const std::string& path_name) {
  OJson b = body;
  if (!path_name.empty() && !b.contains("name")) b["name"] = path_name;
  if (!b.contains("name")) ThrowError(400, "missing_field", "the body must name the export ('name')");
  // Options are text to the destination kinds: numbers and flags as written.
  if (b.contains("options") && b["options"].is_object()) {
    for (auto& [k, v] : b["options"].items()) {
      if (!v.is_string()) v = v.dump();
    }
  }
  auto e = ExportConfigFromJson(b.dump());
  if (!e.ok()) ThrowError(400, "invalid_definition", e.status().message());
  if (!path_name.empty() && e->name != path_name) {
    ThrowError(400, "invalid_definition", "the body's name '" + e->name + "' differs from the path's '" + path_name + "'");
  }
  return *std::move(e);
}

HttpResponse SaveExport(RouteContext& c, const ExportConfig& e, DefinitionWrite write) {
  Status s = PutExport(c.api.workspace(), e, write);
  if (s.code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_definition", s.message());
  Check(s);
  c.api.Audit(c, write == DefinitionWrite::kCreate ? "export.create" : "export.update", "export:" + e.name,
              Parsed(ExportConfigToJson(e)));
  c.api.ResetSchedules();  // a cron `when` is scheduled at once
  return JsonResponse(ToJson(Unwrap(GetExport(c.api.workspace(), e.name))),
                      write == DefinitionWrite::kCreate ? 201 : 200);
}

// POST .../{name}/run of an export or a trigger: runs it now (delta unless
// the body says full), audits the run and answers its report.
HttpResponse RunNow(RouteContext& c, const std::string& kind,
                    StatusOr<ExportRunReport> (*run)(Workspace&, const std::string&, const ExportRunOptions&)) {
  ExportRunOptions o;
  o.full = c.body.is_object() && c.body.contains("full") && c.body["full"].is_boolean() && c.body["full"].get<bool>();
  o.trigger = "api";
  ExportRunReport r = Unwrap(run(c.api.workspace(), c.param(0), o));
  c.api.Audit(c, kind + ".run", kind + ":" + c.param(0), {{"run", r.id}, {"status", r.status}});
  return JsonResponse(ToJson(r));
}

}  // namespace

void ApiServerImpl::AddExportRoutes() {
  router_.Add({.method = "GET", .pattern = "/api/v1/connections", .tag = "activation",
               .summary = "list the connections: kind, settings, and which secrets are set (never their values)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"items", ListJson(Unwrap(ListConnections(c.api.workspace())))}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/connections/{name}/check", .tag = "activation",
               .summary = "check a connection: resolve its secrets and reach the destination without sending data",
               .permission = Permission::kRunRefresh,
               .handler = [](RouteContext& c) {
                 return JsonResponse(ToJson(Unwrap(CheckConnection(c.api.workspace(), c.param(0)))));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/secrets", .tag = "activation",
               .summary = "list the names of the stored secrets (never their values)",
               .permission = Permission::kManageKeys,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"items", Unwrap(ListSecretNames(c.api.workspace()))}});
               }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/secrets/{name}", .tag = "activation",
               .summary = "store a secret that connections reference by name (write-only: never returned)",
               .permission = Permission::kManageKeys,
               .body = &SecretBody(),
               .handler = [](RouteContext& c) {
                 Status s = SetSecret(c.api.workspace(), c.param(0), c.body.value("value", std::string()));
                 if (s.code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_parameter", s.message());
                 Check(s);
                 c.api.Audit(c, "secret.set", "secret:" + c.param(0), OJson::object());  // never the value
                 return JsonResponse({{"stored", c.param(0)}});
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/secrets/{name}", .tag = "activation",
               .summary = "delete a stored secret",
               .permission = Permission::kManageKeys,
               .handler = [](RouteContext& c) {
                 Check(DeleteSecret(c.api.workspace(), c.param(0)));
                 c.api.Audit(c, "secret.delete", "secret:" + c.param(0), OJson::object());
                 return JsonResponse({{"deleted", c.param(0)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/exports", .tag = "activation",
               .summary = "list the exports with their last run",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"items", ListJson(Unwrap(ListExports(c.api.workspace())))}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/exports", .tag = "activation",
               .summary = "create an export (e.g. of a segment's members to a connection)",
               .permission = Permission::kWriteDefinitions,
               .body = &ExportBody(), .success_status = 201,
               .handler = [](RouteContext& c) { return SaveExport(c, ParseExportBody(c.body, ""), DefinitionWrite::kCreate); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/exports/{name}", .tag = "activation",
               .summary = "read an export with its last run",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse(ToJson(Unwrap(GetExport(c.api.workspace(), c.param(0))))); }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/exports/{name}", .tag = "activation",
               .summary = "replace an export definition",
               .permission = Permission::kWriteDefinitions,
               .body = &ExportBody(),
               .handler = [](RouteContext& c) {
                 return SaveExport(c, ParseExportBody(c.body, c.param(0)), DefinitionWrite::kUpdate);
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/exports/{name}", .tag = "activation",
               .summary = "delete an export (its run history stays)",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) {
                 Check(DeleteExport(c.api.workspace(), c.param(0)));
                 c.api.ResetSchedules();
                 c.api.Audit(c, "export.delete", "export:" + c.param(0), OJson::object());
                 return JsonResponse({{"deleted", c.param(0)}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/exports/{name}/run", .tag = "activation",
               .summary = "run an export now (delta unless full is true); a failing destination is a report with status failed",
               .permission = Permission::kRunRefresh,
               .body = &ExportRunBody(),
               .handler = [](RouteContext& c) { return RunNow(c, "export", &RunExport); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/exports/{name}/history", .tag = "activation",
               .summary = "read an export's or trigger's runs, newest first",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer", .description = "runs to return (default 20, at most 500)"}},
               .handler = [](RouteContext& c) {
                 int limit = static_cast<int>(QueryInt(c.req, "limit", 20, 1, 500));
                 return JsonResponse({{"items", ListJson(Unwrap(ExportHistory(c.api.workspace(), c.param(0), limit)))}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/triggers", .tag = "activation",
               .summary = "list the triggers (segment entry/exit, measure thresholds) with their last run",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"items", ListJson(Unwrap(ListTriggers(c.api.workspace())))}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/triggers/{name}/run", .tag = "activation",
               .summary = "compute and deliver a trigger's events now",
               .permission = Permission::kRunRefresh,
               .body = &ExportRunBody(),
               .handler = [](RouteContext& c) { return RunNow(c, "trigger", &RunTrigger); }});
}

}  // namespace cdp
