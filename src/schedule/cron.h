// CronSchedule: a parsed standard 5-field cron expression (minute hour
// day-of-month month day-of-week, UTC) and the next time it fires.
// Immutable value type; thread-safe.
#pragma once

#include <bitset>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp {

class CronSchedule {
 public:
  // Returned by Next when the schedule never fires again (cannot happen for a
  // schedule Parse accepted, within the supported years).
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

  // Parses "M H DOM MON DOW": each field `*`, a value, a range `a-b`, a step
  // (`*/15`, `a-b/2`, `a/5` = from a to the field's end), or a comma list of
  // these; months JAN..DEC and days SUN..SAT by name (any case); day-of-week 7
  // is Sunday. Also @hourly, @daily (@midnight), @weekly, @monthly, @yearly
  // (@annually). InvalidArgument naming the field and value, e.g.
  // "day-of-week field '8' is out of range 0-7", or for a day-of-month that
  // occurs in none of the months (e.g. "0 0 30 2 *").
  static StatusOr<CronSchedule> Parse(std::string_view text);

  // The first minute matching the schedule strictly after `after_micros`
  // (microseconds since the epoch, UTC), in microseconds. When both
  // day-of-month and day-of-week are restricted (neither starts with `*`), a
  // day matches if either does (Vixie cron); otherwise both must.
  int64_t Next(int64_t after_micros) const;

  // The text as given (trimmed), e.g. "*/15 * * * *" or "@daily".
  const std::string& text() const { return text_; }

  bool operator==(const CronSchedule& o) const { return text_ == o.text_; }

 private:
  CronSchedule() = default;
  bool DayMatches(int year, unsigned month, unsigned day, int32_t days_since_epoch) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool dom_star_ = false;          // day-of-month field starts with '*'
  bool dow_star_ = false;
};

}  // namespace cdp
