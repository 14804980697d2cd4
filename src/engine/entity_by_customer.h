// EntityByCustomer: the rows of one entity (or activity source) grouped by
// dense customer index in CSR form, so a per-customer aggregate is one linear
// pass. Immutable after Build; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "table/column.h"

namespace cdp {

struct EntityByCustomer {
  // The entity as given; `rows` index into it.
  std::shared_ptr<const Table> table;
  size_t num_customers = 0;
  // Customer c owns positions [offsets[c], offsets[c+1]) of `rows` and of
  // `clustered`; offsets has num_customers + 1 entries.
  std::vector<uint64_t> offsets;
  // Row ids of `table` grouped by customer, in original row order within a
  // customer; orphan rows (customer -1) are left out.
  std::vector<uint32_t> rows;
  // `table` with its rows physically in CSR order: row p of `clustered` is
  // row rows[p] of `table`. The same object as `table` when the input was
  // already sorted by customer without orphans (no copy); otherwise a copy,
  // which costs as much memory again but turns every measure scan into a
  // sequential read (see src/engine/README.md for the measurement).
  std::shared_ptr<const Table> clustered;

  size_t num_rows() const { return rows.size(); }

  // Counting sort by customer, O(rows + customers). customer_of_row has one
  // entry per table row: a customer index in [0, num_customers) or -1
  // (orphan). Values outside that range are treated as orphans. The table
  // must have fewer than 2^32 rows.
  static EntityByCustomer Build(std::shared_ptr<const Table> table, const std::vector<int64_t>& customer_of_row,
                                size_t num_customers);
};

}  // namespace cdp
