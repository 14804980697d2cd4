// UTF-8 validation of text that names things (definitions, keys, names).
// Pure functions; thread-safe. The file readers have a SIMD validator for
// bulk data (ingest/internal/utf8.h).
#pragma once

#include <cstddef>
#include <string_view>

namespace cdp {

// True if `s` is well-formed UTF-8: no overlong forms, no surrogates, no code
// points above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view s);
// Offset of the first byte of the first invalid sequence, or s.size() if valid.
size_t FirstInvalidUtf8(std::string_view s);

}  // namespace cdp
