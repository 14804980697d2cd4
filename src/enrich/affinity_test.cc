#include "enrich/affinity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>

namespace cdp {
namespace {

// Builds AffinityEvents from per-customer lists of (value, weight).
AffinityEvents MakeEvents(int values,
                          const std::vector<std::vector<std::pair<int32_t, double>>>& per_customer,
                          bool weighted) {
  AffinityEvents e;
  for (int v = 0; v < values; ++v) e.value_names.push_back("v" + std::to_string(v));
  e.offsets.push_back(0);
  for (const auto& list : per_customer) {
    for (const auto& [v, w] : list) {
      e.values.push_back(v);
      if (weighted) e.weights.push_back(w);
    }
    e.offsets.push_back(static_cast<int64_t>(e.values.size()));
  }
  return e;
}

// A market of 10 brands; brand b has share ~ (b + 1) / 55 from a background
// population; `extra` customers are appended to it.
std::vector<std::vector<std::pair<int32_t, double>>> Background(int customers, uint64_t seed,
                                                                bool uniform = false) {
  std::mt19937_64 rng(seed);
  std::discrete_distribution<int> brand =
      uniform ? std::discrete_distribution<int>({1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
              : std::discrete_distribution<int>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  std::vector<std::vector<std::pair<int32_t, double>>> out(static_cast<size_t>(customers));
  for (auto& list : out) {
    int k = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < k; ++i) list.push_back({brand(rng), 1.0});
  }
  return out;
}

const CustomerAffinity* Find(const AffinityResult& r, int64_t customer, int32_t value) {
  for (int64_t i = r.offsets[static_cast<size_t>(customer)]; i < r.offsets[static_cast<size_t>(customer) + 1];
       ++i) {
    if (r.affinities[static_cast<size_t>(i)].value == value) return &r.affinities[static_cast<size_t>(i)];
  }
  return nullptr;
}

TEST(AffinityTest, LevelsOfScores) {
  EXPECT_EQ(AffinityLevelOfScore(0), AffinityLevel::kNone);
  EXPECT_EQ(AffinityLevelOfScore(1), AffinityLevel::kLow);
  EXPECT_EQ(AffinityLevelOfScore(34), AffinityLevel::kLow);
  EXPECT_EQ(AffinityLevelOfScore(35), AffinityLevel::kMedium);
  EXPECT_EQ(AffinityLevelOfScore(69), AffinityLevel::kMedium);
  EXPECT_EQ(AffinityLevelOfScore(70), AffinityLevel::kHigh);
  EXPECT_EQ(AffinityLevelOfScore(84), AffinityLevel::kHigh);
  EXPECT_EQ(AffinityLevelOfScore(85), AffinityLevel::kVeryHigh);
  EXPECT_EQ(AffinityLevelOfScore(100), AffinityLevel::kVeryHigh);
  EXPECT_EQ(AffinityLevelName(AffinityLevel::kVeryHigh), "Very high");
}

// Hand-worked: two values, shares exactly known.
TEST(AffinityTest, HandWorkedShrunkLiftAndScore) {
  // Customer 0: 3 events on v0, 1 on v1. Customer 1: 4 events on v1.
  // Population: v0 3/8, v1 5/8.
  AffinityEvents e =
      MakeEvents(2, {{{0, 1}, {0, 1}, {0, 1}, {1, 1}}, {{1, 1}, {1, 1}, {1, 1}, {1, 1}}}, false);
  AffinityOptions o;
  auto r = ComputeAffinities(e, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->values[0].population_share, 3.0 / 8);
  EXPECT_DOUBLE_EQ(r->values[1].population_share, 5.0 / 8);
  // c0, v0: x = 3, E = 4 * 3/8 = 1.5, L = (3 + 2) / (1.5 + 2) = 10/7.
  const CustomerAffinity* a = Find(*r, 0, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_NEAR(a->shrunk_lift, 10.0 / 7, 1e-12);
  EXPECT_NEAR(a->lift, 0.75 / (3.0 / 8), 1e-12);
  EXPECT_EQ(a->score, static_cast<int>(std::lround(100 * std::log(10.0 / 7) / std::log(5.0))));  // 22
  EXPECT_EQ(a->level, AffinityLevel::kLow);
  EXPECT_EQ(a->events, 3);
  // c0, v1: x = 1, E = 2.5: L < 1, no affinity output.
  EXPECT_EQ(Find(*r, 0, 1), nullptr);
  // c1, v1: x = 4, E = 2.5, L = 6 / 4.5 = 4/3 -> score 18.
  const CustomerAffinity* b = Find(*r, 1, 1);
  ASSERT_NE(b, nullptr);
  EXPECT_NEAR(b->shrunk_lift, 4.0 / 3, 1e-12);
  EXPECT_EQ(b->score, 18);
  EXPECT_EQ(r->customers_with_events, 2);
  EXPECT_EQ(r->events, 8);
  EXPECT_EQ(r->values[1].customers, 2);
  EXPECT_EQ(r->values[1].customers_per_level[0], 1);  // c0 on v1: score 0
  EXPECT_EQ(r->values[1].customers_per_level[1], 1);
}

// A customer buying 80% brand X where X holds ~10% of the market is Very high.
TEST(AffinityTest, PlantedBrandPreferenceIsVeryHigh) {
  auto customers = Background(2000, 7, /*uniform=*/true);  // 10 brands of ~10% each
  // Planted: 16 of 20 purchases on brand 2, the other 4 spread.
  const int64_t planted = static_cast<int64_t>(customers.size());
  std::vector<std::pair<int32_t, double>> list;
  for (int i = 0; i < 16; ++i) list.push_back({2, 1});
  for (int i = 0; i < 4; ++i) list.push_back({9 - i, 1});
  customers.push_back(list);
  AffinityEvents e = MakeEvents(10, customers, false);
  auto r = ComputeAffinities(e, AffinityOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NEAR(r->values[2].population_share, 0.10, 0.02);
  const size_t first = static_cast<size_t>(r->offsets[static_cast<size_t>(planted)]);
  ASSERT_EQ(r->offsets[static_cast<size_t>(planted) + 1] - r->offsets[static_cast<size_t>(planted)], 1);
  EXPECT_EQ(r->affinities[first].value, 2);
  EXPECT_EQ(r->affinities[first].level, AffinityLevel::kVeryHigh) << r->affinities[first].score;
  EXPECT_NEAR(r->affinities[first].share, 0.8, 1e-12);
  EXPECT_GE(r->values[2].high_customers, 1);
  // Background customers drew brands at random with at most 8 purchases:
  // none of them can reach Very high (8 of 8 on a 10% brand gives
  // L = 10 / 2.8 = 3.6, score 79).
  for (int v = 0; v < 10; ++v) {
    int64_t very_high =
        r->values[static_cast<size_t>(v)].customers_per_level[static_cast<size_t>(AffinityLevel::kVeryHigh)];
    EXPECT_EQ(very_high, v == 2 ? 1 : 0) << v;
  }
}

// The same preference with 10% exact market share, weighted by amount: the
// shrinkage counts events, not money.
TEST(AffinityTest, AmountsDoNotInflateEvidence) {
  // 9 customers buy brand 1 only (1 event each, amount 1); the 10th buys ten
  // events: 8 of brand 0 and 2 of brand 1. Brand 0's population share by
  // amount is set by the amounts below.
  std::vector<std::vector<std::pair<int32_t, double>>> c(10);
  for (int i = 0; i < 9; ++i) c[static_cast<size_t>(i)] = {{1, 100.0}};
  for (int i = 0; i < 8; ++i) c[9].push_back({0, 1000.0});
  c[9].push_back({1, 500.0});
  c[9].push_back({1, 500.0});
  AffinityEvents e = MakeEvents(2, c, true);
  auto r = ComputeAffinities(e, AffinityOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // p0 = 8000 / (900 + 9000) ; share of c9 on v0 = 8000/9000; n = 10.
  const double p0 = 8000.0 / 9900.0;
  const double s = 8000.0 / 9000.0;
  const CustomerAffinity* a = Find(*r, 9, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_NEAR(a->shrunk_lift, (10 * s + 2) / (10 * p0 + 2), 1e-12);
  // Multiplying every amount by 1000 changes nothing.
  AffinityEvents e2 = e;
  for (double& w : e2.weights) w *= 1000;
  auto r2 = ComputeAffinities(e2, AffinityOptions{});
  ASSERT_TRUE(r2.ok());
  EXPECT_NEAR(Find(*r2, 9, 0)->shrunk_lift, a->shrunk_lift, 1e-12);
  EXPECT_EQ(Find(*r2, 9, 0)->score, a->score);
}

// One purchase of a rare brand is Low at most; a few purchases of it rise.
TEST(AffinityTest, SmallCountsAreShrunk) {
  auto customers = Background(1000, 11);
  // Brand 10 is rare: bought only by the customers added here.
  const int64_t one = static_cast<int64_t>(customers.size());
  customers.push_back({{10, 1}});           // one purchase, only that brand
  customers.push_back({{10, 1}, {10, 1}});  // two
  customers.push_back({{10, 1}, {10, 1}, {10, 1}, {10, 1}, {10, 1}, {10, 1}, {10, 1}, {10, 1}});  // eight
  AffinityEvents e = MakeEvents(11, customers, false);
  auto r = ComputeAffinities(e, AffinityOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_LT(r->values[10].population_share, 0.01);
  const CustomerAffinity* a1 = Find(*r, one, 10);
  const CustomerAffinity* a2 = Find(*r, one + 1, 10);
  const CustomerAffinity* a8 = Find(*r, one + 2, 10);
  ASSERT_NE(a1, nullptr);
  ASSERT_NE(a2, nullptr);
  ASSERT_NE(a8, nullptr);
  EXPECT_GT(a1->lift, 100);  // the raw lift is huge
  EXPECT_EQ(a1->level, AffinityLevel::kLow) << a1->score;
  EXPECT_LE(a1->shrunk_lift, 1.5);
  EXPECT_EQ(a2->level, AffinityLevel::kMedium) << a2->score;
  EXPECT_EQ(a8->level, AffinityLevel::kVeryHigh) << a8->score;
  EXPECT_LT(a1->score, a2->score);
  EXPECT_LT(a2->score, a8->score);
}

TEST(AffinityTest, TopKAndMinScoreAndOrder) {
  // One customer with events on four rare values (counts 4, 3, 2, 1) among
  // a background of value 0.
  std::vector<std::vector<std::pair<int32_t, double>>> c(50, {{0, 1}, {0, 1}});
  std::vector<std::pair<int32_t, double>> l;
  for (int v = 1; v <= 4; ++v) {
    for (int i = 0; i < 5 - v; ++i) l.push_back({v, 1});
  }
  c.push_back(l);
  AffinityEvents e = MakeEvents(5, c, false);
  AffinityOptions o;
  o.top_k = 2;
  auto r = ComputeAffinities(e, o);
  ASSERT_TRUE(r.ok());
  const size_t b = static_cast<size_t>(r->offsets[50]);
  ASSERT_EQ(r->offsets[51] - r->offsets[50], 2);
  EXPECT_EQ(r->affinities[b].value, 1);
  EXPECT_EQ(r->affinities[b + 1].value, 2);
  EXPECT_GE(r->affinities[b].score, r->affinities[b + 1].score);
  // Background customers hold only value 0, whose share is 100/110 < 1:
  // L = 4 / (2 * 100/110 + 2) = 1.048, score 3 (Low), kept with min_score 1, dropped with min_score 35.
  EXPECT_EQ(r->offsets[1] - r->offsets[0], 1);
  o.min_score = 35;
  o.top_k = 10;
  auto r2 = ComputeAffinities(e, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->offsets[1] - r2->offsets[0], 0);
  for (const CustomerAffinity& a : r2->affinities) EXPECT_GE(a.score, 35);
  // Stats count every scored customer, kept or not.
  EXPECT_EQ(r2->values[0].customers, 50);
}

TEST(AffinityTest, CustomersWithoutEventsOrWithZeroWeights) {
  AffinityEvents e = MakeEvents(2, {{}, {{0, 0.0}}, {{0, 1.0}, {1, 1.0}}}, true);
  auto r = ComputeAffinities(e, AffinityOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Customer 2: p0 = p1 = 0.5, x = E = 1, L = 1, score 0: nothing kept.
  EXPECT_EQ(r->offsets, (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(r->customers_with_events, 1);
  EXPECT_EQ(r->values[0].customers, 1);
  EXPECT_EQ(r->values[0].customers_per_level[0], 1);
  EXPECT_EQ(r->events, 2);
  // No customers at all.
  AffinityEvents empty;
  empty.offsets = {0};
  auto r0 = ComputeAffinities(empty, AffinityOptions{});
  ASSERT_TRUE(r0.ok());
  EXPECT_EQ(r0->offsets.size(), 1u);
  EXPECT_TRUE(r0->affinities.empty());
}

TEST(AffinityTest, DeterministicWhateverTheThreads) {
  auto customers = Background(9000, 3);  // more than two chunks of 4096
  AffinityEvents e = MakeEvents(10, customers, true);
  std::mt19937_64 rng(5);
  for (auto& w : e.weights) w = 1 + static_cast<double>(rng() % 1000) / 7.0;
  AffinityOptions o;
  o.threads = 1;
  auto r1 = ComputeAffinities(e, o);
  o.threads = 4;
  auto r4 = ComputeAffinities(e, o);
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r4.ok());
  ASSERT_EQ(r1->offsets, r4->offsets);
  ASSERT_EQ(r1->affinities.size(), r4->affinities.size());
  for (size_t i = 0; i < r1->affinities.size(); ++i) {
    EXPECT_EQ(r1->affinities[i].value, r4->affinities[i].value);
    EXPECT_EQ(r1->affinities[i].score, r4->affinities[i].score);
    EXPECT_EQ(r1->affinities[i].shrunk_lift, r4->affinities[i].shrunk_lift);
  }
  for (size_t v = 0; v < 10; ++v) {
    EXPECT_EQ(r1->values[v].customers_per_level, r4->values[v].customers_per_level);
    EXPECT_EQ(r1->values[v].population_share, r4->values[v].population_share);
  }
}

// Differential: every kept affinity, its order and the per-value level
// counts against a naive computation straight from the definition.
TEST(AffinityTest, MatchesANaiveComputation) {
  std::mt19937_64 rng(21);
  const int values = 7;
  std::vector<std::vector<std::pair<int32_t, double>>> c(600);
  for (auto& l : c) {
    int k = static_cast<int>(rng() % 12);
    int fav = static_cast<int>(rng() % values);
    for (int i = 0; i < k; ++i) {
      int32_t v = rng() % 3 == 0 ? fav : static_cast<int32_t>(rng() % values);
      double w = rng() % 10 == 0 ? 0.0 : 1 + static_cast<double>(rng() % 50);
      l.push_back({v, w});
    }
  }
  AffinityEvents e = MakeEvents(values, c, true);
  AffinityOptions o;
  o.top_k = 2;
  o.min_score = 20;
  o.prior_strength = 1.5;
  o.full_score_lift = 4;
  o.threads = 3;
  auto r = ComputeAffinities(e, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  std::vector<double> pop(values, 0.0);
  double total = 0;
  for (const auto& l : c) {
    for (const auto& [v, w] : l) {
      pop[static_cast<size_t>(v)] += w;
      total += w;
    }
  }
  std::vector<std::array<int64_t, 5>> levels(values);
  for (size_t i = 0; i < c.size(); ++i) {
    std::vector<double> wv(values, 0.0);
    std::vector<int64_t> nv(values, 0);
    double wc = 0;
    int64_t n = 0;
    for (const auto& [v, w] : c[i]) {
      if (w <= 0) continue;
      wv[static_cast<size_t>(v)] += w;
      nv[static_cast<size_t>(v)] += 1;
      wc += w;
      ++n;
    }
    struct Naive {
      int32_t value;
      int score;
      double lift;
    };
    std::vector<Naive> all;
    for (int32_t v = 0; v < values; ++v) {
      if (nv[static_cast<size_t>(v)] == 0) continue;
      double p = pop[static_cast<size_t>(v)] / total;
      double s = wv[static_cast<size_t>(v)] / wc;
      double lift = (n * s + 1.5) / (n * p + 1.5);
      int score =
          lift > 1 ? static_cast<int>(std::lround(std::min(100.0, 100 * std::log(lift) / std::log(4.0)))) : 0;
      levels[static_cast<size_t>(v)][static_cast<size_t>(AffinityLevelOfScore(score))] += 1;
      if (score >= 20) all.push_back({v, score, lift});
    }
    std::sort(all.begin(), all.end(), [](const Naive& a, const Naive& b) {
      if (a.score != b.score) return a.score > b.score;
      if (a.lift != b.lift) return a.lift > b.lift;
      return a.value < b.value;
    });
    if (all.size() > 2) all.resize(2);
    ASSERT_EQ(r->offsets[i + 1] - r->offsets[i], static_cast<int64_t>(all.size())) << i;
    for (size_t j = 0; j < all.size(); ++j) {
      const CustomerAffinity& a = r->affinities[static_cast<size_t>(r->offsets[i]) + j];
      EXPECT_EQ(a.value, all[j].value) << i;
      EXPECT_EQ(a.score, all[j].score) << i;
      EXPECT_NEAR(a.shrunk_lift, all[j].lift, 1e-9) << i;
      EXPECT_EQ(a.level, AffinityLevelOfScore(all[j].score));
    }
  }
  for (int v = 0; v < values; ++v) {
    EXPECT_EQ(r->values[static_cast<size_t>(v)].customers_per_level, levels[static_cast<size_t>(v)]) << v;
    EXPECT_NEAR(r->values[static_cast<size_t>(v)].population_share, pop[static_cast<size_t>(v)] / total,
                1e-12);
  }
}

TEST(AffinityTest, BadOptionsNameTheOption) {
  AffinityEvents e = MakeEvents(2, {{{0, 1}}}, false);
  auto expect_bad = [&](AffinityOptions o, const std::string& name) {
    auto r = ComputeAffinities(e, o);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
  };
  AffinityOptions o;
  o.top_k = 0;
  expect_bad(o, "top_k");
  o = {};
  o.min_score = 0;
  expect_bad(o, "min_score");
  o = {};
  o.min_score = 101;
  expect_bad(o, "min_score");
  o = {};
  o.prior_strength = 0;
  expect_bad(o, "prior_strength");
  o = {};
  o.prior_strength = std::nan("");
  expect_bad(o, "prior_strength");
  o = {};
  o.full_score_lift = 1;
  expect_bad(o, "full_score_lift");
  o = {};
  o.high_score = 0;
  expect_bad(o, "high_score");
}

TEST(AffinityTest, BadEventsNameTheField) {
  auto expect_bad = [&](const AffinityEvents& e, const std::string& name) {
    auto r = ComputeAffinities(e, AffinityOptions{});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
  };
  AffinityEvents good = MakeEvents(2, {{{0, 1}, {1, 2}}}, true);
  AffinityEvents e = good;
  e.offsets.clear();
  expect_bad(e, "offsets");
  e = good;
  e.offsets = {1, 2};
  expect_bad(e, "offsets[0]");
  e = good;
  e.offsets = {0, 3};
  expect_bad(e, "last offset");
  e = good;
  e.offsets = {0, 2, 1, 2};
  expect_bad(e, "offsets decrease");
  e = good;
  e.values[1] = 2;
  expect_bad(e, "values[1]");
  e = good;
  e.values[0] = -1;
  expect_bad(e, "values[0]");
  e = good;
  e.weights[1] = -1;
  expect_bad(e, "weights[1]");
  e = good;
  e.weights[0] = std::numeric_limits<double>::infinity();
  expect_bad(e, "weights[0]");
  e = good;
  e.weights.pop_back();
  expect_bad(e, "weights has 1");
}

}  // namespace
}  // namespace cdp
