#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace cdp {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_catalog_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/catalog.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(CatalogTest, AppliesMigrationsOnceAndReopens) {
  {
    auto c = Catalog::Open(path_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->schema_version(), Catalog::LatestSchemaVersion());
  }
  auto again = Catalog::Open(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), Catalog::LatestSchemaVersion());
}

TEST_F(CatalogTest, RefusesCatalogFromNewerVersion) {
  { ASSERT_TRUE(Catalog::Open(path_).ok()); }
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto c = Catalog::Open(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("newer"), std::string::npos);
}

TEST_F(CatalogTest, StoresAndReplacesTheProject) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto p = ParseProjectYaml(
      "project: demo\nsources:\n  - {name: B, kind: csv, path: b.csv, max_bad_rows: 3}\n"
      "  - {name: A, kind: jsonl, path: a.jsonl}\n",
      "p.yaml", "/base");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*c)->ReplaceProject(*p).ok());
  auto loaded = (*c)->LoadProject();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, *p);  // order of sources kept
  ProjectConfig smaller = *p;
  smaller.sources.pop_back();
  ASSERT_TRUE((*c)->ReplaceProject(smaller).ok());
  EXPECT_EQ((*c)->LoadProject()->sources.size(), 1u);
}

TEST_F(CatalogTest, RecordsRunsAndFindsLastSucceededIngest) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto run = (*c)->BeginRun("ingest");
  ASSERT_TRUE(run.ok());
  SourceIngestRecord ok_rec{*run, "A", "succeeded", 10, 8, 1, 1, 3, "fp1", "", 1, 2};
  SourceIngestRecord failed{*run, "A", "failed", 10, 0, 9, 0, 0, "fp2", "too many bad rows", 3, 4};
  ASSERT_TRUE((*c)->RecordSourceIngest(ok_rec).ok());
  ASSERT_TRUE((*c)->RecordSourceIngest(failed).ok());
  ASSERT_TRUE((*c)->FinishRun(*run, "failed", "A failed", "{}").ok());
  auto last = (*c)->LastSucceededIngest("A");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->fingerprint, "fp1");
  EXPECT_EQ((*last)->generation, 3u);
  EXPECT_FALSE((*c)->LastSucceededIngest("B")->has_value());
  auto runs = (*c)->ListRuns(10);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "failed");
  EXPECT_EQ((*c)->ListSourceIngests(*run)->size(), 2u);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CatalogTest, OverridesAreUnorderedPairsAndReplaceEachOther) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto id = (*c)->AddMatchOverride(MatchOverrideRecord{0, "B", "2", "A", "1", false, "no", 0});
  ASSERT_TRUE(id.ok());
  auto again = (*c)->AddMatchOverride(MatchOverrideRecord{0, "A", "1", "B", "2", true, "yes", 0});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*id, *again);
  auto list = (*c)->ListMatchOverrides();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].always);
  EXPECT_EQ((*list)[0].source_a, "A");
  EXPECT_TRUE((*c)->RemoveMatchOverride(*id).ok());
  EXPECT_EQ((*c)->RemoveMatchOverride(*id).code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, IdChangesAreFoundByEitherSide) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto run = (*c)->BeginRun("unify");
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*c)->RecordIdChanges(*run, {{*run, "merge", 5, {7, 17}}, {*run, "split", 9, {9, 12}}}).ok());
  auto for7 = (*c)->ListIdChanges(7);
  ASSERT_TRUE(for7.ok());
  ASSERT_EQ(for7->size(), 1u);
  EXPECT_EQ((*for7)[0].customer_id, 5);
  EXPECT_EQ((*for7)[0].other_ids, (std::vector<int64_t>{7, 17}));
  EXPECT_EQ((*c)->ListIdChanges(1)->size(), 0u);  // 1 is not 17
  EXPECT_EQ((*c)->ListIdChanges(std::nullopt)->size(), 2u);
}

TEST_F(CatalogTest, SegmentsAndTheirHistory) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Cal", "{}", "draft", "[\"x\"]", 0, 0}).ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Cal", "{\"a\":1}", "active", "[]", 0, 0}).ok());
  auto s = (*c)->GetSegment("Cal");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->status, "active");
  EXPECT_EQ((*s)->definition_json, "{\"a\":1}");
  for (int64_t m : {10, 12, 15}) ASSERT_TRUE((*c)->RecordSegmentCount("Cal", 1, m).ok());
  auto h = (*c)->SegmentHistory("Cal", 2);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].members, 12);
  EXPECT_EQ((*h)[1].members, 15);
  EXPECT_TRUE((*c)->DeleteSegment("Cal").ok());
  EXPECT_EQ((*c)->DeleteSegment("Cal").code(), StatusCode::kNotFound);
  EXPECT_FALSE((*(*c)->GetSegment("Cal")).has_value());
}

}  // namespace
}  // namespace cdp
