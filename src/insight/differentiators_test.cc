#include "insight/differentiators.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace cdp {
namespace {

CustomerAttribute NumericAttr(std::string name, std::vector<double> v) {
  CustomerAttribute a;
  a.name = std::move(name);
  a.entity = "Customer";
  a.field = a.name;
  a.kind = AttributeKind::kNumeric;
  a.numbers = std::move(v);
  return a;
}

CustomerAttribute CategoricalAttr(std::string name, std::vector<std::string> categories, std::vector<int32_t> codes) {
  CustomerAttribute a;
  a.name = std::move(name);
  a.entity = "Customer";
  a.field = a.name;
  a.kind = AttributeKind::kCategorical;
  a.categories = std::move(categories);
  a.codes = std::move(codes);
  return a;
}

const AttributeDifference& Named(const DifferentiatorsResult& r, const std::string& name) {
  for (const auto& a : r.attributes) {
    if (a.attribute == name) return a;
  }
  ADD_FAILURE() << "no attribute " << name;
  return r.attributes.front();
}

// Known values, computed with scipy 1.10 (Debian's /usr/bin/python3):
//   python3 -c "from scipy import stats; print(stats.ks_2samp([1,2,3,4,5,5.5],[3,4,5,6,7,8,9]).statistic)"
//   -> 0.5714285714285714
TEST(DifferentiatorStatistics, KolmogorovSmirnovDKnownValue) {
  EXPECT_NEAR(KolmogorovSmirnovD({1, 2, 3, 4, 5, 5.5}, {3, 4, 5, 6, 7, 8, 9}), 0.5714285714285714, 1e-12);
  EXPECT_EQ(KolmogorovSmirnovD({1, 2}, {1, 2}), 0.0);
  EXPECT_EQ(KolmogorovSmirnovD({1, 2}, {3, 4}), 1.0);
}

// python3 -c "from scipy import stats; [print(x, stats.kstwobign.sf(x)) for x in [0.3,0.5,1.0,1.36,2.0]]"
// and, for n=40, m=60, d=0.3:
// python3 -c "import numpy as np; from scipy import stats; print(stats.kstwobign.sf(np.sqrt(40*60/100)*0.3))"
TEST(DifferentiatorStatistics, KolmogorovSmirnovPValueMatchesScipyKstwobign) {
  // n = m = 8: sqrt(n m / (n + m)) = 2, so x = 2 d.
  EXPECT_NEAR(KolmogorovSmirnovPValue(0.15, 8, 8), 0.9999906941986655, 1e-10);
  EXPECT_NEAR(KolmogorovSmirnovPValue(0.25, 8, 8), 0.9639452436648751, 1e-10);
  EXPECT_NEAR(KolmogorovSmirnovPValue(0.5, 8, 8), 0.26999967167735456, 1e-10);
  EXPECT_NEAR(KolmogorovSmirnovPValue(0.68, 8, 8), 0.049485876755377876, 1e-10);
  EXPECT_NEAR(KolmogorovSmirnovPValue(1.0, 8, 8), 0.0006709252557796953, 1e-12);
  EXPECT_NEAR(KolmogorovSmirnovPValue(0.3, 40, 60), 0.026599704506935214, 1e-10);
  EXPECT_EQ(KolmogorovSmirnovPValue(0.3, 0, 60), 1.0);
  EXPECT_EQ(KolmogorovSmirnovPValue(0.0, 10, 60), 1.0);
}

// python3 -c "from scipy.spatial import distance; print(distance.jensenshannon([10,20,30],[30,20,10],base=2)**2)"
// -> 0.12581458369391144
TEST(DifferentiatorStatistics, JensenShannonKnownValue) {
  EXPECT_NEAR(JensenShannonDivergence({10, 20, 30}, {30, 20, 10}), 0.12581458369391144, 1e-12);
  EXPECT_NEAR(JensenShannonDivergence({1, 0}, {0, 1}), 1.0, 1e-12);
  EXPECT_EQ(JensenShannonDivergence({1, 2}, {2, 4}), 0.0);
  EXPECT_EQ(JensenShannonDivergence({0, 0}, {2, 4}), 0.0);
}

// python3 -c "from scipy import stats; print(stats.chi2_contingency([[10,20,30],[30,20,10]],correction=False))"
// -> statistic 20.0, p 4.539992976248486e-05, dof 2
TEST(DifferentiatorStatistics, ChiSquareKnownValue) {
  ChiSquareTest t = ChiSquareIndependence({10, 20, 30}, {30, 20, 10});
  EXPECT_NEAR(t.statistic, 20.0, 1e-12);
  EXPECT_EQ(t.dof, 2);
  EXPECT_NEAR(t.p_value, 4.539992976248486e-05, 1e-15);
  // A column empty on both sides is dropped.
  ChiSquareTest u = ChiSquareIndependence({10, 0, 20, 30}, {30, 0, 20, 10});
  EXPECT_NEAR(u.statistic, 20.0, 1e-12);
  EXPECT_EQ(u.dof, 2);
  ChiSquareTest none = ChiSquareIndependence({10, 0}, {30, 0});
  EXPECT_EQ(none.dof, 0);
  EXPECT_EQ(none.p_value, 1.0);
}

TEST(Differentiators, SummariesReadLikeSentences) {
  // Customers 0..9 in the segment (income 92,400, 4 of 10 Gold); 10..99 the rest (61,300; 9 of 90 Gold).
  std::vector<double> income(100, 61300);
  std::vector<int32_t> tier(100, 1);
  for (int i = 0; i < 10; ++i) income[static_cast<size_t>(i)] = 92400;
  for (int i = 0; i < 4; ++i) tier[static_cast<size_t>(i)] = 0;
  for (int i = 10; i < 19; ++i) tier[static_cast<size_t>(i)] = 0;
  CustomerAttributes attrs;
  attrs.customers = 100;
  attrs.attributes = {NumericAttr("Income", income), CategoricalAttr("LoyaltyTier", {"Gold", "Silver"}, tier)};
  auto r = ComputeDifferentiators(attrs, CustomerSet::Range(0, 10), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->base, "rest of customers");
  EXPECT_EQ(r->segment_members, 10u);
  EXPECT_EQ(r->base_members, 90u);
  EXPECT_EQ(r->base_overlap, 0u);
  const auto& inc = Named(*r, "Income");
  EXPECT_EQ(inc.summary, "Income: mean 92,400 vs 61,300 (+51%)");
  EXPECT_DOUBLE_EQ(inc.score, 1.0);
  EXPECT_DOUBLE_EQ(inc.ks_d, 1.0);
  const auto& t = Named(*r, "LoyaltyTier");
  EXPECT_EQ(t.summary, "LoyaltyTier: Gold 40% vs 10%");
  EXPECT_NEAR(t.score, 0.3, 1e-12);  // total variation: (|0.4-0.1| + |0.6-0.9|) / 2
  EXPECT_EQ(r->attributes[0].attribute, "Income");
  // Two categories always tie on the gap: the one the segment has more of is named.
  attrs.attributes[1].categories = {"Silver", "Gold"};
  for (auto& code : attrs.attributes[1].codes) code = 1 - code;
  auto swapped = ComputeDifferentiators(attrs, CustomerSet::Range(0, 10), {});
  ASSERT_TRUE(swapped.ok());
  EXPECT_EQ(Named(*swapped, "LoyaltyTier").summary, "LoyaltyTier: Gold 40% vs 10%");
  const auto j = r->ToJson();
  EXPECT_EQ(j["attributes"][0]["kind"], "numeric");
  EXPECT_TRUE(j["attributes"][1].contains("chi_square_p_value"));
  EXPECT_FALSE(j["attributes"][1].contains("ks_d"));
}

TEST(Differentiators, BasesAllCustomersAndAnotherSegment) {
  std::vector<double> v(10);
  for (int i = 0; i < 10; ++i) v[static_cast<size_t>(i)] = i;
  CustomerAttributes attrs;
  attrs.customers = 10;
  attrs.attributes = {NumericAttr("V", v)};
  DifferentiatorOptions o;
  o.base = DifferentiatorBase::kAllCustomers;
  auto all = ComputeDifferentiators(attrs, CustomerSet::Range(0, 5), o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->base_members, 10u);
  EXPECT_EQ(all->base_overlap, 5u);
  EXPECT_DOUBLE_EQ(all->attributes[0].base_mean, 4.5);
  EXPECT_DOUBLE_EQ(all->attributes[0].ks_d, 0.5);
  o.base = DifferentiatorBase::kSegment;
  CustomerSet base = CustomerSet::Range(3, 8);
  o.base_segment = &base;
  o.base_name = "Newsletter";
  auto seg = ComputeDifferentiators(attrs, CustomerSet::Range(0, 5), o);
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ(seg->base, "Newsletter");
  EXPECT_EQ(seg->base_members, 5u);
  EXPECT_EQ(seg->base_overlap, 2u);
  EXPECT_DOUBLE_EQ(seg->attributes[0].base_mean, 5.0);
}

TEST(Differentiators, MissingValuesCountInTheScoreAndTheChart) {
  // Segment 0..9: all have a value 1; rest 10..19: half missing, the others 1.
  std::vector<double> v(20, 1.0);
  for (int i = 10; i < 20; i += 2) v[static_cast<size_t>(i)] = std::nan("");
  CustomerAttributes attrs;
  attrs.customers = 20;
  attrs.attributes = {NumericAttr("Email opens", v)};
  auto r = ComputeDifferentiators(attrs, CustomerSet::Range(0, 10), {});
  ASSERT_TRUE(r.ok());
  const auto& a = r->attributes[0];
  EXPECT_DOUBLE_EQ(a.ks_d, 0.0);   // present values are the same
  EXPECT_DOUBLE_EQ(a.score, 0.5);  // but half of the rest is missing
  EXPECT_DOUBLE_EQ(a.base_missing_share, 0.5);
  EXPECT_EQ(a.summary, "Email opens: missing 0% vs 50%");
  ASSERT_EQ(a.distribution.size(), 2u);  // value 1, (missing)
  EXPECT_EQ(a.distribution[1].label, "(missing)");
  EXPECT_EQ(a.distribution[1].base_count, 5u);
}

TEST(Differentiators, BadInputsAreInvalidArguments) {
  CustomerAttributes attrs;
  attrs.customers = 5;
  attrs.attributes = {NumericAttr("V", {1, 2, 3, 4, 5})};
  auto code = [](const StatusOr<DifferentiatorsResult>& r) { return r.status().code(); };
  auto msg = [](const StatusOr<DifferentiatorsResult>& r) { return r.status().message(); };
  EXPECT_EQ(code(ComputeDifferentiators(attrs, CustomerSet(), {})), StatusCode::kInvalidArgument);
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Range(0, 5), {})).find("base"), std::string::npos);
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1, 9}), {})).find("customer 9"), std::string::npos);
  DifferentiatorOptions o;
  o.base = DifferentiatorBase::kSegment;
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), o)).find("base_segment"), std::string::npos);
  o = {};
  o.attributes = {"Nope"};
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), o)).find("'Nope'"), std::string::npos);
  o = {};
  o.numeric_bins = 51;
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), o)).find("numeric_bins"), std::string::npos);
  o = {};
  o.top_categories = 0;
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), o)).find("top_categories"), std::string::npos);
  o = {};
  o.threads = -2;
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), o)).find("threads"), std::string::npos);
  attrs.attributes[0].numbers.pop_back();
  EXPECT_NE(msg(ComputeDifferentiators(attrs, CustomerSet::Of({1}), {})).find("4 values for 5"), std::string::npos);
}

// Naive statistics from the definitions, O(n m) where it is simplest.
double NaiveKs(const std::vector<double>& a, const std::vector<double>& b, double ma, double mb) {
  // Missing (ma, mb customers) as a value below every number; candidates: -inf and each value.
  std::vector<double> xs = {-INFINITY};
  xs.insert(xs.end(), a.begin(), a.end());
  xs.insert(xs.end(), b.begin(), b.end());
  double d = 0;
  for (double x : xs) {
    double ca = ma, cb = mb;
    for (double v : a) ca += v <= x;
    for (double v : b) cb += v <= x;
    d = std::max(d, std::fabs(ca / (a.size() + ma) - cb / (b.size() + mb)));
  }
  return d;
}

TEST(Differentiators, MatchesNaiveStatisticsOnRandomData) {
  for (uint32_t seed : {11u, 12u, 13u, 14u}) {
    std::mt19937 rng(seed);
    const int n = 400;
    std::normal_distribution<double> normal(50, 10);
    std::vector<double> num(n);
    std::vector<int32_t> cat(n);
    for (int i = 0; i < n; ++i) {
      num[static_cast<size_t>(i)] = rng() % 7 == 0 ? std::nan("") : std::round(normal(rng));  // ties, missing
      cat[static_cast<size_t>(i)] = static_cast<int32_t>(rng() % 6) - 1;                     // -1 missing
    }
    CustomerAttributes attrs;
    attrs.customers = n;
    attrs.attributes = {NumericAttr("Num", num), CategoricalAttr("Cat", {"a", "b", "c", "d", "e"}, cat)};
    std::set<uint32_t> seg_set, other_set;
    for (uint32_t c = 0; c < n; ++c) {
      if (rng() % 4 == 0) seg_set.insert(c);
      if (rng() % 3 == 0) other_set.insert(c);
    }
    const CustomerSet segment = CustomerSet::Of(std::vector<uint32_t>(seg_set.begin(), seg_set.end()));
    const CustomerSet other = CustomerSet::Of(std::vector<uint32_t>(other_set.begin(), other_set.end()));
    for (DifferentiatorBase base :
         {DifferentiatorBase::kRestOfCustomers, DifferentiatorBase::kAllCustomers, DifferentiatorBase::kSegment}) {
      DifferentiatorOptions o;
      o.base = base;
      o.base_segment = &other;
      o.threads = 2;
      auto r = ComputeDifferentiators(attrs, segment, o);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      std::vector<uint32_t> base_members;
      for (uint32_t c = 0; c < n; ++c) {
        const bool in = base == DifferentiatorBase::kAllCustomers     ? true
                        : base == DifferentiatorBase::kRestOfCustomers ? seg_set.count(c) == 0
                                                                       : other_set.count(c) == 1;
        if (in) base_members.push_back(c);
      }
      ASSERT_EQ(r->base_members, base_members.size());
      // Numeric.
      std::vector<double> a, b;
      for (uint32_t c : seg_set) {
        if (!std::isnan(num[c])) a.push_back(num[c]);
      }
      for (uint32_t c : base_members) {
        if (!std::isnan(num[c])) b.push_back(num[c]);
      }
      const double ma = static_cast<double>(seg_set.size() - a.size());
      const double mb = static_cast<double>(base_members.size() - b.size());
      const auto& rn = Named(*r, "Num");
      EXPECT_NEAR(rn.ks_d, NaiveKs(a, b, 0, 0), 1e-12) << seed;
      EXPECT_NEAR(rn.score, NaiveKs(a, b, ma, mb), 1e-12) << seed;
      double mean_a = 0, mean_b = 0;
      for (double v : a) mean_a += v / a.size();
      for (double v : b) mean_b += v / b.size();
      double ss = 0;
      for (double v : a) ss += (v - mean_a) * (v - mean_a);
      for (double v : b) ss += (v - mean_b) * (v - mean_b);
      EXPECT_NEAR(rn.segment_mean, mean_a, 1e-9);
      EXPECT_NEAR(rn.base_mean, mean_b, 1e-9);
      EXPECT_NEAR(rn.cohens_d, (mean_a - mean_b) / std::sqrt(ss / (a.size() + b.size() - 2)), 1e-9);
      uint64_t seg_in_chart = 0, base_in_chart = 0;
      double seg_share = 0, base_share = 0;
      for (const auto& k : rn.distribution) {
        seg_in_chart += k.segment_count;
        base_in_chart += k.base_count;
        seg_share += k.segment_share;
        base_share += k.base_share;
      }
      EXPECT_EQ(seg_in_chart, seg_set.size());
      EXPECT_EQ(base_in_chart, base_members.size());
      EXPECT_NEAR(seg_share, 1.0, 1e-9);
      EXPECT_NEAR(base_share, 1.0, 1e-9);
      // Categorical.
      std::map<int32_t, double> ca, cb;
      for (uint32_t c : seg_set) ca[cat[c]] += 1;
      for (uint32_t c : base_members) cb[cat[c]] += 1;
      const double ta = static_cast<double>(seg_set.size()), tb = static_cast<double>(base_members.size());
      double tv = 0;
      for (int32_t k = -1; k < 5; ++k) tv += std::fabs(ca[k] / ta - cb[k] / tb) / 2;
      double pa = 0, pb = 0;
      for (int32_t k = 0; k < 5; ++k) {
        pa += ca[k];
        pb += cb[k];
      }
      double js = 0, chi = 0;
      for (int32_t k = 0; k < 5; ++k) {
        const double p = ca[k] / pa, q = cb[k] / pb, m = (p + q) / 2;
        if (p > 0) js += 0.5 * p * std::log(p / m) / std::log(2.0);
        if (q > 0) js += 0.5 * q * std::log(q / m) / std::log(2.0);
        const double col = ca[k] + cb[k];
        if (col == 0) continue;
        const double ea = pa * col / (pa + pb), eb = pb * col / (pa + pb);
        chi += (ca[k] - ea) * (ca[k] - ea) / ea + (cb[k] - eb) * (cb[k] - eb) / eb;
      }
      const auto& rc = Named(*r, "Cat");
      EXPECT_NEAR(rc.score, tv, 1e-12) << seed;
      EXPECT_NEAR(rc.js_divergence, js, 1e-12) << seed;
      EXPECT_NEAR(rc.chi_square, chi, 1e-9) << seed;
      EXPECT_EQ(rc.chi_square_dof, 4);
      EXPECT_NEAR(rc.segment_missing_share, ca[-1] / ta, 1e-12);
      // Ranked highest score first.
      for (size_t i = 1; i < r->attributes.size(); ++i) {
        EXPECT_GE(r->attributes[i - 1].score, r->attributes[i].score);
      }
    }
  }
}

TEST(Differentiators, ResultDoesNotDependOnThreads) {
  std::mt19937 rng(31);
  CustomerAttributes attrs;
  attrs.customers = 500;
  for (int k = 0; k < 5; ++k) {
    std::vector<double> v(500);
    for (auto& x : v) x = static_cast<double>(rng() % 40);  // ties make equal scores likely
    attrs.attributes.push_back(NumericAttr("N" + std::to_string(k), v));
    std::vector<int32_t> codes(500);
    for (auto& x : codes) x = static_cast<int32_t>(rng() % 3);
    attrs.attributes.push_back(CategoricalAttr("C" + std::to_string(k), {"p", "q", "r"}, codes));
  }
  const CustomerSet segment = CustomerSet::Range(100, 220);
  DifferentiatorOptions one;
  one.threads = 1;
  DifferentiatorOptions four;
  four.threads = 4;
  auto a = ComputeDifferentiators(attrs, segment, one);
  auto b = ComputeDifferentiators(attrs, segment, four);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToJson().dump(), b->ToJson().dump());
}

TEST(Differentiators, PlantedDifferenceRanksFirst) {
  for (uint32_t seed : {21u, 22u, 23u}) {
    std::mt19937 rng(seed);
    const int n = 3000;
    std::normal_distribution<double> normal(0, 1);
    CustomerAttributes attrs;
    attrs.customers = n;
    std::vector<uint32_t> members;
    for (uint32_t c = 0; c < n; ++c) {
      if (rng() % 10 == 0) members.push_back(c);
    }
    const std::set<uint32_t> in(members.begin(), members.end());
    for (int k = 0; k < 6; ++k) {
      std::vector<double> v(n);
      for (auto& x : v) x = normal(rng);
      attrs.attributes.push_back(NumericAttr("Noise" + std::to_string(k), v));
    }
    for (int k = 0; k < 4; ++k) {
      std::vector<int32_t> codes(n);
      for (auto& x : codes) x = static_cast<int32_t>(rng() % 4);
      attrs.attributes.push_back(CategoricalAttr("NoiseCat" + std::to_string(k), {"w", "x", "y", "z"}, codes));
    }
    // Planted: the segment's members spend 1 SD more.
    std::vector<double> spend(n);
    for (uint32_t c = 0; c < n; ++c) spend[c] = normal(rng) + (in.count(c) ? 1.0 : 0.0);
    attrs.attributes.insert(attrs.attributes.begin() + 3, NumericAttr("Spend", spend));
    auto r = ComputeDifferentiators(attrs, CustomerSet::Of(members), {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->attributes[0].attribute, "Spend") << seed;
    EXPECT_GT(r->attributes[0].cohens_d, 0.7) << seed;
    EXPECT_LT(r->attributes[0].ks_p_value, 1e-6) << seed;
    EXPECT_LT(r->attributes[1].score, r->attributes[0].score / 2) << seed;
  }
}

}  // namespace
}  // namespace cdp
