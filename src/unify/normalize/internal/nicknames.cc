#include "unify/normalize/internal/nicknames.h"

#include <cstddef>
#include <cstdlib>
#include <cstdio>

namespace cdp::normalize_internal {

// Generated from data/nicknames.csv by embed_file.cmake.
extern const char kNicknamesCsv[];
extern const std::size_t kNicknamesCsvSize;

namespace {

NicknameMap Parse(std::string_view text) {
  NicknameMap map;
  bool header_seen = false;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (!header_seen) {  // "nickname,name"
      header_seen = true;
      continue;
    }
    size_t comma = line.find(',');
    if (comma == std::string_view::npos || comma == 0 || comma + 1 == line.size() ||
        !map.emplace(line.substr(0, comma), line.substr(comma + 1)).second) {
      // The table ships with the library and a test parses it: this is a build defect.
      std::fprintf(stderr, "data/nicknames.csv:%zu: malformed or duplicate row\n", line_number);
      std::abort();
    }
  }
  return map;
}

}  // namespace

const NicknameMap& Nicknames() {
  static const NicknameMap map = Parse(std::string_view(kNicknamesCsv, kNicknamesCsvSize));
  return map;
}

std::string_view CanonicalGivenName(std::string_view token) {
  const NicknameMap& map = Nicknames();
  auto it = map.find(token);
  return it == map.end() ? token : it->second;
}

}  // namespace cdp::normalize_internal
