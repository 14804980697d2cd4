#include "engine/internal/filter_compiler.h"

#include <cctype>
#include <optional>
#include <string_view>
#include <type_traits>

#include "common/datetime.h"
#include "common/value_text.h"
#include "engine/internal/measure_util.h"

namespace cdp::engine_internal {
namespace {

// Applies one filter to positions [rb, re) of `t`: mask[i] &= pass.
template <typename K, typename Get>
void ApplyCompare(const CompiledFilter& f, const Column& c, size_t rb, size_t re, uint8_t* mask, Get get,
                  const std::vector<K>& vals) {
  const bool has_nulls = c.null_count() > 0;
  const uint64_t* valid = c.validity().data();
  for (size_t p = rb; p < re; ++p) {
    uint8_t& m = mask[p - rb];
    if (!m) continue;
    if (has_nulls && !Bit(valid, p)) {
      m = f.op == FilterOp::kIsEmpty;
      continue;
    }
    K k = get(p);
    bool r = false;
    switch (f.op) {
      case FilterOp::kEquals:
        r = k == vals[0];
        break;
      case FilterOp::kNotEquals:
        r = !(k == vals[0]);
        break;
      case FilterOp::kLess:
        r = k < vals[0];
        break;
      case FilterOp::kLessEqual:
        r = k <= vals[0];
        break;
      case FilterOp::kGreater:
        r = k > vals[0];
        break;
      case FilterOp::kGreaterEqual:
        r = k >= vals[0];
        break;
      case FilterOp::kIn:
      case FilterOp::kNotIn: {
        bool found = false;
        for (const auto& v : vals) {
          if (k == v) {
            found = true;
            break;
          }
        }
        r = (f.op == FilterOp::kIn) == found;
        break;
      }
      case FilterOp::kIsEmpty:
      case FilterOp::kIsNotEmpty: {
        bool empty = false;
        if constexpr (std::is_same_v<K, std::string_view>) empty = k.empty();
        r = (f.op == FilterOp::kIsEmpty) == empty;
        break;
      }
      case FilterOp::kContains:
      case FilterOp::kStartsWith:
        if constexpr (std::is_same_v<K, std::string_view>) {
          r = f.op == FilterOp::kContains ? k.find(vals[0]) != std::string_view::npos
                                          : k.substr(0, vals[0].size()) == vals[0];
        }
        break;
    }
    m = r;
  }
}

void ApplyFilter(const CompiledFilter& f, const Table& t, size_t rb, size_t re, uint8_t* mask) {
  const Column& c = t.column(f.col);
  switch (c.type()) {
    case DataType::kInt64: {
      const int64_t* d = c.int64_data().data();
      ApplyCompare<int64_t>(
          f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.ints);
      break;
    }
    case DataType::kTimestamp: {
      const int64_t* d = c.int64_data().data();
      if (f.by_date) {
        ApplyCompare<int64_t>(
            f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(DayOfMicros(d[p])); }, f.ints);
      } else {
        ApplyCompare<int64_t>(
            f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.ints);
      }
      break;
    }
    case DataType::kDate: {
      const int32_t* d = c.date_data().data();
      ApplyCompare<int64_t>(
          f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(d[p]); }, f.ints);
      break;
    }
    case DataType::kBool: {
      const uint8_t* d = c.bool_data().data();
      ApplyCompare<int64_t>(
          f, c, rb, re, mask, [d](size_t p) { return static_cast<int64_t>(d[p] != 0); }, f.ints);
      break;
    }
    case DataType::kDouble: {
      const double* d = c.double_data().data();
      ApplyCompare<double>(
          f, c, rb, re, mask, [d](size_t p) { return d[p]; }, f.doubles);
      break;
    }
    case DataType::kString: {
      std::vector<std::string_view> views(f.strings.begin(), f.strings.end());
      ApplyCompare<std::string_view>(
          f, c, rb, re, mask, [&c](size_t p) { return c.StringAt(p); }, views);
      break;
    }
  }
}

}  // namespace

void Selection::Compute(const Table& t, size_t rb, size_t re, std::vector<uint8_t>* mask) const {
  mask->assign(re - rb, 1);
  uint8_t* m = mask->data();
  if (has_window) {
    const Column& c = t.column(time_col);
    const uint64_t* valid = c.validity().data();
    const bool nulls = c.null_count() > 0;
    if (time_type == DataType::kDate) {
      const int32_t* d = c.date_data().data();
      for (size_t p = rb; p < re; ++p) m[p - rb] = (!nulls || Bit(valid, p)) && d[p] >= lo && d[p] <= hi;
    } else {
      const int64_t* d = c.int64_data().data();
      // [lo day 00:00, hi day 24:00) in micros.
      const int64_t ulo = static_cast<int64_t>(lo) * kMicrosPerDay;
      const int64_t uhi = hi == INT32_MAX ? INT64_MAX : (static_cast<int64_t>(hi) + 1) * kMicrosPerDay - 1;
      for (size_t p = rb; p < re; ++p) m[p - rb] = (!nulls || Bit(valid, p)) && d[p] >= ulo && d[p] <= uhi;
    }
  }
  for (const auto& f : filters) ApplyFilter(f, t, rb, re, m);
}

StatusOr<CompiledFilter> CompileFilter(const MeasureConfig& m, const MeasureFilterConfig& fc,
                                       const Schema& schema, const std::string& label) {
  CompiledFilter f;
  f.col = schema.FieldIndex(fc.field);
  if (f.col < 0) {
    return MeasureError(m, "filter field '" + fc.field + "' is not a field of " + label +
                               " (fields: " + FieldList(schema) + ")");
  }
  f.type = schema.field(f.col).type;
  auto op = ParseFilterOp(fc.op);
  if (!op) return MeasureError(m, "unknown filter operator '" + fc.op + "' on field '" + fc.field + "'");
  f.op = *op;
  std::string tname(DataTypeName(f.type));
  bool ordered_op = f.op == FilterOp::kLess || f.op == FilterOp::kLessEqual || f.op == FilterOp::kGreater ||
                    f.op == FilterOp::kGreaterEqual;
  bool text_op = f.op == FilterOp::kContains || f.op == FilterOp::kStartsWith;
  if (ordered_op && !IsNumber(f.type) && !IsTime(f.type)) {
    return MeasureError(m, "filter '" + fc.op + "' needs a number, date or timestamp field; '" + fc.field +
                               "' is a " + tname);
  }
  if (text_op && f.type != DataType::kString) {
    return MeasureError(m, "filter '" + fc.op + "' needs a string field; '" + fc.field + "' is a " + tname);
  }
  bool none = f.op == FilterOp::kIsEmpty || f.op == FilterOp::kIsNotEmpty;
  bool multi = f.op == FilterOp::kIn || f.op == FilterOp::kNotIn;
  if (none != fc.values.empty() || (!none && !multi && fc.values.size() != 1)) {
    return MeasureError(m, "filter '" + fc.op + "' on '" + fc.field + "' takes " +
                               (none    ? "no value"
                                : multi ? "a list of values"
                                        : "one value"));
  }
  int dates = 0;
  for (const auto& v : fc.values) {
    auto bad = [&](const std::string& expected) {
      return MeasureError(
          m, "filter value '" + v + "' for field '" + fc.field + "' (" + tname + ") is not " + expected);
    };
    switch (f.type) {
      case DataType::kInt64: {
        int64_t x;
        if (!ParseInteger(v, &x)) return bad("a whole number");
        f.ints.push_back(x);
        break;
      }
      case DataType::kDouble: {
        double x;
        if (!ParseNumber(v, &x)) return bad("a number");
        f.doubles.push_back(x);
        break;
      }
      case DataType::kBool: {
        std::string l;
        for (char ch : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (l == "true" || l == "yes" || l == "1") {
          f.ints.push_back(1);
        } else if (l == "false" || l == "no" || l == "0") {
          f.ints.push_back(0);
        } else {
          return bad("true or false");
        }
        break;
      }
      case DataType::kDate: {
        int32_t d;
        if (!ParseIsoDate(v, &d)) return bad("a date (YYYY-MM-DD)");
        f.ints.push_back(d);
        break;
      }
      case DataType::kTimestamp: {
        int32_t d;
        int64_t us;
        if (ParseIsoDate(v, &d)) {
          f.ints.push_back(d);
          ++dates;
        } else if (ParseIsoTimestamp(v, &us)) {
          f.ints.push_back(us);
        } else {
          return bad("a date (YYYY-MM-DD) or timestamp (YYYY-MM-DDTHH:MM:SSZ)");
        }
        break;
      }
      case DataType::kString:
        f.strings.push_back(v);
        break;
    }
  }
  if (f.type == DataType::kTimestamp) {
    if (dates != 0 && dates != static_cast<int>(fc.values.size())) {
      return MeasureError(
          m, "filter values for timestamp field '" + fc.field + "' mix dates and timestamps; use one form");
    }
    f.by_date = dates > 0;
  }
  return f;
}

std::string FilterKey(const MeasureFilterConfig& f) {
  std::string k = f.field + '\x1f' + f.op;
  for (const auto& v : f.values) k += '\x1f' + v;
  return k + '\x1e';
}

}  // namespace cdp::engine_internal
