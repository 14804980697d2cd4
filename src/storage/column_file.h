// The project's columnar file format (.cdpc): row groups of zstd-compressed,
// checksummed column chunks and a checksummed footer with the schema. The
// layout is documented at the top of column_file.cc.
// ColumnFileWriter is thread-compatible; ColumnFileReader's const methods may
// be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "storage/env.h"
#include "table/column.h"

namespace cdp {

struct ColumnFileOptions {
  int zstd_level = 1;
  // A row group is closed when it holds this many rows or when the next row
  // would take its uncompressed size past `row_group_bytes` (a single larger
  // row still forms a group). The writer buffers at most one row group,
  // plus pool->size() + 2 more with a pool.
  // 64K rows: with a pool the writer holds several row groups at once, and
  // on a 10-column ingest 128K-row groups cost ~30% more first-touch page
  // faults and ~8% of the 2-thread time (bench_ingest), for a 1-2% smaller file.
  size_t row_group_rows = 64 * 1024;
  size_t row_group_bytes = 64 << 20;
  // If set (not owned; must outlive the writer's Finish), full row groups are
  // compressed on this pool, one task per column chunk, while the writer
  // accepts more rows. The file's bytes are the same as without a pool.
  ThreadPool* pool = nullptr;
};

// One compressed column chunk of an EncodedRowGroup.
struct EncodedChunk {
  std::unique_ptr<char[]> data;  // `capacity` bytes, the chunk is the first `size`
  size_t capacity = 0;
  size_t size = 0;
  uint64_t chars_size = 0;
  uint64_t checksum = 0;
};

// A row group compressed apart from its file by ColumnFileWriter::
// EncodeRowGroup (on any thread), then written by AppendRowGroup. Reusing
// one keeps its buffers.
class EncodedRowGroup {
 public:
  uint64_t rows() const { return rows_; }

 private:
  friend class ColumnFileWriter;
  uint64_t rows_ = 0;
  std::vector<DataType> types_;
  std::vector<EncodedChunk> chunks_;
};

class ColumnFileWriter {
 public:
  // Compresses all rows of `batch` as one row group into *out (replacing
  // what it held, reusing its buffers), with options.zstd_level. Thread-safe:
  // threads encode row groups in parallel, and the writer appends them in
  // order, without copying the rows into its own buffers. InvalidArgument if
  // a column's size differs from the batch's rows or the level is out of range.
  static Status EncodeRowGroup(const Table& batch, const ColumnFileOptions& options, EncodedRowGroup* out);
  // Writes `group` as the next row group, after the rows appended so far
  // (which are written first). InvalidArgument if its columns' count or
  // types differ from the schema (or the schema has no fields); an empty
  // group writes nothing. I/O errors as Append.
  Status AppendRowGroup(const EncodedRowGroup& group);

  // Creates (truncating) `path` for a file of `schema`. InvalidArgument if
  // field names are not unique or an option is out of range; I/O errors from
  // `env`.
  static StatusOr<std::unique_ptr<ColumnFileWriter>> Create(Env* env, const std::string& path,
                                                            const Schema& schema,
                                                            const ColumnFileOptions& options = {});
  // Closes the file without a footer if Finish() was not called (the file is
  // then unreadable; its owner deletes it).
  ~ColumnFileWriter();
  ColumnFileWriter(const ColumnFileWriter&) = delete;
  ColumnFileWriter& operator=(const ColumnFileWriter&) = delete;

  // Appends all rows of `batch`. InvalidArgument if its schema differs from
  // the file's (names and types), its columns are not all num_rows() long,
  // or (for a schema without fields) the file would exceed 2^24 rows.
  // After an I/O error every later call returns that error.
  Status Append(const Table& batch);
  // Writes the buffered rows and the footer, fsyncs and closes the file.
  // Calling it again returns the first call's result; Append afterwards is
  // FailedPrecondition.
  Status Finish();

  const std::string& path() const { return path_; }
  const Schema& schema() const { return schema_; }
  // Rows accepted by Append so far (including rows still buffered).
  uint64_t rows_written() const { return rows_written_; }
  // Bytes written to the file so far.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct Impl;
  ColumnFileWriter(std::string path, Schema schema, std::unique_ptr<Impl> impl);

  std::string path_;
  Schema schema_;
  uint64_t rows_written_ = 0;
  uint64_t bytes_written_ = 0;
  std::unique_ptr<Impl> impl_;
};

class ColumnFileReader {
 public:
  // Opens `path` and validates its magic numbers and footer checksum.
  // NotFound if the file is missing; DataLoss naming the path if it is
  // truncated or corrupt.
  static StatusOr<std::unique_ptr<ColumnFileReader>> Open(Env* env, const std::string& path);
  ~ColumnFileReader();
  ColumnFileReader(const ColumnFileReader&) = delete;
  ColumnFileReader& operator=(const ColumnFileReader&) = delete;

  const std::string& path() const { return path_; }
  const Schema& schema() const { return schema_; }
  uint64_t num_rows() const { return num_rows_; }
  size_t num_row_groups() const;
  // Rows of row group `i` (0 if there is no such group).
  uint64_t row_group_num_rows(size_t i) const;

  // Row group `i`, with all columns or only `columns` (field indexes, in the
  // order given; the result's schema is the projected one). InvalidArgument
  // for an index out of range or a repeated column; DataLoss naming the path,
  // row group and column if a chunk fails its checksum or decodes to sizes
  // that disagree with the footer.
  StatusOr<Table> ReadRowGroup(size_t i, const std::vector<int>* columns = nullptr) const;
  // All rows as one table; same projection and errors as ReadRowGroup.
  StatusOr<Table> ReadAll(const std::vector<int>* columns = nullptr) const;

 private:
  struct Footer;
  ColumnFileReader(std::string path, std::unique_ptr<RandomAccessFile> file, std::unique_ptr<Footer> footer);
  // Row groups [first, end) concatenated, projected to `columns`.
  StatusOr<Table> ReadGroups(size_t first, size_t end, const std::vector<int>* columns) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  std::unique_ptr<Footer> footer_;
  Schema schema_;
  uint64_t num_rows_ = 0;
};

}  // namespace cdp
