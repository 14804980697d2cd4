// Incremental unification: what a run leaves for the next one (UnifyState)
// and, after the sources changed, which records must have their pairs
// compared again. Every other pair keeps its previous verdict, so that an
// incremental run gives exactly what a full run would give with the same
// configuration (and, in probabilistic mode, the same trained model):
//
//  - a record is dirty when it is new or any of its normalized features
//    changed (a change in a field no rule reads does not make it dirty);
//  - a blocking block whose size crossed max_block_size (skipped before and
//    not now, or the reverse) makes all its records dirty, since its pairs
//    become (or stop being) candidates;
//  - a value of a term-frequency comparison whose number of holders changed
//    makes all its holders dirty, since the tf adjustment of their pairs
//    changed;
//  - pairs of two clean records keep their verdict: the previous run's
//    accepted clean pairs are judged again one by one (cheap: a few per
//    record), the rejected ones stay rejected.
//
// Clustering, winners, stable ids and the merge always run in full (they are
// linear). Sorted-neighbourhood blocking has no incremental form: windows
// shift with every insert, so such a configuration always runs in full.
// Thread-compatible values and pure functions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/unify_config.h"
#include "table/column.h"
#include "unify/matcher.h"
#include "unify/record_set.h"

namespace cdp {

// Per record of the run that made it: its source and key, a hash of all its
// normalized features, its key hash in every blocking slot (0: no key), and
// the hash of its value in every term-frequency feature (0: empty).
struct UnifyState {
  uint64_t fingerprint = 0;  // UnifyStateFingerprint() of the run
  size_t num_slots = 0;
  size_t num_tf = 0;
  // Each record's source and key, flat (at 10M customers, 18M records as
  // two std::string each took ~1.4 GB): source(r) is source_names[source_of[r]],
  // key(r) is key_chars[key_offsets[r] .. key_offsets[r + 1]).
  std::vector<std::string> source_names;
  std::vector<uint16_t> source_of;
  std::string key_chars;
  std::vector<uint64_t> key_offsets{0};
  std::vector<uint64_t> features;
  std::vector<uint64_t> slot_keys;  // num_slots per record
  std::vector<uint64_t> tf_values;  // num_tf per record
  // The pairs the matcher accepted (overrides not included), by record
  // number in this state, with their rule, score and strength.
  std::vector<MatchPair> pairs;
  size_t size() const { return source_of.size(); }
  std::string_view source(size_t r) const { return source_names[source_of[r]]; }
  std::string_view key(size_t r) const {
    return std::string_view(key_chars).substr(key_offsets[r], key_offsets[r + 1] - key_offsets[r]);
  }
  // Appends a record's identity (a source not seen yet is added to source_names).
  void AddRecord(std::string_view source, std::string_view key);
};


struct IncrementalStats {
  bool incremental = false;     // false: this run compared every candidate pair
  std::string full_reason;      // why it ran in full, when it did
  int64_t records_new = 0;      // not in the previous run
  int64_t records_changed = 0;  // a normalized feature changed
  int64_t records_removed = 0;  // in the previous run, not in this one
  int64_t records_block_crossed = 0;  // clean, in a block that crossed max_block_size
  int64_t records_tf_changed = 0;     // clean, holding a tf value whose count changed
  int64_t records_compared = 0;       // dirty in all: their pairs were compared
  int64_t pairs_carried = 0;          // pairs of two clean records accepted before, kept
};

// Hash of what decides the verdicts: the unification config and, in
// probabilistic mode, the model's JSON text ("" otherwise).
uint64_t UnifyStateFingerprint(const UnifyConfig& config, const std::string& model_json);

// One hash per record of all its registered features (text and numbers).
std::vector<uint64_t> FeatureHashes(const RecordSet& records, int threads);

// The state of a run over `records`, whose blocking keys `slot_keys` (slot
// major: slot_keys[s][r]) and tf features are those the matcher used and
// whose accepted pairs are `pairs`.
UnifyState MakeUnifyState(const RecordSet& records, uint64_t fingerprint, const std::vector<uint64_t>& features,
                          const std::vector<std::vector<uint64_t>>& slot_keys, const std::vector<int>& tf_features,
                          std::vector<MatchPair> pairs);

// The current record of each of the previous state's records (-1: gone).
std::vector<int64_t> MapPreviousRecords(const UnifyState& previous, const RecordSet& records, int threads);

// The records whose pairs must be compared, in two steps. MarkChangedRecords
// sets `compare` (one byte per current record) to 1 for the records that are
// new or whose features changed, and counts new, changed and removed
// records; it needs no blocking. MarkAffectedRecords then sets 2 on the clean
// records of blocks that crossed max_block_size (this run's `slot_keys`) and
// on the holders of tf values whose count changed, and counts the records to
// compare. `now` is MapPreviousRecords.
void MarkChangedRecords(const UnifyState& previous, const std::vector<int64_t>& now,
                        const std::vector<uint64_t>& features, std::vector<uint8_t>* compare, IncrementalStats* stats);
void MarkAffectedRecords(const UnifyState& previous, const std::vector<int64_t>& now, const RecordSet& records,
                         const std::vector<std::vector<uint64_t>>& slot_keys, const std::vector<int>& tf_features,
                         int64_t max_block_size, std::vector<uint8_t>* compare, IncrementalStats* stats);

// The state as two tables, the records (entity _unify/state; the fingerprint
// travels in the entity's properties) and the pairs (_unify/pairs), and back.
// DataLoss naming the column for a table that is not a state, or a pair
// naming a record the state does not have.
Table UnifyStateToTable(const UnifyState& state);
Table UnifyStatePairsToTable(const UnifyState& state);
StatusOr<UnifyState> UnifyStateFromTables(const Table& records, const Table& pairs, uint64_t fingerprint);

}  // namespace cdp
