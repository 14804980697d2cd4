// `cdp init`, `cdp apply`, `cdp export-config`: the workspace and its definitions as code.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "config/project_config.h"
#include "segment/segment_definition.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

Status CmdInit(const Globals& g, const std::string& dir) {
  CDP_ASSIGN_OR_RETURN(auto ws, Workspace::Init(dir));
  if (g.json) {
    PrintJson({{"workspace", ws->dir()}, {"catalog_version", ws->catalog().schema_version()}});
  } else {
    std::cout << "Created workspace " << ws->dir() << "\n";
  }
  return Status::Ok();
}

Status CmdApply(const Globals& g, const std::string& file) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto project = LoadProjectFile(file);
  if (!project.ok()) return project.status();
  // Segment definitions are parsed before anything is stored.
  std::vector<SegmentDefinition> segments;
  for (size_t i = 0; i < project->segments.size(); ++i) {
    auto d = ParseSegmentYaml(project->segments[i]);
    if (!d.ok()) return d.status().WithContext(file + ": segments[" + std::to_string(i) + "]");
    segments.push_back(std::move(*d));
  }
  Status s = ws->catalog().ReplaceProject(*project);
  if (!s.ok()) return s;
  for (const auto& d : segments) {
    auto r = SaveSegment(*ws, d, SegmentSaveMode::kUpsert, SegmentRunOptions());
    if (!r.ok()) return r.status().WithContext("segment '" + d.name + "'");
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
  return Status::Ok();
}

Status CmdExportConfig(const Globals& g, const std::string& out) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto project = ws->catalog().LoadProject();
  if (!project.ok()) return project.status();
  std::string yaml = EmitProjectYaml(*project);
  if (out.empty() || out == "-") {
    std::cout << yaml;
  } else {
    std::ofstream f(out, std::ios::binary);
    f << yaml;
    if (!f) return UnavailableError("cannot write '" + out + "'");
  }
  return Status::Ok();
}

}  // namespace

void AddProjectCommands(CommandLine& cli, CLI::App& app) {
  auto* init = app.add_subcommand("init", "create a workspace");
  auto dir = std::make_shared<std::string>();
  init->add_option("DIR", *dir, "directory of the new workspace")->required();
  init->add_flag("--json", cli.g.json, "print JSON");
  cli.OnRun(init, [&cli, dir] { return CmdInit(cli.g, *dir); });

  auto* apply = app.add_subcommand("apply", "load a project YAML file into the workspace");
  auto file = std::make_shared<std::string>();
  cli.AddWorkspaceOptions(apply);
  apply->add_option("FILE", *file, "project YAML file")->required()->check(CLI::ExistingFile);
  cli.OnRun(apply, [&cli, file] { return CmdApply(cli.g, *file); });

  auto* exportc = app.add_subcommand("export-config", "print the applied project as YAML");
  auto out = std::make_shared<std::string>();
  cli.AddWorkspaceOptions(exportc);
  exportc->add_option("-o,--out", *out, "write to this file instead of stdout");
  cli.OnRun(exportc, [&cli, out] { return CmdExportConfig(cli.g, *out); });
}

}  // namespace cdp
