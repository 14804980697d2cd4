#include "ingest/type_inference.h"

#include <gmock/gmock.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ingest/csv_reader.h"
#include "ingest/internal/test_util.h"

namespace cdp {
namespace {

using ingest_internal::TempDir;
using ingest_internal::MakeBatch;

// Infers one column of values, optionally with a declared type and/or format.
InferredField InferColumn(const std::vector<std::string>& values, InferenceOptions options = {},
                          std::optional<DataType> type = std::nullopt, std::string format = "") {
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : values) rows.push_back({v});
  TypeInferrer inferrer(std::move(options));
  inferrer.Add(MakeBatch(rows));
  std::optional<ValueFormat> vf;
  if (!format.empty()) vf = *ParseDateFormat(format);
  return inferrer.Resolve(0, "f", type, vf);
}
InferredField Declared(const std::vector<std::string>& values, std::optional<DataType> type,
                       std::string format = "") {
  return InferColumn(values, {}, type, std::move(format));
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

  auto dob = Declared({"19151111", "19650203"}, DataType::kDate);
  EXPECT_EQ(dob.type, DataType::kDate);
  EXPECT_EQ(dob.format.date_style, DateStyle::kCompact);

  // Dirty data: the style that fits most values wins.
  auto dirty = Declared({"19151111", "19450493", "19650203", "3/4/2001"}, DataType::kDate);
  EXPECT_EQ(dirty.type, DataType::kDate);
  EXPECT_EQ(dirty.format.date_style, DateStyle::kCompact);
  auto none = Declared({"abc"}, DataType::kDate);
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

TEST(TypeInferenceTest, DeclarationsWin) {
  EXPECT_EQ(Declared({"1", "2"}, DataType::kString).type, DataType::kString);

  auto f = Declared({"15/03/2020"}, DataType::kDate, "%d/%m/%Y");
  EXPECT_EQ(f.type, DataType::kDate);
  EXPECT_EQ(f.format.date_style, DateStyle::kPattern);
  EXPECT_EQ(f.format.pattern, "%d/%m/%Y");

  // A format alone decides the type.
  EXPECT_EQ(Declared({"15/03/2020 10:00"}, std::nullopt, "%d/%m/%Y %H:%M").type, DataType::kTimestamp);
  EXPECT_EQ(Declared({"15/03/2020"}, std::nullopt, "%d/%m/%Y").type, DataType::kDate);
  EXPECT_EQ(Declared({"15/03/2020"}, std::nullopt, "D/M/YYYY").type, DataType::kDate);
  EXPECT_EQ(Declared({"15/03/2020 10:00"}, std::nullopt, "D/M/YYYY").type, DataType::kTimestamp);

  // A declared double keeps the inferred decimal comma.
  auto d = Declared({"1,5"}, DataType::kDouble);
  EXPECT_TRUE(d.format.decimal_comma);

  // No inference: strings unless declared.
  InferenceOptions off;
  off.infer_types = false;
  EXPECT_EQ(InferColumn({"1", "2"}, off).type, DataType::kString);
  EXPECT_EQ(InferColumn({"1", "2"}, off, DataType::kInt64).type, DataType::kInt64);
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
  auto reader = OpenCsvFile(std::string(CDP_SOURCE_DIR "/../shared/data/febrl/dataset4b.csv"), csv);
  ASSERT_TRUE(reader.ok());
  auto fields = InferFieldTypes(**reader, {});
  ASSERT_TRUE(fields.ok());
  ASSERT_EQ(fields->size(), 11u);
  std::map<std::string, InferredField> by_name;
  for (const auto& f : *fields) by_name[f.name] = f;
  EXPECT_EQ(by_name["rec_id"].type, DataType::kString);
  EXPECT_EQ(by_name["given_name"].type, DataType::kString);
  EXPECT_EQ(by_name["postcode"].type, DataType::kString);  // Australian postcodes such as 0800
  EXPECT_EQ(by_name["soc_sec_id"].type, DataType::kInt64);
  EXPECT_EQ(by_name["date_of_birth"].type, DataType::kInt64);
  EXPECT_FALSE(by_name["date_of_birth"].yyyymmdd_candidate);  // some Febrl dates are corrupt (19450493)
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

std::vector<std::vector<std::string>> ContactRows() {
  return {{"1", "ann@x.org", "3/15/1980", "02138", "12,5"},
          {"2", "bob@y.org", "12/1/1975", "10001", "7"},
          {"3", "", "", "", "1,25"}};
}
const std::vector<std::string> kContactNames = {"Id", "E-Mail", "Born", "Zip", "Spend"};

TEST(InferFieldSpecsTest, DeclaredAndUndeclaredFieldsInInputOrder) {
  std::vector<FieldOverride> declared(2);
  declared[0].name = "Email";
  declared[0].source_field = "E-Mail";
  declared[0].semantic = "Email";
  declared[1].name = "Id";
  declared[1].type = DataType::kString;
  auto specs = InferFieldSpecs(kContactNames, {MakeBatch(ContactRows())}, declared, {});
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 5u);
  const auto& s = *specs;
  EXPECT_EQ(s[0].name, "Id");
  EXPECT_EQ(s[0].type, DataType::kString);
  EXPECT_EQ(s[1].name, "Email");
  EXPECT_EQ(s[1].source_field, "E-Mail");
  EXPECT_EQ(s[1].semantic.name(), "Email");
  EXPECT_EQ(s[2].name, "Born");
  EXPECT_EQ(s[2].type, DataType::kDate);
  EXPECT_EQ(s[2].format.date_style, DateStyle::kMonthDayYear);
  EXPECT_EQ(s[3].type, DataType::kString);
  EXPECT_EQ(s[4].type, DataType::kDouble);
  EXPECT_TRUE(s[4].format.decimal_comma);
  // The plan feeds a converter directly.
  auto converter = BatchConverter::Create(s, {}, kContactNames, "contacts.csv");
  ASSERT_TRUE(converter.ok()) << converter.status().ToString();
}

TEST(InferFieldSpecsTest, OneInputFieldMayFeedSeveralDeclaredFields) {
  std::vector<FieldOverride> declared(2);
  declared[0].name = "BornText";
  declared[0].source_field = "Born";
  declared[0].type = DataType::kString;
  declared[1].name = "Born";
  declared[1].format = "M/D/YYYY";
  auto specs = InferFieldSpecs(kContactNames, {MakeBatch(ContactRows())}, declared, {});
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 6u);
  EXPECT_EQ((*specs)[2].name, "BornText");
  EXPECT_EQ((*specs)[3].name, "Born");
  EXPECT_EQ((*specs)[3].type, DataType::kDate);
}

TEST(InferFieldSpecsTest, ErrorsNameTheField) {
  std::vector<FieldOverride> missing(1);
  missing[0].name = "Phone";
  auto m = InferFieldSpecs(kContactNames, {}, missing, {});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(), "declared field 'Phone' not found in the input; fields are: Id, E-Mail, Born, Zip, Spend");

  std::vector<FieldOverride> bad_format(1);
  bad_format[0].name = "Born";
  bad_format[0].format = "%d/%q";
  auto f = InferFieldSpecs(kContactNames, {}, bad_format, {});
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), ::testing::HasSubstr("field 'Born'"));

  std::vector<FieldOverride> bad_semantic(1);
  bad_semantic[0].name = "Zip";
  bad_semantic[0].semantic = "not a type!";
  EXPECT_EQ(InferFieldSpecs(kContactNames, {}, bad_semantic, {}).status().code(), StatusCode::kInvalidArgument);

  std::vector<FieldOverride> clash(1);
  clash[0].name = "Zip";
  clash[0].source_field = "Id";
  auto c = InferFieldSpecs(kContactNames, {}, clash, {});
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), ::testing::HasSubstr("input field 'Zip'"));
}

}  // namespace
}  // namespace cdp
