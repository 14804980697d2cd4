#include "common/value_text.h"

#include <algorithm>
#include <charconv>

namespace cdp {

using value_text_internal::DigitAt;
using value_text_internal::TwoDigits;

namespace value_text_internal {

bool ParseLongInteger(std::string_view text, int64_t* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  const char* digits = p + ((p < end && (*p == '+' || *p == '-')) ? 1 : 0);
  if (digits == end || DigitAt(digits) > 9) return false;
  if (*p == '+') ++p;  // from_chars takes '-' only
  const auto r = std::from_chars(p, end, *out);
  return r.ec == std::errc() && r.ptr == end;
}

}  // namespace value_text_internal

namespace {

// For a number text (digits, '.', exponent) from_chars found out of range:
// true when its magnitude is below 1 (so it underflowed), false when above.
bool IsUnderflow(const char* p, const char* end) {
  int64_t magnitude = 0;  // the power of ten of the first significant digit
  bool significant = false;
  bool fraction = false;
  for (; p < end && *p != 'e' && *p != 'E'; ++p) {
    if (*p == '.') {
      fraction = true;
    } else if (!significant && *p == '0') {
      if (fraction) --magnitude;
    } else if (!significant) {
      significant = true;
      if (fraction) --magnitude;
    } else if (!fraction) {
      ++magnitude;
    }
  }
  int64_t exponent = 0;
  if (p < end) {
    ++p;  // 'e'
    const bool negative = *p == '-';
    if (*p == '+' || *p == '-') ++p;
    for (; p < end; ++p) exponent = std::min<int64_t>(exponent * 10 + (*p - '0'), int64_t{1} << 40);
    if (negative) exponent = -exponent;
  }
  return magnitude + exponent < 0;
}

}  // namespace

bool ParseNumber(std::string_view text, double* out, bool* out_of_range) {
  if (out_of_range) *out_of_range = false;
  const char* p = text.data();
  const char* end = p + text.size();
  const char* q = p + ((p < end && (*p == '+' || *p == '-')) ? 1 : 0);
  // A digit, or a decimal point and a digit: no "inf", "nan", "0x" forms reach from_chars.
  if (q == end) return false;
  if (DigitAt(q) > 9 && !(*q == '.' && q + 1 < end && DigitAt(q + 1) <= 9)) return false;
  if (*p == '+') ++p;
  const auto r = std::from_chars(p, end, *out);
  if (r.ptr != end) return false;
  if (r.ec == std::errc::result_out_of_range) {
    if (IsUnderflow(q, end)) {  // rounds to zero, as IEEE arithmetic does
      *out = *p == '-' ? -0.0 : 0.0;
      return true;
    }
    if (out_of_range) *out_of_range = true;
  }
  return r.ec == std::errc();
}

bool ParseIsoTimestamp(std::string_view s, int64_t* micros) {
  int32_t day;
  unsigned h, mi, se;
  if (s.size() < 19 || !ParseIsoDate(s.substr(0, 10), &day) || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':' || !TwoDigits(s.data() + 11, &h) || !TwoDigits(s.data() + 14, &mi) ||
      !TwoDigits(s.data() + 17, &se) || h > 23 || mi > 59 || se > 59) {
    return false;
  }
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && DigitAt(s.data() + i) <= 9) {
      if (digits < 6) frac = frac * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0 || digits > 9) return false;
    for (; digits < 6; ++digits) frac *= 10;
  }
  if (i < s.size() && s[i] == 'Z') ++i;
  if (i != s.size()) return false;
  *micros = int64_t{day} * kMicrosPerDay + (h * 3600LL + mi * 60LL + se) * kMicrosPerSecond + frac;
  return true;
}

}  // namespace cdp
