#include "bench/predictions/online_retail_churn.h"

#include <chrono>
#include <cstdio>

#include "bench/predictions/speed.h"
#include "common/datetime.h"
#include "predict/churn.h"

namespace cdp {

Status RunOnlineRetailChurnBench(const OnlineRetailData& data, const std::string& peer_script) {
  using Clock = std::chrono::steady_clock;
  const TransactionLog& log = data.log;
  const int32_t cutoff = DaysFromCivil(2011, 9, 8);
  const int32_t as_of = data.last_day + 1;
  ChurnOptions options;
  options.window_days = 91;
  options.churn_days = as_of - cutoff;
  std::printf("\n== Online Retail transactional churn ==\n");
  std::printf("cut-off 2011-09-08, as of 2011-12-10 (the day after the last): horizon %d days; window %d days; "
              "fit at C0 = cut-off - %d days\n",
              options.churn_days, options.window_days, options.churn_days);
  auto t0 = Clock::now();
  StatusOr<ChurnModel> model = TrainTransactionalChurn(log, {}, as_of, options);
  auto t1 = Clock::now();
  if (!model.ok()) return model.status().WithContext("online-retail churn");
  const ChurnEvaluation& ev = model->evaluation;
  std::printf("cohort (history before the cut-off): %lld customers (README: 3,362); churn base rate %.3f "
              "(README: 0.429); fit rows at C0 %lld (base rate %.3f); train+evaluate+refit %.2f s\n",
              static_cast<long long>(ev.evaluation_rows), ev.base_rate, static_cast<long long>(ev.training_rows),
              ev.training_base_rate, std::chrono::duration<double>(t1 - t0).count());
  std::printf("\n%-58s %7s %9s %12s\n", "model (same cohort, same holdout)", "AUC", "accuracy", "churn recall");
  std::printf("%-58s %7.3f %9.3f %12.3f\n", "XGBoost churn model (this project, fit at C0)", ev.auc, ev.accuracy,
              ev.churn_class_accuracy);
  char rule[96];
  std::snprintf(rule, sizeof rule, "recency rule > %d days (baseline, picked at C0)", ev.baseline_days);
  std::printf("%-58s %7.3f %9.3f %12.3f\n", rule, ev.baseline_auc, ev.baseline_accuracy,
              ev.baseline_churn_class_accuracy);
  std::printf("%-58s %7.3f %9s %12s\n", "README: -E[Y] from BG/NBD", 0.728, "-", "-");
  std::printf("%-58s %7.3f %9s %12s\n", "README: days since last purchase", 0.682, "-", "-");
  std::printf("%-58s %7.3f %9s %12s\n", "README: -frequency", 0.723, "-", "-");
  std::printf("%-58s %7s %9.3f %12s\n", "README: D365-style recency rule of 91 days", "-", 0.649, "-");
  std::printf("\ngrade %s: %s\n", std::string(ModelGradeName(ev.grade)).c_str(), ev.grade_reason.c_str());
  std::printf("top features by total gain (final model, refit at the cut-off):");
  for (size_t i = 0; i < ev.importance.size() && i < 6; ++i) {
    std::printf("%s %s (%.0f)", i ? "," : "", ev.importance[i].feature.c_str(), ev.importance[i].total_gain);
  }
  std::printf("\nlift at the top 10%%: %.2f; calibration bins:", ev.lift.empty() ? 0.0 : ev.lift[0].lift);
  for (const CalibrationBin& b : ev.calibration) std::printf(" %.2f->%.2f(%lld)", b.mean_predicted, b.observed_rate, static_cast<long long>(b.count));
  std::printf("\nonline-retail churn auc=%.3f accuracy=%.3f grade=%s\n", ev.auc, ev.accuracy,
              std::string(ModelGradeName(ev.grade)).c_str());

  if (!peer_script.empty()) {
    // The same fit and evaluation matrices as TrainTransactionalChurn's hold-back step.
    const int32_t h = options.churn_days, c1 = as_of - h, c0 = as_of - 2 * h;
    ChurnSplit fit, evaluation;
    fit.customers = CustomersWithHistory(log, c0);
    evaluation.customers = CustomersWithHistory(log, c1);
    CDP_ASSIGN_OR_RETURN(fit.x, BuildChurnFeatures(log, {}, fit.customers, c0, options.window_days));
    CDP_ASSIGN_OR_RETURN(evaluation.x, BuildChurnFeatures(log, {}, evaluation.customers, c1, options.window_days));
    fit.y = TransactionalChurnLabels(log, fit.customers, c0, h);
    evaluation.y = TransactionalChurnLabels(log, evaluation.customers, c1, h);
    Status peer = ComparePeer("online-retail churn", fit, evaluation, options.booster, peer_script);
    if (!peer.ok()) std::printf("python3-xgboost peer not run: %s\n", peer.ToString().c_str());
  }
  return Status::Ok();
}

}  // namespace cdp
