#include "workspace/definitions.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "workspace/refresh_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// The Contoso demo (200 people) and its project file, and a fresh workspace.
class DefinitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_definitions_XXXXXX";
    dir_ = mkdtemp(tmpl);
    DemoOptions demo;
    demo.customers = 200;
    demo.seed = 3;
    demo.out_dir = (dir_ / "sources").string();
    DemoSummary summary;
    ASSERT_TRUE(GenerateContosoDemo(demo, &summary).ok());
    ws_ = NewWorkspace("ws");
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    yaml_.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    project_ = Parse(yaml_);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Workspace> NewWorkspace(const std::string& name) {
    auto ws = Workspace::Init((dir_ / name).string());
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    return ws.ok() ? std::move(*ws) : nullptr;
  }
  ProjectConfig Parse(const std::string& yaml) {
    auto p = ParseProjectYaml(yaml, "project.yaml", dir_.string());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : ProjectConfig();
  }
  static DefinitionOptions Options() {
    DefinitionOptions o;
    o.run_date = kDefaultDemoToday;
    o.threads = 2;
    return o;
  }
  void Refresh(Workspace& ws) {
    RefreshOptions o;
    o.threads = 2;
    o.run_date = kDefaultDemoToday;
    auto r = RunRefresh(ws, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->ok()) << r->error;
  }
  // Every definition of a workspace, as export-config writes it.
  static std::string Exported(Workspace& ws) {
    auto p = ExportProject(ws);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? EmitProjectYaml(*p) : "";
  }
  static MeasureConfig SpendMeasure(const std::string& name) {
    MeasureConfig m;
    m.name = name;
    m.function = AggregateFunction::kMax;
    m.activity = "OnlinePurchase";
    m.field = "TotalPrice";
    return m;
  }
  static SegmentDefinition BigSpenders(const std::string& name, double above) {
    return MakeQuickSegment(name, std::string(kCustomerMeasureEntity), "WebSpend", ConditionOp::kGreater, {above});
  }

  fs::path dir_;
  std::string yaml_;
  ProjectConfig project_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(DefinitionsTest, ApplyIsDeclarativeAndIdempotent) {
  auto first = ApplyProject(*ws_, project_, Options());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->kinds["sources"].added.size(), 8u);  // the demo's six sources, Subscriptions, Products
  EXPECT_EQ(first->kinds["measures"].added.size(), 9u);
  EXPECT_EQ(first->kinds["segments"].added,
            (std::vector<std::string>{"CustomersFromCalifornia", "HighValueOnlineCustomers", "SummerPromo"}));
  EXPECT_NE(first->Summary().find("segments: 3 added, 0 changed, 0 removed"), std::string::npos) << first->Summary();

  auto again = ApplyProject(*ws_, project_, Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->empty()) << again->Summary();
  EXPECT_EQ(again->Summary(), "no changes\n");

  // Definitions made elsewhere (API, CLI) are not in the file: applying it removes them.
  ASSERT_TRUE(SaveMeasure(*ws_, SpendMeasure("MaxWebPurchase"), DefinitionWrite::kCreate, Options()).ok());
  ASSERT_TRUE(SaveSegmentDefinition(*ws_, BigSpenders("BigSpenders", 100), SegmentSaveMode::kCreate, Options()).ok());
  ProjectConfig edited = project_;
  edited.measures[0].default_value = 1;
  auto third = ApplyProject(*ws_, edited, Options());
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->kinds["measures"].removed, std::vector<std::string>{"MaxWebPurchase"});
  EXPECT_EQ(third->kinds["measures"].changed, std::vector<std::string>{"AverageWebPurchase"});
  EXPECT_EQ(third->kinds["segments"].removed, std::vector<std::string>{"BigSpenders"});
  EXPECT_TRUE(third->kinds["sources"].added.empty());
  EXPECT_EQ(third->ToJson()["segments"]["removed"][0], "BigSpenders");
  EXPECT_FALSE((*ws_->catalog().GetSegment("BigSpenders")).has_value());
}

// Re-applying the same file after a refresh does not make the next refresh
// run any stage again.
TEST_F(DefinitionsTest, ReapplyingTheSameFileKeepsTheNextRefreshSkipping) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  Refresh(*ws_);
  ASSERT_TRUE(ApplyProject(*ws_, Parse(yaml_), Options()).ok());
  RefreshOptions o;
  o.threads = 2;
  o.run_date = kDefaultDemoToday;
  auto r = RunRefresh(*ws_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& s : r->stages) EXPECT_EQ(s.status, "skipped") << RefreshStageName(s.stage) << ": " << s.message;
}

// export-config emits every definition, wherever it was made, and applying
// the export to a fresh workspace gives the same definitions.
TEST_F(DefinitionsTest, ExportHoldsEveryDefinitionAndRoundTrips) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  ASSERT_TRUE(SaveMeasure(*ws_, SpendMeasure("MaxWebPurchase"), DefinitionWrite::kCreate, Options()).ok());
  SegmentDefinition zip = MakeQuickSegment("Zip90210", std::string(kCustomerEntity), "PostalCode", ConditionOp::kIn,
                                           {std::string("90210"), std::string("true")});
  ASSERT_TRUE(SaveSegmentDefinition(*ws_, zip, SegmentSaveMode::kCreate, Options()).ok());
  std::string exported = Exported(*ws_);
  EXPECT_NE(exported.find("MaxWebPurchase"), std::string::npos) << exported;
  EXPECT_NE(exported.find("name: Zip90210"), std::string::npos) << exported;
  EXPECT_NE(exported.find("[\"90210\", \"true\"]"), std::string::npos) << exported;

  auto fresh = NewWorkspace("fresh");
  auto applied = ApplyProject(*fresh, Parse(exported), Options());
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Exported(*fresh), exported);
  auto seg = fresh->catalog().GetSegment("Zip90210");
  ASSERT_TRUE(seg.ok() && seg->has_value());
  EXPECT_EQ((*seg)->definition_json, SegmentToJson(zip, -1));
}

TEST_F(DefinitionsTest, RelationshipFieldsOfDifferentTypesAreRefusedAtApply) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  const std::string before = Exported(*ws_);
  // Declared types: ReviewRating is int64, ContactId string.
  ProjectConfig bad = project_;
  bad.relationships[2].from_field = "ReviewRating";
  auto r = ApplyProject(*ws_, bad, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("relationship 'ReviewAuthor'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Website Reviews.ReviewRating is int64"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("eCommerce Contacts.ContactId is string"), std::string::npos) << r.status().message();
  EXPECT_EQ(Exported(*ws_), before);
  // The same change through a single-section edit (the API's) is refused alike.
  Status s = SetRelationships(*ws_, bad.relationships);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(Exported(*ws_), before);
}

// Without declarations, the stored entities' types decide.
TEST_F(DefinitionsTest, StoredTypesOfUndeclaredFieldsAreCheckedToo) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  Refresh(*ws_);
  ProjectConfig bad = project_;
  RelationshipConfig r;
  r.name = "PurchaseToPoints";
  r.from_entity = "Online Purchases";
  r.from_field = "PurchaseId";  // undeclared: stored as inferred
  r.to_entity = "PoS Purchases";
  r.to_field = "RewardsPointsAdded";  // declared int64
  bad.relationships.push_back(r);
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  const Schema& stored = snap->entities.at("Online Purchases").schema;
  ASSERT_GE(stored.FieldIndex("PurchaseId"), 0);
  ASSERT_NE(stored.field(static_cast<size_t>(stored.FieldIndex("PurchaseId"))).type, DataType::kInt64);
  auto applied = ApplyProject(*ws_, bad, Options());
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("relationship 'PurchaseToPoints'"), std::string::npos)
      << applied.status().message();
  // A field the stored entity does not have is named too.
  bad.relationships.back().from_field = "NoSuchField";
  applied = ApplyProject(*ws_, bad, Options());
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("field 'NoSuchField' is not a field of 'Online Purchases'"),
            std::string::npos)
      << applied.status().message();
}

// Regression: a measure created through the API had no values until a refresh.
TEST_F(DefinitionsTest, ANewMeasureIsComputedWhenItsDataExists) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  auto pending = SaveMeasure(*ws_, SpendMeasure("MaxWebPurchase"), DefinitionWrite::kCreate, Options());
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(pending->values.state, "pending");  // no customers yet: saved, computed by the refresh
  EXPECT_NE(pending->values.reason.find("no unified customers"), std::string::npos) << pending->values.reason;
  Refresh(*ws_);
  auto computed = SaveMeasure(*ws_, SpendMeasure("MaxWebPurchase2"), DefinitionWrite::kCreate, Options());
  ASSERT_TRUE(computed.ok()) << computed.status().ToString();
  EXPECT_EQ(computed->values.state, "computed") << computed->values.reason;
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_GE(snap->entities.at(std::string(kCustomerMeasureEntity)).schema.FieldIndex("MaxWebPurchase2"), 0);
  // A measure naming an undefined activity is refused, naming it; nothing is stored.
  MeasureConfig bad = SpendMeasure("Bad");
  bad.activity = "NoSuchActivity";
  auto refused = SaveMeasure(*ws_, bad, DefinitionWrite::kCreate, Options());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("measure 'Bad': activity 'NoSuchActivity' is not defined"),
            std::string::npos)
      << refused.status().message();
  EXPECT_EQ(SaveMeasure(*ws_, SpendMeasure("MaxWebPurchase2"), DefinitionWrite::kCreate, Options()).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(DeleteMeasure(*ws_, "Nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(DeleteMeasure(*ws_, "MaxWebPurchase2", Options()).ok());
  snap = ws_->data().Current();
  EXPECT_LT(snap->entities.at(std::string(kCustomerMeasureEntity)).schema.FieldIndex("MaxWebPurchase2"), 0);
}

// Regression: a dynamic segment created with `cdp segment create` had no
// members until the next `cdp run`.
TEST_F(DefinitionsTest, ANewDynamicSegmentIsEvaluatedOnSave) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  Refresh(*ws_);
  auto saved = SaveSegmentDefinition(*ws_, BigSpenders("BigSpenders", 50), SegmentSaveMode::kCreate, Options());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->saved.record.status, "active");
  EXPECT_EQ(saved->members.state, "computed") << saved->members.reason;
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(snap->entities.count(SegmentEntityName("BigSpenders")));
  const uint64_t members = snap->entities.at(SegmentEntityName("BigSpenders")).num_rows;
  EXPECT_GT(members, 0u);
  ASSERT_TRUE(saved->saved.evaluation.has_value());
  EXPECT_EQ(static_cast<uint64_t>(saved->saved.evaluation->members), members);
  // Updating it evaluates the new definition.
  auto updated = SaveSegmentDefinition(*ws_, BigSpenders("BigSpenders", 1e9), SegmentSaveMode::kUpdate, Options());
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  snap = ws_->data().Current();
  EXPECT_EQ(snap->entities.at(SegmentEntityName("BigSpenders")).num_rows, 0u);
  // Messages are neutral: no CLI advice in what the API and UI show.
  auto dup = SaveSegmentDefinition(*ws_, BigSpenders("BigSpenders", 1), SegmentSaveMode::kCreate, Options());
  ASSERT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "segment 'BigSpenders' already exists");
  ASSERT_TRUE(DeleteSegmentDefinition(*ws_, "BigSpenders").ok());
  snap = ws_->data().Current();
  EXPECT_FALSE(snap->entities.count(SegmentEntityName("BigSpenders")));
  EXPECT_EQ(DeleteSegmentDefinition(*ws_, "BigSpenders").code(), StatusCode::kNotFound);
}

// Regression: workspace messages, which the API and the UI show, gave CLI
// advice ("run `cdp segment run NAME`").
TEST_F(DefinitionsTest, MessagesOfTheWorkspaceGiveNoCommandLineAdvice) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  Refresh(*ws_);
  DefinitionOptions quiet = Options();
  quiet.evaluate = false;
  ASSERT_TRUE(SaveSegmentDefinition(*ws_, BigSpenders("NotYet", 10), SegmentSaveMode::kCreate, quiet).ok());
  std::ostringstream out;
  auto r = ExportSegmentMembers(*ws_, "NotYet", "csv", out);
  ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "segment 'NotYet' has not been evaluated yet (a refresh, or running the segment, evaluates it)");
  auto bad = ExportSegmentMembers(*ws_, "NotYet", "xml", out);
  EXPECT_EQ(bad.status().message().find("--"), std::string::npos) << bad.status().message();
}

// A workspace whose catalog an older cdp left with segment texts only in the
// project (schema 5) is migrated on open: the segment is in the segments
// table, validated again on the next run, and exported.
TEST_F(DefinitionsTest, OpeningAnOlderWorkspaceMovesProjectSegmentTexts) {
  const std::string dir = ws_->dir();
  ws_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(dir) / "catalog.db").c_str(), &db), SQLITE_OK);
  std::string text = nlohmann::json::array({project_.segments[0]}).dump();
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version >= 6", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO project(key, value) VALUES ('segments', ?)", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_text(st, 1, text.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  auto reopened = Workspace::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  ws_ = std::move(*reopened);
  auto seg = ws_->catalog().GetSegment("CustomersFromCalifornia");
  ASSERT_TRUE(seg.ok() && seg->has_value());
  EXPECT_EQ((*seg)->status, "draft");
  EXPECT_NE(Exported(*ws_).find("name: CustomersFromCalifornia"), std::string::npos);
}

TEST_F(DefinitionsTest, SchedulesChangeInOneTransactionAndKeepMembers) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  Refresh(*ws_);
  auto before = ws_->data().Current();
  ScheduleChange change;
  change.refresh = "0 3 * * *";
  change.sources["Online Purchases"] = "*/30 * * * *";
  change.segments["SummerPromo"] = "0 */6 * * *";
  ASSERT_TRUE(SetSchedules(*ws_, change).ok());
  auto p = ws_->catalog().LoadProject();
  EXPECT_EQ(p->refresh_schedule, "0 3 * * *");
  EXPECT_EQ(p->FindSource("Online Purchases")->schedule, "*/30 * * * *");
  auto seg = ws_->catalog().GetSegment("SummerPromo");
  EXPECT_EQ(ParseStoredSegmentJson((*seg)->definition_json)->schedule, "0 */6 * * *");
  EXPECT_EQ(ws_->data().Current()->generation, before->generation);  // members kept
  // An unknown name refuses the whole change.
  const std::string exported = Exported(*ws_);
  ScheduleChange bad;
  bad.refresh = "0 4 * * *";
  bad.segments["NoSuchSegment"] = "0 1 * * *";
  Status s = SetSchedules(*ws_, bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("segments.NoSuchSegment"), std::string::npos) << s.ToString();
  EXPECT_EQ(Exported(*ws_), exported);
}

// Changes from several threads, some through their own catalog connection
// (as other processes would), lose none.
TEST_F(DefinitionsTest, ConcurrentChangesLoseNone) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  constexpr int kThreads = 4, kEach = 5;
  DefinitionOptions quiet = Options();
  quiet.evaluate = false;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Workspace> own;
      Workspace* ws = ws_.get();
      if (t % 2 == 1) {
        auto opened = Workspace::Open(ws_->dir());
        if (!opened.ok()) {
          ++failures;
          return;
        }
        own = std::move(*opened);
        ws = own.get();
      }
      for (int i = 0; i < kEach; ++i) {
        std::string suffix = std::to_string(t) + "_" + std::to_string(i);
        if (!SaveMeasure(*ws, SpendMeasure("M" + suffix), DefinitionWrite::kCreate, quiet).ok()) ++failures;
        if (!SaveSegmentDefinition(*ws, BigSpenders("S" + suffix, i), SegmentSaveMode::kCreate, quiet).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto p = ws_->catalog().LoadProject();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->measures.size(), project_.measures.size() + kThreads * kEach);
  auto segments = ws_->catalog().ListSegments();
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->size(), project_.segments.size() + kThreads * kEach);
}

// An apply that fails at any of its writes leaves every definition as before.
TEST_F(DefinitionsTest, AnApplyThatFailsHalfWayChangesNothing) {
  ASSERT_TRUE(ApplyProject(*ws_, project_, Options()).ok());
  ASSERT_TRUE(SaveSegmentDefinition(*ws_, BigSpenders("BigSpenders", 100), SegmentSaveMode::kCreate, Options()).ok());
  const std::string before = Exported(*ws_);
  ProjectConfig changed = project_;
  changed.measures.pop_back();
  changed.segments.pop_back();
  changed.segments[0] = SegmentToYaml(BigSpenders("CustomersFromCalifornia", 5));
  int failures = 0;
  for (int n = 1; n < 20; ++n) {
    ws_->catalog().FailDefinitionWriteForTesting(n);
    auto r = ApplyProject(*ws_, changed, Options());
    ws_->catalog().FailDefinitionWriteForTesting(0);
    if (r.ok()) break;
    ++failures;
    EXPECT_NE(r.status().message().find("injected"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(Exported(*ws_), before) << "after a failure at write " << n;
  }
  // Writes: the project, one changed segment, two removed ones.
  EXPECT_EQ(failures, 4);
  auto after = ExportProject(*ws_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->measures.size(), project_.measures.size() - 1);
  EXPECT_EQ(after->segments.size(), 2u);
}

}  // namespace
}  // namespace cdp
