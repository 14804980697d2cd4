#include "table/filter_op.h"

#include <iterator>

namespace cdp {
namespace {

constexpr std::string_view kOpNames[] = {"equals",  "not_equals", "less",     "less_equal",   "greater",  "greater_equal",
                                         "in",      "not_in",     "is_empty", "is_not_empty", "contains", "starts_with"};

}  // namespace

std::string_view FilterOpName(FilterOp op) { return kOpNames[static_cast<size_t>(op)]; }

std::optional<FilterOp> ParseFilterOp(std::string_view name) {
  for (size_t i = 0; i < std::size(kOpNames); ++i) {
    if (kOpNames[i] == name) return static_cast<FilterOp>(i);
  }
  return std::nullopt;
}

}  // namespace cdp
