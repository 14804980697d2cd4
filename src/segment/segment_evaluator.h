// Evaluates a segment definition over the customer data to the set of member
// customers, with per-rule counts (inspection mode). Columnar: every
// condition is one scan of its column producing a bitmap; rules and set
// operators are bitmap operations. Stateless; concurrent calls are safe.
// Semantics: src/segment/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/entity_by_customer.h"
#include "segment/customer_set.h"
#include "segment/segment_definition.h"
#include "table/column.h"

namespace cdp {

// The data a segment reads. Not owned; must outlive the call.
struct SegmentData {
  const Table* customer = nullptr;          // row i = customer i; required
  const Table* customer_measure = nullptr;  // row i = customer i; optional
  std::map<std::string, const EntityByCustomer*> related;  // entities related to Customer, by name
  // Other segments' members, for rules on membership (Rule::segment), by name.
  std::map<std::string, const CustomerSet*> segments;
};

// The schema Validate checks a definition against for `data`.
SegmentSchema SchemaOf(const SegmentData& data);

struct RuleCount {
  uint64_t members = 0;        // customers of this rule alone
  uint64_t running_total = 0;  // customers after combining rules[0..i]
};

struct SegmentResult {
  CustomerSet members;
  std::vector<RuleCount> rules;  // one per rule, in order
};

struct SegmentEvalOptions {
  int32_t run_date = 0;  // days since 1970-01-01: "today" for relative dates and windows
  int threads = 0;       // <= 0: one per core
};

// Validates `d` against SchemaOf(data) and evaluates it. Errors:
// FailedPrecondition listing every problem (one per line) when the definition
// is invalid or incomplete (a draft); InvalidArgument when the data is
// inconsistent (no Customer table, Customer_Measure or a related entity not
// sized to the Customer table's rows).
StatusOr<SegmentResult> EvaluateSegment(const SegmentDefinition& d, const SegmentData& data,
                                        const SegmentEvalOptions& options);

}  // namespace cdp
