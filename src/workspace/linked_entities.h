// LinkedEntities: the current generation's entities grouped by customer
// (EntityByCustomer), resolved once through the relationships and the
// unification lineage, for the stages that aggregate per customer (measures,
// segments). Not thread-safe; the returned groups live as long as this object.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/project_config.h"
#include "engine/entity_by_customer.h"
#include "relate/customer_index.h"
#include "relate/relationship_resolver.h"
#include "workspace/workspace.h"

namespace cdp {

class LinkedEntities {
 public:
  // FailedPrecondition when there is no Customer yet.
  static StatusOr<std::unique_ptr<LinkedEntities>> Open(Workspace& workspace, const ProjectConfig& project);

  const CustomerIndex& customers() const { return customers_; }
  const Snapshot& snapshot() const { return snapshot_; }
  // A whole entity of the snapshot (cached).
  StatusOr<std::shared_ptr<const Table>> Load(const std::string& entity);
  // `entity`'s rows grouped by customer: Customer (row = index), UnifiedActivity
  // (by its CustomerId), or any entity with a relationship path to Customer
  // (`path` chooses among several). Orphans are counted into warnings().
  // `columns` non-empty: the group's table holds only those of the entity's
  // fields (names it does not have are left out, for the caller to report),
  // read from the file by column; empty: every field.
  StatusOr<const EntityByCustomer*> Group(const std::string& entity, const std::vector<std::string>& path = {},
                                          const std::vector<std::string>& columns = {});
  // Entities Group() can serve: Customer, UnifiedActivity if present, and
  // every source with a path to Customer.
  std::vector<std::string> GroupableEntities() const;
  const std::vector<std::string>& warnings() const { return warnings_; }
  int64_t rows_grouped() const { return rows_grouped_; }

 private:
  LinkedEntities(Workspace& ws, const ProjectConfig& project) : ws_(ws), project_(project) {}
  Workspace& ws_;
  const ProjectConfig& project_;
  Snapshot snapshot_;
  CustomerIndex customers_;
  std::vector<std::string> profile_sources_;
  std::map<std::string, std::shared_ptr<const Table>> tables_;  // whole entities
  std::map<std::string, std::shared_ptr<const Table>> projected_;  // entity + columns
  std::map<std::string, std::unique_ptr<EntityByCustomer>> groups_;
  std::vector<std::string> warnings_;
  int64_t rows_grouped_ = 0;
};

}  // namespace cdp
