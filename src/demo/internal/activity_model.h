// Purchases and reviews of one account of a person: counts follow the person's traits, days follow
// the season (summer and December peaks), prices are log-normal around the person's basket size.
// Const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "demo/internal/population.h"

namespace cdp::demo_internal {

struct Purchase {
  int64_t seconds = 0;
  int64_t cents = 0;
  int32_t product = 0;  // Products() index
  int32_t points = 0;   // rewards points earned (store purchases)
};

struct Review {
  int64_t seconds = 0;
  int32_t rating = 0;
  int32_t product = 0;
  uint64_t text_seed = 0;
};

inline constexpr int kMaxActivitiesPerAccount = 256;
inline constexpr int32_t kActivityWindowDays = 730;

class ActivityModel {
 public:
  ActivityModel(uint64_t seed, int32_t today);

  // Fill `out` (capacity kMaxActivitiesPerAccount) with the account's purchases sorted by time and
  // return how many. `copy` 1 is a duplicate account created at `created_seconds`.
  int OnlinePurchases(const Person& person, const Traits& traits, bool has_duplicate, int copy,
                      int64_t created_seconds, Purchase* out) const;
  int StorePurchases(const Person& person, const Traits& traits, bool has_duplicate, int copy,
                     int64_t created_seconds, Purchase* out) const;
  int Reviews(const Person& person, const Traits& traits, int copy, int64_t created_seconds,
              Review* out) const;
  // Appends the review's text (may hold commas, quotes, line breaks and non-ASCII characters).
  void AppendReviewText(const Review& review, std::string& out) const;

 private:
  int Purchases(Stream stream, const Person& person, double basket, double rate, bool buyer,
                bool has_duplicate, int copy, int64_t created_seconds, bool in_store, Purchase* out) const;
  int32_t PickDay(Rng& rng, int32_t first_day) const;
  int32_t PickProduct(Rng& rng, int64_t cents, int32_t day) const;

  uint64_t seed_;
  int32_t today_;
  int32_t window_start_;
  std::vector<double> day_weight_;  // per day of the window
  std::vector<double> price_factor_;
  std::vector<uint8_t> month_;
  double max_weight_ = 1.0;
};

}  // namespace cdp::demo_internal
