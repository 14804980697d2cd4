// JSON Lines source connector: one JSON object per line, flattened to named
// text fields, streamed with bounded memory. A reader is not thread-safe;
// separate readers are independent.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "ingest/record_reader.h"

namespace cdp {

struct JsonLinesOptions {
  // Bytes read from the file at a time; a longer line grows the buffer.
  size_t block_size = size_t{8} << 20;
  // A line longer than this becomes a record error and is skipped.
  size_t max_record_bytes = size_t{64} << 20;
  // A record whose objects and arrays nest deeper than this becomes a record
  // error (checked before the record is parsed; the project's
  // `jsonl: {max_depth: N}`).
  size_t max_depth = 64;
};

// Records and fields:
// - Each non-blank line (LF or CRLF terminated; the last may lack it) must be
//   one JSON object; otherwise the line is a record error "<path>: line N:
//   invalid JSON (...)" or "... is not a JSON object", and reading goes on.
//   Lines holding only whitespace are skipped. A UTF-8 BOM is skipped.
// - Nested objects are flattened to dotted names ({"a":{"b":1}} gives "a.b");
//   an empty object gives no field. Arrays are kept as their JSON text
//   ("[1, 2]" exactly as written). Strings are unescaped. Numbers keep their
//   JSON text ("1.50" stays "1.50"); booleans are "true"/"false". JSON null is
//   a null (is_null = 1).
// - A record that would give one field two values is a record error naming
//   the field ("... field 'a.b' is given twice ..."), never a silently
//   dropped value: a key repeated in one object, or a dotted key next to a
//   nested object that flattens to the same name ({"a.b": 1, "a": {"b": 2}}).
// - A record nested deeper than max_depth is a record error "<path>: line N:
//   nested deeper than 64 levels (max_depth)"; reading goes on.
// - field_names() is the union of the names seen so far, in first-seen order,
//   and grows as new names appear. A record has one field per name known when
//   it was read (so field i always means field_names()[i]); names first seen
//   later are simply absent from earlier, shorter records, and absent keys
//   within a record are nulls. Batches set RawRecordBatch::trailing_fields_optional,
//   which tells BatchConverter to read missing trailing fields as null.
//   Opening the file reads its first 1000 records to learn their names, so
//   field_names() is useful before the first Next(); a converter built from
//   it (or from the names after a type-inference sample) stays valid, because
//   names only ever get appended.
// - line is the 1-based line number; bytes_read()/total_bytes() count file bytes.
// Errors from OpenJsonLinesFile: NotFound, FailedPrecondition (naming the
// file). Next() fails only on an I/O error (DataLoss).
StatusOr<std::unique_ptr<RecordReader>> OpenJsonLinesFile(const std::string& path,
                                                          const JsonLinesOptions& options = {});

}  // namespace cdp
