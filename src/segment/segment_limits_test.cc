// Limits of segment definitions: depth, size, duplicate keys, YAML alias bombs,
// NUL bytes. Each was a crash, runaway memory or silent loss before.
#include <gtest/gtest.h>

#include <string>

#include "segment/segment_definition.h"

namespace cdp {
namespace {

std::string ErrorOf(const StatusOr<SegmentDefinition>& d) {
  EXPECT_FALSE(d.ok());
  if (d.ok()) return "";
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  return d.status().message();
}

TEST(SegmentLimits, JsonNestedDeeperThanTheLimitIsRefusedNamingIt) {
  const int n = 100000;
  EXPECT_EQ(ErrorOf(ParseSegmentJson(std::string(n, '[') + std::string(n, ']'))),
            "segment JSON: line 1: nested deeper than 48 levels (the limit)");
  std::string objects = "{\"name\": \"S\",\n \"rules\": ";
  for (int i = 0; i < n; ++i) objects += "{\"a\":";
  objects += "1" + std::string(n, '}') + "}";
  EXPECT_EQ(ErrorOf(ParseSegmentJson(objects)), "segment JSON: line 2: nested deeper than 48 levels (the limit)");
  // A quote inside a string does not hide brackets from the limit (the old
  // pre-scan also took ' as a quote).
  std::string quoted = "{\"name\": \"O'Brien\", \"rules\": " + std::string(n, '[') + std::string(n, ']') + "}";
  EXPECT_EQ(ErrorOf(ParseSegmentJson(quoted)), "segment JSON: line 1: nested deeper than 48 levels (the limit)");
}

TEST(SegmentLimits, YamlNestedDeeperThanTheLimitIsRefusedWhileParsing) {
  const int n = 100000;
  const std::string expect = "segment YAML: line 1: nested deeper than 48 levels (the limit)";
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(std::string(n, '[') + std::string(n, ']'))), expect);
  std::string block, flow_map;
  for (int i = 0; i < n; ++i) {
    block += "- ";
    flow_map += "{a: ";
  }
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(block + "x")), expect);
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(flow_map + "1" + std::string(n, '}'))), expect);
  // A plain scalar with a quote (O'Brien) does not hide the brackets after it.
  EXPECT_EQ(ErrorOf(ParseSegmentYaml("name: O'Brien\nrules: " + std::string(n, '[') + std::string(n, ']'))),
            "segment YAML: line 2: nested deeper than 48 levels (the limit)");
  EXPECT_FALSE(ParseSegmentYaml(std::string(n, '[')).ok());
}

TEST(SegmentLimits, YamlBillionLaughsIsRefused) {
  // Nine levels of nine aliases: 387 million values once expanded to JSON
  // (before: memory ran out). Aliases count once per use against the limit.
  std::string bomb = "name: Bomb\nrules:\n  - entity: Customer\n    conditions:\n"
                     "      - {field: State, op: in, values: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]}\n";
  for (int i = 1; i < 10; ++i) {
    bomb += "      - {field: State, op: in, values: &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) bomb += std::string(k ? ", " : "") + "*l" + std::to_string(i - 1);
    bomb += "]}\n";
  }
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(bomb)),
            "segment YAML: line 10: rules[0].conditions[5].values[2]: alias *l4 makes more than 250000 values "
            "(the limit; aliases count once per use)");
  // A cycle is refused; an ordinary alias is expanded.
  EXPECT_EQ(ErrorOf(ParseSegmentYaml("name: A\nrules: &r [*r]\n")),
            "segment YAML: line 2: rules[0]: alias *r is inside its own anchor (a cycle)");
  auto d = ParseSegmentYaml("name: A\nrules:\n  - entity: Customer\n    conditions:\n"
                            "      - {field: State, op: in, values: &states [CA, WA]}\n"
                            "      - {field: MailingState, op: in, values: *states}\n");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(std::get<Condition>(d->rules[0].conditions[1]).values.size(), 2u);
}

TEST(SegmentLimits, DuplicateKeysAreRefusedNamingKeyAndLine) {
  EXPECT_EQ(ErrorOf(ParseSegmentJson("{\"name\": \"A\",\n \"rules\": [{\"entity\": \"Customer\",\n"
                                     "  \"conditions\": [{\"field\": \"State\", \"op\": \"equals\",\n"
                                     "    \"op\": \"not_equals\", \"values\": [\"CA\"]}]}]}")),
            "segment JSON: line 4: rules[0].conditions[0]: key 'op' appears twice (first on line 3)");
  EXPECT_EQ(ErrorOf(ParseSegmentJson("{\"name\": \"A\", \"name\": \"B\"}")),
            "segment JSON: line 1: key 'name' appears twice (first on line 1)");
  EXPECT_EQ(ErrorOf(ParseSegmentYaml("name: A\nrules:\n  - entity: Customer\n    entity: Orders\n")),
            "segment YAML: line 4: rules[0]: key 'entity' appears twice (first on line 3)");
}

TEST(SegmentLimits, NulBytesInNamesAreRefused) {
  EXPECT_EQ(ErrorOf(ParseSegmentJson(R"({"name": "Big\u0000Spenders", "rules": []})")),
            "segment JSON: line 1: name: text contains a NUL character (\\u0000)");
  EXPECT_EQ(ErrorOf(ParseSegmentJson("{\"name\": \"A\",\n\"rules\": [{\"entity\": \"Cust\\u0000omer\"}]}")),
            "segment JSON: line 2: rules[0].entity: text contains a NUL character (\\u0000)");
  EXPECT_EQ(ErrorOf(ParseSegmentYaml("name: \"Big\\0Spenders\"\nrules: []\n")),
            "segment YAML: line 1: name: text contains a NUL byte");
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(std::string("name: Big\0Spenders\n", 19))).find("segment YAML: "), 0u);
  EXPECT_EQ(ErrorOf(ParseSegmentYaml("name: \"Big\xffSpenders\"\n")),
            "segment YAML: line 1: name: text is not valid UTF-8 (byte 4)");
}

TEST(SegmentLimits, DefinitionsOverTheSizeLimitAreRefused) {
  std::string big_json = "{\"name\": \"A\", \"description\": \"" + std::string(kMaxSegmentDefinitionBytes, 'x') + "\"}";
  EXPECT_EQ(ErrorOf(ParseSegmentJson(big_json)),
            "segment JSON: the text is " + std::to_string(big_json.size()) + " bytes, more than the limit of 1 MiB");
  std::string big_yaml = "name: A\ndescription: " + std::string(kMaxSegmentDefinitionBytes, 'x') + "\n";
  EXPECT_EQ(ErrorOf(ParseSegmentYaml(big_yaml)),
            "segment YAML: the text is " + std::to_string(big_yaml.size()) + " bytes, more than the limit of 1 MiB");
  // Just under the limit parses.
  std::string ok = "{\"name\": \"A\", \"description\": \"" + std::string(kMaxSegmentDefinitionBytes - 100, 'x') + "\"}";
  EXPECT_TRUE(ParseSegmentJson(ok).ok());
}

TEST(SegmentLimits, StoredDefinitionsSavedBeforeTheLimitsStillLoad) {
  // A draft saved with a NUL in its name, and a definition over 1 MiB, from
  // before these limits: the catalog's copies still load (so a refresh that
  // reads every segment does not fail on them), and the name stays invalid.
  auto d = ParseStoredSegmentJson(R"({"name":"Big\u0000Spenders","type":"dynamic","rules":[]})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, std::string("Big\0Spenders", 12));
  EXPECT_FALSE(Validate(*d, SegmentSchema{}).empty());
  std::string big = "{\"name\":\"A\",\"description\":\"" + std::string(kMaxSegmentDefinitionBytes, 'x') + "\"}";
  EXPECT_TRUE(ParseStoredSegmentJson(big).ok());
  // Depth and duplicate keys still hold.
  EXPECT_FALSE(ParseStoredSegmentJson(std::string(100000, '[') + std::string(100000, ']')).ok());
  EXPECT_FALSE(ParseStoredSegmentJson(R"({"name":"A","name":"B"})").ok());
}

}  // namespace
}  // namespace cdp
