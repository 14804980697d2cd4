#include "config/unify_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_scan.h"
#include "common/value_text.h"
#include "config/internal/yaml_reader.h"

namespace cdp {
namespace {

using config_internal::JsonToYaml;
using config_internal::MapReader;
using Json = nlohmann::ordered_json;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::vector<std::string> kCompareNames = {"exact",       "fuzzy",         "jaro_winkler",
                                                "date_within", "number_within", "token_set"};

std::optional<CompareKind> ParseCompareKind(const std::string& s) {
  std::string l = Lower(s);
  if (l == "exact") return CompareKind::kExact;
  if (l == "fuzzy") return CompareKind::kFuzzy;
  if (l == "jaro_winkler" || l == "jarowinkler") return CompareKind::kJaroWinkler;
  if (l == "date_within") return CompareKind::kDateWithin;
  if (l == "number_within") return CompareKind::kNumberWithin;
  if (l == "token_set") return CompareKind::kTokenSet;
  return std::nullopt;
}

// "Low" 0.30, "Medium" 0.60, "High" 0.80, "Exact" 1.00 (D365's fuzzy precisions), or a number in [0, 1].
std::optional<double> ParsePrecisionText(const std::string& s) {
  std::string l = Lower(s);
  if (l == "low") return 0.30;
  if (l == "medium") return 0.60;
  if (l == "high") return 0.80;
  if (l == "exact") return 1.0;
  double d = 0;
  if (ParseNumber(s, &d) && d >= 0 && d <= 1) return d;
  return std::nullopt;
}

// Reads compare / threshold (or precision) / tolerance (or days) of a condition or level.
Status ReadComparison(MapReader& r, CompareKind* kind, double* threshold, double* tolerance) {
  std::string compare = "exact";
  CDP_RETURN_IF_ERROR(r.String("compare", &compare));
  auto k = ParseCompareKind(compare);
  if (!k) {
    return r.KeyError("compare", r.node()["compare"],
                      "unknown comparison '" + compare + "' (use " + Join(kCompareNames) + ")");
  }
  *kind = *k;
  YAML::Node th = r.Get("threshold");
  YAML::Node pr = r.Get("precision");
  if (th && pr) return r.Error(r.node(), "give either 'threshold' or 'precision', not both");
  YAML::Node t = th ? th : pr;
  std::string tkey = th ? "threshold" : "precision";
  bool similarity =
      *kind == CompareKind::kFuzzy || *kind == CompareKind::kJaroWinkler || *kind == CompareKind::kTokenSet;
  if (t) {
    if (!similarity) return r.KeyError(tkey, t, "only fuzzy, jaro_winkler and token_set comparisons take a " + tkey);
    auto p = t.IsScalar() ? ParsePrecisionText(t.Scalar()) : std::nullopt;
    if (!p) return r.KeyError(tkey, t, "expected Low, Medium, High, Exact or a number between 0 and 1");
    *threshold = *p;
  } else if (similarity) {
    return r.Error(r.node(), "a " + compare + " comparison needs a 'threshold' (or 'precision': Low, Medium, High)");
  } else {
    *threshold = 1.0;
  }
  YAML::Node tol = r.Get("tolerance");
  YAML::Node days = r.Get("days");
  if (tol && days) return r.Error(r.node(), "give either 'tolerance' or 'days', not both");
  bool within = *kind == CompareKind::kDateWithin || *kind == CompareKind::kNumberWithin;
  if (tol || days) {
    std::string key = tol ? "tolerance" : "days";
    YAML::Node n = tol ? tol : days;
    if (!within) return r.KeyError(key, n, "only date_within and number_within comparisons take a " + key);
    double v;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= 0) || !std::isfinite(v)) {
      return r.KeyError(key, n, "expected a number >= 0");
    }
    *tolerance = v;
  } else {
    *tolerance = 0;
  }
  return Status::Ok();
}

StatusOr<MatchConditionConfig> ParseCondition(const YAML::Node& node, const std::string& path,
                                              const std::string& origin) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  MatchConditionConfig c;
  CDP_RETURN_IF_ERROR(r.String("field", &c.field, true));
  if (c.field.empty()) return r.KeyError("field", node["field"], "must not be empty");
  CDP_RETURN_IF_ERROR(r.String("other", &c.other));
  if (r.Get("other") && c.other.empty()) return r.KeyError("other", node["other"], "must not be empty");
  CDP_RETURN_IF_ERROR(r.StringList("normalize", &c.normalize));
  CDP_RETURN_IF_ERROR(ReadComparison(r, &c.compare, &c.threshold, &c.tolerance));
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys(
      {"field", "other", "normalize", "compare", "threshold", "precision", "tolerance", "days"}));
  return c;
}

const std::vector<std::string> kBlockingNames = {"exact", "prefix", "soundex", "metaphone", "sorted_neighbourhood"};

// Reads `method` (default exact) of a blocking key or item.
Status ReadBlockingMethod(MapReader& r, BlockingMethod* out) {
  std::string method = "exact";
  CDP_RETURN_IF_ERROR(r.String("method", &method));
  std::string m = Lower(method);
  if (m == "exact") {
    *out = BlockingMethod::kExact;
  } else if (m == "prefix") {
    *out = BlockingMethod::kPrefix;
  } else if (m == "soundex") {
    *out = BlockingMethod::kSoundex;
  } else if (m == "metaphone" || m == "double_metaphone") {
    *out = BlockingMethod::kMetaphone;
  } else if (m == "sorted_neighbourhood" || m == "sorted_neighborhood") {
    *out = BlockingMethod::kSortedNeighbourhood;
  } else {
    return r.KeyError("method", r.node()["method"],
                      "unknown blocking method '" + method + "' (use " + Join(kBlockingNames) + ")");
  }
  return Status::Ok();
}

constexpr size_t kMaxBlockingItems = 16;

// One item of a `key:` list: a field name, or {field, normalize, method, length}.
StatusOr<BlockingItemConfig> ParseBlockingItem(const YAML::Node& node, const std::string& path,
                                               const std::string& origin) {
  MapReader r(node, path, origin);
  BlockingItemConfig item;
  if (node.IsScalar()) {
    item.field = node.Scalar();
    if (item.field.empty()) return r.Error(node, "a blocking key item needs a field name");
    return item;
  }
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  CDP_RETURN_IF_ERROR(r.String("field", &item.field, true));
  if (item.field.empty()) return r.KeyError("field", node["field"], "must not be empty");
  CDP_RETURN_IF_ERROR(r.StringList("normalize", &item.normalize));
  CDP_RETURN_IF_ERROR(ReadBlockingMethod(r, &item.method));
  if (item.method == BlockingMethod::kSortedNeighbourhood) {
    return r.KeyError("method", node["method"],
                      "sorted_neighbourhood applies to a whole key: write it beside 'key', not in an item");
  }
  CDP_RETURN_IF_ERROR(r.Int("length", &item.length));
  if (item.method == BlockingMethod::kPrefix && item.length <= 0) {
    return r.Error(node, "a prefix item needs 'length' > 0");
  }
  if (item.method != BlockingMethod::kPrefix && item.length != 0) {
    return r.KeyError("length", node["length"], "only a prefix item takes a length");
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"field", "normalize", "method", "length"}));
  return item;
}

StatusOr<BlockingKeyConfig> ParseBlocking(const YAML::Node& node, const std::string& path,
                                          const std::string& origin) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  BlockingKeyConfig b;
  if (YAML::Node key = r.Get("key")) {
    // Item form: each part of the key has its own transform.
    for (const char* k : {"field", "fields", "normalize", "length"}) {
      if (r.Get(k)) {
        return r.KeyError(k, node[k], std::string("a key given as 'key' items takes '") + k +
                                          "' in each item, not beside 'key'");
      }
    }
    if (!key.IsSequence() || key.size() == 0) return r.KeyError("key", key, "expected a list of items");
    if (key.size() > kMaxBlockingItems) {
      return r.KeyError("key", key, "at most " + std::to_string(kMaxBlockingItems) + " items");
    }
    for (size_t i = 0; i < key.size(); ++i) {
      std::string ipath = path + ".key[" + std::to_string(i) + "]";
      CDP_ASSIGN_OR_RETURN(BlockingItemConfig item, ParseBlockingItem(key[i], ipath, origin));
      b.items.push_back(std::move(item));
    }
    CDP_RETURN_IF_ERROR(ReadBlockingMethod(r, &b.method));
    if (b.method != BlockingMethod::kExact && b.method != BlockingMethod::kSortedNeighbourhood) {
      return r.KeyError("method", node["method"],
                        "beside 'key' only exact or sorted_neighbourhood; give prefix, soundex or metaphone "
                        "in the items");
    }
  } else {
    std::string field;
    CDP_RETURN_IF_ERROR(r.String("field", &field));
    CDP_RETURN_IF_ERROR(r.StringList("fields", &b.fields));
    if (!field.empty() && !b.fields.empty()) return r.Error(node, "give either 'field' or 'fields', not both");
    if (!field.empty()) b.fields = {field};
    if (b.fields.empty()) return r.Error(node, "a blocking key needs 'field', 'fields' or 'key' (a list of items)");
    if (b.fields.size() > kMaxBlockingItems) {
      return r.KeyError("fields", node["fields"], "at most " + std::to_string(kMaxBlockingItems) + " fields");
    }
    CDP_RETURN_IF_ERROR(r.StringList("normalize", &b.normalize));
    CDP_RETURN_IF_ERROR(ReadBlockingMethod(r, &b.method));
    CDP_RETURN_IF_ERROR(r.Int("length", &b.length));
    if (b.method == BlockingMethod::kPrefix && b.length <= 0) {
      return r.Error(node, "a prefix blocking key needs 'length' > 0");
    }
    if (b.method != BlockingMethod::kPrefix && b.length != 0) {
      return r.KeyError("length", node["length"], "only prefix blocking takes a length");
    }
  }
  CDP_RETURN_IF_ERROR(r.Int("window", &b.window));
  if (b.method == BlockingMethod::kSortedNeighbourhood && (b.window < 2 || b.window > 1000)) {
    return r.Error(node, "sorted_neighbourhood blocking needs 'window' between 2 and 1000");
  }
  if (b.method != BlockingMethod::kSortedNeighbourhood && b.window != 0) {
    return r.KeyError("window", node["window"], "only sorted_neighbourhood blocking takes a window");
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"field", "fields", "key", "normalize", "method", "length", "window"}));
  return b;
}

template <typename T, typename F>
Status ParseList(MapReader& r, const std::string& key, std::vector<T>* out, F parse) {
  YAML::Node n = r.Get(key);
  if (!n) return Status::Ok();
  if (!n.IsSequence()) return r.KeyError(key, n, "expected a list");
  std::string base = r.path().empty() ? key : r.path() + "." + key;
  for (size_t i = 0; i < n.size(); ++i) {
    CDP_ASSIGN_OR_RETURN(T v, parse(n[i], base + "[" + std::to_string(i) + "]"));
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

StatusOr<MatchRuleConfig> ParseRule(const YAML::Node& node, const std::string& path, const std::string& origin,
                                    bool match_rule) {
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  MatchRuleConfig rule;
  CDP_RETURN_IF_ERROR(r.String("name", &rule.name, true));
  if (rule.name.empty()) return r.KeyError("name", node["name"], "must not be empty");
  CDP_RETURN_IF_ERROR(ParseList(r, "conditions", &rule.conditions, [&](const YAML::Node& n, const std::string& p) {
    return ParseCondition(n, p, origin);
  }));
  if (rule.conditions.empty()) return r.Error(node, "rule '" + rule.name + "' needs at least one condition");
  CDP_RETURN_IF_ERROR(ParseList(r, "guards", &rule.guards, [&](const YAML::Node& n, const std::string& p) {
    return ParseCondition(n, p, origin);
  }));
  CDP_RETURN_IF_ERROR(ParseList(r, "exceptions", &rule.exceptions,
                                [&](const YAML::Node& n, const std::string& p) -> StatusOr<MatchExceptionConfig> {
                                  MapReader e(n, p, origin);
                                  CDP_RETURN_IF_ERROR(e.CheckIsMap());
                                  MatchExceptionConfig x;
                                  CDP_RETURN_IF_ERROR(e.String("field", &x.field, true));
                                  CDP_RETURN_IF_ERROR(e.StringList("normalize", &x.normalize));
                                  CDP_RETURN_IF_ERROR(e.StringList("values", &x.values));
                                  if (x.values.empty()) return e.Error(n, "an exception needs 'values'");
                                  CDP_RETURN_IF_ERROR(e.CheckNoUnknownKeys({"field", "normalize", "values"}));
                                  return x;
                                }));
  CDP_RETURN_IF_ERROR(ParseList(r, "blocking", &rule.blocking, [&](const YAML::Node& n, const std::string& p) {
    return ParseBlocking(n, p, origin);
  }));
  if (match_rule) CDP_RETURN_IF_ERROR(r.StringList("sources", &rule.sources));
  // Exact conditions on the same field of both records form the rule's
  // blocking key; a condition with 'other' compares two different fields, so
  // it cannot.
  bool has_exact = false, has_asymmetric_exact = false;
  for (const auto& c : rule.conditions) {
    if (c.compare != CompareKind::kExact) continue;
    (c.asymmetric() ? has_asymmetric_exact : has_exact) = true;
  }
  if (!has_exact && rule.blocking.empty()) {
    if (has_asymmetric_exact) {
      return r.Error(node, "rule '" + rule.name +
                               "' has exact conditions only with 'other' (two different fields), which cannot "
                               "form a blocking key, so it needs an exact condition on the same field of both "
                               "records or 'blocking' keys (e.g. {field: LastName, method: soundex})");
    }
    return r.Error(node, "rule '" + rule.name +
                             "' has no exact condition, so it needs 'blocking' keys (e.g. {field: LastName, "
                             "method: soundex}) to find candidate pairs");
  }
  std::vector<std::string> allowed = {"name", "conditions", "guards", "exceptions", "blocking"};
  if (match_rule) allowed.push_back("sources");
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys(allowed));
  return rule;
}

Status ParseRules(MapReader& r, const std::string& key, std::vector<MatchRuleConfig>* out,
                  const std::string& origin, bool match_rule) {
  CDP_RETURN_IF_ERROR(ParseList(r, key, out, [&](const YAML::Node& n, const std::string& p) {
    return ParseRule(n, p, origin, match_rule);
  }));
  std::set<std::string> names;
  for (size_t i = 0; i < out->size(); ++i) {
    if (!names.insert((*out)[i].name).second) {
      return r.KeyError(key, r.node()[key][i], "rule '" + (*out)[i].name + "' is declared twice");
    }
  }
  return Status::Ok();
}

StatusOr<WinnerPolicy> ParseWinner(const std::string& s) {
  std::string l = Lower(s);
  if (l == "most_filled") return WinnerPolicy::kMostFilled;
  if (l == "most_recent") return WinnerPolicy::kMostRecent;
  if (l == "least_recent") return WinnerPolicy::kLeastRecent;
  return InvalidArgumentError("unknown winner policy '" + s + "' (use most_filled, most_recent or least_recent)");
}

StatusOr<MergePolicy> ParseMergePolicy(const std::string& s) {
  std::string l = Lower(s);
  if (l == "source_priority") return MergePolicy::kSourcePriority;
  if (l == "most_recent") return MergePolicy::kMostRecent;
  if (l == "least_recent") return MergePolicy::kLeastRecent;
  if (l == "most_filled") return MergePolicy::kMostFilled;
  if (l == "concatenate") return MergePolicy::kConcatenate;
  return InvalidArgumentError("unknown merge policy '" + s +
                              "' (use source_priority, most_recent, least_recent, most_filled or concatenate)");
}

Status ReadPairs(MapReader& r, const std::string& key, std::vector<std::pair<std::string, std::string>>* out) {
  YAML::Node n = r.Get(key);
  if (!n) return Status::Ok();
  if (!n.IsMap()) return r.KeyError(key, n, "expected a mapping of name: name");
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->second.IsScalar()) return r.KeyError(key, it->second, "expected a field name");
    out->emplace_back(it->first.Scalar(), it->second.Scalar());
  }
  return Status::Ok();
}

StatusOr<UnifySourceConfig> ParseUnifySource(const YAML::Node& node, const std::string& path,
                                             const std::string& origin) {
  MapReader r(node, path, origin);
  UnifySourceConfig s;
  if (node.IsScalar()) {
    s.source = node.Scalar();
    return s;
  }
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  CDP_RETURN_IF_ERROR(r.String("source", &s.source, true));
  CDP_RETURN_IF_ERROR(r.String("key", &s.key));
  CDP_RETURN_IF_ERROR(ReadPairs(r, "fields", &s.fields));
  if (YAML::Node d = r.Get("dedup")) {
    MapReader dr(d, path + ".dedup", origin);
    CDP_RETURN_IF_ERROR(dr.CheckIsMap());
    CDP_RETURN_IF_ERROR(ParseRules(dr, "rules", &s.dedup.rules, origin, /*match_rule=*/false));
    std::string winner;
    CDP_RETURN_IF_ERROR(dr.String("winner", &winner));
    if (!winner.empty()) {
      auto w = ParseWinner(winner);
      if (!w.ok()) return dr.KeyError("winner", d["winner"], w.status().message());
      s.dedup.winner = *w;
    }
    CDP_RETURN_IF_ERROR(dr.String("winner_field", &s.dedup.winner_field));
    if (s.dedup.winner != WinnerPolicy::kMostFilled && s.dedup.winner_field.empty()) {
      return dr.Error(d, "winner '" + winner + "' needs 'winner_field' (a date, timestamp or number field)");
    }
    CDP_RETURN_IF_ERROR(dr.CheckNoUnknownKeys({"rules", "winner", "winner_field"}));
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"source", "key", "fields", "dedup"}));
  return s;
}

StatusOr<ComparisonLevelConfig> ParseLevel(const YAML::Node& node, const std::string& path,
                                           const std::string& origin) {
  ComparisonLevelConfig l;
  if (node.IsScalar()) {
    // Shorthand: "exact", "fuzzy 0.8", "jaro_winkler 0.92", "date_within 30", "number_within 5".
    std::string text = node.Scalar();
    std::string name = text, arg;
    size_t sp = text.find_first_of(" :");
    if (sp != std::string::npos) {
      name = text.substr(0, sp);
      arg = text.substr(sp + 1);
      while (!arg.empty() && arg.front() == ' ') arg.erase(arg.begin());
    }
    YAML::Node m(YAML::NodeType::Map);
    m["compare"] = name;
    auto k = ParseCompareKind(name);
    if (k && !arg.empty()) {
      if (*k == CompareKind::kFuzzy || *k == CompareKind::kJaroWinkler || *k == CompareKind::kTokenSet) {
        m["threshold"] = arg;
      }
      if (*k == CompareKind::kDateWithin || *k == CompareKind::kNumberWithin) m["tolerance"] = arg;
    }
    MapReader r(m, path, origin);
    Status s = ReadComparison(r, &l.compare, &l.threshold, &l.tolerance);
    if (!s.ok()) {
      std::string loc = origin + (node.Mark().line >= 0 ? ":" + std::to_string(node.Mark().line + 1) : "");
      return InvalidArgumentError(loc + ": " + path + ": level '" + text +
                                  "': expected exact, fuzzy <threshold>, jaro_winkler <threshold>, "
                                  "token_set <threshold>, date_within <days> or number_within <tolerance>");
    }
    return l;
  }
  MapReader r(node, path, origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  CDP_RETURN_IF_ERROR(ReadComparison(r, &l.compare, &l.threshold, &l.tolerance));
  CDP_RETURN_IF_ERROR(r.String("other", &l.other));
  if (r.Get("other") && l.other.empty()) return r.KeyError("other", node["other"], "must not be empty");
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"compare", "threshold", "precision", "tolerance", "days", "other"}));
  return l;
}

// `placeholder_detection: false`, or a mapping {enabled, min_records, attributes}.
Status ParsePlaceholderDetection(const YAML::Node& node, const std::string& origin, PlaceholderDetectionConfig* d) {
  bool enabled = true;
  if (node.IsScalar() && YAML::convert<bool>::decode(node, enabled)) {
    d->enabled = enabled;
    return Status::Ok();
  }
  MapReader r(node, "unification.placeholder_detection", origin);
  if (!node.IsMap()) return r.Error(node, "expected true, false or a mapping {enabled, min_records, attributes}");
  CDP_RETURN_IF_ERROR(r.Bool("enabled", &d->enabled));
  CDP_RETURN_IF_ERROR(r.Int("min_records", &d->min_records));
  if (d->min_records < 2) {
    return r.KeyError("min_records", node["min_records"], "expected at least 2 (records sharing a value)");
  }
  CDP_RETURN_IF_ERROR(r.StringList("attributes", &d->attributes));
  return r.CheckNoUnknownKeys({"enabled", "min_records", "attributes"});
}

Status ParseProbabilistic(const YAML::Node& node, const std::string& origin, ProbabilisticConfig* p) {
  MapReader r(node, "unification.probabilistic", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  CDP_RETURN_IF_ERROR(ParseList(r, "comparisons", &p->comparisons,
                                [&](const YAML::Node& n, const std::string& path) -> StatusOr<ComparisonConfig> {
                                  MapReader c(n, path, origin);
                                  CDP_RETURN_IF_ERROR(c.CheckIsMap());
                                  ComparisonConfig cc;
                                  CDP_RETURN_IF_ERROR(c.String("field", &cc.field, true));
                                  CDP_RETURN_IF_ERROR(c.StringList("normalize", &cc.normalize));
                                  CDP_RETURN_IF_ERROR(ParseList(c, "levels", &cc.levels,
                                                                [&](const YAML::Node& ln, const std::string& lp) {
                                                                  return ParseLevel(ln, lp, origin);
                                                                }));
                                  if (cc.levels.empty()) return c.Error(n, "a comparison needs 'levels'");
                                  CDP_RETURN_IF_ERROR(c.Bool("term_frequency", &cc.term_frequency));
                                  if (cc.term_frequency && cc.levels[0].compare != CompareKind::kExact) {
                                    return c.KeyError("term_frequency", n["term_frequency"],
                                                      "term frequency adjustment needs 'exact' as the first level");
                                  }
                                  CDP_RETURN_IF_ERROR(
                                      c.CheckNoUnknownKeys({"field", "normalize", "levels", "term_frequency"}));
                                  return cc;
                                }));
  if (p->comparisons.empty()) return r.Error(node, "probabilistic mode needs 'comparisons'");
  CDP_RETURN_IF_ERROR(ParseList(r, "blocking", &p->blocking, [&](const YAML::Node& n, const std::string& path) {
    return ParseBlocking(n, path, origin);
  }));
  if (p->blocking.empty()) return r.Error(node, "probabilistic mode needs 'blocking' keys to find candidate pairs");
  CDP_RETURN_IF_ERROR(ParseList(r, "training", &p->training, [&](const YAML::Node& n, const std::string& path) {
    return ParseBlocking(n, path, origin);
  }));
  if (r.Get("training") && p->training.empty()) {
    return r.KeyError("training", node["training"], "must list at least one key (leave it out to train on each 'blocking' key)");
  }
  CDP_RETURN_IF_ERROR(r.Int("max_training_pairs", &p->max_training_pairs));
  if (p->max_training_pairs < 1000 || p->max_training_pairs > 100000000) {
    return r.KeyError("max_training_pairs", node["max_training_pairs"], "expected 1000 to 100000000");
  }
  CDP_RETURN_IF_ERROR(r.StringList("prior_rules", &p->prior_rules));
  CDP_RETURN_IF_ERROR(r.Double("prior_recall", &p->prior_recall));
  if (!(p->prior_recall > 0 && p->prior_recall <= 1)) {
    return r.KeyError("prior_recall", node["prior_recall"], "expected a number in (0, 1]");
  }
  CDP_RETURN_IF_ERROR(r.Double("threshold", &p->threshold));
  if (!(p->threshold > 0 && p->threshold < 1)) {
    return r.KeyError("threshold", node["threshold"], "expected a match probability in (0, 1)");
  }
  CDP_RETURN_IF_ERROR(r.Double("review_min_probability", &p->review_min_probability));
  if (!(p->review_min_probability > 0 && p->review_min_probability <= p->threshold)) {
    return r.KeyError("review_min_probability", node["review_min_probability"],
                      "expected a match probability in (0, threshold]");
  }
  CDP_RETURN_IF_ERROR(r.Int("review_limit", &p->review_limit));
  if (p->review_limit < 0 || p->review_limit > 1000000) {
    return r.KeyError("review_limit", node["review_limit"], "expected 0 to 1000000");
  }
  CDP_RETURN_IF_ERROR(r.Int("random_pairs", &p->random_pairs));
  if (p->random_pairs < 1000) return r.KeyError("random_pairs", node["random_pairs"], "expected at least 1000");
  CDP_RETURN_IF_ERROR(r.Int("seed", &p->seed));
  CDP_RETURN_IF_ERROR(r.Bool("rule_labels", &p->rule_labels));
  CDP_RETURN_IF_ERROR(r.Bool("household_class", &p->household_class));
  CDP_RETURN_IF_ERROR(r.StringList("household_keys", &p->household_keys));
  for (const auto& key : r.Get("household_keys") ? p->household_keys : std::vector<std::string>{}) {
    bool compared = false;
    for (const auto& c : p->comparisons) compared = compared || c.field == key;
    if (!compared) {
      return r.KeyError("household_keys", node["household_keys"],
                        "'" + key + "' is not the field of a comparison");
    }
  }
  if (r.Get("household_keys") && p->household_keys.size() == 1) {
    return r.KeyError("household_keys", node["household_keys"],
                      "needs at least two comparisons (or [] for none): one field alone carries no correlation");
  }
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"comparisons", "blocking", "training", "max_training_pairs",
                                            "prior_rules", "prior_recall", "threshold", "review_min_probability",
                                            "review_limit", "random_pairs", "seed", "rule_labels",
                                            "household_class", "household_keys"}));
  return Status::Ok();
}

Status ParseMerge(const YAML::Node& node, const std::string& origin, MergeConfig* m) {
  MapReader r(node, "unification.merge", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  std::string def;
  CDP_RETURN_IF_ERROR(r.String("default", &def));
  if (!def.empty()) {
    auto p = ParseMergePolicy(def);
    if (!p.ok()) return r.KeyError("default", node["default"], p.status().message());
    m->default_policy = *p;
  }
  CDP_RETURN_IF_ERROR(r.String("default_by", &m->default_by));
  if ((m->default_policy == MergePolicy::kMostRecent || m->default_policy == MergePolicy::kLeastRecent) &&
      m->default_by.empty()) {
    return r.Error(node, "default policy '" + def + "' needs 'default_by' (a date or timestamp field)");
  }
  CDP_RETURN_IF_ERROR(ParseList(r, "fields", &m->fields,
                                [&](const YAML::Node& n, const std::string& path) -> StatusOr<MergeFieldConfig> {
                                  MapReader f(n, path, origin);
                                  CDP_RETURN_IF_ERROR(f.CheckIsMap());
                                  MergeFieldConfig mf;
                                  CDP_RETURN_IF_ERROR(f.String("name", &mf.name, true));
                                  std::string policy;
                                  CDP_RETURN_IF_ERROR(f.String("policy", &policy, true));
                                  auto p = ParseMergePolicy(policy);
                                  if (!p.ok()) return f.KeyError("policy", n["policy"], p.status().message());
                                  mf.policy = *p;
                                  CDP_RETURN_IF_ERROR(f.String("by", &mf.by));
                                  if ((mf.policy == MergePolicy::kMostRecent ||
                                       mf.policy == MergePolicy::kLeastRecent) &&
                                      mf.by.empty()) {
                                    return f.Error(n, "policy '" + policy + "' needs 'by' (a date or timestamp field)");
                                  }
                                  CDP_RETURN_IF_ERROR(f.StringList("sources", &mf.sources));
                                  CDP_RETURN_IF_ERROR(f.String("separator", &mf.separator));
                                  CDP_RETURN_IF_ERROR(
                                      f.CheckNoUnknownKeys({"name", "policy", "by", "sources", "separator"}));
                                  return mf;
                                }));
  if (YAML::Node g = r.Get("groups")) {
    if (!g.IsSequence()) return r.KeyError("groups", g, "expected a list of field lists");
    for (const auto& e : g) {
      if (!e.IsSequence() || e.size() < 2) return r.KeyError("groups", e, "a group is a list of at least two fields");
      std::vector<std::string> group;
      for (const auto& f : e) {
        if (!f.IsScalar()) return r.KeyError("groups", f, "expected a field name");
        group.push_back(f.Scalar());
      }
      m->groups.push_back(std::move(group));
    }
  }
  CDP_RETURN_IF_ERROR(ReadPairs(r, "rename", &m->rename));
  CDP_RETURN_IF_ERROR(r.StringList("exclude", &m->exclude));
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"default", "default_by", "fields", "groups", "rename", "exclude"}));
  return Status::Ok();
}

Json BlockingToJson(const BlockingKeyConfig& b) {
  Json j;
  if (!b.items.empty()) {
    Json items = Json::array();
    for (const auto& it : b.items) {
      Json o;
      o["field"] = it.field;
      if (!it.normalize.empty()) o["normalize"] = it.normalize;
      o["method"] = std::string(BlockingMethodName(it.method));
      if (it.length) o["length"] = it.length;
      items.push_back(o);
    }
    j["key"] = items;
  } else {
    j["fields"] = b.fields;
    if (!b.normalize.empty()) j["normalize"] = b.normalize;
    if (b.length) j["length"] = b.length;
  }
  j["method"] = std::string(BlockingMethodName(b.method));
  if (b.window) j["window"] = b.window;
  return j;
}

void ComparisonToJson(CompareKind kind, double threshold, double tolerance, Json* j) {
  (*j)["compare"] = std::string(CompareKindName(kind));
  if (kind == CompareKind::kFuzzy || kind == CompareKind::kJaroWinkler || kind == CompareKind::kTokenSet) {
    (*j)["threshold"] = threshold;
  }
  if (kind == CompareKind::kDateWithin || kind == CompareKind::kNumberWithin) (*j)["tolerance"] = tolerance;
}

Json ConditionsToJson(const std::vector<MatchConditionConfig>& conditions) {
  Json cs = Json::array();
  for (const auto& c : conditions) {
    Json o;
    o["field"] = c.field;
    if (!c.other.empty()) o["other"] = c.other;
    if (!c.normalize.empty()) o["normalize"] = c.normalize;
    ComparisonToJson(c.compare, c.threshold, c.tolerance, &o);
    cs.push_back(o);
  }
  return cs;
}

Json RuleToJson(const MatchRuleConfig& r) {
  Json j;
  j["name"] = r.name;
  j["conditions"] = ConditionsToJson(r.conditions);
  if (!r.guards.empty()) j["guards"] = ConditionsToJson(r.guards);
  if (!r.exceptions.empty()) {
    Json es = Json::array();
    for (const auto& e : r.exceptions) {
      Json o;
      o["field"] = e.field;
      if (!e.normalize.empty()) o["normalize"] = e.normalize;
      o["values"] = e.values;
      es.push_back(o);
    }
    j["exceptions"] = es;
  }
  if (!r.blocking.empty()) {
    Json bs = Json::array();
    for (const auto& b : r.blocking) bs.push_back(BlockingToJson(b));
    j["blocking"] = bs;
  }
  if (!r.sources.empty()) j["sources"] = r.sources;
  return j;
}

Json PairsToJson(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Json j = Json::object();
  for (const auto& [k, v] : pairs) j[k] = v;
  return j;
}

}  // namespace

std::string_view CompareKindName(CompareKind kind) {
  switch (kind) {
    case CompareKind::kExact: return "exact";
    case CompareKind::kFuzzy: return "fuzzy";
    case CompareKind::kJaroWinkler: return "jaro_winkler";
    case CompareKind::kDateWithin: return "date_within";
    case CompareKind::kNumberWithin: return "number_within";
    case CompareKind::kTokenSet: return "token_set";
  }
  return "exact";
}

std::string_view BlockingMethodName(BlockingMethod method) {
  switch (method) {
    case BlockingMethod::kExact: return "exact";
    case BlockingMethod::kPrefix: return "prefix";
    case BlockingMethod::kSoundex: return "soundex";
    case BlockingMethod::kMetaphone: return "metaphone";
    case BlockingMethod::kSortedNeighbourhood: return "sorted_neighbourhood";
  }
  return "exact";
}

std::string_view WinnerPolicyName(WinnerPolicy policy) {
  switch (policy) {
    case WinnerPolicy::kMostFilled: return "most_filled";
    case WinnerPolicy::kMostRecent: return "most_recent";
    case WinnerPolicy::kLeastRecent: return "least_recent";
  }
  return "most_filled";
}

std::string_view MergePolicyName(MergePolicy policy) {
  switch (policy) {
    case MergePolicy::kSourcePriority: return "source_priority";
    case MergePolicy::kMostRecent: return "most_recent";
    case MergePolicy::kLeastRecent: return "least_recent";
    case MergePolicy::kMostFilled: return "most_filled";
    case MergePolicy::kConcatenate: return "concatenate";
  }
  return "source_priority";
}

std::vector<BlockingItemConfig> BlockingKeyConfig::Items() const {
  if (!items.empty()) return items;
  std::vector<BlockingItemConfig> out;
  for (const auto& f : fields) {
    BlockingItemConfig it;
    it.field = f;
    it.normalize = normalize;
    if (method != BlockingMethod::kSortedNeighbourhood) {
      it.method = method;
      it.length = length;
    }
    out.push_back(std::move(it));
  }
  return out;
}

const UnifySourceConfig* UnifyConfig::FindSource(std::string_view name) const {
  for (const auto& s : sources) {
    if (s.source == name) return &s;
  }
  return nullptr;
}

StatusOr<UnifyConfig> ParseUnifyConfig(const YAML::Node& node, const std::string& origin) {
  MapReader r(node, "unification", origin);
  CDP_RETURN_IF_ERROR(r.CheckIsMap());
  UnifyConfig c;
  CDP_RETURN_IF_ERROR(ParseList(r, "sources", &c.sources, [&](const YAML::Node& n, const std::string& p) {
    return ParseUnifySource(n, p, origin);
  }));
  if (c.sources.empty()) return r.Error(node, "unification needs 'sources' (the profile sources, primary first)");
  std::set<std::string> names;
  for (size_t i = 0; i < c.sources.size(); ++i) {
    if (!names.insert(c.sources[i].source).second) {
      return r.KeyError("sources", node["sources"][i], "source '" + c.sources[i].source + "' is listed twice");
    }
  }
  std::string mode = "rules";
  CDP_RETURN_IF_ERROR(r.String("mode", &mode));
  if (Lower(mode) == "rules") {
    c.mode = UnifyMode::kRules;
  } else if (Lower(mode) == "probabilistic") {
    c.mode = UnifyMode::kProbabilistic;
  } else {
    return r.KeyError("mode", node["mode"], "unknown mode '" + mode + "' (use rules or probabilistic)");
  }
  CDP_RETURN_IF_ERROR(ParseRules(r, "rules", &c.rules, origin, /*match_rule=*/true));
  if (YAML::Node p = r.Get("probabilistic")) CDP_RETURN_IF_ERROR(ParseProbabilistic(p, origin, &c.probabilistic));
  if (c.mode == UnifyMode::kProbabilistic && c.probabilistic.comparisons.empty()) {
    return r.Error(node, "mode 'probabilistic' needs a 'probabilistic' section with comparisons and blocking");
  }
  if (c.mode == UnifyMode::kRules && c.rules.empty() && c.sources.size() > 1) {
    return r.Error(node, "matching several sources needs 'rules' (or mode: probabilistic)");
  }
  for (const auto& pr : c.probabilistic.prior_rules) {
    bool found = false;
    for (const auto& rule : c.rules) found |= rule.name == pr;
    if (!found) return r.Error(node, "probabilistic.prior_rules names '" + pr + "', which is not a rule in 'rules'");
  }
  for (size_t i = 0; i < c.rules.size(); ++i) {
    for (const auto& s : c.rules[i].sources) {
      if (!names.count(s)) {
        return r.Error(node["rules"][i], "unification.rules[" + std::to_string(i) + "].sources: '" + s +
                                             "' is not one of the unification sources");
      }
    }
  }
  CDP_RETURN_IF_ERROR(ParseList(r, "guards", &c.guards, [&](const YAML::Node& n, const std::string& p) {
    return ParseCondition(n, p, origin);
  }));
  if (YAML::Node one = r.Get("one_record_per_source")) {
    bool all = false;
    if (one.IsScalar() && YAML::convert<bool>::decode(one, all)) {
      if (all) {
        for (const auto& s : c.sources) c.one_record_per_source.push_back(s.source);
      }
    } else {
      if (!one.IsSequence()) {
        return r.KeyError("one_record_per_source", one, "expected true, false or a list of unification sources");
      }
      CDP_RETURN_IF_ERROR(r.StringList("one_record_per_source", &c.one_record_per_source));
      for (const auto& s : c.one_record_per_source) {
        if (!names.count(s)) {
          return r.KeyError("one_record_per_source", one, "'" + s + "' is not one of the unification sources");
        }
      }
    }
  }
  CDP_RETURN_IF_ERROR(r.Bool("include_all", &c.include_all));
  CDP_RETURN_IF_ERROR(r.Int("max_block_size", &c.max_block_size));
  if (c.max_block_size < 2) return r.KeyError("max_block_size", node["max_block_size"], "expected at least 2");
  CDP_RETURN_IF_ERROR(r.Int("max_cluster_size", &c.max_cluster_size));
  if (c.max_cluster_size < 2) return r.KeyError("max_cluster_size", node["max_cluster_size"], "expected at least 2");
  CDP_RETURN_IF_ERROR(r.String("default_region", &c.default_region));
  CDP_RETURN_IF_ERROR(r.Bool("default_placeholders", &c.default_placeholders));
  CDP_RETURN_IF_ERROR(r.StringList("placeholders", &c.placeholders));
  if (YAML::Node pd = r.Get("placeholder_detection")) {
    CDP_RETURN_IF_ERROR(ParsePlaceholderDetection(pd, origin, &c.placeholder_detection));
  }
  if (YAML::Node m = r.Get("merge")) CDP_RETURN_IF_ERROR(ParseMerge(m, origin, &c.merge));
  CDP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"sources", "mode", "rules", "probabilistic", "guards",
                                            "one_record_per_source", "include_all",
                                            "max_block_size", "max_cluster_size", "default_region",
                                            "default_placeholders", "placeholders", "placeholder_detection", "merge"}));
  return c;
}

std::string UnifyConfigToJson(const UnifyConfig& c) {
  Json j;
  Json sources = Json::array();
  for (const auto& s : c.sources) {
    Json o;
    o["source"] = s.source;
    if (!s.key.empty()) o["key"] = s.key;
    if (!s.fields.empty()) o["fields"] = PairsToJson(s.fields);
    if (!(s.dedup == DedupConfig())) {
      Json d;
      Json rs = Json::array();
      for (const auto& r : s.dedup.rules) rs.push_back(RuleToJson(r));
      d["rules"] = rs;
      d["winner"] = std::string(WinnerPolicyName(s.dedup.winner));
      if (!s.dedup.winner_field.empty()) d["winner_field"] = s.dedup.winner_field;
      o["dedup"] = d;
    }
    sources.push_back(o);
  }
  j["sources"] = sources;
  j["mode"] = c.mode == UnifyMode::kRules ? "rules" : "probabilistic";
  if (!c.rules.empty()) {
    Json rs = Json::array();
    for (const auto& r : c.rules) rs.push_back(RuleToJson(r));
    j["rules"] = rs;
  }
  const ProbabilisticConfig& p = c.probabilistic;
  if (!p.comparisons.empty()) {
    Json pj;
    Json cs = Json::array();
    for (const auto& cc : p.comparisons) {
      Json o;
      o["field"] = cc.field;
      if (!cc.normalize.empty()) o["normalize"] = cc.normalize;
      Json ls = Json::array();
      for (const auto& l : cc.levels) {
        Json lo;
        ComparisonToJson(l.compare, l.threshold, l.tolerance, &lo);
        if (!l.other.empty()) lo["other"] = l.other;
        ls.push_back(lo);
      }
      o["levels"] = ls;
      if (cc.term_frequency) o["term_frequency"] = true;
      cs.push_back(o);
    }
    pj["comparisons"] = cs;
    Json bs = Json::array();
    for (const auto& b : p.blocking) bs.push_back(BlockingToJson(b));
    pj["blocking"] = bs;
    if (!p.training.empty()) {
      Json ts = Json::array();
      for (const auto& b : p.training) ts.push_back(BlockingToJson(b));
      pj["training"] = ts;
    }
    pj["max_training_pairs"] = p.max_training_pairs;
    if (!p.prior_rules.empty()) pj["prior_rules"] = p.prior_rules;
    pj["prior_recall"] = p.prior_recall;
    pj["threshold"] = p.threshold;
    pj["review_min_probability"] = p.review_min_probability;
    pj["review_limit"] = p.review_limit;
    pj["random_pairs"] = p.random_pairs;
    pj["seed"] = p.seed;
    if (p.rule_labels) pj["rule_labels"] = true;
    if (p.household_class) pj["household_class"] = true;
    if (p.household_keys != ProbabilisticConfig::DefaultHouseholdKeys()) pj["household_keys"] = p.household_keys;
    j["probabilistic"] = pj;
  }
  if (!c.guards.empty()) j["guards"] = ConditionsToJson(c.guards);
  if (!c.one_record_per_source.empty()) j["one_record_per_source"] = c.one_record_per_source;
  j["include_all"] = c.include_all;
  j["max_block_size"] = c.max_block_size;
  j["max_cluster_size"] = c.max_cluster_size;
  j["default_region"] = c.default_region;
  j["default_placeholders"] = c.default_placeholders;
  if (!c.placeholders.empty()) j["placeholders"] = c.placeholders;
  if (!(c.placeholder_detection == PlaceholderDetectionConfig())) {
    Json pd;
    pd["enabled"] = c.placeholder_detection.enabled;
    pd["min_records"] = c.placeholder_detection.min_records;
    if (!c.placeholder_detection.attributes.empty()) pd["attributes"] = c.placeholder_detection.attributes;
    j["placeholder_detection"] = pd;
  }
  const MergeConfig& m = c.merge;
  if (!(m == MergeConfig())) {
    Json mj;
    mj["default"] = std::string(MergePolicyName(m.default_policy));
    if (!m.default_by.empty()) mj["default_by"] = m.default_by;
    if (!m.fields.empty()) {
      Json fs = Json::array();
      for (const auto& f : m.fields) {
        Json o;
        o["name"] = f.name;
        o["policy"] = std::string(MergePolicyName(f.policy));
        if (!f.by.empty()) o["by"] = f.by;
        if (!f.sources.empty()) o["sources"] = f.sources;
        if (f.separator != "; ") o["separator"] = f.separator;
        fs.push_back(o);
      }
      mj["fields"] = fs;
    }
    if (!m.groups.empty()) mj["groups"] = m.groups;
    if (!m.rename.empty()) mj["rename"] = PairsToJson(m.rename);
    if (!m.exclude.empty()) mj["exclude"] = m.exclude;
    j["merge"] = mj;
  }
  return j.dump();
}

StatusOr<UnifyConfig> UnifyConfigFromJson(const std::string& json) {
  // Bounded depth before the recursive JSON -> YAML conversion (the API
  // passes request bodies here), no duplicate keys. NUL is refused where
  // text comes in (LoadYaml, the API routes), not here: the catalog's copies
  // saved before that must still load.
  CDP_RETURN_IF_ERROR(ScanJson(json).WithContext("unification JSON"));
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLossError("stored unification definition is not valid JSON");
  return ParseUnifyConfig(JsonToYaml(j), "catalog");
}

}  // namespace cdp
