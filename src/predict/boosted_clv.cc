#include "predict/boosted_clv.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/datetime.h"
#include "common/json_scan.h"
#include "common/text.h"
#include "predict/churn.h"
#include "predict/metrics.h"

namespace cdp {
namespace {

// Known spend per listed customer in [begin, end).
std::vector<float> SpendBetween(const TransactionLog& log, std::span<const int64_t> rows, int32_t begin, int32_t end) {
  std::vector<float> out(rows.size(), 0.0f);
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t c = rows[r];
    double sum = 0;
    for (int64_t i = log.offsets[c]; i < log.offsets[c + 1]; ++i) {
      if (log.day[i] >= begin && log.day[i] < end && !std::isnan(log.amount[i])) sum += log.amount[i];
    }
    out[r] = static_cast<float>(sum);
  }
  return out;
}

ClvModelFigures Figures(const std::vector<double>& predicted, const std::vector<double>& actual,
                        const std::vector<uint8_t>& actual_hv, size_t k) {
  ClvModelFigures f;
  const size_t n = predicted.size();
  for (size_t i = 0; i < n; ++i) {
    const double e = predicted[i] - actual[i];
    f.mae += std::abs(e);
    f.rmse += e * e;
    f.total += predicted[i];
  }
  if (n > 0) {
    f.mae /= static_cast<double>(n);
    f.rmse = std::sqrt(f.rmse / static_cast<double>(n));
  }
  f.spearman = Spearman(predicted, actual);
  f.found = HighValueFound(predicted, actual_hv, k);
  return f;
}

nlohmann::ordered_json FiguresJson(const ClvModelFigures& f) {
  return {{"mae", f.mae}, {"rmse", f.rmse}, {"spearman", f.spearman}, {"total_predicted", f.total}, {"found", f.found}};
}

}  // namespace

BoosterParams BoostedClvBoosterParams() {
  BoosterParams p;
  p.objective = "reg:squarederror";
  p.min_child_weight = 10;
  return p;
}

StatusOr<BoostedClvModel> FitBoostedClv(const TransactionLog& log, int32_t label_start_day, const ClvOptions& options,
                                        const ClvModel& bgnbd) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  std::vector<int64_t> rows = CustomersWithHistory(log, label_start_day);
  if (rows.empty()) {
    return FailedPreconditionError("boosted CLV: no customer has a transaction before " + FormatDate(label_start_day));
  }
  const int64_t end = static_cast<int64_t>(label_start_day) + options.horizon_days;
  std::vector<float> label =
      SpendBetween(log, rows, label_start_day, static_cast<int32_t>(std::min<int64_t>(end, INT32_MAX)));
  if (std::none_of(label.begin(), label.end(), [](float v) { return v > 0; })) {
    return FailedPreconditionError("boosted CLV: none of the " + std::to_string(rows.size()) + " customers spent in [" +
                                   FormatDate(label_start_day) + ", +" + std::to_string(options.horizon_days) +
                                   " days)");
  }
  CDP_ASSIGN_OR_RETURN(FeatureMatrix x, BuildChurnFeatures(log, {}, rows, label_start_day, kBoostedClvFeatureWindowDays));
  BoostedClvModel m;
  CDP_ASSIGN_OR_RETURN(m.booster, Booster::Train(x, label, BoostedClvBoosterParams()));
  m.bgnbd = bgnbd;
  m.feature_names = x.names;
  m.horizon_days = options.horizon_days;
  m.feature_cutoff_day = label_start_day;
  m.training_customers = static_cast<int64_t>(rows.size());
  return m;
}

StatusOr<std::vector<double>> PredictBoostedClv(const BoostedClvModel& model, const TransactionLog& log,
                                                int32_t as_of_day) {
  std::vector<double> out(static_cast<size_t>(log.num_customers()), std::nan(""));
  std::vector<int64_t> rows = CustomersWithHistory(log, as_of_day);
  if (rows.empty()) return out;
  CDP_ASSIGN_OR_RETURN(FeatureMatrix x, BuildChurnFeatures(log, {}, rows, as_of_day, kBoostedClvFeatureWindowDays));
  // Other-activity features absent from this log become missing values.
  FeatureMatrix m = SelectFeatures(x, model.feature_names);
  CDP_ASSIGN_OR_RETURN(std::vector<float> p, model.booster.Predict(m));
  for (size_t r = 0; r < rows.size(); ++r) out[static_cast<size_t>(rows[r])] = std::max(0.0, static_cast<double>(p[r]));
  return out;
}

StatusOr<std::vector<ClvCustomerPrediction>> PredictClvBoosted(const BoostedClvModel& model, const TransactionLog& log,
                                                               int32_t as_of_day, const ClvOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  CDP_ASSIGN_OR_RETURN(std::vector<ClvCustomerPrediction> out, PredictClv(model.bgnbd, log, as_of_day, options));
  CDP_ASSIGN_OR_RETURN(std::vector<double> value, PredictBoostedClv(model, log, as_of_day));
  std::vector<uint8_t> eligible(out.size(), 0);
  for (size_t c = 0; c < out.size(); ++c) {
    if (!out[c].scored || std::isnan(value[c])) {
      value[c] = 0;
      continue;
    }
    out[c].clv = value[c];
    eligible[c] = 1;
  }
  std::vector<uint8_t> flag = FlagHighValue(value, eligible, options);
  for (size_t c = 0; c < out.size(); ++c) out[c].high_value = flag[c] != 0;
  return out;
}

StatusOr<std::string> BoostedClvModel::ToJson() const {
  CDP_ASSIGN_OR_RETURN(std::string booster_json, booster.SaveJson());
  nlohmann::ordered_json j;
  j["kind"] = "boosted_clv";
  j["version"] = 1;
  j["horizon_days"] = horizon_days;
  j["feature_cutoff_day"] = feature_cutoff_day;
  j["training_customers"] = training_customers;
  j["feature_names"] = feature_names;
  j["bgnbd"] = nlohmann::ordered_json::parse(bgnbd.ToJson());
  j["booster"] = nlohmann::ordered_json::parse(booster_json);
  return j.dump();
}

StatusOr<BoostedClvModel> BoostedClvModel::FromJson(std::string_view json) {
  if (json.size() > Booster::kMaxModelBytes) {
    return InvalidArgumentError("boosted CLV model: " + std::to_string(json.size()) + " bytes, more than the limit of " +
                                std::to_string(Booster::kMaxModelBytes));
  }
  JsonScanOptions scan;
  scan.max_depth = 64;
  CDP_RETURN_IF_ERROR(ScanJson(json, scan).WithContext("boosted CLV model"));
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& what) { return InvalidArgumentError("boosted CLV model: " + what); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (j.value("kind", std::string()) != "boosted_clv" || !j.contains("version") || j["version"] != 1) {
    return bad("kind must be \"boosted_clv\" and version 1");
  }
  BoostedClvModel m;
  if (!j.contains("training_customers") || !j["training_customers"].is_number_integer() ||
      j["training_customers"].get<int64_t>() < 0) {
    return bad("training_customers missing or negative");
  }
  m.training_customers = j["training_customers"].get<int64_t>();
  if (!j.contains("horizon_days") || !j["horizon_days"].is_number_integer() || j["horizon_days"].get<int64_t>() < 1 ||
      j["horizon_days"].get<int64_t>() > 3650) {
    return bad("horizon_days missing or outside 1..3650");
  }
  m.horizon_days = j["horizon_days"].get<int32_t>();
  if (!j.contains("feature_cutoff_day") || !j["feature_cutoff_day"].is_number_integer() ||
      std::abs(j["feature_cutoff_day"].get<int64_t>()) > 10'000'000) {
    return bad("feature_cutoff_day missing or not a day number");
  }
  m.feature_cutoff_day = j["feature_cutoff_day"].get<int32_t>();
  if (!j.contains("feature_names") || !j["feature_names"].is_array()) return bad("feature_names missing");
  for (const auto& n : j["feature_names"]) {
    if (!n.is_string()) return bad("feature_names holds a non-string");
    m.feature_names.push_back(n.get<std::string>());
  }
  if (!j.contains("bgnbd") || !j["bgnbd"].is_object()) return bad("bgnbd missing");
  CDP_ASSIGN_OR_RETURN(m.bgnbd, ClvModel::FromJson(j["bgnbd"].dump()));
  if (!j.contains("booster") || !j["booster"].is_object()) return bad("booster missing");
  CDP_ASSIGN_OR_RETURN(m.booster, Booster::LoadJson(j["booster"].dump()));
  if (m.booster.num_features() != static_cast<int64_t>(m.feature_names.size())) {
    return bad(std::to_string(m.feature_names.size()) + " feature names for a booster of " +
               std::to_string(m.booster.num_features()) + " features");
  }
  return m;
}

nlohmann::ordered_json ClvComparison::ToJson() const {
  nlohmann::ordered_json j;
  j["cutoff_day"] = cutoff_day;
  j["customers"] = customers;
  j["actual_high_value"] = actual_high_value;
  j["total_actual"] = total_actual;
  j["eligible"] = eligible;
  j["eligibility"] = eligibility;
  j["model_used"] = use_boosted ? "boosted" : "bgnbd_gamma_gamma";
  j["decision"] = decision;
  j["bgnbd_gamma_gamma"] = FiguresJson(bgnbd);
  j["baseline"] = FiguresJson(baseline);
  if (eligible) {
    j["boosted"] = FiguresJson(boosted);
    j["boosted"]["training_customers"] = training_customers;
  }
  return j;
}

StatusOr<ClvComparison> CompareClvModels(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options,
                                         const ClvEvaluation& bgnbd) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  ClvComparison c;
  const int32_t h = options.horizon_days;
  c.cutoff_day = bgnbd.cutoff_day;
  c.customers = static_cast<int64_t>(bgnbd.customer_index.size());
  c.actual_high_value = bgnbd.actual_high_value;
  c.total_actual = bgnbd.total_actual;
  const std::vector<double>& actual = bgnbd.actual_values;
  std::vector<uint8_t> all(actual.size(), 1);
  std::vector<uint8_t> actual_hv = FlagHighValue(actual, all, options);
  const size_t k = static_cast<size_t>(bgnbd.actual_high_value);
  c.bgnbd = Figures(bgnbd.predicted_values, actual, actual_hv, k);
  c.baseline = Figures(bgnbd.baseline_values, actual, actual_hv, k);

  const int64_t train_cut = static_cast<int64_t>(as_of_day) - 2 * static_cast<int64_t>(h);
  const int64_t training = train_cut > INT32_MIN
                               ? static_cast<int64_t>(CustomersWithHistory(log, static_cast<int32_t>(train_cut)).size())
                               : 0;
  if (training == 0) {
    c.eligibility = "the data do not cover two horizons (" + std::to_string(2 * h) + " days) before as_of: no customer "
                    "has a transaction before " + (train_cut > INT32_MIN ? FormatDate(static_cast<int32_t>(train_cut)) : "");
  } else if (training < kMinBoostedTrainingCustomers) {
    c.eligibility = std::to_string(training) + " customers have history two horizons before as_of; the boosted model "
                    "needs at least " + std::to_string(kMinBoostedTrainingCustomers);
  } else {
    c.eligible = true;
    c.eligibility = std::to_string(training) + " customers with history two horizons before as_of (at least " +
                    std::to_string(kMinBoostedTrainingCustomers) + ")";
  }
  if (!c.eligible) {
    c.decision = "BG/NBD + Gamma-Gamma: the boosted model is not a candidate (" + c.eligibility + ")";
    return c;
  }
  auto fitted = FitBoostedClv(log, static_cast<int32_t>(train_cut), options, bgnbd.model);
  if (!fitted.ok()) {
    if (fitted.status().code() != StatusCode::kFailedPrecondition) return fitted.status();
    c.eligible = false;
    c.eligibility = fitted.status().message();
    c.decision = "BG/NBD + Gamma-Gamma: the boosted model could not be trained (" + c.eligibility + ")";
    return c;
  }
  c.training_customers = fitted->training_customers;
  CDP_ASSIGN_OR_RETURN(std::vector<double> all_pred, PredictBoostedClv(*fitted, log, bgnbd.cutoff_day));
  std::vector<double> predicted;
  predicted.reserve(bgnbd.customer_index.size());
  for (int64_t i : bgnbd.customer_index) {
    const double v = all_pred[static_cast<size_t>(i)];
    predicted.push_back(std::isnan(v) ? 0.0 : v);
  }
  c.boosted = Figures(predicted, actual, actual_hv, k);
  c.use_boosted = c.boosted.found > c.bgnbd.found && c.boosted.mae <= c.bgnbd.mae;
  c.decision = std::string(c.use_boosted ? "boosted" : "BG/NBD + Gamma-Gamma") + ": on the hold-back the boosted model finds " +
               std::to_string(c.boosted.found) + " of " + std::to_string(k) + " high-value customers (BG/NBD " +
               std::to_string(c.bgnbd.found) + ") with MAE " + FormatFixed(c.boosted.mae, 2) + " (BG/NBD " +
               FormatFixed(c.bgnbd.mae, 2) + "); the boosted model is used only when it finds more and its MAE is "
               "not higher";
  return c;
}

}  // namespace cdp
