#include "bench/segment_insights/models_bench.h"

#include <algorithm>
#include <cstdio>

#include "bench/common/stopwatch.h"
#include "insight/lookalike.h"
#include "insight/suggest.h"

namespace cdp {

Status RunLookalikeBench(const CustomerAttributes& attributes, const CustomerSet& source, int fold_threads,
                         std::ostream& out) {
  LookalikeOptions options;
  options.fold_threads = fold_threads;
  bench::PhaseClock phases;
  options.on_phase = [&](std::string_view name) { phases.Enter(name); };
  bench::Stopwatch m;
  CDP_ASSIGN_OR_RETURN(LookalikeResult r, FindLookalikes(attributes, source, nullptr, options));
  phases.Stop();
  const std::string figures = m.Figures();
  char line[512];
  std::snprintf(line, sizeof line,
                "lookalike: source %lld, pool %lld, %d folds (fold_threads %d), %zu attributes: %s\n"
                "  hold-back AUC %.3f (folds %.3f..%.3f), best single attribute %.3f (%s); output %zu members;"
                " calibration slope %.3f\n",
                static_cast<long long>(r.source_size), static_cast<long long>(r.pool_size),
                static_cast<int>(r.quality.fold_auc.size()), fold_threads, r.attributes_used.size(), figures.c_str(),
                r.quality.auc, *std::min_element(r.quality.fold_auc.begin(), r.quality.fold_auc.end()),
                *std::max_element(r.quality.fold_auc.begin(), r.quality.fold_auc.end()), r.quality.baseline_auc,
                r.quality.baseline_attribute.c_str(), r.members.size(), r.calibration_slope);
  out << line;
  out << "  phases:\n" << phases.Table("    ");
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
  bench::PhaseClock phases;
  o.on_phase = [&](std::string_view name) { phases.Enter(name); };
  bench::Stopwatch m;
  CDP_ASSIGN_OR_RETURN(SuggestResult r, FindSuggestedSegments(attributes, o));
  phases.Stop();
  const std::string figures = m.Figures();
  char line[512];
  std::snprintf(line, sizeof line,
                "suggest %s (population %lld, average %.2f): %lld groups tested, %zu suggestions: %s\n",
                r.target.c_str(), static_cast<long long>(r.population), r.population_average,
                static_cast<long long>(r.tests), r.suggestions.size(), figures.c_str());
  out << line;
  out << "  phases:\n" << phases.Table("    ");
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
