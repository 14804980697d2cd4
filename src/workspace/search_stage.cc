#include "workspace/search_stage.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "common/entity_names.h"
#include "search/search_index.h"
#include "workspace/activity_runner.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

constexpr char kMarkerFile[] = "cdp-served-generation.json";

std::string MarkerPath(const Workspace& workspace) { return SearchIndexDir(workspace) + "/" + kMarkerFile; }

// The entities with rows per customer whose fields are filters, with the
// fields each offers by default: the configured "ENTITY.FIELD" filters'
// entities, or with no filters configured the affinity enrichments' values
// (brands, categories) and the engagement enrichments' levels.
std::map<std::string, std::vector<std::string>> RelatedEntities(const ProjectConfig& project, const Snapshot& snap) {
  std::map<std::string, std::vector<std::string>> out;
  if (project.search.filters.empty()) {
    for (const EnrichmentConfig& e : project.enrichments) {
      if (e.before_unification()) continue;
      std::string entity = EnrichmentEntityName(e.name);
      if (!snap.entities.count(entity)) continue;
      if (e.kind == EnrichmentKind::kAffinity) out[entity].push_back("Value");
      if (e.kind == EnrichmentKind::kEngagement) out[entity].push_back("EngagementLevel");
    }
    return out;
  }
  for (const std::string& f : project.search.filters) {
    std::string entity, field;
    if (!SplitRelatedFilter(f, &entity, &field)) continue;
    if (entity != kCustomerEntity && snap.entities.count(entity)) out[entity];
  }
  return out;
}

// What the index is built from: Customer, the source keys, the segments'
// members, the related entities and the search configuration.
StageInputs IndexInputs(const ProjectConfig& project, const Snapshot& snap) {
  StageInputs in;
  in.AddEntity(snap, std::string(kCustomerEntity));
  in.AddEntity(snap, std::string(kSourceKeysEntity));
  for (const auto& [name, info] : snap.entities) {
    if (EntityKindOf(name) == EntityKind::kSegment) in.AddEntity(snap, name);
  }
  for (const auto& [entity, defaults] : RelatedEntities(project, snap)) {
    in.AddEntity(snap, entity);
    for (const auto& f : defaults) in.AddDefinition("default search filter", entity + "." + f);
  }
  for (const auto& f : project.search.fields) {
    char weight[32];
    std::snprintf(weight, sizeof(weight), "%.17g", f.weight);
    in.AddDefinition("search field", f.field + "\x1f" + f.normalize + "\x1f" + weight);
  }
  for (const auto& f : project.search.filters) in.AddDefinition("search filter", f);
  return in;
}

// The input fingerprint the marker names ("" when there is none or it is
// unreadable: the index is then rebuilt).
std::string MarkedInputs(Workspace& workspace) {
  if (!workspace.env()->FileExists(MarkerPath(workspace))) return "";
  auto text = workspace.env()->ReadFile(MarkerPath(workspace));
  if (!text.ok()) return "";
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_string()) return "";
  return j["inputs"].get<std::string>();
}

StatusOr<SearchIndexInput> LoadIndexInput(Workspace& workspace, const Snapshot& snap, const ProjectConfig& project) {
  SearchIndexInput input;
  CDP_ASSIGN_OR_RETURN(input.customers, LoadEntity(workspace, snap, std::string(kCustomerEntity)));
  if (snap.entities.count(std::string(kSourceKeysEntity))) {
    CDP_ASSIGN_OR_RETURN(input.source_keys, LoadEntity(workspace, snap, std::string(kSourceKeysEntity)));
  }
  for (const auto& [name, info] : snap.entities) {
    ParsedEntityName parsed = ParseEntityName(name);
    if (parsed.kind != EntityKind::kSegment) continue;
    CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(workspace, snap, name));
    input.segment_members[std::string(parsed.subject)] = SegmentMemberIds(*table);
  }
  // A configured ENTITY.FIELD filter whose entity this generation lacks.
  for (const std::string& f : project.search.filters) {
    std::string entity, field;
    if (input.customers->schema().FieldIndex(f) >= 0 || !SplitRelatedFilter(f, &entity, &field)) continue;
    if (snap.entities.count(entity) && entity != kCustomerEntity) continue;
    std::string known;
    for (const auto& [name, info] : snap.entities) {
      EntityKind kind = EntityKindOf(name);
      if (kind == EntityKind::kEnrichment || kind == EntityKind::kPrediction) known += (known.empty() ? "" : ", ") + name;
    }
    return InvalidArgumentError("search filter '" + f + "': there is no entity '" + entity + "' in generation " +
                                std::to_string(snap.generation) + " (enrichments and predictions: " +
                                (known.empty() ? std::string("none") : known) + ")");
  }
  for (auto& [entity, defaults] : RelatedEntities(project, snap)) {
    RelatedFilterSource& src = input.related[entity];
    CDP_ASSIGN_OR_RETURN(src.table, LoadEntity(workspace, snap, entity));
    src.default_filters = std::move(defaults);
  }
  return input;
}

}  // namespace

std::string SearchIndexDir(const Workspace& workspace) { return workspace.dir() + "/index"; }

StatusOr<SearchIndexUpdate> UpdateSearchIndex(Workspace& workspace, const Snapshot& snapshot,
                                              const ProjectConfig& project, bool force, int threads) {
  SearchIndexUpdate out;
  auto customer = snapshot.entities.find(std::string(kCustomerEntity));
  if (customer == snapshot.entities.end()) return out;
  out.customers = static_cast<int64_t>(customer->second.num_rows);
  const std::string inputs = IndexInputs(project, snapshot).Fingerprint();
  if (!force && MarkedInputs(workspace) == inputs) return out;
  CDP_ASSIGN_OR_RETURN(SearchIndexInput input, LoadIndexInput(workspace, snapshot, project));
  input.threads = threads;
  CDP_ASSIGN_OR_RETURN(IndexUpdateStats stats, SearchIndex::Update(SearchIndexDir(workspace), project.search, input));
  out.updated = true;
  out.added = stats.added;
  out.changed = stats.updated;
  out.removed = stats.removed;
  out.unchanged = stats.unchanged;
  nlohmann::ordered_json marker = {{"inputs", inputs}, {"generation", snapshot.generation}};
  CDP_RETURN_IF_ERROR(ReplaceFileAtomically(workspace.env(), MarkerPath(workspace), marker.dump()));
  return out;
}

StageDescriptor IndexStage() {
  StageDescriptor d;
  d.name = RefreshStage::kIndex.name();
  d.runs_in_segment_refresh = true;
  d.not_applicable = [](const StageContext& c) -> StatusOr<std::optional<std::string>> {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    if (!snap.entities.count(std::string(kCustomerEntity))) return std::optional<std::string>("no Customer yet");
    return std::optional<std::string>();
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    return IndexInputs(c.project, snap);
  };
  d.is_output = [](const StageContext&, const std::string&) { return false; };
  // The index itself, by the inputs its marker names: a lost or stale index
  // is rebuilt even when the inputs did not change.
  d.external_outputs = [](const StageContext& c) -> StatusOr<std::map<std::string, std::string>> {
    return std::map<std::string, std::string>{{"search index", MarkedInputs(c.workspace)}};
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    CDP_ASSIGN_OR_RETURN(SearchIndexUpdate u, UpdateSearchIndex(c.workspace, snap, c.project, c.options.force,
                                                                      static_cast<int>(c.options.threads)));
    r->rows_in = u.customers;
    r->rows_out = u.added + u.changed + u.removed;
    r->message = "indexed generation " + std::to_string(snap.generation);
    if (u.updated) {
      r->message += ": " + std::to_string(u.added) + " added, " + std::to_string(u.changed) + " updated, " +
                    std::to_string(u.removed) + " removed, " + std::to_string(u.unchanged) + " unchanged";
    }
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
