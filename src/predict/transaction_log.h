// The input of every prediction model: customers' transactions (and their
// other activities) as arrays sorted by customer, then day. Customers are
// dense indexes 0..num_customers()-1 (the workspace uses the CustomerIndex
// order; benchmarks their own). Days are days since 1970-01-01 (UTC).
//
// Cut-off convention, the same in every model: features and model fits at a
// cut-off day C read only rows with day < C; labels and hold-back figures
// read rows with C <= day < C + window. Nothing here knows about entities.
//
// A built log is immutable and safe to share between threads; the builder is
// thread-compatible.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace cdp {

struct TransactionLog {
  // Customer c's transactions are rows [offsets[c], offsets[c + 1]), by day.
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> day;
  std::vector<double> amount;    // NaN when the activity has no amount
  std::vector<int32_t> product;  // index into product_names; -1 when none
  std::vector<std::string> product_names;

  // Other activities (reviews, visits, ...), CSR like the transactions: customer
  // c's are rows [other_offsets[c], other_offsets[c + 1]), by day.
  std::vector<int64_t> other_offsets{0};
  std::vector<int32_t> other_day;
  std::vector<int32_t> other_type;  // index into other_type_names
  // The activity's amount (a review's rating, a visit's duration); NaN when
  // none. Empty or of other_day's size.
  std::vector<double> other_amount;
  std::vector<std::string> other_type_names;

  int64_t num_customers() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t num_transactions() const { return static_cast<int64_t>(day.size()); }
  int64_t num_products() const { return static_cast<int64_t>(product_names.size()); }
  // First and last transaction day of the whole log (0, -1 when empty).
  int32_t first_day() const;
  int32_t last_day() const;
};

// Collects rows in any order and sorts them into a TransactionLog.
class TransactionLogBuilder {
 public:
  explicit TransactionLogBuilder(int64_t num_customers) : num_customers_(num_customers) {}
  // `product` may be empty (none). Customers outside [0, num_customers) are an
  // InvalidArgument at Build naming the first such index.
  void AddTransaction(int64_t customer, int32_t day, double amount, std::string_view product);
  void AddOther(int64_t customer, int32_t day, std::string_view type,
                double amount = std::numeric_limits<double>::quiet_NaN());
  // Sorts by customer, then day (stable: rows of one day keep their order).
  StatusOr<TransactionLog> Build() &&;

 private:
  struct Row {
    int64_t customer;
    int32_t day;
    int32_t code;  // product or type index
    double amount;
  };
  static int32_t Intern(std::string_view name, std::vector<std::string>* names,
                        std::unordered_map<std::string, int32_t>* index);
  int64_t num_customers_;
  std::vector<Row> transactions_;
  std::vector<Row> others_;
  std::vector<std::string> product_names_;
  std::unordered_map<std::string, int32_t> product_index_;
  std::vector<std::string> type_names_;
  std::unordered_map<std::string, int32_t> type_index_;
};

}  // namespace cdp
