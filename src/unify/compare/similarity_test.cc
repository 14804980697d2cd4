#include "unify/compare/similarity.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unify/compare/internal/text.h"

namespace cdp {
namespace {

// Textbook full-matrix Levenshtein over decoded code points: the oracle.
int ReferenceDistance(std::string_view a, std::string_view b) {
  std::vector<char32_t> x, y;
  for (size_t p = 0; p < a.size();) x.push_back(compare_internal::DecodeOne(a, &p));
  for (size_t p = 0; p < b.size();) y.push_back(compare_internal::DecodeOne(b, &p));
  std::vector<std::vector<int>> d(x.size() + 1, std::vector<int>(y.size() + 1));
  for (size_t i = 0; i <= x.size(); ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= y.size(); ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    for (size_t j = 1; j <= y.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] != y[j - 1] ? 1 : 0)});
    }
  }
  return d[x.size()][y.size()];
}

// Textbook Jaro-Winkler over decoded code points: the oracle.
double ReferenceJaroWinkler(std::string_view a, std::string_view b) {
  std::vector<char32_t> x, y;
  for (size_t p = 0; p < a.size();) x.push_back(compare_internal::DecodeOne(a, &p));
  for (size_t p = 0; p < b.size();) y.push_back(compare_internal::DecodeOne(b, &p));
  const int la = static_cast<int>(x.size()), lb = static_cast<int>(y.size());
  if (la == 0 && lb == 0) return 1.0;
  if (la == 0 || lb == 0) return 0.0;
  const int window = std::max(0, std::max(la, lb) / 2 - 1);
  std::vector<bool> fx(la), fy(lb);
  int m = 0;
  for (int i = 0; i < la; ++i) {
    for (int j = std::max(0, i - window); j <= std::min(lb - 1, i + window); ++j) {
      if (!fy[j] && x[i] == y[j]) {
        fx[i] = fy[j] = true;
        ++m;
        break;
      }
    }
  }
  if (m == 0) return 0.0;
  std::vector<char32_t> mx, my;
  for (int i = 0; i < la; ++i) if (fx[i]) mx.push_back(x[i]);
  for (int j = 0; j < lb; ++j) if (fy[j]) my.push_back(y[j]);
  double t = 0;
  for (int k = 0; k < m; ++k) t += mx[k] != my[k] ? 0.5 : 0.0;
  const double jaro = (static_cast<double>(m) / la + static_cast<double>(m) / lb + (m - t) / m) / 3.0;
  if (jaro <= 0.7) return jaro;
  int l = 0;
  while (l < 4 && l < la && l < lb && x[l] == y[l]) ++l;
  return jaro + l * 0.1 * (1.0 - jaro);
}

// Random strings over a small alphabet (so that pairs are often similar) mixing
// ASCII, 2-, 3- and 4-byte code points and, rarely, an invalid byte.
std::string RandomString(std::mt19937& rng, int max_len, bool ascii_only) {
  static const std::vector<std::string> kAscii = {"a", "b", "c", "d", "e"};
  static const std::vector<std::string> kMixed = {"a", "b", "c", "é", "ü", "ß", "中", "😀", "\xC3", "\xFF"};
  const auto& alphabet = ascii_only ? kAscii : kMixed;
  std::uniform_int_distribution<int> len_dist(0, max_len);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s;
  const int len = len_dist(rng);
  for (int i = 0; i < len; ++i) s += alphabet[pick(rng)];
  return s;
}

// Mutates s by a few random code-point edits, for pairs near the threshold.
std::string Mutate(std::mt19937& rng, const std::string& s, bool ascii_only) {
  std::string out = s;
  std::uniform_int_distribution<int> edits(0, 3);
  const int n = edits(rng);
  for (int e = 0; e < n; ++e) {
    const std::string piece = RandomString(rng, 1, ascii_only);
    std::uniform_int_distribution<size_t> at(0, out.size());
    out.insert(at(rng), piece);
  }
  return out;
}

TEST(EditDistance, ClassicCases) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("sitting", "kitten"), 3);
  EXPECT_EQ(EditDistance("flaw", "lawn"), 2);
  EXPECT_EQ(EditDistance("saturday", "sunday"), 3);
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("abc", ""), 3);
  EXPECT_EQ(EditDistance("", "abcd"), 4);
  EXPECT_EQ(EditDistance("same", "same"), 0);
  EXPECT_EQ(EditDistance("abc", "xyz"), 3);
}

TEST(EditDistance, CountsCodePointsNotBytes) {
  EXPECT_EQ(EditDistance("José", "Jose"), 1);
  EXPECT_EQ(EditDistance("Müller", "Mueller"), 2);
  EXPECT_EQ(EditDistance("中文", "中"), 1);
  EXPECT_EQ(EditDistance("😀", ""), 1);
  EXPECT_EQ(EditDistance("é", "è"), 1);
}

TEST(EditDistance, InvalidBytesCountAsOneUnitEach) {
  EXPECT_EQ(EditDistance("a\xFF", "a"), 1);
  EXPECT_EQ(EditDistance("\xE2\x82", ""), 2);  // truncated 3-byte sequence
  EXPECT_EQ(EditDistance("\xC3", "\xC3\xA9"), 1);  // lone lead byte is not é
  EXPECT_EQ(EditDistance("\xC0\xAF", "/"), 2);  // overlong encoding is two invalid bytes
}

TEST(EditDistance, BoundedReturnsMaxPlusOneWhenExceeded) {
  EXPECT_EQ(EditDistance("kitten", "sitting", 3), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting", 2), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting", 1), 2);
  EXPECT_EQ(EditDistance("kitten", "sitting", 0), 1);
  EXPECT_EQ(EditDistance("a", "abcdefgh", 2), 3);  // rejected on length alone
  EXPECT_EQ(EditDistance("same", "same", 0), 0);
  EXPECT_EQ(EditDistance("abc", "abd", -5), 1);  // negative bound acts as 0
}

TEST(EditDistance, LongStringsUseTheBandedPath) {
  std::string a(100, 'x');
  // a with two substitutions and one insertion.
  const std::string b = std::string(10, 'x') + "y" + std::string(39, 'x') + "q" + std::string(40, 'x') + "z" +
                        std::string(9, 'x');
  EXPECT_EQ(EditDistance(a, b), 3);
  EXPECT_EQ(EditDistance(a, b, 2), 3);
  EXPECT_EQ(EditDistance(a, b, 3), 3);
  EXPECT_EQ(EditDistance(std::string(70, 'a'), std::string(70, 'b')), 70);
  EXPECT_EQ(EditDistance(std::string(70, 'a'), std::string(70, 'b'), 5), 6);
}

TEST(EditDistance, MatchesReferenceOnRandomPairs) {
  std::mt19937 rng(20240611);
  for (int iter = 0; iter < 4000; ++iter) {
    const bool ascii = iter % 2 == 0;
    const int max_len = iter % 10 == 0 ? 150 : 20;  // some exceed the 64-unit bit-parallel limit
    const std::string a = RandomString(rng, max_len, ascii);
    const std::string b = iter % 3 == 0 ? RandomString(rng, max_len, ascii) : Mutate(rng, a, ascii);
    const int expected = ReferenceDistance(a, b);
    ASSERT_EQ(EditDistance(a, b), expected) << "a=" << a << " b=" << b;
    for (int k : {0, 1, 2, 5, expected - 1, expected, expected + 1}) {
      if (k < 0) continue;
      ASSERT_EQ(EditDistance(a, b, k), expected <= k ? expected : k + 1) << "a=" << a << " b=" << b << " k=" << k;
    }
  }
}

TEST(EditSimilarity, FollowsTheD365Formula) {
  EXPECT_DOUBLE_EQ(EditSimilarity("", ""), 1.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("abc", "abc"), 1.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("abc", ""), 0.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("", "abc"), 0.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("kitten", "sitting"), (7.0 - 3.0) / 7.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("Jon", "John"), 0.75);
  EXPECT_DOUBLE_EQ(EditSimilarity("José", "Jose"), 0.75);
  EXPECT_DOUBLE_EQ(EditSimilarity("Catherine", "Katherine"), 8.0 / 9.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("abc", "xyz"), 0.0);
}

TEST(EditSimilarityAtLeast, ThresholdEdges) {
  double sim = -1.0;
  EXPECT_TRUE(EditSimilarityAtLeast("Jon", "John", 0.75, &sim));
  EXPECT_DOUBLE_EQ(sim, 0.75);
  EXPECT_FALSE(EditSimilarityAtLeast("Jon", "John", 0.76));
  EXPECT_TRUE(EditSimilarityAtLeast("", "", 1.0, &sim));
  EXPECT_DOUBLE_EQ(sim, 1.0);
  EXPECT_FALSE(EditSimilarityAtLeast("a", "", 0.01));
  EXPECT_TRUE(EditSimilarityAtLeast("a", "", 0.0, &sim));
  EXPECT_DOUBLE_EQ(sim, 0.0);
  EXPECT_TRUE(EditSimilarityAtLeast("abc", "xyz", -1.0));
  EXPECT_FALSE(EditSimilarityAtLeast("abc", "abc", 1.5));
  EXPECT_FALSE(EditSimilarityAtLeast("abc", "abc", std::nan("")));
  EXPECT_TRUE(EditSimilarityAtLeast("abc", "abc", 1.0));
  // 0.7 * 10 is not exactly 7 in binary; the helper must agree with the formula.
  EXPECT_EQ(EditSimilarityAtLeast("abcdefghij", "abcdefgxyz", 0.7), EditSimilarity("abcdefghij", "abcdefgxyz") >= 0.7);
  // A false result leaves *similarity untouched.
  sim = 42.0;
  EXPECT_FALSE(EditSimilarityAtLeast("abcdef", "uvwxyz", 0.8, &sim));
  EXPECT_EQ(sim, 42.0);
}

TEST(EditSimilarityAtLeast, AgreesWithFullComputationOnRandomPairs) {
  std::mt19937 rng(7);
  const double thresholds[] = {0.0, 0.1, 0.3, 0.5, 0.6, 2.0 / 3.0, 0.7, 0.75, 0.8, 0.9, 0.95, 1.0};
  for (int iter = 0; iter < 5000; ++iter) {
    const bool ascii = iter % 2 == 1;
    const int max_len = iter % 20 == 0 ? 100 : 12;
    const std::string a = RandomString(rng, max_len, ascii);
    const std::string b = iter % 4 == 0 ? RandomString(rng, max_len, ascii) : Mutate(rng, a, ascii);
    const double full = EditSimilarity(a, b);
    for (double t : thresholds) {
      double sim = -1.0;
      const bool at_least = EditSimilarityAtLeast(a, b, t, &sim);
      ASSERT_EQ(at_least, full >= t) << "a=" << a << " b=" << b << " t=" << t;
      if (at_least) {
        ASSERT_EQ(sim, full) << "a=" << a << " b=" << b << " t=" << t;
      }
    }
  }
}

TEST(JaroWinkler, KnownValues) {
  EXPECT_NEAR(JaroWinkler("MARTHA", "MARHTA"), 0.961, 1e-3);
  EXPECT_NEAR(JaroWinkler("DWAYNE", "DUANE"), 0.84, 1e-3);
  EXPECT_NEAR(JaroWinkler("DIXON", "DICKSONX"), 0.813, 1e-3);
  EXPECT_NEAR(JaroWinkler("JELLYFISH", "SMELLYFISH"), 0.896, 1e-3);  // Jaro only: no common prefix
  EXPECT_DOUBLE_EQ(JaroWinkler("", ""), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", ""), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("", "abc"), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("same", "same"), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("abc", "xyz"), 0.0);
  EXPECT_DOUBLE_EQ(JaroWinkler("a", "a"), 1.0);
}

TEST(JaroWinkler, PrefixBoostOnlyAboveSevenTenths) {
  // Jaro("ab", "ac") = (1/2 + 1/2 + 1) / 3 = 2/3, below 0.7: no boost.
  EXPECT_NEAR(JaroWinkler("ab", "ac"), 2.0 / 3.0, 1e-12);
}

TEST(JaroWinkler, IsSymmetricAndOverCodePoints) {
  EXPECT_DOUBLE_EQ(JaroWinkler("MARTHA", "MARHTA"), JaroWinkler("MARHTA", "MARTHA"));
  EXPECT_DOUBLE_EQ(JaroWinkler("Zoë", "Zoe"), JaroWinkler("Zox", "Zoe"));
  EXPECT_DOUBLE_EQ(JaroWinkler("MÄRTHA", "MÄRHTA"), JaroWinkler("MARTHA", "MARHTA"));
}

// The bit-parallel path (<= 64 code points) and the vector path must agree:
// padding both strings with the same long tail of distinct code points moves
// them onto the long path without creating matches across the halves.
TEST(JaroWinkler, LongStringsAgreeWithDefinition) {
  const std::string a(80, 'a');
  EXPECT_DOUBLE_EQ(JaroWinkler(a, a), 1.0);
  std::string b = a;
  b[79] = 'b';
  const double m = 79;
  const double jaro = (m / 80 + m / 80 + 1.0) / 3.0;
  EXPECT_NEAR(JaroWinkler(a, b), jaro + 4 * 0.1 * (1 - jaro), 1e-12);
  EXPECT_NEAR(JaroWinkler(std::string(70, 'x'), std::string(70, 'y')), 0.0, 1e-12);
}

TEST(JaroWinkler, MatchesReferenceOnRandomPairs) {
  std::mt19937 rng(99);
  for (int iter = 0; iter < 4000; ++iter) {
    const bool ascii = iter % 2 == 0;
    const int max_len = iter % 8 == 0 ? 140 : 16;  // some exceed the 64-unit bit-parallel limit
    const std::string a = RandomString(rng, max_len, ascii);
    const std::string b = iter % 3 == 0 ? RandomString(rng, max_len, ascii) : Mutate(rng, a, ascii);
    ASSERT_NEAR(JaroWinkler(a, b), ReferenceJaroWinkler(a, b), 1e-12) << "a=" << a << " b=" << b;
    ASSERT_NEAR(JaroWinkler(a, b), JaroWinkler(b, a), 1e-12) << "a=" << a << " b=" << b;
  }
}

TEST(ParsePrecision, AcceptsNamesCaseInsensitively) {
  EXPECT_DOUBLE_EQ(*ParsePrecision("Low"), 0.30);
  EXPECT_DOUBLE_EQ(*ParsePrecision("medium"), 0.60);
  EXPECT_DOUBLE_EQ(*ParsePrecision("HIGH"), 0.80);
  EXPECT_DOUBLE_EQ(*ParsePrecision(" Exact "), 1.00);
}

TEST(ParsePrecision, AcceptsDecimalsInUnitInterval) {
  EXPECT_DOUBLE_EQ(*ParsePrecision("0"), 0.0);
  EXPECT_DOUBLE_EQ(*ParsePrecision("1"), 1.0);
  EXPECT_DOUBLE_EQ(*ParsePrecision("0.75"), 0.75);
  EXPECT_DOUBLE_EQ(*ParsePrecision("1.00"), 1.0);
  EXPECT_DOUBLE_EQ(*ParsePrecision(".5"), 0.5);
}

TEST(ParsePrecision, RejectsOtherValuesNamingThem) {
  for (std::string_view bad : {"", "higher", "1.5", "-0.1", "0.5x", "nan", "inf", "+0.5", "1e-1", "0,5"}) {
    const StatusOr<double> result = ParsePrecision(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    const std::string quoted = std::string(1, '"').append(bad).append(1, '"');
    EXPECT_NE(result.status().message().find(quoted), std::string::npos);
    EXPECT_NE(result.status().message().find("Medium"), std::string::npos);
  }
}

TEST(TokenSetSimilarity, TableOfValues) {
  struct Case {
    const char* a;
    const char* b;
    double expected;
  };
  const Case cases[] = {
      {"bel air hotel", "hotel bel air", 1.0},         // word order
      {"bel air", "air bel hotel", 1.0},               // all words of one in the other
      {"spago", "spago beverly hills", 1.0},
      {"acme plumbing", "acme heating", 0.5},          // 1 common / min(2, 2)
      {"a b c d", "a b x y z", 0.5},                   // 2 / min(4, 5)
      {"alpha beta gamma", "delta epsilon", 0.0},
      {"acme acme acme", "acme", 1.0},                 // repeated words count once
      {"  acme \t plumbing ", "plumbing acme", 1.0},   // any ASCII blanks separate
      {"acme", "Acme", 0.0},                           // byte for byte: normalize first
      {"", "", 1.0},
      {"   ", "", 1.0},
      {"acme", "", 0.0},
      {"", "acme", 0.0},
  };
  for (const Case& c : cases) {
    EXPECT_DOUBLE_EQ(TokenSetSimilarity(c.a, c.b), c.expected) << "'" << c.a << "' / '" << c.b << "'";
    EXPECT_DOUBLE_EQ(TokenSetSimilarity(c.b, c.a), c.expected) << "symmetric: '" << c.b << "' / '" << c.a << "'";
  }
}

TEST(TokenSetSimilarity, ManyWordsAndUtf8) {
  std::string many_a, many_b;
  for (int i = 0; i < 200; ++i) many_a += "w" + std::to_string(i) + " ";
  for (int i = 100; i < 400; ++i) many_b += "w" + std::to_string(i) + " ";
  EXPECT_DOUBLE_EQ(TokenSetSimilarity(many_a, many_b), 0.5);  // 100 / min(200, 300)
  EXPECT_DOUBLE_EQ(TokenSetSimilarity("café münchen", "münchen café"), 1.0);
}

}  // namespace
}  // namespace cdp
