#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace cdp {
namespace {

TEST(Utf8Test, ValidatesWellFormedUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xc3\xa9t\xc3\xa9 \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));       // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is valid UTF-8 (callers refuse it separately)
  EXPECT_FALSE(IsValidUtf8("a\xff"));
  EXPECT_FALSE(IsValidUtf8("a\xc3"));             // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated 3-byte
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // overlong 4-byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));  // no such lead byte
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // bad continuation
  EXPECT_EQ(FirstInvalidUtf8("ab\xffz"), 2u);
  EXPECT_EQ(FirstInvalidUtf8("\xc3\xa9\xe2\x82"), 2u);
  EXPECT_EQ(FirstInvalidUtf8("ok"), 2u);
}

TEST(Utf8Test, SequenceLengths) {
  const std::string s = "a\xc3\xa9\xe2\x82\xac\xF0\x9F\x98\x80\xff";
  EXPECT_EQ(Utf8SequenceLength(s, 0), 1u);
  EXPECT_EQ(Utf8SequenceLength(s, 1), 2u);
  EXPECT_EQ(Utf8SequenceLength(s, 2), 0u);  // a continuation byte starts nothing
  EXPECT_EQ(Utf8SequenceLength(s, 3), 3u);
  EXPECT_EQ(Utf8SequenceLength(s, 6), 4u);
  EXPECT_EQ(Utf8SequenceLength(s, 10), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98", 0), 0u);  // truncated at the end of the text
}

TEST(Utf8Test, PrefixNeverSplitsACharacter) {
  const std::string s = "ab\xc3\xa9\xF0\x9F\x98\x80z";  // a b é 😀 z
  EXPECT_EQ(Utf8Prefix(s, 100), s);
  EXPECT_EQ(Utf8Prefix(s, s.size()), s);
  EXPECT_EQ(Utf8Prefix(s, 2), "ab");
  EXPECT_EQ(Utf8Prefix(s, 3), "ab");          // inside é
  EXPECT_EQ(Utf8Prefix(s, 4), "ab\xc3\xa9");
  EXPECT_EQ(Utf8Prefix(s, 5), "ab\xc3\xa9");  // inside the emoji
  EXPECT_EQ(Utf8Prefix(s, 7), "ab\xc3\xa9");
  EXPECT_EQ(Utf8Prefix(s, 8), "ab\xc3\xa9\xF0\x9F\x98\x80");
  EXPECT_EQ(Utf8Prefix(s, 0), "");
  for (size_t n = 0; n <= s.size(); ++n) EXPECT_TRUE(IsValidUtf8(Utf8Prefix(s, n))) << n;
}

TEST(Utf8Test, CodePoints) {
  const std::string s = "ab\xc3\xa9\xF0\x9F\x98\x80z";  // a b é 😀 z
  EXPECT_EQ(Utf8CodePointCount(""), 0u);
  EXPECT_EQ(Utf8CodePointCount(s), 5u);
  EXPECT_EQ(Utf8CodePointCount("a\xff\x80" "b"), 4u);  // invalid bytes count one each
  EXPECT_EQ(Utf8PrefixCodePoints(s, 0), "");
  EXPECT_EQ(Utf8PrefixCodePoints(s, 3), "ab\xc3\xa9");
  EXPECT_EQ(Utf8PrefixCodePoints(s, 4), "ab\xc3\xa9\xF0\x9F\x98\x80");
  EXPECT_EQ(Utf8PrefixCodePoints(s, 99), s);
  EXPECT_EQ(Utf8PrefixCodePoints("\xff\xfe", 1), "\xff");
}

}  // namespace
}  // namespace cdp
