// Customer lifetime value from a TransactionLog: the BG/NBD model of repeat
// purchasing (how many transactions a customer will make, and P(alive)), the
// Gamma-Gamma model of spend per transaction, their product as CLV over a
// horizon, a high-value flag, and a hold-back evaluation graded against the
// baseline Dynamics 365 Customer Insights uses. Pure functions; thread-safe.
//
// References:
// - P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "Counting Your Customers"
//   the Easy Way: An Alternative to the Pareto/NBD Model. Marketing Science
//   24(2): likelihood (eq. 6), E[X(t)] (eq. 7), E[Y(t) | x, t_x, T] (eq. 10).
// - B. G. S. Hardie, "Implementing the BG/NBD Model ..." and note 027 ("A
//   Numerically Stable Form of the BG/NBD Likelihood"): the per-customer log
//   likelihood as A1 + A2 + log(exp(A3) + [x > 0] exp(A4)), evaluated with a
//   log-sum-exp so nothing overflows for large x or T.
// - P. S. Fader, B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary
//   Value": the likelihood of a customer's mean repeat spend and
//   E[M | p, q, gamma, x, mbar].
//
// Numerics. Likelihoods use lgamma differences written as sums over the
// integer frequency x (tabulated once per evaluation for x = 0..max x), so a
// 1M-customer evaluation costs a few logarithms per customer. The Gaussian
// hypergeometric function in E[Y(t)] and E[X(t)] is never summed in its raw
// form 2F1(r+x, b+x; a+b+x-1; z), whose terms grow with x and whose series
// converges slowly near z = 1; Euler's transformation turns
// ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) into
// (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose numerator parameters do
// not grow with x, and the division by (a - 1) is carried out inside the
// series ((F - 1) / (a - 1) and expm1), so a = 1 is not a singular point.
// When that series is ill-conditioned (parameters at the bounds of a
// degenerate fit: terms that overflow, or alternate with a large r), the same
// expectation is integrated over the dropout probability's Beta posterior
// instead (tanh-sinh quadrature in log space).
//
// Optimizer: NLopt's LD_LBFGS with analytic gradients (digamma sums from the
// same tables), on log parameters with bounds [1e-6, 1e8] (the parameters
// are positive; Gamma-Gamma's q is bounded below by 1 + 1e-6 because the mean
// spend p*gamma/(q-1) does not exist for q <= 1). Chosen over the
// derivative-free LN_BOBYQA/LN_SBPLX because the gradient is cheap here (the
// same pass as the likelihood) and L-BFGS needs ~30-60 evaluations where the
// derivative-free methods need hundreds, which matters on 1M customers. The
// objective is the mean log-likelihood (tolerances independent of the number
// of customers); when L-BFGS stops on round-off the best point it saw is
// kept, and if it fails otherwise LN_SBPLX continues from that point.
//
// Settings chosen before any score was looked at: the optimizer's start (r =
// a = b = 1, alpha = mean T; Gamma-Gamma p = 1, q = 2, gamma = mean spend),
// tolerances (relative 1e-12 on the objective, 1e-10 on the parameters), the
// CLV grade rule (the 5%), the high-value share (80%, the product's
// default), and the evaluation's fairness rule (model and baseline each pick
// as many customers as the hold-back period's actual high-value set).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "predict/grade.h"
#include "predict/transaction_log.h"

namespace cdp {

// ---------------------------------------------------------------------------
// RFM summary: one entry per customer of the log.
struct RfmSummary {
  std::vector<uint8_t> included;  // 1 when the customer has a transaction before end_day
  std::vector<double> frequency;  // x: repeat transaction DAYS (same-day transactions are one, amounts summed)
  std::vector<double> recency;    // t_x: first to last transaction, in units
  std::vector<double> age;        // T: first transaction to the last day of the period (end_day - 1), in units
  std::vector<double> monetary;   // mean value of the repeat transaction days (0 when x = 0)
  // The first transaction day of each included customer (0 otherwise): the
  // cohort of the holdout's cumulative forecast.
  std::vector<int32_t> first_day;

  size_t size() const { return included.size(); }
};

// Summarizes the rows with day < end_day. Age T is measured to the last day of
// the period (end_day - 1), as in lifetimes' summary_data_from_transaction_data
// and Hardie's CDNOW summary: a customer first seen on the last day has T = 0.
// A day's amount is the sum of its known (non-NaN) amounts; `monetary` is the
// mean over the repeat days with a known amount. unit_days must be positive
// and finite (InvalidArgument otherwise).
StatusOr<RfmSummary> SummarizeRfmChecked(const TransactionLog& log, int32_t end_day, double unit_days = 7.0);
// The same; unit_days <= 0 or non-finite is taken as 7 (the lead's call site
// validates options first).
RfmSummary SummarizeRfm(const TransactionLog& log, int32_t end_day, double unit_days = 7.0);

// ---------------------------------------------------------------------------
// BG/NBD.
struct BgNbdParams {
  double r = 0, alpha = 0, a = 0, b = 0;
  double log_likelihood = 0;  // sum over the included customers
  int evaluations = 0;        // likelihood evaluations the optimizer used
};

// Maximum likelihood over the included customers. InvalidArgument when the
// summary's vectors differ in length, or an included customer has a negative
// or non-integer x, t_x outside [0, T], or a non-finite value;
// FailedPrecondition when no customer is included or none has a repeat
// transaction (the model is not identified).
StatusOr<BgNbdParams> FitBgNbd(const RfmSummary& rfm);

// The log-likelihood of the included customers at `p` (r, alpha, a, b read).
double BgNbdLogLikelihood(const BgNbdParams& p, const RfmSummary& rfm);

// E[Y(t) | x, t_x, T]: expected transactions in the next t units.
double BgNbdExpectedTransactions(const BgNbdParams& p, double t, double x, double t_x, double T);
// P(alive | x, t_x, T); 1 when x = 0.
double BgNbdProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T);
// E[X(t)]: expected repeat transactions of a customer in the first t units
// after the first purchase (the paper's cumulative tracking forecast).
double BgNbdExpectedTransactionsNew(const BgNbdParams& p, double t);

// ---------------------------------------------------------------------------
// Gamma-Gamma.
struct GammaGammaParams {
  double p = 0, q = 0, gamma = 0;
  double log_likelihood = 0;  // sum over the customers used
  int evaluations = 0;
  int64_t customers = 0;  // customers with x > 0 and monetary > 0 (those used)
};

// Maximum likelihood over the included customers with x > 0 and monetary > 0.
// FailedPrecondition with fewer than 2 such customers; InvalidArgument as in
// FitBgNbd for malformed input.
StatusOr<GammaGammaParams> FitGammaGamma(const RfmSummary& rfm);
double GammaGammaLogLikelihood(const GammaGammaParams& p, const RfmSummary& rfm);
// E[M | x, mbar]; with x = 0 the population mean p * gamma / (q - 1).
double GammaGammaExpectedSpend(const GammaGammaParams& p, double x, double mbar);

// ---------------------------------------------------------------------------
// CLV.
struct ClvOptions {
  int32_t horizon_days = 365;         // prediction period, 1..3650
  double unit_days = 7;               // time unit of the fit (weeks), (0, 366]
  double annual_discount_rate = 0.0;  // [0, 10); monthly steps are discounted at (1+d)^(1/12) - 1
  double high_value_share = 0.8;      // high value = customers making up this share of predicted value, (0, 1]
  double high_value_top_percent = 0;  // when > 0 (<= 100): the top N% by predicted value instead
};
// InvalidArgument naming the first option out of range.
Status ValidateClvOptions(const ClvOptions& options);

struct ClvModel {
  BgNbdParams bgnbd;
  GammaGammaParams gamma_gamma;
  int32_t fitted_at_day = 0;  // the cut-off of the fit: rows with day < fitted_at_day
  double unit_days = 7;       // the time unit of the parameters

  // {"kind":"clv","version":1,"fitted_at_day":..,"unit_days":..,"bgnbd":{..},"gamma_gamma":{..}}
  std::string ToJson() const;
  // Refuses text over 64 KiB, nesting deeper than 8, duplicate or unknown
  // keys, missing fields, and parameters that are not finite or outside the
  // fit's bounds (InvalidArgument naming the field).
  static StatusOr<ClvModel> FromJson(std::string_view json);
};

// Fits BG/NBD and Gamma-Gamma on the rows with day < as_of_day.
StatusOr<ClvModel> FitClv(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options);

struct ClvCustomerPrediction {
  bool scored = false;  // false: no transaction before as_of_day (everything else 0)
  double expected_transactions = 0;  // E[Y(horizon)]
  double expected_spend = 0;         // Gamma-Gamma E[M] per transaction
  double probability_alive = 0;
  double clv = 0;  // expected value over the horizon, discounted monthly when a rate is set
  bool high_value = false;
};

// Scores every customer of `log` on the rows with day < as_of_day, in the
// model's time unit (options.unit_days is not used here). The high-value flag
// follows options.high_value_top_percent when > 0, otherwise
// options.high_value_share (the fewest customers, by descending CLV, whose
// CLV sums to at least that share of the total; ties by customer index).
StatusOr<std::vector<ClvCustomerPrediction>> PredictClv(const ClvModel& model, const TransactionLog& log,
                                                        int32_t as_of_day, const ClvOptions& options);

// Customers flagged high value by the rule above for the given values (only
// where eligible[i]); the result has values.size() entries.
std::vector<uint8_t> FlagHighValue(const std::vector<double>& values, const std::vector<uint8_t>& eligible,
                                   const ClvOptions& options);

// ---------------------------------------------------------------------------
// Hold-back evaluation.
struct ClvDecile {
  int decile = 0;  // 1 = highest predicted value
  int64_t customers = 0;
  double mean_predicted = 0;
  double mean_actual = 0;
};
struct ClvHoldoutPoint {
  double units = 0;  // time since the cut-off, in units
  double forecast_cumulative = 0;  // sum over customers of E[Y(units)]
  double actual_cumulative = 0;    // transaction days in [cutoff, cutoff + units)
};
struct ClvEvaluation {
  int32_t as_of_day = 0;
  int32_t cutoff_day = 0;  // as_of_day - horizon_days: the fit reads rows before it
  int32_t horizon_days = 0;
  ClvModel model;
  int64_t customers_evaluated = 0;   // customers with a transaction before the cut-off
  int64_t actual_high_value = 0;     // customers making up high_value_share of actual value (or top N%)
  int64_t model_found = 0;           // of them, among the model's top actual_high_value by predicted CLV
  int64_t baseline_found = 0;        // of them, among the baseline's top actual_high_value
  double model_found_share = 0;      // model_found / actual_high_value
  double baseline_found_share = 0;
  double relative_to_baseline = 0;   // model_found / baseline_found - 1
  ModelGrade grade = ModelGrade::kC;
  double retention = 0;              // baseline's retention rate
  double months = 0;                 // horizon in months (30.4375 days)
  double total_predicted = 0, total_actual = 0, total_baseline = 0;
  double correlation = 0, mae = 0;   // predicted CLV vs actual value, per customer
  double baseline_correlation = 0, baseline_mae = 0;
  std::vector<ClvDecile> deciles;
  std::vector<ClvHoldoutPoint> holdout;  // one point per unit up to the horizon (the last may be partial)
  // Per evaluated customer (not in ToJson): the log's customer index, the
  // model's predicted CLV, the actual value in the hold-back period and the
  // baseline's value; boosted_clv.h compares its model on the same customers.
  std::vector<int64_t> customer_index;
  std::vector<double> predicted_values, actual_values, baseline_values;

  nlohmann::ordered_json ToJson() const;
};

// Fits at cutoff = as_of_day - horizon_days on rows before it; compares the
// predictions with the actual value (known amounts) in [cutoff, as_of_day).
// Baseline per customer: average monthly purchase value before the cut-off
// (total / months since the first purchase, at least one month) x months of
// the horizon x retention, retention = the share of the customers who bought
// in [cutoff - 2H, cutoff - H) that bought again in [cutoff - H, cutoff)
// (1 when no customer bought in the earlier period). Both sides pick the
// same number of customers (the size of the actual high-value set) and are
// scored on how many actual high-value customers they find; grade A when
// the model finds >= 5% more than the baseline, B when more, C otherwise.
// InvalidArgument for bad options; FailedPrecondition when the cut-off leaves
// no data to fit, or the hold-back period has no value.
StatusOr<ClvEvaluation> EvaluateClv(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options);

// How many of the flagged `actual_high_value` customers are among the k
// largest `predicted` values (ties by index): the CLV grade's count.
int64_t HighValueFound(const std::vector<double>& predicted, const std::vector<uint8_t>& actual_high_value, size_t k);

// Internals exposed for tests: E[Y(t)] / P(alive) by the Euler-transformed
// 2F1 series (z = t/(alpha+T+t); *ok false when ill-conditioned) and by
// quadrature over the dropout probability (u = t/(alpha+T)). Public
// functions use the series and fall back to the quadrature.
namespace clv_internal {
double ConditionalSeries(double r, double a, double b, double x, double z, double log_one_minus_z, bool* ok);
double ConditionalQuadrature(double r, double a, double b, double x, double u);
}  // namespace clv_internal

}  // namespace cdp
