#include "unify/probabilistic/fellegi_sunter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cdp {
namespace {

// Deterministic, platform-independent RNG (splitmix64).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Draws an index from a discrete distribution.
  uint8_t Draw(const std::vector<double>& p) {
    double x = Uniform(), cumulative = 0;
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      cumulative += p[i];
      if (x < cumulative) return static_cast<uint8_t>(i);
    }
    return static_cast<uint8_t>(p.size() - 1);
  }

 private:
  uint64_t state_;
};

// A comparison with known true parameters, for generating synthetic pairs.
struct TrueComparison {
  FsComparisonSpec spec;
  std::vector<double> m, u;
  double null_rate = 0;
};

std::vector<TrueComparison> SyntheticTruth() {
  return {
      {{"FirstName", {"exact", "jaro_winkler>=0.92", "jaro_winkler>=0.80", "else"}},
       {0.85, 0.08, 0.04, 0.03},
       {0.01, 0.03, 0.16, 0.80},
       0.05},
      {{"Email", {"exact", "levenshtein<=2", "else"}}, {0.80, 0.12, 0.08}, {0.002, 0.018, 0.98}, 0.30},
      {{"City", {"exact", "else"}}, {0.92, 0.08}, {0.25, 0.75}, 0.10},
      {{"DateOfBirth", {"exact", "year_month", "else"}}, {0.75, 0.15, 0.10}, {0.001, 0.03, 0.969}, 0.20},
  };
}

std::vector<FsComparisonSpec> Specs(const std::vector<TrueComparison>& truth) {
  std::vector<FsComparisonSpec> specs;
  for (const TrueComparison& t : truth) specs.push_back(t.spec);
  return specs;
}

// n pairs, each a match with probability match_rate.
FsPairs Generate(const std::vector<TrueComparison>& truth, size_t n, double match_rate, Rng& rng) {
  FsPairs pairs;
  pairs.num_comparisons = truth.size();
  pairs.levels.reserve(n * truth.size());
  for (size_t i = 0; i < n; ++i) {
    const bool match = rng.Uniform() < match_rate;
    for (const TrueComparison& t : truth) {
      pairs.levels.push_back(rng.Uniform() < t.null_rate ? kFsNull : rng.Draw(match ? t.m : t.u));
    }
  }
  return pairs;
}

// A small hand-made model: prior 0.01, two comparisons.
FsModel HandModel() {
  FsModel model;
  model.prior = 0.01;
  model.comparisons = {
      {"Name", {{"exact", 0.8, 0.02}, {"fuzzy", 0.15, 0.08}, {"else", 0.05, 0.90}}, /*tf_exact=*/true, 1e-6},
      {"Zip", {{"exact", 0.9, 0.1}, {"else", 0.1, 0.9}}, /*tf_exact=*/false, 1e-6},
  };
  return model;
}

// One training session over `pairs` with every comparison trained.
FsTrainingSession OneSession(const FsPairs& pairs, std::string name = "all") {
  FsTrainingSession session;
  session.name = std::move(name);
  session.pairs = pairs;
  session.blocked_pairs = static_cast<int64_t>(pairs.size());
  return session;
}

StatusOr<FsModel> Train(const std::vector<FsComparisonSpec>& specs, const FsPairs& random, const FsPairs& pairs,
                        const FsTrainingOptions& options = {}) {
  return TrainFsModel(specs, random, {OneSession(pairs)}, 0.01, FsModel(), options);
}

TEST(FellegiSunterTest, EmRecoversTrueMAndUAndTheSessionMatchShare) {
  const std::vector<TrueComparison> truth = SyntheticTruth();
  Rng rng(42);
  const double match_rate = 0.15;
  FsPairs random = Generate(truth, 400000, 0.0002, rng);  // random pairs: almost all non-matches
  FsPairs candidates = Generate(truth, 300000, match_rate, rng);
  FsTrainingOptions options;
  options.max_iterations = 1000;
  StatusOr<FsModel> model = Train(Specs(truth), random, candidates, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE(model->converged);
  EXPECT_GT(model->em_iterations, 0);
  EXPECT_EQ(model->prior, 0.01);  // the all-pairs prior is the caller's, never the session's share
  ASSERT_EQ(model->sessions.size(), 1u);
  EXPECT_NEAR(model->sessions[0].lambda, match_rate, 0.01);  // the session's share is free
  EXPECT_EQ(model->sessions[0].pairs, 300000);
  ASSERT_EQ(model->comparisons.size(), truth.size());
  for (size_t c = 0; c < truth.size(); ++c) {
    const FsComparisonParams& params = model->comparisons[c];
    EXPECT_EQ(params.name, truth[c].spec.name);
    ASSERT_EQ(params.levels.size(), truth[c].m.size());
    double m_sum = 0, u_sum = 0;
    for (size_t l = 0; l < params.levels.size(); ++l) {
      EXPECT_EQ(params.levels[l].label, truth[c].spec.levels[l]);
      EXPECT_NEAR(params.levels[l].m, truth[c].m[l], 0.02) << params.name << " level " << l;
      EXPECT_NEAR(params.levels[l].u, truth[c].u[l], 0.01) << params.name << " level " << l;
      m_sum += params.levels[l].m;
      u_sum += params.levels[l].u;
    }
    EXPECT_NEAR(m_sum, 1, 1e-12);
    EXPECT_NEAR(u_sum, 1, 1e-12);
  }
}

TEST(FellegiSunterTest, TrainingIsIndependentOfPairOrder) {
  const std::vector<TrueComparison> truth = SyntheticTruth();
  Rng rng(7);
  FsPairs random = Generate(truth, 20000, 0, rng);
  FsPairs candidates = Generate(truth, 20000, 0.3, rng);
  FsPairs reversed;
  reversed.num_comparisons = candidates.num_comparisons;
  for (size_t i = candidates.size(); i-- > 0;) reversed.Add(candidates.pair(i));
  StatusOr<FsModel> a = Train(Specs(truth), random, candidates);
  StatusOr<FsModel> b = Train(Specs(truth), random, reversed);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToJson(), b->ToJson());  // bit-identical
}

TEST(FellegiSunterTest, TrainingOnFiveMillionPairsGroupsIdenticalVectors) {
  // Levels 4, 3 and 2 plus null: at most 5 * 4 * 3 = 60 distinct vectors, all
  // of which occur among 5M near-uniform pairs.
  std::vector<TrueComparison> truth = {
      {{"A", {"exact", "close", "far", "else"}}, {0.7, 0.1, 0.1, 0.1}, {0.1, 0.2, 0.3, 0.4}, 0.2},
      {{"B", {"exact", "close", "else"}}, {0.8, 0.1, 0.1}, {0.2, 0.3, 0.5}, 0.2},
      {{"C", {"exact", "else"}}, {0.9, 0.1}, {0.4, 0.6}, 0.2},
  };
  Rng rng(5);
  FsPairs random = Generate(truth, 100000, 0, rng);
  FsPairs candidates = Generate(truth, 5000000, 0.3, rng);
  StatusOr<FsModel> model = Train(Specs(truth), random, candidates);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->candidate_pairs, 5000000);
  EXPECT_EQ(model->distinct_vectors, 60);
  EXPECT_TRUE(model->converged);
}

TEST(FellegiSunterTest, MatchWeightIsThePriorWeightPlusTheLevelWeights) {
  const FsModel model = HandModel();
  const double prior_weight = std::log2(0.01 / 0.99);
  EXPECT_DOUBLE_EQ(model.PriorWeight(), prior_weight);
  const uint8_t exact_exact[] = {0, 0};
  EXPECT_NEAR(model.MatchWeight(exact_exact), prior_weight + std::log2(0.8 / 0.02) + std::log2(0.9 / 0.1),
              1e-12);
  const uint8_t fuzzy_else[] = {1, 1};
  EXPECT_NEAR(model.MatchWeight(fuzzy_else), prior_weight + std::log2(0.15 / 0.08) + std::log2(0.1 / 0.9),
              1e-12);
  const uint8_t else_exact[] = {2, 0};
  EXPECT_NEAR(model.MatchWeight(else_exact), prior_weight + std::log2(0.05 / 0.9) + std::log2(0.9 / 0.1),
              1e-12);
  EXPECT_NEAR(model.comparisons[0].levels[0].Weight(), std::log2(40.0), 1e-12);
}

TEST(FellegiSunterTest, NullComparisonContributesNothing) {
  const FsModel model = HandModel();
  const uint8_t all_null[] = {kFsNull, kFsNull};
  EXPECT_DOUBLE_EQ(model.MatchWeight(all_null), model.PriorWeight());
  const uint8_t name_null[] = {kFsNull, 0};
  EXPECT_NEAR(model.MatchWeight(name_null), model.PriorWeight() + std::log2(0.9 / 0.1), 1e-12);
  const std::vector<FsModel::Contribution> explained = model.Explain(name_null);
  ASSERT_EQ(explained.size(), 2u);
  EXPECT_EQ(explained[0].comparison, "Name");
  EXPECT_EQ(explained[0].level, "null");
  EXPECT_EQ(explained[0].weight, 0);
  EXPECT_EQ(explained[1].level, "exact");
}

TEST(FellegiSunterTest, TermFrequencyRaisesRareAndLowersCommonExactValues) {
  const FsModel model = HandModel();  // Name: tf_exact, u_exact = 0.02
  const uint8_t exact[] = {0, 0};
  const double plain = model.MatchWeight(exact);
  const double rare_tf[] = {0.0001, std::numeric_limits<double>::quiet_NaN()};
  const double common_tf[] = {0.2, 0.5};
  EXPECT_GT(model.MatchWeight(exact, rare_tf), plain);
  EXPECT_LT(model.MatchWeight(exact, common_tf), plain);
  EXPECT_NEAR(model.MatchWeight(exact, rare_tf), plain + std::log2(0.02 / 0.0001), 1e-12);
  // Zip has no tf adjustment, so its tf value is ignored.
  EXPECT_NEAR(model.MatchWeight(exact, common_tf), plain + std::log2(0.02 / 0.2), 1e-12);
  // Below tf_min_u the frequency is capped.
  const double tiny_tf[] = {1e-15, 0};
  EXPECT_NEAR(model.MatchWeight(exact, tiny_tf), plain + std::log2(0.02 / 1e-6), 1e-9);
  // Unknown frequencies (NaN, 0, negative) leave the weight alone.
  for (double unknown : {std::numeric_limits<double>::quiet_NaN(), 0.0, -1.0}) {
    const double tf[] = {unknown, unknown};
    EXPECT_DOUBLE_EQ(model.MatchWeight(exact, tf), plain);
  }
  // Only level 0 (exact) is adjusted.
  const uint8_t fuzzy[] = {1, 0};
  EXPECT_DOUBLE_EQ(model.MatchWeight(fuzzy, rare_tf), model.MatchWeight(fuzzy));
  // Explain reports the adjusted weight and the frequency used.
  const std::vector<FsModel::Contribution> explained = model.Explain(exact, rare_tf);
  EXPECT_NEAR(explained[0].weight, std::log2(0.8 / 0.02) + std::log2(0.02 / 0.0001), 1e-12);
  EXPECT_EQ(explained[0].term_frequency, 0.0001);
  EXPECT_EQ(explained[1].term_frequency, 0);
}

TEST(FellegiSunterTest, ExplainSumsToTheMatchWeight) {
  const FsModel model = HandModel();
  const double tf[] = {0.003, 0.1};
  for (std::vector<uint8_t> levels :
       {std::vector<uint8_t>{0, 0}, {1, 1}, {2, kFsNull}, {kFsNull, 1}, {0, kFsNull}}) {
    double sum = model.PriorWeight();
    for (const FsModel::Contribution& c : model.Explain(levels.data(), tf)) sum += c.weight;
    EXPECT_NEAR(sum, model.MatchWeight(levels.data(), tf), 1e-12);
  }
}

TEST(FellegiSunterTest, ProbabilityIsFiniteAtExtremes) {
  EXPECT_EQ(FsModel::Probability(2000), 1.0);
  EXPECT_EQ(FsModel::Probability(-2000), 0.0);
  EXPECT_TRUE(std::isfinite(FsModel::Probability(2000)));
  EXPECT_TRUE(std::isfinite(FsModel::Probability(-2000)));
  EXPECT_DOUBLE_EQ(FsModel::Probability(0), 0.5);
  EXPECT_DOUBLE_EQ(FsModel::Probability(1), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(FsModel::Probability(-1), 1.0 / 3.0);
  EXPECT_NEAR(FsModel::Probability(-60), std::exp2(-60), 1e-30);
}

TEST(FellegiSunterTest, JsonRoundTripIsExact) {
  const std::vector<TrueComparison> truth = SyntheticTruth();
  Rng rng(3);
  FsPairs random = Generate(truth, 10000, 0, rng);
  FsPairs candidates = Generate(truth, 10000, 0.2, rng);
  std::vector<FsComparisonSpec> specs = Specs(truth);
  specs[0].tf_exact = true;
  FsTrainingSession second = OneSession(candidates, "second");
  second.fixed = {true, false, false, false};
  FsModel prior_info;
  prior_info.prior_method = "rules";
  prior_info.comparable_pairs = 123456789;
  prior_info.prior_matches = 4321;
  prior_info.prior_recall = 0.8;
  StatusOr<FsModel> model =
      TrainFsModel(specs, random, {OneSession(candidates, "first"), second}, 0.2, prior_info);
  ASSERT_TRUE(model.ok());
  model->comparisons[0].tf_records = 9876;
  ASSERT_EQ(model->sessions.size(), 2u);
  EXPECT_EQ(model->sessions[1].fixed, std::vector<std::string>{"FirstName"});
  EXPECT_EQ(model->comparisons[0].trained_by, std::vector<std::string>{"first"});
  EXPECT_EQ(model->comparisons[1].trained_by, (std::vector<std::string>{"first", "second"}));
  const nlohmann::json json = model->ToJson();
  StatusOr<FsModel> back = FsModel::FromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->prior, model->prior);
  EXPECT_EQ(back->em_iterations, model->em_iterations);
  EXPECT_EQ(back->converged, model->converged);
  EXPECT_EQ(back->candidate_pairs, model->candidate_pairs);
  EXPECT_EQ(back->distinct_vectors, model->distinct_vectors);
  EXPECT_EQ(back->prior_method, "rules");
  EXPECT_EQ(back->comparable_pairs, 123456789);
  EXPECT_EQ(back->prior_matches, 4321);
  EXPECT_EQ(back->prior_recall, 0.8);
  EXPECT_EQ(back->comparisons[0].tf_records, 9876);
  ASSERT_EQ(back->sessions.size(), 2u);
  EXPECT_EQ(back->sessions[1].name, "second");
  EXPECT_EQ(back->sessions[1].fixed, std::vector<std::string>{"FirstName"});
  EXPECT_EQ(back->sessions[1].lambda, model->sessions[1].lambda);
  EXPECT_EQ(back->sessions[1].em_iterations, model->sessions[1].em_iterations);
  EXPECT_EQ(back->comparisons[1].trained_by, model->comparisons[1].trained_by);
  ASSERT_EQ(back->comparisons.size(), model->comparisons.size());
  for (size_t c = 0; c < model->comparisons.size(); ++c) {
    const FsComparisonParams& a = model->comparisons[c];
    const FsComparisonParams& b = back->comparisons[c];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.tf_exact, b.tf_exact);
    EXPECT_EQ(a.tf_min_u, b.tf_min_u);
    ASSERT_EQ(a.levels.size(), b.levels.size());
    for (size_t l = 0; l < a.levels.size(); ++l) {
      EXPECT_EQ(a.levels[l].label, b.levels[l].label);
      EXPECT_EQ(a.levels[l].m, b.levels[l].m);  // bit-exact
      EXPECT_EQ(a.levels[l].u, b.levels[l].u);
    }
  }
  EXPECT_EQ(back->ToJson(), json);
}

TEST(FellegiSunterTest, FromJsonNamesTheBadField) {
  const nlohmann::json good = HandModel().ToJson();
  ASSERT_TRUE(FsModel::FromJson(good).ok());
  struct Case {
    std::function<void(nlohmann::json&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](nlohmann::json& j) { j["prior"] = 0; }, "prior:"},
      {[](nlohmann::json& j) { j["prior"] = 1; }, "prior:"},
      {[](nlohmann::json& j) { j["prior"] = "0.1"; }, "prior:"},
      {[](nlohmann::json& j) { j.erase("prior"); }, "prior: missing"},
      {[](nlohmann::json& j) { j.erase("comparisons"); }, "comparisons: missing"},
      {[](nlohmann::json& j) { j["comparisons"] = nlohmann::json::array(); }, "comparisons:"},
      {[](nlohmann::json& j) { j["comparisons"][1]["levels"][0]["m"] = 0; }, "comparisons[1].levels[0].m:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["levels"][2]["u"] = 1.5; }, "comparisons[0].levels[2].u:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["levels"][1].erase("u"); },
       "comparisons[0].levels[1].u: missing"},
      {[](nlohmann::json& j) { j["comparisons"][0]["levels"][1]["label"] = 3; },
       "comparisons[0].levels[1].label:"},
      {[](nlohmann::json& j) { j["comparisons"][1]["levels"].erase(1); }, "comparisons[1].levels:"},
      {[](nlohmann::json& j) { j["comparisons"][1].erase("name"); }, "comparisons[1].name: missing"},
      {[](nlohmann::json& j) { j["comparisons"][1]["name"] = "Name"; }, "comparisons[1].name: duplicate"},
      {[](nlohmann::json& j) { j["comparisons"][0]["tf_exact"] = "yes"; }, "comparisons[0].tf_exact:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["tf_min_u"] = 0; }, "comparisons[0].tf_min_u:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["tf_exactt"] = true; },
       "comparisons[0].tf_exactt: unknown"},
      {[](nlohmann::json& j) { j["lambda"] = 0.1; }, "lambda: unknown"},
      {[](nlohmann::json& j) { j["em_iterations"] = -1; }, "em_iterations:"},
      {[](nlohmann::json& j) { j["prior_method"] = "guess"; }, "prior_method:"},
      {[](nlohmann::json& j) { j["comparable_pairs"] = -5; }, "comparable_pairs:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["tf_records"] = 1.5; }, "comparisons[0].tf_records:"},
      {[](nlohmann::json& j) { j["comparisons"][0]["trained_by"] = {1}; }, "comparisons[0].trained_by:"},
      {[](nlohmann::json& j) { j["sessions"] = {{{"name", "x"}, {"lambda", -1}}}; }, "sessions[0].lambda:"},
      {[](nlohmann::json& j) { j["sessions"] = {{{"name", "x"}, {"pairz", 1}}}; }, "sessions[0].pairz: unknown"},
      {[](nlohmann::json& j) { j = nlohmann::json::array(); }, "model:"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    nlohmann::json json = good;
    cases[i].mutate(json);
    StatusOr<FsModel> model = FsModel::FromJson(json);
    ASSERT_FALSE(model.ok()) << "case " << i;
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(model.status().message().rfind(cases[i].field, 0), 0u)
        << "case " << i << ": " << model.status().message();
  }
}

TEST(FellegiSunterTest, UnseenLevelsAreFlooredSoWeightsStayFinite) {
  std::vector<FsComparisonSpec> specs = {{"Email", {"exact", "else"}}};
  FsPairs random;  // exact never occurs among random pairs
  random.num_comparisons = 1;
  for (int i = 0; i < 1000; ++i) random.Add({1});
  FsPairs candidates;  // and else never among the candidates
  candidates.num_comparisons = 1;
  for (int i = 0; i < 1000; ++i) candidates.Add({0});
  StatusOr<FsModel> model = Train(specs, random, candidates);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (const FsLevelParams& level : model->comparisons[0].levels) {
    EXPECT_GT(level.m, 0);
    EXPECT_GT(level.u, 0);
    EXPECT_TRUE(std::isfinite(level.Weight()));
  }
  EXPECT_NEAR(model->comparisons[0].levels[0].u, 1e-6, 1e-9);
}

TEST(FellegiSunterTest, StartingMIsNinetyPercentThenHalving) {
  std::vector<FsComparisonSpec> specs = {{"A", {"exact", "close", "far", "else"}}};
  FsPairs random;
  random.num_comparisons = 1;
  for (uint8_t l : {0, 1, 2, 3, 3, 3}) random.Add({l});
  FsPairs candidates;
  candidates.num_comparisons = 1;
  candidates.Add({0});
  FsTrainingOptions options;
  options.max_iterations = 1;  // one M step from the start on one exact pair
  StatusOr<FsModel> model = Train(specs, random, candidates, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->em_iterations, 1);
  EXPECT_NEAR(model->comparisons[0].levels[0].u, 1.0 / 6, 1e-5);
  // The only pair is exact, so after one step all m mass is on exact (floored).
  EXPECT_NEAR(model->comparisons[0].levels[0].m, 1, 1e-5);
}

TEST(FellegiSunterTest, ComparisonNoSessionTrainsIsAnErrorNamingIt) {
  std::vector<FsComparisonSpec> specs = {{"Postcode", {"exact", "else"}}, {"Name", {"exact", "else"}}};
  FsPairs pairs;
  pairs.num_comparisons = 2;
  pairs.Add({0, 0});
  pairs.Add({1, 1});
  pairs.Add({0, 1});
  FsTrainingSession by_postcode = OneSession(pairs, "postcode");
  by_postcode.fixed = {true, false};
  StatusOr<FsModel> model = TrainFsModel(specs, pairs, {by_postcode}, 0.01);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  const std::string message = model.status().message();
  EXPECT_NE(message.find("comparison \"Postcode\" is not trained"), std::string::npos) << message;
  EXPECT_NE(message.find("\"postcode\" use its field"), std::string::npos) << message;
  EXPECT_NE(message.find("add a training key"), std::string::npos) << message;
  // A session on the name trains the postcode; each comparison's trained_by
  // names only the sessions that had it active.
  FsTrainingSession by_name = OneSession(pairs, "name");
  by_name.fixed = {false, true};
  model = TrainFsModel(specs, pairs, {by_postcode, by_name}, 0.01);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->comparisons[0].trained_by, std::vector<std::string>{"name"});
  EXPECT_EQ(model->comparisons[1].trained_by, std::vector<std::string>{"postcode"});
  // A session that fixes every comparison is an error too.
  FsTrainingSession all_fixed = OneSession(pairs, "both");
  all_fixed.fixed = {true, true};
  model = TrainFsModel(specs, pairs, {by_postcode, by_name, all_fixed}, 0.01);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("\"both\""), std::string::npos) << model.status().message();
}

TEST(FellegiSunterTest, LabelledPairsHaveTheirLabelAsPosterior) {
  std::vector<FsComparisonSpec> specs = {{"A", {"exact", "close", "else"}}};
  FsPairs random;
  random.num_comparisons = 1;
  for (uint8_t l : {0, 1, 2, 2, 2, 2, 2, 2, 2, 2}) random.Add({l});
  // Only labelled pairs: m is exactly the level distribution of the pairs
  // labelled as matches (3 exact, 1 close), whatever their weights say, and
  // the non-matches (all exact) add nothing to it.
  FsTrainingSession session;
  session.name = "labels";
  session.labelled.num_comparisons = 1;
  for (uint8_t l : {0, 0, 0, 1}) {
    session.labelled.Add({l});
    session.labels.push_back(true);
  }
  for (int i = 0; i < 4; ++i) {
    session.labelled.Add({0});
    session.labels.push_back(false);
  }
  FsTrainingOptions options;
  options.max_iterations = 50;
  StatusOr<FsModel> model = TrainFsModel(specs, random, {session}, 0.01, FsModel(), options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_NEAR(model->comparisons[0].levels[0].m, 0.75, 1e-5);
  EXPECT_NEAR(model->comparisons[0].levels[1].m, 0.25, 1e-5);
  EXPECT_NEAR(model->sessions[0].lambda, 0.5, 1e-9);
  EXPECT_EQ(model->sessions[0].labelled_pairs, 8);
  EXPECT_TRUE(model->sessions[0].converged);

  session.labels.pop_back();  // labels must match the labelled pairs
  model = TrainFsModel(specs, random, {session}, 0.01);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("7 labels for 8 labelled pairs"), std::string::npos)
      << model.status().message();
}

TEST(FellegiSunterTest, TrainingRejectsBadArguments) {
  std::vector<FsComparisonSpec> specs = {{"Name", {"exact", "else"}}, {"Zip", {"exact", "close", "else"}}};
  FsPairs pairs;
  pairs.num_comparisons = 2;
  pairs.Add({0, 0});
  pairs.Add({1, 2});
  pairs.Add({kFsNull, 1});
  auto error = [](const StatusOr<FsModel>& model) {
    EXPECT_FALSE(model.ok());
    if (model.ok()) return std::string();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    return model.status().message();
  };
  ASSERT_TRUE(Train(specs, pairs, pairs).ok());

  EXPECT_NE(error(Train({}, pairs, pairs)).find("no comparison specs"), std::string::npos);
  for (double prior : {1.0, -0.5, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_NE(error(TrainFsModel(specs, pairs, {OneSession(pairs)}, prior)).find("prior"), std::string::npos);
  }
  EXPECT_NE(error(TrainFsModel(specs, pairs, {}, 0.1)).find("no training sessions"), std::string::npos);
  FsPairs none;
  none.num_comparisons = 2;
  EXPECT_NE(error(Train(specs, none, pairs)).find("no random pairs"), std::string::npos);

  FsPairs bad = pairs;
  bad.Add({0, 3});  // Zip has 3 levels
  std::string message = error(Train(specs, pairs, bad));
  EXPECT_NE(message.find("pairs: pair 3"), std::string::npos) << message;
  EXPECT_NE(message.find("\"Zip\""), std::string::npos) << message;
  EXPECT_NE(message.find("level 3"), std::string::npos) << message;
  EXPECT_NE(error(Train(specs, bad, pairs)).find("random_pairs"), std::string::npos);

  FsPairs wrong_width;
  wrong_width.num_comparisons = 3;
  wrong_width.Add({0, 0, 0});
  EXPECT_NE(error(Train(specs, pairs, wrong_width)).find("num_comparisons"), std::string::npos);
  FsTrainingSession wrong_fixed = OneSession(pairs);
  wrong_fixed.fixed = {true};
  EXPECT_NE(error(TrainFsModel(specs, pairs, {wrong_fixed}, 0.1)).find("fixed has 1 values"), std::string::npos);

  std::vector<FsComparisonSpec> one_level = {{"Name", {"else"}}, {"Zip", {"exact", "close", "else"}}};
  EXPECT_NE(error(Train(one_level, pairs, pairs)).find("at least two levels"), std::string::npos);
  std::vector<FsComparisonSpec> duplicate = {{"Zip", {"exact", "else"}}, {"Zip", {"exact", "close", "else"}}};
  EXPECT_NE(error(Train(duplicate, pairs, pairs)).find("duplicate"), std::string::npos);

  FsPairs name_null;
  name_null.num_comparisons = 2;
  name_null.Add({kFsNull, 0});
  message = error(Train(specs, name_null, pairs));
  EXPECT_NE(message.find("\"Name\" is null in all random pairs"), std::string::npos) << message;

  FsTrainingOptions options;
  options.min_probability = 0.5;
  EXPECT_NE(error(Train(specs, pairs, pairs, options)).find("min_probability"), std::string::npos);
  options = {};
  options.tolerance = 0;
  EXPECT_NE(error(Train(specs, pairs, pairs, options)).find("tolerance"), std::string::npos);
}

TEST(FellegiSunterTest, OldModelJsonStillLoads) {
  // The form stored before training sessions, tf_records and derived fields.
  const char* old_json = R"({"prior": 0.02, "em_iterations": 12, "converged": true, "candidate_pairs": 5000,
    "distinct_vectors": 40, "comparisons": [
      {"name": "Name", "tf_exact": true, "tf_min_u": 1e-6,
       "levels": [{"label": "exact", "m": 0.8, "u": 0.02}, {"label": "else", "m": 0.2, "u": 0.98}]}]})";
  StatusOr<FsModel> model = FsModel::FromJson(nlohmann::json::parse(old_json));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->prior, 0.02);
  EXPECT_EQ(model->prior_method, "");
  EXPECT_TRUE(model->sessions.empty());
  EXPECT_EQ(model->comparisons[0].tf_records, 0);
  EXPECT_TRUE(model->comparisons[0].trained_by.empty());
  EXPECT_EQ(model->em_iterations, 12);
  // It writes back with the new fields and loads again.
  StatusOr<FsModel> again = FsModel::FromJson(model->ToJson());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToJson(), model->ToJson());
  EXPECT_NE(ExplainFsModel(*model).find("prior (lambda) 0.02"), std::string::npos);
}

TEST(FellegiSunterTest, PriorFromTheDataIsTheEmShareScaledToAllPairs) {
  const std::vector<TrueComparison> truth = SyntheticTruth();
  Rng rng(11);
  FsPairs random = Generate(truth, 200000, 0, rng);
  FsPairs candidates = Generate(truth, 200000, 0.05, rng);
  StatusOr<FsModel> model = TrainFsModel(Specs(truth), random, {OneSession(candidates)}, 0);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->prior, 0);  // left to the caller
  ASSERT_TRUE(EstimatePriorFromPairs(candidates, 200000000, &*model).ok());
  EXPECT_EQ(model->prior_method, "data");
  EXPECT_EQ(model->comparable_pairs, 200000000);
  EXPECT_NEAR(model->prior_matches, 0.05 * 200000, 0.005 * 200000);
  EXPECT_NEAR(model->prior, 0.05 * 200000 / 200000000, 0.005 * 200000 / 200000000);
  EXPECT_FALSE(EstimatePriorFromPairs(candidates, 100, &*model).ok());  // fewer comparable than candidates
}

TEST(FellegiSunterTest, EstimatePriorFromDeterministicRules) {
  // Splink's estimate: rule matches / recall / all comparable pairs. 10,000
  // records have 49,995,000 pairs; rules finding 4,000 at recall 0.8 mean
  // 5,000 true matches among them.
  EXPECT_DOUBLE_EQ(EstimatePrior(4000, 10000LL * 9999 / 2, 0.8), 5000.0 / 49995000);
  EXPECT_DOUBLE_EQ(EstimatePrior(800, 100000, 0.8), 0.01);
  EXPECT_DOUBLE_EQ(EstimatePrior(500, 1000, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(EstimatePrior(0, 1000, 0.8), 1e-9);
  EXPECT_DOUBLE_EQ(EstimatePrior(1000, 10, 0.5), 1 - 1e-9);
  EXPECT_DOUBLE_EQ(EstimatePrior(10, 0, 0.8), 1e-9);
  EXPECT_DOUBLE_EQ(EstimatePrior(10, 100, std::numeric_limits<double>::quiet_NaN()), 0.1);
  EXPECT_DOUBLE_EQ(EstimatePrior(10, 100, 2.0), 0.1);  // recall above 1 counts as 1
}

TEST(FellegiSunterTest, ExplainFsModelListsEveryLevel) {
  const std::string text = ExplainFsModel(HandModel());
  for (const char* needle : {"prior (lambda) 0.01", "-6.629", "Name", "Zip", "exact", "fuzzy", "else", "0.8",
                             "0.02", "40", "+5.322", "term-frequency adjusted"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle << " in\n" << text;
  }
}

// A phone session: the pairs that share a phone are the same person (40%), members of one
// household (55%: same surname and address, other first name and birth date) or random (5%).
// With two classes, EM explains the household pairs as matches (they are far from random pairs)
// and m learns "same household"; the household class takes them, and m is the person's.
TEST(FellegiSunterTest, HouseholdClassLearnsThePersonFromASessionOfHouseholds) {
  const std::vector<FsComparisonSpec> specs = {{"FirstName", {"exact", "else"}},
                                               {"Dob", {"exact", "else"}},
                                               {"Surname", {"exact", "else"}},
                                               {"Address", {"exact", "else"}},
                                               {"Email", {"exact", "else"}},
                                               {"Gender", {"exact", "else"}}};
  const std::vector<std::vector<double>> m = {{0.95, 0.05}, {0.95, 0.05}, {0.95, 0.05},
                                              {0.9, 0.1},   {0.85, 0.15}, {0.98, 0.02}};
  const std::vector<std::vector<double>> h = {{0.05, 0.95}, {0.02, 0.98}, {0.9, 0.1},
                                              {0.9, 0.1},   {0.5, 0.5},   {0.5, 0.5}};
  const std::vector<std::vector<double>> u = {{0.01, 0.99},     {0.001, 0.999}, {0.005, 0.995},
                                              {0.0001, 0.9999}, {0.0001, 0.9999}, {0.5, 0.5}};
  Rng rng(7);
  auto draw = [&](const std::vector<std::vector<double>>& dist, FsPairs* pairs) {
    for (const auto& d : dist) pairs->levels.push_back(rng.Draw(d));
  };
  FsPairs random, phone;
  random.num_comparisons = phone.num_comparisons = specs.size();
  for (int i = 0; i < 200000; ++i) draw(u, &random);
  for (int i = 0; i < 20000; ++i) {
    const double x = rng.Uniform();
    draw(x < 0.40 ? m : (x < 0.95 ? h : u), &phone);
  }
  FsTrainingOptions options;
  options.max_iterations = 500;
  StatusOr<FsModel> two = TrainFsModel(specs, random, {OneSession(phone, "Phone")}, 1e-4, FsModel(), options);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_GT(two->comparisons[0].levels[1].m, 0.3);  // "same household": first names differ often
  EXPECT_EQ(two->sessions[0].household_lambda, 0);
  options.household_class = true;
  StatusOr<FsModel> three = TrainFsModel(specs, random, {OneSession(phone, "Phone")}, 1e-4, FsModel(), options);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  for (size_t c = 0; c < specs.size(); ++c) {
    for (size_t l = 0; l < 2; ++l) {
      EXPECT_NEAR(three->comparisons[c].levels[l].m, m[c][l], 0.02) << specs[c].name << " level " << l;
      EXPECT_EQ(three->comparisons[c].levels[l].u, two->comparisons[c].levels[l].u);  // u: random pairs only
    }
  }
  EXPECT_NEAR(three->sessions[0].lambda, 0.40, 0.02);
  EXPECT_NEAR(three->sessions[0].household_lambda, 0.55, 0.02);
  // The household share is kept in the JSON form and shown by explain-model.
  StatusOr<FsModel> back = FsModel::FromJson(nlohmann::json::parse(three->ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sessions[0].household_lambda, three->sessions[0].household_lambda);
  EXPECT_NE(ExplainFsModel(*three).find("household class"), std::string::npos);
  EXPECT_EQ(ExplainFsModel(*two).find("household class"), std::string::npos);
}

// Pairs a strict rule accepted estimate m of the comparisons the rule does not use: here B,
// which the only session fixes, so its m is exactly B's level distribution among the pairs.
TEST(FellegiSunterTest, LabelledMatchesEstimateTheComparisonsTheyDoNotFix) {
  const std::vector<FsComparisonSpec> specs = {{"A", {"exact", "else"}}, {"B", {"exact", "else"}}};
  FsPairs random;
  random.num_comparisons = 2;
  for (int i = 0; i < 100; ++i) random.Add({static_cast<uint8_t>(i % 10 == 0 ? 0 : 1), static_cast<uint8_t>(i % 20 == 0 ? 0 : 1)});
  FsTrainingSession session;
  session.name = "B";
  session.fixed = {false, true};
  session.pairs.num_comparisons = 2;
  for (int i = 0; i < 50; ++i) session.pairs.Add({static_cast<uint8_t>(i % 5 == 0 ? 1 : 0), 0});
  FsLabelledMatches rule;
  rule.name = "SameA";
  rule.fixed = {true, false};
  rule.pairs.num_comparisons = 2;
  for (int i = 0; i < 100; ++i) rule.pairs.Add({0, static_cast<uint8_t>(i < 60 ? 0 : 1)});
  rule.pairs.Add({0, kFsNull});  // a null adds nothing
  StatusOr<FsModel> model = TrainFsModel(specs, random, {session}, 0.01, FsModel(), {}, {rule});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->comparisons[0].trained_by, std::vector<std::string>{"B"});
  EXPECT_EQ(model->comparisons[1].trained_by, std::vector<std::string>{"labels(SameA)"});
  EXPECT_NEAR(model->comparisons[1].levels[0].m, 0.6, 1e-5);
  EXPECT_NEAR(model->comparisons[1].levels[1].m, 0.4, 1e-5);
  ASSERT_EQ(model->sessions.size(), 2u);
  EXPECT_EQ(model->sessions[1].name, "labels(SameA)");
  EXPECT_EQ(model->sessions[1].fixed, std::vector<std::string>{"A"});
  EXPECT_EQ(model->sessions[1].labelled_pairs, 101);
  EXPECT_EQ(model->sessions[1].lambda, 1);

  // Fewer non-null pairs than min_labelled_pairs: B is trained by nothing.
  FsTrainingOptions options;
  options.min_labelled_pairs = 101;
  model = TrainFsModel(specs, random, {session}, 0.01, FsModel(), options, {rule});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("comparison \"B\" is not trained"), std::string::npos)
      << model.status().message();
  options.min_labelled_pairs = 0;
  EXPECT_FALSE(TrainFsModel(specs, random, {session}, 0.01, FsModel(), options, {rule}).ok());

  rule.fixed = {true};
  model = TrainFsModel(specs, random, {session}, 0.01, FsModel(), {}, {rule});
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("labelled matches 0 (\"SameA\"): fixed has 1 values"), std::string::npos)
      << model.status().message();
}

// Random pairs of a population with households: a share `match_rate` of the pairs are one person
// (m on every comparison), a share `household_share` of the others are two people of one household
// (h on LastName, Phone and PostalCode, u on FirstName and DateOfBirth), the rest follow u. The
// model's u is each comparison's level distribution among these pairs (as TrainFsModel estimates
// it), m and the prior are the truth.
struct HouseholdPopulation {
  FsModel model;
  FsPairs random;
};
HouseholdPopulation MakeHouseholdPopulation(double match_rate, double household_share, uint64_t seed) {
  const std::vector<std::string> names = {"FirstName", "DateOfBirth", "LastName", "Phone", "PostalCode"};
  const std::vector<double> m0 = {0.9, 0.9, 0.95, 0.85, 0.95};   // m of "exact"
  const std::vector<double> u0 = {0.01, 0.001, 0.01, 0.0005, 0.005};
  const std::vector<double> h0 = {0, 0, 0.9, 0.8, 0.95};          // h of "exact" (household keys)
  Rng rng(seed);
  HouseholdPopulation population;
  population.random.num_comparisons = names.size();
  const size_t n = 400000;
  std::vector<double> exact(names.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    const double x = rng.Uniform();
    const bool match = x < match_rate;
    const bool household = !match && x < match_rate + (1 - match_rate) * household_share;
    for (size_t c = 0; c < names.size(); ++c) {
      const double p = match ? m0[c] : (household && h0[c] > 0 ? h0[c] : u0[c]);
      const uint8_t level = rng.Uniform() < p ? 0 : 1;
      exact[c] += level == 0 ? 1 : 0;
      population.random.levels.push_back(level);
    }
  }
  population.model.prior = match_rate;
  for (size_t c = 0; c < names.size(); ++c) {
    const double u = exact[c] / static_cast<double>(n);
    population.model.comparisons.push_back(
        {names[c], {{"exact", m0[c], u}, {"else", 1 - m0[c], 1 - u}}, /*tf_exact=*/false, 1e-6});
  }
  return population;
}

TEST(FellegiSunterTest, HouseholdComponentCountsTheSharedKeysOnce) {
  HouseholdPopulation population = MakeHouseholdPopulation(2e-4, 2e-3, 11);
  FsModel independent = population.model;
  FsModel& model = population.model;
  ASSERT_TRUE(FitHouseholdComponent(population.random, {2, 3, 4}, &model).ok());
  ASSERT_EQ(model.household.comparisons, (std::vector<size_t>{2, 3, 4}));
  EXPECT_TRUE(model.household.converged);
  EXPECT_TRUE(model.household.active());
  EXPECT_GT(model.household.log_likelihood_gain, 10 * model.household.bic_penalty);
  // The other non-matches follow the model's u, the level distribution among all random pairs,
  // which includes the households; so the household pairs that agree on one key only look random
  // and the share comes out ~15% low (1.7e-3 here), h of the keys a little high.
  EXPECT_NEAR(model.household.share, 2e-3, 0.4e-3);
  EXPECT_NEAR(model.household.h[0][0], 0.9, 0.06);
  EXPECT_NEAR(model.household.h[1][0], 0.8, 0.06);
  EXPECT_NEAR(model.household.h[2][0], 0.95, 0.04);
  // Another member of the household: other first name and birth date, same surname, phone and
  // postcode. Counted field by field (independence) it is a match; with the component it is not.
  const uint8_t household_pair[] = {1, 1, 0, 0, 0};
  EXPECT_GT(FsModel::Probability(independent.MatchWeight(household_pair)), 0.5);
  EXPECT_LT(FsModel::Probability(model.MatchWeight(household_pair)), 0.01);
  // The same person still matches, also with a new phone.
  for (std::vector<uint8_t> match : {std::vector<uint8_t>{0, 0, 0, 0, 0}, {0, 0, 0, 1, 0}}) {
    EXPECT_GT(FsModel::Probability(model.MatchWeight(match.data())), 0.99) << int(match[3]);
  }
  // Without a birth date only the first name tells the person from the household: 1% of another
  // member's first names agree, so the posterior is 2e-4*.77*.9 / (that + 2e-3*.68*.0102) = 0.91.
  const uint8_t no_birth_date[] = {0, kFsNull, 0, 0, 0};
  EXPECT_NEAR(FsModel::Probability(model.MatchWeight(no_birth_date)), 0.91, 0.04);
  // Pairs that share no household key, or have none, are scored as before (within the share).
  for (std::vector<uint8_t> other :
       {std::vector<uint8_t>{0, 0, 1, 1, 1}, {0, 0, kFsNull, kFsNull, kFsNull}, {1, 0, kFsNull, 1, kFsNull}}) {
    EXPECT_NEAR(model.MatchWeight(other.data()), independent.MatchWeight(other.data()), 0.01);
  }
  // The correction is its own line in Explain, and the contributions still sum to the weight.
  const std::vector<FsModel::Contribution> parts = model.Explain(household_pair);
  ASSERT_EQ(parts.size(), 6u);
  EXPECT_EQ(parts[5].comparison, "household(LastName+Phone+PostalCode)");
  EXPECT_EQ(parts[5].weight, model.HouseholdWeight(household_pair));
  EXPECT_LT(parts[5].weight, -10);
  double sum = model.PriorWeight();
  for (const FsModel::Contribution& c : parts) sum += c.weight;
  EXPECT_NEAR(sum, model.MatchWeight(household_pair), 1e-9);
  EXPECT_NE(ExplainFsModel(model).find("household component of the non-matches"), std::string::npos);
  // The fit is deterministic.
  FsModel again = independent;
  ASSERT_TRUE(FitHouseholdComponent(population.random, {4, 2, 3}, &again).ok());
  EXPECT_EQ(again.household.share, model.household.share);
  EXPECT_EQ(again.household.h, model.household.h);
}

TEST(FellegiSunterTest, HouseholdComponentIsNegligibleWithoutHouseholds) {
  HouseholdPopulation population = MakeHouseholdPopulation(2e-4, 0, 12);
  FsModel independent = population.model;
  FsModel& model = population.model;
  ASSERT_TRUE(FitHouseholdComponent(population.random, {2, 3, 4}, &model).ok());
  // A few duplicates with both personal fields wrong would make a tiny class concentrated on
  // agreement (-4.7 bits on every all-agreeing pair here); BIC keeps it out.
  EXPECT_FALSE(model.household.active());
  EXPECT_EQ(model.household.share, 0);
  EXPECT_LE(model.household.log_likelihood_gain, model.household.bic_penalty);
  for (std::vector<uint8_t> pair : {std::vector<uint8_t>{0, 0, 0, 0, 0}, {1, 1, 0, 0, 0}, {0, 1, 1, 0, kFsNull}}) {
    EXPECT_EQ(model.HouseholdWeight(pair.data()), 0);
    EXPECT_EQ(model.MatchWeight(pair.data()), independent.MatchWeight(pair.data()));
    EXPECT_EQ(model.Explain(pair.data()).size(), 5u);
  }
  EXPECT_NE(ExplainFsModel(model).find("household component of the non-matches: not used"), std::string::npos);
  StatusOr<FsModel> back = FsModel::FromJson(nlohmann::json::parse(model.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->household.active());
  EXPECT_EQ(back->household.bic_penalty, model.household.bic_penalty);
}

TEST(FellegiSunterTest, HouseholdComponentJsonRoundTripAndErrors) {
  HouseholdPopulation population = MakeHouseholdPopulation(2e-4, 2e-3, 13);
  FsModel& model = population.model;
  ASSERT_TRUE(FitHouseholdComponent(population.random, {2, 3, 4}, &model).ok());
  const nlohmann::json json = model.ToJson();
  StatusOr<FsModel> back = FsModel::FromJson(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->household.comparisons, model.household.comparisons);
  EXPECT_EQ(back->household.h, model.household.h);
  EXPECT_EQ(back->household.share, model.household.share);
  EXPECT_EQ(back->household.em_iterations, model.household.em_iterations);
  EXPECT_EQ(back->ToJson(), json);
  const uint8_t pair[] = {1, 0, 0, 0, 1};
  EXPECT_EQ(back->MatchWeight(pair), model.MatchWeight(pair));

  nlohmann::json bad = json;
  bad["household"]["comparisons"][1]["name"] = "Nope";
  StatusOr<FsModel> r = FsModel::FromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("household.comparisons[1].name: must name a comparison"), std::string::npos)
      << r.status().message();
  bad = json;
  bad["household"]["comparisons"][0]["h"] = {0.5};
  r = FsModel::FromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("household.comparisons[0].h: must be an array of 2"), std::string::npos)
      << r.status().message();
  bad = json;
  bad["household"]["share"] = 1;
  EXPECT_FALSE(FsModel::FromJson(bad).ok());

  FsModel copy = population.model;
  EXPECT_FALSE(FitHouseholdComponent(population.random, {2}, &copy).ok());
  EXPECT_FALSE(FitHouseholdComponent(population.random, {2, 2}, &copy).ok());
  EXPECT_FALSE(FitHouseholdComponent(population.random, {2, 9}, &copy).ok());
  FsPairs wrong;
  wrong.num_comparisons = 2;
  wrong.levels = {0, 0};
  EXPECT_FALSE(FitHouseholdComponent(wrong, {0, 1}, &copy).ok());
}

}  // namespace
}  // namespace cdp
