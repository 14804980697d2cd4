// bench_unify_normalize: values per second of each normalizer, single-threaded, on generated
// realistic values. Prints figures only; never a pass/fail test.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "unify/normalize/normalizer.h"

namespace {

using cdp::NormalizerChain;

const char* kFirst[] = {"John", "Mary", "Bob", "José", "Liz", "William", "Øyvind", "Łukasz",
                        "Peggy", "Mohammed", "Anna", "Dr. James", "Chris", "Müller", "Sarah",
                        "Mrs. Jane", "Bill", "Zoë"};
const char* kLast[] = {"Smith", "Johnson", "O'Brien", "García", "Müller", "Nguyen", "Kowalski",
                       "Smith Jr.", "Brown", "Lee", "Hansen", "Williams", "Martínez", "Li"};
const char* kStreets[] = {"Oak", "Main", "Maple", "Second", "Park", "Elm", "Washington", "Lake"};
const char* kTypes[] = {"Street", "St", "Avenue", "Ave.", "Road", "Blvd", "Drive", "Lane"};
const char* kDirs[] = {"", "North ", "S ", "NE ", "West "};
const char* kUnits[] = {"", " Apt. 4B", " #12", " Suite 300", ""};
const char* kOrgs[] = {"Contoso Ltd.", "Fabrikam, Inc.", "The Coffee Company", "Adventure Works LLC",
                       "Müller GmbH", "Procter & Gamble Co.", "Northwind Traders Corporation"};
const char* kDomains[] = {"gmail.com", "outlook.com", "contoso.com", "yahoo.com", "hotmail.co.uk",
                          "example.org", "icloud.com"};

// Phones: customers of one business share area codes and exchanges; `prefixes` distinct
// NPA-NXX-digit prefixes (0: every number drawn from the whole NANP space).
std::vector<std::string> Generate(const std::string& kind, size_t n, size_t prefixes = 20000) {
  std::mt19937 rng(7);
  std::vector<int> pool;
  for (size_t i = 0; i < prefixes; ++i) pool.push_back(static_cast<int>(rng() % 6400000));
  auto pick = [&](auto& array) { return array[rng() % (sizeof(array) / sizeof(array[0]))]; };
  std::vector<std::string> values;
  values.reserve(n);
  char buf[160];
  for (size_t i = 0; i < n; ++i) {
    if (kind == "Phone") {
      const int prefix = pool.empty() ? static_cast<int>(rng() % 6400000) : pool[rng() % pool.size()];
      const int npa = 200 + prefix / 8000, nxx = 200 + prefix / 10 % 800;
      const int line = prefix % 10 * 1000 + static_cast<int>(rng() % 1000);
      switch (rng() % 5) {
        case 0: std::snprintf(buf, sizeof buf, "(%03d) %03d-%04d", npa, nxx, line); break;
        case 1: std::snprintf(buf, sizeof buf, "%03d-%03d-%04d", npa, nxx, line); break;
        case 2: std::snprintf(buf, sizeof buf, "+1 %03d %03d %04d", npa, nxx, line); break;
        case 3: std::snprintf(buf, sizeof buf, "%03d.%03d.%04d", npa, nxx, line); break;
        default: std::snprintf(buf, sizeof buf, "1%03d%03d%04d", npa, nxx, line); break;
      }
    } else if (kind == "Address") {
      std::snprintf(buf, sizeof buf, "%d %s%s %s%s", 1 + static_cast<int>(rng() % 9999), pick(kDirs),
                    pick(kStreets), pick(kTypes), pick(kUnits));
    } else if (kind == "Organization") {
      std::snprintf(buf, sizeof buf, "%s", pick(kOrgs));
    } else if (kind == "Email" || kind == "EmailProvider") {
      std::snprintf(buf, sizeof buf, " %s.%s%d%s@%s", pick(kFirst), pick(kLast), static_cast<int>(rng() % 100),
                    rng() % 4 == 0 ? "+shop" : "", pick(kDomains));
    } else {
      std::snprintf(buf, sizeof buf, "%s %s", pick(kFirst), pick(kLast));
    }
    values.emplace_back(buf);
  }
  return values;
}

double Measure(const NormalizerChain& chain, const std::vector<std::string>& values, size_t* nonempty) {
  std::string out;
  for (size_t i = 0; i < values.size() / 10; ++i) chain.Normalize(values[i], &out);  // warm up
  *nonempty = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& value : values) {
    chain.Normalize(value, &out);
    *nonempty += out.empty() ? 0 : 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(values.size()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? static_cast<size_t>(std::stoul(argv[1])) : 500000;
  std::printf("%-16s %14s %10s  %s\n", "normalizer", "values/s", "non-empty", "example");
  for (std::string_view listed : cdp::KnownNormalizers()) {
    const std::string name = listed == "PhoneLast<N>" ? "PhoneLast7" : std::string(listed);
    auto chain = NormalizerChain::Create({name}, {});
    if (!chain.ok()) {
      std::fprintf(stderr, "%s\n", chain.status().ToString().c_str());
      return 1;
    }
    const std::vector<std::string> values = Generate(name.rfind("Phone", 0) == 0 ? "Phone" : name, n);
    size_t nonempty = 0;
    const double rate = Measure(*chain, values, &nonempty);
    std::printf("%-16s %14.0f %9.1f%%  '%s' -> '%s'%s\n", name.c_str(), rate,
                100.0 * static_cast<double>(nonempty) / static_cast<double>(n), values[0].c_str(),
                chain->Normalize(values[0]).c_str(),
                name == "Phone" ? "  (20,000 distinct prefixes)" : "");
  }
  // Phones spread over the whole NANP space: nearly every number misses the validity memo.
  {
    auto chain = NormalizerChain::Create({"Phone"}, {});
    const std::vector<std::string> values = Generate("Phone", n / 5, 0);
    size_t nonempty = 0;
    const double rate = Measure(*chain, values, &nonempty);
    std::printf("%-16s %14.0f %9.1f%%  (NANP numbers with random prefixes: cold memo)\n", "Phone/cold", rate,
                100.0 * static_cast<double>(nonempty) / static_cast<double>(values.size()));
  }
  // libphonenumber alone, for comparison with the fast path: non-NANP numbers.
  {
    cdp::NormalizeOptions options;
    options.default_region = "GB";
    auto chain = NormalizerChain::Create({"Phone"}, options);
    std::vector<std::string> values = Generate("Phone", n / 20);
    for (std::string& v : values) v = "+44 20 7946 " + v.substr(v.size() - 4);
    size_t nonempty = 0;
    const double rate = Measure(*chain, values, &nonempty);
    std::printf("%-16s %14.0f %9.1f%%  (libphonenumber path, GB numbers)\n", "Phone/slow", rate,
                100.0 * static_cast<double>(nonempty) / static_cast<double>(values.size()));
  }
  return 0;
}
