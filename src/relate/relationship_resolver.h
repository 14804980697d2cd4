// Relationships to Customer: finds the path from an entity to a unified
// profile source (or to Customer itself) through the declared relationships,
// validates the fields on the way, and resolves every row of the entity to a
// customer index, counting orphans (a key with no target) instead of
// dropping them silently. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/model_config.h"
#include "relate/customer_index.h"
#include "table/column.h"

namespace cdp {

// A path: relationships applied in order from the entity; the last one ends
// at a profile source (then the lineage gives the customer) or at Customer.
struct RelationshipPath {
  std::vector<const RelationshipConfig*> steps;
  std::string Describe() const;  // "Online Purchases.ContactId -> eCommerce Contacts.ContactId -> Customer"
};

// All simple paths (no entity twice) from `entity` to one of `profile_sources`
// or to "Customer". If `chosen` names relationships, the path must be exactly
// those, in order. Errors: NotFound when there is none (naming the entity and
// the relationships that leave it); InvalidArgument when several exist and
// none was chosen (listing them), or `chosen` is not a path.
StatusOr<RelationshipPath> FindPathToCustomer(const std::string& entity,
                                              const std::vector<RelationshipConfig>& relationships,
                                              const std::vector<std::string>& profile_sources,
                                              const std::vector<std::string>& chosen);

struct RelationshipStats {
  std::string path;
  int64_t rows = 0;
  int64_t linked = 0;
  int64_t no_key = 0;     // the first relationship's field is empty
  int64_t orphans = 0;    // a key with no target somewhere on the path
  std::vector<std::string> orphan_examples;  // up to 5 keys ("Online Purchases.ContactId = 99999")
};

// Loads an entity's table by name (the current generation).
using EntityLoader = std::function<StatusOr<std::shared_ptr<const Table>>(const std::string& entity)>;

// Customer index of each row of `table` (the rows of `entity`, where the path starts),
// or -1. `profile_key` gives a profile source's key field (for the lineage).
// InvalidArgument naming both fields when a relationship's two fields have
// different types or a field is missing. Each row of an entity further down
// the path (and of the profile source) is looked up once however many rows
// point at it; the first relationship's keys and the lineage are looked up on
// `threads` workers (<= 0: one per core); `load` and `profile_key` are called
// on the calling thread only. The result and stats do not depend on `threads`.
StatusOr<std::vector<int64_t>> ResolveCustomers(const std::string& entity, const Table& table,
                                                const RelationshipPath& path, const EntityLoader& load,
                                                const std::function<std::string(const std::string&)>& profile_key,
                                                const CustomerIndex& customers, RelationshipStats* stats,
                                                int threads = 1);

}  // namespace cdp
