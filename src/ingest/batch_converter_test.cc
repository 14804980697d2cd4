#include "ingest/batch_converter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/datetime.h"
#include "ingest/csv_reader.h"
#include "ingest/internal/test_util.h"

namespace cdp {
namespace {

using ingest_internal::TempDir;
using ingest_internal::kNull;
using ingest_internal::MakeBatch;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

FieldSpec Spec(std::string name, DataType type, std::string source = "") {
  FieldSpec f;
  f.name = std::move(name);
  f.type = type;
  f.source_field = std::move(source);
  return f;
}

const std::vector<std::string> kInput = {"id", "name", "score", "active", "born", "seen"};

std::vector<FieldSpec> TypedSpecs() {
  return {Spec("id", DataType::kInt64),    Spec("name", DataType::kString), Spec("score", DataType::kDouble),
          Spec("active", DataType::kBool), Spec("born", DataType::kDate),   Spec("seen", DataType::kTimestamp)};
}

struct Converted {
  Table table;
  std::vector<QuarantinedRecord> quarantine;
  ConvertStats stats;
};

Converted Convert(const BatchConverter& c, const RawRecordBatch& b) {
  Converted out;
  Status s = c.Convert(b, &out.table, &out.quarantine, &out.stats);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out.stats.rows_read, out.stats.rows_converted + out.stats.rows_quarantined + out.stats.rows_filtered);
  EXPECT_EQ(static_cast<int64_t>(out.table.num_rows()), out.stats.rows_converted);
  EXPECT_EQ(static_cast<int64_t>(out.quarantine.size()), out.stats.rows_quarantined);
  Status v = out.table.Validate();
  EXPECT_TRUE(v.ok()) << v.ToString();
  return out;
}

TEST(BatchConverterTest, ConvertsEveryType) {
  auto c = BatchConverter::Create(TypedSpecs(), {}, kInput, "people.csv");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto out = Convert(*c, MakeBatch({{"1", "Ann", "2.5", "yes", "2000-02-29", "2020-01-02T03:04:05Z"},
                                    {" -7 ", " Bob ", "1e2", "F", "1970-01-01", "2020-01-02"}}));
  ASSERT_EQ(out.table.num_rows(), 2u);
  const Table& t = out.table;
  EXPECT_EQ(t.schema().field(0).name, "id");
  EXPECT_EQ(t.column(0).Int64At(0), 1);
  EXPECT_EQ(t.column(0).Int64At(1), -7);
  EXPECT_EQ(t.column(1).StringAt(0), "Ann");
  EXPECT_EQ(t.column(1).StringAt(1), " Bob ");  // strings are kept exactly
  EXPECT_EQ(t.column(2).DoubleAt(0), 2.5);
  EXPECT_EQ(t.column(2).DoubleAt(1), 100.0);
  EXPECT_TRUE(t.column(3).BoolAt(0));
  EXPECT_FALSE(t.column(3).BoolAt(1));
  EXPECT_EQ(t.column(4).DateAt(0), DaysFromCivil(2000, 2, 29));
  EXPECT_EQ(t.column(4).DateAt(1), 0);
  EXPECT_EQ(t.column(5).ValueToString(0), "2020-01-02T03:04:05Z");
  EXPECT_EQ(t.column(5).ValueToString(1), "2020-01-02T00:00:00Z");
  EXPECT_EQ(out.stats.rows_converted, 2);
}

TEST(BatchConverterTest, EmptyTextAndNullAreNullForEveryType) {
  auto c = BatchConverter::Create(TypedSpecs(), {}, kInput, "people.csv");
  ASSERT_TRUE(c.ok());
  auto out = Convert(*c, MakeBatch({{"", "", "", "", "", ""},
                                    {kNull, kNull, kNull, kNull, kNull, kNull},
                                    {"  ", " ", "\t", " ", "  ", " "}}));
  ASSERT_EQ(out.table.num_rows(), 3u);
  for (size_t col = 0; col < 6; ++col) {
    EXPECT_TRUE(out.table.column(col).IsNull(0)) << col;
    EXPECT_TRUE(out.table.column(col).IsNull(1)) << col;
  }
  // Blank is null for non-strings; a string keeps its spaces.
  for (size_t col : {0u, 2u, 3u, 4u, 5u}) EXPECT_TRUE(out.table.column(col).IsNull(2)) << col;
  EXPECT_EQ(out.table.column(1).StringAt(2), " ");
}

TEST(BatchConverterTest, BadValueQuarantinesTheWholeRecord) {
  std::vector<FieldSpec> specs = TypedSpecs();
  specs[4].format = *ParseDateFormat("%d/%m/%Y");
  auto c = BatchConverter::Create(specs, {}, kInput, "people.csv");
  ASSERT_TRUE(c.ok());
  auto out = Convert(*c, MakeBatch({{"1", "Ann", "2.5", "y", "29/02/2020", ""},
                                    {"2", "Bob", "2.5", "y", "31/02/2020", ""},
                                    {"3", "Cy, Jr.", "lots", "y", "01/01/2020", ""},
                                    {"4", "Di", "1", "maybe", "01/01/2020", ""}}));
  ASSERT_EQ(out.table.num_rows(), 1u);
  EXPECT_EQ(out.table.column(0).Int64At(0), 1);
  ASSERT_EQ(out.quarantine.size(), 3u);
  const QuarantinedRecord& q0 = out.quarantine[0];
  EXPECT_EQ(q0.line, 3);
  EXPECT_EQ(q0.field, "born");
  EXPECT_EQ(q0.value, "31/02/2020");
  EXPECT_EQ(q0.reason, "'31/02/2020' is not a valid date (%d/%m/%Y)");
  EXPECT_EQ(q0.raw_record, "2,Bob,2.5,y,31/02/2020,");
  EXPECT_EQ(out.quarantine[1].line, 4);
  EXPECT_EQ(out.quarantine[1].field, "score");
  EXPECT_EQ(out.quarantine[1].raw_record, "3,\"Cy, Jr.\",lots,y,01/01/2020,");
  EXPECT_EQ(out.quarantine[2].field, "active");
  EXPECT_EQ(out.stats.rows_read, 4);
  EXPECT_EQ(out.stats.rows_quarantined, 3);
}

TEST(BatchConverterTest, WrongFieldCountAndRecordErrorsAreQuarantined) {
  auto c = BatchConverter::Create({Spec("a", DataType::kInt64)}, {}, {"a", "b"}, "x.csv");
  ASSERT_TRUE(c.ok());
  RawRecordBatch b = MakeBatch({{"1", "x"}, {"2"}, {}, {"3", "y", "z"}, {"4", "w"}});
  b.record_errors.emplace_back(2, "x.csv: invalid UTF-8 at line 4, column 3 (byte 0xFF)");
  auto out = Convert(*c, b);
  ASSERT_EQ(out.table.num_rows(), 2u);
  EXPECT_EQ(out.table.column(0).Int64At(1), 4);
  ASSERT_EQ(out.quarantine.size(), 3u);
  EXPECT_EQ(out.quarantine[0].line, 3);
  EXPECT_EQ(out.quarantine[0].reason, "expected 2 fields, found 1");
  EXPECT_EQ(out.quarantine[0].raw_record, "2");
  EXPECT_EQ(out.quarantine[1].line, 4);
  EXPECT_THAT(out.quarantine[1].reason, HasSubstr("invalid UTF-8 at line 4, column 3"));
  EXPECT_EQ(out.quarantine[2].reason, "expected 2 fields, found 3");
}

TEST(BatchConverterTest, TrailingFieldsOptionalReadsMissingFieldsAsNull) {
  auto c = BatchConverter::Create({Spec("a", DataType::kInt64), Spec("c", DataType::kString)}, {}, {"a", "b", "c"},
                                  "x.jsonl");
  ASSERT_TRUE(c.ok());
  RawRecordBatch b = MakeBatch({{"1"}, {"2", "x", "y", "later"}});
  b.trailing_fields_optional = true;
  auto out = Convert(*c, b);
  ASSERT_EQ(out.table.num_rows(), 2u);
  EXPECT_TRUE(out.table.column(1).IsNull(0));
  EXPECT_EQ(out.table.column(1).StringAt(1), "y");
}

TEST(BatchConverterTest, SourceFieldRenamesAndSubsets) {
  FieldSpec email = Spec("Email", DataType::kString, "E-Mail Address");
  email.semantic = SemanticType(std::string(SemanticType::kEmail));
  auto c = BatchConverter::Create({email}, {}, {"id", "E-Mail Address"}, "x.csv");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->schema().field(0).name, "Email");
  EXPECT_EQ(c->schema().field(0).semantic.name(), "Email");
  auto out = Convert(*c, MakeBatch({{"1", "a@b.c"}}));
  EXPECT_EQ(out.table.column(0).StringAt(0), "a@b.c");
}

TEST(BatchConverterTest, CreateErrorsNameTheField) {
  auto missing = BatchConverter::Create({Spec("Email", DataType::kString)}, {}, {"id", "name"}, "contacts.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "field 'Email' not found in contacts.csv; fields are: id, name");

  auto dup = BatchConverter::Create({Spec("id", DataType::kString), Spec("id", DataType::kInt64)}, {}, {"id"}, "c");
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("'id'"));

  FieldSpec bad_pattern = Spec("d", DataType::kDate);
  bad_pattern.format.date_style = DateStyle::kPattern;
  bad_pattern.format.pattern = "%d/%m";
  auto pat = BatchConverter::Create({bad_pattern}, {}, {"d"}, "c");
  EXPECT_EQ(pat.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(pat.status().message(), HasSubstr("field 'd'"));

  FieldSpec bad_semantic = Spec("s", DataType::kString);
  bad_semantic.semantic = SemanticType("not valid!");
  EXPECT_EQ(BatchConverter::Create({bad_semantic}, {}, {"s"}, "c").status().code(), StatusCode::kInvalidArgument);

  auto empty = BatchConverter::Create({Spec("", DataType::kString, "s")}, {}, {"s"}, "c");
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST(BatchConverterTest, FilterCreateErrors) {
  const std::vector<FieldSpec> specs = {Spec("age", DataType::kInt64), Spec("name", DataType::kString)};
  const std::vector<std::string> in = {"age", "name"};
  auto unknown = BatchConverter::Create(specs, {{"country", FilterOp::kEquals, {"US"}}}, in, "c.csv");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("'country'"));

  auto bad_value = BatchConverter::Create(specs, {{"age", FilterOp::kGreater, {"old"}}}, in, "c.csv");
  EXPECT_EQ(bad_value.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_value.status().message(), HasSubstr("field 'age'"));
  EXPECT_THAT(bad_value.status().message(), HasSubstr("'old' is not a valid int64"));

  EXPECT_EQ(BatchConverter::Create(specs, {{"age", FilterOp::kContains, {"1"}}}, in, "c").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchConverter::Create(specs, {{"age", FilterOp::kEquals, {}}}, in, "c").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchConverter::Create(specs, {{"age", FilterOp::kEquals, {"1", "2"}}}, in, "c").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchConverter::Create(specs, {{"age", FilterOp::kIn, {}}}, in, "c").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchConverter::Create(specs, {{"age", FilterOp::kIsEmpty, {"x"}}}, in, "c").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(BatchConverterTest, FilterOpNamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(FilterOp::kStartsWith); ++i) {
    FilterOp op = static_cast<FilterOp>(i);
    EXPECT_EQ(ParseFilterOp(FilterOpName(op)), op);
  }
  EXPECT_EQ(ParseFilterOp("like"), std::nullopt);
}

// Which ids pass `filter` over rows (id int64, country string, born date, score double, vip bool).
std::vector<int64_t> Passing(const RowFilter& filter) {
  std::vector<FieldSpec> specs = {Spec("id", DataType::kInt64), Spec("country", DataType::kString),
                                  Spec("born", DataType::kDate), Spec("score", DataType::kDouble),
                                  Spec("vip", DataType::kBool)};
  auto c = BatchConverter::Create(specs, {filter}, {"id", "country", "born", "score", "vip"}, "f.csv");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok()) return {};
  auto out = Convert(*c, MakeBatch({{"1", "US", "1980-05-01", "1.5", "true"},
                                    {"2", "USA", "1990-01-01", "2.5", "false"},
                                    {"3", "", "", "", ""},
                                    {"4", "DE", "2001-12-31", "-1", "yes"}}));
  EXPECT_EQ(out.stats.rows_read, 4);
  EXPECT_EQ(out.stats.rows_filtered, 4 - out.stats.rows_converted);
  std::vector<int64_t> ids;
  for (size_t r = 0; r < out.table.num_rows(); ++r) ids.push_back(out.table.column(0).Int64At(r));
  return ids;
}

TEST(BatchConverterTest, FiltersByOperator) {
  EXPECT_THAT(Passing({"country", FilterOp::kEquals, {"US"}}), ElementsAre(1));
  EXPECT_THAT(Passing({"country", FilterOp::kNotEquals, {"US"}}), ElementsAre(2, 4));  // null fails
  EXPECT_THAT(Passing({"country", FilterOp::kIn, {"US", "USA"}}), ElementsAre(1, 2));
  EXPECT_THAT(Passing({"country", FilterOp::kNotIn, {"US", "USA"}}), ElementsAre(4));
  EXPECT_THAT(Passing({"country", FilterOp::kIsEmpty, {}}), ElementsAre(3));
  EXPECT_THAT(Passing({"country", FilterOp::kIsNotEmpty, {}}), ElementsAre(1, 2, 4));
  EXPECT_THAT(Passing({"country", FilterOp::kContains, {"S"}}), ElementsAre(1, 2));
  EXPECT_THAT(Passing({"country", FilterOp::kStartsWith, {"USA"}}), ElementsAre(2));
  EXPECT_THAT(Passing({"country", FilterOp::kLess, {"UT"}}), ElementsAre(1, 2, 4));
  EXPECT_THAT(Passing({"id", FilterOp::kGreater, {"2"}}), ElementsAre(3, 4));
  EXPECT_THAT(Passing({"id", FilterOp::kGreaterEqual, {"2"}}), ElementsAre(2, 3, 4));
  EXPECT_THAT(Passing({"id", FilterOp::kLessEqual, {" 2 "}}), ElementsAre(1, 2));
  EXPECT_THAT(Passing({"born", FilterOp::kLess, {"1990-01-01"}}), ElementsAre(1));
  EXPECT_THAT(Passing({"born", FilterOp::kGreaterEqual, {"1990-01-01"}}), ElementsAre(2, 4));
  EXPECT_THAT(Passing({"score", FilterOp::kGreater, {"0"}}), ElementsAre(1, 2));
  EXPECT_THAT(Passing({"vip", FilterOp::kEquals, {"y"}}), ElementsAre(1, 4));
}

TEST(BatchConverterTest, FiltersCombineWithAndAndBadFilterValuesQuarantine) {
  std::vector<FieldSpec> specs = {Spec("id", DataType::kInt64), Spec("country", DataType::kString)};
  auto c = BatchConverter::Create(specs,
                                  {{"country", FilterOp::kEquals, {"US"}}, {"id", FilterOp::kLess, {"10"}}},
                                  {"id", "country"}, "f.csv");
  ASSERT_TRUE(c.ok());
  auto out = Convert(*c, MakeBatch({{"1", "US"}, {"20", "US"}, {"2", "DE"}, {"x", "US"}, {"x", "DE"}}));
  EXPECT_EQ(out.stats.rows_read, 5);
  EXPECT_EQ(out.stats.rows_converted, 1);
  EXPECT_EQ(out.stats.rows_filtered, 2);
  EXPECT_EQ(out.stats.rows_quarantined, 2);  // a filter field that does not parse cannot be tested
  ASSERT_EQ(out.quarantine.size(), 2u);
  EXPECT_EQ(out.quarantine[0].field, "id");
}

TEST(BatchConverterTest, RowsFilteredOutAreNotQuarantinedForOtherFields) {
  std::vector<FieldSpec> specs = {Spec("kind", DataType::kString), Spec("amount", DataType::kDouble)};
  auto c = BatchConverter::Create(specs, {{"kind", FilterOp::kEquals, {"order"}}}, {"kind", "amount"}, "f.csv");
  ASSERT_TRUE(c.ok());
  auto out = Convert(*c, MakeBatch({{"order", "1.5"}, {"comment", "n/a"}, {"order", "bad"}}));
  EXPECT_EQ(out.stats.rows_converted, 1);
  EXPECT_EQ(out.stats.rows_filtered, 1);
  EXPECT_EQ(out.stats.rows_quarantined, 1);
  EXPECT_EQ(out.quarantine[0].line, 4);
}

TEST(BatchConverterTest, AppendsToTheOutputTableAndChecksItsSchema) {
  auto c = BatchConverter::Create({Spec("a", DataType::kInt64)}, {}, {"a"}, "x.csv");
  ASSERT_TRUE(c.ok());
  Table table;
  std::vector<QuarantinedRecord> q;
  ConvertStats stats;
  ASSERT_TRUE(c->Convert(MakeBatch({{"1"}, {"2"}}), &table, &q, &stats).ok());
  ASSERT_TRUE(c->Convert(MakeBatch({{"3"}}), &table, &q, &stats).ok());
  EXPECT_EQ(table.num_rows(), 3u);
  EXPECT_EQ(table.column(0).Int64At(2), 3);
  EXPECT_EQ(stats.rows_read, 3);

  Table other(Schema({Field{"b", DataType::kString, {}}}));
  EXPECT_EQ(c->Convert(MakeBatch({{"1"}}), &other, &q, &stats).code(), StatusCode::kInvalidArgument);
}

TEST(BatchConverterTest, MalformedBatchIsRejected) {
  auto c = BatchConverter::Create({Spec("a", DataType::kInt64)}, {}, {"a"}, "x.csv");
  ASSERT_TRUE(c.ok());
  RawRecordBatch b = MakeBatch({{"1"}, {"2"}});
  b.is_null.clear();
  Table table;
  std::vector<QuarantinedRecord> q;
  ConvertStats stats;
  EXPECT_EQ(c->Convert(b, &table, &q, &stats).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(stats.rows_read, 0);
}

TEST(BatchConverterTest, LongValuesAndRecordsAreShortenedInTheQuarantine) {
  auto c = BatchConverter::Create({Spec("a", DataType::kInt64), Spec("b", DataType::kString)}, {}, {"a", "b"}, "x");
  ASSERT_TRUE(c.ok());
  const std::string huge(5000, '9');
  auto out = Convert(*c, MakeBatch({{huge + "x", std::string(5000, 'b')}}));
  ASSERT_EQ(out.quarantine.size(), 1u);
  EXPECT_LE(out.quarantine[0].value.size(), 300u);
  EXPECT_LE(out.quarantine[0].raw_record.size(), 1100u);
  EXPECT_LE(out.quarantine[0].reason.size(), 200u);
}

TEST(BatchConverterTest, ConcurrentConvertsWithOneConverterAgree) {
  auto c = BatchConverter::Create(TypedSpecs(), {{"score", FilterOp::kGreater, {"10"}}}, kInput, "p.csv");
  ASSERT_TRUE(c.ok());
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 5000; ++i) {
    rows.push_back({std::to_string(i), "n" + std::to_string(i), std::to_string(i % 50) + ".5",
                    i % 2 ? "true" : "false", i % 97 == 0 ? "2020-02-30" : "2020-02-0" + std::to_string(i % 9 + 1),
                    "2021-06-01 12:00"});
  }
  const RawRecordBatch batch = MakeBatch(rows);
  Converted reference = Convert(*c, batch);
  std::vector<Converted> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&] {
      for (int k = 0; k < 5; ++k) {
        r = Converted{};
        EXPECT_TRUE(c->Convert(batch, &r.table, &r.quarantine, &r.stats).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_EQ(r.stats.rows_converted, reference.stats.rows_converted);
    EXPECT_EQ(r.stats.rows_quarantined, reference.stats.rows_quarantined);
    EXPECT_EQ(r.stats.rows_filtered, reference.stats.rows_filtered);
    ASSERT_EQ(r.table.num_rows(), reference.table.num_rows());
    for (size_t row = 0; row < r.table.num_rows(); row += 97) {
      EXPECT_EQ(r.table.column(1).StringAt(row), reference.table.column(1).StringAt(row));
    }
  }
  EXPECT_GT(reference.stats.rows_quarantined, 0);
  EXPECT_GT(reference.stats.rows_filtered, 0);
  EXPECT_GT(reference.stats.rows_converted, 0);
}

// Random rows of kInput's types: valid values, some empty strings; with
// `dirty`, stretches of 300 rows alternate between such rows and rows with
// some blank, padded or invalid values (a row may have several bad values).
std::vector<std::vector<std::string>> RandomRows(size_t n, uint64_t seed, bool dirty) {
  std::mt19937_64 rng(seed);
  auto below = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < n; ++r) {
    char date[16], ts[32];
    std::snprintf(date, sizeof(date), "%04d-%02d-%02d", 1990 + below(40), 1 + below(12), 1 + below(31));
    std::snprintf(ts, sizeof(ts), "%s %02d:%02d:%02d", date, below(25), below(60), below(60));
    std::vector<std::string> row = {std::to_string(static_cast<int64_t>(rng() % 2000000) - 1000000),
                                    below(10) == 0 ? "" : "name" + std::to_string(below(100)),
                                    std::to_string(below(10000)) + "." + std::to_string(below(100)),
                                    below(2) ? "true" : "false",
                                    date,
                                    ts};
    for (size_t f = 0; dirty && (r / 300) % 2 == 1 && f < row.size(); ++f) {
      switch (below(60)) {
        case 0: row[f] = ""; break;
        case 1: row[f] = "  "; break;
        case 2: row[f] = " " + row[f] + " "; break;
        case 3: row[f] = "x" + row[f]; break;
        default: break;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A batch whose records all have every field and no null takes a faster path
// in Convert; it must convert exactly as the general path does.
TEST(BatchConverterTest, UniformBatchesConvertAsTheGeneralPath) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    const bool dirty = variant > 0;
    const bool with_filter = variant == 2;
    std::vector<RowFilter> filters;
    if (with_filter) filters.push_back({"score", FilterOp::kGreater, {"2000"}});
    auto c = BatchConverter::Create(TypedSpecs(), filters, kInput, "people.csv");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto rows = RandomRows(1500, 7 + variant, dirty);
    const auto uniform = Convert(*c, MakeBatch(rows));
    // One more record with a null field makes the batch non-uniform.
    rows.push_back({"1", kNull, "3000.5", "true", "2020-01-01", "2020-01-01 00:00:00"});
    const auto general = Convert(*c, MakeBatch(rows));
    if (dirty) ASSERT_GT(uniform.stats.rows_quarantined, 50);
    ASSERT_GT(uniform.stats.rows_converted, 500);
    EXPECT_EQ(uniform.stats.rows_quarantined, general.stats.rows_quarantined);
    EXPECT_EQ(uniform.stats.rows_filtered, general.stats.rows_filtered);
    EXPECT_EQ(uniform.stats.rows_converted + 1, general.stats.rows_converted);
    ASSERT_EQ(uniform.quarantine.size(), general.quarantine.size());
    for (size_t i = 0; i < uniform.quarantine.size(); ++i) {
      const QuarantinedRecord& a = uniform.quarantine[i];
      const QuarantinedRecord& b = general.quarantine[i];
      EXPECT_EQ(a.line, b.line);
      EXPECT_EQ(a.field, b.field);
      EXPECT_EQ(a.value, b.value);
      EXPECT_EQ(a.reason, b.reason);
      EXPECT_EQ(a.raw_record, b.raw_record);
    }
    for (size_t col = 0; col < uniform.table.num_columns(); ++col) {
      const Column& a = uniform.table.column(col);
      const Column& b = general.table.column(col);
      for (size_t r = 0; r < uniform.table.num_rows(); ++r) {
        ASSERT_EQ(a.IsNull(r), b.IsNull(r)) << "column " << col << " row " << r;
        ASSERT_EQ(a.ValueToString(r), b.ValueToString(r)) << "column " << col << " row " << r;
      }
    }
  }
}

TEST(BatchConverterTest, EndToEndFromFebrlCsv) {
  CsvOptions csv;
  csv.skip_space_after_delimiter = true;
  auto reader = OpenCsvFile(std::string(CDP_SOURCE_DIR "/../shared/data/febrl/dataset4b.csv"), csv);
  ASSERT_TRUE(reader.ok());
  FieldSpec dob = Spec("dob", DataType::kDate, "date_of_birth");
  dob.format.date_style = DateStyle::kCompact;
  auto c = BatchConverter::Create({Spec("rec_id", DataType::kString), dob, Spec("soc_sec_id", DataType::kInt64)},
                                  {}, (*reader)->field_names(), "dataset4b.csv");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Table table;
  std::vector<QuarantinedRecord> q;
  ConvertStats stats;
  RawRecordBatch batch;
  while (*(*reader)->Next(&batch, 777)) ASSERT_TRUE(c->Convert(batch, &table, &q, &stats).ok());
  EXPECT_EQ(stats.rows_read, 5000);
  EXPECT_EQ(stats.rows_converted + stats.rows_quarantined, 5000);
  EXPECT_EQ(stats.rows_quarantined, 64);  // Febrl corrupts some dates, e.g. 19450493
  for (const auto& r : q) {
    EXPECT_EQ(r.field, "date_of_birth");
    EXPECT_THAT(r.reason, HasSubstr("is not a valid date (YYYYMMDD)"));
  }
  EXPECT_EQ(table.column(1).ValueToString(0), "1965-10-13");
}

FieldSpec StringSpec(std::string name, Standardizer s = Standardizer::kNone) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = DataType::kString;
  f.standardize = s;
  return f;
}

// The converter writes the standard form, keeps unknown values as they were,
// counts both per field, and filters compare the standard form.
TEST(BatchConverterTest, WritesTheStandardFormAndCountsPerField) {
  auto c = BatchConverter::Create({StringSpec("Id"), StringSpec("State", Standardizer::kStateCode),
                                   StringSpec("Gender", Standardizer::kGender)},
                                  {}, {"Id", "State", "Gender"}, "people.csv");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Table t;
  std::vector<QuarantinedRecord> q;
  ConvertStats stats;
  // A uniform batch and one with a null and a short record (quarantined).
  ASSERT_TRUE(c->Convert(MakeBatch({{"1", "California", "M"}, {"2", "CA", "Female"}, {"3", "Bavaria", "?"}}), &t, &q,
                         &stats)
                  .ok());
  ASSERT_TRUE(c->Convert(MakeBatch({{"4", "", kNull}, {"5", " ca ", "f"}, {"6", "Texas"}}), &t, &q, &stats).ok());
  ASSERT_EQ(t.num_rows(), 5u);
  EXPECT_EQ(t.column(1).StringAt(0), "CA");
  EXPECT_EQ(t.column(1).StringAt(1), "CA");
  EXPECT_EQ(t.column(1).StringAt(2), "Bavaria");  // kept, not blanked
  EXPECT_TRUE(t.column(1).IsNull(3));
  EXPECT_EQ(t.column(1).StringAt(4), "CA");
  EXPECT_EQ(t.column(2).StringAt(0), "Male");
  EXPECT_EQ(t.column(2).StringAt(2), "?");
  EXPECT_TRUE(t.column(2).IsNull(3));
  EXPECT_EQ(t.column(2).StringAt(4), "Female");
  ASSERT_EQ(stats.standardize.size(), 3u);
  EXPECT_EQ(stats.standardize[0], (StandardizeCounts{0, 0}));
  EXPECT_EQ(stats.standardize[1], (StandardizeCounts{2, 1}));  // California, " ca "; Bavaria (Texas was quarantined)
  EXPECT_EQ(stats.standardize[2], (StandardizeCounts{2, 1}));  // M, f; ?
  EXPECT_EQ(stats.rows_quarantined, 1);

  auto filtered = BatchConverter::Create({StringSpec("Id"), StringSpec("State", Standardizer::kStateName)},
                                         {RowFilter{"State", FilterOp::kEquals, {"CA"}}}, {"Id", "State"}, "p.csv");
  ASSERT_TRUE(filtered.ok()) << filtered.status().ToString();
  Table ft;
  ConvertStats fs;
  ASSERT_TRUE(filtered->Convert(MakeBatch({{"1", "CA"}, {"2", "california"}, {"3", "NY"}}), &ft, &q, &fs).ok());
  ASSERT_EQ(ft.num_rows(), 2u);
  EXPECT_EQ(ft.column(1).StringAt(0), "California");
  EXPECT_EQ(ft.column(1).StringAt(1), "California");
  EXPECT_EQ(fs.rows_filtered, 1);
}

TEST(BatchConverterTest, RefusesAStandardizerOnANonStringField) {
  FieldSpec n = StringSpec("N", Standardizer::kGender);
  n.type = DataType::kInt64;
  auto c = BatchConverter::Create({n}, {}, {"N"}, "p.csv");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("field 'N': standardize 'gender' needs a string field"));
}

}  // namespace
}  // namespace cdp
