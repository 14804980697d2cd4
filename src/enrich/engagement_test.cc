#include "enrich/engagement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <random>

#include "common/datetime.h"

namespace cdp {
namespace {

// (day, type) lists per customer -> EngagementEvents over `types` types.
EngagementEvents MakeEvents(int types,
                            const std::vector<std::vector<std::pair<int32_t, int32_t>>>& per_customer) {
  EngagementEvents e;
  for (int t = 0; t < types; ++t) e.type_names.push_back("t" + std::to_string(t));
  e.offsets.push_back(0);
  for (const auto& list : per_customer) {
    for (const auto& [day, type] : list) {
      e.days.push_back(day);
      e.types.push_back(type);
    }
    e.offsets.push_back(static_cast<int64_t>(e.types.size()));
  }
  return e;
}

EngagementOptions At(int32_t day) {
  EngagementOptions o;
  o.as_of_day = day;
  return o;
}

TEST(EngagementTest, LevelsOfScores) {
  EXPECT_EQ(EngagementLevelOfScore(0), EngagementLevel::kNone);
  EXPECT_EQ(EngagementLevelOfScore(1), EngagementLevel::kLow);
  EXPECT_EQ(EngagementLevelOfScore(34), EngagementLevel::kLow);
  EXPECT_EQ(EngagementLevelOfScore(35), EngagementLevel::kMedium);
  EXPECT_EQ(EngagementLevelOfScore(69), EngagementLevel::kMedium);
  EXPECT_EQ(EngagementLevelOfScore(70), EngagementLevel::kHigh);
  EXPECT_EQ(EngagementLevelOfScore(100), EngagementLevel::kHigh);
  EXPECT_EQ(EngagementLevelName(EngagementLevel::kMedium), "Medium");
}

TEST(EngagementTest, HandWorkedRawScoreAndContributions) {
  // Half-life 10 days, as of day 1000, type 1 weighs 2.
  EngagementEvents e = MakeEvents(2, {
                                         {{990, 0}, {980, 1}},    // 1 * 2^-1 + 2 * 2^-2 = 1
                                         {{999, 0}},              // 2^-0.1
                                         {{1000, 0}, {1001, 1}},  // on / after as_of: ignored
                                         {},
                                     });
  EngagementOptions o = At(1000);
  o.half_life_days = 10;
  o.type_weights = {1, 2};
  o.reference_raw = 3;
  auto r = ComputeEngagement(e, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->raw[0], 1.0);
  EXPECT_DOUBLE_EQ(r->raw[1], std::exp2(-0.1));
  EXPECT_EQ(r->raw[2], 0.0);
  EXPECT_EQ(r->raw[3], 0.0);
  // score = 100 ln(1 + R) / ln(1 + 3): ln 2 / ln 4 = 1/2.
  EXPECT_EQ(r->score[0], 50);
  EXPECT_EQ(r->score[1], static_cast<int>(std::lround(100 * std::log1p(std::exp2(-0.1)) / std::log(4.0))));
  EXPECT_EQ(r->score[2], 0);
  EXPECT_EQ(r->score[3], 0);
  EXPECT_EQ(r->level[0], EngagementLevel::kMedium);
  EXPECT_EQ(r->level[2], EngagementLevel::kNone);
  EXPECT_EQ(r->last_day[0], 990);
  EXPECT_EQ(r->last_day[2], INT32_MIN);
  EXPECT_EQ(r->events[0], 2);
  EXPECT_EQ(r->events[2], 0);
  EXPECT_EQ(r->events_used, 3);
  EXPECT_EQ(r->events_ignored, 2);
  EXPECT_EQ(r->active_customers, 2);
  EXPECT_EQ(r->reference_raw, 3.0);
  // Customer 0: both types contribute 0.5 (tie: type order), 25 points each.
  ASSERT_EQ(r->contribution_offsets, (std::vector<int64_t>{0, 2, 3, 3, 3}));
  EXPECT_EQ(r->contributions[0].type, 0);
  EXPECT_EQ(r->contributions[1].type, 1);
  EXPECT_DOUBLE_EQ(r->contributions[0].raw, 0.5);
  EXPECT_DOUBLE_EQ(r->contributions[1].raw, 0.5);
  EXPECT_DOUBLE_EQ(r->contributions[0].points, 25);
  EXPECT_DOUBLE_EQ(r->contributions[1].points, 25);
  EXPECT_EQ(r->contributions[1].events, 1);
  EXPECT_DOUBLE_EQ(r->contributions[2].points, r->score[1]);
  EXPECT_EQ(r->customers_per_level[0], 2);
}

TEST(EngagementTest, MoreAndMoreRecentActivityScoresHigher) {
  const int32_t as_of = 20000;
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; ++i) {  // a background population
    std::vector<std::pair<int32_t, int32_t>> l;
    int k = 1 + static_cast<int>(rng() % 12);
    for (int j = 0; j < k; ++j) l.push_back({as_of - 1 - static_cast<int32_t>(rng() % 400), 0});
    c.push_back(l);
  }
  const size_t recent = c.size();
  c.push_back(std::vector<std::pair<int32_t, int32_t>>(5, {as_of - 10, 0}));    // 5 recent
  c.push_back(std::vector<std::pair<int32_t, int32_t>>(5, {as_of - 200, 0}));   // 5 old
  c.push_back(std::vector<std::pair<int32_t, int32_t>>(10, {as_of - 200, 0}));  // 10 old
  c.push_back(std::vector<std::pair<int32_t, int32_t>>(1, {as_of - 200, 0}));   // 1 old
  auto r = ComputeEngagement(MakeEvents(1, c), At(as_of));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->raw[recent], r->raw[recent + 1]);
  EXPECT_GT(r->score[recent], r->score[recent + 1]);
  EXPECT_GT(r->score[recent + 2], r->score[recent + 1]);
  EXPECT_GT(r->score[recent + 1], r->score[recent + 3]);
  EXPECT_GE(r->score[recent + 3], 1);  // active customers score at least 1
  // The score is monotone in R over everyone.
  for (size_t i = 0; i < c.size(); ++i) {
    for (size_t j = 0; j < c.size(); ++j) {
      if (r->raw[i] < r->raw[j]) {
        ASSERT_LE(r->score[i], r->score[j]) << i << " " << j;
      }
    }
  }
}

TEST(EngagementTest, WeightsMatter) {
  const int32_t as_of = 20000;
  // Customer 0: three visits (type 0); customer 1: three purchases (type 1), same days.
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c = {
      {{as_of - 5, 0}, {as_of - 30, 0}, {as_of - 60, 0}},
      {{as_of - 5, 1}, {as_of - 30, 1}, {as_of - 60, 1}},
      {{as_of - 1, 0}},
  };
  EngagementOptions o = At(as_of);
  o.reference_raw = 10;
  auto equal = ComputeEngagement(MakeEvents(2, c), o);
  ASSERT_TRUE(equal.ok());
  EXPECT_EQ(equal->raw[0], equal->raw[1]);
  EXPECT_EQ(equal->score[0], equal->score[1]);
  o.type_weights = {1, 3};
  auto weighted = ComputeEngagement(MakeEvents(2, c), o);
  ASSERT_TRUE(weighted.ok());
  EXPECT_DOUBLE_EQ(weighted->raw[1], 3 * weighted->raw[0]);
  EXPECT_GT(weighted->score[1], weighted->score[0]);
  // A type of weight 0 counts for nothing but its events are still listed.
  o.type_weights = {0, 1};
  auto zero = ComputeEngagement(MakeEvents(2, c), o);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->score[0], 0);
  EXPECT_EQ(zero->events[0], 3);
  EXPECT_EQ(zero->active_customers, 1);
}

TEST(EngagementTest, AsOfCutsLaterEvents) {
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c = {{{100, 0}, {200, 0}, {300, 0}}};
  EngagementOptions o = At(200);
  o.reference_raw = 1;
  o.half_life_days = 50;
  auto r = ComputeEngagement(MakeEvents(1, c), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->events[0], 1);
  EXPECT_EQ(r->events_ignored, 2);
  EXPECT_DOUBLE_EQ(r->raw[0], 0.25);  // day 100 at half-life 50, as of 200
  EXPECT_EQ(r->last_day[0], 100);
  o.as_of_day = 301;
  auto later = ComputeEngagement(MakeEvents(1, c), o);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->events[0], 3);
  EXPECT_EQ(later->last_day[0], 300);
  o.as_of_day = 100;
  auto before = ComputeEngagement(MakeEvents(1, c), o);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->score[0], 0);
  EXPECT_EQ(before->active_customers, 0);
  EXPECT_EQ(before->reference_raw, 1.0);
}

TEST(EngagementTest, ReferenceIsTheQuantileOfActiveCustomers) {
  // Customer i has i events the day before as_of (customer 0 none): R_i = i * 2^(-1/90).
  const int32_t as_of = 5000;
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c(201);
  for (int i = 0; i <= 200; ++i) c[static_cast<size_t>(i)].assign(static_cast<size_t>(i), {as_of - 1, 0});
  auto r = ComputeEngagement(MakeEvents(1, c), At(as_of));
  ASSERT_TRUE(r.ok());
  // 200 active customers, R = k * d for k = 1..200: type-7 q99 at h = 199 * 0.99 = 197.01,
  // between the 198th and 199th values.
  const double d = std::exp2(-1.0 / 90);
  EXPECT_NEAR(r->reference_raw, (198 + 0.01) * d, 1e-9);
  EXPECT_EQ(r->active_customers, 200);
  EXPECT_EQ(r->score[0], 0);
  EXPECT_EQ(r->score[199], 100);
  EXPECT_EQ(r->score[200], 100);
  EXPECT_LT(r->score[100], 100);
  // log scale: 1 event -> 100 ln(1 + d) / ln(1 + R_ref).
  EXPECT_EQ(r->score[1], static_cast<int>(std::lround(100 * std::log1p(d) / std::log1p(r->reference_raw))));
  int64_t total = 0;
  for (int64_t x : r->customers_per_level) total += x;
  EXPECT_EQ(total, 201);
  // The median as reference.
  EngagementOptions o = At(as_of);
  o.reference_quantile = 0.5;
  auto m = ComputeEngagement(MakeEvents(1, c), o);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->reference_raw, 100.5 * d, 1e-9);
  EXPECT_EQ(m->score[101], 100);
  EXPECT_EQ(m->score[100], 100);  // 100 ln(1 + 100d) / ln(1 + 100.5d) rounds to 100
  EXPECT_LT(m->score[60], 100);
}

TEST(EngagementTest, DeterministicWhateverTheThreads) {
  std::mt19937_64 rng(9);
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c(9000);
  for (auto& l : c) {
    int k = static_cast<int>(rng() % 6);
    for (int j = 0; j < k; ++j)
      l.push_back({20000 - static_cast<int32_t>(rng() % 500), static_cast<int32_t>(rng() % 3)});
  }
  EngagementOptions o = At(19900);
  o.type_weights = {1, 2.5, 0.5};
  o.threads = 1;
  auto r1 = ComputeEngagement(MakeEvents(3, c), o);
  o.threads = 4;
  auto r4 = ComputeEngagement(MakeEvents(3, c), o);
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r1->raw, r4->raw);
  EXPECT_EQ(r1->score, r4->score);
  EXPECT_EQ(r1->contribution_offsets, r4->contribution_offsets);
  EXPECT_EQ(r1->events_ignored, r4->events_ignored);
  EXPECT_EQ(r1->customers_per_level, r4->customers_per_level);
  EXPECT_GT(r1->events_ignored, 0);
  ASSERT_EQ(r1->contributions.size(), r4->contributions.size());
  for (size_t i = 0; i < r1->contributions.size(); ++i) {
    EXPECT_EQ(r1->contributions[i].type, r4->contributions[i].type);
    EXPECT_EQ(r1->contributions[i].points, r4->contributions[i].points);
  }
  // Points of a customer sum to its score.
  for (size_t cu = 0; cu < c.size(); ++cu) {
    double sum = 0;
    for (int64_t i = r1->contribution_offsets[cu]; i < r1->contribution_offsets[cu + 1]; ++i) {
      sum += r1->contributions[static_cast<size_t>(i)].points;
    }
    ASSERT_NEAR(sum, r1->score[cu], 1e-9) << cu;
  }
}

// Differential: raw, score, last day and contributions against a naive
// computation straight from the definition (sorted-order type-7 quantile).
TEST(EngagementTest, MatchesANaiveComputation) {
  std::mt19937_64 rng(33);
  const int32_t as_of = 20000;
  std::vector<std::vector<std::pair<int32_t, int32_t>>> c(700);
  for (auto& l : c) {
    int k = static_cast<int>(rng() % 9);
    for (int j = 0; j < k; ++j)
      l.push_back({as_of + 5 - static_cast<int32_t>(rng() % 700), static_cast<int32_t>(rng() % 4)});
  }
  EngagementOptions o = At(as_of);
  o.half_life_days = 45;
  o.type_weights = {1, 0.5, 4, 0};
  o.reference_quantile = 0.9;
  o.threads = 3;
  auto r = ComputeEngagement(MakeEvents(4, c), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<double> raw(c.size(), 0.0), positive;
  std::vector<std::vector<double>> per_type(c.size(), std::vector<double>(4, 0.0));
  for (size_t i = 0; i < c.size(); ++i) {
    for (const auto& [day, type] : c[i]) {
      if (day >= as_of) continue;
      per_type[i][static_cast<size_t>(type)] +=
          o.type_weights[static_cast<size_t>(type)] * std::pow(2.0, -(as_of - day) / 45.0);
    }
    for (double x : per_type[i]) raw[i] += x;
    if (raw[i] > 0) positive.push_back(raw[i]);
  }
  std::sort(positive.begin(), positive.end());
  const double h = (positive.size() - 1) * 0.9;
  const size_t lo = static_cast<size_t>(h);
  const double ref = positive[lo] + (h - lo) * (positive[lo + 1] - positive[lo]);
  EXPECT_NEAR(r->reference_raw, ref, 1e-9);
  for (size_t i = 0; i < c.size(); ++i) {
    ASSERT_NEAR(r->raw[i], raw[i], 1e-9) << i;
    int score = raw[i] > 0 ? std::clamp(static_cast<int>(std::lround(
                                            std::min(100.0, 100 * std::log1p(raw[i]) / std::log1p(ref)))),
                                        1, 100)
                           : 0;
    EXPECT_EQ(r->score[i], score) << i;
    int64_t kinds = 0;
    for (int t = 0; t < 4; ++t) {
      bool has = false;
      for (const auto& [day, type] : c[i]) has = has || (type == t && day < as_of);
      kinds += has;
    }
    EXPECT_EQ(r->contribution_offsets[i + 1] - r->contribution_offsets[i], kinds) << i;
    for (int64_t j = r->contribution_offsets[i]; j < r->contribution_offsets[i + 1]; ++j) {
      const EngagementContribution& ec = r->contributions[static_cast<size_t>(j)];
      EXPECT_NEAR(ec.raw, per_type[i][static_cast<size_t>(ec.type)], 1e-9);
      if (j > r->contribution_offsets[i]) {
        EXPECT_GE(r->contributions[static_cast<size_t>(j) - 1].raw, ec.raw);
      }
    }
  }
}

TEST(EngagementTest, BadOptionsNameTheOption) {
  EngagementEvents e = MakeEvents(2, {{{10, 0}, {11, 1}}});
  auto expect_bad = [&](const EngagementOptions& o, const std::string& name) {
    auto r = ComputeEngagement(e, o);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
  };
  expect_bad(EngagementOptions{}, "as_of_day");
  expect_bad(At(kMaxRunDate + 1), "as_of_day");
  EngagementOptions o = At(100);
  o.half_life_days = 0;
  expect_bad(o, "half_life_days");
  o = At(100);
  o.half_life_days = std::nan("");
  expect_bad(o, "half_life_days");
  o = At(100);
  o.type_weights = {1};
  expect_bad(o, "type_weights has 1");
  o = At(100);
  o.type_weights = {1, -1};
  expect_bad(o, "type_weights[1]");
  o = At(100);
  o.type_weights = {0, 0};
  expect_bad(o, "all 0");
  o = At(100);
  o.reference_quantile = 0.4;
  expect_bad(o, "reference_quantile");
  o = At(100);
  o.reference_raw = -1;
  expect_bad(o, "reference_raw");
}

TEST(EngagementTest, BadEventsNameTheField) {
  auto expect_bad = [&](const EngagementEvents& e, const std::string& name) {
    auto r = ComputeEngagement(e, At(100));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().message();
  };
  EngagementEvents good = MakeEvents(2, {{{10, 0}, {11, 1}}});
  EngagementEvents e = good;
  e.offsets.clear();
  expect_bad(e, "offsets");
  e = good;
  e.offsets = {0, 3};
  expect_bad(e, "last offset");
  e = good;
  e.offsets = {0, 2, 1, 2};
  expect_bad(e, "offsets decrease");
  e = good;
  e.days.pop_back();
  expect_bad(e, "days has 1");
  e = good;
  e.types[1] = 2;
  expect_bad(e, "types[1]");
}

}  // namespace
}  // namespace cdp
