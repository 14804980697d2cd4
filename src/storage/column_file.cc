// Column file format (.cdpc), all integers little-endian:
//
//   File     := Magic Chunk* Footer Tail
//   Magic    := "CDPCOLF1"
//   Chunk    := one zstd frame per (row group, column), row groups in order
//               and columns in schema order. For a column of n rows the frame
//               decompresses to:
//                 validity  ceil(n/64) u64 words, bit set = value present
//                 values    int64/timestamp/date: IntBlock of the n values
//                           double: n x 8 bytes, byte-planar (byte 0 of every
//                             value, then byte 1, ...)
//                           bool: n x 1 (0 or 1; null slots hold zero)
//                           string: IntBlock of the n lengths (0 for null),
//                             then the characters
//   IntBlock := u8 width w (0..8), u64 base, n x w bytes: value i is
//               base + (unsigned w-byte d_i), modulo 2^64 (frame of
//               reference). Null slots store d = 0 and read as zero; base
//               and w cover the present values only.
//   Footer   := u32 version (2)
//               u32 num_fields, per field: Str name, u8 DataType, Str semantic
//               u64 num_rows
//               u32 num_row_groups, per group: u64 rows, then per column:
//                 u64 offset, u64 stored_size, u64 chars_size (0 unless
//                 string), u64 checksum = XXH3_64bits(stored bytes)
//   Str      := u32 length, bytes
//   Tail     := u64 XXH3_64bits(Footer), u64 Footer length, Magic
//
// Every byte of the file is covered by a magic number or a checksum, so a
// reader reports corruption (DataLoss) instead of returning wrong data.
//
// Why the encodings: zstd's time grows with its input, and typical columns
// (ids, small counts, dates, timestamps, string lengths) use few of their 8
// bytes. Frame-of-reference packing to whole bytes halves the input of a
// typical table and makes writing about twice as fast at the same or better
// ratio; byte-planar doubles let zstd find the repetitive exponent bytes.
// Each chunk is compressed in one call from one contiguous buffer (no
// streaming copy into zstd's window).
#include "storage/column_file.h"

#include "common/parallel.h"

#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <set>

#include "common/thread_pool.h"

namespace cdp {

static_assert(std::endian::native == std::endian::little,
              "the column file format assumes a little-endian host");

namespace {

constexpr char kMagic[8] = {'C', 'D', 'P', 'C', 'O', 'L', 'F', '1'};
constexpr size_t kMagicSize = sizeof(kMagic);
constexpr size_t kTailSize = 8 + 8 + kMagicSize;
constexpr uint32_t kFormatVersion = 2;
constexpr size_t kChunkMetaSize = 4 * 8;
// zstd cannot expand data by more than this per stored byte (an RLE block of
// 4 bytes holds at most 128 KiB), so larger claims are corruption.
constexpr uint64_t kMaxZstdRatio = 32 * 1024;
constexpr uint64_t kMaxRowsPerGroup = uint64_t{1} << 40;
// A file without columns stores only a row count; reading it materializes
// the rows one by one, so the count is bounded.
constexpr uint64_t kMaxRowsWithoutColumns = uint64_t{1} << 24;
// Readers reserve memory assuming at most this compression ratio; beyond it
// buffers grow as verified data arrives.
constexpr uint64_t kReserveRatio = 64;

// Width in bytes of one value of a fixed-width type (0 for strings).
size_t ValueWidth(DataType type) {
  switch (type) {
    case DataType::kInt64:
    case DataType::kTimestamp:
    case DataType::kDouble:
      return 8;
    case DataType::kDate:
      return 4;
    case DataType::kBool:
      return 1;
    case DataType::kString:
      return 0;
  }
  return 0;
}

// Bytes of an IntBlock header (u8 width, u64 base).
constexpr size_t kIntHeaderSize = 9;
// Packed integers are loaded and stored 8 bytes at a time, so buffers holding
// them have this many bytes of slack.
constexpr size_t kSlack = 8;

bool IsIntBlockType(DataType type) {
  return type == DataType::kInt64 || type == DataType::kTimestamp || type == DataType::kDate ||
         type == DataType::kString;
}

// Smallest and largest uncompressed size of a chunk of `rows` rows (strings:
// plus `chars`); they differ by the IntBlock width. Cannot overflow for
// rows <= 2^40 and chars < 2^62.
uint64_t MinChunkRawSize(DataType type, uint64_t rows, uint64_t chars) {
  const uint64_t validity = (rows + 63) / 64 * 8;
  switch (type) {
    case DataType::kDouble:
      return validity + rows * 8;
    case DataType::kBool:
      return validity + rows;
    case DataType::kString:
      return validity + kIntHeaderSize + chars;
    default:
      return validity + kIntHeaderSize;
  }
}
uint64_t MaxChunkRawSize(DataType type, uint64_t rows, uint64_t chars) {
  return MinChunkRawSize(type, rows, chars) + (IsIntBlockType(type) ? rows * 8 : 0);
}

bool ValidDataType(uint8_t t) { return t <= static_cast<uint8_t>(DataType::kTimestamp); }

uint64_t LoadU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

template <typename T>
const char* Bytes(const std::vector<T>& v) {
  return reinterpret_cast<const char*>(v.data());
}

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// A growable uninitialized byte buffer.
class ScratchBuffer {
 public:
  char* Reserve(size_t n) {
    if (n > cap_) {
      data_ = std::make_unique_for_overwrite<char[]>(n);
      cap_ = n;
    }
    return data_.get();
  }
  const char* data() const { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
};

// Appends bits [src_bit, src_bit + count) of the bitmap `src` (little-endian
// u64 words, possibly unaligned in memory) at bit `dst_bits` of `dst`.
void AppendBits(std::vector<uint64_t>& dst, size_t dst_bits, const char* src, size_t src_bit, size_t count) {
  if (count == 0) return;
  dst.resize((dst_bits + count + 63) / 64, 0);
  if ((dst_bits & 63) == 0 && (src_bit & 63) == 0) {
    size_t words = (count + 63) / 64;
    std::memcpy(dst.data() + dst_bits / 64, src + (src_bit / 64) * 8, words * 8);
    if (count & 63) dst.back() &= (uint64_t{1} << (count & 63)) - 1;
    return;
  }
  size_t done = 0;
  while (done < count) {
    size_t d = dst_bits + done;
    size_t take = std::min<size_t>(64 - (d & 63), count - done);
    size_t s = src_bit + done;
    size_t shift = s & 63;
    uint64_t bits = LoadU64(src + (s / 64) * 8) >> shift;
    if (shift != 0 && shift + take > 64) bits |= LoadU64(src + (s / 64 + 1) * 8) << (64 - shift);
    if (take < 64) bits &= (uint64_t{1} << take) - 1;
    dst[d / 64] |= bits << (d & 63);
    done += take;
  }
}

// True if any of the first `rows` bits of `validity` is clear.
bool HasNulls(const uint64_t* validity, size_t rows) {
  const size_t full = rows / 64;
  for (size_t i = 0; i < full; ++i) {
    if (validity[i] != ~uint64_t{0}) return true;
  }
  if (rows & 63) {
    const uint64_t mask = (uint64_t{1} << (rows & 63)) - 1;
    if ((validity[full] & mask) != mask) return true;
  }
  return false;
}

// Whole bytes needed for values in [0, range].
unsigned ByteWidth(uint64_t range) {
  return range == 0 ? 0 : static_cast<unsigned>((64 - std::countl_zero(range) + 7) / 8);
}

// Writes an IntBlock of the n values get(i) at `dst`, which needs room for
// kIntHeaderSize + 8 * n + kSlack bytes; returns the bytes written. With
// `validity`, rows whose bit is clear are nulls (stored as 0, not counted for
// base and width).
template <typename Get>
size_t PackInts(size_t n, const uint64_t* validity, Get get, char* dst) {
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  if (validity == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = get(i);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      if ((validity[i >> 6] >> (i & 63)) & 1) {
        const int64_t v = get(i);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (lo > hi) lo = hi = 0;  // no present value
  const uint64_t base = static_cast<uint64_t>(lo);
  const unsigned w = ByteWidth(static_cast<uint64_t>(hi) - base);
  dst[0] = static_cast<char>(w);
  std::memcpy(dst + 1, &base, 8);
  char* p = dst + kIntHeaderSize;
  if (w == 0) return kIntHeaderSize;
  if (validity == nullptr) {
    for (size_t i = 0; i < n; ++i, p += w) {
      const uint64_t d = static_cast<uint64_t>(get(i)) - base;
      std::memcpy(p, &d, 8);
    }
  } else {
    for (size_t i = 0; i < n; ++i, p += w) {
      const uint64_t present = (validity[i >> 6] >> (i & 63)) & 1;
      const uint64_t d = (static_cast<uint64_t>(get(i)) - base) & (0 - present);
      std::memcpy(p, &d, 8);
    }
  }
  return kIntHeaderSize + n * w;
}

// Reads the n values of the IntBlock payload `src` (width w, base) into
// out[i]; `src` has kSlack readable bytes past its end.
template <typename T>
void UnpackInts(const char* src, size_t n, unsigned w, uint64_t base, T* out) {
  if (w == 0) {
    std::fill(out, out + n, static_cast<T>(base));
    return;
  }
  const uint64_t mask = w == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * w)) - 1;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(base + (LoadU64(src + i * w) & mask));
}

// Sets out[i] to zero for every row i < n whose validity bit is clear.
template <typename T>
void ZeroNullSlots(const char* validity, size_t n, T* out) {
  for (size_t word = 0; word * 64 < n; ++word) {
    uint64_t missing = ~LoadU64(validity + word * 8);
    const size_t left = n - word * 64;
    if (left < 64) missing &= (uint64_t{1} << left) - 1;
    while (missing != 0) {
      out[word * 64 + static_cast<size_t>(std::countr_zero(missing))] = 0;
      missing &= missing - 1;
    }
  }
}

// Byte-planar layout of n 8-byte values: dst[b * n + i] = byte b of value i.
void ShuffleBytes(const char* src, size_t n, char* dst) {
  for (size_t i = 0; i < n; ++i) {
    const uint64_t v = LoadU64(src + i * 8);
    for (size_t b = 0; b < 8; ++b) dst[b * n + i] = static_cast<char>(v >> (8 * b));
  }
}
void UnshuffleBytes(const char* src, size_t n, char* dst) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    for (size_t b = 0; b < 8; ++b) v |= uint64_t{static_cast<unsigned char>(src[b * n + i])} << (8 * b);
    std::memcpy(dst + i * 8, &v, 8);
  }
}

// Accumulates rows of one column as raw buffers (shared by the writer's
// pending row group and the reader's concatenation of row groups).
class ColumnBuilder {
 public:
  explicit ColumnBuilder(DataType type) : type_(type), width_(ValueWidth(type)) { offsets_.push_back(0); }

  DataType type() const { return type_; }
  size_t rows() const { return rows_; }

  void Reserve(size_t rows, size_t chars) {
    validity_.reserve((rows + 63) / 64);
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        i64_.reserve(rows);
        break;
      case DataType::kDouble:
        f64_.reserve(rows);
        break;
      case DataType::kBool:
        u8_.reserve(rows);
        break;
      case DataType::kDate:
        i32_.reserve(rows);
        break;
      case DataType::kString:
        offsets_.reserve(rows + 1);
        chars_.reserve(chars);
        break;
    }
  }

  // Appends `count` rows: validity bits from `validity` starting at
  // `bit_begin`; `values` holds count values of the column's width; for
  // strings `offsets` holds count+1 monotonic u64 offsets into `chars`.
  void Append(const char* validity, size_t bit_begin, size_t count, const char* values, const char* offsets,
              const char* chars) {
    if (count == 0) return;
    AppendBits(validity_, rows_, validity, bit_begin, count);
    if (type_ == DataType::kString) {
      uint64_t first = LoadU64(offsets);
      uint64_t base = offsets_.back();
      size_t old = offsets_.size();
      offsets_.resize(old + count);
      uint64_t* out = offsets_.data() + old;
      for (size_t i = 0; i < count; ++i) out[i] = base + (LoadU64(offsets + (i + 1) * 8) - first);
      chars_.append(chars + first, LoadU64(offsets + count * 8) - first);
    } else {
      AppendValues(values, count);
    }
    rows_ += count;
  }

  // Appends rows [begin, begin + count) of `c` (same type).
  void AppendFrom(const Column& c, size_t begin, size_t count) {
    const char* values = nullptr;
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        values = Bytes(c.int64_data()) + begin * 8;
        break;
      case DataType::kDouble:
        values = Bytes(c.double_data()) + begin * 8;
        break;
      case DataType::kBool:
        values = Bytes(c.bool_data()) + begin;
        break;
      case DataType::kDate:
        values = Bytes(c.date_data()) + begin * 4;
        break;
      case DataType::kString:
        break;
    }
    if (type_ == DataType::kString) {
      Append(Bytes(c.validity()), begin, count, nullptr, Bytes(c.string_offsets()) + begin * 8,
             c.string_chars().data());
    } else {
      Append(Bytes(c.validity()), begin, count, values, nullptr, nullptr);
    }
  }

  // Appends `count` rows whose validity bits are `validity` (from bit 0) and
  // returns where their fixed-width values go (zero-filled; not for strings).
  char* AppendUninitialized(const char* validity, size_t count) {
    AppendBits(validity_, rows_, validity, 0, count);
    rows_ += count;
    return GrowValues(count);
  }

  // Appends `count` strings whose lengths are the IntBlock payload `packed`
  // (width w, base; kSlack readable bytes past it) and whose characters
  // follow each other in `chars`. The caller has checked that the lengths add
  // up to the characters available.
  void AppendPackedLengths(const char* validity, size_t count, const char* packed, unsigned w, uint64_t base,
                           const char* chars) {
    if (count == 0) return;
    AppendBits(validity_, rows_, validity, 0, count);
    const uint64_t start = offsets_.back();
    size_t old = offsets_.size();
    offsets_.resize(old + count);
    uint64_t* out = offsets_.data() + old;
    UnpackInts(packed, count, w, base, out);
    uint64_t end = start;
    for (size_t i = 0; i < count; ++i) {
      end += out[i];
      out[i] = end;
    }
    chars_.append(chars, end - start);
    rows_ += count;
  }

  const uint64_t* validity_words() const { return validity_.data(); }
  std::string_view validity_bytes() const { return {Bytes(validity_), validity_.size() * 8}; }
  // Fixed-width values, or for strings the n+1 offsets.
  std::string_view value_bytes() const {
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        return {Bytes(i64_), i64_.size() * 8};
      case DataType::kDouble:
        return {Bytes(f64_), f64_.size() * 8};
      case DataType::kBool:
        return {Bytes(u8_), u8_.size()};
      case DataType::kDate:
        return {Bytes(i32_), i32_.size() * 4};
      case DataType::kString:
        return {Bytes(offsets_), offsets_.size() * 8};
    }
    return {};
  }
  std::string_view chars_bytes() const { return chars_; }
  const std::vector<uint64_t>& offsets() const { return offsets_; }

  void Clear() {
    rows_ = 0;
    validity_.clear();
    i64_.clear();
    f64_.clear();
    u8_.clear();
    i32_.clear();
    offsets_.assign(1, 0);
    chars_.clear();
  }

  StatusOr<Column> Release() {
    auto col = Column::FromBuffers(type_, rows_, std::move(validity_), std::move(i64_), std::move(f64_),
                                   std::move(u8_), std::move(i32_), std::move(offsets_), std::move(chars_));
    Clear();
    return col;
  }

 private:
  char* GrowValues(size_t count) {
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        i64_.resize(i64_.size() + count);
        return reinterpret_cast<char*>(i64_.data() + i64_.size() - count);
      case DataType::kDouble:
        f64_.resize(f64_.size() + count);
        return reinterpret_cast<char*>(f64_.data() + f64_.size() - count);
      case DataType::kBool:
        u8_.resize(u8_.size() + count);
        return reinterpret_cast<char*>(u8_.data() + u8_.size() - count);
      case DataType::kDate:
        i32_.resize(i32_.size() + count);
        return reinterpret_cast<char*>(i32_.data() + i32_.size() - count);
      case DataType::kString:
        break;
    }
    return nullptr;
  }

  // Copies `count` values (without zero-filling the room first).
  void AppendValues(const char* values, size_t count) {
    auto append = [&](auto& v) {
      using T = typename std::remove_reference_t<decltype(v)>::value_type;
      const T* p = reinterpret_cast<const T*>(values);
      v.insert(v.end(), p, p + count);
    };
    switch (type_) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        append(i64_);
        break;
      case DataType::kDouble:
        append(f64_);
        break;
      case DataType::kBool:
        append(u8_);
        break;
      case DataType::kDate:
        append(i32_);
        break;
      case DataType::kString:
        break;
    }
  }

  DataType type_;
  size_t width_;
  size_t rows_ = 0;
  std::vector<uint64_t> validity_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::vector<uint8_t> u8_;
  std::vector<int32_t> i32_;
  std::vector<uint64_t> offsets_;
  std::string chars_;
};

class Encoder {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { out_.append(reinterpret_cast<const char*>(&v), 4); }
  void U64(uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reads; after an overrun every read returns zero and ok() is false.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size(); }
  uint8_t U8() {
    if (!Need(1)) return 0;
    uint8_t v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v;
    std::memcpy(&v, in_.data(), 4);
    in_.remove_prefix(4);
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = LoadU64(in_.data());
    in_.remove_prefix(8);
    return v;
  }
  std::string Str() {
    uint32_t n = U32();
    if (!Need(n)) return {};
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }

 private:
  bool Need(size_t n) {
    if (ok_ && in_.size() >= n) return true;
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

Status CheckZstdLevel(int level) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return InvalidArgumentError("zstd level " + std::to_string(level) + " out of range");
  }
  return Status::Ok();
}

Status CheckUniqueNames(const Schema& schema) {
  std::set<std::string_view> names;
  for (const auto& f : schema.fields()) {
    if (!names.insert(f.name).second) return InvalidArgumentError("duplicate field name '" + f.name + "'");
  }
  return Status::Ok();
}

struct ChunkMeta {
  uint64_t offset = 0;
  uint64_t stored_size = 0;
  uint64_t chars_size = 0;
  uint64_t checksum = 0;
};

struct RowGroupMeta {
  uint64_t rows = 0;
  std::vector<ChunkMeta> chunks;
};

// The parts of one column chunk to encode, from a ColumnBuilder or a Column
// (both keep validity as u64 words with zero bits past the rows, and strings
// as rows + 1 offsets from 0 into their own characters).
struct ChunkSource {
  DataType type;
  size_t rows;
  const uint64_t* validity_words;
  std::string_view validity;
  std::string_view values;  // fixed-width values, or the rows + 1 string offsets
  std::string_view chars;

  static ChunkSource Of(const ColumnBuilder& b) {
    return {b.type(), b.rows(), b.validity_words(), b.validity_bytes(), b.value_bytes(), b.chars_bytes()};
  }
  static ChunkSource Of(const Column& c) {
    ChunkSource s{c.type(), c.size(), c.validity().data(), {Bytes(c.validity()), c.validity().size() * 8}, {}, {}};
    switch (c.type()) {
      case DataType::kInt64:
      case DataType::kTimestamp: s.values = {Bytes(c.int64_data()), c.int64_data().size() * 8}; break;
      case DataType::kDouble: s.values = {Bytes(c.double_data()), c.double_data().size() * 8}; break;
      case DataType::kBool: s.values = {Bytes(c.bool_data()), c.bool_data().size()}; break;
      case DataType::kDate: s.values = {Bytes(c.date_data()), c.date_data().size() * 4}; break;
      case DataType::kString:
        s.values = {Bytes(c.string_offsets()), c.string_offsets().size() * 8};
        s.chars = c.string_chars();
        break;
    }
    return s;
  }
};

// Encodes one column chunk (format above) into a contiguous buffer and
// compresses it as one zstd frame. Not thread-safe: one per thread.
class ChunkCompressor {
 public:
  // Compresses `b` at zstd `level` into `out`; fills all of `meta` but the
  // offset.
  Status Compress(const ColumnBuilder& b, int level, ScratchBuffer* out, ChunkMeta* meta) {
    return Compress(ChunkSource::Of(b), level, [out](size_t n) { return out->Reserve(n); }, meta);
  }
  Status Compress(const Column& c, int level, EncodedChunk* out, ChunkMeta* meta) {
    return Compress(ChunkSource::Of(c), level, [out](size_t n) {
      if (n > out->capacity) {
        out->data = std::make_unique_for_overwrite<char[]>(n);
        out->capacity = n;
      }
      return out->data.get();
    }, meta);
  }

  // Compresses the chunk `b` into the buffer reserve(bound) returns.
  template <typename Reserve>
  Status Compress(const ChunkSource& b, int level, Reserve reserve, ChunkMeta* meta) {
    if (!cctx_) {
      cctx_.reset(ZSTD_createCCtx());
      if (!cctx_) return ResourceExhaustedError("cannot allocate a zstd context");
      level_ = std::numeric_limits<int>::min();
    }
    if (level != level_) {
      size_t r = ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level);
      if (ZSTD_isError(r)) return InvalidArgumentError(std::string("zstd level: ") + ZSTD_getErrorName(r));
      level_ = level;
    }
    const size_t rows = b.rows;
    const DataType type = b.type;
    const std::string_view validity = b.validity;
    const std::string_view values = b.values;
    const std::string_view chars = b.chars;
    const size_t max_raw = MaxChunkRawSize(type, rows, chars.size());
    char* raw = raw_.Reserve(max_raw + kSlack);
    if (!validity.empty()) std::memcpy(raw, validity.data(), validity.size());
    char* p = raw + validity.size();
    const uint64_t* nulls = HasNulls(b.validity_words, rows) ? b.validity_words : nullptr;
    const char* v = values.data();
    switch (type) {
      case DataType::kInt64:
      case DataType::kTimestamp:
        p += PackInts(rows, nulls, [v](size_t i) { return static_cast<int64_t>(LoadU64(v + i * 8)); }, p);
        break;
      case DataType::kDate:
        p += PackInts(rows, nulls, [v](size_t i) {
          int32_t d;
          std::memcpy(&d, v + i * 4, 4);
          return int64_t{d};
        }, p);
        break;
      case DataType::kDouble:
        ShuffleBytes(v, rows, p);
        p += rows * 8;
        break;
      case DataType::kBool:
        if (rows > 0) std::memcpy(p, v, rows);
        p += rows;
        break;
      case DataType::kString:
        // Lengths, not the ever-growing offsets (v holds rows + 1 of them).
        p += PackInts(rows, nullptr, [v](size_t i) {
          return static_cast<int64_t>(LoadU64(v + (i + 1) * 8) - LoadU64(v + i * 8));
        }, p);
        if (!chars.empty()) std::memcpy(p, chars.data(), chars.size());
        p += chars.size();
        break;
    }
    const size_t raw_size = static_cast<size_t>(p - raw);
    const size_t bound = ZSTD_compressBound(raw_size);
    char* dst = reserve(bound);
    const size_t n = ZSTD_compress2(cctx_.get(), dst, bound, raw, raw_size);
    if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
    meta->stored_size = n;
    meta->chars_size = chars.size();
    meta->checksum = XXH3_64bits(dst, n);
    return Status::Ok();
  }

 private:
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> cctx_;
  int level_ = 0;
  ScratchBuffer raw_;
};

// The calling thread's compressor, for pool tasks.
ChunkCompressor& ThreadCompressor() {
  thread_local ChunkCompressor compressor;
  return compressor;
}

// A full row group whose chunks are compressed on a thread pool. Each column
// is compressed once, by a pool task or by the writer (when it needs the
// result before a task got to it). Shared (std::shared_ptr) between the
// writer and its pool tasks, since a task may run after the writer has
// written or dropped the group.
struct GroupJob {
  uint64_t rows = 0;
  int level = 1;
  std::vector<ColumnBuilder> columns;
  std::vector<ScratchBuffer> stored;
  std::vector<ChunkMeta> metas;
  std::vector<Status> statuses;
  std::unique_ptr<std::atomic<bool>[]> claimed;
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;  // guarded by mu

  explicit GroupJob(const std::vector<ColumnBuilder>& like)
      : stored(like.size()), metas(like.size()), statuses(like.size()),
        claimed(new std::atomic<bool>[like.size()]) {
    for (const auto& b : like) columns.emplace_back(b.type());
  }

  // Makes the job ready to be submitted again.
  void Reset() {
    for (auto& b : columns) b.Clear();
    for (size_t c = 0; c < columns.size(); ++c) claimed[c].store(false, std::memory_order_relaxed);
    std::lock_guard<std::mutex> l(mu);
    done = 0;
  }

  // Compresses column `c` unless someone else already started it.
  void Run(size_t c, ChunkCompressor& compressor) {
    if (claimed[c].exchange(true, std::memory_order_acq_rel)) return;
    Status s = compressor.Compress(columns[c], level, &stored[c], &metas[c]);
    std::lock_guard<std::mutex> l(mu);
    statuses[c] = std::move(s);
    if (++done == columns.size()) cv.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [this] { return done == columns.size(); });
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Writer

struct ColumnFileWriter::Impl {
  ColumnFileWriter* owner = nullptr;
  std::unique_ptr<WritableFile> file;
  ColumnFileOptions options;
  ChunkCompressor compressor;
  std::vector<ColumnBuilder> pending;
  size_t pending_bytes = 0;
  size_t fixed_row_bytes = 0;  // uncompressed bytes per row, without string characters
  std::vector<size_t> string_columns;
  std::vector<RowGroupMeta> groups;
  ScratchBuffer compressed;
  // With options.pool: full row groups being compressed, oldest first, and
  // written ones kept for reuse.
  std::deque<std::shared_ptr<GroupJob>> in_flight;
  std::vector<std::shared_ptr<GroupJob>> spare;
  Status error;
  bool finished = false;

  Status Write(std::string_view data) {
    Status s = file->Append(data);
    if (!s.ok()) return s;
    owner->bytes_written_ += data.size();
    return Status::Ok();
  }

  size_t pending_rows() const { return pending.empty() ? pending_row_count : pending[0].rows(); }
  size_t pending_row_count = 0;  // for files without columns

  // Uncompressed bytes of rows [begin, begin + k) of `batch`.
  size_t SliceBytes(const Table& batch, size_t begin, size_t k) const {
    size_t bytes = k * fixed_row_bytes;
    for (size_t c : string_columns) {
      const auto& off = batch.column(c).string_offsets();
      bytes += off[begin + k] - off[begin];
    }
    return bytes;
  }

  // Largest k <= max_rows with SliceBytes(begin, k) <= max_bytes.
  size_t RowsThatFit(const Table& batch, size_t begin, size_t max_rows, size_t max_bytes) const {
    if (string_columns.empty()) {
      return fixed_row_bytes == 0 ? max_rows : std::min(max_rows, max_bytes / fixed_row_bytes);
    }
    if (SliceBytes(batch, begin, max_rows) <= max_bytes) return max_rows;
    size_t lo = 0, hi = max_rows;  // SliceBytes(lo) fits, SliceBytes(hi) does not
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (SliceBytes(batch, begin, mid) <= max_bytes)
        lo = mid;
      else
        hi = mid;
    }
    return lo;
  }

  // Appends a compressed chunk to the file and completes its meta.
  Status WriteChunk(std::string_view stored, ChunkMeta* meta) {
    meta->offset = owner->bytes_written_;
    return Write(stored);
  }

  // Compresses and writes the pending row group on this thread.
  Status FlushRowGroupInline(size_t rows) {
    RowGroupMeta group;
    group.rows = rows;
    group.chunks.resize(pending.size());
    for (size_t c = 0; c < pending.size(); ++c) {
      ChunkMeta& m = group.chunks[c];
      CDP_RETURN_IF_ERROR(compressor.Compress(pending[c], options.zstd_level, &compressed, &m));
      CDP_RETURN_IF_ERROR(WriteChunk(std::string_view(compressed.data(), m.stored_size), &m));
      pending[c].Clear();
    }
    groups.push_back(std::move(group));
    return Status::Ok();
  }

  // Hands the pending row group to the pool; writes the oldest groups while
  // more than the pool's size are in flight.
  Status SubmitRowGroup(size_t rows) {
    std::shared_ptr<GroupJob> job;
    // A spare whose tasks have all run (no task holds it) can be reused.
    for (size_t i = 0; i < spare.size(); ++i) {
      if (spare[i].use_count() == 1) {
        job = std::move(spare[i]);
        spare.erase(spare.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    if (!job) job = std::make_shared<GroupJob>(pending);
    job->Reset();
    job->rows = rows;
    job->level = options.zstd_level;
    std::swap(job->columns, pending);  // pending gets the job's empty builders
    for (size_t c = 0; c < job->columns.size(); ++c) {
      options.pool->Submit([job, c] { job->Run(c, ThreadCompressor()); });
    }
    in_flight.push_back(std::move(job));
    while (in_flight.size() > static_cast<size_t>(options.pool->size())) CDP_RETURN_IF_ERROR(WriteOldestGroup());
    return Status::Ok();
  }

  // Waits for the oldest submitted row group (compressing on this thread
  // what no pool task has started) and writes it.
  Status WriteOldestGroup() {
    std::shared_ptr<GroupJob> job = std::move(in_flight.front());
    in_flight.pop_front();
    for (size_t c = 0; c < job->columns.size(); ++c) job->Run(c, compressor);
    job->Wait();
    RowGroupMeta group;
    group.rows = job->rows;
    group.chunks = job->metas;
    for (size_t c = 0; c < job->columns.size(); ++c) {
      CDP_RETURN_IF_ERROR(job->statuses[c]);
      CDP_RETURN_IF_ERROR(WriteChunk(std::string_view(job->stored[c].data(), group.chunks[c].stored_size),
                                     &group.chunks[c]));
    }
    groups.push_back(std::move(group));
    if (spare.size() < 2) spare.push_back(std::move(job));
    return Status::Ok();
  }

  Status FlushRowGroup() {
    size_t rows = pending_rows();
    if (rows == 0) return Status::Ok();
    pending_row_count = 0;
    pending_bytes = 0;
    if (options.pool != nullptr && !pending.empty()) return SubmitRowGroup(rows);
    if (pending.empty()) {
      groups.push_back(RowGroupMeta{rows, {}});
      return Status::Ok();
    }
    return FlushRowGroupInline(rows);
  }

  // Writes every row group still in flight.
  Status DrainRowGroups() {
    while (!in_flight.empty()) CDP_RETURN_IF_ERROR(WriteOldestGroup());
    return Status::Ok();
  }

  Status AppendBatch(const Table& batch) {
    const size_t n = batch.num_rows();
    size_t pos = 0;
    while (pos < n) {
      size_t have = pending_rows();
      size_t max_rows = std::min(n - pos, options.row_group_rows - have);
      size_t max_bytes =
          options.row_group_bytes > pending_bytes ? options.row_group_bytes - pending_bytes : 0;
      size_t take = RowsThatFit(batch, pos, max_rows, max_bytes);
      if (take == 0) {
        if (have > 0) {
          CDP_RETURN_IF_ERROR(FlushRowGroup());
          continue;
        }
        take = 1;  // a single row larger than a row group forms its own group
      }
      for (size_t c = 0; c < pending.size(); ++c) pending[c].AppendFrom(batch.column(c), pos, take);
      pending_row_count += take;
      pending_bytes += SliceBytes(batch, pos, take);
      pos += take;
      // Stopping short of the batch's end means the group is full.
      if (pending_rows() >= options.row_group_rows || pos < n) CDP_RETURN_IF_ERROR(FlushRowGroup());
    }
    return Status::Ok();
  }

  std::string EncodeFooter(const Schema& schema, uint64_t num_rows) const {
    Encoder e;
    e.U32(kFormatVersion);
    e.U32(static_cast<uint32_t>(schema.num_fields()));
    for (const auto& f : schema.fields()) {
      e.Str(f.name);
      e.U8(static_cast<uint8_t>(f.type));
      e.Str(f.semantic.name());
    }
    e.U64(num_rows);
    e.U32(static_cast<uint32_t>(groups.size()));
    for (const auto& g : groups) {
      e.U64(g.rows);
      for (const auto& c : g.chunks) {
        e.U64(c.offset);
        e.U64(c.stored_size);
        e.U64(c.chars_size);
        e.U64(c.checksum);
      }
    }
    return std::move(e.out());
  }
};

ColumnFileWriter::ColumnFileWriter(std::string path, Schema schema, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), schema_(std::move(schema)), impl_(std::move(impl)) {
  impl_->owner = this;
}

ColumnFileWriter::~ColumnFileWriter() {
  if (impl_->file) (void)impl_->file->Close();
}

StatusOr<std::unique_ptr<ColumnFileWriter>> ColumnFileWriter::Create(Env* env, const std::string& path,
                                                                     const Schema& schema,
                                                                     const ColumnFileOptions& options) {
  CDP_RETURN_IF_ERROR(CheckUniqueNames(schema).WithContext("column file " + path));
  CDP_RETURN_IF_ERROR(CheckZstdLevel(options.zstd_level));
  if (options.row_group_rows == 0 || options.row_group_bytes == 0) {
    return InvalidArgumentError("row group size must be positive");
  }
  if (options.row_group_rows > kMaxRowsPerGroup) return InvalidArgumentError("row group rows too large");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    DataType t = schema.field(i).type;
    impl->pending.emplace_back(t);
    impl->fixed_row_bytes += t == DataType::kString ? 8 : ValueWidth(t);
    if (t == DataType::kString) impl->string_columns.push_back(i);
  }
  CDP_ASSIGN_OR_RETURN(impl->file, env->NewWritableFile(path));
  std::unique_ptr<ColumnFileWriter> w(new ColumnFileWriter(path, schema, std::move(impl)));
  Status s = w->impl_->Write(std::string_view(kMagic, kMagicSize));
  if (!s.ok()) return s;
  return w;
}

Status ColumnFileWriter::Append(const Table& batch) {
  if (impl_->finished) return FailedPreconditionError("column file " + path_ + " is already finished");
  if (!impl_->error.ok()) return impl_->error;
  if (batch.num_columns() != schema_.num_fields() || batch.schema().num_fields() != schema_.num_fields()) {
    return InvalidArgumentError("column file " + path_ + ": batch has " +
                                std::to_string(batch.num_columns()) + " columns, the file has " +
                                std::to_string(schema_.num_fields()));
  }
  for (size_t c = 0; c < schema_.num_fields(); ++c) {
    const Field& want = schema_.field(c);
    const Field& got = batch.schema().field(c);
    if (got.name != want.name || got.type != want.type || batch.column(c).type() != want.type) {
      return InvalidArgumentError("column file " + path_ + ": batch column " + std::to_string(c) + " is '" +
                                  got.name + "' " + std::string(DataTypeName(batch.column(c).type())) +
                                  ", expected '" + want.name + "' " + std::string(DataTypeName(want.type)));
    }
    if (batch.column(c).size() != batch.num_rows()) {
      return InvalidArgumentError("column file " + path_ + ": batch column '" + want.name + "' has " +
                                  std::to_string(batch.column(c).size()) + " rows, the batch " +
                                  std::to_string(batch.num_rows()));
    }
  }
  if (schema_.num_fields() == 0 && rows_written_ + batch.num_rows() > kMaxRowsWithoutColumns) {
    return InvalidArgumentError("column file " + path_ + ": a file without columns holds at most " +
                                std::to_string(kMaxRowsWithoutColumns) + " rows");
  }
  Status s = impl_->AppendBatch(batch);
  if (!s.ok()) {
    impl_->error = s;
    return s;
  }
  rows_written_ += batch.num_rows();
  return Status::Ok();
}

Status ColumnFileWriter::EncodeRowGroup(const Table& batch, const ColumnFileOptions& options, EncodedRowGroup* out) {
  CDP_RETURN_IF_ERROR(CheckZstdLevel(options.zstd_level));
  const size_t n = batch.num_columns();
  out->rows_ = batch.num_rows();
  out->types_.resize(n);
  out->chunks_.resize(n);
  ChunkCompressor& compressor = ThreadCompressor();
  for (size_t c = 0; c < n; ++c) {
    const Column& col = batch.column(c);
    if (col.size() != batch.num_rows()) {
      return InvalidArgumentError("row group column " + std::to_string(c) + " has " + std::to_string(col.size()) +
                                  " rows, the batch " + std::to_string(batch.num_rows()));
    }
    ChunkMeta m;
    CDP_RETURN_IF_ERROR(compressor.Compress(col, options.zstd_level, &out->chunks_[c], &m));
    out->types_[c] = col.type();
    out->chunks_[c].size = m.stored_size;
    out->chunks_[c].chars_size = m.chars_size;
    out->chunks_[c].checksum = m.checksum;
  }
  return Status::Ok();
}

Status ColumnFileWriter::AppendRowGroup(const EncodedRowGroup& group) {
  if (impl_->finished) return FailedPreconditionError("column file " + path_ + " is already finished");
  if (!impl_->error.ok()) return impl_->error;
  if (group.chunks_.size() != schema_.num_fields() || schema_.num_fields() == 0) {
    return InvalidArgumentError("column file " + path_ + ": encoded row group has " +
                                std::to_string(group.chunks_.size()) + " columns, the file has " +
                                std::to_string(schema_.num_fields()));
  }
  for (size_t c = 0; c < schema_.num_fields(); ++c) {
    if (group.types_[c] != schema_.field(c).type) {
      return InvalidArgumentError("column file " + path_ + ": encoded row group column " + std::to_string(c) +
                                  " is " + std::string(DataTypeName(group.types_[c])) + ", expected '" +
                                  schema_.field(c).name + "' " + std::string(DataTypeName(schema_.field(c).type)));
    }
  }
  if (group.rows_ == 0) return Status::Ok();
  auto write = [&]() -> Status {
    // Rows appended before go first, in order.
    CDP_RETURN_IF_ERROR(impl_->FlushRowGroup());
    CDP_RETURN_IF_ERROR(impl_->DrainRowGroups());
    RowGroupMeta meta;
    meta.rows = group.rows_;
    meta.chunks.resize(group.chunks_.size());
    for (size_t c = 0; c < group.chunks_.size(); ++c) {
      const EncodedChunk& chunk = group.chunks_[c];
      ChunkMeta& m = meta.chunks[c];
      m.stored_size = chunk.size;
      m.chars_size = chunk.chars_size;
      m.checksum = chunk.checksum;
      CDP_RETURN_IF_ERROR(impl_->WriteChunk(std::string_view(chunk.data.get(), chunk.size), &m));
    }
    impl_->groups.push_back(std::move(meta));
    return Status::Ok();
  };
  Status s = write();
  if (!s.ok()) {
    impl_->error = s;
    return s;
  }
  rows_written_ += group.rows_;
  return Status::Ok();
}

Status ColumnFileWriter::Finish() {
  if (impl_->finished) return impl_->error;
  impl_->finished = true;
  if (!impl_->error.ok()) return impl_->error;
  auto finish = [&]() -> Status {
    CDP_RETURN_IF_ERROR(impl_->FlushRowGroup());
    CDP_RETURN_IF_ERROR(impl_->DrainRowGroups());
    std::string footer = impl_->EncodeFooter(schema_, rows_written_);
    Encoder tail;
    tail.U64(XXH3_64bits(footer.data(), footer.size()));
    tail.U64(footer.size());
    tail.out().append(kMagic, kMagicSize);
    CDP_RETURN_IF_ERROR(impl_->Write(footer));
    CDP_RETURN_IF_ERROR(impl_->Write(tail.out()));
    CDP_RETURN_IF_ERROR(impl_->file->Sync());
    Status s = impl_->file->Close();
    impl_->file.reset();
    return s;
  };
  impl_->error = finish();
  // Release the buffers; the writer only answers questions from now on.
  impl_->pending.clear();
  impl_->groups.clear();
  impl_->in_flight.clear();
  impl_->spare.clear();
  return impl_->error;
}

// ---------------------------------------------------------------------------
// Reader

struct ColumnFileReader::Footer {
  uint64_t num_rows = 0;
  std::vector<RowGroupMeta> groups;
};

ColumnFileReader::ColumnFileReader(std::string path, std::unique_ptr<RandomAccessFile> file,
                                   std::unique_ptr<Footer> footer)
    : path_(std::move(path)), file_(std::move(file)), footer_(std::move(footer)) {}

ColumnFileReader::~ColumnFileReader() = default;

size_t ColumnFileReader::num_row_groups() const { return footer_->groups.size(); }

uint64_t ColumnFileReader::row_group_num_rows(size_t i) const {
  return i < footer_->groups.size() ? footer_->groups[i].rows : 0;
}

StatusOr<std::unique_ptr<ColumnFileReader>> ColumnFileReader::Open(Env* env, const std::string& path) {
  auto corrupt = [&path](const std::string& what) {
    return DataLossError("column file " + path + " is corrupt: " + what);
  };
  CDP_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  const uint64_t size = file->Size();
  if (size < kMagicSize + kTailSize) return corrupt("too short (" + std::to_string(size) + " bytes)");
  char head[kMagicSize];
  char tail[kTailSize];
  CDP_ASSIGN_OR_RETURN(size_t n, file->Read(0, kMagicSize, head));
  if (n != kMagicSize) return corrupt("truncated while reading");
  CDP_ASSIGN_OR_RETURN(n, file->Read(size - kTailSize, kTailSize, tail));
  if (n != kTailSize) return corrupt("truncated while reading");
  if (std::memcmp(head, kMagic, kMagicSize) != 0) return corrupt("bad magic number at the start");
  if (std::memcmp(tail + 16, kMagic, kMagicSize) != 0) {
    return corrupt("bad magic number at the end (truncated or not a column file)");
  }
  const uint64_t footer_checksum = LoadU64(tail);
  const uint64_t footer_len = LoadU64(tail + 8);
  const uint64_t data_end = size - kTailSize;
  if (footer_len > data_end - kMagicSize) return corrupt("footer length out of range");
  const uint64_t footer_start = data_end - footer_len;
  std::string footer_bytes(footer_len, '\0');
  CDP_ASSIGN_OR_RETURN(n, file->Read(footer_start, footer_len, footer_bytes.data()));
  if (n != footer_len) return corrupt("truncated while reading");
  if (XXH3_64bits(footer_bytes.data(), footer_bytes.size()) != footer_checksum) {
    return corrupt("footer checksum mismatch");
  }

  Decoder d(footer_bytes);
  if (d.U32() != kFormatVersion) return corrupt("unsupported format version");
  uint32_t num_fields = d.U32();
  if (num_fields > d.remaining() / 9) return corrupt("field count out of range");
  Schema schema;
  for (uint32_t i = 0; i < num_fields && d.ok(); ++i) {
    Field f;
    f.name = d.Str();
    uint8_t t = d.U8();
    if (!ValidDataType(t)) return corrupt("unknown data type " + std::to_string(t));
    f.type = static_cast<DataType>(t);
    f.semantic = SemanticType(d.Str());
    schema.AddField(std::move(f));
  }
  if (!d.ok()) return corrupt("footer truncated");
  if (!CheckUniqueNames(schema).ok()) return corrupt("duplicate field names");
  auto footer = std::make_unique<Footer>();
  footer->num_rows = d.U64();
  uint32_t num_groups = d.U32();
  const uint64_t group_size = 8 + uint64_t{num_fields} * kChunkMetaSize;
  if (num_groups > d.remaining() / group_size) return corrupt("row group count out of range");
  footer->groups.resize(num_groups);
  uint64_t rows = 0;
  for (uint32_t g = 0; g < num_groups; ++g) {
    RowGroupMeta& group = footer->groups[g];
    group.rows = d.U64();
    if (group.rows == 0 || group.rows > kMaxRowsPerGroup)
      return corrupt("row group " + std::to_string(g) + " size out of range");
    rows += group.rows;
    group.chunks.resize(num_fields);
    for (uint32_t c = 0; c < num_fields; ++c) {
      ChunkMeta& m = group.chunks[c];
      m.offset = d.U64();
      m.stored_size = d.U64();
      m.chars_size = d.U64();
      m.checksum = d.U64();
      if (m.offset < kMagicSize || m.offset > footer_start || m.stored_size > footer_start - m.offset ||
          m.stored_size == 0) {
        return corrupt("row group " + std::to_string(g) + " column '" + schema.field(c).name +
                       "': chunk outside the data area");
      }
      if (schema.field(c).type != DataType::kString && m.chars_size != 0) {
        return corrupt("row group " + std::to_string(g) + " column '" + schema.field(c).name +
                       "': character size on a non-string column");
      }
      // The chunk cannot hold more than its stored bytes decompress to.
      if (m.chars_size >= (uint64_t{1} << 62) ||
          MinChunkRawSize(schema.field(c).type, group.rows, m.chars_size) / kMaxZstdRatio > m.stored_size) {
        return corrupt("row group " + std::to_string(g) + " column '" + schema.field(c).name +
                       "': sizes out of range");
      }
    }
  }
  if (!d.ok() || d.remaining() != 0) return corrupt("footer has the wrong length");
  if (num_fields == 0 && rows > kMaxRowsWithoutColumns)
    return corrupt("too many rows for a file without columns");
  if (rows != footer->num_rows)
    return corrupt("row groups hold " + std::to_string(rows) + " rows, the footer says " +
                   std::to_string(footer->num_rows));

  std::unique_ptr<ColumnFileReader> r(new ColumnFileReader(path, std::move(file), std::move(footer)));
  r->schema_ = std::move(schema);
  r->num_rows_ = rows;
  return r;
}

namespace {

// Reads, verifies and decodes one chunk into `out`.
Status ReadChunk(const RandomAccessFile& file, const std::string& path, size_t group_index,
                 const std::string& column_name, uint64_t rows, const ChunkMeta& m, ZSTD_DCtx* dctx,
                 ScratchBuffer* stored_buf, ScratchBuffer* raw_buf, ColumnBuilder* out) {
  auto corrupt = [&](const std::string& what) {
    return DataLossError("column file " + path + " is corrupt: row group " + std::to_string(group_index) +
                         " column '" + column_name + "': " + what);
  };
  const DataType type = out->type();
  const uint64_t validity_bytes = (rows + 63) / 64 * 8;
  // Both checked against stored_size by Open, so they are allocatable.
  const uint64_t min_raw = MinChunkRawSize(type, rows, m.chars_size);
  const uint64_t max_raw = MaxChunkRawSize(type, rows, m.chars_size);

  char* stored = stored_buf->Reserve(m.stored_size);
  CDP_ASSIGN_OR_RETURN(size_t n, file.Read(m.offset, m.stored_size, stored));
  if (n != m.stored_size) return corrupt("file truncated");
  if (XXH3_64bits(stored, m.stored_size) != m.checksum) return corrupt("checksum mismatch");
  unsigned long long content = ZSTD_getFrameContentSize(stored, m.stored_size);
  if (content < min_raw || content > max_raw) return corrupt("decompressed size out of range for the footer");
  const uint64_t raw_size = content;
  char* raw = raw_buf->Reserve(raw_size + kSlack);
  size_t got = ZSTD_decompressDCtx(dctx, raw, raw_size, stored, m.stored_size);
  if (ZSTD_isError(got)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(got));
  if (got != raw_size) return corrupt("decompressed size differs from the frame header");
  std::memset(raw + raw_size, 0, kSlack);

  const char* validity = raw;
  const char* values = raw + validity_bytes;
  unsigned width = 0;
  uint64_t base = 0;
  if (IsIntBlockType(type)) {
    width = static_cast<unsigned char>(values[0]);
    base = LoadU64(values + 1);
    if (width > 8) return corrupt("integer width " + std::to_string(width) + " out of range");
    if (raw_size != min_raw + rows * width) return corrupt("decompressed size differs from the footer");
    values += kIntHeaderSize;
  } else if (raw_size != min_raw) {
    return corrupt("decompressed size differs from the footer");
  }
  switch (type) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      auto* dst = reinterpret_cast<int64_t*>(out->AppendUninitialized(validity, rows));
      UnpackInts(values, rows, width, base, dst);
      ZeroNullSlots(validity, rows, dst);
      break;
    }
    case DataType::kDate: {
      auto* dst = reinterpret_cast<int32_t*>(out->AppendUninitialized(validity, rows));
      UnpackInts(values, rows, width, base, dst);
      ZeroNullSlots(validity, rows, dst);
      break;
    }
    case DataType::kDouble:
      UnshuffleBytes(values, rows, out->AppendUninitialized(validity, rows));
      break;
    case DataType::kBool:
      std::memcpy(out->AppendUninitialized(validity, rows), values, rows);
      break;
    case DataType::kString: {
      const uint64_t mask = width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
      uint64_t total = 0;
      for (uint64_t i = 0; i < rows; ++i) {
        const uint64_t len = width == 0 ? base : base + (LoadU64(values + i * width) & mask);
        if (len > m.chars_size - total) return corrupt("string lengths exceed the character data");
        total += len;
      }
      if (total != m.chars_size) return corrupt("string lengths disagree with the character size");
      out->AppendPackedLengths(validity, rows, values, width, base, values + rows * width);
      break;
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Table> ColumnFileReader::ReadGroups(size_t first, size_t end,
                                             const std::vector<int>* columns) const {
  std::vector<int> all;
  if (columns == nullptr) {
    for (size_t i = 0; i < schema_.num_fields(); ++i) all.push_back(static_cast<int>(i));
    columns = &all;
  }
  uint64_t rows = 0;
  for (size_t g = first; g < end; ++g) rows += footer_->groups[g].rows;
  std::vector<bool> seen(schema_.num_fields(), false);
  Schema projected;
  std::vector<ColumnBuilder> builders;
  builders.reserve(columns->size());
  for (int c : *columns) {
    if (c < 0 || static_cast<size_t>(c) >= schema_.num_fields()) {
      return InvalidArgumentError("column file " + path_ + ": column index " + std::to_string(c) +
                                  " out of range (" + std::to_string(schema_.num_fields()) + " columns)");
    }
    if (seen[c]) {
      return InvalidArgumentError("column file " + path_ + ": column index " + std::to_string(c) +
                                  " repeated");
    }
    seen[c] = true;
    projected.AddField(schema_.field(c));
    // Reserve what the footer announces, within a ratio of the stored bytes
    // (a footer that lies cannot make us allocate much more than the file).
    uint64_t chars = 0, stored = 0;
    for (size_t g = first; g < end; ++g) {
      chars += footer_->groups[g].chunks[c].chars_size;
      stored += footer_->groups[g].chunks[c].stored_size;
    }
    const uint64_t cap = stored * kReserveRatio;
    const DataType type = schema_.field(c).type;
    builders.emplace_back(type);
    builders.back().Reserve(
        std::min<uint64_t>(rows, cap / (type == DataType::kString ? 8 : ValueWidth(type))),
        std::min(chars, cap));
  }

  // Each column into its own builder: columns are read in parallel (one
  // task per column, its own zstd context) when there is enough to read.
  uint64_t stored_bytes = 0;
  for (size_t g = first; g < end; ++g) {
    for (int c : *columns) stored_bytes += footer_->groups[g].chunks[static_cast<size_t>(c)].stored_size;
  }
  auto read_column = [&](size_t k) -> Status {
    // One zstd context per thread, kept: creating one cost a tenth of the
    // time of a server reading small row groups per request.
    thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> dctx;
    if (!dctx) dctx.reset(ZSTD_createDCtx());
    if (!dctx) return ResourceExhaustedError("cannot allocate a zstd context");
    ScratchBuffer stored, raw;
    const size_t c = static_cast<size_t>((*columns)[k]);
    for (size_t g = first; g < end; ++g) {
      const RowGroupMeta& group = footer_->groups[g];
      CDP_RETURN_IF_ERROR(ReadChunk(*file_, path_, g, schema_.field(c).name, group.rows, group.chunks[c],
                                    dctx.get(), &stored, &raw, &builders[k]));
    }
    return Status::Ok();
  };
  constexpr uint64_t kParallelReadBytes = 4 << 20;
  if (columns->size() > 1 && stored_bytes >= kParallelReadBytes) {
    std::vector<Status> results(columns->size());
    ParallelFor(0, columns->size(), 1, [&](size_t b, size_t e, int) {
      for (size_t k = b; k < e; ++k) results[k] = read_column(k);
    });
    for (const Status& st : results) CDP_RETURN_IF_ERROR(st);
  } else {
    for (size_t k = 0; k < columns->size(); ++k) CDP_RETURN_IF_ERROR(read_column(k));
  }

  Table table(projected);
  for (size_t k = 0; k < builders.size(); ++k) {
    auto col = builders[k].Release();
    if (!col.ok()) return DataLossError("column file " + path_ + " is corrupt: " + col.status().message());
    table.mutable_column(k) = std::move(col).value();
  }
  if (builders.empty()) {
    for (uint64_t r = 0; r < rows; ++r) table.FinishRow();
  }
  CDP_RETURN_IF_ERROR(table.Validate().WithContext("column file " + path_));
  return table;
}

StatusOr<Table> ColumnFileReader::ReadRowGroup(size_t i, const std::vector<int>* columns) const {
  if (i >= footer_->groups.size()) {
    return InvalidArgumentError("column file " + path_ + ": row group " + std::to_string(i) +
                                " out of range (" + std::to_string(footer_->groups.size()) + " row groups)");
  }
  return ReadGroups(i, i + 1, columns);
}

StatusOr<Table> ColumnFileReader::ReadAll(const std::vector<int>* columns) const {
  return ReadGroups(0, footer_->groups.size(), columns);
}

}  // namespace cdp
