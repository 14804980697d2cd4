// End to end: `cdp export run` of an entity to an `sftp` connection served by
// a real sshd (SftpTestServer), full then delta, with the private key taken
// from an environment variable and the host key pinned.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/testing/run_cdp.h"
#include "connectors/sftp/sftp_test_server.h"

namespace fs = std::filesystem;

namespace cdp {
namespace {

using testing::RunCdp;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

class SftpCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = SftpTestServer::Start();
    if (!server.ok() && server.status().code() == StatusCode::kFailedPrecondition &&
        server.status().message().find("account is locked") != std::string::npos) {
      GTEST_SKIP() << server.status().message();  // an environment sshd cannot serve; CI runs as root
    }
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    char tmpl[] = "/tmp/cdp_sftp_cli_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ws_ = (dir_ / "ws").string();
    ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
    ::setenv("CDP_TEST_SFTP_KEY", server_->client_private_key().c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("CDP_TEST_SFTP_KEY");
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
            << "  - name: partner\n    kind: sftp\n"
            << "    settings:\n"
            << "      host: " << server_->host() << "\n"
            << "      port: " << server_->port() << "\n"
            << "      user: " << server_->user() << "\n"
            << "      path: " << server_->upload_directory() << "/drop\n"
            << "      host_key_sha256: \"" << server_->host_key_sha256() << "\"\n"
            << "    secrets:\n      private_key: {env: CDP_TEST_SFTP_KEY}\n"
            << "exports:\n"
            << "  - name: contacts\n    connection: partner\n    what: {entity: Contacts}\n"
            << "    fields: [ContactId, {Name: name}, Spend]\n    key: ContactId\n    mode: delta\n"
            << "    when: manual\n    target: contacts\n";
    WriteFile(dir_ / "project.yaml", project.str());
    auto r = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunCdp("ingest -w " + ws_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  std::unique_ptr<SftpTestServer> server_;
  fs::path dir_;
  std::string ws_;
};

TEST_F(SftpCliTest, ExportRunUploadsTheFullFileThenADeltaFile) {
  Apply("ContactId,Name,Spend\n1,Ann,437.66\n2,\"Bob, Jr.\",12.5\n3,Cy,1\n");
  auto check = RunCdp("connection check partner -w " + ws_);
  EXPECT_EQ(check.exit_code, 0) << check.out;
  auto first = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(first.exit_code, 0) << first.out << "\n--- sshd log:\n" << server_->LogTail();
  const fs::path drop = fs::path(server_->upload_directory()) / "drop";
  EXPECT_EQ(ReadFile(drop / "contacts.csv"), "ContactId,name,Spend\n1,Ann,437.66\n2,\"Bob, Jr.\",12.5\n3,Cy,1\n");
  EXPECT_EQ(first.out.find("BEGIN OPENSSH"), std::string::npos) << "the key must never be printed";

  Apply("ContactId,Name,Spend\n1,Ann,437.66\n2,\"Bob, Jr.\",99\n4,Di,4\n");
  auto second = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  std::string delta_name;
  for (const auto& entry : fs::directory_iterator(drop)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("contacts.delta-", 0) == 0) delta_name = name;
  }
  ASSERT_FALSE(delta_name.empty()) << "no delta file in " << drop;
  const std::string delta = ReadFile(drop / delta_name);
  EXPECT_EQ(delta.substr(0, delta.find('\n')), "_change,ContactId,name,Spend");
  EXPECT_NE(delta.find("changed,2,\"Bob, Jr.\",99\n"), std::string::npos) << delta;
  EXPECT_NE(delta.find("removed,3,,\n"), std::string::npos) << delta;
  EXPECT_NE(delta.find("added,4,Di,4\n"), std::string::npos) << delta;
  EXPECT_EQ(delta.find(",Ann,"), std::string::npos) << "unchanged rows are not in a delta: " << delta;
}

TEST_F(SftpCliTest, ExportRunToAnUnverifiedHostFailsNamingTheConnection) {
  Apply("ContactId,Name,Spend\n1,Ann,1\n");
  // Pin another key: the run must refuse the server.
  std::string project = ReadFile(dir_ / "project.yaml");
  const std::string pinned = server_->host_key_sha256();
  project.replace(project.find(pinned), pinned.size(), "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  WriteFile(dir_ / "project.yaml", project);
  ASSERT_EQ(RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string()).exit_code, 0);
  auto run = RunCdp("export run contacts -w " + ws_);
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("partner"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("does not match host_key_sha256"), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(fs::path(server_->upload_directory()) / "drop" / "contacts.csv"));
}

}  // namespace
}  // namespace cdp
