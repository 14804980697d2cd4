#include "config/project_config.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

const char* kProject = R"(project: contoso
sources:
  - name: eCommerce Contacts
    kind: csv
    path: data/ecommerce_contacts.csv
    primary_key: ContactId
    fields:
      - {name: DateOfBirth, type: date, format: "%Y-%m-%d", semantic: Person.DateOfBirth}
      - {name: Email, semantic: Email}
    filters:
      - {field: Country, op: in, values: [US, CA]}
    max_bad_rows: 5%
  - name: Febrl
    kind: csv
    path: /abs/febrl.csv
    csv: {delimiter: ";", skip_space_after_delimiter: true}
    max_bad_rows: 10
  - name: CRM
    kind: postgres
    postgres: {conninfo_env: CRM_DB, table: public.crm}
)";

TEST(ProjectConfigTest, ParsesSourcesWithOverridesFiltersAndLimits) {
  auto c = ParseProjectYaml(kProject, "project.yaml", "/proj");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->sources.size(), 3u);
  const SourceConfig& s = c->sources[0];
  EXPECT_EQ(s.name, "eCommerce Contacts");
  EXPECT_EQ(c->ResolvePath(s.path), "/proj/data/ecommerce_contacts.csv");
  EXPECT_EQ(s.fields[0].type, DataType::kDate);
  EXPECT_EQ(s.fields[1].semantic, "Email");
  EXPECT_EQ(s.filters[0].values, (std::vector<std::string>{"US", "CA"}));
  EXPECT_EQ(s.max_bad_rows.percent, 5);
  EXPECT_EQ(c->sources[1].csv.delimiter, ";");
  EXPECT_EQ(c->sources[1].max_bad_rows.count, 10);
  EXPECT_EQ(c->ResolvePath(c->sources[1].path), "/abs/febrl.csv");
  EXPECT_EQ(c->sources[2].postgres.table, "public.crm");
}

TEST(ProjectConfigTest, EmitThenParseRoundTrips) {
  auto c = ParseProjectYaml(kProject, "project.yaml", "/proj");
  ASSERT_TRUE(c.ok());
  std::string yaml = EmitProjectYaml(*c);
  auto again = ParseProjectYaml(yaml, "exported.yaml", "/proj");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(*again, *c);
  for (const auto& s : c->sources) {
    auto back = SourceConfigFromJson(SourceConfigToJson(s));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, s);
  }
}

void ExpectError(const std::string& yaml, const std::string& fragment) {
  auto c = ParseProjectYaml(yaml, "p.yaml", "/");
  ASSERT_FALSE(c.ok()) << "expected an error containing: " << fragment;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().message();
}

TEST(ProjectConfigTest, ErrorsNameFileLineAndKey) {
  ExpectError("sources:\n  - name: A\n    kind: csv\n    path: a.csv\n    max_bad_row: 3\n",
              "p.yaml:5: sources[0].max_bad_row: unknown key");
  ExpectError("sources:\n  - name: A\n    kind: xml\n    path: a\n", "sources[0].kind: unknown source kind 'xml'");
  ExpectError("sources:\n  - name: A\n    kind: csv\n", "needs 'path'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\n  - {name: A, kind: csv, path: b}\n",
              "declared twice");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, max_bad_rows: lots}\n", "max_bad_rows");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, fields: [{name: X, type: blob}]}\n",
              "sources[0].fields[0].type: unknown type 'blob'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, filters: [{field: X, op: like, value: 1}]}\n",
              "unknown operator 'like'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, filters: [{field: X, op: equals}]}\n",
              "needs a value");
  ExpectError("sources: [\n", "invalid YAML");
  ExpectError("sources:\n  - {name: A, kind: postgres, postgres: {conninfo: x}}\n", "'table' and 'query'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, csv: {delimiter: ';;'}}\n", "one character");
}

}  // namespace
}  // namespace cdp
