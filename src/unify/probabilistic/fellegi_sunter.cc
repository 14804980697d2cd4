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
  return weight + HouseholdWeight(levels, tf);
}

double FsModel::HouseholdWeight(const uint8_t* levels, const double* tf) const {
  if (household.empty() || !(household.share > 0)) return 0;
  double log2_ratio = 0;  // log2 prod h/u over the non-null household comparisons
  bool any = false;
  for (size_t i = 0; i < household.comparisons.size(); ++i) {
    const size_t c = household.comparisons[i];
    if (c >= comparisons.size() || i >= household.h.size()) continue;
    const FsComparisonParams& comparison = comparisons[c];
    const uint8_t level = levels[c];
    if (level == kFsNull || level >= comparison.levels.size() || level >= household.h[i].size()) continue;
    double u = comparison.levels[level].u;
    if (comparison.tf_exact && level == 0 && tf != nullptr && std::isfinite(tf[c]) && tf[c] > 0) {
      u = std::max(tf[c], comparison.tf_min_u);
    }
    log2_ratio += std::log2(household.h[i][level]) - std::log2(u);
    any = true;
  }
  if (!any) return 0;
  // -log2(1 - share + share * 2^log2_ratio), without overflow for a large ratio.
  const double log2_share = std::log2(household.share) + log2_ratio;
  if (log2_share > 0) return -(log2_share + std::log2(1 + (1 - household.share) * std::exp2(-log2_share)));
  return -std::log2(1 - household.share + std::exp2(log2_share));
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
  if (household.active()) {
    Contribution contribution;
    contribution.comparison = "household(";
    for (size_t i = 0; i < household.comparisons.size(); ++i) {
      if (household.comparisons[i] >= comparisons.size()) continue;
      contribution.comparison += (i == 0 ? "" : "+") + comparisons[household.comparisons[i]].name;
    }
    contribution.comparison += ")";
    contribution.level = "correction";
    contribution.weight = HouseholdWeight(levels, tf);
    out.push_back(std::move(contribution));
  }
  return out;
}

nlohmann::json FsModel::ToJson() const {
  nlohmann::json json_comparisons = nlohmann::json::array();
  for (const FsComparisonParams& comparison : comparisons) {
    nlohmann::json json_levels = nlohmann::json::array();
    for (const FsLevelParams& level : comparison.levels) {
      json_levels.push_back({{"label", level.label},
                             {"m", level.m},
                             {"u", level.u},
                             {"bayes_factor", level.m / level.u},
                             {"weight", level.Weight()}});
    }
    nlohmann::json jc = {{"name", comparison.name},
                         {"levels", std::move(json_levels)},
                         {"tf_exact", comparison.tf_exact},
                         {"tf_min_u", comparison.tf_min_u},
                         {"trained_by", comparison.trained_by}};
    if (comparison.tf_records > 0) jc["tf_records"] = comparison.tf_records;
    json_comparisons.push_back(std::move(jc));
  }
  nlohmann::json json_sessions = nlohmann::json::array();
  for (const FsSessionInfo& session : sessions) {
    json_sessions.push_back({{"name", session.name},
                             {"fixed", session.fixed},
                             {"blocked_pairs", session.blocked_pairs},
                             {"pairs", session.pairs},
                             {"labelled_pairs", session.labelled_pairs},
                             {"distinct_vectors", session.distinct_vectors},
                             {"lambda", session.lambda},
                             {"em_iterations", session.em_iterations},
                             {"converged", session.converged}});
    if (session.household_lambda > 0) json_sessions.back()["household_lambda"] = session.household_lambda;
  }
  nlohmann::json json = {{"prior", prior},
                         {"prior_weight", PriorWeight()},
                         {"comparisons", std::move(json_comparisons)},
                         {"sessions", std::move(json_sessions)},
                         {"em_iterations", em_iterations},
                         {"converged", converged},
                         {"candidate_pairs", candidate_pairs},
                         {"distinct_vectors", distinct_vectors}};
  if (!household.empty()) {
    nlohmann::json jh = nlohmann::json::array();
    for (size_t i = 0; i < household.comparisons.size(); ++i) {
      jh.push_back({{"name", comparisons.at(household.comparisons[i]).name}, {"h", household.h.at(i)}});
    }
    json["household"] = {{"comparisons", std::move(jh)},
                         {"share", household.share},
                         {"pairs", household.pairs},
                         {"expected_pairs", household.expected_pairs},
                         {"em_iterations", household.em_iterations},
                         {"converged", household.converged},
                         {"log_likelihood_gain", household.log_likelihood_gain},
                         {"bic_penalty", household.bic_penalty}};
  }
  if (!prior_method.empty()) json["prior_method"] = prior_method;
  if (comparable_pairs > 0) json["comparable_pairs"] = comparable_pairs;
  if (prior_matches > 0) json["prior_matches"] = prior_matches;
  if (prior_recall > 0) json["prior_recall"] = prior_recall;
  return json;
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
  auto count = [&](const nlohmann::json& object, const std::string& where, const char* key,
                   int64_t* out) -> Status {
    auto it = object.find(key);
    if (it == object.end()) return Status::Ok();
    std::string field = where.empty() ? key : where + "." + key;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return error(field, "must be a non-negative integer, got " + it->dump());
    }
    *out = it->get<int64_t>();
    return Status::Ok();
  };
  auto non_negative = [&](const nlohmann::json& object, const std::string& where, const char* key,
                          double* out) -> Status {
    auto it = object.find(key);
    if (it == object.end()) return Status::Ok();
    std::string field = where.empty() ? key : where + "." + key;
    if (!it->is_number() || !(it->get<double>() >= 0) || !std::isfinite(it->get<double>())) {
      return error(field, "must be a finite number >= 0, got " + it->dump());
    }
    *out = it->get<double>();
    return Status::Ok();
  };
  auto boolean = [&](const nlohmann::json& object, const std::string& where, const char* key,
                     bool* out) -> Status {
    auto it = object.find(key);
    if (it == object.end()) return Status::Ok();
    std::string field = where.empty() ? key : where + "." + key;
    if (!it->is_boolean()) return error(field, "must be true or false, got " + it->dump());
    *out = it->get<bool>();
    return Status::Ok();
  };
  auto iterations = [&](const nlohmann::json& object, const std::string& where, int* out) -> Status {
    int64_t v = *out;
    CDP_RETURN_IF_ERROR(count(object, where, "em_iterations", &v));
    if (v > INT32_MAX) return error(where.empty() ? "em_iterations" : where + ".em_iterations", "too large");
    *out = static_cast<int>(v);
    return Status::Ok();
  };
  auto strings = [&](const nlohmann::json& object, const std::string& where, const char* key,
                     std::vector<std::string>* out) -> Status {
    auto it = object.find(key);
    if (it == object.end()) return Status::Ok();
    std::string field = where + "." + key;
    if (!it->is_array()) return error(field, "must be an array of strings, got " + it->dump());
    for (const auto& v : *it) {
      if (!v.is_string()) return error(field, "must be an array of strings, got " + it->dump());
      out->push_back(v.get<std::string>());
    }
    return Status::Ok();
  };

  if (!json.is_object()) return error("model", "must be a JSON object, got " + std::string(json.type_name()));
  CDP_RETURN_IF_ERROR(check_keys(json, "",
                                 {"prior", "prior_weight", "prior_method", "comparable_pairs", "prior_matches",
                                  "prior_recall", "comparisons", "sessions", "em_iterations", "converged",
                                  "candidate_pairs", "distinct_vectors", "household"}));
  FsModel model;
  CDP_ASSIGN_OR_RETURN(model.prior, probability(json, "", "prior", /*allow_one=*/false));
  CDP_RETURN_IF_ERROR(iterations(json, "", &model.em_iterations));
  CDP_RETURN_IF_ERROR(boolean(json, "", "converged", &model.converged));
  CDP_RETURN_IF_ERROR(count(json, "", "candidate_pairs", &model.candidate_pairs));
  CDP_RETURN_IF_ERROR(count(json, "", "distinct_vectors", &model.distinct_vectors));
  CDP_RETURN_IF_ERROR(count(json, "", "comparable_pairs", &model.comparable_pairs));
  CDP_RETURN_IF_ERROR(non_negative(json, "", "prior_matches", &model.prior_matches));
  CDP_RETURN_IF_ERROR(non_negative(json, "", "prior_recall", &model.prior_recall));
  if (auto it = json.find("prior_method"); it != json.end()) {
    if (!it->is_string() || (*it != "rules" && *it != "data" && *it != "")) {
      return error("prior_method", "must be \"rules\" or \"data\", got " + it->dump());
    }
    model.prior_method = it->get<std::string>();
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
    CDP_RETURN_IF_ERROR(
        check_keys(jc, where, {"name", "levels", "tf_exact", "tf_min_u", "tf_records", "trained_by"}));
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
    CDP_RETURN_IF_ERROR(boolean(jc, where, "tf_exact", &comparison.tf_exact));
    if (jc.contains("tf_min_u")) {
      CDP_ASSIGN_OR_RETURN(comparison.tf_min_u, probability(jc, where, "tf_min_u", /*allow_one=*/true));
    }
    CDP_RETURN_IF_ERROR(count(jc, where, "tf_records", &comparison.tf_records));
    CDP_RETURN_IF_ERROR(strings(jc, where, "trained_by", &comparison.trained_by));
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
      CDP_RETURN_IF_ERROR(check_keys(jl, lwhere, {"label", "m", "u", "bayes_factor", "weight"}));
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

  if (auto sessions = json.find("sessions"); sessions != json.end()) {
    if (!sessions->is_array()) return error("sessions", "must be an array, got " + sessions->dump());
    for (size_t i = 0; i < sessions->size(); ++i) {
      const nlohmann::json& js = (*sessions)[i];
      const std::string where = "sessions[" + std::to_string(i) + "]";
      if (!js.is_object()) return error(where, "must be an object, got " + js.dump());
      CDP_RETURN_IF_ERROR(check_keys(js, where,
                                     {"name", "fixed", "blocked_pairs", "pairs", "labelled_pairs",
                                      "distinct_vectors", "lambda", "household_lambda", "em_iterations",
                                      "converged"}));
      FsSessionInfo session;
      auto name = js.find("name");
      if (name == js.end() || !name->is_string()) {
        return error(where + ".name", "must be a string, got " + (name == js.end() ? "nothing" : name->dump()));
      }
      session.name = name->get<std::string>();
      CDP_RETURN_IF_ERROR(strings(js, where, "fixed", &session.fixed));
      CDP_RETURN_IF_ERROR(count(js, where, "blocked_pairs", &session.blocked_pairs));
      CDP_RETURN_IF_ERROR(count(js, where, "pairs", &session.pairs));
      CDP_RETURN_IF_ERROR(count(js, where, "labelled_pairs", &session.labelled_pairs));
      CDP_RETURN_IF_ERROR(count(js, where, "distinct_vectors", &session.distinct_vectors));
      CDP_RETURN_IF_ERROR(non_negative(js, where, "lambda", &session.lambda));
      CDP_RETURN_IF_ERROR(non_negative(js, where, "household_lambda", &session.household_lambda));
      CDP_RETURN_IF_ERROR(iterations(js, where, &session.em_iterations));
      CDP_RETURN_IF_ERROR(boolean(js, where, "converged", &session.converged));
      model.sessions.push_back(std::move(session));
    }
  }

  if (auto jh = json.find("household"); jh != json.end()) {
    const std::string where = "household";
    if (!jh->is_object()) return error(where, "must be an object, got " + jh->dump());
    CDP_RETURN_IF_ERROR(check_keys(*jh, where,
                                   {"comparisons", "share", "pairs", "expected_pairs", "em_iterations", "converged",
                                    "log_likelihood_gain", "bic_penalty"}));
    FsHouseholdComponent& household = model.household;
    auto share = jh->find("share");
    if (share == jh->end() || !share->is_number() || !(share->get<double>() >= 0) ||
        !(share->get<double>() < 1)) {
      return error(where + ".share",
                   "must be a number in [0, 1), got " + (share == jh->end() ? "nothing" : share->dump()));
    }
    household.share = share->get<double>();
    CDP_RETURN_IF_ERROR(count(*jh, where, "pairs", &household.pairs));
    CDP_RETURN_IF_ERROR(non_negative(*jh, where, "expected_pairs", &household.expected_pairs));
    CDP_RETURN_IF_ERROR(iterations(*jh, where, &household.em_iterations));
    CDP_RETURN_IF_ERROR(boolean(*jh, where, "converged", &household.converged));
    if (auto g = jh->find("log_likelihood_gain"); g != jh->end()) {
      if (!g->is_number() || !std::isfinite(g->get<double>())) {
        return error(where + ".log_likelihood_gain", "must be a finite number, got " + g->dump());
      }
      household.log_likelihood_gain = g->get<double>();
    }
    CDP_RETURN_IF_ERROR(non_negative(*jh, where, "bic_penalty", &household.bic_penalty));
    auto list = jh->find("comparisons");
    if (list == jh->end() || !list->is_array() || list->size() < 2) {
      return error(where + ".comparisons", "must be an array of at least two comparisons, got " +
                                               (list == jh->end() ? "nothing" : list->dump()));
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const nlohmann::json& jc = (*list)[i];
      const std::string cwhere = where + ".comparisons[" + std::to_string(i) + "]";
      if (!jc.is_object()) return error(cwhere, "must be an object, got " + jc.dump());
      CDP_RETURN_IF_ERROR(check_keys(jc, cwhere, {"name", "h"}));
      auto name = jc.find("name");
      size_t c = model.comparisons.size();
      if (name != jc.end() && name->is_string()) {
        for (size_t k = 0; k < model.comparisons.size(); ++k) {
          if (model.comparisons[k].name == name->get<std::string>()) c = k;
        }
      }
      if (c == model.comparisons.size()) {
        return error(cwhere + ".name", "must name a comparison of the model, got " +
                                           (name == jc.end() ? std::string("nothing") : name->dump()));
      }
      if (!household.comparisons.empty() && c <= household.comparisons.back()) {
        return error(cwhere + ".name", "comparisons must be listed once each, in model order");
      }
      auto h = jc.find("h");
      const size_t levels = model.comparisons[c].levels.size();
      if (h == jc.end() || !h->is_array() || h->size() != levels) {
        return error(cwhere + ".h", "must be an array of " + std::to_string(levels) + " probabilities, got " +
                                        (h == jc.end() ? "nothing" : h->dump()));
      }
      std::vector<double> values;
      for (const auto& v : *h) {
        if (!v.is_number() || !IsProbability(v.get<double>())) {
          return error(cwhere + ".h", "must hold numbers in (0, 1], got " + v.dump());
        }
        values.push_back(v.get<double>());
      }
      household.comparisons.push_back(c);
      household.h.push_back(std::move(values));
    }
  }
  return model;
}

namespace {

Status ValidateOptions(const std::vector<FsComparisonSpec>& specs, const FsTrainingOptions& options) {
  if (options.max_iterations < 0) {
    return InvalidArgumentError("options.max_iterations must be >= 0, got " +
                                std::to_string(options.max_iterations));
  }
  if (options.min_labelled_pairs < 1) {
    return InvalidArgumentError("options.min_labelled_pairs must be >= 1, got " +
                                std::to_string(options.min_labelled_pairs));
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
  return Status::Ok();
}

double Logistic(double log_odds) {
  return log_odds >= 0 ? 1 / (1 + std::exp(-log_odds)) : std::exp(log_odds) / (1 + std::exp(log_odds));
}

// The result of one session's EM.
struct SessionResult {
  FsSessionInfo info;
  std::vector<std::vector<double>> m;  // per comparison; meaningful where trained[c]
  std::vector<bool> trained;
};

// EM over one session's pairs: u fixed, lambda_s free, fixed comparisons out.
StatusOr<SessionResult> RunSession(const std::vector<FsComparisonSpec>& specs,
                                   const std::vector<std::vector<double>>& u, const FsTrainingSession& session,
                                   double start_lambda, const FsTrainingOptions& options, size_t index) {
  const size_t k = specs.size();
  const std::string what = "session " + std::to_string(index) + " (\"" + session.name + "\")";
  if (!session.fixed.empty() && session.fixed.size() != k) {
    return InvalidArgumentError(what + ": fixed has " + std::to_string(session.fixed.size()) + " values for " +
                                std::to_string(k) + " comparisons");
  }
  std::vector<bool> active(k, true);
  for (size_t c = 0; c < session.fixed.size(); ++c) active[c] = !session.fixed[c];
  if (std::none_of(active.begin(), active.end(), [](bool a) { return a; })) {
    return InvalidArgumentError(what + ": the key uses the field of every comparison, so it trains none");
  }
  if (session.labels.size() != session.labelled.size()) {
    return InvalidArgumentError(what + ": " + std::to_string(session.labels.size()) + " labels for " +
                                std::to_string(session.labelled.size()) + " labelled pairs");
  }
  // Empty pair lists may leave num_comparisons at 0.
  std::vector<DistinctVector> vectors;
  if (!session.pairs.levels.empty() || session.pairs.num_comparisons != 0) {
    CDP_ASSIGN_OR_RETURN(vectors, GroupPairs(specs, session.pairs, what + " pairs"));
  }
  const FsPairs& labelled = session.labelled;
  if (!labelled.levels.empty() || labelled.num_comparisons != 0) {
    CDP_RETURN_IF_ERROR(GroupPairs(specs, labelled, what + " labelled pairs").status());
  }

  SessionResult result;
  result.info.name = session.name;
  for (size_t c = 0; c < k; ++c) {
    if (!active[c]) result.info.fixed.push_back(specs[c].name);
  }
  result.info.blocked_pairs = session.blocked_pairs;
  result.info.pairs = static_cast<int64_t>(session.pairs.size() + labelled.size());
  result.info.labelled_pairs = static_cast<int64_t>(labelled.size());
  result.info.distinct_vectors = static_cast<int64_t>(vectors.size());
  result.m.resize(k);
  result.trained.assign(k, false);
  for (size_t c = 0; c < k; ++c) {
    result.m[c] = StartingM(specs[c].levels.size());
    FloorAndNormalize(result.m[c], options.min_probability);
  }
  const double total = static_cast<double>(result.info.pairs);
  double lambda = start_lambda;
  result.info.lambda = lambda;
  if (total == 0) return result;

  // The household class (options.household_class): its level distribution h starts at half
  // agreement (0.5 on level 0, the rest halving), between m's 0.9 and a random pair's u, and its
  // share eta at min(0.1, (1 - lambda_s) / 2).
  const bool household = options.household_class;
  std::vector<std::vector<double>> h(k);
  double eta = 0;
  if (household) {
    for (size_t c = 0; c < k; ++c) {
      const size_t levels = specs[c].levels.size();
      h[c].assign(levels, 0);
      h[c][0] = 0.5;
      double share = 0, half = 1;
      for (size_t l = 1; l < levels; ++l) share += (half /= 2);
      half = 1;
      for (size_t l = 1; l < levels; ++l) h[c][l] = 0.5 * (half /= 2) / share;
      FloorAndNormalize(h[c], options.min_probability);
    }
    eta = std::min(0.1, (1 - lambda) / 2);
  }

  std::vector<std::vector<double>> numerator(k), h_numerator(k);
  std::vector<double> denominator(k), h_denominator(k);
  std::vector<std::vector<double>>& m = result.m;
  // Sum over the active, non-null comparisons of log(x[c][level]).
  auto log_sum = [&](const std::vector<std::vector<double>>& x, const uint8_t* levels) {
    double sum = 0;
    for (size_t c = 0; c < k; ++c) {
      if (active[c] && levels[c] != kFsNull) sum += std::log(x[c][levels[c]]);
    }
    return sum;
  };
  auto add = [&](std::vector<std::vector<double>>& num, std::vector<double>& den, const uint8_t* levels,
                 double weight) {
    for (size_t c = 0; c < k; ++c) {
      if (!active[c] || levels[c] == kFsNull) continue;
      num[c][levels[c]] += weight;
      den[c] += weight;
    }
  };
  // Posterior class probabilities of one vector: match, household (0 without the class).
  auto posterior = [&](const uint8_t* levels, double* p_match, double* p_household) {
    const double lm = std::log(lambda) + log_sum(m, levels);
    const double lu = std::log(std::max(1 - lambda - eta, 1e-300)) + log_sum(u, levels);
    if (!household) {
      *p_match = Logistic(lm - lu);
      *p_household = 0;
      return;
    }
    const double lh = std::log(eta) + log_sum(h, levels);
    const double top = std::max({lm, lh, lu});
    const double em = std::exp(lm - top), eh = std::exp(lh - top), eu = std::exp(lu - top);
    *p_match = em / (em + eh + eu);
    *p_household = eh / (em + eh + eu);
  };
  auto update = [&](std::vector<std::vector<double>>& x, const std::vector<std::vector<double>>& num,
                    const std::vector<double>& den, double* max_delta, bool mark_trained) {
    for (size_t c = 0; c < k; ++c) {
      if (!active[c] || den[c] <= 0) continue;
      std::vector<double> next(num[c].size());
      for (size_t l = 0; l < next.size(); ++l) next[l] = num[c][l] / den[c];
      FloorAndNormalize(next, options.min_probability);
      for (size_t l = 0; l < next.size(); ++l) *max_delta = std::max(*max_delta, std::abs(next[l] - x[c][l]));
      x[c] = std::move(next);
      if (mark_trained) result.trained[c] = true;
    }
  };
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    for (size_t c = 0; c < k; ++c) {
      numerator[c].assign(specs[c].levels.size(), 0);
      if (household) h_numerator[c].assign(specs[c].levels.size(), 0);
    }
    std::fill(denominator.begin(), denominator.end(), 0);
    std::fill(h_denominator.begin(), h_denominator.end(), 0);
    double expected_matches = 0, expected_household = 0;
    for (const DistinctVector& v : vectors) {
      double p_match, p_household;
      posterior(v.levels, &p_match, &p_household);
      const double count = static_cast<double>(v.count);
      expected_matches += p_match * count;
      add(numerator, denominator, v.levels, p_match * count);
      if (household) {
        expected_household += p_household * count;
        add(h_numerator, h_denominator, v.levels, p_household * count);
      }
    }
    for (size_t i = 0; i < labelled.size(); ++i) {
      if (session.labels[i]) {
        expected_matches += 1;
        add(numerator, denominator, labelled.pair(i), 1);
      } else if (household) {
        // A non-match: household or random pair, as their likelihoods say.
        const double lh = std::log(eta) + log_sum(h, labelled.pair(i));
        const double lu = std::log(std::max(1 - lambda - eta, 1e-300)) + log_sum(u, labelled.pair(i));
        const double p_household = Logistic(lh - lu);
        expected_household += p_household;
        add(h_numerator, h_denominator, labelled.pair(i), p_household);
      }
    }
    double max_delta = 0;
    update(m, numerator, denominator, &max_delta, true);
    if (household) update(h, h_numerator, h_denominator, &max_delta, false);
    const double next_lambda = std::clamp(expected_matches / total, kMinPrior, kMaxPrior);
    max_delta = std::max(max_delta, std::abs(next_lambda - lambda));
    lambda = next_lambda;
    if (household) {
      const double next_eta = std::clamp(expected_household / total, kMinPrior, std::max(kMinPrior, 1 - lambda - kMinPrior));
      max_delta = std::max(max_delta, std::abs(next_eta - eta));
      eta = next_eta;
    }
    result.info.em_iterations = iteration + 1;
    if (max_delta < options.tolerance) {
      result.info.converged = true;
      break;
    }
  }
  result.info.lambda = lambda;
  result.info.household_lambda = eta;
  return result;
}

// The comparisons and level labels of a fitted model, as the specs the pair
// grouping and option checks take.
std::vector<FsComparisonSpec> SpecsOf(const FsModel& model) {
  std::vector<FsComparisonSpec> specs;
  for (const FsComparisonParams& c : model.comparisons) {
    FsComparisonSpec spec;
    spec.name = c.name;
    for (const FsLevelParams& l : c.levels) spec.levels.push_back(l.label);
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace

StatusOr<FsModel> TrainFsModel(const std::vector<FsComparisonSpec>& specs, const FsPairs& random_pairs,
                               const std::vector<FsTrainingSession>& sessions, double prior,
                               const FsModel& prior_info, const FsTrainingOptions& options,
                               const std::vector<FsLabelledMatches>& labelled_matches) {
  CDP_RETURN_IF_ERROR(ValidateSpecs(specs));
  if (!(prior >= 0 && prior < 1)) {
    return InvalidArgumentError("prior must be in [0, 1) (0: estimated afterwards), got " +
                                FormatDouble("%g", prior));
  }
  CDP_RETURN_IF_ERROR(ValidateOptions(specs, options));
  if (random_pairs.size() == 0) {
    return InvalidArgumentError(
        "no random pairs: the u-probabilities are estimated from random record pairs");
  }
  if (sessions.empty()) {
    return InvalidArgumentError("no training sessions: m is estimated per training blocking key");
  }
  const size_t k = specs.size();
  CDP_ASSIGN_OR_RETURN(std::vector<DistinctVector> random, GroupPairs(specs, random_pairs, "random_pairs"));

  // u: level frequencies among the random pairs, nulls excluded.
  std::vector<std::vector<double>> u(k);
  for (size_t c = 0; c < k; ++c) u[c].assign(specs[c].levels.size(), 0);
  for (const DistinctVector& v : random) {
    for (size_t c = 0; c < k; ++c) {
      if (v.levels[c] != kFsNull) u[c][v.levels[c]] += static_cast<double>(v.count);
    }
  }
  for (size_t c = 0; c < k; ++c) {
    double total = 0;
    for (double n : u[c]) total += n;
    if (total == 0) {
      return InvalidArgumentError("comparison \"" + specs[c].name +
                                  "\" is null in all random pairs: its u-probabilities cannot be estimated");
    }
    for (double& p : u[c]) p /= total;
    FloorAndNormalize(u[c], options.min_probability);
  }

  FsModel model;
  model.prior = prior;
  model.prior_method = prior_info.prior_method;
  model.comparable_pairs = prior_info.comparable_pairs;
  model.prior_matches = prior_info.prior_matches;
  model.prior_recall = prior_info.prior_recall;
  model.converged = true;
  std::vector<std::vector<double>> m_sum(k);
  for (size_t c = 0; c < k; ++c) m_sum[c].assign(specs[c].levels.size(), 0);
  std::vector<std::vector<std::string>> trained_by(k);
  for (size_t s = 0; s < sessions.size(); ++s) {
    const FsTrainingSession& session = sessions[s];
    double start = 0.01;
    if (prior > 0 && session.blocked_pairs > 0 && prior_info.comparable_pairs > 0) {
      start = prior * static_cast<double>(prior_info.comparable_pairs) / static_cast<double>(session.blocked_pairs);
    }
    start = std::clamp(start, 1e-4, 0.5);
    CDP_ASSIGN_OR_RETURN(SessionResult result, RunSession(specs, u, session, start, options, s));
    for (size_t c = 0; c < k; ++c) {
      if (!result.trained[c]) continue;
      for (size_t l = 0; l < m_sum[c].size(); ++l) m_sum[c][l] += result.m[c][l];
      trained_by[c].push_back(session.name);
    }
    model.em_iterations += result.info.em_iterations;
    model.converged = model.converged && result.info.converged;
    model.candidate_pairs += result.info.pairs;
    model.distinct_vectors += result.info.distinct_vectors;
    model.sessions.push_back(std::move(result.info));
  }
  // Labelled matches: each set is one more estimate of m for the comparisons it does not fix.
  for (size_t s = 0; s < labelled_matches.size(); ++s) {
    const FsLabelledMatches& set = labelled_matches[s];
    const std::string what = "labelled matches " + std::to_string(s) + " (\"" + set.name + "\")";
    if (!set.fixed.empty() && set.fixed.size() != k) {
      return InvalidArgumentError(what + ": fixed has " + std::to_string(set.fixed.size()) + " values for " +
                                  std::to_string(k) + " comparisons");
    }
    FsSessionInfo info;
    info.name = "labels(" + set.name + ")";
    info.lambda = 1;
    info.converged = true;
    std::vector<DistinctVector> vectors;
    if (!set.pairs.levels.empty() || set.pairs.num_comparisons != 0) {
      CDP_ASSIGN_OR_RETURN(vectors, GroupPairs(specs, set.pairs, what));
    }
    info.blocked_pairs = info.labelled_pairs = static_cast<int64_t>(set.pairs.size());
    info.distinct_vectors = static_cast<int64_t>(vectors.size());
    for (size_t c = 0; c < k; ++c) {
      const bool fixed = !set.fixed.empty() && set.fixed[c];
      if (fixed) {
        info.fixed.push_back(specs[c].name);
        continue;
      }
      std::vector<double> counts(specs[c].levels.size(), 0);
      int64_t present = 0;
      for (const DistinctVector& v : vectors) {
        if (v.levels[c] == kFsNull) continue;
        counts[v.levels[c]] += static_cast<double>(v.count);
        present += v.count;
      }
      if (present < std::max<int64_t>(options.min_labelled_pairs, 1)) continue;
      for (double& x : counts) x /= static_cast<double>(present);
      FloorAndNormalize(counts, options.min_probability);
      for (size_t l = 0; l < m_sum[c].size(); ++l) m_sum[c][l] += counts[l];
      trained_by[c].push_back(info.name);
    }
    model.sessions.push_back(std::move(info));
  }

  for (size_t c = 0; c < k; ++c) {
    if (trained_by[c].empty()) {
      std::string fixed_by, empty;
      for (size_t s = 0; s < sessions.size(); ++s) {
        bool fixed = !sessions[s].fixed.empty() && sessions[s].fixed[c];
        std::string& list = fixed ? fixed_by : empty;
        list += (list.empty() ? "" : ", ") + ("\"" + sessions[s].name + "\"");
      }
      std::string message = "comparison \"" + specs[c].name + "\" is not trained by any training session: ";
      if (!fixed_by.empty()) message += "the training keys " + fixed_by + " use its field";
      if (!empty.empty()) {
        message += std::string(fixed_by.empty() ? "" : ", and ") + "the sessions " + empty +
                   " have no pair with a value for it";
      }
      return InvalidArgumentError(message + "; add a training key (probabilistic.training) on other fields, "
                                            "e.g. one that does not use \"" + specs[c].name + "\"");
    }
    FsComparisonParams comparison;
    comparison.name = specs[c].name;
    comparison.tf_exact = specs[c].tf_exact;
    comparison.trained_by = std::move(trained_by[c]);
    std::vector<double> m = m_sum[c];
    for (double& v : m) v /= static_cast<double>(comparison.trained_by.size());
    FloorAndNormalize(m, options.min_probability);
    for (size_t l = 0; l < specs[c].levels.size(); ++l) {
      comparison.levels.push_back({specs[c].levels[l], m[l], u[c][l]});
    }
    model.comparisons.push_back(std::move(comparison));
  }
  return model;
}

double EstimatePrior(int64_t deterministic_matches, int64_t comparable_pairs, double recall) {
  if (comparable_pairs <= 0) return kMinPrior;
  if (std::isnan(recall)) recall = 1;
  recall = std::clamp(recall, kMinPrior, 1.0);
  const double matches = static_cast<double>(std::max<int64_t>(deterministic_matches, 0)) / recall;
  return std::clamp(matches / static_cast<double>(comparable_pairs), kMinPrior, kMaxPrior);
}

Status EstimatePriorFromPairs(const FsPairs& candidate_pairs, int64_t comparable_pairs, FsModel* model) {
  std::vector<FsComparisonSpec> specs = SpecsOf(*model);
  CDP_RETURN_IF_ERROR(ValidateSpecs(specs));
  CDP_ASSIGN_OR_RETURN(std::vector<DistinctVector> vectors, GroupPairs(specs, candidate_pairs, "candidate_pairs"));
  const double total = static_cast<double>(candidate_pairs.size());
  if (total == 0) return InvalidArgumentError("no candidate pairs to estimate the prior from");
  if (comparable_pairs < static_cast<int64_t>(candidate_pairs.size())) {
    return InvalidArgumentError("comparable_pairs " + std::to_string(comparable_pairs) + " is below the " +
                                std::to_string(candidate_pairs.size()) + " candidate pairs");
  }
  // Per distinct vector, the log likelihood ratio without the prior (no tf).
  std::vector<double> ratio(vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    double w = 0;
    for (size_t c = 0; c < specs.size(); ++c) {
      uint8_t l = vectors[i].levels[c];
      if (l != kFsNull) w += std::log(model->comparisons[c].levels[l].m) - std::log(model->comparisons[c].levels[l].u);
    }
    ratio[i] = w;
  }
  double share = 0.01;
  for (int iteration = 0; iteration < 1000; ++iteration) {
    const double log_odds = std::log(share) - std::log1p(-share);
    double expected = 0;
    for (size_t i = 0; i < vectors.size(); ++i) {
      expected += Logistic(log_odds + ratio[i]) * static_cast<double>(vectors[i].count);
    }
    const double next = std::clamp(expected / total, kMinPrior, kMaxPrior);
    const bool done = std::abs(next - share) < 1e-12 + 1e-9 * share;
    share = next;
    if (done) break;
  }
  model->prior_method = "data";
  model->comparable_pairs = comparable_pairs;
  model->prior_matches = share * total;
  model->prior_recall = 0;
  model->prior = std::clamp(model->prior_matches / static_cast<double>(comparable_pairs), kMinPrior, kMaxPrior);
  return Status::Ok();
}

Status FitHouseholdComponent(const FsPairs& random_pairs, const std::vector<size_t>& household, FsModel* model,
                             const FsTrainingOptions& options) {
  if (model == nullptr) return InvalidArgumentError("FitHouseholdComponent: model is null");
  const size_t k = model->comparisons.size();
  if (household.size() < 2) {
    return InvalidArgumentError("household: needs at least two comparisons, got " + std::to_string(household.size()));
  }
  std::vector<bool> in_household(k, false);
  for (size_t c : household) {
    if (c >= k) {
      return InvalidArgumentError("household: comparison index " + std::to_string(c) + " is out of range (" +
                                  std::to_string(k) + " comparisons)");
    }
    if (in_household[c]) {
      return InvalidArgumentError("household: comparison \"" + model->comparisons[c].name + "\" is listed twice");
    }
    in_household[c] = true;
  }
  if (!(model->prior > 0 && model->prior < 1)) {
    return InvalidArgumentError("household: the model's prior must be in (0, 1), got " +
                                FormatDouble("%g", model->prior));
  }
  std::vector<FsComparisonSpec> specs = SpecsOf(*model);
  CDP_RETURN_IF_ERROR(ValidateSpecs(specs));
  CDP_RETURN_IF_ERROR(ValidateOptions(specs, options));
  CDP_ASSIGN_OR_RETURN(std::vector<DistinctVector> vectors, GroupPairs(specs, random_pairs, "random_pairs"));
  if (random_pairs.size() == 0) return InvalidArgumentError("household: no random pairs to fit the component on");
  std::vector<size_t> group = household;
  std::sort(group.begin(), group.end());

  // Per distinct vector with a value on some household comparison: the log likelihoods of the
  // fixed parts (the match class with its prior; u over the other comparisons; u over all).
  struct Row {
    const uint8_t* levels;
    double count, log_match, log_u_rest, log_u_all;
  };
  std::vector<Row> rows;
  for (const DistinctVector& v : vectors) {
    bool informative = false;
    for (size_t c : group) informative = informative || v.levels[c] != kFsNull;
    if (!informative) continue;
    Row row{v.levels, static_cast<double>(v.count), std::log(model->prior), 0, 0};
    for (size_t c = 0; c < k; ++c) {
      const uint8_t l = v.levels[c];
      if (l == kFsNull) continue;
      row.log_match += std::log(model->comparisons[c].levels[l].m);
      const double log_u = std::log(model->comparisons[c].levels[l].u);
      row.log_u_all += log_u;
      if (!in_household[c]) row.log_u_rest += log_u;
    }
    rows.push_back(row);
  }
  FsHouseholdComponent fit;
  fit.comparisons = group;
  for (size_t c : group) fit.h.push_back(StartingM(model->comparisons[c].levels.size()));
  fit.share = 1e-3;
  fit.pairs = static_cast<int64_t>(random_pairs.size());
  const double log_non_match = std::log1p(-model->prior);
  const int max_iterations = options.max_iterations * 10;
  std::vector<std::vector<double>> numerator(group.size());
  std::vector<double> denominator(group.size());
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    std::vector<std::vector<double>> log_h(group.size());
    for (size_t g = 0; g < group.size(); ++g) {
      log_h[g].resize(fit.h[g].size());
      for (size_t l = 0; l < fit.h[g].size(); ++l) log_h[g][l] = std::log(fit.h[g][l]);
      numerator[g].assign(fit.h[g].size(), 0);
      denominator[g] = 0;
    }
    const double log_household = log_non_match + std::log(fit.share);
    const double log_random = log_non_match + std::log1p(-fit.share);
    double household_sum = 0, non_match_sum = 0;
    for (const Row& row : rows) {
      double lh = log_household + row.log_u_rest;
      for (size_t g = 0; g < group.size(); ++g) {
        const uint8_t l = row.levels[group[g]];
        if (l != kFsNull) lh += log_h[g][l];
      }
      const double lr = log_random + row.log_u_all;
      const double top = std::max({row.log_match, lh, lr});
      const double em = std::exp(row.log_match - top), eh = std::exp(lh - top), er = std::exp(lr - top);
      const double p_household = eh / (em + eh + er) * row.count;
      household_sum += p_household;
      non_match_sum += (eh + er) / (em + eh + er) * row.count;
      for (size_t g = 0; g < group.size(); ++g) {
        const uint8_t l = row.levels[group[g]];
        if (l == kFsNull) continue;
        numerator[g][l] += p_household;
        denominator[g] += p_household;
      }
    }
    double delta = 0;
    for (size_t g = 0; g < group.size(); ++g) {
      if (!(denominator[g] > 0)) continue;
      std::vector<double> next(numerator[g].size());
      for (size_t l = 0; l < next.size(); ++l) next[l] = numerator[g][l] / denominator[g];
      FloorAndNormalize(next, options.min_probability);
      for (size_t l = 0; l < next.size(); ++l) delta = std::max(delta, std::abs(next[l] - fit.h[g][l]));
      fit.h[g] = std::move(next);
    }
    const double share = non_match_sum > 0 ? std::clamp(household_sum / non_match_sum, 1e-12, 0.5) : 1e-12;
    const bool share_done = std::abs(share - fit.share) < options.tolerance * fit.share;
    fit.share = share;
    fit.expected_pairs = household_sum;
    fit.em_iterations = iteration + 1;
    if (delta < options.tolerance && share_done) {
      fit.converged = true;
      break;
    }
  }
  // Model selection (BIC, Schwarz 1978): keep the component only when the random pairs'
  // log likelihood gains more than 0.5 * parameters * ln(pairs) over the model without it (share
  // 0). Otherwise a handful of odd pairs (duplicates with two wrong personal fields) would make a
  // tiny class with h concentrated on agreement, which discounts every agreement by bits.
  double gain = 0;
  {
    const double log_household = log_non_match + std::log(fit.share);
    const double log_random = log_non_match + std::log1p(-fit.share);
    for (const Row& row : rows) {
      double lh = log_household + row.log_u_rest;
      for (size_t g = 0; g < group.size(); ++g) {
        const uint8_t l = row.levels[group[g]];
        if (l != kFsNull) lh += std::log(fit.h[g][l]);
      }
      const double lr = log_random + row.log_u_all, l0 = log_non_match + row.log_u_all;
      const double top = std::max({row.log_match, lh, lr, l0});
      const double with = std::log(std::exp(row.log_match - top) + std::exp(lh - top) + std::exp(lr - top));
      const double without = std::log(std::exp(row.log_match - top) + std::exp(l0 - top));
      gain += row.count * (with - without);
    }
  }
  double parameters = 1;
  for (const auto& h : fit.h) parameters += static_cast<double>(h.size() - 1);
  fit.log_likelihood_gain = gain;
  fit.bic_penalty = 0.5 * parameters * std::log(static_cast<double>(random_pairs.size()));
  if (!(gain > fit.bic_penalty)) fit.share = 0;
  model->household = std::move(fit);
  return Status::Ok();
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
    out += " (EM: " + std::to_string(model.em_iterations) + " iterations in " +
           std::to_string(model.sessions.size()) + " session(s), " +
           (model.converged ? "all converged" : "not all converged") + ", " +
           std::to_string(model.candidate_pairs) + " training pairs, " + std::to_string(model.distinct_vectors) +
           " distinct comparison vectors)";
  }
  out += "\nprior (lambda) " + FormatDouble("%.6g", model.prior) + ", prior weight " +
         FormatDouble("%+.3f", model.PriorWeight()) + " bits";
  if (model.prior_method == "rules") {
    out += "\n  the probability that two records of all " + std::to_string(model.comparable_pairs) +
           " comparable pairs match: " + FormatDouble("%.0f", model.prior_matches) +
           " pairs accepted by the deterministic rules / assumed recall " + FormatDouble("%g", model.prior_recall) +
           " / " + std::to_string(model.comparable_pairs);
  } else if (model.prior_method == "data") {
    out += "\n  the probability that two records of all " + std::to_string(model.comparable_pairs) +
           " comparable pairs match: " + FormatDouble("%.1f", model.prior_matches) +
           " expected matches among the candidate pairs (EM) / " + std::to_string(model.comparable_pairs);
  }
  out += "\n";
  if (!model.sessions.empty()) {
    out += "\ntraining sessions (m by EM per training key; u fixed; lambda = match share among the session's "
           "pairs)\n";
    size_t session_width = std::string_view("session").size();
    for (const FsSessionInfo& s : model.sessions) session_width = std::max(session_width, s.name.size());
    out += Pad("session", session_width) +
           "  blocked pairs  EM pairs     labelled  lambda        iterations  not trained here\n";
    for (const FsSessionInfo& s : model.sessions) {
      std::string fixed;
      for (const std::string& f : s.fixed) fixed += (fixed.empty() ? "" : ", ") + f;
      out += Pad(s.name, session_width) + "  " + Pad(std::to_string(s.blocked_pairs), 13) + "  " +
             Pad(std::to_string(s.pairs), 11) + "  " + Pad(std::to_string(s.labelled_pairs), 8) + "  " +
             Pad(FormatDouble("%.6g", s.lambda), 12) + "  " +
             Pad(std::to_string(s.em_iterations) + (s.converged ? "" : " (not converged)"), 10) + "  " +
             (fixed.empty() ? "-" : fixed) + "\n";
    }
    bool household = false;
    for (const FsSessionInfo& s : model.sessions) household = household || s.household_lambda > 0;
    if (household) {
      out += "household class (pairs sharing the key, different people): share per session:";
      for (const FsSessionInfo& s : model.sessions) {
        if (s.household_lambda > 0) out += " " + s.name + " " + FormatDouble("%.4g", s.household_lambda) + ";";
      }
      out.back() = '\n';
    }
  }
 if (!model.household.empty() && !model.household.active()) {
    out += "\nhousehold component of the non-matches: not used (on " + std::to_string(model.household.pairs) +
           " random pairs it gains " + FormatDouble("%.1f", model.household.log_likelihood_gain) +
           " in log likelihood, not more than the BIC penalty " + FormatDouble("%.1f", model.household.bic_penalty) +
           ": no households, or too few household pairs among the random pairs; households are about 1/n of "
           "all pairs, so with many records raise random_pairs)\n";
  }
  if (model.household.active()) {
    out += "\nhousehold component of the non-matches (fitted on " + std::to_string(model.household.pairs) +
           " random pairs, " + FormatDouble("%.1f", model.household.expected_pairs) + " of them household pairs, " +
           std::to_string(model.household.em_iterations) + " EM iterations" +
           (model.household.converged ? "" : ", not converged") + "): share " +
           FormatDouble("%.4g", model.household.share) + " of non-matches, log likelihood gain " +
           FormatDouble("%.1f", model.household.log_likelihood_gain) + " > BIC penalty " +
           FormatDouble("%.1f", model.household.bic_penalty) +
           "); these comparisons' joint agreement counts once:\n";
    for (size_t i = 0; i < model.household.comparisons.size(); ++i) {
      const FsComparisonParams& comparison = model.comparisons.at(model.household.comparisons[i]);
      out += "  " + Pad(comparison.name, name_width) + "  h:";
      for (size_t l = 0; l < comparison.levels.size() && l < model.household.h[i].size(); ++l) {
        out += " " + comparison.levels[l].label + " " + FormatDouble("%.4g", model.household.h[i][l]) + ";";
      }
      out.back() = '\n';
    }
  }
  out += "\n" + Pad("comparison", name_width) + "  " + Pad("level", label_width) +
         "  m             u             m/u           weight (bits)\n";
  for (const FsComparisonParams& comparison : model.comparisons) {
    for (size_t l = 0; l < comparison.levels.size(); ++l) {
      const FsLevelParams& level = comparison.levels[l];
      out += Pad(l == 0 ? comparison.name : "", name_width) + "  " + Pad(level.label, label_width) + "  " +
             Pad(FormatDouble("%.6g", level.m), 12) + "  " + Pad(FormatDouble("%.6g", level.u), 12) + "  " +
             Pad(FormatDouble("%.6g", level.m / level.u), 12) + "  " + FormatDouble("%+.3f", level.Weight());
      if (l == 0 && comparison.tf_exact) {
        out += "  (term-frequency adjusted, tf_min_u " + FormatDouble("%g", comparison.tf_min_u);
        if (comparison.tf_records > 0) out += ", " + std::to_string(comparison.tf_records) + " records";
        out += ")";
      }
      out += "\n";
    }
    if (!model.sessions.empty()) {
      std::string by;
      for (const std::string& s : comparison.trained_by) by += (by.empty() ? "" : ", ") + s;
      out += Pad("", name_width) + "  m trained by: " + (by.empty() ? "(not trained)" : by) + "\n";
    }
  }
  return out;
}

}  // namespace cdp
