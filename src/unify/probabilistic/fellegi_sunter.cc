#include "unify/probabilistic/fellegi_sunter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <unordered_map>

namespace cdp {
namespace {

constexpr double kMinPrior = 1e-9;
constexpr double kMaxPrior = 1 - 1e-9;

// log2(p / (1 - p)).
double Logit2(double p) { return std::log2(p) - std::log1p(-p) / std::log(2.0); }

bool IsProbability(double p) { return p > 0 && p <= 1; }  // false for NaN

// A distinct comparison vector of a set of pairs and how often it occurs.
struct DistinctVector {
  const uint8_t* levels;  // points into the FsPairs buffer
  int64_t count;
  size_t first_pair;  // index of its first occurrence, for error messages
};

// Groups identical comparison vectors (the buffer of `pairs` must outlive the
// result) and checks every level against `specs`. The result is sorted
// lexicographically so that sums over it do not depend on hash order.
StatusOr<std::vector<DistinctVector>> GroupPairs(const std::vector<FsComparisonSpec>& specs,
                                                 const FsPairs& pairs, std::string_view what) {
  const size_t k = specs.size();
  if (pairs.num_comparisons != k) {
    return InvalidArgumentError(std::string(what) + ": num_comparisons is " +
                                std::to_string(pairs.num_comparisons) + " but there are " +
                                std::to_string(k) + " comparison specs");
  }
  if (pairs.levels.size() % k != 0) {
    return InvalidArgumentError(std::string(what) + ": levels holds " + std::to_string(pairs.levels.size()) +
                                " values, not a multiple of num_comparisons " + std::to_string(k));
  }
  struct Group {
    int64_t count = 0;
    size_t first_pair = 0;
  };
  std::unordered_map<std::string_view, Group> groups;
  const size_t n = pairs.size();
  const char* base = reinterpret_cast<const char*>(pairs.levels.data());
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = groups.try_emplace(std::string_view(base + i * k, k));
    if (inserted) it->second.first_pair = i;
    ++it->second.count;
  }
  std::vector<DistinctVector> distinct;
  distinct.reserve(groups.size());
  for (const auto& [key, group] : groups) {
    const auto* levels = reinterpret_cast<const uint8_t*>(key.data());
    for (size_t c = 0; c < k; ++c) {
      if (levels[c] != kFsNull && levels[c] >= specs[c].levels.size()) {
        return InvalidArgumentError(
            std::string(what) + ": pair " + std::to_string(group.first_pair) + ", comparison \"" +
            specs[c].name + "\": level " + std::to_string(levels[c]) + " is out of range (" +
            std::to_string(specs[c].levels.size()) + " levels, or " + std::to_string(kFsNull) + " for null)");
      }
    }
    distinct.push_back({levels, group.count, group.first_pair});
  }
  std::sort(distinct.begin(), distinct.end(), [k](const DistinctVector& a, const DistinctVector& b) {
    return std::lexicographical_compare(a.levels, a.levels + k, b.levels, b.levels + k);
  });
  return distinct;
}

// Raises every value to at least `floor`, then rescales so they sum to 1.
void FloorAndNormalize(std::vector<double>& p, double floor) {
  double sum = 0;
  for (double& v : p) {
    v = std::max(v, floor);
    sum += v;
  }
  for (double& v : p) v /= sum;
}

// Starting m: 0.9 on level 0 and the remaining 0.1 over the weaker levels,
// halving from one level to the next (4 levels: 0.9, 0.057, 0.029, 0.014).
std::vector<double> StartingM(size_t levels) {
  std::vector<double> m(levels);
  m[0] = 0.9;
  double share = 0, half = 1;
  for (size_t l = 1; l < levels; ++l) share += (half /= 2);
  half = 1;
  for (size_t l = 1; l < levels; ++l) m[l] = 0.1 * (half /= 2) / share;
  return m;
}

Status ValidateSpecs(const std::vector<FsComparisonSpec>& specs) {
  if (specs.empty())
    return InvalidArgumentError("no comparison specs: the model needs at least one comparison");
  std::set<std::string_view> names;
  for (size_t c = 0; c < specs.size(); ++c) {
    const FsComparisonSpec& spec = specs[c];
    std::string where = "comparison spec " + std::to_string(c);
    if (spec.name.empty()) return InvalidArgumentError(where + ": name is empty");
    where += " (\"" + spec.name + "\")";
    if (!names.insert(spec.name).second) return InvalidArgumentError(where + ": duplicate name");
    if (spec.levels.size() < 2) {
      return InvalidArgumentError(where +
                                  ": needs at least two levels (one plus the catch-all \"else\"), has " +
                                  std::to_string(spec.levels.size()));
    }
    if (spec.levels.size() > kFsMaxLevels) {
      return InvalidArgumentError(where + ": has " + std::to_string(spec.levels.size()) +
                                  " levels, at most " + std::to_string(kFsMaxLevels) + " are supported");
    }
  }
  return Status::Ok();
}

std::string FormatDouble(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

double FsLevelParams::Weight() const { return std::log2(m) - std::log2(u); }

double FsModel::PriorWeight() const { return Logit2(prior); }

double FsModel::MatchWeight(const uint8_t* levels, const double* tf) const {
  double weight = PriorWeight();
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const FsComparisonParams& comparison = comparisons[c];
    const uint8_t level = levels[c];
    if (level == kFsNull) continue;
    assert(level < comparison.levels.size());
    if (level >= comparison.levels.size()) continue;
    const FsLevelParams& params = comparison.levels[level];
    weight += params.Weight();
    if (comparison.tf_exact && level == 0 && tf != nullptr && std::isfinite(tf[c]) && tf[c] > 0) {
      weight += std::log2(params.u) - std::log2(std::max(tf[c], comparison.tf_min_u));
    }
  }
  return weight;
}

double FsModel::Probability(double weight) {
  if (weight >= 0) return 1 / (1 + std::exp2(-weight));
  double odds = std::exp2(weight);
  return odds / (1 + odds);
}

std::vector<FsModel::Contribution> FsModel::Explain(const uint8_t* levels, const double* tf) const {
  std::vector<Contribution> out;
  out.reserve(comparisons.size());
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const FsComparisonParams& comparison = comparisons[c];
    Contribution contribution;
    contribution.comparison = comparison.name;
    const uint8_t level = levels[c];
    assert(level == kFsNull || level < comparison.levels.size());
    if (level == kFsNull || level >= comparison.levels.size()) {
      contribution.level = "null";
    } else {
      const FsLevelParams& params = comparison.levels[level];
      contribution.level = params.label;
      contribution.m = params.m;
      contribution.u = params.u;
      contribution.weight = params.Weight();
      if (comparison.tf_exact && level == 0 && tf != nullptr && std::isfinite(tf[c]) && tf[c] > 0) {
        contribution.term_frequency = tf[c];
        contribution.weight += std::log2(params.u) - std::log2(std::max(tf[c], comparison.tf_min_u));
      }
    }
    out.push_back(std::move(contribution));
  }
  return out;
}

nlohmann::json FsModel::ToJson() const {
  nlohmann::json json_comparisons = nlohmann::json::array();
  for (const FsComparisonParams& comparison : comparisons) {
    nlohmann::json json_levels = nlohmann::json::array();
    for (const FsLevelParams& level : comparison.levels) {
      json_levels.push_back({{"label", level.label}, {"m", level.m}, {"u", level.u}});
    }
    json_comparisons.push_back({{"name", comparison.name},
                                {"levels", std::move(json_levels)},
                                {"tf_exact", comparison.tf_exact},
                                {"tf_min_u", comparison.tf_min_u}});
  }
  return {{"prior", prior},
          {"comparisons", std::move(json_comparisons)},
          {"em_iterations", em_iterations},
          {"converged", converged},
          {"candidate_pairs", candidate_pairs},
          {"distinct_vectors", distinct_vectors}};
}

StatusOr<FsModel> FsModel::FromJson(const nlohmann::json& json) {
  auto error = [](const std::string& field, const std::string& problem) {
    return InvalidArgumentError(field + ": " + problem);
  };
  auto check_keys = [&](const nlohmann::json& object, const std::string& where,
                        std::initializer_list<std::string_view> known) -> Status {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return error(where.empty() ? key : where + "." + key, "unknown field");
      }
    }
    return Status::Ok();
  };
  auto probability = [&](const nlohmann::json& object, const std::string& where, const char* key,
                         bool allow_one) -> StatusOr<double> {
    std::string field = where.empty() ? key : where + "." + key;
    auto it = object.find(key);
    if (it == object.end()) return error(field, "missing");
    const char* range = allow_one ? "(0, 1]" : "(0, 1)";
    if (!it->is_number())
      return error(field, std::string("must be a number in ") + range + ", got " + it->dump());
    double p = it->get<double>();
    if (!IsProbability(p) || (!allow_one && p >= 1)) {
      return error(field, std::string("must be a number in ") + range + ", got " + it->dump());
    }
    return p;
  };

  if (!json.is_object()) return error("model", "must be a JSON object, got " + std::string(json.type_name()));
  CDP_RETURN_IF_ERROR(check_keys(
      json, "",
      {"prior", "comparisons", "em_iterations", "converged", "candidate_pairs", "distinct_vectors"}));
  FsModel model;
  CDP_ASSIGN_OR_RETURN(model.prior, probability(json, "", "prior", /*allow_one=*/false));
  if (auto it = json.find("em_iterations"); it != json.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX) {
      return error("em_iterations", "must be a non-negative integer, got " + it->dump());
    }
    model.em_iterations = it->get<int>();
  }
  if (auto it = json.find("converged"); it != json.end()) {
    if (!it->is_boolean()) return error("converged", "must be true or false, got " + it->dump());
    model.converged = it->get<bool>();
  }
  for (const char* key : {"candidate_pairs", "distinct_vectors"}) {
    auto it = json.find(key);
    if (it == json.end()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return error(key, "must be a non-negative integer, got " + it->dump());
    }
    (std::string_view(key) == "candidate_pairs" ? model.candidate_pairs : model.distinct_vectors) =
        it->get<int64_t>();
  }

  auto comparisons = json.find("comparisons");
  if (comparisons == json.end()) return error("comparisons", "missing");
  if (!comparisons->is_array() || comparisons->empty()) {
    return error("comparisons", "must be a non-empty array, got " + comparisons->dump());
  }
  std::set<std::string> names;
  for (size_t c = 0; c < comparisons->size(); ++c) {
    const nlohmann::json& jc = (*comparisons)[c];
    const std::string where = "comparisons[" + std::to_string(c) + "]";
    if (!jc.is_object()) return error(where, "must be an object, got " + jc.dump());
    CDP_RETURN_IF_ERROR(check_keys(jc, where, {"name", "levels", "tf_exact", "tf_min_u"}));
    FsComparisonParams comparison;
    auto name = jc.find("name");
    if (name == jc.end()) return error(where + ".name", "missing");
    if (!name->is_string() || name->get<std::string>().empty()) {
      return error(where + ".name", "must be a non-empty string, got " + name->dump());
    }
    comparison.name = name->get<std::string>();
    if (!names.insert(comparison.name).second) {
      return error(where + ".name", "duplicate comparison name \"" + comparison.name + "\"");
    }
    if (auto it = jc.find("tf_exact"); it != jc.end()) {
      if (!it->is_boolean()) return error(where + ".tf_exact", "must be true or false, got " + it->dump());
      comparison.tf_exact = it->get<bool>();
    }
    if (jc.contains("tf_min_u")) {
      CDP_ASSIGN_OR_RETURN(comparison.tf_min_u, probability(jc, where, "tf_min_u", /*allow_one=*/true));
    }
    auto levels = jc.find("levels");
    if (levels == jc.end()) return error(where + ".levels", "missing");
    if (!levels->is_array() || levels->size() < 2 || levels->size() > kFsMaxLevels) {
      return error(where + ".levels", "must be an array of 2 to " + std::to_string(kFsMaxLevels) +
                                          " levels, got " + levels->dump());
    }
    for (size_t l = 0; l < levels->size(); ++l) {
      const nlohmann::json& jl = (*levels)[l];
      const std::string lwhere = where + ".levels[" + std::to_string(l) + "]";
      if (!jl.is_object()) return error(lwhere, "must be an object, got " + jl.dump());
      CDP_RETURN_IF_ERROR(check_keys(jl, lwhere, {"label", "m", "u"}));
      FsLevelParams level;
      auto label = jl.find("label");
      if (label == jl.end()) return error(lwhere + ".label", "missing");
      if (!label->is_string()) return error(lwhere + ".label", "must be a string, got " + label->dump());
      level.label = label->get<std::string>();
      CDP_ASSIGN_OR_RETURN(level.m, probability(jl, lwhere, "m", /*allow_one=*/true));
      CDP_ASSIGN_OR_RETURN(level.u, probability(jl, lwhere, "u", /*allow_one=*/true));
      comparison.levels.push_back(std::move(level));
    }
    model.comparisons.push_back(std::move(comparison));
  }
  return model;
}

StatusOr<FsModel> TrainFsModel(const std::vector<FsComparisonSpec>& specs, const FsPairs& random_pairs,
                               const FsPairs& candidate_pairs, double fixed_prior,
                               const FsTrainingOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateSpecs(specs));
  if (!(fixed_prior > 0 && fixed_prior < 1)) {
    return InvalidArgumentError("fixed_prior must be in (0, 1), got " + FormatDouble("%g", fixed_prior));
  }
  if (options.max_iterations < 0) {
    return InvalidArgumentError("options.max_iterations must be >= 0, got " +
                                std::to_string(options.max_iterations));
  }
  if (!(options.tolerance > 0)) {
    return InvalidArgumentError("options.tolerance must be > 0, got " +
                                FormatDouble("%g", options.tolerance));
  }
  size_t max_levels = 0;
  for (const FsComparisonSpec& spec : specs) max_levels = std::max(max_levels, spec.levels.size());
  if (!(options.min_probability > 0 && options.min_probability * static_cast<double>(max_levels) < 1)) {
    return InvalidArgumentError("options.min_probability must be in (0, 1/levels) = (0, " +
                                FormatDouble("%g", 1.0 / static_cast<double>(max_levels)) + "), got " +
                                FormatDouble("%g", options.min_probability));
  }
  if (random_pairs.size() == 0) {
    return InvalidArgumentError(
        "no random pairs: the u-probabilities are estimated from random record pairs");
  }
  const size_t k = specs.size();
  CDP_ASSIGN_OR_RETURN(std::vector<DistinctVector> random, GroupPairs(specs, random_pairs, "random_pairs"));
  CDP_ASSIGN_OR_RETURN(std::vector<DistinctVector> candidates,
                       GroupPairs(specs, candidate_pairs, "candidate_pairs"));

  // u: level frequencies among the random pairs, nulls excluded.
  std::vector<std::vector<double>> u(k), m(k);
  for (size_t c = 0; c < k; ++c) u[c].assign(specs[c].levels.size(), 0);
  for (const DistinctVector& v : random) {
    for (size_t c = 0; c < k; ++c) {
      if (v.levels[c] != kFsNull) u[c][v.levels[c]] += static_cast<double>(v.count);
    }
  }
  for (size_t c = 0; c < k; ++c) {
    double total = 0;
    for (double count : u[c]) total += count;
    if (total == 0) {
      return InvalidArgumentError("comparison \"" + specs[c].name +
                                  "\" is null in all random pairs: its u-probabilities cannot be estimated");
    }
    for (double& p : u[c]) p /= total;
    FloorAndNormalize(u[c], options.min_probability);
    m[c] = StartingM(specs[c].levels.size());
    FloorAndNormalize(m[c], options.min_probability);
  }

  // m: EM with u and the prior fixed. Per distinct vector, the log of the
  // likelihood ratio is recomputed from the current m each iteration.
  FsModel model;
  model.prior = fixed_prior;
  model.candidate_pairs = static_cast<int64_t>(candidate_pairs.size());
  model.distinct_vectors = static_cast<int64_t>(candidates.size());
  const double log_prior_odds = std::log(fixed_prior) - std::log1p(-fixed_prior);
  std::vector<std::vector<double>> numerator(k);
  std::vector<double> denominator(k);
  for (int iteration = 0; iteration < options.max_iterations && !candidates.empty(); ++iteration) {
    for (size_t c = 0; c < k; ++c) numerator[c].assign(specs[c].levels.size(), 0);
    std::fill(denominator.begin(), denominator.end(), 0);
    for (const DistinctVector& v : candidates) {
      // E step: posterior match probability of a pair with this vector.
      double log_odds = log_prior_odds;
      for (size_t c = 0; c < k; ++c) {
        if (v.levels[c] != kFsNull) log_odds += std::log(m[c][v.levels[c]]) - std::log(u[c][v.levels[c]]);
      }
      const double posterior =
          log_odds >= 0 ? 1 / (1 + std::exp(-log_odds)) : std::exp(log_odds) / (1 + std::exp(log_odds));
      const double weight = posterior * static_cast<double>(v.count);
      for (size_t c = 0; c < k; ++c) {
        if (v.levels[c] == kFsNull) continue;
        numerator[c][v.levels[c]] += weight;
        denominator[c] += weight;
      }
    }
    // M step: m[c][l] = expected matches at level l / expected matches non-null on c.
    double max_delta = 0;
    for (size_t c = 0; c < k; ++c) {
      if (denominator[c] <= 0) continue;  // no evidence about c: keep m
      std::vector<double> next(numerator[c].size());
      for (size_t l = 0; l < next.size(); ++l) next[l] = numerator[c][l] / denominator[c];
      FloorAndNormalize(next, options.min_probability);
      for (size_t l = 0; l < next.size(); ++l) max_delta = std::max(max_delta, std::abs(next[l] - m[c][l]));
      m[c] = std::move(next);
    }
    model.em_iterations = iteration + 1;
    if (max_delta < options.tolerance) {
      model.converged = true;
      break;
    }
  }

  for (size_t c = 0; c < k; ++c) {
    FsComparisonParams comparison;
    comparison.name = specs[c].name;
    comparison.tf_exact = specs[c].tf_exact;
    for (size_t l = 0; l < specs[c].levels.size(); ++l) {
      comparison.levels.push_back({specs[c].levels[l], m[c][l], u[c][l]});
    }
    model.comparisons.push_back(std::move(comparison));
  }
  return model;
}

double EstimatePrior(int64_t deterministic_matches, int64_t candidate_pairs, double recall) {
  if (candidate_pairs <= 0) return kMinPrior;
  if (std::isnan(recall)) recall = 1;
  recall = std::clamp(recall, kMinPrior, 1.0);
  const double matches = static_cast<double>(std::max<int64_t>(deterministic_matches, 0)) / recall;
  return std::clamp(matches / static_cast<double>(candidate_pairs), kMinPrior, kMaxPrior);
}

std::string ExplainFsModel(const FsModel& model) {
  size_t name_width = std::string_view("comparison").size(), label_width = std::string_view("level").size();
  for (const FsComparisonParams& comparison : model.comparisons) {
    name_width = std::max(name_width, comparison.name.size());
    for (const FsLevelParams& level : comparison.levels)
      label_width = std::max(label_width, level.label.size());
  }
  std::string out = "Fellegi-Sunter model";
  if (model.candidate_pairs > 0 || model.em_iterations > 0) {
    out += " (EM: " + std::to_string(model.em_iterations) + " iterations, " +
           (model.converged ? "converged" : "not converged") + ", " + std::to_string(model.candidate_pairs) +
           " candidate pairs, " + std::to_string(model.distinct_vectors) + " distinct comparison vectors)";
  }
  out += "\nprior (lambda) " + FormatDouble("%.6g", model.prior) + ", prior weight " +
         FormatDouble("%+.3f", model.PriorWeight()) + " bits\n\n";
  out += Pad("comparison", name_width) + "  " + Pad("level", label_width) +
         "  m             u             m/u           weight (bits)\n";
  for (const FsComparisonParams& comparison : model.comparisons) {
    for (size_t l = 0; l < comparison.levels.size(); ++l) {
      const FsLevelParams& level = comparison.levels[l];
      out += Pad(l == 0 ? comparison.name : "", name_width) + "  " + Pad(level.label, label_width) + "  " +
             Pad(FormatDouble("%.6g", level.m), 12) + "  " + Pad(FormatDouble("%.6g", level.u), 12) + "  " +
             Pad(FormatDouble("%.6g", level.m / level.u), 12) + "  " + FormatDouble("%+.3f", level.Weight());
      if (l == 0 && comparison.tf_exact) {
        out += "  (term-frequency adjusted, tf_min_u " + FormatDouble("%g", comparison.tf_min_u) + ")";
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace cdp
