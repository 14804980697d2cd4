#include "workspace/refresh_runner.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/datetime.h"
#include "workspace/search_stage.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

// How far back in the run history the last refresh's stage state is looked
// for; beyond it every stage runs.
constexpr int kRunHistoryScanned = 1000;


// ---------------------------------------------------------------------------
// One refresh at a time per workspace directory in this process.

struct RunningRefreshes {
  std::mutex mu;
  std::map<std::string, int64_t> run_by_dir;  // guarded by mu; 0 while the run row is being opened
};

RunningRefreshes& Running() {
  static RunningRefreshes* running = new RunningRefreshes();
  return *running;
}

std::string CanonicalDir(const std::string& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  return ec ? dir : p.string();
}

// Registers a refresh of a directory for its lifetime.
class RefreshGuard {
 public:
  static StatusOr<std::unique_ptr<RefreshGuard>> Acquire(const std::string& dir) {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    auto it = r.run_by_dir.find(dir);
    if (it != r.run_by_dir.end()) {
      return FailedPreconditionError("a refresh is already running (run " + std::to_string(it->second) + ")");
    }
    r.run_by_dir[dir] = 0;
    return std::unique_ptr<RefreshGuard>(new RefreshGuard(dir));
  }
  ~RefreshGuard() {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    r.run_by_dir.erase(dir_);
  }
  RefreshGuard(const RefreshGuard&) = delete;
  RefreshGuard& operator=(const RefreshGuard&) = delete;

  void SetRunId(int64_t run_id) {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    r.run_by_dir[dir_] = run_id;
  }

 private:
  explicit RefreshGuard(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// ---------------------------------------------------------------------------
// Stage state: per stage, the input fingerprint of its last good run and the
// outputs that run left, carried from each refresh run to the next in its
// stats_json ("state").

struct StageState {
  std::string fingerprint;
  std::map<std::string, std::string> outputs;  // entity -> file
  int64_t run_id = 0;
};
using RefreshState = std::map<std::string, StageState>;  // by state key

// A stage's outputs now: its entities in the snapshot (name -> file) and
// what it keeps outside the data store.
StatusOr<std::map<std::string, std::string>> OutputsOf(const StageDescriptor& d, const StageContext& c,
                                                      const Snapshot& snap) {
  std::map<std::string, std::string> out;
  if (d.is_output) {
    for (const auto& [name, info] : snap.entities) {
      if (d.is_output(c, name)) out[name] = info.file;
    }
  }
  if (d.external_outputs) {
    CDP_ASSIGN_OR_RETURN(auto external, d.external_outputs(c));
    for (auto& [name, identity] : external) out["external " + name] = std::move(identity);
  }
  return out;
}

Json StateToJson(const RefreshState& state) {
  Json j = Json::object();
  for (const auto& [key, s] : state) {
    Json outputs = Json::object();
    for (const auto& [name, file] : s.outputs) outputs[name] = file;
    j[key] = {{"fingerprint", s.fingerprint}, {"outputs", outputs}, {"run_id", s.run_id}};
  }
  return j;
}

// The state left by the newest finished refresh run; empty if none is found
// (then every stage runs).
StatusOr<RefreshState> LoadState(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, workspace.catalog().ListRuns(kRunHistoryScanned));
  for (const auto& r : runs) {
    if (r.kind != "refresh" || r.status == "running") continue;
    auto j = nlohmann::json::parse(r.stats_json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("state") || !j["state"].is_object()) continue;
    RefreshState state;
    for (const auto& [key, v] : j["state"].items()) {
      if (!v.is_object()) continue;
      StageState s;
      s.fingerprint = v.value("fingerprint", "");
      s.run_id = v.value("run_id", int64_t{0});
      if (v.contains("outputs") && v["outputs"].is_object()) {
        for (const auto& [name, file] : v["outputs"].items()) {
          if (file.is_string()) s.outputs[name] = file.get<std::string>();
        }
      }
      state[key] = std::move(s);
    }
    return state;
  }
  return RefreshState();
}

Json StageToJson(const StageResult& s) {
  return {{"stage", RefreshStageName(s.stage)}, {"status", s.status},          {"duration_micros", s.duration_micros},
          {"rows_in", s.rows_in},               {"rows_out", s.rows_out},      {"message", s.message},
          {"warnings", s.warnings},             {"fingerprint", s.fingerprint}};
}

// ---------------------------------------------------------------------------

class Refresh {
 public:
  Refresh(Workspace& ws, const RefreshOptions& options, const StageRegistry& stages, ProjectConfig project,
          RefreshState state, int64_t run_id, int32_t run_date)
      : ws_(ws),
        options_(options),
        stages_(stages),
        project_(std::move(project)),
        state_(std::move(state)),
        run_date_(run_date) {
    result_.run_id = run_id;
  }

  // Runs the stages; fills result_ (status "succeeded", "failed" or "cancelled").
  void Run() {
    for (const StageDescriptor& d : stages_.stages()) {
      if (!options_.segments.empty() && !d.runs_in_segment_refresh) continue;
      if (!RunStage(d)) return;
    }
    result_.status = "succeeded";
  }

  RefreshResult& result() { return result_; }
  const RefreshState& state() const { return state_; }

 private:
  using Clock = std::chrono::steady_clock;

  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }

  StageContext ContextOf(const StageDescriptor& d) {
    RefreshStage stage(d.name);
    return StageContext{ws_,
                        project_,
                        options_,
                        run_date_,
                        result_.run_id,
                        [this, stage](double fraction, const std::string& detail) {
                          if (options_.progress) options_.progress(stage, std::clamp(fraction, 0.0, 1.0), detail);
                        },
                        [this] { return Cancelled(); }};
  }

  // Runs one stage: its applicability, the hook, the cancel check, the
  // change check (when it declares inputs), then its work. Returns false
  // when the refresh stops here (failed or cancelled).
  bool RunStage(const StageDescriptor& d) {
    const StageContext c = ContextOf(d);
    auto t0 = Clock::now();
    StageResult r;
    r.stage = RefreshStage(d.name);
    auto finish = [&](bool go_on) {
      r.duration_micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      result_.stages.push_back(r);
      return go_on;
    };
    auto fail = [&](const Status& s) {
      r.status = "failed";
      r.message = s.ToString();
      result_.status = "failed";
      result_.error = d.name + ": " + r.message;
      return finish(false);
    };
    if (d.not_applicable) {
      auto reason = d.not_applicable(c);
      if (!reason.ok()) return fail(reason.status());
      if (*reason) {
        r.status = "skipped";
        r.message = **reason;
        result_.stages.push_back(r);  // no duration: nothing was considered
        return true;
      }
    }
    if (options_.before_stage) {
      Status s = options_.before_stage(r.stage);
      if (!s.ok()) return fail(s);
    }
    if (Cancelled()) {
      r.status = "cancelled";
      r.message = "cancelled before the stage started";
      result_.status = "cancelled";
      result_.error = "cancelled before stage " + d.name;
      return finish(false);
    }
    const std::string state_key = d.state_key ? d.state_key(c) : d.name;
    if (d.inputs) {
      auto snap = ws_.data().Current();
      if (!snap.ok()) return fail(snap.status());
      auto inputs = d.inputs(c, *snap);
      if (!inputs.ok()) return fail(inputs.status());
      r.fingerprint = inputs->Fingerprint();
      auto last = state_.find(state_key);
      if (!options_.force && last != state_.end() && last->second.fingerprint == r.fingerprint) {
        auto outputs = OutputsOf(d, c, *snap);
        if (!outputs.ok()) return fail(outputs.status());
        if (last->second.outputs == *outputs) {
          r.status = "skipped";
          r.message = "inputs unchanged since run " + std::to_string(last->second.run_id);
          return finish(true);
        }
      }
    }
    c.progress(0, "");
    r.status = "succeeded";
    Status s = d.run(c, &r);
    if (!s.ok()) return fail(s);
    if (r.status == "failed") {
      result_.status = "failed";
      result_.error = d.name + ": " + r.message;
      return finish(false);
    }
    if (r.status == "cancelled") {
      result_.status = "cancelled";
      result_.error = "cancelled during stage " + d.name;
      return finish(false);
    }
    c.progress(1, "");
    if (r.status == "succeeded" && d.inputs) {
      auto snap = ws_.data().Current();
      if (!snap.ok()) return fail(snap.status());
      auto outputs = OutputsOf(d, c, *snap);
      if (!outputs.ok()) return fail(outputs.status());
      StageState st;
      st.fingerprint = r.fingerprint;
      st.outputs = std::move(*outputs);
      st.run_id = result_.run_id;
      state_[state_key] = std::move(st);
    }
    return finish(true);
  }

  Workspace& ws_;
  const RefreshOptions& options_;
  const StageRegistry& stages_;
  const ProjectConfig project_;
  RefreshState state_;
  const int32_t run_date_;
  RefreshResult result_;
};

// NotFound for names that are not sources / segments, before anything runs.
Status CheckNames(Workspace& workspace, const ProjectConfig& project, const RefreshOptions& options) {
  if (!options.sources.empty() && !options.segments.empty()) {
    return InvalidArgumentError("a refresh is either of sources or of segments, not both");
  }
  for (const auto& n : options.sources) {
    if (project.FindSource(n)) continue;
    std::string known;
    for (const auto& k : project.sources) known += (known.empty() ? "" : ", ") + k.name;
    return NotFoundError("no source named '" + n + "' in the applied project (sources: " +
                         (known.empty() ? "none; run `cdp apply` first" : known) + ")");
  }
  if (!options.segments.empty()) {
    CDP_ASSIGN_OR_RETURN(auto segments, workspace.catalog().ListSegments());
    for (const auto& n : options.segments) {
      bool found = false;
      for (const auto& s : segments) found = found || s.name == n;
      if (!found) return NotFoundError("no segment named '" + n + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<RefreshResult> RunRefresh(Workspace& workspace, const RefreshOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto guard, RefreshGuard::Acquire(CanonicalDir(workspace.dir())));
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_RETURN_IF_ERROR(CheckNames(workspace, project, options));
  CDP_RETURN_IF_ERROR(CheckRunDate(options.run_date));
  CDP_ASSIGN_OR_RETURN(RefreshState state, LoadState(workspace));
  const int32_t run_date = options.run_date ? options.run_date : TodayUtc();
  CDP_ASSIGN_OR_RETURN(int64_t run_id, workspace.catalog().BeginRun("refresh"));
  guard->SetRunId(run_id);
  if (options.on_started) options.on_started(run_id);

  const StageRegistry& registry = options.stages ? *options.stages : StageRegistry::Default();
  Refresh refresh(workspace, options, registry, std::move(project), std::move(state), run_id, run_date);
  refresh.Run();
  RefreshResult& result = refresh.result();
  auto snap = workspace.data().Current();
  if (snap.ok()) result.generation = snap->generation;

  Json stages = Json::array();
  for (const auto& s : result.stages) stages.push_back(StageToJson(s));
  Json stats = {{"trigger", options.trigger},
                {"force", options.force},
                {"run_date", FormatDate(run_date)},
                {"sources", options.sources},
                {"segments", options.segments},
                {"generation", result.generation},
                {"stages", stages},
                {"state", StateToJson(refresh.state())}};
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run_id, result.status, result.error, stats.dump()));
  return std::move(result);
}

std::vector<StageResult> StagesOfRun(const std::string& stats_json) {
  std::vector<StageResult> out;
  auto j = nlohmann::json::parse(stats_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("stages") || !j["stages"].is_array()) return out;
  for (const auto& v : j["stages"]) {
    if (!v.is_object()) continue;
    std::string stage = v.value("stage", "");
    if (stage.empty()) continue;
    StageResult s;
    s.stage = RefreshStage(std::move(stage));
    s.status = v.value("status", "");
    s.duration_micros = v.value("duration_micros", int64_t{0});
    s.rows_in = v.value("rows_in", int64_t{0});
    s.rows_out = v.value("rows_out", int64_t{0});
    s.message = v.value("message", "");
    s.fingerprint = v.value("fingerprint", "");
    if (v.contains("warnings") && v["warnings"].is_array()) {
      for (const auto& w : v["warnings"]) {
        if (w.is_string()) s.warnings.push_back(w.get<std::string>());
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cdp
