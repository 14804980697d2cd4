#include "workspace/segment_runner.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "workspace/activity_runner.h"
#include "workspace/linked_entities.h"
#include "workspace/row_export.h"

namespace cdp {
namespace {




// The data a segment may read, for validation and evaluation.
struct SegmentContext {
  std::unique_ptr<LinkedEntities> linked;
  std::shared_ptr<const Table> customer;
  std::shared_ptr<const Table> customer_measure;
  SegmentSchema schema;
  // Members of segments that rules take (Rule::segment): evaluated in this
  // run, or read from Segment_<name>.
  std::map<std::string, CustomerSet> members;
};

StatusOr<SegmentContext> OpenContext(Workspace& workspace, const ProjectConfig& project) {
  SegmentContext ctx;
  CDP_ASSIGN_OR_RETURN(ctx.linked, LinkedEntities::Open(workspace, project));
  CDP_ASSIGN_OR_RETURN(ctx.customer, ctx.linked->Load(std::string(kCustomerEntity)));
  ctx.schema.customer = ctx.customer->schema();
  if (ctx.linked->snapshot().entities.count(std::string(kCustomerMeasureEntity))) {
    CDP_ASSIGN_OR_RETURN(ctx.customer_measure, ctx.linked->Load(std::string(kCustomerMeasureEntity)));
    ctx.schema.customer_measure = ctx.customer_measure->schema();
  }
  for (const auto& e : ctx.linked->GroupableEntities()) {
    if (e == kCustomerEntity) continue;
    ctx.schema.related[e] = ctx.linked->snapshot().entities.at(e).schema;
  }
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> segments, workspace.catalog().ListSegments());
  for (const auto& s : segments) ctx.schema.segments.insert(s.name);
  return ctx;
}

// The members of segment `name` for a rule on membership: this run's result,
// else its stored Segment_<name>.
StatusOr<const CustomerSet*> SegmentMembers(SegmentContext& ctx, const std::string& name) {
  auto it = ctx.members.find(name);
  if (it != ctx.members.end()) return &it->second;
  if (!ctx.linked->snapshot().entities.count(SegmentEntityName(name))) {
    return FailedPreconditionError("segment '" + name + "' has no members yet; run it first");
  }
  CDP_ASSIGN_OR_RETURN(auto table, ctx.linked->Load(SegmentEntityName(name)));
  CustomerSet set;
  for (int64_t id : SegmentMemberIds(*table)) {
    int64_t index = ctx.linked->customers().IndexOf(id);
    if (index >= 0) set.Add(static_cast<uint32_t>(index));
  }
  set.Optimize();
  return &ctx.members.emplace(name, std::move(set)).first->second;
}

StatusOr<SegmentResult> Evaluate(SegmentContext& ctx, const SegmentDefinition& d, const SegmentRunOptions& options) {
  SegmentData data;
  data.customer = ctx.customer.get();
  data.customer_measure = ctx.customer_measure.get();
  std::set<std::string> entities;
  auto collect = [&](const Condition& c) {
    if (!c.entity.empty()) entities.insert(c.entity);
  };
  for (const auto& rule : d.rules) {
    if (!rule.segment.empty()) {
      if (ctx.schema.segments.count(rule.segment)) {
        CDP_ASSIGN_OR_RETURN(data.segments[rule.segment], SegmentMembers(ctx, rule.segment));
      }
      continue;
    }
    entities.insert(rule.entity);
    for (const auto& term : rule.conditions) {
      if (const Condition* c = std::get_if<Condition>(&term)) {
        collect(*c);
      } else {
        for (const auto& c : std::get<OrGroup>(term).any_of) collect(c);
      }
    }
  }
  for (const auto& e : entities) {
    if (e == kCustomerEntity || e == kCustomerMeasureEntity || !ctx.schema.related.count(e)) continue;
    CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, ctx.linked->Group(e));
    data.related[e] = g;
  }
  SegmentEvalOptions eo;
  eo.run_date = options.run_date ? options.run_date : TodayUtc();
  eo.threads = options.threads;
  return EvaluateSegment(d, data, eo);
}

// Segment_<name>: the members' CustomerIds.
Table MembersTable(const SegmentResult& r, const CustomerIndex& customers) {
  Table t(Schema({Field{"CustomerId", DataType::kInt64, {}}}));
  r.members.ForEach([&](uint32_t c) {
    t.mutable_column(0).AppendInt64(customers.customer_id(c));
    t.FinishRow();
  });
  return t;
}

}  // namespace

std::vector<int64_t> SegmentMemberIds(const Table& members) {
  const Column* ids = members.ColumnByName("CustomerId");
  std::vector<int64_t> out;
  if (ids != nullptr && ids->type() == DataType::kInt64) {
    out.reserve(ids->size());
    for (size_t r = 0; r < ids->size(); ++r) {
      if (!ids->IsNull(r)) out.push_back(ids->Int64At(r));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string SegmentProblemsJson(const std::vector<SegmentProblem>& problems) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : problems) a.push_back(p.ToString());
  return a.dump();
}

StatusOr<std::vector<SegmentProblem>> SegmentProblemsOnData(Workspace& workspace, const ProjectConfig& project,
                                                            const SegmentDefinition& d) {
  auto ctx = OpenContext(workspace, project);
  if (ctx.ok()) return Validate(d, ctx->schema);
  if (ctx.status().code() != StatusCode::kFailedPrecondition) return ctx.status();
  return std::vector<SegmentProblem>{SegmentProblem{"", "cannot be validated yet: " + ctx.status().message()}};
}

StatusOr<SegmentEvaluation> FreezeSegment(Workspace& workspace, const ProjectConfig& project, const SegmentDefinition& d,
                                          const SegmentRunOptions& options) {
  CDP_ASSIGN_OR_RETURN(SegmentContext ctx, OpenContext(workspace, project));
  CDP_ASSIGN_OR_RETURN(SegmentResult r, Evaluate(ctx, d, options));
  CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
  Table members = MembersTable(r, ctx.linked->customers());
  CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(SegmentEntityName(d.name), members.schema(), "{\"stage\":\"segments\"}"));
  CDP_RETURN_IF_ERROR(w->Append(members));
  CDP_RETURN_IF_ERROR(gen->Commit());
  const auto count = static_cast<int64_t>(r.members.Count());
  CDP_ASSIGN_OR_RETURN(int64_t run_id, workspace.catalog().BeginRun("segment-freeze"));
  CDP_RETURN_IF_ERROR(workspace.catalog().RecordSegmentCount(d.name, run_id, count));
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run_id, "succeeded", "", "{}"));
  return SegmentEvaluation{d.name, count, r.rules};
}

Status RemoveSegmentMembers(Workspace& workspace, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(SegmentEntityName(name))) return Status::Ok();
  CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
  CDP_RETURN_IF_ERROR(gen->RemoveEntity(SegmentEntityName(name)));
  return gen->Commit();
}

namespace {

// The segments of `todo` ordered so that a segment whose rules take another
// segment's members runs after it (Kahn's algorithm, ties in name order); a
// named run also runs the dynamic segments its named ones depend on. A cycle
// is InvalidArgument naming its segments.
StatusOr<std::vector<SegmentRecord>> OrderByMembership(std::vector<SegmentRecord> todo,
                                                       const std::vector<SegmentRecord>& all,
                                                       const std::vector<std::string>& names) {
  std::map<std::string, std::set<std::string>> uses;
  std::map<std::string, const SegmentRecord*> by_name;
  std::map<std::string, SegmentType> type;
  for (const auto& r : all) {
    by_name[r.name] = &r;
    auto d = ParseStoredSegmentJson(r.definition_json);
    if (!d.ok()) continue;
    type[r.name] = d->type;
    for (const auto& rule : d->rules) {
      if (!rule.segment.empty()) uses[r.name].insert(rule.segment);
    }
  }
  std::set<std::string> in_run;
  for (const auto& r : todo) in_run.insert(r.name);
  if (!names.empty()) {
    // Dynamic segments the named ones take members from are evaluated too, first.
    std::vector<std::string> stack(in_run.begin(), in_run.end());
    while (!stack.empty()) {
      std::string n = stack.back();
      stack.pop_back();
      for (const auto& u : uses[n]) {
        if (by_name.count(u) && type[u] == SegmentType::kDynamic && in_run.insert(u).second) {
          todo.push_back(*by_name[u]);
          stack.push_back(u);
        }
      }
    }
  }
  std::map<std::string, int> pending;
  std::map<std::string, std::vector<std::string>> users;
  for (const auto& n : in_run) {
    pending[n] = 0;
    for (const auto& u : uses[n]) {
      if (in_run.count(u) && u != n) {
        ++pending[n];
        users[u].push_back(n);
      }
    }
  }
  std::set<std::string> ready;
  for (const auto& [n, p] : pending) {
    if (p == 0) ready.insert(n);
  }
  std::vector<std::string> order;
  while (!ready.empty()) {
    std::string n = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(n);
    for (const auto& u : users[n]) {
      if (--pending[u] == 0) ready.insert(u);
    }
  }
  if (order.size() != in_run.size()) {
    std::string cycle;
    for (const auto& [n, p] : pending) {
      if (p > 0) cycle += (cycle.empty() ? "" : ", ") + n;
    }
    return InvalidArgumentError("segments take each other's members in a cycle: " + cycle);
  }
  std::vector<SegmentRecord> out;
  for (const auto& n : order) {
    for (const auto& r : todo) {
      if (r.name == n) {
        out.push_back(r);
        break;
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<std::vector<SegmentEvaluation>> RunSegments(Workspace& workspace, const std::vector<std::string>& names,
                                                     const SegmentRunOptions& options, std::vector<std::string>* skipped) {
  CDP_RETURN_IF_ERROR(CheckRunDate(options.run_date));
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(std::vector<SegmentRecord> all, workspace.catalog().ListSegments());
  std::vector<SegmentRecord> todo;
  if (names.empty()) {
    todo = all;
  } else {
    for (const auto& n : names) {
      bool found = false;
      for (const auto& r : all) {
        if (r.name == n) {
          todo.push_back(r);
          found = true;
        }
      }
      if (!found) return NotFoundError("no segment named '" + n + "'");
    }
  }
  CDP_ASSIGN_OR_RETURN(SegmentContext ctx, OpenContext(workspace, project));
  CDP_ASSIGN_OR_RETURN(todo, OrderByMembership(std::move(todo), all, names));
  const bool own_run = options.run_id == 0;
  int64_t run_id = options.run_id;
  if (own_run) {
    CDP_ASSIGN_OR_RETURN(run_id, workspace.catalog().BeginRun("segments"));
  }
  std::vector<SegmentEvaluation> out;
  std::vector<std::pair<std::string, Table>> tables;
  std::vector<SegmentRecord> status_updates;
  auto run = [&]() -> Status {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
    for (const auto& rec : todo) {
      CDP_ASSIGN_OR_RETURN(SegmentDefinition d, ParseStoredSegmentJson(rec.definition_json));
      bool explicit_name = std::find(names.begin(), names.end(), d.name) != names.end();
      if (d.type == SegmentType::kExpansion) {
        if (explicit_name) {
          return FailedPreconditionError("segment '" + d.name + "' is an expansion segment: its members were found "
                                         "when it was saved; expand its source again to refresh them");
        }
        continue;
      }
      if (!d.active) {
        if (explicit_name) {
          return FailedPreconditionError("segment '" + d.name + "' is deactivated; activate it to evaluate it");
        }
        if (skipped) skipped->push_back(d.name + " (deactivated)");
        continue;
      }
      if (d.type == SegmentType::kStatic && snap.entities.count(SegmentEntityName(d.name))) {
        if (explicit_name) {
          return FailedPreconditionError("segment '" + d.name + "' is static: its members were frozen when it was saved; "
                                         "update it to evaluate it again");
        }
        continue;
      }
      std::vector<SegmentProblem> problems = Validate(d, ctx.schema);
      SegmentState state = StateAfterSave(d, problems);
      std::string status(SegmentStateName(state));
      if (status != rec.status || SegmentProblemsJson(problems) != rec.problems_json) {
        SegmentRecord updated = rec;
        updated.status = status;
        updated.problems_json = SegmentProblemsJson(problems);
        status_updates.push_back(updated);
      }
      if (!problems.empty()) {
        if (explicit_name) {
          return FailedPreconditionError("segment '" + d.name + "' is " + status + " and cannot run:\n" + FormatProblems(problems));
        }
        if (skipped) skipped->push_back(d.name + " (" + status + "): " + FormatProblems(problems));
        continue;
      }
      CDP_ASSIGN_OR_RETURN(SegmentResult r, Evaluate(ctx, d, options));
      tables.emplace_back(SegmentEntityName(d.name), MembersTable(r, ctx.linked->customers()));
      ctx.members[d.name] = r.members;  // later rules on membership read this run's members
      out.push_back(SegmentEvaluation{d.name, static_cast<int64_t>(r.members.Count()), r.rules});
    }
    if (!tables.empty()) {
      CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
      for (const auto& [name, t] : tables) {
        CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(name, t.schema(), "{\"stage\":\"segments\"}"));
        CDP_RETURN_IF_ERROR(w->Append(t));
      }
      CDP_RETURN_IF_ERROR(gen->Commit());
    }
    // Status updates, unless the definition changed meanwhile (its save set the status).
    CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
      for (const auto& u : status_updates) {
        CDP_ASSIGN_OR_RETURN(auto now, txn.GetSegment(u.name));
        if (now && now->definition_json == u.definition_json) CDP_RETURN_IF_ERROR(txn.PutSegment(u));
      }
      return Status::Ok();
    }));
    for (const auto& e : out) CDP_RETURN_IF_ERROR(workspace.catalog().RecordSegmentCount(e.name, run_id, e.members));
    return Status::Ok();
  };
  Status s = run();
  if (!s.ok()) {
    if (own_run) (void)workspace.catalog().FinishRun(run_id, "failed", s.ToString(), "{}");
    return s;
  }
  if (!own_run) return out;
  nlohmann::json stats = nlohmann::json::array();
  for (const auto& e : out) stats.push_back({{"segment", e.name}, {"members", e.members}});
  CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(run_id, "succeeded", "", stats.dump()));
  return out;
}

StatusOr<SegmentInspection> InspectSegment(Workspace& workspace, const std::string& name, size_t preview_rows,
                                           const SegmentRunOptions& options) {
  SegmentInspection out;
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetSegment(name));
  if (!rec) return NotFoundError("no segment named '" + name + "'");
  out.record = *rec;
  CDP_ASSIGN_OR_RETURN(out.definition, ParseStoredSegmentJson(rec->definition_json));
  CDP_ASSIGN_OR_RETURN(out.history, workspace.catalog().SegmentHistory(name, 100));
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  auto ctx = OpenContext(workspace, project);
  if (!ctx.ok()) {
    out.problems.push_back(SegmentProblem{"", ctx.status().message()});
    return out;
  }
  out.problems = Validate(out.definition, ctx->schema);
  if (out.problems.empty()) {
    CDP_ASSIGN_OR_RETURN(SegmentResult r, Evaluate(*ctx, out.definition, options));
    out.counts = SegmentEvaluation{name, static_cast<int64_t>(r.members.Count()), r.rules};
  }
  const Snapshot& snap = ctx->linked->snapshot();
  out.preview = Table(ctx->customer->schema());
  if (snap.entities.count(SegmentEntityName(name))) {
    CDP_ASSIGN_OR_RETURN(auto members, ctx->linked->Load(SegmentEntityName(name)));
    out.stored_members = static_cast<int64_t>(members->num_rows());
    const CustomerIndex& ix = ctx->linked->customers();
    for (size_t i = 0; i < members->num_rows() && i < preview_rows; ++i) {
      int64_t c = ix.IndexOf(members->column(0).Int64At(i));
      if (c < 0) continue;  // a frozen member that no longer exists
      for (size_t k = 0; k < ctx->customer->num_columns(); ++k) {
        out.preview.mutable_column(k).AppendFrom(ctx->customer->column(k), static_cast<size_t>(c));
      }
      out.preview.FinishRow();
    }
  }
  return out;
}

namespace {

// Writes the Customer (and Customer_Measure) rows of `ids` (customer indexes).
StatusOr<int64_t> WriteMembers(Workspace& workspace, const Snapshot& snap, const std::vector<uint32_t>& ids,
                               const std::string& format, std::ostream& out) {
  CDP_ASSIGN_OR_RETURN(auto customer, LoadEntity(workspace, snap, std::string(kCustomerEntity)));
  std::shared_ptr<const Table> measures;
  if (snap.entities.count(std::string(kCustomerMeasureEntity))) {
    CDP_ASSIGN_OR_RETURN(measures, LoadEntity(workspace, snap, std::string(kCustomerMeasureEntity)));
  }
  // Columns: Customer's, then Customer_Measure's except its CustomerId.
  std::vector<std::pair<const Column*, std::string>> cols;
  for (size_t k = 0; k < customer->num_columns(); ++k) cols.emplace_back(&customer->column(k), customer->schema().field(k).name);
  if (measures && measures->num_rows() == customer->num_rows()) {
    for (size_t k = 1; k < measures->num_columns(); ++k) cols.emplace_back(&measures->column(k), measures->schema().field(k).name);
  }
  CDP_ASSIGN_OR_RETURN(RowTextFormat text_format, ParseRowTextFormat(format));
  std::vector<ExportField> fields;
  std::vector<const Column*> columns;
  for (const auto& [col, fname] : cols) {
    fields.push_back(ExportField{fname, col->type()});
    columns.push_back(col);
  }
  RowTextWriter writer(text_format, std::move(fields), out);
  int64_t written = 0;
  for (uint32_t row32 : ids) {
    size_t row = row32;
    if (row >= customer->num_rows()) continue;
    CDP_RETURN_IF_ERROR(writer.WriteRow(columns, row));
    ++written;
  }
  CDP_RETURN_IF_ERROR(writer.Finish());
  return written;
}

}  // namespace

StatusOr<int64_t> ExportSegmentMembers(Workspace& workspace, const std::string& name, const std::string& format,
                                       std::ostream& out) {
  if (format != "csv" && format != "jsonl") return InvalidArgumentError("format: expected csv or jsonl, got '" + format + "'");
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetSegment(name));
  if (!rec) return NotFoundError("no segment named '" + name + "'");
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(SegmentEntityName(name))) {
    return FailedPreconditionError("segment '" + name + "' has not been evaluated yet (a refresh, or running the segment, evaluates it)");
  }
  CDP_ASSIGN_OR_RETURN(auto members, LoadEntity(workspace, snap, SegmentEntityName(name)));
  CDP_ASSIGN_OR_RETURN(CustomerIndex ix, LoadCustomerIndex(workspace, snap));
  std::vector<uint32_t> ids;
  ids.reserve(members->num_rows());
  for (size_t i = 0; i < members->num_rows(); ++i) {
    int64_t c = ix.IndexOf(members->column(0).Int64At(i));
    if (c >= 0) ids.push_back(static_cast<uint32_t>(c));  // a frozen member may no longer exist
  }
  return WriteMembers(workspace, snap, ids, format, out);
}

StatusOr<int64_t> ExportDefinitionMembers(Workspace& workspace, const SegmentDefinition& definition,
                                          const std::string& format, std::ostream& out,
                                          const SegmentRunOptions& options) {
  if (format != "csv" && format != "jsonl") return InvalidArgumentError("format: expected csv or jsonl, got '" + format + "'");
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(SegmentContext ctx, OpenContext(workspace, project));
  std::vector<SegmentProblem> problems = Validate(definition, ctx.schema);
  if (!problems.empty()) {
    return InvalidArgumentError("segment '" + definition.name + "' cannot be evaluated:\n" + FormatProblems(problems));
  }
  CDP_ASSIGN_OR_RETURN(SegmentResult r, Evaluate(ctx, definition, options));
  return WriteMembers(workspace, ctx.linked->snapshot(), r.members.ToVector(), format, out);
}

}  // namespace cdp
