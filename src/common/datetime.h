// Civil calendar arithmetic (proleptic Gregorian, UTC). Pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace cdp {

// Days since 1970-01-01 for a civil date; month 1..12, day 1..31 (not validated).
int32_t DaysFromCivil(int year, unsigned month, unsigned day);
void CivilFromDays(int32_t days, int* year, unsigned* month, unsigned* day);
bool IsValidCivilDate(int year, unsigned month, unsigned day);
unsigned DaysInMonth(int year, unsigned month);

// "YYYY-MM-DD".
std::string FormatDate(int32_t days);
// "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" from microseconds since the epoch.
std::string FormatTimestamp(int64_t micros);

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400LL * kMicrosPerSecond;

}  // namespace cdp
