#include "engine/measure_engine.h"

#include <gtest/gtest.h>

#include "common/datetime.h"
#include "engine/entity_by_customer.h"

namespace cdp {
namespace {

int32_t D(int y, unsigned m, unsigned d) { return DaysFromCivil(y, m, d); }
int64_t Ts(int y, unsigned m, unsigned d, int hour = 0) { return D(y, m, d) * kMicrosPerDay + hour * 3600LL * kMicrosPerSecond; }

// Purchases: customer, TotalPrice (double), PurchasedOn (timestamp), Channel (string), Qty (int64), Day (date).
struct Row {
  int64_t customer;
  std::optional<double> price;
  std::optional<int64_t> at;
  std::optional<std::string> channel;
  std::optional<int64_t> qty;
};

class MeasureEngineTest : public ::testing::Test {
 protected:
  void Load(const std::vector<Row>& rows, size_t customers) {
    customers_ = customers;
    auto t = std::make_shared<Table>(Schema({{"TotalPrice", DataType::kDouble, {}},
                                             {"PurchasedOn", DataType::kTimestamp, {}},
                                             {"Channel", DataType::kString, {}},
                                             {"Qty", DataType::kInt64, {}},
                                             {"Flag", DataType::kBool, {}}}));
    std::vector<int64_t> cust;
    for (const Row& r : rows) {
      if (r.price) t->mutable_column(0).AppendDouble(*r.price); else t->mutable_column(0).AppendNull();
      if (r.at) t->mutable_column(1).AppendTimestamp(*r.at); else t->mutable_column(1).AppendNull();
      if (r.channel) t->mutable_column(2).AppendString(*r.channel); else t->mutable_column(2).AppendNull();
      if (r.qty) t->mutable_column(3).AppendInt64(*r.qty); else t->mutable_column(3).AppendNull();
      t->mutable_column(4).AppendBool(true);
      t->FinishRow();
      cust.push_back(r.customer);
    }
    by_ = EntityByCustomer::Build(t, cust, customers);
    inputs_.num_customers = customers;
    inputs_.run_date = D(2024, 5, 15);
    inputs_.activities["Purchase"] = MeasureSource{&by_, "PurchasedOn"};
    inputs_.entities["Purchases"] = MeasureSource{&by_, ""};
  }

  static MeasureConfig M(AggregateFunction f, const std::string& field = "TotalPrice") {
    MeasureConfig m;
    m.name = "X";
    m.function = f;
    m.activity = "Purchase";
    m.field = f == AggregateFunction::kCount ? "" : field;
    return m;
  }

  // Values of attribute measure `name` rendered per customer ("" = null).
  std::vector<std::string> Eval(const std::vector<MeasureConfig>& ms, const std::string& name = "X") {
    auto r = EvaluateMeasures(ms, inputs_, 2);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    const Column* c = r->attributes.ColumnByName(name);
    EXPECT_NE(c, nullptr);
    for (size_t i = 0; c && i < c->size(); ++i) out.push_back(c->IsNull(i) ? "null" : c->ValueToString(i));
    return out;
  }
  std::vector<std::string> Eval1(MeasureConfig m) { return Eval({m}); }

  std::string CompileError(const std::vector<MeasureConfig>& ms) {
    auto e = MeasureEngine::Compile(ms, inputs_);
    EXPECT_FALSE(e.ok());
    if (e.ok()) return "";
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    return e.status().message();
  }

  // Customer 0: three rows with a tie; customer 1: no rows; customer 2: one
  // row with nulls; customer 3: two rows; orphan rows are ignored.
  void LoadStandard() {
    Load({{0, 10.0, Ts(2024, 5, 1, 10), "web", 1},
          {2, std::nullopt, Ts(2024, 1, 3), "store", std::nullopt},
          {0, 30.0, Ts(2024, 5, 10), "store", 3},
          {-1, 1000.0, Ts(2024, 5, 10), "web", 9},
          {3, 5.0, Ts(2023, 12, 31, 23), "Web", 2},
          {0, 20.0, Ts(2024, 5, 10), "web", 3},
          {3, 7.0, std::nullopt, std::nullopt, 2}},
         4);
  }

  size_t customers_ = 0;
  EntityByCustomer by_;
  MeasureInputs inputs_;
};

TEST(EntityByCustomerTest, GroupsRowsByCustomerInRowOrderAndDropsOrphans) {
  auto t = std::make_shared<Table>(Schema({{"V", DataType::kInt64, {}}}));
  for (int64_t v : {10, 11, 12, 13, 14, 15}) {
    t->mutable_column(0).AppendInt64(v);
    t->FinishRow();
  }
  EntityByCustomer e = EntityByCustomer::Build(t, {2, 0, -1, 2, 0, 7}, 4);
  EXPECT_EQ(e.offsets, (std::vector<uint64_t>{0, 2, 2, 4, 4}));
  EXPECT_EQ(e.rows, (std::vector<uint32_t>{1, 4, 0, 3}));
  ASSERT_EQ(e.clustered->num_rows(), 4u);
  EXPECT_EQ(e.clustered->column(0).Int64At(0), 11);
  EXPECT_EQ(e.clustered->column(0).Int64At(3), 13);
  EXPECT_NE(e.clustered.get(), t.get());
}

TEST(EntityByCustomerTest, SortedInputIsNotCopied) {
  auto t = std::make_shared<Table>(Schema({{"V", DataType::kString, {}}}));
  for (const char* v : {"a", "b", "c"}) {
    t->mutable_column(0).AppendString(v);
    t->FinishRow();
  }
  EntityByCustomer e = EntityByCustomer::Build(t, {0, 0, 2}, 3);
  EXPECT_EQ(e.clustered.get(), t.get());
  EXPECT_EQ(e.offsets, (std::vector<uint64_t>{0, 2, 2, 3}));
}

TEST_F(MeasureEngineTest, SumAverageCountSkipNullsAndLeaveEmptyCustomersNull) {
  LoadStandard();
  EXPECT_EQ(Eval1(M(AggregateFunction::kSum)), (std::vector<std::string>{"60", "null", "null", "12"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kAverage)), (std::vector<std::string>{"20", "null", "null", "6"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kCount)), (std::vector<std::string>{"3", "null", "1", "2"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kSum, "Qty")), (std::vector<std::string>{"7", "null", "null", "4"}));
}

TEST_F(MeasureEngineTest, DefaultFillsCustomersWithoutValues) {
  LoadStandard();
  MeasureConfig m = M(AggregateFunction::kCount);
  m.default_value = 0;
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"3", "0", "1", "2"}));
  m = M(AggregateFunction::kAverage);
  m.default_value = -1;
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"20", "-1", "-1", "6"}));
}

TEST_F(MeasureEngineTest, CountUniqueCountsDistinctNonNullValues) {
  LoadStandard();
  EXPECT_EQ(Eval1(M(AggregateFunction::kCountUnique, "Channel")), (std::vector<std::string>{"2", "null", "1", "1"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kCountUnique, "Qty")), (std::vector<std::string>{"2", "null", "null", "1"}));
}

TEST_F(MeasureEngineTest, MinMaxKeepTheFieldType) {
  LoadStandard();
  EXPECT_EQ(Eval1(M(AggregateFunction::kMin)), (std::vector<std::string>{"10", "null", "null", "5"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kMax, "PurchasedOn")),
            (std::vector<std::string>{"2024-05-10T00:00:00Z", "null", "2024-01-03T00:00:00Z", "2023-12-31T23:00:00Z"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kMax, "Channel")), (std::vector<std::string>{"web", "null", "store", "Web"}));
}

TEST_F(MeasureEngineTest, FirstAndLastOrderByTimeWithTiesByRowOrder) {
  LoadStandard();
  // Customer 0: 10 at 05-01, then 30 and 20 both at 05-10 (30 comes first in row order).
  EXPECT_EQ(Eval1(M(AggregateFunction::kFirst)), (std::vector<std::string>{"10", "null", "null", "5"}));
  EXPECT_EQ(Eval1(M(AggregateFunction::kLast)), (std::vector<std::string>{"20", "null", "null", "5"}));
  MeasureConfig m = M(AggregateFunction::kFirst, "Channel");
  m.order_by = "Qty";
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"web", "null", "null", "Web"}));
}

TEST_F(MeasureEngineTest, ArgMaxArgMinTakeTheFirstRowAmongTies) {
  LoadStandard();
  MeasureConfig m = M(AggregateFunction::kArgMax, "TotalPrice");
  m.order_by = "Qty";  // customer 0: Qty 3 twice (30 then 20)
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"30", "null", "null", "5"}));
  m.function = AggregateFunction::kArgMin;
  m.field = "Channel";
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"web", "null", "null", "Web"}));
}

TEST_F(MeasureEngineTest, FilterOperators) {
  LoadStandard();
  auto with = [&](std::string field, std::string op, std::vector<std::string> values) {
    MeasureConfig m = M(AggregateFunction::kCount);
    m.filters.push_back({std::move(field), std::move(op), std::move(values)});
    return Eval1(m);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(with("Channel", "equals", {"web"}), (V{"2", "null", "null", "null"}));
  EXPECT_EQ(with("Channel", "not_equals", {"web"}), (V{"1", "null", "1", "1"}));  // nulls fail not_equals
  EXPECT_EQ(with("Channel", "in", {"Web", "store"}), (V{"1", "null", "1", "1"}));
  EXPECT_EQ(with("Channel", "not_in", {"web"}), (V{"1", "null", "1", "1"}));
  EXPECT_EQ(with("Channel", "is_empty", {}), (V{"null", "null", "null", "1"}));
  EXPECT_EQ(with("Channel", "is_not_empty", {}), (V{"3", "null", "1", "1"}));
  EXPECT_EQ(with("Channel", "contains", {"to"}), (V{"1", "null", "1", "null"}));
  EXPECT_EQ(with("Channel", "starts_with", {"W"}), (V{"null", "null", "null", "1"}));
  EXPECT_EQ(with("TotalPrice", "less", {"20"}), (V{"1", "null", "null", "2"}));
  EXPECT_EQ(with("TotalPrice", "less_equal", {"20"}), (V{"2", "null", "null", "2"}));
  EXPECT_EQ(with("TotalPrice", "greater", {"20"}), (V{"1", "null", "null", "null"}));
  EXPECT_EQ(with("Qty", "greater_equal", {"2"}), (V{"2", "null", "null", "2"}));
  EXPECT_EQ(with("PurchasedOn", "equals", {"2024-05-01"}), (V{"1", "null", "null", "null"}));  // by UTC date
  EXPECT_EQ(with("PurchasedOn", "equals", {"2024-05-01T10:00:00Z"}), (V{"1", "null", "null", "null"}));
  EXPECT_EQ(with("PurchasedOn", "less", {"2024-01-01"}), (V{"null", "null", "null", "1"}));
  EXPECT_EQ(with("Flag", "equals", {"true"}), (V{"3", "null", "1", "2"}));
}

TEST_F(MeasureEngineTest, WindowsRelativeToTheRunDate) {
  LoadStandard();  // run date 2024-05-15
  auto with = [&](TimeWindowConfig w) {
    MeasureConfig m = M(AggregateFunction::kCount);
    m.window = w;
    return Eval1(m);
  };
  using V = std::vector<std::string>;
  TimeWindowConfig w;
  w.kind = WindowKind::kLast;
  w.n = 5;  // 2024-05-11 .. 2024-05-15
  EXPECT_EQ(with(w), (V{"null", "null", "null", "null"}));
  w.n = 6;  // from 2024-05-10
  EXPECT_EQ(with(w), (V{"2", "null", "null", "null"}));
  w.n = 2;
  w.unit = TimeUnit::kWeek;  // from 2024-05-02
  EXPECT_EQ(with(w), (V{"2", "null", "null", "null"}));
  w.n = 1;
  w.unit = TimeUnit::kMonth;  // after 2024-04-15
  EXPECT_EQ(with(w), (V{"3", "null", "null", "null"}));
  w.unit = TimeUnit::kQuarter;  // after 2024-02-15
  EXPECT_EQ(with(w), (V{"3", "null", "null", "null"}));
  w.unit = TimeUnit::kYear;  // after 2023-05-15; the null time is out
  EXPECT_EQ(with(w), (V{"3", "null", "1", "1"}));
  TimeWindowConfig b;
  b.kind = WindowKind::kBetween;
  b.from = D(2023, 12, 31);
  b.to = D(2024, 1, 3);
  EXPECT_EQ(with(b), (V{"null", "null", "1", "1"}));
  TimeWindowConfig p;
  p.kind = WindowKind::kThisPeriod;
  p.unit = TimeUnit::kMonth;
  EXPECT_EQ(with(p), (V{"3", "null", "null", "null"}));
  p.kind = WindowKind::kLastPeriod;
  p.unit = TimeUnit::kYear;
  EXPECT_EQ(with(p), (V{"null", "null", "null", "1"}));
  p.unit = TimeUnit::kQuarter;  // 2024 Q1
  EXPECT_EQ(with(p), (V{"null", "null", "1", "null"}));
}

TEST_F(MeasureEngineTest, MonthWindowClampsToTheEndOfShorterMonths) {
  Load({{0, 1.0, Ts(2024, 2, 29), "a", 1}, {0, 1.0, Ts(2024, 3, 1), "a", 1}}, 1);
  inputs_.run_date = D(2024, 3, 31);
  MeasureConfig m = M(AggregateFunction::kCount);
  m.window.kind = WindowKind::kLast;
  m.window.n = 1;
  m.window.unit = TimeUnit::kMonth;  // after 2024-02-29
  EXPECT_EQ(Eval1(m), (std::vector<std::string>{"1"}));
}

TEST_F(MeasureEngineTest, FormulasPropagateNullsAndDivideByZeroToNull) {
  LoadStandard();
  MeasureConfig web = M(AggregateFunction::kSum);
  web.name = "Spend";
  MeasureConfig qty = M(AggregateFunction::kSum, "Qty");
  qty.name = "Units";
  qty.default_value = 0;
  MeasureConfig f;
  f.name = "PerUnit";
  f.formula = "Spend / Units";
  MeasureConfig g;
  g.name = "Safe";
  g.formula = "coalesce(Spend, 0) + -Units * 2";
  std::vector<MeasureConfig> ms = {web, qty, f, g};
  EXPECT_EQ(Eval(ms, "PerUnit"), (std::vector<std::string>{"8.571428571428571", "null", "null", "3"}));
  EXPECT_EQ(Eval(ms, "Safe"), (std::vector<std::string>{"46", "0", "0", "4"}));
  ms[1].default_value.reset();
  ms[2].formula = "Spend / (Units - 4)";
  EXPECT_EQ(Eval(ms, "PerUnit"), (std::vector<std::string>{"20", "null", "null", "null"}));
}

TEST_F(MeasureEngineTest, DaysSinceUsesTheUtcDateOfATimestamp) {
  LoadStandard();  // run date 2024-05-15
  MeasureConfig last = M(AggregateFunction::kMax, "PurchasedOn");
  last.name = "LastPurchase";
  MeasureConfig f;
  f.name = "DaysSince";
  f.formula = "days_since(LastPurchase)";
  EXPECT_EQ(Eval({last, f}, "DaysSince"), (std::vector<std::string>{"5", "null", "133", "136"}));
}

TEST_F(MeasureEngineTest, CustomerMeasureGroupsByDimensions) {
  LoadStandard();
  MeasureConfig m = M(AggregateFunction::kSum, "Qty");
  m.kind = MeasureKind::kCustomer;
  m.dimensions = {"Channel"};
  auto r = EvaluateMeasures({m}, inputs_, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& t = r->customer.at("X");
  ASSERT_EQ(t.num_columns(), 3u);
  EXPECT_EQ(t.schema().field(0).name, "CustomerIndex");
  std::vector<std::string> rows;
  for (size_t i = 0; i < t.num_rows(); ++i) {
    rows.push_back(t.column(0).ValueToString(i) + "/" + (t.column(1).IsNull(i) ? "null" : t.column(1).ValueToString(i)) + "/" +
                   (t.column(2).IsNull(i) ? "null" : t.column(2).ValueToString(i)));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"0/store/3", "0/web/4", "2/store/null", "3/null/2", "3/Web/2"}));
}

TEST_F(MeasureEngineTest, BusinessMeasuresAggregateOverCustomersWithoutOrphans) {
  LoadStandard();
  MeasureConfig total = M(AggregateFunction::kSum);
  total.kind = MeasureKind::kBusiness;
  total.name = "Revenue";
  MeasureConfig by = total;
  by.name = "RevenueByChannel";
  by.dimensions = {"Channel"};
  auto r = EvaluateMeasures({total, by}, inputs_, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& s = r->business.at("Revenue");
  ASSERT_EQ(s.num_rows(), 1u);
  EXPECT_EQ(s.column(0).DoubleAt(0), 72);
  const Table& t = r->business.at("RevenueByChannel");
  ASSERT_EQ(t.num_rows(), 4u);
  EXPECT_TRUE(t.column(0).IsNull(0));
  EXPECT_EQ(t.column(0).StringAt(1), "Web");
  EXPECT_EQ(t.column(0).StringAt(2), "store");
  EXPECT_EQ(t.column(1).DoubleAt(2), 30);
  EXPECT_EQ(t.column(1).DoubleAt(3), 30);
}

TEST_F(MeasureEngineTest, ValidationMessagesNameTheMeasureAndTheCulprit) {
  LoadStandard();
  MeasureConfig m = M(AggregateFunction::kAverage, "TotalPrise");
  m.name = "AverageWebPurchase";
  EXPECT_EQ(CompileError({m}),
            "measure 'AverageWebPurchase': field 'TotalPrise' is not a field of 'Purchase' (fields: TotalPrice, PurchasedOn, Channel, Qty, Flag)");
  m = M(AggregateFunction::kSum, "Channel");
  EXPECT_EQ(CompileError({m}), "measure 'X': function 'sum' needs a number field; 'Channel' is a string");
  m = M(AggregateFunction::kMax, "Flag");
  EXPECT_EQ(CompileError({m}), "measure 'X': function 'max' needs a number, date, timestamp or string field; 'Flag' is a bool");
  m = M(AggregateFunction::kCount);
  m.activity = "Purchases";
  EXPECT_EQ(CompileError({m}), "measure 'X': activity 'Purchases' is not defined (activities: Purchase)");
  m = M(AggregateFunction::kCount);
  m.filters.push_back({"Channel", "less", {"b"}});
  EXPECT_EQ(CompileError({m}), "measure 'X': filter 'less' needs a number, date or timestamp field; 'Channel' is a string");
  m.filters = {{"TotalPrice", "equals", {"cheap"}}};
  EXPECT_EQ(CompileError({m}), "measure 'X': filter value 'cheap' for field 'TotalPrice' (double) is not a number");
  m.filters = {{"Qty", "in", {"1", "2.5"}}};
  EXPECT_EQ(CompileError({m}), "measure 'X': filter value '2.5' for field 'Qty' (int64) is not a whole number");
  m.filters = {{"PurchasedOn", "greater", {"2024-13-01"}}};
  EXPECT_NE(CompileError({m}).find("filter value '2024-13-01' for field 'PurchasedOn' (timestamp) is not a date"), std::string::npos);
  // Filter values are read by common/value_text, as ingest and segments read them:
  // no hexadecimal or locale forms (strtod took "0x1A"), no doubled signs, no
  // loose date digits, no leap second.
  for (const char* v : {"0x1A", "+-5", "inf", "1e999", " 5", "1,5"}) {
    m.filters = {{"TotalPrice", "equals", {v}}};
    EXPECT_EQ(CompileError({m}), "measure 'X': filter value '" + std::string(v) + "' for field 'TotalPrice' (double) is not a number");
  }
  m.filters = {{"Qty", "equals", {"+-5"}}};
  EXPECT_EQ(CompileError({m}), "measure 'X': filter value '+-5' for field 'Qty' (int64) is not a whole number");
  for (const char* v : {"20 4-01-01", "2024-1a-05", "-123-01-01", "2024-01-01T23:59:60Z"}) {
    m.filters = {{"PurchasedOn", "greater", {v}}};
    EXPECT_NE(CompileError({m}).find("filter value '" + std::string(v) + "' for field 'PurchasedOn' (timestamp) is not a date"),
              std::string::npos) << v;
  }
  m.filters = {{"Qty", "contains", {"1"}}};
  EXPECT_EQ(CompileError({m}), "measure 'X': filter 'contains' needs a string field; 'Qty' is a int64");
  m.filters = {{"Nope", "equals", {"1"}}};
  EXPECT_NE(CompileError({m}).find("filter field 'Nope' is not a field of 'Purchase'"), std::string::npos);
  // Window on an entity without a time field.
  m = M(AggregateFunction::kCount);
  m.activity.clear();
  m.entity = "Purchases";
  m.window.kind = WindowKind::kLast;
  m.window.n = 3;
  EXPECT_EQ(CompileError({m}), "measure 'X': a window needs a time field, and 'Purchases' has none (set 'time_field')");
  m.time_field = "Qty";
  EXPECT_EQ(CompileError({m}), "measure 'X': the window's time field 'Qty' is a int64; it needs a date or timestamp");
  m = M(AggregateFunction::kLast);
  m.activity.clear();
  m.entity = "Purchases";
  EXPECT_EQ(CompileError({m}), "measure 'X': function 'last' needs 'order_by' or a time field ('Purchases' has none)");
  m = M(AggregateFunction::kMax, "Channel");
  m.default_value = 0;
  EXPECT_EQ(CompileError({m}), "measure 'X': a default is a number, but the result is a string");
}

TEST_F(MeasureEngineTest, FormulaValidation) {
  LoadStandard();
  MeasureConfig a = M(AggregateFunction::kSum);
  a.name = "A";
  MeasureConfig last = M(AggregateFunction::kMax, "PurchasedOn");
  last.name = "Last";
  MeasureConfig biz = M(AggregateFunction::kSum);
  biz.name = "Biz";
  biz.kind = MeasureKind::kBusiness;
  auto formula = [](std::string name, std::string text) {
    MeasureConfig f;
    f.name = std::move(name);
    f.formula = std::move(text);
    return f;
  };
  EXPECT_EQ(CompileError({a, formula("F", "A +")}),
            "measure 'F': formula 'A +' at position 4: expected a number, a measure or '(' but found end of formula");
  EXPECT_EQ(CompileError({a, formula("F", "A + B")}), "measure 'F': formula refers to 'B', which is not a measure (attribute measures: A, F)");
  EXPECT_EQ(CompileError({a, biz, formula("F", "A / Biz")}),
            "measure 'F': formula refers to 'Biz', a business measure; formulas use attribute measures (one value per customer)");
  EXPECT_EQ(CompileError({last, formula("F", "Last + 1")}),
            "measure 'F': formula uses 'Last', a timestamp measure, as a number (use days_since(Last))");
  EXPECT_EQ(CompileError({a, formula("F", "days_since(A)")}), "measure 'F': days_since needs a date or timestamp measure; 'A' is a double");
  EXPECT_EQ(CompileError({last, formula("F", "days_since(Last + 1)")}),
            "measure 'F': days_since takes a date or timestamp measure by name (at position 17)");
  EXPECT_EQ(CompileError({formula("F", "G + 1"), formula("G", "F * 2")}), "measure 'F': formula refers to itself through a cycle: F -> G -> F");
  EXPECT_EQ(CompileError({formula("F", "F")}), "measure 'F': formula refers to itself through a cycle: F -> F");
  EXPECT_EQ(CompileError({a, a}), "measure 'A': the name is used by two measures");
}

TEST_F(MeasureEngineTest, EngineOutlivesTheConfigVector) {
  LoadStandard();
  std::unique_ptr<MeasureEngine> engine;
  {
    std::vector<MeasureConfig> ms = {M(AggregateFunction::kSum)};
    auto e = MeasureEngine::Compile(ms, inputs_);
    ASSERT_TRUE(e.ok());
    engine = std::move(e).value();
  }
  auto r = engine->Evaluate(1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attributes.column(0).DoubleAt(0), 60);
  EXPECT_EQ(engine->ResultType("X"), DataType::kDouble);
}

}  // namespace
}  // namespace cdp
