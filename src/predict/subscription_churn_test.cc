#include "predict/subscription_churn.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace cdp {
namespace {

TEST(SubscriptionChurnTest, LabelsFollowTheRenewalRule) {
  SubscriptionLogBuilder b(4);
  b.Add(0, 10, 50, true, 30, 10);
  b.Add(0, 55, kSubscriptionRunning, true, 30, 10);  // renewed 5 days after the end
  b.Add(1, 10, 50, true, 30, 10);                    // not renewed
  b.Add(2, 10, 100, true, 30, 10);                   // ends after the window
  b.Add(3, 10, 30, true, 30, 10);                    // ended before the cut-off: not a row
  auto log = std::move(b).Build();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto rows = CustomersWithRunningSubscription(*log, 40);
  EXPECT_EQ(rows, (std::vector<int64_t>{0, 1, 2}));
  auto y = SubscriptionChurnLabels(*log, rows, 40, 20, 10);
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1, 0}));
  // With no renewal grace the 5-day gap is churn.
  EXPECT_EQ(SubscriptionChurnLabels(*log, rows, 40, 20, 0), (std::vector<uint8_t>{1, 1, 0}));
}

TEST(SubscriptionChurnTest, BuilderRefusesBadRows) {
  SubscriptionLogBuilder b(2);
  b.Add(0, 10, 5, true, 30, 10);
  auto r = std::move(b).Build();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("before its start"), std::string::npos);
  SubscriptionLogBuilder c(2);
  c.Add(2, 10, 50, true, 30, 10);
  EXPECT_EQ(std::move(c).Build().status().code(), StatusCode::kInvalidArgument);
}

constexpr int32_t kAsOf = 1000;

// 500 customers, joining over the first 800 days, on 90-day recurring terms; 30% are unhappy: they file
// support tickets in the 60 days before a term they will not renew (and do
// not renew it with probability 0.5); the happy ones leave with probability
// 0.05 per term. Subscriptions still running at kAsOf have no end yet.
struct SubscriptionWorld {
  SubscriptionLog subs;
  TransactionLog activities;
};
SubscriptionWorld MakeWorld() {
  const int64_t n = 500;
  std::mt19937_64 rng(13);
  SubscriptionLogBuilder sb(n);
  TransactionLogBuilder ab(n);
  for (int64_t c = 0; c < n; ++c) {
    bool unhappy = rng() % 10 < 3;
    float amount = 10 + static_cast<float>(rng() % 20);
    int32_t start = static_cast<int32_t>(rng() % 800);  // a steady inflow of new subscribers
    while (start < kAsOf) {
      int32_t end = start + 90;
      bool leaves = (rng() % 1000) < (unhappy ? 500u : 50u);
      if (leaves) {
        for (int t = 0; t < 3; ++t) ab.AddOther(c, end - 1 - static_cast<int32_t>(rng() % 60), "SupportTicket");
      }
      ab.AddTransaction(c, start, amount, "plan");
      for (int v = 0; v < 3; ++v) ab.AddOther(c, start + static_cast<int32_t>(rng() % 90), "Login");
      sb.Add(c, start, end >= kAsOf ? kSubscriptionRunning : end, true, 30, amount);
      if (leaves) break;
      start = end + 1 + static_cast<int32_t>(rng() % 10);
    }
  }
  return {*std::move(sb).Build(), *std::move(ab).Build()};
}

SubscriptionChurnOptions TestOptions() {
  SubscriptionChurnOptions o;
  o.booster.rounds = 60;
  o.booster.eta = 0.1;
  o.booster.threads = 1;
  return o;
}

TEST(SubscriptionChurnTest, TrainsGradesAndScoresRunningSubscribersOnly) {
  SubscriptionWorld w = MakeWorld();
  auto model = TrainSubscriptionChurn(w.subs, w.activities, {}, kAsOf, TestOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ChurnEvaluation& ev = model->evaluation;
  EXPECT_EQ(ev.kind, "subscription");
  EXPECT_EQ(ev.horizon_days, 120);
  EXPECT_EQ(ev.evaluation_cutoff, kAsOf - 120);
  EXPECT_GT(ev.auc, 0.75);
  EXPECT_EQ(ev.baseline_churn_class_accuracy, ev.training_base_rate);
  EXPECT_EQ(ev.grade, ModelGrade::kA) << ev.grade_reason;
  EXPECT_NE(ev.importance[0].feature.find("SupportTicket"), std::string::npos) << ev.importance[0].feature;
  auto scores = ScoreSubscriptionChurn(*model, w.subs, w.activities, {}, kAsOf);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  auto running = CustomersWithRunningSubscription(w.subs, kAsOf);
  int64_t scored = std::count_if(scores->begin(), scores->end(), [](const ChurnScore& s) { return s.scored; });
  EXPECT_EQ(scored, static_cast<int64_t>(running.size()));
  EXPECT_LT(scored, 500);
  // The model JSON keeps the kind and the renewal days; a transactional scorer refuses it.
  auto back = ChurnModel::FromJson(model->ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, "subscription");
  EXPECT_EQ(back->renewal_days, 30);
  EXPECT_EQ(ScoreTransactionalChurn(*back, w.activities, {}, kAsOf).status().code(), StatusCode::kInvalidArgument);
}

TEST(SubscriptionChurnTest, ScoresDoNotReadAFutureEnd) {
  // The same subscription recorded with its (future) end on day 50 and as still running: scored on day 40
  // the model sees the same inputs.
  SubscriptionLogBuilder a(1), b(1);
  a.Add(0, 10, 50, true, 30, 10);
  b.Add(0, 10, kSubscriptionRunning, true, 30, 10);
  SubscriptionLog la = *std::move(a).Build(), lb = *std::move(b).Build();
  TransactionLog acts = *TransactionLogBuilder(1).Build();
  SubscriptionWorld w = MakeWorld();
  auto model = TrainSubscriptionChurn(w.subs, w.activities, {}, kAsOf, TestOptions());
  ASSERT_TRUE(model.ok());
  auto sa = ScoreSubscriptionChurn(*model, la, acts, {}, 40);
  auto sb = ScoreSubscriptionChurn(*model, lb, acts, {}, 40);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_TRUE((*sa)[0].scored);
  EXPECT_EQ((*sa)[0].probability, (*sb)[0].probability);
}

TEST(SubscriptionChurnTest, BadOptionsAndShortHistory) {
  SubscriptionWorld w = MakeWorld();
  SubscriptionChurnOptions o = TestOptions();
  o.renewal_days = -1;
  auto r = TrainSubscriptionChurn(w.subs, w.activities, {}, kAsOf, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("renewal_days = -1"), std::string::npos);
  auto early = TrainSubscriptionChurn(w.subs, w.activities, {}, 200, TestOptions());
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  TransactionLog other = *TransactionLogBuilder(3).Build();
  EXPECT_EQ(TrainSubscriptionChurn(w.subs, other, {}, kAsOf, TestOptions()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdp
