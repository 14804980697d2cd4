// Small helpers shared by the measure engine's files: type classes, the
// validity bit of a row, error messages that name the measure. Internal to
// engine/. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/model_config.h"
#include "table/column.h"

namespace cdp::engine_internal {

inline bool IsNumber(DataType t) { return t == DataType::kInt64 || t == DataType::kDouble; }
inline bool IsTime(DataType t) { return t == DataType::kDate || t == DataType::kTimestamp; }
// Types with an order for min/max and order_by.
inline bool IsOrdered(DataType t) { return t != DataType::kBool; }

// Bit i of a validity bitmap (1 = not null).
inline bool Bit(const uint64_t* v, size_t i) { return (v[i >> 6] >> (i & 63)) & 1u; }

inline std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// "a, b, c": the field names of `s`, for messages.
inline std::string FieldList(const Schema& s) {
  std::string out;
  for (const auto& f : s.fields()) out += (out.empty() ? "" : ", ") + f.name;
  return out;
}

// InvalidArgument "measure 'NAME': what".
inline Status MeasureError(const MeasureConfig& m, const std::string& what) {
  return InvalidArgumentError("measure '" + m.name + "': " + what);
}

}  // namespace cdp::engine_internal
