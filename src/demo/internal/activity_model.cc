#include "demo/internal/activity_model.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <span>

#include "common/datetime.h"

namespace cdp::demo_internal {
namespace {

// Relative purchase frequency per hour of day (UTC), online and in store.
constexpr uint32_t kOnlineHours[24] = {10, 6,  4,  3,  3,  5,  12, 20, 25, 26, 26, 27,
                                       30, 28, 26, 26, 27, 30, 35, 42, 46, 42, 30, 18};
constexpr uint32_t kStoreHours[24] = {0,  0,  0,  0,  0,  0,  15, 45, 50, 40, 30, 30,
                                      35, 30, 25, 25, 25, 25, 20, 15, 8,  0,  0,  0};

uint32_t PickHour(Rng& rng, const uint32_t (&weights)[24]) {
  uint32_t total = 0;
  for (uint32_t w : weights) total += w;
  uint32_t target = rng.Below(total);
  for (uint32_t h = 0; h < 24; ++h) {
    if (target < weights[h]) return h;
    target -= weights[h];
  }
  return 12;
}

// Seasonality: summer (cold brew) and the holidays are the peaks, January the trough.
double DayWeight(unsigned month, unsigned day) {
  static constexpr double kMonth[13] = {0, 0.8, 0.85, 0.95, 1.0, 1.1, 1.35, 1.45, 1.3, 1.0, 1.0, 1.15, 1.6};
  double w = kMonth[month];
  if (month == 11 && day >= 24) w = 1.7;  // Black Friday week
  if (month == 12 && day >= 26) w = 0.9;
  return w;
}

double PriceFactor(unsigned month, unsigned day) {
  if (month == 12 && day <= 24) return 1.15;  // gifts
  if (month >= 6 && month <= 8) return 1.05;
  return 1.0;
}

// Products() indexes per category.
std::span<const int32_t> ProductsIn(ProductCategory category) {
  static const std::vector<std::vector<int32_t>> kByCategory = [] {
    std::vector<std::vector<int32_t>> table(kProductCategoryCount);
    const auto products = Products();
    for (size_t i = 0; i < products.size(); ++i) {
      table[static_cast<size_t>(products[i].category)].push_back(static_cast<int32_t>(i));
    }
    return table;
  }();
  return kByCategory[static_cast<size_t>(category)];
}

// Products() indexes of `brand`'s non-equipment products in `category` (what a brand lover's pick
// can become).
std::span<const int32_t> BrandProductsIn(ProductBrand brand, ProductCategory category) {
  static const std::vector<std::vector<int32_t>> kByBrandAndCategory = [] {
    std::vector<std::vector<int32_t>> table(kProductBrandCount * kProductCategoryCount);
    const auto products = Products();
    for (size_t i = 0; i < products.size(); ++i) {
      if (IsEquipment(static_cast<int32_t>(i))) continue;
      const size_t cell = static_cast<size_t>(products[i].brand) * kProductCategoryCount +
                          static_cast<size_t>(products[i].category);
      table[cell].push_back(static_cast<int32_t>(i));
    }
    return table;
  }();
  return kByBrandAndCategory[static_cast<size_t>(brand) * kProductCategoryCount +
                             static_cast<size_t>(category)];
}

// What non-espresso lovers get when their pick is an espresso machine (planted: only espresso lovers
// buy one).
constexpr int32_t kMilkFrother = 1006 - 1001;  // Products() index (ids are 1001.. in order)

// The candidate whose list price is closest (as a ratio) to `cents`.
template <typename NextCandidate>
int32_t ClosestPrice(int64_t cents, int tries, NextCandidate next) {
  const auto products = Products();
  const double price = static_cast<double>(cents) / 100.0;
  int32_t best = 0;
  double best_score = 1e300;
  for (int i = 0; i < tries; ++i) {
    const int32_t candidate = next();
    const double ratio = products[static_cast<size_t>(candidate)].list_price / price;
    const double score = ratio >= 1 ? ratio : 1 / ratio;
    if (score < best_score) {
      best_score = score;
      best = candidate;
    }
  }
  return best;
}

constexpr std::string_view kReviewOpeners[5][5] = {
    {"Terrible. The {p} broke after 2 weeks!", "Never again: late order, wrong item, and no refund.",
     "Worst coffee I've had, tasted burnt. Returned the {p}.",
     "One star, and that's generous. The {p} leaks.", "Ordered the {p} twice, both \"lost\" in shipping."},
    {"Disappointed with the {p}, it arrived \"slightly\" damaged.",
     "Not worth the price, sadly. Customer service was slow to reply.",
     "The {p} stopped working after a month, replacement pending.",
     "Meh. The {p} looks nice, but it's flimsy.", "Too bitter for me, even with milk."},
    {"The {p} is OK. Does the job, nothing special.", "Mixed feelings: taste is fine, delivery was late.",
     "Average. I expected more from the \"premium\" {p}.", "Decent {p} for the price, I guess.",
     "It's fine. Not great, not bad."},
    {"Really good {p}, though a bit pricey.", "Solid {p}; would buy again, but the box arrived dented.",
     "Great flavor. Shipping took 5 days, which is fine.",
     "The {p} works well, instructions could be clearer.", "Nice {p}. My partner says it's \"the one\"."},
    {"Absolutely love the {p}! Smooth, rich, and fresh every time.",
     "Best purchase this year. The {p} is \"barista quality\", no joke.",
     "Five stars: fast shipping, great packaging, and the {p} is perfect.",
     "My mornings are better now, thanks to the {p}.", "Bought the {p} as a gift, and now I want one too!"},
};

constexpr std::string_view kReviewEndings[] = {
    "\nUpdate: support sent a replacement, thanks!",
    "\n\nP.S. café-quality coffee at home \xE2\x98\x95",
    "\nWould recommend to friends, family, and coworkers.",
    " Crème brûlée syrup next, please.",
    "\r\nEdited: still happy after 3 months.",
    " 10/10, \"would brew again\".",
};

}  // namespace

ActivityModel::ActivityModel(uint64_t seed, int32_t today, bool plant_churn)
    : seed_(seed), today_(today), window_start_(today - kActivityWindowDays), plant_churn_(plant_churn) {
  day_weight_.resize(kActivityWindowDays);
  price_factor_.resize(kActivityWindowDays);
  month_.resize(kActivityWindowDays);
  max_weight_ = 0;
  for (int32_t i = 0; i < kActivityWindowDays; ++i) {
    int year;
    unsigned month, day;
    CivilFromDays(window_start_ + i, &year, &month, &day);
    day_weight_[static_cast<size_t>(i)] = DayWeight(month, day);
    price_factor_[static_cast<size_t>(i)] = PriceFactor(month, day);
    month_[static_cast<size_t>(i)] = static_cast<uint8_t>(month);
    max_weight_ = std::max(max_weight_, day_weight_[static_cast<size_t>(i)]);
  }
}

Behaviour ActivityModel::BehaviourOf(const Person& person, const Traits& traits,
                                     const Footprint& footprint) const {
  Rng rng(seed_, Stream::kBehaviour, static_cast<uint64_t>(person.index));
  Behaviour b;
  // Favourite category (percent), then a staple of it: a product of at most $40 bought again and again.
  static constexpr uint32_t kFavourite[kFavouriteCategoryCount] = {30, 20, 22, 12, 16};
  uint32_t target = rng.Below(100);
  int favourite = 0;
  while (favourite < kFavouriteCategoryCount - 1 && target >= kFavourite[favourite]) {
    target -= kFavourite[favourite];
    ++favourite;
  }
  b.favourite = static_cast<ProductCategory>(favourite);
  const auto products = Products();
  int32_t staples[16];
  uint32_t staple_count = 0;
  for (int32_t i : ProductsIn(b.favourite)) {
    if (products[static_cast<size_t>(i)].list_price <= 40.0 && staple_count < std::size(staples)) {
      staples[staple_count++] = i;
    }
  }
  b.staple = staples[rng.Below(staple_count)];
  // Planted brand preference, from its own stream so that no other draw moves: a brand lover's
  // staple is the favourite brand's (every candidate brand has one of at most $40).
  Rng brand_rng(seed_, Stream::kBrandPreference, static_cast<uint64_t>(person.index));
  if (brand_rng.Chance(kBrandLoverShare)) {
    ProductBrand candidates[kProductBrandCount];
    uint32_t candidate_count = 0;
    for (int i = 0; i < kProductBrandCount; ++i) {
      const auto brand = static_cast<ProductBrand>(i);
      if (!BrandProductsIn(brand, b.favourite).empty()) candidates[candidate_count++] = brand;
    }
    const ProductBrand brand = candidates[brand_rng.Below(candidate_count)];
    b.brand = static_cast<int8_t>(brand);
    int32_t own[16];
    uint32_t own_count = 0;
    for (int32_t i : BrandProductsIn(brand, b.favourite)) {
      if (products[static_cast<size_t>(i)].list_price <= 40.0 && own_count < std::size(own))
        own[own_count++] = i;
    }
    if (own_count > 0) b.staple = own[brand_rng.Below(own_count)];
  }
  // The same draws whether or not churn is planted, so the switch changes nothing else.
  const double u_bad = rng.Uniform(), u_bad_churns = rng.Uniform(), u_plain = rng.Uniform(),
               u_taper = rng.Uniform();
  Rng days(rng.Next());
  if (!plant_churn_) return b;

  // A bad experience (on the web account: it shows as a review) is more likely for unsatisfied
  // people; 80% of those who have one stop buying 1-6 weeks after the review.
  static constexpr double kBadExperience[3] = {0.35, 0.15, 0.06};  // by Satisfaction
  if (footprint.web && u_bad < kBadExperience[static_cast<int>(traits.satisfaction)]) {
    const int32_t lo = std::max(window_start_, footprint.web_created_day + 1) + 30;
    const int32_t hi = today_ - 8;
    if (lo <= hi) {
      b.bad_review_day = static_cast<int32_t>(days.Between(lo, hi));
      const auto churn_day = static_cast<int32_t>(b.bad_review_day + days.Between(7, 42));
      if (u_bad_churns < 0.8 && churn_day < today_) {
        b.churn_day = churn_day;
        b.cause = ChurnCause::kBadReview;
      }
    }
  }
  // Churn without a visible cause, any time after 45 days of history.
  if (b.bad_review_day < 0 && u_plain < 0.15) {
    int32_t first_active = INT32_MAX;
    if (footprint.web) first_active = std::max(window_start_, footprint.web_created_day + 1);
    if (footprint.card) {
      first_active = std::min(first_active, std::max(window_start_, footprint.card_created_day + 1));
    }
    if (first_active != INT32_MAX && first_active + 45 < today_) {
      b.churn_day = static_cast<int32_t>(days.Between(first_active + 45, today_ - 1));
    }
  }
  b.taper = b.churn_day >= 0 && u_taper < 0.6;
  return b;
}

int32_t ActivityModel::PickDay(Rng& rng, int32_t first_day, int32_t last_day,
                               const Behaviour& behaviour) const {
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto day = static_cast<int32_t>(rng.Between(first_day, last_day));
    double weight = day_weight_[static_cast<size_t>(day - window_start_)];
    if (behaviour.taper) {
      const int32_t left = behaviour.churn_day - day;
      if (left < 90) weight *= std::max(0.2, left / 90.0);
    }
    if (rng.Uniform() * max_weight_ < weight) return day;
  }
  return last_day;
}

int32_t ActivityModel::PickProduct(Rng& rng, Rng& brand_rng, int64_t cents, int32_t day,
                                   const Behaviour& behaviour, int32_t* owned) const {
  const auto products = Products();
  const uint8_t month = month_[static_cast<size_t>(day - window_start_)];
  Season season = Season::kAllYear;
  if (month >= 6 && month <= 8) season = Season::kSummer;
  if (month >= 11) season = Season::kHoliday;
  int32_t pick = -1;
  bool complement = false;
  if (season != Season::kAllYear && rng.Chance(0.3)) {
    int32_t count = 0;
    for (const Product& p : products) count += p.season == season;
    int32_t target = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(count)));
    for (size_t i = 0; i < products.size() && pick < 0; ++i) {
      if (products[i].season == season && target-- == 0) pick = static_cast<int32_t>(i);
    }
  }
  if (pick < 0) {
    const double u = rng.Uniform();
    if (*owned >= 0 && u < 0.5) {
      // What owners of the last piece of equipment buy: beans for the espresso machine (the first
      // complement, half of the time), filters...
      const auto then = ComplementsOf(*owned);
      pick = rng.Chance(0.5) ? then[0] : then[rng.Below(static_cast<uint32_t>(then.size()))];
      complement = true;
    } else if (u < 0.8) {
      if (rng.Chance(0.45)) {
        pick = behaviour.staple;
      } else {
        const auto favourite = ProductsIn(behaviour.favourite);
        pick = ClosestPrice(cents, 3,
                            [&] { return favourite[rng.Below(static_cast<uint32_t>(favourite.size()))]; });
      }
    } else {
      pick = ClosestPrice(
          cents, 4, [&] { return static_cast<int32_t>(rng.Below(static_cast<uint32_t>(products.size()))); });
    }
  }
  // Planted for the look-alikes: an espresso machine is bought by espresso lovers only.
  if (behaviour.favourite != ProductCategory::kEspresso && IsEspressoMachine(pick)) pick = kMilkFrother;
  // Planted brand preference: another brand's product becomes the favourite brand's of the closest
  // list price in the same category (equipment and complements stay, so owners still follow up).
  if (behaviour.brand >= 0 && !complement && !IsEquipment(pick)) {
    const auto brand = static_cast<ProductBrand>(behaviour.brand);
    const Product& picked = products[static_cast<size_t>(pick)];
    const auto own = BrandProductsIn(brand, picked.category);
    if (picked.brand != brand && !own.empty() && brand_rng.Chance(kBrandLoyalty)) {
      double best_score = 1e300;
      for (int32_t candidate : own) {
        const double ratio = products[static_cast<size_t>(candidate)].list_price / picked.list_price;
        const double score = ratio >= 1 ? ratio : 1 / ratio;
        if (score < best_score) {
          best_score = score;
          pick = candidate;
        }
      }
    }
  }
  if (!ComplementsOf(pick).empty()) *owned = pick;
  return pick;
}

int ActivityModel::Purchases(Stream stream, const Person& person, const Behaviour& behaviour, double basket,
                             double rate, bool buyer, bool has_duplicate, int copy, int64_t created_seconds,
                             bool in_store, Purchase* out) const {
  if (!buyer) return 0;
  Rng rng(seed_, stream, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  const int32_t created_day = static_cast<int32_t>(created_seconds / 86400);
  const int32_t first_day = std::max(window_start_, created_day + 1);
  int32_t last_day = today_ - 1;
  if (behaviour.churn_day >= 0) last_day = std::min(last_day, behaviour.churn_day - 1);
  if (first_day > last_day) return 0;
  const double share = has_duplicate ? (copy == 0 ? 0.7 : 0.3) : 1.0;
  const double lambda = rate * share * (last_day + 1 - first_day) / kActivityWindowDays;
  int count = std::min(Poisson(rng, lambda), kMaxActivitiesPerAccount);
  if (count == 0 && copy == 0) count = 1;
  for (int i = 0; i < count; ++i) {
    Purchase& p = out[i];
    const int32_t day = PickDay(rng, first_day, last_day, behaviour);
    const uint32_t hour = PickHour(rng, in_store ? kStoreHours : kOnlineHours);
    p.seconds = static_cast<int64_t>(day) * 86400 + hour * 3600 + rng.Below(3600);
    const double dollars =
        basket * DetExp(0.30 * rng.Normal()) * price_factor_[static_cast<size_t>(day - window_start_)];
    p.cents = std::clamp<int64_t>(std::llround(dollars * 100.0), 299, 250000);
    p.points = 0;
  }
  std::sort(out, out + count, [](const Purchase& a, const Purchase& b) { return a.seconds < b.seconds; });
  // Products in time order, so that complements follow the equipment they go with.
  Rng choice(seed_, Stream::kProductChoice, static_cast<uint64_t>(person.index),
             static_cast<uint64_t>(copy) * 2 + (in_store ? 1 : 0));
  Rng brand_choice(seed_, Stream::kBrandPreference, static_cast<uint64_t>(person.index),
                   1 + static_cast<uint64_t>(copy) * 2 + (in_store ? 1 : 0));
  int32_t owned = -1;
  for (int i = 0; i < count; ++i) {
    out[i].product = PickProduct(choice, brand_choice, out[i].cents,
                                 static_cast<int32_t>(out[i].seconds / 86400), behaviour, &owned);
  }
  return count;
}

int ActivityModel::OnlinePurchases(const Person& person, const Traits& traits, const Behaviour& behaviour,
                                   bool has_duplicate, int copy, int64_t created_seconds,
                                   Purchase* out) const {
  return Purchases(Stream::kOnlinePurchases, person, behaviour, traits.online_basket, traits.online_rate,
                   traits.online_buyer, has_duplicate, copy, created_seconds, false, out);
}

int ActivityModel::StorePurchases(const Person& person, const Traits& traits, const Behaviour& behaviour,
                                  bool has_duplicate, int copy, int64_t created_seconds,
                                  Purchase* out) const {
  const int count =
      Purchases(Stream::kStorePurchases, person, behaviour, traits.store_basket, traits.store_rate,
                traits.store_buyer, has_duplicate, copy, created_seconds, true, out);
  // Points per whole dollar: Bronze 1, Silver 1.25, Gold 1.5, Platinum 2.
  static constexpr int64_t kPointsPer100Dollars[] = {100, 125, 150, 200};
  const int64_t factor = kPointsPer100Dollars[static_cast<int>(traits.tier)];
  for (int i = 0; i < count; ++i) out[i].points = static_cast<int32_t>(out[i].cents / 100 * factor / 100);
  return count;
}

int ActivityModel::Reviews(const Person& person, const Traits& traits, const Behaviour& behaviour, int copy,
                           int64_t created_seconds, Review* out) const {
  const bool planted = copy == 0 && behaviour.bad_review_day >= 0;
  if (!traits.reviewer && !planted) return 0;
  Rng rng(seed_, Stream::kReviews, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  const int32_t created_day = static_cast<int32_t>(created_seconds / 86400);
  const int32_t first_day = std::max(window_start_, created_day + 1);
  int32_t last_day = today_ - 1;
  if (behaviour.churn_day >= 0) last_day = std::min(last_day, behaviour.churn_day - 1);
  int count = 0;
  if (traits.reviewer && first_day <= last_day) {
    count = copy == 0 ? 1 + Poisson(rng, 0.7) : (rng.Chance(0.3) ? 1 : 0);
    count = std::min(count, kMaxActivitiesPerAccount - 1);
    // Rating distribution per satisfaction level (percent for ratings 1..5). Ratings of 1-2 are
    // mostly the planted bad experiences; satisfaction still moves the rest.
    static constexpr uint32_t kRatings[3][5] = {{8, 17, 45, 20, 10}, {2, 6, 40, 37, 15}, {1, 2, 12, 35, 50}};
    const auto& dist = kRatings[static_cast<int>(traits.satisfaction)];
    for (int i = 0; i < count; ++i) {
      Review& r = out[i];
      const auto day = static_cast<int32_t>(rng.Between(first_day, last_day));
      r.seconds = static_cast<int64_t>(day) * 86400 + rng.Below(86400);
      uint32_t target = rng.Below(100);
      r.rating = 5;
      for (int k = 0; k < 5; ++k) {
        if (target < dist[k]) {
          r.rating = k + 1;
          break;
        }
        target -= dist[k];
      }
      r.product = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(Products().size())));
      r.text_seed = rng.Next();
    }
  }
  if (planted) {
    // The bad experience, about the person's staple product.
    Review& r = out[count++];
    r.seconds = static_cast<int64_t>(behaviour.bad_review_day) * 86400 + rng.Below(86400);
    r.rating = rng.Chance(0.55) ? 1 : 2;
    r.product = behaviour.staple;
    r.text_seed = rng.Next();
  }
  std::sort(out, out + count, [](const Review& a, const Review& b) { return a.seconds < b.seconds; });
  return count;
}

void ActivityModel::AppendReviewText(const Review& review, std::string& out) const {
  Rng rng(review.text_seed);
  const std::string_view opener = kReviewOpeners[review.rating - 1][rng.Below(5)];
  const std::string_view product = Products()[static_cast<size_t>(review.product)].name;
  const size_t slot = opener.find("{p}");
  if (slot == std::string_view::npos) {
    out.append(opener);
  } else {
    out.append(opener.substr(0, slot)).append(product).append(opener.substr(slot + 3));
  }
  if (rng.Chance(0.25)) out.append(kReviewEndings[rng.Below(std::size(kReviewEndings))]);
}

int ActivityModel::Subscriptions(const Person& person, const Traits& traits, const Behaviour& behaviour,
                                 const Footprint& footprint, Subscription* out, bool* churned) const {
  *churned = false;
  if (!footprint.web) return 0;
  Rng rng(seed_, Stream::kSubscriptions, static_cast<uint64_t>(person.index));
  // Bean lovers subscribe twice as often.
  if (!rng.Chance(behaviour.favourite == ProductCategory::kBeans ? 0.34 : 0.17)) return 0;
  const int32_t lo = std::max(window_start_, footprint.web_created_day + 1);
  int32_t hi = today_ - 30;
  if (behaviour.churn_day >= 0) hi = std::min(hi, behaviour.churn_day - 1);
  if (lo > hi) return 0;
  static constexpr int32_t kRecurrence[3] = {30, 90, 365};
  static constexpr double kMonths[3] = {1, 3, 12};
  static constexpr double kDiscount[3] = {1.0, 0.95, 0.85};
  static constexpr double kMonthly[3] = {14.90, 19.90, 24.90};
  // A recurring subscription runs on for another period with this chance (by plan).
  static constexpr double kContinue[3] = {0.85, 0.7, 0.4};
  // Renewal (a new subscription within 30 days of the end) by Satisfaction.
  static constexpr double kRenew[3] = {0.45, 0.72, 0.85};
  auto pick_plan = [&rng] {
    const uint32_t u = rng.Below(100);
    return u < 50 ? 0 : u < 85 ? 1 : 2;
  };
  const double monthly = kMonthly[rng.Below(3)];
  const bool unsatisfied = traits.satisfaction == Satisfaction::kLow;
  int plan = pick_plan();
  int32_t start = static_cast<int32_t>(rng.Between(lo, hi));
  int n = 0;
  while (n < kMaxSubscriptionsPerPerson) {
    Subscription& s = out[n++];
    const int32_t period = kRecurrence[plan];
    s.start_day = start;
    s.recurring = rng.Chance(0.75);
    s.recurrence_days = period;
    s.cents = std::llround(monthly * kMonths[plan] * kDiscount[plan] * 100.0);
    int32_t periods = 1;
    if (s.recurring) {
      const double keep = kContinue[plan] * (unsatisfied ? 0.9 : 1.0);
      while (periods < 100 && rng.Chance(keep)) ++periods;
    }
    int32_t end = start + periods * period;
    // The first renewal date on or after `day`.
    auto boundary_after = [start, period](int32_t day) {
      return start + std::max<int32_t>(1, (day - start + period - 1) / period) * period;
    };
    const bool bad_review = behaviour.bad_review_day >= start - 30 && behaviour.bad_review_day < end;
    // A bad experience cancels a recurring subscription at its next renewal date; a churner cancels.
    if (s.recurring && behaviour.bad_review_day >= start && behaviour.bad_review_day < end) {
      end = boundary_after(behaviour.bad_review_day + 1);
    }
    if (behaviour.churn_day >= 0 && behaviour.churn_day < end) end = boundary_after(behaviour.churn_day);
    if (end >= today_) {
      s.end_day = -1;  // still running
      break;
    }
    s.end_day = end;
    // Nobody renews who stops buying before the renewal would start.
    const bool churner = behaviour.churn_day >= 0 && behaviour.churn_day <= end + 30;
    const double renew = churner ? 0.0 : bad_review ? 0.1 : kRenew[static_cast<int>(traits.satisfaction)];
    if (!rng.Chance(renew)) {
      *churned = true;
      break;
    }
    start = end + static_cast<int32_t>(rng.Between(0, 30));
    if (start >= today_) break;  // renews after today: not a churner
    if (rng.Chance(0.2)) plan = pick_plan();
  }
  return n;
}

}  // namespace cdp::demo_internal
