// Type inference for raw records: picks, per field, the narrowest DataType
// (with its date format / decimal comma) that parses every non-empty sampled
// value. A TypeInferrer is not thread-safe; separate instances are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ingest/batch_converter.h"
#include "ingest/record_reader.h"
#include "ingest/value_parser.h"
#include "table/types.h"

namespace cdp {

// A user's declaration of one field (from the project file). Everything it
// leaves empty is inferred.
struct FieldOverride {
  std::string name;                // output name
  std::string source_field;        // input field; empty = name
  std::optional<DataType> type;    // empty = inferred
  std::string format;              // date format as written by the user (see ParseDateFormat); empty = inferred
  std::string semantic;            // semantic type name; empty = none
  // A standardizer; the field is then a string unless `type` says otherwise
  // (which BatchConverter::Create refuses).
  Standardizer standardize = Standardizer::kNone;
};

struct InferenceOptions {
  // Records sampled (record errors included in the count).
  size_t max_records = 10000;
  // False: fields without a declared type (or format) are strings.
  bool infer_types = true;
  // The source writes doubles with a decimal comma ("12,50"); then "12.50" is
  // not a double. Without it, a field whose values only parse with a decimal
  // comma is inferred as a double with decimal comma.
  bool decimal_comma = false;
};

struct InferredField {
  std::string name;
  DataType type = DataType::kString;
  ValueFormat format;
  size_t non_empty_values = 0;  // sampled values that were not empty or null
  // Every sampled value was an 8-digit YYYYMMDD date with a year in 1850..2150
  // (e.g. Febrl's date_of_birth). Such a field is still inferred as int64; a
  // caller may offer it as a date (declaring type date picks YYYYMMDD).
  bool yyyymmdd_candidate = false;
};

// Inference rules:
// - Empty values (after trimming whitespace) and nulls are ignored; a field
//   without any other value is a string.
// - Candidates, narrowest first: bool (true/false, yes/no, y/n, t/f, 1/0),
//   int64, double (decimal point; else decimal comma), date (YYYY-MM-DD,
//   M/D/YYYY, D/M/YYYY, D.M.YYYY, in this order of preference, so dates that
//   fit both slash orders are read as M/D/YYYY), timestamp (the same date
//   styles plus a time of day and an optional zone), string.
// - Integers written with a leading zero ("02138", "007") make the field a
//   string: they are codes (postcodes, phone numbers) whose zeros matter. So do
//   all-digit values too large for int64 (long identifiers), which a double
//   would round.
// - YYYYMMDD is never inferred on its own: 8-digit values are int64 (see
//   InferredField::yyyymmdd_candidate). A declared type date or timestamp
//   without a format picks, among the styles every value parses in,
//   the first of ISO, M/D/YYYY, D/M/YYYY, D.M.YYYY, YYYYMMDD; if none fits
//   every value (dirty data such as Febrl's "19450493"), the style that fits
//   the most values (auto if none fits any); the misfits get quarantined.
// - Declarations (Resolve): a type and a format are used as given. A type
//   alone takes the inferred format for that type. A format alone (no type)
//   means: a pattern with an hour token is a timestamp and other patterns a
//   date; a built-in date style gives a date if every value is a date in it,
//   else a timestamp.
class TypeInferrer {
 public:
  explicit TypeInferrer(InferenceOptions options);

  // Samples the records of `batch` until max_records have been seen; record
  // errors are counted but not sampled. Fields are matched by position, so a
  // record may have fewer or more fields than others (JSON Lines).
  void Add(const RawRecordBatch& batch);
  bool done() const { return records_seen_ >= options_.max_records; }
  size_t records_seen() const { return records_seen_; }

  // One result per name, in order; names[i] is the field at position i.
  std::vector<InferredField> Finish(const std::vector<std::string>& names) const;
  // Type and format of the field at `index` (named `name`) when a declaration
  // gives `type` and/or `format` (either may be empty), by the rules above.
  InferredField Resolve(size_t index, const std::string& name, std::optional<DataType> type,
                        std::optional<ValueFormat> format) const;

 private:
  struct FieldState {
    uint32_t alive = ~uint32_t{0};  // bit per candidate still possible
    size_t non_empty = 0;
    // Values that parsed as a date / timestamp per built-in style (even after
    // a failure), so an override can pick the best style for dirty data.
    uint32_t date_ok[5] = {0, 0, 0, 0, 0};
    uint32_t timestamp_ok[5] = {0, 0, 0, 0, 0};
  };
  void AddValue(FieldState* state, std::string_view text) const;

  InferenceOptions options_;
  size_t records_seen_ = 0;
  std::vector<FieldState> fields_;
};

// Reads up to options.max_records records from `reader` (they are consumed:
// reopen the input to convert it) and infers the types of reader.field_names().
// Returns the reader's error if reading fails.
StatusOr<std::vector<InferredField>> InferFieldTypes(RecordReader& reader, const InferenceOptions& options);

// Plans the output fields of a source: declared fields plus every undeclared
// input field, from a sample of its records (up to options.max_records of
// `sample`, which may hold more). Output order is input order; an input field
// gives its declared fields (in declaration order) or, when none names it as
// source, one field of the same name. Declared fields without a type (and
// undeclared fields) are inferred (a declared field with a standardizer is
// a string), or strings when !options.infer_types;
// doubles use options.decimal_comma or the inferred decimal comma.
// Errors: NotFound for a declared source field missing from input_names
// ("declared field 'Email' not found in the input; fields are: ..."),
// InvalidArgument for an unknown date format, an invalid semantic type, a
// declaration without a name, or an undeclared input field whose name is
// also a declared output name (rename one of them).
StatusOr<std::vector<FieldSpec>> InferFieldSpecs(const std::vector<std::string>& input_names,
                                                 const std::vector<RawRecordBatch>& sample,
                                                 const std::vector<FieldOverride>& declared,
                                                 const InferenceOptions& options);

}  // namespace cdp
