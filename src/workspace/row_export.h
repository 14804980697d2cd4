// Rows as CSV or JSON Lines text: `cdp show ENTITY --format csv|jsonl`
// (every row of any entity, streamed one row group at a time), and the writer
// behind the segment member export (`cdp segment members`, the API's member
// download). Values are written as export/export_value.h writes them for every
// destination (numbers as the shortest text that reads back to the same value,
// ISO dates and UTC timestamps, RFC 4180 quoting). Thread-compatible: one
// writer per stream; StreamEntityRows reads the generation current when called.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "export/destination.h"
#include "table/column.h"
#include "workspace/workspace.h"

namespace cdp {

enum class RowTextFormat { kCsv, kJsonl };
// "csv" or "jsonl"; InvalidArgument naming the parameter `format` otherwise.
StatusOr<RowTextFormat> ParseRowTextFormat(std::string_view format);

// Writes rows of columns to a stream: a header line first for CSV; for JSON
// Lines one object per row keyed by field name. Buffered: call Finish.
class RowTextWriter {
 public:
  RowTextWriter(RowTextFormat format, std::vector<ExportField> fields, std::ostream& out);
  RowTextWriter(const RowTextWriter&) = delete;
  RowTextWriter& operator=(const RowTextWriter&) = delete;

  // Row `row` of `columns` (one per field, in field order, each longer than row).
  Status WriteRow(const std::vector<const Column*>& columns, size_t row);
  // Writes what is buffered (the CSV header even without rows) and flushes;
  // Unavailable when the stream failed (a closed pipe, a full disk).
  Status Finish();

 private:
  Status Drain();

  RowTextFormat format_;
  std::vector<ExportField> fields_;
  std::ostream& out_;
  std::string buffer_;
  std::vector<std::optional<std::string>> values_;
};

// Writes the rows of `entity` in the current generation (all, or the first
// `limit` when limit >= 0) to `out` in `format` ("csv" or "jsonl"); returns
// the number of rows written. NotFound when the workspace has no such entity,
// InvalidArgument for another format.
StatusOr<int64_t> StreamEntityRows(Workspace& workspace, const std::string& entity, std::string_view format,
                                   std::ostream& out, int64_t limit = -1);

}  // namespace cdp
