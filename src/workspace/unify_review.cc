#include "workspace/unify_review.h"

#include <algorithm>
#include <iterator>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "common/entity_names.h"
#include "workspace/lineage.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

using PairKey = std::tuple<std::string, std::string, std::string, std::string>;

// The same key for (a, b) and (b, a).
PairKey KeyOf(const std::string& sa, const std::string& ka, const std::string& sb, const std::string& kb) {
  if (std::tie(sa, ka) <= std::tie(sb, kb)) return {sa, ka, sb, kb};
  return {sb, kb, sa, ka};
}

// Every pair of UnificationReviewPairs in the current generation (none
// before the first unify that wrote it).
StatusOr<std::vector<ReviewQueuePair>> ReadReviewPairs(Workspace& workspace) {
  std::vector<ReviewQueuePair> out;
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  const std::string name(kReviewPairsEntity);
  if (!snap.entities.count(name)) return out;
  CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snap, name));
  CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
  const Schema& s = t.schema();
  int sa = s.FieldIndex("SourceA"), ka = s.FieldIndex("KeyA"), sb = s.FieldIndex("SourceB"), kb = s.FieldIndex("KeyB"),
      p = s.FieldIndex("Probability"), w = s.FieldIndex("Weight"), r = s.FieldIndex("Rule");
  if (sa < 0 || ka < 0 || sb < 0 || kb < 0 || p < 0 || w < 0 || r < 0) {
    return DataLossError("entity " + name + " lacks SourceA, KeyA, SourceB, KeyB, Probability, Weight or Rule");
  }
  auto str = [&](int c, size_t row) { return std::string(t.column(static_cast<size_t>(c)).StringAt(row)); };
  for (size_t row = 0; row < t.num_rows(); ++row) {
    out.push_back(ReviewQueuePair{str(sa, row), str(ka, row), str(sb, row), str(kb, row),
                             t.column(static_cast<size_t>(p)).DoubleAt(row), t.column(static_cast<size_t>(w)).DoubleAt(row),
                             str(r, row)});
  }
  return out;
}

}  // namespace

std::vector<ReviewQueuePair> ReviewPairsOf(const UnifyResult& result) {
  std::vector<ReviewQueuePair> out;
  out.reserve(result.review_pairs.size());
  for (const ReviewPair& p : result.review_pairs) {
    out.push_back(ReviewQueuePair{p.source_a, p.key_a, p.source_b, p.key_b, p.probability, p.weight, "probabilistic"});
  }
  return out;
}

std::shared_ptr<Table> ReviewPairsTable(const std::vector<ReviewQueuePair>& pairs) {
  auto t = std::make_shared<Table>(Schema({Field{"SourceA", DataType::kString, {}}, Field{"KeyA", DataType::kString, {}},
                                           Field{"SourceB", DataType::kString, {}}, Field{"KeyB", DataType::kString, {}},
                                           Field{"Probability", DataType::kDouble, {}},
                                           Field{"Weight", DataType::kDouble, {}},
                                           Field{"Rule", DataType::kString, {}}}));
  for (const auto& p : pairs) {
    t->mutable_column(0).AppendString(p.source_a);
    t->mutable_column(1).AppendString(p.key_a);
    t->mutable_column(2).AppendString(p.source_b);
    t->mutable_column(3).AppendString(p.key_b);
    t->mutable_column(4).AppendDouble(p.probability);
    t->mutable_column(5).AppendDouble(p.weight);
    t->mutable_column(6).AppendString(p.rule);
    t->FinishRow();
  }
  return t;
}

StatusOr<ReviewQueue> ListReviewQueue(Workspace& workspace, size_t limit, size_t offset) {
  CDP_ASSIGN_OR_RETURN(std::vector<ReviewQueuePair> pairs, ReadReviewPairs(workspace));
  CDP_ASSIGN_OR_RETURN(auto overrides, workspace.catalog().ListMatchOverrides());
  std::set<PairKey> decided;
  for (const auto& o : overrides) decided.insert(KeyOf(o.source_a, o.key_a, o.source_b, o.key_b));
  ReviewQueue q;
  std::vector<ReviewQueuePair> open;
  for (auto& p : pairs) {
    if (decided.count(KeyOf(p.source_a, p.key_a, p.source_b, p.key_b))) {
      ++q.decided;
    } else {
      open.push_back(std::move(p));
    }
  }
  q.total = static_cast<int64_t>(open.size());
  const size_t from = std::min(offset, open.size());
  const size_t to = from + std::min(limit, open.size() - from);
  q.pairs.assign(std::make_move_iterator(open.begin() + static_cast<std::ptrdiff_t>(from)),
                 std::make_move_iterator(open.begin() + static_cast<std::ptrdiff_t>(to)));
  return q;
}

StatusOr<std::vector<ReviewPairDetail>> DescribeReviewPairs(Workspace& workspace, const std::vector<ReviewQueuePair>& pairs) {
  std::vector<ReviewPairDetail> out(pairs.size());
  if (pairs.empty()) return out;
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  const UnifyConfig& config = project.unification;
  if (config.empty()) return FailedPreconditionError("the project has no unification configuration");
  CDP_ASSIGN_OR_RETURN(auto tables, LoadProfileSources(workspace, config));
  auto model = ModelForExplanations(workspace, config);
  // The rows of the records named, by source.
  std::map<std::string, std::map<std::string, size_t>> row_of;  // source -> key -> row
  for (const auto& p : pairs) {
    row_of[p.source_a][p.key_a] = SIZE_MAX;
    row_of[p.source_b][p.key_b] = SIZE_MAX;
  }
  std::map<std::string, std::pair<const Table*, int>> table_of;  // source -> (table, key column)
  for (size_t s = 0; s < config.sources.size(); ++s) {
    auto want = row_of.find(config.sources[s].source);
    if (want == row_of.end()) continue;
    std::string key = config.sources[s].key;
    if (key.empty()) {
      if (const SourceConfig* sc = project.FindSource(config.sources[s].source)) key = sc->primary_key;
    }
    const Table& t = *tables[s];
    int k = t.schema().FieldIndex(key);
    if (k < 0) continue;
    table_of[config.sources[s].source] = {&t, k};
    const Column& col = t.column(static_cast<size_t>(k));
    for (size_t r = 0; r < t.num_rows(); ++r) {
      if (col.IsNull(r)) continue;
      auto it = want->second.find(col.ValueToString(r));
      if (it != want->second.end() && it->second == SIZE_MAX) it->second = r;
    }
  }
  auto values = [&](const std::string& source, const std::string& key) {
    std::vector<std::pair<std::string, std::string>> v;
    auto t = table_of.find(source);
    if (t == table_of.end()) return v;
    size_t row = row_of[source][key];
    if (row == SIZE_MAX) return v;
    const Table& table = *t->second.first;
    for (size_t c = 0; c < table.num_columns(); ++c) {
      if (static_cast<int>(c) == t->second.second || table.column(c).IsNull(row)) continue;
      std::string text = table.column(c).ValueToString(row);
      if (!text.empty()) v.emplace_back(table.schema().field(c).name, std::move(text));
    }
    return v;
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    const ReviewQueuePair& p = pairs[i];
    out[i].values_a = values(p.source_a, p.key_a);
    out[i].values_b = values(p.source_b, p.key_b);
    if (!model.ok()) {
      out[i].explanation = {{"error", model.status().message()}};
      continue;
    }
    auto e = ExplainRecordPair(config, tables, p.source_a, p.key_a, p.source_b, p.key_b, *model ? &**model : nullptr);
    out[i].explanation = e.ok() ? PairExplanationToJson(*e) : nlohmann::ordered_json{{"error", e.status().message()}};
  }
  return out;
}

StatusOr<ReviewDecision> DecideReviewPair(Workspace& workspace, const std::string& a, const std::string& b, bool accept,
                                          const std::string& note) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  if (project.unification.empty()) return FailedPreconditionError("the project has no unification configuration");
  CDP_ASSIGN_OR_RETURN(auto ra, ParseRecordRef(project.unification, a));
  CDP_ASSIGN_OR_RETURN(auto rb, ParseRecordRef(project.unification, b));
  CDP_ASSIGN_OR_RETURN(ReviewQueue q, ListReviewQueue(workspace, SIZE_MAX));
  const PairKey want = KeyOf(ra.first, ra.second, rb.first, rb.second);
  for (const auto& p : q.pairs) {
    if (KeyOf(p.source_a, p.key_a, p.source_b, p.key_b) != want) continue;
    std::string text = note;
    if (text.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4f", p.probability);
      text = std::string("review: ") + (accept ? "accepted" : "rejected") + " at match probability " + buf;
    }
    ReviewDecision d;
    d.pair = p;
    CDP_ASSIGN_OR_RETURN(d.override_id, workspace.catalog().AddMatchOverride(
                                            MatchOverrideRecord{0, p.source_a, p.key_a, p.source_b, p.key_b, accept, text, 0}));
    return d;
  }
  return NotFoundError("the pair " + a + " / " + b + " is not in the review queue");
}

}  // namespace cdp
