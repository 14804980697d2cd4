// bench/ingest: ingest throughput of a generated typed 10-column CSV through
// the product's real path (workspace, catalog, converter, columnar writer),
// single-threaded and with all cores, against `cat FILE > /dev/null` on the
// same file as the ceiling. Prints MB/s, rows/s and peak RSS.
//
// Usage: bench_ingest [--size-mb N] [--dir DIR] [--keep] [--threads N] [--range-kb N] [--repeat N]
// (--threads N measures only N threads instead of 1 and all cores; --range-kb
// sets IngestOptions::csv_range_bytes; each figure is the best of --repeat
// runs, default 3, with the median beside it: the machine may be shared.)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "config/project_config.h"
#include "workspace/ingest_runner.h"
#include "workspace/workspace.h"

namespace fs = std::filesystem;
using namespace cdp;

namespace {

uint64_t Next(uint64_t& s) {  // splitmix64
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Writes rows of: OrderId,CustomerId,FirstName,LastName,Email,Amount,Quantity,OrderDate,CreatedAt,Active
uint64_t GenerateCsv(const std::string& path, uint64_t target_bytes) {
  static const char* kFirst[] = {"Abbie", "Robert", "Maria", "James", "Zoë", "Liam", "Olivia", "Noah", "Emma", "José"};
  static const char* kLast[] = {"Moss", "Smith", "Garcia", "Johnson", "Müller", "Brown", "Nuñez", "Lee", "Walker", "Young"};
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::vector<char> buf(1 << 22);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  std::fputs("OrderId,CustomerId,FirstName,LastName,Email,Amount,Quantity,OrderDate,CreatedAt,Active\n", f);
  uint64_t s = 42, rows = 0, bytes = 0;
  char line[512];
  while (bytes < target_bytes) {
    uint64_t r = Next(s);
    const char* fn = kFirst[r % 10];
    const char* ln = kLast[(r >> 8) % 10];
    unsigned y = 2015 + (r >> 16) % 10, m = 1 + (r >> 20) % 12, d = 1 + (r >> 24) % 28;
    unsigned hh = (r >> 30) % 24, mm = (r >> 36) % 60, ss = (r >> 42) % 60;
    int n = std::snprintf(line, sizeof(line),
                          "%" PRIu64 ",%" PRIu64 ",%s,%s,%s.%s%" PRIu64 "@example.com,%" PRIu64 ".%02" PRIu64
                          ",%" PRIu64 ",%04u-%02u-%02u,%04u-%02u-%02u %02u:%02u:%02u,%s\n",
                          rows + 1, r % 1000000, fn, ln, fn, ln, (r >> 40) % 1000, (r >> 12) % 500, (r >> 4) % 100,
                          1 + (r >> 50) % 9, y, m, d, y, m, d, hh, mm, ss, (r & 1) ? "true" : "false");
    std::fwrite(line, 1, static_cast<size_t>(n), f);
    bytes += static_cast<uint64_t>(n);
    ++rows;
  }
  std::fclose(f);
  return rows;
}

double CatSeconds(const std::string& path) {
  auto t0 = std::chrono::steady_clock::now();
  std::string cmd = "cat '" + path + "' > /dev/null";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "cat failed\n");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

long PeakRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t size_mb = 1100;
  std::string dir = "/tmp/cdp_bench_ingest";
  bool keep = false;
  int only_threads = 0;
  uint64_t range_kb = 0;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--size-mb") && i + 1 < argc) size_mb = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--keep")) keep = true;
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) only_threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--range-kb") && i + 1 < argc) range_kb = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_ingest [--size-mb N] [--dir DIR] [--keep] [--threads N] [--range-kb N] [--repeat N]\n");
      return 2;
    }
  }
  fs::create_directories(dir);
  std::string csv = dir + "/orders.csv";
  uint64_t target = size_mb << 20;
  std::error_code ec;
  if (!fs::exists(csv) || fs::file_size(csv, ec) < target) {
    std::printf("generating %" PRIu64 " MB typed CSV at %s ...\n", size_mb, csv.c_str());
    std::fflush(stdout);
    GenerateCsv(csv, target);
  }
  uint64_t bytes = fs::file_size(csv);
  double mb = bytes / double(1 << 20);
  std::printf("file: %s, %.0f MB, 10 typed columns (int64 x3, double, string x3, date, timestamp, bool)\n",
              csv.c_str(), mb);

  CatSeconds(csv);  // warm the page cache so every measurement reads from memory
  double cat_s = CatSeconds(csv);
  std::printf("%-28s %8.2f s %9.1f MB/s\n", "cat FILE > /dev/null", cat_s, mb / cat_s);

  int cores = ThreadPool::HardwareThreads();
  std::string yaml = "project: bench\nsources:\n  - name: Orders\n    kind: csv\n    path: " + csv + "\n";
  std::vector<int> thread_counts = {1, cores};
  if (only_threads > 0) thread_counts = {only_threads};
  for (int threads : thread_counts) {
    // Each run ingests into a fresh workspace; the best of --repeat runs is
    // the figure (the machine is shared: other runs only lose time).
    std::vector<double> runs;
    int64_t rows_stored = 0, rows_quarantined = 0;
    for (int rep = 0; rep < repeat; ++rep) {
      std::string ws_dir = dir + "/ws";
      fs::remove_all(ws_dir);
      auto ws = Workspace::Init(ws_dir);
      if (!ws.ok()) {
        std::fprintf(stderr, "%s\n", ws.status().ToString().c_str());
        return 1;
      }
      auto project = ParseProjectYaml(yaml, "bench", dir);
      if (!project.ok() || !(*ws)->catalog().ReplaceProject(*project).ok()) return 1;
      IngestOptions options;
      options.threads = threads;
      options.force = true;
      if (range_kb > 0) options.csv_range_bytes = range_kb << 10;
      auto t0 = std::chrono::steady_clock::now();
      auto result = IngestSources(**ws, {}, options);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!result.ok() || !result->ok()) {
        std::fprintf(stderr, "ingest failed: %s\n",
                     result.ok() ? result->sources[0].record.message.c_str() : result.status().ToString().c_str());
        return 1;
      }
      rows_stored = result->sources[0].record.rows_stored;
      rows_quarantined = result->sources[0].record.rows_quarantined;
      runs.push_back(secs);
    }
    std::vector<double> sorted = runs;
    std::sort(sorted.begin(), sorted.end());
    const double secs = sorted.front();
    std::string all;
    for (double r : runs) all += (all.empty() ? "" : " ") + std::to_string(r).substr(0, 4);
    char label[64];
    std::snprintf(label, sizeof(label), "cdp ingest, %d thread%s", threads, threads == 1 ? "" : "s");
    std::printf("%-28s %8.2f s %9.1f MB/s %6.1f MB/s/core %11.0f rows/s  rows=%" PRId64 " quarantined=%" PRId64
                " peak RSS=%ld MB  (best of %d runs: %s s; median %.1f MB/s/core)\n",
                label, secs, mb / secs, mb / secs / threads, rows_stored / secs, rows_stored, rows_quarantined,
                PeakRssMb(), repeat, all.c_str(), mb / sorted[sorted.size() / 2] / threads);
    std::fflush(stdout);
  }
  std::printf("target: >= 250 MB/s per core\n");
  if (!keep) fs::remove_all(dir);
  return 0;
}
