// The per-customer aggregation kernels of the measure engine, over a
// morsel of contiguous customers of an entity in CSR order (offsets `off`,
// rows [off[c], off[c + 1]) of customer c; `mask` is the selection of rows
// [rb, re), or null for all rows), and the value helpers of grouping and
// output columns. Templated on value type and on "has mask" / "has nulls",
// so the common case is a plain loop over a contiguous buffer. Internal to
// engine/. Pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/internal/measure_util.h"
#include "table/column.h"

namespace cdp::engine_internal {

// How a pick function chooses its row: the smallest key (first row on ties),
// the largest (first on ties), or the largest (last on ties).
enum class PickRule { kLess, kGreater, kGreaterEqual };

template <typename T, bool kMask, bool kNulls>
void SumKernel(const T* v, const uint64_t* valid, const uint64_t* off, size_t cb, size_t ce,
               const uint8_t* mask, size_t rb, double* sum, int64_t* cnt) {
  for (size_t c = cb; c < ce; ++c) {
    double s = 0;
    int64_t n = 0;
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if constexpr (kMask) {
        if (!mask[p - rb]) continue;
      }
      if constexpr (kNulls) {
        if (!Bit(valid, p)) continue;
      }
      s += static_cast<double>(v[p]);
      ++n;
    }
    sum[c] = s;
    cnt[c] = n;
  }
}

template <bool kMask, bool kNulls>
void CountKernel(const uint64_t* valid, const uint64_t* off, size_t cb, size_t ce, const uint8_t* mask,
                 size_t rb, int64_t* cnt) {
  for (size_t c = cb; c < ce; ++c) {
    if constexpr (!kMask && !kNulls) {
      cnt[c] = static_cast<int64_t>(off[c + 1] - off[c]);
    } else {
      int64_t n = 0;
      for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
        bool ok = true;
        if constexpr (kMask) ok = mask[p - rb];
        if constexpr (kNulls) ok = ok && Bit(valid, p);
        n += ok;
      }
      cnt[c] = n;
    }
  }
}

template <PickRule kRule, typename K>
inline bool Better(const K& k, const K& best) {
  if constexpr (kRule == PickRule::kLess) return k < best;
  if constexpr (kRule == PickRule::kGreater) return best < k;
  return !(k < best);
}

// For each customer, the position whose key wins under kRule among rows that
// pass the mask and have both key and field non-null.
template <PickRule kRule, typename K, typename Get>
void PickKernel(Get key, const uint64_t* kvalid, const uint64_t* fvalid, const uint64_t* off, size_t cb,
                size_t ce, const uint8_t* mask, size_t rb, int64_t* pos) {
  for (size_t c = cb; c < ce; ++c) {
    int64_t best = -1;
    K bk{};
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if (mask && !mask[p - rb]) continue;
      if (kvalid && !Bit(kvalid, p)) continue;
      if (fvalid && !Bit(fvalid, p)) continue;
      K k = key(p);
      if (best < 0 || Better<kRule>(k, bk)) {
        best = static_cast<int64_t>(p);
        bk = k;
      }
    }
    pos[c] = best;
  }
}

template <typename K, typename Get>
void DistinctKernel(Get get, const uint64_t* fvalid, const uint64_t* off, size_t cb, size_t ce,
                    const uint8_t* mask, size_t rb, int64_t* cnt, std::vector<K>* scratch) {
  for (size_t c = cb; c < ce; ++c) {
    scratch->clear();
    for (size_t p = off[c], e = off[c + 1]; p < e; ++p) {
      if (mask && !mask[p - rb]) continue;
      if (fvalid && !Bit(fvalid, p)) continue;
      scratch->push_back(get(p));
    }
    std::sort(scratch->begin(), scratch->end());
    cnt[c] = std::unique(scratch->begin(), scratch->end()) - scratch->begin();
  }
}

// Calls fn(getter, K{}) with a typed value getter for column c.
template <typename Fn>
void VisitColumn(const Column& c, Fn&& fn) {
  switch (c.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* d = c.int64_data().data();
      fn([d](size_t p) { return d[p]; }, int64_t{});
      break;
    }
    case DataType::kDouble: {
      const double* d = c.double_data().data();
      fn([d](size_t p) { return d[p] == 0 ? 0.0 : d[p]; }, double{});
      break;
    }
    case DataType::kDate: {
      const int32_t* d = c.date_data().data();
      fn([d](size_t p) { return d[p]; }, int32_t{});
      break;
    }
    case DataType::kBool: {
      const uint8_t* d = c.bool_data().data();
      fn([d](size_t p) { return static_cast<uint8_t>(d[p] != 0); }, uint8_t{});
      break;
    }
    case DataType::kString: {
      const Column* col = &c;
      fn([col](size_t p) { return col->StringAt(p); }, std::string_view{});
      break;
    }
  }
}

// Typed comparison of two non-null values of one column: <0, 0, >0.
int CompareAt(const Column& c, size_t a, size_t b);
// Nulls first, then typed order.
int CompareNullable(const Column& c, size_t a, size_t b);
// Appends bytes identifying the value at p for grouping/distinct (equal values, equal bytes).
void AppendKey(const Column& c, size_t p, std::string* key);
// A number column's value at i as a double.
inline double NumberAt(const Column& c, size_t i) {
  return c.type() == DataType::kDouble ? c.DoubleAt(i) : static_cast<double>(c.Int64At(i));
}
// Builds a column of `type` (double or int64) from per-customer values; null where null[i].
Column NumericColumn(DataType type, const std::vector<double>& d, const std::vector<int64_t>& i64,
                     const std::vector<uint8_t>& null);
// Gathers field values at `pos` (-1 = null, or `def` for numeric columns).
Column GatherPicked(const Column& field, const std::vector<int64_t>& pos, std::optional<double> def);

}  // namespace cdp::engine_internal
