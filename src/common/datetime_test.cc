#include "common/datetime.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cdp
