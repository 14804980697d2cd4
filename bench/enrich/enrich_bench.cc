// bench_enrich: the enrichment modules (src/enrich) on generated data of
// N customers (default 1,000,000): brand affinities over ~10 events per
// customer and 500 brands (Zipf market shares, amounts as weights, 5% of the
// customers with a planted favourite brand), the engagement score over ~12
// activities of 5 types, third-party matching of 0.4 N records by e-mail then
// phone. Prints seconds per run on 1 and 2 threads, the planted brands
// recovered, and the peak RSS. Usage: bench_enrich [customers]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "enrich/affinity.h"
#include "enrich/engagement.h"
#include "enrich/third_party.h"

namespace {

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

template <typename Fn>
double Seconds(Fn&& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Die(const cdp::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  std::exit(1);
}

void Affinity(int64_t n) {
  constexpr int kBrands = 500;
  std::mt19937_64 rng(42);
  std::vector<double> zipf(kBrands);
  for (int b = 0; b < kBrands; ++b) zipf[static_cast<size_t>(b)] = 1.0 / (b + 1);
  std::discrete_distribution<int> brand(zipf.begin(), zipf.end());
  std::poisson_distribution<int> count(9.0);
  std::lognormal_distribution<double> amount(3.5, 0.8);
  cdp::AffinityEvents e;
  e.value_names.reserve(kBrands);
  for (int b = 0; b < kBrands; ++b) e.value_names.push_back("Brand" + std::to_string(b));
  e.offsets.reserve(static_cast<size_t>(n) + 1);
  e.offsets.push_back(0);
  std::vector<int32_t> planted(static_cast<size_t>(n), -1);
  for (int64_t c = 0; c < n; ++c) {
    int k = 1 + count(rng);
    bool plant = rng() % 20 == 0;
    int32_t fav = static_cast<int32_t>(10 + rng() % 190);  // a brand of 0.2%..1.6% share
    if (plant) planted[static_cast<size_t>(c)] = fav;
    for (int i = 0; i < k; ++i) {
      int32_t v = plant && rng() % 10 < 6 ? fav : static_cast<int32_t>(brand(rng));
      e.values.push_back(v);
      e.weights.push_back(amount(rng));
    }
    e.offsets.push_back(static_cast<int64_t>(e.values.size()));
  }
  std::printf("affinity: %lld customers, %zu events, %d brands (Zipf), amounts as weights\n",
              static_cast<long long>(n), e.values.size(), kBrands);
  for (int threads : {1, 2}) {
    cdp::AffinityOptions o;
    o.threads = threads;
    cdp::StatusOr<cdp::AffinityResult> r = cdp::InvalidArgumentError("not run");
    double s = Seconds([&] { r = cdp::ComputeAffinities(e, o); });
    if (!r.ok()) Die(r.status());
    int64_t planted_n = 0, top1 = 0, high = 0;
    for (int64_t c = 0; c < n; ++c) {
      int32_t fav = planted[static_cast<size_t>(c)];
      if (fav < 0) continue;
      ++planted_n;
      if (r->offsets[static_cast<size_t>(c) + 1] > r->offsets[static_cast<size_t>(c)]) {
        const cdp::CustomerAffinity& a =
            r->affinities[static_cast<size_t>(r->offsets[static_cast<size_t>(c)])];
        if (a.value == fav) {
          ++top1;
          if (a.score >= 70) ++high;
        }
      }
    }
    std::printf(
        "  threads %d: %.2f s; %zu affinities kept; planted favourite is top 1 for %.3f, High+ top 1 for "
        "%.3f of %lld\n",
        threads, s, r->affinities.size(), static_cast<double>(top1) / planted_n,
        static_cast<double>(high) / planted_n, static_cast<long long>(planted_n));
  }
}

void Engagement(int64_t n) {
  std::mt19937_64 rng(7);
  std::poisson_distribution<int> count(11.0);
  const int32_t as_of = 20400;
  cdp::EngagementEvents e;
  e.type_names = {"Purchase", "WebVisit", "EmailClick", "Review", "StoreVisit"};
  e.offsets.reserve(static_cast<size_t>(n) + 1);
  e.offsets.push_back(0);
  for (int64_t c = 0; c < n; ++c) {
    int k = rng() % 10 == 0 ? 0 : 1 + count(rng);
    for (int i = 0; i < k; ++i) {
      e.days.push_back(as_of + 30 - static_cast<int32_t>(rng() % 1000));
      e.types.push_back(static_cast<int32_t>(rng() % 5));
    }
    e.offsets.push_back(static_cast<int64_t>(e.types.size()));
  }
  std::printf("engagement: %lld customers, %zu events, 5 types\n", static_cast<long long>(n), e.types.size());
  for (int threads : {1, 2}) {
    cdp::EngagementOptions o;
    o.as_of_day = as_of;
    o.type_weights = {3, 1, 1, 2, 2};
    o.threads = threads;
    cdp::StatusOr<cdp::EngagementResult> r = cdp::InvalidArgumentError("not run");
    double s = Seconds([&] { r = cdp::ComputeEngagement(e, o); });
    if (!r.ok()) Die(r.status());
    std::printf(
        "  threads %d: %.2f s; active %lld; levels none/low/medium/high %lld/%lld/%lld/%lld; R_ref %.2f\n",
        threads, s, static_cast<long long>(r->active_customers),
        static_cast<long long>(r->customers_per_level[0]), static_cast<long long>(r->customers_per_level[1]),
        static_cast<long long>(r->customers_per_level[2]), static_cast<long long>(r->customers_per_level[3]),
        r->reference_raw);
  }
}

// A distinct valid-looking NANP number per customer (exchange 200..9xx).
std::string Phone(int64_t c, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, static_cast<long long>(200 + c / 10000),
                static_cast<long long>(c % 10000));
  return buf;
}

void ThirdParty(int64_t n) {
  std::mt19937_64 rng(3);
  std::vector<std::string> emails(static_cast<size_t>(n)), phones(static_cast<size_t>(n));
  for (int64_t c = 0; c < n; ++c) {
    emails[static_cast<size_t>(c)] =
        "first.last" + std::to_string(c) + (c % 3 == 0 ? "@gmail.com" : "@mail.org");
    phones[static_cast<size_t>(c)] = Phone(c, "(206) %03lld-%04lld");
  }
  // 0.4 n records: three in four are distinct customers spelled differently
  // (one in five of them without e-mail, matched by phone), one in a
  // hundred of those a second record of the previous customer (a duplicate
  // row: keys two records share are ambiguous), the rest strangers.
  const int64_t records = n * 4 / 10;
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t c = 0; c < n; ++c) order[static_cast<size_t>(c)] = c;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::string> rec_emails, rec_phones;
  int64_t planted = 0, duplicated = 0, next = 0, last = -1, pairs_one_email = 0;
  bool last_by_phone = false;
  for (int64_t r = 0; r < records; ++r) {
    if (r % 4 != 3) {
      int64_t c = r % 100 == 1 && last >= 0 ? last : order[static_cast<size_t>(next++)];
      bool by_phone = rng() % 5 == 0;
      if (c == last) {
        duplicated += 1;
        pairs_one_email += by_phone != last_by_phone;
      }
      last = c;
      last_by_phone = by_phone;
      ++planted;
      rec_emails.push_back(
          by_phone ? "" : "First.Last" + std::to_string(c) + (c % 3 == 0 ? "+x@GMAIL.com" : "@Mail.org"));
      rec_phones.push_back(Phone(c, "+1 206 %03lld %04lld"));
    } else {
      rec_emails.push_back("stranger" + std::to_string(r) + "@elsewhere.net");
      rec_phones.push_back("");
    }
  }
  // Truth: a customer with one row is matched (by e-mail, else by phone); of
  // a customer's two rows (same phone: ambiguous) one is matched exactly when
  // only one of them has the e-mail. (Customer 222222's phone, 206-222-2222,
  // is a placeholder: the truth may count one match too many.)
  const int64_t expected = planted - 2 * duplicated + pairs_one_email;
  std::vector<cdp::ThirdPartyKey> keys(2);
  keys[0].name = "Email";
  keys[0].kind = cdp::ThirdPartyKeyKind::kEmail;
  keys[1].name = "Phone";
  keys[1].kind = cdp::ThirdPartyKeyKind::kPhone;
  keys[0].customer_values.assign(emails.begin(), emails.end());
  keys[0].record_values.assign(rec_emails.begin(), rec_emails.end());
  keys[1].customer_values.assign(phones.begin(), phones.end());
  keys[1].record_values.assign(rec_phones.begin(), rec_phones.end());
  std::printf(
      "third party: %lld customers, %lld records (%lld of customers, %lld of them a second row of one), keys "
      "Email, Phone\n",
      static_cast<long long>(n), static_cast<long long>(records), static_cast<long long>(planted),
      static_cast<long long>(duplicated));
  for (int threads : {1, 2}) {
    cdp::ThirdPartyMatchOptions o;
    o.threads = threads;
    cdp::StatusOr<cdp::ThirdPartyMatch> m = cdp::InvalidArgumentError("not run");
    double s = Seconds([&] { m = cdp::MatchThirdParty(keys, o); });
    if (!m.ok()) Die(m.status());
    std::printf(
        "  threads %d: %.2f s; match rate %.4f (truth %.4f); by email %lld, by phone %lld; ambiguous records "
        "%lld/%lld\n",
        threads, s, m->match_rate, static_cast<double>(expected) / static_cast<double>(records),
        static_cast<long long>(m->keys[0].matched), static_cast<long long>(m->keys[1].matched),
        static_cast<long long>(m->keys[0].ambiguous_records),
        static_cast<long long>(m->keys[1].ambiguous_records));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  if (n < 1 || n > 100000000) {
    std::fprintf(stderr, "usage: bench_enrich [customers 1..1e8]\n");
    return 2;
  }
  Affinity(n);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  Engagement(n);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  ThirdParty(n);
  std::printf("peak RSS %.0f MiB\n", PeakRssMiB());
  return 0;
}
