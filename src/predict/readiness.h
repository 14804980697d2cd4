// Data readiness before training a prediction model: is there enough history,
// enough customers, enough positive examples, and are the fields the model
// needs filled in? Answers with figures and plain-language problems, as
// Dynamics 365 Customer Insights does before it trains ("needs at least two
// windows of history"). Reads only rows with day < as_of_day (the cut-off
// convention of transaction_log.h). Pure function; thread-safe.
//
// Thresholds are the caller's (ReadinessRequirements); the defaults are the
// product's documented minimums for transactional churn (two windows of
// history, 50 customers) and were set before any data was looked at.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "predict/transaction_log.h"

namespace cdp {

struct ReadinessRequirements {
  int32_t window_days = 90;        // the prediction window (churn: the label window; CLV: the horizon)
  int32_t min_windows = 2;         // history needed, in windows (one to learn from, one to label or hold back)
  bool needs_amount = false;       // CLV: transactions must carry an amount
  bool needs_product = false;      // recommendations: transactions must name a product
  int64_t min_customers = 50;      // customers with at least one transaction
  int64_t min_positive = 0;        // positives: customers who bought before the last window and not in it
  int64_t min_repeat_customers = 0;  // customers with transactions on at least two days (BG/NBD needs them)
  double max_missing_share = 0.1;  // largest share of transactions without a needed amount/product
};

struct ReadinessReport {
  bool ready = false;                  // no problems
  std::vector<std::string> problems;   // plain language, one sentence each
  int64_t profiles = 0;                // customer profiles (log.num_customers())
  int64_t customers_with_transactions = 0;
  int64_t transactions = 0;            // rows before as_of_day
  int32_t first_day = 0, last_day = -1;  // of those rows (0, -1 when none)
  int32_t as_of_day = 0;
  int32_t history_days = 0;            // as_of_day - first_day (0 when no rows)
  int32_t window_days = 0;
  double median_transactions_per_customer = 0;  // over customers with transactions
  double mean_transactions_per_customer = 0;
  int64_t repeat_customers = 0;        // customers with transactions on >= 2 days
  int64_t positives = 0;               // bought before [as_of - window, as_of) and not in it
  int64_t transactions_without_amount = 0;
  int64_t transactions_without_product = 0;
  double share_without_amount = 0, share_without_product = 0;

  nlohmann::ordered_json ToJson() const;
};

// Problems (each only when it applies):
//   "window_days must be positive (got 0)" / "min_windows must be positive (got 0)"
//   "there are no customer profiles"
//   "there are no transactions before 2024-01-01"
//   "needs at least two windows of history (180 days); the data cover 120 days"
//   "only 12 customers have transactions; at least 50 are needed"
//   "only 3 customers have transactions on two or more days; at least 10 are needed"
//   "only 4 customers stopped buying in the last window (90 days); at least 10 are needed"
//   "38% of transactions have no amount; at most 10% may be missing"
//   "38% of transactions have no product; at most 10% may be missing"
//   "the newest transaction (2023-06-30) is 200 days before 2024-01-16, more than one window (90 days)"
ReadinessReport AssessReadiness(const TransactionLog& log, int32_t as_of_day, const ReadinessRequirements& req);

}  // namespace cdp
