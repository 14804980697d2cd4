// The recommendations part of bench_predictions' speed bench (1M customers /
// 20M transactions from speed.h's generator): ALS, item-kNN and the
// most-purchased baseline (src/predict/recommend.h, default options: 10
// products, no repeats, all history, threads = one per core) fitted on the
// rows before cut-off = as_of - 30 days and scoring every customer as of the
// cut-off; prints fit seconds, scoring seconds, the peak RSS of each part
// (VmHWM reset before it where Linux allows) and Success@10 / precision@10 on
// the 30-day hold-back [cut-off, as_of). The `implicit` Python package (the
// issue's ALS peer) is not installable here (PyPI unreachable): printed, not
// imitated. Prints to stdout; not for concurrent use.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "predict/transaction_log.h"

namespace cdp {

Status RunRecommendSpeed(const TransactionLog& log, int32_t as_of_day);

}  // namespace cdp
