#include "segment/internal/segment_ops.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "common/datetime.h"
#include "common/value_text.h"

namespace cdp::segment_internal {

std::optional<double> AsDouble(const SegmentValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(&v)) return std::isfinite(*d) ? std::optional<double>(*d) : std::nullopt;
  if (auto* s = std::get_if<std::string>(&v)) {
    double d;
    if (ParseNumber(*s, &d)) return d;
  }
  return std::nullopt;
}

std::optional<int64_t> AsInt64(const SegmentValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) return static_cast<int64_t>(*d);
    return std::nullopt;
  }
  if (auto* s = std::get_if<std::string>(&v)) {
    int64_t i;
    if (ParseInteger(*s, &i)) return i;
  }
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

std::optional<int32_t> AsDate(const SegmentValue& v) {
  int32_t day;
  if (auto* s = std::get_if<std::string>(&v); s && ParseIsoDate(*s, &day)) return day;
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
