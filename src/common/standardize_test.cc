#include "common/standardize.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>


namespace cdp {
namespace {


std::string Std(Standardizer s, std::string_view v) {
  auto out = Standardize(s, v);
  return out ? std::string(*out) : "<unknown>";
}

TEST(StandardizeTest, TablesHaveNoClashingOrUnreadableSpellings) {
  std::vector<std::string> clashes = StandardizerTableClashes();
  EXPECT_TRUE(clashes.empty()) << ::testing::PrintToString(clashes);
}

TEST(StandardizeTest, NamesParseAndUnknownNamesDoNot) {
  for (std::string name : {"state_code", "state_name", "country_code", "country_name", "gender"}) {
    auto s = ParseStandardizer(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(StandardizerName(*s), name);
  }
  EXPECT_FALSE(ParseStandardizer("State_Code"));
  EXPECT_FALSE(ParseStandardizer("zip"));
  EXPECT_FALSE(ParseStandardizer(""));
  EXPECT_EQ(StandardizerNameList(), "state_code, state_name, country_code, country_name, gender");
}

TEST(StandardizeTest, StatesAndProvincesBecomeTheirCodeOrName) {
  for (std::string v : {"California", "CA", "ca", " california ", "CALIFORNIA", "Calif.", "Cal", "Cali"}) {
    EXPECT_EQ(Std(Standardizer::kStateCode, v), "CA") << v;
    EXPECT_EQ(Std(Standardizer::kStateName, v), "California") << v;
  }
  EXPECT_EQ(Std(Standardizer::kStateCode, "N.Y."), "NY");
  EXPECT_EQ(Std(Standardizer::kStateCode, "new  york"), "NY");
  EXPECT_EQ(Std(Standardizer::kStateCode, "District of Columbia"), "DC");
  EXPECT_EQ(Std(Standardizer::kStateCode, "Wash. D.C."), "DC");
  EXPECT_EQ(Std(Standardizer::kStateCode, "Washington"), "WA");
  EXPECT_EQ(Std(Standardizer::kStateCode, "W. Va."), "WV");
  EXPECT_EQ(Std(Standardizer::kStateCode, "Penna"), "PA");
  EXPECT_EQ(Std(Standardizer::kStateCode, "Québec"), "QC");
  EXPECT_EQ(Std(Standardizer::kStateCode, "QUÉBEC"), "QC");
  EXPECT_EQ(Std(Standardizer::kStateCode, "PQ"), "QC");
  EXPECT_EQ(Std(Standardizer::kStateName, "qc"), "Quebec");
  EXPECT_EQ(Std(Standardizer::kStateName, "Newfoundland & Labrador"), "Newfoundland and Labrador");
  EXPECT_EQ(Std(Standardizer::kStateName, "Nouvelle-Écosse"), "Nova Scotia");
  EXPECT_EQ(Std(Standardizer::kStateName, "B.C."), "British Columbia");
  EXPECT_EQ(Std(Standardizer::kStateName, "pr"), "Puerto Rico");
  // Unknown values are reported as unknown, never guessed.
  EXPECT_EQ(Std(Standardizer::kStateCode, "Bavaria"), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kStateCode, "C A"), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kStateCode, ""), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kStateCode, "Californ1a"), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kNone, "CA"), "<unknown>");
}

TEST(StandardizeTest, EveryStateCodeAndNameRoundTrips) {
  const std::vector<std::string> codes = {
      "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
      "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
      "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP",
      "PR", "VI", "UM", "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"};
  for (const std::string& code : codes) {
    std::string name = Std(Standardizer::kStateName, code);
    ASSERT_NE(name, "<unknown>") << code;
    EXPECT_EQ(Std(Standardizer::kStateCode, name), code) << name;
    EXPECT_EQ(Std(Standardizer::kStateCode, code), code);
  }
}

TEST(StandardizeTest, CountriesBecomeIsoAlpha2OrAShortEnglishName) {
  for (std::string v : {"United States", "USA", "U.S.A.", "us", "United States of America", "America"}) {
    EXPECT_EQ(Std(Standardizer::kCountryCode, v), "US") << v;
    EXPECT_EQ(Std(Standardizer::kCountryName, v), "United States") << v;
  }
  EXPECT_EQ(Std(Standardizer::kCountryCode, "DEU"), "DE");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Deutschland"), "DE");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "the Netherlands"), "NL");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Holland"), "NL");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "UK"), "GB");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "England"), "GB");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Korea, Republic of"), "KR");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Côte d’Ivoire"), "CI");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Cote d'Ivoire"), "CI");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "ivory coast"), "CI");
  EXPECT_EQ(Std(Standardizer::kCountryName, "GBR"), "United Kingdom");
  EXPECT_EQ(Std(Standardizer::kCountryName, "kor"), "South Korea");
  EXPECT_EQ(Std(Standardizer::kCountryName, "Türkiye"), "Turkey");
  EXPECT_EQ(Std(Standardizer::kCountryName, "Antigua & Barbuda"), "Antigua and Barbuda");
  EXPECT_EQ(Std(Standardizer::kCountryName, "Burma"), "Myanmar");
  EXPECT_EQ(Std(Standardizer::kCountryCode, "Atlantis"), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kCountryCode, std::string(100, 'a')), "<unknown>");
}

TEST(StandardizeTest, GendersBecomeFemaleMaleOtherOrUnknown) {
  for (std::string v : {"F", "f", "Female", "FEMALE", "woman", "W", "weiblich", "Femme"}) {
    EXPECT_EQ(Std(Standardizer::kGender, v), "Female") << v;
  }
  for (std::string v : {"M", "male", "Man", "männlich", "Hombre"}) EXPECT_EQ(Std(Standardizer::kGender, v), "Male") << v;
  for (std::string v : {"X", "Non-binary", "nonbinary", "non binary", "diverse"}) {
    EXPECT_EQ(Std(Standardizer::kGender, v), "Other") << v;
  }
  for (std::string v : {"U", "unknown", "N/A", "prefer not to say"}) EXPECT_EQ(Std(Standardizer::kGender, v), "Unknown") << v;
  EXPECT_EQ(Std(Standardizer::kGender, "1"), "<unknown>");
  EXPECT_EQ(Std(Standardizer::kGender, "Mr"), "<unknown>");
}

}  // namespace
}  // namespace cdp
