// The refresh orchestrator: runs the stages of a StageRegistry in order
// (by default ingest -> unify -> activities -> measures -> segments -> index,
// see stage.h), skipping each stage whose inputs did not change since its
// last good run, as one run of kind "refresh" in the catalog. It knows no
// stage by name: what a stage reads, writes and does is its descriptor's.
// Used by `cdp run` and the server (API and schedules). Thread-safe: one
// refresh at a time per workspace directory in a process (a second is
// refused), and the data store's writer lock keeps other processes out.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/data_store.h"
#include "workspace/stage.h"
#include "workspace/workspace.h"

namespace cdp {

struct RefreshOptions {
  // Sources to ingest; empty = all. Later stages run when their inputs
  // changed, so a per-source refresh refreshes what depends on that source.
  std::vector<std::string> sources;
  // Non-empty: a segments-only refresh of these segments (only the stages
  // that run in a segment refresh: segments and index).
  std::vector<std::string> segments;
  bool force = false;  // run every stage even when its inputs did not change
  size_t threads = 0;  // 0 = all cores
  int32_t run_date = 0;  // "today" for measures and segments, days since 1970-01-01; 0 = today (UTC)
  std::string trigger = "cli";  // "cli", "api", "schedule:<name>": recorded on the run
  // Checked before each stage and between sources; a cancelled run ends with
  // status "cancelled" (the stages already done keep their outputs).
  const std::atomic<bool>* cancel = nullptr;
  // Progress of the running stage, fraction in [0, 1]. Called on the
  // refreshing thread.
  std::function<void(RefreshStage, double fraction, const std::string& detail)> progress;
  // The stages to run, in order; null = StageRegistry::Default(). Must
  // outlive the call.
  const StageRegistry* stages = nullptr;
  // Test hook, called before each stage that is not skipped for lack of
  // configuration (before the cancel check): may block, set `cancel`, or
  // return an error that fails the stage.
  std::function<Status(RefreshStage)> before_stage;
  // Called once the run has its catalog run id, before the first stage (the
  // server answers "refresh started" with that id).
  std::function<void(int64_t run_id)> on_started;
};

struct RefreshResult {
  int64_t run_id = 0;
  std::string status;  // "succeeded", "failed" or "cancelled"
  std::string error;   // the failed stage's error
  std::vector<StageResult> stages;  // the stages considered, in order
  uint64_t generation = 0;          // data generation after the run
  bool ok() const { return status == "succeeded"; }
};

// Runs a refresh. A stage is skipped when the fingerprint of its inputs
// equals the one recorded by its last good run and its outputs are still the
// ones that run wrote (`force` runs it anyway). A failed stage keeps the
// previous outputs (nothing of it is committed), stops the run and is
// returned as a result with status "failed", not as an error; the next run
// runs it again. Errors: FailedPrecondition "a refresh is already running
// (run N)" while another RunRefresh of the same workspace directory is in
// progress in this process; NotFound for an unknown source or segment name;
// catalog and data store failures.
StatusOr<RefreshResult> RunRefresh(Workspace& workspace, const RefreshOptions& options);

// The stage results recorded in a refresh run's stats_json (empty for other
// runs or unreadable stats), for run history.
std::vector<StageResult> StagesOfRun(const std::string& stats_json);

}  // namespace cdp
