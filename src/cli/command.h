// What every `cdp` command shares: the global options, the one place where a
// command's Status becomes a message and an exit code, and small output
// helpers. Each command group (project, data, unify, activities, measures,
// segments, run, apikey, demo, serve) lives in its own <group>_commands.cc
// and registers its subcommands with an Add<Group>Commands function; the
// commands call workspace/ and only translate arguments and results.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "table/column.h"
#include "workspace/workspace.h"

namespace cdp {

using Json = nlohmann::ordered_json;

// Exit codes: 0 success, 1 the command failed, 2 a usage error.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Globals {
  std::string workspace = ".";
  bool json = false;
};

// One invocation of `cdp`: the global options the subcommands fill in and
// the exit code of the command that ran.
class CommandLine {
 public:
  Globals g;
  int exit_code = 0;

  // Adds -w/--workspace and --json to a subcommand.
  void AddWorkspaceOptions(CLI::App* sub);
  // Adds --threads (worker threads, 0 = all cores).
  static void AddThreadsOption(CLI::App* sub, int* threads);
  // Makes `command` the subcommand's action: its Status is translated by
  // ReportStatus into the exit code.
  void OnRun(CLI::App* sub, std::function<Status()> command);
};

// The one translation of a command's outcome: OK -> 0; an error is printed
// to stderr as "error: <code>: <message>" (with the CLI hint for errors
// that have one) and gives exit code 1.
int ReportStatus(const Status& status);

// A failure the command has already reported in its output (e.g. a refresh
// that ran and failed: the table of stages is printed, then this error).
Status CommandFailed(std::string message);

// The command groups.
void AddProjectCommands(CommandLine& cli, CLI::App& app);   // init, apply, export-config
void AddDataCommands(CommandLine& cli, CLI::App& app);      // ingest, entities, show, quarantine
void AddDemoCommands(CommandLine& cli, CLI::App& app);      // demo generate
void AddUnifyCommands(CommandLine& cli, CLI::App& app);     // unify (evaluate), explain, explain-pair, explain-model, override, review
void AddActivityCommands(CommandLine& cli, CLI::App& app);  // activities, timeline
void AddMeasureCommands(CommandLine& cli, CLI::App& app);   // measures
void AddSegmentCommands(CommandLine& cli, CLI::App& app);   // segment create|update|delete|list|run|show|members
// segment overlap|compare|expand|suggest|rfm|trend|activate|deactivate (called by AddSegmentCommands)
void AddSegmentInsightCommands(CommandLine& cli, CLI::App& segment);
void AddEnrichCommands(CommandLine& cli, CLI::App& app);    // enrich [NAMES] [--list]
void AddRunCommands(CommandLine& cli, CLI::App& app);       // run, runs
void AddApiKeyCommands(CommandLine& cli, CLI::App& app);    // apikey create|list|revoke
void AddPredictCommands(CommandLine& cli, CLI::App& app);   // predict list|readiness|train|run|show|evaluate|scores
void AddExportCommands(CommandLine& cli, CLI::App& app);    // export list|run|history, trigger, connection, secret

StatusOr<std::unique_ptr<Workspace>> OpenWorkspace(const Globals& g);

void PrintJson(const Json& j);
// "warning: <prefix><w>" on stderr for the first 10 warnings, then how many
// more there are (--json has them all).
void PrintWarnings(const std::string& prefix, const std::vector<std::string>& warnings);
// `v` with `digits` decimals.
std::string Fixed(double v, int digits);
// The first `limit` rows of `t` as a text table, with a "... N more" line.
void PrintTableRows(const Table& t, size_t limit);
// A YYYY-MM-DD argument as microseconds since the epoch: the day's first
// microsecond, or its last with `end_of_day`.
StatusOr<int64_t> ParseTimeArg(const std::string& text, bool end_of_day);
// The run date (days since 1970-01-01) of an --as-of argument, 0 = today.
StatusOr<int32_t> ParseAsOf(const std::string& text);

}  // namespace cdp
