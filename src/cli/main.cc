// cdp: the command-line interface. Parses arguments, calls the modules, and
// prints text or --json. Exit codes: 0 success, 1 failure, 2 usage error.
#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "common/datetime.h"
#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "workspace/ingest_runner.h"
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

Json ValueToJson(const Column& c, size_t row) {
  if (c.IsNull(row)) return nullptr;
  switch (c.type()) {
    case DataType::kInt64: return c.Int64At(row);
    case DataType::kDouble: {
      double d = c.DoubleAt(row);
      if (!std::isfinite(d)) return c.ValueToString(row);
      return d;
    }
    case DataType::kBool: return c.BoolAt(row);
    default: return c.ValueToString(row);
  }
}

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
  Status s = (*ws)->catalog().ReplaceProject(*project);
  if (!s.ok()) return Fail(s);
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
          {"rows_read", rec.rows_read},  {"rows_stored", rec.rows_stored},
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
      rows.push_back({rec.source, rec.status, std::to_string(rec.rows_read), std::to_string(rec.rows_stored),
                      std::to_string(rec.rows_quarantined), std::to_string(rec.rows_filtered), secs, rec.message});
    }
    std::cout << "Run " << result->run_id << (result->ok() ? " succeeded" : " FAILED") << "\n";
    PrintTable({"source", "status", "read", "stored", "quarantined", "filtered", "seconds", "message"}, rows);
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

  auto* run = app.add_subcommand("run", "full refresh: every stage of the pipeline");
  add_ws(run);
  run->add_flag("--force", force, "re-run stages whose inputs did not change");
  run->add_option("--threads", threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  run->callback([&] { exit_code = CmdIngest(g, {}, force, threads, "run"); });

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
