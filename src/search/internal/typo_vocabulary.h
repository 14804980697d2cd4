// The indexed words held in memory for typo-tolerant and prefix matching: a
// SymSpell-style map from deletion variants to words (distance 1 for words of
// 4+ bytes, 2 for 8+), verified by optimal-string-alignment distance (a
// transposition counts 1). Immutable after Finish(); thread-safe to query.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdp::search_internal {

class TypoVocabulary {
 public:
  struct Candidate {
    std::string_view word;
    int distance;
    uint32_t frequency;  // documents holding the word
  };

  // Max edit distance tolerated for a query word of `len` bytes.
  static int MaxDistance(size_t len) { return len >= 8 ? 2 : len >= 4 ? 1 : 0; }

  // Words must be added before Finish(), each once.
  void Add(std::string word, uint32_t frequency);
  void Finish();

  size_t size() const { return words_.size(); }
  bool Contains(std::string_view word) const;
  // Indexed words within MaxDistance(word.size()) of `word`, `word` itself
  // excluded; closest first, then most frequent.
  void Fuzzy(std::string_view word, std::vector<Candidate>* out) const;
  // Up to `max` indexed words that start with `prefix` (and are longer), most
  // frequent first.
  void Completions(std::string_view prefix, size_t max, std::vector<Candidate>* out) const;

  // Optimal string alignment distance, or max + 1 once it exceeds `max`.
  static int Distance(std::string_view a, std::string_view b, int max);

 private:
  std::vector<std::string> words_;    // sorted after Finish
  std::vector<uint32_t> frequency_;   // parallel to words_
  std::vector<std::pair<uint64_t, uint32_t>> deletes_;  // (hash of a deletion variant, word index), sorted
};

}  // namespace cdp::search_internal
