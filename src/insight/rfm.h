// RFM groups: recency (days since the last transaction), frequency
// (transactions) and monetary value (total amount) per customer, scored 1-5
// by quintile, and the named groups of the usual RFM segment map (Champions,
// Loyal, ..., Lost), each with its size, average spend and, when the caller
// names the measures that hold the last transaction date and the count, a
// SegmentDefinition selecting exactly its members.
//
// References: Hughes 1994 ("Strategic Database Marketing") for RFM quintile
// scoring. The map is the widely used recency x frequency grid (as in the
// rfm R package's documentation and the common "RFM segmentation" tables):
//   R 5, F 4-5 Champions;       R 3-4, F 4-5 Loyal;      R 4-5, F 2-3 Potential loyalist;
//   R 5, F 1 New;               R 4, F 1 Promising;       R 3, F 3 Need attention;
//   R 3, F 1-2 About to sleep;  R 1-2, F 3-4 At risk;     R 1-2, F 5 Cannot lose them;
//   R 2, F 1-2 Hibernating;     R 1, F 1-2 Lost (the one change: the grid's
//   Hibernating cell is R 1-2, F 1-2 and it has no Lost; its oldest fifth by
//   recency is split out under that name, so every group stays a rectangle).
// The grid covers all 25 (R, F) cells, so every customer with a transaction is
// in exactly one group; customers without one are the group "No transactions".
// M is scored and averaged per group but not used to name groups: frequency and
// spend are strongly correlated, and a two-attribute map is expressible as two
// thresholds.
//
// Scores: among the n customers with transactions, score = 1 + floor(5 * b /
// n) where b = customers with a worse value (recency: more days; frequency,
// monetary: less), i.e. the quintile of the share strictly below (the "min"
// rank). Tied values share a score (ties never split, so the result does not
// depend on any order), scores are monotone in the value, and a run of ties
// at the bottom (the many one-time buyers) scores 1. A score range is
// therefore a value range: a group is "last transaction at most X days ago and
// at least Y transactions", a segment condition on the measures (last date
// on_or_after as_of - X). The definition is a snapshot at as_of: its dates are
// fixed, not relative to the day the segment runs.
//
// Thread-safety: pure functions over const inputs. Deterministic.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "segment/customer_set.h"
#include "segment/segment_definition.h"

namespace cdp {

inline constexpr int32_t kNoTransactionDay = INT32_MIN;

// One entry per customer (index = customer index).
struct RfmInput {
  std::vector<int32_t> last_day;    // day (since 1970-01-01) of the last transaction; kNoTransactionDay = none
  std::vector<int64_t> frequency;   // transactions (0 = none)
  std::vector<double> monetary;     // total amount (NaN amounts are not added)
};

// Aggregates transactions (one entry per transaction: customer index, day,
// amount; NaN amount = a transaction without an amount, counted but not
// added). InvalidArgument for spans of different lengths or a customer index
// outside [0, customers).
StatusOr<RfmInput> RfmInputFromTransactions(int64_t customers, std::span<const int64_t> customer,
                                            std::span<const int32_t> day, std::span<const double> amount);

struct RfmOptions {
  int32_t as_of_day = 0;  // recency measured at this day; 0 = the day after the last transaction
  // The per-customer fields a segment definition may use: a date (or
  // timestamp) field with the last transaction's day and a number field with
  // the count, on `entity` (Customer or Customer_Measure). Either empty: no
  // definitions (the groups are member lists only).
  std::string entity = "Customer_Measure";
  std::string last_date_field;
  std::string frequency_field;
  std::string name_prefix = "Rfm_";  // definition names: prefix + "Champions", "AtRisk", ...
};

struct RfmGroup {
  std::string name;         // "Champions", ..., "No transactions"
  std::string key;          // identifier form: "Champions", "CannotLoseThem", "NoTransactions"
  std::string description;  // "bought recently and often"
  int r_low = 0, r_high = 0, f_low = 0, f_high = 0;  // score ranges (0 for No transactions)
  // The value ranges of the members (empty group: unset).
  std::optional<int64_t> min_recency_days, max_recency_days;
  std::optional<int64_t> min_frequency, max_frequency;
  int64_t size = 0;
  double share = 0;            // of all customers
  double average_spend = 0;    // mean monetary of the members (0 when empty)
  double average_recency_days = 0, average_frequency = 0;
  std::string rules_text;      // "last transaction within 30 days and at least 6 transactions"
  std::optional<SegmentDefinition> definition;  // when the fields are given and the group is not empty
  CustomerSet members;
};

struct RfmResult {
  int32_t as_of_day = 0;
  int64_t customers = 0;
  int64_t customers_with_transactions = 0;
  // Per customer (0 = no transactions), 1..5 otherwise.
  std::vector<uint8_t> r_score, f_score, m_score;
  std::vector<RfmGroup> groups;  // in the map's order above, then No transactions
};

// InvalidArgument for arrays of different lengths, a negative frequency, a
// transaction day without a count (or a count without a day), a bad entity
// or as_of_day (common/datetime.h's supported range).
StatusOr<RfmResult> ComputeRfm(const RfmInput& input, const RfmOptions& options);

// {"as_of" (ISO day), "customers", "customers_with_transactions",
//  "groups": [{"name", "key", "description", "r": [lo, hi], "f": [lo, hi], "size", "share", "average_spend",
//              "recency_days", "frequency", "rules_text", "definition" (object or null)}]}
nlohmann::ordered_json ToJson(const RfmResult& result);

}  // namespace cdp
