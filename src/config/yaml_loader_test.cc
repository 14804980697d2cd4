#include "config/yaml_loader.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

// Nine levels of nine-fold aliases: 9^9 (387 million) "lol"s once expanded.
std::string BillionLaughs(const std::string& indent) {
  std::string s = indent + "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    s += indent + "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) s += (k ? ", " : "") + prev;
    s += "]\n";
  }
  return s;
}

TEST(YamlLoaderTest, LoadsAnOrdinaryDocumentWithLineMarks) {
  auto n = LoadYaml("project: p\nsources:\n  - {name: a, kind: csv}\n", "p.yaml");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ((*n)["project"].Scalar(), "p");
  EXPECT_EQ((*n)["sources"][0]["kind"].Mark().line, 2);
  auto empty = LoadYaml("", "p.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->IsNull());
}

TEST(YamlLoaderTest, BillionLaughsStopsAtTheValueLimit) {
  // Before: accepted, and expanded into 387 million values by the first walk.
  auto n = LoadYaml("project: p\n" + BillionLaughs(""), "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "p.yaml:7: l5[2]: alias *l4 makes more than 250000 values (the limit; aliases count once per use)");
}

TEST(YamlLoaderTest, AnAliasOfLongTextStopsAtTheTextLimit) {
  // 100,000 uses of a 1,000-byte scalar: 100 MB of text once expanded.
  std::string doc = "a: &a " + std::string(1000, 'x') + "\nb: [";
  for (int i = 0; i < 100000; ++i) doc += i ? ",*a" : "*a";
  doc += "]\n";
  auto n = LoadYaml(doc, "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:2: b[16776]: alias *a makes more than 16777216 bytes of text (the limit; "
                                  "aliases count once per use)");
}

TEST(YamlLoaderTest, AliasesWithinTheLimitsLoad) {
  auto n = LoadYaml("rules: &r [{a: 1}, {b: 2}]\nother: *r\nname: &n x\ncopy: *n\n", "p.yaml");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ((*n)["other"][1]["b"].Scalar(), "2");
  EXPECT_EQ((*n)["copy"].Scalar(), "x");
  // 1 + 2 + 3 values, then 3 more for the alias: the limit counts every use.
  EXPECT_TRUE(LoadYaml("a: &a [1, 2]\nb: *a\n", "p.yaml", {.max_nodes = 9}).ok());
  EXPECT_FALSE(LoadYaml("a: &a [1, 2]\nb: *a\nc: *a\n", "p.yaml", {.max_nodes = 9}).ok());
}

TEST(YamlLoaderTest, RefusesCyclesAliasKeysAndAliasesTooDeepWhereUsed) {
  auto n = LoadYaml("a: &a [1, *a]\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:1: a[1]: alias *a is inside its own anchor (a cycle)");
  n = LoadYaml("k: &k x\n*k : 1\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:2: a key must be text, not an alias (*k)");
  // An anchor 3 levels deep used 2 levels down is 5 levels deep.
  n = LoadYaml("a: &a [[[1]]]\nb: [*a]\n", "p.yaml", {.max_depth = 4});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:2: b[0]: alias *a nests deeper than 4 levels (the limit) where it is used");
  EXPECT_TRUE(LoadYaml("a: &a [[[1]]]\nb: [*a]\n", "p.yaml", {.max_depth = 5}).ok());
  EXPECT_FALSE(LoadYaml("a: *nowhere\n", "p.yaml").ok());
}

TEST(YamlLoaderTest, RefusesNestingDeeperThanTheLimitWhileParsing) {
  const std::string expect = "p.yaml:1: nested deeper than 64 levels (the limit)";
  const int n = 100000;
  std::string flow_seq = std::string(n, '[') + std::string(n, ']');
  std::string flow_map, block_seq, compact;
  for (int i = 0; i < n; ++i) {
    flow_map += "{a: ";
    block_seq += "- ";
    compact += "[a: ";
  }
  flow_map += "1" + std::string(n, '}');
  block_seq += "x";
  compact += "1" + std::string(n, ']');
  for (const std::string& text : {flow_seq, flow_map, block_seq, compact}) {
    auto loaded = LoadYaml(text, "p.yaml");
    ASSERT_FALSE(loaded.ok()) << text.substr(0, 10);
    EXPECT_EQ(loaded.status().message(), expect) << text.substr(0, 10);
  }
  // Unterminated: an error too (yaml-cpp reads a potential key first).
  EXPECT_FALSE(LoadYaml(std::string(n, '['), "p.yaml").ok());
  EXPECT_FALSE(LoadYaml(std::string(n, '{'), "p.yaml").ok());
  // Block mappings nested by indentation.
  std::string indented;
  for (int i = 0; i < 100; ++i) indented += std::string(i, ' ') + "k:\n";
  auto loaded = LoadYaml(indented, "p.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().message(), "p.yaml:65: nested deeper than 64 levels (the limit)");
  EXPECT_TRUE(LoadYaml(std::string(64, '[') + std::string(64, ']'), "p.yaml").ok());
  EXPECT_FALSE(LoadYaml(std::string(3, '[') + std::string(3, ']'), "p.yaml", {.max_depth = 2}).ok());
}

TEST(YamlLoaderTest, RefusesDuplicateKeysNamingKeyAndLines) {
  auto n = LoadYaml("refresh:\n  schedule: '0 1 * * *'\nsources: []\nrefresh:\n  schedule: '0 2 * * *'\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:4: key 'refresh' appears twice (first on line 1)");
  n = LoadYaml("sources:\n  - name: a\n    kind: csv\n    name: b\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:4: sources[0]: key 'name' appears twice (first on line 2)");
  n = LoadYaml("{a: 1, b: {c: 2, c: 3}}", "");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "line 1: b: key 'c' appears twice (first on line 1)");
  // The same key in sibling mappings is fine.
  EXPECT_TRUE(LoadYaml("- {a: 1}\n- {a: 2}\n", "p.yaml").ok());
  n = LoadYaml("? [a]\n: 1\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:1: a key must be text, not a list");
}

TEST(YamlLoaderTest, RefusesTextThatIsNotUtf8OrHoldsNul) {
  auto n = LoadYaml("project: ab\xff\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:1: project: text is not valid UTF-8 (byte 3)");
  n = LoadYaml("sources:\n  - name: \"a\\0b\"\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:2: sources[0].name: text contains a NUL byte");
  n = LoadYaml("a\xc3: 1\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:1: a key is not valid UTF-8 (byte 2)");
  EXPECT_TRUE(LoadYaml("project: \"\xc3\xa9t\xc3\xa9 \\u00e9\"\n", "p.yaml").ok());
}

TEST(YamlLoaderTest, RefusesSizeNodeCountAndSecondDocument) {
  auto n = LoadYaml(std::string(100, 'a'), "p.yaml", {.max_bytes = 99});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml: the text is 100 bytes, more than the limit of 99 bytes");
  std::string many = "[";
  for (int i = 0; i < 1000; ++i) many += "1,";
  many += "1]";
  n = LoadYaml(many, "p.yaml", {.max_nodes = 500});
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:1: more than 500 values (the limit)");
  n = LoadYaml("a: 1\n---\nb: 2\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "p.yaml:2: a second YAML document starts here; a file holds one document");
  n = LoadYaml("a: [1\n", "p.yaml");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("p.yaml:"), std::string::npos);
  EXPECT_NE(n.status().message().find("invalid YAML"), std::string::npos);
}

}  // namespace
}  // namespace cdp
