#include "bench/predictions/clv_speed.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "predict/clv.h"

namespace cdp {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// VmHWM (peak resident set) of this process in MiB, or -1.
double PeakRssMiBFromProc() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return static_cast<double>(std::strtoll(line.c_str() + 6, nullptr, 10)) / 1024;
  }
  return -1;
}

}  // namespace

Status RunClvSpeed(const TransactionLog& log, int32_t as_of_day) {
  std::printf("== CLV speed: %lld customers, %lld transactions (BG/NBD + Gamma-Gamma, weeks, 365-day horizon)\n",
              static_cast<long long>(log.num_customers()), static_cast<long long>(log.num_transactions()));
  ClvOptions options;
  auto t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(RfmSummary rfm, SummarizeRfmChecked(log, as_of_day, options.unit_days));
  const double summary_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(BgNbdParams bg, FitBgNbd(rfm));
  const double bg_s = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(GammaGammaParams gg, FitGammaGamma(rfm));
  const double gg_s = Seconds(t0);
  ClvModel model;
  model.bgnbd = bg;
  model.gamma_gamma = gg;
  model.fitted_at_day = as_of_day;
  model.unit_days = options.unit_days;
  const double fit_rss = PeakRssMiBFromProc();
  t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(std::vector<ClvCustomerPrediction> pred, PredictClv(model, log, as_of_day, options));
  const double score_s = Seconds(t0);
  int64_t scored = 0, high = 0;
  double total = 0;
  for (const auto& p : pred) {
    scored += p.scored;
    high += p.high_value;
    total += p.clv;
  }
  const double score_rss = PeakRssMiBFromProc();
  std::printf("clv speed: summary %.2f s, fit BG/NBD %.2f s (%d evaluations; r=%.4g alpha=%.4g a=%.4g b=%.4g), "
              "fit Gamma-Gamma %.2f s (%d evaluations, %lld repeat buyers), peak RSS after fit %.0f MiB\n",
              summary_s, bg_s, bg.evaluations, bg.r, bg.alpha, bg.a, bg.b, gg_s, gg.evaluations,
              static_cast<long long>(gg.customers), fit_rss);
  std::printf("clv speed: scoring %.2f s for %lld scored customers (%lld high value, predicted total %.0f), "
              "peak RSS %.0f MiB\n",
              score_s, static_cast<long long>(scored), static_cast<long long>(high), total, score_rss);
  t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(ClvEvaluation ev, EvaluateClv(log, as_of_day, options));
  std::printf("clv speed: hold-back evaluation (refit at as_of - 365 + scoring + baseline) %.2f s: grade %s, model "
              "finds %lld of %lld high-value customers, baseline %lld; correlation %.3f (baseline %.3f); "
              "peak RSS %.0f MiB\n",
              Seconds(t0), std::string(ModelGradeName(ev.grade)).c_str(), static_cast<long long>(ev.model_found),
              static_cast<long long>(ev.actual_high_value), static_cast<long long>(ev.baseline_found),
              ev.correlation, ev.baseline_correlation, PeakRssMiBFromProc());
  std::printf("clv speed: peer python lifetimes (BetaGeoFitter/GammaGammaFitter) not run: PyPI is not reachable "
              "from this machine, so the package cannot be installed\n");
  return Status::Ok();
}

}  // namespace cdp
