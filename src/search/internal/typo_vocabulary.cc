#include "search/internal/typo_vocabulary.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>

namespace cdp::search_internal {

namespace {

uint64_t Hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// Appends the hashes of `s` and of every variant with up to `d` bytes deleted.
void Deletions(const std::string& s, int d, std::vector<uint64_t>* out) {
  out->push_back(Hash(s));
  if (d == 0 || s.size() <= 1) return;
  std::string v;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && s[i] == s[i - 1]) continue;  // same variant as deleting s[i-1]
    v.assign(s, 0, i);
    v.append(s, i + 1, std::string::npos);
    Deletions(v, d - 1, out);
  }
}

}  // namespace

void TypoVocabulary::Add(std::string word, uint32_t frequency) {
  words_.push_back(std::move(word));
  frequency_.push_back(frequency);
}

void TypoVocabulary::Finish() {
  std::vector<uint32_t> order(words_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return words_[a] < words_[b]; });
  std::vector<std::string> words(words_.size());
  std::vector<uint32_t> freq(words_.size());
  for (size_t i = 0; i < order.size(); ++i) {
    words[i] = std::move(words_[order[i]]);
    freq[i] = frequency_[order[i]];
  }
  words_ = std::move(words);
  frequency_ = std::move(freq);

  deletes_.clear();
  std::vector<uint64_t> hashes;
  for (uint32_t i = 0; i < words_.size(); ++i) {
    hashes.clear();
    Deletions(words_[i], MaxDistance(words_[i].size()), &hashes);
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    for (uint64_t h : hashes) deletes_.emplace_back(h, i);
  }
  std::sort(deletes_.begin(), deletes_.end());
}

bool TypoVocabulary::Contains(std::string_view word) const {
  auto it = std::lower_bound(words_.begin(), words_.end(), word);
  return it != words_.end() && *it == word;
}

void TypoVocabulary::Fuzzy(std::string_view word, std::vector<Candidate>* out) const {
  int max = MaxDistance(word.size());
  if (max == 0) return;
  std::vector<uint64_t> hashes;
  Deletions(std::string(word), max, &hashes);
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  std::vector<uint32_t> ids;
  for (uint64_t h : hashes) {
    auto it = std::lower_bound(deletes_.begin(), deletes_.end(), std::make_pair(h, 0u));
    for (; it != deletes_.end() && it->first == h; ++it) ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  size_t first = out->size();
  for (uint32_t id : ids) {
    const std::string& w = words_[id];
    if (w == word) continue;
    int d = Distance(word, w, max);
    if (d <= max) out->push_back({w, d, frequency_[id]});
  }
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), [](const Candidate& a, const Candidate& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    if (a.frequency != b.frequency) return a.frequency > b.frequency;
    return a.word < b.word;
  });
}

void TypoVocabulary::Completions(std::string_view prefix, size_t max, std::vector<Candidate>* out) const {
  size_t first = out->size();
  auto it = std::upper_bound(words_.begin(), words_.end(), prefix);
  for (; it != words_.end() && it->size() > prefix.size() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
    out->push_back({*it, 0, frequency_[static_cast<size_t>(it - words_.begin())]});
  }
  auto begin = out->begin() + static_cast<std::ptrdiff_t>(first);
  auto by_freq = [](const Candidate& a, const Candidate& b) {
    if (a.frequency != b.frequency) return a.frequency > b.frequency;
    return a.word < b.word;
  };
  if (static_cast<size_t>(out->end() - begin) > max) {
    std::partial_sort(begin, begin + static_cast<std::ptrdiff_t>(max), out->end(), by_freq);
    out->resize(first + max);
  } else {
    std::sort(begin, out->end(), by_freq);
  }
}

int TypoVocabulary::Distance(std::string_view a, std::string_view b, int max) {
  int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  if (std::abs(n - m) > max) return max + 1;
  // Three rows of the OSA dynamic programme.
  std::vector<int> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (int j = 0; j <= m; ++j) prev[j] = j;
  int prev_min = 0;  // minimum of the row before cur
  for (int i = 1; i <= n; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, prev2[j - 2] + 1);
      cur[j] = v;
      row_min = std::min(row_min, v);
    }
    // Later cells come from this row, or from the previous one by a transposition.
    if (row_min > max && prev_min + 1 > max) return max + 1;
    prev_min = row_min;
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[m], max + 1);
}

}  // namespace cdp::search_internal
