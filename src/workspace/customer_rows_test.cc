#include "workspace/customer_rows.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace cdp {
namespace {

namespace fs = std::filesystem;

Table Rows(const std::vector<std::pair<int64_t, std::string>>& rows) {
  Table t(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Value", DataType::kString, {}}}));
  for (const auto& [id, v] : rows) {
    t.mutable_column(0).AppendInt64(id);
    t.mutable_column(1).AppendString(v);
    t.FinishRow();
  }
  return t;
}

std::vector<std::string> ValuesOf(const CustomerRows& rows, int64_t id) {
  std::vector<std::string> out;
  for (uint32_t r : rows.Of(id)) out.emplace_back(rows.table->column(1).StringAt(r));
  return out;
}

TEST(CustomerRowsTest, RowsOfACustomerInTableOrderAndANewGenerationIsSeen) {
  const fs::path dir = fs::temp_directory_path() / ("cdp_customer_rows_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto ws = Workspace::Init(dir.string());
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  ASSERT_TRUE(CommitEntities(**ws, {{"Enrichment_A", Rows({{7, "c"}, {3, "a"}, {7, "d"}, {5, "b"}, {7, "e"}})}}, {}, "test").ok());
  auto snap = (*ws)->data().Current();
  ASSERT_TRUE(snap.ok());
  auto rows = LoadCustomerRows(**ws, *snap, "Enrichment_A");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(ValuesOf(**rows, 7), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(ValuesOf(**rows, 3), (std::vector<std::string>{"a"}));
  EXPECT_TRUE((*rows)->Of(4).empty());
  EXPECT_TRUE((*rows)->Of(-1).empty());
  // The same file is read once.
  auto again = LoadCustomerRows(**ws, *snap, "Enrichment_A");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), rows->get());

  // A new generation's file is read again.
  ASSERT_TRUE(CommitEntities(**ws, {{"Enrichment_A", Rows({{7, "z"}})}}, {}, "test").ok());
  auto snap2 = (*ws)->data().Current();
  ASSERT_TRUE(snap2.ok());
  auto fresh = LoadCustomerRows(**ws, *snap2, "Enrichment_A");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(ValuesOf(**fresh, 7), (std::vector<std::string>{"z"}));
  EXPECT_TRUE((*fresh)->Of(3).empty());

  EXPECT_EQ(LoadCustomerRows(**ws, *snap2, "Enrichment_None").status().code(), StatusCode::kNotFound);
  Table keyless(Schema({Field{"Key", DataType::kString, {}}}));
  keyless.mutable_column(0).AppendString("k");
  keyless.FinishRow();
  ASSERT_TRUE(CommitEntities(**ws, {{"Enrichment_B", std::move(keyless)}}, {}, "test").ok());
  auto snap3 = (*ws)->data().Current();
  ASSERT_TRUE(snap3.ok());
  EXPECT_EQ(LoadCustomerRows(**ws, *snap3, "Enrichment_B").status().code(), StatusCode::kFailedPrecondition);
  ws->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cdp
