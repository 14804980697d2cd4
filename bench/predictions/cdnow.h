// The CDNOW part of bench_predictions: BG/NBD and Gamma-Gamma (src/predict/clv.h)
// fitted on the 2,357-customer CDNOW sample (Fader, Hardie & Lee 2005) read
// from its raw transactions (<shared_data_dir>/cdnow/CDNOW_sample.txt;
// calibration = 1997-01-01..1997-09-30, 39 weeks; same-day transactions of a
// customer are one), printed beside the published values with relative
// errors, the check that the summary built from the raw rows equals the
// published cdnow_customers_summary.csv, and the holdout (weeks 40-78):
// cumulative repeat transactions forecast vs actual per week (4,339 actual at
// week 78), conditional E[Y(39)] summed and correlated per customer, and the
// CLV hold-back evaluation with its grade. Prints the lines
//   cdnow bgnbd r=… alpha=… a=… b=… ll=…
//   cdnow gammagamma p=… q=… gamma=…
// Prints to stdout; not meant to run twice at once.
#pragma once

#include <string>

#include "common/status.h"

namespace cdp {

// shared_data_dir: the folder holding cdnow/ (../shared/data from the
// repository root). NotFound when a file is missing; DataLoss when the sample
// does not have the README's 6,919 rows of 2,357 customers.
Status RunCdnowBench(const std::string& shared_data_dir);

}  // namespace cdp
