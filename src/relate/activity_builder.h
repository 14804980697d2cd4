// UnifiedActivity: every activity definition's rows linked to their customer
// and stored sorted by customer (CustomerId order) then time, so a
// customer's timeline is one contiguous range. BuildUnifiedActivity runs its
// own workers; it calls the inputs' `load`, `load_fields` and `key_of` on the
// calling thread only. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/entity_names.h"
#include "common/status.h"
#include "config/model_config.h"
#include "relate/customer_index.h"
#include "relate/relationship_resolver.h"
#include "table/column.h"

namespace cdp {


// CustomerId int64, ActivityType, Activity, Timestamp (timestamp; dates at
// midnight UTC), Subject, Amount (double), SourceEntity, SourceKey, Fields
// (the row's other fields as a JSON object).
Schema UnifiedActivitySchema();

struct ActivityStats {
  std::string activity;
  std::string entity;
  RelationshipStats relation;
  int64_t rows_out = 0;
  int64_t missing_timestamp = 0;  // rows without a time are left out
};

struct ActivityInputs {
  const std::vector<ActivityConfig>* activities = nullptr;
  const std::vector<RelationshipConfig>* relationships = nullptr;
  std::vector<std::string> profile_sources;
  std::function<std::string(const std::string&)> key_of;  // entity -> primary key field ("" if none)
  EntityLoader load;
  // Optional: loads only the named fields of an entity (names it lacks are
  // left out, so a missing field is reported as with `load`). Used for the
  // entities the paths go through but no activity reads whole: only their
  // relationship and key fields are read. Null: `load`.
  std::function<StatusOr<std::shared_ptr<const Table>>(const std::string& entity,
                                                       const std::vector<std::string>& fields)>
      load_fields;
  const CustomerIndex* customers = nullptr;
};

struct ActivityBuildOptions {
  // Workers building the output (the calling thread is one); <= 0 means one
  // per core. The rows do not depend on it.
  int threads = 0;
  // Rows per output chunk (the last one may be shorter); must be > 0. The
  // activities stage uses the data store's row group size, so each chunk is
  // one row group of the file.
  size_t chunk_rows = 64 * 1024;
};

// Receives chunk `index` (from 0) of the sorted output: its rows
// [index * chunk_rows, ...). Called from the workers, concurrently and in
// any order; an error stops the build and is returned by it. The sink may
// take the chunk (move or swap it with another table of the same schema);
// what it leaves is cleared and reused for the worker's next chunk, so its
// buffers are not allocated and faulted in again.
using ActivityChunkSink = std::function<Status(size_t index, Table& chunk)>;

// Builds UnifiedActivity and hands it to `sink` in chunks; returns the number
// of rows. Rows are ordered by customer index (a counting sort), then time,
// activity (in definition order) and the row's position in its entity; the
// relationships are resolved and the chunks built on `options.threads`
// workers. Errors: InvalidArgument naming the activity
// and field for a missing field or a wrong type (timestamp must be a date or
// timestamp, amount a number), and the relationship errors of
// FindPathToCustomer / ResolveCustomers; InvalidArgument for chunk_rows 0;
// a sink error (of the lowest chunk index that failed; chunks not yet begun
// are then not built).
StatusOr<int64_t> BuildUnifiedActivity(const ActivityInputs& inputs, const ActivityBuildOptions& options,
                                       const ActivityChunkSink& sink, std::vector<ActivityStats>* stats);

// The same rows as one table (the chunks appended in order). Same errors.
StatusOr<std::shared_ptr<Table>> BuildUnifiedActivity(const ActivityInputs& inputs, std::vector<ActivityStats>* stats,
                                                      const ActivityBuildOptions& options = {});

}  // namespace cdp
