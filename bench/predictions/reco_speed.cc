#include "bench/predictions/reco_speed.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/datetime.h"
#include "common/parallel.h"
#include "predict/recommend.h"

namespace cdp {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Resets the process's peak RSS to its current RSS (Linux >= 4.0); false if not possible.
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out.flush());
}

// VmHWM (peak RSS) of /proc/self/status in MiB, or -1.
double PeakRssMiBNow() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return -1;
}

}  // namespace

Status RunRecommendSpeed(const TransactionLog& log, int32_t as_of_day) {
  const int32_t holdout_days = 30;
  const int32_t cutoff = as_of_day - holdout_days;
  const int k = 10;
  std::printf("\n-- recommendations: %lld customers, %lld transactions, %lld products; fit on rows before %s, every "
              "customer scored as of it (k=%d, no repeats), hold-back %s .. %s; %d threads --\n",
              static_cast<long long>(log.num_customers()), static_cast<long long>(log.num_transactions()),
              static_cast<long long>(log.num_products()), FormatDate(cutoff).c_str(), k, FormatDate(cutoff).c_str(),
              FormatDate(as_of_day - 1).c_str(), ResolveThreads(0));
  std::printf("  %-9s %8s %9s %13s %10s %12s %10s\n", "algorithm", "fit s", "score s", "peak RSS MiB", "customers",
              "Success@10", "precision");
  const RecommendAlgorithm algorithms[] = {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn,
                                           RecommendAlgorithm::kPopular};
  double success[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    RecommendOptions options;
    options.algorithm = algorithms[a];
    options.count = k;
    const bool reset = ResetPeakRss();
    auto t0 = std::chrono::steady_clock::now();
    CDP_ASSIGN_OR_RETURN(RecommenderModel model, FitRecommender(log, cutoff, options));
    const double fit_seconds = SecondsSince(t0);
    t0 = std::chrono::steady_clock::now();
    CDP_ASSIGN_OR_RETURN(RecommendationList recs, RecommendProducts(model, log, cutoff, options));
    const double score_seconds = SecondsSince(t0);
    const double peak = PeakRssMiBNow();
    CDP_ASSIGN_OR_RETURN(HoldoutHits hits, MeasureHoldout(log, recs, cutoff, as_of_day, k));
    success[a] = hits.success_at_k;
    std::printf("  %-9s %8.2f %9.2f %12.0f%s %10lld %12.4f %10.4f\n",
                std::string(RecommendAlgorithmName(algorithms[a])).c_str(), fit_seconds, score_seconds, peak,
                reset ? " " : "*", static_cast<long long>(hits.customers), hits.success_at_k, hits.precision_at_k);
  }
  std::printf("  (peak RSS: the process's high-water mark during fit + scoring, reset before each algorithm; "
              "* = could not reset, includes everything before)\n");
  std::printf("  grade against popular: als %s, item_knn %s\n",
              std::string(ModelGradeName(GradeAgainstBaseline(success[0], success[2], 0.10))).c_str(),
              std::string(ModelGradeName(GradeAgainstBaseline(success[1], success[2], 0.10))).c_str());
  std::printf("  peer: the `implicit` Python package (ALS) is not installable here (PyPI is not reachable); not "
              "imitated, no ratio printed.\n");
  return Status::Ok();
}

}  // namespace cdp
