// POSIX implementation of Env.
#include "storage/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <atomic>
#include <thread>

namespace cdp {
namespace {

Status PosixError(std::string_view op, const std::string& path, int err) {
  std::string msg(op);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) { buf_.reserve(kBufferSize); }
  ~PosixWritableFile() override { (void)Close(); }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPreconditionError("append to closed file " + path_);
    if (buf_.size() + data.size() <= kBufferSize) {
      buf_.append(data.data(), data.size());
      return Status::Ok();
    }
    CDP_RETURN_IF_ERROR(Flush());
    if (data.size() >= kBufferSize) return WriteAll(data);
    buf_.append(data.data(), data.size());
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0) return FailedPreconditionError("sync of closed file " + path_);
    CDP_RETURN_IF_ERROR(Flush());
    CDP_RETURN_IF_ERROR(JoinBackgroundSync());
#ifdef __linux__
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
#else
    if (::fsync(fd_) != 0) return PosixError("fsync", path_, errno);
#endif
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    Status s = Flush();
    Status synced = JoinBackgroundSync();
    if (s.ok()) s = synced;
    if (::close(fd_) != 0 && s.ok()) s = PosixError("close", path_, errno);
    fd_ = -1;
    return s;
  }

 private:
  static constexpr size_t kBufferSize = 64 * 1024;

  Status Flush() {
    Status s = WriteAll(buf_);
    buf_.clear();
    return s;
  }

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      written_ += static_cast<uint64_t>(n);
    }
    // Every kBackgroundSyncBytes, make what was written so far durable on a
    // background thread (one at a time; skipped while one runs), so that
    // Sync() of a large file only waits for the last part instead of the
    // whole file (on a virtual disk the flush takes time in proportion to
    // the data since the last one).
    if (written_ - background_synced_ >= kBackgroundSyncBytes &&
        (!background_sync_.joinable() || background_done_.load(std::memory_order_acquire))) {
      if (background_sync_.joinable()) background_sync_.join();
      background_synced_ = written_;
      background_done_.store(false, std::memory_order_relaxed);
      background_sync_ = std::thread([this] {
        if (::fdatasync(fd_) != 0 && background_errno_ == 0) background_errno_ = errno;
        background_done_.store(true, std::memory_order_release);
      });
    }
    return Status::Ok();
  }

  // Waits for the background sync; its error is this file's error (a failed
  // fdatasync may not be reported again by the next one).
  Status JoinBackgroundSync() {
    if (background_sync_.joinable()) background_sync_.join();
    if (background_errno_ != 0) return PosixError("fdatasync", path_, background_errno_);
    return Status::Ok();
  }

  static constexpr uint64_t kBackgroundSyncBytes = 32 << 20;
  uint64_t written_ = 0;             // bytes written to fd_
  uint64_t background_synced_ = 0;   // written_ when the last background sync started
  std::thread background_sync_;
  std::atomic<bool> background_done_{false};
  int background_errno_ = 0;         // set by the background thread; read after it finished

  std::string path_;
  int fd_;
  std::string buf_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  PosixRandomAccessFile(const PosixRandomAccessFile&) = delete;
  PosixRandomAccessFile& operator=(const PosixRandomAccessFile&) = delete;

  StatusOr<size_t> Read(uint64_t offset, size_t n, char* dst) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("create", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  StatusOr<std::string> ReadFile(const std::string& path) override {
    CDP_ASSIGN_OR_RETURN(auto file, NewRandomAccessFile(path));
    std::string out;
    out.resize(file->Size());
    CDP_ASSIGN_OR_RETURN(size_t n, file->Read(0, out.size(), out.data()));
    out.resize(n);
    // The file may have grown since it was opened: read the rest too.
    char extra[4096];
    for (;;) {
      CDP_ASSIGN_OR_RETURN(size_t m, file->Read(out.size(), sizeof(extra), extra));
      if (m == 0) break;
      out.append(extra, m);
    }
    return out;
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename " + from + " to", to, errno);
    return Status::Ok();
  }

  Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("delete", path, errno);
    return Status::Ok();
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    return PosixError("create directory", path, err);
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return PosixError("remove directory", path, errno);
    return Status::Ok();
  }

  StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list directory", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(d);
    return names;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError("fsync directory", dir, errno);
    ::close(fd);
    return s;
  }

  StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open lock file", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return FailedPreconditionError("lock " + path + " is held by another writer");
      return PosixError("lock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

  int64_t NowMicros() override {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

Status WriteFileDurably(Env* env, const std::string& path, std::string_view content) {
  CDP_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  CDP_RETURN_IF_ERROR(file->Append(content));
  CDP_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

Status ReplaceFileAtomically(Env* env, const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  CDP_RETURN_IF_ERROR(WriteFileDurably(env, tmp, content));
  CDP_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace cdp
