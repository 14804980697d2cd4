// Engagement: a 0-100 score per customer from its activities (purchases,
// visits, e-mail clicks, ...), recent ones counting more, with a weight per
// activity type, plus the per-type contributions shown on the customer card.
// Pure: the caller (workspace/enrichment_runner.h) turns UnifiedActivity into
// (day, type) events and writes Enrichment_Engagement.
// Thread-safety: ComputeEngagement is a pure function; it runs its own worker
// threads (options.threads) and may be called concurrently.
//
// The statistic (settings chosen a priori, before scoring any data):
//
//   raw   R_c = sum over c's events e with day_e < as_of_day of
//               w_type(e) * 2^(-(as_of_day - day_e) / half_life_days)
//
// an exponentially time-decayed, weighted count: an event today counts
// w_type, one a half-life ago w_type / 2. Exponential decay is the standard
// recency weighting of activity counts (exponentially weighted moving
// sums; the "R" and "F" of RFM folded into one number, cf. A. Hughes,
// "Strategic Database Marketing"); its single parameter reads as "how many
// days until an activity is worth half". Default half-life 90 days: a quarter
// is the usual RFM recency bucket, and an activity a year old still counts
// ~6%. Events on or after as_of_day are ignored (counted in the result).
//
//   score S_c = 0 when R_c = 0 (no activity before as_of_day); otherwise
//         round(100 * ln(1 + R_c) / ln(1 + R_ref)), clipped to [1, 100],
//   R_ref = the reference_quantile (default 0.99) of R over customers with
//           R > 0 (type-7 quantile, as numpy's default), or reference_raw
//           when set.
//
// Why a log scale capped at the 99th percentile rather than a percentile
// rank: activity counts are heavy-tailed (a few customers have hundreds of
// events, most have a handful), so a linear scale would put nearly everyone
// near 0; a percentile rank would spread customers uniformly but hide real
// differences (in a sparse population 1 and 2 events can be 30 points apart)
// and move a customer's score whenever others change. ln(1 + R) keeps ratios
// (doubling a busy customer's activity adds a fixed number of points) and the
// p99 cap keeps the top 1% (staff accounts, bots) from squashing everyone
// else: they all score 100. reference_raw fixes R_ref so that scores of
// different runs compare.
//
// Levels (the affinity cut points without "Very high", so the card reads
// one scale): High 70-100, Medium 35-69, Low 1-34, None 0.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

enum class EngagementLevel : uint8_t { kNone = 0, kLow, kMedium, kHigh };
// "None", "Low", "Medium", "High".
std::string_view EngagementLevelName(EngagementLevel level);
// 0 None, 1-34 Low, 35-69 Medium, 70-100 High.
EngagementLevel EngagementLevelOfScore(int score);

// Per-customer activities as CSR: customer i's events are
// [offsets[i], offsets[i+1]) of `days` and `types`, in any order.
struct EngagementEvents {
  std::vector<std::string> type_names;  // code -> "Purchase", "WebVisit", ...
  std::vector<int64_t> offsets;         // customers + 1 entries, offsets[0] = 0, non-decreasing
  std::vector<int32_t> days;            // day of the event, days since 1970-01-01
  std::vector<int32_t> types;           // type code per event, in [0, type_names.size())
  int64_t customers() const { return offsets.empty() ? 0 : static_cast<int64_t>(offsets.size()) - 1; }
};

struct EngagementOptions {
  // Required: the day the score is "as of" (days since 1970-01-01, a
  // supported run date 1900-01-01..9999-12-31). Events on or after it are ignored.
  std::optional<int32_t> as_of_day;
  double half_life_days = 90;  // finite, 0.5 <= h <= 36500
  // Weight per type code, finite, >= 0; empty = every type weighs 1. A type
  // of weight 0 is ignored (its events still count in `events`).
  std::vector<double> type_weights;
  double reference_quantile = 0.99;  // 0.5 <= q <= 1
  double reference_raw = 0;          // > 0: R_ref, instead of the quantile; finite
  int threads = 0;                   // worker threads, <= 0 = one per core
};

// One type's part of one customer's score.
struct EngagementContribution {
  int32_t type = -1;   // code in type_names
  int64_t events = 0;  // events of this type before as_of_day
  double raw = 0;      // this type's part of R_c (weighted, decayed)
  double points = 0;   // score * raw / R_c: the score's share of this type (sums to the score)
};

struct EngagementResult {
  // Per customer (size customers()).
  std::vector<double> raw;     // R_c
  std::vector<int32_t> score;  // S_c, 0..100
  std::vector<EngagementLevel> level;
  std::vector<int32_t> last_day;  // latest event day before as_of_day, INT32_MIN = none
  std::vector<int64_t> events;    // events before as_of_day
  // CSR of contributions: customer i's are [contribution_offsets[i],
  // contribution_offsets[i+1]) of `contributions`, one per type the customer
  // has events of (before as_of_day), largest raw first (then type code).
  std::vector<int64_t> contribution_offsets;
  std::vector<EngagementContribution> contributions;

  double reference_raw = 0;                      // R_ref used (0 when nobody is active)
  int64_t active_customers = 0;                  // R_c > 0
  int64_t events_used = 0;                       // events before as_of_day
  int64_t events_ignored = 0;                    // events on or after as_of_day
  std::array<int64_t, 4> customers_per_level{};  // index = EngagementLevel
};

// Scores every customer. Deterministic for a given input, whatever `threads`.
// InvalidArgument, naming the option or the input field and the value: no
// as_of_day or one outside the supported dates; an option out of range;
// type_weights of a size other than 0 or type_names.size(), or a weight
// negative or not finite, or all weights 0; offsets of the wrong shape; days
// and types of different sizes; a type code out of range.
StatusOr<EngagementResult> ComputeEngagement(const EngagementEvents& events,
                                             const EngagementOptions& options);

}  // namespace cdp
