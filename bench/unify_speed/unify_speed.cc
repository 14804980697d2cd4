// bench_unify_speed: unification end to end at scale. Generates about N source
// records (the household generator of src/demo/household_generator.h by
// default, or the Contoso demo), then times each step with its own peak RSS:
// generation (apart: not the product's work), ingest of the profile sources,
// and unify (with the per-step seconds RunUnify reports). With --changed F it
// then re-renders a share F of the records (same keys, same people, fresh
// noise: HouseholdOptions::changed_fraction), ingests again and re-unifies with
// the default options, printing the seconds and their share of the first run.
// Whether that re-run is incremental is up to RunUnify (UnifyRunOptions: see
// the "re-unify" line of the output).
//
//   bench_unify_speed [--records N] [--data gen|demo] [--mode rules|probabilistic]
//                     [--config FILE] [--changed F] [--threads T] [--dir DIR]
//                     [--max-rss-mb M] [--keep]
//
// --records   source records to generate (default 1,000,000; the generators
//             give about 1.8 records per person)
// --data      gen (default): the four household sources with
//             bench/unify_accuracy/gen_<mode>.yaml; demo: the Contoso demo's
//             three profile sources with examples/contoso/project.yaml
// --config    another project file for the generated data (paths relative to
//             the data directory)
// --changed   share of records changed before a second unify (gen only), e.g. 0.01
// --max-rss-mb  stop after a step whose peak RSS exceeds M MB (default 20000)
//
// Peak RSS is the process's VmHWM, reset (/proc/self/clear_refs) before each step.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "demo/household_generator.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"
#include "workspace/workspace.h"

namespace {

namespace fs = std::filesystem;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (out) out << "5";
}

long PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10) / 1024;
  }
  return -1;
}

int Die(const std::string& what, const cdp::Status& s) {
  std::fprintf(stderr, "error: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_unify_speed [--records N] [--data gen|demo] [--mode rules|probabilistic] [--config FILE]\n"
               "                         [--changed F] [--threads T] [--dir DIR] [--max-rss-mb M] [--keep]\n");
  return 2;
}

struct Step {
  std::string name;
  double seconds = 0;
  long rss_mb = 0;
};

void PrintStep(const Step& s) {
  std::printf("%-34s %9.2f s %9ld MB\n", s.name.c_str(), s.seconds, s.rss_mb);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 1000000;
  int threads = 0;
  bool keep = false;
  std::string data = "gen", mode = "rules", config, dir = "/tmp/cdp_unify_speed";
  double changed = 0;
  long max_rss_mb = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--records" && has_value) records = std::atoll(argv[++i]);
    else if (a == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (a == "--data" && has_value) data = argv[++i];
    else if (a == "--mode" && has_value) mode = argv[++i];
    else if (a == "--config" && has_value) config = argv[++i];
    else if (a == "--changed" && has_value) changed = std::atof(argv[++i]);
    else if (a == "--dir" && has_value) dir = argv[++i];
    else if (a == "--max-rss-mb" && has_value) max_rss_mb = std::atol(argv[++i]);
    else if (a == "--keep") keep = true;
    else return Usage();
  }
  if (records < 1000 || (data != "gen" && data != "demo") || (mode != "rules" && mode != "probabilistic") ||
      changed < 0 || changed > 1 || (changed > 0 && data != "gen")) {
    return Usage();
  }
  const std::string src = CDP_SOURCE_DIR;
  fs::remove_all(dir);
  fs::create_directories(dir + "/sources");
  const std::string data_dir = dir + "/sources";
  if (config.empty()) {
    config = data == "gen" ? src + "/bench/unify_accuracy/gen_" + mode + ".yaml"
                           : src + (mode == "rules" ? "/examples/contoso/project.yaml"
                                                    : "/bench/unify_accuracy/contoso_probabilistic.yaml");
  }
  std::vector<Step> steps;
  auto over_budget = [&](const Step& s) {
    if (s.rss_mb <= max_rss_mb) return false;
    std::printf("stopping: %s peaked at %ld MB (> --max-rss-mb %ld)\n", s.name.c_str(), s.rss_mb, max_rss_mb);
    return true;
  };

  // 1. Generation (timed apart).
  cdp::HouseholdOptions gen;
  gen.people = std::max<int64_t>(1000, records * 100 / 181);
  gen.out_dir = data_dir;
  int64_t generated = 0;
  ResetPeakRss();
  double t0 = Now();
  if (data == "gen") {
    cdp::HouseholdSummary summary;
    if (cdp::Status s = cdp::GenerateHouseholdSources(gen, &summary); !s.ok()) return Die("generate", s);
    generated = summary.records;
    std::printf("bench_unify_speed: household generator, %lld people in %lld households, %lld source records\n",
                static_cast<long long>(summary.people), static_cast<long long>(summary.households),
                static_cast<long long>(summary.records));
  } else {
    cdp::DemoOptions demo;  // about 1.82 profile-source records per person
    demo.customers = std::max<int64_t>(1000, records * 100 / 182);
    demo.out_dir = data_dir;
    demo.activity_truth = false;
    cdp::DemoSummary summary;
    if (cdp::Status s = cdp::GenerateContosoDemo(demo, &summary); !s.ok()) return Die("generate", s);
    std::printf("bench_unify_speed: Contoso demo, %lld people\n", static_cast<long long>(summary.people));
  }
  steps.push_back({"generate (not counted)", Now() - t0, PeakRssMb()});
  PrintStep(steps.back());
  std::printf("project: %s\n", config.c_str());

  auto ws = cdp::Workspace::Init(dir + "/ws");
  if (!ws.ok()) return Die("workspace", ws.status());
  std::ifstream in(config, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto project = cdp::ParseProjectYaml(text, config, data_dir);
  if (!project.ok()) return Die("project", project.status());
  if (cdp::Status s = (*ws)->catalog().ReplaceProject(*project); !s.ok()) return Die("apply", s);
  std::vector<std::string> profile_sources;
  for (const auto& s : project->unification.sources) profile_sources.push_back(s.source);

  auto ingest = [&](const std::string& label) -> int {
    ResetPeakRss();
    const double start = Now();
    cdp::IngestOptions io;
    io.threads = threads;
    auto ingested = cdp::IngestSources(**ws, profile_sources, io, "ingest");
    if (!ingested.ok()) return Die(label, ingested.status());
    int64_t rows = 0, quarantined = 0;
    for (const auto& s : ingested->sources) {
      if (s.record.status == "failed") {
        std::fprintf(stderr, "error: %s %s: %s\n", label.c_str(), s.record.source.c_str(), s.record.message.c_str());
        return 1;
      }
      rows += s.record.rows_stored;
      quarantined += s.record.rows_quarantined;
    }
    steps.push_back({label, Now() - start, PeakRssMb()});
    PrintStep(steps.back());
    std::printf("  rows stored %lld, quarantined %lld\n", static_cast<long long>(rows),
                static_cast<long long>(quarantined));
    return 0;
  };
  cdp::UnifyStats first_stats;
  auto unify = [&](const std::string& label, cdp::UnifyStats* stats_out) -> int {
    cdp::UnifyRunOptions uo;
    uo.threads = threads;
    ResetPeakRss();
    const double start = Now();
    auto r = cdp::RunUnify(**ws, uo);
    if (!r.ok()) return Die(label, r.status());
    steps.push_back({label, Now() - start, PeakRssMb()});
    PrintStep(steps.back());
    const cdp::UnifyStats& st = r->stats;
    std::printf("  records in %lld, profiles out %lld, candidate pairs %lld (%.0f pairs/s)\n",
                static_cast<long long>(st.records_in), static_cast<long long>(st.profiles_out),
                static_cast<long long>(st.matching.candidate_pairs),
                static_cast<double>(st.matching.candidate_pairs) / std::max(1e-9, steps.back().seconds));
    for (const auto& [name, secs] : st.seconds) std::printf("    %-30s %9.2f s\n", name.c_str(), secs);
    for (size_t i = 0; i < st.warnings.size() && i < 5; ++i) std::printf("    warning: %s\n", st.warnings[i].c_str());
    if (st.warnings.size() > 5) std::printf("    ... %zu warnings in all\n", st.warnings.size());
    if (stats_out) *stats_out = st;
    return 0;
  };

  // 2. Ingest and unify.
  if (int rc = ingest("ingest"); rc) return rc;
  if (over_budget(steps.back())) return 1;
  if (int rc = unify("unify", &first_stats); rc) return rc;
  if (over_budget(steps.back())) return 1;
  const double first_unify = steps.back().seconds;
  const double first_ingest = steps[steps.size() - 2].seconds;

  // 3. Re-unify after a share of the records changed.
  if (changed > 0) {
    gen.changed_fraction = changed;
    gen.change_seed = 7;
    cdp::HouseholdSummary summary;
    t0 = Now();
    if (cdp::Status s = cdp::GenerateHouseholdSources(gen, &summary); !s.ok()) return Die("regenerate", s);
    std::printf("changed %lld of %lld records (%.2f%%) in %.1f s (not counted)\n",
                static_cast<long long>(summary.changed_records), static_cast<long long>(summary.records),
                100.0 * static_cast<double>(summary.changed_records) / static_cast<double>(summary.records), Now() - t0);
    if (int rc = ingest("ingest after change"); rc) return rc;
    if (over_budget(steps.back())) return 1;
    if (int rc = unify("re-unify (default options)", nullptr); rc) return rc;
    const double again = steps.back().seconds;
    std::printf("re-unify after %.2f%% changed: %.2f s = %.1f%% of the first unify (%.2f s); "
                "re-ingest %.2f s = %.1f%% of the first ingest\n",
                100 * changed, again, 100 * again / std::max(1e-9, first_unify), first_unify,
                steps[steps.size() - 2].seconds, 100 * steps[steps.size() - 2].seconds / std::max(1e-9, first_ingest));
  }

  std::printf("\nsummary (%lld source records generated)\n", static_cast<long long>(generated));
  std::printf("%-34s %11s %12s\n", "step", "seconds", "peak RSS");
  double total = 0;
  for (const auto& s : steps) {
    PrintStep(s);
    if (s.name.rfind("generate", 0) != 0) total += s.seconds;
  }
  std::printf("%-34s %9.2f s\n", "ingest + unify (all runs)", total);
  if (!keep) fs::remove_all(dir);
  return 0;
}
