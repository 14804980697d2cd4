#include "predict/booster.h"

#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "predict/metrics.h"

namespace cdp {
namespace {

// 300 rows: label = x0 > 0.5 with 5% of the labels flipped; x1 is noise, x2 is
// constant, x0 is missing (NaN) on every 10th row.
struct Data {
  FeatureMatrix x;
  std::vector<float> y;
};
Data MakeData(int rows = 300) {
  Data d;
  d.x.names = {"signal", "noise", "constant"};
  d.x.rows = rows;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  for (int i = 0; i < rows; ++i) {
    float x0 = u(rng), x1 = u(rng);
    bool label = x0 > 0.5f;
    if (u(rng) < 0.05f) label = !label;
    d.x.values.push_back(i % 10 == 0 ? NAN : x0);
    d.x.values.push_back(x1);
    d.x.values.push_back(1.0f);
    d.y.push_back(label ? 1.0f : 0.0f);
  }
  return d;
}

BoosterParams SmallParams() {
  BoosterParams p;
  p.rounds = 20;
  p.max_depth = 3;
  p.eta = 0.3;
  p.threads = 1;
  return p;
}

TEST(BoosterTest, TrainsPredictsAndContributionsSumToTheMargin) {
  Data d = MakeData();
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->num_features(), 3);
  EXPECT_EQ(b->objective(), "binary:logistic");
  auto p = b->Predict(d.x);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 300u);
  std::vector<uint8_t> labels(d.y.begin(), d.y.end());
  EXPECT_GT(Auc(*p, labels), 0.85);
  auto margin = b->PredictMargin(d.x);
  auto contrib = b->Contributions(d.x);
  ASSERT_TRUE(margin.ok() && contrib.ok());
  ASSERT_EQ(contrib->size(), 300u * 4);
  for (int r = 0; r < 300; ++r) {
    double sum = 0;
    for (int c = 0; c < 4; ++c) sum += (*contrib)[r * 4 + c];
    EXPECT_NEAR(sum, (*margin)[r], 1e-4) << "row " << r;
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-(*margin)[r])), (*p)[r], 1e-5);
    EXPECT_EQ((*contrib)[r * 4 + 2], 0.0f);  // the constant feature never splits
  }
}

TEST(BoosterTest, ImportanceIsTotalGainPerFeature) {
  Data d = MakeData();
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(b.ok());
  auto imp = b->Importance();
  ASSERT_TRUE(imp.ok()) << imp.status().ToString();
  ASSERT_EQ(imp->size(), 3u);
  EXPECT_GT((*imp)[0], 5 * (*imp)[1]) << (*imp)[0] << " " << (*imp)[1] << " " << (*imp)[2];
  EXPECT_EQ((*imp)[2], 0.0);
}

TEST(BoosterTest, SameSeedSameModel) {
  Data d = MakeData();
  auto a = Booster::Train(d.x, d.y, SmallParams());
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a->Predict(d.x), *b->Predict(d.x));
}

TEST(BoosterTest, JsonRoundTripPredictsTheSame) {
  Data d = MakeData();
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(b.ok());
  auto json = b->SaveJson();
  ASSERT_TRUE(json.ok());
  auto loaded = Booster::LoadJson(*json);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->num_features(), 3);
  EXPECT_EQ(*loaded->Predict(d.x), *b->Predict(d.x));
  Booster moved = std::move(*loaded);
  EXPECT_EQ(*moved.Contributions(d.x), *b->Contributions(d.x));
}

TEST(BoosterTest, HostileModelJsonIsRefusedWithTheReason) {
  Data d = MakeData(100);
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(b.ok());
  nlohmann::json good = nlohmann::json::parse(*b->SaveJson());
  auto refused = [](const nlohmann::json& j, const std::string& needle) {
    auto r = Booster::LoadJson(j.dump());
    EXPECT_FALSE(r.ok()) << needle;
    if (r.ok()) return;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  auto tree0 = [](nlohmann::json& j) -> nlohmann::json& {
    return j["learner"]["gradient_booster"]["model"]["trees"][0];
  };
  {
    nlohmann::json j = good;
    tree0(j)["left_children"][0] = 0;  // a cycle back to the root
    refused(j, "node 0 has children");
  }
  {
    nlohmann::json j = good;
    tree0(j)["right_children"][0] = 1000000;
    refused(j, "node 0 has children");
  }
  {
    nlohmann::json j = good;
    tree0(j)["split_indices"][0] = 3;
    refused(j, "splits on feature 3 of 3");
  }
  {
    nlohmann::json j = good;
    tree0(j)["base_weights"].erase(0);
    refused(j, "base_weights has");
  }
  {
    nlohmann::json j = good;
    j["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = "999";
    refused(j, "num_trees");
  }
  {
    nlohmann::json j = good;
    j["learner"]["learner_model_param"]["num_class"] = "3";
    refused(j, "multi-class");
  }
  {
    nlohmann::json j = good;
    j["learner"]["gradient_booster"]["name"] = "gblinear";
    refused(j, "gbtree");
  }
  refused(nlohmann::json::object(), "no 'learner'");
  EXPECT_FALSE(Booster::LoadJson("{not json").ok());
  EXPECT_FALSE(Booster::LoadJson(std::string(100000, '[') + std::string(100000, ']')).ok());
}

TEST(BoosterTest, BadInputsNameTheParameter) {
  Data d = MakeData(50);
  BoosterParams p = SmallParams();
  p.eta = 0;
  auto r = Booster::Train(d.x, d.y, p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("booster.eta = 0"), std::string::npos) << r.status().message();
  p = SmallParams();
  p.objective = "multi:softmax";
  EXPECT_FALSE(Booster::Train(d.x, d.y, p).ok());
  std::vector<float> short_labels(10, 0.0f);
  EXPECT_FALSE(Booster::Train(d.x, short_labels, SmallParams()).ok());
  auto b = Booster::Train(d.x, d.y, SmallParams());
  ASSERT_TRUE(b.ok());
  FeatureMatrix two;
  two.names = {"a", "b"};
  two.rows = 1;
  two.values = {1, 2};
  auto pr = b->Predict(two);
  ASSERT_FALSE(pr.ok());
  EXPECT_NE(pr.status().message().find("2 features given, the model has 3"), std::string::npos);
}

}  // namespace
}  // namespace cdp
