// CustomerRows: one entity of a data generation with its rows ordered by
// CustomerId, for reads of one customer (the customer card's predictions and
// enrichments, "does this customer exist"). Decoding a whole entity per
// request made a card take seconds at 1M customers (bench/scale); the rows
// are kept, per workspace directory and entity, until the entity's file
// changes (a new generation wrote it), so the next card is a binary search.
// At most kMaxCachedEntities entities are kept per process (the oldest
// access is dropped first); what is kept is what a request would otherwise
// decode each time.
// Thread-safe: LoadCustomerRows may be called from many threads; a returned
// CustomerRows is immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "storage/data_store.h"
#include "table/column.h"
#include "workspace/workspace.h"

namespace cdp {

inline constexpr size_t kMaxCachedEntities = 64;

struct CustomerRows {
  std::shared_ptr<const Table> table;
  std::vector<std::pair<int64_t, uint32_t>> by_customer;  // (CustomerId, row), ascending; null ids left out
  // The rows of `customer_id` in table order (empty when it has none).
  std::vector<uint32_t> Of(int64_t customer_id) const;
};

// `entity` of `snapshot` with its rows by CustomerId. NotFound when the
// snapshot has no such entity; FailedPrecondition when it has no int64
// CustomerId column; I/O and decoding errors as LoadEntity's.
StatusOr<std::shared_ptr<const CustomerRows>> LoadCustomerRows(Workspace& workspace, const Snapshot& snapshot,
                                                               const std::string& entity);

}  // namespace cdp
