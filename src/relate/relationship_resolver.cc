#include "relate/relationship_resolver.h"

#include "common/parallel.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace cdp {
namespace {

std::string CellKey(const Column& c, size_t row) {
  return c.type() == DataType::kString ? std::string(c.StringAt(row)) : c.ValueToString(row);
}

bool IsTarget(const std::string& entity, const std::vector<std::string>& profile_sources) {
  return entity == "Customer" ||
         std::find(profile_sources.begin(), profile_sources.end(), entity) != profile_sources.end();
}

uint64_t MixInt64(int64_t v) {  // splitmix64's finalizer
  uint64_t x = static_cast<uint64_t>(v);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The rows of a relationship's target field by value. String and int64 keys
// sit in an open-addressing table of (hash, row) slots (linear probing, load
// <= 1/2) that compares against the target column itself: no key is copied
// and a lookup touches one slot run and the candidate's characters. Other
// types (dates, timestamps, doubles, booleans) are keyed by their text
// (CellKey) as before: two cells are the same key exactly when CellKey says
// so. The column must outlive the index. Find is safe to call concurrently.
class KeyIndex {
 public:
  KeyIndex(const Column& target, size_t rows) : target_(target) {
    if (Flat()) {
      size_t cap = 16;
      while (cap < 2 * rows) cap <<= 1;
      slots_.assign(cap, Slot{0, -1});
      mask_ = cap - 1;
    } else {
      texts_.reserve(rows);
    }
  }

  // Adds row `r` (not null). Returns -1, or the earlier row holding the same key.
  int64_t Insert(size_t r) {
    if (!Flat()) {
      auto [it, inserted] = texts_.emplace(CellKey(target_, r), static_cast<int64_t>(r));
      return inserted ? -1 : it->second;
    }
    const uint64_t h = HashOf(target_, r);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.row < 0) {
        s = Slot{h, static_cast<int64_t>(r)};
        return -1;
      }
      if (s.hash == h && Same(target_, r, static_cast<size_t>(s.row))) return s.row;
    }
  }
  // Target row whose key equals row `r` of `from` (a non-null cell of the
  // target's type), or -1.
  int64_t Find(const Column& from, size_t r) const {
    if (!Flat()) {
      auto it = texts_.find(CellKey(from, r));
      return it == texts_.end() ? -1 : it->second;
    }
    const uint64_t h = HashOf(from, r);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.row < 0) return -1;
      if (s.hash == h && Same(from, r, static_cast<size_t>(s.row))) return s.row;
    }
  }

  // Prefetches the slot where Find(from, r) starts (for lookups in a loop).
  void Prefetch(const Column& from, size_t r) const {
    if (Flat() && !from.IsNull(r)) __builtin_prefetch(slots_.data() + (HashOf(from, r) & mask_));
  }

 private:
  struct Slot {
    uint64_t hash;
    int64_t row;  // -1 = empty
  };
  bool Flat() const { return target_.type() == DataType::kString || target_.type() == DataType::kInt64; }
  uint64_t HashOf(const Column& c, size_t r) const {
    return target_.type() == DataType::kString ? std::hash<std::string_view>()(c.StringAt(r)) : MixInt64(c.Int64At(r));
  }
  bool Same(const Column& c, size_t r, size_t target_row) const {
    return target_.type() == DataType::kString ? c.StringAt(r) == target_.StringAt(target_row)
                                               : c.Int64At(r) == target_.Int64At(target_row);
  }

  const Column& target_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::unordered_map<std::string, int64_t> texts_;
};

// Memo values for the rows of an entity on the path (each looked up once).
constexpr int64_t kUnresolved = -3;
constexpr int64_t kNullKey = -2;
constexpr int64_t kNotFound = -1;

}  // namespace

std::string RelationshipPath::Describe() const {
  std::string out;
  for (const auto* r : steps) {
    out += (out.empty() ? r->from_entity + "." + r->from_field : "") + " -> " + r->to_entity + "." + r->to_field;
  }
  return out + (steps.empty() || steps.back()->to_entity == "Customer" ? "" : " -> Customer");
}

StatusOr<RelationshipPath> FindPathToCustomer(const std::string& entity,
                                              const std::vector<RelationshipConfig>& relationships,
                                              const std::vector<std::string>& profile_sources,
                                              const std::vector<std::string>& chosen) {
  if (!chosen.empty()) {
    RelationshipPath p;
    std::string at = entity;
    for (const auto& name : chosen) {
      const RelationshipConfig* r = nullptr;
      for (const auto& rel : relationships) {
        if (rel.name == name) r = &rel;
      }
      if (!r) return InvalidArgumentError("path of '" + entity + "': no relationship named '" + name + "'");
      if (r->from_entity != at) {
        return InvalidArgumentError("path of '" + entity + "': relationship '" + name + "' starts at '" +
                                    r->from_entity + "', not at '" + at + "'");
      }
      p.steps.push_back(r);
      at = r->to_entity;
    }
    if (!IsTarget(at, profile_sources)) {
      return InvalidArgumentError("path of '" + entity + "' ends at '" + at +
                                  "', which is neither Customer nor a unified profile source");
    }
    return p;
  }
  if (IsTarget(entity, profile_sources)) return RelationshipPath{};
  std::vector<RelationshipPath> found;
  std::vector<const RelationshipConfig*> stack;
  std::vector<std::string> visited = {entity};
  std::function<void(const std::string&)> dfs = [&](const std::string& at) {
    for (const auto& rel : relationships) {
      if (rel.from_entity != at) continue;
      if (std::find(visited.begin(), visited.end(), rel.to_entity) != visited.end()) continue;
      stack.push_back(&rel);
      if (IsTarget(rel.to_entity, profile_sources)) {
        found.push_back(RelationshipPath{stack});
      } else {
        visited.push_back(rel.to_entity);
        dfs(rel.to_entity);
        visited.pop_back();
      }
      stack.pop_back();
    }
  };
  dfs(entity);
  if (found.empty()) {
    std::string leaving;
    for (const auto& rel : relationships) {
      if (rel.from_entity == entity) leaving += (leaving.empty() ? "" : ", ") + rel.name;
    }
    return NotFoundError("no relationship path from '" + entity + "' to Customer or a unified profile source" +
                         (leaving.empty() ? " (no relationship starts at it)" : " (relationships from it: " + leaving + ")"));
  }
  if (found.size() > 1) {
    std::string list;
    for (const auto& p : found) {
      std::string names;
      for (const auto* r : p.steps) names += (names.empty() ? "" : ", ") + r->name;
      list += "\n  [" + names + "]: " + p.Describe();
    }
    return InvalidArgumentError("several relationship paths lead from '" + entity +
                                "' to Customer; choose one with 'path':" + list);
  }
  return found[0];
}

StatusOr<std::vector<int64_t>> ResolveCustomers(const std::string& entity, const Table& table,
                                                const RelationshipPath& path, const EntityLoader& load,
                                                const std::function<std::string(const std::string&)>& profile_key,
                                                const CustomerIndex& customers, RelationshipStats* stats,
                                                int threads) {
  constexpr size_t kGrain = 64 * 1024;
  RelationshipStats local;
  RelationshipStats& st = stats ? *stats : local;
  st = RelationshipStats();
  st.path = path.steps.empty() ? entity + " (a profile source) -> Customer" : path.Describe();
  const size_t n = table.num_rows();
  st.rows = static_cast<int64_t>(n);
  std::vector<int64_t> out(n, -1);
  std::vector<uint8_t> alive(n, 1);
  // Row of the current entity that each input row points at.
  std::vector<int64_t> row_of(n);
  for (size_t i = 0; i < n; ++i) row_of[i] = static_cast<int64_t>(i);
  const Table* current = &table;
  std::string current_entity = entity;
  std::vector<std::shared_ptr<const Table>> held;
  // A row without a key: on the first relationship it has no key, later it
  // is an orphan (with no example).
  auto lose_empty = [&](size_t i, bool first_step) {
    alive[i] = 0;
    if (first_step) {
      ++st.no_key;
    } else {
      ++st.orphans;
    }
  };
  // An orphan described by what(), which is called only while examples are kept.
  auto lose_orphan = [&](size_t i, const auto& what) {
    alive[i] = 0;
    ++st.orphans;
    if (st.orphan_examples.size() < 5) st.orphan_examples.push_back(what());
  };
  for (size_t step = 0; step < path.steps.size(); ++step) {
    const RelationshipConfig& rel = *path.steps[step];
    int from = current->schema().FieldIndex(rel.from_field);
    if (from < 0) {
      return InvalidArgumentError("relationship '" + rel.name + "': field '" + rel.from_field + "' is not a field of '" +
                                  rel.from_entity + "'");
    }
    const Column& fc = current->column(static_cast<size_t>(from));
    if (rel.to_entity == "Customer") {
      if (rel.to_field != "CustomerId" || fc.type() != DataType::kInt64) {
        return InvalidArgumentError("relationship '" + rel.name + "': " + rel.from_entity + "." + rel.from_field + " (" +
                                    std::string(DataTypeName(fc.type())) + ") must point at Customer.CustomerId (int64)");
      }
      for (size_t i = 0; i < n; ++i) {
        if (!alive[i]) continue;
        size_t r = static_cast<size_t>(row_of[i]);
        if (fc.IsNull(r)) {
          lose_empty(i, step == 0);
          continue;
        }
        out[i] = customers.IndexOf(fc.Int64At(r));
        if (out[i] < 0) {
          lose_orphan(i, [&] { return rel.from_entity + "." + rel.from_field + " = " + fc.ValueToString(r); });
        }
      }
      for (size_t i = 0; i < n; ++i) st.linked += out[i] >= 0;
      return out;
    }
    CDP_ASSIGN_OR_RETURN(std::shared_ptr<const Table> target, load(rel.to_entity));
    int to = target->schema().FieldIndex(rel.to_field);
    if (to < 0) {
      return InvalidArgumentError("relationship '" + rel.name + "': field '" + rel.to_field + "' is not a field of '" +
                                  rel.to_entity + "'");
    }
    const Column& tc = target->column(static_cast<size_t>(to));
    if (fc.type() != tc.type()) {
      return InvalidArgumentError("relationship '" + rel.name + "': " + rel.from_entity + "." + rel.from_field + " is " +
                                  std::string(DataTypeName(fc.type())) + " but " + rel.to_entity + "." + rel.to_field +
                                  " is " + std::string(DataTypeName(tc.type())) + "; declare both with the same type");
    }
    KeyIndex index(tc, target->num_rows());  // views `target`'s column, held below
    for (size_t r = 0; r < target->num_rows(); ++r) {
      if (tc.IsNull(r)) continue;
      int64_t earlier = index.Insert(r);
      if (earlier >= 0) {
        return InvalidArgumentError("relationship '" + rel.name + "': " + rel.to_entity + "." + rel.to_field +
                                    " is not unique (value '" + CellKey(tc, r) + "' is on rows " +
                                    std::to_string(earlier + 1) + " and " + std::to_string(r + 1) +
                                    "); a relationship must point at a key");
      }
    }
    const bool one_to_one = rel.cardinality == Cardinality::kOneToOne && step == 0;
    std::unordered_map<int64_t, int64_t> target_used;  // one_to_one: target row -> first source row
    // The first step looks up every input row, in parallel (row_of[i] == i,
    // all alive). After it many input rows point at the same row of
    // `current`: each of those rows is looked up once.
    std::vector<int64_t> memo(current->num_rows(), kUnresolved);
    if (step == 0) {
      ParallelFor(threads, n, kGrain, [&](size_t begin, size_t end, int) {
        constexpr size_t kAhead = 8;  // slots are random: overlap their cache misses
        for (size_t r = begin; r < std::min(end, begin + kAhead); ++r) index.Prefetch(fc, r);
        for (size_t r = begin; r < end; ++r) {
          if (r + kAhead < end) index.Prefetch(fc, r + kAhead);
          memo[r] = fc.IsNull(r) ? kNullKey : index.Find(fc, r);
        }
      });
    }
    for (size_t i = 0; i < n; ++i) {
      if (!alive[i]) continue;
      size_t r = static_cast<size_t>(row_of[i]);
      int64_t found = memo[r];
      if (found == kUnresolved) {
        found = fc.IsNull(r) ? kNullKey : index.Find(fc, r);
        memo[r] = found;
      }
      if (found == kNullKey) {
        lose_empty(i, step == 0);
        continue;
      }
      if (found == kNotFound) {
        lose_orphan(i, [&] { return rel.from_entity + "." + rel.from_field + " = " + CellKey(fc, r); });
        continue;
      }
      if (one_to_one) {
        auto [used, first] = target_used.emplace(found, static_cast<int64_t>(i));
        if (!first) {
          return InvalidArgumentError("relationship '" + rel.name + "' is one_to_one, but rows " +
                                      std::to_string(used->second + 1) + " and " + std::to_string(i + 1) + " of " +
                                      rel.from_entity + " both point at " + rel.to_entity + "." + rel.to_field + " = '" +
                                      CellKey(fc, r) + "' (use many_to_one)");
        }
      }
      row_of[i] = found;
    }
    held.push_back(target);
    current = held.back().get();
    current_entity = rel.to_entity;
  }
  // `current` is a unified profile source: its key leads through the lineage.
  std::string key_field = profile_key(current_entity);
  int kc = current->schema().FieldIndex(key_field);
  if (kc < 0) return InvalidArgumentError("profile source '" + current_entity + "' has no key field '" + key_field + "'");
  const Column& keys = current->column(static_cast<size_t>(kc));
  // Each row of the profile source is looked up in the lineage once, however
  // many input rows point at it: all of them in parallel when there are at
  // least as many input rows, else as they are met.
  auto lineage = [&](size_t r) -> int64_t {
    if (keys.IsNull(r)) return kNullKey;
    int64_t c = keys.type() == DataType::kString ? customers.IndexOfRecord(current_entity, keys.StringAt(r))
                                                 : customers.IndexOfRecord(current_entity, CellKey(keys, r));
    return c < 0 ? kNotFound : c;
  };
  std::vector<int64_t> memo(current->num_rows(), kUnresolved);
  if (n >= current->num_rows()) {
    ParallelFor(threads, memo.size(), kGrain, [&](size_t begin, size_t end, int) {
      for (size_t r = begin; r < end; ++r) memo[r] = lineage(r);
    });
  }
  for (size_t i = 0; i < n; ++i) {
    if (!alive[i]) continue;
    size_t r = static_cast<size_t>(row_of[i]);
    int64_t c = memo[r];
    if (c == kUnresolved) c = memo[r] = lineage(r);
    if (c == kNullKey) {
      lose_orphan(i, [&] { return current_entity + "." + key_field + " is empty"; });
    } else if (c == kNotFound) {
      lose_orphan(i, [&] { return current_entity + ":" + CellKey(keys, r) + " is in no customer profile"; });
    } else {
      out[i] = c;
      ++st.linked;
    }
  }
  return out;
}

}  // namespace cdp
