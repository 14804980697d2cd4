// Catalog: a workspace's SQLite database of definitions (the applied project)
// and run history. Schema changes are versioned migrations applied on open.
// Thread-safe: one connection guarded by a mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/project_config.h"

struct sqlite3;

namespace cdp {

// What one ingest of one source did. rows_read = rows_stored +
// rows_quarantined + rows_filtered for a succeeded ingest.
struct SourceIngestRecord {
  int64_t run_id = 0;
  std::string source;
  std::string status;        // "succeeded", "failed" or "skipped"
  int64_t rows_read = 0;
  int64_t rows_stored = 0;
  int64_t rows_quarantined = 0;
  int64_t rows_filtered = 0;
  uint64_t generation = 0;   // data generation that holds the result
  std::string fingerprint;   // of the input, for skipping unchanged sources
  std::string message;
  int64_t started_at = 0;    // microseconds since the epoch
  int64_t finished_at = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string kind;          // "ingest", "run", ...
  // "running", "succeeded", "failed", or "interrupted": its process ended
  // without finishing it (kill -9, a crash, a full disk).
  std::string status;
  std::string error;
  std::string stats_json;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

// A user's decision that two source records are (always) or are not (never) one person.
struct MatchOverrideRecord {
  int64_t id = 0;
  std::string source_a, key_a, source_b, key_b;
  bool always = false;
  std::string note;
  int64_t created_at = 0;
};

// A CustomerId merge (customer_id absorbed other_ids) or split (customer_id's
// records went to other_ids) recorded by a unification run.
struct CustomerIdChangeRecord {
  int64_t run_id = 0;
  std::string kind;  // "merge" or "split"
  int64_t customer_id = 0;
  std::vector<int64_t> other_ids;
};

// A segment definition as stored: its JSON, status ("active", "draft" for an
// invalid dynamic segment, "inactive" for an invalid static one) and problems.
struct SegmentRecord {
  std::string name;
  std::string definition_json;
  std::string status;
  std::string problems_json;  // JSON array of strings
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct SegmentCountRecord {
  int64_t run_id = 0;
  int64_t members = 0;
  int64_t evaluated_at = 0;
};

// An API key as stored: only the SHA-256 of its secret part, never the secret.
// Times are microseconds since the epoch; 0 for "never" (revoked_at, last_used_at).
struct ApiKeyRecord {
  int64_t id = 0;
  std::string name;
  std::string role;         // "viewer", "contributor" or "admin"
  std::string prefix;       // public, unique: identifies the key
  std::string secret_hash;  // lowercase hex SHA-256 of the secret part
  int64_t created_at = 0;
  std::string created_by;
  int64_t revoked_at = 0;
  int64_t last_used_at = 0;
};

// One entry of the audit log: who did what to which object.
struct AuditRecord {
  int64_t id = 0;
  int64_t at = 0;  // microseconds since the epoch
  std::string actor;
  std::string action;
  std::string target;
  std::string detail_json;
};

// One run of an export or a trigger (workspace/export_runner.h) and its
// progress. Paths are relative to the workspace directory.
struct ExportRunRecord {
  int64_t id = 0;
  std::string export_name;
  std::string kind = "export";  // "export" or "trigger"
  // "running", "succeeded", "failed", "interrupted" (its process is gone) or
  // "superseded" (replaced before it was resumed).
  std::string status = "running";
  std::string trigger;          // "cli", "api", "refresh", "schedule"
  std::string definition_hash;  // of what the run sends (definition, fields, kind)
  std::string pending_path;     // the run's rows, materialized before sending
  std::string state_path;       // the state installed when the run succeeds
  bool delta = false;
  int attempt = 1;
  int64_t batches_total = 0;
  int64_t batches_acknowledged = 0;
  std::string stats_json = "{}";
  std::string error;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

// The state an export's last successful run left: a file of key -> row hash.
// The trained model of a prediction (workspace/prediction_runner.h).
struct PredictionModelRecord {
  std::string name;
  std::string kind;
  std::string definition_hash;  // of the definition it was trained for
  int64_t trained_at = 0;       // micros since the epoch
  int32_t as_of_day = 0;        // the training's "today" (days since 1970-01-01)
  std::string grade;            // "A", "B", "C" or ""
  std::string model;            // the model's JSON (predict/)
  std::string evaluation;       // JSON
  std::string readiness;        // JSON
};

struct ExportStateRecord {
  std::string export_name;
  int64_t run_id = 0;
  std::string path;  // relative to the workspace directory
  int64_t rows = 0;
  int64_t updated_at = 0;
};

class Catalog;

// The definitions as seen inside one catalog transaction (see
// Catalog::UpdateDefinitions): reads see the transaction's own writes. Valid
// only inside the callback, on its thread (the catalog's lock is held).
class DefinitionsTxn {
 public:
  DefinitionsTxn(const DefinitionsTxn&) = delete;
  DefinitionsTxn& operator=(const DefinitionsTxn&) = delete;

  StatusOr<ProjectConfig> LoadProject() const;
  // Replaces the project (sources, unification, relationships, activities,
  // measures, search, schedules). Its `segments` texts are not stored: the
  // segments table (PutSegment) is the one place of segment definitions.
  Status ReplaceProject(const ProjectConfig& config);
  StatusOr<std::vector<SegmentRecord>> ListSegments() const;
  StatusOr<std::optional<SegmentRecord>> GetSegment(const std::string& name) const;
  // Creates or replaces by name (created_at is kept on replace).
  Status PutSegment(const SegmentRecord& segment);
  // NotFound for an unknown name.
  Status DeleteSegment(const std::string& name);

 private:
  friend class Catalog;
  explicit DefinitionsTxn(Catalog& catalog) : catalog_(catalog) {}
  Catalog& catalog_;
};

struct CatalogOptions {
  // Migration 6 moves segment definitions that an older cdp kept only as
  // YAML text in the project into the segments table; this turns such a text
  // into its record (the catalog does not parse segments). Without it, a
  // catalog holding such texts cannot be migrated (FailedPrecondition).
  std::function<StatusOr<SegmentRecord>(const std::string& yaml_text)> read_legacy_segment;
};

class Catalog {
 public:
  // Opens (creating if needed) the catalog at `path` and applies pending
  // migrations. FailedPrecondition if the file was written by a newer version.
  static StatusOr<std::unique_ptr<Catalog>> Open(const std::string& path, const CatalogOptions& options = {});
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  static int LatestSchemaVersion();
  int schema_version() const;

  // Runs `change` in one transaction (BEGIN IMMEDIATE: other writers, in
  // this process or another, wait for it) and commits when it returns OK.
  // Any error, from `change` or from the commit, rolls every write of the
  // transaction back: the definitions are then exactly as before. `change`
  // must use only the DefinitionsTxn, never this Catalog (its lock is held).
  Status UpdateDefinitions(const std::function<Status(DefinitionsTxn&)>& change);

  // Replaces the project as UpdateDefinitions with one ReplaceProject does
  // (segments are not part of it).
  Status ReplaceProject(const ProjectConfig& config);
  // The applied project (empty, with no sources, before the first apply);
  // its `segments` is empty: segments are read with ListSegments.
  StatusOr<ProjectConfig> LoadProject() const;

  // Test hook: the `n`th write of a definition from now (1 = the next one:
  // project replace, segment put or delete) fails with Internal; 0 = none.
  void FailDefinitionWriteForTesting(int n);

  StatusOr<int64_t> BeginRun(const std::string& kind);
  Status FinishRun(int64_t run_id, const std::string& status, const std::string& error,
                   const std::string& stats_json);
  StatusOr<std::vector<RunRecord>> ListRuns(int limit) const;
  // The run with this id; NotFound when there is none.
  StatusOr<RunRecord> GetRun(int64_t id) const;

  Status RecordSourceIngest(const SourceIngestRecord& record);
  // The newest succeeded ingest of `source`, if any.
  StatusOr<std::optional<SourceIngestRecord>> LastSucceededIngest(const std::string& source) const;
  StatusOr<std::vector<SourceIngestRecord>> ListSourceIngests(int64_t run_id) const;

  // Match overrides. Adding an override for a pair that has one replaces it
  // (the pair is unordered); returns its id. Remove: NotFound for an unknown id.
  StatusOr<int64_t> AddMatchOverride(const MatchOverrideRecord& override_record);
  StatusOr<std::vector<MatchOverrideRecord>> ListMatchOverrides() const;
  Status RemoveMatchOverride(int64_t id);

  Status RecordIdChanges(int64_t run_id, const std::vector<CustomerIdChangeRecord>& changes);
  // All changes, or those involving `customer_id` (as either side).
  StatusOr<std::vector<CustomerIdChangeRecord>> ListIdChanges(std::optional<int64_t> customer_id) const;

  // Segments: create or replace by name; NotFound on deleting an unknown one.
  Status PutSegment(const SegmentRecord& segment);
  StatusOr<std::vector<SegmentRecord>> ListSegments() const;
  StatusOr<std::optional<SegmentRecord>> GetSegment(const std::string& name) const;
  Status DeleteSegment(const std::string& name);
  // Member counts per evaluation; history oldest first (the newest `limit`).
  Status RecordSegmentCount(const std::string& segment, int64_t run_id, int64_t members);
  StatusOr<std::vector<SegmentCountRecord>> SegmentHistory(const std::string& segment, int limit) const;

  // The trained probabilistic model of a unification run (JSON), newest last.
  Status SaveUnifyModel(int64_t run_id, const std::string& model_json);
  // Trained prediction models, one per prediction (a new one replaces it).
  Status PutPredictionModel(const PredictionModelRecord& model);
  StatusOr<std::optional<PredictionModelRecord>> GetPredictionModel(const std::string& name) const;
  Status DeletePredictionModel(const std::string& name);
  StatusOr<std::optional<std::string>> LatestUnifyModel() const;

  // API keys. Add: stores `key` (id and created_at are assigned; returns the
  // id); AlreadyExists if its prefix is taken. Revoke: sets revoked_at (kept
  // from the first revoke); NotFound for an unknown id.
  StatusOr<int64_t> AddApiKey(const ApiKeyRecord& key);
  StatusOr<std::vector<ApiKeyRecord>> ListApiKeys() const;  // by id
  StatusOr<std::optional<ApiKeyRecord>> FindApiKeyByPrefix(const std::string& prefix) const;
  Status RevokeApiKey(int64_t id);
  // Sets last_used_at; NotFound for an unknown id.
  Status TouchApiKey(int64_t id, int64_t used_at);

  // Export runs. Begin inserts `run` (its id and started_at are assigned, the
  // owner is this process) and returns the id. Update writes its status,
  // attempt, progress, stats, error, paths and finished_at (a "running"
  // update takes the run over for this process). List: newest first, at most
  // `limit`; a "running" run whose process is gone reads "interrupted".
  StatusOr<int64_t> BeginExportRun(const ExportRunRecord& run);
  Status UpdateExportRun(const ExportRunRecord& run);
  Status RecordExportBatches(int64_t run_id, int64_t acknowledged);
  StatusOr<std::vector<ExportRunRecord>> ListExportRuns(const std::string& export_name, int limit) const;
  // Marks the run succeeded and installs `state` as its export's state, in
  // one transaction.
  Status FinishExportRunSucceeded(const ExportRunRecord& run, const ExportStateRecord& state);
  StatusOr<std::optional<ExportStateRecord>> GetExportState(const std::string& export_name) const;
  // Drops an export's state (OK when it has none).
  Status DeleteExportState(const std::string& export_name);

  // The secret store. Values are read only to resolve connections; Delete:
  // NotFound for an unknown name.
  Status PutSecret(const std::string& name, const std::string& value);
  Status DeleteSecret(const std::string& name);
  StatusOr<std::optional<std::string>> GetSecret(const std::string& name) const;
  StatusOr<std::vector<std::string>> ListSecretNames() const;

  // Audit log. Append returns the new entry's id (ids increase with time).
  // List: the newest `limit` entries with id < before_id (0: from the newest),
  // newest first.
  StatusOr<int64_t> AppendAudit(const std::string& actor, const std::string& action, const std::string& target,
                                const std::string& detail_json);
  StatusOr<std::vector<AuditRecord>> ListAudit(int limit, int64_t before_id = 0) const;

 private:
  friend class DefinitionsTxn;
  explicit Catalog(sqlite3* db) : db_(db) {}
  Status Migrate(const CatalogOptions& options);
  // Migration 6: segment texts of the project into the segments table.
  Status MoveProjectSegmentsLocked(const CatalogOptions& options);
  Status ExecLocked(const std::string& sql) const;
  // The definition reads and writes, with mu_ held (writes inside a transaction).
  StatusOr<ProjectConfig> LoadProjectLocked() const;
  Status ReplaceProjectLocked(const ProjectConfig& config);
  StatusOr<std::vector<SegmentRecord>> ListSegmentsLocked() const;
  StatusOr<std::optional<SegmentRecord>> GetSegmentLocked(const std::string& name) const;
  Status PutSegmentLocked(const SegmentRecord& segment);
  Status DeleteSegmentLocked(const std::string& name);
  // The test hook's countdown; Internal when this write is the one to fail.
  Status CountDefinitionWriteLocked(const std::string& what);
  // Marks "running" runs whose process is gone as "interrupted" (best effort).
  void MarkInterruptedRunsLocked();

  mutable std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
  int version_ = 0;
  int fail_definition_write_ = 0;  // guarded by mu_; 0 = no injected failure
};

int64_t NowMicros();

}  // namespace cdp
