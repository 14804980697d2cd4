// bench_predictions: the prediction models on public data and at scale
// (issue 18). Run from the repository root. In order:
//   1. CDNOW: BG/NBD and Gamma-Gamma beside the published values (cdnow.h);
//   2. Online Retail transactional churn beside the README's AUCs
//      (online_retail_churn.h), with the python3-xgboost peer;
//   3. Online Retail recommendations: ALS, item-kNN, most-purchased
//      (online_retail_reco.h);
//   4. speed on generated data (speed.h: 1M customers / 20M transactions with
//      churn signal): churn (+ python3-xgboost peer), CLV (clv_speed.h),
//      recommendations (reco_speed.h); seconds and peak RSS.
// Prints figures (the four script-readable lines among them); never
// pass/fail. A part whose header is not in the tree is skipped with a line.
//
// Usage: bench_predictions [--data DIR] [--skip-speed] [--no-peer]
//                          [--skip-data] [--churn-only] [--customers N] [--transactions N]
// --skip-data skips the CDNOW and Online Retail parts (speed only);
// --churn-only runs only churn in the speed part (no CLV, no recommendations).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/predictions/clv_compare.h"
#include "bench/predictions/datasets.h"
#include "bench/predictions/online_retail_churn.h"
#include "bench/predictions/speed.h"
#include "common/datetime.h"
#include "common/status.h"
#if __has_include("bench/predictions/cdnow.h")
#include "bench/predictions/cdnow.h"
#define CDP_HAVE_CDNOW 1
#endif
#if __has_include("bench/predictions/online_retail_reco.h")
#include "bench/predictions/online_retail_reco.h"
#define CDP_HAVE_RECO 1
#endif
#if __has_include("bench/predictions/clv_speed.h")
#include "bench/predictions/clv_speed.h"
#define CDP_HAVE_CLV_SPEED 1
#endif
#if __has_include("bench/predictions/reco_speed.h")
#include "bench/predictions/reco_speed.h"
#define CDP_HAVE_RECO_SPEED 1
#endif

using namespace cdp;

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: bench_predictions [--data DIR (default ../shared/data)] [--skip-speed] [--skip-data] [--churn-only] [--no-peer]\n"
               "                         [--customers N (default 1000000)] [--transactions N (default 20000000)]\n");
  return 2;
}

void Report(const char* part, const Status& s) {
  if (!s.ok()) std::printf("%s: not completed: %s\n", part, s.ToString().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = std::string(CDP_SOURCE_DIR) + "/../shared/data";  // ../shared/data from the repository root
  bool speed = true, peer = true, data_parts = true, churn_only = false;
  long long customers = 1'000'000, transactions = 20'000'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto number = [&](long long* out) {
      const char* v = next();
      char* end = nullptr;
      if (!v) return false;
      *out = std::strtoll(v, &end, 10);
      return *end == '\0' && *out > 0;
    };
    if (a == "--data") {
      const char* v = next();
      if (!v) return Usage();
      data_dir = v;
    } else if (a == "--skip-speed") {
      speed = false;
    } else if (a == "--skip-data") {
      data_parts = false;
    } else if (a == "--churn-only") {
      churn_only = true;
    } else if (a == "--no-peer") {
      peer = false;
    } else if (a == "--customers") {
      if (!number(&customers)) return Usage();
    } else if (a == "--transactions") {
      if (!number(&transactions)) return Usage();
    } else {
      return Usage();
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress visible when redirected
  const std::string peer_script = peer ? std::string(CDP_SOURCE_DIR) + "/bench/predictions/xgboost_peer.py" : "";
  std::printf("bench_predictions: data %s\n", data_dir.c_str());

#ifdef CDP_HAVE_CDNOW
  if (data_parts) Report("cdnow", RunCdnowBench(data_dir));
#else
  std::printf("cdnow: part not built (bench/predictions/cdnow.h missing)\n");
#endif

  auto t0 = std::chrono::steady_clock::now();
  StatusOr<OnlineRetailData> retail =
      data_parts ? LoadOnlineRetail(data_dir) : StatusOr<OnlineRetailData>(CancelledError("skipped (--skip-data)"));
  auto t1 = std::chrono::steady_clock::now();
  if (!retail.ok()) {
    std::printf("online-retail: not loaded: %s\n", retail.status().ToString().c_str());
  } else {
    std::printf("\nonline-retail loaded: %lld clean rows, %lld customers, in %.2f s\n",
                static_cast<long long>(retail->clean_rows), static_cast<long long>(retail->clean_customers),
                std::chrono::duration<double>(t1 - t0).count());
    Report("online-retail churn", RunOnlineRetailChurnBench(*retail, peer_script));
    // CLV over the churn bench's hold-back (2011-09-08 to the end): the boosted
    // model trains at 2011-06-07 as churn does.
    Report("online-retail clv-compare",
           RunClvComparison("online-retail", retail->log, retail->last_day + 1,
                            retail->last_day + 1 - DaysFromCivil(2011, 9, 8)));
#ifdef CDP_HAVE_RECO
    Report("online-retail recommendations", RunOnlineRetailRecommendBench(*retail));
#else
    std::printf("online-retail recommendations: part not built (online_retail_reco.h missing)\n");
#endif
  }

  if (speed) {
    std::printf("\n== speed: %lld customers, %lld transactions (generated, with churn signal) ==\n", customers,
                transactions);
    auto g0 = std::chrono::steady_clock::now();
    StatusOr<SpeedData> data = GenerateSpeedData(customers, transactions);
    auto g1 = std::chrono::steady_clock::now();
    if (!data.ok()) {
      std::printf("speed: %s\n", data.status().ToString().c_str());
      return 1;
    }
    std::printf("generated %lld customers, %lld transactions, %lld other activities in %.2f s; peak RSS %.0f MiB\n",
                static_cast<long long>(data->customers), static_cast<long long>(data->transactions),
                static_cast<long long>(data->other_activities), std::chrono::duration<double>(g1 - g0).count(),
                PeakRssMiB());
    Report("speed churn", RunChurnSpeed(*data, peer_script));
    if (churn_only) {
      std::printf("peak RSS at the end: %.0f MiB (--churn-only)\n", PeakRssMiB());
      return 0;
    }
#ifdef CDP_HAVE_CLV_SPEED
    Report("speed clv", RunClvSpeed(data->log, data->as_of_day));
#else
    std::printf("speed clv: part not built (clv_speed.h missing)\n");
#endif
#ifdef CDP_HAVE_RECO_SPEED
    Report("speed recommendations", RunRecommendSpeed(data->log, data->as_of_day, peer));
#else
    std::printf("speed recommendations: part not built (reco_speed.h missing)\n");
#endif
    std::printf("peak RSS at the end: %.0f MiB\n", PeakRssMiB());
  }
  return 0;
}
