// Helpers shared by the project YAML parsers: a mapping reader that reports
// "file:line: path.key: message" and rejects unknown keys, and JSON -> YAML.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdp::config_internal {

// Walks a YAML mapping, remembering which keys were read, so unknown keys
// (typos) are reported instead of silently ignored.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, const std::string& origin)
      : node_(node), path_(std::move(path)), origin_(origin) {}

  Status CheckIsMap() const {
    if (!node_.IsMap()) return Error(node_, "expected a mapping");
    return Status::Ok();
  }

  Status Error(const YAML::Node& at, const std::string& what) const {
    std::string loc = origin_;
    if (at.Mark().line >= 0) loc += ":" + std::to_string(at.Mark().line + 1);
    return InvalidArgumentError(loc + ": " + (path_.empty() ? "" : path_ + ": ") + what);
  }
  Status KeyError(const std::string& key, const YAML::Node& at, const std::string& what) const {
    std::string loc = origin_;
    if (at.Mark().line >= 0) loc += ":" + std::to_string(at.Mark().line + 1);
    std::string p = path_.empty() ? key : path_ + "." + key;
    return InvalidArgumentError(loc + ": " + p + ": " + what);
  }

  YAML::Node Get(const std::string& key) {
    seen_.insert(key);
    return node_[key];
  }

  Status String(const std::string& key, std::string* out, bool required = false) {
    YAML::Node n = Get(key);
    if (!n) {
      if (required) return Error(node_, "missing required key '" + key + "'");
      return Status::Ok();
    }
    if (!n.IsScalar()) return KeyError(key, n, "expected a text value");
    *out = n.Scalar();
    return Status::Ok();
  }

  Status Bool(const std::string& key, bool* out) {
    YAML::Node n = Get(key);
    if (!n) return Status::Ok();
    bool v;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return KeyError(key, n, "expected true or false");
    *out = v;
    return Status::Ok();
  }

  Status Double(const std::string& key, double* out) {
    YAML::Node n = Get(key);
    if (!n) return Status::Ok();
    double v;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) return KeyError(key, n, "expected a number");
    *out = v;
    return Status::Ok();
  }

  Status Int(const std::string& key, int64_t* out) {
    YAML::Node n = Get(key);
    if (!n) return Status::Ok();
    long long v;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) return KeyError(key, n, "expected a whole number");
    *out = v;
    return Status::Ok();
  }

  // A list of scalars; a single scalar is accepted as a one-element list.
  Status StringList(const std::string& key, std::vector<std::string>* out) {
    YAML::Node n = Get(key);
    if (!n) return Status::Ok();
    out->clear();
    if (n.IsScalar()) {
      out->push_back(n.Scalar());
      return Status::Ok();
    }
    if (!n.IsSequence()) return KeyError(key, n, "expected a list");
    for (const auto& e : n) {
      if (!e.IsScalar()) return KeyError(key, e, "expected plain values");
      out->push_back(e.Scalar());
    }
    return Status::Ok();
  }

  const YAML::Node& node() const { return node_; }

  Status CheckNoUnknownKeys(const std::vector<std::string>& allowed) const {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string k = it->first.Scalar();
      if (!seen_.count(k)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return KeyError(k, it->first, "unknown key (allowed: " + list + ")");
      }
    }
    return Status::Ok();
  }

  const std::string& path() const { return path_; }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& origin_;
  std::set<std::string> seen_;
};

YAML::Node JsonToYaml(const nlohmann::ordered_json& j);

// Writes `n` as YAML, keeping the scalars that were quoted where they were
// read (tag "!") double-quoted: yaml-cpp writes them plain, and text whose
// kind is read from its form (segment values: "90210" vs 90210) would change.
void EmitKeepingQuotes(YAML::Emitter& out, const YAML::Node& n);

}  // namespace cdp::config_internal
