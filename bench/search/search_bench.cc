// bench_search: the customer search index on generated customers (default 1M):
// build time, an incremental update with 1% of customers changed, index size
// and Open time, then queries/s on 1 and 2 threads for typo'd names, phone
// numbers in another formatting than stored, and filter-only queries with
// facets (exact counts). Target: the REST server must reach >= 2,000 search
// req/s on 2 cores, so the index alone must do well above that.
//
// Usage: bench_search [--customers N] [--queries N] [--seconds S] [--dir /tmp/DIR] [--keep]
//                     [--reuse]  (skip build and updates: query the index a --keep run left)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "search/search_index.h"

using namespace cdp;
using Clock = std::chrono::steady_clock;

namespace {

double Sec(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds used by this process: the machine is shared, so queries per
// CPU-second is the figure that does not depend on other load.
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const char* kFirst[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Charles", "Lisa",
    "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven",
    "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Edward", "Rebecca",
    "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas",
    "Angela", "Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma",
    "Scott", "Nicole", "Brandon", "Helen", "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine",
    "Alexander", "Debra", "Frank", "Rachel", "Patrick", "Carolyn", "Raymond", "Janet", "Jack", "Catherine",
    "Dennis", "Maria", "Jerry", "Heather", "Tyler", "Diane", "Aaron", "Ruth", "Jose", "Julie", "Adam", "Olivia",
    "Nathan", "Joyce", "Henry", "Virginia", "Douglas", "Victoria", "Zachary", "Kelly", "Peter", "Lauren", "Kyle",
    "Christina", "Ethan", "Joan", "Walter", "Evelyn", "Noah", "Judith", "Jeremy", "Megan", "Christian", "Andrea",
    "Keith", "Cheryl", "Roger", "Hannah", "Terry", "Jacqueline", "Gerald", "Martha", "Harold", "Gloria", "Sean",
    "Teresa", "Austin", "Ann", "Carl", "Sara", "Arthur", "Madison", "Lawrence", "Frances", "Dylan", "Kathryn",
    "Jesse", "Janice", "Jordan", "Jean", "Bryan", "Abigail", "Billy", "Alice", "Joe", "Judy", "Bruce", "Sophia",
    "Gabriel", "Grace", "Logan", "Denise", "Albert", "Amber", "Willie", "Doris", "Alan", "Marilyn", "Juan",
    "Danielle", "Wayne", "Beverly", "Elijah", "Isabella", "Randy", "Theresa", "Roy", "Diana", "Vincent",
    "Natalie", "Ralph", "Brittany", "Eugene", "Charlotte", "Russell", "Marie", "Bobby", "Kayla", "Mason", "Alexis",
    "Philip", "Lori"};
const char* kSyllables[] = {"an", "ber", "son", "ton", "ley", "mar", "win", "gar", "ford", "man", "ham", "ker",
                            "dal", "ros", "vel", "lin", "stro", "mo", "per", "quin", "ash", "bur", "field", "wood",
                            "cla", "rey", "nor", "wick", "hal", "den", "tis", "ral", "ves", "kov", "ski", "ez"};
const char* kStates[] = {"CA", "TX", "FL", "NY", "WA", "IL", "OH", "PA", "GA", "NC", "MI", "NJ", "VA", "AZ", "MA",
                         "TN", "IN", "CO", "OR", "NV", "NM", "UT", "MN", "WI", "MO"};
const char* kGenders[] = {"Female", "Male", "Nonbinary"};
const char* kTiers[] = {"Bronze", "Silver", "Gold", "Platinum"};
const char* kDomains[] = {"gmail.com", "outlook.com", "yahoo.com", "contoso.com", "fabrikam.com"};
const char* kAreaCodes[] = {"206", "312", "415", "646", "773", "425", "503", "617", "702", "818", "213", "305",
                            "404", "512", "602", "713", "720", "801", "858", "919"};
const char* kStreets[] = {"Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Lake Blvd", "Hill Ct"};

struct Generated {
  SearchIndexInput input;
  std::vector<std::string> first, last, phone;
};

std::string LastName(uint32_t k) {
  // ~36^2 + 36^3 distinct names from syllables, capitalized.
  std::string s = kSyllables[k % 36];
  s += kSyllables[(k / 36) % 36];
  if (k >= 36 * 36) s += kSyllables[(k / 1296) % 36];
  s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::shared_ptr<Table> MakeCustomers(size_t n, uint64_t seed, Generated* g) {
  std::mt19937_64 rng(seed);
  auto t = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}},
                                           {"FirstName", DataType::kString, {}},
                                           {"LastName", DataType::kString, {}},
                                           {"Email", DataType::kString, {}},
                                           {"Phone", DataType::kString, {}},
                                           {"City", DataType::kString, {}},
                                           {"StreetAddress", DataType::kString, {}},
                                           {"State", DataType::kString, {}},
                                           {"Gender", DataType::kString, {}},
                                           {"LoyaltyTier", DataType::kString, {}}}));
  const size_t n_first = sizeof(kFirst) / sizeof(kFirst[0]);
  std::string buf;
  for (size_t i = 0; i < n; ++i) {
    // Skewed name choice: common names are common.
    std::string first = kFirst[std::min<size_t>(n_first - 1, static_cast<size_t>(std::abs(std::normal_distribution<double>(0, 60)(rng))))];
    std::string last = LastName(static_cast<uint32_t>(std::min<uint64_t>(47000, static_cast<uint64_t>(std::exponential_distribution<double>(1.0 / 6000)(rng)))));
    char phone[32];
    snprintf(phone, sizeof phone, "(%s) %d%02d-%04d", kAreaCodes[rng() % 20], 2 + static_cast<int>(rng() % 8),
             static_cast<int>(rng() % 100), static_cast<int>(rng() % 10000));
    t->mutable_column(0).AppendInt64(static_cast<int64_t>(i + 1));
    t->mutable_column(1).AppendString(first);
    t->mutable_column(2).AppendString(last);
    buf = first + "." + last + std::to_string(rng() % 1000) + "@" + kDomains[rng() % 5];
    t->mutable_column(3).AppendString(buf);
    t->mutable_column(4).AppendString(phone);
    t->mutable_column(5).AppendString(LastName(static_cast<uint32_t>(rng() % 2000)) + (rng() % 2 ? "ville" : " City"));
    buf = std::to_string(1 + rng() % 9999) + " " + kStreets[rng() % 8];
    t->mutable_column(6).AppendString(buf);
    t->mutable_column(7).AppendString(kStates[rng() % 25]);
    t->mutable_column(8).AppendString(kGenders[rng() % 3]);
    if (rng() % 4) t->mutable_column(9).AppendString(kTiers[rng() % 4]); else t->mutable_column(9).AppendNull();
    t->FinishRow();
    if (g) {
      g->first.push_back(first);
      g->last.push_back(last);
      g->phone.push_back(phone);
    }
  }
  return t;
}

Generated Generate(size_t n, uint64_t seed) {
  Generated g;
  g.input.customers = MakeCustomers(n, seed, &g);
  auto keys = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}},
                                              {"Source", DataType::kString, {}},
                                              {"SourceKey", DataType::kString, {}}}));
  std::mt19937_64 rng(seed + 1);
  char key[32];
  for (size_t i = 0; i < n; ++i) {
    keys->mutable_column(0).AppendInt64(static_cast<int64_t>(i + 1));
    keys->mutable_column(1).AppendString("crm");
    snprintf(key, sizeof key, "CRM-%07zu", i + 1);
    keys->mutable_column(2).AppendString(key);
    keys->FinishRow();
    if (rng() % 2) {
      keys->mutable_column(0).AppendInt64(static_cast<int64_t>(i + 1));
      keys->mutable_column(1).AppendString("pos");
      snprintf(key, sizeof key, "P%08llx", static_cast<unsigned long long>(rng() & 0xffffffffu));
      keys->mutable_column(2).AppendString(key);
      keys->FinishRow();
    }
  }
  g.input.source_keys = keys;
  for (int s = 0; s < 10; ++s) {
    auto& m = g.input.segment_members["Segment " + std::to_string(s)];
    uint64_t pct = 5 + 3 * static_cast<uint64_t>(s);
    for (size_t i = 0; i < n; ++i) {
      if (rng() % 100 < pct) m.push_back(static_cast<int64_t>(i + 1));
    }
  }
  return g;
}

// One typo in the longer word: swap two adjacent letters or replace one.
std::string Typo(std::string w, std::mt19937_64& rng) {
  if (w.size() < 4) return w;
  size_t p = 1 + rng() % (w.size() - 2);
  if (rng() % 2) {
    std::swap(w[p], w[p + 1]);
  } else {
    w[p] = static_cast<char>('a' + rng() % 26);
  }
  return w;
}

struct Workload {
  const char* name;
  std::vector<SearchQuery> queries;
  std::vector<int64_t> expected;  // the customer each query was made from (-1: none)
};

// Runs the workload's queries round-robin on `threads` threads for ~`seconds`.
double Qps(const SearchIndex& index, const Workload& w, int threads, double seconds, double* hit_rate,
           double* per_cpu_second = nullptr) {
  double cpu0 = CpuSeconds();
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0}, found{0}, errors{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (Sec(start, Clock::now()) < seconds) {
        size_t i = next.fetch_add(1) % w.queries.size();
        auto r = index.Search(w.queries[i]);
        if (!r.ok()) {
          ++errors;
          continue;
        }
        if (w.expected[i] >= 0) {
          for (const auto& h : r->hits) {
            if (h.customer_id == w.expected[i]) {
              ++found;
              break;
            }
          }
        }
        ++done;
      }
    });
  }
  for (auto& t : pool) t.join();
  double elapsed = Sec(start, Clock::now());
  if (errors) fprintf(stderr, "  %zu errors\n", errors.load());
  if (hit_rate) *hit_rate = done ? static_cast<double>(found) / static_cast<double>(done) : 0;
  if (per_cpu_second) *per_cpu_second = static_cast<double>(done) / (CpuSeconds() - cpu0);
  return static_cast<double>(done) / elapsed;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  size_t customers = 1000000, queries = 2000;
  std::string dir = (std::filesystem::temp_directory_path() / "cdp_bench_search").string();
  bool keep = false;
  bool reuse = false;
  std::string only;    // run only the workload whose name starts with this  // query an index kept by an earlier --keep run (same --customers)
  double seconds = 3.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--customers" && i + 1 < argc) customers = std::stoul(argv[++i]);
    else if (a == "--queries" && i + 1 < argc) queries = std::stoul(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) seconds = std::stod(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--keep") keep = true;
    else if (a == "--reuse") reuse = true;
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_search [--customers N] [--queries N] [--seconds S] [--dir DIR] [--keep] [--reuse] [--only typo|phones|filters]\n");
      return 2;
    }
  }
  if (!reuse) std::filesystem::remove_all(dir);
  printf("bench_search: %zu customers, index in %s, %u hardware threads\n", customers, dir.c_str(),
         std::thread::hardware_concurrency());

  auto t0 = Clock::now();
  Generated g = Generate(customers, 42);
  auto t1 = Clock::now();
  printf("generate            %8.2f s\n", Sec(t0, t1));

  if (!reuse) {
  auto built = SearchIndex::Update(dir, SearchConfig{}, g.input);
  auto t2 = Clock::now();
  if (!built.ok()) {
    fprintf(stderr, "%s\n", built.status().ToString().c_str());
    return 1;
  }
  printf("build               %8.2f s  (%.0f customers/s)  index %.1f MB\n", Sec(t1, t2),
         static_cast<double>(customers) / Sec(t1, t2), static_cast<double>(DirBytes(dir)) / 1e6);

  // 1% changed: new last name and phone for every 100th customer.
  SearchIndexInput changed = g.input;
  {
    auto t = std::make_shared<Table>(*g.input.customers);
    auto fresh = MakeCustomers(customers, 4242, nullptr);
    Table copy(t->schema());
    for (size_t r = 0; r < customers; ++r) {
      const Table& from = (r % 100 == 7) ? *fresh : *t;
      for (size_t c = 0; c < t->num_columns(); ++c) {
        if (c == 0) copy.mutable_column(0).AppendInt64(t->column(0).Int64At(r));
        else copy.mutable_column(c).AppendFrom(from.column(c), r);
      }
      copy.FinishRow();
    }
    changed.customers = std::make_shared<Table>(std::move(copy));
  }
  auto t3 = Clock::now();
  auto upd = SearchIndex::Update(dir, SearchConfig{}, changed);
  auto t4 = Clock::now();
  if (!upd.ok()) {
    fprintf(stderr, "%s\n", upd.status().ToString().c_str());
    return 1;
  }
  printf("update 1%% changed   %8.2f s  (added %lld updated %lld removed %lld unchanged %lld)  index %.1f MB\n",
         Sec(t3, t4), static_cast<long long>(upd->added), static_cast<long long>(upd->updated),
         static_cast<long long>(upd->removed), static_cast<long long>(upd->unchanged),
         static_cast<double>(DirBytes(dir)) / 1e6);
  auto t5 = Clock::now();
  auto noop = SearchIndex::Update(dir, SearchConfig{}, changed);
  printf("update unchanged    %8.2f s  (unchanged %lld)\n", Sec(t5, Clock::now()),
         static_cast<long long>(noop.ok() ? noop->unchanged : -1));

  }
  auto t6 = Clock::now();
  auto opened = SearchIndex::Open(dir);
  auto t7 = Clock::now();
  if (!opened.ok()) {
    fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  const SearchIndex& index = *opened.value();
  printf("open                %8.2f s\n", Sec(t6, t7));

  // Workloads, made from customers unchanged by the update.
  std::mt19937_64 rng(7);
  Workload names{"typo'd names", {}, {}}, phones{"phones", {}, {}}, filters{"filters + facets", {}, {}};
  for (size_t i = 0; i < queries; ++i) {
    size_t r = rng() % customers;
    if (r % 100 == 7) ++r;
    r %= customers;
    SearchQuery q;
    q.facets = false;
    q.text = Typo(g.first[r], rng) + " " + Typo(g.last[r], rng);
    names.queries.push_back(q);
    names.expected.push_back(static_cast<int64_t>(r + 1));
    // Stored "(206) 555-0142": asked as "+1 206 555 0142" or "206.555.0142".
    std::string digits;
    for (char c : g.phone[r]) if (isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    q.text = (rng() % 2) ? "+1 " + digits.substr(0, 3) + " " + digits.substr(3, 3) + " " + digits.substr(6)
                         : digits.substr(0, 3) + "." + digits.substr(3, 3) + "." + digits.substr(6);
    phones.queries.push_back(q);
    phones.expected.push_back(static_cast<int64_t>(r + 1));
    SearchQuery f;
    f.facets = true;
    f.filters.emplace_back("State", kStates[rng() % 25]);
    if (rng() % 2) f.filters.emplace_back("Gender", kGenders[rng() % 3]);
    if (rng() % 2) f.filters.emplace_back("LoyaltyTier", kTiers[rng() % 4]);
    if (rng() % 3 == 0) f.filters.emplace_back("segment", "Segment " + std::to_string(rng() % 10));
    filters.queries.push_back(f);
    filters.expected.push_back(-1);
  }
  // How large the filter-only matching sets are.
  double avg_total = 0;
  for (size_t i = 0; i < std::min<size_t>(200, filters.queries.size()); ++i) {
    avg_total += static_cast<double>(index.Search(filters.queries[i])->total);
  }
  avg_total /= static_cast<double>(std::min<size_t>(200, filters.queries.size()));

  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 1) load[0] = -1;
  printf("\nqueries/s (wall clock; per CPU-second in brackets; load average %.1f)\n", load[0]);
  printf("%-18s %20s %20s\n", "", "1 thread", "2 threads");
  for (Workload* w : {&names, &phones, &filters}) {
    if (std::string(w->name).rfind(only, 0) != 0) continue;
    double hit1 = 0, hit2 = 0, cpu1 = 0, cpu2 = 0;
    Qps(index, *w, 1, 0.5, nullptr);  // warm up
    double q1 = Qps(index, *w, 1, seconds, &hit1, &cpu1);
    double q2 = Qps(index, *w, 2, seconds, &hit2, &cpu2);
    printf("%-18s %8.0f (%8.0f) %8.0f (%8.0f)", w->name, q1, cpu1, q2, cpu2);
    if (w->expected[0] >= 0) {
      printf("  intended customer in the top 20: %.1f%%\n", 100 * hit1);
    } else {
      printf("  avg matching set %.0f customers\n", avg_total);
    }
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
