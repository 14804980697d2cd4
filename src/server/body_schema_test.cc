// BodySchema: validation errors per kind of constraint, the emitted JSON
// Schema, and the segment definition schema against ParseSegmentJson (the
// parser that still runs after it) on the same inputs.
#include "server/body_schema.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <regex>
#include <sstream>

#include "segment/segment_definition.h"
#include "segment/segment_operators.h"
#include "server/request_schemas.h"

namespace cdp {
namespace {

using J = nlohmann::ordered_json;
using S = BodySchema;

std::string ErrorOf(const BodySchema& s, const std::string& json) {
  auto e = s.Validate(J::parse(json));
  return e ? e->code + " " + e->path + ": " + e->message : "";
}

TEST(BodySchemaTest, EachConstraintNamesTheFieldPath) {
  S s = S::Object({S::Required("name", S::String().MinLength(1).MaxLength(5)),
                   S::Optional("role", S::String().Enum({"a", "b"})),
                   S::Optional("n", S::Integer().Range(1, 10)),
                   S::Optional("x", S::Number()),
                   S::Optional("flag", S::Boolean().Nullable()),
                   S::Optional("list", S::Array(S::Object({S::Required("k", S::String())})).MaxItems(2)),
                   S::Optional("map", S::MapOf(S::String())),
                   S::Optional("id", S::String().Pattern("^[a-z]+$", "lowercase letters",
                                                         [](std::string_view v) {
                                                           return !v.empty() && v.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
                                                         }))});
  EXPECT_EQ(ErrorOf(s, R"({"name":"ok","flag":null,"list":[{"k":"v"}],"map":{"a":"b"},"id":"abc","x":1.5})"), "");
  EXPECT_EQ(ErrorOf(s, R"({})"), "missing_field name: field 'name' is required");
  EXPECT_EQ(ErrorOf(s, R"({"name":5})"), "wrong_type name: field 'name' must be a string");
  EXPECT_EQ(ErrorOf(s, R"({"name":""})"), "invalid_value name: field 'name' may not be empty");
  EXPECT_EQ(ErrorOf(s, R"({"name":"toolong"})"), "invalid_value name: field 'name' is longer than 5 bytes");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a\u0000b"})"), "invalid_value name: field 'name' contains a NUL character");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","role":"c"})"), "invalid_value role: field 'role': 'c' is not one of a, b");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","n":11})"), "invalid_value n: field 'n': '11' must be from 1 to 10");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","n":1.5})"), "wrong_type n: field 'n' must be a whole number");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","x":"1"})"), "wrong_type x: field 'x' must be a number");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","flag":"yes"})"), "wrong_type flag: field 'flag' must be true or false");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","list":[{"k":"v"},{"k":1}]})"), "wrong_type list[1].k: field 'list[1].k' must be a string");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","list":[{},{},{}]})"), "invalid_value list: field 'list' has more than 2 items");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","list":[{"k":"v","z":1}]})"),
            "unknown_field list[0].z: unknown field 'list[0].z' (expected: k)");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","map":{"m":[]}})"), "wrong_type map.m: field 'map.m' must be a string");
  EXPECT_EQ(ErrorOf(s, R"({"name":"a","id":"Abc"})"), "invalid_value id: field 'id': 'Abc' is not valid: lowercase letters");
  EXPECT_EQ(ErrorOf(s, R"([1])"), "wrong_type : the body must be an object");
}

TEST(BodySchemaTest, OneOfValidatesTheSelectedAlternative) {
  S s = S::OneOf({S::String().Describe("text"), S::Object({S::Required("n", S::Integer())}).Describe("{n}")},
                 [](const J& v) { return v.is_string() ? 0 : v.is_object() ? 1 : -1; });
  EXPECT_EQ(ErrorOf(s, R"("x")"), "");
  EXPECT_EQ(ErrorOf(s, R"({"n":"x"})"), "wrong_type n: field 'n' must be a whole number");
  EXPECT_EQ(ErrorOf(s, R"(5)"), "wrong_type : the body must be one of: text, {n}");
}

TEST(BodySchemaTest, EmitsJsonSchemaWithNamedPartsByReference) {
  S inner = S::Object({S::Required("k", S::String().Enum({"a"}))}).Named("Inner");
  S s = S::Object({S::Required("inner", std::move(inner)), S::Optional("opt", S::Integer().Range(0, 3).Nullable())})
            .Named("Outer");
  J components = J::object();
  J ref = s.AsRef(&components);
  EXPECT_EQ(ref, J({{"$ref", "#/components/schemas/Outer"}}));
  const J& outer = components["Outer"];
  EXPECT_EQ(outer["type"], "object");
  EXPECT_EQ(outer["required"], J::array({"inner"}));
  EXPECT_EQ(outer["additionalProperties"], false);
  EXPECT_EQ(outer["properties"]["inner"], J({{"$ref", "#/components/schemas/Inner"}}));
  EXPECT_EQ(outer["properties"]["opt"]["nullable"], true);
  EXPECT_EQ(outer["properties"]["opt"]["maximum"], 3.0);
  EXPECT_EQ(components["Inner"]["properties"]["k"]["enum"], J::array({"a"}));
}

// The name pattern in the document and the segment module's check agree.
TEST(BodySchemaTest, SegmentNamePatternMatchesTheSegmentModulesCheck) {
  std::regex re{std::string(kSegmentNamePattern)};
  for (const std::string& name : std::vector<std::string>{"CustomersFromCalifornia", "_x", "a1", "Customers From California", "1abc", "", "a-b",
                           "Ä", std::string(128, 'a'), "x\ty"}) {
    bool by_regex = std::regex_match(name, re) && name.size() <= kMaxSegmentNameLength;
    EXPECT_EQ(by_regex, IsValidSegmentName(name)) << name;
  }
  EXPECT_FALSE(IsValidSegmentName(std::string(129, 'a')));
}

TEST(SegmentSchemaTest, OperatorsComeFromTheSegmentTable) {
  J components = J::object();
  SegmentDefinitionBody().AsRef(&components);
  const J& op = components["FieldCondition"]["properties"]["op"];
  std::set<std::string> listed;
  for (const auto& v : op["enum"]) listed.insert(v.get<std::string>());
  for (const SegmentOperator& o : SegmentOperators()) EXPECT_TRUE(listed.count(std::string(o.name))) << o.name;
  EXPECT_EQ(listed.size(), SegmentOperators().size() + 1);  // + "" (not chosen yet)
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whatever ParseSegmentJson accepts, the schema accepts (it runs first, so a
// stricter schema would refuse valid definitions); shapes the parser refuses
// are refused by the schema too, naming the same path.
TEST(SegmentSchemaTest, AgreesWithTheParser) {
  std::vector<std::string> valid = {
      ReadFile(std::string(CDP_SOURCE_DIR) + "/src/segment/fuzz/corpus/everything.json"),
      R"({"name":"A","rules":[{"entity":"Customer","conditions":[{"field":"State","op":"equals","values":["CA"]}]}]})",
      R"({"name":"","type":"","rules":[{"entity":"Customer","conditions":[{"field":"","op":"","values":[]}]}]})",
      R"({"name":"Draft","rules":[{"entity":"Customer","conditions":[{"field":"State"}]}]})",
      R"({"name":null,"display_name":null,"rules":null})",
      // Issue 19: membership of another segment, a deactivated segment, an expansion.
      R"({"name":"M","active":false,"rules":[{"segment":"Other"},{"combine":"except","segment":"Third"}]})",
      R"({"name":"E","type":"expansion","expansion":{"source":"S","pool":"P","share":0.2,"min_similarity":0.7,"include_source":true,"seed":3}})",
      R"({"name":"E","type":"expansion","expansion":{"source":"S"},"rules":null})",
      R"({"rules":[{"entity":"Customer","conditions":[{"field":"D","op":"this_period","unit":"quarter","aggregate":null}]},
                   {"combine":"exclude","entity":"Customer","conditions":null}]})",
      R"({"rules":[{"entity":"Customer","conditions":[{"aggregate":"sum","entity":"P","field":"T","window":"all_time","op":"greater","values":[1]},
                   {"aggregate":"max","entity":"P","field":"T","window":{"between":["2020-01-01","2020-12-31"]},"filters":null},
                   {"aggregate":"min","entity":"P","field":"T","window":{"this":"month"}},
                   {"aggregate":"average","entity":"P","field":"T","window":{"previous":"years"}},
                   {"aggregate":"count","entity":"P","window":{"last":5,"unit":null}}]}]})",
      R"({"rules":[{"entity":"Customer","conditions":[{"field":"Flag","op":"is_true","case_insensitive":null,"values":[true, 1, 2.5, "x"]}]}]})",
  };
  for (const auto& text : valid) {
    auto parsed = ParseSegmentJson(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
    EXPECT_EQ(ErrorOf(SegmentDefinitionBody(), text), "") << text;
    // The canonical form too.
    EXPECT_EQ(ErrorOf(SegmentDefinitionBody(), SegmentToJson(*parsed)), "") << SegmentToJson(*parsed);
  }
  struct Bad {
    std::string json;
    std::string path;  // the path both name
  };
  std::vector<Bad> invalid = {
      {R"({"colour":1})", "colour"},
      {R"({"type":"sometimes"})", "type"},
      {R"({"name":5})", "name"},
      {R"({"rules":{}})", "rules"},
      {R"({"rules":[5]})", "rules[0]"},
      {R"({"rules":[{"combine":"xor"}]})", "rules[0].combine"},
      {R"({"rules":[{"conditions":[{"op":"resembles"}]}]})", "rules[0].conditions[0].op"},
      {R"({"rules":[{"conditions":[{"field":"F","values":[[1]]}]}]})", "rules[0].conditions[0].values[0]"},
      {R"({"rules":[{"conditions":[{"field":"F","unit":"fortnights"}]}]})", "rules[0].conditions[0].unit"},
      {R"({"rules":[{"conditions":[{"field":"F","window":"all_time"}]}]})", "rules[0].conditions[0].window"},
      {R"({"rules":[{"conditions":[{"any":5}]}]})", "rules[0].conditions[0].any"},
      {R"({"rules":[{"conditions":[{"any":[],"field":"F"}]}]})", "rules[0].conditions[0].field"},
      {R"({"rules":[{"conditions":[{"aggregate":"median"}]}]})", "rules[0].conditions[0].aggregate"},
      {R"({"rules":[{"conditions":[{"aggregate":"sum","filters":[{"aggregate":"count"}]}]}]})",
       "rules[0].conditions[0].filters[0].aggregate"},
      {R"({"rules":[{"conditions":[{"aggregate":"sum","window":{"last":0}}]}]})", "rules[0].conditions[0].window.last"},
      {R"({"rules":[{"conditions":[{"aggregate":"sum","window":{"this":"week"}}]}]})", "rules[0].conditions[0].window.this"},
      {R"({"rules":[{"conditions":[{"aggregate":"sum","window":{"between":["2020-01-01"]}}]}]})",
       "rules[0].conditions[0].window.between"},
      {R"({"rules":[{"conditions":[{"aggregate":"sum","window":{"last":3,"between":[]}}]}]})",
       "rules[0].conditions[0].window.between"},
  };
  for (const auto& b : invalid) {
    auto parsed = ParseSegmentJson(b.json);
    EXPECT_FALSE(parsed.ok()) << b.json;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find(b.path), std::string::npos) << parsed.status().message();
    }
    auto e = SegmentDefinitionBody().Validate(J::parse(b.json));
    ASSERT_TRUE(e.has_value()) << b.json;
    EXPECT_EQ(e->path, b.path) << e->message;
  }
}

}  // namespace
}  // namespace cdp
