#include "ingest/internal/utf8.h"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "ingest/record_reader.h"

namespace cdp::ingest_internal {

bool IsValidUtf8(const char* data, size_t n) { return simdjson::validate_utf8(data, n); }

size_t FirstInvalidUtf8(const char* data, size_t n) { return cdp::FirstInvalidUtf8(std::string_view(data, n)); }

}  // namespace cdp::ingest_internal

namespace cdp {

std::string EscapeRawBytes(std::string_view bytes, size_t max_bytes) {
  const size_t n = std::min(bytes.size(), max_bytes);
  std::string out;
  out.reserve(n + 16);
  const char* p = bytes.data();
  size_t i = 0;
  auto hex = [&out](unsigned char c) {
    static const char kDigits[] = "0123456789ABCDEF";
    out += "\\x";
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  };
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c >= 0x80) {
      // A valid sequence is kept whole; an invalid byte is escaped alone.
      const size_t valid = ingest_internal::FirstInvalidUtf8(p + i, std::min<size_t>(4, n - i));
      size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (valid >= len) {
        out.append(p + i, len);
        i += len;
      } else {
        hex(c);
        ++i;
      }
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      hex(c);
    } else if (c == 0x7F) {
      hex(c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  if (n < bytes.size()) out += "...";
  return out;
}

}  // namespace cdp
