#include "demo/internal/activity_model.h"

#include <algorithm>
#include <cmath>

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

ActivityModel::ActivityModel(uint64_t seed, int32_t today)
    : seed_(seed), today_(today), window_start_(today - kActivityWindowDays) {
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

int32_t ActivityModel::PickDay(Rng& rng, int32_t first_day) const {
  const int32_t last_day = today_ - 1;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const auto day = static_cast<int32_t>(rng.Between(first_day, last_day));
    if (rng.Uniform() * max_weight_ < day_weight_[static_cast<size_t>(day - window_start_)]) return day;
  }
  return last_day;
}

int32_t ActivityModel::PickProduct(Rng& rng, int64_t cents, int32_t day) const {
  const auto products = Products();
  const uint8_t month = month_[static_cast<size_t>(day - window_start_)];
  Season season = Season::kAllYear;
  if (month >= 6 && month <= 8) season = Season::kSummer;
  if (month >= 11) season = Season::kHoliday;
  if (season != Season::kAllYear && rng.Chance(0.35)) {
    int32_t count = 0;
    for (const Product& p : products) count += p.season == season;
    int32_t target = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(count)));
    for (size_t i = 0; i < products.size(); ++i) {
      if (products[i].season == season && target-- == 0) return static_cast<int32_t>(i);
    }
  }
  // The closest list price (as a ratio) among a few random products.
  const double price = static_cast<double>(cents) / 100.0;
  int32_t best = 0;
  double best_score = 1e300;
  for (int i = 0; i < 4; ++i) {
    const auto candidate = static_cast<int32_t>(rng.Below(static_cast<uint32_t>(products.size())));
    const double ratio = products[static_cast<size_t>(candidate)].list_price / price;
    const double score = ratio >= 1 ? ratio : 1 / ratio;
    if (score < best_score) {
      best_score = score;
      best = candidate;
    }
  }
  return best;
}

int ActivityModel::Purchases(Stream stream, const Person& person, double basket, double rate, bool buyer,
                             bool has_duplicate, int copy, int64_t created_seconds, bool in_store,
                             Purchase* out) const {
  if (!buyer) return 0;
  Rng rng(seed_, stream, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  const int32_t created_day = static_cast<int32_t>(created_seconds / 86400);
  const int32_t first_day = std::max(window_start_, created_day + 1);
  if (first_day > today_ - 1) return 0;
  const double share = has_duplicate ? (copy == 0 ? 0.7 : 0.3) : 1.0;
  const double lambda = rate * share * (today_ - first_day) / kActivityWindowDays;
  int count = std::min(Poisson(rng, lambda), kMaxActivitiesPerAccount);
  if (count == 0 && copy == 0) count = 1;
  for (int i = 0; i < count; ++i) {
    Purchase& p = out[i];
    const int32_t day = PickDay(rng, first_day);
    const uint32_t hour = PickHour(rng, in_store ? kStoreHours : kOnlineHours);
    p.seconds = static_cast<int64_t>(day) * 86400 + hour * 3600 + rng.Below(3600);
    const double dollars =
        basket * DetExp(0.30 * rng.Normal()) * price_factor_[static_cast<size_t>(day - window_start_)];
    p.cents = std::clamp<int64_t>(std::llround(dollars * 100.0), 299, 250000);
    p.product = PickProduct(rng, p.cents, day);
    p.points = 0;
  }
  std::sort(out, out + count, [](const Purchase& a, const Purchase& b) { return a.seconds < b.seconds; });
  return count;
}

int ActivityModel::OnlinePurchases(const Person& person, const Traits& traits, bool has_duplicate, int copy,
                                   int64_t created_seconds, Purchase* out) const {
  return Purchases(Stream::kOnlinePurchases, person, traits.online_basket, traits.online_rate,
                   traits.online_buyer, has_duplicate, copy, created_seconds, false, out);
}

int ActivityModel::StorePurchases(const Person& person, const Traits& traits, bool has_duplicate, int copy,
                                  int64_t created_seconds, Purchase* out) const {
  const int count = Purchases(Stream::kStorePurchases, person, traits.store_basket, traits.store_rate,
                              traits.store_buyer, has_duplicate, copy, created_seconds, true, out);
  // Points per whole dollar: Bronze 1, Silver 1.25, Gold 1.5, Platinum 2.
  static constexpr int64_t kPointsPer100Dollars[] = {100, 125, 150, 200};
  const int64_t factor = kPointsPer100Dollars[static_cast<int>(traits.tier)];
  for (int i = 0; i < count; ++i) out[i].points = static_cast<int32_t>(out[i].cents / 100 * factor / 100);
  return count;
}

int ActivityModel::Reviews(const Person& person, const Traits& traits, int copy, int64_t created_seconds,
                           Review* out) const {
  if (!traits.reviewer) return 0;
  Rng rng(seed_, Stream::kReviews, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  int count = copy == 0 ? 1 + Poisson(rng, 0.7) : (rng.Chance(0.3) ? 1 : 0);
  count = std::min(count, kMaxActivitiesPerAccount);
  const int32_t created_day = static_cast<int32_t>(created_seconds / 86400);
  const int32_t first_day = std::max(window_start_, created_day + 1);
  if (first_day > today_ - 1) return 0;
  // Rating distribution per satisfaction level (percent for ratings 1..5).
  static constexpr uint32_t kRatings[3][5] = {{30, 35, 25, 7, 3}, {5, 12, 38, 32, 13}, {2, 3, 10, 35, 50}};
  const auto& dist = kRatings[static_cast<int>(traits.satisfaction)];
  for (int i = 0; i < count; ++i) {
    Review& r = out[i];
    const auto day = static_cast<int32_t>(rng.Between(first_day, today_ - 1));
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

}  // namespace cdp::demo_internal
