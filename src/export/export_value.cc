#include "export/export_value.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "common/datetime.h"
#include "table/table_json.h"

namespace cdp {
namespace {

// Significant digits of a number written by std::to_chars: the mantissa's
// digits without leading and trailing zeros ("0.30000000000000004": 17,
// "12300": 3, "1e+21": 1).
size_t SignificantDigits(std::string_view text) {
  size_t end = text.find_first_of("eE");
  if (end == std::string_view::npos) end = text.size();
  size_t count = 0;       // digits from the first nonzero one
  size_t significant = 0;  // ... up to the last nonzero one
  for (size_t i = 0; i < end; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') continue;
    if (count == 0 && c == '0') continue;
    ++count;
    if (c != '0') significant = count;
  }
  return significant;
}

std::string Shortest(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// Digits of the shortest decimal that reads back to v. Counted on the
// scientific form: the plain form of a large integer-valued double holds all
// its integer digits (43972223505400096 for 4.39722235054001e16).
size_t ShortestDigits(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return SignificantDigits(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

// Units in the last place between two finite doubles of the same sign.
uint64_t UlpDistance(double a, double b) {
  const int64_t ia = std::bit_cast<int64_t>(a);
  const int64_t ib = std::bit_cast<int64_t>(b);
  return ia > ib ? static_cast<uint64_t>(ia) - static_cast<uint64_t>(ib)
                 : static_cast<uint64_t>(ib) - static_cast<uint64_t>(ia);
}

constexpr size_t kMaxSnappedDigits = 12;
constexpr uint64_t kMaxNoiseUlps = 16;

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, the whole text.
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

}  // namespace

std::optional<std::string> FormatExportDouble(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  if (v == 0) return std::string("0");  // also -0
  // A double with a decimal of 15 significant digits or fewer is written as
  // that decimal already (15 digits always survive a trip through a double).
  if (ShortestDigits(v) <= 15) return Shortest(v);
  // Round to 14 significant digits: a double within 16 ulps (< 3.6e-15
  // relative) of a decimal of at most 12 digits rounds to that decimal, as
  // half a unit of the 14th digit is at least 5e-15 relative.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific, 13);
  std::string_view rounded(buf, static_cast<size_t>(r.ptr - buf));
  if (SignificantDigits(rounded) > kMaxSnappedDigits) return Shortest(v);
  double candidate = 0;
  auto p = std::from_chars(rounded.data(), rounded.data() + rounded.size(), candidate);
  if (p.ec != std::errc() || !std::isfinite(candidate) || (candidate < 0) != (v < 0)) return Shortest(v);
  if (UlpDistance(candidate, v) > kMaxNoiseUlps) return Shortest(v);
  return Shortest(candidate);
}

std::optional<std::string> FormatExportValue(const Column& column, size_t row) {
  if (column.IsNull(row)) return std::nullopt;
  switch (column.type()) {
    case DataType::kInt64: return std::to_string(column.Int64At(row));
    case DataType::kDouble: return FormatExportDouble(column.DoubleAt(row));
    case DataType::kBool: return std::string(column.BoolAt(row) ? "true" : "false");
    case DataType::kDate: return FormatDate(column.DateAt(row));
    case DataType::kTimestamp: return FormatTimestamp(column.TimestampAt(row));
    case DataType::kString: return std::string(column.StringAt(row));
  }
  return std::nullopt;
}

void AppendCsvField(std::string* out, std::string_view v) {
  const bool quote = v.empty() || v.find_first_of(",\"\r\n") != std::string_view::npos || v.front() == ' ' ||
                     v.back() == ' ';
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  size_t i = 0;
  while (i < v.size()) {
    const size_t q = v.find('"', i);
    if (q == std::string_view::npos) {
      out->append(v.substr(i));
      break;
    }
    out->append(v.substr(i, q + 1 - i));
    out->push_back('"');
    i = q + 1;
  }
  out->push_back('"');
}

void AppendCsvRecord(std::string* out, const std::vector<std::optional<std::string>>& values) {
  for (size_t k = 0; k < values.size(); ++k) {
    if (k) out->push_back(',');
    if (values[k]) AppendCsvField(out, *values[k]);
  }
  out->push_back('\n');
}

void AppendCsvHeader(std::string* out, const std::vector<ExportField>& fields) {
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k) out->push_back(',');
    AppendCsvField(out, fields[k].name);
  }
  out->push_back('\n');
}

void AppendJsonExportValue(std::string* out, DataType type, const std::optional<std::string>& value) {
  if (!value) {
    out->append("null");
    return;
  }
  switch (type) {
    case DataType::kInt64:
    case DataType::kDouble:
      if (IsJsonNumber(*value)) {
        out->append(*value);
        return;
      }
      break;
    case DataType::kBool:
      if (*value == "true" || *value == "false") {
        out->append(*value);
        return;
      }
      break;
    default: break;
  }
  AppendJsonString(out, *value);
}

void AppendJsonRecord(std::string* out, const std::vector<ExportField>& fields,
                      const std::vector<std::optional<std::string>>& values) {
  out->push_back('{');
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k) out->push_back(',');
    AppendJsonString(out, fields[k].name);
    out->push_back(':');
    static const std::optional<std::string> kNull;
    AppendJsonExportValue(out, fields[k].type, k < values.size() ? values[k] : kNull);
  }
  out->append("}\n");
}

}  // namespace cdp
