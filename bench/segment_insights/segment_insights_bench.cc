// bench_segment_insights (issue 19): segment insights on N generated
// customers (default 1,000,000): building CustomerAttributes from a Customer
// table (20 profile fields) and a Customer_Measure table (10 measures, rows
// in shuffled order, mapped by customer_of), the overlap of 100 segments
// (matrix, and with a breakdown), the differentiators of a 100,000-member
// segment over every attribute and measure, and H-models' lookalike (50,000
// source, every other customer as the pool) and suggested segments
// (numeric target LifetimeSpend) when models_bench.cc is built.
// Prints wall and CPU seconds and the process's peak RSS (getrusage) per part
// (bench/common/stopwatch.h), and per phase inside the lookalike and suggest.
//
//   bench_segment_insights [--customers N] [--seed S] [--threads T] [--skip-models]
//                          [--models-only] [--skip-lookalike] [--skip-suggest]
//                          [--lookalike-fold-threads F]   (1: folds one at a time, per-fold phases)
//
// The generated data: a latent "value" per customer drives income, credit
// score, loyalty tier, VIP flag and the measures, so segments defined on it
// overlap and differ from the rest as real ones do; identifying fields
// (names, e-mails, phones) are there to be skipped. Deterministic per seed.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "bench/common/stopwatch.h"
#include "common/datetime.h"
#include "common/parallel.h"
#include "insight/customer_attributes.h"
#include "insight/differentiators.h"
#include "insight/overlap.h"
#include "segment/customer_set.h"
#include "table/column.h"

#ifdef CDP_HAVE_MODELS_BENCH
#include "bench/segment_insights/models_bench.h"
#endif

namespace cdp {
namespace {

using bench::PeakRssMb;
using Meter = bench::Stopwatch;

Schema MakeSchema(std::vector<std::pair<std::string, DataType>> fields) {
  std::vector<Field> out;
  for (auto& [name, type] : fields) out.push_back(Field{name, type, {}});
  return Schema(std::move(out));
}

// An index in [0, n) skewed towards small values (Zipf-like, s about 1).
size_t Skewed(std::mt19937_64& rng, size_t n) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return std::min(n - 1, static_cast<size_t>(std::floor(std::pow(static_cast<double>(n) + 1, u))) - 1);
}

std::string Syllables(std::mt19937_64& rng, int parts) {
  static const char* kSyl[] = {"an", "bel", "cor", "da", "el", "fin", "gar", "hal", "is", "jo",  "ka", "lin",
                               "mar", "ne", "or", "pa", "quin", "ro", "sa", "tor", "ul", "ve", "wen", "yo"};
  std::string s;
  for (int i = 0; i < parts; ++i) s += kSyl[rng() % 24];
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

struct Generated {
  Table customer;
  Table measure;
  std::vector<int64_t> measure_customer;  // customer_of of the measure rows
  std::vector<double> value;              // the latent factor, for segments
  std::vector<SegmentMembers> segments;   // [0] 100k "high value", [1] 50k lookalike source
};

Generated Generate(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  Generated g;
  g.customer = Table(MakeSchema({{"CustomerId", DataType::kString},   {"FullName", DataType::kString},
                                 {"Email", DataType::kString},        {"Phone", DataType::kString},
                                 {"City", DataType::kString},         {"State", DataType::kString},
                                 {"Country", DataType::kString},      {"PostalCode", DataType::kString},
                                 {"Gender", DataType::kString},       {"DateOfBirth", DataType::kDate},
                                 {"SignupDate", DataType::kDate},     {"LastLogin", DataType::kTimestamp},
                                 {"LoyaltyTier", DataType::kString},  {"PreferredChannel", DataType::kString},
                                 {"Income", DataType::kDouble},       {"HouseholdSize", DataType::kInt64},
                                 {"IsVip", DataType::kBool},          {"NewsletterOptIn", DataType::kBool},
                                 {"Occupation", DataType::kString},   {"CreditScore", DataType::kInt64}}));
  g.measure = Table(MakeSchema({{"CustomerId", DataType::kString},
                                {"LifetimeSpend", DataType::kDouble},
                                {"OrdersCount", DataType::kInt64},
                                {"AvgOrderValue", DataType::kDouble},
                                {"DaysSinceLastOrder", DataType::kInt64},
                                {"ReturnsRate", DataType::kDouble},
                                {"WebVisits30d", DataType::kInt64},
                                {"EmailOpens90d", DataType::kInt64},
                                {"SupportTickets", DataType::kInt64},
                                {"DiscountShare", DataType::kDouble},
                                {"FirstOrderDate", DataType::kDate}}));
  for (size_t k = 0; k < g.customer.num_columns(); ++k) g.customer.mutable_column(k).Reserve(static_cast<size_t>(n));
  for (size_t k = 0; k < g.measure.num_columns(); ++k) g.measure.mutable_column(k).Reserve(static_cast<size_t>(n));

  std::vector<std::string> cities, postal;
  for (int i = 0; i < 300; ++i) cities.push_back(Syllables(rng, 2 + i % 2) + (i % 5 == 0 ? " City" : ""));
  for (int i = 0; i < 40000; ++i) postal.push_back(std::to_string(10000 + i * 2));
  static const char* kStates[] = {"CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA",
                                  "AZ", "MA", "TN", "IN", "MD", "MO", "WI", "CO", "MN", "SC", "AL", "LA", "KY",
                                  "OR", "OK", "CT", "UT", "IA", "NV", "AR", "MS", "KS", "NM", "NE", "ID", "WV",
                                  "HI", "NH", "ME", "RI", "MT", "DE", "SD", "ND", "AK", "VT", "WY"};
  static const char* kCountries[] = {"US", "CA", "GB", "DE", "FR", "MX", "AU", "NL"};
  static const char* kGenders[] = {"female", "male", "other"};
  static const char* kTiers[] = {"Bronze", "Silver", "Gold", "Platinum"};
  static const char* kChannels[] = {"Web", "Store", "App", "Phone"};
  static const char* kJobs[] = {"Engineer", "Teacher",  "Nurse",    "Manager", "Sales",   "Student", "Retired", "Artist",
                                "Driver",   "Clerk",    "Lawyer",   "Doctor",  "Chef",    "Farmer",  "Designer"};
  const int32_t today = DaysFromCivil(2026, 12, 1);

  g.value.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double z = normal(rng);
    g.value[static_cast<size_t>(i)] = z;
    Table& t = g.customer;
    char buf[64];
    std::snprintf(buf, sizeof buf, "C%08" PRId64, i);
    t.mutable_column(0).AppendString(buf);
    const std::string first = Syllables(rng, 2), last = Syllables(rng, 3);
    t.mutable_column(1).AppendString(first + " " + last);
    t.mutable_column(2).AppendString(first + "." + last + std::to_string(i % 1000) + "@example.com");
    std::snprintf(buf, sizeof buf, "+1 %03d %03d %04d", 200 + static_cast<int>(rng() % 800),
                  static_cast<int>(rng() % 1000), static_cast<int>(rng() % 10000));
    t.mutable_column(3).AppendString(buf);
    t.mutable_column(4).AppendString(cities[Skewed(rng, cities.size())]);
    t.mutable_column(5).AppendString(kStates[Skewed(rng, 50)]);
    t.mutable_column(6).AppendString(kCountries[Skewed(rng, 8)]);
    t.mutable_column(7).AppendString(postal[rng() % postal.size()]);
    if (unit(rng) < 0.05) t.mutable_column(8).AppendNull(); else t.mutable_column(8).AppendString(kGenders[rng() % 100 < 49 ? 0 : rng() % 50 < 48 ? 1 : 2]);
    const double age = std::clamp(45 + 14 * normal(rng) + 4 * z, 18.0, 90.0);
    if (unit(rng) < 0.08) t.mutable_column(9).AppendNull(); else t.mutable_column(9).AppendDate(today - static_cast<int32_t>(age * 365.25));
    const int32_t signup = today - static_cast<int32_t>(unit(rng) * 3650);
    t.mutable_column(10).AppendDate(signup);
    if (unit(rng) < 0.2) {
      t.mutable_column(11).AppendNull();
    } else {
      const double days_ago = std::exp(3 - 0.5 * z + normal(rng));
      t.mutable_column(11).AppendTimestamp((static_cast<int64_t>(today) * 86400 - static_cast<int64_t>(days_ago * 86400)) *
                                           1000000);
    }
    const double tier_score = z + 0.7 * normal(rng);
    t.mutable_column(12).AppendString(kTiers[tier_score < -0.3 ? 0 : tier_score < 0.6 ? 1 : tier_score < 1.4 ? 2 : 3]);
    t.mutable_column(13).AppendString(kChannels[Skewed(rng, 4)]);
    if (unit(rng) < 0.15) t.mutable_column(14).AppendNull(); else t.mutable_column(14).AppendDouble(std::round(std::exp(10.9 + 0.25 * z + 0.35 * normal(rng))));
    t.mutable_column(15).AppendInt64(1 + static_cast<int64_t>(std::min(6.0, std::fabs(normal(rng)) * 2)));
    t.mutable_column(16).AppendBool(z + 0.5 * normal(rng) > 1.6);
    if (unit(rng) < 0.1) t.mutable_column(17).AppendNull(); else t.mutable_column(17).AppendBool(unit(rng) < 0.4);
    t.mutable_column(18).AppendString(kJobs[Skewed(rng, 15)]);
    t.mutable_column(19).AppendInt64(static_cast<int64_t>(std::clamp(680 + 50 * z + 45 * normal(rng), 300.0, 850.0)));
    t.FinishRow();
  }
  // Measures: rows in a shuffled order, mapped back by customer_of.
  g.measure_customer.resize(static_cast<size_t>(n));
  std::iota(g.measure_customer.begin(), g.measure_customer.end(), 0);
  std::shuffle(g.measure_customer.begin(), g.measure_customer.end(), rng);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t c = g.measure_customer[static_cast<size_t>(r)];
    const double z = g.value[static_cast<size_t>(c)];
    Table& t = g.measure;
    char buf[32];
    std::snprintf(buf, sizeof buf, "C%08" PRId64, c);
    t.mutable_column(0).AppendString(buf);
    const bool buyer = unit(rng) < 0.9;
    const int64_t orders = buyer ? 1 + static_cast<int64_t>(std::exp(1.2 + 0.5 * z + 0.6 * normal(rng))) : 0;
    const double aov = std::exp(4.0 + 0.3 * z + 0.4 * normal(rng));
    if (buyer) {
      t.mutable_column(1).AppendDouble(std::round(orders * aov * 100) / 100);
      t.mutable_column(2).AppendInt64(orders);
      t.mutable_column(3).AppendDouble(std::round(aov * 100) / 100);
      t.mutable_column(4).AppendInt64(static_cast<int64_t>(std::exp(4.0 - 0.6 * z + 0.8 * normal(rng))));
      t.mutable_column(5).AppendDouble(std::clamp(0.08 + 0.05 * normal(rng), 0.0, 1.0));
    } else {
      for (int k = 1; k <= 5; ++k) t.mutable_column(static_cast<size_t>(k)).AppendNull();
    }
    t.mutable_column(6).AppendInt64(static_cast<int64_t>(std::max(0.0, 3 + 2 * z + 3 * normal(rng))));
    t.mutable_column(7).AppendInt64(static_cast<int64_t>(std::max(0.0, 5 + 3 * z + 4 * normal(rng))));
    t.mutable_column(8).AppendInt64(static_cast<int64_t>(std::max(0.0, 0.5 * normal(rng) + 0.3)));
    if (buyer) {
      t.mutable_column(9).AppendDouble(std::clamp(0.2 - 0.05 * z + 0.1 * normal(rng), 0.0, 1.0));
      t.mutable_column(10).AppendDate(today - static_cast<int32_t>(unit(rng) * 3000));
    } else {
      t.mutable_column(9).AppendNull();
      t.mutable_column(10).AppendNull();
    }
    t.FinishRow();
  }

  // Segments. [0]: the 100,000 customers of highest value + noise.
  const size_t un = static_cast<size_t>(n);
  auto top_by = [&](size_t size, double noise, const std::string& name) {
    std::vector<std::pair<double, uint32_t>> score(un);
    for (size_t c = 0; c < un; ++c) score[c] = {-(g.value[c] + noise * normal(rng)), static_cast<uint32_t>(c)};
    size = std::min(size, un);
    std::nth_element(score.begin(), score.begin() + static_cast<std::ptrdiff_t>(size), score.end());
    std::vector<uint32_t> members;
    for (size_t k = 0; k < size; ++k) members.push_back(score[k].second);
    std::sort(members.begin(), members.end());
    SegmentMembers s{name, CustomerSet::Of(members)};
    s.members.Optimize();
    return s;
  };
  const size_t high = std::min<size_t>(100000, un / 10), source = std::min<size_t>(50000, un / 20);
  g.segments.push_back(top_by(high, 0.5, "High value"));
  // [1]: 50,000 drawn from the 150,000 of highest value (a lookalike source with signal).
  {
    SegmentMembers pool = top_by(3 * source, 0.8, "pool");
    std::vector<uint32_t> v = pool.members.ToVector();
    std::shuffle(v.begin(), v.end(), rng);
    v.resize(std::min(source, v.size()));
    std::sort(v.begin(), v.end());
    g.segments.push_back({"Lookalike source", CustomerSet::Of(v)});
    g.segments.back().members.Optimize();
  }
  // [2..99]: log-uniform sizes 100..300,000; random samples, top-by-value with noise, index ranges.
  for (int k = 2; k < 100; ++k) {
    const size_t size = std::min(un, static_cast<size_t>(std::exp(std::log(100.0) + unit(rng) * std::log(3000.0))));
    const std::string name = "Segment " + std::to_string(k);
    if (k % 3 == 0) {
      g.segments.push_back(top_by(size, 1.0 + unit(rng) * 2, name));
    } else if (k % 3 == 1) {
      std::vector<uint32_t> v;
      const double p = static_cast<double>(size) / static_cast<double>(un);
      for (uint32_t c = 0; c < un; ++c) {
        if (unit(rng) < p) v.push_back(c);
      }
      g.segments.push_back({name, CustomerSet::Of(v)});
    } else {
      const uint32_t start = static_cast<uint32_t>(rng() % (un - size + 1));
      g.segments.push_back({name, CustomerSet::Range(start, start + static_cast<uint32_t>(size))});
    }
    g.segments.back().members.Optimize();
  }
  return g;
}

// Parts 2 and 3: overlap and differentiators. 0, or 1 after printing an error.
int RunOverlapAndDifferentiators(const Generated& g, const CustomerAttributes& attrs, int threads) {
  // 2. Overlap of the 100 segments: the matrix, then with a breakdown of the
  // customers shared by two large segments.
  uint64_t total_members = 0;
  for (const auto& s : g.segments) total_members += s.members.Count();
  OverlapOptions oo;
  oo.threads = threads;
  Meter ov;
  auto overlap = ComputeOverlap(g.segments, oo);
  if (!overlap.ok()) {
    std::fprintf(stderr, "ComputeOverlap: %s\n", overlap.status().ToString().c_str());
    return 1;
  }
  std::printf("overlap matrix: %zu segments (%" PRIu64 " memberships), %zu pairs, in any %" PRIu64
              ", shared by all %" PRIu64 ": %s\n",
              g.segments.size(), total_members, overlap->pairs.size(), overlap->in_any, overlap->shared_by_all,
              ov.Figures().c_str());
  {
    const std::string json = overlap->ToJson().dump();
    std::printf("  overlap JSON: %zu bytes\n", json.size());
  }
  std::vector<SegmentMembers> two = {g.segments[0], g.segments[1]};
  for (const char* attr : {"LoyaltyTier", "Income"}) {
    oo.breakdown = attrs.Find(attr);
    Meter ob;
    auto r = ComputeOverlap(two, oo);
    if (!r.ok()) {
      std::fprintf(stderr, "ComputeOverlap with breakdown: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("overlap of the %" PRIu64 " and %" PRIu64 " segments by %s: shared %" PRIu64 ", %zu buckets: %s\n",
                g.segments[0].members.Count(), g.segments[1].members.Count(), attr, r->shared_by_all, r->breakdown->buckets.size(), ob.Figures().c_str());
  }
  oo.breakdown = attrs.Find("LoyaltyTier");
  {
    Meter ob;
    auto r = ComputeOverlap(g.segments, oo);
    if (!r.ok()) return 1;
    std::printf("overlap of 100 segments with a LoyaltyTier breakdown: %s\n", ob.Figures().c_str());
  }

  // 3. Differentiators of the 100k segment over every attribute and measure.
  for (DifferentiatorBase base : {DifferentiatorBase::kRestOfCustomers, DifferentiatorBase::kAllCustomers}) {
    DifferentiatorOptions d;
    d.base = base;
    d.threads = threads;
    Meter dm;
    auto r = ComputeDifferentiators(attrs, g.segments[0].members, d);
    if (!r.ok()) {
      std::fprintf(stderr, "ComputeDifferentiators: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("differentiators of the %" PRIu64 "-member segment vs %s: %zu attributes: %s\n",
                r->segment_members, r->base.c_str(), r->attributes.size(), dm.Figures().c_str());
    for (size_t k = 0; k < std::min<size_t>(5, r->attributes.size()); ++k) {
      std::printf("  %zu. score %.3f  %s\n", k + 1, r->attributes[k].score, r->attributes[k].summary.c_str());
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  int64_t customers = 1000000;
  uint64_t seed = 19;
  int threads = 0;
  int fold_threads = 0;
  bool skip_models = false, models_only = false, skip_lookalike = false, skip_suggest = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--customers") && i + 1 < argc) customers = std::strtoll(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-models")) skip_models = true;
    else if (!std::strcmp(argv[i], "--models-only")) models_only = true;
    else if (!std::strcmp(argv[i], "--lookalike-fold-threads") && i + 1 < argc) fold_threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-lookalike")) skip_lookalike = true;
    else if (!std::strcmp(argv[i], "--skip-suggest")) skip_suggest = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_segment_insights [--customers N] [--seed S] [--threads T] [--skip-models]"
                   " [--models-only] [--skip-lookalike] [--skip-suggest] [--lookalike-fold-threads F]\n");
      return 2;
    }
  }
  if (customers < 10000 || customers > 50000000) {
    std::fprintf(stderr, "--customers must be in [10000, 50000000]\n");
    return 2;
  }
  std::printf("bench_segment_insights: %" PRId64 " customers, seed %" PRIu64 ", threads %d (0 = %d cores)\n",
              customers, seed, threads, ResolveThreads(0));

  Meter gen;
  Generated g = Generate(customers, seed);
  std::printf("generate: 2 tables (%zu + %zu fields), %zu segments: %s\n", g.customer.num_columns(),
              g.measure.num_columns(), g.segments.size(), gen.Figures().c_str());

  // 1. CustomerAttributes from the tables.
  AttributeOptions ao;
  ao.as_of_day = DaysFromCivil(2026, 12, 1);
  ao.threads = threads;
  std::vector<AttributeSource> sources = {{"Customer", &g.customer, {}},
                                          {"Customer_Measure", &g.measure, g.measure_customer}};
  Meter build;
  auto attrs = BuildCustomerAttributes(customers, sources, ao);
  if (!attrs.ok()) {
    std::fprintf(stderr, "BuildCustomerAttributes: %s\n", attrs.status().ToString().c_str());
    return 1;
  }
  size_t numeric = 0;
  for (const auto& a : attrs->attributes) numeric += a.kind == AttributeKind::kNumeric;
  std::printf("build attributes: %zu attributes (%zu numeric, %zu categorical), %zu skipped: %s\n",
              attrs->attributes.size(), numeric, attrs->attributes.size() - numeric, attrs->skipped.size(),
              build.Figures().c_str());
  for (const auto& s : attrs->skipped) std::printf("  skipped %s\n", s.c_str());

  if (models_only) {
    std::printf("overlap and differentiators: skipped (--models-only)\n");
  } else if (int rc = RunOverlapAndDifferentiators(g, *attrs, threads); rc != 0) {
    return rc;
  }

  // 4. H-models' parts: lookalike (50k source, the rest as pool) and
  // suggested segments for a numeric target.
  if (skip_models) {
    std::printf("models: skipped (--skip-models)\n");
  } else {
#ifdef CDP_HAVE_MODELS_BENCH
    std::fflush(stdout);
    if (!skip_lookalike) {
      Status s = RunLookalikeBench(*attrs, g.segments[1].members, fold_threads, std::cout);
      if (!s.ok()) {
        std::fprintf(stderr, "lookalike: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    if (!skip_suggest) {
      Status s = RunSuggestBench(*attrs, "LifetimeSpend", std::cout);
      if (!s.ok()) {
        std::fprintf(stderr, "suggest: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    std::cout.flush();
#else
    std::printf("models: not built (bench/segment_insights/models_bench.cc absent)\n");
#endif
  }
  std::printf("peak RSS at exit: %ld MB\n", PeakRssMb());
  return 0;
}

}  // namespace
}  // namespace cdp

int main(int argc, char** argv) { return cdp::Main(argc, argv); }
