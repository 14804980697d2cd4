// A refreshed Contoso Coffee workspace for tests and fuzz targets of the
// server: the demo sources, examples/contoso/project.yaml applied, and a
// refresh as of kDefaultDemoToday. Needs CDP_SOURCE_DIR (set for tests).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "common/status.h"
#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "segment/segment_definition.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace cdp::testing {

struct ContosoWorkspaceOptions {
  int customers = 60;
  uint64_t seed = 1;
  std::string workspace_name = "ws";  // the workspace is dir/<workspace_name>; sources go to dir/sources
  bool save_segments = false;         // save the project's segments (as the CLI's apply does) before the refresh
  int threads = 2;                    // refresh threads
};

// Generates the sources, creates and refreshes the workspace; the refresh's
// error when it fails.
inline StatusOr<std::unique_ptr<Workspace>> MakeContosoWorkspace(const std::filesystem::path& dir,
                                                                 const ContosoWorkspaceOptions& options) {
  DemoOptions demo;
  demo.customers = options.customers;
  demo.seed = options.seed;
  demo.out_dir = (dir / "sources").string();
  DemoSummary summary;
  CDP_RETURN_IF_ERROR(GenerateContosoDemo(demo, &summary));
  CDP_ASSIGN_OR_RETURN(auto ws, Workspace::Init((dir / options.workspace_name).string()));
  std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, ParseProjectYaml(yaml, "project.yaml", dir.string()));
  CDP_RETURN_IF_ERROR(ws->catalog().ReplaceProject(project));
  if (options.save_segments) {
    for (const auto& text : project.segments) {
      CDP_ASSIGN_OR_RETURN(SegmentDefinition d, ParseSegmentYaml(text));
      CDP_RETURN_IF_ERROR(SaveSegment(*ws, d, SegmentSaveMode::kUpsert, SegmentRunOptions()).status());
    }
  }
  RefreshOptions refresh;
  refresh.threads = options.threads;
  refresh.run_date = kDefaultDemoToday;
  CDP_ASSIGN_OR_RETURN(RefreshResult result, RunRefresh(*ws, refresh));
  if (!result.ok()) return InternalError("the Contoso refresh failed: " + result.error);
  return ws;
}

}  // namespace cdp::testing
