// Small helpers shared by the insight modules (overlap, differentiators):
// quantiles of sorted values and numbers written for people. Pure functions;
// thread-safe. Internal to src/insight/.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cdp::insight_internal {

// The p-quantile (p in [0, 1]) of ascending `sorted` values, linear
// interpolation between closest ranks (Hyndman & Fan type 7, numpy's
// default). NaN for no values.
inline double SortedQuantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return std::nan("");
  const double h = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Integer part with thousands separators: "-1,234,567".
inline std::string GroupThousands(const std::string& digits_with_sign) {
  size_t start = digits_with_sign.size() > 0 && digits_with_sign[0] == '-' ? 1 : 0;
  size_t dot = digits_with_sign.find('.');
  if (dot == std::string::npos) dot = digits_with_sign.size();
  std::string out = digits_with_sign.substr(0, start);
  for (size_t i = start; i < dot; ++i) {
    if (i > start && (dot - i) % 3 == 0) out += ',';
    out += digits_with_sign[i];
  }
  out += digits_with_sign.substr(dot);
  return out;
}

// A number for a sentence: three significant digits, thousands separated,
// no exponent below 1e15: 92384.2 -> "92,400", 41.23 -> "41.2",
// 0.3456 -> "0.346", 3 -> "3". "n/a" for NaN.
inline std::string HumanNumber(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";
  const double mag = std::floor(std::log10(std::fabs(v)));
  char buf[64];
  if (mag >= 15) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  if (mag >= 2) {
    const double unit = std::pow(10.0, mag - 2);
    std::snprintf(buf, sizeof buf, "%.0f", std::round(v / unit) * unit);
    return GroupThousands(buf);
  }
  const int decimals = static_cast<int>(2 - mag);  // mag 1 -> 1 decimal, 0 -> 2, -1 -> 3
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

// A share as a whole percentage, "41%" (one decimal below 1%: "0.4%").
inline std::string HumanPercent(double share) {
  if (std::isnan(share)) return "n/a";
  char buf[32];
  const double pct = share * 100;
  if (pct != 0 && std::fabs(pct) < 1) {
    std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f%%", pct);
  }
  return buf;
}

// A numeric bucket's label: "25 - 40", or "25" when low == high.
inline std::string RangeLabel(double low, double high) {
  if (low == high) return HumanNumber(low);
  return HumanNumber(low) + " - " + HumanNumber(high);
}

}  // namespace cdp::insight_internal
