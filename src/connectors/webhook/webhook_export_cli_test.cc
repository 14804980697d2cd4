// End to end: the Contoso demo's HighValueOnlineCustomers segment exported
// by `cdp export run` to a WebhookTestReceiver that injects 500s, 429s, late
// answers and dropped connections, with kill -9 of cdp at random points and a
// change of the data in between; after a final run the receiver's
// deduplicated state equals the segment's members and their fields exactly.
// Then a trigger's entered/exited events, delivered after a refresh that
// changes the membership, replay to the new membership.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cli/testing/run_cdp.h"
#include "connectors/webhook/webhook_test_receiver.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace cdp {
namespace {

using testing::CdpBin;
using testing::RunCdp;

constexpr char kSecretEnv[] = "CDP_WEBHOOK_E2E_SECRET";
constexpr char kSecret[] = "e2e-hook-secret";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// Every row of `cdp show ENTITY --json --limit -1`, parsed. (Numbers are
// compared as the doubles they parse to, so the text of either side's
// formatting does not matter.)
std::vector<Json> ShowRows(const std::string& ws, const std::string& entity) {
  auto r = RunCdp("show " + entity + " --json --limit -1 -w " + ws, /*stdout_only=*/true);
  EXPECT_EQ(r.exit_code, 0) << "show " << entity;
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_TRUE(!j.is_discarded() && j.contains("rows")) << r.out.substr(0, 300);
  if (j.is_discarded() || !j.contains("rows")) return {};
  return j["rows"].get<std::vector<Json>>();
}

// Rows equal field by field; doubles within 1e-12 relative, since exports
// write a double near a short decimal as that decimal (437.66 for
// 437.65999999999997, export/export_value.h) and `show --json` the double.
bool SameRow(const std::string& held, const std::string& expected) {
  Json a = Json::parse(held), b = Json::parse(expected);
  if (a.size() != b.size()) return false;
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (!a.contains(it.key())) return false;
    const Json& x = a[it.key()];
    const Json& y = it.value();
    if (x.is_number() && y.is_number()) {
      double dx = x.get<double>(), dy = y.get<double>();
      if (std::fabs(dx - dy) > 1e-12 * std::max(1.0, std::fabs(dy))) return false;
    } else if (x != y) {
      return false;
    }
  }
  return true;
}

// The receiver holds exactly the expected members, each with its fields.
void ExpectHolds(const std::map<std::string, std::string>& held, const std::map<std::string, std::string>& expected) {
  EXPECT_EQ(held.size(), expected.size());
  for (const auto& [id, row] : expected) {
    auto it = held.find(id);
    if (it == held.end()) {
      ADD_FAILURE() << "member " << id << " missing at the receiver";
      continue;
    }
    EXPECT_TRUE(SameRow(it->second, row)) << id << ": held " << it->second << ", expected " << row;
  }
  for (const auto& [id, row] : held) EXPECT_TRUE(expected.count(id)) << "not a member but held: " << row;
}

std::string KeyText(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

class WebhookExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_webhook_e2e_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ws_ = (dir_ / "ws").string();
    setenv(kSecretEnv, kSecret, 1);
  }
  void TearDown() override {
    receiver_.Stop();
    fs::remove_all(dir_);
  }

  // The demo project plus a webhook connection, an export of the segment
  // and a trigger on it; `threshold` is the segment's average web purchase.
  void WriteProject(int threshold, int timeout_ms = 250) {
    std::string yaml = ReadFile(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    const std::string rule = "{field: AverageWebPurchase, op: greater, values: [138]}";
    size_t at = yaml.find(rule);
    ASSERT_NE(at, std::string::npos) << "the demo's HighValueOnlineCustomers rule moved";
    yaml.replace(at, rule.size(),
                 "{field: AverageWebPurchase, op: greater, values: [" + std::to_string(threshold) + "]}");
    yaml += R"(
connections:
  - name: hook
    kind: webhook
    settings:
      url: ")" + receiver_.url() + R"("
      timeout_ms: )" + std::to_string(timeout_ms) + R"(
      max_attempts: 3
      backoff_ms: 5
      max_backoff_ms: 40
      dead_letter: ")" + (dir_ / "dead" / "hook.jsonl").string() + R"("
    secrets:
      hmac_secret: {env: )" + kSecretEnv + R"(}
exports:
  - name: HighValueHook
    connection: hook
    what: {segment: HighValueOnlineCustomers}
    fields: [CustomerId, FirstName, Email, AverageWebPurchase]
    mode: delta
    when: manual
    batch_size: 2
triggers:
  - name: HighValueMoves
    connection: hook
    on: {segment: HighValueOnlineCustomers, events: [entered, exited]}
    fields: [CustomerId, Email]
    batch_size: 7
)";
    WriteFile(dir_ / "project.yaml", yaml);
    auto r = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  // What the export should have left at the receiver: member -> its row as
  // the receiver stores it (compact JSON, keys sorted).
  std::map<std::string, std::string> ExpectedRows() {
    std::set<std::string> members;
    for (const Json& m : ShowRows(ws_, "Segment_HighValueOnlineCustomers")) members.insert(KeyText(m["CustomerId"]));
    std::map<std::string, Json> rows;
    for (const Json& c : ShowRows(ws_, "Customer")) {
      std::string id = KeyText(c["CustomerId"]);
      if (!members.count(id)) continue;
      Json row;
      row["CustomerId"] = c["CustomerId"];
      row["FirstName"] = c.contains("FirstName") ? c["FirstName"] : Json(nullptr);
      row["Email"] = c.contains("Email") ? c["Email"] : Json(nullptr);
      row["AverageWebPurchase"] = nullptr;
      rows[id] = row;
    }
    for (const Json& m : ShowRows(ws_, "Customer_Measure")) {
      auto it = rows.find(KeyText(m["CustomerId"]));
      if (it != rows.end() && m.contains("AverageWebPurchase")) it->second["AverageWebPurchase"] = m["AverageWebPurchase"];
    }
    EXPECT_EQ(rows.size(), members.size());
    std::map<std::string, std::string> out;
    for (const auto& [id, row] : rows) out[id] = row.dump();
    return out;
  }

  std::set<std::string> Members() {
    std::set<std::string> members;
    for (const Json& m : ShowRows(ws_, "Segment_HighValueOnlineCustomers")) members.insert(KeyText(m["CustomerId"]));
    return members;
  }

  // Membership as the trigger's events tell it: entered adds, exited removes.
  std::set<std::string> MembersFromEvents(int* entered, int* exited) {
    std::set<std::string> members;
    *entered = *exited = 0;
    for (const std::string& e : receiver_.Events("HighValueMoves")) {
      Json j = Json::parse(e);
      std::string id = KeyText(j["CustomerId"]);
      std::string event = j["Event"].get<std::string>();
      EXPECT_EQ(j["change"], "added") << e;
      if (event == "entered") {
        EXPECT_TRUE(members.insert(id).second) << "entered twice: " << e;
        ++*entered;
      } else {
        EXPECT_EQ(event, "exited") << e;
        EXPECT_EQ(members.erase(id), 1u) << "exited without entering: " << e;
        ++*exited;
      }
    }
    return members;
  }

  // Drops every third online purchase, which moves customers' average web
  // purchase (and so the segment's membership).
  void ChangeOnlinePurchases() {
    fs::path path;
    for (const auto& e : fs::directory_iterator(dir_ / "sources")) {
      std::string name = e.path().filename().string();
      if (name.find("online") != std::string::npos && name.find("purchase") != std::string::npos) path = e.path();
    }
    ASSERT_FALSE(path.empty()) << "no online purchases file in the demo sources";
    std::istringstream in(ReadFile(path));
    std::string out, line;
    int n = 0;
    while (std::getline(in, line)) {
      if (n++ == 0 || n % 3 != 0) out += line + "\n";
    }
    WriteFile(path, out);
  }

  WebhookTestReceiver receiver_;
  fs::path dir_;
  std::string ws_;
};

TEST_F(WebhookExportCliTest, SegmentReachesTheReceiverExactlyOnceThroughFaultsAndKillNine) {
  WebhookFaults faults;
  faults.share_500 = 0.08;
  faults.share_429 = 0.04;
  faults.share_drop = 0.04;
  faults.share_delay = 0.20;  // late past timeout_ms 250: makes a run last long enough to be killed in
  faults.delay_ms = 600;
  faults.seed = 17;
  ASSERT_TRUE(receiver_.Start(kSecret, faults).ok());
  ASSERT_EQ(RunCdp("demo generate --customers 400 --seed 7 --out " + (dir_ / "sources").string()).exit_code, 0);
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteProject(138);
  auto refresh = RunCdp("run -w " + ws_);  // triggers may fail under faults: a warning of the refresh
  ASSERT_EQ(refresh.exit_code, 0) << refresh.out;
  ASSERT_GT(Members().size(), 20u);

  std::mt19937 rng(17);
  int killed = 0, exited = 0;
  for (int round = 0; round < 8; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(CdpBin().c_str(), "cdp", "export", "run", "HighValueHook", "-w", ws_.c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1500));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++killed;
    if (WIFEXITED(status)) ++exited;  // finished first (succeeded, or failed on a batch out of attempts)
    if (round == 3) {
      // The data changes between interrupted runs.
      ChangeOnlinePurchases();
      auto r = RunCdp("run -w " + ws_);
      ASSERT_EQ(r.exit_code, 0) << r.out;
    }
  }
  EXPECT_GT(killed, 0) << "no run was killed while running";

  // The receiver recovers; the next run resumes what is unfinished and sends the rest.
  receiver_.SetFaults(WebhookFaults{});
  auto last = RunCdp("export run HighValueHook -w " + ws_);
  ASSERT_EQ(last.exit_code, 0) << last.out;
  auto again = RunCdp("export run HighValueHook --json -w " + ws_, /*stdout_only=*/true);
  ASSERT_EQ(again.exit_code, 0) << again.out;

  ExpectHolds(receiver_.State("HighValueHook"), ExpectedRows());

  WebhookReceiverStats st = receiver_.stats();
  EXPECT_EQ(st.bad_signatures, 0);
  EXPECT_TRUE(st.order_violations.empty()) << st.order_violations.front();
  EXPECT_GT(st.faults_500 + st.faults_429 + st.faults_drop + st.faults_delay, 0);
  Json history = Json::parse(RunCdp("export history HighValueHook --limit 100 --json -w " + ws_, true).out, nullptr, false);
  ASSERT_TRUE(history.is_array());
  EXPECT_EQ(history[0]["status"], "succeeded") << history[0].dump();
  std::cout << "kill -9 rounds: " << killed << " killed, " << exited << " finished; receiver: " << st.requests
            << " requests, " << st.accepted_batches << " batches applied, " << st.duplicate_batches
            << " duplicates, faults 500/429/drop/late " << st.faults_500 << "/" << st.faults_429 << "/"
            << st.faults_drop << "/" << st.faults_delay << "; " << history.size() << " runs\n";
}

TEST_F(WebhookExportCliTest, TriggerEventsReplayToTheMembershipAfterARefreshChangesIt) {
  ASSERT_TRUE(receiver_.Start(kSecret).ok());
  ASSERT_EQ(RunCdp("demo generate --customers 300 --seed 11 --out " + (dir_ / "sources").string()).exit_code, 0);
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteProject(138);
  auto first = RunCdp("run -w " + ws_);  // the refresh's exports stage runs the trigger
  ASSERT_EQ(first.exit_code, 0) << first.out;
  std::set<std::string> before = Members();
  ASSERT_GT(before.size(), 10u);
  int entered = 0, exited = 0;
  EXPECT_EQ(MembersFromEvents(&entered, &exited), before);
  EXPECT_EQ(entered, static_cast<int>(before.size()));

  // A higher threshold: members below it leave, none enter.
  WriteProject(170);
  auto second = RunCdp("run -w " + ws_);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  std::set<std::string> after = Members();
  ASSERT_LT(after.size(), before.size());
  EXPECT_EQ(MembersFromEvents(&entered, &exited), after);
  EXPECT_EQ(exited, static_cast<int>(before.size() - after.size()));

  // A refresh that changes nothing sends nothing.
  size_t events = receiver_.Events("HighValueMoves").size();
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);
  EXPECT_EQ(receiver_.Events("HighValueMoves").size(), events);
  EXPECT_EQ(receiver_.stats().bad_signatures, 0);
  EXPECT_TRUE(receiver_.stats().order_violations.empty());
}

// A run that delivered some batches and is then superseded (its export's
// connection changed before it was resumed) must not leave those batches'
// changes behind: here they are members of a larger segment that the data
// no longer has, and the next run must remove them from the receiver.
// Regression: the runner computed the next delta against the last
// successful state, which never saw the superseded run's acknowledged
// batches, so the members they added stayed at the receiver. Now a
// superseded run that had delivered batches makes the next run full.
TEST_F(WebhookExportCliTest, ASupersededRunsDeliveredBatchesAreRepairedByTheNextRun) {
  ASSERT_TRUE(receiver_.Start(kSecret).ok());
  ASSERT_EQ(RunCdp("demo generate --customers 300 --seed 11 --out " + (dir_ / "sources").string()).exit_code, 0);
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteProject(138);
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);
  auto first = RunCdp("export run HighValueHook -w " + ws_);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  std::map<std::string, std::string> expected = ExpectedRows();
  ExpectHolds(receiver_.State("HighValueHook"), expected);
  ASSERT_FALSE(HasFailure());

  // More members; the receiver takes two batches of the delta, then refuses.
  WriteProject(100);
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);
  receiver_.ForceStatusAfterBatches(2, 400);
  auto failed = RunCdp("export run HighValueHook -w " + ws_);
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_NE(failed.out.find("HTTP 400"), std::string::npos) << failed.out;
  ASSERT_GT(receiver_.State("HighValueHook").size(), expected.size());
  EXPECT_GE(receiver_.stats().accepted_batches, 2);

  // Back to the first segment, and a changed connection: the failed run is superseded.
  receiver_.ForceStatusForAll(0);
  WriteProject(138, /*timeout_ms=*/300);
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);
  auto last = RunCdp("export run HighValueHook -w " + ws_);
  ASSERT_EQ(last.exit_code, 0) << last.out;
  ExpectHolds(receiver_.State("HighValueHook"), expected);
  EXPECT_EQ(ExpectedRows(), expected);
}

}  // namespace
}  // namespace cdp
