// Parses every ```yaml block of docs/project-yaml.md, so the document cannot
// drift from the parser.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/project_config.h"

namespace cdp {
namespace {

TEST(DocsExamplesTest, EveryYamlExampleInProjectDocParses) {
  std::string path = std::string(CDP_SOURCE_DIR) + "/docs/project-yaml.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::string line, block;
  bool inside = false;
  int examples = 0, start_line = 0, n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!inside && line == "```yaml") {
      inside = true;
      block.clear();
      start_line = n;
    } else if (inside && line == "```") {
      inside = false;
      ++examples;
      auto c = ParseProjectYaml(block, path + " (example at line " + std::to_string(start_line) + ")", "/proj");
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (c.ok()) {
        EXPECT_FALSE(c->sources.empty()) << "example at line " << start_line << " declares no source";
        auto again = ParseProjectYaml(EmitProjectYaml(*c), "exported", "/proj");
        ASSERT_TRUE(again.ok()) << again.status().ToString();
        EXPECT_EQ(*again, *c) << "export of example at line " << start_line << " does not round-trip";
      }
    } else if (inside) {
      block += line + "\n";
    }
  }
  EXPECT_FALSE(inside) << "unterminated code block";
  EXPECT_GE(examples, 6);
}

}  // namespace
}  // namespace cdp
