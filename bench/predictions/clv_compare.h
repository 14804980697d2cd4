// The boosted CLV model (predict/boosted_clv.h) against BG/NBD + Gamma-Gamma
// and the baseline on a hold-back, as the predictions stage decides it: one
// script-readable line per data set and horizon,
//   <label> clv-compare horizon=<days> customers=<n> eligible=<0|1> used=<model>
//     bgnbd=<mae>/<rmse>/<spearman>/<found> baseline=... boosted=... high_value=<k>
// (MAE / RMSE / Spearman / actual high-value customers found), then the
// decision in words.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "predict/transaction_log.h"

namespace cdp {

Status RunClvComparison(const char* label, const TransactionLog& log, int32_t as_of_day, int32_t horizon_days);

}  // namespace cdp
