// The unify stage's incremental runs end to end: a workspace unifies the
// Contoso demo, a source file changes a little, and the next `cdp unify`
// compares only the pairs of the changed records — with the same entities a
// full run writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "table/table_json.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class UnifyIncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_unify_incr_XXXXXX";
    dir_ = mkdtemp(tmpl);
    DemoOptions demo;
    demo.customers = 400;
    demo.seed = 9;
    demo.out_dir = (dir_ / "sources").string();
    DemoSummary summary;
    ASSERT_TRUE(GenerateContosoDemo(demo, &summary).ok());
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
    std::string yaml = Read(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    auto project = ParseProjectYaml(yaml, "project.yaml", dir_.string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
    Ingest();
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  void Ingest() {
    IngestOptions o;
    o.threads = 2;
    auto r = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  UnifyRunResult Unify(bool full) {
    UnifyRunOptions o;
    o.threads = 2;
    o.full = full;
    auto r = RunUnify(*ws_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : UnifyRunResult();
  }
  std::string Entity(std::string_view name) {
    auto snap = ws_->data().Current();
    EXPECT_TRUE(snap.ok());
    auto reader = ws_->data().OpenEntity(*snap, std::string(name));
    EXPECT_TRUE(reader.ok()) << name;
    if (!reader.ok()) return "";
    auto t = (*reader)->ReadAll();
    EXPECT_TRUE(t.ok());
    std::string out;
    for (size_t r = 0; r < t->num_rows(); ++r) {
      AppendRowJson(&out, *t, r);
      out.push_back('\n');
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(UnifyIncrementalTest, ASmallChangeComparesOnlyItsRecordsAndWritesWhatAFullRunWrites) {
  UnifyRunResult first = Unify(false);
  EXPECT_FALSE(first.stats.incremental.incremental);
  EXPECT_EQ(first.stats.incremental.full_reason, "no state of a previous run");

  // Change the e-mail of a few contacts and drop one row.
  fs::path contacts = dir_ / "sources" / "ecommerce_contacts.csv";
  std::istringstream in(Read(contacts));
  std::string line, out;
  int row = 0;
  while (std::getline(in, line)) {
    ++row;
    if (row == 7) continue;
    if (row > 1 && row % 97 == 0) {
      size_t at = line.find('@');
      if (at != std::string::npos) line.insert(at, "x");
    }
    out += line + "\n";
  }
  std::ofstream(contacts, std::ios::binary | std::ios::trunc) << out;
  Ingest();

  UnifyRunResult second = Unify(false);
  const IncrementalStats& inc = second.stats.incremental;
  ASSERT_TRUE(inc.incremental) << inc.full_reason;
  EXPECT_EQ(inc.records_removed, 1);
  EXPECT_GE(inc.records_changed, 2);
  EXPECT_LT(inc.records_compared, second.stats.records_in / 4);
  EXPECT_GT(inc.pairs_carried, 0);
  EXPECT_LT(second.stats.matching.candidate_pairs, first.stats.matching.candidate_pairs);
  std::string customers = Entity(kCustomerEntity), keys = Entity(kSourceKeysEntity), pairs = Entity(kMatchPairsEntity);

  UnifyRunResult full = Unify(true);
  EXPECT_FALSE(full.stats.incremental.incremental);
  EXPECT_EQ(Entity(kCustomerEntity), customers);
  EXPECT_EQ(Entity(kSourceKeysEntity), keys);
  EXPECT_EQ(Entity(kMatchPairsEntity), pairs);
  EXPECT_TRUE(full.id_changes.empty());

  // Nothing changed since: the next run compares nothing and keeps everything.
  UnifyRunResult again = Unify(false);
  ASSERT_TRUE(again.stats.incremental.incremental) << again.stats.incremental.full_reason;
  EXPECT_EQ(again.stats.incremental.records_compared, 0);
  EXPECT_EQ(Entity(kCustomerEntity), customers);
}

}  // namespace
}  // namespace cdp
