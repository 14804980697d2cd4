#include "ingest/jsonl_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "common/json_scan.h"
#include "ingest/internal/input_file.h"

namespace cdp {
namespace {

using ingest_internal::InputFile;
namespace od = simdjson::ondemand;

constexpr size_t kMinBlock = 64;
// Records read at open to learn the first field names.
constexpr size_t kPrescanRecords = 1000;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto digit = [&](size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  if (i < n && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == n;
}

std::string_view TrimJsonSpace(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

class JsonLinesReader final : public RecordReader {
 public:
  JsonLinesReader(std::unique_ptr<InputFile> file, const JsonLinesOptions& options)
      : file_(std::move(file)), opt_(options) {
    opt_.block_size = std::max(opt_.block_size, kMinBlock);
    opt_.max_record_bytes = std::max(opt_.max_record_bytes, opt_.block_size);
    cap_ = static_cast<size_t>(std::min<uint64_t>(opt_.block_size, std::max<uint64_t>(file_->size() + 1, kMinBlock)));
    buf_ = std::make_unique<char[]>(cap_ + simdjson::SIMDJSON_PADDING);
    Rewind();
  }
  JsonLinesReader(const JsonLinesReader&) = delete;
  JsonLinesReader& operator=(const JsonLinesReader&) = delete;

  void Rewind() {
    begin_ = end_ = 0;
    file_off_ = 0;
    eof_ = file_->size() == 0;
    line_ = 1;
    check_bom_ = true;
    discarding_ = false;
  }

  const std::vector<std::string>& field_names() const override { return names_; }
  StatusOr<bool> Next(RawRecordBatch* batch, size_t max_records) override;
  uint64_t bytes_read() const override { return file_off_ - (end_ - begin_); }
  uint64_t total_bytes() const override { return file_->size(); }

 private:
  Status Fill();
  // Parses one line into the batch (a record or a record error).
  void ParseLine(const char* data, size_t len, int64_t line, RawRecordBatch* batch);
  // Flattens `object` (at nesting level `depth`, 1 = the record) into slots.
  // A field given twice stops the walk with duplicate_ set.
  simdjson::error_code WalkObject(od::object object, size_t depth, RawRecordBatch* batch);
  uint32_t Slot(std::string_view name);
  // Marks the field `name` given in this record; false if it already was.
  bool Claim(uint32_t i) {
    if (slot_state_[i] != kAbsent) {
      duplicate_ = static_cast<int64_t>(i);
      return false;
    }
    return true;
  }
  bool SetValue(std::string_view name, std::string_view value, RawRecordBatch* batch) {
    uint32_t i = Slot(name);
    if (!Claim(i)) return false;
    slot_pos_[i] = batch->arena.size();
    slot_len_[i] = static_cast<uint32_t>(value.size());
    slot_state_[i] = kValue;
    batch->arena.append(value);
    return true;
  }
  // `raw`: the record's input bytes, kept escaped for the quarantine.
  void AddRecordError(RawRecordBatch* batch, int64_t line, std::string reason, std::string_view raw) {
    uint32_t index = static_cast<uint32_t>(batch->line.size());
    batch->line.push_back(line);
    batch->field_begin.push_back(static_cast<uint32_t>(fpos_.size()));
    batch->record_errors.emplace_back(index, std::move(reason));
    batch->record_error_inputs.push_back({EscapeRawBytes(raw, kMaxRawErrorBytes), line});
  }

  std::unique_ptr<InputFile> file_;
  JsonLinesOptions opt_;
  std::unique_ptr<char[]> buf_;  // cap_ bytes plus simdjson padding
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t file_off_ = 0;
  bool eof_ = false;
  bool check_bom_ = true;
  bool discarding_ = false;  // skipping the rest of an over-long line
  int64_t discard_line_ = 0;
  int64_t line_ = 1;

  od::parser parser_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
  std::string prefix_;
  // Current record: value per field (arena offset, length, state).
  static constexpr uint8_t kAbsent = 0, kNull = 1, kValue = 2;
  std::vector<uint64_t> slot_pos_;
  std::vector<uint32_t> slot_len_;
  std::vector<uint8_t> slot_state_;
  int64_t duplicate_ = -1;  // slot given twice in the current record, or -1
  // Current batch.
  std::vector<uint64_t> fpos_;
  std::vector<uint32_t> flen_;
};

uint32_t JsonLinesReader::Slot(std::string_view name) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  uint32_t i = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name);
  index_.emplace(std::string(name), i);
  slot_pos_.push_back(0);
  slot_len_.push_back(0);
  slot_state_.push_back(kAbsent);
  return i;
}

simdjson::error_code JsonLinesReader::WalkObject(od::object object, size_t depth, RawRecordBatch* batch) {
  // ParseLine refused deeper records before parsing; this keeps the
  // recursion bounded whatever the caller.
  if (depth > opt_.max_depth) return simdjson::DEPTH_ERROR;
  for (auto field_result : object) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return e;
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    const size_t saved = prefix_.size();
    prefix_.append(key);
    od::value value = field.value();
    od::json_type type;
    if (auto e = value.type().get(type)) return e;
    switch (type) {
      case od::json_type::object: {
        od::object child;
        if (auto e = value.get_object().get(child)) return e;
        prefix_.push_back('.');
        if (auto e = WalkObject(child, depth + 1, batch)) return e;
        break;
      }
      case od::json_type::array: {
        od::array array;
        if (auto e = value.get_array().get(array)) return e;
        std::string_view raw;
        if (auto e = array.raw_json().get(raw)) return e;
        if (!SetValue(prefix_, TrimJsonSpace(raw), batch)) return simdjson::INCORRECT_TYPE;
        break;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return e;
        if (!SetValue(prefix_, s, batch)) return simdjson::INCORRECT_TYPE;
        break;
      }
      case od::json_type::number: {
        std::string_view raw = TrimJsonSpace(value.raw_json_token());
        if (!IsJsonNumber(raw)) return simdjson::NUMBER_ERROR;
        if (!SetValue(prefix_, raw, batch)) return simdjson::INCORRECT_TYPE;
        break;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = value.get_bool().get(b)) return e;
        if (!SetValue(prefix_, b ? "true" : "false", batch)) return simdjson::INCORRECT_TYPE;
        break;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto e = value.is_null().get(is_null)) return e;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        uint32_t i = Slot(prefix_);
        if (!Claim(i)) return simdjson::INCORRECT_TYPE;
        slot_state_[i] = kNull;
        break;
      }
    }
    prefix_.resize(saved);
  }
  return simdjson::SUCCESS;
}

void JsonLinesReader::ParseLine(const char* data, size_t len, int64_t line, RawRecordBatch* batch) {
  const size_t arena_mark = batch->arena.size();
  std::fill(slot_state_.begin(), slot_state_.end(), kAbsent);
  duplicate_ = -1;
  prefix_.clear();
  const size_t capacity = static_cast<size_t>(buf_.get() + cap_ + simdjson::SIMDJSON_PADDING - data);
  auto fail = [&](std::string what) {
    batch->arena.resize(arena_mark);
    AddRecordError(batch, line, file_->path() + ": line " + std::to_string(line) + ": " + what,
                   std::string_view(data, len));
  };
  // Depth before parsing: the walk below recurses per nested object, and
  // arrays are kept as text that later readers parse.
  if (JsonNestsDeeperThan(std::string_view(data, len), opt_.max_depth)) {
    fail("nested deeper than " + std::to_string(opt_.max_depth) + " levels (max_depth)");
    return;
  }
  od::document doc;
  if (auto e = parser_.iterate(data, len, capacity).get(doc)) {
    fail(std::string("invalid JSON (") + simdjson::error_message(e) + ")");
    return;
  }
  od::json_type type;
  if (auto e = doc.type().get(type)) {
    fail(std::string("invalid JSON (") + simdjson::error_message(e) + ")");
    return;
  }
  if (type != od::json_type::object) {
    fail("the line is not a JSON object");
    return;
  }
  od::object object;
  simdjson::error_code e = doc.get_object().get(object);
  if (!e) e = WalkObject(object, 1, batch);
  if (duplicate_ >= 0) {
    fail("field '" + names_[static_cast<size_t>(duplicate_)] +
         "' is given twice (a repeated key, or a dotted key and a nested object naming the same field)");
    return;
  }
  if (!e) {
    // Anything after the object is an error.
    const char* where = nullptr;
    if (doc.current_location().get(where) == simdjson::SUCCESS) e = simdjson::TRAILING_CONTENT;
  }
  if (e) {
    fail(std::string("invalid JSON (") + simdjson::error_message(e) + ")");
    return;
  }
  const size_t n = names_.size();
  for (size_t i = 0; i < n; ++i) {
    fpos_.push_back(slot_pos_[i]);
    flen_.push_back(slot_len_[i]);
    batch->is_null.push_back(slot_state_[i] == kValue ? 0 : 1);
  }
  batch->line.push_back(line);
  batch->field_begin.push_back(static_cast<uint32_t>(fpos_.size()));
}

Status JsonLinesReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == cap_) {
    if (cap_ >= opt_.max_record_bytes) {
      discarding_ = true;
      discard_line_ = line_;
      begin_ = end_;  // drop what we have of the line
      return Status::Ok();
    }
    size_t new_cap = std::min(cap_ * 2, opt_.max_record_bytes);
    auto bigger = std::make_unique<char[]>(new_cap + simdjson::SIMDJSON_PADDING);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = new_cap;
  }
  const uint64_t size = file_->size();
  size_t want = static_cast<size_t>(std::min<uint64_t>(cap_ - end_, size - file_off_));
  CDP_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(file_off_, buf_.get() + end_, want));
  const bool at_start = file_off_ == 0;
  file_off_ += got;
  end_ += got;
  eof_ = got < want || file_off_ >= size;
  if (check_bom_ && at_start && (end_ >= 3 || eof_)) {
    check_bom_ = false;
    if (end_ >= 3 && std::memcmp(buf_.get(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
  }
  return Status::Ok();
}

StatusOr<bool> JsonLinesReader::Next(RawRecordBatch* batch, size_t max_records) {
  batch->Clear();
  batch->location = file_->path();
  batch->trailing_fields_optional = true;
  if (max_records == 0) max_records = 1;
  fpos_.clear();
  flen_.clear();
  size_t count = 0;
  while (count < max_records) {
    const char* buf = buf_.get();
    const void* nl = begin_ < end_ ? std::memchr(buf + begin_, '\n', end_ - begin_) : nullptr;
    if (discarding_) {
      if (nl == nullptr && !eof_) {
        begin_ = end_;
        CDP_RETURN_IF_ERROR(Fill());
        continue;
      }
      begin_ = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1 : end_;
      discarding_ = false;
      AddRecordError(batch, discard_line_,
                     file_->path() + ": line " + std::to_string(discard_line_) + " is longer than " +
                         std::to_string(opt_.max_record_bytes) + " bytes; skipped",
                     std::string_view());
      ++line_;
      ++count;
      continue;
    }
    if (begin_ == end_ && eof_) break;
    if (nl == nullptr && !eof_) {
      CDP_RETURN_IF_ERROR(Fill());
      continue;
    }
    const size_t line_end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf) : end_;
    size_t len = line_end - begin_;
    if (len > 0 && buf[begin_ + len - 1] == '\r') --len;
    bool blank = true;
    for (size_t i = 0; i < len && blank; ++i) {
      char c = buf[begin_ + i];
      blank = c == ' ' || c == '\t' || c == '\r';
    }
    if (!blank) {
      ParseLine(buf + begin_, len, line_, batch);
      ++count;
    }
    begin_ = nl ? line_end + 1 : end_;
    ++line_;
  }
  const char* arena = batch->arena.data();
  const size_t n = fpos_.size();
  batch->fields.resize(n);
  for (size_t i = 0; i < n; ++i) batch->fields[i] = std::string_view(arena + fpos_[i], flen_[i]);
  return count > 0;
}

}  // namespace

StatusOr<std::unique_ptr<RecordReader>> OpenJsonLinesFile(const std::string& path, const JsonLinesOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto file, InputFile::Open(path));
  auto reader = std::make_unique<JsonLinesReader>(std::move(file), options);
  // Learn the field names of the first records so field_names() is useful at once.
  RawRecordBatch scratch;
  CDP_ASSIGN_OR_RETURN(bool any, reader->Next(&scratch, kPrescanRecords));
  (void)any;
  reader->Rewind();
  return std::unique_ptr<RecordReader>(std::move(reader));
}

}  // namespace cdp
