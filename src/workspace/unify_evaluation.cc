#include "workspace/unify_evaluation.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "ingest/csv_reader.h"
#include "storage/env.h"
#include "unify/clustering.h"
#include "workspace/lineage.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

int64_t Pairs(int64_t n) { return n * (n - 1) / 2; }

double F1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0; }

double Ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 1.0; }

std::string RecordKey(std::string_view source, std::string_view key) {
  std::string k(source);
  k += '\x1f';
  k += key;
  return k;
}

std::string RecordRef(std::string_view source, std::string_view key) {
  return std::string(source) + ":" + std::string(key);
}

StatusOr<Table> ReadEntity(Workspace& ws, const Snapshot& snap, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto reader, ws.data().OpenEntity(snap, name));
  return reader->ReadAll();
}

// Replaces every occurrence of `from` in `text` with `to`.
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

struct Explainer {
  const UnifyConfig* config = nullptr;
  const std::vector<std::shared_ptr<const Table>>* tables = nullptr;
  StatusOr<std::optional<FsModel>> model = std::optional<FsModel>();

  nlohmann::ordered_json Explain(const std::string& sa, const std::string& ka, const std::string& sb,
                                 const std::string& kb) const {
    if (!model.ok()) return {{"error", model.status().message()}};
    auto e = ExplainRecordPair(*config, *tables, sa, ka, sb, kb, *model ? &**model : nullptr);
    if (!e.ok()) return {{"error", e.status().message()}};
    return PairExplanationToJson(*e);
  }
};

}  // namespace

ClusteringScore ScoreClustering(const std::vector<LabelledRecord>& records) {
  ClusteringScore s;
  std::unordered_map<int64_t, int64_t> pred_size, true_size;
  std::map<std::pair<int64_t, int64_t>, int64_t> both;  // (predicted, truth) -> records
  for (const auto& r : records) {
    ++pred_size[r.predicted];
    ++true_size[r.truth];
    ++both[{r.predicted, r.truth}];
  }
  s.records = static_cast<int64_t>(records.size());
  s.predicted_clusters = static_cast<int64_t>(pred_size.size());
  s.true_clusters = static_cast<int64_t>(true_size.size());
  for (const auto& [c, n] : pred_size) s.predicted_pairs += Pairs(n);
  for (const auto& [t, n] : true_size) s.true_pairs += Pairs(n);
  double bp = 0, br = 0;
  for (const auto& [k, n] : both) {
    s.tp += Pairs(n);
    const int64_t pc = pred_size[k.first], tc = true_size[k.second];
    bp += static_cast<double>(n) * static_cast<double>(n) / static_cast<double>(pc);
    br += static_cast<double>(n) * static_cast<double>(n) / static_cast<double>(tc);
    if (n == pc && n == tc) ++s.exact_clusters;
  }
  s.fp = s.predicted_pairs - s.tp;
  s.fn = s.true_pairs - s.tp;
  s.precision = Ratio(s.tp, s.predicted_pairs);
  s.recall = Ratio(s.tp, s.true_pairs);
  s.f1 = F1(s.precision, s.recall);
  if (s.records > 0) {
    s.bcubed_precision = bp / static_cast<double>(s.records);
    s.bcubed_recall = br / static_cast<double>(s.records);
  }
  s.bcubed_f1 = F1(s.bcubed_precision, s.bcubed_recall);
  s.cluster_precision = Ratio(s.exact_clusters, s.predicted_clusters);
  s.cluster_recall = Ratio(s.exact_clusters, s.true_clusters);
  s.cluster_f1 = F1(s.cluster_precision, s.cluster_recall);
  return s;
}

StatusOr<std::vector<TruthRecord>> ReadTruthCsv(const std::string& path, const std::string& display_name) {
  auto rename = [&](const Status& s) {
    return Status(s.code(), ReplaceAll(std::string(s.message()), path, display_name));
  };
  auto reader = OpenCsvFile(path, CsvOptions());
  if (!reader.ok()) return rename(reader.status());
  const auto& names = (*reader)->field_names();
  int cols[3] = {-1, -1, -1};
  const char* wanted[3] = {"source", "key", "entity"};
  for (size_t i = 0; i < names.size(); ++i) {
    for (int w = 0; w < 3; ++w) {
      if (names[i] == wanted[w] && cols[w] < 0) cols[w] = static_cast<int>(i);
    }
  }
  for (int w = 0; w < 3; ++w) {
    if (cols[w] < 0) {
      std::string header;
      for (const auto& n : names) header += (header.empty() ? "" : ",") + n;
      return InvalidArgumentError(display_name + ":1: the header must name the columns source, key and entity; it has '" +
                                  header + "' (no '" + wanted[w] + "')");
    }
  }
  std::vector<TruthRecord> out;
  RawRecordBatch batch;
  for (;;) {
    auto more = (*reader)->Next(&batch, 4096);
    if (!more.ok()) return rename(more.status());
    if (!*more) break;
    if (!batch.record_errors.empty()) {
      return InvalidArgumentError(display_name + ": " + ReplaceAll(batch.record_errors.front().second, path, display_name));
    }
    for (size_t r = 0; r < batch.num_records(); ++r) {
      std::string where = display_name + ":" + std::to_string(batch.line[r]);
      size_t need = static_cast<size_t>(std::max({cols[0], cols[1], cols[2]})) + 1;
      if (batch.num_fields(r) < need) {
        return InvalidArgumentError(where + ": expected " + std::to_string(names.size()) + " fields, found " +
                                    std::to_string(batch.num_fields(r)));
      }
      TruthRecord t;
      t.source = std::string(batch.field(r, static_cast<size_t>(cols[0])));
      t.key = std::string(batch.field(r, static_cast<size_t>(cols[1])));
      t.entity = std::string(batch.field(r, static_cast<size_t>(cols[2])));
      t.line = batch.line[r];
      for (int w = 0; w < 3; ++w) {
        const std::string& v = w == 0 ? t.source : w == 1 ? t.key : t.entity;
        if (v.empty()) return InvalidArgumentError(where + ": field '" + wanted[w] + "' is empty");
      }
      out.push_back(std::move(t));
      if (static_cast<int64_t>(out.size()) > kMaxTruthRecords) {
        return InvalidArgumentError(display_name + ": more than " + std::to_string(kMaxTruthRecords) + " records");
      }
    }
  }
  return out;
}

StatusOr<UnifyEvaluation> EvaluateUnification(Workspace& workspace, const std::vector<TruthRecord>& truth,
                                              const EvaluationOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  const UnifyConfig& config = project.unification;
  if (config.empty()) return FailedPreconditionError("the project has no unification configuration");
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  if (!snap.entities.count(std::string(kSourceKeysEntity))) {
    return FailedPreconditionError("the workspace has not been unified yet: there is nothing to evaluate");
  }
  const size_t samples = static_cast<size_t>(std::max(0, options.samples));

  // Every record of the profile sources, to check the truth's keys.
  CDP_ASSIGN_OR_RETURN(auto tables, LoadProfileSources(workspace, config));
  std::unordered_set<std::string> known;
  for (size_t s = 0; s < config.sources.size(); ++s) {
    std::string key = config.sources[s].key;
    if (key.empty()) {
      const SourceConfig* sc = project.FindSource(config.sources[s].source);
      if (sc) key = sc->primary_key;
    }
    const Table& t = *tables[s];
    int k = t.schema().FieldIndex(key);
    if (k < 0) return DataLossError("source '" + config.sources[s].source + "' lacks its key field '" + key + "'");
    const Column& col = t.column(static_cast<size_t>(k));
    for (size_t r = 0; r < t.num_rows(); ++r) {
      if (!col.IsNull(r)) known.insert(RecordKey(config.sources[s].source, col.ValueToString(r)));
    }
  }
  std::string source_names;
  for (const auto& s : config.sources) source_names += (source_names.empty() ? "" : ", ") + s.source;

  // Validate the truth; entities as integers.
  std::unordered_map<std::string, size_t> truth_index;  // record -> index in truth
  std::unordered_map<std::string, int64_t> entity_id;
  std::vector<int64_t> entity_of(truth.size());
  std::vector<std::string> entity_names;
  int64_t not_in_data = 0;
  std::vector<std::string> not_in_data_examples;
  std::string first_not_in_data;
  for (size_t i = 0; i < truth.size(); ++i) {
    const TruthRecord& t = truth[i];
    std::string where = options.truth_name + ":" + std::to_string(t.line);
    if (!config.FindSource(t.source)) {
      return InvalidArgumentError(where + ": '" + t.source + "' is not a unification source (" + source_names + ")");
    }
    std::string rk = RecordKey(t.source, t.key);
    if (!known.count(rk)) {
      // A row quarantined or filtered at ingest: the truth still names it.
      ++not_in_data;
      if (not_in_data_examples.size() < 5) not_in_data_examples.push_back(RecordRef(t.source, t.key) + " (" + where + ")");
      if (first_not_in_data.empty()) {
        first_not_in_data = where + ": source '" + t.source + "' has no record with key '" + t.key + "'";
      }
    }
    auto [it, fresh] = truth_index.emplace(rk, i);
    if (!fresh) {
      return InvalidArgumentError(where + ": record " + RecordRef(t.source, t.key) + " is given twice (also line " +
                                  std::to_string(truth[it->second].line) + ")");
    }
    auto [e, new_entity] = entity_id.emplace(t.entity, static_cast<int64_t>(entity_names.size()));
    if (new_entity) entity_names.push_back(t.entity);
    entity_of[i] = e->second;
  }

  if (!truth.empty() && not_in_data == static_cast<int64_t>(truth.size())) {
    return InvalidArgumentError(first_not_in_data + ", and no truth record names a stored record: is it the truth of this data?");
  }

  // The lineage: every profiled record's CustomerId.
  CDP_ASSIGN_OR_RETURN(Table keys, ReadEntity(workspace, snap, std::string(kSourceKeysEntity)));
  int ci = keys.schema().FieldIndex("CustomerId"), si = keys.schema().FieldIndex("Source"),
      ki = keys.schema().FieldIndex("SourceKey");
  if (ci < 0 || si < 0 || ki < 0) return DataLossError("entity CustomerSourceKeys lacks CustomerId, Source or SourceKey");
  UnifyEvaluation out;
  out.truth_rows = static_cast<int64_t>(truth.size());
  out.truth_not_in_data = not_in_data;
  out.truth_not_in_data_examples = std::move(not_in_data_examples);
  std::unordered_map<std::string, int64_t> customer_of;  // every profiled record
  std::vector<int64_t> predicted(truth.size(), 0);
  std::vector<bool> has_profile(truth.size(), false);
  for (size_t r = 0; r < keys.num_rows(); ++r) {
    std::string rk = RecordKey(keys.column(static_cast<size_t>(si)).StringAt(r), keys.column(static_cast<size_t>(ki)).StringAt(r));
    int64_t c = keys.column(static_cast<size_t>(ci)).Int64At(r);
    auto t = truth_index.find(rk);
    if (t == truth_index.end()) {
      ++out.records_not_in_truth;
    } else {
      predicted[t->second] = c;
      has_profile[t->second] = true;
    }
    customer_of.emplace(std::move(rk), c);
  }
  // Records without a profile (dropped) are singletons with ids no profile has.
  int64_t next_singleton = -1;
  std::vector<LabelledRecord> labelled(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    if (!has_profile[i]) {
      ++out.truth_without_profile;
      predicted[i] = next_singleton--;
    }
    labelled[i] = LabelledRecord{predicted[i], entity_of[i]};
  }
  out.score = ScoreClustering(labelled);

  // Per profile: its truth records by entity.
  std::unordered_map<int64_t, std::map<int64_t, std::vector<size_t>>> members;  // customer -> entity -> truth rows
  for (size_t i = 0; i < truth.size(); ++i) {
    if (has_profile[i]) members[predicted[i]][entity_of[i]].push_back(i);
  }
  std::vector<EvaluatedCluster> clusters;
  for (const auto& [c, by_entity] : members) {
    EvaluatedCluster ec;
    ec.customer_id = c;
    ec.true_entities = static_cast<int64_t>(by_entity.size());
    int64_t same = 0;
    for (const auto& [e, rows] : by_entity) {
      ec.records += static_cast<int64_t>(rows.size());
      same += Pairs(static_cast<int64_t>(rows.size()));
    }
    ec.false_pairs = Pairs(ec.records) - same;
    clusters.push_back(ec);
  }
  std::sort(clusters.begin(), clusters.end(), [](const EvaluatedCluster& a, const EvaluatedCluster& b) {
    return a.records != b.records ? a.records > b.records : a.customer_id < b.customer_id;
  });
  for (size_t i = 0; i < clusters.size() && i < samples; ++i) out.largest_clusters.push_back(clusters[i]);

  Explainer explainer;
  explainer.config = &config;
  explainer.tables = &tables;
  explainer.model = ModelForExplanations(workspace, config);

  // Worst false merges: profiles with the most pairs of different entities.
  std::vector<EvaluatedCluster> impure;
  for (const auto& c : clusters) {
    if (c.true_entities > 1) impure.push_back(c);
  }
  std::sort(impure.begin(), impure.end(), [](const EvaluatedCluster& a, const EvaluatedCluster& b) {
    return a.false_pairs != b.false_pairs ? a.false_pairs > b.false_pairs : a.customer_id < b.customer_id;
  });
  if (impure.size() > samples) impure.resize(samples);
  if (!impure.empty()) {
    std::unordered_map<int64_t, size_t> wanted;  // customer -> index in impure
    for (size_t i = 0; i < impure.size(); ++i) wanted[impure[i].customer_id] = i;
    // Accepted match pairs inside each wanted profile, as an adjacency list.
    struct Edge {
      std::string other;
      size_t row;
    };
    std::vector<std::unordered_map<std::string, std::vector<Edge>>> adjacency(impure.size());
    std::optional<Table> pairs;
    if (snap.entities.count(std::string(kMatchPairsEntity))) {
      CDP_ASSIGN_OR_RETURN(pairs, ReadEntity(workspace, snap, std::string(kMatchPairsEntity)));
      const Schema& sc = pairs->schema();
      int sa = sc.FieldIndex("SourceA"), ka = sc.FieldIndex("KeyA"), sb = sc.FieldIndex("SourceB"),
          kb = sc.FieldIndex("KeyB"), st = sc.FieldIndex("Status");
      if (sa < 0 || ka < 0 || sb < 0 || kb < 0 || st < 0) {
        return DataLossError("entity ConflationMatchPairs lacks SourceA, KeyA, SourceB, KeyB or Status");
      }
      for (size_t r = 0; r < pairs->num_rows(); ++r) {
        std::string_view status = pairs->column(static_cast<size_t>(st)).StringAt(r);
        if (status != PairStatusName(PairStatus::kMerged) && status != PairStatusName(PairStatus::kRedundant)) continue;
        std::string a = RecordKey(pairs->column(static_cast<size_t>(sa)).StringAt(r), pairs->column(static_cast<size_t>(ka)).StringAt(r));
        std::string b = RecordKey(pairs->column(static_cast<size_t>(sb)).StringAt(r), pairs->column(static_cast<size_t>(kb)).StringAt(r));
        auto ca = customer_of.find(a), cb = customer_of.find(b);
        if (ca == customer_of.end() || cb == customer_of.end() || ca->second != cb->second) continue;
        auto w = wanted.find(ca->second);
        if (w == wanted.end()) continue;
        adjacency[w->second][a].push_back({b, r});
        adjacency[w->second][b].push_back({a, r});
      }
    }
    auto entity_name_of = [&](const std::string& rk) -> std::string {
      auto t = truth_index.find(rk);
      return t == truth_index.end() ? std::string() : truth[t->second].entity;
    };
    auto ref_of = [](const std::string& rk) {
      size_t sep = rk.find('\x1f');
      return RecordRef(rk.substr(0, sep), rk.substr(sep + 1));
    };
    for (size_t i = 0; i < impure.size(); ++i) {
      FalseMerge fm;
      fm.cluster = impure[i];
      const auto& by_entity = members[impure[i].customer_id];
      std::vector<std::pair<int64_t, int64_t>> sizes;  // (size, entity)
      for (const auto& [e, rows] : by_entity) sizes.push_back({static_cast<int64_t>(rows.size()), e});
      std::sort(sizes.begin(), sizes.end(), [&](const auto& x, const auto& y) {
        return x.first != y.first ? x.first > y.first : entity_names[static_cast<size_t>(x.second)] < entity_names[static_cast<size_t>(y.second)];
      });
      const int64_t ea = sizes[0].second, eb = sizes[1].second;
      fm.entity_a = entity_names[static_cast<size_t>(ea)];
      fm.entity_b = entity_names[static_cast<size_t>(eb)];
      // Breadth-first from every record of entity A to the nearest of entity B.
      std::unordered_map<std::string, std::pair<std::string, size_t>> parent;  // record -> (previous, pair row)
      std::deque<std::string> queue;
      for (size_t row : by_entity.at(ea)) {
        std::string rk = RecordKey(truth[row].source, truth[row].key);
        parent.emplace(rk, std::make_pair(std::string(), SIZE_MAX));
        queue.push_back(rk);
      }
      std::string found;
      while (!queue.empty() && found.empty()) {
        std::string at = queue.front();
        queue.pop_front();
        auto adj = adjacency[i].find(at);
        if (adj == adjacency[i].end()) continue;
        for (const Edge& e : adj->second) {
          if (parent.count(e.other)) continue;
          parent.emplace(e.other, std::make_pair(at, e.row));
          auto t = truth_index.find(e.other);
          if (t != truth_index.end() && entity_of[t->second] == eb) {
            found = e.other;
            break;
          }
          queue.push_back(e.other);
        }
      }
      if (!found.empty()) {
        std::vector<ChainLink> reversed;
        for (std::string at = found; parent.at(at).second != SIZE_MAX; at = parent.at(at).first) {
          const auto& [prev, row] = parent.at(at);
          ChainLink link;
          link.a = ref_of(prev);
          link.b = ref_of(at);
          link.rule = std::string(pairs->column(static_cast<size_t>(pairs->schema().FieldIndex("Rule"))).StringAt(row));
          link.score = pairs->column(static_cast<size_t>(pairs->schema().FieldIndex("Score"))).DoubleAt(row);
          link.entity_a = entity_name_of(prev);
          link.entity_b = entity_name_of(at);
          reversed.push_back(std::move(link));
        }
        fm.chain.assign(reversed.rbegin(), reversed.rend());
        // The joining link: the first that leaves entity A.
        for (size_t l = 0; l < fm.chain.size(); ++l) {
          if (fm.chain[l].entity_b != fm.entity_a) {
            fm.joining_link = static_cast<int>(l);
            break;
          }
        }
        if (fm.joining_link >= 0) {
          auto a = ParseRecordRef(config, fm.chain[static_cast<size_t>(fm.joining_link)].a);
          auto b = ParseRecordRef(config, fm.chain[static_cast<size_t>(fm.joining_link)].b);
          if (a.ok() && b.ok()) fm.explanation = explainer.Explain(a->first, a->second, b->first, b->second);
        }
      }
      out.false_merges.push_back(std::move(fm));
    }
  }

  // Worst misses: true entities spread over the most pairs of profiles.
  std::vector<std::map<int64_t, std::vector<size_t>>> parts(entity_names.size());  // entity -> profile -> rows
  for (size_t i = 0; i < truth.size(); ++i) parts[static_cast<size_t>(entity_of[i])][predicted[i]].push_back(i);
  std::vector<Miss> misses;
  for (size_t e = 0; e < parts.size(); ++e) {
    if (parts[e].size() < 2) continue;
    Miss m;
    m.entity = entity_names[e];
    m.profiles = static_cast<int64_t>(parts[e].size());
    int64_t together = 0;
    for (const auto& [c, rows] : parts[e]) {
      m.records += static_cast<int64_t>(rows.size());
      together += Pairs(static_cast<int64_t>(rows.size()));
    }
    m.missed_pairs = Pairs(m.records) - together;
    misses.push_back(std::move(m));
  }
  std::sort(misses.begin(), misses.end(), [](const Miss& a, const Miss& b) {
    return a.missed_pairs != b.missed_pairs ? a.missed_pairs > b.missed_pairs : a.entity < b.entity;
  });
  if (misses.size() > samples) misses.resize(samples);
  for (Miss& m : misses) {
    const auto& p = parts[static_cast<size_t>(entity_id.at(m.entity))];
    std::vector<std::pair<int64_t, const std::vector<size_t>*>> sorted;
    for (const auto& [c, rows] : p) sorted.push_back({c, &rows});
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.second->size() > y.second->size(); });
    const TruthRecord& a = truth[sorted[0].second->front()];
    const TruthRecord& b = truth[sorted[1].second->front()];
    m.a = RecordRef(a.source, a.key);
    m.b = RecordRef(b.source, b.key);
    m.customer_a = sorted[0].first;
    m.customer_b = sorted[1].first;
    m.explanation = explainer.Explain(a.source, a.key, b.source, b.key);
  }
  out.misses = std::move(misses);
  return out;
}

StatusOr<UnifyEvaluation> EvaluateUnificationFile(Workspace& workspace, const std::string& path,
                                                  const EvaluationOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto truth, ReadTruthCsv(path, path));
  EvaluationOptions o = options;
  o.truth_name = path;
  return EvaluateUnification(workspace, truth, o);
}

StatusOr<UnifyEvaluation> EvaluateUnificationText(Workspace& workspace, const std::string& csv_text,
                                                  const EvaluationOptions& options) {
  if (csv_text.size() > kMaxTruthTextBytes) {
    return InvalidArgumentError("truth: " + std::to_string(csv_text.size()) + " bytes, more than the limit of " +
                                std::to_string(kMaxTruthTextBytes));
  }
  // The CSV reader reads files: the text goes to a private file in the workspace.
  std::string path = workspace.dir() + "/.truth-" + std::to_string(workspace.env()->NowMicros()) + "-" +
                     std::to_string(reinterpret_cast<uintptr_t>(&csv_text)) + ".csv";
  {
    CDP_ASSIGN_OR_RETURN(auto file, workspace.env()->NewWritableFile(path));
    CDP_RETURN_IF_ERROR(file->Append(csv_text));
    CDP_RETURN_IF_ERROR(file->Close());
  }
  auto truth = ReadTruthCsv(path, "truth");
  (void)workspace.env()->DeleteFile(path);
  if (!truth.ok()) return truth.status();
  EvaluationOptions o = options;
  o.truth_name = "truth";
  return EvaluateUnification(workspace, *truth, o);
}

nlohmann::ordered_json UnifyEvaluationToJson(const UnifyEvaluation& e) {
  using J = nlohmann::ordered_json;
  const ClusteringScore& s = e.score;
  auto cluster_json = [](const EvaluatedCluster& c) {
    return J{{"customer_id", c.customer_id}, {"records", c.records}, {"true_entities", c.true_entities},
             {"false_pairs", c.false_pairs}};
  };
  J largest = J::array();
  for (const auto& c : e.largest_clusters) largest.push_back(cluster_json(c));
  J merges = J::array();
  for (const auto& fm : e.false_merges) {
    J chain = J::array();
    for (const auto& l : fm.chain) {
      chain.push_back({{"a", l.a}, {"b", l.b}, {"rule", l.rule}, {"score", l.score},
                       {"entity_a", l.entity_a.empty() ? J(nullptr) : J(l.entity_a)},
                       {"entity_b", l.entity_b.empty() ? J(nullptr) : J(l.entity_b)}});
    }
    J j = cluster_json(fm.cluster);
    j["entity_a"] = fm.entity_a;
    j["entity_b"] = fm.entity_b;
    j["chain"] = chain;
    j["joining_link"] = fm.joining_link >= 0 ? J(fm.joining_link) : J(nullptr);
    j["explanation"] = fm.explanation.is_null() ? J(nullptr) : fm.explanation;
    merges.push_back(j);
  }
  J misses = J::array();
  for (const auto& m : e.misses) {
    misses.push_back({{"entity", m.entity}, {"records", m.records}, {"profiles", m.profiles},
                      {"missed_pairs", m.missed_pairs}, {"a", m.a}, {"b", m.b},
                      {"customer_a", m.customer_a < 0 ? J(nullptr) : J(m.customer_a)},
                      {"customer_b", m.customer_b < 0 ? J(nullptr) : J(m.customer_b)},
                      {"explanation", m.explanation.is_null() ? J(nullptr) : m.explanation}});
  }
  return J{{"pairwise", {{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"tp", s.tp}, {"fp", s.fp},
                         {"fn", s.fn}, {"predicted_pairs", s.predicted_pairs}, {"true_pairs", s.true_pairs}}},
           {"bcubed", {{"precision", s.bcubed_precision}, {"recall", s.bcubed_recall}, {"f1", s.bcubed_f1}}},
           {"clusters", {{"precision", s.cluster_precision}, {"recall", s.cluster_recall}, {"f1", s.cluster_f1},
                         {"exact", s.exact_clusters}, {"predicted", s.predicted_clusters}, {"true", s.true_clusters}}},
           {"records", s.records},
           {"truth_rows", e.truth_rows},
           {"records_not_in_truth", e.records_not_in_truth},
           {"truth_without_profile", e.truth_without_profile},
           {"truth_not_in_data", e.truth_not_in_data},
           {"truth_not_in_data_examples", e.truth_not_in_data_examples},
           {"largest_clusters", largest},
           {"false_merges", merges},
           {"misses", misses}};
}

namespace {
std::string LastEvaluationPath(Workspace& workspace) { return workspace.dir() + "/unify_evaluation.json"; }
}  // namespace

Status SaveLastEvaluation(Workspace& workspace, const nlohmann::ordered_json& evaluation_json) {
  nlohmann::ordered_json j = evaluation_json;
  j["evaluated_at"] = FormatTimestamp(workspace.env()->NowMicros());
  return ReplaceFileAtomically(workspace.env(), LastEvaluationPath(workspace), j.dump());
}

StatusOr<nlohmann::ordered_json> LoadLastEvaluation(Workspace& workspace) {
  const std::string path = LastEvaluationPath(workspace);
  if (!workspace.env()->FileExists(path)) return NotFoundError("no unification evaluation has been run");
  CDP_ASSIGN_OR_RETURN(std::string text, workspace.env()->ReadFile(path));
  auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(path + " is not a JSON object");
  return j;
}

}  // namespace cdp
