#include "catalog/catalog.h"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <fstream>

namespace cdp {
namespace {

// Each entry is one schema version; never edit an applied entry, append a new one.
const std::vector<const char*> kMigrations = {
    // 1: project definitions and run history.
    R"sql(
CREATE TABLE project (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
  position INTEGER NOT NULL,
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  definition TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  stats TEXT NOT NULL DEFAULT '{}',
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE source_ingests (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  source TEXT NOT NULL,
  status TEXT NOT NULL,
  rows_read INTEGER NOT NULL,
  rows_stored INTEGER NOT NULL,
  rows_quarantined INTEGER NOT NULL,
  rows_filtered INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  message TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
CREATE INDEX source_ingests_by_source ON source_ingests(source, status, finished_at);
)sql",
    // 2: unification: match overrides, CustomerId merges and splits, trained models.
    R"sql(
CREATE TABLE match_overrides (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source_a TEXT NOT NULL, key_a TEXT NOT NULL,
  source_b TEXT NOT NULL, key_b TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('always', 'never')),
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (source_a, key_a, source_b, key_b)
);
CREATE TABLE customer_id_changes (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  kind TEXT NOT NULL,
  customer_id INTEGER NOT NULL,
  other_ids TEXT NOT NULL
);
CREATE INDEX customer_id_changes_by_id ON customer_id_changes(customer_id);
CREATE TABLE unify_models (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql",
    // 3: segments (definitions with status and problems) and their member-count history.
    R"sql(
CREATE TABLE segments (
  name TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  status TEXT NOT NULL,
  problems TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE segment_history (
  segment TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  members INTEGER NOT NULL,
  evaluated_at INTEGER NOT NULL
);
CREATE INDEX segment_history_by_segment ON segment_history(segment, evaluated_at);
)sql",
    // 4: API keys (only the hash of each secret) and the audit log.
    R"sql(
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  prefix TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER
);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql",
    // 5: the process that runs a run ("boot_id:pid:start_ticks"), so a run whose
    // process died (kill -9, crash, full disk) is reported "interrupted".
    R"sql(
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
)sql",
    // 6: segments are stored only in the segments table. Before the statement,
    // MoveProjectSegmentsLocked moves texts found only in the project there.
    R"sql(
DELETE FROM project WHERE key = 'segments';
)sql",
    // 7: exports (issue 17): runs of exports and triggers with their progress,
    // the state of each export's last successful run (a file in the workspace,
    // pointed to from here), and the secret store of connections. (IF NOT
    // EXISTS: a catalog rolled back to an older version keeps these tables.)
    R"sql(
CREATE TABLE IF NOT EXISTS export_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  export TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  pending_path TEXT NOT NULL,
  state_path TEXT NOT NULL,
  delta INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  batches_total INTEGER NOT NULL,
  batches_acknowledged INTEGER NOT NULL,
  stats TEXT NOT NULL,
  error TEXT NOT NULL,
  owner TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS export_runs_by_export ON export_runs(export, id);
CREATE TABLE IF NOT EXISTS export_state (
  export TEXT PRIMARY KEY,
  run_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  rows INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql",
    // 8: predictions (issue 18): the trained model of each prediction, with
    // the hash of the definition it was trained for, its evaluation and the
    // readiness report of its data.
    R"sql(
CREATE TABLE IF NOT EXISTS prediction_models (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  trained_at INTEGER NOT NULL,
  as_of_day INTEGER NOT NULL,
  grade TEXT NOT NULL,
  model TEXT NOT NULL,
  evaluation TEXT NOT NULL,
  readiness TEXT NOT NULL
);
)sql",
};

// The migration that drops the project's copy of segment texts.
constexpr int kMigrationSegmentsInOnePlace = 6;

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int i) {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : "";
  }
  int64_t Int(int i) { return sqlite3_column_int64(stmt_, i); }  // NULL reads as 0

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// The project's search section as stored under the project key "search":
// {"fields": [{"field", "normalize", "weight"}...], "filters": [...]}.
std::string SearchConfigToJson(const SearchConfig& search) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const auto& f : search.fields) {
    fields.push_back({{"field", f.field}, {"normalize", f.normalize}, {"weight", f.weight}});
  }
  return nlohmann::ordered_json{{"fields", fields}, {"filters", search.filters}}.dump();
}

StatusOr<SearchConfig> SearchConfigFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [] { return DataLossError("the stored search section is not the expected JSON"); };
  if (j.is_discarded() || !j.is_object()) return bad();
  SearchConfig search;
  const auto& fields = j.value("fields", nlohmann::json::array());
  const auto& filters = j.value("filters", nlohmann::json::array());
  if (!fields.is_array() || !filters.is_array()) return bad();
  for (const auto& f : fields) {
    if (!f.is_object() || !f.contains("field") || !f["field"].is_string()) return bad();
    SearchFieldConfig field;
    field.field = f["field"].get<std::string>();
    if (f.contains("normalize")) {
      if (!f["normalize"].is_string()) return bad();
      field.normalize = f["normalize"].get<std::string>();
    }
    if (f.contains("weight")) {
      if (!f["weight"].is_number()) return bad();
      field.weight = f["weight"].get<double>();
    }
    search.fields.push_back(std::move(field));
  }
  for (const auto& f : filters) {
    if (!f.is_string()) return bad();
    search.filters.push_back(f.get<std::string>());
  }
  return search;
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text, '\0');
  return text;
}

// The start time of process `pid` in clock ticks since boot (field 22 of
// /proc/PID/stat, after the parenthesised command name), or "" if it is gone.
std::string ProcessStartTicks(long pid) {
  std::string stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && (rest >> field); ++i) {
    if (i == 22) return field;
  }
  return "";
}

std::string BootId() {
  std::string id = ReadSmallFile("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

// "boot_id:pid:start_ticks" of this process: unique for the machine's uptime.
// Not cached: a forked child is another process.
std::string ThisProcessOwner() {
  return BootId() + ":" + std::to_string(::getpid()) + ":" + ProcessStartTicks(::getpid());
}

// False only when `owner` names a process that is certainly gone: another
// boot, no such pid, or a pid reused by a process started at another time.
bool OwnerIsAlive(const std::string& owner) {
  if (owner.empty()) return true;  // recorded before schema 5: unknown
  size_t a = owner.find(':'), b = owner.rfind(':');
  if (a == std::string::npos || b == a) return true;
  if (owner.compare(0, a, BootId()) != 0) return false;
  long pid = std::strtol(owner.c_str() + a + 1, nullptr, 10);
  if (pid <= 0) return true;
  std::string ticks = ProcessStartTicks(pid);
  return !ticks.empty() && ticks == owner.substr(b + 1);
}

constexpr char kInterruptedError[] =
    "the process running it ended before it finished (killed, crashed or out of disk space); "
    "data it had not committed was discarded";

Status SqlError(sqlite3* db, const std::string& what) {
  return InternalError("catalog: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

Status OpenCatalogDb(const std::string& path, sqlite3** db_out) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return UnavailableError("cannot open catalog '" + path + "': " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  *db_out = db;
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path, const CatalogOptions& options) {
  // `exclusive` keeps the locks for the connection's life (SQLite's
  // locking_mode=EXCLUSIVE): WAL then needs no shared-memory file.
  auto open = [&](bool exclusive) -> StatusOr<std::unique_ptr<Catalog>> {
    sqlite3* db = nullptr;
    CDP_RETURN_IF_ERROR(OpenCatalogDb(path, &db));
    std::unique_ptr<Catalog> catalog(new Catalog(db));
    {
      std::lock_guard<std::mutex> l(catalog->mu_);
      Status s = catalog->ExecLocked(std::string(exclusive ? "PRAGMA locking_mode=EXCLUSIVE; " : "") +
                                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
      if (!s.ok()) return s.WithContext(path);
    }
    Status s = catalog->Migrate(options);
    if (!s.ok()) return s.WithContext(path);
    return catalog;
  };
  auto catalog = open(false);
  if (catalog.ok() || catalog.status().code() != StatusCode::kInternal) return catalog;
  // On a full disk SQLite cannot size the WAL's shared-memory file, so even a
  // read fails; an exclusive connection does without it. Reads then work and
  // writes fail with SQLite's "database or disk is full". Other processes wait
  // for this one's locks, so this is only the fallback.
  auto fallback = open(true);
  if (fallback.ok()) return fallback;
  return catalog.status();
}

Catalog::~Catalog() { sqlite3_close(db_); }

int Catalog::LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }
int Catalog::schema_version() const { return version_; }

Status Catalog::ExecLocked(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return InternalError("catalog: " + msg);
  }
  return Status::Ok();
}

Status Catalog::Migrate(const CatalogOptions& options) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(ExecLocked(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
  {
    Statement st(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!st.ok() || st.Step() != SQLITE_ROW) return SqlError(db_, "reading schema version");
    version_ = static_cast<int>(st.Int(0));
  }
  if (version_ > LatestSchemaVersion()) {
    return FailedPreconditionError("catalog schema version " + std::to_string(version_) +
                                   " is newer than this cdp supports (" + std::to_string(LatestSchemaVersion()) +
                                   "); upgrade cdp");
  }
  while (version_ < LatestSchemaVersion()) {
    int next = version_ + 1;
    CDP_RETURN_IF_ERROR(ExecLocked("BEGIN IMMEDIATE"));
    Status s = next == kMigrationSegmentsInOnePlace ? MoveProjectSegmentsLocked(options) : Status::Ok();
    if (s.ok()) s = ExecLocked(kMigrations[static_cast<size_t>(next - 1)]);
    if (s.ok()) {
      s = ExecLocked("INSERT INTO schema_migrations VALUES (" + std::to_string(next) + ", " +
                     std::to_string(NowMicros()) + ")");
    }
    if (!s.ok()) {
      (void)ExecLocked("ROLLBACK");
      return s.WithContext("migration " + std::to_string(next));
    }
    CDP_RETURN_IF_ERROR(ExecLocked("COMMIT"));
    version_ = next;
  }
  return Status::Ok();
}

Status Catalog::MoveProjectSegmentsLocked(const CatalogOptions& options) {
  std::vector<std::string> texts;
  {
    Statement st(db_, "SELECT value FROM project WHERE key = 'segments'");
    if (st.Step() == SQLITE_ROW) {
      auto v = nlohmann::json::parse(st.Text(0), nullptr, false);
      if (v.is_discarded() || !v.is_array()) return DataLossError("catalog segments are not a JSON array");
      for (const auto& e : v) {
        if (!e.is_string()) return DataLossError("catalog segments are not a JSON array of texts");
        texts.push_back(e.get<std::string>());
      }
    }
  }
  for (const std::string& text : texts) {
    if (!options.read_legacy_segment) {
      return FailedPreconditionError("the project holds segment definitions to move into the segments table; "
                                     "open the catalog through its workspace");
    }
    auto record = options.read_legacy_segment(text);
    if (!record.ok()) return record.status().WithContext("a segment of the applied project");
    Statement ins(db_,
                  "INSERT INTO segments(name, definition, status, problems, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING");
    int64_t now = NowMicros();
    ins.Bind(1, record->name);
    ins.Bind(2, record->definition_json);
    ins.Bind(3, record->status);
    ins.Bind(4, record->problems_json);
    ins.Bind(5, now);
    ins.Bind(6, now);
    if (ins.Step() != SQLITE_DONE) return SqlError(db_, "moving segment '" + record->name + "'");
  }
  return Status::Ok();
}

Status Catalog::CountDefinitionWriteLocked(const std::string& what) {
  if (fail_definition_write_ <= 0) return Status::Ok();
  if (--fail_definition_write_ > 0) return Status::Ok();
  return InternalError("catalog: " + what + ": injected failure (test hook)");
}

void Catalog::FailDefinitionWriteForTesting(int n) {
  std::lock_guard<std::mutex> l(mu_);
  fail_definition_write_ = n;
}

Status Catalog::UpdateDefinitions(const std::function<Status(DefinitionsTxn&)>& change) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(ExecLocked("BEGIN IMMEDIATE"));
  DefinitionsTxn txn(*this);
  Status s;
  try {
    s = change(txn);
  } catch (...) {
    (void)ExecLocked("ROLLBACK");
    throw;  // the caller's exception (e.g. an HTTP error), after the rollback
  }
  if (s.ok()) s = ExecLocked("COMMIT");
  if (!s.ok()) (void)ExecLocked("ROLLBACK");
  return s;
}

Status Catalog::ReplaceProject(const ProjectConfig& config) {
  return UpdateDefinitions([&](DefinitionsTxn& txn) { return txn.ReplaceProject(config); });
}

StatusOr<ProjectConfig> Catalog::LoadProject() const {
  std::lock_guard<std::mutex> l(mu_);
  return LoadProjectLocked();
}

StatusOr<ProjectConfig> DefinitionsTxn::LoadProject() const { return catalog_.LoadProjectLocked(); }
Status DefinitionsTxn::ReplaceProject(const ProjectConfig& config) { return catalog_.ReplaceProjectLocked(config); }
StatusOr<std::vector<SegmentRecord>> DefinitionsTxn::ListSegments() const { return catalog_.ListSegmentsLocked(); }
StatusOr<std::optional<SegmentRecord>> DefinitionsTxn::GetSegment(const std::string& name) const {
  return catalog_.GetSegmentLocked(name);
}
Status DefinitionsTxn::PutSegment(const SegmentRecord& segment) { return catalog_.PutSegmentLocked(segment); }
Status DefinitionsTxn::DeleteSegment(const std::string& name) { return catalog_.DeleteSegmentLocked(name); }

Status Catalog::ReplaceProjectLocked(const ProjectConfig& config) {
  CDP_RETURN_IF_ERROR(CountDefinitionWriteLocked("saving project"));
  CDP_RETURN_IF_ERROR(ExecLocked("DELETE FROM sources; DELETE FROM project;"));
  {
    std::string unification = config.unification.empty() ? "" : UnifyConfigToJson(config.unification);
    for (const auto& [k, v] : {std::pair<std::string, std::string>{"name", config.name},
                               {"base_dir", config.base_dir},
                               {"unification", unification},
                               {"relationships", RelationshipsToJson(config.relationships)},
                               {"activities", ActivitiesToJson(config.activities)},
                               {"measures", MeasuresToJson(config.measures)},
                               {"refresh_schedule", config.refresh_schedule},
                               {"search", SearchConfigToJson(config.search)},
                               {"connections", ConnectionsToJson(config.connections)},
                               {"exports", ExportsToJson(config.exports)},
                               {"consent", ConsentToJson(config.consent)},
                               {"triggers", TriggersToJson(config.triggers)},
                               {"predictions", PredictionsToJson(config.predictions)},
                               {"enrichments", EnrichmentsToJson(config.enrichments)}}) {
      Statement ins(db_, "INSERT INTO project(key, value) VALUES (?, ?)");
      ins.Bind(1, k);
      ins.Bind(2, v);
      if (ins.Step() != SQLITE_DONE) return SqlError(db_, "saving project");
    }
  }
  int64_t now = NowMicros();
  for (size_t i = 0; i < config.sources.size(); ++i) {
    const SourceConfig& src = config.sources[i];
    Statement ins(db_, "INSERT INTO sources(position, name, kind, definition, updated_at) VALUES (?, ?, ?, ?, ?)");
    ins.Bind(1, static_cast<int64_t>(i));
    ins.Bind(2, src.name);
    ins.Bind(3, std::string(SourceKindName(src.kind)));
    ins.Bind(4, SourceConfigToJson(src));
    ins.Bind(5, now);
    if (ins.Step() != SQLITE_DONE) return SqlError(db_, "saving source '" + src.name + "'");
  }
  return Status::Ok();
}

StatusOr<ProjectConfig> Catalog::LoadProjectLocked() const {
  ProjectConfig config;
  {
    Statement st(db_, "SELECT key, value FROM project");
    while (st.Step() == SQLITE_ROW) {
      std::string k = st.Text(0);
      if (k == "name") config.name = st.Text(1);
      if (k == "base_dir") config.base_dir = st.Text(1);
      if (k == "unification" && !st.Text(1).empty()) {
        auto u = UnifyConfigFromJson(st.Text(1));
        if (!u.ok()) return u.status().WithContext("catalog unification definition");
        config.unification = std::move(*u);
      }
      if (k == "relationships") {
        auto v = RelationshipsFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog relationships");
        config.relationships = std::move(*v);
      }
      if (k == "activities") {
        auto v = ActivitiesFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog activities");
        config.activities = std::move(*v);
      }
      if (k == "measures") {
        auto v = MeasuresFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog measures");
        config.measures = std::move(*v);
      }
      if (k == "refresh_schedule") config.refresh_schedule = st.Text(1);
      if (k == "connections") {
        auto v = ConnectionsFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog connections");
        config.connections = std::move(*v);
      }
      if (k == "exports") {
        auto v = ExportsFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog exports");
        config.exports = std::move(*v);
      }
      if (k == "consent") {
        auto v = ConsentFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog consent");
        config.consent = std::move(*v);
      }
      if (k == "triggers") {
        auto v = TriggersFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog triggers");
        config.triggers = std::move(*v);
      }
      if (k == "enrichments") {
        auto v = EnrichmentsFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog enrichments");
        config.enrichments = std::move(*v);
      }
      if (k == "predictions") {
        auto v = PredictionsFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog predictions");
        config.predictions = std::move(*v);
      }
      if (k == "search") {
        auto v = SearchConfigFromJson(st.Text(1));
        if (!v.ok()) return v.status().WithContext("catalog search");
        config.search = std::move(*v);
      }
    }
  }
  Statement st(db_, "SELECT name, definition FROM sources ORDER BY position");
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    auto src = SourceConfigFromJson(st.Text(1));
    if (!src.ok()) return src.status().WithContext("catalog source '" + st.Text(0) + "'");
    config.sources.push_back(std::move(*src));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading sources");
  return config;
}

StatusOr<int64_t> Catalog::BeginRun(const std::string& kind) {
  std::lock_guard<std::mutex> l(mu_);
  MarkInterruptedRunsLocked();
  Statement st(db_, "INSERT INTO runs(kind, status, started_at, owner) VALUES (?, 'running', ?, ?)");
  st.Bind(1, kind);
  st.Bind(2, NowMicros());
  st.Bind(3, ThisProcessOwner());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "starting run");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

void Catalog::MarkInterruptedRunsLocked() {
  std::vector<int64_t> dead;
  {
    Statement st(db_, "SELECT id, owner FROM runs WHERE status = 'running'");
    while (st.Step() == SQLITE_ROW) {
      if (!OwnerIsAlive(st.Text(1))) dead.push_back(st.Int(0));
    }
  }
  for (int64_t id : dead) {
    Statement st(db_, "UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'");
    st.Bind(1, std::string(kInterruptedError));
    st.Bind(2, NowMicros());
    st.Bind(3, id);
    (void)st.Step();  // best effort: readers report it as interrupted anyway
  }
}

namespace {

void BindExportRun(Statement& st, const ExportRunRecord& r, int first) {
  st.Bind(first + 0, r.status);
  st.Bind(first + 1, r.trigger);
  st.Bind(first + 2, r.definition_hash);
  st.Bind(first + 3, r.pending_path);
  st.Bind(first + 4, r.state_path);
  st.Bind(first + 5, static_cast<int64_t>(r.delta ? 1 : 0));
  st.Bind(first + 6, static_cast<int64_t>(r.attempt));
  st.Bind(first + 7, r.batches_total);
  st.Bind(first + 8, r.batches_acknowledged);
  st.Bind(first + 9, r.stats_json);
  st.Bind(first + 10, r.error);
  st.Bind(first + 11, r.finished_at);
}

}  // namespace

StatusOr<int64_t> Catalog::BeginExportRun(const ExportRunRecord& run) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "INSERT INTO export_runs(status, trigger, definition_hash, pending_path, state_path, delta, attempt, "
               "batches_total, batches_acknowledged, stats, error, finished_at, export, kind, owner, started_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  BindExportRun(st, run, 1);
  st.Bind(13, run.export_name);
  st.Bind(14, run.kind);
  st.Bind(15, ThisProcessOwner());
  st.Bind(16, run.started_at ? run.started_at : NowMicros());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "starting export run of '" + run.export_name + "'");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Catalog::UpdateExportRun(const ExportRunRecord& run) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "UPDATE export_runs SET status = ?, trigger = ?, definition_hash = ?, pending_path = ?, state_path = ?, "
               "delta = ?, attempt = ?, batches_total = ?, batches_acknowledged = ?, stats = ?, error = ?, "
               "finished_at = ?, owner = CASE WHEN ? = 'running' THEN ? ELSE owner END WHERE id = ?");
  BindExportRun(st, run, 1);
  st.Bind(13, run.status);
  st.Bind(14, ThisProcessOwner());
  st.Bind(15, run.id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "updating export run " + std::to_string(run.id));
  return Status::Ok();
}

Status Catalog::RecordExportBatches(int64_t run_id, int64_t acknowledged) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "UPDATE export_runs SET batches_acknowledged = ? WHERE id = ?");
  st.Bind(1, acknowledged);
  st.Bind(2, run_id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "recording the progress of export run " + std::to_string(run_id));
  return Status::Ok();
}

StatusOr<std::vector<ExportRunRecord>> Catalog::ListExportRuns(const std::string& export_name, int limit) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "SELECT id, export, kind, status, trigger, definition_hash, pending_path, state_path, delta, attempt, "
               "batches_total, batches_acknowledged, stats, error, started_at, finished_at, owner FROM export_runs "
               "WHERE export = ? ORDER BY id DESC LIMIT ?");
  st.Bind(1, export_name);
  st.Bind(2, static_cast<int64_t>(limit));
  std::vector<ExportRunRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    ExportRunRecord r;
    r.id = st.Int(0);
    r.export_name = st.Text(1);
    r.kind = st.Text(2);
    r.status = st.Text(3);
    r.trigger = st.Text(4);
    r.definition_hash = st.Text(5);
    r.pending_path = st.Text(6);
    r.state_path = st.Text(7);
    r.delta = st.Int(8) != 0;
    r.attempt = static_cast<int>(st.Int(9));
    r.batches_total = st.Int(10);
    r.batches_acknowledged = st.Int(11);
    r.stats_json = st.Text(12);
    r.error = st.Text(13);
    r.started_at = st.Int(14);
    r.finished_at = st.Int(15);
    if (r.status == "running" && !OwnerIsAlive(st.Text(16))) {
      r.status = "interrupted";
      if (r.error.empty()) r.error = kInterruptedError;
    }
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading export runs of '" + export_name + "'");
  return out;
}

Status Catalog::FinishExportRunSucceeded(const ExportRunRecord& run, const ExportStateRecord& state) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(ExecLocked("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    Statement up(db_,
                 "UPDATE export_runs SET status = ?, trigger = ?, definition_hash = ?, pending_path = ?, state_path = ?, "
                 "delta = ?, attempt = ?, batches_total = ?, batches_acknowledged = ?, stats = ?, error = ?, "
                 "finished_at = ? WHERE id = ?");
    BindExportRun(up, run, 1);
    up.Bind(13, run.id);
    if (up.Step() != SQLITE_DONE) return SqlError(db_, "finishing export run " + std::to_string(run.id));
    Statement ins(db_,
                  "INSERT INTO export_state(export, run_id, path, rows, updated_at) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT(export) DO UPDATE SET run_id = excluded.run_id, path = excluded.path, "
                  "rows = excluded.rows, updated_at = excluded.updated_at");
    ins.Bind(1, state.export_name);
    ins.Bind(2, state.run_id);
    ins.Bind(3, state.path);
    ins.Bind(4, state.rows);
    ins.Bind(5, NowMicros());
    if (ins.Step() != SQLITE_DONE) return SqlError(db_, "saving the state of export '" + state.export_name + "'");
    return ExecLocked("COMMIT");
  };
  Status s = body();
  if (!s.ok()) (void)ExecLocked("ROLLBACK");
  return s;
}

StatusOr<std::optional<ExportStateRecord>> Catalog::GetExportState(const std::string& export_name) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT run_id, path, rows, updated_at FROM export_state WHERE export = ?");
  st.Bind(1, export_name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<ExportStateRecord>();
  if (rc != SQLITE_ROW) return SqlError(db_, "reading the state of export '" + export_name + "'");
  ExportStateRecord r;
  r.export_name = export_name;
  r.run_id = st.Int(0);
  r.path = st.Text(1);
  r.rows = st.Int(2);
  r.updated_at = st.Int(3);
  return std::optional<ExportStateRecord>(std::move(r));
}

Status Catalog::DeleteExportState(const std::string& export_name) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "DELETE FROM export_state WHERE export = ?");
  st.Bind(1, export_name);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "dropping the state of export '" + export_name + "'");
  return Status::Ok();
}

Status Catalog::PutSecret(const std::string& name, const std::string& value) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "INSERT INTO secrets(name, value, updated_at) VALUES (?, ?, ?) "
               "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
  st.Bind(1, name);
  st.Bind(2, value);
  st.Bind(3, NowMicros());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "storing secret '" + name + "'");
  return Status::Ok();
}

Status Catalog::DeleteSecret(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "DELETE FROM secrets WHERE name = ?");
  st.Bind(1, name);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "deleting secret '" + name + "'");
  if (sqlite3_changes(db_) == 0) return NotFoundError("no secret named '" + name + "' is stored");
  return Status::Ok();
}

StatusOr<std::optional<std::string>> Catalog::GetSecret(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT value FROM secrets WHERE name = ?");
  st.Bind(1, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError(db_, "reading secret '" + name + "'");
  return std::optional<std::string>(st.Text(0));
}

StatusOr<std::vector<std::string>> Catalog::ListSecretNames() const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT name FROM secrets ORDER BY name");
  std::vector<std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(st.Text(0));
  if (rc != SQLITE_DONE) return SqlError(db_, "listing secrets");
  return out;
}

Status Catalog::FinishRun(int64_t run_id, const std::string& status, const std::string& error,
                          const std::string& stats_json) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "UPDATE runs SET status = ?, error = ?, stats = ?, finished_at = ? WHERE id = ?");
  st.Bind(1, status);
  st.Bind(2, error);
  st.Bind(3, stats_json);
  st.Bind(4, NowMicros());
  st.Bind(5, run_id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "finishing run");
  return Status::Ok();
}

namespace {
constexpr const char* kRunColumns = "id, kind, status, error, stats, started_at, finished_at, owner";

// A run still "running" whose process is gone reads as "interrupted", also
// where the catalog cannot be written (a full disk, a read-only open).
RunRecord ReadRun(Statement& st) {
  RunRecord r{st.Int(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Int(5), st.Int(6)};
  if (r.status == "running" && !OwnerIsAlive(st.Text(7))) {
    r.status = "interrupted";
    r.error = kInterruptedError;
  }
  return r;
}
}  // namespace

StatusOr<std::vector<RunRecord>> Catalog::ListRuns(int limit) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id DESC LIMIT ?";
  Statement st(db_, sql.c_str());
  st.Bind(1, static_cast<int64_t>(limit));
  std::vector<RunRecord> out;
  while (st.Step() == SQLITE_ROW) out.push_back(ReadRun(st));
  return out;
}

StatusOr<RunRecord> Catalog::GetRun(int64_t id) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?";
  Statement st(db_, sql.c_str());
  st.Bind(1, id);
  if (st.Step() != SQLITE_ROW) return NotFoundError("there is no run " + std::to_string(id));
  return ReadRun(st);
}

namespace {
constexpr const char* kIngestColumns =
    "run_id, source, status, rows_read, rows_stored, rows_quarantined, rows_filtered, generation, fingerprint, "
    "message, started_at, finished_at";

SourceIngestRecord ReadIngest(Statement& st) {
  SourceIngestRecord r;
  r.run_id = st.Int(0);
  r.source = st.Text(1);
  r.status = st.Text(2);
  r.rows_read = st.Int(3);
  r.rows_stored = st.Int(4);
  r.rows_quarantined = st.Int(5);
  r.rows_filtered = st.Int(6);
  r.generation = static_cast<uint64_t>(st.Int(7));
  r.fingerprint = st.Text(8);
  r.message = st.Text(9);
  r.started_at = st.Int(10);
  r.finished_at = st.Int(11);
  return r;
}
}  // namespace

Status Catalog::RecordSourceIngest(const SourceIngestRecord& r) {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("INSERT INTO source_ingests(") + kIngestColumns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  Statement st(db_, sql.c_str());
  st.Bind(1, r.run_id);
  st.Bind(2, r.source);
  st.Bind(3, r.status);
  st.Bind(4, r.rows_read);
  st.Bind(5, r.rows_stored);
  st.Bind(6, r.rows_quarantined);
  st.Bind(7, r.rows_filtered);
  st.Bind(8, static_cast<int64_t>(r.generation));
  st.Bind(9, r.fingerprint);
  st.Bind(10, r.message);
  st.Bind(11, r.started_at);
  st.Bind(12, r.finished_at);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "recording ingest of '" + r.source + "'");
  return Status::Ok();
}

StatusOr<std::optional<SourceIngestRecord>> Catalog::LastSucceededIngest(const std::string& source) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kIngestColumns +
                    " FROM source_ingests WHERE source = ? AND status = 'succeeded' ORDER BY rowid DESC LIMIT 1";
  Statement st(db_, sql.c_str());
  st.Bind(1, source);
  if (st.Step() == SQLITE_ROW) return std::optional<SourceIngestRecord>(ReadIngest(st));
  return std::optional<SourceIngestRecord>();
}

StatusOr<std::vector<SourceIngestRecord>> Catalog::ListSourceIngests(int64_t run_id) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kIngestColumns + " FROM source_ingests WHERE run_id = ? ORDER BY rowid";
  Statement st(db_, sql.c_str());
  st.Bind(1, run_id);
  std::vector<SourceIngestRecord> out;
  while (st.Step() == SQLITE_ROW) out.push_back(ReadIngest(st));
  return out;
}

StatusOr<int64_t> Catalog::AddMatchOverride(const MatchOverrideRecord& o) {
  std::lock_guard<std::mutex> l(mu_);
  // Pairs are stored in a canonical order so (a, b) and (b, a) are one override.
  std::string sa = o.source_a, ka = o.key_a, sb = o.source_b, kb = o.key_b;
  if (std::tie(sb, kb) < std::tie(sa, ka)) {
    std::swap(sa, sb);
    std::swap(ka, kb);
  }
  Statement st(db_,
               "INSERT INTO match_overrides(source_a, key_a, source_b, key_b, kind, note, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(source_a, key_a, source_b, key_b) DO UPDATE SET "
               "kind = excluded.kind, note = excluded.note, created_at = excluded.created_at");
  st.Bind(1, sa);
  st.Bind(2, ka);
  st.Bind(3, sb);
  st.Bind(4, kb);
  st.Bind(5, std::string(o.always ? "always" : "never"));
  st.Bind(6, o.note);
  st.Bind(7, NowMicros());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "saving match override");
  Statement id(db_, "SELECT id FROM match_overrides WHERE source_a = ? AND key_a = ? AND source_b = ? AND key_b = ?");
  id.Bind(1, sa);
  id.Bind(2, ka);
  id.Bind(3, sb);
  id.Bind(4, kb);
  if (id.Step() != SQLITE_ROW) return SqlError(db_, "reading match override");
  return id.Int(0);
}

StatusOr<std::vector<MatchOverrideRecord>> Catalog::ListMatchOverrides() const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT id, source_a, key_a, source_b, key_b, kind, note, created_at FROM match_overrides ORDER BY id");
  std::vector<MatchOverrideRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    MatchOverrideRecord o;
    o.id = st.Int(0);
    o.source_a = st.Text(1);
    o.key_a = st.Text(2);
    o.source_b = st.Text(3);
    o.key_b = st.Text(4);
    o.always = st.Text(5) == "always";
    o.note = st.Text(6);
    o.created_at = st.Int(7);
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading match overrides");
  return out;
}

Status Catalog::RemoveMatchOverride(int64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "DELETE FROM match_overrides WHERE id = ?");
  st.Bind(1, id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "removing match override");
  if (sqlite3_changes(db_) == 0) return NotFoundError("no match override with id " + std::to_string(id));
  return Status::Ok();
}

Status Catalog::RecordIdChanges(int64_t run_id, const std::vector<CustomerIdChangeRecord>& changes) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(ExecLocked("BEGIN IMMEDIATE"));
  for (const auto& c : changes) {
    Statement st(db_, "INSERT INTO customer_id_changes(run_id, kind, customer_id, other_ids) VALUES (?, ?, ?, ?)");
    st.Bind(1, run_id);
    st.Bind(2, c.kind);
    st.Bind(3, c.customer_id);
    std::string ids;
    for (int64_t x : c.other_ids) ids += (ids.empty() ? "" : ",") + std::to_string(x);
    st.Bind(4, ids);
    if (st.Step() != SQLITE_DONE) {
      (void)ExecLocked("ROLLBACK");
      return SqlError(db_, "saving CustomerId changes");
    }
  }
  return ExecLocked("COMMIT");
}

StatusOr<std::vector<CustomerIdChangeRecord>> Catalog::ListIdChanges(std::optional<int64_t> customer_id) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = "SELECT run_id, kind, customer_id, other_ids FROM customer_id_changes";
  if (customer_id) sql += " WHERE customer_id = ? OR (',' || other_ids || ',') LIKE ?";
  sql += " ORDER BY rowid";
  Statement st(db_, sql.c_str());
  if (customer_id) {
    st.Bind(1, *customer_id);
    st.Bind(2, "%," + std::to_string(*customer_id) + ",%");
  }
  std::vector<CustomerIdChangeRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    CustomerIdChangeRecord c;
    c.run_id = st.Int(0);
    c.kind = st.Text(1);
    c.customer_id = st.Int(2);
    std::string ids = st.Text(3);
    size_t p = 0;
    while (p < ids.size()) {
      size_t q = ids.find(',', p);
      if (q == std::string::npos) q = ids.size();
      c.other_ids.push_back(std::stoll(ids.substr(p, q - p)));
      p = q + 1;
    }
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading CustomerId changes");
  return out;
}

Status Catalog::SaveUnifyModel(int64_t run_id, const std::string& model_json) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "INSERT INTO unify_models(run_id, model, created_at) VALUES (?, ?, ?)");
  st.Bind(1, run_id);
  st.Bind(2, model_json);
  st.Bind(3, NowMicros());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "saving the unification model");
  return Status::Ok();
}

Status Catalog::PutPredictionModel(const PredictionModelRecord& m) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "INSERT OR REPLACE INTO prediction_models(name, kind, definition_hash, trained_at, as_of_day, grade, "
               "model, evaluation, readiness) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.Bind(1, m.name);
  st.Bind(2, m.kind);
  st.Bind(3, m.definition_hash);
  st.Bind(4, m.trained_at);
  st.Bind(5, static_cast<int64_t>(m.as_of_day));
  st.Bind(6, m.grade);
  st.Bind(7, m.model);
  st.Bind(8, m.evaluation);
  st.Bind(9, m.readiness);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "saving the model of prediction '" + m.name + "'");
  return Status::Ok();
}

StatusOr<std::optional<PredictionModelRecord>> Catalog::GetPredictionModel(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "SELECT name, kind, definition_hash, trained_at, as_of_day, grade, model, evaluation, readiness "
               "FROM prediction_models WHERE name = ?");
  st.Bind(1, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<PredictionModelRecord>();
  if (rc != SQLITE_ROW) return SqlError(db_, "reading the model of prediction '" + name + "'");
  PredictionModelRecord m;
  m.name = st.Text(0);
  m.kind = st.Text(1);
  m.definition_hash = st.Text(2);
  m.trained_at = st.Int(3);
  m.as_of_day = static_cast<int32_t>(st.Int(4));
  m.grade = st.Text(5);
  m.model = st.Text(6);
  m.evaluation = st.Text(7);
  m.readiness = st.Text(8);
  return std::optional<PredictionModelRecord>(std::move(m));
}

Status Catalog::DeletePredictionModel(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "DELETE FROM prediction_models WHERE name = ?");
  st.Bind(1, name);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "deleting the model of prediction '" + name + "'");
  return Status::Ok();
}

Status Catalog::PutSegment(const SegmentRecord& segment) {
  return UpdateDefinitions([&](DefinitionsTxn& txn) { return txn.PutSegment(segment); });
}

StatusOr<std::vector<SegmentRecord>> Catalog::ListSegments() const {
  std::lock_guard<std::mutex> l(mu_);
  return ListSegmentsLocked();
}

StatusOr<std::optional<SegmentRecord>> Catalog::GetSegment(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return GetSegmentLocked(name);
}

Status Catalog::DeleteSegment(const std::string& name) {
  return UpdateDefinitions([&](DefinitionsTxn& txn) { return txn.DeleteSegment(name); });
}

Status Catalog::PutSegmentLocked(const SegmentRecord& seg) {
  CDP_RETURN_IF_ERROR(CountDefinitionWriteLocked("saving segment '" + seg.name + "'"));
  int64_t now = NowMicros();
  Statement st(db_,
               "INSERT INTO segments(name, definition, status, problems, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
               "ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, status = excluded.status, "
               "problems = excluded.problems, updated_at = excluded.updated_at");
  st.Bind(1, seg.name);
  st.Bind(2, seg.definition_json);
  st.Bind(3, seg.status);
  st.Bind(4, seg.problems_json);
  st.Bind(5, now);
  st.Bind(6, now);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "saving segment '" + seg.name + "'");
  return Status::Ok();
}

StatusOr<std::vector<SegmentRecord>> Catalog::ListSegmentsLocked() const {
  Statement st(db_, "SELECT name, definition, status, problems, created_at, updated_at FROM segments ORDER BY name");
  std::vector<SegmentRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back(SegmentRecord{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4), st.Int(5)});
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading segments");
  return out;
}

StatusOr<std::optional<SegmentRecord>> Catalog::GetSegmentLocked(const std::string& name) const {
  Statement st(db_, "SELECT name, definition, status, problems, created_at, updated_at FROM segments WHERE name = ?");
  st.Bind(1, name);
  int rc = st.Step();
  if (rc == SQLITE_ROW) return std::optional<SegmentRecord>(SegmentRecord{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4), st.Int(5)});
  if (rc != SQLITE_DONE) return SqlError(db_, "reading segment '" + name + "'");
  return std::optional<SegmentRecord>();
}

Status Catalog::DeleteSegmentLocked(const std::string& name) {
  CDP_RETURN_IF_ERROR(CountDefinitionWriteLocked("deleting segment '" + name + "'"));
  Statement st(db_, "DELETE FROM segments WHERE name = ?");
  st.Bind(1, name);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "deleting segment '" + name + "'");
  if (sqlite3_changes(db_) == 0) return NotFoundError("no segment named '" + name + "'");
  return Status::Ok();
}

Status Catalog::RecordSegmentCount(const std::string& segment, int64_t run_id, int64_t members) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "INSERT INTO segment_history(segment, run_id, members, evaluated_at) VALUES (?, ?, ?, ?)");
  st.Bind(1, segment);
  st.Bind(2, run_id);
  st.Bind(3, members);
  st.Bind(4, NowMicros());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "saving the member count of segment '" + segment + "'");
  return Status::Ok();
}

StatusOr<std::vector<SegmentCountRecord>> Catalog::SegmentHistory(const std::string& segment, int limit) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT run_id, members, evaluated_at FROM segment_history WHERE segment = ? ORDER BY evaluated_at DESC, rowid DESC LIMIT ?");
  st.Bind(1, segment);
  st.Bind(2, static_cast<int64_t>(limit));
  std::vector<SegmentCountRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(SegmentCountRecord{st.Int(0), st.Int(1), st.Int(2)});
  if (rc != SQLITE_DONE) return SqlError(db_, "reading the history of segment '" + segment + "'");
  std::reverse(out.begin(), out.end());
  return out;
}

StatusOr<std::optional<std::string>> Catalog::LatestUnifyModel() const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "SELECT model FROM unify_models ORDER BY rowid DESC LIMIT 1");
  int rc = st.Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(st.Text(0));
  if (rc != SQLITE_DONE) return SqlError(db_, "reading the unification model");
  return std::optional<std::string>();
}

namespace {
constexpr const char* kApiKeyColumns =
    "id, name, role, prefix, secret_hash, created_at, created_by, revoked_at, last_used_at";

ApiKeyRecord ReadApiKey(Statement& st) {
  ApiKeyRecord k;
  k.id = st.Int(0);
  k.name = st.Text(1);
  k.role = st.Text(2);
  k.prefix = st.Text(3);
  k.secret_hash = st.Text(4);
  k.created_at = st.Int(5);
  k.created_by = st.Text(6);
  k.revoked_at = st.Int(7);
  k.last_used_at = st.Int(8);
  return k;
}
}  // namespace

StatusOr<int64_t> Catalog::AddApiKey(const ApiKeyRecord& key) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "INSERT INTO api_keys(name, role, prefix, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)");
  st.Bind(1, key.name);
  st.Bind(2, key.role);
  st.Bind(3, key.prefix);
  st.Bind(4, key.secret_hash);
  st.Bind(5, NowMicros());
  st.Bind(6, key.created_by);
  int rc = st.Step();
  if (rc == SQLITE_CONSTRAINT) return AlreadyExistsError("an API key with prefix '" + key.prefix + "' exists");
  if (rc != SQLITE_DONE) return SqlError(db_, "saving API key '" + key.name + "'");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

StatusOr<std::vector<ApiKeyRecord>> Catalog::ListApiKeys() const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys ORDER BY id";
  Statement st(db_, sql.c_str());
  std::vector<ApiKeyRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(ReadApiKey(st));
  if (rc != SQLITE_DONE) return SqlError(db_, "reading API keys");
  return out;
}

StatusOr<std::optional<ApiKeyRecord>> Catalog::FindApiKeyByPrefix(const std::string& prefix) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string sql = std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE prefix = ?";
  Statement st(db_, sql.c_str());
  st.Bind(1, prefix);
  int rc = st.Step();
  if (rc == SQLITE_ROW) return std::optional<ApiKeyRecord>(ReadApiKey(st));
  if (rc != SQLITE_DONE) return SqlError(db_, "reading API key");
  return std::optional<ApiKeyRecord>();
}

Status Catalog::RevokeApiKey(int64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?");
  st.Bind(1, NowMicros());
  st.Bind(2, id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "revoking API key");
  if (sqlite3_changes(db_) == 0) return NotFoundError("no API key with id " + std::to_string(id));
  return Status::Ok();
}

Status Catalog::TouchApiKey(int64_t id, int64_t used_at) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "UPDATE api_keys SET last_used_at = ? WHERE id = ?");
  st.Bind(1, used_at);
  st.Bind(2, id);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "recording use of API key");
  if (sqlite3_changes(db_) == 0) return NotFoundError("no API key with id " + std::to_string(id));
  return Status::Ok();
}

StatusOr<int64_t> Catalog::AppendAudit(const std::string& actor, const std::string& action, const std::string& target,
                                       const std::string& detail_json) {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_, "INSERT INTO audit_log(at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)");
  st.Bind(1, NowMicros());
  st.Bind(2, actor);
  st.Bind(3, action);
  st.Bind(4, target);
  st.Bind(5, detail_json.empty() ? std::string("{}") : detail_json);
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "appending to the audit log");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

StatusOr<std::vector<AuditRecord>> Catalog::ListAudit(int limit, int64_t before_id) const {
  std::lock_guard<std::mutex> l(mu_);
  Statement st(db_,
               "SELECT id, at, actor, action, target, detail FROM audit_log WHERE (? = 0 OR id < ?) "
               "ORDER BY id DESC LIMIT ?");
  st.Bind(1, before_id);
  st.Bind(2, before_id);
  st.Bind(3, static_cast<int64_t>(limit));
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back(AuditRecord{st.Int(0), st.Int(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5)});
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading the audit log");
  return out;
}

}  // namespace cdp
