// The export runner and its service: what the CLI (`cdp export|connection|
// secret ...`), the REST API and the web UI call to list, check and change
// connections and exports, run an export (full or delta, consent applied),
// read its history, and the refresh's "exports" stage that runs every
// `when: refresh` export and every trigger after the segments stage.
//
// A run: the rows (a segment's members with their Customer fields and
// measures, or a whole entity; members without granted consent left out)
// are formatted (FormatExportValue), hashed per key and compared with the
// state of the export's last successful run (delta: added, changed,
// removed; full: every row). The run is recorded in the catalog, its rows
// materialized in key order into a pending file in the workspace, then sent
// in batches "<export>:<run id>:<seq>" through the connection's destination
// kind (export/destination.h). Only after the destination committed and the
// catalog recorded success is the new state installed. A run interrupted
// (kill -9, a destination failure) is resumed by the next RunExport of that
// export or the next refresh: the same batches with the same idempotency
// keys, skipping acknowledged ones for kinds with durable_batches. A run
// whose definition changed (or that a --full run replaced) before it was
// resumed is superseded; when it had delivered batches, the next run is
// full, since the destination may keep what they carried.
//
// Thread-safe as the catalog is; runs of one export serialize on a lock
// file in the workspace (a second concurrent run of the same export is
// FailedPrecondition). Secrets are never returned, logged or put in
// messages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/export_config.h"
#include "config/project_config.h"
#include "export/destination.h"
#include "storage/data_store.h"
#include "workspace/definitions.h"
#include "workspace/stage.h"
#include "workspace/workspace.h"

namespace cdp {

// ---------------------------------------------------------------- connections

struct ConnectionSecretInfo {
  std::string key;        // e.g. "password"
  std::string from;       // "env" or "secret"
  std::string reference;  // the variable or secret-store name
  bool is_set = false;    // the variable is set / the secret is stored (never its value)
};

struct ConnectionInfo {
  ConnectionConfig definition;  // settings and secret references only
  std::vector<ConnectionSecretInfo> secrets;
  bool kind_registered = false;  // this program has a destination of its kind
  std::vector<std::string> exports;   // exports and triggers using it
};
nlohmann::ordered_json ToJson(const ConnectionInfo& info);

// Every declared connection, by declaration order.
StatusOr<std::vector<ConnectionInfo>> ListConnections(Workspace& workspace,
                                                      const DestinationRegistry& registry = DestinationRegistry::Global());

// Resolves a connection's secrets (environment, then the secret store).
// NotFound for an unknown connection; FailedPrecondition naming the
// connection and the key for an unset variable or a secret not stored.
StatusOr<ResolvedConnection> ResolveConnection(Workspace& workspace, const ConnectionConfig& connection);

struct ConnectionCheck {
  std::string name;
  bool ok = false;
  std::string message;  // "reachable", or the error (never a secret)
};
nlohmann::ordered_json ToJson(const ConnectionCheck& check);
// Resolves, validates (the kind's validate) and reaches the destination (its
// check, when the kind has one) without sending data. A failure is a result
// with ok = false; NotFound for an unknown connection.
StatusOr<ConnectionCheck> CheckConnection(Workspace& workspace, const std::string& name,
                                          const DestinationRegistry& registry = DestinationRegistry::Global());

// The secret store (catalog): the value is stored and read only to resolve
// a connection. Empty name or value, or a value over 64 KiB: InvalidArgument.
Status SetSecret(Workspace& workspace, const std::string& name, const std::string& value);
// NotFound for an unknown name.
Status DeleteSecret(Workspace& workspace, const std::string& name);
// Names of the stored secrets, sorted (never values).
StatusOr<std::vector<std::string>> ListSecretNames(Workspace& workspace);

// ------------------------------------------------------------------ run reports

// One run of an export or a trigger, as recorded in the catalog.
struct ExportRunReport {
  int64_t id = 0;
  std::string export_name;
  std::string kind = "export";  // "export" or "trigger"
  // "running", "succeeded", "failed" (the destination or the data failed;
  // the next run resumes it), "interrupted" (its process ended: the next run
  // resumes it) or "superseded" (its definition changed, or a --full run
  // replaced it, before it was resumed).
  std::string status;
  std::string trigger;      // "cli", "api", "refresh", "schedule"
  bool delta = false;       // the destination applied changes (false: replaced everything)
  int attempt = 1;          // attempts of this run so far
  int64_t rows_total = 0;   // rows of the run (after consent)
  int64_t rows_sent = 0;    // rows the destination received in the last attempt
  int64_t added = 0, changed = 0, removed = 0;
  int64_t unchanged = 0;    // delta: rows left out because they did not change
  int64_t excluded_no_consent = 0;
  int64_t batches_total = 0;
  int64_t batches_acknowledged = 0;
  int64_t failures = 0;     // failed attempts of this run
  std::string error;        // the last failure
  std::vector<std::string> response_samples;
  int64_t started_at = 0;   // microseconds since the epoch
  int64_t finished_at = 0;  // 0 while running
  int64_t duration_micros = 0;
  std::optional<int64_t> resumed_run;  // an earlier interrupted run this call finished first
};
nlohmann::ordered_json ToJson(const ExportRunReport& report);

// -------------------------------------------------------------------- exports

struct ExportInfo {
  ExportConfig definition;
  std::optional<ExportRunReport> last_run;
  int64_t state_rows = -1;  // rows held by the destination after the last successful run; -1 = never
};
nlohmann::ordered_json ToJson(const ExportInfo& info);

StatusOr<std::vector<ExportInfo>> ListExports(Workspace& workspace);
// NotFound for an unknown export.
StatusOr<ExportInfo> GetExport(Workspace& workspace, const std::string& name);

// Cross references of the activation sections against the project and the
// current data: connections' kinds are registered; exports and triggers name
// existing connections, segments, entities, fields and measures; consent
// fields exist. InvalidArgument naming the export (or trigger) and the field,
// listing what exists. A field that cannot be checked yet (no data) is not.
Status ValidateActivation(const ProjectConfig& project, const std::vector<std::string>& segments,
                          const Snapshot& data,
                          const DestinationRegistry& registry = DestinationRegistry::Global());

// Creates (AlreadyExists when the name is taken) or replaces (NotFound when
// not) an export, as one definitions transaction, validated with the rest
// of the project (ValidateActivation, and the kind's validate_options).
Status PutExport(Workspace& workspace, const ExportConfig& definition, DefinitionWrite write,
                 const DestinationRegistry& registry = DestinationRegistry::Global());
// NotFound for an unknown export. Its history stays; its delta state is dropped.
Status DeleteExport(Workspace& workspace, const std::string& name);

struct ExportRunOptions {
  bool full = false;              // send every row (replace) instead of the changes
  std::string trigger = "cli";    // recorded on the run
  // Progress of the sending: batches done of total. Called on the running thread.
  std::function<void(int64_t batches_done, int64_t batches_total)> progress;
  const DestinationRegistry* registry = nullptr;  // null = DestinationRegistry::Global()
  // Test hook: called before each batch is sent; an error fails the attempt
  // there (as a destination failure would).
  std::function<Status(int64_t sequence)> before_batch;
};

// Runs one export now. An interrupted or failed earlier run of it is
// resumed first (same rows, batches and idempotency keys; its id is in
// `resumed_run`), then a new run sends what changed since (a delta with no
// change sends nothing and is recorded with 0 rows). A failing destination
// is a report with status "failed" (and the run stays resumable), not an
// error. Errors: NotFound for an unknown export; FailedPrecondition for an
// unresolvable secret, a missing segment or entity, a run of the same
// export already in progress; InvalidArgument for a duplicate key value.
StatusOr<ExportRunReport> RunExport(Workspace& workspace, const std::string& name, const ExportRunOptions& options = {});

// Runs of an export or trigger, newest first (at most `limit`). NotFound
// for a name that is neither an export nor a trigger and has no history.
StatusOr<std::vector<ExportRunReport>> ExportHistory(Workspace& workspace, const std::string& name, int limit);

// ------------------------------------------------------------------- triggers

struct TriggerInfo {
  TriggerConfig definition;
  std::optional<ExportRunReport> last_run;
};
nlohmann::ordered_json ToJson(const TriggerInfo& info);
StatusOr<std::vector<TriggerInfo>> ListTriggers(Workspace& workspace);

// Computes and delivers one trigger's events now (what the exports stage
// does after each refresh). Errors and results as RunExport.
StatusOr<ExportRunReport> RunTrigger(Workspace& workspace, const std::string& name, const ExportRunOptions& options = {});

// ---------------------------------------------------------------- the stage

// The refresh stage "exports" (after segments): runs every `when: refresh`
// export and every trigger whose inputs changed, and resumes unfinished
// runs. A failing export or trigger is a warning of the stage (the others
// run, the refresh succeeds); the stage fails only when the catalog does.
StageDescriptor ExportsStage();

}  // namespace cdp
