#include "predict/clv.h"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdp {
namespace {

const std::string kCdnowDir = std::string(CDP_SOURCE_DIR) + "/../shared/data/cdnow/";

// Reads the CDNOW summary CSVs: ID, x, t_x, T[, zbar].
RfmSummary ReadSummary(const std::string& file) {
  RfmSummary s;
  std::ifstream in(kCdnowDir + file);
  EXPECT_TRUE(in.good()) << kCdnowDir + file;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string field;
    std::vector<double> v;
    while (std::getline(ss, field, ',')) v.push_back(std::stod(field));
    s.included.push_back(1);
    s.frequency.push_back(v.at(1));
    s.recency.push_back(v.at(2));
    s.age.push_back(v.at(3));
    s.monetary.push_back(v.size() > 4 ? v[4] : 0.0);
    s.first_day.push_back(0);
  }
  return s;
}

BgNbdParams Published() {
  BgNbdParams p;
  p.r = 0.243;
  p.alpha = 4.414;
  p.a = 0.793;
  p.b = 2.426;
  return p;
}

void ExpectWithinRelative(double actual, double expected, double tolerance, const char* name) {
  EXPECT_LE(std::abs(actual / expected - 1), tolerance) << name << " = " << actual << ", published " << expected;
}

TEST(BgNbdTest, CdnowSummaryGivesThePublishedParameters) {
  RfmSummary s = ReadSummary("cdnow_customers_summary.csv");
  ASSERT_EQ(s.size(), 2357u);
  auto fit = FitBgNbd(s);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  ExpectWithinRelative(fit->r, 0.243, 0.01, "r");
  ExpectWithinRelative(fit->alpha, 4.414, 0.01, "alpha");
  ExpectWithinRelative(fit->a, 0.793, 0.01, "a");
  ExpectWithinRelative(fit->b, 2.426, 0.01, "b");
  EXPECT_NEAR(fit->log_likelihood, -9582.4, 0.1);
  EXPECT_GT(fit->evaluations, 0);
  // The maximum: the published (rounded) parameters are not better.
  EXPECT_GE(fit->log_likelihood, BgNbdLogLikelihood(Published(), s));
}

TEST(GammaGammaTest, CdnowRepeatBuyersGiveThePublishedParameters) {
  RfmSummary s = ReadSummary("cdnow_customers_summary_with_transactions.csv");
  auto fit = FitGammaGamma(s);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->customers, 946);
  ExpectWithinRelative(fit->p, 6.25, 0.02, "p");
  ExpectWithinRelative(fit->q, 3.74, 0.02, "q");
  ExpectWithinRelative(fit->gamma, 15.44, 0.02, "gamma");
}

// Reference values: the textbook formulas (FHL 2005 eq. 7 and 10) evaluated
// with scipy.special.hyp2f1 at the published parameters.
TEST(BgNbdTest, ExpectationsMatchTheHypergeometricFormula) {
  BgNbdParams p = Published();
  struct Case {
    double t, x, tx, T, expected, alive;
  };
  const Case cases[] = {
      {39, 0, 0, 38.86, 0.19509805201125396, 1.0},
      {39, 2, 30.43, 38.86, 1.226028174767135, 0.726578570080673},
      {39, 1, 1.71, 38.86, 0.2031869870797511, 0.2121009853773791},
      {52, 26, 30.86, 31, 25.758195936483034, 0.968915649717525},  // the paper's customer 1516
      {39, 7, 29.43, 35.0, 4.369281948518567, 0.778977117406475},
      {1, 3, 10, 20, 0.0660388236434788, 0.5026268397756551},
      {200, 5, 30, 38, 9.095544118589109, 0.730353825292715},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(BgNbdExpectedTransactions(p, c.t, c.x, c.tx, c.T), c.expected, 1e-9 * c.expected)
        << "t=" << c.t << " x=" << c.x;
    EXPECT_NEAR(BgNbdProbabilityAlive(p, c.x, c.tx, c.T), c.alive, 1e-12) << "x=" << c.x;
  }
  const double new_customer[][2] = {{1, 0.05326789117165627},
                                    {10, 0.4324133622344203},
                                    {39, 1.1967231933207985},
                                    {78, 1.8605190579427455},
                                    {500, 4.887868155290883}};
  for (const auto& c : new_customer) {
    EXPECT_NEAR(BgNbdExpectedTransactionsNew(p, c[0]), c[1], 1e-9 * c[1]) << "t=" << c[0];
  }
}

// The quadrature over the dropout probability (the fallback) gives the same
// reference values, and wherever the series says it is well conditioned the
// two agree; where it is not, the public function still returns a finite
// positive value (parameters at the bounds of degenerate fits).
TEST(BgNbdTest, SeriesAndQuadratureAgree) {
  const double published[][7] = {// t, x, T, E[Y]/P(alive) from the scipy values above
                                 {39, 0, 38.86, 0.19509805201125396},
                                 {39, 2, 38.86, 1.226028174767135 / 0.726578570080673},
                                 {52, 26, 31, 25.758195936483034 / 0.968915649717525}};
  for (const auto& c : published) {
    double q = clv_internal::ConditionalQuadrature(0.243, 0.793, 2.426, c[1], c[0] / (4.414 + c[2]));
    EXPECT_NEAR(q, c[3], 1e-10 * c[3]) << "t=" << c[0] << " x=" << c[1];
  }
  // An ill-conditioned case (r = 500, a = 1748: the series' terms overflow),
  // against mpmath's hyp2f1 at 60 digits: 1.0013737836290784.
  BgNbdParams hard;
  hard.r = 500;
  hard.alpha = 0.5;
  hard.a = 1748;
  hard.b = 2.4;
  bool ok = true;
  clv_internal::ConditionalSeries(500, 1748, 2.4, 0, 39 / (38.5 + 39), -std::log1p(39 / 38.5), &ok);
  EXPECT_FALSE(ok);
  EXPECT_NEAR(BgNbdExpectedTransactions(hard, 39, 0, 0, 38), 1.0013737836290784, 1e-10);

  int series_used = 0, fallbacks = 0;
  for (double r : {0.05, 0.243, 500.0}) {
    for (double alpha : {0.5, 5000.0}) {
      for (double a : {0.05, 0.793, 1.0, 1748.0}) {
        for (double b : {0.0006, 2.4, 300.0}) {
          for (double x : {0.0, 7.0, 100.0}) {
            for (double t : {1.0, 520.0}) {
              const double T = 38, base = alpha + T;
              bool well = true;
              double s = clv_internal::ConditionalSeries(r, a, b, x, t / (base + t), -std::log1p(t / base), &well);
              double q = clv_internal::ConditionalQuadrature(r, a, b, x, t / base);
              BgNbdParams p;
              p.r = r;
              p.alpha = alpha;
              p.a = a;
              p.b = b;
              double e = BgNbdExpectedTransactions(p, t, x, x > 0 ? 30 : 0, T);
              EXPECT_TRUE(std::isfinite(e) && e > 0) << r << " " << alpha << " " << a << " " << b << " " << x;
              if (well) {
                ++series_used;
                EXPECT_NEAR(s, q, 1e-9 * q) << r << " " << alpha << " " << a << " " << b << " " << x << " " << t;
              } else {
                ++fallbacks;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(series_used, 300);
  EXPECT_GT(fallbacks, 0);
}

TEST(BgNbdTest, ProbabilityAliveIsOneWithoutRepeatPurchases) {
  BgNbdParams p = Published();
  EXPECT_EQ(BgNbdProbabilityAlive(p, 0, 0, 38.86), 1.0);
  EXPECT_EQ(BgNbdProbabilityAlive(p, 0, 0, 0), 1.0);
  EXPECT_EQ(BgNbdProbabilityAlive(p, 0, 0, 1e6), 1.0);
}

TEST(BgNbdTest, ExpectationsAreMonotonic) {
  BgNbdParams p = Published();
  double previous = 0;
  for (double t = 1; t <= 200; t += 7) {  // more time, more transactions
    double e = BgNbdExpectedTransactions(p, t, 3, 20, 38);
    EXPECT_GT(e, previous) << t;
    previous = e;
  }
  previous = 0;
  for (double tx = 1; tx <= 38; tx += 3) {  // a more recent last purchase: more alive, more to come
    double alive = BgNbdProbabilityAlive(p, 3, tx, 38);
    EXPECT_GT(alive, previous) << tx;
    previous = alive;
  }
  previous = 0;
  for (double x = 1; x <= 30; ++x) {  // more purchases with the last one at the end: more to come
    double e = BgNbdExpectedTransactions(p, 39, x, 38, 38);
    EXPECT_GT(e, previous) << x;
    previous = e;
  }
  previous = 0;
  for (double t = 1; t <= 500; t *= 2) {
    double e = BgNbdExpectedTransactionsNew(p, t);
    EXPECT_GT(e, previous) << t;
    previous = e;
  }
}

TEST(BgNbdTest, NoSingularityAtAEqualsOneAndNoOverflowForLargeX) {
  BgNbdParams p = Published();
  p.a = 1.0;
  double at_one = BgNbdExpectedTransactions(p, 39, 4, 30, 38);
  p.a = 1.0 + 1e-7;
  double near_one = BgNbdExpectedTransactions(p, 39, 4, 30, 38);
  EXPECT_TRUE(std::isfinite(at_one));
  EXPECT_NEAR(at_one, near_one, 1e-5 * at_one);
  p = Published();
  double big = BgNbdExpectedTransactions(p, 52, 5000, 5000, 5000);
  EXPECT_TRUE(std::isfinite(big));
  EXPECT_GT(big, 40);  // about one a unit: 52 units ahead
  EXPECT_LT(big, 60);
  EXPECT_TRUE(std::isfinite(BgNbdProbabilityAlive(p, 5000, 1, 1e6)));
  EXPECT_GE(BgNbdProbabilityAlive(p, 5000, 1, 1e6), 0.0);
}

TEST(GammaGammaTest, ExpectedSpendShrinksTowardThePopulationMean) {
  GammaGammaParams g;
  g.p = 6.25;
  g.q = 3.74;
  g.gamma = 15.44;
  const double population = g.p * g.gamma / (g.q - 1);
  EXPECT_DOUBLE_EQ(GammaGammaExpectedSpend(g, 0, 0), population);
  double one = GammaGammaExpectedSpend(g, 1, 100);
  double many = GammaGammaExpectedSpend(g, 50, 100);
  EXPECT_GT(one, population);
  EXPECT_LT(one, many);
  EXPECT_LT(many, 100);
}

TEST(BgNbdTest, RefusesMalformedSummaries) {
  RfmSummary s;
  s.included = {1, 1};
  s.frequency = {1, 0};
  s.recency = {1};
  s.age = {2, 2};
  s.monetary = {0, 0};
  auto fit = FitBgNbd(s);
  EXPECT_EQ(fit.status().code(), StatusCode::kInvalidArgument);
  s.recency = {3, 0};  // t_x > T
  fit = FitBgNbd(s);
  EXPECT_EQ(fit.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fit.status().message().find("recency"), std::string::npos) << fit.status().message();
  s.recency = {1, 0};
  s.frequency = {1.5, 0};
  EXPECT_EQ(FitBgNbd(s).status().code(), StatusCode::kInvalidArgument);
  s.frequency = {0, 0};  // nobody came back
  EXPECT_EQ(FitBgNbd(s).status().code(), StatusCode::kFailedPrecondition);
  s.included = {0, 0};
  EXPECT_EQ(FitBgNbd(s).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(FitGammaGamma(s).status().code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// SummarizeRfm on a log with known structure.
TEST(RfmTest, SameDayTransactionsMergeAndTheCutOffExcludesLaterRows) {
  TransactionLogBuilder b(4);
  b.AddTransaction(0, 10, 5.0, "p");
  b.AddTransaction(0, 10, 7.0, "q");  // same day as the first: not a repeat
  b.AddTransaction(0, 17, 3.0, "p");
  b.AddTransaction(0, 17, 2.0, "p");  // same day: one repeat of value 5
  b.AddTransaction(0, 24, std::nan(""), "p");  // a repeat day without amount
  b.AddTransaction(0, 31, 100.0, "p");  // on the cut-off day: excluded
  b.AddTransaction(2, 40, 9.0, "p");    // only after the cut-off
  b.AddTransaction(3, 12, 4.0, "p");
  b.AddTransaction(3, 12, 6.0, "p");
  auto log = std::move(b).Build();
  ASSERT_TRUE(log.ok());
  RfmSummary s = SummarizeRfm(*log, 31, 7.0);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.included, (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(s.frequency[0], 2);
  EXPECT_DOUBLE_EQ(s.recency[0], 14.0 / 7);
  EXPECT_DOUBLE_EQ(s.age[0], 20.0 / 7);  // to the last day of the period, 30
  EXPECT_DOUBLE_EQ(s.monetary[0], 5.0);   // the only repeat day with an amount
  EXPECT_EQ(s.first_day[0], 10);
  EXPECT_EQ(s.frequency[3], 0);
  EXPECT_EQ(s.recency[3], 0);
  EXPECT_DOUBLE_EQ(s.age[3], 18.0 / 7);
  EXPECT_EQ(s.monetary[3], 0);
  // A later cut-off takes the day-31 row in.
  RfmSummary later = SummarizeRfm(*log, 32, 1.0);
  EXPECT_EQ(later.frequency[0], 3);
  EXPECT_DOUBLE_EQ(later.recency[0], 21);
  EXPECT_DOUBLE_EQ(later.monetary[0], 52.5);
  EXPECT_EQ(SummarizeRfmChecked(*log, 31, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SummarizeRfmChecked(*log, 31, std::nan("")).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// A population drawn from the models themselves (BG/NBD purchasing, Gamma-Gamma
// spend), so the fit should roughly recover the parameters and the model should
// pick high-value customers at least as well as the naive baseline.
TransactionLog SimulatedLog(int customers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double r = 0.5, alpha = 10, a = 0.8, b = 4;  // per week
  const double p = 6, q = 4, gamma = 15;
  const int32_t start = 20000;  // days; 104 weeks observed after it
  const double end_week = 104;
  TransactionLogBuilder builder(customers + 1);  // the last customer has no transactions
  std::gamma_distribution<double> lambda_dist(r, 1 / alpha);
  std::gamma_distribution<double> nu_dist(q, 1 / gamma);
  std::uniform_real_distribution<double> u(0, 1);
  for (int c = 0; c < customers; ++c) {
    double lambda = lambda_dist(rng);
    std::gamma_distribution<double> beta_a(a, 1), beta_b(b, 1);
    double ga = beta_a(rng), gb = beta_b(rng);
    double drop = ga / (ga + gb);
    double nu = nu_dist(rng);
    std::gamma_distribution<double> spend(p, 1 / nu);
    double t = u(rng) * 12;  // first purchase in the first 12 weeks
    for (;;) {
      builder.AddTransaction(c, start + static_cast<int32_t>(t * 7), spend(rng), "");
      if (u(rng) < drop) break;
      t += -std::log(1 - u(rng)) / std::max(lambda, 1e-12);
      if (t >= end_week) break;
    }
  }
  return std::move(builder).Build().value();
}

TEST(ClvTest, FitPredictAndEvaluateOnASimulatedPopulation) {
  TransactionLog log = SimulatedLog(3000, 7);
  const int32_t as_of = 20000 + 104 * 7;
  ClvOptions options;
  auto model = FitClv(log, as_of - 365, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // The mean purchase rate r/alpha (per week) and r itself are well determined.
  EXPECT_NEAR(model->bgnbd.r / model->bgnbd.alpha, 0.05, 0.015);
  EXPECT_NEAR(model->gamma_gamma.p * model->gamma_gamma.gamma / (model->gamma_gamma.q - 1), 30, 6);

  auto pred = PredictClv(*model, log, as_of - 365, options);
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  ASSERT_EQ(pred->size(), 3001u);
  EXPECT_FALSE((*pred)[3000].scored);
  EXPECT_EQ((*pred)[3000].clv, 0);
  EXPECT_FALSE((*pred)[3000].high_value);
  double total = 0, flagged = 0, smallest_flagged = 1e300, largest_unflagged = 0;
  for (const auto& p : *pred) {
    if (!p.scored) continue;
    EXPECT_GE(p.probability_alive, 0);
    EXPECT_LE(p.probability_alive, 1);
    EXPECT_NEAR(p.clv, p.expected_transactions * p.expected_spend, 1e-9 * (1 + p.clv));
    total += p.clv;
    if (p.high_value) {
      flagged += p.clv;
      smallest_flagged = std::min(smallest_flagged, p.clv);
    } else {
      largest_unflagged = std::max(largest_unflagged, p.clv);
    }
  }
  EXPECT_GE(flagged, 0.8 * total);
  EXPECT_GE(smallest_flagged, largest_unflagged);

  // Discounting lowers the value; the top-percent rule flags that share.
  ClvOptions discounted = options;
  discounted.annual_discount_rate = 0.1;
  discounted.high_value_top_percent = 10;
  auto pred_d = PredictClv(*model, log, as_of - 365, discounted);
  ASSERT_TRUE(pred_d.ok());
  int64_t scored = 0, top = 0;
  for (size_t i = 0; i < pred->size(); ++i) {
    if (!(*pred)[i].scored) continue;
    ++scored;
    top += (*pred_d)[i].high_value;
    EXPECT_LE((*pred_d)[i].clv, (*pred)[i].clv * (1 + 1e-12));
    EXPECT_NEAR((*pred_d)[i].expected_transactions, (*pred)[i].expected_transactions, 1e-9);
  }
  EXPECT_EQ(top, (scored * 10 + 99) / 100);

  auto ev = EvaluateClv(log, as_of, options);
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->cutoff_day, as_of - 365);
  EXPECT_EQ(ev->customers_evaluated, scored);
  EXPECT_GT(ev->actual_high_value, 0);
  EXPECT_GE(ev->model_found, ev->baseline_found);
  EXPECT_NE(ev->grade, ModelGrade::kC);
  EXPECT_GT(ev->correlation, ev->baseline_correlation);
  ASSERT_EQ(ev->deciles.size(), 10u);
  int64_t decile_customers = 0;
  for (const auto& d : ev->deciles) decile_customers += d.customers;
  EXPECT_EQ(decile_customers, scored);
  EXPECT_GE(ev->deciles.front().mean_actual, ev->deciles.back().mean_actual);
  ASSERT_FALSE(ev->holdout.empty());
  EXPECT_NEAR(ev->holdout.back().units, 365.0 / 7, 1e-9);
  // The forecast of cumulative transactions is close to what happened.
  EXPECT_NEAR(ev->holdout.back().forecast_cumulative / ev->holdout.back().actual_cumulative, 1.0, 0.15);
  for (size_t i = 1; i < ev->holdout.size(); ++i) {
    EXPECT_GE(ev->holdout[i].actual_cumulative, ev->holdout[i - 1].actual_cumulative);
    EXPECT_GT(ev->holdout[i].forecast_cumulative, ev->holdout[i - 1].forecast_cumulative);
  }
  auto j = ev->ToJson();
  EXPECT_EQ(j["grade"], std::string(ModelGradeName(ev->grade)));
  EXPECT_EQ(j["deciles"].size(), 10u);
}

// Degenerate populations push parameters to their bounds; the fit still
// returns finite parameters and predictions.
TEST(ClvTest, DegeneratePopulationsGiveFiniteFits) {
  // Nobody drops out: everyone buys every 7 days for a year (b grows without limit).
  TransactionLogBuilder steady(200);
  for (int c = 0; c < 200; ++c) {
    for (int d = c % 7; d < 365; d += 7) steady.AddTransaction(c, 20000 + d, 10.0 + c % 5, "");
  }
  TransactionLog log = std::move(steady).Build().value();
  auto model = FitClv(log, 20365, ClvOptions());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (double v : {model->bgnbd.r, model->bgnbd.alpha, model->bgnbd.a, model->bgnbd.b, model->gamma_gamma.p,
                   model->gamma_gamma.q, model->gamma_gamma.gamma}) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GT(v, 0);
  }
  auto pred = PredictClv(*model, log, 20365, ClvOptions());
  ASSERT_TRUE(pred.ok());
  for (const auto& p : *pred) {
    EXPECT_TRUE(std::isfinite(p.clv));
    EXPECT_GT(p.probability_alive, 0.9);
    EXPECT_NEAR(p.expected_transactions, 52, 6);  // a purchase a week for a year
  }
  auto back = ClvModel::FromJson(model->ToJson());
  EXPECT_TRUE(back.ok()) << back.status().ToString();

  // One repeat buyer among one-time buyers.
  TransactionLogBuilder once(100);
  for (int c = 0; c < 100; ++c) once.AddTransaction(c, 20000 + c, 5.0, "");
  once.AddTransaction(0, 20050, 7.0, "");
  once.AddTransaction(1, 20060, 9.0, "");
  TransactionLog log2 = std::move(once).Build().value();
  RfmSummary rfm = SummarizeRfm(log2, 20200);
  auto bg = FitBgNbd(rfm);
  ASSERT_TRUE(bg.ok()) << bg.status().ToString();
  EXPECT_TRUE(std::isfinite(bg->log_likelihood));
  EXPECT_TRUE(std::isfinite(BgNbdExpectedTransactions(*bg, 52, 1, 7, 28)));
}

TEST(ClvTest, OptionsOutOfRangeAreNamed) {
  TransactionLog log = SimulatedLog(50, 1);
  ClvOptions o;
  o.horizon_days = 0;
  auto s = FitClv(log, 20500, o);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("horizon_days"), std::string::npos);
  o = ClvOptions();
  o.high_value_share = 1.5;
  s = FitClv(log, 20500, o);
  EXPECT_NE(s.status().message().find("high_value_share"), std::string::npos);
  o = ClvOptions();
  o.unit_days = -1;
  s = FitClv(log, 20500, o);
  EXPECT_NE(s.status().message().find("unit_days"), std::string::npos);
  o = ClvOptions();
  o.annual_discount_rate = std::nan("");
  EXPECT_NE(FitClv(log, 20500, o).status().message().find("annual_discount_rate"), std::string::npos);
  // A cut-off before any data: nothing to fit.
  EXPECT_EQ(FitClv(log, 100, ClvOptions()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(EvaluateClv(log, 100, ClvOptions()).status().code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// Model JSON.
ClvModel SampleModel() {
  ClvModel m;
  m.bgnbd = Published();
  m.bgnbd.alpha = 4.41412345678901;
  m.bgnbd.log_likelihood = -9582.4291;
  m.bgnbd.evaluations = 42;
  m.gamma_gamma.p = 6.24;
  m.gamma_gamma.q = 3.74;
  m.gamma_gamma.gamma = 15.45;
  m.gamma_gamma.log_likelihood = -4000.5;
  m.gamma_gamma.evaluations = 17;
  m.gamma_gamma.customers = 946;
  m.fitted_at_day = 10134;
  m.unit_days = 7;
  return m;
}

TEST(ClvModelJsonTest, RoundTripIsExact) {
  ClvModel m = SampleModel();
  auto back = ClvModel::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->bgnbd.r, m.bgnbd.r);
  EXPECT_EQ(back->bgnbd.alpha, m.bgnbd.alpha);
  EXPECT_EQ(back->bgnbd.a, m.bgnbd.a);
  EXPECT_EQ(back->bgnbd.b, m.bgnbd.b);
  EXPECT_EQ(back->bgnbd.log_likelihood, m.bgnbd.log_likelihood);
  EXPECT_EQ(back->bgnbd.evaluations, 42);
  EXPECT_EQ(back->gamma_gamma.p, m.gamma_gamma.p);
  EXPECT_EQ(back->gamma_gamma.q, m.gamma_gamma.q);
  EXPECT_EQ(back->gamma_gamma.gamma, m.gamma_gamma.gamma);
  EXPECT_EQ(back->gamma_gamma.customers, 946);
  EXPECT_EQ(back->fitted_at_day, 10134);
  EXPECT_EQ(back->unit_days, 7);
  EXPECT_EQ(back->ToJson(), m.ToJson());
}

TEST(ClvModelJsonTest, HostileOrBrokenModelsAreRefused) {
  const std::string good = SampleModel().ToJson();
  auto refused = [](const std::string& text, const std::string& needle) {
    auto m = ClvModel::FromJson(text);
    EXPECT_FALSE(m.ok()) << text.substr(0, 200);
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
    }
  };
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  refused(std::string(100000, ' ') + good, "bytes");
  refused(std::string(20, '[') + std::string(20, ']'), "deeper");
  refused("{\"kind\":", "not valid JSON");
  refused("[]", "not an object");
  refused(replace("\"kind\":\"clv\"", "\"kind\":\"churn\""), "kind");
  refused(replace("\"version\":1", "\"version\":2"), "version");
  refused(replace("\"r\":0.243", "\"r\":-0.243"), "bgnbd.r");
  refused(replace("\"r\":0.243", "\"r\":1e300"), "bgnbd.r");
  refused(replace("\"r\":0.243", "\"r\":\"0.243\""), "bgnbd.r");
  refused(replace("\"q\":3.74", "\"q\":0.5"), "gamma_gamma.q");
  refused(replace("\"unit_days\":7", "\"unit_days\":0"), "unit_days");
  refused(replace("\"r\":0.243,", ""), "missing 'bgnbd.r'");
  refused(replace("\"r\":0.243", "\"r\":0.243,\"extra\":1"), "unknown key 'bgnbd.extra'");
  refused(replace("\"r\":0.243", "\"r\":0.243,\"r\":0.5"), "twice");
  refused(replace("\"fitted_at_day\":10134", "\"fitted_at_day\":99999999999"), "fitted_at_day");
  refused(replace("\"evaluations\":42", "\"evaluations\":4.5"), "evaluations");
  refused(replace("\"customers\":946", "\"customers\":18446744073709551615"), "gamma_gamma.customers");
  refused(replace("\"customers\":946", "\"customers\":-1"), "gamma_gamma.customers");
  ClvModel m = SampleModel();
  m.bgnbd.r = 0;  // a model that cannot be scored
  TransactionLog log = SimulatedLog(10, 2);
  EXPECT_EQ(PredictClv(m, log, 20500, ClvOptions()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdp
