// Small text helpers shared across modules.
#pragma once

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace cdp {

// `v` with `digits` decimals ("%.*f"), e.g. 0.723 for FormatFixed(0.72291, 3).
inline std::string FormatFixed(double v, int digits = 3) {
  char buf[400];  // a double's integer part has at most 309 digits
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

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
