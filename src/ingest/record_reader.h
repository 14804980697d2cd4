// RecordReader: the common interface of every source connector (CSV, JSON
// Lines, PostgreSQL). A reader yields raw records (fields as text plus a null
// flag) with their position in the input; typing, validation and quarantine
// happen downstream in BatchConverter. Readers are not thread-safe; a batch
// may be handed to another thread once Next() has returned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

// A batch of raw records. Record r has fields
// [field_begin[r], field_begin[r + 1]) in `fields` / `is_null`. Field views
// point into `arena` (owned by the batch) or into memory the batch keeps
// alive (`keep_alive`), so a batch is self-contained.
struct RawRecordBatch {
  std::string arena;
  std::vector<std::string_view> fields;
  std::vector<uint8_t> is_null;        // 1 = SQL NULL / JSON null / absent key
  std::vector<uint32_t> field_begin;   // num_records() + 1 entries, starts at 0
  std::vector<int64_t> line;           // 1-based line (files) or row number (databases)
  // Records the reader could not split into fields (e.g. invalid UTF-8, an
  // unterminated quote): their index and a reason naming line and column.
  // Such a record has zero fields; the converter quarantines it.
  std::vector<std::pair<uint32_t, std::string>> record_errors;
  // Optional, one per record_errors entry when a reader fills it (the CSV
  // reader does): the bad record's input bytes, escaped (EscapeRawBytes),
  // and the last line they span (line[r] is the first).
  struct ErrorInput {
    std::string raw;
    int64_t last_line = 0;
  };
  std::vector<ErrorInput> record_error_inputs;
  std::string location;                // file path or "table public.contacts"
  // Memory some field views point into instead of `arena` (a reader's
  // input buffer), kept alive by the batch and shared by its copies.
  std::shared_ptr<const void> keep_alive;
  // False (the default): every record has exactly the reader's field count.
  // True for readers whose field set grows while reading (JSON Lines): a
  // record may have fewer fields than field_names() has later, and fields it
  // lacks at the end are absent values (BatchConverter reads them as null).
  bool trailing_fields_optional = false;

  RawRecordBatch() = default;
  // Copies and moves keep the field views valid: views into the source's
  // arena are re-pointed into this batch's arena (a moved short string is
  // copied, so its views would otherwise dangle).
  RawRecordBatch(const RawRecordBatch& o) { *this = o; }
  RawRecordBatch(RawRecordBatch&& o) noexcept { *this = std::move(o); }
  RawRecordBatch& operator=(const RawRecordBatch& o) {
    if (this == &o) return *this;
    CopyMembers(o, o.arena);
    return *this;
  }
  RawRecordBatch& operator=(RawRecordBatch&& o) noexcept {
    if (this == &o) return *this;
    const char* old_begin = o.arena.data();
    size_t old_size = o.arena.size();
    arena = std::move(o.arena);
    fields = std::move(o.fields);
    Rebase(old_begin, old_size);
    is_null = std::move(o.is_null);
    field_begin = std::move(o.field_begin);
    line = std::move(o.line);
    record_errors = std::move(o.record_errors);
    record_error_inputs = std::move(o.record_error_inputs);
    location = std::move(o.location);
    keep_alive = std::move(o.keep_alive);
    trailing_fields_optional = o.trailing_fields_optional;
    o.Clear();
    return *this;
  }

  size_t num_records() const { return field_begin.empty() ? 0 : field_begin.size() - 1; }
  size_t num_fields(size_t r) const { return field_begin[r + 1] - field_begin[r]; }
  std::string_view field(size_t r, size_t f) const { return fields[field_begin[r] + f]; }
  bool field_is_null(size_t r, size_t f) const { return is_null[field_begin[r] + f] != 0; }
  void Clear() {
    arena.clear();
    fields.clear();
    is_null.clear();
    field_begin.assign(1, 0);
    line.clear();
    record_errors.clear();
    record_error_inputs.clear();
    keep_alive.reset();
    trailing_fields_optional = false;
  }

 private:
  void CopyMembers(const RawRecordBatch& o, const std::string& old_arena) {
    arena = old_arena;
    fields = o.fields;
    Rebase(old_arena.data(), old_arena.size());
    is_null = o.is_null;
    field_begin = o.field_begin;
    line = o.line;
    record_errors = o.record_errors;
    record_error_inputs = o.record_error_inputs;
    location = o.location;
    keep_alive = o.keep_alive;
    trailing_fields_optional = o.trailing_fields_optional;
  }
  void Rebase(const char* old_begin, size_t old_size) {
    if (old_begin == arena.data()) return;
    const char* old_end = old_begin + old_size;
    for (auto& f : fields) {
      if (f.data() >= old_begin && f.data() + f.size() <= old_end && !f.empty()) {
        f = std::string_view(arena.data() + (f.data() - old_begin), f.size());
      }
    }
  }
};

class RecordReader {
 public:
  virtual ~RecordReader() = default;
  // Names of the fields, in record order (header row, JSON keys, query columns).
  virtual const std::vector<std::string>& field_names() const = 0;
  // Replaces `batch` with up to `max_records` records. Returns false when the
  // input is exhausted and the batch is empty. A non-OK status means the input
  // cannot be read further (I/O error, lost connection), not a bad record.
  virtual StatusOr<bool> Next(RawRecordBatch* batch, size_t max_records) = 0;
  // Progress: bytes consumed so far and in total (0 when unknown).
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t total_bytes() const = 0;
  // XXH3-64 of every byte of the input file (FileContentHash), for readers
  // that read a whole file from its first byte, once Next() has returned
  // false; nullopt for other readers (ranges, databases) or before the end.
  virtual std::optional<uint64_t> content_hash() const { return std::nullopt; }
  // Physical lines of the input consumed so far (for a whole file: its header
  // too; for a CSV range: the range's lines); 0 for inputs without lines.
  virtual int64_t lines_read() const { return 0; }
};

// `bytes` as printable text for a quarantine: valid UTF-8 is kept (line
// breaks and tabs too), a backslash becomes "\\", and invalid bytes, NUL and
// other control bytes become "\xHH". At most `max_bytes` input bytes are
// kept; then "..." is appended. Reversible up to the cut.
std::string EscapeRawBytes(std::string_view bytes, size_t max_bytes);
// How many input bytes of a bad record the readers keep for the quarantine.
inline constexpr size_t kMaxRawErrorBytes = size_t{64} << 10;

}  // namespace cdp
