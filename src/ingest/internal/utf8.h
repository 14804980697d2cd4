// UTF-8 validation for the file connectors. Pure functions; thread-safe.
#pragma once

#include <cstddef>

namespace cdp::ingest_internal {

// True if [data, data + n) is valid UTF-8 (fast, SIMD).
bool IsValidUtf8(const char* data, size_t n);
// Offset of the first byte of the first invalid sequence, or n if valid
// (common/utf8.h's rules: the readers call it only on a failed check).
size_t FirstInvalidUtf8(const char* data, size_t n);

}  // namespace cdp::ingest_internal
