#include "unify/clustering.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace cdp {
namespace {

// Plain union-find by size.
class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n), size_(n, 1) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) {
      parent_[x] = parent_[parent_[x]];
      x = parent_[x];
    }
    return x;
  }
  // Joins the two roots; returns the new root.
  uint32_t Link(uint32_t ra, uint32_t rb) {
    if (size_[ra] < size_[rb]) std::swap(ra, rb);
    parent_[rb] = ra;
    size_[ra] += size_[rb];
    return ra;
  }
  void Union(uint32_t a, uint32_t b) {
    uint32_t ra = Find(a), rb = Find(b);
    if (ra != rb) Link(ra, rb);
  }
  uint32_t SizeOf(uint32_t root) const { return size_[root]; }

 private:
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
};

// Union-find whose unions are checked against the constraints.
class ConstrainedUnionFind {
 public:
  ConstrainedUnionFind(size_t n, const ClusterConstraints& c) : uf_(n), c_(c) {
    for (const auto& nm : c.never) {
      forbidden_[nm.a].push_back(nm.b);
      forbidden_[nm.b].push_back(nm.a);
    }
    limited_ = !c.limited.empty() && c.source_of &&
               std::find(c.limited.begin(), c.limited.end(), true) != c.limited.end();
    if (c.conflicts || limited_) {
      // Members of each cluster as a circular list (joined in O(1)).
      next_.resize(n);
      std::iota(next_.begin(), next_.end(), 0u);
    }
  }
  uint32_t Find(uint32_t x) { return uf_.Find(x); }
  uint32_t SizeOf(uint32_t root) const { return uf_.SizeOf(root); }

  // kMerged when pair `p` may join the roots ra != rb, else why not.
  PairStatus Check(uint32_t ra, uint32_t rb, const MatchPair& p) {
    if (!forbidden_.empty()) {
      auto fa = forbidden_.find(ra), fb = forbidden_.find(rb);
      if (fa != forbidden_.end() && fb != forbidden_.end()) {
        const auto& small = fa->second.size() < fb->second.size() ? fa->second : fb->second;
        uint32_t other = fa->second.size() < fb->second.size() ? rb : ra;
        for (uint32_t x : small) {
          if (uf_.Find(x) == other) return PairStatus::kBlocked;
        }
      }
    }
    if (limited_) {
      // By induction a cluster's records of a limited source are joined by
      // that source's dedup pairs; a dedup pair of source S may join two such
      // groups, anything else may not.
      int dedup = c_.dedup_source ? c_.dedup_source(p) : -1;
      sources_.clear();
      ForMembers(ra, [&](uint32_t x) {
        int s = c_.source_of(x);
        if (s >= 0 && static_cast<size_t>(s) < c_.limited.size() && c_.limited[static_cast<size_t>(s)]) {
          sources_.push_back(s);
        }
      });
      if (!sources_.empty()) {
        bool clash = false;
        ForMembers(rb, [&](uint32_t y) {
          int s = c_.source_of(y);
          if (!clash && s != dedup && std::find(sources_.begin(), sources_.end(), s) != sources_.end()) clash = true;
        });
        if (clash) return PairStatus::kBlockedBySource;
      }
    }
    if (c_.conflicts) {
      if (static_cast<int64_t>(uf_.SizeOf(ra)) * static_cast<int64_t>(uf_.SizeOf(rb)) > c_.max_checks) {
        ++too_large_;
        return PairStatus::kBlockedByGuard;
      }
      bool conflict = false;
      ForMembers(ra, [&](uint32_t x) {
        if (conflict) return;
        ForMembers(rb, [&](uint32_t y) {
          if (!conflict && c_.conflicts(x, y)) conflict = true;
        });
      });
      if (conflict) return PairStatus::kBlockedByGuard;
    }
    return PairStatus::kMerged;
  }

  void Link(uint32_t ra, uint32_t rb) {
    uint32_t root = uf_.Link(ra, rb);
    uint32_t gone = root == ra ? rb : ra;
    if (!next_.empty()) std::swap(next_[ra], next_[rb]);
    if (!forbidden_.empty()) {
      auto fb = forbidden_.find(gone);
      if (fb != forbidden_.end()) {
        std::vector<uint32_t> moved = std::move(fb->second);
        forbidden_.erase(fb);
        auto& dst = forbidden_[root];
        dst.insert(dst.end(), moved.begin(), moved.end());
      }
    }
  }

  int64_t too_large() const { return too_large_; }

 private:
  template <typename F>
  void ForMembers(uint32_t root, F&& f) {
    uint32_t x = root;
    do {
      f(x);
      x = next_[x];
    } while (x != root);
  }

  UnionFind uf_;
  const ClusterConstraints& c_;
  bool limited_ = false;
  std::vector<uint32_t> next_;
  std::vector<int> sources_;
  // Keyed by root: records that must never join that root's cluster.
  std::unordered_map<uint32_t, std::vector<uint32_t>> forbidden_;
  int64_t too_large_ = 0;
};

}  // namespace

std::string_view PairStatusName(PairStatus status) {
  switch (status) {
    case PairStatus::kMerged: return "merged";
    case PairStatus::kRedundant: return "redundant";
    case PairStatus::kBlocked: return "blocked_by_override";
    case PairStatus::kSplitByCap: return "split_by_cap";
    case PairStatus::kBlockedByGuard: return "blocked_by_guard";
    case PairStatus::kBlockedBySource: return "blocked_by_source";
  }
  return "merged";
}

Clustering ClusterRecords(size_t n, const std::vector<MatchPair>& pairs, const std::vector<NeverMatch>& never,
                          int64_t max_cluster_size) {
  ClusterConstraints c;
  c.never = never;
  c.max_cluster_size = max_cluster_size;
  return ClusterRecords(n, pairs, c);
}

Clustering ClusterRecords(size_t n, const std::vector<MatchPair>& pairs, const ClusterConstraints& constraints) {
  Clustering out;
  out.status.assign(pairs.size(), PairStatus::kRedundant);
  const int64_t cap = std::max<int64_t>(constraints.max_cluster_size, 1);
  // Strongest first; ties in record order, so the result is deterministic.
  std::vector<uint32_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const MatchPair& p = pairs[x];
    const MatchPair& q = pairs[y];
    if (p.strength != q.strength) return p.strength > q.strength;
    return p.a != q.a ? p.a < q.a : p.b < q.b;
  });
  ConstrainedUnionFind uf(n, constraints);
  // Clusters that reached the cap: they never grow again (any later, weaker
  // pair joining them would make a group at least as large).
  std::vector<uint8_t> frozen(n, 0);
  // What the pairs would have joined without the cap (for the split report).
  UnionFind whole(n);
  std::vector<uint8_t> capped_pair(pairs.size(), 0);

  // Pairs of one strength form a level; a level's groups of clusters (joined
  // by its pairs, constraints aside) are applied whole or not at all.
  std::vector<uint32_t> tparent(n);
  std::iota(tparent.begin(), tparent.end(), 0u);
  std::vector<uint32_t> touched;
  auto tfind = [&](uint32_t x) {
    while (tparent[x] != x) {
      tparent[x] = tparent[tparent[x]];
      x = tparent[x];
    }
    return x;
  };
  std::vector<uint32_t> roots_a, roots_b;
  std::unordered_map<uint32_t, int64_t> group_size;  // group root -> records; -1: over the cap or frozen
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && pairs[order[j]].strength == pairs[order[i]].strength) ++j;
    // Current roots of each pair of the level, and the level's groups.
    roots_a.clear();
    roots_b.clear();
    group_size.clear();
    for (size_t k = i; k < j; ++k) {
      const MatchPair& p = pairs[order[k]];
      uint32_t ra = uf.Find(p.a), rb = uf.Find(p.b);
      roots_a.push_back(ra);
      roots_b.push_back(rb);
      if (ra == rb) continue;
      for (uint32_t r : {ra, rb}) {
        if (tparent[r] == r) touched.push_back(r);
      }
      uint32_t ta = tfind(ra), tb = tfind(rb);
      if (ta != tb) tparent[tb] = ta;
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint32_t r : touched) {
      int64_t& g = group_size[tfind(r)];
      if (g < 0) continue;
      if (frozen[r]) {
        g = -1;
      } else {
        g += uf.SizeOf(r);
        if (g > cap) g = -1;
      }
    }
    for (size_t k = i; k < j; ++k) {
      uint32_t idx = order[k];
      const MatchPair& p = pairs[idx];
      uint32_t ra = roots_a[k - i], rb = roots_b[k - i];
      if (ra == rb) {
        out.status[idx] = PairStatus::kRedundant;
        whole.Union(p.a, p.b);
        continue;
      }
      bool over = group_size[tfind(ra)] < 0;
      // The roots may have changed through this level's earlier unions.
      ra = uf.Find(p.a);
      rb = uf.Find(p.b);
      if (ra == rb) {
        out.status[idx] = PairStatus::kRedundant;
        whole.Union(p.a, p.b);
        continue;
      }
      PairStatus s = uf.Check(ra, rb, p);
      if (s == PairStatus::kMerged && over) s = PairStatus::kSplitByCap;
      out.status[idx] = s;
      if (s == PairStatus::kMerged) {
        uf.Link(ra, rb);
        whole.Union(p.a, p.b);
      } else if (s == PairStatus::kSplitByCap) {
        frozen[ra] = frozen[rb] = 1;
        capped_pair[idx] = 1;
        whole.Union(p.a, p.b);
      }
    }
    for (uint32_t r : touched) tparent[r] = r;
    touched.clear();
    i = j;
  }
  out.unions_too_large_to_check = uf.too_large();

  // Number clusters by their smallest record.
  out.cluster_of.assign(n, 0);
  std::vector<uint32_t> id_of_root(n, UINT32_MAX);
  for (uint32_t r = 0; r < n; ++r) {
    uint32_t root = uf.Find(r);
    if (id_of_root[root] == UINT32_MAX) id_of_root[root] = out.num_clusters++;
    out.cluster_of[r] = id_of_root[root];
  }

  // The split report: one entry per group the cap cut.
  std::unordered_map<uint32_t, size_t> split_of;  // whole root -> index into out.splits
  for (size_t k = 0; k < pairs.size(); ++k) {
    if (!capped_pair[k]) continue;
    uint32_t w = whole.Find(pairs[k].a);
    auto it = split_of.find(w);
    if (it == split_of.end()) {
      it = split_of.emplace(w, out.splits.size()).first;
      out.splits.push_back(ClusterSplit{static_cast<int64_t>(whole.SizeOf(w)), pairs[k].strength, 0, pairs[k].a});
    }
    ClusterSplit& cs = out.splits[it->second];
    cs.max_dropped_strength = std::max(cs.max_dropped_strength, pairs[k].strength);
  }
  if (!split_of.empty()) {
    std::unordered_map<uint32_t, std::vector<uint32_t>> parts;  // split index -> cluster ids
    for (uint32_t r = 0; r < n; ++r) {
      auto it = split_of.find(whole.Find(r));
      if (it == split_of.end()) continue;
      ClusterSplit& cs = out.splits[it->second];
      if (parts[static_cast<uint32_t>(it->second)].empty()) cs.example = r;  // records in order: the smallest
      parts[static_cast<uint32_t>(it->second)].push_back(out.cluster_of[r]);
    }
    for (auto& [s, ids] : parts) {
      std::sort(ids.begin(), ids.end());
      out.splits[s].parts = static_cast<int64_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
    }
    std::sort(out.splits.begin(), out.splits.end(), [](const ClusterSplit& x, const ClusterSplit& y) {
      return x.records != y.records ? x.records > y.records : x.example < y.example;
    });
  }
  return out;
}

}  // namespace cdp
