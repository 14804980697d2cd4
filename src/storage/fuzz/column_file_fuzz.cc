// libFuzzer target of the column file reader (storage/column_file.h): a
// corrupt file must give DataLoss, never a crash, an allocation beyond the
// fuzzer's limits or another status. Every file is opened and fully read
// (ReadAll, each row group, a projection); any status other than OK,
// DataLoss or (documented for projections only) InvalidArgument aborts.
//
// Checksums cover every byte, so random bytes would stop at the first
// checksum. The first input byte chooses how the rest becomes a file:
//   even: the rest is the file, with its footer and chunk checksums
//         recomputed when they can be located (mutations reach the footer
//         parser and zstd) -- and the same file as is, unfixed;
//   odd:  the rest describes a file field by field, and each chunk's bytes
//         are the *uncompressed* chunk, compressed here (mutations reach the
//         validity / IntBlock / byte-planar / string decoders):
//           u8 num_fields (mod 5), per field u8 type (mod 6),
//           u8 num_groups (mod 4), per group u16 rows,
//           per (group, column) u16 chars_size, u16 length, length bytes.
// With CDP_FUZZ_WRITE_SEEDS=<dir> the target writes its seed corpus (valid
// files of every type from ColumnFileWriter, in both forms) and exits.
#include <xxhash.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/column_file.h"
#include "storage/env.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "column_file_fuzz: %s\n", what.c_str());
  abort();
}

// ---- an in-memory Env: files are strings ----

class MemFile : public cdp::RandomAccessFile {
 public:
  explicit MemFile(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  cdp::StatusOr<size_t> Read(uint64_t offset, size_t n, char* dst) const override {
    if (offset >= bytes_->size()) return size_t{0};
    size_t k = std::min<uint64_t>(n, bytes_->size() - offset);
    std::memcpy(dst, bytes_->data() + offset, k);
    return k;
  }
  uint64_t Size() const override { return bytes_->size(); }

 private:
  std::shared_ptr<const std::string> bytes_;
};

class MemWritable : public cdp::WritableFile {
 public:
  explicit MemWritable(std::string* out) : out_(out) {}
  cdp::Status Append(std::string_view data) override {
    out_->append(data);
    return cdp::Status::Ok();
  }
  cdp::Status Sync() override { return cdp::Status::Ok(); }
  cdp::Status Close() override { return cdp::Status::Ok(); }

 private:
  std::string* out_;
};

class MemEnv : public cdp::Env {
 public:
  std::map<std::string, std::string> files;

  cdp::StatusOr<std::unique_ptr<cdp::WritableFile>> NewWritableFile(const std::string& path) override {
    files[path].clear();
    return std::unique_ptr<cdp::WritableFile>(new MemWritable(&files[path]));
  }
  cdp::StatusOr<std::unique_ptr<cdp::RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return cdp::NotFoundError(path);
    return std::unique_ptr<cdp::RandomAccessFile>(new MemFile(std::make_shared<const std::string>(it->second)));
  }
  cdp::StatusOr<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return cdp::NotFoundError(path);
    return it->second;
  }
  cdp::Status RenameFile(const std::string&, const std::string&) override { return Unsupported(); }
  cdp::Status DeleteFile(const std::string& path) override {
    files.erase(path);
    return cdp::Status::Ok();
  }
  cdp::Status CreateDir(const std::string&) override { return cdp::Status::Ok(); }
  cdp::Status RemoveDir(const std::string&) override { return cdp::Status::Ok(); }
  cdp::StatusOr<std::vector<std::string>> GetChildren(const std::string&) override { return Unsupported(); }
  bool FileExists(const std::string& path) override { return files.count(path) > 0; }
  cdp::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return cdp::NotFoundError(path);
    return uint64_t{it->second.size()};
  }
  cdp::Status SyncDir(const std::string&) override { return cdp::Status::Ok(); }
  cdp::StatusOr<std::unique_ptr<cdp::FileLock>> LockFile(const std::string&) override { return Unsupported(); }
  int64_t NowMicros() override { return 0; }

 private:
  static cdp::Status Unsupported() { return cdp::InternalError("not supported by the fuzz MemEnv"); }
};

// ---- little-endian bytes ----

struct Cursor {
  const uint8_t* p;
  size_t n;
  uint8_t U8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }
  std::string Bytes(size_t k) {
    k = std::min(k, n);
    std::string s(reinterpret_cast<const char*>(p), k);
    p += k;
    n -= k;
    return s;
  }
};

void PutU32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }
uint32_t GetU32(const std::string& s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}
uint64_t GetU64(const std::string& s, size_t at) {
  uint64_t v;
  std::memcpy(&v, s.data() + at, 8);
  return v;
}

constexpr char kMagic[] = "CDPCOLF1";
constexpr size_t kTail = 24;

struct ChunkRef {
  size_t meta_at;  // offset of the chunk's meta (offset, stored, chars, checksum) in the file
  uint64_t offset, stored, chars;
  uint8_t type;
  uint64_t rows;
};

// Locates the footer of `file` and the chunk metas in it; false if the
// footer cannot be walked (then nothing is fixed).
bool WalkFooter(const std::string& file, size_t* footer_start, std::vector<ChunkRef>* chunks,
                std::vector<uint8_t>* types) {
  if (file.size() < 8 + kTail) return false;
  uint64_t len = GetU64(file, file.size() - 16);
  if (len > file.size() - kTail - 8) return false;
  size_t at = file.size() - kTail - len, end = file.size() - kTail;
  *footer_start = at;
  auto need = [&](size_t k) { return end - at >= k; };
  if (!need(8)) return false;
  at += 4;  // version
  uint32_t num_fields = GetU32(file, at);
  at += 4;
  if (num_fields > 64) return false;
  types->clear();
  for (uint32_t i = 0; i < num_fields; ++i) {
    for (int str = 0; str < 2; ++str) {
      if (!need(4)) return false;
      uint32_t k = GetU32(file, at);
      at += 4;
      if (!need(k)) return false;
      at += k;
      if (str == 0) {
        if (!need(1)) return false;
        types->push_back(static_cast<uint8_t>(file[at++]));
      }
    }
  }
  if (!need(12)) return false;
  at += 8;  // num_rows
  uint32_t groups = GetU32(file, at);
  at += 4;
  for (uint32_t g = 0; g < groups; ++g) {
    if (!need(8)) return false;
    uint64_t rows = GetU64(file, at);
    at += 8;
    for (uint32_t c = 0; c < num_fields; ++c) {
      if (!need(32)) return false;
      chunks->push_back({at, GetU64(file, at), GetU64(file, at + 8), GetU64(file, at + 16), (*types)[c], rows});
      at += 32;
    }
  }
  return true;
}

// Recomputes the chunk checksums (where the chunk lies in the file) and the
// footer checksum.
std::string FixChecksums(std::string file) {
  size_t footer_start = 0;
  std::vector<ChunkRef> chunks;
  std::vector<uint8_t> types;
  if (file.size() < 8 + kTail) return file;
  if (WalkFooter(file, &footer_start, &chunks, &types)) {
    for (const ChunkRef& c : chunks) {
      if (c.offset <= footer_start && c.stored <= footer_start - c.offset) {
        uint64_t sum = XXH3_64bits(file.data() + c.offset, c.stored);
        std::memcpy(file.data() + c.meta_at + 24, &sum, 8);
      }
    }
  }
  uint64_t len = GetU64(file, file.size() - 16);
  if (len <= file.size() - kTail) {
    uint64_t sum = XXH3_64bits(file.data() + file.size() - kTail - len, len);
    std::memcpy(file.data() + file.size() - kTail, &sum, 8);
  }
  return file;
}

// Builds a file from the structured description (odd first byte).
std::string BuildFile(Cursor in) {
  const uint32_t num_fields = in.U8() % 5;
  std::vector<uint8_t> types;
  for (uint32_t i = 0; i < num_fields; ++i) types.push_back(in.U8() % 6);
  const uint32_t num_groups = in.U8() % 4;
  std::vector<uint64_t> rows;
  uint64_t total = 0;
  for (uint32_t g = 0; g < num_groups; ++g) {
    rows.push_back(in.U16());
    total += rows.back();
  }
  std::string file(kMagic, 8);
  std::vector<std::string> metas;
  for (uint32_t g = 0; g < num_groups; ++g) {
    std::string group_meta;
    PutU64(&group_meta, rows[g]);
    for (uint32_t c = 0; c < num_fields; ++c) {
      uint64_t chars = in.U16();
      std::string raw = in.Bytes(in.U16());
      std::string frame(ZSTD_compressBound(raw.size()), '\0');
      size_t k = ZSTD_compress(frame.data(), frame.size(), raw.data(), raw.size(), 1);
      if (ZSTD_isError(k)) Fail("ZSTD_compress failed");
      frame.resize(k);
      PutU64(&group_meta, file.size());
      PutU64(&group_meta, frame.size());
      PutU64(&group_meta, types[c] == 0 ? chars : 0);
      PutU64(&group_meta, XXH3_64bits(frame.data(), frame.size()));
      file += frame;
    }
    metas.push_back(group_meta);
  }
  std::string footer;
  PutU32(&footer, 2);
  PutU32(&footer, num_fields);
  for (uint32_t i = 0; i < num_fields; ++i) {
    std::string name = "f" + std::to_string(i);
    PutU32(&footer, name.size());
    footer += name;
    footer.push_back(static_cast<char>(types[i]));
    PutU32(&footer, 0);
  }
  PutU64(&footer, total);
  PutU32(&footer, num_groups);
  for (const auto& m : metas) footer += m;
  file += footer;
  PutU64(&file, XXH3_64bits(footer.data(), footer.size()));
  PutU64(&file, footer.size());
  file.append(kMagic, 8);
  return file;
}

void CheckStatus(const cdp::Status& s, const char* what, bool invalid_argument_ok) {
  if (s.ok() || s.code() == cdp::StatusCode::kDataLoss) return;
  if (invalid_argument_ok && s.code() == cdp::StatusCode::kInvalidArgument) return;
  Fail(std::string(what) + " returned " + s.ToString() + " (a corrupt file must be DataLoss)");
}

// Opens and reads `bytes` every way a caller does.
void ReadFile(MemEnv* env, const std::string& bytes) {
  env->files["/f.cdpc"] = bytes;
  auto r = cdp::ColumnFileReader::Open(env, "/f.cdpc");
  CheckStatus(r.status(), "Open", false);
  if (!r.ok()) return;
  const cdp::ColumnFileReader& reader = **r;
  auto all = reader.ReadAll();
  CheckStatus(all.status(), "ReadAll", false);
  if (all.ok() && all->num_rows() != reader.num_rows()) Fail("ReadAll returned another row count than the footer's");
  uint64_t rows = 0;
  for (size_t g = 0; g < reader.num_row_groups(); ++g) {
    auto t = reader.ReadRowGroup(g);
    CheckStatus(t.status(), "ReadRowGroup", false);
    if (t.ok() && t->num_rows() != reader.row_group_num_rows(g)) Fail("a row group has another row count than the footer's");
    rows += reader.row_group_num_rows(g);
  }
  if (rows != reader.num_rows()) Fail("row groups' rows do not add up to num_rows()");
  const int n = static_cast<int>(reader.schema().num_fields());
  if (n > 0) {
    std::vector<int> projection = {n - 1, 0};
    if (n == 1) projection = {0};
    CheckStatus(reader.ReadAll(&projection).status(), "ReadAll(projection)", false);
    std::vector<int> bad = {n};
    auto b = reader.ReadAll(&bad);
    if (b.ok() || b.status().code() != cdp::StatusCode::kInvalidArgument) {
      if (b.ok() || b.status().code() != cdp::StatusCode::kDataLoss) Fail("a column out of range is not InvalidArgument");
    }
  }
  (void)reader.ReadRowGroup(reader.num_row_groups());  // out of range: InvalidArgument
}

// ---- seeds ----

cdp::Table SeedTable(int variant) {
  using cdp::DataType;
  cdp::Schema schema({{"id", DataType::kInt64, {}},
                      {"name", DataType::kString, {}},
                      {"price", DataType::kDouble, {}},
                      {"vip", DataType::kBool, {}},
                      {"born", DataType::kDate, {}},
                      {"seen", DataType::kTimestamp, {}}});
  cdp::Table t(schema);
  const int rows = variant == 0 ? 3 : 40;
  for (int r = 0; r < rows; ++r) {
    bool null = variant == 1 && r % 3 == 1;
    auto& c = t;
    if (null) {
      for (size_t i = 0; i < 6; ++i) c.mutable_column(i).AppendNull();
    } else {
      c.mutable_column(0).AppendInt64(1000 + r * (variant == 2 ? 1000003 : 1));
      c.mutable_column(1).AppendString(std::string(r % 7, static_cast<char>('a' + r % 26)));
      c.mutable_column(2).AppendDouble(r * 1.25);
      c.mutable_column(3).AppendBool(r % 2 == 0);
      c.mutable_column(4).AppendDate(18000 + r);
      c.mutable_column(5).AppendTimestamp(int64_t{1600000000000000} + r * 1000000LL);
    }
    t.FinishRow();
  }
  return t;
}

void WriteSeed(const std::string& dir, const std::string& name, char mode, const std::string& bytes) {
  std::string path = dir + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) Fail("cannot write " + path);
  fputc(mode, f);
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
}

// Re-expresses a valid file in the structured (odd) form: its chunks decompressed.
std::string Structured(const std::string& file) {
  size_t footer_start = 0;
  std::vector<ChunkRef> chunks;
  std::vector<uint8_t> types;
  if (!WalkFooter(file, &footer_start, &chunks, &types)) Fail("seed footer");
  std::string out;
  out.push_back(static_cast<char>(types.size()));
  for (uint8_t t : types) out.push_back(static_cast<char>(t));
  size_t groups = types.empty() ? 0 : chunks.size() / types.size();
  out.push_back(static_cast<char>(groups));
  auto put16 = [&](uint64_t v) {
    if (v > 0xffff) Fail("seed too large");
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  };
  for (size_t g = 0; g < groups; ++g) put16(chunks[g * types.size()].rows);
  for (const ChunkRef& c : chunks) {
    std::string raw(ZSTD_getFrameContentSize(file.data() + c.offset, c.stored), '\0');
    size_t k = ZSTD_decompress(raw.data(), raw.size(), file.data() + c.offset, c.stored);
    if (ZSTD_isError(k)) Fail("seed decompress");
    put16(c.chars);
    put16(k);
    out.append(raw.data(), k);
  }
  return out;
}

void WriteSeeds(const char* dir) {
  for (int variant = 0; variant < 3; ++variant) {
    MemEnv env;
    cdp::ColumnFileOptions options;
    options.row_group_rows = variant == 0 ? 2 : 16;
    auto w = cdp::ColumnFileWriter::Create(&env, "/seed", SeedTable(variant).schema(), options);
    if (!w.ok()) Fail(w.status().ToString());
    if (!(*w)->Append(SeedTable(variant)).ok() || !(*w)->Finish().ok()) Fail("seed write");
    const std::string& file = env.files["/seed"];
    WriteSeed(dir, "file" + std::to_string(variant), '\0', file);
    WriteSeed(dir, "structured" + std::to_string(variant), '\1', Structured(file));
  }
  exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("CDP_FUZZ_WRITE_SEEDS")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static MemEnv* env = new MemEnv;
  Cursor in{data + 1, size - 1};
  if (data[0] & 1) {
    ReadFile(env, BuildFile(in));
  } else {
    std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
    ReadFile(env, file);
    ReadFile(env, FixChecksums(file));
  }
  return 0;
}
