#include "bench/segment_insights/models_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "insight/lookalike.h"
#include "insight/suggest.h"

namespace cdp {
namespace {

// Wall and CPU seconds since construction, and the process's peak RSS.
class Meter {
 public:
  Meter() : wall0_(std::chrono::steady_clock::now()), cpu0_(CpuSeconds()) {}
  std::string Figures() const {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.3f s wall, %.3f s cpu, peak RSS %ld MB", wall, CpuSeconds() - cpu0_,
                  PeakRssMb());
    return buf;
  }

 private:
  static long PeakRssMb() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
  }
  static double CpuSeconds() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  }
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

}  // namespace

Status RunLookalikeBench(const CustomerAttributes& attributes, const CustomerSet& source, std::ostream& out) {
  Meter m;
  CDP_ASSIGN_OR_RETURN(LookalikeResult r, FindLookalikes(attributes, source, nullptr, LookalikeOptions{}));
  const std::string figures = m.Figures();
  char line[512];
  std::snprintf(line, sizeof line,
                "lookalike: source %lld, pool %lld, %d folds, %zu attributes: %s\n"
                "  hold-back AUC %.3f (folds %.3f..%.3f), best single attribute %.3f (%s); output %zu members;"
                " calibration slope %.3f\n",
                static_cast<long long>(r.source_size), static_cast<long long>(r.pool_size),
                static_cast<int>(r.quality.fold_auc.size()), r.attributes_used.size(), figures.c_str(),
                r.quality.auc, *std::min_element(r.quality.fold_auc.begin(), r.quality.fold_auc.end()),
                *std::max_element(r.quality.fold_auc.begin(), r.quality.fold_auc.end()), r.quality.baseline_auc,
                r.quality.baseline_attribute.c_str(), r.members.size(), r.calibration_slope);
  out << line;
  out << "  pool by band:";
  for (const auto& b : r.bands) out << " " << SimilarityBandName(b.band) << " " << b.pool << ";";
  out << "\n  drivers:";
  for (size_t i = 0; i < r.drivers.size() && i < 5; ++i) {
    std::snprintf(line, sizeof line, " %s %.2f (%s);", r.drivers[i].attribute.c_str(), r.drivers[i].importance,
                  r.drivers[i].summary.c_str());
    out << line;
  }
  out << "\n";
  out.flush();
  return Status::Ok();
}

Status RunSuggestBench(const CustomerAttributes& attributes, const std::string& target, std::ostream& out) {
  SuggestOptions o;
  o.target = target;
  Meter m;
  CDP_ASSIGN_OR_RETURN(SuggestResult r, FindSuggestedSegments(attributes, o));
  const std::string figures = m.Figures();
  char line[512];
  std::snprintf(line, sizeof line,
                "suggest %s (population %lld, average %.2f): %lld groups tested, %zu suggestions: %s\n",
                r.target.c_str(), static_cast<long long>(r.population), r.population_average,
                static_cast<long long>(r.tests), r.suggestions.size(), figures.c_str());
  out << line;
  for (size_t i = 0; i < r.suggestions.size() && i < 5; ++i) {
    const Suggestion& s = r.suggestions[i];
    std::snprintf(line, sizeof line, "  %zu. %s: %lld customers, average %.2f, lift %.2f, adjusted p %.2g\n", i + 1,
                  s.rules_text.c_str(), static_cast<long long>(s.size), s.target_average, s.lift,
                  s.adjusted_p_value);
    out << line;
  }
  for (const std::string& n : r.not_used) out << "  not used: " << n << "\n";
  out.flush();
  return Status::Ok();
}

}  // namespace cdp
