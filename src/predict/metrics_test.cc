#include "predict/metrics.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace cdp {
namespace {

TEST(MetricsTest, AucCountsTiesAsHalf) {
  // Positives 0.4 and 0.8, negatives 0.1 and 0.4: pairs 1 + 0.5 + 1 + 1 = 3.5 of 4.
  std::vector<float> s{0.1f, 0.4f, 0.4f, 0.8f};
  std::vector<uint8_t> y{0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(Auc(s, y), 0.875);
}

TEST(MetricsTest, AucPerfectReversedAndOneClass) {
  std::vector<float> s{0.1f, 0.2f, 0.3f, 0.9f};
  EXPECT_DOUBLE_EQ(Auc(s, std::vector<uint8_t>{0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(Auc(s, std::vector<uint8_t>{1, 1, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(Auc(s, std::vector<uint8_t>{1, 1, 1, 1}), 0.5);
  // All tied: no ranking at all.
  std::vector<float> tied{0.5f, 0.5f, 0.5f};
  EXPECT_DOUBLE_EQ(Auc(tied, std::vector<uint8_t>{1, 0, 1}), 0.5);
}

TEST(MetricsTest, AccuracyAndConfusionAtThreshold) {
  std::vector<float> s{0.2f, 0.6f, 0.5f, 0.9f, 0.1f};
  std::vector<uint8_t> y{0, 0, 1, 1, 1};
  // Predicted positive (>= 0.5): rows 1, 2, 3. TP = 2 (rows 2, 3), FP = 1, FN = 1 (row 4), TN = 1.
  Confusion c = ConfusionAt(s, y, 0.5);
  EXPECT_EQ(c.true_positives, 2);
  EXPECT_EQ(c.false_positives, 1);
  EXPECT_EQ(c.false_negatives, 1);
  EXPECT_EQ(c.true_negatives, 1);
  EXPECT_DOUBLE_EQ(Accuracy(s, y, 0.5), 0.6);
  EXPECT_DOUBLE_EQ(c.Precision(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(c.Recall(), 2.0 / 3.0);
}

TEST(MetricsTest, HistogramBinsByClass) {
  std::vector<float> s{0.2f, 0.7f, 1.0f, 0.5f};
  std::vector<uint8_t> y{0, 1, 1, 0};
  auto h = ScoreHistogram(s, y, 2);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].negatives, 1);
  EXPECT_EQ(h[0].positives, 0);
  EXPECT_EQ(h[1].negatives, 1);  // 0.5 opens the upper bin
  EXPECT_EQ(h[1].positives, 2);  // 1.0 is clamped into the last bin
  EXPECT_DOUBLE_EQ(h[1].lo, 0.5);
  EXPECT_DOUBLE_EQ(h[1].hi, 1.0);
}

TEST(MetricsTest, LiftAndGainHandWorked) {
  std::vector<float> s{0.9f, 0.8f, 0.7f, 0.6f};
  std::vector<uint8_t> y{1, 0, 1, 0};
  auto lift = LiftGain(s, y, 4);
  ASSERT_EQ(lift.size(), 4u);
  EXPECT_DOUBLE_EQ(lift[0].share_of_positives, 0.5);  // top row is a positive
  EXPECT_DOUBLE_EQ(lift[0].lift, 2.0);
  EXPECT_DOUBLE_EQ(lift[1].share_of_positives, 0.5);
  EXPECT_DOUBLE_EQ(lift[1].lift, 1.0);
  EXPECT_DOUBLE_EQ(lift[2].share_of_positives, 1.0);
  EXPECT_DOUBLE_EQ(lift[3].share_of_positives, 1.0);
  EXPECT_DOUBLE_EQ(lift[3].lift, 1.0);
}

TEST(MetricsTest, LiftSplitsTiesInProportion) {
  // The top quarter takes one of two rows tied at 0.9, one of which is positive: half a positive expected.
  std::vector<float> s{0.9f, 0.9f, 0.1f, 0.1f};
  std::vector<uint8_t> y{0, 1, 0, 0};
  auto lift = LiftGain(s, y, 4);
  EXPECT_DOUBLE_EQ(lift[0].share_of_positives, 0.5);
  EXPECT_DOUBLE_EQ(lift[0].lift, 2.0);
  EXPECT_DOUBLE_EQ(lift[1].share_of_positives, 1.0);
}

TEST(MetricsTest, CalibrationMeansPerBinAndOmitsEmptyBins) {
  std::vector<float> s{0.05f, 0.15f, 0.12f, 0.95f};
  std::vector<uint8_t> y{0, 1, 0, 1};
  auto cal = Calibration(s, y, 10);
  ASSERT_EQ(cal.size(), 3u);
  EXPECT_NEAR(cal[0].mean_predicted, 0.05, 1e-7);
  EXPECT_DOUBLE_EQ(cal[0].observed_rate, 0.0);
  EXPECT_EQ(cal[1].count, 2);
  EXPECT_NEAR(cal[1].mean_predicted, 0.135, 1e-7);
  EXPECT_DOUBLE_EQ(cal[1].observed_rate, 0.5);
  EXPECT_DOUBLE_EQ(cal[2].observed_rate, 1.0);
}

TEST(MetricsTest, JsonShapes) {
  std::vector<float> s{0.2f, 0.8f};
  std::vector<uint8_t> y{0, 1};
  EXPECT_EQ(ToJson(LiftGain(s, y, 2)).size(), 2u);
  EXPECT_EQ(ToJson(ScoreHistogram(s, y, 5))[4]["positives"], 1);
  EXPECT_EQ(ToJson(Calibration(s, y, 5))[0]["count"], 1);
  EXPECT_EQ(ToJson(ConfusionAt(s, y, 0.5))["accuracy"], 1.0);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST(MetricsTest, SpearmanAveragesTiedRanks) {
  const std::vector<double> a{1, 2, 3, 4, 5};
  EXPECT_NEAR(Spearman(a, std::vector<double>{10, 20, 30, 40, 50}), 1.0, 1e-12);
  EXPECT_NEAR(Spearman(a, std::vector<double>{5, 4, 3, 2, 1}), -1.0, 1e-12);
  // Ties: ranks of b are 1.5, 1.5, 3, 4, 5 -> Pearson of the ranks.
  EXPECT_NEAR(Spearman(a, std::vector<double>{0, 0, 1, 2, 3}), 0.9746794344808963, 1e-12);
  EXPECT_EQ(Spearman(a, std::vector<double>{7, 7, 7, 7, 7}), 0.0);
  EXPECT_EQ(Spearman(std::vector<double>{1}, std::vector<double>{2}), 0.0);
}

}  // namespace
}  // namespace cdp
