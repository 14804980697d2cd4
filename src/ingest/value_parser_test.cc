#include "ingest/value_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/datetime.h"

namespace cdp {
namespace {

using ::testing::HasSubstr;

int32_t Days(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }
int64_t Micros(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int us = 0) {
  return int64_t{Days(y, m, d)} * kMicrosPerDay + ((hh * 60 + mm) * 60 + ss) * kMicrosPerSecond + us;
}

std::optional<int64_t> Int(std::string_view t, char sep = '\0') {
  int64_t v;
  if (!ParseInt64(t, &v, sep)) return std::nullopt;
  return v;
}
std::optional<double> Dbl(std::string_view t, bool comma = false, char sep = '\0') {
  double v;
  if (!ParseDouble(t, &v, comma, sep)) return std::nullopt;
  return v;
}
std::optional<bool> Bool(std::string_view t) {
  bool v;
  if (!ParseBool(t, &v)) return std::nullopt;
  return v;
}
std::optional<int32_t> Date(std::string_view t, DateStyle s) {
  int32_t v;
  if (!ParseDate(t, s, &v)) return std::nullopt;
  return v;
}
std::optional<int64_t> Ts(std::string_view t, DateStyle s = DateStyle::kAuto) {
  int64_t v;
  if (!ParseTimestamp(t, s, &v)) return std::nullopt;
  return v;
}
std::optional<int32_t> PatternDate(std::string_view pattern, std::string_view t) {
  auto p = DatePattern::Compile(pattern);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  int32_t v;
  if (!p.ok() || !p->ParseDate(t, &v)) return std::nullopt;
  return v;
}
std::optional<int64_t> PatternTs(std::string_view pattern, std::string_view t) {
  auto p = DatePattern::Compile(pattern);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  int64_t v;
  if (!p.ok() || !p->ParseTimestamp(t, &v)) return std::nullopt;
  return v;
}

TEST(ParseInt64Test, AcceptsSignsAndTrimsWhitespace) {
  EXPECT_EQ(Int("42"), 42);
  EXPECT_EQ(Int("-17"), -17);
  EXPECT_EQ(Int("+5"), 5);
  EXPECT_EQ(Int("  12\t"), 12);
  EXPECT_EQ(Int("0"), 0);
  EXPECT_EQ(Int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(Int("-9223372036854775808"), INT64_MIN);
}

TEST(ParseInt64Test, RejectsNonIntegersAndOverflow) {
  for (std::string_view bad : {"", " ", "1.5", "1e3", "abc", "12a", "+", "-", "+-1", "--1", "1 2",
                               "9223372036854775808", "1,234"}) {
    EXPECT_EQ(Int(bad), std::nullopt) << bad;
  }
}

TEST(ParseInt64Test, ThousandsSeparatorNeedsGroupsOfThree) {
  EXPECT_EQ(Int("1,234,567", ','), 1234567);
  EXPECT_EQ(Int("-1.234", '.'), -1234);
  EXPECT_EQ(Int("999", ','), 999);
  EXPECT_EQ(Int("12,34", ','), std::nullopt);
  EXPECT_EQ(Int("1234,567", ','), std::nullopt);
  EXPECT_EQ(Int("1,", ','), std::nullopt);
  EXPECT_EQ(Int(",123", ','), std::nullopt);
}

TEST(ParseDoubleTest, DecimalPointNotation) {
  EXPECT_EQ(Dbl("3.25"), 3.25);
  EXPECT_EQ(Dbl("-0.5"), -0.5);
  EXPECT_EQ(Dbl("+2"), 2.0);
  EXPECT_EQ(Dbl(".5"), 0.5);
  EXPECT_EQ(Dbl("1e3"), 1000.0);
  EXPECT_EQ(Dbl("2.5E-2"), 0.025);
  EXPECT_EQ(Dbl(" 7.0 "), 7.0);
}

TEST(ParseDoubleTest, RejectsInfNanAndGarbage) {
  for (std::string_view bad : {"", "inf", "nan", "NaN", "-inf", "infinity", "1.2.3", "1,5", "abc", "1e", ".", "-.",
                               "0x10", "1 000"}) {
    EXPECT_EQ(Dbl(bad), std::nullopt) << bad;
  }
}

TEST(ParseDoubleTest, DecimalComma) {
  EXPECT_EQ(Dbl("12,50", true), 12.5);
  EXPECT_EQ(Dbl("-0,25", true), -0.25);
  EXPECT_EQ(Dbl(",5", true), 0.5);
  EXPECT_EQ(Dbl("3", true), 3.0);
  EXPECT_EQ(Dbl("12.50", true), std::nullopt);
  EXPECT_EQ(Dbl("1.234,5", true, '.'), 1234.5);
  EXPECT_EQ(Dbl("1.234.567,89", true, '.'), 1234567.89);
  EXPECT_EQ(Dbl("12.34,5", true, '.'), std::nullopt);
}

TEST(ParseDoubleTest, ThousandsSeparatorWithDecimalPoint) {
  EXPECT_EQ(Dbl("1,234.5", false, ','), 1234.5);
  EXPECT_EQ(Dbl("1,234", false, ','), 1234.0);
  EXPECT_EQ(Dbl("1,23.4", false, ','), std::nullopt);
}

TEST(ParseBoolTest, AllSpellingsInAnyCase) {
  for (std::string_view t : {"true", "TRUE", "True", "yes", "Yes", "y", "Y", "t", "T", "1", " true "}) {
    EXPECT_EQ(Bool(t), true) << t;
  }
  for (std::string_view f : {"false", "FALSE", "no", "NO", "n", "N", "f", "F", "0"}) {
    EXPECT_EQ(Bool(f), false) << f;
  }
  for (std::string_view bad : {"", "2", "on", "off", "tru", "yess", "-1"}) EXPECT_EQ(Bool(bad), std::nullopt) << bad;
}

TEST(ParseDateTest, BuiltInStyles) {
  EXPECT_EQ(Date("2020-03-15", DateStyle::kIso), Days(2020, 3, 15));
  EXPECT_EQ(Date("2020-3-5", DateStyle::kIso), Days(2020, 3, 5));
  EXPECT_EQ(Date("3/15/2020", DateStyle::kMonthDayYear), Days(2020, 3, 15));
  EXPECT_EQ(Date("03/05/2020", DateStyle::kMonthDayYear), Days(2020, 3, 5));
  EXPECT_EQ(Date("15/3/2020", DateStyle::kDayMonthYear), Days(2020, 3, 15));
  EXPECT_EQ(Date("15.03.2020", DateStyle::kDayMonthYearDot), Days(2020, 3, 15));
  EXPECT_EQ(Date("20200315", DateStyle::kCompact), Days(2020, 3, 15));
  EXPECT_EQ(Date(" 1970-01-01 ", DateStyle::kIso), 0);
  EXPECT_EQ(Date("1969-12-31", DateStyle::kIso), -1);
}

TEST(ParseDateTest, AutoPicksTheStyleBySeparator) {
  EXPECT_EQ(Date("2020-03-15", DateStyle::kAuto), Days(2020, 3, 15));
  EXPECT_EQ(Date("3/15/2020", DateStyle::kAuto), Days(2020, 3, 15));
  EXPECT_EQ(Date("15.3.2020", DateStyle::kAuto), Days(2020, 3, 15));
  EXPECT_EQ(Date("20200315", DateStyle::kAuto), Days(2020, 3, 15));
  EXPECT_EQ(Date("15/3/2020", DateStyle::kAuto), std::nullopt);  // M/D/YYYY: no month 15
}

TEST(ParseDateTest, RejectsInvalidCalendarDates) {
  EXPECT_EQ(Date("2020-02-30", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("2019-02-29", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("2020-02-29", DateStyle::kIso), Days(2020, 2, 29));
  EXPECT_EQ(Date("1900-02-29", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("2000-02-29", DateStyle::kIso), Days(2000, 2, 29));
  EXPECT_EQ(Date("2020-13-01", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("2020-00-10", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("2020-04-31", DateStyle::kIso), std::nullopt);
  EXPECT_EQ(Date("31/02/2020", DateStyle::kDayMonthYear), std::nullopt);
  EXPECT_EQ(Date("20201301", DateStyle::kCompact), std::nullopt);
}

TEST(ParseDateTest, RejectsMalformedText) {
  for (std::string_view bad : {"", "2020", "2020-01", "2020-01-01x", "20-01-01", "2020/01/01", "2020-01-01 10:00",
                               "2020-001-01", "1/1/20"}) {
    EXPECT_EQ(Date(bad, DateStyle::kAuto), std::nullopt) << bad;
  }
  EXPECT_EQ(Date("202003150", DateStyle::kCompact), std::nullopt);
  EXPECT_EQ(Date("2020315", DateStyle::kCompact), std::nullopt);
}

TEST(ParseTimestampTest, Iso8601Variants) {
  EXPECT_EQ(Ts("2020-03-15 10:20"), Micros(2020, 3, 15, 10, 20));
  EXPECT_EQ(Ts("2020-03-15T10:20:30"), Micros(2020, 3, 15, 10, 20, 30));
  EXPECT_EQ(Ts("2020-03-15 10:20:30.5"), Micros(2020, 3, 15, 10, 20, 30, 500000));
  EXPECT_EQ(Ts("2020-03-15 10:20:30.123456"), Micros(2020, 3, 15, 10, 20, 30, 123456));
  EXPECT_EQ(Ts("2020-03-15 10:20:30.123456789"), Micros(2020, 3, 15, 10, 20, 30, 123456));
  EXPECT_EQ(Ts("2020-03-15T10:20:30Z"), Micros(2020, 3, 15, 10, 20, 30));
  EXPECT_EQ(Ts("2020-03-15 9:05"), Micros(2020, 3, 15, 9, 5));
}

TEST(ParseTimestampTest, OffsetsAreConvertedToUtc) {
  EXPECT_EQ(Ts("2020-03-15T10:20:30+02:00"), Micros(2020, 3, 15, 8, 20, 30));
  EXPECT_EQ(Ts("2020-03-15T10:20:30-0530"), Micros(2020, 3, 15, 15, 50, 30));
  EXPECT_EQ(Ts("2020-03-15 00:30+01"), Micros(2020, 3, 14, 23, 30));
  EXPECT_EQ(Ts("2020-03-15 10:20:30 +00:00"), Micros(2020, 3, 15, 10, 20, 30));
}

TEST(ParseTimestampTest, DateOnlyIsMidnightAndOtherDateStylesWork) {
  EXPECT_EQ(Ts("2020-03-15"), Micros(2020, 3, 15));
  EXPECT_EQ(Ts("3/15/2020 14:30", DateStyle::kMonthDayYear), Micros(2020, 3, 15, 14, 30));
  EXPECT_EQ(Ts("15.03.2020 14:30:01", DateStyle::kDayMonthYearDot), Micros(2020, 3, 15, 14, 30, 1));
  EXPECT_EQ(Ts("20200315", DateStyle::kCompact), Micros(2020, 3, 15));
}

TEST(ParseTimestampTest, RejectsInvalidTimes) {
  for (std::string_view bad : {"2020-03-15 24:00", "2020-03-15 10:60", "2020-03-15 10:20:61", "2020-03-15 10",
                               "2020-03-15T", "2020-03-15 10:20:30.", "2020-03-15 10:20+25:00",
                               "2020-02-30 10:00", "2020-03-15 10:20 PST", "2020-03-15x10:20"}) {
    EXPECT_EQ(Ts(bad), std::nullopt) << bad;
  }
}

TEST(DatePatternTest, NumericPatterns) {
  EXPECT_EQ(PatternDate("%d/%m/%Y", "15/03/2020"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%d/%m/%Y", "5/3/2020"), Days(2020, 3, 5));
  EXPECT_EQ(PatternDate("%m-%d-%Y", "03-15-2020"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%Y/%m/%d", "2020/03/15"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%d.%m.%y", "15.03.20"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%d.%m.%y", "15.03.75"), Days(1975, 3, 15));
  EXPECT_EQ(PatternDate("%Y%m%d", "20200315"), Days(2020, 3, 15));
}

TEST(DatePatternTest, RejectsMismatchesAndInvalidCalendarDates) {
  EXPECT_EQ(PatternDate("%d/%m/%Y", "31/02/2020"), std::nullopt);
  EXPECT_EQ(PatternDate("%d/%m/%Y", "2020-03-15"), std::nullopt);
  EXPECT_EQ(PatternDate("%d/%m/%Y", "15/03/2020 extra"), std::nullopt);
  EXPECT_EQ(PatternDate("%d/%m/%Y", "15/13/2020"), std::nullopt);
}

TEST(DatePatternTest, MonthNames) {
  EXPECT_EQ(PatternDate("%d %b %Y", "15 Mar 2020"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%d %b %Y", "15 march 2020"), Days(2020, 3, 15));
  EXPECT_EQ(PatternDate("%B %d, %Y", "September 1, 2021"), Days(2021, 9, 1));
  EXPECT_EQ(PatternDate("%d %b %Y", "15 Mrz 2020"), std::nullopt);
}

TEST(DatePatternTest, TimestampsWithTwelveHourClockFractionAndZone) {
  EXPECT_EQ(PatternTs("%m/%d/%Y %I:%M %p", "03/15/2020 2:05 PM"), Micros(2020, 3, 15, 14, 5));
  EXPECT_EQ(PatternTs("%m/%d/%Y %I:%M %p", "03/15/2020 12:05 am"), Micros(2020, 3, 15, 0, 5));
  EXPECT_EQ(PatternTs("%m/%d/%Y %I:%M %p", "03/15/2020 12:05 PM"), Micros(2020, 3, 15, 12, 5));
  EXPECT_EQ(PatternTs("%d.%m.%Y %H:%M:%S.%f", "15.03.2020 10:20:30.25"), Micros(2020, 3, 15, 10, 20, 30, 250000));
  EXPECT_EQ(PatternTs("%Y-%m-%d %H:%M%z", "2020-03-15 10:20+0100"), Micros(2020, 3, 15, 9, 20));
  EXPECT_EQ(PatternTs("%d/%m/%Y", "15/03/2020"), Micros(2020, 3, 15));
  EXPECT_EQ(PatternTs("%d/%m/%Y %H:%M", "15/03/2020 25:00"), std::nullopt);
  EXPECT_EQ(PatternTs("100%% %Y-%m-%d", "100% 2020-03-15"), Micros(2020, 3, 15));
}

TEST(DatePatternTest, CompileErrors) {
  for (std::string_view bad : {"%d/%m", "%Y-%m", "%Y-%q-%d", "%Y-%m-%d %", "%Y-%m-%d %I:%M", "%m/%d/%Y %p"}) {
    auto p = DatePattern::Compile(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
      EXPECT_THAT(p.status().message(), HasSubstr(std::string(bad)));
    }
  }
}

TEST(ParseDateFormatTest, NamesAndPatterns) {
  EXPECT_EQ(ParseDateFormat("auto")->date_style, DateStyle::kAuto);
  EXPECT_EQ(ParseDateFormat("")->date_style, DateStyle::kAuto);
  EXPECT_EQ(ParseDateFormat("ISO")->date_style, DateStyle::kIso);
  EXPECT_EQ(ParseDateFormat("M/D/YYYY")->date_style, DateStyle::kMonthDayYear);
  EXPECT_EQ(ParseDateFormat("dd/mm/yyyy")->date_style, DateStyle::kDayMonthYear);
  EXPECT_EQ(ParseDateFormat("D.M.YYYY")->date_style, DateStyle::kDayMonthYearDot);
  EXPECT_EQ(ParseDateFormat("YYYYMMDD")->date_style, DateStyle::kCompact);
  auto p = ParseDateFormat("%d/%m/%Y");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->date_style, DateStyle::kPattern);
  EXPECT_EQ(p->pattern, "%d/%m/%Y");
  EXPECT_EQ(ParseDateFormat("DD-MON-YY").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDateFormat("%Q").status().code(), StatusCode::kInvalidArgument);
}

TEST(ValueParserTest, UsesItsFormat) {
  ValueFormat f;
  f.date_style = DateStyle::kPattern;
  f.pattern = "%d/%m/%Y";
  auto p = ValueParser::Create(DataType::kDate, f);
  ASSERT_TRUE(p.ok());
  int32_t d;
  ASSERT_TRUE(p->ParseDate("15/03/2020", &d));
  EXPECT_EQ(d, Days(2020, 3, 15));
  EXPECT_FALSE(p->ParseDate("03/15/2020", &d));

  ValueFormat comma;
  comma.decimal_comma = true;
  auto pd = ValueParser::Create(DataType::kDouble, comma);
  ASSERT_TRUE(pd.ok());
  double v;
  ASSERT_TRUE(pd->ParseDouble("2,5", &v));
  EXPECT_EQ(v, 2.5);

  ValueFormat bad;
  bad.date_style = DateStyle::kPattern;
  bad.pattern = "%d/%m";
  EXPECT_EQ(ValueParser::Create(DataType::kDate, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(ValueParserTest, FailureReasonsNameValueTypeAndFormat) {
  ValueFormat mdy;
  mdy.date_style = DateStyle::kMonthDayYear;
  EXPECT_EQ(ValueParser::Create(DataType::kDate, mdy)->FailureReason("2/31/2020"),
            "'2/31/2020' is not a valid date (M/D/YYYY): February 2020 has 29 days");
  EXPECT_EQ(ValueParser::Create(DataType::kDate, mdy)->FailureReason("13/1/2020"),
            "'13/1/2020' is not a valid date (M/D/YYYY): month 13 does not exist");
  EXPECT_EQ(ValueParser::Create(DataType::kDate, mdy)->FailureReason("yesterday"),
            "'yesterday' is not a valid date (M/D/YYYY)");
  ValueFormat pattern;
  pattern.date_style = DateStyle::kPattern;
  pattern.pattern = "%d/%m/%Y";
  EXPECT_EQ(ValueParser::Create(DataType::kDate, pattern)->FailureReason("31/02/2020"),
            "'31/02/2020' is not a valid date (%d/%m/%Y)");
  EXPECT_EQ(ValueParser::Create(DataType::kInt64, {})->FailureReason("12x"), "'12x' is not a valid int64");
  EXPECT_EQ(ValueParser::Create(DataType::kInt64, {})->FailureReason("99999999999999999999"),
            "'99999999999999999999' is out of range for int64");
  EXPECT_EQ(ValueParser::Create(DataType::kDouble, {})->FailureReason("1,5"), "'1,5' is not a valid double");
  EXPECT_THAT(ValueParser::Create(DataType::kBool, {})->FailureReason("maybe"),
              HasSubstr("'maybe' is not a valid bool"));
  EXPECT_EQ(ValueParser::Create(DataType::kTimestamp, {})->FailureReason("2020-01-01 10"),
            "'2020-01-01 10' is not a valid timestamp (YYYY-MM-DD)");
  EXPECT_EQ(ValueParser::Create(DataType::kTimestamp, {})->FailureReason("2020-01-01 23:61"),
            "'2020-01-01 23:61' is not a valid timestamp (YYYY-MM-DD): time of day out of range");
  const std::string long_value(200, 'z');
  EXPECT_LT(ValueParser::Create(DataType::kInt64, {})->FailureReason(long_value).size(), 100u);
}

// ---------------------------------------------------------------- fast paths
// The inline fast paths of ValueParser must give exactly the full parsers'
// results: on many generated valid and near-valid inputs, a fast path that
// takes a value agrees with the full parser bit for bit, and ValueParser
// agrees with the full parser in accept/reject and value.

class FastPathInputs {
 public:
  explicit FastPathInputs(uint64_t seed) : rng_(seed) {}

  std::string Digits(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + Below(10));
    return s;
  }
  std::string Number() {
    std::string s;
    const int sign = Below(6);
    if (sign == 0) s += '-';
    if (sign == 1) s += '+';
    if (Below(8) == 0) s += '0';  // leading zero
    s += Digits(Below(4) == 0 ? 14 + Below(7) : Below(9));  // 16-19 digit numbers too
    if (Below(2) == 0) {
      s += '.';
      s += Digits(Below(5) == 0 ? 10 + Below(14) : Below(6));  // long mantissas too
    }
    if (Below(10) == 0) {
      s += Below(2) ? 'e' : 'E';
      if (Below(2)) s += Below(2) ? '-' : '+';
      s += Digits(Below(4));
    }
    return Mutate(s, "0123456789+-.eE ,x");
  }
  // Digits around 2^53 (the fast path's mantissa limit) with a decimal point.
  std::string NearTwoPow53() {
    std::string s = std::to_string((uint64_t{1} << 53) - 8 + Below(16));
    s.insert(s.size() - static_cast<size_t>(Below(static_cast<int>(s.size()))), ".");
    if (s[0] == '.') s.insert(s.begin(), '0');
    return s;
  }
  std::string Int64Edge() {
    static const char* kEdges[] = {"9223372036854775807", "9223372036854775808", "-9223372036854775808",
                                   "-9223372036854775809", "999999999999999999", "1000000000000000000",
                                   "-999999999999999999", "+999999999999999999", "000000000000000000001"};
    return kEdges[Below(static_cast<int>(std::size(kEdges)))];
  }
  std::string Date() {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", Below(4) == 0 ? Below(10000) : 1900 + Below(200),
                  Below(14), Below(33));
    return buf;
  }
  std::string Timestamp() {
    static const char kSeparators[] = {' ', ' ', 'T', 't', '_'};
    std::string s = Date();
    s += kSeparators[Below(5)];
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", Below(26), Below(61), Below(62));
    s += buf;
    switch (Below(12)) {
      case 0: s += ".5"; break;
      case 1: s += "Z"; break;
      case 2: s += " +01:00"; break;
      case 3: s.resize(s.size() - 3); break;  // no seconds
      default: break;
    }
    return s;
  }
  std::string Bool() {
    static const char* kWords[] = {"true", "false", "True", "FALSE", "yes", "no", "t", "f", "1", "0", "tru", "falsey"};
    return Mutate(kWords[Below(static_cast<int>(std::size(kWords)))], "tTrRuUeEfFaAlLsS01 ");
  }
  // Sometimes replaces, inserts or deletes a character, or adds whitespace.
  std::string Mutate(std::string s, std::string_view alphabet) {
    switch (Below(8)) {
      case 0:
        if (!s.empty()) s[Below(static_cast<int>(s.size()))] = alphabet[Below(static_cast<int>(alphabet.size()))];
        break;
      case 1: s.insert(Below(static_cast<int>(s.size()) + 1), 1, alphabet[Below(static_cast<int>(alphabet.size()))]); break;
      case 2:
        if (!s.empty()) s.erase(Below(static_cast<int>(s.size())), 1);
        break;
      case 3: s = (Below(2) ? " " : "") + s + (Below(2) ? "\t" : " "); break;
      default: break;
    }
    return s;
  }
  std::string DateLike() { return Mutate(Date(), "0123456789-/T: ."); }
  std::string TimestampLike() { return Mutate(Timestamp(), "0123456789-/T: .Z"); }

 private:
  int Below(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::mt19937_64 rng_;
};

constexpr int kFastPathCases = 60000;

TEST(ValueParserFastPathTest, Int64MatchesFullParser) {
  FastPathInputs gen(1);
  const ValueParser plain = *ValueParser::Create(DataType::kInt64, {});
  ValueFormat grouped;
  grouped.thousands_separator = ',';
  const ValueParser with_separator = *ValueParser::Create(DataType::kInt64, grouped);
  int fast = 0;
  for (int i = 0; i < kFastPathCases; ++i) {
    const std::string t = i % 10 == 0 ? gen.Int64Edge() : gen.Number();
    int64_t full = 0, got = 0;
    const bool full_ok = ParseInt64(t, &full);
    if (ParseInteger(t, &got)) {
      ++fast;
      ASSERT_TRUE(full_ok) << t;
      ASSERT_EQ(got, full) << t;
    }
    ASSERT_EQ(plain.ParseInt64(t, &got), full_ok) << t;
    if (full_ok) ASSERT_EQ(got, full) << t;
    const bool grouped_ok = ParseInt64(t, &full, ',');
    ASSERT_EQ(with_separator.ParseInt64(t, &got), grouped_ok) << t;
    if (grouped_ok) ASSERT_EQ(got, full) << t;
  }
  EXPECT_GT(fast, kFastPathCases / 10);
}

TEST(ValueParserFastPathTest, DoubleMatchesFullParserBitForBit) {
  FastPathInputs gen(2);
  const ValueParser plain = *ValueParser::Create(DataType::kDouble, {});
  ValueFormat comma;
  comma.decimal_comma = true;
  const ValueParser with_comma = *ValueParser::Create(DataType::kDouble, comma);
  int fast = 0;
  for (int i = 0; i < kFastPathCases; ++i) {
    const std::string t = i % 8 == 0 ? gen.NearTwoPow53() : gen.Number();
    double full = 0, got = 0;
    const bool full_ok = ParseDouble(t, &full);
    if (value_parser_internal::ParseDoubleFast(t, &got)) {
      ++fast;
      ASSERT_TRUE(full_ok) << t;
      ASSERT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(full)) << t;
    }
    ASSERT_EQ(plain.ParseDouble(t, &got), full_ok) << t;
    if (full_ok) ASSERT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(full)) << t;
    const bool comma_ok = ParseDouble(t, &full, true);
    ASSERT_EQ(with_comma.ParseDouble(t, &got), comma_ok) << t;
    if (comma_ok) ASSERT_EQ(std::bit_cast<uint64_t>(got), std::bit_cast<uint64_t>(full)) << t;
  }
  EXPECT_GT(fast, kFastPathCases / 10);
}

TEST(ValueParserFastPathTest, BoolMatchesFullParser) {
  FastPathInputs gen(3);
  const ValueParser plain = *ValueParser::Create(DataType::kBool, {});
  int fast = 0;
  for (int i = 0; i < kFastPathCases / 4; ++i) {
    const std::string t = gen.Bool();
    bool full = false, got = false;
    const bool full_ok = ParseBool(t, &full);
    if (value_parser_internal::ParseBoolFast(t, &got)) {
      ++fast;
      ASSERT_TRUE(full_ok) << t;
      ASSERT_EQ(got, full) << t;
    }
    ASSERT_EQ(plain.ParseBool(t, &got), full_ok) << t;
    if (full_ok) ASSERT_EQ(got, full) << t;
  }
  EXPECT_GT(fast, kFastPathCases / 4 / 20);
}

TEST(ValueParserFastPathTest, DatesMatchFullParserInEveryStyle) {
  FastPathInputs gen(4);
  int fast = 0;
  std::vector<std::string> inputs;
  for (int i = 0; i < kFastPathCases; ++i) inputs.push_back(i % 2 ? gen.Date() : gen.DateLike());
  for (const std::string& t : inputs) {
    int32_t got = 0;
    if (ParseIsoDate(t, &got)) {
      ++fast;
      for (DateStyle style : {DateStyle::kAuto, DateStyle::kIso}) {
        int32_t full = 0;
        ASSERT_TRUE(ParseDate(t, style, &full)) << t;
        ASSERT_EQ(got, full) << t;
      }
    }
  }
  EXPECT_GT(fast, kFastPathCases / 10);
  for (DateStyle style : {DateStyle::kAuto, DateStyle::kIso, DateStyle::kMonthDayYear, DateStyle::kCompact}) {
    ValueFormat f;
    f.date_style = style;
    const ValueParser parser = *ValueParser::Create(DataType::kDate, f);
    for (size_t i = 0; i < inputs.size(); i += style == DateStyle::kAuto || style == DateStyle::kIso ? 1 : 4) {
      const std::string& t = inputs[i];
      int32_t full = 0, got = 0;
      const bool full_ok = ParseDate(t, style, &full);
      ASSERT_EQ(parser.ParseDate(t, &got), full_ok) << t;
      if (full_ok) ASSERT_EQ(got, full) << t;
    }
  }
}

TEST(ValueParserFastPathTest, TimestampsMatchFullParserInEveryStyle) {
  FastPathInputs gen(5);
  int fast = 0;
  std::vector<std::string> inputs;
  for (int i = 0; i < kFastPathCases; ++i) inputs.push_back(i % 2 ? gen.Timestamp() : gen.TimestampLike());
  for (const std::string& t : inputs) {
    int64_t got = 0;
    if (value_parser_internal::ParseIsoTimestampFast(t, &got)) {
      ++fast;
      for (DateStyle style : {DateStyle::kAuto, DateStyle::kIso}) {
        int64_t full = 0;
        ASSERT_TRUE(ParseTimestamp(t, style, &full)) << t;
        ASSERT_EQ(got, full) << t;
      }
    }
  }
  EXPECT_GT(fast, kFastPathCases / 10);
  for (DateStyle style : {DateStyle::kAuto, DateStyle::kIso, DateStyle::kDayMonthYear}) {
    ValueFormat f;
    f.date_style = style;
    const ValueParser parser = *ValueParser::Create(DataType::kTimestamp, f);
    for (size_t i = 0; i < inputs.size(); i += style == DateStyle::kDayMonthYear ? 4 : 1) {
      const std::string& t = inputs[i];
      int64_t full = 0, got = 0;
      const bool full_ok = ParseTimestamp(t, style, &full);
      ASSERT_EQ(parser.ParseTimestamp(t, &got), full_ok) << t;
      if (full_ok) ASSERT_EQ(got, full) << t;
    }
  }
}

TEST(ValueParserFastPathTest, EdgeCasesTakeTheFullParsersAnswer) {
  const ValueParser date = *ValueParser::Create(DataType::kDate, {});
  const ValueParser ts = *ValueParser::Create(DataType::kTimestamp, {});
  const ValueParser dbl = *ValueParser::Create(DataType::kDouble, {});
  int32_t d;
  int64_t us;
  double v;
  EXPECT_FALSE(date.ParseDate("2019-02-29", &d));
  EXPECT_TRUE(date.ParseDate("2020-02-29", &d));
  EXPECT_EQ(d, Days(2020, 2, 29));
  EXPECT_FALSE(date.ParseDate("2100-02-29", &d));
  EXPECT_TRUE(date.ParseDate("2000-02-29", &d));
  EXPECT_FALSE(date.ParseDate("2019-04-31", &d));
  EXPECT_TRUE(date.ParseDate("0000-01-01", &d));
  EXPECT_EQ(d, Days(0, 1, 1));
  EXPECT_FALSE(ts.ParseTimestamp("2019-05-17 24:00:00", &us));
  EXPECT_FALSE(ts.ParseTimestamp("2019-05-17 23:60:00", &us));
  EXPECT_TRUE(ts.ParseTimestamp("2019-05-17t13:04:59", &us));
  EXPECT_EQ(us, Micros(2019, 5, 17, 13, 4, 59));
  EXPECT_TRUE(dbl.ParseDouble("-0.0", &v));
  EXPECT_TRUE(std::signbit(v));
  EXPECT_TRUE(dbl.ParseDouble("9007199254740993.5", &v));  // more than 2^53: full parser
  EXPECT_EQ(v, 9007199254740994.0);
  EXPECT_TRUE(dbl.ParseDouble("0.1", &v));
  EXPECT_EQ(v, 0.1);
}

}  // namespace
}  // namespace cdp
