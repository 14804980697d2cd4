#include "workspace/linked_entities.h"

#include <algorithm>
#include <optional>
#include <set>

#include "relate/activity_builder.h"
#include "unify/unifier.h"
#include "workspace/activity_runner.h"

namespace cdp {

StatusOr<std::unique_ptr<LinkedEntities>> LinkedEntities::Open(Workspace& workspace, const ProjectConfig& project) {
  std::unique_ptr<LinkedEntities> le(new LinkedEntities(workspace, project));
  CDP_ASSIGN_OR_RETURN(le->snapshot_, workspace.data().Current());
  CDP_ASSIGN_OR_RETURN(le->customers_, LoadCustomerIndex(workspace, le->snapshot_));
  for (const auto& s : project.unification.sources) le->profile_sources_.push_back(s.source);
  return le;
}

StatusOr<std::shared_ptr<const Table>> LinkedEntities::Load(const std::string& entity) {
  auto it = tables_.find(entity);
  if (it != tables_.end()) return it->second;
  CDP_ASSIGN_OR_RETURN(auto t, LoadEntity(ws_, snapshot_, entity));
  tables_[entity] = t;
  return t;
}

StatusOr<const EntityByCustomer*> LinkedEntities::Group(const std::string& entity, const std::vector<std::string>& path_names,
                                                       const std::vector<std::string>& columns) {
  // One group per entity, path and projection.
  std::string group_key = entity;
  for (const auto& p : path_names) group_key += "\x1e" + p;
  std::set<std::string> wanted(columns.begin(), columns.end());
  if (!columns.empty()) {
    group_key += '\x1d';
    for (const auto& c : wanted) group_key += c + '\x1f';
  }
  auto it = groups_.find(group_key);
  if (it != groups_.end()) return it->second.get();
  const bool keyed_by_customer_id = entity == kUnifiedActivityEntity || EntityKindOf(entity) == EntityKind::kPrediction ||
                                    EntityKindOf(entity) == EntityKind::kEnrichment;
  std::optional<RelationshipPath> path;
  if (entity != kCustomerEntity && !keyed_by_customer_id) {
    CDP_ASSIGN_OR_RETURN(path, FindPathToCustomer(entity, project_.relationships, profile_sources_, path_names));
  }
  std::shared_ptr<const Table> table;
  if (columns.empty() || tables_.count(entity)) {
    CDP_ASSIGN_OR_RETURN(table, Load(entity));
  } else {
    // The fields the resolution reads: CustomerId, the path's first field or
    // the profile source's key.
    if (keyed_by_customer_id) wanted.insert("CustomerId");
    if (path && !path->steps.empty()) wanted.insert(path->steps[0]->from_field);
    if (path && path->steps.empty()) wanted.insert(project_.KeyOf(entity));
    std::string key = entity + '\x1d';
    for (const auto& c : wanted) key += c + '\x1f';
    auto cached = projected_.find(key);
    if (cached != projected_.end()) {
      table = cached->second;
    } else {
      CDP_ASSIGN_OR_RETURN(table, LoadEntityFields(ws_, snapshot_, entity, {wanted.begin(), wanted.end()}));
      projected_[key] = table;
    }
  }
  std::vector<int64_t> of_row(table->num_rows(), -1);
  if (entity == kCustomerEntity) {
    for (size_t r = 0; r < of_row.size(); ++r) of_row[r] = static_cast<int64_t>(r);
  } else if (keyed_by_customer_id) {
    // Keyed by CustomerId.
    int id_column = table->schema().FieldIndex("CustomerId");
    if (id_column < 0) return DataLossError(entity + " has no CustomerId column");
    const Column& ids = table->column(static_cast<size_t>(id_column));
    for (size_t r = 0; r < of_row.size(); ++r) of_row[r] = ids.IsNull(r) ? -1 : customers_.IndexOf(ids.Int64At(r));
  } else {
    auto key_of = [&](const std::string& e) { return project_.KeyOf(e); };
    EntityLoader load = [&](const std::string& e) { return Load(e); };
    RelationshipStats st;
    CDP_ASSIGN_OR_RETURN(of_row, ResolveCustomers(entity, *table, *path, load, key_of, customers_, &st));
    if (st.orphans || st.no_key) {
      std::string w = entity + ": " + std::to_string(st.orphans) + " orphan row(s), " + std::to_string(st.no_key) +
                      " without a key, left out";
      if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(std::move(w));
    }
  }
  auto g = std::make_unique<EntityByCustomer>(EntityByCustomer::Build(table, of_row, customers_.size()));
  rows_grouped_ += static_cast<int64_t>(g->num_rows());
  const EntityByCustomer* p = g.get();
  groups_[group_key] = std::move(g);
  return p;
}

std::vector<std::string> LinkedEntities::GroupableEntities() const {
  std::vector<std::string> out = {std::string(kCustomerEntity)};
  if (snapshot_.entities.count(std::string(kUnifiedActivityEntity))) out.push_back(std::string(kUnifiedActivityEntity));
  for (const auto& [name, info] : snapshot_.entities) {
    EntityKind kind = EntityKindOf(name);
    // An enrichment before unification is keyed by its source's records (its values are in Customer).
    if (kind == EntityKind::kEnrichment && info.schema.FieldIndex("CustomerId") < 0) continue;
    if (kind == EntityKind::kPrediction || kind == EntityKind::kEnrichment) out.push_back(name);
  }
  for (const auto& s : project_.sources) {
    if (!snapshot_.entities.count(s.name)) continue;
    if (FindPathToCustomer(s.name, project_.relationships, profile_sources_, {}).ok()) out.push_back(s.name);
  }
  return out;
}

}  // namespace cdp
