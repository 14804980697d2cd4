#include "bench/predictions/online_retail_reco.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "bench/predictions/reco_speed.h"
#include "common/datetime.h"
#include "predict/recommend.h"

namespace cdp {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct AlgorithmFigures {
  HoldoutHits hits;
  double fit_seconds = 0;
  double score_seconds = 0;
};

StatusOr<AlgorithmFigures> Measure(const TransactionLog& log, int32_t cutoff, int32_t as_of,
                                   const RecommendOptions& options) {
  AlgorithmFigures f;
  auto t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(RecommenderModel model, FitRecommender(log, cutoff, options));
  f.fit_seconds = SecondsSince(t0);
  t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(RecommendationList recs, RecommendProducts(model, log, cutoff, options));
  f.score_seconds = SecondsSince(t0);
  CDP_ASSIGN_OR_RETURN(f.hits, MeasureHoldout(log, recs, cutoff, as_of, options.count));
  return f;
}

}  // namespace

Status RunOnlineRetailRecommendBench(const OnlineRetailData& data) {
  const TransactionLog& log = data.log;
  const int32_t as_of = data.last_day + 1;
  const int32_t holdout_days = 30;
  const int32_t cutoff = as_of - holdout_days;
  const int k = 10;
  std::printf(
      "\n== Online Retail recommendations: fit on purchases before %s, hold-back %s .. %s (the last %d "
      "days), "
      "k=%d ==\n",
      FormatDate(cutoff).c_str(), FormatDate(cutoff).c_str(), FormatDate(as_of - 1).c_str(), holdout_days, k);
  std::printf(
      "%lld customers, %lld purchase lines, %lld products; evaluated: customers with a purchase before the "
      "cut-off and one in the hold-back\n",
      static_cast<long long>(log.num_customers()), static_cast<long long>(log.num_transactions()),
      static_cast<long long>(log.num_products()));
  const RecommendAlgorithm algorithms[] = {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn,
                                           RecommendAlgorithm::kPopular};
  double success[3] = {0, 0, 0};
  AlgorithmFigures knn;
  for (bool allow_repeat : {false, true}) {
    std::printf("\nrepeats %s:\n",
                allow_repeat ? "allowed (extra figures)" : "not allowed (the product's default)");
    std::printf("  %-9s %10s %10s %14s %8s %8s %6s\n", "algorithm", "customers", "Success@10", "precision@10",
                "fit s", "score s", "grade");
    AlgorithmFigures figures[3];
    for (int a = 0; a < 3; ++a) {
      RecommendOptions options;
      options.algorithm = algorithms[a];
      options.count = k;
      options.allow_repeat = allow_repeat;
      CDP_ASSIGN_OR_RETURN(figures[a], Measure(log, cutoff, as_of, options));
    }
    for (int a = 0; a < 3; ++a) {
      const AlgorithmFigures& f = figures[a];
      ModelGrade grade = GradeAgainstBaseline(f.hits.success_at_k, figures[2].hits.success_at_k, 0.10);
      std::printf("  %-9s %10lld %10.4f %14.4f %8.3f %8.3f %6s\n",
                  std::string(RecommendAlgorithmName(algorithms[a])).c_str(),
                  static_cast<long long>(f.hits.customers), f.hits.success_at_k, f.hits.precision_at_k,
                  f.fit_seconds, f.score_seconds,
                  a == 2 ? "(base)" : std::string(ModelGradeName(grade)).c_str());
      if (!allow_repeat) success[a] = f.hits.success_at_k;
      if (!allow_repeat && algorithms[a] == RecommendAlgorithm::kItemKnn) knn = f;
    }
  }
  std::printf(
      "\nALS: %d factors, regularization %.3g, alpha %.3g, %d iterations x %d CG steps; item-kNN: %d "
      "neighbours "
      "(the library defaults, fixed before this data was scored)\n",
      RecommendOptions{}.factors, RecommendOptions{}.regularization, RecommendOptions{}.alpha,
      RecommendOptions{}.iterations, RecommendOptions{}.cg_steps, RecommendOptions{}.neighbours);
  std::printf(
      "peer: the `implicit` Python package (ALS) is not installable here (PyPI is not reachable) and is not "
      "imitated; no ALS peer figures.\n");
  StatusOr<KnnPeerResult> peer = RunKnnPeer(log, cutoff, as_of, k, RecommendOptions{}.neighbours);
  if (!peer.ok()) {
    std::printf("peer item-kNN (scikit-learn): not run: %s\n", peer.status().ToString().c_str());
  } else {
    std::printf(
        "peer item-kNN (scikit-learn NearestNeighbors cosine + SciPy; same data, same task, repeats not "
        "allowed): customers %lld, Success@10 %.4f, precision@10 %.4f, fit %.3f s, score %.3f s; cdp "
        "item_knn "
        "/ peer Success@10 %.3f, peer / cdp time %.2fx\n",
        static_cast<long long>(peer->customers), peer->success_at_k, peer->precision_at_k, peer->fit_seconds,
        peer->score_seconds, peer->success_at_k > 0 ? knn.hits.success_at_k / peer->success_at_k : 0.0,
        (peer->fit_seconds + peer->score_seconds) / (knn.fit_seconds + knn.score_seconds));
  }
  std::printf("online-retail recommendations k=%d als=%.4f knn=%.4f popular=%.4f\n", k, success[0],
              success[1], success[2]);
  return Status::Ok();
}

}  // namespace cdp
