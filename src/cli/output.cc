#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/utf8.h"

namespace cdp {
namespace {
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// Display width of UTF-8 text: counts code points, not bytes.
size_t Width(const std::string& s) { return Utf8CodePointCount(s); }
}  // namespace

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) w[i] = Width(header[i]);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], std::min<size_t>(Width(r[i]), 40));
  }
  auto print_row = [&](const std::vector<std::string>& r) {
    std::string line;
    for (size_t i = 0; i < w.size(); ++i) {
      std::string cell = i < r.size() ? r[i] : "";
      for (char& c : cell) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      }
      if (Width(cell) > 40) {
        cell = std::string(Utf8PrefixCodePoints(cell, 39)) + "…";  // cut at a code point boundary
      }
      line += cell;
      if (i + 1 < w.size()) line += std::string(w[i] - Width(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  };
  print_row(header);
  std::vector<std::string> rule;
  for (size_t x : w) rule.push_back(std::string(x, '-'));
  print_row(rule);
  for (const auto& r : rows) print_row(r);
}

std::string HumanBytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f GB", b / double(1ull << 30));
  } else if (b >= (1ull << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f MB", b / double(1ull << 20));
  } else if (b >= 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f KB", b / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(b));
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}
ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done, uint64_t total, const std::string& detail) {
  if (!enabled_) return;
  int64_t now = NowUs();
  if (drawn_ && now - last_draw_us_ < 100000 && done < total) return;
  last_draw_us_ = now;
  drawn_ = true;
  std::string bar;
  if (total > 0) {
    double f = std::min(1.0, done / double(total));
    int filled = static_cast<int>(f * 30);
    bar = "[" + std::string(filled, '#') + std::string(30 - filled, '.') + "] ";
    char pct[16];
    std::snprintf(pct, sizeof(pct), "%3d%% ", static_cast<int>(f * 100));
    bar += pct;
  }
  std::fprintf(stderr, "\r\033[K%s %s%s", label_.c_str(), bar.c_str(), detail.c_str());
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace cdp
