#include "workspace/definitions.h"

#include <algorithm>
#include <set>

#include "common/entity_names.h"
#include "workspace/export_runner.h"
#include "workspace/insight_service.h"
#include "workspace/enrichment_runner.h"
#include "workspace/prediction_runner.h"
#include "workspace/measure_runner.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Cross-references.

// What is known of an entity's fields: declared in the project, stored in
// the data, or (Customer) fixed by the pipeline.
struct KnownFields {
  bool entity_exists = false;
  bool all_known = false;  // the entity is stored: a field not listed does not exist
  std::map<std::string, std::optional<DataType>> types;
};

KnownFields FieldsOf(const ProjectConfig& project, const Snapshot& data, const std::string& entity) {
  KnownFields out;
  auto stored = data.entities.find(entity);
  if (stored != data.entities.end()) {
    out.entity_exists = out.all_known = true;
    for (const auto& f : stored->second.schema.fields()) out.types[f.name] = f.type;
  }
  if (const SourceConfig* source = project.FindSource(entity)) {
    out.entity_exists = true;
    for (const auto& f : source->fields) {
      if (f.type) {
        out.types[f.name] = f.type;  // what the next ingest writes
      } else {
        out.types.emplace(f.name, std::nullopt);
      }
    }
  } else if (entity == kCustomerEntity || entity == kUnifiedActivityEntity) {
    out.entity_exists = true;
    out.types["CustomerId"] = DataType::kInt64;
  }
  return out;
}

class ReferenceChecker {
 public:
  ReferenceChecker(const ProjectConfig& project, const Snapshot& data) : project_(project), data_(data) {}

  std::vector<std::string> Run() {
    for (const auto& s : project_.unification.sources) {
      if (!project_.FindSource(s.source)) Problem("unification: source '" + s.source + "' is not a source of the project");
    }
    for (const auto& r : project_.relationships) Relationship(r);
    for (const auto& a : project_.activities) Activity(a);
    for (const auto& m : project_.measures) Measure(m);
    return std::move(problems_);
  }

 private:
  void Problem(std::string text) { problems_.push_back(std::move(text)); }

  const KnownFields& Fields(const std::string& entity) {
    auto it = cache_.find(entity);
    if (it == cache_.end()) it = cache_.emplace(entity, FieldsOf(project_, data_, entity)).first;
    return it->second;
  }

  // Problem when `entity` is stored without `field` and does not declare it.
  // Returns the field's type when known.
  std::optional<DataType> Field(const std::string& where, const std::string& entity, const std::string& field) {
    const KnownFields& known = Fields(entity);
    auto it = known.types.find(field);
    if (it != known.types.end()) return it->second;
    if (known.all_known) {
      Problem(where + ": field '" + field + "' is not a field of '" + entity +
              "' (as stored; declare it under the source's fields if its input has gained it)");
    }
    return std::nullopt;
  }

  bool Entity(const std::string& where, const std::string& entity) {
    if (Fields(entity).entity_exists) return true;
    Problem(where + ": entity '" + entity + "' is not a source of the project");
    return false;
  }

  void Relationship(const RelationshipConfig& r) {
    const std::string where = "relationship '" + r.name + "'";
    bool from_ok = Entity(where, r.from_entity);
    bool to_ok = Entity(where, r.to_entity);
    if (!from_ok || !to_ok) return;
    std::optional<DataType> from = Field(where, r.from_entity, r.from_field);
    if (r.to_entity == kCustomerEntity && r.to_field != "CustomerId") {
      Problem(where + ": a relationship to Customer must point at Customer.CustomerId, not '" + r.to_field + "'");
      return;
    }
    std::optional<DataType> to = Field(where, r.to_entity, r.to_field);
    if (from && to && *from != *to) {
      Problem(where + ": " + r.from_entity + "." + r.from_field + " is " + std::string(DataTypeName(*from)) + " but " +
              r.to_entity + "." + r.to_field + " is " + std::string(DataTypeName(*to)) +
              "; declare both fields with the same type");
    }
  }

  void Activity(const ActivityConfig& a) {
    const std::string where = "activity '" + a.name + "'";
    if (!project_.FindSource(a.entity)) {
      Problem(where + ": entity '" + a.entity + "' is not a source of the project");
      return;
    }
    for (const std::string* f : {&a.timestamp, &a.subject, &a.amount}) {
      if (!f->empty()) Field(where, a.entity, *f);
    }
    for (const auto& p : a.path) {
      bool found = std::any_of(project_.relationships.begin(), project_.relationships.end(),
                               [&](const RelationshipConfig& r) { return r.name == p; });
      if (!found) Problem(where + ": path names '" + p + "', which is not a relationship");
    }
  }

  void Measure(const MeasureConfig& m) {
    const std::string where = "measure '" + m.name + "'";
    std::string entity = m.entity;
    if (!m.activity.empty()) {
      auto a = std::find_if(project_.activities.begin(), project_.activities.end(),
                            [&](const ActivityConfig& x) { return x.name == m.activity; });
      if (a == project_.activities.end()) {
        Problem(where + ": activity '" + m.activity + "' is not defined");
        return;
      }
      entity = a->entity;
    }
    if (entity.empty() || !Entity(where, entity)) return;
    for (const std::string* f : {&m.field, &m.order_by, &m.time_field}) {
      if (!f->empty()) Field(where, entity, *f);
    }
    for (const auto& f : m.filters) Field(where, entity, f.field);
    for (const auto& d : m.dimensions) Field(where, entity, d);
  }

  const ProjectConfig& project_;
  const Snapshot& data_;
  std::map<std::string, KnownFields> cache_;
  std::vector<std::string> problems_;
};

Status ProblemsStatus(const std::vector<std::string>& problems) {
  if (problems.empty()) return Status::Ok();
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "\n") + p;
  return InvalidArgumentError(text);
}

// ---------------------------------------------------------------------------
// Change summaries.

constexpr const char* kKinds[] = {"sources",  "unification", "relationships",    "activities",
                                  "measures", "segments",    "search",           "refresh_schedule",
                                  "connections", "exports",  "consent",          "triggers",
                                  "predictions", "enrichments"};

template <typename T>
void DiffByName(const std::vector<T>& before, const std::vector<T>& after, DefinitionChanges::Names* out) {
  for (const auto& a : after) {
    auto b = std::find_if(before.begin(), before.end(), [&](const T& x) { return x.name == a.name; });
    if (b == before.end()) {
      out->added.push_back(a.name);
    } else if (!(*b == a)) {
      out->changed.push_back(a.name);
    }
  }
  for (const auto& b : before) {
    bool kept = std::any_of(after.begin(), after.end(), [&](const T& x) { return x.name == b.name; });
    if (!kept) out->removed.push_back(b.name);
  }
}

// One section that is there or not: "unification", "search", "refresh_schedule".
template <typename T>
void DiffSection(const std::string& name, const T& before, const T& after, const T& none, DefinitionChanges::Names* out) {
  if (before == after) return;
  if (before == none) {
    out->added.push_back(name);
  } else if (after == none) {
    out->removed.push_back(name);
  } else {
    out->changed.push_back(name);
  }
}

void DiffProjects(const ProjectConfig& before, const ProjectConfig& after, DefinitionChanges* out) {
  DiffByName(before.sources, after.sources, &out->kinds["sources"]);
  DiffSection("unification", before.unification, after.unification, UnifyConfig(), &out->kinds["unification"]);
  DiffByName(before.relationships, after.relationships, &out->kinds["relationships"]);
  DiffByName(before.activities, after.activities, &out->kinds["activities"]);
  DiffByName(before.measures, after.measures, &out->kinds["measures"]);
  DiffSection("search", before.search, after.search, SearchConfig(), &out->kinds["search"]);
  DiffSection("refresh_schedule", before.refresh_schedule, after.refresh_schedule, std::string(),
              &out->kinds["refresh_schedule"]);
  DiffByName(before.connections, after.connections, &out->kinds["connections"]);
  DiffByName(before.exports, after.exports, &out->kinds["exports"]);
  DiffSection("consent", before.consent, after.consent, ConsentConfig(), &out->kinds["consent"]);
  DiffByName(before.triggers, after.triggers, &out->kinds["triggers"]);
  DiffByName(before.predictions, after.predictions, &out->kinds["predictions"]);
  DiffByName(before.enrichments, after.enrichments, &out->kinds["enrichments"]);
}

// ---------------------------------------------------------------------------
// Segments.

// The record a definition is stored as, validated against the current data
// under `project`.
StatusOr<SegmentSaveResult> PrepareSegment(Workspace& workspace, const ProjectConfig& project,
                                           const SegmentDefinition& d) {
  SegmentSaveResult out;
  CDP_ASSIGN_OR_RETURN(out.problems, SegmentProblemsOnData(workspace, project, d));
  SegmentState state = StateAfterSave(d, out.problems);
  out.record = SegmentRecord{d.name, SegmentToJson(d, -1), std::string(SegmentStateName(state)),
                             SegmentProblemsJson(out.problems), 0, 0};
  return out;
}

bool SameRecord(const SegmentRecord& a, const SegmentRecord& b) {
  return a.definition_json == b.definition_json && a.status == b.status && a.problems_json == b.problems_json;
}

Evaluation Pending(std::string reason) { return Evaluation{"pending", std::move(reason)}; }

// After a segment's definition was stored: a static segment is frozen; a
// dynamic one evaluated (when asked) or its stale members dropped. Sets
// `evaluation` when members were computed.
StatusOr<Evaluation> AfterSegmentStored(Workspace& workspace, const ProjectConfig& project, const SegmentDefinition& d,
                                        const std::string& status, bool existed, const DefinitionOptions& options,
                                        std::optional<SegmentEvaluation>* evaluation) {
  SegmentRunOptions run;
  run.run_date = options.run_date;
  run.threads = options.threads;
  if (d.type == SegmentType::kExpansion) {
    // Members come from the lookalike model; ExpandSegment saves without
    // evaluating and writes them with its report.
    if (status != SegmentStateName(SegmentState::kActive) || !options.evaluate) return Evaluation{};
    auto members = WriteExpansionMembers(workspace, d);
    if (members.ok()) {
      *evaluation = SegmentEvaluation{d.name, *members, {}};
      return Evaluation{"computed", ""};
    }
    if (existed) CDP_RETURN_IF_ERROR(RemoveSegmentMembers(workspace, d.name));
    return Pending(members.status().message());
  }
  if (!d.active) return Pending("deactivated: its last members are kept until it is activated");
  if (status == SegmentStateName(SegmentState::kActive)) {
    if (d.type == SegmentType::kStatic) {
      auto f = FreezeSegment(workspace, project, d, run);
      if (f.ok()) {
        *evaluation = *f;
        return Evaluation{"computed", ""};
      }
      // Not frozen now: the next refresh freezes a static segment that has no members.
      CDP_RETURN_IF_ERROR(RemoveSegmentMembers(workspace, d.name));
      return Pending(f.status().message());
    }
    if (options.evaluate) {
      auto r = RunSegments(workspace, {d.name}, run);
      if (r.ok()) {
        // The run also evaluates the segments this one takes members from.
        for (const auto& e : *r) {
          if (e.name != d.name) continue;
          *evaluation = e;
          return Evaluation{"computed", ""};
        }
      }
      if (existed) CDP_RETURN_IF_ERROR(RemoveSegmentMembers(workspace, d.name));
      return Pending(r.ok() ? "not evaluated" : r.status().message());
    }
  }
  if (existed) CDP_RETURN_IF_ERROR(RemoveSegmentMembers(workspace, d.name));
  return Evaluation{};
}

// Computes every measure when the data exists.
Evaluation ComputeMeasures(Workspace& workspace, const DefinitionOptions& options) {
  if (!options.evaluate) return Evaluation{};
  auto snap = workspace.data().Current();
  if (!snap.ok()) return Pending(snap.status().message());
  if (!snap->entities.count(std::string(kCustomerEntity))) {
    return Pending("there are no unified customers yet; the next refresh computes it");
  }
  MeasureRunOptions run;
  run.run_date = options.run_date;
  run.threads = options.threads;
  auto r = RunMeasures(workspace, run);
  if (!r.ok()) return Pending(r.status().message());
  return Evaluation{"computed", ""};
}

// The new problems of `after` (those `before` did not have already): an edit
// is refused for what it breaks, not for what was broken before it.
Status NewProblems(const ProjectConfig& before, const ProjectConfig& after, const Snapshot& data) {
  std::vector<std::string> old = ReferenceChecker(before, data).Run();
  std::vector<std::string> now = ReferenceChecker(after, data).Run();
  std::vector<std::string> added;
  for (auto& p : now) {
    if (std::find(old.begin(), old.end(), p) == old.end()) added.push_back(std::move(p));
  }
  return ProblemsStatus(added);
}

}  // namespace

Status ValidateDefinitions(const ProjectConfig& project, const Snapshot& data) {
  return ProblemsStatus(ReferenceChecker(project, data).Run());
}

bool DefinitionChanges::empty() const {
  for (const auto& [kind, n] : kinds) {
    if (!n.added.empty() || !n.changed.empty() || !n.removed.empty()) return false;
  }
  return true;
}

nlohmann::ordered_json DefinitionChanges::ToJson() const {
  Json out = Json::object();
  for (const char* kind : kKinds) {
    auto it = kinds.find(kind);
    Names n = it == kinds.end() ? Names() : it->second;
    out[kind] = {{"added", n.added}, {"changed", n.changed}, {"removed", n.removed}};
  }
  return out;
}

std::string DefinitionChanges::Summary() const {
  std::string out;
  for (const char* kind : kKinds) {
    auto it = kinds.find(kind);
    if (it == kinds.end()) continue;
    const Names& n = it->second;
    if (n.added.empty() && n.changed.empty() && n.removed.empty()) continue;
    out += std::string(kind) + ": " + std::to_string(n.added.size()) + " added, " + std::to_string(n.changed.size()) +
           " changed, " + std::to_string(n.removed.size()) + " removed\n";
  }
  return out.empty() ? "no changes\n" : out;
}

Status ChangeProject(Workspace& workspace, const std::function<Status(ProjectConfig&)>& edit) {
  CDP_ASSIGN_OR_RETURN(Snapshot data, workspace.data().Current());
  return workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig before, txn.LoadProject());
    ProjectConfig after = before;
    CDP_RETURN_IF_ERROR(edit(after));
    if (after == before) return Status::Ok();
    CDP_RETURN_IF_ERROR(NewProblems(before, after, data));
    return txn.ReplaceProject(after);
  });
}

StatusOr<DefinitionChanges> ApplyProject(Workspace& workspace, const ProjectConfig& file,
                                         const DefinitionOptions& options) {
  std::vector<SegmentDefinition> definitions;
  for (size_t i = 0; i < file.segments.size(); ++i) {
    auto d = ParseSegmentYaml(file.segments[i]);
    if (!d.ok()) return d.status().WithContext("segments[" + std::to_string(i) + "]");
    definitions.push_back(std::move(*d));
  }
  ProjectConfig project = file;
  project.segments.clear();
  CDP_ASSIGN_OR_RETURN(Snapshot data, workspace.data().Current());
  CDP_RETURN_IF_ERROR(ValidateDefinitions(project, data));
  {
    // Exports and triggers name connections, segments, entities and fields.
    std::vector<std::string> segment_names;
    for (const auto& d : definitions) segment_names.push_back(d.name);
    CDP_RETURN_IF_ERROR(ValidateActivation(project, segment_names, data));
  }
  CDP_RETURN_IF_ERROR(ValidatePredictions(project));
  CDP_RETURN_IF_ERROR(ValidateEnrichments(project));
  std::vector<SegmentSaveResult> prepared;
  for (const auto& d : definitions) {
    auto p = PrepareSegment(workspace, project, d);
    if (!p.ok()) return p.status().WithContext("segment '" + d.name + "'");
    prepared.push_back(std::move(*p));
  }

  DefinitionChanges changes;
  std::vector<size_t> stored;              // prepared segments whose definition was added or changed
  std::set<std::string> existed, removed;  // of those: already there; and segments removed
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig before, txn.LoadProject());
    DiffProjects(before, project, &changes);
    if (!(before == project)) CDP_RETURN_IF_ERROR(txn.ReplaceProject(project));
    CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> old, txn.ListSegments());
    DefinitionChanges::Names& seg = changes.kinds["segments"];
    for (size_t i = 0; i < prepared.size(); ++i) {
      const SegmentRecord& rec = prepared[i].record;
      auto o = std::find_if(old.begin(), old.end(), [&](const SegmentRecord& r) { return r.name == rec.name; });
      if (o != old.end() && SameRecord(*o, rec)) continue;
      if (o == old.end() || o->definition_json != rec.definition_json) {
        (o == old.end() ? seg.added : seg.changed).push_back(rec.name);
        stored.push_back(i);
        if (o != old.end()) existed.insert(rec.name);
      }
      CDP_RETURN_IF_ERROR(txn.PutSegment(rec));  // a new status only, or a new definition
    }
    for (const auto& o : old) {
      bool kept = std::any_of(prepared.begin(), prepared.end(), [&](const SegmentSaveResult& p) { return p.record.name == o.name; });
      if (kept) continue;
      seg.removed.push_back(o.name);
      removed.insert(o.name);
      CDP_RETURN_IF_ERROR(txn.DeleteSegment(o.name));
    }
    return Status::Ok();
  }));

  // Members: dropped for removed segments and stale ones; static segments frozen.
  DefinitionOptions no_evaluation = options;
  no_evaluation.evaluate = false;  // dynamic segments are evaluated by the next refresh
  for (const auto& name : removed) CDP_RETURN_IF_ERROR(RemoveSegmentMembers(workspace, name));
  for (size_t i : stored) {
    std::optional<SegmentEvaluation> frozen;
    const SegmentRecord& rec = prepared[i].record;
    auto e = AfterSegmentStored(workspace, project, definitions[i], rec.status, existed.count(rec.name) > 0,
                                no_evaluation, &frozen);
    if (!e.ok()) return e.status().WithContext("segment '" + rec.name + "'");
  }
  return changes;
}

StatusOr<ProjectConfig> ExportProject(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> segments, workspace.catalog().ListSegments());
  project.segments.clear();
  for (const auto& rec : segments) {
    auto d = ParseStoredSegmentJson(rec.definition_json);
    if (!d.ok()) return d.status().WithContext("segment '" + rec.name + "'");
    project.segments.push_back(SegmentToYaml(*d));
  }
  return project;
}

StatusOr<MeasureChange> SaveMeasure(Workspace& workspace, const MeasureConfig& measure, DefinitionWrite write,
                                    const DefinitionOptions& options) {
  if (measure.name.empty()) return InvalidArgumentError("a measure needs a name");
  bool changed = false;
  CDP_RETURN_IF_ERROR(ChangeProject(workspace, [&](ProjectConfig& p) -> Status {
    auto it = std::find_if(p.measures.begin(), p.measures.end(),
                           [&](const MeasureConfig& m) { return m.name == measure.name; });
    if (write == DefinitionWrite::kCreate) {
      if (it != p.measures.end()) return AlreadyExistsError("a measure named '" + measure.name + "' exists");
      p.measures.push_back(measure);
      changed = true;
    } else {
      if (it == p.measures.end()) return NotFoundError("there is no measure '" + measure.name + "'");
      changed = !(*it == measure);
      *it = measure;
    }
    return Status::Ok();
  }));
  MeasureChange out{measure, Evaluation{}};
  if (changed) out.values = ComputeMeasures(workspace, options);
  return out;
}

Status DeleteMeasure(Workspace& workspace, const std::string& name, const DefinitionOptions& options) {
  CDP_RETURN_IF_ERROR(ChangeProject(workspace, [&](ProjectConfig& p) -> Status {
    auto it = std::find_if(p.measures.begin(), p.measures.end(), [&](const MeasureConfig& m) { return m.name == name; });
    if (it == p.measures.end()) return NotFoundError("there is no measure '" + name + "'");
    p.measures.erase(it);
    return Status::Ok();
  }));
  (void)ComputeMeasures(workspace, options);  // its values go; pending ones are dropped by the next refresh
  return Status::Ok();
}

StatusOr<SegmentChange> SaveSegmentDefinition(Workspace& workspace, const SegmentDefinition& d, SegmentSaveMode mode,
                                              const DefinitionOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  SegmentChange out;
  CDP_ASSIGN_OR_RETURN(out.saved, PrepareSegment(workspace, project, d));
  const SegmentRecord& rec = out.saved.record;
  bool existed = false, definition_changed = true;
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(auto existing, txn.GetSegment(d.name));
    existed = existing.has_value();
    if (mode == SegmentSaveMode::kCreate && existed) return AlreadyExistsError("segment '" + d.name + "' already exists");
    if (mode == SegmentSaveMode::kUpdate && !existed) return NotFoundError("there is no segment '" + d.name + "'");
    definition_changed = !existed || existing->definition_json != rec.definition_json;
    if (existed && SameRecord(*existing, rec)) return Status::Ok();
    return txn.PutSegment(rec);
  }));
  if (!definition_changed) return out;  // its members are still its members
  CDP_ASSIGN_OR_RETURN(out.members,
                       AfterSegmentStored(workspace, project, d, rec.status, existed, options, &out.saved.evaluation));
  return out;
}

StatusOr<SegmentSaveResult> SaveSegment(Workspace& workspace, const SegmentDefinition& definition, SegmentSaveMode mode,
                                        const SegmentRunOptions& options) {
  DefinitionOptions o;
  o.evaluate = false;
  o.run_date = options.run_date;
  o.threads = options.threads;
  CDP_ASSIGN_OR_RETURN(SegmentChange change, SaveSegmentDefinition(workspace, definition, mode, o));
  return change.saved;
}

Status DeleteSegment(Workspace& workspace, const std::string& name) { return DeleteSegmentDefinition(workspace, name); }

Status DeleteSegmentDefinition(Workspace& workspace, const std::string& name) {
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) { return txn.DeleteSegment(name); }));
  return RemoveSegmentMembers(workspace, name);
}

Status SetUnification(Workspace& workspace, const UnifyConfig& unification) {
  return ChangeProject(workspace, [&](ProjectConfig& p) {
    p.unification = unification;
    return Status::Ok();
  });
}

Status SetRelationships(Workspace& workspace, const std::vector<RelationshipConfig>& relationships) {
  return ChangeProject(workspace, [&](ProjectConfig& p) {
    p.relationships = relationships;
    return Status::Ok();
  });
}

Status SetActivities(Workspace& workspace, const std::vector<ActivityConfig>& activities) {
  return ChangeProject(workspace, [&](ProjectConfig& p) {
    p.activities = activities;
    return Status::Ok();
  });
}

Status SetSearch(Workspace& workspace, const SearchConfig& search) {
  return ChangeProject(workspace, [&](ProjectConfig& p) {
    p.search = search;
    return Status::Ok();
  });
}

Status SetSchedules(Workspace& workspace, const ScheduleChange& change) {
  return workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, txn.LoadProject());
    ProjectConfig edited = project;
    if (change.refresh) edited.refresh_schedule = *change.refresh;
    for (const auto& [source_name, cron] : change.sources) {
      const std::string& name = source_name;  // a lambda may not capture a structured binding (clang 14)
      auto it = std::find_if(edited.sources.begin(), edited.sources.end(),
                             [&](const SourceConfig& s) { return s.name == name; });
      if (it == edited.sources.end()) return InvalidArgumentError("sources." + name + ": there is no such source");
      it->schedule = cron;
    }
    if (!(edited == project)) CDP_RETURN_IF_ERROR(txn.ReplaceProject(edited));
    for (const auto& [name, cron] : change.segments) {
      CDP_ASSIGN_OR_RETURN(auto rec, txn.GetSegment(name));
      if (!rec) return InvalidArgumentError("segments." + name + ": there is no such segment");
      CDP_ASSIGN_OR_RETURN(SegmentDefinition d, ParseStoredSegmentJson(rec->definition_json));
      if (d.type != SegmentType::kDynamic) {
        return InvalidArgumentError("segments." + name + ": only dynamic segments have schedules");
      }
      if (d.schedule == cron) continue;
      d.schedule = cron;
      rec->definition_json = SegmentToJson(d, -1);  // its members and status stay: a schedule selects no one
      CDP_RETURN_IF_ERROR(txn.PutSegment(*rec));
    }
    return Status::Ok();
  });
}

}  // namespace cdp
