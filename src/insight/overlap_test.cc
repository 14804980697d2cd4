#include "insight/overlap.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace cdp {
namespace {

SegmentMembers Seg(std::string name, std::vector<uint32_t> members) {
  return SegmentMembers{std::move(name), CustomerSet::Of(members)};
}

TEST(Overlap, TwoSegmentsHandWorked) {
  // A = {0..5}, B = {4..9}: shared {4, 5}.
  std::vector<SegmentMembers> s = {Seg("A", {0, 1, 2, 3, 4, 5}), Seg("B", {4, 5, 6, 7, 8, 9})};
  auto r = ComputeOverlap(s, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->pairs.size(), 1u);
  EXPECT_EQ(r->pairs[0].shared, 2u);
  EXPECT_DOUBLE_EQ(r->pairs[0].share_of_a, 2.0 / 6);
  EXPECT_DOUBLE_EQ(r->pairs[0].share_of_b, 2.0 / 6);
  EXPECT_DOUBLE_EQ(r->pairs[0].jaccard, 2.0 / 10);
  EXPECT_EQ(r->segments[0].rest, 4u);
  EXPECT_EQ(r->segments[1].rest, 4u);
  EXPECT_EQ(r->shared_by_all, 2u);
  EXPECT_EQ(r->in_any, 10u);
  EXPECT_EQ(r->matrix, (std::vector<std::vector<uint64_t>>{{6, 2}, {2, 6}}));
  const auto j = r->ToJson();
  EXPECT_EQ(j["pairs"][0]["a_name"], "A");
  EXPECT_EQ(j["pairs"][0]["shared"], 2);
  EXPECT_FALSE(j.contains("breakdown"));
}

TEST(Overlap, EmptySegmentHasZeroShares) {
  std::vector<SegmentMembers> s = {Seg("A", {1, 2}), Seg("Empty", {})};
  auto r = ComputeOverlap(s, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pairs[0].shared, 0u);
  EXPECT_EQ(r->pairs[0].share_of_b, 0.0);
  EXPECT_EQ(r->segments[1].rest_share, 0.0);
  EXPECT_EQ(r->segments[0].rest, 2u);
}

TEST(Overlap, CategoricalBreakdownOfSharedMembers) {
  CustomerAttribute tier;
  tier.name = "Tier";
  tier.kind = AttributeKind::kCategorical;
  tier.categories = {"Gold", "Silver", "Bronze"};
  //            0  1  2  3   4  5  6  7
  tier.codes = {0, 1, 0, -1, 1, 0, 0, 1};
  // A = {0,1,2,3,4}, B = {2,3,4,5,6}; shared {2,3,4}: Gold, missing, Silver.
  std::vector<SegmentMembers> s = {Seg("A", {0, 1, 2, 3, 4}), Seg("B", {2, 3, 4, 5, 6})};
  OverlapOptions o;
  o.breakdown = &tier;
  auto r = ComputeOverlap(s, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->breakdown.has_value());
  const auto& b = r->breakdown->buckets;
  ASSERT_EQ(b.size(), 3u);  // Gold, Silver, (missing); Bronze is empty everywhere
  EXPECT_EQ(b[0].label, "Gold");
  EXPECT_EQ(b[0].shared, 1u);
  EXPECT_EQ(b[0].segment_count, (std::vector<uint64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(b[0].segment_share[1], 3.0 / 5);
  EXPECT_EQ(b[1].label, "Silver");
  EXPECT_EQ(b[1].shared, 1u);
  EXPECT_EQ(b[1].segment_count, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(b[2].label, "(missing)");
  EXPECT_EQ(b[2].shared, 1u);
  EXPECT_DOUBLE_EQ(b[2].shared_share, 1.0 / 3);
  EXPECT_EQ(r->ToJson()["breakdown"]["buckets"][0]["label"], "Gold");
  EXPECT_FALSE(r->ToJson()["breakdown"]["buckets"][0].contains("low"));
}

TEST(Overlap, NumericBreakdownQuantileBinsCoverEverySegmentValue) {
  CustomerAttribute income;
  income.name = "Income";
  income.kind = AttributeKind::kNumeric;
  for (int i = 0; i < 100; ++i) income.numbers.push_back(i);
  std::vector<uint32_t> a, b;
  for (uint32_t i = 0; i < 60; ++i) a.push_back(i);
  for (uint32_t i = 40; i < 100; ++i) b.push_back(i);
  std::vector<SegmentMembers> s = {Seg("A", a), Seg("B", b)};
  OverlapOptions o;
  o.breakdown = &income;
  o.numeric_bins = 4;
  auto r = ComputeOverlap(s, o);
  ASSERT_TRUE(r.ok());
  const auto& k = r->breakdown->buckets;
  // Shared 40..59: quartile edges 44.75, 49.5, 54.25; outer edges 0 and 99.
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[0].low, 0);
  EXPECT_DOUBLE_EQ(k[0].high, 44.75);
  EXPECT_DOUBLE_EQ(k[1].high, 49.5);
  EXPECT_EQ(k[3].high, 99);
  uint64_t shared = 0, in_a = 0, in_b = 0;
  for (const auto& x : k) {
    shared += x.shared;
    in_a += x.segment_count[0];
    in_b += x.segment_count[1];
  }
  EXPECT_EQ(shared, 20u);
  EXPECT_EQ(in_a, 60u);
  EXPECT_EQ(in_b, 60u);
  EXPECT_EQ(k[0].shared, 5u);  // 40..44
  EXPECT_EQ(k[0].segment_count[0], 45u);  // 0..44
  const auto j = r->ToJson();
  EXPECT_EQ(j["breakdown"]["kind"], "numeric");
  EXPECT_EQ(j["breakdown"]["buckets"][0]["low"], 0.0);
  EXPECT_EQ(j["breakdown"]["buckets"][0]["high"], 44.75);
  EXPECT_EQ(j["breakdown"]["buckets"][0]["segment_count"][0], 45);
}

TEST(Overlap, BadInputsAreInvalidArguments) {
  std::vector<SegmentMembers> one = {Seg("A", {1})};
  auto r = ComputeOverlap(one, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("got 1"), std::string::npos);
  std::vector<SegmentMembers> many;
  for (int i = 0; i < kMaxOverlapSegments + 1; ++i) many.push_back(Seg("S", {1}));
  EXPECT_FALSE(ComputeOverlap(many, {}).ok());
  std::vector<SegmentMembers> two = {Seg("A", {1}), Seg("B", {7})};
  OverlapOptions o;
  o.numeric_bins = 1;
  EXPECT_NE(ComputeOverlap(two, o).status().message().find("numeric_bins"), std::string::npos);
  o = {};
  o.threads = 300;
  EXPECT_NE(ComputeOverlap(two, o).status().message().find("threads"), std::string::npos);
  CustomerAttribute small;
  small.name = "Small";
  small.numbers = {1, 2, 3};
  o = {};
  o.breakdown = &small;
  EXPECT_NE(ComputeOverlap(two, o).status().message().find("customer 7"), std::string::npos);
}

// Differential: every figure against std::set algebra on random segments.
TEST(Overlap, MatchesNaiveSetAlgebraOnRandomSegments) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937 rng(seed);
    const uint32_t customers = 3000;
    const size_t n = 2 + rng() % 12;
    std::vector<std::set<uint32_t>> naive(n);
    std::vector<SegmentMembers> segs;
    for (size_t i = 0; i < n; ++i) {
      // Varied densities, some with runs (range containers), one possibly empty.
      const double density = std::uniform_real_distribution<double>(0, 0.6)(rng);
      const uint32_t run_start = rng() % customers;
      for (uint32_t c = 0; c < customers; ++c) {
        const bool in_run = (i % 3 == 0) && c >= run_start && c < run_start + 500;
        if (in_run || std::uniform_real_distribution<double>(0, 1)(rng) < density) naive[i].insert(c);
      }
      segs.push_back(Seg("S" + std::to_string(i), std::vector<uint32_t>(naive[i].begin(), naive[i].end())));
      if (i % 2 == 0) segs.back().members.Optimize();
    }
    CustomerAttribute attr;
    attr.name = "Score";
    attr.kind = AttributeKind::kCategorical;
    attr.categories = {"a", "b", "c"};
    for (uint32_t c = 0; c < customers; ++c) attr.codes.push_back(static_cast<int32_t>(rng() % 4) - 1);
    OverlapOptions o;
    o.threads = 3;
    o.breakdown = &attr;
    auto r = ComputeOverlap(segs, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    std::set<uint32_t> all = naive[0], any;
    for (size_t i = 0; i < n; ++i) {
      std::set<uint32_t> next;
      std::set_intersection(all.begin(), all.end(), naive[i].begin(), naive[i].end(),
                            std::inserter(next, next.end()));
      all = next;
      any.insert(naive[i].begin(), naive[i].end());
    }
    EXPECT_EQ(r->shared_by_all, all.size()) << seed;
    EXPECT_EQ(r->in_any, any.size()) << seed;
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      std::set<uint32_t> others;
      for (size_t j = 0; j < n; ++j) {
        if (j != i) others.insert(naive[j].begin(), naive[j].end());
      }
      uint64_t rest = 0;
      for (uint32_t c : naive[i]) rest += others.count(c) == 0;
      EXPECT_EQ(r->segments[i].rest, rest) << seed << " segment " << i;
      EXPECT_EQ(r->matrix[i][i], naive[i].size());
      for (size_t j = i + 1; j < n; ++j, ++k) {
        uint64_t shared = 0;
        for (uint32_t c : naive[i]) shared += naive[j].count(c);
        ASSERT_EQ(r->pairs[k].a, static_cast<int32_t>(i));
        ASSERT_EQ(r->pairs[k].b, static_cast<int32_t>(j));
        EXPECT_EQ(r->pairs[k].shared, shared) << seed << " pair " << i << "," << j;
        EXPECT_EQ(r->matrix[i][j], shared);
        EXPECT_EQ(r->matrix[j][i], shared);
      }
    }
    // Breakdown counts: shared members and each segment per category / missing.
    for (const auto& bucket : r->breakdown->buckets) {
      const int32_t code = bucket.label == "(missing)" ? -1 : bucket.label == "a" ? 0 : bucket.label == "b" ? 1 : 2;
      uint64_t want = 0;
      for (uint32_t c : all) want += attr.codes[c] == code;
      EXPECT_EQ(bucket.shared, want) << seed << " " << bucket.label;
      for (size_t i = 0; i < n; ++i) {
        uint64_t in_seg = 0;
        for (uint32_t c : naive[i]) in_seg += attr.codes[c] == code;
        EXPECT_EQ(bucket.segment_count[i], in_seg) << seed << " " << bucket.label << " segment " << i;
      }
    }
  }
}

}  // namespace
}  // namespace cdp
