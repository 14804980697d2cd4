#include "config/export_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_scan.h"
#include "config/internal/definition_list.h"
#include "config/internal/yaml_reader.h"
#include "schedule/cron.h"

namespace cdp {
namespace {

using config_internal::JsonToYaml;
using config_internal::MapReader;
using Json = nlohmann::ordered_json;

// Settings and options: at most this many keys, values at most this long.
constexpr size_t kMaxSettings = 100;
constexpr size_t kMaxSettingBytes = 4096;

// Keys that hold a secret: never accepted as a literal setting.
bool LooksLikeSecretKey(const std::string& key) {
  std::string k;
  for (char c : key) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* s : {"password", "passwd", "secret", "token", "private_key", "api_key", "apikey", "credential"}) {
    if (k.find(s) != std::string::npos) return true;
  }
  return false;
}

bool IsName(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '/' || c == '\\' || c == ':') return false;
  }
  return s != "." && s != "..";
}

// A map of scalars (settings, options).
Status ReadScalarMap(MapReader& r, const std::string& key, const std::string& owner,
                     std::map<std::string, std::string>* out, bool refuse_secrets) {
  YAML::Node n = r.Get(key);
  if (!n) return Status::Ok();
  if (!n.IsMap()) return r.KeyError(key, n, owner + ": expected a mapping of names to values");
  if (n.size() > kMaxSettings) return r.KeyError(key, n, owner + ": more than " + std::to_string(kMaxSettings) + " keys");
  for (const auto& kv : n) {
    const std::string k = kv.first.Scalar();
    if (!kv.second.IsScalar()) return r.KeyError(key + "." + k, kv.second, owner + ": expected a plain value");
    if (kv.second.Scalar().size() > kMaxSettingBytes) {
      return r.KeyError(key + "." + k, kv.second, owner + ": the value is longer than 4096 bytes");
    }
    if (refuse_secrets && LooksLikeSecretKey(k)) {
      return r.KeyError(key + "." + k, kv.second,
                        owner + ": '" + k + "' is a secret: give it under 'secrets:' as {env: VARIABLE} or "
                                "{secret: NAME} (cdp secret set NAME), never as a value in the project");
    }
    (*out)[k] = kv.second.Scalar();
  }
  return Status::Ok();
}

StatusOr<std::vector<ExportFieldConfig>> ReadFields(MapReader& r, const std::string& owner) {
  std::vector<ExportFieldConfig> out;
  YAML::Node n = r.Get("fields");
  if (!n) return out;
  if (!n.IsSequence()) return r.KeyError("fields", n, owner + ": expected a list of fields");
  std::set<std::string> names;
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node& e = n[i];
    ExportFieldConfig f;
    if (e.IsScalar()) {
      f.field = e.Scalar();
    } else if (e.IsMap() && e.size() == 1 && e.begin()->second.IsScalar() && e.begin()->first.Scalar() != "field") {
      f.field = e.begin()->first.Scalar();
      f.as = e.begin()->second.Scalar();
    } else if (e.IsMap()) {
      if (!e["field"] || !e["field"].IsScalar()) {
        return r.KeyError("fields", e, owner + ": expected a field name, {Field: new_name} or {field: F, as: new_name}");
      }
      f.field = e["field"].Scalar();
      if (e["as"]) {
        if (!e["as"].IsScalar()) return r.KeyError("fields", e, owner + ": 'as' must be a name");
        f.as = e["as"].Scalar();
      }
      for (const auto& kv : e) {
        if (kv.first.Scalar() != "field" && kv.first.Scalar() != "as") {
          return r.KeyError("fields", e, owner + ": unknown key '" + kv.first.Scalar() + "' (allowed: field, as)");
        }
      }
    } else {
      return r.KeyError("fields", e, owner + ": expected a field name, {Field: new_name} or {field: F, as: new_name}");
    }
    if (f.field.empty()) return r.KeyError("fields", e, owner + ": a field name must not be empty");
    if (f.as == f.field) f.as.clear();
    if (!names.insert(f.output_name()).second) {
      return r.KeyError("fields", e, owner + ": the output field '" + f.output_name() + "' is listed twice");
    }
    out.push_back(std::move(f));
  }
  return out;
}

Status ReadBatchSize(MapReader& r, const std::string& owner, int64_t* out) {
  CDP_RETURN_IF_ERROR(r.Int("batch_size", out));
  if (*out < 1 || *out > kMaxExportBatchSize) {
    return r.KeyError("batch_size", r.node()["batch_size"],
                      owner + ": the batch size must be from 1 to " + std::to_string(kMaxExportBatchSize));
  }
  return Status::Ok();
}

template <typename T, typename F>
Status ParseList(const YAML::Node& node, const std::string& origin, const std::string& key, std::vector<T>* out,
                 F parse) {
  return config_internal::ParseNamedList<T>(node, origin, key, out, &IsName,
                                            "1-200 characters, no '/', '\\', ':' or control characters", parse);
}

Json FieldsToJson(const std::vector<ExportFieldConfig>& fields) {
  Json a = Json::array();
  for (const auto& f : fields) {
    if (f.as.empty()) {
      a.push_back(f.field);
    } else {
      a.push_back(Json{{f.field, f.as}});
    }
  }
  return a;
}

Json MapToJson(const std::map<std::string, std::string>& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

using config_internal::FromJsonText;

}  // namespace

std::string_view ExportModeName(ExportMode mode) { return mode == ExportMode::kFull ? "full" : "delta"; }

Status ParseConnections(const YAML::Node& node, const std::string& origin, std::vector<ConnectionConfig>* out) {
  return ParseList<ConnectionConfig>(node, origin, "connections", out, [&](MapReader& r, const YAML::Node& n,
                                                                           ConnectionConfig& c) -> Status {
    const std::string owner = "connection '" + c.name + "'";
    CDP_RETURN_IF_ERROR(r.String("kind", &c.kind, true));
    if (c.kind.empty()) return r.KeyError("kind", n["kind"], owner + ": the kind must not be empty");
    CDP_RETURN_IF_ERROR(ReadScalarMap(r, "settings", owner, &c.settings, /*refuse_secrets=*/true));
    if (YAML::Node s = r.Get("secrets")) {
      if (!s.IsMap()) return r.KeyError("secrets", s, owner + ": expected a mapping of keys to {env: VAR} or {secret: NAME}");
      for (const auto& kv : s) {
        const std::string k = kv.first.Scalar();
        const YAML::Node& v = kv.second;
        if (!v.IsMap()) {
          return r.KeyError("secrets." + k, v,
                            owner + ", secret '" + k + "': a secret value must not be written in the project; "
                                    "give {env: VARIABLE} or {secret: NAME} (stored with `cdp secret set NAME`)");
        }
        SecretRef ref;
        for (const auto& e : v) {
          const std::string ek = e.first.Scalar();
          if (!e.second.IsScalar()) return r.KeyError("secrets." + k, v, owner + ", secret '" + k + "': expected a name");
          if (ek == "env") {
            ref.env = e.second.Scalar();
          } else if (ek == "secret") {
            ref.secret = e.second.Scalar();
          } else {
            return r.KeyError("secrets." + k, v,
                              owner + ", secret '" + k + "': unknown key '" + ek + "' (give env or secret)");
          }
        }
        if (ref.env.empty() == ref.secret.empty()) {
          return r.KeyError("secrets." + k, v, owner + ", secret '" + k + "': give exactly one of env and secret");
        }
        c.secrets[k] = ref;
      }
    }
    return r.CheckNoUnknownKeys({"name", "kind", "settings", "secrets"});
  });
}

Status ParseExports(const YAML::Node& node, const std::string& origin, std::vector<ExportConfig>* out) {
  return ParseList<ExportConfig>(node, origin, "exports", out, [&](MapReader& r, const YAML::Node& n,
                                                                   ExportConfig& e) -> Status {
    const std::string owner = "export '" + e.name + "'";
    CDP_RETURN_IF_ERROR(r.String("connection", &e.connection, true));
    YAML::Node what = r.Get("what");
    if (!what) return r.Error(n, owner + ": missing required key 'what' ({segment: NAME} or {entity: NAME})");
    {
      if (!what.IsMap()) return r.KeyError("what", what, owner + ": expected {segment: NAME} or {entity: NAME}");
      if (what["segment"] && what["segment"].IsScalar()) e.segment = what["segment"].Scalar();
      if (what["entity"] && what["entity"].IsScalar()) e.entity = what["entity"].Scalar();
      if (e.segment.empty() == e.entity.empty() || what.size() != 1) {
        return r.KeyError("what", what, owner + ": give exactly one of {segment: NAME} and {entity: NAME}");
      }
    }
    CDP_ASSIGN_OR_RETURN(e.fields, ReadFields(r, owner));
    CDP_RETURN_IF_ERROR(r.String("key", &e.key));
    std::string mode = "delta";
    CDP_RETURN_IF_ERROR(r.String("mode", &mode));
    if (mode == "full") {
      e.mode = ExportMode::kFull;
    } else if (mode == "delta") {
      e.mode = ExportMode::kDelta;
    } else {
      return r.KeyError("mode", n["mode"], owner + ": unknown mode '" + mode + "' (full or delta)");
    }
    CDP_RETURN_IF_ERROR(r.String("when", &e.when));
    if (e.when != "refresh" && e.when != "manual") {
      auto cron = CronSchedule::Parse(e.when);
      if (!cron.ok()) {
        return r.KeyError("when", n["when"],
                          owner + ": expected refresh, manual or a cron schedule: " + cron.status().message());
      }
      e.when = cron->text();
    }
    CDP_RETURN_IF_ERROR(r.String("purpose", &e.purpose));
    CDP_RETURN_IF_ERROR(r.String("target", &e.target));
    CDP_RETURN_IF_ERROR(ReadBatchSize(r, owner, &e.batch_size));
    CDP_RETURN_IF_ERROR(ReadScalarMap(r, "options", owner, &e.options, /*refuse_secrets=*/true));
    return r.CheckNoUnknownKeys(
        {"name", "connection", "what", "fields", "key", "mode", "when", "purpose", "target", "batch_size", "options"});
  });
}

Status ParseConsent(const YAML::Node& node, const std::string& origin, ConsentConfig* out) {
  MapReader r(node, "consent", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  ConsentConfig c;
  CDP_RETURN_IF_ERROR(r.String("entity", &c.entity, true));
  CDP_RETURN_IF_ERROR(r.String("customer_field", &c.customer_field));
  CDP_RETURN_IF_ERROR(r.String("purpose_field", &c.purpose_field, true));
  CDP_RETURN_IF_ERROR(r.String("status_field", &c.status_field, true));
  CDP_RETURN_IF_ERROR(r.String("date_field", &c.date_field));
  CDP_RETURN_IF_ERROR(r.String("source_field", &c.source_field));
  if (r.node()["granted_values"]) {
    CDP_RETURN_IF_ERROR(r.StringList("granted_values", &c.granted_values));
    if (c.granted_values.empty()) {
      return r.KeyError("granted_values", node["granted_values"], "list at least one status that grants consent");
    }
  }
  if (c.entity.empty()) return r.KeyError("entity", node["entity"], "the consent entity must not be empty");
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"entity", "customer_field", "purpose_field", "status_field", "date_field",
                                            "source_field", "granted_values"}));
  *out = std::move(c);
  return Status::Ok();
}

Status ParseTriggers(const YAML::Node& node, const std::string& origin, std::vector<TriggerConfig>* out) {
  return ParseList<TriggerConfig>(node, origin, "triggers", out, [&](MapReader& r, const YAML::Node& n,
                                                                     TriggerConfig& t) -> Status {
    const std::string owner = "trigger '" + t.name + "'";
    CDP_RETURN_IF_ERROR(r.String("connection", &t.connection, true));
    YAML::Node on = r.Get("on");
    if (!on || !on.IsMap()) {
      return r.Error(n, owner + ": 'on' must be {segment: NAME, events: [entered, exited]} or {measure: NAME, above: X}");
    }
    MapReader o(on, r.path() + ".on", origin);
    CDP_RETURN_IF_ERROR(o.String("segment", &t.segment));
    CDP_RETURN_IF_ERROR(o.String("measure", &t.measure));
    if (t.segment.empty() == t.measure.empty()) {
      return r.KeyError("on", on, owner + ": give exactly one of segment and measure");
    }
    CDP_RETURN_IF_ERROR(o.StringList("events", &t.events));
    if (on["above"]) {
      double v = 0;
      CDP_RETURN_IF_ERROR(o.Double("above", &v));
      t.above = v;
    }
    std::vector<std::string> allowed = t.segment.empty() ? std::vector<std::string>{"crossed_above", "crossed_below"}
                                                         : std::vector<std::string>{"entered", "exited"};
    if (!t.measure.empty() && !t.above) return r.KeyError("on", on, owner + ": a measure trigger needs 'above: NUMBER'");
    if (!t.segment.empty() && t.above) return r.KeyError("on", on, owner + ": 'above' applies to a measure trigger");
    if (t.events.empty()) t.events = allowed;
    std::set<std::string> seen;
    for (const auto& ev : t.events) {
      if (std::find(allowed.begin(), allowed.end(), ev) == allowed.end()) {
        return r.KeyError("on", on, owner + ": unknown event '" + ev + "' (use " + allowed[0] + " or " + allowed[1] + ")");
      }
      if (!seen.insert(ev).second) return r.KeyError("on", on, owner + ": event '" + ev + "' is listed twice");
    }
    // The canonical order, so the emitted form is stable.
    std::vector<std::string> ordered;
    for (const auto& a : allowed) {
      if (seen.count(a)) ordered.push_back(a);
    }
    t.events = ordered;
    CDP_RETURN_IF_ERROR(o.CheckNoUnknownKeys({"segment", "measure", "events", "above"}));
    CDP_ASSIGN_OR_RETURN(t.fields, ReadFields(r, owner));
    CDP_RETURN_IF_ERROR(r.String("purpose", &t.purpose));
    CDP_RETURN_IF_ERROR(r.String("target", &t.target));
    CDP_RETURN_IF_ERROR(ReadBatchSize(r, owner, &t.batch_size));
    CDP_RETURN_IF_ERROR(ReadScalarMap(r, "options", owner, &t.options, /*refuse_secrets=*/true));
    return r.CheckNoUnknownKeys({"name", "connection", "on", "fields", "purpose", "target", "batch_size", "options"});
  });
}

Status CheckConnectionReferences(const std::vector<ConnectionConfig>& connections,
                                 const std::vector<ExportConfig>& exports, const std::vector<TriggerConfig>& triggers,
                                 const std::string& origin) {
  std::set<std::string> names;
  std::string list;
  for (const auto& c : connections) {
    names.insert(c.name);
    list += (list.empty() ? "" : ", ") + c.name;
  }
  if (list.empty()) list = "none";
  for (const auto& e : exports) {
    if (!names.count(e.connection)) {
      return InvalidArgumentError(origin + ": exports: export '" + e.name + "', connection: '" + e.connection +
                                  "' is not a declared connection (connections: " + list + ")");
    }
  }
  for (const auto& t : triggers) {
    if (!names.count(t.connection)) {
      return InvalidArgumentError(origin + ": triggers: trigger '" + t.name + "', connection: '" + t.connection +
                                  "' is not a declared connection (connections: " + list + ")");
    }
  }
  return Status::Ok();
}

std::string ConnectionsToJson(const std::vector<ConnectionConfig>& v) {
  Json a = Json::array();
  for (const auto& c : v) {
    Json o;
    o["name"] = c.name;
    o["kind"] = c.kind;
    if (!c.settings.empty()) o["settings"] = MapToJson(c.settings);
    if (!c.secrets.empty()) {
      Json s = Json::object();
      for (const auto& [k, ref] : c.secrets) {
        s[k] = ref.env.empty() ? Json{{"secret", ref.secret}} : Json{{"env", ref.env}};
      }
      o["secrets"] = s;
    }
    a.push_back(o);
  }
  return a.dump();
}

std::string ExportConfigToJson(const ExportConfig& e) {
  Json o;
  o["name"] = e.name;
  o["connection"] = e.connection;
  o["what"] = e.segment.empty() ? Json{{"entity", e.entity}} : Json{{"segment", e.segment}};
  if (!e.fields.empty()) o["fields"] = FieldsToJson(e.fields);
  if (!e.key.empty()) o["key"] = e.key;
  o["mode"] = std::string(ExportModeName(e.mode));
  o["when"] = e.when;
  if (!e.purpose.empty()) o["purpose"] = e.purpose;
  if (!e.target.empty()) o["target"] = e.target;
  if (e.batch_size != 1000) o["batch_size"] = e.batch_size;
  if (!e.options.empty()) o["options"] = MapToJson(e.options);
  return o.dump();
}

std::string ExportsToJson(const std::vector<ExportConfig>& v) {
  Json a = Json::array();
  for (const auto& e : v) a.push_back(Json::parse(ExportConfigToJson(e)));
  return a.dump();
}

std::string ConsentToJson(const ConsentConfig& c) {
  if (c.empty()) return "{}";
  Json o;
  o["entity"] = c.entity;
  if (!c.customer_field.empty()) o["customer_field"] = c.customer_field;
  o["purpose_field"] = c.purpose_field;
  o["status_field"] = c.status_field;
  if (!c.date_field.empty()) o["date_field"] = c.date_field;
  if (!c.source_field.empty()) o["source_field"] = c.source_field;
  if (c.granted_values != ConsentConfig().granted_values) o["granted_values"] = c.granted_values;
  return o.dump();
}

std::string TriggersToJson(const std::vector<TriggerConfig>& v) {
  Json a = Json::array();
  for (const auto& t : v) {
    Json o;
    o["name"] = t.name;
    o["connection"] = t.connection;
    Json on;
    if (!t.segment.empty()) on["segment"] = t.segment;
    if (!t.measure.empty()) on["measure"] = t.measure;
    if (t.above) on["above"] = *t.above;
    on["events"] = t.events;
    o["on"] = on;
    if (!t.fields.empty()) o["fields"] = FieldsToJson(t.fields);
    if (!t.purpose.empty()) o["purpose"] = t.purpose;
    if (!t.target.empty()) o["target"] = t.target;
    if (t.batch_size != 1000) o["batch_size"] = t.batch_size;
    if (!t.options.empty()) o["options"] = MapToJson(t.options);
    a.push_back(o);
  }
  return a.dump();
}

StatusOr<std::vector<ConnectionConfig>> ConnectionsFromJson(const std::string& json) {
  return FromJsonText<std::vector<ConnectionConfig>>(
      json, "connections", [](const YAML::Node& n, std::vector<ConnectionConfig>* out) {
        return ParseConnections(n, "catalog", out);
      });
}

StatusOr<std::vector<ExportConfig>> ExportsFromJson(const std::string& json) {
  return FromJsonText<std::vector<ExportConfig>>(json, "exports", [](const YAML::Node& n, std::vector<ExportConfig>* out) {
    return ParseExports(n, "catalog", out);
  });
}

StatusOr<ConsentConfig> ConsentFromJson(const std::string& json) {
  return FromJsonText<ConsentConfig>(json, "consent", [](const YAML::Node& n, ConsentConfig* out) -> Status {
    if (n.IsMap() && n.size() == 0) {
      *out = ConsentConfig();
      return Status::Ok();
    }
    return ParseConsent(n, "catalog", out);
  });
}

StatusOr<std::vector<TriggerConfig>> TriggersFromJson(const std::string& json) {
  return FromJsonText<std::vector<TriggerConfig>>(json, "triggers", [](const YAML::Node& n, std::vector<TriggerConfig>* out) {
    return ParseTriggers(n, "catalog", out);
  });
}

StatusOr<ExportConfig> ExportConfigFromJson(const std::string& json) {
  return FromJsonText<ExportConfig>(json, "export", [](const YAML::Node& n, ExportConfig* out) -> Status {
    YAML::Node seq(YAML::NodeType::Sequence);
    seq.push_back(n);
    std::vector<ExportConfig> v;
    CDP_RETURN_IF_ERROR(ParseExports(seq, "export", &v));
    *out = std::move(v[0]);
    return Status::Ok();
  });
}

}  // namespace cdp
