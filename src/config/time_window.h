// The days a time window covers: measure windows (TimeWindowConfig), segment
// aggregate windows and the segment date operators in_last, in_next,
// this_period and last_period all compute their day range here, relative to
// the run date. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "config/model_config.h"

namespace cdp {

// Inclusive range of days since 1970-01-01; empty when lo > hi.
struct DayRange {
  int32_t lo = 0;
  int32_t hi = -1;
  bool Contains(int32_t day) const { return day >= lo && day <= hi; }
  bool operator==(const DayRange&) const = default;
};

// The last n units up to and including `run`: days run-n < d <= run; weeks
// are 7n days; months, quarters (3n months) and years (12n months) start
// after the same day that many months earlier (AddMonths: clamped to the end
// of a shorter month). n <= 0 is an empty range.
DayRange LastDays(int64_t n, TimeUnit unit, int32_t run);
// The mirror of LastDays: run <= d < run + n units.
DayRange NextDays(int64_t n, TimeUnit unit, int32_t run);
// The calendar month, quarter or year containing `run` (`previous`: the one
// before), whole, days after `run` included. Day and week units are read as
// month (validation refuses them before).
DayRange PeriodDays(bool previous, TimeUnit unit, int32_t run);
// kAllTime: [INT32_MIN, INT32_MAX]; kBetween: [from, to]; the others as above.
DayRange WindowDays(const TimeWindowConfig& window, int32_t run);

}  // namespace cdp
