// The `predictions:` section of the project YAML (docs/project-yaml.md
// "Predictions"): which models the predictions stage trains and scores.
// Each prediction writes one entity, Prediction_<name> (common/entity_names.h),
// keyed by CustomerId, usable in segments, cards and exports. Parsing checks
// shape and value ranges (errors name the file, line and key); references to
// activities, entities and fields are checked with the rest of the project
// (workspace/prediction_runner.h ValidatePredictions). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace cdp {

enum class PredictionKind {
  kTransactionalChurn,  // "transactional_churn"
  kSubscriptionChurn,   // "subscription_churn"
  kClv,                 // "clv"
  kRecommendations,     // "product_recommendations"
  kImportedScores,      // "imported_scores": scores computed elsewhere, from an entity
  kExternalModel,       // "xgboost_model": an XGBoost JSON model trained elsewhere
};
std::string_view PredictionKindName(PredictionKind kind);
StatusOr<PredictionKind> ParsePredictionKind(std::string_view name);

// The subscription entity of subscription churn: an entity related to
// Customer and its fields.
struct SubscriptionFieldsConfig {
  std::string entity;
  std::string start;       // date or timestamp, required
  std::string end;         // date or timestamp; empty value = still running; required
  std::string recurring;   // bool, optional
  std::string recurrence;  // days between renewals (number), optional
  std::string amount;      // number, optional
  bool operator==(const SubscriptionFieldsConfig&) const = default;
};

// A feature of an external model: a per-customer value, in the model's
// feature order.
struct ExternalFeatureConfig {
  std::string entity;  // "Customer" or "Customer_Measure"
  std::string field;
  bool operator==(const ExternalFeatureConfig&) const = default;
};

struct PredictionConfig {
  std::string name;  // identifier [A-Za-z_][A-Za-z0-9_]*, at most 128 characters
  std::string display_name;
  std::string description;
  PredictionKind kind = PredictionKind::kTransactionalChurn;

  // Churn, CLV, recommendations: the activities (names under `activities:`)
  // that are transactions; their amount is the value, `product_field` of
  // their source rows the product.
  std::vector<std::string> activities;
  std::string product_field = "ProductId";
  // Churn: other activities counted as features (default: every activity not
  // in `activities`).
  std::vector<std::string> other_activities;
  bool other_activities_set = false;
  // Churn: Customer fields used as features (numbers as they are, text and
  // booleans one-hot over their most frequent values).
  std::vector<std::string> profile_fields;
  int32_t window_days = 90;  // churn: the prediction window (7..730)
  int32_t churn_days = 0;    // churn: no transaction for N days is churn (0 = window_days)
  double threshold = 0.5;    // churn: IsChurn = ChurnScore >= threshold

  // Subscription churn.
  SubscriptionFieldsConfig subscriptions;
  int32_t renewal_days = 30;  // an ended subscription not renewed within N days is churn

  // CLV.
  int32_t horizon_months = 12;     // 1..60
  double high_value_share = 0.8;   // customers making up this share of predicted value
  double high_value_top_percent = 0;  // > 0: the top N% instead

  // Recommendations.
  int32_t count = 10;  // products per customer, 1..100
  bool repeat_purchases = false;
  int32_t lookback_days = 0;  // 0 = all history
  std::vector<std::string> products;  // only these product ids (empty = all)
  std::string algorithm = "als";      // "als", "item_knn" or "popular"

  // Imported scores: an entity related to Customer and the fields copied.
  std::string entity;
  std::vector<std::string> fields;
  std::string time_field;  // the latest row per customer wins (empty = the last row)

  // External XGBoost model.
  std::string model_file;  // JSON model (XGBoost save_model), relative to the project file
  std::vector<ExternalFeatureConfig> features;

  // Retraining: cron text (5 fields) or empty = retrain only when the
  // definition changed or no model exists. Scoring runs on every refresh.
  std::string retrain;
  bool operator==(const PredictionConfig&) const = default;
};

Status ParsePredictions(const YAML::Node& node, const std::string& origin, std::vector<PredictionConfig>* out);
std::string PredictionsToJson(const std::vector<PredictionConfig>& v);
std::string PredictionConfigToJson(const PredictionConfig& p);
StatusOr<std::vector<PredictionConfig>> PredictionsFromJson(const std::string& json);
// One prediction from JSON (the API's body): InvalidArgument naming the key.
StatusOr<PredictionConfig> PredictionConfigFromJson(const std::string& json);

}  // namespace cdp
