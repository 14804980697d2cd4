#include "config/prediction_config.h"

#include <gtest/gtest.h>

#include "config/project_config.h"

namespace cdp {
namespace {

StatusOr<ProjectConfig> Parse(const std::string& predictions) {
  std::string yaml =
      "sources:\n  - {name: S, kind: csv, path: s.csv}\npredictions:\n" + predictions;
  return ParseProjectYaml(yaml, "project.yaml", "/tmp");
}

TEST(PredictionConfigTest, ParsesEveryKindWithDefaults) {
  auto p = Parse(
      "  - name: Churn\n    kind: transactional_churn\n    activities: [Purchase]\n    profile_fields: [Gender]\n"
      "  - name: Value\n    kind: clv\n    activities: Purchase\n    horizon_months: 6\n    high_value: {top_percent: 20}\n"
      "  - name: Reco\n    kind: product_recommendations\n    activities: [Purchase]\n    count: 5\n"
      "    algorithm: item_knn\n    repeat_purchases: true\n"
      "  - name: Subs\n    kind: subscription_churn\n"
      "    subscriptions: {entity: S, start: Start, end: End, amount: Amount}\n    renewal_days: 14\n"
      "  - name: Partner\n    kind: imported_scores\n    entity: S\n    fields: [Score]\n"
      "  - name: Own\n    kind: xgboost_model\n    model_file: m.json\n"
      "    features: [Customer_Measure.Spend, Customer.Age]\n    retrain: \"0 4 * * 0\"\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->predictions.size(), 6u);
  const auto& churn = p->predictions[0];
  EXPECT_EQ(churn.kind, PredictionKind::kTransactionalChurn);
  EXPECT_EQ(churn.window_days, 90);
  EXPECT_EQ(churn.churn_days, 0);
  EXPECT_EQ(churn.product_field, "ProductId");
  EXPECT_FALSE(churn.other_activities_set);
  EXPECT_EQ(p->predictions[1].activities, std::vector<std::string>{"Purchase"});
  EXPECT_EQ(p->predictions[1].horizon_months, 6);
  EXPECT_DOUBLE_EQ(p->predictions[1].high_value_top_percent, 20);
  EXPECT_EQ(p->predictions[2].count, 5);
  EXPECT_EQ(p->predictions[2].algorithm, "item_knn");
  EXPECT_TRUE(p->predictions[2].repeat_purchases);
  EXPECT_EQ(p->predictions[3].subscriptions.amount, "Amount");
  EXPECT_EQ(p->predictions[3].renewal_days, 14);
  EXPECT_EQ(p->predictions[5].features.size(), 2u);
  EXPECT_EQ(p->predictions[5].features[0].entity, "Customer_Measure");
  EXPECT_EQ(p->predictions[5].retrain, "0 4 * * 0");

  // JSON round trip (the catalog's and the API's form) and YAML export.
  auto back = PredictionsFromJson(PredictionsToJson(p->predictions));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, p->predictions);
  auto again = ParseProjectYaml(EmitProjectYaml(*p), "export.yaml", "/tmp");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->predictions, p->predictions);
}

TEST(PredictionConfigTest, ErrorsNameTheLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expected;
  } cases[] = {
      {"  - name: C\n    kind: churn\n    activities: [P]\n", "unknown kind 'churn'"},
      {"  - name: C\n    kind: transactional_churn\n", "needs 'activities'"},
      {"  - name: C\n    kind: transactional_churn\n    activities: [P]\n    window_days: 3\n",
       "predictions[0].window_days: prediction 'C': 3 is out of range (7..730)"},
      {"  - name: C\n    kind: clv\n    activities: [P]\n    count: 3\n", "predictions[0].count: unknown key"},
      {"  - name: C\n    kind: clv\n    activities: [P]\n    high_value: {share: 0.8, top_percent: 3}\n",
       "give one of {share: 0.8} and {top_percent: 20}"},
      {"  - name: 9C\n    kind: clv\n    activities: [P]\n", "is not a usable name"},
      {"  - name: C\n    kind: product_recommendations\n    activities: [P]\n    algorithm: magic\n",
       "unknown algorithm 'magic'"},
      {"  - name: C\n    kind: xgboost_model\n    model_file: m.json\n    features: [Spend]\n",
       "'Spend' is not ENTITY.FIELD"},
      {"  - name: C\n    kind: xgboost_model\n    model_file: m.json\n    features: [S.Spend]\n",
       "features come from Customer or Customer_Measure"},
      {"  - name: C\n    kind: clv\n    activities: [P]\n  - name: C\n    kind: clv\n    activities: [P]\n",
       "'C' is declared twice"},
      {"  - name: C\n    kind: transactional_churn\n    activities: [P]\n    retrain: every day\n", "retrain"},
      {"  - name: C\n    kind: subscription_churn\n    subscriptions: {entity: S, start: \"\", end: End}\n",
       "predictions[0].subscriptions.start: prediction 'C': must not be empty"},
  };
  for (const auto& c : cases) {
    auto p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_NE(p.status().message().find(c.expected), std::string::npos) << p.status().message();
    EXPECT_NE(p.status().message().find("project.yaml:"), std::string::npos) << p.status().message();
  }
}

TEST(PredictionConfigTest, OneFromJsonRefusesHostileBodies) {
  EXPECT_TRUE(PredictionConfigFromJson(R"({"name":"C","kind":"clv","activities":["P"]})").ok());
  EXPECT_FALSE(PredictionConfigFromJson("[1,2]").ok());
  EXPECT_FALSE(PredictionConfigFromJson(R"({"name":"C","name":"D","kind":"clv","activities":["P"]})").ok());
  EXPECT_FALSE(PredictionConfigFromJson(std::string(100, '[') + std::string(100, ']')).ok());
  auto bad = PredictionConfigFromJson(R"({"name":"C","kind":"clv","activities":["P"],"horizon_months":"x"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("horizon_months"), std::string::npos);
}

}  // namespace
}  // namespace cdp
