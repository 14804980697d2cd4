// bench_unify_speed: unifies about 1M source records of the Contoso demo end
// to end (the demo project's rules) and prints wall time, candidate pairs,
// pairs/s and peak RSS. Generation and ingestion are timed separately and
// not counted. Target on a 2-core machine: <= 30 s and <= 4 GB.
//
//   bench_unify_speed [--records N] [--threads T] [--dir DIR] [--keep]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"
#include "workspace/workspace.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

int Die(const cdp::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 1000000;
  int threads = 0;
  bool keep = false;
  std::string dir = "/tmp/cdp_unify_speed";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records" && i + 1 < argc) {
      records = std::atoll(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: bench_unify_speed [--records N] [--threads T] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml", dir + "/project.yaml");

  // The demo has about 1.82 profile-source records per person.
  cdp::DemoOptions demo;
  demo.customers = std::max<int64_t>(1000, records * 100 / 182);
  demo.out_dir = dir + "/sources";
  demo.activity_truth = false;
  double t0 = Now();
  cdp::DemoSummary summary;
  if (cdp::Status s = cdp::GenerateContosoDemo(demo, &summary); !s.ok()) return Die(s);
  double t_gen = Now() - t0;

  auto ws = cdp::Workspace::Init(dir + "/ws");
  if (!ws.ok()) return Die(ws.status());
  auto project = cdp::LoadProjectFile(dir + "/project.yaml");
  if (!project.ok()) return Die(project.status());
  if (cdp::Status s = (*ws)->catalog().ReplaceProject(*project); !s.ok()) return Die(s);
  std::vector<std::string> profile_sources;
  for (const auto& s : project->unification.sources) profile_sources.push_back(s.source);
  t0 = Now();
  cdp::IngestOptions io;
  io.threads = threads;
  auto ingested = cdp::IngestSources(**ws, profile_sources, io, "ingest");
  if (!ingested.ok()) return Die(ingested.status());
  double t_ingest = Now() - t0;

  cdp::UnifyRunOptions uo;
  uo.threads = threads;
  long rss_before = PeakRssMb();
  t0 = Now();
  auto r = cdp::RunUnify(**ws, uo);
  if (!r.ok()) return Die(r.status());
  double wall = Now() - t0;
  const cdp::UnifyStats& st = r->stats;

  std::printf("bench_unify_speed: demo with %lld people (generated in %.1f s, profile sources ingested in %.1f s)\n",
              static_cast<long long>(demo.customers), t_gen, t_ingest);
  std::printf("%-28s %lld\n", "source records", static_cast<long long>(st.records_in));
  std::printf("%-28s %lld\n", "profiles out", static_cast<long long>(st.profiles_out));
  std::printf("%-28s %lld\n", "candidate pairs", static_cast<long long>(st.matching.candidate_pairs));
  std::printf("%-28s %.3f s\n", "unify wall time (read..commit)", wall);
  std::printf("%-28s %.0f\n", "candidate pairs/s", static_cast<double>(st.matching.candidate_pairs) / wall);
  std::printf("%-28s %.0f\n", "records/s", static_cast<double>(st.records_in) / wall);
  for (const auto& [step, secs] : st.seconds) std::printf("  %-26s %.3f s\n", step.c_str(), secs);
  std::printf("%-28s %ld MB (before unify: %ld MB)\n", "peak RSS", PeakRssMb(), rss_before);
  std::printf("target: <= 30 s and <= 4096 MB on 2 cores: %s\n",
              wall <= 30 && PeakRssMb() <= 4096 ? "met" : "NOT met");
  if (!keep) fs::remove_all(dir);
  return 0;
}
