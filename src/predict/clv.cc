#include "predict/clv.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <utility>

#include <nlopt.hpp>

#include "common/json_scan.h"
#include "common/parallel.h"

namespace cdp {
namespace {

constexpr double kLowerBound = 1e-6;
constexpr double kUpperBound = 1e8;
// The BG/NBD dropout Beta(a, b) is bounded lower: beyond a, b ~ 1e4 the prior
// is a point mass at a / (a + b) already (its standard deviation is below
// 0.005 for any mean), so larger values add no likelihood worth having, and
// the Demo's one-year fit ran off to a = 4.3e5, b = 3.3e7, where E[Y(t)] came
// out ten times too low and slow (found by the lead after the demo's CLV
// hold-back; CDNOW's fit, a = 0.79, b = 2.43, is far inside).
constexpr double kDropoutUpperBound = 1e4;
constexpr double kQLowerBound = 1.0 + 1e-6;
constexpr int64_t kMaxFrequency = 1000000;
constexpr double kDaysPerMonth = 30.4375;
constexpr size_t kMorsel = 1 << 15;

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

// psi(x) for x > 0: recurrence up to 6, then the asymptotic series
// (Abramowitz & Stegun 6.3.18); absolute error below 1e-13.
double Digamma(double x) {
  double result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  return result + std::log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

// ---------------------------------------------------------------------------
// Input checks shared by both fits.
Status CheckSummary(const RfmSummary& rfm, int64_t* max_x) {
  size_t n = rfm.included.size();
  if (rfm.frequency.size() != n || rfm.recency.size() != n || rfm.age.size() != n || rfm.monetary.size() != n) {
    return InvalidArgumentError("RFM summary: vectors of different lengths (included " + std::to_string(n) +
                                ", frequency " + std::to_string(rfm.frequency.size()) + ", recency " +
                                std::to_string(rfm.recency.size()) + ", age " + std::to_string(rfm.age.size()) +
                                ", monetary " + std::to_string(rfm.monetary.size()) + ")");
  }
  *max_x = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!rfm.included[i]) continue;
    double x = rfm.frequency[i], tx = rfm.recency[i], T = rfm.age[i], m = rfm.monetary[i];
    if (!std::isfinite(x) || x < 0 || x != std::floor(x) || x > static_cast<double>(kMaxFrequency)) {
      return InvalidArgumentError("RFM summary: customer " + std::to_string(i) + " has frequency " + Num(x) +
                                  "; expected a whole number of repeat transactions in 0.." +
                                  std::to_string(kMaxFrequency));
    }
    if (!std::isfinite(T) || T < 0) {
      return InvalidArgumentError("RFM summary: customer " + std::to_string(i) + " has age T " + Num(T) +
                                  "; expected a finite value >= 0");
    }
    if (!std::isfinite(tx) || tx < 0 || tx > T * (1 + 1e-12) + 1e-12) {
      return InvalidArgumentError("RFM summary: customer " + std::to_string(i) + " has recency " + Num(tx) +
                                  " outside 0..T (" + Num(T) + ")");
    }
    if (!std::isfinite(m)) {
      return InvalidArgumentError("RFM summary: customer " + std::to_string(i) + " has monetary value " + Num(m));
    }
    *max_x = std::max<int64_t>(*max_x, static_cast<int64_t>(x));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// NLopt driver: minimizes f over log-parameters within bounds.
struct Objective {
  std::function<double(const double* theta, double* grad)> fn;
  std::vector<double> best_theta;
  double best_value = std::numeric_limits<double>::infinity();
  int evaluations = 0;
};

double NloptTrampoline(unsigned n, const double* theta, double* grad, void* data) {
  auto* obj = static_cast<Objective*>(data);
  ++obj->evaluations;
  std::vector<double> scratch;
  if (grad == nullptr) {
    scratch.assign(n, 0.0);
    grad = scratch.data();
  }
  double v = obj->fn(theta, grad);
  if (!std::isfinite(v)) {
    // Bounded parameters keep the likelihood finite; if rounding ever makes
    // it not, steer the line search back.
    std::fill(grad, grad + n, 0.0);
    return std::numeric_limits<double>::max();
  }
  if (v < obj->best_value) {
    obj->best_value = v;
    obj->best_theta.assign(theta, theta + n);
  }
  return v;
}

Status Minimize(Objective* obj, std::vector<double> theta, const std::vector<double>& lower,
                const std::vector<double>& upper, const char* what) {
  const unsigned n = static_cast<unsigned>(theta.size());
  auto run = [&](nlopt::algorithm algorithm, std::vector<double> start) -> bool {
    nlopt::opt opt(algorithm, n);
    opt.set_lower_bounds(lower);
    opt.set_upper_bounds(upper);
    opt.set_min_objective(NloptTrampoline, obj);
    opt.set_ftol_rel(1e-12);
    opt.set_xtol_rel(1e-10);
    opt.set_maxeval(2000);
    double value = 0;
    try {
      opt.optimize(start, value);
      return true;
    } catch (const nlopt::roundoff_limited&) {
      return true;  // converged as far as rounding allows; best point kept
    } catch (const std::exception&) {
      return false;
    }
  };
  if (!run(nlopt::LD_LBFGS, theta)) {
    std::vector<double> start = obj->best_theta.empty() ? theta : obj->best_theta;
    if (!run(nlopt::LN_SBPLX, start) && obj->best_theta.empty()) {
      return InternalError(std::string(what) + ": the optimizer failed before evaluating the likelihood");
    }
  }
  if (obj->best_theta.empty() || !std::isfinite(obj->best_value)) {
    return InternalError(std::string(what) + ": the likelihood is not finite anywhere the optimizer looked");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// BG/NBD likelihood.
// Customers with the same (x, t_x, T) contribute the same term: the fit
// evaluates each distinct triple once, times its count. t_x and T take few
// distinct values with day-grained dates (at most the days of history), so
// log(alpha + t) and 1/(alpha + t) are tabulated per evaluation over the
// distinct times and looked up by index.
struct BgNbdData {
  std::vector<int32_t> x;
  std::vector<int32_t> tx_index, T_index;  // into times
  std::vector<double> weight;
  std::vector<double> times;  // distinct t_x and T values, ascending
  int64_t max_x = 0;
  int64_t customers = 0;
  double mean_T = 0;
};

BgNbdData CollectBgNbd(const RfmSummary& rfm) {
  struct Triple {
    int32_t x;
    double tx, T;
  };
  std::vector<Triple> all;
  BgNbdData d;
  for (size_t i = 0; i < rfm.size(); ++i) {
    if (!rfm.included[i]) continue;
    all.push_back({static_cast<int32_t>(rfm.frequency[i]), rfm.recency[i], rfm.age[i]});
    d.times.push_back(rfm.recency[i]);
    d.times.push_back(rfm.age[i]);
    d.mean_T += rfm.age[i];
  }
  std::sort(d.times.begin(), d.times.end());
  d.times.erase(std::unique(d.times.begin(), d.times.end()), d.times.end());
  std::sort(all.begin(), all.end(), [](const Triple& u, const Triple& v) {
    if (u.x != v.x) return u.x < v.x;
    if (u.tx != v.tx) return u.tx < v.tx;
    return u.T < v.T;
  });
  d.customers = static_cast<int64_t>(all.size());
  if (d.customers > 0) d.mean_T /= static_cast<double>(d.customers);
  auto index_of = [&](double t) {
    return static_cast<int32_t>(std::lower_bound(d.times.begin(), d.times.end(), t) - d.times.begin());
  };
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].x == all[i - 1].x && all[i].tx == all[i - 1].tx && all[i].T == all[i - 1].T) {
      d.weight.back() += 1;
      continue;
    }
    d.x.push_back(all[i].x);
    d.tx_index.push_back(index_of(all[i].tx));
    d.T_index.push_back(index_of(all[i].T));
    d.weight.push_back(1);
    d.max_x = std::max<int64_t>(d.max_x, all[i].x);
  }
  return d;
}

// Sum of the log-likelihood over d at (r, alpha, a, b), and its gradient with
// respect to the four parameters when grad != nullptr (Hardie's note 027:
// ll = A1 + A2 + log(exp(A3) + [x > 0] exp(A4)), the sum of the two terms
// taken as max + log1p(exp(-|A3 - A4|))).
double BgNbdLogLikelihoodSum(const BgNbdData& d, double r, double alpha, double a, double b, double* grad) {
  const size_t kx = static_cast<size_t>(d.max_x) + 1;
  // Prefix sums over i < x of log(r+i), 1/(r+i), log(b+i), 1/(b+i), log(a+b+i), 1/(a+b+i).
  std::vector<double> sr(kx), dr(kx), sb(kx), db(kx), sab(kx), dab(kx), lbx(kx), ibx(kx);
  for (size_t k = 1; k < kx; ++k) {
    double i = static_cast<double>(k - 1);
    sr[k] = sr[k - 1] + std::log(r + i);
    dr[k] = dr[k - 1] + 1 / (r + i);
    sb[k] = sb[k - 1] + std::log(b + i);
    db[k] = db[k - 1] + 1 / (b + i);
    sab[k] = sab[k - 1] + std::log(a + b + i);
    dab[k] = dab[k - 1] + 1 / (a + b + i);
    lbx[k] = std::log(b + i);  // log(b + x - 1) for x = k
    ibx[k] = 1 / (b + i);
  }
  std::vector<double> log_at(d.times.size()), inv_at(d.times.size());
  for (size_t k = 0; k < d.times.size(); ++k) {
    log_at[k] = std::log(alpha + d.times[k]);
    inv_at[k] = 1 / (alpha + d.times[k]);
  }
  const double log_alpha = std::log(alpha), log_a = std::log(a);
  const size_t n = d.x.size();
  const size_t morsels = (n + kMorsel - 1) / kMorsel;
  std::vector<std::array<double, 5>> partial(morsels, std::array<double, 5>{0, 0, 0, 0, 0});
  const bool want_grad = grad != nullptr;
  ParallelFor(0, n, kMorsel, [&](size_t begin, size_t end, int) {
    double ll = 0, gr = 0, gal = 0, ga = 0, gb = 0;
    for (size_t i = begin; i < end; ++i) {
      const int32_t x = d.x[i];
      const double rx = r + x;
      const double a1 = sr[x] + r * log_alpha;
      const double a2 = sb[x] - sab[x];
      const double log_aT = log_at[d.T_index[i]];
      const double a3 = -rx * log_aT;
      const double w = d.weight[i];
      if (x == 0) {
        ll += w * (a1 + a2 + a3);
        if (want_grad) {
          gr += w * (log_alpha - log_aT);
          gal += w * (r / alpha - rx * inv_at[d.T_index[i]]);
        }
        continue;
      }
      const double log_atx = log_at[d.tx_index[i]];
      const double a4 = log_a - lbx[x] - rx * log_atx;
      const double e = std::exp(-std::abs(a3 - a4));  // the smaller term over the larger
      ll += w * (a1 + a2 + std::max(a3, a4) + std::log1p(e));
      if (want_grad) {
        const double big = 1 / (1 + e), small = e / (1 + e);
        const double w3 = a3 >= a4 ? big : small, w4 = a3 >= a4 ? small : big;
        gr += w * (dr[x] + log_alpha - w3 * log_aT - w4 * log_atx);
        gal += w * (r / alpha - rx * (w3 * inv_at[d.T_index[i]] + w4 * inv_at[d.tx_index[i]]));
        ga += w * (-dab[x] + w4 / a);
        gb += w * (db[x] - dab[x] - w4 * ibx[x]);
      }
    }
    partial[begin / kMorsel] = {ll, gr, gal, ga, gb};
  });
  std::array<double, 5> total{0, 0, 0, 0, 0};
  for (const auto& p : partial) {
    for (int j = 0; j < 5; ++j) total[j] += p[j];
  }
  if (want_grad) {
    for (int j = 0; j < 4; ++j) grad[j] = total[j + 1];
  }
  return total[0];
}

// ---------------------------------------------------------------------------
// Gamma-Gamma likelihood.
struct GammaGammaData {
  std::vector<int32_t> x;
  std::vector<double> m, log_m, log_x;
  int64_t max_x = 0;
};

GammaGammaData CollectGammaGamma(const RfmSummary& rfm) {
  GammaGammaData d;
  for (size_t i = 0; i < rfm.size(); ++i) {
    if (!rfm.included[i] || rfm.frequency[i] <= 0 || !(rfm.monetary[i] > 0)) continue;
    int32_t x = static_cast<int32_t>(rfm.frequency[i]);
    d.x.push_back(x);
    d.m.push_back(rfm.monetary[i]);
    d.log_m.push_back(std::log(rfm.monetary[i]));
    d.log_x.push_back(std::log(static_cast<double>(x)));
    d.max_x = std::max<int64_t>(d.max_x, x);
  }
  return d;
}

// ll_i = lgamma(px+q) - lgamma(px) - lgamma(q) + q log(gamma) + (px-1) log(m)
//        + px log(x) - (px+q) log(gamma + x m)   (Fader & Hardie 2013, eq. 4)
double GammaGammaLogLikelihoodSum(const GammaGammaData& d, double p, double q, double gamma, double* grad) {
  const size_t kx = static_cast<size_t>(d.max_x) + 1;
  std::vector<uint8_t> present(kx, 0);
  for (int32_t x : d.x) present[x] = 1;
  std::vector<double> lg(kx), psi_pxq(kx), psi_px(kx);
  for (size_t k = 1; k < kx; ++k) {
    if (!present[k]) continue;
    double px = p * static_cast<double>(k);
    lg[k] = std::lgamma(px + q) - std::lgamma(px);
    if (grad != nullptr) {
      psi_pxq[k] = Digamma(px + q);
      psi_px[k] = Digamma(px);
    }
  }
  const double lgq = std::lgamma(q), log_gamma = std::log(gamma);
  const double psi_q = grad != nullptr ? Digamma(q) : 0;
  const size_t n = d.x.size();
  const size_t morsels = (n + kMorsel - 1) / kMorsel;
  std::vector<std::array<double, 4>> partial(morsels, std::array<double, 4>{0, 0, 0, 0});
  const bool want_grad = grad != nullptr;
  ParallelFor(0, n, kMorsel, [&](size_t begin, size_t end, int) {
    double ll = 0, gp = 0, gq = 0, gg = 0;
    for (size_t i = begin; i < end; ++i) {
      const int32_t x = d.x[i];
      const double xd = static_cast<double>(x);
      const double px = p * xd;
      const double denom = gamma + xd * d.m[i];
      const double log_den = std::log(denom);
      ll += lg[x] - lgq + q * log_gamma + (px - 1) * d.log_m[i] + px * d.log_x[i] - (px + q) * log_den;
      if (want_grad) {
        gp += xd * (psi_pxq[x] - psi_px[x] + d.log_m[i] + d.log_x[i] - log_den);
        gq += psi_pxq[x] - psi_q + log_gamma - log_den;
        gg += q / gamma - (px + q) / denom;
      }
    }
    partial[begin / kMorsel] = {ll, gp, gq, gg};
  });
  std::array<double, 4> total{0, 0, 0, 0};
  for (const auto& part : partial) {
    for (int j = 0; j < 4; ++j) total[j] += part[j];
  }
  if (want_grad) {
    for (int j = 0; j < 3; ++j) grad[j] = total[j + 1];
  }
  return total[0];
}

}  // namespace

namespace clv_internal {

// E_p[(1 - (1 + p u)^-(r+x)) / p] over the dropout probability's posterior
// p ~ Beta(a, b+x), u = t/(alpha+T): the same E[Y(t)] / P(alive) as an
// integral (given alive, lambda ~ Gamma(r+x, alpha+T) and a customer who
// drops out with probability p after each purchase makes (1 - e^(-lambda p t))/p
// purchases on average). Double-exponential (tanh-sinh) quadrature in log
// space on [-t, t], t from 4 up to 20 as a or b+x get small (endpoint
// singularities of the Beta density cost nothing), the step halved from 1/8
// until two levels agree to 1e-12 (a concentrated posterior needs small
// steps), at most down to 1/512.
double ConditionalQuadrature(double r, double a, double b, double x, double u) {
  if (!(u > 0)) return 0;
  const double s = r + x, bb = b + x;
  const double log_beta = std::lgamma(a) + std::lgamma(bb) - std::lgamma(a + bb);
  const double kPi = 3.14159265358979323846;
  // Far enough out that the Beta density's mass left beyond the ends is below
  // e^-40 even for tiny a or b+x (p^a and (1-p)^(b+x) with log p, log(1-p) ~ -2w).
  const double tau_max = std::min(20.0, std::max(4.0, std::asinh(40 / (kPi * std::min(a, bb)))));
  auto f = [&](double tau) {
    const double w = kPi / 2 * std::sinh(tau);
    const double l1p = std::log1p(std::exp(-std::abs(2 * w)));
    const double log_p = -(std::max(-2 * w, 0.0) + l1p);
    const double log_q = -(std::max(2 * w, 0.0) + l1p);
    const double p = std::exp(log_p);
    // (1 - (1 + p u)^-s) / p, its limit s u as p -> 0.
    const double g = p * u < 1e-300 ? s * u : -std::expm1(-s * std::log1p(p * u)) / p;
    if (!(g > 0)) return 0.0;
    return std::exp(a * log_p + bb * log_q - log_beta + std::log(kPi * std::cosh(tau)) + std::log(g));
  };
  // Halve the step until two levels agree (the points of a level are reused).
  double h = 1.0 / 8;
  double sum = f(0);
  for (int k = 1; k * h <= tau_max; ++k) sum += f(k * h) + f(-k * h);
  double integral = h * sum;
  for (int level = 1; level <= 6; ++level) {
    h /= 2;
    for (int k = 1; k * h <= tau_max; k += 2) sum += f(k * h) + f(-k * h);
    const double next = h * sum;
    const bool done = std::abs(next - integral) <= 1e-12 * std::abs(next);
    integral = next;
    if (done) break;
  }
  return integral;
}

// Hypergeometric part of E[Y(t)] and E[X(t)].
//
// ConditionalSeries returns (a+b+x-1)/(a-1) * [1 - (1-z)^(a-1) 2F1(A, a-1; C; z)] with
// A = a+b-1-r, C = a+b+x-1, z = t/(alpha+T+t), log(1-z) = log_one_minus_z:
// the conditional expectation before the P(alive) factor (Euler's
// transformation of FHL eq. 10; with x = 0 and T = 0 it is E[X(t)], eq. 7).
// Written as (a+b+x-1) * (G1 - (1-z)^(a-1) G2) with
//   G1 = (1 - (1-z)^(a-1)) / (a-1)  (-log(1-z) at a = 1),
//   G2 = (2F1 - 1) / (a-1) = sum_{k>=1} (A)_k (a)_(k-1) / ((C)_k k!) z^k,
// so nothing is divided by a - 1.
// *ok is false when the series is ill-conditioned or does not converge.
double ConditionalSeries(double r, double a, double b, double x, double z, double log_one_minus_z, bool* ok) {
  *ok = true;
  if (z <= 0) return 0;
  const double B = a - 1;
  const double A = a + b - 1 - r;
  const double C = a + b + x - 1;
  const double g1 = B == 0 ? -log_one_minus_z : -std::expm1(B * log_one_minus_z) / B;
  double term = A * z / C;
  double sum = term, max_abs = std::abs(term);
  bool converged = term == 0;
  int64_t k = 1;
  for (; k < 20000 && !converged; ++k) {  // z near 1 converges slowly: the quadrature does better
    const double kd = static_cast<double>(k);
    const double ratio = z * (A + kd) * (B + kd) / ((C + kd) * (kd + 1));
    term *= ratio;
    sum += term;
    if (!std::isfinite(term) || std::abs(term) > 1e250) break;
    max_abs = std::max(max_abs, std::abs(term));
    converged = term == 0 || (std::abs(term) <= 1e-17 * std::abs(sum) && std::abs(ratio) < 1);
  }
  const double scale = std::exp(B * log_one_minus_z);
  const double second = scale * sum;
  const double value = C * (g1 - second);
  // Rounding in the terms and in g1 - second, against the value: ill-conditioned
  // sums (large alternating or overflowing terms) are left to the quadrature.
  const double error = 1e-15 * std::abs(C) *
                       (scale * max_abs * std::sqrt(static_cast<double>(k)) + std::abs(g1) + std::abs(second));
  if (!converged || !std::isfinite(value) || !(error <= 1e-9 * std::abs(value))) *ok = false;
  return value;
}

}  // namespace clv_internal

namespace {

// E[Y(t)] / P(alive) = (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
// from the Euler-transformed series when it is well conditioned (the usual
// case), otherwise from the quadrature over the dropout probability.
double ConditionalCore(double r, double a, double b, double x, double z, double log_one_minus_z, double u) {
  bool ok = true;
  double v = clv_internal::ConditionalSeries(r, a, b, x, z, log_one_minus_z, &ok);
  return ok ? v : clv_internal::ConditionalQuadrature(r, a, b, x, u);
}

double LogOddsDead(const BgNbdParams& p, double x, double t_x, double T) {
  // log( a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) )
  return std::log(p.a) - std::log(p.b + x - 1) + (p.r + x) * (std::log(p.alpha + T) - std::log(p.alpha + t_x));
}

double Logistic(double log_odds_dead) {
  // 1 / (1 + exp(l)) without overflow.
  if (log_odds_dead > 0) {
    double e = std::exp(-log_odds_dead);
    return e / (1 + e);
  }
  return 1 / (1 + std::exp(log_odds_dead));
}

// Conditional core at horizon t for a customer of age T (z and log(1-z)).
double CoreAt(const BgNbdParams& p, double x, double T, double t) {
  if (!(t > 0)) return 0;
  const double base = p.alpha + T;
  const double z = t / (base + t);
  const double log_one_minus_z = -std::log1p(t / base);
  return ConditionalCore(p.r, p.a, p.b, x, z, log_one_minus_z, t / base);
}

Status CheckUnit(double unit_days) {
  if (!std::isfinite(unit_days) || unit_days <= 0 || unit_days > 366) {
    return InvalidArgumentError("unit_days " + Num(unit_days) + " is outside (0, 366]");
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// RFM summary.
StatusOr<RfmSummary> SummarizeRfmChecked(const TransactionLog& log, int32_t end_day, double unit_days) {
  CDP_RETURN_IF_ERROR(CheckUnit(unit_days));
  const int64_t n = log.num_customers();
  RfmSummary s;
  s.included.assign(n, 0);
  s.frequency.assign(n, 0);
  s.recency.assign(n, 0);
  s.age.assign(n, 0);
  s.monetary.assign(n, 0);
  s.first_day.assign(n, 0);
  for (int64_t c = 0; c < n; ++c) {
    const int64_t begin = log.offsets[c], end = log.offsets[c + 1];
    if (begin == end || log.day[begin] >= end_day) continue;
    const int32_t first = log.day[begin];
    int32_t last = first;
    int64_t repeat_days = 0, repeat_known = 0;
    double repeat_value = 0;
    int64_t i = begin;
    // The first day's rows.
    while (i < end && log.day[i] == first) ++i;
    while (i < end && log.day[i] < end_day) {
      const int32_t d = log.day[i];
      double value = 0;
      bool known = false;
      for (; i < end && log.day[i] == d; ++i) {
        if (!std::isnan(log.amount[i])) {
          value += log.amount[i];
          known = true;
        }
      }
      ++repeat_days;
      last = d;
      if (known) {
        repeat_value += value;
        ++repeat_known;
      }
    }
    s.included[c] = 1;
    s.first_day[c] = first;
    s.frequency[c] = static_cast<double>(repeat_days);
    s.recency[c] = static_cast<double>(last - first) / unit_days;
    s.age[c] = static_cast<double>(static_cast<int64_t>(end_day) - 1 - first) / unit_days;
    s.monetary[c] = repeat_known > 0 ? repeat_value / static_cast<double>(repeat_known) : 0;
  }
  return s;
}

RfmSummary SummarizeRfm(const TransactionLog& log, int32_t end_day, double unit_days) {
  if (!std::isfinite(unit_days) || unit_days <= 0 || unit_days > 366) unit_days = 7;
  return std::move(SummarizeRfmChecked(log, end_day, unit_days).value());
}

// ---------------------------------------------------------------------------
// BG/NBD.
StatusOr<BgNbdParams> FitBgNbd(const RfmSummary& rfm) {
  int64_t max_x = 0;
  CDP_RETURN_IF_ERROR(CheckSummary(rfm, &max_x));
  BgNbdData d = CollectBgNbd(rfm);
  if (d.customers == 0) return FailedPreconditionError("BG/NBD: no customer has a transaction in the fit period");
  if (d.max_x == 0) {
    return FailedPreconditionError("BG/NBD: no customer has a repeat transaction (on a second day) in the fit "
                                   "period; the model needs repeat buyers");
  }
  const double n = static_cast<double>(d.customers);
  const double mean_T = std::max(d.mean_T, 1e-3);
  Objective obj;
  obj.fn = [&](const double* th, double* grad) {
    double r = std::exp(th[0]), alpha = std::exp(th[1]), a = std::exp(th[2]), b = std::exp(th[3]);
    double g[4];
    double ll = BgNbdLogLikelihoodSum(d, r, alpha, a, b, g);
    grad[0] = -g[0] * r / n;
    grad[1] = -g[1] * alpha / n;
    grad[2] = -g[2] * a / n;
    grad[3] = -g[3] * b / n;
    return -ll / n;
  };
  const std::vector<double> lower(4, std::log(kLowerBound));
  const std::vector<double> upper = {std::log(kUpperBound), std::log(kUpperBound), std::log(kDropoutUpperBound),
                                     std::log(kDropoutUpperBound)};
  CDP_RETURN_IF_ERROR(Minimize(&obj, {0.0, std::log(mean_T), 0.0, 0.0}, lower, upper, "BG/NBD fit"));
  BgNbdParams p;
  p.r = std::exp(obj.best_theta[0]);
  p.alpha = std::exp(obj.best_theta[1]);
  p.a = std::exp(obj.best_theta[2]);
  p.b = std::exp(obj.best_theta[3]);
  p.log_likelihood = BgNbdLogLikelihoodSum(d, p.r, p.alpha, p.a, p.b, nullptr);
  p.evaluations = obj.evaluations;
  return p;
}

double BgNbdLogLikelihood(const BgNbdParams& p, const RfmSummary& rfm) {
  int64_t max_x = 0;
  if (!CheckSummary(rfm, &max_x).ok()) return std::numeric_limits<double>::quiet_NaN();
  return BgNbdLogLikelihoodSum(CollectBgNbd(rfm), p.r, p.alpha, p.a, p.b, nullptr);
}

double BgNbdProbabilityAlive(const BgNbdParams& p, double x, double t_x, double T) {
  if (x <= 0) return 1.0;
  return Logistic(LogOddsDead(p, x, t_x, T));
}

double BgNbdExpectedTransactions(const BgNbdParams& p, double t, double x, double t_x, double T) {
  return BgNbdProbabilityAlive(p, x, t_x, T) * CoreAt(p, x, T, t);
}

double BgNbdExpectedTransactionsNew(const BgNbdParams& p, double t) { return CoreAt(p, 0, 0, t); }

// ---------------------------------------------------------------------------
// Gamma-Gamma.
StatusOr<GammaGammaParams> FitGammaGamma(const RfmSummary& rfm) {
  int64_t max_x = 0;
  CDP_RETURN_IF_ERROR(CheckSummary(rfm, &max_x));
  GammaGammaData d = CollectGammaGamma(rfm);
  if (d.x.size() < 2) {
    return FailedPreconditionError("Gamma-Gamma: " + std::to_string(d.x.size()) +
                                   " customers have repeat transactions with a positive amount; at least 2 are "
                                   "needed");
  }
  const double n = static_cast<double>(d.x.size());
  double mean_m = 0;
  for (double m : d.m) mean_m += m;
  mean_m /= n;
  Objective obj;
  obj.fn = [&](const double* th, double* grad) {
    double p = std::exp(th[0]), q = std::exp(th[1]), gamma = std::exp(th[2]);
    double g[3];
    double ll = GammaGammaLogLikelihoodSum(d, p, q, gamma, g);
    grad[0] = -g[0] * p / n;
    grad[1] = -g[1] * q / n;
    grad[2] = -g[2] * gamma / n;
    return -ll / n;
  };
  const std::vector<double> lower = {std::log(kLowerBound), std::log(kQLowerBound), std::log(kLowerBound)};
  const std::vector<double> upper(3, std::log(kUpperBound));
  CDP_RETURN_IF_ERROR(Minimize(&obj, {0.0, std::log(2.0), std::log(mean_m)}, lower, upper, "Gamma-Gamma fit"));
  GammaGammaParams p;
  p.p = std::exp(obj.best_theta[0]);
  p.q = std::max(std::exp(obj.best_theta[1]), kQLowerBound);
  p.gamma = std::exp(obj.best_theta[2]);
  p.log_likelihood = GammaGammaLogLikelihoodSum(d, p.p, p.q, p.gamma, nullptr);
  p.evaluations = obj.evaluations;
  p.customers = static_cast<int64_t>(d.x.size());
  return p;
}

double GammaGammaLogLikelihood(const GammaGammaParams& p, const RfmSummary& rfm) {
  int64_t max_x = 0;
  if (!CheckSummary(rfm, &max_x).ok()) return std::numeric_limits<double>::quiet_NaN();
  return GammaGammaLogLikelihoodSum(CollectGammaGamma(rfm), p.p, p.q, p.gamma, nullptr);
}

double GammaGammaExpectedSpend(const GammaGammaParams& p, double x, double mbar) {
  if (x <= 0 || !(mbar > 0)) return p.p * p.gamma / (p.q - 1);
  return p.p * (p.gamma + x * mbar) / (p.p * x + p.q - 1);
}

// ---------------------------------------------------------------------------
// CLV.
Status ValidateClvOptions(const ClvOptions& o) {
  if (o.horizon_days < 1 || o.horizon_days > 3650) {
    return InvalidArgumentError("horizon_days " + std::to_string(o.horizon_days) + " is outside 1..3650");
  }
  CDP_RETURN_IF_ERROR(CheckUnit(o.unit_days));
  if (!std::isfinite(o.annual_discount_rate) || o.annual_discount_rate < 0 || o.annual_discount_rate >= 10) {
    return InvalidArgumentError("annual_discount_rate " + Num(o.annual_discount_rate) + " is outside [0, 10)");
  }
  if (!std::isfinite(o.high_value_share) || o.high_value_share <= 0 || o.high_value_share > 1) {
    return InvalidArgumentError("high_value_share " + Num(o.high_value_share) + " is outside (0, 1]");
  }
  if (!std::isfinite(o.high_value_top_percent) || o.high_value_top_percent < 0 || o.high_value_top_percent > 100) {
    return InvalidArgumentError("high_value_top_percent " + Num(o.high_value_top_percent) +
                                " is outside [0, 100]");
  }
  return Status::Ok();
}

std::string ClvModel::ToJson() const {
  nlohmann::ordered_json j;
  j["kind"] = "clv";
  j["version"] = 1;
  j["fitted_at_day"] = fitted_at_day;
  j["unit_days"] = unit_days;
  j["bgnbd"] = {{"r", bgnbd.r},
                {"alpha", bgnbd.alpha},
                {"a", bgnbd.a},
                {"b", bgnbd.b},
                {"log_likelihood", bgnbd.log_likelihood},
                {"evaluations", bgnbd.evaluations}};
  j["gamma_gamma"] = {{"p", gamma_gamma.p},
                      {"q", gamma_gamma.q},
                      {"gamma", gamma_gamma.gamma},
                      {"log_likelihood", gamma_gamma.log_likelihood},
                      {"evaluations", gamma_gamma.evaluations},
                      {"customers", gamma_gamma.customers}};
  return j.dump();
}

namespace {

Status CheckKeys(const nlohmann::json& obj, const std::string& where, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return InvalidArgumentError("CLV model JSON: " + where + " is not an object");
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    if (!known) return InvalidArgumentError("CLV model JSON: unknown key '" + where + "." + key + "'");
  }
  for (const char* k : keys) {
    if (!obj.contains(k)) return InvalidArgumentError("CLV model JSON: missing '" + where + "." + k + "'");
  }
  return Status::Ok();
}

StatusOr<double> GetNumber(const nlohmann::json& obj, const std::string& where, const char* key, double lo,
                           double hi) {
  const auto& v = obj.at(key);
  if (!v.is_number()) return InvalidArgumentError("CLV model JSON: '" + where + "." + key + "' is not a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    return InvalidArgumentError("CLV model JSON: '" + where + "." + key + "' = " + Num(d) + " is outside [" +
                                Num(lo) + ", " + Num(hi) + "]");
  }
  return d;
}

StatusOr<int64_t> GetInteger(const nlohmann::json& obj, const std::string& where, const char* key, int64_t lo,
                             int64_t hi) {
  const auto& v = obj.at(key);
  if (!v.is_number_integer()) {
    return InvalidArgumentError("CLV model JSON: '" + where + "." + key + "' is not an integer");
  }
  const bool too_big = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi);
  const int64_t i = too_big ? hi : v.get<int64_t>();
  if (too_big || i < lo || i > hi) {
    return InvalidArgumentError("CLV model JSON: '" + where + "." + key + "' = " + v.dump() +
                                " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return i;
}

}  // namespace

StatusOr<ClvModel> ClvModel::FromJson(std::string_view json) {
  constexpr size_t kMaxBytes = 64 * 1024;
  if (json.size() > kMaxBytes) {
    return InvalidArgumentError("CLV model JSON: " + std::to_string(json.size()) + " bytes; the limit is " +
                                std::to_string(kMaxBytes));
  }
  JsonScanOptions scan;
  scan.max_depth = 8;
  scan.refuse_nul_characters = true;
  CDP_RETURN_IF_ERROR(ScanJson(json, scan).WithContext("CLV model JSON"));
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError("CLV model JSON: not valid JSON");
  CDP_RETURN_IF_ERROR(CheckKeys(j, "model", {"kind", "version", "fitted_at_day", "unit_days", "bgnbd", "gamma_gamma"}));
  if (!j["kind"].is_string() || j["kind"].get<std::string>() != "clv") {
    return InvalidArgumentError("CLV model JSON: 'kind' must be \"clv\"");
  }
  CDP_ASSIGN_OR_RETURN(int64_t version, GetInteger(j, "model", "version", 1, 1));
  (void)version;
  ClvModel m;
  CDP_ASSIGN_OR_RETURN(int64_t fitted, GetInteger(j, "model", "fitted_at_day", std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
  m.fitted_at_day = static_cast<int32_t>(fitted);
  CDP_ASSIGN_OR_RETURN(m.unit_days, GetNumber(j, "model", "unit_days", 1e-9, 366));
  const double lo = kLowerBound * (1 - 1e-9), hi = kUpperBound * (1 + 1e-9);
  const double inf = std::numeric_limits<double>::max();
  const auto& bg = j["bgnbd"];
  CDP_RETURN_IF_ERROR(CheckKeys(bg, "bgnbd", {"r", "alpha", "a", "b", "log_likelihood", "evaluations"}));
  CDP_ASSIGN_OR_RETURN(m.bgnbd.r, GetNumber(bg, "bgnbd", "r", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.bgnbd.alpha, GetNumber(bg, "bgnbd", "alpha", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.bgnbd.a, GetNumber(bg, "bgnbd", "a", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.bgnbd.b, GetNumber(bg, "bgnbd", "b", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.bgnbd.log_likelihood, GetNumber(bg, "bgnbd", "log_likelihood", -inf, inf));
  CDP_ASSIGN_OR_RETURN(int64_t bg_evals, GetInteger(bg, "bgnbd", "evaluations", 0, 1000000000));
  m.bgnbd.evaluations = static_cast<int>(bg_evals);
  const auto& gg = j["gamma_gamma"];
  CDP_RETURN_IF_ERROR(
      CheckKeys(gg, "gamma_gamma", {"p", "q", "gamma", "log_likelihood", "evaluations", "customers"}));
  CDP_ASSIGN_OR_RETURN(m.gamma_gamma.p, GetNumber(gg, "gamma_gamma", "p", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.gamma_gamma.q, GetNumber(gg, "gamma_gamma", "q", kQLowerBound * (1 - 1e-12), hi));
  CDP_ASSIGN_OR_RETURN(m.gamma_gamma.gamma, GetNumber(gg, "gamma_gamma", "gamma", lo, hi));
  CDP_ASSIGN_OR_RETURN(m.gamma_gamma.log_likelihood, GetNumber(gg, "gamma_gamma", "log_likelihood", -inf, inf));
  CDP_ASSIGN_OR_RETURN(int64_t gg_evals, GetInteger(gg, "gamma_gamma", "evaluations", 0, 1000000000));
  m.gamma_gamma.evaluations = static_cast<int>(gg_evals);
  CDP_ASSIGN_OR_RETURN(m.gamma_gamma.customers,
                       GetInteger(gg, "gamma_gamma", "customers", 0, std::numeric_limits<int64_t>::max()));
  return m;
}

StatusOr<ClvModel> FitClv(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  CDP_ASSIGN_OR_RETURN(RfmSummary rfm, SummarizeRfmChecked(log, as_of_day, options.unit_days));
  ClvModel model;
  CDP_ASSIGN_OR_RETURN(model.bgnbd, FitBgNbd(rfm));
  CDP_ASSIGN_OR_RETURN(model.gamma_gamma, FitGammaGamma(rfm));
  model.fitted_at_day = as_of_day;
  model.unit_days = options.unit_days;
  return model;
}

std::vector<uint8_t> FlagHighValue(const std::vector<double>& values, const std::vector<uint8_t>& eligible,
                                   const ClvOptions& options) {
  std::vector<uint8_t> flag(values.size(), 0);
  std::vector<size_t> order;
  double total = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i < eligible.size() && eligible[i] && values[i] > 0) {
      order.push_back(i);
      total += values[i];
    }
  }
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return values[x] != values[y] ? values[x] > values[y] : x < y;
  });
  if (options.high_value_top_percent > 0) {
    int64_t eligible_count = 0;
    for (size_t i = 0; i < values.size(); ++i) eligible_count += (i < eligible.size() && eligible[i]) ? 1 : 0;
    size_t k = static_cast<size_t>(std::ceil(static_cast<double>(eligible_count) * options.high_value_top_percent / 100));
    for (size_t i = 0; i < std::min(k, order.size()); ++i) flag[order[i]] = 1;
    return flag;
  }
  const double target = options.high_value_share * total;
  double cum = 0;
  for (size_t i : order) {
    if (cum >= target) break;
    flag[i] = 1;
    cum += values[i];
  }
  return flag;
}

namespace {

// E[Y(t)] / P(alive) for each step, cached per (x, T): customers share them.
class CoreCache {
 public:
  CoreCache(const BgNbdParams& p, std::vector<double> steps) : p_(p), steps_(std::move(steps)) {}
  // The row of (x, T): one value per step.
  size_t Slot(double x, double T) {
    auto [it, inserted] = index_.try_emplace(Key{x, T}, index_.size());
    if (inserted) {
      for (double t : steps_) values_.push_back(CoreAt(p_, x, T, t));
    }
    return it->second;
  }
  const double* Row(size_t slot) const { return &values_[slot * steps_.size()]; }
  size_t size() const { return index_.size(); }

 private:
  struct Key {
    double x, T;
    bool operator==(const Key& o) const { return x == o.x && T == o.T; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t a, b;
      std::memcpy(&a, &k.x, 8);
      std::memcpy(&b, &k.T, 8);
      return std::hash<uint64_t>()(a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6)));
    }
  };
  BgNbdParams p_;
  std::vector<double> steps_;
  std::unordered_map<Key, size_t, KeyHash> index_;
  std::vector<double> values_;
};

}  // namespace

StatusOr<std::vector<ClvCustomerPrediction>> PredictClv(const ClvModel& model, const TransactionLog& log,
                                                        int32_t as_of_day, const ClvOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  CDP_RETURN_IF_ERROR(CheckUnit(model.unit_days).WithContext("CLV model"));
  const BgNbdParams& bg = model.bgnbd;
  const GammaGammaParams& gg = model.gamma_gamma;
  for (double v : {bg.r, bg.alpha, bg.a, bg.b, gg.p, gg.gamma}) {
    if (!std::isfinite(v) || v <= 0) return InvalidArgumentError("CLV model: a parameter is " + Num(v));
  }
  if (!std::isfinite(gg.q) || gg.q <= 1) {
    return InvalidArgumentError("CLV model: Gamma-Gamma q " + Num(gg.q) + " must be > 1");
  }
  CDP_ASSIGN_OR_RETURN(RfmSummary rfm, SummarizeRfmChecked(log, as_of_day, model.unit_days));
  // Horizon in units, split in monthly steps when discounting.
  const double horizon_units = options.horizon_days / model.unit_days;
  std::vector<double> steps;
  std::vector<double> discount;
  if (options.annual_discount_rate > 0) {
    const double month_units = kDaysPerMonth / model.unit_days;
    const double monthly = std::pow(1 + options.annual_discount_rate, 1.0 / 12) - 1;
    int64_t months = static_cast<int64_t>(std::ceil(horizon_units / month_units - 1e-9));
    for (int64_t j = 1; j <= months; ++j) {
      steps.push_back(std::min(horizon_units, static_cast<double>(j) * month_units));
      discount.push_back(std::pow(1 + monthly, -static_cast<double>(j)));
    }
  } else {
    steps.push_back(horizon_units);
    discount.push_back(1.0);
  }
  CoreCache cache(bg, steps);
  const size_t n = rfm.size();
  std::vector<ClvCustomerPrediction> out(n);
  std::vector<double> values(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (!rfm.included[i]) continue;
    ClvCustomerPrediction& pr = out[i];
    const double x = rfm.frequency[i];
    pr.scored = true;
    pr.probability_alive = BgNbdProbabilityAlive(bg, x, rfm.recency[i], rfm.age[i]);
    pr.expected_spend = GammaGammaExpectedSpend(gg, x, rfm.monetary[i]);
    const double* core = cache.Row(cache.Slot(x, rfm.age[i]));
    double previous = 0, value = 0;
    for (size_t j = 0; j < steps.size(); ++j) {
      double e = pr.probability_alive * core[j];
      value += (e - previous) * discount[j];
      previous = e;
    }
    pr.expected_transactions = previous;
    pr.clv = value * pr.expected_spend;
    values[i] = pr.clv;
  }
  std::vector<uint8_t> flags = FlagHighValue(values, rfm.included, options);
  for (size_t i = 0; i < n; ++i) out[i].high_value = flags[i] != 0;
  return out;
}

// ---------------------------------------------------------------------------
// Evaluation.
namespace {

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2) return 0;
  double ma = 0, mb = 0;
  for (size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / std::sqrt(saa * sbb);
}

// Indexes of the k largest values (ties by index).
std::vector<size_t> TopK(const std::vector<double>& values, size_t k) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto less = [&](size_t x, size_t y) { return values[x] != values[y] ? values[x] > values[y] : x < y; };
  k = std::min(k, order.size());
  if (k >= order.size() / 4) {
    std::sort(order.begin(), order.end(), less);
  } else {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), less);
  }
  order.resize(k);
  return order;
}

}  // namespace

int64_t HighValueFound(const std::vector<double>& predicted, const std::vector<uint8_t>& actual_high_value, size_t k) {
  int64_t found = 0;
  for (size_t i : TopK(predicted, std::min(k, predicted.size()))) found += actual_high_value[i];
  return found;
}

StatusOr<ClvEvaluation> EvaluateClv(const TransactionLog& log, int32_t as_of_day, const ClvOptions& options) {
  CDP_RETURN_IF_ERROR(ValidateClvOptions(options));
  ClvEvaluation ev;
  ev.as_of_day = as_of_day;
  ev.horizon_days = options.horizon_days;
  const int64_t cutoff64 = static_cast<int64_t>(as_of_day) - options.horizon_days;
  if (cutoff64 < std::numeric_limits<int32_t>::min()) return InvalidArgumentError("as_of_day is too early");
  const int32_t cutoff = static_cast<int32_t>(cutoff64);
  ev.cutoff_day = cutoff;
  auto fitted = FitClv(log, cutoff, options);
  if (!fitted.ok()) {
    return Status(fitted.status().code(), "fitting at the cut-off " + std::to_string(cutoff) + " (as_of_day - " +
                                              std::to_string(options.horizon_days) +
                                              " days): " + fitted.status().message());
  }
  ev.model = std::move(fitted).value();
  CDP_ASSIGN_OR_RETURN(std::vector<ClvCustomerPrediction> pred, PredictClv(ev.model, log, cutoff, options));
  const double unit = options.unit_days;
  const int64_t H = options.horizon_days;
  ev.months = static_cast<double>(H) / kDaysPerMonth;

  // Retention of the baseline: buyers of [cutoff-2H, cutoff-H) who bought in [cutoff-H, cutoff).
  const int64_t nc = log.num_customers();
  int64_t earlier = 0, again = 0;
  for (int64_t c = 0; c < nc; ++c) {
    bool in_earlier = false, in_later = false;
    for (int64_t i = log.offsets[c]; i < log.offsets[c + 1]; ++i) {
      const int64_t d = log.day[i];
      if (d >= cutoff - 2 * H && d < cutoff - H) in_earlier = true;
      if (d >= cutoff - H && d < cutoff) in_later = true;
    }
    if (in_earlier) {
      ++earlier;
      if (in_later) ++again;
    }
  }
  ev.retention = earlier > 0 ? static_cast<double>(again) / static_cast<double>(earlier) : 1.0;

  // Per evaluated customer: predicted, actual, baseline values.
  std::vector<size_t> customer;
  std::vector<double> predicted, actual, baseline;
  const int64_t steps_total = static_cast<int64_t>(std::ceil(static_cast<double>(H) / unit - 1e-9));
  const int64_t stride = std::max<int64_t>(1, (steps_total + 119) / 120);
  std::vector<double> step_units;
  for (int64_t s = stride; s < steps_total + stride; s += stride) {
    step_units.push_back(std::min(static_cast<double>(s), static_cast<double>(H) / unit));
    if (step_units.back() >= static_cast<double>(H) / unit) break;
  }
  std::vector<double> actual_curve(step_units.size(), 0.0);
  for (int64_t c = 0; c < nc; ++c) {
    if (!pred[c].scored) continue;
    double before = 0, after = 0;
    int32_t first = 0;
    bool first_set = false;
    int32_t last_holdout_day = std::numeric_limits<int32_t>::min();
    for (int64_t i = log.offsets[c]; i < log.offsets[c + 1]; ++i) {
      const int32_t d = log.day[i];
      const double amt = std::isnan(log.amount[i]) ? 0 : log.amount[i];
      if (d < cutoff) {
        if (!first_set) {
          first = d;
          first_set = true;
        }
        before += amt;
      } else if (d < as_of_day) {
        after += amt;
        if (d != last_holdout_day) {
          last_holdout_day = d;
          // A transaction day at offset k counts from the first step whose end exceeds it.
          const double k = static_cast<double>(d - cutoff) / unit;
          size_t s = static_cast<size_t>(std::upper_bound(step_units.begin(), step_units.end(), k) - step_units.begin());
          if (s < step_units.size()) actual_curve[s] += 1;
        }
      }
    }
    const double months_of_history = std::max(1.0, static_cast<double>(cutoff - first) / kDaysPerMonth);
    customer.push_back(static_cast<size_t>(c));
    predicted.push_back(pred[c].clv);
    actual.push_back(after);
    baseline.push_back(before / months_of_history * ev.months * ev.retention);
  }
  const size_t n = customer.size();
  ev.customers_evaluated = static_cast<int64_t>(n);
  for (size_t i = 0; i < n; ++i) {
    ev.total_predicted += predicted[i];
    ev.total_actual += actual[i];
    ev.total_baseline += baseline[i];
  }
  if (!(ev.total_actual > 0)) {
    return FailedPreconditionError("the hold-back period [" + std::to_string(cutoff) + ", " +
                                   std::to_string(as_of_day) + ") has no purchase value from the " +
                                   std::to_string(n) + " customers known at the cut-off");
  }
  // High-value customers of the hold-back period, and how many each side finds
  // among as many customers.
  std::vector<uint8_t> all(n, 1);
  std::vector<uint8_t> actual_hv = FlagHighValue(actual, all, options);
  size_t k = 0;
  for (uint8_t f : actual_hv) k += f;
  ev.actual_high_value = static_cast<int64_t>(k);
  ev.model_found = HighValueFound(predicted, actual_hv, k);
  ev.baseline_found = HighValueFound(baseline, actual_hv, k);
  if (k > 0) {
    ev.model_found_share = static_cast<double>(ev.model_found) / static_cast<double>(k);
    ev.baseline_found_share = static_cast<double>(ev.baseline_found) / static_cast<double>(k);
  }
  ev.relative_to_baseline =
      ev.baseline_found > 0 ? static_cast<double>(ev.model_found) / static_cast<double>(ev.baseline_found) - 1 : 0;
  ev.grade = GradeAgainstBaseline(static_cast<double>(ev.model_found), static_cast<double>(ev.baseline_found), 0.05);
  ev.correlation = Pearson(predicted, actual);
  ev.baseline_correlation = Pearson(baseline, actual);
  for (size_t i = 0; i < n; ++i) {
    ev.mae += std::abs(predicted[i] - actual[i]);
    ev.baseline_mae += std::abs(baseline[i] - actual[i]);
  }
  if (n > 0) {
    ev.mae /= static_cast<double>(n);
    ev.baseline_mae /= static_cast<double>(n);
  }
  // Deciles by predicted value.
  std::vector<size_t> order = TopK(predicted, n);
  for (int g = 0; g < 10 && n > 0; ++g) {
    size_t begin = n * static_cast<size_t>(g) / 10, end = n * static_cast<size_t>(g + 1) / 10;
    if (begin == end) continue;
    ClvDecile dec;
    dec.decile = g + 1;
    dec.customers = static_cast<int64_t>(end - begin);
    for (size_t i = begin; i < end; ++i) {
      dec.mean_predicted += predicted[order[i]];
      dec.mean_actual += actual[order[i]];
    }
    dec.mean_predicted /= static_cast<double>(dec.customers);
    dec.mean_actual /= static_cast<double>(dec.customers);
    ev.deciles.push_back(dec);
  }
  // Cumulative transactions in the hold-back period: sum of E[Y(t)] vs actual.
  RfmSummary rfm = SummarizeRfm(log, cutoff, unit);
  CoreCache cache(ev.model.bgnbd, step_units);
  std::vector<double> forecast(step_units.size(), 0.0);
  std::vector<double> alive_by_slot;  // customers of one (x, T) share a row: sum their P(alive)
  for (size_t c : customer) {
    const size_t slot = cache.Slot(rfm.frequency[c], rfm.age[c]);
    if (slot >= alive_by_slot.size()) alive_by_slot.resize(slot + 1, 0.0);
    alive_by_slot[slot] += pred[c].probability_alive;
  }
  for (size_t slot = 0; slot < alive_by_slot.size(); ++slot) {
    const double* core = cache.Row(slot);
    for (size_t s = 0; s < step_units.size(); ++s) forecast[s] += alive_by_slot[slot] * core[s];
  }
  for (size_t s = 1; s < actual_curve.size(); ++s) actual_curve[s] += actual_curve[s - 1];
  for (size_t s = 0; s < step_units.size(); ++s) {
    ev.holdout.push_back({step_units[s], forecast[s], actual_curve[s]});
  }
  ev.customer_index.assign(customer.begin(), customer.end());
  ev.predicted_values = std::move(predicted);
  ev.actual_values = std::move(actual);
  ev.baseline_values = std::move(baseline);
  return ev;
}

nlohmann::ordered_json ClvEvaluation::ToJson() const {
  nlohmann::ordered_json j;
  j["as_of_day"] = as_of_day;
  j["cutoff_day"] = cutoff_day;
  j["horizon_days"] = horizon_days;
  j["grade"] = std::string(ModelGradeName(grade));
  j["customers_evaluated"] = customers_evaluated;
  j["actual_high_value"] = actual_high_value;
  j["model_found"] = model_found;
  j["baseline_found"] = baseline_found;
  j["model_found_share"] = model_found_share;
  j["baseline_found_share"] = baseline_found_share;
  j["relative_to_baseline"] = relative_to_baseline;
  j["retention"] = retention;
  j["months"] = months;
  j["total_predicted"] = total_predicted;
  j["total_actual"] = total_actual;
  j["total_baseline"] = total_baseline;
  j["correlation"] = correlation;
  j["mae"] = mae;
  j["baseline_correlation"] = baseline_correlation;
  j["baseline_mae"] = baseline_mae;
  j["model"] = nlohmann::ordered_json::parse(model.ToJson());
  auto& dec = j["deciles"] = nlohmann::ordered_json::array();
  for (const ClvDecile& d : deciles) {
    dec.push_back({{"decile", d.decile},
                   {"customers", d.customers},
                   {"mean_predicted", d.mean_predicted},
                   {"mean_actual", d.mean_actual}});
  }
  auto& hold = j["holdout"] = nlohmann::ordered_json::array();
  for (const ClvHoldoutPoint& p : holdout) {
    hold.push_back({{"units", p.units},
                    {"forecast_cumulative", p.forecast_cumulative},
                    {"actual_cumulative", p.actual_cumulative}});
  }
  return j;
}

}  // namespace cdp
