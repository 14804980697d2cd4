#include "config/enrichment_config.h"

#include <gtest/gtest.h>

#include "config/project_config.h"

namespace cdp {
namespace {

StatusOr<ProjectConfig> Parse(const std::string& enrichments) {
  std::string yaml = "sources:\n  - {name: S, kind: csv, path: s.csv}\nenrichments:\n" + enrichments;
  return ParseProjectYaml(yaml, "project.yaml", "/tmp");
}

TEST(EnrichmentConfigTest, ParsesEveryKindWithDefaultsAndRoundTrips) {
  auto p = Parse(
      "  - name: BrandAffinity\n    kind: affinity\n    products: Products\n    attribute: Brand\n"
      "  - name: Engagement\n    kind: engagement\n    weights: {OnlinePurchase: 1, WebsiteReview: 2.5}\n"
      "    half_life_days: 60\n"
      "  - name: Demographics\n    kind: third_party\n    entity: S\n"
      "    keys: [{field: Email, match: email}, {field: Mobile, customer_field: Phone, match: phone}]\n"
      "    fields: [HouseholdSize]\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->enrichments.size(), 3u);
  const auto& a = p->enrichments[0];
  EXPECT_EQ(a.kind, EnrichmentKind::kAffinity);
  EXPECT_EQ(a.product_field, "ProductId");
  EXPECT_EQ(a.product_key, "ProductId");
  EXPECT_EQ(a.weight, "count");
  EXPECT_EQ(a.top, 3);
  EXPECT_EQ(p->enrichments[1].half_life_days, 60);
  EXPECT_DOUBLE_EQ(p->enrichments[1].weights.at("WebsiteReview"), 2.5);
  ASSERT_EQ(p->enrichments[2].keys.size(), 2u);
  EXPECT_EQ(p->enrichments[2].keys[0].customer_field, "Email");
  EXPECT_EQ(p->enrichments[2].keys[1].customer_field, "Phone");

  auto back = EnrichmentsFromJson(EnrichmentsToJson(p->enrichments));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, p->enrichments);
  auto again = ParseProjectYaml(EmitProjectYaml(*p), "export.yaml", "/tmp");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->enrichments, p->enrichments);
}

TEST(EnrichmentConfigTest, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expected;
  } cases[] = {
      {"  - name: A\n    kind: magic\n", "unknown kind 'magic'"},
      {"  - name: A\n    kind: affinity\n    attribute: Brand\n", "products"},
      {"  - name: A\n    kind: affinity\n    products: P\n    attribute: Brand\n    weight: price\n",
       "unknown weight 'price'"},
      {"  - name: A\n    kind: affinity\n    products: P\n    attribute: Brand\n    top: 50\n", "out of range (1..20)"},
      {"  - name: A\n    kind: engagement\n    half_life_days: 0\n", "half_life_days"},
      {"  - name: A\n    kind: engagement\n    weights: {Buy: -1}\n", "weight is a number from 0 to 1000"},
      {"  - name: A\n    kind: engagement\n    products: P\n", "unknown key for kind engagement"},
      {"  - name: A\n    kind: third_party\n    entity: S\n", "needs 'keys'"},
      {"  - name: A\n    kind: third_party\n    entity: S\n    keys: [{field: E, match: fuzzy}]\n",
       "unknown match 'fuzzy'"},
      {"  - name: 1A\n    kind: engagement\n", "not a usable name"},
      {"  - name: A\n    kind: engagement\n  - name: A\n    kind: engagement\n", "declared twice"},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.expected), std::string::npos) << p.status().message();
    EXPECT_NE(p.status().message().find("project.yaml:"), std::string::npos) << p.status().message();
  }
}

TEST(EnrichmentConfigTest, BeforeUnificationReadsSourceKeysAndTypedFieldsAndRoundTrips) {
  auto p = Parse(
      "  - name: LoyaltyPhones\n    kind: third_party\n    when: before_unification\n    source: Loyalty\n"
      "    entity: S\n"
      "    keys: [{field: Email, match: email}, {field: Mail2, source_field: AltEmail, match: email}]\n"
      "    fields: [HouseholdSize, {name: Phone, as: AppendedPhone, semantic: Phone}, {name: City, as: City}]\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const auto& e = p->enrichments[0];
  EXPECT_TRUE(e.before_unification());
  EXPECT_EQ(e.source, "Loyalty");
  ASSERT_EQ(e.keys.size(), 2u);
  EXPECT_EQ(e.keys[0].source_field, "Email");  // default: the third-party field's name
  EXPECT_EQ(e.keys[1].source_field, "AltEmail");
  EXPECT_TRUE(e.keys[0].customer_field.empty());
  ASSERT_EQ(e.fields.size(), 3u);
  EXPECT_EQ(e.fields[0].output(), "HouseholdSize");
  EXPECT_EQ(e.fields[1].output(), "AppendedPhone");
  EXPECT_EQ(e.fields[1].semantic, "Phone");
  EXPECT_TRUE(e.fields[2].as.empty());  // `as` equal to the name is the name
  const std::string json = EnrichmentsToJson(p->enrichments);
  EXPECT_NE(json.find("\"when\":\"before_unification\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"source_field\":\"AltEmail\""), std::string::npos) << json;
  auto back = EnrichmentsFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, p->enrichments);
  auto again = ParseProjectYaml(EmitProjectYaml(*p), "export.yaml", "/tmp");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->enrichments, p->enrichments);

  // The default stays after unification, and its JSON has no `when`.
  auto after = Parse("  - name: A\n    kind: third_party\n    entity: S\n    keys: [{field: Email, match: email}]\n");
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_FALSE(after->enrichments[0].before_unification());
  EXPECT_EQ(after->enrichments[0].keys[0].customer_field, "Email");
  EXPECT_EQ(EnrichmentsToJson(after->enrichments).find("when"), std::string::npos);
}

TEST(EnrichmentConfigTest, BeforeUnificationErrorsNameTheLineAndKey) {
  const std::string tp = "  - name: A\n    kind: third_party\n";
  const std::string keys = "    keys: [{field: Email, match: email}]\n";
  struct Case {
    std::string yaml;
    std::string expected;
    std::string line;
  } cases[] = {
      {tp + "    when: before_unification\n    entity: S\n" + keys, "before_unification needs 'source'",
       "project.yaml:6: enrichments[0].when"},
      {tp + "    when: sometimes\n    entity: S\n" + keys, "unknown value 'sometimes'", "project.yaml:6"},
      {tp + "    source: L\n    entity: S\n" + keys, "'source' is for when: before_unification",
       "project.yaml:6: enrichments[0].source"},
      {tp + "    when: before_unification\n    source: S\n    entity: S\n" + keys,
       "the third-party entity is the enriched source itself", "project.yaml:8"},
      {tp + "    when: before_unification\n    source: L\n    entity: S\n"
            "    keys: [{field: Email, customer_field: Email, match: email}]\n",
       "before unification a key names the source's field: source_field", "project.yaml:9"},
      {tp + "    entity: S\n    keys: [{field: Email, source_field: Email, match: email}]\n",
       "after unification a key names the Customer field: customer_field", "project.yaml:7"},
      {tp + "    entity: S\n" + keys + "    fields: [{name: P, semantic: 'not a type'}]\n",
       "'not a type' is not a semantic type", "project.yaml:8"},
      {tp + "    entity: S\n" + keys + "    fields: [P, {name: Q, as: P}]\n", "the column 'P' is written twice",
       "project.yaml:8"},
      {tp + "    entity: S\n" + keys + "    fields: [{name: P, colour: red}]\n", "unknown key", "project.yaml:8"},
      {tp + "    entity: S\n" + keys + "    fields: [{name: P, as: MatchedBy}]\n",
       "'MatchedBy' is a column the enrichment writes itself", "project.yaml:8"},
      {"  - name: A\n    kind: engagement\n    when: before_unification\n", "unknown key for kind engagement",
       "project.yaml:6"},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.expected), std::string::npos) << p.status().message();
    EXPECT_NE(p.status().message().find(c.line), std::string::npos) << p.status().message();
  }
}

}  // namespace
}  // namespace cdp
