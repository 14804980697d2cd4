#include "common/utf8.h"

namespace cdp {

size_t FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) return i;
    i += len;
  }
  return text.size();
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == s.size(); }

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  // s[cut] is the first byte left out: back up while it continues a sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

size_t Utf8CodePointCount(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    const size_t len = Utf8SequenceLength(s, i);
    i += len == 0 ? 1 : len;
  }
  return count;
}

std::string_view Utf8PrefixCodePoints(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t k = 0; k < n && i < s.size(); ++k) {
    const size_t len = Utf8SequenceLength(s, i);
    i += len == 0 ? 1 : len;
  }
  return s.substr(0, i);
}

}  // namespace cdp
