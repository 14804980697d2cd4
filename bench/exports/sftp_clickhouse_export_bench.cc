// bench_exports_sftp_clickhouse: the sftp and clickhouse export destinations
// on generated customer rows (default 1M, 10 fields, batches of 1,000 as the
// export runner sends them), against servers this program starts on loopback
// (SftpTestServer: Debian's sshd; ClickHouseTestServer: Debian's
// clickhouse-server 18.16). Prints figures, never pass/fail:
//  sftp:       full run as CSV, as gzip CSV, as JSON Lines: seconds, rows/s,
//              bytes uploaded and MB/s;
//  clickhouse: first full run (table created), a second full run (replaces
//              the table), a delta run with 1% of the rows changed, removed
//              or added: seconds, rows sent, rows/s, and the rows the table
//              holds afterwards (checked against the expected count).
// The servers share the machine's cores with this program, so the figures
// are of both ends. Building the rows is done before the clock starts.
//
// Usage: bench_exports_sftp_clickhouse [--rows N] [--batch N] [--only sftp|clickhouse]
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/clickhouse/clickhouse_test_server.h"
#include "connectors/sftp/sftp_destination.h"
#include "connectors/sftp/sftp_test_server.h"

using namespace cdp;
using Clock = std::chrono::steady_clock;

namespace {

double Sec(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

const char* kFirst[] = {"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
                        "David", "Zoë",  "William", "Barbara", "Renée", "Susan", "Joseph", "Jessica"};
const char* kLast[] = {"Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis",
                       "O'Brien", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin"};
const char* kCity[] = {"Seattle", "Redmond", "Portland", "San Francisco, CA", "Los Angeles", "Austin", "Denver",
                       "Boston"};

ExportSchema Schema() {
  ExportSchema schema;
  schema.fields = {{"CustomerId", DataType::kString}, {"FirstName", DataType::kString},
                   {"LastName", DataType::kString},   {"Email", DataType::kString},
                   {"City", DataType::kString},       {"LifetimeSpend", DataType::kDouble},
                   {"Orders", DataType::kInt64},      {"IsActive", DataType::kBool},
                   {"FirstOrder", DataType::kDate},   {"LastSeen", DataType::kTimestamp}};
  schema.key_field = 0;
  return schema;
}

// Row `i`; `version` changes the spend (and so the row).
ExportRow MakeRow(int64_t i, int version, RowChange change = RowChange::kAdded) {
  ExportRow r;
  r.change = change;
  char id[24], email[64], spend[32], date[16], ts[32], orders[24];
  std::snprintf(id, sizeof(id), "C%08" PRId64, i);
  std::snprintf(email, sizeof(email), "%s.%" PRId64 "@example.com", kFirst[i % 16], i);
  std::snprintf(spend, sizeof(spend), "%" PRId64 ".%02d", (i * 37) % 5000 + version * 100, static_cast<int>(i % 100));
  std::snprintf(date, sizeof(date), "20%02d-%02d-%02d", static_cast<int>(10 + i % 14), static_cast<int>(1 + i % 12),
                static_cast<int>(1 + i % 28));
  std::snprintf(ts, sizeof(ts), "2024-%02d-%02dT%02d:%02d:%02dZ", static_cast<int>(1 + i % 12),
                static_cast<int>(1 + i % 28), static_cast<int>(i % 24), static_cast<int>(i % 60),
                static_cast<int>((i * 7) % 60));
  std::snprintf(orders, sizeof(orders), "%" PRId64, i % 97);
  if (change == RowChange::kRemoved) {
    r.values.assign(10, std::nullopt);
    r.values[0] = id;
    return r;
  }
  r.values = {std::string(id), std::string(kFirst[i % 16]), std::string(kLast[(i / 16) % 16]), std::string(email),
              std::string(kCity[i % 8]), std::string(spend), std::string(orders),
              std::string(i % 3 ? "true" : "false"), std::string(date), std::string(ts)};
  return r;
}

std::vector<ExportBatch> Batches(std::vector<ExportRow> rows, size_t batch_size) {
  std::vector<ExportBatch> out;
  for (size_t start = 0; start < rows.size(); start += batch_size) {
    ExportBatch b;
    b.sequence = static_cast<int64_t>(out.size());
    b.idempotency_key = "bench:1:" + std::to_string(b.sequence);
    const size_t end = std::min(rows.size(), start + batch_size);
    b.rows.assign(std::make_move_iterator(rows.begin() + start), std::make_move_iterator(rows.begin() + end));
    out.push_back(std::move(b));
  }
  return out;
}

// Begin, Write every batch, Commit; seconds, or a negative value on failure.
double RunOnce(const DestinationKind& kind, const ResolvedConnection& connection, const ExportRunInfo& run,
               const std::vector<ExportBatch>& batches) {
  const auto start = Clock::now();
  auto session = kind.begin(connection, run);
  if (!session.ok()) {
    std::fprintf(stderr, "begin failed: %s\n", session.status().ToString().c_str());
    return -1;
  }
  for (const ExportBatch& b : batches) {
    if (Status s = (*session)->Write(b); !s.ok()) {
      std::fprintf(stderr, "write failed: %s\n", s.ToString().c_str());
      (*session)->Abort();
      return -1;
    }
  }
  if (Status s = (*session)->Commit(); !s.ok()) {
    std::fprintf(stderr, "commit failed: %s\n", s.ToString().c_str());
    (*session)->Abort();
    return -1;
  }
  return Sec(start, Clock::now());
}

int BenchSftp(int64_t rows, size_t batch) {
  auto server = SftpTestServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "sftp server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  DestinationRegistry registry;
  (void)RegisterSftpDestination(registry);
  const DestinationKind& kind = **registry.Find("sftp");
  ResolvedConnection c;
  c.name = "bench";
  c.kind = "sftp";
  c.settings = {{"host", (*server)->host()},
                {"port", std::to_string((*server)->port())},
                {"user", (*server)->user()},
                {"path", (*server)->upload_directory()},
                {"host_key_sha256", (*server)->host_key_sha256()}};
  c.secrets = {{"private_key", (*server)->client_private_key()}};
  std::vector<ExportRow> all;
  all.reserve(rows);
  for (int64_t i = 0; i < rows; ++i) all.push_back(MakeRow(i, 0));
  const std::vector<ExportBatch> batches = Batches(std::move(all), batch);
  std::printf("sftp (sshd internal-sftp on loopback), %" PRId64 " rows, batches of %zu\n", rows, batch);
  struct Case {
    const char* name;
    std::map<std::string, std::string> options;
    const char* file;
  };
  const Case cases[] = {{"csv", {{"format", "csv"}}, "bench.csv"},
                        {"csv gzip", {{"format", "csv"}, {"gzip", "true"}}, "bench.csv.gz"},
                        {"jsonl", {{"format", "jsonl"}}, "bench.jsonl"}};
  int64_t run_id = 1;
  for (const Case& k : cases) {
    ExportRunInfo run;
    run.export_name = "bench";
    run.export_run_id = run_id++;
    run.target = "bench";
    run.schema = Schema();
    run.total_rows = rows;
    run.options = k.options;
    const double s = RunOnce(kind, c, run, batches);
    if (s < 0) return 1;
    const auto bytes = std::filesystem::file_size(std::filesystem::path((*server)->upload_directory()) / k.file);
    std::printf("  full %-9s %8.2f s  %10.0f rows/s  %8.1f MB uploaded  %6.1f MB/s\n", k.name, s, rows / s,
                bytes / 1e6, bytes / 1e6 / s);
  }
  return 0;
}

int BenchClickHouse(int64_t rows, size_t batch) {
  auto server = ClickHouseTestServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "clickhouse server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  DestinationRegistry registry;
  (void)RegisterClickHouseDestination(registry);
  const DestinationKind& kind = **registry.Find("clickhouse");
  ResolvedConnection c;
  c.name = "bench";
  c.kind = "clickhouse";
  c.settings = {{"url", (*server)->url()}, {"database", "bench"}};
  auto count = [&]() -> std::string {
    auto answer = (*server)->Query("SELECT count() FROM bench.customers FORMAT TabSeparated");
    if (!answer.ok()) return "?";
    std::string n = *answer;
    while (!n.empty() && n.back() == '\n') n.pop_back();
    return n;
  };
  ExportRunInfo run;
  run.export_name = "bench";
  run.target = "customers";
  run.schema = Schema();
  std::printf("clickhouse 18.16 (HTTP on loopback), %" PRId64 " rows, batches of %zu\n", rows, batch);
  {
    std::vector<ExportRow> all;
    for (int64_t i = 0; i < rows; ++i) all.push_back(MakeRow(i, 0));
    const std::vector<ExportBatch> batches = Batches(std::move(all), batch);
    for (const char* what : {"full (create)", "full (replace)"}) {
      run.export_run_id += 1;
      const double s = RunOnce(kind, c, run, batches);
      if (s < 0) return 1;
      std::printf("  %-15s %8.2f s  %10.0f rows/s  %" PRId64 " rows sent  table holds %s\n", what, s, rows / s,
                  rows, count().c_str());
    }
  }
  // 1% of the rows: a third changed, a third removed, a third added.
  std::vector<ExportRow> changes;
  const int64_t step = 100;
  for (int64_t i = 0; i < rows; i += step) {
    const int64_t k = i / step % 3;
    if (k == 0) changes.push_back(MakeRow(i, 1, RowChange::kChanged));
    if (k == 1) changes.push_back(MakeRow(i, 0, RowChange::kRemoved));
    if (k == 2) changes.push_back(MakeRow(rows + i, 0, RowChange::kAdded));
  }
  const int64_t sent = static_cast<int64_t>(changes.size());
  int64_t removed = 0;
  for (const ExportRow& r : changes) removed += r.change == RowChange::kRemoved;
  int64_t added = 0;
  for (const ExportRow& r : changes) added += r.change == RowChange::kAdded;
  // Keys sort as text; the changes go in key order as the runner sends them.
  std::sort(changes.begin(), changes.end(),
            [](const ExportRow& a, const ExportRow& b) { return *a.values[0] < *b.values[0]; });
  const std::vector<ExportBatch> delta_batches = Batches(std::move(changes), batch);
  run.delta = true;
  run.export_run_id += 1;
  const double s = RunOnce(kind, c, run, delta_batches);
  if (s < 0) return 1;
  std::printf("  %-15s %8.2f s  %" PRId64 " rows sent (1%%)  table holds %s (expected %" PRId64 ")\n",
              "delta", s, sent, count().c_str(), rows - removed + added);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1000000;
  size_t batch = 1000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = static_cast<size_t>(std::atoll(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  if (rows < 1 || batch < 1) {
    std::fprintf(stderr, "usage: bench_exports_sftp_clickhouse [--rows N] [--batch N] [--only sftp|clickhouse]\n");
    return 2;
  }
  int rc = 0;
  if (only.empty() || only == "sftp") rc |= BenchSftp(rows, batch);
  if (only.empty() || only == "clickhouse") rc |= BenchClickHouse(rows, batch);
  return rc;
}
