#include "workspace/insight_service.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "insight/customer_attributes.h"
#include "insight/differentiators.h"
#include "insight/lookalike.h"
#include "insight/overlap.h"
#include "insight/rfm.h"
#include "insight/suggest.h"
#include "workspace/definitions.h"
#include "workspace/linked_entities.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

int32_t TodayOr(int32_t run_date) { return run_date != 0 ? run_date : TodayUtc(); }

// The customer attributes of one generation at one as-of day, and the
// attributes pivoted from affinity enrichments ("CategoryAffinity: espresso"):
// usable by differentiators and lookalikes, not as segment conditions.
struct AttributeBundle {
  CustomerAttributes attributes;
  std::vector<std::string> pivoted;
};

// What every insight reads: the project, the customers and their attributes.
struct InsightData {
  ProjectConfig project;
  std::unique_ptr<LinkedEntities> linked;
  std::shared_ptr<const AttributeBundle> bundle;  // null unless asked for
  std::map<std::string, SegmentRecord> segments;
  int32_t as_of = 0;
  const CustomerAttributes& attributes() const { return bundle->attributes; }
  const std::vector<std::string>& pivoted() const { return bundle->pivoted; }
};

// The last bundle built, by workspace directory, generation and as-of day: a
// generation's entities never change, so every insight call on the same
// generation (the UI asks for attributes, differentiators and suggestions in
// turn) shares one build (4.4 s at 1M customers). One entry: a new generation
// or day replaces it, so at most one bundle is held beyond the callers'.
class AttributeCache {
 public:
  std::shared_ptr<const AttributeBundle> Find(const std::string& dir, uint64_t generation, int32_t as_of) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bundle_ && dir == dir_ && generation == generation_ && as_of == as_of_) return bundle_;
    return nullptr;
  }
  void Put(const std::string& dir, uint64_t generation, int32_t as_of, std::shared_ptr<const AttributeBundle> b) {
    std::lock_guard<std::mutex> lock(mu_);
    dir_ = dir;
    generation_ = generation;
    as_of_ = as_of;
    bundle_ = std::move(b);
  }

 private:
  std::mutex mu_;
  std::string dir_;
  uint64_t generation_ = 0;
  int32_t as_of_ = 0;
  std::shared_ptr<const AttributeBundle> bundle_;
};

AttributeCache& Cache() {
  static AttributeCache* cache = new AttributeCache();
  return *cache;
}

// A prediction's explanation columns (Factor1, Factor1Impact, ...): true of
// the customer, but what the model saw, not what the customer is; as
// attributes they would crowd differentiators and suggestions with
// "Factor1: spend in the last 90 days".
bool IsExplanationField(std::string_view field) {
  if (!field.starts_with("Factor") || field.size() <= 6) return false;
  size_t i = 6;
  while (i < field.size() && field[i] >= '0' && field[i] <= '9') ++i;
  if (i == 6) return false;
  std::string_view rest = field.substr(i);
  return rest.empty() || rest == "Impact";
}

constexpr size_t kMaxPivotValues = 50;

// An affinity enrichment (CustomerId, Value, Score, ...: several rows per
// customer) as one Score column per value over the customer index, 0 when
// the customer has no affinity to it. Null when the entity is not of that form.
std::shared_ptr<const Table> PivotAffinity(const Table& table, const std::string& enrichment,
                                           const CustomerIndex& customers) {
  const Column* ids = table.ColumnByName("CustomerId");
  const Column* value = table.ColumnByName("Value");
  const Column* score = table.ColumnByName("Score");
  if (!ids || !value || !score || ids->type() != DataType::kInt64 || value->type() != DataType::kString ||
      score->type() != DataType::kInt64) {
    return nullptr;
  }
  std::map<std::string, size_t> column_of;
  for (size_t r = 0; r < table.num_rows(); ++r) {
    if (value->IsNull(r)) continue;
    column_of.emplace(std::string(value->StringAt(r)), 0);
    if (column_of.size() > kMaxPivotValues) return nullptr;
  }
  std::vector<Field> fields;
  size_t i = 0;
  for (auto& [v, c] : column_of) {
    c = i++;
    fields.push_back(Field{enrichment + ": " + v, DataType::kDouble, {}});
  }
  std::vector<std::vector<double>> values(fields.size(), std::vector<double>(customers.size(), 0.0));
  for (size_t r = 0; r < table.num_rows(); ++r) {
    if (ids->IsNull(r) || value->IsNull(r) || score->IsNull(r)) continue;
    int64_t c = customers.IndexOf(ids->Int64At(r));
    if (c < 0) continue;
    values[column_of[std::string(value->StringAt(r))]][static_cast<size_t>(c)] = static_cast<double>(score->Int64At(r));
  }
  auto out = std::make_shared<Table>(Schema(fields));
  for (size_t c = 0; c < customers.size(); ++c) {
    for (size_t f = 0; f < fields.size(); ++f) out->mutable_column(f).AppendDouble(values[f][c]);
    out->FinishRow();
  }
  return out;
}

// True when every CustomerId of `table` is distinct (one row per customer).
bool OneRowPerCustomer(const Table& table, const CustomerIndex& customers, std::vector<int64_t>* customer_of) {
  const Column* ids = table.ColumnByName("CustomerId");
  if (ids == nullptr || ids->type() != DataType::kInt64) return false;
  std::vector<uint8_t> seen(customers.size(), 0);
  customer_of->assign(table.num_rows(), -1);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    if (ids->IsNull(r)) continue;
    int64_t c = customers.IndexOf(ids->Int64At(r));
    if (c < 0) continue;
    if (seen[static_cast<size_t>(c)]++) return false;
    (*customer_of)[r] = c;
  }
  return true;
}

StatusOr<std::shared_ptr<const AttributeBundle>> BuildAttributeBundle(LinkedEntities& linked, int32_t as_of) {
  auto bundle = std::make_shared<AttributeBundle>();
  std::vector<std::shared_ptr<const Table>> keep;  // alive until the attributes are built
  std::vector<AttributeSource> sources;
  CDP_ASSIGN_OR_RETURN(auto customer, linked.Load(std::string(kCustomerEntity)));
  keep.push_back(customer);
  sources.push_back(AttributeSource{std::string(kCustomerEntity), customer.get(), {}});
  const auto& entities = linked.snapshot().entities;
  if (entities.count(std::string(kCustomerMeasureEntity))) {
    CDP_ASSIGN_OR_RETURN(auto measures, linked.Load(std::string(kCustomerMeasureEntity)));
    keep.push_back(measures);
    sources.push_back(AttributeSource{std::string(kCustomerMeasureEntity), measures.get(), {}});
  }
  std::vector<std::string> skipped;
  std::vector<std::string> exclude;
  for (const auto& [name, info] : entities) {
    EntityKind kind = EntityKindOf(name);
    if (kind != EntityKind::kPrediction && kind != EntityKind::kEnrichment) continue;
    // An enrichment of a source's records before unification is keyed by the
    // source's key: its values are in Customer already.
    if (info.schema.FieldIndex("CustomerId") < 0) continue;
    CDP_ASSIGN_OR_RETURN(auto table, linked.Load(name));
    if (kind == EntityKind::kPrediction) {
      for (const auto& f : table->schema().fields()) {
        if (IsExplanationField(f.name)) exclude.push_back(f.name);
      }
    }
    AttributeSource s{name, table.get(), {}};
    if (!OneRowPerCustomer(*table, linked.customers(), &s.customer_of)) {
      std::shared_ptr<const Table> pivot;
      if (kind == EntityKind::kEnrichment) {
        pivot = PivotAffinity(*table, std::string(ParseEntityName(name).subject), linked.customers());
      }
      if (!pivot) {
        skipped.push_back(name + ": several rows per customer (use it in segment rules instead)");
        continue;
      }
      for (const auto& f : pivot->schema().fields()) bundle->pivoted.push_back(f.name);
      keep.push_back(pivot);
      sources.push_back(AttributeSource{name, pivot.get(), {}});
      continue;
    }
    keep.push_back(table);
    sources.push_back(std::move(s));
  }
  AttributeOptions options;
  options.as_of_day = as_of;
  std::sort(exclude.begin(), exclude.end());
  exclude.erase(std::unique(exclude.begin(), exclude.end()), exclude.end());
  options.exclude = std::move(exclude);
  CDP_ASSIGN_OR_RETURN(bundle->attributes,
                       BuildCustomerAttributes(static_cast<int64_t>(linked.customers().size()), sources, options));
  for (auto& s : skipped) bundle->attributes.skipped.push_back(std::move(s));
  return std::shared_ptr<const AttributeBundle>(std::move(bundle));
}

StatusOr<InsightData> LoadInsightData(Workspace& workspace, bool with_attributes, int32_t run_date = 0) {
  InsightData d;
  CDP_ASSIGN_OR_RETURN(d.project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(d.linked, LinkedEntities::Open(workspace, d.project));
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> segments, workspace.catalog().ListSegments());
  for (auto& s : segments) d.segments.emplace(s.name, std::move(s));
  d.as_of = TodayOr(run_date);
  if (!with_attributes) return d;
  // The generation, and when its newest entity was written: a workspace made
  // again in the same directory starts its generations again.
  uint64_t generation = d.linked->snapshot().generation;
  int64_t written = 0;
  for (const auto& [name, info] : d.linked->snapshot().entities) written = std::max(written, info.written_at_micros);
  generation ^= static_cast<uint64_t>(written) * 0x9E3779B97F4A7C15ULL;
  d.bundle = Cache().Find(workspace.dir(), generation, d.as_of);
  if (d.bundle) return d;
  CDP_ASSIGN_OR_RETURN(d.bundle, BuildAttributeBundle(*d.linked, d.as_of));
  Cache().Put(workspace.dir(), generation, d.as_of, d.bundle);
  return d;
}

StatusOr<const SegmentRecord*> FindSegment(const InsightData& d, const std::string& name, const std::string& what) {
  auto it = d.segments.find(name);
  if (it == d.segments.end()) {
    return NotFoundError(what + ": there is no segment '" + name + "'");
  }
  return &it->second;
}

// The members of a saved, evaluated segment as customer indexes.
StatusOr<CustomerSet> MembersOf(InsightData& d, const std::string& name, const std::string& what) {
  CDP_RETURN_IF_ERROR(FindSegment(d, name, what).status());
  const std::string entity = SegmentEntityName(name);
  if (!d.linked->snapshot().entities.count(entity)) {
    return FailedPreconditionError(what + ": segment '" + name + "' has not been evaluated yet; run the segment first");
  }
  CDP_ASSIGN_OR_RETURN(auto table, d.linked->Load(entity));
  CustomerSet set;
  for (int64_t id : SegmentMemberIds(*table)) {
    int64_t index = d.linked->customers().IndexOf(id);
    if (index >= 0) set.Add(static_cast<uint32_t>(index));
  }
  set.Optimize();
  return set;
}

std::string DisplayName(const InsightData& d, const std::string& name) {
  auto it = d.segments.find(name);
  if (it == d.segments.end()) return name;
  auto def = ParseStoredSegmentJson(it->second.definition_json);
  return def.ok() && !def->display_name.empty() ? def->display_name : name;
}

const CustomerAttribute* FindAttribute(const InsightData& d, const std::string& name) {
  return d.attributes().Find(name);
}

Status UnknownAttribute(const InsightData& d, const std::string& parameter, const std::string& name) {
  std::string list;
  size_t shown = 0;
  for (const auto& a : d.attributes().attributes) {
    if (shown++ == 20) {
      list += ", ...";
      break;
    }
    list += (list.empty() ? "" : ", ") + a.name;
  }
  return NotFoundError(parameter + ": '" + name + "' is not a customer attribute (" + list + ")");
}

// The fields a segment's rules read, as "entity.field" (for the lookalike's
// exclusions: a model that learns the source's own rule finds nothing new).
std::vector<std::string> DefiningFields(const SegmentDefinition& d, const CustomerAttributes& attributes) {
  std::set<std::string> out;
  auto add = [&](const std::string& entity, const std::string& field) {
    if (field.empty()) return;
    for (const auto& a : attributes.attributes) {
      if (a.entity == entity && a.field == field) out.insert(a.name);
    }
  };
  for (const auto& rule : d.rules) {
    auto visit = [&](const Condition& c) {
      if (c.is_aggregate()) return;
      add(c.entity.empty() ? rule.entity : c.entity, c.field);
    };
    for (const auto& term : rule.conditions) {
      if (const Condition* c = std::get_if<Condition>(&term)) {
        visit(*c);
      } else {
        for (const auto& c : std::get<OrGroup>(term).any_of) visit(c);
      }
    }
  }
  return {out.begin(), out.end()};
}

struct Expansion {
  LookalikeResult result;
  Json report;
};

StatusOr<Expansion> RunLookalike(InsightData& d, const SegmentDefinition& def) {
  const ExpansionSpec& spec = def.expansion;
  CDP_ASSIGN_OR_RETURN(CustomerSet source, MembersOf(d, spec.source, "source"));
  std::optional<CustomerSet> pool;
  if (!spec.pool.empty()) {
    CDP_ASSIGN_OR_RETURN(pool, MembersOf(d, spec.pool, "pool"));
  }
  LookalikeOptions options;
  options.share = spec.share;
  options.min_similarity = spec.min_similarity;
  options.include_source = spec.include_source;
  options.seed = spec.seed;
  auto source_def = ParseStoredSegmentJson(d.segments.at(spec.source).definition_json);
  if (source_def.ok()) options.exclude = DefiningFields(*source_def, d.attributes());
  CDP_RETURN_IF_ERROR(ValidateLookalikeOptions(options));
  Expansion e;
  CDP_ASSIGN_OR_RETURN(e.result, FindLookalikes(d.attributes(), source, pool ? &*pool : nullptr, options));
  e.report = ToJson(e.result, 20);
  // Customer indexes are internal: the report names CustomerIds.
  Json preview = Json::array();
  for (size_t i = 0; i < e.result.members.size() && i < 20; ++i) {
    const auto& m = e.result.members[i];
    preview.push_back(Json{{"CustomerId", d.linked->customers().customer_id(m.customer)},
                           {"Similarity", m.similarity},
                           {"Band", SimilarityBandName(m.band)}});
  }
  e.report.erase("members");
  e.report["excluded_attributes"] = options.exclude;
  e.report["preview"] = std::move(preview);
  return e;
}

// Segment_<name> of an expansion: CustomerId, Similarity, Band (by CustomerId).
StatusOr<int64_t> WriteMembers(Workspace& workspace, const InsightData& d, const std::string& name,
                               const LookalikeResult& result) {
  std::vector<const LookalikeMember*> members;
  for (const auto& m : result.members) members.push_back(&m);
  std::sort(members.begin(), members.end(),
            [](const LookalikeMember* a, const LookalikeMember* b) { return a->customer < b->customer; });
  Table t(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Similarity", DataType::kDouble, {}},
                  Field{"Band", DataType::kString, {}}}));
  for (const LookalikeMember* m : members) {
    t.mutable_column(0).AppendInt64(d.linked->customers().customer_id(m->customer));
    t.mutable_column(1).AppendDouble(std::round(static_cast<double>(m->similarity) * 10000.0) / 10000.0);
    t.mutable_column(2).AppendString(SimilarityBandName(m->band));
    t.FinishRow();
  }
  const auto count = static_cast<int64_t>(members.size());
  std::vector<std::pair<std::string, Table>> outputs;
  outputs.emplace_back(SegmentEntityName(name), std::move(t));
  CDP_RETURN_IF_ERROR(CommitEntities(workspace, outputs, {}, "segments"));
  CDP_ASSIGN_OR_RETURN(int64_t run_id, workspace.catalog().BeginRun("segment-expand"));
  CDP_RETURN_IF_ERROR(workspace.catalog().RecordSegmentCount(name, run_id, count));
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run_id, "succeeded", "", "{}"));
  return count;
}

std::string IsoTime(int64_t micros) { return FormatTimestamp(micros); }

}  // namespace

// ---- Overlap ---------------------------------------------------------------

StatusOr<Json> SegmentOverlap(Workspace& workspace, const OverlapRequest& request) {
  if (request.segments.size() < 2 || request.segments.size() > static_cast<size_t>(kMaxOverlapSegments)) {
    return InvalidArgumentError("segments: give 2 to " + std::to_string(kMaxOverlapSegments) + " segments (got " +
                                std::to_string(request.segments.size()) + ")");
  }
  std::set<std::string> distinct(request.segments.begin(), request.segments.end());
  if (distinct.size() != request.segments.size()) return InvalidArgumentError("segments: a segment is named twice");
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, !request.breakdown.empty()));
  std::vector<SegmentMembers> sets;
  for (const auto& name : request.segments) {
    CDP_ASSIGN_OR_RETURN(CustomerSet members, MembersOf(d, name, "segments"));
    sets.push_back(SegmentMembers{name, std::move(members)});
  }
  OverlapOptions options;
  if (!request.breakdown.empty()) {
    options.breakdown = FindAttribute(d, request.breakdown);
    if (!options.breakdown) return UnknownAttribute(d, "breakdown", request.breakdown);
  }
  CDP_ASSIGN_OR_RETURN(OverlapResult result, ComputeOverlap(sets, options));
  Json j = result.ToJson();
  j["customers"] = d.linked->customers().size();
  for (auto& s : j["segments"]) s["display_name"] = DisplayName(d, s["name"].get<std::string>());
  return j;
}

// ---- Differentiators ---------------------------------------------------------

StatusOr<Json> CompareSegment(Workspace& workspace, const CompareRequest& request) {
  if (request.limit < 1 || request.limit > 1000) {
    return InvalidArgumentError("limit: " + std::to_string(request.limit) + " is out of range (1..1000)");
  }
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, true));
  CDP_ASSIGN_OR_RETURN(CustomerSet segment, MembersOf(d, request.segment, "segment"));
  DifferentiatorOptions options;
  std::optional<CustomerSet> base;
  if (request.base.empty() || request.base == "rest") {
    options.base = DifferentiatorBase::kRestOfCustomers;
  } else if (request.base == "all") {
    options.base = DifferentiatorBase::kAllCustomers;
  } else {
    if (request.base == request.segment) return InvalidArgumentError("base: compare a segment with another one");
    CDP_ASSIGN_OR_RETURN(base, MembersOf(d, request.base, "base"));
    options.base = DifferentiatorBase::kSegment;
    options.base_segment = &*base;
    options.base_name = DisplayName(d, request.base);
  }
  CDP_ASSIGN_OR_RETURN(DifferentiatorsResult result, ComputeDifferentiators(d.attributes(), segment, options));
  Json j = result.ToJson();
  if (j["attributes"].size() > static_cast<size_t>(request.limit)) {
    Json cut = Json::array();
    for (size_t i = 0; i < static_cast<size_t>(request.limit); ++i) cut.push_back(j["attributes"][i]);
    j["attributes"] = std::move(cut);
  }
  Json out;
  out["segment"] = request.segment;
  out["display_name"] = DisplayName(d, request.segment);
  for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = it.value();
  out["skipped"] = d.attributes().skipped;
  return out;
}

// ---- Lookalike -------------------------------------------------------------------

StatusOr<Json> ExpandSegment(Workspace& workspace, const ExpandRequest& request) {
  if (request.source.empty()) return InvalidArgumentError("source: choose the source segment");
  SegmentDefinition def;
  def.type = SegmentType::kExpansion;
  def.name = request.output.empty() ? request.source + "_Similar" : request.output;
  def.display_name = request.display_name;
  def.description = "Customers similar to " + request.source;
  def.expansion.source = request.source;
  def.expansion.pool = request.pool;
  def.expansion.share = request.share;
  def.expansion.min_similarity = request.min_similarity;
  def.expansion.include_source = request.include_source;
  def.expansion.seed = request.seed;
  if (!IsValidSegmentName(def.name)) {
    return InvalidArgumentError("output: '" + def.name + "' is not a valid segment name: " +
                                std::string(kSegmentNameRule));
  }
  if (!(def.expansion.share > 0 && def.expansion.share <= 1)) {
    return InvalidArgumentError("share: " + std::to_string(def.expansion.share) + " is not in (0, 1]");
  }
  if (def.expansion.min_similarity != 0 && !(def.expansion.min_similarity >= 0.4 && def.expansion.min_similarity < 1)) {
    return InvalidArgumentError("min_similarity: 0 (use share) or a similarity from 0.4 to below 1");
  }
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, true));
  if (d.segments.count(def.name)) {
    auto existing = ParseStoredSegmentJson(d.segments.at(def.name).definition_json);
    if (request.save && (!existing.ok() || existing->type != SegmentType::kExpansion)) {
      return AlreadyExistsError("output: a segment named '" + def.name + "' exists and is not an expansion segment");
    }
  }
  CDP_ASSIGN_OR_RETURN(Expansion e, RunLookalike(d, def));
  Json out;
  out["segment"] = def.name;
  out["source"] = request.source;
  out["pool"] = request.pool.empty() ? "all customers outside the source" : request.pool;
  out["saved"] = request.save;
  out["members"] = static_cast<int64_t>(e.result.members.size());
  for (auto it = e.report.begin(); it != e.report.end(); ++it) out[it.key()] = it.value();
  if (!request.save) return out;
  DefinitionOptions no_evaluation;
  no_evaluation.evaluate = false;  // the members are the ones computed above
  CDP_RETURN_IF_ERROR(SaveSegmentDefinition(workspace, def, SegmentSaveMode::kUpsert, no_evaluation).status());
  CDP_ASSIGN_OR_RETURN(int64_t count, WriteMembers(workspace, d, def.name, e.result));
  out["members"] = count;
  out["definition"] = Json::parse(SegmentToJson(def, -1));
  return out;
}

StatusOr<int64_t> WriteExpansionMembers(Workspace& workspace, const SegmentDefinition& definition) {
  if (definition.type != SegmentType::kExpansion) {
    return InvalidArgumentError("segment '" + definition.name + "' is not an expansion segment");
  }
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, true));
  CDP_ASSIGN_OR_RETURN(Expansion e, RunLookalike(d, definition));
  return WriteMembers(workspace, d, definition.name, e.result);
}

// ---- Suggestions -------------------------------------------------------------------

StatusOr<Json> SuggestSegments(Workspace& workspace, const SuggestRequest& request) {
  if (request.target.empty()) return InvalidArgumentError("target: choose a numeric or categorical attribute");
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, true));
  if (!FindAttribute(d, request.target)) return UnknownAttribute(d, "target", request.target);
  SuggestOptions options;
  options.target = request.target;
  options.value = request.value;
  options.min_lift = request.min_lift;
  options.min_share = request.min_share;
  options.max_suggestions = request.max_suggestions;
  options.as_of_day = d.as_of;
  for (const auto& p : d.pivoted()) {
    if (p != request.target) options.exclude.push_back(p);  // no segment condition can express them
  }
  for (const auto& name : request.exclude) {
    if (!FindAttribute(d, name)) return UnknownAttribute(d, "exclude", name);
    options.exclude.push_back(name);
  }
  if (request.profile_only) {
    for (const auto& a : d.attributes().attributes) {
      if (a.entity != kCustomerEntity && a.name != request.target) options.exclude.push_back(a.name);
    }
  }
  std::sort(options.exclude.begin(), options.exclude.end());
  options.exclude.erase(std::unique(options.exclude.begin(), options.exclude.end()), options.exclude.end());
  CDP_RETURN_IF_ERROR(ValidateSuggestOptions(options));
  CDP_ASSIGN_OR_RETURN(SuggestResult result, FindSuggestedSegments(d.attributes(), options));
  return ToJson(result);
}

// The last transaction's time and the transaction count over `activities`.
std::vector<MeasureConfig> RfmMeasures(const std::set<std::string>& activities) {
  MeasureFilterConfig filter{"Activity", "in", std::vector<std::string>(activities.begin(), activities.end())};
  MeasureConfig last;
  last.name = "RfmLastTransaction";
  last.description = "the last transaction (for RFM segments)";
  last.function = AggregateFunction::kMax;
  last.entity = std::string(kUnifiedActivityEntity);
  last.field = "Timestamp";
  last.filters = {filter};
  MeasureConfig count;
  count.name = "RfmTransactions";
  count.description = "the number of transactions (for RFM segments)";
  count.function = AggregateFunction::kCount;
  count.entity = std::string(kUnifiedActivityEntity);
  count.filters = {filter};
  count.default_value = 0;
  return {last, count};
}

// The same aggregate, whatever the name, description and default.
bool SameAggregate(const MeasureConfig& a, const MeasureConfig& b) {
  MeasureConfig x = a, y = b;
  x.name = y.name = "";
  x.description = y.description = "";
  x.default_value = y.default_value = std::nullopt;
  if (x.function == AggregateFunction::kCount) x.field = y.field = "";
  return x == y;
}

StatusOr<Json> RfmSuggestions(Workspace& workspace, const RfmRequest& request) {
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, false, request.run_date));
  const auto& entities = d.linked->snapshot().entities;
  if (!entities.count(std::string(kUnifiedActivityEntity))) {
    return FailedPreconditionError("there are no activities yet: define activities and run a refresh");
  }
  // Transactions: rows of the chosen activities (default: every activity of type SalesOrder) with an amount.
  std::set<std::string> wanted(request.activities.begin(), request.activities.end());
  for (const auto& a : wanted) {
    bool known = std::any_of(d.project.activities.begin(), d.project.activities.end(),
                             [&](const ActivityConfig& x) { return x.name == a; });
    if (!known) return NotFoundError("activities: there is no activity '" + a + "'");
  }
  if (wanted.empty()) {
    for (const auto& a : d.project.activities) {
      if (a.type == "SalesOrder" && !a.amount.empty()) wanted.insert(a.name);
    }
    if (wanted.empty()) {
      return InvalidArgumentError("activities: no activity has type SalesOrder and an amount; name the activities "
                                  "that are transactions");
    }
  }
  CDP_ASSIGN_OR_RETURN(auto ua, d.linked->Load(std::string(kUnifiedActivityEntity)));
  const Column* ids = ua->ColumnByName("CustomerId");
  const Column* activity = ua->ColumnByName("Activity");
  const Column* ts = ua->ColumnByName("Timestamp");
  const Column* amount = ua->ColumnByName("Amount");
  if (!ids || !activity || !ts || !amount) return DataLossError("UnifiedActivity lacks its columns");
  std::vector<int64_t> customer;
  std::vector<int32_t> day;
  std::vector<double> value;
  for (size_t r = 0; r < ua->num_rows(); ++r) {
    if (ids->IsNull(r) || ts->IsNull(r) || activity->IsNull(r)) continue;
    if (!wanted.count(std::string(activity->StringAt(r)))) continue;
    int64_t c = d.linked->customers().IndexOf(ids->Int64At(r));
    if (c < 0) continue;
    customer.push_back(c);
    day.push_back(DayOfMicros(ts->Int64At(r)));
    value.push_back(amount->IsNull(r) ? std::nan("") : amount->DoubleAt(r));
  }
  CDP_ASSIGN_OR_RETURN(RfmInput input, RfmInputFromTransactions(static_cast<int64_t>(d.linked->customers().size()),
                                                                customer, day, value));
  RfmOptions options;
  options.as_of_day = request.run_date;
  options.last_date_field = request.last_date_measure;
  options.frequency_field = request.frequency_measure;
  Json measures_to_add = Json::array();
  Json measures_added = Json::array();
  if (options.last_date_field.empty() && options.frequency_field.empty()) {
    // The measures an RFM segment needs, over exactly these activities; an
    // equal measure of the project (whatever its name) serves.
    std::vector<MeasureConfig> wanted_measures = RfmMeasures(wanted);
    std::vector<std::string> names;
    for (auto& m : wanted_measures) {
      auto same = std::find_if(d.project.measures.begin(), d.project.measures.end(),
                               [&](const MeasureConfig& x) { return SameAggregate(x, m); });
      if (same != d.project.measures.end()) {
        names.push_back(same->name);
        continue;
      }
      if (!request.add_measures) {
        measures_to_add.push_back(Json::parse(MeasuresToJson({m}))[0]);
        names.push_back("");
        continue;
      }
      DefinitionOptions write;
      write.run_date = request.run_date;
      auto saved = SaveMeasure(workspace, m, DefinitionWrite::kCreate, write);
      if (!saved.ok()) {
        return Status(saved.status().code(), "add_measures: measure '" + m.name + "': " + saved.status().message());
      }
      measures_added.push_back(m.name);
      names.push_back(m.name);
    }
    if (measures_to_add.empty()) {
      options.last_date_field = names[0];
      options.frequency_field = names[1];
    }
  }
  if (!request.last_date_measure.empty() || !request.frequency_measure.empty()) {
    for (const auto& m : {options.last_date_field, options.frequency_field}) {
      bool known = std::any_of(d.project.measures.begin(), d.project.measures.end(),
                               [&](const MeasureConfig& x) { return x.name == m; });
      if (!known) {
        return NotFoundError("measures: there is no measure '" + m + "' (name a last-date and a count measure)");
      }
    }
  }
  CDP_ASSIGN_OR_RETURN(RfmResult result, ComputeRfm(input, options));
  Json j = ToJson(result);
  j["activities"] = std::vector<std::string>(wanted.begin(), wanted.end());
  j["last_date_measure"] = options.last_date_field;
  j["frequency_measure"] = options.frequency_field;
  if (!measures_to_add.empty()) j["measures_to_add"] = measures_to_add;
  if (!measures_added.empty()) j["measures_added"] = measures_added;
  return j;
}

// ---- Lifecycle --------------------------------------------------------------------

StatusOr<Json> SegmentTrend(Workspace& workspace, const std::string& segment, int since_days) {
  if (since_days < 1 || since_days > 3650) {
    return InvalidArgumentError("days: " + std::to_string(since_days) + " is out of range (1..3650)");
  }
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetSegment(segment));
  if (!rec) return NotFoundError("there is no segment '" + segment + "'");
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentCountRecord> history, workspace.catalog().SegmentHistory(segment, 100000));
  const int64_t now = MicrosNow();
  const int64_t since = now - static_cast<int64_t>(since_days) * kMicrosPerDay;
  Json points = Json::array();
  for (const auto& h : history) {
    if (h.evaluated_at < since) continue;
    points.push_back(Json{{"at", IsoTime(h.evaluated_at)}, {"members", h.members}, {"run_id", h.run_id}});
  }
  Json growth = Json{{"members", nullptr}, {"week_ago", nullptr}, {"change", nullptr}, {"change_pct", nullptr}};
  if (!history.empty()) {
    growth["members"] = history.back().members;
    const int64_t week_ago = now - 7 * kMicrosPerDay;
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      if (it->evaluated_at <= week_ago) {
        growth["week_ago"] = it->members;
        growth["change"] = history.back().members - it->members;
        if (it->members > 0) {
          growth["change_pct"] = 100.0 * static_cast<double>(history.back().members - it->members) /
                                 static_cast<double>(it->members);
        }
        break;
      }
    }
  }
  return Json{{"segment", segment}, {"since", FormatDate(DayOfMicros(since))}, {"points", points}, {"growth", growth}};
}

StatusOr<Json> SegmentGrowth(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> segments, workspace.catalog().ListSegments());
  Json out = Json::array();
  for (const auto& s : segments) {
    auto d = ParseStoredSegmentJson(s.definition_json);
    CDP_ASSIGN_OR_RETURN(Json trend, SegmentTrend(workspace, s.name, 3650));
    out.push_back(Json{{"name", s.name},
                       {"display_name", d.ok() && !d->display_name.empty() ? d->display_name : s.name},
                       {"type", d.ok() ? std::string(SegmentTypeName(d->type)) : "?"},
                       {"status", s.status},
                       {"active", d.ok() ? d->active : true},
                       {"members", trend["growth"]["members"]},
                       {"week_ago", trend["growth"]["week_ago"]},
                       {"change", trend["growth"]["change"]}});
  }
  return out;
}

Status SetSegmentActive(Workspace& workspace, const std::string& segment, bool active) {
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetSegment(segment));
  if (!rec) return NotFoundError("there is no segment '" + segment + "'");
  CDP_ASSIGN_OR_RETURN(SegmentDefinition d, ParseStoredSegmentJson(rec->definition_json));
  if (d.type != SegmentType::kDynamic) {
    return FailedPreconditionError("segment '" + segment + "' is " + std::string(SegmentTypeName(d.type)) +
                                   ": only a dynamic segment is activated or deactivated");
  }
  if (d.active == active) return Status::Ok();
  d.active = active;
  return SaveSegmentDefinition(workspace, d, SegmentSaveMode::kUpdate, DefinitionOptions{}).status();
}

StatusOr<Json> InsightAttributes(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(InsightData d, LoadInsightData(workspace, true));
  Json list = Json::array();
  for (const auto& a : d.attributes().attributes) {
    Json j{{"name", a.name},
           {"entity", a.entity},
           {"field", a.field},
           {"kind", a.kind == AttributeKind::kNumeric ? "numeric" : "categorical"},
           {"is_date", a.is_date}};
    if (a.kind == AttributeKind::kCategorical) {
      Json cats = Json::array();
      for (size_t i = 0; i < a.categories.size() && i < 50; ++i) cats.push_back(a.categories[i]);
      j["categories"] = cats;
    }
    list.push_back(std::move(j));
  }
  return Json{{"customers", d.attributes().customers}, {"attributes", list}, {"skipped", d.attributes().skipped}};
}

}  // namespace cdp
