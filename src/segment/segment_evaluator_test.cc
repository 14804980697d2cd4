#include "segment/segment_evaluator.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/datetime.h"

namespace cdp {
namespace {

int32_t D(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }
constexpr int64_t kDayUs = 86400LL * 1000000;
constexpr int32_t kNoDate = INT32_MIN;

// Six customers of the lab:
//   0 Ann   California   1985-06-10  Vip    AvgWeb 150  AvgStore 120
//   1 Bob   Washington   1970-01-01  -      AvgWeb 100  AvgStore 130
//   2 Cy    california   1996-12-31  no     AvgWeb null AvgStore 113
//   3 Di    null         null        yes    AvgWeb 138  AvgStore 50
//   4 Ed    ""           1992-02-29  no     AvgWeb 139  AvgStore 200
//   5 Flo   Texas        1981-01-01  null   AvgWeb 10   AvgStore null
// Online purchases (customer, price, timestamp, product), run date 2024-03-01.
struct Lab {
  Table customer{Schema({{"Name", DataType::kString, {}},
                         {"State", DataType::kString, {}},
                         {"DateOfBirth", DataType::kDate, {}},
                         {"Vip", DataType::kBool, {}},
                         {"Age", DataType::kInt64, {}}})};
  Table measure{Schema({{"AverageWebPurchase", DataType::kDouble, {}}, {"AverageStorePurchase", DataType::kDouble, {}}})};
  std::shared_ptr<Table> purchases;
  EntityByCustomer purchases_by;
  SegmentData data;
  int32_t run = D(2024, 3, 1);

  Lab() {
    struct C {
      const char* name;
      const char* state;  // nullptr = null
      int32_t dob;        // kNoDate = null
      int vip;            // -1 = null
      int64_t age;
      double web, store;  // < 0 = null
    };
    std::vector<C> cs = {{"Ann", "California", D(1985, 6, 10), 1, 38, 150, 120},
                         {"Bob", "Washington", D(1970, 1, 1), -1, 54, 100, 130},
                         {"Cy", "california", D(1996, 12, 31), 0, 27, -1, 113},
                         {"Di", nullptr, kNoDate, 1, 40, 138, 50},
                         {"Ed", "", D(1992, 2, 29), 0, 32, 139, 200},
                         {"Flo", "Texas", D(1981, 1, 1), -1, 43, 10, -1}};
    for (const auto& c : cs) {
      customer.mutable_column(0).AppendString(c.name);
      if (c.state) customer.mutable_column(1).AppendString(c.state); else customer.mutable_column(1).AppendNull();
      if (c.dob != kNoDate) customer.mutable_column(2).AppendDate(c.dob); else customer.mutable_column(2).AppendNull();
      if (c.vip >= 0) customer.mutable_column(3).AppendBool(c.vip == 1); else customer.mutable_column(3).AppendNull();
      customer.mutable_column(4).AppendInt64(c.age);
      customer.FinishRow();
      if (c.web >= 0) measure.mutable_column(0).AppendDouble(c.web); else measure.mutable_column(0).AppendNull();
      if (c.store >= 0) measure.mutable_column(1).AppendDouble(c.store); else measure.mutable_column(1).AppendNull();
      measure.FinishRow();
    }
    purchases = std::make_shared<Table>(Schema({{"TotalPrice", DataType::kDouble, {}},
                                                {"PurchasedOn", DataType::kTimestamp, {}},
                                                {"Product", DataType::kString, {}}}));
    struct P {
      int64_t customer;
      double price;
      int32_t day;
      int64_t time_us;
      const char* product;
    };
    std::vector<P> ps = {{0, 300, D(2024, 2, 20), 0, "Cold Brew"},
                         {0, 250, D(2023, 10, 1), 0, "Beans"},
                         {1, 600, D(2023, 1, 1), 0, "Machine"},  // outside 90 days
                         {2, 40, D(2024, 2, 29), kDayUs - 1, "cold brew can"},
                         {-1, 999, D(2024, 2, 1), 0, "Orphan"},
                         {3, 520, D(2024, 1, 15), 0, "Machine"},
                         {2, 30, D(2024, 3, 1), 0, "Mug"}};
    std::vector<int64_t> owner;
    for (const auto& p : ps) {
      purchases->mutable_column(0).AppendDouble(p.price);
      purchases->mutable_column(1).AppendTimestamp(static_cast<int64_t>(p.day) * kDayUs + p.time_us);
      purchases->mutable_column(2).AppendString(p.product);
      purchases->FinishRow();
      owner.push_back(p.customer);
    }
    purchases_by = EntityByCustomer::Build(purchases, owner, 6);
    data.customer = &customer;
    data.customer_measure = &measure;
    data.related["Online Purchases"] = &purchases_by;
  }

  std::vector<uint32_t> Members(const SegmentDefinition& d, int32_t on = 0) {
    auto r = EvaluateSegment(d, data, {on ? on : run, 1});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->members.ToVector() : std::vector<uint32_t>{999};
  }
  std::vector<uint32_t> Json(const std::string& json) {
    auto d = ParseSegmentJson(json);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? Members(*d) : std::vector<uint32_t>{999};
  }
  // One condition on `entity`.
  std::vector<uint32_t> Cond(const std::string& entity, const std::string& condition, int32_t on = 0) {
    auto d = ParseSegmentJson(R"({"name": "T", "rules": [{"entity": ")" + entity + R"(", "conditions": [)" + condition + "]}]}");
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? Members(*d, on) : std::vector<uint32_t>{999};
  }
};

using V = std::vector<uint32_t>;

TEST(SegmentEvaluator, LabSegments) {
  Lab lab;
  EXPECT_EQ(lab.Members(MakeQuickSegment("CustomersFromCalifornia", "Customer", "State", ConditionOp::kEquals,
                                         {std::string("California")})),
            V({0}));
  EXPECT_EQ(lab.Members(MakeQuickSegment("HighValueOnlineCustomers", "Customer_Measure", "AverageWebPurchase",
                                         ConditionOp::kGreater, {int64_t{138}})),
            V({0, 4}));
  // SummerPromo: AverageStorePurchase >= 113 and born 1981-01-01 .. 1996-12-31.
  EXPECT_EQ(lab.Json(R"({"name": "SummerPromo", "rules": [{"entity": "Customer_Measure", "conditions": [
      {"field": "AverageStorePurchase", "op": "greater_equal", "values": [113]},
      {"entity": "Customer", "field": "DateOfBirth", "op": "on_or_after", "values": ["1981-01-01"]},
      {"entity": "Customer", "field": "DateOfBirth", "op": "on_or_before", "values": ["1996-12-31"]}]},
      {"combine": "intersect", "entity": "Customer", "all_records": true}]})"),
            V({0, 2, 4}));
}

TEST(SegmentEvaluator, NumberOperators) {
  Lab lab;
  const std::string m = "Customer_Measure";
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "equals", "values": [138]})"), V({3}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "not_equals", "values": [138]})"), V({0, 1, 4, 5}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "greater_equal", "values": [138]})"), V({0, 3, 4}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "less", "values": [100.5]})"), V({1, 5}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "less_equal", "values": ["100"]})"), V({1, 5}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "between", "values": [100, 139]})"), V({1, 3, 4}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "in", "values": [10, 150, 7]})"), V({0, 5}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "not_in", "values": [10, 150]})"), V({1, 3, 4}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "is_empty"})"), V({2}));
  EXPECT_EQ(lab.Cond(m, R"({"field": "AverageWebPurchase", "op": "is_not_empty"})"), V({0, 1, 3, 4, 5}));
  // Whole-number field against a fraction and against numeric text.
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Age", "op": "greater", "values": [40.5]})"), V({1, 5}));
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Age", "op": "equals", "values": [40.0]})"), V({3}));
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Age", "op": "equals", "values": [40.5]})"), V({}));
}

TEST(SegmentEvaluator, StringOperatorsAndEmptiness) {
  Lab lab;
  const std::string c = "Customer";
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "equals", "values": ["california"]})"), V({2}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "equals", "values": ["CALIFORNIA"], "case_insensitive": true})"), V({0, 2}));
  // not_equals is false on null (Di) but true on "" (Ed).
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "not_equals", "values": ["California"]})"), V({1, 2, 4, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "not_equals", "values": ["California"], "case_insensitive": true})"), V({1, 4, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "contains", "values": ["as"]})"), V({1, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "not_contains", "values": ["a"]})"), V({4}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "starts_with", "values": ["Ca"]})"), V({0}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "starts_with", "values": ["CA"], "case_insensitive": true})"), V({0, 2}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "ends_with", "values": ["ton"]})"), V({1}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "in", "values": ["Texas", "Washington", "Nowhere"]})"), V({1, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "not_in", "values": ["Texas"]})"), V({0, 1, 2, 4}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "is_empty"})"), V({3, 4}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "State", "op": "is_not_empty"})"), V({0, 1, 2, 5}));
}

TEST(SegmentEvaluator, DateOperators) {
  Lab lab;  // run date 2024-03-01
  const std::string c = "Customer";
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "on", "values": ["1970-01-01"]})"), V({1}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "before", "values": ["1981-01-01"]})"), V({1}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "after", "values": ["1992-02-29"]})"), V({2}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "between", "values": ["1981-01-01", "1996-12-31"]})"), V({0, 2, 4, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "not_equals", "values": ["1970-01-01"]})"), V({0, 2, 4, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "is_empty"})"), V({3}));
  // Birthdays: Ed (Feb 29) has his anniversary on 2024-02-29 in a leap year: 1 day before the run date, not within.
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [10]})"), V({}));
  // In 2023 (common year) Feb 29 births celebrate on Feb 28.
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [0]})", D(2023, 2, 28)), V({4}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [0]})", D(2024, 2, 29)), V({4}));
  // Year wrap: from Dec 25, 7 days reach Dec 31 and Jan 1.
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [7]})", D(2023, 12, 25)), V({1, 2, 5}));
  EXPECT_EQ(lab.Cond(c, R"({"field": "DateOfBirth", "op": "anniversary_within", "values": [6]})", D(2023, 12, 25)), V({2}));
  // Relative windows on a timestamp (by UTC day): purchases on 2024-02-20, 02-29 (23:59:59.999999), 03-01, 01-15.
  const std::string p = "Online Purchases";
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "in_last", "values": [1], "unit": "days"})"), V({2}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "on", "values": ["2024-02-29"]})"), V({2}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "in_last", "values": [2], "unit": "weeks"})"), V({0, 2}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "in_last", "values": [2], "unit": "months"})"), V({0, 2, 3}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "this_period", "unit": "month"})"), V({2}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "last_period", "unit": "month"})"), V({0, 2}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "this_period", "unit": "year"})"), V({0, 2, 3}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "last_period", "unit": "year"})"), V({0, 1}));
  EXPECT_EQ(lab.Cond(p, R"({"field": "PurchasedOn", "op": "in_next", "values": [1], "unit": "days"})"), V({2}));
}

TEST(SegmentEvaluator, BooleanOperators) {
  Lab lab;
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Vip", "op": "is_true"})"), V({0, 3}));
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Vip", "op": "is_false"})"), V({2, 4}));
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Vip", "op": "is_empty"})"), V({1, 5}));
  EXPECT_EQ(lab.Cond("Customer", R"({"field": "Vip", "op": "not_equals", "values": [true]})"), V({2, 4}));
}

TEST(SegmentEvaluator, RelatedEntityConditionsHoldOnOneRow) {
  Lab lab;
  // Ann bought Beans for 250: one row holds both conditions; no row holds Beans and > 260.
  EXPECT_EQ(lab.Cond("Online Purchases", R"({"field": "TotalPrice", "op": "greater", "values": [200]},
                                            {"field": "Product", "op": "equals", "values": ["Beans"]})"),
            V({0}));
  EXPECT_EQ(lab.Cond("Online Purchases", R"({"field": "TotalPrice", "op": "greater", "values": [260]},
                                            {"field": "Product", "op": "equals", "values": ["Beans"]})"),
            V({}));
  EXPECT_EQ(lab.Cond("Online Purchases", R"({"any": [{"field": "Product", "op": "contains", "values": ["cold"], "case_insensitive": true},
                                                    {"entity": "Customer", "field": "Vip", "op": "is_true"}]})"),
            V({0, 2, 3}));
  // All records: customers with at least one row (the orphan belongs to no one).
  EXPECT_EQ(lab.Json(R"({"name": "T", "rules": [{"entity": "Online Purchases", "all_records": true}]})"), V({0, 1, 2, 3}));
}

TEST(SegmentEvaluator, AggregateConditions) {
  Lab lab;
  // Sum of TotalPrice over the last 90 days > 500: Ann 300, Cy 70, Di 520 (Bob's 600 is older).
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "sum", "entity": "Online Purchases", "field": "TotalPrice",
      "window": {"last": 90, "unit": "days"}, "time_field": "PurchasedOn", "op": "greater", "values": [500]})"),
            V({3}));
  // Sum of no rows is 0: customers without purchases qualify for "< 100".
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "sum", "entity": "Online Purchases", "field": "TotalPrice",
      "window": {"last": 90}, "time_field": "PurchasedOn", "op": "less", "values": [100]})"),
            V({1, 2, 4, 5}));
  // Count with a filter.
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "count", "entity": "Online Purchases",
      "filters": [{"field": "TotalPrice", "op": "less_equal", "values": [250]}], "op": "greater_equal", "values": [1]})"),
            V({0, 2}));
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "count", "entity": "Online Purchases", "op": "equals", "values": [0]})"), V({4, 5}));
  // Average/min/max of no rows are empty.
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "average", "entity": "Online Purchases", "field": "TotalPrice", "op": "is_empty"})"), V({4, 5}));
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "average", "entity": "Online Purchases", "field": "TotalPrice", "op": "equals", "values": [275]})"), V({0}));
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "max", "entity": "Online Purchases", "field": "TotalPrice", "op": "less", "values": [100]})"), V({2}));
  EXPECT_EQ(lab.Cond("Customer", R"({"aggregate": "min", "entity": "Online Purchases", "field": "TotalPrice", "op": "between", "values": [30, 300]})"), V({0, 2}));
  // From the related entity itself: customers with a row, and the aggregate.
  EXPECT_EQ(lab.Cond("Online Purchases", R"({"aggregate": "count", "op": "less", "values": [2]})"), V({1, 3}));
}

TEST(SegmentEvaluator, SetOperatorsAndInspectionCounts) {
  Lab lab;
  auto d = ParseSegmentJson(R"({"name": "T", "rules": [
      {"entity": "Customer_Measure", "conditions": [{"field": "AverageWebPurchase", "op": "greater", "values": [99]}]},
      {"combine": "union", "entity": "Customer", "conditions": [{"field": "State", "op": "equals", "values": ["Texas"]}]},
      {"combine": "except", "entity": "Customer", "conditions": [{"field": "Vip", "op": "is_true"}]},
      {"combine": "intersect", "entity": "Online Purchases", "all_records": true}]})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  auto r = EvaluateSegment(*d, lab.data, {lab.run, 2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->members.ToVector(), V({1}));
  ASSERT_EQ(r->rules.size(), 4u);
  EXPECT_EQ(r->rules[0].members, 4u);  // 0 1 3 4
  EXPECT_EQ(r->rules[0].running_total, 4u);
  EXPECT_EQ(r->rules[1].members, 1u);  // 5
  EXPECT_EQ(r->rules[1].running_total, 5u);
  EXPECT_EQ(r->rules[2].members, 2u);  // 0 3
  EXPECT_EQ(r->rules[2].running_total, 3u);  // 1 4 5
  EXPECT_EQ(r->rules[3].members, 4u);  // 0 1 2 3
  EXPECT_EQ(r->rules[3].running_total, 1u);
}

TEST(SegmentEvaluator, InvalidDefinitionsAreRefusedWithTheirProblems) {
  Lab lab;
  SegmentDefinition d = MakeQuickSegment("Bad Name", "Customer", "Stat", ConditionOp::kEquals, {std::string("CA")});
  auto r = EvaluateSegment(d, lab.data, {lab.run, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("(draft)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("rules[0].conditions[0]: field 'Stat' is not a field of Customer (did you mean State?)"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("name: 'Bad Name'"), std::string::npos);
}

TEST(SegmentEvaluator, InconsistentDataIsAnError) {
  Lab lab;
  Table short_measure(lab.measure.schema());
  lab.data.customer_measure = &short_measure;
  auto r = EvaluateSegment(MakeQuickSegment("X", "Customer", "Age", ConditionOp::kIsEmpty, {}), lab.data, {lab.run, 1});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  SegmentData none;
  EXPECT_EQ(EvaluateSegment(MakeQuickSegment("X", "Customer", "Age", ConditionOp::kIsEmpty, {}), none, {0, 1}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CustomerSet, SetAlgebra) {
  CustomerSet a = CustomerSet::Range(0, 10);
  CustomerSet b = CustomerSet::Of({5, 20, 7});
  CustomerSet u = a;
  u.UnionWith(b);
  EXPECT_EQ(u.Count(), 11u);
  CustomerSet i = a;
  i.IntersectWith(b);
  EXPECT_EQ(i.ToVector(), V({5, 7}));
  CustomerSet e = a;
  e.Subtract(b);
  EXPECT_EQ(e.Count(), 8u);
  EXPECT_FALSE(e.Contains(5));
  CustomerSet moved = std::move(e);
  EXPECT_EQ(moved.Count(), 8u);
  EXPECT_TRUE(e.empty());  // NOLINT(bugprone-use-after-move): a moved-from set is empty and usable
  EXPECT_EQ(CustomerSet::FromBits({0b1011, 1}, 65).ToVector(), V({0, 1, 3, 64}));
  EXPECT_EQ(CustomerSet::FromBits({0b1011, 1}, 3).ToVector(), V({0, 1}));
}

}  // namespace
}  // namespace cdp
