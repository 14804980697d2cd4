// Column: a typed contiguous buffer with a validity bitmap (bit set = value
// present). Strings are stored as one character arena plus offsets.
// Table: a batch of equally long columns with a schema.
// Thread-compatible: concurrent reads are safe, writes need external locking.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/types.h"

namespace cdp {

class Column {
 public:
  explicit Column(DataType type = DataType::kString);

  DataType type() const { return type_; }
  size_t size() const { return size_; }
  size_t null_count() const { return null_count_; }
  void Reserve(size_t rows);
  void Clear();

  void AppendNull();
  void AppendInt64(int64_t v);        // kInt64
  void AppendDouble(double v);        // kDouble
  void AppendBool(bool v);            // kBool
  void AppendDate(int32_t days);      // kDate
  void AppendTimestamp(int64_t us);   // kTimestamp
  void AppendString(std::string_view v);  // kString
  // Appends row `row` of `other` (same type).
  void AppendFrom(const Column& other, size_t row);

  // Bulk appends of `n` rows, much faster than one call per row: row i is
  // null when null[i] != 0 (values[i] is then ignored), else values[i].
  void AppendInt64s(const int64_t* values, const uint8_t* null, size_t n);  // kInt64 / kTimestamp
  void AppendDoubles(const double* values, const uint8_t* null, size_t n);  // kDouble
  void AppendBools(const uint8_t* values, const uint8_t* null, size_t n);   // kBool (nonzero = true)
  void AppendDates(const int32_t* values, const uint8_t* null, size_t n);   // kDate
  // Reserves room for `bytes` more characters of strings (kString).
  void ReserveChars(size_t bytes);

  bool IsNull(size_t i) const { return !((validity_[i >> 6] >> (i & 63)) & 1u); }
  bool IsValid(size_t i) const { return !IsNull(i); }
  int64_t Int64At(size_t i) const { return i64_[i]; }        // kInt64 / kTimestamp
  int64_t TimestampAt(size_t i) const { return i64_[i]; }
  double DoubleAt(size_t i) const { return f64_[i]; }
  bool BoolAt(size_t i) const { return u8_[i] != 0; }
  int32_t DateAt(size_t i) const { return i32_[i]; }
  std::string_view StringAt(size_t i) const {
    return std::string_view(chars_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  // Value rendered as text for display and export ("" for null): ISO dates,
  // ISO-8601 UTC timestamps, "true"/"false", shortest round-trip doubles.
  std::string ValueToString(size_t i) const;

  // Raw buffers, for the file format and vectorized kernels. For a column of
  // n rows: validity has ceil(n/64) words; the typed buffer holds n values
  // (null slots hold zero); offsets hold n+1 entries.
  const std::vector<uint64_t>& validity() const { return validity_; }
  const std::vector<int64_t>& int64_data() const { return i64_; }
  const std::vector<double>& double_data() const { return f64_; }
  const std::vector<uint8_t>& bool_data() const { return u8_; }
  const std::vector<int32_t>& date_data() const { return i32_; }
  const std::vector<uint64_t>& string_offsets() const { return offsets_; }
  const std::string& string_chars() const { return chars_; }

  // Builds a column from raw buffers (inverse of the accessors above).
  // Returns InvalidArgument if the sizes are inconsistent.
  static StatusOr<Column> FromBuffers(DataType type, size_t rows, std::vector<uint64_t> validity,
                                      std::vector<int64_t> i64, std::vector<double> f64,
                                      std::vector<uint8_t> u8, std::vector<int32_t> i32,
                                      std::vector<uint64_t> offsets, std::string chars);

  // Bytes held by the buffers (capacity not counted).
  size_t MemoryUsage() const;

 private:
  void PushValidity(bool valid);
  // Appends n validity bits, bit i set when null[i] == 0.
  void PushValidityBulk(const uint8_t* null, size_t n);

  DataType type_;
  size_t size_ = 0;
  size_t null_count_ = 0;
  std::vector<uint64_t> validity_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::vector<uint8_t> u8_;
  std::vector<int32_t> i32_;
  std::vector<uint64_t> offsets_;  // strings only; starts with 0
  std::string chars_;
};

class Table {
 public:
  Table() = default;
  // Creates an empty table with one column per field of `schema`.
  explicit Table(Schema schema);

  const Schema& schema() const { return schema_; }
  size_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }
  const Column& column(size_t i) const { return columns_[i]; }
  Column& mutable_column(size_t i) { return columns_[i]; }
  // Column by field name, or nullptr.
  const Column* ColumnByName(std::string_view name) const;

  // After appending one value to every column, call FinishRow().
  void FinishRow() { ++num_rows_; }
  // Recomputes num_rows from the columns; InvalidArgument if they differ.
  Status Validate();
  // Appends all rows of `other` (same schema).
  Status Append(const Table& other);
  void Clear();
  size_t MemoryUsage() const;

 private:
  Schema schema_;
  std::vector<Column> columns_;
  size_t num_rows_ = 0;
};

}  // namespace cdp
