#include "segment/segment_operators.h"

#include <gtest/gtest.h>

#include <set>

namespace cdp {
namespace {

std::vector<std::string> Menu(ValueKind k) {
  std::vector<std::string> out;
  for (const SegmentOperator* o : OperatorsOffered(k)) out.push_back(std::string(o->name) + "=" + std::string(OperatorLabel(*o, k)));
  return out;
}

TEST(SegmentOperatorsTest, EveryConditionOpHasOneEntryWithItsName) {
  std::set<std::string_view> names;
  for (int i = 1; i <= static_cast<int>(ConditionOp::kIsFalse); ++i) {
    auto op = static_cast<ConditionOp>(i);
    const SegmentOperator* o = FindSegmentOperator(op);
    ASSERT_NE(o, nullptr) << i;
    EXPECT_EQ(o->op, op);
    EXPECT_EQ(ParseConditionOp(o->name), op);
    EXPECT_EQ(ConditionOpName(op), o->name);
    EXPECT_TRUE(names.insert(o->name).second) << o->name;
    EXPECT_NE(o->offered, 0) << o->name << " is offered for no kind";
    EXPECT_EQ(o->offered & ~o->applies, 0) << o->name << " is offered where it does not apply";
  }
  EXPECT_EQ(SegmentOperators().size(), names.size());
  EXPECT_EQ(FindSegmentOperator(ConditionOp::kNone), nullptr);
  EXPECT_EQ(ConditionOpName(ConditionOp::kNone), "none");
}

TEST(SegmentOperatorsTest, MenusPerKindInOrderWithLabels) {
  EXPECT_EQ(Menu(ValueKind::kNumber),
            (std::vector<std::string>{"equals=equals", "not_equals=does not equal", "greater=greater than",
                                      "greater_equal=greater than or equal to", "less=less than",
                                      "less_equal=less than or equal to", "between=between", "in=is one of",
                                      "not_in=is none of", "is_empty=is empty", "is_not_empty=is not empty"}));
  EXPECT_EQ(Menu(ValueKind::kString),
            (std::vector<std::string>{"equals=equals", "not_equals=does not equal", "contains=contains",
                                      "not_contains=does not contain", "starts_with=starts with",
                                      "ends_with=ends with", "in=is one of", "not_in=is none of",
                                      "is_empty=is empty", "is_not_empty=is not empty"}));
  EXPECT_EQ(Menu(ValueKind::kDate),
            (std::vector<std::string>{"on=on", "not_equals=not on", "before=before", "after=after",
                                      "on_or_before=on or before", "on_or_after=on or after", "between=between",
                                      "in_last=in the last", "in_next=in the next", "this_period=this",
                                      "last_period=last", "anniversary_within=anniversary within (days)",
                                      "is_empty=is empty", "is_not_empty=is not empty"}));
  EXPECT_EQ(Menu(ValueKind::kBool), (std::vector<std::string>{"is_true=is true", "is_false=is false",
                                                              "is_empty=is empty", "is_not_empty=is not empty"}));
}

TEST(SegmentOperatorsTest, AliasesApplyWithoutBeingOffered) {
  EXPECT_TRUE(OpApplies(ConditionOp::kEquals, ValueKind::kDate));
  EXPECT_TRUE(OpApplies(ConditionOp::kLess, ValueKind::kDate));
  EXPECT_TRUE(OpApplies(ConditionOp::kEquals, ValueKind::kBool));
  EXPECT_FALSE(OpApplies(ConditionOp::kIn, ValueKind::kDate));
  EXPECT_FALSE(OpApplies(ConditionOp::kContains, ValueKind::kNumber));
  EXPECT_FALSE(OpApplies(ConditionOp::kGreater, ValueKind::kBool));
  EXPECT_FALSE(OpApplies(ConditionOp::kNone, ValueKind::kNumber));
  EXPECT_EQ(OpsFor(ValueKind::kBool), "equals, not_equals, is_true, is_false, is_empty, is_not_empty");
}

TEST(SegmentOperatorsTest, ValueCountsAndUnits) {
  EXPECT_EQ(ValueCount(ConditionOp::kBetween), 2);
  EXPECT_EQ(ValueCount(ConditionOp::kIn), -1);
  EXPECT_EQ(ValueCount(ConditionOp::kThisPeriod), 0);
  EXPECT_EQ(ValueCount(ConditionOp::kIsEmpty), 0);
  EXPECT_EQ(ValueCount(ConditionOp::kInLast), 1);
  EXPECT_TRUE(OpUsesUnit(ConditionOp::kInNext));
  EXPECT_TRUE(OpUsesUnit(ConditionOp::kLastPeriod));
  EXPECT_FALSE(OpUsesUnit(ConditionOp::kAnniversaryWithin));
  EXPECT_EQ(OperatorUnitNames(FindSegmentOperator(ConditionOp::kInLast)->unit),
            (std::vector<std::string_view>{"days", "weeks", "months", "quarters", "years"}));
  EXPECT_EQ(OperatorUnitNames(FindSegmentOperator(ConditionOp::kThisPeriod)->unit),
            (std::vector<std::string_view>{"month", "quarter", "year"}));
  EXPECT_TRUE(OperatorUnitNames(FindSegmentOperator(ConditionOp::kEquals)->unit).empty());
}

TEST(SegmentOperatorsTest, KindsOfTypes) {
  EXPECT_EQ(KindOf(DataType::kInt64), ValueKind::kNumber);
  EXPECT_EQ(KindOf(DataType::kDouble), ValueKind::kNumber);
  EXPECT_EQ(KindOf(DataType::kTimestamp), ValueKind::kDate);
  EXPECT_EQ(KindOf(DataType::kString), ValueKind::kString);
  EXPECT_EQ(ValueKindName(ValueKind::kString), "text");
  EXPECT_EQ(ValueKindName(ValueKind::kBool), "boolean");
}

}  // namespace
}  // namespace cdp
