// `cdp unify`, `cdp unify evaluate`, `cdp explain`, `cdp explain-pair`, `cdp explain-model`, `cdp override`,
// `cdp review`: unification, why it merged what it merged, how good it is, and the pairs left for a person.
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/output.h"
#include "common/entity_names.h"
#include "ingest/csv_reader.h"
#include "table/table_json.h"
#include "workspace/lineage.h"
#include "workspace/unify_evaluation.h"
#include "workspace/unify_review.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

void PrintUnifyStats(const UnifyStats& st, bool preview) {
  std::cout << (preview ? "Preview (matching only, nothing written)\n" : "");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [s, n] : st.records_per_source) rows.push_back({s, std::to_string(n)});
  PrintTable({"source", "records"}, rows);
  std::cout << "records in " << st.records_in << ", profiles out " << st.profiles_out << ", merge rate "
            << Fixed(100 * st.merge_rate, 1) << "%\n";
  std::cout << "candidate pairs " << st.matching.candidate_pairs << " (reduction ratio "
            << Fixed(st.matching.reduction_ratio, 6) << ")\n";
  rows.clear();
  for (const auto& r : st.rules) {
    if (r.pairs == 0 && r.rule == "override") continue;
    double rate = st.records_in ? 100.0 * static_cast<double>(r.merges) / static_cast<double>(st.records_in) : 0;
    rows.push_back({r.rule, std::to_string(r.pairs), std::to_string(r.merges), Fixed(rate, 2) + "%",
                    std::to_string(r.guard_refusals + r.blocked_by_guard), std::to_string(r.blocked_by_source),
                    std::to_string(r.split_by_cap)});
  }
  PrintTable({"rule", "pairs", "merges", "merge rate", "refused by guards", "one per source", "cut at cap"}, rows);
  if (!st.matching.prior_rules.empty()) {
    // Probabilistic mode: the rules estimate the model's prior; they match nothing.
    rows.clear();
    for (const auto& r : st.matching.prior_rules) rows.push_back({r.rule, std::to_string(r.pairs)});
    std::cout << "prior rules (they estimate the prior match probability; " << st.matching.deterministic_prior_pairs
              << " distinct pairs found)\n";
    PrintTable({"prior rule", "pairs found"}, rows);
  }
  if (st.matching.labelled_matches + st.matching.labelled_non_matches > 0) {
    std::cout << "labelled pairs (overrides) decided as labelled by the model: " << st.matching.labelled_matches_accepted
              << " of " << st.matching.labelled_matches << " always-match, " << st.matching.labelled_non_matches_rejected
              << " of " << st.matching.labelled_non_matches << " never-match\n";
  }
  if (st.matching.review_pairs > 0) {
    std::cout << st.matching.review_pairs << " uncertain pairs for review\n";
  }
  if (!st.matching.skipped_blocks.empty()) {
    // The block-size guard: blocks too large to compare, largest first.
    constexpr size_t kShown = 10;
    rows.clear();
    for (size_t i = 0; i < st.matching.skipped_blocks.size() && i < kShown; ++i) {
      const SkippedBlock& b = st.matching.skipped_blocks[i];
      std::string key = b.key.size() > 40 ? b.key.substr(0, 37) + "..." : b.key;
      rows.push_back({b.rule, key, std::to_string(b.records)});
    }
    std::cout << "skipped blocks (larger than max_block_size): " << st.matching.skipped_blocks.size() << "\n";
    PrintTable({"rule", "key value", "records"}, rows);
  }
  if (!st.cluster_splits.empty()) {
    std::cout << "groups cut at max_cluster_size: " << st.cluster_splits.size() << " (" << st.pairs_split_by_cap
              << " pairs refused)\n";
  }
  if (!preview) std::cout << "CustomerIds kept " << st.kept_ids << ", new " << st.new_ids << "\n";
  const IncrementalStats& inc = st.incremental;
  if (inc.incremental) {
    std::cout << "incremental: compared the pairs of " << inc.records_compared << " records (" << inc.records_new
              << " new, " << inc.records_changed << " changed, " << inc.records_removed << " removed, "
              << inc.records_block_crossed + inc.records_tf_changed
              << " in changed blocks or term frequencies); kept " << inc.pairs_carried << " earlier pairs\n";
  } else if (!inc.full_reason.empty()) {
    std::cout << "full run: " << inc.full_reason << "\n";
  }
  std::string secs;
  for (const auto& [k, v] : st.seconds) secs += (secs.empty() ? "" : ", ") + k + " " + Fixed(v, 2) + "s";
  std::cout << "time: " << secs << "\n";
  PrintWarnings("", st.warnings);
}

Status CmdUnify(const Globals& g, bool preview, bool full, int threads, const std::string& kind) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  UnifyRunOptions options;
  options.preview = preview;
  options.full = full;
  options.threads = threads;
  std::unique_ptr<ProgressBar> bar;
  std::string current;
  options.on_progress = [&](std::string_view step, int64_t done, int64_t total) {
    if (step != current) {
      bar = std::make_unique<ProgressBar>("unify: " + std::string(step));
      current = std::string(step);
    }
    bar->Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total), "");
  };
  auto r = RunUnify(*ws, options, kind);
  bar.reset();
  if (!r.ok()) return r.status();
  if (g.json) {
    Json j = Json::parse(r->stats.ToJson());
    j["run_id"] = r->run_id;
    j["generation"] = r->generation;
    Json changes = Json::array();
    for (const auto& c : r->id_changes) changes.push_back({{"kind", c.kind}, {"customer_id", c.customer_id}, {"other_ids", c.other_ids}});
    j["id_changes"] = changes;
    PrintJson(j);
  } else {
    std::cout << "Unify run " << r->run_id << " succeeded" << (preview ? "" : ", generation " + std::to_string(r->generation)) << "\n";
    PrintUnifyStats(r->stats, preview);
    for (const auto& c : r->id_changes) {
      std::string ids;
      for (int64_t x : c.other_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(x);
      std::cout << (c.kind == "merge" ? "merged into " : "split ") << c.customer_id
                << (c.kind == "merge" ? " from " : " into ") << ids << "\n";
    }
  }
  return Status::Ok();
}

// Guards: "ok" when the guard does not block, "BLOCKS" when it refuses the pair.
void PrintGuards(const std::string& title, const std::vector<ConditionExplanation>& guards) {
  if (guards.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : guards) {
    rows.push_back({c.passed ? "ok" : "BLOCKS", c.field, c.compare, c.value_a, c.value_b, c.note});
  }
  PrintTable({"  " + title, "field", "compare", "a", "b", "verdict"}, rows);
}

void PrintExplanation(const PairExplanation& e) {
  std::cout << e.record_a << "  vs  " << e.record_b << ": "
            << (e.matched ? "MATCH by " + e.matched_by
                          : std::string("no match") +
                                (e.blocked_by_guard.empty() ? "" : " (refused by the guard on " + e.blocked_by_guard + ")"))
            << "\n";
  PrintGuards("guard", e.guards);
  for (const auto& r : e.rules) {
    std::cout << "  rule " << r.rule << ": "
              << (!r.applies ? "not for these sources"
                             : !r.exception.empty() ? "blocked by an exception on " + r.exception
                                                    : (r.matched ? "matched" : r.guard_failed ? "refused by a guard" : "not matched"))
              << " (score " << Fixed(r.score, 3) << ")\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.conditions) {
      // A blank normalized value shows why it is blank: "(blank: invalid phone, ...: '12-34')".
      auto shown = [](const std::string& value, const std::string& blank) {
        return value.empty() && !blank.empty() ? "(blank: " + blank + ")" : value;
      };
      rows.push_back({c.passed ? "yes" : "no", c.field, c.compare, shown(c.value_a, c.blank_a),
                      shown(c.value_b, c.blank_b), Fixed(c.similarity, 3)});
    }
    PrintTable({"  pass", "field", "compare", "a (normalized)", "b (normalized)", "similarity"}, rows);
    PrintGuards("rule guard", r.guards);
  }
  if (!e.contributions.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : e.contributions) {
      rows.push_back({c.comparison, c.level, Fixed(c.m, 4), Fixed(c.u, 6), Fixed(c.weight, 2)});
    }
    PrintTable({"  comparison", "level", "m", "u", "weight (bits)"}, rows);
    std::cout << "  match weight " << Fixed(e.match_weight, 2) << ", probability " << Fixed(e.match_probability, 4) << "\n";
  }
}

// Two SOURCE:KEY arguments naming unification source records.
StatusOr<std::pair<std::pair<std::string, std::string>, std::pair<std::string, std::string>>> ParseRecordPair(
    Workspace& ws, const std::string& a, const std::string& b) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, ws.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(auto ra, ParseRecordRef(project.unification, a));
  CDP_ASSIGN_OR_RETURN(auto rb, ParseRecordRef(project.unification, b));
  return std::make_pair(std::move(ra), std::move(rb));
}

Status CmdExplainPair(const Globals& g, const std::string& a, const std::string& b) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto records, ParseRecordPair(*ws, a, b));
  const auto& [ra, rb] = records;
  auto e = ExplainPairInWorkspace(*ws, ra.first, ra.second, rb.first, rb.second);
  if (!e.ok()) return e.status();
  if (g.json) {
    PrintJson(Json(PairExplanationToJson(*e)));
  } else {
    PrintExplanation(*e);
  }
  return Status::Ok();
}

// `cdp explain ID`: the customer's profile, source records, match pairs
// (each explained by the rules or the model) and id changes
// (workspace/lineage.h, as the API's explain).
Status CmdExplain(const Globals& g, int64_t id) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(CustomerExplanation e, ExplainCustomer(*ws, id));
  if (g.json) {
    PrintJson(CustomerExplanationToJson(e));
    return Status::Ok();
  }
  std::cout << "Customer " << id << "\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < e.profile.num_columns(); ++c) {
    const std::string& name = e.profile.schema().field(c).name;
    if (name != "CustomerId" && !e.profile.column(c).IsNull(0)) rows.push_back({name, e.profile.column(c).ValueToString(0)});
  }
  PrintTable({"field", "value"}, rows);
  std::cout << "\n" << e.records.size() << " source record(s):\n";
  rows.clear();
  for (const auto& r : e.records) rows.push_back({r.source, r.key});
  PrintTable({"source", "key"}, rows);
  std::cout << "\n" << e.pairs.size() << " match pair(s):\n";
  for (const auto& p : e.pairs) {
    std::cout << "- " << p.a.ToString() << " = " << p.b.ToString() << "  rule " << p.rule << ", score "
              << Fixed(p.score, 3) << ", " << p.status << "\n";
    if (p.explanation) PrintExplanation(*p.explanation);
  }
  for (const auto& c : e.id_changes) {
    std::string ids;
    for (int64_t x : c.other_ids) ids += (ids.empty() ? "" : ", ") + std::to_string(x);
    std::cout << "run " << c.run_id << ": " << c.kind << " " << c.customer_id
              << (c.kind == "merge" ? " absorbed " : " split into ") << ids << "\n";
  }
  return Status::Ok();
}

Status CmdOverrideAdd(const Globals& g, const std::string& a, const std::string& b, bool always, bool never, const std::string& note) {
  if (always == never) return InvalidArgumentError("give exactly one of --always and --never");
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto records, ParseRecordPair(*ws, a, b));
  const auto& [ra, rb] = records;
  auto id = ws->catalog().AddMatchOverride(MatchOverrideRecord{0, ra.first, ra.second, rb.first, rb.second, always, note, 0});
  if (!id.ok()) return id.status();
  if (g.json) {
    PrintJson({{"id", *id}});
  } else {
    std::cout << "Override " << *id << ": " << a << (always ? " always matches " : " never matches ") << b
              << " (takes effect at the next `cdp unify`)\n";
  }
  return Status::Ok();
}

Status CmdOverrideList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto list = ws->catalog().ListMatchOverrides();
  if (!list.ok()) return list.status();
  if (g.json) {
    Json arr = Json::array();
    for (const auto& o : *list) {
      arr.push_back({{"id", o.id}, {"a", o.source_a + ":" + o.key_a}, {"b", o.source_b + ":" + o.key_b},
                     {"kind", o.always ? "always" : "never"}, {"note", o.note}});
    }
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : *list) {
    rows.push_back({std::to_string(o.id), o.source_a + ":" + o.key_a, o.source_b + ":" + o.key_b, o.always ? "always" : "never", o.note});
  }
  PrintTable({"id", "record a", "record b", "kind", "note"}, rows);
  return Status::Ok();
}

Status CmdOverrideRemove(const Globals& g, int64_t id) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  Status s = ws->catalog().RemoveMatchOverride(id);
  if (!s.ok()) return s;
  if (!g.json) std::cout << "Removed override " << id << "\n";
  return Status::Ok();
}

// A CSV with a header: source_a,key_a,source_b,key_b,kind[,note]; kind is always or never.
Status CmdOverrideImport(const Globals& g, const std::string& file) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto project = ws->catalog().LoadProject();
  if (!project.ok()) return project.status();
  auto reader = OpenCsvFile(file, CsvOptions());
  if (!reader.ok()) return reader.status();
  const auto& names = (*reader)->field_names();
  auto col = [&](const std::string& n) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  int sa = col("source_a"), ka = col("key_a"), sb = col("source_b"), kb = col("key_b"), kind = col("kind"), note = col("note");
  if (sa < 0 || ka < 0 || sb < 0 || kb < 0 || kind < 0) {
    return InvalidArgumentError(file + ": the header must name source_a, key_a, source_b, key_b and kind (and optionally note)");
  }
  std::vector<MatchOverrideRecord> todo;
  RawRecordBatch batch;
  for (;;) {
    auto more = (*reader)->Next(&batch, 1024);
    if (!more.ok()) return more.status();
    if (!*more) break;
    for (size_t r = 0; r < batch.num_records(); ++r) {
      std::string where = file + ":" + std::to_string(batch.line[r]);
      if (batch.num_fields(r) < names.size()) return InvalidArgumentError(where + ": expected " + std::to_string(names.size()) + " fields");
      auto f = [&](int c) { return std::string(batch.field(r, static_cast<size_t>(c))); };
      MatchOverrideRecord o{0, f(sa), f(ka), f(sb), f(kb), false, note >= 0 ? f(note) : "", 0};
      std::string k = f(kind);
      if (k != "always" && k != "never") return InvalidArgumentError(where + ": kind: expected always or never, got '" + k + "'");
      o.always = k == "always";
      for (const auto& src : {o.source_a, o.source_b}) {
        if (!project->unification.FindSource(src)) {
          return InvalidArgumentError(where + ": '" + src + "' is not a unification source");
        }
      }
      todo.push_back(std::move(o));
    }
  }
  // Validated as a whole before anything is stored.
  for (const auto& o : todo) {
    auto id = ws->catalog().AddMatchOverride(o);
    if (!id.ok()) return id.status();
  }
  if (g.json) {
    PrintJson({{"imported", todo.size()}});
  } else {
    std::cout << "Imported " << todo.size() << " override(s) from " << file << "\n";
  }
  return Status::Ok();
}

Status CmdExplainModel(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(FsModel model, LoadUnifyModel(*ws));
  if (g.json) {
    PrintJson(Json(model.ToJson()));
  } else {
    std::cout << ExplainFsModel(model);
  }
  return Status::Ok();
}

// The verdict of an explanation (PairExplanationToJson) in one line.
std::string VerdictLine(const Json& e) {
  if (e.is_null()) return "(no explanation)";
  if (e.contains("error")) return "(explain: " + e["error"].get<std::string>() + ")";
  std::string line = e.value("matched", false) ? "MATCH by " + e.value("matched_by", std::string()) : "no match";
  if (e.contains("match_probability")) line += ", probability " + Fixed(e["match_probability"].get<double>(), 4);
  for (const auto& r : e["rules"]) {
    if (!r.value("applies", false)) continue;
    std::string conds;
    for (const auto& c : r["conditions"]) {
      conds += " " + c["field"].get<std::string>() + "[" + c["a"].get<std::string>() + " ~ " + c["b"].get<std::string>() +
               " " + Fixed(c["similarity"].get<double>(), 2) + (c["passed"].get<bool>() ? " pass" : " fail") + "]";
    }
    line += "\n      rule " + r["rule"].get<std::string>() + ": " + (r.value("matched", false) ? "matched" : "not matched") + conds;
  }
  if (e.contains("comparisons")) {
    std::string parts;
    for (const auto& c : e["comparisons"]) {
      parts += " " + c["comparison"].get<std::string>() + ":" + c["level"].get<std::string>() + "(" +
               Fixed(c["weight"].get<double>(), 1) + ")";
    }
    line += "\n      model weight " + Fixed(e["match_weight"].get<double>(), 2) + parts;
  }
  return line;
}

Status CmdUnifyEvaluate(const Globals& g, const std::string& truth, int samples) {
  if (samples < 0 || samples > 1000) return InvalidArgumentError("--samples must be between 0 and 1000");
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  EvaluationOptions options;
  options.samples = samples;
  CDP_ASSIGN_OR_RETURN(UnifyEvaluation e, EvaluateUnificationFile(*ws, truth, options));
  Json j = UnifyEvaluationToJson(e);
  CDP_RETURN_IF_ERROR(SaveLastEvaluation(*ws, j));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  const ClusteringScore& s = e.score;
  std::cout << "Evaluated " << s.records << " record(s) of " << truth << " (" << e.records_not_in_truth
            << " profiled record(s) not in the truth ignored";
  if (e.truth_without_profile) std::cout << ", " << e.truth_without_profile << " truth record(s) without a profile";
  std::cout << ")\n";
  if (e.truth_not_in_data) {
    std::cout << e.truth_not_in_data << " truth record(s) name a key the stored sources do not hold (quarantined or "
              << "filtered at ingest; scored as singletons), e.g.";
    for (const std::string& x : e.truth_not_in_data_examples) std::cout << "\n  " << x;
    std::cout << "\n";
  }
  PrintTable({"measure", "precision", "recall", "F1"},
             {{"pairwise", Fixed(s.precision, 4), Fixed(s.recall, 4), Fixed(s.f1, 4)},
              {"B-cubed", Fixed(s.bcubed_precision, 4), Fixed(s.bcubed_recall, 4), Fixed(s.bcubed_f1, 4)},
              {"exact clusters", Fixed(s.cluster_precision, 4), Fixed(s.cluster_recall, 4), Fixed(s.cluster_f1, 4)}});
  std::cout << "pairs: " << s.tp << " right, " << s.fp << " false merges, " << s.fn << " missed\n";
  std::cout << "clusters: " << s.predicted_clusters << " predicted, " << s.true_clusters << " true, " << s.exact_clusters
            << " exact\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : e.largest_clusters) {
    rows.push_back({std::to_string(c.customer_id), std::to_string(c.records), std::to_string(c.true_entities),
                    std::to_string(c.false_pairs)});
  }
  std::cout << "\nLargest profiles:\n";
  PrintTable({"CustomerId", "records", "true entities", "false pairs"}, rows);
  std::cout << "\nWorst false merges:\n";
  if (e.false_merges.empty()) std::cout << "  none\n";
  const Json& merges = j["false_merges"];
  for (size_t i = 0; i < e.false_merges.size(); ++i) {
    const FalseMerge& fm = e.false_merges[i];
    std::cout << "- CustomerId " << fm.cluster.customer_id << ": " << fm.cluster.records << " records of "
              << fm.cluster.true_entities << " entities (" << fm.cluster.false_pairs << " false pairs); "
              << fm.entity_a << " joined to " << fm.entity_b << (fm.chain.empty() ? " (no chain of match pairs found)" : " by:")
              << "\n";
    for (size_t l = 0; l < fm.chain.size(); ++l) {
      const ChainLink& link = fm.chain[l];
      std::cout << "    " << (static_cast<int>(l) == fm.joining_link ? "* " : "  ") << link.a << " = " << link.b
                << "  rule " << link.rule << ", score " << Fixed(link.score, 3) << "  (" << (link.entity_a.empty() ? "?" : link.entity_a)
                << " / " << (link.entity_b.empty() ? "?" : link.entity_b) << ")\n";
    }
    if (fm.joining_link >= 0) std::cout << "    joining pair: " << VerdictLine(merges[i]["explanation"]) << "\n";
  }
  std::cout << "\nWorst misses:\n";
  if (e.misses.empty()) std::cout << "  none\n";
  const Json& misses = j["misses"];
  for (size_t i = 0; i < e.misses.size(); ++i) {
    const Miss& m = e.misses[i];
    std::cout << "- " << m.entity << ": " << m.records << " records in " << m.profiles << " profiles (" << m.missed_pairs
              << " missed pairs); " << m.a << " vs " << m.b << ": " << VerdictLine(misses[i]["explanation"]) << "\n";
  }
  return Status::Ok();
}

Json ReviewPairJson(const ReviewQueuePair& p) {
  return {{"a", p.source_a + ":" + p.key_a}, {"b", p.source_b + ":" + p.key_b}, {"probability", p.probability}, {"weight", p.weight}, {"rule", p.rule}};
}

Status CmdReviewList(const Globals& g, int64_t limit) {
  if (limit < 0) return InvalidArgumentError("--limit must be 0 or more");
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(ReviewQueue q, ListReviewQueue(*ws, static_cast<size_t>(limit)));
  if (g.json) {
    Json items = Json::array();
    for (const auto& p : q.pairs) items.push_back(ReviewPairJson(p));
    PrintJson({{"total", q.total}, {"decided", q.decided}, {"items", items}});
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : q.pairs) {
    rows.push_back({p.source_a + ":" + p.key_a, p.source_b + ":" + p.key_b, Fixed(p.probability, 4), Fixed(p.weight, 2)});
  }
  PrintTable({"record a", "record b", "probability", "weight (bits)"}, rows);
  std::cout << q.total << " pair(s) to review";
  if (static_cast<int64_t>(q.pairs.size()) < q.total) std::cout << " (" << q.pairs.size() << " shown)";
  std::cout << ", " << q.decided << " decided by an override\n";
  return Status::Ok();
}

Status CmdReviewDecide(const Globals& g, const std::string& a, const std::string& b, bool accept, const std::string& note) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(ReviewDecision d, DecideReviewPair(*ws, a, b, accept, note));
  if (g.json) {
    Json j = ReviewPairJson(d.pair);
    j["override_id"] = d.override_id;
    j["kind"] = accept ? "always" : "never";
    PrintJson(j);
  } else {
    std::cout << "Override " << d.override_id << ": " << a << (accept ? " always matches " : " never matches ") << b
              << " (takes effect at the next `cdp unify`)\n";
  }
  return Status::Ok();
}

}  // namespace

void AddUnifyCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    bool preview = false;
    bool full = false;
    int threads = 0;
    int64_t customer_id = 0;
    std::string a, b, note, file;
    bool always = false, never = false;
    int64_t override_id = 0;
    std::string truth;
    int samples = 5;
    int64_t limit = 20;
  };
  auto o = std::make_shared<Options>();
  auto* unify = app.add_subcommand("unify", "unify the profile sources into Customer (map, dedup, match, merge)");
  cli.AddWorkspaceOptions(unify);
  unify->add_flag("--preview", o->preview, "run matching only and print statistics; write nothing");
  unify->add_flag("--full", o->full,
                  "compare every candidate pair (and retrain a probabilistic model) instead of only the pairs of "
                  "records that changed since the last run");
  CommandLine::AddThreadsOption(unify, &o->threads);
  auto* evaluate = unify->add_subcommand("evaluate", "score the current unification against a known truth (CSV: source,key,entity)");
  cli.AddWorkspaceOptions(evaluate);
  evaluate->add_option("--truth", o->truth, "CSV with a header: source,key,entity")->required()->check(CLI::ExistingFile);
  evaluate->add_option("--samples", o->samples, "largest profiles, false merges and misses to list (default 5)");
  cli.OnRun(evaluate, [&cli, o] { return CmdUnifyEvaluate(cli.g, o->truth, o->samples); });
  // `cdp unify evaluate` runs evaluate only (a parent's callback runs after its subcommand's).
  unify->callback([&cli, o, evaluate] {
    if (!evaluate->parsed()) cli.exit_code = ReportStatus(CmdUnify(cli.g, o->preview, o->full, o->threads, "unify"));
  });

  auto* explain = app.add_subcommand("explain", "show the records of a customer and why they were merged");
  cli.AddWorkspaceOptions(explain);
  explain->add_option("CUSTOMERID", o->customer_id, "a CustomerId")->required();
  cli.OnRun(explain, [&cli, o] { return CmdExplain(cli.g, o->customer_id); });

  auto* explain_pair = app.add_subcommand("explain-pair", "compare two source records under every rule");
  cli.AddWorkspaceOptions(explain_pair);
  explain_pair->add_option("A", o->a, "SOURCE:KEY")->required();
  explain_pair->add_option("B", o->b, "SOURCE:KEY")->required();
  cli.OnRun(explain_pair, [&cli, o] { return CmdExplainPair(cli.g, o->a, o->b); });

  auto* explain_model = app.add_subcommand("explain-model", "print the trained probabilistic model: the all-pairs prior, the EM training sessions, and per comparison level m, u, Bayes factor, weight in bits and the sessions that trained it");
  cli.AddWorkspaceOptions(explain_model);
  cli.OnRun(explain_model, [&cli] { return CmdExplainModel(cli.g); });

  auto* override_cmd = app.add_subcommand("override", "match overrides: pairs of records that always or never match");
  override_cmd->require_subcommand(1);
  auto* oadd = override_cmd->add_subcommand("add", "add (or replace) an override");
  cli.AddWorkspaceOptions(oadd);
  oadd->add_option("A", o->a, "SOURCE:KEY")->required();
  oadd->add_option("B", o->b, "SOURCE:KEY")->required();
  oadd->add_flag("--always", o->always, "the two records are the same person");
  oadd->add_flag("--never", o->never, "the two records are different people");
  oadd->add_option("--note", o->note, "why");
  cli.OnRun(oadd, [&cli, o] { return CmdOverrideAdd(cli.g, o->a, o->b, o->always, o->never, o->note); });
  auto* olist = override_cmd->add_subcommand("list", "list overrides");
  cli.AddWorkspaceOptions(olist);
  cli.OnRun(olist, [&cli] { return CmdOverrideList(cli.g); });
  auto* orm = override_cmd->add_subcommand("remove", "remove an override");
  cli.AddWorkspaceOptions(orm);
  orm->add_option("ID", o->override_id, "override id")->required();
  cli.OnRun(orm, [&cli, o] { return CmdOverrideRemove(cli.g, o->override_id); });
  auto* oimp = override_cmd->add_subcommand("import", "import overrides from a CSV file (source_a,key_a,source_b,key_b,kind[,note])");
  cli.AddWorkspaceOptions(oimp);
  oimp->add_option("FILE", o->file, "CSV file")->required()->check(CLI::ExistingFile);
  cli.OnRun(oimp, [&cli, o] { return CmdOverrideImport(cli.g, o->file); });

  auto* review = app.add_subcommand("review", "the review queue: uncertain pairs of the last unify to accept or reject");
  review->require_subcommand(1);
  auto* rlist = review->add_subcommand("list", "list the pairs to review, most uncertain first");
  cli.AddWorkspaceOptions(rlist);
  rlist->add_option("--limit", o->limit, "pairs to show (default 20)");
  cli.OnRun(rlist, [&cli, o] { return CmdReviewList(cli.g, o->limit); });
  for (bool accept : {true, false}) {
    auto* d = review->add_subcommand(accept ? "accept" : "reject",
                                     accept ? "the two records are the same person: add an always-match override"
                                            : "the two records are different people: add a never-match override");
    cli.AddWorkspaceOptions(d);
    d->add_option("A", o->a, "SOURCE:KEY")->required();
    d->add_option("B", o->b, "SOURCE:KEY")->required();
    d->add_option("--note", o->note, "why (default: the review and the pair's probability)");
    cli.OnRun(d, [&cli, o, accept] { return CmdReviewDecide(cli.g, o->a, o->b, accept, o->note); });
  }
}

}  // namespace cdp
