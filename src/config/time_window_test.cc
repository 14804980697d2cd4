#include "config/time_window.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "common/datetime.h"

namespace cdp {
namespace {

int32_t D(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }
std::string Show(DayRange r) { return FormatDate(r.lo) + ".." + FormatDate(r.hi); }

TEST(TimeWindowTest, LastDaysAndWeeksIncludeTheRunDate) {
  const int32_t run = D(2024, 3, 10);
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kDay, run)), "2024-03-10..2024-03-10");
  EXPECT_EQ(Show(LastDays(10, TimeUnit::kDay, run)), "2024-03-01..2024-03-10");
  EXPECT_EQ(Show(LastDays(2, TimeUnit::kWeek, run)), "2024-02-26..2024-03-10");
  EXPECT_EQ(Show(NextDays(1, TimeUnit::kDay, run)), "2024-03-10..2024-03-10");
  EXPECT_EQ(Show(NextDays(1, TimeUnit::kWeek, run)), "2024-03-10..2024-03-16");
}

TEST(TimeWindowTest, LastMonthsStartAfterTheSameDayClampedToMonthEnd) {
  // After 2024-02-29 (31 March - 1 month, clamped), up to the run date.
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kMonth, D(2024, 3, 31))), "2024-03-01..2024-03-31");
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kMonth, D(2023, 3, 31))), "2023-03-01..2023-03-31");
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kMonth, D(2024, 3, 15))), "2024-02-16..2024-03-15");
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kQuarter, D(2024, 5, 31))), "2024-03-01..2024-05-31");
  EXPECT_EQ(Show(LastDays(1, TimeUnit::kYear, D(2024, 2, 29))), "2023-03-01..2024-02-29");
  EXPECT_EQ(Show(LastDays(4, TimeUnit::kYear, D(2024, 2, 29))), "2020-03-01..2024-02-29");
  // in_next mirrors it: up to the day before the same day n months later.
  EXPECT_EQ(Show(NextDays(1, TimeUnit::kMonth, D(2024, 1, 31))), "2024-01-31..2024-02-28");
  EXPECT_EQ(Show(NextDays(1, TimeUnit::kMonth, D(2023, 1, 31))), "2023-01-31..2023-02-27");
  EXPECT_EQ(Show(NextDays(1, TimeUnit::kYear, D(2024, 2, 29))), "2024-02-29..2025-02-27");
}

TEST(TimeWindowTest, CalendarPeriods) {
  const int32_t run = D(2024, 5, 20);
  EXPECT_EQ(Show(PeriodDays(false, TimeUnit::kMonth, run)), "2024-05-01..2024-05-31");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kMonth, run)), "2024-04-01..2024-04-30");
  EXPECT_EQ(Show(PeriodDays(false, TimeUnit::kQuarter, run)), "2024-04-01..2024-06-30");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kQuarter, run)), "2024-01-01..2024-03-31");
  EXPECT_EQ(Show(PeriodDays(false, TimeUnit::kYear, run)), "2024-01-01..2024-12-31");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kYear, run)), "2023-01-01..2023-12-31");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kMonth, D(2024, 3, 31))), "2024-02-01..2024-02-29");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kMonth, D(2024, 1, 5))), "2023-12-01..2023-12-31");
  EXPECT_EQ(Show(PeriodDays(true, TimeUnit::kQuarter, D(2024, 2, 5))), "2023-10-01..2023-12-31");
}

TEST(TimeWindowTest, WindowsOfEveryKind) {
  const int32_t run = D(2024, 5, 20);
  TimeWindowConfig w;
  EXPECT_EQ(WindowDays(w, run), (DayRange{INT32_MIN, INT32_MAX}));
  w.kind = WindowKind::kBetween;
  w.from = D(2024, 1, 1);
  w.to = D(2024, 1, 31);
  EXPECT_EQ(Show(WindowDays(w, run)), "2024-01-01..2024-01-31");
  w.kind = WindowKind::kLast;
  w.n = 3;
  w.unit = TimeUnit::kMonth;
  EXPECT_EQ(WindowDays(w, run), LastDays(3, TimeUnit::kMonth, run));
  w.kind = WindowKind::kThisPeriod;
  w.unit = TimeUnit::kQuarter;
  EXPECT_EQ(WindowDays(w, run), PeriodDays(false, TimeUnit::kQuarter, run));
  w.kind = WindowKind::kLastPeriod;
  EXPECT_EQ(WindowDays(w, run), PeriodDays(true, TimeUnit::kQuarter, run));
}

TEST(TimeWindowTest, EmptyAndHugeWindows) {
  const int32_t run = D(2024, 5, 20);
  EXPECT_FALSE(LastDays(0, TimeUnit::kDay, run).Contains(run));
  EXPECT_FALSE(NextDays(-5, TimeUnit::kMonth, run).Contains(run));
  // Any length is a valid range that reaches every stored date.
  for (TimeUnit u : {TimeUnit::kDay, TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear}) {
    DayRange last = LastDays(INT64_MAX, u, run);
    EXPECT_LE(last.lo, D(-9999, 1, 1));
    EXPECT_EQ(last.hi, run);
    DayRange next = NextDays(INT64_MAX, u, run);
    EXPECT_EQ(next.lo, run);
    EXPECT_GE(next.hi, D(9999, 12, 31));
  }
  EXPECT_EQ(Show(LastDays(100000, TimeUnit::kYear, run)), "-97976-05-21..2024-05-20");
}

}  // namespace
}  // namespace cdp
