#include "ingest/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/free_list.h"
#include "ingest/internal/input_file.h"
#include "ingest/internal/utf8.h"

namespace cdp {
namespace {

using ingest_internal::InputFile;

// Bytes readable past the end of the data in a buffer, so a 64-byte chunk can
// always be loaded.
constexpr size_t kPadding = 64;
constexpr size_t kMinBlock = 64;

inline uint64_t ValidBits(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

// Bit i of `special` is set when p[i] is one of the four bytes; bit i of
// `high` when p[i] >= 0x80.
struct ByteClassifier {
#if defined(__SSE2__)
  __m128i a, b, c, d;
  ByteClassifier(char c1, char c2, char c3, char c4)
      : a(_mm_set1_epi8(c1)), b(_mm_set1_epi8(c2)), c(_mm_set1_epi8(c3)), d(_mm_set1_epi8(c4)) {}
  inline void Classify(const char* p, uint64_t* special, uint64_t* high) const {
    uint64_t s = 0;
    uint64_t h = 0;
    for (int i = 0; i < 4; ++i) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
      __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, c), _mm_cmpeq_epi8(v, d)));
      s |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(m))} << (16 * i);
      h |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(v))} << (16 * i);
    }
    *special = s;
    *high = h;
  }
#else
  char a, b, c, d;
  ByteClassifier(char c1, char c2, char c3, char c4) : a(c1), b(c2), c(c3), d(c4) {}
  inline void Classify(const char* p, uint64_t* special, uint64_t* high) const {
    uint64_t s = 0;
    uint64_t h = 0;
    for (int i = 0; i < 64; ++i) {
      char x = p[i];
      s |= uint64_t{x == a || x == b || x == c || x == d} << i;
      h |= uint64_t{(static_cast<unsigned char>(x) & 0x80) != 0} << i;
    }
    *special = s;
    *high = h;
  }
#endif
};

// Bit i set when byte i is inside quotes after processing byte i, given the
// quote bits of a chunk (prefix XOR).
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Yields the string_view of field i (arena offset and length), so the batch's
// views can be built with vector::assign without zero-filling them first.
struct FieldViewIterator {
  using iterator_category = std::forward_iterator_tag;
  using value_type = std::string_view;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = std::string_view;
  const char* arena;
  const uint64_t* pos;
  const uint32_t* len;
  size_t i;
  std::string_view operator*() const { return std::string_view(arena + pos[i], len[i]); }
  FieldViewIterator& operator++() {
    ++i;
    return *this;
  }
  FieldViewIterator operator++(int) {
    FieldViewIterator old = *this;
    ++i;
    return old;
  }
  bool operator==(const FieldViewIterator& o) const { return i == o.i; }
  bool operator!=(const FieldViewIterator& o) const { return i != o.i; }
};

// A buffer of n bytes plus padding. Not zero-filled (pages are touched only
// when data is read into them); bytes past the data are masked off when read.
std::unique_ptr<char[]> AllocateBuffer(size_t n) { return std::unique_ptr<char[]>(new char[n + kPadding]); }

// An XXH3-64 streaming state over the bytes of a file read in order.
class FileHasher {
 public:
  FileHasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_.get()); }
  // Hashes the part of file bytes [offset, offset + n) (at p) not hashed yet;
  // bytes after a gap are not hashed (the hash is then incomplete).
  void Update(uint64_t offset, const char* p, size_t n) {
    if (offset > hashed_until_ || offset + n <= hashed_until_) return;
    const size_t skip = static_cast<size_t>(hashed_until_ - offset);
    XXH3_64bits_update(state_.get(), p + skip, n - skip);
    hashed_until_ = offset + n;
  }
  uint64_t hashed_until() const { return hashed_until_; }
  uint64_t Digest() const { return XXH3_64bits_digest(state_.get()); }
  // Reads and hashes the file's bytes from hashed_until() to `end` (or to
  // the end of the file) through `buf`, `block` bytes at a time.
  Status HashUpTo(const InputFile& file, uint64_t end, char* buf, size_t block) {
    while (hashed_until_ < end) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(block, end - hashed_until_));
      CDP_ASSIGN_OR_RETURN(size_t got, file.ReadAt(hashed_until_, buf, want));
      if (got == 0) break;
      Update(hashed_until_, buf, got);
    }
    return Status::Ok();
  }

 private:
  struct Free {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, Free> state_;
  uint64_t hashed_until_ = 0;
};

// The block buffer of the last reader destroyed on this thread. Parallel
// ingest opens one range reader per range; reusing the buffer saves the page
// faults of a fresh block each time. Holds at most one block per thread.
struct CachedBuffer {
  std::unique_ptr<char[]> buf;
  size_t size = 0;
  // The field position arrays of that reader (see CsvReader::fpos_).
  std::vector<uint64_t> fpos;
  std::vector<uint32_t> flen;
};
thread_local CachedBuffer tls_cached_buffer;

// A buffer of n bytes plus padding, the cached one if it has that size.
std::unique_ptr<char[]> TakeBuffer(size_t n) {
  CachedBuffer& cache = tls_cached_buffer;
  if (cache.buf && cache.size == n) {
    cache.size = 0;
    return std::move(cache.buf);
  }
  return AllocateBuffer(n);
}

void ReturnBuffer(std::unique_ptr<char[]> buf, size_t n) {
  if (!buf) return;
  tls_cached_buffer.buf = std::move(buf);
  tls_cached_buffer.size = n;
}

// Buffers of one capacity passed from a splitter (which fills them) to the
// readers of its ranges (which give them back when done). Thread-safe.
class BufferPool {
 public:
  explicit BufferPool(size_t cap) : cap_(cap), free_(kMaxFree) {}
  size_t cap() const { return cap_; }
  std::unique_ptr<char[]> Take() { return free_.Take([this] { return AllocateBuffer(cap_); }); }
  // Keeps `b` if it has the pool's capacity.
  void Give(std::unique_ptr<char[]> b, size_t cap) {
    if (b && cap == cap_) free_.Put(std::move(b));
  }

 private:
  static constexpr size_t kMaxFree = 16;
  const size_t cap_;
  FreeList<std::unique_ptr<char[]>> free_;
};

// The largest record (bytes up to and including its first line-break byte)
// the reader and the splitter accept; both must use the same value.
size_t EffectiveMaxRecordBytes(const CsvOptions& o) {
  return std::max(o.max_record_bytes, std::max(o.block_size, kMinBlock));
}

// The exact CSV grammar, shared by the reader (for every record its fast
// path does not accept) and by the splitter (for every chunk its bit tests
// do not clear), so that both resynchronise after a bad record in the same
// place. See "Parsing rules" in csv_reader.h.
struct CsvGrammar {
  char delim;
  char quote;
  bool skip_space;
  size_t max_record_bytes;
};

struct ScannedField {
  size_t begin;
  size_t end;
  bool quoted;  // [begin, end) includes the quotes
};

struct RecordScan {
  enum class Kind { kRecord, kEmptyLine, kError, kDiscard, kNeedMore };
  Kind kind = Kind::kNeedMore;
  // kRecord, kEmptyLine, kError: where the next record starts, and its line.
  // kDiscard: where the caller skips on to just after the next line break
  // (the record is too long to keep); next_line is the line there.
  size_t next = 0;
  int64_t next_line = 0;
  // kRecord: end of the record's bytes (its line break excluded).
  // kError, kDiscard: end of the bytes kept for the quarantine.
  size_t rec_end = 0;
  int64_t last_line = 0;  // kError, kDiscard: last line of the bad record
  std::string reason;     // kError, kDiscard: without the file name
};

// Parses the record at buf[start] (a record start at line `line`) from
// buf[start, end); `eof`: end is the end of the input. The record may use
// bytes [start, start + max_record_bytes) and one more byte to tell CRLF or
// a closing quote apart; kNeedMore when those are not all in the buffer yet.
__attribute__((noinline)) RecordScan ScanRecord(const char* buf, size_t start, size_t end, bool eof,
                                                int64_t line, const CsvGrammar& g,
                                                std::vector<ScannedField>* fields) {
  using Kind = RecordScan::Kind;
  RecordScan out;
  if (fields) fields->clear();
  const size_t max = g.max_record_bytes;
  const size_t wend = end - start > max ? start + max : end;
  int64_t ln = line;
  size_t line_start = start;
  auto column = [&](size_t at) { return std::to_string(at - line_start + 1); };
  // What reaching wend means: 0 = need more, 1 = end of input, 2 = too long.
  auto at_wend = [&]() -> int {
    if (wend == end && eof) return 1;
    return wend - start == max ? 2 : 0;
  };
  // The byte at i (i may be wend): -1 at the end of the input, -2 if not read yet.
  auto peek = [&](size_t i) -> int {
    if (i < end) return static_cast<unsigned char>(buf[i]);
    return eof ? -1 : -2;
  };
  auto need_more = [&]() {
    out = RecordScan();
    out.kind = Kind::kNeedMore;
    return out;
  };
  // The record is bad: it is quarantined up to the end of line `e_line`
  // (the first line break at or after `from`) and reading resumes after it.
  auto fail = [&](size_t from, int64_t e_line, std::string reason) -> RecordScan {
    out.reason = std::move(reason);
    out.last_line = e_line;
    for (size_t i = from; i < wend; ++i) {
      const char c = buf[i];
      if (c != '\n' && c != '\r') continue;
      size_t nx = i + 1;
      if (c == '\r') {
        const int p = peek(nx);
        if (p == -2) return need_more();
        if (p == '\n') ++nx;
      }
      out.kind = Kind::kError;
      out.rec_end = i;
      out.next = nx;
      out.next_line = e_line + 1;
      return out;
    }
    switch (at_wend()) {
      case 0:
        return need_more();
      case 1:
        out.kind = Kind::kError;
        out.rec_end = out.next = end;
        out.next_line = e_line;
        return out;
      default:
        out.kind = Kind::kDiscard;
        out.rec_end = out.next = wend;
        out.next_line = e_line;
        return out;
    }
  };
  auto too_long = [&]() {
    return fail(wend, ln,
                "record starting at line " + std::to_string(line) + " is longer than " + std::to_string(max) +
                    " bytes (max_record_bytes); skipped to the end of line " + std::to_string(ln));
  };
  auto not_closed = [&](int64_t open_line, const std::string& open_col) {
    return "line " + std::to_string(open_line) + ", column " + open_col +
           ": the quoted field starting here is not closed by a quote followed by a delimiter or line break";
  };
  // The record ends at the line break at i.
  auto end_record = [&](size_t i) -> RecordScan {
    size_t nx = i + 1;
    if (buf[i] == '\r') {
      const int p = peek(nx);
      if (p == -2) return need_more();
      if (p == '\n') ++nx;
    }
    out.kind = Kind::kRecord;
    out.rec_end = i;
    out.next = nx;
    out.next_line = ln + 1;
    return out;
  };
  auto end_at_eof = [&]() -> RecordScan {
    out.kind = Kind::kRecord;
    out.rec_end = out.next = end;
    out.next_line = ln;
    return out;
  };

  size_t i = start;
  {
    const int p = peek(i);
    if (p == -2) return need_more();
    if (p == '\n' || p == '\r') {
      RecordScan r = end_record(i);
      if (r.kind == Kind::kRecord) r.kind = Kind::kEmptyLine;
      return r;
    }
  }
  for (;;) {  // one field per iteration; i is at its first byte
    const size_t fstart = i;
    if (i < wend && buf[i] == g.quote) {
      const int64_t open_line = ln;
      const std::string open_col = column(i);
      ++i;
      for (;;) {
        if (i >= wend) {
          if (at_wend() == 0) return need_more();
          return fail(fstart, open_line, not_closed(open_line, open_col));
        }
        const char c = buf[i];
        if (c == g.quote) {
          const int p = peek(i + 1);
          if (p == -2) return need_more();
          if (p == g.quote) {
            i += 2;
            continue;
          }
          ++i;
          if (p == -1 || p == g.delim || p == '\n' || p == '\r') break;  // closed
          if (ln == open_line) {
            return fail(
                i, ln,
                "line " + std::to_string(ln) + ", column " + column(i) +
                    ": text after the closing quote of a quoted field (a quote inside a quoted field is "
                    "written twice)");
          }
          return fail(fstart, open_line, not_closed(open_line, open_col));
        }
        if (c == '\r' || (c == '\n' && buf[i - 1] != '\r')) ++ln;
        if (c == '\r' || c == '\n') line_start = i + 1;
        ++i;
      }
      if (fields) fields->push_back({fstart, i, true});
    } else {
      for (;;) {
        if (i >= wend) {
          const int w = at_wend();
          if (w == 0) return need_more();
          if (w == 2) return too_long();
          if (fields) fields->push_back({fstart, i, false});
          return end_at_eof();
        }
        const char c = buf[i];
        if (c == g.delim || c == '\n' || c == '\r') break;
        if (c == g.quote) {
          return fail(
              i, ln,
              "line " + std::to_string(ln) + ", column " + column(i) +
                  ": quote character inside an unquoted field (a field with quotes must be quoted as a "
                  "whole, its quotes doubled)");
        }
        ++i;
      }
      if (fields) fields->push_back({fstart, i, false});
    }
    // i is after the field: at a delimiter, a line break, wend, or the end.
    if (i >= wend) {
      const int w = at_wend();
      if (w == 0) return need_more();
      if (w == 2) return too_long();
      return end_at_eof();
    }
    if (buf[i] != g.delim) return end_record(i);
    ++i;
    if (g.skip_space) {
      while (i < wend && buf[i] == ' ') ++i;
    }
  }
}

}  // namespace

class CsvRangeBytes {
 public:
  CsvRangeBytes() = default;
  CsvRangeBytes(const CsvRangeBytes&) = delete;
  CsvRangeBytes& operator=(const CsvRangeBytes&) = delete;
  ~CsvRangeBytes() {
    if (pool) pool->Give(std::move(buf), cap);
  }
  std::shared_ptr<BufferPool> pool;  // where buf goes back to
  std::unique_ptr<char[]> buf;  // cap bytes plus padding; the range is the first `size`
  size_t cap = 0;
  size_t size = 0;
};

namespace {

// The first read of a reader is small: a range reader only needs the header.
constexpr size_t kFirstReadBytes = 64 << 10;

Status ValidateOptions(const std::string& path, const CsvOptions& o) {
  auto bad = [](char c) { return c == '\n' || c == '\r' || c == '\0'; };
  if (bad(o.delimiter) || bad(o.quote)) {
    return InvalidArgumentError(path + ": the CSV delimiter and quote may not be a line break or NUL");
  }
  if (o.delimiter == o.quote) return InvalidArgumentError(path + ": the CSV delimiter and quote must differ");
  if (o.skip_lines < 0) return InvalidArgumentError(path + ": the lines to skip cannot be negative");
  if (o.skip_space_after_delimiter && o.quote == ' ') {
    return InvalidArgumentError(path + ": the quote cannot be a space with skip_space_after_delimiter");
  }
  return Status::Ok();
}

class CsvReader final : public RecordReader {
 public:
  // With `hash_file`, the bytes read from the file's start on are hashed
  // (content_hash()).
  CsvReader(std::unique_ptr<InputFile> file, const CsvOptions& options, bool hash_file)
      : file_(std::move(file)),
        opt_(options),
        classifier_(options.delimiter, options.quote, '\n', '\r') {
    opt_.max_record_bytes = EffectiveMaxRecordBytes(opt_);
    opt_.block_size = std::max(opt_.block_size, kMinBlock);
    grammar_ = CsvGrammar{opt_.delimiter, opt_.quote, opt_.skip_space_after_delimiter, opt_.max_record_bytes};
    // A small file needs no full block.
    cap_ = static_cast<size_t>(std::min<uint64_t>(opt_.block_size, std::max<uint64_t>(file_->size() + 1, kMinBlock)));
    buf_ = TakeBuffer(cap_);
    if (hash_file) hasher_ = std::make_unique<FileHasher>();
    fpos_.swap(tls_cached_buffer.fpos);
    flen_.swap(tls_cached_buffer.flen);
    Reposition(0, file_->size(), 1);
  }
  ~CsvReader() override {
    ReturnBuffer(std::move(buf_), cap_);
    if (fpos_.size() > tls_cached_buffer.fpos.size()) {
      tls_cached_buffer.fpos.swap(fpos_);
      tls_cached_buffer.flen.swap(flen_);
    }
  }
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the header (or peeks at the first record to name the fields) and
  // leaves the reader at the first data record.
  Status ReadHeader();
  // Skips opt_.skip_lines physical lines from the start of the file; returns
  // how many there were (fewer at the end of the file).
  StatusOr<int64_t> SkipLines();
  // Restricts the reader to file bytes [begin, end), which start at line `line`.
  void Reposition(uint64_t begin, uint64_t end, int64_t line) {
    begin_ = end_ = 0;
    utf8_ok_until_ = utf8_checked_until_ = 0;
    file_off_ = begin;
    start_off_ = begin;
    limit_ = end;
    eof_ = file_off_ >= limit_;
    line_ = line;
    first_line_ = line;
    partial_last_line_ = false;
    check_bom_ = begin == 0;
    discarding_ = false;
  }
  // Parses the range's bytes (all of [range.begin, range.end)) from memory
  // instead of reading the file.
  void UseRangeBytes(std::shared_ptr<CsvRangeBytes> bytes, const CsvRange& range) {
    Reposition(range.begin, range.end, range.first_line);
    end_ = bytes->size;
    range_bytes_ = std::move(bytes);
    file_off_ = range.end;
    eof_ = true;
    check_bom_ = false;
    // A byte-order mark is not part of the first record (as in Fill()).
    if (range.begin == 0 && end_ >= 3 && std::memcmp(data(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
  }
  uint64_t file_size() const { return file_->size(); }
  // The buffer being parsed: range bytes, or buf_.
  char* data() const { return range_bytes_ ? range_bytes_->buf.get() : buf_.get(); }
  uint64_t data_start() const { return data_start_; }
  int64_t data_start_line() const { return data_start_line_; }

  const std::vector<std::string>& field_names() const override { return names_; }
  StatusOr<bool> Next(RawRecordBatch* batch, size_t max_records) override;
  uint64_t bytes_read() const override { return file_off_ - (end_ - begin_) - start_off_; }
  uint64_t total_bytes() const override { return limit_ - start_off_; }
  std::optional<uint64_t> content_hash() const override {
    if (!hasher_ || !eof_ || begin_ != end_ || hasher_->hashed_until() != file_->size()) return std::nullopt;
    return hasher_->Digest();
  }
  int64_t lines_read() const override { return line_ - first_line_ + (partial_last_line_ ? 1 : 0); }

 private:
  struct RegionResult {
    size_t records;
    bool need_more;
    bool slow = false;  // the record at begin_ is for SlowRecord
  };
  RegionResult ParseRegion(RawRecordBatch* batch, size_t max_records, uint64_t arena_base);
  // Parses the record at begin_ (one ParseRegion did not accept) with
  // ScanRecord and moves begin_ past it; adds its record or record error
  // (++*count) unless it only starts skipping an over-long record. False when
  // more input is needed first. `borrow`: fields point into data().
  bool SlowRecord(RawRecordBatch* batch, bool borrow, size_t* count);
  // Moves unparsed bytes to the front and reads more; grows the buffer for a
  // long record, or switches to discarding it when it exceeds max_record_bytes.
  Status Fill();
  // Skips the over-long record at begin_; true once its end was found (a
  // record error is then added to the batch).
  bool DiscardStep(RawRecordBatch* batch);
  // A record error for lines [line, last_line] whose bytes are
  // data()[raw_begin, raw_end); `reason` lacks the file name.
  void AddRecordError(RawRecordBatch* batch, int64_t line, int64_t last_line, const std::string& reason,
                      size_t raw_begin, size_t raw_end) {
    AddRecordError(
        batch, line, last_line, reason,
        EscapeRawBytes(std::string_view(data() + raw_begin, raw_end - raw_begin), kMaxRawErrorBytes));
  }
  void AddRecordError(RawRecordBatch* batch, int64_t line, int64_t last_line, const std::string& reason,
                      std::string raw) {
    uint32_t index = static_cast<uint32_t>(batch->line.size());
    batch->line.push_back(line);
    batch->field_begin.push_back(static_cast<uint32_t>(nfields_));
    batch->record_errors.emplace_back(index, file_->path() + ": " + reason);
    batch->record_error_inputs.push_back({std::move(raw), last_line});
  }
  // The reason a complete record [rec_start, rec_end) is bad (invalid UTF-8
  // or a NUL byte), or empty. `has_high`: it has a byte >= 0x80.
  std::string CheckBytes(size_t rec_start, size_t rec_end, int64_t rec_line, bool has_high) const;
  // Out of ParseRegion's hot loop: is [rec_start, rec_end) valid UTF-8
  // without NUL; the record error of one that is not.
  __attribute__((noinline)) bool BytesOk(size_t rec_start, size_t rec_end, bool has_high) const {
    const char* buf = data();
    if (has_high && !ingest_internal::IsValidUtf8(buf + rec_start, rec_end - rec_start)) return false;
    return std::memchr(buf + rec_start, 0, rec_end - rec_start) == nullptr;
  }
  __attribute__((noinline)) void AddBadBytesError(RawRecordBatch* batch, size_t rec_start, size_t rec_end,
                                                  int64_t rec_line, int64_t last_line) {
    AddRecordError(batch, rec_line, last_line, CheckBytes(rec_start, rec_end, rec_line, true), rec_start,
                   rec_end);
  }

  std::unique_ptr<InputFile> file_;
  std::unique_ptr<FileHasher> hasher_;  // null unless hashing
  // Set when parsing range bytes from memory (UseRangeBytes): then data()
  // is their buffer, all of the range, and buf_ is not used.
  std::shared_ptr<CsvRangeBytes> range_bytes_;
  std::vector<size_t> unquoted_at_;  // Next(): arena offsets of unquoted copies
  CsvOptions opt_;
  CsvGrammar grammar_;
  std::vector<ScannedField> scanned_;  // fields of a record ScanRecord parsed
  ByteClassifier classifier_;
  std::vector<std::string> names_;
  uint64_t data_start_ = 0;
  int64_t data_start_line_ = 1;

  // Unparsed input is buf_[begin_, end_); buf_[end_] is file byte file_off_.
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t file_off_ = 0;
  uint64_t start_off_ = 0;
  uint64_t limit_ = 0;
  bool eof_ = false;  // no bytes left to read below limit_
  bool check_bom_ = false;
  bool small_reads_ = false;  // while reading the header
  int64_t line_ = 1;  // physical line at begin_
  int64_t first_line_ = 1;          // line at the start of the input (range)
  bool partial_last_line_ = false;  // the input ended without a line break after a record

  // Skipping the rest of an over-long record, up to the next line break; the
  // record error is added once it is found.
  bool discarding_ = false;
  int64_t discard_line_ = 0;  // where the record starts
  std::string discard_reason_;
  std::string discard_raw_;

  // Bytes of buf_ known to be valid UTF-8 without NUL up to clean_until (see
  // utf8_ok_until_).

  // Bytes of buf_ known to be valid UTF-8 up to utf8_ok_until_, and checked
  // (valid or not) up to utf8_checked_until_; both at line ends.
  size_t utf8_ok_until_ = 0;
  size_t utf8_checked_until_ = 0;

  // Per Next(): nfields_ fields as arena offsets, and fields that need unquoting.
  size_t nfields_ = 0;
  std::vector<uint64_t> fpos_;
  std::vector<uint32_t> flen_;
  std::vector<uint32_t> unquote_;
  size_t escape_at_ = 0;  // ParseRegion: the second quote of a doubled quote in a quoted field
};

Status CsvReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    utf8_ok_until_ = utf8_ok_until_ > begin_ ? utf8_ok_until_ - begin_ : 0;
    utf8_checked_until_ = utf8_checked_until_ > begin_ ? utf8_checked_until_ - begin_ : 0;
    begin_ = 0;
  }
  if (end_ == cap_) {
    // A record can use max_record_bytes plus one byte (ScanRecord); the parser
    // decides about a record before the buffer is that full.
    const size_t max_cap = opt_.max_record_bytes + kMinBlock;
    if (cap_ >= max_cap) return InternalError(file_->path() + ": CSV record buffer overflow");
    size_t new_cap = std::min(cap_ * 2, max_cap);
    auto bigger = AllocateBuffer(new_cap);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = new_cap;
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(cap_ - end_, limit_ - file_off_));
  if (small_reads_) want = std::min(want, kFirstReadBytes);
  CDP_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(file_off_, buf_.get() + end_, want));
  if (hasher_) hasher_->Update(file_off_, buf_.get() + end_, got);
  bool at_file_start = file_off_ == 0;
  file_off_ += got;
  end_ += got;
  if (got < want) limit_ = file_off_;  // the file shrank while being read
  eof_ = file_off_ >= limit_;
  if (check_bom_ && at_file_start && (end_ >= 3 || eof_)) {
    check_bom_ = false;
    if (end_ >= 3 && std::memcmp(buf_.get(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
  }
  return Status::Ok();
}

bool CsvReader::DiscardStep(RawRecordBatch* batch) {
  const char* buf = data();
  size_t i = begin_;
  while (i < end_) {
    const char c = buf[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 == end_ && !eof_) break;  // is it CRLF? read on
      size_t term = i + 1;
      if (c == '\r' && term < end_ && buf[term] == '\n') ++term;
      AddRecordError(batch, discard_line_, line_, discard_reason_, std::move(discard_raw_));
      ++line_;
      begin_ = term;
      discarding_ = false;
      return true;
    }
    ++i;
  }
  begin_ = i;
  if (eof_ && begin_ == end_) {
    discarding_ = false;
    partial_last_line_ = true;
    AddRecordError(batch, discard_line_, line_, discard_reason_, std::move(discard_raw_));
    return true;
  }
  return false;
}

std::string CsvReader::CheckBytes(size_t rec_start, size_t rec_end, int64_t rec_line, bool has_high) const {
  const char* buf = data();
  size_t bad = rec_end;
  if (has_high) bad = rec_start + ingest_internal::FirstInvalidUtf8(buf + rec_start, rec_end - rec_start);
  const void* nul = std::memchr(buf + rec_start, 0, bad - rec_start);
  if (nul == nullptr && bad == rec_end) return std::string();
  if (nul != nullptr) bad = static_cast<size_t>(static_cast<const char*>(nul) - buf);
  int64_t line = rec_line;
  size_t line_start = rec_start;
  for (size_t i = rec_start; i < bad; ++i) {
    if (buf[i] == '\n' || (buf[i] == '\r' && buf[i + 1] != '\n')) {
      ++line;
      line_start = i + 1;
    }
  }
  const std::string where =
      "line " + std::to_string(line) + ", column " + std::to_string(bad - line_start + 1);
  if (nul != nullptr) return "NUL byte (0x00) at " + where + "; CSV text may not contain NUL";
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(buf[bad])));
  return "invalid UTF-8 at " + where + " (byte " + hex + ")";
}

CsvReader::RegionResult CsvReader::ParseRegion(RawRecordBatch* batch, size_t max_records, uint64_t arena_base) {
  const char* const buf = data();
  const size_t end = end_;
  const bool eof = eof_;
  const char delim = opt_.delimiter;
  const char quote = opt_.quote;
  const bool skip_space = opt_.skip_space_after_delimiter;
  const uint64_t delta = arena_base - begin_;  // arena offset of buf[i] is i + delta (mod 2^64)
  size_t records = 0;

  // Validate UTF-8 (and look for NUL) in one call up to the last LF not yet
  // checked: records that end before utf8_ok_until_ need no check of their own.
  if (utf8_checked_until_ < begin_) utf8_checked_until_ = utf8_ok_until_ = begin_;
  if (utf8_checked_until_ < end) {
    const void* last_lf = memrchr(buf + utf8_checked_until_, '\n', end - utf8_checked_until_);
    if (last_lf != nullptr) {
      const size_t upto = static_cast<size_t>(static_cast<const char*>(last_lf) - buf);
      if (utf8_ok_until_ == utf8_checked_until_ &&
          ingest_internal::IsValidUtf8(buf + utf8_checked_until_, upto - utf8_checked_until_) &&
          std::memchr(buf + utf8_checked_until_, 0, upto - utf8_checked_until_) == nullptr) {
        utf8_ok_until_ = upto;
      }
      utf8_checked_until_ = upto;
    }
  }
  const size_t utf8_ok_until = utf8_ok_until_;

  // Field output: fpos_/flen_ are used as arrays with nfields_ entries and
  // always keep room for the at most 64 fields one chunk can end.
  size_t nf = nfields_;
  uint64_t* fpos = fpos_.data();
  uint32_t* flen = flen_.data();
  auto ensure_room = [&](size_t more) __attribute__((always_inline)) {
    if (nf + more > fpos_.size()) {
      const size_t cap = std::max<size_t>(std::max(fpos_.size() * 2, nf + more), 1024);
      fpos_.resize(cap);
      flen_.resize(cap);
      fpos = fpos_.data();
      flen = flen_.data();
    }
  };
  ensure_room(66);

  size_t rec_start = begin_;
  size_t field_start = rec_start;
  size_t rec_fields = nf;
  size_t rec_unquote = unquote_.size();
  int64_t line = line_;
  int64_t rec_line = line;
  bool in_quotes = false;
  bool field_quoted = false;
  escape_at_ = 0;

#define CDP_PUSH_FIELD(from, to)                                                  \
  do {                                                                            \
    fpos[nf] = (from) + delta;                                                    \
    flen[nf] = static_cast<uint32_t>((to) - (from));                              \
    if (__builtin_expect(field_quoted, 0)) unquote_.push_back(static_cast<uint32_t>(nf)); \
    ++nf;                                                                         \
    field_quoted = false;                                                         \
  } while (0)

  // Ends the record [rec_start, rec_end) whose fields are pushed; its last
  // line is `last_line`.
  auto finish_record = [&](size_t rec_end, bool has_high, int64_t last_line) __attribute__((always_inline)) {
    if (__builtin_expect(rec_end > utf8_ok_until, 0) && !BytesOk(rec_start, rec_end, has_high)) {
      nf = rec_fields;
      unquote_.resize(rec_unquote);
      nfields_ = nf;
      AddBadBytesError(batch, rec_start, rec_end, rec_line, last_line);
      return;
    }
    batch->line.push_back(rec_line);
    batch->field_begin.push_back(static_cast<uint32_t>(nf));
  };

  size_t chunk = rec_start;
  uint64_t mask = 0;
  uint64_t high = 0;
  bool rec_high = false;
  if (chunk < end) {
    classifier_.Classify(buf + chunk, &mask, &high);
    mask &= ValidBits(end - chunk);
    high &= ValidBits(end - chunk);
    rec_high = high != 0;
  }
  while (chunk < end) {
    while (mask == 0) {
      chunk += 64;
      if (chunk >= end) goto out_of_data;
      classifier_.Classify(buf + chunk, &mask, &high);
      mask &= ValidBits(end - chunk);
      high &= ValidBits(end - chunk);
      rec_high |= high != 0;
      ensure_room(66);
    }
    {
      const size_t idx = chunk + static_cast<size_t>(__builtin_ctzll(mask));
      mask &= mask - 1;
      if (__builtin_expect(idx < field_start, 0)) continue;  // the LF of a CRLF already consumed
      const char c = buf[idx];
      if (__builtin_expect(in_quotes, 0)) {
        if (c == quote) {
          if (idx == escape_at_) continue;
          // A closing quote is followed by a delimiter, a line break or the
          // end of the input; a doubled quote is one quote of the field.
          if (idx + 1 >= end) {
            if (!eof) goto out_of_data;
            in_quotes = false;
            continue;
          }
          const char d = buf[idx + 1];
          if (d == quote) {
            escape_at_ = idx + 1;
          } else if (d == delim || d == '\n' || d == '\r') {
            in_quotes = false;
          } else {
            goto slow_record;
          }
        } else if (c == '\r') {
          ++line;
        } else if (c == '\n') {
          if (buf[idx - 1] != '\r') ++line;
        }
        continue;
      }
      if (__builtin_expect(c == delim, 1)) {
        CDP_PUSH_FIELD(field_start, idx);
        field_start = idx + 1;
        if (skip_space) {
          while (field_start < end && buf[field_start] == ' ') ++field_start;
        }
        continue;
      }
      if (c == quote) {
        // Only a field's first byte may open quotes.
        if (idx != field_start) goto slow_record;
        in_quotes = true;
        field_quoted = true;
        continue;
      }
      // A line break outside quotes ends the record.
      size_t term = idx + 1;
      if (c == '\r') {
        if (term == end && !eof) goto out_of_data;  // CRLF split by the buffer end
        if (term < end && buf[term] == '\n') ++term;
      }
      if (idx != rec_start) {  // not an empty line
        if (__builtin_expect(idx - rec_start >= opt_.max_record_bytes, 0)) goto slow_record;
        CDP_PUSH_FIELD(field_start, idx);
        finish_record(idx, rec_high, line);
        ++records;
      }
      ++line;
      rec_start = field_start = term;
      rec_line = line;
      rec_fields = nf;
      rec_unquote = unquote_.size();
      const size_t rel = term - chunk;
      rec_high = rel < 64 && (high >> rel) != 0;
      if (records == max_records) {
        begin_ = rec_start;
        line_ = line;
        nfields_ = nf;
        return {records, false};
      }
    }
  }
out_of_data:
  if (!eof) {
    if (end - rec_start > opt_.max_record_bytes) goto slow_record;  // the grammar decides with what it has
    // The record at rec_start is incomplete: parse it again after a refill.
    nfields_ = rec_fields;
    unquote_.resize(rec_unquote);
    begin_ = rec_start;
    line_ = rec_line;
    return {records, true};
  }
  if (rec_start < end) {  // the last record has no line break
    if (in_quotes || end - rec_start > opt_.max_record_bytes) goto slow_record;
    CDP_PUSH_FIELD(field_start, end);
    finish_record(end, rec_high, line);
    partial_last_line_ = true;
    ++records;
    rec_start = end;
  }
  nfields_ = nf;
  begin_ = end;
  line_ = line;
  return {records, false};
slow_record:
  // The record at rec_start breaks a rule (or is too long): SlowRecord
  // parses it with the exact grammar.
  nfields_ = rec_fields;
  unquote_.resize(rec_unquote);
  begin_ = rec_start;
  line_ = rec_line;
  return {records, false, true};
#undef CDP_PUSH_FIELD
}

bool CsvReader::SlowRecord(RawRecordBatch* batch, bool borrow, size_t* count) {
  const char* buf = data();
  const size_t start = begin_;
  const int64_t rec_line = line_;
  RecordScan scan = ScanRecord(buf, start, end_, eof_, rec_line, grammar_, &scanned_);
  const bool ends_input = scan.next == end_ && scan.rec_end == end_;
  switch (scan.kind) {
    case RecordScan::Kind::kNeedMore:  // never at the end of the input or with a full window
      return false;
    case RecordScan::Kind::kEmptyLine:
      break;
    case RecordScan::Kind::kRecord: {
      const int64_t last_line = scan.next_line - (scan.next == scan.rec_end ? 0 : 1);
      std::string bad = CheckBytes(start, scan.rec_end, rec_line, true);
      if (!bad.empty()) {
        AddRecordError(batch, rec_line, last_line, bad, start, scan.rec_end);
      } else {
        const uint64_t base = borrow ? start : batch->arena.size();
        if (nfields_ + scanned_.size() + 66 > fpos_.size()) {
          fpos_.resize(nfields_ + scanned_.size() + 1024);
          flen_.resize(fpos_.size());
        }
        for (const ScannedField& f : scanned_) {
          fpos_[nfields_] = f.begin - start + base;
          flen_[nfields_] = static_cast<uint32_t>(f.end - f.begin);
          if (f.quoted) unquote_.push_back(static_cast<uint32_t>(nfields_));
          ++nfields_;
        }
        if (!borrow) batch->arena.append(buf + start, scan.rec_end - start);
        batch->line.push_back(rec_line);
        batch->field_begin.push_back(static_cast<uint32_t>(nfields_));
      }
      ++*count;
      break;
    }
    case RecordScan::Kind::kError:
      AddRecordError(batch, rec_line, scan.last_line, scan.reason, start, scan.rec_end);
      ++*count;
      break;
    case RecordScan::Kind::kDiscard:
      // Skip to the end of the line (Next() goes on with DiscardStep).
      discarding_ = true;
      discard_line_ = rec_line;
      discard_reason_ = std::move(scan.reason);
      discard_raw_ = EscapeRawBytes(std::string_view(buf + start, scan.rec_end - start), kMaxRawErrorBytes);
      break;
  }
  if (ends_input && scan.kind != RecordScan::Kind::kDiscard) partial_last_line_ = true;
  begin_ = scan.next;
  line_ = scan.next_line;
  return true;
}

StatusOr<bool> CsvReader::Next(RawRecordBatch* batch, size_t max_records) {
  batch->Clear();
  batch->location = file_->path();
  if (max_records == 0) max_records = 1;
  nfields_ = 0;
  unquote_.clear();
  // Over range bytes (all in memory, never refilled) the views point into
  // them and the batch keeps them alive; otherwise parsed bytes are copied
  // to the batch's arena.
  const bool borrow = range_bytes_ != nullptr;
  size_t count = 0;
  while (count < max_records) {
    if (discarding_) {
      if (DiscardStep(batch)) {
        ++count;
      } else {
        CDP_RETURN_IF_ERROR(Fill());
      }
      continue;
    }
    if (begin_ == end_ && eof_) break;
    const size_t region_start = begin_;
    const uint64_t arena_base = borrow ? region_start : batch->arena.size();
    RegionResult r = ParseRegion(batch, max_records - count, arena_base);
    count += r.records;
    if (!borrow && begin_ > region_start) batch->arena.append(data() + region_start, begin_ - region_start);
    if (r.slow && count < max_records && !SlowRecord(batch, borrow, &count)) r.need_more = true;
    if (r.need_more) CDP_RETURN_IF_ERROR(Fill());
  }
  // Unquotes s[0, len) in place (the result is never longer); returns its length.
  const char quote = opt_.quote;
  auto unquote = [quote](char* s, size_t len) {
    size_t o = 0;
    bool in_quotes = false;
    for (size_t i = 0; i < len; ++i) {
      const char c = s[i];
      if (c == quote) {
        if (in_quotes && i + 1 < len && s[i + 1] == quote) {
          s[o++] = quote;
          ++i;
        } else {
          in_quotes = !in_quotes;
        }
      } else {
        s[o++] = c;
      }
    }
    return o;
  };
  const size_t n = nfields_;
  if (borrow) {
    // Quoted fields are unquoted in copies in the arena.
    const char* base = data();
    unquoted_at_.clear();
    for (uint32_t fi : unquote_) {
      const size_t at = batch->arena.size();
      batch->arena.append(base + fpos_[fi], flen_[fi]);
      flen_[fi] = static_cast<uint32_t>(unquote(batch->arena.data() + at, flen_[fi]));
      unquoted_at_.push_back(at);
    }
    batch->fields.assign(FieldViewIterator{base, fpos_.data(), flen_.data(), 0},
                         FieldViewIterator{base, fpos_.data(), flen_.data(), n});
    for (size_t k = 0; k < unquote_.size(); ++k) {
      batch->fields[unquote_[k]] = std::string_view(batch->arena.data() + unquoted_at_[k], flen_[unquote_[k]]);
    }
    if (count > 0) batch->keep_alive = range_bytes_;
  } else {
    char* arena = batch->arena.data();
    for (uint32_t fi : unquote_) flen_[fi] = static_cast<uint32_t>(unquote(arena + fpos_[fi], flen_[fi]));
    batch->fields.assign(FieldViewIterator{arena, fpos_.data(), flen_.data(), 0},
                         FieldViewIterator{arena, fpos_.data(), flen_.data(), n});
  }
  batch->is_null.assign(n, 0);
  return count > 0;
}

StatusOr<int64_t> CsvReader::SkipLines() {
  int64_t skipped = 0;
  small_reads_ = true;
  while (skipped < opt_.skip_lines) {
    if (begin_ == end_ || (data()[end_ - 1] == '\r' && begin_ + 1 == end_ && !eof_)) {
      if (eof_) break;
      CDP_RETURN_IF_ERROR(Fill());
      continue;
    }
    const char* buf = data();
    size_t i = begin_;
    while (i < end_ && buf[i] != '\n' && buf[i] != '\r') ++i;
    if (i == end_) {  // no line break yet
      begin_ = end_;
      if (eof_) {
        ++skipped;  // the last line, without a line break
        break;
      }
      continue;
    }
    if (buf[i] == '\r' && i + 1 == end_ && !eof_) {  // CR or CRLF? read on
      begin_ = i;
      continue;
    }
    begin_ = i + ((buf[i] == '\r' && i + 1 < end_ && buf[i + 1] == '\n') ? 2 : 1);
    ++skipped;
    ++line_;
  }
  small_reads_ = false;
  return skipped;
}

Status CsvReader::ReadHeader() {
  const std::string& path = file_->path();
  int64_t skipped = 0;
  if (opt_.skip_lines > 0) {
    CDP_ASSIGN_OR_RETURN(skipped, SkipLines());
  }
  // Where the header (or, without one, the data) starts.
  const uint64_t start_off = file_off_ - (end_ - begin_);
  const int64_t start_line = line_;
  RawRecordBatch first;
  small_reads_ = true;
  auto next = Next(&first, 1);
  small_reads_ = false;
  CDP_ASSIGN_OR_RETURN(bool any, std::move(next));
  if (!any) {
    if (opt_.has_header) {
      if (opt_.skip_lines > 0) {
        return InvalidArgumentError(path + ": no header row after the " + std::to_string(opt_.skip_lines) +
                                    " skipped lines (skip_rows); the file has " + std::to_string(skipped) +
                                    (skipped == 1 ? " line" : " lines"));
      }
      return InvalidArgumentError(path + ": the file is empty; expected a header row");
    }
    data_start_ = start_off;
    data_start_line_ = start_line;
    return Status::Ok();
  }
  if (!first.record_errors.empty() && !opt_.has_header) {
    // Without a header the fields are counted on the first record that
    // parses (of the first 1000); bad ones before it are read again later and
    // quarantined like any other.
    RawRecordBatch next_good;
    bool more = true;
    for (int tries = 0; more && tries < 1000; ++tries) {
      small_reads_ = true;
      auto r = Next(&next_good, 1);
      small_reads_ = false;
      CDP_ASSIGN_OR_RETURN(more, std::move(r));
      if (more && next_good.record_errors.empty()) {
        first = std::move(next_good);
        break;
      }
    }
  }
  if (!first.record_errors.empty()) {
    std::string reason = first.record_errors[0].second;
    if (reason.compare(0, path.size() + 2, path + ": ") == 0) reason.erase(0, path.size() + 2);
    return InvalidArgumentError(path + ": cannot read the " +
                                std::string(opt_.has_header ? "header row" : "first record") + ": " + reason);
  }
  const size_t n = first.num_fields(0);
  if (!opt_.has_header) {
    for (size_t i = 0; i < n; ++i) names_.push_back("column" + std::to_string(i + 1));
    if (start_off == 0) {
      Reposition(0, file_->size(), 1);
    } else {
      // After skipped lines; lines_read() still counts them.
      Reposition(start_off, file_->size(), start_line);
      first_line_ = 1;
    }
    data_start_ = start_off;
    data_start_line_ = start_line;
    return Status::Ok();
  }
  std::unordered_map<std::string_view, size_t> seen;
  names_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string_view name = first.field(0, i);
    if (opt_.skip_space_after_delimiter) {
      while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    }
    if (name.empty()) {
      return InvalidArgumentError(path + ": header field " + std::to_string(i + 1) + " (line " +
                                  std::to_string(first.line[0]) + ") is empty; every field needs a name");
    }
    auto [it, inserted] = seen.emplace(name, i);
    if (!inserted) {
      return InvalidArgumentError(path + ": duplicate field name '" + std::string(name) + "' in the header (fields " +
                                  std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")");
    }
    names_.emplace_back(name);
  }
  data_start_ = file_off_ - (end_ - begin_);
  data_start_line_ = line_;
  return Status::Ok();
}

StatusOr<std::unique_ptr<CsvReader>> OpenReader(const std::string& path, const CsvOptions& options,
                                                bool hash_file = false) {
  CDP_RETURN_IF_ERROR(ValidateOptions(path, options));
  CDP_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  auto reader = std::make_unique<CsvReader>(std::move(file), options, hash_file);
  CDP_RETURN_IF_ERROR(reader->ReadHeader());
  return reader;
}

}  // namespace

StatusOr<std::unique_ptr<RecordReader>> OpenCsvFile(const std::string& path, const CsvOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto reader, OpenReader(path, options, /*hash_file=*/true));
  return std::unique_ptr<RecordReader>(std::move(reader));
}

StatusOr<std::unique_ptr<RecordReader>> OpenCsvRange(const std::string& path, const CsvOptions& options,
                                                     const CsvRange& range) {
  CDP_ASSIGN_OR_RETURN(auto reader, OpenReader(path, options));
  const uint64_t size = reader->file_size();
  if (range.begin > range.end || range.end > size || range.begin < reader->data_start() || range.first_line < 1) {
    return InvalidArgumentError(path + ": byte range [" + std::to_string(range.begin) + ", " +
                                std::to_string(range.end) + ") is not a range of the file's records (" +
                                std::to_string(size) + " bytes)");
  }
  if (range.bytes && range.bytes->buf && range.bytes->size == range.end - range.begin) {
    reader->UseRangeBytes(range.bytes, range);
  } else {
    reader->Reposition(range.begin, range.end, range.first_line);
  }
  return std::unique_ptr<RecordReader>(std::move(reader));
}

namespace {

// Bits of the quote, LF and CR bytes among the 64 bytes at p.
inline void ClassifyBreaks(const char* p, char quote, uint64_t* q, uint64_t* lf, uint64_t* cr) {
#if defined(__SSE2__)
  const __m128i vq = _mm_set1_epi8(quote);
  const __m128i vl = _mm_set1_epi8('\n');
  const __m128i vc = _mm_set1_epi8('\r');
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    a |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)))} << (16 * i);
    b |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vl)))} << (16 * i);
    c |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vc)))} << (16 * i);
  }
  *q = a;
  *lf = b;
  *cr = c;
#else
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  for (int i = 0; i < 64; ++i) {
    a |= uint64_t{p[i] == quote} << i;
    b |= uint64_t{p[i] == '\n'} << i;
    c |= uint64_t{p[i] == '\r'} << i;
  }
  *q = a;
  *lf = b;
  *cr = c;
#endif
}

// Bits of the bytes equal to `c` among the 64 bytes at p.
inline uint64_t ClassifyByte(const char* p, char c) {
#if defined(__SSE2__)
  const __m128i v = _mm_set1_epi8(c);
  uint64_t a = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    a |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, v)))} << (16 * i);
  }
  return a;
#else
  uint64_t a = 0;
  for (int i = 0; i < 64; ++i) a |= uint64_t{p[i] == c} << i;
  return a;
#endif
}

// Blocks of at most this size are scanned at a time, so the first ranges are
// known early and a block is hashed and scanned while it is in cache.
constexpr size_t kSplitBlock = size_t{1} << 20;

// How the splitter stays exact: a 64-byte chunk is scanned with bit
// operations (quote parity, line breaks) as long as every quote in it is
// well placed - an opening quote right after a delimiter, a line break or a
// quote, a closing quote right before one of those - and the record in
// progress is shorter than max_record_bytes. Then quote parity is exactly
// the grammar's state. Otherwise the records from the one in progress on are
// parsed by ScanRecord, the reader's own rules, until one starts after the
// chunk; bit scanning resumes there.
class RangeSplitter final : public CsvRangeSplitter {
 public:
  RangeSplitter(std::unique_ptr<InputFile> file, const CsvOptions& options, uint64_t target,
                uint64_t data_start, int64_t data_start_line, uint64_t scan_start)
      : file_(std::move(file)),
        quote_(options.quote),
        delim_(options.delimiter),
        grammar_{options.delimiter, options.quote, options.skip_space_after_delimiter,
                 EffectiveMaxRecordBytes(options)},
        target_(target),
        size_(file_->size()),
        block_(std::max(std::min(options.block_size, kSplitBlock), kMinBlock) & ~size_t{63}),
        // A range is kept in memory up to a few targets, and never over the
        // longest record a file reader accepts (so both read the same records).
        keep_limit_(
            static_cast<size_t>(std::min<uint64_t>(std::max(options.max_record_bytes, options.block_size),
                                                   4 * std::min<uint64_t>(target, 1ull << 40) + 2 * block_))),
        pool_(std::make_shared<BufferPool>(static_cast<size_t>(
            std::min<uint64_t>(std::min<uint64_t>(target, keep_limit_) + 2 * block_, keep_limit_ + block_)))),
        scratch_(AllocateBuffer(block_)),
        off_(data_start),
        range_begin_(data_start),
        range_line_(data_start_line),
        line_(data_start_line),
        next_target_(data_start + target),
        scan_pos_(scan_start),
        rec_start_(scan_start),
        rec_line_(data_start_line),
        resume_pos_(scan_start),
        win_base_(data_start) {
    win_ = pool_->Take();
    win_cap_ = pool_->cap();
  }

  // Hashes the bytes before the first record (the header).
  Status HashHeader() { return hasher_.HashUpTo(*file_, off_, scratch_.get(), block_); }

  StatusOr<bool> Next(CsvRange* range) override {
    while (ready_.empty() && !finished_) CDP_RETURN_IF_ERROR(ScanBlock());
    if (ready_.empty()) return false;
    *range = std::move(ready_.front());
    ready_.erase(ready_.begin());
    return true;
  }
  uint64_t bytes_scanned() const override { return off_; }
  std::optional<uint64_t> content_hash() const override { return content_hash_; }

 private:
  void Finish() {
    if (range_begin_ < size_) {
      CsvRange last{range_begin_, size_, range_line_, nullptr};
      if (win_ && win_base_ == range_begin_ && off_ == size_) last.bytes = TakeWindow(size_);
      ready_.push_back(std::move(last));
    }
    finished_ = true;
    if (hasher_.hashed_until() == size_) content_hash_ = hasher_.Digest();
  }

  // The window's bytes [win_base_, end) as a range's bytes; the window keeps
  // (in a new buffer) what it holds after `end`.
  std::shared_ptr<CsvRangeBytes> TakeWindow(uint64_t end) {
    auto bytes = std::make_shared<CsvRangeBytes>();
    bytes->pool = pool_;
    bytes->cap = win_cap_;
    bytes->size = static_cast<size_t>(end - win_base_);
    bytes->buf = std::move(win_);
    win_ = pool_->Take();
    win_cap_ = pool_->cap();
    const size_t tail =
        static_cast<size_t>(off_ - end);  // at most the pool's capacity (checked by the caller)
    std::memcpy(win_.get(), bytes->buf.get() + bytes->size, tail);
    win_base_ = end;
    return bytes;
  }

  // Where the next block goes: the window (which holds [win_base_, off_))
  // unless the range in progress grew past keep_limit_; then the scratch
  // buffer, and the range is read from the file by its reader.
  char* BlockDestination(size_t want) {
    if (win_) {
      const size_t have = static_cast<size_t>(off_ - win_base_);
      if (have + want <= keep_limit_ + block_) {
        if (have + want > win_cap_) {
          const size_t cap = std::min(std::max(have + want, win_cap_ * 2), keep_limit_ + block_);
          auto bigger = AllocateBuffer(cap);
          std::memcpy(bigger.get(), win_.get(), have);
          win_ = std::move(bigger);
          win_cap_ = cap;
        }
        return win_.get() + have;
      }
      pool_->Give(std::move(win_), win_cap_);  // the range in progress is read from the file
    }
    return scratch_.get();
  }

  // Makes slow_ hold file bytes from `pos` on: at least `want` of them, or
  // all up to the end of the file.
  Status Load(uint64_t pos, size_t want) {
    const uint64_t have_end = slow_base_ + slow_len_;
    if (slow_ && pos >= slow_base_ && (pos + want <= have_end || slow_eof_)) return Status::Ok();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(want, size_ - pos));
    if (!slow_ || slow_cap_ < n) {
      slow_cap_ = std::max(n, size_t{64} << 10);
      slow_ = AllocateBuffer(slow_cap_);
    }
    CDP_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(pos, slow_.get(), n));
    slow_base_ = pos;
    slow_len_ = got;
    slow_eof_ = got < n || pos + got >= size_;
    return Status::Ok();
  }

  // Offset just after the first line break at or after `pos` (the end of the
  // file if there is none).
  StatusOr<uint64_t> SkipLine(uint64_t pos) {
    while (pos < size_) {
      CDP_RETURN_IF_ERROR(Load(pos, size_t{64} << 10));
      const char* p = slow_.get() + (pos - slow_base_);
      const size_t n = static_cast<size_t>(slow_base_ + slow_len_ - pos);
      if (n == 0) return size_;
      for (size_t i = 0; i < n; ++i) {
        if (p[i] != '\n' && p[i] != '\r') continue;
        uint64_t after = pos + i + 1;
        if (p[i] == '\r' && after < size_) {
          CDP_RETURN_IF_ERROR(Load(after, 1));
          if (slow_len_ > 0 && slow_.get()[after - slow_base_] == '\n') ++after;
        }
        return after;
      }
      pos += n;
    }
    return size_;
  }

  // Sets rec_start_ from the last chunk where a record ended, if any since.
  void SettleRecordStart() {
    if (end_mask_ == 0) return;
    const unsigned bit = 63 - static_cast<unsigned>(__builtin_clzll(end_mask_));
    rec_start_ = end_off_ + bit + 1;
    rec_line_ = end_line_ + __builtin_popcountll(end_brk_ & ValidBits(bit + 1));
    rec_start_after_cr_ = (end_cr_ >> bit) & 1;
    end_mask_ = 0;
  }

  // Parses the records from rec_start_ on with ScanRecord until one starts
  // at or after `until`; ranges end where records start.
  Status ScanExactly(uint64_t until) {
    SettleRecordStart();
    uint64_t pos = rec_start_;
    int64_t ln = rec_line_;
    if (rec_start_after_cr_ && pos < size_) {
      CDP_RETURN_IF_ERROR(Load(pos, 1));
      if (slow_len_ > 0 && slow_.get()[pos - slow_base_] == '\n') ++pos;  // the LF of a CRLF
    }
    const size_t max_want = grammar_.max_record_bytes + kMinBlock;
    while (pos < until && pos < size_) {
      RecordScan scan;
      for (size_t want = std::min<size_t>(size_t{64} << 10, max_want);; want = std::min(want * 2, max_want)) {
        CDP_RETURN_IF_ERROR(Load(pos, want));
        scan = ScanRecord(slow_.get(), static_cast<size_t>(pos - slow_base_), slow_len_, slow_eof_, ln,
                          grammar_, nullptr);
        if (scan.kind != RecordScan::Kind::kNeedMore) break;
        if (want == max_want) return InternalError(file_->path() + ": CSV splitter cannot decide a record");
      }
      if (scan.kind == RecordScan::Kind::kDiscard) {
        CDP_ASSIGN_OR_RETURN(pos, SkipLine(slow_base_ + scan.next));
        ln = scan.next_line + 1;
      } else {
        pos = slow_base_ + scan.next;
        ln = scan.next_line;
      }
      if (!boundaries_done_ && pos >= next_target_ && pos < size_ && pos > range_begin_) {
        found_.push_back({range_begin_, pos, range_line_, nullptr});
        range_begin_ = pos;
        range_line_ = ln;
        next_target_ = pos + target_;
      }
    }
    // Bit scanning resumes at a record start.
    scan_pos_ = rec_start_ = resume_pos_ = pos;
    line_ = rec_line_ = ln;
    rec_start_after_cr_ = false;
    in_quotes_ = 0;
    prev_cr_ = 0;
    pending_close_ = false;
    return Status::Ok();
  }

  // Reads, hashes and scans the next block; ranges found go to ready_.
  Status ScanBlock() {
    if (off_ >= size_) {
      Finish();
      return Status::Ok();
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(block_, size_ - off_));
    // Read a little past the next target, so that little of the block
    // follows the boundary found there (it is copied to the next window).
    if (next_target_ > off_) {
      want = static_cast<size_t>(std::min<uint64_t>(want, next_target_ - off_ + kLookahead));
    }
    char* const data = BlockDestination(want);
    CDP_ASSIGN_OR_RETURN(size_t n, file_->ReadAt(off_, data, want));
    if (n == 0) {  // the file shrank while being read
      win_.reset();
      Finish();
      return Status::Ok();
    }
    hasher_.Update(off_, data, n);
    const uint64_t block_off = off_;
    const uint64_t block_end = block_off + n;
    const size_t max_record = grammar_.max_record_bytes;
    found_.clear();
    size_t k = scan_pos_ > block_off ? static_cast<size_t>(std::min<uint64_t>(scan_pos_ - block_off, n)) : 0;
    while (k < n && !boundaries_done_) {
      const size_t len = std::min<size_t>(64, n - k);
      const char* p = data + k;
      const uint64_t chunk_off = block_off + k;
      uint64_t q, lf, cr;
      char tmp[64];
      if (len < 64) {  // the last bytes of the file or block: no load past them
        std::memset(tmp, 0, sizeof(tmp));
        std::memcpy(tmp, p, len);
        p = tmp;
      }
      ClassifyBreaks(p, quote_, &q, &lf, &cr);
      const uint64_t valid = ValidBits(len);
      q &= valid;
      lf &= valid;
      cr &= valid;
      const uint64_t inside = (q == 0 ? 0 : PrefixXor(q)) ^ in_quotes_;
      // Are the quotes well placed, and is the record in progress short?
      // (It starts after end_off_ when a record ended since rec_start_.)
      bool exact = chunk_off + len - (end_mask_ != 0 ? end_off_ : rec_start_) <= max_record;
      if (q != 0 || pending_close_) {
        const uint64_t sep = (ClassifyByte(p, delim_) & valid) | lf | cr | q;
        const uint64_t opening = q & inside;
        const uint64_t closing = q & ~inside;
        const uint64_t last = uint64_t{1} << (len - 1);
        // May the byte before the chunk precede an opening quote?
        uint64_t prev_sep = 1;
        if (chunk_off != resume_pos_) {
          const char b = k > 0 ? data[k - 1] : last_byte_;
          prev_sep = b == delim_ || b == quote_ || b == '\n' || b == '\r';
        }
        uint64_t bad = opening & ~((sep << 1) | prev_sep);
        bad |= closing & ~(sep >> 1) & ~last;
        if (pending_close_ && (sep & 1) == 0) bad |= 1;
        if (bad != 0) exact = false;
        pending_close_ = (closing & last) != 0;
      }
      if (!exact) {
        CDP_RETURN_IF_ERROR(ScanExactly(chunk_off + len));
        if (scan_pos_ >= block_end) break;
        k = static_cast<size_t>(scan_pos_ - block_off);
        continue;
      }
      const uint64_t brk = cr | (lf & ~((cr << 1) | prev_cr_));
      while (next_target_ - 1 < chunk_off + len) {
        const uint64_t from = std::max(next_target_ - 1, range_begin_);
        const unsigned shift = from > chunk_off ? static_cast<unsigned>(from - chunk_off) : 0;
        const uint64_t cand = (lf | cr) & ~inside & (~uint64_t{0} << shift);
        if (cand == 0) break;
        const unsigned bit = static_cast<unsigned>(__builtin_ctzll(cand));
        uint64_t b = chunk_off + bit + 1;
        if (p[bit] == '\r' && b < size_) {
          char next;
          if (k + bit + 1 < n) {
            next = data[k + bit + 1];
          } else {
            CDP_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(b, &next, 1));
            if (got != 1) next = 0;
          }
          if (next == '\n') ++b;
        }
        if (b >= size_) {
          boundaries_done_ = true;
          break;
        }
        const uint64_t rel = b - chunk_off;
        const int64_t b_line =
            line_ + __builtin_popcountll(brk & ValidBits(static_cast<size_t>(std::min<uint64_t>(rel, 64))));
        found_.push_back({range_begin_, b, range_line_, nullptr});
        range_begin_ = b;
        range_line_ = b_line;
        next_target_ = b + target_;
      }
      // The record in progress starts after the last line break outside
      // quotes (worked out by SettleRecordStart when needed).
      const uint64_t ends = (lf | cr) & ~inside;
      if (ends != 0) {
        end_off_ = chunk_off;
        end_mask_ = ends;
        end_line_ = line_;
        end_brk_ = brk;
        end_cr_ = cr;
      }
      if (brk != 0) line_ += __builtin_popcountll(brk);
      in_quotes_ = ((inside >> (len - 1)) & 1) ? ~uint64_t{0} : 0;
      prev_cr_ = (cr >> (len - 1)) & 1;
      k += len;
    }
    if (scan_pos_ < block_end) scan_pos_ = block_end;
    last_byte_ = data[n - 1];
    off_ += n;
    // A quote still open at the end of the file: the grammar decides.
    if (off_ >= size_ && !boundaries_done_ && in_quotes_ != 0) CDP_RETURN_IF_ERROR(ScanExactly(size_));
    // Give each range found its bytes when they are at hand: the window's,
    // or (for a range read from the file) the next range's start in this
    // block. A range that ends past the block (a CRLF boundary, or one the
    // exact scan found further on) is read from the file, and so is the next.
    std::unique_ptr<char[]> old_window;  // `data` may point into it
    for (CsvRange& r : found_) {
      if (win_ && win_base_ == r.begin && r.end <= off_ && off_ - r.end <= pool_->cap()) {
        r.bytes = TakeWindow(r.end);
      } else if (r.end >= block_off && r.end <= off_ && off_ - r.end <= pool_->cap()) {
        auto w = pool_->Take();
        std::memcpy(w.get(), data + (r.end - block_off), static_cast<size_t>(off_ - r.end));
        if (win_) old_window = std::move(win_);
        win_ = std::move(w);
        win_cap_ = pool_->cap();
        win_base_ = r.end;
      } else if (win_) {
        old_window = std::move(win_);
      }
      ready_.push_back(std::move(r));
    }
    if (off_ >= size_) Finish();
    return Status::Ok();
  }

  static constexpr size_t kLookahead = 64 << 10;

  std::unique_ptr<InputFile> file_;
  const char quote_;
  const char delim_;
  const CsvGrammar grammar_;
  const uint64_t target_;
  const uint64_t size_;
  const size_t block_;
  const size_t keep_limit_;
  std::shared_ptr<BufferPool> pool_;
  std::unique_ptr<char[]> scratch_;  // a block, for the header and ranges too long to keep
  FileHasher hasher_;
  uint64_t off_;          // next file byte to read
  uint64_t range_begin_;  // start of the range being extended
  int64_t range_line_;
  int64_t line_;  // physical line at scan_pos_ (when not inside a CRLF)
  uint64_t next_target_;
  uint64_t scan_pos_;  // next file byte to scan (may be past off_ after an exact scan)
  // The record in progress at scan_pos_: where it starts (just after CR of a
  // CRLF when rec_start_after_cr_), and its line.
  uint64_t rec_start_;
  int64_t rec_line_;
  bool rec_start_after_cr_ = false;
  uint64_t in_quotes_ = 0;  // all ones inside quotes
  uint64_t prev_cr_ = 0;    // 1 if the byte before scan_pos_ is CR
  uint64_t resume_pos_;     // where bit scanning (re)started: a record start
  char last_byte_ = '\n';   // the last byte of the previous block
  // The last chunk where a record ended (end_mask_ != 0 until settled).
  uint64_t end_off_ = 0;
  uint64_t end_mask_ = 0;
  int64_t end_line_ = 0;
  uint64_t end_brk_ = 0;
  uint64_t end_cr_ = 0;
  bool pending_close_ = false;  // the byte before scan_pos_ is a closing quote
  bool boundaries_done_ = false;
  bool finished_ = false;
  // The window: file bytes [win_base_, off_) of the range in progress, or
  // null while that range is too long to keep.
  std::unique_ptr<char[]> win_;
  size_t win_cap_ = 0;
  uint64_t win_base_;
  // File bytes [slow_base_, slow_base_ + slow_len_) for ScanExactly.
  std::unique_ptr<char[]> slow_;
  size_t slow_cap_ = 0;
  uint64_t slow_base_ = 0;
  size_t slow_len_ = 0;
  bool slow_eof_ = false;
  std::vector<CsvRange> found_;  // boundaries of the block being scanned
  std::vector<CsvRange> ready_;
  std::optional<uint64_t> content_hash_;
};

}  // namespace

StatusOr<std::unique_ptr<CsvRangeSplitter>> CsvRangeSplitter::Open(const std::string& path, const CsvOptions& options,
                                                                   uint64_t target_range_bytes) {
  if (target_range_bytes == 0) return InvalidArgumentError(path + ": target range size must be positive");
  uint64_t data_start = 0;
  int64_t data_start_line = 1;
  {
    CDP_ASSIGN_OR_RETURN(auto reader, OpenReader(path, options));
    data_start = reader->data_start();
    data_start_line = reader->data_start_line();
  }
  CDP_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  data_start = std::min(data_start, file->size());
  uint64_t scan_start = data_start;
  if (data_start == 0 && file->size() >= 3) {  // a byte-order mark is not part of the first record
    char bom[3];
    CDP_ASSIGN_OR_RETURN(size_t got, file->ReadAt(0, bom, 3));
    if (got == 3 && std::memcmp(bom, "ï»¿", 3) == 0) scan_start = 3;
  }
  auto splitter = std::make_unique<RangeSplitter>(std::move(file), options, target_range_bytes, data_start,
                                                  data_start_line, scan_start);
  CDP_RETURN_IF_ERROR(splitter->HashHeader());
  return std::unique_ptr<CsvRangeSplitter>(std::move(splitter));
}

StatusOr<std::vector<CsvRange>> SplitCsvFile(const std::string& path, const CsvOptions& options,
                                             uint64_t target_range_bytes) {
  CDP_ASSIGN_OR_RETURN(auto splitter, CsvRangeSplitter::Open(path, options, target_range_bytes));
  std::vector<CsvRange> ranges;
  CsvRange range;
  for (;;) {
    CDP_ASSIGN_OR_RETURN(bool more, splitter->Next(&range));
    if (!more) break;
    range.bytes.reset();  // all ranges at once: the readers read the file
    ranges.push_back(range);
  }
  return ranges;
}

StatusOr<uint64_t> FileContentHash(const std::string& path) {
  CDP_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  FileHasher hasher;
  auto buf = AllocateBuffer(kSplitBlock);
  CDP_RETURN_IF_ERROR(hasher.HashUpTo(*file, std::numeric_limits<uint64_t>::max(), buf.get(), kSplitBlock));
  return hasher.Digest();
}

}  // namespace cdp
