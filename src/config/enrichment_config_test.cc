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

}  // namespace
}  // namespace cdp
