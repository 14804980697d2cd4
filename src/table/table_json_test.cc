#include "table/table_json.h"

#include <gtest/gtest.h>

#include <limits>

namespace cdp {
namespace {

Table AllTypes() {
  Table t(Schema({Field{"Id", DataType::kInt64, {}}, Field{"Amount", DataType::kDouble, {}},
                  Field{"Active", DataType::kBool, {}}, Field{"Born", DataType::kDate, {}},
                  Field{"At", DataType::kTimestamp, {}}, Field{"Name", DataType::kString, {}}}));
  auto row = [&](int64_t id, double amount, bool active, int32_t born, int64_t at, std::string_view name) {
    t.mutable_column(0).AppendInt64(id);
    t.mutable_column(1).AppendDouble(amount);
    t.mutable_column(2).AppendBool(active);
    t.mutable_column(3).AppendDate(born);
    t.mutable_column(4).AppendTimestamp(at);
    t.mutable_column(5).AppendString(name);
    t.FinishRow();
  };
  row(-42, 97.75, true, 3287, 1700000000123456, "Zoë \"the\" \\ barista\n\ttab \x01");
  row(7, 3.0, false, -1, 0, "\xC3");  // a truncated UTF-8 sequence
  row(0, std::numeric_limits<double>::infinity(), true, 0, 1, "\xED\xA0\x80 surrogate, \xF0\x9F\x98\x80 emoji");
  for (size_t c = 0; c < t.num_columns(); ++c) t.mutable_column(c).AppendNull();
  t.FinishRow();
  return t;
}

TEST(TableJsonTest, AppendRowJsonEqualsRowToJson) {
  Table t = AllTypes();
  for (size_t r = 0; r < t.num_rows(); ++r) {
    std::string text;
    AppendRowJson(&text, t, r);
    auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << "row " << r << ": " << text;
    nlohmann::ordered_json expected = RowToJson(t, r);
    if (r == 1 || r == 2) {  // invalid UTF-8 comes out as U+FFFD; RowToJson keeps the bytes
      EXPECT_NE(parsed["Name"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << text;
      parsed.erase("Name");
      expected.erase("Name");
    }
    EXPECT_EQ(parsed, expected) << text;
  }
}

TEST(TableJsonTest, EscapesAndKeepsDoublesDoubles) {
  Table t = AllTypes();
  std::string text;
  AppendRowJson(&text, t, 0, "Id");
  EXPECT_EQ(text.find("\"Id\""), std::string::npos);
  EXPECT_NE(text.find(R"("Zoë \"the\" \\ barista\n\ttab \u0001")"), std::string::npos) << text;
  text.clear();
  AppendValueJson(&text, t.column(1), 1);
  EXPECT_EQ(text, "3.0");
  text.clear();
  AppendValueJson(&text, t.column(1), 2);
  EXPECT_EQ(text, "\"inf\"");
  text.clear();
  AppendJsonString(&text, "\xF0\x9F\x98\x80");
  EXPECT_EQ(text, "\"\xF0\x9F\x98\x80\"");
}

}  // namespace
}  // namespace cdp
