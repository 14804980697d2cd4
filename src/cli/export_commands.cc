// `cdp export list|run|history`, `cdp trigger list|run`, `cdp connection
// list|check` and `cdp secret set|delete|list`: activation through the export
// runner (workspace/export_runner.h). Secret values are read from stdin,
// never from the command line, and never printed.
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "workspace/export_runner.h"

namespace cdp {
namespace {

std::string When(int64_t micros) {
  return micros ? FormatTimestamp(micros - micros % kMicrosPerSecond) : "-";
}

std::string Changes(const ExportRunReport& r) {
  return "+" + std::to_string(r.added) + " ~" + std::to_string(r.changed) + " -" + std::to_string(r.removed);
}

// A run that did not succeed: printed, then this error (exit code 1).
Status RunOutcome(const ExportRunReport& r) {
  if (r.status == "succeeded") return Status::Ok();
  return CommandFailed(r.kind + " '" + r.export_name + "' run " + std::to_string(r.id) + " " + r.status + ": " + r.error +
                       " (the next `cdp export run` or refresh resumes it)");
}

void PrintRun(const ExportRunReport& r) {
  if (r.resumed_run) std::cout << "Resumed interrupted run " << *r.resumed_run << " first.\n";
  std::cout << (r.kind == "trigger" ? "Trigger '" : "Export '") << r.export_name << "' run " << r.id << " " << r.status
            << (r.delta ? " (delta)" : " (full)") << ": " << r.rows_total << " rows (" << Changes(r) << ", "
            << r.unchanged << " unchanged), " << r.rows_sent << " sent in " << r.batches_acknowledged << "/"
            << r.batches_total << " batches, " << r.excluded_no_consent << " excluded without consent, "
            << Fixed(static_cast<double>(r.duration_micros) / 1e6, 2) << " s\n";
  if (!r.error.empty()) std::cout << "error: " << r.error << "\n";
  for (const auto& s : r.response_samples) std::cout << "  response: " << s << "\n";
}

Status CmdExportList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto exports, ListExports(*ws));
  if (g.json) {
    Json arr = Json::array();
    for (const auto& e : exports) arr.push_back(ToJson(e));
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : exports) {
    const ExportConfig& d = e.definition;
    std::string what = d.segment.empty() ? "entity " + d.entity : "segment " + d.segment;
    std::string last = "never run";
    if (e.last_run) last = "run " + std::to_string(e.last_run->id) + " " + e.last_run->status + " " + When(e.last_run->started_at);
    rows.push_back({d.name, what, d.connection, std::string(ExportModeName(d.mode)), d.when,
                    e.state_rows < 0 ? "-" : std::to_string(e.state_rows), last});
  }
  PrintTable({"export", "what", "connection", "mode", "when", "rows held", "last run"}, rows);
  return Status::Ok();
}

Status CmdExportRun(const Globals& g, const std::string& name, bool full, bool trigger) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  ExportRunOptions options;
  options.full = full;
  options.trigger = "cli";
  std::unique_ptr<ProgressBar> bar;
  options.progress = [&](int64_t done, int64_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>((trigger ? "trigger " : "export ") + name);
    bar->Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total), "batches");
  };
  auto r = trigger ? RunTrigger(*ws, name, options) : RunExport(*ws, name, options);
  bar.reset();
  if (!r.ok()) return r.status();
  if (g.json) {
    PrintJson(ToJson(*r));
  } else {
    PrintRun(*r);
  }
  return RunOutcome(*r);
}

Status CmdExportHistory(const Globals& g, const std::string& name, int limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto runs, ExportHistory(*ws, name, limit));
  if (g.json) {
    Json arr = Json::array();
    for (const auto& r : runs) arr.push_back(ToJson(r));
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs) {
    rows.push_back({std::to_string(r.id), When(r.started_at), r.status, r.trigger, r.delta ? "delta" : "full",
                    std::to_string(r.attempt), std::to_string(r.rows_total), Changes(r), std::to_string(r.rows_sent),
                    std::to_string(r.excluded_no_consent), std::to_string(r.failures),
                    Fixed(static_cast<double>(r.duration_micros) / 1e6, 2), r.error});
  }
  PrintTable({"run", "started", "status", "by", "mode", "attempt", "rows", "changes", "sent", "no consent", "failures",
              "seconds", "error"},
             rows);
  return Status::Ok();
}

Status CmdTriggerList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto triggers, ListTriggers(*ws));
  if (g.json) {
    Json arr = Json::array();
    for (const auto& t : triggers) arr.push_back(ToJson(t));
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : triggers) {
    const TriggerConfig& d = t.definition;
    std::string on = d.segment.empty() ? "measure " + d.measure + " above " + Fixed(d.above.value_or(0), 2)
                                       : "segment " + d.segment;
    std::string events;
    for (const auto& e : d.events) events += (events.empty() ? "" : ", ") + e;
    std::string last = t.last_run ? "run " + std::to_string(t.last_run->id) + " " + t.last_run->status : "never run";
    rows.push_back({d.name, on, events, d.connection, last});
  }
  PrintTable({"trigger", "on", "events", "connection", "last run"}, rows);
  return Status::Ok();
}

Status CmdConnectionList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto connections, ListConnections(*ws));
  if (g.json) {
    Json arr = Json::array();
    for (const auto& c : connections) arr.push_back(ToJson(c));
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : connections) {
    std::string settings, secrets, used;
    for (const auto& [k, v] : c.definition.settings) settings += (settings.empty() ? "" : ", ") + k + "=" + v;
    for (const auto& s : c.secrets) {
      secrets += (secrets.empty() ? "" : ", ") + s.key + " from " + s.from + " " + s.reference +
                 (s.is_set ? " (set)" : " (NOT SET)");
    }
    for (const auto& e : c.exports) used += (used.empty() ? "" : ", ") + e;
    rows.push_back({c.definition.name, c.definition.kind + (c.kind_registered ? "" : " (unknown kind)"), settings,
                    secrets, used});
  }
  PrintTable({"connection", "kind", "settings", "secrets", "used by"}, rows);
  return Status::Ok();
}

Status CmdConnectionCheck(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(ConnectionCheck check, CheckConnection(*ws, name));
  if (g.json) {
    PrintJson(ToJson(check));
  } else {
    std::cout << "Connection '" << name << "': " << (check.ok ? "OK, " : "FAILED: ") << check.message << "\n";
  }
  if (!check.ok) return CommandFailed("connection '" + name + "' failed its check");
  return Status::Ok();
}

// The value comes from stdin (a pipe, or typed: one line), never from argv,
// so it stays out of shell history and process listings.
Status CmdSecretSet(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  std::string value;
  if (isatty(STDIN_FILENO)) {
    std::cerr << "Value of secret '" << name << "' (one line, not echoed back): " << std::flush;
    std::getline(std::cin, value);
  } else {
    // At most one byte over the limit: SetSecret refuses it.
    constexpr size_t kLimit = 64 * 1024 + 1;
    value.resize(kLimit);
    std::cin.read(value.data(), static_cast<std::streamsize>(kLimit));
    value.resize(static_cast<size_t>(std::cin.gcount()));
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  }
  CDP_RETURN_IF_ERROR(SetSecret(*ws, name, value));
  if (g.json) {
    PrintJson({{"name", name}, {"status", "stored"}});
  } else {
    std::cout << "Stored secret '" << name << "'.\n";
  }
  return Status::Ok();
}

Status CmdSecretDelete(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_RETURN_IF_ERROR(DeleteSecret(*ws, name));
  if (g.json) {
    PrintJson({{"name", name}, {"status", "deleted"}});
  } else {
    std::cout << "Deleted secret '" << name << "'.\n";
  }
  return Status::Ok();
}

Status CmdSecretList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto names, ListSecretNames(*ws));
  if (g.json) {
    PrintJson(names);
  } else {
    for (const auto& n : names) std::cout << n << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddExportCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    std::string name;
    bool full = false;
    int limit = 20;
  };
  auto o = std::make_shared<Options>();

  auto* exp = app.add_subcommand("export", "exports of segments and entities to connections: list, run, history");
  exp->require_subcommand(1);
  auto* list = exp->add_subcommand("list", "list exports with their last run");
  cli.AddWorkspaceOptions(list);
  cli.OnRun(list, [&cli] { return CmdExportList(cli.g); });
  auto* run = exp->add_subcommand("run", "run an export now (resuming an interrupted run first)");
  cli.AddWorkspaceOptions(run);
  run->add_option("NAME", o->name, "export name")->required();
  run->add_flag("--full", o->full, "send every row (the destination replaces what it holds) instead of the changes");
  cli.OnRun(run, [&cli, o] { return CmdExportRun(cli.g, o->name, o->full, false); });
  auto* history = exp->add_subcommand("history", "runs of an export or trigger, newest first");
  cli.AddWorkspaceOptions(history);
  history->add_option("NAME", o->name, "export or trigger name")->required();
  history->add_option("--limit", o->limit, "at most this many runs (default 20)")->check(CLI::Range(1, 100000));
  cli.OnRun(history, [&cli, o] { return CmdExportHistory(cli.g, o->name, o->limit); });

  auto* trig = app.add_subcommand("trigger", "segment entry/exit and measure threshold events: list, run");
  trig->require_subcommand(1);
  auto* tlist = trig->add_subcommand("list", "list triggers with their last run");
  cli.AddWorkspaceOptions(tlist);
  cli.OnRun(tlist, [&cli] { return CmdTriggerList(cli.g); });
  auto* trun = trig->add_subcommand("run", "compute and deliver a trigger's events now");
  cli.AddWorkspaceOptions(trun);
  trun->add_option("NAME", o->name, "trigger name")->required();
  cli.OnRun(trun, [&cli, o] { return CmdExportRun(cli.g, o->name, false, true); });

  auto* conn = app.add_subcommand("connection", "destinations of exports: list, check");
  conn->require_subcommand(1);
  auto* clist = conn->add_subcommand("list", "list connections (which secrets are set, never their values)");
  cli.AddWorkspaceOptions(clist);
  cli.OnRun(clist, [&cli] { return CmdConnectionList(cli.g); });
  auto* check = conn->add_subcommand("check", "resolve a connection's secrets and reach it without sending data");
  cli.AddWorkspaceOptions(check);
  check->add_option("NAME", o->name, "connection name")->required();
  cli.OnRun(check, [&cli, o] { return CmdConnectionCheck(cli.g, o->name); });

  auto* secret = app.add_subcommand("secret", "the workspace's secret store for connections: set, delete, list");
  secret->require_subcommand(1);
  auto* set = secret->add_subcommand("set", "store a secret; the value is read from stdin");
  cli.AddWorkspaceOptions(set);
  set->add_option("NAME", o->name, "secret name (as in a connection's {secret: NAME})")->required();
  cli.OnRun(set, [&cli, o] { return CmdSecretSet(cli.g, o->name); });
  auto* del = secret->add_subcommand("delete", "delete a stored secret");
  cli.AddWorkspaceOptions(del);
  del->add_option("NAME", o->name, "secret name")->required();
  cli.OnRun(del, [&cli, o] { return CmdSecretDelete(cli.g, o->name); });
  auto* slist = secret->add_subcommand("list", "names of the stored secrets (never values)");
  cli.AddWorkspaceOptions(slist);
  cli.OnRun(slist, [&cli] { return CmdSecretList(cli.g); });
}

}  // namespace cdp
