#include "workspace/enrichment_runner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "enrich/affinity.h"
#include "enrich/engagement.h"
#include "enrich/third_party.h"
#include "workspace/activity_runner.h"
#include "workspace/lineage.h"
#include "workspace/linked_entities.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

std::string ColumnText(const Column& c, size_t row) {
  switch (c.type()) {
    case DataType::kString:
      return std::string(c.StringAt(row));
    case DataType::kInt64:
      return std::to_string(c.Int64At(row));
    default:
      return c.ValueToString(row);
  }
}

const ActivityConfig* FindActivity(const ProjectConfig& project, const std::string& name) {
  for (const auto& a : project.activities) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// The activities an affinity reads: the configured ones, or every activity
// whose entity declares the product field.
std::vector<const ActivityConfig*> AffinityActivities(const ProjectConfig& project, const EnrichmentConfig& e) {
  std::vector<const ActivityConfig*> out;
  if (!e.activities.empty()) {
    for (const auto& name : e.activities) {
      if (const ActivityConfig* a = FindActivity(project, name)) out.push_back(a);
    }
    return out;
  }
  for (const auto& a : project.activities) {
    const SourceConfig* s = project.FindSource(a.entity);
    if (s == nullptr) continue;
    bool has = std::any_of(s->fields.begin(), s->fields.end(), [&](const SourceFieldConfig& f) { return f.name == e.product_field; });
    if (has) out.push_back(&a);
  }
  return out;
}

struct Computed {
  Table table;
  EnrichmentReport report;
};

Schema AffinitySchema() {
  return Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Value", DataType::kString, {}},
                 Field{"Score", DataType::kInt64, {}}, Field{"Level", DataType::kString, {}},
                 Field{"Rank", DataType::kInt64, {}}});
}

StatusOr<Computed> ComputeAffinity(LinkedEntities& linked, const ProjectConfig& project, const EnrichmentConfig& e) {
  const std::string owner = "enrichment '" + e.name + "'";
  CDP_ASSIGN_OR_RETURN(auto products, linked.Load(e.products));
  const Column* key = products->ColumnByName(e.product_key);
  const Column* attr = products->ColumnByName(e.attribute);
  if (!key) return InvalidArgumentError(owner + ": product_key '" + e.product_key + "' is not a field of " + e.products);
  if (!attr) return InvalidArgumentError(owner + ": attribute '" + e.attribute + "' is not a field of " + e.products);
  AffinityEvents events;
  std::unordered_map<std::string, int32_t> code_of_value;
  std::unordered_map<std::string, int32_t> value_of_product;
  for (size_t r = 0; r < products->num_rows(); ++r) {
    if (key->IsNull(r) || attr->IsNull(r)) continue;
    std::string v = ColumnText(*attr, r);
    if (v.empty()) continue;
    auto [it, added] = code_of_value.emplace(v, static_cast<int32_t>(events.value_names.size()));
    if (added) events.value_names.push_back(v);
    value_of_product.emplace(ColumnText(*key, r), it->second);
  }
  const size_t n = linked.customers().size();
  // Per activity, its rows grouped by customer; then one CSR over customers.
  struct Source {
    const EntityByCustomer* group;
    const Column* product;
    const Column* amount;
  };
  std::vector<Source> sources;
  for (const ActivityConfig* a : AffinityActivities(project, e)) {
    CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, linked.Group(a->entity, a->path));
    const Column* product = g->table->ColumnByName(e.product_field);
    if (!product) {
      return InvalidArgumentError(owner + ": activity '" + a->name + "': '" + e.product_field + "' is not a field of " +
                                  a->entity);
    }
    const Column* amount = a->amount.empty() ? nullptr : g->table->ColumnByName(a->amount);
    if (e.weight == "amount" && !amount) {
      return InvalidArgumentError(owner + ": weight amount needs an amount on activity '" + a->name + "'");
    }
    sources.push_back(Source{g, product, amount});
  }
  if (sources.empty()) {
    return InvalidArgumentError(owner + ": no activity names a product ('" + e.product_field + "'); list `activities`");
  }
  int64_t unknown_products = 0;
  events.offsets.assign(n + 1, 0);
  for (size_t c = 0; c < n; ++c) {
    for (const Source& s : sources) {
      for (uint64_t p = s.group->offsets[c]; p < s.group->offsets[c + 1]; ++p) {
        const uint32_t row = s.group->rows[p];
        if (s.product->IsNull(row)) continue;
        auto it = value_of_product.find(ColumnText(*s.product, row));
        if (it == value_of_product.end()) {
          ++unknown_products;
          continue;
        }
        events.values.push_back(it->second);
        if (e.weight == "amount") {
          double w = s.amount->IsNull(row) ? 0.0 : (s.amount->type() == DataType::kInt64
                                                        ? static_cast<double>(s.amount->Int64At(row))
                                                        : s.amount->DoubleAt(row));
          events.weights.push_back(std::isfinite(w) && w > 0 ? w : 0.0);
        }
      }
    }
    events.offsets[c + 1] = static_cast<int64_t>(events.values.size());
  }
  AffinityOptions options;
  options.top_k = e.top;
  CDP_ASSIGN_OR_RETURN(AffinityResult result, ComputeAffinities(events, options));
  Computed out{Table(AffinitySchema()), {}};
  std::set<int64_t> customers;
  for (size_t c = 0; c < n; ++c) {
    int64_t rank = 0;
    for (int64_t i = result.offsets[c]; i < result.offsets[c + 1]; ++i) {
      const CustomerAffinity& a = result.affinities[static_cast<size_t>(i)];
      out.table.mutable_column(0).AppendInt64(linked.customers().customer_id(static_cast<uint32_t>(c)));
      out.table.mutable_column(1).AppendString(events.value_names[static_cast<size_t>(a.value)]);
      out.table.mutable_column(2).AppendInt64(a.score);
      out.table.mutable_column(3).AppendString(AffinityLevelName(a.level));
      out.table.mutable_column(4).AppendInt64(++rank);
      out.table.FinishRow();
      customers.insert(static_cast<int64_t>(c));
    }
  }
  Json values = Json::array();
  for (size_t v = 0; v < result.values.size(); ++v) {
    const auto& s = result.values[v];
    values.push_back(Json{{"value", events.value_names[v]},
                          {"population_share", s.population_share},
                          {"customers", s.customers},
                          {"customers_high", s.high_customers}});
  }
  out.report.customers = static_cast<int64_t>(customers.size());
  out.report.details = Json{{"attribute", e.attribute},
                            {"events", result.events},
                            {"customers_with_events", result.customers_with_events},
                            {"unknown_products", unknown_products},
                            {"values", values}};
  return out;
}

StatusOr<Computed> ComputeEngagementEnrichment(LinkedEntities& linked, const ProjectConfig& project,
                                               const EnrichmentConfig& e, int32_t run_date) {
  const std::string owner = "enrichment '" + e.name + "'";
  if (!linked.snapshot().entities.count(std::string(kUnifiedActivityEntity))) {
    return FailedPreconditionError(owner + ": there are no activities yet (UnifiedActivity)");
  }
  CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, linked.Group(std::string(kUnifiedActivityEntity)));
  const Column* activity = g->table->ColumnByName("Activity");
  const Column* ts = g->table->ColumnByName("Timestamp");
  if (!activity || !ts) return DataLossError("UnifiedActivity lacks its Activity or Timestamp column");
  EngagementEvents events;
  std::unordered_map<std::string, int32_t> type_of;
  for (const auto& a : project.activities) {
    type_of.emplace(a.name, static_cast<int32_t>(events.type_names.size()));
    events.type_names.push_back(a.name);
  }
  EngagementOptions options;
  options.as_of_day = run_date;
  options.half_life_days = e.half_life_days;
  for (const auto& name : events.type_names) {
    auto it = e.weights.find(name);
    options.type_weights.push_back(e.weights.empty() ? 1.0 : (it == e.weights.end() ? 0.0 : it->second));
  }
  const size_t n = linked.customers().size();
  events.offsets.assign(n + 1, 0);
  for (size_t c = 0; c < n; ++c) {
    for (uint64_t p = g->offsets[c]; p < g->offsets[c + 1]; ++p) {
      const uint32_t row = g->rows[p];
      if (ts->IsNull(row) || activity->IsNull(row)) continue;
      auto it = type_of.find(std::string(activity->StringAt(row)));
      if (it == type_of.end()) continue;
      events.days.push_back(DayOfMicros(ts->Int64At(row)));
      events.types.push_back(it->second);
    }
    events.offsets[c + 1] = static_cast<int64_t>(events.days.size());
  }
  CDP_ASSIGN_OR_RETURN(EngagementResult result, ComputeEngagement(events, options));
  std::vector<Field> fields = {Field{"CustomerId", DataType::kInt64, {}}, Field{"EngagementScore", DataType::kInt64, {}},
                               Field{"EngagementLevel", DataType::kString, {}},
                               Field{"LastActivity", DataType::kDate, {}}};
  for (const auto& name : events.type_names) fields.push_back(Field{name + "Points", DataType::kDouble, {}});
  Computed out{Table(Schema(fields)), {}};
  std::vector<double> points(events.type_names.size());
  for (size_t c = 0; c < n; ++c) {
    out.table.mutable_column(0).AppendInt64(linked.customers().customer_id(static_cast<uint32_t>(c)));
    out.table.mutable_column(1).AppendInt64(result.score[c]);
    out.table.mutable_column(2).AppendString(EngagementLevelName(result.level[c]));
    if (result.last_day[c] == std::numeric_limits<int32_t>::min()) {
      out.table.mutable_column(3).AppendNull();
    } else {
      out.table.mutable_column(3).AppendDate(result.last_day[c]);
    }
    std::fill(points.begin(), points.end(), 0.0);
    for (int64_t i = result.contribution_offsets[c]; i < result.contribution_offsets[c + 1]; ++i) {
      const auto& k = result.contributions[static_cast<size_t>(i)];
      points[static_cast<size_t>(k.type)] = std::round(k.points * 100.0) / 100.0;
    }
    for (size_t t = 0; t < points.size(); ++t) out.table.mutable_column(4 + t).AppendDouble(points[t]);
    out.table.FinishRow();
  }
  Json levels = Json::object();
  for (size_t l = 0; l < result.customers_per_level.size(); ++l) {
    levels[std::string(EngagementLevelName(static_cast<EngagementLevel>(l)))] = result.customers_per_level[l];
  }
  out.report.customers = static_cast<int64_t>(n);
  out.report.details = Json{{"as_of", FormatDate(run_date)},
                            {"active_customers", result.active_customers},
                            {"events", result.events_used},
                            {"reference_raw", result.reference_raw},
                            {"levels", levels}};
  return out;
}

StatusOr<Computed> ComputeThirdParty(LinkedEntities& linked, const EnrichmentConfig& e) {
  const std::string owner = "enrichment '" + e.name + "'";
  CDP_ASSIGN_OR_RETURN(auto customer, linked.Load(std::string(kCustomerEntity)));
  CDP_ASSIGN_OR_RETURN(auto records, linked.Load(e.entity));
  // Text of every key on both sides, kept alive for the string_views.
  std::vector<std::vector<std::string>> texts;
  texts.reserve(e.keys.size() * 2);
  std::vector<ThirdPartyKey> keys;
  auto column_texts = [&](const Table& t, const std::string& field, const std::string& entity) -> StatusOr<size_t> {
    const Column* c = t.ColumnByName(field);
    if (!c) return InvalidArgumentError(owner + ": '" + field + "' is not a field of " + entity);
    std::vector<std::string> v(t.num_rows());
    for (size_t r = 0; r < t.num_rows(); ++r) {
      if (!c->IsNull(r)) v[r] = ColumnText(*c, r);
    }
    texts.push_back(std::move(v));
    return texts.size() - 1;
  };
  for (const auto& k : e.keys) {
    ThirdPartyKey key;
    key.name = k.field;
    CDP_ASSIGN_OR_RETURN(key.kind, ParseThirdPartyKeyKind(k.match));
    CDP_ASSIGN_OR_RETURN(size_t ci, column_texts(*customer, k.customer_field, "Customer"));
    CDP_ASSIGN_OR_RETURN(size_t ri, column_texts(*records, k.field, e.entity));
    for (const auto& s : texts[ci]) key.customer_values.emplace_back(s);
    for (const auto& s : texts[ri]) key.record_values.emplace_back(s);
    keys.push_back(std::move(key));
  }
  ThirdPartyMatchOptions options;
  CDP_ASSIGN_OR_RETURN(ThirdPartyMatch match, MatchThirdParty(keys, options));
  // Output: the matched customers with the chosen fields.
  std::vector<std::string> copy = e.fields;
  if (copy.empty()) {
    std::set<std::string> key_fields;
    for (const auto& k : e.keys) key_fields.insert(k.field);
    for (const auto& f : records->schema().fields()) {
      if (!key_fields.count(f.name)) copy.push_back(f.name);
    }
  }
  std::vector<Field> fields = {Field{"CustomerId", DataType::kInt64, {}}, Field{"MatchedBy", DataType::kString, {}}};
  std::vector<const Column*> sources;
  for (const auto& name : copy) {
    const Column* c = records->ColumnByName(name);
    if (!c) return InvalidArgumentError(owner + ": fields: '" + name + "' is not a field of " + e.entity);
    if (name == "CustomerId" || name == "MatchedBy") {
      return InvalidArgumentError(owner + ": fields: '" + name + "' is a name the enrichment writes itself");
    }
    int idx = records->schema().FieldIndex(name);
    fields.push_back(Field{name, c->type(), records->schema().field(static_cast<size_t>(idx)).semantic});
    sources.push_back(c);
  }
  Computed out{Table(Schema(fields)), {}};
  for (size_t c = 0; c < match.record_of_customer.size(); ++c) {
    const int64_t r = match.record_of_customer[c];
    if (r < 0) continue;
    out.table.mutable_column(0).AppendInt64(linked.customers().customer_id(static_cast<uint32_t>(c)));
    out.table.mutable_column(1).AppendString(e.keys[static_cast<size_t>(match.key_of_record[static_cast<size_t>(r)])].field);
    for (size_t i = 0; i < sources.size(); ++i) out.table.mutable_column(2 + i).AppendFrom(*sources[i], static_cast<size_t>(r));
    out.table.FinishRow();
  }
  Json key_reports = Json::array();
  for (const auto& k : match.keys) {
    key_reports.push_back(Json{{"field", k.name},
                               {"kind", ThirdPartyKeyKindName(k.kind)},
                               {"tried", k.tried},
                               {"matched", k.matched},
                               {"blank", k.blank},
                               {"ambiguous", k.ambiguous_records + k.ambiguous_customers},
                               {"unmatched", k.unmatched},
                               {"taken", k.taken},
                               {"unmatched_examples", k.unmatched_examples}});
  }
  out.report.customers = match.matched_customers;
  out.report.details = Json{{"records", match.records},
                            {"matched_records", match.matched_records},
                            {"matched_customers", match.matched_customers},
                            {"match_rate", match.match_rate},
                            {"customer_coverage", match.customer_coverage},
                            {"keys", key_reports}};
  return out;
}

StatusOr<Computed> ComputeOne(LinkedEntities& linked, const ProjectConfig& project, const EnrichmentConfig& e,
                              int32_t run_date) {
  switch (e.kind) {
    case EnrichmentKind::kAffinity:
      return ComputeAffinity(linked, project, e);
    case EnrichmentKind::kEngagement:
      return ComputeEngagementEnrichment(linked, project, e, run_date);
    case EnrichmentKind::kThirdParty:
      return ComputeThirdParty(linked, e);
  }
  return InvalidArgumentError("unknown enrichment kind");
}

int32_t ResolveRunDate(int32_t run_date) { return run_date != 0 ? run_date : TodayUtc(); }

// Runs `todo` and commits their entities (and removes `removed`) in one generation.
StatusOr<std::vector<EnrichmentReport>> RunAndCommit(Workspace& workspace, const ProjectConfig& project,
                                                     const std::vector<const EnrichmentConfig*>& todo,
                                                     const std::vector<std::string>& removed, int32_t run_date,
                                                     const std::function<void(double, const std::string&)>& progress,
                                                     std::vector<std::string>* warnings) {
  CDP_ASSIGN_OR_RETURN(auto linked, LinkedEntities::Open(workspace, project));
  std::vector<EnrichmentReport> reports;
  std::vector<std::pair<std::string, Table>> outputs;
  for (size_t i = 0; i < todo.size(); ++i) {
    const EnrichmentConfig& e = *todo[i];
    if (progress) progress(static_cast<double>(i) / static_cast<double>(todo.size()), e.name);
    const int64_t start = MicrosNow();
    auto computed = ComputeOne(*linked, project, e, run_date);
    if (!computed.ok()) {
      if (warnings == nullptr) return computed.status();
      warnings->push_back("enrichment '" + e.name + "': " + computed.status().message());
      continue;
    }
    EnrichmentReport r = std::move(computed->report);
    r.name = e.name;
    r.kind = std::string(EnrichmentKindName(e.kind));
    r.output_entity = EnrichmentEntityName(e.name);
    r.rows = static_cast<int64_t>(computed->table.num_rows());
    r.duration_micros = MicrosNow() - start;
    outputs.emplace_back(r.output_entity, std::move(computed->table));
    reports.push_back(std::move(r));
  }
  for (const auto& w : linked->warnings()) {
    if (warnings) warnings->push_back(w);
  }
  CDP_RETURN_IF_ERROR(CommitEntities(workspace, outputs, removed, "enrichments"));
  return reports;
}

}  // namespace

Json ToJson(const EnrichmentReport& r) {
  return Json{{"name", r.name},         {"kind", r.kind},       {"output_entity", r.output_entity},
              {"rows", r.rows},         {"customers", r.customers}, {"details", r.details},
              {"duration_ms", r.duration_micros / 1000}};
}

Status ValidateEnrichments(const ProjectConfig& project) {
  for (const auto& e : project.enrichments) {
    const std::string owner = "enrichment '" + e.name + "'";
    switch (e.kind) {
      case EnrichmentKind::kAffinity:
        if (!project.FindSource(e.products)) {
          return InvalidArgumentError(owner + ": products: '" + e.products + "' is not a source");
        }
        for (const auto& a : e.activities) {
          if (!FindActivity(project, a)) return InvalidArgumentError(owner + ": activities: there is no activity '" + a + "'");
        }
        break;
      case EnrichmentKind::kEngagement:
        for (const auto& [a, w] : e.weights) {
          if (!FindActivity(project, a)) return InvalidArgumentError(owner + ": weights: there is no activity '" + a + "'");
        }
        break;
      case EnrichmentKind::kThirdParty:
        if (!project.FindSource(e.entity)) {
          return InvalidArgumentError(owner + ": entity: '" + e.entity + "' is not a source");
        }
        break;
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<EnrichmentReport>> RunEnrichments(Workspace& workspace, const std::vector<std::string>& names,
                                                       const EnrichmentRunOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_RETURN_IF_ERROR(ValidateEnrichments(project));
  std::vector<const EnrichmentConfig*> todo;
  for (const auto& n : names) {
    auto it = std::find_if(project.enrichments.begin(), project.enrichments.end(),
                           [&](const EnrichmentConfig& e) { return e.name == n; });
    if (it == project.enrichments.end()) return NotFoundError("there is no enrichment '" + n + "'");
    todo.push_back(&*it);
  }
  if (names.empty()) {
    if (project.enrichments.empty()) return FailedPreconditionError("no enrichments are configured (`enrichments:`)");
    for (const auto& e : project.enrichments) todo.push_back(&e);
  }
  return RunAndCommit(workspace, project, todo, {}, ResolveRunDate(options.run_date), options.progress, nullptr);
}

StatusOr<Json> ListEnrichments(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  Json out = Json::array();
  for (const auto& e : project.enrichments) {
    const std::string entity = EnrichmentEntityName(e.name);
    auto it = snap.entities.find(entity);
    Json j{{"name", e.name},
           {"display_name", e.display_name.empty() ? e.name : e.display_name},
           {"kind", EnrichmentKindName(e.kind)},
           {"output_entity", entity},
           {"rows", it == snap.entities.end() ? Json(nullptr) : Json(it->second.num_rows)},
           {"computed", it != snap.entities.end()}};
    out.push_back(std::move(j));
  }
  return out;
}

StatusOr<Json> CustomerEnrichments(Workspace& workspace, int64_t customer_id) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  CDP_RETURN_IF_ERROR(CheckCustomerExists(workspace, customer_id));
  Json out = Json::array();
  for (const auto& e : project.enrichments) {
    const std::string entity = EnrichmentEntityName(e.name);
    if (!snap.entities.count(entity)) continue;
    CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(workspace, snap, entity));
    const Column* cid = table->ColumnByName("CustomerId");
    if (!cid) continue;
    Json j{{"name", e.name}, {"display_name", e.display_name.empty() ? e.name : e.display_name},
           {"kind", EnrichmentKindName(e.kind)}};
    if (e.kind == EnrichmentKind::kAffinity) {
      Json values = Json::array();
      for (size_t r = 0; r < table->num_rows(); ++r) {
        if (cid->IsNull(r) || cid->Int64At(r) != customer_id) continue;
        values.push_back(Json{{"Value", table->ColumnByName("Value")->StringAt(r)},
                              {"Score", table->ColumnByName("Score")->Int64At(r)},
                              {"Level", table->ColumnByName("Level")->StringAt(r)}});
      }
      j["values"] = values;
    } else {
      Json values = Json::object();
      for (size_t r = 0; r < table->num_rows(); ++r) {
        if (cid->IsNull(r) || cid->Int64At(r) != customer_id) continue;
        for (size_t c = 0; c < table->num_columns(); ++c) {
          const std::string& name = table->schema().field(c).name;
          if (name == "CustomerId") continue;
          const Column& col = table->column(c);
          if (col.IsNull(r)) {
            values[name] = nullptr;
          } else if (col.type() == DataType::kInt64) {
            values[name] = col.Int64At(r);
          } else if (col.type() == DataType::kDouble) {
            values[name] = col.DoubleAt(r);
          } else if (col.type() == DataType::kBool) {
            values[name] = col.BoolAt(r);
          } else {
            values[name] = col.ValueToString(r);
          }
        }
        break;
      }
      if (values.empty()) continue;
      j["values"] = values;
    }
    out.push_back(std::move(j));
  }
  return out;
}

StageDescriptor EnrichmentsStage() {
  StageDescriptor d;
  d.name = "enrichments";
  d.not_applicable = [](const StageContext& c) -> StatusOr<std::optional<std::string>> {
    if (c.project.enrichments.empty()) return std::optional<std::string>("no enrichments configured");
    return std::optional<std::string>();
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    in.AddDefinition("enrichments", EnrichmentsToJson(c.project.enrichments));
    in.AddDefinition("activities", ActivitiesToJson(c.project.activities));
    in.AddDefinition("relationships", RelationshipsToJson(c.project.relationships));
    for (const auto& [name, info] : snap.entities) {
      EntityKind k = EntityKindOf(name);
      if (k == EntityKind::kCustomer || k == EntityKind::kUnifiedActivity || k == EntityKind::kSourceKeys ||
          k == EntityKind::kSource) {
        in.AddEntity(snap, name);
      }
    }
    in.AddRunDate(c.run_date);  // engagement decays with the day
    return in;
  };
  d.is_output = [](const StageContext&, const std::string& n) { return EntityKindOf(n) == EntityKind::kEnrichment; };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    CDP_RETURN_IF_ERROR(ValidateEnrichments(c.project));
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    std::set<std::string> wanted;
    std::vector<const EnrichmentConfig*> todo;
    for (const auto& e : c.project.enrichments) {
      wanted.insert(EnrichmentEntityName(e.name));
      todo.push_back(&e);
    }
    std::vector<std::string> removed;
    for (const auto& [name, info] : snap.entities) {
      if (EntityKindOf(name) == EntityKind::kEnrichment && !wanted.count(name)) removed.push_back(name);
    }
    // One enrichment's failure is a warning: the others are written and its last output stays.
    CDP_ASSIGN_OR_RETURN(std::vector<EnrichmentReport> reports,
                         RunAndCommit(c.workspace, c.project, todo, removed, c.run_date, c.progress, &r->warnings));
    for (const auto& rep : reports) r->rows_out += rep.rows;
    r->message = std::to_string(reports.size()) + " of " + std::to_string(todo.size()) + " enrichment(s) computed";
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
