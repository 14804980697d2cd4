// A Contoso Coffee demo workspace for tests: the demo generator's sources,
// `cdp init`, the example project (examples/contoso/project.yaml plus any of
// its companion files: predictions.yaml, enrichments.yaml, ...) applied as
// `cdp apply` does, and one refresh as `cdp run` does. Tests of the
// application layer (insights, predictions, exports, the server) share it
// instead of each repeating the steps. Not thread-safe (it writes `dir`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "demo/demo_generator.h"
#include "workspace/refresh_runner.h"
#include "workspace/workspace.h"

namespace cdp {

struct DemoWorkspaceOptions {
  std::string examples_dir;            // examples/contoso of the source tree (tests pass CDP_SOURCE_DIR)
  std::vector<std::string> yaml_files = {"project.yaml"};  // under examples_dir, concatenated in order
  int64_t customers = 500;
  uint64_t seed = 7;
  bool keep_segments = true;           // false: the project's segments are left out
  bool refresh = true;                 // run one refresh after applying
  int threads = 2;
  int32_t run_date = kDefaultDemoToday;
};

struct DemoWorkspace {
  std::string dir;  // sources in dir/sources, the workspace in dir/ws
  std::unique_ptr<Workspace> workspace;
  RefreshResult refresh;  // empty when options.refresh is false
};

// Generates, initialises, applies and refreshes in `dir` (removed first).
// The error names the step that failed; a refresh that ran but failed a stage
// is an error too (Internal, with the stage's message).
StatusOr<DemoWorkspace> MakeDemoWorkspace(const std::string& dir, const DemoWorkspaceOptions& options);

}  // namespace cdp
