// `cdp segment create|update|delete|list|run|show|members`.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "common/value_text.h"
#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "segment/segment_definition.h"
#include "table/table_json.h"
#include "workspace/definitions.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

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
      int64_t n = 0;
      double x = 0;
      if (t == DataType::kInt64 && ParseInteger(text, &n)) return n;
      if (t == DataType::kDouble && ParseNumber(text, &x)) return x;
      if (t == DataType::kBool && (text == "true" || text == "false")) return text == "true";
    }
  }
  return text;
}

void PrintSaveResult(const Globals& g, SegmentType type, const SegmentSaveResult& r, const std::string& verb) {
  if (g.json) {
    Json j = {{"name", r.record.name}, {"status", r.record.status}, {"problems", Json::parse(r.record.problems_json)}};
    if (r.evaluation) j["members"] = r.evaluation->members;
    PrintJson(j);
    return;
  }
  std::cout << verb << " segment " << r.record.name << " (" << r.record.status << ")";
  if (r.evaluation) {
    std::cout << ": " << r.evaluation->members << " members" << (type == SegmentType::kStatic ? ", frozen" : "");
  }
  std::cout << "\n";
  for (const auto& p : r.problems) std::cerr << "problem: " << p.ToString() << "\n";
}

Status CmdSegmentSave(const Globals& g, SegmentSaveMode mode, const std::string& file, const std::string& quick_name,
                   const std::string& entity, const std::string& field, const std::string& op,
                   const std::vector<std::string>& values, bool is_static) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  SegmentDefinition d;
  if (!file.empty()) {
    auto parsed = ReadSegmentFile(file);
    if (!parsed.ok()) return parsed.status();
    d = std::move(*parsed);
  } else {
    if (quick_name.empty() || field.empty() || op.empty()) {
      return InvalidArgumentError("give --file DEFINITION, or a quick segment: NAME --field F --op OP [--value V ...] "
                                  "[--entity Customer|Customer_Measure]");
    }
    auto o = ParseConditionOp(op);
    if (!o) return InvalidArgumentError("--op: unknown operator '" + op + "'");
    std::vector<SegmentValue> typed;
    for (const auto& v : values) typed.push_back(TypedValue(*ws, entity, field, v));
    d = MakeQuickSegment(quick_name, entity, field, *o, typed);
    if (is_static) d.type = SegmentType::kStatic;
  }
  // Saved through the definitions service: a new dynamic segment is evaluated now when its data exists.
  auto r = SaveSegmentDefinition(*ws, d, mode);
  if (r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(r.status().message() + " (use `cdp segment update`)");
  }
  if (!r.ok()) return r.status();
  PrintSaveResult(g, d.type, r->saved, mode == SegmentSaveMode::kUpdate ? "Updated" : "Created");
  if (!g.json && r->members.state == "pending") std::cerr << "note: members not computed now: " << r->members.reason << "\n";
  return Status::Ok();
}

Status CmdSegmentList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto list = ws->catalog().ListSegments();
  if (!list.ok()) return list.status();
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *list) {
    auto d = ParseStoredSegmentJson(r.definition_json);
    auto h = ws->catalog().SegmentHistory(r.name, 1);
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
  return Status::Ok();
}

Status CmdSegmentRun(const Globals& g, const std::vector<std::string>& names, const std::string& as_of, int threads) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  SegmentRunOptions options;
  options.threads = threads;
  CDP_ASSIGN_OR_RETURN(options.run_date, ParseAsOf(as_of));
  std::vector<std::string> skipped;
  auto r = RunSegments(*ws, names, options, &skipped);
  if (!r.ok()) return r.status();
  for (const auto& s : skipped) std::cerr << "warning: skipped segment " << s << "\n";
  if (g.json) {
    Json arr = Json::array();
    for (const auto& e : *r) arr.push_back({{"name", e.name}, {"members", e.members}});
    PrintJson({{"segments", arr}, {"skipped", skipped}});
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *r) rows.push_back({e.name, std::to_string(e.members)});
  std::cout << "Evaluated " << r->size() << " segment(s)\n";
  PrintTable({"segment", "members"}, rows);
  return Status::Ok();
}

Status CmdSegmentShow(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto r = InspectSegment(*ws, name, 100, SegmentRunOptions());
  if (!r.ok()) return r.status();
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
    return Status::Ok();
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
  return Status::Ok();
}

Status CmdSegmentMembers(const Globals& g, const std::string& name, const std::string& file, const std::string& format,
                      const std::string& out) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  if (name.empty() == file.empty()) return InvalidArgumentError("give a segment NAME or --file DEFINITION");
  std::optional<SegmentDefinition> def;
  if (!file.empty()) {
    auto d = ReadSegmentFile(file);
    if (!d.ok()) return d.status();
    def = std::move(*d);
  }
  auto export_to = [&](std::ostream& o) {
    return def ? ExportDefinitionMembers(*ws, *def, format, o, SegmentRunOptions()) : ExportSegmentMembers(*ws, name, format, o);
  };
  StatusOr<int64_t> n = 0;
  if (out.empty() || out == "-") {
    n = export_to(std::cout);
  } else {
    // Written to a temporary file and renamed, so a failed export leaves no partial file.
    std::string tmp = out + ".partial";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) return UnavailableError("cannot write '" + tmp + "'");
      n = export_to(f);
    }
    if (!n.ok()) {
      std::remove(tmp.c_str());
      return n.status();
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) return UnavailableError("cannot rename to '" + out + "'");
    if (!g.json) std::cerr << "Wrote " << *n << " member(s) of " << (def ? def->name : name) << " to " << out << "\n";
  }
  if (!n.ok()) return n.status();
  return Status::Ok();
}

Status CmdSegmentDelete(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  Status s = DeleteSegmentDefinition(*ws, name);
  if (!s.ok()) return s;
  if (!g.json) std::cout << "Deleted segment " << name << "\n";
  return Status::Ok();
}

// ---- cdp apikey: API keys for the REST API (access/api_key_store.h) ----


}  // namespace

void AddSegmentCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    std::string file, name, entity = "Customer", field, op, format = "csv", out, as_of;
    std::vector<std::string> values, names;
    bool is_static = false;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* segment = app.add_subcommand("segment", "segments: create, update, delete, list, run, show, members, overlap, compare, expand, suggest, rfm, trend, activate, deactivate");
  segment->require_subcommand(1);
  for (auto [verb, mode] : {std::pair<const char*, SegmentSaveMode>{"create", SegmentSaveMode::kCreate},
                            {"update", SegmentSaveMode::kUpdate}}) {
    auto* sub = segment->add_subcommand(verb, std::string(verb) + " a segment from a file, or a quick segment from one field");
    cli.AddWorkspaceOptions(sub);
    sub->add_option("NAME", o->name, "quick segment name");
    sub->add_option("--file", o->file, "segment definition (YAML or JSON)");
    sub->add_option("--entity", o->entity, "quick: Customer or Customer_Measure")->capture_default_str();
    sub->add_option("--field", o->field, "quick: the field, e.g. State or AverageWebPurchase");
    sub->add_option("--op", o->op, "quick: operator, e.g. equals, greater, between, in_last");
    sub->add_option("--value", o->values, "quick: value(s)");
    sub->add_flag("--static", o->is_static, "quick: a static segment (members frozen now)");
    SegmentSaveMode m = mode;
    cli.OnRun(sub, [&cli, o, m] {
      return CmdSegmentSave(cli.g, m, o->file, o->name, o->entity, o->field, o->op, o->values, o->is_static);
    });
  }
  auto* sdel = segment->add_subcommand("delete", "delete a segment and its members");
  cli.AddWorkspaceOptions(sdel);
  sdel->add_option("NAME", o->name, "segment")->required();
  cli.OnRun(sdel, [&cli, o] { return CmdSegmentDelete(cli.g, o->name); });
  auto* slist = segment->add_subcommand("list", "list segments with status and member counts");
  cli.AddWorkspaceOptions(slist);
  cli.OnRun(slist, [&cli] { return CmdSegmentList(cli.g); });
  auto* srun = segment->add_subcommand("run", "evaluate segments (all dynamic ones, or those named)");
  cli.AddWorkspaceOptions(srun);
  srun->add_option("NAME", o->names, "segments");
  srun->add_option("--as-of", o->as_of, "run date, YYYY-MM-DD (default today)");
  CommandLine::AddThreadsOption(srun, &o->threads);
  cli.OnRun(srun, [&cli, o] { return CmdSegmentRun(cli.g, o->names, o->as_of, o->threads); });
  auto* sshow = segment->add_subcommand("show", "a segment: counts per rule, history, first 100 members");
  cli.AddWorkspaceOptions(sshow);
  sshow->add_option("NAME", o->name, "segment")->required();
  cli.OnRun(sshow, [&cli, o] { return CmdSegmentShow(cli.g, o->name); });
  auto* smem = segment->add_subcommand("members", "export all members (streamed)");
  cli.AddWorkspaceOptions(smem);
  smem->add_option("NAME", o->name, "segment");
  smem->add_option("--file", o->file, "evaluate this definition (YAML or JSON) instead of a saved segment");
  smem->add_option("--format", o->format, "csv or jsonl")->capture_default_str();
  smem->add_option("--out", o->out, "output file (default stdout)");
  cli.OnRun(smem, [&cli, o] { return CmdSegmentMembers(cli.g, o->name, o->file, o->format, o->out); });
  AddSegmentInsightCommands(cli, *segment);
}

}  // namespace cdp
