#include "schedule/cron.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "common/datetime.h"

namespace cdp {
namespace {

// "YYYY-MM-DD HH:MM[:SS]" (UTC) to microseconds since the epoch.
int64_t At(const std::string& text) {
  int y, mo, d, h, mi, s = 0;
  int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  EXPECT_GE(n, 5) << text;
  return (static_cast<int64_t>(DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400 +
          h * 3600 + mi * 60 + s) *
         kMicrosPerSecond;
}

// Back to "YYYY-MM-DD HH:MM" (seconds are always 0 for a cron time).
std::string Show(int64_t micros) {
  if (micros == CronSchedule::kNever) return "never";
  std::string t = FormatTimestamp(micros);  // YYYY-MM-DDTHH:MM:SSZ
  return t.substr(0, 10) + " " + t.substr(11, 5);
}

CronSchedule Must(const std::string& text) {
  auto s = CronSchedule::Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  if (!s.ok()) return *CronSchedule::Parse("* * * * *");
  return *s;
}

std::string Next(const std::string& cron, const std::string& after) { return Show(Must(cron).Next(At(after))); }

// The n firings after `after`.
std::vector<std::string> Firings(const std::string& cron, const std::string& after, int n) {
  CronSchedule s = Must(cron);
  std::vector<std::string> out;
  int64_t t = At(after);
  for (int i = 0; i < n; ++i) {
    t = s.Next(t);
    out.push_back(Show(t));
  }
  return out;
}

std::string ParseError(const std::string& text) {
  auto s = CronSchedule::Parse(text);
  EXPECT_FALSE(s.ok()) << text << " parsed";
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  return s.status().message();
}

TEST(CronNextTest, EveryMinuteIsStrictlyAfter) {
  EXPECT_EQ(Next("* * * * *", "2024-05-01 10:00"), "2024-05-01 10:01");
  EXPECT_EQ(Show(Must("* * * * *").Next(At("2024-05-01 10:00:59"))), "2024-05-01 10:01");
  EXPECT_EQ(Show(Must("* * * * *").Next(At("2024-05-01 10:00") + 1)), "2024-05-01 10:01");
  EXPECT_EQ(Show(Must("* * * * *").Next(At("2024-05-01 10:00") - 1)), "2024-05-01 10:00");
}

TEST(CronNextTest, FixedTimeDaily) {
  EXPECT_EQ(Next("0 3 * * *", "2024-05-01 02:59"), "2024-05-01 03:00");
  EXPECT_EQ(Next("0 3 * * *", "2024-05-01 03:00"), "2024-05-02 03:00");
  EXPECT_EQ(Next("30 23 * * *", "2024-12-31 23:30"), "2025-01-01 23:30");
}

TEST(CronNextTest, Steps) {
  EXPECT_EQ(Firings("*/15 * * * *", "2024-05-01 10:07", 4),
            (std::vector<std::string>{"2024-05-01 10:15", "2024-05-01 10:30", "2024-05-01 10:45", "2024-05-01 11:00"}));
  EXPECT_EQ(Firings("*/30 * * * *", "2024-05-01 23:45", 2),
            (std::vector<std::string>{"2024-05-02 00:00", "2024-05-02 00:30"}));
  EXPECT_EQ(Firings("10-40/10 * * * *", "2024-05-01 10:35", 3),
            (std::vector<std::string>{"2024-05-01 10:40", "2024-05-01 11:10", "2024-05-01 11:20"}));
  EXPECT_EQ(Firings("5/20 * * * *", "2024-05-01 10:00", 4),  // from 5 to 59
            (std::vector<std::string>{"2024-05-01 10:05", "2024-05-01 10:25", "2024-05-01 10:45", "2024-05-01 11:05"}));
  EXPECT_EQ(Next("0 */6 * * *", "2024-05-01 13:00"), "2024-05-01 18:00");
  EXPECT_EQ(Next("0 0 */10 * *", "2024-05-21 00:00"), "2024-05-31 00:00");  // days 1, 11, 21, 31
  EXPECT_EQ(Next("0 0 */10 * *", "2024-06-21 00:00"), "2024-07-01 00:00");  // June has no 31st
}

TEST(CronNextTest, ListsAndRanges) {
  EXPECT_EQ(Firings("0 9-17/4,22 * * *", "2024-05-01 08:00", 5),
            (std::vector<std::string>{"2024-05-01 09:00", "2024-05-01 13:00", "2024-05-01 17:00", "2024-05-01 22:00",
                                      "2024-05-02 09:00"}));
  EXPECT_EQ(Firings("0 8 * * 1-5", "2024-05-03 09:00", 2),  // Friday -> Monday
            (std::vector<std::string>{"2024-05-06 08:00", "2024-05-07 08:00"}));
  EXPECT_EQ(Next("15,45 * * * *", "2024-05-01 10:15"), "2024-05-01 10:45");
}

TEST(CronNextTest, Names) {
  EXPECT_EQ(Next("0 8 * * MON-FRI", "2024-05-04 12:00"), "2024-05-06 08:00");  // Saturday -> Monday
  EXPECT_EQ(Next("0 0 1 jan,Jul *", "2024-02-01 00:00"), "2024-07-01 00:00");
  EXPECT_EQ(Next("0 0 * * sun", "2024-05-01 00:00"), "2024-05-05 00:00");
  EXPECT_EQ(Next("0 0 1 JUN-AUG/2 *", "2024-06-01 00:00"), "2024-08-01 00:00");
}

TEST(CronNextTest, SundayIsZeroOrSeven) {
  EXPECT_EQ(Next("0 0 * * 7", "2024-05-01 00:00"), "2024-05-05 00:00");
  EXPECT_EQ(Next("0 0 * * 0", "2024-05-01 00:00"), "2024-05-05 00:00");
  EXPECT_EQ(Firings("0 0 * * 5-7", "2024-05-01 00:00", 3),
            (std::vector<std::string>{"2024-05-03 00:00", "2024-05-04 00:00", "2024-05-05 00:00"}));
}

TEST(CronNextTest, MonthEnds) {
  EXPECT_EQ(Firings("0 0 31 * *", "2024-01-31 00:00", 3),
            (std::vector<std::string>{"2024-03-31 00:00", "2024-05-31 00:00", "2024-07-31 00:00"}));
  EXPECT_EQ(Next("0 12 30 * *", "2024-01-30 12:00"), "2024-03-30 12:00");  // skips February
  EXPECT_EQ(Next("59 23 * * *", "2024-04-30 23:59"), "2024-05-01 23:59");
  EXPECT_EQ(Next("0 0 1 * *", "2024-12-15 00:00"), "2025-01-01 00:00");
}

TEST(CronNextTest, LeapYearsAndFebruary29) {
  EXPECT_EQ(Next("0 0 29 2 *", "2024-03-01 00:00"), "2028-02-29 00:00");
  EXPECT_EQ(Next("0 0 29 2 *", "2023-01-01 00:00"), "2024-02-29 00:00");
  EXPECT_EQ(Next("0 0 29 2 *", "2096-03-01 00:00"), "2104-02-29 00:00");  // 2100 is not a leap year
  EXPECT_EQ(Next("0 0 29 2 *", "2000-01-01 00:00"), "2000-02-29 00:00");  // 2000 is
  EXPECT_EQ(Next("0 0 * 2 *", "2023-02-28 00:00"), "2024-02-01 00:00");
  EXPECT_EQ(Next("0 0 * 2 *", "2024-02-28 00:00"), "2024-02-29 00:00");
  EXPECT_EQ(Next("0 0 28-31 2 *", "2023-02-28 00:00"), "2024-02-28 00:00");
}

TEST(CronNextTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 13th or any Friday: May 2024 has Fridays 3, 10, 17, 24, 31 and the 13th is a Monday.
  EXPECT_EQ(Firings("0 0 13 * 5", "2024-05-01 00:00", 4),
            (std::vector<std::string>{"2024-05-03 00:00", "2024-05-10 00:00", "2024-05-13 00:00", "2024-05-17 00:00"}));
  EXPECT_EQ(Firings("0 0 1,15 * 1", "2024-05-01 00:00", 4),
            (std::vector<std::string>{"2024-05-06 00:00", "2024-05-13 00:00", "2024-05-15 00:00", "2024-05-20 00:00"}));
  // Day of month restricted only: the weekday does not matter.
  EXPECT_EQ(Next("0 0 13 * *", "2024-05-01 00:00"), "2024-05-13 00:00");
  // A field starting with '*' counts as unrestricted (Vixie cron): both must match.
  EXPECT_EQ(Next("0 0 */2 * 1", "2024-05-01 00:00"), "2024-05-13 00:00");  // odd day and Monday
}

TEST(CronNextTest, DayOfWeekRestrictedOnlyWithMonth) {
  EXPECT_EQ(Next("0 0 * 12 0", "2024-05-01 00:00"), "2024-12-01 00:00");  // first Sunday of December 2024
}

TEST(CronNextTest, Macros) {
  EXPECT_EQ(Next("@hourly", "2024-05-01 10:30"), "2024-05-01 11:00");
  EXPECT_EQ(Next("@daily", "2024-05-01 10:30"), "2024-05-02 00:00");
  EXPECT_EQ(Next("@midnight", "2024-05-01 10:30"), "2024-05-02 00:00");
  EXPECT_EQ(Next("@weekly", "2024-05-01 10:30"), "2024-05-05 00:00");
  EXPECT_EQ(Next("@monthly", "2024-05-01 10:30"), "2024-06-01 00:00");
  EXPECT_EQ(Next("@yearly", "2024-05-01 10:30"), "2025-01-01 00:00");
  EXPECT_EQ(Next("@annually", "2024-05-01 10:30"), "2025-01-01 00:00");
  EXPECT_EQ(Next("@DAILY", "2024-05-01 10:30"), "2024-05-02 00:00");
}

TEST(CronNextTest, YearEndAndBeforeTheEpoch) {
  EXPECT_EQ(Next("0 0 1 1 *", "2024-12-31 23:59"), "2025-01-01 00:00");
  EXPECT_EQ(Next("* * * * *", "1969-12-31 23:59"), "1970-01-01 00:00");
  EXPECT_EQ(Next("0 12 * * *", "1969-06-01 13:00"), "1969-06-02 12:00");
}

TEST(CronNextTest, TextIsKeptAsGiven) {
  EXPECT_EQ(Must("  */15 *  * * *  ").text(), "*/15 *  * * *");
  EXPECT_EQ(Must("@daily").text(), "@daily");
  EXPECT_EQ(Must("0 3 * * *"), Must("0 3 * * *"));
}

TEST(CronParseTest, ErrorsNameTheFieldAndValue) {
  EXPECT_EQ(ParseError("0 0 * * 8"), "day-of-week field '8' is out of range 0-7");
  EXPECT_EQ(ParseError("60 * * * *"), "minute field '60' is out of range 0-59");
  EXPECT_EQ(ParseError("0 24 * * *"), "hour field '24' is out of range 0-23");
  EXPECT_EQ(ParseError("0 0 0 * *"), "day-of-month field '0' is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 32 * *"), "day-of-month field '32' is out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "month field '13' is out of range 1-12");
  EXPECT_EQ(ParseError("0 0 1,99 * *"), "day-of-month field '99' is out of range 1-31");
  EXPECT_NE(ParseError("0 0 * FOO *").find("month field 'FOO'"), std::string::npos);
  EXPECT_NE(ParseError("0 0 * * MONDAY").find("day-of-week field 'MONDAY'"), std::string::npos);
  EXPECT_NE(ParseError("*/0 * * * *").find("minute field '*/0'"), std::string::npos);
  EXPECT_NE(ParseError("*/x * * * *").find("minute field '*/x'"), std::string::npos);
  EXPECT_NE(ParseError("0 10-5 * * *").find("hour field '10-5'"), std::string::npos);
  EXPECT_NE(ParseError("0 1,,2 * * *").find("hour field"), std::string::npos);
  EXPECT_NE(ParseError("1x * * * *").find("minute field '1x'"), std::string::npos);
  EXPECT_NE(ParseError("-1 * * * *").find("minute field"), std::string::npos);
}

TEST(CronParseTest, WrongNumberOfFieldsAndUnknownMacros) {
  EXPECT_NE(ParseError("* * * *").find("has 4 field(s); expected 5"), std::string::npos);
  EXPECT_NE(ParseError("* * * * * *").find("has 6 field(s)"), std::string::npos);
  EXPECT_NE(ParseError("").find("has 0 field(s)"), std::string::npos);
  EXPECT_NE(ParseError("@reboot").find("unknown cron shortcut '@reboot'"), std::string::npos);
}

TEST(CronParseTest, RejectsDaysThatNeverOccur) {
  EXPECT_NE(ParseError("0 0 30 2 *").find("never fire"), std::string::npos);
  EXPECT_NE(ParseError("0 0 31 4,6,9,11 *").find("day-of-month field '31'"), std::string::npos);
  EXPECT_TRUE(CronSchedule::Parse("0 0 30 2 1").ok());  // OR: every Monday in February fires
  EXPECT_TRUE(CronSchedule::Parse("0 0 29 2 *").ok());
}

TEST(CronNextTest, AFewThousandFiringsAreIncreasingAndMatchTheirFields) {
  CronSchedule s = Must("7,37 */5 1-10,20 * MON,THU");
  int64_t t = At("2024-01-01 00:00");
  for (int i = 0; i < 3000; ++i) {
    int64_t n = s.Next(t);
    ASSERT_GT(n, t);
    ASSERT_EQ(n % (60 * kMicrosPerSecond), 0);
    std::string shown = Show(n);
    int minute = std::stoi(shown.substr(14, 2)), hour = std::stoi(shown.substr(11, 2));
    ASSERT_TRUE(minute == 7 || minute == 37) << shown;
    ASSERT_EQ(hour % 5, 0) << shown;
    t = n;
  }
}

}  // namespace
}  // namespace cdp
