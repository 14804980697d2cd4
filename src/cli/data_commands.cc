// `cdp ingest`, `cdp entities`, `cdp show`, `cdp quarantine`: sources in, entities out.
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "common/entity_names.h"
#include "table/table_json.h"
#include "workspace/ingest_runner.h"
#include "workspace/row_export.h"

namespace cdp {
namespace {

Json IngestResultJson(const SourceIngestResult& r) {
  const auto& rec = r.record;
  return {{"source", rec.source},        {"status", rec.status},
          {"rows_read", rec.rows_read},  {"lines_read", r.lines_read}, {"rows_stored", rec.rows_stored},
          {"rows_quarantined", rec.rows_quarantined}, {"rows_filtered", rec.rows_filtered},
          {"generation", rec.generation}, {"bytes", r.bytes},
          {"seconds", r.seconds},         {"message", rec.message}};
}

Status CmdIngest(const Globals& g, const std::vector<std::string>& sources, bool force, int threads,
              const std::string& kind) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
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
  auto result = IngestSources(*ws, sources, options, kind);
  bar.reset();
  if (!result.ok()) return result.status();
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
  if (!result->ok()) return CommandFailed("ingest run " + std::to_string(result->run_id) + " failed");
  return Status::Ok();
}

Status CmdEntities(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto snap = ws->data().Current();
  if (!snap.ok()) return snap.status();
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, info] : snap->entities) {
    if (IsInternalEntity(name)) continue;
    uint64_t quarantined = 0;
    auto q = snap->entities.find(QuarantineEntityName(name));
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
  return Status::Ok();
}

std::string NoSuchEntity(const std::string& entity) {
  return "no entity '" + entity + "' in this workspace; `cdp entities` lists them";
}

// Prints the first `limit` rows (all with limit < 0) of `entity` in `snap`.
Status PrintEntityRows(const Globals& g, Workspace& ws, const Snapshot& snap, const std::string& entity, int64_t limit,
                    const std::string& missing_hint) {
  if (!snap.entities.count(entity)) return NotFoundError(missing_hint);
  auto reader = ws.data().OpenEntity(snap, entity);
  if (!reader.ok()) return reader.status();
  const Schema& schema = (*reader)->schema();
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  int64_t printed = 0;
  for (size_t rg = 0; rg < (*reader)->num_row_groups() && (limit < 0 || printed < limit); ++rg) {
    auto table = (*reader)->ReadRowGroup(rg);
    if (!table.ok()) return table.status();
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
  return Status::Ok();
}

// With --format: every row (or the first --limit when given) as CSV or JSON
// Lines on stdout, streamed one row group at a time.
Status CmdShow(const Globals& g, const std::string& entity, int64_t limit, const std::string& format, bool limit_given) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  if (!format.empty()) {
    if (g.json) return InvalidArgumentError("--format and --json: give one of them");
    auto n = StreamEntityRows(*ws, entity, format, std::cout, limit_given ? limit : -1);
    if (n.status().code() == StatusCode::kNotFound) return NotFoundError(NoSuchEntity(entity));
    return n.status();
  }
  auto snap = ws->data().Current();
  if (!snap.ok()) return snap.status();
  return PrintEntityRows(g, *ws, *snap, entity, limit, NoSuchEntity(entity));
}

Status CmdQuarantine(const Globals& g, const std::string& entity, int64_t limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto snap = ws->data().Current();
  if (!snap.ok()) return snap.status();
  if (!snap->entities.count(entity)) {
    return NotFoundError(NoSuchEntity(entity));
  }
  return PrintEntityRows(g, *ws, *snap, QuarantineEntityName(entity), limit,
                         "entity '" + entity + "' has no quarantine");
}

}  // namespace

void AddDataCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    std::vector<std::string> sources;
    bool force = false;
    int threads = 0;
    std::string entity;
    int64_t limit = 20;
    std::string format;
  };
  auto o = std::make_shared<Options>();
  auto* ingest = app.add_subcommand("ingest", "ingest sources (all, or the ones named)");
  cli.AddWorkspaceOptions(ingest);
  ingest->add_option("SOURCE", o->sources, "source names");
  ingest->add_flag("--force", o->force, "ingest even unchanged sources");
  CommandLine::AddThreadsOption(ingest, &o->threads);
  cli.OnRun(ingest, [&cli, o] { return CmdIngest(cli.g, o->sources, o->force, o->threads, "ingest"); });

  auto* entities = app.add_subcommand("entities", "list entities with row counts");
  cli.AddWorkspaceOptions(entities);
  cli.OnRun(entities, [&cli] { return CmdEntities(cli.g); });

  auto* show = app.add_subcommand("show", "print rows of an entity");
  cli.AddWorkspaceOptions(show);
  show->add_option("ENTITY", o->entity, "entity name")->required();
  auto* show_limit = show->add_option("--limit", o->limit, "rows to print (-1 for all)")->capture_default_str();
  show->add_option("--format", o->format, "csv or jsonl: every row (or --limit rows), streamed to stdout")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  cli.OnRun(show, [&cli, o, show_limit] {
    return CmdShow(cli.g, o->entity, o->limit, o->format, show_limit->count() > 0);
  });

  auto* quarantine = app.add_subcommand("quarantine", "list the quarantined rows of an entity");
  cli.AddWorkspaceOptions(quarantine);
  quarantine->add_option("ENTITY", o->entity, "entity name")->required();
  quarantine->add_option("--limit", o->limit, "rows to print (-1 for all)")->capture_default_str();
  cli.OnRun(quarantine, [&cli, o] { return CmdQuarantine(cli.g, o->entity, o->limit); });
}

}  // namespace cdp
