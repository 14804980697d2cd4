#include "predict/recommend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>

namespace cdp {
namespace {

// Planted co-purchase structure: three product groups (a0..a4, b0..b4,
// c0..c4) and one product everyone likes ("pop"). Group A has 30 customers,
// B and C 15 each. Before the cut-off (day 100) a customer buys 3 of their
// group's 5 products (and "pop" with probability 1/2); in the hold-back
// [100, 130) one of the 2 group products they have not bought. The last
// customer has no purchase at all.
constexpr int32_t kCutoff = 100;
constexpr int32_t kAsOf = 130;
constexpr int kCustomers = 61;

int GroupOf(int c) { return c < 30 ? 0 : c < 45 ? 1 : 2; }

TransactionLog Planted() {
  std::mt19937_64 rng(7);
  TransactionLogBuilder b(kCustomers);
  for (int c = 0; c + 1 < kCustomers; ++c) {
    const std::string g(1, static_cast<char>('a' + GroupOf(c)));
    std::vector<int> items = {0, 1, 2, 3, 4};
    for (int i = 4; i > 0; --i) std::swap(items[i], items[rng() % (i + 1)]);
    for (int i = 0; i < 3; ++i) b.AddTransaction(c, 10 + 10 * i, 5.0, g + std::to_string(items[i]));
    if (rng() % 2 == 0) b.AddTransaction(c, 40, 2.0, "pop");
    b.AddTransaction(c, 110, 5.0, g + std::to_string(items[3 + rng() % 2]));
  }
  auto log = std::move(b).Build();
  EXPECT_TRUE(log.ok());
  return std::move(log).value();
}

RecommendOptions Options(RecommendAlgorithm algorithm, int count = 2) {
  RecommendOptions o;
  o.algorithm = algorithm;
  o.count = count;
  o.factors = 4;  // a few more than the 3 planted groups (8 factors memorise the 60 customers' baskets)
  o.iterations = 10;
  o.neighbours = 10;
  o.threads = 1;
  return o;
}

std::set<int32_t> Bought(const TransactionLog& log, int64_t c, int32_t before) {
  std::set<int32_t> s;
  for (int64_t r = log.offsets[c]; r < log.offsets[c + 1]; ++r)
    if (log.day[r] < before && log.product[r] >= 0) s.insert(log.product[r]);
  return s;
}

RecommendationList Recommend(const TransactionLog& log, const RecommendOptions& o, int32_t as_of = kCutoff) {
  auto model = FitRecommender(log, as_of, o);
  EXPECT_TRUE(model.ok()) << model.status().message();
  auto recs = RecommendProducts(*model, log, as_of, o);
  EXPECT_TRUE(recs.ok()) << recs.status().message();
  return std::move(recs).value();
}

TEST(RecommendTest, AlsAndItemKnnBeatPopularOnPlantedCoPurchases) {
  TransactionLog log = Planted();
  for (RecommendAlgorithm a : {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn}) {
    auto ev = EvaluateRecommender(log, kAsOf, kAsOf - kCutoff, Options(a));
    ASSERT_TRUE(ev.ok()) << ev.status().message();
    SCOPED_TRACE(std::string(RecommendAlgorithmName(a)));
    EXPECT_EQ(ev->customers, 60);
    EXPECT_EQ(ev->cutoff_day, kCutoff);
    EXPECT_GE(ev->success_at_k, 0.9);
    EXPECT_LT(ev->baseline_success_at_k, 0.6);
    EXPECT_GT(ev->precision_at_k, ev->baseline_precision_at_k);
    EXPECT_EQ(ev->grade, ModelGrade::kA);
    EXPECT_EQ(ev->ToJson()["grade"], "A");
  }
  auto pop = EvaluateRecommender(log, kAsOf, kAsOf - kCutoff, Options(RecommendAlgorithm::kPopular));
  ASSERT_TRUE(pop.ok());
  EXPECT_EQ(pop->success_at_k, pop->baseline_success_at_k);
  EXPECT_EQ(pop->grade, ModelGrade::kC);
}

TEST(RecommendTest, MeasureHoldoutCountsHitsByHand) {
  TransactionLogBuilder b(3);
  b.AddTransaction(0, 1, 1, "x");
  b.AddTransaction(0, 11, 1, "y");  // hold-back: y
  b.AddTransaction(1, 1, 1, "x");
  b.AddTransaction(1, 12, 1, "z");  // hold-back: z
  b.AddTransaction(2, 12, 1, "y");  // no history before the cut-off: not evaluated
  auto log = std::move(b).Build();
  ASSERT_TRUE(log.ok());
  const int32_t x = 0, y = 1, z = 2;
  ASSERT_EQ(log->product_names[y], "y");
  RecommendationList recs;
  recs.offsets = {0, 2, 4, 5};
  recs.items = {{y, 1, RecommendReason::kPopular},
                {z, 1, RecommendReason::kPopular},
                {x, 1, RecommendReason::kPopular},
                {y, 1, RecommendReason::kPopular},
                {y, 1, RecommendReason::kPopular}};
  auto h = MeasureHoldout(*log, recs, 10, 20, 2);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->customers, 2);
  EXPECT_EQ(h->successes, 1);
  EXPECT_DOUBLE_EQ(h->success_at_k, 0.5);
  EXPECT_DOUBLE_EQ(h->precision_at_k, 0.25);
  // Only the first k count.
  auto h1 = MeasureHoldout(*log, recs, 10, 20, 1);
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(h1->successes, 1);
  recs.offsets = {0, 2};
  EXPECT_EQ(MeasureHoldout(*log, recs, 10, 20, 2).status().code(), StatusCode::kInvalidArgument);
}

TEST(RecommendTest, NoRepeatNeverRecommendsAPurchasedProductAndCountIsKept) {
  TransactionLog log = Planted();
  for (RecommendAlgorithm a :
       {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn, RecommendAlgorithm::kPopular}) {
    RecommendationList recs = Recommend(log, Options(a, 5));
    ASSERT_EQ(recs.offsets.size(), static_cast<size_t>(kCustomers) + 1);
    for (int64_t c = 0; c < kCustomers; ++c) {
      std::set<int32_t> bought = Bought(log, c, kCutoff);
      EXPECT_EQ(recs.offsets[c + 1] - recs.offsets[c], 5) << "customer " << c;
      std::set<int32_t> seen;
      for (int64_t i = recs.offsets[c]; i < recs.offsets[c + 1]; ++i) {
        EXPECT_EQ(bought.count(recs.items[i].product), 0u) << RecommendAlgorithmName(a) << " customer " << c;
        EXPECT_TRUE(seen.insert(recs.items[i].product).second) << "a product twice";
        EXPECT_NE(recs.items[i].reason, RecommendReason::kPastPurchases);
        if (i > recs.offsets[c] && recs.items[i].reason == recs.items[i - 1].reason)
          EXPECT_LE(recs.items[i].score, recs.items[i - 1].score);
      }
    }
  }
}

TEST(RecommendTest, AllowRepeatGivesPastPurchasesReason) {
  TransactionLog log = Planted();
  RecommendOptions o = Options(RecommendAlgorithm::kAls, 16);
  o.allow_repeat = true;
  RecommendationList recs = Recommend(log, o);
  int past = 0;
  for (int64_t c = 0; c + 1 < kCustomers; ++c) {
    std::set<int32_t> bought = Bought(log, c, kCutoff);
    EXPECT_EQ(recs.offsets[c + 1] - recs.offsets[c], 16);  // every product
    for (int64_t i = recs.offsets[c]; i < recs.offsets[c + 1]; ++i) {
      const bool was_bought = bought.count(recs.items[i].product) > 0;
      EXPECT_EQ(recs.items[i].reason == RecommendReason::kPastPurchases, was_bought);
      past += was_bought;
    }
  }
  EXPECT_GT(past, 0);
}

TEST(RecommendTest, ReasonsFollowTheAlgorithm) {
  TransactionLog log = Planted();
  struct Case {
    RecommendAlgorithm a;
    RecommendReason r;
  };
  for (Case k : {Case{RecommendAlgorithm::kAls, RecommendReason::kSimilarCustomers},
                 Case{RecommendAlgorithm::kItemKnn, RecommendReason::kSimilarProducts},
                 Case{RecommendAlgorithm::kPopular, RecommendReason::kPopular}}) {
    RecommendationList recs = Recommend(log, Options(k.a));
    for (int64_t c = 0; c + 1 < kCustomers; ++c) {
      const Recommendation& first = recs.items[recs.offsets[c]];
      EXPECT_EQ(first.reason, k.r) << RecommendAlgorithmName(k.a) << " customer " << c;
      if (k.a == RecommendAlgorithm::kItemKnn) {
        ASSERT_GE(first.because, 0);
        EXPECT_EQ(Bought(log, c, kCutoff).count(first.because), 1u);
      } else {
        EXPECT_EQ(first.because, -1);
      }
    }
  }
  EXPECT_EQ(RecommendReasonName(RecommendReason::kSimilarCustomers), "similar customers");
  EXPECT_EQ(RecommendReasonName(RecommendReason::kSimilarProducts), "similar products");
  EXPECT_EQ(RecommendReasonName(RecommendReason::kPastPurchases), "past purchases");
  EXPECT_EQ(RecommendReasonName(RecommendReason::kPopular), "popular");
}

TEST(RecommendTest, CustomerWithoutHistoryGetsPopularProducts) {
  TransactionLog log = Planted();
  for (RecommendAlgorithm a : {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn}) {
    RecommendationList recs = Recommend(log, Options(a, 3));
    const int64_t c = kCustomers - 1;
    ASSERT_EQ(recs.offsets[c + 1] - recs.offsets[c], 3);
    const Recommendation& first = recs.items[recs.offsets[c]];
    EXPECT_EQ(first.reason, RecommendReason::kPopular);
    EXPECT_EQ(log.product_names[first.product], "pop");  // bought by about half of the 60
    for (int64_t i = recs.offsets[c]; i < recs.offsets[c + 1]; ++i)
      EXPECT_EQ(recs.items[i].reason, RecommendReason::kPopular);
  }
}

TEST(RecommendTest, ProductFilterIsRespected) {
  TransactionLog log = Planted();
  RecommendOptions o = Options(RecommendAlgorithm::kAls, 4);
  o.products = {"b0", "c3", "pop"};
  RecommendationList recs = Recommend(log, o);
  for (const Recommendation& r : recs.items) {
    const std::string& name = log.product_names[r.product];
    EXPECT_TRUE(name == "b0" || name == "c3" || name == "pop") << name;
  }
  EXPECT_FALSE(recs.items.empty());
  o.products = {"b0", "no-such-product"};
  auto model = FitRecommender(log, kCutoff, o);
  ASSERT_TRUE(model.ok());
  auto bad = RecommendProducts(*model, log, kCutoff, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no-such-product"), std::string::npos);
}

TEST(RecommendTest, LookbackLimitsTheHistory) {
  // Customer 0 bought "old" on day 1 and "x" on day 95; customer 1 only "old" on day 2.
  TransactionLogBuilder b(3);
  b.AddTransaction(0, 1, 1, "old");
  b.AddTransaction(0, 95, 1, "x");
  b.AddTransaction(1, 2, 1, "old");
  b.AddTransaction(2, 96, 1, "x");
  b.AddTransaction(2, 97, 1, "y");
  auto log = std::move(b).Build();
  ASSERT_TRUE(log.ok());
  RecommendOptions o = Options(RecommendAlgorithm::kItemKnn, 5);
  o.lookback_days = 30;
  auto model = FitRecommender(*log, kCutoff, o);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->product_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(model->lookback_days, 30);
  auto recs = RecommendProducts(*model, *log, kCutoff, o);
  ASSERT_TRUE(recs.ok());
  // Customer 1 has no purchase in the last 30 days: popular, and "old" is unknown to the model.
  ASSERT_EQ(recs->offsets[2] - recs->offsets[1], 2);
  EXPECT_EQ(recs->items[recs->offsets[1]].reason, RecommendReason::kPopular);
  // Customer 0: "y" via "x" (similar products), never "x" again.
  ASSERT_EQ(recs->offsets[1] - recs->offsets[0], 1);
  EXPECT_EQ(log->product_names[recs->items[0].product], "y");
  EXPECT_EQ(recs->items[0].reason, RecommendReason::kSimilarProducts);
  EXPECT_EQ(log->product_names[recs->items[0].because], "x");
  // Without the look-back "old" is a product of the model.
  o.lookback_days = 0;
  auto all = FitRecommender(*log, kCutoff, o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->product_names.size(), 3u);
}

TEST(RecommendTest, DeterministicForASeedAndAnyThreadCount) {
  TransactionLog log = Planted();
  for (int factors : {4, 16}) {  // 16: the fixed-size solver path
    for (RecommendAlgorithm a : {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn}) {
      RecommendOptions o = Options(a, 5);
      o.factors = factors;
      auto m1 = FitRecommender(log, kCutoff, o);
      o.threads = 2;
      auto m2 = FitRecommender(log, kCutoff, o);
      ASSERT_TRUE(m1.ok() && m2.ok());
      EXPECT_EQ(m1->ToJson(), m2->ToJson());
      auto r1 = RecommendProducts(*m1, log, kCutoff, o);
      o.threads = 1;
      auto r2 = RecommendProducts(*m1, log, kCutoff, o);
      ASSERT_TRUE(r1.ok() && r2.ok());
      ASSERT_EQ(r1->items.size(), r2->items.size());
      for (size_t i = 0; i < r1->items.size(); ++i) {
        EXPECT_EQ(r1->items[i].product, r2->items[i].product);
        EXPECT_EQ(r1->items[i].score, r2->items[i].score);
      }
    }
  }
  RecommendOptions o = Options(RecommendAlgorithm::kAls);
  auto a = FitRecommender(log, kCutoff, o);
  o.seed = 2;
  auto b = FitRecommender(log, kCutoff, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->item_factors, b->item_factors);  // the seed is used
}

TEST(RecommendTest, ModelJsonRoundTripGivesTheSameRecommendations) {
  TransactionLog log = Planted();
  for (RecommendAlgorithm a :
       {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn, RecommendAlgorithm::kPopular}) {
    RecommendOptions o = Options(a, 3);
    auto m = FitRecommender(log, kCutoff, o);
    ASSERT_TRUE(m.ok());
    auto back = RecommenderModel::FromJson(m->ToJson());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->ToJson(), m->ToJson());
    auto r1 = RecommendProducts(*m, log, kCutoff, o);
    auto r2 = RecommendProducts(*back, log, kCutoff, o);
    ASSERT_TRUE(r1.ok() && r2.ok());
    ASSERT_EQ(r1->items.size(), r2->items.size());
    for (size_t i = 0; i < r1->items.size(); ++i) {
      EXPECT_EQ(r1->items[i].product, r2->items[i].product);
      EXPECT_EQ(r1->items[i].score, r2->items[i].score);
    }
  }
}

TEST(RecommendTest, ModelScoresANewerLogWithUnknownProducts) {
  TransactionLog log = Planted();
  auto m = FitRecommender(log, kCutoff, Options(RecommendAlgorithm::kAls));
  ASSERT_TRUE(m.ok());
  TransactionLogBuilder b(2);
  b.AddTransaction(0, 5, 1, "new-product");
  b.AddTransaction(0, 6, 1, "b0");
  b.AddTransaction(0, 7, 1, "b1");
  b.AddTransaction(1, 5, 1, "new-product");
  auto newer = std::move(b).Build();
  ASSERT_TRUE(newer.ok());
  auto recs = RecommendProducts(*m, *newer, 10, Options(RecommendAlgorithm::kAls));
  ASSERT_TRUE(recs.ok()) << recs.status().message();
  // Products of the model that the newer log lacks cannot be named: only b0/b1 exist there (both bought).
  EXPECT_EQ(recs->offsets, (std::vector<int64_t>{0, 0, 2}));
  EXPECT_EQ(recs->items[0].reason, RecommendReason::kPopular);
}

TEST(RecommendTest, HostileModelJsonIsRefused) {
  TransactionLog log = Planted();
  auto m = FitRecommender(log, kCutoff, Options(RecommendAlgorithm::kAls));
  ASSERT_TRUE(m.ok());
  std::string good = m->ToJson();
  ASSERT_TRUE(RecommenderModel::FromJson(good).ok());
  auto refused = [](const std::string& text, const std::string& expect) {
    auto r = RecommenderModel::FromJson(text);
    ASSERT_FALSE(r.ok()) << text.substr(0, 200);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(expect), std::string::npos) << r.status().message();
  };
  refused("not json", "not valid JSON");
  refused("[1,2]", "not an object");
  refused(std::string(100, '[') + std::string(100, ']'), "nested deeper");
  refused(R"({"format":"x","format":"y"})", "twice");
  const std::string head =
      R"({"format":"cdp-recommender","version":1,"algorithm":"als","as_of_day":1,"lookback_days":0,)"
      R"("products":["a","b"],"popularity":[1,2],)";
  refused(head + R"("als":{"factors":2,"regularization":0.1,"alpha":1,"item_factors":[1,2,3]}})",
          "item_factors");
  refused(head + R"("als":{"factors":2,"regularization":0.1,"alpha":1,"item_factors":[1,2,3,NaN]}})",
          "not valid JSON");
  refused(head + R"("als":{"factors":2,"regularization":0.1,"alpha":1,"item_factors":[1,2,3,1e300]}})",
          "item_factors");
  refused(head + R"("als":{"factors":5000,"regularization":0.1,"alpha":1,"item_factors":[]}})", "factors");
  refused(head + R"("als":{"factors":2,"regularization":-1,"alpha":1,"item_factors":[1,2,3,4]}})",
          "regularization");
  refused(head + R"("als":{"factors":2,"regularization":0.1,"alpha":0,"item_factors":[1,2,3,4]}})", "alpha");
  EXPECT_TRUE(RecommenderModel::FromJson(
                  head + R"("als":{"factors":2,"regularization":0.1,"alpha":1,"item_factors":[1,2,3,4]}})")
                  .ok());
  const std::string knn = R"({"format":"cdp-recommender","version":1,"algorithm":"item_knn","as_of_day":1,)"
                          R"("lookback_days":0,"products":["a","b"],"popularity":[1,2],)";
  refused(knn + R"("item_knn":{"offsets":[0,1,2],"items":[1,7],"similarities":[0.5,0.5]}})", "items");
  refused(knn + R"("item_knn":{"offsets":[0,1,2],"items":[1,0],"similarities":[0.5,-1]}})", "similarities");
  refused(knn + R"("item_knn":{"offsets":[0,2,1],"items":[1,0],"similarities":[0.5,0.5]}})", "offsets");
  refused(knn + R"("item_knn":{"offsets":[0,1,2,3],"items":[1,0],"similarities":[0.5,0.5]}})", "offsets");
  EXPECT_TRUE(RecommenderModel::FromJson(
                  knn + R"("item_knn":{"offsets":[0,1,2],"items":[1,0],"similarities":[0.5,0.5]}})")
                  .ok());
  refused(R"({"format":"cdp-recommender","version":2})", "version");
  refused(R"({"format":"cdp-recommender","version":1,"algorithm":"svd"})", "svd");
  refused(R"({"format":"cdp-recommender","version":1,"algorithm":"popular","as_of_day":1,"lookback_days":0,)"
          R"("products":["a","a"],"popularity":[1,2]})",
          "twice");
  refused(R"({"format":"cdp-recommender","version":1,"algorithm":"popular","as_of_day":1,"lookback_days":0,)"
          R"("products":["a","b"],"popularity":[1]})",
          "popularity");
}

TEST(RecommendTest, InconsistentModelIsRefusedWhenScoring) {
  TransactionLog log = Planted();
  RecommendOptions o = Options(RecommendAlgorithm::kItemKnn);
  auto m = FitRecommender(log, kCutoff, o);
  ASSERT_TRUE(m.ok());
  RecommenderModel bad = *m;
  bad.neighbour_items[0] = 999;
  EXPECT_EQ(RecommendProducts(bad, log, kCutoff, o).status().code(), StatusCode::kInvalidArgument);
  bad = *m;
  bad.popularity.pop_back();
  EXPECT_EQ(RecommendProducts(bad, log, kCutoff, o).status().code(), StatusCode::kInvalidArgument);
  o.algorithm = RecommendAlgorithm::kAls;
  auto als = FitRecommender(log, kCutoff, o);
  ASSERT_TRUE(als.ok());
  bad = *als;
  bad.item_factors.pop_back();
  EXPECT_EQ(RecommendProducts(bad, log, kCutoff, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(RecommendTest, BadOptionsNameTheParameter) {
  TransactionLog log = Planted();
  auto check = [&](RecommendOptions o, const std::string& name) {
    auto m = FitRecommender(log, kCutoff, o);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(m.status().message().rfind(name, 0), 0u) << m.status().message();
  };
  RecommendOptions o;
  o.count = 0;
  check(o, "count");
  o = {};
  o.lookback_days = -1;
  check(o, "lookback_days");
  o = {};
  o.factors = 0;
  check(o, "factors");
  o = {};
  o.alpha = std::nan("");
  check(o, "alpha");
  o = {};
  o.neighbours = 0;
  check(o, "neighbours");
  EXPECT_EQ(EvaluateRecommender(log, kAsOf, 0, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FitRecommender(log, 5, {}).status().code(),
            StatusCode::kFailedPrecondition);  // nothing before day 5
  EXPECT_EQ(ParseRecommendAlgorithm("item_knn").value(), RecommendAlgorithm::kItemKnn);
  EXPECT_EQ(ParseRecommendAlgorithm("als").value(), RecommendAlgorithm::kAls);
  EXPECT_EQ(ParseRecommendAlgorithm("popular").value(), RecommendAlgorithm::kPopular);
  EXPECT_FALSE(ParseRecommendAlgorithm("knn").ok());
}

}  // namespace
}  // namespace cdp
