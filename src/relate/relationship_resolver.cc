#include "relate/relationship_resolver.h"

#include <algorithm>
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
                                                const CustomerIndex& customers, RelationshipStats* stats) {
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
  auto lose = [&](size_t i, bool first_step, const std::string& what) {
    alive[i] = 0;
    if (first_step && what.empty()) {
      ++st.no_key;
      return;
    }
    ++st.orphans;
    if (!what.empty() && st.orphan_examples.size() < 5) st.orphan_examples.push_back(what);
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
          lose(i, step == 0, "");
          continue;
        }
        out[i] = customers.IndexOf(fc.Int64At(r));
        if (out[i] < 0) lose(i, false, rel.from_entity + "." + rel.from_field + " = " + fc.ValueToString(r));
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
    std::unordered_map<std::string, int64_t> index;
    index.reserve(target->num_rows());
    for (size_t r = 0; r < target->num_rows(); ++r) {
      if (tc.IsNull(r)) continue;
      auto [it, inserted] = index.emplace(CellKey(tc, r), static_cast<int64_t>(r));
      if (!inserted) {
        return InvalidArgumentError("relationship '" + rel.name + "': " + rel.to_entity + "." + rel.to_field +
                                    " is not unique (value '" + it->first + "' is on rows " + std::to_string(it->second + 1) +
                                    " and " + std::to_string(r + 1) + "); a relationship must point at a key");
      }
    }
    std::unordered_map<int64_t, int64_t> target_used;  // one_to_one: target row -> first source row
    for (size_t i = 0; i < n; ++i) {
      if (!alive[i]) continue;
      size_t r = static_cast<size_t>(row_of[i]);
      if (fc.IsNull(r)) {
        lose(i, step == 0, "");
        continue;
      }
      std::string k = CellKey(fc, r);
      auto it = index.find(k);
      if (it == index.end()) {
        lose(i, false, rel.from_entity + "." + rel.from_field + " = " + k);
        continue;
      }
      if (rel.cardinality == Cardinality::kOneToOne && step == 0) {
        auto [used, first] = target_used.emplace(it->second, static_cast<int64_t>(i));
        if (!first) {
          return InvalidArgumentError("relationship '" + rel.name + "' is one_to_one, but rows " +
                                      std::to_string(used->second + 1) + " and " + std::to_string(i + 1) + " of " +
                                      rel.from_entity + " both point at " + rel.to_entity + "." + rel.to_field + " = '" +
                                      k + "' (use many_to_one)");
        }
      }
      row_of[i] = it->second;
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
  for (size_t i = 0; i < n; ++i) {
    if (!alive[i]) continue;
    size_t r = static_cast<size_t>(row_of[i]);
    if (keys.IsNull(r)) {
      lose(i, false, current_entity + "." + key_field + " is empty");
      continue;
    }
    std::string k = CellKey(keys, r);
    out[i] = customers.IndexOfRecord(current_entity, k);
    if (out[i] < 0) {
      lose(i, false, current_entity + ":" + k + " is in no customer profile");
    } else {
      ++st.linked;
    }
  }
  return out;
}

}  // namespace cdp
