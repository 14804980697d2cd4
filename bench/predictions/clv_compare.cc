#include "bench/predictions/clv_compare.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "common/datetime.h"
#include "predict/boosted_clv.h"
#include "predict/clv.h"

namespace cdp {
namespace {

std::string Figures(const ClvModelFigures& f) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.2f/%.2f/%.4f/%lld", f.mae, f.rmse, f.spearman, static_cast<long long>(f.found));
  return buf;
}

}  // namespace

Status RunClvComparison(const char* label, const TransactionLog& log, int32_t as_of_day, int32_t horizon_days) {
  ClvOptions options;
  options.horizon_days = horizon_days;
  auto t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(ClvEvaluation ev, EvaluateClv(log, as_of_day, options));
  CDP_ASSIGN_OR_RETURN(ClvComparison c, CompareClvModels(log, as_of_day, options, ev));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%s clv-compare horizon=%d customers=%lld eligible=%d used=%s bgnbd=%s baseline=%s boosted=%s "
              "high_value=%lld\n",
              label, horizon_days, static_cast<long long>(c.customers), c.eligible ? 1 : 0,
              c.use_boosted ? "boosted" : "bgnbd", Figures(c.bgnbd).c_str(), Figures(c.baseline).c_str(),
              c.eligible ? Figures(c.boosted).c_str() : "-", static_cast<long long>(c.actual_high_value));
  std::printf("  hold-back %s..%s (as of minus the horizon), %.2f s: %s\n", FormatDate(c.cutoff_day).c_str(),
              FormatDate(as_of_day - 1).c_str(), seconds, c.decision.c_str());
  std::printf("  (figures: MAE/RMSE/Spearman/high-value found of %lld; total actual %.0f, predicted bgnbd %.0f, "
              "baseline %.0f%s)\n",
              static_cast<long long>(c.actual_high_value), c.total_actual, c.bgnbd.total, c.baseline.total,
              c.eligible ? (", boosted " + std::to_string(static_cast<long long>(c.boosted.total))).c_str() : "");
  return Status::Ok();
}

}  // namespace cdp
