// libFuzzer target of the JSON Lines reader. The first byte chooses a tiny
// block size (lines span blocks), a record limit and the batch size; the
// rest is the file. Checks: no crash or sanitizer report; Next() never fails
// on an in-memory file; field names are unique and only ever appended; a
// record has at most as many fields as names known when it was read, none if
// it is a record error; lines increase; bytes_read() reaches total_bytes().
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "fuzz_file.h"
#include "ingest/jsonl_reader.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "jsonl_reader_fuzz: %s\n", what.c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t o = data[0];
  cdp::JsonLinesOptions options;
  options.block_size = size_t{1} + (o & 0x1f);
  options.max_record_bytes = (o & 0x20) ? 24 : (size_t{64} << 20);
  const size_t batch_records = (o & 0x40) ? 1 : 1000;
  const std::string& path = cdp::fuzz::WriteScratchFile(data + 1, size - 1, ".jsonl");

  auto reader = cdp::OpenJsonLinesFile(path, options);
  if (!reader.ok()) Fail("OpenJsonLinesFile on a readable file: " + reader.status().ToString());
  cdp::RecordReader& r = **reader;
  std::vector<std::string> names = r.field_names();
  cdp::RawRecordBatch batch;
  int64_t last_line = 0;
  for (;;) {
    auto more = r.Next(&batch, batch_records);
    if (!more.ok()) Fail("Next failed on an in-memory file: " + more.status().ToString());
    if (!*more) break;
    const std::vector<std::string>& now = r.field_names();
    if (now.size() < names.size() || !std::equal(names.begin(), names.end(), now.begin())) {
      Fail("field names changed instead of growing");
    }
    names = now;
    if (std::set<std::string>(names.begin(), names.end()).size() != names.size()) Fail("repeated field name");
    if (batch.fields.size() != batch.is_null.size()) Fail("fields and is_null differ in size");
    size_t next_error = 0;
    for (size_t i = 0; i < batch.num_records(); ++i) {
      if (batch.line[i] <= last_line) Fail("line numbers do not increase");
      last_line = batch.line[i];
      if (batch.num_fields(i) > names.size()) Fail("a record has more fields than names");
      if (next_error < batch.record_errors.size() && batch.record_errors[next_error].first == i) {
        if (batch.num_fields(i) != 0) Fail("a record error with fields");
        ++next_error;
      }
      for (size_t f = 0; f < batch.num_fields(i); ++f) (void)batch.field(i, f).size();
    }
    if (next_error != batch.record_errors.size()) Fail("record_errors out of order or out of range");
  }
  if (r.bytes_read() != r.total_bytes()) Fail("bytes_read() != total_bytes() at the end");
  return 0;
}
