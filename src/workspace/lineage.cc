#include "workspace/lineage.h"

#include "common/entity_names.h"
#include "table/table_json.h"
#include "unify/unifier.h"
#include "workspace/activity_runner.h"
#include "workspace/customer_rows.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

// The column `name` of `table`; DataLoss naming the entity when it is
// missing or not of `type`.
StatusOr<const Column*> ColumnOf(const Table& table, std::string_view entity, const std::string& name, DataType type) {
  const Column* c = table.ColumnByName(name);
  if (c == nullptr || c->type() != type) {
    return DataLossError(std::string(entity) + " has no " + std::string(DataTypeName(type)) + " column " + name);
  }
  return c;
}

// Rows of `table` whose int64 `CustomerId` equals `id`.
StatusOr<std::vector<size_t>> RowsOf(const Table& table, std::string_view entity, int64_t id) {
  CDP_ASSIGN_OR_RETURN(const Column* ids, ColumnOf(table, entity, "CustomerId", DataType::kInt64));
  std::vector<size_t> rows;
  for (size_t r = 0; r < ids->size(); ++r) {
    if (!ids->IsNull(r) && ids->Int64At(r) == id) rows.push_back(r);
  }
  return rows;
}

}  // namespace

StatusOr<FsModel> LoadUnifyModel(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(auto json, workspace.catalog().LatestUnifyModel());
  if (!json) {
    return NotFoundError(
        "no trained unification model: set unification.mode: probabilistic and run `cdp unify` or `cdp run`");
  }
  auto parsed = nlohmann::json::parse(*json, nullptr, false);
  if (parsed.is_discarded()) return DataLossError("the stored unification model is not valid JSON");
  auto model = FsModel::FromJson(parsed);
  if (!model.ok()) return DataLossError("the stored unification model cannot be read: " + model.status().message());
  return std::move(*model);
}

StatusOr<std::optional<FsModel>> ModelForExplanations(Workspace& workspace, const UnifyConfig& config) {
  if (config.mode != UnifyMode::kProbabilistic) return std::optional<FsModel>();
  CDP_ASSIGN_OR_RETURN(FsModel model, LoadUnifyModel(workspace));
  return std::optional<FsModel>(std::move(model));
}

Status CustomerNotFound(Workspace& workspace, int64_t customer_id, bool no_customers) {
  std::string message = "there is no customer with CustomerId " + std::to_string(customer_id);
  if (no_customers) return NotFoundError(message + " (there are no customers yet: run a refresh)");
  auto changes = workspace.catalog().ListIdChanges(customer_id);
  if (changes.ok()) {
    for (const auto& c : *changes) {
      if (c.kind == "merge" && c.customer_id != customer_id) {
        message += " (it was merged into " + std::to_string(c.customer_id) + ")";
      }
    }
  }
  return NotFoundError(message);
}

StatusOr<LineageTables> LoadLineageTables(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  LineageTables t;
  if (!snap.entities.count(std::string(kCustomerEntity))) {
    return FailedPreconditionError("there is no Customer entity yet: run `cdp unify` or `cdp run` first");
  }
  CDP_ASSIGN_OR_RETURN(t.customers, LoadEntity(workspace, snap, std::string(kCustomerEntity)));
  if (snap.entities.count(std::string(kSourceKeysEntity))) {
    CDP_ASSIGN_OR_RETURN(t.source_keys, LoadEntity(workspace, snap, std::string(kSourceKeysEntity)));
  }
  if (snap.entities.count(std::string(kMatchPairsEntity))) {
    CDP_ASSIGN_OR_RETURN(t.match_pairs, LoadEntity(workspace, snap, std::string(kMatchPairsEntity)));
  }
  return t;
}

Status CheckCustomerExists(Workspace& workspace, int64_t customer_id) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(std::string(kCustomerEntity))) return CustomerNotFound(workspace, customer_id, true);
  CDP_ASSIGN_OR_RETURN(auto customers, LoadCustomerRows(workspace, snap, std::string(kCustomerEntity)));
  if (customers->Of(customer_id).empty()) return CustomerNotFound(workspace, customer_id);
  return Status::Ok();
}

StatusOr<CustomerExplanation> ExplainCustomer(Workspace& workspace, int64_t customer_id,
                                              const ExplainOptions& options) {
  auto tables = LoadLineageTables(workspace);
  if (!tables.ok() && tables.status().code() == StatusCode::kFailedPrecondition) {
    return CustomerNotFound(workspace, customer_id, true);
  }
  CDP_RETURN_IF_ERROR(tables.status());
  return ExplainCustomer(workspace, *tables, customer_id, options);
}

StatusOr<CustomerExplanation> ExplainCustomer(Workspace& workspace, const LineageTables& tables,
                                              int64_t customer_id, const ExplainOptions& options) {
  if (!tables.customers) return CustomerNotFound(workspace, customer_id, true);
  CustomerExplanation out;
  out.customer_id = customer_id;
  const Table& customers = *tables.customers;
  CDP_ASSIGN_OR_RETURN(std::vector<size_t> rows, RowsOf(customers, kCustomerEntity, customer_id));
  if (rows.empty()) return CustomerNotFound(workspace, customer_id);
  out.profile = Table(customers.schema());
  for (size_t c = 0; c < customers.num_columns(); ++c) out.profile.mutable_column(c).AppendFrom(customers.column(c), rows[0]);
  out.profile.FinishRow();

  if (tables.source_keys) {
    const Table& k = *tables.source_keys;
    CDP_ASSIGN_OR_RETURN(const Column* source, ColumnOf(k, kSourceKeysEntity, "Source", DataType::kString));
    CDP_ASSIGN_OR_RETURN(const Column* key, ColumnOf(k, kSourceKeysEntity, "SourceKey", DataType::kString));
    CDP_ASSIGN_OR_RETURN(std::vector<size_t> key_rows, RowsOf(k, kSourceKeysEntity, customer_id));
    for (size_t r : key_rows) out.records.push_back({std::string(source->StringAt(r)), std::string(key->StringAt(r))});
  }
  if (tables.match_pairs) {
    const Table& p = *tables.match_pairs;
    auto text = [&](const std::string& name) { return ColumnOf(p, kMatchPairsEntity, name, DataType::kString); };
    CDP_ASSIGN_OR_RETURN(const Column* source_a, text("SourceA"));
    CDP_ASSIGN_OR_RETURN(const Column* key_a, text("KeyA"));
    CDP_ASSIGN_OR_RETURN(const Column* source_b, text("SourceB"));
    CDP_ASSIGN_OR_RETURN(const Column* key_b, text("KeyB"));
    CDP_ASSIGN_OR_RETURN(const Column* rule, text("Rule"));
    CDP_ASSIGN_OR_RETURN(const Column* status, text("Status"));
    CDP_ASSIGN_OR_RETURN(const Column* score, ColumnOf(p, kMatchPairsEntity, "Score", DataType::kDouble));
    CDP_ASSIGN_OR_RETURN(std::vector<size_t> pair_rows, RowsOf(p, kMatchPairsEntity, customer_id));
    for (size_t r : pair_rows) {
      LineagePair pair;
      pair.a = {std::string(source_a->StringAt(r)), std::string(key_a->StringAt(r))};
      pair.b = {std::string(source_b->StringAt(r)), std::string(key_b->StringAt(r))};
      pair.rule = std::string(rule->StringAt(r));
      pair.score = score->IsNull(r) ? 0 : score->DoubleAt(r);
      pair.status = std::string(status->StringAt(r));
      out.pairs.push_back(std::move(pair));
    }
  }
  if (options.explained_pairs > 0 && !out.pairs.empty()) {
    // Each pair's conditions, recomputed from the sources.
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
    CDP_ASSIGN_OR_RETURN(auto sources, LoadProfileSources(workspace, project.unification));
    CDP_ASSIGN_OR_RETURN(std::optional<FsModel> model, ModelForExplanations(workspace, project.unification));
    for (size_t i = 0; i < out.pairs.size() && i < options.explained_pairs; ++i) {
      LineagePair& pair = out.pairs[i];
      CDP_ASSIGN_OR_RETURN(PairExplanation e, ExplainRecordPair(project.unification, sources, pair.a.source, pair.a.key,
                                                                pair.b.source, pair.b.key, model ? &*model : nullptr));
      pair.explanation = std::move(e);
    }
  }
  CDP_ASSIGN_OR_RETURN(out.id_changes, workspace.catalog().ListIdChanges(customer_id));
  return out;
}

nlohmann::ordered_json CustomerExplanationToJson(const CustomerExplanation& e) {
  using Json = nlohmann::ordered_json;
  Json records = Json::array();
  for (const auto& r : e.records) records.push_back(r.ToString());
  Json pairs = Json::array();
  for (const auto& p : e.pairs) {
    Json o = {{"a", p.a.ToString()}, {"b", p.b.ToString()}, {"rule", p.rule}, {"score", p.score}, {"status", p.status}};
    if (p.explanation) o["explanation"] = PairExplanationToJson(*p.explanation);
    pairs.push_back(std::move(o));
  }
  Json changes = Json::array();
  for (const auto& c : e.id_changes) {
    changes.push_back({{"run_id", c.run_id}, {"kind", c.kind}, {"customer_id", c.customer_id}, {"other_ids", c.other_ids}});
  }
  return {{"customer_id", e.customer_id},
          {"profile", e.profile.num_rows() ? RowToJson(e.profile, 0) : Json(nullptr)},
          {"records", records},
          {"pairs", pairs},
          {"id_changes", changes}};
}

}  // namespace cdp
