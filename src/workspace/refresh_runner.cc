#include "workspace/refresh_runner.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "workspace/activity_runner.h"
#include "workspace/ingest_runner.h"
#include "workspace/measure_runner.h"
#include "workspace/segment_runner.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

// How far back in the run history the last refresh's stage state is looked
// for; beyond it every stage runs.
constexpr int kRunHistoryScanned = 1000;

constexpr RefreshStage kAllStages[] = {RefreshStage::kIngest,   RefreshStage::kUnify,    RefreshStage::kActivities,
                                       RefreshStage::kMeasures, RefreshStage::kSegments, RefreshStage::kIndex};

std::optional<RefreshStage> ParseStageName(std::string_view name) {
  for (RefreshStage s : kAllStages) {
    if (RefreshStageName(s) == name) return s;
  }
  return std::nullopt;
}

int32_t TodayUtc() { return static_cast<int32_t>(std::time(nullptr) / 86400); }

// ---------------------------------------------------------------------------
// One refresh at a time per workspace directory in this process.

struct RunningRefreshes {
  std::mutex mu;
  std::map<std::string, int64_t> run_by_dir;  // guarded by mu; 0 while the run row is being opened
};

RunningRefreshes& Running() {
  static RunningRefreshes* running = new RunningRefreshes();
  return *running;
}

std::string CanonicalDir(const std::string& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  return ec ? dir : p.string();
}

// Registers a refresh of a directory for its lifetime.
class RefreshGuard {
 public:
  static StatusOr<std::unique_ptr<RefreshGuard>> Acquire(const std::string& dir) {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    auto it = r.run_by_dir.find(dir);
    if (it != r.run_by_dir.end()) {
      return FailedPreconditionError("a refresh is already running (run " + std::to_string(it->second) + ")");
    }
    r.run_by_dir[dir] = 0;
    return std::unique_ptr<RefreshGuard>(new RefreshGuard(dir));
  }
  ~RefreshGuard() {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    r.run_by_dir.erase(dir_);
  }
  RefreshGuard(const RefreshGuard&) = delete;
  RefreshGuard& operator=(const RefreshGuard&) = delete;

  void SetRunId(int64_t run_id) {
    RunningRefreshes& r = Running();
    std::lock_guard<std::mutex> l(r.mu);
    r.run_by_dir[dir_] = run_id;
  }

 private:
  explicit RefreshGuard(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// ---------------------------------------------------------------------------
// Input fingerprints.

// Accumulates named parts of a stage's inputs into one hash. Parts are
// length-prefixed so that no two different inputs concatenate alike.
class InputHash {
 public:
  void Add(std::string_view key, std::string_view value) {
    text_ += std::to_string(key.size()) + ":" + std::string(key) + "=" + std::to_string(value.size()) + ":" +
             std::string(value) + "\n";
  }
  // An entity's identity in the data store: its file (unique per write), or
  // "-" when the snapshot has no such entity.
  void AddEntity(const Snapshot& snap, const std::string& name) {
    auto it = snap.entities.find(name);
    Add("entity " + name, it == snap.entities.end() ? "-" : it->second.file);
  }
  std::string Digest() const {
    XXH128_hash_t h = XXH3_128bits(text_.data(), text_.size());
    char out[40];
    std::snprintf(out, sizeof(out), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return out;
  }

 private:
  std::string text_;
};

bool StartsWith(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool IsStageOutput(const std::string& name) {
  return name == kCustomerEntity || name == kSourceKeysEntity || name == kMatchPairsEntity ||
         name == kUnifiedActivityEntity || name == kCustomerMeasureEntity || StartsWith(name, "Dedup_") ||
         StartsWith(name, "Measure_") || StartsWith(name, "BusinessMeasure_") || StartsWith(name, "Segment_");
}

// Source entities related to customers: profile sources, both ends of every
// relationship, activity and measure entities (stage outputs such as
// UnifiedActivity, which a measure may read, are added by the stages that
// read them). Sorted, unique.
std::set<std::string> LinkedEntityNames(const ProjectConfig& project) {
  std::set<std::string> out;
  for (const auto& s : project.unification.sources) out.insert(s.source);
  for (const auto& r : project.relationships) {
    out.insert(r.from_entity);
    out.insert(r.to_entity);
  }
  for (const auto& a : project.activities) out.insert(a.entity);
  for (const auto& m : project.measures) {
    if (!m.entity.empty()) out.insert(m.entity);
  }
  for (auto it = out.begin(); it != out.end();) it = IsStageOutput(*it) ? out.erase(it) : std::next(it);
  return out;
}

// The linking configuration shared by activities, measures and segments:
// unification (profile sources and keys), relationships, activities, and the
// key field of each linked entity.
void AddLinking(const ProjectConfig& project, const Snapshot& snap, InputHash* h) {
  h->Add("unification", UnifyConfigToJson(project.unification));
  h->Add("relationships", RelationshipsToJson(project.relationships));
  h->Add("activities", ActivitiesToJson(project.activities));
  for (const auto& e : LinkedEntityNames(project)) {
    h->AddEntity(snap, e);
    h->Add("key " + e, project.KeyOf(e));
  }
  h->AddEntity(snap, std::string(kCustomerEntity));
  h->AddEntity(snap, std::string(kSourceKeysEntity));
}

bool MeasuresDependOnDate(const ProjectConfig& project) {
  for (const auto& m : project.measures) {
    WindowKind k = m.window.kind;
    if (k == WindowKind::kLast || k == WindowKind::kThisPeriod || k == WindowKind::kLastPeriod) return true;
    std::string f = m.formula;
    std::transform(f.begin(), f.end(), f.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (f.find("days_since") != std::string::npos) return true;
  }
  return false;
}

std::string UnifyFingerprint(const ProjectConfig& project, const Snapshot& snap,
                             const std::vector<MatchOverrideRecord>& overrides) {
  InputHash h;
  h.Add("unification", UnifyConfigToJson(project.unification));
  for (const auto& s : project.unification.sources) {
    h.AddEntity(snap, s.source);
    h.Add("key " + s.source, project.KeyOf(s.source));
  }
  for (const auto& o : overrides) {
    h.Add("override", o.source_a + "\x1f" + o.key_a + "\x1f" + o.source_b + "\x1f" + o.key_b + "\x1f" +
                          (o.always ? "always" : "never"));
  }
  return h.Digest();
}

std::string ActivitiesFingerprint(const ProjectConfig& project, const Snapshot& snap) {
  InputHash h;
  AddLinking(project, snap, &h);
  return h.Digest();
}

std::string MeasuresFingerprint(const ProjectConfig& project, const Snapshot& snap, int32_t run_date) {
  InputHash h;
  AddLinking(project, snap, &h);
  h.AddEntity(snap, std::string(kUnifiedActivityEntity));
  h.Add("measures", MeasuresToJson(project.measures));
  if (MeasuresDependOnDate(project)) h.Add("run_date", std::to_string(run_date));
  return h.Digest();
}

// Segments may read any entity linked to customers, and measures: every
// entity but their own outputs and internal ones.
std::string SegmentsFingerprint(const ProjectConfig& project, const Snapshot& snap,
                                const std::vector<SegmentRecord>& segments, int32_t run_date) {
  InputHash h;
  h.Add("unification", UnifyConfigToJson(project.unification));
  h.Add("relationships", RelationshipsToJson(project.relationships));
  h.Add("activities", ActivitiesToJson(project.activities));
  for (const auto& [name, info] : snap.entities) {
    if (Workspace::IsInternalEntity(name) || StartsWith(name, "Segment_")) continue;
    h.Add("entity " + name, info.file);
    h.Add("key " + name, project.KeyOf(name));
  }
  for (const auto& s : segments) h.Add("segment " + s.name, s.definition_json);
  h.Add("run_date", std::to_string(run_date));  // relative dates and windows
  return h.Digest();
}

std::string IndexFingerprint(const ProjectConfig& project, const Snapshot& snap) {
  InputHash h;
  h.AddEntity(snap, std::string(kCustomerEntity));
  h.AddEntity(snap, std::string(kSourceKeysEntity));
  for (const auto& [name, info] : snap.entities) {
    if (StartsWith(name, "Segment_")) h.Add("entity " + name, info.file);
  }
  for (const auto& f : project.search.fields) {
    char weight[32];
    std::snprintf(weight, sizeof(weight), "%.17g", f.weight);
    h.Add("search field", f.field + "\x1f" + f.normalize + "\x1f" + weight);
  }
  for (const auto& f : project.search.filters) h.Add("search filter", f);
  return h.Digest();
}

// ---------------------------------------------------------------------------
// Stage state: per stage, the input fingerprint of its last good run and the
// outputs that run left, carried from each refresh run to the next in its
// stats_json ("state").

struct StageState {
  std::string fingerprint;
  std::map<std::string, std::string> outputs;  // entity -> file
  int64_t run_id = 0;
};
using RefreshState = std::map<std::string, StageState>;  // by state key

// Which entities a stage writes (for the "outputs unchanged" check).
using OutputFilter = std::function<bool(const std::string&)>;

std::map<std::string, std::string> OutputsOf(const Snapshot& snap, const OutputFilter& is_output) {
  std::map<std::string, std::string> out;
  for (const auto& [name, info] : snap.entities) {
    if (is_output(name)) out[name] = info.file;
  }
  return out;
}

Json StateToJson(const RefreshState& state) {
  Json j = Json::object();
  for (const auto& [key, s] : state) {
    Json outputs = Json::object();
    for (const auto& [name, file] : s.outputs) outputs[name] = file;
    j[key] = {{"fingerprint", s.fingerprint}, {"outputs", outputs}, {"run_id", s.run_id}};
  }
  return j;
}

// The state left by the newest finished refresh run; empty if none is found
// (then every stage runs).
StatusOr<RefreshState> LoadState(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(std::vector<RunRecord> runs, workspace.catalog().ListRuns(kRunHistoryScanned));
  for (const auto& r : runs) {
    if (r.kind != "refresh" || r.status == "running") continue;
    auto j = nlohmann::json::parse(r.stats_json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("state") || !j["state"].is_object()) continue;
    RefreshState state;
    for (const auto& [key, v] : j["state"].items()) {
      if (!v.is_object()) continue;
      StageState s;
      s.fingerprint = v.value("fingerprint", "");
      s.run_id = v.value("run_id", int64_t{0});
      if (v.contains("outputs") && v["outputs"].is_object()) {
        for (const auto& [name, file] : v["outputs"].items()) {
          if (file.is_string()) s.outputs[name] = file.get<std::string>();
        }
      }
      state[key] = std::move(s);
    }
    return state;
  }
  return RefreshState();
}

Json StageToJson(const StageResult& s) {
  return {{"stage", RefreshStageName(s.stage)}, {"status", s.status},          {"duration_micros", s.duration_micros},
          {"rows_in", s.rows_in},               {"rows_out", s.rows_out},      {"message", s.message},
          {"warnings", s.warnings},             {"fingerprint", s.fingerprint}};
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * v);
  return buf;
}

// ---------------------------------------------------------------------------

class Refresh {
 public:
  Refresh(Workspace& ws, const RefreshOptions& options, ProjectConfig project, RefreshState state, int64_t run_id,
          int32_t run_date)
      : ws_(ws), options_(options), project_(std::move(project)), state_(std::move(state)), run_date_(run_date) {
    result_.run_id = run_id;
  }

  // Runs the stages; fills result_ (status "succeeded", "failed" or "cancelled").
  void Run() {
    if (options_.segments.empty()) {
      if (!Ingest()) return;
      if (!Unify()) return;
      if (!Activities()) return;
      if (!Measures()) return;
    }
    if (!Segments()) return;
    if (!Index()) return;
    result_.status = "succeeded";
  }

  RefreshResult& result() { return result_; }
  const RefreshState& state() const { return state_; }

 private:
  using Clock = std::chrono::steady_clock;

  // Work of one stage: fills `out` (status "succeeded" unless it says
  // otherwise); a non-OK Status fails the stage.
  using StageWork = std::function<Status(StageResult* out)>;

  void Report(RefreshStage stage, double fraction, const std::string& detail) {
    if (options_.progress) options_.progress(stage, std::clamp(fraction, 0.0, 1.0), detail);
  }
  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }

  void Skip(RefreshStage stage, std::string reason) {
    StageResult r;
    r.stage = stage;
    r.status = "skipped";
    r.message = std::move(reason);
    result_.stages.push_back(std::move(r));
  }

  // Runs one stage: the hook, the cancel check, the change check (when
  // `fingerprint` is given), then `work`. Returns false when the refresh
  // stops here (failed or cancelled).
  bool RunStage(RefreshStage stage, const std::string& state_key, std::function<StatusOr<std::string>()> fingerprint,
                const OutputFilter& is_output, const StageWork& work) {
    auto t0 = Clock::now();
    StageResult r;
    r.stage = stage;
    auto finish = [&](bool go_on) {
      r.duration_micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      result_.stages.push_back(r);
      return go_on;
    };
    auto fail = [&](const Status& s) {
      r.status = "failed";
      r.message = s.ToString();
      result_.status = "failed";
      result_.error = std::string(RefreshStageName(stage)) + ": " + r.message;
      return finish(false);
    };
    if (options_.before_stage) {
      Status s = options_.before_stage(stage);
      if (!s.ok()) return fail(s);
    }
    if (Cancelled()) {
      r.status = "cancelled";
      r.message = "cancelled before the stage started";
      result_.status = "cancelled";
      result_.error = "cancelled before stage " + std::string(RefreshStageName(stage));
      return finish(false);
    }
    if (fingerprint) {
      auto fp = fingerprint();
      if (!fp.ok()) return fail(fp.status());
      r.fingerprint = *fp;
      auto snap = ws_.data().Current();
      if (!snap.ok()) return fail(snap.status());
      auto last = state_.find(state_key);
      if (!options_.force && last != state_.end() && last->second.fingerprint == r.fingerprint &&
          (!is_output || last->second.outputs == OutputsOf(*snap, is_output))) {
        r.status = "skipped";
        r.message = "inputs unchanged since run " + std::to_string(last->second.run_id);
        return finish(true);
      }
    }
    Report(stage, 0, "");
    r.status = "succeeded";
    Status s = work(&r);
    if (!s.ok()) return fail(s);
    if (r.status == "failed") {
      result_.status = "failed";
      result_.error = std::string(RefreshStageName(stage)) + ": " + r.message;
      return finish(false);
    }
    if (r.status == "cancelled") {
      result_.status = "cancelled";
      result_.error = "cancelled during stage " + std::string(RefreshStageName(stage));
      return finish(false);
    }
    Report(stage, 1, "");
    if (r.status == "succeeded" && fingerprint) {
      auto snap = ws_.data().Current();
      if (!snap.ok()) return fail(snap.status());
      StageState st;
      st.fingerprint = r.fingerprint;
      if (is_output) st.outputs = OutputsOf(*snap, is_output);
      st.run_id = result_.run_id;
      state_[state_key] = std::move(st);
    }
    return finish(true);
  }

  bool Ingest() {
    if (project_.sources.empty()) {
      Skip(RefreshStage::kIngest, "no sources configured");
      return true;
    }
    std::vector<const SourceConfig*> todo;
    if (options_.sources.empty()) {
      for (const auto& s : project_.sources) todo.push_back(&s);
    } else {
      for (const auto& n : options_.sources) todo.push_back(project_.FindSource(n));  // checked by RunRefresh
    }
    // Change detection is per source, by the ingest runner.
    return RunStage(RefreshStage::kIngest, "", nullptr, nullptr, [&](StageResult* r) -> Status {
      IngestOptions io;
      io.force = options_.force;
      io.threads = static_cast<int>(options_.threads);
      size_t done = 0;
      io.on_progress = [&](const IngestProgress& p) {
        double f = p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 0;
        Report(RefreshStage::kIngest, (static_cast<double>(done) + f) / static_cast<double>(todo.size()), p.source);
      };
      InputHash fingerprints;
      int succeeded = 0, skipped = 0;
      std::string errors;
      for (const SourceConfig* s : todo) {
        if (Cancelled()) {
          r->status = "cancelled";
          r->message = "cancelled after " + std::to_string(done) + " of " + std::to_string(todo.size()) + " sources";
          return Status::Ok();
        }
        Report(RefreshStage::kIngest, static_cast<double>(done) / static_cast<double>(todo.size()), s->name);
        CDP_ASSIGN_OR_RETURN(SourceIngestResult one, IngestSource(ws_, project_, *s, result_.run_id, io));
        const SourceIngestRecord& rec = one.record;
        fingerprints.Add(s->name, rec.fingerprint);
        if (rec.status == "failed") {
          errors += (errors.empty() ? "" : "; ") + ("source '" + s->name + "': " + rec.message);
        } else if (rec.status == "skipped") {
          ++skipped;
        } else {
          ++succeeded;
          r->rows_in += rec.rows_read;
          r->rows_out += rec.rows_stored;
          if (rec.rows_quarantined > 0) {
            r->warnings.push_back("source '" + s->name + "': " + std::to_string(rec.rows_quarantined) +
                                  " row(s) quarantined (`cdp quarantine " + s->name + "`)");
          }
        }
        ++done;
      }
      r->fingerprint = fingerprints.Digest();
      if (!errors.empty()) {
        // The failed sources keep their previous data; the others' new data stays.
        r->status = "failed";
        r->message = errors;
        return Status::Ok();
      }
      if (succeeded == 0) r->status = "skipped";
      r->message = std::to_string(succeeded) + " ingested, " + std::to_string(skipped) + " unchanged";
      return Status::Ok();
    });
  }

  bool Unify() {
    if (project_.unification.empty()) {
      Skip(RefreshStage::kUnify, "no unification configured");
      return true;
    }
    auto fingerprint = [&]() -> StatusOr<std::string> {
      CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_.data().Current());
      CDP_ASSIGN_OR_RETURN(auto overrides, ws_.catalog().ListMatchOverrides());
      return UnifyFingerprint(project_, snap, overrides);
    };
    auto is_output = [](const std::string& n) {
      return n == kCustomerEntity || n == kSourceKeysEntity || n == kMatchPairsEntity || StartsWith(n, "Dedup_");
    };
    return RunStage(RefreshStage::kUnify, "unify", fingerprint, is_output, [&](StageResult* r) -> Status {
      UnifyRunOptions uo;
      uo.threads = static_cast<int>(options_.threads);
      uo.run_id = result_.run_id;
      uo.on_progress = [&](std::string_view step, int64_t done, int64_t total) {
        Report(RefreshStage::kUnify, total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0,
               std::string(step));
      };
      CDP_ASSIGN_OR_RETURN(UnifyRunResult u, RunUnify(ws_, uo));
      r->rows_in = u.stats.records_in;
      r->rows_out = u.stats.profiles_out;
      r->message = "profiles out " + std::to_string(u.stats.profiles_out) + ", merge rate " + Percent(u.stats.merge_rate);
      r->warnings = u.stats.warnings;
      return Status::Ok();
    });
  }

  bool Activities() {
    if (project_.unification.empty()) {
      Skip(RefreshStage::kActivities, "needs unification");
      return true;
    }
    if (project_.activities.empty()) {
      Skip(RefreshStage::kActivities, "no activities configured");
      return true;
    }
    auto fingerprint = [&]() -> StatusOr<std::string> {
      CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_.data().Current());
      return ActivitiesFingerprint(project_, snap);
    };
    auto is_output = [](const std::string& n) { return n == kUnifiedActivityEntity; };
    return RunStage(RefreshStage::kActivities, "activities", fingerprint, is_output, [&](StageResult* r) -> Status {
      ActivityRunOptions ao;
      ao.run_id = result_.run_id;
      CDP_ASSIGN_OR_RETURN(ActivityRunResult a, RunActivities(ws_, ao));
      for (const auto& s : a.activities) {
        r->rows_in += s.relation.rows;
        for (const auto& e : s.relation.orphan_examples) r->warnings.push_back(s.activity + ": orphan " + e);
      }
      r->rows_out = a.rows;
      r->message = std::to_string(a.rows) + " rows in UnifiedActivity";
      return Status::Ok();
    });
  }

  bool Measures() {
    if (project_.unification.empty()) {
      Skip(RefreshStage::kMeasures, "needs unification");
      return true;
    }
    if (project_.measures.empty()) {
      Skip(RefreshStage::kMeasures, "no measures configured");
      return true;
    }
    auto fingerprint = [&]() -> StatusOr<std::string> {
      CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_.data().Current());
      return MeasuresFingerprint(project_, snap, run_date_);
    };
    auto is_output = [](const std::string& n) {
      return n == kCustomerMeasureEntity || StartsWith(n, "Measure_") || StartsWith(n, "BusinessMeasure_");
    };
    return RunStage(RefreshStage::kMeasures, "measures", fingerprint, is_output, [&](StageResult* r) -> Status {
      MeasureRunOptions mo;
      mo.threads = static_cast<int>(options_.threads);
      mo.run_date = run_date_;
      mo.run_id = result_.run_id;
      CDP_ASSIGN_OR_RETURN(MeasureRunResult m, RunMeasures(ws_, mo));
      r->rows_in = m.rows_scanned;
      r->rows_out = m.customers;
      r->message = "Measures run as of " + FormatDate(m.run_date);
      r->warnings = m.warnings;
      return Status::Ok();
    });
  }

  bool Segments() {
    if (project_.unification.empty()) {
      Skip(RefreshStage::kSegments, "needs unification");
      return true;
    }
    auto all = ws_.catalog().ListSegments();
    if (!all.ok()) {
      return RunStage(RefreshStage::kSegments, "", nullptr, nullptr, [&](StageResult*) { return all.status(); });
    }
    if (all->empty()) {
      Skip(RefreshStage::kSegments, "no segments defined");
      return true;
    }
    std::vector<SegmentRecord> read;  // the definitions the stage evaluates
    std::set<std::string> named(options_.segments.begin(), options_.segments.end());
    for (const auto& s : *all) {
      if (named.empty() || named.count(s.name)) read.push_back(s);
    }
    std::string key = "segments";
    for (const auto& n : named) key += (key == "segments" ? ":" : ",") + n;
    auto fingerprint = [&]() -> StatusOr<std::string> {
      CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_.data().Current());
      return SegmentsFingerprint(project_, snap, read, run_date_);
    };
    auto is_output = [&named](const std::string& n) {
      return StartsWith(n, "Segment_") && (named.empty() || named.count(n.substr(8)));
    };
    return RunStage(RefreshStage::kSegments, key, fingerprint, is_output, [&](StageResult* r) -> Status {
      SegmentRunOptions so;
      so.threads = static_cast<int>(options_.threads);
      so.run_date = run_date_;
      so.run_id = result_.run_id;
      std::vector<std::string> skipped;
      CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_.data().Current());
      auto customer = snap.entities.find(std::string(kCustomerEntity));
      if (customer != snap.entities.end()) r->rows_in = static_cast<int64_t>(customer->second.num_rows);
      CDP_ASSIGN_OR_RETURN(std::vector<SegmentEvaluation> evaluated,
                           RunSegments(ws_, options_.segments, so, &skipped));
      for (const auto& e : evaluated) r->rows_out += e.members;
      for (const auto& s : skipped) r->warnings.push_back("skipped segment " + s);
      r->message = std::to_string(evaluated.size()) + " evaluated";
      if (!skipped.empty()) r->message += ", " + std::to_string(skipped.size()) + " invalid skipped";
      return Status::Ok();
    });
  }

  bool Index() {
    if (!options_.index_stage) return true;  // no index stage
    auto snap = ws_.data().Current();
    if (snap.ok() && !snap->entities.count(std::string(kCustomerEntity))) {
      Skip(RefreshStage::kIndex, "no Customer yet");
      return true;
    }
    auto fingerprint = [&]() -> StatusOr<std::string> {
      CDP_ASSIGN_OR_RETURN(Snapshot s, ws_.data().Current());
      return IndexFingerprint(project_, s);
    };
    return RunStage(RefreshStage::kIndex, "index", fingerprint, nullptr, [&](StageResult* r) -> Status {
      CDP_ASSIGN_OR_RETURN(Snapshot s, ws_.data().Current());
      auto customer = s.entities.find(std::string(kCustomerEntity));
      if (customer != s.entities.end()) r->rows_in = static_cast<int64_t>(customer->second.num_rows);
      CDP_RETURN_IF_ERROR(options_.index_stage(ws_, s));
      r->message = "indexed generation " + std::to_string(s.generation);
      return Status::Ok();
    });
  }

  Workspace& ws_;
  const RefreshOptions& options_;
  const ProjectConfig project_;
  RefreshState state_;
  const int32_t run_date_;
  RefreshResult result_;
};

// NotFound for names that are not sources / segments, before anything runs.
Status CheckNames(Workspace& workspace, const ProjectConfig& project, const RefreshOptions& options) {
  if (!options.sources.empty() && !options.segments.empty()) {
    return InvalidArgumentError("a refresh is either of sources or of segments, not both");
  }
  for (const auto& n : options.sources) {
    if (project.FindSource(n)) continue;
    std::string known;
    for (const auto& k : project.sources) known += (known.empty() ? "" : ", ") + k.name;
    return NotFoundError("no source named '" + n + "' in the applied project (sources: " +
                         (known.empty() ? "none; run `cdp apply` first" : known) + ")");
  }
  if (!options.segments.empty()) {
    CDP_ASSIGN_OR_RETURN(auto segments, workspace.catalog().ListSegments());
    for (const auto& n : options.segments) {
      bool found = false;
      for (const auto& s : segments) found = found || s.name == n;
      if (!found) return NotFoundError("no segment named '" + n + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view RefreshStageName(RefreshStage stage) {
  switch (stage) {
    case RefreshStage::kIngest: return "ingest";
    case RefreshStage::kUnify: return "unify";
    case RefreshStage::kActivities: return "activities";
    case RefreshStage::kMeasures: return "measures";
    case RefreshStage::kSegments: return "segments";
    case RefreshStage::kIndex: return "index";
  }
  return "?";
}

StatusOr<RefreshResult> RunRefresh(Workspace& workspace, const RefreshOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto guard, RefreshGuard::Acquire(CanonicalDir(workspace.dir())));
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_RETURN_IF_ERROR(CheckNames(workspace, project, options));
  CDP_RETURN_IF_ERROR(CheckRunDate(options.run_date));
  CDP_ASSIGN_OR_RETURN(RefreshState state, LoadState(workspace));
  const int32_t run_date = options.run_date ? options.run_date : TodayUtc();
  CDP_ASSIGN_OR_RETURN(int64_t run_id, workspace.catalog().BeginRun("refresh"));
  guard->SetRunId(run_id);
  if (options.on_started) options.on_started(run_id);

  Refresh refresh(workspace, options, std::move(project), std::move(state), run_id, run_date);
  refresh.Run();
  RefreshResult& result = refresh.result();
  auto snap = workspace.data().Current();
  if (snap.ok()) result.generation = snap->generation;

  Json stages = Json::array();
  for (const auto& s : result.stages) stages.push_back(StageToJson(s));
  Json stats = {{"trigger", options.trigger},
                {"force", options.force},
                {"run_date", FormatDate(run_date)},
                {"sources", options.sources},
                {"segments", options.segments},
                {"generation", result.generation},
                {"stages", stages},
                {"state", StateToJson(refresh.state())}};
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run_id, result.status, result.error, stats.dump()));
  return std::move(result);
}

std::vector<StageResult> StagesOfRun(const std::string& stats_json) {
  std::vector<StageResult> out;
  auto j = nlohmann::json::parse(stats_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("stages") || !j["stages"].is_array()) return out;
  for (const auto& v : j["stages"]) {
    if (!v.is_object()) continue;
    auto stage = ParseStageName(v.value("stage", ""));
    if (!stage) continue;
    StageResult s;
    s.stage = *stage;
    s.status = v.value("status", "");
    s.duration_micros = v.value("duration_micros", int64_t{0});
    s.rows_in = v.value("rows_in", int64_t{0});
    s.rows_out = v.value("rows_out", int64_t{0});
    s.message = v.value("message", "");
    s.fingerprint = v.value("fingerprint", "");
    if (v.contains("warnings") && v["warnings"].is_array()) {
      for (const auto& w : v["warnings"]) {
        if (w.is_string()) s.warnings.push_back(w.get<std::string>());
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cdp
