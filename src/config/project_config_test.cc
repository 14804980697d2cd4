#include "config/project_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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
    csv: {delimiter: ";", skip_space_after_delimiter: true, skip_rows: 3}
    max_bad_rows: 10
    fields:
      - {name: state, standardize: state_code}
      - {name: country, type: string, standardize: country_name}
      - {name: sex, standardize: gender}
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
  EXPECT_EQ(c->sources[1].max_bad_rows.percent, -1);  // a count replaces the default percentage
  EXPECT_EQ(c->sources[1].csv.skip_rows, 3);
  EXPECT_EQ(c->sources[1].fields[0].standardize, "state_code");
  EXPECT_EQ(c->sources[1].fields[2].standardize, "gender");
  // Without max_bad_rows a source fails past 5% of bad rows.
  EXPECT_EQ(c->sources[2].max_bad_rows.percent, 5);
  EXPECT_EQ(c->sources[2].max_bad_rows.count, -1);
  EXPECT_EQ(c->sources[2].max_bad_rows.ToString(), "5%");
  EXPECT_EQ(c->sources[0].csv.skip_rows, 0);
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
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, csv: {skip_rows: -1}}\n",
              "sources[0].csv.skip_rows: expected a whole number of lines from 0 to 10000");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, csv: {skip_rows: 10001}}\n", "skip_rows");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, csv: {skip_rows: two}}\n", "skip_rows");
  ExpectError("sources:\n  - {name: Web, kind: csv, path: a, fields: [{name: State, standardize: state}]}\n",
              "p.yaml:2: sources[0].fields[0].standardize: source 'Web', field 'State': unknown standardizer 'state' "
              "(one of: state_code, state_name, country_code, country_name, gender)");
  ExpectError("sources:\n  - {name: Web, kind: csv, path: a, fields: [{name: N, type: int64, standardize: gender}]}\n",
              "source 'Web', field 'N': standardize needs a string field, not int64");
}

// `max_bad_rows: unlimited` is kept apart from the 5% default through the
// YAML and JSON forms (the catalog stores the JSON form).
TEST(ProjectConfigTest, UnlimitedBadRowsSurvivesEmitAndJson) {
  auto c = ParseProjectYaml("sources:\n  - {name: A, kind: csv, path: a, max_bad_rows: unlimited}\n"
                            "  - {name: B, kind: csv, path: b}\n",
                            "p.yaml", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->sources[0].max_bad_rows.unlimited());
  EXPECT_FALSE(c->sources[1].max_bad_rows.unlimited());
  auto again = ParseProjectYaml(EmitProjectYaml(*c), "e.yaml", "/");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *c);
  auto back = SourceConfigFromJson(SourceConfigToJson(c->sources[0]));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->max_bad_rows.unlimited());
  EXPECT_EQ(SourceConfigToJson(c->sources[1]).find("max_bad_rows"), std::string::npos);
}

TEST(ProjectConfigTest, ParsesSchedulesAndSearch) {
  auto c = ParseProjectYaml(R"(project: p
sources:
  - {name: Web, kind: csv, path: web.csv, schedule: "*/30 * * * *"}
  - {name: Shop, kind: csv, path: shop.csv}
refresh:
  schedule: "0 3 * * *"
search:
  fields:
    - LastName
    - {field: Phone, normalize: phone, weight: 2}
    - {field: Email, normalize: email}
    - {field: City, weight: 0.5}
  filters: [State, Gender]
)",
                            "p.yaml", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sources[0].schedule, "*/30 * * * *");
  EXPECT_EQ(c->sources[1].schedule, "");
  EXPECT_EQ(c->refresh_schedule, "0 3 * * *");
  ASSERT_EQ(c->search.fields.size(), 4u);
  EXPECT_EQ(c->search.fields[0], (SearchFieldConfig{"LastName", "", 1.0}));
  EXPECT_EQ(c->search.fields[1], (SearchFieldConfig{"Phone", "phone", 2.0}));
  EXPECT_EQ(c->search.fields[2], (SearchFieldConfig{"Email", "email", 1.0}));
  EXPECT_EQ(c->search.fields[3], (SearchFieldConfig{"City", "", 0.5}));
  EXPECT_EQ(c->search.filters, (std::vector<std::string>{"State", "Gender"}));

  // Export and the catalog's JSON of a source carry them.
  std::string yaml = EmitProjectYaml(*c);
  auto again = ParseProjectYaml(yaml, "exported.yaml", "/");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(*again, *c) << yaml;
  EXPECT_NE(yaml.find("refresh:"), std::string::npos) << yaml;
  auto back = SourceConfigFromJson(SourceConfigToJson(c->sources[0]));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->schedule, "*/30 * * * *");
}

TEST(ProjectConfigTest, MacroSchedulesAndSingleFilterRoundTrip) {
  auto c = ParseProjectYaml("sources:\n  - {name: A, kind: csv, path: a, schedule: '@hourly'}\n"
                            "refresh: {schedule: '  @daily '}\nsearch: {filters: State}\n",
                            "p.yaml", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sources[0].schedule, "@hourly");
  EXPECT_EQ(c->refresh_schedule, "@daily");  // trimmed
  EXPECT_EQ(c->search.filters, (std::vector<std::string>{"State"}));
  EXPECT_TRUE(c->search.fields.empty());
  auto again = ParseProjectYaml(EmitProjectYaml(*c), "exported.yaml", "/");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << EmitProjectYaml(*c);
  EXPECT_EQ(*again, *c);
}

TEST(ProjectConfigTest, ScheduleAndSearchErrorsNameFileLineAndKey) {
  ExpectError("sources:\n  - name: A\n    kind: csv\n    path: a\n    schedule: '0 0 * * 8'\n",
              "p.yaml:5: sources[0].schedule: day-of-week field '8' is out of range 0-7");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nrefresh:\n  schedule: every night\n",
              "p.yaml:4: refresh.schedule: cron expression 'every night' has 2 field(s)");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nrefresh:\n  cron: '0 3 * * *'\n",
              "p.yaml:4: refresh.cron: unknown key (allowed: schedule)");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nrefresh: daily\n", "refresh: expected a mapping");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {field: Phone, normalize: fone}\n",
              "p.yaml:5: search.fields[0].normalize: unknown normalizer 'fone'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {field: Phone, weight: 0}\n",
              "search.fields[0].weight: the weight must be a number greater than 0");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {field: Phone, weight: -1}\n",
              "greater than 0");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {field: Phone, weight: heavy}\n",
              "search.fields[0].weight: expected a number");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields: [Phone, {field: Phone, weight: 2}]\n",
              "field 'Phone' is listed twice");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {normalize: phone}\n",
              "search.fields[0]: missing required key 'field'");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields:\n    - {field: X, boost: 2}\n",
              "search.fields[0].boost: unknown key");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  filters: [State, State]\n",
              "filter 'State' is listed twice");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  facets: [State]\n",
              "p.yaml:4: search.facets: unknown key (allowed: fields, filters)");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nsearch:\n  fields: LastName\n",
              "search.fields: expected a list of fields");
}

TEST(ProjectConfigTest, RefusesASecondBlockWithTheSameKey) {
  // Before: the second refresh block was ignored silently.
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\nrefresh:\n  schedule: '0 1 * * *'\nrefresh:\n  schedule: '0 2 * * *'\n",
              "p.yaml:5: key 'refresh' appears twice (first on line 3)");
  ExpectError("sources:\n  - name: A\n    kind: csv\n    path: a\n    path: b\n",
              "p.yaml:5: sources[0]: key 'path' appears twice (first on line 4)");
  ExpectError("segments:\n  - name: S\n    rules: []\n    name: T\n", "p.yaml:4: segments[0]: key 'name' appears twice (first on line 2)");
}

TEST(ProjectConfigTest, RefusesABillionLaughsAndKeepsOrdinaryAliases) {
  // A billion laughs inside a segment definition: before, it was accepted and
  // expanded into 387 million values when the segment was converted to JSON.
  std::string seg = "segments:\n  - name: Bomb\n    rules:\n      - entity: Customer\n        conditions:\n"
                    "          - field: State\n            op: in\n            values: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    seg += "          - {field: State, op: in, values: &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) seg += std::string(k ? ", " : "") + "*l" + std::to_string(i - 1);
    seg += "]}\n";
  }
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\n" + seg,
              "p.yaml:15: segments[0].rules[0].conditions[5].values[");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a}\n" + seg,
              "makes more than 250000 values (the limit; aliases count once per use)");
  // Rules shared by an anchor, as in examples/contoso/project.yaml.
  auto c = ParseProjectYaml("sources:\n  - {name: A, kind: csv, path: a}\n"
                            "search:\n  fields: &f [Name, Email]\n  filters: *f\n", "p.yaml", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->search.filters, (std::vector<std::string>{"Name", "Email"}));
}

TEST(ProjectConfigTest, RefusesNamesThatAreNotUtf8OrHoldNul) {
  ExpectError("project: caf\xc3\nsources: []\n", "p.yaml:1: project: text is not valid UTF-8 (byte 4)");
  ExpectError("sources:\n  - {name: \"Con\\0tacts\", kind: csv, path: a}\n",
              "p.yaml:2: sources[0].name: text contains a NUL byte");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, fields: [{name: \"E\xe2\x82\"}]}\n",
              "p.yaml:2: sources[0].fields[0].name: text is not valid UTF-8");
  auto ok = ParseProjectYaml("project: \"caf\xc3\xa9\"\nsources: []\n", "p.yaml", "/");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->name, "caf\xc3\xa9");
}

TEST(ProjectConfigTest, RefusesDeepNestingAndFilesOverTheSizeLimit) {
  std::string deep = "project: p\nsearch:\n  fields: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  ExpectError(deep, "p.yaml:3: nested deeper than 64 levels (the limit)");
  std::string dashes = "sources:\n";
  for (int i = 0; i < 100000; ++i) dashes += "- ";
  ExpectError(dashes + "x\n", "nested deeper than 64 levels (the limit)");

  const std::string path = ::testing::TempDir() + "/big_project.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << "project: p\ndescription: \"" << std::string(kMaxProjectFileBytes, 'x') << "\"\n";
  }
  auto c = LoadProjectFile(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("project file '" + path + "' is "), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("more than the limit of 4 MiB"), std::string::npos) << c.status().message();
  std::remove(path.c_str());
}

TEST(ProjectConfigTest, JsonLinesSourcesTakeAMaxDepth) {
  auto c = ParseProjectYaml("sources:\n  - {name: A, kind: jsonl, path: a.jsonl, jsonl: {max_depth: 8}}\n"
                            "  - {name: B, kind: jsonl, path: b.jsonl}\n", "p.yaml", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sources[0].jsonl.max_depth, 8);
  EXPECT_EQ(c->sources[1].jsonl.max_depth, 64);
  auto again = ParseProjectYaml(EmitProjectYaml(*c), "exported.yaml", "/");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *c);
  auto back = SourceConfigFromJson(SourceConfigToJson(c->sources[0]));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->jsonl.max_depth, 8);
  ExpectError("sources:\n  - {name: A, kind: jsonl, path: a, jsonl: {max_depth: 0}}\n",
              "p.yaml:2: sources[0].jsonl.max_depth: expected a whole number from 1 to 1000");
  ExpectError("sources:\n  - {name: A, kind: csv, path: a, jsonl: {max_depth: 8}}\n",
              "sources[0].jsonl: only jsonl sources take jsonl options");
  ExpectError("sources:\n  - {name: A, kind: jsonl, path: a, jsonl: {depth: 8}}\n",
              "sources[0].jsonl.depth: unknown key (allowed: max_depth)");
}

TEST(ProjectConfigTest, JsonFormsRefuseDeepNestingAndDuplicateKeys) {
  // The API passes request bodies to these before converting them recursively.
  auto u = UnifyConfigFromJson(std::string(100000, '[') + std::string(100000, ']'));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(), "unification JSON: line 1: nested deeper than 64 levels (the limit)");
  auto m = MeasuresFromJson(R"([{"name": "Total", "name": "Spend"}])");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "measures JSON: line 1: [0]: key 'name' appears twice (first on line 1)");
  auto s = SourceConfigFromJson(R"({"name": "A", "kind": "csv", "name": "B"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "source JSON: line 1: key 'name' appears twice (first on line 1)");
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// A quoted segment value ("90210", "true") stays quoted through parse and
// emit: the segment parser reads a value's kind from its form.
TEST(ProjectConfigTest, SegmentTextsKeepQuotedValuesQuoted) {
  const std::string yaml =
      "sources:\n  - {name: A, kind: csv, path: a.csv}\n"
      "segments:\n  - name: Zip\n    rules:\n      - entity: Customer\n        conditions:\n"
      "          - {field: Zip, op: in, values: [\"90210\", 90211, 'true', true]}\n";
  auto p = ParseProjectYaml(yaml, "p.yaml", "/base");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->segments.size(), 1u);
  EXPECT_NE(p->segments[0].find("[\"90210\", 90211, \"true\", true]"), std::string::npos) << p->segments[0];
  std::string emitted = EmitProjectYaml(*p);
  EXPECT_NE(emitted.find("[\"90210\", 90211, \"true\", true]"), std::string::npos) << emitted;
  auto again = ParseProjectYaml(emitted, "e.yaml", "/base");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *p);
}

}  // namespace
}  // namespace cdp
