#include "insight/suggest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "common/datetime.h"
#include "engine/entity_by_customer.h"
#include "segment/segment_evaluator.h"
#include "table/column.h"

namespace cdp {
namespace {

constexpr int32_t kAsOf = 20000;  // 2024-10-04

// Customers with Income (Customer, 3% missing), LoyaltyTier and State
// (Customer), DateOfBirth (Customer, as "years since"), Visits and
// LifetimeSpend (Customer_Measure), ChurnScore (Prediction_Churn) and a
// categorical Churned (Customer). The spend and the churn follow `spend` and
// `churn` of the customer's row.
struct Person {
  double income;
  int tier;   // 0 Bronze, 1 Silver, 2 Gold
  int state;  // 0..4
  int32_t birth_day;
  int64_t visits;
  double churn_score;
};

struct Data {
  std::vector<Person> people;
  std::vector<double> spend;
  std::vector<int> churned;  // -1 missing, 0 no, 1 yes
};

const char* kTiers[] = {"Bronze", "Silver", "Gold"};
const char* kStates[] = {"CA", "NY", "TX", "WA", "FL"};

std::vector<Person> MakePeople(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<Person> out;
  for (int i = 0; i < n; ++i) {
    Person p;
    p.income = unit(rng) < 0.03 ? std::nan("") : std::round(20000 + 180000 * unit(rng));
    const double t = unit(rng);
    p.tier = t < 0.5 ? 0 : t < 0.8 ? 1 : 2;
    p.state = static_cast<int>(unit(rng) * 5);
    p.birth_day = kAsOf - static_cast<int32_t>(365.25 * 18 + unit(rng) * 365.25 * 62);
    p.visits = static_cast<int64_t>(unit(rng) * 20);
    p.churn_score = std::round(unit(rng) * 1000) / 1000;
    out.push_back(p);
  }
  return out;
}

CustomerAttributes ToAttributes(const Data& d) {
  CustomerAttributes a;
  a.customers = static_cast<int64_t>(d.people.size());
  CustomerAttribute income{.name = "Income", .entity = "Customer", .field = "Income"};
  CustomerAttribute tier{.name = "LoyaltyTier", .entity = "Customer", .field = "LoyaltyTier",
                         .kind = AttributeKind::kCategorical};
  tier.categories = {"Bronze", "Silver", "Gold"};
  CustomerAttribute state{.name = "State", .entity = "Customer", .field = "State", .kind = AttributeKind::kCategorical};
  state.categories = {"CA", "NY", "TX", "WA", "FL"};
  CustomerAttribute age{.name = "years since DateOfBirth", .entity = "Customer", .field = "DateOfBirth"};
  age.is_date = true;
  CustomerAttribute visits{.name = "Visits", .entity = "Customer_Measure", .field = "Visits"};
  CustomerAttribute spend{.name = "LifetimeSpend", .entity = "Customer_Measure", .field = "LifetimeSpend"};
  CustomerAttribute churn{.name = "ChurnScore", .entity = "Prediction_Churn", .field = "ChurnScore"};
  CustomerAttribute churned{.name = "Churned", .entity = "Customer", .field = "Churned",
                            .kind = AttributeKind::kCategorical};
  churned.categories = {"no", "yes"};
  for (size_t i = 0; i < d.people.size(); ++i) {
    const Person& p = d.people[i];
    income.numbers.push_back(p.income);
    tier.codes.push_back(p.tier);
    state.codes.push_back(p.state);
    age.numbers.push_back((static_cast<double>(kAsOf) - p.birth_day) / 365.25);
    visits.numbers.push_back(static_cast<double>(p.visits));
    spend.numbers.push_back(d.spend.empty() ? std::nan("") : d.spend[i]);
    churn.numbers.push_back(p.churn_score);
    churned.codes.push_back(d.churned.empty() ? -1 : d.churned[i]);
  }
  a.attributes = {income, tier, state, age, visits, spend, churn, churned};
  return a;
}

// The segment evaluator's members for `def` over tables holding the same data.
CustomerSet Evaluate(const SegmentDefinition& def, const Data& d) {
  Table customer(Schema({{"CustomerId", DataType::kString, {}},
                         {"Income", DataType::kDouble, {}},
                         {"LoyaltyTier", DataType::kString, {}},
                         {"State", DataType::kString, {}},
                         {"DateOfBirth", DataType::kDate, {}},
                         {"Churned", DataType::kString, {}}}));
  Table measure(Schema({{"Visits", DataType::kInt64, {}}, {"LifetimeSpend", DataType::kDouble, {}}}));
  auto churn = std::make_shared<Table>(Schema({{"CustomerId", DataType::kString, {}}, {"ChurnScore", DataType::kDouble, {}}}));
  std::vector<int64_t> customer_of_row;
  for (size_t i = 0; i < d.people.size(); ++i) {
    const Person& p = d.people[i];
    customer.mutable_column(0).AppendString("C" + std::to_string(i));
    if (std::isnan(p.income)) {
      customer.mutable_column(1).AppendNull();
    } else {
      customer.mutable_column(1).AppendDouble(p.income);
    }
    customer.mutable_column(2).AppendString(kTiers[p.tier]);
    customer.mutable_column(3).AppendString(kStates[p.state]);
    customer.mutable_column(4).AppendDate(p.birth_day);
    if (d.churned.empty() || d.churned[i] < 0) {
      customer.mutable_column(5).AppendNull();
    } else {
      customer.mutable_column(5).AppendString(d.churned[i] ? "yes" : "no");
    }
    customer.FinishRow();
    measure.mutable_column(0).AppendInt64(p.visits);
    if (d.spend.empty() || std::isnan(d.spend[i])) {
      measure.mutable_column(1).AppendNull();
    } else {
      measure.mutable_column(1).AppendDouble(d.spend[i]);
    }
    measure.FinishRow();
    churn->mutable_column(0).AppendString("C" + std::to_string(i));
    churn->mutable_column(1).AppendDouble(p.churn_score);
    churn->FinishRow();
    customer_of_row.push_back(static_cast<int64_t>(i));
  }
  EntityByCustomer by = EntityByCustomer::Build(churn, customer_of_row, d.people.size());
  SegmentData data;
  data.customer = &customer;
  data.customer_measure = &measure;
  data.related["Prediction_Churn"] = &by;
  SegmentEvalOptions eo;
  eo.run_date = kAsOf;
  eo.threads = 1;
  auto r = EvaluateSegment(def, data, eo);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << SegmentToJson(def);
  return r.ok() ? r->members : CustomerSet();
}

void ExpectDefinitionsExact(const SuggestResult& r, const Data& d) {
  for (const Suggestion& s : r.suggestions) {
    EXPECT_EQ(static_cast<int64_t>(s.members.Count()), s.size) << s.rules_text;
    EXPECT_TRUE(Evaluate(s.definition, d) == s.members) << s.rules_text << "\n" << SegmentToJson(s.definition);
  }
}

// Spend ~ 100 x lognormal(0, 0.5), three times as much for Income >= 90,000 and Gold.
Data PlantedSpend(int n, uint64_t seed) {
  Data d;
  d.people = MakePeople(n, seed);
  std::mt19937_64 rng(seed + 1);
  std::lognormal_distribution<double> base(0, 0.5);
  for (const Person& p : d.people) {
    const bool planted = !std::isnan(p.income) && p.income >= 90000 && p.tier == 2;
    d.spend.push_back(std::round(100 * base(rng) * (planted ? 3 : 1) * 100) / 100);
  }
  return d;
}

TEST(SuggestTest, RecoversAPlantedSubgroupAsTheTopSuggestion) {
  Data d = PlantedSpend(4000, 21);
  SuggestOptions o;
  o.target = "LifetimeSpend";
  o.as_of_day = kAsOf;
  auto r = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->suggestions.empty());
  const Suggestion& top = r->suggestions[0];
  EXPECT_EQ(top.rules_text, "Income >= 90,000 and LoyaltyTier is Gold");
  ASSERT_EQ(top.conditions.size(), 2u);
  EXPECT_EQ(top.conditions[0].op, ConditionOp::kGreaterEqual);
  EXPECT_EQ(top.conditions[0].threshold, 90000);
  EXPECT_EQ(top.conditions[1].op, ConditionOp::kEquals);
  EXPECT_EQ(top.conditions[1].categories, std::vector<std::string>{"Gold"});
  int64_t planted = 0;
  for (const Person& p : d.people) planted += !std::isnan(p.income) && p.income >= 90000 && p.tier == 2;
  EXPECT_EQ(top.size, planted);
  EXPECT_GT(top.lift, 2.0);
  EXPECT_LT(top.adjusted_p_value, 1e-6);
  EXPECT_EQ(top.adjusted_p_value, std::min(1.0, top.p_value * static_cast<double>(r->tests)));
  EXPECT_EQ(top.definition.name, "Suggested_LifetimeSpend_1");
  EXPECT_EQ(top.definition.rules.size(), 1u);
  ExpectDefinitionsExact(*r, d);
  // Every suggestion meets the size, lift and significance asked for.
  for (const Suggestion& s : r->suggestions) {
    EXPECT_GE(s.size, 40);  // 1% of 4,000
    EXPECT_GE(s.lift, 1.2);
    EXPECT_LE(s.adjusted_p_value, 0.05);
  }
  auto j = ToJson(*r);
  EXPECT_EQ(j["suggestions"][0]["rules_text"], top.rules_text);
  EXPECT_EQ(j["suggestions"][0]["definition"]["rules"][0]["conditions"][0]["op"], "greater_equal");
}

TEST(SuggestTest, NothingIsSuggestedOnNoise) {
  for (uint64_t seed : {31, 32}) {
    Data d;
    d.people = MakePeople(4000, seed);
    std::mt19937_64 rng(seed + 7);
    std::lognormal_distribution<double> base(0, 0.5);
    for (size_t i = 0; i < d.people.size(); ++i) d.spend.push_back(100 * base(rng));
    SuggestOptions o;
    o.target = "LifetimeSpend";
    o.min_lift = 1;  // any significant difference
    o.as_of_day = kAsOf;
    auto r = FindSuggestedSegments(ToAttributes(d), o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->tests, 100);
    EXPECT_TRUE(r->suggestions.empty()) << r->suggestions[0].rules_text << " p " << r->suggestions[0].p_value;
  }
}

TEST(SuggestTest, CategoricalTargetAndAnotherEntity) {
  // Churned = yes for 60% of TX customers with ChurnScore >= 0.5, 10% of others.
  Data d;
  d.people = MakePeople(4000, 41);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0, 1);
  for (const Person& p : d.people) {
    const bool planted = p.state == 2 && p.churn_score >= 0.5;
    d.churned.push_back(unit(rng) < 0.02 ? -1 : unit(rng) < (planted ? 0.6 : 0.1) ? 1 : 0);
  }
  SuggestOptions o;
  o.target = "Churned";
  o.value = "yes";
  o.as_of_day = kAsOf;
  auto r = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->suggestions.empty());
  EXPECT_EQ(r->suggestions[0].rules_text, "State is TX and ChurnScore >= 0.5");
  EXPECT_EQ(r->kind, AttributeKind::kCategorical);
  // ChurnScore is on Prediction_Churn: an intersect rule.
  const SegmentDefinition& def = r->suggestions[0].definition;
  ASSERT_EQ(def.rules.size(), 2u);
  EXPECT_EQ(def.rules[1].entity, "Prediction_Churn");
  EXPECT_EQ(def.rules[1].combine, SetOperator::kIntersect);
  ExpectDefinitionsExact(*r, d);
  EXPECT_EQ(ToJson(*r)["suggestions"][0].contains("target_share"), true);
}

TEST(SuggestTest, DateAttributesBecomeDateRules) {
  // Customers 60 or older spend three times as much.
  Data d;
  d.people = MakePeople(4000, 51);
  std::mt19937_64 rng(52);
  std::lognormal_distribution<double> base(0, 0.5);
  for (const Person& p : d.people) {
    const double years = (static_cast<double>(kAsOf) - p.birth_day) / 365.25;
    d.spend.push_back(100 * base(rng) * (years >= 60 ? 3 : 1));
  }
  SuggestOptions o;
  o.target = "LifetimeSpend";
  o.as_of_day = kAsOf;
  auto r = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->suggestions.empty());
  const Suggestion& top = r->suggestions[0];
  ASSERT_EQ(top.conditions.size(), 1u) << top.rules_text;
  EXPECT_EQ(top.conditions[0].op, ConditionOp::kOnOrBefore);
  EXPECT_EQ(top.conditions[0].threshold, 60);
  EXPECT_EQ(top.conditions[0].day, static_cast<int32_t>(std::floor(kAsOf - 365.25 * 60)));
  EXPECT_EQ(top.rules_text, "DateOfBirth on or before " + FormatDate(top.conditions[0].day) + " (60+ years)");
  ExpectDefinitionsExact(*r, d);

  // Without as_of_day the date attribute is left out, and said so.
  o.as_of_day = 0;
  r = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->not_used.empty());
  EXPECT_NE(r->not_used[0].find("years since DateOfBirth"), std::string::npos);
  for (const Suggestion& s : r->suggestions) {
    for (const auto& c : s.conditions) EXPECT_NE(c.field, "DateOfBirth");
  }
}

TEST(SuggestTest, BelowDirectionFindsLowGroups) {
  // Customers with fewer than 5 visits spend a third.
  Data d;
  d.people = MakePeople(4000, 61);
  std::mt19937_64 rng(62);
  std::lognormal_distribution<double> base(0, 0.5);
  for (const Person& p : d.people) d.spend.push_back(100 * base(rng) * (p.visits < 5 ? 1.0 / 3 : 1));
  SuggestOptions o;
  o.target = "LifetimeSpend";
  o.direction = SuggestDirection::kBelow;
  o.as_of_day = kAsOf;
  auto r = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->suggestions.empty());
  EXPECT_EQ(r->suggestions[0].rules_text, "Visits < 5");
  EXPECT_LT(r->suggestions[0].lift, 1 / 1.2);
  ExpectDefinitionsExact(*r, d);
}

TEST(SuggestTest, OptionsAndSizeLimits) {
  Data d = PlantedSpend(2000, 71);
  const CustomerAttributes a = ToAttributes(d);
  SuggestOptions o;
  o.target = "LifetimeSpend";
  o.as_of_day = kAsOf;
  o.max_suggestions = 1;
  o.min_share = 0.2;  // larger than the planted group (~12%)
  auto r = FindSuggestedSegments(a, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_LE(r->suggestions.size(), 1u);
  for (const Suggestion& s : r->suggestions) EXPECT_GE(s.size, 400);

  o = SuggestOptions{};
  o.target = "LifetimeSpend";
  o.max_conditions = 1;
  r = FindSuggestedSegments(a, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Suggestion& s : r->suggestions) EXPECT_EQ(s.conditions.size(), 1u);

  o.exclude = {"LoyaltyTier", "Customer_Measure.Visits"};
  r = FindSuggestedSegments(a, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Suggestion& s : r->suggestions) {
    for (const auto& c : s.conditions) {
      EXPECT_NE(c.attribute, "LoyaltyTier");
      EXPECT_NE(c.attribute, "Visits");
    }
  }
}

TEST(SuggestTest, DeterministicAndNonOverlapping) {
  Data d = PlantedSpend(3000, 81);
  SuggestOptions o;
  o.target = "LifetimeSpend";
  o.as_of_day = kAsOf;
  auto a = FindSuggestedSegments(ToAttributes(d), o);
  auto b = FindSuggestedSegments(ToAttributes(d), o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(ToJson(*a), ToJson(*b));
  // The same result on 1 thread and on 3 (columns, polishing and the tests
  // run in parallel; each candidate is computed on its own).
  for (int threads : {1, 3}) {
    o.threads = threads;
    auto c = FindSuggestedSegments(ToAttributes(d), o);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(ToJson(*a), ToJson(*c)) << threads << " threads";
  }
  o.threads = 0;
  for (size_t i = 0; i < a->suggestions.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      const auto& x = a->suggestions[i].members;
      const auto& y = a->suggestions[k].members;
      EXPECT_LE(static_cast<double>(x.IntersectionCount(y)), 0.5 * std::min(x.Count(), y.Count()));
    }
  }
}

TEST(SuggestTest, BadOptionsAndTargetsAreRefused) {
  Data d = PlantedSpend(300, 91);
  d.churned.assign(d.people.size(), 0);
  d.churned[0] = 1;
  const CustomerAttributes a = ToAttributes(d);
  auto refused = [&](SuggestOptions o, const std::string& word, StatusCode code = StatusCode::kInvalidArgument) {
    auto r = FindSuggestedSegments(a, o);
    ASSERT_FALSE(r.ok()) << word;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(word), std::string::npos) << r.status().ToString();
  };
  SuggestOptions o;
  refused(o, "target");
  o.target = "Shoe size";
  refused(o, "Shoe size");
  o.target = "LifetimeSpend";
  o.min_lift = 0.5;
  refused(o, "min_lift");
  o = {};
  o.target = "LifetimeSpend";
  o.min_share = 0;
  refused(o, "min_share");
  o = {};
  o.target = "LifetimeSpend";
  o.max_conditions = 6;
  refused(o, "max_conditions");
  o = {};
  o.target = "LifetimeSpend";
  o.beam_width = 0;
  refused(o, "beam_width");
  o = {};
  o.target = "LifetimeSpend";
  o.cut_points = 100;
  refused(o, "cut_points");
  o = {};
  o.target = "LifetimeSpend";
  o.alpha = 0;
  refused(o, "alpha");
  o = {};
  o.target = "LifetimeSpend";
  o.threads = -1;
  refused(o, "threads");
  o = {};
  o.target = "LifetimeSpend";
  o.exclude = {"Nope"};
  refused(o, "Nope");
  o = {};
  o.target = "Churned";
  refused(o, "value");
  o.value = "maybe";
  refused(o, "maybe");
  o = {};
  o.target = "LifetimeSpend";
  o.min_size = 200;  // 300 customers < 2 x 200
  refused(o, "2 x min_size", StatusCode::kFailedPrecondition);

  CustomerAttributes many = a;
  CustomerAttribute cat{.name = "Zip", .entity = "Customer", .field = "Zip", .kind = AttributeKind::kCategorical};
  for (int i = 0; i < 11; ++i) cat.categories.push_back("Z" + std::to_string(i));
  for (int64_t i = 0; i < many.customers; ++i) cat.codes.push_back(static_cast<int32_t>(i % 11));
  many.attributes.push_back(cat);
  o = {};
  o.target = "Zip";
  o.value = "Z1";
  auto r = FindSuggestedSegments(many, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at most 10"), std::string::npos);
}

}  // namespace
}  // namespace cdp
