// The one way YAML definitions are loaded (the project file, segment
// definitions): yaml-cpp behind limits that are checked while it parses, so
// hostile input is an error naming the file, line and key, never a crash, a
// silently dropped value or runaway memory. Thread-safe (no shared state).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp {

struct YamlLimits {
  size_t max_bytes = size_t{4} << 20;  // size of the text
  size_t max_depth = 64;               // mappings and sequences nested in each other
  size_t max_nodes = 250000;           // scalars, mappings and sequences, aliases expanded
  size_t max_expanded_bytes = size_t{16} << 20;  // text of keys and values, aliases expanded
};

// Loads one YAML document (empty text gives a Null node). Refused, as
// InvalidArgument "ORIGIN:LINE: PATH: message" (ORIGIN is usually the file;
// empty gives "line LINE: ..."; PATH like "sources[0].name" when known):
//  - text longer than max_bytes, and YAML syntax errors;
//  - a second document in the text;
//  - nesting deeper than max_depth: checked as each mapping or sequence
//    starts, so yaml-cpp's recursive parser never goes deeper;
//  - more than max_nodes values, counting an alias (*a) as the values of its
//    anchor (&a) each time it is used: converting or walking the document
//    expands aliases, and nine aliases of nine aliases of ... ("billion
//    laughs") turn a few hundred bytes into billions of values. Likewise
//    more than max_expanded_bytes of text (an alias of a long scalar used
//    many times). An alias also counts its anchor's depth where it is used,
//    and an alias inside its own anchor (a cycle) is refused;
//  - a mapping key given twice (a parser would keep one value silently), and
//    keys that are mappings or sequences;
//  - text (keys and values) that is not valid UTF-8 or contains a NUL byte.
StatusOr<YAML::Node> LoadYaml(std::string_view text, const std::string& origin, const YamlLimits& limits = {});

}  // namespace cdp
