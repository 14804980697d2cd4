#include "segment/internal/segment_ops.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>

#include "common/datetime.h"

namespace cdp::segment_internal {

namespace {

std::optional<double> ParseDouble(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  double v = 0;
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<double> AsDouble(const SegmentValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return std::isfinite(*d) ? std::optional<double>(*d) : std::nullopt;
  if (auto* s = std::get_if<std::string>(&v)) return ParseDouble(*s);
  return std::nullopt;
}

std::optional<int64_t> AsInt64(const SegmentValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) return static_cast<int64_t>(*d);
    return std::nullopt;
  }
  if (auto* s = std::get_if<std::string>(&v)) return ParseInt(*s);
  return std::nullopt;
}

std::optional<bool> AsBool(const SegmentValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* s = std::get_if<std::string>(&v)) {
    if (*s == "true") return true;
    if (*s == "false") return false;
  }
  return std::nullopt;
}

std::optional<std::string> AsText(const SegmentValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return std::nullopt;
}

std::optional<int32_t> ParseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](size_t b, size_t n, int* out) {
    int v = 0;
    for (size_t i = b; i < b + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, m, d;
  if (!digits(0, 4, &y) || !digits(5, 2, &m) || !digits(8, 2, &d)) return std::nullopt;
  if (!IsValidCivilDate(y, static_cast<unsigned>(m), static_cast<unsigned>(d))) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<int32_t> AsDate(const SegmentValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return ParseIsoDate(*s);
  return std::nullopt;
}

bool AnniversaryWithin(int32_t date, int32_t run, int64_t n) {
  int y, ry;
  unsigned m, d, rm, rd;
  CivilFromDays(date, &y, &m, &d);
  CivilFromDays(run, &ry, &rm, &rd);
  for (int year = ry; year <= ry + 1; ++year) {
    unsigned day = std::min(d, DaysInMonth(year, m));  // Feb 29 -> Feb 28 in common years
    int32_t a = DaysFromCivil(year, m, day);
    if (a >= run) return static_cast<int64_t>(a) - run <= n;
  }
  return false;
}

}  // namespace cdp::segment_internal
