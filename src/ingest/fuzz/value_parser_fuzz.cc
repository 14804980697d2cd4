// libFuzzer target of the value parsers (ingest/value_parser.h). The first
// byte chooses the date style, decimal comma and thousands separator; the
// rest is "pattern\0value" (or just the value). Checks, for every type:
// - ValueParser (with its inline fast paths) gives exactly the results of the
//   free parsers, or of a DatePattern, in the same format (bitwise for doubles);
// - a parsed date or timestamp prints (FormatDate/FormatTimestamp) to text
//   that parses back to the same value;
// - ParseDateFormat, FailureReason and Describe never crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/datetime.h"
#include "ingest/value_parser.h"

namespace {

[[noreturn]] void Fail(const std::string& what, std::string_view text) {
  fprintf(stderr, "value_parser_fuzz: %s for '%.*s'\n", what.c_str(), static_cast<int>(text.size()), text.data());
  abort();
}

cdp::ValueParser Make(cdp::DataType type, const cdp::ValueFormat& format) {
  auto p = cdp::ValueParser::Create(type, format);
  if (!p.ok()) Fail("ValueParser::Create failed with a valid format: " + p.status().ToString(), format.pattern);
  return *p;
}

void CheckNumbers(const cdp::ValueFormat& format, std::string_view text) {
  cdp::ValueParser ints = Make(cdp::DataType::kInt64, format);
  int64_t a = 0, b = 0;
  bool pa = ints.ParseInt64(text, &a);
  bool pb = cdp::ParseInt64(text, &b, format.thousands_separator);
  if (pa != pb || (pa && a != b)) Fail("ValueParser::ParseInt64 differs from ParseInt64", text);
  if (!pa) (void)ints.FailureReason(text);

  cdp::ValueParser doubles = Make(cdp::DataType::kDouble, format);
  double x = 0, y = 0;
  bool px = doubles.ParseDouble(text, &x);
  bool py = cdp::ParseDouble(text, &y, format.decimal_comma, format.thousands_separator);
  if (px != py || (px && std::memcmp(&x, &y, sizeof x) != 0)) Fail("ValueParser::ParseDouble differs from ParseDouble", text);
  if (px && (x != x)) Fail("ParseDouble accepted a NaN", text);
  if (!px) (void)doubles.FailureReason(text);

  cdp::ValueParser bools = Make(cdp::DataType::kBool, format);
  bool u = false, v = false;
  bool pu = bools.ParseBool(text, &u);
  bool pv = cdp::ParseBool(text, &v);
  if (pu != pv || (pu && u != v)) Fail("ValueParser::ParseBool differs from ParseBool", text);
  if (!pu) (void)bools.FailureReason(text);
  (void)ints.Describe();
  (void)doubles.Describe();
}

void CheckDates(const cdp::ValueFormat& format, std::string_view text) {
  auto date_parser = cdp::ValueParser::Create(cdp::DataType::kDate, format);
  auto ts_parser = cdp::ValueParser::Create(cdp::DataType::kTimestamp, format);
  if (format.date_style == cdp::DateStyle::kPattern) {
    auto pattern = cdp::DatePattern::Compile(format.pattern);
    if (pattern.ok() != date_parser.ok() || pattern.ok() != ts_parser.ok()) {
      Fail("DatePattern::Compile and ValueParser::Create disagree", format.pattern);
    }
    if (!pattern.ok()) return;
    int32_t d1 = 0, d2 = 0;
    bool p1 = date_parser->ParseDate(text, &d1);
    bool p2 = pattern->ParseDate(text, &d2);
    if (p1 != p2 || (p1 && d1 != d2)) Fail("ValueParser::ParseDate differs from the DatePattern", text);
    int64_t t1 = 0, t2 = 0;
    bool q1 = ts_parser->ParseTimestamp(text, &t1);
    bool q2 = pattern->ParseTimestamp(text, &t2);
    if (q1 != q2 || (q1 && t1 != t2)) Fail("ValueParser::ParseTimestamp differs from the DatePattern", text);
    if (!p1) (void)date_parser->FailureReason(text);
    if (!q1) (void)ts_parser->FailureReason(text);
    (void)ts_parser->Describe();
    return;
  }
  if (!date_parser.ok() || !ts_parser.ok()) Fail("ValueParser::Create failed without a pattern", text);
  int32_t d1 = 0, d2 = 0;
  bool p1 = date_parser->ParseDate(text, &d1);
  bool p2 = cdp::ParseDate(text, format.date_style, &d2);
  if (p1 != p2 || (p1 && d1 != d2)) Fail("ValueParser::ParseDate differs from ParseDate", text);
  if (p1) {
    int32_t back = 0;
    std::string iso = cdp::FormatDate(d1);
    if (!cdp::ParseDate(iso, cdp::DateStyle::kIso, &back) || back != d1) Fail("date does not round-trip via " + iso, text);
  } else {
    (void)date_parser->FailureReason(text);
  }
  int64_t t1 = 0, t2 = 0;
  bool q1 = ts_parser->ParseTimestamp(text, &t1);
  bool q2 = cdp::ParseTimestamp(text, format.date_style, &t2);
  if (q1 != q2 || (q1 && t1 != t2)) Fail("ValueParser::ParseTimestamp differs from ParseTimestamp", text);
  if (q1) {
    int64_t back = 0;
    std::string iso = cdp::FormatTimestamp(t1);
    if (!cdp::ParseTimestamp(iso, cdp::DateStyle::kIso, &back) || back != t1) {
      Fail("timestamp does not round-trip via " + iso, text);
    }
  } else {
    (void)ts_parser->FailureReason(text);
  }
  (void)date_parser->Describe();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t o = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view pattern;
  std::string_view text = rest;
  if (size_t nul = rest.find('\0'); nul != std::string_view::npos) {
    pattern = rest.substr(0, nul);
    text = rest.substr(nul + 1);
  }
  cdp::ValueFormat format;
  format.date_style = static_cast<cdp::DateStyle>(o % 7);
  if (format.date_style == cdp::DateStyle::kPattern) format.pattern = std::string(pattern);
  format.decimal_comma = (o & 0x08) != 0;
  static const char kSeparators[] = {'\0', ',', '.', ' ', '\'', '_', '\0', ','};
  format.thousands_separator = kSeparators[(o >> 4) & 7];
  if (format.decimal_comma && format.thousands_separator == ',') format.thousands_separator = '.';
  (void)cdp::ParseDateFormat(pattern.empty() ? text : pattern);
  cdp::ValueFormat numbers = format;  // Create compiles a date pattern for any type
  numbers.date_style = cdp::DateStyle::kAuto;
  numbers.pattern.clear();
  CheckNumbers(numbers, text);
  CheckDates(format, text);
  return 0;
}
