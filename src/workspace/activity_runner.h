// The activities stage of a workspace: links each activity definition's rows
// to customers through the relationships and the unification lineage, and
// commits UnifiedActivity (sorted by customer, then time) in a new
// generation. Also the timeline read of one customer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "relate/activity_builder.h"
#include "relate/customer_index.h"
#include "workspace/workspace.h"

namespace cdp {

struct ActivityRunResult {
  int64_t run_id = 0;
  uint64_t generation = 0;
  int64_t rows = 0;
  std::vector<ActivityStats> activities;
  double seconds = 0;
  std::string StatsJson() const;
};

struct ActivityRunOptions {
  std::string run_kind = "activities";
  // Non-zero: part of this open run (e.g. a refresh's): no run row of its own.
  int64_t run_id = 0;
  int threads = 0;  // workers resolving and building the rows (0 = one per core)
};

// FailedPrecondition when there is no Customer yet (run `cdp unify`) or an
// activity's entity has not been ingested.
StatusOr<ActivityRunResult> RunActivities(Workspace& workspace, const ActivityRunOptions& options);
StatusOr<ActivityRunResult> RunActivities(Workspace& workspace, const std::string& run_kind = "activities");

// The CustomerIndex of `snapshot` (Customer + CustomerSourceKeys). The last
// one built in the process is kept and shared (copies are cheap) while those
// two files are unchanged, so the stages of a refresh build it once.
StatusOr<CustomerIndex> LoadCustomerIndex(Workspace& workspace, const Snapshot& snapshot);

// Only `fields` of an entity (in the entity's field order; names it does not
// have are left out), read from its file by column. Caching nothing; the
// errors of LoadEntity.
StatusOr<std::shared_ptr<const Table>> LoadEntityFields(Workspace& workspace, const Snapshot& snapshot,
                                                        const std::string& entity, const std::vector<std::string>& fields);

// Loads an entity of a snapshot, caching nothing.
StatusOr<std::shared_ptr<const Table>> LoadEntity(Workspace& workspace, const Snapshot& snapshot,
                                                  const std::string& entity);

struct TimelineQuery {
  int64_t customer_id = 0;
  std::string type;                // ActivityType or Activity name; empty = all
  std::optional<int64_t> from_us;  // inclusive
  std::optional<int64_t> to_us;    // inclusive
  int64_t limit = -1;              // newest first when limited
};
// The customer's activities in time order (UnifiedActivity rows). NotFound
// for an unknown CustomerId (CheckCustomerExists, lineage.h: the message
// `cdp explain` and the API give too); FailedPrecondition before the
// activities stage ran.
StatusOr<Table> ReadTimeline(Workspace& workspace, const TimelineQuery& query);

}  // namespace cdp
