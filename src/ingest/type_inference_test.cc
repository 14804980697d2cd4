#include "ingest/type_inference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/csv_reader.h"
#include "ingest/internal/test_util.h"

namespace cdp {
namespace {

using ingest_internal::TempDir;

// Builds a batch from rows of text; "\x01" marks a null field.
RawRecordBatch MakeBatch(const std::vector<std::vector<std::string>>& rows) {
  RawRecordBatch b;
  b.Clear();
  size_t total = 0;
  for (const auto& row : rows) {
    for (const auto& v : row) total += v.size();
  }
  b.arena.reserve(total);
  int64_t line = 2;
  for (const auto& row : rows) {
    for (const auto& v : row) {
      const bool null = v == "\x01";
      const size_t off = b.arena.size();
      if (!null) b.arena += v;
      b.fields.emplace_back(b.arena.data() + off, null ? 0 : v.size());
      b.is_null.push_back(null ? 1 : 0);
    }
    b.field_begin.push_back(static_cast<uint32_t>(b.fields.size()));
    b.line.push_back(line++);
  }
  return b;
}

// Infers one column of values.
InferredField InferColumn(const std::vector<std::string>& values, InferenceOptions options = {}) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : values) rows.push_back({v});
  TypeInferrer inferrer(std::move(options));
  inferrer.Add(MakeBatch(rows));
  return inferrer.Finish({"f"})[0];
}

TEST(TypeInferenceTest, PicksTheNarrowestType) {
  EXPECT_EQ(InferColumn({"true", "no", "Y"}).type, DataType::kBool);
  EXPECT_EQ(InferColumn({"1", "0", "1"}).type, DataType::kBool);
  EXPECT_EQ(InferColumn({"1", "0", "2"}).type, DataType::kInt64);
  EXPECT_EQ(InferColumn({"12", "-3", "+40"}).type, DataType::kInt64);
  EXPECT_EQ(InferColumn({"12", "3.5", "1e3"}).type, DataType::kDouble);
  EXPECT_EQ(InferColumn({"2020-01-02", "1999-12-31"}).type, DataType::kDate);
  EXPECT_EQ(InferColumn({"2020-01-02", "2020-01-02 10:00"}).type, DataType::kTimestamp);
  EXPECT_EQ(InferColumn({"12", "abc"}).type, DataType::kString);
  EXPECT_EQ(InferColumn({"true", "1.5"}).type, DataType::kString);
}

TEST(TypeInferenceTest, EmptyValuesAndNullsAreIgnored) {
  auto f = InferColumn({"", "  ", "\x01", "7", ""});
  EXPECT_EQ(f.type, DataType::kInt64);
  EXPECT_EQ(f.non_empty_values, 1u);
  auto empty = InferColumn({"", "\x01", " "});
  EXPECT_EQ(empty.type, DataType::kString);
  EXPECT_EQ(empty.non_empty_values, 0u);
}

TEST(TypeInferenceTest, LeadingZerosAndHugeIntegersStayStrings) {
  EXPECT_EQ(InferColumn({"02138", "10001"}).type, DataType::kString);
  EXPECT_EQ(InferColumn({"0", "10", "0.5"}).type, DataType::kDouble);
  EXPECT_EQ(InferColumn({"123456789012345678901234", "5"}).type, DataType::kString);
}

TEST(TypeInferenceTest, DetectsDateStyles) {
  auto iso = InferColumn({"2020-03-15", "2021-12-01"});
  EXPECT_EQ(iso.format.date_style, DateStyle::kIso);
  auto us = InferColumn({"3/15/2020", "12/1/2021"});
  EXPECT_EQ(us.type, DataType::kDate);
  EXPECT_EQ(us.format.date_style, DateStyle::kMonthDayYear);
  auto eu = InferColumn({"3/12/2020", "15/1/2021"});
  EXPECT_EQ(eu.type, DataType::kDate);
  EXPECT_EQ(eu.format.date_style, DateStyle::kDayMonthYear);
  auto ambiguous = InferColumn({"3/12/2020", "1/2/2021"});
  EXPECT_EQ(ambiguous.format.date_style, DateStyle::kMonthDayYear);
  auto dot = InferColumn({"15.03.2020", "1.2.2021"});
  EXPECT_EQ(dot.type, DataType::kDate);
  EXPECT_EQ(dot.format.date_style, DateStyle::kDayMonthYearDot);
  auto invalid = InferColumn({"2020-02-30"});
  EXPECT_EQ(invalid.type, DataType::kString);
  auto ts = InferColumn({"15.03.2020 10:00", "1.2.2021 23:59:59"});
  EXPECT_EQ(ts.type, DataType::kTimestamp);
  EXPECT_EQ(ts.format.date_style, DateStyle::kDayMonthYearDot);
}

TEST(TypeInferenceTest, EightDigitDatesStayIntegersUnlessOverridden) {
  auto plain = InferColumn({"19151111", "19650203", "20010228"});
  EXPECT_EQ(plain.type, DataType::kInt64);
  EXPECT_TRUE(plain.yyyymmdd_candidate);

  EXPECT_FALSE(InferColumn({"19151111", "12345678"}).yyyymmdd_candidate);  // month 56
  EXPECT_FALSE(InferColumn({"30001231"}).yyyymmdd_candidate);             // implausible year
  EXPECT_FALSE(InferColumn({"19151111", "1"}).yyyymmdd_candidate);

  InferenceOptions o;
  o.overrides["f"].type = DataType::kDate;
  auto dob = InferColumn({"19151111", "19650203"}, o);
  EXPECT_EQ(dob.type, DataType::kDate);
  EXPECT_EQ(dob.format.date_style, DateStyle::kCompact);
  EXPECT_TRUE(dob.overridden);

  // Dirty data: the style that fits most values wins.
  auto dirty = InferColumn({"19151111", "19450493", "19650203", "3/4/2001"}, o);
  EXPECT_EQ(dirty.type, DataType::kDate);
  EXPECT_EQ(dirty.format.date_style, DateStyle::kCompact);
  auto none = InferColumn({"abc"}, o);
  EXPECT_EQ(none.format.date_style, DateStyle::kAuto);
}

TEST(TypeInferenceTest, DecimalCommaIsDetectedWhenOnlyItParses) {
  auto f = InferColumn({"12,50", "3,1", "7"});
  EXPECT_EQ(f.type, DataType::kDouble);
  EXPECT_TRUE(f.format.decimal_comma);
  auto dot = InferColumn({"12.50", "7"});
  EXPECT_FALSE(dot.format.decimal_comma);

  InferenceOptions comma;
  comma.decimal_comma = true;
  EXPECT_EQ(InferColumn({"12.50", "3,1"}, comma).type, DataType::kString);
  auto c = InferColumn({"12,50", "3"}, comma);
  EXPECT_EQ(c.type, DataType::kDouble);
  EXPECT_TRUE(c.format.decimal_comma);
}

TEST(TypeInferenceTest, OverridesWin) {
  InferenceOptions o;
  o.overrides["f"].type = DataType::kString;
  EXPECT_EQ(InferColumn({"1", "2"}, o).type, DataType::kString);

  InferenceOptions with_format;
  with_format.overrides["f"].type = DataType::kDate;
  with_format.overrides["f"].format = *ParseDateFormat("%d/%m/%Y");
  auto f = InferColumn({"15/03/2020"}, with_format);
  EXPECT_EQ(f.type, DataType::kDate);
  EXPECT_EQ(f.format.date_style, DateStyle::kPattern);
  EXPECT_EQ(f.format.pattern, "%d/%m/%Y");

  InferenceOptions format_only;
  format_only.overrides["f"].format = *ParseDateFormat("%d/%m/%Y %H:%M");
  EXPECT_EQ(InferColumn({"15/03/2020 10:00"}, format_only).type, DataType::kTimestamp);
  format_only.overrides["f"].format = *ParseDateFormat("%d/%m/%Y");
  EXPECT_EQ(InferColumn({"15/03/2020"}, format_only).type, DataType::kDate);
  format_only.overrides["f"].format = *ParseDateFormat("D/M/YYYY");
  EXPECT_EQ(InferColumn({"15/03/2020"}, format_only).type, DataType::kDate);
  EXPECT_EQ(InferColumn({"15/03/2020 10:00"}, format_only).type, DataType::kTimestamp);

  InferenceOptions other_field;
  other_field.overrides["g"].type = DataType::kString;
  EXPECT_EQ(InferColumn({"1", "2", "3"}, other_field).type, DataType::kInt64);
}

TEST(TypeInferenceTest, RaggedRecordsAndRecordErrorsAreHandled) {
  // Record 1 is a record error (zero fields); records have 1 and 3 fields.
  RawRecordBatch b = MakeBatch({{"1"}, {}, {"3", "yy", "2020-01-01"}});
  b.record_errors.emplace_back(1, "bad");
  TypeInferrer inferrer({});
  inferrer.Add(b);
  auto fields = inferrer.Finish({"a", "b", "c", "d"});
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].type, DataType::kInt64);
  EXPECT_EQ(fields[1].type, DataType::kString);
  EXPECT_EQ(fields[2].type, DataType::kDate);
  EXPECT_EQ(fields[3].type, DataType::kString);
  EXPECT_EQ(fields[3].non_empty_values, 0u);
  EXPECT_EQ(inferrer.records_seen(), 3u);
}

TEST(TypeInferenceTest, SamplesAtMostMaxRecords) {
  InferenceOptions o;
  o.max_records = 3;
  TypeInferrer inferrer(o);
  inferrer.Add(MakeBatch({{"1"}, {"2"}, {"3"}, {"not a number"}}));
  EXPECT_TRUE(inferrer.done());
  EXPECT_EQ(inferrer.Finish({"n"})[0].type, DataType::kInt64);
}

TEST(TypeInferenceTest, InfersFebrlFromAReader) {
  CsvOptions csv;
  csv.skip_space_after_delimiter = true;
  auto reader = OpenCsvFile("/work/shared/data/febrl/dataset4b.csv", csv);
  ASSERT_TRUE(reader.ok());
  InferenceOptions o;
  o.overrides["date_of_birth"].type = DataType::kDate;
  auto fields = InferFieldTypes(**reader, o);
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 11u);
  std::map<std::string, InferredField> by_name;
  for (const auto& f : *fields) by_name[f.name] = f;
  EXPECT_EQ(by_name["rec_id"].type, DataType::kString);
  EXPECT_EQ(by_name["given_name"].type, DataType::kString);
  EXPECT_EQ(by_name["postcode"].type, DataType::kString);  // Australian postcodes such as 0800
  EXPECT_EQ(by_name["soc_sec_id"].type, DataType::kInt64);
  EXPECT_EQ(by_name["date_of_birth"].type, DataType::kDate);
  EXPECT_EQ(by_name["date_of_birth"].format.date_style, DateStyle::kCompact);
}

TEST(TypeInferenceTest, InferFieldTypesReadsOnlyTheSample) {
  TempDir dir;
  std::string content = "a,b\n";
  for (int i = 0; i < 50; ++i) content += std::to_string(i) + ",2020-01-0" + std::to_string(i % 9 + 1) + "\n";
  content += "oops,not a date\n";
  auto reader = OpenCsvFile(dir.Write("a.csv", content), {});
  ASSERT_TRUE(reader.ok());
  InferenceOptions o;
  o.max_records = 50;
  auto fields = InferFieldTypes(**reader, o);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ((*fields)[0].type, DataType::kInt64);
  EXPECT_EQ((*fields)[1].type, DataType::kDate);
  // The reader has not gone past the sample.
  RawRecordBatch batch;
  ASSERT_TRUE(*(*reader)->Next(&batch, 100));
  EXPECT_EQ(batch.num_records(), 1u);
  EXPECT_EQ(batch.field(0, 0), "oops");
}

}  // namespace
}  // namespace cdp
