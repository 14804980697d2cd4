// Filters and windows of a measure: compiled against the source's schema
// (values typed by common/value_text), then applied per morsel as a byte
// mask over the rows (a selection, never a copy). Internal to engine/.
// Compiled filters are immutable; Compute may run on many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/model_config.h"
#include "table/column.h"
#include "table/filter_op.h"

namespace cdp::engine_internal {

struct CompiledFilter {
  int col = -1;
  DataType type = DataType::kString;
  FilterOp op = FilterOp::kEquals;
  bool by_date = false;  // timestamp field compared by UTC date
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
};

// Filters + window of a measure: the rows it reads. Measures with the same
// selection over the same source share one mask per morsel.
struct Selection {
  std::vector<CompiledFilter> filters;
  bool has_window = false;
  int time_col = -1;
  DataType time_type = DataType::kDate;
  int32_t lo = 0, hi = 0;
  std::string key;

  // mask[p - rb] = 1 for the positions in [rb, re) that pass.
  void Compute(const Table& t, size_t rb, size_t re, std::vector<uint8_t>* mask) const;
};

// Compiles one filter of measure `m` on a source with `schema` (`label` names
// the source in messages). InvalidArgument naming the measure for an unknown
// field or operator, an operator that does not fit the field's type, a wrong
// number of values or a value that is not of the field's type.
StatusOr<CompiledFilter> CompileFilter(const MeasureConfig& m, const MeasureFilterConfig& fc,
                                       const Schema& schema, const std::string& label);
// Bytes identifying a filter, so measures with equal filters share a selection.
std::string FilterKey(const MeasureFilterConfig& f);

}  // namespace cdp::engine_internal
