#include "insight/customer_attributes.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/datetime.h"

namespace cdp {
namespace {

Schema MakeSchema(std::vector<std::pair<std::string, DataType>> fields) {
  std::vector<Field> out;
  for (auto& [name, type] : fields) out.push_back(Field{name, type, {}});
  return Schema(std::move(out));
}

AttributeOptions Options() {
  AttributeOptions o;
  o.as_of_day = DaysFromCivil(2026, 1, 1);
  o.threads = 2;
  return o;
}

// Six customers, one row each: every encoding rule once.
Table CustomerTable() {
  Table t(MakeSchema({{"CustomerId", DataType::kString},
                      {"Email", DataType::kString},
                      {"Tier", DataType::kString},
                      {"Age", DataType::kInt64},
                      {"Income", DataType::kDouble},
                      {"Vip", DataType::kBool},
                      {"DateOfBirth", DataType::kDate},
                      {"FirstSeen", DataType::kTimestamp},
                      {"Nothing", DataType::kString}}));
  const char* tiers[] = {"Gold", "Silver", "Gold", nullptr, "Silver", "Gold"};
  for (int i = 0; i < 6; ++i) {
    t.mutable_column(0).AppendString("C" + std::to_string(i));
    t.mutable_column(1).AppendString("p" + std::to_string(i) + "@x.com");
    if (tiers[i]) t.mutable_column(2).AppendString(tiers[i]); else t.mutable_column(2).AppendNull();
    if (i == 2) t.mutable_column(3).AppendNull(); else t.mutable_column(3).AppendInt64(20 + i);
    t.mutable_column(4).AppendDouble(1000.5 * i);
    if (i == 5) t.mutable_column(5).AppendNull(); else t.mutable_column(5).AppendBool(i % 2 == 1);
    t.mutable_column(6).AppendDate(DaysFromCivil(2026 - 10 * (i + 1), 1, 1));
    t.mutable_column(7).AppendTimestamp(static_cast<int64_t>(DaysFromCivil(2024, 1, 1)) * kMicrosPerDay + 3600);
    t.mutable_column(8).AppendNull();
    t.FinishRow();
  }
  return t;
}

TEST(CustomerAttributes, EncodesEachTypeAndSkipsIdentifyingAndEmptyColumns) {
  Table t = CustomerTable();
  std::vector<AttributeSource> sources = {{"Customer", &t, {}}};
  auto r = BuildCustomerAttributes(6, sources, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CustomerAttributes& a = *r;
  EXPECT_EQ(a.customers, 6);
  ASSERT_EQ(a.attributes.size(), 6u);  // Tier, Age, Income, Vip, DateOfBirth, FirstSeen
  EXPECT_EQ(a.Find("CustomerId"), nullptr);
  EXPECT_EQ(a.Find("Email"), nullptr);
  ASSERT_EQ(a.skipped.size(), 2u);
  EXPECT_EQ(a.skipped[0], "Customer.Email: identifying (more than 3 distinct values in 6 rows)");
  EXPECT_EQ(a.skipped[1], "Customer.Nothing: no values");

  const CustomerAttribute* tier = a.Find("Tier");
  ASSERT_NE(tier, nullptr);
  EXPECT_EQ(tier->kind, AttributeKind::kCategorical);
  EXPECT_EQ(tier->entity, "Customer");
  EXPECT_EQ(tier->field, "Tier");
  // Most frequent first.
  EXPECT_EQ(tier->categories, (std::vector<std::string>{"Gold", "Silver"}));
  EXPECT_EQ(tier->codes, (std::vector<int32_t>{0, 1, 0, -1, 1, 0}));
  EXPECT_TRUE(tier->IsMissing(3));
  EXPECT_FALSE(tier->IsMissing(0));

  const CustomerAttribute* age = a.Find("Age");
  ASSERT_NE(age, nullptr);
  EXPECT_EQ(age->kind, AttributeKind::kNumeric);
  EXPECT_FALSE(age->is_date);
  EXPECT_EQ(age->numbers[0], 20);
  EXPECT_TRUE(std::isnan(age->numbers[2]));
  EXPECT_TRUE(age->IsMissing(2));
  EXPECT_TRUE(age->IsMissing(6));  // outside the index
  EXPECT_TRUE(age->IsMissing(-1));
  EXPECT_DOUBLE_EQ(a.Find("Income")->numbers[3], 3001.5);

  const CustomerAttribute* vip = a.Find("Vip");
  ASSERT_NE(vip, nullptr);
  EXPECT_EQ(vip->kind, AttributeKind::kCategorical);
  EXPECT_EQ(vip->categories, (std::vector<std::string>{"false", "true"}));
  EXPECT_EQ(vip->codes, (std::vector<int32_t>{0, 1, 0, 1, 0, -1}));

  const CustomerAttribute* dob = a.Find("years since DateOfBirth");
  ASSERT_NE(dob, nullptr);
  EXPECT_TRUE(dob->is_date);
  EXPECT_EQ(dob->field, "DateOfBirth");
  EXPECT_EQ(a.Find("Customer.DateOfBirth"), dob);  // entity.field also finds it
  const double days10 = DaysFromCivil(2026, 1, 1) - DaysFromCivil(2016, 1, 1);
  EXPECT_DOUBLE_EQ(dob->numbers[0], days10 / 365.25);
  const CustomerAttribute* seen = a.Find("years since FirstSeen");
  ASSERT_NE(seen, nullptr);
  EXPECT_DOUBLE_EQ(seen->numbers[4], (DaysFromCivil(2026, 1, 1) - DaysFromCivil(2024, 1, 1)) / 365.25);
}

TEST(CustomerAttributes, ManyValuesKeepTopCategoriesAndLumpTheRestAsOther) {
  // 40 customers: value "A" x10, "B" x8, "C" x6, "D" x4, "E".."H" x3 each.
  Table t(MakeSchema({{"City", DataType::kString}}));
  std::vector<std::pair<std::string, int>> counts = {{"A", 10}, {"B", 8}, {"C", 6}, {"D", 4},
                                                     {"E", 3},  {"F", 3}, {"G", 3}, {"H", 3}};
  std::vector<std::string> values;
  for (auto& [v, k] : counts) {
    for (int i = 0; i < k; ++i) values.push_back(v);
  }
  for (const auto& v : values) {
    t.mutable_column(0).AppendString(v);
    t.FinishRow();
  }
  AttributeOptions o = Options();
  o.max_categories = 4;
  std::vector<AttributeSource> sources = {{"Customer", &t, {}}};
  auto r = BuildCustomerAttributes(40, sources, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CustomerAttribute* city = r->Find("City");
  ASSERT_NE(city, nullptr);
  EXPECT_EQ(city->categories, (std::vector<std::string>{"A", "B", "C", "(other)"}));
  for (size_t i = 0; i < values.size(); ++i) {
    const int32_t want = values[i] == "A" ? 0 : values[i] == "B" ? 1 : values[i] == "C" ? 2 : 3;
    EXPECT_EQ(city->codes[i], want) << i;
  }
  // Ties (E..H, 3 each) are broken by value.
  o.max_categories = 6;
  r = BuildCustomerAttributes(40, sources, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Find("City")->categories, (std::vector<std::string>{"A", "B", "C", "D", "E", "(other)"}));
  // With room for all 8 values, no "(other)".
  o.max_categories = 8;
  r = BuildCustomerAttributes(40, sources, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Find("City")->categories.size(), 8u);
}

TEST(CustomerAttributes, CustomerOfMapsRowsAndTheFirstRowWins) {
  Table m(MakeSchema({{"CustomerId", DataType::kString}, {"Spend", DataType::kDouble}}));
  // rows: customer 2, customer 0, none, customer 2 again.
  const double spend[] = {5, 7, 9, 11};
  for (double s : spend) {
    m.mutable_column(0).AppendString("x");
    m.mutable_column(1).AppendDouble(s);
    m.FinishRow();
  }
  Table c(MakeSchema({{"Spend", DataType::kInt64}}));
  for (int i = 0; i < 3; ++i) {
    c.mutable_column(0).AppendInt64(i);
    c.FinishRow();
  }
  std::vector<AttributeSource> sources = {{"Customer", &c, {}}, {"Customer_Measure", &m, {2, 0, -1, 2}}};
  auto r = BuildCustomerAttributes(3, sources, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->attributes.size(), 2u);
  // The second "Spend" is named entity.field.
  const CustomerAttribute* measured = r->Find("Customer_Measure.Spend");
  ASSERT_NE(measured, nullptr);
  EXPECT_EQ(measured->name, "Customer_Measure.Spend");
  EXPECT_EQ(measured->numbers[0], 7);
  EXPECT_TRUE(std::isnan(measured->numbers[1]));
  EXPECT_EQ(measured->numbers[2], 5);
  EXPECT_EQ(r->Find("Spend")->entity, "Customer");
}

TEST(CustomerAttributes, BadOptionsAndSourcesAreInvalidArguments) {
  Table t = CustomerTable();
  std::vector<AttributeSource> ok = {{"Customer", &t, {}}};
  AttributeOptions o = Options();
  o.max_categories = 1;
  auto r = BuildCustomerAttributes(6, ok, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("max_categories"), std::string::npos);
  o = Options();
  o.max_categories = 1001;
  EXPECT_FALSE(BuildCustomerAttributes(6, ok, o).ok());
  o = Options();
  o.as_of_day = DaysFromCivil(1800, 1, 1);
  EXPECT_NE(BuildCustomerAttributes(6, ok, o).status().message().find("as_of_day"), std::string::npos);
  o = Options();
  o.threads = -1;
  EXPECT_NE(BuildCustomerAttributes(6, ok, o).status().message().find("threads"), std::string::npos);

  EXPECT_NE(BuildCustomerAttributes(7, ok, Options()).status().message().find("one row per customer"),
            std::string::npos);
  EXPECT_FALSE(BuildCustomerAttributes(-1, ok, Options()).ok());
  std::vector<AttributeSource> no_table = {{"Customer", nullptr, {}}};
  EXPECT_FALSE(BuildCustomerAttributes(6, no_table, Options()).ok());
  std::vector<AttributeSource> no_name = {{"", &t, {}}};
  EXPECT_FALSE(BuildCustomerAttributes(6, no_name, Options()).ok());
  std::vector<AttributeSource> short_map = {{"M", &t, {0, 1}}};
  EXPECT_NE(BuildCustomerAttributes(6, short_map, Options()).status().message().find("customer_of"),
            std::string::npos);
  std::vector<AttributeSource> bad_map = {{"M", &t, {0, 1, 2, 3, 4, 9}}};
  EXPECT_NE(BuildCustomerAttributes(6, bad_map, Options()).status().message().find("customer_of[5] = 9"),
            std::string::npos);
}

TEST(CustomerAttributes, ResultDoesNotDependOnThreads) {
  Table t = CustomerTable();
  std::vector<AttributeSource> sources = {{"Customer", &t, {}}, {"Again", &t, {5, 4, 3, 2, 1, 0}}};
  AttributeOptions one = Options(), four = Options();
  one.threads = 1;
  four.threads = 4;
  auto a = BuildCustomerAttributes(6, sources, one);
  auto b = BuildCustomerAttributes(6, sources, four);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->attributes.size(), b->attributes.size());
  for (size_t i = 0; i < a->attributes.size(); ++i) {
    EXPECT_EQ(a->attributes[i].name, b->attributes[i].name);
    EXPECT_EQ(a->attributes[i].codes, b->attributes[i].codes);
    ASSERT_EQ(a->attributes[i].numbers.size(), b->attributes[i].numbers.size());
    for (size_t c = 0; c < a->attributes[i].numbers.size(); ++c) {
      const double x = a->attributes[i].numbers[c], y = b->attributes[i].numbers[c];
      EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y)));
    }
  }
  EXPECT_EQ(a->skipped, b->skipped);
  // The second source's fields are renamed entity.field.
  EXPECT_NE(a->Find("Again.Age"), nullptr);
  EXPECT_EQ(a->Find("Again.Age")->numbers[5], 20);
}

TEST(CustomerAttributes, ExcludedFieldsAreNotAttributes) {
  Table t = CustomerTable();
  std::vector<AttributeSource> sources = {{"Customer", &t, {}}};
  AttributeOptions o = Options();
  o.exclude = {"Income", "Tier"};
  auto r = BuildCustomerAttributes(6, sources, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Find("Income"), nullptr);
  EXPECT_EQ(r->Find("Tier"), nullptr);
  EXPECT_NE(r->Find("Age"), nullptr);
}

TEST(CustomerAttributes, FeatureMatrixOneHotsCategoriesAndKeepsMissingAsNaN) {
  CustomerAttributes a;
  a.customers = 3;
  CustomerAttribute num;
  num.name = "Income";
  num.kind = AttributeKind::kNumeric;
  num.numbers = {1.5, std::nan(""), 3};
  CustomerAttribute cat;
  cat.name = "Tier";
  cat.kind = AttributeKind::kCategorical;
  cat.categories = {"Gold", "Silver"};
  cat.codes = {1, 0, -1};
  a.attributes = {num, cat};
  std::vector<int64_t> rows = {2, 0, 1};
  std::vector<int32_t> owner;
  FeatureMatrix m = ToFeatureMatrix(a, rows, &owner);
  EXPECT_EQ(m.names, (std::vector<std::string>{"Income", "Tier = Gold", "Tier = Silver"}));
  EXPECT_EQ(owner, (std::vector<int32_t>{0, 1, 1}));
  ASSERT_EQ(m.rows, 3);
  EXPECT_EQ(m.at(0, 0), 3.0f);
  EXPECT_TRUE(std::isnan(m.at(0, 1)));
  EXPECT_TRUE(std::isnan(m.at(0, 2)));
  EXPECT_EQ(m.at(1, 0), 1.5f);
  EXPECT_EQ(m.at(1, 1), 0.0f);
  EXPECT_EQ(m.at(1, 2), 1.0f);
  EXPECT_TRUE(std::isnan(m.at(2, 0)));
  EXPECT_EQ(m.at(2, 1), 1.0f);
  EXPECT_EQ(m.at(2, 2), 0.0f);
}

}  // namespace
}  // namespace cdp
