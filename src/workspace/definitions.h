// The definitions service: the one way a workspace's definitions change, for
// the CLI, the REST API and the web UI alike (apply of a whole project,
// measures, segments, unification, activities, relationships, schedules,
// search fields). Each change is one catalog transaction that reads, edits,
// validates (ValidateDefinitions) and writes; an error anywhere leaves the
// catalog as it was. After the commit, data the change makes possible is
// computed when its inputs exist: a new or changed measure's values, a new
// or changed dynamic segment's members, a static segment's frozen members.
// Thread-safe: changes from several threads or processes serialize on the
// catalog's transaction and none is lost.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/project_config.h"
#include "segment/segment_definition.h"
#include "storage/data_store.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace cdp {

// Cross-references of a project's definitions: unification sources,
// relationships, activities and measures must name existing sources,
// entities, activities, relationships and fields; the two fields of a
// relationship must have one type. A field's type is its declared type in
// the project, else its type in `data`'s stored entity (when it holds the
// entity); a field that is neither declared nor stored is not checked.
// InvalidArgument listing every problem, one per line, each naming the
// definition and the fields ("relationship 'R': ... A.f is int64 but B.g is
// string ...").
Status ValidateDefinitions(const ProjectConfig& project, const Snapshot& data);

struct DefinitionOptions {
  // Compute what a change makes possible (measure values, segment members)
  // when the data exists; false: leave it to the next refresh.
  bool evaluate = true;
  int32_t run_date = 0;  // days since 1970-01-01; 0 = today (UTC)
  int threads = 0;
};

// What a change did to each kind of definition ("sources", "unification",
// "relationships", "activities", "measures", "segments", "search",
// "refresh_schedule", "connections", "exports", "consent", "triggers"), by name.
struct DefinitionChanges {
  struct Names {
    std::vector<std::string> added, changed, removed;
  };
  std::map<std::string, Names> kinds;
  bool empty() const;
  // {"<kind>": {"added": [...], "changed": [...], "removed": [...]}, ...}
  // for every kind, in a fixed order.
  nlohmann::ordered_json ToJson() const;
  // "sources: 0 added, 1 changed, 0 removed\n..." for the kinds that changed,
  // or "no changes\n".
  std::string Summary() const;
};

// Makes `project` (the parsed file, its segments as YAML texts) the
// workspace's definitions: definitions not in it are removed, segments
// included. Unchanged definitions are not written, so applying the same file
// again changes nothing (and the next refresh skips its stages). Segments
// are validated against the current data (invalid ones are kept as drafts,
// as on save); stale members of changed or removed segments are dropped.
// InvalidArgument for a segment text that does not parse (naming it) and
// for what ValidateDefinitions refuses.
StatusOr<DefinitionChanges> ApplyProject(Workspace& workspace, const ProjectConfig& project,
                                         const DefinitionOptions& options = {});

// The applied project with every segment (as YAML, by name): what
// `cdp export-config` writes, and what ApplyProject takes back unchanged.
StatusOr<ProjectConfig> ExportProject(Workspace& workspace);

// Whether a change's data could be computed now.
struct Evaluation {
  // "computed", "pending" (the data it needs does not exist yet, or another
  // writer held the data store: the next refresh computes it) or "none"
  // (nothing to compute: a draft, an unchanged definition, evaluate=false).
  std::string state = "none";
  std::string reason;  // why it is pending
};

struct MeasureChange {
  MeasureConfig measure;
  Evaluation values;
};

enum class DefinitionWrite { kCreate, kUpdate };

// Creates (AlreadyExists if the name is taken) or replaces (NotFound if it is
// not) a measure, validated with the rest of the project; then computes the
// measures when their data exists.
StatusOr<MeasureChange> SaveMeasure(Workspace& workspace, const MeasureConfig& measure, DefinitionWrite write,
                                    const DefinitionOptions& options = {});
// NotFound for an unknown measure. The measures are computed again (without
// it) when their data exists.
Status DeleteMeasure(Workspace& workspace, const std::string& name, const DefinitionOptions& options = {});

struct SegmentChange {
  // The record and its problems; `saved.evaluation` holds the members counted
  // now (a static segment frozen, a dynamic one evaluated).
  SegmentSaveResult saved;
  Evaluation members;
};

// Saves a segment (kCreate: AlreadyExists if the name is taken; kUpdate:
// NotFound if not; kUpsert: either), validated against the current data (an
// invalid dynamic one is a draft, an invalid static one inactive). A static
// segment is frozen now; a dynamic one is evaluated now when its data exists.
StatusOr<SegmentChange> SaveSegmentDefinition(Workspace& workspace, const SegmentDefinition& definition,
                                              SegmentSaveMode mode, const DefinitionOptions& options = {});
// Deletes a segment and its members; NotFound for an unknown one.
Status DeleteSegmentDefinition(Workspace& workspace, const std::string& name);

// Replaces one section of the project (validated with the rest).
Status SetUnification(Workspace& workspace, const UnifyConfig& unification);
Status SetRelationships(Workspace& workspace, const std::vector<RelationshipConfig>& relationships);
Status SetActivities(Workspace& workspace, const std::vector<ActivityConfig>& activities);
Status SetSearch(Workspace& workspace, const SearchConfig& search);

// Cron schedules: the whole refresh, per source, per dynamic segment; each
// given one replaces the current ("" removes it). The cron texts are checked
// by the caller. InvalidArgument naming an unknown source or segment, or a
// static segment.
struct ScheduleChange {
  std::optional<std::string> refresh;
  std::map<std::string, std::string> sources;
  std::map<std::string, std::string> segments;
};
Status SetSchedules(Workspace& workspace, const ScheduleChange& change);

// The generic change of the project the functions above are made of: `edit`
// changes the project loaded in the transaction; the result is validated and
// written when it differs. `edit`'s error (or ValidateDefinitions') rolls back.
Status ChangeProject(Workspace& workspace, const std::function<Status(ProjectConfig&)>& edit);

}  // namespace cdp
