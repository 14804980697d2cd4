// BatchConverter: turns raw records (text fields) into typed table rows,
// applying row filters and sending bad records to a quarantine list.
// Immutable after Create: Convert() is const and may run on several threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/record_reader.h"
#include "common/standardize.h"
#include "ingest/value_parser.h"
#include "table/column.h"
#include "table/filter_op.h"
#include "table/types.h"

namespace cdp {

// One output field.
struct FieldSpec {
  std::string name;          // name in the output table
  std::string source_field;  // name in the input; empty = `name`
  DataType type = DataType::kString;
  SemanticType semantic;
  ValueFormat format;  // date/timestamp style or pattern, decimal comma, thousands separator
  // Rewrites known spellings to the standard form (string fields only);
  // unknown values are kept as they are.
  Standardizer standardize = Standardizer::kNone;
};

// FilterOp, FilterOpName and ParseFilterOp: table/filter_op.h.

// Keeps a row when `field` (an output field, after typing) satisfies `op`.
// Values are text, parsed to the field's type when the converter is created:
// one value for comparisons, contains and starts_with; one or more for in /
// not_in; none for is_empty / is_not_empty. Comparisons use the type's order
// (strings: bytewise). A null (empty) value passes only is_empty, like SQL.
struct RowFilter {
  std::string field;
  FilterOp op = FilterOp::kEquals;
  std::vector<std::string> values;
};

// A record that was not converted. `line` is the record's line (files) or
// row number (databases) in the input; the input itself is known by the caller.
struct QuarantinedRecord {
  int64_t line = 0;
  int64_t last_line = 0;   // the record's last line when it spans several (a reader error), else == line
  std::string field;       // source field of the bad value; empty for record-level problems
  std::string value;       // the bad value (shortened); empty for record-level problems
  std::string reason;      // e.g. "'31/02/2020' is not a valid date (D/M/YYYY): February 2020 has 29 days"
  // The record's fields joined as CSV, at most about 1 KiB; for a reader
  // record error, its input bytes escaped (EscapeRawBytes, up to 64 KiB).
  std::string raw_record;
};

// What a field's standardizer did to the values of converted rows: values
// rewritten to the standard form, and values it did not know (kept as they
// were). Values already in the standard form and nulls are in neither count.
struct StandardizeCounts {
  int64_t standardized = 0;
  int64_t unknown = 0;
  bool operator==(const StandardizeCounts&) const = default;
};

// rows_read == rows_converted + rows_quarantined + rows_filtered, always.
struct ConvertStats {
  int64_t rows_read = 0;
  int64_t rows_converted = 0;
  int64_t rows_quarantined = 0;
  int64_t rows_filtered = 0;
  // Per output field (BatchConverter::fields() order) when any field has a
  // standardizer; else empty.
  std::vector<StandardizeCounts> standardize;
  void Add(const ConvertStats& o) {
    rows_read += o.rows_read;
    rows_converted += o.rows_converted;
    rows_quarantined += o.rows_quarantined;
    rows_filtered += o.rows_filtered;
    if (standardize.size() < o.standardize.size()) standardize.resize(o.standardize.size());
    for (size_t i = 0; i < o.standardize.size(); ++i) {
      standardize[i].standardized += o.standardize[i].standardized;
      standardize[i].unknown += o.standardize[i].unknown;
    }
  }
};

// Conversion rules, applied to each record in this order:
// 1. A reader record error quarantines the record with the reader's reason.
// 2. A record whose field count differs from the input's quarantines it with
//    "expected 13 fields, found 12". (When the batch says
//    trailing_fields_optional, as JSON Lines does, missing trailing fields are
//    nulls and extra fields - names that appeared after the converter was
//    created - are ignored.)
// 3. Fields used by filters are parsed; a value that does not parse
//    quarantines the record; a record failing a filter is counted as filtered.
// 4. The other fields are parsed; a value that does not parse quarantines the
//    record with the field, the value and the parser's reason.
// Values: a null (is_null) or empty text is null for every type. Values of
// non-string types are trimmed of whitespace first (so blank is null too);
// strings are kept exactly, including spaces - except in a field with a
// standardizer, whose known spellings become the standard form (filters on
// that field compare the standard form too; unknown values stay as they are).
class BatchConverter {
 public:
  // `input_field_names` are the reader's field_names(); `location` names the
  // input in messages ("contacts.csv"). Errors:
  //   NotFound: a source field (or a filter's field) that is not in the input /
  //     the output, e.g. "field 'Email' not found in contacts.csv; fields are: Id, Name".
  //   InvalidArgument: an empty or duplicate output name, an invalid semantic
  //     type, a standardizer on a field that is not a string, a date pattern that does not compile, a filter value that does
  //     not parse as its field's type, contains/starts_with on a non-string
  //     field, or a wrong number of filter values; each naming the field.
  static StatusOr<BatchConverter> Create(std::vector<FieldSpec> fields, std::vector<RowFilter> filters,
                                         const std::vector<std::string>& input_field_names, std::string location);
  BatchConverter(BatchConverter&&) = default;
  BatchConverter& operator=(BatchConverter&&) = default;
  BatchConverter(const BatchConverter&) = delete;
  BatchConverter& operator=(const BatchConverter&) = delete;

  // The schema of the rows Convert appends: one field per FieldSpec, in order.
  const Schema& schema() const { return schema_; }
  const std::vector<FieldSpec>& fields() const { return fields_; }

  // Appends the converted rows of `in` to *out, appends a QuarantinedRecord
  // per quarantined row to *quarantine and adds the counts to *stats. An
  // empty *out (no columns) is given the converter's schema first; otherwise
  // InvalidArgument if its schema differs, or if the batch is malformed
  // (field_begin, fields, is_null and line sizes disagree). Thread-safe; each
  // thread keeps reusable scratch buffers of a few bytes per row and field.
  Status Convert(const RawRecordBatch& in, Table* out, std::vector<QuarantinedRecord>* quarantine,
                 ConvertStats* stats) const;

 private:
  struct FilterValue {
    int64_t i = 0;  // int64, timestamp, date, bool
    double d = 0;
    std::string s;
  };
  struct CompiledFilter {
    size_t field;  // index into fields_
    FilterOp op;
    std::vector<FilterValue> values;
  };
  BatchConverter() = default;

  std::vector<FieldSpec> fields_;
  std::vector<size_t> source_index_;  // per field: index in the input record
  std::vector<ValueParser> parsers_;  // per field
  std::vector<size_t> parse_order_;   // filter fields first
  size_t num_filter_fields_ = 0;      // leading entries of parse_order_ used by filters
  std::vector<CompiledFilter> filters_;
  size_t input_fields_ = 0;
  std::vector<std::string> input_names_;
  std::string location_;
  Schema schema_;
  bool any_standardize_ = false;  // a field has a standardizer
};

}  // namespace cdp
