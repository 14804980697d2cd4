#include "table/column.h"

#include <gtest/gtest.h>

#include <vector>

namespace cdp {
namespace {

TEST(ColumnTest, TracksNullsAcrossWordBoundaries) {
  Column c(DataType::kInt64);
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 0) c.AppendNull(); else c.AppendInt64(i);
  }
  EXPECT_EQ(c.size(), 200u);
  EXPECT_EQ(c.null_count(), 67u);
  EXPECT_TRUE(c.IsNull(0));
  EXPECT_EQ(c.Int64At(131), 131);
  EXPECT_TRUE(c.IsNull(129));
}

// Bulk appends must give exactly the column that one Append* per row gives,
// from any starting row (validity words are filled across boundaries).
TEST(ColumnTest, BulkAppendsEqualRowByRowAppends) {
  for (size_t start : {0, 1, 63, 64, 70}) {
    const size_t n = 150;
    std::vector<int64_t> i64(n);
    std::vector<double> f64(n);
    std::vector<uint8_t> u8(n), null(n);
    std::vector<int32_t> i32(n);
    for (size_t i = 0; i < n; ++i) {
      i64[i] = static_cast<int64_t>(i * 1000003) - 7;
      f64[i] = i * 0.5;
      u8[i] = static_cast<uint8_t>(i % 3);
      i32[i] = static_cast<int32_t>(i) - 20;
      null[i] = i % 5 == 0 || i == 149;
    }
    Column bulk[4] = {Column(DataType::kTimestamp), Column(DataType::kDouble), Column(DataType::kBool),
                      Column(DataType::kDate)};
    Column rows[4] = {Column(DataType::kTimestamp), Column(DataType::kDouble), Column(DataType::kBool),
                      Column(DataType::kDate)};
    for (size_t k = 0; k < 4; ++k) {
      for (size_t i = 0; i < start; ++i) {
        bulk[k].AppendNull();
        rows[k].AppendNull();
      }
    }
    bulk[0].AppendInt64s(i64.data(), null.data(), n);
    bulk[1].AppendDoubles(f64.data(), null.data(), n);
    bulk[2].AppendBools(u8.data(), null.data(), n);
    bulk[3].AppendDates(i32.data(), null.data(), n);
    for (size_t i = 0; i < n; ++i) {
      if (null[i]) {
        for (auto& c : rows) c.AppendNull();
        continue;
      }
      rows[0].AppendTimestamp(i64[i]);
      rows[1].AppendDouble(f64[i]);
      rows[2].AppendBool(u8[i] != 0);
      rows[3].AppendDate(i32[i]);
    }
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(bulk[k].size(), rows[k].size());
      EXPECT_EQ(bulk[k].null_count(), rows[k].null_count()) << "column " << k << " start " << start;
      EXPECT_EQ(bulk[k].validity(), rows[k].validity()) << "column " << k << " start " << start;
    }
    EXPECT_EQ(bulk[0].int64_data(), rows[0].int64_data());
    EXPECT_EQ(bulk[1].double_data(), rows[1].double_data());
    EXPECT_EQ(bulk[2].bool_data(), rows[2].bool_data());
    EXPECT_EQ(bulk[3].date_data(), rows[3].date_data());
  }
}

TEST(ColumnTest, StringsShareOneArena) {
  Column c(DataType::kString);
  c.AppendString("Abbie");
  c.AppendNull();
  c.AppendString("");
  c.AppendString("Moss");
  EXPECT_EQ(c.StringAt(0), "Abbie");
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_FALSE(c.IsNull(2));
  EXPECT_EQ(c.StringAt(2), "");
  EXPECT_EQ(c.StringAt(3), "Moss");
  EXPECT_EQ(c.string_chars(), "AbbieMoss");
}

TEST(ColumnTest, RebuildsFromBuffers) {
  Column c(DataType::kString);
  c.AppendString("a");
  c.AppendNull();
  c.AppendString("bc");
  auto copy = Column::FromBuffers(DataType::kString, 3, c.validity(), {}, {}, {}, {}, c.string_offsets(),
                                  c.string_chars());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->null_count(), 1u);
  EXPECT_EQ(copy->StringAt(2), "bc");
  auto bad = Column::FromBuffers(DataType::kString, 3, c.validity(), {}, {}, {}, {}, {0, 1, 9, 3}, "abc");
  EXPECT_FALSE(bad.ok());
}

TEST(ColumnTest, RendersValuesAsText) {
  Column d(DataType::kDate);
  d.AppendDate(0);
  EXPECT_EQ(d.ValueToString(0), "1970-01-01");
  Column b(DataType::kBool);
  b.AppendBool(true);
  EXPECT_EQ(b.ValueToString(0), "true");
  Column f(DataType::kDouble);
  f.AppendDouble(138.5);
  EXPECT_EQ(f.ValueToString(0), "138.5");
}

TEST(TableTest, ValidateRejectsRaggedColumns) {
  Table t(Schema({{"Id", DataType::kInt64, {}}, {"Name", DataType::kString, SemanticType("Person.FirstName")}}));
  t.mutable_column(0).AppendInt64(1);
  t.mutable_column(1).AppendString("Ann");
  t.FinishRow();
  EXPECT_TRUE(t.Validate().ok());
  t.mutable_column(0).AppendInt64(2);
  EXPECT_FALSE(t.Validate().ok());
}

TEST(SemanticTypeTest, ValidatesNames) {
  EXPECT_TRUE(SemanticType("Email").is_known());
  EXPECT_TRUE(IsValidSemanticTypeName("Custom.LoyaltyTier"));
  EXPECT_FALSE(IsValidSemanticTypeName("Custom..X"));
  EXPECT_FALSE(IsValidSemanticTypeName("1abc"));
  EXPECT_EQ(ParseDataType("Integer"), DataType::kInt64);
  EXPECT_FALSE(ParseDataType("blob").has_value());
}

}  // namespace
}  // namespace cdp
