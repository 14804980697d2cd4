// The one definition of a number and an ISO date written as text, shared by
// ingest (which adds its formats on top: whitespace, decimal comma, thousands
// separators, other date styles), measure filters and formulas (engine),
// segment values and project windows (config). Locale-independent
// (std::from_chars, never strtod), no allocation, no whitespace accepted.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/datetime.h"

namespace cdp {

// [+-](digits[.digits] | .digits)[(e|E)[+-]digits], the whole text, as the
// nearest double (a value too small for a double, "1e-999", is 0 or -0, as
// in IEEE arithmetic); false beyond the double range ("1e999"; then
// *out_of_range, if given, is set), for "inf", "nan", hexadecimal, "", "."
// and surrounding spaces.
bool ParseNumber(std::string_view text, double* out, bool* out_of_range = nullptr);

namespace value_text_internal {

inline unsigned DigitAt(const char* p) { return static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0'; }

// Two digits at p into *v.
inline bool TwoDigits(const char* p, unsigned* v) {
  const unsigned a = DigitAt(p);
  const unsigned b = DigitAt(p + 1);
  *v = a * 10 + b;
  return a <= 9 && b <= 9;
}

// "YYYY-MM-DD" at p (10 bytes available) as a valid calendar date.
inline bool IsoDateAt(const char* p, int32_t* days) {
  unsigned hi, lo, m, d;
  if (p[4] != '-' || p[7] != '-' || !TwoDigits(p, &hi) || !TwoDigits(p + 2, &lo) || !TwoDigits(p + 5, &m) ||
      !TwoDigits(p + 8, &d)) {
    return false;
  }
  const int y = static_cast<int>(hi * 100 + lo);
  if (m - 1 > 11 || d - 1 > 27) {  // day 29-31 (or invalid): check the month's length
    if (m - 1 > 11 || d == 0 || d > DaysInMonth(y, m)) return false;
  }
  *days = DaysFromCivil(y, m, d);
  return true;
}

// ParseInteger for text of more than 18 digits (which may overflow).
bool ParseLongInteger(std::string_view text, int64_t* out);

}  // namespace value_text_internal

// [+-]digits, the whole text; false on overflow of int64 or anything else
// ("", "+", "1.0", " 1", "0x10", "+-1"). Inline: ingest calls it once per value.
inline bool ParseInteger(std::string_view text, int64_t* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  if (text.size() > 19) return value_text_internal::ParseLongInteger(text, out);
  const bool negative = p < end && *p == '-';
  if (p < end && (*p == '+' || *p == '-')) ++p;
  if (p == end) return false;
  if (end - p > 18) return value_text_internal::ParseLongInteger(text, out);
  uint64_t v = 0;  // at most 18 digits: no overflow
  for (; p < end; ++p) {
    const unsigned d = value_text_internal::DigitAt(p);
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// Exactly "YYYY-MM-DD" (years 0000-9999, two-digit month and day) naming a
// real day (no 2023-02-29), as days since 1970-01-01. Inline: ingest calls it
// once per value.
inline bool ParseIsoDate(std::string_view text, int32_t* days) {
  return text.size() == 10 && value_text_internal::IsoDateAt(text.data(), days);
}

// "YYYY-MM-DD" then 'T' or ' ' and "HH:MM:SS" (hours 00-23, seconds 00-59),
// optionally '.' and 1-9 fraction digits (kept to microseconds), optionally
// 'Z': an instant in UTC, as microseconds since the epoch.
bool ParseIsoTimestamp(std::string_view text, int64_t* micros);

}  // namespace cdp
