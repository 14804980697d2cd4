// Product recommendations from customers' purchases (implicit feedback) on a
// TransactionLog: implicit-feedback ALS, item-kNN and the most-purchased
// (popular) baseline; the options the product offers (number of products,
// repeat purchases, look-back window, product filter); a reason per
// recommended product; and the hold-back evaluation (Success@K, precision@K)
// graded against the popular baseline.
//
// References:
// - ALS: Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
//   Feedback Datasets" (ICDM): preference p_ui = 1 if customer u bought
//   product i, confidence c_ui = 1 + alpha * r_ui with r_ui the number of
//   purchase lines of i by u in the fit window; alternating least squares on
//   sum c_ui (p_ui - x_u.y_i)^2 + lambda (|x|^2 + |y|^2).
// - The per-row least-squares systems are solved approximately by a few
//   conjugate-gradient steps warm-started from the previous iterate (Takács,
//   Pilászy & Tikk 2011, "Applications of the conjugate gradient method for
//   implicit feedback collaborative filtering", RecSys), the algorithm of the
//   `implicit` library's `cg` solver (Frederickson). Factors are initialised
//   uniformly in [0, 0.01) from `seed`, as implicit does.
// - Item-kNN: Sarwar, Karypis, Konstan & Riedl 2001 / Deshpande & Karypis
//   2004 ("Item-based top-N recommendation algorithms"): cosine similarity
//   of products on the binary customer-product incidence of the fit window,
//   the `neighbours` most similar products kept per product; a customer's
//   score for product j is the sum of sim(i, j) over the products i they bought.
// - Popular ("most purchased"): products ranked by the number of distinct
//   customers who bought them in the fit window (ties: lower product index).
//
// Hyper-parameters (RecommendOptions defaults) were fixed BEFORE any score
// on Online Retail was seen, from the papers and the implicit library: 15
// iterations and 3 CG steps (implicit's defaults), alpha 10 (between
// implicit's 1 and the paper's 40, for purchase counts rather than TV
// minutes), regularization 0.05 (implicit: 0.01, raised for the small
// per-customer baskets), 32 factors (a catalogue of a few thousand
// products), 50 neighbours (Deshpande & Karypis use 10-50). They are not
// tuned on any hold-back period.
//
// Reasons: a product the customer bought before (only with allow_repeat) is
// "past purchases"; otherwise ALS gives "similar customers", item-kNN
// "similar products" (with the bought product that contributed most), and
// the popular ranking "popular". Customers with no purchase in the history
// window (before as_of_day, within lookback_days) get the popular products
// (reason popular), whatever the algorithm; item-kNN fills a list up with
// popular products when the neighbours of a customer's products give fewer
// than `count` candidates.
//
// Thread-safety: pure functions over immutable inputs; safe to call
// concurrently. Work is split over `threads` workers; results do not depend
// on the number of threads (every customer's and product's solve is
// independent and the reductions run in a fixed order).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "predict/grade.h"
#include "predict/transaction_log.h"

namespace cdp {

enum class RecommendAlgorithm { kAls, kItemKnn, kPopular };
// "als", "item_knn", "popular"; InvalidArgument naming the value otherwise.
StatusOr<RecommendAlgorithm> ParseRecommendAlgorithm(std::string_view name);
std::string_view RecommendAlgorithmName(RecommendAlgorithm algorithm);

enum class RecommendReason { kSimilarCustomers, kSimilarProducts, kPastPurchases, kPopular };
// "similar customers", "similar products", "past purchases", "popular".
std::string_view RecommendReasonName(RecommendReason r);

struct RecommendOptions {
  RecommendAlgorithm algorithm = RecommendAlgorithm::kAls;
  int count = 10;             // products per customer, 1..1000
  bool allow_repeat = false;  // false: never a product the customer bought before as_of_day
  // History read for fitting and for a customer's recommendations: rows in
  // [as_of_day - lookback_days, as_of_day); 0 = all history before as_of_day.
  int32_t lookback_days = 0;
  std::vector<std::string> products;  // only recommend these product names (empty = all)
  // ALS.
  int factors = 32;              // 1..1024
  double regularization = 0.05;  // lambda, >= 0
  double alpha = 10.0;           // > 0
  int iterations = 15;           // 1..1000
  int cg_steps = 3;              // 1..100
  // Item-kNN: most similar products kept per product, 1..10000.
  int neighbours = 50;
  uint64_t seed = 1;
  int threads = 0;  // 0 = one per core
};

// InvalidArgument naming the first bad option and its value.
Status ValidateRecommendOptions(const RecommendOptions& options);

// A fitted model. Products are the ones bought in the fit window, in the
// fit log's product order; indexes below are into product_names.
struct RecommenderModel {
  RecommendAlgorithm algorithm = RecommendAlgorithm::kPopular;
  std::vector<std::string> product_names;
  std::vector<double> popularity;  // distinct customers per product in the fit window
  int32_t as_of_day = 0;           // the fit read rows before this day
  int32_t lookback_days = 0;
  // ALS: item factors, product-major (product p's factors at [p*factors, (p+1)*factors)),
  // and the regularization and alpha the customers' factors are solved with.
  int factors = 0;
  double regularization = 0;
  double alpha = 0;
  std::vector<float> item_factors;
  // Item-kNN: product p's neighbours are [neighbour_offsets[p], neighbour_offsets[p+1])
  // of neighbour_items / neighbour_similarity, most similar first.
  std::vector<int64_t> neighbour_offsets;
  std::vector<int32_t> neighbour_items;
  std::vector<float> neighbour_similarity;

  // {"format": "cdp-recommender", "version": 1, "algorithm", "as_of_day",
  //  "lookback_days", "products", "popularity", and "als" {factors,
  //  regularization, alpha, item_factors (flat)} or "item_knn" {offsets,
  //  items, similarities}}.
  std::string ToJson() const;
  // Refuses (InvalidArgument naming what is wrong) text over 1 GiB, nesting
  // deeper than 4, duplicate keys, more than 10M products, names over 4 KiB,
  // more than 1024 factors or 500M factor values or neighbour entries,
  // non-finite or negative values where they cannot be, sizes that do not
  // match, neighbour indexes out of range, unknown format or version.
  static StatusOr<RecommenderModel> FromJson(std::string_view json);
};

// Fits on rows with day < as_of_day (and >= as_of_day - lookback_days when
// lookback_days > 0) that have a product. InvalidArgument for bad options;
// FailedPrecondition when the window has no purchase with a product.
StatusOr<RecommenderModel> FitRecommender(const TransactionLog& log, int32_t as_of_day,
                                          const RecommendOptions& options);

struct Recommendation {
  int32_t product;  // index into the scored log's product_names
  // The algorithm's score (ALS: predicted preference; kNN: summed similarity; popular: customers).
  float score;
  RecommendReason reason;
  int32_t because = -1;  // item-kNN: the bought product (log index) that contributed most; else -1
};

// CSR per customer of the scored log: customer c's products, best first, are
// items[offsets[c], offsets[c+1]) (at most options.count; fewer when the
// filter or repeat rule leaves fewer candidates).
struct RecommendationList {
  std::vector<int64_t> offsets{0};
  std::vector<Recommendation> items;
};

// Scores every customer of `log` as of as_of_day with `model`. The model's
// algorithm is used (options.algorithm is ignored here); options give count,
// allow_repeat, lookback_days and products. ALS: each customer's factors are
// solved exactly (Cholesky) from the model's item factors and the customer's
// purchases in the history window, so a model scores a log newer than its
// fit; products unknown to the model are ignored in the history, and model
// products absent from `log` are never recommended. Customers without
// history in the window get the popular products (reason popular).
// InvalidArgument for bad options or a product filter name the model does not know.
StatusOr<RecommendationList> RecommendProducts(const RecommenderModel& model, const TransactionLog& log,
                                               int32_t as_of_day, const RecommendOptions& options);

// Hold-back hits of `recs` (made as of `cutoff`): customers with at least one
// purchase in [cutoff, end_day) and at least one purchase before cutoff;
// Success@K = share of them who bought at least one of their first k
// recommended products in [cutoff, end_day); precision@K = mean over them of
// (distinct recommended products bought) / k.
struct HoldoutHits {
  int64_t customers = 0;
  int64_t successes = 0;
  double success_at_k = 0;
  double precision_at_k = 0;
};
StatusOr<HoldoutHits> MeasureHoldout(const TransactionLog& log, const RecommendationList& recs,
                                     int32_t cutoff, int32_t end_day, int k);

// Grade rule (grade.h GradeAgainstBaseline, a_margin 0.10): A when
// Success@K is at least 10% above the popular baseline's, B when above, C
// otherwise.
struct RecommendEvaluation {
  RecommendAlgorithm algorithm = RecommendAlgorithm::kAls;
  int k = 0;
  int32_t cutoff_day = 0;  // as_of_day - holdout_days
  int32_t as_of_day = 0;
  int64_t customers = 0;  // evaluated customers
  double success_at_k = 0, precision_at_k = 0;
  double baseline_success_at_k = 0, baseline_precision_at_k = 0;
  ModelGrade grade = ModelGrade::kC;
  nlohmann::ordered_json ToJson() const;
};

// Fits on rows before cutoff = as_of_day - holdout_days (with the options'
// look-back), recommends options.count products as of cutoff and measures
// them on [cutoff, as_of_day) (MeasureHoldout, k = options.count); the
// baseline is the popular algorithm with the same count, repeat, look-back
// and product options. InvalidArgument for holdout_days < 1 or bad options.
StatusOr<RecommendEvaluation> EvaluateRecommender(const TransactionLog& log, int32_t as_of_day,
                                                  int32_t holdout_days, const RecommendOptions& options);

}  // namespace cdp
