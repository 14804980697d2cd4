#include "bench/predictions/reco_speed.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/datetime.h"
#include "common/parallel.h"
#include "predict/recommend.h"

namespace cdp {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// User + system CPU seconds of this process (all threads) so far.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The 1-minute load average (/proc/loadavg), or -1.
double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

// Resets the process's peak RSS to its current RSS (Linux >= 4.0); false if not possible.
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out.flush());
}

// VmHWM (peak RSS) of /proc/self/status in MiB, or -1.
double PeakRssMiBNow() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return -1;
}

// This source file's directory (the compiler sees an absolute path under CMake + Ninja).
std::filesystem::path SourceDir() { return std::filesystem::path(__FILE__).parent_path(); }

}  // namespace

StatusOr<KnnPeerResult> RunKnnPeer(const TransactionLog& log, int32_t cutoff, int32_t as_of_day, int k,
                                   int neighbours) {
  const std::filesystem::path script = SourceDir() / "knn_peer.py";
  std::error_code ec;
  if (!std::filesystem::exists(script, ec) || !std::filesystem::exists("/usr/bin/python3", ec))
    return UnavailableError("knn peer: " + script.string() + " or /usr/bin/python3 missing");
  if (std::system("/usr/bin/python3 -c 'import sklearn, scipy' 2>/dev/null") != 0)
    return UnavailableError("knn peer: python3-sklearn / python3-scipy not installed");
  const std::filesystem::path data =
      std::filesystem::temp_directory_path() / ("cdp_knn_peer_" + std::to_string(getpid()) + ".bin");
  {
    std::ofstream out(data, std::ios::binary);
    std::vector<int32_t> buf;
    buf.reserve(3 * 65536);
    for (int64_t c = 0; c < log.num_customers(); ++c) {
      for (int64_t r = log.offsets[c]; r < log.offsets[c + 1]; ++r) {
        if (log.product[r] < 0) continue;
        buf.push_back(static_cast<int32_t>(c));
        buf.push_back(log.product[r]);
        buf.push_back(log.day[r]);
        if (buf.size() >= 3 * 65536) {
          out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size() * 4));
          buf.clear();
        }
      }
    }
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size() * 4));
    if (!out.flush()) return DataLossError("knn peer: cannot write " + data.string());
  }
  const std::string cmd = "/usr/bin/python3 " + script.string() + " " + data.string() + " " +
                          std::to_string(log.num_customers()) + " " + std::to_string(log.num_products()) +
                          " " + std::to_string(cutoff) + " " + std::to_string(as_of_day) + " " +
                          std::to_string(k) + " " + std::to_string(neighbours);
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string output;
  if (pipe != nullptr) {
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) output += line;
    pclose(pipe);
  }
  std::filesystem::remove(data, ec);
  KnnPeerResult r;
  long long customers = 0;
  const size_t at = output.find("peer fit_s=");
  if (at == std::string::npos ||
      std::sscanf(
          output.c_str() + at,
          "peer fit_s=%lf score_s=%lf fit_cpu=%lf score_cpu=%lf customers=%lld success=%lf precision=%lf",
          &r.fit_seconds, &r.score_seconds, &r.fit_cpu_seconds, &r.score_cpu_seconds, &customers,
          &r.success_at_k, &r.precision_at_k) != 7)
    return InternalError("knn peer: unexpected output: " + output.substr(0, 300));
  r.customers = customers;
  return r;
}

Status RunRecommendSpeed(const TransactionLog& log, int32_t as_of_day, bool peer) {
  const int32_t holdout_days = 30;
  const int32_t cutoff = as_of_day - holdout_days;
  const int k = 10;
  std::printf(
      "\n-- recommendations: %lld customers, %lld transactions, %lld products; fit on rows before %s, every "
      "customer scored as of it (k=%d, no repeats), hold-back %s .. %s; %d threads --\n",
      static_cast<long long>(log.num_customers()), static_cast<long long>(log.num_transactions()),
      static_cast<long long>(log.num_products()), FormatDate(cutoff).c_str(), k, FormatDate(cutoff).c_str(),
      FormatDate(as_of_day - 1).c_str(), ResolveThreads(0));
  std::printf(
      "  (load average before: %.1f; wall seconds, and CPU seconds of all threads, which a busy machine "
      "inflates less)\n",
      LoadAverage());
  std::printf("  %-9s %8s %9s %10s %11s %13s %10s %12s %10s\n", "algorithm", "fit s", "score s", "fit cpu s",
              "score cpu s", "peak RSS MiB", "customers", "Success@10", "precision");
  const RecommendAlgorithm algorithms[] = {RecommendAlgorithm::kAls, RecommendAlgorithm::kItemKnn,
                                           RecommendAlgorithm::kPopular};
  double success[3] = {0, 0, 0};
  double knn_fit = 0, knn_score = 0, knn_fit_cpu = 0, knn_score_cpu = 0;
  for (int a = 0; a < 3; ++a) {
    RecommendOptions options;
    options.algorithm = algorithms[a];
    options.count = k;
    const bool reset = ResetPeakRss();
    auto t0 = std::chrono::steady_clock::now();
    double c0 = CpuSeconds();
    CDP_ASSIGN_OR_RETURN(RecommenderModel model, FitRecommender(log, cutoff, options));
    const double fit_seconds = SecondsSince(t0);
    const double fit_cpu = CpuSeconds() - c0;
    t0 = std::chrono::steady_clock::now();
    c0 = CpuSeconds();
    CDP_ASSIGN_OR_RETURN(RecommendationList recs, RecommendProducts(model, log, cutoff, options));
    const double score_seconds = SecondsSince(t0);
    const double score_cpu = CpuSeconds() - c0;
    const double peak = PeakRssMiBNow();
    CDP_ASSIGN_OR_RETURN(HoldoutHits hits, MeasureHoldout(log, recs, cutoff, as_of_day, k));
    success[a] = hits.success_at_k;
    if (algorithms[a] == RecommendAlgorithm::kItemKnn) {
      knn_fit = fit_seconds;
      knn_score = score_seconds;
      knn_fit_cpu = fit_cpu;
      knn_score_cpu = score_cpu;
    }
    std::printf("  %-9s %8.2f %9.2f %10.2f %11.2f %12.0f%s %10lld %12.4f %10.4f\n",
                std::string(RecommendAlgorithmName(algorithms[a])).c_str(), fit_seconds, score_seconds,
                fit_cpu, score_cpu, peak, reset ? " " : "*", static_cast<long long>(hits.customers),
                hits.success_at_k, hits.precision_at_k);
  }
  std::printf(
      "  (peak RSS: the process's high-water mark during fit + scoring, reset before each algorithm; "
      "* = could not reset, includes everything before)\n");
  std::printf("  grade against popular: als %s, item_knn %s\n",
              std::string(ModelGradeName(GradeAgainstBaseline(success[0], success[2], 0.10))).c_str(),
              std::string(ModelGradeName(GradeAgainstBaseline(success[1], success[2], 0.10))).c_str());
  std::printf(
      "  peer: the `implicit` Python package (ALS) is not installable here (PyPI is not reachable); not "
      "imitated, no ALS ratio printed.\n");
  if (peer) {
    StatusOr<KnnPeerResult> p = RunKnnPeer(log, cutoff, as_of_day, k, RecommendOptions{}.neighbours);
    if (!p.ok()) {
      std::printf("  peer item-kNN (scikit-learn): not run: %s\n", p.status().ToString().c_str());
    } else {
      std::printf(
          "  peer item-kNN (scikit-learn NearestNeighbors cosine + SciPy, same data, same task): fit %.2f s "
          "(cpu %.2f), score %.2f s (cpu %.2f), customers %lld, Success@10 %.4f, precision %.4f\n",
          p->fit_seconds, p->fit_cpu_seconds, p->score_seconds, p->score_cpu_seconds,
          static_cast<long long>(p->customers), p->success_at_k, p->precision_at_k);
      std::printf(
          "  item_knn vs peer: time ratio (peer / cdp) wall fit %.2fx, score %.2fx, fit+score %.2fx; cpu "
          "fit+score %.2fx; Success@10 ratio (cdp / peer) %.3f\n",
          p->fit_seconds / knn_fit, p->score_seconds / knn_score,
          (p->fit_seconds + p->score_seconds) / (knn_fit + knn_score),
          (p->fit_cpu_seconds + p->score_cpu_seconds) / (knn_fit_cpu + knn_score_cpu),
          p->success_at_k > 0 ? success[1] / p->success_at_k : 0.0);
    }
  }
  return Status::Ok();
}

}  // namespace cdp
