#include "workspace/refresh_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "search/search_index.h"
#include "segment/segment_definition.h"
#include "workspace/activity_runner.h"
#include "workspace/linked_entities.h"
#include "workspace/lineage.h"
#include "workspace/measure_runner.h"
#include "workspace/search_stage.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// The Contoso demo (a few hundred people) applied to a fresh workspace, with
// its segments saved as `cdp apply` does, and the built-in stages with the
// index stage's runs counted.
class RefreshRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_refresh_XXXXXX";
    dir_ = mkdtemp(tmpl);
    DemoOptions demo;
    demo.customers = 300;
    demo.seed = 5;
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
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
    for (const auto& text : project->segments) {
      auto d = ParseSegmentYaml(text);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      ASSERT_TRUE(SaveSegment(*ws_, *d, SegmentSaveMode::kUpsert, SegmentRunOptions()).ok());
    }
    for (StageDescriptor d : StageRegistry::Default().stages()) {
      // Tested in export_runner_test (a stand-in is registered below), prediction_runner_test
      // and insight_service_test (enrichments).
      if (d.name == "exports" || d.name == "predictions" || d.name == "enrichments" || d.name == "source_enrichments") continue;
      if (d.name == RefreshStage::kIndex.name()) {
        d.run = [this, run = d.run](const StageContext& c, StageResult* r) -> Status {
          ++index_calls_;
          auto snap = c.workspace.data().Current();
          if (!snap.ok() || !snap->entities.count(std::string(kCustomerEntity))) {
            return InternalError("index without Customer");
          }
          return run(c, r);
        };
      }
      ASSERT_TRUE(stages_.Register(std::move(d)).ok());
    }
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }

  RefreshOptions Options() {
    RefreshOptions o;
    o.threads = 2;
    o.run_date = kDefaultDemoToday;
    o.stages = &stages_;
    return o;
  }

  RefreshResult Refresh(const RefreshOptions& o) {
    auto r = RunRefresh(*ws_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RefreshResult();
  }

  // stage name -> status, e.g. {"ingest": "skipped", ...}
  static std::map<std::string, std::string> Statuses(const RefreshResult& r) {
    std::map<std::string, std::string> out;
    for (const auto& s : r.stages) out[std::string(RefreshStageName(s.stage))] = s.status;
    return out;
  }
  static std::string Describe(const RefreshResult& r) {
    std::string out = r.status + " " + r.error + "\n";
    for (const auto& s : r.stages) {
      out += std::string(RefreshStageName(s.stage)) + ": " + s.status + " (" + s.message + ")\n";
    }
    return out;
  }

  // Every cell of an entity as text, for comparing whole tables.
  std::vector<std::string> Cells(const std::string& entity) {
    std::vector<std::string> out;
    auto snap = ws_->data().Current();
    EXPECT_TRUE(snap.ok());
    auto reader = ws_->data().OpenEntity(*snap, entity);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return out;
    auto t = (*reader)->ReadAll();
    EXPECT_TRUE(t.ok());
    for (size_t c = 0; c < t->num_columns(); ++c) {
      out.push_back(t->schema().field(c).name);
      for (size_t r = 0; r < t->num_rows(); ++r) out.push_back(t->column(c).IsNull(r) ? "<null>" : t->column(c).ValueToString(r));
    }
    return out;
  }

  // Drops the last line of a demo source file, so that its content changes.
  void DropLastLine(const std::string& file) {
    fs::path p = dir_ / "sources" / file;
    std::ifstream in(p, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    ASSERT_GT(text.size(), 2u);
    size_t end = text.find_last_of('\n', text.size() - 2);
    ASSERT_NE(end, std::string::npos);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text.substr(0, end + 1);
  }

  RunRecord Run(int64_t id) {
    auto runs = ws_->catalog().ListRuns(1000);
    EXPECT_TRUE(runs.ok());
    for (const auto& r : *runs) {
      if (r.id == id) return r;
    }
    ADD_FAILURE() << "no run " << id;
    return RunRecord();
  }

  // Appends a contact to the eCommerce Contacts source file: the given
  // fields by header name, the others empty.
  void AddContact(const std::map<std::string, std::string>& fields) {
    fs::path p = dir_ / "sources" / "ecommerce_contacts.csv";
    std::ifstream in(p, std::ios::binary);
    std::string header;
    std::getline(in, header);
    in.close();
    if (!header.empty() && header.back() == '\r') header.pop_back();
    std::string line;
    size_t start = 0;
    for (;;) {
      size_t comma = header.find(',', start);
      std::string name = header.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (start > 0) line += ",";
      auto it = fields.find(name);
      if (it != fields.end()) line += it->second;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out << line << "\n";
  }

  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
  StageRegistry stages_;
  int index_calls_ = 0;
};

const std::map<std::string, std::string> kAllSucceeded = {{"ingest", "succeeded"},     {"unify", "succeeded"},
                                                           {"activities", "succeeded"}, {"measures", "succeeded"},
                                                           {"segments", "succeeded"},   {"index", "succeeded"}};
const std::map<std::string, std::string> kAllSkipped = {{"ingest", "skipped"},     {"unify", "skipped"},
                                                        {"activities", "skipped"}, {"measures", "skipped"},
                                                        {"segments", "skipped"},   {"index", "skipped"}};

TEST_F(RefreshRunnerTest, FirstRunRunsEveryStageInOrderAsOneRun) {
  auto before = ws_->catalog().ListRuns(1000);
  ASSERT_TRUE(before.ok());
  std::vector<RefreshStage> progressed;
  RefreshOptions o = Options();
  o.trigger = "schedule:nightly";
  o.progress = [&](RefreshStage stage, double fraction, const std::string&) {
    EXPECT_GE(fraction, 0.0);
    EXPECT_LE(fraction, 1.0);
    if (progressed.empty() || progressed.back() != stage) progressed.push_back(stage);
  };
  RefreshResult r = Refresh(o);
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  EXPECT_TRUE(r.error.empty());
  ASSERT_EQ(r.stages.size(), 6u);
  const RefreshStage order[] = {RefreshStage::kIngest,   RefreshStage::kUnify,    RefreshStage::kActivities,
                                RefreshStage::kMeasures, RefreshStage::kSegments, RefreshStage::kIndex};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(r.stages[i].stage, order[i]);
    EXPECT_EQ(r.stages[i].status, "succeeded") << Describe(r);
    EXPECT_GT(r.stages[i].rows_in, 0) << RefreshStageName(order[i]);
    EXPECT_GE(r.stages[i].duration_micros, 0);
  }
  EXPECT_EQ(progressed, std::vector<RefreshStage>(std::begin(order), std::end(order)));
  EXPECT_EQ(index_calls_, 1);
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(r.generation, snap->generation);
  EXPECT_TRUE(snap->entities.count("Segment_CustomersFromCalifornia"));
  EXPECT_TRUE(snap->entities.count(std::string(kCustomerMeasureEntity)));

  // One run row, of kind "refresh", holding the stages, fingerprints and trigger; the
  // stages' own records (source ingests, segment counts) point at it.
  auto after = ws_->catalog().ListRuns(1000);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), before->size() + 1);
  const RunRecord& run = after->front();
  EXPECT_EQ(run.id, r.run_id);
  EXPECT_EQ(run.kind, "refresh");
  EXPECT_EQ(run.status, "succeeded");
  auto stats = nlohmann::json::parse(run.stats_json);
  EXPECT_EQ(stats["trigger"], "schedule:nightly");
  ASSERT_EQ(stats["stages"].size(), 6u);
  EXPECT_EQ(stats["stages"][1]["stage"], "unify");
  EXPECT_FALSE(stats["stages"][1]["fingerprint"].get<std::string>().empty());
  std::vector<StageResult> recorded = StagesOfRun(run.stats_json);
  ASSERT_EQ(recorded.size(), 6u);
  EXPECT_EQ(recorded[3].stage, RefreshStage::kMeasures);
  EXPECT_EQ(recorded[3].rows_out, r.stages[3].rows_out);
  auto ingests = ws_->catalog().ListSourceIngests(r.run_id);
  ASSERT_TRUE(ingests.ok());
  EXPECT_EQ(ingests->size(), 8u);
  auto history = ws_->catalog().SegmentHistory("CustomersFromCalifornia", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->back().run_id, r.run_id);
}

TEST_F(RefreshRunnerTest, UnchangedRunSkipsEveryStageAndANewDayRerunsDateDependentOnes) {
  RefreshResult first = Refresh(Options());
  ASSERT_EQ(first.status, "succeeded") << Describe(first);
  RefreshResult second = Refresh(Options());
  ASSERT_EQ(second.status, "succeeded") << Describe(second);
  EXPECT_EQ(Statuses(second), kAllSkipped) << Describe(second);
  EXPECT_EQ(second.generation, first.generation);
  EXPECT_EQ(index_calls_, 1);
  EXPECT_NE(second.stages[1].message.find("unchanged since run " + std::to_string(first.run_id)), std::string::npos)
      << second.stages[1].message;

  // The next day: the measures use days_since and the segments may use relative dates.
  RefreshOptions tomorrow = Options();
  tomorrow.run_date = kDefaultDemoToday + 1;
  RefreshResult third = Refresh(tomorrow);
  ASSERT_EQ(third.status, "succeeded") << Describe(third);
  EXPECT_EQ(Statuses(third), (std::map<std::string, std::string>{{"ingest", "skipped"},
                                                                  {"unify", "skipped"},
                                                                  {"activities", "skipped"},
                                                                  {"measures", "succeeded"},
                                                                  {"segments", "succeeded"},
                                                                  {"index", "succeeded"}}))
      << Describe(third);
}

TEST_F(RefreshRunnerTest, ChangedSourceRerunsItsIngestAndWhatDependsOnIt) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  // An activity source, refreshed alone: unification does not read it.
  DropLastLine("website_reviews.csv");
  RefreshOptions one = Options();
  one.sources = {"Website Reviews"};
  RefreshResult r = Refresh(one);
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  EXPECT_EQ(Statuses(r), (std::map<std::string, std::string>{{"ingest", "succeeded"},
                                                              {"unify", "skipped"},
                                                              {"activities", "succeeded"},
                                                              {"measures", "succeeded"},
                                                              {"segments", "succeeded"},
                                                              {"index", "succeeded"}}))
      << Describe(r);
  auto ingests = ws_->catalog().ListSourceIngests(r.run_id);
  ASSERT_TRUE(ingests.ok());
  ASSERT_EQ(ingests->size(), 1u);
  EXPECT_EQ((*ingests)[0].source, "Website Reviews");
  EXPECT_EQ((*ingests)[0].status, "succeeded");

  // A profile source in a full refresh: the others are unchanged, unification reruns.
  DropLastLine("ecommerce_contacts.csv");
  RefreshResult full = Refresh(Options());
  ASSERT_EQ(full.status, "succeeded") << Describe(full);
  EXPECT_EQ(Statuses(full), kAllSucceeded) << Describe(full);
  ingests = ws_->catalog().ListSourceIngests(full.run_id);
  ASSERT_TRUE(ingests.ok());
  int ingested = 0;
  for (const auto& rec : *ingests) ingested += rec.status == "succeeded";
  EXPECT_EQ(ingested, 1);

  RefreshOptions unknown = Options();
  unknown.sources = {"Nope"};
  auto refused = RunRefresh(*ws_, unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
}

TEST_F(RefreshRunnerTest, SegmentsOnlyRunEvaluatesTheNamedSegments) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  RefreshOptions seg = Options();
  seg.segments = {"CustomersFromCalifornia"};
  RefreshResult r = Refresh(seg);
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  ASSERT_EQ(r.stages.size(), 2u) << Describe(r);
  EXPECT_EQ(r.stages[0].stage, RefreshStage::kSegments);
  EXPECT_EQ(r.stages[0].status, "succeeded");
  EXPECT_EQ(r.stages[1].stage, RefreshStage::kIndex);
  auto cal = ws_->catalog().SegmentHistory("CustomersFromCalifornia", 10);
  auto promo = ws_->catalog().SegmentHistory("SummerPromo", 10);
  ASSERT_TRUE(cal.ok() && promo.ok());
  EXPECT_EQ(cal->size(), 2u);
  EXPECT_EQ(cal->back().run_id, r.run_id);
  EXPECT_EQ(promo->size(), 1u);  // not named: not evaluated again

  // Unchanged: skipped; forced: evaluated.
  RefreshResult again = Refresh(seg);
  EXPECT_EQ(again.stages[0].status, "skipped") << Describe(again);
  seg.force = true;
  RefreshResult forced = Refresh(seg);
  EXPECT_EQ(forced.stages[0].status, "succeeded") << Describe(forced);

  RefreshOptions unknown = Options();
  unknown.segments = {"Nope"};
  auto refused = RunRefresh(*ws_, unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
}

TEST_F(RefreshRunnerTest, FailedStageKeepsThePreviousOutputsAndTheNextRunSucceeds) {
  RefreshResult first = Refresh(Options());
  ASSERT_EQ(first.status, "succeeded") << Describe(first);
  std::vector<std::string> customer = Cells(std::string(kCustomerEntity));
  ASSERT_FALSE(customer.empty());

  // A profile source changes, and unification fails.
  DropLastLine("ecommerce_contacts.csv");
  RefreshOptions failing = Options();
  failing.before_stage = [](RefreshStage stage) {
    return stage == RefreshStage::kUnify ? InternalError("injected failure") : Status::Ok();
  };
  RefreshResult failed = Refresh(failing);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_NE(failed.error.find("unify: "), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("injected failure"), std::string::npos) << failed.error;
  EXPECT_EQ(Statuses(failed), (std::map<std::string, std::string>{{"ingest", "succeeded"}, {"unify", "failed"}}));
  EXPECT_EQ(Cells(std::string(kCustomerEntity)), customer);  // readable and identical
  RunRecord run = Run(failed.run_id);
  EXPECT_EQ(run.status, "failed");
  EXPECT_EQ(run.error, failed.error);

  // The next run unifies again (the failed stage was not recorded as good).
  RefreshResult next = Refresh(Options());
  ASSERT_EQ(next.status, "succeeded") << Describe(next);
  EXPECT_EQ(Statuses(next), (std::map<std::string, std::string>{{"ingest", "skipped"},
                                                                 {"unify", "succeeded"},
                                                                 {"activities", "succeeded"},
                                                                 {"measures", "succeeded"},
                                                                 {"segments", "succeeded"},
                                                                 {"index", "succeeded"}}))
      << Describe(next);
}

TEST_F(RefreshRunnerTest, BrokenInputFailsIngestAndStopsTheRun) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  std::vector<std::string> customer = Cells(std::string(kCustomerEntity));
  fs::path file = dir_ / "sources" / "loyalty_scheme.csv";
  fs::rename(file, dir_ / "moved.csv");
  RefreshOptions forced = Options();
  forced.force = true;
  RefreshResult failed = Refresh(forced);
  EXPECT_EQ(failed.status, "failed");
  ASSERT_EQ(failed.stages.size(), 1u) << Describe(failed);
  EXPECT_EQ(failed.stages[0].status, "failed");
  EXPECT_NE(failed.error.find("Loyalty Scheme"), std::string::npos) << failed.error;
  EXPECT_EQ(Cells(std::string(kCustomerEntity)), customer);
  EXPECT_FALSE(Cells("Loyalty Scheme").empty());  // its previous data is still current

  fs::rename(dir_ / "moved.csv", file);
  RefreshResult next = Refresh(Options());
  EXPECT_EQ(next.status, "succeeded") << Describe(next);
}

TEST_F(RefreshRunnerTest, CancelEndsTheRunBetweenStages) {
  std::atomic<bool> cancel{false};
  RefreshOptions o = Options();
  o.cancel = &cancel;
  o.before_stage = [&](RefreshStage stage) {
    if (stage == RefreshStage::kActivities) cancel = true;
    return Status::Ok();
  };
  RefreshResult r = Refresh(o);
  EXPECT_EQ(r.status, "cancelled") << Describe(r);
  EXPECT_EQ(Statuses(r), (std::map<std::string, std::string>{
                             {"ingest", "succeeded"}, {"unify", "succeeded"}, {"activities", "cancelled"}}));
  EXPECT_EQ(Run(r.run_id).status, "cancelled");
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->entities.count(std::string(kUnifiedActivityEntity)));
  EXPECT_EQ(index_calls_, 0);

  // The next run goes on from where the cancelled one stopped.
  RefreshResult next = Refresh(Options());
  EXPECT_EQ(Statuses(next), (std::map<std::string, std::string>{{"ingest", "skipped"},
                                                                 {"unify", "skipped"},
                                                                 {"activities", "succeeded"},
                                                                 {"measures", "succeeded"},
                                                                 {"segments", "succeeded"},
                                                                 {"index", "succeeded"}}))
      << Describe(next);

  // Cancelled before the start: nothing runs.
  cancel = true;
  RefreshOptions early = Options();
  early.cancel = &cancel;
  early.force = true;
  RefreshResult none = Refresh(early);
  EXPECT_EQ(none.status, "cancelled");
  ASSERT_EQ(none.stages.size(), 1u);
  EXPECT_EQ(none.stages[0].status, "cancelled");
}

TEST_F(RefreshRunnerTest, SecondConcurrentRefreshIsRefused) {
  std::mutex mu;
  std::condition_variable cv;
  bool blocked = false, release = false;
  RefreshOptions o = Options();
  o.before_stage = [&](RefreshStage stage) {
    if (stage != RefreshStage::kUnify) return Status::Ok();
    std::unique_lock<std::mutex> l(mu);
    blocked = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
    return Status::Ok();
  };
  StatusOr<RefreshResult> first = InternalError("not run");
  std::thread t([&] { first = RunRefresh(*ws_, o); });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return blocked; });
  }
  auto runs = ws_->catalog().ListRuns(1);
  ASSERT_TRUE(runs.ok());
  int64_t running = runs->front().id;
  EXPECT_EQ(runs->front().status, "running");
  // The same workspace, and the same directory opened again.
  auto second = RunRefresh(*ws_, Options());
  auto other = Workspace::Open((dir_ / "ws").string());
  ASSERT_TRUE(other.ok());
  auto third = RunRefresh(**other, Options());
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
    cv.notify_all();
  }
  t.join();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(), "a refresh is already running (run " + std::to_string(running) + ")");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->status, "succeeded");
  EXPECT_EQ(first->run_id, running);
  // Once it ended, the next one may start.
  EXPECT_TRUE(RunRefresh(*ws_, Options()).ok());
}

TEST_F(RefreshRunnerTest, ForceRunsEveryStage) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  RefreshOptions o = Options();
  o.force = true;
  RefreshResult r = Refresh(o);
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  EXPECT_EQ(Statuses(r), kAllSucceeded) << Describe(r);
  auto ingests = ws_->catalog().ListSourceIngests(r.run_id);
  ASSERT_TRUE(ingests.ok());
  for (const auto& rec : *ingests) EXPECT_EQ(rec.status, "succeeded") << rec.source;
  EXPECT_EQ(index_calls_, 2);
}

TEST_F(RefreshRunnerTest, StageOutputsRewrittenOutsideTheRefreshAreRefreshed) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  // `cdp measures --as-of` another day rewrites the measures outside a refresh.
  MeasureRunOptions mo;
  mo.run_date = kDefaultDemoToday - 100;
  ASSERT_TRUE(RunMeasures(*ws_, mo).ok());
  RefreshResult r = Refresh(Options());
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  EXPECT_EQ(Statuses(r), (std::map<std::string, std::string>{{"ingest", "skipped"},
                                                              {"unify", "skipped"},
                                                              {"activities", "skipped"},
                                                              {"measures", "succeeded"},
                                                              {"segments", "succeeded"},
                                                              {"index", "succeeded"}}))
      << Describe(r);
}

// Regression: a schedule edit (PUT /schedules, or `schedule:` in the YAML)
// re-ingested the unchanged file and re-ran every stage after it.
TEST_F(RefreshRunnerTest, ScheduleEditReingestsNothing) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  auto project = ws_->catalog().LoadProject();
  ASSERT_TRUE(project.ok());
  for (auto& source : project->sources) source.schedule = "15 2 * * *";
  project->refresh_schedule = "0 3 * * *";
  ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
  RefreshResult r = Refresh(Options());
  ASSERT_EQ(r.status, "succeeded") << Describe(r);
  EXPECT_EQ(Statuses(r), kAllSkipped) << Describe(r);
  auto ingests = ws_->catalog().ListSourceIngests(r.run_id);
  ASSERT_TRUE(ingests.ok());
  for (const auto& rec : *ingests) EXPECT_EQ(rec.status, "skipped") << rec.source;
}

// One existence check: explain and timeline of an unknown CustomerId are
// both NotFound with the same message (`cdp timeline 999999` used to list
// "0 activities").
TEST_F(RefreshRunnerTest, ExplainAndTimelineOfAnUnknownCustomerAreNotFoundAlike) {
  TimelineQuery q;
  q.customer_id = 999999;
  auto before = ReadTimeline(*ws_, q);
  ASSERT_EQ(before.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(before.status().message(),
            "there is no customer with CustomerId 999999 (there are no customers yet: run a refresh)");
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  auto timeline = ReadTimeline(*ws_, q);
  auto explained = ExplainCustomer(*ws_, 999999);
  ASSERT_EQ(timeline.status().code(), StatusCode::kNotFound);
  ASSERT_EQ(explained.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(timeline.status().message(), "there is no customer with CustomerId 999999");
  EXPECT_EQ(explained.status().message(), timeline.status().message());
  EXPECT_EQ(CheckCustomerExists(*ws_, 999999).message(), timeline.status().message());
}

// A merged customer: its source records and the pairs that joined them,
// read by column name, each pair explained by the rules.
TEST_F(RefreshRunnerTest, ExplainCustomerListsItsRecordsAndExplainedPairs) {
  ASSERT_EQ(Refresh(Options()).status, "succeeded");
  auto tables = LoadLineageTables(*ws_);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  ASSERT_TRUE(tables->match_pairs && tables->match_pairs->num_rows() > 0);
  const int64_t id = tables->match_pairs->ColumnByName("CustomerId")->Int64At(0);
  auto e = ExplainCustomer(*ws_, id);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->customer_id, id);
  ASSERT_EQ(e->profile.num_rows(), 1u);
  EXPECT_EQ(e->profile.ColumnByName("CustomerId")->Int64At(0), id);
  EXPECT_GE(e->records.size(), 2u);
  ASSERT_FALSE(e->pairs.empty());
  std::set<std::string> records;
  for (const auto& r : e->records) records.insert(r.ToString());
  for (const auto& p : e->pairs) {
    EXPECT_TRUE(records.count(p.a.ToString())) << p.a.ToString();
    EXPECT_TRUE(records.count(p.b.ToString())) << p.b.ToString();
    EXPECT_FALSE(p.rule.empty());
    ASSERT_TRUE(p.explanation.has_value());
    EXPECT_TRUE(p.explanation->matched) << p.a.ToString() << " " << p.b.ToString();
  }
  auto json = CustomerExplanationToJson(*e);
  EXPECT_EQ(json["records"].size(), e->records.size());
  EXPECT_TRUE(json["pairs"][0].contains("explanation"));
  // Without explanations, nothing is recomputed.
  ExplainOptions bare;
  bare.explained_pairs = 0;
  auto quick = ExplainCustomer(*ws_, *tables, id, bare);
  ASSERT_TRUE(quick.ok());
  EXPECT_FALSE(quick->pairs[0].explanation.has_value());
  // Rules mode: no model is needed; none was trained.
  EXPECT_EQ(LoadUnifyModel(*ws_).status().code(), StatusCode::kNotFound);
}

// A stage registered by another module (here: an export-like stage that
// reads the segments' members and a definition of its own) runs after the
// built-in ones, is skipped while its inputs are unchanged and runs again
// when one changes; nothing in the runner knows it.
TEST_F(RefreshRunnerTest, RegisteredStageRunsAndIsSkippedByItsFingerprint) {
  std::string destination = "s3://bucket/a";
  int runs = 0;
  StageDescriptor exports;
  exports.name = "exports";
  exports.runs_in_segment_refresh = true;
  exports.inputs = [&](const StageContext&, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    in.AddEntity(snap, SegmentEntityName("CustomersFromCalifornia"));
    in.AddDefinition("destination", destination);
    return in;
  };
  exports.run = [&](const StageContext& c, StageResult* r) -> Status {
    ++runs;
    EXPECT_EQ(c.run_id, c.workspace.catalog().ListRuns(1)->front().id);  // inside the refresh's run
    r->rows_out = 1;
    r->message = "exported to " + destination;
    return Status::Ok();
  };
  ASSERT_TRUE(stages_.Register(exports).ok());
  Status dup = stages_.Register(exports);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();

  RefreshResult first = Refresh(Options());
  ASSERT_EQ(first.status, "succeeded") << Describe(first);
  ASSERT_EQ(first.stages.size(), 7u) << Describe(first);
  EXPECT_EQ(first.stages.back().stage, RefreshStage("exports"));
  EXPECT_EQ(first.stages.back().status, "succeeded");
  EXPECT_EQ(first.stages.back().message, "exported to s3://bucket/a");
  EXPECT_EQ(runs, 1);
  // Its result is in the run history like any other stage's.
  std::vector<StageResult> recorded = StagesOfRun(Run(first.run_id).stats_json);
  ASSERT_EQ(recorded.size(), 7u);
  EXPECT_EQ(recorded.back().stage, RefreshStage("exports"));
  EXPECT_EQ(recorded.back().rows_out, 1);

  RefreshResult unchanged = Refresh(Options());
  ASSERT_EQ(unchanged.status, "succeeded") << Describe(unchanged);
  EXPECT_EQ(unchanged.stages.back().status, "skipped") << Describe(unchanged);
  EXPECT_EQ(runs, 1);

  destination = "s3://bucket/b";  // its own definition changed
  RefreshResult changed = Refresh(Options());
  EXPECT_EQ(changed.stages.back().status, "succeeded") << Describe(changed);
  EXPECT_EQ(runs, 2);

  // A segment refresh the next day writes new members: the stage's input
  // entity changed, so it runs (it also runs in segment refreshes).
  RefreshOptions tomorrow = Options();
  tomorrow.run_date = kDefaultDemoToday + 1;
  tomorrow.segments = {"CustomersFromCalifornia"};
  RefreshResult seg = Refresh(tomorrow);
  ASSERT_EQ(seg.status, "succeeded") << Describe(seg);
  EXPECT_EQ(Statuses(seg), (std::map<std::string, std::string>{
                               {"segments", "succeeded"}, {"index", "succeeded"}, {"exports", "succeeded"}}))
      << Describe(seg);
  EXPECT_EQ(runs, 3);
}

// `cdp run` (a refresh without the server) leaves the search index current:
// a customer added to a source file is found by a search right after.
TEST_F(RefreshRunnerTest, RefreshLeavesTheSearchIndexCurrent) {
  RefreshOptions plain;  // the default stages, as `cdp run` uses them
  plain.threads = 2;
  plain.run_date = kDefaultDemoToday;
  RefreshResult first = Refresh(plain);
  ASSERT_EQ(first.status, "succeeded") << Describe(first);
  ASSERT_EQ(first.stages.back().stage, RefreshStage::kIndex);
  EXPECT_EQ(first.stages.back().status, "succeeded") << Describe(first);

  AddContact({{"ContactId", "ZQ-90001"},
              {"FirstName", "Zebulon"},
              {"LastName", "Quixotewright"},
              {"FullName", "Zebulon Quixotewright"},
              {"Email", "zebulon.q@example.org"},
              {"City", "Seattle"},
              {"State", "WA"}});
  RefreshResult second = Refresh(plain);
  ASSERT_EQ(second.status, "succeeded") << Describe(second);
  EXPECT_EQ(second.stages.back().status, "succeeded") << Describe(second);

  auto index = SearchIndex::Open(SearchIndexDir(*ws_));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  SearchQuery q;
  q.text = "Quixotewright";
  auto found = (*index)->Search(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->total, 1);
  q.text = "zebulon.q@example.org";  // by its email
  found = (*index)->Search(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->total, 1);

  // Unchanged: the index stage is skipped; a lost index is rebuilt though
  // its inputs did not change.
  RefreshResult third = Refresh(plain);
  EXPECT_EQ(third.stages.back().status, "skipped") << Describe(third);
  index->reset();
  fs::remove_all(SearchIndexDir(*ws_));
  RefreshResult fourth = Refresh(plain);
  EXPECT_EQ(fourth.stages.back().status, "succeeded") << Describe(fourth);
  index = SearchIndex::Open(SearchIndexDir(*ws_));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  q.text = "Quixotewright";
  found = (*index)->Search(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->total, 1);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// The measures stage groups only the fields its measures read: a projected
// group has the same customers and rows as the whole one, and its values.
TEST_F(RefreshRunnerTest, ProjectedGroupHoldsTheSameRowsAsTheWholeEntity) {
  Refresh(Options());
  auto project = ws_->catalog().LoadProject();
  ASSERT_TRUE(project.ok());
  auto linked = LinkedEntities::Open(*ws_, *project);
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  const std::string entity = "Online Purchases";
  // The projection first (once the whole entity is loaded, groups reuse it).
  auto part = (*linked)->Group(entity, {"OnlinePurchaseContact"}, {"TotalPrice", "NoSuchField"});
  auto whole = (*linked)->Group(entity, {"OnlinePurchaseContact"});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  ASSERT_NE(*whole, *part);
  EXPECT_EQ((*part)->offsets, (*whole)->offsets);
  EXPECT_EQ((*part)->rows, (*whole)->rows);
  const Table& p = *(*part)->clustered;
  const Table& w = *(*whole)->clustered;
  EXPECT_EQ(p.num_columns(), 2u);  // TotalPrice and the relationship's ContactId
  ASSERT_NE(p.ColumnByName("TotalPrice"), nullptr);
  EXPECT_EQ(p.ColumnByName("ProductId"), nullptr);
  ASSERT_GT(p.num_rows(), 100u);
  for (size_t r = 0; r < p.num_rows(); ++r) {
    ASSERT_EQ(p.ColumnByName("TotalPrice")->ValueToString(r), w.ColumnByName("TotalPrice")->ValueToString(r)) << r;
  }
  // Asked again with the same fields: the same group.
  auto again = (*linked)->Group(entity, {"OnlinePurchaseContact"}, {"NoSuchField", "TotalPrice"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *part);
}

}  // namespace
}  // namespace cdp
