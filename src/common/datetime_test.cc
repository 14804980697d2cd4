#include "common/datetime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>

namespace cdp {
namespace {

TEST(DateTimeTest, RoundTripsCivilDatesAcrossCenturies) {
  for (int32_t d = -800000; d <= 800000; d += 97) {
    int y;
    unsigned m, dd;
    CivilFromDays(d, &y, &m, &dd);
    ASSERT_TRUE(IsValidCivilDate(y, m, dd));
    ASSERT_EQ(DaysFromCivil(y, m, dd), d);
  }
}

TEST(DateTimeTest, KnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(FormatDate(DaysFromCivil(1996, 12, 31)), "1996-12-31");
  EXPECT_FALSE(IsValidCivilDate(2023, 2, 29));
  EXPECT_TRUE(IsValidCivilDate(2024, 2, 29));
  EXPECT_FALSE(IsValidCivilDate(1900, 2, 29));
}

TEST(DateTimeTest, FormatsTimestampsInUtc) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(kMicrosPerDay + 3723 * kMicrosPerSecond + 5), "1970-01-02T01:02:03.000005Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
}

int32_t D(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }

TEST(DateTimeTest, AddMonthsClampsToTheEndOfAShorterMonth) {
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 1, 31), 1)), "2024-02-29");  // leap year
  EXPECT_EQ(FormatDate(AddMonths(D(2023, 1, 31), 1)), "2023-02-28");
  EXPECT_EQ(FormatDate(AddMonths(D(1900, 1, 31), 1)), "1900-02-28");  // century, not leap
  EXPECT_EQ(FormatDate(AddMonths(D(2000, 1, 31), 1)), "2000-02-29");  // 400th year, leap
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 3, 31), 1)), "2024-04-30");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 1, 30), 1)), "2024-02-29");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 2, 29), 12)), "2025-02-28");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 2, 29), 48)), "2028-02-29");
  // The clamp is not remembered: Jan 31 + 1 + 1 is Mar 29, Jan 31 + 2 is Mar 31.
  EXPECT_EQ(FormatDate(AddMonths(AddMonths(D(2024, 1, 31), 1), 1)), "2024-03-29");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 1, 31), 2)), "2024-03-31");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 5, 15), 0)), "2024-05-15");
}

TEST(DateTimeTest, AddMonthsBackwardsAndAcrossYears) {
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 3, 31), -1)), "2024-02-29");
  EXPECT_EQ(FormatDate(AddMonths(D(2023, 3, 31), -1)), "2023-02-28");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 1, 15), -1)), "2023-12-15");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 1, 15), -13)), "2022-12-15");
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 12, 31), 2)), "2025-02-28");
  EXPECT_EQ(FormatDate(AddMonths(D(2025, 2, 28), -12)), "2024-02-28");
  EXPECT_EQ(FormatDate(AddMonths(D(1, 1, 31), -1)), "0000-12-31");
  EXPECT_EQ(FormatDate(AddMonths(D(0, 3, 31), -1)), "0000-02-29");  // year 0 is a leap year
  EXPECT_EQ(FormatDate(AddMonths(D(0, 1, 10), -1)), "-001-12-10");
  // Month by month equals the calendar walk for every day of 2023-2024.
  for (int32_t day = D(2023, 1, 1); day <= D(2024, 12, 31); ++day) {
    int y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    for (int k = -30; k <= 30; ++k) {
      int64_t idx = int64_t{y} * 12 + (m - 1) + k;
      int ny = static_cast<int>(idx / 12);
      unsigned nm = static_cast<unsigned>(idx % 12) + 1;
      ASSERT_EQ(AddMonths(day, k), D(ny, nm, std::min(d, DaysInMonth(ny, nm)))) << FormatDate(day) << " + " << k;
    }
  }
}

TEST(DateTimeTest, CalendarArithmeticSaturates) {
  EXPECT_EQ(AddMonths(D(2024, 1, 1), -120'000'000'000LL), kMinCalendarDay);
  EXPECT_EQ(AddMonths(D(2024, 1, 1), 120'000'000'000LL), kMaxCalendarDay);
  EXPECT_EQ(AddMonths(D(2024, 1, 1), INT64_MIN), kMinCalendarDay);
  EXPECT_EQ(AddMonths(D(2024, 1, 1), INT64_MAX), kMaxCalendarDay);
  EXPECT_EQ(AddDays(D(2024, 1, 1), INT64_MIN), kMinCalendarDay);
  EXPECT_EQ(AddDays(D(2024, 1, 1), INT64_MAX), kMaxCalendarDay);
  EXPECT_EQ(AddDays(D(2024, 2, 28), 1), D(2024, 2, 29));
  EXPECT_EQ(AddDays(D(2024, 3, 1), -1), D(2024, 2, 29));
  // 100,000 years back stays exact.
  EXPECT_EQ(FormatDate(AddMonths(D(2024, 3, 31), -12 * 100000 - 1)), "-97976-02-29");
}

TEST(DateTimeTest, DayOfMicrosRoundsDown) {
  EXPECT_EQ(DayOfMicros(0), 0);
  EXPECT_EQ(DayOfMicros(kMicrosPerDay - 1), 0);
  EXPECT_EQ(DayOfMicros(-1), -1);
  EXPECT_EQ(DayOfMicros(-kMicrosPerDay), -1);
  EXPECT_EQ(DayOfMicros(-kMicrosPerDay - 1), -2);
}

}  // namespace
}  // namespace cdp
