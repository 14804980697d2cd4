// Routes: customer search, lookup by alternate key, profile, customer card,
// lineage explanation and activity timeline.
#include <algorithm>

#include "ingest/value_parser.h"
#include "server/internal/api_impl.h"
#include "table/table_json.h"
#include "workspace/enrichment_runner.h"
#include "workspace/lineage.h"
#include "workspace/prediction_runner.h"

namespace cdp {
namespace {

uint32_t CustomerIndexParam(const RouteContext& c, size_t i) {
  const std::string& text = c.param(i);
  int64_t id = 0;
  if (!ParseInt64(text, &id)) ThrowError(400, "invalid_parameter", "customer id '" + text + "' is not an integer CustomerId");
  if (!c.gen->customers()) ThrowStatus(CustomerNotFound(c.api.workspace(), id, /*no_customers=*/true));
  auto idx = c.gen->IndexOf(id);
  if (!idx) ThrowStatus(CustomerNotFound(c.api.workspace(), id));
  return *idx;
}

OJson Profile(const ServingGeneration& g, uint32_t idx) { return RowToJson(*g.customers(), idx); }

int64_t ParseTimeParam(const HttpRequest& req, const std::string& name, int64_t fallback) {
  if (!req.HasQuery(name) || req.Query(name).empty()) return fallback;
  int64_t us = 0;
  if (!ParseTimestamp(req.Query(name), DateStyle::kIso, &us)) {
    ThrowError(400, "invalid_parameter", "parameter '" + name + "' must be a date YYYY-MM-DD or an ISO timestamp, got '" + req.Query(name) + "'");
  }
  return us;
}

// An activity row without its CustomerId; the Fields column is embedded as
// the JSON object relate/activity_builder wrote (its writer only emits valid
// JSON and column files are checksummed, so it is not re-validated here:
// that cost a tenth of the card's throughput). Written as text for the
// card's hot path.
void AppendActivityJson(std::string* out, const Table& t, uint32_t row) {
  out->push_back('{');
  bool first = true;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const std::string& name = t.schema().field(c).name;
    if (name == "CustomerId") continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    const Column& col = t.column(c);
    if (name == "Fields" && col.type() == DataType::kString && !col.IsNull(row) && col.StringAt(row).size() >= 2 &&
        col.StringAt(row).front() == '{' && col.StringAt(row).back() == '}') {
      out->append(col.StringAt(row));
    } else {
      AppendValueJson(out, col, row);
    }
  }
  out->push_back('}');
}

OJson ActivityJson(const Table& t, uint32_t row) {
  std::string text;
  AppendActivityJson(&text, t, row);
  return OJson::parse(text);
}

}  // namespace

void ApiServerImpl::AddCustomerRoutes() {
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/search", .tag = "customers",
               .summary = "search customers by name, email, phone, city or source key, with filters and counts",
               .permission = Permission::kRead,
               .query = {{.name = "q", .description = "free text; typos and phone/email formatting are tolerated"},
                         {.name = "filter", .description = "FIELD:VALUE, e.g. State:CA, segment:NAME or Enrichment_BrandAffinity.Value:BRAND", .repeated = true},
                         {.name = "limit", .type = "integer"},
                         {.name = "offset", .type = "integer"},
                         {.name = "facets", .type = "boolean", .description = "include counts per filter value (default true)"}},
               .handler = [](RouteContext& c) {
                 auto index = c.api.search();
                 if (!index || !c.gen->customers()) ThrowError(409, "failed_precondition", "there are no customers to search yet: run a refresh first");
                 SearchQuery q;
                 q.text = c.req.Query("q");
                 for (const auto& f : c.req.QueryAll("filter")) {
                   size_t colon = f.find(':');
                   if (colon == std::string::npos || colon == 0) {
                     ThrowError(400, "invalid_parameter", "filter '" + f + "' must be FIELD:VALUE, e.g. State:CA");
                   }
                   q.filters.emplace_back(f.substr(0, colon), f.substr(colon + 1));
                 }
                 q.limit = static_cast<size_t>(QueryInt(c.req, "limit", 20, 1, static_cast<int64_t>(c.api.options().max_page_size)));
                 q.offset = static_cast<size_t>(QueryInt(c.req, "offset", 0, 0, 1000000000));
                 std::string facets = c.req.Query("facets", "true");
                 if (facets != "true" && facets != "false") ThrowError(400, "invalid_parameter", "parameter 'facets' must be true or false");
                 q.facets = facets == "true";
                 SearchResult r = Unwrap(index->Search(q));
                 // Written as text like the card: profiles are most of the response.
                 std::string out = "{\"total\":" + std::to_string(r.total) + ",\"items\":[";
                 bool first = true;
                 for (const auto& h : r.hits) {
                   auto idx = c.gen->IndexOf(h.customer_id);
                   if (!idx) continue;  // index ahead of the served generation for a moment
                   if (!first) out += ',';
                   first = false;
                   AppendRowJson(&out, *c.gen->customers(), *idx);
                   out.pop_back();  // the profile's closing brace: add the score
                   if (out.back() != '{') out += ',';
                   out += "\"_score\":" + OJson(h.score).dump() + "}";
                 }
                 out += "],\"facets\":{";
                 first = true;
                 for (const auto& [field, values] : r.facets) {
                   if (!first) out += ',';
                   first = false;
                   AppendJsonString(&out, field);
                   out += ":[";
                   for (size_t i = 0; i < values.size(); ++i) {
                     if (i > 0) out += ',';
                     out += "{\"value\":";
                     AppendJsonString(&out, values[i].value);
                     out += ",\"count\":" + std::to_string(values[i].count) + "}";
                   }
                   out += ']';
                 }
                 out += "}}";
                 return HttpResponse::Json(200, std::move(out));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/lookup", .tag = "customers",
               .summary = "find customers by an alternate key: a profile field value (email, phone, ...) or a source record key",
               .permission = Permission::kRead,
               .query = {{.name = "field", .description = "a Customer field, e.g. Email (with value)"},
                         {.name = "value"},
                         {.name = "source", .description = "a profile source name (with key)"},
                         {.name = "key"},
                         {.name = "limit", .type = "integer", .description = "most profiles to return (default 20); total counts all"}},
               .handler = [](RouteContext& c) {
                 if (!c.gen->customers()) ThrowError(404, "not_found", "there are no customers yet: run a refresh first");
                 size_t limit = static_cast<size_t>(
                     QueryInt(c.req, "limit", 20, 1, static_cast<int64_t>(c.api.options().max_page_size)));
                 std::vector<uint32_t> found;
                 if (c.req.HasQuery("source") || c.req.HasQuery("key")) {
                   if (!c.req.HasQuery("source") || !c.req.HasQuery("key")) ThrowError(400, "missing_parameter", "give both 'source' and 'key'");
                   auto idx = c.gen->CustomerOfRecord(c.req.Query("source"), c.req.Query("key"));
                   if (idx) found.push_back(*idx);
                 } else if (c.req.HasQuery("field")) {
                   if (!c.req.HasQuery("value")) ThrowError(400, "missing_parameter", "give 'value' with 'field'");
                   found = Unwrap(c.gen->LookupByField(c.req.Query("field"), c.req.Query("value")));
                 } else {
                   ThrowError(400, "missing_parameter", "give field and value (e.g. field=Email&value=a@b.com) or source and key");
                 }
                 if (found.empty()) ThrowError(404, "not_found", "no customer has that key");
                 // A placeholder value (test@test.com) can be shared by thousands.
                 std::string out = "{\"items\":[";
                 for (size_t i = 0; i < found.size() && i < limit; ++i) {
                   if (i > 0) out += ',';
                   AppendRowJson(&out, *c.gen->customers(), found[i]);
                 }
                 out += "],\"total\":" + std::to_string(found.size()) + "}";
                 return HttpResponse::Json(200, std::move(out));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/{id}", .tag = "customers",
               .summary = "read a unified customer profile",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse(Profile(*c.gen, CustomerIndexParam(c, 0))); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/{id}/card", .tag = "customers",
               .summary = "read a customer card: profile, measures, segments, recent activities, source records and lineage, "
                          "the predictions' scores (churn and its top factors, CLV, recommended products) and the enrichments' "
                          "values (affinities, engagement, third-party fields)",
               .permission = Permission::kRead,
               .query = {{.name = "activities", .type = "integer", .description = "most recent activities to include (default 10)"}},
               .handler = [](RouteContext& c) {
                 const ServingGeneration& g = *c.gen;
                 uint32_t idx = CustomerIndexParam(c, 0);
                 int64_t id = g.CustomerIdAt(idx);
                 size_t n_act = static_cast<size_t>(QueryInt(c.req, "activities", 10, 0, 1000));
                 // Written straight into the response text: the card is the
                 // hottest read (bench/api), and a JSON document built only to
                 // be printed costs more than the rest of the request.
                 std::string out;
                 out.reserve(4096);
                 out += "{\"customer_id\":" + std::to_string(id) + ",\"profile\":";
                 AppendRowJson(&out, *g.customers(), idx);
                 out += ",\"measures\":";
                 if (auto row = g.MeasureRowOf(idx)) {
                   AppendRowJson(&out, *g.measures(), *row, "CustomerId");
                 } else {
                   out += "{}";
                 }
                 out += ",\"segments\":[";
                 bool first = true;
                 for (const auto& name : g.SegmentsOf(id)) {
                   if (!first) out += ',';
                   first = false;
                   AppendJsonString(&out, name);
                 }
                 out += "],\"activities\":[";
                 {
                   // The newest n_act rows (stored oldest first), read by row group.
                   const size_t count = g.ActivityCount(idx);
                   std::vector<RowRef> recent = Unwrap(g.ActivityRows(idx, count - std::min(count, n_act), count));
                   for (size_t n = 0; n < recent.size(); ++n) {
                     if (n > 0) out += ',';
                     const RowRef& a = recent[recent.size() - 1 - n];
                     AppendActivityJson(&out, *a.table, a.row);
                   }
                 }
                 out += "],\"source_records\":[";
                 if (g.source_keys()) {
                   const Table& k = *g.source_keys();
                   const Column* src = k.ColumnByName("Source");
                   const Column* key = k.ColumnByName("SourceKey");
                   const Table* pairs = g.match_pairs().get();
                   const RowsByCustomer::Span pair_rows = g.match_pairs_by_customer().rows(idx);
                   const RowsByCustomer::Span key_rows = g.source_keys_by_customer().rows(idx);
                   for (size_t i = 0; i < key_rows.size(); ++i) {
                     std::string_view s = src->StringAt(key_rows[i]), kk = key->StringAt(key_rows[i]);
                     if (i > 0) out += ',';
                     out += "{\"source\":";
                     AppendJsonString(&out, s);
                     out += ",\"key\":";
                     AppendJsonString(&out, kk);
                     out += ",\"record\":";
                     // null when the source or the record is gone; a file
                     // that cannot be read is an error naming it.
                     auto record = g.SourceRecord(std::string(s), std::string(kk));
                     if (!record.ok() && record.status().code() == StatusCode::kNotFound) record = std::optional<RowRef>();
                     if (const std::optional<RowRef>& ref = Unwrap(std::move(record)); ref.has_value()) {
                       AppendRowJson(&out, *ref->table, ref->row);
                     } else {
                       out += "null";
                     }
                     out += ",\"matched\":[";
                     bool first_pair = true;
                     for (size_t j = 0; pairs != nullptr && j < pair_rows.size(); ++j) {
                       const uint32_t p = pair_rows[j];
                       // Columns: CustomerId, SourceA, KeyA, SourceB, KeyB, Rule, Score, Status.
                       auto is = [&](int sc, int kc) {
                         return pairs->column(sc).StringAt(p) == s && pairs->column(kc).StringAt(p) == kk;
                       };
                       int other = is(1, 2) ? 3 : is(3, 4) ? 1 : 0;
                       if (other == 0) continue;
                       if (!first_pair) out += ',';
                       first_pair = false;
                       out += "{\"with\":";
                       AppendJsonString(&out, std::string(pairs->column(other).StringAt(p)) + ":" +
                                                  std::string(pairs->column(other + 1).StringAt(p)));
                       out += ",\"rule\":";
                       AppendValueJson(&out, pairs->column(5), p);
                       out += ",\"score\":";
                       AppendValueJson(&out, pairs->column(6), p);
                       out += ",\"status\":";
                       AppendValueJson(&out, pairs->column(7), p);
                       out += '}';
                     }
                     out += "]}";
                   }
                 }
                 out += "],\"predictions\":";
                 // The predictions' values for this customer (prediction_runner.h)
                 // in the served generation; none without predictions.
                 auto predictions = g.project().predictions.empty()
                                        ? StatusOr<OJson>(OJson::array())
                                        : CustomerPredictions(c.api.workspace(), g.project(), g.snapshot(), id);
                 // A generation dropped meanwhile by refreshes of another
                 // process: read the newest one, where the customer may be gone.
                 if (!predictions.ok()) predictions = CustomerPredictions(c.api.workspace(), id);
                 if (!predictions.ok() && predictions.status().code() == StatusCode::kNotFound) predictions = OJson::array();
                 out += Unwrap(std::move(predictions)).dump(-1, ' ', false, OJson::error_handler_t::replace);
                 // The enrichments' values (enrichment_runner.h): affinities,
                 // engagement, third-party fields; none without enrichments.
                 out += ",\"enrichments\":";
                 auto enrichments = g.project().enrichments.empty()
                                        ? StatusOr<OJson>(OJson::array())
                                        : CustomerEnrichments(c.api.workspace(), g.project(), g.snapshot(), id);
                 if (!enrichments.ok()) enrichments = CustomerEnrichments(c.api.workspace(), id);
                 if (!enrichments.ok() && enrichments.status().code() == StatusCode::kNotFound) enrichments = OJson::array();
                 out += Unwrap(std::move(enrichments)).dump(-1, ' ', false, OJson::error_handler_t::replace);
                 out += '}';
                 return HttpResponse::Json(200, std::move(out));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/{id}/explain", .tag = "customers",
               .summary = "explain a customer: its source records and the match pairs (rule, score) that merged them",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 const ServingGeneration& g = *c.gen;
                 const int64_t id = g.CustomerIdAt(CustomerIndexParam(c, 0));
                 // The pairs' conditions are not recomputed here (that reads
                 // every profile source): explain_pair names the route that does.
                 ExplainOptions options;
                 options.explained_pairs = 0;
                 CustomerExplanation e = Unwrap(ExplainCustomer(
                     c.api.workspace(), LineageTables{g.customers(), g.source_keys(), g.match_pairs()}, id, options));
                 OJson out = CustomerExplanationToJson(e);
                 out["explain_pair"] =
                     "GET /api/v1/unification/explain?a=SOURCE:KEY&b=SOURCE:KEY shows each rule's conditions for a pair";
                 return JsonResponse(out);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/customers/{id}/activities", .tag = "customers",
               .summary = "read a customer's activity timeline (newest first), by type and time",
               .permission = Permission::kRead,
               .query = {{.name = "type", .description = "activity type or activity name, e.g. SalesOrder or OnlinePurchase"},
                         {.name = "from", .description = "YYYY-MM-DD or ISO timestamp (inclusive)"},
                         {.name = "to", .description = "YYYY-MM-DD or ISO timestamp (exclusive)"},
                         {.name = "limit", .type = "integer"},
                         {.name = "cursor"}},
               .handler = [](RouteContext& c) {
                 const ServingGeneration& g = *c.gen;
                 uint32_t idx = CustomerIndexParam(c, 0);
                 PageRequest page = ParsePage(c.req, c.api.options().default_page_size, c.api.options().max_page_size);
                 std::string type = c.req.Query("type");
                 int64_t from = ParseTimeParam(c.req, "from", INT64_MIN), to = ParseTimeParam(c.req, "to", INT64_MAX);
                 // The customer's rows, newest first, read by row group.
                 std::vector<RowRef> all = Unwrap(g.ActivityRows(idx, 0, g.ActivityCount(idx)));
                 std::vector<const RowRef*> rows;
                 const Table* t = nullptr;
                 const Column *at = nullptr, *an = nullptr, *ts = nullptr;
                 for (auto it = all.rbegin(); it != all.rend(); ++it) {
                   if (it->table.get() != t) {
                     t = it->table.get();
                     at = t->ColumnByName("ActivityType");
                     an = t->ColumnByName("Activity");
                     ts = t->ColumnByName("Timestamp");
                   }
                   const uint32_t r = it->row;
                   if (!type.empty() && at->StringAt(r) != type && an->StringAt(r) != type) continue;
                   if (!ts->IsNull(r) && (ts->TimestampAt(r) < from || ts->TimestampAt(r) >= to)) continue;
                   rows.push_back(&*it);
                 }
                 OJson items = OJson::array();
                 for (size_t i = page.offset; i < rows.size() && items.size() < page.limit; ++i) {
                   items.push_back(ActivityJson(*rows[i]->table, rows[i]->row));
                 }
                 return JsonResponse(PageJson(std::move(items), page, rows.size()));
               }});
}

}  // namespace cdp
