// A per-process scratch file for fuzz targets whose API reads a path: each
// input is written to it (in /dev/shm when there is one, so no disk I/O).
#pragma once

#include <cstddef>
#include <string>

namespace cdp::fuzz {

// Replaces the scratch file's content with [data, data + size) and returns
// its path; aborts if it cannot be written.
const std::string& WriteScratchFile(const void* data, size_t size, const char* suffix);

}  // namespace cdp::fuzz
