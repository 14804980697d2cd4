#include "config/project_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/json_scan.h"
#include "common/value_text.h"
#include "config/internal/yaml_reader.h"
#include "config/yaml_loader.h"
#include "common/standardize.h"
#include "schedule/cron.h"

namespace cdp {
namespace {

using config_internal::EmitKeepingQuotes;
using config_internal::JsonToYaml;
using config_internal::MapReader;

using Json = nlohmann::ordered_json;

StatusOr<BadRowLimit> ParseBadRowLimit(const std::string& text) {
  BadRowLimit limit;
  limit.percent = -1;  // what is given replaces the default percentage
  std::string t = text;
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t.empty() || t == "unlimited") return limit;
  double p = 0;
  int64_t c = 0;
  if (t.back() == '%' && ParseNumber(std::string_view(t).substr(0, t.size() - 1), &p) && p >= 0 && p <= 100) {
    limit.percent = p;
  } else if (t.back() != '%' && ParseInteger(t, &c) && c >= 0) {
    limit.count = c;
  } else {
    return InvalidArgumentError("'" + text + "' is not a row count (e.g. 100), a percentage (e.g. 5%) or 'unlimited'");
  }
  return limit;
}

// The deepest nesting a JSON Lines source may allow (the reader walks objects
// recursively, one frame per level).
constexpr int64_t kMaxJsonLinesDepth = 1000;

const std::vector<std::string> kFilterOps = {"equals", "not_equals", "less", "less_equal", "greater",
                                             "greater_equal", "in", "not_in", "is_empty", "is_not_empty",
                                             "contains", "starts_with"};

StatusOr<SourceFieldConfig> ParseField(const YAML::Node& node, const std::string& path,
                                       const std::string& origin, const std::string& source_name) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  SourceFieldConfig f;
  CDP_RETURN_IF_ERROR(r.String("name", &f.name, true));
  CDP_RETURN_IF_ERROR(r.String("source_field", &f.source_field));
  std::string type;
  CDP_RETURN_IF_ERROR(r.String("type", &type));
  if (!type.empty()) {
    f.type = ParseDataType(type);
    if (!f.type) {
      return r.KeyError("type", node["type"],
                        "unknown type '" + type + "' (use string, int64, double, bool, date or timestamp)");
    }
  }
  CDP_RETURN_IF_ERROR(r.String("format", &f.format));
  if (!f.format.empty() && f.type && *f.type != DataType::kDate && *f.type != DataType::kTimestamp) {
    return r.KeyError("format", node["format"], "a format applies only to date and timestamp fields");
  }
  CDP_RETURN_IF_ERROR(r.String("semantic", &f.semantic));
  if (!f.semantic.empty() && !IsValidSemanticTypeName(f.semantic)) {
    return r.KeyError("semantic", node["semantic"],
                      "'" + f.semantic + "' is not a semantic type (e.g. Email, Person.FirstName, Custom.Tier)");
  }
  CDP_RETURN_IF_ERROR(r.String("standardize", &f.standardize));
  if (!f.standardize.empty()) {
    if (!ParseStandardizer(f.standardize)) {
      return r.KeyError("standardize", node["standardize"],
                        "source '" + source_name + "', field '" + f.name + "': unknown standardizer '" +
                            f.standardize + "' (one of: " + StandardizerNameList() + ")");
    }
    if (f.type && *f.type != DataType::kString) {
      return r.KeyError("standardize", node["standardize"],
                        "source '" + source_name + "', field '" + f.name + "': standardize needs a string field, not " +
                            std::string(DataTypeName(*f.type)));
    }
  }
  CDP_RETURN_IF_ERROR(
      r.CheckNoUnknownKeys({"name", "source_field", "type", "format", "semantic", "standardize"}));
  return f;
}

StatusOr<RowFilterConfig> ParseFilter(const YAML::Node& node, const std::string& path, const std::string& origin) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  RowFilterConfig f;
  CDP_RETURN_IF_ERROR(r.String("field", &f.field, true));
  CDP_RETURN_IF_ERROR(r.String("op", &f.op, true));
  if (std::find(kFilterOps.begin(), kFilterOps.end(), f.op) == kFilterOps.end()) {
    std::string list;
    for (const auto& o : kFilterOps) list += (list.empty() ? "" : ", ") + o;
    return r.KeyError("op", node["op"], "unknown operator '" + f.op + "' (one of: " + list + ")");
  }
  YAML::Node v = r.Get("value");
  YAML::Node vs = r.Get("values");
  if (v && vs) return r.Error(node, "give either 'value' or 'values', not both");
  if (v) {
    if (!v.IsScalar()) return r.KeyError("value", v, "expected a single value (use 'values' for a list)");
    f.values.push_back(v.Scalar());
  } else if (vs) {
    if (!vs.IsSequence()) return r.KeyError("values", vs, "expected a list");
    for (const auto& e : vs) {
      if (!e.IsScalar()) return r.KeyError("values", e, "expected plain values");
      f.values.push_back(e.Scalar());
    }
  }
  bool no_value = f.op == "is_empty" || f.op == "is_not_empty";
  bool multi = f.op == "in" || f.op == "not_in";
  if (no_value && !f.values.empty()) return r.Error(node, "operator '" + f.op + "' takes no value");
  if (!no_value && f.values.empty()) return r.Error(node, "operator '" + f.op + "' needs a value");
  if (!no_value && !multi && f.values.size() != 1) return r.Error(node, "operator '" + f.op + "' takes one value");
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"field", "op", "value", "values"}));
  return f;
}

// Reads `key` as a cron schedule (validated; stored as its trimmed text).
Status ParseSchedule(MapReader& r, const std::string& key, std::string* out) {
  std::string text;
  CDP_RETURN_IF_ERROR(r.String(key, &text));
  if (!r.node()[key]) return Status::Ok();
  auto cron = CronSchedule::Parse(text);
  if (!cron.ok()) return r.KeyError(key, r.node()[key], cron.status().message());
  *out = cron->text();
  return Status::Ok();
}

const std::vector<std::string> kSearchNormalizers = {"", "phone", "email"};

// search: {fields: [Name, {field: Phone, normalize: phone, weight: 2}], filters: [State]}
Status ParseSearch(const YAML::Node& node, const std::string& origin, SearchConfig* out) {
  MapReader r(node, "search", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  SearchConfig search;
  if (YAML::Node fields = r.Get("fields")) {
    if (!fields.IsSequence()) return r.KeyError("fields", fields, "expected a list of fields");
    std::set<std::string> names;
    for (size_t i = 0; i < fields.size(); ++i) {
      const YAML::Node& e = fields[i];
      std::string where = "search.fields[" + std::to_string(i) + "]";
      SearchFieldConfig f;
      if (e.IsScalar()) {
        f.field = e.Scalar();
      } else {
        MapReader fr(e, where, origin);
        if (!e.IsMap()) return fr.Error(e, "expected a field name or {field, normalize, weight}");
        CDP_RETURN_IF_ERROR(fr.String("field", &f.field, true));
        CDP_RETURN_IF_ERROR(fr.String("normalize", &f.normalize));
        if (std::find(kSearchNormalizers.begin(), kSearchNormalizers.end(), f.normalize) == kSearchNormalizers.end()) {
          return fr.KeyError("normalize", e["normalize"],
                             "unknown normalizer '" + f.normalize + "' (use phone or email, or leave it out for text)");
        }
        CDP_RETURN_IF_ERROR(fr.Double("weight", &f.weight));
        if (!(f.weight > 0) || f.weight > 1e6) {
          return fr.KeyError("weight", e["weight"], "the weight must be a number greater than 0");
        }
        CDP_RETURN_IF_ERROR(fr.CheckNoUnknownKeys({"field", "normalize", "weight"}));
      }
      if (f.field.empty()) return r.KeyError("fields", e, where + ": the field name must not be empty");
      if (!names.insert(f.field).second) return r.KeyError("fields", e, "field '" + f.field + "' is listed twice");
      search.fields.push_back(std::move(f));
    }
  }
  if (YAML::Node filters = r.Get("filters")) {
    CDP_RETURN_IF_ERROR(r.StringList("filters", &search.filters));
    std::set<std::string> names;
    for (size_t i = 0; i < search.filters.size(); ++i) {
      const YAML::Node at = filters.IsSequence() ? filters[i] : filters;
      if (search.filters[i].empty()) return r.KeyError("filters", at, "a filter field name must not be empty");
      if (!names.insert(search.filters[i]).second) {
        return r.KeyError("filters", at, "filter '" + search.filters[i] + "' is listed twice");
      }
    }
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"fields", "filters"}));
  *out = std::move(search);
  return Status::Ok();
}

Json SearchToJson(const SearchConfig& search) {
  Json j = Json::object();
  if (!search.fields.empty()) {
    Json fs = Json::array();
    for (const auto& f : search.fields) {
      if (f.normalize.empty() && f.weight == 1.0) {
        fs.push_back(f.field);
        continue;
      }
      Json o;
      o["field"] = f.field;
      if (!f.normalize.empty()) o["normalize"] = f.normalize;
      if (f.weight != 1.0) o["weight"] = f.weight;
      fs.push_back(o);
    }
    j["fields"] = fs;
  }
  if (!search.filters.empty()) j["filters"] = search.filters;
  return j;
}

StatusOr<SourceConfig> ParseSource(const YAML::Node& node, const std::string& path, const std::string& origin) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  SourceConfig s;
  CDP_RETURN_IF_ERROR(r.String("name", &s.name, true));
  if (s.name.empty()) return r.Error(node, "name must not be empty");
  for (char c : s.name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '/' || c == '\\') {
      return r.KeyError("name", node["name"], "name must not contain control characters or slashes");
    }
  }
  std::string kind;
  CDP_RETURN_IF_ERROR(r.String("kind", &kind, true));
  if (kind == "csv") {
    s.kind = SourceKind::kCsv;
  } else if (kind == "jsonl" || kind == "json_lines") {
    s.kind = SourceKind::kJsonLines;
  } else if (kind == "postgres" || kind == "postgresql") {
    s.kind = SourceKind::kPostgres;
  } else {
    return r.KeyError("kind", node["kind"], "unknown source kind '" + kind + "' (use csv, jsonl or postgres)");
  }
  CDP_RETURN_IF_ERROR(r.String("path", &s.path));
  if (s.kind != SourceKind::kPostgres && s.path.empty()) return r.Error(node, "a " + kind + " source needs 'path'");
  if (YAML::Node jl = r.Get("jsonl")) {
    if (s.kind != SourceKind::kJsonLines) return r.KeyError("jsonl", jl, "only jsonl sources take jsonl options");
    MapReader j(jl, path + ".jsonl", origin);
    CDP_RETURN_IF_ERROR(j.CheckIsMap());
    CDP_RETURN_IF_ERROR(j.Int("max_depth", &s.jsonl.max_depth));
    if (s.jsonl.max_depth < 1 || s.jsonl.max_depth > kMaxJsonLinesDepth) {
      return j.KeyError("max_depth", jl["max_depth"],
                        "expected a whole number from 1 to " + std::to_string(kMaxJsonLinesDepth));
    }
    CDP_RETURN_IF_ERROR(j.CheckNoUnknownKeys({"max_depth"}));
  }
  if (YAML::Node csv = r.Get("csv")) {
    if (s.kind != SourceKind::kCsv) return r.KeyError("csv", csv, "only csv sources take csv options");
    MapReader c(csv, path + ".csv", origin);
    CDP_RETURN_IF_ERROR(c.CheckIsMap());
    CDP_RETURN_IF_ERROR(c.String("delimiter", &s.csv.delimiter));
    if (s.csv.delimiter == "\\t" || s.csv.delimiter == "tab") s.csv.delimiter = "\t";
    if (s.csv.delimiter.size() != 1 || s.csv.delimiter == "\"" || s.csv.delimiter == "\n" ||
        s.csv.delimiter == "\r") {
      return c.KeyError("delimiter", csv["delimiter"], "the delimiter must be one character other than a quote or newline");
    }
    CDP_RETURN_IF_ERROR(c.Bool("skip_space_after_delimiter", &s.csv.skip_space_after_delimiter));
    CDP_RETURN_IF_ERROR(c.Bool("header", &s.csv.header));
    CDP_RETURN_IF_ERROR(c.Int("skip_rows", &s.csv.skip_rows));
    if (s.csv.skip_rows < 0 || s.csv.skip_rows > kMaxCsvSkipRows) {
      return c.KeyError("skip_rows", csv["skip_rows"],
                        "expected a whole number of lines from 0 to " + std::to_string(kMaxCsvSkipRows));
    }
    CDP_RETURN_IF_ERROR(c.CheckNoUnknownKeys({"delimiter", "skip_space_after_delimiter", "header", "skip_rows"}));
  }
  if (YAML::Node pg = r.Get("postgres")) {
    if (s.kind != SourceKind::kPostgres) return r.KeyError("postgres", pg, "only postgres sources take postgres options");
    MapReader p(pg, path + ".postgres", origin);
    CDP_RETURN_IF_ERROR(p.CheckIsMap());
    CDP_RETURN_IF_ERROR(p.String("conninfo", &s.postgres.conninfo));
    CDP_RETURN_IF_ERROR(p.String("conninfo_env", &s.postgres.conninfo_env));
    CDP_RETURN_IF_ERROR(p.String("table", &s.postgres.table));
    CDP_RETURN_IF_ERROR(p.String("query", &s.postgres.query));
    CDP_RETURN_IF_ERROR(p.CheckNoUnknownKeys({"conninfo", "conninfo_env", "table", "query"}));
    if (s.postgres.conninfo.empty() == s.postgres.conninfo_env.empty()) {
      return p.Error(pg, "give exactly one of 'conninfo' and 'conninfo_env'");
    }
    if (s.postgres.table.empty() == s.postgres.query.empty()) {
      return p.Error(pg, "give exactly one of 'table' and 'query'");
    }
  } else if (s.kind == SourceKind::kPostgres) {
    return r.Error(node, "a postgres source needs a 'postgres' section with conninfo and table or query");
  }
  CDP_RETURN_IF_ERROR(r.String("primary_key", &s.primary_key));
  CDP_RETURN_IF_ERROR(r.Bool("decimal_comma", &s.decimal_comma));
  CDP_RETURN_IF_ERROR(r.Bool("infer_types", &s.infer_types));
  if (YAML::Node fields = r.Get("fields")) {
    if (!fields.IsSequence()) return r.KeyError("fields", fields, "expected a list of fields");
    std::set<std::string> names;
    for (size_t i = 0; i < fields.size(); ++i) {
      CDP_ASSIGN_OR_RETURN(SourceFieldConfig f,
                           ParseField(fields[i], path + ".fields[" + std::to_string(i) + "]", origin, s.name));
      if (!names.insert(f.name).second) {
        return r.KeyError("fields", fields[i], "field '" + f.name + "' is declared twice");
      }
      s.fields.push_back(std::move(f));
    }
  }
  if (YAML::Node filters = r.Get("filters")) {
    if (!filters.IsSequence()) return r.KeyError("filters", filters, "expected a list of filters");
    for (size_t i = 0; i < filters.size(); ++i) {
      CDP_ASSIGN_OR_RETURN(RowFilterConfig f,
                           ParseFilter(filters[i], path + ".filters[" + std::to_string(i) + "]", origin));
      s.filters.push_back(std::move(f));
    }
  }
  if (YAML::Node m = r.Get("max_bad_rows")) {
    if (!m.IsScalar()) return r.KeyError("max_bad_rows", m, "expected a count or a percentage");
    auto limit = ParseBadRowLimit(m.Scalar());
    if (!limit.ok()) return r.KeyError("max_bad_rows", m, limit.status().message());
    s.max_bad_rows = *limit;
  }
  CDP_RETURN_IF_ERROR(ParseSchedule(r, "schedule", &s.schedule));
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"name", "kind", "path", "csv", "jsonl", "postgres", "primary_key",
                                            "decimal_comma", "infer_types", "fields", "filters",
                                            "max_bad_rows", "schedule"}));
  return s;
}

Json SourceToJson(const SourceConfig& s) {
  Json j;
  j["name"] = s.name;
  j["kind"] = std::string(SourceKindName(s.kind));
  if (!s.path.empty()) j["path"] = s.path;
  if (s.kind == SourceKind::kCsv && !(s.csv == CsvConfig())) {
    Json c;
    c["delimiter"] = s.csv.delimiter == "\t" ? "\\t" : s.csv.delimiter;
    c["skip_space_after_delimiter"] = s.csv.skip_space_after_delimiter;
    c["header"] = s.csv.header;
    if (s.csv.skip_rows != 0) c["skip_rows"] = s.csv.skip_rows;
    j["csv"] = c;
  }
  if (s.kind == SourceKind::kJsonLines && !(s.jsonl == JsonLinesConfig())) {
    j["jsonl"] = Json{{"max_depth", s.jsonl.max_depth}};
  }
  if (s.kind == SourceKind::kPostgres) {
    Json p;
    if (!s.postgres.conninfo.empty()) p["conninfo"] = s.postgres.conninfo;
    if (!s.postgres.conninfo_env.empty()) p["conninfo_env"] = s.postgres.conninfo_env;
    if (!s.postgres.table.empty()) p["table"] = s.postgres.table;
    if (!s.postgres.query.empty()) p["query"] = s.postgres.query;
    j["postgres"] = p;
  }
  if (!s.primary_key.empty()) j["primary_key"] = s.primary_key;
  if (s.decimal_comma) j["decimal_comma"] = true;
  if (!s.infer_types) j["infer_types"] = false;
  if (!s.fields.empty()) {
    Json fs = Json::array();
    for (const auto& f : s.fields) {
      Json o;
      o["name"] = f.name;
      if (!f.source_field.empty()) o["source_field"] = f.source_field;
      if (f.type) o["type"] = std::string(DataTypeName(*f.type));
      if (!f.format.empty()) o["format"] = f.format;
      if (!f.semantic.empty()) o["semantic"] = f.semantic;
      if (!f.standardize.empty()) o["standardize"] = f.standardize;
      fs.push_back(o);
    }
    j["fields"] = fs;
  }
  if (!s.filters.empty()) {
    Json fs = Json::array();
    for (const auto& f : s.filters) {
      Json o;
      o["field"] = f.field;
      o["op"] = f.op;
      if (f.op == "in" || f.op == "not_in") {
        o["values"] = f.values;
      } else if (!f.values.empty()) {
        o["value"] = f.values[0];
      }
      fs.push_back(o);
    }
    j["filters"] = fs;
  }
  if (!(s.max_bad_rows == BadRowLimit())) j["max_bad_rows"] = s.max_bad_rows.ToString();
  if (!s.schedule.empty()) j["schedule"] = s.schedule;
  return j;
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kCsv: return "csv";
    case SourceKind::kJsonLines: return "jsonl";
    case SourceKind::kPostgres: return "postgres";
  }
  return "unknown";
}

std::string BadRowLimit::ToString() const {
  if (count >= 0) return std::to_string(count);
  if (percent >= 0) {
    std::ostringstream o;
    o << percent << "%";
    return o.str();
  }
  return "unlimited";
}

const ConnectionConfig* ProjectConfig::FindConnection(std::string_view n) const {
  for (const auto& c : connections) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

const ExportConfig* ProjectConfig::FindExport(std::string_view n) const {
  for (const auto& e : exports) {
    if (e.name == n) return &e;
  }
  return nullptr;
}

const TriggerConfig* ProjectConfig::FindTrigger(std::string_view n) const {
  for (const auto& t : triggers) {
    if (t.name == n) return &t;
  }
  return nullptr;
}

const PredictionConfig* ProjectConfig::FindPrediction(std::string_view n) const {
  for (const auto& p : predictions) {
    if (p.name == n) return &p;
  }
  return nullptr;
}

const SourceConfig* ProjectConfig::FindSource(std::string_view n) const {
  for (const auto& s : sources) {
    if (s.name == n) return &s;
  }
  return nullptr;
}

std::string ProjectConfig::KeyOf(std::string_view entity) const {
  if (const UnifySourceConfig* u = unification.FindSource(entity)) return u->key;
  const SourceConfig* s = FindSource(entity);
  return s ? s->primary_key : std::string();
}

std::string ProjectConfig::ResolvePath(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

StatusOr<ProjectConfig> ParseProjectYaml(const std::string& yaml_text, const std::string& origin,
                                         const std::string& base_dir) {
  YamlLimits limits;
  limits.max_bytes = kMaxProjectFileBytes;
  CDP_ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(yaml_text, origin, limits));
  ProjectConfig config;
  config.base_dir = base_dir;
  if (!root || root.IsNull()) return InvalidArgumentError(origin + ": the project file is empty");
  MapReader r(root, "", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  CDP_RETURN_IF_ERROR(r.String("project", &config.name));
  if (YAML::Node sources = r.Get("sources")) {
    if (!sources.IsSequence()) return r.KeyError("sources", sources, "expected a list of sources");
    std::set<std::string> names;
    for (size_t i = 0; i < sources.size(); ++i) {
      CDP_ASSIGN_OR_RETURN(SourceConfig s, ParseSource(sources[i], "sources[" + std::to_string(i) + "]", origin));
      if (!names.insert(s.name).second) {
        return r.KeyError("sources", sources[i], "source '" + s.name + "' is declared twice");
      }
      config.sources.push_back(std::move(s));
    }
  }
  if (YAML::Node u = r.Get("unification")) {
    CDP_ASSIGN_OR_RETURN(config.unification, ParseUnifyConfig(u, origin));
    for (size_t i = 0; i < config.unification.sources.size(); ++i) {
      UnifySourceConfig& us = config.unification.sources[i];
      const SourceConfig* src = config.FindSource(us.source);
      std::string where = "unification.sources[" + std::to_string(i) + "]";
      if (!src) {
        return r.KeyError("unification", u["sources"][i],
                          where + ": '" + us.source + "' is not a declared source");
      }
      if (us.key.empty()) us.key = src->primary_key;
      if (us.key.empty()) {
        return r.KeyError("unification", u["sources"][i],
                          where + ": source '" + us.source +
                              "' needs a key: give 'key' here or 'primary_key' on the source");
      }
    }
  }
  if (YAML::Node n = r.Get("relationships")) CDP_RETURN_IF_ERROR(ParseRelationships(n, origin, &config.relationships));
  if (YAML::Node n = r.Get("activities")) CDP_RETURN_IF_ERROR(ParseActivities(n, origin, &config.activities));
  if (YAML::Node n = r.Get("measures")) CDP_RETURN_IF_ERROR(ParseMeasures(n, origin, &config.measures));
  if (YAML::Node n = r.Get("segments")) {
    if (!n.IsSequence()) return r.KeyError("segments", n, "expected a list of segment definitions");
    std::set<std::string> names;
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsMap() || !n[i]["name"] || !n[i]["name"].IsScalar()) {
        return r.KeyError("segments", n[i], "segments[" + std::to_string(i) + "]: expected a segment definition with a name");
      }
      if (!names.insert(n[i]["name"].Scalar()).second) {
        return r.KeyError("segments", n[i], "segment '" + n[i]["name"].Scalar() + "' is declared twice");
      }
      YAML::Emitter e;
      EmitKeepingQuotes(e, n[i]);
      config.segments.push_back(e.c_str());
    }
  }
  if (YAML::Node n = r.Get("refresh")) {
    MapReader rr(n, "refresh", origin);
    CDP_RETURN_IF_ERROR(rr.CheckIsMap());
    CDP_RETURN_IF_ERROR(ParseSchedule(rr, "schedule", &config.refresh_schedule));
    CDP_RETURN_IF_ERROR(rr.CheckNoUnknownKeys({"schedule"}));
  }
  if (YAML::Node n = r.Get("search")) CDP_RETURN_IF_ERROR(ParseSearch(n, origin, &config.search));
  if (YAML::Node n = r.Get("connections")) CDP_RETURN_IF_ERROR(ParseConnections(n, origin, &config.connections));
  if (YAML::Node n = r.Get("exports")) CDP_RETURN_IF_ERROR(ParseExports(n, origin, &config.exports));
  if (YAML::Node n = r.Get("consent")) CDP_RETURN_IF_ERROR(ParseConsent(n, origin, &config.consent));
  if (YAML::Node n = r.Get("triggers")) CDP_RETURN_IF_ERROR(ParseTriggers(n, origin, &config.triggers));
  if (YAML::Node n = r.Get("predictions")) CDP_RETURN_IF_ERROR(ParsePredictions(n, origin, &config.predictions));
  if (YAML::Node n = r.Get("enrichments")) CDP_RETURN_IF_ERROR(ParseEnrichments(n, origin, &config.enrichments));
  CDP_RETURN_IF_ERROR(CheckConnectionReferences(config.connections, config.exports, config.triggers, origin));
  // Cross references (fields are checked against entity schemas when the stages run).
  // Sources, and the entities the pipeline writes that measures may read.
  auto known_entity = [&](const std::string& e) {
    return config.FindSource(e) != nullptr || e == "Customer" || e == "UnifiedActivity";
  };
  for (size_t i = 0; i < config.relationships.size(); ++i) {
    const auto& rel = config.relationships[i];
    for (const auto& e : {rel.from_entity, rel.to_entity}) {
      if (!known_entity(e)) {
        return r.KeyError("relationships", root["relationships"][i],
                          "relationships[" + std::to_string(i) + "] '" + rel.name + "': entity '" + e + "' is not a declared source");
      }
    }
  }
  for (size_t i = 0; i < config.activities.size(); ++i) {
    const auto& a = config.activities[i];
    std::string where = "activities[" + std::to_string(i) + "] '" + a.name + "'";
    if (!config.FindSource(a.entity)) {
      return r.KeyError("activities", root["activities"][i], where + ": entity '" + a.entity + "' is not a declared source");
    }
    for (const auto& p : a.path) {
      bool found = false;
      for (const auto& rel : config.relationships) found |= rel.name == p;
      if (!found) return r.KeyError("activities", root["activities"][i], where + ": path names '" + p + "', which is not a relationship");
    }
  }
  std::set<std::string> measure_names;
  for (const auto& m : config.measures) measure_names.insert(m.name);
  for (size_t i = 0; i < config.measures.size(); ++i) {
    const auto& m = config.measures[i];
    std::string where = "measures[" + std::to_string(i) + "] '" + m.name + "'";
    if (!m.activity.empty()) {
      bool found = false;
      for (const auto& a : config.activities) found |= a.name == m.activity;
      if (!found) return r.KeyError("measures", root["measures"][i], where + ": activity '" + m.activity + "' is not defined in 'activities'");
    }
    if (!m.entity.empty() && !known_entity(m.entity)) {
      return r.KeyError("measures", root["measures"][i], where + ": entity '" + m.entity + "' is not a declared source");
    }
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"project", "sources", "unification", "relationships", "activities", "measures",
                                            "segments", "search", "refresh", "connections", "exports", "consent",
                                            "triggers", "predictions", "enrichments"}));
  return config;
}

StatusOr<ProjectConfig> LoadProjectFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read project file '" + path + "'");
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxProjectFileBytes) {
    return InvalidArgumentError("project file '" + path + "' is " + std::to_string(size) +
                                " bytes, more than the limit of " + std::to_string(kMaxProjectFileBytes >> 20) + " MiB");
  }
  // Read at most one byte over the limit (the size may change, or not be known
  // for a pipe): ParseProjectYaml refuses the rest.
  std::string text(kMaxProjectFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  std::string base = std::filesystem::absolute(path).parent_path().string();
  return ParseProjectYaml(text, path, base);
}

std::string EmitProjectYaml(const ProjectConfig& config) {
  Json j;
  if (!config.name.empty()) j["project"] = config.name;
  Json sources = Json::array();
  for (const auto& s : config.sources) sources.push_back(SourceToJson(s));
  j["sources"] = sources;
  if (!config.unification.empty()) j["unification"] = Json::parse(UnifyConfigToJson(config.unification));
  if (!config.relationships.empty()) j["relationships"] = Json::parse(RelationshipsToJson(config.relationships));
  if (!config.activities.empty()) j["activities"] = Json::parse(ActivitiesToJson(config.activities));
  if (!config.measures.empty()) j["measures"] = Json::parse(MeasuresToJson(config.measures));
  if (!config.search.empty()) j["search"] = SearchToJson(config.search);
  if (!config.refresh_schedule.empty()) j["refresh"] = Json{{"schedule", config.refresh_schedule}};
  if (!config.connections.empty()) j["connections"] = Json::parse(ConnectionsToJson(config.connections));
  if (!config.exports.empty()) j["exports"] = Json::parse(ExportsToJson(config.exports));
  if (!config.consent.empty()) j["consent"] = Json::parse(ConsentToJson(config.consent));
  if (!config.triggers.empty()) j["triggers"] = Json::parse(TriggersToJson(config.triggers));
  if (!config.predictions.empty()) j["predictions"] = Json::parse(PredictionsToJson(config.predictions));
  if (!config.enrichments.empty()) j["enrichments"] = Json::parse(EnrichmentsToJson(config.enrichments));
  YAML::Node root = JsonToYaml(j);
  if (!config.segments.empty()) {
    YAML::Node segs(YAML::NodeType::Sequence);
    for (const auto& text : config.segments) {
      // Stored segments were emitted from a loaded (checked) definition.
      auto seg = LoadYaml(text, "segment");
      segs.push_back(seg.ok() ? *seg : YAML::Node(text));
    }
    root["segments"] = segs;
  }
  YAML::Emitter out;
  EmitKeepingQuotes(out, root);
  return std::string(out.c_str()) + "\n";
}

std::string SourceConfigToJson(const SourceConfig& source) { return SourceToJson(source).dump(); }

StatusOr<SourceConfig> SourceConfigFromJson(const std::string& json) {
  CDP_RETURN_IF_ERROR(ScanJson(json).WithContext("source JSON"));
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLossError("stored source definition is not valid JSON");
  return ParseSource(JsonToYaml(j), "source", "catalog");
}

}  // namespace cdp
