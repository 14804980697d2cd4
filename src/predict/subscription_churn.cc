#include "predict/subscription_churn.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/datetime.h"
#include "common/text.h"

namespace cdp {
namespace {

const std::vector<std::string>& SubscriptionFeatureNames() {
  static const std::vector<std::string> names = {
      "subscriptions so far",
      "running subscriptions",
      "ended subscriptions",
      "renewals so far",
      "days since the first subscription started",
      "days since the current subscription started",
      "current subscription is recurring",
      "current recurrence (days)",
      "current subscription amount",
      "day in the current billing cycle",
      "amount of the running subscriptions",
      "days since a subscription last ended",
  };
  return names;
}

bool Running(const SubscriptionLog& s, int64_t k, int32_t cutoff) {
  return s.start_day[k] < cutoff && s.end_day[k] >= cutoff;
}

ChurnOptions AsChurnOptions(const SubscriptionChurnOptions& o) {
  ChurnOptions c;
  c.window_days = o.window_days;
  c.churn_days = 0;
  c.booster = o.booster;
  c.top_factors = o.top_factors;
  c.threshold = o.threshold;
  return c;
}

// Subscription features then activity features then the profile.
StatusOr<FeatureMatrix> BuildSubscriptionFeatures(const SubscriptionLog& subs, const TransactionLog& activities,
                                                  const StaticFeatures& profile, std::span<const int64_t> rows,
                                                  int32_t cutoff, int32_t window_days, int32_t renewal_days) {
  CDP_ASSIGN_OR_RETURN(FeatureMatrix a, BuildChurnFeatures(activities, profile, rows, cutoff, window_days));
  const auto& names = SubscriptionFeatureNames();
  const int64_t ns = static_cast<int64_t>(names.size());
  for (const std::string& n : names) {
    if (std::find(a.names.begin(), a.names.end(), n) != a.names.end()) {
      return InvalidArgumentError("feature name '" + n + "' is used twice (a profile field or activity type)");
    }
  }
  FeatureMatrix x;
  x.names = names;
  x.names.insert(x.names.end(), a.names.begin(), a.names.end());
  x.rows = a.rows;
  const int64_t cols = x.cols(), acols = a.cols();
  x.values.assign(static_cast<size_t>(x.rows * cols), NAN);
  for (int64_t r = 0; r < x.rows; ++r) {
    const int64_t c = rows[r];
    float* out = &x.values[r * cols];
    int64_t so_far = 0, running = 0, ended = 0, renewals = 0;
    int32_t first_start = 0, last_end = INT32_MIN;
    int64_t current = -1;
    double running_amount = 0;
    for (int64_t k = subs.offsets[c]; k < subs.offsets[c + 1]; ++k) {
      if (subs.start_day[k] >= cutoff) break;  // sorted by start
      if (so_far == 0) first_start = subs.start_day[k];
      ++so_far;
      if (subs.end_day[k] < cutoff) {
        ++ended;
        last_end = std::max(last_end, subs.end_day[k]);
        // Renewed before the cut-off: a later subscription started by end + R (and before C).
        for (int64_t j = subs.offsets[c]; j < subs.offsets[c + 1]; ++j) {
          if (j == k || subs.start_day[j] >= cutoff) continue;
          if (subs.start_day[j] <= subs.end_day[k] + renewal_days && subs.start_day[j] > subs.start_day[k]) {
            ++renewals;
            break;
          }
        }
      } else {
        ++running;
        current = k;  // the latest-started running one
        if (!std::isnan(subs.amount[k])) running_amount += subs.amount[k];
      }
    }
    out[0] = static_cast<float>(so_far);
    out[1] = static_cast<float>(running);
    out[2] = static_cast<float>(ended);
    out[3] = static_cast<float>(renewals);
    if (so_far > 0) out[4] = static_cast<float>(cutoff - first_start);
    if (current >= 0) {
      const int32_t since = cutoff - subs.start_day[current];
      out[5] = static_cast<float>(since);
      out[6] = subs.recurring[current] ? 1.0f : 0.0f;
      out[7] = subs.recurrence_days[current];
      out[8] = subs.amount[current];
      const float rec = subs.recurrence_days[current];
      if (subs.recurring[current] && rec >= 1) out[9] = static_cast<float>(std::fmod(static_cast<double>(since), rec));
    }
    out[10] = static_cast<float>(running_amount);
    if (last_end != INT32_MIN) out[11] = static_cast<float>(cutoff - last_end);
    std::copy(&a.values[r * acols], &a.values[r * acols] + acols, out + ns);
  }
  return x;
}

}  // namespace

void SubscriptionLogBuilder::Add(int64_t customer, int32_t start_day, int32_t end_day, bool recurring,
                                 float recurrence_days, float amount) {
  rows_.push_back({customer, start_day, end_day, recurring, recurrence_days, amount});
}

StatusOr<SubscriptionLog> SubscriptionLogBuilder::Build() && {
  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& r = rows_[i];
    std::string where = "subscription " + std::to_string(i) + " (customer " + std::to_string(r.customer) + ")";
    if (r.customer < 0 || r.customer >= num_customers_) {
      return InvalidArgumentError(where + ": customer index outside 0.." + std::to_string(num_customers_ - 1));
    }
    if (r.end < r.start) {
      return InvalidArgumentError(where + ": ends on day " + std::to_string(r.end) + ", before its start " +
                                  std::to_string(r.start));
    }
    if (r.recurrence < 0) return InvalidArgumentError(where + ": negative recurrence " + FormatFixed(r.recurrence));
  }
  std::stable_sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
    return a.customer != b.customer ? a.customer < b.customer : a.start < b.start;
  });
  SubscriptionLog log;
  log.offsets.assign(static_cast<size_t>(num_customers_) + 1, 0);
  for (const Row& r : rows_) {
    ++log.offsets[static_cast<size_t>(r.customer) + 1];
    log.start_day.push_back(r.start);
    log.end_day.push_back(r.end);
    log.recurring.push_back(r.recurring ? 1 : 0);
    log.recurrence_days.push_back(r.recurrence);
    log.amount.push_back(r.amount);
  }
  for (size_t i = 1; i < log.offsets.size(); ++i) log.offsets[i] += log.offsets[i - 1];
  rows_.clear();
  return log;
}

Status ValidateSubscriptionChurnOptions(const SubscriptionChurnOptions& o) {
  if (o.renewal_days < 0 || o.renewal_days > 365) {
    return InvalidArgumentError("renewal_days = " + std::to_string(o.renewal_days) + ": must be 0..365");
  }
  return ValidateChurnOptions(AsChurnOptions(o));
}

std::vector<int64_t> CustomersWithRunningSubscription(const SubscriptionLog& subs, int32_t cutoff) {
  std::vector<int64_t> out;
  for (int64_t c = 0; c < subs.num_customers(); ++c) {
    for (int64_t k = subs.offsets[c]; k < subs.offsets[c + 1]; ++k) {
      if (Running(subs, k, cutoff)) {
        out.push_back(c);
        break;
      }
    }
  }
  return out;
}

std::vector<uint8_t> SubscriptionChurnLabels(const SubscriptionLog& subs, std::span<const int64_t> rows, int32_t cutoff,
                                             int32_t window_days, int32_t renewal_days) {
  std::vector<uint8_t> y(rows.size(), 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t c = rows[i];
    const int64_t b = subs.offsets[c], e = subs.offsets[c + 1];
    for (int64_t k = b; k < e && !y[i]; ++k) {
      if (!Running(subs, k, cutoff)) continue;
      const int32_t end = subs.end_day[k];
      if (end >= cutoff + window_days) continue;  // still running through the window
      bool renewed = false;
      for (int64_t j = b; j < e && !renewed; ++j) {
        if (j == k) continue;
        renewed = static_cast<int64_t>(subs.start_day[j]) <= static_cast<int64_t>(end) + renewal_days &&
                  subs.end_day[j] > end;
      }
      if (!renewed) y[i] = 1;
    }
  }
  return y;
}

StatusOr<ChurnModel> TrainSubscriptionChurn(const SubscriptionLog& subs, const TransactionLog& activities,
                                            const StaticFeatures& profile, int32_t as_of_day,
                                            const SubscriptionChurnOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateSubscriptionChurnOptions(options));
  if (subs.num_customers() != activities.num_customers()) {
    return InvalidArgumentError("the subscription log has " + std::to_string(subs.num_customers()) +
                                " customers, the activity log " + std::to_string(activities.num_customers()));
  }
  const int32_t h = options.window_days + options.renewal_days;
  const int32_t c1 = as_of_day - h, c0 = as_of_day - 2 * h;
  int32_t first = INT32_MAX;
  for (int32_t s : subs.start_day) first = std::min(first, s);
  if (first >= c0) {
    return FailedPreconditionError(
        "subscription churn needs at least two windows of history: the first subscription (" +
        (subs.num_subscriptions() ? FormatDate(first) : std::string("none")) + ") must start before " + FormatDate(c0) +
        " (as of " + FormatDate(as_of_day) + " minus 2 x (window " + std::to_string(options.window_days) + " + renewal " +
        std::to_string(options.renewal_days) + " days))");
  }
  ChurnSplit fit, evaluation;
  fit.customers = CustomersWithRunningSubscription(subs, c0);
  evaluation.customers = CustomersWithRunningSubscription(subs, c1);
  CDP_ASSIGN_OR_RETURN(fit.x, BuildSubscriptionFeatures(subs, activities, profile, fit.customers, c0,
                                                        options.window_days, options.renewal_days));
  CDP_ASSIGN_OR_RETURN(evaluation.x, BuildSubscriptionFeatures(subs, activities, profile, evaluation.customers, c1,
                                                               options.window_days, options.renewal_days));
  fit.y = SubscriptionChurnLabels(subs, fit.customers, c0, options.window_days, options.renewal_days);
  evaluation.y = SubscriptionChurnLabels(subs, evaluation.customers, c1, options.window_days, options.renewal_days);
  CDP_ASSIGN_OR_RETURN(ChurnModel model,
                       FitChurnWithHoldBack(fit, evaluation, profile.names, options.booster, options.threshold));
  model.kind = "subscription";
  model.options = AsChurnOptions(options);
  model.renewal_days = options.renewal_days;
  ChurnEvaluation& ev = model.evaluation;
  ev.kind = "subscription";
  ev.fit_cutoff = c0;
  ev.evaluation_cutoff = c1;
  ev.as_of = as_of_day;
  ev.horizon_days = h;
  const double r = ev.training_base_rate, b = ev.base_rate;
  ev.baseline_name = "historical churn rate " + FormatFixed(r) + " (churn flagged at random at that rate)";
  ev.baseline_days = 0;
  ev.baseline_accuracy = r * b + (1 - r) * (1 - b);
  ev.baseline_churn_class_accuracy = r;
  ev.baseline_auc = 0.5;
  if (ev.accuracy < 0.5) {
    ev.grade = ModelGrade::kC;
    ev.grade_reason = "overall accuracy " + FormatFixed(ev.accuracy) + " is below 0.5";
  } else {
    // As for transactional churn (churn.h): the model's recall at the larger
    // of its own coverage and the baseline's (r of the rows, flagged at random).
    const std::vector<float>& sc = model.held_back_scores;
    const int64_t rows = static_cast<int64_t>(sc.size());
    const int64_t flagged = std::max(static_cast<int64_t>(std::llround(r * static_cast<double>(rows))),
                                     ev.confusion.true_positives + ev.confusion.false_positives);
    const int64_t positives = ev.confusion.true_positives + ev.confusion.false_negatives;
    std::vector<size_t> order(sc.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return sc[x] > sc[y]; });
    int64_t caught = 0;
    for (int64_t i = 0; i < flagged && i < rows; ++i) caught += evaluation.y[order[static_cast<size_t>(i)]];
    ev.churn_class_accuracy_at_baseline_coverage = positives > 0 ? static_cast<double>(caught) / positives : 0.0;
    ev.grade = GradeAgainstBaseline(ev.churn_class_accuracy_at_baseline_coverage, r, 0.10);
    ev.grade_reason = "churn-class accuracy (share of the churners predicted to churn) " +
                      FormatFixed(ev.churn_class_accuracy_at_baseline_coverage) + " when flagging " +
                      std::to_string(flagged) + " of " + std::to_string(rows) +
                      " subscribers (the more of the threshold's and the historical rate's), vs the historical churn "
                      "rate " + FormatFixed(r) + " (A: >= 10% above, B: above, C: not above); " +
                      FormatFixed(ev.churn_class_accuracy) + " at the threshold; overall accuracy " + FormatFixed(ev.accuracy);
  }
  return model;
}

StatusOr<std::vector<ChurnScore>> ScoreSubscriptionChurn(const ChurnModel& model, const SubscriptionLog& subs,
                                                         const TransactionLog& activities, const StaticFeatures& profile,
                                                         int32_t as_of_day) {
  if (model.kind != "subscription") {
    return InvalidArgumentError("model is a '" + model.kind + "' churn model, not a subscription one");
  }
  if (subs.num_customers() != activities.num_customers()) {
    return InvalidArgumentError("the subscription log has " + std::to_string(subs.num_customers()) +
                                " customers, the activity log " + std::to_string(activities.num_customers()));
  }
  std::vector<int64_t> customers = CustomersWithRunningSubscription(subs, as_of_day);
  CDP_ASSIGN_OR_RETURN(FeatureMatrix x, BuildSubscriptionFeatures(subs, activities, profile, customers, as_of_day,
                                                                  model.options.window_days, model.renewal_days));
  return ScoreChurnRows(model, x, customers, subs.num_customers());
}

}  // namespace cdp
