// bench/unify_accuracy: accuracy of unification against a known truth, through
// the product's real path (workspace, project YAML, ingest, RunUnify, the
// CustomerSourceKeys lineage). Prints pairwise precision, recall and F1 over
// unordered record pairs after transitive closure (ScoreClustering of
// workspace/unify_evaluation.h, as `cdp unify evaluate`), predicted vs true cluster
// counts, the largest profile, candidate pairs, seconds (ingest and unify) and
// the peak RSS of ingest + unify, for:
//   demo5k / demo100k  GenerateContosoDemo at its default noise, scored on the
//                      three profile sources (truth.csv); project:
//                      examples/contoso/project.yaml (rules) and
//                      bench/unify_accuracy/contoso_probabilistic.yaml
//   febrl3             Febrl dataset3 (deduplication of one source)
//   febrl4             Febrl dataset4a + dataset4b (linkage of two sources)
//                      projects: bench/unify_accuracy/febrl{3,4}_{rules,probabilistic}.yaml
//   gen20k / gen200k   GenerateHouseholdSources (src/demo/household_generator.h)
//                      with 20,000 / 200,000 people in households over four
//                      sources (CRM, Loyalty, WebShop, POS), scored on all of
//                      them; projects: bench/unify_accuracy/gen_<mode>.yaml,
//                      written from docs/project-yaml.md without looking at
//                      scores (see the comment at the top of each)
// The Febrl truth is the number in rec_id (rec-NNN-org / rec-NNN-dup-K); the
// projects use rec_id only as the key, and never soc_sec_id.
// Peak RSS: the process's high-water mark (VmHWM), reset before ingesting
// (/proc/self/clear_refs), so it covers ingest + unify of the case plus what
// the bench already holds (the truth map).
//
// Usage: bench_unify_accuracy [--case demo5k|demo100k|febrl3|febrl4|gen20k|gen200k|all]
//          [--mode rules|probabilistic|both|MODE] [--verbose] [--samples N]
//          [--febrl-dir DIR] [--tmp DIR] [--threads N] [--noise X] [--seed N] [--keep]
// `all` runs every case but gen200k. For the gen cases MODE may name any
// bench/unify_accuracy/gen_MODE.yaml (e.g. rules_v2), for febrl3/febrl4 any
// febrlN_MODE.yaml (e.g. probabilistic_household).
// --verbose prints the trained model (probabilistic mode, as `cdp explain-model`),
// then a sample of false positives (accepted pairs of two people,
// with the rule and score) and false negatives (records of one person left in
// different profiles), each with the records' values and the rules' verdicts.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "demo/household_generator.h"
#include "workspace/ingest_runner.h"
#include "workspace/lineage.h"
#include "workspace/unify_evaluation.h"
#include "workspace/unify_runner.h"
#include "workspace/workspace.h"

namespace fs = std::filesystem;
using namespace cdp;

namespace {

#ifndef CDP_SOURCE_DIR
#define CDP_SOURCE_DIR "."
#endif

struct Options {
  std::string which = "all";
  std::string mode = "both";
  bool verbose = false;
  int samples = 12;
  std::string febrl_dir = std::string(CDP_SOURCE_DIR) + "/../shared/data/febrl";
  std::string tmp = "/tmp/cdp_bench_unify_accuracy";
  int threads = 0;
  double noise = kDefaultDemoNoise;
  bool noise_given = false;
  uint64_t seed = 1;
  bool keep = false;
};

// (source entity, key) -> true entity id.
using Truth = std::unordered_map<std::string, int64_t>;
std::string RecordName(std::string_view source, std::string_view key) {
  std::string s(source);
  s.push_back(':');
  s.append(key);
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits a simple CSV line (no quotes) on ',' and trims blanks.
std::vector<std::string> SplitSimple(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  for (auto& s : out) {
    size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }
  return out;
}

// Febrl: rec-NNN-org / rec-NNN-dup-K -> NNN.
bool AddFebrlTruth(const std::string& path, const std::string& source, Truth* truth) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s (use --febrl-dir)\n", path.c_str());
    return false;
  }
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    std::string id = SplitSimple(line)[0];
    if (id.rfind("rec-", 0) != 0) continue;
    (*truth)[RecordName(source, id)] = std::strtoll(id.c_str() + 4, nullptr, 10);
  }
  return true;
}

// Demo truth.csv: the three profile sources only.
bool AddDemoTruth(const std::string& path, Truth* truth) {
  static const std::map<std::string, std::string> kSources = {
      {"ecommerce_contacts", "eCommerce Contacts"}, {"loyalty_scheme", "Loyalty Scheme"}, {"crm_survey", "CRM Survey"}};
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    auto f = SplitSimple(line);
    if (f.size() < 3) continue;
    auto it = kSources.find(f[0]);
    if (it == kSources.end()) continue;
    (*truth)[RecordName(it->second, f[1])] = std::strtoll(f[2].c_str(), nullptr, 10);
  }
  return true;
}

// Household generator truth.csv: source,key,entity over all four sources.
bool AddGenTruth(const std::string& path, Truth* truth) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    auto f = SplitSimple(line);
    if (f.size() < 3) continue;
    (*truth)[RecordName(f[0], f[1])] = std::strtoll(f[2].c_str(), nullptr, 10);
  }
  return true;
}

// Resets the process's peak RSS to its current RSS (Linux >= 4.0); false if not possible.
bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out.flush());
}
// VmHWM of /proc/self/status in MB, or -1.
int64_t PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10) / 1024;
  }
  return -1;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Row {
  std::string label;
  double precision = 0, recall = 0, f1 = 0;
  int64_t pred_clusters = 0, true_clusters = 0, records = 0, candidates = 0;
  int64_t tp = 0, fp = 0, fn = 0;
  int64_t largest = 0;  // records in the largest predicted profile
  double ingest_seconds = 0, seconds = 0;
  int64_t peak_rss_mb = -1;
  std::string error;
};

StatusOr<Table> ReadEntity(Workspace& ws, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, ws.data().Current());
  CDP_ASSIGN_OR_RETURN(auto reader, ws.data().OpenEntity(snap, name));
  return reader->ReadAll();
}

// The source records' values, for the verbose samples.
class RecordPrinter {
 public:
  RecordPrinter(Workspace& ws, const UnifyConfig& config) {
    auto tables = LoadProfileSources(ws, config);
    if (!tables.ok()) return;
    for (size_t s = 0; s < config.sources.size(); ++s) {
      const Table& t = *(*tables)[s];
      const SourceConfig* sc = nullptr;
      std::string key = config.sources[s].key;
      auto project = ws.catalog().LoadProject();
      if (project.ok()) sc = project->FindSource(config.sources[s].source);
      if (key.empty() && sc) key = sc->primary_key;
      int k = t.schema().FieldIndex(key);
      if (k < 0) continue;
      for (size_t r = 0; r < t.num_rows(); ++r) {
        std::string text;
        for (size_t c = 0; c < t.schema().num_fields(); ++c) {
          if (static_cast<int>(c) == k || t.column(c).IsNull(r)) continue;
          std::string v = t.column(c).ValueToString(r);
          if (v.empty()) continue;
          if (!text.empty()) text += " | ";
          text += t.schema().field(c).name + "=" + v;
        }
        rows_[RecordName(config.sources[s].source, t.column(static_cast<size_t>(k)).StringAt(r))] = text;
      }
    }
  }
  std::string Of(const std::string& record) const {
    auto it = rows_.find(record);
    return it == rows_.end() ? "?" : it->second;
  }

 private:
  std::unordered_map<std::string, std::string> rows_;
};

void PrintExplanation(Workspace& ws, const std::string& sa, const std::string& ka, const std::string& sb,
                      const std::string& kb) {
  auto e = ExplainPairInWorkspace(ws, sa, ka, sb, kb);
  if (!e.ok()) {
    std::printf("      (explain: %s)\n", e.status().ToString().c_str());
    return;
  }
  for (const auto& r : e->rules) {
    if (!r.applies) continue;
    std::string conds;
    for (const auto& c : r.conditions) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f", c.similarity);
      conds += " " + c.field + "[" + c.value_a + "~" + c.value_b + " " + buf + (c.passed ? "+" : "-") + "]";
    }
    std::printf("      %-28s %s%s\n", r.rule.c_str(), r.matched ? "MATCH" : "no   ", conds.c_str());
  }
  if (!e->contributions.empty()) {
    std::string parts;
    for (const auto& c : e->contributions) {
      char buf[160];
      std::snprintf(buf, sizeof buf, " %s:%s(%+.1f)", c.comparison.c_str(), c.level.c_str(), c.weight);
      parts += buf;
    }
    std::printf("      model p=%.4f w=%+.2f%s\n", e->match_probability, e->match_weight, parts.c_str());
  }
}

// Runs one project on one workspace and scores it against `truth`.
Row RunCase(const std::string& label, const std::string& yaml_path, const std::string& base_dir, const Truth& truth,
            const Options& opt) {
  Row row;
  row.label = label;
  std::string ws_dir = opt.tmp + "/ws";
  fs::remove_all(ws_dir);
  auto fail = [&](const std::string& what, const Status& st) {
    row.error = what + ": " + st.ToString();
    return row;
  };
  auto ws_or = Workspace::Init(ws_dir);
  if (!ws_or.ok()) return fail("init", ws_or.status());
  Workspace& ws = **ws_or;
  auto project = ParseProjectYaml(ReadFile(yaml_path), yaml_path, base_dir);
  if (!project.ok()) return fail("project", project.status());
  if (Status st = ws.catalog().ReplaceProject(*project); !st.ok()) return fail("apply", st);
  std::vector<std::string> names;
  for (const auto& s : project->unification.sources) names.push_back(s.source);
  IngestOptions io;
  io.threads = opt.threads;
  ResetPeakRss();
  auto ti = std::chrono::steady_clock::now();
  auto ingest = IngestSources(ws, names, io);
  row.ingest_seconds = Seconds(ti);
  if (!ingest.ok()) return fail("ingest", ingest.status());
  for (const auto& s : ingest->sources) {
    if (s.record.status == "failed") {
      row.error = "ingest " + s.record.source + ": " + s.record.message;
      return row;
    }
  }
  UnifyRunOptions uo;
  uo.threads = opt.threads;
  auto t0 = std::chrono::steady_clock::now();
  auto run = RunUnify(ws, uo);
  row.seconds = Seconds(t0);
  row.peak_rss_mb = PeakRssMb();
  if (!run.ok()) return fail("unify", run.status());
  row.candidates = run->stats.matching.candidate_pairs;
  for (const auto& w : run->stats.warnings) std::printf("    warning: %s\n", w.c_str());
  if (run->stats.matching.deterministic_prior_pairs > 0) {
    std::printf("    probabilistic: %" PRId64 " candidate pairs accepted by the prior rules\n",
                run->stats.matching.deterministic_prior_pairs);
  }

  auto keys = ReadEntity(ws, "CustomerSourceKeys");
  if (!keys.ok()) return fail("read CustomerSourceKeys", keys.status());
  int ci = keys->schema().FieldIndex("CustomerId"), si = keys->schema().FieldIndex("Source"),
      ki = keys->schema().FieldIndex("SourceKey");
  // Scored by workspace/unify_evaluation's ScoreClustering (the implementation
  // `cdp unify evaluate` uses).
  std::unordered_map<std::string, int64_t> predicted;  // record -> CustomerId
  std::unordered_map<int64_t, int64_t> pred_size;
  std::vector<LabelledRecord> labelled;
  labelled.reserve(truth.size());
  int64_t missing = 0;
  for (size_t r = 0; r < keys->num_rows(); ++r) {
    std::string rec = RecordName(keys->column(static_cast<size_t>(si)).StringAt(r),
                                 keys->column(static_cast<size_t>(ki)).StringAt(r));
    auto t = truth.find(rec);
    if (t == truth.end()) continue;  // not an evaluated source
    int64_t c = keys->column(static_cast<size_t>(ci)).Int64At(r);
    predicted[rec] = c;
    ++pred_size[c];
    labelled.push_back({c, t->second});
  }
  int64_t singleton = std::numeric_limits<int64_t>::min();  // ids no CustomerId takes
  for (const auto& [rec, id] : truth) {
    if (!predicted.count(rec)) {  // dropped (quarantined or include_all: false): a singleton
      ++missing;
      labelled.push_back({singleton++, id});
    }
  }
  if (missing) std::printf("    %" PRId64 " truth records have no profile (counted as singletons)\n", missing);
  for (const auto& [c, n] : pred_size) row.largest = std::max(row.largest, n);
  if (missing > 0) row.largest = std::max<int64_t>(row.largest, 1);
  const ClusteringScore score = ScoreClustering(labelled);
  row.tp = score.tp;
  row.fp = score.fp;
  row.fn = score.fn;
  row.precision = score.precision;
  row.recall = score.recall;
  row.f1 = score.f1;
  row.pred_clusters = score.predicted_clusters;
  row.true_clusters = score.true_clusters;
  row.records = score.records;

  if (opt.verbose) {
    if (project->unification.mode == UnifyMode::kProbabilistic) {
      auto model = LoadUnifyModel(ws);
      if (model.ok()) {
        std::printf("%s", ExplainFsModel(*model).c_str());
      } else {
        std::printf("    (model: %s)\n", model.status().ToString().c_str());
      }
    }
    RecordPrinter printer(ws, project->unification);
    // False positives: accepted pairs joining two people.
    auto mp = ReadEntity(ws, "ConflationMatchPairs");
    if (mp.ok()) {
      const auto& sc = mp->schema();
      int sa = sc.FieldIndex("SourceA"), ka = sc.FieldIndex("KeyA"), sb = sc.FieldIndex("SourceB"),
          kb = sc.FieldIndex("KeyB"), ru = sc.FieldIndex("Rule"), so = sc.FieldIndex("Score"),
          st = sc.FieldIndex("Status");
      std::map<std::string, int64_t> fp_by_rule;
      std::vector<size_t> fps;
      for (size_t r = 0; r < mp->num_rows(); ++r) {
        std::string status(mp->column(static_cast<size_t>(st)).StringAt(r));
        if (status != "merged" && status != "redundant") continue;
        std::string a = RecordName(mp->column(static_cast<size_t>(sa)).StringAt(r), mp->column(static_cast<size_t>(ka)).StringAt(r));
        std::string b = RecordName(mp->column(static_cast<size_t>(sb)).StringAt(r), mp->column(static_cast<size_t>(kb)).StringAt(r));
        auto ta = truth.find(a), tb = truth.find(b);
        if (ta == truth.end() || tb == truth.end() || ta->second == tb->second) continue;
        ++fp_by_rule[std::string(mp->column(static_cast<size_t>(ru)).StringAt(r))];
        fps.push_back(r);
      }
      std::printf("    false-positive accepted pairs: %zu", fps.size());
      for (const auto& [rule, n] : fp_by_rule) std::printf("  %s=%" PRId64, rule.c_str(), n);
      std::printf("\n");
      // Lowest scores first: the ones a threshold could remove.
      std::sort(fps.begin(), fps.end(), [&](size_t x, size_t y) {
        return mp->column(static_cast<size_t>(so)).DoubleAt(x) > mp->column(static_cast<size_t>(so)).DoubleAt(y);
      });
      for (size_t i = 0; i < fps.size() && i < static_cast<size_t>(opt.samples); ++i) {
        size_t r = fps[i];
        std::string sA(mp->column(static_cast<size_t>(sa)).StringAt(r)), kA(mp->column(static_cast<size_t>(ka)).StringAt(r)),
            sB(mp->column(static_cast<size_t>(sb)).StringAt(r)), kB(mp->column(static_cast<size_t>(kb)).StringAt(r));
        std::printf("  FP %s score=%.3f\n    A %s:%s  %s\n    B %s:%s  %s\n",
                    std::string(mp->column(static_cast<size_t>(ru)).StringAt(r)).c_str(),
                    mp->column(static_cast<size_t>(so)).DoubleAt(r), sA.c_str(), kA.c_str(),
                    printer.Of(RecordName(sA, kA)).c_str(), sB.c_str(), kB.c_str(),
                    printer.Of(RecordName(sB, kB)).c_str());
        PrintExplanation(ws, sA, kA, sB, kB);
      }
    }
    // False negatives: for people split over profiles, one record of each part vs the largest part.
    std::map<int64_t, std::map<int64_t, std::vector<std::string>>> parts;  // truth -> customer -> records
    for (const auto& [rec, id] : truth) {
      auto p = predicted.find(rec);
      parts[id][p == predicted.end() ? -1 - static_cast<int64_t>(parts[id].size()) : p->second].push_back(rec);
    }
    std::vector<std::pair<std::string, std::string>> fns;
    for (auto& [id, by] : parts) {
      if (by.size() < 2) continue;
      auto first = by.begin();
      for (auto it = std::next(by.begin()); it != by.end(); ++it) fns.emplace_back(first->second[0], it->second[0]);
    }
    std::printf("    split people: pairs of profiles that should be one: %zu\n", fns.size());
    // Spread the sample over the list (truth ids are in order of the data).
    size_t step = std::max<size_t>(1, fns.size() / static_cast<size_t>(std::max(1, opt.samples)));
    int shown = 0;
    for (size_t i = 0; i < fns.size() && shown < opt.samples; i += step, ++shown) {
      const auto& [a, b] = fns[i];
      size_t ca = a.find(':'), cb = b.find(':');
      std::printf("  FN\n    A %s  %s\n    B %s  %s\n", a.c_str(), printer.Of(a).c_str(), b.c_str(), printer.Of(b).c_str());
      PrintExplanation(ws, a.substr(0, ca), a.substr(ca + 1), b.substr(0, cb), b.substr(cb + 1));
    }
  }
  return row;
}

void PrintHeader() {
  std::printf("%-24s %8s %7s %7s %7s %9s %9s %7s %9s %8s %8s %11s %8s %8s %8s\n", "case/mode", "records", "P", "R",
              "F1", "clusters", "true", "largest", "TP", "FP", "FN", "candidates", "ingest_s", "seconds", "rss_MB");
}
void PrintRow(const Row& r) {
  if (!r.error.empty()) {
    std::printf("%-24s ERROR %s\n", r.label.c_str(), r.error.c_str());
    return;
  }
  std::printf("%-24s %8" PRId64 " %7.4f %7.4f %7.4f %9" PRId64 " %9" PRId64 " %7" PRId64 " %9" PRId64 " %8" PRId64
              " %8" PRId64 " %11" PRId64 " %8.2f %8.2f %8" PRId64 "\n",
              r.label.c_str(), r.records, r.precision, r.recall, r.f1, r.pred_clusters, r.true_clusters, r.largest,
              r.tp, r.fp, r.fn, r.candidates, r.ingest_seconds, r.seconds, r.peak_rss_mb);
  std::fflush(stdout);
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_unify_accuracy [--case demo5k|demo100k|febrl3|febrl4|gen20k|gen200k|all]\n"
               "       [--mode rules|probabilistic|both|MODE] [--verbose] [--samples N] [--febrl-dir DIR] [--tmp DIR]\n"
               "       [--threads N] [--noise X] [--seed N] [--keep]\n"
               "  all: every case but gen200k; MODE (gen and febrl cases): bench/unify_accuracy/gen_MODE.yaml,\n"
               "  febrlN_MODE.yaml\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    auto arg = [&](const char* name) { return !std::strcmp(argv[i], name) && i + 1 < argc; };
    if (arg("--case")) opt.which = argv[++i];
    else if (arg("--mode")) opt.mode = argv[++i];
    else if (!std::strcmp(argv[i], "--verbose")) opt.verbose = true;
    else if (arg("--samples")) opt.samples = std::atoi(argv[++i]);
    else if (arg("--febrl-dir")) opt.febrl_dir = argv[++i];
    else if (arg("--tmp")) opt.tmp = argv[++i];
    else if (arg("--threads")) opt.threads = std::atoi(argv[++i]);
    else if (arg("--noise")) {
      opt.noise = std::atof(argv[++i]);
      opt.noise_given = true;
    } else if (arg("--seed")) opt.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--keep")) opt.keep = true;
    else return Usage();
  }
  std::vector<std::string> cases;
  if (opt.which == "all") cases = {"demo5k", "demo100k", "febrl3", "febrl4", "gen20k"};
  else if (opt.which == "demo5k" || opt.which == "demo100k" || opt.which == "febrl3" || opt.which == "febrl4" ||
           opt.which == "gen20k" || opt.which == "gen200k")
    cases = {opt.which};
  else return Usage();
  std::vector<std::string> modes;
  if (opt.mode == "both") modes = {"rules", "probabilistic"};
  else if (opt.mode == "rules" || opt.mode == "probabilistic" || opt.which.rfind("gen", 0) == 0 ||
           opt.which.rfind("febrl", 0) == 0)
    modes = {opt.mode};
  else return Usage();

  const std::string src = CDP_SOURCE_DIR;
  const std::string here = src + "/bench/unify_accuracy";
  fs::create_directories(opt.tmp);
  std::vector<Row> rows;
  bool header = false;
  for (const auto& c : cases) {
    Truth truth;
    std::string base_dir;
    std::map<std::string, std::string> yaml;  // mode -> project file
    if (c == "demo5k" || c == "demo100k") {
      base_dir = opt.tmp + "/" + c;
      DemoOptions d;
      d.customers = c == "demo5k" ? 5000 : 100000;
      d.out_dir = base_dir + "/sources";
      d.noise = opt.noise;
      d.activity_truth = false;
      DemoSummary summary;
      auto t0 = std::chrono::steady_clock::now();
      if (Status st = GenerateContosoDemo(d, &summary); !st.ok()) {
        std::fprintf(stderr, "demo: %s\n", st.ToString().c_str());
        return 1;
      }
      std::printf("[%s] generated %" PRId64 " people (noise %.2f) in %.1f s\n", c.c_str(), summary.people, d.noise,
                  Seconds(t0));
      if (!AddDemoTruth(d.out_dir + "/truth.csv", &truth)) return 1;
      yaml["rules"] = src + "/examples/contoso/project.yaml";
      yaml["probabilistic"] = here + "/contoso_probabilistic.yaml";
    } else if (c == "gen20k" || c == "gen200k") {
      base_dir = opt.tmp + "/" + c;
      HouseholdOptions g;
      g.people = c == "gen20k" ? 20000 : 200000;
      g.seed = opt.seed;
      g.out_dir = base_dir;
      if (opt.noise_given) g.noise = opt.noise;
      HouseholdSummary summary;
      auto t0 = std::chrono::steady_clock::now();
      if (Status st = GenerateHouseholdSources(g, &summary); !st.ok()) {
        std::fprintf(stderr, "generator: %s\n", st.ToString().c_str());
        return 1;
      }
      std::printf("[%s] generated %" PRId64 " people in %" PRId64 " households, %" PRId64
                  " records (noise %.2f, seed %" PRIu64 ") in %.1f s\n",
                  c.c_str(), summary.people, summary.households, summary.records, g.noise, g.seed, Seconds(t0));
      if (!AddGenTruth(base_dir + "/truth.csv", &truth)) return 1;
      for (const auto& m : modes) yaml[m] = here + "/gen_" + m + ".yaml";
    } else {
      base_dir = opt.febrl_dir;
      if (c == "febrl3") {
        if (!AddFebrlTruth(base_dir + "/dataset3.csv", "Febrl3", &truth)) return 1;
      } else {
        if (!AddFebrlTruth(base_dir + "/dataset4a.csv", "Febrl4A", &truth) ||
            !AddFebrlTruth(base_dir + "/dataset4b.csv", "Febrl4B", &truth))
          return 1;
      }
      for (const auto& m : modes) yaml[m] = here + "/" + c + "_" + m + ".yaml";
    }
    for (const auto& m : modes) {
      std::printf("[%s/%s] %s\n", c.c_str(), m.c_str(), yaml[m].c_str());
      std::fflush(stdout);
      Row r = RunCase(c + "/" + m, yaml[m], base_dir, truth, opt);
      if (!header) {
        PrintHeader();
        header = true;
      }
      PrintRow(r);
      rows.push_back(r);
    }
    if (!opt.keep && base_dir.rfind(opt.tmp, 0) == 0) fs::remove_all(base_dir);
  }
  std::printf("\nsummary (pairwise, after transitive closure)\n");
  PrintHeader();
  for (const auto& r : rows) PrintRow(r);
  if (!opt.keep) fs::remove_all(opt.tmp);
  return 0;
}
