// `cdp run` and `cdp runs`: a refresh of every stage whose inputs changed, and the run history.
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "workspace/refresh_runner.h"

namespace cdp {
namespace {

// A refresh that ran but did not succeed: its stages are printed, then this.
Status RefreshOutcome(const RefreshResult& r) {
  if (r.ok()) return Status::Ok();
  if (r.status == "failed") return CommandFailed(r.error + " (the previous outputs stay current)");
  return CommandFailed("refresh run " + std::to_string(r.run_id) + " " + r.status);
}

Json StageResultJson(const StageResult& s) {
  return {{"stage", RefreshStageName(s.stage)}, {"status", s.status},   {"seconds", s.duration_micros / 1e6},
          {"rows_in", s.rows_in},               {"rows_out", s.rows_out}, {"message", s.message},
          {"warnings", s.warnings}};
}

// `cdp run`: one refresh (workspace/refresh_runner.h): the stages whose inputs
// changed, a table of what each did; exit 1 unless it succeeded.
Status CmdRun(const Globals& g, bool force, int threads, const std::vector<std::string>& sources,
           const std::vector<std::string>& segments) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  RefreshOptions options;
  options.force = force;
  options.threads = static_cast<size_t>(threads);
  options.sources = sources;
  options.segments = segments;
  options.trigger = "cli";
  std::unique_ptr<ProgressBar> bar;
  std::optional<RefreshStage> current;
  options.progress = [&](RefreshStage stage, double fraction, const std::string& detail) {
    if (current != stage) {
      bar = std::make_unique<ProgressBar>("refresh: " + std::string(RefreshStageName(stage)));
      current = stage;
    }
    bar->Update(static_cast<uint64_t>(fraction * 1000), 1000, detail);
  };
  auto r = RunRefresh(*ws, options);
  bar.reset();
  if (!r.ok()) return r.status();
  if (g.json) {
    Json stages = Json::array();
    for (const auto& s : r->stages) stages.push_back(StageResultJson(s));
    PrintJson({{"run_id", r->run_id}, {"status", r->status}, {"error", r->error}, {"generation", r->generation},
               {"stages", stages}});
    return RefreshOutcome(*r);
  }
  std::cout << "Refresh run " << r->run_id << " " << r->status << ", generation " << r->generation << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : r->stages) {
    rows.push_back({std::string(RefreshStageName(s.stage)), s.status, Fixed(s.duration_micros / 1e6, 2),
                    std::to_string(s.rows_in), std::to_string(s.rows_out), s.message});
  }
  PrintTable({"stage", "status", "seconds", "rows in", "rows out", "message"}, rows);
  for (const auto& s : r->stages) PrintWarnings(std::string(RefreshStageName(s.stage)) + ": ", s.warnings);
  return RefreshOutcome(*r);
}

// `cdp runs`: run history, newest first, with the stages of refresh runs.
Status CmdRuns(const Globals& g, int limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto runs = ws->catalog().ListRuns(limit);
  if (!runs.ok()) return runs.status();
  // One column per registered stage, in run order.
  std::vector<std::string> stage_names;
  for (const auto& d : StageRegistry::Default().stages()) stage_names.push_back(d.name);
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : *runs) {
    std::vector<StageResult> stages = StagesOfRun(run.stats_json);
    std::string trigger;
    if (run.kind == "refresh") {
      auto stats = Json::parse(run.stats_json, nullptr, false);
      if (stats.is_object()) trigger = stats.value("trigger", "");
    }
    double seconds = run.finished_at > 0 ? static_cast<double>(run.finished_at - run.started_at) / 1e6 : 0;
    Json js = Json::array();
    for (const auto& s : stages) {
      js.push_back({{"stage", RefreshStageName(s.stage)}, {"status", s.status}, {"seconds", s.duration_micros / 1e6},
                    {"rows_in", s.rows_in}, {"rows_out", s.rows_out}});
    }
    arr.push_back({{"id", run.id}, {"kind", run.kind}, {"status", run.status}, {"trigger", trigger},
                   {"started_at", FormatTimestamp(run.started_at)},
                   {"finished_at", run.finished_at > 0 ? Json(FormatTimestamp(run.finished_at)) : Json(nullptr)},
                   {"seconds", seconds}, {"error", run.error}, {"stages", js}});
    std::vector<std::string> row = {std::to_string(run.id), run.kind, run.status, trigger,
                                    FormatTimestamp(run.started_at).substr(0, 19),
                                    run.finished_at > 0 ? Fixed(seconds, 2) : ""};
    // Seconds per stage that ran; "skip", "FAIL", "cancel", or "" when not part of the run.
    for (const std::string& stage : stage_names) {
      std::string cell;
      for (const auto& s : stages) {
        if (s.stage.name() != stage) continue;
        if (s.status == "succeeded") cell = Fixed(s.duration_micros / 1e6, 2);
        else if (s.status == "skipped") cell = "skip";
        else if (s.status == "failed") cell = "FAIL";
        else cell = s.status;
      }
      row.push_back(cell);
    }
    row.push_back(run.error);
    rows.push_back(std::move(row));
  }
  if (g.json) {
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::string> header = {"run", "kind", "status", "trigger", "started (UTC)", "seconds"};
  header.insert(header.end(), stage_names.begin(), stage_names.end());
  header.push_back("error");
  PrintTable(header, rows);
  return Status::Ok();
}

}  // namespace

void AddRunCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    bool force = false;
    int threads = 0;
    std::vector<std::string> sources, segments;
    int limit = 20;
  };
  auto o = std::make_shared<Options>();
  auto* run = app.add_subcommand("run", "refresh: every pipeline stage whose inputs changed, in order");
  cli.AddWorkspaceOptions(run);
  run->add_flag("--force", o->force, "re-run stages whose inputs did not change");
  CommandLine::AddThreadsOption(run, &o->threads);
  run->add_option("--source", o->sources, "refresh only this source (repeatable) and what depends on it");
  run->add_option("--segment", o->segments, "refresh only this segment (repeatable)");
  cli.OnRun(run, [&cli, o] { return CmdRun(cli.g, o->force, o->threads, o->sources, o->segments); });

  auto* runs = app.add_subcommand("runs", "run history, newest first, with the stages of each refresh");
  cli.AddWorkspaceOptions(runs);
  runs->add_option("--limit", o->limit, "number of runs")->capture_default_str()->check(CLI::PositiveNumber);
  cli.OnRun(runs, [&cli, o] { return CmdRuns(cli.g, o->limit); });
}

}  // namespace cdp
