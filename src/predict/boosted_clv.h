// Customer lifetime value by gradient-boosted regression on history features,
// the issue's "boosted model where the data supports it", beside BG/NBD +
// Gamma-Gamma (clv.h). The regression learns spend over the next horizon from
// the churn model's history features (churn.h: recency, frequency, monetary,
// tenure, trends, gaps, product mix, BG/NBD P(alive) and expected purchases,
// other activities) with a time split: features from rows before a cut-off,
// the label the known spend in [cut-off, cut-off + horizon).
// Pure functions; thread-safe (a BoostedClvModel is scored by one thread at a
// time, as booster.h says).
//
// References: Chen & Guestrin 2016 (XGBoost, through booster.h); Vanderveld
// et al. 2016, "An Engagement-Based Customer Lifetime Value System for
// E-commerce" (KDD), and Chamberlain et al. 2017, "Customer Lifetime Value
// Prediction Using Embeddings" (KDD): tree ensembles (random forests there;
// gradient boosting here, the project's one tree learner) on RFM-style history
// features, trained on a past window's spend. A learned model needs enough
// customers and history to be trusted over a two-parameter-family fit, hence
// the data rule below.
//
// Settings fixed before any score was seen (none was changed after):
// - the booster: the churn model's defaults (200 rounds, depth 4, eta 0.05,
//   subsample and colsample 0.8) with reg:squarederror on the raw spend (the
//   squared error's minimiser is the conditional mean, which is what a CLV
//   is) and min_child_weight 10 (with squared error a node's hessian is its
//   row count: no leaf fitted to fewer than 10 customers of a heavy-tailed
//   spend);
// - the feature window: 90 days (the churn default: quarterly counts and
//   trends), whatever the horizon;
// - the data rule (CompareClvModels): the boosted model is a candidate only
//   when the data cover two horizons before as_of (train at as_of - 2H on the
//   spend of [as_of - 2H, as_of - H), compare at as_of - H) and at least
//   kMinBoostedTrainingCustomers customers have history at as_of - 2H; it is
//   USED only when, on the hold-back [as_of - H, as_of), it finds strictly
//   more of the actual high-value customers than BG/NBD + Gamma-Gamma (the CLV
//   grade's own measure) and its mean absolute error is not higher. Otherwise
//   BG/NBD + Gamma-Gamma is used (it also gives P(alive) and expected
//   transactions, which the boosted model does not). The comparison selects
//   on the hold-back, so the chosen model's hold-back figures are slightly
//   optimistic; the grade is still the chosen model's against the baseline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "predict/booster.h"
#include "predict/clv.h"
#include "predict/transaction_log.h"

namespace cdp {

inline constexpr int64_t kMinBoostedTrainingCustomers = 1000;
// Every BoostedClvModel::ToJson text starts with this; a ClvModel's never does.
inline constexpr std::string_view kBoostedClvJsonPrefix = R"({"kind":"boosted_clv")";
inline constexpr int32_t kBoostedClvFeatureWindowDays = 90;

// The booster settings above.
BoosterParams BoostedClvBoosterParams();

struct BoostedClvModel {
  // The BG/NBD + Gamma-Gamma model fitted at the same as_of: the stage still
  // reports its expected transactions, spend per transaction and P(alive);
  // the CLV and the high-value flag come from the booster.
  ClvModel bgnbd;
  Booster booster;
  std::vector<std::string> feature_names;
  int32_t horizon_days = 0;
  int32_t feature_cutoff_day = 0;  // features of the fit read rows before this day
  int64_t training_customers = 0;

  // {"kind":"boosted_clv","version":1,"horizon_days":..,"feature_cutoff_day":..,
  //  "training_customers":..,"feature_names":[..],"bgnbd":{ClvModel JSON},"booster":{XGBoost JSON}}
  // (kind first: the stage tells the two CLV models apart by kBoostedClvJsonPrefix).
  StatusOr<std::string> ToJson() const;
  // At most Booster::kMaxModelBytes, nesting as Booster::LoadJson allows;
  // InvalidArgument naming a missing or malformed field, and when the
  // feature names do not match the booster's feature count.
  static StatusOr<BoostedClvModel> FromJson(std::string_view json);
};

// Trains on features at label_start_day (rows before it) of the customers
// with history then, labelled with their known spend in
// [label_start_day, label_start_day + horizon_days). InvalidArgument for bad
// options; FailedPrecondition when no customer has history or nobody spent.
// `bgnbd` becomes the model's companion (the stage passes FitClv at as_of).
StatusOr<BoostedClvModel> FitBoostedClv(const TransactionLog& log, int32_t label_start_day, const ClvOptions& options,
                                        const ClvModel& bgnbd);

// The customers' CLV predictions with the boosted model's value as `clv`
// (>= 0) and the high-value flag recomputed on it (options' rule); the other
// fields from model.bgnbd (PredictClv). InvalidArgument for bad options.
StatusOr<std::vector<ClvCustomerPrediction>> PredictClvBoosted(const BoostedClvModel& model, const TransactionLog& log,
                                                               int32_t as_of_day, const ClvOptions& options);

// Predicted spend over the model's horizon from rows before as_of_day, one
// value per customer of `log` (>= 0; NaN for customers without history).
StatusOr<std::vector<double>> PredictBoostedClv(const BoostedClvModel& model, const TransactionLog& log,
                                                int32_t as_of_day);

// One model's figures on the hold-back customers.
struct ClvModelFigures {
  double mae = 0, rmse = 0, spearman = 0;
  double total = 0;        // sum of predicted values
  int64_t found = 0;       // actual high-value customers among its top picks
};

struct ClvComparison {
  int32_t cutoff_day = 0;            // as_of - H: the hold-back starts here
  int64_t customers = 0;             // customers with history at the cut-off
  int64_t actual_high_value = 0;
  double total_actual = 0;
  bool eligible = false;             // the data rule's first two conditions
  std::string eligibility;           // plain-language reason
  int64_t training_customers = 0;    // boosted model's rows at as_of - 2H (0 if not eligible)
  ClvModelFigures bgnbd, baseline, boosted;  // boosted only when eligible
  bool use_boosted = false;
  std::string decision;              // why the chosen model was chosen

  nlohmann::ordered_json ToJson() const;
};

// Applies the data rule above. `bgnbd` is EvaluateClv(log, as_of_day,
// options) (its per-customer values are reused). Errors only for bad options
// or a failure of the booster; a data set the boosted model cannot be
// trained on is a comparison with eligible = false.
StatusOr<ClvComparison> CompareClvModels(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options,
                                         const ClvEvaluation& bgnbd);

}  // namespace cdp
