#include "common/datetime.h"

#include <algorithm>
#include <cstdio>

namespace cdp {

void CivilFromDays(int32_t z_in, int* year, unsigned* month, unsigned* day) {
  int z = z_in + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (m <= 2);
  *month = m;
  *day = d;
}

unsigned DaysInMonth(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return (m >= 1 && m <= 12) ? kDays[m - 1] : 0;
}

bool IsValidCivilDate(int y, unsigned m, unsigned d) {
  return y >= -9999 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

std::string FormatDate(int32_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string FormatTimestamp(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%sT%02d:%02d:%02d", FormatDate(static_cast<int32_t>(days)).c_str(),
                        static_cast<int>(secs / 3600), static_cast<int>((secs / 60) % 60),
                        static_cast<int>(secs % 60));
  if (frac != 0) std::snprintf(buf + n, sizeof(buf) - n, ".%06d", static_cast<int>(frac));
  std::string out(buf);
  out += 'Z';
  return out;
}

int32_t AddDays(int32_t day, int64_t n) {
  n = std::clamp<int64_t>(n, -(int64_t{1} << 40), int64_t{1} << 40);
  return static_cast<int32_t>(std::clamp<int64_t>(int64_t{day} + n, kMinCalendarDay, kMaxCalendarDay));
}

int32_t AddMonths(int32_t day, int64_t months) {
  int y;
  unsigned m, d;
  CivilFromDays(day, &y, &m, &d);
  // Years within +-3,000,000 keep DaysFromCivil inside int32; beyond them the
  // result saturates anyway.
  constexpr int64_t kMaxMonth = 12LL * 3'000'000;
  months = std::clamp<int64_t>(months, -4 * kMaxMonth, 4 * kMaxMonth);
  const int64_t total = std::clamp<int64_t>(int64_t{y} * 12 + (m - 1) + months, -kMaxMonth, kMaxMonth);
  const int ny = static_cast<int>(total >= 0 ? total / 12 : -((-total + 11) / 12));
  const unsigned nm = static_cast<unsigned>(total - int64_t{ny} * 12) + 1;
  const int32_t out = DaysFromCivil(ny, nm, std::min(d, DaysInMonth(ny, nm)));
  return std::clamp(out, kMinCalendarDay, kMaxCalendarDay);
}

Status CheckRunDate(int32_t days) {
  if (days == 0 || IsSupportedRunDate(days)) return Status::Ok();
  return InvalidArgumentError("the run date " + FormatDate(days) + " is outside the supported range " +
                              FormatDate(kMinRunDate) + " to " + FormatDate(kMaxRunDate));
}

}  // namespace cdp
