// JSON views of table values: numbers and booleans as JSON numbers and
// booleans, dates and timestamps as ISO text, nulls as null, non-finite
// doubles as text. Used by the CLI's --json output and the REST API.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>

#include "table/column.h"

namespace cdp {

nlohmann::json ValueToJson(const Column& column, size_t row);
// One row as an object keyed by field name, in schema order.
nlohmann::ordered_json RowToJson(const Table& table, size_t row);

}  // namespace cdp
