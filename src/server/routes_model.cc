// Routes: measures (definitions, values, histogram) and segments
// (definitions, quick create, estimate, run, members, export, history,
// inspection).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "common/entity_names.h"
#include "common/json_scan.h"
#include "segment/segment_definition.h"
#include "segment/segment_operators.h"
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "table/table_json.h"
#include "workspace/definitions.h"
#include "workspace/measure_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

const MeasureConfig* FindMeasure(const ProjectConfig& p, const std::string& name) {
  for (const auto& m : p.measures) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

OJson MeasureJson(const MeasureConfig& m) {
  OJson arr = OJson::parse(MeasuresToJson({m}));
  return arr.at(0);
}

MeasureConfig ParseMeasureBody(const OJson& body) {
  const std::string text = body.dump();
  Status nul = ScanJson(text, {.refuse_nul_characters = true});
  if (!nul.ok()) ThrowError(400, "invalid_definition", nul.message());
  auto parsed = MeasuresFromJson("[" + text + "]");
  if (!parsed.ok()) ThrowError(400, "invalid_definition", parsed.status().message());
  if (parsed->size() != 1) ThrowError(400, "invalid_definition", "the body must be one measure definition");
  MeasureConfig m = std::move(parsed->front());
  if (m.name.empty()) ThrowError(400, "missing_field", "field 'name' is required");
  return m;
}

// Saves a measure through the definitions service (validated with the whole
// project, one transaction) and queues a refresh that computes it: the queue
// keeps it from racing a running refresh for the data store.
HttpResponse SaveMeasureAndRespond(RouteContext& c, const MeasureConfig& m, DefinitionWrite write, const OJson& body) {
  DefinitionOptions options;
  options.evaluate = false;
  MeasureChange change = Unwrap(SaveMeasure(c.api.workspace(), m, write, options));
  c.api.Audit(c, write == DefinitionWrite::kCreate ? "measure.create" : "measure.update", "measure:" + m.name, body);
  OJson j = MeasureJson(change.measure);
  RefreshOptions o;
  o.trigger = "api";
  auto run = c.api.EnqueueRefresh(o);
  j["run_id"] = run.ok() && *run != 0 ? OJson(*run) : OJson(nullptr);
  return JsonResponse(j, write == DefinitionWrite::kCreate ? 201 : 200);
}

OJson ProblemsJson(const std::vector<SegmentProblem>& problems) {
  OJson out = OJson::array();
  for (const auto& p : problems) out.push_back({{"path", p.path}, {"message", p.message}});
  return out;
}

OJson SegmentRecordJson(const SegmentRecord& r, const ServingGeneration& g) {
  OJson j = {{"name", r.name}, {"status", r.status}, {"created_at", IsoTime(r.created_at)}, {"updated_at", IsoTime(r.updated_at)}};
  OJson def = OJson::parse(r.definition_json, nullptr, false);
  j["type"] = def.is_object() ? def.value("type", "dynamic") : "dynamic";
  j["display_name"] = def.is_object() ? def.value("display_name", "") : "";
  j["description"] = def.is_object() ? def.value("description", "") : "";
  j["definition"] = def.is_discarded() ? OJson(nullptr) : def;
  OJson problems = OJson::parse(r.problems_json.empty() ? "[]" : r.problems_json, nullptr, false);
  j["problems"] = problems.is_discarded() ? OJson::array() : problems;
  auto it = g.segment_members().find(r.name);
  j["members"] = it == g.segment_members().end() ? OJson(nullptr) : OJson(it->second.size());
  return j;
}

SegmentRecord GetSegmentOr404(RouteContext& c, const std::string& name) {
  auto r = Unwrap(c.api.workspace().catalog().GetSegment(name));
  if (!r) ThrowError(404, "not_found", "there is no segment '" + name + "'");
  return *r;
}

// The route's body, already parsed and checked against its schema by the dispatcher.
SegmentDefinition ParseDefinitionBody(const OJson& body) {
  auto d = ParseSegmentJson(body.dump());
  if (!d.ok()) ThrowError(400, "invalid_definition", d.status().message());
  return std::move(*d);
}

// Saves through the definitions service and, for an active dynamic segment,
// starts a segments-only refresh so its members are served shortly (queued:
// it never races a running refresh for the data store).
HttpResponse SaveAndRespond(RouteContext& c, const SegmentDefinition& d, SegmentSaveMode mode, const std::string& action) {
  DefinitionOptions options;
  options.evaluate = false;
  SegmentSaveResult r = Unwrap(SaveSegmentDefinition(c.api.workspace(), d, mode, options)).saved;
  OJson j;
  j["name"] = r.record.name;
  j["status"] = r.record.status;
  j["problems"] = ProblemsJson(r.problems);
  j["members"] = r.evaluation ? OJson(r.evaluation->members) : OJson(nullptr);
  j["run_id"] = nullptr;
  c.api.Audit(c, action, "segment:" + d.name, OJson::parse(SegmentToJson(d, -1)));
  if (r.record.status == "active") {
    RefreshOptions o;
    o.segments = {d.name};
    o.trigger = "api";
    auto run = c.api.EnqueueRefresh(o);
    if (run.ok()) j["run_id"] = *run;
  } else if (r.evaluation) {
    (void)c.api.Reload();  // a static segment was frozen: serve its members
  }
  c.api.ResetSchedules();
  return JsonResponse(j, mode == SegmentSaveMode::kCreate ? 201 : 200);
}

// The segment operator table for forms (GET /api/v1/segment-operators): the
// kind of each field type, each operator's label per kind, value count, the
// kind of its values when it is not the field's, unit and the kinds it
// applies to and is offered for, aggregate functions.
OJson SegmentOperatorsJson() {
  OJson types = OJson::object();
  for (DataType t : {DataType::kString, DataType::kInt64, DataType::kDouble, DataType::kBool, DataType::kDate,
                     DataType::kTimestamp}) {
    types[std::string(DataTypeName(t))] = ValueKindName(KindOf(t));
  }
  OJson ops = OJson::array();
  for (const SegmentOperator& o : SegmentOperators()) {
    OJson applies = OJson::array(), offered = OJson::array(), labels = OJson::object();
    for (ValueKind k : kAllValueKinds) {
      if (OpApplies(o.op, k)) applies.push_back(ValueKindName(k));
      auto menu = OperatorsOffered(k);
      if (std::find(menu.begin(), menu.end(), &o) != menu.end()) offered.push_back(ValueKindName(k));
      labels[std::string(ValueKindName(k))] = OperatorLabel(o, k);
    }
    OJson units = OJson::array();
    for (std::string_view u : OperatorUnitNames(o.unit)) units.push_back(u);
    // Values that count days or units (in_last 3 months, anniversary_within 7)
    // are numbers whatever the field's kind; others have the field's kind.
    bool counts = o.unit == OperatorUnit::kSpan || o.op == ConditionOp::kAnniversaryWithin;
    ops.push_back({{"name", o.name}, {"label", o.label}, {"labels", labels},
                   {"values", o.values < 0 ? OJson("many") : OJson(o.values)},
                   {"value_kind", counts ? OJson("number") : OJson(nullptr)},
                   {"applies", applies}, {"offered", offered}, {"units", units}});
  }
  OJson aggregates = OJson::array();
  for (AggregateFunction f : {AggregateFunction::kCount, AggregateFunction::kSum, AggregateFunction::kAverage,
                              AggregateFunction::kMin, AggregateFunction::kMax}) {
    aggregates.push_back(AggregateFunctionName(f));
  }
  OJson kinds = OJson::array();
  for (ValueKind k : kAllValueKinds) kinds.push_back(ValueKindName(k));
  return {{"kinds", kinds}, {"types", types}, {"operators", ops}, {"aggregates", aggregates}};
}

// Discards what is written to it (counting export rows for estimates).
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

void ApiServerImpl::AddModelRoutes() {
  // ---- measures ----
  router_.Add({.method = "GET", .pattern = "/api/v1/measures", .tag = "measures",
               .summary = "list the measure definitions",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 auto project = Unwrap(c.api.workspace().catalog().LoadProject());
                 OJson items = OJson::parse(MeasuresToJson(project.measures));
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/measures", .tag = "measures",
               .summary = "create a measure (computed by the refresh this starts)",
               .permission = Permission::kWriteDefinitions,
               .body = &MeasureBody(), .success_status = 201,
               .handler = [](RouteContext& c) {
                 OJson body = c.body;
                 MeasureConfig m = ParseMeasureBody(body);
                 return SaveMeasureAndRespond(c, m, DefinitionWrite::kCreate, body);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/measures/{name}", .tag = "measures",
               .summary = "read a measure definition",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 auto project = Unwrap(c.api.workspace().catalog().LoadProject());
                 const MeasureConfig* m = FindMeasure(project, c.param(0));
                 if (!m) ThrowError(404, "not_found", "there is no measure '" + c.param(0) + "'");
                 return JsonResponse(MeasureJson(*m));
               }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/measures/{name}", .tag = "measures",
               .summary = "replace a measure definition",
               .permission = Permission::kWriteDefinitions,
               .body = &MeasureBody(),
               .handler = [](RouteContext& c) {
                 OJson body = c.body;
                 if (!body.contains("name")) body["name"] = c.param(0);
                 MeasureConfig m = ParseMeasureBody(body);
                 if (m.name != c.param(0)) ThrowError(400, "invalid_definition", "the body's name '" + m.name + "' differs from the path's '" + c.param(0) + "'");
                 return SaveMeasureAndRespond(c, m, DefinitionWrite::kUpdate, body);
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/measures/{name}", .tag = "measures",
               .summary = "delete a measure definition",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) {
                 DefinitionOptions options;
                 options.evaluate = false;  // the next refresh drops its values
                 Check(DeleteMeasure(c.api.workspace(), c.param(0), options));
                 c.api.Audit(c, "measure.delete", "measure:" + c.param(0), OJson::object());
                 return JsonResponse({{"deleted", c.param(0)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/measures/{name}/values", .tag = "measures",
               .summary = "read a measure's values per customer (or per dimension for business measures), paged",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 PageRequest page = ParsePage(c.req, c.api.options().default_page_size, c.api.options().max_page_size);
                 const std::string& name = c.param(0);
                 // An attribute measure is a column of Customer_Measure: {CustomerId, <name>} per customer.
                 const Table* cm = c.gen->measures().get();
                 const Column* id = cm ? cm->ColumnByName("CustomerId") : nullptr;
                 const Column* values = cm && name != "CustomerId" ? cm->ColumnByName(name) : nullptr;
                 if (id && values) {
                   OJson items = OJson::array();
                   for (size_t r = page.offset; r < cm->num_rows() && items.size() < page.limit; ++r) {
                     items.push_back({{"CustomerId", ValueToJson(*id, r)}, {name, ValueToJson(*values, r)}});
                   }
                   return JsonResponse(PageJson(std::move(items), page, cm->num_rows()));
                 }
                 for (const std::string& entity : {MeasureEntityName(name), BusinessMeasureEntityName(name)}) {
                   if (!c.gen->EntityShape(entity).ok()) continue;
                   auto t = Unwrap(c.gen->Entity(entity));
                   OJson items = OJson::array();
                   for (size_t r = page.offset; r < t->num_rows() && items.size() < page.limit; ++r) items.push_back(RowToJson(*t, r));
                   return JsonResponse(PageJson(std::move(items), page, t->num_rows()));
                 }
                 ThrowError(404, "not_found", "measure '" + name + "' has no values (unknown, or not computed yet: run a refresh)");
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/measures/{name}/histogram", .tag = "measures",
               .summary = "read the distribution of a customer measure's values",
               .permission = Permission::kRead,
               .query = {{.name = "bins", .type = "integer", .description = "number of bins (default 20)"}},
               .handler = [](RouteContext& c) {
                 int64_t bins = QueryInt(c.req, "bins", 20, 1, 200);
                 const Table* t = c.gen->measures().get();
                 const Column* col = t ? t->ColumnByName(c.param(0)) : nullptr;
                 if (!col) ThrowError(404, "not_found", "measure '" + c.param(0) + "' has no customer values (unknown, or not computed yet)");
                 if (col->type() != DataType::kInt64 && col->type() != DataType::kDouble) {
                   ThrowError(400, "invalid_parameter", "measure '" + c.param(0) + "' is not numeric");
                 }
                 std::vector<double> v;
                 int64_t nulls = 0;
                 for (size_t r = 0; r < col->size(); ++r) {
                   if (col->IsNull(r)) {
                     ++nulls;
                     continue;
                   }
                   double x = col->type() == DataType::kInt64 ? static_cast<double>(col->Int64At(r)) : col->DoubleAt(r);
                   if (std::isfinite(x)) v.push_back(x);
                 }
                 OJson out = OJson::array();
                 if (!v.empty()) {
                   auto [mn, mx] = std::minmax_element(v.begin(), v.end());
                   double lo = *mn, hi = *mx, width = (hi - lo) / static_cast<double>(bins);
                   if (width <= 0) width = 1;
                   std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
                   for (double x : v) counts[std::min<size_t>(static_cast<size_t>((x - lo) / width), static_cast<size_t>(bins - 1))]++;
                   for (int64_t b = 0; b < bins; ++b) out.push_back({{"lo", lo + width * b}, {"hi", lo + width * (b + 1)}, {"count", counts[static_cast<size_t>(b)]}});
                 }
                 return JsonResponse({{"measure", c.param(0)}, {"values", v.size()}, {"nulls", nulls}, {"bins", out}});
               }});

  // ---- segments ----
  router_.Add({.method = "GET", .pattern = "/api/v1/segment-operators", .tag = "segments",
               .summary = "list the segment condition operators: label per field kind, values, units, the field types each fits",
               .permission = Permission::kRead,
               .handler = [](RouteContext&) {
                 static const std::string body = SegmentOperatorsJson().dump();
                 return HttpResponse::Json(200, body);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments", .tag = "segments",
               .summary = "list the segments with type, status, members and problems",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::array();
                 for (const auto& r : Unwrap(c.api.workspace().catalog().ListSegments())) items.push_back(SegmentRecordJson(r, *c.gen));
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments", .tag = "segments",
               .summary = "create a segment from a definition (invalid ones are kept as drafts with their problems)",
               .permission = Permission::kWriteDefinitions,
               .body = &SegmentDefinitionBody(), .success_status = 201,
               .handler = [](RouteContext& c) {
                 return SaveAndRespond(c, ParseDefinitionBody(c.body), SegmentSaveMode::kCreate, "segment.create");
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments/quick", .tag = "segments",
               .summary = "create a quick segment from one profile field or measure",
               .permission = Permission::kWriteDefinitions,
               .body = &QuickSegmentBody(), .success_status = 201,
               .handler = [](RouteContext& c) {
                 const OJson& body = c.body;
                 std::string name = BodyString(body, "name", true);
                 std::string entity = BodyString(body, "entity", false, "Customer");
                 std::string field = BodyString(body, "field", true);
                 std::string op_text = BodyString(body, "op", true);
                 auto op = ParseConditionOp(op_text);
                 if (!op) ThrowError(400, "invalid_parameter", "field 'op': unknown operator '" + op_text + "'");
                 std::vector<SegmentValue> values;
                 if (body.contains("values")) {
                   if (!body["values"].is_array()) ThrowError(400, "wrong_type", "field 'values' must be an array");
                   for (const auto& v : body["values"]) {
                     if (v.is_string()) values.emplace_back(v.get<std::string>());
                     else if (v.is_number_integer()) values.emplace_back(v.get<int64_t>());
                     else if (v.is_number()) values.emplace_back(v.get<double>());
                     else if (v.is_boolean()) values.emplace_back(v.get<bool>());
                     else ThrowError(400, "wrong_type", "field 'values' may hold strings, numbers and booleans");
                   }
                 }
                 SegmentDefinition d = MakeQuickSegment(name, entity, field, *op, values);
                 if (BodyBool(body, "static", false)) d.type = SegmentType::kStatic;
                 return SaveAndRespond(c, d, SegmentSaveMode::kCreate, "segment.create");
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments/estimate", .tag = "segments",
               .summary = "estimate a definition's member count without saving it (or list its problems)",
               .permission = Permission::kRead,
               .body = &SegmentDefinitionBody(),
               .handler = [](RouteContext& c) {
                 SegmentDefinition d = ParseDefinitionBody(c.body);
                 if (d.name.empty()) d.name = "estimate";
                 NullBuffer nb;
                 std::ostream sink(&nb);
                 auto n = ExportDefinitionMembers(c.api.workspace(), d, "csv", sink, SegmentRunOptions());
                 if (!n.ok()) {
                   if (n.status().code() == StatusCode::kInvalidArgument) {
                     return JsonResponse({{"members", nullptr}, {"valid", false}, {"problems", OJson::array({{{"path", ""}, {"message", n.status().message()}}})}});
                   }
                   ThrowStatus(n.status());
                 }
                 return JsonResponse({{"members", *n}, {"valid", true}, {"problems", OJson::array()}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}", .tag = "segments",
               .summary = "read a segment",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse(SegmentRecordJson(GetSegmentOr404(c, c.param(0)), *c.gen)); }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/segments/{name}", .tag = "segments",
               .summary = "replace a segment's definition",
               .permission = Permission::kWriteDefinitions,
               .body = &SegmentDefinitionBody(),
               .handler = [](RouteContext& c) {
                 SegmentDefinition d = ParseDefinitionBody(c.body);
                 if (d.name.empty()) d.name = c.param(0);
                 if (d.name != c.param(0)) ThrowError(400, "invalid_definition", "the body's name '" + d.name + "' differs from the path's '" + c.param(0) + "'");
                 GetSegmentOr404(c, d.name);
                 return SaveAndRespond(c, d, SegmentSaveMode::kUpdate, "segment.update");
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/segments/{name}", .tag = "segments",
               .summary = "delete a segment and its members",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) {
                 Check(DeleteSegmentDefinition(c.api.workspace(), c.param(0)));
                 c.api.Audit(c, "segment.delete", "segment:" + c.param(0), OJson::object());
                 (void)c.api.Reload();
                 c.api.ResetSchedules();
                 return JsonResponse({{"deleted", c.param(0)}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/segments/{name}/run", .tag = "segments",
               .summary = "evaluate a segment now (a segments-only refresh)",
               .permission = Permission::kRunRefresh,
               .success_status = 202,
               .handler = [](RouteContext& c) {
                 SegmentRecord r = GetSegmentOr404(c, c.param(0));
                 if (r.status != "active") ThrowError(409, "failed_precondition", "segment '" + r.name + "' is " + r.status + " and cannot run; fix its problems first");
                 RefreshOptions o;
                 o.segments = {r.name};
                 o.trigger = "api";
                 int64_t run = Unwrap(c.api.EnqueueRefresh(o));
                 return JsonResponse({{"run_id", run == 0 ? OJson(nullptr) : OJson(run)}, {"queued", run == 0}}, 202);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/members", .tag = "segments",
               .summary = "read a segment's members with their profiles, paged",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}, {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 GetSegmentOr404(c, c.param(0));
                 PageRequest page = ParsePage(c.req, c.api.options().default_page_size, c.api.options().max_page_size);
                 auto it = c.gen->segment_members().find(c.param(0));
                 if (it == c.gen->segment_members().end()) ThrowError(409, "failed_precondition", "segment '" + c.param(0) + "' has not been evaluated yet");
                 OJson items = OJson::array();
                 for (size_t i = page.offset; i < it->second.size() && items.size() < page.limit; ++i) {
                   auto idx = c.gen->IndexOf(it->second[i]);
                   if (idx) items.push_back(RowToJson(*c.gen->customers(), *idx));
                 }
                 return JsonResponse(PageJson(std::move(items), page, it->second.size()));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/export", .tag = "segments",
               .summary = "download every member's profile and measures as CSV or JSON lines (streamed)",
               .permission = Permission::kRead,
               .query = {{.name = "format", .description = "csv (default) or jsonl"}},
               .response_type = "text/csv",
               .handler = [](RouteContext& c) {
                 GetSegmentOr404(c, c.param(0));
                 std::string format = c.req.Query("format", "csv");
                 if (format != "csv" && format != "jsonl") ThrowError(400, "invalid_parameter", "format must be csv or jsonl");
                 HttpResponse r;
                 r.content_type = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
                 r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + c.param(0) + "." + format + "\"");
                 Workspace* ws = &c.api.workspace();
                 std::string name = c.param(0);
                 r.stream = [ws, name, format](const ChunkWriter& write) -> Status {
                   // Buffer into 64 KiB chunks.
                   class ChunkBuffer : public std::streambuf {
                    public:
                     explicit ChunkBuffer(const ChunkWriter& w) : w_(w) {}
                     bool ok = true;
                     void Flush() {
                       if (!buf_.empty() && ok) ok = w_(buf_);
                       buf_.clear();
                     }
                    protected:
                     int overflow(int ch) override {
                       if (ch != EOF) buf_.push_back(static_cast<char>(ch));
                       if (buf_.size() >= 65536) Flush();
                       return ok ? ch : EOF;
                     }
                     std::streamsize xsputn(const char* s, std::streamsize n) override {
                       buf_.append(s, static_cast<size_t>(n));
                       if (buf_.size() >= 65536) Flush();
                       return ok ? n : 0;
                     }
                    private:
                     const ChunkWriter& w_;
                     std::string buf_;
                   } buf(write);
                   std::ostream out(&buf);
                   auto n = ExportSegmentMembers(*ws, name, format, out);
                   out.flush();
                   buf.Flush();
                   if (!n.ok()) return n.status();
                   return buf.ok ? Status::Ok() : CancelledError("client went away");
                 };
                 return r;
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/history", .tag = "segments",
               .summary = "read a segment's member count after each run",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer"}},
               .handler = [](RouteContext& c) {
                 GetSegmentOr404(c, c.param(0));
                 int limit = static_cast<int>(QueryInt(c.req, "limit", 100, 1, 10000));
                 OJson items = OJson::array();
                 for (const auto& e : Unwrap(c.api.workspace().catalog().SegmentHistory(c.param(0), limit))) {
                   items.push_back({{"run_id", e.run_id}, {"members", e.members}, {"evaluated_at", IsoTime(e.evaluated_at)}});
                 }
                 return JsonResponse({{"items", items}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/segments/{name}/inspect", .tag = "segments",
               .summary = "inspect a segment: problems, counts per rule evaluated now, and a preview of members",
               .permission = Permission::kRead,
               .query = {{.name = "preview", .type = "integer", .description = "members to preview (default 100)"}},
               .handler = [](RouteContext& c) {
                 GetSegmentOr404(c, c.param(0));
                 size_t preview = static_cast<size_t>(QueryInt(c.req, "preview", 100, 0, 1000));
                 SegmentInspection in = Unwrap(InspectSegment(c.api.workspace(), c.param(0), preview, SegmentRunOptions()));
                 OJson j = {{"name", in.record.name}, {"status", in.record.status}, {"problems", ProblemsJson(in.problems)},
                            {"stored_members", in.stored_members}};
                 if (in.counts) {
                   OJson rules = OJson::array();
                   for (size_t i = 0; i < in.counts->rules.size(); ++i) {
                     const auto& rc = in.counts->rules[i];
                     rules.push_back({{"rule", i}, {"members", rc.members}, {"running_total", rc.running_total}});
                   }
                   j["members"] = in.counts->members;
                   j["rules"] = rules;
                 } else {
                   j["members"] = nullptr;
                   j["rules"] = OJson::array();
                 }
                 OJson prev = OJson::array();
                 for (size_t r = 0; r < in.preview.num_rows(); ++r) prev.push_back(RowToJson(in.preview, r));
                 j["preview"] = prev;
                 return JsonResponse(j);
               }});
}

}  // namespace cdp
