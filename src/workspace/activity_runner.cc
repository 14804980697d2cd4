#include "workspace/activity_runner.h"

#include "common/datetime.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "unify/unifier.h"
#include "workspace/lineage.h"

namespace cdp {

StatusOr<std::shared_ptr<const Table>> LoadEntity(Workspace& workspace, const Snapshot& snapshot,
                                                  const std::string& entity) {
  if (!snapshot.entities.count(entity)) {
    return FailedPreconditionError("entity '" + entity + "' does not exist yet (ingest its source, or run the stage that writes it)");
  }
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snapshot, entity));
  CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
  return std::make_shared<const Table>(std::move(t));
}

StatusOr<CustomerIndex> LoadCustomerIndex(Workspace& workspace, const Snapshot& snapshot) {
  if (!snapshot.entities.count(std::string(kCustomerEntity))) {
    return FailedPreconditionError("there is no Customer entity yet: run `cdp unify` first");
  }
  CDP_ASSIGN_OR_RETURN(auto customer, LoadEntity(workspace, snapshot, std::string(kCustomerEntity)));
  CDP_ASSIGN_OR_RETURN(auto keys, LoadEntity(workspace, snapshot, std::string(kSourceKeysEntity)));
  return CustomerIndex::Build(*customer, *keys);
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
    CDP_ASSIGN_OR_RETURN(CustomerIndex customers, LoadCustomerIndex(workspace, snap));
    std::map<std::string, std::shared_ptr<const Table>> cache;
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
    in.customers = &customers;
    CDP_ASSIGN_OR_RETURN(std::shared_ptr<Table> table, BuildUnifiedActivity(in, &out.activities));
    out.rows = static_cast<int64_t>(table->num_rows());
    CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(std::string(kUnifiedActivityEntity), table->schema(),
                                                                 "{\"stage\":\"activities\"}"));
    CDP_RETURN_IF_ERROR(w->Append(*table));
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
