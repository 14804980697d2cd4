#include "config/model_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "common/datetime.h"
#include "common/json_scan.h"
#include "common/value_text.h"
#include "config/internal/yaml_reader.h"

namespace cdp {
namespace {

using config_internal::JsonToYaml;
using config_internal::MapReader;
using Json = nlohmann::ordered_json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

const std::vector<std::string> kMeasureFilterOps = {"equals", "not_equals", "less", "less_equal", "greater",
                                                    "greater_equal", "in", "not_in", "is_empty", "is_not_empty",
                                                    "contains", "starts_with"};

template <typename T, typename F>
Status ParseSeq(const YAML::Node& node, const std::string& origin, const std::string& key, std::vector<T>* out, F parse) {
  if (!node.IsSequence()) {
    std::string loc = origin + (node.Mark().line >= 0 ? ":" + std::to_string(node.Mark().line + 1) : "");
    return InvalidArgumentError(loc + ": " + key + ": expected a list");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = key + "[" + std::to_string(i) + "]";
    MapReader r(node[i], path, origin);
    CDP_RETURN_IF_ERROR(r.CheckIsMap());
    CDP_ASSIGN_OR_RETURN(T v, parse(r, node[i], path));
    if (!names.insert(v.name).second) return r.Error(node[i], "'" + v.name + "' is declared twice");
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

Status ReadEnd(MapReader& r, const std::string& key, std::string* entity, std::string* field) {
  YAML::Node n = r.Get(key);
  if (!n) return r.Error(r.node(), "missing required key '" + key + "'");
  if (!n.IsMap()) return r.KeyError(key, n, "expected {entity: ..., field: ...}");
  YAML::Node en = n["entity"], fn = n["field"];
  if (!en || !fn || !en.IsScalar() || !fn.IsScalar() || n.size() != 2) {
    return r.KeyError(key, n, "expected exactly {entity: ..., field: ...}");
  }
  *entity = en.Scalar();
  *field = fn.Scalar();
  return Status::Ok();
}

StatusOr<TimeUnit> ParseUnit(std::string s) {
  s = Lower(s);
  if (!s.empty() && s.back() == 's') s.pop_back();
  if (s == "day") return TimeUnit::kDay;
  if (s == "week") return TimeUnit::kWeek;
  if (s == "month") return TimeUnit::kMonth;
  if (s == "quarter") return TimeUnit::kQuarter;
  if (s == "year") return TimeUnit::kYear;
  return InvalidArgumentError("unknown time unit '" + s + "' (use days, weeks, months, quarters or years)");
}

StatusOr<int32_t> WindowDate(const std::string& s) {
  int32_t days;
  if (ParseIsoDate(s, &days)) return days;
  bool shaped = s.size() == 10;  // YYYY-MM-DD, but no such day
  for (size_t i = 0; shaped && i < s.size(); ++i) shaped = (i == 4 || i == 7) ? s[i] == '-' : std::isdigit(static_cast<unsigned char>(s[i]));
  return InvalidArgumentError("'" + s + "' is not a " + (shaped ? "valid date" : "date (YYYY-MM-DD)"));
}

Status ParseWindow(MapReader& r, TimeWindowConfig* w) {
  YAML::Node n = r.Get("window");
  if (!n) return Status::Ok();
  if (n.IsScalar()) {
    std::string s = Lower(n.Scalar());
    if (s == "all_time" || s == "all") return Status::Ok();
    return r.KeyError("window", n, "expected all_time, {last: N, unit: days}, {between: [FROM, TO]}, {this: month} or {previous: month}");
  }
  if (!n.IsMap()) return r.KeyError("window", n, "expected a mapping");
  auto err = [&](const std::string& what) { return r.KeyError("window", n, what); };
  if (n["last"]) {
    long long count = 0;
    if (!n["last"].IsScalar() || !YAML::convert<long long>::decode(n["last"], count) || count <= 0) {
      return err("'last' must be a whole number > 0");
    }
    w->kind = WindowKind::kLast;
    w->n = count;
    std::string unit = n["unit"] ? n["unit"].Scalar() : "days";
    auto u = ParseUnit(unit);
    if (!u.ok()) return err(u.status().message());
    w->unit = *u;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it->first.Scalar() != "last" && it->first.Scalar() != "unit") return err("unknown key '" + it->first.Scalar() + "' (with last: unit)");
    }
    return Status::Ok();
  }
  if (n["between"]) {
    YAML::Node b = n["between"];
    if (!b.IsSequence() || b.size() != 2) return err("'between' takes [FROM, TO] dates");
    auto from = WindowDate(b[0].Scalar());
    if (!from.ok()) return err(from.status().message());
    auto to = WindowDate(b[1].Scalar());
    if (!to.ok()) return err(to.status().message());
    if (*to < *from) return err("'between' dates are reversed");
    w->kind = WindowKind::kBetween;
    w->from = *from;
    w->to = *to;
    if (n.size() != 1) return err("'between' takes no other key");
    return Status::Ok();
  }
  for (const char* key : {"this", "previous"}) {
    if (!n[key]) continue;
    auto u = ParseUnit(n[key].Scalar());
    if (!u.ok() || *u == TimeUnit::kDay || *u == TimeUnit::kWeek) return err(std::string("'") + key + "' takes month, quarter or year");
    w->kind = std::string(key) == "this" ? WindowKind::kThisPeriod : WindowKind::kLastPeriod;
    w->unit = *u;
    if (n.size() != 1) return err(std::string("'") + key + "' takes no other key");
    return Status::Ok();
  }
  return err("expected all_time, {last: N, unit: days}, {between: [FROM, TO]}, {this: month} or {previous: month}");
}

Json WindowToJson(const TimeWindowConfig& w) {
  switch (w.kind) {
    case WindowKind::kAllTime: return "all_time";
    case WindowKind::kLast: return Json{{"last", w.n}, {"unit", std::string(TimeUnitName(w.unit)) + "s"}};
    case WindowKind::kBetween: return Json{{"between", {FormatDate(w.from), FormatDate(w.to)}}};
    case WindowKind::kThisPeriod: return Json{{"this", std::string(TimeUnitName(w.unit))}};
    case WindowKind::kLastPeriod: return Json{{"previous", std::string(TimeUnitName(w.unit))}};
  }
  return "all_time";
}

}  // namespace

std::string_view CardinalityName(Cardinality c) { return c == Cardinality::kOneToOne ? "one_to_one" : "many_to_one"; }

const std::vector<std::string>& KnownActivityTypes() {
  static const std::vector<std::string> kTypes = {"SalesOrder", "SalesOrderLine", "Loyalty", "Review",
                                                  "Feedback",   "Subscription",   "WebVisit", "Other"};
  return kTypes;
}

std::string_view MeasureKindName(MeasureKind k) {
  switch (k) {
    case MeasureKind::kAttribute: return "attribute";
    case MeasureKind::kCustomer: return "customer";
    case MeasureKind::kBusiness: return "business";
  }
  return "attribute";
}

std::string_view AggregateFunctionName(AggregateFunction f) {
  switch (f) {
    case AggregateFunction::kSum: return "sum";
    case AggregateFunction::kAverage: return "average";
    case AggregateFunction::kCount: return "count";
    case AggregateFunction::kCountUnique: return "count_unique";
    case AggregateFunction::kMin: return "min";
    case AggregateFunction::kMax: return "max";
    case AggregateFunction::kFirst: return "first";
    case AggregateFunction::kLast: return "last";
    case AggregateFunction::kArgMax: return "argmax";
    case AggregateFunction::kArgMin: return "argmin";
  }
  return "sum";
}

std::optional<AggregateFunction> ParseAggregateFunction(std::string_view name) {
  std::string l = Lower(std::string(name));
  for (AggregateFunction f : {AggregateFunction::kSum, AggregateFunction::kAverage, AggregateFunction::kCount,
                              AggregateFunction::kCountUnique, AggregateFunction::kMin, AggregateFunction::kMax,
                              AggregateFunction::kFirst, AggregateFunction::kLast, AggregateFunction::kArgMax,
                              AggregateFunction::kArgMin}) {
    if (l == AggregateFunctionName(f)) return f;
  }
  if (l == "avg" || l == "mean") return AggregateFunction::kAverage;
  if (l == "countunique" || l == "count_distinct") return AggregateFunction::kCountUnique;
  if (l == "arg_max") return AggregateFunction::kArgMax;
  if (l == "arg_min") return AggregateFunction::kArgMin;
  return std::nullopt;
}

std::string_view TimeUnitName(TimeUnit u) {
  switch (u) {
    case TimeUnit::kDay: return "day";
    case TimeUnit::kWeek: return "week";
    case TimeUnit::kMonth: return "month";
    case TimeUnit::kQuarter: return "quarter";
    case TimeUnit::kYear: return "year";
  }
  return "day";
}

Status ParseRelationships(const YAML::Node& node, const std::string& origin, std::vector<RelationshipConfig>* out) {
  return ParseSeq(node, origin, "relationships", out,
                  [&](MapReader& r, const YAML::Node& n, const std::string&) -> StatusOr<RelationshipConfig> {
                    RelationshipConfig rel;
                    CDP_RETURN_IF_ERROR(r.String("name", &rel.name, true));
                    if (!IsIdentifier(rel.name)) return r.KeyError("name", n["name"], "expected an identifier (letters, digits, _)");
                    CDP_RETURN_IF_ERROR(ReadEnd(r, "from", &rel.from_entity, &rel.from_field));
                    CDP_RETURN_IF_ERROR(ReadEnd(r, "to", &rel.to_entity, &rel.to_field));
                    std::string card;
                    CDP_RETURN_IF_ERROR(r.String("cardinality", &card));
                    if (card.empty() || Lower(card) == "many_to_one") {
                      rel.cardinality = Cardinality::kManyToOne;
                    } else if (Lower(card) == "one_to_one") {
                      rel.cardinality = Cardinality::kOneToOne;
                    } else {
                      return r.KeyError("cardinality", n["cardinality"],
                                        "use many_to_one or one_to_one (many-to-many goes through a link entity)");
                    }
                    CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"name", "from", "to", "cardinality"}));
                    return rel;
                  });
}

Status ParseActivities(const YAML::Node& node, const std::string& origin, std::vector<ActivityConfig>* out) {
  return ParseSeq(node, origin, "activities", out,
                  [&](MapReader& r, const YAML::Node& n, const std::string&) -> StatusOr<ActivityConfig> {
                    ActivityConfig a;
                    CDP_RETURN_IF_ERROR(r.String("name", &a.name, true));
                    if (!IsIdentifier(a.name)) return r.KeyError("name", n["name"], "expected an identifier (letters, digits, _)");
                    CDP_RETURN_IF_ERROR(r.String("entity", &a.entity, true));
                    CDP_RETURN_IF_ERROR(r.String("timestamp", &a.timestamp, true));
                    CDP_RETURN_IF_ERROR(r.String("type", &a.type));
                    if (!IsIdentifier(a.type)) return r.KeyError("type", n["type"], "expected a type name (e.g. SalesOrder, Review, or a custom identifier)");
                    CDP_RETURN_IF_ERROR(r.String("subject", &a.subject));
                    CDP_RETURN_IF_ERROR(r.String("amount", &a.amount));
                    CDP_RETURN_IF_ERROR(r.StringList("path", &a.path));
                    CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"name", "entity", "timestamp", "type", "subject", "amount", "path"}));
                    return a;
                  });
}

Status ParseMeasures(const YAML::Node& node, const std::string& origin, std::vector<MeasureConfig>* out) {
  return ParseSeq(node, origin, "measures", out,
                  [&](MapReader& r, const YAML::Node& n, const std::string& path) -> StatusOr<MeasureConfig> {
                    MeasureConfig m;
                    CDP_RETURN_IF_ERROR(r.String("name", &m.name, true));
                    if (!IsIdentifier(m.name)) return r.KeyError("name", n["name"], "expected an identifier (letters, digits, _; no spaces)");
                    CDP_RETURN_IF_ERROR(r.String("description", &m.description));
                    std::string kind;
                    CDP_RETURN_IF_ERROR(r.String("kind", &kind));
                    if (kind.empty() || Lower(kind) == "attribute") {
                      m.kind = MeasureKind::kAttribute;
                    } else if (Lower(kind) == "customer") {
                      m.kind = MeasureKind::kCustomer;
                    } else if (Lower(kind) == "business") {
                      m.kind = MeasureKind::kBusiness;
                    } else {
                      return r.KeyError("kind", n["kind"], "use attribute, customer or business");
                    }
                    CDP_RETURN_IF_ERROR(r.String("formula", &m.formula));
                    std::string function;
                    CDP_RETURN_IF_ERROR(r.String("function", &function));
                    CDP_RETURN_IF_ERROR(r.String("activity", &m.activity));
                    CDP_RETURN_IF_ERROR(r.String("entity", &m.entity));
                    CDP_RETURN_IF_ERROR(r.String("field", &m.field));
                    CDP_RETURN_IF_ERROR(r.String("order_by", &m.order_by));
                    CDP_RETURN_IF_ERROR(r.String("time_field", &m.time_field));
                    CDP_RETURN_IF_ERROR(r.StringList("dimensions", &m.dimensions));
                    if (YAML::Node d = r.Get("default")) {
                      double v;
                      if (!d.IsScalar() || !YAML::convert<double>::decode(d, v)) return r.KeyError("default", d, "expected a number");
                      m.default_value = v;
                    }
                    if (YAML::Node fs = r.Get("filters")) {
                      if (!fs.IsSequence()) return r.KeyError("filters", fs, "expected a list");
                      for (size_t i = 0; i < fs.size(); ++i) {
                        MapReader f(fs[i], path + ".filters[" + std::to_string(i) + "]", origin);
                        CDP_RETURN_IF_ERROR(f.CheckIsMap());
                        MeasureFilterConfig fc;
                        CDP_RETURN_IF_ERROR(f.String("field", &fc.field, true));
                        CDP_RETURN_IF_ERROR(f.String("op", &fc.op, true));
                        if (std::find(kMeasureFilterOps.begin(), kMeasureFilterOps.end(), fc.op) == kMeasureFilterOps.end()) {
                          std::string list;
                          for (const auto& o : kMeasureFilterOps) list += (list.empty() ? "" : ", ") + o;
                          return f.KeyError("op", fs[i]["op"], "unknown operator '" + fc.op + "' (one of: " + list + ")");
                        }
                        YAML::Node v = f.Get("value");
                        if (v && v.IsScalar()) fc.values.push_back(v.Scalar());
                        std::vector<std::string> vs;
                        CDP_RETURN_IF_ERROR(f.StringList("values", &vs));
                        fc.values.insert(fc.values.end(), vs.begin(), vs.end());
                        bool none = fc.op == "is_empty" || fc.op == "is_not_empty";
                        bool multi = fc.op == "in" || fc.op == "not_in";
                        if (none != fc.values.empty() || (!none && !multi && fc.values.size() != 1)) {
                          return f.Error(fs[i], "operator '" + fc.op + "' takes " + (none ? "no value" : multi ? "a list of values" : "one value"));
                        }
                        CDP_RETURN_IF_ERROR(f.CheckNoUnknownKeys({"field", "op", "value", "values"}));
                        m.filters.push_back(std::move(fc));
                      }
                    }
                    CDP_RETURN_IF_ERROR(ParseWindow(r, &m.window));
                    if (!m.formula.empty()) {
                      if (!function.empty() || !m.activity.empty() || !m.entity.empty() || !m.field.empty() || !m.filters.empty()) {
                        return r.Error(n, "a formula measure takes no function, activity, entity, field or filters");
                      }
                      if (m.kind != MeasureKind::kAttribute) return r.Error(n, "formula measures are customer attributes (kind: attribute)");
                    } else {
                      auto f = ParseAggregateFunction(function);
                      if (!f) {
                        return r.Error(n, function.empty() ? "a measure needs 'function' (sum, average, count, count_unique, min, max, first, last, argmax, argmin) or 'formula'"
                                                           : "unknown function '" + function + "' (use sum, average, count, count_unique, min, max, first, last, argmax, argmin)");
                      }
                      m.function = *f;
                      if (m.activity.empty() == m.entity.empty()) return r.Error(n, "give exactly one of 'activity' and 'entity'");
                      if (m.field.empty() && m.function != AggregateFunction::kCount) {
                        return r.Error(n, "function '" + function + "' needs 'field'");
                      }
                      if ((m.function == AggregateFunction::kArgMax || m.function == AggregateFunction::kArgMin) && m.order_by.empty()) {
                        return r.Error(n, "function '" + function + "' needs 'order_by' (the field whose max/min row gives the value)");
                      }
                    }
                    if (m.kind == MeasureKind::kCustomer && m.dimensions.empty()) {
                      return r.Error(n, "a customer measure needs 'dimensions' (else use kind: attribute)");
                    }
                    if (m.kind == MeasureKind::kAttribute && !m.dimensions.empty()) {
                      return r.Error(n, "an attribute measure has one value per customer: no 'dimensions' (use kind: customer)");
                    }
                    CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"name", "description", "kind", "formula", "function", "activity", "entity", "field",
                                                              "order_by", "time_field", "dimensions", "default", "filters", "window"}));
                    return m;
                  });
}

std::string RelationshipsToJson(const std::vector<RelationshipConfig>& v) {
  Json a = Json::array();
  for (const auto& r : v) {
    a.push_back({{"name", r.name}, {"from", {{"entity", r.from_entity}, {"field", r.from_field}}},
                 {"to", {{"entity", r.to_entity}, {"field", r.to_field}}}, {"cardinality", std::string(CardinalityName(r.cardinality))}});
  }
  return a.dump();
}

std::string ActivitiesToJson(const std::vector<ActivityConfig>& v) {
  Json a = Json::array();
  for (const auto& x : v) {
    Json o = {{"name", x.name}, {"entity", x.entity}, {"timestamp", x.timestamp}, {"type", x.type}};
    if (!x.subject.empty()) o["subject"] = x.subject;
    if (!x.amount.empty()) o["amount"] = x.amount;
    if (!x.path.empty()) o["path"] = x.path;
    a.push_back(o);
  }
  return a.dump();
}

std::string MeasuresToJson(const std::vector<MeasureConfig>& v) {
  Json a = Json::array();
  for (const auto& m : v) {
    Json o = {{"name", m.name}};
    if (!m.description.empty()) o["description"] = m.description;
    o["kind"] = std::string(MeasureKindName(m.kind));
    if (!m.formula.empty()) {
      o["formula"] = m.formula;
    } else {
      o["function"] = std::string(AggregateFunctionName(m.function));
      if (!m.activity.empty()) o["activity"] = m.activity;
      if (!m.entity.empty()) o["entity"] = m.entity;
      if (!m.field.empty()) o["field"] = m.field;
      if (!m.order_by.empty()) o["order_by"] = m.order_by;
    }
    if (!m.time_field.empty()) o["time_field"] = m.time_field;
    if (!m.dimensions.empty()) o["dimensions"] = m.dimensions;
    if (m.default_value) o["default"] = *m.default_value;
    if (!m.filters.empty()) {
      Json fs = Json::array();
      for (const auto& f : m.filters) {
        Json fo = {{"field", f.field}, {"op", f.op}};
        if (f.op == "in" || f.op == "not_in") {
          fo["values"] = f.values;
        } else if (!f.values.empty()) {
          fo["value"] = f.values[0];
        }
        fs.push_back(fo);
      }
      o["filters"] = fs;
    }
    if (m.window.kind != WindowKind::kAllTime) o["window"] = WindowToJson(m.window);
    a.push_back(o);
  }
  return a.dump();
}

namespace {
template <typename T>
StatusOr<std::vector<T>> FromJson(const std::string& json, const std::string& what,
                                  Status (*parse)(const YAML::Node&, const std::string&, std::vector<T>*)) {
  // Bounded depth before the recursive JSON -> YAML conversion (the API
  // passes request bodies here), no duplicate keys. NUL is refused where
  // text comes in (LoadYaml, the API routes), not here: the catalog's copies
  // saved before that must still load.
  CDP_RETURN_IF_ERROR(ScanJson(json).WithContext(what + " JSON"));
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded()) return DataLossError("stored " + what + " are not valid JSON");
  std::vector<T> out;
  CDP_RETURN_IF_ERROR(parse(JsonToYaml(j), "catalog", &out));
  return out;
}
}  // namespace

StatusOr<std::vector<RelationshipConfig>> RelationshipsFromJson(const std::string& json) {
  return FromJson<RelationshipConfig>(json, "relationships", &ParseRelationships);
}
StatusOr<std::vector<ActivityConfig>> ActivitiesFromJson(const std::string& json) {
  return FromJson<ActivityConfig>(json, "activities", &ParseActivities);
}
StatusOr<std::vector<MeasureConfig>> MeasuresFromJson(const std::string& json) {
  return FromJson<MeasureConfig>(json, "measures", &ParseMeasures);
}

}  // namespace cdp
