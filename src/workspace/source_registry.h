// Source connectors by source kind: how the ingest opens a source's input.
// CSV and JSON Lines are registered by the workspace itself; optional
// integrations (connectors/postgres) register theirs at startup
// (RegisterPostgresConnector), so the core does not depend on them. Register
// before the first ingest; lookups are thread-safe (guarded by a mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/project_config.h"
#include "ingest/csv_reader.h"
#include "ingest/record_reader.h"

namespace cdp {

// How the ingest wants a source opened.
struct SourceOpenOptions {
  bool parallel = false;               // the ingest has threads: a connector may offer ranges
  uint64_t range_bytes = 4ull << 20;   // target size of a range
};

// An opened source. The ingest samples `reader` to infer types, then either
// continues it (records in order) or, when `ranges` is set, parses those in
// parallel instead (the reader was only for the sample).
struct OpenedSource {
  std::string location;                  // a path or "table crm.contacts": in messages and quarantine rows
  uint64_t total_bytes = 0;              // 0 when unknown (databases)
  std::unique_ptr<RecordReader> reader;  // never null
  std::unique_ptr<CsvRangeSplitter> ranges;
  CsvOptions range_options;              // how each range is parsed (with `ranges`)
};

struct SourceConnector {
  std::string kind;  // SourceKindName: "csv", "jsonl", "postgres", ...
  // A file named by `path` (resolved against the project): the ingest skips
  // it while its definition, size and content hash are unchanged.
  bool file = false;
  // The reader (or the ranges) hash the whole file while reading it, so the
  // file needs no hashing pass before an ingest that is not skipped.
  bool hashes_while_reading = false;
  // Opens the source. Errors name the source and what failed.
  std::function<StatusOr<OpenedSource>(const ProjectConfig&, const SourceConfig&, const SourceOpenOptions&)> open;
};

class SourceRegistry {
 public:
  SourceRegistry() = default;
  SourceRegistry(const SourceRegistry&) = delete;
  SourceRegistry& operator=(const SourceRegistry&) = delete;

  // AlreadyExists when the kind is registered; InvalidArgument without a
  // kind or an open function.
  Status Register(SourceConnector connector);
  // The connector of `source`'s kind; FailedPrecondition naming the source
  // and the kind when none is registered.
  StatusOr<const SourceConnector*> Find(const SourceConfig& source) const;

  // The process's registry, with csv and jsonl registered.
  static SourceRegistry& Global();

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<SourceConnector>, std::less<>> connectors_;  // GUARDED_BY(mu_)
};

// Registers csv and jsonl (done for Global()).
void RegisterFileConnectors(SourceRegistry& registry);

}  // namespace cdp
