#include "insight/overlap.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/parallel.h"
#include "insight/internal/insight_text.h"

namespace cdp {

namespace {

using insight_internal::RangeLabel;
using insight_internal::SortedQuantile;

double Ratio(uint64_t a, uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

nlohmann::ordered_json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

// The bucket of every customer for the breakdown: bucket index per customer
// value, and the buckets' labels and ranges.
struct Bucketing {
  std::vector<OverlapBucket> buckets;  // without counts
  size_t missing = 0;                  // index of "(missing)" (always the last)
  std::vector<double> edges;           // numeric: ascending bin edges
  size_t Of(const CustomerAttribute& a, uint32_t c) const {
    if (a.IsMissing(c)) return missing;
    if (a.kind == AttributeKind::kCategorical) return static_cast<size_t>(a.codes[c]);
    // Bins [e0, e1), [e1, e2), ..., [e_{m-1}, e_m]; values beyond the ends go to the end bins.
    const double v = a.numbers[c];
    const size_t bins = edges.size() - 1;
    const auto it = std::upper_bound(edges.begin() + 1, edges.end() - 1, v);
    return std::min(static_cast<size_t>(it - (edges.begin() + 1)), bins - 1);
  }
};

Bucketing MakeBuckets(const CustomerAttribute& a, const CustomerSet& shared, std::span<const SegmentMembers> segments,
                      int numeric_bins) {
  Bucketing b;
  if (a.kind == AttributeKind::kCategorical) {
    for (const auto& value : a.categories) {
      OverlapBucket bucket;
      bucket.label = value;
      b.buckets.push_back(std::move(bucket));
    }
  } else {
    // Quantiles of the shared members' values (of all members when none is
    // shared or none has a value); the outer edges are the extremes over
    // every segment so each bin's [low, high] holds all its values.
    std::vector<double> values;
    shared.ForEach([&](uint32_t c) {
      if (!a.IsMissing(c)) values.push_back(a.numbers[c]);
    });
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : segments) {
      s.members.ForEach([&](uint32_t c) {
        if (a.IsMissing(c)) return;
        lo = std::min(lo, a.numbers[c]);
        hi = std::max(hi, a.numbers[c]);
      });
    }
    if (values.empty()) {
      CustomerSet all;
      for (const auto& s : segments) all.UnionWith(s.members);
      all.ForEach([&](uint32_t c) {
        if (!a.IsMissing(c)) values.push_back(a.numbers[c]);
      });
    }
    std::sort(values.begin(), values.end());
    if (!values.empty()) {
      b.edges.push_back(lo);
      for (int k = 1; k < numeric_bins; ++k) {
        const double e = SortedQuantile(values, static_cast<double>(k) / numeric_bins);
        if (e > b.edges.back() && e < hi) b.edges.push_back(e);
      }
      b.edges.push_back(hi);
      for (size_t k = 0; k + 1 < b.edges.size(); ++k) {
        OverlapBucket bucket;
        bucket.low = b.edges[k];
        bucket.high = b.edges[k + 1];
        bucket.label = RangeLabel(bucket.low, bucket.high);
        b.buckets.push_back(std::move(bucket));
      }
    }
  }
  b.missing = b.buckets.size();
  OverlapBucket missing;
  missing.label = "(missing)";
  b.buckets.push_back(std::move(missing));
  return b;
}

OverlapBreakdown Breakdown(const CustomerAttribute& a, const CustomerSet& shared,
                           std::span<const SegmentMembers> segments, const std::vector<OverlapSegment>& sizes,
                           int numeric_bins, int threads) {
  Bucketing b = MakeBuckets(a, shared, segments, numeric_bins);
  const size_t n = segments.size();
  for (auto& bucket : b.buckets) {
    bucket.segment_count.assign(n, 0);
    bucket.segment_share.assign(n, 0);
  }
  shared.ForEach([&](uint32_t c) { ++b.buckets[b.Of(a, c)].shared; });
  // Segments in parallel: each writes only its own column of counts.
  ParallelFor(threads, n, 1, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      segments[i].members.ForEach([&](uint32_t c) { ++b.buckets[b.Of(a, c)].segment_count[i]; });
    }
  });
  const uint64_t total_shared = shared.Count();
  OverlapBreakdown out;
  out.attribute = a.name;
  out.kind = a.kind;
  for (size_t k = 0; k < b.buckets.size(); ++k) {
    OverlapBucket& bucket = b.buckets[k];
    const bool used = bucket.shared > 0 || std::any_of(bucket.segment_count.begin(), bucket.segment_count.end(),
                                                       [](uint64_t v) { return v > 0; });
    // Empty categories and an empty "(missing)" are left out; numeric bins stay (they tile the range).
    if (!used && (a.kind == AttributeKind::kCategorical || k == b.missing)) continue;
    bucket.shared_share = Ratio(bucket.shared, total_shared);
    for (size_t i = 0; i < n; ++i) bucket.segment_share[i] = Ratio(bucket.segment_count[i], sizes[i].members);
    out.buckets.push_back(std::move(bucket));
  }
  return out;
}

}  // namespace

StatusOr<OverlapResult> ComputeOverlap(std::span<const SegmentMembers> segments, const OverlapOptions& options) {
  if (segments.size() < 2 || segments.size() > static_cast<size_t>(kMaxOverlapSegments)) {
    return InvalidArgumentError("overlap: segments must number 2.." + std::to_string(kMaxOverlapSegments) + ", got " +
                                std::to_string(segments.size()));
  }
  if (options.numeric_bins < 2 || options.numeric_bins > 50) {
    return InvalidArgumentError("overlap: numeric_bins must be in [2, 50], got " +
                                std::to_string(options.numeric_bins));
  }
  if (options.threads < 0 || options.threads > 256) {
    return InvalidArgumentError("overlap: threads must be in [0, 256], got " + std::to_string(options.threads));
  }
  const size_t n = segments.size();
  OverlapResult out;
  out.segments.resize(n);
  out.matrix.assign(n, std::vector<uint64_t>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    out.segments[i].name = segments[i].name;
    out.segments[i].members = segments[i].members.Count();
    out.matrix[i][i] = out.segments[i].members;
  }
  if (const CustomerAttribute* a = options.breakdown) {
    const size_t size = a->kind == AttributeKind::kNumeric ? a->numbers.size() : a->codes.size();
    for (size_t i = 0; i < n; ++i) {
      std::vector<uint32_t> v = segments[i].members.ToVector();
      if (!v.empty() && v.back() >= size) {
        return InvalidArgumentError("overlap: segment '" + segments[i].name + "' has customer " +
                                    std::to_string(v.back()) + ", beyond the " + std::to_string(size) +
                                    " customers of breakdown attribute '" + a->name + "'");
      }
    }
  }

  // Pairwise AND cardinalities, spread over threads.
  std::vector<std::pair<int32_t, int32_t>> pairs;
  pairs.reserve(n * (n - 1) / 2);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) pairs.emplace_back(static_cast<int32_t>(i), static_cast<int32_t>(j));
  }
  out.pairs.resize(pairs.size());
  ParallelFor(options.threads, pairs.size(), 16, [&](size_t begin, size_t end, int) {
    for (size_t k = begin; k < end; ++k) {
      const auto [a, b] = pairs[k];
      OverlapPair& p = out.pairs[k];
      p.a = a;
      p.b = b;
      p.shared = segments[static_cast<size_t>(a)].members.IntersectionCount(segments[static_cast<size_t>(b)].members);
    }
  });
  for (OverlapPair& p : out.pairs) {
    const uint64_t na = out.segments[static_cast<size_t>(p.a)].members;
    const uint64_t nb = out.segments[static_cast<size_t>(p.b)].members;
    p.share_of_a = Ratio(p.shared, na);
    p.share_of_b = Ratio(p.shared, nb);
    p.jaccard = Ratio(p.shared, na + nb - p.shared);
    out.matrix[static_cast<size_t>(p.a)][static_cast<size_t>(p.b)] = p.shared;
    out.matrix[static_cast<size_t>(p.b)][static_cast<size_t>(p.a)] = p.shared;
  }

  // Rests: the union so far and the customers in two or more segments.
  CustomerSet any, twice;
  for (size_t i = 0; i < n; ++i) {
    CustomerSet seen_before = segments[i].members;
    seen_before.IntersectWith(any);
    twice.UnionWith(seen_before);
    any.UnionWith(segments[i].members);
  }
  for (size_t i = 0; i < n; ++i) {
    OverlapSegment& s = out.segments[i];
    s.rest = s.members - segments[i].members.IntersectionCount(twice);
    s.rest_share = Ratio(s.rest, s.members);
  }
  out.in_any = any.Count();

  CustomerSet all = segments[0].members;
  for (size_t i = 1; i < n; ++i) all.IntersectWith(segments[i].members);
  out.shared_by_all = all.Count();

  if (options.breakdown) {
    out.breakdown = Breakdown(*options.breakdown, all, segments, out.segments, options.numeric_bins, options.threads);
  }
  return out;
}

nlohmann::ordered_json OverlapResult::ToJson() const {
  nlohmann::ordered_json j;
  j["segments"] = nlohmann::ordered_json::array();
  for (const auto& s : segments) {
    j["segments"].push_back(
        {{"name", s.name}, {"members", s.members}, {"rest", s.rest}, {"rest_share", Number(s.rest_share)}});
  }
  j["shared_by_all"] = shared_by_all;
  j["in_any"] = in_any;
  j["matrix"] = matrix;
  j["pairs"] = nlohmann::ordered_json::array();
  for (const auto& p : pairs) {
    j["pairs"].push_back({{"a", p.a},
                          {"b", p.b},
                          {"a_name", segments[static_cast<size_t>(p.a)].name},
                          {"b_name", segments[static_cast<size_t>(p.b)].name},
                          {"shared", p.shared},
                          {"share_of_a", Number(p.share_of_a)},
                          {"share_of_b", Number(p.share_of_b)},
                          {"jaccard", Number(p.jaccard)}});
  }
  if (breakdown) {
    nlohmann::ordered_json b;
    b["attribute"] = breakdown->attribute;
    b["kind"] = breakdown->kind == AttributeKind::kNumeric ? "numeric" : "categorical";
    b["buckets"] = nlohmann::ordered_json::array();
    for (const auto& k : breakdown->buckets) {
      nlohmann::ordered_json e;
      e["label"] = k.label;
      if (!std::isnan(k.low)) {
        e["low"] = Number(k.low);
        e["high"] = Number(k.high);
      }
      e["shared"] = k.shared;
      e["shared_share"] = Number(k.shared_share);
      e["segment_count"] = k.segment_count;
      nlohmann::ordered_json shares = nlohmann::ordered_json::array();
      for (double s : k.segment_share) shares.push_back(Number(s));
      e["segment_share"] = std::move(shares);
      b["buckets"].push_back(std::move(e));
    }
    j["breakdown"] = std::move(b);
  }
  return j;
}

}  // namespace cdp
