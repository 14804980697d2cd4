// The segment condition operators in one table: each operator's name, the
// kinds of field it applies to, how many values and which unit it takes, and
// the label a form shows for it. Parsing (ConditionOpName/ParseConditionOp),
// validation, evaluation and the server's operator metadata for the web UI
// all read this table; nothing else lists operators. Constant data and pure
// functions: thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "segment/segment_definition.h"
#include "table/types.h"

namespace cdp {

// What a condition compares: the kind of its field's type.
enum class ValueKind { kNumber, kString, kDate, kBool };
// kInt64/kDouble -> number, kDate/kTimestamp -> date, kBool -> boolean, kString -> text.
ValueKind KindOf(DataType t);
// "number", "text", "date", "boolean".
std::string_view ValueKindName(ValueKind k);
inline constexpr ValueKind kAllValueKinds[] = {ValueKind::kNumber, ValueKind::kString, ValueKind::kDate,
                                               ValueKind::kBool};

// Which `unit` an operator takes.
enum class OperatorUnit {
  kNone,    // none (a unit other than the default is a validation problem)
  kSpan,    // days, weeks, months, quarters, years (in_last, in_next)
  kPeriod,  // month, quarter, year (this_period, last_period)
};

struct SegmentOperator {
  ConditionOp op;
  std::string_view name;  // as written in a definition: "greater_equal"
  uint8_t applies;        // bit (1 << ValueKind) per kind of field it accepts
  uint8_t offered;        // kinds whose operator menu lists it; aliases (`equals` on a date is `on`)
                          // are accepted but not offered
  int values;             // 0, 1, 2, or -1 for "one or more"
  OperatorUnit unit;
  std::string_view label;       // for a form: "greater than or equal to"
  std::string_view date_label;  // the label on date fields when it differs ("not on"), else empty
};

// Every operator (ConditionOp::kNone excluded), in menu order: the operators
// offered for a kind, in this order, make that kind's menu.
std::span<const SegmentOperator> SegmentOperators();
// The entry of `op`; nullptr for kNone.
const SegmentOperator* FindSegmentOperator(ConditionOp op);
// The operators offered for fields of kind `k`, in menu order.
std::vector<const SegmentOperator*> OperatorsOffered(ValueKind k);
// The label of `op` on a field of kind `k`.
std::string_view OperatorLabel(const SegmentOperator& op, ValueKind k);
// Unit names a definition may give with `unit` ("days".."years" or "month".."year"); empty for kNone.
std::vector<std::string_view> OperatorUnitNames(OperatorUnit u);

// Whether `op` applies to fields of kind `k` (aliases included).
bool OpApplies(ConditionOp op, ValueKind k);
// Operators that apply to kind `k`, comma separated (for messages).
std::string OpsFor(ValueKind k);
// Number of values `op` takes: exact count, or -1 for "one or more".
int ValueCount(ConditionOp op);
// in_last, in_next, this_period, last_period.
bool OpUsesUnit(ConditionOp op);

}  // namespace cdp
