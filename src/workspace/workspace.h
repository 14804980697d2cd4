// Workspace: one directory holding a product installation's state:
// catalog.db (definitions, run history), data/ (generations of entities).
// Thread-compatible; the catalog and data store are each thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "storage/data_store.h"
#include "storage/env.h"
#include "table/column.h"

namespace cdp {

class Workspace {
 public:
  // Creates a new workspace in `dir` (created if missing; it may exist if
  // empty). AlreadyExists if `dir` already holds a workspace.
  static StatusOr<std::unique_ptr<Workspace>> Init(const std::string& dir, Env* env = Env::Default());
  // Opens an existing workspace; NotFound (with a hint to run `cdp init`) if
  // `dir` is not one.
  static StatusOr<std::unique_ptr<Workspace>> Open(const std::string& dir, Env* env = Env::Default());

  const std::string& dir() const { return dir_; }
  Catalog& catalog() { return *catalog_; }
  DataStore& data() { return *data_; }
  Env* env() { return env_; }

 private:
  Workspace(std::string dir, Env* env, std::unique_ptr<Catalog> catalog, std::unique_ptr<DataStore> data)
      : dir_(std::move(dir)), env_(env), catalog_(std::move(catalog)), data_(std::move(data)) {}

  std::string dir_;
  Env* env_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<DataStore> data_;
};

// Writes `outputs` (entity name, rows) and removes `removed` in one new data
// generation, each written entity tagged with `stage`; nothing when both are
// empty. Nothing is visible to readers unless the commit succeeds.
Status CommitEntities(Workspace& workspace, const std::vector<std::pair<std::string, Table>>& outputs,
                      const std::vector<std::string>& removed, std::string_view stage);

}  // namespace cdp
