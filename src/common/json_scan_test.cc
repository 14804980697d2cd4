#include "common/json_scan.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

TEST(JsonScanTest, AcceptsOrdinaryJsonAndLeavesSyntaxToTheParser) {
  EXPECT_TRUE(ScanJson(R"({"a": [1, {"b": "x]}"}], "c": {"a": 1}})").ok());
  EXPECT_TRUE(ScanJson("[1, 2").ok());      // unbalanced: the parser's job
  EXPECT_TRUE(ScanJson("]]]]}}").ok());
  EXPECT_TRUE(ScanJson("").ok());
  // Same key in different objects, and in objects of an array.
  EXPECT_TRUE(ScanJson(R"([{"a": 1}, {"a": 2}, {"a": {"a": 3}}])").ok());
}

TEST(JsonScanTest, RefusesNestingDeeperThanTheLimitWithoutRecursion) {
  for (char open : {'[', '{'}) {
    std::string deep(100000, open);
    if (open == '{') {
      deep.clear();
      for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
    }
    Status s = ScanJson(deep);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(), "line 1: nested deeper than 64 levels (the limit)");
    EXPECT_TRUE(JsonNestsDeeperThan(deep, 64));
  }
  std::string at_limit = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(ScanJson(at_limit).ok());
  EXPECT_FALSE(JsonNestsDeeperThan(at_limit, 64));
  EXPECT_TRUE(JsonNestsDeeperThan(at_limit, 63));
  EXPECT_EQ(ScanJson("{\n\"a\": [[[1]]]}", {.max_depth = 3}).message(), "line 2: nested deeper than 3 levels (the limit)");
}

TEST(JsonScanTest, BracketsInsideStringsDoNotCount) {
  std::string s = "{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  EXPECT_TRUE(ScanJson(s).ok());
  EXPECT_FALSE(JsonNestsDeeperThan(s, 2));
  // Many brackets side by side are not deep.
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += "[],";
  wide += "[]]";
  EXPECT_FALSE(JsonNestsDeeperThan(wide, 2));
  EXPECT_TRUE(ScanJson(wide, {.max_depth = 2}).ok());
}

TEST(JsonScanTest, RefusesDuplicateKeysNamingKeyPathAndLines) {
  Status s = ScanJson("{\"name\": \"a\",\n \"rules\": [{\"entity\": \"C\"}, {\"op\": 1,\n \"op\": 2}]}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "line 3: rules[1]: key 'op' appears twice (first on line 2)");
  s = ScanJson("{\"name\": 1, \"n\\u0061me\": 2}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "line 1: key 'name' appears twice (first on line 1)");
  // A string value equal to a key is not a key.
  EXPECT_TRUE(ScanJson(R"({"a": "a", "b": ["a", "a"]})").ok());
  EXPECT_TRUE(ScanJson(R"({"a": 1, "a": 2})", {.refuse_duplicate_keys = false}).ok());
  // Surrogate pairs are decoded: U+1F600 written two ways is one key.
  EXPECT_FALSE(ScanJson("{\"\\ud83d\\ude00\": 1, \"\xF0\x9F\x98\x80\": 2}").ok());
}

TEST(JsonScanTest, RefusesNulCharactersWhenAsked) {
  const JsonScanOptions refuse{.refuse_nul_characters = true};
  EXPECT_TRUE(ScanJson(R"({"name": "a\u0000b"})").ok());
  Status s = ScanJson("{\"name\": \"A\",\n \"rules\": [{\"entity\": \"Cust\\u0000omer\"}]}", refuse);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "line 2: rules[0].entity: text contains a NUL character (\\u0000)");
  EXPECT_EQ(ScanJson(R"(["x", "\u0000"])", refuse).message(), "line 1: [1]: text contains a NUL character (\\u0000)");
  // An escaped backslash followed by u0000 is text, not a NUL.
  EXPECT_TRUE(ScanJson(R"({"a": "\\u0000"})", refuse).ok());
}

}  // namespace
}  // namespace cdp
