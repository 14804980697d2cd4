// Gradient-boosted trees: the project's one wrapper of XGBoost's C API
// (Debian's libxgboost 1.7, /usr/include/xgboost/c_api.h). Everything else
// (churn models, imported models trained elsewhere) goes through this class
// and never sees a handle or XGBoost's error strings without context.
//
// References: Chen & Guestrin 2016, "XGBoost: A Scalable Tree Boosting
// System" (the trainer); Lundberg, Erion & Lee 2018, "Consistent
// Individualized Feature Attribution for Tree Ensembles" (TreeSHAP, behind
// Contributions: XGBoost's pred_contribs).
//
// Thread-safety: a Booster is not copyable; Predict, Contributions, SaveJson
// and Importance are const but XGBoost keeps per-handle prediction caches, so
// calls on ONE Booster must not run concurrently (guard it or give each
// thread its own LoadJson copy). Different Boosters are independent. Results
// are deterministic for a given seed and thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

// A dense row-major feature matrix; NaN marks a missing value.
struct FeatureMatrix {
  std::vector<std::string> names;  // one per column
  int64_t rows = 0;
  std::vector<float> values;  // rows * names.size()
  int64_t cols() const { return static_cast<int64_t>(names.size()); }
  float at(int64_t row, int64_t col) const { return values[static_cast<size_t>(row * cols() + col)]; }
};

struct BoosterParams {
  int rounds = 200;
  int max_depth = 4;
  double eta = 0.05;
  double subsample = 0.8;
  double colsample = 0.8;  // colsample_bytree
  double min_child_weight = 1;
  std::string objective = "binary:logistic";  // binary:logistic or reg:squarederror
  // 0: automatic, one thread per 20,000 rows up to the cores (OpenMP's
  // per-round synchronisation costs more than it saves on small matrices,
  // and its spinning threads starve on a busy machine); see ResolveBoosterThreads.
  int threads = 0;
  uint64_t seed = 1;
};

// OK or InvalidArgument naming the parameter and value (rounds 1..10000,
// max_depth 1..20, eta (0, 1], subsample and colsample (0, 1],
// min_child_weight >= 0, threads 0..256, objective one of the two above).
Status ValidateBoosterParams(const BoosterParams& params);

// The training threads for `rows` rows: params.threads when set, else
// clamp(rows / 20000, 1, hardware threads).
int ResolveBoosterThreads(const BoosterParams& params, int64_t rows);

class Booster {
 public:
  // An empty booster (no model): every call below is a FailedPrecondition,
  // num_features() is 0. Train and LoadJson make usable ones.
  Booster() = default;
  Booster(Booster&& other) noexcept;
  Booster& operator=(Booster&& other) noexcept;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster();

  // Trains on `x` with one label per row. InvalidArgument for bad params,
  // a label count that differs from x.rows, no rows or no columns, or a
  // values size that is not rows * cols; Internal with XGBoost's message if
  // the library fails.
  static StatusOr<Booster> Train(const FeatureMatrix& x, std::span<const float> labels, const BoosterParams& params);

  // A model trained elsewhere, in XGBoost's save_model JSON. At most
  // kMaxModelBytes, nesting at most 64 levels; the trees are checked before
  // XGBoost sees them (arrays of one length per tree, children indexes after
  // their parent and inside the tree, split features < num_feature), so a
  // hostile file is an InvalidArgument naming what is wrong, never a crash.
  static StatusOr<Booster> LoadJson(std::string_view json);
  static constexpr size_t kMaxModelBytes = 256u << 20;
  static constexpr int64_t kMaxTrees = 100000;

  StatusOr<std::string> SaveJson() const;

  int64_t num_features() const;
  // The model's objective as stored ("binary:logistic", ...).
  const std::string& objective() const { return objective_; }

  // One prediction per row (a probability for binary:logistic).
  // InvalidArgument when x.cols() != num_features().
  StatusOr<std::vector<float>> Predict(const FeatureMatrix& x) const;
  // The margin (log-odds for binary:logistic) per row.
  StatusOr<std::vector<float>> PredictMargin(const FeatureMatrix& x) const;
  // rows x (features + 1), row-major: each feature's SHAP contribution to the
  // margin, the last column the bias; a row sums to PredictMargin's value.
  StatusOr<std::vector<float>> Contributions(const FeatureMatrix& x) const;
  // Total gain of the splits on each feature (0 for unused features);
  // num_features() values.
  StatusOr<std::vector<double>> Importance() const;

 private:
  explicit Booster(void* handle) : handle_(handle) {}
  StatusOr<std::vector<float>> PredictType(const FeatureMatrix& x, int type) const;
  Status ReadModelInfo();
  void* handle_ = nullptr;  // BoosterHandle
  int64_t num_features_ = 0;
  std::string objective_;
};

}  // namespace cdp
