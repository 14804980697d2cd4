#include "workspace/workspace.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "segment/segment_definition.h"

namespace cdp {
namespace fs = std::filesystem;

namespace {
constexpr const char* kCatalogFile = "catalog.db";
constexpr const char* kDataDir = "data";

// Catalog migration 6: a segment an older cdp kept only as YAML text in the
// project becomes a record of the segments table, validated on the next run.
StatusOr<SegmentRecord> ReadLegacySegment(const std::string& yaml_text) {
  CDP_ASSIGN_OR_RETURN(SegmentDefinition d, ParseSegmentYaml(yaml_text));
  std::vector<SegmentProblem> problems = {
      SegmentProblem{"", "moved out of the applied project by an upgrade; validated again on the next run"}};
  std::string state(SegmentStateName(StateAfterSave(d, problems)));
  return SegmentRecord{d.name, SegmentToJson(d, -1), state, nlohmann::json::array({problems[0].ToString()}).dump(), 0, 0};
}

CatalogOptions WorkspaceCatalogOptions() {
  CatalogOptions options;
  options.read_legacy_segment = ReadLegacySegment;
  return options;
}
}  // namespace

StatusOr<std::unique_ptr<Workspace>> Workspace::Init(const std::string& dir, Env* env) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec);
  if (fs::exists(root / kCatalogFile)) {
    return AlreadyExistsError("'" + dir + "' is already a workspace (found " + kCatalogFile + ")");
  }
  if (fs::exists(root) && !fs::is_directory(root)) {
    return InvalidArgumentError("'" + dir + "' exists and is not a directory");
  }
  fs::create_directories(root, ec);
  if (ec) return UnavailableError("cannot create workspace directory '" + dir + "': " + ec.message());
  CDP_ASSIGN_OR_RETURN(auto catalog, Catalog::Open((root / kCatalogFile).string(), WorkspaceCatalogOptions()));
  CDP_ASSIGN_OR_RETURN(auto data, DataStore::Open(env, (root / kDataDir).string()));
  return std::unique_ptr<Workspace>(new Workspace(root.string(), env, std::move(catalog), std::move(data)));
}

StatusOr<std::unique_ptr<Workspace>> Workspace::Open(const std::string& dir, Env* env) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec);
  if (!fs::exists(root / kCatalogFile)) {
    return NotFoundError("'" + dir + "' is not a workspace (no " + kCatalogFile + "); create one with `cdp init " +
                         dir + "`");
  }
  CDP_ASSIGN_OR_RETURN(auto catalog, Catalog::Open((root / kCatalogFile).string(), WorkspaceCatalogOptions()));
  CDP_ASSIGN_OR_RETURN(auto data, DataStore::Open(env, (root / kDataDir).string()));
  return std::unique_ptr<Workspace>(new Workspace(root.string(), env, std::move(catalog), std::move(data)));
}

Status CommitEntities(Workspace& workspace, const std::vector<std::pair<std::string, Table>>& outputs,
                      const std::vector<std::string>& removed, std::string_view stage) {
  if (outputs.empty() && removed.empty()) return Status::Ok();
  const std::string metadata = nlohmann::json{{"stage", stage}}.dump();
  CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
  for (const auto& [name, table] : outputs) {
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(name, table.schema(), metadata));
    CDP_RETURN_IF_ERROR(w->Append(table));
  }
  for (const auto& name : removed) CDP_RETURN_IF_ERROR(gen->RemoveEntity(name));
  return gen->Commit();
}

}  // namespace cdp
