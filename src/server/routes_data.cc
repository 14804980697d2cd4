// Routes: sources and entities (schema, paged rows, quarantine), the
// unification configuration, statistics, match pairs and pair explanations,
// relationships and activity definitions.
#include <map>

#include "common/entity_names.h"
#include "common/json_scan.h"
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "table/table_json.h"
#include "unify/clustering.h"
#include "workspace/definitions.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

OJson SchemaJson(const Schema& s) {
  OJson fields = OJson::array();
  for (size_t i = 0; i < s.num_fields(); ++i) {
    const Field& f = s.field(i);
    OJson fj = {{"name", f.name}, {"type", DataTypeName(f.type)}};
    fj["semantic"] = f.semantic.empty() ? OJson(nullptr) : OJson(f.semantic.name());
    fields.push_back(fj);
  }
  return fields;
}

HttpResponse RowsPage(RouteContext& c, const std::string& entity) {
  PageRequest page = ParsePage(c.req, c.api.options().default_page_size, c.api.options().max_page_size);
  // Only the row groups of the page are read (through the generation's cache).
  const uint64_t total = Unwrap(c.gen->EntityShape(entity)).second;
  OJson items = OJson::array();
  for (const RowRef& r : Unwrap(c.gen->EntityRows(entity, page.offset, page.limit))) items.push_back(RowToJson(*r.table, r.row));
  return JsonResponse(PageJson(std::move(items), page, total));
}

// "Source:Key" with Source one of the unification sources (names may hold ':').
std::pair<std::string, std::string> RecordRef(const UnifyConfig& config, const std::string& param, const std::string& ref) {
  auto r = ParseRecordRef(config, ref);
  if (!r.ok()) ThrowError(400, "invalid_parameter", "parameter '" + param + "': " + r.status().message());
  return *std::move(r);
}

}  // namespace

void ApiServerImpl::AddDataRoutes() {
  router_.Add({.method = "GET", .pattern = "/api/v1/sources", .tag = "data",
               .summary = "list the sources with row counts, quarantined rows and their last ingest",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::array();
                 for (const auto& s : c.gen->project().sources) {
                   auto shape = c.gen->EntityShape(s.name);
                   auto q = c.gen->EntityShape(QuarantineEntityName(s.name));
                   OJson j = {{"name", s.name}, {"kind", SourceKindName(s.kind)},
                              {"rows", shape.ok() ? OJson(shape->second) : OJson(nullptr)},
                              {"quarantined", q.ok() ? q->second : 0},
                              {"schedule", s.schedule}};
                   auto last = c.api.workspace().catalog().LastSucceededIngest(s.name);
                   if (last.ok() && last->has_value()) {
                     const auto& l = **last;
                     j["last_ingest"] = {{"run_id", l.run_id}, {"status", l.status}, {"rows_read", l.rows_read},
                                         {"rows_stored", l.rows_stored}, {"rows_quarantined", l.rows_quarantined},
                                         {"finished_at", IsoTime(l.finished_at)}};
                   } else {
                     j["last_ingest"] = nullptr;
                   }
                   items.push_back(j);
                 }
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/entities", .tag = "data",
               .summary = "list the entities (sources and derived) with row counts and fields",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::array();
                 for (const auto& name : c.gen->EntityNames()) {
                   if (IsInternalEntity(name)) continue;
                   auto shape = Unwrap(c.gen->EntityShape(name));
                   items.push_back({{"name", name}, {"rows", shape.second}, {"fields", SchemaJson(shape.first)},
                                    {"source", c.gen->project().FindSource(name) != nullptr}});
                 }
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/entities/{name}/schema", .tag = "data",
               .summary = "read an entity's fields with types and semantic types",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 auto shape = Unwrap(c.gen->EntityShape(c.param(0)));
                 return JsonResponse({{"name", c.param(0)}, {"rows", shape.second}, {"fields", SchemaJson(shape.first)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/entities/{name}/rows", .tag = "data",
               .summary = "read an entity's rows, paged",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 if (IsInternalEntity(c.param(0))) ThrowError(404, "not_found", "there is no entity '" + c.param(0) + "'");
                 return RowsPage(c, c.param(0));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/entities/{name}/quarantine", .tag = "data",
               .summary = "read a source's quarantined rows with their reasons, paged",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 if (!c.gen->EntityShape(c.param(0)).ok()) ThrowError(404, "not_found", "there is no entity '" + c.param(0) + "'");
                 std::string q = QuarantineEntityName(c.param(0));
                 if (!c.gen->EntityShape(q).ok()) return JsonResponse({{"items", OJson::array()}, {"next_cursor", nullptr}, {"total", 0}});
                 return RowsPage(c, q);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification", .tag = "unification",
               .summary = "read the unification configuration (map, deduplicate, match, merge)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 auto project = Unwrap(c.api.workspace().catalog().LoadProject());
                 if (project.unification.empty()) return JsonResponse(OJson::object());
                 return HttpResponse::Json(200, UnifyConfigToJson(project.unification));
               }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/unification", .tag = "unification",
               .summary = "replace the unification configuration (applied on the next refresh)",
               .permission = Permission::kWriteDefinitions,
               .body = &UnifyConfigBody(),
               .handler = [](RouteContext& c) {
                 const std::string text = c.body.dump();
                 Status nul = ScanJson(text, {.refuse_nul_characters = true});
                 if (!nul.ok()) ThrowError(400, "invalid_definition", nul.message());
                 auto config = UnifyConfigFromJson(text);
                 if (!config.ok()) ThrowError(400, "invalid_definition", config.status().message());
                 Status set = SetUnification(c.api.workspace(), *config);
                 if (set.code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_definition", set.message());
                 Check(set);
                 c.api.Audit(c, "unification.update", "unification", c.body);
                 return HttpResponse::Json(200, UnifyConfigToJson(*config));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/stats", .tag = "unification",
               .summary = "read unification results: records in, profiles out, merge rate, pairs per rule",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 const ServingGeneration& g = *c.gen;
                 int64_t records = 0;
                 OJson sources = OJson::array();
                 for (const auto& s : g.project().unification.sources) {
                   auto shape = g.EntityShape(s.source);
                   int64_t rows = shape.ok() ? static_cast<int64_t>(shape->second) : 0;
                   records += rows;
                   sources.push_back({{"source", s.source}, {"records", rows}});
                 }
                 int64_t profiles = g.customers() ? static_cast<int64_t>(g.customers()->num_rows()) : 0;
                 // A pair is accepted when its two records ended in one
                 // profile: it merged them, or they were already together.
                 // Pairs blocked by an override or dropped by the cluster cap
                 // are not. Counts per status too, by unify's status names.
                 struct RuleCounts {
                   int64_t pairs = 0, accepted = 0;
                   std::map<std::string, int64_t> by_status;
                 };
                 std::map<std::string, RuleCounts> per_rule;
                 const Table* p = g.match_pairs().get();
                 const Column* rule_col = p ? p->ColumnByName("Rule") : nullptr;
                 const Column* status_col = p ? p->ColumnByName("Status") : nullptr;
                 for (size_t r = 0; rule_col && status_col && r < p->num_rows(); ++r) {
                   RuleCounts& e = per_rule[std::string(rule_col->StringAt(r))];
                   std::string_view status = status_col->StringAt(r);
                   ++e.pairs;
                   e.accepted += status == PairStatusName(PairStatus::kMerged) || status == PairStatusName(PairStatus::kRedundant);
                   ++e.by_status[std::string(status)];
                 }
                 OJson rules = OJson::array();
                 for (const auto& [rule, n] : per_rule) {
                   rules.push_back({{"rule", rule}, {"pairs", n.pairs}, {"accepted", n.accepted}, {"by_status", n.by_status}});
                 }
                 return JsonResponse({{"records_in", records}, {"profiles", profiles},
                                      {"merge_rate", records > 0 ? 1.0 - static_cast<double>(profiles) / records : 0.0},
                                      {"sources", sources}, {"rules", rules}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/pairs", .tag = "unification",
               .summary = "read the match pairs found by unification with rule and score, paged",
               .permission = Permission::kRead,
               .query = {{.name = "rule", .description = "only pairs of this rule"}, {.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 PageRequest page = ParsePage(c.req, c.api.options().default_page_size, c.api.options().max_page_size);
                 OJson items = OJson::array();
                 size_t total = 0;
                 if (c.gen->match_pairs()) {
                   const Table& p = *c.gen->match_pairs();
                   std::string rule = c.req.Query("rule");
                   for (size_t r = 0; r < p.num_rows(); ++r) {
                     if (!rule.empty() && p.column(5).StringAt(r) != rule) continue;
                     if (total++ < page.offset || items.size() >= page.limit) continue;
                     items.push_back({{"customer_id", p.column(0).IsNull(r) ? OJson(nullptr) : OJson(p.column(0).Int64At(r))},
                                      {"a", std::string(p.column(1).StringAt(r)) + ":" + std::string(p.column(2).StringAt(r))},
                                      {"b", std::string(p.column(3).StringAt(r)) + ":" + std::string(p.column(4).StringAt(r))},
                                      {"rule", std::string(p.column(5).StringAt(r))}, {"score", p.column(6).DoubleAt(r)},
                                      {"status", std::string(p.column(7).StringAt(r))}});
                   }
                 }
                 return JsonResponse(PageJson(std::move(items), page, total));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/explain", .tag = "unification",
               .summary = "explain whether two source records match, rule by rule and condition by condition",
               .permission = Permission::kRead,
               .query = {{.name = "a", .required = true, .description = "SOURCE:KEY"}, {.name = "b", .required = true, .description = "SOURCE:KEY"}},
               .handler = [](RouteContext& c) {
                 const UnifyConfig& u = c.gen->project().unification;
                 if (u.empty()) ThrowError(409, "failed_precondition", "the project has no unification configuration");
                 auto a = RecordRef(u, "a", c.req.Query("a"));
                 auto b = RecordRef(u, "b", c.req.Query("b"));
                 PairExplanation e = Unwrap(ExplainPairInWorkspace(c.api.workspace(), a.first, a.second, b.first, b.second));
                 return JsonResponse(PairExplanationToJson(e));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/relationships", .tag = "data",
               .summary = "list the relationships between entities",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse({{"items", OJson::parse(RelationshipsToJson(c.gen->project().relationships))}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/activities", .tag = "data",
               .summary = "list the activity definitions with the rows each contributed",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::parse(ActivitiesToJson(c.gen->project().activities));
                 // Counted once per generation from the Activity column alone.
                 auto counts = Unwrap(c.gen->ActivityNameCounts());
                 for (auto& a : items) {
                   auto n = counts->find(a.value("name", ""));
                   a["rows"] = n == counts->end() ? int64_t{0} : n->second;
                 }
                 return JsonResponse({{"items", items}});
               }});
}

}  // namespace cdp
