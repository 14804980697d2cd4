#include "unify/compare/similarity.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "unify/compare/internal/text.h"

namespace cdp {
namespace {

using compare_internal::CodePoints;
using compare_internal::IsAscii;

// For a string of at most 64 characters, the bit mask of the positions where
// each character occurs. Build() clears only the table entries of the
// characters of both strings it is given, so later lookups must be of
// characters of those strings (never a memset of the whole table).
class OccurrenceMasks {
 public:
  template <typename T>
  void Build(const T* s, int len, const T* other, int other_len) {
    for (int j = 0; j < other_len; ++j) {
      if (IsDirect(other[j])) direct_[other[j]] = 0;
    }
    for (int i = 0; i < len; ++i) {
      if (IsDirect(s[i])) direct_[s[i]] = 0;
    }
    wide_count_ = 0;
    for (int i = 0; i < len; ++i) {
      const uint64_t bit = uint64_t{1} << i;
      if (IsDirect(s[i])) {
        direct_[s[i]] |= bit;
      } else {
        AddWide(static_cast<char32_t>(s[i]), bit);
      }
    }
  }

  template <typename T>
  uint64_t Get(T c) const {
    if (IsDirect(c)) return direct_[c];
    for (int k = 0; k < wide_count_; ++k) {
      if (wide_keys_[k] == static_cast<char32_t>(c)) return wide_bits_[k];
    }
    return 0;
  }

 private:
  template <typename T>
  static bool IsDirect(T c) {
    if constexpr (sizeof(T) == 1) {
      return true;
    } else {
      return c < 256;
    }
  }

  void AddWide(char32_t c, uint64_t bit) {
    for (int k = 0; k < wide_count_; ++k) {
      if (wide_keys_[k] == c) {
        wide_bits_[k] |= bit;
        return;
      }
    }
    wide_keys_[wide_count_] = c;
    wide_bits_[wide_count_] = bit;
    ++wide_count_;
  }

  uint64_t direct_[256];  // valid only for characters of the last Build()
  char32_t wide_keys_[64];
  uint64_t wide_bits_[64];
  int wide_count_ = 0;
};

// Myers / Hyyro bit-parallel Levenshtein distance of pattern p (1..64 units)
// and text t; returns k + 1 once the distance is known to exceed k.
template <typename T>
int BitParallelDistance(const T* p, int m, const T* t, int n, int k) {
  OccurrenceMasks masks;
  masks.Build(p, m, t, n);
  uint64_t vp = ~uint64_t{0};
  uint64_t vn = 0;
  const uint64_t last = uint64_t{1} << (m - 1);
  int score = m;  // D[m][j]
  for (int j = 0; j < n; ++j) {
    const uint64_t eq = masks.Get(t[j]);
    const uint64_t xv = eq | vn;
    const uint64_t xh = (((eq & vp) + vp) ^ vp) | eq;
    uint64_t hp = vn | ~(xh | vp);
    uint64_t hn = vp & xh;
    if (hp & last) {
      ++score;
    } else if (hn & last) {
      --score;
    }
    hp = (hp << 1) | 1;  // row 0 grows by one per column
    hn <<= 1;
    vp = hn | ~(xv | hp);
    vn = hp & xv;
    // The last row can drop by at most one per remaining column.
    if (score - (n - 1 - j) > k) return k + 1;
  }
  return score <= k ? score : k + 1;
}

// Levenshtein DP restricted to the diagonal band |i - j| <= k, with an exit
// once a whole row exceeds k. Requires m <= n and n - m <= k.
template <typename T>
int BandedDistance(const T* a, int m, const T* b, int n, int k) {
  const int over = k + 1;
  std::vector<int> row(static_cast<size_t>(n) + 1);
  for (int j = 0; j <= n; ++j) row[j] = j <= k ? j : over;
  for (int i = 1; i <= m; ++i) {
    const int lo = std::max(1, i - k);
    const int hi = std::min(n, i + k);
    int diag = row[lo - 1];
    row[lo - 1] = lo == 1 ? std::min(i, over) : over;
    int row_min = row[lo - 1];
    const T ai = a[i - 1];
    for (int j = lo; j <= hi; ++j) {
      const int up = row[j];
      const int v = std::min({diag + (ai != b[j - 1] ? 1 : 0), up + 1, row[j - 1] + 1, over});
      diag = up;
      row[j] = v;
      row_min = std::min(row_min, v);
    }
    if (row_min > k) return over;
  }
  return row[n];
}

template <typename T>
int BoundedDistance(const T* a, int m, const T* b, int n, int k) {
  if (m > n) {
    std::swap(a, b);
    std::swap(m, n);
  }
  if (n - m > k) return k + 1;
  k = std::min(k, n);  // the distance never exceeds the longer length
  while (m > 0 && a[0] == b[0]) {
    ++a;
    ++b;
    --m;
    --n;
  }
  while (m > 0 && a[m - 1] == b[n - 1]) {
    --m;
    --n;
  }
  if (m == 0) return n;  // n <= k by the length check
  if (m <= 64) return BitParallelDistance(a, m, b, n, k);
  return BandedDistance(a, m, b, n, k);
}

double SimilarityOf(int len, int distance) {
  return static_cast<double>(len - distance) / static_cast<double>(len);
}

template <typename T>
bool SimilarityAtLeast(const T* a, int la, const T* b, int lb, double threshold, double* similarity) {
  const int len = std::max(la, lb);
  if (len == 0) {
    if (!(1.0 >= threshold)) return false;
    if (similarity != nullptr) *similarity = 1.0;
    return true;
  }
  if (!(threshold <= 1.0)) return false;  // NaN or unreachable
  int k = len;
  if (threshold > 0.0) {
    // The largest distance whose similarity (computed exactly as
    // EditSimilarity does) still reaches the threshold.
    k = static_cast<int>(std::floor(static_cast<double>(len) * (1.0 - threshold)));
    k = std::clamp(k, 0, len);
    while (k < len && SimilarityOf(len, k + 1) >= threshold) ++k;
    while (k >= 0 && SimilarityOf(len, k) < threshold) --k;
    if (k < 0) return false;
  }
  if (std::abs(la - lb) > k) return false;
  const int d = BoundedDistance(a, la, b, lb, k);
  if (d > k) return false;
  if (similarity != nullptr) *similarity = SimilarityOf(len, d);
  return true;
}

template <typename T>
double JaroWinklerOf(const T* a, int la, const T* b, int lb) {
  if (la == 0 && lb == 0) return 1.0;
  if (la == 0 || lb == 0) return 0.0;
  const int window = std::max(0, std::max(la, lb) / 2 - 1);
  int matches = 0;
  int mismatched = 0;  // matched pairs out of order (2 x transpositions)
  if (la <= 64 && lb <= 64) {
    OccurrenceMasks masks;
    masks.Build(b, lb, a, la);
    uint64_t flagged_a = 0;
    uint64_t flagged_b = 0;
    for (int i = 0; i < la; ++i) {
      const int lo = std::max(0, i - window);
      const int hi = std::min(lb - 1, i + window);
      if (lo > hi) break;  // lo only grows from here
      const int width = hi - lo + 1;
      const uint64_t range = (width == 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1)) << lo;
      const uint64_t candidates = masks.Get(a[i]) & range & ~flagged_b;
      if (candidates != 0) {
        flagged_b |= candidates & (~candidates + 1);
        flagged_a |= uint64_t{1} << i;
        ++matches;
      }
    }
    while (flagged_a != 0) {
      if (a[std::countr_zero(flagged_a)] != b[std::countr_zero(flagged_b)]) ++mismatched;
      flagged_a &= flagged_a - 1;
      flagged_b &= flagged_b - 1;
    }
  } else {
    std::vector<char> flagged_a(la, 0);
    std::vector<char> flagged_b(lb, 0);
    for (int i = 0; i < la; ++i) {
      const int lo = std::max(0, i - window);
      const int hi = std::min(lb - 1, i + window);
      for (int j = lo; j <= hi; ++j) {
        if (!flagged_b[j] && a[i] == b[j]) {
          flagged_a[i] = flagged_b[j] = 1;
          ++matches;
          break;
        }
      }
    }
    int j = 0;
    for (int i = 0; i < la; ++i) {
      if (!flagged_a[i]) continue;
      while (!flagged_b[j]) ++j;
      if (a[i] != b[j]) ++mismatched;
      ++j;
    }
  }
  if (matches == 0) return 0.0;
  const double m = matches;
  const double jaro = (m / la + m / lb + (m - mismatched / 2.0) / m) / 3.0;
  if (!(jaro > 0.7)) return jaro;
  int prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix]) ++prefix;
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
int Len(std::string_view s) { return static_cast<int>(s.size()); }

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

int EditDistance(std::string_view a, std::string_view b, int max_distance) {
  const int k = std::max(0, max_distance);
  if (IsAscii(a) && IsAscii(b)) return BoundedDistance(Bytes(a), Len(a), Bytes(b), Len(b), k);
  const CodePoints ca(a);
  const CodePoints cb(b);
  return BoundedDistance(ca.data(), ca.size(), cb.data(), cb.size(), k);
}

double EditSimilarity(std::string_view a, std::string_view b) {
  double similarity = 0.0;
  if (IsAscii(a) && IsAscii(b)) {
    SimilarityAtLeast(Bytes(a), Len(a), Bytes(b), Len(b), 0.0, &similarity);
  } else {
    const CodePoints ca(a);
    const CodePoints cb(b);
    SimilarityAtLeast(ca.data(), ca.size(), cb.data(), cb.size(), 0.0, &similarity);
  }
  return similarity;
}

bool EditSimilarityAtLeast(std::string_view a, std::string_view b, double threshold, double* similarity) {
  if (IsAscii(a) && IsAscii(b)) {
    return SimilarityAtLeast(Bytes(a), Len(a), Bytes(b), Len(b), threshold, similarity);
  }
  const CodePoints ca(a);
  const CodePoints cb(b);
  return SimilarityAtLeast(ca.data(), ca.size(), cb.data(), cb.size(), threshold, similarity);
}

double JaroWinkler(std::string_view a, std::string_view b) {
  if (IsAscii(a) && IsAscii(b)) return JaroWinklerOf(Bytes(a), Len(a), Bytes(b), Len(b));
  const CodePoints ca(a);
  const CodePoints cb(b);
  return JaroWinklerOf(ca.data(), ca.size(), cb.data(), cb.size());
}

StatusOr<double> ParsePrecision(std::string_view text) {
  std::string_view t = text;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!t.empty() && is_space(t.front())) t.remove_prefix(1);
  while (!t.empty() && is_space(t.back())) t.remove_suffix(1);
  static constexpr struct {
    std::string_view name;
    double value;
  } kNamed[] = {{"low", 0.30}, {"medium", 0.60}, {"high", 0.80}, {"exact", 1.00}};
  for (const auto& named : kNamed) {
    if (EqualsIgnoreAsciiCase(t, named.name)) return named.value;
  }
  if (!t.empty() && (t.front() == '.' || (t.front() >= '0' && t.front() <= '9'))) {
    double value = 0.0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value, std::chars_format::fixed);
    if (ec == std::errc() && end == t.data() + t.size() && value >= 0.0 && value <= 1.0) return value;
  }
  return InvalidArgumentError("invalid fuzzy precision \"" + std::string(text) +
                              "\": expected Low (0.30), Medium (0.60), High (0.80), Exact (1.00) "
                              "or a decimal number between 0 and 1");
}

namespace {

bool IsTokenBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Distinct words of s, sorted, into *words.
template <typename Words>
void SortedDistinctWords(std::string_view s, Words* words) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsTokenBlank(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !IsTokenBlank(s[j])) ++j;
    if (j > i) words->push_back(s.substr(i, j - i));
    i = j;
  }
  std::sort(words->begin(), words->end());
  words->erase(std::unique(words->begin(), words->end()), words->end());
}

}  // namespace

double TokenSetSimilarity(std::string_view a, std::string_view b) {
  thread_local std::vector<std::string_view> buffer_a, buffer_b;
  buffer_a.clear();
  buffer_b.clear();
  SortedDistinctWords(a, &buffer_a);
  SortedDistinctWords(b, &buffer_b);
  if (buffer_a.empty() || buffer_b.empty()) return buffer_a.empty() && buffer_b.empty() ? 1.0 : 0.0;
  size_t common = 0;
  auto x = buffer_a.begin(), y = buffer_b.begin();
  while (x != buffer_a.end() && y != buffer_b.end()) {
    if (*x < *y) {
      ++x;
    } else if (*y < *x) {
      ++y;
    } else {
      ++common;
      ++x;
      ++y;
    }
  }
  return static_cast<double>(common) / static_cast<double>(std::min(buffer_a.size(), buffer_b.size()));
}

}  // namespace cdp
