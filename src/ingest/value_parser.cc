#include "ingest/value_parser.h"

#include <cstring>

#include "common/datetime.h"
#include "common/utf8.h"
#include "common/value_text.h"

namespace cdp {
namespace {

inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Reads min_digits..max_digits digits (greedy) at p.
inline bool ReadNumber(const char*& p, const char* end, int min_digits, int max_digits, int* out) {
  int v = 0;
  int n = 0;
  while (n < max_digits && p < end && IsDigit(*p)) {
    v = v * 10 + (*p - '0');
    ++p;
    ++n;
  }
  if (n < min_digits) return false;
  *out = v;
  return true;
}

inline bool Expect(const char*& p, const char* end, char c) {
  if (p < end && *p == c) {
    ++p;
    return true;
  }
  return false;
}

constexpr const char* kMonthNames[12] = {"january", "february", "march",     "april",   "may",      "june",
                                         "july",    "august",   "september", "october", "november", "december"};

// English month name, full or abbreviated to three letters, any case.
bool ReadMonthName(const char*& p, const char* end, int* month) {
  for (int m = 0; m < 12; ++m) {
    const char* name = kMonthNames[m];
    size_t len = std::strlen(name);
    size_t avail = static_cast<size_t>(end - p);
    size_t i = 0;
    while (i < len && i < avail && Lower(p[i]) == name[i]) ++i;
    if (i == len || i == 3) {
      // Prefer the full name; "Mar" followed by other letters is not a month.
      if (i == 3 && i < avail && Lower(p[i]) >= 'a' && Lower(p[i]) <= 'z') continue;
      p += i;
      *month = m + 1;
      return true;
    }
  }
  return false;
}

// The fields of a parsed date/time before calendar validation.
struct CivilParts {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int micros = 0;
  int offset_minutes = 0;  // local = UTC + offset
};

enum class Outcome { kOk, kSyntax, kCalendar, kTime };

DateStyle ResolveAutoStyle(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && i < 9 && IsDigit(s[i])) ++i;
  if (i == 8 && (s.size() == 8 || s[8] == ' ' || s[8] == 'T')) return DateStyle::kCompact;
  if (i < s.size()) {
    switch (s[i]) {
      case '-': return DateStyle::kIso;
      case '/': return DateStyle::kMonthDayYear;
      case '.': return DateStyle::kDayMonthYearDot;
      default: break;
    }
  }
  return DateStyle::kIso;
}

// Reads the date part of `style` (resolved, not kPattern) at p.
bool ReadDatePart(const char*& p, const char* end, DateStyle style, CivilParts* c) {
  switch (style) {
    case DateStyle::kIso:
      return ReadNumber(p, end, 4, 4, &c->year) && Expect(p, end, '-') && ReadNumber(p, end, 1, 2, &c->month) &&
             Expect(p, end, '-') && ReadNumber(p, end, 1, 2, &c->day);
    case DateStyle::kMonthDayYear:
      return ReadNumber(p, end, 1, 2, &c->month) && Expect(p, end, '/') && ReadNumber(p, end, 1, 2, &c->day) &&
             Expect(p, end, '/') && ReadNumber(p, end, 4, 4, &c->year);
    case DateStyle::kDayMonthYear:
      return ReadNumber(p, end, 1, 2, &c->day) && Expect(p, end, '/') && ReadNumber(p, end, 1, 2, &c->month) &&
             Expect(p, end, '/') && ReadNumber(p, end, 4, 4, &c->year);
    case DateStyle::kDayMonthYearDot:
      return ReadNumber(p, end, 1, 2, &c->day) && Expect(p, end, '.') && ReadNumber(p, end, 1, 2, &c->month) &&
             Expect(p, end, '.') && ReadNumber(p, end, 4, 4, &c->year);
    case DateStyle::kCompact:
      return ReadNumber(p, end, 4, 4, &c->year) && ReadNumber(p, end, 2, 2, &c->month) &&
             ReadNumber(p, end, 2, 2, &c->day) && (p == end || !IsDigit(*p));
    case DateStyle::kAuto:
    case DateStyle::kPattern: return false;
  }
  return false;
}

// Reads 1-9 fraction digits, keeping microseconds.
bool ReadFraction(const char*& p, const char* end, int* micros) {
  int v = 0;
  int n = 0;
  while (p < end && IsDigit(*p)) {
    if (n < 6) v = v * 10 + (*p - '0');
    ++n;
    ++p;
  }
  if (n == 0 || n > 9) return false;
  for (int i = n; i < 6; ++i) v *= 10;
  *micros = v;
  return true;
}

// Z, z, +HH, +HHMM, +HH:MM (or '-').
bool ReadZone(const char*& p, const char* end, int* offset_minutes) {
  if (p >= end) return false;
  if (*p == 'Z' || *p == 'z') {
    ++p;
    *offset_minutes = 0;
    return true;
  }
  if (*p != '+' && *p != '-') return false;
  int sign = *p == '-' ? -1 : 1;
  ++p;
  int hh = 0;
  int mm = 0;
  if (!ReadNumber(p, end, 2, 2, &hh)) return false;
  if (p < end && *p == ':') {
    ++p;
    if (!ReadNumber(p, end, 2, 2, &mm)) return false;
  } else if (p < end && IsDigit(*p)) {
    if (!ReadNumber(p, end, 2, 2, &mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  *offset_minutes = sign * (hh * 60 + mm);
  return true;
}

// [ |T]H:MM[:SS[.f]][zone] after a date.
bool ReadTimePart(const char*& p, const char* end, CivilParts* c) {
  if (p == end) return true;
  if (*p == 'T' || *p == 't') {
    ++p;
  } else if (*p == ' ') {
    while (p < end && *p == ' ') ++p;
  } else {
    return false;
  }
  if (!ReadNumber(p, end, 1, 2, &c->hour) || !Expect(p, end, ':') || !ReadNumber(p, end, 2, 2, &c->minute)) {
    return false;
  }
  if (p < end && *p == ':') {
    ++p;
    if (!ReadNumber(p, end, 2, 2, &c->second)) return false;
    if (p < end && (*p == '.' || *p == ',')) {
      ++p;
      if (!ReadFraction(p, end, &c->micros)) return false;
    }
  }
  if (p < end && *p == ' ') ++p;
  if (p < end) return ReadZone(p, end, &c->offset_minutes);
  return true;
}

Outcome Validate(const CivilParts& c) {
  if (!IsValidCivilDate(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day))) {
    return Outcome::kCalendar;
  }
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return Outcome::kTime;
  return Outcome::kOk;
}

int64_t ToMicros(const CivilParts& c) {
  int64_t days = DaysFromCivil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
  int64_t secs = days * 86400 + c.hour * 3600 + c.minute * 60 + c.second - int64_t{c.offset_minutes} * 60;
  return secs * kMicrosPerSecond + c.micros;
}

// Parses with a built-in style. `with_time` allows a time part.
Outcome ParseStyled(std::string_view text, DateStyle style, bool with_time, CivilParts* c) {
  text = TrimAsciiWhitespace(text);
  if (style == DateStyle::kAuto) style = ResolveAutoStyle(text);
  const char* p = text.data();
  const char* end = p + text.size();
  if (!ReadDatePart(p, end, style, c)) return Outcome::kSyntax;
  if (with_time) {
    if (!ReadTimePart(p, end, c)) return Outcome::kSyntax;
  }
  if (p != end) return Outcome::kSyntax;
  return Validate(*c);
}

std::string Shorten(std::string_view v) {
  constexpr size_t kMax = 64;
  if (v.size() <= kMax) return std::string(v);
  return std::string(Utf8Prefix(v, kMax)) + "...";
}

std::string CalendarDetail(const CivilParts& c) {
  if (c.month < 1 || c.month > 12) return "month " + std::to_string(c.month) + " does not exist";
  if (c.year < -9999 || c.year > 9999) return "year out of range";
  std::string month(kMonthNames[c.month - 1]);
  month[0] = static_cast<char>(month[0] - 32);
  return month + " " + std::to_string(c.year) + " has " +
         std::to_string(DaysInMonth(c.year, static_cast<unsigned>(c.month))) + " days";
}

}  // namespace

std::string_view DateStyleName(DateStyle style) {
  switch (style) {
    case DateStyle::kAuto: return "auto";
    case DateStyle::kIso: return "YYYY-MM-DD";
    case DateStyle::kMonthDayYear: return "M/D/YYYY";
    case DateStyle::kDayMonthYear: return "D/M/YYYY";
    case DateStyle::kDayMonthYearDot: return "D.M.YYYY";
    case DateStyle::kCompact: return "YYYYMMDD";
    case DateStyle::kPattern: return "pattern";
  }
  return "?";
}

StatusOr<ValueFormat> ParseDateFormat(std::string_view text) {
  ValueFormat f;
  std::string lower;
  for (char c : TrimAsciiWhitespace(text)) lower += Lower(c);
  if (text.find('%') != std::string_view::npos) {
    CDP_ASSIGN_OR_RETURN(DatePattern compiled, DatePattern::Compile(text));
    f.date_style = DateStyle::kPattern;
    f.pattern = compiled.text();
    return f;
  }
  if (lower.empty() || lower == "auto") return f;
  if (lower == "iso" || lower == "yyyy-mm-dd") {
    f.date_style = DateStyle::kIso;
  } else if (lower == "m/d/yyyy" || lower == "mm/dd/yyyy") {
    f.date_style = DateStyle::kMonthDayYear;
  } else if (lower == "d/m/yyyy" || lower == "dd/mm/yyyy") {
    f.date_style = DateStyle::kDayMonthYear;
  } else if (lower == "d.m.yyyy" || lower == "dd.mm.yyyy") {
    f.date_style = DateStyle::kDayMonthYearDot;
  } else if (lower == "yyyymmdd") {
    f.date_style = DateStyle::kCompact;
  } else {
    return InvalidArgumentError("unknown date format '" + std::string(text) +
                                "'; use auto, YYYY-MM-DD, M/D/YYYY, D/M/YYYY, D.M.YYYY, YYYYMMDD or a "
                                "pattern such as %d/%m/%Y");
  }
  return f;
}

// ---------------------------------------------------------------- numbers

bool ParseInt64(std::string_view text, int64_t* out, char thousands_separator) {
  text = TrimAsciiWhitespace(text);
  if (thousands_separator == '\0') return ParseInteger(text, out);
  if (text.empty()) return false;
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (*p == '+' || *p == '-') {
    negative = *p == '-';
    ++p;
  }
  if (p == end || !IsDigit(*p)) return false;
  // Groups of three digits after a first group of one to three.
  uint64_t v = 0;
  int group = 0;
  bool grouped = false;
  for (; p < end; ++p) {
    if (IsDigit(*p)) {
      if (__builtin_mul_overflow(v, uint64_t{10}, &v) || __builtin_add_overflow(v, uint64_t(*p - '0'), &v)) {
        return false;
      }
      ++group;
    } else if (*p == thousands_separator) {
      if (group == 0 || group > 3 || (grouped && group != 3) || p + 1 == end) return false;
      grouped = true;
      group = 0;
    } else {
      return false;
    }
  }
  if (grouped && group != 3) return false;
  if (negative) {
    if (v > uint64_t{1} << 63) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseDouble(std::string_view text, double* out, bool decimal_comma, char thousands_separator) {
  text = TrimAsciiWhitespace(text);
  if (!decimal_comma && thousands_separator == '\0') return ParseNumber(text, out);
  if (text.empty()) return false;
  const char* p = text.data();
  const char* end = p + text.size();
  const char decimal = decimal_comma ? ',' : '.';
  // Grammar check of the start: a sign, then a digit or a decimal point and a digit.
  const char* q = p + ((*p == '+' || *p == '-') ? 1 : 0);
  if (q == end) return false;
  if (!IsDigit(*q) && !(*q == decimal && q + 1 < end && IsDigit(q[1]))) return false;
  // Normalize to the '.' form in a stack buffer.
  char buf[128];
  if (text.size() >= sizeof(buf)) return false;
  size_t n = 0;
  if (*p == '+' || *p == '-') {
    if (*p == '-') buf[n++] = '-';
    ++p;
  }
  int group = 0;
  bool grouped = false;
  bool in_integer = true;
  for (; p < end; ++p) {
    char c = *p;
    if (in_integer && IsDigit(c)) {
      buf[n++] = c;
      ++group;
    } else if (in_integer && thousands_separator != '\0' && c == thousands_separator) {
      if (group == 0 || group > 3 || (grouped && group != 3)) return false;
      grouped = true;
      group = 0;
    } else if (c == decimal) {
      if (!in_integer) return false;
      if (grouped && group != 3) return false;
      in_integer = false;
      buf[n++] = '.';
    } else if (c == '.' || c == ',') {
      return false;  // the other separator, not configured
    } else {
      if (in_integer && grouped && group != 3) return false;
      in_integer = false;
      buf[n++] = c;
    }
  }
  if (in_integer && grouped && group != 3) return false;
  return ParseNumber(std::string_view(buf, n), out);
}

bool ParseBool(std::string_view text, bool* out) {
  text = TrimAsciiWhitespace(text);
  if (text.empty() || text.size() > 5) return false;
  char low[5];
  for (size_t i = 0; i < text.size(); ++i) low[i] = Lower(text[i]);
  std::string_view v(low, text.size());
  if (v == "true" || v == "yes" || v == "y" || v == "t" || v == "1") {
    *out = true;
    return true;
  }
  if (v == "false" || v == "no" || v == "n" || v == "f" || v == "0") {
    *out = false;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- dates

bool ParseDate(std::string_view text, DateStyle style, int32_t* days) {
  if ((style == DateStyle::kIso || style == DateStyle::kAuto) && ParseIsoDate(text, days)) return true;
  CivilParts c;
  if (ParseStyled(text, style, /*with_time=*/false, &c) != Outcome::kOk) return false;
  *days = DaysFromCivil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
  return true;
}

bool ParseTimestamp(std::string_view text, DateStyle style, int64_t* micros) {
  CivilParts c;
  if (ParseStyled(text, style, /*with_time=*/true, &c) != Outcome::kOk) return false;
  *micros = ToMicros(c);
  return true;
}

StatusOr<DatePattern> DatePattern::Compile(std::string_view pattern) {
  DatePattern out;
  out.text_ = std::string(pattern);
  bool year = false, month = false, day = false, hour12 = false, ampm = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c != '%') {
      out.tokens_.push_back({'L', c});
      continue;
    }
    if (i + 1 == pattern.size()) {
      return InvalidArgumentError("date pattern '" + out.text_ + "' ends with a lone '%'");
    }
    char t = pattern[++i];
    switch (t) {
      case 'Y':
      case 'y': year = true; break;
      case 'm':
      case 'b':
      case 'B': month = true; break;
      case 'd':
      case 'e': day = true; t = 'd'; break;
      case 'I': hour12 = true; break;
      case 'p': ampm = true; break;
      case 'H':
      case 'M':
      case 'S':
      case 'f':
      case 'z': break;
      case '%': out.tokens_.push_back({'L', '%'}); continue;
      default:
        return InvalidArgumentError("unknown token '%" + std::string(1, t) + "' in date pattern '" + out.text_ +
                                    "'; supported: %Y %y %m %d %b %B %H %I %p %M %S %f %z %%");
    }
    if (t == 'B') t = 'b';
    out.tokens_.push_back({t, 0});
  }
  if (!year || !month || !day) {
    return InvalidArgumentError("date pattern '" + out.text_ + "' needs a year (%Y or %y), a month (%m or %b) and a day (%d)");
  }
  if (hour12 != ampm) return InvalidArgumentError("date pattern '" + out.text_ + "' must use %I together with %p");
  return out;
}

bool DatePattern::Parse(std::string_view text, int64_t* micros, int32_t* days) const {
  text = TrimAsciiWhitespace(text);
  const char* p = text.data();
  const char* end = p + text.size();
  CivilParts c;
  int hour12 = -1;
  int pm = -1;
  for (const Token& tok : tokens_) {
    switch (tok.kind) {
      case 'L':
        if (!Expect(p, end, tok.literal)) return false;
        break;
      case 'Y':
        if (!ReadNumber(p, end, 4, 4, &c.year)) return false;
        break;
      case 'y':
        if (!ReadNumber(p, end, 2, 2, &c.year)) return false;
        c.year += c.year < 69 ? 2000 : 1900;
        break;
      case 'm':
        if (!ReadNumber(p, end, 1, 2, &c.month)) return false;
        break;
      case 'd':
        if (!ReadNumber(p, end, 1, 2, &c.day)) return false;
        break;
      case 'b':
        if (!ReadMonthName(p, end, &c.month)) return false;
        break;
      case 'H':
        if (!ReadNumber(p, end, 1, 2, &c.hour)) return false;
        break;
      case 'I':
        if (!ReadNumber(p, end, 1, 2, &hour12) || hour12 < 1 || hour12 > 12) return false;
        break;
      case 'p':
        if (end - p < 2) return false;
        if (Lower(p[1]) != 'm') return false;
        if (Lower(p[0]) == 'a') {
          pm = 0;
        } else if (Lower(p[0]) == 'p') {
          pm = 1;
        } else {
          return false;
        }
        p += 2;
        break;
      case 'M':
        if (!ReadNumber(p, end, 1, 2, &c.minute)) return false;
        break;
      case 'S':
        if (!ReadNumber(p, end, 1, 2, &c.second)) return false;
        break;
      case 'f':
        if (!ReadFraction(p, end, &c.micros)) return false;
        break;
      case 'z':
        if (!ReadZone(p, end, &c.offset_minutes)) return false;
        break;
      default: return false;
    }
  }
  if (p != end) return false;
  if (hour12 >= 0) c.hour = (hour12 % 12) + (pm == 1 ? 12 : 0);
  if (Validate(c) != Outcome::kOk) return false;
  if (days) *days = DaysFromCivil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
  if (micros) *micros = ToMicros(c);
  return true;
}

bool DatePattern::ParseDate(std::string_view text, int32_t* days) const { return Parse(text, nullptr, days); }
bool DatePattern::ParseTimestamp(std::string_view text, int64_t* micros) const {
  return Parse(text, micros, nullptr);
}

// ---------------------------------------------------------------- ValueParser

StatusOr<ValueParser> ValueParser::Create(DataType type, ValueFormat format) {
  ValueParser p;
  p.type_ = type;
  if (format.date_style == DateStyle::kPattern) {
    CDP_ASSIGN_OR_RETURN(p.pattern_, DatePattern::Compile(format.pattern));
    p.has_pattern_ = true;
  }
  p.plain_numbers_ = !format.decimal_comma && format.thousands_separator == '\0';
  p.iso_dates_ = format.date_style == DateStyle::kAuto || format.date_style == DateStyle::kIso;
  p.format_ = std::move(format);
  return p;
}

bool ValueParser::ParseDateFull(std::string_view text, int32_t* days) const {
  if (has_pattern_) return pattern_.ParseDate(text, days);
  return cdp::ParseDate(text, format_.date_style, days);
}

bool ValueParser::ParseTimestampFull(std::string_view text, int64_t* micros) const {
  if (has_pattern_) return pattern_.ParseTimestamp(text, micros);
  return cdp::ParseTimestamp(text, format_.date_style, micros);
}

std::string ValueParser::Describe() const {
  std::string out(DataTypeName(type_));
  if (type_ == DataType::kDate || type_ == DataType::kTimestamp) {
    if (has_pattern_) {
      out += " (" + format_.pattern + ")";
    } else if (format_.date_style != DateStyle::kAuto) {
      out += " (" + std::string(DateStyleName(format_.date_style)) + ")";
    }
  } else if (type_ == DataType::kDouble && format_.decimal_comma) {
    out += " (decimal comma)";
  }
  return out;
}

std::string ValueParser::FailureReason(std::string_view text) const {
  std::string shown(1, '\'');
  shown += Shorten(text);
  shown += '\'';
  std::string_view t = TrimAsciiWhitespace(text);
  switch (type_) {
    case DataType::kInt64: {
      // Distinguish overflow from syntax.
      bool digits = !t.empty();
      for (size_t i = (t.size() > 0 && (t[0] == '-' || t[0] == '+')) ? 1 : 0; i < t.size(); ++i) {
        if (!IsDigit(t[i]) && t[i] != format_.thousands_separator) digits = false;
      }
      if (digits && t.size() > 1) return shown + " is out of range for int64";
      return shown + " is not a valid int64";
    }
    case DataType::kDouble: return shown + " is not a valid " + Describe();
    case DataType::kBool: return shown + " is not a valid bool (true/false, yes/no, y/n, t/f, 1/0)";
    case DataType::kString: return shown + " is not a valid string";
    case DataType::kDate:
    case DataType::kTimestamp: {
      std::string base = shown + " is not a valid " + std::string(DataTypeName(type_));
      if (has_pattern_) return base + " (" + format_.pattern + ")";
      DateStyle style = format_.date_style == DateStyle::kAuto ? ResolveAutoStyle(t) : format_.date_style;
      base += " (" + std::string(DateStyleName(style)) + ")";
      CivilParts c;
      Outcome o = ParseStyled(t, style, type_ == DataType::kTimestamp, &c);
      if (o == Outcome::kCalendar) return base + ": " + CalendarDetail(c);
      if (o == Outcome::kTime) return base + ": time of day out of range";
      return base;
    }
  }
  return shown + " is not valid";
}

}  // namespace cdp
