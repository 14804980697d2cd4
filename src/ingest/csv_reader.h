// CSV source connector: streams an RFC 4180 file (or a byte range of it) as
// raw records with bounded memory, and splits a file into record-aligned byte
// ranges for parallel parsing. A reader is not thread-safe; separate readers are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/record_reader.h"

namespace cdp {

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  // Ignore spaces (' ') that directly follow a delimiter, outside quotes
  // ("a, b" reads as "a" and "b"); header names are then also trimmed.
  bool skip_space_after_delimiter = false;
  // The first record names the fields; otherwise they are column1, column2, ...
  // (as many as the first record has).
  bool has_header = true;
  // Physical lines (ended by LF, CRLF or a lone CR; quotes are not
  // interpreted) skipped before the header or the first record, e.g. a
  // report title. Records keep their line numbers in the file.
  int64_t skip_lines = 0;
  // Bytes read from the file at a time. Memory is about block_size plus the
  // longest record (records longer than a block grow the buffer).
  size_t block_size = size_t{8} << 20;
  // A record whose bytes up to its first line break exceed this (at least
  // block_size) is a record error and is skipped to the end of the line where
  // the limit was reached (or, inside quotes, of the line where the quote
  // opened); this bounds memory when a quote is never closed.
  size_t max_record_bytes = size_t{64} << 20;
};

// Parsing rules (RFC 4180 plus what real files need):
// - Records end at LF, CRLF or a lone CR outside quotes; the last record may
//   lack a final line break. Empty lines are skipped. A UTF-8 byte-order mark
//   at the start of the file is skipped.
// - A field is quoted when its first byte (after skipped spaces) is the
//   quote: inside, delimiters and line breaks are data and a doubled quote is
//   one quote; the closing quote must be followed by a delimiter, a line
//   break or the end of the input. `"a""b",c` is `a"b` and `c`.
// - A record that breaks these rules is a record error (RawRecordBatch
//   record_errors, with record_error_inputs: its raw bytes, escaped, and its
//   last line), and reading resumes at the start of the next line:
//   * a quote inside an unquoted field (`1,12" pizza,10`): the record up to
//     the end of that quote's line is bad;
//   * text after a closing quote on the line where the field opened
//     (`"ab"c`): the record up to the end of that line is bad;
//   * a quoted field not closed as above - by the end of the input, within
//     max_record_bytes, or because the next quote is followed by other text
//     on a later line (typically the opening quote of a later field): the
//     record up to the end of the line where the quote opened is bad, and the
//     lines after it are read again as records.
//   So one bad quote costs one record; the reasons name file, line, column.
// - Fields are UTF-8 without NUL bytes: a record with an invalid byte or a
//   NUL is a record error naming the file, line and byte column; reading
//   goes on with the next record.
// - Every field is text (is_null = 0); empty fields are empty strings.
// - RawRecordBatch::line is the 1-based physical line where the record
//   starts; line breaks inside quoted fields are counted.
// - bytes_read()/total_bytes() count file bytes (of the range, for a range reader).
//
// Errors from Open*: NotFound (no such file), FailedPrecondition (not readable,
// a directory), InvalidArgument (no header row in an empty file or after the
// skipped lines, a negative skip_lines, an empty or
// duplicate header name, a header with a record error - without a header:
// none of the first 1000 records parses -, options where
// delimiter or quote is a line break or they are equal), all naming the file.
// Next() fails only on an I/O error (DataLoss).
// The reader of OpenCsvFile hashes the file as it reads it: content_hash() is
// FileContentHash(path) once Next() has returned false.
StatusOr<std::unique_ptr<RecordReader>> OpenCsvFile(const std::string& path, const CsvOptions& options);

// A byte range [begin, end) of a CSV file starting at a record boundary.
class CsvRangeBytes;  // a range's bytes in memory (opaque)

struct CsvRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  int64_t first_line = 1;  // physical line number at `begin`
  // Set by CsvRangeSplitter when it kept the range's bytes (ranges up to a
  // few times the target size and not over max_record_bytes): OpenCsvRange
  // then parses them instead of reading the file, and its batches' fields
  // point into them (RawRecordBatch::keep_alive). Null: the file is read.
  std::shared_ptr<CsvRangeBytes> bytes;
};

// Splits the records of `path` (after the header) into contiguous ranges of
// about target_range_bytes each (at least one record each; the last one ends
// at the end of the file). Boundaries are found by one pass that tracks quote
// parity from the start of the file (and parses with the reader's rules
// wherever a quote is out of place), so a line break inside quotes is never a
// boundary and ranges resynchronise after a bad record as a sequential read does. Reading every range with OpenCsvRange yields exactly the records
// (and lines) of one OpenCsvFile pass. A file without data records yields no
// range. Errors as OpenCsvFile; InvalidArgument if target_range_bytes is 0.
StatusOr<std::vector<CsvRange>> SplitCsvFile(const std::string& path, const CsvOptions& options,
                                             uint64_t target_range_bytes);

// Finds the ranges of SplitCsvFile one at a time, reading the file once from
// start to end in small blocks, so that ranges can be parsed while the rest
// of the file is still being split. On the way it hashes every byte of the
// file (the header too) with XXH3-64, the hash FileContentHash computes.
// Not thread-safe.
class CsvRangeSplitter {
 public:
  // Errors as OpenCsvFile; InvalidArgument if target_range_bytes is 0.
  static StatusOr<std::unique_ptr<CsvRangeSplitter>> Open(const std::string& path, const CsvOptions& options,
                                                          uint64_t target_range_bytes);
  virtual ~CsvRangeSplitter() = default;
  // The next range, in file order; false once the records are exhausted (a
  // file without data records has no range). DataLoss on an I/O error.
  virtual StatusOr<bool> Next(CsvRange* range) = 0;
  // Bytes of the file read so far.
  virtual uint64_t bytes_scanned() const = 0;
  // XXH3-64 of the whole file; set once all of it was read (at the latest
  // when Next() has returned false).
  virtual std::optional<uint64_t> content_hash() const = 0;
};

// XXH3-64 of all bytes of `path`, read sequentially (what CsvRangeSplitter and
// a whole-file reader's content_hash() compute). Errors as OpenCsvFile, and
// DataLoss on an I/O error.
StatusOr<uint64_t> FileContentHash(const std::string& path);

// A reader over the records of `range` (from SplitCsvFile with the same
// options). field_names() come from the file's header (or first record).
// Errors as OpenCsvFile; InvalidArgument if the range lies outside the file.
StatusOr<std::unique_ptr<RecordReader>> OpenCsvRange(const std::string& path, const CsvOptions& options,
                                                     const CsvRange& range);

}  // namespace cdp
