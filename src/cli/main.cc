// cdp: the command-line interface. Parses arguments, calls the modules, and
// prints text or --json. Exit codes: 0 success, 1 failure, 2 usage error.
#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "access/api_key_store.h"
#include "cli/output.h"
#include "cli/serve_command.h"
#include "common/datetime.h"
#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "ingest/csv_reader.h"
#include "storage/column_file.h"
#include "table/table_json.h"
#include "workspace/ingest_runner.h"
#include "workspace/unify_runner.h"
#include "workspace/activity_runner.h"
#include "workspace/measure_runner.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Globals {
  std::string workspace = ".";
  bool json = false;
};

int Fail(const Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return kExitFailure;
}

void PrintJson(const Json& j) { std::cout << j.dump(2) << "\n"; }

StatusOr<std::unique_ptr<Workspace>> OpenWorkspace(const Globals& g) { return Workspace::Open(g.workspace); }

int CmdInit(const Globals& g, const std::string& dir) {
  auto ws = Workspace::Init(dir);
  if (!ws.ok()) return Fail(ws.status());
  if (g.json) {
    PrintJson({{"workspace", (*ws)->dir()}, {"catalog_version", (*ws)->catalog().schema_version()}});
  } else {
    std::cout << "Created workspace " << (*ws)->dir() << "\n";
  }
  return 0;
}

int CmdApply(const Globals& g, const std::string& file) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = LoadProjectFile(file);
  if (!project.ok()) return Fail(project.status());
  // Segment definitions are parsed before anything is stored.
  std::vector<SegmentDefinition> segments;
  for (size_t i = 0; i < project->segments.size(); ++i) {
    auto d = ParseSegmentYaml(project->segments[i]);
    if (!d.ok()) return Fail(d.status().WithContext(file + ": segments[" + std::to_string(i) + "]"));
    segments.push_back(std::move(*d));
  }
  Status s = (*ws)->catalog().ReplaceProject(*project);
  if (!s.ok()) return Fail(s);
  for (const auto& d : segments) {
    auto r = SaveSegment(**ws, d, SegmentSaveMode::kUpsert, SegmentRunOptions());
    if (!r.ok()) return Fail(r.status().WithContext("segment '" + d.name + "'"));
    if (!g.json && r->record.status != "active") {
      std::cerr << "note: segment " << d.name << " is " << r->record.status << " until the data it needs exists (`cdp run`)\n";
    }
  }
  if (g.json) {
    Json names = Json::array();
    for (const auto& src : project->sources) names.push_back(src.name);
    PrintJson({{"project", project->name}, {"sources", names}});
  } else {
    std::cout << "Applied " << file << ": " << project->sources.size() << " source(s)\n";
  }
  return 0;
}

int CmdExportConfig(const Globals& g, const std::string& out) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = (*ws)->catalog().LoadProject();
  if (!project.ok()) return Fail(project.status());
  std::string yaml = EmitProjectYaml(*project);
  if (out.empty() || out == "-") {
    std::cout << yaml;
  } else {
    std::ofstream f(out, std::ios::binary);
    f << yaml;
    if (!f) return Fail(UnavailableError("cannot write '" + out + "'"));
  }
  return 0;
}

Json IngestResultJson(const SourceIngestResult& r) {
  const auto& rec = r.record;
  return {{"source", rec.source},        {"status", rec.status},
          {"rows_read", rec.rows_read},  {"lines_read", r.lines_read}, {"rows_stored", rec.rows_stored},
          {"rows_quarantined", rec.rows_quarantined}, {"rows_filtered", rec.rows_filtered},
          {"generation", rec.generation}, {"bytes", r.bytes},
          {"seconds", r.seconds},         {"message", rec.message}};
}

int CmdIngest(const Globals& g, const std::vector<std::string>& sources, bool force, int threads,
              const std::string& kind) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  IngestOptions options;
  options.force = force;
  options.threads = threads;
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  options.on_progress = [&](const IngestProgress& p) {
    if (p.source != current) {
      bar = std::make_unique<ProgressBar>("ingest " + p.source);
      current = p.source;
    }
    bar->Update(p.bytes_done, p.bytes_total,
                std::to_string(p.rows_read) + " rows, " + HumanBytes(p.bytes_done));
  };
  auto result = IngestSources(**ws, sources, options, kind);
  bar.reset();
  if (!result.ok()) return Fail(result.status());
  if (g.json) {
    Json arr = Json::array();
    for (const auto& r : result->sources) arr.push_back(IngestResultJson(r));
    PrintJson({{"run_id", result->run_id}, {"ok", result->ok()}, {"sources", arr}});
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : result->sources) {
      const auto& rec = r.record;
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.2f", r.seconds);
      rows.push_back({rec.source, rec.status, std::to_string(r.lines_read), std::to_string(rec.rows_read),
                      std::to_string(rec.rows_stored), std::to_string(rec.rows_quarantined),
                      std::to_string(rec.rows_filtered), secs, rec.message});
    }
    std::cout << "Run " << result->run_id << (result->ok() ? " succeeded" : " FAILED") << "\n";
    PrintTable({"source", "status", "lines read", "records read", "stored", "quarantined", "filtered", "seconds",
                "message"},
               rows);
    for (const auto& r : result->sources) {
      if (r.record.status == "failed") {
        std::cerr << "error: source '" << r.record.source << "' failed (its previous data stays current): "
                  << r.record.message << "\n";
      }
    }
  }
  return result->ok() ? 0 : kExitFailure;
}

int CmdEntities(const Globals& g) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto snap = (*ws)->data().Current();
  if (!snap.ok()) return Fail(snap.status());
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, info] : snap->entities) {
    if (Workspace::IsInternalEntity(name)) continue;
    uint64_t quarantined = 0;
    auto q = snap->entities.find(Workspace::QuarantineEntityName(name));
    if (q != snap->entities.end()) quarantined = q->second.num_rows;
    arr.push_back({{"name", name},
                   {"rows", info.num_rows},
                   {"fields", info.schema.num_fields()},
                   {"quarantined", quarantined},
                   {"generation", info.generation},
                   {"written_at", FormatTimestamp(info.written_at_micros)}});
    rows.push_back({name, std::to_string(info.num_rows), std::to_string(info.schema.num_fields()),
                    std::to_string(quarantined), FormatTimestamp(info.written_at_micros)});
  }
  if (g.json) {
    PrintJson({{"generation", snap->generation}, {"entities", arr}});
  } else {
    PrintTable({"entity", "rows", "fields", "quarantined", "written at"}, rows);
  }
  return 0;
}

std::string NoSuchEntity(const std::string& entity) {
  return "no entity '" + entity + "' in this workspace; `cdp entities` lists them";
}

// Prints the first `limit` rows (all with limit < 0) of `entity` in `snap`.
int PrintEntityRows(const Globals& g, Workspace& ws, const Snapshot& snap, const std::string& entity, int64_t limit,
                    const std::string& missing_hint) {
  if (!snap.entities.count(entity)) return Fail(NotFoundError(missing_hint));
  auto reader = ws.data().OpenEntity(snap, entity);
  if (!reader.ok()) return Fail(reader.status());
  const Schema& schema = (*reader)->schema();
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  int64_t printed = 0;
  for (size_t rg = 0; rg < (*reader)->num_row_groups() && (limit < 0 || printed < limit); ++rg) {
    auto table = (*reader)->ReadRowGroup(rg);
    if (!table.ok()) return Fail(table.status());
    for (size_t r = 0; r < table->num_rows() && (limit < 0 || printed < limit); ++r, ++printed) {
      if (g.json) {
        Json o = Json::object();
        for (size_t c = 0; c < schema.num_fields(); ++c) o[schema.field(c).name] = ValueToJson(table->column(c), r);
        arr.push_back(std::move(o));
      } else {
        std::vector<std::string> row;
        for (size_t c = 0; c < schema.num_fields(); ++c) row.push_back(table->column(c).ValueToString(r));
        rows.push_back(std::move(row));
      }
    }
  }
  if (g.json) {
    Json fields = Json::array();
    for (const auto& f : schema.fields()) {
      fields.push_back({{"name", f.name}, {"type", DataTypeName(f.type)}, {"semantic", f.semantic.name()}});
    }
    PrintJson({{"entity", entity}, {"total_rows", (*reader)->num_rows()}, {"fields", fields}, {"rows", arr}});
  } else {
    std::vector<std::string> header;
    for (const auto& f : schema.fields()) header.push_back(f.name);
    PrintTable(header, rows);
    std::cout << "(" << printed << " of " << (*reader)->num_rows() << " rows)\n";
  }
  return 0;
}

int CmdShow(const Globals& g, const std::string& entity, int64_t limit) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto snap = (*ws)->data().Current();
  if (!snap.ok()) return Fail(snap.status());
  return PrintEntityRows(g, **ws, *snap, entity, limit, NoSuchEntity(entity));
}

int CmdQuarantine(const Globals& g, const std::string& entity, int64_t limit) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto snap = (*ws)->data().Current();
  if (!snap.ok()) return Fail(snap.status());
  if (!snap->entities.count(entity)) {
    return Fail(NotFoundError(NoSuchEntity(entity)));
  }
  return PrintEntityRows(g, **ws, *snap, Workspace::QuarantineEntityName(entity), limit,
                         "entity '" + entity + "' has no quarantine");
}

int CmdDemoGenerate(const Globals& g, int64_t customers, uint64_t seed, const std::string& out) {
  DemoOptions options;
  options.customers = customers;
  options.seed = seed;
  options.out_dir = out;
  std::string stage;
  std::unique_ptr<ProgressBar> bar_stage;
  options.progress = [&](const DemoProgress& p) {
    if (p.stage != stage) {
      stage = std::string(p.stage);
      bar_stage = std::make_unique<ProgressBar>("generate " + stage);
    }
    bar_stage->Update(static_cast<uint64_t>(p.done), static_cast<uint64_t>(p.total), std::to_string(p.done));
  };
  DemoSummary summary;
  Status s = GenerateContosoDemo(options, &summary);
  bar_stage.reset();
  if (!s.ok()) return Fail(s);
  if (g.json) {
    Json files = Json::array();
    for (const auto& f : summary.files) files.push_back({{"file", f.path}, {"rows", f.rows}});
    PrintJson({{"out", out}, {"customers", customers}, {"seed", seed}, {"files", files}});
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : summary.files) rows.push_back({f.name, std::to_string(f.rows)});
    PrintTable({"file", "rows"}, rows);
  }
  return 0;
}


std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void PrintUnifyStats(const UnifyStats& st, bool preview) {
  std::cout << (preview ? "Preview (matching only, nothing written)\n" : "");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [s, n] : st.records_per_source) rows.push_back({s, std::to_string(n)});
  PrintTable({"source", "records"}, rows);
  std::cout << "records in " << st.records_in << ", profiles out " << st.profiles_out << ", merge rate "
            << Fixed(100 * st.merge_rate, 1) << "%\n";
  std::cout << "candidate pairs " << st.matching.candidate_pairs << " (reduction ratio "
            << Fixed(st.matching.reduction_ratio, 6) << ")\n";
  rows.clear();
  for (const auto& r : st.rules) {
    if (r.pairs == 0 && r.rule == "override") continue;
    double rate = st.records_in ? 100.0 * static_cast<double>(r.merges) / static_cast<double>(st.records_in) : 0;
    rows.push_back({r.rule, std::to_string(r.pairs), std::to_string(r.merges), Fixed(rate, 2) + "%"});
  }
  PrintTable({"rule", "pairs", "merges", "merge rate"}, rows);
  if (!preview) std::cout << "CustomerIds kept " << st.kept_ids << ", new " << st.new_ids << "\n";
  std::string secs;
  for (const auto& [k, v] : st.seconds) secs += (secs.empty() ? "" : ", ") + k + " " + Fixed(v, 2) + "s";
  std::cout << "time: " << secs << "\n";
  size_t shown = 0;
  for (const auto& w : st.warnings) {
    if (++shown > 10) {
      std::cerr << "warning: ... and " << (st.warnings.size() - 10) << " more (see --json)\n";
      break;
    }
    std::cerr << "warning: " << w << "\n";
  }
}

int CmdUnify(const Globals& g, bool preview, int threads, const std::string& kind) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  UnifyRunOptions options;
  options.preview = preview;
  options.threads = threads;
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  options.on_progress = [&](std::string_view step, int64_t done, int64_t total) {
    if (step != current) {
      bar = std::make_unique<ProgressBar>("unify: " + std::string(step));
      current = std::string(step);
    }
    bar->Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total), "");
  };
  auto r = RunUnify(**ws, options, kind);
  bar.reset();
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    Json j = Json::parse(r->stats.ToJson());
    j["run_id"] = r->run_id;
    j["generation"] = r->generation;
    Json changes = Json::array();
    for (const auto& c : r->id_changes) changes.push_back({{"kind", c.kind}, {"customer_id", c.customer_id}, {"other_ids", c.other_ids}});
    j["id_changes"] = changes;
    PrintJson(j);
  } else {
    std::cout << "Unify run " << r->run_id << " succeeded" << (preview ? "" : ", generation " + std::to_string(r->generation)) << "\n";
    PrintUnifyStats(r->stats, preview);
    for (const auto& c : r->id_changes) {
      std::string ids;
      for (int64_t x : c.other_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(x);
      std::cout << (c.kind == "merge" ? "merged into " : "split ") << c.customer_id
                << (c.kind == "merge" ? " from " : " into ") << ids << "\n";
    }
  }
  return 0;
}

int CmdActivities(const Globals& g, const std::string& kind);
int CmdSegmentRun(const Globals& g, const std::vector<std::string>& names, const std::string& as_of, int threads);
int CmdMeasures(const Globals& g, const std::string& name, const std::string& as_of, int threads, const std::string& kind);

Json StageResultJson(const StageResult& s) {
  return {{"stage", RefreshStageName(s.stage)}, {"status", s.status},   {"seconds", s.duration_micros / 1e6},
          {"rows_in", s.rows_in},               {"rows_out", s.rows_out}, {"message", s.message},
          {"warnings", s.warnings}};
}

// `cdp run`: one refresh (workspace/refresh_runner.h): the stages whose inputs
// changed, a table of what each did; exit 1 unless it succeeded.
int CmdRun(const Globals& g, bool force, int threads, const std::vector<std::string>& sources,
           const std::vector<std::string>& segments) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  RefreshOptions options;
  options.force = force;
  options.threads = static_cast<size_t>(threads);
  options.sources = sources;
  options.segments = segments;
  options.trigger = "cli";
  std::unique_ptr<ProgressBar> bar;
  std::optional<RefreshStage> current;
  options.progress = [&](RefreshStage stage, double fraction, const std::string& detail) {
    if (current != stage) {
      bar = std::make_unique<ProgressBar>("refresh: " + std::string(RefreshStageName(stage)));
      current = stage;
    }
    bar->Update(static_cast<uint64_t>(fraction * 1000), 1000, detail);
  };
  auto r = RunRefresh(**ws, options);
  bar.reset();
  if (!r.ok()) return Fail(r.status());
  int rc = r->ok() ? 0 : kExitFailure;
  if (g.json) {
    Json stages = Json::array();
    for (const auto& s : r->stages) stages.push_back(StageResultJson(s));
    PrintJson({{"run_id", r->run_id}, {"status", r->status}, {"error", r->error}, {"generation", r->generation},
               {"stages", stages}});
    return rc;
  }
  std::cout << "Refresh run " << r->run_id << " " << r->status << ", generation " << r->generation << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : r->stages) {
    rows.push_back({std::string(RefreshStageName(s.stage)), s.status, Fixed(s.duration_micros / 1e6, 2),
                    std::to_string(s.rows_in), std::to_string(s.rows_out), s.message});
  }
  PrintTable({"stage", "status", "seconds", "rows in", "rows out", "message"}, rows);
  for (const auto& s : r->stages) {
    size_t shown = 0;
    for (const auto& w : s.warnings) {
      if (++shown > 10) {
        std::cerr << "warning: " << RefreshStageName(s.stage) << ": ... and " << (s.warnings.size() - 10)
                  << " more (see --json)\n";
        break;
      }
      std::cerr << "warning: " << RefreshStageName(s.stage) << ": " << w << "\n";
    }
  }
  if (r->status == "failed") std::cerr << "error: " << r->error << " (the previous outputs stay current)\n";
  return rc;
}

// `cdp runs`: run history, newest first, with the stages of refresh runs.
int CmdRuns(const Globals& g, int limit) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto runs = (*ws)->catalog().ListRuns(limit);
  if (!runs.ok()) return Fail(runs.status());
  const RefreshStage kStages[] = {RefreshStage::kIngest,   RefreshStage::kUnify,    RefreshStage::kActivities,
                                  RefreshStage::kMeasures, RefreshStage::kSegments, RefreshStage::kIndex};
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& run : *runs) {
    std::vector<StageResult> stages = StagesOfRun(run.stats_json);
    std::string trigger;
    if (run.kind == "refresh") {
      auto stats = Json::parse(run.stats_json, nullptr, false);
      if (stats.is_object()) trigger = stats.value("trigger", "");
    }
    double seconds = run.finished_at > 0 ? static_cast<double>(run.finished_at - run.started_at) / 1e6 : 0;
    Json js = Json::array();
    for (const auto& s : stages) {
      js.push_back({{"stage", RefreshStageName(s.stage)}, {"status", s.status}, {"seconds", s.duration_micros / 1e6},
                    {"rows_in", s.rows_in}, {"rows_out", s.rows_out}});
    }
    arr.push_back({{"id", run.id}, {"kind", run.kind}, {"status", run.status}, {"trigger", trigger},
                   {"started_at", FormatTimestamp(run.started_at)},
                   {"finished_at", run.finished_at > 0 ? Json(FormatTimestamp(run.finished_at)) : Json(nullptr)},
                   {"seconds", seconds}, {"error", run.error}, {"stages", js}});
    std::vector<std::string> row = {std::to_string(run.id), run.kind, run.status, trigger,
                                    FormatTimestamp(run.started_at).substr(0, 19),
                                    run.finished_at > 0 ? Fixed(seconds, 2) : ""};
    // Seconds per stage that ran; "skip", "FAIL", "cancel", or "" when not part of the run.
    for (RefreshStage stage : kStages) {
      std::string cell;
      for (const auto& s : stages) {
        if (s.stage != stage) continue;
        if (s.status == "succeeded") cell = Fixed(s.duration_micros / 1e6, 2);
        else if (s.status == "skipped") cell = "skip";
        else if (s.status == "failed") cell = "FAIL";
        else cell = s.status;
      }
      row.push_back(cell);
    }
    row.push_back(run.error);
    rows.push_back(std::move(row));
  }
  if (g.json) {
    PrintJson(arr);
    return 0;
  }
  PrintTable({"run", "kind", "status", "trigger", "started (UTC)", "seconds", "ingest", "unify", "activities", "measures",
              "segments", "index", "error"},
             rows);
  return 0;
}


void PrintExplanation(const PairExplanation& e) {
  std::cout << e.record_a << "  vs  " << e.record_b << ": "
            << (e.matched ? "MATCH by " + e.matched_by : std::string("no match")) << "\n";
  for (const auto& r : e.rules) {
    std::cout << "  rule " << r.rule << ": "
              << (!r.applies ? "not for these sources"
                             : !r.exception.empty() ? "blocked by an exception on " + r.exception
                                                    : (r.matched ? "matched" : "not matched"))
              << " (score " << Fixed(r.score, 3) << ")\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.conditions) {
      rows.push_back({c.passed ? "yes" : "no", c.field, c.compare, c.value_a, c.value_b, Fixed(c.similarity, 3)});
    }
    PrintTable({"  pass", "field", "compare", "a (normalized)", "b (normalized)", "similarity"}, rows);
  }
  if (!e.contributions.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : e.contributions) {
      rows.push_back({c.comparison, c.level, Fixed(c.m, 4), Fixed(c.u, 6), Fixed(c.weight, 2)});
    }
    PrintTable({"  comparison", "level", "m", "u", "weight (bits)"}, rows);
    std::cout << "  match weight " << Fixed(e.match_weight, 2) << ", probability " << Fixed(e.match_probability, 4) << "\n";
  }
}

int CmdExplainPair(const Globals& g, const std::string& a, const std::string& b) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = (*ws)->catalog().LoadProject();
  if (!project.ok()) return Fail(project.status());
  auto ra = ParseRecordRef(project->unification, a);
  if (!ra.ok()) return Fail(ra.status());
  auto rb = ParseRecordRef(project->unification, b);
  if (!rb.ok()) return Fail(rb.status());
  auto e = ExplainPairInWorkspace(**ws, ra->first, ra->second, rb->first, rb->second);
  if (!e.ok()) return Fail(e.status());
  if (g.json) {
    PrintJson(Json(PairExplanationToJson(*e)));
  } else {
    PrintExplanation(*e);
  }
  return 0;
}

// Rows of `entity` where `field` (int64) equals `id`.
StatusOr<Table> RowsWithId(Workspace& ws, const Snapshot& snap, const std::string& entity, const std::string& field, int64_t id) {
  if (!snap.entities.count(entity)) return FailedPreconditionError("no " + entity + " entity yet: run `cdp unify` first");
  CDP_ASSIGN_OR_RETURN(auto reader, ws.data().OpenEntity(snap, entity));
  CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
  int c = t.schema().FieldIndex(field);
  if (c < 0) return DataLossError(entity + " has no field " + field);
  Table out(t.schema());
  const Column& col = t.column(static_cast<size_t>(c));
  for (size_t i = 0; i < t.num_rows(); ++i) {
    if (col.IsNull(i) || col.Int64At(i) != id) continue;
    for (size_t k = 0; k < t.num_columns(); ++k) out.mutable_column(k).AppendFrom(t.column(k), i);
    out.FinishRow();
  }
  return out;
}

int CmdExplain(const Globals& g, int64_t id) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = (*ws)->catalog().LoadProject();
  if (!project.ok()) return Fail(project.status());
  auto snapshot = (*ws)->data().Current();
  if (!snapshot.ok()) return Fail(snapshot.status());
  const Snapshot& snap = *snapshot;
  auto customer = RowsWithId(**ws, snap, std::string(kCustomerEntity), "CustomerId", id);
  if (!customer.ok()) return Fail(customer.status());
  auto keys = RowsWithId(**ws, snap, std::string(kSourceKeysEntity), "CustomerId", id);
  if (!keys.ok()) return Fail(keys.status());
  auto pairs = RowsWithId(**ws, snap, std::string(kMatchPairsEntity), "CustomerId", id);
  if (!pairs.ok()) return Fail(pairs.status());
  auto changes = (*ws)->catalog().ListIdChanges(id);
  if (!changes.ok()) return Fail(changes.status());
  if (customer->num_rows() == 0) {
    std::string hint;
    for (const auto& c : *changes) {
      if (c.kind == "merge" && c.customer_id != id) hint = " (it was merged into " + std::to_string(c.customer_id) + ")";
    }
    return Fail(NotFoundError("no customer with CustomerId " + std::to_string(id) + hint));
  }
  // Each pair's conditions, recomputed from the sources.
  auto tables = LoadProfileSources(**ws, project->unification);
  if (!tables.ok()) return Fail(tables.status());
  std::optional<FsModel> model;
  if (project->unification.mode == UnifyMode::kProbabilistic) {
    auto mj = (*ws)->catalog().LatestUnifyModel();
    if (mj.ok() && *mj) {
      auto parsed = nlohmann::json::parse(**mj, nullptr, false);
      auto m = FsModel::FromJson(parsed);
      if (m.ok()) model = std::move(*m);
    }
  }
  std::vector<PairExplanation> explained;
  const Table& p = *pairs;
  for (size_t i = 0; i < p.num_rows() && explained.size() < 50; ++i) {
    auto e = ExplainRecordPair(project->unification, *tables, std::string(p.column(1).StringAt(i)),
                               std::string(p.column(2).StringAt(i)), std::string(p.column(3).StringAt(i)),
                               std::string(p.column(4).StringAt(i)), model ? &*model : nullptr);
    if (!e.ok()) return Fail(e.status());
    explained.push_back(std::move(*e));
  }
  if (g.json) {
    Json profile = Json(RowToJson(*customer, 0));
    Json recs = Json::array();
    for (size_t i = 0; i < keys->num_rows(); ++i) recs.push_back(std::string(keys->column(1).StringAt(i)) + ":" + std::string(keys->column(2).StringAt(i)));
    Json pj = Json::array();
    for (size_t i = 0; i < p.num_rows(); ++i) {
      Json o = {{"a", std::string(p.column(1).StringAt(i)) + ":" + std::string(p.column(2).StringAt(i))},
                {"b", std::string(p.column(3).StringAt(i)) + ":" + std::string(p.column(4).StringAt(i))},
                {"rule", std::string(p.column(5).StringAt(i))}, {"score", p.column(6).DoubleAt(i)},
                {"status", std::string(p.column(7).StringAt(i))}};
      if (i < explained.size()) o["explanation"] = Json(PairExplanationToJson(explained[i]));
      pj.push_back(o);
    }
    Json ch = Json::array();
    for (const auto& c : *changes) ch.push_back({{"run_id", c.run_id}, {"kind", c.kind}, {"customer_id", c.customer_id}, {"other_ids", c.other_ids}});
    PrintJson({{"customer_id", id}, {"profile", profile}, {"records", recs}, {"pairs", pj}, {"id_changes", ch}});
    return 0;
  }
  std::cout << "Customer " << id << "\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 1; c < customer->num_columns(); ++c) {
    if (!customer->column(c).IsNull(0)) rows.push_back({customer->schema().field(c).name, customer->column(c).ValueToString(0)});
  }
  PrintTable({"field", "value"}, rows);
  std::cout << "\n" << keys->num_rows() << " source record(s):\n";
  rows.clear();
  for (size_t i = 0; i < keys->num_rows(); ++i) rows.push_back({std::string(keys->column(1).StringAt(i)), std::string(keys->column(2).StringAt(i))});
  PrintTable({"source", "key"}, rows);
  std::cout << "\n" << p.num_rows() << " match pair(s):\n";
  for (size_t i = 0; i < p.num_rows(); ++i) {
    std::cout << "- " << p.column(1).StringAt(i) << ":" << p.column(2).StringAt(i) << " = " << p.column(3).StringAt(i)
              << ":" << p.column(4).StringAt(i) << "  rule " << p.column(5).StringAt(i) << ", score "
              << Fixed(p.column(6).DoubleAt(i), 3) << ", " << p.column(7).StringAt(i) << "\n";
    if (i < explained.size()) PrintExplanation(explained[i]);
  }
  for (const auto& c : *changes) {
    std::string ids;
    for (int64_t x : c.other_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(x);
    std::cout << "run " << c.run_id << ": " << c.kind << " " << c.customer_id << (c.kind == "merge" ? " absorbed " : " split into ") << ids << "\n";
  }
  return 0;
}

int CmdOverrideAdd(const Globals& g, const std::string& a, const std::string& b, bool always, bool never, const std::string& note) {
  if (always == never) return Fail(InvalidArgumentError("give exactly one of --always and --never"));
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = (*ws)->catalog().LoadProject();
  if (!project.ok()) return Fail(project.status());
  auto ra = ParseRecordRef(project->unification, a);
  if (!ra.ok()) return Fail(ra.status());
  auto rb = ParseRecordRef(project->unification, b);
  if (!rb.ok()) return Fail(rb.status());
  auto id = (*ws)->catalog().AddMatchOverride(MatchOverrideRecord{0, ra->first, ra->second, rb->first, rb->second, always, note, 0});
  if (!id.ok()) return Fail(id.status());
  if (g.json) {
    PrintJson({{"id", *id}});
  } else {
    std::cout << "Override " << *id << ": " << a << (always ? " always matches " : " never matches ") << b
              << " (takes effect at the next `cdp unify`)\n";
  }
  return 0;
}

int CmdOverrideList(const Globals& g) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto list = (*ws)->catalog().ListMatchOverrides();
  if (!list.ok()) return Fail(list.status());
  if (g.json) {
    Json arr = Json::array();
    for (const auto& o : *list) {
      arr.push_back({{"id", o.id}, {"a", o.source_a + ":" + o.key_a}, {"b", o.source_b + ":" + o.key_b},
                     {"kind", o.always ? "always" : "never"}, {"note", o.note}});
    }
    PrintJson(arr);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : *list) {
    rows.push_back({std::to_string(o.id), o.source_a + ":" + o.key_a, o.source_b + ":" + o.key_b, o.always ? "always" : "never", o.note});
  }
  PrintTable({"id", "record a", "record b", "kind", "note"}, rows);
  return 0;
}

int CmdOverrideRemove(const Globals& g, int64_t id) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  Status s = (*ws)->catalog().RemoveMatchOverride(id);
  if (!s.ok()) return Fail(s);
  if (!g.json) std::cout << "Removed override " << id << "\n";
  return 0;
}

// A CSV with a header: source_a,key_a,source_b,key_b,kind[,note]; kind is always or never.
int CmdOverrideImport(const Globals& g, const std::string& file) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto project = (*ws)->catalog().LoadProject();
  if (!project.ok()) return Fail(project.status());
  auto reader = OpenCsvFile(file, CsvOptions());
  if (!reader.ok()) return Fail(reader.status());
  const auto& names = (*reader)->field_names();
  auto col = [&](const std::string& n) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  int sa = col("source_a"), ka = col("key_a"), sb = col("source_b"), kb = col("key_b"), kind = col("kind"), note = col("note");
  if (sa < 0 || ka < 0 || sb < 0 || kb < 0 || kind < 0) {
    return Fail(InvalidArgumentError(file + ": the header must name source_a, key_a, source_b, key_b and kind (and optionally note)"));
  }
  std::vector<MatchOverrideRecord> todo;
  RawRecordBatch batch;
  for (;;) {
    auto more = (*reader)->Next(&batch, 1024);
    if (!more.ok()) return Fail(more.status());
    if (!*more) break;
    for (size_t r = 0; r < batch.num_records(); ++r) {
      std::string where = file + ":" + std::to_string(batch.line[r]);
      if (batch.num_fields(r) < names.size()) return Fail(InvalidArgumentError(where + ": expected " + std::to_string(names.size()) + " fields"));
      auto f = [&](int c) { return std::string(batch.field(r, static_cast<size_t>(c))); };
      MatchOverrideRecord o{0, f(sa), f(ka), f(sb), f(kb), false, note >= 0 ? f(note) : "", 0};
      std::string k = f(kind);
      if (k != "always" && k != "never") return Fail(InvalidArgumentError(where + ": kind: expected always or never, got '" + k + "'"));
      o.always = k == "always";
      for (const auto& src : {o.source_a, o.source_b}) {
        if (!project->unification.FindSource(src)) {
          return Fail(InvalidArgumentError(where + ": '" + src + "' is not a unification source"));
        }
      }
      todo.push_back(std::move(o));
    }
  }
  // Validated as a whole before anything is stored.
  for (const auto& o : todo) {
    auto id = (*ws)->catalog().AddMatchOverride(o);
    if (!id.ok()) return Fail(id.status());
  }
  if (g.json) {
    PrintJson({{"imported", todo.size()}});
  } else {
    std::cout << "Imported " << todo.size() << " override(s) from " << file << "\n";
  }
  return 0;
}

int CmdActivities(const Globals& g, const std::string& kind) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto r = RunActivities(**ws, kind);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    Json j = Json::parse(r->StatsJson());
    j["run_id"] = r->run_id;
    j["generation"] = r->generation;
    PrintJson(j);
    return 0;
  }
  std::cout << "Activities run " << r->run_id << ": " << r->rows << " rows in UnifiedActivity (" << Fixed(r->seconds, 2)
            << " s)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : r->activities) {
    rows.push_back({a.activity, a.relation.path, std::to_string(a.relation.rows), std::to_string(a.rows_out),
                    std::to_string(a.relation.orphans), std::to_string(a.relation.no_key), std::to_string(a.missing_timestamp)});
  }
  PrintTable({"activity", "path to Customer", "rows", "linked", "orphans", "no key", "no time"}, rows);
  for (const auto& a : r->activities) {
    for (const auto& e : a.relation.orphan_examples) std::cerr << "warning: " << a.activity << ": orphan " << e << "\n";
  }
  return 0;
}

StatusOr<int64_t> ParseTimeArg(const std::string& text, bool end_of_day) {
  int y, m, d;
  char tail;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
    return InvalidArgumentError("'" + text + "' is not a date (YYYY-MM-DD)");
  }
  int64_t days = DaysFromCivil(y, m, d);
  if (m < 1 || m > 12 || d < 1 || d > 31 || FormatDate(static_cast<int32_t>(days)) != text) {
    return InvalidArgumentError("'" + text + "' is not a valid date (YYYY-MM-DD)");
  }
  return days * 86400000000LL + (end_of_day ? 86400000000LL - 1 : 0);
}

int CmdTimeline(const Globals& g, int64_t id, const std::string& type, const std::string& from, const std::string& to,
                int64_t limit) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  TimelineQuery q;
  q.customer_id = id;
  q.type = type;
  q.limit = limit;
  if (!from.empty()) {
    auto t = ParseTimeArg(from, false);
    if (!t.ok()) return Fail(t.status().WithContext("--from"));
    q.from_us = *t;
  }
  if (!to.empty()) {
    auto t = ParseTimeArg(to, true);
    if (!t.ok()) return Fail(t.status().WithContext("--to"));
    q.to_us = *t;
  }
  auto t = ReadTimeline(**ws, q);
  if (!t.ok()) return Fail(t.status());
  if (g.json) {
    Json arr = Json::array();
    for (size_t r = 0; r < t->num_rows(); ++r) {
      Json o;
      for (size_t c = 1; c < t->num_columns(); ++c) {
        const std::string& name = t->schema().field(c).name;
        if (name == "Fields" && !t->column(c).IsNull(r)) {
          o[name] = Json::parse(std::string(t->column(c).StringAt(r)), nullptr, false);
        } else {
          o[name] = ValueToJson(t->column(c), r);
        }
      }
      arr.push_back(o);
    }
    PrintJson({{"customer_id", id}, {"activities", arr}});
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < t->num_rows(); ++r) {
    rows.push_back({t->column(3).ValueToString(r), t->column(1).ValueToString(r), t->column(2).ValueToString(r),
                    t->column(4).IsNull(r) ? "" : t->column(4).ValueToString(r),
                    t->column(5).IsNull(r) ? "" : t->column(5).ValueToString(r), t->column(6).ValueToString(r) + ":" + t->column(7).ValueToString(r)});
  }
  std::cout << "Customer " << id << ": " << t->num_rows() << " activit" << (t->num_rows() == 1 ? "y" : "ies") << "\n";
  PrintTable({"time", "type", "activity", "subject", "amount", "source record"}, rows);
  return 0;
}

int CmdExplainModel(const Globals& g) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto mj = (*ws)->catalog().LatestUnifyModel();
  if (!mj.ok()) return Fail(mj.status());
  if (!*mj) return Fail(NotFoundError("no trained model: set unification.mode: probabilistic and run `cdp unify`"));
  auto parsed = nlohmann::json::parse(**mj, nullptr, false);
  auto model = FsModel::FromJson(parsed);
  if (!model.ok()) return Fail(model.status());
  if (g.json) {
    PrintJson(Json::parse(**mj));
  } else {
    std::cout << ExplainFsModel(*model);
  }
  return 0;
}

void PrintTableRows(const Table& t, size_t limit) {
  std::vector<std::string> header;
  for (const auto& f : t.schema().fields()) header.push_back(f.name);
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < t.num_rows() && r < limit; ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < t.num_columns(); ++c) row.push_back(t.column(c).IsNull(r) ? "" : t.column(c).ValueToString(r));
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
  if (t.num_rows() > limit) std::cout << "... " << (t.num_rows() - limit) << " more row(s)\n";
}

int CmdMeasures(const Globals& g, const std::string& name, const std::string& as_of, int threads, const std::string& kind) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  MeasureRunOptions options;
  options.threads = threads;
  if (!as_of.empty()) {
    auto t = ParseTimeArg(as_of, false);
    if (!t.ok()) return Fail(t.status().WithContext("--as-of"));
    options.run_date = static_cast<int32_t>(*t / 86400000000LL);
  }
  auto r = RunMeasures(**ws, options, kind);
  if (!r.ok()) return Fail(r.status());
  const Table& attrs = r->results.attributes;
  for (const auto& w : r->warnings) std::cerr << "warning: " << w << "\n";
  if (!name.empty()) {
    const Table* t = nullptr;
    Table attr_view;
    int c = attrs.schema().FieldIndex(name);
    if (c >= 0) {
      // CustomerId and the value, from the written entity.
      auto snap = (*ws)->data().Current();
      if (!snap.ok()) return Fail(snap.status());
      auto reader = (*ws)->data().OpenEntity(*snap, std::string(kCustomerMeasureEntity));
      if (!reader.ok()) return Fail(reader.status());
      std::vector<int> cols = {0, c + 1};
      auto all = (*reader)->ReadAll(&cols);
      if (!all.ok()) return Fail(all.status());
      attr_view = std::move(*all);
      t = &attr_view;
    } else if (r->results.customer.count(name)) {
      t = &r->results.customer.at(name);
    } else if (r->results.business.count(name)) {
      t = &r->results.business.at(name);
    } else {
      return Fail(NotFoundError("no measure named '" + name + "'"));
    }
    if (g.json) {
      Json rows = Json::array();
      for (size_t i = 0; i < t->num_rows(); ++i) {
        rows.push_back(Json(RowToJson(*t, i)));
      }
      PrintJson({{"measure", name}, {"run_date", FormatDate(r->run_date)}, {"rows", rows}});
    } else {
      PrintTableRows(*t, 50);
    }
    return 0;
  }
  // Summary of every measure.
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < attrs.num_columns(); ++c) {
    const Column& col = attrs.column(c);
    int64_t filled = static_cast<int64_t>(col.size() - col.null_count());
    double sum = 0, mn = 0, mx = 0;
    bool numeric = col.type() == DataType::kDouble || col.type() == DataType::kInt64;
    bool any = false;
    for (size_t i = 0; numeric && i < col.size(); ++i) {
      if (col.IsNull(i)) continue;
      double v = col.type() == DataType::kDouble ? col.DoubleAt(i) : static_cast<double>(col.Int64At(i));
      sum += v;
      mn = any ? std::min(mn, v) : v;
      mx = any ? std::max(mx, v) : v;
      any = true;
    }
    Json o = {{"measure", attrs.schema().field(c).name}, {"kind", "attribute"}, {"customers_with_value", filled}};
    if (numeric && any) {
      o["min"] = mn;
      o["average"] = sum / static_cast<double>(filled);
      o["max"] = mx;
    }
    arr.push_back(o);
    rows.push_back({attrs.schema().field(c).name, "attribute", std::to_string(filled),
                    numeric && any ? Fixed(mn, 2) : "", numeric && any ? Fixed(sum / static_cast<double>(filled), 2) : "",
                    numeric && any ? Fixed(mx, 2) : ""});
  }
  for (const auto& [n, t] : r->results.customer) {
    arr.push_back({{"measure", n}, {"kind", "customer"}, {"rows", t.num_rows()}});
    rows.push_back({n, "customer", std::to_string(t.num_rows()) + " rows", "", "", ""});
  }
  for (const auto& [n, t] : r->results.business) {
    arr.push_back({{"measure", n}, {"kind", "business"}, {"rows", t.num_rows()}});
    std::string v = t.num_rows() == 1 && t.num_columns() == 1 ? t.column(0).ValueToString(0) : std::to_string(t.num_rows()) + " rows";
    rows.push_back({n, "business", v, "", "", ""});
  }
  if (g.json) {
    PrintJson({{"run_id", r->run_id}, {"run_date", FormatDate(r->run_date)}, {"customers", r->customers},
               {"rows_scanned", r->rows_scanned}, {"seconds_evaluate", r->seconds_evaluate}, {"measures", arr}});
    return 0;
  }
  std::cout << "Measures run " << r->run_id << " as of " << FormatDate(r->run_date) << ": " << r->customers
            << " customers, " << r->rows_scanned << " rows scanned, evaluated in " << Fixed(r->seconds_evaluate, 3) << " s\n";
  PrintTable({"measure", "kind", "customers with a value", "min", "average", "max"}, rows);
  return 0;
}

StatusOr<SegmentDefinition> ReadSegmentFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return NotFoundError("cannot read '" + file + "'");
  // At most one byte past the limit is read: a larger file is refused unread.
  std::string text(kMaxSegmentDefinitionBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxSegmentDefinitionBytes) {
    return InvalidArgumentError(file + ": a segment definition file may hold at most " +
                                std::to_string(kMaxSegmentDefinitionBytes) + " bytes");
  }
  size_t first = text.find_first_not_of(" \t\r\n");
  auto d = first != std::string::npos && text[first] == '{' ? ParseSegmentJson(text) : ParseSegmentYaml(text);
  if (!d.ok()) return d.status().WithContext(file);
  return d;
}

// A quick-segment value typed by the field it compares.
SegmentValue TypedValue(Workspace& ws, const std::string& entity, const std::string& field, const std::string& text) {
  auto snap = ws.data().Current();
  if (snap.ok() && snap->entities.count(entity)) {
    const Schema& schema = snap->entities.at(entity).schema;
    int i = schema.FieldIndex(field);
    if (i >= 0) {
      DataType t = schema.field(static_cast<size_t>(i)).type;
      try {
        size_t used = 0;
        if (t == DataType::kInt64) {
          long long v = std::stoll(text, &used);
          if (used == text.size()) return static_cast<int64_t>(v);
        } else if (t == DataType::kDouble) {
          double v = std::stod(text, &used);
          if (used == text.size()) return v;
        }
      } catch (const std::exception&) {
      }
      if (t == DataType::kBool && (text == "true" || text == "false")) return text == "true";
    }
  }
  return text;
}

void PrintSaveResult(const Globals& g, const SegmentSaveResult& r, const std::string& verb) {
  if (g.json) {
    Json j = {{"name", r.record.name}, {"status", r.record.status}, {"problems", Json::parse(r.record.problems_json)}};
    if (r.evaluation) j["members"] = r.evaluation->members;
    PrintJson(j);
    return;
  }
  std::cout << verb << " segment " << r.record.name << " (" << r.record.status << ")";
  if (r.evaluation) std::cout << ": " << r.evaluation->members << " members, frozen";
  std::cout << "\n";
  for (const auto& p : r.problems) std::cerr << "problem: " << p.ToString() << "\n";
}

int CmdSegmentSave(const Globals& g, SegmentSaveMode mode, const std::string& file, const std::string& quick_name,
                   const std::string& entity, const std::string& field, const std::string& op,
                   const std::vector<std::string>& values, bool is_static) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  SegmentDefinition d;
  if (!file.empty()) {
    auto parsed = ReadSegmentFile(file);
    if (!parsed.ok()) return Fail(parsed.status());
    d = std::move(*parsed);
  } else {
    if (quick_name.empty() || field.empty() || op.empty()) {
      return Fail(InvalidArgumentError("give --file DEFINITION, or a quick segment: NAME --field F --op OP [--value V ...] "
                                       "[--entity Customer|Customer_Measure]"));
    }
    auto o = ParseConditionOp(op);
    if (!o) return Fail(InvalidArgumentError("--op: unknown operator '" + op + "'"));
    std::vector<SegmentValue> typed;
    for (const auto& v : values) typed.push_back(TypedValue(**ws, entity, field, v));
    d = MakeQuickSegment(quick_name, entity, field, *o, typed);
    if (is_static) d.type = SegmentType::kStatic;
  }
  auto r = SaveSegment(**ws, d, mode, SegmentRunOptions());
  if (!r.ok()) return Fail(r.status());
  PrintSaveResult(g, *r, mode == SegmentSaveMode::kUpdate ? "Updated" : "Created");
  return 0;
}

int CmdSegmentList(const Globals& g) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto list = (*ws)->catalog().ListSegments();
  if (!list.ok()) return Fail(list.status());
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *list) {
    auto d = ParseStoredSegmentJson(r.definition_json);
    auto h = (*ws)->catalog().SegmentHistory(r.name, 1);
    std::string members = h.ok() && !h->empty() ? std::to_string(h->back().members) : "";
    std::string type = d.ok() ? (d->type == SegmentType::kStatic ? "static" : "dynamic") : "?";
    arr.push_back({{"name", r.name}, {"type", type}, {"status", r.status},
                   {"members", h.ok() && !h->empty() ? Json(h->back().members) : Json(nullptr)},
                   {"display_name", d.ok() ? d->display_name : ""}});
    rows.push_back({r.name, type, r.status, members, d.ok() ? d->display_name : ""});
  }
  if (g.json) {
    PrintJson(arr);
  } else {
    PrintTable({"segment", "type", "status", "members", "display name"}, rows);
  }
  return 0;
}

int CmdSegmentRun(const Globals& g, const std::vector<std::string>& names, const std::string& as_of, int threads) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  SegmentRunOptions options;
  options.threads = threads;
  if (!as_of.empty()) {
    auto t = ParseTimeArg(as_of, false);
    if (!t.ok()) return Fail(t.status().WithContext("--as-of"));
    options.run_date = static_cast<int32_t>(*t / 86400000000LL);
  }
  std::vector<std::string> skipped;
  auto r = RunSegments(**ws, names, options, &skipped);
  if (!r.ok()) return Fail(r.status());
  for (const auto& s : skipped) std::cerr << "warning: skipped segment " << s << "\n";
  if (g.json) {
    Json arr = Json::array();
    for (const auto& e : *r) arr.push_back({{"name", e.name}, {"members", e.members}});
    PrintJson({{"segments", arr}, {"skipped", skipped}});
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *r) rows.push_back({e.name, std::to_string(e.members)});
  std::cout << "Evaluated " << r->size() << " segment(s)\n";
  PrintTable({"segment", "members"}, rows);
  return 0;
}

int CmdSegmentShow(const Globals& g, const std::string& name) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  auto r = InspectSegment(**ws, name, 100, SegmentRunOptions());
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    Json hist = Json::array();
    for (const auto& h : r->history) hist.push_back({{"run_id", h.run_id}, {"members", h.members}, {"evaluated_at", FormatTimestamp(h.evaluated_at)}});
    Json rules = Json::array();
    if (r->counts) {
      for (const auto& rc : r->counts->rules) rules.push_back({{"members", rc.members}, {"running_total", rc.running_total}});
    }
    Json preview = Json::array();
    for (size_t i = 0; i < r->preview.num_rows(); ++i) {
      preview.push_back(Json(RowToJson(r->preview, i)));
    }
    Json problems = Json::array();
    for (const auto& p : r->problems) problems.push_back(p.ToString());
    PrintJson({{"name", name}, {"status", r->record.status}, {"definition", Json::parse(r->record.definition_json)},
               {"problems", problems}, {"members", r->stored_members >= 0 ? Json(r->stored_members) : Json(nullptr)},
               {"members_now", r->counts ? Json(r->counts->members) : Json(nullptr)}, {"rules", rules},
               {"history", hist}, {"preview", preview}});
    return 0;
  }
  const SegmentDefinition& d = r->definition;
  std::cout << "Segment " << name << (d.display_name.empty() ? "" : " (" + d.display_name + ")") << ": "
            << (d.type == SegmentType::kStatic ? "static" : "dynamic") << ", " << r->record.status << "\n";
  if (!d.description.empty()) std::cout << d.description << "\n";
  for (const auto& p : r->problems) std::cout << "problem: " << p.ToString() << "\n";
  if (r->stored_members >= 0) std::cout << "members: " << r->stored_members << "\n";
  if (r->counts) {
    std::cout << "inspection (evaluated now): " << r->counts->members << " members\n";
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < r->counts->rules.size(); ++i) {
      std::string op = i == 0 ? "" : std::string(d.rules[i].combine == SetOperator::kUnion ? "union" : d.rules[i].combine == SetOperator::kIntersect ? "intersect" : "except");
      rows.push_back({"rule " + std::to_string(i + 1), op, d.rules[i].entity, std::to_string(r->counts->rules[i].members),
                      std::to_string(r->counts->rules[i].running_total)});
    }
    PrintTable({"rule", "combine", "entity", "members alone", "running total"}, rows);
  }
  if (!r->history.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : r->history) rows.push_back({FormatTimestamp(h.evaluated_at), std::to_string(h.members)});
    std::cout << "history:\n";
    PrintTable({"evaluated at", "members"}, rows);
  }
  if (r->preview.num_rows() > 0) {
    std::cout << "first " << r->preview.num_rows() << " member(s):\n";
    PrintTableRows(r->preview, 100);
  }
  return 0;
}

int CmdSegmentMembers(const Globals& g, const std::string& name, const std::string& file, const std::string& format,
                      const std::string& out) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  if (name.empty() == file.empty()) return Fail(InvalidArgumentError("give a segment NAME or --file DEFINITION"));
  std::optional<SegmentDefinition> def;
  if (!file.empty()) {
    auto d = ReadSegmentFile(file);
    if (!d.ok()) return Fail(d.status());
    def = std::move(*d);
  }
  auto export_to = [&](std::ostream& o) {
    return def ? ExportDefinitionMembers(**ws, *def, format, o, SegmentRunOptions()) : ExportSegmentMembers(**ws, name, format, o);
  };
  StatusOr<int64_t> n = 0;
  if (out.empty() || out == "-") {
    n = export_to(std::cout);
  } else {
    // Written to a temporary file and renamed, so a failed export leaves no partial file.
    std::string tmp = out + ".partial";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) return Fail(UnavailableError("cannot write '" + tmp + "'"));
      n = export_to(f);
    }
    if (!n.ok()) {
      std::remove(tmp.c_str());
      return Fail(n.status());
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) return Fail(UnavailableError("cannot rename to '" + out + "'"));
    if (!g.json) std::cerr << "Wrote " << *n << " member(s) of " << (def ? def->name : name) << " to " << out << "\n";
  }
  if (!n.ok()) return Fail(n.status());
  return 0;
}

int CmdSegmentDelete(const Globals& g, const std::string& name) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  Status s = DeleteSegment(**ws, name);
  if (!s.ok()) return Fail(s);
  if (!g.json) std::cout << "Deleted segment " << name << "\n";
  return 0;
}

// ---- cdp apikey: API keys for the REST API (access/api_key_store.h) ----

// Audit entries written by the CLI carry the actor "cli".
void AuditFromCli(Workspace& ws, const std::string& action, const std::string& target, const Json& detail) {
  auto id = ws.catalog().AppendAudit("cli", action, target, detail.dump());
  if (!id.ok()) std::cerr << "warning: not recorded in the audit log: " << id.status().ToString() << "\n";
}

int CmdApiKeyCreate(const Globals& g, const std::string& role_text, const std::string& name_arg) {
  auto role = ParseRole(role_text);
  if (!role.ok()) return Fail(role.status());
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  std::string name = name_arg.empty() ? std::string(RoleName(*role)) : name_arg;
  ApiKeyStore store((*ws)->catalog());
  auto key = store.Create(name, *role, "cli");
  if (!key.ok()) return Fail(key.status());
  // The audit detail names the key by its public prefix, never the secret.
  AuditFromCli(**ws, "apikey.create", "apikey:" + std::to_string(key->id),
               {{"name", name}, {"role", RoleName(*role)}, {"prefix", key->key.substr(4, ApiKeyStore::kPrefixLength)}});
  if (g.json) {
    PrintJson({{"id", key->id}, {"name", name}, {"role", RoleName(*role)}, {"key", key->key}});
    return 0;
  }
  std::cerr << "Created API key " << key->id << " '" << name << "' with role " << RoleName(*role) << ".\n"
            << "Store it now: it is shown only this once and cannot be recovered (only its hash is kept).\n";
  std::cout << key->key << "\n";
  return 0;
}

int CmdApiKeyList(const Globals& g) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  ApiKeyStore store((*ws)->catalog());
  auto keys = store.List();
  if (!keys.ok()) return Fail(keys.status());
  // Whole seconds in the table; the JSON keeps the exact time.
  auto when = [](int64_t micros, const char* none) -> std::string {
    return micros ? FormatTimestamp(micros - micros % kMicrosPerSecond) : none;
  };
  if (g.json) {
    Json arr = Json::array();
    for (const auto& k : *keys) {
      arr.push_back({{"id", k.id}, {"name", k.name}, {"role", RoleName(k.role)}, {"prefix", k.prefix},
                     {"created_at", FormatTimestamp(k.created_at)}, {"created_by", k.created_by},
                     {"last_used_at", k.last_used_at ? Json(FormatTimestamp(k.last_used_at)) : Json(nullptr)},
                     {"revoked_at", k.revoked_at ? Json(FormatTimestamp(k.revoked_at)) : Json(nullptr)},
                     {"status", k.revoked_at ? "revoked" : "active"}});
    }
    PrintJson(arr);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : *keys) {
    rows.push_back({std::to_string(k.id), k.name, std::string(RoleName(k.role)), "cdp_" + k.prefix + "_...",
                    k.revoked_at ? "revoked " + when(k.revoked_at, "") : "active", when(k.created_at, ""), k.created_by,
                    when(k.last_used_at, "never")});
  }
  PrintTable({"id", "name", "role", "key", "status", "created", "by", "last used"}, rows);
  return 0;
}

int CmdApiKeyRevoke(const Globals& g, int64_t id) {
  auto ws = OpenWorkspace(g);
  if (!ws.ok()) return Fail(ws.status());
  ApiKeyStore store((*ws)->catalog());
  Status s = store.Revoke(id);
  if (!s.ok()) return Fail(s);
  AuditFromCli(**ws, "apikey.revoke", "apikey:" + std::to_string(id), Json::object());
  if (g.json) {
    PrintJson({{"id", id}, {"status", "revoked"}});
  } else {
    std::cout << "Revoked API key " << id << " (running servers stop accepting it within "
              << ApiKeyStore::kRecheckMicros / 1'000'000 << " s)\n";
  }
  return 0;
}

// Registers `cdp apikey create|list|revoke`.
void AddApiKeyCommands(CLI::App& app, Globals& g, int& exit_code) {
  auto* apikey = app.add_subcommand("apikey", "API keys for the REST API: create, list, revoke");
  apikey->require_subcommand(1);
  auto add_ws = [&g](CLI::App* sub) {
    sub->add_option("-w,--workspace", g.workspace, "workspace directory")->capture_default_str();
    sub->add_flag("--json", g.json, "print JSON for scripts");
  };
  // Owned by the CLI::App callbacks below, which run within app.parse().
  auto role = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto id = std::make_shared<int64_t>(0);
  auto* create = apikey->add_subcommand("create", "create a key (printed once: store it)");
  add_ws(create);
  create->add_option("--role", *role, "admin, contributor or viewer")
      ->required()
      ->check(CLI::IsMember({"admin", "contributor", "viewer"}));
  create->add_option("--name", *name, "a label for the key (default: the role)");
  create->callback([&g, &exit_code, role, name] { exit_code = CmdApiKeyCreate(g, *role, *name); });
  auto* list = apikey->add_subcommand("list", "list keys (never their secrets)");
  add_ws(list);
  list->callback([&g, &exit_code] { exit_code = CmdApiKeyList(g); });
  auto* revoke = apikey->add_subcommand("revoke", "revoke a key");
  add_ws(revoke);
  revoke->add_option("ID", *id, "key id (see `cdp apikey list`)")->required();
  revoke->callback([&g, &exit_code, id] { exit_code = CmdApiKeyRevoke(g, *id); });
}

int Main(int argc, char** argv) {
  CLI::App app{"cdp: an open-source Customer Data Platform"};
  app.require_subcommand(1);
  Globals g;
  auto add_ws = [&](CLI::App* sub) {
    sub->add_option("-w,--workspace", g.workspace, "workspace directory")->capture_default_str();
    sub->add_flag("--json", g.json, "print JSON for scripts");
  };
  int exit_code = 0;

  auto* init = app.add_subcommand("init", "create a workspace");
  std::string init_dir;
  init->add_option("DIR", init_dir, "directory of the new workspace")->required();
  init->add_flag("--json", g.json, "print JSON");
  init->callback([&] { exit_code = CmdInit(g, init_dir); });

  auto* apply = app.add_subcommand("apply", "load a project YAML file into the workspace");
  std::string apply_file;
  add_ws(apply);
  apply->add_option("FILE", apply_file, "project YAML file")->required()->check(CLI::ExistingFile);
  apply->callback([&] { exit_code = CmdApply(g, apply_file); });

  auto* exportc = app.add_subcommand("export-config", "print the applied project as YAML");
  std::string export_out;
  add_ws(exportc);
  exportc->add_option("-o,--out", export_out, "write to this file instead of stdout");
  exportc->callback([&] { exit_code = CmdExportConfig(g, export_out); });

  std::vector<std::string> ingest_sources;
  bool force = false;
  int threads = 0;
  auto* ingest = app.add_subcommand("ingest", "ingest sources (all, or the ones named)");
  add_ws(ingest);
  ingest->add_option("SOURCE", ingest_sources, "source names");
  ingest->add_flag("--force", force, "ingest even unchanged sources");
  ingest->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  ingest->callback([&] { exit_code = CmdIngest(g, ingest_sources, force, threads, "ingest"); });

  std::vector<std::string> run_sources, run_segments;
  auto* run = app.add_subcommand("run", "refresh: every pipeline stage whose inputs changed, in order");
  add_ws(run);
  run->add_flag("--force", force, "re-run stages whose inputs did not change");
  run->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  run->add_option("--source", run_sources, "refresh only this source (repeatable) and what depends on it");
  run->add_option("--segment", run_segments, "refresh only this segment (repeatable)");
  run->callback([&] { exit_code = CmdRun(g, force, threads, run_sources, run_segments); });

  int runs_limit = 20;
  auto* runs = app.add_subcommand("runs", "run history, newest first, with the stages of each refresh");
  add_ws(runs);
  runs->add_option("--limit", runs_limit, "number of runs")->capture_default_str()->check(CLI::PositiveNumber);
  runs->callback([&] { exit_code = CmdRuns(g, runs_limit); });

  bool preview = false;
  auto* unify = app.add_subcommand("unify", "unify the profile sources into Customer (map, dedup, match, merge)");
  add_ws(unify);
  unify->add_flag("--preview", preview, "run matching only and print statistics; write nothing");
  unify->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  unify->callback([&] { exit_code = CmdUnify(g, preview, threads, "unify"); });

  auto* activities = app.add_subcommand("activities", "link activity rows to customers and build UnifiedActivity");
  add_ws(activities);
  activities->callback([&] { exit_code = CmdActivities(g, "activities"); });

  std::string measure_name, as_of;
  auto* measures = app.add_subcommand("measures", "compute the measures (all; print one with NAME)");
  add_ws(measures);
  measures->add_option("NAME", measure_name, "a measure to print");
  measures->add_option("--as-of", as_of, "run date for time windows, YYYY-MM-DD (default: today)");
  measures->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  measures->callback([&] { exit_code = CmdMeasures(g, measure_name, as_of, threads, "measures"); });

  auto* segment = app.add_subcommand("segment", "segments: create, update, delete, list, run, show, members");
  segment->require_subcommand(1);
  std::string seg_file, seg_name, seg_entity = "Customer", seg_field, seg_op, seg_format = "csv", seg_out;
  std::vector<std::string> seg_values, seg_names;
  bool seg_static = false;
  for (auto [verb, mode] : {std::pair<const char*, SegmentSaveMode>{"create", SegmentSaveMode::kCreate},
                            {"update", SegmentSaveMode::kUpdate}}) {
    auto* sub = segment->add_subcommand(verb, std::string(verb) + " a segment from a file, or a quick segment from one field");
    add_ws(sub);
    sub->add_option("NAME", seg_name, "quick segment name");
    sub->add_option("--file", seg_file, "segment definition (YAML or JSON)");
    sub->add_option("--entity", seg_entity, "quick: Customer or Customer_Measure")->capture_default_str();
    sub->add_option("--field", seg_field, "quick: the field, e.g. State or AverageWebPurchase");
    sub->add_option("--op", seg_op, "quick: operator, e.g. equals, greater, between, in_last");
    sub->add_option("--value", seg_values, "quick: value(s)");
    sub->add_flag("--static", seg_static, "quick: a static segment (members frozen now)");
    SegmentSaveMode m = mode;
    sub->callback([&, m] {
      exit_code = CmdSegmentSave(g, m, seg_file, seg_name, seg_entity, seg_field, seg_op, seg_values, seg_static);
    });
  }
  auto* sdel = segment->add_subcommand("delete", "delete a segment and its members");
  add_ws(sdel);
  sdel->add_option("NAME", seg_name, "segment")->required();
  sdel->callback([&] { exit_code = CmdSegmentDelete(g, seg_name); });
  auto* slist = segment->add_subcommand("list", "list segments with status and member counts");
  add_ws(slist);
  slist->callback([&] { exit_code = CmdSegmentList(g); });
  auto* srun = segment->add_subcommand("run", "evaluate segments (all dynamic ones, or those named)");
  add_ws(srun);
  srun->add_option("NAME", seg_names, "segments");
  srun->add_option("--as-of", as_of, "run date, YYYY-MM-DD (default today)");
  srun->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  srun->callback([&] { exit_code = CmdSegmentRun(g, seg_names, as_of, threads); });
  auto* sshow = segment->add_subcommand("show", "a segment: counts per rule, history, first 100 members");
  add_ws(sshow);
  sshow->add_option("NAME", seg_name, "segment")->required();
  sshow->callback([&] { exit_code = CmdSegmentShow(g, seg_name); });
  auto* smem = segment->add_subcommand("members", "export all members (streamed)");
  add_ws(smem);
  smem->add_option("NAME", seg_name, "segment");
  smem->add_option("--file", seg_file, "evaluate this definition (YAML or JSON) instead of a saved segment");
  smem->add_option("--format", seg_format, "csv or jsonl")->capture_default_str();
  smem->add_option("--out", seg_out, "output file (default stdout)");
  smem->callback([&] { exit_code = CmdSegmentMembers(g, seg_name, seg_file, seg_format, seg_out); });

  int64_t customer_id = 0;
  std::string tl_type, tl_from, tl_to;
  int64_t tl_limit = -1;
  auto* timeline = app.add_subcommand("timeline", "a customer's activities in time order");
  add_ws(timeline);
  timeline->add_option("CUSTOMERID", customer_id, "a CustomerId")->required();
  timeline->add_option("--type", tl_type, "activity type (e.g. SalesOrder) or activity name");
  timeline->add_option("--from", tl_from, "first day, YYYY-MM-DD");
  timeline->add_option("--to", tl_to, "last day, YYYY-MM-DD");
  timeline->add_option("--limit", tl_limit, "only the newest N");
  timeline->callback([&] { exit_code = CmdTimeline(g, customer_id, tl_type, tl_from, tl_to, tl_limit); });

  auto* explain = app.add_subcommand("explain", "show the records of a customer and why they were merged");
  add_ws(explain);
  explain->add_option("CUSTOMERID", customer_id, "a CustomerId")->required();
  explain->callback([&] { exit_code = CmdExplain(g, customer_id); });

  std::string rec_a, rec_b;
  auto* explain_pair = app.add_subcommand("explain-pair", "compare two source records under every rule");
  add_ws(explain_pair);
  explain_pair->add_option("A", rec_a, "SOURCE:KEY")->required();
  explain_pair->add_option("B", rec_b, "SOURCE:KEY")->required();
  explain_pair->callback([&] { exit_code = CmdExplainPair(g, rec_a, rec_b); });

  auto* explain_model = app.add_subcommand("explain-model", "print the trained probabilistic model: m, u and weight per level");
  add_ws(explain_model);
  explain_model->callback([&] { exit_code = CmdExplainModel(g); });

  auto* override_cmd = app.add_subcommand("override", "match overrides: pairs of records that always or never match");
  override_cmd->require_subcommand(1);
  bool always = false, never = false;
  std::string note, override_file;
  int64_t override_id = 0;
  auto* oadd = override_cmd->add_subcommand("add", "add (or replace) an override");
  add_ws(oadd);
  oadd->add_option("A", rec_a, "SOURCE:KEY")->required();
  oadd->add_option("B", rec_b, "SOURCE:KEY")->required();
  oadd->add_flag("--always", always, "the two records are the same person");
  oadd->add_flag("--never", never, "the two records are different people");
  oadd->add_option("--note", note, "why");
  oadd->callback([&] { exit_code = CmdOverrideAdd(g, rec_a, rec_b, always, never, note); });
  auto* olist = override_cmd->add_subcommand("list", "list overrides");
  add_ws(olist);
  olist->callback([&] { exit_code = CmdOverrideList(g); });
  auto* orm = override_cmd->add_subcommand("remove", "remove an override");
  add_ws(orm);
  orm->add_option("ID", override_id, "override id")->required();
  orm->callback([&] { exit_code = CmdOverrideRemove(g, override_id); });
  auto* oimp = override_cmd->add_subcommand("import", "import overrides from a CSV file (source_a,key_a,source_b,key_b,kind[,note])");
  add_ws(oimp);
  oimp->add_option("FILE", override_file, "CSV file")->required()->check(CLI::ExistingFile);
  oimp->callback([&] { exit_code = CmdOverrideImport(g, override_file); });

  auto* entities = app.add_subcommand("entities", "list entities with row counts");
  add_ws(entities);
  entities->callback([&] { exit_code = CmdEntities(g); });

  std::string entity;
  int64_t limit = 20;
  auto* show = app.add_subcommand("show", "print rows of an entity");
  add_ws(show);
  show->add_option("ENTITY", entity, "entity name")->required();
  show->add_option("--limit", limit, "rows to print (-1 for all)")->capture_default_str();
  show->callback([&] { exit_code = CmdShow(g, entity, limit); });

  auto* quarantine = app.add_subcommand("quarantine", "list the quarantined rows of an entity");
  add_ws(quarantine);
  quarantine->add_option("ENTITY", entity, "entity name")->required();
  quarantine->add_option("--limit", limit, "rows to print (-1 for all)")->capture_default_str();
  quarantine->callback([&] { exit_code = CmdQuarantine(g, entity, limit); });

  auto* demo = app.add_subcommand("demo", "Contoso Coffee demo data");
  demo->require_subcommand(1);
  auto* gen = demo->add_subcommand("generate", "write the demo sources and a truth file");
  int64_t customers = 5000;
  uint64_t seed = 42;
  std::string out;
  gen->add_option("--customers", customers, "number of real people")->capture_default_str()->check(CLI::PositiveNumber);
  gen->add_option("--seed", seed, "random seed")->capture_default_str();
  gen->add_option("--out", out, "output directory")->required();
  gen->add_flag("--json", g.json, "print JSON");
  gen->callback([&] { exit_code = CmdDemoGenerate(g, customers, seed, out); });

  AddApiKeyCommands(app, g, exit_code);
  AddServeCommand(app, &g.workspace, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return exit_code;
}

}  // namespace
}  // namespace cdp

int main(int argc, char** argv) {
  try {
    return cdp::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: Internal: " << e.what() << "\n";
    return 1;
  }
}
