#include "segment/segment_definition.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "common/datetime.h"
#include "common/json_scan.h"
#include "common/utf8.h"
#include "config/yaml_loader.h"
#include "segment/internal/segment_ops.h"
#include "segment/segment_operators.h"

namespace cdp {

using Json = nlohmann::ordered_json;
using namespace segment_internal;

namespace {

constexpr size_t kMaxDepth = kMaxSegmentDepth;

}  // namespace

std::string_view ConditionOpName(ConditionOp op) {
  const SegmentOperator* o = FindSegmentOperator(op);
  return o ? o->name : "none";
}

std::optional<ConditionOp> ParseConditionOp(std::string_view name) {
  for (const auto& o : SegmentOperators()) {
    if (o.name == name) return o.op;
  }
  return std::nullopt;
}

std::string SegmentValueToString(const SegmentValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return Json(std::get<double>(v)).dump();
}

// ---------------------------------------------------------------- parsing

namespace {

std::string UnitName(TimeUnit u, bool plural) {
  std::string s(TimeUnitName(u));
  return plural ? s + "s" : s;
}

std::optional<TimeUnit> ParseUnit(std::string_view s) {
  for (TimeUnit u : {TimeUnit::kDay, TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear}) {
    std::string n(TimeUnitName(u));
    if (s == n || s == n + "s") return u;
  }
  return std::nullopt;
}

std::string_view FunctionName(AggregateFunction f) { return AggregateFunctionName(f); }

// Reads one JSON object, remembering keys so unknown ones are reported.
class ObjectReader {
 public:
  ObjectReader(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status Error(const std::string& key, const std::string& what) const {
    std::string p = key.empty() ? path_ : (path_.empty() ? key : path_ + "." + key);
    return InvalidArgumentError((p.empty() ? "" : p + ": ") + what);
  }
  const Json* Get(const std::string& key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  Status String(const std::string& key, std::string* out) {
    const Json* v = Get(key);
    if (!v || v->is_null()) return Status::Ok();
    if (!v->is_string()) return Error(key, "expected text");
    *out = v->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const std::string& key, bool* out) {
    const Json* v = Get(key);
    if (!v || v->is_null()) return Status::Ok();
    if (!v->is_boolean()) return Error(key, "expected true or false");
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status Number(const std::string& key, double* out) {
    const Json* v = Get(key);
    if (!v || v->is_null()) return Status::Ok();
    if (!v->is_number()) return Error(key, "expected a number");
    *out = v->get<double>();
    if (!std::isfinite(*out)) return Error(key, "expected a finite number");
    return Status::Ok();
  }
  Status Unsigned(const std::string& key, uint64_t* out) {
    const Json* v = Get(key);
    if (!v || v->is_null()) return Status::Ok();
    if (!v->is_number_integer() || (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0)) {
      return Error(key, "expected a whole number >= 0");
    }
    *out = v->get<uint64_t>();
    return Status::Ok();
  }
  Status CheckKeys() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.count(it.key())) return Error(it.key(), "unknown key");
    }
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

Status ParseValue(const Json& j, const std::string& path, SegmentValue* out) {
  if (j.is_string()) {
    *out = j.get<std::string>();
  } else if (j.is_boolean()) {
    *out = j.get<bool>();
  } else if (j.is_number_integer()) {
    if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgumentError(path + ": number out of range");
    }
    *out = j.get<int64_t>();
  } else if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d)) return InvalidArgumentError(path + ": number out of range");
    *out = d;
  } else {
    return InvalidArgumentError(path + ": a value is a number, text or true/false");
  }
  return Status::Ok();
}

Status ParseWindow(const Json& j, const std::string& path, TimeWindowConfig* w) {
  const std::string expect =
      "expected \"all_time\", {\"last\": N, \"unit\": \"days\"}, {\"between\": [FROM, TO]}, {\"this\": \"month\"} or "
      "{\"previous\": \"month\"}";
  if (j.is_string()) {
    if (j.get<std::string>() == "all_time") {
      *w = TimeWindowConfig{};
      return Status::Ok();
    }
    return InvalidArgumentError(path + ": " + expect);
  }
  if (!j.is_object() || j.empty()) return InvalidArgumentError(path + ": " + expect);
  ObjectReader r(j, path);
  if (const Json* last = r.Get("last")) {
    if (!last->is_number_integer() || last->get<int64_t>() <= 0 || last->get<int64_t>() > 100000) {
      return r.Error("last", "expected a whole number from 1 to 100000");
    }
    w->kind = WindowKind::kLast;
    w->n = last->get<int64_t>();
    std::string unit = "days";
    CDP_RETURN_IF_ERROR(r.String("unit", &unit));
    auto u = ParseUnit(unit);
    if (!u) return r.Error("unit", "unknown unit '" + unit + "' (days, weeks, months, quarters, years)");
    w->unit = *u;
    return r.CheckKeys();
  }
  if (const Json* b = r.Get("between")) {
    if (!b->is_array() || b->size() != 2 || !(*b)[0].is_string() || !(*b)[1].is_string()) {
      return r.Error("between", "expected [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
    }
    auto from = AsDate((*b)[0].get<std::string>());
    auto to = AsDate((*b)[1].get<std::string>());
    if (!from || !to) return r.Error("between", "expected dates as YYYY-MM-DD");
    w->kind = WindowKind::kBetween;
    w->from = *from;
    w->to = *to;
    return r.CheckKeys();
  }
  for (const char* key : {"this", "previous"}) {
    if (const Json* p = r.Get(key)) {
      if (!p->is_string()) return r.Error(key, "expected month, quarter or year");
      auto u = ParseUnit(p->get<std::string>());
      if (!u || *u == TimeUnit::kDay || *u == TimeUnit::kWeek) return r.Error(key, "expected month, quarter or year");
      w->kind = std::string_view(key) == "this" ? WindowKind::kThisPeriod : WindowKind::kLastPeriod;
      w->unit = *u;
      return r.CheckKeys();
    }
  }
  return InvalidArgumentError(path + ": " + expect);
}

Status ParseCondition(const Json& j, const std::string& path, bool allow_aggregate, Condition* c) {
  if (!j.is_object()) return InvalidArgumentError(path + ": expected a condition (an object)");
  ObjectReader r(j, path);
  CDP_RETURN_IF_ERROR(r.String("entity", &c->entity));
  CDP_RETURN_IF_ERROR(r.String("field", &c->field));
  std::string op;
  CDP_RETURN_IF_ERROR(r.String("op", &op));
  if (!op.empty()) {
    auto o = ParseConditionOp(op);
    if (!o) return r.Error("op", "unknown operator '" + op + "'");
    c->op = *o;
  }
  if (const Json* vs = r.Get("values"); vs && !vs->is_null()) {
    if (!vs->is_array()) return r.Error("values", "expected a list of values");
    for (size_t i = 0; i < vs->size(); ++i) {
      SegmentValue v;
      CDP_RETURN_IF_ERROR(ParseValue((*vs)[i], path + ".values[" + std::to_string(i) + "]", &v));
      c->values.push_back(std::move(v));
    }
  }
  if (const Json* u = r.Get("unit"); u && !u->is_null()) {
    if (!u->is_string()) return r.Error("unit", "expected days, weeks, months, quarters or years");
    auto unit = ParseUnit(u->get<std::string>());
    if (!unit) return r.Error("unit", "unknown unit '" + u->get<std::string>() + "' (days, weeks, months, quarters, years)");
    c->unit = *unit;
  }
  CDP_RETURN_IF_ERROR(r.Bool("case_insensitive", &c->case_insensitive));
  const Json* agg = r.Get("aggregate");
  const Json* filters = r.Get("filters");
  const Json* window = r.Get("window");
  const Json* time_field = r.Get("time_field");
  if (agg && !agg->is_null()) {
    if (!allow_aggregate) return r.Error("aggregate", "a filter of an aggregate is a field condition");
    if (!agg->is_string()) return r.Error("aggregate", "expected count, sum, average, min or max");
    std::string fn = agg->get<std::string>();
    auto f = ParseAggregateFunction(fn);
    if (!f || !(*f == AggregateFunction::kCount || *f == AggregateFunction::kSum || *f == AggregateFunction::kAverage ||
                *f == AggregateFunction::kMin || *f == AggregateFunction::kMax)) {
      return r.Error("aggregate", "unknown function '" + fn + "' (count, sum, average, min, max)");
    }
    c->function = *f;
    if (filters && !filters->is_null()) {
      if (!filters->is_array()) return r.Error("filters", "expected a list of conditions");
      for (size_t i = 0; i < filters->size(); ++i) {
        Condition f2;
        CDP_RETURN_IF_ERROR(ParseCondition((*filters)[i], path + ".filters[" + std::to_string(i) + "]", false, &f2));
        c->filters.push_back(std::move(f2));
      }
    }
    if (window && !window->is_null()) CDP_RETURN_IF_ERROR(ParseWindow(*window, path + ".window", &c->window));
    CDP_RETURN_IF_ERROR(r.String("time_field", &c->time_field));
  } else {
    for (auto [key, v] : {std::pair{"filters", filters}, {"window", window}, {"time_field", time_field}}) {
      if (v) return r.Error(key, "only an aggregate condition (with 'aggregate') takes this key");
    }
  }
  return r.CheckKeys();
}

Status ParseRule(const Json& j, const std::string& path, bool first, Rule* rule) {
  if (!j.is_object()) return InvalidArgumentError(path + ": expected a rule (an object)");
  ObjectReader r(j, path);
  CDP_RETURN_IF_ERROR(r.String("segment", &rule->segment));
  CDP_RETURN_IF_ERROR(r.String("entity", &rule->entity));
  CDP_RETURN_IF_ERROR(r.Bool("all_records", &rule->all_records));
  std::string combine;
  CDP_RETURN_IF_ERROR(r.String("combine", &combine));
  if (!combine.empty()) {
    if (first) return r.Error("combine", "the first rule has no set operator");
    if (combine == "union") {
      rule->combine = SetOperator::kUnion;
    } else if (combine == "intersect") {
      rule->combine = SetOperator::kIntersect;
    } else if (combine == "except" || combine == "exclude") {
      rule->combine = SetOperator::kExcept;
    } else {
      return r.Error("combine", "unknown set operator '" + combine + "' (union, intersect, except)");
    }
  }
  if (const Json* cs = r.Get("conditions"); cs && !cs->is_null()) {
    if (!cs->is_array()) return r.Error("conditions", "expected a list of conditions");
    for (size_t i = 0; i < cs->size(); ++i) {
      const Json& cj = (*cs)[i];
      std::string cpath = path + ".conditions[" + std::to_string(i) + "]";
      if (cj.is_object() && cj.contains("any")) {
        ObjectReader gr(cj, cpath);
        const Json* any = gr.Get("any");
        if (!any->is_array()) return gr.Error("any", "expected a list of conditions");
        OrGroup g;
        for (size_t k = 0; k < any->size(); ++k) {
          Condition c;
          CDP_RETURN_IF_ERROR(ParseCondition((*any)[k], cpath + ".any[" + std::to_string(k) + "]", true, &c));
          g.any_of.push_back(std::move(c));
        }
        CDP_RETURN_IF_ERROR(gr.CheckKeys());
        rule->conditions.emplace_back(std::move(g));
      } else {
        Condition c;
        CDP_RETURN_IF_ERROR(ParseCondition(cj, cpath, true, &c));
        rule->conditions.emplace_back(std::move(c));
      }
    }
  }
  return r.CheckKeys();
}

Status ParseDefinition(const Json& j, SegmentDefinition* d) {
  if (!j.is_object()) return InvalidArgumentError("a segment definition is an object");
  ObjectReader r(j, "");
  CDP_RETURN_IF_ERROR(r.String("name", &d->name));
  CDP_RETURN_IF_ERROR(r.String("display_name", &d->display_name));
  CDP_RETURN_IF_ERROR(r.String("description", &d->description));
  std::string type;
  CDP_RETURN_IF_ERROR(r.String("type", &type));
  if (type == "static") {
    d->type = SegmentType::kStatic;
  } else if (type == "dynamic" || type.empty()) {
    d->type = SegmentType::kDynamic;
  } else if (type == "expansion") {
    d->type = SegmentType::kExpansion;
  } else {
    return r.Error("type", "unknown segment type '" + type + "' (static, dynamic, expansion)");
  }
  CDP_RETURN_IF_ERROR(r.String("schedule", &d->schedule));
  CDP_RETURN_IF_ERROR(r.Bool("active", &d->active));
  if (const Json* e = r.Get("expansion"); e && !e->is_null()) {
    if (!e->is_object()) return r.Error("expansion", "expected {source, pool, share, min_similarity, include_source}");
    ObjectReader er(*e, "expansion");
    CDP_RETURN_IF_ERROR(er.String("source", &d->expansion.source));
    CDP_RETURN_IF_ERROR(er.String("pool", &d->expansion.pool));
    CDP_RETURN_IF_ERROR(er.Number("share", &d->expansion.share));
    CDP_RETURN_IF_ERROR(er.Number("min_similarity", &d->expansion.min_similarity));
    CDP_RETURN_IF_ERROR(er.Bool("include_source", &d->expansion.include_source));
    CDP_RETURN_IF_ERROR(er.Unsigned("seed", &d->expansion.seed));
    CDP_RETURN_IF_ERROR(er.CheckKeys());
  }
  if (const Json* rules = r.Get("rules"); rules && !rules->is_null()) {
    if (!rules->is_array()) return r.Error("rules", "expected a list of rules");
    for (size_t i = 0; i < rules->size(); ++i) {
      Rule rule;
      CDP_RETURN_IF_ERROR(ParseRule((*rules)[i], "rules[" + std::to_string(i) + "]", i == 0, &rule));
      d->rules.push_back(std::move(rule));
    }
  }
  return r.CheckKeys();
}

// YAML -> JSON with typed plain scalars (null, booleans, whole and decimal
// numbers); quoted scalars stay text.
Status YamlToJson(const YAML::Node& n, size_t depth, Json* out) {
  if (depth > kMaxDepth) return InvalidArgumentError("nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      *out = nullptr;
      return Status::Ok();
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (!IsValidUtf8(s)) return InvalidArgumentError("text is not valid UTF-8");
      if (n.Tag() == "!") {
        *out = s;
        return Status::Ok();
      }
      if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
        *out = nullptr;
      } else if (s == "true" || s == "True" || s == "TRUE") {
        *out = true;
      } else if (s == "false" || s == "False" || s == "FALSE") {
        *out = false;
      } else if (auto i = AsInt64(SegmentValue(s)); i && s.find_first_of(".eE") == std::string::npos) {
        *out = *i;
      } else if (auto d = AsDouble(SegmentValue(s));
                 d && !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        *out = *d;
      } else {
        *out = s;
      }
      return Status::Ok();
    }
    case YAML::NodeType::Sequence: {
      *out = Json::array();
      for (const auto& item : n) {
        Json v;
        CDP_RETURN_IF_ERROR(YamlToJson(item, depth + 1, &v));
        out->push_back(std::move(v));
      }
      return Status::Ok();
    }
    case YAML::NodeType::Map: {
      *out = Json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return InvalidArgumentError("a key must be text");
        Json v;
        CDP_RETURN_IF_ERROR(YamlToJson(kv.second, depth + 1, &v));
        const std::string& key = kv.first.Scalar();
        if (!IsValidUtf8(key)) return InvalidArgumentError("a key is not valid UTF-8");
        if (out->contains(key)) return InvalidArgumentError("duplicate key '" + key + "'");
        (*out)[key] = std::move(v);
      }
      return Status::Ok();
    }
  }
  return InvalidArgumentError("unsupported YAML node");
}

}  // namespace

namespace {

// `input`: text from a user (file, request body), held to every limit.
// Otherwise a definition already in the catalog: written by SegmentToJson
// (one line, no duplicate keys), perhaps before the size and NUL limits
// existed, so those are not applied and it still loads (and validates).
StatusOr<SegmentDefinition> ParseJsonDefinition(std::string_view json, bool input) {
  if (input && json.size() > kMaxSegmentDefinitionBytes) {
    return InvalidArgumentError("segment JSON: the text is " + std::to_string(json.size()) +
                                " bytes, more than the limit of " + std::to_string(kMaxSegmentDefinitionBytes >> 20) +
                                " MiB");
  }
  // Depth, duplicate keys and NUL characters before nlohmann sees the text
  // (it keeps the last of two equal keys, and its printer recurses).
  CDP_RETURN_IF_ERROR(
      ScanJson(json, {.max_depth = kMaxDepth, .refuse_duplicate_keys = true, .refuse_nul_characters = input})
          .WithContext("segment JSON"));
  try {
    Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return InvalidArgumentError("segment JSON: not valid JSON");
    SegmentDefinition d;
    CDP_RETURN_IF_ERROR(ParseDefinition(j, &d).WithContext("segment JSON"));
    return d;
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("segment JSON: ") + e.what());
  }
}

}  // namespace

StatusOr<SegmentDefinition> ParseSegmentJson(std::string_view json) { return ParseJsonDefinition(json, true); }

StatusOr<SegmentDefinition> ParseStoredSegmentJson(std::string_view json) { return ParseJsonDefinition(json, false); }

StatusOr<SegmentDefinition> ParseSegmentYaml(std::string_view yaml) {
  try {
    YamlLimits limits;
    limits.max_bytes = kMaxSegmentDefinitionBytes;
    limits.max_depth = kMaxDepth;
    auto loaded = LoadYaml(yaml, "", limits);
    if (!loaded.ok()) return loaded.status().WithContext("segment YAML");
    const YAML::Node& root = *loaded;
    Json j;
    CDP_RETURN_IF_ERROR(YamlToJson(root, 0, &j).WithContext("segment YAML"));
    SegmentDefinition d;
    CDP_RETURN_IF_ERROR(ParseDefinition(j, &d).WithContext("segment YAML"));
    return d;
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("segment YAML: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("segment YAML: ") + e.what());
  }
}

// ---------------------------------------------------------------- emitting

namespace {

Json ValueJson(const SegmentValue& v) {
  return std::visit([](const auto& x) { return Json(x); }, v);
}

Json WindowJson(const TimeWindowConfig& w) {
  switch (w.kind) {
    case WindowKind::kAllTime: return "all_time";
    case WindowKind::kLast: return Json{{"last", w.n}, {"unit", UnitName(w.unit, true)}};
    case WindowKind::kBetween: return Json{{"between", Json::array({FormatDate(w.from), FormatDate(w.to)})}};
    case WindowKind::kThisPeriod: return Json{{"this", UnitName(w.unit, false)}};
    case WindowKind::kLastPeriod: return Json{{"previous", UnitName(w.unit, false)}};
  }
  return "all_time";
}

Json ConditionJson(const Condition& c) {
  Json o = Json::object();
  if (c.function) o["aggregate"] = std::string(FunctionName(*c.function));
  if (!c.entity.empty()) o["entity"] = c.entity;
  if (!c.field.empty()) o["field"] = c.field;
  if (c.function) {
    if (!c.filters.empty()) {
      Json fs = Json::array();
      for (const auto& f : c.filters) fs.push_back(ConditionJson(f));
      o["filters"] = std::move(fs);
    }
    if (c.window.kind != WindowKind::kAllTime) o["window"] = WindowJson(c.window);
    if (!c.time_field.empty()) o["time_field"] = c.time_field;
  }
  if (c.op != ConditionOp::kNone) o["op"] = std::string(ConditionOpName(c.op));
  if (!c.values.empty()) {
    Json vs = Json::array();
    for (const auto& v : c.values) vs.push_back(ValueJson(v));
    o["values"] = std::move(vs);
  }
  if (c.unit != TimeUnit::kDay || OpUsesUnit(c.op)) {
    bool plural = c.op != ConditionOp::kThisPeriod && c.op != ConditionOp::kLastPeriod;
    o["unit"] = UnitName(c.unit, plural);
  }
  if (c.case_insensitive) o["case_insensitive"] = true;
  return o;
}

}  // namespace

std::string SegmentToJson(const SegmentDefinition& d, int indent) {
  Json o = Json::object();
  o["name"] = d.name;
  if (!d.display_name.empty()) o["display_name"] = d.display_name;
  if (!d.description.empty()) o["description"] = d.description;
  o["type"] = SegmentTypeName(d.type);
  if (!d.schedule.empty()) o["schedule"] = d.schedule;
  if (!d.active) o["active"] = false;
  if (d.type == SegmentType::kExpansion) {
    Json e = Json::object();
    e["source"] = d.expansion.source;
    if (!d.expansion.pool.empty()) e["pool"] = d.expansion.pool;
    e["share"] = d.expansion.share;
    if (d.expansion.min_similarity > 0) e["min_similarity"] = d.expansion.min_similarity;
    if (d.expansion.include_source) e["include_source"] = true;
    e["seed"] = d.expansion.seed;
    o["expansion"] = std::move(e);
  }
  Json rules = Json::array();
  for (size_t i = 0; i < d.rules.size(); ++i) {
    const Rule& r = d.rules[i];
    Json rj = Json::object();
    if (i > 0) {
      rj["combine"] = r.combine == SetOperator::kUnion       ? "union"
                      : r.combine == SetOperator::kIntersect ? "intersect"
                                                             : "except";
    }
    if (!r.segment.empty()) rj["segment"] = r.segment;
    if (!r.entity.empty()) rj["entity"] = r.entity;
    if (r.all_records) rj["all_records"] = true;
    if (!r.conditions.empty()) {
      Json cs = Json::array();
      for (const auto& t : r.conditions) {
        if (auto* c = std::get_if<Condition>(&t)) {
          cs.push_back(ConditionJson(*c));
        } else {
          Json any = Json::array();
          for (const auto& c2 : std::get<OrGroup>(t).any_of) any.push_back(ConditionJson(c2));
          cs.push_back(Json{{"any", std::move(any)}});
        }
      }
      rj["conditions"] = std::move(cs);
    }
    rules.push_back(std::move(rj));
  }
  o["rules"] = std::move(rules);
  // Invalid UTF-8 (only possible in definitions built in code) is replaced, not thrown.
  return o.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

// Would YamlToJson read this plain scalar as something other than text (null,
// a boolean, a number)? Then it is written quoted.
bool NeedsQuotes(const std::string& s) {
  static const std::set<std::string> kWords = {"~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"};
  if (s.empty() || kWords.count(s)) return true;
  char c = s[0];
  return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
}

void EmitYaml(YAML::Emitter& out, const Json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      EmitYaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    bool scalars = std::all_of(j.begin(), j.end(), [](const Json& e) { return e.is_primitive(); });
    if (scalars) out << YAML::Flow;  // values: [a, b]
    out << YAML::BeginSeq;
    for (const auto& e : j) EmitYaml(out, e);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
    out << s;
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();  // numbers and booleans as JSON writes them: 1.0 stays a double
  }
}

}  // namespace

std::string SegmentToYaml(const SegmentDefinition& d) {
  Json j = Json::parse(SegmentToJson(d, -1));
  YAML::Emitter out;
  EmitYaml(out, j);
  return std::string(out.c_str()) + "\n";
}

// ---------------------------------------------------------------- validation

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                          std::tolower(static_cast<unsigned char>(b[j - 1]))
                                      ? 0
                                      : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean X?)" for the closest candidate, or "".
std::string Suggest(std::string_view name, const std::vector<std::string>& candidates) {
  if (name.size() > 256) return "";
  size_t best = SIZE_MAX;
  std::string best_name;
  for (const auto& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best) {
      best = d;
      best_name = c;
    }
  }
  size_t limit = std::max<size_t>(2, name.size() / 3);
  if (best_name.empty() || best > limit) return "";
  return " (did you mean " + best_name + "?)";
}

bool IsCronField(std::string_view f) {
  return !f.empty() && std::all_of(f.begin(), f.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '/' || c == ',' || c == '-';
  });
}

std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

class Validator {
 public:
  Validator(const SegmentSchema& schema, std::vector<SegmentProblem>* out) : schema_(schema), out_(out) {}

  void Add(std::string path, std::string message) { out_->push_back({std::move(path), std::move(message)}); }

  const Schema* EntitySchema(std::string_view entity) const {
    if (entity == kCustomerEntity) return &schema_.customer;
    if (entity == kCustomerMeasureEntity) return schema_.customer_measure ? &*schema_.customer_measure : nullptr;
    auto it = schema_.related.find(std::string(entity));
    return it == schema_.related.end() ? nullptr : &it->second;
  }
  bool IsPerCustomer(std::string_view entity) const {
    return entity == kCustomerEntity || entity == kCustomerMeasureEntity;
  }
  std::vector<std::string> EntityNames() const {
    std::vector<std::string> v{std::string(kCustomerEntity)};
    if (schema_.customer_measure) v.emplace_back(kCustomerMeasureEntity);
    for (const auto& [k, s] : schema_.related) v.push_back(k);
    return v;
  }

  // The field's type, or nullopt after reporting a problem.
  std::optional<DataType> FieldType(const std::string& path, const std::string& entity, const std::string& field,
                                    const char* what = "field") {
    const Schema* s = EntitySchema(entity);
    if (!s) return std::nullopt;
    if (field.empty()) {
      Add(path, std::string("no ") + what + " chosen");
      return std::nullopt;
    }
    int idx = s->FieldIndex(field);
    if (idx < 0) {
      std::vector<std::string> names;
      for (const auto& f : s->fields()) names.push_back(f.name);
      Add(path, std::string(what) + " '" + field + "' is not a field of " + entity + Suggest(field, names));
      return std::nullopt;
    }
    return s->field(static_cast<size_t>(idx)).type;
  }

  // Operator and values of a comparison on a value of kind `kind`.
  void CheckComparison(const std::string& path, const Condition& c, ValueKind kind, const std::string& what) {
    if (c.op == ConditionOp::kNone) {
      Add(path, "no operator chosen");
      return;
    }
    if (!OpApplies(c.op, kind)) {
      Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' does not apply to " +
                    std::string(ValueKindName(kind)) + " " + what + " (use " + OpsFor(kind) + ")");
      return;
    }
    int want = ValueCount(c.op);
    if (want >= 0 && static_cast<int>(c.values.size()) != want) {
      Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' takes " +
                    (want == 0 ? "no value" : want == 1 ? "one value" : std::to_string(want) + " values") + ", got " +
                    std::to_string(c.values.size()));
      return;
    }
    if (want < 0 && c.values.empty()) {
      Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' needs at least one value");
      return;
    }
    if (c.case_insensitive && kind != ValueKind::kString) Add(path, "case_insensitive applies to text fields only");
    if (OpUsesUnit(c.op)) {
      bool period = c.op == ConditionOp::kThisPeriod || c.op == ConditionOp::kLastPeriod;
      if (period && (c.unit == TimeUnit::kDay || c.unit == TimeUnit::kWeek)) {
        Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' takes unit month, quarter or year");
      }
    } else if (c.unit != TimeUnit::kDay) {
      Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' takes no unit");
    }
    // Values.
    for (size_t i = 0; i < c.values.size(); ++i) {
      std::string vpath = path + ".values[" + std::to_string(i) + "]";
      const SegmentValue& v = c.values[i];
      std::string shown = SegmentValueToString(v);
      if (c.op == ConditionOp::kInLast || c.op == ConditionOp::kInNext) {
        auto n = AsInt64(v);
        if (!n || *n <= 0 || *n > 100000) Add(vpath, "'" + shown + "' is not a whole number from 1 to 100000");
        continue;
      }
      if (c.op == ConditionOp::kAnniversaryWithin) {
        auto n = AsInt64(v);
        if (!n || *n < 0 || *n > 366) Add(vpath, "'" + shown + "' is not a number of days from 0 to 366");
        continue;
      }
      switch (kind) {
        case ValueKind::kNumber:
          if (!AsDouble(v)) Add(vpath, "'" + shown + "' is not a number");
          break;
        case ValueKind::kString:
          if (!AsText(v)) Add(vpath, "'" + shown + "' is not text (quote it)");
          break;
        case ValueKind::kDate:
          if (!AsDate(v)) Add(vpath, "'" + shown + "' is not a date (use YYYY-MM-DD)");
          break;
        case ValueKind::kBool:
          if (!AsBool(v)) Add(vpath, "'" + shown + "' is not true or false");
          break;
      }
    }
    if (c.op == ConditionOp::kBetween && c.values.size() == 2) {
      if (kind == ValueKind::kNumber) {
        auto lo = AsDouble(c.values[0]), hi = AsDouble(c.values[1]);
        if (lo && hi && *lo > *hi) Add(path, "between: the first value is greater than the second");
      } else if (kind == ValueKind::kDate) {
        auto lo = AsDate(c.values[0]), hi = AsDate(c.values[1]);
        if (lo && hi && *lo > *hi) Add(path, "between: the first date is after the second");
      }
    }
  }

  // A field condition of `entity` (already resolved and known).
  void CheckFieldCondition(const std::string& path, const Condition& c, const std::string& entity) {
    auto type = FieldType(path, entity, c.field);
    if (!type) {
      if (c.op == ConditionOp::kNone) Add(path, "no operator chosen");
      return;
    }
    CheckComparison(path, c, KindOf(*type), "field '" + c.field + "'");
  }

  void CheckAggregate(const std::string& path, const Condition& c, const Rule& rule) {
    std::string entity = c.entity.empty() ? rule.entity : c.entity;
    if (IsPerCustomer(entity)) {
      Add(path, "an aggregate reads a related entity's rows, not " + entity + " (set 'entity')");
      return;
    }
    if (!EntitySchema(entity)) {
      Add(path, "entity '" + entity + "' is not a related entity" + Suggest(entity, EntityNames()));
      return;
    }
    AggregateFunction f = *c.function;
    if (!c.field.empty() || f != AggregateFunction::kCount) {
      auto type = FieldType(path, entity, c.field);
      if (type && f != AggregateFunction::kCount && KindOf(*type) != ValueKind::kNumber) {
        Add(path, std::string(FunctionName(f)) + " needs a number field; '" + c.field + "' is " +
                      std::string(DataTypeName(*type)));
      }
    }
    for (size_t i = 0; i < c.filters.size(); ++i) {
      std::string fpath = path + ".filters[" + std::to_string(i) + "]";
      const Condition& fc = c.filters[i];
      if (fc.is_aggregate()) {
        Add(fpath, "a filter is a field condition");
        continue;
      }
      if (!fc.entity.empty() && fc.entity != entity) {
        Add(fpath, "a filter reads the aggregated entity " + entity + ", not '" + fc.entity + "'");
        continue;
      }
      CheckFieldCondition(fpath, fc, entity);
    }
    if (c.window.kind != WindowKind::kAllTime) {
      if (c.time_field.empty()) {
        Add(path, "a window needs 'time_field' (a date or timestamp field of " + entity + ")");
      } else if (auto t = FieldType(path, entity, c.time_field, "time_field")) {
        if (KindOf(*t) != ValueKind::kDate) {
          Add(path, "time_field '" + c.time_field + "' is " + std::string(DataTypeName(*t)) + "; a window needs a date or timestamp");
        }
      }
      if (c.window.kind == WindowKind::kBetween && c.window.from > c.window.to) {
        Add(path + ".window", "between: the first date is after the second");
      }
      if (c.window.kind == WindowKind::kLast && (c.window.n <= 0 || c.window.n > 100000)) {
        Add(path + ".window", "last: expected a whole number from 1 to 100000");
      }
    } else if (!c.time_field.empty()) {
      FieldType(path, entity, c.time_field, "time_field");
    }
    Condition cmp = c;
    cmp.case_insensitive = false;
    if (c.case_insensitive) Add(path, "case_insensitive applies to text fields only");
    if (cmp.op != ConditionOp::kNone && !OpApplies(cmp.op, ValueKind::kNumber)) {
      Add(path, "operator '" + std::string(ConditionOpName(c.op)) + "' does not apply to an aggregate (use " +
                    OpsFor(ValueKind::kNumber) + ")");
      return;
    }
    CheckComparison(path, cmp, ValueKind::kNumber, "aggregate");
  }

  void CheckCondition(const std::string& path, const Condition& c, const Rule& rule, bool rule_entity_known) {
    if (c.is_aggregate()) {
      CheckAggregate(path, c, rule);
      return;
    }
    if (!c.filters.empty() || c.window.kind != WindowKind::kAllTime || !c.time_field.empty()) {
      Add(path, "filters, window and time_field belong to aggregate conditions");
    }
    std::string entity = rule.entity;
    if (!c.entity.empty() && c.entity != rule.entity) {
      if (!IsPerCustomer(c.entity)) {
        Add(path, "a condition reads the rule's entity, Customer or Customer_Measure, not '" + c.entity + "'");
        return;
      }
      if (!EntitySchema(c.entity)) {
        Add(path, "entity '" + c.entity + "' is not available");
        return;
      }
      entity = c.entity;
    } else if (!rule_entity_known) {
      return;
    }
    CheckFieldCondition(path, c, entity);
  }

  void CheckRule(const std::string& path, const Rule& rule) {
    if (!rule.segment.empty()) {
      if (!rule.entity.empty() || !rule.conditions.empty() || rule.all_records) {
        Add(path, "a rule on membership of segment '" + rule.segment + "' has no entity, conditions or all_records");
      } else if (rule.segment == self_) {
        Add(path, "a segment cannot take its own members");
      } else if (!schema_.segments.count(rule.segment)) {
        std::vector<std::string> names(schema_.segments.begin(), schema_.segments.end());
        Add(path, "segment '" + rule.segment + "' does not exist or has no members yet" + Suggest(rule.segment, names));
      }
      return;
    }
    bool known = false;
    if (rule.entity.empty()) {
      Add(path, "no entity chosen");
    } else if (!EntitySchema(rule.entity)) {
      Add(path, "entity '" + rule.entity + "' is not Customer, Customer_Measure or an entity related to Customer" +
                    Suggest(rule.entity, EntityNames()));
    } else {
      known = true;
    }
    if (rule.conditions.empty() && !rule.all_records) {
      Add(path, "empty rule: add conditions or choose all_records");
    }
    for (size_t i = 0; i < rule.conditions.size(); ++i) {
      std::string cpath = path + ".conditions[" + std::to_string(i) + "]";
      if (auto* c = std::get_if<Condition>(&rule.conditions[i])) {
        CheckCondition(cpath, *c, rule, known);
      } else {
        const auto& g = std::get<OrGroup>(rule.conditions[i]);
        if (g.any_of.empty()) Add(cpath, "empty OR group");
        for (size_t k = 0; k < g.any_of.size(); ++k) {
          CheckCondition(cpath + ".any[" + std::to_string(k) + "]", g.any_of[k], rule, known);
        }
      }
    }
  }

  void CheckDefinition(const SegmentDefinition& d) {
    self_ = d.name;
    if (d.name.empty()) {
      Add("name", "a segment needs a name");
    } else if (!IsValidSegmentName(d.name)) {
      Add("name", "'" + d.name + "' is not a valid name: " + std::string(kSegmentNameRule));
    }
    if (d.type == SegmentType::kStatic && !d.schedule.empty()) {
      Add("schedule", "a static segment runs once and has no schedule");
    } else if (!d.schedule.empty()) {
      auto fields = SplitSpaces(d.schedule);
      if (fields.size() != 5 || !std::all_of(fields.begin(), fields.end(), [](const std::string& f) { return IsCronField(f); })) {
        Add("schedule", "'" + d.schedule + "' is not a cron schedule (5 fields: minute hour day month weekday, e.g. '0 */12 * * *')");
      }
    }
    if (!d.active && d.type != SegmentType::kDynamic) {
      Add("active", "only a dynamic segment is activated or deactivated");
    }
    if (d.type == SegmentType::kExpansion) {
      const ExpansionSpec& e = d.expansion;
      if (!d.schedule.empty()) Add("schedule", "an expansion segment is frozen when saved and has no schedule");
      if (!d.rules.empty()) Add("rules", "an expansion segment has no rules: its members come from `expansion`");
      if (e.source.empty()) {
        Add("expansion.source", "choose the source segment");
      } else if (e.source == d.name) {
        Add("expansion.source", "an expansion segment cannot be its own source");
      } else if (!schema_.segments.empty() && !schema_.segments.count(e.source)) {
        Add("expansion.source", "segment '" + e.source + "' does not exist");
      } else if (!e.pool.empty() && !schema_.segments.empty() && !schema_.segments.count(e.pool)) {
        Add("expansion.pool", "segment '" + e.pool + "' does not exist");
      }
      if (!e.pool.empty() && e.pool == e.source) Add("expansion.pool", "the pool must differ from the source");
      if (!(e.share > 0 && e.share <= 1)) Add("expansion.share", "a share of the pool in (0, 1]");
      if (e.min_similarity != 0 && !(e.min_similarity >= 0.4 && e.min_similarity < 1)) {
        Add("expansion.min_similarity", "0 (use share) or a similarity from 0.4 to below 1");
      }
      return;
    }
    if (d.rules.empty()) Add("rules", "a segment needs at least one rule");
    for (size_t i = 0; i < d.rules.size(); ++i) CheckRule("rules[" + std::to_string(i) + "]", d.rules[i]);
  }

 private:
  const SegmentSchema& schema_;
  std::vector<SegmentProblem>* out_;
  std::string self_;
};

}  // namespace

std::vector<SegmentProblem> Validate(const SegmentDefinition& d, const SegmentSchema& schema) {
  std::vector<SegmentProblem> problems;
  Validator(schema, &problems).CheckDefinition(d);
  return problems;
}

std::string_view SegmentTypeName(SegmentType type) {
  switch (type) {
    case SegmentType::kStatic: return "static";
    case SegmentType::kDynamic: return "dynamic";
    case SegmentType::kExpansion: return "expansion";
  }
  return "dynamic";
}

std::string_view SegmentStateName(SegmentState s) {
  switch (s) {
    case SegmentState::kActive: return "active";
    case SegmentState::kDraft: return "draft";
    case SegmentState::kInactive: return "inactive";
  }
  return "active";
}

SegmentState StateAfterSave(const SegmentDefinition& d, const std::vector<SegmentProblem>& problems) {
  if (problems.empty()) return SegmentState::kActive;
  return d.type == SegmentType::kDynamic ? SegmentState::kDraft : SegmentState::kInactive;
}

std::string FormatProblems(const std::vector<SegmentProblem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "\n";
    out += p.ToString();
  }
  return out;
}

SegmentDefinition MakeQuickSegment(std::string name, std::string entity, std::string field, ConditionOp op,
                                   std::vector<SegmentValue> values) {
  SegmentDefinition d;
  d.display_name = name;
  d.name = std::move(name);
  d.type = SegmentType::kDynamic;
  Rule r;
  r.entity = std::move(entity);
  Condition c;
  c.field = std::move(field);
  c.op = op;
  c.values = std::move(values);
  r.conditions.emplace_back(std::move(c));
  d.rules.push_back(std::move(r));
  return d;
}

}  // namespace cdp
