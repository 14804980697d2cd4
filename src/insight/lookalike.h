// Lookalike ("find similar customers"): which customers of a pool look like
// the members of a source segment, as a similarity in [0, 1] per pool
// customer with the product's bands, the attributes that drive it, and the
// classifier's quality on held-back members, so a user sees whether
// "similar" means anything for this source.
//
// Method (positive-unlabelled learning by cross-fitting):
// - label 1 = the source's members, label 0 = the pool (every customer outside
//   the source, or another segment's members minus the source). The pool
//   holds unlabelled look-alikes, so a pool member must never be scored by a
//   model that saw it as a negative (Elkan & Noto 2008, "Learning classifiers
//   from only positive and unlabeled data"): source and pool are each split
//   into `folds` seeded folds; model k trains on the other folds (their
//   source members, at most max_training_positives of them, sampled, and
//   negatives_per_positive pool members per source member used, sampled)
//   and scores fold k, so every pool member gets an
//   out-of-fold score, and fold k's source and pool members are a 1/folds
//   hold-back for that model (5 folds = a 20% hold-back, five times).
// - the classifier is gradient-boosted trees (predict/booster.h, XGBoost;
//   Chen & Guestrin 2016): profile attributes mix numbers with missing values
//   and categories, and a source is typically "high income AND Gold
//   tier"-shaped: trees take thresholds, interactions and NaN without
//   binning or imputation, which a logistic regression would need by hand.
//   Settings (DefaultLookalikeBoosterParams) chosen a priori, not tuned on any
//   case scored here: 150 rounds at eta 0.1, depth 4 (interactions of up to
//   four attributes), min_child_weight 5 (a leaf needs about 20 customers at
//   p = 0.5, so a handful of customers cannot make a rule), subsample and
//   colsample 0.8.
// - the model's features: one column per attribute: a number as it is, a
//   category as its rank among the attribute's categories ordered by their
//   source rate in the fold's training sample (smoothed with 20 pseudo-rows
//   at the sample's rate, chosen a priori), missing as NaN. A threshold on
//   that rank is a set of categories, and for a two-class target the best
//   two-way partition of the categories is one of these prefixes (Fisher
//   1958; Breiman et al. 1984, CART 4.2.2; LightGBM's categorical splits
//   order categories the same way); only the training folds' labels are
//   used, so the hold-back stays honest. It replaced one-hot columns
//   (ToFeatureMatrix: ~125 columns on the bench's 26 attributes, so twice the
//   training time for the same hold-back AUC, 0.830).
// - training sample (max_training_positives, default 20,000, chosen before
//   measuring, from the size at which boosted trees of this size stop
//   gaining: at most 150 x 16 leaves, each needing ~20 customers, are fit
//   from 100,000 rows at 4 negatives per positive): a source of 50,000 in 5
//   folds would train on 40,000 positives and 160,000 negatives per fold; with
//   the cap, 20,000 and 80,000, half the training time for the same
//   hold-back AUC on the bench (0.830; 1M customers, 50k source). Every
//   source member outside fold k that is not sampled is simply not used by
//   model k; every pool member is still scored by the model of its own fold.
// - similarity = a calibrated probability of "source" under a balanced prior:
//   the out-of-fold margin, with the training sample's class ratio removed
//   (margin + log(negatives / positives): Saerens, Latinne & Decaestecker
//   2002, "Adjusting the outputs of a classifier to new a priori
//   probabilities"), then Platt-scaled (Platt 1999): sigmoid(a * z + b) with
//   (a, b) fit on the out-of-fold margins of every source and pool member,
//   the two classes weighted to equal totals. Boosted trees' raw
//   probabilities are badly calibrated and Platt scaling is the remedy
//   Niculescu-Mizil & Caruana (2005, "Predicting good probabilities with
//   supervised learning") found best for them; fit on out-of-fold margins it
//   is cross-validated calibration, and with two parameters it cannot overfit.
//   It matters most for a small source, where the trees overfit: on a random
//   source (pure noise) the raw out-of-fold probabilities of the first
//   version spread from 0.1 to 0.9 and put 9% of the pool in "similar" or
//   above; the fitted slope goes to ~0 there and everyone gets ~0.5 (a
//   negative slope, which cross-fitting on noise can produce, is set to 0:
//   it would invert the ranking). Ties are ordered by the margin.
//   The similarity reads as f_source(x) / (f_source(x) + f_pool(x)): 0.5 = as
//   common in the pool as in the source, 0.85 = 5.7 times more typical of the
//   source. It does not depend on the sizes of source and pool or on the
//   sampling, so it is comparable across runs; a model that cannot tell
//   source from pool gives about 0.5 to everyone, so (honestly) no one is
//   "similar". (The alternative, a percentile among the source's held-out
//   scores, would call the top 20% "similar" even when the model is useless.)
// - bands (kMinSimilarity and the band edges below): below 0.4 left out;
//   [0.4, 0.55) low; [0.55, 0.7) somewhat similar; [0.7, 0.85) similar;
//   [0.85, 1] very similar. The product names only the last three: "low" is
//   kept (only below 0.4 is left out) and labelled so a UI can hide it.
// - output: the pool members with similarity >= min_similarity when it is
//   set, else the top `share` of the pool among those >= 0.4 (ties by the
//   margin, then the customer index); optionally the source's members
//   (similarity 1, band source).
// - quality: AUC (predict/metrics.h) of each fold's hold-back (its source
//   members against its pool members), the mean over folds reported; the
//   baseline is the best single attribute (chosen by its AUC on the training
//   folds: numbers in 10 quantile bins, categories by value, missing a bin of
//   its own, scored by the bin's source rate) on the same hold-backs, so a
//   model no better than one attribute says so. The verdict's AUC edges are
//   Hosmer & Lemeshow's (Applied Logistic Regression, 2000: 0.7 acceptable,
//   0.8 excellent, 0.9 outstanding) with < 0.6 as "means little".
// - drivers: total gain of the fold models' splits (Booster::Importance),
//   one column per attribute, as shares summing to 1; each with a one-line summary
//   of how the source differs (mean vs pool, or the most over-represented
//   category).
//
// Thread-safety: pure function over const inputs; safe to call from several
// threads (each call trains its own boosters). Deterministic for a given seed
// and thread counts (fold_threads and BoosterParams::threads, 0 = automatic:
// then for a given number of cores).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "insight/customer_attributes.h"
#include "predict/booster.h"
#include "segment/customer_set.h"

namespace cdp {

enum class SimilarityBand { kLow, kSomewhatSimilar, kSimilar, kVerySimilar, kSource };
// "low", "somewhat similar", "similar", "very similar", "source".
std::string_view SimilarityBandName(SimilarityBand band);

inline constexpr double kMinSimilarity = 0.4;  // below: left out
inline constexpr double kSomewhatSimilarFrom = 0.55;
inline constexpr double kSimilarFrom = 0.7;
inline constexpr double kVerySimilarFrom = 0.85;
// The band of a pool member's similarity; nullopt below kMinSimilarity.
std::optional<SimilarityBand> BandOfSimilarity(double similarity);

// The a-priori settings described above.
BoosterParams DefaultLookalikeBoosterParams();

struct LookalikeOptions {
  double share = 0.2;          // output size as a share of the pool, (0, 1]; ignored when min_similarity > 0
  double min_similarity = 0;   // 0, or a threshold in [0.4, 1): every pool member at or above it
  bool include_source = false; // also output the source's members (similarity 1, band source)
  int folds = 5;               // 3..10 cross-fitting folds (each a 1/folds hold-back)
  double negatives_per_positive = 4;  // 1..100: pool members sampled per source member for training
  int64_t max_training_positives = 20000;  // 0 (all) or >= 100: source members per fold model (a seeded sample)
  // 0..64 folds trained and scored at once (0 = one per core, at most `folds`); with
  // more than one and booster.threads 0, each booster gets cores / fold_threads
  // threads (OpenMP's per-round barriers cost more than they save on a busy
  // machine, while independent folds do not wait for each other).
  int fold_threads = 0;
  std::vector<std::string> exclude;   // attribute names (or "entity.field") left out of the model,
                                      // e.g. the fields the source segment is defined by
  BoosterParams booster = DefaultLookalikeBoosterParams();
  uint64_t seed = 1;
  // For benchmarks: called on the calling thread as each phase of the work
  // begins ("folds", "train features", "train", "baseline", "score",
  // "score features", "predict", "quality", "calibrate", "drivers", "output"; the
  // per-fold ones at least once per fold, and only when the folds run one at
  // a time (fold_threads 1), else one "folds in parallel"); empty = not called.
  // It does not change the result.
  std::function<void(std::string_view phase)> on_phase;
};
// OK or InvalidArgument naming the option and value.
Status ValidateLookalikeOptions(const LookalikeOptions& options);

struct LookalikeMember {
  uint32_t customer = 0;  // customer index
  float similarity = 0;   // [0, 1]; 1 for a source member
  SimilarityBand band = SimilarityBand::kLow;
};

struct LookalikeDriver {
  std::string attribute;  // CustomerAttribute::name
  std::string entity, field;
  double importance = 0;  // share of the models' total gain, sums to 1 over all drivers
  std::string summary;    // "mean 92,400 vs 61,300 in the pool" / "Gold: 41% vs 12% in the pool"
};

struct LookalikeQuality {
  double auc = 0.5;                 // mean over folds of the hold-back AUC
  std::vector<double> fold_auc;     // per fold
  double baseline_auc = 0.5;        // the best single attribute on the same hold-backs
  std::string baseline_attribute;   // which one ("" when no attribute ranks at all)
  int64_t holdout_source = 0;       // source members per hold-back (the smallest fold)
  int64_t holdout_pool = 0;         // pool members per hold-back (the smallest fold)
  std::string verdict;              // one sentence for the user
};

struct SimilarityBandCount {
  SimilarityBand band = SimilarityBand::kLow;
  double from = 0, to = 0;  // [from, to); the last band includes 1
  int64_t pool = 0;         // pool members in the band
  int64_t members = 0;      // output members in the band
};

struct LookalikeResult {
  int64_t source_size = 0;
  int64_t pool_size = 0;
  // Every pool member (ascending customer index) and its out-of-fold similarity.
  std::vector<uint32_t> pool;
  std::vector<float> pool_similarity;
  // The output: highest similarity first (ties by margin, then index); the source's
  // members (include_source) after the pool's.
  std::vector<LookalikeMember> members;
  std::vector<SimilarityBandCount> bands;  // low .. very similar (and source when included)
  std::vector<LookalikeDriver> drivers;    // most important first; attributes with no gain left out
  LookalikeQuality quality;
  double calibration_slope = 1, calibration_intercept = 0;  // Platt's (a, b) on the out-of-fold margins
  std::vector<std::string> attributes_used;  // the model's attributes (after `exclude`)

  CustomerSet MemberSet() const;
};

// Finds the pool's look-alikes of `source`. `pool` null = every customer
// outside the source; else that set minus the source. InvalidArgument for bad
// options, a customer index outside [0, attributes.customers), an excluded
// name that is no attribute, no attribute left; FailedPrecondition when the
// source or the pool has fewer than 2 * folds members (too few to hold back
// from every fold); Internal from XGBoost.
StatusOr<LookalikeResult> FindLookalikes(const CustomerAttributes& attributes, const CustomerSet& source,
                                         const CustomerSet* pool, const LookalikeOptions& options);

// {"source_size", "pool_size", "output_size",
//  "quality": {"auc", "fold_auc": [...], "baseline_auc", "baseline_attribute", "holdout_source",
//              "holdout_pool", "verdict"},
//  "calibration": {"slope", "intercept"},
//  "bands": [{"band", "from", "to", "pool", "members"}],
//  "drivers": [{"attribute", "entity", "field", "importance", "summary"}],
//  "attributes_used": [...],
//  "members": [{"customer", "similarity", "band"}] (the first member_limit of them)}
nlohmann::ordered_json ToJson(const LookalikeResult& result, size_t member_limit = 20);

}  // namespace cdp
