#include "workspace/unify_runner.h"

#include <nlohmann/json.hpp>
#include <charconv>
#include <set>

#include "common/entity_names.h"
#include "workspace/enrichment_runner.h"
#include "workspace/lineage.h"
#include "workspace/unify_review.h"

namespace cdp {
namespace {

StatusOr<UnifyConfig> AppliedUnification(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  if (project.unification.empty()) {
    return FailedPreconditionError(
        "the applied project has no 'unification' section; add one to the project YAML and run `cdp apply`");
  }
  return project.unification;
}

// Previous CustomerIds from the current generation's lineage, if any.
StatusOr<PreviousLineage> LoadPreviousLineage(Workspace& workspace, const Snapshot& snap) {
  PreviousLineage prev;
  if (!snap.entities.count(std::string(kSourceKeysEntity))) return prev;
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snap, std::string(kSourceKeysEntity)));
  CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
  int id = t.schema().FieldIndex("CustomerId"), src = t.schema().FieldIndex("Source"),
      key = t.schema().FieldIndex("SourceKey");
  if (id < 0 || src < 0 || key < 0) return DataLossError("entity CustomerSourceKeys lacks CustomerId/Source/SourceKey");
  for (size_t i = 0; i < t.num_rows(); ++i) {
    prev.Add(t.column(static_cast<size_t>(src)).StringAt(i), t.column(static_cast<size_t>(key)).StringAt(i),
             t.column(static_cast<size_t>(id)).Int64At(i));
  }
  return prev;
}

// The state the last unify left (nullopt when there is none or it cannot be
// read: the run then goes in full).
StatusOr<std::optional<UnifyState>> LoadUnifyState(Workspace& workspace, const Snapshot& snap) {
  auto it = snap.entities.find(std::string(kUnifyStateEntity));
  if (it == snap.entities.end() || !snap.entities.count(std::string(kUnifyStatePairsEntity))) {
    return std::optional<UnifyState>();
  }
  auto props = nlohmann::json::parse(it->second.properties_json, nullptr, false);
  if (props.is_discarded() || !props.contains("fingerprint") || !props["fingerprint"].is_string()) {
    return std::optional<UnifyState>();
  }
  uint64_t fingerprint = 0;
  const std::string text = props["fingerprint"].get<std::string>();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fingerprint);
  if (ec != std::errc() || end != text.data() + text.size()) return std::optional<UnifyState>();
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snap, std::string(kUnifyStateEntity)));
  CDP_ASSIGN_OR_RETURN(Table records, reader->ReadAll());
  CDP_ASSIGN_OR_RETURN(auto pairs_reader, workspace.data().OpenEntity(snap, std::string(kUnifyStatePairsEntity)));
  CDP_ASSIGN_OR_RETURN(Table pairs, pairs_reader->ReadAll());
  auto state = UnifyStateFromTables(records, pairs, fingerprint);
  if (!state.ok()) return std::optional<UnifyState>();
  return std::optional<UnifyState>(std::move(*state));
}


}  // namespace

StatusOr<std::vector<std::shared_ptr<const Table>>> LoadProfileSources(Workspace& workspace,
                                                                        const UnifyConfig& config) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  // Enrichments before unification add columns to their sources' records.
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  std::vector<std::shared_ptr<const Table>> tables;
  for (const auto& s : config.sources) {
    if (!snap.entities.count(s.source)) {
      return FailedPreconditionError("profile source '" + s.source + "' has not been ingested; run `cdp ingest` first");
    }
    CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snap, s.source));
    CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
    CDP_ASSIGN_OR_RETURN(auto joined,
                         JoinSourceEnrichments(workspace, snap, project, s.source, std::make_shared<const Table>(std::move(t))));
    tables.push_back(std::move(joined));
  }
  return tables;
}

StatusOr<UnifyRunResult> RunUnify(Workspace& workspace, const UnifyRunOptions& options, const std::string& run_kind) {
  CDP_ASSIGN_OR_RETURN(UnifyConfig config, AppliedUnification(workspace));
  UnifyRunResult out;
  const bool own_run = options.run_id == 0;
  if (own_run) {
    CDP_ASSIGN_OR_RETURN(out.run_id, workspace.catalog().BeginRun(options.preview ? run_kind + "-preview" : run_kind));
  } else {
    out.run_id = options.run_id;
  }
  auto fail = [&](const Status& s) {
    if (own_run) (void)workspace.catalog().FinishRun(out.run_id, "failed", s.ToString(), "{}");
    return s;
  };
  auto run = [&]() -> Status {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
    if (options.on_progress) options.on_progress("loading", 0, static_cast<int64_t>(config.sources.size()));
    CDP_ASSIGN_OR_RETURN(auto tables, LoadProfileSources(workspace, config));
    CDP_ASSIGN_OR_RETURN(PreviousLineage prev, LoadPreviousLineage(workspace, snap));
    CDP_ASSIGN_OR_RETURN(auto records, workspace.catalog().ListMatchOverrides());
    std::vector<MatchOverride> overrides;
    for (const auto& o : records) overrides.push_back(MatchOverride{o.source_a, o.key_a, o.source_b, o.key_b, o.always});
    // The previous run's state, accepted pairs and model, for incremental matching.
    std::optional<UnifyState> state;
    std::optional<FsModel> kept_model;
    if (!options.full) {
      CDP_ASSIGN_OR_RETURN(state, LoadUnifyState(workspace, snap));
      if (state && config.mode == UnifyMode::kProbabilistic) {
        auto m = LoadUnifyModel(workspace);
        if (m.ok()) kept_model = std::move(*m);
      }
    }
    UnifyOptions uo;
    uo.threads = options.threads;
    uo.preview = options.preview;
    uo.make_state = true;
    uo.incremental = !options.full;
    if (state) uo.previous_state = &*state;
    if (kept_model) uo.incremental_model = &*kept_model;
    uo.progress = options.on_progress;
    CDP_ASSIGN_OR_RETURN(UnifyResult result, Unify(config, tables, overrides, prev, uo));
    // The result holds copies of what it needs: the sources (the whole
    // profile tables) and the previous lineage go before writing, and each
    // output goes once written, so that the writing adds little to the peak.
    tables.clear();
    prev = PreviousLineage();
    out.stats = result.stats;
    out.id_changes = result.id_changes;
    if (options.preview) return Status::Ok();
    if (options.on_progress) options.on_progress("writing", 0, 1);
    CDP_ASSIGN_OR_RETURN(auto gen, workspace.data().BeginGeneration());
    auto write = [&](const std::string& name, const Table& t) -> Status {
      CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w, gen->WriteEntity(name, t.schema(), "{\"stage\":\"unify\"}"));
      return w->Append(t);
    };
    CDP_RETURN_IF_ERROR(write(std::string(kCustomerEntity), *result.customers));
    result.customers.reset();
    CDP_RETURN_IF_ERROR(write(std::string(kSourceKeysEntity), *result.source_keys));
    result.source_keys.reset();
    CDP_RETURN_IF_ERROR(write(std::string(kMatchPairsEntity), *result.match_pairs));
    result.match_pairs.reset();
    CDP_RETURN_IF_ERROR(write(std::string(kReviewPairsEntity), *ReviewPairsTable(ReviewPairsOf(result))));
    if (result.state) {
      nlohmann::json props = {{"stage", "unify"}, {"fingerprint", std::to_string(result.state->fingerprint)}};
      {
        Table records = UnifyStateToTable(*result.state);
        CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w,
                             gen->WriteEntity(std::string(kUnifyStateEntity), records.schema(), props.dump()));
        CDP_RETURN_IF_ERROR(w->Append(records));
      }
      Table pairs = UnifyStatePairsToTable(*result.state);
      result.state.reset();
      CDP_ASSIGN_OR_RETURN(ColumnFileWriter * w,
                           gen->WriteEntity(std::string(kUnifyStatePairsEntity), pairs.schema(), props.dump()));
      CDP_RETURN_IF_ERROR(w->Append(pairs));
    }
    std::set<std::string> dedup_names;
    for (const auto& [name, t] : result.dedup) {
      CDP_RETURN_IF_ERROR(write(name, *t));
      dedup_names.insert(name);
    }
    // Dedup outputs of sources that no longer deduplicate.
    for (const auto& [name, info] : gen->base().entities) {
      if (EntityKindOf(name) == EntityKind::kDedup && !dedup_names.count(name)) CDP_RETURN_IF_ERROR(gen->RemoveEntity(name));
    }
    CDP_RETURN_IF_ERROR(gen->Commit());
    out.generation = gen->generation();
    if (options.on_progress) options.on_progress("writing", 1, 1);
    std::vector<CustomerIdChangeRecord> changes;
    for (const auto& c : result.id_changes) changes.push_back(CustomerIdChangeRecord{out.run_id, c.kind, c.customer_id, c.other_ids});
    CDP_RETURN_IF_ERROR(workspace.catalog().RecordIdChanges(out.run_id, changes));
    if (result.model) CDP_RETURN_IF_ERROR(workspace.catalog().SaveUnifyModel(out.run_id, result.model->ToJson().dump()));
    return Status::Ok();
  };
  Status s = run();
  if (!s.ok()) return fail(s);
  if (own_run) CDP_RETURN_IF_ERROR(workspace.catalog().FinishRun(out.run_id, "succeeded", "", out.stats.ToJson()));
  return out;
}

StatusOr<PairExplanation> ExplainPairInWorkspace(Workspace& workspace, const std::string& source_a,
                                                 const std::string& key_a, const std::string& source_b,
                                                 const std::string& key_b) {
  CDP_ASSIGN_OR_RETURN(UnifyConfig config, AppliedUnification(workspace));
  CDP_ASSIGN_OR_RETURN(auto tables, LoadProfileSources(workspace, config));
  CDP_ASSIGN_OR_RETURN(std::optional<FsModel> model, ModelForExplanations(workspace, config));
  return ExplainRecordPair(config, tables, source_a, key_a, source_b, key_b, model ? &*model : nullptr);
}

StatusOr<std::pair<std::string, std::string>> ParseRecordRef(const UnifyConfig& config, const std::string& ref) {
  for (const auto& s : config.sources) {
    if (ref.size() > s.source.size() && ref.compare(0, s.source.size(), s.source) == 0 && ref[s.source.size()] == ':') {
      return std::make_pair(s.source, ref.substr(s.source.size() + 1));
    }
  }
  std::string names;
  for (const auto& s : config.sources) names += (names.empty() ? "" : ", ") + s.source;
  return InvalidArgumentError("'" + ref + "' is not SOURCE:KEY with SOURCE one of the unification sources (" + names +
                              ")");
}

nlohmann::ordered_json PairExplanationToJson(const PairExplanation& e) {
  using J = nlohmann::ordered_json;
  // Guards: `passed` false means the guard refuses the pair.
  auto guards = [](const std::vector<ConditionExplanation>& gs) {
    J out = J::array();
    for (const auto& c : gs) {
      out.push_back({{"field", c.field}, {"compare", c.compare}, {"a", c.value_a}, {"b", c.value_b},
                     {"similarity", c.similarity}, {"passed", c.passed}, {"verdict", c.note}});
    }
    return out;
  };
  J rules = J::array();
  for (const auto& r : e.rules) {
    J cs = J::array();
    for (const auto& c : r.conditions) {
      cs.push_back({{"field", c.field}, {"compare", c.compare}, {"a", c.value_a}, {"b", c.value_b},
                    {"similarity", c.similarity}, {"passed", c.passed}});
      if (!c.blank_a.empty()) cs.back()["blank_a"] = c.blank_a;  // why a's value is blank
      if (!c.blank_b.empty()) cs.back()["blank_b"] = c.blank_b;
    }
    J rj = {{"rule", r.rule}, {"applies", r.applies}, {"matched", r.matched}, {"score", r.score}, {"conditions", cs}};
    if (!r.exception.empty()) rj["blocked_by_exception_on"] = r.exception;
    if (!r.guards.empty()) rj["guards"] = guards(r.guards);
    if (r.guard_failed) rj["blocked_by_guard"] = true;
    rules.push_back(rj);
  }
  J j = {{"a", e.record_a}, {"b", e.record_b}, {"matched", e.matched}, {"matched_by", e.matched_by}, {"rules", rules}};
  if (!e.guards.empty()) j["guards"] = guards(e.guards);
  if (!e.blocked_by_guard.empty()) j["blocked_by_guard"] = e.blocked_by_guard;
  if (!e.contributions.empty()) {
    J cs = J::array();
    for (const auto& c : e.contributions) {
      cs.push_back({{"comparison", c.comparison}, {"level", c.level}, {"m", c.m}, {"u", c.u}, {"weight", c.weight}});
    }
    j["comparisons"] = cs;
    j["match_weight"] = e.match_weight;
    j["match_probability"] = e.match_probability;
  }
  return j;
}

}  // namespace cdp
