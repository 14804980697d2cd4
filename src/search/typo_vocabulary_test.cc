#include "search/internal/typo_vocabulary.h"

#include <gtest/gtest.h>

namespace cdp::search_internal {
namespace {

std::vector<std::string> Words(const std::vector<TypoVocabulary::Candidate>& c) {
  std::vector<std::string> out;
  for (const auto& x : c) out.emplace_back(x.word);
  return out;
}

TEST(TypoVocabularyTest, DistanceCountsATranspositionAsOneEdit) {
  EXPECT_EQ(TypoVocabulary::Distance("jonh", "john", 2), 1);
  EXPECT_EQ(TypoVocabulary::Distance("smiht", "smith", 2), 1);
  EXPECT_EQ(TypoVocabulary::Distance("kitten", "sitting", 3), 3);
  EXPECT_EQ(TypoVocabulary::Distance("abc", "abc", 0), 0);
  EXPECT_EQ(TypoVocabulary::Distance("abcdef", "uvwxyz", 2), 3);  // capped at max + 1
  EXPECT_EQ(TypoVocabulary::Distance("ab", "abcdef", 2), 3);
}

TEST(TypoVocabularyTest, FuzzyFindsWordsWithinTheDistanceForTheirLength) {
  TypoVocabulary v;
  v.Add("john", 50);
  v.Add("jon", 5);
  v.Add("joan", 20);
  v.Add("smith", 40);
  v.Add("christopher", 3);
  v.Add("christoper", 1);
  v.Finish();
  std::vector<TypoVocabulary::Candidate> c;
  v.Fuzzy("jonh", &c);
  // john (transposition) and jon (deletion) at distance 1, more frequent first; joan is 2 away.
  EXPECT_EQ(Words(c), (std::vector<std::string>{"john", "jon"}));
  c.clear();
  v.Fuzzy("jon", &c);  // 3 letters: no typo tolerance
  EXPECT_TRUE(c.empty());
  c.clear();
  v.Fuzzy("christofer", &c);  // 10 letters: distance 2, closest first
  EXPECT_EQ(Words(c), (std::vector<std::string>{"christoper", "christopher"}));
  c.clear();
  v.Fuzzy("christopher", &c);  // the word itself is excluded
  EXPECT_EQ(Words(c), (std::vector<std::string>{"christoper"}));
}

TEST(TypoVocabularyTest, CompletionsAreMostFrequentFirstAndBounded) {
  TypoVocabulary v;
  v.Add("smith", 40);
  v.Add("smithers", 2);
  v.Add("smiley", 7);
  v.Add("snow", 9);
  v.Finish();
  std::vector<TypoVocabulary::Candidate> c;
  v.Completions("smi", 10, &c);
  EXPECT_EQ(Words(c), (std::vector<std::string>{"smith", "smiley", "smithers"}));
  c.clear();
  v.Completions("smi", 2, &c);
  EXPECT_EQ(Words(c), (std::vector<std::string>{"smith", "smiley"}));
  c.clear();
  v.Completions("smith", 10, &c);  // longer words only
  EXPECT_EQ(Words(c), (std::vector<std::string>{"smithers"}));
  EXPECT_TRUE(v.Contains("snow"));
  EXPECT_FALSE(v.Contains("sno"));
}

}  // namespace
}  // namespace cdp::search_internal
