#include "workspace/unify_evaluation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "config/project_config.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

TEST(ScoreClusteringTest, PairwiseBcubedAndExactClustersByHand) {
  // Predicted {1,2,3} {4}; truth {1,2} {3,4}.
  std::vector<LabelledRecord> r = {{10, 1}, {10, 1}, {10, 2}, {20, 2}};
  ClusteringScore s = ScoreClustering(r);
  EXPECT_EQ(s.predicted_pairs, 3);
  EXPECT_EQ(s.true_pairs, 2);
  EXPECT_EQ(s.tp, 1);
  EXPECT_EQ(s.fp, 2);
  EXPECT_EQ(s.fn, 1);
  EXPECT_DOUBLE_EQ(s.precision, 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_DOUBLE_EQ(s.f1, 0.4);
  // B-cubed precision: (2/3 + 2/3 + 1/3 + 1) / 4; recall: (1 + 1 + 1/2 + 1/2) / 4.
  EXPECT_DOUBLE_EQ(s.bcubed_precision, (2.0 / 3 + 2.0 / 3 + 1.0 / 3 + 1) / 4);
  EXPECT_DOUBLE_EQ(s.bcubed_recall, 0.75);
  EXPECT_EQ(s.exact_clusters, 0);
  EXPECT_EQ(s.predicted_clusters, 2);
  EXPECT_EQ(s.true_clusters, 2);
  EXPECT_DOUBLE_EQ(s.cluster_precision, 0);
}

TEST(ScoreClusteringTest, PerfectAndEmptyClusterings) {
  ClusteringScore s = ScoreClustering({{1, 7}, {1, 7}, {2, 8}});
  EXPECT_DOUBLE_EQ(s.f1, 1);
  EXPECT_DOUBLE_EQ(s.bcubed_f1, 1);
  EXPECT_EQ(s.exact_clusters, 2);
  EXPECT_DOUBLE_EQ(s.cluster_f1, 1);
  // All singletons in both: no pairs, precision and recall are 1 by definition.
  ClusteringScore none = ScoreClustering({{1, 1}, {2, 2}});
  EXPECT_EQ(none.tp, 0);
  EXPECT_DOUBLE_EQ(none.precision, 1);
  EXPECT_DOUBLE_EQ(none.recall, 1);
}

const char* kProject = R"(project: e
sources:
  - name: Shop
    kind: csv
    path: shop.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
  - name: Club
    kind: csv
    path: club.csv
    primary_key: CardId
    fields:
      - {name: CardId, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
unification:
  sources: [Shop, Club]
  rules:
    - name: SameEmail
      conditions:
        - {field: Email, normalize: [Email]}
)";

// Shop:1 = Club:C1 (Ann, right), Shop:3 = Club:C2 (a shared family address:
// two people, a false merge), Shop:2 and Club:C3 (Bob, two addresses: a
// miss); Shop:4 is not in the truth.
class UnifyEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_eval_XXXXXX";
    dir_ = mkdtemp(tmpl);
    Write("shop.csv", "Id,Name,Email\n1,Ann,ann@x.org\n2,Bob,bob@x.org\n3,Carl,fam@x.org\n4,Zed,zed@z.org\n");
    Write("club.csv", "CardId,Name,Email\nC1,Ann,ann@x.org\nC2,Dora,fam@x.org\nC3,Bob,bob2@y.org\n");
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
    auto project = ParseProjectYaml(kProject, "project.yaml", dir_.string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name);
    out << text;
  }
  void Unify() {
    auto ingest = IngestSources(*ws_, {"Shop", "Club"}, IngestOptions());
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    auto run = RunUnify(*ws_, UnifyRunOptions());
    ASSERT_TRUE(run.ok()) << run.status().ToString();
  }
  StatusOr<UnifyEvaluation> Evaluate(const std::string& csv) { return EvaluateUnificationText(*ws_, csv, EvaluationOptions()); }

  static constexpr const char* kTruth =
      "source,key,entity\nShop,1,ann\nClub,C1,ann\nShop,2,bob\nClub,C3,bob\nShop,3,carl\nClub,C2,dora\n";
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(UnifyEvaluationTest, ScoresTheWorkspaceByHand) {
  Unify();
  auto e = Evaluate(kTruth);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const ClusteringScore& s = e->score;
  EXPECT_EQ(s.records, 6);
  EXPECT_EQ(e->truth_rows, 6);
  EXPECT_EQ(e->records_not_in_truth, 1);  // Shop:4
  EXPECT_EQ(e->truth_without_profile, 0);
  // Predicted pairs: ann, carl+dora; true pairs: ann, bob.
  EXPECT_EQ(s.tp, 1);
  EXPECT_EQ(s.fp, 1);
  EXPECT_EQ(s.fn, 1);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_DOUBLE_EQ(s.f1, 0.5);
  EXPECT_DOUBLE_EQ(s.bcubed_precision, 5.0 / 6);
  EXPECT_DOUBLE_EQ(s.bcubed_recall, 5.0 / 6);
  EXPECT_EQ(s.predicted_clusters, 4);
  EXPECT_EQ(s.true_clusters, 4);
  EXPECT_EQ(s.exact_clusters, 1);  // ann
  EXPECT_DOUBLE_EQ(s.cluster_precision, 0.25);

  ASSERT_EQ(e->largest_clusters.size(), 4u);
  EXPECT_EQ(e->largest_clusters[0].records, 2);

  ASSERT_EQ(e->false_merges.size(), 1u);
  const FalseMerge& fm = e->false_merges[0];
  EXPECT_EQ(fm.cluster.true_entities, 2);
  EXPECT_EQ(fm.cluster.false_pairs, 1);
  EXPECT_EQ(fm.entity_a, "carl");
  EXPECT_EQ(fm.entity_b, "dora");
  ASSERT_EQ(fm.chain.size(), 1u);
  EXPECT_EQ(fm.chain[0].a, "Shop:3");
  EXPECT_EQ(fm.chain[0].b, "Club:C2");
  EXPECT_EQ(fm.chain[0].rule, "SameEmail");
  EXPECT_EQ(fm.joining_link, 0);
  EXPECT_EQ(fm.explanation.value("matched", false), true) << fm.explanation.dump();
  EXPECT_EQ(fm.explanation.value("matched_by", ""), "SameEmail");

  ASSERT_EQ(e->misses.size(), 1u);
  const Miss& m = e->misses[0];
  EXPECT_EQ(m.entity, "bob");
  EXPECT_EQ(m.profiles, 2);
  EXPECT_EQ(m.missed_pairs, 1);
  EXPECT_EQ(std::set<std::string>({m.a, m.b}), std::set<std::string>({"Shop:2", "Club:C3"}));
  EXPECT_EQ(m.explanation.value("matched", true), false) << m.explanation.dump();

  auto j = UnifyEvaluationToJson(*e);
  EXPECT_DOUBLE_EQ(j["pairwise"]["f1"].get<double>(), 0.5);
  EXPECT_EQ(j["clusters"]["exact"], 1);
  EXPECT_EQ(j["false_merges"][0]["chain"][0]["rule"], "SameEmail");
  EXPECT_EQ(j["misses"][0]["entity"], "bob");

  // Saved for the UI and read back.
  EXPECT_EQ(LoadLastEvaluation(*ws_).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(SaveLastEvaluation(*ws_, j).ok());
  auto last = LoadLastEvaluation(*ws_);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ((*last)["pairwise"], j["pairwise"]);
  EXPECT_TRUE(last->contains("evaluated_at"));
}

TEST_F(UnifyEvaluationTest, PerfectTruthScoresOne) {
  Unify();
  auto e = Evaluate("entity,source,key\nann,Shop,1\nann,Club,C1\nfam,Shop,3\nfam,Club,C2\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_DOUBLE_EQ(e->score.f1, 1);
  EXPECT_DOUBLE_EQ(e->score.bcubed_f1, 1);
  EXPECT_DOUBLE_EQ(e->score.cluster_f1, 1);
  EXPECT_EQ(e->records_not_in_truth, 3);
  EXPECT_TRUE(e->false_merges.empty());
  EXPECT_TRUE(e->misses.empty());
}

TEST_F(UnifyEvaluationTest, BadTruthFilesNameTheLine) {
  Unify();
  auto expect_error = [&](const std::string& csv, const std::string& text) {
    auto e = Evaluate(csv);
    ASSERT_FALSE(e.ok()) << csv;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find(text), std::string::npos) << e.status().message();
  };
  expect_error("source,key,entity\nShop,1,a\nShoop,2,b\n", "truth:3: 'Shoop' is not a unification source (Shop, Club)");
  expect_error("source,key,entity\nShop,98,a\nShop,99,b\n",
               "truth:2: source 'Shop' has no record with key '98', and no truth record names a stored record");
  expect_error("source,key,entity\nShop,1,a\nClub,C1,a\nShop,1,b\n", "truth:4: record Shop:1 is given twice (also line 2)");
  expect_error("source,id,entity\nShop,1,a\n", "truth:1: the header must name the columns source, key and entity");
  expect_error("source,key,entity\nShop,1,a\nShop,2\n", "truth:3: expected 3 fields");
  expect_error("source,key,entity\nShop,1,\n", "truth:2: field 'entity' is empty");
}

TEST_F(UnifyEvaluationTest, FileErrorsNameTheFile) {
  Unify();
  Write("truth.csv", "source,key,entity\nShop,7,a\n");
  std::string path = (dir_ / "truth.csv").string();
  auto e = EvaluateUnificationFile(*ws_, path, EvaluationOptions());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find(path + ":2: source 'Shop' has no record with key '7'"), std::string::npos)
      << e.status().message();
}

// A truth that names a row the ingest quarantined still scores the rest:
// the row counts as a singleton and is reported, not an error.
TEST_F(UnifyEvaluationTest, TruthRecordsMissingFromTheDataAreSingletonsAndCounted) {
  Unify();
  auto e = Evaluate("source,key,entity\nShop,1,a\nShop,99,a\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->truth_not_in_data, 1);
  ASSERT_EQ(e->truth_not_in_data_examples.size(), 1u);
  EXPECT_NE(e->truth_not_in_data_examples[0].find("Shop:99 (truth:3)"), std::string::npos) << e->truth_not_in_data_examples[0];
  EXPECT_EQ(e->truth_without_profile, 1);
  EXPECT_EQ(e->score.fn, 1);  // Shop:1 and Shop:99 are one entity, never joined
}

TEST_F(UnifyEvaluationTest, BeforeUnifyIsAFailedPrecondition) {
  auto ingest = IngestSources(*ws_, {"Shop", "Club"}, IngestOptions());
  ASSERT_TRUE(ingest.ok());
  auto e = Evaluate(kTruth);
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition) << e.status().ToString();
}

}  // namespace
}  // namespace cdp
