// Parsing of field text into typed values (int64, double, bool, date,
// timestamp) in the formats found in customer data files, without allocation.
// Free functions are pure; a ValueParser is immutable after Create: both are thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/datetime.h"
#include "common/status.h"
#include "common/value_text.h"
#include "table/types.h"

namespace cdp {

// How a date (or the date part of a timestamp) is written. Month and day take
// one or two digits except in kCompact; the year always takes four.
enum class DateStyle : uint8_t {
  kAuto = 0,          // by separator: '-' ISO, '/' M/D/YYYY, '.' D.M.YYYY, 8 digits YYYYMMDD
  kIso = 1,           // YYYY-MM-DD
  kMonthDayYear = 2,  // M/D/YYYY (US)
  kDayMonthYear = 3,  // D/M/YYYY
  kDayMonthYearDot = 4,  // D.M.YYYY
  kCompact = 5,       // YYYYMMDD, exactly 8 digits
  kPattern = 6,       // an explicit pattern, see DatePattern
};

// "auto", "YYYY-MM-DD", "M/D/YYYY", "D/M/YYYY", "D.M.YYYY", "YYYYMMDD", "pattern".
std::string_view DateStyleName(DateStyle style);

// How the values of one field are written. Plain value type.
struct ValueFormat {
  // Dates and timestamps.
  DateStyle date_style = DateStyle::kAuto;
  std::string pattern;  // when date_style == kPattern, e.g. "%d/%m/%Y %H:%M"
  // Doubles: ',' is the decimal separator (then '.' is not accepted unless it
  // is the thousands separator).
  bool decimal_comma = false;
  // Int64 and doubles: a grouping character between groups of three digits
  // ("1,234,567"); '\0' = none. Off by default: "1,234" is then not a number.
  char thousands_separator = '\0';

  bool operator==(const ValueFormat& o) const = default;
};

// Parses a user-written date format: "auto" / "" , "ISO" / "YYYY-MM-DD",
// "M/D/YYYY", "D/M/YYYY", "D.M.YYYY", "YYYYMMDD" (case-insensitive), or a
// pattern containing '%'. InvalidArgument for anything else or a malformed
// pattern. Only date_style and pattern of the result are set.
StatusOr<ValueFormat> ParseDateFormat(std::string_view text);

// A compiled date/timestamp pattern. Tokens:
//   %Y  4-digit year          %y  2-digit year (00-68 -> 20xx, 69-99 -> 19xx)
//   %m  month 1-12 (1-2 digits)  %d  day 1-31 (1-2 digits)
//   %b  English month name, abbreviated or full, any case (%B is the same)
//   %H  hour 0-23 (1-2 digits)   %I  hour 1-12, with %p  AM/PM (any case)
//   %M  minute (1-2 digits)      %S  second (1-2 digits)
//   %f  fraction of a second, 1-9 digits (kept to microseconds)
//   %z  time zone: Z, +HH, +HHMM or +HH:MM (or -); the value is converted to UTC
//   %%  a literal '%'
// Any other character must appear literally. Numeric tokens read digits
// greedily up to their width, so patterns without separators need two-digit
// fields. A date pattern needs a year, a month and a day; a time of day in a
// value parsed as a date is checked and then dropped.
class DatePattern {
 public:
  DatePattern() = default;
  // InvalidArgument for an unknown token, a dangling '%', a missing year,
  // month or day, or %I without %p.
  static StatusOr<DatePattern> Compile(std::string_view pattern);

  const std::string& text() const { return text_; }
  // Both trim ASCII whitespace first and validate the calendar (no Feb 30).
  bool ParseDate(std::string_view text, int32_t* days) const;
  bool ParseTimestamp(std::string_view text, int64_t* micros) const;

 private:
  struct Token {
    char kind;  // '%' token letter, or 'L' for a literal
    char literal;
  };
  bool Parse(std::string_view text, int64_t* micros, int32_t* days) const;

  std::string text_;
  std::vector<Token> tokens_;
};

// Free parsers. Each trims ASCII whitespace and returns false when the text
// (after trimming) is not entirely a value of the type; *out is then unspecified.

// [+-]digits (ParseInteger after trimming); false on overflow. With a
// thousands separator, "1,234" is 1234.
bool ParseInt64(std::string_view text, int64_t* out, char thousands_separator = '\0');
// Decimal notation [+-]digits[.digits][e[+-]digits] (or starting with '.'),
// ParseNumber after trimming and, with a decimal comma or a thousands
// separator, after rewriting to that form; "inf", "nan" and values beyond the
// double range are rejected.
bool ParseDouble(std::string_view text, double* out, bool decimal_comma = false,
                 char thousands_separator = '\0');
// true/false, yes/no, y/n, t/f, 1/0 in any case.
bool ParseBool(std::string_view text, bool* out);
// Days since 1970-01-01. `style` must not be kPattern (use DatePattern).
bool ParseDate(std::string_view text, DateStyle style, int32_t* days);
// Microseconds since the epoch, UTC. The date part per `style` (not
// kPattern), then optionally ' ' or 'T' and HH:MM[:SS[.fraction]], then
// optionally Z or an offset +HH[:MM] / -HHMM (converted to UTC). A date alone
// is midnight UTC.
bool ParseTimestamp(std::string_view text, DateStyle style, int64_t* micros);

// Inline fast paths for the common shapes of values, used by ValueParser
// before the full parsers (with common/value_text's ParseInteger and
// ParseIsoDate, which are inline too). Each returns true with exactly the value the full
// parser gives (bitwise for doubles), or false meaning "not handled here":
// the caller then runs the full parser, which accepts or rejects. They never
// trim, so text with surrounding whitespace is left to the full parsers.
namespace value_parser_internal {

using value_text_internal::DigitAt;
using value_text_internal::IsoDateAt;
using value_text_internal::TwoDigits;

// Powers of ten exactly representable as doubles.
inline constexpr double kExactPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                           1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// [+-]digits[.digits] whose digits, read as one integer, are at most 2^53
// (Clinger's fast path): mantissa and power of ten are exact doubles, so one
// IEEE division is correctly rounded and equals std::from_chars' result.
// As ParseDouble with '.' decimals and no thousands separator.
inline bool ParseDoubleFast(std::string_view text, double* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  if (text.empty()) return false;
  const bool negative = *p == '-';
  if (negative || *p == '+') ++p;
  const char* digits_begin = p;
  uint64_t m = 0;  // wraps for more than 19 digits; rejected below
  while (p < end && DigitAt(p) <= 9) m = m * 10 + DigitAt(p++);
  const ptrdiff_t int_digits = p - digits_begin;
  if (int_digits == 0) return false;
  ptrdiff_t frac_digits = 0;
  if (p < end && *p == '.') {
    const char* frac_begin = ++p;
    while (p < end && DigitAt(p) <= 9) m = m * 10 + DigitAt(p++);
    frac_digits = p - frac_begin;
    if (frac_digits == 0) return false;
  }
  if (p != end || int_digits + frac_digits > 19 || m > (uint64_t{1} << 53)) return false;
  const double v = static_cast<double>(m) / kExactPow10[frac_digits];
  *out = negative ? -v : v;
  return true;
}

// Exactly "true" or "false".
inline bool ParseBoolFast(std::string_view text, bool* out) {
  if (text.size() == 4 && std::memcmp(text.data(), "true", 4) == 0) {
    *out = true;
    return true;
  }
  if (text.size() == 5 && std::memcmp(text.data(), "false", 5) == 0) {
    *out = false;
    return true;
  }
  return false;
}

// Exactly "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS" (valid date and
// time). As ParseTimestamp with kIso or kAuto.
inline bool ParseIsoTimestampFast(std::string_view text, int64_t* micros) {
  if (text.size() != 19) return false;
  const char* p = text.data();
  unsigned h, mi, s;
  int32_t days;
  if ((p[10] != ' ' && p[10] != 'T') || p[13] != ':' || p[16] != ':' || !TwoDigits(p + 11, &h) ||
      !TwoDigits(p + 14, &mi) || !TwoDigits(p + 17, &s) || h > 23 || mi > 59 || s > 59 || !IsoDateAt(p, &days)) {
    return false;
  }
  *micros = (int64_t{days} * 86400 + h * 3600 + mi * 60 + s) * kMicrosPerSecond;
  return true;
}

}  // namespace value_parser_internal

// Parses text as one type in one format. Immutable after Create; thread-safe.
class ValueParser {
 public:
  ValueParser() = default;
  // InvalidArgument if format.date_style is kPattern and the pattern does not compile.
  static StatusOr<ValueParser> Create(DataType type, ValueFormat format);

  DataType type() const { return type_; }
  const ValueFormat& format() const { return format_; }

  // Same results as the free parsers (or the DatePattern) in format(); the
  // common shapes take an inline fast path.
  bool ParseInt64(std::string_view text, int64_t* out) const {
    if (format_.thousands_separator == '\0' && ParseInteger(text, out)) return true;
    return cdp::ParseInt64(text, out, format_.thousands_separator);
  }
  bool ParseDouble(std::string_view text, double* out) const {
    if (plain_numbers_ && value_parser_internal::ParseDoubleFast(text, out)) return true;
    return cdp::ParseDouble(text, out, format_.decimal_comma, format_.thousands_separator);
  }
  bool ParseBool(std::string_view text, bool* out) const {
    return value_parser_internal::ParseBoolFast(text, out) || cdp::ParseBool(text, out);
  }
  bool ParseDate(std::string_view text, int32_t* days) const {
    if (iso_dates_ && ParseIsoDate(text, days)) return true;
    return ParseDateFull(text, days);
  }
  bool ParseTimestamp(std::string_view text, int64_t* micros) const {
    if (iso_dates_ && value_parser_internal::ParseIsoTimestampFast(text, micros)) return true;
    return ParseTimestampFull(text, micros);
  }

  // Why `text` does not parse as type(), for a quarantine entry, e.g.
  // "'31/02/2020' is not a valid date (D/M/YYYY): February 2020 has 29 days".
  // Only meaningful for text the parser rejected. Long values are shortened.
  std::string FailureReason(std::string_view text) const;

  // "int64", "double (decimal comma)", "date (M/D/YYYY)", "timestamp (%d.%m.%Y %H:%M)".
  std::string Describe() const;

 private:
  bool ParseDateFull(std::string_view text, int32_t* days) const;
  bool ParseTimestampFull(std::string_view text, int64_t* micros) const;

  DataType type_ = DataType::kString;
  ValueFormat format_;
  bool plain_numbers_ = true;  // '.' decimals, no thousands separator
  bool iso_dates_ = true;      // date_style kAuto or kIso
  bool has_pattern_ = false;
  DatePattern pattern_;
};

// Trims ASCII whitespace (space, tab, CR, LF, VT, FF) from both ends.
inline std::string_view TrimAsciiWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  size_t b = 0;
  size_t e = s.size();
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace cdp
