#include "workspace/unify_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/project_config.h"
#include "workspace/ingest_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// Five records share a phone (a block over max_block_size 4); three share an
// e-mail and a chain of cities, which the cap of 2 cuts.
const char* kProject = R"(project: r
sources:
  - name: Shop
    kind: csv
    path: shop.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
      - {name: Phone, semantic: Phone}
unification:
  sources:
    - source: Shop
      dedup:
        rules:
          - name: SamePhone
            conditions: [{field: Phone, normalize: [Phone]}]
          - name: SameEmail
            conditions: [{field: Email, normalize: [Email]}]
  max_block_size: 4
  max_cluster_size: 2
)";

class UnifyRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_unify_runner_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ / "shop.csv") << "Id,Name,Email,Phone\n"
                                        "1,Ann,a1@x.org,(206) 555-0100\n"
                                        "2,Bea,a2@x.org,(206) 555-0100\n"
                                        "3,Cid,a3@x.org,(206) 555-0100\n"
                                        "4,Dee,a4@x.org,(206) 555-0100\n"
                                        "5,Eve,a5@x.org,(206) 555-0100\n"
                                        "6,Kim,kim@y.org,\n"
                                        "7,Kim,kim@y.org,\n"
                                        "8,Kim,kim@y.org,\n";
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
    auto project = ParseProjectYaml(kProject, "project.yaml", dir_.string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
    ASSERT_TRUE(IngestSources(*ws_, {"Shop"}, IngestOptions()).ok());
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(UnifyRunnerTest, SkippedBlocksAndCapCutsAreInTheStoredRunStats) {
  auto run = RunUnify(*ws_, UnifyRunOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto stored = ws_->catalog().GetRun(run->run_id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->status, "succeeded");
  auto stats = nlohmann::json::parse(stored->stats_json);
  // The block-size guard: the shared phone's block of 5.
  ASSERT_EQ(stats["skipped_blocks"].size(), 1u);
  EXPECT_EQ(stats["skipped_blocks"][0]["rule"], "SamePhone");
  EXPECT_EQ(stats["skipped_blocks"][0]["records"], 5);
  EXPECT_NE(stats["skipped_blocks"][0]["key"].get<std::string>().find("2065550100"), std::string::npos)
      << stats["skipped_blocks"][0]["key"];
  // The cap: three records joined by e-mail pairs of equal strength, at most
  // two per profile: the three pairs are refused together.
  ASSERT_EQ(stats["cluster_splits"].size(), 1u);
  EXPECT_EQ(stats["cluster_splits"][0]["records"], 3);
  EXPECT_EQ(stats["cluster_splits"][0]["parts"], 3);
  EXPECT_EQ(stats["cluster_splits"][0]["example"], "Shop:6");
  EXPECT_EQ(stats["clustering"]["pairs_split_by_cap"], 3);
  bool block_warning = false, cap_warning = false;
  for (const auto& w : stats["warnings"]) {
    const std::string text = w.get<std::string>();
    block_warning |= text.find("skipped a block of 5 records") != std::string::npos;
    cap_warning |= text.find("Shop:6") != std::string::npos && text.find("max_cluster_size 2") != std::string::npos;
  }
  EXPECT_TRUE(block_warning) << stats["warnings"];
  EXPECT_TRUE(cap_warning) << stats["warnings"];
  // The same numbers in the result the CLI prints.
  EXPECT_EQ(run->stats.matching.skipped_blocks.size(), 1u);
  EXPECT_EQ(run->stats.profiles_out, 8);
}

}  // namespace
}  // namespace cdp
