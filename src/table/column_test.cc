#include "table/column.h"

#include <gtest/gtest.h>

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
