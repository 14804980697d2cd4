// End-to-end tests of `cdp export|connection|secret` with the files
// destination: what a user types, what they see, and a real kill -9 of
// `cdp export run` at random points.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <iostream>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "cli/testing/run_cdp.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using cdp::testing::CdpBin;
using cdp::testing::RunCdp;

Json RunJson(const std::string& args) {
  std::string out = RunCdp(args + " --json", /*stdout_only=*/true).out;
  Json j = Json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << args << " printed: " << out;
  return j;
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Contacts 0..n-1 with a spend that `version` changes for all but every 7th contact;
// version 1 also drops every 11th and adds n..n+99.
std::string Contacts(int n, int version) {
  std::ostringstream out;
  out << "ContactId,Name,Spend\n";
  for (int i = 0; i < n + (version ? 100 : 0); ++i) {
    if (version && i % 11 == 0) continue;
    int spend = i % 1000 + (version && i % 7 != 0 ? 5000 : 0);
    out << i << ",Name" << i << "," << spend << ".25\n";
  }
  return out.str();
}

const char* kProject = R"(project: e
sources:
  - name: Contacts
    kind: csv
    path: contacts.csv
    primary_key: ContactId
    fields:
      - {name: ContactId, type: int64}
connections:
  - name: out
    kind: files
    settings: {path: out}
  - name: guarded
    kind: files
    settings: {path: guarded}
    secrets:
      token: {secret: guard-token}
exports:
  - name: contacts
    connection: out
    what: {entity: Contacts}
    fields: [ContactId, {Name: name}, Spend]
    key: ContactId
    batch_size: 1000
    when: manual
)";

class ExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_export_cli_XXXXXX";
    dir_ = mkdtemp(tmpl);
    ws_ = (dir_ / "ws").string();
    ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Setup(int contacts, int version, int batch_size = 1000) {
    WriteFile(dir_ / "contacts.csv", Contacts(contacts, version));
    std::string project = kProject;
    project.replace(project.find("batch_size: 1000"), 16, "batch_size: " + std::to_string(batch_size));
    WriteFile(dir_ / "project.yaml", project);
    auto r = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunCdp("ingest -w " + ws_);
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  // What the destination holds: contacts.csv, then every delta file in run
  // order applied by key (a removed row carries only its key).
  std::map<std::string, std::string> Held() {
    std::map<std::string, std::string> rows;
    auto read = [](const fs::path& p, bool delta, std::map<std::string, std::string>* into) {
      std::istringstream in(ReadFile(p));
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        std::string change = "added";
        if (delta) {
          change = line.substr(0, line.find(','));
          line = line.substr(line.find(',') + 1);
        }
        std::string key = line.substr(0, line.find(','));
        if (change == "removed") {
          into->erase(key);
        } else {
          (*into)[key] = line;
        }
      }
    };
    read(dir_ / "out" / "contacts.csv", false, &rows);
    std::map<long, fs::path> deltas;
    for (const auto& e : fs::directory_iterator(dir_ / "out")) {
      std::string name = e.path().filename().string();
      if (name.rfind("contacts.delta-", 0) == 0) deltas[std::stol(name.substr(15))] = e.path();
    }
    for (const auto& [run, path] : deltas) read(path, true, &rows);
    return rows;
  }
  // What it should hold: the current CSV, as the export formats it.
  std::map<std::string, std::string> Expected(int contacts, int version) {
    std::map<std::string, std::string> rows;
    std::istringstream in(Contacts(contacts, version));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) rows[line.substr(0, line.find(','))] = line;
    return rows;
  }

  fs::path dir_;
  std::string ws_;
};

TEST_F(ExportCliTest, RunListHistoryAndADeltaOfTheChanges) {
  Setup(3000, 0);
  auto first = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("3000 rows (+3000 ~0 -0"), std::string::npos) << first.out;
  EXPECT_EQ(ReadFile(dir_ / "out" / "contacts.csv").substr(0, 33), "ContactId,name,Spend\n0,Name0,0.25");
  EXPECT_EQ(Held(), Expected(3000, 0));

  Setup(3000, 1);
  Json delta = RunJson("export run contacts -w " + ws_);
  EXPECT_EQ(delta["status"], "succeeded") << delta.dump();
  EXPECT_TRUE(delta["delta"].get<bool>());
  EXPECT_EQ(delta["added"], 91);  // 3000..3099 but multiples of 11
  EXPECT_EQ(delta["removed"], 273);  // multiples of 11 below 3000
  EXPECT_GT(delta["changed"].get<int>(), 300);
  EXPECT_EQ(Held(), Expected(3000, 1));

  Json list = RunJson("export list -w " + ws_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "contacts");
  EXPECT_EQ(list[0]["state_rows"], 3000 - 273 + 91);
  EXPECT_EQ(list[0]["last_run"]["id"], delta["id"]);
  Json history = RunJson("export history contacts -w " + ws_);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1]["added"], 3000);
  auto table = RunCdp("export history contacts -w " + ws_);
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("succeeded"), std::string::npos) << table.out;

  auto unknown = RunCdp("export run nope -w " + ws_);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("no export named 'nope' (exports: contacts)"), std::string::npos) << unknown.out;
}

TEST_F(ExportCliTest, SecretsComeFromStdinAndAreNeverShown) {
  Setup(10, 0);
  Json conns = RunJson("connection list -w " + ws_);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[1]["secrets"][0]["is_set"], false);
  auto check = RunCdp("connection check guarded -w " + ws_);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("connection 'guarded', secret 'token'"), std::string::npos) << check.out;
  WriteFile(dir_ / "secret.txt", "hunter2-value\n");
  auto set = RunCdp("secret set guard-token -w " + ws_ + " < " + (dir_ / "secret.txt").string());
  ASSERT_EQ(set.exit_code, 0) << set.out;
  EXPECT_EQ(set.out.find("hunter2"), std::string::npos);
  conns = RunJson("connection list -w " + ws_);
  EXPECT_EQ(conns[1]["secrets"][0]["is_set"], true);
  EXPECT_EQ(conns.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(RunCdp("secret list -w " + ws_).out, "guard-token\n");
  auto config = RunCdp("export-config -w " + ws_);
  EXPECT_EQ(config.exit_code, 0) << config.out;
  EXPECT_EQ(config.out.find("hunter2"), std::string::npos);
  EXPECT_NE(config.out.find("guard-token"), std::string::npos) << config.out;
  Json ok = RunJson("connection check out -w " + ws_);
  EXPECT_EQ(ok["ok"], true) << ok.dump();
}

// A real `kill -9` of `cdp export run` at random points of a delta run: the
// next run leaves the destination holding exactly the current rows.
TEST_F(ExportCliTest, KillNineDuringExportRunLeavesTheDestinationExactAfterTheNextRun) {
  const int n = 60000;
  // Small batches: each is recorded in the catalog as acknowledged, so a run
  // spends most of its time sending, where the kills should land.
  const int batch = 100;
  Setup(n, 0, batch);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(RunCdp("export run contacts -w " + ws_).exit_code, 0);
  // Kill points spread over the length of a run like the ones killed.
  const int run_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  Setup(n, 1, batch);
  std::mt19937 rng(17);
  int killed = 0;
  for (int round = 0; round < 10; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(CdpBin().c_str(), "cdp", "export", "run", "contacts", "-w", ws_.c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms / 3 + static_cast<int>(rng() % (run_ms + 1))));
    if (kill(pid, SIGKILL) == 0) ++killed;
    int status;
    waitpid(pid, &status, 0);
    // The data changes between interrupted attempts, so every round has a
    // large delta to send (and a resumed run sends data older than the current).
    WriteFile(dir_ / "contacts.csv", Contacts(n, round % 2));
    ASSERT_EQ(RunCdp("ingest -w " + ws_).exit_code, 0);
  }
  EXPECT_GT(killed, 0);
  auto last = RunCdp("export run contacts -w " + ws_);
  ASSERT_EQ(last.exit_code, 0) << last.out;
  EXPECT_EQ(Held(), Expected(n, 1));  // the last round wrote version 9 % 2
  // No run is left unfinished: each one killed was resumed or superseded.
  Json history = RunJson("export history contacts --limit 100 -w " + ws_);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["status"], "succeeded");
  int cut = 0;  // runs a kill interrupted (resumed later, superseded, or killed before sending)
  for (const auto& r : history) {
    EXPECT_TRUE(r["status"] == "succeeded" || r["status"] == "superseded" || r["status"] == "interrupted")
        << r.dump();
    if (r["attempt"].get<int>() > 1 || r["status"] != "succeeded") ++cut;
  }
  EXPECT_GT(cut, 0) << history.dump();  // the kills did land inside runs
  std::cerr << "kill -9 rounds: " << killed << " killed, " << cut << " runs cut, " << history.size() << " runs\n";
}

}  // namespace
