// Values as exported text: the one way a table value becomes the text a
// destination receives (files, PostgreSQL, webhooks, SFTP, ClickHouse) and
// `cdp show --format` and `cdp segment members` print, plus the CSV (RFC
// 4180) and JSON Lines record writers built on it. Pure functions; thread-safe.
//
// Values (FormatExportValue):
// - null: nullopt.
// - int64: decimal digits ("-12").
// - double: the shortest text that reads back to the same double
//   (std::to_chars: 0.1, 437.66, 3 rather than 3.0, 1e+21), except that a
//   double lying within 16 units in the last place of a decimal with at most
//   12 significant digits is written as that decimal: sums of amounts carry
//   such noise (100.1 + 337.56 is the double 437.65999999999997, written
//   437.66), while genuine results of division keep every digit
//   (139.82666666666668). -0 is written 0. NaN and infinities have no
//   portable text in CSV, JSON or SQL and are written as null (nullopt).
// - date: YYYY-MM-DD.
// - timestamp: ISO 8601 UTC with Z, YYYY-MM-DDTHH:MM:SSZ, with .ffffff only
//   when the microseconds are not zero.
// - bool: true / false.
// - string: as stored (UTF-8).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "export/destination.h"
#include "table/column.h"
#include "table/types.h"

namespace cdp {

// Row `row` of `column` as exported text (see above); nullopt for null, NaN
// and infinities. `row` must be < column.size().
std::optional<std::string> FormatExportValue(const Column& column, size_t row);

// A double as exported text (see above); nullopt for NaN and infinities.
std::optional<std::string> FormatExportDouble(double value);

// Appends one CSV field per RFC 4180: quoted ("..." with inner quotes
// doubled) when it holds a comma, a quote, CR or LF, or starts or ends with
// a space; an empty string is written "" so that it differs from a null,
// which is an empty unquoted field (as PostgreSQL's COPY reads them). Bytes
// are copied as they are (UTF-8 in, UTF-8 out).
void AppendCsvField(std::string* out, std::string_view value);

// One CSV record: the fields separated by ',' (nullopt: an empty unquoted
// field), ended by '\n'.
void AppendCsvRecord(std::string* out, const std::vector<std::optional<std::string>>& values);
void AppendCsvHeader(std::string* out, const std::vector<ExportField>& fields);

// One JSON value for exported text of type `type`: null for nullopt; int64
// and double as JSON numbers and bool as true/false when the text is one
// (else as a JSON string); dates, timestamps and strings as JSON strings
// (escaped; invalid UTF-8 becomes U+FFFD).
void AppendJsonExportValue(std::string* out, DataType type, const std::optional<std::string>& value);

// One JSON Lines record: {"field": value, ...} in field order, ended by
// '\n'. `values` has one entry per field.
void AppendJsonRecord(std::string* out, const std::vector<ExportField>& fields,
                      const std::vector<std::optional<std::string>>& values);

}  // namespace cdp
