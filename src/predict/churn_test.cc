#include "predict/churn.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace cdp {
namespace {

constexpr int32_t kAsOf = 730;
constexpr int32_t kWindow = 90;
constexpr int32_t kC1 = kAsOf - kWindow;  // 640
constexpr int32_t kC0 = kAsOf - 2 * kWindow;  // 550

ChurnOptions TestOptions() {
  ChurnOptions o;
  o.window_days = kWindow;
  o.booster.rounds = 60;
  o.booster.eta = 0.1;
  o.booster.threads = 1;
  return o;
}

// Customers buy every 3-12 days from a start day in [0, 100) until they stop
// (day `stop`, none = kAsOf + 1000). Everyone has random "Visit" activities.
struct World {
  int64_t customers;
  std::vector<int32_t> stop;
  TransactionLogBuilder builder;
  explicit World(int64_t n) : customers(n), stop(n, kAsOf + 1000), builder(n) {}
  void Purchases(uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int64_t c = 0; c < customers; ++c) {
      int32_t d = static_cast<int32_t>(rng() % 100);
      while (d < std::min(stop[c], kAsOf + 200)) {
        builder.AddTransaction(c, d, 5.0 + static_cast<double>(rng() % 50), "p" + std::to_string(rng() % 6));
        d += 3 + static_cast<int32_t>(rng() % 10);
      }
      for (int v = 0; v < 8; ++v) builder.AddOther(c, static_cast<int32_t>(rng() % kAsOf), "Visit");
    }
  }
};

std::vector<std::string> FactorNames(const ChurnScore& s) {
  std::vector<std::string> out;
  for (const auto& f : s.top) out.push_back(f.feature);
  return out;
}

TEST(ChurnFeaturesTest, FeaturesReadOnlyRowsBeforeTheCutoff) {
  TransactionLogBuilder a(1), b(1);
  for (TransactionLogBuilder* t : {&a, &b}) {
    t->AddTransaction(0, 10, 5, "x");
    t->AddTransaction(0, 40, 7, "y");
    t->AddOther(0, 45, "Review");
  }
  // Rows on and after the cut-off (day 50) only in b.
  b.AddTransaction(0, 50, 100, "z");
  b.AddTransaction(0, 70, 100, "z");
  b.AddOther(0, 50, "Review");
  TransactionLog la = *std::move(a).Build(), lb = *std::move(b).Build();
  std::vector<int64_t> rows{0};
  auto fa = BuildChurnFeatures(la, {}, rows, 50, 30);
  auto fb = BuildChurnFeatures(lb, {}, rows, 50, 30);
  ASSERT_TRUE(fa.ok() && fb.ok());
  ASSERT_EQ(fa->names, fb->names);
  for (int64_t j = 0; j < fa->cols(); ++j) {
    float va = fa->at(0, j), vb = fb->at(0, j);
    EXPECT_TRUE(va == vb || (std::isnan(va) && std::isnan(vb))) << fa->names[j];
  }
  // Hand-checked values.
  EXPECT_EQ(fa->at(0, 0), 10);   // days since last purchase: 50 - 40
  EXPECT_EQ(fa->at(0, 3), 12);   // total spend
  EXPECT_EQ(fa->at(0, 5), 40);   // tenure
  EXPECT_EQ(fa->at(0, 6), 1);    // purchase days in the last 30 days (day 40)
  EXPECT_EQ(fa->at(0, 7), 1);    // in the 30 days before: [-10, 20) holds day 10
  EXPECT_EQ(fa->at(0, 10), 30);  // mean gap
  EXPECT_EQ(fa->at(0, 14), 2);   // distinct products
  EXPECT_EQ(fa->names[16], "P(alive) (BG/NBD)");
  EXPECT_EQ(fa->names[17], "expected purchase days in the next 30 days (BG/NBD)");
  EXPECT_EQ(fa->names[18], "Review in the last 30 days");
  EXPECT_EQ(fa->at(0, 18), 1);
  EXPECT_EQ(fa->at(0, 20), 5);   // days since last Review
  auto labels = TransactionalChurnLabels(lb, rows, 50, 30);
  EXPECT_EQ(labels[0], 0);  // bought on day 50
  EXPECT_EQ(TransactionalChurnLabels(la, rows, 50, 30)[0], 1);
}

TEST(ChurnTest, InformationFromAfterTheCutoffNeverReachesTraining) {
  World w(600);
  std::mt19937_64 rng(3);
  for (int64_t c = 0; c < w.customers; ++c) {
    if (rng() % 10 < 4) w.stop[c] = 150 + static_cast<int32_t>(rng() % 700);
  }
  w.Purchases(11);
  TransactionLog probe = *World(w).builder.Build();  // copy of the purchases to read the labels
  std::vector<int64_t> all(w.customers);
  for (int64_t c = 0; c < w.customers; ++c) all[c] = c;
  std::vector<uint8_t> churned_c1 = TransactionalChurnLabels(probe, all, kC1, kWindow);
  std::vector<uint8_t> churned_c0 = TransactionalChurnLabels(probe, all, kC0, kWindow);
  // Planted leaks: a "CancellationCall" on [C1, as_of) exactly for the C1 churners (and on [C0, C1) for
  // nobody), and a profile field equal to the C1 label.
  StaticFeatures profile;
  profile.names = {"label copy", "noise"};
  profile.columns.assign(2, std::vector<float>(w.customers));
  for (int64_t c = 0; c < w.customers; ++c) {
    if (churned_c1[c]) w.builder.AddOther(c, kC1 + static_cast<int32_t>(rng() % kWindow), "CancellationCall");
    profile.columns[0][c] = churned_c1[c];
    profile.columns[1][c] = static_cast<float>(rng() % 1000);
  }
  TransactionLog log = *std::move(w.builder).Build();
  auto model = TrainTransactionalChurn(log, profile, kAsOf, TestOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ChurnEvaluation& ev = model->evaluation;
  ASSERT_EQ(ev.dropped.size(), 1u);
  EXPECT_EQ(ev.dropped[0].feature, "label copy");
  EXPECT_NE(ev.dropped[0].reason.find("looks like the label"), std::string::npos);
  EXPECT_EQ(std::count(model->feature_names.begin(), model->feature_names.end(), "label copy"), 0);
  EXPECT_EQ(std::count(model->feature_names.begin(), model->feature_names.end(), "noise"), 1);
  int leak_features = 0;
  for (const auto& f : ev.importance) {
    if (f.feature.find("CancellationCall") != std::string::npos) {
      ++leak_features;
      EXPECT_EQ(f.total_gain, 0.0) << f.feature;
    }
  }
  EXPECT_EQ(leak_features, 4);  // count in the window, all time, days since, last amount
  EXPECT_LT(ev.auc, 0.999);  // the evaluation did not see the leak either
  EXPECT_GT(std::count(churned_c0.begin(), churned_c0.end(), 1), 0);
}

TEST(ChurnTest, PlantedCauseGradesAAndIsATopFactor) {
  World w(800);
  std::mt19937_64 rng(5);
  std::vector<int32_t> complaint(w.customers, -1);
  for (int64_t c = 0; c < w.customers; ++c) {
    if (rng() % 10 < 4) {
      complaint[c] = 450 + static_cast<int32_t>(rng() % 280);  // [450, 730)
      w.stop[c] = complaint[c] + 1;                             // the complaint is their last contact
    }
  }
  // Some complained in the 15 days before as_of: their last purchase is recent, as for everyone.
  for (int64_t c = 0; c < 40; ++c) {
    complaint[c] = kAsOf - 1 - static_cast<int32_t>(rng() % 15);
    w.stop[c] = complaint[c] + 1;
  }
  w.Purchases(17);
  for (int64_t c = 0; c < w.customers; ++c) {
    if (complaint[c] >= 0) w.builder.AddOther(c, complaint[c], "Complaint");
  }
  TransactionLog log = *std::move(w.builder).Build();
  auto model = TrainTransactionalChurn(log, {}, kAsOf, TestOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ChurnEvaluation& ev = model->evaluation;
  EXPECT_EQ(ev.grade, ModelGrade::kA) << ev.grade_reason;
  EXPECT_GT(ev.auc, ev.baseline_auc);
  EXPECT_GE(ev.accuracy, 0.5);
  EXPECT_EQ(ev.baseline_days, 45);  // 90 and 45 tried; the shorter gap fits buyers every 3-12 days
  auto scores = ScoreTransactionalChurn(*model, log, {}, kAsOf);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  int cause_on_top = 0;
  for (int64_t c = 0; c < 40; ++c) {
    const ChurnScore& s = (*scores)[c];
    ASSERT_TRUE(s.scored);
    auto names = FactorNames(s);
    bool cause = std::any_of(names.begin(), names.end(),
                             [](const std::string& n) { return n.find("Complaint") != std::string::npos; });
    cause_on_top += cause ? 1 : 0;
    EXPECT_TRUE(s.is_churn) << c;
  }
  EXPECT_EQ(cause_on_top, 40);
  // The JSON round trip scores the same.
  auto back = ChurnModel::FromJson(model->ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->evaluation.grade, ev.grade);
  EXPECT_EQ(back->evaluation.ToJson(), ev.ToJson());
  auto again = ScoreTransactionalChurn(*back, log, {}, kAsOf);
  ASSERT_TRUE(again.ok());
  for (int64_t c = 0; c < w.customers; ++c) EXPECT_EQ((*again)[c].probability, (*scores)[c].probability);
}

TEST(ChurnTest, CustomersWithoutHistoryAreNotScored) {
  World w(300);
  std::mt19937_64 rng(9);
  for (int64_t c = 0; c < w.customers; ++c) {
    if (rng() % 10 < 4) w.stop[c] = 150 + static_cast<int32_t>(rng() % 700);
  }
  w.Purchases(21);
  // Customers 300 and 301 exist (a bigger log) but never bought; 301 only visited.
  TransactionLogBuilder big(302);
  TransactionLog small = *std::move(w.builder).Build();
  for (int64_t c = 0; c < small.num_customers(); ++c) {
    for (int64_t k = small.offsets[c]; k < small.offsets[c + 1]; ++k) {
      big.AddTransaction(c, small.day[k], small.amount[k], small.product_names[small.product[k]]);
    }
  }
  big.AddOther(301, 700, "Visit");
  TransactionLog log = *std::move(big).Build();
  auto model = TrainTransactionalChurn(log, {}, kAsOf, TestOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto scores = ScoreTransactionalChurn(*model, log, {}, kAsOf);
  ASSERT_TRUE(scores.ok());
  ASSERT_EQ(scores->size(), 302u);
  EXPECT_TRUE((*scores)[0].scored);
  EXPECT_FALSE((*scores)[300].scored);
  EXPECT_FALSE((*scores)[301].scored);
  EXPECT_TRUE((*scores)[301].top.empty());
}

TEST(ChurnTest, BadOptionsAndShortHistoryAreRefused) {
  World w(50);
  w.Purchases(1);
  TransactionLog log = *std::move(w.builder).Build();
  ChurnOptions o = TestOptions();
  o.window_days = 3;
  auto r = TrainTransactionalChurn(log, {}, kAsOf, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("window_days = 3"), std::string::npos);
  o = TestOptions();
  o.threshold = 1.5;
  EXPECT_EQ(TrainTransactionalChurn(log, {}, kAsOf, o).status().code(), StatusCode::kInvalidArgument);
  auto early = TrainTransactionalChurn(log, {}, 150, TestOptions());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("two windows of history"), std::string::npos);
  StaticFeatures bad;
  bad.names = {"age"};
  bad.columns = {std::vector<float>(3)};
  EXPECT_EQ(TrainTransactionalChurn(log, bad, kAsOf, TestOptions()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ChurnModel::FromJson("{\"kind\":\"churn\",\"version\":2}").ok());
  EXPECT_FALSE(ChurnModel::FromJson(std::string(1000, '[')).ok());
}

}  // namespace
}  // namespace cdp
