// The files destination on 1M rows of 6 fields (int64, three strings, a
// double, a date) in batches of 1,000: CSV, CSV + gzip, JSON Lines and a CDM
// folder, written to a temporary directory (removed after), and
// FormatExportDouble alone. Prints figures; never pass/fail.
// Usage: bench_export_files [ROWS] [DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "export/export_value.h"
#include "export/file_destination.h"

using namespace cdp;

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const std::string dir = argc > 2 ? argv[2]
                                   : (std::filesystem::temp_directory_path() /
                                      ("bench_export_files_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  ResolvedConnection c;
  c.name = "bench";
  c.kind = "files";
  c.settings["path"] = dir;
  DestinationKind kind = FileDestinationKind();

  auto t0 = std::chrono::steady_clock::now();
  size_t chars = 0;
  for (int64_t i = 0; i < rows; ++i) chars += FormatExportDouble(static_cast<double>(i) * 0.37 + 0.1)->size();
  const double format_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("FormatExportDouble: %.0f ns per value (%lld values of i*0.37+0.1, %zu chars)\n",
              format_secs * 1e9 / static_cast<double>(rows), static_cast<long long>(rows), chars);

  // The rows are built once: only the destination is timed.
  std::vector<ExportBatch> batches;
  for (int64_t start = 0; start < rows; start += 1000) {
    ExportBatch batch;
    batch.sequence = static_cast<int64_t>(batches.size());
    for (int64_t id = start; id < std::min(rows, start + 1000); ++id) {
      const double spend = static_cast<double>(id % 100000) / 100.0 + 0.01 * static_cast<double>(id % 7);
      batch.rows.push_back(ExportRow{RowChange::kAdded,
                                     {std::to_string(id), "First" + std::to_string(id % 977),
                                      "Last, " + std::to_string(id % 331), "user" + std::to_string(id) + "@example.com",
                                      FormatExportDouble(spend), "2020-01-0" + std::to_string(1 + id % 9)}});
    }
    batches.push_back(std::move(batch));
  }
  const std::vector<std::pair<const char*, const char*>> runs = {
      {"csv", "false"}, {"csv", "true"}, {"jsonl", "false"}, {"cdm", "false"}};
  int64_t run_id = 0;
  for (const auto& [format, gzip] : runs) {
    ExportRunInfo run;
    run.export_name = "bench";
    run.export_run_id = ++run_id;
    run.target = "Members";
    run.schema.fields = {{"CustomerId", DataType::kInt64}, {"FirstName", DataType::kString},
                         {"LastName", DataType::kString},  {"Email", DataType::kString},
                         {"Spend", DataType::kDouble},     {"Born", DataType::kDate}};
    run.options = {{"format", format}, {"gzip", gzip}};
    auto t = std::chrono::steady_clock::now();
    auto session = kind.begin(c, run);
    if (!session.ok()) {
      std::fprintf(stderr, "%s\n", session.status().ToString().c_str());
      return 1;
    }
    for (const auto& b : batches) {
      if (Status s = (*session)->Write(b); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
    }
    if (Status s = (*session)->Commit(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    std::printf("format=%-5s gzip=%-5s %lld rows in %.2f s = %.0f rows/s; %s\n", format, gzip,
                static_cast<long long>(rows), secs, static_cast<double>(rows) / secs,
                (*session)->response_samples().front().c_str());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
