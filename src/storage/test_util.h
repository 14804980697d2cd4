// Helpers shared by the storage tests (test-only): scratch directories,
// deterministic tables of every data type, and exact table comparison.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

#include "table/column.h"

namespace cdp::testing_util {

// A fresh directory under the test temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "cdp_storage_XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// One field of every data type, with semantic types on some.
inline Schema AllTypesSchema() {
  return Schema({
      {"Contact Id", DataType::kInt64, SemanticType()},
      {"Email", DataType::kString, SemanticType(std::string(SemanticType::kEmail))},
      {"Score", DataType::kDouble, SemanticType("Custom.Score")},
      {"Opted In", DataType::kBool, SemanticType()},
      {"Birth Date", DataType::kDate, SemanticType(std::string(SemanticType::kDateOfBirth))},
      {"Last Seen", DataType::kTimestamp, SemanticType()},
  });
}

// `rows` rows of AllTypesSchema() determined by `seed`: about one value in
// `null_every` is null (0 = none); strings include empty and non-ASCII ones,
// doubles include NaN, infinities and -0.0, integers their extremes.
inline Table MakeAllTypesTable(size_t rows, uint64_t seed, int null_every = 7) {
  Table t(AllTypesSchema());
  std::mt19937_64 rng(seed);
  auto is_null = [&]() { return null_every > 0 && rng() % static_cast<uint64_t>(null_every) == 0; };
  static const char* kWords[] = {"",
                                 "anna@example.com",
                                 "Zoë Müller",
                                 "李雷",
                                 "x",
                                 "a much longer string value "
                                 "that spans more than a few bytes of characters"};
  static const double kDoubles[] = {0.0,
                                    -0.0,
                                    1.5,
                                    -2.25e300,
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    std::numeric_limits<double>::quiet_NaN(),
                                    4.9e-324};
  static const int64_t kInts[] = {0, 1, -1, std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()};
  for (size_t r = 0; r < rows; ++r) {
    if (is_null())
      t.mutable_column(0).AppendNull();
    else
      t.mutable_column(0).AppendInt64(rng() % 3 == 0 ? kInts[rng() % 5] : static_cast<int64_t>(rng()));
    if (is_null())
      t.mutable_column(1).AppendNull();
    else
      t.mutable_column(1).AppendString(rng() % 2 ? std::string(kWords[rng() % 6])
                                                 : "user" + std::to_string(rng() % 100000));
    if (is_null())
      t.mutable_column(2).AppendNull();
    else
      t.mutable_column(2).AppendDouble(rng() % 2 ? kDoubles[rng() % 8]
                                                 : static_cast<double>(rng() % 1000) / 7);
    if (is_null())
      t.mutable_column(3).AppendNull();
    else
      t.mutable_column(3).AppendBool(rng() % 2);
    if (is_null())
      t.mutable_column(4).AppendNull();
    else
      t.mutable_column(4).AppendDate(static_cast<int32_t>(rng() % 40000) - 10000);
    if (is_null())
      t.mutable_column(5).AppendNull();
    else
      t.mutable_column(5).AppendTimestamp(static_cast<int64_t>(rng() % 4000000000000000ull));
    t.FinishRow();
  }
  return t;
}

// Exact equality: schema, row count, nulls, and values bit for bit.
inline ::testing::AssertionResult TablesEqual(const Table& a, const Table& b) {
  if (!(a.schema() == b.schema())) return ::testing::AssertionFailure() << "schemas differ";
  if (a.num_rows() != b.num_rows()) {
    return ::testing::AssertionFailure() << "row counts differ: " << a.num_rows() << " vs " << b.num_rows();
  }
  for (size_t c = 0; c < a.num_columns(); ++c) {
    const Column& x = a.column(c);
    const Column& y = b.column(c);
    if (x.size() != a.num_rows() || y.size() != b.num_rows()) {
      return ::testing::AssertionFailure() << "column " << c << " has the wrong length";
    }
    for (size_t r = 0; r < a.num_rows(); ++r) {
      if (x.IsNull(r) != y.IsNull(r))
        return ::testing::AssertionFailure() << "null differs at column " << c << " row " << r;
      if (x.IsNull(r)) continue;
      bool same = true;
      switch (x.type()) {
        case DataType::kInt64:
        case DataType::kTimestamp:
          same = x.Int64At(r) == y.Int64At(r);
          break;
        case DataType::kDouble: {
          double dx = x.DoubleAt(r), dy = y.DoubleAt(r);
          same = std::memcmp(&dx, &dy, sizeof dx) == 0;
          break;
        }
        case DataType::kBool:
          same = x.BoolAt(r) == y.BoolAt(r);
          break;
        case DataType::kDate:
          same = x.DateAt(r) == y.DateAt(r);
          break;
        case DataType::kString:
          same = x.StringAt(r) == y.StringAt(r);
          break;
      }
      if (!same) {
        return ::testing::AssertionFailure() << "value differs at column " << c << " row " << r << ": '"
                                             << x.ValueToString(r) << "' vs '" << y.ValueToString(r) << "'";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Rows [begin, end) of `t` as a new table (per-value copy; tests only).
inline Table SliceRows(const Table& t, size_t begin, size_t end) {
  Table out(t.schema());
  for (size_t c = 0; c < t.num_columns(); ++c) {
    for (size_t r = begin; r < end; ++r) out.mutable_column(c).AppendFrom(t.column(c), r);
  }
  for (size_t r = begin; r < end; ++r) out.FinishRow();
  return out;
}

}  // namespace cdp::testing_util
