// DataStore and GenerationWriter: see data_store.h.
//
// Commit protocol (crash-safe at every step):
//   1. finish + fsync every new entity file
//   2. write + fsync MANIFEST-<gen> (JSON, then a line "xxh3:<hex>")
//   3. write + fsync CURRENT.tmp ("MANIFEST-<gen> <hex checksum of the name>")
//   4. fsync the directory (the new entries are durable)
//   5. rename CURRENT.tmp -> CURRENT, fsync the directory
// Before step 5 completes, CURRENT still names the previous manifest, whose
// files garbage collection never touches; leftovers of a crashed writer are
// collected by the next writer.
#include "storage/data_store.h"

#include <xxhash.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "common/utf8.h"

namespace cdp {
namespace {

using nlohmann::json;

constexpr char kCurrent[] = "CURRENT";
constexpr char kCurrentTmp[] = "CURRENT.tmp";
constexpr char kLock[] = "LOCK";
constexpr char kManifestPrefix[] = "MANIFEST-";
constexpr char kEntitySuffix[] = ".cdpc";
constexpr int kManifestFormat = 1;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

std::string ManifestName(uint64_t generation) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%06" PRIu64, kManifestPrefix, generation);
  return buf;
}

std::string EntityFileName(uint64_t generation, uint32_t sequence) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%06" PRIu64 "-%04" PRIu32 "%s", generation, sequence, kEntitySuffix);
  return buf;
}

// Parses a run of decimal digits that is all of `s`.
bool ParseDigits(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "MANIFEST-000042" -> 42.
bool ParseManifestName(std::string_view name, uint64_t* generation) {
  std::string_view prefix(kManifestPrefix);
  if (name.substr(0, prefix.size()) != prefix) return false;
  return ParseDigits(name.substr(prefix.size()), generation);
}

// "000042-0003.cdpc" -> 42.
bool ParseEntityFileName(std::string_view name, uint64_t* generation) {
  std::string_view suffix(kEntitySuffix);
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return false;
  name.remove_suffix(suffix.size());
  size_t dash = name.find('-');
  uint64_t sequence;
  return dash != std::string_view::npos && ParseDigits(name.substr(0, dash), generation) &&
         ParseDigits(name.substr(dash + 1), &sequence);
}

std::string EncodeCurrent(const std::string& manifest_name) {
  return manifest_name + " " + Hex64(XXH3_64bits(manifest_name.data(), manifest_name.size())) + "\n";
}

json SchemaToJson(const Schema& schema) {
  json fields = json::array();
  for (const auto& f : schema.fields()) {
    fields.push_back(
        {{"name", f.name}, {"type", std::string(DataTypeName(f.type))}, {"semantic", f.semantic.name()}});
  }
  return fields;
}

StatusOr<std::string> EncodeManifest(const Snapshot& snapshot, int64_t now_micros) {
  json entities = json::array();
  for (const auto& [name, e] : snapshot.entities) {
    entities.push_back({{"name", e.name},
                        {"file", e.file},
                        {"schema", SchemaToJson(e.schema)},
                        {"num_rows", e.num_rows},
                        {"written_at_micros", e.written_at_micros},
                        {"generation", e.generation},
                        {"properties", e.properties_json}});
  }
  json doc = {{"format", kManifestFormat},
              {"generation", snapshot.generation},
              {"committed_at_micros", now_micros},
              {"entities", std::move(entities)}};
  std::string text;
  try {
    text = doc.dump(1);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("cannot encode manifest: ") + e.what());
  }
  return text + "\nxxh3:" + Hex64(XXH3_64bits(text.data(), text.size())) + "\n";
}

const json* Member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool GetString(const json& obj, const char* key, std::string* out) {
  const json* v = Member(obj, key);
  if (v == nullptr || !v->is_string()) return false;
  *out = v->get<std::string>();
  return true;
}

bool GetUint(const json& obj, const char* key, uint64_t* out) {
  const json* v = Member(obj, key);
  if (v == nullptr || !v->is_number_unsigned()) return false;
  *out = v->get<uint64_t>();
  return true;
}

bool GetInt(const json& obj, const char* key, int64_t* out) {
  const json* v = Member(obj, key);
  if (v == nullptr || !v->is_number_integer()) return false;
  *out = v->get<int64_t>();
  return true;
}

// Decodes a checksummed manifest; returns an error message or "".
std::string DecodeManifest(std::string_view content, Snapshot* out) {
  // Trailer: "\nxxh3:" + 16 hex digits + "\n".
  constexpr size_t kTrailer = 1 + 5 + 16 + 1;
  if (content.size() < kTrailer || content.back() != '\n') return "truncated (no checksum line)";
  std::string_view trailer = content.substr(content.size() - kTrailer);
  std::string_view text = content.substr(0, content.size() - kTrailer);
  if (trailer.substr(0, 6) != "\nxxh3:") return "truncated (no checksum line)";
  if (trailer.substr(6, 16) != Hex64(XXH3_64bits(text.data(), text.size()))) return "checksum mismatch";

  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return "not a JSON object";
  uint64_t format = 0;
  if (!GetUint(doc, "format", &format) || format != kManifestFormat) return "unsupported format";
  if (!GetUint(doc, "generation", &out->generation)) return "no generation";
  const json* entities = Member(doc, "entities");
  if (entities == nullptr || !entities->is_array()) return "no entity list";
  for (const json& e : *entities) {
    if (!e.is_object()) return "entity is not an object";
    EntityInfo info;
    uint64_t file_generation;
    if (!GetString(e, "name", &info.name) || info.name.empty()) return "entity without a name";
    if (!GetString(e, "file", &info.file) || !ParseEntityFileName(info.file, &file_generation)) {
      return "entity '" + info.name + "' has a bad file name";
    }
    if (!GetUint(e, "num_rows", &info.num_rows) || !GetInt(e, "written_at_micros", &info.written_at_micros) ||
        !GetUint(e, "generation", &info.generation) || !GetString(e, "properties", &info.properties_json)) {
      return "entity '" + info.name + "' lacks a field";
    }
    const json* fields = Member(e, "schema");
    if (fields == nullptr || !fields->is_array()) return "entity '" + info.name + "' has no schema";
    for (const json& f : *fields) {
      Field field;
      std::string type, semantic;
      if (!f.is_object() || !GetString(f, "name", &field.name) || !GetString(f, "type", &type) ||
          !GetString(f, "semantic", &semantic)) {
        return "entity '" + info.name + "' has a malformed field";
      }
      auto t = ParseDataType(type);
      if (!t) return "entity '" + info.name + "' has unknown type '" + type + "'";
      field.type = *t;
      field.semantic = SemanticType(semantic);
      info.schema.AddField(std::move(field));
    }
    std::string name = info.name;
    if (!out->entities.emplace(name, std::move(info)).second) return "entity '" + name + "' listed twice";
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------
// DataStore

DataStore::DataStore(Env* env, std::string dir, DataStoreOptions options)
    : env_(env), dir_(std::move(dir)), options_(std::move(options)) {}

StatusOr<std::unique_ptr<DataStore>> DataStore::Open(Env* env, const std::string& data_dir,
                                                     const DataStoreOptions& options) {
  if (options.generations_to_keep < 1) return InvalidArgumentError("generations_to_keep must be at least 1");
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return InvalidArgumentError("empty data directory path");
  if (!env->FileExists(dir)) {
    // Create missing parents one level at a time, then make the new entry durable.
    for (size_t pos = dir.find('/', 1); pos != std::string::npos; pos = dir.find('/', pos + 1)) {
      CDP_RETURN_IF_ERROR(env->CreateDir(dir.substr(0, pos)));
    }
    CDP_RETURN_IF_ERROR(env->CreateDir(dir));
    CDP_RETURN_IF_ERROR(env->SyncDir(DirName(dir)));
  }
  return std::unique_ptr<DataStore>(new DataStore(env, std::move(dir), options));
}

StatusOr<Snapshot> DataStore::ReadManifest(const std::string& manifest_name,
                                           uint64_t expected_generation) const {
  const std::string path = PathOf(manifest_name);
  CDP_ASSIGN_OR_RETURN(std::string content, env_->ReadFile(path));
  Snapshot snap;
  std::string error = DecodeManifest(content, &snap);
  if (error.empty() && snap.generation != expected_generation) {
    error = "holds generation " + std::to_string(snap.generation) + ", expected " +
            std::to_string(expected_generation);
  }
  if (!error.empty()) return DataLossError("manifest " + path + " is corrupt: " + error);
  return snap;
}

StatusOr<Snapshot> DataStore::Current() const {
  const std::string current_path = PathOf(kCurrent);
  for (int attempt = 0;; ++attempt) {
    auto content = env_->ReadFile(current_path);
    if (!content.ok()) {
      if (content.status().code() != StatusCode::kNotFound) return content.status();
      // No commit yet, unless manifests beyond a crashed first commit exist.
      CDP_ASSIGN_OR_RETURN(auto children, env_->GetChildren(dir_));
      for (const auto& name : children) {
        uint64_t g;
        if (ParseManifestName(name, &g) && g >= 2) {
          return DataLossError(current_path + " is missing although manifest " + PathOf(name) + " exists");
        }
      }
      return Snapshot{};
    }
    // "MANIFEST-000042 <16 hex digits>\n"
    const std::string& text = *content;
    size_t space = text.find(' ');
    uint64_t generation = 0;
    std::string manifest_name = space == std::string::npos ? "" : text.substr(0, space);
    if (space == std::string::npos || EncodeCurrent(manifest_name) != text ||
        !ParseManifestName(manifest_name, &generation)) {
      return DataLossError(current_path + " is corrupt");
    }
    auto snap = ReadManifest(manifest_name, generation);
    if (snap.ok() || snap.status().code() != StatusCode::kNotFound) return snap;
    // The manifest is gone: either a writer collected it after switching
    // CURRENT (retry with the new CURRENT) or it was lost.
    auto again = env_->ReadFile(current_path);
    if (attempt >= 3 || !again.ok() || *again == text) {
      return DataLossError(current_path + " names manifest " + PathOf(manifest_name) + " which is missing");
    }
  }
}

StatusOr<std::unique_ptr<ColumnFileReader>> DataStore::OpenEntity(const Snapshot& snapshot,
                                                                  const std::string& name) const {
  auto it = snapshot.entities.find(name);
  if (it == snapshot.entities.end()) {
    return NotFoundError("entity '" + name + "' not found in generation " +
                         std::to_string(snapshot.generation) + " of " + dir_);
  }
  const EntityInfo& info = it->second;
  const std::string path = PathOf(info.file);
  auto reader = ColumnFileReader::Open(env_, path);
  if (!reader.ok()) {
    if (reader.status().code() != StatusCode::kNotFound) {
      return reader.status().WithContext("entity '" + name + "'");
    }
    auto current = Current();
    if (current.ok() && snapshot.generation + options_.generations_to_keep <= current->generation) {
      return FailedPreconditionError("generation " + std::to_string(snapshot.generation) + " of " + dir_ +
                                     " is no longer kept (only the last " +
                                     std::to_string(options_.generations_to_keep) +
                                     " are); take a new snapshot");
    }
    return DataLossError("file " + path + " of entity '" + name + "' in generation " +
                         std::to_string(snapshot.generation) + " is missing");
  }
  if (!((*reader)->schema() == info.schema) || (*reader)->num_rows() != info.num_rows) {
    return DataLossError("file " + path + " of entity '" + name + "' does not match the manifest");
  }
  return reader;
}

StatusOr<std::unique_ptr<GenerationWriter>> DataStore::BeginGeneration() {
  auto lock = env_->LockFile(PathOf(kLock));
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError("another process is writing workspace data in " + dir_ + " (" +
                                     lock.status().message() + ")");
    }
    return lock.status();
  }
  CDP_ASSIGN_OR_RETURN(Snapshot base, Current());
  CollectGarbage(base.generation);
  return std::unique_ptr<GenerationWriter>(
      new GenerationWriter(this, std::move(lock).value(), std::move(base)));
}

void DataStore::CollectGarbage(uint64_t current) const {
  auto children = env_->GetChildren(dir_);
  if (!children.ok()) return;
  const uint64_t keep = options_.generations_to_keep;
  auto kept = [&](uint64_t g) { return g <= current && g + keep > current; };
  // Files referenced by the kept generations.
  std::set<std::string> live;
  bool live_complete = true;
  for (const auto& name : *children) {
    uint64_t g;
    if (!ParseManifestName(name, &g) || !kept(g)) continue;
    auto snap = ReadManifest(name, g);
    if (!snap.ok()) {
      live_complete = false;  // cannot tell which files it needs: keep them all
      continue;
    }
    for (const auto& [entity, info] : snap->entities) live.insert(info.file);
  }
  for (const auto& name : *children) {
    uint64_t g;
    bool remove = false;
    if (name == kCurrentTmp) {
      remove = true;
    } else if (ParseManifestName(name, &g)) {
      // Older than the kept window, or written by a writer that crashed
      // before switching CURRENT. Anything further ahead is left alone.
      remove = g + keep <= current || g == current + 1;
    } else if (ParseEntityFileName(name, &g)) {
      remove = live_complete && !live.count(name) && g <= current + 1;
    }
    if (remove) (void)env_->DeleteFile(PathOf(name));
  }
}

// ---------------------------------------------------------------------------
// GenerationWriter

GenerationWriter::GenerationWriter(DataStore* store, std::unique_ptr<FileLock> lock, Snapshot base)
    : store_(store),
      lock_(std::move(lock)),
      base_(std::move(base)),
      generation_(base_.generation + 1),
      entities_(base_.entities) {}

GenerationWriter::~GenerationWriter() {
  if (!switched_) DiscardFiles();
}

void GenerationWriter::DiscardFiles() {
  Env* env = store_->env_;
  for (auto& [name, pending] : written_) {
    pending.writer.reset();
    (void)env->DeleteFile(store_->PathOf(pending.file));
  }
  written_.clear();
  if (done_) {
    (void)env->DeleteFile(store_->PathOf(kCurrentTmp));
    (void)env->DeleteFile(store_->PathOf(ManifestName(generation_)));
  }
}

StatusOr<ColumnFileWriter*> GenerationWriter::WriteEntity(const std::string& name, const Schema& schema,
                                                          const std::string& properties_json) {
  return WriteEntity(name, schema, properties_json, store_->options_.file_options);
}

StatusOr<ColumnFileWriter*> GenerationWriter::WriteEntity(const std::string& name, const Schema& schema,
                                                          const std::string& properties_json,
                                                          const ColumnFileOptions& options) {
  if (done_)
    return FailedPreconditionError("generation " + std::to_string(generation_) + " is already committed");
  if (name.empty()) return InvalidArgumentError("entity name is empty");
  if (!IsValidUtf8(name)) return InvalidArgumentError("entity name is not valid UTF-8");
  for (const auto& f : schema.fields()) {
    if (!IsValidUtf8(f.name) || !IsValidUtf8(f.semantic.name())) {
      return InvalidArgumentError("entity '" + name + "': a field name or semantic type is not valid UTF-8");
    }
  }
  std::string properties = properties_json.empty() ? "{}" : properties_json;
  if (!IsValidUtf8(properties) || json::parse(properties, nullptr, false).is_discarded()) {
    return InvalidArgumentError("entity '" + name + "': properties are not valid JSON");
  }
  if (written_.count(name)) {
    return AlreadyExistsError("entity '" + name + "' was already written in generation " +
                              std::to_string(generation_));
  }
  std::string file = EntityFileName(generation_, next_sequence_++);
  CDP_ASSIGN_OR_RETURN(auto writer, ColumnFileWriter::Create(store_->env_, store_->PathOf(file), schema, options));
  ColumnFileWriter* raw = writer.get();
  entities_.erase(name);
  written_[name] = PendingFile{std::move(file), std::move(writer), std::move(properties)};
  return raw;
}

Status GenerationWriter::RemoveEntity(const std::string& name) {
  if (done_)
    return FailedPreconditionError("generation " + std::to_string(generation_) + " is already committed");
  auto w = written_.find(name);
  if (w != written_.end()) {
    w->second.writer.reset();
    (void)store_->env_->DeleteFile(store_->PathOf(w->second.file));
    written_.erase(w);
    return Status::Ok();
  }
  if (entities_.erase(name) == 0) {
    return NotFoundError("entity '" + name + "' not found in generation " + std::to_string(generation_));
  }
  return Status::Ok();
}

Status GenerationWriter::Commit() {
  if (done_)
    return FailedPreconditionError("generation " + std::to_string(generation_) + " was already committed");
  done_ = true;
  Status s = DoCommit();
  if (!switched_) DiscardFiles();
  if (committed_) store_->CollectGarbage(generation_);
  lock_.reset();
  return s.WithContext("commit of generation " + std::to_string(generation_) + " in " + store_->dir_);
}

Status GenerationWriter::DoCommit() {
  Env* env = store_->env_;
  Snapshot next;
  next.generation = generation_;
  next.entities = entities_;
  for (auto& [name, pending] : written_) {
    CDP_RETURN_IF_ERROR(pending.writer->Finish().WithContext("entity '" + name + "'"));
    EntityInfo info;
    info.name = name;
    info.file = pending.file;
    info.schema = pending.writer->schema();
    info.num_rows = pending.writer->rows_written();
    info.written_at_micros = env->NowMicros();
    info.generation = generation_;
    info.properties_json = pending.properties_json;
    next.entities[name] = std::move(info);
  }
  CDP_ASSIGN_OR_RETURN(std::string manifest, EncodeManifest(next, env->NowMicros()));
  const std::string manifest_name = ManifestName(generation_);
  CDP_RETURN_IF_ERROR(WriteFileDurably(env, store_->PathOf(manifest_name), manifest));
  CDP_RETURN_IF_ERROR(WriteFileDurably(env, store_->PathOf(kCurrentTmp), EncodeCurrent(manifest_name)));
  CDP_RETURN_IF_ERROR(env->SyncDir(store_->dir_));
  CDP_RETURN_IF_ERROR(env->RenameFile(store_->PathOf(kCurrentTmp), store_->PathOf(kCurrent)));
  switched_ = true;
  CDP_RETURN_IF_ERROR(env->SyncDir(store_->dir_));
  committed_ = true;
  return Status::Ok();
}

}  // namespace cdp
