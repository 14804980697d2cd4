#include "insight/lookalike.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "common/parallel.h"
#include "common/text.h"
#include "insight/internal/insight_text.h"
#include "predict/metrics.h"

namespace cdp {
namespace {

using insight_internal::HumanNumber;
using insight_internal::HumanPercent;

// SplitMix64 (Steele, Lea & Flood 2014): a small seeded generator whose
// output does not depend on the standard library's distributions.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
};

template <typename T>
void Shuffle(std::vector<T>* v, Rng* rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->Below(i)]);
}

// Pseudo-rows at the sample's source rate added to each category's counts
// before ranking (chosen a priori: a category seen a handful of times ranks
// near the middle instead of at an end).
constexpr double kCategoryPriorRows = 20;

// One fold's model encoding (see lookalike.h): one column per used
// attribute; a number as it is; a category as its rank among the
// attribute's categories ordered by their smoothed source rate on the fold's
// training rows (ties by code); missing as NaN.
struct FoldEncoding {
  std::vector<size_t> attrs;             // the used attributes, in column order
  std::vector<std::vector<float>> rank;  // per column: category code -> rank (empty for a number)
};

FoldEncoding MakeEncoding(const CustomerAttributes& a, const std::vector<size_t>& attrs,
                          const std::vector<int64_t>& rows, const std::vector<float>& labels) {
  FoldEncoding e;
  e.attrs = attrs;
  e.rank.resize(attrs.size());
  double positives = 0;
  for (float l : labels) positives += l > 0.5f ? 1 : 0;
  const double prior = rows.empty() ? 0.5 : positives / static_cast<double>(rows.size());
  for (size_t k = 0; k < attrs.size(); ++k) {
    const CustomerAttribute& attr = a.attributes[attrs[k]];
    if (attr.kind != AttributeKind::kCategorical) continue;
    const size_t cats = attr.categories.size();
    std::vector<double> pos(cats, 0), all(cats, 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      const int32_t code = attr.codes[static_cast<size_t>(rows[i])];
      if (code < 0) continue;
      all[static_cast<size_t>(code)] += 1;
      if (labels[i] > 0.5f) pos[static_cast<size_t>(code)] += 1;
    }
    std::vector<size_t> order(cats);
    std::iota(order.begin(), order.end(), size_t{0});
    std::vector<double> rate(cats);
    for (size_t c = 0; c < cats; ++c) rate[c] = (pos[c] + kCategoryPriorRows * prior) / (all[c] + kCategoryPriorRows);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return rate[x] < rate[y]; });
    e.rank[k].resize(cats);
    for (size_t r = 0; r < cats; ++r) e.rank[k][order[r]] = static_cast<float>(r);
  }
  return e;
}

// The encoded feature matrix of `rows` (column names = attribute names).
FeatureMatrix Encode(const CustomerAttributes& a, const FoldEncoding& e, std::span<const int64_t> rows) {
  FeatureMatrix m;
  for (size_t attr : e.attrs) m.names.push_back(a.attributes[attr].name);
  const size_t cols = e.attrs.size();
  m.rows = static_cast<int64_t>(rows.size());
  m.values.resize(rows.size() * cols);
  constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
  // Column by column: each attribute's array is read in one pass.
  for (size_t k = 0; k < cols; ++k) {
    const CustomerAttribute& attr = a.attributes[e.attrs[k]];
    float* out = m.values.data() + k;
    if (attr.kind == AttributeKind::kNumeric) {
      const double* v = attr.numbers.data();
      for (size_t i = 0; i < rows.size(); ++i) out[i * cols] = static_cast<float>(v[static_cast<size_t>(rows[i])]);
    } else {
      const int32_t* codes = attr.codes.data();
      const float* rank = e.rank[k].data();
      for (size_t i = 0; i < rows.size(); ++i) {
        const int32_t code = codes[static_cast<size_t>(rows[i])];
        out[i * cols] = code < 0 ? kNan : rank[code];
      }
    }
  }
  return m;
}

// The baseline's bins of one attribute: numbers in (at most) 10 quantile bins
// (cuts from the values, labels unseen), categories by value; missing is the
// last bin.
struct Binning {
  std::vector<double> cuts;  // numeric: bin = number of cuts <= value
  int bins = 1;
  int Bin(const CustomerAttribute& a, int64_t c) const {
    const auto u = static_cast<size_t>(c);
    if (a.kind == AttributeKind::kNumeric) {
      const double v = a.numbers[u];
      if (std::isnan(v)) return bins - 1;
      return static_cast<int>(std::upper_bound(cuts.begin(), cuts.end(), v) - cuts.begin());
    }
    return a.codes[u] < 0 ? bins - 1 : a.codes[u];
  }
};

Binning MakeBinning(const CustomerAttribute& a, const std::vector<int64_t>& sample) {
  Binning b;
  if (a.kind == AttributeKind::kCategorical) {
    b.bins = static_cast<int>(a.categories.size()) + 1;
    return b;
  }
  std::vector<double> v;
  for (int64_t c : sample) {
    double x = a.numbers[static_cast<size_t>(c)];
    if (!std::isnan(x)) v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  for (int q = 1; q < 10 && !v.empty(); ++q) {
    double cut = v[v.size() * static_cast<size_t>(q) / 10];
    if (cut > v.front() && (b.cuts.empty() || cut > b.cuts.back())) b.cuts.push_back(cut);
  }
  b.bins = static_cast<int>(b.cuts.size()) + 2;
  return b;
}

// AUC of a score that is constant per bin: bins ranked by `score`, equal
// scores tied (counted 1/2, as metrics.h's Auc does).
double BinnedAuc(const std::vector<double>& pos, const std::vector<double>& neg, const std::vector<double>& score) {
  double p_total = 0, n_total = 0;
  for (size_t i = 0; i < pos.size(); ++i) {
    p_total += pos[i];
    n_total += neg[i];
  }
  if (p_total == 0 || n_total == 0) return 0.5;
  std::vector<size_t> order(pos.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  double below = 0, sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    double p = 0, n = 0;
    while (j < order.size() && score[order[j]] == score[order[i]]) {
      p += pos[order[j]];
      n += neg[order[j]];
      ++j;
    }
    sum += p * (below + 0.5 * n);
    below += n;
    i = j;
  }
  return sum / (p_total * n_total);
}

// Platt scaling (Platt 1999): similarity = sigmoid(a * margin + b), fit by
// Newton's method on the log loss of the out-of-fold margins, source (label 1)
// and pool (label 0) weighted to equal totals (the balanced prior), with a
// unit Gaussian prior pulling (a, b) toward the identity (1, 0) so that a
// perfectly separated fold keeps a finite slope.
struct PlattScale {
  double a = 1, b = 0;
};

PlattScale FitPlatt(const std::vector<double>& source, const std::vector<double>& pool) {
  PlattScale p;
  if (source.empty() || pool.empty()) return p;
  const double total = static_cast<double>(source.size() + pool.size());
  const double ws = 0.5 * total / static_cast<double>(source.size());
  const double wp = 0.5 * total / static_cast<double>(pool.size());
  for (int iter = 0; iter < 100; ++iter) {
    // Gradient and Hessian of  sum w * logloss + ((a - 1)^2 + b^2) / 2.
    double ga = p.a - 1, gb = p.b, haa = 1, hab = 0, hbb = 1;
    auto add = [&](double z, double y, double w) {
      const double q = 1.0 / (1.0 + std::exp(-(p.a * z + p.b)));
      const double d = w * (q - y), h = w * q * (1 - q);
      ga += d * z;
      gb += d;
      haa += h * z * z;
      hab += h * z;
      hbb += h;
    };
    for (double z : source) add(z, 1, ws);
    for (double z : pool) add(z, 0, wp);
    const double det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    p.a -= da;
    p.b -= db;
    if (std::fabs(da) < 1e-9 && std::fabs(db) < 1e-9) break;
  }
  // A negative slope would invert the model's ranking: the margins carry no
  // usable signal (out-of-fold AUC below 0.5), so everyone is 0.5 (with the
  // classes weighted equally, b = 0 is the fit when a = 0).
  if (!(p.a >= 0)) p = PlattScale{0, 0};
  return p;
}

std::string Verdict(double auc, double baseline, const std::string& baseline_attribute) {
  std::string s = "AUC " + FormatFixed(auc, 2) + " on held-back members (0.5 = chance): ";
  if (auc < 0.6) {
    s += "the source is hardly told apart from the pool, so similarity means little";
  } else if (auc < 0.7) {
    s += "weak separation: similarity means something, but not much";
  } else if (auc < 0.8) {
    s += "acceptable separation: similarity means something";
  } else if (auc < 0.9) {
    s += "excellent separation: similarity means something";
  } else {
    s += "outstanding separation: similarity means something (the source has a distinct profile)";
  }
  if (!baseline_attribute.empty()) {
    s += baseline >= auc - 0.02 ? "; " + baseline_attribute + " alone does as well (AUC " + FormatFixed(baseline, 2) + ")"
                                : "; " + baseline_attribute + " alone reaches " + FormatFixed(baseline, 2);
  }
  return s;
}

std::string DriverSummary(const CustomerAttribute& a, const std::vector<uint32_t>& source,
                          const std::vector<uint32_t>& pool) {
  if (a.kind == AttributeKind::kNumeric) {
    auto mean = [&](const std::vector<uint32_t>& rows) {
      double s = 0;
      int64_t n = 0;
      for (uint32_t c : rows) {
        double v = a.numbers[c];
        if (!std::isnan(v)) {
          s += v;
          ++n;
        }
      }
      return n > 0 ? s / static_cast<double>(n) : std::nan("");
    };
    return "mean " + HumanNumber(mean(source)) + " vs " + HumanNumber(mean(pool)) + " in the pool";
  }
  const size_t k = a.categories.size();
  std::vector<double> sc(k + 1, 0), pc(k + 1, 0);
  for (uint32_t c : source) sc[a.codes[c] < 0 ? k : static_cast<size_t>(a.codes[c])] += 1;
  for (uint32_t c : pool) pc[a.codes[c] < 0 ? k : static_cast<size_t>(a.codes[c])] += 1;
  const double sn = static_cast<double>(std::max<size_t>(source.size(), 1));
  const double pn = static_cast<double>(std::max<size_t>(pool.size(), 1));
  // The most over-represented value (smoothed ratio of shares), missing included.
  size_t best = 0;
  double best_ratio = -1;
  for (size_t i = 0; i <= k; ++i) {
    double ratio = (sc[i] / sn + 1e-3) / (pc[i] / pn + 1e-3);
    if (sc[i] > 0 && ratio > best_ratio) {
      best_ratio = ratio;
      best = i;
    }
  }
  const std::string label = best == k ? "(missing)" : a.categories[best];
  return label + ": " + HumanPercent(sc[best] / sn) + " vs " + HumanPercent(pc[best] / pn) + " in the pool";
}

}  // namespace

std::string_view SimilarityBandName(SimilarityBand band) {
  switch (band) {
    case SimilarityBand::kLow: return "low";
    case SimilarityBand::kSomewhatSimilar: return "somewhat similar";
    case SimilarityBand::kSimilar: return "similar";
    case SimilarityBand::kVerySimilar: return "very similar";
    case SimilarityBand::kSource: return "source";
  }
  return "low";
}

std::optional<SimilarityBand> BandOfSimilarity(double similarity) {
  if (!(similarity >= kMinSimilarity)) return std::nullopt;
  if (similarity >= kVerySimilarFrom) return SimilarityBand::kVerySimilar;
  if (similarity >= kSimilarFrom) return SimilarityBand::kSimilar;
  if (similarity >= kSomewhatSimilarFrom) return SimilarityBand::kSomewhatSimilar;
  return SimilarityBand::kLow;
}

BoosterParams DefaultLookalikeBoosterParams() {
  BoosterParams p;
  p.rounds = 150;
  p.max_depth = 4;
  p.eta = 0.1;
  p.subsample = 0.8;
  p.colsample = 0.8;
  p.min_child_weight = 5;
  p.objective = "binary:logistic";
  return p;
}

Status ValidateLookalikeOptions(const LookalikeOptions& o) {
  if (!(o.share > 0 && o.share <= 1)) {
    return InvalidArgumentError("lookalike: share " + FormatFixed(o.share, 4) + " must be in (0, 1]");
  }
  if (o.min_similarity != 0 && !(o.min_similarity >= kMinSimilarity && o.min_similarity < 1)) {
    return InvalidArgumentError("lookalike: min_similarity " + FormatFixed(o.min_similarity, 4) +
                                " must be 0 (use share) or in [0.4, 1)");
  }
  if (o.folds < 3 || o.folds > 10) {
    return InvalidArgumentError("lookalike: folds " + std::to_string(o.folds) + " must be in 3..10");
  }
  if (!(o.negatives_per_positive >= 1 && o.negatives_per_positive <= 100)) {
    return InvalidArgumentError("lookalike: negatives_per_positive " + FormatFixed(o.negatives_per_positive, 3) +
                                " must be in [1, 100]");
  }
  if (o.fold_threads < 0 || o.fold_threads > 64) {
    return InvalidArgumentError("lookalike: fold_threads " + std::to_string(o.fold_threads) + " must be in 0..64");
  }
  if (o.max_training_positives != 0 && o.max_training_positives < 100) {
    return InvalidArgumentError("lookalike: max_training_positives " + std::to_string(o.max_training_positives) +
                                " must be 0 (all) or at least 100");
  }
  if (o.booster.objective != "binary:logistic") {
    return InvalidArgumentError("lookalike: booster objective '" + o.booster.objective +
                                "' must be binary:logistic");
  }
  Status s = ValidateBoosterParams(o.booster);
  if (!s.ok()) return InvalidArgumentError("lookalike: " + s.message());
  return Status::Ok();
}

CustomerSet LookalikeResult::MemberSet() const {
  std::vector<uint32_t> v;
  v.reserve(members.size());
  for (const auto& m : members) v.push_back(m.customer);
  std::sort(v.begin(), v.end());
  CustomerSet s = CustomerSet::Of(v);
  s.Optimize();
  return s;
}

StatusOr<LookalikeResult> FindLookalikes(const CustomerAttributes& attributes, const CustomerSet& source_set,
                                         const CustomerSet* pool_set, const LookalikeOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateLookalikeOptions(options));
  auto phase = [&](std::string_view name) {
    if (options.on_phase) options.on_phase(name);
  };
  phase("folds");
  const int64_t n = attributes.customers;
  if (n < 0 || n > static_cast<int64_t>(UINT32_MAX)) {
    return InvalidArgumentError("lookalike: customers " + std::to_string(n) + " is outside [0, 2^32)");
  }
  for (const auto& a : attributes.attributes) {
    const size_t want = static_cast<size_t>(n);
    if ((a.kind == AttributeKind::kNumeric && a.numbers.size() != want) ||
        (a.kind == AttributeKind::kCategorical && a.codes.size() != want)) {
      return InvalidArgumentError("lookalike: attribute '" + a.name + "' does not have one value per customer");
    }
  }
  // Attributes used.
  std::vector<char> used(attributes.attributes.size(), 1);
  for (const std::string& name : options.exclude) {
    const CustomerAttribute* a = attributes.Find(name);
    if (a == nullptr) return InvalidArgumentError("lookalike: exclude: '" + name + "' is not an attribute");
    used[static_cast<size_t>(a - attributes.attributes.data())] = 0;
  }
  LookalikeResult r;
  std::vector<size_t> used_attrs;
  for (size_t i = 0; i < used.size(); ++i) {
    if (used[i]) {
      r.attributes_used.push_back(attributes.attributes[i].name);
      used_attrs.push_back(i);
    }
  }
  if (r.attributes_used.empty()) return InvalidArgumentError("lookalike: no attribute left to learn from");

  // Source and pool.
  std::vector<uint32_t> source = source_set.ToVector();
  if (!source.empty() && source.back() >= static_cast<uint64_t>(n)) {
    return InvalidArgumentError("lookalike: source member " + std::to_string(source.back()) +
                                " is outside the customer index [0, " + std::to_string(n) + ")");
  }
  CustomerSet pool_bits = pool_set ? *pool_set : CustomerSet::Range(0, static_cast<uint32_t>(n));
  pool_bits.Subtract(source_set);
  r.pool = pool_bits.ToVector();
  if (!r.pool.empty() && r.pool.back() >= static_cast<uint64_t>(n)) {
    return InvalidArgumentError("lookalike: pool member " + std::to_string(r.pool.back()) +
                                " is outside the customer index [0, " + std::to_string(n) + ")");
  }
  const int folds = options.folds;
  r.source_size = static_cast<int64_t>(source.size());
  r.pool_size = static_cast<int64_t>(r.pool.size());
  if (r.source_size < 2 * folds || r.pool_size < 2 * folds) {
    return FailedPreconditionError("lookalike: the source has " + std::to_string(r.source_size) +
                                   " members and the pool " + std::to_string(r.pool_size) + " (outside the source); " +
                                   "each needs at least " + std::to_string(2 * folds) + " for " +
                                   std::to_string(folds) + " folds");
  }

  // Seeded folds: position in a shuffled order, modulo folds. The pool's
  // shuffled order also gives each fold's negative sample (its first members
  // outside the fold).
  Rng rng{options.seed ^ 0x6c6f6f6b616c696bULL};
  std::vector<uint32_t> source_order = source, pool_order = r.pool;
  Shuffle(&source_order, &rng);
  Shuffle(&pool_order, &rng);
  std::vector<uint8_t> source_fold(source.size()), pool_fold(r.pool.size());
  {
    std::vector<size_t> pos(n > 0 ? static_cast<size_t>(n) : 0);
    for (size_t i = 0; i < source_order.size(); ++i) pos[source_order[i]] = i;
    for (size_t i = 0; i < source.size(); ++i) source_fold[i] = static_cast<uint8_t>(pos[source[i]] % folds);
    for (size_t i = 0; i < pool_order.size(); ++i) pos[pool_order[i]] = i;
    for (size_t i = 0; i < r.pool.size(); ++i) pool_fold[i] = static_cast<uint8_t>(pos[r.pool[i]] % folds);
  }
  std::vector<uint8_t> pool_order_fold(pool_order.size());
  for (size_t i = 0; i < pool_order.size(); ++i) pool_order_fold[i] = static_cast<uint8_t>(i % folds);

  // Baseline bins, from a label-blind sample of source and pool.
  std::vector<int64_t> sample;
  {
    const size_t total = source.size() + r.pool.size();
    const size_t step = std::max<size_t>(1, total / 100000);
    for (size_t i = 0; i < total; i += step) {
      sample.push_back(i < source.size() ? source[i] : r.pool[i - source.size()]);
    }
  }
  std::vector<Binning> binning(attributes.attributes.size());
  for (size_t a = 0; a < binning.size(); ++a) {
    if (used[a]) binning[a] = MakeBinning(attributes.attributes[a], sample);
  }

  r.pool_similarity.assign(r.pool.size(), 0.0f);
  // Out-of-fold margins (with the balancing offset) of every source and pool member.
  std::vector<double> source_margin, pool_margin(r.pool.size(), 0.0);
  std::vector<double> gain(attributes.attributes.size(), 0.0);
  std::vector<int> baseline_votes(attributes.attributes.size(), 0);
  double baseline_sum = 0;
  int64_t min_hold_source = INT64_MAX, min_hold_pool = INT64_MAX;

  // What one fold contributes; folds run in parallel (fold_threads), each
  // writing its own FoldOutput and its own pool members' margins, combined
  // in fold order afterwards (so the result does not depend on scheduling).
  struct FoldOutput {
    Status status;
    std::vector<double> gain;           // per attribute
    std::vector<double> source_margin;  // fold k's source members, in source order
    double auc = 0.5, baseline_auc = 0.5;
    size_t baseline_attr = SIZE_MAX;
    int64_t hold_source = 0, hold_pool = 0;
  };
  const int fold_workers = std::min(folds, ResolveThreads(options.fold_threads));
  BoosterParams booster_params = options.booster;
  if (booster_params.threads == 0 && fold_workers > 1) {
    booster_params.threads = std::max(1, ResolveThreads(0) / fold_workers);
  }
  // Phases are reported only when the folds run one at a time (on the calling thread).
  auto fold_phase = [&](std::string_view name) {
    if (fold_workers == 1) phase(name);
  };
  std::vector<FoldOutput> fold_out(static_cast<size_t>(folds));
  auto run_fold = [&](int k, FoldOutput& out) -> Status {
    out.gain.assign(attributes.attributes.size(), 0.0);
    fold_phase("train features");
    // Training rows: the source outside fold k, and a sample of the pool outside it.
    // At most max_training_positives of them: the first outside fold k in
    // the source's shuffled order (a seeded sample).
    std::vector<int64_t> rows;
    std::vector<float> labels;
    const size_t positive_cap = options.max_training_positives > 0
                                    ? static_cast<size_t>(options.max_training_positives)
                                    : source_order.size();
    for (size_t i = 0; i < source_order.size() && rows.size() < positive_cap; ++i) {
      if (static_cast<int>(i % static_cast<size_t>(folds)) != k) rows.push_back(source_order[i]);
    }
    const size_t positives = rows.size();
    const auto want_neg = static_cast<size_t>(std::ceil(options.negatives_per_positive * static_cast<double>(positives)));
    std::vector<int64_t> negatives;
    for (size_t i = 0; i < pool_order.size() && negatives.size() < want_neg; ++i) {
      if (pool_order_fold[i] != k) negatives.push_back(pool_order[i]);
    }
    std::sort(negatives.begin(), negatives.end());
    // Positives and negatives interleaved in customer order (XGBoost's
    // subsample draws by row, so the order only matters for determinism).
    std::vector<std::pair<int64_t, float>> labelled;
    labelled.reserve(positives + negatives.size());
    for (size_t i = 0; i < positives; ++i) labelled.emplace_back(rows[i], 1.0f);
    for (int64_t c : negatives) labelled.emplace_back(c, 0.0f);
    std::sort(labelled.begin(), labelled.end());
    rows.clear();
    for (const auto& [c, l] : labelled) {
      rows.push_back(c);
      labels.push_back(l);
    }
    const FoldEncoding encoding = MakeEncoding(attributes, used_attrs, rows, labels);
    FeatureMatrix train = Encode(attributes, encoding, rows);
    fold_phase("train");
    CDP_ASSIGN_OR_RETURN(Booster booster, Booster::Train(train, labels, booster_params));
    train = FeatureMatrix();  // free before scoring
    // The balanced prior: logit(similarity) = margin + log(negatives / positives).
    const double offset = std::log(static_cast<double>(negatives.size()) / static_cast<double>(positives));
    CDP_ASSIGN_OR_RETURN(std::vector<double> importance, booster.Importance());
    for (size_t c = 0; c < importance.size() && c < used_attrs.size(); ++c) {
      out.gain[used_attrs[c]] += importance[c];
    }

    fold_phase("baseline");
    // Baseline: per attribute, bin counts on the training rows -> bin score
    // (smoothed source rate) -> training AUC; the best attribute is then
    // judged on the hold-back.
    size_t best_attr = SIZE_MAX;
    double best_train_auc = -1;
    std::vector<double> best_score;
    for (size_t a = 0; a < attributes.attributes.size(); ++a) {
      if (!used[a]) continue;
      const CustomerAttribute& attr = attributes.attributes[a];
      const Binning& b = binning[a];
      std::vector<double> pos(static_cast<size_t>(b.bins), 0), neg(static_cast<size_t>(b.bins), 0);
      for (size_t i = 0; i < rows.size(); ++i) {
        auto bin = static_cast<size_t>(b.Bin(attr, rows[i]));
        (labels[i] > 0.5f ? pos : neg)[bin] += 1;
      }
      std::vector<double> score(pos.size());
      for (size_t i = 0; i < pos.size(); ++i) score[i] = (pos[i] + 1) / (pos[i] + neg[i] + 2);
      double auc = BinnedAuc(pos, neg, score);
      if (auc > best_train_auc) {
        best_train_auc = auc;
        best_attr = a;
        best_score = std::move(score);
      }
    }

    // Hold-back: fold k of source and pool.
    fold_phase("score");
    std::vector<int64_t> hold;
    std::vector<size_t> hold_pool_index;
    for (size_t i = 0; i < source.size(); ++i) {
      if (source_fold[i] == k) hold.push_back(source[i]);
    }
    const size_t hold_source = hold.size();
    for (size_t i = 0; i < r.pool.size(); ++i) {
      if (pool_fold[i] == k) {
        hold.push_back(r.pool[i]);
        hold_pool_index.push_back(i);
      }
    }
    out.hold_source = static_cast<int64_t>(hold_source);
    out.hold_pool = static_cast<int64_t>(hold_pool_index.size());
    std::vector<float> hold_score(hold.size());  // the raw balanced probability (for the AUC)
    std::vector<uint8_t> hold_label(hold.size());
    // Scored in chunks, so a large pool never becomes one huge matrix.
    constexpr size_t kChunk = 65536;
    for (size_t begin = 0; begin < hold.size(); begin += kChunk) {
      const size_t end = std::min(hold.size(), begin + kChunk);
      fold_phase("score features");
      FeatureMatrix x = Encode(attributes, encoding, std::span<const int64_t>(hold).subspan(begin, end - begin));
      fold_phase("predict");
      CDP_ASSIGN_OR_RETURN(std::vector<float> margin, booster.PredictMargin(x));
      for (size_t i = begin; i < end; ++i) {
        const double z = static_cast<double>(margin[i - begin]) + offset;
        hold_score[i] = static_cast<float>(1.0 / (1.0 + std::exp(-z)));
        if (i < hold_source) {
          out.source_margin.push_back(z);
        } else {
          pool_margin[hold_pool_index[i - hold_source]] = z;
        }
      }
    }
    fold_phase("quality");
    for (size_t i = 0; i < hold.size(); ++i) hold_label[i] = i < hold_source ? 1 : 0;
    out.auc = Auc(hold_score, hold_label);

    if (best_attr != SIZE_MAX) {
      const CustomerAttribute& attr = attributes.attributes[best_attr];
      std::vector<float> base(hold.size());
      for (size_t i = 0; i < hold.size(); ++i) {
        base[i] = static_cast<float>(best_score[static_cast<size_t>(binning[best_attr].Bin(attr, hold[i]))]);
      }
      out.baseline_auc = Auc(base, hold_label);
      out.baseline_attr = best_attr;
    }
    return Status::Ok();
  };
  if (fold_workers > 1) phase("folds in parallel");
  ParallelFor(fold_workers, static_cast<size_t>(folds), 1, [&](size_t begin, size_t end, int) {
    for (size_t k = begin; k < end; ++k) fold_out[k].status = run_fold(static_cast<int>(k), fold_out[k]);
  });
  for (const FoldOutput& f : fold_out) {
    CDP_RETURN_IF_ERROR(f.status);
    for (size_t a = 0; a < gain.size(); ++a) gain[a] += f.gain[a];
    source_margin.insert(source_margin.end(), f.source_margin.begin(), f.source_margin.end());
    r.quality.fold_auc.push_back(f.auc);
    baseline_sum += f.baseline_auc;
    if (f.baseline_attr != SIZE_MAX) ++baseline_votes[f.baseline_attr];
    min_hold_source = std::min(min_hold_source, f.hold_source);
    min_hold_pool = std::min(min_hold_pool, f.hold_pool);
  }

  // Similarity: the out-of-fold margins Platt-scaled (see lookalike.h).
  phase("calibrate");
  const PlattScale platt = FitPlatt(source_margin, pool_margin);
  r.calibration_slope = platt.a;
  r.calibration_intercept = platt.b;
  for (size_t i = 0; i < r.pool.size(); ++i) {
    r.pool_similarity[i] = static_cast<float>(1.0 / (1.0 + std::exp(-(platt.a * pool_margin[i] + platt.b))));
  }

  // Quality.
  r.quality.auc = std::accumulate(r.quality.fold_auc.begin(), r.quality.fold_auc.end(), 0.0) / folds;
  r.quality.baseline_auc = baseline_sum / folds;
  {
    int best_votes = 0;
    for (size_t a = 0; a < baseline_votes.size(); ++a) {
      if (baseline_votes[a] > best_votes) {
        best_votes = baseline_votes[a];
        r.quality.baseline_attribute = attributes.attributes[a].name;
      }
    }
  }
  r.quality.holdout_source = min_hold_source;
  r.quality.holdout_pool = min_hold_pool;
  r.quality.verdict = Verdict(r.quality.auc, r.quality.baseline_auc, r.quality.baseline_attribute);

  // Drivers.
  phase("drivers");
  const double total_gain = std::accumulate(gain.begin(), gain.end(), 0.0);
  if (total_gain > 0) {
    for (size_t a = 0; a < gain.size(); ++a) {
      if (gain[a] <= 0) continue;
      const CustomerAttribute& attr = attributes.attributes[a];
      r.drivers.push_back(LookalikeDriver{attr.name, attr.entity, attr.field, gain[a] / total_gain, ""});
    }
    std::stable_sort(r.drivers.begin(), r.drivers.end(),
                     [](const LookalikeDriver& x, const LookalikeDriver& y) { return x.importance > y.importance; });
    constexpr size_t kSummarized = 20;  // each summary is a pass over source and pool
    for (size_t i = 0; i < r.drivers.size() && i < kSummarized; ++i) {
      r.drivers[i].summary = DriverSummary(*attributes.Find(r.drivers[i].attribute), source, r.pool);
    }
  }

  // Output.
  phase("output");
  const double floor = options.min_similarity > 0 ? options.min_similarity : kMinSimilarity;
  std::vector<size_t> order;
  for (size_t i = 0; i < r.pool.size(); ++i) {
    if (r.pool_similarity[i] >= floor) order.push_back(i);
  }
  // Ties (a flat calibration gives everyone 0.5) by the model's margin, then by index.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (r.pool_similarity[a] != r.pool_similarity[b]) return r.pool_similarity[a] > r.pool_similarity[b];
    if (pool_margin[a] != pool_margin[b]) return pool_margin[a] > pool_margin[b];
    return a < b;
  });
  if (options.min_similarity == 0) {
    const auto cap = static_cast<size_t>(std::ceil(options.share * static_cast<double>(r.pool.size()) - 1e-9));
    if (order.size() > cap) order.resize(cap);
  }
  for (size_t i : order) {
    const float s = r.pool_similarity[i];
    r.members.push_back(LookalikeMember{r.pool[i], s, *BandOfSimilarity(s)});
  }
  if (options.include_source) {
    for (uint32_t c : source) r.members.push_back(LookalikeMember{c, 1.0f, SimilarityBand::kSource});
  }

  // Bands.
  const SimilarityBand bands[] = {SimilarityBand::kLow, SimilarityBand::kSomewhatSimilar, SimilarityBand::kSimilar,
                                  SimilarityBand::kVerySimilar};
  const double edges[] = {kMinSimilarity, kSomewhatSimilarFrom, kSimilarFrom, kVerySimilarFrom, 1.0};
  for (int b = 0; b < 4; ++b) r.bands.push_back(SimilarityBandCount{bands[b], edges[b], edges[b + 1], 0, 0});
  for (float s : r.pool_similarity) {
    if (auto b = BandOfSimilarity(s)) ++r.bands[static_cast<size_t>(*b)].pool;
  }
  for (const auto& m : r.members) {
    if (m.band != SimilarityBand::kSource) ++r.bands[static_cast<size_t>(m.band)].members;
  }
  if (options.include_source) {
    r.bands.push_back(SimilarityBandCount{SimilarityBand::kSource, 1.0, 1.0, 0, r.source_size});
  }
  return r;
}

nlohmann::ordered_json ToJson(const LookalikeResult& r, size_t member_limit) {
  nlohmann::ordered_json j;
  j["source_size"] = r.source_size;
  j["pool_size"] = r.pool_size;
  j["output_size"] = r.members.size();
  nlohmann::ordered_json q;
  q["auc"] = r.quality.auc;
  q["fold_auc"] = r.quality.fold_auc;
  q["baseline_auc"] = r.quality.baseline_auc;
  q["baseline_attribute"] = r.quality.baseline_attribute;
  q["holdout_source"] = r.quality.holdout_source;
  q["holdout_pool"] = r.quality.holdout_pool;
  q["verdict"] = r.quality.verdict;
  j["quality"] = std::move(q);
  j["calibration"] = {{"slope", r.calibration_slope}, {"intercept", r.calibration_intercept}};
  auto bands = nlohmann::ordered_json::array();
  for (const auto& b : r.bands) {
    bands.push_back({{"band", SimilarityBandName(b.band)}, {"from", b.from}, {"to", b.to}, {"pool", b.pool},
                     {"members", b.members}});
  }
  j["bands"] = std::move(bands);
  auto drivers = nlohmann::ordered_json::array();
  for (const auto& d : r.drivers) {
    drivers.push_back({{"attribute", d.attribute}, {"entity", d.entity}, {"field", d.field},
                       {"importance", d.importance}, {"summary", d.summary}});
  }
  j["drivers"] = std::move(drivers);
  j["attributes_used"] = r.attributes_used;
  auto members = nlohmann::ordered_json::array();
  for (size_t i = 0; i < r.members.size() && i < member_limit; ++i) {
    const auto& m = r.members[i];
    members.push_back({{"customer", m.customer}, {"similarity", m.similarity}, {"band", SimilarityBandName(m.band)}});
  }
  j["members"] = std::move(members);
  return j;
}

}  // namespace cdp
