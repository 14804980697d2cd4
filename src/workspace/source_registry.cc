#include "workspace/source_registry.h"

#include <algorithm>

#include "ingest/jsonl_reader.h"

namespace cdp {

Status SourceRegistry::Register(SourceConnector connector) {
  if (connector.kind.empty() || !connector.open) {
    return InvalidArgumentError("a source connector needs a kind and an open function");
  }
  std::lock_guard<std::mutex> l(mu_);
  if (connectors_.count(connector.kind)) {
    return AlreadyExistsError("a connector for sources of kind '" + connector.kind + "' is already registered");
  }
  std::string kind = connector.kind;
  connectors_.emplace(std::move(kind), std::make_unique<SourceConnector>(std::move(connector)));
  return Status::Ok();
}

StatusOr<const SourceConnector*> SourceRegistry::Find(const SourceConfig& source) const {
  std::string_view kind = SourceKindName(source.kind);
  std::lock_guard<std::mutex> l(mu_);
  auto it = connectors_.find(kind);
  if (it == connectors_.end()) {
    std::string known;
    for (const auto& [k, c] : connectors_) known += (known.empty() ? "" : ", ") + k;
    return FailedPreconditionError("source '" + source.name + "' is of kind '" + std::string(kind) +
                                   "', and no connector for that kind is registered in this program (registered: " +
                                   (known.empty() ? "none" : known) + ")");
  }
  return it->second.get();  // connectors are never removed
}

SourceRegistry& SourceRegistry::Global() {
  static SourceRegistry* registry = [] {
    auto* r = new SourceRegistry();
    RegisterFileConnectors(*r);
    return r;
  }();
  return *registry;
}

void RegisterFileConnectors(SourceRegistry& registry) {
  SourceConnector csv;
  csv.kind = std::string(SourceKindName(SourceKind::kCsv));
  csv.file = true;
  csv.hashes_while_reading = true;
  csv.open = [](const ProjectConfig& project, const SourceConfig& source,
                const SourceOpenOptions& options) -> StatusOr<OpenedSource> {
    OpenedSource out;
    out.location = project.ResolvePath(source.path);
    CsvOptions csv;
    csv.delimiter = source.csv.delimiter[0];
    csv.skip_space_after_delimiter = source.csv.skip_space_after_delimiter;
    csv.has_header = source.csv.header;
    csv.skip_lines = source.csv.skip_rows;
    if (options.parallel) {
      // The sample needs about a megabyte: no need to read a whole block.
      CsvOptions sample = csv;
      sample.block_size = std::min<size_t>(sample.block_size, size_t{1} << 20);
      CDP_ASSIGN_OR_RETURN(out.reader, OpenCsvFile(out.location, sample));
      CDP_ASSIGN_OR_RETURN(out.ranges, CsvRangeSplitter::Open(out.location, csv, options.range_bytes));
      out.range_options = csv;
    } else {
      CDP_ASSIGN_OR_RETURN(out.reader, OpenCsvFile(out.location, csv));
    }
    out.total_bytes = out.reader->total_bytes();
    return out;
  };
  (void)registry.Register(std::move(csv));

  SourceConnector jsonl;
  jsonl.kind = std::string(SourceKindName(SourceKind::kJsonLines));
  jsonl.file = true;
  jsonl.open = [](const ProjectConfig& project, const SourceConfig& source,
                  const SourceOpenOptions&) -> StatusOr<OpenedSource> {
    OpenedSource out;
    out.location = project.ResolvePath(source.path);
    JsonLinesOptions options;
    options.max_depth = static_cast<size_t>(source.jsonl.max_depth);
    CDP_ASSIGN_OR_RETURN(out.reader, OpenJsonLinesFile(out.location, options));
    out.total_bytes = out.reader->total_bytes();
    return out;
  };
  (void)registry.Register(std::move(jsonl));
}

}  // namespace cdp
