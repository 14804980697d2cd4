#include "export/file_destination.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/datetime.h"
#include "common/utf8.h"
#include "export/export_value.h"

namespace cdp {
namespace {

constexpr std::string_view kKind = "files";
constexpr std::string_view kChangeColumn = "_change";
constexpr size_t kMaxTargetBytes = 200;
// model.json is written by us; a bigger one is not ours (or is corrupt).
constexpr uint64_t kMaxManifestBytes = 64ull << 20;
// A CDM delta run holds the previous partition in memory to merge it.
constexpr uint64_t kMaxMergedPartitionBytes = 4ull << 30;

enum class Format { kCsv, kJsonl, kCdm };

struct FileOptions {
  Format format = Format::kCsv;
  bool gzip = false;
};

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

StatusOr<FileOptions> ParseOptions(const ResolvedConnection& c, const std::map<std::string, std::string>& options) {
  FileOptions out;
  for (const auto& [key, value] : options) {
    if (key == "format") {
      if (value == "csv") {
        out.format = Format::kCsv;
      } else if (value == "jsonl") {
        out.format = Format::kJsonl;
      } else if (value == "cdm") {
        out.format = Format::kCdm;
      } else {
        return InvalidArgumentError("connection " + Quoted(c.name) + " (files): option format: expected csv, jsonl or cdm, got " +
                                    Quoted(value));
      }
    } else if (key == "gzip") {
      if (value == "true") {
        out.gzip = true;
      } else if (value == "false") {
        out.gzip = false;
      } else {
        return InvalidArgumentError("connection " + Quoted(c.name) + " (files): option gzip: expected true or false, got " +
                                    Quoted(value));
      }
    } else {
      return InvalidArgumentError("connection " + Quoted(c.name) + " (files): unknown export option " + Quoted(key) +
                                  " (options: format, gzip)");
    }
  }
  if (out.gzip && out.format == Format::kCdm) {
    return InvalidArgumentError("connection " + Quoted(c.name) +
                                " (files): gzip: true is not available with format: cdm (CDM readers expect plain CSV)");
  }
  return out;
}

Status ValidateConnection(const ResolvedConnection& c) {
  for (const auto& [key, value] : c.settings) {
    if (key != "path" && key != "base_dir") {
      return InvalidArgumentError("connection " + Quoted(c.name) + " (files): unknown setting " + Quoted(key) +
                                  " (settings: path)");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError("connection " + Quoted(c.name) + " (files): setting " + Quoted(key) + " holds a NUL byte");
    }
  }
  if (!c.secrets.empty()) {
    return InvalidArgumentError("connection " + Quoted(c.name) + " (files): takes no secrets, got " +
                                Quoted(c.secrets.begin()->first));
  }
  if (c.Setting("path").empty()) {
    return InvalidArgumentError("connection " + Quoted(c.name) + " (files): setting 'path' (the directory to write to) is missing");
  }
  return Status::Ok();
}

// The connection's directory as an absolute, normalized path.
StatusOr<std::string> ResolveDirectory(const ResolvedConnection& c) {
  CDP_RETURN_IF_ERROR(ValidateConnection(c));
  std::filesystem::path p(c.Setting("path"));
  if (p.is_relative()) {
    const std::string base = c.Setting("base_dir");
    if (base.empty() || std::filesystem::path(base).is_relative()) {
      return FailedPreconditionError("connection " + Quoted(c.name) + " (files): path " + Quoted(p.string()) +
                                     " is relative and no absolute base directory is known; give an absolute path");
    }
    p = std::filesystem::path(base) / p;
  }
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status CheckTarget(const ExportRunInfo& run) {
  const std::string& t = run.target;
  std::string why;
  if (t.empty()) {
    why = "is empty";
  } else if (t.size() > kMaxTargetBytes) {
    why = "is longer than " + std::to_string(kMaxTargetBytes) + " bytes";
  } else if (t.front() == '.') {
    why = "starts with '.'";
  } else if (t.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
    why = "holds '/', '\\' or NUL";
  } else if (!IsValidUtf8(t)) {
    why = "is not valid UTF-8";
  }
  if (!why.empty()) {
    return InvalidArgumentError("export " + Quoted(run.export_name) + ": target " + Quoted(t) + " " + why +
                                " (the files destination uses it as a file name)");
  }
  return Status::Ok();
}

// Creates `dir` and its missing parents.
Status CreateDirectories(Env* env, const std::string& dir) {
  std::filesystem::path p(dir);
  std::filesystem::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (part == "/" || part.empty()) continue;
    CDP_RETURN_IF_ERROR(env->CreateDir(cur.string()));
  }
  return Status::Ok();
}

// Removes the temporary files an earlier attempt left for `final_name`.
void RemoveStaleTemporaries(Env* env, const std::string& dir, const std::string& final_name) {
  auto children = env->GetChildren(dir);
  if (!children.ok()) return;
  const std::string prefix = "." + final_name + ".tmp-";
  for (const auto& name : *children) {
    if (name.compare(0, prefix.size(), prefix) == 0) (void)env->DeleteFile(dir + "/" + name);
  }
}

// A data file being written: plain or gzip (RFC 1952) bytes appended to a
// WritableFile of the Env.
class DataFileWriter {
 public:
  DataFileWriter(const DataFileWriter&) = delete;
  DataFileWriter& operator=(const DataFileWriter&) = delete;
  ~DataFileWriter() {
    if (gzip_) deflateEnd(&z_);
  }

  static StatusOr<std::unique_ptr<DataFileWriter>> Open(Env* env, const std::string& path, bool gzip) {
    std::unique_ptr<DataFileWriter> w(new DataFileWriter(path));
    CDP_ASSIGN_OR_RETURN(w->file_, env->NewWritableFile(path));
    if (gzip) {
      // 15 + 16: a gzip header and trailer around the deflate stream.
      if (deflateInit2(&w->z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return InternalError("zlib: deflateInit2 failed for " + path);
      }
      w->gzip_ = true;
    }
    return w;
  }

  Status Append(std::string_view data) {
    bytes_in_ += data.size();
    if (!gzip_) return file_->Append(data);
    return Deflate(data, Z_NO_FLUSH);
  }

  // Ends the gzip stream, makes the file durable and closes it.
  Status Finish() {
    if (gzip_) CDP_RETURN_IF_ERROR(Deflate({}, Z_FINISH));
    CDP_RETURN_IF_ERROR(file_->Sync());
    return file_->Close();
  }

  void Discard() { (void)file_->Close(); }
  const std::string& path() const { return path_; }
  uint64_t bytes_in() const { return bytes_in_; }

 private:
  explicit DataFileWriter(std::string path) : path_(std::move(path)), z_{} {}

  Status Deflate(std::string_view data, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    char buf[1 << 16];
    while (true) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof(buf);
      const int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return InternalError("zlib: deflate failed for " + path_);
      const size_t produced = sizeof(buf) - z_.avail_out;
      if (produced) CDP_RETURN_IF_ERROR(file_->Append(std::string_view(buf, produced)));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) break;
    }
    return Status::Ok();
  }

  std::string path_;
  std::unique_ptr<WritableFile> file_;
  bool gzip_ = false;
  z_stream z_;  // when gzip_
  uint64_t bytes_in_ = 0;
};

Status CheckRowWidth(const ExportRunInfo& run, const ExportBatch& batch, size_t i) {
  const ExportRow& row = batch.rows[i];
  if (row.values.size() != run.schema.fields.size()) {
    return InvalidArgumentError("export " + Quoted(run.export_name) + ": batch " + std::to_string(batch.sequence) + " row " +
                                std::to_string(i) + " has " + std::to_string(row.values.size()) + " values for " +
                                std::to_string(run.schema.fields.size()) + " fields");
  }
  if (row.change != RowChange::kAdded && !run.delta) {
    return InvalidArgumentError("export " + Quoted(run.export_name) + ": a full run sent a row marked " +
                                Quoted(RowChangeName(row.change)) + " (batch " + std::to_string(batch.sequence) + ")");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// CSV and JSON Lines files.

class FileSession : public DestinationSession {
 public:
  FileSession(Env* env, ResolvedConnection connection, ExportRunInfo run, FileOptions options, std::string dir)
      : env_(env), connection_(std::move(connection)), run_(std::move(run)), options_(options), dir_(std::move(dir)) {}
  ~FileSession() override {
    if (!finished_) Abort();
  }

  Status Begin() {
    std::string ext = options_.format == Format::kJsonl ? ".jsonl" : ".csv";
    if (options_.gzip) ext += ".gz";
    final_name_ = run_.target + (run_.delta ? ".delta-" + std::to_string(run_.export_run_id) : "") + ext;
    if (run_.delta) {
      for (const auto& f : run_.schema.fields) {
        if (f.name == kChangeColumn) {
          return InvalidArgumentError("export " + Quoted(run_.export_name) + ": field '_change' collides with the change column "
                                      "of delta files; rename it (fields: ... as:)");
        }
      }
      fields_.push_back(ExportField{std::string(kChangeColumn), DataType::kString});
    }
    fields_.insert(fields_.end(), run_.schema.fields.begin(), run_.schema.fields.end());
    CDP_RETURN_IF_ERROR(CreateDirectories(env_, dir_));
    RemoveStaleTemporaries(env_, dir_, final_name_);
    const std::string tmp = dir_ + "/." + final_name_ + ".tmp-" + std::to_string(run_.export_run_id) + "-" +
                            std::to_string(run_.attempt);
    CDP_ASSIGN_OR_RETURN(writer_, DataFileWriter::Open(env_, tmp, options_.gzip));
    if (options_.format == Format::kCsv) {
      std::string header;
      AppendCsvHeader(&header, fields_);
      CDP_RETURN_IF_ERROR(writer_->Append(header));
    }
    return Status::Ok();
  }

  Status Write(const ExportBatch& batch) override {
    if (finished_ || !writer_) return FailedPreconditionError("export " + Quoted(run_.export_name) + ": the session has ended");
    buffer_.clear();
    std::vector<std::optional<std::string>> values;
    for (size_t i = 0; i < batch.rows.size(); ++i) {
      CDP_RETURN_IF_ERROR(CheckRowWidth(run_, batch, i));
      const ExportRow& row = batch.rows[i];
      const std::vector<std::optional<std::string>>* out = &row.values;
      if (run_.delta) {
        values.clear();
        values.emplace_back(std::string(RowChangeName(row.change)));
        values.insert(values.end(), row.values.begin(), row.values.end());
        out = &values;
      }
      if (options_.format == Format::kCsv) {
        AppendCsvRecord(&buffer_, *out);
      } else {
        AppendJsonRecord(&buffer_, fields_, *out);
      }
    }
    Status s = writer_->Append(buffer_);
    if (!s.ok()) return Annotate(s);
    rows_ += static_cast<int64_t>(batch.rows.size());
    return Status::Ok();
  }

  Status Commit() override {
    if (finished_ || !writer_) return FailedPreconditionError("export " + Quoted(run_.export_name) + ": the session has ended");
    Status s = writer_->Finish();
    if (s.ok()) s = env_->RenameFile(writer_->path(), dir_ + "/" + final_name_);
    if (s.ok()) s = env_->SyncDir(dir_);
    if (!s.ok()) {
      Abort();
      return Annotate(s);
    }
    finished_ = true;
    samples_.push_back("wrote " + dir_ + "/" + final_name_ + " (" + std::to_string(rows_) + " rows, " +
                       std::to_string(writer_->bytes_in()) + " bytes before compression)");
    return Status::Ok();
  }

  void Abort() override {
    if (finished_) return;
    finished_ = true;
    if (writer_) {
      writer_->Discard();
      (void)env_->DeleteFile(writer_->path());
    }
  }

  int64_t rows_delivered() const override { return rows_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  Status Annotate(const Status& s) const {
    return Status(s.code(), "connection " + Quoted(connection_.name) + " (files): writing " + final_name_ + " in " + dir_ +
                                ": " + s.message());
  }

  Env* env_;
  ResolvedConnection connection_;
  ExportRunInfo run_;
  FileOptions options_;
  std::string dir_;
  std::string final_name_;
  std::vector<ExportField> fields_;
  std::unique_ptr<DataFileWriter> writer_;
  std::string buffer_;
  int64_t rows_ = 0;
  bool finished_ = false;
  std::vector<std::string> samples_;
};

// ---------------------------------------------------------------------------
// CDM folders.

std::string CdmDataType(DataType t) {
  switch (t) {
    case DataType::kString: return "string";
    case DataType::kInt64: return "int64";
    case DataType::kDouble: return "double";
    case DataType::kBool: return "boolean";
    case DataType::kDate:
    case DataType::kTimestamp: return "dateTime";
  }
  return "string";
}

// A file:// URI of an absolute path, percent-encoding all but unreserved
// characters and '/'.
std::string FileUri(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The attributes of an entity in model.json for `fields`.
nlohmann::ordered_json CdmAttributes(const std::vector<ExportField>& fields) {
  nlohmann::ordered_json attrs = nlohmann::ordered_json::array();
  for (const auto& f : fields) {
    nlohmann::ordered_json a = {{"name", f.name}, {"dataType", CdmDataType(f.type)}};
    a["annotations"] = nlohmann::ordered_json::array({{{"name", "cdp:type"}, {"value", std::string(DataTypeName(f.type))}}});
    attrs.push_back(std::move(a));
  }
  return attrs;
}

// Parses CSV text written by AppendCsvRecord back into records (an empty
// unquoted field is null, "" an empty string). DataLoss on malformed text.
Status ParseOwnCsv(std::string_view text, const std::string& path,
                   std::vector<std::vector<std::optional<std::string>>>* out) {
  size_t i = 0;
  while (i < text.size()) {
    std::vector<std::optional<std::string>> record;
    while (true) {
      if (i < text.size() && text[i] == '"') {
        std::string v;
        ++i;
        while (true) {
          if (i >= text.size()) return DataLossError(path + ": unterminated quoted field");
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              v.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          v.push_back(text[i++]);
        }
        record.emplace_back(std::move(v));
      } else {
        size_t j = i;
        while (j < text.size() && text[j] != ',' && text[j] != '\n') ++j;
        if (text.substr(i, j - i).find('"') != std::string_view::npos) return DataLossError(path + ": stray quote in a field");
        if (j == i) {
          record.emplace_back(std::nullopt);
        } else {
          record.emplace_back(std::string(text.substr(i, j - i)));
        }
        i = j;
      }
      if (i >= text.size()) return DataLossError(path + ": the last record does not end with a line break");
      if (text[i] == ',') {
        ++i;
        continue;
      }
      if (text[i] == '\n') {
        ++i;
        break;
      }
      return DataLossError(path + ": unexpected character after a quoted field");
    }
    out->push_back(std::move(record));
  }
  return Status::Ok();
}

class CdmSession : public DestinationSession {
 public:
  CdmSession(Env* env, ResolvedConnection connection, ExportRunInfo run, std::string root)
      : env_(env), connection_(std::move(connection)), run_(std::move(run)), root_(std::move(root)) {}
  ~CdmSession() override {
    if (!finished_) Abort();
  }

  Status Begin() {
    entity_dir_ = root_ + "/" + run_.target;
    partition_name_ = run_.target + "-" + std::to_string(run_.export_run_id);
    data_name_ = partition_name_ + ".csv";
    CDP_RETURN_IF_ERROR(CreateDirectories(env_, entity_dir_));
    RemoveEntityTemporaries();
    tmp_path_ = entity_dir_ + "/." + data_name_ + ".tmp-" + std::to_string(run_.export_run_id) + "-" +
                std::to_string(run_.attempt);
    if (run_.delta) CDP_RETURN_IF_ERROR(LoadPrevious());
    CDP_ASSIGN_OR_RETURN(writer_, DataFileWriter::Open(env_, tmp_path_, false));
    return Status::Ok();
  }

  Status Write(const ExportBatch& batch) override {
    if (finished_ || !writer_) return FailedPreconditionError("export " + Quoted(run_.export_name) + ": the session has ended");
    for (size_t i = 0; i < batch.rows.size(); ++i) CDP_RETURN_IF_ERROR(CheckRowWidth(run_, batch, i));
    if (run_.delta) {
      for (const ExportRow& row : batch.rows) {
        const std::optional<std::string>& key = row.values[run_.schema.key_field];
        if (!key) {
          return InvalidArgumentError("export " + Quoted(run_.export_name) + ": a row of batch " +
                                      std::to_string(batch.sequence) + " has no key");
        }
        auto [it, inserted] = changes_.try_emplace(*key);
        if (inserted) change_order_.push_back(*key);
        it->second = row;
      }
      rows_ += static_cast<int64_t>(batch.rows.size());
      return Status::Ok();
    }
    buffer_.clear();
    for (const ExportRow& row : batch.rows) AppendCsvRecord(&buffer_, row.values);
    Status s = writer_->Append(buffer_);
    if (!s.ok()) return Annotate(s);
    rows_ += static_cast<int64_t>(batch.rows.size());
    return Status::Ok();
  }

  Status Commit() override {
    if (finished_ || !writer_) return FailedPreconditionError("export " + Quoted(run_.export_name) + ": the session has ended");
    Status s = CommitData();
    if (!s.ok()) {
      Abort();
      return Annotate(s);
    }
    finished_ = true;
    return Status::Ok();
  }

  void Abort() override {
    if (finished_) return;
    finished_ = true;
    if (writer_) {
      writer_->Discard();
      (void)env_->DeleteFile(tmp_path_);
    }
  }

  int64_t rows_delivered() const override { return rows_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  std::string ManifestPath() const { return root_ + "/model.json"; }

  // The entity's folder is this export's alone: any temporary file in it was
  // left by an earlier attempt that died.
  void RemoveEntityTemporaries() {
    auto children = env_->GetChildren(entity_dir_);
    if (!children.ok()) return;
    for (const auto& name : *children) {
      if (!name.empty() && name[0] == '.' && name.find(".csv.tmp-") != std::string::npos) {
        (void)env_->DeleteFile(entity_dir_ + "/" + name);
      }
    }
  }

  Status Annotate(const Status& s) const {
    return Status(s.code(), "connection " + Quoted(connection_.name) + " (files, cdm): entity " + Quoted(run_.target) +
                                " in " + root_ + ": " + s.message());
  }

  // The manifest as it is now ({} when there is none).
  StatusOr<nlohmann::ordered_json> ReadManifest() {
    if (!env_->FileExists(ManifestPath())) return nlohmann::ordered_json::object();
    CDP_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(ManifestPath()));
    if (size > kMaxManifestBytes) return DataLossError(ManifestPath() + " is larger than 64 MiB");
    CDP_ASSIGN_OR_RETURN(std::string text, env_->ReadFile(ManifestPath()));
    auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return DataLossError(ManifestPath() + " is not a JSON object");
    if (j.contains("entities") && !j["entities"].is_array()) return DataLossError(ManifestPath() + ": entities is not an array");
    return j;
  }

  // This target's entity in `manifest`, or nullptr.
  nlohmann::ordered_json* FindEntity(nlohmann::ordered_json& manifest) const {
    if (!manifest.contains("entities")) return nullptr;
    for (auto& e : manifest["entities"]) {
      if (e.is_object() && e.value("name", "") == run_.target) return &e;
    }
    return nullptr;
  }

  // The data file names of the entity's partitions (their last path segment).
  static std::vector<std::string> PartitionFiles(const nlohmann::ordered_json* entity) {
    std::vector<std::string> out;
    if (!entity || !entity->contains("partitions") || !(*entity)["partitions"].is_array()) return out;
    for (const auto& p : (*entity)["partitions"]) {
      if (!p.is_object() || !p.contains("location") || !p["location"].is_string()) continue;
      std::string loc = p["location"].get<std::string>();
      out.push_back(loc.substr(loc.rfind('/') + 1));
    }
    return out;
  }

  // Delta runs: the rows of the partition the manifest names now.
  Status LoadPrevious() {
    CDP_ASSIGN_OR_RETURN(nlohmann::ordered_json manifest, ReadManifest());
    const nlohmann::ordered_json* entity = FindEntity(manifest);
    if (!entity) return Status::Ok();  // a first run: every row is added
    nlohmann::ordered_json want = CdmAttributes(run_.schema.fields);
    if (!entity->contains("attributes") || (*entity)["attributes"] != want) {
      return FailedPreconditionError("export " + Quoted(run_.export_name) + ": the attributes of entity " + Quoted(run_.target) +
                                     " in " + ManifestPath() +
                                     " differ from this run's fields; a delta cannot be applied to it, run a full export");
    }
    std::vector<std::string> files = PartitionFiles(entity);
    if (files.size() != 1) {
      return FailedPreconditionError("export " + Quoted(run_.export_name) + ": entity " + Quoted(run_.target) + " in " +
                                     ManifestPath() + " has " + std::to_string(files.size()) +
                                     " partitions, not the one this destination writes; run a full export");
    }
    const std::string path = entity_dir_ + "/" + files[0];
    CDP_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path));
    if (size > kMaxMergedPartitionBytes) {
      return ResourceExhaustedError(path + " is larger than 4 GiB; run a full export instead of a delta");
    }
    CDP_ASSIGN_OR_RETURN(std::string text, env_->ReadFile(path));
    CDP_RETURN_IF_ERROR(ParseOwnCsv(text, path, &previous_));
    for (const auto& record : previous_) {
      if (record.size() != run_.schema.fields.size()) {
        return DataLossError(path + ": a record has " + std::to_string(record.size()) + " fields, the manifest " +
                             std::to_string(run_.schema.fields.size()));
      }
    }
    return Status::Ok();
  }

  // Writes the merged rows of a delta run into the temporary file.
  Status WriteMerged() {
    const size_t key = run_.schema.key_field;
    std::set<std::string> done;
    buffer_.clear();
    auto flush = [&]() -> Status {
      if (buffer_.size() < (1 << 20)) return Status::Ok();
      Status s = writer_->Append(buffer_);
      buffer_.clear();
      return s;
    };
    for (const auto& record : previous_) {
      auto it = record[key] ? changes_.find(*record[key]) : changes_.end();
      if (it == changes_.end()) {
        AppendCsvRecord(&buffer_, record);
      } else {
        done.insert(it->first);
        if (it->second.change != RowChange::kRemoved) AppendCsvRecord(&buffer_, it->second.values);
      }
      CDP_RETURN_IF_ERROR(flush());
    }
    for (const std::string& k : change_order_) {
      if (done.count(k)) continue;
      const ExportRow& row = changes_.at(k);
      if (row.change != RowChange::kRemoved) AppendCsvRecord(&buffer_, row.values);
      CDP_RETURN_IF_ERROR(flush());
    }
    return writer_->Append(buffer_);
  }

  Status CommitData() {
    if (run_.delta) CDP_RETURN_IF_ERROR(WriteMerged());
    CDP_RETURN_IF_ERROR(writer_->Finish());
    const std::string data_path = entity_dir_ + "/" + data_name_;
    CDP_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, data_path));
    CDP_RETURN_IF_ERROR(env_->SyncDir(entity_dir_));

    // model.json is shared by the exports writing to this folder.
    std::unique_ptr<FileLock> lock;
    for (int tries = 0;; ++tries) {
      auto l = env_->LockFile(root_ + "/.model.json.lock");
      if (l.ok()) {
        lock = std::move(*l);
        break;
      }
      if (l.status().code() != StatusCode::kFailedPrecondition || tries >= 6000) return l.status();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CDP_ASSIGN_OR_RETURN(nlohmann::ordered_json manifest, ReadManifest());
    const std::vector<std::string> previous_files = PartitionFiles(FindEntity(manifest));
    const std::string now = FormatTimestamp(env_->NowMicros());
    if (!manifest.contains("name")) manifest["name"] = "cdp";
    if (!manifest.contains("description")) manifest["description"] = "Exports of the customer data platform";
    manifest["version"] = "1.0";
    manifest["application"] = "cdp";
    manifest["modifiedTime"] = now;
    if (!manifest.contains("entities")) manifest["entities"] = nlohmann::ordered_json::array();
    nlohmann::ordered_json entity = {
        {"$type", "LocalEntity"},
        {"name", run_.target},
        {"description", "export '" + run_.export_name + "', run " + std::to_string(run_.export_run_id)},
        {"annotations",
         nlohmann::ordered_json::array({{{"name", "cdp:export"}, {"value", run_.export_name}},
                                        {{"name", "cdp:exportRunId"}, {"value", std::to_string(run_.export_run_id)}}})},
        {"attributes", CdmAttributes(run_.schema.fields)},
        {"partitions",
         nlohmann::ordered_json::array({{{"name", partition_name_},
                                         {"location", FileUri(data_path)},
                                         {"refreshTime", now},
                                         {"fileFormatSettings",
                                          {{"$type", "CsvFormatSettings"},
                                           {"columnHeaders", false},
                                           {"delimiter", ","},
                                           {"quoteStyle", "QuoteStyle.Csv"},
                                           {"csvStyle", "CsvStyle.QuoteAfterDelimiter"},
                                           {"encoding", "UTF-8"}}}}})}};
    if (nlohmann::ordered_json* existing = FindEntity(manifest)) {
      *existing = std::move(entity);
    } else {
      manifest["entities"].push_back(std::move(entity));
    }
    CDP_RETURN_IF_ERROR(ReplaceFileAtomically(env_, ManifestPath(), manifest.dump(2) + "\n"));

    // The manifest now names data_name_; readers of the previous one may still
    // read its files. Older data files of this entity go.
    std::set<std::string> keep(previous_files.begin(), previous_files.end());
    keep.insert(data_name_);
    auto children = env_->GetChildren(entity_dir_);
    if (children.ok()) {
      const std::string prefix = run_.target + "-";
      for (const auto& name : *children) {
        if (keep.count(name) || name.compare(0, prefix.size(), prefix) != 0 || name.size() < 4 ||
            name.compare(name.size() - 4, 4, ".csv") != 0) {
          continue;
        }
        (void)env_->DeleteFile(entity_dir_ + "/" + name);
      }
    }
    samples_.push_back("wrote " + data_path + " (" + std::to_string(rows_) + " rows) and " + ManifestPath());
    return Status::Ok();
  }

  Env* env_;
  ResolvedConnection connection_;
  ExportRunInfo run_;
  std::string root_;
  std::string entity_dir_;
  std::string partition_name_;
  std::string data_name_;
  std::string tmp_path_;
  std::unique_ptr<DataFileWriter> writer_;
  std::string buffer_;
  int64_t rows_ = 0;
  bool finished_ = false;
  std::vector<std::string> samples_;
  // Delta runs: the previous partition's records and the changes by key.
  std::vector<std::vector<std::optional<std::string>>> previous_;
  std::unordered_map<std::string, ExportRow> changes_;
  std::vector<std::string> change_order_;
};

StatusOr<std::unique_ptr<DestinationSession>> BeginFiles(Env* env, const ResolvedConnection& c, const ExportRunInfo& run) {
  CDP_ASSIGN_OR_RETURN(std::string dir, ResolveDirectory(c));
  CDP_ASSIGN_OR_RETURN(FileOptions options, ParseOptions(c, run.options));
  CDP_RETURN_IF_ERROR(CheckTarget(run));
  if (run.schema.fields.empty()) {
    return InvalidArgumentError("export " + Quoted(run.export_name) + ": no fields to write");
  }
  if (run.schema.key_field >= run.schema.fields.size()) {
    return InvalidArgumentError("export " + Quoted(run.export_name) + ": key field index out of range");
  }
  if (options.format == Format::kCdm) {
    auto session = std::make_unique<CdmSession>(env, c, run, dir);
    CDP_RETURN_IF_ERROR(session->Begin());
    return std::unique_ptr<DestinationSession>(std::move(session));
  }
  auto session = std::make_unique<FileSession>(env, c, run, options, dir);
  CDP_RETURN_IF_ERROR(session->Begin());
  return std::unique_ptr<DestinationSession>(std::move(session));
}

Status CheckFiles(Env* env, const ResolvedConnection& c) {
  CDP_ASSIGN_OR_RETURN(std::string dir, ResolveDirectory(c));
  CDP_RETURN_IF_ERROR(CreateDirectories(env, dir));
  // A file written and removed proves the directory writable.
  const std::string probe = dir + "/.cdp-connection-check";
  CDP_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(probe));
  Status s = f->Close();
  (void)env->DeleteFile(probe);
  if (!s.ok()) return Status(s.code(), "connection " + Quoted(c.name) + " (files): " + s.message());
  return Status::Ok();
}

}  // namespace

DestinationKind FileDestinationKind(Env* env) {
  DestinationKind k;
  k.kind = std::string(kKind);
  k.durable_batches = false;
  k.validate = [](const ResolvedConnection& c) { return ValidateConnection(c); };
  k.validate_options = [](const ResolvedConnection& c, const std::map<std::string, std::string>& options) {
    return ParseOptions(c, options).status();
  };
  k.begin = [env](const ResolvedConnection& c, const ExportRunInfo& run) { return BeginFiles(env, c, run); };
  k.check = [env](const ResolvedConnection& c) { return CheckFiles(env, c); };
  return k;
}

Status RegisterFileDestinations(DestinationRegistry& registry, Env* env) {
  return registry.Register(FileDestinationKind(env));
}

}  // namespace cdp
