#include "segment/segment_operators.h"

namespace cdp {
namespace {

constexpr uint8_t Bit(ValueKind k) { return static_cast<uint8_t>(1u << static_cast<unsigned>(k)); }
constexpr uint8_t kNum = Bit(ValueKind::kNumber);
constexpr uint8_t kText = Bit(ValueKind::kString);
constexpr uint8_t kDate = Bit(ValueKind::kDate);
constexpr uint8_t kBool = Bit(ValueKind::kBool);
constexpr uint8_t kAll = kNum | kText | kDate | kBool;

using O = ConditionOp;
using U = OperatorUnit;

// Menu order: each kind's menu is its offered operators in this order.
constexpr SegmentOperator kOperators[] = {
    // op                 name                  applies              offered       values unit       label
    {O::kOn, "on", kDate, kDate, 1, U::kNone, "on", {}},
    {O::kEquals, "equals", kAll, kNum | kText, 1, U::kNone, "equals", {}},
    {O::kNotEquals, "not_equals", kAll, kNum | kText | kDate, 1, U::kNone, "does not equal", "not on"},
    {O::kGreater, "greater", kNum | kDate, kNum, 1, U::kNone, "greater than", {}},
    {O::kGreaterEqual, "greater_equal", kNum | kDate, kNum, 1, U::kNone, "greater than or equal to", {}},
    {O::kLess, "less", kNum | kDate, kNum, 1, U::kNone, "less than", {}},
    {O::kLessEqual, "less_equal", kNum | kDate, kNum, 1, U::kNone, "less than or equal to", {}},
    {O::kBefore, "before", kDate, kDate, 1, U::kNone, "before", {}},
    {O::kAfter, "after", kDate, kDate, 1, U::kNone, "after", {}},
    {O::kOnOrBefore, "on_or_before", kDate, kDate, 1, U::kNone, "on or before", {}},
    {O::kOnOrAfter, "on_or_after", kDate, kDate, 1, U::kNone, "on or after", {}},
    {O::kBetween, "between", kNum | kDate, kNum | kDate, 2, U::kNone, "between", {}},
    {O::kContains, "contains", kText, kText, 1, U::kNone, "contains", {}},
    {O::kNotContains, "not_contains", kText, kText, 1, U::kNone, "does not contain", {}},
    {O::kStartsWith, "starts_with", kText, kText, 1, U::kNone, "starts with", {}},
    {O::kEndsWith, "ends_with", kText, kText, 1, U::kNone, "ends with", {}},
    {O::kIn, "in", kNum | kText, kNum | kText, -1, U::kNone, "is one of", {}},
    {O::kNotIn, "not_in", kNum | kText, kNum | kText, -1, U::kNone, "is none of", {}},
    {O::kInLast, "in_last", kDate, kDate, 1, U::kSpan, "in the last", {}},
    {O::kInNext, "in_next", kDate, kDate, 1, U::kSpan, "in the next", {}},
    {O::kThisPeriod, "this_period", kDate, kDate, 0, U::kPeriod, "this", {}},
    {O::kLastPeriod, "last_period", kDate, kDate, 0, U::kPeriod, "last", {}},
    {O::kAnniversaryWithin, "anniversary_within", kDate, kDate, 1, U::kNone, "anniversary within (days)", {}},
    {O::kIsTrue, "is_true", kBool, kBool, 0, U::kNone, "is true", {}},
    {O::kIsFalse, "is_false", kBool, kBool, 0, U::kNone, "is false", {}},
    {O::kIsEmpty, "is_empty", kAll, kAll, 0, U::kNone, "is empty", {}},
    {O::kIsNotEmpty, "is_not_empty", kAll, kAll, 0, U::kNone, "is not empty", {}},
};

}  // namespace

ValueKind KindOf(DataType t) {
  switch (t) {
    case DataType::kInt64:
    case DataType::kDouble: return ValueKind::kNumber;
    case DataType::kDate:
    case DataType::kTimestamp: return ValueKind::kDate;
    case DataType::kBool: return ValueKind::kBool;
    case DataType::kString: return ValueKind::kString;
  }
  return ValueKind::kString;
}

std::string_view ValueKindName(ValueKind k) {
  switch (k) {
    case ValueKind::kNumber: return "number";
    case ValueKind::kString: return "text";
    case ValueKind::kDate: return "date";
    case ValueKind::kBool: return "boolean";
  }
  return "text";
}

std::span<const SegmentOperator> SegmentOperators() { return kOperators; }

const SegmentOperator* FindSegmentOperator(ConditionOp op) {
  for (const auto& o : kOperators) {
    if (o.op == op) return &o;
  }
  return nullptr;
}

std::vector<const SegmentOperator*> OperatorsOffered(ValueKind k) {
  std::vector<const SegmentOperator*> out;
  for (const auto& o : kOperators) {
    if (o.offered & Bit(k)) out.push_back(&o);
  }
  return out;
}

std::string_view OperatorLabel(const SegmentOperator& op, ValueKind k) {
  return k == ValueKind::kDate && !op.date_label.empty() ? op.date_label : op.label;
}

std::vector<std::string_view> OperatorUnitNames(OperatorUnit u) {
  switch (u) {
    case OperatorUnit::kNone: return {};
    case OperatorUnit::kSpan: return {"days", "weeks", "months", "quarters", "years"};
    case OperatorUnit::kPeriod: return {"month", "quarter", "year"};
  }
  return {};
}

bool OpApplies(ConditionOp op, ValueKind k) {
  const SegmentOperator* o = FindSegmentOperator(op);
  return o != nullptr && (o->applies & Bit(k)) != 0;
}

std::string OpsFor(ValueKind k) {
  std::string out;
  for (const auto& o : kOperators) {
    if (!(o.applies & Bit(k))) continue;
    if (!out.empty()) out += ", ";
    out += o.name;
  }
  return out;
}

int ValueCount(ConditionOp op) {
  const SegmentOperator* o = FindSegmentOperator(op);
  return o ? o->values : 1;
}

bool OpUsesUnit(ConditionOp op) {
  const SegmentOperator* o = FindSegmentOperator(op);
  return o != nullptr && o->unit != OperatorUnit::kNone;
}

}  // namespace cdp
