// Test helper: runs the `cdp` binary as a user would and captures what it
// prints. The binary is $CDP_BIN, else CDP_BINARY_DIR/cdp (set by CMake).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cdp::testing {

struct CdpResult {
  int exit_code = -1;
  std::string out;
};

inline std::string CdpBin() {
  const char* env = std::getenv("CDP_BIN");
  return env ? env : std::string(CDP_BINARY_DIR) + "/cdp";
}

// Runs `cdp ARGS` through the shell; captures stdout only when `stdout_only`,
// else stdout and stderr together.
inline CdpResult RunCdp(const std::string& args, bool stdout_only = false) {
  std::string cmd = CdpBin() + " " + args + (stdout_only ? " 2>/dev/null" : " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  CdpResult r;
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace cdp::testing
