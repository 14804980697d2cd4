// The 1M-customer / 20M-transaction speed data of bench_predictions, and the
// churn part of the speed bench. The generator follows bench_measures'
// (bench/common/activity_data.h: customers of skewed activity, two years of
// days, amounts in a few tens) and adds behavioural signal so model quality
// is meaningful:
// - each customer is active on [start, stop): start uniform in the first
//   ~14 months, a lifetime ~ exponential (mean 540 days), so customers stop
//   buying at different times (churn); stop >= as_of means still active;
// - purchase intensity ~ Gamma(2) per customer (a third twice as active, as
//   bench_measures); the transaction count is allocated in proportion to
//   intensity x active days so the total is the requested one (± rounding);
// - a customer's mean spend ~ lognormal, each amount around it;
// - products: 2,000, in 50 taste segments; 70% of a customer's purchases come
//   from their segment's 25 products, 30% from a Zipf-like global
//   popularity (for the recommendation bench);
// - other activities: "Visit" (about one per 4 purchases, while active), and
//   for 60% of the customers who stop, "Complaint" in the 30 days before
//   they stop (the planted cause); 2% of active customers complain at random.
// Deterministic for a seed. Not thread-safe to share a builder; the result is
// an ordinary immutable TransactionLog.
#pragma once

#include <cstdint>

#include <string>

#include "common/status.h"
#include "predict/churn.h"
#include "predict/transaction_log.h"

namespace cdp {

struct SpeedData {
  TransactionLog log;
  int32_t first_day = 0;  // 2023-01-01
  int32_t as_of_day = 0;  // 2025-01-01 (first_day + 731): rows are before it
  int64_t customers = 0;
  int64_t transactions = 0;
  int64_t other_activities = 0;
};

// customers >= 1000, transactions >= customers (InvalidArgument otherwise).
StatusOr<SpeedData> GenerateSpeedData(int64_t customers, int64_t transactions, uint64_t seed = 42);

// Churn on the speed data: feature build (two cut-offs), training (hold-back
// fit + evaluation + refit, 90-day window, default BoosterParams), scoring at
// as_of with top factors; seconds, peak RSS, AUC and grade printed; then the
// python3-xgboost peer on the same training matrix (the C0 fit set) and the
// same parameters, with the ratio of training times and of AUCs on the C1
// evaluation set. `peer_script` (xgboost_peer.py's path) empty skips the peer.
Status RunChurnSpeed(const SpeedData& data, const std::string& peer_script);

// The python3-xgboost peer (bench/predictions/xgboost_peer.py run with
// /usr/bin/python3): writes `fit` and `evaluation` to a temporary directory,
// runs xgboost.train with `params`, returns its timing and AUC. The C++ side
// of the comparison (TimedCppFit) trains Booster::Train on the same `fit`.
struct XgboostPeerResult {
  double train_seconds = 0;  // DMatrix + xgboost.train
  double auc = 0;            // on `evaluation`
  std::string version;
};
StatusOr<XgboostPeerResult> RunXgboostPeer(const ChurnSplit& fit, const ChurnSplit& evaluation,
                                           const BoosterParams& params, const std::string& peer_script);
// Trains Booster::Train on `fit` (timed) and scores `evaluation`; prints the
// two sides, the ratios, and returns the peer's status (a missing python3 or
// xgboost is reported, not fatal to the caller).
Status ComparePeer(const char* label, const ChurnSplit& fit, const ChurnSplit& evaluation, const BoosterParams& params,
                   const std::string& peer_script);

// Peak resident set size of this process so far, in MiB (getrusage).
double PeakRssMiB();

}  // namespace cdp
