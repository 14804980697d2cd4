#include "predict/tree_shap.h"

#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace cdp {
namespace {

// rows x 6 features: the label depends on x0, x1 and an interaction with x2;
// x0 is missing on every 7th row, x3 on every 3rd; x5 is constant.
struct Data {
  FeatureMatrix x;
  std::vector<float> y;
};
Data MakeData(int rows, bool regression) {
  Data d;
  d.x.names = {"a", "b", "c", "d", "e", "constant"};
  d.x.rows = rows;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> u(0, 1);
  for (int i = 0; i < rows; ++i) {
    float v[6] = {u(rng), u(rng), u(rng), u(rng), u(rng), 1.0f};
    float signal = 2 * v[0] - v[1] + (v[2] > 0.5f ? v[3] : -v[3]) + 0.3f * (u(rng) - 0.5f);
    if (i % 7 == 0) v[0] = NAN;
    if (i % 3 == 0) v[3] = NAN;
    for (float f : v) d.x.values.push_back(f);
    d.y.push_back(regression ? signal : (signal > 0.6f ? 1.0f : 0.0f));
  }
  return d;
}

void ExpectEqualToXgboost(const BoosterParams& params, bool regression) {
  Data d = MakeData(600, regression);
  auto b = Booster::Train(d.x, d.y, params);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto shap = TreeShap::Build(*b);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  auto ours = shap->Contributions(d.x, 1);
  auto theirs = b->Contributions(d.x);
  ASSERT_TRUE(ours.ok() && theirs.ok());
  ASSERT_EQ(ours->size(), theirs->size());
  double worst = 0;
  for (size_t i = 0; i < ours->size(); ++i) worst = std::max(worst, std::fabs((*ours)[i] - (*theirs)[i]) * 1.0);
  EXPECT_LT(worst, 2e-5) << "largest difference from XGBoost's pred_contribs";
  // Some contributions are far from zero, so the comparison is not vacuous.
  double largest = 0;
  for (float v : *theirs) largest = std::max(largest, std::fabs(v) * 1.0);
  EXPECT_GT(largest, 0.1);
  // The constant feature never splits.
  for (int64_t r = 0; r < d.x.rows; ++r) EXPECT_EQ((*ours)[r * 7 + 5], 0.0f);
}

TEST(TreeShapTest, EqualsXgboostPredContribsForLogisticModelsWithMissingValues) {
  BoosterParams p;
  p.rounds = 30;
  p.max_depth = 4;
  p.eta = 0.3;
  p.threads = 1;
  ExpectEqualToXgboost(p, false);
}

TEST(TreeShapTest, EqualsXgboostWhenAFeatureRepeatsOnAPath) {
  // Depth 7 on five informative features: paths test a feature more than once.
  BoosterParams p;
  p.rounds = 15;
  p.max_depth = 7;
  p.eta = 0.3;
  p.subsample = 1;
  p.colsample = 1;
  p.threads = 1;
  ExpectEqualToXgboost(p, false);
}

TEST(TreeShapTest, EqualsXgboostForRegression) {
  BoosterParams p;
  p.rounds = 25;
  p.max_depth = 3;
  p.eta = 0.2;
  p.objective = "reg:squarederror";
  p.threads = 1;
  ExpectEqualToXgboost(p, true);
}

TEST(TreeShapTest, SameResultForAnyThreadCount) {
  Data d = MakeData(3000, false);
  BoosterParams p;
  p.rounds = 10;
  p.threads = 1;
  auto b = Booster::Train(d.x, d.y, p);
  ASSERT_TRUE(b.ok());
  auto shap = TreeShap::Build(*b);
  ASSERT_TRUE(shap.ok());
  auto one = shap->Contributions(d.x, 1);
  auto three = shap->Contributions(d.x, 3);
  ASSERT_TRUE(one.ok() && three.ok());
  EXPECT_EQ(*one, *three);
}

TEST(TreeShapTest, RefusesAnEmptyBoosterAndAWrongWidth) {
  Booster empty;
  auto none = TreeShap::Build(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);

  Data d = MakeData(200, false);
  BoosterParams p;
  p.rounds = 5;
  p.threads = 1;
  auto b = Booster::Train(d.x, d.y, p);
  ASSERT_TRUE(b.ok());
  auto shap = TreeShap::Build(*b);
  ASSERT_TRUE(shap.ok());
  FeatureMatrix narrow;
  narrow.names = {"a", "b"};
  narrow.rows = 1;
  narrow.values = {0.5f, 0.5f};
  auto r = shap->Contributions(narrow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("2 features given, the model has 6"), std::string::npos);
}

}  // namespace
}  // namespace cdp
