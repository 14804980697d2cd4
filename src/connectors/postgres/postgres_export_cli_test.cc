// End to end: the Contoso demo's segments exported to a real PostgreSQL
// server (started by the test on loopback) through `cdp export run`, and a
// real kill -9 of `cdp export run` at random points of a larger export: the
// table always holds one complete run's rows, and after the next normal run
// exactly the segment's members (none missing, none duplicated).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cli/testing/run_cdp.h"
#include "connectors/postgres/postgres_test_server.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using cdp::testing::CdpBin;
using cdp::testing::RunCdp;

// Fields sent to PostgreSQL (all strings in the demo's Customer), and
// compared with `cdp segment members --format csv`.
const std::vector<std::string> kFields = {"CustomerId", "FirstName", "LastName", "Email", "City", "State"};
using Table =
    std::map<std::string, std::vector<std::optional<std::string>>>;  // CustomerId -> the other fields

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

// RFC 4180 records; an empty unquoted field is nullopt (as the export
// writes a null), a quoted one "" an empty string.
std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::optional<std::string>>> records;
  std::vector<std::optional<std::string>> record;
  std::string field;
  bool was_quoted = false, in_quotes = false;
  auto end_field = [&] {
    record.push_back(field.empty() && !was_quoted ? std::nullopt : std::optional<std::string>(field));
    field.clear();
    was_quoted = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      in_quotes = was_quoted = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_field();
      records.push_back(std::move(record));
      record.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !record.empty() || was_quoted) {
    end_field();
    records.push_back(std::move(record));
  }
  return records;
}

class PostgresExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = PostgresTestServer::Start();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
    char tmpl[] = "/tmp/cdp_pg_export_cli_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ws_ = (dir_ / "ws").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The demo project plus a postgres connection, a segment of every
  // customer (or, `narrow`, of those outside California) and two exports.
  std::string Project(bool narrow) const {
    std::string yaml = ReadFile(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    const size_t segments = yaml.find("\nsegments:\n");
    EXPECT_NE(segments, std::string::npos);
    const std::string everyone = narrow ? "  - name: Everyone\n    type: dynamic\n    rules:\n      - "
                                          "entity: Customer\n        conditions:\n"
                                          "          - {field: State, op: not_in, values: [California]}\n"
                                        : "  - name: Everyone\n    type: dynamic\n    rules:\n      - "
                                          "entity: Customer\n        conditions:\n"
                                          "          - {field: CustomerId, op: is_not_empty}\n";
    yaml.insert(segments + std::string("\nsegments:\n").size(), everyone);
    std::string fields;
    for (const std::string& f : kFields) fields += (fields.empty() ? "" : ", ") + f;
    yaml +=
        "\nconnections:\n"
        "  - name: Warehouse\n"
        "    kind: postgres\n"
        "    settings: {host: 127.0.0.1, port: " +
        std::to_string(server_->port()) +
        ", database: postgres, user: postgres, schema: public}\n"
        "exports:\n"
        "  - name: CaliforniaPg\n"
        "    connection: Warehouse\n"
        "    what: {segment: CustomersFromCalifornia}\n"
        "    fields: [" +
        fields +
        "]\n"
        "    when: manual\n"
        "    options: {table: california}\n"
        "  - name: HighValuePg\n"
        "    connection: Warehouse\n"
        "    what: {segment: HighValueOnlineCustomers}\n"
        "    fields: [CustomerId, FirstName, LastName, Email, AverageWebPurchase, TotalWebPurchases]\n"
        "    when: manual\n"
        "    options: {table: high_value}\n"
        "  - name: SummerPromoPg\n"
        "    connection: Warehouse\n"
        "    what: {segment: SummerPromo}\n"
        "    fields: [CustomerId, FirstName, LastName, Email, DateOfBirth, AverageStorePurchase]\n"
        "    when: manual\n"
        "    options: {table: summer_promo}\n"
        "  - name: EveryonePg\n"
        "    connection: Warehouse\n"
        "    what: {segment: Everyone}\n"
        "    fields: [" +
        fields +
        "]\n"
        "    when: manual\n"
        "    batch_size: 10\n"
        "    options: {table: everyone}\n"
        "  - name: EveryoneProbe\n"
        "    connection: Warehouse\n"
        "    what: {segment: Everyone}\n"
        "    fields: [" +
        fields +
        "]\n"
        "    when: manual\n"
        "    batch_size: 10\n"
        "    options: {table: everyone_probe}\n";
    return yaml;
  }

  void Setup(int customers) {
    auto generated = RunCdp("demo generate --customers " + std::to_string(customers) + " --seed 7 --out " +
                            (dir_ / "sources").string());
    ASSERT_EQ(generated.exit_code, 0) << generated.out;
    WriteFile(dir_ / "project.yaml", Project(false));
    ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
    auto applied = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(applied.exit_code, 0) << applied.out;
    auto ran = RunCdp("run -w " + ws_);
    ASSERT_EQ(ran.exit_code, 0) << ran.out;
  }

  // The segment's members as `cdp segment members --format csv` writes them.
  Table Members(const std::string& segment, const std::vector<std::string>& fields = kFields) {
    const fs::path out = dir_ / (segment + ".members.csv");
    auto r = RunCdp("segment members " + segment + " --format csv --out " + out.string() + " -w " + ws_);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    auto records = ParseCsv(ReadFile(out));
    Table table;
    if (records.empty()) return table;
    std::vector<int> column;
    for (const std::string& f : fields) {
      int found = -1;
      for (size_t i = 0; i < records[0].size(); ++i) {
        if (records[0][i] == f) found = static_cast<int>(i);
      }
      EXPECT_GE(found, 0) << "members CSV has no column " << f;
      column.push_back(found);
    }
    for (size_t r = 1; r < records.size(); ++r) {
      std::vector<std::optional<std::string>> values;
      for (size_t f = 1; f < fields.size(); ++f) {
        values.push_back(column[f] >= 0 && column[f] < static_cast<int>(records[r].size())
                             ? records[r][column[f]]
                             : std::nullopt);
      }
      EXPECT_TRUE(records[r][column[0]].has_value());
      EXPECT_TRUE(table.emplace(records[r][column[0]].value_or(""), std::move(values)).second)
          << "duplicate member " << *records[r][column[0]];
    }
    return table;
  }

  // The PostgreSQL table's rows, or nullopt when it does not exist.
  std::optional<Table> Held(const std::string& table, const std::vector<std::string>& fields = kFields) {
    auto exists = server_->Query("SELECT to_regclass('public." + table + "') IS NOT NULL");
    EXPECT_TRUE(exists.ok());
    if (!exists.ok() || (*exists)[0][0] != "t") return std::nullopt;
    std::string columns;
    for (const std::string& f : fields) columns += (columns.empty() ? "\"" : ", \"") + f + "\"";
    auto rows = server_->Query("SELECT " + columns + " FROM public." + table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    Table held;
    if (!rows.ok()) return held;
    for (auto& row : *rows) {
      std::vector<std::optional<std::string>> values(row.begin() + 1, row.end());
      EXPECT_TRUE(held.emplace(row[0].value_or(""), std::move(values)).second) << "duplicate key " << *row[0];
    }
    return held;
  }

  std::unique_ptr<PostgresTestServer> server_;
  fs::path dir_;
  std::string ws_;
};

TEST_F(PostgresExportCliTest, TheLabSegmentsAreExportedToPostgresAndFollowTheirMembers) {
  Setup(600);
  const Table members = Members("CustomersFromCalifornia");
  ASSERT_FALSE(members.empty());
  auto first = RunCdp("export run CaliforniaPg --json -w " + ws_, /*stdout_only=*/true);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  Json report = Json::parse(first.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << first.out;
  EXPECT_EQ(report["status"], "succeeded") << report.dump();
  EXPECT_EQ(report["rows_sent"].get<int64_t>(), static_cast<int64_t>(members.size())) << report.dump();
  EXPECT_EQ(Held("california"), members);
  auto types = server_->Query(
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'california' AND column_name = "
      "'CustomerId'");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ((*types)[0][0], "bigint");  // the demo's CustomerId is an int64

  // Rows changed behind the export's back are put right by a --full run;
  // a delta run with no change in the segment sends nothing.
  ASSERT_TRUE(server_
                  ->Exec("UPDATE public.california SET \"Email\" = 'tampered' WHERE \"CustomerId\" = (SELECT "
                         "min(\"CustomerId\") FROM public.california); INSERT INTO public.california "
                         "(\"CustomerId\") VALUES (-1)")
                  .ok());
  auto delta = RunCdp("export run CaliforniaPg --json -w " + ws_, /*stdout_only=*/true);
  ASSERT_EQ(delta.exit_code, 0) << delta.out;
  EXPECT_EQ(Json::parse(delta.out)["rows_sent"], 0) << delta.out;
  auto full = RunCdp("export run CaliforniaPg --full -w " + ws_);
  ASSERT_EQ(full.exit_code, 0) << full.out;
  EXPECT_EQ(Held("california"), members);

  // The lab's two other segments, with measures (doubles) and dates: the
  // Customer fields equal the members' and the keys are exactly the members.
  for (const auto& [export_name, segment, table] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"HighValuePg", "HighValueOnlineCustomers", "high_value"},
           {"SummerPromoPg", "SummerPromo", "summer_promo"}}) {
    const std::vector<std::string> fields = {"CustomerId", "FirstName", "LastName", "Email"};
    const Table expected = Members(segment, fields);
    EXPECT_FALSE(expected.empty()) << segment;
    auto ran = RunCdp("export run " + export_name + " -w " + ws_);
    ASSERT_EQ(ran.exit_code, 0) << ran.out;
    EXPECT_EQ(Held(table, fields), expected) << segment;
  }
  auto measures = server_->Query(
      "SELECT count(*), count(\"AverageWebPurchase\") FROM public.high_value WHERE \"AverageWebPurchase\" > "
      "138");
  ASSERT_TRUE(measures.ok());
  EXPECT_EQ((*measures)[0][0], (*measures)[0][1]);
  auto all = server_->Query("SELECT count(*) FROM public.high_value");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*measures)[0][0], (*all)[0][0]) << "every member's AverageWebPurchase is above 138";
  auto born = server_->Query(
      "SELECT count(*) FROM public.summer_promo WHERE \"DateOfBirth\" NOT BETWEEN '1981-01-01' AND "
      "'1996-12-31'");
  ASSERT_TRUE(born.ok());
  EXPECT_EQ((*born)[0][0], "0");

  auto check = RunCdp("connection check Warehouse -w " + ws_);
  EXPECT_EQ(check.exit_code, 0) << check.out;
}

TEST_F(PostgresExportCliTest, KillNineDuringExportRunLeavesTheTableExactAfterTheNextRun) {
  Setup(2500);
  // Every round sends something: even rounds a --full run of the segment,
  // odd ones a delta after its membership changed (all customers <-> those
  // outside California). The kill lands at a random point of the time a
  // whole `cdp export run` takes here (EveryoneProbe: the same rows).
  std::vector<Table> complete = {Members("Everyone")};
  ASSERT_GT(complete[0].size(), 1000u);
  const auto probe_start = std::chrono::steady_clock::now();
  auto probe = RunCdp("export run EveryoneProbe -w " + ws_);
  ASSERT_EQ(probe.exit_code, 0) << probe.out;
  const double probe_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - probe_start).count();
  std::mt19937 rng(17);
  int killed = 0;
  bool narrow = false;
  int interrupted = 0;  // kills that left a recorded run unfinished
  // Eight rounds, and more (up to 20) until a kill interrupted a run.
  for (int round = 0; round < 8 || (interrupted == 0 && round < 20); ++round) {
    if (round % 2 == 1) {
      narrow = !narrow;
      WriteFile(dir_ / "project.yaml", Project(narrow));
      auto applied = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
      ASSERT_EQ(applied.exit_code, 0) << applied.out;
      auto ran = RunCdp("segment run Everyone -w " + ws_);
      ASSERT_EQ(ran.exit_code, 0) << ran.out;
      complete.push_back(Members("Everyone"));
      ASSERT_NE(complete.back().size(), complete[complete.size() - 2].size());
    }
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      if (round % 2 == 0) {
        execl(CdpBin().c_str(), "cdp", "export", "run", "EveryonePg", "--full", "-w", ws_.c_str(), nullptr);
      } else {
        execl(CdpBin().c_str(), "cdp", "export", "run", "EveryonePg", "-w", ws_.c_str(), nullptr);
      }
      _exit(127);
    }
    const double delay_ms = probe_ms * (0.25 + 0.7 * std::uniform_real_distribution<double>(0, 1)(rng));
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000)));
    if (kill(pid, SIGKILL) == 0) ++killed;
    int status = 0;
    waitpid(pid, &status, 0);
    // Whatever the moment, the table holds no run's partial rows: it is
    // missing (the first run never committed) or one complete set.
    std::optional<Table> held = Held("everyone");
    if (held.has_value()) {
      bool matches = false;
      for (const Table& t : complete) matches = matches || *held == t;
      EXPECT_TRUE(matches) << "after kill round " << round << " the table holds " << held->size()
                           << " rows, not a complete run's rows";
    }
    auto latest = RunCdp("export history EveryonePg --limit 1 --json -w " + ws_, /*stdout_only=*/true);
    Json last_run = Json::parse(latest.out, nullptr, false);
    if (last_run.is_array() && !last_run.empty() && last_run[0]["status"] != "succeeded") ++interrupted;
  }
  EXPECT_GT(killed, 0);
  auto last = RunCdp("export run EveryonePg -w " + ws_);
  ASSERT_EQ(last.exit_code, 0) << last.out;
  EXPECT_EQ(Held("everyone"), complete.back());
  auto history = RunCdp("export history EveryonePg --limit 100 --json -w " + ws_, /*stdout_only=*/true);
  Json runs = Json::parse(history.out, nullptr, false);
  ASSERT_TRUE(runs.is_array()) << history.out;
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(runs[0]["status"], "succeeded") << runs.dump();
  // Some kills interrupted a recorded run, which a later run finished.
  EXPECT_GT(interrupted, 0) << runs.dump();
}

}  // namespace
}  // namespace cdp
