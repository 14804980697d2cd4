#include "predict/churn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/datetime.h"
#include "common/json_scan.h"
#include "common/parallel.h"
#include "common/text.h"
#include "predict/clv.h"
#include "predict/tree_shap.h"

namespace cdp {
namespace {

constexpr double kLeakageAuc = 0.97;


// Index of the first row in [begin, end) of `days` with day >= value.
int64_t LowerBound(const std::vector<int32_t>& days, int64_t begin, int64_t end, int32_t value) {
  return std::lower_bound(days.begin() + begin, days.begin() + end, value) - days.begin();
}

constexpr int kHistoryFeatures = 18;
// Per other-activity type: count in the last window, all-time count, days since the last one, the last one's amount.
constexpr int kOtherFeatures = 4;

std::vector<std::string> HistoryFeatureNames(int32_t w) {
  std::string ws = std::to_string(w);
  return {"days since last purchase",
          "purchase days",
          "transactions",
          "total spend",
          "spend per purchase day",
          "tenure (days since first purchase)",
          "purchase days in the last " + ws + " days",
          "purchase days in the " + ws + " days before",
          "spend in the last " + ws + " days",
          "spend in the " + ws + " days before",
          "mean days between purchases",
          "std of days between purchases",
          "days since last purchase / mean gap",
          "purchase days per 30 days",
          "distinct products",
          "top product share",
          "P(alive) (BG/NBD)",
          "expected purchase days in the next " + ws + " days (BG/NBD)"};
}

}  // namespace

Status ValidateChurnOptions(const ChurnOptions& o) {
  if (o.window_days < 7 || o.window_days > 3650) {
    return InvalidArgumentError("window_days = " + std::to_string(o.window_days) + ": must be 7..3650");
  }
  if (o.churn_days != 0 && (o.churn_days < 7 || o.churn_days > 3650)) {
    return InvalidArgumentError("churn_days = " + std::to_string(o.churn_days) + ": must be 0 (the window) or 7..3650");
  }
  if (o.top_factors < 0 || o.top_factors > 20) {
    return InvalidArgumentError("top_factors = " + std::to_string(o.top_factors) + ": must be 0..20");
  }
  if (!(o.threshold > 0 && o.threshold < 1)) {
    return InvalidArgumentError("threshold = " + FormatFixed(o.threshold, 6) + ": must be in (0, 1)");
  }
  return ValidateBoosterParams(o.booster);
}

std::vector<int64_t> CustomersWithHistory(const TransactionLog& log, int32_t cutoff) {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < log.num_customers(); ++c) {
    int64_t b = log.offsets[c], e = log.offsets[c + 1];
    if (b < e && log.day[b] < cutoff) out.push_back(c);
  }
  return out;
}

std::vector<uint8_t> TransactionalChurnLabels(const TransactionLog& log, std::span<const int64_t> rows, int32_t cutoff,
                                              int32_t horizon_days) {
  std::vector<uint8_t> y(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    int64_t c = rows[i];
    int64_t e = log.offsets[c + 1];
    int64_t k = LowerBound(log.day, log.offsets[c], e, cutoff);
    bool bought = k < e && log.day[k] < cutoff + horizon_days;
    y[i] = bought ? 0 : 1;
  }
  return y;
}

StatusOr<FeatureMatrix> BuildChurnFeatures(const TransactionLog& log, const StaticFeatures& profile,
                                           std::span<const int64_t> rows, int32_t cutoff, int32_t window_days) {
  if (profile.names.size() != profile.columns.size()) {
    return InvalidArgumentError("profile: " + std::to_string(profile.names.size()) + " names for " +
                                std::to_string(profile.columns.size()) + " columns");
  }
  for (size_t i = 0; i < profile.columns.size(); ++i) {
    if (static_cast<int64_t>(profile.columns[i].size()) != log.num_customers()) {
      return InvalidArgumentError("profile feature '" + profile.names[i] + "': " +
                                  std::to_string(profile.columns[i].size()) + " values for " +
                                  std::to_string(log.num_customers()) + " customers");
    }
  }
  FeatureMatrix x;
  x.names = HistoryFeatureNames(window_days);
  const int64_t types = static_cast<int64_t>(log.other_type_names.size());
  std::string ws = std::to_string(window_days);
  for (const std::string& t : log.other_type_names) {
    x.names.push_back(t + " in the last " + ws + " days");
    x.names.push_back(t + " (all time)");
    x.names.push_back("days since last " + t);
    x.names.push_back("last " + t + " amount");
  }
  for (const std::string& n : profile.names) x.names.push_back(n);
  {
    std::unordered_set<std::string> seen;
    for (const std::string& n : x.names) {
      if (!seen.insert(n).second) {
        return InvalidArgumentError("feature name '" + n + "' is used twice (a profile field named like a history "
                                    "feature or an activity type?)");
      }
    }
  }
  const int64_t cols = x.cols();
  x.rows = static_cast<int64_t>(rows.size());
  x.values.assign(static_cast<size_t>(x.rows * cols), NAN);
  const int32_t w = window_days;
  // BG/NBD fitted on every customer's rows before the cut-off (weeks); P(alive) is missing when the fit fails
  // (e.g. nobody has a repeat purchase).
  RfmSummary rfm = SummarizeRfm(log, cutoff, 7.0);
  StatusOr<BgNbdParams> bgnbd = FitBgNbd(rfm);
  ParallelFor(0, rows.size(), 2048, [&](size_t begin, size_t end, int) {
    std::vector<int32_t> products;
    std::vector<int64_t> type_recent(types), type_all(types);
    std::vector<int32_t> type_last(types);
    std::vector<float> type_last_amount(types);
    const bool other_amounts = log.other_amount.size() == log.other_day.size();
    for (size_t r = begin; r < end; ++r) {
      const int64_t c = rows[r];
      float* out = &x.values[r * cols];
      const int64_t b = log.offsets[c];
      const int64_t e = LowerBound(log.day, b, log.offsets[c + 1], cutoff);
      if (b < e) {
        int64_t purchase_days = 0, recent_days = 0, previous_days = 0;
        double total = 0, recent_spend = 0, previous_spend = 0;
        bool any_amount = false;
        double gap_sum = 0, gap_sq = 0;
        int64_t gaps = 0;
        int32_t previous_day = 0;
        products.clear();
        for (int64_t k = b; k < e; ++k) {
          const int32_t d = log.day[k];
          const bool new_day = k == b || d != previous_day;
          if (new_day) {
            if (k != b) {
              double g = d - previous_day;
              gap_sum += g;
              gap_sq += g * g;
              ++gaps;
            }
            ++purchase_days;
            if (d >= cutoff - w) ++recent_days;
            else if (d >= cutoff - 2 * w) ++previous_days;
            previous_day = d;
          }
          const double a = log.amount[k];
          if (!std::isnan(a)) {
            any_amount = true;
            total += a;
            if (d >= cutoff - w) recent_spend += a;
            else if (d >= cutoff - 2 * w) previous_spend += a;
          }
          if (log.product[k] >= 0) products.push_back(log.product[k]);
        }
        const int32_t first = log.day[b], last = log.day[e - 1];
        const double recency = cutoff - last;
        const double tenure = cutoff - first;
        out[0] = static_cast<float>(recency);
        out[1] = static_cast<float>(purchase_days);
        out[2] = static_cast<float>(e - b);
        out[3] = any_amount ? static_cast<float>(total) : NAN;
        out[4] = any_amount ? static_cast<float>(total / purchase_days) : NAN;
        out[5] = static_cast<float>(tenure);
        out[6] = static_cast<float>(recent_days);
        out[7] = static_cast<float>(previous_days);
        out[8] = any_amount ? static_cast<float>(recent_spend) : NAN;
        out[9] = any_amount ? static_cast<float>(previous_spend) : NAN;
        if (gaps > 0) {
          double mean = gap_sum / gaps;
          out[10] = static_cast<float>(mean);
          out[12] = static_cast<float>(recency / mean);
          if (gaps > 1) out[11] = static_cast<float>(std::sqrt(std::max(0.0, gap_sq / gaps - mean * mean)));
        }
        out[13] = static_cast<float>(30.0 * purchase_days / std::max(1.0, tenure));
        if (!products.empty()) {
          std::sort(products.begin(), products.end());
          int64_t distinct = 0, best = 0;
          for (size_t i = 0; i < products.size();) {
            size_t j = i;
            while (j < products.size() && products[j] == products[i]) ++j;
            ++distinct;
            best = std::max<int64_t>(best, static_cast<int64_t>(j - i));
            i = j;
          }
          out[14] = static_cast<float>(distinct);
          out[15] = static_cast<float>(static_cast<double>(best) / static_cast<double>(products.size()));
        } else {
          out[14] = 0;
        }
        if (bgnbd.ok() && rfm.included[c]) {
          out[16] = static_cast<float>(BgNbdProbabilityAlive(*bgnbd, rfm.frequency[c], rfm.recency[c], rfm.age[c]));
          out[17] = static_cast<float>(
              BgNbdExpectedTransactions(*bgnbd, w / 7.0, rfm.frequency[c], rfm.recency[c], rfm.age[c]));
        }
      }
      if (types > 0) {
        std::fill(type_recent.begin(), type_recent.end(), 0);
        std::fill(type_all.begin(), type_all.end(), 0);
        std::fill(type_last.begin(), type_last.end(), INT32_MIN);
        std::fill(type_last_amount.begin(), type_last_amount.end(), NAN);
        const int64_t ob = log.other_offsets[c];
        const int64_t oe = LowerBound(log.other_day, ob, log.other_offsets[c + 1], cutoff);
        for (int64_t k = ob; k < oe; ++k) {
          const int32_t t = log.other_type[k];
          if (t < 0 || t >= types) continue;
          ++type_all[t];
          if (log.other_day[k] >= cutoff - w) ++type_recent[t];
          if (log.other_day[k] >= type_last[t]) {  // rows are by day: the latest wins
            type_last[t] = log.other_day[k];
            if (other_amounts && !std::isnan(log.other_amount[k])) {
              type_last_amount[t] = static_cast<float>(log.other_amount[k]);
            } else {
              type_last_amount[t] = NAN;
            }
          }
        }
        for (int64_t t = 0; t < types; ++t) {
          float* o = out + kHistoryFeatures + kOtherFeatures * t;
          o[0] = static_cast<float>(type_recent[t]);
          o[1] = static_cast<float>(type_all[t]);
          o[2] = type_last[t] == INT32_MIN ? NAN : static_cast<float>(cutoff - type_last[t]);
          o[3] = type_last_amount[t];
        }
      }
      float* s = out + kHistoryFeatures + kOtherFeatures * types;
      for (size_t i = 0; i < profile.columns.size(); ++i) s[i] = profile.columns[i][c];
    }
  });
  return x;
}

FeatureMatrix SelectFeatures(const FeatureMatrix& x, const std::vector<std::string>& names) {
  std::vector<int64_t> source(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = std::find(x.names.begin(), x.names.end(), names[i]);
    if (it != x.names.end()) source[i] = it - x.names.begin();
  }
  FeatureMatrix out;
  out.names = names;
  out.rows = x.rows;
  out.values.resize(static_cast<size_t>(x.rows) * names.size());
  const int64_t in_cols = x.cols(), out_cols = out.cols();
  for (int64_t r = 0; r < x.rows; ++r) {
    for (int64_t j = 0; j < out_cols; ++j) {
      out.values[r * out_cols + j] = source[j] < 0 ? NAN : x.values[r * in_cols + source[j]];
    }
  }
  return out;
}

namespace {

Status CheckSplit(const ChurnSplit& s, const char* what) {
  if (s.x.rows == 0) return FailedPreconditionError(std::string("no customer with history at the ") + what);
  int64_t pos = std::count(s.y.begin(), s.y.end(), 1);
  if (pos == 0 || pos == static_cast<int64_t>(s.y.size())) {
    return FailedPreconditionError(std::string("every customer at the ") + what + " has the same label (" +
                                   (pos == 0 ? "none churned" : "all churned") +
                                   "): nothing to learn; a longer history or another window is needed");
  }
  return Status::Ok();
}

double ColumnAuc(const FeatureMatrix& x, int64_t col, const std::vector<uint8_t>& y) {
  std::vector<float> v(static_cast<size_t>(x.rows));
  for (int64_t r = 0; r < x.rows; ++r) v[r] = x.at(r, col);
  return Auc(v, y);
}

std::vector<float> AsFloat(const std::vector<uint8_t>& y) { return std::vector<float>(y.begin(), y.end()); }

}  // namespace

StatusOr<ChurnModel> FitChurnWithHoldBack(const ChurnSplit& fit, const ChurnSplit& evaluation,
                                          const std::vector<std::string>& static_names, const BoosterParams& params,
                                          double threshold) {
  CDP_RETURN_IF_ERROR(CheckSplit(fit, "training cut-off"));
  CDP_RETURN_IF_ERROR(CheckSplit(evaluation, "evaluation cut-off"));
  ChurnModel model;
  ChurnEvaluation& ev = model.evaluation;
  // Leakage guard.
  std::unordered_set<std::string> dropped;
  for (const std::string& name : static_names) {
    auto it = std::find(fit.x.names.begin(), fit.x.names.end(), name);
    if (it == fit.x.names.end()) continue;
    int64_t col = it - fit.x.names.begin();
    double auc_fit = ColumnAuc(fit.x, col, fit.y), auc_eval = ColumnAuc(evaluation.x, col, evaluation.y);
    for (auto [auc, where] : {std::pair{auc_fit, "training"}, std::pair{auc_eval, "evaluation"}}) {
      if (auc > kLeakageAuc || auc < 1 - kLeakageAuc) {
        ev.dropped.push_back({name, "looks like the label: alone it has AUC " + FormatFixed(auc) + " on the " + where +
                                        " cut-off's labels (limit " + FormatFixed(kLeakageAuc, 2) +
                                        "); a value known only after the outcome?"});
        dropped.insert(name);
        break;
      }
    }
  }
  for (const std::string& n : fit.x.names) {
    if (!dropped.count(n)) model.feature_names.push_back(n);
  }
  FeatureMatrix fit_x = SelectFeatures(fit.x, model.feature_names);
  FeatureMatrix eval_x = SelectFeatures(evaluation.x, model.feature_names);
  CDP_ASSIGN_OR_RETURN(Booster held_back, Booster::Train(fit_x, AsFloat(fit.y), params));
  CDP_ASSIGN_OR_RETURN(std::vector<float> p, held_back.Predict(eval_x));
  model.held_back_scores = p;
  ev.training_rows = fit.x.rows;
  ev.evaluation_rows = evaluation.x.rows;
  ev.final_training_rows = evaluation.x.rows;
  ev.training_base_rate = std::count(fit.y.begin(), fit.y.end(), 1) / static_cast<double>(fit.y.size());
  ev.base_rate = std::count(evaluation.y.begin(), evaluation.y.end(), 1) / static_cast<double>(evaluation.y.size());
  ev.auc = Auc(p, evaluation.y);
  ev.confusion = ConfusionAt(p, evaluation.y, threshold);
  ev.accuracy = ev.confusion.Accuracy();
  ev.churn_class_accuracy = ev.confusion.Recall();
  ev.histogram = ScoreHistogram(p, evaluation.y, 10);
  ev.lift = LiftGain(p, evaluation.y, 10);
  ev.calibration = Calibration(p, evaluation.y, 10);
  CDP_ASSIGN_OR_RETURN(model.booster, Booster::Train(eval_x, AsFloat(evaluation.y), params));
  CDP_ASSIGN_OR_RETURN(std::vector<double> gain, model.booster.Importance());
  for (size_t i = 0; i < gain.size(); ++i) ev.importance.push_back({model.feature_names[i], gain[i]});
  std::stable_sort(ev.importance.begin(), ev.importance.end(),
                   [](const FeatureImportance& a, const FeatureImportance& b) { return a.total_gain > b.total_gain; });
  return model;
}

StatusOr<std::vector<ChurnScore>> ScoreChurnRows(const ChurnModel& model, const FeatureMatrix& x,
                                                 std::span<const int64_t> customers, int64_t num_customers) {
  // A static feature of the model must be there (other-activity types may be absent: missing values).
  for (const std::string& n : model.feature_names) {
    if (std::find(x.names.begin(), x.names.end(), n) != x.names.end()) continue;
    bool activity = n.find(" in the last ") != std::string::npos || n.ends_with(" (all time)") ||
                    n.starts_with("days since last ") || (n.starts_with("last ") && n.ends_with(" amount"));
    if (!activity) return InvalidArgumentError("the profile has no feature '" + n + "' the model was trained on");
  }
  std::vector<ChurnScore> scores(static_cast<size_t>(num_customers));
  if (customers.empty()) return scores;
  FeatureMatrix m = SelectFeatures(x, model.feature_names);
  CDP_ASSIGN_OR_RETURN(std::vector<float> p, model.booster.Predict(m));
  std::vector<float> contrib;
  const int64_t k = model.options.top_factors;
  if (k > 0) {
    // Exact TreeSHAP from per-leaf tables (tree_shap.h), XGBoost's own walk
    // only for models the tables do not cover (deep paths).
    StatusOr<TreeShap> shap = TreeShap::Build(model.booster);
    if (shap.ok()) {
      CDP_ASSIGN_OR_RETURN(contrib, shap->Contributions(m, model.options.booster.threads));
    } else if (shap.status().code() == StatusCode::kFailedPrecondition) {
      CDP_ASSIGN_OR_RETURN(contrib, model.booster.Contributions(m));
    } else {
      return shap.status();
    }
  }
  const int64_t width = m.cols() + 1;
  std::vector<int64_t> order;
  for (size_t r = 0; r < customers.size(); ++r) {
    ChurnScore& s = scores[static_cast<size_t>(customers[r])];
    s.scored = true;
    s.probability = p[r];
    s.is_churn = p[r] >= model.options.threshold;
    if (k == 0) continue;
    const float* row = &contrib[r * width];
    order.clear();
    for (int64_t j = 0; j < m.cols(); ++j) {
      if (row[j] > 0) order.push_back(j);
    }
    auto by = [&](int64_t a, int64_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; };
    int64_t take = std::min<int64_t>(k, static_cast<int64_t>(order.size()));
    std::partial_sort(order.begin(), order.begin() + take, order.end(), by);
    for (int64_t i = 0; i < take; ++i) s.top.push_back({model.feature_names[order[i]], row[order[i]]});
  }
  return scores;
}

namespace {

// The recency rule's days: window, window/2, ... while >= 30 (the window itself when it is shorter).
std::vector<int32_t> RecencyRuleDays(int32_t window) {
  std::vector<int32_t> out{window};
  for (int32_t d = window / 2; d >= 30; d /= 2) out.push_back(d);
  return out;
}

std::vector<uint8_t> RecencyRule(const FeatureMatrix& x, int32_t days) {
  std::vector<uint8_t> out(static_cast<size_t>(x.rows));
  for (int64_t r = 0; r < x.rows; ++r) out[r] = x.at(r, 0) > static_cast<float>(days) ? 1 : 0;
  return out;
}

std::vector<float> Column(const FeatureMatrix& x, int64_t col) {
  std::vector<float> v(static_cast<size_t>(x.rows));
  for (int64_t r = 0; r < x.rows; ++r) v[r] = x.at(r, col);
  return v;
}

}  // namespace

StatusOr<ChurnModel> TrainTransactionalChurn(const TransactionLog& log, const StaticFeatures& profile, int32_t as_of_day,
                                             const ChurnOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateChurnOptions(options));
  const int32_t h = options.churn_days > 0 ? options.churn_days : options.window_days;
  const int32_t c1 = as_of_day - h, c0 = as_of_day - 2 * h;
  if (log.num_transactions() == 0 || log.first_day() >= c0) {
    return FailedPreconditionError("transactional churn needs at least two windows of history: the first transaction (" +
                                   (log.num_transactions() ? FormatDate(log.first_day()) : std::string("none")) +
                                   ") must be before " + FormatDate(c0) + " (as of " + FormatDate(as_of_day) + " minus 2 x " +
                                   std::to_string(h) + " days)");
  }
  ChurnSplit fit, evaluation;
  fit.customers = CustomersWithHistory(log, c0);
  evaluation.customers = CustomersWithHistory(log, c1);
  CDP_ASSIGN_OR_RETURN(fit.x, BuildChurnFeatures(log, profile, fit.customers, c0, options.window_days));
  CDP_ASSIGN_OR_RETURN(evaluation.x, BuildChurnFeatures(log, profile, evaluation.customers, c1, options.window_days));
  fit.y = TransactionalChurnLabels(log, fit.customers, c0, h);
  evaluation.y = TransactionalChurnLabels(log, evaluation.customers, c1, h);
  CDP_ASSIGN_OR_RETURN(ChurnModel model,
                       FitChurnWithHoldBack(fit, evaluation, profile.names, options.booster, options.threshold));
  model.kind = "transactional";
  model.options = options;
  ChurnEvaluation& ev = model.evaluation;
  ev.kind = "transactional";
  ev.fit_cutoff = c0;
  ev.evaluation_cutoff = c1;
  ev.as_of = as_of_day;
  ev.horizon_days = h;
  // Baseline: the recency rule picked on the training cut-off.
  double best_accuracy = -1;
  for (int32_t d : RecencyRuleDays(options.window_days)) {
    double a = ConfusionOf(RecencyRule(fit.x, d), fit.y).Accuracy();
    if (a > best_accuracy) {
      best_accuracy = a;
      ev.baseline_days = d;
    }
  }
  Confusion base = ConfusionOf(RecencyRule(evaluation.x, ev.baseline_days), evaluation.y);
  ev.baseline_name = "recency rule: churn when days since last purchase > " + std::to_string(ev.baseline_days) +
                     " (picked on the training cut-off)";
  ev.baseline_accuracy = base.Accuracy();
  ev.baseline_churn_class_accuracy = base.Recall();
  ev.baseline_auc = Auc(Column(evaluation.x, 0), evaluation.y);
  if (ev.accuracy < 0.5) {
    ev.grade = ModelGrade::kC;
    ev.grade_reason = "overall accuracy " + FormatFixed(ev.accuracy) + " is below 0.5";
  } else {
    // The model's recall when it flags as many customers as the rule (header).
    const int64_t flagged = std::max(base.true_positives + base.false_positives,
                                     ev.confusion.true_positives + ev.confusion.false_positives);
    const int64_t positives = base.true_positives + base.false_negatives;
    const std::vector<float>& s = model.held_back_scores;
    std::vector<size_t> order(s.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
    int64_t caught = 0;
    for (int64_t i = 0; i < flagged && i < static_cast<int64_t>(order.size()); ++i) {
      caught += evaluation.y[order[static_cast<size_t>(i)]];
    }
    ev.churn_class_accuracy_at_baseline_coverage = positives > 0 ? static_cast<double>(caught) / positives : 0.0;
    ev.grade = GradeAgainstBaseline(ev.churn_class_accuracy_at_baseline_coverage, ev.baseline_churn_class_accuracy, 0.10);
    ev.grade_reason = "churn-class accuracy (share of the churners predicted to churn) " +
                      FormatFixed(ev.churn_class_accuracy_at_baseline_coverage) + " when flagging " + std::to_string(flagged) +
                      " customers (the more of the threshold's and the recency rule's), vs the rule's " +
                      FormatFixed(ev.baseline_churn_class_accuracy) + " (A: >= 10% above, B: above, C: not above); " +
                      FormatFixed(ev.churn_class_accuracy) + " at the threshold; overall accuracy " + FormatFixed(ev.accuracy);
  }
  return model;
}

StatusOr<std::vector<ChurnScore>> ScoreTransactionalChurn(const ChurnModel& model, const TransactionLog& log,
                                                          const StaticFeatures& profile, int32_t as_of_day) {
  if (model.kind != "transactional") {
    return InvalidArgumentError("model is a '" + model.kind + "' churn model, not a transactional one");
  }
  std::vector<int64_t> customers = CustomersWithHistory(log, as_of_day);
  CDP_ASSIGN_OR_RETURN(FeatureMatrix x,
                       BuildChurnFeatures(log, profile, customers, as_of_day, model.options.window_days));
  return ScoreChurnRows(model, x, customers, log.num_customers());
}

// ---------------------------------------------------------------------------
// JSON.

nlohmann::ordered_json ChurnEvaluation::ToJson() const {
  nlohmann::ordered_json j;
  j["kind"] = kind;
  j["fit_cutoff"] = FormatDate(fit_cutoff);
  j["evaluation_cutoff"] = FormatDate(evaluation_cutoff);
  j["as_of"] = FormatDate(as_of);
  j["fit_cutoff_day"] = fit_cutoff;
  j["evaluation_cutoff_day"] = evaluation_cutoff;
  j["as_of_day"] = as_of;
  j["horizon_days"] = horizon_days;
  j["training_rows"] = training_rows;
  j["evaluation_rows"] = evaluation_rows;
  j["final_training_rows"] = final_training_rows;
  j["base_rate"] = base_rate;
  j["training_base_rate"] = training_base_rate;
  j["auc"] = auc;
  j["accuracy"] = accuracy;
  j["churn_class_accuracy"] = churn_class_accuracy;
  if (churn_class_accuracy_at_baseline_coverage >= 0) {
    j["churn_class_accuracy_at_baseline_coverage"] = churn_class_accuracy_at_baseline_coverage;
  }
  j["confusion"] = cdp::ToJson(confusion);
  j["baseline"] = {{"name", baseline_name},
                   {"days", baseline_days},
                   {"accuracy", baseline_accuracy},
                   {"churn_class_accuracy", baseline_churn_class_accuracy},
                   {"auc", baseline_auc}};
  j["grade"] = std::string(ModelGradeName(grade));
  j["grade_reason"] = grade_reason;
  j["histogram"] = cdp::ToJson(histogram);
  j["lift"] = cdp::ToJson(lift);
  j["calibration"] = cdp::ToJson(calibration);
  nlohmann::ordered_json imp = nlohmann::ordered_json::array();
  for (const auto& f : importance) imp.push_back({{"feature", f.feature}, {"total_gain", f.total_gain}});
  j["importance"] = imp;
  nlohmann::ordered_json dr = nlohmann::ordered_json::array();
  for (const auto& d : dropped) dr.push_back({{"feature", d.feature}, {"reason", d.reason}});
  j["dropped_features"] = dr;
  return j;
}

namespace {

nlohmann::ordered_json OptionsJson(const ChurnModel& m) {
  const ChurnOptions& o = m.options;
  nlohmann::ordered_json j;
  j["window_days"] = o.window_days;
  j["churn_days"] = o.churn_days;
  j["renewal_days"] = m.renewal_days;
  j["top_factors"] = o.top_factors;
  j["threshold"] = o.threshold;
  j["booster"] = {{"rounds", o.booster.rounds},           {"max_depth", o.booster.max_depth},
                  {"eta", o.booster.eta},                 {"subsample", o.booster.subsample},
                  {"colsample", o.booster.colsample},     {"min_child_weight", o.booster.min_child_weight},
                  {"objective", o.booster.objective},     {"threads", o.booster.threads},
                  {"seed", o.booster.seed}};
  return j;
}

template <typename T>
Status Read(const nlohmann::json& obj, const char* key, T* out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return InvalidArgumentError("churn model JSON: " + where + "." + key + " missing");
  try {
    *out = it->get<T>();
  } catch (const std::exception&) {
    return InvalidArgumentError("churn model JSON: " + where + "." + key + " has the wrong type");
  }
  return Status::Ok();
}

Status ReadEvaluation(const nlohmann::json& j, ChurnEvaluation* ev) {
  const std::string w = "evaluation";
  if (!j.is_object()) return InvalidArgumentError("churn model JSON: evaluation is not an object");
  CDP_RETURN_IF_ERROR(Read(j, "kind", &ev->kind, w));
  CDP_RETURN_IF_ERROR(Read(j, "fit_cutoff_day", &ev->fit_cutoff, w));
  CDP_RETURN_IF_ERROR(Read(j, "evaluation_cutoff_day", &ev->evaluation_cutoff, w));
  CDP_RETURN_IF_ERROR(Read(j, "as_of_day", &ev->as_of, w));
  CDP_RETURN_IF_ERROR(Read(j, "horizon_days", &ev->horizon_days, w));
  CDP_RETURN_IF_ERROR(Read(j, "training_rows", &ev->training_rows, w));
  CDP_RETURN_IF_ERROR(Read(j, "evaluation_rows", &ev->evaluation_rows, w));
  CDP_RETURN_IF_ERROR(Read(j, "final_training_rows", &ev->final_training_rows, w));
  CDP_RETURN_IF_ERROR(Read(j, "base_rate", &ev->base_rate, w));
  CDP_RETURN_IF_ERROR(Read(j, "training_base_rate", &ev->training_base_rate, w));
  CDP_RETURN_IF_ERROR(Read(j, "auc", &ev->auc, w));
  CDP_RETURN_IF_ERROR(Read(j, "accuracy", &ev->accuracy, w));
  CDP_RETURN_IF_ERROR(Read(j, "churn_class_accuracy", &ev->churn_class_accuracy, w));
  if (j.contains("churn_class_accuracy_at_baseline_coverage")) {
    CDP_RETURN_IF_ERROR(Read(j, "churn_class_accuracy_at_baseline_coverage",
                             &ev->churn_class_accuracy_at_baseline_coverage, w));
  }
  if (auto c = j.find("confusion"); c != j.end() && c->is_object()) {
    CDP_RETURN_IF_ERROR(Read(*c, "true_positives", &ev->confusion.true_positives, w + ".confusion"));
    CDP_RETURN_IF_ERROR(Read(*c, "false_positives", &ev->confusion.false_positives, w + ".confusion"));
    CDP_RETURN_IF_ERROR(Read(*c, "true_negatives", &ev->confusion.true_negatives, w + ".confusion"));
    CDP_RETURN_IF_ERROR(Read(*c, "false_negatives", &ev->confusion.false_negatives, w + ".confusion"));
  }
  if (auto b = j.find("baseline"); b != j.end() && b->is_object()) {
    CDP_RETURN_IF_ERROR(Read(*b, "name", &ev->baseline_name, w + ".baseline"));
    CDP_RETURN_IF_ERROR(Read(*b, "days", &ev->baseline_days, w + ".baseline"));
    CDP_RETURN_IF_ERROR(Read(*b, "accuracy", &ev->baseline_accuracy, w + ".baseline"));
    CDP_RETURN_IF_ERROR(Read(*b, "churn_class_accuracy", &ev->baseline_churn_class_accuracy, w + ".baseline"));
    CDP_RETURN_IF_ERROR(Read(*b, "auc", &ev->baseline_auc, w + ".baseline"));
  }
  std::string grade;
  CDP_RETURN_IF_ERROR(Read(j, "grade", &grade, w));
  if (grade == "A") ev->grade = ModelGrade::kA;
  else if (grade == "B") ev->grade = ModelGrade::kB;
  else if (grade == "C") ev->grade = ModelGrade::kC;
  else return InvalidArgumentError("churn model JSON: evaluation.grade '" + grade + "' is not A, B or C");
  CDP_RETURN_IF_ERROR(Read(j, "grade_reason", &ev->grade_reason, w));
  auto array = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? &*it : nullptr;
  };
  try {
    if (auto* a = array("histogram")) {
      for (const auto& b : *a) {
        ev->histogram.push_back({b.at("lo").get<double>(), b.at("hi").get<double>(), b.at("positives").get<int64_t>(),
                                 b.at("negatives").get<int64_t>()});
      }
    }
    if (auto* a = array("lift")) {
      for (const auto& p : *a) {
        ev->lift.push_back({p.at("share_targeted").get<double>(), p.at("share_of_positives").get<double>(),
                            p.at("lift").get<double>()});
      }
    }
    if (auto* a = array("calibration")) {
      for (const auto& b : *a) {
        ev->calibration.push_back({b.at("mean_predicted").get<double>(), b.at("observed_rate").get<double>(),
                                   b.at("count").get<int64_t>()});
      }
    }
    if (auto* a = array("importance")) {
      for (const auto& f : *a) ev->importance.push_back({f.at("feature").get<std::string>(), f.at("total_gain").get<double>()});
    }
    if (auto* a = array("dropped_features")) {
      for (const auto& d : *a) ev->dropped.push_back({d.at("feature").get<std::string>(), d.at("reason").get<std::string>()});
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("churn model JSON: evaluation charts malformed: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace

std::string ChurnModel::ToJson() const {
  nlohmann::ordered_json j;
  j["kind"] = "churn";
  j["version"] = 1;
  j["churn_kind"] = kind;
  j["feature_names"] = feature_names;
  j["options"] = OptionsJson(*this);
  j["evaluation"] = evaluation.ToJson();
  StatusOr<std::string> booster_json = booster.SaveJson();
  j["booster"] = booster_json.ok() ? nlohmann::ordered_json::parse(*booster_json) : nlohmann::ordered_json();
  return j.dump();
}

StatusOr<ChurnModel> ChurnModel::FromJson(std::string_view json) {
  if (json.size() > Booster::kMaxModelBytes) {
    return InvalidArgumentError("churn model JSON: " + std::to_string(json.size()) + " bytes, more than the limit of " +
                                std::to_string(Booster::kMaxModelBytes));
  }
  CDP_RETURN_IF_ERROR(ScanJson(json).WithContext("churn model JSON"));
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgumentError("churn model JSON: not a JSON object");
  std::string kind;
  int version = 0;
  CDP_RETURN_IF_ERROR(Read(doc, "kind", &kind, "model"));
  if (kind != "churn") return InvalidArgumentError("churn model JSON: kind '" + kind + "' is not 'churn'");
  CDP_RETURN_IF_ERROR(Read(doc, "version", &version, "model"));
  if (version != 1) return InvalidArgumentError("churn model JSON: version " + std::to_string(version) + " (expected 1)");
  std::string churn_kind;
  CDP_RETURN_IF_ERROR(Read(doc, "churn_kind", &churn_kind, "model"));
  if (churn_kind != "transactional" && churn_kind != "subscription") {
    return InvalidArgumentError("churn model JSON: churn_kind '" + churn_kind + "' is not transactional or subscription");
  }
  std::vector<std::string> names;
  CDP_RETURN_IF_ERROR(Read(doc, "feature_names", &names, "model"));
  auto opt = doc.find("options");
  if (opt == doc.end() || !opt->is_object()) return InvalidArgumentError("churn model JSON: options missing");
  ChurnOptions o;
  int32_t renewal = 0;
  CDP_RETURN_IF_ERROR(Read(*opt, "window_days", &o.window_days, "options"));
  CDP_RETURN_IF_ERROR(Read(*opt, "churn_days", &o.churn_days, "options"));
  CDP_RETURN_IF_ERROR(Read(*opt, "renewal_days", &renewal, "options"));
  CDP_RETURN_IF_ERROR(Read(*opt, "top_factors", &o.top_factors, "options"));
  CDP_RETURN_IF_ERROR(Read(*opt, "threshold", &o.threshold, "options"));
  auto bo = opt->find("booster");
  if (bo == opt->end() || !bo->is_object()) return InvalidArgumentError("churn model JSON: options.booster missing");
  const std::string bw = "options.booster";
  CDP_RETURN_IF_ERROR(Read(*bo, "rounds", &o.booster.rounds, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "max_depth", &o.booster.max_depth, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "eta", &o.booster.eta, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "subsample", &o.booster.subsample, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "colsample", &o.booster.colsample, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "min_child_weight", &o.booster.min_child_weight, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "objective", &o.booster.objective, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "threads", &o.booster.threads, bw));
  CDP_RETURN_IF_ERROR(Read(*bo, "seed", &o.booster.seed, bw));
  CDP_RETURN_IF_ERROR(ValidateChurnOptions(o).WithContext("churn model JSON: options"));
  auto b = doc.find("booster");
  if (b == doc.end() || !b->is_object()) return InvalidArgumentError("churn model JSON: booster missing");
  CDP_ASSIGN_OR_RETURN(Booster booster, Booster::LoadJson(b->dump()));
  if (booster.num_features() != static_cast<int64_t>(names.size())) {
    return InvalidArgumentError("churn model JSON: " + std::to_string(names.size()) + " feature names for a booster of " +
                                std::to_string(booster.num_features()) + " features");
  }
  ChurnModel m{churn_kind, std::move(booster), std::move(names), o, renewal, {}};
  auto ev = doc.find("evaluation");
  if (ev == doc.end()) return InvalidArgumentError("churn model JSON: evaluation missing");
  CDP_RETURN_IF_ERROR(ReadEvaluation(*ev, &m.evaluation));
  return m;
}

}  // namespace cdp
