// bench_exports_postgres: the PostgreSQL export destination (kind
// "postgres") on generated customer rows (default 1M, 10 fields, batches of
// 1,000 as the export runner sends them), against a PostgreSQL server this
// program starts on loopback (PostgresTestServer: fsync off, shared_buffers
// 256MB here). Prints figures, never pass/fail:
//  1. full export into a new table (COPY into the staging table + merge,
//     one transaction): seconds and rows/s;
//  2. the ceiling: the same rows, written to a CSV file first, loaded by
//     `psql -c "\copy ... FROM file WITH (FORMAT csv)"` into an empty table
//     of the same definition (primary key included): rows/s, and ours as a
//     share of it;
//  3. a repeated full export of the same rows (nothing changes: every row is
//     sent, none rewritten);
//  4. a delta export after 1% of the rows changed (LifetimeSpend and
//     LastSeen of every 100th customer): seconds and rows sent;
//  5. a full export of the changed set, for comparison.
// The destination session is driven directly (export/destination.h), so the
// figures are the destination's own: they leave out the export runner's
// work (reading the segment, formatting, hashing rows against the last
// run's state). Generating the rows is timed apart and subtracted.
//
// With --cdp PATH (a Release `cdp`, e.g. build/release/cdp), the same rows
// also go through the whole product: a workspace whose CSV source Contacts
// holds them is ingested, then `cdp export run` (an entity export, batches
// of 1,000) sends them to PostgreSQL: seconds and rows/s of the command
// (process start, reading the entity, formatting, hashing, the pending
// file, sending), against `psql \copy` of that CSV file; then 1% of the
// rows change in the CSV, `cdp ingest` runs, and the delta `cdp export run`:
// seconds and rows sent.
//
// Usage: bench_exports_postgres [--rows N] [--batch N] [--cdp PATH]
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "connectors/postgres/postgres_destination.h"
#include "connectors/postgres/postgres_test_server.h"

using namespace cdp;
using Clock = std::chrono::steady_clock;

namespace {

double Sec(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

const char* kFirst[] = {"James", "Mary", "Robert",  "Patricia", "John",  "Jennifer", "Michael", "Linda",
                        "David", "Zoë",  "William", "Barbara",  "Renée", "Susan",    "Joseph",  "Jessica"};
const char* kLast[] = {"Smith",   "Johnson", "Williams", "Brown",  "Jones",  "García", "Miller",  "Davis",
                       "O'Brien", "Wilson",  "Anderson", "Thomas", "Taylor", "Moore",  "Jackson", "Martin"};
const char* kCity[] = {"Seattle",     "Redmond", "Portland", "San Francisco",
                       "Los Angeles", "Austin",  "Denver",   "Boston"};

ExportSchema Schema() {
  ExportSchema schema;
  schema.fields = {{"CustomerId", DataType::kString}, {"FirstName", DataType::kString},
                   {"LastName", DataType::kString},   {"Email", DataType::kString},
                   {"City", DataType::kString},       {"LifetimeSpend", DataType::kDouble},
                   {"Orders", DataType::kInt64},      {"IsActive", DataType::kBool},
                   {"BirthDate", DataType::kDate},    {"LastSeen", DataType::kTimestamp}};
  schema.key_field = 0;
  return schema;
}

// Customer i, as exported text; `version` 1 changes every 100th customer.
std::vector<std::optional<std::string>> Customer(int64_t i, int version) {
  char buffer[64];
  std::vector<std::optional<std::string>> v;
  v.reserve(10);
  std::snprintf(buffer, sizeof(buffer), "C%08" PRId64, i);
  v.emplace_back(buffer);
  const char* first = kFirst[(i * 7) % 16];
  const char* last = kLast[(i * 13 / 5) % 16];
  v.emplace_back(first);
  v.emplace_back(last);
  std::snprintf(buffer, sizeof(buffer), "%s.%s%" PRId64 "@example.com", first, last, i);
  v.emplace_back(buffer);
  v.emplace_back(kCity[(i * 3) % 8]);
  const bool changed = version > 0 && i % 100 == 0;
  std::snprintf(buffer, sizeof(buffer), "%" PRId64 ".%02d", (i * 37) % 5000 + (changed ? 1000 : 0),
                static_cast<int>(i % 100));
  v.emplace_back(buffer);
  v.emplace_back(std::to_string(i % 50));
  v.emplace_back(i % 3 == 0 ? "false" : "true");
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02d", 1940 + static_cast<int>(i % 60),
                1 + static_cast<int>(i % 12), 1 + static_cast<int>(i % 28));
  v.emplace_back(buffer);
  std::snprintf(buffer, sizeof(buffer), "2026-%02d-%02dT%02d:%02d:%02dZ",
                changed ? 12 : 1 + static_cast<int>(i % 11), 1 + static_cast<int>(i % 28),
                static_cast<int>(i % 24), static_cast<int>(i % 60), static_cast<int>((i * 7) % 60));
  v.emplace_back(buffer);
  if (i % 1000 == 1) v[4] = std::nullopt;  // a few nulls
  return v;
}

ExportBatch MakeBatch(int64_t sequence, int64_t first, int64_t end, int version, bool only_changed) {
  ExportBatch batch;
  batch.sequence = sequence;
  batch.idempotency_key = "bench:1:" + std::to_string(sequence);
  for (int64_t i = first; i < end; ++i) {
    if (only_changed && i % 100 != 0) continue;
    batch.rows.push_back(
        ExportRow{only_changed ? RowChange::kChanged : RowChange::kAdded, Customer(i, version)});
  }
  return batch;
}

struct RunResult {
  double seconds = 0;
  int64_t rows = 0;
};

// One attempt: Begin, the batches, Commit. Exits on a failure.
RunResult Export(const DestinationKind& kind, const ResolvedConnection& connection, const std::string& table,
                 int64_t rows, int64_t batch_size, int version, bool delta) {
  ExportRunInfo info;
  info.export_name = "bench";
  info.export_run_id = 1;
  info.delta = delta;
  info.target = table;
  info.schema = Schema();
  info.total_rows = delta ? rows / 100 : rows;
  const Clock::time_point start = Clock::now();
  auto session = kind.begin(connection, info);
  if (!session.ok()) {
    std::fprintf(stderr, "begin: %s\n", session.status().ToString().c_str());
    std::exit(1);
  }
  int64_t sequence = 0;
  // A delta run's batches hold only the changed rows, batch_size of them.
  const int64_t span = delta ? batch_size * 100 : batch_size;
  for (int64_t first = 0; first < rows; first += span) {
    ExportBatch batch = MakeBatch(sequence++, first, std::min(rows, first + span), version, delta);
    if (Status written = (*session)->Write(batch); !written.ok()) {
      std::fprintf(stderr, "write: %s\n", written.ToString().c_str());
      std::exit(1);
    }
  }
  if (Status committed = (*session)->Commit(); !committed.ok()) {
    std::fprintf(stderr, "commit: %s\n", committed.ToString().c_str());
    std::exit(1);
  }
  return RunResult{Sec(start, Clock::now()), (*session)->rows_delivered()};
}

// Generating the batches alone (what Export spends outside the destination).
double GenerationSeconds(int64_t rows, int64_t batch_size, int version, bool delta) {
  const Clock::time_point start = Clock::now();
  size_t sink = 0;
  const int64_t span = delta ? batch_size * 100 : batch_size;
  for (int64_t first = 0, sequence = 0; first < rows; first += span) {
    sink += MakeBatch(sequence++, first, std::min(rows, first + span), version, delta).rows.size();
  }
  if (sink == 0 && rows > 0) std::puts("");
  return Sec(start, Clock::now());
}

void AppendCsv(std::string* out, const std::optional<std::string>& value) {
  if (!value) return;  // NULL: an empty unquoted field
  if (value->empty() || value->find_first_of(",\"\r\n") != std::string::npos) {
    out->push_back('"');
    for (char c : *value) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
    out->push_back('"');
  } else {
    out->append(*value);
  }
}

std::string Query1(const PostgresTestServer& server, const std::string& sql) {
  auto rows = server.Query(sql);
  if (!rows.ok() || rows->empty() || rows->front().empty() || !rows->front()[0]) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), rows.ok() ? "no value" : rows.status().ToString().c_str());
    std::exit(1);
  }
  return *rows->front()[0];
}

// The 1-minute load average: on a shared machine the wall clock depends on
// what else runs, so the figures are printed with it.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one.empty() ? "?" : one;
}

std::string PsqlPath() {
  for (const char* path : {"/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql", "/usr/local/bin/psql"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "psql";
}

// Runs a shell command; its stdout, or exits on a failure.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    std::fprintf(stderr, "cannot run %s\n", command.c_str());
    std::exit(1);
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  if (pclose(pipe) != 0) {
    std::fprintf(stderr, "failed: %s\n%s\n", command.c_str(), out.c_str());
    std::exit(1);
  }
  return out;
}

// The rows as the CSV file of a source (header, ContactId as an int64).
void WriteContactsCsv(const std::string& path, int64_t rows, int version) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string csv =
      "ContactId,FirstName,LastName,Email,City,LifetimeSpend,Orders,IsActive,BirthDate,LastSeen\n";
  for (int64_t i = 0; i < rows; ++i) {
    auto values = Customer(i, version);
    values[0] = std::to_string(i);
    for (size_t f = 0; f < values.size(); ++f) {
      if (f > 0) csv.push_back(',');
      AppendCsv(&csv, values[f]);
    }
    csv.push_back('\n');
    if (csv.size() > (1 << 22)) {
      out << csv;
      csv.clear();
    }
  }
  out << csv;
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

// `cdp export run` of the rows as the entity of a CSV source.
void RunThroughCdp(const PostgresTestServer& server, const std::string& cdp, int64_t rows,
                   const std::string& psql) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/bench_exports_postgres_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "mkdtemp failed\n");
    std::exit(1);
  }
  const std::string dir = tmpl;
  const std::string ws = dir + "/ws";
  WriteContactsCsv(dir + "/contacts.csv", rows, 0);
  {
    std::ofstream yaml(dir + "/project.yaml");
    yaml << "project: bench_exports\n"
            "sources:\n"
            "  - name: Contacts\n"
            "    kind: csv\n"
            "    path: contacts.csv\n"
            "    primary_key: ContactId\n"
            "    fields:\n"
            "      - {name: ContactId, type: int64}\n"
            "      - {name: LifetimeSpend, type: double}\n"
            "      - {name: Orders, type: int64}\n"
            "      - {name: IsActive, type: bool}\n"
            "      - {name: BirthDate, type: date}\n"
            "      - {name: LastSeen, type: timestamp}\n"
            "connections:\n"
            "  - name: Warehouse\n"
            "    kind: postgres\n"
            "    settings: {host: 127.0.0.1, port: "
         << server.port()
         << ", database: postgres, user: postgres}\n"
            "exports:\n"
            "  - name: ContactsPg\n"
            "    connection: Warehouse\n"
            "    what: {entity: Contacts}\n"
            "    fields: [ContactId, FirstName, LastName, Email, City, LifetimeSpend, Orders, IsActive, "
            "BirthDate, LastSeen]\n"
            "    key: ContactId\n"
            "    batch_size: 1000\n"
            "    when: manual\n"
            "    options: {table: contacts}\n";
  }
  Shell(cdp + " init " + ws + " 2>&1");
  Shell(cdp + " apply -w " + ws + " " + dir + "/project.yaml 2>&1");
  Clock::time_point t = Clock::now();
  Shell(cdp + " ingest -w " + ws + " 2>&1");
  std::printf("through cdp: ingest of the CSV source:      %8.2f s (not part of the export)\n",
              Sec(t, Clock::now()));

  auto run = [&](const char* what) {
    const Clock::time_point start = Clock::now();
    const std::string out = Shell(cdp + " export run ContactsPg --json -w " + ws + " 2>/dev/null");
    const double seconds = Sec(start, Clock::now());
    nlohmann::json report = nlohmann::json::parse(out, nullptr, false);
    if (report.is_discarded() || report.value("status", "") != "succeeded") {
      std::fprintf(stderr, "%s: %s\n", what, out.c_str());
      std::exit(1);
    }
    return std::make_pair(seconds, report.value("rows_sent", int64_t{0}));
  };
  const auto [full_seconds, full_rows] = run("full run");
  std::printf("through cdp: `cdp export run`, first (full): %8.2f s  %10.0f rows/s  (%" PRId64
              " rows sent)\n",
              full_seconds, full_rows / full_seconds, full_rows);

  if (Status created =
          server.Exec("CREATE TABLE ceiling_cdp (\"ContactId\" bigint PRIMARY KEY, \"FirstName\" text, "
                      "\"LastName\" text, "
                      "\"Email\" text, \"City\" text, \"LifetimeSpend\" double precision, \"Orders\" bigint, "
                      "\"IsActive\" boolean, \"BirthDate\" date, \"LastSeen\" timestamp with time zone)");
      !created.ok()) {
    std::fprintf(stderr, "%s\n", created.ToString().c_str());
    std::exit(1);
  }
  t = Clock::now();
  Shell(psql + " -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(server.port()) +
        " -U postgres -d postgres -c \"\\copy ceiling_cdp FROM '" + dir +
        "/contacts.csv' WITH (FORMAT csv, HEADER true)\" 2>&1");
  const double copy_seconds = Sec(t, Clock::now());
  std::printf(
      "through cdp: ceiling, psql \\copy of the CSV: %8.2f s  %10.0f rows/s  -> cdp export run reaches "
      "%.0f%% of it\n",
      copy_seconds, rows / copy_seconds, 100.0 * copy_seconds / full_seconds);
  std::printf(
      "  rows of the export that differ from the \\copy load: %s of %s\n",
      Query1(server, "SELECT count(*) FROM (SELECT * FROM contacts EXCEPT SELECT * FROM ceiling_cdp) a")
          .c_str(),
      Query1(server, "SELECT count(*) FROM contacts").c_str());

  WriteContactsCsv(dir + "/contacts.csv", rows, 1);
  t = Clock::now();
  Shell(cdp + " ingest -w " + ws + " 2>&1");
  std::printf("through cdp: ingest after 1%% changed:       %8.2f s (not part of the export)\n",
              Sec(t, Clock::now()));
  const auto [delta_seconds, delta_rows] = run("delta run");
  std::printf("through cdp: `cdp export run`, delta:       %8.3f s  %" PRId64 " rows sent\n", delta_seconds,
              delta_rows);
  std::printf("  rows holding the change: %s; rows in the table: %s\n",
              Query1(server, "SELECT count(*) FROM contacts WHERE \"LastSeen\" >= '2026-12-01'").c_str(),
              Query1(server, "SELECT count(*) FROM contacts").c_str());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1000000;
  int64_t batch_size = 1000;
  std::string cdp;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
      rows = std::atoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch_size = std::atoll(argv[++i]);
    } else if (std::strcmp(argv[i], "--cdp") == 0 && i + 1 < argc) {
      cdp = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--rows N] [--batch N] [--cdp PATH]\n", argv[0]);
      return 2;
    }
  }
  if (rows < 100 || batch_size < 1) {
    std::fprintf(stderr, "--rows must be >= 100 and --batch >= 1\n");
    return 2;
  }

  PostgresTestServerOptions options;
  options.extra_config = {"shared_buffers = 256MB", "max_wal_size = 4GB", "checkpoint_timeout = 30min"};
  auto started = PostgresTestServer::Start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "cannot start PostgreSQL: %s\n", started.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<PostgresTestServer> server = std::move(*started);
  DestinationRegistry registry;
  if (Status registered = RegisterPostgresDestination(registry); !registered.ok()) return 1;
  const DestinationKind& kind = **registry.Find("postgres");
  ResolvedConnection connection;
  connection.name = "bench";
  connection.kind = "postgres";
  connection.settings = {{"host", server->host()},
                         {"port", std::to_string(server->port())},
                         {"database", "postgres"},
                         {"user", server->user()}};

  std::printf("bench_exports_postgres: %" PRId64 " rows x 10 fields, batches of %" PRId64
              ", PostgreSQL on 127.0.0.1:%d (fsync off), session driven directly (no export runner)\n",
              rows, batch_size, server->port());
  std::printf("load average (1 min) at the start: %s\n", LoadAverage().c_str());

  const double generate_full = GenerationSeconds(rows, batch_size, 0, false);
  std::printf("generating the rows alone:           %8.2f s (subtracted below)\n", generate_full);

  // 1. Full export into a new table.
  RunResult full = Export(kind, connection, "customers", rows, batch_size, 0, false);
  const double full_net = full.seconds - generate_full;
  std::printf("full export, new table:              %8.2f s  %10.0f rows/s  (%" PRId64
              " rows sent; %.2f s with generation)\n",
              full_net, rows / full_net, full.rows, full.seconds);

  // 2. The ceiling: psql \copy of the same rows from a CSV file.
  const std::string csv_path = server->directory() + "/customers.csv";
  {
    std::string csv;
    std::ofstream out(csv_path, std::ios::binary | std::ios::trunc);
    for (int64_t i = 0; i < rows; ++i) {
      const auto values = Customer(i, 0);
      for (size_t f = 0; f < values.size(); ++f) {
        if (f > 0) csv.push_back(',');
        AppendCsv(&csv, values[f]);
      }
      csv.push_back('\n');
      if (csv.size() > (1 << 22)) {
        out << csv;
        csv.clear();
      }
    }
    out << csv;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", csv_path.c_str());
      return 1;
    }
  }
  if (Status created = server->Exec(
          "CREATE TABLE ceiling (\"CustomerId\" text PRIMARY KEY, \"FirstName\" text, \"LastName\" text, "
          "\"Email\" text, \"City\" text, \"LifetimeSpend\" double precision, \"Orders\" bigint, "
          "\"IsActive\" boolean, \"BirthDate\" date, \"LastSeen\" timestamp with time zone)");
      !created.ok()) {
    std::fprintf(stderr, "%s\n", created.ToString().c_str());
    return 1;
  }
  const std::string psql =
      PsqlPath() + " -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(server->port()) +
      " -U postgres -d postgres -c \"\\copy ceiling FROM '" + csv_path + "' WITH (FORMAT csv)\"";
  const Clock::time_point copy_start = Clock::now();
  const int psql_exit = std::system(psql.c_str());
  const double copy_seconds = Sec(copy_start, Clock::now());
  if (psql_exit != 0) {
    std::fprintf(stderr, "psql failed (%d): %s\n", psql_exit, psql.c_str());
    return 1;
  }
  std::printf(
      "ceiling: psql \\copy from CSV:        %8.2f s  %10.0f rows/s  -> full export reaches %.0f%% of it\n",
      copy_seconds, rows / copy_seconds, 100.0 * copy_seconds / full_net);
  const std::string differ =
      Query1(*server, "SELECT count(*) FROM (SELECT * FROM customers EXCEPT SELECT * FROM ceiling) a");
  std::printf("  rows of the export that differ from the \\copy load: %s of %s\n", differ.c_str(),
              Query1(*server, "SELECT count(*) FROM customers").c_str());

  // 3. The same full export again (nothing changed).
  RunResult again = Export(kind, connection, "customers", rows, batch_size, 0, false);
  std::printf("full export again, nothing changed:  %8.2f s  %10.0f rows/s\n", again.seconds - generate_full,
              rows / (again.seconds - generate_full));

  // 4. Delta after 1% changed.
  const double generate_delta = GenerationSeconds(rows, batch_size, 1, true);
  RunResult delta = Export(kind, connection, "customers", rows, batch_size, 1, true);
  std::printf("delta export, 1%% changed:            %8.3f s  %" PRId64
              " rows sent (%.3f s with generation)\n",
              delta.seconds - generate_delta, delta.rows, delta.seconds);
  const std::string changed =
      Query1(*server, "SELECT count(*) FROM customers WHERE \"LastSeen\" >= '2026-12-01'");
  std::printf("  rows holding the change after the delta: %s\n", changed.c_str());

  // 5. Full export of the changed set.
  const double generate_changed = GenerationSeconds(rows, batch_size, 1, false);
  RunResult full_changed = Export(kind, connection, "customers", rows, batch_size, 1, false);
  std::printf("full export after 1%% changed:        %8.2f s  %" PRId64 " rows sent\n",
              full_changed.seconds - generate_changed, full_changed.rows);
  std::printf("  rows in the table: %s\n", Query1(*server, "SELECT count(*) FROM customers").c_str());
  if (!cdp.empty()) RunThroughCdp(*server, cdp, rows, PsqlPath());
  std::printf("load average (1 min) at the end: %s\n", LoadAverage().c_str());
  return 0;
}
