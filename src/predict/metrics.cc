#include "predict/metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace cdp {
namespace {

// NaN ranks lowest.
float Key(float s) { return std::isnan(s) ? -INFINITY : s; }

// Row indexes sorted by score, highest first (ties by index: deterministic).
std::vector<int64_t> OrderDescending(std::span<const float> score) {
  std::vector<int64_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return Key(score[a]) > Key(score[b]); });
  return order;
}

int BinOf(double s, int bins) {
  if (std::isnan(s)) return 0;
  int b = static_cast<int>(std::floor(s * bins));
  return std::clamp(b, 0, bins - 1);
}

}  // namespace

double Auc(std::span<const float> score, std::span<const uint8_t> label) {
  assert(score.size() == label.size());
  std::vector<int64_t> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return Key(score[a]) < Key(score[b]); });
  // Sum of the (mid-)ranks of the positives.
  double rank_sum = 0;
  int64_t positives = 0;
  size_t i = 0;
  while (i < order.size()) {
    size_t j = i;
    int64_t group_positives = 0;
    while (j < order.size() && Key(score[order[j]]) == Key(score[order[i]])) {
      group_positives += label[order[j]] ? 1 : 0;
      ++j;
    }
    double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    rank_sum += mid_rank * static_cast<double>(group_positives);
    positives += group_positives;
    i = j;
  }
  int64_t negatives = static_cast<int64_t>(score.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  double u = rank_sum - static_cast<double>(positives) * static_cast<double>(positives + 1) / 2.0;
  return u / (static_cast<double>(positives) * static_cast<double>(negatives));
}

namespace {
// 1-based ranks, ties averaged.
std::vector<double> AverageRanks(std::span<const double> v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}
}  // namespace

double Spearman(std::span<const double> a, std::span<const double> b) {
  const size_t n = std::min(a.size(), b.size());
  if (n < 2) return 0;
  std::vector<double> ra = AverageRanks(a.first(n)), rb = AverageRanks(b.first(n));
  const double mean = (static_cast<double>(n) + 1) / 2;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / std::sqrt(saa * sbb);
}

double Confusion::Accuracy() const {
  int64_t n = true_positives + false_positives + true_negatives + false_negatives;
  return n == 0 ? 0.0 : static_cast<double>(true_positives + true_negatives) / static_cast<double>(n);
}
double Confusion::Precision() const {
  int64_t p = true_positives + false_positives;
  return p == 0 ? 0.0 : static_cast<double>(true_positives) / static_cast<double>(p);
}
double Confusion::Recall() const {
  int64_t p = true_positives + false_negatives;
  return p == 0 ? 0.0 : static_cast<double>(true_positives) / static_cast<double>(p);
}

Confusion ConfusionOf(std::span<const uint8_t> predicted, std::span<const uint8_t> label) {
  assert(predicted.size() == label.size());
  Confusion c;
  for (size_t i = 0; i < label.size(); ++i) {
    bool p = predicted[i] != 0, y = label[i] != 0;
    if (p && y) ++c.true_positives;
    else if (p) ++c.false_positives;
    else if (y) ++c.false_negatives;
    else ++c.true_negatives;
  }
  return c;
}

Confusion ConfusionAt(std::span<const float> score, std::span<const uint8_t> label, double threshold) {
  assert(score.size() == label.size());
  std::vector<uint8_t> predicted(score.size());
  for (size_t i = 0; i < score.size(); ++i) predicted[i] = score[i] >= threshold ? 1 : 0;
  return ConfusionOf(predicted, label);
}

double Accuracy(std::span<const float> score, std::span<const uint8_t> label, double threshold) {
  return ConfusionAt(score, label, threshold).Accuracy();
}

std::vector<HistogramBin> ScoreHistogram(std::span<const float> score, std::span<const uint8_t> label, int bins) {
  assert(score.size() == label.size());
  bins = std::max(1, bins);
  std::vector<HistogramBin> out(static_cast<size_t>(bins));
  for (int b = 0; b < bins; ++b) {
    out[b] = {static_cast<double>(b) / bins, static_cast<double>(b + 1) / bins, 0, 0};
  }
  for (size_t i = 0; i < score.size(); ++i) {
    HistogramBin& bin = out[BinOf(score[i], bins)];
    if (label[i]) ++bin.positives;
    else ++bin.negatives;
  }
  return out;
}

std::vector<LiftPoint> LiftGain(std::span<const float> score, std::span<const uint8_t> label, int points) {
  assert(score.size() == label.size());
  points = std::max(1, points);
  const double n = static_cast<double>(score.size());
  std::vector<int64_t> order = OrderDescending(score);
  // Tie groups: [start, end) in `order` with their positive counts.
  struct Group {
    size_t start, end;
    int64_t positives;
  };
  std::vector<Group> groups;
  int64_t total_positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    int64_t p = 0;
    while (j < order.size() && Key(score[order[j]]) == Key(score[order[i]])) p += label[order[j++]] ? 1 : 0;
    groups.push_back({i, j, p});
    total_positives += p;
    i = j;
  }
  std::vector<LiftPoint> out;
  for (int k = 1; k <= points; ++k) {
    double share = static_cast<double>(k) / points;
    double take = share * n;  // rows targeted (fractional at a tie is fine: expected value)
    double found = 0;
    for (const Group& g : groups) {
      double size = static_cast<double>(g.end - g.start);
      double start = static_cast<double>(g.start);
      if (start >= take) break;
      double part = std::min(1.0, (take - start) / size);
      found += part * static_cast<double>(g.positives);
    }
    double gain = total_positives == 0 ? 0.0 : found / static_cast<double>(total_positives);
    out.push_back({share, gain, total_positives == 0 ? 0.0 : gain / share});
  }
  return out;
}

std::vector<CalibrationBin> Calibration(std::span<const float> score, std::span<const uint8_t> label, int bins) {
  assert(score.size() == label.size());
  bins = std::max(1, bins);
  std::vector<double> sum(bins, 0.0);
  std::vector<int64_t> count(bins, 0), positives(bins, 0);
  for (size_t i = 0; i < score.size(); ++i) {
    if (std::isnan(score[i])) continue;
    int b = BinOf(score[i], bins);
    sum[b] += score[i];
    ++count[b];
    positives[b] += label[i] ? 1 : 0;
  }
  std::vector<CalibrationBin> out;
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    double c = static_cast<double>(count[b]);
    out.push_back({sum[b] / c, static_cast<double>(positives[b]) / c, count[b]});
  }
  return out;
}

nlohmann::ordered_json ToJson(const Confusion& c) {
  nlohmann::ordered_json j;
  j["true_positives"] = c.true_positives;
  j["false_positives"] = c.false_positives;
  j["true_negatives"] = c.true_negatives;
  j["false_negatives"] = c.false_negatives;
  j["accuracy"] = c.Accuracy();
  j["precision"] = c.Precision();
  j["recall"] = c.Recall();
  return j;
}

nlohmann::ordered_json ToJson(const std::vector<HistogramBin>& bins) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const HistogramBin& b : bins) {
    a.push_back({{"lo", b.lo}, {"hi", b.hi}, {"positives", b.positives}, {"negatives", b.negatives}});
  }
  return a;
}

nlohmann::ordered_json ToJson(const std::vector<LiftPoint>& points) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const LiftPoint& p : points) {
    a.push_back({{"share_targeted", p.share_targeted}, {"share_of_positives", p.share_of_positives}, {"lift", p.lift}});
  }
  return a;
}

nlohmann::ordered_json ToJson(const std::vector<CalibrationBin>& bins) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const CalibrationBin& b : bins) {
    a.push_back({{"mean_predicted", b.mean_predicted}, {"observed_rate", b.observed_rate}, {"count", b.count}});
  }
  return a;
}

}  // namespace cdp
