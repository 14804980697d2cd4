// Ingestion of declared sources into a workspace: reads each source through
// the connector registered for its kind (source_registry.h), types and
// filters rows, quarantines bad ones, and commits the entity and its
// quarantine as one new data generation. Unchanged file sources are skipped. Not thread-safe per workspace (the data store's writer
// lock keeps two processes from writing at once).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "workspace/source_registry.h"
#include "workspace/workspace.h"

namespace cdp {

struct IngestProgress {
  std::string source;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0 when unknown (databases)
  int64_t rows_read = 0;
};

struct IngestOptions {
  bool force = false;        // ingest even when the input did not change
  int threads = 0;           // 0 = all cores; 1 = everything on the calling thread
  size_t batch_rows = 16384; // records converted per batch
  uint64_t csv_range_bytes = 4ull << 20;  // CSV files are parsed in ranges of this size in parallel
  std::function<void(const IngestProgress&)> on_progress;
  // Connectors by source kind; null = SourceRegistry::Global().
  const SourceRegistry* connectors = nullptr;
};

// What happened to one source. status is "succeeded", "skipped" or "failed".
// The run report of a source is `record` (rows read = stored + quarantined +
// filtered) plus the physical lines of the input read: more than the rows
// when records span lines (quoted line breaks) or lines are blank.
// A field with a standardizer (`standardize:`): values of stored rows
// rewritten to the standard form, and values it did not know (kept as they were).
struct StandardizedField {
  std::string field;
  std::string standardizer;  // e.g. "state_code"
  int64_t standardized = 0;
  int64_t unknown = 0;
};

struct SourceIngestResult {
  SourceIngestRecord record;
  uint64_t bytes = 0;
  double seconds = 0;
  int64_t lines_read = 0;  // file sources (header and skipped lines included); 0 for databases and skipped sources
  std::vector<StandardizedField> standardized;  // one per field with a standardizer; empty when skipped or failed
};

// Ingests `source` (which must be a source of the applied project) as part
// of run `run_id`, and records the outcome in the catalog. A failed ingest
// (unreadable input; more bad rows than max_bad_rows allows - by default 5%
// of the rows read -, or every row bad; a CSV header without a declared
// field, or a header line in a file declared without one) leaves the
// entity's previous data current and is returned as a result with status
// "failed", not as an error; an error Status means the workspace itself
// could not be used (catalog or data store failure).
StatusOr<SourceIngestResult> IngestSource(Workspace& workspace, const ProjectConfig& project,
                                          const SourceConfig& source, int64_t run_id,
                                          const IngestOptions& options);

// Ingests the named sources (all when `names` is empty) in project order as
// one run of kind `run_kind`. NotFound for an unknown source name.
struct IngestRunResult {
  int64_t run_id = 0;
  std::vector<SourceIngestResult> sources;
  bool ok() const;
};
StatusOr<IngestRunResult> IngestSources(Workspace& workspace, const std::vector<std::string>& names,
                                        const IngestOptions& options, const std::string& run_kind = "ingest");

}  // namespace cdp
