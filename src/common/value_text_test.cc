#include "common/value_text.h"

#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <limits>
#include <string>

namespace cdp {
namespace {

std::string Int(std::string_view s) {
  int64_t v = 0;
  return ParseInteger(s, &v) ? std::to_string(v) : "no";
}
std::string Num(std::string_view s) {
  double v = 0;
  if (!ParseNumber(s, &v)) return "no";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string Date(std::string_view s) {
  int32_t d = 0;
  return ParseIsoDate(s, &d) ? FormatDate(d) : "no";
}
std::string Ts(std::string_view s) {
  int64_t us = 0;
  return ParseIsoTimestamp(s, &us) ? FormatTimestamp(us) : "no";
}

TEST(ValueTextTest, Integers) {
  EXPECT_EQ(Int("0"), "0");
  EXPECT_EQ(Int("+42"), "42");
  EXPECT_EQ(Int("-42"), "-42");
  EXPECT_EQ(Int("007"), "7");
  EXPECT_EQ(Int("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Int("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Int("+9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Int("00000000000000000000000000042"), "42");
  EXPECT_EQ(Int("-000000000000000000000000042"), "-42");
  EXPECT_EQ(Int("999999999999999999"), "999999999999999999");  // 18 digits, the inline path
  EXPECT_EQ(Int("-999999999999999999"), "-999999999999999999");
  for (const char* bad : {"9223372036854775808", "-9223372036854775809", "99999999999999999999", "", "+", "-",
                          "+-1", "-+1", "--1", "1.0", "1e3", " 1", "1 ", "0x10", "1_000", "١"}) {
    EXPECT_EQ(Int(bad), "no") << bad;
  }
}

TEST(ValueTextTest, Numbers) {
  EXPECT_EQ(Num("1"), "1");
  EXPECT_EQ(Num("+1.5"), "1.5");
  EXPECT_EQ(Num("-0.25"), "-0.25");
  EXPECT_EQ(Num(".5"), "0.5");
  EXPECT_EQ(Num("-.5"), "-0.5");
  EXPECT_EQ(Num("5."), "5");
  EXPECT_EQ(Num("1e3"), "1000");
  EXPECT_EQ(Num("1E+3"), "1000");
  EXPECT_EQ(Num("2.5e-1"), "0.25");
  EXPECT_EQ(Num("0.1"), "0.10000000000000001");  // nearest double
  EXPECT_EQ(Num("1.7976931348623157e308"), "1.7976931348623157e+308");
  // Below the double range: rounds to zero (subnormals are kept).
  EXPECT_EQ(Num("1e-999"), "0");
  EXPECT_EQ(Num("-1e-999"), "-0");
  EXPECT_EQ(Num("0." + std::string(400, '0') + "1"), "0");
  EXPECT_EQ(Num("0.001e-400000000000000000000"), "0");
  EXPECT_EQ(Num("4.9e-324"), "4.9406564584124654e-324");
  for (const char* bad : {"", ".", "+", "-", "+-1", "e5", "1e", "1e+", "1.2.3", " 1", "1 ", "1,5", "inf", "-inf",
                          "infinity", "nan", "NaN", "0x1p3", "0x10", "1e999", "-1e999", "1f", "1e400000000000000000000"}) {
    EXPECT_EQ(Num(bad), "no") << bad;
  }
  double v;
  bool out_of_range = false;
  EXPECT_FALSE(ParseNumber("1e999", &v, &out_of_range));
  EXPECT_TRUE(out_of_range);
  EXPECT_FALSE(ParseNumber(std::string(400, '9'), &v, &out_of_range));
  EXPECT_TRUE(out_of_range);
  EXPECT_FALSE(ParseNumber("1" + std::string(500, '0') + "e-100", &v, &out_of_range));
  EXPECT_TRUE(out_of_range);
  EXPECT_FALSE(ParseNumber("1x", &v, &out_of_range));
  EXPECT_FALSE(out_of_range);
}

TEST(ValueTextTest, NumbersIgnoreTheLocale) {
  // A locale with a decimal comma must not change what a number is.
  const char* old = std::setlocale(LC_NUMERIC, nullptr);
  std::string saved = old ? old : "C";
  bool switched = std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr || std::setlocale(LC_NUMERIC, "fr_FR.UTF-8") != nullptr;
  EXPECT_EQ(Num("1.5"), "1.5");
  EXPECT_EQ(Num("1,5"), "no");
  std::setlocale(LC_NUMERIC, saved.c_str());
  if (!switched) GTEST_SKIP() << "no decimal-comma locale installed; checked in the C locale only";
}

TEST(ValueTextTest, IsoDates) {
  EXPECT_EQ(Date("2024-02-29"), "2024-02-29");
  EXPECT_EQ(Date("2000-02-29"), "2000-02-29");
  EXPECT_EQ(Date("1970-01-01"), "1970-01-01");
  EXPECT_EQ(Date("9999-12-31"), "9999-12-31");
  // Values are any year 0000-9999; the 1900-9999 rule is for run dates only.
  EXPECT_EQ(Date("0000-01-01"), "0000-01-01");
  EXPECT_EQ(Date("1899-12-31"), "1899-12-31");
  int32_t d;
  ASSERT_TRUE(ParseIsoDate("1899-12-31", &d));
  EXPECT_FALSE(CheckRunDate(d).ok());
  ASSERT_TRUE(ParseIsoDate("1900-01-01", &d));
  EXPECT_TRUE(CheckRunDate(d).ok());
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",
                          "2024-04-31", "2024-1-05", "2024-01-5", "24-01-05", "+2024-01-05", "-123-01-01",
                          "20 4-01-01", "2024-1a-05", "2024/01/05", " 2024-01-05", "2024-01-05 ", "2024-01-05T00:00:00",
                          "10000-01-01", ""}) {
    EXPECT_EQ(Date(bad), "no") << bad;
  }
}

TEST(ValueTextTest, IsoTimestamps) {
  EXPECT_EQ(Ts("2024-02-29T23:59:59Z"), "2024-02-29T23:59:59Z");
  EXPECT_EQ(Ts("2024-02-29 23:59:59"), "2024-02-29T23:59:59Z");
  EXPECT_EQ(Ts("2024-01-01T00:00:00.5Z"), "2024-01-01T00:00:00.500000Z");
  EXPECT_EQ(Ts("2024-01-01T00:00:00.123456789"), "2024-01-01T00:00:00.123456Z");  // kept to microseconds
  EXPECT_EQ(Ts("1969-12-31T23:59:59.999999Z"), "1969-12-31T23:59:59.999999Z");
  for (const char* bad : {"2024-01-01", "2024-01-01T24:00:00", "2024-01-01T23:60:00", "2024-01-01T23:59:60",
                          "2024-01-01T1:00:00", "2024-01-01T01:00", "2024-01-01T00:00:00.", "2024-01-01T00:00:00.1234567890",
                          "2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00ZZ", "2024-02-30T00:00:00", "2024-01-01X00:00:00"}) {
    EXPECT_EQ(Ts(bad), "no") << bad;
  }
}

}  // namespace
}  // namespace cdp
