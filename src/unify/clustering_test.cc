#include "unify/clustering.h"

#include <gtest/gtest.h>

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
  EXPECT_DOUBLE_EQ(c.splits[0].min_strength, 1);
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

}  // namespace
}  // namespace cdp
