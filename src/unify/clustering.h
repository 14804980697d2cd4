// Clustering: turns accepted match pairs into clusters (one per person) with
// a union-find, strongest pairs first. Never-match overrides are honoured:
// a union that would put a never-match pair in one cluster is refused. A
// cluster larger than the cap is split by raising its acceptance bar (the
// minimum pair strength) until every part fits. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "unify/matcher.h"

namespace cdp {

enum class PairStatus : uint8_t {
  kMerged = 0,       // joined two clusters
  kRedundant = 1,    // both records were already in one cluster
  kBlocked = 2,      // refused: it would join a never-match pair
  kSplitByCap = 3,   // dropped when an oversized cluster was split
};
std::string_view PairStatusName(PairStatus status);

struct NeverMatch {
  RecordId a = 0, b = 0;
};

struct ClusterSplit {
  int64_t records = 0;     // size before the split
  double min_strength = 0; // pairs at or below this strength were dropped
  int64_t parts = 0;
  RecordId example = 0;    // a record of the cluster
};

struct Clustering {
  std::vector<uint32_t> cluster_of;  // per record; clusters numbered by their smallest record
  uint32_t num_clusters = 0;
  std::vector<PairStatus> status;    // per input pair
  std::vector<ClusterSplit> splits;
};

// `pairs` as returned by Matcher::Run (plus always-match overrides).
Clustering ClusterRecords(size_t num_records, const std::vector<MatchPair>& pairs,
                          const std::vector<NeverMatch>& never, int64_t max_cluster_size);

}  // namespace cdp
