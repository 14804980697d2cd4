#include "predict/tree_shap.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/parallel.h"

namespace cdp {
namespace {

// A number stored as a JSON number or string ("5E-1").
bool NumberField(const nlohmann::json& obj, const char* key, double* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_number()) {
    *out = it->get<double>();
    return true;
  }
  if (!it->is_string()) return false;
  const std::string s = it->get<std::string>();
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0';
}

// The entries of one leaf's table: for each pattern `mask` of satisfied path
// features and each feature i, v (o_i - z_i) sum_S |S|!(k-1-|S|)!/k! prod_S o prod_rest z.
void FillTable(double v, const std::vector<double>& z, float* out) {
  const int k = static_cast<int>(z.size());
  std::vector<double> w(static_cast<size_t>(k));  // |S|! (k-1-|S|)! / k!
  for (int s = 0; s < k; ++s) {
    double r = 1.0 / k;  // s = 0: (k-1)!/k!
    for (int a = 1; a <= s; ++a) r *= static_cast<double>(a) / static_cast<double>(k - a);
    w[static_cast<size_t>(s)] = r;
  }
  std::vector<double> poly(static_cast<size_t>(k) + 1);
  for (uint32_t mask = 0; mask < (1u << k); ++mask) {
    for (int i = 0; i < k; ++i) {
      // poly: coefficients of prod_{j in ones\{i}} (x + z_j); x^s picks |S| = s.
      std::fill(poly.begin(), poly.end(), 0.0);
      poly[0] = 1.0;
      int degree = 0;
      double zeros = 1.0;
      for (int j = 0; j < k; ++j) {
        if (j == i) continue;
        if (mask & (1u << j)) {
          ++degree;
          for (int s = degree; s >= 1; --s) poly[s] = poly[s] * z[j] + poly[s - 1];
          poly[0] *= z[j];
        } else {
          zeros *= z[j];
        }
      }
      double sum = 0;
      for (int s = 0; s <= degree; ++s) sum += w[static_cast<size_t>(s)] * poly[static_cast<size_t>(s)];
      const double o = (mask & (1u << i)) ? 1.0 : 0.0;
      out[static_cast<size_t>(mask) * k + i] = static_cast<float>(v * (o - z[i]) * zeros * sum);
    }
  }
}

}  // namespace

StatusOr<TreeShap> TreeShap::Build(const Booster& booster) {
  if (booster.num_features() == 0) return FailedPreconditionError("tree SHAP: the booster holds no model");
  const std::string& objective = booster.objective();
  const bool logistic = objective == "binary:logistic" || objective == "reg:logistic";
  if (!logistic && objective != "reg:squarederror") {
    return FailedPreconditionError("tree SHAP: objective '" + objective + "' is not tabulated");
  }
  CDP_ASSIGN_OR_RETURN(std::string text, booster.SaveJson());
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& what) { return InternalError("tree SHAP: saved model JSON: " + what); };
  if (doc.is_discarded()) return bad("not JSON");
  TreeShap out;
  out.num_features_ = booster.num_features();
  try {
    const auto& learner = doc.at("learner");
    double base_score = 0;
    if (!NumberField(learner.at("learner_model_param"), "base_score", &base_score)) return bad("no base_score");
    if (logistic) {
      if (!(base_score > 0 && base_score < 1)) return bad("base_score " + std::to_string(base_score) + " outside (0, 1)");
      out.bias_ = std::log(base_score / (1 - base_score));
    } else {
      out.bias_ = base_score;
    }
    const auto& trees = learner.at("gradient_booster").at("model").at("trees");
    int64_t entries = 0;
    for (size_t t = 0; t < trees.size(); ++t) {
      const auto& tree = trees[t];
      const auto& left = tree.at("left_children");
      const auto& right = tree.at("right_children");
      const auto& split = tree.at("split_indices");
      const auto& cond = tree.at("split_conditions");
      const auto& dleft = tree.at("default_left");
      const auto& cover = tree.at("sum_hessian");
      const int32_t n = static_cast<int32_t>(left.size());
      if (n < 1 || right.size() != left.size() || split.size() != left.size() || cond.size() != left.size() ||
          dleft.size() != left.size() || cover.size() != left.size()) {
        return bad("tree " + std::to_string(t) + " has arrays of different lengths");
      }
      Tree tr;
      tr.node_begin = static_cast<int32_t>(out.split_feature_.size());
      tr.num_nodes = n;
      tr.leaf_begin = static_cast<int32_t>(out.leaves_.size());
      std::vector<int32_t> l(n), r(n);
      for (int32_t i = 0; i < n; ++i) {
        l[i] = left[i].get<int32_t>();
        r[i] = right[i].get<int32_t>();
        const bool leaf = l[i] == -1;
        if (!leaf && (l[i] <= i || l[i] >= n || r[i] <= i || r[i] >= n)) {
          return bad("tree " + std::to_string(t) + " node " + std::to_string(i) + " has bad children");
        }
        const int32_t f = split[i].get<int32_t>();
        if (!leaf && (f < 0 || f >= out.num_features_)) return bad("split feature out of range");
        out.split_feature_.push_back(leaf ? -1 : f);
        out.split_value_.push_back(cond[i].get<float>());
        out.default_left_.push_back(dleft[i].get<int>() != 0 ? 1 : 0);
      }
      // Depth-first over root-to-leaf paths.
      struct Frame {
        int32_t node;
        std::vector<std::pair<int32_t, uint8_t>> path;  // (split node, went left)
        double weight;                                   // product of cover ratios (the tree mean's weight)
      };
      std::vector<Frame> stack{{0, {}, 1.0}};
      double tree_mean = 0;
      while (!stack.empty()) {
        Frame fr = std::move(stack.back());
        stack.pop_back();
        const int32_t node = fr.node;
        const double parent_cover = cover[node].get<double>();
        if (l[node] != -1) {
          for (int side = 0; side < 2; ++side) {
            const int32_t child = side == 0 ? l[node] : r[node];
            const double ratio = parent_cover > 0 ? cover[child].get<double>() / parent_cover : 0.0;
            Frame next{child, fr.path, fr.weight * ratio};
            next.path.push_back({node, static_cast<uint8_t>(side == 0)});
            stack.push_back(std::move(next));
          }
          continue;
        }
        const double v = cond[node].get<double>();
        tree_mean += v * fr.weight;
        Leaf leaf;
        leaf.step_begin = static_cast<int32_t>(out.steps_.size());
        leaf.num_steps = static_cast<int32_t>(fr.path.size());
        leaf.feature_begin = static_cast<int32_t>(out.leaf_features_.size());
        std::vector<double> z;
        for (const auto& [split_node, went_left] : fr.path) {
          const int32_t f = out.split_feature_[static_cast<size_t>(tr.node_begin + split_node)];
          int32_t pos = 0;
          while (pos < leaf.k && out.leaf_features_[static_cast<size_t>(leaf.feature_begin + pos)] != f) ++pos;
          if (pos == leaf.k) {
            if (leaf.k == kMaxPathFeatures) {
              return FailedPreconditionError("tree SHAP: a leaf path tests more than " +
                                             std::to_string(kMaxPathFeatures) + " distinct features");
            }
            out.leaf_features_.push_back(f);
            z.push_back(1.0);
            ++leaf.k;
          }
          const int32_t child = went_left ? l[split_node] : r[split_node];
          const double pc = cover[split_node].get<double>();
          z[static_cast<size_t>(pos)] *= pc > 0 ? cover[child].get<double>() / pc : 0.0;
          out.steps_.push_back({split_node, went_left, static_cast<uint8_t>(pos)});
        }
        entries += (int64_t{1} << leaf.k) * leaf.k;
        if (entries > kMaxTableEntries) {
          return FailedPreconditionError("tree SHAP: the tables would exceed " + std::to_string(kMaxTableEntries) +
                                         " entries");
        }
        leaf.table_begin = static_cast<int64_t>(out.table_.size());
        out.table_.resize(out.table_.size() + (size_t{1} << leaf.k) * static_cast<size_t>(leaf.k));
        if (leaf.k > 0) FillTable(v, z, out.table_.data() + leaf.table_begin);  // k = 0: a one-leaf tree, bias only
        out.leaves_.push_back(leaf);
      }
      out.bias_ += tree_mean;
      tr.num_leaves = static_cast<int32_t>(out.leaves_.size()) - tr.leaf_begin;
      out.max_nodes_ = std::max(out.max_nodes_, n);
      out.trees_.push_back(tr);
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return out;
}

StatusOr<std::vector<float>> TreeShap::Contributions(const FeatureMatrix& x, int threads) const {
  if (x.cols() != num_features_) {
    return InvalidArgumentError("tree SHAP: " + std::to_string(x.cols()) + " features given, the model has " +
                                std::to_string(num_features_));
  }
  if (x.rows < 0 || x.values.size() != static_cast<size_t>(x.rows) * x.names.size()) {
    return InvalidArgumentError("tree SHAP: " + std::to_string(x.values.size()) + " values for " +
                                std::to_string(x.rows) + " rows x " + std::to_string(x.cols()) + " columns");
  }
  const int64_t width = num_features_ + 1;
  std::vector<float> out(static_cast<size_t>(x.rows * width));
  const int workers = ResolveThreads(threads);
  std::vector<std::vector<double>> phi(static_cast<size_t>(workers), std::vector<double>(static_cast<size_t>(width)));
  std::vector<std::vector<uint8_t>> go_left(static_cast<size_t>(workers),
                                            std::vector<uint8_t>(static_cast<size_t>(max_nodes_)));
  ParallelFor(workers, static_cast<size_t>(x.rows), 1024, [&](size_t begin, size_t end, int worker) {
    std::vector<double>& acc = phi[static_cast<size_t>(worker)];
    uint8_t* dir = go_left[static_cast<size_t>(worker)].data();
    for (size_t row = begin; row < end; ++row) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const float* xr = &x.values[row * static_cast<size_t>(num_features_)];
      for (const Tree& tr : trees_) {
        const int32_t* sf = &split_feature_[static_cast<size_t>(tr.node_begin)];
        const float* sv = &split_value_[static_cast<size_t>(tr.node_begin)];
        const uint8_t* dl = &default_left_[static_cast<size_t>(tr.node_begin)];
        for (int32_t i = 0; i < tr.num_nodes; ++i) {
          if (sf[i] < 0) continue;
          const float v = xr[sf[i]];
          dir[i] = std::isnan(v) ? dl[i] : static_cast<uint8_t>(v < sv[i]);
        }
        for (int32_t li = 0; li < tr.num_leaves; ++li) {
          const Leaf& leaf = leaves_[static_cast<size_t>(tr.leaf_begin + li)];
          if (leaf.k == 0) continue;
          uint32_t mask = (1u << leaf.k) - 1;
          const Step* st = &steps_[static_cast<size_t>(leaf.step_begin)];
          for (int32_t s = 0; s < leaf.num_steps; ++s) {
            if (dir[st[s].node] != st[s].left) mask &= ~(1u << st[s].position);
          }
          const float* entry = &table_[static_cast<size_t>(leaf.table_begin) + static_cast<size_t>(mask) * leaf.k];
          const int32_t* feat = &leaf_features_[static_cast<size_t>(leaf.feature_begin)];
          for (int32_t p = 0; p < leaf.k; ++p) acc[static_cast<size_t>(feat[p])] += entry[p];
        }
      }
      float* o = &out[row * static_cast<size_t>(width)];
      for (int64_t j = 0; j < num_features_; ++j) o[j] = static_cast<float>(acc[static_cast<size_t>(j)]);
      o[num_features_] = static_cast<float>(bias_);
    }
  });
  return out;
}

}  // namespace cdp
