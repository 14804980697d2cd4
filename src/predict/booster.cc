#include "predict/booster.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json_scan.h"

namespace cdp {
namespace {

Status XgbError(std::string_view what) {
  const char* e = XGBGetLastError();
  return InternalError("xgboost " + std::string(what) + ": " + (e ? e : "unknown error"));
}

#define CDP_XGB(call, what)                       \
  do {                                            \
    if ((call) != 0) return XgbError(what);       \
  } while (0)

// Frees a DMatrixHandle at scope end.
class DMatrix {
 public:
  DMatrix() = default;
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  ~DMatrix() {
    if (h_) XGDMatrixFree(h_);
  }
  DMatrixHandle* out() { return &h_; }
  DMatrixHandle get() const { return h_; }

 private:
  DMatrixHandle h_ = nullptr;
};

Status CheckMatrix(const FeatureMatrix& x) {
  if (x.rows < 0) return InvalidArgumentError("feature matrix: rows " + std::to_string(x.rows) + " is negative");
  if (x.values.size() != static_cast<size_t>(x.rows) * x.names.size()) {
    return InvalidArgumentError("feature matrix: " + std::to_string(x.values.size()) + " values for " +
                                std::to_string(x.rows) + " rows x " + std::to_string(x.names.size()) + " columns");
  }
  return Status::Ok();
}

Status MakeDMatrix(const FeatureMatrix& x, int threads, DMatrix* m) {
  CDP_RETURN_IF_ERROR(CheckMatrix(x));
  CDP_XGB(XGDMatrixCreateFromMat_omp(x.values.data(), static_cast<bst_ulong>(x.rows),
                                     static_cast<bst_ulong>(x.names.size()), NAN, m->out(), threads),
          "creating the feature matrix");
  return Status::Ok();
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A model parameter stored as a JSON string ("12") or number.
bool IntField(const nlohmann::json& obj, const char* key, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  try {
    if (it->is_number_integer()) {
      *out = it->get<int64_t>();
      return true;
    }
    if (it->is_string()) {
      size_t pos = 0;
      std::string s = it->get<std::string>();
      *out = std::stoll(s, &pos);
      return pos == s.size();
    }
  } catch (...) {
  }
  return false;
}

Status CheckTree(const nlohmann::json& tree, int64_t t, int64_t num_feature) {
  std::string where = "model JSON: trees[" + std::to_string(t) + "]";
  if (!tree.is_object()) return InvalidArgumentError(where + " is not an object");
  auto tp = tree.find("tree_param");
  int64_t nodes = 0;
  if (tp == tree.end() || !tp->is_object() || !IntField(*tp, "num_nodes", &nodes) || nodes < 1 || nodes > (1 << 24)) {
    return InvalidArgumentError(where + ".tree_param.num_nodes missing or outside 1..16777216");
  }
  for (const char* key : {"left_children", "right_children", "split_indices", "split_conditions", "base_weights",
                          "default_left", "parents", "loss_changes", "sum_hessian"}) {
    auto a = tree.find(key);
    if (a == tree.end() || !a->is_array()) return InvalidArgumentError(where + "." + key + " missing or not an array");
    if (static_cast<int64_t>(a->size()) != nodes) {
      return InvalidArgumentError(where + "." + key + " has " + std::to_string(a->size()) + " entries for " +
                                  std::to_string(nodes) + " nodes");
    }
    for (const auto& v : *a) {
      if (!v.is_number()) return InvalidArgumentError(where + "." + key + " holds a non-number");
    }
  }
  if (auto st = tree.find("split_type"); st != tree.end()) {
    if (!st->is_array()) return InvalidArgumentError(where + ".split_type is not an array");
    for (const auto& v : *st) {
      if (!v.is_number_integer() || v.get<int64_t>() != 0) {
        return InvalidArgumentError(where + ".split_type: categorical splits are not supported");
      }
    }
  }
  const auto& left = tree["left_children"];
  const auto& right = tree["right_children"];
  const auto& split = tree["split_indices"];
  for (int64_t i = 0; i < nodes; ++i) {
    if (!left[i].is_number_integer() || !right[i].is_number_integer() || !split[i].is_number_integer()) {
      return InvalidArgumentError(where + ": node " + std::to_string(i) + " has a non-integer child or split index");
    }
    int64_t l = left[i].get<int64_t>(), r = right[i].get<int64_t>();
    if (l == -1 && r == -1) continue;
    if (l <= i || l >= nodes || r <= i || r >= nodes || l == r) {
      return InvalidArgumentError(where + ": node " + std::to_string(i) + " has children " + std::to_string(l) + ", " +
                                  std::to_string(r) + " (must be two distinct later nodes of the tree)");
    }
    int64_t f = split[i].get<int64_t>();
    if (f < 0 || f >= num_feature) {
      return InvalidArgumentError(where + ": node " + std::to_string(i) + " splits on feature " + std::to_string(f) +
                                  " of " + std::to_string(num_feature));
    }
  }
  return Status::Ok();
}

Status CheckModelJson(std::string_view text) {
  if (text.size() > Booster::kMaxModelBytes) {
    return InvalidArgumentError("model JSON: " + std::to_string(text.size()) + " bytes, more than the limit of " +
                                std::to_string(Booster::kMaxModelBytes));
  }
  JsonScanOptions scan;
  scan.max_depth = 64;
  CDP_RETURN_IF_ERROR(ScanJson(text, scan).WithContext("model JSON"));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("model JSON: not valid JSON");
  if (!doc.is_object() || !doc.contains("learner") || !doc["learner"].is_object()) {
    return InvalidArgumentError("model JSON: no 'learner' object (expected XGBoost save_model JSON)");
  }
  const auto& learner = doc["learner"];
  auto mp = learner.find("learner_model_param");
  int64_t num_feature = 0, num_class = 0;
  if (mp == learner.end() || !mp->is_object() || !IntField(*mp, "num_feature", &num_feature) || num_feature < 1 ||
      num_feature > 1000000) {
    return InvalidArgumentError("model JSON: learner.learner_model_param.num_feature missing or outside 1..1000000");
  }
  if (IntField(*mp, "num_class", &num_class) && num_class > 1) {
    return InvalidArgumentError("model JSON: multi-class models (num_class " + std::to_string(num_class) +
                                ") are not supported");
  }
  auto gb = learner.find("gradient_booster");
  if (gb == learner.end() || !gb->is_object() || gb->value("name", std::string()) != "gbtree") {
    return InvalidArgumentError("model JSON: learner.gradient_booster must be a 'gbtree' booster");
  }
  auto model = gb->find("model");
  if (model == gb->end() || !model->is_object() || !model->contains("trees") || !(*model)["trees"].is_array()) {
    return InvalidArgumentError("model JSON: learner.gradient_booster.model.trees missing");
  }
  const auto& trees = (*model)["trees"];
  if (static_cast<int64_t>(trees.size()) > Booster::kMaxTrees) {
    return InvalidArgumentError("model JSON: " + std::to_string(trees.size()) + " trees, more than the limit of " +
                                std::to_string(Booster::kMaxTrees));
  }
  auto gp = model->find("gbtree_model_param");
  int64_t num_trees = -1;
  if (gp == model->end() || !gp->is_object() || !IntField(*gp, "num_trees", &num_trees) ||
      num_trees != static_cast<int64_t>(trees.size())) {
    return InvalidArgumentError("model JSON: gbtree_model_param.num_trees does not match the " +
                                std::to_string(trees.size()) + " trees given");
  }
  auto info = model->find("tree_info");
  if (info == model->end() || !info->is_array() || info->size() != trees.size()) {
    return InvalidArgumentError("model JSON: tree_info must have one entry per tree");
  }
  for (const auto& v : *info) {
    if (!v.is_number_integer() || v.get<int64_t>() != 0) {
      return InvalidArgumentError("model JSON: tree_info entries must be 0 (one output group)");
    }
  }
  for (size_t t = 0; t < trees.size(); ++t) CDP_RETURN_IF_ERROR(CheckTree(trees[t], static_cast<int64_t>(t), num_feature));
  return Status::Ok();
}

}  // namespace

Status ValidateBoosterParams(const BoosterParams& p) {
  auto bad = [](const char* name, const std::string& value, const char* range) {
    return InvalidArgumentError(std::string("booster.") + name + " = " + value + ": must be " + range);
  };
  if (p.rounds < 1 || p.rounds > 10000) return bad("rounds", std::to_string(p.rounds), "1..10000");
  if (p.max_depth < 1 || p.max_depth > 20) return bad("max_depth", std::to_string(p.max_depth), "1..20");
  if (!(p.eta > 0 && p.eta <= 1)) return bad("eta", Num(p.eta), "in (0, 1]");
  if (!(p.subsample > 0 && p.subsample <= 1)) return bad("subsample", Num(p.subsample), "in (0, 1]");
  if (!(p.colsample > 0 && p.colsample <= 1)) return bad("colsample", Num(p.colsample), "in (0, 1]");
  if (!(p.min_child_weight >= 0 && std::isfinite(p.min_child_weight))) {
    return bad("min_child_weight", Num(p.min_child_weight), ">= 0");
  }
  if (p.threads < 0 || p.threads > 256) return bad("threads", std::to_string(p.threads), "0..256");
  if (p.objective != "binary:logistic" && p.objective != "reg:squarederror") {
    return bad("objective", "'" + p.objective + "'", "binary:logistic or reg:squarederror");
  }
  return Status::Ok();
}

int ResolveBoosterThreads(const BoosterParams& params, int64_t rows) {
  if (params.threads > 0) return params.threads;
  int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::clamp<int64_t>(rows / 20000, 1, hardware));
}

Booster::Booster(Booster&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      num_features_(other.num_features_),
      objective_(std::move(other.objective_)) {}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_) XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    num_features_ = other.num_features_;
    objective_ = std::move(other.objective_);
  }
  return *this;
}

Booster::~Booster() {
  if (handle_) XGBoosterFree(handle_);
}

Status Booster::ReadModelInfo() {
  bst_ulong n = 0;
  CDP_XGB(XGBoosterGetNumFeature(handle_, &n), "reading the number of features");
  num_features_ = static_cast<int64_t>(n);
  bst_ulong len = 0;
  const char* config = nullptr;
  CDP_XGB(XGBoosterSaveJsonConfig(handle_, &len, &config), "reading the configuration");
  nlohmann::json c = nlohmann::json::parse(std::string_view(config, len), nullptr, false);
  objective_.clear();
  if (!c.is_discarded() && c.contains("learner") && c["learner"].contains("objective")) {
    objective_ = c["learner"]["objective"].value("name", std::string());
  }
  return Status::Ok();
}

StatusOr<Booster> Booster::Train(const FeatureMatrix& x, std::span<const float> labels, const BoosterParams& params) {
  CDP_RETURN_IF_ERROR(ValidateBoosterParams(params));
  CDP_RETURN_IF_ERROR(CheckMatrix(x));
  if (x.rows == 0 || x.names.empty()) {
    return InvalidArgumentError("training needs at least one row and one feature (got " + std::to_string(x.rows) +
                                " x " + std::to_string(x.names.size()) + ")");
  }
  if (static_cast<int64_t>(labels.size()) != x.rows) {
    return InvalidArgumentError("training: " + std::to_string(labels.size()) + " labels for " + std::to_string(x.rows) +
                                " rows");
  }
  const int threads = ResolveBoosterThreads(params, x.rows);
  DMatrix m;
  CDP_RETURN_IF_ERROR(MakeDMatrix(x, threads, &m));
  CDP_XGB(XGDMatrixSetFloatInfo(m.get(), "label", labels.data(), static_cast<bst_ulong>(labels.size())),
          "setting the labels");
  DMatrixHandle dm = m.get();
  BoosterHandle h = nullptr;
  CDP_XGB(XGBoosterCreate(&dm, 1, &h), "creating the booster");
  Booster b(h);
  const std::pair<const char*, std::string> settings[] = {
      {"objective", params.objective},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(params.max_depth)},
      {"eta", Num(params.eta)},
      {"subsample", Num(params.subsample)},
      {"colsample_bytree", Num(params.colsample)},
      {"min_child_weight", Num(params.min_child_weight)},
      {"seed", std::to_string(params.seed)},
      {"verbosity", "0"},
  };
  for (const auto& [key, value] : settings) CDP_XGB(XGBoosterSetParam(h, key, value.c_str()), key);
  CDP_XGB(XGBoosterSetParam(h, "nthread", std::to_string(threads).c_str()), "nthread");
  for (int i = 0; i < params.rounds; ++i) CDP_XGB(XGBoosterUpdateOneIter(h, i, dm), "training");
  CDP_RETURN_IF_ERROR(b.ReadModelInfo());
  return b;
}

StatusOr<Booster> Booster::LoadJson(std::string_view json) {
  CDP_RETURN_IF_ERROR(CheckModelJson(json));
  BoosterHandle h = nullptr;
  CDP_XGB(XGBoosterCreate(nullptr, 0, &h), "creating the booster");
  Booster b(h);
  if (XGBoosterLoadModelFromBuffer(h, json.data(), static_cast<bst_ulong>(json.size())) != 0) {
    const char* e = XGBGetLastError();
    return InvalidArgumentError(std::string("model JSON refused by XGBoost: ") + (e ? e : "unknown error"));
  }
  CDP_RETURN_IF_ERROR(b.ReadModelInfo());
  return b;
}

namespace {
Status Empty() { return FailedPreconditionError("the booster holds no model (train or load one first)"); }
}  // namespace

StatusOr<std::string> Booster::SaveJson() const {
  if (!handle_) return Empty();
  bst_ulong len = 0;
  const char* data = nullptr;
  CDP_XGB(XGBoosterSaveModelToBuffer(handle_, R"({"format": "json"})", &len, &data), "saving the model");
  return std::string(data, len);
}

int64_t Booster::num_features() const { return num_features_; }

StatusOr<std::vector<float>> Booster::PredictType(const FeatureMatrix& x, int type) const {
  if (!handle_) return Empty();
  if (x.cols() != num_features_) {
    return InvalidArgumentError("prediction: " + std::to_string(x.cols()) + " features given, the model has " +
                                std::to_string(num_features_));
  }
  if (x.rows == 0) return std::vector<float>{};
  DMatrix m;
  CDP_RETURN_IF_ERROR(MakeDMatrix(x, 0, &m));
  std::string config = R"({"type": )" + std::to_string(type) +
                       R"(, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  CDP_XGB(XGBoosterPredictFromDMatrix(handle_, m.get(), config.c_str(), &shape, &dim, &result), "predicting");
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= static_cast<size_t>(shape[i]);
  size_t expected = static_cast<size_t>(x.rows) * (type == 2 ? static_cast<size_t>(num_features_ + 1) : 1);
  if (n != expected) {
    return InternalError("xgboost prediction returned " + std::to_string(n) + " values, expected " +
                         std::to_string(expected));
  }
  return std::vector<float>(result, result + n);
}

StatusOr<std::vector<float>> Booster::Predict(const FeatureMatrix& x) const { return PredictType(x, 0); }
StatusOr<std::vector<float>> Booster::PredictMargin(const FeatureMatrix& x) const { return PredictType(x, 1); }
StatusOr<std::vector<float>> Booster::Contributions(const FeatureMatrix& x) const { return PredictType(x, 2); }

StatusOr<std::vector<double>> Booster::Importance() const {
  if (!handle_) return Empty();
  std::vector<double> out(static_cast<size_t>(num_features_), 0.0);
  bst_ulong n_features = 0, dim = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (XGBoosterFeatureScore(handle_, R"({"importance_type": "total_gain"})", &n_features, &names, &dim, &shape,
                            &scores) != 0) {
    // A model of leaves only has no splits: every feature's gain is 0.
    std::string e = XGBGetLastError();
    if (e.find("empty") != std::string::npos || e.find("no split") != std::string::npos) return out;
    return XgbError("computing feature importance");
  }
  for (bst_ulong i = 0; i < n_features; ++i) {
    // Unnamed features are "f<index>".
    const char* name = names[i];
    if (name[0] != 'f') continue;
    char* end = nullptr;
    long index = std::strtol(name + 1, &end, 10);
    if (*end != '\0' || index < 0 || index >= num_features_) continue;
    out[static_cast<size_t>(index)] = scores[i];
  }
  return out;
}

}  // namespace cdp
