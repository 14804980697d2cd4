// DataStore: immutable generations of materialized entities in a workspace's
// data/ directory. One writer at a time (an flock, across processes) builds a
// new generation and switches to it atomically; readers keep the Snapshot
// they took. DataStore is thread-safe; a GenerationWriter is used by one
// thread.
//
// On disk: entity files NNNNNN-SSSS.cdpc (generation, sequence), one
// checksummed JSON manifest MANIFEST-NNNNNN per generation, CURRENT naming
// the live manifest (with a checksum), and LOCK.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "storage/column_file.h"
#include "storage/env.h"
#include "table/types.h"

namespace cdp {

struct EntityInfo {
  std::string name;  // user text, e.g. "eCommerce Contacts"
  std::string file;  // file name inside the data directory
  Schema schema;
  uint64_t num_rows = 0;
  int64_t written_at_micros = 0;
  uint64_t generation = 0;      // generation in which the file was written
  std::string properties_json;  // caller's JSON text, stored verbatim
};

struct Snapshot {
  uint64_t generation = 0;  // 0: nothing committed yet
  std::map<std::string, EntityInfo> entities;
};

struct DataStoreOptions {
  // Generations whose files are kept for readers of older snapshots,
  // counting the current one. At least 1.
  size_t generations_to_keep = 3;
  ColumnFileOptions file_options;
};

class GenerationWriter;

class DataStore {
 public:
  // Opens the store in `data_dir`, creating the directory (and missing
  // parents) if needed. Does not read the manifest. InvalidArgument for bad
  // options; I/O errors from `env`.
  static StatusOr<std::unique_ptr<DataStore>> Open(Env* env, const std::string& data_dir,
                                                   const DataStoreOptions& options = {});
  DataStore(const DataStore&) = delete;
  DataStore& operator=(const DataStore&) = delete;

  const std::string& dir() const { return dir_; }
  const DataStoreOptions& options() const { return options_; }

  // The committed generation: CURRENT, then its manifest. A store without
  // CURRENT is at generation 0 with no entities. DataLoss naming the file if
  // CURRENT or the manifest is corrupt or missing.
  StatusOr<Snapshot> Current() const;

  // Opens the file of entity `name` in `snapshot`. NotFound naming the entity
  // if the snapshot has none of that name; FailedPrecondition if the snapshot
  // is older than the retained generations and its file was collected;
  // DataLoss if a retained file is missing or corrupt.
  StatusOr<std::unique_ptr<ColumnFileReader>> OpenEntity(const Snapshot& snapshot,
                                                         const std::string& name) const;

  // Starts the next generation as a copy of the current entity set. Takes the
  // writer lock: FailedPrecondition "another process is writing workspace
  // ..." while another GenerationWriter (in any process) is alive. Removes
  // files left by crashed writers. DataLoss if the current generation is
  // unreadable.
  StatusOr<std::unique_ptr<GenerationWriter>> BeginGeneration();

 private:
  friend class GenerationWriter;
  DataStore(Env* env, std::string dir, DataStoreOptions options);
  std::string PathOf(const std::string& name) const { return dir_ + "/" + name; }
  StatusOr<Snapshot> ReadManifest(const std::string& manifest_name, uint64_t expected_generation) const;
  // Deletes manifests and entity files not needed by the last
  // `generations_to_keep` generations up to `current`, and stale temporaries.
  // Best effort: failures leave files for the next run.
  void CollectGarbage(uint64_t current) const;

  Env* const env_;
  const std::string dir_;
  const DataStoreOptions options_;
};

// Builds one generation. Entities not written or removed are carried over
// from the base generation unchanged. Destroying the writer without a
// successful Commit deletes its files and leaves the store as it was.
class GenerationWriter {
 public:
  ~GenerationWriter();
  GenerationWriter(const GenerationWriter&) = delete;
  GenerationWriter& operator=(const GenerationWriter&) = delete;

  // The generation this writer commits (base generation + 1).
  uint64_t generation() const { return generation_; }
  // The generation this one started from.
  const Snapshot& base() const { return base_; }

  // Starts a new file for entity `name` that replaces it in this generation;
  // append rows to the returned writer (owned by this object, valid until
  // Commit or destruction; Commit finishes it). InvalidArgument if `name` is
  // empty or not UTF-8, `properties_json` is not valid JSON (empty means
  // "{}"), or the schema is invalid; AlreadyExists if `name` was already
  // written in this generation.
  StatusOr<ColumnFileWriter*> WriteEntity(const std::string& name, const Schema& schema,
                                          const std::string& properties_json = "{}");
  // As above, with file options other than the store's (e.g. a thread pool
  // to compress on, see ColumnFileOptions::pool).
  StatusOr<ColumnFileWriter*> WriteEntity(const std::string& name, const Schema& schema,
                                          const std::string& properties_json, const ColumnFileOptions& options);
  // Drops entity `name` from this generation (discarding a file written for
  // it here). NotFound if the generation has no such entity.
  Status RemoveEntity(const std::string& name);
  // Finishes and fsyncs all files, writes and fsyncs the manifest, then
  // atomically switches CURRENT to it (write CURRENT.tmp, fsync, rename,
  // fsync the directory). Returns OK only once the new generation is
  // durable. On error the store is at the base generation, except when
  // only the final directory fsync failed (then it may be at either); the
  // writer cannot be reused. FailedPrecondition if called twice.
  Status Commit();

 private:
  friend class DataStore;
  struct PendingFile {
    std::string file;
    std::unique_ptr<ColumnFileWriter> writer;
    std::string properties_json;
  };
  GenerationWriter(DataStore* store, std::unique_ptr<FileLock> lock, Snapshot base);
  Status DoCommit();
  void DiscardFiles();

  DataStore* const store_;
  std::unique_ptr<FileLock> lock_;
  const Snapshot base_;
  const uint64_t generation_;
  std::map<std::string, EntityInfo> entities_;  // carried over, without the ones being written
  std::map<std::string, PendingFile> written_;  // by entity name
  uint32_t next_sequence_ = 1;
  bool done_ = false;      // Commit was called
  bool switched_ = false;  // CURRENT was renamed to the new manifest
  bool committed_ = false;
};

}  // namespace cdp
