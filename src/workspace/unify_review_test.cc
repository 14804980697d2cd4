#include "workspace/unify_review.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/entity_names.h"
#include "config/project_config.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

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
unification:
  sources: [Shop]
  rules:
    - name: SameEmail
      conditions:
        - {field: Email, normalize: [Email]}
)";

class UnifyReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_review_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ / "shop.csv") << "Id,Name,Email\n1,Ann,ann@x.org\n2,Anne,ann@y.org\n3,Bob,bob@x.org\n4,Rob,bob@y.org\n";
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
    auto project = ParseProjectYaml(kProject, "project.yaml", dir_.string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
    ASSERT_TRUE(IngestSources(*ws_, {"Shop"}, IngestOptions()).ok());
    auto run = RunUnify(*ws_, UnifyRunOptions());
    ASSERT_TRUE(run.ok()) << run.status().ToString();
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  // Replaces UnificationReviewPairs as a unify would write it.
  void WriteReviewPairs(const std::vector<ReviewQueuePair>& pairs) {
    auto gen = ws_->data().BeginGeneration();
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    auto t = ReviewPairsTable(pairs);
    auto w = (*gen)->WriteEntity(std::string(kReviewPairsEntity), t->schema(), "{\"stage\":\"unify\"}");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append(*t).ok());
    ASSERT_TRUE((*gen)->Commit().ok());
  }
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(UnifyReviewTest, UnifyWritesTheEntityAndTheQueueStartsEmptyInRulesMode) {
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE(snap->entities.count(std::string(kReviewPairsEntity)));
  auto q = ListReviewQueue(*ws_, 10);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->total, 0);
  EXPECT_TRUE(q->pairs.empty());
}

TEST_F(UnifyReviewTest, QueueListsPairsInUnifysOrderAndAcceptAddsAnAlwaysOverride) {
  WriteReviewPairs({{"Shop", "3", "Shop", "4", 0.81, 2.1, "probabilistic"}, {"Shop", "1", "Shop", "2", 0.62, 0.7, "probabilistic"}});
  auto q = ListReviewQueue(*ws_, 10);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->total, 2);
  ASSERT_EQ(q->pairs.size(), 2u);
  EXPECT_EQ(q->pairs[0].key_a, "3");
  EXPECT_DOUBLE_EQ(q->pairs[0].probability, 0.81);
  EXPECT_EQ(q->pairs[1].key_a, "1");
  auto limited = ListReviewQueue(*ws_, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->total, 2);
  EXPECT_EQ(limited->pairs.size(), 1u);
  // The second page holds the second pair; past the end, none.
  auto second = ListReviewQueue(*ws_, 1, 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 2);
  ASSERT_EQ(second->pairs.size(), 1u);
  EXPECT_EQ(second->pairs[0].key_a, "1");
  EXPECT_TRUE(ListReviewQueue(*ws_, 10, 5)->pairs.empty());

  // Accepting names the records in either order.
  auto d = DecideReviewPair(*ws_, "Shop:4", "Shop:3", true, "");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto overrides = ws_->catalog().ListMatchOverrides();
  ASSERT_TRUE(overrides.ok());
  ASSERT_EQ(overrides->size(), 1u);
  const auto& o = overrides->front();
  EXPECT_EQ(o.id, d->override_id);
  EXPECT_TRUE(o.always);
  EXPECT_EQ(o.key_a, "3");
  EXPECT_EQ(o.key_b, "4");
  EXPECT_NE(o.note.find("review: accepted at match probability 0.81"), std::string::npos) << o.note;

  q = ListReviewQueue(*ws_, 10);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->total, 1);
  EXPECT_EQ(q->decided, 1);
  EXPECT_EQ(q->pairs[0].key_a, "1");

  // A decided pair is no longer in the queue.
  EXPECT_EQ(DecideReviewPair(*ws_, "Shop:3", "Shop:4", false, "").status().code(), StatusCode::kNotFound);

  // Rejecting adds a never override with the given note; the queue is empty.
  auto r = DecideReviewPair(*ws_, "Shop:1", "Shop:2", false, "two sisters");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  overrides = ws_->catalog().ListMatchOverrides();
  ASSERT_EQ(overrides->size(), 2u);
  bool found = false;
  for (const auto& x : *overrides) {
    if (x.id == r->override_id) {
      found = true;
      EXPECT_FALSE(x.always);
      EXPECT_EQ(x.note, "two sisters");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(ListReviewQueue(*ws_, 10)->total, 0);

  // The accepted pair merges at the next unify; the override is applied.
  auto run = RunUnify(*ws_, UnifyRunOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->stats.profiles_out, 3);
  EXPECT_EQ(run->stats.overrides_always, 1);
}

TEST_F(UnifyReviewTest, BadReferencesAndPairsOutsideTheQueue) {
  WriteReviewPairs({{"Shop", "1", "Shop", "2", 0.7, 1.2, "probabilistic"}});
  auto bad = DecideReviewPair(*ws_, "Nope:1", "Shop:2", true, "");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'Nope:1' is not SOURCE:KEY"), std::string::npos) << bad.status().message();
  auto missing = DecideReviewPair(*ws_, "Shop:1", "Shop:3", true, "");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("not in the review queue"), std::string::npos);
  EXPECT_TRUE(ws_->catalog().ListMatchOverrides()->empty());
}

}  // namespace
}  // namespace cdp
