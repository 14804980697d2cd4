#include "workspace/activity_runner.h"

#include <mutex>

#include "common/datetime.h"
#include "common/free_list.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "unify/unifier.h"
#include "workspace/lineage.h"

namespace cdp {

namespace {
constexpr size_t kUnifiedActivityRowGroupRows = 4096;
}  // namespace

namespace {

// The whole entity (`fields` null) or those of its fields.
StatusOr<std::shared_ptr<const Table>> ReadEntity(Workspace& workspace, const Snapshot& snapshot,
                                                  const std::string& entity, const std::vector<std::string>* fields) {
  if (!snapshot.entities.count(entity)) {
    return FailedPreconditionError("entity '" + entity + "' does not exist yet (ingest its source, or run the stage that writes it)");
  }
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snapshot, entity));
  std::vector<int> columns;
  if (fields) {
    for (size_t f = 0; f < reader->schema().num_fields(); ++f) {
      const std::string& name = reader->schema().field(f).name;
      if (std::find(fields->begin(), fields->end(), name) != fields->end()) columns.push_back(static_cast<int>(f));
    }
  }
  CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll(fields ? &columns : nullptr));
  return std::make_shared<const Table>(std::move(t));
}

}  // namespace

StatusOr<std::shared_ptr<const Table>> LoadEntity(Workspace& workspace, const Snapshot& snapshot,
                                                  const std::string& entity) {
  return ReadEntity(workspace, snapshot, entity, nullptr);
}

StatusOr<std::shared_ptr<const Table>> LoadEntityFields(Workspace& workspace, const Snapshot& snapshot,
                                                        const std::string& entity, const std::vector<std::string>& fields) {
  return ReadEntity(workspace, snapshot, entity, &fields);
}

StatusOr<CustomerIndex> LoadCustomerIndex(Workspace& workspace, const Snapshot& snapshot) {
  auto customer_info = snapshot.entities.find(std::string(kCustomerEntity));
  if (customer_info == snapshot.entities.end()) {
    return FailedPreconditionError("there is no Customer entity yet: run `cdp unify` first");
  }
  // The last index built in this process, by the files it was built from (a
  // new write is a new file): the stages of one refresh share it.
  static std::mutex mu;
  static std::string cached_files;
  static CustomerIndex* cached = new CustomerIndex();
  auto keys_info = snapshot.entities.find(std::string(kSourceKeysEntity));
  std::string files;
  if (keys_info != snapshot.entities.end()) {
    files = workspace.dir() + '\x1f' + customer_info->second.file + '\x1f' +
            std::to_string(customer_info->second.written_at_micros) + '\x1f' + keys_info->second.file + '\x1f' +
            std::to_string(keys_info->second.written_at_micros);
    std::lock_guard<std::mutex> lock(mu);
    if (files == cached_files) return *cached;
  }
  CDP_ASSIGN_OR_RETURN(auto customer, LoadEntity(workspace, snapshot, std::string(kCustomerEntity)));
  CDP_ASSIGN_OR_RETURN(auto keys, LoadEntity(workspace, snapshot, std::string(kSourceKeysEntity)));
  CDP_ASSIGN_OR_RETURN(CustomerIndex built, CustomerIndex::Build(*customer, *keys));
  std::lock_guard<std::mutex> lock(mu);
  cached_files = files;
  *cached = built;
  return built;
}

std::string ActivityRunResult::StatsJson() const {
  nlohmann::ordered_json j;
  j["rows"] = rows;
  j["seconds"] = seconds;
  nlohmann::ordered_json acts = nlohmann::ordered_json::array();
  for (const auto& a : activities) {
    acts.push_back({{"activity", a.activity}, {"entity", a.entity}, {"path", a.relation.path},
                    {"rows", a.relation.rows}, {"linked", a.relation.linked}, {"no_key", a.relation.no_key},
                    {"orphans", a.relation.orphans}, {"orphan_examples", a.relation.orphan_examples},
                    {"missing_timestamp", a.missing_timestamp}, {"rows_out", a.rows_out}});
  }
  j["activities"] = acts;
  return j.dump();
}

StatusOr<ActivityRunResult> RunActivities(Workspace& workspace, const std::string& run_kind) {
  ActivityRunOptions options;
  options.run_kind = run_kind;
  return RunActivities(workspace, options);
}

StatusOr<ActivityRunResult> RunActivities(Workspace& workspace, const ActivityRunOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  ActivityRunResult out;
  const bool own_run = options.run_id == 0;
  if (own_run) {
    CDP_ASSIGN_OR_RETURN(out.run_id, workspace.catalog().BeginRun(options.run_kind));
  } else {
    out.run_id = options.run_id;
  }
  auto run = [&]() -> Status {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
    // The activities' entities are read on another thread while the customer
    // index is built (a failed read is left to `in.load` below, which reports
    // it in activity order).
    std::map<std::string, std::shared_ptr<const Table>> cache;
    std::future<void> preload = std::async(std::launch::async, [&] {
      for (const auto& act : project.activities) {
        if (cache.count(act.entity) || !snap.entities.count(act.entity)) continue;
        auto t = LoadEntity(workspace, snap, act.entity);
        if (t.ok()) cache[act.entity] = *t;
      }
    });
    auto customers_or = LoadCustomerIndex(workspace, snap);
    preload.wait();
    if (!customers_or.ok()) return customers_or.status();
    CustomerIndex customers = std::move(*customers_or);
    ActivityInputs in;
    in.activities = &project.activities;
    in.relationships = &project.relationships;
    for (const auto& s : project.unification.sources) in.profile_sources.push_back(s.source);
    in.key_of = [&](const std::string& entity) { return project.KeyOf(entity); };
    in.load = [&](const std::string& entity) -> StatusOr<std::shared_ptr<const Table>> {
      auto it = cache.find(entity);
      if (it != cache.end()) return it->second;
      CDP_ASSIGN_OR_RETURN(auto t, LoadEntity(workspace, snap, entity));
      cache[entity] = t;
      return t;
    };
    // The entities the paths only go through: their relationship and key
    // fields (a projection of the file), cached by entity and fields.
    std::map<std::string, std::shared_ptr<const Table>> projected;
    in.load_fields = [&](const std::string& entity,
                         const std::vector<std::string>& fields) -> StatusOr<std::shared_ptr<const Table>> {
      std::string key = entity;
      for (const auto& f : fields) key += '\x1f' + f;
      auto it = projected.find(key);
      if (it != projected.end()) return it->second;
      CDP_ASSIGN_OR_RETURN(auto table, LoadEntityFields(workspace, snap, entity, fields));
      projected[key] = table;
      return table;
    };
    in.customers = &customers;
    // The rows are built in chunks of one row group on all cores; each worker
    // compresses its chunk (ColumnFileWriter::EncodeRowGroup) and the groups
    // are written as they come, in order: the whole table is never held nor
    // copied into the writer. A chunk larger than the writer's row group
    // bytes (rows over ~1 KB) goes through Append, which splits it; otherwise
    // the file's bytes are those of one Append of all rows.
    // Row groups of at most 4K rows: the server reads a customer's activities
    // by row group (server/serving_state.h), and a card that misses its cache
    // decodes ~3 groups (64K rows: card p50 11.7 ms at 1M; 4K: 0.37 ms, for a
    // 4% larger file).
    ColumnFileOptions file_options = workspace.data().options().file_options;
    file_options.row_group_rows = std::min<size_t>(file_options.row_group_rows, kUnifiedActivityRowGroupRows);
    CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w,
                         gen->WriteEntity(std::string(kUnifiedActivityEntity), UnifiedActivitySchema(),
                                          "{\"stage\":\"activities\"}", file_options));
    struct Chunk {
      std::unique_ptr<EncodedRowGroup> encoded;  // or, when it did not fit one group:
      std::optional<Table> rows;
    };
    auto write = [&](Chunk& c) -> Status {
      return c.encoded ? w->AppendRowGroup(*c.encoded) : w->Append(*c.rows);
    };
    FreeList<std::unique_ptr<EncodedRowGroup>> encoders;
    std::mutex mu;
    size_t next = 0;                  // guarded by mu: the chunk to write next
    std::map<size_t, Chunk> waiting;  // guarded by mu: chunks that came before their turn
    auto sink = [&](size_t index, Table& rows) -> Status {
      // Uncompressed bytes as the writer counts them against row_group_bytes:
      // 8 per value or string offset, plus the characters.
      size_t bytes = rows.num_rows() * rows.num_columns() * 8;
      for (size_t c = 0; c < rows.num_columns(); ++c) bytes += rows.column(c).string_chars().size();
      Chunk chunk;
      if (bytes <= file_options.row_group_bytes) {
        chunk.encoded = encoders.Take([] { return std::make_unique<EncodedRowGroup>(); });
        CDP_RETURN_IF_ERROR(ColumnFileWriter::EncodeRowGroup(rows, file_options, chunk.encoded.get()));
      } else {
        chunk.rows.emplace(std::move(rows));
      }
      std::lock_guard<std::mutex> lock(mu);
      if (index != next) {
        waiting.emplace(index, std::move(chunk));
        return Status::Ok();
      }
      CDP_RETURN_IF_ERROR(write(chunk));
      if (chunk.encoded) encoders.Put(std::move(chunk.encoded));
      for (auto it = waiting.find(++next); it != waiting.end(); it = waiting.find(++next)) {
        CDP_RETURN_IF_ERROR(write(it->second));
        if (it->second.encoded) encoders.Put(std::move(it->second.encoded));
        waiting.erase(it);
      }
      return Status::Ok();
    };
    ActivityBuildOptions build;
    build.threads = options.threads;
    build.chunk_rows = file_options.row_group_rows;
    CDP_ASSIGN_OR_RETURN(out.rows, BuildUnifiedActivity(in, build, sink, &out.activities));
    CDP_RETURN_IF_ERROR(gen->Commit());
    out.generation = gen->generation();
    return Status::Ok();
  };
  Status s = run();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) {
    if (own_run) (void)workspace.catalog().FinishRun(out.run_id, "failed", s.ToString(), "{}");
    return s;
  }
  if (own_run) CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(out.run_id, "succeeded", "", out.StatsJson()));
  return out;
}

StatusOr<Table> ReadTimeline(Workspace& workspace, const TimelineQuery& q) {
  if (q.customer_id <= 0) {
    return InvalidArgumentError("CustomerId must be a positive number, not " + std::to_string(q.customer_id));
  }
  if (q.from_us && q.to_us && *q.from_us > *q.to_us) {
    return InvalidArgumentError("the time range is reversed: it starts at " + FormatTimestamp(*q.from_us) +
                                ", after its end " + FormatTimestamp(*q.to_us));
  }
  if (q.limit < -1) return InvalidArgumentError("the limit must be 0 or more, not " + std::to_string(q.limit));
  CDP_RETURN_IF_ERROR(CheckCustomerExists(workspace, q.customer_id));
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(std::string(kUnifiedActivityEntity))) {
    return FailedPreconditionError("there is no UnifiedActivity entity yet: define activities and run `cdp run`");
  }
  CDP_ASSIGN_OR_RETURN(auto t, LoadEntity(workspace, snap, std::string(kUnifiedActivityEntity)));
  const Column& ids = t->column(0);
  // Rows are sorted by CustomerId: binary search the range.
  size_t lo = 0, hi = t->num_rows();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ids.Int64At(mid) < q.customer_id) lo = mid + 1; else hi = mid;
  }
  size_t end = lo;
  while (end < t->num_rows() && ids.Int64At(end) == q.customer_id) ++end;
  std::vector<size_t> rows;
  for (size_t r = lo; r < end; ++r) {
    if (!q.type.empty() && t->column(1).StringAt(r) != q.type && t->column(2).StringAt(r) != q.type) continue;
    int64_t ts = t->column(3).TimestampAt(r);
    if (q.from_us && ts < *q.from_us) continue;
    if (q.to_us && ts > *q.to_us) continue;
    rows.push_back(r);
  }
  if (q.limit >= 0 && rows.size() > static_cast<size_t>(q.limit)) rows.erase(rows.begin(), rows.end() - q.limit);
  Table out(t->schema());
  for (size_t r : rows) {
    for (size_t c = 0; c < t->num_columns(); ++c) out.mutable_column(c).AppendFrom(t->column(c), r);
    out.FinishRow();
  }
  return out;
}

}  // namespace cdp
