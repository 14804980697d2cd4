// Developer tool: times GenerateContosoDemo outside the CLI.
// Usage: demo_timing CUSTOMERS SEED OUT_DIR [NOISE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "demo/demo_generator.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CUSTOMERS SEED OUT_DIR [NOISE]\n", argv[0]);
    return 2;
  }
  cdp::DemoOptions options;
  options.customers = std::atoll(argv[1]);
  options.seed = std::strtoull(argv[2], nullptr, 10);
  options.out_dir = argv[3];
  if (argc > 4) options.noise = std::atof(argv[4]);
  const auto start = std::chrono::steady_clock::now();
  options.progress = [start](const cdp::DemoProgress& p) {
    if (p.done != p.total) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%7.2fs %-24.*s %lld\n", s, static_cast<int>(p.stage.size()), p.stage.data(),
                 static_cast<long long>(p.total));
  };
  cdp::DemoSummary summary;
  const cdp::Status status = cdp::GenerateContosoDemo(options, &summary);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& f : summary.files)
    std::printf("%-24s %lld rows\n", f.name.c_str(), static_cast<long long>(f.rows));
  std::printf("total %.2f s\n", s);
  return 0;
}
