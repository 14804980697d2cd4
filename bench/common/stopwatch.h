// Shared by the benchmarks: wall and CPU seconds of a part and the process's
// peak RSS (getrusage), and a PhaseClock that adds a run's time to named
// phases (a library calls back at each phase boundary; the phases repeat,
// e.g. once per fold, and their times add up).
//
// CPU seconds are the process's user + system time (every thread), so a part
// running on 2 threads can show more CPU than wall seconds; on a busy machine
// wall time can be a multiple of CPU time, and CPU seconds are the steadier
// figure. Peak RSS only grows: a part's figure includes everything allocated
// before it.
//
// Thread-safety: Stopwatch is a value read by one thread; PhaseClock's Enter
// must be called from one thread at a time (the process-wide counters it reads
// are safe to read from any thread).
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace cdp::bench {

// User + system CPU seconds of the whole process so far.
inline double ProcessCpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The process's peak resident set so far, in MB (ru_maxrss is KiB on Linux).
inline long PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// Wall and CPU seconds since construction (or Restart).
class Stopwatch {
 public:
  Stopwatch() { Restart(); }
  void Restart() {
    wall0_ = std::chrono::steady_clock::now();
    cpu0_ = ProcessCpuSeconds();
  }
  double WallSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  }
  double CpuSeconds() const { return ProcessCpuSeconds() - cpu0_; }
  // "1.234 s wall, 0.567 s cpu, peak RSS 890 MB"
  std::string Figures() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.3f s wall, %.3f s cpu, peak RSS %ld MB", WallSeconds(), CpuSeconds(),
                  PeakRssMb());
    return buf;
  }

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_ = 0;
};

// Time per named phase: Enter(name) closes the current phase (adding its wall
// and CPU seconds to that name's totals) and opens `name`; Stop() closes the
// current one. Phases are listed in the order first entered, each with the
// times summed over its visits, how many visits, and the peak RSS when it was
// last left.
class PhaseClock {
 public:
  struct Phase {
    std::string name;
    int visits = 0;
    double wall = 0, cpu = 0;
    long peak_rss_mb = 0;
  };

  void Enter(std::string_view name) {
    Stop();
    current_ = Find(name);
    ++phases_[current_].visits;
    watch_.Restart();
  }
  void Stop() {
    if (current_ == kNone) return;
    Phase& p = phases_[current_];
    p.wall += watch_.WallSeconds();
    p.cpu += watch_.CpuSeconds();
    p.peak_rss_mb = PeakRssMb();
    current_ = kNone;
  }
  const std::vector<Phase>& phases() const { return phases_; }

  // One line per phase: "    train (x5): 12.345 s wall, 6.789 s cpu, peak RSS 890 MB".
  std::string Table(std::string_view indent = "    ") const {
    std::string out;
    char buf[256];
    for (const Phase& p : phases_) {
      const std::string visits = p.visits > 1 ? " (x" + std::to_string(p.visits) + ")" : "";
      std::snprintf(buf, sizeof buf, "%.*s%s%s: %.3f s wall, %.3f s cpu, peak RSS %ld MB\n",
                    static_cast<int>(indent.size()), indent.data(), p.name.c_str(), visits.c_str(), p.wall, p.cpu,
                    p.peak_rss_mb);
      out += buf;
    }
    return out;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  size_t Find(std::string_view name) {
    for (size_t i = 0; i < phases_.size(); ++i) {
      if (phases_[i].name == name) return i;
    }
    phases_.push_back(Phase{std::string(name), 0, 0, 0, 0});
    return phases_.size() - 1;
  }
  std::vector<Phase> phases_;
  size_t current_ = kNone;
  Stopwatch watch_;
};

}  // namespace cdp::bench
