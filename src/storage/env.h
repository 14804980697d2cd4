// Env: the file-system and clock interface through which all storage file
// access goes, so tests can inject faults (LevelDB's Env). Env::Default() is
// POSIX. Env implementations are thread-safe; a WritableFile is used by one
// thread at a time; RandomAccessFile::Read may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

// I/O errors map to codes as follows: missing file or directory -> NotFound,
// no space or quota -> ResourceExhausted, anything else -> Internal. Messages
// name the operation and the path.

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends `data`. May buffer; the bytes are durable only after Sync().
  virtual Status Append(std::string_view data) = 0;
  // Flushes buffered bytes and makes all appended bytes durable (fdatasync).
  virtual Status Sync() = 0;
  // Flushes and closes. Further calls fail with FailedPrecondition. Closing
  // twice is OK. The destructor closes a file left open, ignoring errors.
  virtual Status Close() = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `dst` and returns how many were
  // read: fewer than `n` only at end of file. Thread-safe (pread).
  virtual StatusOr<size_t> Read(uint64_t offset, size_t n, char* dst) const = 0;
  // Size of the file when it was opened.
  virtual uint64_t Size() const = 0;
};

// An advisory exclusive lock, released when destroyed (or when the process
// dies, including by SIGKILL).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX Env; lives for the whole process.
  static Env* Default();

  // Creates `path`, or truncates it if it exists, for appending.
  virtual StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens an existing file for positional reads. NotFound if missing.
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  // The whole content of `path`. NotFound if missing.
  virtual StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // Atomically renames `from` to `to`, replacing `to` if it exists. The
  // rename is durable only after SyncDir of the directories involved.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Removes a file. NotFound if missing.
  virtual Status DeleteFile(const std::string& path) = 0;
  // Creates one directory level; OK if it already exists as a directory.
  // NotFound if the parent is missing.
  virtual Status CreateDir(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status RemoveDir(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", in no
  // particular order.
  virtual StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // fsync of the directory itself: makes creations, renames and deletions of
  // its entries durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive advisory lock (flock) on `path`, creating the file if
  // needed, without waiting. FailedPrecondition if another holder (another
  // process or another lock object in this process) has it.
  virtual StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
  // Wall-clock time, microseconds since the Unix epoch.
  virtual int64_t NowMicros() = 0;
};

// The directory part of `path` ("." when it has none).
std::string DirName(const std::string& path);

// Writes `content` to a new file at `path` (replacing one) and fsyncs it.
Status WriteFileDurably(Env* env, const std::string& path, std::string_view content);

// Replaces the file at `path` with `content` so that a crash leaves either
// the old or the new content: writes and fsyncs `path`.tmp, renames it over
// `path`, fsyncs the directory.
Status ReplaceFileAtomically(Env* env, const std::string& path, std::string_view content);

// An Env wrapper for crash tests (LevelDB's FaultInjectionTestEnv): counts
// mutating operations, fails chosen ones, and simulates a power loss that
// drops everything not yet durable. Thread-safe. The target Env must outlive
// it, and it must outlive the files it hands out.
//
// Mutating operations, counted from 0 after construction or ResetCounter():
// NewWritableFile, WritableFile::Append/Sync/Close, RenameFile, DeleteFile,
// CreateDir, RemoveDir, SyncDir. A failed operation has no effect and returns
// Internal("injected fault ...").
class FaultInjectionEnv : public Env {
 public:
  enum class FaultMode {
    kFailOnce,        // only operation #n fails (a transient I/O error)
    kFailFromThenOn,  // #n and every later one fail (the process "died" at n)
  };

  explicit FaultInjectionEnv(Env* target);
  ~FaultInjectionEnv() override;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // Makes mutating operation number `n` (and later ones, per `mode`) fail.
  void InjectFault(uint64_t n, FaultMode mode);
  void ClearFault();
  // Mutating operations attempted since construction / ResetCounter().
  uint64_t mutating_ops() const;
  void ResetCounter();
  // Operations failed on purpose so far.
  uint64_t faults_injected() const;

  // Simulates a power loss. Every file written through this Env is cut back
  // to the length it had at its last Sync (a file never synced becomes
  // empty). If `undo_unsynced_dir_ops`, file creations, renames, deletions
  // and directory creations/removals whose directory was not synced since
  // are undone, newest first (a deleted or overwritten file gets back its
  // durable content). Then forgets all tracking and clears the fault; files
  // still open fail every later call. Errors come from the target Env.
  Status SimulateCrash(bool undo_unsynced_dir_ops = true);

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  StatusOr<std::string> ReadFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status DeleteFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  int64_t NowMicros() override;

 private:
  class File;

  // A file written through us: where it is now, bytes appended, bytes durable.
  struct FileState {
    std::string path;
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  // A namespace change not yet made durable by SyncDir of all its `dirs`.
  struct DirOp {
    enum class Kind { kCreateFile, kRename, kDelete, kCreateDir, kRemoveDir } kind;
    std::string path;                        // created/deleted path, or rename source
    std::string to;                          // rename target
    std::optional<std::string> old_content;  // durable content of a deleted / replaced file
    std::set<std::string> dirs;              // directories still to be synced
  };

  // Counts a mutating operation and returns the injected fault, if any.
  Status MaybeFail(std::string_view op, const std::string& path);  // requires mu_
  // What a crash would leave of `path` now (nullopt if it does not exist).
  std::optional<std::string> DurableContent(const std::string& path);  // requires mu_
  void ForgetPath(const std::string& path);                            // requires mu_
  Status FileAppend(File* f, std::string_view data);
  Status FileSync(File* f);
  Status FileClose(File* f);
  void FileDestroyed(File* f);

  Env* const target_;
  mutable std::mutex mu_;  // guards everything below; held across target calls
  uint64_t ops_ = 0;
  std::optional<uint64_t> fault_at_;
  FaultMode fault_mode_ = FaultMode::kFailOnce;
  uint64_t faults_ = 0;
  uint64_t next_file_id_ = 0;
  std::map<uint64_t, FileState> files_;  // by file id
  std::set<File*> open_files_;
  std::vector<DirOp> dir_ops_;  // oldest first
};

}  // namespace cdp
