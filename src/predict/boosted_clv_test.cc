#include "predict/boosted_clv.h"

#include <cmath>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "predict/metrics.h"

namespace cdp {
namespace {

constexpr int32_t kStart = 20000;  // a day number; the log covers kStart .. kStart + 3 * 365

// `customers` steady buyers over three years: each buys every `gap` days
// (7..70, by customer) a basket of about `spend` (10..200), so the next
// horizon's spend follows from the history; a few stop after the first year.
TransactionLog MakeLog(int customers, uint64_t seed, bool far_future_rows = false) {
  TransactionLogBuilder b(customers);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int c = 0; c < customers; ++c) {
    const int gap = 7 + static_cast<int>(u(rng) * 63);
    const double spend = 10 + u(rng) * 190;
    const int first = static_cast<int>(u(rng) * 120);
    const int stop = u(rng) < 0.2 ? 365 + static_cast<int>(u(rng) * 600) : 3 * 365;
    for (int d = first; d < stop; d += gap + static_cast<int>(u(rng) * 5)) {
      b.AddTransaction(c, kStart + d, std::round(spend * (0.8 + 0.4 * u(rng)) * 100) / 100, "P" + std::to_string(c % 7));
    }
    if (far_future_rows && c % 5 == 0) b.AddTransaction(c, kStart + 3 * 365 + 200, 1e6, "P0");
  }
  return *std::move(b).Build();
}

ClvOptions Options() {
  ClvOptions o;
  o.horizon_days = 180;
  return o;
}

StatusOr<BoostedClvModel> Fit(const TransactionLog& log, int32_t label_start) {
  auto bgnbd = FitClv(log, label_start, Options());
  if (!bgnbd.ok()) return bgnbd.status();
  return FitBoostedClv(log, label_start, Options(), *bgnbd);
}

TEST(BoostedClvTest, LearnsNextHorizonSpendFromHistory) {
  TransactionLog log = MakeLog(1200, 3);
  const int32_t as_of = kStart + 3 * 365;
  auto m = Fit(log, as_of - 180);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->training_customers, 1200);
  // Predict from the end of the log; compare with each customer's spend rate.
  auto p = PredictBoostedClv(*m, log, as_of - 180);
  ASSERT_TRUE(p.ok());
  std::vector<double> predicted, actual;
  for (int64_t c = 0; c < log.num_customers(); ++c) {
    double after = 0;
    for (int64_t i = log.offsets[c]; i < log.offsets[c + 1]; ++i) after += log.day[i] >= as_of - 180 ? log.amount[i] : 0;
    predicted.push_back((*p)[static_cast<size_t>(c)]);
    actual.push_back(after);
    EXPECT_GE(predicted.back(), 0.0);
  }
  // In-sample here (the same window it was fitted on): the signal is there.
  EXPECT_GT(Spearman(predicted, actual), 0.9);
}

TEST(BoostedClvTest, NeverReadsRowsAfterTheLabelWindow) {
  // Huge transactions 200 days after the log's end (after cut-off + horizon)
  // change neither the features nor the labels of a fit at as_of - 180.
  const int32_t as_of = kStart + 3 * 365;
  auto a = Fit(MakeLog(1000, 5, false), as_of - 180);
  auto b = Fit(MakeLog(1000, 5, true), as_of - 180);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a->ToJson(), *b->ToJson());
}

TEST(BoostedClvTest, ComparisonFollowsTheDataRule) {
  const int32_t as_of = kStart + 3 * 365;
  {
    TransactionLog log = MakeLog(1200, 9);
    auto ev = EvaluateClv(log, as_of, Options());
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto c = CompareClvModels(log, as_of, Options(), *ev);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE(c->eligible) << c->eligibility;
    EXPECT_EQ(c->training_customers, 1200);
    EXPECT_EQ(c->customers, 1200);
    EXPECT_GT(c->boosted.spearman, 0.5);
    EXPECT_EQ(c->use_boosted, c->boosted.found > c->bgnbd.found && c->boosted.mae <= c->bgnbd.mae);
    EXPECT_EQ(c->ToJson()["model_used"], c->use_boosted ? "boosted" : "bgnbd_gamma_gamma");
    // The comparison's BG/NBD figures are the evaluation's own.
    EXPECT_EQ(c->bgnbd.found, ev->model_found);
    EXPECT_EQ(c->baseline.found, ev->baseline_found);
    EXPECT_NEAR(c->bgnbd.mae, ev->mae, 1e-9);
  }
  {
    // Too few customers two horizons before as_of.
    TransactionLog log = MakeLog(400, 9);
    auto ev = EvaluateClv(log, as_of, Options());
    ASSERT_TRUE(ev.ok());
    auto c = CompareClvModels(log, as_of, Options(), *ev);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->eligible);
    EXPECT_FALSE(c->use_boosted);
    EXPECT_NE(c->eligibility.find("needs at least 1000"), std::string::npos) << c->eligibility;
  }
  {
    // History shorter than two horizons.
    TransactionLog log = MakeLog(1200, 9);
    ClvOptions o;
    o.horizon_days = 600;
    auto ev = EvaluateClv(log, as_of, o);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto c = CompareClvModels(log, as_of, o, *ev);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->eligible);
    EXPECT_NE(c->eligibility.find("two horizons"), std::string::npos) << c->eligibility;
  }
}

TEST(BoostedClvTest, JsonRoundTripAndHostileModels) {
  TransactionLog log = MakeLog(1000, 11);
  const int32_t as_of = kStart + 3 * 365;
  auto m = Fit(log, as_of - 180);
  ASSERT_TRUE(m.ok());
  auto json = m->ToJson();
  ASSERT_TRUE(json.ok());
  // The stage tells the CLV models apart by this prefix.
  EXPECT_TRUE(json->starts_with(kBoostedClvJsonPrefix)) << json->substr(0, 40);
  EXPECT_FALSE(m->bgnbd.ToJson().starts_with(kBoostedClvJsonPrefix));
  auto back = BoostedClvModel::FromJson(*json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*PredictBoostedClv(*back, log, as_of), *PredictBoostedClv(*m, log, as_of));
  EXPECT_EQ(back->horizon_days, 180);
  EXPECT_EQ(back->bgnbd.ToJson(), m->bgnbd.ToJson());
  auto full = PredictClvBoosted(*back, log, as_of, Options());
  ASSERT_TRUE(full.ok());
  auto values = PredictBoostedClv(*m, log, as_of);
  int64_t high = 0;
  for (size_t c = 0; c < full->size(); ++c) {
    ASSERT_TRUE((*full)[c].scored);
    EXPECT_EQ((*full)[c].clv, (*values)[c]);
    high += (*full)[c].high_value;
  }
  EXPECT_GT(high, 0);
  EXPECT_LT(high, log.num_customers());

  auto refuse = [](const std::string& text, const std::string& needle) {
    auto r = BoostedClvModel::FromJson(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  nlohmann::json j = nlohmann::json::parse(*json);
  refuse("[]", "not a JSON object");
  nlohmann::json k = j;
  k["kind"] = "clv";
  refuse(k.dump(), "kind");
  k = j;
  k["feature_names"].push_back("extra");
  refuse(k.dump(), "feature names for a booster of");
  k = j;
  k["horizon_days"] = 0;
  refuse(k.dump(), "horizon_days");
  k = j;
  k.erase("booster");
  refuse(k.dump(), "booster missing");
  k = j;
  k["bgnbd"]["bgnbd"]["r"] = -1;
  EXPECT_FALSE(BoostedClvModel::FromJson(k.dump()).ok());
}

}  // namespace
}  // namespace cdp
