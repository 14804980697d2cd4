// The CLV part of bench_predictions' speed bench (1M customers / 20M
// transactions from speed.h's generator): seconds to summarize, fit BG/NBD
// and Gamma-Gamma (src/predict/clv.h), score every customer (PredictClv,
// 365-day horizon) and run the hold-back evaluation, with the process's peak
// RSS after each step. The python `lifetimes` peer is not run (PyPI is not
// reachable); a line says so. Prints to stdout.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "predict/transaction_log.h"

namespace cdp {

// Fits on the rows before as_of_day, scores at as_of_day, and evaluates with
// the cut-off as_of_day - 365 (FailedPrecondition etc. from clv.h pass through).
Status RunClvSpeed(const TransactionLog& log, int32_t as_of_day);

}  // namespace cdp
