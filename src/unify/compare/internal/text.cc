#include "unify/compare/internal/text.h"

#include <cstring>

namespace cdp::compare_internal {

bool IsAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080ULL) return false;
  }
  for (; i < n; ++i) {
    if (static_cast<unsigned char>(p[i]) & 0x80) return false;
  }
  return true;
}

namespace {

inline bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

char32_t DecodeOne(std::string_view s, size_t* pos) {
  const size_t i = *pos;
  const size_t n = s.size();
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  auto at = [&](size_t k) -> unsigned char { return i + k < n ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    const unsigned char b1 = at(1);
    if (IsContinuation(b1)) {
      *pos = i + 2;
      return (char32_t{b0 & 0x1Fu} << 6) | (b1 & 0x3Fu);
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned char b1 = at(1), b2 = at(2);
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlongs
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    if (b1 >= lo && b1 <= hi && IsContinuation(b2)) {
      *pos = i + 3;
      return (char32_t{b0 & 0x0Fu} << 12) | (char32_t{b1 & 0x3Fu} << 6) | (b2 & 0x3Fu);
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char b1 = at(1), b2 = at(2), b3 = at(3);
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;  // no overlongs
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    if (b1 >= lo && b1 <= hi && IsContinuation(b2) && IsContinuation(b3)) {
      *pos = i + 4;
      return (char32_t{b0 & 0x07u} << 18) | (char32_t{b1 & 0x3Fu} << 12) | (char32_t{b2 & 0x3Fu} << 6) |
             (b3 & 0x3Fu);
    }
  }
  *pos = i + 1;
  return kInvalidByteBase + b0;
}

size_t CountCodePoints(std::string_view s) {
  size_t count = 0;
  for (size_t pos = 0; pos < s.size(); ++count) DecodeOne(s, &pos);
  return count;
}

CodePoints::CodePoints(std::string_view utf8)
    : cps_(utf8.size() <= kInline ? utf8.size() : CountCodePoints(utf8)) {
  size_t count = 0;
  for (size_t pos = 0; pos < utf8.size();) cps_[count++] = DecodeOne(utf8, &pos);
  cps_.resize_down(count);
}

namespace {

// Base letter of U+00C0..U+00FF and U+0100..U+017F; '*' marks a letter with a
// two-letter spelling, '-' a non-letter.
constexpr char kLatin1[] =
    "AAAAAA*CEEEEIIII"   // C0
    "DNOOOOO-OUUUUY**"   // D0
    "AAAAAA*CEEEEIIII"   // E0
    "DNOOOOO-OUUUUY*Y";  // F0
constexpr char kLatinExtendedA[] =
    "AAAAAACCCCCCCCDD"   // 100
    "DDEEEEEEEEEEGGGG"   // 110
    "GGGGHHHHIIIIIIII"   // 120
    "II**JJKKKLLLLLLL"   // 130
    "LLLNNNNNNNNNOOOO"   // 140
    "OO**RRRRRRSSSSSS"   // 150
    "SSTTTTTTUUUUUUUU"   // 160
    "UUUUWWYYYZZZZZZS";  // 170

constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

}  // namespace

std::string_view FoldLatinLetter(char32_t cp) {
  char base;
  if (cp >= 0xC0 && cp <= 0xFF) {
    base = kLatin1[cp - 0xC0];
  } else if (cp >= 0x100 && cp <= 0x17F) {
    base = kLatinExtendedA[cp - 0x100];
  } else {
    return {};
  }
  if (base == '-') return {};
  if (base != '*') return kLetters.substr(base - 'A', 1);
  switch (cp) {
    case 0xC6: case 0xE6: return "AE";
    case 0xDE: case 0xFE: return "TH";
    case 0xDF: return "SS";
    case 0x132: case 0x133: return "IJ";
    case 0x152: case 0x153: return "OE";
    default: return {};
  }
}

}  // namespace cdp::compare_internal
