// UnifiedActivity: every activity definition's rows linked to their customer
// and stored sorted by customer (CustomerId order) then time, so a
// customer's timeline is one contiguous range. Thread-compatible.
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
  const CustomerIndex* customers = nullptr;
};

// Errors: InvalidArgument naming the activity and field for a missing field
// or a wrong type (timestamp must be a date or timestamp, amount a number),
// and the relationship errors of FindPathToCustomer / ResolveCustomers.
StatusOr<std::shared_ptr<Table>> BuildUnifiedActivity(const ActivityInputs& inputs, std::vector<ActivityStats>* stats);

}  // namespace cdp
