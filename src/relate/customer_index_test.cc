// CustomerIndex: ids by position, the lineage lookup of (source, key) with
// many keys (the hash table's probing), duplicates, empty keys, unknown
// sources, and the errors of a lineage row without its customer.
#include "relate/customer_index.h"

#include <gtest/gtest.h>

#include <random>

namespace cdp {
namespace {

Table CustomerTable(const std::vector<int64_t>& ids) {
  Table t(Schema({Field{"CustomerId", DataType::kInt64, {}}}));
  for (int64_t id : ids) {
    t.mutable_column(0).AppendInt64(id);
    t.FinishRow();
  }
  return t;
}

Table KeyTable(const std::vector<std::tuple<int64_t, std::string, std::string>>& rows) {
  Table t(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Source", DataType::kString, {}},
                  Field{"SourceKey", DataType::kString, {}}}));
  for (const auto& [id, s, k] : rows) {
    t.mutable_column(0).AppendInt64(id);
    t.mutable_column(1).AppendString(s);
    t.mutable_column(2).AppendString(k);
    t.FinishRow();
  }
  return t;
}

TEST(CustomerIndexTest, LooksUpEveryRecordOfManyAndNothingElse) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < 3000; ++i) ids.push_back(100 + 7 * i);
  std::vector<std::tuple<int64_t, std::string, std::string>> rows;
  std::mt19937 rng(3);
  for (int64_t i = 0; i < 9000; ++i) {
    int64_t c = ids[static_cast<size_t>(rng() % ids.size())];
    rows.emplace_back(c, i % 3 == 0 ? "Loyalty" : "Contacts", "K" + std::to_string(i));
  }
  auto ix = CustomerIndex::Build(CustomerTable(ids), KeyTable(rows));
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  EXPECT_EQ(ix->size(), ids.size());
  EXPECT_EQ(ix->customer_id(5), ids[5]);
  EXPECT_EQ(ix->IndexOf(100 + 7 * 42), 42);
  EXPECT_EQ(ix->IndexOf(101), -1);
  for (const auto& [c, s, k] : rows) {
    int64_t at = ix->IndexOfRecord(s, k);
    ASSERT_GE(at, 0) << s << ":" << k;
    EXPECT_EQ(ix->customer_id(static_cast<uint32_t>(at)), c);
  }
  EXPECT_EQ(ix->IndexOfRecord("Contacts", "K0"), -1);  // K0 is a Loyalty key
  EXPECT_EQ(ix->IndexOfRecord("Contacts", "K9000"), -1);
  EXPECT_EQ(ix->IndexOfRecord("Contacts", ""), -1);
  EXPECT_EQ(ix->IndexOfRecord("POS", "K1"), -1);
  EXPECT_EQ(ix->sources(), (std::vector<std::string>{"Contacts", "Loyalty"}));
  CustomerIndex copy = *ix;  // shares the data
  EXPECT_EQ(copy.IndexOfRecord("Loyalty", "K3"), ix->IndexOfRecord("Loyalty", "K3"));
  EXPECT_EQ(copy.memory_bytes(), ix->memory_bytes());
}

TEST(CustomerIndexTest, DuplicateRecordKeepsItsFirstCustomerAndEmptyKeysWork) {
  auto ix = CustomerIndex::Build(CustomerTable({1, 2, 3}),
                                 KeyTable({{2, "Contacts", "a"}, {3, "Contacts", "a"}, {1, "Contacts", ""}, {3, "CRM", "a"}}));
  ASSERT_TRUE(ix.ok());
  EXPECT_EQ(ix->IndexOfRecord("Contacts", "a"), 1);
  EXPECT_EQ(ix->IndexOfRecord("Contacts", ""), 0);
  EXPECT_EQ(ix->IndexOfRecord("CRM", "a"), 2);
  EXPECT_EQ(CustomerIndex().size(), 0u);
  EXPECT_EQ(CustomerIndex().IndexOfRecord("Contacts", "a"), -1);
}

TEST(CustomerIndexTest, LineageOfAnUnknownCustomerOrUnsortedCustomersIsDataLoss) {
  auto bad = CustomerIndex::Build(CustomerTable({1, 2}), KeyTable({{1, "Contacts", "a"}, {5, "Contacts", "b"}}));
  ASSERT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("row 2 names CustomerId 5"), std::string::npos) << bad.status().message();
  EXPECT_EQ(CustomerIndex::Build(CustomerTable({2, 1}), KeyTable({})).status().code(), StatusCode::kDataLoss);
  Table no_source(Schema({Field{"CustomerId", DataType::kInt64, {}}}));
  EXPECT_EQ(CustomerIndex::Build(CustomerTable({1}), no_source).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cdp
