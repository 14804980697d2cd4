#include "workspace/ingest_runner.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "common/entity_names.h"
#include "common/free_list.h"
#include "common/standardize.h"
#include "common/thread_pool.h"
#include "ingest/batch_converter.h"
#include "ingest/csv_reader.h"
#include "ingest/header_check.h"
#include "ingest/type_inference.h"

namespace cdp {
namespace {

constexpr size_t kInferenceSampleRecords = 10000;

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Fingerprint of a file source: the parts of its definition that shape the
// ingested data (not its schedule: when to ingest changes nothing ingested),
// size and content hash. Two equal fingerprints mean re-ingesting would
// produce the same entity.
std::string FileFingerprint(const SourceConfig& source, uint64_t size, uint64_t content_hash) {
  SourceConfig shaping = source;
  shaping.schedule.clear();
  std::string def = SourceConfigToJson(shaping);
  uint64_t def_hash = XXH3_64bits(def.data(), def.size());
  char out[80];
  std::snprintf(out, sizeof(out), "def:%016llx size:%llu xxh3:%016llx", static_cast<unsigned long long>(def_hash),
                static_cast<unsigned long long>(size), static_cast<unsigned long long>(content_hash));
  return out;
}

// The part of FileFingerprint before the content hash: equal prefixes mean
// the file may be unchanged and is worth hashing before ingesting it.
std::string FingerprintPrefix(const std::string& fingerprint) {
  size_t at = fingerprint.find(" xxh3:");
  return at == std::string::npos ? fingerprint : fingerprint.substr(0, at);
}

// Line is the record's first line, LastLine its last (they differ for a
// record with quoted line breaks or a bad quote); Record is the record as
// CSV, or for a record the reader could not parse its input bytes, escaped
// (EscapeRawBytes in ingest/record_reader.h).
Schema QuarantineSchema() {
  return Schema({{"Line", DataType::kInt64, {}},
                 {"Field", DataType::kString, {}},
                 {"Value", DataType::kString, {}},
                 {"Reason", DataType::kString, {}},
                 {"Record", DataType::kString, {}},
                 {"Location", DataType::kString, {}},
                 {"LastLine", DataType::kInt64, {}}});
}

// Output of converting one batch of raw records.
struct ConvertedBatch {
  Table table;
  // Set instead of `table` by a range task: its rows already compressed as
  // one row group of the entity file.
  std::unique_ptr<EncodedRowGroup> encoded;
  std::vector<QuarantinedRecord> quarantine;
  ConvertStats stats;
  int64_t lines = 0;     // physical lines of the input these rows came from (CSV ranges)
  int64_t max_line = 0;  // the largest record line seen (JSON Lines: lines read)
};

// Everything an ingest of one source needs once its input is known.
struct SourcePlan {
  std::optional<BatchConverter> converter;  // its schema() is the entity's schema
  std::string location;
  bool file = false;  // SourceConnector::file
  uint64_t total_bytes = 0;
  // Produces raw record readers: either one sequential reader, or (CSV) one
  // per byte range so that ranges are parsed in parallel.
  std::unique_ptr<RecordReader> sequential;
  // CSV with a pool: ranges found while the file is read (and hashed).
  std::unique_ptr<CsvRangeSplitter> csv_splitter;
  std::string csv_path;
  CsvOptions csv_options;
  std::vector<RawRecordBatch> replay;  // sampled batches, re-used before reading on
  int64_t sample_lines = 0;  // lines the sampling reader read (all of them, when it reached the end)
};

StatusOr<std::vector<FieldOverride>> FieldOverrides(const SourceConfig& source) {
  std::vector<FieldOverride> overrides;
  for (const auto& f : source.fields) {
    FieldOverride o;
    o.name = f.name;
    o.source_field = f.source_field;
    o.type = f.type;
    o.format = f.format;
    o.semantic = f.semantic;
    if (!f.standardize.empty()) {
      // Names were checked when the project was parsed.
      auto standardizer = ParseStandardizer(f.standardize);
      if (!standardizer) {
        return InvalidArgumentError("source '" + source.name + "', field '" + f.name + "': unknown standardizer '" +
                                    f.standardize + "' (one of: " + StandardizerNameList() + ")");
      }
      o.standardize = *standardizer;
    }
    overrides.push_back(std::move(o));
  }
  return overrides;
}

// A CSV file's first line against the declared fields (ingest/header_check.h).
Status CheckCsvHeader(const SourceConfig& source, const std::string& location,
                      const std::vector<FieldOverride>& overrides, const std::vector<std::string>& input_names,
                      const std::vector<RawRecordBatch>& sample) {
  if (source.kind != SourceKind::kCsv || overrides.empty()) return Status::Ok();
  if (source.csv.header) return CheckHeaderNamesDeclaredFields(location, overrides, input_names);
  if (sample.empty() || sample[0].num_records() == 0) return Status::Ok();
  const RawRecordBatch& b = sample[0];
  if (!b.record_errors.empty() && b.record_errors[0].first == 0) return Status::Ok();
  std::vector<std::string> first;
  for (size_t f = 0; f < b.num_fields(0); ++f) first.emplace_back(b.field(0, f));
  return CheckNoHeaderLine(location, overrides, first, b.line[0]);
}

StatusOr<std::vector<FieldSpec>> PlanFields(const SourceConfig& source, const std::vector<std::string>& input_names,
                                            const std::vector<RawRecordBatch>& sample,
                                            const std::vector<FieldOverride>& overrides) {
  InferenceOptions inference;
  inference.infer_types = source.infer_types;
  inference.decimal_comma = source.decimal_comma;
  return InferFieldSpecs(input_names, sample, overrides, inference);
}

StatusOr<std::vector<RowFilter>> ToRowFilters(const SourceConfig& source) {
  std::vector<RowFilter> out;
  for (const auto& f : source.filters) {
    auto op = ParseFilterOp(f.op);
    if (!op) return InvalidArgumentError("source '" + source.name + "': unknown filter operator '" + f.op + "'");
    out.push_back(RowFilter{f.field, *op, f.values});
  }
  return out;
}

// Opens the source's input, samples it to infer types, and builds the converter.
StatusOr<SourcePlan> MakePlan(const ProjectConfig& project, const SourceConfig& source, const IngestOptions& options) {
  SourcePlan plan;
  std::vector<std::string> names;
  std::vector<RawRecordBatch> sample;
  bool replay_sample = false;  // the sample came from the reader that continues
  auto read_sample = [&](RecordReader& reader) -> Status {
    size_t records = 0;
    while (records < kInferenceSampleRecords) {
      RawRecordBatch batch;
      CDP_ASSIGN_OR_RETURN(bool more, reader.Next(&batch, std::min(options.batch_rows, kInferenceSampleRecords - records)));
      if (!more) break;
      records += batch.num_records();
      sample.push_back(std::move(batch));
    }
    names = reader.field_names();
    return Status::Ok();
  };
  const SourceRegistry& registry = options.connectors ? *options.connectors : SourceRegistry::Global();
  CDP_ASSIGN_OR_RETURN(const SourceConnector* connector, registry.Find(source));
  SourceOpenOptions open;
  open.parallel = options.threads != 1;
  open.range_bytes = options.csv_range_bytes;
  CDP_ASSIGN_OR_RETURN(OpenedSource opened, connector->open(project, source, open));
  plan.location = opened.location;
  plan.file = connector->file;
  plan.total_bytes = opened.total_bytes;
  CDP_RETURN_IF_ERROR(read_sample(*opened.reader));
  if (opened.ranges) {
    plan.csv_splitter = std::move(opened.ranges);
    plan.csv_path = opened.location;
    plan.csv_options = opened.range_options;
    plan.sample_lines = opened.reader->lines_read();
  } else {
    plan.sequential = std::move(opened.reader);
    replay_sample = true;
  }
  CDP_ASSIGN_OR_RETURN(std::vector<FieldOverride> overrides, FieldOverrides(source));
  CDP_RETURN_IF_ERROR(CheckCsvHeader(source, plan.location, overrides, names, sample));
  CDP_ASSIGN_OR_RETURN(std::vector<FieldSpec> specs, PlanFields(source, names, sample, overrides));
  CDP_ASSIGN_OR_RETURN(std::vector<RowFilter> filters, ToRowFilters(source));
  CDP_ASSIGN_OR_RETURN(BatchConverter converter, BatchConverter::Create(specs, filters, names, plan.location));
  plan.converter.emplace(std::move(converter));
  if (replay_sample) plan.replay = std::move(sample);
  return plan;
}

void AppendQuarantine(const std::vector<QuarantinedRecord>& records, const std::string& location, Table* out) {
  for (const auto& q : records) {
    out->mutable_column(0).AppendInt64(q.line);
    out->mutable_column(1).AppendString(q.field);
    out->mutable_column(2).AppendString(q.value);
    out->mutable_column(3).AppendString(q.reason);
    out->mutable_column(4).AppendString(q.raw_record);
    out->mutable_column(5).AppendString(location);
    out->mutable_column(6).AppendInt64(std::max(q.line, q.last_line));
    out->FinishRow();
  }
}

// Runs conversion tasks on a pool and hands their results to `sink` in
// submission order, with at most `max_inflight` tasks outstanding.
class OrderedConversion {
 public:
  using Task = std::function<StatusOr<std::vector<ConvertedBatch>>()>;
  using Sink = std::function<Status(std::vector<ConvertedBatch>&)>;

  // Runs tasks on `pool`, or on the calling thread when it is null.
  OrderedConversion(ThreadPool* pool, Sink sink) : sink_(std::move(sink)), pool_(pool) {
    max_inflight_ = pool_ ? static_cast<size_t>(pool_->size()) * 2 : 1;
  }
  ~OrderedConversion() { Drain(); }

  // Submits `task`; may first hand finished results to the sink to keep the
  // number of outstanding tasks bounded.
  Status Submit(Task task) {
    if (!pool_) {
      CDP_ASSIGN_OR_RETURN(auto out, task());
      return sink_(out);
    }
    while (submitted_ - written_ >= max_inflight_) CDP_RETURN_IF_ERROR(WriteHead());
    size_t id = submitted_++;
    {
      std::lock_guard<std::mutex> l(mu_);
      slots_[id];
    }
    pool_->Submit([this, id, task = std::move(task)] {
      auto result = task();
      std::lock_guard<std::mutex> l(mu_);
      Slot& s = slots_[id];
      s.done = true;
      if (result.ok()) {
        s.out = std::move(*result);
      } else {
        s.status = result.status();
      }
      cv_.notify_all();
    });
    return Status::Ok();
  }

  // Writes every outstanding result.
  Status Finish() {
    while (written_ < submitted_) CDP_RETURN_IF_ERROR(WriteHead());
    return Status::Ok();
  }

 private:
  struct Slot {
    bool done = false;
    Status status;
    std::vector<ConvertedBatch> out;
  };

  Status WriteHead() {
    Slot s;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return slots_[written_].done; });
      s = std::move(slots_[written_]);
      slots_.erase(written_);
    }
    ++written_;
    CDP_RETURN_IF_ERROR(s.status);
    return sink_(s.out);
  }

  // Waits for tasks still running (after an error) so none outlives us.
  void Drain() {
    if (!pool_) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      for (auto& [id, s] : slots_) {
        if (!s.done) return false;
      }
      return true;
    });
  }

  Sink sink_;
  ThreadPool* pool_;
  size_t max_inflight_;
  size_t submitted_ = 0;
  size_t written_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<size_t, Slot> slots_;  // guarded by mu_
};

bool OverLimit(const BadRowLimit& limit, int64_t bad, int64_t read, bool final_count) {
  if (limit.count >= 0 && bad > limit.count) return true;
  if (final_count && limit.percent >= 0 && read > 0 && 100.0 * bad / read > limit.percent) return true;
  return false;
}

// Reads, converts and writes the whole source into `gen`. Fills the counts
// of `result`.
// With a `pool`, conversion and the entity's compression run on it.
Status IngestInto(const SourceConfig& source, SourcePlan& plan, GenerationWriter& gen, const ColumnFileOptions& file_options,
                  ThreadPool* pool, const IngestOptions& options, SourceIngestResult* result) {
  auto& rec = result->record;
  ColumnFileOptions entity_options = file_options;
  entity_options.pool = pool;
  CDP_ASSIGN_OR_RETURN(ColumnFileWriter * entity_out,
                       gen.WriteEntity(source.name, plan.converter->schema(), "{}", entity_options));
  CDP_ASSIGN_OR_RETURN(ColumnFileWriter * quarantine_out,
                       gen.WriteEntity(QuarantineEntityName(source.name), QuarantineSchema(), "{}"));
  Table quarantine_table(QuarantineSchema());
  std::string first_bad;  // "line N: reason" of the first quarantined row, for error messages
  ConvertStats totals;    // for the standardizers' counts
  int64_t max_line = 0;
  uint64_t bytes_done = 0;
  // Converted tables go back here once written, so that their memory is
  // reused (fresh pages cost a page fault each) and stays bounded.
  FreeList<Table> tables;
  FreeList<std::unique_ptr<EncodedRowGroup>> groups;
  const Schema& schema = plan.converter->schema();
  auto new_table = [&schema] { return Table(schema); };
  auto new_group = [] { return std::make_unique<EncodedRowGroup>(); };
  auto sink = [&](std::vector<ConvertedBatch>& batches) -> Status {
    for (auto& b : batches) {
      if (b.encoded) {
        CDP_RETURN_IF_ERROR(entity_out->AppendRowGroup(*b.encoded));
        groups.Put(std::move(b.encoded));
      } else {
        if (b.table.num_rows() > 0) CDP_RETURN_IF_ERROR(entity_out->Append(b.table));
        b.table.Clear();
        tables.Put(std::move(b.table));
      }
      if (first_bad.empty() && !b.quarantine.empty()) {
        first_bad = "line " + std::to_string(b.quarantine[0].line) + ": " + b.quarantine[0].reason;
      }
      AppendQuarantine(b.quarantine, plan.location, &quarantine_table);
      rec.rows_read += b.stats.rows_read;
      rec.rows_stored += b.stats.rows_converted;
      rec.rows_quarantined += b.stats.rows_quarantined;
      rec.rows_filtered += b.stats.rows_filtered;
      totals.Add(b.stats);
      result->lines_read += b.lines;
      max_line = std::max(max_line, b.max_line);
      if (OverLimit(source.max_bad_rows, rec.rows_quarantined, rec.rows_read, false)) {
        return FailedPreconditionError(std::to_string(rec.rows_quarantined) + " bad rows exceed max_bad_rows " +
                                       source.max_bad_rows.ToString() + " (first: " + first_bad + ")");
      }
      if (quarantine_table.num_rows() >= 4096) {
        CDP_RETURN_IF_ERROR(quarantine_out->Append(quarantine_table));
        quarantine_table.Clear();
      }
    }
    return Status::Ok();
  };
  auto report = [&](uint64_t done) {
    if (options.on_progress) options.on_progress({source.name, done, plan.total_bytes, rec.rows_read});
  };
  OrderedConversion conversion(pool, sink);
  const BatchConverter& converter = *plan.converter;
  auto convert = [&converter, &tables, &new_table](RawRecordBatch& raw, std::vector<ConvertedBatch>* out) -> Status {
    ConvertedBatch b;
    b.table = tables.Take(new_table);
    CDP_RETURN_IF_ERROR(converter.Convert(raw, &b.table, &b.quarantine, &b.stats));
    if (!raw.line.empty()) b.max_line = raw.line.back();
    out->push_back(std::move(b));
    return Status::Ok();
  };
  if (plan.csv_splitter) {
    CsvRange range;
    bool any_range = false;
    for (;;) {
      CDP_ASSIGN_OR_RETURN(bool more_ranges, plan.csv_splitter->Next(&range));
      if (!more_ranges) break;
      std::string path = plan.csv_path;
      CsvOptions csv = plan.csv_options;
      size_t batch_rows = options.batch_rows;
      // A range is parsed, converted and compressed by one task: its rows
      // become row groups of the entity file (at most row_group_rows each)
      // while they are in cache, and the writer only writes them in order.
      CDP_RETURN_IF_ERROR(conversion.Submit([=, &converter, &tables, &groups,
                                             &entity_options]() -> StatusOr<std::vector<ConvertedBatch>> {
        CDP_ASSIGN_OR_RETURN(auto reader, OpenCsvRange(path, csv, range));
        std::vector<ConvertedBatch> out;
        ConvertedBatch b;
        b.table = tables.Take(new_table);
        auto encode = [&]() -> Status {
          b.encoded = groups.Take(new_group);
          CDP_RETURN_IF_ERROR(ColumnFileWriter::EncodeRowGroup(b.table, entity_options, b.encoded.get()));
          b.table.Clear();
          tables.Put(std::move(b.table));
          out.push_back(std::move(b));
          b = ConvertedBatch();
          return Status::Ok();
        };
        thread_local RawRecordBatch raw;  // its buffers are reused by the thread's next range
        for (;;) {
          CDP_ASSIGN_OR_RETURN(bool more, reader->Next(&raw, batch_rows));
          if (!more) break;
          CDP_RETURN_IF_ERROR(converter.Convert(raw, &b.table, &b.quarantine, &b.stats));
          if (b.table.num_rows() >= entity_options.row_group_rows) {
            CDP_RETURN_IF_ERROR(encode());
            b.table = tables.Take(new_table);
          }
        }
        CDP_RETURN_IF_ERROR(encode());
        out.back().lines = reader->lines_read();
        return out;
      }));
      if (!any_range) result->lines_read += range.first_line - 1;  // the header
      any_range = true;
      bytes_done = range.end;
      report(bytes_done);
    }
  } else {
    auto submit_raw = [&](RawRecordBatch raw) -> Status {
      auto shared = std::make_shared<RawRecordBatch>(std::move(raw));
      return conversion.Submit([shared, &convert]() -> StatusOr<std::vector<ConvertedBatch>> {
        std::vector<ConvertedBatch> out;
        CDP_RETURN_IF_ERROR(convert(*shared, &out));
        return out;
      });
    };
    for (auto& raw : plan.replay) CDP_RETURN_IF_ERROR(submit_raw(std::move(raw)));
    plan.replay.clear();
    for (;;) {
      RawRecordBatch raw;
      CDP_ASSIGN_OR_RETURN(bool more, plan.sequential->Next(&raw, options.batch_rows));
      if (!more) break;
      CDP_RETURN_IF_ERROR(submit_raw(std::move(raw)));
      report(plan.sequential->bytes_read());
    }
  }
  CDP_RETURN_IF_ERROR(conversion.Finish());
  report(plan.total_bytes);
  // Lines: CSV readers count them; a file without data records has only the
  // lines the sample read; JSON Lines records are one per line.
  if (plan.sequential && plan.sequential->lines_read() > 0) {
    result->lines_read = plan.sequential->lines_read();
  } else if (plan.csv_splitter && result->lines_read == 0) {
    result->lines_read = plan.sample_lines;
  } else if (plan.file) {  // a file whose reader does not count lines: one record per line
    result->lines_read = std::max(result->lines_read, max_line);
  }
  if (rec.rows_read > 0 && rec.rows_quarantined == rec.rows_read) {
    // Whatever max_bad_rows says: an entity replaced by no rows at all is
    // never what a source with rows meant.
    return FailedPreconditionError("all " + std::to_string(rec.rows_read) +
                                   " rows read were quarantined, so the entity keeps its previous data (first: " +
                                   first_bad + ")");
  }
  if (OverLimit(source.max_bad_rows, rec.rows_quarantined, rec.rows_read, true)) {
    const bool by_default = source.max_bad_rows == BadRowLimit();
    return FailedPreconditionError(
        std::to_string(rec.rows_quarantined) + " of " + std::to_string(rec.rows_read) +
        " rows were quarantined, over max_bad_rows " + source.max_bad_rows.ToString() +
        (by_default ? " (the default)" : "") + ", so the entity keeps its previous data (first: " + first_bad +
        "); fix the input, or set max_bad_rows to a count, a percentage or 'unlimited'");
  }
  if (rec.rows_read != rec.rows_stored + rec.rows_quarantined + rec.rows_filtered) {
    return InternalError("row accounting mismatch: read " + std::to_string(rec.rows_read) + " != stored " +
                         std::to_string(rec.rows_stored) + " + quarantined " + std::to_string(rec.rows_quarantined) +
                         " + filtered " + std::to_string(rec.rows_filtered));
  }
  if (quarantine_table.num_rows() > 0) CDP_RETURN_IF_ERROR(quarantine_out->Append(quarantine_table));
  const std::vector<FieldSpec>& fields = plan.converter->fields();
  for (size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].standardize == Standardizer::kNone) continue;
    StandardizedField out;
    out.field = fields[f].name;
    out.standardizer = std::string(StandardizerName(fields[f].standardize));
    if (f < totals.standardize.size()) {
      out.standardized = totals.standardize[f].standardized;
      out.unknown = totals.standardize[f].unknown;
    }
    result->standardized.push_back(std::move(out));
  }
  return Status::Ok();
}

}  // namespace

bool IngestRunResult::ok() const {
  for (const auto& s : sources) {
    if (s.record.status == "failed") return false;
  }
  return true;
}

StatusOr<SourceIngestResult> IngestSource(Workspace& workspace, const ProjectConfig& project,
                                          const SourceConfig& source, int64_t run_id, const IngestOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  SourceIngestResult result;
  auto& rec = result.record;
  rec.run_id = run_id;
  rec.source = source.name;
  rec.started_at = NowMicros();
  auto finish = [&](const std::string& status, const std::string& message) -> StatusOr<SourceIngestResult> {
    rec.status = status;
    rec.message = message;
    rec.finished_at = NowMicros();
    result.seconds = SecondsSince(t0);
    CDP_RETURN_IF_ERROR(workspace.catalog().RecordSourceIngest(rec));
    return result;
  };

  CDP_ASSIGN_OR_RETURN(Snapshot current, workspace.data().Current());
  const SourceRegistry& registry = options.connectors ? *options.connectors : SourceRegistry::Global();
  auto connector = registry.Find(source);
  if (!connector.ok()) return finish("failed", connector.status().ToString());
  const bool file_source = (*connector)->file;
  const std::string path = file_source ? project.ResolvePath(source.path) : std::string();
  std::optional<uint64_t> hashed_before;  // content hash read before ingesting, if it was
  if (file_source) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return finish("failed", "cannot open '" + path + "' for source '" + source.name + "'");
    }
    result.bytes = static_cast<uint64_t>(st.st_size);
    // A CSV file is hashed by its reader while it is ingested. It is hashed
    // first when it may be skipped (definition and size equal the last good
    // ingest's), and so is every other file (its reader does not hash).
    CDP_ASSIGN_OR_RETURN(auto last, workspace.catalog().LastSucceededIngest(source.name));
    auto entity = current.entities.find(source.name);
    const bool may_skip = !options.force && last && entity != current.entities.end() &&
                          FingerprintPrefix(last->fingerprint) == FingerprintPrefix(FileFingerprint(source, result.bytes, 0));
    if (may_skip || !(*connector)->hashes_while_reading) {
      auto content = FileContentHash(path);
      if (!content.ok()) return finish("failed", content.status().ToString());
      hashed_before = *content;
      rec.fingerprint = FileFingerprint(source, result.bytes, *content);
      if (may_skip && last->fingerprint == rec.fingerprint) {
        rec.rows_read = last->rows_read;
        rec.rows_stored = last->rows_stored;
        rec.rows_quarantined = last->rows_quarantined;
        rec.rows_filtered = last->rows_filtered;
        rec.generation = entity->second.generation;
        return finish("skipped",
                      "unchanged since run " + std::to_string(last->run_id) + " (same definition, size and content hash)");
      }
    }
  }

  auto plan = MakePlan(project, source, options);
  if (!plan.ok()) return finish("failed", plan.status().ToString());
  // Declared before the generation writer, whose files may still have
  // compression tasks queued on it.
  std::unique_ptr<ThreadPool> pool;
  if (options.threads != 1) pool = std::make_unique<ThreadPool>(options.threads);
  auto gen = workspace.data().BeginGeneration();
  if (!gen.ok()) return gen.status();
  Status s = IngestInto(source, *plan, **gen, workspace.data().options().file_options, pool.get(), options, &result);
  if (s.ok()) s = (*gen)->Commit();
  if (!s.ok()) {
    // The generation writer is discarded: the entity keeps its previous data.
    gen->reset();
    return finish("failed", s.ToString());
  }
  rec.generation = (*gen)->generation();
  if (file_source) {
    // The hash of the bytes just ingested (from the splitter or the reader
    // that read the whole file), else the one read before.
    std::optional<uint64_t> content;
    if (plan->csv_splitter) content = plan->csv_splitter->content_hash();
    if (!content && plan->sequential) content = plan->sequential->content_hash();
    if (!content) content = hashed_before;
    if (!content) {
      // The file shrank while being read (the reader's hash is then
      // incomplete): fingerprint it as it is now. The data is committed, so
      // if that fails too the ingest stands without a fingerprint (the next
      // one does not skip).
      auto hashed = FileContentHash(path);
      if (hashed.ok()) content = *hashed;
    }
    rec.fingerprint = content ? FileFingerprint(source, result.bytes, *content) : std::string();
  }
  if (result.bytes == 0) result.bytes = plan->total_bytes;
  return finish("succeeded", "");
}

StatusOr<IngestRunResult> IngestSources(Workspace& workspace, const std::vector<std::string>& names,
                                        const IngestOptions& options, const std::string& run_kind) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  std::vector<const SourceConfig*> todo;
  if (names.empty()) {
    for (const auto& s : project.sources) todo.push_back(&s);
  } else {
    for (const auto& n : names) {
      const SourceConfig* s = project.FindSource(n);
      if (!s) {
        std::string known;
        for (const auto& k : project.sources) known += (known.empty() ? "" : ", ") + k.name;
        return NotFoundError("no source named '" + n + "' in the applied project (sources: " +
                             (known.empty() ? "none; run `cdp apply` first" : known) + ")");
      }
      todo.push_back(s);
    }
  }
  IngestRunResult run;
  CDP_ASSIGN_OR_RETURN(run.run_id, workspace.catalog().BeginRun(run_kind));
  nlohmann::json stats = nlohmann::json::array();
  for (const SourceConfig* s : todo) {
    auto r = IngestSource(workspace, project, *s, run.run_id, options);
    if (!r.ok()) {
      (void)workspace.catalog().FinishRun(run.run_id, "failed", r.status().ToString(), stats.dump());
      return r.status();
    }
    stats.push_back({{"source", s->name},
                     {"status", r->record.status},
                     {"rows_read", r->record.rows_read},
                     {"lines_read", r->lines_read},
                     {"rows_stored", r->record.rows_stored},
                     {"rows_quarantined", r->record.rows_quarantined},
                     {"rows_filtered", r->record.rows_filtered},
                     {"seconds", r->seconds}});
    if (!r->standardized.empty()) {
      nlohmann::json fields = nlohmann::json::array();
      for (const StandardizedField& f : r->standardized) {
        fields.push_back({{"field", f.field},
                          {"standardizer", f.standardizer},
                          {"standardized", f.standardized},
                          {"unknown", f.unknown}});
      }
      stats.back()["standardized"] = fields;
    }
    run.sources.push_back(std::move(*r));
  }
  std::string error;
  for (const auto& r : run.sources) {
    if (r.record.status == "failed") error += (error.empty() ? "" : "; ") + r.record.source + ": " + r.record.message;
  }
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run.run_id, run.ok() ? "succeeded" : "failed", error, stats.dump()));
  return run;
}

}  // namespace cdp
