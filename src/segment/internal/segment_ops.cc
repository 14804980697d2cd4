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

int32_t AddMonths(int32_t days, int64_t months) {
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t total = static_cast<int64_t>(y) * 12 + (m - 1) + std::clamp<int64_t>(months, -12LL * 20000, 12LL * 20000);
  int ny = static_cast<int>(total >= 0 ? total / 12 : -((-total + 11) / 12));
  unsigned nm = static_cast<unsigned>(total - static_cast<int64_t>(ny) * 12) + 1;
  unsigned nd = std::min(d, DaysInMonth(ny, nm));
  return DaysFromCivil(ny, nm, nd);
}

namespace {
int32_t ClampDay(int64_t d) { return static_cast<int32_t>(std::clamp<int64_t>(d, INT32_MIN / 2, INT32_MAX / 2)); }
int64_t MonthsOf(TimeUnit u) { return u == TimeUnit::kYear ? 12 : u == TimeUnit::kQuarter ? 3 : 1; }
}  // namespace

void InLastDays(int64_t n, TimeUnit unit, int32_t run, int32_t* lo, int32_t* hi) {
  n = std::clamp<int64_t>(n, 0, 10'000'000);
  *hi = run;
  switch (unit) {
    case TimeUnit::kDay: *lo = ClampDay(static_cast<int64_t>(run) - n + 1); return;
    case TimeUnit::kWeek: *lo = ClampDay(static_cast<int64_t>(run) - 7 * n + 1); return;
    default: *lo = AddMonths(run, -n * MonthsOf(unit)) + 1; return;
  }
}

void InNextDays(int64_t n, TimeUnit unit, int32_t run, int32_t* lo, int32_t* hi) {
  n = std::clamp<int64_t>(n, 0, 10'000'000);
  *lo = run;
  switch (unit) {
    case TimeUnit::kDay: *hi = ClampDay(static_cast<int64_t>(run) + n - 1); return;
    case TimeUnit::kWeek: *hi = ClampDay(static_cast<int64_t>(run) + 7 * n - 1); return;
    default: *hi = AddMonths(run, n * MonthsOf(unit)) - 1; return;
  }
}

void PeriodDays(bool last, TimeUnit unit, int32_t run, int32_t* lo, int32_t* hi) {
  int y;
  unsigned m, d;
  CivilFromDays(run, &y, &m, &d);
  int64_t span = MonthsOf(unit);
  unsigned first_month = unit == TimeUnit::kYear ? 1 : unit == TimeUnit::kQuarter ? (m - 1) / 3 * 3 + 1 : m;
  int32_t start = DaysFromCivil(y, first_month, 1);
  if (last) start = AddMonths(start, -span);
  *lo = start;
  *hi = AddMonths(start, span) - 1;
}

void WindowDays(const TimeWindowConfig& w, int32_t run, int32_t* lo, int32_t* hi) {
  switch (w.kind) {
    case WindowKind::kAllTime:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return;
    case WindowKind::kBetween:
      *lo = w.from;
      *hi = w.to;
      return;
    case WindowKind::kLast: InLastDays(w.n, w.unit, run, lo, hi); return;
    case WindowKind::kThisPeriod: PeriodDays(false, w.unit, run, lo, hi); return;
    case WindowKind::kLastPeriod: PeriodDays(true, w.unit, run, lo, hi); return;
  }
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
