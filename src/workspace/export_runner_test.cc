#include "workspace/export_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "segment/segment_definition.h"
#include "workspace/activity_runner.h"
#include "workspace/definitions.h"
#include "workspace/refresh_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// A test double of a destination: an in-memory table per target. Kind
// "fake" is transactional (a run's batches apply at Commit, all or
// nothing); kind "fake_durable" applies each batch when written and drops a
// batch whose idempotency key it already holds (a deduplicating receiver).
struct FakeStore {
  std::mutex mu;
  std::map<std::string, std::map<std::string, std::vector<std::optional<std::string>>>> tables;  // target -> key -> row
  std::vector<std::string> batch_keys;  // idempotency keys of the batches written, in order
  std::set<std::string> applied_keys;   // durable: batches applied
  std::vector<ExportRunInfo> begins;
  std::vector<ExportRow> events;        // every row of every batch applied, in order
  int fail_commits = 0;                 // the next n commits fail

  void Reset() {
    std::lock_guard<std::mutex> l(mu);
    tables.clear();
    batch_keys.clear();
    applied_keys.clear();
    begins.clear();
    events.clear();
    fail_commits = 0;
  }
  static FakeStore& Get() {
    static FakeStore* s = new FakeStore();
    return *s;
  }
};

void Apply(std::map<std::string, std::vector<std::optional<std::string>>>& table, const ExportRunInfo& info,
           const ExportRow& row) {
  const std::string key = *row.values[info.schema.key_field];
  if (row.change == RowChange::kRemoved) {
    table.erase(key);
  } else {
    table[key] = row.values;
  }
}

class FakeSession : public DestinationSession {
 public:
  FakeSession(ExportRunInfo info, bool durable) : info_(std::move(info)), durable_(durable) {}
  Status Write(const ExportBatch& batch) override {
    FakeStore& s = FakeStore::Get();
    std::lock_guard<std::mutex> l(s.mu);
    s.batch_keys.push_back(batch.idempotency_key);
    delivered_ += static_cast<int64_t>(batch.rows.size());
    if (durable_) {
      if (!s.applied_keys.insert(batch.idempotency_key).second) return Status::Ok();
      auto& table = s.tables[info_.target];
      if (!info_.delta && batch.sequence == 0) table.clear();
      for (const auto& row : batch.rows) {
        Apply(table, info_, row);
        s.events.push_back(row);
      }
    } else {
      staged_.push_back(batch);
    }
    return Status::Ok();
  }
  Status Commit() override {
    FakeStore& s = FakeStore::Get();
    std::lock_guard<std::mutex> l(s.mu);
    if (s.fail_commits > 0) {
      --s.fail_commits;
      return UnavailableError("fake: commit refused (injected)");
    }
    if (durable_) return Status::Ok();
    auto& table = s.tables[info_.target];
    if (!info_.delta) table.clear();
    for (const auto& b : staged_) {
      for (const auto& row : b.rows) {
        Apply(table, info_, row);
        s.events.push_back(row);
      }
    }
    return Status::Ok();
  }
  void Abort() override { staged_.clear(); }
  int64_t rows_delivered() const override { return delivered_; }
  std::vector<std::string> response_samples() const override { return {"200 OK"}; }

 private:
  ExportRunInfo info_;
  bool durable_;
  std::vector<ExportBatch> staged_;
  int64_t delivered_ = 0;
};

DestinationKind FakeKind(const std::string& name, bool durable) {
  DestinationKind k;
  k.kind = name;
  k.durable_batches = durable;
  k.validate = [](const ResolvedConnection& c) -> Status {
    for (const auto& [key, v] : c.settings) {
      if (key != "label") return InvalidArgumentError("connection '" + c.name + "': unknown setting '" + key + "'");
    }
    return Status::Ok();
  };
  k.validate_options = [](const ResolvedConnection& c, const std::map<std::string, std::string>& options) -> Status {
    for (const auto& [key, v] : options) {
      if (key != "note") return InvalidArgumentError("unknown option '" + key + "' (allowed: note)");
    }
    return Status::Ok();
  };
  k.begin = [durable](const ResolvedConnection& c, const ExportRunInfo& info)
      -> StatusOr<std::unique_ptr<DestinationSession>> {
    {
      FakeStore& s = FakeStore::Get();
      std::lock_guard<std::mutex> l(s.mu);
      s.begins.push_back(info);
    }
    if (c.Secret("token") == "wrong") return PermissionDeniedError("fake: token refused");
    return std::unique_ptr<DestinationSession>(new FakeSession(info, durable));
  };
  k.check = [](const ResolvedConnection& c) -> Status {
    if (c.Secret("token") == "wrong") return PermissionDeniedError("fake: token refused");
    return Status::Ok();
  };
  return k;
}

void RegisterFakes() {
  static bool done = [] {
    (void)DestinationRegistry::Global().Register(FakeKind("fake", false));
    (void)DestinationRegistry::Global().Register(FakeKind("fake_durable", true));
    return true;
  }();
  (void)done;
}

// The Contoso demo (200 people) refreshed once, and connections to the fakes.
class ExportRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterFakes();
    FakeStore::Get().Reset();
    char tmpl[] = "/tmp/cdp_exports_XXXXXX";
    dir_ = mkdtemp(tmpl);
    DemoOptions demo;
    demo.customers = 200;
    demo.seed = 7;
    demo.out_dir = (dir_ / "sources").string();
    DemoSummary summary;
    ASSERT_TRUE(GenerateContosoDemo(demo, &summary).ok());
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto project = ParseProjectYaml(yaml, "project.yaml", dir_.string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    project->connections.clear();
    project->exports.clear();
    project->triggers.clear();
    project->consent = ConsentConfig();
    project->connections.push_back({"tx", "fake", {}, {}});
    project->connections.push_back({"durable", "fake_durable", {}, {}});
    project_ = *project;
    DefinitionOptions o;
    o.run_date = kDefaultDemoToday;
    o.threads = 2;
    auto applied = ApplyProject(*ws_, project_, o);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    ASSERT_TRUE(Refresh().ok());
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
    unsetenv("CDP_TEST_FAKE_TOKEN");
  }

  StatusOr<RefreshResult> Refresh() {
    RefreshOptions o;
    o.threads = 2;
    o.run_date = kDefaultDemoToday;
    auto r = RunRefresh(*ws_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_TRUE(r->ok()) << r->error;
    }
    return r;
  }

  // Adds (or replaces) definitions in the applied project.
  void Change(const std::function<void(ProjectConfig&)>& edit) {
    Status s = ChangeProject(*ws_, [&](ProjectConfig& p) -> Status {
      edit(p);
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static ExportConfig SegmentExport(const std::string& name, const std::string& connection, const std::string& segment) {
    ExportConfig e;
    e.name = name;
    e.connection = connection;
    e.segment = segment;
    e.fields = {{"CustomerId", "contact_id"}, {"FirstName", ""}, {"State", ""}, {"AverageWebPurchase", "avg_web"}};
    e.when = "manual";
    e.batch_size = 7;
    return e;
  }

  // The segment's members now (sorted CustomerIds as text).
  std::set<std::string> Members(const std::string& segment) {
    std::set<std::string> out;
    auto snap = ws_->data().Current();
    EXPECT_TRUE(snap.ok());
    auto t = LoadEntity(*ws_, *snap, SegmentEntityName(segment));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!t.ok()) return out;
    for (size_t i = 0; i < (*t)->num_rows(); ++i) out.insert(std::to_string((*t)->column(0).Int64At(i)));
    return out;
  }
  static std::set<std::string> Held(const std::string& target) {
    std::set<std::string> out;
    for (const auto& [k, v] : FakeStore::Get().tables[target]) out.insert(k);
    return out;
  }
  // Re-saves the lab's high-value segment with another threshold (members change).
  void SetHighValueThreshold(double above) {
    DefinitionOptions o;
    o.run_date = kDefaultDemoToday;
    o.threads = 2;
    auto saved = SaveSegmentDefinition(*ws_,
                                       MakeQuickSegment("HighValueOnlineCustomers", std::string(kCustomerMeasureEntity),
                                                        "AverageWebPurchase", ConditionOp::kGreater, {above}),
                                       SegmentSaveMode::kUpdate, o);
    ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  }

  fs::path dir_;
  ProjectConfig project_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(ExportRunnerTest, FirstRunReplacesThenDeltaSendsOnlyTheChanges) {
  Change([](ProjectConfig& p) { p.exports.push_back(SegmentExport("hv", "tx", "HighValueOnlineCustomers")); });
  auto first = RunExport(*ws_, "hv");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, "succeeded") << first->error;
  EXPECT_FALSE(first->delta);  // no state yet: the whole set
  std::set<std::string> before = Members("HighValueOnlineCustomers");
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(first->rows_total, static_cast<int64_t>(before.size()));
  EXPECT_EQ(first->added, first->rows_total);
  EXPECT_EQ(Held("hv"), before);
  ASSERT_EQ(FakeStore::Get().begins.size(), 1u);
  const ExportRunInfo& begun = FakeStore::Get().begins[0];
  ASSERT_EQ(begun.schema.fields.size(), 4u);
  EXPECT_EQ(begun.schema.fields[0].name, "contact_id");
  EXPECT_EQ(begun.schema.fields[0].type, DataType::kInt64);
  EXPECT_EQ(begun.schema.fields[3].name, "avg_web");
  EXPECT_EQ(begun.schema.key_field, 0u);
  EXPECT_EQ(begun.target, "hv");
  // Batches of 7 in key order, keys "<export>:<run>:<seq>".
  const auto& keys = FakeStore::Get().batch_keys;
  ASSERT_EQ(static_cast<int64_t>(keys.size()), (first->rows_total + 6) / 7);
  EXPECT_EQ(keys[0], "hv:" + std::to_string(first->id) + ":0");
  int64_t previous = -1;
  for (const auto& row : FakeStore::Get().events) {
    int64_t id = std::stoll(*row.values[0]);
    EXPECT_LT(previous, id);
    previous = id;
  }

  // Nothing changed: nothing is sent.
  auto same = RunExport(*ws_, "hv");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->status, "succeeded");
  EXPECT_EQ(same->rows_total, 0);
  EXPECT_EQ(same->unchanged, static_cast<int64_t>(before.size()));
  EXPECT_EQ(FakeStore::Get().begins.size(), 1u);

  // A lower threshold: more members; a delta of the added ones only.
  SetHighValueThreshold(100);
  std::set<std::string> after = Members("HighValueOnlineCustomers");
  ASSERT_GT(after.size(), before.size());
  auto delta = RunExport(*ws_, "hv");
  ASSERT_TRUE(delta.ok()) << delta.status().ToString();
  EXPECT_EQ(delta->status, "succeeded") << delta->error;
  EXPECT_TRUE(delta->delta);
  EXPECT_EQ(delta->added, static_cast<int64_t>(after.size() - before.size()));
  EXPECT_EQ(delta->removed, 0);
  EXPECT_EQ(delta->changed, 0);
  EXPECT_EQ(delta->rows_total, delta->added);
  EXPECT_EQ(Held("hv"), after);

  // Back: the same rows leave, as removals.
  SetHighValueThreshold(138);
  auto back = RunExport(*ws_, "hv");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->removed, static_cast<int64_t>(after.size() - before.size()));
  EXPECT_EQ(back->added, 0);
  EXPECT_EQ(Held("hv"), before);

  // Another field: every row changed.
  Change([](ProjectConfig& p) { p.exports[0].fields.push_back({"LastName", ""}); });
  auto changed = RunExport(*ws_, "hv");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->changed, static_cast<int64_t>(before.size()));
  EXPECT_EQ(Held("hv"), before);

  // --full resends every row and the destination replaces what it holds.
  ExportRunOptions full;
  full.full = true;
  auto whole = RunExport(*ws_, "hv", full);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->delta);
  EXPECT_EQ(whole->rows_total, static_cast<int64_t>(before.size()));

  auto history = ExportHistory(*ws_, "hv", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 6u);
  EXPECT_EQ((*history)[0].id, whole->id);  // newest first
  EXPECT_EQ((*history)[5].response_samples, std::vector<std::string>{"200 OK"});
  auto info = GetExport(*ws_, "hv");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state_rows, static_cast<int64_t>(before.size()));
  ASSERT_TRUE(info->last_run.has_value());
  EXPECT_EQ(info->last_run->id, whole->id);
  EXPECT_EQ(ToJson(*info)["last_run"]["status"], "succeeded");
}

TEST_F(ExportRunnerTest, AFailedRunIsResumedWithTheSameBatchesAndLeavesTheDestinationExact) {
  Change([](ProjectConfig& p) { p.exports.push_back(SegmentExport("hv", "tx", "HighValueOnlineCustomers")); });
  ASSERT_EQ(RunExport(*ws_, "hv")->status, "succeeded");
  SetHighValueThreshold(90);
  std::set<std::string> want = Members("HighValueOnlineCustomers");
  FakeStore::Get().batch_keys.clear();
  ExportRunOptions failing;
  failing.before_batch = [](int64_t seq) { return seq == 1 ? UnavailableError("injected: connection reset") : Status::Ok(); };
  auto failed = RunExport(*ws_, "hv", failing);
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->status, "failed");
  EXPECT_NE(failed->error.find("injected: connection reset"), std::string::npos) << failed->error;
  EXPECT_EQ(failed->failures, 1);
  EXPECT_NE(Held("hv"), want);  // nothing committed
  std::vector<std::string> first_keys = FakeStore::Get().batch_keys;
  ASSERT_EQ(first_keys.size(), 1u);

  // The data moves on before the retry: the resumed run sends its own rows,
  // then a new run catches up.
  SetHighValueThreshold(80);
  want = Members("HighValueOnlineCustomers");
  FakeStore::Get().batch_keys.clear();
  auto resumed = RunExport(*ws_, "hv");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->status, "succeeded") << resumed->error;
  ASSERT_TRUE(resumed->resumed_run.has_value());
  EXPECT_EQ(*resumed->resumed_run, failed->id);
  EXPECT_EQ(FakeStore::Get().batch_keys[0], first_keys[0]);  // the same idempotency keys
  EXPECT_EQ(Held("hv"), want);
  auto history = ExportHistory(*ws_, "hv", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].id, failed->id);
  EXPECT_EQ((*history)[1].status, "succeeded");
  EXPECT_EQ((*history)[1].attempt, 2);
  EXPECT_EQ((*history)[1].failures, 1);
}

TEST_F(ExportRunnerTest, ADurableKindSkipsAcknowledgedBatchesWhenResumed) {
  Change([](ProjectConfig& p) { p.exports.push_back(SegmentExport("hv", "durable", "HighValueOnlineCustomers")); });
  ExportRunOptions failing;
  failing.before_batch = [](int64_t seq) { return seq == 2 ? UnavailableError("injected") : Status::Ok(); };
  auto failed = RunExport(*ws_, "hv", failing);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->status, "failed");
  EXPECT_EQ(failed->batches_acknowledged, 2);
  auto resumed = RunExport(*ws_, "hv");
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status, "succeeded") << resumed->error;
  ASSERT_GE(FakeStore::Get().begins.size(), 2u);
  EXPECT_EQ(FakeStore::Get().begins[1].resume_from_batch, 2);
  EXPECT_EQ(FakeStore::Get().begins[1].attempt, 2);
  // Every batch was written exactly once.
  const auto& keys = FakeStore::Get().batch_keys;
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
  EXPECT_EQ(Held("hv"), Members("HighValueOnlineCustomers"));
}

TEST_F(ExportRunnerTest, AFailedCommitKeepsTheStateAndTheRetryIsExact) {
  Change([](ProjectConfig& p) { p.exports.push_back(SegmentExport("hv", "tx", "HighValueOnlineCustomers")); });
  FakeStore::Get().fail_commits = 1;
  auto failed = RunExport(*ws_, "hv");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, "failed");
  EXPECT_NE(failed->error.find("commit refused"), std::string::npos);
  auto info = GetExport(*ws_, "hv");
  EXPECT_EQ(info->state_rows, -1);  // no successful run yet
  auto again = RunExport(*ws_, "hv");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, "succeeded");
  EXPECT_EQ(Held("hv"), Members("HighValueOnlineCustomers"));
}

TEST_F(ExportRunnerTest, ConsentLeavesOutMembersWithoutGrantedConsentAndCountsThem) {
  std::set<std::string> members = Members("CustomersFromCalifornia");
  ASSERT_GE(members.size(), 4u);
  std::vector<std::string> ids(members.begin(), members.end());
  // ids[0]: granted; ids[1]: granted then revoked; ids[2]: revoked then granted; ids[3]: another purpose.
  {
    std::ofstream out(dir_ / "consents.csv");
    out << "CustomerId,Purpose,Status,UpdatedAt,Source\n";
    out << ids[0] << ",email_marketing,Granted,2026-01-01,web\n";
    out << ids[1] << ",email_marketing,granted,2026-01-01,web\n";
    out << ids[1] << ",email_marketing,revoked,2026-02-01,call\n";
    out << ids[2] << ",email_marketing,granted,2026-03-01,web\n";
    out << ids[2] << ",email_marketing,revoked,2026-01-15,web\n";
    out << ids[3] << ",sms,granted,2026-01-01,web\n";
  }
  Change([](ProjectConfig& p) {
    SourceConfig s;
    s.name = "Consents";
    s.path = "consents.csv";
    s.fields = {{"CustomerId", "", DataType::kInt64, "", "", ""}, {"UpdatedAt", "", DataType::kDate, "", "", ""}};
    p.sources.push_back(s);
    p.consent.entity = "Consents";
    p.consent.customer_field = "CustomerId";
    p.consent.purpose_field = "Purpose";
    p.consent.status_field = "Status";
    p.consent.date_field = "UpdatedAt";
    p.consent.source_field = "Source";
    ExportConfig e = SegmentExport("ca", "tx", "CustomersFromCalifornia");
    e.purpose = "email_marketing";
    p.exports.push_back(e);
  });
  ASSERT_TRUE(Refresh().ok());
  auto r = RunExport(*ws_, "ca");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, "succeeded") << r->error;
  EXPECT_EQ(Held("ca"), (std::set<std::string>{ids[0], ids[2]}));
  EXPECT_EQ(r->excluded_no_consent, static_cast<int64_t>(members.size()) - 2);
  EXPECT_EQ(ToJson(*r)["excluded_no_consent"], r->excluded_no_consent);
}

TEST_F(ExportRunnerTest, SegmentTriggerSendsEnteredAndExitedEventsInCustomerOrder) {
  Change([](ProjectConfig& p) {
    TriggerConfig t;
    t.name = "hv_events";
    t.connection = "durable";
    t.segment = "HighValueOnlineCustomers";
    t.events = {"entered", "exited"};
    t.fields = {{"Email", "email"}};
    p.triggers.push_back(t);
  });
  std::set<std::string> before = Members("HighValueOnlineCustomers");
  auto first = RunTrigger(*ws_, "hv_events");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, "succeeded") << first->error;
  EXPECT_EQ(first->added, static_cast<int64_t>(before.size()));
  EXPECT_EQ(first->export_name, "hv_events");
  EXPECT_EQ(first->kind, "trigger");
  ASSERT_EQ(FakeStore::Get().begins.size(), 1u);
  const ExportSchema& schema = FakeStore::Get().begins[0].schema;
  ASSERT_EQ(schema.fields.size(), 3u);
  EXPECT_EQ(schema.fields[0].name, "CustomerId");
  EXPECT_EQ(schema.fields[1].name, "Event");
  EXPECT_EQ(schema.fields[2].name, "email");
  for (const auto& row : FakeStore::Get().events) EXPECT_EQ(*row.values[1], "entered");

  SetHighValueThreshold(100);  // some enter
  std::set<std::string> grown = Members("HighValueOnlineCustomers");
  SetHighValueThreshold(150);  // then some of the first leave
  std::set<std::string> after = Members("HighValueOnlineCustomers");
  FakeStore::Get().events.clear();
  auto second = RunTrigger(*ws_, "hv_events");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, "succeeded") << second->error;
  std::set<std::string> entered, exited;
  int64_t previous = -1;
  for (const auto& row : FakeStore::Get().events) {
    (*row.values[1] == "entered" ? entered : exited).insert(*row.values[0]);
    int64_t id = std::stoll(*row.values[0]);
    EXPECT_LT(previous, id);  // ordered per customer
    previous = id;
  }
  std::set<std::string> want_entered, want_exited;
  for (const auto& k : after) {
    if (!before.count(k)) want_entered.insert(k);
  }
  for (const auto& k : before) {
    if (!after.count(k)) want_exited.insert(k);
  }
  EXPECT_EQ(entered, want_entered);
  EXPECT_EQ(exited, want_exited);
  ASSERT_FALSE(want_exited.empty());
  auto triggers = ListTriggers(*ws_);
  ASSERT_TRUE(triggers.ok());
  ASSERT_EQ(triggers->size(), 1u);
  EXPECT_EQ((*triggers)[0].last_run->id, second->id);
  auto history = ExportHistory(*ws_, "hv_events", 5);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
}

TEST_F(ExportRunnerTest, MeasureTriggerSendsCrossings) {
  Change([](ProjectConfig& p) {
    TriggerConfig t;
    t.name = "big";
    t.connection = "tx";
    t.measure = "AverageWebPurchase";
    t.above = 138;
    t.events = {"crossed_above", "crossed_below"};
    p.triggers.push_back(t);
  });
  auto r = RunTrigger(*ws_, "big");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, "succeeded") << r->error;
  // The lab's high-value segment is the same condition.
  EXPECT_EQ(Held("big"), Members("HighValueOnlineCustomers"));
  for (const auto& row : FakeStore::Get().events) EXPECT_EQ(*row.values[1], "crossed_above");
}

TEST_F(ExportRunnerTest, SecretsAreResolvedByReferenceAndNeverListed) {
  Change([](ProjectConfig& p) {
    p.connections.push_back({"env_conn", "fake", {{"label", "x"}}, {{"token", SecretRef{"CDP_TEST_FAKE_TOKEN", ""}}}});
    p.connections.push_back({"store_conn", "fake", {}, {{"token", SecretRef{"", "fake-token"}}}});
    p.exports.push_back(SegmentExport("via_env", "env_conn", "CustomersFromCalifornia"));
  });
  auto missing = RunExport(*ws_, "via_env");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, "failed");
  EXPECT_NE(missing->error.find("connection 'env_conn', secret 'token'"), std::string::npos) << missing->error;
  EXPECT_NE(missing->error.find("CDP_TEST_FAKE_TOKEN"), std::string::npos) << missing->error;

  auto check = CheckConnection(*ws_, "store_conn");
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->ok);
  EXPECT_NE(check->message.find("cdp secret set fake-token"), std::string::npos) << check->message;
  ASSERT_TRUE(SetSecret(*ws_, "fake-token", "wrong").ok());
  check = CheckConnection(*ws_, "store_conn");
  EXPECT_FALSE(check->ok);
  EXPECT_NE(check->message.find("token refused"), std::string::npos);
  ASSERT_TRUE(SetSecret(*ws_, "fake-token", "s3cr3t-value").ok());
  check = CheckConnection(*ws_, "store_conn");
  EXPECT_TRUE(check->ok) << check->message;
  EXPECT_EQ(CheckConnection(*ws_, "nope").status().code(), StatusCode::kNotFound);

  setenv("CDP_TEST_FAKE_TOKEN", "env-s3cr3t", 1);
  auto ok = RunExport(*ws_, "via_env");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, "succeeded") << ok->error;

  auto list = ListConnections(*ws_);
  ASSERT_TRUE(list.ok());
  std::string dumped;
  for (const auto& c : *list) dumped += ToJson(c).dump();
  EXPECT_EQ(dumped.find("s3cr3t"), std::string::npos);
  EXPECT_NE(dumped.find("\"is_set\":true"), std::string::npos) << dumped;
  EXPECT_EQ(*ListSecretNames(*ws_), std::vector<std::string>{"fake-token"});
  auto exported = ExportProject(*ws_);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(EmitProjectYaml(*exported).find("s3cr3t"), std::string::npos);
  EXPECT_EQ(SetSecret(*ws_, "x", "").code(), StatusCode::kInvalidArgument);
}

TEST_F(ExportRunnerTest, PutExportValidatesReferencesNamingTheExportAndField) {
  ExportConfig e = SegmentExport("new_one", "tx", "CustomersFromCalifornia");
  ASSERT_TRUE(PutExport(*ws_, e, DefinitionWrite::kCreate).ok());
  EXPECT_EQ(PutExport(*ws_, e, DefinitionWrite::kCreate).code(), StatusCode::kAlreadyExists);
  ExportConfig bad = e;
  bad.fields.push_back({"ShoeSize", ""});
  Status s = PutExport(*ws_, bad, DefinitionWrite::kUpdate);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("export 'new_one', fields: 'ShoeSize' is not a field of Customer"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("FirstName"), std::string::npos) << s.ToString();  // lists what exists
  bad = e;
  bad.segment = "Nobody";
  s = PutExport(*ws_, bad, DefinitionWrite::kUpdate);
  EXPECT_NE(s.message().find("what.segment: 'Nobody' is not a segment"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("CustomersFromCalifornia"), std::string::npos) << s.ToString();
  bad = e;
  bad.connection = "nowhere";
  s = PutExport(*ws_, bad, DefinitionWrite::kUpdate);
  EXPECT_NE(s.message().find("'nowhere' is not a declared connection"), std::string::npos) << s.ToString();
  bad = e;
  bad.options = {{"colour", "red"}};
  s = PutExport(*ws_, bad, DefinitionWrite::kUpdate);
  EXPECT_NE(s.message().find("export 'new_one', options: unknown option 'colour'"), std::string::npos) << s.ToString();
  bad = e;
  bad.purpose = "email";
  s = PutExport(*ws_, bad, DefinitionWrite::kUpdate);
  EXPECT_NE(s.message().find("needs a 'consent:' section"), std::string::npos) << s.ToString();
  // A failed change leaves the definition as it was.
  auto got = GetExport(*ws_, "new_one");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->definition, e);
  ASSERT_TRUE(DeleteExport(*ws_, "new_one").ok());
  EXPECT_EQ(GetExport(*ws_, "new_one").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(DeleteExport(*ws_, "new_one").code(), StatusCode::kNotFound);
  EXPECT_EQ(RunExport(*ws_, "new_one").status().code(), StatusCode::kNotFound);
}

TEST_F(ExportRunnerTest, ApplyRefusesAnExportOfAnUnknownSegmentOrKind) {
  ProjectConfig p = project_;
  p.exports.push_back(SegmentExport("lost", "tx", "NoSuchSegment"));
  DefinitionOptions o;
  o.run_date = kDefaultDemoToday;
  auto applied = ApplyProject(*ws_, p, o);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(applied.status().message().find("export 'lost', what.segment: 'NoSuchSegment' is not a segment"),
            std::string::npos)
      << applied.status().ToString();
  p = project_;
  p.connections.push_back({"ftp", "carrier_pigeon", {}, {}});
  applied = ApplyProject(*ws_, p, o);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("connection 'ftp', kind: 'carrier_pigeon' is not a destination kind"),
            std::string::npos)
      << applied.status().ToString();
  // Nothing was applied.
  EXPECT_EQ(ws_->catalog().LoadProject()->connections.size(), 2u);
  // A valid one is, and the summary names it.
  p = project_;
  p.exports.push_back(SegmentExport("fine", "tx", "CustomersFromCalifornia"));
  applied = ApplyProject(*ws_, p, o);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->kinds["exports"].added, std::vector<std::string>{"fine"});
  EXPECT_NE(applied->Summary().find("exports: 1 added, 0 changed, 0 removed"), std::string::npos) << applied->Summary();
  EXPECT_TRUE(applied->kinds["connections"].added.empty());
}

TEST_F(ExportRunnerTest, TheRefreshRunsExportsAndAFailingOneIsOnlyAWarning) {
  Change([](ProjectConfig& p) {
    ExportConfig good = SegmentExport("good", "tx", "HighValueOnlineCustomers");
    good.when = "refresh";
    p.exports.push_back(good);
    ExportConfig bad = SegmentExport("bad", "env_conn", "CustomersFromCalifornia");
    bad.when = "refresh";
    p.connections.push_back({"env_conn", "fake", {}, {{"token", SecretRef{"CDP_TEST_FAKE_TOKEN", ""}}}});
    p.exports.push_back(bad);
  });
  auto r = Refresh();
  ASSERT_TRUE(r.ok());
  const StageResult* exports = nullptr;
  for (const auto& s : r->stages) {
    if (s.stage.name() == "exports") exports = &s;
  }
  ASSERT_NE(exports, nullptr);
  EXPECT_EQ(exports->status, "succeeded");
  EXPECT_EQ(exports->message, "1 succeeded, 1 failed");
  ASSERT_EQ(exports->warnings.size(), 1u);
  EXPECT_NE(exports->warnings[0].find("export 'bad'"), std::string::npos) << exports->warnings[0];
  EXPECT_EQ(Held("good"), Members("HighValueOnlineCustomers"));

  // The next refresh resumes the failed one once its secret is there, and
  // leaves the good one alone (nothing changed for it).
  setenv("CDP_TEST_FAKE_TOKEN", "ok", 1);
  size_t begins = FakeStore::Get().begins.size();
  r = Refresh();
  ASSERT_TRUE(r.ok());
  for (const auto& s : r->stages) {
    if (s.stage.name() == "exports") {
      EXPECT_EQ(s.status, "succeeded");
      EXPECT_TRUE(s.warnings.empty());
    }
  }
  EXPECT_EQ(Held("bad"), Members("CustomersFromCalifornia"));
  EXPECT_EQ(FakeStore::Get().begins.size(), begins + 1);
  // Unchanged inputs: the stage is skipped.
  r = Refresh();
  ASSERT_TRUE(r.ok());
  for (const auto& s : r->stages) {
    if (s.stage.name() == "exports") {
      EXPECT_EQ(s.status, "skipped") << s.message;
    }
  }
}

}  // namespace
}  // namespace cdp
