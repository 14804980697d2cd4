// Parser robustness: random mutations and truncations of valid JSON and YAML
// definitions must come back as errors or definitions, never crash (run this
// under the sanitizers: -DCDP_SANITIZE=ON). Parsed results are also
// validated, serialized and reparsed.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "segment/segment_definition.h"

namespace cdp {
namespace {

const char* kJson = R"({"name": "Everything", "display_name": "E", "type": "dynamic", "schedule": "0 */12 * * *",
 "rules": [
  {"entity": "Online Purchases", "conditions": [
    {"field": "Product", "op": "contains", "values": ["Cold Brew"], "case_insensitive": true},
    {"any": [{"field": "TotalPrice", "op": "between", "values": [5, 7.25]},
             {"field": "PurchasedOn", "op": "in_last", "values": [3], "unit": "months"}]}]},
  {"combine": "except", "entity": "Customer", "conditions": [
    {"aggregate": "count", "entity": "Reviews", "filters": [{"field": "Rating", "op": "less_equal", "values": [2]}],
     "window": {"last": 30, "unit": "days"}, "time_field": "ReviewedOn", "op": "greater_equal", "values": [1]},
    {"field": "DateOfBirth", "op": "anniversary_within", "values": [7]}]},
  {"combine": "intersect", "entity": "Customer_Measure", "all_records": true}]})";

const char* kYaml = R"(name: Everything
type: dynamic
rules:
  - entity: Online Purchases
    conditions:
      - {field: Product, op: contains, values: [Cold Brew], case_insensitive: true}
      - any:
          - {field: TotalPrice, op: between, values: [5, 7.25]}
          - field: PurchasedOn
            op: in_last
            values: [3]
            unit: months
  - combine: except
    entity: Customer
    conditions:
      - aggregate: count
        entity: Reviews
        filters: [{field: Rating, op: less_equal, values: [2]}]
        window: {last: 30, unit: days}
        time_field: ReviewedOn
        op: greater_equal
        values: [1]
  - {combine: intersect, entity: Customer_Measure, all_records: true}
)";

SegmentSchema Schema4() {
  SegmentSchema s;
  s.customer = Schema({{"DateOfBirth", DataType::kDate, {}}});
  s.customer_measure = Schema({{"Spend", DataType::kDouble, {}}});
  s.related["Online Purchases"] = Schema({{"Product", DataType::kString, {}}, {"TotalPrice", DataType::kDouble, {}},
                                          {"PurchasedOn", DataType::kTimestamp, {}}});
  s.related["Reviews"] = Schema({{"Rating", DataType::kInt64, {}}, {"ReviewedOn", DataType::kDate, {}}});
  return s;
}

std::string Mutate(std::mt19937_64& rng, std::string s) {
  static const std::string kBytes = "{}[]:,\"'\\ -!&*|>#\n\t0123456789.eE+nulltruefalse\xc3\xa9\xff\x00";
  auto pos = [&] { return s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng); };
  int edits = std::uniform_int_distribution<int>(1, 6)(rng);
  for (int e = 0; e < edits; ++e) {
    switch (std::uniform_int_distribution<int>(0, 6)(rng)) {
      case 0: s = s.substr(0, pos()); break;  // truncate
      case 1: if (!s.empty()) s.erase(pos(), 1); break;
      case 2: s.insert(pos(), 1, kBytes[std::uniform_int_distribution<size_t>(0, kBytes.size() - 1)(rng)]); break;
      case 3: if (!s.empty()) s[pos()] = kBytes[std::uniform_int_distribution<size_t>(0, kBytes.size() - 1)(rng)]; break;
      case 4: {  // duplicate a slice
        size_t a = pos(), n = std::uniform_int_distribution<size_t>(0, 40)(rng);
        s.insert(pos(), s.substr(a, n));
        break;
      }
      case 5: {  // deep nesting
        size_t p = pos();
        int depth = std::uniform_int_distribution<int>(1, 300)(rng);
        s.insert(p, std::string(static_cast<size_t>(depth), std::uniform_int_distribution<int>(0, 1)(rng) ? '[' : '{'));
        break;
      }
      default: if (!s.empty()) s.erase(pos(), std::uniform_int_distribution<size_t>(0, 30)(rng)); break;
    }
  }
  return s;
}

void Exercise(const StatusOr<SegmentDefinition>& d, const SegmentSchema& schema) {
  if (!d.ok()) {
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(d.status().message().empty());
    return;
  }
  (void)Validate(*d, schema);
  auto back = ParseSegmentJson(SegmentToJson(*d));
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << SegmentToJson(*d);
  EXPECT_EQ(*back, *d);
}

TEST(SegmentParserRobustness, ValidInputsParseAndValidate) {
  auto j = ParseSegmentJson(kJson);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_TRUE(Validate(*j, Schema4()).empty()) << FormatProblems(Validate(*j, Schema4()));
  auto y = ParseSegmentYaml(kYaml);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(Validate(*y, Schema4()).empty()) << FormatProblems(Validate(*y, Schema4()));
}

TEST(SegmentParserRobustness, MutatedJsonNeverCrashes) {
  std::mt19937_64 rng(42);
  SegmentSchema schema = Schema4();
  int parsed = 0;
  for (int i = 0; i < 4000; ++i) {
    auto d = ParseSegmentJson(Mutate(rng, kJson));
    parsed += d.ok();
    Exercise(d, schema);
  }
  EXPECT_GT(parsed, 0);
}

TEST(SegmentParserRobustness, MutatedYamlNeverCrashes) {
  std::mt19937_64 rng(43);
  SegmentSchema schema = Schema4();
  int parsed = 0;
  for (int i = 0; i < 2500; ++i) {
    std::string text = Mutate(rng, kYaml);
    auto d = ParseSegmentYaml(text);
    parsed += d.ok();
    Exercise(d, schema);
    Exercise(ParseSegmentJson(text), schema);
  }
  EXPECT_GT(parsed, 0);
}

TEST(SegmentParserRobustness, PathologicalInputs) {
  EXPECT_FALSE(ParseSegmentJson(std::string(100000, '[')).ok());
  EXPECT_FALSE(ParseSegmentYaml(std::string(100000, '[')).ok());
  EXPECT_FALSE(ParseSegmentYaml(std::string(20000, '-')).ok());
  std::string dashes;
  for (int i = 0; i < 3000; ++i) dashes += "- ";
  EXPECT_FALSE(ParseSegmentYaml(dashes + "x").ok());
  EXPECT_FALSE(ParseSegmentJson("").ok());
  EXPECT_FALSE(ParseSegmentYaml("").ok());
  (void)ParseSegmentJson(std::string("{\"name\": \"a\0b\"}", 15));  // an embedded NUL: an error or a name, no crash
  (void)ParseSegmentYaml(std::string("name: a\0b", 10));
  EXPECT_FALSE(ParseSegmentYaml("name: \"a\xff\"\nrules: []").ok());
  EXPECT_FALSE(ParseSegmentYaml("name: a\xc3\nrules: []").ok());
  EXPECT_FALSE(ParseSegmentJson("{\"name\": \"a\xff\"}").ok());
  EXPECT_TRUE(ParseSegmentYaml("name: \"\xc3\xa9t\xc3\xa9\"").ok());
  EXPECT_FALSE(ParseSegmentJson(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"field": "x", "op": "in", "values": [1e999]}]}]})").ok());
  EXPECT_FALSE(ParseSegmentJson(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"field": "x", "op": "in", "values": [18446744073709551615]}]}]})").ok());
  EXPECT_FALSE(ParseSegmentYaml("name: !!binary AAAA\nrules: *alias").ok());
}

}  // namespace
}  // namespace cdp
