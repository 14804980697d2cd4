#include "workspace/measure_runner.h"

#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "relate/relationship_resolver.h"
#include "unify/unifier.h"
#include "workspace/activity_runner.h"
#include "workspace/linked_entities.h"

namespace cdp {


namespace {


// CustomerIndex -> CustomerId in a customer measure table.
std::shared_ptr<Table> WithCustomerIds(const Table& t, const CustomerIndex& customers) {
  Schema s;
  s.AddField(Field{"CustomerId", DataType::kInt64, {}});
  for (size_t c = 1; c < t.num_columns(); ++c) s.AddField(t.schema().field(c));
  auto out = std::make_shared<Table>(s);
  for (size_t r = 0; r < t.num_rows(); ++r) {
    out->mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(t.column(0).Int64At(r))));
    for (size_t c = 1; c < t.num_columns(); ++c) out->mutable_column(c).AppendFrom(t.column(c), r);
    out->FinishRow();
  }
  return out;
}

}  // namespace

StatusOr<MeasureRunResult> RunMeasures(Workspace& workspace, const MeasureRunOptions& options,
                                       const std::string& run_kind) {
  CDP_RETURN_IF_ERROR(CheckRunDate(options.run_date));
  auto t0 = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  MeasureRunResult out;
  out.run_date = options.run_date ? options.run_date : TodayUtc();
  const bool own_run = options.run_id == 0;
  if (own_run) {
    CDP_ASSIGN_OR_RETURN(out.run_id, workspace.catalog().BeginRun(run_kind));
  } else {
    out.run_id = options.run_id;
  }
  auto run = [&]() -> Status {
    CDP_ASSIGN_OR_RETURN(std::unique_ptr<LinkedEntities> linked, LinkedEntities::Open(workspace, project));
    const CustomerIndex& customers = linked->customers();
    out.customers = static_cast<int64_t>(customers.size());
    // The fields the measures read of each entity (the rest is not loaded).
    std::map<std::string, std::set<std::string>> fields_of;
    for (const auto& m : project.measures) {
      std::string entity = m.entity;
      std::string time = m.time_field;
      if (!m.activity.empty()) {
        for (const auto& a : project.activities) {
          if (a.name != m.activity) continue;
          entity = a.entity;
          if (time.empty()) time = a.timestamp;
        }
      }
      if (entity.empty()) continue;
      std::set<std::string>& f = fields_of[entity];
      for (const std::string& name : {m.field, m.order_by, time}) {
        if (!name.empty()) f.insert(name);
      }
      if (entity == kUnifiedActivityEntity) f.insert("Timestamp");
      for (const auto& flt : m.filters) f.insert(flt.field);
      for (const auto& d : m.dimensions) f.insert(d);
    }
    auto group = [&](const std::string& entity, const std::vector<std::string>& path) {
      const std::set<std::string>& f = fields_of[entity];
      std::vector<std::string> columns(f.begin(), f.end());
      if (columns.empty()) columns.push_back("CustomerId");  // counts only: no field of the rows
      // A name the entity lacks: every field, so the measure's error lists them all.
      auto info = linked->snapshot().entities.find(entity);
      for (const auto& c : f) {
        if (info == linked->snapshot().entities.end() || info->second.schema.FieldIndex(c) < 0) columns.clear();
      }
      return linked->Group(entity, path, columns);
    };
    MeasureInputs in;
    in.num_customers = customers.size();
    in.run_date = out.run_date;
    for (const auto& m : project.measures) {
      if (!m.activity.empty() && !in.activities.count(m.activity)) {
        const ActivityConfig* act = nullptr;
        for (const auto& a : project.activities) {
          if (a.name == m.activity) act = &a;
        }
        if (!act) return InvalidArgumentError("measure '" + m.name + "': activity '" + m.activity + "' is not defined");
        auto g = group(act->entity, act->path);
        if (!g.ok()) return g.status().WithContext("measure '" + m.name + "'");
        in.activities[m.activity] = MeasureSource{*g, act->timestamp};
      }
      if (!m.entity.empty() && !in.entities.count(m.entity)) {
        auto g = group(m.entity, {});
        if (!g.ok()) return g.status().WithContext("measure '" + m.name + "'");
        in.entities[m.entity] = MeasureSource{*g, m.entity == kUnifiedActivityEntity ? "Timestamp" : ""};
      }
    }
    out.rows_scanned = linked->rows_grouped();
    out.warnings = linked->warnings();
    CDP_ASSIGN_OR_RETURN(std::unique_ptr<MeasureEngine> engine, MeasureEngine::Compile(project.measures, in));
    auto te = std::chrono::steady_clock::now();
    CDP_ASSIGN_OR_RETURN(out.results, engine->Evaluate(options.threads));
    out.seconds_evaluate = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();

    CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
    // Customer_Measure: CustomerId + one column per attribute measure.
    const Table& attrs = out.results.attributes;
    Schema s;
    s.AddField(Field{"CustomerId", DataType::kInt64, {}});
    for (const auto& f : attrs.schema().fields()) s.AddField(f);
    Table cm(s);
    for (size_t r = 0; r < customers.size(); ++r) cm.mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(r)));
    for (size_t c = 0; c < attrs.num_columns(); ++c) cm.mutable_column(c + 1) = attrs.column(c);
    CDP_RETURN_IF_ERROR(cm.Validate());
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(std::string(kCustomerMeasureEntity), cm.schema(), "{\"stage\":\"measures\"}"));
    CDP_RETURN_IF_ERROR(w->Append(cm));
    std::set<std::string> written = {std::string(kCustomerMeasureEntity)};
    for (const auto& [name, t] : out.results.customer) {
      auto table = WithCustomerIds(t, customers);
      std::string entity = MeasureEntityName(name);
      CDP_ASSIGN_OR_RETURN(ColumnFileWriter * cw, gen->WriteEntity(entity, table->schema(), "{\"stage\":\"measures\"}"));
      CDP_RETURN_IF_ERROR(cw->Append(*table));
      written.insert(entity);
    }
    for (const auto& [name, t] : out.results.business) {
      std::string entity = BusinessMeasureEntityName(name);
      CDP_ASSIGN_OR_RETURN(ColumnFileWriter * bw, gen->WriteEntity(entity, t.schema(), "{\"stage\":\"measures\"}"));
      CDP_RETURN_IF_ERROR(bw->Append(t));
      written.insert(entity);
    }
    // Measures that no longer exist.
    for (const auto& [name, info] : gen->base().entities) {
      EntityKind kind = EntityKindOf(name);
      bool ours = kind == EntityKind::kMeasure || kind == EntityKind::kBusinessMeasure;
      if (ours && !written.count(name)) CDP_RETURN_IF_ERROR(gen->RemoveEntity(name));
    }
    CDP_RETURN_IF_ERROR(gen->Commit());
    out.generation = gen->generation();
    return Status::Ok();
  };
  Status st = run();
  out.seconds_total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) {
    if (own_run) (void)workspace.catalog().FinishRun(out.run_id, "failed", st.ToString(), "{}");
    return st;
  }
  if (!own_run) return out;
  nlohmann::ordered_json j = {{"run_date", out.run_date}, {"customers", out.customers}, {"rows_scanned", out.rows_scanned},
                              {"seconds_evaluate", out.seconds_evaluate}, {"seconds_total", out.seconds_total},
                              {"warnings", out.warnings}};
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(out.run_id, "succeeded", "", j.dump()));
  return out;
}

}  // namespace cdp
