#include "insight/lookalike.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "predict/metrics.h"

namespace cdp {
namespace {

// Customers with Income, LoyaltyTier, Age and a pure-noise attribute. A
// customer "has the pattern" when Income >= 80,000 and LoyaltyTier is Gold
// (about 18% of customers).
struct Planted {
  CustomerAttributes attributes;
  std::vector<uint8_t> pattern;
};

Planted MakePlanted(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> income(20000, 140000), age(18, 80), unit(0, 1);
  Planted p;
  p.attributes.customers = n;
  CustomerAttribute inc{.name = "Income", .entity = "Customer", .field = "Income"};
  CustomerAttribute tier{.name = "LoyaltyTier", .entity = "Customer", .field = "LoyaltyTier",
                         .kind = AttributeKind::kCategorical};
  tier.categories = {"Bronze", "Silver", "Gold"};
  CustomerAttribute ag{.name = "years since DateOfBirth", .entity = "Customer", .field = "DateOfBirth"};
  ag.is_date = true;
  CustomerAttribute noise{.name = "Visits", .entity = "Customer_Measure", .field = "Visits"};
  for (int64_t i = 0; i < n; ++i) {
    double x = income(rng);
    inc.numbers.push_back(unit(rng) < 0.05 ? std::nan("") : x);
    double t = unit(rng);
    tier.codes.push_back(t < 0.4 ? 0 : t < 0.7 ? 1 : 2);
    ag.numbers.push_back(age(rng));
    noise.numbers.push_back(std::floor(unit(rng) * 20));
    p.pattern.push_back(!std::isnan(inc.numbers.back()) && inc.numbers.back() >= 80000 && tier.codes.back() == 2);
  }
  p.attributes.attributes = {inc, tier, ag, noise};
  return p;
}

// `count` customers drawn (seeded) from those with pattern == want.
CustomerSet Draw(const std::vector<uint8_t>& pattern, bool want, size_t count, uint64_t seed) {
  std::vector<uint32_t> eligible;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (static_cast<bool>(pattern[i]) == want) eligible.push_back(static_cast<uint32_t>(i));
  }
  std::mt19937_64 rng(seed);
  std::shuffle(eligible.begin(), eligible.end(), rng);
  eligible.resize(std::min(count, eligible.size()));
  std::sort(eligible.begin(), eligible.end());
  return CustomerSet::Of(eligible);
}

// AUC of the pool's similarities against the planted truth.
double TruthAuc(const LookalikeResult& r, const std::vector<uint8_t>& pattern) {
  std::vector<uint8_t> truth;
  for (uint32_t c : r.pool) truth.push_back(pattern[c]);
  return Auc(r.pool_similarity, truth);
}

TEST(LookalikeTest, RanksPlantedLookalikesAboveOthers) {
  Planted p = MakePlanted(3000, 7);
  CustomerSet source = Draw(p.pattern, true, 200, 1);
  auto r = FindLookalikes(p.attributes, source, nullptr, LookalikeOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source_size, 200);
  EXPECT_EQ(r->pool_size, 2800);
  ASSERT_EQ(r->pool.size(), 2800u);
  EXPECT_GT(TruthAuc(*r, p.pattern), 0.9);
  EXPECT_GT(r->quality.auc, 0.8) << r->quality.verdict;
  ASSERT_EQ(r->quality.fold_auc.size(), 5u);
  EXPECT_EQ(r->quality.holdout_source, 40);
  EXPECT_EQ(r->quality.holdout_pool, 560);
  // The pattern's two attributes drive similarity.
  ASSERT_GE(r->drivers.size(), 2u);
  std::set<std::string> top = {r->drivers[0].attribute, r->drivers[1].attribute};
  EXPECT_EQ(top, (std::set<std::string>{"Income", "LoyaltyTier"}));
  double total = 0;
  for (const auto& d : r->drivers) total += d.importance;
  EXPECT_NEAR(total, 1.0, 1e-9);
  // Default output: the top 20% of the pool at most, all >= 0.4, best first,
  // mostly planted look-alikes.
  EXPECT_LE(r->members.size(), 560u);
  int planted = 0;
  for (size_t i = 0; i < r->members.size(); ++i) {
    EXPECT_GE(r->members[i].similarity, kMinSimilarity);
    if (i > 0) EXPECT_GE(r->members[i - 1].similarity, r->members[i].similarity);
    EXPECT_FALSE(source.Contains(r->members[i].customer));
    planted += p.pattern[r->members[i].customer];
  }
  EXPECT_GT(planted, static_cast<int>(r->members.size() * 8 / 10));
  EXPECT_NE(r->quality.verdict.find("means something"), std::string::npos) << r->quality.verdict;
}

TEST(LookalikeTest, NoiseSourceGivesChanceAuc) {
  Planted p = MakePlanted(3000, 8);
  std::vector<uint8_t> all(3000, 1);
  CustomerSet source = Draw(all, true, 200, 2);  // random customers: nothing to learn
  auto r = FindLookalikes(p.attributes, source, nullptr, LookalikeOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->quality.auc, 0.4);
  EXPECT_LT(r->quality.auc, 0.6);
  EXPECT_NE(r->quality.verdict.find("means little"), std::string::npos) << r->quality.verdict;
  // Calibrated: nobody is "similar" to a random source.
  int64_t similar = 0;
  for (float s : r->pool_similarity) similar += s >= kSimilarFrom;
  EXPECT_LE(similar, r->pool_size / 100);
}

TEST(LookalikeTest, DeterministicPerSeed) {
  Planted p = MakePlanted(1500, 9);
  CustomerSet source = Draw(p.pattern, true, 100, 3);
  LookalikeOptions o;
  auto a = FindLookalikes(p.attributes, source, nullptr, o);
  auto b = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->pool_similarity, b->pool_similarity);
  EXPECT_EQ(a->quality.fold_auc, b->quality.fold_auc);
  EXPECT_EQ(ToJson(*a, 1000), ToJson(*b, 1000));
  o.seed = 2;
  auto c = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->pool_similarity, c->pool_similarity);  // other folds, other samples
}

// A capped training sample (max_training_positives) still learns the pattern,
// and every pool member is still scored out of fold: with the cap at 100 of
// the 400 source members, each fold model trains on 100 positives, yet the
// hold-backs keep every fold's full share of source and pool.
TEST(LookalikeTest, CappedTrainingSampleStillRanksPlantedLookalikes) {
  Planted p = MakePlanted(4000, 15);
  CustomerSet source = Draw(p.pattern, true, 400, 9);
  LookalikeOptions o;
  o.max_training_positives = 100;
  auto r = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->quality.holdout_source, 80);
  EXPECT_EQ(r->quality.holdout_pool, 720);
  EXPECT_EQ(r->pool.size(), 3600u);
  EXPECT_GT(TruthAuc(*r, p.pattern), 0.85);
  EXPECT_GT(r->quality.auc, 0.75) << r->quality.verdict;
  // The cap changes the samples, so the scores differ from the uncapped run's.
  o.max_training_positives = 0;
  auto all = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->pool_similarity, r->pool_similarity);
  EXPECT_GT(TruthAuc(*all, p.pattern), 0.85);
}

// A category is ranked by its source rate in each fold's training sample, so
// a pattern carried by a category in the middle of the code order (Silver,
// code 1) is found as well as one at an end.
TEST(LookalikeTest, MiddleCategoryPatternIsFound) {
  Planted p = MakePlanted(3000, 16);
  std::vector<uint8_t> silver(3000, 0);
  const CustomerAttribute& tier = p.attributes.attributes[1];
  for (size_t i = 0; i < silver.size(); ++i) silver[i] = tier.codes[i] == 1;
  CustomerSet source = Draw(silver, true, 200, 11);
  LookalikeOptions o;
  o.exclude = {"Income"};
  auto r = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(TruthAuc(*r, silver), 0.9);
  ASSERT_FALSE(r->drivers.empty());
  EXPECT_EQ(r->drivers[0].attribute, "LoyaltyTier");
}

TEST(LookalikeTest, OutputByShareThresholdAndSource) {
  Planted p = MakePlanted(2000, 10);
  CustomerSet source = Draw(p.pattern, true, 120, 4);
  LookalikeOptions o;
  o.share = 0.05;
  auto r = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(r->members.size(), static_cast<size_t>(std::ceil(0.05 * r->pool_size)));
  EXPECT_GT(r->members.size(), 0u);

  o.min_similarity = 0.7;
  o.include_source = true;
  r = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  size_t above = 0;
  for (float s : r->pool_similarity) above += s >= 0.7f;
  ASSERT_EQ(r->members.size(), above + 120);
  for (size_t i = 0; i < above; ++i) {
    EXPECT_GE(r->members[i].similarity, 0.7f);
    EXPECT_NE(r->members[i].band, SimilarityBand::kSource);
  }
  for (size_t i = above; i < r->members.size(); ++i) {
    EXPECT_TRUE(source.Contains(r->members[i].customer));
    EXPECT_EQ(r->members[i].band, SimilarityBand::kSource);
    EXPECT_EQ(r->members[i].similarity, 1.0f);
  }
  EXPECT_EQ(r->MemberSet().Count(), r->members.size());
  // Band counts add up to the pool members at or above 0.4.
  int64_t banded = 0, in_output = 0;
  for (const auto& b : r->bands) {
    if (b.band != SimilarityBand::kSource) banded += b.pool;
    in_output += b.members;
  }
  int64_t at_least = 0;
  for (float s : r->pool_similarity) at_least += s >= 0.4f;
  EXPECT_EQ(banded, at_least);
  EXPECT_EQ(in_output, static_cast<int64_t>(r->members.size()));
  auto j = ToJson(*r, 5);
  EXPECT_EQ(j["members"].size(), 5u);
  EXPECT_EQ(j["bands"].back()["band"], "source");
}

TEST(LookalikeTest, PoolIsAnotherSegmentMinusTheSource) {
  Planted p = MakePlanted(2000, 11);
  CustomerSet source = Draw(p.pattern, true, 100, 5);
  CustomerSet pool = CustomerSet::Range(0, 1000);  // overlaps the source
  auto r = FindLookalikes(p.attributes, source, &pool, LookalikeOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  CustomerSet expected = pool;
  expected.Subtract(source);
  EXPECT_EQ(r->pool_size, static_cast<int64_t>(expected.Count()));
  for (uint32_t c : r->pool) EXPECT_TRUE(expected.Contains(c));
  for (const auto& m : r->members) EXPECT_TRUE(expected.Contains(m.customer));
}

TEST(LookalikeTest, ExcludedAttributesAreNotUsed) {
  Planted p = MakePlanted(1500, 12);
  CustomerSet source = Draw(p.pattern, true, 100, 6);
  LookalikeOptions o;
  o.exclude = {"Income", "Customer.LoyaltyTier"};
  auto r = FindLookalikes(p.attributes, source, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->attributes_used, (std::vector<std::string>{"years since DateOfBirth", "Visits"}));
  for (const auto& d : r->drivers) {
    EXPECT_NE(d.attribute, "Income");
    EXPECT_NE(d.attribute, "LoyaltyTier");
  }
  EXPECT_LT(r->quality.auc, 0.65);  // what is left is noise
}

TEST(LookalikeTest, BadOptionsAndInputsAreRefused) {
  Planted p = MakePlanted(500, 13);
  CustomerSet source = Draw(p.pattern, true, 40, 7);
  auto refused = [&](LookalikeOptions o, const std::string& word) {
    auto r = FindLookalikes(p.attributes, source, nullptr, o);
    ASSERT_FALSE(r.ok()) << word;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(word), std::string::npos) << r.status().ToString();
  };
  LookalikeOptions o;
  o.share = 0;
  refused(o, "share");
  o = {};
  o.share = 1.5;
  refused(o, "share");
  o = {};
  o.min_similarity = 0.3;
  refused(o, "min_similarity");
  o = {};
  o.folds = 2;
  refused(o, "folds");
  o = {};
  o.negatives_per_positive = 0.5;
  refused(o, "negatives_per_positive");
  o = {};
  o.max_training_positives = 50;
  refused(o, "max_training_positives");
  o = {};
  o.booster.rounds = 0;
  refused(o, "rounds");
  o = {};
  o.booster.objective = "reg:squarederror";
  refused(o, "objective");
  o = {};
  o.exclude = {"Shoe size"};
  refused(o, "Shoe size");
  o = {};
  o.exclude = {"Income", "LoyaltyTier", "years since DateOfBirth", "Visits"};
  refused(o, "no attribute");

  CustomerSet tiny = CustomerSet::Of({1, 2, 3});
  auto r = FindLookalikes(p.attributes, tiny, nullptr, LookalikeOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);

  CustomerSet outside = source;
  outside.Add(500);
  r = FindLookalikes(p.attributes, outside, nullptr, LookalikeOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("500"), std::string::npos);
}

TEST(LookalikeTest, BandsFollowTheProductEdges) {
  EXPECT_FALSE(BandOfSimilarity(0.39).has_value());
  EXPECT_FALSE(BandOfSimilarity(std::nan("")).has_value());
  EXPECT_EQ(*BandOfSimilarity(0.4), SimilarityBand::kLow);
  EXPECT_EQ(*BandOfSimilarity(0.549), SimilarityBand::kLow);
  EXPECT_EQ(*BandOfSimilarity(0.55), SimilarityBand::kSomewhatSimilar);
  EXPECT_EQ(*BandOfSimilarity(0.7), SimilarityBand::kSimilar);
  EXPECT_EQ(*BandOfSimilarity(0.85), SimilarityBand::kVerySimilar);
  EXPECT_EQ(*BandOfSimilarity(1.0), SimilarityBand::kVerySimilar);
  EXPECT_EQ(SimilarityBandName(SimilarityBand::kSomewhatSimilar), "somewhat similar");
}

}  // namespace
}  // namespace cdp
