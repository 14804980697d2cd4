#include "ingest/jsonl_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ingest/internal/test_util.h"

namespace cdp {
namespace {

using ingest_internal::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A record as read: line, fields by name (nullopt = null), or an error.
struct JRec {
  int64_t line = 0;
  size_t num_fields = 0;
  std::map<std::string, std::optional<std::string>> fields;
  std::string error;
  std::string raw;  // a record error's input bytes, escaped
};

struct ReadResult {
  std::vector<JRec> records;
  std::vector<std::string> names;
};

ReadResult ReadAll(const std::string& path, const JsonLinesOptions& options = {}, size_t batch_size = 100) {
  ReadResult out;
  auto reader = OpenJsonLinesFile(path, options);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return out;
  RawRecordBatch batch;
  while (true) {
    auto more = (*reader)->Next(&batch, batch_size);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_TRUE(batch.trailing_fields_optional);
    const auto& names = (*reader)->field_names();
    size_t e = 0;
    for (size_t r = 0; r < batch.num_records(); ++r) {
      JRec rec;
      rec.line = batch.line[r];
      rec.num_fields = batch.num_fields(r);
      if (e < batch.record_errors.size() && batch.record_errors[e].first == r) {
        EXPECT_EQ(batch.record_error_inputs.size(), batch.record_errors.size()) << "one input per record error";
        if (e < batch.record_error_inputs.size()) rec.raw = batch.record_error_inputs[e].raw;
        rec.error = batch.record_errors[e++].second;
      }
      EXPECT_LE(rec.num_fields, names.size());
      for (size_t f = 0; f < rec.num_fields; ++f) {
        rec.fields[names[f]] =
            batch.field_is_null(r, f) ? std::nullopt : std::optional<std::string>(std::string(batch.field(r, f)));
      }
      out.records.push_back(std::move(rec));
    }
  }
  out.names = (*reader)->field_names();
  EXPECT_EQ((*reader)->bytes_read(), (*reader)->total_bytes());
  return out;
}

class JsonLinesReaderTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(JsonLinesReaderTest, FlattensNestedObjectsToDottedNames) {
  auto res = ReadAll(dir_.Write("a.jsonl", R"({"id": 1, "address": {"city": "Seattle", "geo": {"lat": 47.6}}})"
                                           "\n"));
  ASSERT_EQ(res.records.size(), 1u);
  EXPECT_THAT(res.names, ElementsAre("id", "address.city", "address.geo.lat"));
  const auto& f = res.records[0].fields;
  EXPECT_EQ(f.at("id"), "1");
  EXPECT_EQ(f.at("address.city"), "Seattle");
  EXPECT_EQ(f.at("address.geo.lat"), "47.6");
}

TEST_F(JsonLinesReaderTest, ScalarsKeepTheirTextArraysTheirJsonAndNullIsNull) {
  auto res = ReadAll(dir_.Write(
      "a.jsonl",
      R"({"n": 1.50, "big": 123456789012345678901234567890, "t": true, "f": false, "z": null, "arr": [1, {"a": "x"}, [2]], "s": "line\nbreak \"q\" \u00e9"})"
      "\n"));
  ASSERT_EQ(res.records.size(), 1u);
  ASSERT_EQ(res.records[0].error, "");
  const auto& f = res.records[0].fields;
  EXPECT_EQ(f.at("n"), "1.50");
  EXPECT_EQ(f.at("big"), "123456789012345678901234567890");
  EXPECT_EQ(f.at("t"), "true");
  EXPECT_EQ(f.at("f"), "false");
  EXPECT_EQ(f.at("z"), std::nullopt);
  EXPECT_EQ(f.at("arr"), R"([1, {"a": "x"}, [2]])");
  EXPECT_EQ(f.at("s"), "line\nbreak \"q\" \xC3\xA9");
}

TEST_F(JsonLinesReaderTest, NewKeysGrowFieldNamesAndEarlierRecordsAreShorter) {
  // Opening learns the names of the first 1000 records, so use more to see growth during reading.
  std::string content;
  for (int i = 0; i < 1200; ++i) content += "{\"a\": " + std::to_string(i) + "}\n";
  content += R"({"b": "x", "a": 5})" "\n";
  content += R"({"c": {"d": null}})" "\n";
  auto res = ReadAll(dir_.Write("a.jsonl", content), {}, 500);
  ASSERT_EQ(res.records.size(), 1202u);
  EXPECT_THAT(res.names, ElementsAre("a", "b", "c.d"));
  EXPECT_EQ(res.records[0].num_fields, 1u);
  EXPECT_EQ(res.records[1200].num_fields, 2u);
  EXPECT_EQ(res.records[1200].fields.at("a"), "5");
  EXPECT_EQ(res.records[1200].fields.at("b"), "x");
  EXPECT_EQ(res.records[1201].num_fields, 3u);
  EXPECT_EQ(res.records[1201].fields.at("a"), std::nullopt);  // absent key
  EXPECT_EQ(res.records[1201].fields.at("b"), std::nullopt);
  EXPECT_EQ(res.records[1201].fields.at("c.d"), std::nullopt);
}

TEST_F(JsonLinesReaderTest, FieldNamesAreKnownRightAfterOpening) {
  auto reader = OpenJsonLinesFile(dir_.Write("a.jsonl", "{\"x\":1}\n{\"y\":{\"z\":2}}\n"));
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT((*reader)->field_names(), ElementsAre("x", "y.z"));
  RawRecordBatch batch;
  ASSERT_TRUE(*(*reader)->Next(&batch, 10));
  EXPECT_EQ(batch.num_records(), 2u);
  EXPECT_EQ(batch.num_fields(0), 2u);
  EXPECT_TRUE(batch.field_is_null(0, 1));
  EXPECT_EQ(batch.field(1, 1), "2");
}

TEST_F(JsonLinesReaderTest, BadLinesAreRecordErrorsAndReadingGoesOn) {
  const std::string path = dir_.Write("a.jsonl",
                                      "{\"a\": 1}\n"
                                      "{\"a\": \n"
                                      "[1, 2]\n"
                                      "\"text\"\n"
                                      "{\"a\": 2} {\"a\": 3}\n"
                                      "{\"a\": 01}\n"
                                      "{\"a\": \"\xFF\"}\n"
                                      "{\"a\": 4}");
  auto res = ReadAll(path);
  ASSERT_EQ(res.records.size(), 8u);
  EXPECT_EQ(res.records[0].error, "");
  for (int i = 1; i <= 6; ++i) {
    EXPECT_THAT(res.records[i].error, HasSubstr(path + ": line " + std::to_string(i + 1) + ":")) << i;
    EXPECT_EQ(res.records[i].num_fields, 0u);
    EXPECT_EQ(res.records[i].line, i + 1);
  }
  EXPECT_THAT(res.records[1].error, HasSubstr("invalid JSON"));
  EXPECT_THAT(res.records[2].error, HasSubstr("not a JSON object"));
  EXPECT_THAT(res.records[3].error, HasSubstr("not a JSON object"));
  // The quarantine keeps each bad line's bytes (invalid UTF-8 escaped).
  EXPECT_EQ(res.records[1].raw, "{\"a\": ");
  EXPECT_EQ(res.records[2].raw, "[1, 2]");
  EXPECT_EQ(res.records[6].raw, "{\"a\": \"\\xFF\"}");
  EXPECT_EQ(res.records[7].error, "");
  EXPECT_EQ(res.records[7].fields.at("a"), "4");
  EXPECT_EQ(res.records[7].line, 8);
}

TEST_F(JsonLinesReaderTest, BlankLinesAreSkippedCrlfAndBomAreHandled) {
  auto res = ReadAll(dir_.Write("a.jsonl", "\xEF\xBB\xBF{\"a\":1}\r\n\r\n   \n\t\n{\"a\":2}\r\n"));
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_EQ(res.records[0].line, 1);
  EXPECT_EQ(res.records[0].fields.at("a"), "1");
  EXPECT_EQ(res.records[1].line, 5);
  EXPECT_EQ(res.records[1].fields.at("a"), "2");
}

TEST_F(JsonLinesReaderTest, EmptyObjectGivesNoField) {
  auto res = ReadAll(dir_.Write("a.jsonl", R"({"a": 1, "e": {}})" "\n{}\n"));
  ASSERT_EQ(res.records.size(), 2u);
  EXPECT_THAT(res.names, ElementsAre("a"));
  EXPECT_EQ(res.records[0].fields.at("a"), "1");
  EXPECT_EQ(res.records[1].fields.at("a"), std::nullopt);
}

TEST_F(JsonLinesReaderTest, AFieldGivenTwiceIsARecordErrorNamingTheField) {
  // Before: {"a.b": 1, "a": {"b": 2}} gave one field a.b and one value was dropped silently.
  const std::string path = dir_.Write("a.jsonl",
                                      "{\"a.b\": 1, \"a\": {\"b\": 2}}\n"
                                      "{\"a\": {\"b\": 2}, \"a.b\": 1}\n"
                                      "{\"a.b\": null, \"a\": {\"b\": 2}}\n"
                                      "{\"x\": 1, \"x\": 2}\n"
                                      "{\"a\": {\"b\": 3}, \"a.c\": 4, \"x\": 5}\n");
  auto res = ReadAll(path);
  ASSERT_EQ(res.records.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(res.records[i].error, path + ": line " + std::to_string(i + 1) +
                                        ": field 'a.b' is given twice (a repeated key, or a dotted key and a nested "
                                        "object naming the same field)")
        << i;
    EXPECT_EQ(res.records[i].num_fields, 0u);
  }
  EXPECT_THAT(res.records[3].error, HasSubstr("line 4: field 'x' is given twice"));
  EXPECT_EQ(res.records[4].error, "");
  EXPECT_EQ(res.records[4].fields.at("a.b"), "3");
  EXPECT_EQ(res.records[4].fields.at("a.c"), "4");
  EXPECT_EQ(res.records[4].fields.at("x"), "5");
}

TEST_F(JsonLinesReaderTest, DeeplyNestedRecordIsARecordErrorAndTheRestIsRead) {
  // Before: 70,000 nested objects overflowed the stack of the recursive walk.
  std::string objects, arrays;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  arrays = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const std::string path = dir_.Write("deep.jsonl", "{\"a\": 1}\n" + objects + "\n" + arrays + "\n{\"a\": 4}\n");
  auto res = ReadAll(path);
  ASSERT_EQ(res.records.size(), 4u);
  EXPECT_EQ(res.records[0].fields.at("a"), "1");
  EXPECT_EQ(res.records[1].error, path + ": line 2: nested deeper than 64 levels (max_depth)");
  EXPECT_EQ(res.records[1].line, 2);
  EXPECT_EQ(res.records[2].error, path + ": line 3: nested deeper than 64 levels (max_depth)");
  EXPECT_EQ(res.records[3].error, "");
  EXPECT_EQ(res.records[3].fields.at("a"), "4");
}

TEST_F(JsonLinesReaderTest, MaxDepthCountsObjectsAndArrays) {
  JsonLinesOptions o;
  o.max_depth = 3;
  auto res = ReadAll(dir_.Write("a.jsonl",
                                "{\"a\": {\"b\": {\"c\": 1}}}\n"         // 3 levels
                                "{\"a\": {\"b\": {\"c\": {}}}}\n"        // 4
                                "{\"a\": {\"b\": [1]}, \"s\": \"{{{{\"}\n"  // 3; brackets in text do not count
                                "{\"a\": [[[1]]]}\n"),                    // 4
                     o);
  ASSERT_EQ(res.records.size(), 4u);
  EXPECT_EQ(res.records[0].error, "");
  EXPECT_EQ(res.records[0].fields.at("a.b.c"), "1");
  EXPECT_THAT(res.records[1].error, HasSubstr("line 2: nested deeper than 3 levels (max_depth)"));
  EXPECT_EQ(res.records[2].error, "");
  EXPECT_EQ(res.records[2].fields.at("a.b"), "[1]");
  EXPECT_THAT(res.records[3].error, HasSubstr("line 4: nested deeper than 3 levels"));
}

TEST_F(JsonLinesReaderTest, SmallBlocksGiveTheSameRecords) {
  std::string content;
  for (int i = 0; i < 300; ++i) {
    content += "{\"id\": " + std::to_string(i) + ", \"name\": \"" + std::string(static_cast<size_t>(i % 97), 'n') +
               "\", \"tags\": [\"a\", \"b\"]}\n";
  }
  const std::string path = dir_.Write("a.jsonl", content);
  JsonLinesOptions small;
  small.block_size = 64;
  auto a = ReadAll(path);
  auto b = ReadAll(path, small, 7);
  ASSERT_EQ(a.records.size(), 300u);
  ASSERT_EQ(b.records.size(), 300u);
  for (size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(a.records[i].fields, b.records[i].fields);
    EXPECT_EQ(a.records[i].line, b.records[i].line);
    EXPECT_EQ(b.records[i].fields.at("id"), std::to_string(i));
  }
}

TEST_F(JsonLinesReaderTest, LineLongerThanTheLimitIsSkipped) {
  JsonLinesOptions o;
  o.block_size = 64;
  o.max_record_bytes = 256;
  auto res = ReadAll(dir_.Write("a.jsonl", "{\"a\":1}\n{\"a\":\"" + std::string(1000, 'x') + "\"}\n{\"a\":3}\n"), o);
  ASSERT_EQ(res.records.size(), 3u);
  EXPECT_EQ(res.records[0].fields.at("a"), "1");
  EXPECT_THAT(res.records[1].error, HasSubstr("line 2 is longer than 256 bytes"));
  EXPECT_EQ(res.records[2].fields.at("a"), "3");
  EXPECT_EQ(res.records[2].line, 3);
}

TEST_F(JsonLinesReaderTest, MissingFileIsNotFound) {
  auto r = OpenJsonLinesFile(dir_.path() + "/missing.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("missing.jsonl"));
}

TEST_F(JsonLinesReaderTest, EmptyFileHasNoRecords) {
  auto res = ReadAll(dir_.Write("e.jsonl", ""));
  EXPECT_TRUE(res.records.empty());
  EXPECT_TRUE(res.names.empty());
}

}  // namespace
}  // namespace cdp
