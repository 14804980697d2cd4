#include "segment/segment_definition.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

SegmentSchema LabSchema() {
  SegmentSchema s;
  s.customer = Schema({{"CustomerId", DataType::kString, {}},
                       {"State", DataType::kString, {}},
                       {"DateOfBirth", DataType::kDate, {}},
                       {"Vip", DataType::kBool, {}},
                       {"Age", DataType::kInt64, {}}});
  s.customer_measure = Schema({{"AverageWebPurchase", DataType::kDouble, {}}, {"AverageStorePurchase", DataType::kDouble, {}}});
  s.related["Online Purchases"] = Schema({{"TotalPrice", DataType::kDouble, {}},
                                          {"PurchasedOn", DataType::kTimestamp, {}},
                                          {"Product", DataType::kString, {}}});
  s.related["Reviews"] = Schema({{"Rating", DataType::kInt64, {}}, {"ReviewedOn", DataType::kDate, {}}});
  return s;
}

const char* kSummerPromoJson = R"({
  "name": "SummerPromo",
  "display_name": "Summer Promotion",
  "type": "dynamic",
  "schedule": "0 */12 * * *",
  "rules": [
    {"entity": "Customer_Measure", "conditions": [
      {"field": "AverageStorePurchase", "op": "greater_equal", "values": [113]},
      {"entity": "Customer", "field": "DateOfBirth", "op": "between", "values": ["1981-01-01", "1996-12-31"]}
    ]}
  ]
})";

const char* kSummerPromoYaml = R"(
name: SummerPromo
display_name: Summer Promotion
type: dynamic
schedule: "0 */12 * * *"
rules:
  - entity: Customer_Measure
    conditions:
      - {field: AverageStorePurchase, op: greater_equal, values: [113]}
      - {entity: Customer, field: DateOfBirth, op: between, values: [1981-01-01, 1996-12-31]}
)";

TEST(SegmentDefinition, ParsesLabSummerPromoFromJsonAndYamlAlike) {
  auto j = ParseSegmentJson(kSummerPromoJson);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  auto y = ParseSegmentYaml(kSummerPromoYaml);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(*j, *y);
  EXPECT_EQ(j->name, "SummerPromo");
  ASSERT_EQ(j->rules.size(), 1u);
  const auto& c1 = std::get<Condition>(j->rules[0].conditions[1]);
  EXPECT_EQ(c1.entity, "Customer");
  EXPECT_EQ(c1.op, ConditionOp::kBetween);
  EXPECT_EQ(std::get<std::string>(c1.values[0]), "1981-01-01");
  EXPECT_EQ(std::get<int64_t>(std::get<Condition>(j->rules[0].conditions[0]).values[0]), 113);
  EXPECT_TRUE(Validate(*j, LabSchema()).empty()) << FormatProblems(Validate(*j, LabSchema()));
}

TEST(SegmentDefinition, JsonRoundTripIsExact) {
  SegmentDefinition d;
  d.name = "Everything";
  d.display_name = "Everything \"quoted\" ünïcode";
  d.description = "all the features";
  d.type = SegmentType::kStatic;
  Rule r0;
  r0.entity = "Online Purchases";
  Condition a;
  a.field = "Product";
  a.op = ConditionOp::kContains;
  a.values = {std::string("Cold Brew")};
  a.case_insensitive = true;
  OrGroup g;
  Condition b;
  b.field = "TotalPrice";
  b.op = ConditionOp::kBetween;
  b.values = {int64_t{5}, 7.25};
  Condition cc;
  cc.field = "PurchasedOn";
  cc.op = ConditionOp::kInLast;
  cc.values = {int64_t{3}};
  cc.unit = TimeUnit::kMonth;
  g.any_of = {b, cc};
  r0.conditions = {a, g};
  Rule r1;
  r1.entity = "Customer";
  r1.combine = SetOperator::kExcept;
  Condition agg;
  agg.function = AggregateFunction::kCount;
  agg.entity = "Reviews";
  Condition f;
  f.field = "Rating";
  f.op = ConditionOp::kLessEqual;
  f.values = {int64_t{2}};
  agg.filters = {f};
  agg.window.kind = WindowKind::kLast;
  agg.window.n = 30;
  agg.time_field = "ReviewedOn";
  agg.op = ConditionOp::kGreaterEqual;
  agg.values = {int64_t{1}};
  Condition bday;
  bday.field = "Vip";
  bday.op = ConditionOp::kIsTrue;
  Condition period;
  period.field = "DateOfBirth";
  period.op = ConditionOp::kLastPeriod;
  period.unit = TimeUnit::kQuarter;
  r1.conditions = {agg, bday, period};
  Rule r2;
  r2.entity = "Customer_Measure";
  r2.all_records = true;
  r2.combine = SetOperator::kIntersect;
  d.rules = {r0, r1, r2};

  std::string json = SegmentToJson(d);
  auto back = ParseSegmentJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
  EXPECT_EQ(*back, d) << json;
  EXPECT_EQ(SegmentToJson(*back), json);
  EXPECT_EQ(SegmentToJson(*back, -1), SegmentToJson(d, -1));
  EXPECT_TRUE(Validate(d, LabSchema()).empty()) << FormatProblems(Validate(d, LabSchema()));
}

// `cdp export-config` writes segments with SegmentToYaml: every value keeps
// its kind (text that looks like a number, boolean or null stays text).
TEST(SegmentDefinition, YamlRoundTripKeepsEveryValueKind) {
  auto lab = ParseSegmentJson(kSummerPromoJson);
  ASSERT_TRUE(lab.ok());
  SegmentDefinition d = *lab;
  d.description = "line one\nline two: with a colon # and a hash";
  Condition c;
  c.entity = "Customer";
  c.field = "State";
  c.op = ConditionOp::kIn;
  c.values = {std::string("90210"), int64_t{90210}, 1.0, 2.5, -3.0, std::string("true"), true, false, std::string(""),
              std::string("null"), std::string("-5"), std::string(" padded "), std::string("a: b"), std::string("Zürich"),
              std::string("[x]"), std::string("1e5"), 1e100};
  d.rules[0].conditions.push_back(c);
  std::string yaml = SegmentToYaml(d);
  auto back = ParseSegmentYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(*back, d) << yaml;
  EXPECT_EQ(SegmentToYaml(*back), yaml);
  EXPECT_NE(yaml.find("name: SummerPromo\n"), std::string::npos) << yaml;  // block style, plain names
}

TEST(SegmentDefinition, YamlScalarsAreTyped) {
  auto d = ParseSegmentYaml(R"(
name: X
rules:
  - entity: Customer
    conditions:
      - {field: Age, op: in, values: [1, -2, 3.5, "4", true, abc, 2024-01-01]}
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto& v = std::get<Condition>(d->rules[0].conditions[0]).values;
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(std::get<int64_t>(v[0]), 1);
  EXPECT_EQ(std::get<int64_t>(v[1]), -2);
  EXPECT_EQ(std::get<double>(v[2]), 3.5);
  EXPECT_EQ(std::get<std::string>(v[3]), "4");
  EXPECT_EQ(std::get<bool>(v[4]), true);
  EXPECT_EQ(std::get<std::string>(v[5]), "abc");
  EXPECT_EQ(std::get<std::string>(v[6]), "2024-01-01");
}

TEST(SegmentDefinition, ParseErrorsNameThePath) {
  auto expect_error = [](const char* json, const std::string& needle) {
    auto d = ParseSegmentJson(json);
    ASSERT_FALSE(d.ok()) << json;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(needle), std::string::npos) << d.status().message();
  };
  expect_error(R"({"name": "A", "rules": [{"entity": "Customer", "conditions": [{"field": "x", "op": "equal"}]}]})",
               "rules[0].conditions[0].op: unknown operator 'equal'");
  expect_error(R"({"name": "A", "rules": [{"entity": "Customer", "conditons": []}]})", "rules[0].conditons: unknown key");
  expect_error(R"({"name": "A", "rules": [{"entity": "Customer", "combine": "union"}]})", "the first rule has no set operator");
  expect_error(R"({"name": "A", "rules": [{"entity": "C"}, {"entity": "C", "combine": "minus"}]})", "unknown set operator 'minus'");
  expect_error(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"field": "x", "op": "in", "values": [[1]]}]}]})",
               "rules[0].conditions[0].values[0]");
  expect_error(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"aggregate": "median"}]}]})", "unknown function 'median'");
  expect_error(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"aggregate": "sum", "window": {"last": 0}}]}]})",
               "window.last");
  expect_error(R"({"name": "A", "rules": [{"entity": "C", "conditions": [{"field": "x", "window": "all_time"}]}]})",
               "only an aggregate condition");
  expect_error(R"({"name": "A", "type": "sometimes"})", "unknown segment type");
  expect_error(R"({"name": 5})", "name: expected text");
  expect_error(R"({"name": "A", )", "not valid JSON");
  expect_error(R"([1, 2])", "a segment definition is an object");
  EXPECT_FALSE(ParseSegmentYaml("name: [unclosed").ok());
  EXPECT_FALSE(ParseSegmentYaml("name: A\nname: B\n").ok());
}

TEST(SegmentDefinition, IncompleteDefinitionsParseSoTheyCanBeDrafts) {
  auto d = ParseSegmentJson(R"({"name": "Half", "type": "dynamic", "rules": [{"conditions": [{"field": "State"}]}]})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto problems = Validate(*d, LabSchema());
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].ToString(), "rules[0]: no entity chosen");
  EXPECT_EQ(StateAfterSave(*d, problems), SegmentState::kDraft);
  d->type = SegmentType::kStatic;
  EXPECT_EQ(StateAfterSave(*d, problems), SegmentState::kInactive);
  EXPECT_EQ(StateAfterSave(*d, {}), SegmentState::kActive);
}

std::vector<std::string> ProblemsOf(const std::string& json) {
  auto d = ParseSegmentJson(json);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  std::vector<std::string> out;
  if (!d.ok()) return out;
  for (const auto& p : Validate(*d, LabSchema())) out.push_back(p.ToString());
  return out;
}

std::string Rule1(const std::string& conditions, const std::string& entity = "Customer") {
  return R"({"name": "S", "rules": [{"entity": ")" + entity + R"(", "conditions": [)" + conditions + "]}]}";
}

TEST(SegmentValidation, UnknownFieldSuggestsTheClosest) {
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Stat", "op": "equals", "values": ["CA"]})")),
            std::vector<std::string>{"rules[0].conditions[0]: field 'Stat' is not a field of Customer (did you mean State?)"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Zzzzzzz", "op": "equals", "values": ["CA"]})")),
            std::vector<std::string>{"rules[0].conditions[0]: field 'Zzzzzzz' is not a field of Customer"});
}

TEST(SegmentValidation, UnknownEntitySuggestsTheClosest) {
  auto p = ProblemsOf(R"({"name": "S", "rules": [{"entity": "Online Purchase", "all_records": true}]})");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "rules[0]: entity 'Online Purchase' is not Customer, Customer_Measure or an entity related to Customer (did you mean Online Purchases?)");
}

TEST(SegmentValidation, OperatorMustFitTheFieldType) {
  auto p = ProblemsOf(Rule1(R"({"field": "Age", "op": "contains", "values": ["1"]})"));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("operator 'contains' does not apply to number field 'Age' (use equals"), std::string::npos) << p[0];
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Vip", "op": "greater", "values": [1]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "State", "op": "in_last", "values": [1]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "starts_with", "values": ["19"]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "State"})")), std::vector<std::string>{"rules[0].conditions[0]: no operator chosen"});
}

TEST(SegmentValidation, ValuesMustFitTheFieldType) {
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "greater", "values": ["old"]})")),
            std::vector<std::string>{"rules[0].conditions[0].values[0]: 'old' is not a number"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "after", "values": ["1/1/1981"]})")),
            std::vector<std::string>{"rules[0].conditions[0].values[0]: '1/1/1981' is not a date (use YYYY-MM-DD)"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "on", "values": ["2023-02-29"]})")).size(), 1u);
  // Numeric text and dates are read by common/value_text, as measure filters and ingest read them.
  for (const char* v : {"+-5", "0x10", "1e999", " 5", "inf"}) {
    const std::string cond = std::string("{\"field\": \"Age\", \"op\": \"greater\", \"values\": [\"") + v + "\"]}";
    EXPECT_EQ(ProblemsOf(Rule1(cond)),
              std::vector<std::string>{"rules[0].conditions[0].values[0]: '" + std::string(v) + "' is not a number"});
  }
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"field": "Age", "op": "greater", "values": ["+5.5e1"]})")).empty());
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"field": "Age", "op": "greater", "values": ["1e-999"]})")).empty());
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "on", "values": ["2024-1-05"]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Vip", "op": "equals", "values": ["yes"]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "State", "op": "equals", "values": [1.5]})")).size(), 1u);
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"field": "Age", "op": "greater", "values": ["42"]})")).empty());
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "between", "values": [5]})")),
            std::vector<std::string>{"rules[0].conditions[0]: operator 'between' takes 2 values, got 1"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "between", "values": [9, 5]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "in"})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "is_empty", "values": [1]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "in_last", "values": [0]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "this_period", "unit": "days"})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [400]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "equals", "values": [1], "case_insensitive": true})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"field": "Age", "op": "equals", "values": [1], "unit": "weeks"})")).size(), 1u);
}

TEST(SegmentValidation, RulesAndNames) {
  EXPECT_EQ(ProblemsOf(R"({"name": "Summer Promo", "rules": [{"entity": "Customer", "all_records": true}]})"),
            std::vector<std::string>{"name: 'Summer Promo' is not a valid name: letters, digits and _, starting with a letter or _, no spaces, at most 128 characters"});
  EXPECT_EQ(ProblemsOf(R"({"name": "", "rules": []})"),
            (std::vector<std::string>{"name: a segment needs a name", "rules: a segment needs at least one rule"}));
  EXPECT_EQ(ProblemsOf(R"({"name": "S", "rules": [{"entity": "Customer"}]})"),
            std::vector<std::string>{"rules[0]: empty rule: add conditions or choose all_records"});
  EXPECT_EQ(ProblemsOf(R"({"name": "S", "type": "static", "schedule": "0 0 * * *", "rules": [{"entity": "Customer", "all_records": true}]})").size(), 1u);
  EXPECT_EQ(ProblemsOf(R"({"name": "S", "schedule": "every day", "rules": [{"entity": "Customer", "all_records": true}]})").size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"any": []})")), std::vector<std::string>{"rules[0].conditions[0]: empty OR group"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"any": [{"field": "Ag", "op": "is_empty"}]})")),
            std::vector<std::string>{"rules[0].conditions[0].any[0]: field 'Ag' is not a field of Customer (did you mean Age?)"});
}

TEST(SegmentValidation, ConditionsReadTheRuleEntityOrAPerCustomerEntity) {
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"entity": "Customer", "field": "State", "op": "equals", "values": ["CA"]})", "Online Purchases")).empty());
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"entity": "Customer_Measure", "field": "AverageWebPurchase", "op": "greater", "values": [1]})", "Online Purchases")).empty());
  EXPECT_EQ(ProblemsOf(Rule1(R"({"entity": "Reviews", "field": "Rating", "op": "greater", "values": [1]})", "Online Purchases")).size(), 1u);
}

TEST(SegmentValidation, AggregateConditions) {
  const char* ok = R"({"aggregate": "sum", "field": "TotalPrice", "window": {"last": 90, "unit": "days"},
                       "time_field": "PurchasedOn", "op": "greater", "values": [500]})";
  EXPECT_TRUE(ProblemsOf(Rule1(ok, "Online Purchases")).empty());
  // From Customer the aggregate names its entity.
  EXPECT_EQ(ProblemsOf(Rule1(ok, "Customer")).size(), 1u);
  EXPECT_TRUE(ProblemsOf(Rule1(R"({"aggregate": "count", "entity": "Reviews", "filters": [{"field": "Rating", "op": "less_equal", "values": [2]}],
                                 "window": {"last": 30}, "time_field": "ReviewedOn", "op": "greater_equal", "values": [1]})")).empty());
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "sum", "entity": "Online Purchases", "field": "Product", "op": "greater", "values": [1]})")),
            std::vector<std::string>{"rules[0].conditions[0]: sum needs a number field; 'Product' is string"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "count", "entity": "Reviews", "window": {"last": 30}, "op": "greater", "values": [1]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "count", "entity": "Reviews", "window": {"last": 30}, "time_field": "Rating", "op": "greater", "values": [1]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "count", "entity": "Reviews", "op": "contains", "values": ["1"]})")).size(), 1u);
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "count", "entity": "Reviews", "filters": [{"field": "Ratin", "op": "is_empty"}], "op": "greater", "values": [1]})")),
            std::vector<std::string>{"rules[0].conditions[0].filters[0]: field 'Ratin' is not a field of Reviews (did you mean Rating?)"});
  EXPECT_EQ(ProblemsOf(Rule1(R"({"aggregate": "average", "entity": "Customer_Measure", "field": "AverageWebPurchase", "op": "greater", "values": [1]})")).size(), 1u);
}

TEST(SegmentDefinition, QuickSegmentsFromProfileAndMeasure) {
  SegmentDefinition ca = MakeQuickSegment("CustomersFromCalifornia", "Customer", "State", ConditionOp::kEquals, {std::string("California")});
  EXPECT_TRUE(Validate(ca, LabSchema()).empty());
  EXPECT_EQ(ca.type, SegmentType::kDynamic);
  auto back = ParseSegmentJson(SegmentToJson(ca));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, ca);
  SegmentDefinition hv = MakeQuickSegment("HighValueOnlineCustomers", "Customer_Measure", "AverageWebPurchase", ConditionOp::kGreater, {int64_t{138}});
  EXPECT_TRUE(Validate(hv, LabSchema()).empty());
  SegmentDefinition bad = MakeQuickSegment("Bad", "Customer_Measure", "AverageWebPurchas", ConditionOp::kGreater, {int64_t{138}});
  ASSERT_EQ(Validate(bad, LabSchema()).size(), 1u);
}

TEST(SegmentDefinition, OperatorNamesRoundTrip) {
  for (int i = 1; i <= static_cast<int>(ConditionOp::kIsFalse); ++i) {
    auto op = static_cast<ConditionOp>(i);
    auto back = ParseConditionOp(ConditionOpName(op));
    ASSERT_TRUE(back.has_value()) << ConditionOpName(op);
    EXPECT_EQ(*back, op);
  }
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST(SegmentDefinition, MembershipRulesActiveAndExpansionRoundTrip) {
  auto d = ParseSegmentJson(R"({"name": "Both", "active": false, "rules": [{"segment": "A"},
      {"combine": "intersect", "segment": "B"}]})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_FALSE(d->active);
  EXPECT_EQ(d->rules[0].segment, "A");
  EXPECT_EQ(d->rules[1].combine, SetOperator::kIntersect);
  EXPECT_EQ(*ParseSegmentJson(SegmentToJson(*d)), *d);
  EXPECT_EQ(*ParseSegmentYaml(SegmentToYaml(*d)), *d);
  auto e = ParseSegmentJson(R"({"name": "Similar", "type": "expansion",
      "expansion": {"source": "A", "pool": "B", "share": 0.3, "min_similarity": 0.7, "include_source": true, "seed": 9}})");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->type, SegmentType::kExpansion);
  EXPECT_EQ(e->expansion.pool, "B");
  EXPECT_DOUBLE_EQ(e->expansion.min_similarity, 0.7);
  EXPECT_EQ(e->expansion.seed, 9u);
  EXPECT_EQ(*ParseSegmentJson(SegmentToJson(*e)), *e);
  EXPECT_EQ(*ParseSegmentYaml(SegmentToYaml(*e)), *e);
  EXPECT_EQ(SegmentTypeName(e->type), "expansion");
  auto bad = ParseSegmentJson(R"({"name": "X", "type": "expansion", "expansion": {"source": "A", "sauce": 1}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("expansion.sauce"), std::string::npos) << bad.status().message();
}

TEST(SegmentValidation, MembershipRulesAndExpansionsAreChecked) {
  SegmentSchema schema = LabSchema();
  schema.segments = {"CustomersFromCalifornia", "HighValue"};
  auto problems = [&](const std::string& json) {
    auto d = ParseSegmentJson(json);
    EXPECT_TRUE(d.ok()) << d.status().message();
    std::string out;
    for (const auto& p : Validate(*d, schema)) out += p.ToString() + "\n";
    return out;
  };
  EXPECT_EQ(problems(R"({"name": "Ok", "rules": [{"segment": "HighValue"}]})"), "");
  EXPECT_NE(problems(R"({"name": "X", "rules": [{"segment": "HighValu"}]})").find("did you mean HighValue"),
            std::string::npos);
  EXPECT_NE(problems(R"({"name": "X", "rules": [{"segment": "X"}]})").find("its own members"), std::string::npos);
  EXPECT_NE(problems(R"({"name": "X", "rules": [{"segment": "HighValue", "entity": "Customer"}]})")
                .find("has no entity, conditions"),
            std::string::npos);
  EXPECT_NE(problems(R"({"name": "X", "type": "static", "active": false, "rules": [{"segment": "HighValue"}]})")
                .find("only a dynamic segment"),
            std::string::npos);
  EXPECT_EQ(problems(R"({"name": "E", "type": "expansion", "expansion": {"source": "HighValue"}})"), "");
  std::string e = problems(R"({"name": "E", "type": "expansion", "expansion": {"source": "E", "share": 2,
      "min_similarity": 0.2}, "rules": [{"segment": "HighValue"}]})");
  EXPECT_NE(e.find("own source"), std::string::npos) << e;
  EXPECT_NE(e.find("expansion.share"), std::string::npos) << e;
  EXPECT_NE(e.find("expansion.min_similarity"), std::string::npos) << e;
  EXPECT_NE(e.find("has no rules"), std::string::npos) << e;
}

}  // namespace
}  // namespace cdp
