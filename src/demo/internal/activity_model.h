// Purchases, reviews and subscriptions of one person, with the planted behaviour the prediction
// models should find: counts follow the person's traits, days follow the season (summer and December
// peaks), prices are log-normal around the person's basket size; some people stop buying at a churn
// day (most after a bad experience they write a 1-2 star review about a few weeks before), every
// person has a favourite product category and a staple product, and owners of equipment buy its
// complements afterwards (espresso beans after an espresso machine). Planted for the segment
// insights and enrichment (insights_truth.csv): some people have a favourite brand whose products
// they pick within a category, and espresso machines are bought by espresso lovers only.
// Subscribers renew or not, less often after a bad review or when unsatisfied. Everything is a pure function
// of (seed, person), so each pass regenerates it. Const methods are safe to call concurrently.
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

struct Subscription {
  int32_t start_day = 0;
  int32_t end_day = -1;  // -1 while running (the end is not before today)
  bool recurring = false;
  int32_t recurrence_days = 30;  // 30, 90 or 365
  int64_t cents = 0;             // amount per recurrence
};

inline constexpr int kMaxActivitiesPerAccount = 256;
inline constexpr int kMaxSubscriptionsPerPerson = 40;
inline constexpr int32_t kActivityWindowDays = 730;
// Share of people with a favourite brand, and the chance that a brand lover's pick of another
// brand's product (not equipment, not a complement of owned equipment) in a category where the
// favourite brand has products becomes the favourite brand's product of the closest list price.
inline constexpr double kBrandLoverShare = 0.30;
inline constexpr double kBrandLoyalty = 0.85;

enum class ChurnCause : uint8_t { kNone, kBadReview };

// Where a person can buy: the first (copy 0) web account and loyalty card, if any.
struct Footprint {
  bool web = false;
  int32_t web_created_day = 0;
  bool card = false;
  int32_t card_created_day = 0;
};

// The person's planted behaviour (the truth of predictions_truth.csv).
struct Behaviour {
  int32_t churn_day = -1;  // first day without purchases (< today); -1 when the person does not churn
  ChurnCause cause = ChurnCause::kNone;
  int32_t bad_review_day = -1;  // day of the planted 1-2 star review on the first web account, or -1
  bool taper = false;           // purchases thin out over the 90 days before churn_day
  ProductCategory favourite = ProductCategory::kBeans;
  int32_t staple = 0;  // Products() index the person buys again and again
  // Favourite brand (ProductBrand) or -1: for kBrandLoverShare of the people, uniform among the
  // brands with non-equipment products in the favourite category; the staple is then that brand's.
  int8_t brand = -1;
};

class ActivityModel {
 public:
  // `plant_churn` false: nobody churns and no bad experience is planted.
  ActivityModel(uint64_t seed, int32_t today, bool plant_churn = true);

  Behaviour BehaviourOf(const Person& person, const Traits& traits, const Footprint& footprint) const;

  // Fill `out` (capacity kMaxActivitiesPerAccount) with the account's purchases sorted by time and
  // return how many. `copy` 1 is a duplicate account created at `created_seconds`. No purchase is on
  // or after behaviour.churn_day.
  int OnlinePurchases(const Person& person, const Traits& traits, const Behaviour& behaviour,
                      bool has_duplicate, int copy, int64_t created_seconds, Purchase* out) const;
  int StorePurchases(const Person& person, const Traits& traits, const Behaviour& behaviour,
                     bool has_duplicate, int copy, int64_t created_seconds, Purchase* out) const;
  // Reviews of a web account (the planted bad review is on copy 0), none on or after the churn day.
  int Reviews(const Person& person, const Traits& traits, const Behaviour& behaviour, int copy,
              int64_t created_seconds, Review* out) const;
  // Appends the review's text (may hold commas, quotes, line breaks and non-ASCII characters).
  void AppendReviewText(const Review& review, std::string& out) const;
  // Fill `out` (capacity kMaxSubscriptionsPerPerson) with the person's subscriptions, in start order,
  // and return how many (0 without a web account). `*churned` is set when the last one ended before
  // today and was not renewed.
  int Subscriptions(const Person& person, const Traits& traits, const Behaviour& behaviour,
                    const Footprint& footprint, Subscription* out, bool* churned) const;

 private:
  int Purchases(Stream stream, const Person& person, const Behaviour& behaviour, double basket, double rate,
                bool buyer, bool has_duplicate, int copy, int64_t created_seconds, bool in_store,
                Purchase* out) const;
  int32_t PickDay(Rng& rng, int32_t first_day, int32_t last_day, const Behaviour& behaviour) const;
  int32_t PickProduct(Rng& rng, Rng& brand_rng, int64_t cents, int32_t day, const Behaviour& behaviour,
                      int32_t* owned) const;

  uint64_t seed_;
  int32_t today_;
  int32_t window_start_;
  bool plant_churn_;
  std::vector<double> day_weight_;  // per day of the window
  std::vector<double> price_factor_;
  std::vector<uint8_t> month_;
  double max_weight_ = 1.0;
};

}  // namespace cdp::demo_internal
