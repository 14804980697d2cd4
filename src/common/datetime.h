// Civil calendar arithmetic (proleptic Gregorian, UTC). Pure functions.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace cdp {

// Days since 1970-01-01 for a civil date; month 1..12, day 1..31 (not validated).
// Howard Hinnant's days_from_civil algorithm (public domain description);
// inline because value parsing calls it once per date.
inline int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int32_t>(era * 146097 + static_cast<int>(doe) - 719468);
}
void CivilFromDays(int32_t days, int* year, unsigned* month, unsigned* day);
bool IsValidCivilDate(int year, unsigned month, unsigned day);
unsigned DaysInMonth(int year, unsigned month);

// "YYYY-MM-DD".
std::string FormatDate(int32_t days);
// "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" from microseconds since the epoch.
std::string FormatTimestamp(int64_t micros);

// The dates a run may take as "today" (measure windows, segment conditions):
// 1900-01-01 through 9999-12-31. Earlier or later dates are typing mistakes
// (e.g. --as-of 0000-01-01) whose results would be stored as real.
inline constexpr int32_t kMinRunDate = -25567;   // 1900-01-01
inline constexpr int32_t kMaxRunDate = 2932896;  // 9999-12-31
inline bool IsSupportedRunDate(int32_t days) { return days >= kMinRunDate && days <= kMaxRunDate; }
// Ok for 0 ("today") and supported dates; InvalidArgument naming the date and the range otherwise.
Status CheckRunDate(int32_t days);

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;

// The UTC day of a timestamp (microseconds since the epoch), rounding down:
// -1 us is 1969-12-31.
inline int32_t DayOfMicros(int64_t us) {
  int64_t d = us / kMicrosPerDay;
  if (us % kMicrosPerDay < 0) --d;
  return static_cast<int32_t>(d);  // |us| < 2^63 -> |d| < 2^27
}

// The system clock now, in microseconds since the epoch, and today's UTC day.
inline int64_t MicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline int32_t TodayUtc() { return DayOfMicros(MicrosNow()); }

// Calendar arithmetic saturates at these days (about 2.9 million years either
// side of 1970, far beyond any stored date), so a window of any length is a
// valid day range and no sum overflows int32.
inline constexpr int32_t kMinCalendarDay = INT32_MIN / 2;
inline constexpr int32_t kMaxCalendarDay = INT32_MAX / 2;

// day + n, saturated to [kMinCalendarDay, kMaxCalendarDay].
int32_t AddDays(int32_t day, int64_t n);
// Adds `months` calendar months (negative: earlier), keeping the day of the
// month and clamping it to the target month's end: 2024-01-31 + 1 = 2024-02-29,
// 2023-01-31 + 1 = 2023-02-28, 2024-03-31 - 1 = 2024-02-29, 2024-02-29 + 12 =
// 2025-02-28. The result saturates to [kMinCalendarDay, kMaxCalendarDay].
int32_t AddMonths(int32_t day, int64_t months);

}  // namespace cdp
