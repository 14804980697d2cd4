// Deterministic randomness for the demo generator: splitmix64 streams keyed by (seed, purpose, entity)
// and distributions built from IEEE +,-,*,/ only, so a seed yields the same bytes on every platform.
// Not thread-safe per instance; instances are cheap values.
#pragma once

#include <cmath>
#include <cstdint>

namespace cdp::demo_internal {

inline constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// The splitmix64 finaliser: a bijective 64-bit mixer.
inline constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Independent purposes draw from independent streams, so adding draws to one aspect of a
// record never shifts the values of another.
enum class Stream : uint64_t {
  kPersonCore = 1,
  kPersonTraits,
  kMembership,
  kAccountCreated,
  kEmailBump,
  kEcommerceRecord,
  kLoyaltyRecord,
  kSurveyRecord,
  kOnlinePurchases,
  kStorePurchases,
  kReviews,
  kHousehold,
  kGlobal,
  kBehaviour,
  kProductChoice,
  kSubscriptions,
  kBrandPreference,
};

// splitmix64 generator.
class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  Rng(uint64_t seed, Stream stream, uint64_t entity, uint64_t sub = 0)
      : state_(Mix64(Mix64(Mix64(seed + kGolden) ^ (static_cast<uint64_t>(stream) * kGolden)) + entity) ^
               Mix64(sub + 0x51ed2701f3a5c7b1ULL)) {}

  uint64_t Next() {
    state_ += kGolden;
    return Mix64(state_);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0. Multiply-shift (bias below 2^-32, irrelevant here).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(static_cast<unsigned __int128>(Next()) * span >> 64);
  }
  bool Chance(double p) { return Uniform() < p; }
  // Approximately standard normal (Irwin-Hall of six uniforms, range +-4.24).
  double Normal() {
    const uint64_t a = Next(), b = Next(), c = Next();
    const double s = static_cast<double>(a >> 32) + static_cast<double>(a & 0xffffffffu) +
                     static_cast<double>(b >> 32) + static_cast<double>(b & 0xffffffffu) +
                     static_cast<double>(c >> 32) + static_cast<double>(c & 0xffffffffu);
    return (s * 0x1.0p-32 - 3.0) * 1.4142135623730951;
  }

 private:
  uint64_t state_;
};

// e^x with range reduction and a Taylor series: arithmetic only, hence bit-identical everywhere
// (libm's exp may differ in the last bit between versions). Relative error < 1e-15.
inline double DetExp(double x) {
  if (x > 700) x = 700;
  if (x < -700) x = -700;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double term = 1.0, sum = 1.0;
  for (int i = 1; i <= 14; ++i) {
    term = term * r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

// Poisson(lambda) by Knuth's product method; lambda is small (< 60) here.
inline int Poisson(Rng& rng, double lambda) {
  if (lambda <= 0) return 0;
  const double limit = DetExp(-lambda);
  int k = 0;
  double p = rng.Uniform();
  while (p > limit && k < 400) {
    ++k;
    p *= rng.Uniform();
  }
  return k;
}

}  // namespace cdp::demo_internal
