#include "connectors/sftp/sftp_destination.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/sftp/sftp_test_server.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Value = std::optional<std::string>;

std::string ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Gunzip(const std::string& compressed) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - z.avail_out);
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END) << "not a complete gzip stream";
  return out;
}

// The files in `dir`, hidden ones included.
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

ExportRow Row(std::vector<Value> values, RowChange change = RowChange::kAdded) {
  ExportRow row;
  row.change = change;
  row.values = std::move(values);
  return row;
}

ExportBatch Batch(int64_t sequence, std::vector<ExportRow> rows) {
  ExportBatch batch;
  batch.sequence = sequence;
  batch.idempotency_key = "members:1:" + std::to_string(sequence);
  batch.rows = std::move(rows);
  return batch;
}

class SftpDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = SftpTestServer::Start();
    if (!server.ok() && server.status().code() == StatusCode::kFailedPrecondition &&
        server.status().message().find("account is locked") != std::string::npos) {
      GTEST_SKIP() << server.status().message();  // an environment sshd cannot serve; CI runs as root
    }
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(RegisterSftpDestination(registry_).ok());
    auto kind = registry_.Find("sftp");
    ASSERT_TRUE(kind.ok());
    kind_ = *kind;
  }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) std::cerr << "--- sshd log:\n" << server_->LogTail() << "\n";
  }

  ResolvedConnection Connection() const {
    ResolvedConnection c;
    c.name = "partner_sftp";
    c.kind = "sftp";
    c.settings = {{"host", server_->host()},
                  {"port", std::to_string(server_->port())},
                  {"user", server_->user()},
                  {"path", server_->upload_directory() + "/exports/daily"},
                  {"host_key_sha256", server_->host_key_sha256()}};
    c.secrets = {{"private_key", server_->client_private_key()}};
    return c;
  }

  std::string ExportDir() const { return server_->upload_directory() + "/exports/daily"; }

  static ExportRunInfo Run(int64_t run_id, bool delta = false) {
    ExportRunInfo run;
    run.export_name = "high_value";
    run.export_run_id = run_id;
    run.delta = delta;
    run.target = "high_value";
    run.schema.fields = {{"ContactId", DataType::kString},
                         {"Name", DataType::kString},
                         {"Spend", DataType::kDouble},
                         {"Visits", DataType::kInt64},
                         {"Vip", DataType::kBool},
                         {"Since", DataType::kDate}};
    run.schema.key_field = 0;
    return run;
  }

  // Begin, one Write per batch, Commit.
  Status Export(const ResolvedConnection& connection, const ExportRunInfo& run,
                const std::vector<ExportBatch>& batches) {
    CDP_RETURN_IF_ERROR(kind_->validate(connection));
    CDP_RETURN_IF_ERROR(kind_->validate_options(connection, run.options));
    CDP_ASSIGN_OR_RETURN(std::unique_ptr<DestinationSession> session, kind_->begin(connection, run));
    for (const ExportBatch& batch : batches) {
      if (Status s = session->Write(batch); !s.ok()) {
        session->Abort();
        return s;
      }
    }
    if (Status s = session->Commit(); !s.ok()) return s;
    delivered_ = session->rows_delivered();
    samples_ = session->response_samples();
    return Status::Ok();
  }

  DestinationRegistry registry_;
  const DestinationKind* kind_ = nullptr;
  std::unique_ptr<SftpTestServer> server_;
  int64_t delivered_ = 0;
  std::vector<std::string> samples_;
};

TEST_F(SftpDestinationTest, FullRunUploadsCsvWithHeaderAndLeavesNoTemporaryFile) {
  ASSERT_TRUE(Export(Connection(), Run(7),
                     {Batch(0, {Row({"C1", "Ann", "437.66", "3", "true", "2024-01-31"}),
                                Row({"C2", "Bob", "12", "1", "false", std::nullopt})}),
                      Batch(1, {Row({"C3", "Cy", std::nullopt, std::nullopt, std::nullopt, "2023-12-01"})})})
                  .ok());
  EXPECT_EQ(delivered_, 3);
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"),
            "ContactId,Name,Spend,Visits,Vip,Since\n"
            "C1,Ann,437.66,3,true,2024-01-31\n"
            "C2,Bob,12,1,false,\n"
            "C3,Cy,,,,2023-12-01\n");
  EXPECT_EQ(ListDir(ExportDir()), std::vector<std::string>{"high_value.csv"});
  ASSERT_FALSE(samples_.empty());
  EXPECT_NE(samples_.back().find("wrote 3 rows"), std::string::npos) << samples_.back();
}

TEST_F(SftpDestinationTest, SecondFullRunReplacesTheFile) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"}),
                                                      Row({"C2", "Bob", "2", "2", "true", "2024-01-02"})})})
                  .ok());
  ASSERT_TRUE(Export(Connection(), Run(2), {Batch(0, {Row({"C9", "Zed", "9", "9", "false", "2024-09-09"})})}).ok());
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"),
            "ContactId,Name,Spend,Visits,Vip,Since\nC9,Zed,9,9,false,2024-09-09\n");
  EXPECT_EQ(ListDir(ExportDir()), std::vector<std::string>{"high_value.csv"});
}

TEST_F(SftpDestinationTest, NothingIsVisibleBeforeCommitAndAbortKeepsThePreviousFile) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"})})}).ok());
  const std::string before = ReadLocal(ExportDir() + "/high_value.csv");

  auto session = kind_->begin(Connection(), Run(2));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE((*session)->Write(Batch(0, {Row({"C2", "Bob", "2", "2", "false", "2024-02-02"})})).ok());
  // The new rows sit in a hidden temporary file; readers still see the old file.
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"), before);
  std::vector<std::string> during = ListDir(ExportDir());
  ASSERT_EQ(during.size(), 2u);
  EXPECT_EQ(during[0].rfind(".high_value.csv.cdp-tmp-2-1", 0), 0u) << during[0];
  (*session)->Abort();
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"), before);
  EXPECT_EQ(ListDir(ExportDir()), std::vector<std::string>{"high_value.csv"});
}

TEST_F(SftpDestinationTest, ANewAttemptRemovesTheTemporaryFileOfAnInterruptedOne) {
  // What a killed first attempt of run 5 leaves behind: its hidden temporary file.
  fs::create_directories(ExportDir());
  std::ofstream(ExportDir() + "/.high_value.csv.cdp-tmp-5-1") << "ContactId,Name\nC1,half a ro";
  ExportRunInfo second = Run(5);
  second.attempt = 2;
  ASSERT_TRUE(Export(Connection(), second, {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"})})}).ok());
  EXPECT_EQ(ListDir(ExportDir()), std::vector<std::string>{"high_value.csv"});
}

TEST_F(SftpDestinationTest, DeltaRunWritesADeltaFileWithAChangeColumn) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"})})}).ok());
  ExportRunInfo run = Run(42, /*delta=*/true);
  ASSERT_TRUE(Export(Connection(), run,
                     {Batch(0, {Row({"C1", "Ann", "5.5", "2", "true", "2024-01-01"}, RowChange::kChanged),
                                Row({"C2", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                                    RowChange::kRemoved),
                                Row({"C3", "Cy", "3", "3", "false", "2024-03-03"}, RowChange::kAdded)})})
                  .ok());
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.delta-42.csv"),
            "_change,ContactId,Name,Spend,Visits,Vip,Since\n"
            "changed,C1,Ann,5.5,2,true,2024-01-01\n"
            "removed,C2,,,,,\n"
            "added,C3,Cy,3,3,false,2024-03-03\n");
  // The full file of the earlier run is left as it was.
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"),
            "ContactId,Name,Spend,Visits,Vip,Since\nC1,Ann,1,1,true,2024-01-01\n");
}

TEST_F(SftpDestinationTest, CsvValuesAreQuotedPerRfc4180) {
  ExportRunInfo run = Run(3);
  run.schema.fields = {{"Id", DataType::kString}, {"Text", DataType::kString}};
  ASSERT_TRUE(Export(Connection(), run,
                     {Batch(0, {Row({"1", "plain"}), Row({"2", "comma, inside"}), Row({"3", "say \"hi\""}),
                                Row({"4", "two\nlines"}), Row({"5", "cr\r\nlf"}), Row({"6", ""}),
                                Row({"7", std::nullopt}), Row({"8", " padded "}), Row({"9", "Zoë ☕"})})})
                  .ok());
  EXPECT_EQ(ReadLocal(ExportDir() + "/high_value.csv"),
            "Id,Text\n"
            "1,plain\n"
            "2,\"comma, inside\"\n"
            "3,\"say \"\"hi\"\"\"\n"
            "4,\"two\nlines\"\n"
            "5,\"cr\r\nlf\"\n"
            "6,\"\"\n"
            "7,\n"
            "8,\" padded \"\n"
            "9,Zoë ☕\n");
}

TEST_F(SftpDestinationTest, JsonLinesWithGzipKeepTypes) {
  ExportRunInfo run = Run(4);
  run.options = {{"format", "jsonl"}, {"gzip", "true"}};
  ASSERT_TRUE(Export(Connection(), run,
                     {Batch(0, {Row({"C1", "A \"q\"\n", "437.66", "3", "true", "2024-01-31"}),
                                Row({"C2", std::nullopt, std::nullopt, std::nullopt, "false", std::nullopt})})})
                  .ok());
  EXPECT_EQ(ListDir(ExportDir()), std::vector<std::string>{"high_value.jsonl.gz"});
  EXPECT_EQ(Gunzip(ReadLocal(ExportDir() + "/high_value.jsonl.gz")),
            "{\"ContactId\":\"C1\",\"Name\":\"A \\\"q\\\"\\n\",\"Spend\":437.66,\"Visits\":3,\"Vip\":true,"
            "\"Since\":\"2024-01-31\"}\n"
            "{\"ContactId\":\"C2\",\"Name\":null,\"Spend\":null,\"Visits\":null,\"Vip\":false,"
            "\"Since\":null}\n");
}

TEST_F(SftpDestinationTest, KnownHostsFileIsAccepted) {
  ResolvedConnection c = Connection();
  c.settings.erase("host_key_sha256");
  c.settings["known_hosts"] = server_->known_hosts_path();
  ASSERT_TRUE(Export(c, Run(1), {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"})})}).ok());
  EXPECT_TRUE(fs::exists(ExportDir() + "/high_value.csv"));
  ASSERT_NE(kind_->check, nullptr);
  EXPECT_TRUE(kind_->check(c).ok());
}

TEST_F(SftpDestinationTest, PinnedHostKeyMismatchIsRefused) {
  ResolvedConnection c = Connection();
  c.settings["host_key_sha256"] = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  Status s = Export(c, Run(1), {Batch(0, {Row({"C1", "Ann", "1", "1", "true", "2024-01-01"})})});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("partner_sftp"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("does not match host_key_sha256"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(server_->host_key_sha256()), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(ExportDir())) << "nothing may be written to an unverified host";
}

TEST_F(SftpDestinationTest, KnownHostsWithAnotherKeyOrWithoutTheHostIsRefused) {
  ResolvedConnection c = Connection();
  c.settings.erase("host_key_sha256");
  const std::string changed = server_->directory() + "/known_hosts_changed";
  // The client's public key posing as the server's: same type, other key.
  std::ofstream(changed) << "[127.0.0.1]:" << server_->port() << " " << server_->client_public_key();
  c.settings["known_hosts"] = changed;
  Status s = Export(c, Run(1), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("differs from the one in known_hosts"), std::string::npos) << s.message();

  const std::string empty = server_->directory() + "/known_hosts_empty";
  std::ofstream(empty) << "";
  c.settings["known_hosts"] = empty;
  s = Export(c, Run(1), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("is not in known_hosts file"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(ExportDir()));
}

TEST_F(SftpDestinationTest, UnauthorizedClientKeyIsRefused) {
  auto other = server_->GenerateUnauthorizedKey();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ResolvedConnection c = Connection();
  c.secrets["private_key"] = *other;
  Status s = Export(c, Run(1), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("refused user '" + server_->user() + "'"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("PRIVATE KEY"), std::string::npos) << "the key must not appear in messages";
  EXPECT_FALSE(fs::exists(ExportDir()));

  c.secrets["private_key"] = "not a key";
  s = Export(c, Run(1), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("secret private_key is not a readable"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("not a key"), std::string::npos);
}

TEST_F(SftpDestinationTest, ValidationNamesTheConnectionAndTheKey) {
  ResolvedConnection c = Connection();
  c.settings.erase("host_key_sha256");
  Status s = kind_->validate(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'known_hosts'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("partner_sftp"), std::string::npos) << s.message();

  c = Connection();
  c.settings["hostname"] = "x";
  s = kind_->validate(c);
  EXPECT_NE(s.message().find("unknown setting 'hostname'"), std::string::npos) << s.message();

  c = Connection();
  c.settings["port"] = "99999";
  EXPECT_NE(kind_->validate(c).message().find("'port'"), std::string::npos);

  c = Connection();
  c.settings["host_key_sha256"] = "md5:ab:cd";
  EXPECT_NE(kind_->validate(c).message().find("'host_key_sha256'"), std::string::npos);

  c = Connection();
  c.secrets.clear();
  EXPECT_NE(kind_->validate(c).message().find("'private_key' or 'password'"), std::string::npos);

  EXPECT_NE(kind_->validate_options(Connection(), {{"format", "xml"}}).message().find("'format'"),
            std::string::npos);
  EXPECT_NE(kind_->validate_options(Connection(), {{"compress", "true"}}).message().find("'compress'"),
            std::string::npos);

  ExportRunInfo run = Run(1);
  run.target = "../escape";
  auto session = kind_->begin(Connection(), run);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("target '../escape'"), std::string::npos)
      << session.status().message();
}

}  // namespace
}  // namespace cdp
