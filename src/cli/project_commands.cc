// `cdp init`, `cdp apply`, `cdp export-config`: the workspace and its definitions as code.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "config/project_config.h"
#include "segment/segment_definition.h"
#include "workspace/definitions.h"

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

// The file becomes the workspace's definitions (workspace/definitions.h):
// prints what changed per kind, and segments that wait for data.
Status CmdApply(const Globals& g, const std::string& file) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto project = LoadProjectFile(file);
  if (!project.ok()) return project.status();
  auto changes = ApplyProject(*ws, *project);
  if (!changes.ok()) return changes.status().WithContext(file);
  if (g.json) {
    Json names = Json::array();
    for (const auto& src : project->sources) names.push_back(src.name);
    PrintJson({{"project", project->name}, {"sources", names}, {"changes", changes->ToJson()}});
    return Status::Ok();
  }
  std::cout << "Applied " << file << ": " << project->sources.size() << " source(s)\n" << changes->Summary();
  auto segments = ws->catalog().ListSegments();
  if (!segments.ok()) return segments.status();
  for (const auto& r : *segments) {
    if (r.status != "active") {
      std::cerr << "note: segment " << r.name << " is " << r.status << " until the data it needs exists (`cdp run`)\n";
    }
  }
  return Status::Ok();
}

Status CmdExportConfig(const Globals& g, const std::string& out) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto project = ExportProject(*ws);  // every definition, segments included
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

  auto* apply = app.add_subcommand("apply", "make a project YAML file the workspace's definitions (what it lacks is removed)");
  auto file = std::make_shared<std::string>();
  cli.AddWorkspaceOptions(apply);
  apply->add_option("FILE", *file, "project YAML file")->required()->check(CLI::ExistingFile);
  cli.OnRun(apply, [&cli, file] { return CmdApply(cli.g, *file); });

  auto* exportc = app.add_subcommand("export-config", "print every definition of the workspace as project YAML");
  auto out = std::make_shared<std::string>();
  cli.AddWorkspaceOptions(exportc);
  exportc->add_option("-o,--out", *out, "write to this file instead of stdout");
  cli.OnRun(exportc, [&cli, out] { return CmdExportConfig(cli.g, *out); });
}

}  // namespace cdp
