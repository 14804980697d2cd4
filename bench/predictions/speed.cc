#include "bench/predictions/speed.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/datetime.h"
#include "predict/metrics.h"
#include "predict/tree_shap.h"

namespace cdp {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

constexpr int kProducts = 2000;
constexpr int kSegments = 50;
constexpr int kSegmentProducts = 25;

}  // namespace

double PeakRssMiB() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

StatusOr<SpeedData> GenerateSpeedData(int64_t customers, int64_t transactions, uint64_t seed) {
  if (customers < 1000) return InvalidArgumentError("--customers " + std::to_string(customers) + ": at least 1000");
  if (transactions < customers) {
    return InvalidArgumentError("--transactions " + std::to_string(transactions) + ": at least one per customer (" +
                                std::to_string(customers) + ")");
  }
  SpeedData out;
  out.first_day = DaysFromCivil(2023, 1, 1);
  out.as_of_day = DaysFromCivil(2025, 1, 1);
  const int32_t span = out.as_of_day - out.first_day;  // 731
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  std::exponential_distribution<double> lifetime(1.0 / 540.0);
  std::gamma_distribution<double> intensity(2.0, 1.0);
  std::lognormal_distribution<double> spend(std::log(30.0), 0.6);
  std::lognormal_distribution<double> noise(0.0, 0.4);

  // Pass 1: each customer's active period, intensity, taste and spend.
  std::vector<int32_t> start(customers), stop(customers), active_end(customers);
  std::vector<double> weight(customers), mean_spend(customers);
  std::vector<int32_t> segment(customers);
  double total_weight = 0;
  for (int64_t c = 0; c < customers; ++c) {
    start[c] = static_cast<int32_t>(u01(rng) * 430);
    stop[c] = start[c] + 1 + static_cast<int32_t>(std::min(lifetime(rng), 1e6));
    active_end[c] = std::min(stop[c], span);
    double w = intensity(rng) * (c % 3 == 0 ? 2.0 : 1.0);  // a third twice as active, as bench_measures
    weight[c] = w * std::max(1, active_end[c] - start[c]);
    total_weight += weight[c];
    segment[c] = static_cast<int32_t>(rng() % kSegments);
    mean_spend[c] = spend(rng);
  }
  // Segment favourites.
  std::vector<int32_t> favourites(kSegments * kSegmentProducts);
  for (int32_t& p : favourites) p = static_cast<int32_t>(rng() % kProducts);

  TransactionLog& log = out.log;
  log.offsets.assign(static_cast<size_t>(customers) + 1, 0);
  for (int64_t c = 0; c < customers; ++c) {
    int64_t n = static_cast<int64_t>(std::floor(static_cast<double>(transactions) * weight[c] / total_weight + u01(rng)));
    log.offsets[c + 1] = log.offsets[c] + std::max<int64_t>(1, n);
  }
  const int64_t rows = log.offsets[customers];
  log.day.resize(rows);
  log.amount.resize(rows);
  log.product.resize(rows);
  log.product_names.reserve(kProducts);
  for (int p = 0; p < kProducts; ++p) {
    char name[16];
    std::snprintf(name, sizeof name, "P%04d", p);
    log.product_names.emplace_back(name);
  }
  log.other_type_names = {"Visit", "Complaint"};
  log.other_offsets.assign(static_cast<size_t>(customers) + 1, 0);
  std::vector<std::pair<int32_t, int32_t>> others;
  for (int64_t c = 0; c < customers; ++c) {
    const int64_t b = log.offsets[c], e = log.offsets[c + 1];
    const int32_t len = std::max(1, active_end[c] - start[c]);
    for (int64_t k = b; k < e; ++k) log.day[k] = out.first_day + start[c] + static_cast<int32_t>(u01(rng) * len);
    std::sort(log.day.begin() + b, log.day.begin() + e);
    for (int64_t k = b; k < e; ++k) {
      log.amount[k] = std::round(mean_spend[c] * noise(rng) * 100.0) / 100.0;
      if (u01(rng) < 0.7) {
        double z = u01(rng);
        log.product[k] = favourites[segment[c] * kSegmentProducts + static_cast<int>(z * z * kSegmentProducts)];
      } else {
        double z = u01(rng);
        log.product[k] = static_cast<int32_t>(z * z * z * kProducts);
      }
    }
    others.clear();
    int64_t visits = (e - b) / 4 + (u01(rng) < static_cast<double>((e - b) % 4) / 4.0 ? 1 : 0);
    for (int64_t v = 0; v < visits; ++v) {
      others.push_back({out.first_day + start[c] + static_cast<int32_t>(u01(rng) * len), 0});
    }
    if (stop[c] < span && u01(rng) < 0.6) {
      int32_t d = std::max(start[c], stop[c] - 1 - static_cast<int32_t>(u01(rng) * 30));
      others.push_back({out.first_day + d, 1});
    } else if (u01(rng) < 0.02) {
      others.push_back({out.first_day + start[c] + static_cast<int32_t>(u01(rng) * len), 1});
    }
    std::sort(others.begin(), others.end());
    for (const auto& [d, t] : others) {
      log.other_day.push_back(d);
      log.other_type.push_back(t);
    }
    log.other_offsets[c + 1] = static_cast<int64_t>(log.other_day.size());
  }
  out.customers = customers;
  out.transactions = rows;
  out.other_activities = static_cast<int64_t>(log.other_day.size());
  return out;
}

StatusOr<XgboostPeerResult> RunXgboostPeer(const ChurnSplit& fit, const ChurnSplit& evaluation,
                                           const BoosterParams& params, const std::string& peer_script) {
  if (!std::filesystem::exists(peer_script)) return NotFoundError("peer script " + peer_script + " not found");
  if (!std::filesystem::exists("/usr/bin/python3")) return NotFoundError("/usr/bin/python3 not found");
  char dir_template[] = "/tmp/cdp_xgb_peer_XXXXXX";
  if (!mkdtemp(dir_template)) return InternalError("mkdtemp failed");
  const std::filesystem::path dir(dir_template);
  auto write = [&](const std::string& name, const void* data, size_t bytes) {
    std::ofstream f(dir / name, std::ios::binary);
    f.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    return static_cast<bool>(f);
  };
  nlohmann::json meta = {{"fit_rows", fit.x.rows},
                         {"eval_rows", evaluation.x.rows},
                         {"cols", fit.x.cols()},
                         {"names", fit.x.names},
                         {"params",
                          {{"rounds", params.rounds},
                           {"max_depth", params.max_depth},
                           {"eta", params.eta},
                           {"subsample", params.subsample},
                           {"colsample", params.colsample},
                           {"min_child_weight", params.min_child_weight},
                           {"objective", params.objective},
                           {"threads", ResolveBoosterThreads(params, fit.x.rows)},
                           {"seed", params.seed}}}};
  std::string meta_text = meta.dump();
  bool ok = write("meta.json", meta_text.data(), meta_text.size()) &&
            write("x_fit.f32", fit.x.values.data(), fit.x.values.size() * sizeof(float)) &&
            write("y_fit.u8", fit.y.data(), fit.y.size()) &&
            write("x_eval.f32", evaluation.x.values.data(), evaluation.x.values.size() * sizeof(float)) &&
            write("y_eval.u8", evaluation.y.data(), evaluation.y.size());
  if (!ok) {
    std::filesystem::remove_all(dir);
    return InternalError("writing the peer's input under " + dir.string() + " failed");
  }
  std::string command = "/usr/bin/python3 " + peer_script + " " + dir.string() + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  std::string output;
  if (p) {
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  }
  int rc = p ? pclose(p) : -1;
  std::filesystem::remove_all(dir);
  if (rc != 0) return UnavailableError("python3-xgboost peer failed (exit " + std::to_string(rc) + "): " + output);
  size_t line = output.rfind('{');
  nlohmann::json r = nlohmann::json::parse(line == std::string::npos ? output : output.substr(line), nullptr, false);
  if (r.is_discarded() || !r.contains("train_seconds") || !r.contains("auc")) {
    return InternalError("python3-xgboost peer printed no result: " + output);
  }
  XgboostPeerResult result;
  result.train_seconds = r["train_seconds"].get<double>();
  result.auc = r["auc"].get<double>();
  result.version = r.value("xgboost_version", std::string("?"));
  return result;
}

Status ComparePeer(const char* label, const ChurnSplit& fit, const ChurnSplit& evaluation, const BoosterParams& params,
                   const std::string& peer_script) {
  std::vector<float> y(fit.y.begin(), fit.y.end());
  auto t0 = Clock::now();
  CDP_ASSIGN_OR_RETURN(Booster b, Booster::Train(fit.x, y, params));
  auto t1 = Clock::now();
  CDP_ASSIGN_OR_RETURN(std::vector<float> p, b.Predict(evaluation.x));
  const double cpp_seconds = Seconds(t0, t1), cpp_auc = Auc(p, evaluation.y);
  std::printf("%s, same features (%lld x %lld fit rows, %lld evaluation rows), same params (%d rounds, depth %d, "
              "eta %g, %d training threads):\n",
              label, static_cast<long long>(fit.x.rows), static_cast<long long>(fit.x.cols()),
              static_cast<long long>(evaluation.x.rows), params.rounds, params.max_depth, params.eta,
              ResolveBoosterThreads(params, fit.x.rows));
  std::printf("  C++ Booster::Train (libxgboost C API): %.2f s, AUC %.4f\n", cpp_seconds, cpp_auc);
  CDP_ASSIGN_OR_RETURN(XgboostPeerResult peer, RunXgboostPeer(fit, evaluation, params, peer_script));
  std::printf("  python3-xgboost %s xgboost.train:   %.2f s, AUC %.4f\n", peer.version.c_str(), peer.train_seconds,
              peer.auc);
  std::printf("  ratio python/C++: time %.2f, AUC %.4f\n", peer.train_seconds / cpp_seconds, peer.auc / cpp_auc);
  return Status::Ok();
}

Status RunChurnSpeed(const SpeedData& data, const std::string& peer_script) {
  const TransactionLog& log = data.log;
  ChurnOptions options;  // 90-day window, default booster
  const int32_t h = options.window_days, as_of = data.as_of_day, c1 = as_of - h, c0 = as_of - 2 * h;
  std::printf("\n-- churn on %lld customers / %lld transactions (90-day window, %d rounds, depth %d) --\n",
              static_cast<long long>(data.customers), static_cast<long long>(data.transactions), options.booster.rounds,
              options.booster.max_depth);
  auto t0 = Clock::now();
  ChurnSplit fit, evaluation;
  fit.customers = CustomersWithHistory(log, c0);
  evaluation.customers = CustomersWithHistory(log, c1);
  CDP_ASSIGN_OR_RETURN(fit.x, BuildChurnFeatures(log, {}, fit.customers, c0, options.window_days));
  CDP_ASSIGN_OR_RETURN(evaluation.x, BuildChurnFeatures(log, {}, evaluation.customers, c1, options.window_days));
  fit.y = TransactionalChurnLabels(log, fit.customers, c0, h);
  evaluation.y = TransactionalChurnLabels(log, evaluation.customers, c1, h);
  auto t1 = Clock::now();
  std::printf("churn feature build (2 cut-offs, %lld + %lld rows x %lld features, labels): %.2f s\n",
              static_cast<long long>(fit.x.rows), static_cast<long long>(evaluation.x.rows),
              static_cast<long long>(fit.x.cols()), Seconds(t0, t1));
  CDP_ASSIGN_OR_RETURN(ChurnModel model, FitChurnWithHoldBack(fit, evaluation, {}, options.booster, options.threshold));
  model.options = options;
  auto t2 = Clock::now();
  const ChurnEvaluation& ev = model.evaluation;
  std::printf("churn training (fit at C0, evaluate at C1, refit at C1: 2 boosters): %.2f s; held-back AUC %.4f, "
              "accuracy %.4f, churn recall %.4f, base rate %.3f\n",
              Seconds(t1, t2), ev.auc, ev.accuracy, ev.churn_class_accuracy, ev.base_rate);
  std::printf("top features:");
  for (size_t i = 0; i < ev.importance.size() && i < 5; ++i) {
    std::printf("%s %s", i ? "," : "", ev.importance[i].feature.c_str());
  }
  std::printf("\n");
  auto t3 = Clock::now();
  std::vector<int64_t> scored = CustomersWithHistory(log, as_of);
  CDP_ASSIGN_OR_RETURN(FeatureMatrix x, BuildChurnFeatures(log, {}, scored, as_of, options.window_days));
  auto t4 = Clock::now();
  CDP_ASSIGN_OR_RETURN(std::vector<ChurnScore> scores, ScoreChurnRows(model, x, scored, log.num_customers()));
  auto t5 = Clock::now();
  int64_t churners = std::count_if(scores.begin(), scores.end(), [](const ChurnScore& s) { return s.is_churn; });
  std::printf("churn scoring at as_of (%lld customers): features %.2f s + predict with top-3 factors (TreeSHAP) %.2f s "
              "= %.2f s; %lld flagged IsChurn\n",
              static_cast<long long>(scored.size()), Seconds(t3, t4), Seconds(t4, t5), Seconds(t3, t5),
              static_cast<long long>(churners));
  std::printf("peak RSS after churn: %.0f MiB\n", PeakRssMiB());
  {
    // Before/after of the factors: XGBoost's own pred_contribs (libxgboost's
    // recursive TreeSHAP, what scoring used before tree_shap.h) against the
    // per-leaf tables, on the same rows; they must agree.
    // CPU seconds too: on a loaded machine wall time says little.
    auto cpu = [] {
      struct rusage u {};
      getrusage(RUSAGE_SELF, &u);
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    FeatureMatrix m = SelectFeatures(x, model.feature_names);
    const double u0 = cpu();
    auto c0 = Clock::now();
    CDP_ASSIGN_OR_RETURN(TreeShap shap, TreeShap::Build(model.booster));
    auto c1 = Clock::now();
    CDP_ASSIGN_OR_RETURN(std::vector<float> ours, shap.Contributions(m));
    auto c2 = Clock::now();
    const double u2 = cpu();
    CDP_ASSIGN_OR_RETURN(std::vector<float> theirs, model.booster.Contributions(m));
    auto c3 = Clock::now();
    const double u3 = cpu();
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(ours[i] - theirs[i])));
    std::printf("churn factors on %lld rows x %lld features: tables (tree_shap.h) build %.3f s + contributions %.2f s "
                "(%.2f CPU s); XGBoost pred_contribs %.2f s (%.2f CPU s); ratio %.1f wall, %.1f CPU; largest "
                "difference %.2g\n",
                static_cast<long long>(m.rows), static_cast<long long>(m.cols()), Seconds(c0, c1), Seconds(c1, c2),
                u2 - u0, Seconds(c2, c3), u3 - u2, Seconds(c2, c3) / std::max(1e-9, Seconds(c0, c2)),
                (u3 - u2) / std::max(1e-9, u2 - u0), worst);
    std::printf("peak RSS after the factor comparison: %.0f MiB\n", PeakRssMiB());
  }
  if (!peer_script.empty()) {
    Status peer = ComparePeer("speed churn", fit, evaluation, options.booster, peer_script);
    if (!peer.ok()) std::printf("python3-xgboost peer not run: %s\n", peer.ToString().c_str());
  }
  return Status::Ok();
}

}  // namespace cdp
