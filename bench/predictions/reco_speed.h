// The recommendations part of bench_predictions' speed bench (1M customers /
// 20M transactions from speed.h's generator): ALS, item-kNN and the
// most-purchased baseline (src/predict/recommend.h, default options: 10
// products, no repeats, all history, threads = one per core) fitted on the
// rows before cut-off = as_of - 30 days and scoring every customer as of the
// cut-off; prints fit and scoring seconds (wall and CPU), the peak RSS of each part
// (VmHWM reset before it where Linux allows) and Success@10 / precision@10 on
// the 30-day hold-back [cut-off, as_of); then the scikit-learn item-kNN peer
// (RunKnnPeer) with the ratios. The `implicit` Python package (the
// issue's ALS peer) is not installable here (PyPI unreachable): printed, not
// imitated. Prints to stdout; not for concurrent use.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "predict/transaction_log.h"

namespace cdp {

// `peer` true also runs the item-kNN peer (below) on the same log and prints
// the ratio of times and of Success@10.
Status RunRecommendSpeed(const TransactionLog& log, int32_t as_of_day, bool peer = true);

// The item-kNN peer: bench/predictions/knn_peer.py under /usr/bin/python3
// (Debian's scikit-learn NearestNeighbors, cosine, brute force; SciPy sparse
// products), the same task as cdp's item_knn with the same neighbours, no
// repeats, popular fill-up and the same hold-back measure, on the rows of
// `log` (customer, product, day) written to a temporary binary file.
// Unavailable when python3-sklearn or the script is missing.
struct KnnPeerResult {
  double fit_seconds = 0;      // incidence + NearestNeighbors fit and kneighbors
  double score_seconds = 0;    // every customer's top-k
  double fit_cpu_seconds = 0;  // CPU seconds of the peer process (all threads) for the same two steps
  double score_cpu_seconds = 0;
  int64_t customers = 0;
  double success_at_k = 0;
  double precision_at_k = 0;
};
StatusOr<KnnPeerResult> RunKnnPeer(const TransactionLog& log, int32_t cutoff, int32_t as_of_day, int k,
                                   int neighbours);

}  // namespace cdp
