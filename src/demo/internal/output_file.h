// A buffered output file written under a temporary name and renamed into place on Commit(), plus
// allocation-free formatters for CSV fields, JSON strings, numbers, dates and timestamps.
// Not thread-safe; one writer per file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp::demo_internal {

class OutputFile {
 public:
  OutputFile() = default;
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Creates "<path>.tmp" for writing. Unavailable if the file cannot be created.
  Status Open(std::string path);
  // Text of the row being built; append fields here, then call EndRow().
  std::string& row() { return buffer_; }
  // Terminates the row with '\n' and counts it; flushes when the buffer is large.
  Status EndRow() {
    buffer_.push_back('\n');
    ++rows_;
    return buffer_.size() >= kFlushBytes ? Flush() : Status::Ok();
  }
  // Ends a line that is not a data row (the CSV header).
  Status EndHeader() {
    buffer_.push_back('\n');
    return Status::Ok();
  }
  // Flushes, closes and renames the temporary file to the final path. DataLoss on a write error.
  Status Commit();

  int64_t rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  Status Flush();

  std::FILE* file_ = nullptr;
  std::string path_;
  std::string temp_path_;
  std::string buffer_;
  int64_t rows_ = 0;
};

// Appends `value` as one CSV field, quoted (RFC 4180) if it holds a comma, quote, CR or LF, or has
// leading or trailing blanks.
void AppendCsvField(std::string& out, std::string_view value);
// Appends `value` as a JSON string literal with escapes.
void AppendJsonString(std::string& out, std::string_view value);
void AppendInt(std::string& out, int64_t value);
// Appends `value` left-padded with zeros to `width` digits.
void AppendPadded(std::string& out, int64_t value, int width);
// Appends an amount of cents as "123.45".
void AppendCents(std::string& out, int64_t cents);

// Date formats over days since 1970-01-01.
void AppendIsoDate(std::string& out, int32_t days);  // 2025-06-04
void AppendUsDate(std::string& out, int32_t days);   // 6/4/2025
void AppendDotDate(std::string& out, int32_t days);  // 4.6.2025

// Timestamp formats over seconds since the epoch (UTC).
void AppendIsoTimestamp(std::string& out, int64_t seconds);  // 2025-06-04T08:05:09Z
void AppendSqlTimestamp(std::string& out, int64_t seconds);  // 2025-06-04 08:05:09
void AppendUsTimestamp(std::string& out, int64_t seconds);   // 6/4/2025 8:05:09 AM

}  // namespace cdp::demo_internal
