#include "workspace/demo_test_workspace.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "config/project_config.h"
#include "workspace/definitions.h"

namespace cdp {

namespace fs = std::filesystem;

StatusOr<DemoWorkspace> MakeDemoWorkspace(const std::string& dir, const DemoWorkspaceOptions& options) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  DemoOptions demo;
  demo.customers = options.customers;
  demo.seed = options.seed;
  demo.out_dir = (fs::path(dir) / "sources").string();
  DemoSummary summary;
  Status generated = GenerateContosoDemo(demo, &summary);
  if (!generated.ok()) return InternalError("demo workspace: generate: " + generated.message());
  std::string yaml;
  for (const auto& file : options.yaml_files) {
    std::ifstream in(fs::path(options.examples_dir) / file);
    if (!in) return NotFoundError("demo workspace: cannot read " + (fs::path(options.examples_dir) / file).string());
    yaml.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!yaml.empty() && yaml.back() != '\n') yaml.push_back('\n');
  }
  DemoWorkspace out;
  out.dir = dir;
  auto ws = Workspace::Init((fs::path(dir) / "ws").string());
  if (!ws.ok()) return InternalError("demo workspace: init: " + ws.status().message());
  out.workspace = std::move(*ws);
  auto project = ParseProjectYaml(yaml, "project.yaml", dir);
  if (!project.ok()) return InvalidArgumentError("demo workspace: " + project.status().message());
  if (!options.keep_segments) project->segments.clear();
  auto applied = ApplyProject(*out.workspace, *project);
  if (!applied.ok()) return InternalError("demo workspace: apply: " + applied.status().message());
  if (!options.refresh) return out;
  RefreshOptions refresh;
  refresh.threads = options.threads;
  refresh.run_date = options.run_date;
  auto r = RunRefresh(*out.workspace, refresh);
  if (!r.ok()) return InternalError("demo workspace: refresh: " + r.status().message());
  if (!r->ok()) return InternalError("demo workspace: refresh: " + r->error);
  out.refresh = std::move(*r);
  return out;
}

}  // namespace cdp
