#include "workspace/enrichment_runner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <unordered_map>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "common/text.h"
#include "enrich/affinity.h"
#include "enrich/engagement.h"
#include "enrich/third_party.h"
#include "workspace/activity_runner.h"
#include "workspace/customer_rows.h"
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

// The match of a third-party enrichment's records against `targets` (Customer
// after unification, the enriched source before it), by the configured keys.
StatusOr<ThirdPartyMatch> MatchThirdPartyRows(const EnrichmentConfig& e, const Table& targets,
                                              const std::string& target_entity, const Table& records) {
  const std::string owner = "enrichment '" + e.name + "'";
  // Text of every key on both sides, kept alive for the string_views.
  std::vector<std::vector<std::string>> texts;
  texts.reserve(e.keys.size() * 2);
  std::vector<ThirdPartyKey> keys;
  auto column_texts = [&](const Table& t, const std::string& field, const std::string& key,
                          const std::string& entity) -> StatusOr<size_t> {
    const Column* c = t.ColumnByName(field);
    if (!c) return InvalidArgumentError(owner + ": keys: " + key + " '" + field + "' is not a field of " + entity);
    std::vector<std::string> v(t.num_rows());
    for (size_t r = 0; r < t.num_rows(); ++r) {
      if (!c->IsNull(r)) v[r] = ColumnText(*c, r);
    }
    texts.push_back(std::move(v));
    return texts.size() - 1;
  };
  const bool before = e.before_unification();
  for (const auto& k : e.keys) {
    ThirdPartyKey key;
    key.name = k.field;
    CDP_ASSIGN_OR_RETURN(key.kind, ParseThirdPartyKeyKind(k.match));
    CDP_ASSIGN_OR_RETURN(size_t ci, column_texts(targets, before ? k.source_field : k.customer_field,
                                                 before ? "source_field" : "customer_field", target_entity));
    CDP_ASSIGN_OR_RETURN(size_t ri, column_texts(records, k.field, "field", e.entity));
    for (const auto& s : texts[ci]) key.customer_values.emplace_back(s);
    for (const auto& s : texts[ri]) key.record_values.emplace_back(s);
    keys.push_back(std::move(key));
  }
  ThirdPartyMatchOptions options;
  return MatchThirdParty(keys, options);
}

// The copied columns: the configured fields (output name, the entity's type,
// the configured or the entity's semantic type), or every field but the keys.
struct CopiedColumn {
  Field field;
  const Column* values;
};
StatusOr<std::vector<CopiedColumn>> CopiedColumns(const EnrichmentConfig& e, const Table& records) {
  const std::string owner = "enrichment '" + e.name + "'";
  std::vector<EnrichmentFieldConfig> copy = e.fields;
  if (copy.empty()) {
    std::set<std::string> key_fields;
    for (const auto& k : e.keys) key_fields.insert(k.field);
    for (const auto& f : records.schema().fields()) {
      if (!key_fields.count(f.name)) copy.push_back(EnrichmentFieldConfig{f.name, "", ""});
    }
  }
  std::vector<CopiedColumn> out;
  for (const auto& f : copy) {
    const int idx = records.schema().FieldIndex(f.name);
    if (idx < 0) return InvalidArgumentError(owner + ": fields: '" + f.name + "' is not a field of " + e.entity);
    if (f.output() == "CustomerId" || f.output() == "MatchedBy") {
      return InvalidArgumentError(owner + ": fields: '" + f.output() + "' is a name the enrichment writes itself");
    }
    const Field& source = records.schema().field(static_cast<size_t>(idx));
    SemanticType semantic = f.semantic.empty() ? source.semantic : SemanticType(f.semantic);
    out.push_back(CopiedColumn{Field{f.output(), source.type, semantic}, &records.column(static_cast<size_t>(idx))});
  }
  return out;
}

Json MatchDetails(const ThirdPartyMatch& match) {
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
  return Json{{"records", match.records},
              {"matched_records", match.matched_records},
              {"matched_customers", match.matched_customers},
              {"match_rate", match.match_rate},
              {"customer_coverage", match.customer_coverage},
              {"keys", key_reports}};
}

StatusOr<Computed> ComputeThirdParty(LinkedEntities& linked, const EnrichmentConfig& e) {
  CDP_ASSIGN_OR_RETURN(auto customer, linked.Load(std::string(kCustomerEntity)));
  CDP_ASSIGN_OR_RETURN(auto records, linked.Load(e.entity));
  CDP_ASSIGN_OR_RETURN(ThirdPartyMatch match, MatchThirdPartyRows(e, *customer, "Customer", *records));
  // Output: the matched customers with the chosen fields.
  CDP_ASSIGN_OR_RETURN(std::vector<CopiedColumn> copied, CopiedColumns(e, *records));
  std::vector<Field> fields = {Field{"CustomerId", DataType::kInt64, {}}, Field{"MatchedBy", DataType::kString, {}}};
  for (const auto& c : copied) fields.push_back(c.field);
  Computed out{Table(Schema(fields)), {}};
  for (size_t c = 0; c < match.record_of_customer.size(); ++c) {
    const int64_t r = match.record_of_customer[c];
    if (r < 0) continue;
    out.table.mutable_column(0).AppendInt64(linked.customers().customer_id(static_cast<uint32_t>(c)));
    out.table.mutable_column(1).AppendString(e.keys[static_cast<size_t>(match.key_of_record[static_cast<size_t>(r)])].field);
    for (size_t i = 0; i < copied.size(); ++i) out.table.mutable_column(2 + i).AppendFrom(*copied[i].values, static_cast<size_t>(r));
    out.table.FinishRow();
  }
  out.report.customers = match.matched_customers;
  out.report.details = MatchDetails(match);
  return out;
}

// The attribute a known semantic type names: its last part ("Person.FirstName" -> "FirstName").
std::string AttributeOf(const SemanticType& semantic) {
  const std::string& n = semantic.name();
  const size_t dot = n.rfind('.');
  return dot == std::string::npos ? n : n.substr(dot + 1);
}

// Whether a value of the source is blank (filled by a before-unification enrichment).
bool IsBlank(const Column& c, size_t row) {
  return c.IsNull(row) || (c.type() == DataType::kString && c.StringAt(row).empty());
}

// The attributes a unification source's fields resolve to without the
// enrichment (unify/record_set.cc): mapped attributes, field names, and the
// last part of known semantic types. A new column whose semantic type names
// one of them would take that attribute from the source's own field.
std::set<std::string> SourceAttributes(const ProjectConfig& project, const std::string& source, const Schema& schema) {
  std::set<std::string> out;
  if (const UnifySourceConfig* u = project.unification.FindSource(source)) {
    for (const auto& [attribute, field] : u->fields) out.insert(attribute);
  }
  for (const auto& f : schema.fields()) {
    out.insert(f.name);
    if (!f.semantic.empty() && f.semantic.is_known()) out.insert(AttributeOf(f.semantic));
  }
  return out;
}

// Checks a before-unification enrichment's columns against its source's
// fields: a column named like a source field fills it (same type, or the
// source field is text); a new column must not take an attribute the source
// already resolves through its semantic type.
Status CheckSourceColumns(const ProjectConfig& project, const EnrichmentConfig& e, const Schema& source,
                          const std::vector<CopiedColumn>& copied) {
  const std::string owner = "enrichment '" + e.name + "'";
  const std::set<std::string> attributes = SourceAttributes(project, e.source, source);
  const std::string key = project.KeyOf(e.source);
  for (const auto& c : copied) {
    if (c.field.name == key || c.field.name == "MatchedBy") {
      return InvalidArgumentError(owner + ": fields: '" + c.field.name + "' is a column the enrichment writes itself (the key of " +
                                  e.source + " or MatchedBy); rename it with `as:`");
    }
    const int idx = source.FieldIndex(c.field.name);
    if (idx >= 0) {
      const DataType t = source.field(static_cast<size_t>(idx)).type;
      if (t != c.field.type && t != DataType::kString) {
        return InvalidArgumentError(owner + ": fields: '" + c.field.name + "' is " +
                                    std::string(DataTypeName(c.field.type)) + " in " + e.entity + " but " +
                                    std::string(DataTypeName(t)) + " in source " + e.source +
                                    "; copy it under another name with `as:`");
      }
      continue;
    }
    if (c.field.semantic.empty() || !c.field.semantic.is_known()) continue;
    const std::string attribute = AttributeOf(c.field.semantic);
    if (attributes.count(attribute)) {
      return InvalidArgumentError(owner + ": fields: '" + c.field.name + "' has semantic type " +
                                  c.field.semantic.name() + " but source " +
                                  e.source + " already has the attribute " + attribute +
                                  "; write `as: <that field>` to fill its blank values instead");
    }
  }
  return Status::Ok();
}

// Before unification: matches the third-party records with the source's
// records and writes Enrichment_<name> keyed by the source's key.
StatusOr<Computed> ComputeSourceEnrichment(Workspace& workspace, const Snapshot& snap, const ProjectConfig& project,
                                           const EnrichmentConfig& e) {
  const std::string owner = "enrichment '" + e.name + "'";
  for (const std::string& entity : {e.source, e.entity}) {
    if (!snap.entities.count(entity)) {
      return FailedPreconditionError(owner + ": '" + entity + "' has not been ingested; run `cdp ingest` first");
    }
  }
  CDP_ASSIGN_OR_RETURN(auto source, LoadEntity(workspace, snap, e.source));
  CDP_ASSIGN_OR_RETURN(auto records, LoadEntity(workspace, snap, e.entity));
  const std::string key = project.KeyOf(e.source);
  const int key_index = source->schema().FieldIndex(key);
  if (key.empty() || key_index < 0) {
    return InvalidArgumentError(owner + ": source '" + e.source + "' has no key field ('" + key + "')");
  }
  CDP_ASSIGN_OR_RETURN(ThirdPartyMatch match, MatchThirdPartyRows(e, *source, e.source, *records));
  CDP_ASSIGN_OR_RETURN(std::vector<CopiedColumn> copied, CopiedColumns(e, *records));
  CDP_RETURN_IF_ERROR(CheckSourceColumns(project, e, source->schema(), copied));
  const Field& key_field = source->schema().field(static_cast<size_t>(key_index));
  std::vector<Field> fields = {Field{key, key_field.type, {}}, Field{"MatchedBy", DataType::kString, {}}};
  for (const auto& c : copied) fields.push_back(c.field);
  Computed out{Table(Schema(fields)), {}};
  const Column& key_column = source->column(static_cast<size_t>(key_index));
  for (size_t row = 0; row < match.record_of_customer.size(); ++row) {
    const int64_t r = match.record_of_customer[row];
    if (r < 0) continue;
    out.table.mutable_column(0).AppendFrom(key_column, row);
    out.table.mutable_column(1).AppendString(e.keys[static_cast<size_t>(match.key_of_record[static_cast<size_t>(r)])].field);
    for (size_t i = 0; i < copied.size(); ++i) out.table.mutable_column(2 + i).AppendFrom(*copied[i].values, static_cast<size_t>(r));
    out.table.FinishRow();
  }
  out.report.customers = match.matched_customers;
  out.report.details = MatchDetails(match);
  out.report.details["source"] = e.source;
  out.report.details["source_records"] = static_cast<int64_t>(source->num_rows());
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

// The properties stored with an enrichment's entity: the stage, and for a
// third-party match its counts and match rate (ListEnrichments reads them).
std::string EntityProperties(const std::string& stage, const EnrichmentConfig& e, const EnrichmentReport& r) {
  Json p{{"stage", stage}, {"when", EnrichmentTimingName(e.when)}};
  if (e.kind == EnrichmentKind::kThirdParty) {
    Json m = Json::object();
    for (const char* k : {"records", "matched_records", "match_rate", "customer_coverage", "source", "source_records"}) {
      if (r.details.contains(k)) m[k] = r.details[k];
    }
    p["match"] = m;
  }
  return p.dump();
}

// Writes `outputs` (entity, rows, properties) and removes `removed` in one new generation.
Status CommitOutputs(Workspace& workspace, const std::vector<std::tuple<std::string, Table, std::string>>& outputs,
                     const std::vector<std::string>& removed) {
  if (outputs.empty() && removed.empty()) return Status::Ok();
  CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
  for (const auto& [name, table, properties] : outputs) {
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(name, table.schema(), properties));
    CDP_RETURN_IF_ERROR(w->Append(table));
  }
  for (const auto& name : removed) CDP_RETURN_IF_ERROR(gen->RemoveEntity(name));
  return gen->Commit();
}

// Runs `todo` and commits their entities (and removes `removed`) in one generation.
StatusOr<std::vector<EnrichmentReport>> RunAndCommit(Workspace& workspace, const ProjectConfig& project,
                                                     const std::vector<const EnrichmentConfig*>& todo,
                                                     const std::vector<std::string>& removed, int32_t run_date,
                                                     const std::function<void(double, const std::string&)>& progress,
                                                     std::vector<std::string>* warnings) {
  // Customers are loaded only for enrichments after unification.
  std::unique_ptr<LinkedEntities> linked;
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  std::vector<EnrichmentReport> reports;
  std::vector<std::tuple<std::string, Table, std::string>> outputs;
  for (size_t i = 0; i < todo.size(); ++i) {
    const EnrichmentConfig& e = *todo[i];
    if (progress) progress(static_cast<double>(i) / static_cast<double>(todo.size()), e.name);
    const int64_t start = MicrosNow();
    StatusOr<Computed> computed = InternalError("not computed");
    if (e.before_unification()) {
      computed = ComputeSourceEnrichment(workspace, snap, project, e);
    } else {
      if (!linked) {
        CDP_ASSIGN_OR_RETURN(linked, LinkedEntities::Open(workspace, project));
      }
      computed = ComputeOne(*linked, project, e, run_date);
    }
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
    const std::string stage = e.before_unification() ? "source_enrichments" : "enrichments";
    outputs.emplace_back(r.output_entity, std::move(computed->table), EntityProperties(stage, e, r));
    reports.push_back(std::move(r));
  }
  if (linked) {
    for (const auto& w : linked->warnings()) {
      if (warnings) warnings->push_back(w);
    }
  }
  CDP_RETURN_IF_ERROR(CommitOutputs(workspace, outputs, removed));
  return reports;
}

// Enrichment_* entities of the snapshot no configured enrichment writes.
std::vector<std::string> StaleOutputs(const ProjectConfig& project, const Snapshot& snap) {
  std::set<std::string> wanted;
  for (const auto& e : project.enrichments) wanted.insert(EnrichmentEntityName(e.name));
  std::vector<std::string> removed;
  for (const auto& [name, info] : snap.entities) {
    if (EntityKindOf(name) == EntityKind::kEnrichment && !wanted.count(name)) removed.push_back(name);
  }
  return removed;
}

bool IsSourceEnrichmentOutput(const ProjectConfig& project, const std::string& entity) {
  for (const auto& e : project.enrichments) {
    if (e.before_unification() && EnrichmentEntityName(e.name) == entity) return true;
  }
  return false;
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
        if (e.before_unification()) {
          if (!project.FindSource(e.source)) {
            return InvalidArgumentError(owner + ": source: '" + e.source + "' is not a source");
          }
          if (!project.unification.FindSource(e.source)) {
            return InvalidArgumentError(owner + ": source: '" + e.source +
                                        "' is not a unification source (before_unification enriches the records "
                                        "unification reads)");
          }
          if (project.unification.FindSource(e.entity)) {
            return InvalidArgumentError(owner + ": entity: '" + e.entity +
                                        "' is a unification source itself; a third-party entity is matched, not unified");
          }
          // Fields the source declares (undeclared ones are checked against the ingested data).
          const SourceConfig* source = project.FindSource(e.source);
          const SourceConfig* third = project.FindSource(e.entity);
          for (const auto& k : e.keys) {
            for (const auto& [cfg, field, key] : {std::tuple{source, k.source_field, "source_field"},
                                                  std::tuple{third, k.field, "field"}}) {
              const std::string& name = field;  // a lambda may not capture a structured binding (clang)
              if (!cfg->infer_types && !cfg->fields.empty() &&
                  std::none_of(cfg->fields.begin(), cfg->fields.end(),
                               [&name](const SourceFieldConfig& f) { return f.name == name; })) {
                return InvalidArgumentError(owner + ": keys: " + key + " '" + field + "' is not a field of " +
                                            cfg->name);
              }
            }
          }
        }
        // Two enrichments before unification of one source may not write the same column.
        if (e.before_unification()) {
          for (const auto& o : project.enrichments) {
            if (&o == &e) break;
            if (!o.before_unification() || o.source != e.source) continue;
            for (const auto& f : e.fields) {
              for (const auto& g : o.fields) {
                if (f.output() == g.output()) {
                  return InvalidArgumentError(owner + ": fields: '" + f.output() + "' is also written into " + e.source +
                                              " by enrichment '" + o.name + "'");
                }
              }
            }
          }
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
           {"when", EnrichmentTimingName(e.when)},
           {"output_entity", entity},
           {"rows", it == snap.entities.end() ? Json(nullptr) : Json(it->second.num_rows)},
           {"computed", it != snap.entities.end()}};
    if (e.before_unification()) j["source"] = e.source;
    if (e.kind == EnrichmentKind::kThirdParty) {
      // The counts of the run that wrote the entity (null until computed).
      Json match = nullptr;
      if (it != snap.entities.end()) {
        Json props = Json::parse(it->second.properties_json, nullptr, false);
        if (!props.is_discarded() && props.is_object() && props.contains("match")) match = props["match"];
      }
      j["match_rate"] = match.is_object() && match.contains("match_rate") ? match["match_rate"] : Json(nullptr);
      j["match"] = match;
    }
    out.push_back(std::move(j));
  }
  return out;
}

StatusOr<Json> CustomerEnrichments(Workspace& workspace, int64_t customer_id) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  CDP_RETURN_IF_ERROR(CheckCustomerExists(workspace, customer_id));
  return CustomerEnrichments(workspace, project, snap, customer_id);
}

StatusOr<Json> CustomerEnrichments(Workspace& workspace, const ProjectConfig& project, const Snapshot& snap,
                                   int64_t customer_id) {
  Json out = Json::array();
  for (const auto& e : project.enrichments) {
    const std::string entity = EnrichmentEntityName(e.name);
    // Before unification the values are in the source's records (and so in the profile).
    if (e.before_unification() || !snap.entities.count(entity)) continue;
    auto indexed = LoadCustomerRows(workspace, snap, entity);
    if (!indexed.ok() && indexed.status().code() == StatusCode::kFailedPrecondition) continue;  // no CustomerId
    CDP_RETURN_IF_ERROR(indexed.status());
    const Table* table = (*indexed)->table.get();
    const std::vector<uint32_t> rows = (*indexed)->Of(customer_id);
    Json j{{"name", e.name}, {"display_name", e.display_name.empty() ? e.name : e.display_name},
           {"kind", EnrichmentKindName(e.kind)}};
    if (e.kind == EnrichmentKind::kAffinity) {
      Json values = Json::array();
      for (uint32_t r : rows) {
        values.push_back(Json{{"Value", table->ColumnByName("Value")->StringAt(r)},
                              {"Score", table->ColumnByName("Score")->Int64At(r)},
                              {"Level", table->ColumnByName("Level")->StringAt(r)}});
      }
      j["values"] = values;
    } else {
      Json values = Json::object();
      for (uint32_t r : rows) {
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
    for (const auto& e : c.project.enrichments) {
      if (!e.before_unification()) return std::optional<std::string>();
    }
    return std::optional<std::string>(c.project.enrichments.empty() ? "no enrichments configured"
                                                                     : "no enrichments after unification configured");
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    std::vector<EnrichmentConfig> after;
    for (const auto& e : c.project.enrichments) {
      if (!e.before_unification()) after.push_back(e);
    }
    in.AddDefinition("enrichments", EnrichmentsToJson(after));
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
  d.is_output = [](const StageContext& c, const std::string& n) {
    return EntityKindOf(n) == EntityKind::kEnrichment && !IsSourceEnrichmentOutput(c.project, n);
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    CDP_RETURN_IF_ERROR(ValidateEnrichments(c.project));
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    std::vector<const EnrichmentConfig*> todo;
    for (const auto& e : c.project.enrichments) {
      if (!e.before_unification()) todo.push_back(&e);
    }
    // One enrichment's failure is a warning: the others are written and its last output stays.
    CDP_ASSIGN_OR_RETURN(std::vector<EnrichmentReport> reports,
                         RunAndCommit(c.workspace, c.project, todo, StaleOutputs(c.project, snap), c.run_date,
                                      c.progress, &r->warnings));
    for (const auto& rep : reports) r->rows_out += rep.rows;
    r->message = std::to_string(reports.size()) + " of " + std::to_string(todo.size()) + " enrichment(s) computed";
    return Status::Ok();
  };
  return d;
}

void AddSourceEnrichmentInputs(const ProjectConfig& project, const Snapshot& snap, StageInputs* in) {
  for (const auto& e : project.enrichments) {
    if (!e.before_unification()) continue;
    in->AddDefinition("enrichment " + e.name, EnrichmentsToJson({e}));
    in->AddEntity(snap, EnrichmentEntityName(e.name));
  }
}

StatusOr<std::shared_ptr<const Table>> JoinSourceEnrichments(Workspace& workspace, const Snapshot& snap,
                                                             const ProjectConfig& project, const std::string& source,
                                                             std::shared_ptr<const Table> table) {
  for (const auto& e : project.enrichments) {
    if (!e.before_unification() || e.source != source) continue;
    const std::string owner = "enrichment '" + e.name + "'";
    const std::string entity = EnrichmentEntityName(e.name);
    if (!snap.entities.count(entity)) {
      return FailedPreconditionError(owner + " (before unification of '" + source +
                                     "') has not been computed; run `cdp refresh` or `cdp enrich " + e.name + "`");
    }
    CDP_ASSIGN_OR_RETURN(auto enrichment, LoadEntity(workspace, snap, entity));
    const std::string key = project.KeyOf(source);
    const Column* source_key = table->ColumnByName(key);
    if (enrichment->num_columns() < 2 || enrichment->schema().field(0).name != key || source_key == nullptr) {
      return FailedPreconditionError(owner + ": " + entity + " is not keyed by " + source + "'s key '" + key +
                                     "'; run `cdp enrich " + e.name + "` again");
    }
    // Source row -> enrichment row, by the key's text.
    std::unordered_map<std::string, size_t> row_of_key;
    const Column& ekey = enrichment->column(0);
    for (size_t r = 0; r < enrichment->num_rows(); ++r) {
      if (!ekey.IsNull(r)) row_of_key.emplace(ColumnText(ekey, r), r);
    }
    std::vector<int64_t> match(table->num_rows(), -1);
    for (size_t r = 0; r < table->num_rows(); ++r) {
      if (source_key->IsNull(r)) continue;
      auto it = row_of_key.find(ColumnText(*source_key, r));
      if (it != row_of_key.end()) match[r] = static_cast<int64_t>(it->second);
    }
    // Columns after the key and MatchedBy: fill a source field of the same
    // name where it is blank, or add the column.
    Schema schema = table->schema();
    std::vector<std::pair<size_t, size_t>> fills;  // (source column, enrichment column)
    std::vector<size_t> added;                     // enrichment columns appended
    for (size_t c = 2; c < enrichment->num_columns(); ++c) {
      const Field& f = enrichment->schema().field(c);
      const int idx = schema.FieldIndex(f.name);
      if (idx >= 0) {
        const DataType t = schema.field(static_cast<size_t>(idx)).type;
        if (t != f.type && t != DataType::kString) {
          return FailedPreconditionError(owner + ": '" + f.name + "' is " + std::string(DataTypeName(f.type)) +
                                         " in " + entity + " but " + std::string(DataTypeName(t)) + " in " + source);
        }
        fills.emplace_back(static_cast<size_t>(idx), c);
      } else {
        schema.AddField(f);
        added.push_back(c);
      }
    }
    Table joined(schema);
    for (size_t c = 0; c < table->num_columns(); ++c) joined.mutable_column(c) = table->column(c);
    for (const auto& [sc, ec] : fills) {
      const Column& from = table->column(sc);
      const Column& values = enrichment->column(ec);
      Column filled(from.type());
      filled.Reserve(table->num_rows());
      for (size_t r = 0; r < table->num_rows(); ++r) {
        const int64_t m = match[r];
        if (m < 0 || !IsBlank(from, r) || values.IsNull(static_cast<size_t>(m))) {
          filled.AppendFrom(from, r);
        } else if (values.type() == from.type()) {
          filled.AppendFrom(values, static_cast<size_t>(m));
        } else {
          filled.AppendString(ColumnText(values, static_cast<size_t>(m)));
        }
      }
      joined.mutable_column(sc) = std::move(filled);
    }
    for (size_t i = 0; i < added.size(); ++i) {
      const Column& values = enrichment->column(added[i]);
      Column& out = joined.mutable_column(table->num_columns() + i);
      out.Reserve(table->num_rows());
      for (size_t r = 0; r < table->num_rows(); ++r) {
        if (match[r] < 0) {
          out.AppendNull();
        } else {
          out.AppendFrom(values, static_cast<size_t>(match[r]));
        }
      }
    }
    CDP_RETURN_IF_ERROR(joined.Validate());
    table = std::make_shared<const Table>(std::move(joined));
  }
  return table;
}

StageDescriptor SourceEnrichmentsStage() {
  StageDescriptor d;
  d.name = "source_enrichments";
  d.not_applicable = [](const StageContext& c) -> StatusOr<std::optional<std::string>> {
    for (const auto& e : c.project.enrichments) {
      if (e.before_unification()) return std::optional<std::string>();
    }
    return std::optional<std::string>("no enrichments before unification configured");
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    std::vector<EnrichmentConfig> before;
    for (const auto& e : c.project.enrichments) {
      if (!e.before_unification()) continue;
      before.push_back(e);
      in.AddEntity(snap, e.source);
      in.AddEntity(snap, e.entity);
      in.AddDefinition("key " + e.source, c.project.KeyOf(e.source));
    }
    in.AddDefinition("enrichments", EnrichmentsToJson(before));
    // The checks of new columns read the unification's field mapping.
    in.AddDefinition("unification", UnifyConfigToJson(c.project.unification));
    return in;
  };
  d.is_output = [](const StageContext& c, const std::string& n) { return IsSourceEnrichmentOutput(c.project, n); };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    CDP_RETURN_IF_ERROR(ValidateEnrichments(c.project));
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    std::vector<const EnrichmentConfig*> todo;
    for (const auto& e : c.project.enrichments) {
      if (e.before_unification()) todo.push_back(&e);
    }
    // A failure fails the stage: unification would otherwise read the
    // source without (or with stale) enrichment columns.
    CDP_ASSIGN_OR_RETURN(std::vector<EnrichmentReport> reports,
                         RunAndCommit(c.workspace, c.project, todo, StaleOutputs(c.project, snap), c.run_date,
                                      c.progress, nullptr));
    std::string rates;
    for (const auto& rep : reports) {
      r->rows_in += rep.details.value("records", int64_t{0});
      r->rows_out += rep.rows;
      rates += (rates.empty() ? "" : ", ") + rep.name + " " + FormatFixed(100 * rep.details.value("match_rate", 0.0), 1) + "%" +
               " of " + std::to_string(rep.details.value("records", int64_t{0})) + " records matched";
    }
    r->message = std::to_string(reports.size()) + " enrichment(s) before unification: " + rates;
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
