#include "unify/incremental.h"

#include <xxhash.h>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "common/parallel.h"

namespace cdp {
namespace {

// Version of the state's layout and of the rules above; a change makes every
// stored state incompatible (the next run is full).
constexpr uint64_t kStateVersion = 1;

uint64_t HashText(std::string_view v) {
  if (v.empty()) return 0;
  uint64_t h = XXH3_64bits(v.data(), v.size());
  return h == 0 ? 1 : h;
}

}  // namespace

uint64_t UnifyStateFingerprint(const UnifyConfig& config, const std::string& model_json) {
  std::string text = UnifyConfigToJson(config);
  text.push_back('\x1e');
  text += model_json;
  return XXH3_64bits_withSeed(text.data(), text.size(), kStateVersion);
}

std::vector<uint64_t> FeatureHashes(const RecordSet& records, int threads) {
  const size_t n = records.size();
  std::vector<uint64_t> out(n, 0);
  const int nf = records.num_features();
  ParallelFor(threads, n, 16384, [&](size_t begin, size_t end, int) {
    std::string buf;  // the record's features, length-prefixed, hashed at once
    for (size_t r = begin; r < end; ++r) {
      RecordId id = static_cast<RecordId>(r);
      buf.clear();
      for (int f = 0; f < nf; ++f) {
        const FeatureColumn& col = records.feature(f);
        std::string_view v = col.value(id);
        uint32_t len = static_cast<uint32_t>(v.size());
        buf.append(reinterpret_cast<const char*>(&len), sizeof len);
        buf.append(v);
        if (col.has_number(id)) {
          double d = col.number(id);
          buf.push_back('\x01');
          buf.append(reinterpret_cast<const char*>(&d), sizeof d);
        } else {
          buf.push_back('\0');
        }
      }
      out[r] = XXH3_64bits(buf.data(), buf.size());
    }
  });
  return out;
}

void UnifyState::AddRecord(std::string_view source, std::string_view key) {
  size_t i = 0;
  while (i < source_names.size() && source_names[i] != source) ++i;
  if (i == source_names.size()) source_names.emplace_back(source);
  source_of.push_back(static_cast<uint16_t>(i));
  key_chars.append(key);
  key_offsets.push_back(key_chars.size());
}

std::vector<int64_t> MapPreviousRecords(const UnifyState& previous, const RecordSet& records, int threads) {
  std::vector<int64_t> now(previous.size(), -1);
  ParallelFor(threads, previous.size(), 16384, [&](size_t begin, size_t end, int) {
    for (size_t p = begin; p < end; ++p) now[p] = records.Find(previous.source(p), previous.key(p));
  });
  return now;
}

UnifyState MakeUnifyState(const RecordSet& records, uint64_t fingerprint, const std::vector<uint64_t>& features,
                          const std::vector<std::vector<uint64_t>>& slot_keys, const std::vector<int>& tf_features,
                          std::vector<MatchPair> pairs) {
  UnifyState s;
  s.pairs = std::move(pairs);
  s.fingerprint = fingerprint;
  s.num_slots = slot_keys.size();
  s.num_tf = tf_features.size();
  const size_t n = records.size();
  s.source_of.reserve(n);
  s.key_offsets.reserve(n + 1);
  size_t chars = 0;
  for (RecordId r = 0; r < n; ++r) chars += records.key(r).size();
  s.key_chars.reserve(chars);
  s.features = features;
  s.slot_keys.resize(n * s.num_slots);
  s.tf_values.resize(n * s.num_tf);
  for (RecordId r = 0; r < n; ++r) {
    s.AddRecord(records.source(records.source_of(r)).name, records.key(r));
    for (size_t k = 0; k < s.num_slots; ++k) s.slot_keys[r * s.num_slots + k] = slot_keys[k][r];
    for (size_t t = 0; t < s.num_tf; ++t) {
      s.tf_values[r * s.num_tf + t] = HashText(records.feature(tf_features[t]).value(r));
    }
  }
  return s;
}

void MarkChangedRecords(const UnifyState& prev, const std::vector<int64_t>& now, const std::vector<uint64_t>& features,
                        std::vector<uint8_t>* compare, IncrementalStats* stats) {
  const size_t n = features.size();
  compare->assign(n, 0);
  std::vector<uint8_t> seen(n, 0);
  for (size_t p = 0; p < prev.size(); ++p) {
    int64_t r = now[p];
    if (r < 0) {
      ++stats->records_removed;
      continue;
    }
    seen[static_cast<size_t>(r)] = 1;
    if (prev.features[p] != features[static_cast<size_t>(r)]) {
      (*compare)[static_cast<size_t>(r)] = 1;
      ++stats->records_changed;
    }
  }
  for (size_t r = 0; r < n; ++r) {
    if (!seen[r]) {
      (*compare)[r] = 1;
      ++stats->records_new;
    }
  }
}

void MarkAffectedRecords(const UnifyState& prev, const std::vector<int64_t>& now, const RecordSet& records,
                         const std::vector<std::vector<uint64_t>>& slot_keys, const std::vector<int>& tf_features,
                         int64_t max_block_size, std::vector<uint8_t>* compare, IncrementalStats* stats) {
  const size_t n = records.size();
  // Previous records whose keys and values may differ now: removed or changed.
  auto gone_or_changed = [&](size_t p) { return now[p] < 0 || (*compare)[static_cast<size_t>(now[p])] == 1; };

  // Marks the clean holders of the values in `touched` whose count changed.
  // prev_value(p) / cur_value(r): a record's value (0: none).
  auto mark_changed_counts = [&](auto&& prev_value, auto&& cur_value, auto&& crossed, int64_t* counter) {
    std::unordered_set<uint64_t> touched;
    for (size_t p = 0; p < prev.size(); ++p) {
      if (gone_or_changed(p) && prev_value(p)) touched.insert(prev_value(p));
    }
    for (size_t r = 0; r < n; ++r) {
      if ((*compare)[r] == 1 && cur_value(r)) touched.insert(cur_value(r));
    }
    if (touched.empty()) return;
    std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> counts;  // value -> (before, now)
    for (uint64_t v : touched) counts.emplace(v, std::make_pair(0, 0));
    for (size_t p = 0; p < prev.size(); ++p) {
      auto it = counts.find(prev_value(p));
      if (it != counts.end()) ++it->second.first;
    }
    for (size_t r = 0; r < n; ++r) {
      auto it = counts.find(cur_value(r));
      if (it != counts.end()) ++it->second.second;
    }
    std::unordered_set<uint64_t> marked;
    for (const auto& [v, c] : counts) {
      if (crossed(c.first, c.second)) marked.insert(v);
    }
    if (marked.empty()) return;
    for (size_t r = 0; r < n; ++r) {
      if ((*compare)[r] == 0 && marked.count(cur_value(r))) {
        (*compare)[r] = 2;
        ++*counter;
      }
    }
  };

  // Blocks that crossed max_block_size.
  for (size_t s = 0; s < slot_keys.size(); ++s) {
    mark_changed_counts([&](size_t p) { return prev.slot_keys[p * prev.num_slots + s]; },
                        [&](size_t r) { return slot_keys[s][r]; },
                        [&](int64_t before, int64_t after) { return (before > max_block_size) != (after > max_block_size); },
                        &stats->records_block_crossed);
  }
  // Term-frequency values whose count changed.
  for (size_t t = 0; t < tf_features.size(); ++t) {
    const FeatureColumn& f = records.feature(tf_features[t]);
    mark_changed_counts([&](size_t p) { return prev.tf_values[p * prev.num_tf + t]; },
                        [&](size_t r) { return HashText(f.value(static_cast<RecordId>(r))); },
                        [](int64_t before, int64_t after) { return before != after; }, &stats->records_tf_changed);
  }
  for (uint8_t c : *compare) stats->records_compared += c ? 1 : 0;
}

Table UnifyStateToTable(const UnifyState& state) {
  Schema schema;
  schema.AddField(Field{"Source", DataType::kString, SemanticType("")});
  schema.AddField(Field{"SourceKey", DataType::kString, SemanticType("")});
  schema.AddField(Field{"Features", DataType::kInt64, SemanticType("")});
  for (size_t s = 0; s < state.num_slots; ++s) {
    schema.AddField(Field{"Slot" + std::to_string(s), DataType::kInt64, SemanticType("")});
  }
  for (size_t t = 0; t < state.num_tf; ++t) {
    schema.AddField(Field{"Tf" + std::to_string(t), DataType::kInt64, SemanticType("")});
  }
  Table table(schema);
  for (size_t c = 0; c < schema.num_fields(); ++c) table.mutable_column(c).Reserve(state.size());
  table.mutable_column(1).ReserveChars(state.key_chars.size());
  for (size_t r = 0; r < state.size(); ++r) {
    size_t c = 0;
    table.mutable_column(c++).AppendString(state.source(r));
    table.mutable_column(c++).AppendString(state.key(r));
    table.mutable_column(c++).AppendInt64(static_cast<int64_t>(state.features[r]));
    for (size_t s = 0; s < state.num_slots; ++s) {
      table.mutable_column(c++).AppendInt64(static_cast<int64_t>(state.slot_keys[r * state.num_slots + s]));
    }
    for (size_t t = 0; t < state.num_tf; ++t) {
      table.mutable_column(c++).AppendInt64(static_cast<int64_t>(state.tf_values[r * state.num_tf + t]));
    }
    table.FinishRow();
  }
  return table;
}

Table UnifyStatePairsToTable(const UnifyState& state) {
  Schema schema;
  for (const char* name : {"A", "B", "Rule"}) schema.AddField(Field{name, DataType::kInt64, SemanticType("")});
  for (const char* name : {"Score", "Strength"}) schema.AddField(Field{name, DataType::kDouble, SemanticType("")});
  Table table(schema);
  for (const MatchPair& p : state.pairs) {
    table.mutable_column(0).AppendInt64(p.a);
    table.mutable_column(1).AppendInt64(p.b);
    table.mutable_column(2).AppendInt64(p.rule);
    table.mutable_column(3).AppendDouble(p.score);
    table.mutable_column(4).AppendDouble(p.strength);
    table.FinishRow();
  }
  return table;
}

StatusOr<UnifyState> UnifyStateFromTables(const Table& table, const Table& pairs, uint64_t fingerprint) {
  const Schema& schema = table.schema();
  auto column = [&](const std::string& name, DataType type) -> StatusOr<const Column*> {
    int i = schema.FieldIndex(name);
    if (i < 0 || schema.field(static_cast<size_t>(i)).type != type) {
      return DataLossError("unification state: column '" + name + "' is missing or has the wrong type");
    }
    return &table.column(static_cast<size_t>(i));
  };
  UnifyState s;
  s.fingerprint = fingerprint;
  CDP_ASSIGN_OR_RETURN(const Column* source, column("Source", DataType::kString));
  CDP_ASSIGN_OR_RETURN(const Column* key, column("SourceKey", DataType::kString));
  CDP_ASSIGN_OR_RETURN(const Column* features, column("Features", DataType::kInt64));
  std::vector<const Column*> slots, tfs;
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const std::string& name = schema.field(i).name;
    if (name.rfind("Slot", 0) == 0) {
      CDP_ASSIGN_OR_RETURN(const Column* c, column("Slot" + std::to_string(slots.size()), DataType::kInt64));
      slots.push_back(c);
    } else if (name.rfind("Tf", 0) == 0) {
      CDP_ASSIGN_OR_RETURN(const Column* c, column("Tf" + std::to_string(tfs.size()), DataType::kInt64));
      tfs.push_back(c);
    }
  }
  s.num_slots = slots.size();
  s.num_tf = tfs.size();
  const size_t n = table.num_rows();
  s.source_of.reserve(n);
  s.key_offsets.reserve(n + 1);
  s.key_chars.reserve(key->string_chars().size());
  s.features.resize(n);
  s.slot_keys.resize(n * s.num_slots);
  s.tf_values.resize(n * s.num_tf);
  for (size_t r = 0; r < n; ++r) {
    if (source->IsNull(r) || key->IsNull(r) || features->IsNull(r)) {
      return DataLossError("unification state: row " + std::to_string(r) + " has a null source, key or hash");
    }
    s.AddRecord(source->StringAt(r), key->StringAt(r));
    if (s.source_names.size() > 1024) {  // profile sources are few; this is not a state
      return DataLossError("unification state: more than 1024 distinct sources (row " + std::to_string(r) + ")");
    }
    s.features[r] = static_cast<uint64_t>(features->Int64At(r));
    for (size_t k = 0; k < s.num_slots; ++k) s.slot_keys[r * s.num_slots + k] = static_cast<uint64_t>(slots[k]->Int64At(r));
    for (size_t t = 0; t < s.num_tf; ++t) s.tf_values[r * s.num_tf + t] = static_cast<uint64_t>(tfs[t]->Int64At(r));
  }
  const Schema& ps = pairs.schema();
  const Column* cols[5];
  const char* names[5] = {"A", "B", "Rule", "Score", "Strength"};
  for (int i = 0; i < 5; ++i) {
    int c = ps.FieldIndex(names[i]);
    DataType want = i < 3 ? DataType::kInt64 : DataType::kDouble;
    if (c < 0 || ps.field(static_cast<size_t>(c)).type != want) {
      return DataLossError(std::string("unification state pairs: column '") + names[i] +
                           "' is missing or has the wrong type");
    }
    cols[i] = &pairs.column(static_cast<size_t>(c));
  }
  s.pairs.reserve(pairs.num_rows());
  for (size_t r = 0; r < pairs.num_rows(); ++r) {
    int64_t a = cols[0]->Int64At(r), b = cols[1]->Int64At(r);
    if (a < 0 || b < 0 || static_cast<size_t>(a) >= n || static_cast<size_t>(b) >= n) {
      return DataLossError("unification state pairs: row " + std::to_string(r) + " names a record the state lacks");
    }
    s.pairs.push_back(MatchPair{static_cast<RecordId>(a), static_cast<RecordId>(b), static_cast<int32_t>(cols[2]->Int64At(r)),
                                static_cast<float>(cols[3]->DoubleAt(r)), cols[4]->DoubleAt(r)});
  }
  return s;
}

}  // namespace cdp
