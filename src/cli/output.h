// Console output helpers for the CLI: aligned text tables, JSON, and a
// progress bar drawn only when stderr is a terminal. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cdp {

// Prints rows as an aligned table with a header line.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// A one-line progress bar on stderr, redrawn at most 10 times a second;
// silent when stderr is not a TTY.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // `total` 0 means unknown (shows a counter instead of a bar).
  void Update(uint64_t done, uint64_t total, const std::string& detail);
  void Finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  int64_t last_draw_us_ = 0;
};

std::string HumanBytes(uint64_t bytes);

}  // namespace cdp
