#include "engine/internal/kernels.h"

namespace cdp::engine_internal {

// Typed comparison of two non-null values of one column: <0, 0, >0.
int CompareAt(const Column& c, size_t a, size_t b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      return cmp(c.Int64At(a), c.Int64At(b));
    case DataType::kDouble:
      return cmp(c.DoubleAt(a), c.DoubleAt(b));
    case DataType::kBool:
      return cmp(c.BoolAt(a), c.BoolAt(b));
    case DataType::kDate:
      return cmp(c.DateAt(a), c.DateAt(b));
    case DataType::kString:
      return cmp(c.StringAt(a), c.StringAt(b));
  }
  return 0;
}

// Nulls first, then typed order.
int CompareNullable(const Column& c, size_t a, size_t b) {
  bool na = c.IsNull(a), nb = c.IsNull(b);
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  return CompareAt(c, a, b);
}

// Bytes identifying a value for grouping/distinct (equal values, equal bytes).
void AppendKey(const Column& c, size_t p, std::string* key) {
  if (c.IsNull(p)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  auto raw = [&](const auto& v) { key->append(reinterpret_cast<const char*>(&v), sizeof v); };
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp:
      raw(c.Int64At(p));
      break;
    case DataType::kDouble: {
      double d = c.DoubleAt(p);
      if (d == 0) d = 0;  // -0 == 0
      raw(d);
      break;
    }
    case DataType::kBool:
      key->push_back(c.BoolAt(p) ? '\1' : '\0');
      break;
    case DataType::kDate:
      raw(c.DateAt(p));
      break;
    case DataType::kString: {
      std::string_view s = c.StringAt(p);
      uint64_t n = s.size();
      raw(n);
      key->append(s);
      break;
    }
  }
}

Column NumericColumn(DataType type, const std::vector<double>& d, const std::vector<int64_t>& i64,
                     const std::vector<uint8_t>& null) {
  Column c(type);
  if (type == DataType::kDouble) {
    c.AppendDoubles(d.data(), null.data(), null.size());
  } else {
    c.AppendInt64s(i64.data(), null.data(), null.size());
  }
  return c;
}

// Gathers field values at `pos` (-1 = null, or `def` for numeric columns).
Column GatherPicked(const Column& field, const std::vector<int64_t>& pos, std::optional<double> def) {
  const size_t n = pos.size();
  Column out(field.type());
  std::vector<uint8_t> null(n);
  for (size_t i = 0; i < n; ++i) null[i] = pos[i] < 0 && !def;
  switch (field.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      std::vector<int64_t> v(n);
      for (size_t i = 0; i < n; ++i)
        v[i] = pos[i] >= 0 ? field.Int64At(pos[i]) : def ? static_cast<int64_t>(*def) : 0;
      out.AppendInt64s(v.data(), null.data(), n);
      break;
    }
    case DataType::kDouble: {
      std::vector<double> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.DoubleAt(pos[i]) : def ? *def : 0;
      out.AppendDoubles(v.data(), null.data(), n);
      break;
    }
    case DataType::kDate: {
      std::vector<int32_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.DateAt(pos[i]) : 0;
      out.AppendDates(v.data(), null.data(), n);
      break;
    }
    case DataType::kBool: {
      std::vector<uint8_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = pos[i] >= 0 ? field.BoolAt(pos[i]) : 0;
      out.AppendBools(v.data(), null.data(), n);
      break;
    }
    case DataType::kString:
      out.Reserve(n);
      for (size_t i = 0; i < n; ++i) {
        if (pos[i] < 0) {
          out.AppendNull();
        } else {
          out.AppendString(field.StringAt(pos[i]));
        }
      }
      break;
  }
  return out;
}

}  // namespace cdp::engine_internal
