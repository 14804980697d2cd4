#include "fuzz_file.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace cdp::fuzz {

const std::string& WriteScratchFile(const void* data, size_t size, const char* suffix) {
  static std::map<std::string, std::string>* paths = new std::map<std::string, std::string>;
  std::string& path = (*paths)[suffix];
  if (path.empty()) {
    std::error_code ec;
    std::string dir = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
    if (const char* t = getenv("CDP_FUZZ_TMPDIR")) dir = t;
    path = dir + "/cdp_fuzz_" + std::to_string(getpid()) + suffix;
    atexit([] {
      for (const auto& [s, p] : *paths) unlink(p.c_str());
    });
  }
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    fprintf(stderr, "cannot write the scratch file %s\n", path.c_str());
    abort();
  }
  return path;
}

}  // namespace cdp::fuzz
