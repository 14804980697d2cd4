#include "unify/unifier.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "common/parallel.h"
#include "unify/incremental.h"

namespace cdp {
namespace {

// The rule_names() index of the probabilistic model's pairs, or -1.
int ModelRuleIndex(const Matcher& matcher) {
  const auto& names = matcher.rule_names();
  for (size_t r = 0; r < names.size(); ++r) {
    if (names[r] == "probabilistic" && matcher.RuleSource(static_cast<int>(r)) < 0) return static_cast<int>(r);
  }
  return -1;
}

using Json = nlohmann::ordered_json;

double Seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool OrderableType(DataType t) {
  return t == DataType::kInt64 || t == DataType::kDouble || t == DataType::kDate || t == DataType::kTimestamp;
}

// A cell as a double for ordering (dates in days, timestamps in days with fraction).
double OrderValue(const Column& c, size_t row) {
  switch (c.type()) {
    case DataType::kInt64: return static_cast<double>(c.Int64At(row));
    case DataType::kDouble: return c.DoubleAt(row);
    case DataType::kDate: return c.DateAt(row);
    case DataType::kTimestamp: return static_cast<double>(c.TimestampAt(row)) / 86400e6;
    default: return 0;
  }
}

bool IsBlankCell(const Column& c, size_t row) {
  if (c.IsNull(row)) return true;
  if (c.type() == DataType::kString) {
    std::string_view v = c.StringAt(row);
    return v.find_first_not_of(" \t\r\n") == std::string_view::npos;
  }
  return false;
}

// One field of the Customer entity and where its values come from.
struct OutField {
  std::string name;
  DataType type = DataType::kString;
  std::vector<int> column;  // per source, or -1
  MergeFieldConfig policy;
  int group = -1;           // index into groups, when the field belongs to one
  bool group_leader = false;
};

}  // namespace

void PreviousLineage::Add(std::string_view source, std::string_view key, int64_t id) {
  std::string k(source);
  k.push_back('\x1f');
  k.append(key);
  id_of[k] = id;
  max_id = std::max(max_id, id);
}

std::optional<int64_t> PreviousLineage::Find(std::string_view source, std::string_view key) const {
  std::string k(source);
  k.push_back('\x1f');
  k.append(key);
  auto it = id_of.find(k);
  if (it == id_of.end()) return std::nullopt;
  return it->second;
}

std::string UnifyStats::ToJson() const {
  Json j;
  j["records_in"] = records_in;
  Json per = Json::object();
  for (const auto& [s, n] : records_per_source) per[s] = n;
  j["records_per_source"] = per;
  j["profiles_out"] = profiles_out;
  j["merge_rate"] = merge_rate;
  if (dropped_unmatched) j["dropped_unmatched"] = dropped_unmatched;
  j["candidate_pairs"] = matching.candidate_pairs;
  j["reduction_ratio"] = matching.reduction_ratio;
  Json rs = Json::array();
  for (const auto& r : rules) {
    Json o = {{"rule", r.rule}, {"pairs", r.pairs}, {"merges", r.merges}};
    if (r.guard_refusals) o["guard_refusals"] = r.guard_refusals;
    if (r.blocked_by_guard) o["blocked_by_guard"] = r.blocked_by_guard;
    if (r.blocked_by_source) o["blocked_by_source"] = r.blocked_by_source;
    if (r.split_by_cap) o["split_by_cap"] = r.split_by_cap;
    rs.push_back(o);
  }
  j["rules"] = rs;
  Json sb = Json::array();
  for (const auto& b : matching.skipped_blocks) sb.push_back({{"rule", b.rule}, {"key", b.key}, {"records", b.records}});
  j["skipped_blocks"] = sb;
  Json cs = Json::array();
  for (size_t i = 0; i < cluster_splits.size(); ++i) {
    const auto& c = cluster_splits[i];
    cs.push_back({{"records", c.records},
                  {"max_dropped_strength", c.max_dropped_strength},
                  {"parts", c.parts},
                  {"example", i < cluster_split_examples.size() ? cluster_split_examples[i] : ""}});
  }
  j["cluster_splits"] = cs;
  j["overrides"] = {{"always", overrides_always}, {"never", overrides_never}, {"pairs_blocked", pairs_blocked_by_override}};
  j["clustering"] = {{"pairs_blocked_by_guard", pairs_blocked_by_guard},
                     {"pairs_blocked_by_source", pairs_blocked_by_source},
                     {"pairs_split_by_cap", pairs_split_by_cap},
                     {"unions_too_large_to_check", unions_too_large_to_check}};
  j["ids"] = {{"kept", kept_ids}, {"new", new_ids}};
  if (matching.deterministic_prior_pairs) j["prior_rule_pairs"] = matching.deterministic_prior_pairs;
  if (!matching.prior_rules.empty()) {
    Json pr = Json::array();
    for (const auto& r : matching.prior_rules) pr.push_back({{"rule", r.rule}, {"pairs", r.pairs}});
    j["prior_rules"] = pr;
  }
  if (matching.labelled_matches + matching.labelled_non_matches > 0) {
    j["labelled_pairs"] = {{"matches", matching.labelled_matches},
                           {"matches_accepted", matching.labelled_matches_accepted},
                           {"non_matches", matching.labelled_non_matches},
                           {"non_matches_rejected", matching.labelled_non_matches_rejected}};
  }
  if (matching.review_pairs) j["review_pairs"] = matching.review_pairs;
  Json secs = Json::object();
  for (const auto& [k, v] : seconds) secs[k] = v;
  j["seconds"] = secs;
  j["incremental"] = {{"incremental", incremental.incremental},
                      {"full_reason", incremental.full_reason},
                      {"records_new", incremental.records_new},
                      {"records_changed", incremental.records_changed},
                      {"records_removed", incremental.records_removed},
                      {"records_block_crossed", incremental.records_block_crossed},
                      {"records_tf_changed", incremental.records_tf_changed},
                      {"records_compared", incremental.records_compared},
                      {"pairs_carried", incremental.pairs_carried}};
  j["warnings"] = warnings;
  return j.dump();
}

StatusOr<UnifyResult> Unify(const UnifyConfig& config, const std::vector<std::shared_ptr<const Table>>& tables,
                            const std::vector<MatchOverride>& overrides, const PreviousLineage& previous,
                            const UnifyOptions& options) {
  auto progress = [&](std::string_view step, int64_t done, int64_t total) {
    if (options.progress) options.progress(step, done, total);
  };
  UnifyResult result;
  UnifyStats& stats = result.stats;
  auto t_all = std::chrono::steady_clock::now();

  // Map.
  auto t = std::chrono::steady_clock::now();
  RecordSetOptions rso;
  rso.threads = options.threads;
  rso.normalize.default_region = config.default_region;
  rso.normalize.default_placeholders = config.default_placeholders;
  rso.normalize.extra_placeholders = config.placeholders;
  rso.placeholder_detection = config.placeholder_detection;
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<RecordSet> rs, RecordSet::Build(config.sources, tables, rso));
  const size_t n = rs->size();
  stats.records_in = static_cast<int64_t>(n);
  for (size_t s = 0; s < rs->num_sources(); ++s) {
    stats.records_per_source.emplace_back(rs->source(s).name, rs->end(s) - rs->first(s));
  }
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<Matcher> matcher, Matcher::Create(config, rs.get()));
  progress("normalizing", 0, rs->num_features());
  CDP_RETURN_IF_ERROR(rs->ComputeFeatures());
  progress("normalizing", rs->num_features(), rs->num_features());
  stats.seconds.emplace_back("map_and_normalize", Seconds(t));

  // Match: in full, or only the pairs of the records that changed since the
  // previous run (unify/incremental.h).
  t = std::chrono::steady_clock::now();
  IncrementalStats& inc = stats.incremental;
  const bool want_state = options.make_state && !options.preview;
  std::vector<uint64_t> feature_hashes;
  double seconds_incremental = 0;  // hashing, marking and judging kept pairs again
  auto t_inc = std::chrono::steady_clock::now();
  if (want_state || options.incremental) feature_hashes = FeatureHashes(*rs, options.threads);
  const std::vector<int> tf_features = matcher->TermFrequencyFeatures();
  const FsModel* model = options.model;
  std::vector<uint8_t> compared;
  std::vector<int64_t> now;  // previous record -> current record
  if (options.incremental && options.previous_state) {
    const UnifyState& prev = *options.previous_state;
    const bool probabilistic = config.mode == UnifyMode::kProbabilistic;
    const FsModel* kept = probabilistic ? (options.model ? options.model : options.incremental_model) : nullptr;
    const bool same = prev.fingerprint == UnifyStateFingerprint(config, kept ? kept->ToJson().dump() : "");
    int64_t changed = 0;  // records new, changed or removed
    if (same) {
      now = MapPreviousRecords(prev, *rs, options.threads);
      MarkChangedRecords(prev, now, feature_hashes, &compared, &inc);
      changed = inc.records_new + inc.records_changed + inc.records_removed;
    }
    if (!same) {
      inc.full_reason = probabilistic && !kept ? "no trained model to keep"
                                               : "the unification configuration or model changed";
    } else if (matcher->HasSortedNeighbourhood()) {
      inc.full_reason = "sorted_neighbourhood blocking has no incremental form";
    } else if (static_cast<double>(changed) > options.incremental_max_share * static_cast<double>(std::max<size_t>(n, 1))) {
      inc.full_reason = std::to_string(changed) + " of " + std::to_string(n) +
                        " records are new, changed or removed (more than the incremental share)";
    } else {
      inc.incremental = true;
      model = kept;
      matcher->SetCompareFilter([&](const std::vector<std::vector<uint64_t>>& keys, std::vector<uint8_t>* compare) {
        auto t_mark = std::chrono::steady_clock::now();
        MarkAffectedRecords(prev, now, *rs, keys, tf_features, config.max_block_size, &compared, &inc);
        *compare = compared;
        seconds_incremental += Seconds(t_mark);
      });
    }
  } else if (options.incremental) {
    inc.full_reason = "no state of a previous run";
  }
  seconds_incremental += Seconds(t_inc);
  matcher->KeepSlotKeys(want_state);
  // Overrides are labelled pairs for the probabilistic model.
  std::vector<LabelledPair> labels;
  for (const MatchOverride& o : overrides) {
    int64_t a = rs->Find(o.source_a, o.key_a), b = rs->Find(o.source_b, o.key_b);
    if (a >= 0 && b >= 0 && a != b) labels.push_back(LabelledPair{static_cast<RecordId>(a), static_cast<RecordId>(b), o.always});
  }
  CDP_ASSIGN_OR_RETURN(std::vector<MatchPair> pairs,
                       matcher->Run(options.threads,
                                    [&](const MatcherProgress& p) { progress(p.step, p.done, p.total); },
                                    model, &labels));
  t_inc = std::chrono::steady_clock::now();
  if (inc.incremental) {
    // Pairs of two unchanged records keep their verdict (the rejected ones
    // stay rejected): the previous run's accepted pairs carry over.
    for (const MatchPair& p : options.previous_state->pairs) {
      int64_t a = now[p.a], b = now[p.b];
      if (a < 0 || b < 0 || compared[static_cast<size_t>(a)] || compared[static_cast<size_t>(b)]) continue;
      ++inc.pairs_carried;
      pairs.push_back(MatchPair{static_cast<RecordId>(std::min(a, b)), static_cast<RecordId>(std::max(a, b)), p.rule,
                                p.score, p.strength});
    }
    std::sort(pairs.begin(), pairs.end(), [](const MatchPair& x, const MatchPair& y) {
      return x.a != y.a ? x.a < y.a : (x.b != y.b ? x.b < y.b : x.strength > y.strength);
    });
    pairs.erase(std::unique(pairs.begin(), pairs.end(),
                            [](const MatchPair& x, const MatchPair& y) { return x.a == y.a && x.b == y.b; }),
                pairs.end());
  }
  if (want_state) {
    const std::optional<FsModel>& m = matcher->model();
    result.state = MakeUnifyState(*rs, UnifyStateFingerprint(config, m ? m->ToJson().dump() : ""), feature_hashes,
                                  matcher->TakeSlotKeys(), tf_features, pairs);
  }
  seconds_incremental += Seconds(t_inc);
  stats.matching = matcher->stats();
  stats.seconds.emplace_back("blocking", stats.matching.seconds_blocking);
  stats.seconds.emplace_back("comparing", stats.matching.seconds_comparing);
  if (config.mode == UnifyMode::kProbabilistic) stats.seconds.emplace_back("training", stats.matching.seconds_training);
  if (want_state || options.incremental) stats.seconds.emplace_back("incremental_state", seconds_incremental);
  constexpr size_t kMaxBlockWarnings = 20;
  for (size_t i = 0; i < stats.matching.skipped_blocks.size() && i < kMaxBlockWarnings; ++i) {
    const SkippedBlock& b = stats.matching.skipped_blocks[i];
    stats.warnings.push_back("skipped a block of " + std::to_string(b.records) + " records sharing '" + b.key +
                             "' (rule " + b.rule + "; max_block_size " + std::to_string(config.max_block_size) + ")");
  }
  if (stats.matching.skipped_blocks.size() > kMaxBlockWarnings) {
    stats.warnings.push_back(std::to_string(stats.matching.skipped_blocks.size() - kMaxBlockWarnings) +
                             " more blocks were skipped (see skipped_blocks in the run stats)");
  }
  result.model = matcher->model();
  for (const MatchPair& p : matcher->review_pairs()) {
    result.review_pairs.push_back(ReviewPair{rs->source(rs->source_of(p.a)).name, std::string(rs->key(p.a)),
                                             rs->source(rs->source_of(p.b)).name, std::string(rs->key(p.b)),
                                             p.score, p.strength});
  }

  // Overrides.
  const int override_rule = static_cast<int>(matcher->rule_names().size()) - 1;
  std::vector<NeverMatch> never;
  for (size_t i = 0; i < overrides.size(); ++i) {
    const MatchOverride& o = overrides[i];
    int64_t a = rs->Find(o.source_a, o.key_a), b = rs->Find(o.source_b, o.key_b);
    if (a < 0 || b < 0) {
      const std::string& s = a < 0 ? o.source_a : o.source_b;
      const std::string& k = a < 0 ? o.key_a : o.key_b;
      stats.warnings.push_back("override " + std::to_string(i + 1) + " names " + s + ":" + k +
                               ", which is not a record of the unification sources; ignored");
      continue;
    }
    if (a == b) continue;
    RecordId ra = static_cast<RecordId>(std::min(a, b)), rb = static_cast<RecordId>(std::max(a, b));
    if (o.always) {
      pairs.push_back(MatchPair{ra, rb, override_rule, 1.0f, 1e12});
      ++stats.overrides_always;
    } else {
      never.push_back(NeverMatch{ra, rb});
      ++stats.overrides_never;
    }
  }
  // A never-match override also removes an always-match or rule pair of the same two records.
  if (!never.empty()) {
    std::set<std::pair<RecordId, RecordId>> nv;
    for (const auto& nm : never) nv.insert({nm.a, nm.b});
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                               [&](const MatchPair& p) { return nv.count({p.a, p.b}) > 0 && p.rule == override_rule; }),
                pairs.end());
  }
  std::sort(pairs.begin(), pairs.end(), [](const MatchPair& x, const MatchPair& y) {
    return x.a != y.a ? x.a < y.a : (x.b != y.b ? x.b < y.b : x.strength > y.strength);
  });
  pairs.erase(std::unique(pairs.begin(), pairs.end(),
                          [](const MatchPair& x, const MatchPair& y) { return x.a == y.a && x.b == y.b; }),
              pairs.end());

  // Cluster.
  t = std::chrono::steady_clock::now();
  progress("clustering", 0, 1);
  ClusterConstraints constraints;
  constraints.never = never;
  constraints.max_cluster_size = config.max_cluster_size;
  if (matcher->HasGuards()) {
    constraints.conflicts = [&](RecordId a, RecordId b) { return matcher->Conflicts(a, b); };
  }
  if (!config.one_record_per_source.empty()) {
    constraints.limited.assign(rs->num_sources(), false);
    for (const auto& s : config.one_record_per_source) {
      int i = rs->SourceIndex(s);
      if (i >= 0) constraints.limited[static_cast<size_t>(i)] = true;
    }
    constraints.source_of = [&](RecordId r) { return static_cast<int>(rs->source_of(r)); };
    // In probabilistic mode the model scores pairs within a source as well:
    // a pair it accepted between two records of one source is that source's
    // own dedup (one_record_per_source stops chains through other sources,
    // not the model's direct verdict on two records of the same source).
    const int model_rule = config.mode == UnifyMode::kProbabilistic ? ModelRuleIndex(*matcher) : -1;
    constraints.dedup_source = [&, model_rule](const MatchPair& p) {
      int s = matcher->RuleSource(p.rule);
      if (s < 0 && model_rule >= 0 && p.rule == model_rule && rs->source_of(p.a) == rs->source_of(p.b)) {
        s = static_cast<int>(rs->source_of(p.a));
      }
      return s;
    };
  }
  Clustering clusters = ClusterRecords(n, pairs, constraints);
  stats.cluster_splits = clusters.splits;
  stats.unions_too_large_to_check = clusters.unions_too_large_to_check;
  constexpr size_t kMaxSplitWarnings = 20;
  for (size_t i = 0; i < clusters.splits.size(); ++i) {
    const ClusterSplit& s = clusters.splits[i];
    stats.cluster_split_examples.push_back(rs->Describe(s.example));
    if (i < kMaxSplitWarnings) {
      char strength[32];
      std::snprintf(strength, sizeof strength, "%.3f", s.max_dropped_strength);
      stats.warnings.push_back("the pairs joined " + std::to_string(s.records) + " records (containing " +
                               rs->Describe(s.example) + "), more than max_cluster_size " +
                               std::to_string(config.max_cluster_size) + ": kept as " + std::to_string(s.parts) +
                               " profiles by refusing the weakest joins (the strongest refused pair had strength " +
                               strength + ")");
    }
  }
  if (clusters.splits.size() > kMaxSplitWarnings) {
    stats.warnings.push_back(std::to_string(clusters.splits.size() - kMaxSplitWarnings) +
                             " more groups were cut at max_cluster_size (see cluster_splits in the run stats)");
  }
  if (clusters.unions_too_large_to_check > 0) {
    stats.warnings.push_back(std::to_string(clusters.unions_too_large_to_check) +
                             " joins of two clusters were refused because checking the guards between all their "
                             "records would take more than " + std::to_string(constraints.max_checks) + " comparisons");
  }
  stats.rules.resize(matcher->rule_names().size());
  for (size_t r = 0; r < stats.rules.size(); ++r) {
    stats.rules[r].rule = matcher->rule_names()[r];
    if (r < stats.matching.guard_refusals_per_rule.size()) {
      stats.rules[r].guard_refusals = stats.matching.guard_refusals_per_rule[r];
    }
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto& rsx = stats.rules[static_cast<size_t>(pairs[i].rule)];
    ++rsx.pairs;
    switch (clusters.status[i]) {
      case PairStatus::kMerged: ++rsx.merges; break;
      case PairStatus::kRedundant: break;
      case PairStatus::kBlocked: ++stats.pairs_blocked_by_override; break;
      case PairStatus::kSplitByCap:
        ++rsx.split_by_cap;
        ++stats.pairs_split_by_cap;
        break;
      case PairStatus::kBlockedByGuard:
        ++rsx.blocked_by_guard;
        ++stats.pairs_blocked_by_guard;
        break;
      case PairStatus::kBlockedBySource:
        ++rsx.blocked_by_source;
        ++stats.pairs_blocked_by_source;
        break;
    }
  }
  // Probabilistic mode: the match rules only estimate the prior (reported as
  // matching.prior_rules), they accept no pair.
  if (config.mode == UnifyMode::kProbabilistic) {
    stats.rules.erase(stats.rules.begin(), stats.rules.begin() + static_cast<std::ptrdiff_t>(config.rules.size()));
  }
  progress("clustering", 1, 1);
  stats.seconds.emplace_back("clustering", Seconds(t));

  // Members of each cluster, in record order.
  const uint32_t k = clusters.num_clusters;
  std::vector<uint32_t> start(k + 1, 0);
  for (uint32_t c : clusters.cluster_of) ++start[c + 1];
  for (uint32_t c = 0; c < k; ++c) start[c + 1] += start[c];
  std::vector<RecordId> members(n);
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (RecordId r = 0; r < n; ++r) members[fill[clusters.cluster_of[r]]++] = r;
  }

  // Deduplication output: groups from each source's dedup pairs only.
  t = std::chrono::steady_clock::now();
  std::vector<int32_t> dedup_rule(n, -1);
  std::vector<float> dedup_score(n, 0);
  std::vector<RecordId> dedup_group(n);
  std::iota(dedup_group.begin(), dedup_group.end(), 0u);
  std::vector<bool> is_winner(n, true);
  {
    std::vector<uint32_t> parent(n);
    std::iota(parent.begin(), parent.end(), 0u);
    auto find = [&](uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    std::vector<bool> is_dedup_rule(matcher->rule_names().size(), false);
    for (size_t r = 0; r < matcher->rule_names().size(); ++r) {
      is_dedup_rule[r] = matcher->rule_names()[r].find('/') != std::string::npos && static_cast<int>(r) != override_rule;
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      const MatchPair& p = pairs[i];
      bool joined = clusters.status[i] == PairStatus::kMerged || clusters.status[i] == PairStatus::kRedundant;
      if (!is_dedup_rule[static_cast<size_t>(p.rule)] || !joined) {
        continue;
      }
      for (RecordId r : {p.a, p.b}) {
        if (dedup_rule[r] < 0 || p.score > dedup_score[r]) {
          dedup_rule[r] = p.rule;
          dedup_score[r] = p.score;
        }
      }
      uint32_t ra = find(p.a), rb = find(p.b);
      if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);
    }
    // Winner of each group by the source's policy.
    std::vector<int> filled(n, 0);
    for (RecordId r = 0; r < n; ++r) {
      const Table& tb = *rs->source(rs->source_of(r)).table;
      size_t row = rs->row_of(r);
      for (size_t c = 0; c < tb.num_columns(); ++c) filled[r] += IsBlankCell(tb.column(c), row) ? 0 : 1;
    }
    std::unordered_map<uint32_t, RecordId> winner;
    for (RecordId r = 0; r < n; ++r) {
      uint32_t root = find(r);
      if (root == r && dedup_rule[r] < 0) continue;  // a single record
      const UnifySourceConfig& sc = config.sources[rs->source_of(r)];
      auto it = winner.find(root);
      if (it == winner.end()) {
        winner.emplace(root, r);
        continue;
      }
      RecordId w = it->second;
      bool better;
      if (sc.dedup.winner == WinnerPolicy::kMostFilled) {
        better = filled[r] != filled[w] ? filled[r] > filled[w] : rs->key(r) < rs->key(w);
      } else {
        const Table& tb = *rs->source(rs->source_of(r)).table;
        int col = tb.schema().FieldIndex(sc.dedup.winner_field);
        if (col < 0 || !OrderableType(tb.schema().field(static_cast<size_t>(col)).type)) {
          return InvalidArgumentError("unification source '" + sc.source + "': dedup winner_field '" +
                                      sc.dedup.winner_field + "' is not a date, timestamp or number field");
        }
        const Column& cc = tb.column(static_cast<size_t>(col));
        bool rn = cc.IsNull(rs->row_of(r)), wn = cc.IsNull(rs->row_of(w));
        if (rn != wn) {
          better = !rn;
        } else if (rn) {
          better = rs->key(r) < rs->key(w);
        } else {
          double rv = OrderValue(cc, rs->row_of(r)), wv = OrderValue(cc, rs->row_of(w));
          if (rv == wv) {
            better = rs->key(r) < rs->key(w);
          } else {
            better = sc.dedup.winner == WinnerPolicy::kMostRecent ? rv > wv : rv < wv;
          }
        }
      }
      if (better) it->second = r;
    }
    for (RecordId r = 0; r < n; ++r) {
      uint32_t root = find(r);
      auto it = winner.find(root);
      if (it == winner.end()) continue;
      dedup_group[r] = it->second;
      is_winner[r] = it->second == r;
    }
  }

  if (options.preview) {
    stats.profiles_out = k;
    stats.merge_rate = n ? 1.0 - static_cast<double>(k) / static_cast<double>(n) : 0;
    stats.seconds.emplace_back("total", Seconds(t_all));
    return result;
  }

  // Which clusters become profiles.
  std::vector<bool> keep(k, true);
  if (!config.include_all) {
    for (uint32_t c = 0; c < k; ++c) {
      if (start[c + 1] - start[c] == 1 && rs->source_of(members[start[c]]) != 0) {
        keep[c] = false;
        ++stats.dropped_unmatched;
      }
    }
  }

  // Stable ids: a cluster keeps the previous id most of its records had, if no bigger cluster took it.
  std::vector<int64_t> id_of(k, 0);
  {
    std::vector<uint32_t> order;
    for (uint32_t c = 0; c < k; ++c) {
      if (keep[c]) order.push_back(c);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t x, uint32_t y) { return start[x + 1] - start[x] > start[y + 1] - start[y]; });
    std::set<int64_t> claimed;
    std::map<int64_t, std::set<uint32_t>> clusters_of_prev;  // previous id -> clusters holding its records
    std::vector<std::vector<int64_t>> prev_ids(k);
    int64_t next_id = previous.max_id + 1;
    for (uint32_t c : order) {
      std::map<int64_t, int> counts;
      for (uint32_t i = start[c]; i < start[c + 1]; ++i) {
        RecordId r = members[i];
        auto p = previous.Find(rs->source(rs->source_of(r)).name, rs->key(r));
        if (p) {
          ++counts[*p];
          clusters_of_prev[*p].insert(c);
        }
      }
      std::vector<std::pair<int, int64_t>> cand;
      for (const auto& [id, cnt] : counts) cand.emplace_back(-cnt, id);
      std::sort(cand.begin(), cand.end());
      for (const auto& [negcnt, id] : cand) prev_ids[c].push_back(id);
      int64_t chosen = 0;
      for (const auto& [negcnt, id] : cand) {
        if (!claimed.count(id)) {
          chosen = id;
          break;
        }
      }
      if (chosen) {
        ++stats.kept_ids;
      } else {
        chosen = next_id++;
        ++stats.new_ids;
      }
      claimed.insert(chosen);
      id_of[c] = chosen;
    }
    for (uint32_t c : order) {
      if (prev_ids[c].size() > 1) {
        IdChange ch{"merge", id_of[c], {}};
        for (int64_t p : prev_ids[c]) {
          if (p != id_of[c]) ch.other_ids.push_back(p);
        }
        std::sort(ch.other_ids.begin(), ch.other_ids.end());
        result.id_changes.push_back(std::move(ch));
      }
    }
    for (const auto& [prev, cs] : clusters_of_prev) {
      if (cs.size() < 2) continue;
      IdChange ch{"split", prev, {}};
      for (uint32_t c : cs) ch.other_ids.push_back(id_of[c]);
      std::sort(ch.other_ids.begin(), ch.other_ids.end());
      result.id_changes.push_back(std::move(ch));
    }
  }

  // Merge: the Customer fields.
  std::vector<OutField> fields;
  {
    std::map<std::string, std::string> rename(config.merge.rename.begin(), config.merge.rename.end());
    std::set<std::string> exclude(config.merge.exclude.begin(), config.merge.exclude.end());
    std::map<std::string, size_t> index;
    for (size_t s = 0; s < rs->num_sources(); ++s) {
      const ProfileSource& src = rs->source(s);
      for (size_t i = 0; i < src.output_names.size(); ++i) {
        std::string name = src.output_names[i];
        if (exclude.count(name)) continue;
        auto rn = rename.find(name);
        if (rn != rename.end()) name = rn->second;
        if (exclude.count(name) || name == "CustomerId") continue;
        DataType type = src.table->schema().field(i).type;
        auto it = index.find(name);
        if (it == index.end()) {
          OutField f;
          f.name = name;
          f.type = type;
          f.column.assign(rs->num_sources(), -1);
          f.policy.name = name;
          f.policy.policy = config.merge.default_policy;
          f.policy.by = config.merge.default_by;
          it = index.emplace(name, fields.size()).first;
          fields.push_back(std::move(f));
        }
        OutField& f = fields[it->second];
        if (f.column[s] >= 0) continue;  // two fields of one source under one name: the first wins
        if (f.type != type) f.type = DataType::kString;
        f.column[s] = static_cast<int>(i);
      }
    }
    for (const auto& mf : config.merge.fields) {
      auto it = index.find(mf.name);
      if (it == index.end()) {
        return InvalidArgumentError("unification.merge.fields: '" + mf.name + "' is not a field of the unified profile");
      }
      fields[it->second].policy = mf;
    }
    for (size_t g = 0; g < config.merge.groups.size(); ++g) {
      for (size_t i = 0; i < config.merge.groups[g].size(); ++i) {
        auto it = index.find(config.merge.groups[g][i]);
        if (it == index.end()) {
          return InvalidArgumentError("unification.merge.groups[" + std::to_string(g) + "]: '" +
                                      config.merge.groups[g][i] + "' is not a field of the unified profile");
        }
        fields[it->second].group = static_cast<int>(g);
        fields[it->second].group_leader = i == 0;
      }
    }
    for (auto& f : fields) {
      if (f.policy.policy == MergePolicy::kConcatenate) f.type = DataType::kString;
      for (const auto& s : f.policy.sources) {
        if (rs->SourceIndex(s) < 0) {
          return InvalidArgumentError("unification.merge.fields '" + f.name + "': source '" + s +
                                      "' is not a unification source");
        }
      }
      if (f.policy.policy == MergePolicy::kMostRecent || f.policy.policy == MergePolicy::kLeastRecent) {
        auto it = index.find(f.policy.by);
        if (it == index.end() || !OrderableType(fields[it->second].type)) {
          return InvalidArgumentError("unification.merge: field '" + f.name + "' is ordered by '" + f.policy.by +
                                      "', which is not a date, timestamp or number field of the unified profile");
        }
      }
    }
  }
  // Record order inside a cluster: source order, dedup winners first, then record id.
  std::vector<int> filled(n, 0);
  for (RecordId r = 0; r < n; ++r) {
    const Table& tb = *rs->source(rs->source_of(r)).table;
    for (size_t c = 0; c < tb.num_columns(); ++c) filled[r] += IsBlankCell(tb.column(c), rs->row_of(r)) ? 0 : 1;
  }
  std::map<std::string, size_t> field_index;
  for (size_t i = 0; i < fields.size(); ++i) field_index[fields[i].name] = i;
  auto column_of = [&](const OutField& f, RecordId r) -> const Column* {
    int c = f.column[rs->source_of(r)];
    return c < 0 ? nullptr : &rs->source(rs->source_of(r)).table->column(static_cast<size_t>(c));
  };
  auto has_value = [&](const OutField& f, RecordId r) {
    const Column* c = column_of(f, r);
    return c && !IsBlankCell(*c, rs->row_of(r));
  };
  // The record a field takes its value from (or -1).
  auto choose = [&](const OutField& f, const std::vector<RecordId>& recs) -> int64_t {
    int64_t best = -1;
    switch (f.policy.policy) {
      case MergePolicy::kSourcePriority:
      case MergePolicy::kConcatenate: {
        if (!f.policy.sources.empty()) {
          for (const auto& s : f.policy.sources) {
            int si = rs->SourceIndex(s);
            for (RecordId r : recs) {
              if (rs->source_of(r) == si && has_value(f, r)) return r;
            }
          }
        }
        for (RecordId r : recs) {
          if (has_value(f, r)) return r;
        }
        return -1;
      }
      case MergePolicy::kMostFilled: {
        for (RecordId r : recs) {
          if (has_value(f, r) && (best < 0 || filled[r] > filled[static_cast<size_t>(best)])) best = r;
        }
        return best;
      }
      case MergePolicy::kMostRecent:
      case MergePolicy::kLeastRecent: {
        const OutField& by = fields[field_index.at(f.policy.by)];
        double best_v = 0;
        bool best_dated = false;
        for (RecordId r : recs) {
          if (!has_value(f, r)) continue;
          const Column* c = column_of(by, r);
          bool dated = c && !c->IsNull(rs->row_of(r));
          if (!dated) {
            if (best < 0) best = r;  // a dated record replaces it
            continue;
          }
          double v = OrderValue(*c, rs->row_of(r));
          bool better = !best_dated || (f.policy.policy == MergePolicy::kMostRecent ? v > best_v : v < best_v);
          if (better) {
            best = r;
            best_v = v;
            best_dated = true;
          }
        }
        return best;
      }
    }
    return -1;
  };

  t = std::chrono::steady_clock::now();
  progress("merging", 0, k);
  Schema customer_schema;
  customer_schema.AddField(Field{"CustomerId", DataType::kInt64, {}});
  for (const auto& f : fields) {
    SemanticType sem;
    for (size_t s = 0; s < rs->num_sources() && sem.empty(); ++s) {
      if (f.column[s] >= 0) sem = rs->source(s).table->schema().field(static_cast<size_t>(f.column[s])).semantic;
    }
    customer_schema.AddField(Field{f.name, f.type, sem});
  }
  auto customers = std::make_shared<Table>(customer_schema);
  std::vector<uint32_t> out_order;
  for (uint32_t c = 0; c < k; ++c) {
    if (keep[c]) out_order.push_back(c);
  }
  std::sort(out_order.begin(), out_order.end(), [&](uint32_t x, uint32_t y) { return id_of[x] < id_of[y]; });
  // Morsels of profiles are merged in parallel into their own tables, then appended in order.
  constexpr size_t kMergeGrain = 16384;
  const size_t merge_morsels = (out_order.size() + kMergeGrain - 1) / kMergeGrain;
  std::vector<Table> parts(merge_morsels, Table(customer_schema));
  std::atomic<int64_t> merged{0};
  ParallelFor(options.threads, out_order.size(), kMergeGrain, [&](size_t begin, size_t end, int worker) {
    Table& part = parts[begin / kMergeGrain];
    std::vector<RecordId> recs;
    std::vector<int64_t> group_choice(config.merge.groups.size());
    std::string text;
    for (size_t oi = begin; oi < end; ++oi) {
      uint32_t c = out_order[oi];
      recs.assign(members.begin() + start[c], members.begin() + start[c + 1]);
      std::sort(recs.begin(), recs.end(), [&](RecordId x, RecordId y) {
        if (rs->source_of(x) != rs->source_of(y)) return rs->source_of(x) < rs->source_of(y);
        if (is_winner[x] != is_winner[y]) return static_cast<bool>(is_winner[x]);
        return x < y;
      });
      part.mutable_column(0).AppendInt64(id_of[c]);
      for (size_t g = 0; g < group_choice.size(); ++g) {
        // The group's record: chosen by its first field's policy.
        for (const auto& f : fields) {
          if (f.group == static_cast<int>(g) && f.group_leader) group_choice[g] = choose(f, recs);
        }
      }
      for (size_t fi = 0; fi < fields.size(); ++fi) {
        const OutField& f = fields[fi];
        Column& out = part.mutable_column(fi + 1);
        if (f.policy.policy == MergePolicy::kConcatenate && f.group < 0) {
          std::vector<std::string> seen;
          for (RecordId r : recs) {
            if (!has_value(f, r)) continue;
            std::string v = column_of(f, r)->ValueToString(rs->row_of(r));
            if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
          }
          if (seen.empty()) {
            out.AppendNull();
          } else {
            text.clear();
            for (size_t i = 0; i < seen.size(); ++i) text += (i ? f.policy.separator : "") + seen[i];
            out.AppendString(text);
          }
          continue;
        }
        int64_t r = f.group >= 0 ? group_choice[static_cast<size_t>(f.group)] : choose(f, recs);
        const Column* col = r < 0 ? nullptr : column_of(f, static_cast<RecordId>(r));
        size_t row = r < 0 ? 0 : rs->row_of(static_cast<RecordId>(r));
        if (!col || col->IsNull(row)) {
          out.AppendNull();
        } else if (col->type() == f.type) {
          out.AppendFrom(*col, row);
        } else {
          out.AppendString(col->ValueToString(row));
        }
      }
      part.FinishRow();
    }
    int64_t done = merged.fetch_add(static_cast<int64_t>(end - begin)) + static_cast<int64_t>(end - begin);
    if (worker == 0) progress("merging", done, k);
  });
  // Room for every part at once: growing by doubling would hold up to three
  // times the profiles' size while the last part is appended (10M customers:
  // Customer is ~2.8 GB).
  for (size_t c = 0; c < customer_schema.num_fields(); ++c) {
    Column& col = customers->mutable_column(c);
    col.Reserve(out_order.size());
    if (col.type() != DataType::kString) continue;
    size_t chars = 0;
    for (const Table& part : parts) chars += part.column(c).string_chars().size();
    col.ReserveChars(chars);
  }
  for (auto& part : parts) {
    CDP_RETURN_IF_ERROR(customers->Append(part));
    part = Table();
  }
  progress("merging", k, k);
  result.customers = customers;
  stats.profiles_out = static_cast<int64_t>(out_order.size());
  stats.merge_rate = n ? 1.0 - static_cast<double>(k) / static_cast<double>(n) : 0;

  // Lineage.
  auto keys = std::make_shared<Table>(Schema({Field{"CustomerId", DataType::kInt64, {}},
                                              Field{"Source", DataType::kString, {}},
                                              Field{"SourceKey", DataType::kString, {}}}));
  {
    size_t rows = 0, name_chars = 0, key_chars = 0;
    for (uint32_t c : out_order) {
      rows += start[c + 1] - start[c];
      for (uint32_t i = start[c]; i < start[c + 1]; ++i) {
        name_chars += rs->source(rs->source_of(members[i])).name.size();
        key_chars += rs->key(members[i]).size();
      }
    }
    for (size_t col = 0; col < 3; ++col) keys->mutable_column(col).Reserve(rows);
    keys->mutable_column(1).ReserveChars(name_chars);
    keys->mutable_column(2).ReserveChars(key_chars);
  }
  for (uint32_t c : out_order) {
    for (uint32_t i = start[c]; i < start[c + 1]; ++i) {
      RecordId r = members[i];
      keys->mutable_column(0).AppendInt64(id_of[c]);
      keys->mutable_column(1).AppendString(rs->source(rs->source_of(r)).name);
      keys->mutable_column(2).AppendString(rs->key(r));
      keys->FinishRow();
    }
  }
  result.source_keys = keys;

  // Match pairs.
  auto mp = std::make_shared<Table>(Schema({Field{"CustomerId", DataType::kInt64, {}},
                                            Field{"SourceA", DataType::kString, {}},
                                            Field{"KeyA", DataType::kString, {}},
                                            Field{"SourceB", DataType::kString, {}},
                                            Field{"KeyB", DataType::kString, {}},
                                            Field{"Rule", DataType::kString, {}},
                                            Field{"Score", DataType::kDouble, {}},
                                            Field{"Status", DataType::kString, {}}}));
  for (size_t i = 0; i < pairs.size(); ++i) {
    const MatchPair& p = pairs[i];
    uint32_t ca = clusters.cluster_of[p.a];
    if (keep[ca]) {
      mp->mutable_column(0).AppendInt64(id_of[ca]);
    } else {
      mp->mutable_column(0).AppendNull();
    }
    mp->mutable_column(1).AppendString(rs->source(rs->source_of(p.a)).name);
    mp->mutable_column(2).AppendString(rs->key(p.a));
    mp->mutable_column(3).AppendString(rs->source(rs->source_of(p.b)).name);
    mp->mutable_column(4).AppendString(rs->key(p.b));
    mp->mutable_column(5).AppendString(matcher->rule_names()[static_cast<size_t>(p.rule)]);
    mp->mutable_column(6).AppendDouble(p.score);
    mp->mutable_column(7).AppendString(PairStatusName(clusters.status[i]));
    mp->FinishRow();
  }
  result.match_pairs = mp;

  // Per-source deduplication outputs.
  for (size_t s = 0; s < rs->num_sources(); ++s) {
    if (config.sources[s].dedup.rules.empty()) continue;
    auto d = std::make_shared<Table>(Schema({Field{"SourceKey", DataType::kString, {}},
                                             Field{"GroupKey", DataType::kString, {}},
                                             Field{"IsWinner", DataType::kBool, {}},
                                             Field{"Rule", DataType::kString, {}},
                                             Field{"Score", DataType::kDouble, {}}}));
    for (RecordId r = rs->first(s); r < rs->end(s); ++r) {
      d->mutable_column(0).AppendString(rs->key(r));
      d->mutable_column(1).AppendString(rs->key(dedup_group[r]));
      d->mutable_column(2).AppendBool(is_winner[r]);
      if (dedup_rule[r] >= 0) {
        d->mutable_column(3).AppendString(matcher->rule_names()[static_cast<size_t>(dedup_rule[r])]);
        d->mutable_column(4).AppendDouble(dedup_score[r]);
      } else {
        d->mutable_column(3).AppendNull();
        d->mutable_column(4).AppendNull();
      }
      d->FinishRow();
    }
    result.dedup.emplace_back(DedupEntityName(rs->source(s).name), d);
  }
  stats.seconds.emplace_back("merge", Seconds(t));
  stats.seconds.emplace_back("total", Seconds(t_all));
  return result;
}

StatusOr<PairExplanation> ExplainRecordPair(const UnifyConfig& config,
                                            const std::vector<std::shared_ptr<const Table>>& tables,
                                            const std::string& source_a, const std::string& key_a,
                                            const std::string& source_b, const std::string& key_b,
                                            const FsModel* model) {
  // Only the two rows take part: slice each table down to them.
  std::vector<std::shared_ptr<const Table>> sliced;
  for (size_t s = 0; s < config.sources.size(); ++s) {
    const Table& tb = *tables[s];
    auto out = std::make_shared<Table>(tb.schema());
    int kc = tb.schema().FieldIndex(config.sources[s].key);
    if (kc < 0) {
      return InvalidArgumentError("unification source '" + config.sources[s].source + "': key field '" +
                                  config.sources[s].key + "' does not exist");
    }
    const Column& keycol = tb.column(static_cast<size_t>(kc));
    for (size_t row = 0; row < tb.num_rows(); ++row) {
      if (keycol.IsNull(row)) continue;
      std::string k = keycol.type() == DataType::kString ? std::string(keycol.StringAt(row)) : keycol.ValueToString(row);
      bool want = (config.sources[s].source == source_a && k == key_a) ||
                  (config.sources[s].source == source_b && k == key_b);
      if (!want) continue;
      for (size_t c = 0; c < tb.num_columns(); ++c) out->mutable_column(c).AppendFrom(tb.column(c), row);
      out->FinishRow();
    }
    sliced.push_back(out);
  }
  RecordSetOptions rso;
  rso.threads = 1;
  rso.normalize.default_region = config.default_region;
  rso.normalize.default_placeholders = config.default_placeholders;
  rso.normalize.extra_placeholders = config.placeholders;
  rso.placeholder_detection = config.placeholder_detection;
  // Placeholder detection counts a value's records over all sources, so that the pair is
  // judged as in a run: then every row takes part.
  const bool all_rows = config.placeholder_detection.enabled;
  if (all_rows) rso.threads = 0;
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<RecordSet> rs,
                       RecordSet::Build(config.sources, all_rows ? tables : sliced, rso));
  int64_t a = rs->Find(source_a, key_a), b = rs->Find(source_b, key_b);
  if (a < 0) return NotFoundError("no record " + source_a + ":" + key_a + " in the unification sources");
  if (b < 0) return NotFoundError("no record " + source_b + ":" + key_b + " in the unification sources");
  if (a == b) return InvalidArgumentError("the two records are the same");
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<Matcher> matcher, Matcher::Create(config, rs.get()));
  CDP_RETURN_IF_ERROR(rs->ComputeFeatures());
  if (model) matcher->SetModel(*model);
  return matcher->Explain(static_cast<RecordId>(a), static_cast<RecordId>(b));
}

}  // namespace cdp
