#include "unify/clustering.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace cdp {
namespace {

MatchPair P(RecordId a, RecordId b, double strength) { return MatchPair{a, b, 0, 1.0f, strength}; }

TEST(ClusteringTest, TransitivePairsFormOneCluster) {
  Clustering c = ClusterRecords(5, {P(0, 1, 2), P(1, 2, 2), P(3, 4, 2)}, {}, 50);
  EXPECT_EQ(c.num_clusters, 2u);
  EXPECT_EQ(c.cluster_of[0], c.cluster_of[2]);
  EXPECT_NE(c.cluster_of[0], c.cluster_of[3]);
  EXPECT_EQ(c.cluster_of[0], 0u);  // numbered by smallest record
}

TEST(ClusteringTest, RedundantPairIsMarked) {
  Clustering c = ClusterRecords(3, {P(0, 1, 2), P(1, 2, 2), P(0, 2, 1)}, {}, 50);
  EXPECT_EQ(c.status[2], PairStatus::kRedundant);
  EXPECT_EQ(c.status[0], PairStatus::kMerged);
}

TEST(ClusteringTest, NeverMatchOverrideBlocksTheWeakestLinkThatWouldJoinThem) {
  // 0-1 strong, 1-2 weak: with never(0, 2), the weak pair is refused.
  Clustering c = ClusterRecords(3, {P(0, 1, 3), P(1, 2, 1)}, {NeverMatch{0, 2}}, 50);
  EXPECT_EQ(c.num_clusters, 2u);
  EXPECT_EQ(c.cluster_of[0], c.cluster_of[1]);
  EXPECT_NE(c.cluster_of[0], c.cluster_of[2]);
  EXPECT_EQ(c.status[1], PairStatus::kBlocked);
}

TEST(ClusteringTest, NeverMatchHoldsThroughLongChains) {
  std::vector<MatchPair> pairs;
  for (RecordId i = 0; i + 1 < 10; ++i) pairs.push_back(P(i, i + 1, 10.0 - i));
  Clustering c = ClusterRecords(10, pairs, {NeverMatch{0, 9}}, 50);
  EXPECT_NE(c.cluster_of[0], c.cluster_of[9]);
  EXPECT_EQ(c.num_clusters, 2u);
}

TEST(ClusteringTest, OversizedClusterIsSplitByRaisingTheBar) {
  // Two tight groups of 4 (strength 5) joined by one weak pair (strength 1); cap 5.
  std::vector<MatchPair> pairs;
  for (RecordId g : {0u, 4u}) {
    for (RecordId i = g; i < g + 3; ++i) pairs.push_back(P(i, i + 1, 5));
  }
  pairs.push_back(P(3, 4, 1));
  Clustering c = ClusterRecords(8, pairs, {}, 5);
  EXPECT_EQ(c.num_clusters, 2u);
  ASSERT_EQ(c.splits.size(), 1u);
  EXPECT_EQ(c.splits[0].records, 8);
  EXPECT_EQ(c.splits[0].parts, 2);
  EXPECT_DOUBLE_EQ(c.splits[0].max_dropped_strength, 1);
  EXPECT_EQ(c.splits[0].example, 0u);
  EXPECT_EQ(c.status.back(), PairStatus::kSplitByCap);
  EXPECT_EQ(c.cluster_of[0], c.cluster_of[3]);
  EXPECT_EQ(c.cluster_of[4], c.cluster_of[7]);
}

TEST(ClusteringTest, ClusterWithEqualStrengthsFallsApartToFitTheCap) {
  std::vector<MatchPair> pairs;
  for (RecordId i = 1; i < 20; ++i) pairs.push_back(P(0, i, 1));  // a star: a mega-profile
  Clustering c = ClusterRecords(20, pairs, {}, 5);
  EXPECT_EQ(c.num_clusters, 20u);
  EXPECT_EQ(c.splits.size(), 1u);
}

TEST(ClusteringTest, AChainCannotJoinTwoRecordsAGuardKeepsApart) {
  // A~B strong, B~C weaker; A and C conflict (say, different birth dates).
  ClusterConstraints c;
  c.conflicts = [](RecordId x, RecordId y) { return std::min(x, y) == 0 && std::max(x, y) == 2; };
  Clustering out = ClusterRecords(3, {P(0, 1, 3), P(1, 2, 1)}, c);
  EXPECT_EQ(out.num_clusters, 2u);
  EXPECT_EQ(out.cluster_of[0], out.cluster_of[1]);
  EXPECT_NE(out.cluster_of[1], out.cluster_of[2]);
  EXPECT_EQ(out.status[0], PairStatus::kMerged);
  EXPECT_EQ(out.status[1], PairStatus::kBlockedByGuard);
  EXPECT_EQ(PairStatusName(out.status[1]), "blocked_by_guard");
  // Without the guard the chain joins all three.
  EXPECT_EQ(ClusterRecords(3, {P(0, 1, 3), P(1, 2, 1)}, {}, 50).num_clusters, 1u);
}

TEST(ClusteringTest, GuardHoldsBetweenClustersBuiltFromSeveralPairs) {
  // {0,1,2} and {3,4} form; 2~3 would join them, but 0 conflicts with 4.
  ClusterConstraints c;
  c.conflicts = [](RecordId x, RecordId y) { return std::min(x, y) == 0 && std::max(x, y) == 4; };
  Clustering out = ClusterRecords(5, {P(0, 1, 5), P(1, 2, 5), P(3, 4, 5), P(2, 3, 1)}, c);
  EXPECT_EQ(out.num_clusters, 2u);
  EXPECT_EQ(out.status[3], PairStatus::kBlockedByGuard);
}

TEST(ClusteringTest, TooManyChecksRefuseTheUnionAndAreCounted) {
  ClusterConstraints c;
  c.conflicts = [](RecordId, RecordId) { return false; };
  c.max_checks = 8;  // 3 x 3 records = 9 checks
  Clustering out = ClusterRecords(6, {P(0, 1, 5), P(1, 2, 5), P(3, 4, 5), P(4, 5, 5), P(2, 3, 1)}, c);
  EXPECT_EQ(out.num_clusters, 2u);
  EXPECT_EQ(out.status[4], PairStatus::kBlockedByGuard);
  EXPECT_EQ(out.unions_too_large_to_check, 1);
  c.max_checks = 9;
  EXPECT_EQ(ClusterRecords(6, {P(0, 1, 5), P(1, 2, 5), P(3, 4, 5), P(4, 5, 5), P(2, 3, 1)}, c).num_clusters, 1u);
}

TEST(ClusteringTest, OneRecordPerSourceUnlessThatSourcesDedupJoinedThem) {
  // Records 0, 1, 2 of source 0 (limited), 3 of source 1. Rule 0 is a match
  // rule, rule 1 a dedup rule of source 0.
  ClusterConstraints c;
  c.limited = {true, false};
  c.source_of = [](RecordId r) { return r < 3 ? 0 : 1; };
  c.dedup_source = [](const MatchPair& p) { return p.rule == 1 ? 0 : -1; };
  auto pair = [](RecordId a, RecordId b, int rule, double strength) {
    return MatchPair{a, b, rule, 1.0f, strength};
  };
  // 0~3 and 1~3 by the match rule: 1 may not join 0's profile.
  Clustering out = ClusterRecords(4, {pair(0, 3, 0, 3), pair(1, 3, 0, 2)}, c);
  EXPECT_EQ(out.num_clusters, 3u);
  EXPECT_EQ(out.status[1], PairStatus::kBlockedBySource);
  EXPECT_EQ(PairStatusName(out.status[1]), "blocked_by_source");
  // With 0~1 a dedup pair of source 0, all three join.
  out = ClusterRecords(4, {pair(0, 1, 1, 4), pair(0, 3, 0, 3), pair(1, 3, 0, 2)}, c);
  EXPECT_EQ(out.num_clusters, 2u);
  EXPECT_EQ(out.cluster_of[0], out.cluster_of[3]);
  EXPECT_EQ(out.status[2], PairStatus::kRedundant);
  // A dedup pair joins two of its source's records, but not a third that a
  // match pair brings: 2~3 (match) after {0,1,3} formed.
  out = ClusterRecords(4, {pair(0, 1, 1, 4), pair(0, 3, 0, 3), pair(2, 3, 0, 2)}, c);
  EXPECT_EQ(out.status[2], PairStatus::kBlockedBySource);
  // Source 1 is not limited: two of its records may share a profile.
  c.limited = {false, false};
  EXPECT_EQ(ClusterRecords(4, {pair(0, 3, 0, 3), pair(1, 3, 0, 2)}, c).num_clusters, 2u);
}

TEST(ClusteringTest, TheCapCutsOnlyTheGroupThatOutgrowsIt) {
  // Group A: 0-1-2 (strength 9). Group B: 3..7 joined at strength 5, then
  // tied to A at strength 1 (8 records > cap 6). A keeps its pairs; only the
  // pair that would exceed the cap is dropped.
  std::vector<MatchPair> pairs = {P(0, 1, 9), P(1, 2, 9), P(3, 4, 5), P(4, 5, 5), P(5, 6, 5), P(6, 7, 5), P(2, 3, 1)};
  Clustering c = ClusterRecords(8, pairs, {}, 6);
  EXPECT_EQ(c.num_clusters, 2u);
  EXPECT_EQ(c.cluster_of[0], c.cluster_of[2]);
  EXPECT_EQ(c.cluster_of[3], c.cluster_of[7]);
  EXPECT_EQ(c.status.back(), PairStatus::kSplitByCap);
  ASSERT_EQ(c.splits.size(), 1u);
  EXPECT_EQ(c.splits[0].records, 8);
  EXPECT_EQ(c.splits[0].parts, 2);
}

// Whether every cluster of `fine` lies inside one cluster of `coarse`.
bool Refines(const Clustering& fine, const Clustering& coarse) {
  std::vector<int64_t> coarse_of(fine.num_clusters, -1);
  for (size_t r = 0; r < fine.cluster_of.size(); ++r) {
    int64_t& c = coarse_of[fine.cluster_of[r]];
    if (c < 0) c = coarse.cluster_of[r];
    if (c != coarse.cluster_of[r]) return false;
  }
  return true;
}

TEST(ClusteringTest, RaisingTheBarNeverJoinsMoreRecords) {
  // Random graphs with ties and clusters over the cap: dropping the weakest
  // pairs (a higher threshold) gives a refinement of the clustering.
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    const RecordId n = 60;
    std::vector<MatchPair> pairs;
    std::set<std::pair<RecordId, RecordId>> seen;
    std::uniform_int_distribution<RecordId> rec(0, n - 1);
    std::uniform_int_distribution<int> strength(1, 8);
    for (int k = 0; k < 90; ++k) {
      RecordId a = rec(rng), b = rec(rng);
      if (a == b || !seen.insert({std::min(a, b), std::max(a, b)}).second) continue;
      pairs.push_back(P(std::min(a, b), std::max(a, b), strength(rng)));
    }
    for (int64_t cap : {3, 5, 12}) {
      Clustering all = ClusterRecords(n, pairs, {}, cap);
      for (double bar = 1; bar < 8; bar += 1) {
        std::vector<MatchPair> kept;
        for (const auto& p : pairs) {
          if (p.strength > bar) kept.push_back(p);
        }
        Clustering higher = ClusterRecords(n, kept, {}, cap);
        EXPECT_TRUE(Refines(higher, all)) << "round " << round << " cap " << cap << " bar " << bar;
        EXPECT_GE(higher.num_clusters, all.num_clusters);
      }
      for (RecordId r = 0; r < n; ++r) {
        int64_t size = std::count(all.cluster_of.begin(), all.cluster_of.end(), all.cluster_of[r]);
        EXPECT_LE(size, cap);
      }
    }
  }
}

}  // namespace
}  // namespace cdp
