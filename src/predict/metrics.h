// Evaluation figures of a binary classifier's scores against 0/1 labels, as
// the predictions pages show them: AUC, accuracy at a threshold, the score
// histogram by class, lift/gain and calibration (reliability) bins. Scores
// are probabilities in [0, 1] for the histogram and calibration; AUC, lift
// and accuracy take any real score (higher = more likely positive).
//
// References: AUC as the Mann-Whitney U statistic with ties counted one half
// (Hanley & McNeil 1982, "The meaning and use of the area under a ROC
// curve"); cumulative gain and lift charts as in Ling & Li 1998 ("Data mining
// for direct marketing"); reliability diagrams with equal-width bins (DeGroot
// & Fienberg 1983).
//
// Pure functions; thread-safe. Spans of different lengths are a programming
// error caught by an assert; NaN scores are ranked lowest.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace cdp {

// Area under the ROC curve: the probability that a random positive scores
// higher than a random negative, ties counted 1/2. 0.5 when either class is
// empty (no ranking to judge).
double Auc(std::span<const float> score, std::span<const uint8_t> label);

// Spearman's rank correlation: Pearson's correlation of the two ranks, tied
// values sharing their average rank, over the first min(a.size(), b.size())
// pairs. 0 for fewer than two pairs or a constant side.
double Spearman(std::span<const double> a, std::span<const double> b);

// Share of rows where (score >= threshold) == label. 0 for no rows.
double Accuracy(std::span<const float> score, std::span<const uint8_t> label, double threshold);

// The confusion matrix at a threshold (predicted positive: score >= threshold).
struct Confusion {
  int64_t true_positives = 0, false_positives = 0, true_negatives = 0, false_negatives = 0;
  double Accuracy() const;
  double Precision() const;  // TP / (TP + FP); 0 when nothing is predicted positive
  double Recall() const;     // TP / (TP + FN); 0 when there are no positives
};
Confusion ConfusionAt(std::span<const float> score, std::span<const uint8_t> label, double threshold);
// Same from 0/1 predictions.
Confusion ConfusionOf(std::span<const uint8_t> predicted, std::span<const uint8_t> label);

// `bins` equal-width bins over [0, 1]; scores outside are clamped into the
// first/last bin. bins < 1 is treated as 1.
struct HistogramBin {
  double lo, hi;
  int64_t positives, negatives;
};
std::vector<HistogramBin> ScoreHistogram(std::span<const float> score, std::span<const uint8_t> label, int bins = 10);

// Rows sorted by score, highest first; point i (1..points) targets the top
// i/points of the rows: the share of all positives found there (gain) and
// gain / share targeted (lift). Ties at a cut are split in proportion (the
// expected value over the tied rows' order), so the curve does not depend on
// the sort's arbitrary order. No positives: gain 0, lift 0.
struct LiftPoint {
  double share_targeted, share_of_positives, lift;
};
std::vector<LiftPoint> LiftGain(std::span<const float> score, std::span<const uint8_t> label, int points = 10);

// `bins` equal-width bins over [0, 1]: the mean predicted probability and the
// observed positive rate of the rows in each; empty bins are omitted.
struct CalibrationBin {
  double mean_predicted, observed_rate;
  int64_t count;
};
std::vector<CalibrationBin> Calibration(std::span<const float> score, std::span<const uint8_t> label, int bins = 10);

nlohmann::ordered_json ToJson(const Confusion& c);
nlohmann::ordered_json ToJson(const std::vector<HistogramBin>& bins);
nlohmann::ordered_json ToJson(const std::vector<LiftPoint>& points);
nlohmann::ordered_json ToJson(const std::vector<CalibrationBin>& bins);

}  // namespace cdp
