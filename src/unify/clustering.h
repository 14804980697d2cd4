// Clustering: turns accepted match pairs into clusters (one per person) with
// a union-find, strongest pairs first. A union of two clusters is refused
// when it would put together two records that must stay apart: a never-match
// override pair, two records a guard keeps apart (ClusterConstraints::
// conflicts, checked between every record of one cluster and every record of
// the other, so a chain A~B~C cannot join A and C when they conflict), or two
// records of a one_record_per_source source not joined by that source's own
// dedup rules. Clusters never grow past max_cluster_size: pairs of equal
// strength are applied together, and when the clusters they would join
// exceed the cap, those clusters stop growing (their pairs are marked
// split_by_cap). Without refusals the result is monotone: removing the
// weakest pairs (a higher threshold) never joins more records.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "unify/matcher.h"

namespace cdp {

enum class PairStatus : uint8_t {
  kMerged = 0,           // joined two clusters
  kRedundant = 1,        // both records were already in one cluster
  kBlocked = 2,          // refused: it would join a never-match override pair
  kSplitByCap = 3,       // refused: the clusters it would join are at the max_cluster_size cap
  kBlockedByGuard = 4,   // refused: a record of one cluster conflicts with one of the other (unification.guards),
                         // or the two clusters were too large to check (ClusterConstraints::max_checks)
  kBlockedBySource = 5,  // refused: two records of a one_record_per_source source in one cluster
};
std::string_view PairStatusName(PairStatus status);

struct NeverMatch {
  RecordId a = 0, b = 0;
};

// A group of records the pairs would have joined without the cap, and how
// the cap cut it.
struct ClusterSplit {
  int64_t records = 0;          // records the pairs join without the cap
  double max_dropped_strength = 0;  // the strongest pair refused at the cap
  int64_t parts = 0;            // clusters it became
  RecordId example = 0;         // its smallest record
};

struct ClusterConstraints {
  std::vector<NeverMatch> never;
  int64_t max_cluster_size = 50;
  // True when two records may not share a cluster (a guard fails). Empty: no check.
  std::function<bool(RecordId, RecordId)> conflicts;
  // one_record_per_source: `limited[s]` for a limited source index s, the
  // source of a record, and the source whose dedup rule accepted a pair (-1:
  // none). Empty `limited`: no limit.
  std::vector<bool> limited;
  std::function<int(RecordId)> source_of;
  std::function<int(const MatchPair&)> dedup_source;
  // Record pairs checked with `conflicts` for one union; a larger union is refused.
  int64_t max_checks = 250000;
};

struct Clustering {
  std::vector<uint32_t> cluster_of;  // per record; clusters numbered by their smallest record
  uint32_t num_clusters = 0;
  std::vector<PairStatus> status;    // per input pair
  std::vector<ClusterSplit> splits;  // largest first
  int64_t unions_too_large_to_check = 0;  // refused (kBlockedByGuard) because of max_checks
};

// `pairs` as returned by Matcher::Run (plus always-match overrides).
Clustering ClusterRecords(size_t num_records, const std::vector<MatchPair>& pairs,
                          const ClusterConstraints& constraints);
// The same with never-match overrides and the cap only.
Clustering ClusterRecords(size_t num_records, const std::vector<MatchPair>& pairs,
                          const std::vector<NeverMatch>& never, int64_t max_cluster_size);

}  // namespace cdp
