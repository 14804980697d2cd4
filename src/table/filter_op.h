// The operators of a row filter, shared by source filters (ingest) and
// measure filters (engine): one enum and one spelling of each name.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cdp {

enum class FilterOp : uint8_t {
  kEquals,
  kNotEquals,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kIn,
  kNotIn,
  kIsEmpty,
  kIsNotEmpty,
  kContains,    // strings only: substring
  kStartsWith,  // strings only: prefix
};
// "equals", "not_equals", "less", "less_equal", "greater", "greater_equal",
// "in", "not_in", "is_empty", "is_not_empty", "contains", "starts_with".
std::string_view FilterOpName(FilterOp op);
// The operator named `name` (exactly as above); nullopt for any other text.
std::optional<FilterOp> ParseFilterOp(std::string_view name);

}  // namespace cdp
