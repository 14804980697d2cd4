#include "connectors/webhook/webhook_destination.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "connectors/webhook/webhook_test_receiver.h"
#include "storage/test_util.h"

namespace cdp {
namespace {

using testing_util::ScratchDir;

// CustomerId (string key), Spend (double), Orders (int64), Active (bool),
// Name (string), FirstSeen (date).
ExportSchema CustomerSchema() {
  ExportSchema s;
  s.fields = {{"CustomerId", DataType::kString}, {"Spend", DataType::kDouble}, {"Orders", DataType::kInt64},
              {"Active", DataType::kBool},       {"Name", DataType::kString},  {"FirstSeen", DataType::kDate}};
  s.key_field = 0;
  return s;
}

ExportRow CustomerRow(int i, RowChange change = RowChange::kAdded) {
  ExportRow r;
  r.change = change;
  char id[16];
  std::snprintf(id, sizeof(id), "C%06d", i);
  if (change == RowChange::kRemoved) {
    r.values = {std::string(id), std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
    return r;
  }
  r.values = {std::string(id),
              std::to_string(i) + ".25",
              std::to_string(i % 7),
              (i % 2) ? std::optional<std::string>("true") : std::optional<std::string>("false"),
              (i % 5 == 0) ? std::nullopt : std::optional<std::string>("Name \"" + std::to_string(i) + "\"\n"),
              std::string("2024-01-0") + std::to_string(1 + i % 9)};
  return r;
}

// What the receiver should hold for CustomerRow(i): the row as JSON, keys
// sorted, numbers as numbers.
std::string ExpectedJson(int i) {
  ExportRow r = CustomerRow(i);
  nlohmann::json j;
  j["CustomerId"] = *r.values[0];
  j["Spend"] = std::stod(*r.values[1]);
  j["Orders"] = std::stoll(*r.values[2]);
  j["Active"] = *r.values[3] == "true";
  j["Name"] = r.values[4] ? nlohmann::json(*r.values[4]) : nlohmann::json(nullptr);
  j["FirstSeen"] = *r.values[5];
  return j.dump();
}

std::vector<ExportBatch> MakeBatches(const std::string& export_name, int64_t run, int rows, int batch_size) {
  std::vector<ExportBatch> out;
  for (int start = 0; start < rows; start += batch_size) {
    ExportBatch b;
    b.sequence = static_cast<int64_t>(out.size());
    b.idempotency_key = export_name + ":" + std::to_string(run) + ":" + std::to_string(b.sequence);
    for (int i = start; i < std::min(rows, start + batch_size); ++i) b.rows.push_back(CustomerRow(i));
    out.push_back(std::move(b));
  }
  return out;
}

ResolvedConnection Connection(const std::string& url, const std::string& dead_letter = "",
                              const std::string& secret = "") {
  ResolvedConnection c;
  c.name = "hooks";
  c.kind = "webhook";
  c.settings = {{"url", url}, {"timeout_ms", "5000"}, {"max_attempts", "8"}, {"backoff_ms", "1"},
                {"max_backoff_ms", "20"}};
  if (!dead_letter.empty()) c.settings["dead_letter"] = dead_letter;
  if (!secret.empty()) c.secrets["hmac_secret"] = secret;
  return c;
}

ExportRunInfo RunInfo(const std::string& export_name, int64_t run, bool delta = false) {
  ExportRunInfo info;
  info.export_name = export_name;
  info.export_run_id = run;
  info.delta = delta;
  info.target = export_name;
  info.schema = CustomerSchema();
  return info;
}

class WebhookDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterWebhookDestination(registry_).ok()); }

  StatusOr<std::unique_ptr<DestinationSession>> Begin(const ResolvedConnection& c, const ExportRunInfo& info) {
    auto kind = registry_.Find("webhook");
    if (!kind.ok()) return kind.status();
    CDP_RETURN_IF_ERROR((*kind)->validate(c));
    return (*kind)->begin(c, info);
  }

  // Sends rows [0, rows) in batches and commits; the statuses of the writes.
  std::vector<Status> Export(const ResolvedConnection& c, const std::string& export_name, int64_t run, int rows,
                             int batch_size, int64_t* delivered = nullptr) {
    std::vector<Status> out;
    auto session = Begin(c, RunInfo(export_name, run));
    EXPECT_TRUE(session.ok()) << session.status().message();
    if (!session.ok()) return out;
    for (const ExportBatch& b : MakeBatches(export_name, run, rows, batch_size)) out.push_back((*session)->Write(b));
    EXPECT_TRUE((*session)->Commit().ok());
    if (delivered) *delivered = (*session)->rows_delivered();
    return out;
  }

  DestinationRegistry registry_;
  ScratchDir dir_;
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void ExpectExactlyRows(const WebhookTestReceiver& receiver, const std::string& export_name, int rows) {
  auto state = receiver.State(export_name);
  ASSERT_EQ(state.size(), static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "C%06d", i);
    auto it = state.find(id);
    ASSERT_NE(it, state.end()) << id;
    EXPECT_EQ(it->second, ExpectedJson(i)) << id;
  }
}

TEST_F(WebhookDestinationTest, RegistersADurableKindThatTakesNoOptions) {
  auto kind = registry_.Find("webhook");
  ASSERT_TRUE(kind.ok());
  EXPECT_TRUE((*kind)->durable_batches);
  EXPECT_TRUE((*kind)->check != nullptr);
  ResolvedConnection c = Connection("http://127.0.0.1:1/hook");
  EXPECT_TRUE((*kind)->validate_options(c, {}).ok());
  Status s = (*kind)->validate_options(c, {{"format", "csv"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'hooks'"), std::string::npos);
  EXPECT_NE(s.message().find("format"), std::string::npos);
  EXPECT_EQ(RegisterWebhookDestination(registry_).code(), StatusCode::kAlreadyExists);
}

TEST_F(WebhookDestinationTest, SettingsAreValidatedNamingTheConnectionAndKey) {
  ResolvedConnection c = Connection("http://127.0.0.1:1/hook", "", "s3cr3t-value");
  auto ok = ParseWebhookSettings(c);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->timeout_ms, 5000);
  EXPECT_EQ(ok->connect_timeout_ms, 5000);
  EXPECT_EQ(ok->max_attempts, 8);
  EXPECT_EQ(ok->hmac_secret, "s3cr3t-value");

  struct Case {
    std::string key, value, expect;
  };
  for (const Case& k : std::vector<Case>{{"url", "", "url is missing"},
                                         {"url", "ftp://example.com/x", "http://"},
                                         {"url", "example.com/hook", "http://"},
                                         {"timeout_ms", "0", "timeout_ms"},
                                         {"timeout_ms", "10s", "timeout_ms"},
                                         {"max_attempts", "101", "max_attempts"},
                                         {"backoff_ms", "-1", "backoff_ms"},
                                         {"dead_letter", "", "dead_letter"},
                                         {"dead_letter", "dir/", "dead_letter"},
                                         {"colour", "blue", "unknown setting 'colour'"}}) {
    ResolvedConnection bad = c;
    if (k.key == "url" && k.value.empty()) {
      bad.settings.erase("url");
    } else {
      bad.settings[k.key] = k.value;
    }
    Status s = ParseWebhookSettings(bad).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << k.key << "=" << k.value;
    EXPECT_NE(s.message().find("webhook connection 'hooks'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(k.expect), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos) << "a secret in: " << s.message();
  }
  ResolvedConnection bad_secret = c;
  bad_secret.secrets["password"] = "s3cr3t-value";
  Status s = ParseWebhookSettings(bad_secret).status();
  EXPECT_NE(s.message().find("unknown secret 'password'"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("s3cr3t"), std::string::npos);
}

TEST_F(WebhookDestinationTest, SignatureIsHmacSha256OfTheBody) {
  // RFC 4231, test case 2.
  EXPECT_EQ(WebhookSignature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_F(WebhookDestinationTest, BodyCarriesTheRunAndTypedRows) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  ExportRunInfo info = RunInfo("vip", 42, /*delta=*/true);
  info.target = "vip_contacts";
  auto session = Begin(Connection(receiver.url()), info);
  ASSERT_TRUE(session.ok()) << session.status().message();
  ExportBatch b;
  b.sequence = 0;
  b.idempotency_key = "vip:42:0";
  ExportRow added = CustomerRow(5);  // Name null (5 % 5 == 0)
  ExportRow changed = CustomerRow(3, RowChange::kChanged);
  changed.values[1] = "nan";  // not a JSON number: sent as a string
  b.rows = {added, changed, CustomerRow(9, RowChange::kRemoved)};
  ASSERT_TRUE((*session)->Write(b).ok());
  EXPECT_EQ((*session)->rows_delivered(), 3);
  auto events = receiver.Events("vip");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0],
            R"({"Active":true,"CustomerId":"C000005","FirstSeen":"2024-01-06","Name":null,"Orders":5,"Spend":5.25,"change":"added"})");
  EXPECT_EQ(events[1],
            R"({"Active":true,"CustomerId":"C000003","FirstSeen":"2024-01-04","Name":"Name \"3\"\n","Orders":3,"Spend":"nan","change":"changed"})");
  EXPECT_EQ(events[2],
            R"({"Active":null,"CustomerId":"C000009","FirstSeen":null,"Name":null,"Orders":null,"Spend":null,"change":"removed"})");
  auto batches = receiver.batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].export_name, "vip");
  EXPECT_EQ(batches[0].run, 42);
  EXPECT_EQ(batches[0].batch, 0);
  EXPECT_EQ(batches[0].mode, "delta");
  EXPECT_EQ(batches[0].target, "vip_contacts");
}

TEST_F(WebhookDestinationTest, DeltaRowsAreAppliedByKey) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  ResolvedConnection c = Connection(receiver.url());
  ASSERT_EQ(Export(c, "seg", 1, 10, 4).size(), 3u);
  auto session = Begin(c, RunInfo("seg", 2, true));
  ASSERT_TRUE(session.ok());
  ExportBatch b;
  b.sequence = 0;
  b.idempotency_key = "seg:2:0";
  ExportRow changed = CustomerRow(3, RowChange::kChanged);
  changed.values[2] = "99";
  b.rows = {CustomerRow(1, RowChange::kRemoved), changed, CustomerRow(10)};
  ASSERT_TRUE((*session)->Write(b).ok());
  auto state = receiver.State("seg");
  EXPECT_EQ(state.size(), 10u);  // 10 - 1 removed + 1 added
  EXPECT_EQ(state.count("C000001"), 0u);
  EXPECT_NE(state["C000003"].find("\"Orders\":99"), std::string::npos) << state["C000003"];
  EXPECT_EQ(state["C000010"], ExpectedJson(10));
}

TEST_F(WebhookDestinationTest, AFullRunCarriesItsTotalSoAReceiverCanReplaceItsSet) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  ResolvedConnection c = Connection(receiver.url());
  ASSERT_EQ(Export(c, "seg", 1, 100, 30).size(), 4u);  // rows 0..99 (total_rows unset: no replacement)
  ExportRunInfo info = RunInfo("seg", 2);
  info.total_rows = 100;
  auto session = Begin(c, info);
  ASSERT_TRUE(session.ok());
  for (int seq = 0; seq < 4; ++seq) {  // rows 50..149
    ExportBatch b;
    b.sequence = seq;
    b.idempotency_key = "seg:2:" + std::to_string(seq);
    for (int i = 50 + seq * 25; i < 50 + (seq + 1) * 25; ++i) b.rows.push_back(CustomerRow(i));
    ASSERT_TRUE((*session)->Write(b).ok());
    // Run 1's rows 0..49 stay until the run's last row arrives.
    if (seq < 3) {
      EXPECT_EQ(receiver.State("seg").size(), std::vector<size_t>({100, 100, 125})[seq]);
    }
  }
  auto state = receiver.State("seg");
  ASSERT_EQ(state.size(), 100u);
  EXPECT_EQ(state.begin()->first, "C000050");
  EXPECT_EQ(state.rbegin()->first, "C000149");
  EXPECT_EQ(receiver.stats().full_runs_completed, 1);
  EXPECT_EQ(receiver.batches().back().total_rows, 100);
}

// The receiver answers 500s, 429s, late answers and dropped connections to a
// share of the requests; every row must arrive, and after deduplication by
// Idempotency-Key be held exactly once, batches in sequence.
void DeliverUnderFaults(WebhookDestinationTest* t, double share, uint64_t seed,
                        DestinationRegistry& registry) {
  WebhookTestReceiver receiver;
  WebhookFaults faults;
  faults.share_500 = share / 4;
  faults.share_429 = share / 4;
  faults.share_delay = share / 4;
  faults.share_drop = share / 4;
  faults.delay_ms = 2500;  // past the client's timeout_ms of 800
  faults.seed = seed;
  faults.max_faults_per_key = 6;  // well below max_attempts: every batch gets through
  ASSERT_TRUE(receiver.Start("k3y", faults).ok());
  ResolvedConnection c = Connection(receiver.url(), "", "k3y");
  c.settings["timeout_ms"] = "800";
  c.settings["max_attempts"] = "20";
  auto kind = registry.Find("webhook");
  ASSERT_TRUE(kind.ok());
  auto session = (*kind)->begin(c, RunInfo("seg", 7));
  ASSERT_TRUE(session.ok()) << session.status().message();
  const int kRows = 1200;
  for (const ExportBatch& b : MakeBatches("seg", 7, kRows, 20)) {
    Status s = (*session)->Write(b);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  ASSERT_TRUE((*session)->Commit().ok());
  EXPECT_EQ((*session)->rows_delivered(), kRows);
  ExpectExactlyRows(receiver, "seg", kRows);
  WebhookReceiverStats st = receiver.stats();
  EXPECT_EQ(st.accepted_batches, 60);
  EXPECT_EQ(st.rows_applied, kRows);  // exactly once: duplicates were not applied again
  EXPECT_EQ(st.bad_signatures, 0);
  EXPECT_TRUE(st.order_violations.empty()) << st.order_violations.front();
  // Faults of every kind were injected and retried through.
  EXPECT_GT(st.faults_500, 0);
  EXPECT_GT(st.faults_429, 0);
  EXPECT_GT(st.faults_delay, 0);
  EXPECT_GT(st.faults_drop, 0);
  EXPECT_GT(st.requests, 60);
  auto batches = receiver.batches();
  for (size_t i = 0; i < batches.size(); ++i) EXPECT_EQ(batches[i].batch, static_cast<int64_t>(i));
  EXPECT_FALSE((*session)->response_samples().empty());
}

TEST_F(WebhookDestinationTest, DeliversEveryRowExactlyOnceUnderTenPercentFaults) {
  DeliverUnderFaults(this, 0.10, 11, registry_);
}

TEST_F(WebhookDestinationTest, DeliversEveryRowExactlyOnceUnderThirtyPercentFaults) {
  DeliverUnderFaults(this, 0.30, 12, registry_);
}

TEST_F(WebhookDestinationTest, ABatchAppliedButNotAcknowledgedIsSentAgainAndDeduplicated) {
  WebhookTestReceiver receiver;
  WebhookFaults faults;
  faults.share_drop = 1.0;  // every first request dropped ...
  faults.max_faults_per_key = 1;
  faults.seed = 3;
  ASSERT_TRUE(receiver.Start("", faults).ok());
  ResolvedConnection c = Connection(receiver.url());
  for (const Status& s : Export(c, "seg", 1, 200, 10)) ASSERT_TRUE(s.ok()) << s.message();
  WebhookReceiverStats st = receiver.stats();
  EXPECT_EQ(st.faults_drop, 20);
  EXPECT_EQ(st.requests, 40);
  // ... some after the receiver applied the batch: their retry is a duplicate.
  EXPECT_GT(st.duplicate_batches, 0);
  EXPECT_EQ(st.accepted_batches, 20);
  EXPECT_EQ(st.rows_applied, 200);
  ExpectExactlyRows(receiver, "seg", 200);
}

TEST_F(WebhookDestinationTest, NoRetryOnA400AndTheBatchGoesToTheDeadLetterFile) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  std::string dead = dir_.Join("dead/letters.jsonl");
  receiver.ForceStatus("seg:1:1", 400);
  std::vector<Status> results = Export(Connection(receiver.url(), dead), "seg", 1, 30, 10);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(results[1].message().find("webhook connection 'hooks'"), std::string::npos) << results[1].message();
  EXPECT_NE(results[1].message().find("HTTP 400"), std::string::npos) << results[1].message();
  EXPECT_NE(results[1].message().find("after 1 attempt"), std::string::npos) << results[1].message();
  EXPECT_NE(results[1].message().find("seg:1:1"), std::string::npos);
  EXPECT_NE(results[1].message().find(dead), std::string::npos);
  EXPECT_EQ(receiver.Attempts("seg:1:1"), 1);

  auto lines = ReadLines(dead);
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["idempotency_key"], "seg:1:1");
  EXPECT_EQ(j["connection"], "hooks");
  EXPECT_EQ(j["export"], "seg");
  EXPECT_EQ(j["batch"], 1);
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_NE(j["error"].get<std::string>().find("HTTP 400"), std::string::npos);
  ASSERT_EQ(j["body"]["rows"].size(), 10u);
  EXPECT_EQ(j["body"]["rows"][0]["CustomerId"], "C000010");
}

TEST_F(WebhookDestinationTest, RetriesA5xxUpToMaxAttemptsThenDeadLetters) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  std::string dead = dir_.Join("dead.jsonl");
  receiver.ForceStatus("seg:1:0", 503);
  int64_t delivered = 0;
  std::vector<Status> results = Export(Connection(receiver.url(), dead), "seg", 1, 20, 10, &delivered);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(results[0].message().find("after 8 attempts"), std::string::npos) << results[0].message();
  EXPECT_NE(results[0].message().find("HTTP 503"), std::string::npos);
  EXPECT_EQ(receiver.Attempts("seg:1:0"), 8);
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(delivered, 10);
  EXPECT_EQ(ReadLines(dead).size(), 1u);

  // A second failure appends a second line.
  receiver.ForceStatus("seg:2:0", 500);
  Export(Connection(receiver.url(), dead), "seg", 2, 5, 10);
  auto lines = ReadLines(dead);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[1])["idempotency_key"], "seg:2:0");
}

TEST_F(WebhookDestinationTest, A429IsRetriedAfterRetryAfterUnlessItIsLong) {
  WebhookTestReceiver receiver;
  WebhookFaults faults;
  faults.share_429 = 1.0;
  faults.max_faults_per_key = 2;
  faults.retry_after = "0";
  ASSERT_TRUE(receiver.Start("", faults).ok());
  for (const Status& s : Export(Connection(receiver.url()), "seg", 1, 10, 10)) ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(receiver.Attempts("seg:1:0"), 3);

  faults.retry_after = "3600";
  faults.max_faults_per_key = -1;
  receiver.SetFaults(faults);
  std::vector<Status> results = Export(Connection(receiver.url()), "seg", 2, 10, 10);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok());
  EXPECT_NE(results[0].message().find("HTTP 429"), std::string::npos) << results[0].message();
  EXPECT_NE(results[0].message().find("Retry-After 3600 s"), std::string::npos) << results[0].message();
  EXPECT_EQ(receiver.Attempts("seg:2:0"), 1);
}

TEST_F(WebhookDestinationTest, AWrongOrMissingSignatureIsRefusedAndNotRetried) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start("right-secret").ok());
  std::vector<Status> wrong = Export(Connection(receiver.url(), "", "wrong-secret"), "seg", 1, 10, 10);
  ASSERT_EQ(wrong.size(), 1u);
  EXPECT_EQ(wrong[0].code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong[0].message().find("HTTP 401"), std::string::npos) << wrong[0].message();
  EXPECT_EQ(wrong[0].message().find("wrong-secret"), std::string::npos);
  std::vector<Status> unsigned_ = Export(Connection(receiver.url()), "seg", 2, 10, 10);
  ASSERT_EQ(unsigned_.size(), 1u);
  EXPECT_FALSE(unsigned_[0].ok());
  EXPECT_EQ(receiver.stats().bad_signatures, 2);
  EXPECT_EQ(receiver.stats().accepted_batches, 0);

  std::vector<Status> right = Export(Connection(receiver.url(), "", "right-secret"), "seg", 3, 10, 10);
  ASSERT_EQ(right.size(), 1u);
  EXPECT_TRUE(right[0].ok()) << right[0].message();
  EXPECT_EQ(receiver.stats().accepted_batches, 1);
}

TEST_F(WebhookDestinationTest, AnUnreachableReceiverFailsAfterRetriesNamingTheConnection) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  std::string url = receiver.url();
  receiver.Stop();
  ResolvedConnection c = Connection(url, dir_.Join("dl.jsonl"));
  c.settings["max_attempts"] = "3";
  std::vector<Status> results = Export(c, "seg", 1, 5, 10);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(results[0].message().find("'hooks'"), std::string::npos);
  EXPECT_NE(results[0].message().find("after 3 attempts"), std::string::npos) << results[0].message();
  EXPECT_NE(results[0].message().find("connect failed"), std::string::npos) << results[0].message();
  EXPECT_EQ(ReadLines(dir_.Join("dl.jsonl")).size(), 1u);

  auto kind = registry_.Find("webhook");
  Status check = (*kind)->check(c);
  EXPECT_EQ(check.code(), StatusCode::kUnavailable);
  EXPECT_NE(check.message().find("'hooks'"), std::string::npos);
}

TEST_F(WebhookDestinationTest, CheckReachesAListeningReceiverWithoutSendingData) {
  WebhookTestReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  auto kind = registry_.Find("webhook");
  Status s = (*kind)->check(Connection(receiver.url()));
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(receiver.stats().accepted_batches, 0);
  EXPECT_EQ(receiver.stats().requests, 1);
}

TEST_F(WebhookDestinationTest, AFieldNamedChangeIsRefusedAtBegin) {
  ExportRunInfo info = RunInfo("seg", 1);
  info.schema.fields.push_back({"change", DataType::kString});
  auto session = Begin(Connection("http://127.0.0.1:1/hook"), info);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("'change'"), std::string::npos);
}

TEST(WebhookRetryAfterTest, ParsesSecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfterMs("2", 0), 2000);
  EXPECT_EQ(ParseRetryAfterMs(" 0 ", 0), 0);
  EXPECT_EQ(ParseRetryAfterMs("", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("soon", 0), -1);
  EXPECT_EQ(ParseRetryAfterMs("-3", 0), -1);
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480.
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

TEST(WebhookReceiverTest, FaultsDependOnlyOnTheSeedAndKey) {
  auto run = [](uint64_t seed) {
    WebhookTestReceiver receiver;
    WebhookFaults f;
    f.share_500 = 0.3;
    f.share_429 = 0.2;
    f.seed = seed;
    f.max_faults_per_key = 3;
    EXPECT_TRUE(receiver.Start("", f).ok());
    DestinationRegistry registry;
    EXPECT_TRUE(RegisterWebhookDestination(registry).ok());
    auto session = (*registry.Find("webhook"))->begin(Connection(receiver.url()), RunInfo("seg", 1));
    for (const ExportBatch& b : MakeBatches("seg", 1, 100, 5)) EXPECT_TRUE((*session)->Write(b).ok());
    WebhookReceiverStats st = receiver.stats();
    return std::vector<int64_t>{st.requests, st.faults_500, st.faults_429};
  };
  std::vector<int64_t> a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a, b);
  EXPECT_GT(a[1] + a[2], 0);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace cdp
