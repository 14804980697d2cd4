// CustomerAttributes: the profile attributes and measures of every customer as
// typed columns over the customer index (row i = Customer row i), the one
// input of the segment insights (overlap breakdowns, differentiators,
// lookalike, suggested segments). Built once from Customer, Customer_Measure
// and other per-customer entities (Prediction_*, Enrichment_*) by
// BuildCustomerAttributes; plain data, so tests build it by hand.
//
// Encoding rules (BuildCustomerAttributes):
// - int64, double  -> numeric, NaN = missing;
// - date, timestamp -> numeric "years since <field>" at as_of_day (ages,
//   tenure), NaN = missing;
// - bool            -> categorical {"false", "true"};
// - string          -> categorical over its values when it has at most
//   max_categories distinct values; with more, the max_categories - 1 most
//   frequent values plus "(other)"; a string column whose distinct values
//   exceed half of its non-null rows (names, e-mails, keys) is identifying,
//   not an attribute, and is skipped and listed in `skipped`;
// - CustomerId, and fields named in `exclude`, are skipped; so is a column
//   with no value for any customer (listed in `skipped`: "E.F: no values");
// - categories are ordered most frequent first (ties by value), "(other)"
//   last; a name taken by an earlier source becomes "entity.field".
// Thread-safety: immutable after construction; safe to read from many threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "predict/booster.h"
#include "table/column.h"

namespace cdp {

enum class AttributeKind { kNumeric, kCategorical };

struct CustomerAttribute {
  std::string name;    // "Income", "LifetimeSpend", "years since DateOfBirth"
  std::string entity;  // "Customer", "Customer_Measure", "Prediction_Churn", ...
  std::string field;   // the entity's column the attribute comes from
  AttributeKind kind = AttributeKind::kNumeric;
  std::vector<double> numbers;          // kNumeric: one per customer, NaN = missing
  std::vector<int32_t> codes;           // kCategorical: one per customer, -1 = missing
  std::vector<std::string> categories;  // kCategorical: code -> value text
  bool is_date = false;                 // numeric from a date/timestamp (years since)
  bool IsMissing(int64_t customer) const;
};

struct CustomerAttributes {
  int64_t customers = 0;  // rows of Customer (the customer index's size)
  std::vector<CustomerAttribute> attributes;
  std::vector<std::string> skipped;  // "Customer.Email: identifying (more than 15,602 distinct values in 31,204 rows)"
  // The attribute named `name` (its name, or "entity.field"), or null.
  const CustomerAttribute* Find(std::string_view name) const;
};

struct AttributeOptions {
  int32_t as_of_day = 0;       // days since 1970-01-01 for "years since"; 0 = today (UTC)
  int max_categories = 20;     // 2..1000
  std::vector<std::string> exclude;  // field names never used ("CustomerId" always)
  int threads = 0;             // columns built in parallel; 0 = one per core, 1..256
};

// One entity's per-customer columns. `table` rows are either the customer
// index (row i = customer i; customer_of empty) or mapped by customer_of
// (customer index per row, -1 = none; a customer with several rows takes the
// first). InvalidArgument for a bad option or a customer_of of the wrong size.
struct AttributeSource {
  std::string entity;
  const Table* table = nullptr;
  std::vector<int64_t> customer_of;
};
StatusOr<CustomerAttributes> BuildCustomerAttributes(int64_t customers, std::span<const AttributeSource> sources,
                                                     const AttributeOptions& options);

// Rows `rows` (customer indexes) as a dense feature matrix for XGBoost:
// numeric attributes as they are, categorical ones one-hot per category
// ("LoyaltyTier = Gold"), missing as NaN. `feature_attribute` (optional)
// receives, per matrix column, the index of the attribute it came from.
FeatureMatrix ToFeatureMatrix(const CustomerAttributes& attributes, std::span<const int64_t> rows,
                              std::vector<int32_t>* feature_attribute = nullptr);

}  // namespace cdp
