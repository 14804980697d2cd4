#include "config/enrichment_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "config/internal/definition_list.h"
#include "config/internal/yaml_reader.h"
#include "table/types.h"

namespace cdp {
namespace {

using config_internal::CheckKindKeys;
using config_internal::FromJsonText;
using config_internal::IsDefinitionName;
using config_internal::kDefinitionNameRule;
using config_internal::NameList;
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

std::vector<std::string> KindKeys(EnrichmentKind kind) {
  switch (kind) {
    case EnrichmentKind::kAffinity:
      return {"activities", "product_field", "products", "product_key", "attribute", "weight", "top"};
    case EnrichmentKind::kEngagement:
      return {"weights", "half_life_days"};
    case EnrichmentKind::kThirdParty:
      return {"when", "source", "entity", "keys", "fields"};
  }
  return {};
}

constexpr std::string_view kTimings[] = {"after_unification", "before_unification"};

// `fields:` of a third-party enrichment: names or {name, as, semantic}.
Status ParseFields(MapReader& r, const std::string& owner, const std::string& origin,
                   std::vector<EnrichmentFieldConfig>* out) {
  YAML::Node list = r.Get("fields");
  if (!list) return Status::Ok();
  if (!list.IsSequence()) return r.KeyError("fields", list, owner + ": expected a list of names or {name, as, semantic}");
  if (list.size() > kMaxListItems) {
    return r.KeyError("fields", list, owner + ": at most " + std::to_string(kMaxListItems) + " items");
  }
  std::set<std::string> outputs;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = r.path() + ".fields[" + std::to_string(i) + "]";
    EnrichmentFieldConfig f;
    if (list[i].IsScalar()) {
      f.name = list[i].Scalar();
      if (f.name.empty()) return r.KeyError("fields", list[i], owner + ": an empty name");
    } else {
      MapReader fr(list[i], path, origin);
      CDP_RETURN_IF_ERROR(fr.CheckIsMap());
      CDP_RETURN_IF_ERROR(fr.String("name", &f.name, true));
      CDP_RETURN_IF_ERROR(fr.String("as", &f.as));
      CDP_RETURN_IF_ERROR(fr.String("semantic", &f.semantic));
      CDP_RETURN_IF_ERROR(fr.CheckNoUnknownKeys({"name", "as", "semantic"}));
      if (f.name.empty()) return fr.KeyError("name", list[i]["name"], owner + ": must not be empty");
      if (list[i]["as"] && f.as.empty()) return fr.KeyError("as", list[i]["as"], owner + ": must not be empty");
      if (list[i]["semantic"] && !IsValidSemanticTypeName(f.semantic)) {
        return fr.KeyError("semantic", list[i]["semantic"],
                           owner + ": '" + f.semantic + "' is not a semantic type (e.g. Email, Phone, Location.City)");
      }
      if (f.as == f.name) f.as.clear();
    }
    if (f.output() == "CustomerId" || f.output() == "MatchedBy") {
      return r.KeyError("fields", list[i], owner + ": '" + f.output() + "' is a column the enrichment writes itself");
    }
    if (!outputs.insert(f.output()).second) {
      return r.KeyError("fields", list[i], owner + ": the column '" + f.output() + "' is written twice");
    }
    out->push_back(std::move(f));
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
  CDP_RETURN_IF_ERROR(CheckKindKeys(r, n, kind, allowed));
  switch (e.kind) {
    case EnrichmentKind::kAffinity: {
      CDP_RETURN_IF_ERROR(NameList(r, "activities", owner, &e.activities));
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
      std::string when = std::string(kTimings[0]);
      CDP_RETURN_IF_ERROR(r.String("when", &when));
      if (when == kTimings[1]) {
        e.when = EnrichmentTiming::kBeforeUnification;
      } else if (when != kTimings[0]) {
        return r.KeyError("when", n["when"],
                          owner + ": unknown value '" + when + "' (after_unification or before_unification)");
      }
      CDP_RETURN_IF_ERROR(r.String("source", &e.source));
      if (e.before_unification() && e.source.empty()) {
        return r.KeyError(n["source"] ? "source" : "when", n["source"] ? n["source"] : n["when"],
                          owner + ": before_unification needs 'source': the unification source whose records it enriches");
      }
      if (!e.before_unification() && n["source"]) {
        return r.KeyError("source", n["source"],
                          owner + ": 'source' is for when: before_unification (after unification it enriches Customer)");
      }
      CDP_RETURN_IF_ERROR(r.String("entity", &e.entity, true));
      if (e.entity.empty()) return r.KeyError("entity", n["entity"], owner + ": must not be empty");
      if (e.before_unification() && e.entity == e.source) {
        return r.KeyError("entity", n["entity"], owner + ": the third-party entity is the enriched source itself");
      }
      const std::string side = e.before_unification() ? "source_field" : "customer_field";
      const std::string other_side = e.before_unification() ? "customer_field" : "source_field";
      YAML::Node keys = r.Get("keys");
      if (!keys || !keys.IsSequence() || keys.size() == 0 || keys.size() > 10) {
        return r.Error(n, owner + ": third_party needs 'keys': a list of 1 to 10 {field, " + side + ", match}");
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        MapReader kr(keys[i], r.path() + ".keys[" + std::to_string(i) + "]", origin);
        CDP_RETURN_IF_ERROR(kr.CheckIsMap());
        if (keys[i][other_side]) {
          return kr.KeyError(other_side, keys[i][other_side],
                             owner + ": " + (e.before_unification()
                                                 ? "before unification a key names the source's field: source_field"
                                                 : "after unification a key names the Customer field: customer_field"));
        }
        EnrichmentKeyConfig key;
        std::string compared;
        CDP_RETURN_IF_ERROR(kr.String("field", &key.field, true));
        CDP_RETURN_IF_ERROR(kr.String(side, &compared));
        CDP_RETURN_IF_ERROR(kr.String("match", &key.match, true));
        CDP_RETURN_IF_ERROR(kr.CheckNoUnknownKeys({"field", side, "match"}));
        if (key.field.empty()) return kr.KeyError("field", keys[i]["field"], owner + ": must not be empty");
        if (compared.empty()) compared = key.field;
        (e.before_unification() ? key.source_field : key.customer_field) = compared;
        if (std::find(std::begin(kMatchKinds), std::end(kMatchKinds), key.match) == std::end(kMatchKinds)) {
          return kr.KeyError("match", keys[i]["match"],
                             owner + ": unknown match '" + key.match + "' (email, phone or address)");
        }
        e.keys.push_back(std::move(key));
      }
      CDP_RETURN_IF_ERROR(ParseFields(r, owner, origin, &e.fields));
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
      if (e.before_unification()) {
        j["when"] = EnrichmentTimingName(e.when);
        j["source"] = e.source;
      }
      j["entity"] = e.entity;
      Json keys = Json::array();
      for (const auto& k : e.keys) {
        if (e.before_unification()) {
          keys.push_back(Json{{"field", k.field}, {"source_field", k.source_field}, {"match", k.match}});
        } else {
          keys.push_back(Json{{"field", k.field}, {"customer_field", k.customer_field}, {"match", k.match}});
        }
      }
      j["keys"] = keys;
      if (!e.fields.empty()) {
        Json fields = Json::array();
        for (const auto& f : e.fields) {
          if (f.as.empty() && f.semantic.empty()) {
            fields.push_back(f.name);
            continue;
          }
          Json o{{"name", f.name}};
          if (!f.as.empty()) o["as"] = f.as;
          if (!f.semantic.empty()) o["semantic"] = f.semantic;
          fields.push_back(std::move(o));
        }
        j["fields"] = fields;
      }
      break;
    }
  }
  return j;
}

}  // namespace

std::string_view EnrichmentTimingName(EnrichmentTiming timing) {
  return timing == EnrichmentTiming::kBeforeUnification ? kTimings[1] : kTimings[0];
}

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
      node, origin, "enrichments", out, &IsDefinitionName, kDefinitionNameRule,
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
