// UTF-8 rules in one place: validation of text that names things
// (definitions, keys, names, values from connectors), the length of one
// well-formed sequence (for code that decodes or escapes as it goes), and
// cutting text without splitting a character. The file readers have a SIMD
// validator for bulk data (ingest/internal/utf8.h) that falls back to
// FirstInvalidUtf8. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace cdp {

// Length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 when
// the bytes there are not one: a continuation or invalid lead byte, an
// overlong form, a surrogate, a code point above U+10FFFF, a truncated
// sequence. i < s.size().
inline size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len || at(1) < lo || at(1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((at(k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// True if `s` is well-formed UTF-8: no overlong forms, no surrogates, no code
// points above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view s);
// Offset of the first byte of the first invalid sequence, or s.size() if valid.
size_t FirstInvalidUtf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end
// inside a multi-byte sequence (s itself when it is short enough). Does not
// validate: for shortening text for messages and previews.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// Code points of `s`, an invalid byte counting as one (for display widths and
// limits on valid text).
size_t Utf8CodePointCount(std::string_view s);
// The prefix of `s` holding its first `n` code points (all of s when it has
// fewer), an invalid byte counting as one.
std::string_view Utf8PrefixCodePoints(std::string_view s, size_t n);

}  // namespace cdp
