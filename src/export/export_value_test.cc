#include "export/export_value.h"

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "common/datetime.h"

namespace cdp {
namespace {

double Parse(const std::string& s) {
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  EXPECT_EQ(r.ec, std::errc()) << s;
  EXPECT_EQ(r.ptr, s.data() + s.size()) << s;
  return d;
}

size_t SignificantDigitsOf(const std::string& s) {
  std::string digits;
  for (char c : s.substr(0, s.find_first_of("eE"))) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  return digits.find_last_not_of('0') - first + 1;
}

uint64_t Ulps(double a, double b) {
  int64_t ia = std::bit_cast<int64_t>(a), ib = std::bit_cast<int64_t>(b);
  return ia > ib ? static_cast<uint64_t>(ia - ib) : static_cast<uint64_t>(ib - ia);
}

TEST(ExportValueTest, SumsOfAmountsAreWrittenAsTheirDecimal) {
  // The example: a LifetimeSpend summed from two purchases.
  double sum = 100.1;
  sum += 337.56;
  ASSERT_NE(sum, 437.66);  // the double arithmetic really produced noise
  EXPECT_EQ(FormatExportDouble(sum), "437.66");
  EXPECT_EQ(FormatExportDouble(437.66), "437.66");
  EXPECT_EQ(FormatExportDouble(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatExportDouble(419.48 + 971.23 + 1013.48), "2404.19");
}

TEST(ExportValueTest, NumbersAreShortestAndIntegersHaveNoFraction) {
  EXPECT_EQ(FormatExportDouble(3.0), "3");
  EXPECT_EQ(FormatExportDouble(-12.0), "-12");
  EXPECT_EQ(FormatExportDouble(0.0), "0");
  EXPECT_EQ(FormatExportDouble(-0.0), "0");
  EXPECT_EQ(FormatExportDouble(0.1), "0.1");
  EXPECT_EQ(FormatExportDouble(1e21), "1e+21");
  EXPECT_EQ(FormatExportDouble(1.5e-7), "1.5e-07");
  // A quotient keeps all its digits: no decimal of 12 digits is that close.
  EXPECT_EQ(FormatExportDouble(419.48 / 3), "139.82666666666668");
  EXPECT_EQ(FormatExportDouble(2.0 / 3), "0.6666666666666666");
  EXPECT_EQ(FormatExportDouble(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(FormatExportDouble(std::numeric_limits<double>::denorm_min()), "5e-324");
}

TEST(ExportValueTest, NonFiniteNumbersAreNull) {
  EXPECT_EQ(FormatExportDouble(std::nan("")), std::nullopt);
  EXPECT_EQ(FormatExportDouble(std::numeric_limits<double>::infinity()), std::nullopt);
  EXPECT_EQ(FormatExportDouble(-std::numeric_limits<double>::infinity()), std::nullopt);
}

// Property: for any finite double, the text reads back to the same double,
// or it is a decimal of at most 12 significant digits within 16 ulps of it.
TEST(ExportValueTest, RandomDoublesRoundTrip) {
  std::mt19937_64 rng(17);
  int snapped = 0;
  for (int i = 0; i < 200000; ++i) {
    double v;
    do {
      v = std::bit_cast<double>(rng());
    } while (!std::isfinite(v));
    if (i % 2) v = std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng), static_cast<int>(rng() % 80) - 40);
    auto text = FormatExportDouble(v);
    ASSERT_TRUE(text.has_value()) << v;
    double back = Parse(*text);
    if (v == 0) {
      EXPECT_EQ(back, 0.0);
      continue;
    }
    if (back != v) {
      ++snapped;
      EXPECT_LE(SignificantDigitsOf(*text), 12u) << *text;
      EXPECT_LE(Ulps(back, v), 16u) << *text;
    }
    // Formatting what was read back gives the same text: stable across hops.
    EXPECT_EQ(FormatExportDouble(back), text);
  }
  // About 0.15% of random doubles lie that close to a 12-digit decimal (e.g.
  // 300224221.13600016, written 300224221.136, 3.6e-16 relative away).
  EXPECT_LT(snapped, 1000);
}

// Property: a decimal of up to 15 significant digits reads into a double that
// is written back as the same decimal (in to_chars' notation).
TEST(ExportValueTest, ShortDecimalsSurviveParseAndFormat) {
  std::mt19937_64 rng(4180);
  for (int i = 0; i < 100000; ++i) {
    int digits = 1 + static_cast<int>(rng() % 15);
    int64_t mantissa = static_cast<int64_t>(rng() % static_cast<uint64_t>(std::pow(10, digits)));
    int exponent = static_cast<int>(rng() % 30) - 20;
    std::string text = std::to_string(mantissa) + "e" + std::to_string(exponent);
    double v = Parse(text);
    auto out = FormatExportDouble(v);
    ASSERT_TRUE(out);
    EXPECT_EQ(Parse(*out), v) << text << " -> " << *out;
    std::string canonical(64, '\0');
    auto r = std::to_chars(canonical.data(), canonical.data() + canonical.size(), v);
    canonical.resize(static_cast<size_t>(r.ptr - canonical.data()));
    if (v == 0) canonical = "0";
    EXPECT_EQ(*out, canonical);
  }
}

// Property: sums of amounts in cents are written as the exact decimal sum.
TEST(ExportValueTest, RandomSumsOfCentsAreWrittenExactly) {
  std::mt19937_64 rng(437);
  for (int i = 0; i < 50000; ++i) {
    int n = 1 + static_cast<int>(rng() % 20);
    int64_t cents = 0;
    double sum = 0;
    for (int k = 0; k < n; ++k) {
      int64_t c = static_cast<int64_t>(rng() % 100000);  // up to 999.99
      cents += c;
      sum += static_cast<double>(c) / 100.0;
    }
    char expected[64];
    std::snprintf(expected, sizeof expected, "%lld.%02lld", static_cast<long long>(cents / 100),
                  static_cast<long long>(cents % 100));
    std::string want = expected;
    while (want.back() == '0') want.pop_back();
    if (want.back() == '.') want.pop_back();
    EXPECT_EQ(FormatExportDouble(sum), want) << n << " terms";
  }
}

TEST(ExportValueTest, ColumnValuesOfEveryType) {
  Column i(DataType::kInt64), d(DataType::kDouble), b(DataType::kBool), dt(DataType::kDate),
      ts(DataType::kTimestamp), s(DataType::kString);
  i.AppendInt64(-42);
  i.AppendNull();
  d.AppendDouble(437.66);
  d.AppendDouble(std::nan(""));
  b.AppendBool(true);
  b.AppendBool(false);
  dt.AppendDate(DaysFromCivil(2024, 2, 29));
  dt.AppendNull();
  ts.AppendTimestamp(int64_t{1700000000} * kMicrosPerSecond);
  ts.AppendTimestamp(int64_t{1700000000} * kMicrosPerSecond + 1500);
  s.AppendString("Zoë, \"the\" barista");
  s.AppendString("");
  EXPECT_EQ(FormatExportValue(i, 0), "-42");
  EXPECT_EQ(FormatExportValue(i, 1), std::nullopt);
  EXPECT_EQ(FormatExportValue(d, 0), "437.66");
  EXPECT_EQ(FormatExportValue(d, 1), std::nullopt);
  EXPECT_EQ(FormatExportValue(b, 0), "true");
  EXPECT_EQ(FormatExportValue(b, 1), "false");
  EXPECT_EQ(FormatExportValue(dt, 0), "2024-02-29");
  EXPECT_EQ(FormatExportValue(dt, 1), std::nullopt);
  EXPECT_EQ(FormatExportValue(ts, 0), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatExportValue(ts, 1), "2023-11-14T22:13:20.001500Z");
  EXPECT_EQ(FormatExportValue(s, 0), "Zoë, \"the\" barista");
  EXPECT_EQ(FormatExportValue(s, 1), "");
}

TEST(ExportValueTest, CsvQuotingFollowsRfc4180) {
  std::string out;
  AppendCsvRecord(&out, {std::string("plain"), std::string("a,b"), std::string("say \"hi\""),
                         std::string("two\nlines"), std::string("cr\r"), std::nullopt, std::string(""),
                         std::string(" padded"), std::string("Zoë ☕")});
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",,\"\",\" padded\",Zoë ☕\n");
  out.clear();
  AppendCsvHeader(&out, {{"Customer Id", DataType::kInt64}, {"Name,Full", DataType::kString}});
  EXPECT_EQ(out, "Customer Id,\"Name,Full\"\n");
}

TEST(ExportValueTest, JsonRecordsTypeTheirValuesAndEscapeStrings) {
  std::vector<ExportField> fields = {{"id", DataType::kInt64},   {"spend", DataType::kDouble},
                                     {"vip", DataType::kBool},   {"born", DataType::kDate},
                                     {"name", DataType::kString}, {"odd", DataType::kDouble},
                                     {"gone", DataType::kString}};
  std::string out;
  AppendJsonRecord(&out, fields,
                   {std::string("7"), std::string("437.66"), std::string("true"), std::string("1990-01-02"),
                    std::string("Zoë \"Z\"\n\\\x01"), std::string("1,5"), std::nullopt});
  ASSERT_EQ(out.back(), '\n');
  EXPECT_EQ(out,
            "{\"id\":7,\"spend\":437.66,\"vip\":true,\"born\":\"1990-01-02\",\"name\":\"Zoë \\\"Z\\\"\\n\\\\\\u0001\","
            "\"odd\":\"1,5\",\"gone\":null}\n");
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["spend"].get<double>(), 437.66);
  EXPECT_EQ(j["name"].get<std::string>(), "Zoë \"Z\"\n\\\x01");
  EXPECT_TRUE(j["gone"].is_null());
}

TEST(ExportValueTest, JsonNumbersAreOnlyValidJsonNumbers) {
  auto value = [](DataType t, const char* text) {
    std::string out;
    AppendJsonExportValue(&out, t, std::string(text));
    return out;
  };
  EXPECT_EQ(value(DataType::kDouble, "1e+21"), "1e+21");
  EXPECT_EQ(value(DataType::kDouble, "-0.5"), "-0.5");
  EXPECT_EQ(value(DataType::kDouble, ".5"), "\".5\"");
  EXPECT_EQ(value(DataType::kDouble, "01"), "\"01\"");
  EXPECT_EQ(value(DataType::kDouble, "1."), "\"1.\"");
  EXPECT_EQ(value(DataType::kInt64, "+1"), "\"+1\"");
  EXPECT_EQ(value(DataType::kBool, "yes"), "\"yes\"");
  EXPECT_EQ(value(DataType::kTimestamp, "2024-01-01T00:00:00Z"), "\"2024-01-01T00:00:00Z\"");
}

}  // namespace
}  // namespace cdp
