#include "config/enrichment_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/internal/definition_list.h"
#include "config/internal/yaml_reader.h"

namespace cdp {
namespace {

using config_internal::FromJsonText;
using config_internal::MapReader;
using Json = nlohmann::ordered_json;

constexpr size_t kMaxListItems = 1000;

struct KindName {
  EnrichmentKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {EnrichmentKind::kAffinity, "affinity"},
    {EnrichmentKind::kEngagement, "engagement"},
    {EnrichmentKind::kThirdParty, "third_party"},
};

constexpr std::string_view kMatchKinds[] = {"email", "phone", "address"};

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> KindKeys(EnrichmentKind kind) {
  switch (kind) {
    case EnrichmentKind::kAffinity:
      return {"activities", "product_field", "products", "product_key", "attribute", "weight", "top"};
    case EnrichmentKind::kEngagement:
      return {"weights", "half_life_days"};
    case EnrichmentKind::kThirdParty:
      return {"entity", "keys", "fields"};
  }
  return {};
}

Status ListOf(MapReader& r, const std::string& key, const std::string& owner, std::vector<std::string>* out) {
  CDP_RETURN_IF_ERROR(r.StringList(key, out));
  if (out->size() > kMaxListItems) {
    return r.KeyError(key, r.node()[key], owner + ": at most " + std::to_string(kMaxListItems) + " items");
  }
  for (const auto& s : *out) {
    if (s.empty()) return r.KeyError(key, r.node()[key], owner + ": an empty name");
  }
  return Status::Ok();
}

Status ParseOne(MapReader& r, const YAML::Node& n, EnrichmentConfig& e, const std::string& origin) {
  const std::string owner = "enrichment '" + e.name + "'";
  CDP_RETURN_IF_ERROR(r.String("display_name", &e.display_name));
  std::string kind;
  CDP_RETURN_IF_ERROR(r.String("kind", &kind, true));
  auto k = ParseEnrichmentKind(kind);
  if (!k.ok()) return r.KeyError("kind", n["kind"], owner + ": " + k.status().message());
  e.kind = *k;
  std::vector<std::string> allowed = {"name", "display_name", "kind"};
  for (auto& key : KindKeys(e.kind)) allowed.push_back(key);
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& x : allowed) list += (list.empty() ? "" : ", ") + x;
      return r.KeyError(key, it->first, "unknown key for kind " + kind + " (allowed: " + list + ")");
    }
  }
  switch (e.kind) {
    case EnrichmentKind::kAffinity: {
      CDP_RETURN_IF_ERROR(ListOf(r, "activities", owner, &e.activities));
      CDP_RETURN_IF_ERROR(r.String("product_field", &e.product_field));
      CDP_RETURN_IF_ERROR(r.String("products", &e.products, true));
      CDP_RETURN_IF_ERROR(r.String("product_key", &e.product_key));
      CDP_RETURN_IF_ERROR(r.String("attribute", &e.attribute, true));
      CDP_RETURN_IF_ERROR(r.String("weight", &e.weight));
      for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"products", e.products},
                                       {"attribute", e.attribute},
                                       {"product_field", e.product_field},
                                       {"product_key", e.product_key}}) {
        if (value.empty()) return r.KeyError(key, n[key], owner + ": must not be empty");
      }
      if (e.weight != "count" && e.weight != "amount") {
        return r.KeyError("weight", n["weight"], owner + ": unknown weight '" + e.weight + "' (count or amount)");
      }
      int64_t top = e.top;
      CDP_RETURN_IF_ERROR(r.Int("top", &top));
      if (top < 1 || top > 20) return r.KeyError("top", n["top"], owner + ": " + std::to_string(top) + " is out of range (1..20)");
      e.top = static_cast<int>(top);
      break;
    }
    case EnrichmentKind::kEngagement: {
      if (YAML::Node w = r.Get("weights")) {
        if (!w.IsMap()) return r.KeyError("weights", w, owner + ": expected {activity: weight, ...}");
        if (w.size() > kMaxListItems) return r.KeyError("weights", w, owner + ": at most 1000 activities");
        MapReader wr(w, r.path() + ".weights", origin);
        for (auto it = w.begin(); it != w.end(); ++it) {
          const std::string activity = it->first.Scalar();
          double value = 0;
          CDP_RETURN_IF_ERROR(wr.Double(activity, &value));
          if (activity.empty() || !std::isfinite(value) || value < 0 || value > 1000) {
            return wr.KeyError(activity, it->second, owner + ": a weight is a number from 0 to 1000");
          }
          e.weights[activity] = value;
        }
      }
      int64_t half_life = e.half_life_days;
      CDP_RETURN_IF_ERROR(r.Int("half_life_days", &half_life));
      if (half_life < 1 || half_life > 3650) {
        return r.KeyError("half_life_days", n["half_life_days"],
                          owner + ": " + std::to_string(half_life) + " is out of range (1..3650)");
      }
      e.half_life_days = static_cast<int32_t>(half_life);
      break;
    }
    case EnrichmentKind::kThirdParty: {
      CDP_RETURN_IF_ERROR(r.String("entity", &e.entity, true));
      if (e.entity.empty()) return r.KeyError("entity", n["entity"], owner + ": must not be empty");
      YAML::Node keys = r.Get("keys");
      if (!keys || !keys.IsSequence() || keys.size() == 0 || keys.size() > 10) {
        return r.Error(n, owner + ": third_party needs 'keys': a list of 1 to 10 {field, customer_field, match}");
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        MapReader kr(keys[i], r.path() + ".keys[" + std::to_string(i) + "]", origin);
        CDP_RETURN_IF_ERROR(kr.CheckIsMap());
        EnrichmentKeyConfig key;
        CDP_RETURN_IF_ERROR(kr.String("field", &key.field, true));
        CDP_RETURN_IF_ERROR(kr.String("customer_field", &key.customer_field));
        CDP_RETURN_IF_ERROR(kr.String("match", &key.match, true));
        CDP_RETURN_IF_ERROR(kr.CheckNoUnknownKeys({"field", "customer_field", "match"}));
        if (key.field.empty()) return kr.KeyError("field", keys[i]["field"], owner + ": must not be empty");
        if (key.customer_field.empty()) key.customer_field = key.field;
        if (std::find(std::begin(kMatchKinds), std::end(kMatchKinds), key.match) == std::end(kMatchKinds)) {
          return kr.KeyError("match", keys[i]["match"],
                             owner + ": unknown match '" + key.match + "' (email, phone or address)");
        }
        e.keys.push_back(std::move(key));
      }
      CDP_RETURN_IF_ERROR(ListOf(r, "fields", owner, &e.fields));
      break;
    }
  }
  return r.CheckNoUnknownKeys(allowed);
}

Json ToJsonValue(const EnrichmentConfig& e) {
  Json j;
  j["name"] = e.name;
  if (!e.display_name.empty()) j["display_name"] = e.display_name;
  j["kind"] = EnrichmentKindName(e.kind);
  switch (e.kind) {
    case EnrichmentKind::kAffinity:
      if (!e.activities.empty()) j["activities"] = e.activities;
      if (e.product_field != "ProductId") j["product_field"] = e.product_field;
      j["products"] = e.products;
      if (e.product_key != "ProductId") j["product_key"] = e.product_key;
      j["attribute"] = e.attribute;
      j["weight"] = e.weight;
      j["top"] = e.top;
      break;
    case EnrichmentKind::kEngagement: {
      if (!e.weights.empty()) {
        Json w = Json::object();
        for (const auto& [k, v] : e.weights) w[k] = v;
        j["weights"] = w;
      }
      j["half_life_days"] = e.half_life_days;
      break;
    }
    case EnrichmentKind::kThirdParty: {
      j["entity"] = e.entity;
      Json keys = Json::array();
      for (const auto& k : e.keys) keys.push_back(Json{{"field", k.field}, {"customer_field", k.customer_field}, {"match", k.match}});
      j["keys"] = keys;
      if (!e.fields.empty()) j["fields"] = e.fields;
      break;
    }
  }
  return j;
}

}  // namespace

std::string_view EnrichmentKindName(EnrichmentKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "affinity";
}

StatusOr<EnrichmentKind> ParseEnrichmentKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  std::string list;
  for (const auto& k : kKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
  return InvalidArgumentError("unknown kind '" + std::string(name) + "' (" + list + ")");
}

Status ParseEnrichments(const YAML::Node& node, const std::string& origin, std::vector<EnrichmentConfig>* out) {
  return config_internal::ParseNamedList<EnrichmentConfig>(
      node, origin, "enrichments", out, &IsIdentifier,
      "letters, digits and _, not starting with a digit, at most 128 characters",
      [&](MapReader& r, const YAML::Node& n, EnrichmentConfig& e) { return ParseOne(r, n, e, origin); });
}

std::string EnrichmentsToJson(const std::vector<EnrichmentConfig>& v) {
  Json a = Json::array();
  for (const auto& e : v) a.push_back(ToJsonValue(e));
  return a.dump();
}

StatusOr<std::vector<EnrichmentConfig>> EnrichmentsFromJson(const std::string& json) {
  return FromJsonText<std::vector<EnrichmentConfig>>(
      json, "enrichments", [](const YAML::Node& n, std::vector<EnrichmentConfig>* out) {
        return ParseEnrichments(n, "enrichments", out);
      });
}

}  // namespace cdp
