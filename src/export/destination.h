// Export destinations by kind: where an export run sends its rows (files and
// CDM folders, PostgreSQL, webhooks, SFTP, ClickHouse). The export runner
// (workspace/export_runner.h) decides what to send (the full set, or the
// changes since the last successful run) and drives one DestinationSession
// per attempt: Begin, Write the batches in order, Commit. Destinations know
// nothing of segments, consent or delta state; they only deliver rows.
// Optional integrations register their kind at startup (as source connectors
// do), so the core builds without them. The registry is thread-safe; a
// session is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/types.h"

namespace cdp {

// A connection as declared in the project (`connections:`) with its secrets
// resolved (from an environment variable or the workspace's secret store).
// `settings` are echoed by the API and export-config; `secrets` never are.
struct ResolvedConnection {
  std::string name;
  std::string kind;  // "files", "postgres", "webhook", "sftp", "clickhouse", ...
  std::map<std::string, std::string> settings;  // host, port, path, url, database, user, ...
  std::map<std::string, std::string> secrets;   // password, hmac_secret, private_key, ...

  // The setting or secret, or `fallback` when absent.
  std::string Setting(std::string_view key, std::string_view fallback = "") const;
  std::string Secret(std::string_view key, std::string_view fallback = "") const;
};

// What changed for a row since the last successful run of its export. A full
// run sends every row as kAdded.
enum class RowChange : uint8_t { kAdded = 0, kChanged = 1, kRemoved = 2 };
// "added", "changed", "removed".
std::string_view RowChangeName(RowChange change);

// One exported field, under its destination name (after renames).
struct ExportField {
  std::string name;
  DataType type = DataType::kString;
};

// The fields of every row of a run. `key_field` indexes the field that
// identifies a row (CustomerId, or what it was renamed to): unique per run.
struct ExportSchema {
  std::vector<ExportField> fields;
  size_t key_field = 0;
};

// One row. `values` has one entry per schema field: the value as text
// (FormatExportValue in export/export_value.h: numbers as the shortest text
// that reads back to the same value, dates YYYY-MM-DD, timestamps ISO 8601
// UTC with Z, bools true/false), nullopt for null. A kRemoved row carries only
// its key; its other values are nullopt.
struct ExportRow {
  RowChange change = RowChange::kAdded;
  std::vector<std::optional<std::string>> values;
};

// A run's rows travel in batches, numbered from 0 in a fixed order (by key),
// so a repeated attempt of the same run builds the same batches.
struct ExportBatch {
  int64_t sequence = 0;
  // "<export>:<export run id>:<sequence>": the same on every attempt of the
  // run; a receiver drops a batch whose key it already holds.
  std::string idempotency_key;
  std::vector<ExportRow> rows;
};

// What one attempt of an export run sends.
struct ExportRunInfo {
  std::string export_name;
  int64_t export_run_id = 0;  // stays the same when an interrupted run is resumed
  int attempt = 1;            // 1 for the first attempt of the run
  // True: the rows are the changes since the last successful run (kAdded,
  // kChanged, kRemoved); the destination applies them to what it holds.
  // False: the rows are the whole set; the destination replaces what it holds.
  bool delta = false;
  // Where in the destination: a table name, a file stem, an event type.
  // From the export's `target:`, defaulting to the export's name.
  std::string target;
  ExportSchema schema;
  int64_t total_rows = 0;  // rows in this run (progress, manifests)
  int64_t started_at = 0;  // microseconds since the epoch, of the run's first attempt
  // The export's own options for this destination kind (e.g. format: csv,
  // gzip: true, batch_size: 1000), validated by DestinationKind::validate_options.
  std::map<std::string, std::string> options;
  // Batches with a smaller sequence were delivered by an earlier attempt of
  // this run and are not sent again (only for kinds with durable_batches).
  int64_t resume_from_batch = 0;
};

class DestinationSession {
 public:
  virtual ~DestinationSession() = default;
  // Delivers one batch; returns once the destination holds it (a webhook
  // acknowledged it, PostgreSQL has it in the run's open transaction). An
  // error ends the attempt (the runner then calls Abort): say what failed,
  // naming the connection, and include the destination's response.
  virtual Status Write(const ExportBatch& batch) = 0;
  // Makes the run's result visible, at once where the destination can
  // (transaction commit, atomic rename). After an OK Commit the destination
  // holds exactly the run's result.
  virtual Status Commit() = 0;
  // Gives up the attempt: rolls back and removes temporary objects where
  // the destination can. Never fails; called at most once, instead of Commit.
  virtual void Abort() = 0;
  // Rows the destination received in this attempt, and short samples of its
  // responses (status lines, messages), for the run history.
  virtual int64_t rows_delivered() const = 0;
  virtual std::vector<std::string> response_samples() const { return {}; }
};

struct DestinationKind {
  std::string kind;
  // Batches acknowledged by a failed attempt stay delivered (webhooks, when
  // receivers deduplicate by idempotency key), so a resumed run skips them.
  // False when Commit is all or nothing (PostgreSQL, files).
  bool durable_batches = false;
  // Checks a connection's settings and secrets: an unknown or missing key is
  // InvalidArgument naming the connection and the key.
  std::function<Status(const ResolvedConnection&)> validate;
  // Checks an export's options for this kind (null: no options allowed).
  std::function<Status(const ResolvedConnection&, const std::map<std::string, std::string>& options)>
      validate_options;
  // Starts an attempt (connects, creates the table or folder if missing,
  // opens the transaction or temporary files).
  std::function<StatusOr<std::unique_ptr<DestinationSession>>(const ResolvedConnection&, const ExportRunInfo&)>
      begin;
  // Optional: reaches the destination without sending data (`cdp connection test`).
  std::function<Status(const ResolvedConnection&)> check;
};

class DestinationRegistry {
 public:
  DestinationRegistry() = default;
  DestinationRegistry(const DestinationRegistry&) = delete;
  DestinationRegistry& operator=(const DestinationRegistry&) = delete;

  // AlreadyExists when the kind is registered; InvalidArgument without a
  // kind, a validate or a begin function.
  Status Register(DestinationKind kind);
  // FailedPrecondition naming the connection's kind and the registered kinds
  // when none matches.
  StatusOr<const DestinationKind*> Find(std::string_view kind) const;
  std::vector<std::string> Kinds() const;

  // The process's registry (with the file destinations once
  // RegisterFileDestinations ran; cdp registers every kind at startup).
  static DestinationRegistry& Global();

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<DestinationKind>, std::less<>> kinds_;  // GUARDED_BY(mu_)
};

}  // namespace cdp
