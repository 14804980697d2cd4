// Parsing of field text into typed values (int64, double, bool, date,
// timestamp) in the formats found in customer data files, without allocation.
// Free functions are pure; a ValueParser is immutable after Create: both are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
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

// [+-]digits; false on overflow. With a thousands separator, "1,234" is 1234.
bool ParseInt64(std::string_view text, int64_t* out, char thousands_separator = '\0');
// Decimal notation [+-]digits[.digits][e[+-]digits] (or starting with '.');
// "inf" and "nan" are rejected.
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

// Parses text as one type in one format. Immutable after Create; thread-safe.
class ValueParser {
 public:
  ValueParser() = default;
  // InvalidArgument if format.date_style is kPattern and the pattern does not compile.
  static StatusOr<ValueParser> Create(DataType type, ValueFormat format);

  DataType type() const { return type_; }
  const ValueFormat& format() const { return format_; }

  bool ParseInt64(std::string_view text, int64_t* out) const {
    return cdp::ParseInt64(text, out, format_.thousands_separator);
  }
  bool ParseDouble(std::string_view text, double* out) const {
    return cdp::ParseDouble(text, out, format_.decimal_comma, format_.thousands_separator);
  }
  bool ParseBool(std::string_view text, bool* out) const { return cdp::ParseBool(text, out); }
  bool ParseDate(std::string_view text, int32_t* days) const;
  bool ParseTimestamp(std::string_view text, int64_t* micros) const;

  // Why `text` does not parse as type(), for a quarantine entry, e.g.
  // "'31/02/2020' is not a valid date (D/M/YYYY): February 2020 has 29 days".
  // Only meaningful for text the parser rejected. Long values are shortened.
  std::string FailureReason(std::string_view text) const;

  // "int64", "double (decimal comma)", "date (M/D/YYYY)", "timestamp (%d.%m.%Y %H:%M)".
  std::string Describe() const;

 private:
  DataType type_ = DataType::kString;
  ValueFormat format_;
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
