// Small text helpers shared across modules.
#pragma once

#include <cctype>
#include <string_view>
#include <vector>

namespace cdp {

// The runs of non-whitespace characters of `s`, in order (views into s).
inline std::vector<std::string_view> SplitOnWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace cdp
