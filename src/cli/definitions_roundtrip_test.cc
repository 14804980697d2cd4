// Config as code, end to end: definitions made through the YAML file, the CLI
// and the REST API (a real `cdp serve`) are all in `cdp export-config`, and
// applying that export to a fresh workspace gives the same definitions and,
// after `cdp run` on both, the same entities.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/testing/run_cdp.h"
#include "server/testing/http_client.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using cdp::testing::CdpBin;
using cdp::testing::CdpResult;
using Result = CdpResult;
using cdp::testing::RunCdp;

CdpResult Cdp(const std::string& args, bool stdout_only = false) { return RunCdp(args, stdout_only); }

Json CdpJson(const std::string& args) {
  CdpResult r = Cdp(args + " --json", true);
  EXPECT_EQ(r.exit_code, 0) << args << ": " << r.out;
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << args << " printed: " << r.out;
  return j;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `cdp serve` on a free loopback port, stopped with SIGTERM.
class Server {
 public:
  explicit Server(const std::string& ws) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execl(CdpBin().c_str(), "cdp", "serve", "-w", ws.c_str(), "--port", "0", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    // "Serving http://127.0.0.1:PORT/ ..."
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1) {
      line += c;
      size_t at = line.find("127.0.0.1:");
      if (at != std::string::npos && line.find('/', at) != std::string::npos) {
        port_ = std::stoi(line.substr(at + 10));
        break;
      }
    }
    out_ = out[0];
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_ >= 0) close(out_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

class DefinitionsRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_roundtrip_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Ws(const std::string& name) const { return (dir_ / name).string(); }

  // Every non-internal entity's rows, by name.
  std::map<std::string, Json> Entities(const std::string& ws) {
    std::map<std::string, Json> out;
    Json list = CdpJson("entities -w " + ws);
    for (const auto& e : list["entities"]) {
      std::string name = e["name"];
      out[name] = CdpJson("show -w " + ws + " '" + name + "' --limit -1")["rows"];
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(DefinitionsRoundTripTest, ExportOfYamlCliAndApiDefinitionsRebuildsTheSameWorkspace) {
  ASSERT_EQ(Cdp("demo generate --customers 150 --seed 9 --out " + (dir_ / "sources").string()).exit_code, 0);
  fs::copy_file(fs::path(CDP_SOURCE_DIR) / "examples/contoso/project.yaml", dir_ / "project.yaml");
  const std::string ws1 = Ws("ws1");
  ASSERT_EQ(Cdp("init " + ws1).exit_code, 0);
  // YAML.
  Result applied = Cdp("apply -w " + ws1 + " " + (dir_ / "project.yaml").string());
  ASSERT_EQ(applied.exit_code, 0) << applied.out;
  Result run = Cdp("run -w " + ws1);
  ASSERT_EQ(run.exit_code, 0) << run.out;

  // CLI: a segment from a file (a quoted number stays text) and a quick one,
  // each evaluated when it is created.
  std::ofstream(dir_ / "zip.yaml") << "name: CliZips\ntype: dynamic\nrules:\n  - entity: Customer\n    conditions:\n"
                                      "      - {field: PostalCode, op: in, values: [\"90210\", \"10001\"]}\n";
  Result zip = Cdp("segment create -w " + ws1 + " --file " + (dir_ / "zip.yaml").string());
  ASSERT_EQ(zip.exit_code, 0) << zip.out;
  Result quick = Cdp("segment create CliBigSpenders -w " + ws1 +
                     " --entity Customer_Measure --field WebSpend --op greater --value 100");
  ASSERT_EQ(quick.exit_code, 0) << quick.out;
  Json members = CdpJson("show -w " + ws1 + " Segment_CliBigSpenders --limit -1");
  EXPECT_FALSE(members["rows"].empty()) << "a new dynamic segment has members at once";

  // API: a measure, a quick segment and a schedule.
  Json key = CdpJson("apikey create --role admin --name roundtrip -w " + ws1);
  {
    Server server(ws1);
    ASSERT_GT(server.port(), 0);
    auto call = [&](const std::string& method, const std::string& target, const std::string& body) {
      auto r = cdp::testing::HttpCall(server.port(), method, target, key["key"], body);
      EXPECT_LT(r.status, 300) << method << " " << target << ": " << r.body;
      return Json::parse(r.body, nullptr, false);
    };
    Json m = call("POST", "/api/v1/measures",
                  R"({"name":"ApiMaxWebPurchase","function":"max","activity":"OnlinePurchase","field":"TotalPrice"})");
    call("POST", "/api/v1/segments/quick",
         R"({"name":"ApiCalifornia","entity":"Customer","field":"State","op":"equals","values":["CA"]})");
    call("PUT", "/api/v1/schedules", R"({"refresh":"0 3 * * *"})");
    // The refresh the measure started computes it.
    ASSERT_TRUE(m["run_id"].is_number()) << m.dump();
    for (int i = 0; i < 600; ++i) {
      auto r = cdp::testing::HttpCall(server.port(), "GET", "/api/v1/health", "", "");
      if (r.status == 200 && !Json::parse(r.body)["refresh_running"].get<bool>()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Export: every definition, wherever it was made.
  const fs::path e1 = dir_ / "export1.yaml";
  ASSERT_EQ(Cdp("export-config -w " + ws1 + " -o " + e1.string()).exit_code, 0);
  const std::string exported = ReadFile(e1);
  for (const char* name : {"SummerPromo", "CliZips", "CliBigSpenders", "ApiCalifornia", "ApiMaxWebPurchase",
                           "\"90210\"", "0 3 * * *"}) {
    EXPECT_NE(exported.find(name), std::string::npos) << name << " missing from:\n" << exported;
  }

  // A fresh workspace from the export; both refreshed.
  const std::string ws2 = Ws("ws2");
  ASSERT_EQ(Cdp("init " + ws2).exit_code, 0);
  Result applied2 = Cdp("apply -w " + ws2 + " " + e1.string());
  ASSERT_EQ(applied2.exit_code, 0) << applied2.out;
  ASSERT_EQ(Cdp("run -w " + ws1).exit_code, 0);
  ASSERT_EQ(Cdp("run -w " + ws2).exit_code, 0);
  const fs::path e2 = dir_ / "export2.yaml";
  ASSERT_EQ(Cdp("export-config -w " + ws2 + " -o " + e2.string()).exit_code, 0);
  EXPECT_EQ(ReadFile(e2), exported);
  std::map<std::string, Json> a = Entities(ws1), b = Entities(ws2);
  std::vector<std::string> names_a, names_b;
  for (const auto& [n, rows] : a) names_a.push_back(n);
  for (const auto& [n, rows] : b) names_b.push_back(n);
  ASSERT_EQ(names_a, names_b);
  for (const auto& [name, rows] : a) {
    EXPECT_EQ(rows, b[name]) << "entity " << name << " differs";
  }
  EXPECT_TRUE(a.count("Segment_ApiCalifornia") && a.count("Segment_CliZips"));
}

// `cdp apply` says what changed per kind, changes nothing the second time, and
// refuses a relationship whose two fields have different types (it used to be
// accepted and fail only at `cdp activities`).
TEST_F(DefinitionsRoundTripTest, ApplyPrintsChangesAndRefusesARelationshipOfTwoTypes) {
  ASSERT_EQ(Cdp("demo generate --customers 40 --seed 2 --out " + (dir_ / "sources").string()).exit_code, 0);
  const std::string yaml = ReadFile(fs::path(CDP_SOURCE_DIR) / "examples/contoso/project.yaml");
  std::ofstream(dir_ / "project.yaml") << yaml;
  const std::string ws = Ws("ws");
  const std::string file = (dir_ / "project.yaml").string();
  ASSERT_EQ(Cdp("init " + ws).exit_code, 0);
  Result first = Cdp("apply -w " + ws + " " + file);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("sources: 8 added, 0 changed, 0 removed"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("segments: 3 added, 0 changed, 0 removed"), std::string::npos) << first.out;
  Result second = Cdp("apply -w " + ws + " " + file);
  EXPECT_NE(second.out.find("no changes"), std::string::npos) << second.out;
  Json json = CdpJson("apply -w " + ws + " " + file);
  EXPECT_TRUE(json["changes"]["measures"]["added"].empty()) << json.dump();

  // The CLI adds its own hint to the workspace's neutral message.
  Result dup = Cdp("segment create SummerPromo -w " + ws + " --entity Customer --field State --op equals --value CA");
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.out.find("segment 'SummerPromo' already exists (use `cdp segment update`)"), std::string::npos)
      << dup.out;

  const std::string before = Cdp("export-config -w " + ws, true).out;
  std::string bad = yaml;
  const std::string from = "from: {entity: Website Reviews, field: UserId}";
  ASSERT_NE(bad.find(from), std::string::npos);
  bad.replace(bad.find(from), from.size(), "from: {entity: Website Reviews, field: ReviewRating}");
  std::ofstream(dir_ / "bad.yaml") << bad;
  Result refused = Cdp("apply -w " + ws + " " + (dir_ / "bad.yaml").string());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("relationship 'ReviewAuthor': Website Reviews.ReviewRating is int64 but "
                             "eCommerce Contacts.ContactId is string"),
            std::string::npos)
      << refused.out;
  EXPECT_EQ(Cdp("export-config -w " + ws, true).out, before);
}

}  // namespace
