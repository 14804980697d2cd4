// MeasureEngine: compiles the project's measures (config/model_config.h)
// against the entities they read, then evaluates them over every customer
// with morsel-parallel columnar scans. Semantics: src/engine/README.md.
// A compiled engine is immutable; Evaluate may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/model_config.h"
#include "engine/entity_by_customer.h"
#include "table/column.h"

namespace cdp {

// The rows a measure reads: an entity grouped by customer, and the field
// that windows, First and Last use (the activity's timestamp; may be empty
// for a plain entity, then a window or a First/Last without order_by is an
// error). Not owned: must outlive the engine.
struct MeasureSource {
  const EntityByCustomer* rows = nullptr;
  std::string time_field;
};

struct MeasureInputs {
  size_t num_customers = 0;
  std::map<std::string, MeasureSource> activities;  // by activity name (MeasureConfig::activity)
  std::map<std::string, MeasureSource> entities;    // by entity name (MeasureConfig::entity)
  int32_t run_date = 0;                             // days since 1970-01-01
};

struct MeasureResults {
  // num_customers rows in customer-index order, one column per attribute
  // measure (formulas included) in the order of the measure list.
  Table attributes;
  // Customer measures by name: CustomerIndex (int64), the dimension fields,
  // Value; sorted by customer, then dimension values (nulls first).
  std::map<std::string, Table> customer;
  // Business measures by name: the dimension fields and Value, sorted by
  // dimension values (nulls first); one row with only Value for a scalar.
  std::map<std::string, Table> business;
};

class MeasureEngine {
 public:
  // Validates every measure against its source's schema. Errors are
  // InvalidArgument naming the measure and the offending field, value or
  // formula token: unknown activity/entity/field, function/type mismatch,
  // filter operator/value not fitting the field type, a window without a
  // date/timestamp time field, formula syntax, unknown or non-attribute
  // references, cycles, duplicate names.
  static StatusOr<std::unique_ptr<MeasureEngine>> Compile(const std::vector<MeasureConfig>& measures,
                                                          const MeasureInputs& inputs);
  ~MeasureEngine();
  MeasureEngine(const MeasureEngine&) = delete;
  MeasureEngine& operator=(const MeasureEngine&) = delete;

  // Evaluates all measures with `threads` workers (<= 0: one per core).
  StatusOr<MeasureResults> Evaluate(int threads) const;

  // Output type of an attribute or the Value of a customer/business measure
  // (double for sum/average/formulas, int64 for count/count_unique, the
  // field's type for min/max/first/last/argmax/argmin).
  DataType ResultType(const std::string& measure) const;

  struct Impl;

 private:
  explicit MeasureEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Convenience: Compile + Evaluate.
StatusOr<MeasureResults> EvaluateMeasures(const std::vector<MeasureConfig>& measures, const MeasureInputs& inputs,
                                          int threads);

}  // namespace cdp
