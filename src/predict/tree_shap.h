// Exact TreeSHAP contributions of a gradient-boosted tree ensemble, computed
// from per-leaf tables instead of XGBoost's recursive walk, several times
// faster, so that every scored customer can get exact factors.
//
// References: Lundberg, Erion & Lee 2018, "Consistent Individualized Feature
// Attribution for Tree Ensembles" (TreeSHAP: the path-dependent Shapley values
// that XGBoost's pred_contribs computes); Yang 2021, "Fast TreeSHAP: Accelerating
// SHAP Value Computation for Trees" (the idea used here: a leaf's share of
// every feature's Shapley value depends only on which of the features on its
// path the row satisfies, so it can be tabulated once per model).
// For a leaf with value v whose root path tests the distinct features
// P = {1..k} (a feature tested twice on the path is merged: its zero fraction
// is the product of its cover ratios, its one fraction the AND of its tests),
//   phi_i += v (o_i - z_i) sum_{S subset P\{i}} |S|! (k-1-|S|)! / k!
//                          prod_{j in S} o_j prod_{j in P\{i}\S} z_j,
// with o_j in {0,1} whether the row follows the path at feature j and z_j the
// share of the training cover that does. The table holds this for each of
// the 2^k patterns of o; a row costs one pass over each tree's nodes and a
// table look-up per leaf. The result equals pred_contribs up to float
// rounding (booster's test and tree_shap_test compare them), bias column included.
// Why not XGBoost's own: libxgboost 1.7 walks the recursion (with a heap
// allocation) per row and tree; on bench_predictions' 1M customers x 200
// trees (depth 4, 26 features) the tables took 198.6 s against
// pred_contribs' 1226.6 s in the same run on a loaded machine (6.2x; 5.2x at
// 20k rows), the largest difference 3.3e-6.
//
// Thread-safety: a built TreeShap is immutable; Contributions may be called
// from several threads at once.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "predict/booster.h"

namespace cdp {

class TreeShap {
 public:
  // Distinct features on one leaf's path above which Build refuses (the
  // table has 2^k x k entries per leaf); the caller then uses
  // Booster::Contributions.
  static constexpr int kMaxPathFeatures = 12;
  // Upper bound on all tables together, in entries (4 bytes each).
  static constexpr int64_t kMaxTableEntries = int64_t{1} << 26;

  // Tabulates `booster`'s trees (read from its SaveJson). FailedPrecondition
  // when the model is outside what the tables cover: an empty booster, an
  // objective other than binary:logistic / reg:logistic / reg:squarederror, a
  // leaf path with more than kMaxPathFeatures distinct features, or tables
  // above kMaxTableEntries. Internal when the saved JSON is malformed.
  static StatusOr<TreeShap> Build(const Booster& booster);

  int64_t num_features() const { return num_features_; }

  // rows x (features + 1), row-major, as Booster::Contributions: each
  // feature's contribution to the margin, the last column the bias (the base
  // margin plus each tree's cover-weighted mean). InvalidArgument when
  // x.cols() != num_features() or the values size is not rows x cols.
  // threads <= 0: one per core. Deterministic for any thread count.
  StatusOr<std::vector<float>> Contributions(const FeatureMatrix& x, int threads = 0) const;

 private:
  struct Tree {
    int32_t node_begin = 0;  // into split_feature_/split_value_/default_left_ (internal and leaf nodes)
    int32_t num_nodes = 0;
    int32_t leaf_begin = 0;  // into leaves_
    int32_t num_leaves = 0;
  };
  struct Leaf {
    int32_t step_begin = 0;  // into steps_
    int32_t num_steps = 0;
    int32_t feature_begin = 0;  // into leaf_features_ (k distinct features)
    int32_t k = 0;
    int64_t table_begin = 0;  // into table_: 2^k rows of k entries
  };
  struct Step {
    int32_t node = 0;     // tree-local node index of the split
    uint8_t left = 0;     // 1 when the path goes to the left child
    uint8_t position = 0; // which of the leaf's k features
  };
  int64_t num_features_ = 0;
  double bias_ = 0;
  std::vector<Tree> trees_;
  std::vector<int32_t> split_feature_;  // -1 for a leaf
  std::vector<float> split_value_;
  std::vector<uint8_t> default_left_;
  std::vector<Leaf> leaves_;
  std::vector<Step> steps_;
  std::vector<int32_t> leaf_features_;
  std::vector<float> table_;
  int32_t max_nodes_ = 0;
};

}  // namespace cdp
