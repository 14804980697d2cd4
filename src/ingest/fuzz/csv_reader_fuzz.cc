// libFuzzer target of the CSV reader. The first two bytes choose options
// (delimiter, quote, header, space skipping, tiny block and range sizes so
// records cross block and range boundaries); the rest is the file. Checks:
// - no crash or sanitizer report while opening, splitting and reading;
// - a record error has no fields;
// - the records (fields, lines, record errors) of one sequential pass equal
//   those of the parallel path: CsvRangeSplitter's ranges (from memory or
//   the file) or SplitCsvFile's (always the file), each read with
//   OpenCsvRange, concatenated in order (csv_reader.h promises this);
// - content_hash() of both paths equals FileContentHash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_file.h"
#include "ingest/csv_reader.h"

namespace {

struct Record {
  int64_t line = 0;
  std::vector<std::string> fields;
  std::string error;  // reason of a record error ("" if none)
  bool operator==(const Record&) const = default;
};

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "csv_reader_fuzz: %s\n", what.c_str());
  abort();
}

// Reads every record of `reader`; a record error has no fields.
void ReadAll(const char* who, cdp::RecordReader& reader, size_t batch_records, std::vector<Record>* out) {
  cdp::RawRecordBatch batch;
  for (;;) {
    auto more = reader.Next(&batch, batch_records);
    if (!more.ok()) Fail(std::string(who) + ": Next failed on an in-memory file: " + more.status().ToString());
    if (!*more) break;
    size_t next_error = 0;
    for (size_t r = 0; r < batch.num_records(); ++r) {
      Record rec;
      rec.line = batch.line[r];
      if (next_error < batch.record_errors.size() && batch.record_errors[next_error].first == r) {
        rec.error = batch.record_errors[next_error++].second;
        if (batch.num_fields(r) != 0) Fail(std::string(who) + ": a record error with fields at line " + std::to_string(rec.line));
      } else {
        // Records may have another field count than the header (the converter quarantines them).
        for (size_t f = 0; f < batch.num_fields(r); ++f) rec.fields.emplace_back(batch.field(r, f));
      }
      out->push_back(std::move(rec));
    }
    if (next_error != batch.record_errors.size()) Fail(std::string(who) + ": record_errors out of order or out of range");
  }
}

std::string Describe(const Record& r) {
  std::string s = "line " + std::to_string(r.line) + (r.error.empty() ? "" : " error '" + r.error + "'") + " [";
  for (const auto& f : r.fields) s += "'" + f + "' ";
  return s + "]";
}

void Compare(const std::vector<Record>& sequential, const std::vector<Record>& ranges, const char* how) {
  size_t n = std::min(sequential.size(), ranges.size());
  for (size_t i = 0; i < n; ++i) {
    if (!(sequential[i] == ranges[i])) {
      Fail(std::string(how) + ": record " + std::to_string(i) + " differs: sequential " + Describe(sequential[i]) +
           ", ranges " + Describe(ranges[i]));
    }
  }
  if (sequential.size() != ranges.size()) {
    Fail(std::string(how) + ": " + std::to_string(sequential.size()) + " sequential records, " +
         std::to_string(ranges.size()) + " from ranges");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t o0 = data[0], o1 = data[1];
  static const char kDelimiters[] = {',', ';', '\t', '|'};
  static const char kQuotes[] = {'"', '\'', '"', '"'};
  cdp::CsvOptions options;
  options.delimiter = kDelimiters[o0 & 3];
  options.quote = kQuotes[(o0 >> 2) & 3];
  options.has_header = (o0 & 0x10) == 0;
  options.skip_space_after_delimiter = (o0 & 0x20) != 0;
  options.block_size = size_t{1} + (o1 & 0x1f);       // 1..32 bytes: records span blocks
  options.max_record_bytes = (o0 & 0x40) ? 16 : (size_t{64} << 20);
  const uint64_t target_range = uint64_t{1} + (o1 >> 5) * 7;  // 1..50 bytes
  const size_t batch_records = (o0 & 0x80) ? 1 : 1000;
  const std::string& path = cdp::fuzz::WriteScratchFile(data + 2, size - 2, ".csv");

  auto reader = cdp::OpenCsvFile(path, options);
  auto splitter = cdp::CsvRangeSplitter::Open(path, options, target_range);
  if (reader.ok() != splitter.ok()) {
    Fail("OpenCsvFile: " + reader.status().ToString() + ", CsvRangeSplitter::Open: " + splitter.status().ToString());
  }
  if (!reader.ok()) return 0;
  std::vector<Record> sequential;
  ReadAll("OpenCsvFile", **reader, batch_records, &sequential);
  auto hash = cdp::FileContentHash(path);
  if (!hash.ok()) Fail("FileContentHash: " + hash.status().ToString());
  if ((*reader)->content_hash() != *hash) Fail("the sequential reader's content_hash differs from FileContentHash");

  // Ranges of the streaming splitter (bytes kept in memory when small).
  std::vector<Record> from_ranges;
  cdp::CsvRange range;
  for (;;) {
    auto more = (*splitter)->Next(&range);
    if (!more.ok()) Fail("CsvRangeSplitter::Next: " + more.status().ToString());
    if (!*more) break;
    auto r = cdp::OpenCsvRange(path, options, range);
    if (!r.ok()) Fail("OpenCsvRange: " + r.status().ToString());
    if ((*r)->field_names() != (*reader)->field_names()) Fail("a range reader has other field names");
    ReadAll("OpenCsvRange (CsvRangeSplitter)", **r, batch_records, &from_ranges);
  }
  if ((*splitter)->content_hash() != *hash) Fail("the splitter's content_hash differs from FileContentHash");
  Compare(sequential, from_ranges, "CsvRangeSplitter");

  // Ranges of SplitCsvFile (read from the file).
  auto ranges = cdp::SplitCsvFile(path, options, target_range);
  if (!ranges.ok()) Fail("SplitCsvFile: " + ranges.status().ToString());
  from_ranges.clear();
  for (const cdp::CsvRange& r : *ranges) {
    auto rr = cdp::OpenCsvRange(path, options, r);
    if (!rr.ok()) Fail("OpenCsvRange: " + rr.status().ToString());
    ReadAll("OpenCsvRange (SplitCsvFile)", **rr, batch_records, &from_ranges);
  }
  Compare(sequential, from_ranges, "SplitCsvFile");
  return 0;
}
