#include "config/time_window.h"

#include <algorithm>
#include <climits>

#include "common/datetime.h"

namespace cdp {
namespace {

int64_t MonthsOf(TimeUnit u) { return u == TimeUnit::kYear ? 12 : u == TimeUnit::kQuarter ? 3 : 1; }
// Units as a count of days (day, week) or of months (the others).
bool InDays(TimeUnit u) { return u == TimeUnit::kDay || u == TimeUnit::kWeek; }
int64_t DaysOf(TimeUnit u) { return u == TimeUnit::kWeek ? 7 : 1; }
// Large enough to reach past every representable day, small enough not to overflow.
constexpr int64_t kMaxUnits = 100'000'000;

}  // namespace

DayRange LastDays(int64_t n, TimeUnit unit, int32_t run) {
  if (n <= 0) return DayRange{run, run - 1};
  n = std::min(n, kMaxUnits);
  const int32_t before = InDays(unit) ? AddDays(run, -n * DaysOf(unit)) : AddMonths(run, -n * MonthsOf(unit));
  return DayRange{AddDays(before, 1), run};
}

DayRange NextDays(int64_t n, TimeUnit unit, int32_t run) {
  if (n <= 0) return DayRange{run, run - 1};
  n = std::min(n, kMaxUnits);
  const int32_t after = InDays(unit) ? AddDays(run, n * DaysOf(unit)) : AddMonths(run, n * MonthsOf(unit));
  return DayRange{run, AddDays(after, -1)};
}

DayRange PeriodDays(bool previous, TimeUnit unit, int32_t run) {
  int y;
  unsigned m, d;
  CivilFromDays(run, &y, &m, &d);
  const int64_t span = MonthsOf(unit);
  const unsigned first_month = unit == TimeUnit::kYear ? 1 : unit == TimeUnit::kQuarter ? (m - 1) / 3 * 3 + 1 : m;
  int32_t start = DaysFromCivil(y, first_month, 1);
  if (previous) start = AddMonths(start, -span);
  return DayRange{start, AddMonths(start, span) - 1};
}

DayRange WindowDays(const TimeWindowConfig& w, int32_t run) {
  switch (w.kind) {
    case WindowKind::kAllTime: return DayRange{INT32_MIN, INT32_MAX};
    case WindowKind::kBetween: return DayRange{w.from, w.to};
    case WindowKind::kLast: return LastDays(w.n, w.unit, run);
    case WindowKind::kThisPeriod: return PeriodDays(false, w.unit, run);
    case WindowKind::kLastPeriod: return PeriodDays(true, w.unit, run);
  }
  return DayRange{INT32_MIN, INT32_MAX};
}

}  // namespace cdp
