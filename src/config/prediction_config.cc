#include "config/prediction_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/internal/definition_list.h"
#include "config/internal/yaml_reader.h"
#include "schedule/cron.h"

namespace cdp {
namespace {

using config_internal::FromJsonText;
using config_internal::IsDefinitionName;
using config_internal::kDefinitionNameRule;
using config_internal::NameList;
using config_internal::MapReader;
using Json = nlohmann::ordered_json;

struct KindName {
  PredictionKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {PredictionKind::kTransactionalChurn, "transactional_churn"},
    {PredictionKind::kSubscriptionChurn, "subscription_churn"},
    {PredictionKind::kClv, "clv"},
    {PredictionKind::kRecommendations, "product_recommendations"},
    {PredictionKind::kImportedScores, "imported_scores"},
    {PredictionKind::kExternalModel, "xgboost_model"},
};

// The keys each kind reads besides name, display_name, description, kind, retrain.
std::vector<std::string> KindKeys(PredictionKind kind) {
  switch (kind) {
    case PredictionKind::kTransactionalChurn:
      return {"activities", "product_field", "other_activities", "profile_fields", "window_days", "churn_days",
              "threshold"};
    case PredictionKind::kSubscriptionChurn:
      return {"subscriptions", "activities", "other_activities", "profile_fields", "window_days", "renewal_days",
              "threshold"};
    case PredictionKind::kClv:
      return {"activities", "horizon_months", "high_value"};
    case PredictionKind::kRecommendations:
      return {"activities", "product_field", "count", "repeat_purchases", "lookback_days", "products", "algorithm"};
    case PredictionKind::kImportedScores:
      return {"entity", "fields", "time_field"};
    case PredictionKind::kExternalModel:
      return {"model_file", "features"};
  }
  return {};
}

Status IntInRange(MapReader& r, const std::string& key, const std::string& owner, int64_t lo, int64_t hi,
                  int32_t* out) {
  int64_t v = *out;
  CDP_RETURN_IF_ERROR(r.Int(key, &v));
  if (v < lo || v > hi) {
    return r.KeyError(key, r.node()[key],
                      owner + ": " + std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." +
                          std::to_string(hi) + ")");
  }
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

Status FractionInRange(MapReader& r, const std::string& key, const std::string& owner, double lo, double hi,
                       double* out) {
  CDP_RETURN_IF_ERROR(r.Double(key, out));
  if (!std::isfinite(*out) || *out < lo || *out > hi) {
    return r.KeyError(key, r.node()[key], owner + ": expected a number from " + std::to_string(lo).substr(0, 4) +
                                              " to " + std::to_string(hi).substr(0, 4));
  }
  return Status::Ok();
}

Status ParseOne(MapReader& r, const YAML::Node& n, PredictionConfig& p, const std::string& origin) {
  const std::string owner = "prediction '" + p.name + "'";
  CDP_RETURN_IF_ERROR(r.String("display_name", &p.display_name));
  CDP_RETURN_IF_ERROR(r.String("description", &p.description));
  std::string kind;
  CDP_RETURN_IF_ERROR(r.String("kind", &kind, true));
  auto k = ParsePredictionKind(kind);
  if (!k.ok()) return r.KeyError("kind", n["kind"], owner + ": " + k.status().message());
  p.kind = *k;
  CDP_RETURN_IF_ERROR(r.String("retrain", &p.retrain));
  if (!p.retrain.empty()) {
    auto cron = CronSchedule::Parse(p.retrain);
    if (!cron.ok()) return r.KeyError("retrain", n["retrain"], owner + ": " + cron.status().message());
    p.retrain = cron->text();
  }
  std::vector<std::string> allowed = {"name", "display_name", "description", "kind", "retrain"};
  for (auto& key : KindKeys(p.kind)) allowed.push_back(key);
  // Keys of another kind are reported as unknown for this one, with the list.
  CDP_RETURN_IF_ERROR(config_internal::CheckKindKeys(r, n, kind, allowed));
  CDP_RETURN_IF_ERROR(NameList(r, "activities", owner, &p.activities));
  CDP_RETURN_IF_ERROR(r.String("product_field", &p.product_field));
  if (r.node()["other_activities"]) {
    CDP_RETURN_IF_ERROR(NameList(r, "other_activities", owner, &p.other_activities));
    p.other_activities_set = true;
  }
  CDP_RETURN_IF_ERROR(NameList(r, "profile_fields", owner, &p.profile_fields));
  CDP_RETURN_IF_ERROR(IntInRange(r, "window_days", owner, 7, 730, &p.window_days));
  CDP_RETURN_IF_ERROR(IntInRange(r, "churn_days", owner, 0, 730, &p.churn_days));
  CDP_RETURN_IF_ERROR(FractionInRange(r, "threshold", owner, 0.01, 0.99, &p.threshold));
  if (YAML::Node s = r.Get("subscriptions")) {
    MapReader sr(s, r.path() + ".subscriptions", origin);
    if (!s.IsMap()) return r.KeyError("subscriptions", s, owner + ": expected {entity, start, end, ...}");
    CDP_RETURN_IF_ERROR(sr.String("entity", &p.subscriptions.entity, true));
    CDP_RETURN_IF_ERROR(sr.String("start", &p.subscriptions.start, true));
    CDP_RETURN_IF_ERROR(sr.String("end", &p.subscriptions.end, true));
    CDP_RETURN_IF_ERROR(sr.String("recurring", &p.subscriptions.recurring));
    CDP_RETURN_IF_ERROR(sr.String("recurrence", &p.subscriptions.recurrence));
    CDP_RETURN_IF_ERROR(sr.String("amount", &p.subscriptions.amount));
    CDP_RETURN_IF_ERROR(sr.CheckNoUnknownKeys({"entity", "start", "end", "recurring", "recurrence", "amount"}));
    for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"entity", p.subscriptions.entity},
                                     {"start", p.subscriptions.start},
                                     {"end", p.subscriptions.end}}) {
      if (value.empty()) return sr.KeyError(key, s[key], owner + ": must not be empty");
    }
  }
  CDP_RETURN_IF_ERROR(IntInRange(r, "renewal_days", owner, 0, 365, &p.renewal_days));
  {
    int32_t months = p.horizon_months;
    CDP_RETURN_IF_ERROR(IntInRange(r, "horizon_months", owner, 1, 60, &months));
    p.horizon_months = months;
  }
  if (YAML::Node hv = r.Get("high_value")) {
    if (!hv.IsMap() || hv.size() != 1) {
      return r.KeyError("high_value", hv, owner + ": give one of {share: 0.8} and {top_percent: 20}");
    }
    MapReader hr(hv, r.path() + ".high_value", origin);
    if (hv["share"]) {
      CDP_RETURN_IF_ERROR(FractionInRange(hr, "share", owner, 0.01, 1.0, &p.high_value_share));
      p.high_value_top_percent = 0;
    } else {
      CDP_RETURN_IF_ERROR(FractionInRange(hr, "top_percent", owner, 0.1, 100.0, &p.high_value_top_percent));
    }
    CDP_RETURN_IF_ERROR(hr.CheckNoUnknownKeys({"share", "top_percent"}));
  }
  CDP_RETURN_IF_ERROR(IntInRange(r, "count", owner, 1, 100, &p.count));
  CDP_RETURN_IF_ERROR(r.Bool("repeat_purchases", &p.repeat_purchases));
  CDP_RETURN_IF_ERROR(IntInRange(r, "lookback_days", owner, 0, 3650, &p.lookback_days));
  CDP_RETURN_IF_ERROR(NameList(r, "products", owner, &p.products));
  CDP_RETURN_IF_ERROR(r.String("algorithm", &p.algorithm));
  if (p.algorithm != "als" && p.algorithm != "item_knn" && p.algorithm != "popular") {
    return r.KeyError("algorithm", n["algorithm"], owner + ": unknown algorithm '" + p.algorithm +
                                                       "' (als, item_knn or popular)");
  }
  CDP_RETURN_IF_ERROR(r.String("entity", &p.entity));
  CDP_RETURN_IF_ERROR(NameList(r, "fields", owner, &p.fields));
  CDP_RETURN_IF_ERROR(r.String("time_field", &p.time_field));
  CDP_RETURN_IF_ERROR(r.String("model_file", &p.model_file));
  if (YAML::Node f = r.Get("features")) {
    std::vector<std::string> refs;
    CDP_RETURN_IF_ERROR(NameList(r, "features", owner, &refs));
    for (const auto& ref : refs) {
      size_t dot = ref.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == ref.size()) {
        return r.KeyError("features", f, owner + ": '" + ref + "' is not ENTITY.FIELD (Customer.X or Customer_Measure.X)");
      }
      ExternalFeatureConfig fc{ref.substr(0, dot), ref.substr(dot + 1)};
      if (fc.entity != "Customer" && fc.entity != "Customer_Measure") {
        return r.KeyError("features", f, owner + ": '" + ref + "': features come from Customer or Customer_Measure");
      }
      p.features.push_back(std::move(fc));
    }
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys(allowed));

  // What each kind needs.
  auto missing = [&](const std::string& key, const std::string& what) {
    return r.Error(n, owner + ": " + PredictionKindName(p.kind).data() + " needs '" + key + "' (" + what + ")");
  };
  switch (p.kind) {
    case PredictionKind::kTransactionalChurn:
    case PredictionKind::kClv:
    case PredictionKind::kRecommendations:
      if (p.activities.empty()) return missing("activities", "the activities that are transactions");
      break;
    case PredictionKind::kSubscriptionChurn:
      if (p.subscriptions.entity.empty()) return missing("subscriptions", "{entity, start, end, ...}");
      break;
    case PredictionKind::kImportedScores:
      if (p.entity.empty()) return missing("entity", "the entity holding the scores, related to Customer");
      if (p.fields.empty()) return missing("fields", "the fields to copy");
      break;
    case PredictionKind::kExternalModel:
      if (p.model_file.empty()) return missing("model_file", "an XGBoost JSON model file");
      if (p.features.empty()) return missing("features", "ENTITY.FIELD per model feature, in order");
      break;
  }
  if (p.churn_days != 0 && p.churn_days < 7) {
    return r.KeyError("churn_days", n["churn_days"], owner + ": churn_days must be 0 (the window) or at least 7");
  }
  return Status::Ok();
}

Json ToJsonValue(const PredictionConfig& p) {
  Json j;
  j["name"] = p.name;
  if (!p.display_name.empty()) j["display_name"] = p.display_name;
  if (!p.description.empty()) j["description"] = p.description;
  j["kind"] = PredictionKindName(p.kind);
  switch (p.kind) {
    case PredictionKind::kTransactionalChurn:
    case PredictionKind::kSubscriptionChurn:
      if (p.kind == PredictionKind::kSubscriptionChurn) {
        Json s;
        s["entity"] = p.subscriptions.entity;
        s["start"] = p.subscriptions.start;
        s["end"] = p.subscriptions.end;
        if (!p.subscriptions.recurring.empty()) s["recurring"] = p.subscriptions.recurring;
        if (!p.subscriptions.recurrence.empty()) s["recurrence"] = p.subscriptions.recurrence;
        if (!p.subscriptions.amount.empty()) s["amount"] = p.subscriptions.amount;
        j["subscriptions"] = s;
        if (!p.activities.empty()) j["activities"] = p.activities;
        j["renewal_days"] = p.renewal_days;
      } else {
        j["activities"] = p.activities;
        if (p.product_field != "ProductId") j["product_field"] = p.product_field;
        j["churn_days"] = p.churn_days;
      }
      if (p.other_activities_set) j["other_activities"] = p.other_activities;
      if (!p.profile_fields.empty()) j["profile_fields"] = p.profile_fields;
      j["window_days"] = p.window_days;
      j["threshold"] = p.threshold;
      break;
    case PredictionKind::kClv:
      j["activities"] = p.activities;
      j["horizon_months"] = p.horizon_months;
      if (p.high_value_top_percent > 0) {
        j["high_value"] = Json{{"top_percent", p.high_value_top_percent}};
      } else {
        j["high_value"] = Json{{"share", p.high_value_share}};
      }
      break;
    case PredictionKind::kRecommendations:
      j["activities"] = p.activities;
      if (p.product_field != "ProductId") j["product_field"] = p.product_field;
      j["count"] = p.count;
      j["repeat_purchases"] = p.repeat_purchases;
      j["lookback_days"] = p.lookback_days;
      if (!p.products.empty()) j["products"] = p.products;
      j["algorithm"] = p.algorithm;
      break;
    case PredictionKind::kImportedScores:
      j["entity"] = p.entity;
      j["fields"] = p.fields;
      if (!p.time_field.empty()) j["time_field"] = p.time_field;
      break;
    case PredictionKind::kExternalModel: {
      j["model_file"] = p.model_file;
      Json f = Json::array();
      for (const auto& x : p.features) f.push_back(x.entity + "." + x.field);
      j["features"] = f;
      break;
    }
  }
  if (!p.retrain.empty()) j["retrain"] = p.retrain;
  return j;
}

}  // namespace

std::string_view PredictionKindName(PredictionKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "transactional_churn";
}

StatusOr<PredictionKind> ParsePredictionKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  std::string list;
  for (const auto& k : kKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
  return InvalidArgumentError("unknown kind '" + std::string(name) + "' (" + list + ")");
}

Status ParsePredictions(const YAML::Node& node, const std::string& origin, std::vector<PredictionConfig>* out) {
  return config_internal::ParseNamedList<PredictionConfig>(
      node, origin, "predictions", out, &IsDefinitionName, kDefinitionNameRule,
      [&](MapReader& r, const YAML::Node& n, PredictionConfig& p) { return ParseOne(r, n, p, origin); });
}

std::string PredictionConfigToJson(const PredictionConfig& p) { return ToJsonValue(p).dump(); }

std::string PredictionsToJson(const std::vector<PredictionConfig>& v) {
  Json a = Json::array();
  for (const auto& p : v) a.push_back(ToJsonValue(p));
  return a.dump();
}

StatusOr<std::vector<PredictionConfig>> PredictionsFromJson(const std::string& json) {
  return FromJsonText<std::vector<PredictionConfig>>(
      json, "predictions", [](const YAML::Node& n, std::vector<PredictionConfig>* out) {
        return ParsePredictions(n, "predictions", out);
      });
}

StatusOr<PredictionConfig> PredictionConfigFromJson(const std::string& json) {
  return FromJsonText<PredictionConfig>(json, "prediction", [](const YAML::Node& n, PredictionConfig* out) -> Status {
    if (!n.IsMap()) return InvalidArgumentError("prediction: expected an object");
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(n);
    std::vector<PredictionConfig> v;
    CDP_RETURN_IF_ERROR(ParsePredictions(list, "prediction", &v));
    *out = std::move(v[0]);
    return Status::Ok();
  });
}

}  // namespace cdp
