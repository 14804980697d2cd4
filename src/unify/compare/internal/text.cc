#include "unify/compare/internal/text.h"

#include <cstring>

#include "common/utf8.h"

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

char32_t DecodeOne(std::string_view s, size_t* pos) {
  const size_t i = *pos;
  const auto b0 = static_cast<unsigned char>(s[i]);
  const auto at = [&](size_t k) { return char32_t{static_cast<unsigned char>(s[i + k]) & 0x3Fu}; };
  switch (b0 < 0x80 ? 1 : Utf8SequenceLength(s, i)) {
    case 1: *pos = i + 1; return b0;
    case 2: *pos = i + 2; return (char32_t{b0 & 0x1Fu} << 6) | at(1);
    case 3: *pos = i + 3; return (char32_t{b0 & 0x0Fu} << 12) | (at(1) << 6) | at(2);
    case 4: *pos = i + 4; return (char32_t{b0 & 0x07u} << 18) | (at(1) << 12) | (at(2) << 6) | at(3);
    default: *pos = i + 1; return kInvalidByteBase + b0;
  }
}

size_t CountCodePoints(std::string_view s) { return Utf8CodePointCount(s); }

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
