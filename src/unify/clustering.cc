#include "unify/clustering.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace cdp {
namespace {

// Union-find with refusal of unions that would join a never-match pair.
class ConstrainedUnionFind {
 public:
  explicit ConstrainedUnionFind(size_t n) : parent_(n), size_(n, 1) {
    std::iota(parent_.begin(), parent_.end(), 0u);
  }
  void Forbid(uint32_t a, uint32_t b) {
    forbidden_[a].push_back(b);
    forbidden_[b].push_back(a);
  }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // Returns the status of the pair's union.
  PairStatus Union(uint32_t a, uint32_t b) {
    uint32_t ra = Find(a), rb = Find(b);
    if (ra == rb) return PairStatus::kRedundant;
    if (!forbidden_.empty()) {
      auto fa = forbidden_.find(ra), fb = forbidden_.find(rb);
      if (fa != forbidden_.end() && fb != forbidden_.end()) {
        const auto& small = fa->second.size() < fb->second.size() ? fa->second : fb->second;
        uint32_t other = fa->second.size() < fb->second.size() ? rb : ra;
        for (uint32_t x : small) {
          if (Find(x) == other) return PairStatus::kBlocked;
        }
      }
    }
    if (size_[ra] < size_[rb]) std::swap(ra, rb);
    parent_[rb] = ra;
    size_[ra] += size_[rb];
    if (!forbidden_.empty()) {
      auto fb = forbidden_.find(rb);
      if (fb != forbidden_.end()) {
        auto& dst = forbidden_[ra];
        dst.insert(dst.end(), fb->second.begin(), fb->second.end());
        forbidden_.erase(rb);
      }
    }
    return PairStatus::kMerged;
  }
  uint32_t SizeOf(uint32_t root) const { return size_[root]; }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
  // Keyed by root: records that must never join that root's cluster.
  std::unordered_map<uint32_t, std::vector<uint32_t>> forbidden_;
};

}  // namespace

std::string_view PairStatusName(PairStatus status) {
  switch (status) {
    case PairStatus::kMerged: return "merged";
    case PairStatus::kRedundant: return "redundant";
    case PairStatus::kBlocked: return "blocked_by_override";
    case PairStatus::kSplitByCap: return "split_by_cap";
  }
  return "merged";
}

Clustering ClusterRecords(size_t n, const std::vector<MatchPair>& pairs, const std::vector<NeverMatch>& never,
                          int64_t max_cluster_size) {
  Clustering out;
  out.status.assign(pairs.size(), PairStatus::kRedundant);
  // Strongest first; ties in record order, so the result is deterministic.
  std::vector<uint32_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const MatchPair& p = pairs[x];
    const MatchPair& q = pairs[y];
    if (p.strength != q.strength) return p.strength > q.strength;
    return p.a != q.a ? p.a < q.a : p.b < q.b;
  });
  ConstrainedUnionFind uf(n);
  for (const auto& nm : never) uf.Forbid(nm.a, nm.b);
  for (uint32_t i : order) out.status[i] = uf.Union(pairs[i].a, pairs[i].b);

  // Oversized clusters: re-cluster their records with a rising bar.
  std::unordered_map<uint32_t, std::vector<uint32_t>> big;  // root -> pair indexes (in strength order)
  for (uint32_t i : order) {
    uint32_t root = uf.Find(pairs[i].a);
    if (out.status[i] == PairStatus::kBlocked || root != uf.Find(pairs[i].b)) continue;
    if (static_cast<int64_t>(uf.SizeOf(root)) > max_cluster_size) big[root].push_back(i);
  }
  std::vector<uint32_t> final_parent(n);
  for (uint32_t r = 0; r < n; ++r) final_parent[r] = uf.Find(r);
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> big_sorted(big.begin(), big.end());
  std::sort(big_sorted.begin(), big_sorted.end());
  for (auto& [root, bound_idx] : big_sorted) {
    auto& idx = bound_idx;  // a lambda below uses it: clang 14 cannot capture a structured binding
    // Local ids for the cluster's records.
    std::unordered_map<RecordId, uint32_t> local;
    std::vector<RecordId> members;
    for (uint32_t i : idx) {
      for (RecordId r : {pairs[i].a, pairs[i].b}) {
        if (local.emplace(r, static_cast<uint32_t>(members.size())).second) members.push_back(r);
      }
    }
    std::vector<NeverMatch> local_never;
    for (const auto& nm : never) {
      auto a = local.find(nm.a), b = local.find(nm.b);
      if (a != local.end() && b != local.end()) local_never.push_back(NeverMatch{a->second, b->second});
    }
    // Distinct strengths ascending; find the smallest bar giving parts within the cap.
    std::vector<double> strengths;
    for (uint32_t i : idx) strengths.push_back(pairs[i].strength);
    std::sort(strengths.begin(), strengths.end());
    strengths.erase(std::unique(strengths.begin(), strengths.end()), strengths.end());
    auto attempt = [&](double bar, std::vector<PairStatus>* statuses, ConstrainedUnionFind* result) {
      ConstrainedUnionFind lu(members.size());
      for (const auto& nm : local_never) lu.Forbid(nm.a, nm.b);
      uint32_t largest = 1;
      for (size_t k = 0; k < idx.size(); ++k) {
        const MatchPair& p = pairs[idx[k]];
        if (p.strength <= bar) {
          if (statuses) (*statuses)[k] = PairStatus::kSplitByCap;
          continue;
        }
        PairStatus s = lu.Union(local[p.a], local[p.b]);
        if (statuses) (*statuses)[k] = s;
        largest = std::max(largest, lu.SizeOf(lu.Find(local[p.a])));
      }
      if (result) *result = std::move(lu);
      return static_cast<int64_t>(largest) <= max_cluster_size;
    };
    // Binary search over the bar (higher bar -> smaller parts). With the bar
    // at the largest strength every pair is dropped, which always fits.
    size_t lo = 0, hi = strengths.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (attempt(strengths[mid], nullptr, nullptr)) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    std::vector<PairStatus> statuses(idx.size());
    ConstrainedUnionFind lu(members.size());
    attempt(strengths[lo], &statuses, &lu);
    for (size_t k = 0; k < idx.size(); ++k) out.status[idx[k]] = statuses[k];
    std::unordered_map<uint32_t, RecordId> part_root;
    for (size_t m = 0; m < members.size(); ++m) {
      uint32_t lr = lu.Find(static_cast<uint32_t>(m));
      auto it = part_root.emplace(lr, members[m]).first;
      final_parent[members[m]] = it->second;
    }
    out.splits.push_back(ClusterSplit{static_cast<int64_t>(members.size()), strengths[lo],
                                      static_cast<int64_t>(part_root.size()), members.front()});
  }
  // Number clusters by their smallest record.
  out.cluster_of.assign(n, 0);
  std::vector<uint32_t> id_of_root(n, UINT32_MAX);
  for (uint32_t r = 0; r < n; ++r) {
    uint32_t root = final_parent[r];
    if (id_of_root[root] == UINT32_MAX) id_of_root[root] = out.num_clusters++;
    out.cluster_of[r] = id_of_root[root];
  }
  return out;
}

}  // namespace cdp
