#include "predict/recommend.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_map>

#include "common/datetime.h"
#include "common/json_scan.h"
#include "common/parallel.h"

namespace cdp {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr size_t kMaxModelJsonBytes = size_t{1} << 30;
constexpr int64_t kMaxProducts = 10'000'000;
constexpr size_t kMaxProductNameBytes = 4096;
constexpr int kMaxFactors = 1024;
constexpr int64_t kMaxValues = 500'000'000;
constexpr size_t kUserGrain = 64;
constexpr size_t kItemGrain = 64;

// First day of the history window [lo, as_of_day).
int64_t WindowStart(int32_t as_of_day, int32_t lookback_days) {
  return lookback_days > 0 ? static_cast<int64_t>(as_of_day) - lookback_days
                           : std::numeric_limits<int64_t>::min();
}

// Customer-product incidence of a window: users are the customers with at
// least one purchase (with a product) in it, items the products bought in it.
struct Incidence {
  std::vector<int64_t> user_customer;
  std::vector<int64_t> u_off{0};
  std::vector<int32_t> u_item;
  std::vector<float> u_count;
  std::vector<int64_t> i_off;
  std::vector<int32_t> i_user;
  std::vector<float> i_count;
  std::vector<int32_t> item_product;  // model item -> log product
  int64_t num_users() const { return static_cast<int64_t>(user_customer.size()); }
  int64_t num_items() const { return static_cast<int64_t>(item_product.size()); }
};

Incidence BuildIncidence(const TransactionLog& log, int32_t as_of_day, int32_t lookback_days) {
  const int64_t lo = WindowStart(as_of_day, lookback_days);
  Incidence inc;
  std::vector<int32_t> product_item(static_cast<size_t>(log.num_products()), -1);
  for (int64_t r = 0; r < log.num_transactions(); ++r) {
    if (log.product[r] >= 0 && log.day[r] < as_of_day && log.day[r] >= lo) product_item[log.product[r]] = 0;
  }
  for (size_t p = 0; p < product_item.size(); ++p) {
    if (product_item[p] == 0) {
      product_item[p] = static_cast<int32_t>(inc.item_product.size());
      inc.item_product.push_back(static_cast<int32_t>(p));
    }
  }
  std::vector<int32_t> items;
  for (int64_t c = 0; c < log.num_customers(); ++c) {
    items.clear();
    for (int64_t r = log.offsets[c]; r < log.offsets[c + 1]; ++r) {
      if (log.day[r] >= as_of_day) break;
      if (log.product[r] >= 0 && log.day[r] >= lo) items.push_back(product_item[log.product[r]]);
    }
    if (items.empty()) continue;
    std::sort(items.begin(), items.end());
    for (size_t i = 0; i < items.size();) {
      size_t j = i;
      while (j < items.size() && items[j] == items[i]) ++j;
      inc.u_item.push_back(items[i]);
      inc.u_count.push_back(static_cast<float>(j - i));
      i = j;
    }
    inc.user_customer.push_back(c);
    inc.u_off.push_back(static_cast<int64_t>(inc.u_item.size()));
  }
  // Transpose (counting sort; users ascending within an item).
  const int64_t n_items = inc.num_items();
  inc.i_off.assign(static_cast<size_t>(n_items) + 1, 0);
  for (int32_t it : inc.u_item) ++inc.i_off[it + 1];
  for (int64_t i = 0; i < n_items; ++i) inc.i_off[i + 1] += inc.i_off[i];
  inc.i_user.resize(inc.u_item.size());
  inc.i_count.resize(inc.u_item.size());
  std::vector<int64_t> pos(inc.i_off.begin(), inc.i_off.end() - 1);
  for (int64_t u = 0; u < inc.num_users(); ++u) {
    for (int64_t e = inc.u_off[u]; e < inc.u_off[u + 1]; ++e) {
      int64_t at = pos[inc.u_item[e]]++;
      inc.i_user[at] = static_cast<int32_t>(u);
      inc.i_count[at] = inc.u_count[e];
    }
  }
  return inc;
}

// Each row's least-squares system of implicit ALS, (YtY + lambda I + Y' (C - I) Y) x = Y' C p,
// improved in place by `steps` conjugate-gradient steps from its current
// value (implicit's least_squares_cg), for every row of `target`. `gram`
// holds YtY + lambda I. K is the number of factors when it is a common one
// (fixed-size Eigen types, unrolled), else Eigen::Dynamic.
template <int K>
void SolveRowsCg(RowMatrix& target, const RowMatrix& Y, const Eigen::MatrixXf& gram_in,
                 const std::vector<int64_t>& off, const std::vector<int32_t>& idx,
                 const std::vector<float>& count, float alpha, int steps, int threads) {
  using Vec = Eigen::Matrix<float, K, 1>;
  using Mat = Eigen::Matrix<float, K, K>;
  const int64_t k = Y.cols();
  const Mat gram = gram_in;
  ParallelFor(threads, static_cast<size_t>(target.rows()), kUserGrain, [&](size_t begin, size_t end, int) {
    Vec x(k), r(k), p(k), ap(k);
    for (size_t row = begin; row < end; ++row) {
      float* xrow = target.data() + static_cast<int64_t>(row) * k;
      x = Eigen::Map<const Vec>(xrow, k);
      const int64_t b = off[row], e = off[row + 1];
      r.noalias() = -gram * x;
      for (int64_t j = b; j < e; ++j) {
        const float c = 1.0f + alpha * count[j];
        Eigen::Map<const Vec> y(Y.data() + static_cast<int64_t>(idx[j]) * k, k);
        r += (c - (c - 1.0f) * y.dot(x)) * y;
      }
      p = r;
      float rsold = r.squaredNorm();
      for (int s = 0; s < steps && rsold >= 1e-20f; ++s) {
        ap.noalias() = gram * p;
        for (int64_t j = b; j < e; ++j) {
          const float c = 1.0f + alpha * count[j];
          Eigen::Map<const Vec> y(Y.data() + static_cast<int64_t>(idx[j]) * k, k);
          ap += ((c - 1.0f) * y.dot(p)) * y;
        }
        const float denom = p.dot(ap);
        if (!(denom > 0)) break;
        const float a = rsold / denom;
        x += a * p;
        r -= a * ap;
        const float rsnew = r.squaredNorm();
        p = r + (rsnew / rsold) * p;
        rsold = rsnew;
      }
      Eigen::Map<Vec>(xrow, k) = x;
    }
  });
}

template <typename M>
Eigen::MatrixXf Gram(const M& m, double regularization) {
  Eigen::MatrixXf g = m.transpose() * m;
  g.diagonal().array() += static_cast<float>(regularization);
  return g;
}

// Uniform [0, 0.01) from a 64-bit generator, independent of the library's distributions.
float SmallUniform(std::mt19937_64& rng) { return static_cast<float>(rng() >> 40) * (0.01f / 16777216.0f); }

void FitAls(const Incidence& inc, const RecommendOptions& o, RecommenderModel* model) {
  const int k = o.factors;
  const int64_t nu = inc.num_users(), ni = inc.num_items();
  RowMatrix X(nu, k), Y(ni, k);
  std::mt19937_64 rng(o.seed);
  for (int64_t i = 0; i < nu; ++i)
    for (int f = 0; f < k; ++f) X(i, f) = SmallUniform(rng);
  for (int64_t i = 0; i < ni; ++i)
    for (int f = 0; f < k; ++f) Y(i, f) = SmallUniform(rng);
  const float alpha = static_cast<float>(o.alpha);
  auto solve_rows = [&](RowMatrix& target, const RowMatrix& fixed, const std::vector<int64_t>& off,
                        const std::vector<int32_t>& idx, const std::vector<float>& count) {
    const Eigen::MatrixXf gram = Gram(fixed, o.regularization);
    switch (k) {
      case 16:
        return SolveRowsCg<16>(target, fixed, gram, off, idx, count, alpha, o.cg_steps, o.threads);
      case 32:
        return SolveRowsCg<32>(target, fixed, gram, off, idx, count, alpha, o.cg_steps, o.threads);
      case 64:
        return SolveRowsCg<64>(target, fixed, gram, off, idx, count, alpha, o.cg_steps, o.threads);
      default:
        return SolveRowsCg<Eigen::Dynamic>(target, fixed, gram, off, idx, count, alpha, o.cg_steps,
                                           o.threads);
    }
  };
  for (int it = 0; it < o.iterations; ++it) {
    solve_rows(X, Y, inc.u_off, inc.u_item, inc.u_count);
    solve_rows(Y, X, inc.i_off, inc.i_user, inc.i_count);
  }
  model->factors = k;
  model->regularization = o.regularization;
  model->alpha = o.alpha;
  model->item_factors.assign(Y.data(), Y.data() + Y.size());
}

void FitItemKnn(const Incidence& inc, const RecommendOptions& o, RecommenderModel* model) {
  const int64_t ni = inc.num_items();
  std::vector<std::vector<std::pair<int32_t, float>>> lists(static_cast<size_t>(ni));
  ParallelFor(o.threads, static_cast<size_t>(ni), kItemGrain, [&](size_t begin, size_t end, int) {
    std::vector<int32_t> co(static_cast<size_t>(ni), 0);
    std::vector<int32_t> touched;
    std::vector<std::pair<int32_t, float>> cand;
    for (size_t i = begin; i < end; ++i) {
      touched.clear();
      for (int64_t e = inc.i_off[i]; e < inc.i_off[i + 1]; ++e) {
        const int32_t u = inc.i_user[e];
        for (int64_t f = inc.u_off[u]; f < inc.u_off[u + 1]; ++f) {
          const int32_t j = inc.u_item[f];
          if (co[j]++ == 0) touched.push_back(j);
        }
      }
      cand.clear();
      const double ni_users = static_cast<double>(inc.i_off[i + 1] - inc.i_off[i]);
      for (int32_t j : touched) {
        if (static_cast<size_t>(j) != i) {
          const double nj_users = static_cast<double>(inc.i_off[j + 1] - inc.i_off[j]);
          cand.emplace_back(j, static_cast<float>(co[j] / std::sqrt(ni_users * nj_users)));
        }
        co[j] = 0;
      }
      auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      };
      const size_t keep = std::min(cand.size(), static_cast<size_t>(o.neighbours));
      std::partial_sort(cand.begin(), cand.begin() + static_cast<int64_t>(keep), cand.end(), better);
      cand.resize(keep);
      lists[i] = cand;
    }
  });
  model->neighbour_offsets.assign(1, 0);
  for (const auto& l : lists) {
    for (const auto& [j, s] : l) {
      model->neighbour_items.push_back(j);
      model->neighbour_similarity.push_back(s);
    }
    model->neighbour_offsets.push_back(static_cast<int64_t>(model->neighbour_items.size()));
  }
}

struct Candidate {
  int32_t item;
  float score;
};
bool Better(const Candidate& a, const Candidate& b) {
  return a.score != b.score ? a.score > b.score : a.item < b.item;
}

// Keeps the best `k` candidates offered, best first.
class TopK {
 public:
  explicit TopK(int k) : k_(static_cast<size_t>(k)) { best_.reserve(k_ + 1); }
  void Clear() { best_.clear(); }
  void Offer(int32_t item, float score) {
    Candidate c{item, score};
    if (best_.size() == k_ && !Better(c, best_.back())) return;
    auto at = std::upper_bound(best_.begin(), best_.end(), c, Better);
    best_.insert(at, c);
    if (best_.size() > k_) best_.pop_back();
  }
  const std::vector<Candidate>& best() const { return best_; }

 private:
  size_t k_;
  std::vector<Candidate> best_;
};

Status ProductFilterMask(const RecommenderModel& model, const TransactionLog& log, const RecommendOptions& o,
                         std::vector<uint8_t>* allowed) {
  allowed->assign(model.product_names.size(), o.products.empty() ? 1 : 0);
  if (o.products.empty()) return Status::Ok();
  std::unordered_map<std::string_view, int32_t> model_index;
  for (size_t i = 0; i < model.product_names.size(); ++i) model_index.emplace(model.product_names[i], i);
  std::unordered_map<std::string_view, int32_t> log_index;
  for (size_t i = 0; i < log.product_names.size(); ++i) log_index.emplace(log.product_names[i], i);
  for (const std::string& name : o.products) {
    auto it = model_index.find(name);
    if (it != model_index.end()) {
      (*allowed)[it->second] = 1;
    } else if (log_index.find(name) == log_index.end()) {
      return InvalidArgumentError("products: '" + name + "' is not a product of the data");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<RecommendAlgorithm> ParseRecommendAlgorithm(std::string_view name) {
  if (name == "als") return RecommendAlgorithm::kAls;
  if (name == "item_knn") return RecommendAlgorithm::kItemKnn;
  if (name == "popular") return RecommendAlgorithm::kPopular;
  return InvalidArgumentError("algorithm: '" + std::string(name) + "' is not one of als, item_knn, popular");
}

std::string_view RecommendAlgorithmName(RecommendAlgorithm algorithm) {
  switch (algorithm) {
    case RecommendAlgorithm::kAls:
      return "als";
    case RecommendAlgorithm::kItemKnn:
      return "item_knn";
    case RecommendAlgorithm::kPopular:
      return "popular";
  }
  return "popular";
}

std::string_view RecommendReasonName(RecommendReason r) {
  switch (r) {
    case RecommendReason::kSimilarCustomers:
      return "similar customers";
    case RecommendReason::kSimilarProducts:
      return "similar products";
    case RecommendReason::kPastPurchases:
      return "past purchases";
    case RecommendReason::kPopular:
      return "popular";
  }
  return "popular";
}

Status ValidateRecommendOptions(const RecommendOptions& o) {
  auto bad = [](std::string_view name, const std::string& value, std::string_view rule) {
    return InvalidArgumentError(std::string(name) + ": " + value + " (" + std::string(rule) + ")");
  };
  if (o.count < 1 || o.count > 1000) return bad("count", std::to_string(o.count), "1..1000");
  if (o.lookback_days < 0)
    return bad("lookback_days", std::to_string(o.lookback_days), "0 = all history, or > 0");
  if (o.factors < 1 || o.factors > kMaxFactors) return bad("factors", std::to_string(o.factors), "1..1024");
  if (!std::isfinite(o.regularization) || o.regularization < 0)
    return bad("regularization", std::to_string(o.regularization), ">= 0");
  if (!std::isfinite(o.alpha) || o.alpha <= 0 || o.alpha > 1e6)
    return bad("alpha", std::to_string(o.alpha), "(0, 1e6]");
  if (o.iterations < 1 || o.iterations > 1000)
    return bad("iterations", std::to_string(o.iterations), "1..1000");
  if (o.cg_steps < 1 || o.cg_steps > 100) return bad("cg_steps", std::to_string(o.cg_steps), "1..100");
  if (o.neighbours < 1 || o.neighbours > 10000)
    return bad("neighbours", std::to_string(o.neighbours), "1..10000");
  if (o.threads < 0) return bad("threads", std::to_string(o.threads), "0 = one per core, or > 0");
  for (const std::string& p : o.products) {
    if (p.empty() || p.size() > kMaxProductNameBytes)
      return bad("products", "'" + p.substr(0, 64) + "'", "a product name");
  }
  return Status::Ok();
}

StatusOr<RecommenderModel> FitRecommender(const TransactionLog& log, int32_t as_of_day,
                                          const RecommendOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateRecommendOptions(options));
  Incidence inc = BuildIncidence(log, as_of_day, options.lookback_days);
  if (inc.num_items() == 0) {
    return FailedPreconditionError("no purchase with a product before " + FormatDate(as_of_day) +
                                   (options.lookback_days > 0
                                        ? " in the last " + std::to_string(options.lookback_days) + " days"
                                        : std::string()));
  }
  RecommenderModel model;
  model.algorithm = options.algorithm;
  model.as_of_day = as_of_day;
  model.lookback_days = options.lookback_days;
  for (int32_t p : inc.item_product) model.product_names.push_back(log.product_names[p]);
  model.popularity.resize(static_cast<size_t>(inc.num_items()));
  for (int64_t i = 0; i < inc.num_items(); ++i)
    model.popularity[i] = static_cast<double>(inc.i_off[i + 1] - inc.i_off[i]);
  if (options.algorithm == RecommendAlgorithm::kAls) FitAls(inc, options, &model);
  if (options.algorithm == RecommendAlgorithm::kItemKnn) FitItemKnn(inc, options, &model);
  return model;
}

StatusOr<RecommendationList> RecommendProducts(const RecommenderModel& model, const TransactionLog& log,
                                               int32_t as_of_day, const RecommendOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateRecommendOptions(options));
  const int64_t ni = static_cast<int64_t>(model.product_names.size());
  if (static_cast<int64_t>(model.popularity.size()) != ni)
    return InvalidArgumentError("model: popularity size differs from products");
  const bool als = model.algorithm == RecommendAlgorithm::kAls;
  const bool knn = model.algorithm == RecommendAlgorithm::kItemKnn;
  const int k = model.factors;
  if (als && (k < 1 || static_cast<int64_t>(model.item_factors.size()) != ni * k))
    return InvalidArgumentError("model: item_factors size differs from products x factors");
  if (knn) {
    if (static_cast<int64_t>(model.neighbour_offsets.size()) != ni + 1 || model.neighbour_offsets[0] != 0 ||
        model.neighbour_offsets.back() != static_cast<int64_t>(model.neighbour_items.size()) ||
        model.neighbour_items.size() != model.neighbour_similarity.size())
      return InvalidArgumentError("model: neighbour lists do not match the products");
    for (int64_t i = 0; i < ni; ++i)
      if (model.neighbour_offsets[i + 1] < model.neighbour_offsets[i])
        return InvalidArgumentError("model: neighbour offsets decrease");
    for (int32_t j : model.neighbour_items)
      if (j < 0 || j >= ni) return InvalidArgumentError("model: neighbour index out of range");
  }

  std::vector<uint8_t> allowed;
  CDP_RETURN_IF_ERROR(ProductFilterMask(model, log, options, &allowed));
  // Model item <-> log product.
  std::unordered_map<std::string_view, int32_t> log_index;
  for (size_t i = 0; i < log.product_names.size(); ++i) log_index.emplace(log.product_names[i], i);
  std::vector<int32_t> item_product(static_cast<size_t>(ni), -1);
  std::vector<int32_t> product_item(log.product_names.size(), -1);
  for (int64_t i = 0; i < ni; ++i) {
    auto it = log_index.find(model.product_names[i]);
    if (it == log_index.end()) {
      allowed[i] = 0;
      continue;
    }
    item_product[i] = it->second;
    product_item[it->second] = static_cast<int32_t>(i);
  }
  std::vector<int32_t> popular_order(static_cast<size_t>(ni));
  for (int64_t i = 0; i < ni; ++i) popular_order[i] = static_cast<int32_t>(i);
  std::stable_sort(popular_order.begin(), popular_order.end(),
                   [&](int32_t a, int32_t b) { return model.popularity[a] > model.popularity[b]; });

  Eigen::Map<const RowMatrix> Y(als ? model.item_factors.data() : nullptr, als ? ni : 0, als ? k : 0);
  Eigen::MatrixXf gram;
  if (als) gram = Gram(Y, model.regularization);
  const float alpha = static_cast<float>(model.alpha);

  const int64_t nc = log.num_customers();
  const int count = options.count;
  const int64_t lo = WindowStart(as_of_day, options.lookback_days);
  const RecommendReason algo_reason = als   ? RecommendReason::kSimilarCustomers
                                      : knn ? RecommendReason::kSimilarProducts
                                            : RecommendReason::kPopular;
  // Each morsel's recommendations, concatenated in customer order at the end.
  std::vector<std::vector<Recommendation>> morsel_items((static_cast<size_t>(nc) + kUserGrain - 1) /
                                                        kUserGrain);
  std::vector<int32_t> filled(static_cast<size_t>(nc), 0);

  ParallelFor(options.threads, static_cast<size_t>(nc), kUserGrain, [&](size_t begin, size_t end, int) {
    std::vector<uint8_t> bought(static_cast<size_t>(ni), 0);
    std::vector<int32_t> bought_list;
    std::vector<Recommendation>& out_items = morsel_items[begin / kUserGrain];
    std::vector<std::pair<int32_t, float>> hist;
    TopK top(count);
    // kNN accumulators.
    std::vector<float> acc(knn ? static_cast<size_t>(ni) : 0, 0.0f);
    std::vector<float> best_sim(knn ? static_cast<size_t>(ni) : 0, 0.0f);
    std::vector<int32_t> best_from(knn ? static_cast<size_t>(ni) : 0, -1);
    std::vector<int32_t> touched;
    // ALS: the morsel's customers' factors and scores.
    const size_t m = end - begin;
    RowMatrix X;
    std::vector<uint8_t> has_x(m, 0);
    Eigen::MatrixXf A;
    Eigen::VectorXf b;
    if (als) X.setZero(static_cast<int64_t>(m), k);

    // Per customer: history in the window (model items with counts) and the set of products bought before
    // as_of_day.
    auto load = [&](size_t c) {
      hist.clear();
      bought_list.clear();
      for (int64_t r = log.offsets[c]; r < log.offsets[c + 1]; ++r) {
        if (log.day[r] >= as_of_day) break;
        const int32_t p = log.product[r];
        if (p < 0) continue;
        const int32_t item = product_item[p];
        if (item < 0) continue;
        if (!bought[item]) {
          bought[item] = 1;
          bought_list.push_back(item);
        }
        if (log.day[r] >= lo) hist.emplace_back(item, 1.0f);
      }
      std::sort(hist.begin(), hist.end());
      size_t w = 0;
      for (size_t i = 0; i < hist.size();) {
        size_t j = i;
        while (j < hist.size() && hist[j].first == hist[i].first) ++j;
        hist[w++] = {hist[i].first, static_cast<float>(j - i)};
        i = j;
      }
      hist.resize(w);
    };
    auto unload = [&] {
      for (int32_t item : bought_list) bought[item] = 0;
    };
    auto usable = [&](int32_t item) { return allowed[item] && (options.allow_repeat || !bought[item]); };
    auto emit = [&](size_t c, int32_t item, float score, RecommendReason reason, int32_t because) {
      ++filled[c];
      out_items.push_back(Recommendation{item_product[item], score,
                                         bought[item] ? RecommendReason::kPastPurchases : reason, because});
    };
    auto fill_popular = [&](size_t c) {
      for (int32_t item : popular_order) {
        if (filled[c] >= count) break;
        if (!usable(item)) continue;
        bool taken = false;
        for (size_t s = out_items.size() - static_cast<size_t>(filled[c]); s < out_items.size(); ++s)
          if (out_items[s].product == item_product[item]) taken = true;
        if (!taken) emit(c, item, static_cast<float>(model.popularity[item]), RecommendReason::kPopular, -1);
      }
    };

    if (als) {
      // Solve each customer's factors exactly: (YtY + lambda I + Y'(C-I)Y) x = Y'C p.
      for (size_t c = begin; c < end; ++c) {
        load(c);
        if (!hist.empty()) {
          A = gram;
          b.setZero(k);
          for (const auto& [item, n] : hist) {
            const float conf = 1.0f + alpha * n;
            auto y = Y.row(item);
            A.selfadjointView<Eigen::Lower>().rankUpdate(y.transpose(), conf - 1.0f);
            b += conf * y.transpose();
          }
          Eigen::LLT<Eigen::MatrixXf> llt(A);
          Eigen::VectorXf x;
          if (llt.info() == Eigen::Success) {
            x = llt.solve(b);
          } else {
            A.triangularView<Eigen::StrictlyUpper>() = A.transpose();
            x = A.ldlt().solve(b);
          }
          if (x.allFinite()) {
            X.row(static_cast<int64_t>(c - begin)) = x.transpose();
            has_x[c - begin] = 1;
          }
        }
        unload();
      }
    }
    RowMatrix scores;
    if (als && m > 0) scores.noalias() = X * Y.transpose();

    for (size_t c = begin; c < end; ++c) {
      load(c);
      top.Clear();
      if (hist.empty() || (als && !has_x[c - begin])) {
        fill_popular(c);
      } else if (als) {
        const float* s = scores.row(static_cast<int64_t>(c - begin)).data();
        for (int64_t i = 0; i < ni; ++i) {
          if (usable(static_cast<int32_t>(i))) top.Offer(static_cast<int32_t>(i), s[i]);
        }
        for (const Candidate& cand : top.best()) emit(c, cand.item, cand.score, algo_reason, -1);
      } else if (knn) {
        touched.clear();
        for (const auto& [i, n] : hist) {
          for (int64_t e = model.neighbour_offsets[i]; e < model.neighbour_offsets[i + 1]; ++e) {
            const int32_t j = model.neighbour_items[e];
            const float s = model.neighbour_similarity[e];
            if (best_from[j] < 0) touched.push_back(j);
            acc[j] += s;
            if (best_from[j] < 0 || s > best_sim[j]) {
              best_sim[j] = s;
              best_from[j] = i;
            }
          }
        }
        for (int32_t j : touched) {
          if (usable(j) && acc[j] > 0) top.Offer(j, acc[j]);
        }
        for (const Candidate& cand : top.best())
          emit(c, cand.item, cand.score, algo_reason, item_product[best_from[cand.item]]);
        for (int32_t j : touched) {
          acc[j] = 0.0f;
          best_sim[j] = 0.0f;
          best_from[j] = -1;
        }
        fill_popular(c);
      } else {
        fill_popular(c);
      }
      unload();
    }
  });

  RecommendationList list;
  list.offsets.assign(static_cast<size_t>(nc) + 1, 0);
  for (int64_t c = 0; c < nc; ++c) list.offsets[c + 1] = list.offsets[c] + filled[c];
  list.items.reserve(static_cast<size_t>(list.offsets[nc]));
  for (std::vector<Recommendation>& m : morsel_items) {
    list.items.insert(list.items.end(), m.begin(), m.end());
    std::vector<Recommendation>().swap(m);
  }
  return list;
}

StatusOr<HoldoutHits> MeasureHoldout(const TransactionLog& log, const RecommendationList& recs,
                                     int32_t cutoff, int32_t end_day, int k) {
  if (k < 1) return InvalidArgumentError("k: " + std::to_string(k) + " (>= 1)");
  if (static_cast<int64_t>(recs.offsets.size()) != log.num_customers() + 1)
    return InvalidArgumentError("recommendations: " + std::to_string(recs.offsets.size() - 1) +
                                " customers, the log has " + std::to_string(log.num_customers()));
  if (recs.offsets.back() != static_cast<int64_t>(recs.items.size()))
    return InvalidArgumentError("recommendations: offsets do not end at the number of items");
  HoldoutHits h;
  double precision_sum = 0;
  std::vector<int32_t> held;
  for (int64_t c = 0; c < log.num_customers(); ++c) {
    bool before = false;
    held.clear();
    for (int64_t r = log.offsets[c]; r < log.offsets[c + 1]; ++r) {
      if (log.product[r] < 0) continue;
      if (log.day[r] < cutoff)
        before = true;
      else if (log.day[r] < end_day)
        held.push_back(log.product[r]);
    }
    if (!before || held.empty()) continue;
    std::sort(held.begin(), held.end());
    int64_t hits = 0;
    const int64_t b = recs.offsets[c], e = std::min(recs.offsets[c + 1], recs.offsets[c] + k);
    for (int64_t i = b; i < e; ++i) {
      if (std::binary_search(held.begin(), held.end(), recs.items[i].product)) ++hits;
    }
    ++h.customers;
    if (hits > 0) ++h.successes;
    precision_sum += static_cast<double>(hits) / k;
  }
  if (h.customers > 0) {
    h.success_at_k = static_cast<double>(h.successes) / static_cast<double>(h.customers);
    h.precision_at_k = precision_sum / static_cast<double>(h.customers);
  }
  return h;
}

nlohmann::ordered_json RecommendEvaluation::ToJson() const {
  nlohmann::ordered_json j;
  j["algorithm"] = std::string(RecommendAlgorithmName(algorithm));
  j["k"] = k;
  j["cutoff"] = FormatDate(cutoff_day);
  j["as_of"] = FormatDate(as_of_day);
  j["customers"] = customers;
  j["success_at_k"] = success_at_k;
  j["precision_at_k"] = precision_at_k;
  j["baseline"] = "popular";
  j["baseline_success_at_k"] = baseline_success_at_k;
  j["baseline_precision_at_k"] = baseline_precision_at_k;
  j["grade"] = std::string(ModelGradeName(grade));
  return j;
}

StatusOr<RecommendEvaluation> EvaluateRecommender(const TransactionLog& log, int32_t as_of_day,
                                                  int32_t holdout_days, const RecommendOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateRecommendOptions(options));
  if (holdout_days < 1)
    return InvalidArgumentError("holdout_days: " + std::to_string(holdout_days) + " (>= 1)");
  const int64_t cutoff64 = static_cast<int64_t>(as_of_day) - holdout_days;
  if (cutoff64 < kMinCalendarDay)
    return InvalidArgumentError("holdout_days: " + std::to_string(holdout_days) + " (too large)");
  const int32_t cutoff = static_cast<int32_t>(cutoff64);
  RecommendEvaluation ev;
  ev.algorithm = options.algorithm;
  ev.k = options.count;
  ev.cutoff_day = cutoff;
  ev.as_of_day = as_of_day;
  CDP_ASSIGN_OR_RETURN(RecommenderModel model, FitRecommender(log, cutoff, options));
  CDP_ASSIGN_OR_RETURN(RecommendationList recs, RecommendProducts(model, log, cutoff, options));
  CDP_ASSIGN_OR_RETURN(HoldoutHits hits, MeasureHoldout(log, recs, cutoff, as_of_day, options.count));
  ev.customers = hits.customers;
  ev.success_at_k = hits.success_at_k;
  ev.precision_at_k = hits.precision_at_k;
  if (options.algorithm == RecommendAlgorithm::kPopular) {
    ev.baseline_success_at_k = hits.success_at_k;
    ev.baseline_precision_at_k = hits.precision_at_k;
  } else {
    RecommendOptions base = options;
    base.algorithm = RecommendAlgorithm::kPopular;
    CDP_ASSIGN_OR_RETURN(RecommenderModel popular, FitRecommender(log, cutoff, base));
    CDP_ASSIGN_OR_RETURN(RecommendationList brecs, RecommendProducts(popular, log, cutoff, base));
    CDP_ASSIGN_OR_RETURN(HoldoutHits bh, MeasureHoldout(log, brecs, cutoff, as_of_day, options.count));
    ev.baseline_success_at_k = bh.success_at_k;
    ev.baseline_precision_at_k = bh.precision_at_k;
  }
  ev.grade = GradeAgainstBaseline(ev.success_at_k, ev.baseline_success_at_k, 0.10);
  return ev;
}

// ---- model JSON ----

std::string RecommenderModel::ToJson() const {
  nlohmann::ordered_json j;
  j["format"] = "cdp-recommender";
  j["version"] = 1;
  j["algorithm"] = std::string(RecommendAlgorithmName(algorithm));
  j["as_of_day"] = as_of_day;
  j["lookback_days"] = lookback_days;
  j["products"] = product_names;
  j["popularity"] = popularity;
  if (algorithm == RecommendAlgorithm::kAls) {
    nlohmann::ordered_json a;
    a["factors"] = factors;
    a["regularization"] = regularization;
    a["alpha"] = alpha;
    std::vector<double> f(item_factors.begin(), item_factors.end());
    a["item_factors"] = std::move(f);
    j["als"] = std::move(a);
  } else if (algorithm == RecommendAlgorithm::kItemKnn) {
    nlohmann::ordered_json a;
    a["offsets"] = neighbour_offsets;
    a["items"] = neighbour_items;
    std::vector<double> s(neighbour_similarity.begin(), neighbour_similarity.end());
    a["similarities"] = std::move(s);
    j["item_knn"] = std::move(a);
  }
  return j.dump();
}

namespace {

Status Bad(const std::string& what) { return InvalidArgumentError("recommender model JSON: " + what); }

StatusOr<const nlohmann::json*> Member(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return Bad(std::string("missing '") + key + "'");
  return &*it;
}

StatusOr<int64_t> IntMember(const nlohmann::json& obj, const char* key, int64_t lo, int64_t hi) {
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key));
  if (!v->is_number_integer()) return Bad(std::string("'") + key + "' is not an integer");
  int64_t x = v->is_number_unsigned()
                  ? (v->get<uint64_t>() > static_cast<uint64_t>(hi) ? hi + 1 : v->get<int64_t>())
                  : v->get<int64_t>();
  if (x < lo || x > hi)
    return Bad(std::string("'") + key + "' = " + v->dump() + " is outside [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
  return x;
}

StatusOr<double> FiniteMember(const nlohmann::json& obj, const char* key, double lo) {
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key));
  if (!v->is_number()) return Bad(std::string("'") + key + "' is not a number");
  double x = v->get<double>();
  if (!std::isfinite(x) || x < lo)
    return Bad(std::string("'") + key + "' = " + v->dump() +
               " is not a finite number >= " + std::to_string(lo));
  return x;
}

// A numeric array of exactly `n` finite float values >= lo.
Status FloatArray(const nlohmann::json& obj, const char* key, int64_t n, float lo, std::vector<float>* out) {
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* v, Member(obj, key));
  if (!v->is_array()) return Bad(std::string("'") + key + "' is not an array");
  if (static_cast<int64_t>(v->size()) != n)
    return Bad(std::string("'") + key + "' has " + std::to_string(v->size()) + " values, expected " +
               std::to_string(n));
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const nlohmann::json& e = (*v)[static_cast<size_t>(i)];
    if (!e.is_number()) return Bad(std::string("'") + key + "'[" + std::to_string(i) + "] is not a number");
    const float x = static_cast<float>(e.get<double>());
    if (!std::isfinite(x) || x < lo)
      return Bad(std::string("'") + key + "'[" + std::to_string(i) + "] = " + e.dump() +
                 " is not a finite value >= " + std::to_string(lo));
    (*out)[i] = x;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<RecommenderModel> RecommenderModel::FromJson(std::string_view text) {
  if (text.size() > kMaxModelJsonBytes) return Bad("larger than 1 GiB");
  JsonScanOptions scan;
  scan.max_depth = 4;
  CDP_RETURN_IF_ERROR(ScanJson(text, scan).WithContext("recommender model JSON"));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("not an object");
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* format, Member(j, "format"));
  if (!format->is_string() || format->get<std::string>() != "cdp-recommender")
    return Bad("'format' is not \"cdp-recommender\"");
  CDP_ASSIGN_OR_RETURN(int64_t version, IntMember(j, "version", 1, 1000));
  if (version != 1) return Bad("version " + std::to_string(version) + " is not supported (1)");
  RecommenderModel m;
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* algo, Member(j, "algorithm"));
  if (!algo->is_string()) return Bad("'algorithm' is not text");
  {
    auto parsed = ParseRecommendAlgorithm(algo->get<std::string>());
    if (!parsed.ok()) return Bad(parsed.status().message());
    m.algorithm = *parsed;
  }
  CDP_ASSIGN_OR_RETURN(int64_t as_of, IntMember(j, "as_of_day", kMinCalendarDay, kMaxCalendarDay));
  m.as_of_day = static_cast<int32_t>(as_of);
  CDP_ASSIGN_OR_RETURN(int64_t lookback,
                       IntMember(j, "lookback_days", 0, std::numeric_limits<int32_t>::max()));
  m.lookback_days = static_cast<int32_t>(lookback);
  CDP_ASSIGN_OR_RETURN(const nlohmann::json* products, Member(j, "products"));
  if (!products->is_array()) return Bad("'products' is not an array");
  const int64_t n = static_cast<int64_t>(products->size());
  if (n < 1 || n > kMaxProducts) return Bad("'products' has " + std::to_string(n) + " entries (1..10000000)");
  m.product_names.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const nlohmann::json& p = (*products)[static_cast<size_t>(i)];
    if (!p.is_string()) return Bad("'products'[" + std::to_string(i) + "] is not text");
    std::string name = p.get<std::string>();
    if (name.empty() || name.size() > kMaxProductNameBytes)
      return Bad("'products'[" + std::to_string(i) + "] is empty or longer than 4096 bytes");
    m.product_names.push_back(std::move(name));
  }
  {
    std::vector<std::string> sorted = m.product_names;
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) return Bad("product '" + dup->substr(0, 64) + "' appears twice");
  }
  std::vector<float> pop;
  CDP_RETURN_IF_ERROR(FloatArray(j, "popularity", n, 0.0f, &pop));
  m.popularity.assign(pop.begin(), pop.end());

  if (m.algorithm == RecommendAlgorithm::kAls) {
    CDP_ASSIGN_OR_RETURN(const nlohmann::json* a, Member(j, "als"));
    if (!a->is_object()) return Bad("'als' is not an object");
    CDP_ASSIGN_OR_RETURN(int64_t factors, IntMember(*a, "factors", 1, kMaxFactors));
    if (n * factors > kMaxValues) return Bad("products x factors is over 500M values");
    m.factors = static_cast<int>(factors);
    CDP_ASSIGN_OR_RETURN(m.regularization, FiniteMember(*a, "regularization", 0.0));
    CDP_ASSIGN_OR_RETURN(m.alpha, FiniteMember(*a, "alpha", 0.0));
    if (m.alpha <= 0) return Bad("'alpha' must be > 0");
    CDP_RETURN_IF_ERROR(
        FloatArray(*a, "item_factors", n * factors, -std::numeric_limits<float>::max(), &m.item_factors));
  } else if (m.algorithm == RecommendAlgorithm::kItemKnn) {
    CDP_ASSIGN_OR_RETURN(const nlohmann::json* a, Member(j, "item_knn"));
    if (!a->is_object()) return Bad("'item_knn' is not an object");
    CDP_ASSIGN_OR_RETURN(const nlohmann::json* offsets, Member(*a, "offsets"));
    if (!offsets->is_array() || static_cast<int64_t>(offsets->size()) != n + 1)
      return Bad("'item_knn.offsets' must be an array of products + 1 integers");
    m.neighbour_offsets.resize(static_cast<size_t>(n) + 1);
    for (int64_t i = 0; i <= n; ++i) {
      const nlohmann::json& e = (*offsets)[static_cast<size_t>(i)];
      if (!e.is_number_integer())
        return Bad("'item_knn.offsets'[" + std::to_string(i) + "] is not an integer");
      const int64_t v = e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(kMaxValues)
                            ? -1
                            : e.get<int64_t>();
      const int64_t prev = i == 0 ? 0 : m.neighbour_offsets[i - 1];
      if ((i == 0 && v != 0) || v < prev || v > kMaxValues)
        return Bad("'item_knn.offsets'[" + std::to_string(i) + "] = " + e.dump() +
                   " (offsets start at 0, never decrease and stay under 500M)");
      m.neighbour_offsets[i] = v;
    }
    const int64_t entries = m.neighbour_offsets.back();
    CDP_ASSIGN_OR_RETURN(const nlohmann::json* items, Member(*a, "items"));
    if (!items->is_array() || static_cast<int64_t>(items->size()) != entries)
      return Bad("'item_knn.items' must be an array of " + std::to_string(entries) + " product indexes");
    m.neighbour_items.resize(static_cast<size_t>(entries));
    for (int64_t i = 0; i < entries; ++i) {
      const nlohmann::json& e = (*items)[static_cast<size_t>(i)];
      if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= n)
        return Bad("'item_knn.items'[" + std::to_string(i) + "] = " + e.dump() + " is not a product index");
      m.neighbour_items[i] = static_cast<int32_t>(e.get<int64_t>());
    }
    CDP_RETURN_IF_ERROR(FloatArray(*a, "similarities", entries, 0.0f, &m.neighbour_similarity));
  }
  return m;
}

}  // namespace cdp
