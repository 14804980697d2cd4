// The model parts of bench/segment_insights (issue 19): lookalike training
// and scoring, and suggested segments for a numeric target, on the bench's
// generated customers. Each prints one line of figures to `out`: wall and CPU
// seconds, the process's peak RSS so far (getrusage; it only grows, so run
// the parts in order of expected memory or read the deltas), and the
// result's headline numbers. Not thread-safe (reads process-wide counters).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "common/status.h"
#include "insight/customer_attributes.h"
#include "segment/customer_set.h"

namespace cdp {

// Lookalike with `source` (e.g. 50,000 customers) against every other
// customer as the pool, default options (5 folds, top 20% of the pool)
// except fold_threads (0 = the default, folds in parallel; 1 = one fold at a
// time, which also prints the per-fold phases: features, train, predict ...).
// Errors from FindLookalikes pass through.
Status RunLookalikeBench(const CustomerAttributes& attributes, const CustomerSet& source, int fold_threads,
                         std::ostream& out);

// Suggested segments for the numeric attribute `target` (e.g.
// "LifetimeSpend"), default options (min lift 1.2, min share 1%).
// Errors from FindSuggestedSegments pass through.
Status RunSuggestBench(const CustomerAttributes& attributes, const std::string& target, std::ostream& out);

}  // namespace cdp
