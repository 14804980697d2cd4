// Micro-benchmark of the unify/compare comparators on name-length strings.
//
//   bench_unify_compare [--pairs 4096] [--rounds 400]
//
// Builds a fixed set of name pairs (ASCII first/last names with typos, plus
// some with Latin accents) and prints calls/s, single-threaded, for each
// function. Figures are per thread CPU second.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "unify/compare/phonetic.h"
#include "unify/compare/similarity.h"

namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<std::pair<std::string, std::string>> MakePairs(int count) {
  static const char* kNames[] = {"John",     "Jonathan", "Catherine", "Katherine", "Mohammed", "Muhammad",
                                 "Smith",    "Schmidt",  "Thompson",  "Thomson",   "Gallegos", "Jankelowicz",
                                 "Williams", "Gonzalez", "Alexander", "Elizabeth", "Christopher", "Anderson",
                                 "José",     "Müller",   "François",  "Zoë",       "Łukasz",    "Nguyen"};
  constexpr int kNameCount = sizeof(kNames) / sizeof(kNames[0]);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, kNameCount - 1);
  std::uniform_int_distribution<int> coin(0, 3);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(count);
  for (int i = 0; i < count; ++i) {
    std::string a = kNames[pick(rng)];
    std::string b;
    if (coin(rng) == 0) {
      b = kNames[pick(rng)];  // unrelated name
    } else {
      b = a;  // the same name with a typo or two
      const int edits = coin(rng) % 3;
      for (int e = 0; e < edits && !b.empty(); ++e) {
        std::uniform_int_distribution<size_t> at(0, b.size() - 1);
        const size_t p = at(rng);
        if (static_cast<unsigned char>(b[p]) >= 0x80) continue;  // keep UTF-8 valid
        b[p] = static_cast<char>('a' + coin(rng));
      }
    }
    pairs.emplace_back(std::move(a), std::move(b));
  }
  return pairs;
}

template <typename Fn>
void Measure(const char* name, int rounds, size_t calls_per_round, Fn&& fn) {
  volatile double sink = 0;
  fn(sink);  // warm up
  const double start = ThreadCpuSeconds();
  for (int r = 0; r < rounds; ++r) fn(sink);
  const double seconds = ThreadCpuSeconds() - start;
  const double calls = static_cast<double>(rounds) * static_cast<double>(calls_per_round);
  std::printf("%-28s %8.2f M calls/s  (%.1f ns/call)\n", name, calls / seconds / 1e6, seconds / calls * 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  int pair_count = 4096;
  int rounds = 400;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--pairs") == 0) pair_count = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  const auto pairs = MakePairs(pair_count);
  std::vector<std::pair<std::string, std::string>> ascii_pairs;
  for (const auto& [a, b] : pairs) {
    bool ascii = true;
    for (char c : a + b) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) ascii_pairs.emplace_back(a, b);
  }
  std::printf("%d pairs (%zu all-ASCII), %d rounds, single thread\n", pair_count, ascii_pairs.size(), rounds);

  Measure("EditSimilarityAtLeast 0.8", rounds, pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : pairs) sink = sink + (cdp::EditSimilarityAtLeast(a, b, 0.8) ? 1 : 0);
  });
  Measure("EditSimilarityAtLeast 0.6", rounds, pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : pairs) sink = sink + (cdp::EditSimilarityAtLeast(a, b, 0.6) ? 1 : 0);
  });
  Measure("  (ASCII pairs only, 0.8)", rounds, ascii_pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : ascii_pairs) sink = sink + (cdp::EditSimilarityAtLeast(a, b, 0.8) ? 1 : 0);
  });
  Measure("EditSimilarity", rounds, pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : pairs) sink = sink + cdp::EditSimilarity(a, b);
  });
  Measure("EditDistance", rounds, pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : pairs) sink = sink + cdp::EditDistance(a, b);
  });
  Measure("JaroWinkler", rounds, pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : pairs) sink = sink + cdp::JaroWinkler(a, b);
  });
  Measure("  (ASCII pairs only)", rounds, ascii_pairs.size(), [&](volatile double& sink) {
    for (const auto& [a, b] : ascii_pairs) sink = sink + cdp::JaroWinkler(a, b);
  });
  Measure("Soundex", rounds / 4, pairs.size(), [&](volatile double& sink) {
    for (const auto& p : pairs) sink = sink + static_cast<double>(cdp::Soundex(p.first).size());
  });
  Measure("DoubleMetaphone", rounds / 4, pairs.size(), [&](volatile double& sink) {
    for (const auto& p : pairs) sink = sink + static_cast<double>(cdp::DoubleMetaphone(p.first).primary.size());
  });
  return 0;
}
