// Shared by the parsers of named definition lists (exports, connections,
// triggers, predictions, enrichments): a YAML list of mappings with unique
// names, the name rule, lists of names, the keys each kind of definition
// accepts, and the JSON form read back through the same YAML parser.
// Pure functions; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/json_scan.h"
#include "common/status.h"
#include "config/internal/yaml_reader.h"

namespace cdp::config_internal {

// A definition name: letters, digits and _, not starting with a digit, at
// most 128 characters (it names an output entity such as Prediction_<name>
// or Enrichment_<name>, and URLs). kDefinitionNameRule says so to the user.
inline bool IsDefinitionName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}
inline constexpr const char* kDefinitionNameRule =
    "letters, digits and _, not starting with a digit, at most 128 characters";

// Reads the list of names under `key` (absent = unchanged): InvalidArgument
// naming the key and `owner` for more than `max_items` items or an empty name.
inline Status NameList(MapReader& r, const std::string& key, const std::string& owner, std::vector<std::string>* out,
                       size_t max_items = 1000) {
  CDP_RETURN_IF_ERROR(r.StringList(key, out));
  if (out->size() > max_items) {
    return r.KeyError(key, r.node()[key], owner + ": at most " + std::to_string(max_items) + " items");
  }
  for (const auto& s : *out) {
    if (s.empty()) return r.KeyError(key, r.node()[key], owner + ": an empty name");
  }
  return Status::Ok();
}

// Every key of the mapping `n` must be in `allowed` (the keys common to all
// kinds, then those of `kind`): a key of another kind is reported as
// "unknown key for kind <kind> (allowed: ...)" at its line.
inline Status CheckKindKeys(const MapReader& r, const YAML::Node& n, const std::string& kind,
                            const std::vector<std::string>& allowed) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& x : allowed) list += (list.empty() ? "" : ", ") + x;
      return r.KeyError(key, it->first, "unknown key for kind " + kind + " (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

// Parses `node` as a list of mappings under `key`, each with a unique `name`
// accepted by `valid_name` (`name_rule` says what is accepted), then `parse`.
template <typename T, typename F>
Status ParseNamedList(const YAML::Node& node, const std::string& origin, const std::string& key, std::vector<T>* out,
                      bool (*valid_name)(const std::string&), const char* name_rule, F parse) {
  if (!node.IsSequence()) {
    std::string loc = origin + (node.Mark().line >= 0 ? ":" + std::to_string(node.Mark().line + 1) : "");
    return InvalidArgumentError(loc + ": " + key + ": expected a list");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = key + "[" + std::to_string(i) + "]";
    MapReader r(node[i], path, origin);
    CDP_RETURN_IF_ERROR(r.CheckIsMap());
    T v;
    CDP_RETURN_IF_ERROR(r.String("name", &v.name, true));
    if (!valid_name(v.name)) {
      return r.KeyError("name", node[i]["name"], "'" + v.name + "' is not a usable name (" + name_rule + ")");
    }
    CDP_RETURN_IF_ERROR(parse(r, node[i], v));
    if (!names.insert(v.name).second) return r.Error(node[i], "'" + v.name + "' is declared twice");
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

// Reads JSON text (pre-scanned for depth and duplicate keys) through the YAML
// parser `parse`, so both forms accept exactly the same definitions.
template <typename T>
StatusOr<T> FromJsonText(const std::string& json, const std::string& what,
                         const std::function<Status(const YAML::Node&, T*)>& parse) {
  CDP_RETURN_IF_ERROR(ScanJson(json).WithContext(what + " JSON"));
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError(what + " is not valid JSON");
  T out{};
  CDP_RETURN_IF_ERROR(parse(JsonToYaml(j), &out));
  return out;
}

}  // namespace cdp::config_internal
