// Test helpers for the ingest tests: a temporary directory removed on
// destruction, file writing, and raw batches built from rows of text.
// Test-only; not thread-safe.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/record_reader.h"

namespace cdp::ingest_internal {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cdp_ingest_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `content` to a file named `name` in the directory; returns its path.
  std::string Write(const std::string& name, std::string_view content) const {
    std::string p = path_ + "/" + name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Marks a null field in the rows given to MakeBatch.
inline constexpr const char* kNull = "\x01";

// Builds a batch from rows of text (kNull marks a null field); record r gets
// line first_line + r and the location "test.csv".
inline RawRecordBatch MakeBatch(const std::vector<std::vector<std::string>>& rows, int64_t first_line = 2) {
  RawRecordBatch b;
  b.Clear();
  b.location = "test.csv";
  size_t total = 0;
  for (const auto& row : rows) {
    for (const auto& v : row) total += v.size();
  }
  b.arena.reserve(total);  // no reallocation: the views below stay valid
  int64_t line = first_line;
  for (const auto& row : rows) {
    for (const auto& v : row) {
      const bool null = v == kNull;
      const size_t off = b.arena.size();
      if (!null) b.arena += v;
      b.fields.emplace_back(b.arena.data() + off, null ? 0 : v.size());
      b.is_null.push_back(null ? 1 : 0);
    }
    b.field_begin.push_back(static_cast<uint32_t>(b.fields.size()));
    b.line.push_back(line++);
  }
  return b;
}

}  // namespace cdp::ingest_internal
