// The Online Retail part of bench_predictions: transactional churn on the UCI
// Online Retail data (datasets.h) with the cohort and cut-off of its README:
// customers first seen before 2011-09-08, churn = no purchase from
// 2011-09-08 to the end of the data (2011-12-09). Prints AUC, accuracy and
// grade beside the README's reference AUCs (BG/NBD -E[Y] 0.728, days since
// last purchase 0.682) in one table, the line
//   online-retail churn auc=... accuracy=... grade=...
// and the python3-xgboost peer on the same features (ratio of training times
// and of AUCs). Figures only, never pass/fail.
//
// Model settings (chosen before this score was looked at, and not changed
// after): churn.h's defaults (BoosterParams: 200 rounds, depth 4, eta 0.05,
// subsample/colsample 0.8, seed 1; threshold 0.5), window_days 91 (the
// issue's 13 weeks), churn_days = the holdout's length, so the hold-back
// evaluation's cut-off C1 is exactly the README's 2011-09-08 and the model is
// fitted at C0 = C1 - churn_days with labels from [C0, C1): nothing after
// 2011-09-08 reaches the fit. Not thread-safe (prints).
#pragma once

#include <string>

#include "bench/predictions/datasets.h"
#include "common/status.h"

namespace cdp {

// The peer script is bench/predictions/xgboost_peer.py relative to the
// working directory (the repository root); empty skips the peer.
Status RunOnlineRetailChurnBench(const OnlineRetailData& data,
                                 const std::string& peer_script = "bench/predictions/xgboost_peer.py");

}  // namespace cdp
