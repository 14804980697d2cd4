// Segment overlap: how two or more segments share customers. For N segments
// (2..kMaxOverlapSegments): every pair's shared members (count, share of
// each side, Jaccard index), each segment's "rest" (members in none of the
// other given segments), the members shared by all of them, the N x N matrix
// of pairwise intersections, and optionally a breakdown of the customers
// shared by all segments by one CustomerAttribute, next to how each whole
// segment spreads over the same buckets.
//
// Method: set algebra on compressed bitmaps (CustomerSet, CRoaring). Pairwise
// intersections are AND cardinalities (no intersection is materialised),
// N(N-1)/2 of them, spread over threads; the rests use one pass that keeps
// the union so far and the "in two or more" set (rest_i = |S_i| - |S_i AND
// in-two-or-more|), so they cost O(N) bitmap operations, not O(N^2).
// Numeric breakdowns use quantile bins (type 7, as numpy's default) of the
// shared members' values, so each bin holds about the same number of shared
// members; equal edges are merged. Chosen over equal-width bins because
// customer measures are skewed (a few big spenders would leave most bins
// empty). The bin count (default 5, quintiles) was chosen before looking at
// any data.
//
// Thread-safety: ComputeOverlap is a pure function of its inputs; it may be
// called from many threads at once (it starts its own worker threads).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "insight/customer_attributes.h"
#include "segment/customer_set.h"

namespace cdp {

inline constexpr int kMaxOverlapSegments = 200;

// A segment's name (for display; need not be unique) and members.
struct SegmentMembers {
  std::string name;
  CustomerSet members;
};

struct OverlapOptions {
  // Break the customers shared by ALL segments down by this attribute (null:
  // no breakdown). Members must be customer indexes of its columns.
  const CustomerAttribute* breakdown = nullptr;
  int numeric_bins = 5;  // quantile bins of a numeric breakdown, 2..50
  int threads = 0;       // 0 = one per core, else 1..256
};

struct OverlapSegment {
  std::string name;
  uint64_t members = 0;
  uint64_t rest = 0;        // members in none of the other given segments
  double rest_share = 0;    // rest / members (0 for an empty segment)
};

struct OverlapPair {
  int32_t a = 0, b = 0;     // indexes into OverlapResult::segments, a < b
  uint64_t shared = 0;      // |A AND B|
  double share_of_a = 0;    // shared / |A| (0 when A is empty)
  double share_of_b = 0;    // shared / |B|
  double jaccard = 0;       // shared / |A OR B| (0 when both are empty)
};

// One bucket of the breakdown: a category (categorical attribute), a quantile
// bin [low, high) (numeric; the last bin is closed), or "(missing)".
struct OverlapBucket {
  std::string label;  // "Gold", "(other)", "25 - 40", "(missing)"
  double low = std::numeric_limits<double>::quiet_NaN();   // numeric bins only
  double high = std::numeric_limits<double>::quiet_NaN();
  uint64_t shared = 0;          // customers shared by all segments in the bucket
  double shared_share = 0;      // shared / all shared customers
  std::vector<uint64_t> segment_count;  // per segment: its members in the bucket
  std::vector<double> segment_share;    // per segment: segment_count / its members
};

struct OverlapBreakdown {
  std::string attribute;  // CustomerAttribute::name
  AttributeKind kind = AttributeKind::kNumeric;
  std::vector<OverlapBucket> buckets;  // categories in attribute order, or bins ascending; "(missing)" last if any
};

struct OverlapResult {
  std::vector<OverlapSegment> segments;       // in input order
  std::vector<std::vector<uint64_t>> matrix;  // [i][j] = |S_i AND S_j|; diagonal = |S_i|
  std::vector<OverlapPair> pairs;             // every i < j, ordered by (a, b)
  uint64_t shared_by_all = 0;                 // |S_1 AND ... AND S_N|
  uint64_t in_any = 0;                        // |S_1 OR ... OR S_N|
  std::optional<OverlapBreakdown> breakdown;
  // {"segments":[{"name","members","rest","rest_share"}], "shared_by_all",
  //  "in_any", "matrix":[[...]], "pairs":[{"a","b","a_name","b_name","shared",
  //  "share_of_a","share_of_b","jaccard"}], "breakdown":{"attribute","kind",
  //  "buckets":[{"label","low","high","shared","shared_share",
  //  "segment_count":[...],"segment_share":[...]}]}} (breakdown only when asked;
  //  low/high only for numeric bins).
  nlohmann::ordered_json ToJson() const;
};

// InvalidArgument for fewer than 2 or more than kMaxOverlapSegments segments,
// numeric_bins outside 2..50, threads outside 0..256, or a breakdown
// attribute whose columns do not cover a member (member >= its size).
StatusOr<OverlapResult> ComputeOverlap(std::span<const SegmentMembers> segments, const OverlapOptions& options);

}  // namespace cdp
