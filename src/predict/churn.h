// Transactional churn: will a customer who has bought before buy again in the
// next N days? Features from each customer's history before a cut-off, a
// gradient-boosted model (booster.h, XGBoost) trained on a time-based split,
// an evaluation on a held-back period graded against the best recency rule,
// and per-customer top factors (exact TreeSHAP contributions for every scored
// customer, from tree_shap.h's per-leaf tables; XGBoost's pred_contribs only
// for a model too deep for them). Pure functions over
// a TransactionLog; thread-safe (a ChurnModel is read-only while scoring;
// one ChurnModel must not be scored from two threads at once, see
// booster.h).
//
// Cut-off, labels, splits (TransactionLog's convention, never any leakage):
// - Features at a cut-off C read only rows with day < C: recency (days since
//   the last purchase), frequency (purchase days, transaction rows),
//   monetary (total, per purchase day), tenure, trends (purchase days and
//   spend in the last window vs the window before), inter-purchase time
//   (mean and std of the gaps between purchase days, days since last over
//   the mean gap), purchase rate per 30 days, product mix (distinct products,
//   share of the most bought product), BG/NBD P(alive) and expected
//   purchase days in the next window (clv.h, fitted in weeks on every
//   customer's rows before C; missing if the fit fails), for each OTHER activity type of the
//   log (log.other_*) its count in the last window, its count overall and the
//   days since its last occurrence, the amount of its last occurrence (a
//   review's rating when the activity's amount is the rating; added by the
//   lead so a bad review is visible as such), and the static profile features.
//   "Purchase day" = a day with at least one transaction (invoice lines of
//   one basket count once).
// - Labels at C: churned = no transaction in [C, C + H) where H = churn_days
//   (0: window_days), for the customers with at least one transaction before
//   C (only they are rows).
// - Training at as_of A: hold-back evaluation fits on cut-off C0 = A - 2H
//   (labels from [C0, C0 + H)) and evaluates on C1 = A - H (features < C1,
//   labels [C1, A)); the model that scores at A is then refitted on C1.
//   Data with fewer than two horizons of history before A is a
//   FailedPrecondition ("needs at least two windows of history").
// - Leakage guard for static features (values known only "now", which may
//   encode the outcome): a static feature whose AUC alone against the
//   training labels (at C0 or at C1) is > 0.97 or < 0.03 is dropped and
//   reported with the reason "looks like the label".
//
// Baseline and grade (Dynamics 365 Customer Insights' rule for transactional
// churn): the baseline is the best recency rule "churn when days since the
// last purchase > D", D taken from window, window/2, window/4, ... while
// D >= 30 (halving the window until a month), picked by accuracy on the
// TRAINING cut-off C0 (never on the evaluation data), then applied at C1.
// Grade A when the model's overall accuracy at the threshold is >= 50% and
// its churn-class accuracy is >= 10% (relative) above the baseline's; B when
// above by 0-10%; C otherwise. "Churn-class accuracy" is D365's "percentage
// of accurate predictions for customers who churned", read literally: of the
// customers who churned, the share the model predicted to churn (RECALL of
// the churn class). A recency rule is precise but late (it flags only those
// already gone for D days); the model earns its grade by finding churners
// the rule misses. The same figure grades subscription churn, whose baseline
// (churn flagged at random at the historical churn rate r) has recall r.
// For transactional churn the model's recall is taken at the larger of the
// two coverages: when the threshold flags fewer customers than the rule, the
// model flags as many (its highest scores) as the rule does. Recall at a
// smaller coverage does not compare (a rule that flags everyone has recall
// 1), and the threshold of 0.5 flags fewer customers than the rule whenever
// churners are the minority. (Changed by
// the lead after the demo's first evaluation showed a model with the better
// AUC and accuracy graded C only because it flagged fewer customers; the
// figure at the threshold is still reported as churn_class_accuracy.)
//
// Model settings, chosen before any evaluation score was looked at: the
// BoosterParams defaults (200 rounds, depth 4, eta 0.05, subsample and
// colsample 0.8: the usual conservative XGBoost starting point for tabular
// data of thousands of rows), threshold 0.5 (the product's IsChurn), 3 top
// factors, the guard's 0.97 AUC. Nothing is tuned on the held-back period.
// One feature came after a score was seen: BG/NBD's expected purchase days
// was added after the first Online Retail run (held-back AUC 0.722 without
// it, 0.723 with it); no hyper-parameter or threshold changed after any run.
//
// References: Chen & Guestrin 2016 (XGBoost); Lundberg et al. 2018
// (TreeSHAP, the per-customer factors); Fader, Hardie & Lee 2005 (BG/NBD
// P(alive), one of the features, via clv.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "predict/booster.h"
#include "predict/grade.h"
#include "predict/metrics.h"
#include "predict/transaction_log.h"

namespace cdp {

// Profile fields known "now", one column per feature: columns[i][customer]
// (customer = the log's index), NaN = missing. The caller encodes text.
struct StaticFeatures {
  std::vector<std::string> names;
  std::vector<std::vector<float>> columns;
};

struct ChurnOptions {
  int32_t window_days = 90;  // feature window (last window vs the one before) and default horizon, 7..3650
  int32_t churn_days = 0;    // churn = no transaction for this many days after the cut-off; 0 = window_days
  BoosterParams booster;
  int top_factors = 3;     // 0..20
  double threshold = 0.5;  // IsChurn when probability >= threshold, (0, 1)
};
// InvalidArgument naming the first option out of range.
Status ValidateChurnOptions(const ChurnOptions& options);

struct ChurnFactor {
  std::string feature;  // human-readable ("days since last purchase")
  float contribution;   // log-odds pushed towards churn
};

struct ChurnScore {
  bool scored = false;  // false: no history before the scoring day
  float probability = 0;
  bool is_churn = false;
  std::vector<ChurnFactor> top;  // largest positive contributions, at most top_factors
};

struct DroppedFeature {
  std::string feature;
  std::string reason;
};

struct FeatureImportance {
  std::string feature;
  double total_gain;
};

// The hold-back evaluation, what the predictions page shows.
struct ChurnEvaluation {
  std::string kind;                 // "transactional" or "subscription"
  int32_t fit_cutoff = 0;           // C0
  int32_t evaluation_cutoff = 0;    // C1
  int32_t as_of = 0;                // A
  int32_t horizon_days = 0;         // H
  int64_t training_rows = 0;        // rows at C0
  int64_t evaluation_rows = 0;      // rows at C1
  int64_t final_training_rows = 0;  // rows of the refit at C1
  double base_rate = 0;             // churn rate of the evaluation rows
  double training_base_rate = 0;    // churn rate at C0 (the "historical churn rate")
  double auc = 0;
  double accuracy = 0;
  Confusion confusion;              // model at the threshold on the evaluation rows
  double churn_class_accuracy = 0;  // recall of the churn class at the threshold (see the header)
  double churn_class_accuracy_at_baseline_coverage = -1;  // transactional: the graded figure; -1 = not computed
  // Baseline: transactional: recency rule (baseline_days > 0); subscription:
  // the historical churn rate (baseline_days = 0).
  std::string baseline_name;
  int32_t baseline_days = 0;
  double baseline_accuracy = 0;
  double baseline_churn_class_accuracy = 0;
  double baseline_auc = 0;  // of the baseline's score (days since last purchase; constant for the rate)
  ModelGrade grade = ModelGrade::kC;
  std::string grade_reason;
  std::vector<HistogramBin> histogram;
  std::vector<LiftPoint> lift;
  std::vector<CalibrationBin> calibration;
  std::vector<FeatureImportance> importance;  // of the final model, highest first
  std::vector<DroppedFeature> dropped;

  nlohmann::ordered_json ToJson() const;
};

struct ChurnModel {
  std::string kind = "transactional";  // or "subscription"
  Booster booster;
  std::vector<std::string> feature_names;  // the booster's columns, in order
  ChurnOptions options;  // for subscription models: window, booster, top factors, threshold
  int32_t renewal_days = 0;  // subscription models only
  ChurnEvaluation evaluation;
  // The held-back evaluation rows' scores (set by training, never saved).
  std::vector<float> held_back_scores;

  // {"kind":"churn","version":1,"churn_kind":..,"feature_names":[..],"options":{..},"evaluation":{..},
  //  "booster":<XGBoost model JSON>}
  std::string ToJson() const;
  // Size (Booster::kMaxModelBytes) and depth (64) limits; InvalidArgument
  // naming what is missing or malformed.
  static StatusOr<ChurnModel> FromJson(std::string_view json);
};

// Trains at as_of (see the header). InvalidArgument: bad options, static
// columns whose length differs from the log's customers, duplicate feature
// names; FailedPrecondition: too little history, a training cut-off with no
// customer or only one class of label.
StatusOr<ChurnModel> TrainTransactionalChurn(const TransactionLog& log, const StaticFeatures& profile, int32_t as_of_day,
                                             const ChurnOptions& options);

// One score per customer of the log: features at as_of_day (rows < as_of),
// customers without a transaction before it are not scored. InvalidArgument
// when the model is not a transactional one or the profile misses a static
// feature the model uses (other-activity types the log does not have are
// missing values).
StatusOr<std::vector<ChurnScore>> ScoreTransactionalChurn(const ChurnModel& model, const TransactionLog& log,
                                                          const StaticFeatures& profile, int32_t as_of_day);

// ---------------------------------------------------------------------------
// Building blocks, shared with subscription_churn.cc and the benchmarks.

// The history features of `rows` (customer indexes) at cut-off `cutoff`
// (rows with day < cutoff), window = the trend window, then the profile's
// columns. InvalidArgument for a profile column of the wrong length or a
// name used twice.
StatusOr<FeatureMatrix> BuildChurnFeatures(const TransactionLog& log, const StaticFeatures& profile,
                                           std::span<const int64_t> rows, int32_t cutoff, int32_t window_days);

// Customers with at least one transaction before `cutoff`.
std::vector<int64_t> CustomersWithHistory(const TransactionLog& log, int32_t cutoff);

// 1 when the customer has no transaction in [cutoff, cutoff + horizon_days).
std::vector<uint8_t> TransactionalChurnLabels(const TransactionLog& log, std::span<const int64_t> rows, int32_t cutoff,
                                              int32_t horizon_days);

// The columns of `x` named `names`, in that order; a name `x` lacks becomes a
// column of NaN.
FeatureMatrix SelectFeatures(const FeatureMatrix& x, const std::vector<std::string>& names);

// Shared by the two churn kinds: features and 0/1 labels of one cut-off.
struct ChurnSplit {
  std::vector<int64_t> customers;  // the rows' customer indexes
  FeatureMatrix x;
  std::vector<uint8_t> y;
};
// The leakage guard over `static_names`, the fit on `fit` (C0), the
// evaluation on `evaluation` (C1: every figure of ChurnEvaluation but the
// baseline and the grade) and the refit on `evaluation` for scoring. The
// returned model has booster, feature_names and evaluation set.
// FailedPrecondition when a split has no rows or one class only.
StatusOr<ChurnModel> FitChurnWithHoldBack(const ChurnSplit& fit, const ChurnSplit& evaluation,
                                          const std::vector<std::string>& static_names, const BoosterParams& params,
                                          double threshold);
// Scores: features `x` (all columns, rows = `customers`) mapped onto the
// model's columns; customers of 0..num_customers-1 not in `customers` are
// not scored.
StatusOr<std::vector<ChurnScore>> ScoreChurnRows(const ChurnModel& model, const FeatureMatrix& x,
                                                 std::span<const int64_t> customers, int64_t num_customers);

}  // namespace cdp
