// Probabilistic mode of the Matcher on a synthetic population with
// households: the all-pairs prior, training per blocking key, labels, review
// pairs and the rule table.
#include "unify/matcher.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "unify/unifier.h"

namespace cdp {
namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

struct Person {
  std::string first, surname, dob, postcode;
};

struct Population {
  std::shared_ptr<const Table> table;  // Id, FirstName, Surname, Dob, Postcode
  std::vector<int> person_of;          // per row
  std::map<std::string, int> row_of;   // Id -> row
};

// A letter of `s` replaced (a typo that keeps Jaro-Winkler high).
std::string Typo(const std::string& s, Rng& rng) {
  std::string out = s;
  size_t i = 1 + rng.Below(out.size() - 1);
  out[i] = out[i] == 'z' ? 'y' : 'z';
  return out;
}

// Households of 1-4 people sharing a surname and a postcode (few postcodes,
// few names, so that different people often share a name and a postcode);
// half the people have a second record, with a typo in one name (50%) and
// rarely (1%) in the date of birth, never in the postcode. Two fixed people
// "george davies" born 1977 and 2004 live in postcode p0 in different
// households.
Population MakePopulation() {
  static const char* kFirst[] = {"george", "james", "oliver", "harry", "jack", "noah", "charlie", "thomas",
                                 "oscar", "william", "olivia", "amelia", "isla", "emily", "ava", "lily",
                                 "mia", "sophia", "isabella", "grace"};
  static const char* kSurname[] = {"davies", "smith", "jones", "taylor", "brown", "williams", "wilson",
                                   "johnson", "roberts", "robinson", "thompson", "wright", "walker", "white",
                                   "edwards", "hughes", "green", "hall", "lewis", "harris", "clarke",
                                   "patel", "jackson", "wood", "turner", "martin", "cooper", "hill",
                                   "ward", "morris"};
  Rng rng(2024);
  std::vector<Person> people;
  people.push_back({"george", "davies", "1977-03-14", "p0"});
  people.push_back({"george", "davies", "2004-11-02", "p0"});
  for (int h = 0; h < 800; ++h) {
    const std::string surname = kSurname[rng.Below(30)];
    const std::string postcode = "p" + std::to_string(rng.Below(50));
    const size_t size = 1 + rng.Below(4);
    std::vector<std::string> firsts;
    while (firsts.size() < size) {
      std::string f = kFirst[rng.Below(20)];
      if (std::find(firsts.begin(), firsts.end(), f) == firsts.end()) firsts.push_back(f);
    }
    for (const auto& f : firsts) {
      char dob[16];
      std::snprintf(dob, sizeof dob, "%04d-%02d-%02d", 1940 + static_cast<int>(rng.Below(70)),
                    1 + static_cast<int>(rng.Below(12)), 1 + static_cast<int>(rng.Below(28)));
      people.push_back({f, surname, dob, postcode});
    }
  }
  Schema schema;
  for (const char* name : {"Id", "FirstName", "Surname", "Dob", "Postcode"}) {
    schema.AddField(Field{name, DataType::kString, SemanticType("")});
  }
  auto table = std::make_shared<Table>(schema);
  Population population;
  auto add = [&](int person, const Person& p) {
    const std::string id = "r" + std::to_string(table->num_rows());
    const std::vector<std::string> values = {id, p.first, p.surname, p.dob, p.postcode};
    for (size_t c = 0; c < values.size(); ++c) table->mutable_column(c).AppendString(values[c]);
    table->FinishRow();
    population.row_of[id] = static_cast<int>(population.person_of.size());
    population.person_of.push_back(person);
  };
  for (size_t i = 0; i < people.size(); ++i) {
    add(static_cast<int>(i), people[i]);
    if (i >= 2 && rng.Uniform() < 0.5) {
      Person copy = people[i];
      const double typo = rng.Uniform();
      if (typo < 0.25) {
        copy.first = Typo(copy.first, rng);
      } else if (typo < 0.5) {
        copy.surname = Typo(copy.surname, rng);
      }
      if (rng.Uniform() < 0.01) copy.dob[9] = copy.dob[9] == '1' ? '2' : '1';
      add(static_cast<int>(i), copy);
    }
  }
  population.table = table;
  return population;
}

constexpr const char* kConfig = R"(
sources:
  - {source: People, key: Id}
mode: probabilistic
rules:
  - name: SameNameAndBirthDate
    conditions: [{field: FirstName}, {field: Surname}, {field: Dob}]
probabilistic:
  comparisons:
    - {field: FirstName, levels: [exact, jaro_winkler 0.9], term_frequency: true}
    - {field: Surname, levels: [exact, jaro_winkler 0.9], term_frequency: true}
    - {field: Dob, levels: [exact]}
    - {field: Postcode, levels: [exact]}
  blocking:
    - {field: Postcode}
    - {field: Dob}
)";

UnifyConfig Config(const std::string& yaml) {
  auto c = ParseUnifyConfig(YAML::Load(yaml), "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : UnifyConfig();
}

struct Matched {
  UnifyConfig config;  // the matcher keeps a pointer to it
  std::unique_ptr<RecordSet> records;
  std::unique_ptr<Matcher> matcher;
  Status status;
  std::vector<MatchPair> pairs;
};

std::unique_ptr<Matched> Match(const UnifyConfig& config, const Population& population,
              const std::vector<LabelledPair>* labels = nullptr) {
  auto owned = std::make_unique<Matched>();
  Matched& m = *owned;
  m.config = config;
  auto rs = RecordSet::Build(m.config.sources, {population.table}, RecordSetOptions{});
  EXPECT_TRUE(rs.ok()) << rs.status().ToString();
  m.records = std::move(*rs);
  auto matcher = Matcher::Create(m.config, m.records.get());
  EXPECT_TRUE(matcher.ok()) << matcher.status().ToString();
  m.matcher = std::move(*matcher);
  EXPECT_TRUE(m.records->ComputeFeatures().ok());
  auto pairs = m.matcher->Run(2, {}, nullptr, labels);
  m.status = pairs.status();
  if (pairs.ok()) m.pairs = std::move(*pairs);
  return owned;
}

const FsComparisonParams& Comparison(const FsModel& model, const std::string& name) {
  for (const auto& c : model.comparisons) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no comparison " << name;
  return model.comparisons[0];
}

TEST(MatcherProbabilisticTest, TrainingPerBlockingKeyLearnsThePersonNotTheHousehold) {
  const Population population = MakePopulation();
  std::unique_ptr<Matched> mp = Match(Config(kConfig), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const FsModel& model = *mp->matcher->model();
  // Every true match agrees on the postcode: m(postcode exact) is 1 in truth.
  // Only the Dob session trains it (the Postcode session holds it fixed).
  const FsComparisonParams& postcode = Comparison(model, "Postcode");
  EXPECT_GT(postcode.levels[0].m, 0.9);
  EXPECT_EQ(postcode.trained_by, std::vector<std::string>{"Dob"});
  EXPECT_EQ(Comparison(model, "Dob").trained_by, std::vector<std::string>{"Postcode"});
  EXPECT_EQ(Comparison(model, "FirstName").trained_by, (std::vector<std::string>{"Postcode", "Dob"}));
  EXPECT_GT(Comparison(model, "Dob").levels[0].m, 0.95);
  ASSERT_EQ(model.sessions.size(), 2u);
  EXPECT_EQ(model.sessions[0].fixed, std::vector<std::string>{"Postcode"});
  EXPECT_GT(Comparison(model, "FirstName").tf_records, 0);

  auto probability = [&](const std::string& a, const std::string& b) {
    PairExplanation e = mp->matcher->Explain(static_cast<RecordId>(population.row_of.at(a)),
                                           static_cast<RecordId>(population.row_of.at(b)));
    return e.match_probability;
  };
  // Two different george davies in one postcode, born 1977 and 2004.
  ASSERT_NE(population.person_of[0], population.person_of[1]);
  EXPECT_LT(probability("r0", "r1"), 0.5);
  // True duplicates with typos in a name score above the 0.95 default.
  const Table& t = *population.table;
  int typo_pairs = 0;
  for (size_t r = 1; r < t.num_rows(); ++r) {
    if (population.person_of[r] != population.person_of[r - 1]) continue;
    const bool typo = t.column(1).StringAt(r) != t.column(1).StringAt(r - 1) ||
                      t.column(2).StringAt(r) != t.column(2).StringAt(r - 1);
    if (!typo || t.column(3).StringAt(r) != t.column(3).StringAt(r - 1)) continue;
    ++typo_pairs;
    EXPECT_GT(probability("r" + std::to_string(r - 1), "r" + std::to_string(r)), 0.95)
        << t.column(1).StringAt(r - 1) << " " << t.column(2).StringAt(r - 1) << " vs "
        << t.column(1).StringAt(r) << " " << t.column(2).StringAt(r);
  }
  EXPECT_GT(typo_pairs, 50);
  // Pairwise precision and recall at the default threshold.
  int64_t true_pairs = 0, found = 0, correct = 0;
  for (size_t r = 1; r < t.num_rows(); ++r) true_pairs += population.person_of[r] == population.person_of[r - 1];
  for (const MatchPair& p : mp->pairs) {
    ++found;
    correct += population.person_of[p.a] == population.person_of[p.b];
  }
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(found), 0.97);
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(true_pairs), 0.97);
}

TEST(MatcherProbabilisticTest, PriorIsTheRulesMatchesOverRecallOverAllPairs) {
  const Population population = MakePopulation();
  std::unique_ptr<Matched> mp = Match(Config(kConfig), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  // Brute force: the pairs of records equal on FirstName, Surname and Dob.
  const Table& t = *population.table;
  const int64_t n = static_cast<int64_t>(t.num_rows());
  std::map<std::string, int64_t> groups;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    ++groups[std::string(t.column(1).StringAt(r)) + "|" + std::string(t.column(2).StringAt(r)) + "|" +
             std::string(t.column(3).StringAt(r))];
  }
  int64_t rule_pairs = 0;
  for (const auto& [key, size] : groups) rule_pairs += size * (size - 1) / 2;
  ASSERT_GT(rule_pairs, 100);
  const FsModel& model = *mp->matcher->model();
  EXPECT_EQ(model.prior_method, "rules");
  EXPECT_EQ(model.comparable_pairs, n * (n - 1) / 2);
  EXPECT_EQ(model.prior_matches, static_cast<double>(rule_pairs));
  EXPECT_EQ(model.prior_recall, 0.8);
  EXPECT_DOUBLE_EQ(model.prior, static_cast<double>(rule_pairs) / 0.8 / static_cast<double>(n * (n - 1) / 2));
  ASSERT_EQ(mp->matcher->stats().prior_rules.size(), 1u);
  EXPECT_EQ(mp->matcher->stats().prior_rules[0].rule, "SameNameAndBirthDate");
  EXPECT_EQ(mp->matcher->stats().prior_rules[0].pairs, rule_pairs);
}

TEST(MatcherProbabilisticTest, WithoutRulesThePriorComesFromTheData) {
  const Population population = MakePopulation();
  std::string yaml = kConfig;
  const size_t rules = yaml.find("rules:");
  yaml.erase(rules, yaml.find("probabilistic:") - rules);
  std::unique_ptr<Matched> mp = Match(Config(yaml), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const FsModel& model = *mp->matcher->model();
  EXPECT_EQ(model.prior_method, "data");
  const Table& t = *population.table;
  const double n = static_cast<double>(t.num_rows());
  double true_pairs = 0;
  for (size_t r = 1; r < t.num_rows(); ++r) true_pairs += population.person_of[r] == population.person_of[r - 1];
  const double truth = true_pairs / (n * (n - 1) / 2);
  EXPECT_GT(model.prior, truth / 1.5);
  EXPECT_LT(model.prior, truth * 1.5);
}

TEST(MatcherProbabilisticTest, AComparisonNoTrainingKeyTrainsIsAnError) {
  const Population population = MakePopulation();
  std::string yaml = kConfig;
  yaml.replace(yaml.find("    - {field: Dob}\n"), std::string("    - {field: Dob}\n").size(), "");
  std::unique_ptr<Matched> mp = Match(Config(yaml), population);
  ASSERT_FALSE(mp->status.ok());
  const std::string message = mp->status.message();
  EXPECT_NE(message.find("comparison \"Postcode\" is not trained"), std::string::npos) << message;
  EXPECT_NE(message.find("probabilistic.training"), std::string::npos) << message;
  // An explicit training key on other fields fixes it.
  yaml += "  training:\n    - {field: Postcode}\n    - {fields: [Surname, Dob]}\n";
  mp = Match(Config(yaml), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  EXPECT_EQ(Comparison(*mp->matcher->model(), "Postcode").trained_by, std::vector<std::string>{"Surname+Dob"});
}

TEST(MatcherProbabilisticTest, LabelsAreScoredAndUncertainPairsListedForReview) {
  const Population population = MakePopulation();
  std::vector<LabelledPair> labels = {{0, 1, false}};  // the two george davies
  // A true duplicate pair, labelled a match.
  for (size_t r = 3; r < population.person_of.size(); ++r) {
    if (population.person_of[r] == population.person_of[r - 1]) {
      labels.push_back({static_cast<RecordId>(r - 1), static_cast<RecordId>(r), true});
      break;
    }
  }
  UnifyConfig config = Config(kConfig);
  config.probabilistic.review_min_probability = 0.01;
  std::unique_ptr<Matched> mp = Match(config, population, &labels);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const MatchStats& stats = mp->matcher->stats();
  EXPECT_EQ(stats.labelled_matches, 1);
  EXPECT_EQ(stats.labelled_matches_accepted, 1);
  EXPECT_EQ(stats.labelled_non_matches, 1);
  EXPECT_EQ(stats.labelled_non_matches_rejected, 1);
  int64_t labelled_in_sessions = 0;
  for (const auto& s : mp->matcher->model()->sessions) labelled_in_sessions += s.labelled_pairs;
  EXPECT_GE(labelled_in_sessions, 2);  // both pairs share a postcode
  const auto& review = mp->matcher->review_pairs();
  ASSERT_FALSE(review.empty());
  EXPECT_EQ(stats.review_pairs, static_cast<int64_t>(review.size()));
  for (size_t i = 0; i < review.size(); ++i) {
    EXPECT_GE(review[i].score, 0.01f);
    EXPECT_LT(review[i].score, 0.95f);
    if (i > 0) {
      EXPECT_LE(std::abs(review[i - 1].strength), std::abs(review[i].strength));  // most uncertain first
    }
  }
  config.probabilistic.review_limit = 3;
  mp = Match(config, population, &labels);
  ASSERT_TRUE(mp->status.ok());
  EXPECT_EQ(mp->matcher->review_pairs().size(), 3u);
}

TEST(MatcherProbabilisticTest, UnifyReportsPriorRulesApartFromTheMatchRules) {
  const Population population = MakePopulation();
  UnifyConfig config = Config(kConfig);
  auto r = Unify(config, {population.table}, {{"People", "r0", "People", "r1", false}}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const auto& rule : r->stats.rules) EXPECT_NE(rule.rule, "SameNameAndBirthDate");
  ASSERT_EQ(r->stats.matching.prior_rules.size(), 1u);
  EXPECT_GT(r->stats.matching.prior_rules[0].pairs, 0);
  EXPECT_EQ(r->stats.matching.labelled_non_matches, 1);
  const std::string json = r->stats.ToJson();
  EXPECT_NE(json.find("\"prior_rules\""), std::string::npos);
  EXPECT_NE(json.find("\"labelled_pairs\""), std::string::npos);
  for (const ReviewPair& p : r->review_pairs) {
    EXPECT_EQ(p.source_a, "People");
    EXPECT_GE(p.probability, 0.5);
    EXPECT_LT(p.probability, 0.95);
  }
}

// Households of 2-4 people sharing a surname, a home phone and a family e-mail address (and
// nothing else: first names differ within a household, birth dates are drawn per person); 60%
// of the people have a second record with a typo in a name (40%). Rows: Id, FirstName, Surname,
// Dob, Phone, Email.
Population MakeSharedPhoneHouseholds() {
  static const char* kFirst[] = {"george", "james", "oliver", "harry", "jack", "noah", "charlie", "thomas",
                                 "oscar", "william", "olivia", "amelia", "isla", "emily", "ava", "lily",
                                 "mia", "sophia", "isabella", "grace", "daniel", "lucas", "ethan", "chloe"};
  static const char* kSurname[] = {"davies", "smith", "jones", "taylor", "brown", "williams", "wilson",
                                   "johnson", "roberts", "robinson", "thompson", "wright", "walker", "white",
                                   "edwards", "hughes", "green", "hall", "lewis", "harris"};
  Rng rng(77);
  Schema schema;
  for (const char* name : {"Id", "FirstName", "Surname", "Dob", "Phone", "Email"}) {
    schema.AddField(Field{name, DataType::kString, SemanticType("")});
  }
  auto table = std::make_shared<Table>(schema);
  Population population;
  auto add = [&](int person, const std::vector<std::string>& v) {
    const std::string id = "r" + std::to_string(table->num_rows());
    table->mutable_column(0).AppendString(id);
    for (size_t c = 0; c < v.size(); ++c) table->mutable_column(c + 1).AppendString(v[c]);
    table->FinishRow();
    population.row_of[id] = static_cast<int>(population.person_of.size());
    population.person_of.push_back(person);
  };
  int person = 0;
  for (int household = 0; household < 500; ++household) {
    const std::string surname = kSurname[rng.Below(20)];
    const std::string phone = "0161" + std::to_string(1000000 + household);
    const std::string email = "the" + surname + std::to_string(household) + "@example.com";
    const size_t size = 2 + rng.Below(3);
    std::vector<std::string> firsts;
    while (firsts.size() < size) {
      std::string f = kFirst[rng.Below(24)];
      if (std::find(firsts.begin(), firsts.end(), f) == firsts.end()) firsts.push_back(f);
    }
    for (const std::string& first : firsts) {
      char dob[16];
      std::snprintf(dob, sizeof dob, "%04d-%02d-%02d", 1940 + static_cast<int>(rng.Below(70)),
                    1 + static_cast<int>(rng.Below(12)), 1 + static_cast<int>(rng.Below(28)));
      add(person, {first, surname, dob, phone, email});
      if (rng.Uniform() < 0.6) {
        std::string f = first, s = surname;
        const double typo = rng.Uniform();
        if (typo < 0.2) {
          f = Typo(f, rng);
        } else if (typo < 0.4) {
          s = Typo(s, rng);
        }
        add(person, {f, s, dob, phone, email});
      }
      ++person;
    }
  }
  population.table = table;
  return population;
}

constexpr const char* kSharedPhoneConfig = R"(
sources:
  - {source: People, key: Id}
mode: probabilistic
rules:
  - name: SameNameAndBirthDate
    conditions: [{field: FirstName}, {field: Surname}, {field: Dob}]
probabilistic:
  comparisons:
    - {field: FirstName, levels: [exact, jaro_winkler 0.9]}
    - {field: Surname, levels: [exact, jaro_winkler 0.9]}
    - {field: Dob, levels: [exact]}
    - {field: Phone, levels: [exact]}
    - {field: Email, levels: [exact]}
  blocking:
    - {field: Phone}
    - {field: Email}
    - {field: Dob}
  household_class: true
  rule_labels: true
  household_keys: []
)";

// Two people of one household share the phone and the e-mail address but differ in first
// name and birth date. Without the household class, the Phone and Email sessions learn "same
// household" (m(FirstName else) near the household share) and such pairs score near 1.
TEST(MatcherProbabilisticTest, HouseholdsSharingPhoneAndEmailAreNotMatches) {
  const Population population = MakeSharedPhoneHouseholds();
  std::unique_ptr<Matched> mp = Match(Config(kSharedPhoneConfig), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const FsModel& model = *mp->matcher->model();
  EXPECT_LT(Comparison(model, "FirstName").levels[2].m, 0.05);
  EXPECT_LT(Comparison(model, "Dob").levels[1].m, 0.05);
  const Table& t = *population.table;
  auto probability = [&](size_t a, size_t b) {
    return mp->matcher->Explain(static_cast<RecordId>(a), static_cast<RecordId>(b)).match_probability;
  };
  int household_pairs = 0, duplicates = 0;
  for (size_t a = 0; a < t.num_rows(); ++a) {
    for (size_t b = a + 1; b < t.num_rows() && t.column(4).StringAt(b) == t.column(4).StringAt(a); ++b) {
      const bool same_first = t.column(1).StringAt(a) == t.column(1).StringAt(b);
      if (population.person_of[a] == population.person_of[b]) {
        ++duplicates;
        EXPECT_GT(probability(a, b), 0.95) << t.column(1).StringAt(a) << " vs " << t.column(1).StringAt(b);
      } else if (!same_first && t.column(3).StringAt(a) != t.column(3).StringAt(b)) {
        ++household_pairs;
        EXPECT_LT(probability(a, b), 0.5) << t.column(1).StringAt(a) << " vs " << t.column(1).StringAt(b);
      }
    }
  }
  EXPECT_GT(duplicates, 500);
  EXPECT_GT(household_pairs, 1000);
  // Switched off, the sessions learn the household.
  UnifyConfig off = Config(kSharedPhoneConfig);
  off.probabilistic.household_class = false;
  off.probabilistic.rule_labels = false;
  mp = Match(off, population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  EXPECT_GT(Comparison(*mp->matcher->model(), "FirstName").levels[2].m, 0.2);
}

// The default: no training option, the household component of the non-matches fitted on the
// random pairs for the household keys (here Phone and Email, and Surname, which the households
// share too). Counted once, the shared phone and e-mail no longer outweigh a different first
// name and birth date, although the sessions still learn m(FirstName else) from the households.
TEST(MatcherProbabilisticTest, HouseholdKeysScoreTheSharedPhoneAndEmailOnce) {
  const Population population = MakeSharedPhoneHouseholds();
  std::string yaml = kSharedPhoneConfig;
  yaml = yaml.substr(0, yaml.find("  household_class: true")) + "  household_keys: [Surname, Phone, Email]\n";
  std::unique_ptr<Matched> mp = Match(Config(yaml), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const FsModel& model = *mp->matcher->model();
  EXPECT_TRUE(model.household.active());
  EXPECT_GT(Comparison(model, "FirstName").levels[2].m, 0.2);  // the sessions still learn households
  const Table& t = *population.table;
  auto probability = [&](size_t a, size_t b) {
    return mp->matcher->Explain(static_cast<RecordId>(a), static_cast<RecordId>(b)).match_probability;
  };
  int household_pairs = 0, duplicates = 0, duplicates_found = 0;
  for (size_t a = 0; a < t.num_rows(); ++a) {
    for (size_t b = a + 1; b < t.num_rows() && t.column(4).StringAt(b) == t.column(4).StringAt(a); ++b) {
      const bool same_first = t.column(1).StringAt(a) == t.column(1).StringAt(b);
      if (population.person_of[a] == population.person_of[b]) {
        ++duplicates;
        duplicates_found += probability(a, b) >= 0.95 ? 1 : 0;
      } else if (!same_first && t.column(3).StringAt(a) != t.column(3).StringAt(b)) {
        ++household_pairs;
        EXPECT_LT(probability(a, b), 0.5) << t.column(1).StringAt(a) << " vs " << t.column(1).StringAt(b);
      }
    }
  }
  EXPECT_GT(household_pairs, 1000);
  EXPECT_GT(duplicates, 500);
  EXPECT_GT(duplicates_found, duplicates * 97 / 100);
  // Without the component (as before it existed) the same configuration merges households.
  UnifyConfig off = Config(yaml);
  off.probabilistic.household_keys.clear();
  mp = Match(off, population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  EXPECT_FALSE(mp->matcher->model()->household.active());
  int merged = 0;
  for (size_t a = 0; a < t.num_rows(); ++a) {
    for (size_t b = a + 1; b < t.num_rows() && t.column(4).StringAt(b) == t.column(4).StringAt(a); ++b) {
      if (population.person_of[a] != population.person_of[b] &&
          t.column(1).StringAt(a) != t.column(1).StringAt(b) && t.column(3).StringAt(a) != t.column(3).StringAt(b)) {
        merged += mp->matcher->Explain(static_cast<RecordId>(a), static_cast<RecordId>(b)).match_probability >= 0.5;
      }
    }
  }
  EXPECT_GT(merged, household_pairs / 2);
}

// probabilistic.rule_labels: the prior rules' pairs estimate m of the comparisons the rule does
// not use (Phone, Email), not of those it does (FirstName, Surname, Dob).
TEST(MatcherProbabilisticTest, PriorRulePairsAreLabelledMatchesForTheOtherComparisons) {
  const Population population = MakeSharedPhoneHouseholds();
  std::unique_ptr<Matched> mp = Match(Config(kSharedPhoneConfig), population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  const FsModel& model = *mp->matcher->model();
  const std::string labels = "labels(SameNameAndBirthDate)";
  auto trained_by = [&](const std::string& name) {
    const auto& t = Comparison(model, name).trained_by;
    return std::find(t.begin(), t.end(), labels) != t.end();
  };
  EXPECT_TRUE(trained_by("Phone"));
  EXPECT_TRUE(trained_by("Email"));
  EXPECT_FALSE(trained_by("FirstName"));
  EXPECT_FALSE(trained_by("Surname"));
  EXPECT_FALSE(trained_by("Dob"));
  const FsSessionInfo& session = model.sessions.back();
  EXPECT_EQ(session.name, labels);
  EXPECT_EQ(session.fixed, (std::vector<std::string>{"FirstName", "Surname", "Dob"}));
  EXPECT_EQ(session.labelled_pairs, mp->matcher->stats().prior_rules[0].pairs);
  // Every duplicate without a typo shares its phone: m(Phone exact) from the labels is 1.
  EXPECT_GT(Comparison(model, "Phone").levels[0].m, 0.99);

  std::string yaml = kSharedPhoneConfig;
  yaml.replace(yaml.find("rule_labels: true"), 17, "rule_labels: false");
  UnifyConfig config = Config(yaml);
  EXPECT_FALSE(config.probabilistic.rule_labels);
  mp = Match(config, population);
  ASSERT_TRUE(mp->status.ok()) << mp->status.ToString();
  for (const FsSessionInfo& s : mp->matcher->model()->sessions) EXPECT_NE(s.name, labels);
  EXPECT_TRUE(Config(kSharedPhoneConfig).probabilistic.household_class);
  yaml = kConfig;  // both are off by default
  EXPECT_FALSE(Config(yaml).probabilistic.household_class);
  EXPECT_FALSE(Config(yaml).probabilistic.rule_labels);
  yaml += "  household_class: maybe\n";
  EXPECT_FALSE(ParseUnifyConfig(YAML::Load(yaml), "test.yaml").ok());
}

}  // namespace
}  // namespace cdp
