// A read-only input file read by offset (pread), used by the file connectors.
// Not thread-safe to share across threads without external synchronization of
// the object's lifetime; ReadAt itself has no shared cursor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace cdp::ingest_internal {

class InputFile {
 public:
  // NotFound if `path` does not exist; FailedPrecondition if it is a directory
  // or cannot be opened (permissions). Messages name the path.
  static StatusOr<std::unique_ptr<InputFile>> Open(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Reads up to n bytes at `offset` into dst; returns the count read (less
  // than n only at the end of the file). DataLoss on an I/O error.
  StatusOr<size_t> ReadAt(uint64_t offset, char* dst, size_t n) const;

 private:
  InputFile(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  int fd_;
  std::string path_;
  uint64_t size_;
};

}  // namespace cdp::ingest_internal
