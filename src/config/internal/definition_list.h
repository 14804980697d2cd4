// Shared by the parsers of named definition lists (exports, connections,
// triggers, predictions): a YAML list of mappings with unique names, and the
// JSON form read back through the same YAML parser.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/json_scan.h"
#include "common/status.h"
#include "config/internal/yaml_reader.h"

namespace cdp::config_internal {

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
