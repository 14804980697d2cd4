// Stages of the refresh as descriptors: each stage declares its inputs
// (entities, definition parts, the run date), its outputs and how it runs;
// RunRefresh (refresh_runner.h) iterates over a StageRegistry in order and
// knows no stage by name. A new stage (exports, predictions, enrichment)
// registers a StageDescriptor and nothing else changes. Descriptors and a
// registry are immutable once built and safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/project_config.h"
#include "storage/data_store.h"
#include "workspace/workspace.h"

namespace cdp {

struct RefreshOptions;

// A stage of the refresh, identified by its registered name. The built-in
// stages have constants; a stage registered elsewhere is RefreshStage("name").
class RefreshStage {
 public:
  RefreshStage() = default;
  explicit RefreshStage(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  bool operator==(const RefreshStage&) const = default;

  static const RefreshStage kIngest;
  static const RefreshStage kUnify;
  static const RefreshStage kActivities;
  static const RefreshStage kMeasures;
  static const RefreshStage kSegments;
  static const RefreshStage kIndex;

 private:
  std::string name_;
};

inline const RefreshStage RefreshStage::kIngest{"ingest"};
inline const RefreshStage RefreshStage::kUnify{"unify"};
inline const RefreshStage RefreshStage::kActivities{"activities"};
inline const RefreshStage RefreshStage::kMeasures{"measures"};
inline const RefreshStage RefreshStage::kSegments{"segments"};
inline const RefreshStage RefreshStage::kIndex{"index"};

// "ingest", "unify", ... (the registered name).
inline std::string_view RefreshStageName(const RefreshStage& stage) { return stage.name(); }

struct StageResult {
  RefreshStage stage;
  // "succeeded", "skipped" (inputs unchanged, or nothing configured),
  // "failed" or "cancelled".
  std::string status;
  int64_t duration_micros = 0;
  int64_t rows_in = 0;   // rows the stage read (0 when skipped)
  int64_t rows_out = 0;  // rows it wrote
  std::string message;   // a one-line summary, the reason for a skip, or the error
  std::vector<std::string> warnings;  // e.g. orphan rows, skipped invalid segments
  std::string fingerprint;  // of the stage's inputs ("" when not computed)
};

// What a stage reads, in a fixed order: the fingerprint of a stage is the
// hash of these parts, so a stage runs again exactly when one of them
// changed. Parts are length-prefixed, so no two different inputs hash alike.
class StageInputs {
 public:
  // A named part of the definitions the stage reads (e.g. "measures" and
  // their JSON).
  void AddDefinition(std::string_view name, std::string_view value);
  // An entity the stage reads: counts by its identity in the snapshot (its
  // file, unique per write; "-" when missing).
  void AddEntity(const Snapshot& snapshot, const std::string& entity);
  // The outputs depend on "today" (windows, days_since, relative dates).
  void AddRunDate(int32_t run_date);

  // The hash of the parts (32 hex digits).
  std::string Fingerprint() const;

 private:
  std::string text_;
};

// What a running stage may use. Built by RunRefresh for each stage.
struct StageContext {
  Workspace& workspace;
  const ProjectConfig& project;
  const RefreshOptions& options;
  int32_t run_date;  // days since 1970-01-01 (never 0)
  int64_t run_id;    // the refresh's open run
  // Progress of the stage, fraction in [0, 1].
  std::function<void(double fraction, const std::string& detail)> progress;
  // True once the refresh was asked to stop.
  std::function<bool()> cancelled;
};

struct StageDescriptor {
  std::string name;  // unique in a registry; recorded in run history
  // Whether the stage also runs in a refresh of named segments
  // (RefreshOptions::segments), which runs only such stages.
  bool runs_in_segment_refresh = false;
  // Why the stage has nothing to do in this refresh ("no sources
  // configured"), or nullopt when it applies. Null = always applies. An
  // error fails the stage.
  std::function<StatusOr<std::optional<std::string>>(const StageContext&)> not_applicable;
  // Key of the stage's state (fingerprint and outputs of its last good run)
  // in the run history. Null = the name.
  std::function<std::string(const StageContext&)> state_key;
  // The stage's inputs in `snapshot` (current when the stage starts): the
  // stage is skipped when their fingerprint and its outputs equal those of
  // its last good run. Null = the stage detects changes itself (ingest: per
  // source), always runs and may set StageResult::fingerprint.
  std::function<StatusOr<StageInputs>(const StageContext&, const Snapshot& snapshot)> inputs;
  // Whether an entity of the data store is one of the stage's outputs.
  std::function<bool(const StageContext&, const std::string& entity)> is_output;
  // Outputs kept outside the data store (e.g. the search index), name ->
  // identity, compared like entity outputs (a change runs the stage again).
  // Null = none.
  std::function<StatusOr<std::map<std::string, std::string>>(const StageContext&)> external_outputs;
  // Runs the stage, filling `out` (status preset to "succeeded"; the stage
  // may set "skipped", "failed" with a message, or "cancelled"). A non-OK
  // Status fails the stage; a failed stage must commit nothing.
  std::function<Status(const StageContext&, StageResult* out)> run;
};

// The stages of a refresh, in the order they run.
class StageRegistry {
 public:
  // Appends `stage` (AlreadyExists for a name already registered;
  // InvalidArgument without a name or run function).
  Status Register(StageDescriptor stage);
  const std::vector<StageDescriptor>& stages() const { return stages_; }
  const StageDescriptor* Find(std::string_view name) const;

  // ingest, unify, activities, measures, segments, index: what every
  // refresh runs unless RefreshOptions::stages says otherwise. Built once.
  static const StageRegistry& Default();

 private:
  std::vector<StageDescriptor> stages_;
};

// The built-in descriptors (stages.cc; IndexStage() is in search_stage.h).
StageDescriptor IngestStage();
StageDescriptor UnifyStage();
StageDescriptor ActivitiesStage();
StageDescriptor MeasuresStage();
StageDescriptor SegmentsStage();

}  // namespace cdp
