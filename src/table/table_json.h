// JSON views of table values: numbers and booleans as JSON numbers and
// booleans, dates and timestamps as ISO text, nulls as null, non-finite
// doubles as text. Used by the CLI's --json output and the REST API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "table/column.h"

namespace cdp {

nlohmann::json ValueToJson(const Column& column, size_t row);
// One row as an object keyed by field name, in schema order.
nlohmann::ordered_json RowToJson(const Table& table, size_t row);

// The same JSON written straight into a string, for hot paths that would
// otherwise build a document only to print it (customer cards, activity
// Fields). Strings are escaped; bytes that are not valid UTF-8 become U+FFFD.
void AppendJsonString(std::string* out, std::string_view s);
void AppendValueJson(std::string* out, const Column& column, size_t row);
// {"field": value, ...} in schema order, leaving out the field named `skip`.
void AppendRowJson(std::string* out, const Table& table, size_t row, std::string_view skip = {});

}  // namespace cdp
