// The measures stage of a workspace: resolves each measured entity's rows to
// customers (relationships + lineage), evaluates the project's measures on
// the columnar engine and commits Customer_Measure (one column per attribute
// measure), Measure_<name> (customer measures) and BusinessMeasure_<name>.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/entity_names.h"
#include "common/status.h"
#include "engine/measure_engine.h"
#include "workspace/workspace.h"

namespace cdp {

struct MeasureRunOptions {
  int threads = 0;
  int32_t run_date = 0;  // days since 1970-01-01; 0 = today (UTC)
  // Non-zero: part of this open run (e.g. a refresh's): no run row of its own.
  int64_t run_id = 0;
};

struct MeasureRunResult {
  int64_t run_id = 0;
  uint64_t generation = 0;
  int32_t run_date = 0;
  int64_t customers = 0;
  int64_t rows_scanned = 0;
  double seconds_evaluate = 0;
  double seconds_total = 0;
  MeasureResults results;
  std::vector<std::string> warnings;  // orphan counts per measured entity
};

// FailedPrecondition when there is no Customer yet; InvalidArgument naming
// the measure and field for a definition that does not fit the data.
StatusOr<MeasureRunResult> RunMeasures(Workspace& workspace, const MeasureRunOptions& options,
                                       const std::string& run_kind = "measures");

}  // namespace cdp
