#include "config/model_config.h"

#include <gtest/gtest.h>

#include "config/project_config.h"

namespace cdp {
namespace {

const char* kModel = R"yaml(
sources:
  - {name: Contacts, kind: csv, path: c.csv, primary_key: Id}
  - {name: Orders, kind: csv, path: o.csv, primary_key: OrderId}
relationships:
  - name: OrderContact
    from: {entity: Orders, field: ContactId}
    to: {entity: Contacts, field: Id}
activities:
  - {name: Order, entity: Orders, timestamp: OrderedOn, type: SalesOrder, amount: Total, path: [OrderContact]}
measures:
  - name: Spend90
    function: sum
    activity: Order
    field: Total
    window: {last: 90, unit: days}
    filters: [{field: Status, op: in, values: [paid, shipped]}]
    default: 0
  - {name: FirstOrder, function: first, activity: Order, field: Total, window: {this: quarter}}
  - {name: BestProduct, function: argmax, activity: Order, field: ProductId, order_by: Total, window: {between: [2025-01-01, 2025-06-30]}}
  - {name: SpendByProduct, kind: customer, function: sum, entity: Orders, field: Total, dimensions: [ProductId], window: {previous: year}}
  - {name: RevenuePerMonth, kind: business, function: sum, activity: Order, field: Total, dimensions: [Month]}
  - {name: Share, formula: "Spend90 / (Spend90 + 1)"}
)yaml";

TEST(ModelConfigTest, ParsesRelationshipsActivitiesAndMeasures) {
  auto p = ParseProjectYaml(kModel, "m.yaml", "/tmp");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->relationships.size(), 1u);
  EXPECT_EQ(p->relationships[0].to_field, "Id");
  ASSERT_EQ(p->activities.size(), 1u);
  EXPECT_EQ(p->activities[0].path, std::vector<std::string>{"OrderContact"});
  ASSERT_EQ(p->measures.size(), 6u);
  EXPECT_EQ(p->measures[0].window.kind, WindowKind::kLast);
  EXPECT_EQ(p->measures[0].window.n, 90);
  EXPECT_EQ(p->measures[0].filters[0].values.size(), 2u);
  EXPECT_EQ(*p->measures[0].default_value, 0);
  EXPECT_EQ(p->measures[1].window.kind, WindowKind::kThisPeriod);
  EXPECT_EQ(p->measures[1].window.unit, TimeUnit::kQuarter);
  EXPECT_EQ(p->measures[2].function, AggregateFunction::kArgMax);
  EXPECT_EQ(p->measures[2].window.to - p->measures[2].window.from, 180);
  EXPECT_EQ(p->measures[3].kind, MeasureKind::kCustomer);
  EXPECT_EQ(p->measures[4].window.kind, WindowKind::kAllTime);
  EXPECT_EQ(p->measures[5].formula, "Spend90 / (Spend90 + 1)");
  auto again = ParseProjectYaml(EmitProjectYaml(*p), "emitted", "/tmp");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->measures, p->measures);
  EXPECT_EQ(again->activities, p->activities);
  EXPECT_EQ(again->relationships, p->relationships);
}

void ExpectError(const std::string& extra, const std::string& fragment) {
  std::string yaml = "sources:\n  - {name: Orders, kind: csv, path: o.csv}\n" + extra;
  auto p = ParseProjectYaml(yaml, "m.yaml", "/tmp");
  ASSERT_FALSE(p.ok()) << extra;
  EXPECT_NE(p.status().message().find(fragment), std::string::npos) << p.status().message();
}

TEST(ModelConfigTest, ErrorsNameTheDefinitionAndKey) {
  ExpectError("relationships: [{name: R, from: {entity: Nope, field: X}, to: {entity: Orders, field: Y}}]\n",
              "'R': entity 'Nope' is not a declared source");
  ExpectError("activities: [{name: A, entity: Orders, timestamp: T, path: [Missing]}]\n", "path names 'Missing'");
  ExpectError("measures: [{name: M, function: sum, activity: Nope, field: X}]\n", "activity 'Nope' is not defined");
  ExpectError("measures: [{name: Bad Name, function: count, entity: Orders}]\n", "no spaces");
  ExpectError("measures: [{name: M, function: median, entity: Orders, field: X}]\n", "unknown function 'median'");
  ExpectError("measures: [{name: M, function: sum, entity: Orders}]\n", "needs 'field'");
  ExpectError("measures: [{name: M, function: argmax, entity: Orders, field: X}]\n", "needs 'order_by'");
  ExpectError("measures: [{name: M, function: count, entity: Orders, window: {last: 0}}]\n", "'last' must be");
  ExpectError("measures: [{name: M, function: count, entity: Orders, window: {this: day}}]\n", "month, quarter or year");
  ExpectError("measures: [{name: M, function: count, entity: Orders, window: {between: [2025-02-30, 2025-03-01]}}]\n",
              "not a valid date");
  ExpectError("measures: [{name: M, function: count, entity: Orders, filters: [{field: X, op: in}]}]\n",
              "takes a list of values");
  ExpectError("measures: [{name: M, kind: customer, function: count, entity: Orders}]\n", "needs 'dimensions'");
  ExpectError("measures: [{name: M, formula: A + B, function: sum}]\n", "a formula measure takes no function");
  ExpectError("measures: [{name: M, function: count, entity: Orders}, {name: M, function: count, entity: Orders}]\n",
              "'M' is declared twice");
}

}  // namespace
}  // namespace cdp
