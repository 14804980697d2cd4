#include "table/column.h"

#include <algorithm>
#include <bit>
#include <charconv>

#include "common/datetime.h"

namespace cdp {

Column::Column(DataType type) : type_(type) {
  if (type_ == DataType::kString) offsets_.push_back(0);
}

void Column::Reserve(size_t rows) {
  validity_.reserve((rows + 63) / 64);
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp: i64_.reserve(rows); break;
    case DataType::kDouble: f64_.reserve(rows); break;
    case DataType::kBool: u8_.reserve(rows); break;
    case DataType::kDate: i32_.reserve(rows); break;
    case DataType::kString: offsets_.reserve(rows + 1); break;
  }
}

void Column::Clear() {
  size_ = 0;
  null_count_ = 0;
  validity_.clear();
  i64_.clear();
  f64_.clear();
  u8_.clear();
  i32_.clear();
  offsets_.clear();
  chars_.clear();
  if (type_ == DataType::kString) offsets_.push_back(0);
}

void Column::PushValidity(bool valid) {
  if ((size_ & 63) == 0) validity_.push_back(0);
  if (valid) {
    validity_.back() |= (uint64_t{1} << (size_ & 63));
  } else {
    ++null_count_;
  }
  ++size_;
}

void Column::AppendNull() {
  switch (type_) {
    case DataType::kInt64:
    case DataType::kTimestamp: i64_.push_back(0); break;
    case DataType::kDouble: f64_.push_back(0); break;
    case DataType::kBool: u8_.push_back(0); break;
    case DataType::kDate: i32_.push_back(0); break;
    case DataType::kString: offsets_.push_back(chars_.size()); break;
  }
  PushValidity(false);
}

void Column::AppendInt64(int64_t v) { i64_.push_back(v); PushValidity(true); }
void Column::AppendTimestamp(int64_t v) { i64_.push_back(v); PushValidity(true); }
void Column::AppendDouble(double v) { f64_.push_back(v); PushValidity(true); }
void Column::AppendBool(bool v) { u8_.push_back(v ? 1 : 0); PushValidity(true); }
void Column::AppendDate(int32_t v) { i32_.push_back(v); PushValidity(true); }
void Column::AppendString(std::string_view v) {
  chars_.append(v.data(), v.size());
  offsets_.push_back(chars_.size());
  PushValidity(true);
}

void Column::AppendFrom(const Column& other, size_t row) {
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case DataType::kInt64: AppendInt64(other.Int64At(row)); break;
    case DataType::kTimestamp: AppendTimestamp(other.TimestampAt(row)); break;
    case DataType::kDouble: AppendDouble(other.DoubleAt(row)); break;
    case DataType::kBool: AppendBool(other.BoolAt(row)); break;
    case DataType::kDate: AppendDate(other.DateAt(row)); break;
    case DataType::kString: AppendString(other.StringAt(row)); break;
  }
}

void Column::PushValidityBulk(const uint8_t* null, size_t n) {
  size_t i = 0;
  while (i < n) {
    const size_t bit = size_ & 63;
    if (bit == 0) validity_.push_back(0);
    const size_t take = std::min<size_t>(64 - bit, n - i);
    uint64_t word = 0;
    for (size_t k = 0; k < take; ++k) word |= uint64_t{null[i + k] == 0} << k;
    validity_.back() |= word << bit;
    null_count_ += take - static_cast<size_t>(std::popcount(word));
    size_ += take;
    i += take;
  }
}

namespace {

// Appends n values to `out`, zero where null[i] != 0.
template <typename T, typename U>
void AppendMasked(std::vector<T>& out, const U* values, const uint8_t* null, size_t n) {
  const size_t old = out.size();
  out.resize(old + n);
  T* dst = out.data() + old;
  for (size_t i = 0; i < n; ++i) dst[i] = null[i] ? T{} : static_cast<T>(values[i]);
}

}  // namespace

void Column::AppendInt64s(const int64_t* values, const uint8_t* null, size_t n) {
  AppendMasked(i64_, values, null, n);
  PushValidityBulk(null, n);
}
void Column::AppendDoubles(const double* values, const uint8_t* null, size_t n) {
  AppendMasked(f64_, values, null, n);
  PushValidityBulk(null, n);
}
void Column::AppendBools(const uint8_t* values, const uint8_t* null, size_t n) {
  const size_t old = u8_.size();
  u8_.resize(old + n);
  uint8_t* dst = u8_.data() + old;
  for (size_t i = 0; i < n; ++i) dst[i] = null[i] ? 0 : (values[i] != 0);
  PushValidityBulk(null, n);
}
void Column::AppendDates(const int32_t* values, const uint8_t* null, size_t n) {
  AppendMasked(i32_, values, null, n);
  PushValidityBulk(null, n);
}
void Column::ReserveChars(size_t bytes) { chars_.reserve(chars_.size() + bytes); }

std::string Column::ValueToString(size_t i) const {
  if (IsNull(i)) return "";
  switch (type_) {
    case DataType::kInt64: return std::to_string(i64_[i]);
    case DataType::kTimestamp: return FormatTimestamp(i64_[i]);
    case DataType::kDouble: {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof(buf), f64_[i]);
      return std::string(buf, r.ptr);
    }
    case DataType::kBool: return u8_[i] ? "true" : "false";
    case DataType::kDate: return FormatDate(i32_[i]);
    case DataType::kString: return std::string(StringAt(i));
  }
  return "";
}

StatusOr<Column> Column::FromBuffers(DataType type, size_t rows, std::vector<uint64_t> validity,
                                     std::vector<int64_t> i64, std::vector<double> f64,
                                     std::vector<uint8_t> u8, std::vector<int32_t> i32,
                                     std::vector<uint64_t> offsets, std::string chars) {
  if (validity.size() != (rows + 63) / 64) return InvalidArgumentError("validity bitmap size mismatch");
  Column c(type);
  size_t expected = 0;
  switch (type) {
    case DataType::kInt64:
    case DataType::kTimestamp: expected = i64.size(); break;
    case DataType::kDouble: expected = f64.size(); break;
    case DataType::kBool: expected = u8.size(); break;
    case DataType::kDate: expected = i32.size(); break;
    case DataType::kString:
      if (offsets.size() != rows + 1 || offsets.front() != 0 || offsets.back() != chars.size()) {
        return InvalidArgumentError("string offsets inconsistent with data");
      }
      for (size_t i = 1; i < offsets.size(); ++i) {
        if (offsets[i] < offsets[i - 1]) return InvalidArgumentError("string offsets not monotonic");
      }
      expected = rows;
      break;
  }
  if (expected != rows) return InvalidArgumentError("value buffer size mismatch");
  // Bits past the last row must be zero so that equality and popcounts hold.
  if (rows % 64 != 0 && !validity.empty()) validity.back() &= (uint64_t{1} << (rows % 64)) - 1;
  size_t valid = 0;
  for (uint64_t w : validity) valid += static_cast<size_t>(__builtin_popcountll(w));
  c.size_ = rows;
  c.null_count_ = rows - valid;
  c.validity_ = std::move(validity);
  c.i64_ = std::move(i64);
  c.f64_ = std::move(f64);
  c.u8_ = std::move(u8);
  c.i32_ = std::move(i32);
  if (type == DataType::kString) {
    c.offsets_ = std::move(offsets);
    c.chars_ = std::move(chars);
  }
  return c;
}

size_t Column::MemoryUsage() const {
  return validity_.size() * 8 + i64_.size() * 8 + f64_.size() * 8 + u8_.size() + i32_.size() * 4 +
         offsets_.size() * 8 + chars_.size();
}

Table::Table(Schema schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_.num_fields());
  for (const auto& f : schema_.fields()) columns_.emplace_back(f.type);
}

const Column* Table::ColumnByName(std::string_view name) const {
  int i = schema_.FieldIndex(name);
  return i < 0 ? nullptr : &columns_[static_cast<size_t>(i)];
}

Status Table::Validate() {
  if (columns_.size() != schema_.num_fields()) return InvalidArgumentError("column count differs from schema");
  size_t n = columns_.empty() ? num_rows_ : columns_[0].size();
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].type() != schema_.field(i).type) {
      return InvalidArgumentError("column '" + schema_.field(i).name + "' type differs from schema");
    }
    if (columns_[i].size() != n) {
      return InvalidArgumentError("column '" + schema_.field(i).name + "' has " +
                                  std::to_string(columns_[i].size()) + " rows, expected " + std::to_string(n));
    }
  }
  num_rows_ = n;
  return Status::Ok();
}

Status Table::Append(const Table& other) {
  if (!(other.schema_ == schema_)) return InvalidArgumentError("cannot append rows of a different schema");
  for (size_t c = 0; c < columns_.size(); ++c) {
    for (size_t r = 0; r < other.num_rows_; ++r) columns_[c].AppendFrom(other.columns_[c], r);
  }
  num_rows_ += other.num_rows_;
  return Status::Ok();
}

void Table::Clear() {
  for (auto& c : columns_) c.Clear();
  num_rows_ = 0;
}

size_t Table::MemoryUsage() const {
  size_t total = 0;
  for (const auto& c : columns_) total += c.MemoryUsage();
  return total;
}

}  // namespace cdp
