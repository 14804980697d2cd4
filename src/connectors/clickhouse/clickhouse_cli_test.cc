// End to end: `cdp export run` of an entity to a `clickhouse` connection
// served by a real clickhouse-server (ClickHouseTestServer), full then delta,
// with the password taken from an environment variable.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/testing/run_cdp.h"
#include "connectors/clickhouse/clickhouse_test_server.h"

namespace fs = std::filesystem;

namespace cdp {
namespace {

using testing::RunCdp;

void WriteFile(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

class ClickHouseCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ClickHouseTestServer::Start("cli-secret-7");
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    char tmpl[] = "/tmp/cdp_clickhouse_cli_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ws_ = (dir_ / "ws").string();
    ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
    ::setenv("CDP_TEST_CLICKHOUSE_PASSWORD", "cli-secret-7", 1);
  }
  void TearDown() override {
    ::unsetenv("CDP_TEST_CLICKHOUSE_PASSWORD");
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void Apply(const std::string& contacts_csv) {
    WriteFile(dir_ / "contacts.csv", contacts_csv);
    std::ostringstream project;
    project << "project: e\n"
            << "sources:\n"
            << "  - name: Contacts\n    kind: csv\n    path: contacts.csv\n    primary_key: ContactId\n"
            << "    fields:\n      - {name: ContactId, type: int64}\n"
            << "connections:\n"
            << "  - name: warehouse\n    kind: clickhouse\n"
            << "    settings: {url: \"" << server_->url() << "\", database: marketing, user: "
            << ClickHouseTestServer::kPasswordUser << "}\n"
            << "    secrets:\n      password: {env: CDP_TEST_CLICKHOUSE_PASSWORD}\n"
            << "exports:\n"
            << "  - name: contacts\n    connection: warehouse\n    what: {entity: Contacts}\n"
            << "    fields: [ContactId, {Name: name}, Spend]\n    key: ContactId\n    mode: delta\n"
            << "    when: manual\n    target: contacts\n";
    WriteFile(dir_ / "project.yaml", project.str());
    auto r = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunCdp("ingest -w " + ws_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  std::string Table() {
    auto answer = server_->Query("SELECT * FROM marketing.contacts ORDER BY ContactId FORMAT TabSeparated");
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return answer.ok() ? *answer : "";
  }

  std::unique_ptr<ClickHouseTestServer> server_;
  fs::path dir_;
  std::string ws_;
};

TEST_F(ClickHouseCliTest, ExportRunCreatesTheTableThenAppliesADelta) {
  Apply("ContactId,Name,Spend\n1,Ann,437.66\n2,\"Tab\tBob\",12.5\n3,Cy,1\n");
  auto check = RunCdp("connection check warehouse -w " + ws_);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  auto first = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(first.exit_code, 0) << first.out << "\n--- clickhouse log:\n" << server_->LogTail();
  EXPECT_EQ(Table(), "1\tAnn\t437.66\n2\tTab\\tBob\t12.5\n3\tCy\t1\n");
  EXPECT_EQ(first.out.find("cli-secret-7"), std::string::npos) << "the password must never be printed";

  Apply("ContactId,Name,Spend\n1,Ann,437.66\n2,\"Tab\tBob\",99\n4,Di,4\n");
  auto second = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(Table(), "1\tAnn\t437.66\n2\tTab\\tBob\t99\n4\tDi\t4\n");
  auto tables = server_->Query("SELECT name FROM system.tables WHERE database = 'marketing' FORMAT TabSeparated");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, "contacts\n");
}

TEST_F(ClickHouseCliTest, ExportRunWithAWrongPasswordFailsWithoutPrintingIt) {
  ::setenv("CDP_TEST_CLICKHOUSE_PASSWORD", "wrong-secret-3", 1);
  Apply("ContactId,Name,Spend\n1,Ann,1\n");
  auto run = RunCdp("export run contacts -w " + ws_);
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("warehouse"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("wrong-secret-3"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace cdp
