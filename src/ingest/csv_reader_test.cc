#include "ingest/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ingest/internal/test_util.h"

namespace cdp {
namespace {

using ingest_internal::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One record as read: its line and either its fields or its error.
// An error also has the lines it spans and its input bytes (escaped).
struct Rec {
  int64_t line = 0;
  std::vector<std::string> fields;
  std::string error;
  int64_t last_line = 0;
  std::string raw;
  bool operator==(const Rec& o) const {
    return line == o.line && fields == o.fields && error == o.error && last_line == o.last_line &&
           raw == o.raw;
  }
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  os << "{line " << r.line << ": ";
  for (const auto& f : r.fields) os << "[" << f << "]";
  if (!r.error.empty()) os << " error (to line " << r.last_line << ", raw [" << r.raw << "]): " << r.error;
  return os << "}";
}

std::vector<Rec> Drain(RecordReader& reader, size_t batch_size = 1000) {
  std::vector<Rec> out;
  RawRecordBatch batch;
  while (true) {
    auto more = reader.Next(&batch, batch_size);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    EXPECT_LE(batch.num_records(), batch_size);
    EXPECT_EQ(batch.fields.size(), batch.is_null.size());
    size_t e = 0;
    for (size_t r = 0; r < batch.num_records(); ++r) {
      Rec rec;
      rec.line = batch.line[r];
      if (e < batch.record_errors.size() && batch.record_errors[e].first == r) {
        rec.error = batch.record_errors[e].second;
        EXPECT_EQ(batch.num_fields(r), 0u);
        EXPECT_EQ(batch.record_error_inputs.size(), batch.record_errors.size());
        if (e < batch.record_error_inputs.size()) {
          rec.last_line = batch.record_error_inputs[e].last_line;
          rec.raw = batch.record_error_inputs[e].raw;
        }
        ++e;
      }
      for (size_t f = 0; f < batch.num_fields(r); ++f) {
        EXPECT_FALSE(batch.field_is_null(r, f));
        rec.fields.emplace_back(batch.field(r, f));
      }
      out.push_back(std::move(rec));
    }
    EXPECT_EQ(e, batch.record_errors.size());
  }
  return out;
}

std::vector<Rec> ReadFile(const std::string& path, const CsvOptions& options = {},
                          std::vector<std::string>* names = nullptr, size_t batch_size = 1000) {
  auto reader = OpenCsvFile(path, options);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return {};
  if (names) *names = (*reader)->field_names();
  auto recs = Drain(**reader, batch_size);
  EXPECT_EQ((*reader)->bytes_read(), (*reader)->total_bytes());
  return recs;
}

Rec R(int64_t line, std::vector<std::string> fields) { return Rec{line, std::move(fields), ""}; }

class CsvReaderTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(CsvReaderTest, ReadsHeaderAndSimpleRecords) {
  std::vector<std::string> names;
  auto recs = ReadFile(dir_.Write("a.csv", "id,name,age\n1,Ann,30\n2,Bob,41\n"), {}, &names);
  EXPECT_THAT(names, ElementsAre("id", "name", "age"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", "Ann", "30"}), R(3, {"2", "Bob", "41"})));
}

TEST_F(CsvReaderTest, QuotedFieldsKeepDelimitersAndDoubledQuotes) {
  auto recs = ReadFile(dir_.Write("a.csv", "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"\"\n\"\"\"\",plain,\"a\"\"\"\n"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"x,y", "say \"hi\"", ""}), R(3, {"\"", "plain", "a\""})));
}

TEST_F(CsvReaderTest, EmbeddedLineBreaksInQuotesAreDataAndCountLines) {
  auto recs = ReadFile(dir_.Write("a.csv", "a,b\n\"l1\nl2\",x\n\"c1\r\nc2\",y\n\"r1\rr2\",z\nlast,w\n"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"l1\nl2", "x"}), R(4, {"c1\r\nc2", "y"}), R(6, {"r1\rr2", "z"}),
                                R(8, {"last", "w"})));
}

TEST_F(CsvReaderTest, CrlfLineEndings) {
  auto recs = ReadFile(dir_.Write("a.csv", "a,b\r\n1,2\r\n3,4\r\n"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", "2"}), R(3, {"3", "4"})));
}

TEST_F(CsvReaderTest, LoneCrEndsRecords) {
  auto recs = ReadFile(dir_.Write("a.csv", "a,b\r1,2\r3,4"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", "2"}), R(3, {"3", "4"})));
}

TEST_F(CsvReaderTest, MissingFinalNewlineStillReadsLastRecord) {
  EXPECT_THAT(ReadFile(dir_.Write("lf.csv", "a,b\n1,2\n3,4")), ElementsAre(R(2, {"1", "2"}), R(3, {"3", "4"})));
  EXPECT_THAT(ReadFile(dir_.Write("crlf.csv", "a,b\r\n1,2\r\n3,\"4\"")),
              ElementsAre(R(2, {"1", "2"}), R(3, {"3", "4"})));
}

TEST_F(CsvReaderTest, ByteOrderMarkIsSkipped) {
  std::vector<std::string> names;
  auto recs = ReadFile(dir_.Write("a.csv", "\xEF\xBB\xBFid,name\n1,x\n"), {}, &names);
  EXPECT_THAT(names, ElementsAre("id", "name"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", "x"})));
}

TEST_F(CsvReaderTest, BlankLinesAreSkippedButCounted) {
  auto recs = ReadFile(dir_.Write("a.csv", "\n\na,b\n\n1,2\r\n\r\n\n3,4\n\n"));
  EXPECT_THAT(recs, ElementsAre(R(5, {"1", "2"}), R(8, {"3", "4"})));
}

TEST_F(CsvReaderTest, TrailingDelimiterGivesEmptyLastField) {
  auto recs = ReadFile(dir_.Write("a.csv", "a,b,c\n1,,\n,,\n"));
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", "", ""}), R(3, {"", "", ""})));
}

TEST_F(CsvReaderTest, CustomDelimiters) {
  CsvOptions semi;
  semi.delimiter = ';';
  EXPECT_THAT(ReadFile(dir_.Write("s.csv", "a;b\n1,5;\"x;y\"\n"), semi), ElementsAre(R(2, {"1,5", "x;y"})));
  CsvOptions tab;
  tab.delimiter = '\t';
  EXPECT_THAT(ReadFile(dir_.Write("t.tsv", "a\tb\n1 2\t\"x\ty\"\n"), tab), ElementsAre(R(2, {"1 2", "x\ty"})));
}

TEST_F(CsvReaderTest, CustomQuoteCharacter) {
  CsvOptions o;
  o.quote = '\'';
  EXPECT_THAT(ReadFile(dir_.Write("q.csv", "a,b\n'x,y','it''s'\n\"q\",z\n"), o),
              ElementsAre(R(2, {"x,y", "it's"}), R(3, {"\"q\"", "z"})));
}

TEST_F(CsvReaderTest, SpaceAfterDelimiterIsSkippedWhenAsked) {
  const std::string content = "id, name , city\n1, Ann, \"Paris, FR\"\n2,  Bob ,x\n";
  CsvOptions skip;
  skip.skip_space_after_delimiter = true;
  std::vector<std::string> names;
  EXPECT_THAT(ReadFile(dir_.Write("s.csv", content), skip, &names),
              ElementsAre(R(2, {"1", "Ann", "Paris, FR"}), R(3, {"2", "Bob ", "x"})));
  EXPECT_THAT(names, ElementsAre("id", "name", "city"));
  // Without the option the spaces are data, and a quote after a space is inside an unquoted field.
  auto recs = ReadFile(dir_.Write("k.csv", "a,b\n1, \"x, y\"\n2,z\n"));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_THAT(recs[0].error, HasSubstr("line 2, column 4: quote character inside an unquoted field"));
  EXPECT_EQ(recs[1], R(3, {"2", "z"}));
}

TEST_F(CsvReaderTest, FebrlDataset4aWithCrlfAndNoFinalNewline) {
  CsvOptions o;
  o.skip_space_after_delimiter = true;
  std::vector<std::string> names;
  auto recs = ReadFile(std::string(CDP_SOURCE_DIR "/../shared/data/febrl/dataset4a.csv"), o, &names);
  EXPECT_THAT(names, ElementsAre("rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
                                 "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"));
  ASSERT_EQ(recs.size(), 5000u);
  for (const Rec& r : recs) ASSERT_EQ(r.fields.size(), 11u) << r;
  EXPECT_THAT(recs[0].fields, ElementsAre("rec-1070-org", "michaela", "neumann", "8", "stanley street", "miami",
                                          "winston hills", "4223", "nsw", "19151111", "5304218"));
  EXPECT_EQ(recs[0].line, 2);
  EXPECT_EQ(recs.back().line, 5001);
  EXPECT_EQ(recs.back().fields.back(), "6375537");
}

TEST_F(CsvReaderTest, FebrlDataset4bWithLf) {
  CsvOptions o;
  o.skip_space_after_delimiter = true;
  auto recs = ReadFile(std::string(CDP_SOURCE_DIR "/../shared/data/febrl/dataset4b.csv"), o);
  ASSERT_EQ(recs.size(), 5000u);
  for (const Rec& r : recs) ASSERT_EQ(r.fields.size(), 11u) << r;
  EXPECT_THAT(recs[0].fields, ElementsAre("rec-561-dup-0", "elton", "", "3", "light setreet", "pinehill",
                                          "windermere", "3212", "vic", "19651013", "1551941"));
}

TEST_F(CsvReaderTest, RecordsSpanningBlockBoundariesMatchOneBlockRead) {
  std::mt19937 rng(7);
  std::string content = "a,b,c\r\n";
  for (int i = 0; i < 400; ++i) {
    content += std::to_string(i) + ",\"q" + std::string(rng() % 90, 'x') + "\r\n" + std::string(rng() % 5, 'y') +
               "\",z" + std::string(rng() % 70, 'w') + (i % 3 == 0 ? "\r\n" : "\n");
  }
  const std::string path = dir_.Write("a.csv", content);
  CsvOptions big;
  CsvOptions small;
  small.block_size = 64;
  auto expected = ReadFile(path, big);
  ASSERT_EQ(expected.size(), 400u);
  EXPECT_EQ(ReadFile(path, small, nullptr, 7), expected);
  EXPECT_EQ(ReadFile(path, small, nullptr, 1000), expected);
}

TEST_F(CsvReaderTest, RecordLongerThanABlockGrowsTheBuffer) {
  const std::string long_field(5000, 'L');
  CsvOptions o;
  o.block_size = 64;
  auto recs = ReadFile(dir_.Write("a.csv", "a,b\n1," + long_field + "\n2,\"" + long_field + "\"\n"), o);
  EXPECT_THAT(recs, ElementsAre(R(2, {"1", long_field}), R(3, {"2", long_field})));
}

TEST_F(CsvReaderTest, InvalidUtf8IsARecordErrorWithLineAndColumn) {
  const std::string path = dir_.Write("bad.csv", "a,b\nok,\xC3\xA9t\xC3\xA9\nab,c\xFF\n\"x\ny\xC3\x28\",z\nlast,1\n");
  auto recs = ReadFile(path);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0], R(2, {"ok", "\xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(recs[1].line, 3);
  EXPECT_THAT(recs[1].error, HasSubstr(path));
  EXPECT_THAT(recs[1].error, HasSubstr("line 3, column 5"));
  EXPECT_THAT(recs[1].error, HasSubstr("0xFF"));
  EXPECT_EQ(recs[2].line, 4);
  EXPECT_THAT(recs[2].error, HasSubstr("line 5, column 2"));
  EXPECT_EQ(recs[3], R(6, {"last", "1"}));
}

TEST_F(CsvReaderTest, UnterminatedQuoteAtEndIsARecordErrorNamingItsStartLine) {
  const std::string path = dir_.Write("a.csv", "a,b\n1,2\n3,\"open\nmore\nstuff\n");
  auto recs = ReadFile(path);
  // The line where the quote opened is the bad record; reading resumes on the next line.
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0], R(2, {"1", "2"}));
  EXPECT_EQ(recs[1].line, 3);
  EXPECT_EQ(recs[1].last_line, 3);
  EXPECT_EQ(recs[1].raw, "3,\"open");
  EXPECT_THAT(recs[1].error,
              HasSubstr(path + ": line 3, column 3: the quoted field starting here is not closed"));
  EXPECT_EQ(recs[2], R(4, {"more"}));
  EXPECT_EQ(recs[3], R(5, {"stuff"}));
}

TEST_F(CsvReaderTest, RecordLongerThanTheLimitIsSkippedAndReadingGoesOn) {
  CsvOptions o;
  o.block_size = 64;
  o.max_record_bytes = 256;
  const std::string huge = "\"" + std::string(300, 'h') + "\r\n" + std::string(300, 'i') + "\"";
  auto recs = ReadFile(dir_.Write("a.csv", "a,b\n1,2\n3," + huge + "\r\n4,5\n"), o);
  // The quote opened on line 3 does not close within 256 bytes: line 3 is
  // skipped (its first 256 bytes are kept); line 4 alone is too long too.
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0], R(2, {"1", "2"}));
  EXPECT_EQ(recs[1].line, 3);
  EXPECT_EQ(recs[1].last_line, 3);
  EXPECT_THAT(recs[1].error, HasSubstr("not closed"));
  EXPECT_EQ(recs[1].raw, "3,\"" + std::string(253, 'h'));
  EXPECT_EQ(recs[2].line, 4);
  EXPECT_THAT(recs[2].error, HasSubstr("longer than 256 bytes"));
  EXPECT_EQ(recs[3], R(5, {"4", "5"}));
}

TEST_F(CsvReaderTest, UnterminatedQuoteLongerThanTheLimitIsOneError) {
  CsvOptions o;
  o.block_size = 64;
  o.max_record_bytes = 128;
  auto recs = ReadFile(dir_.Write("a.csv", "a\n1\n\"" + std::string(1000, 'x') + "\n2\n3\n"), o);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0], R(2, {"1"}));
  EXPECT_THAT(recs[1].error, HasSubstr("line 3, column 1: the quoted field starting here is not closed"));
  EXPECT_EQ(recs[2], R(4, {"2"}));
  EXPECT_EQ(recs[3], R(5, {"3"}));
}

// Reads `path` sequentially, as ranges of SplitCsvFile and as ranges of
// CsvRangeSplitter (bytes in memory) for several range sizes; every way
// must give the same records. Returns the sequential read.
std::vector<Rec> ReadEveryWay(const std::string& path, const CsvOptions& o,
                              std::vector<uint64_t> targets = {1, 7, 100, uint64_t{1} << 30}) {
  const size_t batch_size = 1000;
  const std::vector<Rec> expected = ReadFile(path, o, nullptr, batch_size);
  for (uint64_t target : targets) {
    auto ranges = SplitCsvFile(path, o, target);
    EXPECT_TRUE(ranges.ok()) << ranges.status().ToString();
    if (!ranges.ok()) return expected;
    std::vector<Rec> got;
    for (const CsvRange& range : *ranges) {
      auto reader = OpenCsvRange(path, o, range);
      EXPECT_TRUE(reader.ok()) << reader.status().ToString();
      if (!reader.ok()) return expected;
      auto part = Drain(**reader, batch_size);
      got.insert(got.end(), part.begin(), part.end());
    }
    EXPECT_EQ(got, expected) << path << ": SplitCsvFile ranges, target " << target;
    auto splitter = CsvRangeSplitter::Open(path, o, target);
    EXPECT_TRUE(splitter.ok());
    if (!splitter.ok()) return expected;
    got.clear();
    CsvRange range;
    for (;;) {
      auto more = (*splitter)->Next(&range);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
      auto reader = OpenCsvRange(path, o, range);
      EXPECT_TRUE(reader.ok());
      if (!reader.ok()) return expected;
      auto part = Drain(**reader, batch_size);
      got.insert(got.end(), part.begin(), part.end());
    }
    EXPECT_EQ(got, expected) << path << ": CsvRangeSplitter ranges, target " << target;
  }
  return expected;
}

// A byte-order mark is skipped by range readers as by the sequential one,
// also without a header and alone on its line (found by csv_reader_fuzz).
TEST_F(CsvReaderTest, RangesSkipAByteOrderMarkWithoutAHeader) {
  CsvOptions o;
  o.has_header = false;
  auto recs = ReadEveryWay(dir_.Write("bom.csv", "\xEF\xBB\xBF@ub\n1\n"), o);
  EXPECT_THAT(recs, ElementsAre(R(1, {"@ub"}), R(2, {"1"})));
  auto alone = ReadEveryWay(dir_.Write("bom_alone.csv", "\xEF\xBB\xBF\nx,y\n"), o);
  EXPECT_THAT(alone, ElementsAre(R(2, {"x", "y"})));
}

// A record error as expected in the table below: its first and last line,
// its raw bytes (escaped) and a part of its reason.
Rec E(int64_t line, int64_t last_line, std::string raw, std::string reason_part) {
  Rec r;
  r.line = line;
  r.last_line = last_line;
  r.raw = std::move(raw);
  r.error = std::move(reason_part);
  return r;
}

// Resynchronisation after a bad record: one bad quote costs one record,
// which is reported with its lines and raw bytes; the records around it are
// read as usual, by a sequential reader and by range readers alike.
TEST_F(CsvReaderTest, BadRecordsAreQuarantinedWithTheirLinesAndReadingResumesOnTheNextLine) {
  struct Case {
    const char* name;
    std::string body;  // after the header line "a,b,c\n"
    std::vector<Rec> want;
  };
  const std::vector<Case> cases = {
      {"stray quote in the middle",
       "1,x,y\n2,12\" pizza,10\n3,z,w\n",
       {R(2, {"1", "x", "y"}),
        E(3, 3, "2,12\" pizza,10", "line 3, column 5: quote character inside an unquoted field"),
        R(4, {"3", "z", "w"})}},
      {"stray quote on the first row",
       "1,12\" pizza,10\n2,x,y\n3,z,w\n",
       {E(2, 2, "1,12\" pizza,10", "line 2, column 5: quote character inside an unquoted field"),
        R(3, {"2", "x", "y"}), R(4, {"3", "z", "w"})}},
      {"stray quote on the last row without a final line break",
       "1,x,y\n2,5'11\",z",
       {R(2, {"1", "x", "y"}),
        E(3, 3, "2,5'11\",z", "line 3, column 7: quote character inside an unquoted field")}},
      {"unterminated quote at the end",
       "1,x,y\n2,\"open,z\n3,a,b\n",
       {R(2, {"1", "x", "y"}),
        E(3, 3, "2,\"open,z", "line 3, column 3: the quoted field starting here is not closed"),
        R(4, {"3", "a", "b"})}},
      {"unterminated quote closed by the next field's quote",
       "1,\"abc,x\n2,\"def\",3\n4,x,y\n",
       {E(2, 2, "1,\"abc,x", "line 2, column 3: the quoted field starting here is not closed"),
        R(3, {"2", "def", "3"}), R(4, {"4", "x", "y"})}},
      {"text after a closing quote",
       "1,\"ab\"c,d\n2,x,y\n",
       {E(2, 2, "1,\"ab\"c,d", "line 2, column 7: text after the closing quote"), R(3, {"2", "x", "y"})}},
      {"CRLF file with a stray quote",
       "1,x,y\r\n2,a\"b,c\r\n3,z,w\r\n",
       {R(2, {"1", "x", "y"}), E(3, 3, "2,a\"b,c", "line 3, column 4: quote character"),
        R(4, {"3", "z", "w"})}},
      {"quoted line breaks are data",
       "1,\"x\ny\",z\n2,\"p\r\nq\",r\n3,\"\"\"hi\"\"\",\"\"\n",
       {R(2, {"1", "x\ny", "z"}), R(4, {"2", "p\r\nq", "r"}), R(6, {"3", "\"hi\"", ""})}},
      {"stray quote after a quoted line break",
       "1,\"x\ny\",a\"b\n2,p,q\n",
       {E(2, 3, "1,\"x\ny\",a\"b", "line 3, column 5: quote character inside an unquoted field"),
        R(4, {"2", "p", "q"})}},
      {"NUL byte",
       std::string("1,a\0b,c\n2,x,y\n", 14),
       {E(2, 2, "1,a\\x00b,c", "NUL byte (0x00) at line 2, column 4"), R(3, {"2", "x", "y"})}},
      {"NUL byte in a quoted field",
       std::string("1,\"a\0\",c\n2,x,y\n", 15),
       {E(2, 2, "1,\"a\\x00\",c", "NUL byte (0x00) at line 2, column 5"), R(3, {"2", "x", "y"})}},
      {"invalid UTF-8 keeps its raw bytes",
       "1,ab\xFF,c\\d\n2,x,y\n",
       {E(2, 2, "1,ab\\xFF,c\\\\d", "invalid UTF-8 at line 2, column 5 (byte 0xFF)"), R(3, {"2", "x", "y"})}},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir_.Write("t" + std::to_string(n++) + ".csv", "a,b,c\n" + c.body);
    for (size_t block : {size_t{64}, size_t{8} << 20}) {
      CsvOptions o;
      o.block_size = block;
      const auto got = ReadEveryWay(path, o);
      ASSERT_EQ(got.size(), c.want.size()) << ::testing::PrintToString(got);
      for (size_t i = 0; i < got.size(); ++i) {
        if (c.want[i].error.empty()) {
          EXPECT_EQ(got[i], c.want[i]);
          continue;
        }
        EXPECT_EQ(got[i].line, c.want[i].line) << got[i];
        EXPECT_EQ(got[i].last_line, c.want[i].last_line) << got[i];
        EXPECT_EQ(got[i].raw, c.want[i].raw) << got[i];
        EXPECT_THAT(got[i].error, HasSubstr(path + ": " + c.want[i].error));
        EXPECT_TRUE(got[i].fields.empty());
      }
    }
  }
}

// A stray quote costs one record wherever it is, also in a large file read
// by many ranges.
TEST_F(CsvReaderTest, OneStrayQuoteInTenThousandRowsCostsOneRecord) {
  for (int bad_row : {1, 5000, 10000}) {
    std::string content = "id,name,qty\n";
    for (int i = 1; i <= 10000; ++i) {
      content +=
          std::to_string(i) + (i == bad_row ? ",12\" pizza," : ",pizza,") + std::to_string(i % 7) + "\n";
    }
    const std::string path = dir_.Write("p" + std::to_string(bad_row) + ".csv", content);
    CsvOptions o;
    o.block_size = 4096;
    const auto recs = ReadEveryWay(path, o, {1000, 50000, uint64_t{1} << 30});
    ASSERT_EQ(recs.size(), 10000u);
    size_t errors = 0;
    for (const Rec& r : recs) {
      if (r.error.empty()) continue;
      ++errors;
      EXPECT_EQ(r.line, bad_row + 1);
      EXPECT_EQ(r.raw, std::to_string(bad_row) + ",12\" pizza," + std::to_string(bad_row % 7));
    }
    EXPECT_EQ(errors, 1u);
  }
}

// lines_read() counts physical lines (the run report shows them next to
// records): a whole-file reader counts the header, a range reader its range.
TEST_F(CsvReaderTest, LinesReadCountsPhysicalLines) {
  for (const std::string last : {"4,5", "4,5\n", "4,\"5\r\n6\"\r\n"}) {
    const std::string content = "a,b\n1,\"x\ny\"\n\n2,3\r\n" + last;
    const int64_t lines = 6 + (last.find('6') != std::string::npos ? 1 : 0);
    const std::string path = dir_.Write("l.csv", content);
    auto reader = OpenCsvFile(path, {});
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(Drain(**reader).size(), 3u);
    EXPECT_EQ((*reader)->lines_read(), lines) << content;
    auto ranges = SplitCsvFile(path, {}, 1);
    ASSERT_TRUE(ranges.ok());
    int64_t sum = (*ranges)[0].first_line - 1;
    for (const CsvRange& range : *ranges) {
      auto r = OpenCsvRange(path, {}, range);
      ASSERT_TRUE(r.ok());
      Drain(**r);
      sum += (*r)->lines_read();
    }
    EXPECT_EQ(sum, lines) << content;
  }
}

// Without a header, a bad first record is one bad record too: the fields are
// counted on the first good one, and every way of reading agrees.
TEST_F(CsvReaderTest, WithoutHeaderABadFirstRecordIsQuarantinedLikeAnyOther) {
  CsvOptions o;
  o.has_header = false;
  const std::string path = dir_.Write("nh.csv", "1,12\" pizza,3\n2,x,y\n3,z,w\n");
  auto reader = OpenCsvFile(path, o);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_THAT((*reader)->field_names(), ElementsAre("column1", "column2", "column3"));
  const auto recs = ReadEveryWay(path, o);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].line, 1);
  EXPECT_EQ(recs[0].raw, "1,12\" pizza,3");
  EXPECT_THAT(recs[0].error, HasSubstr("line 1, column 5: quote character inside an unquoted field"));
  EXPECT_EQ(recs[1], R(2, {"2", "x", "y"}));
  EXPECT_EQ(recs[2], R(3, {"3", "z", "w"}));
  // With no good record at all the file cannot be read.
  auto bad = OpenCsvFile(dir_.Write("nh2.csv", "1,a\"b\n"), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("cannot read the first record: line 1, column 4"));
}

TEST_F(CsvReaderTest, WithoutHeaderFieldsAreNumbered) {
  CsvOptions o;
  o.has_header = false;
  std::vector<std::string> names;
  auto recs = ReadFile(dir_.Write("a.csv", "\xEF\xBB\xBF" "1,2,3\n4,5,6\n"), o, &names);
  EXPECT_THAT(names, ElementsAre("column1", "column2", "column3"));
  EXPECT_THAT(recs, ElementsAre(R(1, {"1", "2", "3"}), R(2, {"4", "5", "6"})));
}

TEST_F(CsvReaderTest, HeaderWithEmptyOrDuplicateNameIsRejected) {
  auto empty = OpenCsvFile(dir_.Write("e.csv", "a,,c\n1,2,3\n"), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("e.csv"));
  EXPECT_THAT(empty.status().message(), HasSubstr("header field 2"));

  auto dup = OpenCsvFile(dir_.Write("d.csv", "a,b,a\n"), {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("duplicate field name 'a'"));
  EXPECT_THAT(dup.status().message(), HasSubstr("fields 1 and 3"));

  CsvOptions skip;
  skip.skip_space_after_delimiter = true;
  auto trimmed_dup = OpenCsvFile(dir_.Write("t.csv", "a, a\n"), skip);
  EXPECT_FALSE(trimmed_dup.ok());
}

TEST_F(CsvReaderTest, OpenErrors) {
  auto missing = OpenCsvFile(dir_.path() + "/nope.csv", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.csv"));

  auto directory = OpenCsvFile(dir_.path(), {});
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kFailedPrecondition);

  auto empty = OpenCsvFile(dir_.Write("empty.csv", ""), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("header"));

  CsvOptions same;
  same.quote = ',';
  EXPECT_EQ(OpenCsvFile(dir_.Write("x.csv", "a\n"), same).status().code(), StatusCode::kInvalidArgument);
  CsvOptions newline;
  newline.delimiter = '\n';
  EXPECT_EQ(OpenCsvFile(dir_.Write("y.csv", "a\n"), newline).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CsvReaderTest, HeaderOnlyFileHasNoRecords) {
  auto reader = OpenCsvFile(dir_.Write("h.csv", "a,b\n"), {});
  ASSERT_TRUE(reader.ok());
  RawRecordBatch batch;
  auto more = (*reader)->Next(&batch, 10);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_EQ(batch.num_records(), 0u);
}

TEST_F(CsvReaderTest, BatchesRespectMaxRecordsAndReportProgress) {
  std::string content = "n\n";
  for (int i = 0; i < 25; ++i) content += std::to_string(i) + "\n";
  const std::string path = dir_.Write("a.csv", content);
  auto reader = OpenCsvFile(path, {});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->total_bytes(), content.size());
  RawRecordBatch batch;
  std::vector<size_t> sizes;
  while (true) {
    auto more = (*reader)->Next(&batch, 10);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    sizes.push_back(batch.num_records());
    EXPECT_EQ(batch.location, path);
  }
  EXPECT_THAT(sizes, ElementsAre(10u, 10u, 5u));
  EXPECT_EQ((*reader)->bytes_read(), content.size());
}

// A random CSV with quotes, embedded line breaks, CRLF, blank lines, an
// invalid UTF-8 byte now and then, and sometimes no final newline.
// With `dirty`, also stray quotes, unclosed quotes, text after closing
// quotes, NUL bytes and spaces before quotes.
std::string RandomCsv(std::mt19937& rng, int records, bool dirty = false) {
  std::string s = "h1,h2,h3\n";
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int r = 0; r < records; ++r) {
    if (pick(10) == 0) s += pick(2) ? "\n" : "\r\n";  // blank line
    int fields = 1 + pick(4);
    for (int f = 0; f < fields; ++f) {
      if (f > 0) s += ',';
      if (dirty && pick(12) == 0) {
        switch (pick(6)) {
          case 0:
            s += "12\" pizza";
            break;
          case 1:
            s += "\"unclosed";
            break;
          case 2:
            s += "\"ab\"c";
            break;
          case 3:
            s += std::string("a\0b", 3);
            break;
          case 4:
            s += " \"x\"";
            break;
          default:
            s += "\"\"\"\r\n";
            break;
        }
        continue;
      }
      switch (pick(6)) {
        case 0: s += std::to_string(rng() % 100000); break;
        case 1: s += "\"a,b\"\"c\nd\r\ne\""; break;
        case 2: s += "\"\""; break;
        case 3: s += std::string(static_cast<size_t>(pick(40)), 'x'); break;
        case 4: s += pick(20) == 0 ? "bad\xFE" : "caf\xC3\xA9"; break;
        default: s += "\"q\rr\""; break;
      }
    }
    s += pick(3) == 0 ? "\r\n" : (pick(20) == 0 ? "\r" : "\n");
  }
  if (pick(2) == 0 && !s.empty()) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  }
  return s;
}

TEST_F(CsvReaderTest, SplitRangesReadExactlyTheRecordsOfOneSequentialRead) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 30; ++round) {
    const std::string content = RandomCsv(rng, 50 + static_cast<int>(rng() % 300));
    const std::string path = dir_.Write("r" + std::to_string(round) + ".csv", content);
    CsvOptions o;
    o.block_size = 64 + rng() % 512;
    const auto expected = ReadFile(path, o);
    ASSERT_GE(expected.size(), 50u);
    for (uint64_t target : {uint64_t{1}, uint64_t{17}, uint64_t{100}, uint64_t{1000}, uint64_t{1} << 30}) {
      auto ranges = SplitCsvFile(path, o, target);
      ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
      ASSERT_FALSE(ranges->empty());
      if (target == 1) EXPECT_GE(ranges->size(), expected.size() / 2);
      EXPECT_EQ(ranges->back().end, content.size());
      std::vector<Rec> got;
      for (size_t i = 0; i < ranges->size(); ++i) {
        const CsvRange& range = (*ranges)[i];
        if (i > 0) EXPECT_EQ(range.begin, (*ranges)[i - 1].end);
        EXPECT_LT(range.begin, range.end);
        auto reader = OpenCsvRange(path, o, range);
        ASSERT_TRUE(reader.ok()) << reader.status().ToString();
        EXPECT_THAT((*reader)->field_names(), ElementsAre("h1", "h2", "h3"));
        auto part = Drain(**reader, 1 + rng() % 50);
        EXPECT_EQ((*reader)->bytes_read(), range.end - range.begin);
        got.insert(got.end(), part.begin(), part.end());
      }
      ASSERT_EQ(got, expected) << "round " << round << " target " << target;
    }
  }
}

// Ranges from CsvRangeSplitter carry their bytes when they are short enough
// to keep: their readers parse those instead of reading the file, and yield
// exactly the records (and lines, and record errors) of a sequential read.
TEST_F(CsvReaderTest, SplitterRangesReadFromMemoryEqualOneSequentialRead) {
  std::mt19937 rng(4242);
  size_t with_bytes = 0, without_bytes = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string content = RandomCsv(rng, 50 + static_cast<int>(rng() % 300));
    const std::string path = dir_.Write("m" + std::to_string(round) + ".csv", content);
    CsvOptions o;
    o.block_size = 64 + rng() % 512;
    if (round % 4 == 3) o.max_record_bytes = 64 + rng() % 200;  // some ranges too long to keep
    const auto expected = ReadFile(path, o);
    for (uint64_t target : {uint64_t{1}, uint64_t{17}, uint64_t{100}, uint64_t{1000}, uint64_t{1} << 30}) {
      auto splitter = CsvRangeSplitter::Open(path, o, target);
      ASSERT_TRUE(splitter.ok()) << splitter.status().ToString();
      std::vector<Rec> got;
      uint64_t prev_end = 0;
      CsvRange range;
      for (;;) {
        auto more = (*splitter)->Next(&range);
        ASSERT_TRUE(more.ok());
        if (!*more) break;
        if (prev_end > 0) EXPECT_EQ(range.begin, prev_end);
        prev_end = range.end;
        (range.bytes ? with_bytes : without_bytes)++;
        auto reader = OpenCsvRange(path, o, range);
        ASSERT_TRUE(reader.ok()) << reader.status().ToString();
        auto part = Drain(**reader, 1 + rng() % 50);
        EXPECT_EQ((*reader)->bytes_read(), range.end - range.begin);
        got.insert(got.end(), part.begin(), part.end());
      }
      EXPECT_EQ(prev_end, content.size());
      ASSERT_EQ(got, expected) << "round " << round << " target " << target << " block " << o.block_size;
      ASSERT_EQ(*(*splitter)->content_hash(), *FileContentHash(path));
    }
  }
  EXPECT_GT(with_bytes, 100u);
  EXPECT_GT(without_bytes, 0u) << "some ranges are too long to keep";
}

// The differential test on files with bad quotes, NUL bytes and records
// over max_record_bytes: ranges (from the file and from memory) resynchronise
// after a bad record exactly where a sequential read does.
TEST_F(CsvReaderTest, RangesAgreeWithOneSequentialReadOnDirtyFiles) {
  std::mt19937 rng(777);
  size_t errors = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string content = RandomCsv(rng, 50 + static_cast<int>(rng() % 300), /*dirty=*/true);
    const std::string path = dir_.Write("d" + std::to_string(round) + ".csv", content);
    CsvOptions o;
    o.block_size = 64 + rng() % 512;
    if (round % 3 == 2) o.max_record_bytes = 64 + rng() % 200;
    if (round % 5 == 4) o.skip_space_after_delimiter = true;
    const auto recs = ReadEveryWay(path, o, {1, 17, 100, 1000, uint64_t{1} << 30});
    for (const Rec& r : recs) errors += r.error.empty() ? 0 : 1;
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
  EXPECT_GT(errors, 100u);
}

// A batch of a range read from memory points into the range's bytes and
// keeps them alive: it stays valid after its reader, the range and the
// splitter are gone, and so do its copies (ASan checks the reads).
TEST_F(CsvReaderTest, BatchFromRangeBytesOutlivesItsReader) {
  const std::string path = dir_.Write("k.csv", "a,b\n1,\"x,\"\"y\"\"\"\n2,plain\n");
  RawRecordBatch batch;
  {
    auto splitter = CsvRangeSplitter::Open(path, {}, 1 << 20);
    ASSERT_TRUE(splitter.ok());
    CsvRange range;
    ASSERT_TRUE(*(*splitter)->Next(&range));
    ASSERT_NE(range.bytes, nullptr);
    auto reader = OpenCsvRange(path, {}, range);
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE(*(*reader)->Next(&batch, 10));
  }
  RawRecordBatch copy = batch;
  RawRecordBatch moved = std::move(batch);
  for (const RawRecordBatch* b : {&copy, &moved}) {
    ASSERT_EQ(b->num_records(), 2u);
    EXPECT_EQ(b->field(0, 0), "1");
    EXPECT_EQ(b->field(0, 1), "x,\"y\"");
    EXPECT_EQ(b->field(1, 1), "plain");
  }
}

TEST_F(CsvReaderTest, SplitOfTinyTargetPutsOneRecordPerRange) {
  const std::string path = dir_.Write("a.csv", "a\n1\n\"2\n2\"\n3\r\n4");
  auto ranges = SplitCsvFile(path, {}, 1);
  ASSERT_TRUE(ranges.ok());
  ASSERT_EQ(ranges->size(), 4u);
  EXPECT_EQ((*ranges)[0].begin, 2u);
  EXPECT_EQ((*ranges)[0].first_line, 2);
  EXPECT_EQ((*ranges)[1].first_line, 3);
  EXPECT_EQ((*ranges)[2].first_line, 5);
  EXPECT_EQ((*ranges)[3].first_line, 6);
}

TEST_F(CsvReaderTest, SplitOfHeaderOnlyFileIsEmptyAndBadArgumentsFail) {
  auto ranges = SplitCsvFile(dir_.Write("h.csv", "a,b\n"), {}, 10);
  ASSERT_TRUE(ranges.ok());
  EXPECT_TRUE(ranges->empty());
  EXPECT_EQ(SplitCsvFile(dir_.Write("x.csv", "a\n1\n"), {}, 0).status().code(), StatusCode::kInvalidArgument);
  const std::string path = dir_.Write("y.csv", "a\n1\n");
  EXPECT_EQ(OpenCsvRange(path, {}, CsvRange{2, 99, 2}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenCsvRange(path, {}, CsvRange{0, 4, 1}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
TEST_F(CsvReaderTest, SplitterAndWholeFileReaderHashEveryByteOfTheFile) {
  std::mt19937 rng(777);
  for (int round = 0; round < 10; ++round) {
    const std::string content = RandomCsv(rng, 50 + static_cast<int>(rng() % 300));
    const std::string path = dir_.Write("h" + std::to_string(round) + ".csv", content);
    auto expected = FileContentHash(path);
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    CsvOptions o;
    o.block_size = 64 + rng() % 512;

    auto splitter = CsvRangeSplitter::Open(path, o, 1 + rng() % 200);
    ASSERT_TRUE(splitter.ok()) << splitter.status().ToString();
    auto all = SplitCsvFile(path, o, 1 + rng() % 200);
    ASSERT_TRUE(all.ok());
    CsvRange range;
    uint64_t last_end = 0;
    EXPECT_FALSE((*splitter)->content_hash().has_value()) << "nothing is read before the first Next()";
    for (;;) {
      auto more = (*splitter)->Next(&range);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      EXPECT_GE((*splitter)->bytes_scanned(), range.end > 0 ? range.end - 1 : 0);
      last_end = range.end;
    }
    EXPECT_EQ(last_end, content.size());
    ASSERT_TRUE((*splitter)->content_hash().has_value());
    EXPECT_EQ(*(*splitter)->content_hash(), *expected) << "round " << round;

    // A reader of the whole file: with a header, and without (it reads the
    // first record twice).
    for (bool header : {true, false}) {
      o.has_header = header;
      auto reader = OpenCsvFile(path, o);
      ASSERT_TRUE(reader.ok());
      Drain(**reader, 1 + rng() % 40);
      ASSERT_TRUE((*reader)->content_hash().has_value());
      EXPECT_EQ(*(*reader)->content_hash(), *expected) << "round " << round << " header " << header;
    }
    o.has_header = true;
    // A range reader covers part of the file: no hash.
    auto part = OpenCsvRange(path, o, all->front());
    ASSERT_TRUE(part.ok());
    Drain(**part);
    EXPECT_FALSE((*part)->content_hash().has_value());
  }
  // One changed byte changes the hash.
  const std::string a = dir_.Write("a.csv", "x,y\n1,2\n3,4\n");
  const std::string b = dir_.Write("b.csv", "x,y\n1,2\n3,5\n");
  EXPECT_NE(*FileContentHash(a), *FileContentHash(b));
  EXPECT_EQ(FileContentHash(dir_.path() + "/missing.csv").status().code(), StatusCode::kNotFound);
}


// skip_lines: physical lines (a report title with quotes and commas, blank
// lines, CRLF and a lone CR) are skipped before the header or the data; the
// records keep their file lines; ranges, line counts and the content hash
// agree with a sequential read of the whole file.
TEST_F(CsvReaderTest, SkipLinesSkipsPhysicalLinesBeforeTheHeaderOrData) {
  const std::string body = "Sales report, \"Q3\r\n\nexported 2024-01-02\rid,name\n1,Ann\n2,\"B\nob\"\n3,Cy\n";
  const std::string path = dir_.Write("s.csv", "\xEF\xBB\xBF" + body);
  auto expected_hash = FileContentHash(path);
  ASSERT_TRUE(expected_hash.ok());
  for (size_t block : {size_t{1}, size_t{3}, size_t{8} << 20}) {
    CsvOptions o;
    o.block_size = block;
    o.skip_lines = 3;
    std::vector<std::string> names;
    auto reader = OpenCsvFile(path, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_THAT((*reader)->field_names(), ElementsAre("id", "name"));
    auto recs = Drain(**reader);
    EXPECT_THAT(recs, ElementsAre(R(5, {"1", "Ann"}), R(6, {"2", "B\nob"}), R(8, {"3", "Cy"}))) << block;
    EXPECT_EQ((*reader)->lines_read(), 8);
    ASSERT_TRUE((*reader)->content_hash().has_value());
    EXPECT_EQ(*(*reader)->content_hash(), *expected_hash);
    for (uint64_t target : {1, 5, 1000}) {
      auto ranges = SplitCsvFile(path, o, target);
      ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
      std::vector<Rec> from_ranges;
      for (const CsvRange& r : *ranges) {
        auto rr = OpenCsvRange(path, o, r);
        ASSERT_TRUE(rr.ok()) << rr.status().ToString();
        for (Rec& rec : Drain(**rr)) from_ranges.push_back(std::move(rec));
      }
      EXPECT_EQ(from_ranges, recs) << "target " << target;
      EXPECT_EQ(ranges->front().first_line, 5);
      auto splitter = CsvRangeSplitter::Open(path, o, target);
      ASSERT_TRUE(splitter.ok());
      CsvRange range;
      while (*(*splitter)->Next(&range)) {
      }
      EXPECT_EQ((*splitter)->content_hash(), *expected_hash);
    }
    // Without a header the fields are numbered from the first line after the skipped ones.
    o.has_header = false;
    o.skip_lines = 4;
    reader = OpenCsvFile(path, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_THAT((*reader)->field_names(), ElementsAre("column1", "column2"));
    EXPECT_THAT(Drain(**reader), ElementsAre(R(5, {"1", "Ann"}), R(6, {"2", "B\nob"}), R(8, {"3", "Cy"})));
    EXPECT_EQ((*reader)->lines_read(), 8);
    EXPECT_EQ((*reader)->content_hash(), *expected_hash);
    auto ranges = SplitCsvFile(path, o, 4);
    ASSERT_TRUE(ranges.ok());
    EXPECT_EQ(ranges->front().first_line, 5);
  }
  // Skipping every line: no header is an error naming the count; without a
  // header the file has no records.
  CsvOptions o;
  o.skip_lines = 9;
  auto none = OpenCsvFile(path, o);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(),
              HasSubstr("no header row after the 9 skipped lines (skip_rows); the file has 8 lines"));
  o.has_header = false;
  auto empty = OpenCsvFile(path, o);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(Drain(**empty).empty());
  auto no_ranges = SplitCsvFile(path, o, 4);
  ASSERT_TRUE(no_ranges.ok());
  EXPECT_TRUE(no_ranges->empty());
  o.skip_lines = -1;
  EXPECT_EQ(OpenCsvFile(path, o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace cdp
