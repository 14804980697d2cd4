// The customer search index (search/search_index.h) as the last stage of the
// refresh: `cdp run` and the server's refreshes leave <workspace>/index
// current with the data generation and the project's `search:` section. A
// marker file in the index directory names what it was built from, so a
// reader can tell a stale index. Functions here are writers of the index
// (one at a time per workspace; Xapian's lock refuses a second).
#pragma once

#include <string>

#include "common/status.h"
#include "config/project_config.h"
#include "storage/data_store.h"
#include "workspace/stage.h"
#include "workspace/workspace.h"

namespace cdp {

// <workspace>/index
std::string SearchIndexDir(const Workspace& workspace);

// The index stage: reads Customer, CustomerSourceKeys, the Segment_*
// members and the entities of related filters (Enrichment_*: the configured
// "ENTITY.FIELD" filters, or by default the affinity enrichments' Value and
// the engagement enrichments' EngagementLevel); skipped while there is no
// Customer.
StageDescriptor IndexStage();

struct SearchIndexUpdate {
  bool updated = false;  // false: the marker already named this generation and configuration
  int64_t customers = 0;
  int64_t added = 0, changed = 0, removed = 0, unchanged = 0;
};

// Brings the index up to date with `snapshot` and `project.search` unless
// its marker already names both (`force` updates anyway), then writes the
// marker through the workspace's Env (atomically). A snapshot without
// Customer changes nothing. Errors: those of SearchIndex::Update (e.g.
// InvalidArgument for a configured field not in Customer), storage errors.
// `threads`: threads building the index (0 = one per core).
StatusOr<SearchIndexUpdate> UpdateSearchIndex(Workspace& workspace, const Snapshot& snapshot,
                                              const ProjectConfig& project, bool force = false, int threads = 0);

}  // namespace cdp
