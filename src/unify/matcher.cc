#include "unify/matcher.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "common/parallel.h"
#include "common/utf8.h"
#include "unify/compare/phonetic.h"
#include "unify/compare/similarity.h"

namespace cdp {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string FormatThreshold(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string DescribeComparison(CompareKind kind, double threshold, double tolerance) {
  switch (kind) {
    case CompareKind::kExact: return "exact";
    case CompareKind::kFuzzy: return "fuzzy >= " + FormatThreshold(threshold);
    case CompareKind::kJaroWinkler: return "jaro_winkler >= " + FormatThreshold(threshold);
    case CompareKind::kDateWithin: return "within " + FormatThreshold(tolerance) + " days";
    case CompareKind::kNumberWithin: return "within " + FormatThreshold(tolerance);
    case CompareKind::kTokenSet: return "token_set >= " + FormatThreshold(threshold);
  }
  return "exact";
}

bool IsNumericCompare(CompareKind k) { return k == CompareKind::kDateWithin || k == CompareKind::kNumberWithin; }

}  // namespace

struct CompiledCondition {
  std::string field;
  std::string other;               // asymmetric: the second record's attribute; else empty
  int feature = -1;                // the first record's side
  int other_feature = -1;          // the second record's side (== feature when symmetric)
  CompareKind kind = CompareKind::kExact;
  double threshold = 1, tolerance = 0;
};

// A guard: `direct` compares the two records' `field`; with `other`,
// `crossed` compares one record's `field` with the other's `other`.
struct CompiledGuard {
  CompiledCondition direct;
  bool has_other = false;
  CompiledCondition crossed;
};

enum class GuardVerdict { kHolds, kHoldsSwapped, kEmpty, kFails };

struct CompiledException {
  std::string field;
  int feature = -1;
  std::unordered_set<std::string> values;  // normalized
};

struct CompiledRule {
  std::string name;
  int source = -1;                 // dedup rule: its source; match rule: -1
  std::vector<bool> allowed;       // match rule: sources it applies to
  std::vector<CompiledCondition> conditions;
  std::vector<CompiledGuard> guards;
  std::vector<CompiledException> exceptions;
  bool asymmetric = false;         // some condition has `other`: tried in both orientations
  int order = 0;                   // position among its list (match rules, or the source's dedup rules)
  int list_size = 1;
};

// One part of a blocking key: a feature and its transform.
struct SlotItem {
  int feature = -1;
  BlockingMethod method = BlockingMethod::kExact;  // exact, prefix, soundex or metaphone
  int64_t length = 0;                              // prefix: code points kept
};

// A blocking key definition over a set of records.
struct Slot {
  std::string owner;               // rule name (warnings)
  BlockingMethod method = BlockingMethod::kExact;  // the key's: exact or sorted_neighbourhood
  std::vector<SlotItem> items;
  int64_t window = 0;
  bool alternate = false;          // metaphone items use their alternate code
  int source = -1;                 // -1: all sources (filtered by `allowed`), else only this source
  std::vector<bool> allowed;
};

struct CompiledComparison {
  std::string field;
  int feature = -1;
  int numeric_feature = -1;
  std::vector<ComparisonLevelConfig> levels;
  std::vector<int> other_feature;  // per level: the `other` attribute's feature, or -1
  bool tf = false;
};

struct Matcher::Impl {
  const UnifyConfig* config = nullptr;
  RecordSet* rs = nullptr;
  std::vector<CompiledRule> rules;  // match rules, then each source's dedup rules
  std::vector<CompiledGuard> global_guards;  // unification.guards
  // Per rule: pairs whose conditions held but a guard of the rule refused (during Run).
  std::unique_ptr<std::atomic<int64_t>[]> guard_refusals;
  std::vector<Slot> slots;
  std::vector<CompiledComparison> comparisons;  // probabilistic
  std::vector<int> prior_rules;                 // probabilistic: rule indexes fixing the prior
  std::vector<std::vector<int>> dedup_rules_of;  // per source
  std::vector<int> match_rules;
  bool probabilistic = false;
  // Term frequencies of tf comparisons: value -> relative frequency.
  std::vector<std::unordered_map<std::string_view, double>> tf;
  const FsModel* model = nullptr;

  // Registers a feature, naming the rule in errors.
  StatusOr<int> Feature(const std::string& what, const std::string& attribute,
                        const std::vector<std::string>& normalize, bool numeric) {
    auto f = rs->AddFeature(FeatureSpec{attribute, numeric ? std::vector<std::string>{} : normalize, numeric});
    if (!f.ok()) return f.status().WithContext(what);
    return f;
  }

  StatusOr<CompiledGuard> CompileGuard(const MatchGuardConfig& g, const std::string& where) {
    CompiledGuard cg;
    CompiledCondition& d = cg.direct;
    d.field = g.field;
    d.kind = g.compare;
    d.threshold = g.threshold;
    d.tolerance = g.tolerance;
    CDP_ASSIGN_OR_RETURN(d.feature, Feature(where, g.field, g.normalize, IsNumericCompare(g.compare)));
    d.other_feature = d.feature;
    if (g.asymmetric()) {
      cg.has_other = true;
      cg.crossed = d;
      cg.crossed.other = g.other;
      CDP_ASSIGN_OR_RETURN(cg.crossed.other_feature,
                           Feature(where + ".other", g.other, g.normalize, IsNumericCompare(g.compare)));
    }
    return cg;
  }

  StatusOr<CompiledRule> CompileRule(const MatchRuleConfig& r, const std::string& what, int source) {
    CompiledRule c;
    c.name = r.name;
    c.source = source;
    c.allowed.assign(rs->num_sources(), r.sources.empty());
    for (const auto& s : r.sources) {
      int i = rs->SourceIndex(s);
      if (i >= 0) c.allowed[static_cast<size_t>(i)] = true;
    }
    for (size_t i = 0; i < r.conditions.size(); ++i) {
      const auto& cond = r.conditions[i];
      CompiledCondition cc;
      cc.field = cond.field;
      cc.kind = cond.compare;
      cc.threshold = cond.threshold;
      cc.tolerance = cond.tolerance;
      std::string where = what + ".conditions[" + std::to_string(i) + "]";
      CDP_ASSIGN_OR_RETURN(cc.feature, Feature(where, cond.field, cond.normalize, IsNumericCompare(cond.compare)));
      cc.other_feature = cc.feature;
      if (cond.asymmetric()) {
        cc.other = cond.other;
        CDP_ASSIGN_OR_RETURN(cc.other_feature, Feature(where + ".other", cond.other, cond.normalize,
                                                       IsNumericCompare(cond.compare)));
        c.asymmetric = true;
      }
      c.conditions.push_back(std::move(cc));
    }
    for (size_t i = 0; i < r.guards.size(); ++i) {
      CDP_ASSIGN_OR_RETURN(CompiledGuard g, CompileGuard(r.guards[i], what + ".guards[" + std::to_string(i) + "]"));
      c.guards.push_back(std::move(g));
    }
    for (size_t i = 0; i < r.exceptions.size(); ++i) {
      const auto& e = r.exceptions[i];
      CompiledException ce;
      ce.field = e.field;
      std::string where = what + ".exceptions[" + std::to_string(i) + "]";
      CDP_ASSIGN_OR_RETURN(ce.feature, Feature(where, e.field, e.normalize, false));
      CDP_ASSIGN_OR_RETURN(const NormalizerChain* chain, rs->Chain(e.normalize));
      for (const auto& v : e.values) {
        // Placeholder values normalize to "" and never match anyway.
        std::string n = chain->Normalize(v);
        if (!n.empty()) ce.values.insert(n);
      }
      c.exceptions.push_back(std::move(ce));
    }
    return c;
  }

  Status AddSlots(const std::string& owner, const std::vector<BlockingKeyConfig>& keys, const std::string& what,
                  int source, const std::vector<bool>& allowed) {
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& k = keys[i];
      Slot s;
      s.owner = owner;
      s.method = k.sorted_neighbourhood() ? BlockingMethod::kSortedNeighbourhood : BlockingMethod::kExact;
      s.window = k.window;
      s.source = source;
      s.allowed = allowed;
      bool metaphone = false;
      const std::vector<BlockingItemConfig> items = k.Items();
      for (size_t j = 0; j < items.size(); ++j) {
        const auto& item = items[j];
        std::string where = what + "[" + std::to_string(i) + "]" + (k.items.empty() ? "" : ".key[" + std::to_string(j) + "]");
        CDP_ASSIGN_OR_RETURN(int fi, Feature(where, item.field, item.normalize, false));
        s.items.push_back(SlotItem{fi, item.method, item.length});
        metaphone |= item.method == BlockingMethod::kMetaphone;
      }
      slots.push_back(s);
      if (metaphone) {
        s.alternate = true;
        slots.push_back(s);
      }
    }
    return Status::Ok();
  }

  // A rule needs a way to its candidate pairs: an exact condition on the same
  // attribute of both records, or blocking keys. Exact conditions with
  // `other` compare two attributes, so they cannot be a key.
  static Status CheckBlockable(const CompiledRule& rule, const MatchRuleConfig& config, const std::string& what) {
    if (!rule.asymmetric || !config.blocking.empty()) return Status::Ok();
    for (const auto& c : rule.conditions) {
      if (c.kind == CompareKind::kExact && c.other.empty()) return Status::Ok();
    }
    return InvalidArgumentError(what + ": conditions with 'other' compare two different fields and cannot form a "
                                       "blocking key; add an exact condition on the same field of both records or "
                                       "'blocking' keys");
  }

  // The slot of a rule's exact conditions, if any.
  void AddExactSlot(const CompiledRule& rule) {
    Slot s;
    s.owner = rule.name;
    s.source = rule.source;
    s.allowed = rule.allowed;
    for (const auto& c : rule.conditions) {
      if (c.kind == CompareKind::kExact && c.other.empty()) s.items.push_back(SlotItem{c.feature});
    }
    if (!s.items.empty()) slots.push_back(std::move(s));
  }

  bool InSlot(const Slot& s, RecordId r) const {
    uint16_t src = rs->source_of(r);
    if (s.source >= 0) return src == s.source;
    return s.allowed[src];
  }

  // The key text of a record in a slot; false when a field is empty.
  bool KeyText(const Slot& s, RecordId r, std::string* out) const {
    out->clear();
    for (size_t i = 0; i < s.items.size(); ++i) {
      const SlotItem& item = s.items[i];
      std::string_view v = rs->feature(item.feature).value(r);
      if (v.empty()) return false;
      if (i) out->push_back('\x1f');
      switch (item.method) {
        case BlockingMethod::kExact:
        case BlockingMethod::kSortedNeighbourhood: out->append(v); break;
        case BlockingMethod::kPrefix: out->append(Utf8PrefixCodePoints(v, static_cast<size_t>(std::max<int64_t>(item.length, 0)))); break;
        case BlockingMethod::kSoundex: {
          std::string code = Soundex(v);
          if (code.empty()) return false;
          out->append(code);
          break;
        }
        case BlockingMethod::kMetaphone: {
          DoubleMetaphoneCodes codes = DoubleMetaphone(v);
          const std::string& code = s.alternate ? codes.alternate : codes.primary;
          if (code.empty() || (s.alternate && codes.alternate == codes.primary)) return false;
          out->append(code);
          break;
        }
      }
    }
    return true;
  }

  // Rules that may judge a pair of these sources.
  bool RuleApplies(const CompiledRule& rule, uint16_t sa, uint16_t sb) const {
    if (rule.source >= 0) return sa == sb && sa == rule.source;
    return sa != sb && rule.allowed[sa] && rule.allowed[sb];
  }

  bool Relevant(RecordId a, RecordId b) const {
    uint16_t sa = rs->source_of(a), sb = rs->source_of(b);
    if (sa == sb) return !dedup_rules_of[sa].empty() || probabilistic;
    if (probabilistic) return true;
    for (int r : match_rules) {
      if (RuleApplies(rules[static_cast<size_t>(r)], sa, sb)) return true;
    }
    return false;
  }

  // Evaluates a condition: a's `field` against b's `other` (or `field`);
  // similarity out. Empty values never match.
  bool Condition(const CompiledCondition& c, RecordId a, RecordId b, double* similarity) const {
    const FeatureColumn& f = rs->feature(c.feature);
    const FeatureColumn& g = rs->feature(c.other_feature);
    *similarity = 0;
    if (IsNumericCompare(c.kind)) {
      if (!f.has_number(a) || !g.has_number(b)) return false;
      double d = std::fabs(f.number(a) - g.number(b));
      if (d > c.tolerance + 1e-9) return false;
      *similarity = c.tolerance > 0 ? 1.0 - d / (c.tolerance + 1) : 1.0;
      return true;
    }
    std::string_view va = f.value(a), vb = g.value(b);
    if (va.empty() || vb.empty()) return false;
    switch (c.kind) {
      case CompareKind::kExact:
        if (va != vb) return false;
        *similarity = 1;
        return true;
      case CompareKind::kFuzzy: return EditSimilarityAtLeast(va, vb, c.threshold, similarity);
      case CompareKind::kJaroWinkler: {
        double s = JaroWinkler(va, vb);
        *similarity = s;
        return s >= c.threshold;
      }
      case CompareKind::kTokenSet: {
        double s = TokenSetSimilarity(va, vb);
        *similarity = s;
        return s >= c.threshold;
      }
      default: return false;
    }
  }

  // Index of the exception that blocks the rule, or -1.
  int Exception(const CompiledRule& rule, RecordId a, RecordId b) const {
    for (size_t i = 0; i < rule.exceptions.size(); ++i) {
      const auto& e = rule.exceptions[i];
      const FeatureColumn& f = rs->feature(e.feature);
      for (RecordId r : {a, b}) {
        std::string_view v = f.value(r);
        if (!v.empty() && e.values.count(std::string(v))) return static_cast<int>(i);
      }
    }
    return -1;
  }

  // A guard's verdict on a pair: kEmpty when a record has no value (never
  // blocks), kHolds / kHoldsSwapped when the comparison passes (field against
  // field, or one record's field against the other's `other`), else kFails.
  GuardVerdict Guard(const CompiledGuard& g, RecordId a, RecordId b, double* similarity) const {
    const CompiledCondition& d = g.direct;
    const FeatureColumn& f = rs->feature(d.feature);
    *similarity = 0;
    bool empty = IsNumericCompare(d.kind) ? (!f.has_number(a) || !f.has_number(b)) : (f.empty(a) || f.empty(b));
    if (empty) return GuardVerdict::kEmpty;
    if (Condition(d, a, b, similarity)) return GuardVerdict::kHolds;
    double s = 0;
    if (g.has_other && (Condition(g.crossed, a, b, &s) || Condition(g.crossed, b, a, &s))) {
      *similarity = s;
      return GuardVerdict::kHoldsSwapped;
    }
    if (!IsNumericCompare(d.kind) && d.kind != CompareKind::kExact) {
      *similarity = d.kind == CompareKind::kJaroWinkler ? JaroWinkler(f.value(a), f.value(b))
                    : d.kind == CompareKind::kTokenSet  ? TokenSetSimilarity(f.value(a), f.value(b))
                                                        : EditSimilarity(f.value(a), f.value(b));
    }
    return GuardVerdict::kFails;
  }

  bool AnyGuardFails(const std::vector<CompiledGuard>& guards, RecordId a, RecordId b) const {
    for (const auto& g : guards) {
      double s;
      if (Guard(g, a, b, &s) == GuardVerdict::kFails) return true;
    }
    return false;
  }

  // All conditions in the orientation (a, b); their summed similarity out.
  bool AllConditions(const CompiledRule& rule, RecordId a, RecordId b, double* sum) const {
    *sum = 0;
    for (const auto& c : rule.conditions) {
      double s;
      if (!Condition(c, a, b, &s)) return false;
      *sum += s;
    }
    return true;
  }

  // Whether the rule accepts the pair: its conditions in the orientation
  // (a, b) or, for an asymmetric rule, in (b, a) (the better score when both
  // hold); `swapped` out: judged as (b, a). A rule whose conditions hold is
  // still refused when one of its own guards fails (`guarded` out: true).
  bool Rule(const CompiledRule& rule, RecordId a, RecordId b, double* score, bool* swapped = nullptr,
            bool* guarded = nullptr) const {
    double sum = 0, reverse = 0;
    bool forward = AllConditions(rule, a, b, &sum);
    bool backward = rule.asymmetric && AllConditions(rule, b, a, &reverse);
    if (!forward && !backward) return false;
    if (!rule.exceptions.empty() && Exception(rule, a, b) >= 0) return false;
    if (!rule.guards.empty() && AnyGuardFails(rule.guards, a, b)) {
      if (guarded) *guarded = true;
      return false;
    }
    bool use_reverse = backward && (!forward || reverse > sum);
    if (swapped) *swapped = use_reverse;
    *score = (use_reverse ? reverse : sum) / static_cast<double>(rule.conditions.size());
    return true;
  }

  // First applicable rule of `list` accepting the pair, or -1. With
  // `count_refusals`, a rule refused by its guards is counted in guard_refusals.
  int JudgeWith(const std::vector<int>& list, RecordId a, RecordId b, double* score,
                bool count_refusals = false) const {
    uint16_t sa = rs->source_of(a), sb = rs->source_of(b);
    for (int r : list) {
      const CompiledRule& rule = rules[static_cast<size_t>(r)];
      if (!RuleApplies(rule, sa, sb)) continue;
      bool guarded = false;
      if (Rule(rule, a, b, score, nullptr, &guarded)) return r;
      if (guarded && count_refusals) guard_refusals[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
    }
    return -1;
  }

  // Level of a comparison for a pair (kFsNull when a side is missing).
  uint8_t Level(const CompiledComparison& c, RecordId a, RecordId b) const {
    for (size_t l = 0; l < c.levels.size(); ++l) {
      const ComparisonLevelConfig& lv = c.levels[l];
      CompiledCondition cond;
      cond.kind = lv.compare;
      cond.threshold = lv.threshold;
      cond.tolerance = lv.tolerance;
      cond.feature = IsNumericCompare(lv.compare) ? c.numeric_feature : c.feature;
      const FeatureColumn& f = rs->feature(cond.feature);
      bool missing = IsNumericCompare(lv.compare) ? (!f.has_number(a) || !f.has_number(b))
                                                  : (f.empty(a) || f.empty(b));
      if (missing) return kFsNull;
      double s;
      if (c.other_feature[l] >= 0) {
        // Swapped values: a's field against b's `other` and b's field
        // against a's `other`. Both, so that the field's comparison and the
        // `other` field's comparison (with the mirror level) are two pieces of
        // evidence, not one crosswise agreement counted twice.
        cond.other_feature = c.other_feature[l];
        if (Condition(cond, a, b, &s) && Condition(cond, b, a, &s)) return static_cast<uint8_t>(l);
        continue;
      }
      cond.other_feature = cond.feature;
      if (Condition(cond, a, b, &s)) return static_cast<uint8_t>(l);
    }
    return static_cast<uint8_t>(c.levels.size());  // else
  }

  // A guard's verdict for explain output; `passed`: the guard does not block.
  ConditionExplanation ExplainGuard(const CompiledGuard& g, RecordId a, RecordId b) const {
    const CompiledCondition& d = g.direct;
    ConditionExplanation ce;
    ce.field = ce.field_a = ce.field_b = d.field;
    ce.compare = DescribeComparison(d.kind, d.threshold, d.tolerance);
    if (IsNumericCompare(d.kind)) {
      ce.value_a = rs->RawValue(a, d.field);
      ce.value_b = rs->RawValue(b, d.field);
    } else {
      ce.value_a = std::string(rs->feature(d.feature).value(a));
      ce.value_b = std::string(rs->feature(d.feature).value(b));
    }
    GuardVerdict v = Guard(g, a, b, &ce.similarity);
    ce.passed = v != GuardVerdict::kFails;
    switch (v) {
      case GuardVerdict::kHolds: ce.note = "holds"; break;
      case GuardVerdict::kHoldsSwapped: ce.note = "holds with " + g.crossed.other + " swapped"; break;
      case GuardVerdict::kEmpty: ce.note = "a value is missing: no verdict"; break;
      case GuardVerdict::kFails: ce.note = "differs: the pair may not match"; break;
    }
    return ce;
  }

  void Vector(RecordId a, RecordId b, uint8_t* levels, double* tfs) const {
    for (size_t c = 0; c < comparisons.size(); ++c) {
      levels[c] = Level(comparisons[c], a, b);
      tfs[c] = std::numeric_limits<double>::quiet_NaN();
      if (comparisons[c].tf && levels[c] == 0 && c < tf.size()) {
        auto it = tf[c].find(rs->feature(comparisons[c].feature).value(a));
        if (it != tf[c].end()) tfs[c] = it->second;
      }
    }
  }

  // --- Probabilistic training (see unify/probabilistic/README.md) ---

  // One EM session per training key.
  struct TrainingKey {
    std::string name;         // e.g. "postcode", "soundex(surname)"
    std::vector<Slot> slots;  // a metaphone key has two (primary and alternate codes)
    std::set<std::string> fields;  // the attributes it uses
  };
  // Per comparison: whether `key` uses its field (or a level's `other`
  // field), so that the key's session does not train it.
  std::vector<bool> FixedBy(const TrainingKey& key) const {
    std::vector<bool> fixed;
    for (const auto& c : comparisons) {
      bool f = key.fields.count(c.field) > 0;
      for (const auto& l : c.levels) f = f || (!l.other.empty() && key.fields.count(l.other) > 0);
      fixed.push_back(f);
    }
    return fixed;
  }
  std::vector<TrainingKey> training_keys;
  // Per prior_rules entry: the rule's own blocking (its exact conditions and
  // keys), so that its matches are counted over all pairs.
  std::vector<std::vector<Slot>> prior_rule_slots;
  std::vector<int64_t> tf_records;  // per comparison: records with a value in this run

  // Moves the slots added since `before` out of `slots`.
  std::vector<Slot> DetachSlots(size_t before) {
    std::vector<Slot> out(std::make_move_iterator(slots.begin() + static_cast<std::ptrdiff_t>(before)),
                          std::make_move_iterator(slots.end()));
    slots.resize(before);
    return out;
  }

  // The blocks of a set of key slots over all records.
  struct BlockSet {
    std::vector<Slot> slots;
    std::vector<std::vector<uint64_t>> keys;  // per slot, per record (0: no key)
    std::vector<std::vector<std::pair<uint64_t, RecordId>>> lists;
    std::vector<std::unordered_set<uint64_t>> too_big;
    struct Block {
      uint32_t slot;
      uint64_t begin, end;
    };
    std::vector<Block> blocks;
    int64_t estimated_pairs = 0;  // pairs in the blocks (a pair joined by two slots counts twice)
  };

  BlockSet BuildBlockSet(const std::vector<Slot>& key_slots, int threads, int64_t max_block) const {
    BlockSet bs;
    const size_t n = rs->size();
    bs.slots = key_slots;
    bs.keys.assign(key_slots.size(), std::vector<uint64_t>(n, 0));
    bs.lists.resize(key_slots.size());
    bs.too_big.resize(key_slots.size());
    for (size_t s = 0; s < key_slots.size(); ++s) {
      const Slot& slot = key_slots[s];
      const bool sn = slot.method == BlockingMethod::kSortedNeighbourhood;
      std::vector<std::string> text(sn ? n : 0);
      auto& k = bs.keys[s];
      ParallelFor(threads, n, 16384, [&](size_t begin, size_t end, int) {
        std::string t;
        for (size_t r = begin; r < end; ++r) {
          RecordId id = static_cast<RecordId>(r);
          if (!InSlot(slot, id) || !KeyText(slot, id, &t)) continue;
          uint64_t h = XXH3_64bits_withSeed(t.data(), t.size(), s + 1);
          k[r] = h == 0 ? 1 : h;
          if (sn) text[r] = t;
        }
      });
      auto& list = bs.lists[s];
      for (size_t r = 0; r < n; ++r) {
        if (k[r]) list.emplace_back(k[r], static_cast<RecordId>(r));
      }
      if (sn) {
        std::sort(list.begin(), list.end(), [&](const auto& x, const auto& y) {
          int c = text[x.second].compare(text[y.second]);
          return c != 0 ? c < 0 : x.second < y.second;
        });
        for (uint64_t i = 0; i < list.size(); i += 4096) {
          bs.blocks.push_back({static_cast<uint32_t>(s), i, std::min<uint64_t>(list.size(), i + 4096)});
        }
        bs.estimated_pairs += static_cast<int64_t>(list.size()) * std::max<int64_t>(slot.window - 1, 0);
        continue;
      }
      std::sort(list.begin(), list.end());
      for (uint64_t i = 0; i < list.size();) {
        uint64_t j = i + 1;
        while (j < list.size() && list[j].first == list[i].first) ++j;
        const uint64_t size = j - i;
        if (size > static_cast<uint64_t>(max_block)) {
          bs.too_big[s].insert(list[i].first);
        } else if (size > 1) {
          bs.blocks.push_back({static_cast<uint32_t>(s), i, j});
          bs.estimated_pairs += static_cast<int64_t>(size * (size - 1) / 2);
        }
        i = j;
      }
    }
    // Big blocks first, so the morsels at the end are small.
    std::sort(bs.blocks.begin(), bs.blocks.end(), [](const BlockSet::Block& x, const BlockSet::Block& y) {
      uint64_t sx = x.end - x.begin, sy = y.end - y.begin;
      return sx != sy ? sx > sy : (x.slot != y.slot ? x.slot < y.slot : x.begin < y.begin);
    });
    return bs;
  }

  // Calls visit(worker, a, b) (a < b) once for every pair of records the
  // block set joins, on `threads` workers.
  template <typename Visit>
  void VisitBlockSet(const BlockSet& bs, int threads, Visit&& visit) const {
    auto seen_earlier = [&](uint32_t slot, RecordId a, RecordId b) {
      for (uint32_t s = 0; s < slot; ++s) {
        if (bs.slots[s].method == BlockingMethod::kSortedNeighbourhood) continue;
        uint64_t ka = bs.keys[s][a];
        if (ka != 0 && ka == bs.keys[s][b] && !bs.too_big[s].count(ka)) return true;
      }
      return false;
    };
    ParallelFor(threads, bs.blocks.size(), 1, [&](size_t begin, size_t end, int worker) {
      for (size_t i = begin; i < end; ++i) {
        const BlockSet::Block& block = bs.blocks[i];
        const auto& list = bs.lists[block.slot];
        const bool sn = bs.slots[block.slot].method == BlockingMethod::kSortedNeighbourhood;
        for (uint64_t x = block.begin; x < block.end; ++x) {
          const uint64_t last = sn ? std::min<uint64_t>(list.size(), x + static_cast<uint64_t>(bs.slots[block.slot].window))
                                   : block.end;
          for (uint64_t y = x + 1; y < last; ++y) {
            RecordId a = std::min(list[x].second, list[y].second), b = std::max(list[x].second, list[y].second);
            if (a == b || seen_earlier(block.slot, a, b)) continue;
            visit(worker, a, b);
          }
        }
      }
    });
  }

  // Pairs accepted by the prior rules, over all pairs (each rule blocked by
  // its own exact conditions and keys): the number of distinct pairs, and
  // per rule how many it accepted.
  // Per comparison: whether `rule` chose its pairs by the comparison's field (a condition's or
  // guard's field or other, also through a level's `other`), so that its pairs say nothing
  // about that comparison's m.
  std::vector<bool> FixedByRule(const CompiledRule& rule) const {
    std::set<std::string> fields;
    for (const CompiledCondition& c : rule.conditions) {
      fields.insert(c.field);
      if (!c.other.empty()) fields.insert(c.other);
    }
    for (const CompiledGuard& g : rule.guards) {
      fields.insert(g.direct.field);
      if (g.has_other) fields.insert(g.crossed.other);
    }
    TrainingKey key;
    key.fields = std::move(fields);
    return FixedBy(key);
  }

  // Pairs accepted by the prior rules, over all pairs (each rule blocked by
  // its own exact conditions and keys): the number of distinct pairs, and
  // per rule how many it accepted. With `labelled` (probabilistic.rule_labels):
  // per rule, the comparison vectors of its pairs, sampled to at most
  // `max_pairs` (by a hash of the pair and `seed`, as the training sessions).
  int64_t CountPriorRuleMatches(int threads, int64_t max_block, std::vector<MatchStats::PriorRule>* per_rule,
                                std::vector<FsLabelledMatches>* labelled = nullptr, int64_t max_pairs = 0,
                                uint64_t seed = 0) const {
    std::vector<std::pair<RecordId, RecordId>> all;
    const size_t nc = comparisons.size();
    for (size_t i = 0; i < prior_rules.size(); ++i) {
      const CompiledRule& rule = rules[static_cast<size_t>(prior_rules[i])];
      BlockSet bs = BuildBlockSet(prior_rule_slots[i], threads, max_block);
      std::vector<std::vector<std::pair<RecordId, RecordId>>> found(static_cast<size_t>(threads));
      VisitBlockSet(bs, threads, [&](int worker, RecordId a, RecordId b) {
        if (!rule.allowed[rs->source_of(a)] || !rule.allowed[rs->source_of(b)]) return;
        double score;
        if (Rule(rule, a, b, &score)) found[static_cast<size_t>(worker)].emplace_back(a, b);
      });
      int64_t count = 0;
      for (auto& f : found) {
        count += static_cast<int64_t>(f.size());
        all.insert(all.end(), f.begin(), f.end());
      }
      per_rule->push_back(MatchStats::PriorRule{rule.name, count});
      if (!labelled) continue;
      FsLabelledMatches set;
      set.name = rule.name;
      set.fixed = FixedByRule(rule);
      set.pairs.num_comparisons = nc;
      std::vector<std::pair<RecordId, RecordId>> pairs;
      for (const auto& f : found) pairs.insert(pairs.end(), f.begin(), f.end());
      std::sort(pairs.begin(), pairs.end());
      const double rate = count > max_pairs ? static_cast<double>(max_pairs) / static_cast<double>(count) : 1.0;
      const uint64_t cut = rate >= 1 ? std::numeric_limits<uint64_t>::max()
                                     : static_cast<uint64_t>(rate * 18446744073709551615.0);
      std::vector<uint8_t> lv(nc);
      std::vector<double> tv(nc);
      for (const auto& [a, b] : pairs) {
        uint64_t z = ((static_cast<uint64_t>(a) << 32) | b) + (seed + i) * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        if (z > cut) continue;
        Vector(a, b, lv.data(), tv.data());
        set.pairs.Add(lv.data());
      }
      labelled->push_back(std::move(set));
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return static_cast<int64_t>(all.size());
  }

  // The EM session of one training key: the comparison vectors of the pairs
  // it joins, sampled to at most `max_pairs` (deterministically, by a hash of
  // the pair and `seed`), and the labelled pairs among them.
  FsTrainingSession TrainingSession(const TrainingKey& key, int threads, int64_t max_block, int64_t max_pairs,
                                    uint64_t seed,
                                    const std::unordered_map<uint64_t, bool>& labels) const {
    const size_t nc = comparisons.size();
    BlockSet bs = BuildBlockSet(key.slots, threads, max_block);
    const double rate = bs.estimated_pairs > max_pairs
                            ? static_cast<double>(max_pairs) / static_cast<double>(bs.estimated_pairs)
                            : 1.0;
    const uint64_t cut = rate >= 1 ? std::numeric_limits<uint64_t>::max()
                                   : static_cast<uint64_t>(rate * 18446744073709551615.0);
    const size_t workers = static_cast<size_t>(threads);
    std::vector<FsPairs> pairs(workers), labelled(workers);
    std::vector<std::vector<bool>> label_values(workers);
    std::vector<int64_t> blocked(workers, 0);
    std::vector<std::vector<uint8_t>> level_buffer(workers, std::vector<uint8_t>(nc));
    std::vector<std::vector<double>> tf_buffer(workers, std::vector<double>(nc));
    for (size_t w = 0; w < workers; ++w) pairs[w].num_comparisons = labelled[w].num_comparisons = nc;
    VisitBlockSet(bs, threads, [&](int worker, RecordId a, RecordId b) {
      const size_t w = static_cast<size_t>(worker);
      ++blocked[w];
      const uint64_t id = (static_cast<uint64_t>(a) << 32) | b;
      std::optional<bool> label;
      if (!labels.empty()) {
        auto it = labels.find(id);
        if (it != labels.end()) label = it->second;
      }
      if (!label) {
        // splitmix64 of the pair and the seed: a uniform, order-free sample.
        uint64_t z = id + seed * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        if (z > cut) return;
      }
      uint8_t* lp = level_buffer[w].data();
      Vector(a, b, lp, tf_buffer[w].data());
      if (label) {
        labelled[w].Add(lp);
        label_values[w].push_back(*label);
      } else {
        pairs[w].Add(lp);
      }
    });
    FsTrainingSession session;
    session.name = key.name;
    session.fixed = FixedBy(key);
    session.pairs.num_comparisons = session.labelled.num_comparisons = nc;
    for (size_t w = 0; w < workers; ++w) {
      session.pairs.levels.insert(session.pairs.levels.end(), pairs[w].levels.begin(), pairs[w].levels.end());
      session.labelled.levels.insert(session.labelled.levels.end(), labelled[w].levels.begin(),
                                     labelled[w].levels.end());
      session.labels.insert(session.labels.end(), label_values[w].begin(), label_values[w].end());
      session.blocked_pairs += blocked[w];
    }
    return session;
  }

  // Term frequencies of the tf comparisons: a value's count among the records
  // divided by `given`'s tf_records when it has them (a stored model keeps its
  // denominators), else by the records with a value now.
  void ComputeTermFrequencies(const FsModel* given) {
    tf.assign(comparisons.size(), {});
    tf_records.assign(comparisons.size(), 0);
    for (size_t c = 0; c < comparisons.size(); ++c) {
      if (!comparisons[c].tf) continue;
      const FeatureColumn& f = rs->feature(comparisons[c].feature);
      std::unordered_map<std::string_view, double> counts;
      int64_t total = 0;
      for (RecordId r = 0; r < rs->size(); ++r) {
        if (f.empty(r)) continue;
        counts[f.value(r)] += 1;
        ++total;
      }
      tf_records[c] = total;
      int64_t denominator = total;
      if (given && c < given->comparisons.size() && given->comparisons[c].tf_records > 0) {
        denominator = given->comparisons[c].tf_records;
      }
      for (auto& [v, cnt] : counts) cnt /= static_cast<double>(std::max<int64_t>(denominator, 1));
      tf[c] = std::move(counts);
    }
  }
};

Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::~Matcher() = default;

StatusOr<std::unique_ptr<Matcher>> Matcher::Create(const UnifyConfig& config, RecordSet* records) {
  auto impl = std::make_unique<Impl>();
  impl->config = &config;
  impl->rs = records;
  impl->probabilistic = config.mode == UnifyMode::kProbabilistic;
  impl->dedup_rules_of.resize(records->num_sources());
  std::vector<std::string> names;
  for (size_t i = 0; i < config.rules.size(); ++i) {
    std::string what = "unification.rules[" + std::to_string(i) + "] '" + config.rules[i].name + "'";
    CDP_ASSIGN_OR_RETURN(CompiledRule rule, impl->CompileRule(config.rules[i], what, -1));
    rule.order = static_cast<int>(i);
    rule.list_size = static_cast<int>(config.rules.size());
    if (!impl->probabilistic) impl->match_rules.push_back(static_cast<int>(impl->rules.size()));
    names.push_back(rule.name);
    impl->rules.push_back(std::move(rule));
  }
  for (size_t s = 0; s < config.sources.size(); ++s) {
    const auto& dedup = config.sources[s].dedup;
    for (size_t i = 0; i < dedup.rules.size(); ++i) {
      std::string what = "unification.sources[" + std::to_string(s) + "].dedup.rules[" + std::to_string(i) + "] '" +
                         dedup.rules[i].name + "'";
      CDP_ASSIGN_OR_RETURN(CompiledRule rule, impl->CompileRule(dedup.rules[i], what, static_cast<int>(s)));
      rule.order = static_cast<int>(i);
      rule.list_size = static_cast<int>(dedup.rules.size());
      impl->dedup_rules_of[s].push_back(static_cast<int>(impl->rules.size()));
      names.push_back(config.sources[s].source + "/" + rule.name);
      impl->rules.push_back(std::move(rule));
    }
  }
  for (size_t i = 0; i < config.guards.size(); ++i) {
    CDP_ASSIGN_OR_RETURN(CompiledGuard g,
                         impl->CompileGuard(config.guards[i], "unification.guards[" + std::to_string(i) + "]"));
    impl->global_guards.push_back(std::move(g));
  }
  impl->guard_refusals = std::make_unique<std::atomic<int64_t>[]>(impl->rules.size() + 1);
  std::vector<bool> all(records->num_sources(), true);
  if (!impl->probabilistic) {
    for (size_t i = 0; i < config.rules.size(); ++i) {
      CDP_RETURN_IF_ERROR(Impl::CheckBlockable(impl->rules[i], config.rules[i],
                                               "unification.rules[" + std::to_string(i) + "] '" +
                                                   config.rules[i].name + "'"));
      impl->AddExactSlot(impl->rules[i]);
      CDP_RETURN_IF_ERROR(impl->AddSlots(config.rules[i].name, config.rules[i].blocking,
                                         "unification.rules[" + std::to_string(i) + "].blocking", -1,
                                         impl->rules[i].allowed));
    }
  } else {
    const ProbabilisticConfig& p = config.probabilistic;
    CDP_RETURN_IF_ERROR(impl->AddSlots("probabilistic", p.blocking, "unification.probabilistic.blocking", -1, all));
    for (size_t i = 0; i < p.comparisons.size(); ++i) {
      const auto& c = p.comparisons[i];
      std::string what = "unification.probabilistic.comparisons[" + std::to_string(i) + "]";
      CompiledComparison cc;
      cc.field = c.field;
      cc.levels = c.levels;
      cc.tf = c.term_frequency;
      bool numeric = false, text = false;
      for (const auto& l : c.levels) (IsNumericCompare(l.compare) ? numeric : text) = true;
      if (text || !numeric) {
        CDP_ASSIGN_OR_RETURN(cc.feature, impl->Feature(what, c.field, c.normalize, false));
      }
      if (numeric) {
        CDP_ASSIGN_OR_RETURN(cc.numeric_feature, impl->Feature(what, c.field, {}, true));
      }
      if (cc.feature < 0) cc.feature = cc.numeric_feature;
      for (size_t l = 0; l < c.levels.size(); ++l) {
        const auto& lv = c.levels[l];
        int other = -1;
        if (!lv.other.empty() && lv.other != c.field) {
          CDP_ASSIGN_OR_RETURN(other, impl->Feature(what + ".levels[" + std::to_string(l) + "].other", lv.other,
                                                    IsNumericCompare(lv.compare) ? std::vector<std::string>{}
                                                                                 : c.normalize,
                                                    IsNumericCompare(lv.compare)));
        }
        cc.other_feature.push_back(other);
      }
      impl->comparisons.push_back(std::move(cc));
    }
    for (size_t i = 0; i < config.rules.size(); ++i) {
      bool use = p.prior_rules.empty() ||
                 std::find(p.prior_rules.begin(), p.prior_rules.end(), config.rules[i].name) != p.prior_rules.end();
      if (use) impl->prior_rules.push_back(static_cast<int>(i));
    }
    // Each prior rule's own blocking, to count its matches over all pairs.
    for (int r : impl->prior_rules) {
      const size_t before = impl->slots.size();
      const auto& rule_config = config.rules[static_cast<size_t>(r)];
      impl->AddExactSlot(impl->rules[static_cast<size_t>(r)]);
      CDP_RETURN_IF_ERROR(impl->AddSlots(rule_config.name, rule_config.blocking,
                                         "unification.rules[" + std::to_string(r) + "].blocking", -1,
                                         impl->rules[static_cast<size_t>(r)].allowed));
      impl->prior_rule_slots.push_back(impl->DetachSlots(before));
      if (impl->prior_rule_slots.back().empty()) {
        return InvalidArgumentError("unification.rules[" + std::to_string(r) + "] '" + rule_config.name +
                                    "': a prior rule needs an exact condition on the same field of both records "
                                    "or 'blocking' keys, to count its matches over all pairs");
      }
    }
    // Training keys (default: each blocking key on its own); a key fixes the
    // comparisons whose field (or a level's `other` field) it uses.
    const bool default_training = p.training.empty();
    const std::vector<BlockingKeyConfig>& training = default_training ? p.blocking : p.training;
    for (size_t i = 0; i < training.size(); ++i) {
      Impl::TrainingKey key;
      std::set<std::string> used;
      for (const auto& item : training[i].Items()) {
        used.insert(item.field);
        std::string part = item.field;
        if (item.method == BlockingMethod::kPrefix) {
          part = "prefix" + std::to_string(item.length) + "(" + part + ")";
        } else if (item.method != BlockingMethod::kExact) {
          part = std::string(BlockingMethodName(item.method)) + "(" + part + ")";
        }
        key.name += (key.name.empty() ? "" : "+") + part;
      }
      if (training[i].sorted_neighbourhood()) key.name = "sorted_neighbourhood(" + key.name + ")";
      key.fields = std::move(used);
      const size_t before = impl->slots.size();
      CDP_RETURN_IF_ERROR(impl->AddSlots("probabilistic training", {training[i]},
                                         std::string("unification.probabilistic.") +
                                             (default_training ? "blocking[" : "training[") + std::to_string(i) + "]",
                                         -1, all));
      key.slots = impl->DetachSlots(before);
      impl->training_keys.push_back(std::move(key));
    }
    names.push_back("probabilistic");
  }
  for (size_t s = 0; s < config.sources.size(); ++s) {
    for (size_t i = 0; i < config.sources[s].dedup.rules.size(); ++i) {
      int r = impl->dedup_rules_of[s][i];
      CDP_RETURN_IF_ERROR(Impl::CheckBlockable(impl->rules[static_cast<size_t>(r)], config.sources[s].dedup.rules[i],
                                               "unification.sources[" + std::to_string(s) + "].dedup.rules[" +
                                                   std::to_string(i) + "] '" + config.sources[s].dedup.rules[i].name +
                                                   "'"));
      impl->AddExactSlot(impl->rules[static_cast<size_t>(r)]);
      CDP_RETURN_IF_ERROR(impl->AddSlots(config.sources[s].dedup.rules[i].name, config.sources[s].dedup.rules[i].blocking,
                                         "unification.sources[" + std::to_string(s) + "].dedup.rules[" +
                                             std::to_string(i) + "].blocking",
                                         static_cast<int>(s), all));
    }
  }
  names.push_back("override");
  std::unique_ptr<Matcher> m(new Matcher(std::move(impl)));
  m->rule_names_ = std::move(names);
  return m;
}

StatusOr<std::vector<MatchPair>> Matcher::Run(int threads, const std::function<void(const MatcherProgress&)>& progress,
                                              const FsModel* given_model, const std::vector<LabelledPair>* labels) {
  Impl& im = *impl_;
  const RecordSet& rs = *im.rs;
  const size_t n = rs.size();
  const UnifyConfig& config = *im.config;
  threads = ResolveThreads(threads);
  stats_ = MatchStats();
  review_pairs_.clear();
  stats_.records = static_cast<int64_t>(n);
  stats_.pairs_per_rule.assign(rule_names_.size(), 0);
  stats_.guard_refusals_per_rule.assign(rule_names_.size(), 0);
  for (size_t r = 0; r < im.rules.size(); ++r) im.guard_refusals[r].store(0);
  auto report = [&](std::string_view step, int64_t done, int64_t total) {
    if (progress) progress(MatcherProgress{step, done, total});
  };

  // 1. Blocking keys: one hash per record and slot (0 = no key).
  auto t0 = std::chrono::steady_clock::now();
  const size_t num_slots = im.slots.size();
  std::vector<std::vector<uint64_t>> keys(num_slots);
  // Sorted (hash or order, record) lists per slot, and the runs to compare.
  struct Run {
    uint32_t slot;
    uint64_t begin, end;  // into sorted[slot]
  };
  std::vector<std::vector<std::pair<uint64_t, RecordId>>> sorted(num_slots);
  std::vector<std::unordered_set<uint64_t>> capped(num_slots);
  std::vector<Run> runs;
  report("blocking", 0, static_cast<int64_t>(num_slots));
  for (size_t s = 0; s < num_slots; ++s) {
    const Slot& slot = im.slots[s];
    auto& k = keys[s];
    k.assign(n, 0);
    bool sn = slot.method == BlockingMethod::kSortedNeighbourhood;
    std::vector<std::string> sn_text;
    if (sn) sn_text.resize(n);
    ParallelFor(threads, n, 16384, [&](size_t begin, size_t end, int) {
      std::string text;
      for (size_t r = begin; r < end; ++r) {
        RecordId id = static_cast<RecordId>(r);
        if (!im.InSlot(slot, id) || !im.KeyText(slot, id, &text)) continue;
        uint64_t h = XXH3_64bits_withSeed(text.data(), text.size(), s + 1);
        k[r] = h == 0 ? 1 : h;
        if (sn) sn_text[r] = text;
      }
    });
    auto& list = sorted[s];
    for (size_t r = 0; r < n; ++r) {
      if (k[r]) list.emplace_back(k[r], static_cast<RecordId>(r));
    }
    if (sn) {
      std::sort(list.begin(), list.end(), [&](const auto& x, const auto& y) {
        int c = sn_text[x.second].compare(sn_text[y.second]);
        return c != 0 ? c < 0 : x.second < y.second;
      });
      // Windows: each record against the next window-1; split into morsels.
      for (uint64_t i = 0; i < list.size(); i += 4096) runs.push_back(Run{static_cast<uint32_t>(s), i, std::min<uint64_t>(list.size(), i + 4096)});
    } else {
      std::sort(list.begin(), list.end());
      std::string text;
      for (uint64_t i = 0; i < list.size();) {
        uint64_t j = i + 1;
        while (j < list.size() && list[j].first == list[i].first) ++j;
        uint64_t size = j - i;
        if (size > static_cast<uint64_t>(config.max_block_size)) {
          capped[s].insert(list[i].first);
          im.KeyText(slot, list[i].second, &text);
          for (char& c : text) {
            if (c == '\x1f') c = '|';
          }
          stats_.skipped_blocks.push_back(SkippedBlock{slot.owner, text, static_cast<int64_t>(size)});
        } else if (size > 1) {
          runs.push_back(Run{static_cast<uint32_t>(s), i, j});
        }
        i = j;
      }
    }
    report("blocking", static_cast<int64_t>(s + 1), static_cast<int64_t>(num_slots));
  }
  std::sort(stats_.skipped_blocks.begin(), stats_.skipped_blocks.end(),
            [](const SkippedBlock& a, const SkippedBlock& b) { return a.records > b.records; });
  stats_.seconds_blocking = SecondsSince(t0);
  // Incremental runs compare only the pairs with a record the filter marks.
  std::vector<uint8_t> compare_mask;
  if (compare_filter_) compare_filter_(keys, &compare_mask);
  auto masked = [&](RecordId a, RecordId b) { return !compare_mask.empty() && !compare_mask[a] && !compare_mask[b]; };

  // A pair is compared in the first slot (in slot order) that joins it; later
  // slots skip it. Sorted-neighbourhood slots cannot be looked up that way, so
  // their duplicates are removed after judging.
  auto seen_earlier = [&](uint32_t slot, RecordId a, RecordId b) {
    for (uint32_t s = 0; s < slot; ++s) {
      if (im.slots[s].method == BlockingMethod::kSortedNeighbourhood) continue;
      uint64_t ka = keys[s][a];
      if (ka != 0 && ka == keys[s][b] && !capped[s].count(ka)) return true;
    }
    return false;
  };
  // Visits the candidate pairs of one run.
  auto for_pairs = [&](const Run& run, auto&& visit) {
    const auto& list = sorted[run.slot];
    const Slot& slot = im.slots[run.slot];
    if (slot.method == BlockingMethod::kSortedNeighbourhood) {
      for (uint64_t i = run.begin; i < run.end; ++i) {
        for (uint64_t j = i + 1; j < list.size() && j < i + static_cast<uint64_t>(slot.window); ++j) {
          RecordId a = std::min(list[i].second, list[j].second), b = std::max(list[i].second, list[j].second);
          if (masked(a, b) || !im.Relevant(a, b) || seen_earlier(run.slot, a, b)) continue;
          visit(a, b);
        }
      }
      return;
    }
    for (uint64_t i = run.begin; i < run.end; ++i) {
      for (uint64_t j = i + 1; j < run.end; ++j) {
        RecordId a = std::min(list[i].second, list[j].second), b = std::max(list[i].second, list[j].second);
        if (masked(a, b) || !im.Relevant(a, b) || seen_earlier(run.slot, a, b)) continue;
        visit(a, b);
      }
    }
  };
  // Big runs first, so the morsels at the end are small.
  std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) {
    uint64_t sx = x.end - x.begin, sy = y.end - y.begin;
    return sx != sy ? sx > sy : (x.slot != y.slot ? x.slot < y.slot : x.begin < y.begin);
  });

  auto t1 = std::chrono::steady_clock::now();
  std::vector<std::vector<MatchPair>> accepted(static_cast<size_t>(threads));
  std::vector<int64_t> candidates(static_cast<size_t>(threads), 0);
  const int override_rule = static_cast<int>(rule_names_.size()) - 1;
  (void)override_rule;
  std::atomic<int64_t> runs_done{0};
  auto progress_tick = [&](size_t count) {
    int64_t d = runs_done.fetch_add(static_cast<int64_t>(count)) + static_cast<int64_t>(count);
    return d;
  };

  // Dedup rules judge same-source pairs in both modes.
  auto judge_rules = [&](RecordId a, RecordId b, std::vector<MatchPair>* out) -> bool {
    uint16_t sa = rs.source_of(a), sb = rs.source_of(b);
    double score = 0;
    int r = sa == sb ? im.JudgeWith(im.dedup_rules_of[sa], a, b, &score, true)
                     : (im.probabilistic ? -1 : im.JudgeWith(im.match_rules, a, b, &score, true));
    if (r < 0) return false;
    const CompiledRule& rule = im.rules[static_cast<size_t>(r)];
    out->push_back(MatchPair{a, b, r, static_cast<float>(score),
                             static_cast<double>(rule.list_size - rule.order) + score});
    return true;
  };

  if (!im.probabilistic) {
    report("comparing", 0, static_cast<int64_t>(runs.size()));
    ParallelFor(threads, runs.size(), 1, [&](size_t begin, size_t end, int worker) {
      auto& out = accepted[static_cast<size_t>(worker)];
      int64_t& cand = candidates[static_cast<size_t>(worker)];
      for (size_t i = begin; i < end; ++i) {
        for_pairs(runs[i], [&](RecordId a, RecordId b) {
          ++cand;
          judge_rules(a, b, &out);
        });
      }
      int64_t d = progress_tick(end - begin);
      if (worker == 0 && (d & 1023) == 0) report("comparing", d, static_cast<int64_t>(runs.size()));
    });
    report("comparing", static_cast<int64_t>(runs.size()), static_cast<int64_t>(runs.size()));
  } else {
    // Probabilistic (unify/probabilistic/README.md): comparison vectors of
    // every candidate pair; u from random pairs; m by EM per training key;
    // the prior over all comparable pairs from the prior rules (or the data).
    const size_t nc = im.comparisons.size();
    const ProbabilisticConfig& pc = config.probabilistic;
    const int64_t comparable = static_cast<int64_t>(n) * (static_cast<int64_t>(n) - 1) / 2;
    im.ComputeTermFrequencies(given_model);
    struct Candidate {
      RecordId a, b;
    };
    std::vector<std::vector<Candidate>> cand_pairs(static_cast<size_t>(threads));
    std::vector<FsPairs> vectors(static_cast<size_t>(threads));
    std::vector<std::vector<double>> tfs(static_cast<size_t>(threads));
    for (auto& v : vectors) v.num_comparisons = nc;
    report("comparing", 0, static_cast<int64_t>(runs.size()));
    ParallelFor(threads, runs.size(), 1, [&](size_t begin, size_t end, int worker) {
      size_t w = static_cast<size_t>(worker);
      std::vector<uint8_t> lv(nc);
      std::vector<double> tv(nc);
      for (size_t i = begin; i < end; ++i) {
        for_pairs(runs[i], [&](RecordId a, RecordId b) {
          ++candidates[w];
          if (rs.source_of(a) == rs.source_of(b) && judge_rules(a, b, &accepted[w])) return;
          im.Vector(a, b, lv.data(), tv.data());
          cand_pairs[w].push_back(Candidate{a, b});
          vectors[w].levels.insert(vectors[w].levels.end(), lv.begin(), lv.end());
          tfs[w].insert(tfs[w].end(), tv.begin(), tv.end());
        });
      }
      int64_t d = progress_tick(end - begin);
      if (worker == 0 && (d & 1023) == 0) report("comparing", d, static_cast<int64_t>(runs.size()));
    });
    auto t2 = std::chrono::steady_clock::now();
    FsPairs all;
    all.num_comparisons = nc;
    int64_t total_candidates = 0;
    for (size_t w = 0; w < vectors.size(); ++w) {
      all.levels.insert(all.levels.end(), vectors[w].levels.begin(), vectors[w].levels.end());
      total_candidates += static_cast<int64_t>(cand_pairs[w].size());
    }
    // Labelled pairs (overrides), keyed (a << 32 | b) with a < b.
    std::unordered_map<uint64_t, bool> label_of;
    if (labels) {
      for (const LabelledPair& l : *labels) {
        if (l.a == l.b || l.a >= n || l.b >= n) continue;
        RecordId a = std::min(l.a, l.b), b = std::max(l.a, l.b);
        label_of[(static_cast<uint64_t>(a) << 32) | b] = l.match;
      }
    }
    if (given_model) {
      model_ = *given_model;
    } else {
      const size_t steps = im.training_keys.size() + 2;
      report("training", 0, static_cast<int64_t>(steps));
      if (total_candidates == 0) return FailedPreconditionError("probabilistic mode: blocking found no candidate pairs");
      // The prior: the deterministic rules' matches over all pairs / recall /
      // comparable pairs; with no rules, estimated from the data after EM.
      FsModel prior_info;
      prior_info.comparable_pairs = comparable;
      std::vector<FsLabelledMatches> rule_labels;  // the prior rules' pairs (probabilistic.rule_labels)
      double prior = 0;
      if (!im.prior_rules.empty()) {
        const int64_t hits =
            im.CountPriorRuleMatches(threads, config.max_block_size, &stats_.prior_rules,
                                     pc.rule_labels ? &rule_labels : nullptr, pc.max_training_pairs,
                                     static_cast<uint64_t>(pc.seed) + 1000);
        stats_.deterministic_prior_pairs = hits;
        if (hits == 0) {
          return FailedPreconditionError(
              "probabilistic mode: the deterministic rules (the prior rules) accepted no pair, so the prior match "
              "rate cannot be estimated; loosen the rules, or list none in probabilistic.prior_rules and leave "
              "'rules' out to estimate the prior from the data");
        }
        prior = EstimatePrior(hits, comparable, pc.prior_recall);
        prior_info.prior_method = "rules";
        prior_info.prior_matches = static_cast<double>(hits);
        prior_info.prior_recall = pc.prior_recall;
      }
      report("training", 1, static_cast<int64_t>(steps));
      // u-probabilities from random pairs.
      FsPairs random;
      random.num_comparisons = nc;
      std::mt19937_64 rng(static_cast<uint64_t>(pc.seed));
      std::uniform_int_distribution<uint64_t> pick(0, n - 1);
      std::vector<uint8_t> lv(nc);
      std::vector<double> tv(nc);
      int64_t want = std::min<int64_t>(pc.random_pairs, comparable);
      for (int64_t i = 0; i < want; ++i) {
        RecordId a = static_cast<RecordId>(pick(rng)), b = static_cast<RecordId>(pick(rng));
        if (a == b) continue;
        im.Vector(a, b, lv.data(), tv.data());
        random.levels.insert(random.levels.end(), lv.begin(), lv.end());
      }
      std::vector<FsComparisonSpec> specs;
      for (const auto& c : im.comparisons) {
        FsComparisonSpec spec;
        spec.name = c.field;
        for (const auto& l : c.levels) {
          std::string label = DescribeComparison(l.compare, l.threshold, l.tolerance);
          if (!l.other.empty() && l.other != c.field) label += " ~ " + l.other;
          spec.levels.push_back(std::move(label));
        }
        spec.levels.push_back("else");
        spec.tf_exact = c.tf;
        specs.push_back(std::move(spec));
      }
      // m: one EM session per training key.
      std::vector<FsTrainingSession> sessions;
      for (size_t k = 0; k < im.training_keys.size(); ++k) {
        sessions.push_back(im.TrainingSession(im.training_keys[k], threads, config.max_block_size,
                                              pc.max_training_pairs, static_cast<uint64_t>(pc.seed) + k, label_of));
        report("training", static_cast<int64_t>(k + 2), static_cast<int64_t>(steps));
      }
      FsTrainingOptions training_options;
      training_options.household_class = pc.household_class;
      auto trained = TrainFsModel(specs, random, sessions, prior, prior_info, training_options, rule_labels);
      if (!trained.ok()) return trained.status().WithContext("unification.probabilistic");
      if (prior == 0) {
        CDP_RETURN_IF_ERROR(
            EstimatePriorFromPairs(all, comparable, &*trained).WithContext("unification.probabilistic: prior"));
      }
      for (size_t c = 0; c < nc; ++c) {
        if (im.comparisons[c].tf) trained->comparisons[c].tf_records = im.tf_records[c];
      }
      // The household component of the non-matches (probabilistic.household_keys): the
      // comparisons a household shares agree together, so their joint agreement is scored once.
      std::vector<size_t> household;
      for (size_t c = 0; c < nc; ++c) {
        const auto& keys = pc.household_keys;
        if (std::find(keys.begin(), keys.end(), im.comparisons[c].field) != keys.end()) household.push_back(c);
      }
      if (household.size() >= 2) {
        // Households are about (k-1)/n of all pairs (k people per household), so a fixed number
        // of random pairs holds fewer of them as n grows (1M pairs: ~80 at 36k records, ~8 at
        // 360k, too few for the fit). The fit therefore draws 25 pairs per record (with k-1 ~ 2,
        // ~50 household pairs at any n), at least random_pairs and at most 20M: the u pairs
        // plus more from their own seed, drawn in order and compared in parallel.
        const int64_t fit_target = std::min<int64_t>(
            std::max<int64_t>(pc.random_pairs, 25 * static_cast<int64_t>(n)), std::min<int64_t>(20000000, comparable));
        FsPairs fit_pairs = random;
        const int64_t have = static_cast<int64_t>(random.size());
        if (fit_target > have) {
          std::mt19937_64 fit_rng(static_cast<uint64_t>(pc.seed) + 7919);
          std::vector<std::pair<RecordId, RecordId>> extra;
          extra.reserve(static_cast<size_t>(fit_target - have));
          for (int64_t i = have; i < fit_target; ++i) {
            RecordId a = static_cast<RecordId>(pick(fit_rng)), b = static_cast<RecordId>(pick(fit_rng));
            if (a != b) extra.emplace_back(a, b);
          }
          fit_pairs.levels.resize((random.size() + extra.size()) * nc);
          uint8_t* out = fit_pairs.levels.data() + random.size() * nc;
          ParallelFor(threads, extra.size(), 4096, [&](size_t begin, size_t end, int) {
            std::vector<double> tv2(nc);
            for (size_t i = begin; i < end; ++i) im.Vector(extra[i].first, extra[i].second, out + i * nc, tv2.data());
          });
        }
        CDP_RETURN_IF_ERROR(FitHouseholdComponent(fit_pairs, household, &*trained)
                                .WithContext("unification.probabilistic.household_keys"));
      }
      model_ = std::move(*trained);
      report("training", static_cast<int64_t>(steps), static_cast<int64_t>(steps));
    }
    stats_.seconds_training = SecondsSince(t2);
    im.model = &*model_;
    // Score every candidate; the uncertain ones are kept for review.
    size_t base = 0;
    int prob_rule = static_cast<int>(rule_names_.size()) - 2;
    std::vector<MatchPair> review;
    for (size_t w = 0; w < vectors.size(); ++w) {
      for (size_t i = 0; i < cand_pairs[w].size(); ++i) {
        double weight = model_->MatchWeight(all.pair(base + i), tfs[w].data() + i * nc);
        double p = FsModel::Probability(weight);
        MatchPair pair{cand_pairs[w][i].a, cand_pairs[w][i].b, prob_rule, static_cast<float>(p), weight};
        if (p >= pc.threshold) {
          accepted[w].push_back(pair);
        } else if (p >= pc.review_min_probability) {
          review.push_back(pair);
        }
      }
      base += cand_pairs[w].size();
    }
    auto uncertainty = [](const MatchPair& x) { return std::abs(x.strength); };  // |weight|: 0 at p = 0.5
    std::sort(review.begin(), review.end(), [&](const MatchPair& x, const MatchPair& y) {
      double ux = uncertainty(x), uy = uncertainty(y);
      return ux != uy ? ux < uy : (x.a != y.a ? x.a < y.a : x.b < y.b);
    });
    review.erase(std::unique(review.begin(), review.end(),
                             [](const MatchPair& x, const MatchPair& y) { return x.a == y.a && x.b == y.b; }),
                 review.end());
    if (static_cast<int64_t>(review.size()) > pc.review_limit) review.resize(static_cast<size_t>(pc.review_limit));
    review_pairs_ = std::move(review);
    stats_.review_pairs = static_cast<int64_t>(review_pairs_.size());
    // The labelled pairs, scored whether or not blocking found them.
    if (labels) {
      std::vector<uint8_t> lv(nc);
      std::vector<double> tv(nc);
      for (const auto& [id, match] : label_of) {
        im.Vector(static_cast<RecordId>(id >> 32), static_cast<RecordId>(id & 0xffffffffu), lv.data(), tv.data());
        const bool accepted_by_model = FsModel::Probability(model_->MatchWeight(lv.data(), tv.data())) >= pc.threshold;
        if (match) {
          ++stats_.labelled_matches;
          stats_.labelled_matches_accepted += accepted_by_model ? 1 : 0;
        } else {
          ++stats_.labelled_non_matches;
          stats_.labelled_non_matches_rejected += accepted_by_model ? 0 : 1;
        }
      }
    }
  }
  stats_.seconds_comparing = SecondsSince(t1) - stats_.seconds_training;

  std::vector<MatchPair> out;
  size_t total = 0;
  for (const auto& a : accepted) total += a.size();
  out.reserve(total);
  for (auto& a : accepted) {
    out.insert(out.end(), a.begin(), a.end());
    std::vector<MatchPair>().swap(a);
  }
  std::sort(out.begin(), out.end(), [](const MatchPair& x, const MatchPair& y) {
    return x.a != y.a ? x.a < y.a : (x.b != y.b ? x.b < y.b : x.strength > y.strength);
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const MatchPair& x, const MatchPair& y) { return x.a == y.a && x.b == y.b; }),
            out.end());
  for (int64_t c : candidates) stats_.candidate_pairs += c;
  double possible = static_cast<double>(n) * (static_cast<double>(n) - 1) / 2;
  stats_.reduction_ratio = possible > 0 ? 1.0 - static_cast<double>(stats_.candidate_pairs) / possible : 0;
  for (const auto& p : out) ++stats_.pairs_per_rule[static_cast<size_t>(p.rule)];
  for (size_t r = 0; r < im.rules.size(); ++r) stats_.guard_refusals_per_rule[r] = im.guard_refusals[r].load();
  if (keep_slot_keys_) slot_keys_ = std::move(keys);
  return out;
}

PairExplanation Matcher::Explain(RecordId a, RecordId b) const {
  const Impl& im = *impl_;
  const RecordSet& rs = *im.rs;
  if (a > b) std::swap(a, b);
  PairExplanation e;
  e.record_a = rs.Describe(a);
  e.record_b = rs.Describe(b);
  uint16_t sa = rs.source_of(a), sb = rs.source_of(b);
  for (size_t r = 0; r < im.rules.size(); ++r) {
    const CompiledRule& rule = im.rules[r];
    // Same-source pairs: that source's dedup rules; others: the match rules.
    if ((sa == sb) != (rule.source >= 0)) continue;
    if (rule.source >= 0 && rule.source != sa) continue;
    RuleExplanation re;
    re.rule = rule_names_[r];
    re.applies = im.RuleApplies(rule, sa, sb);
    // An asymmetric rule is shown in the orientation that holds, else in the
    // one with more passing conditions.
    auto explain_conditions = [&](bool swapped, bool* all, double* sum) {
      std::vector<ConditionExplanation> out;
      *all = true;
      *sum = 0;
      for (const auto& c : rule.conditions) {
        ConditionExplanation ce;
        // Record a's attribute and record b's: in the orientation (b, a), b
        // takes `field` and a takes `other`.
        const std::string& field_b = c.other.empty() ? c.field : c.other;
        ce.field_a = swapped ? field_b : c.field;
        ce.field_b = swapped ? c.field : field_b;
        ce.field = ce.field_a == ce.field_b ? ce.field_a : ce.field_a + " ~ " + ce.field_b;
        ce.compare = DescribeComparison(c.kind, c.threshold, c.tolerance);
        const FeatureColumn& fa = rs.feature(swapped ? c.other_feature : c.feature);
        const FeatureColumn& fb = rs.feature(swapped ? c.feature : c.other_feature);
        if (IsNumericCompare(c.kind)) {
          ce.value_a = rs.RawValue(a, ce.field_a);
          ce.value_b = rs.RawValue(b, ce.field_b);
        } else {
          ce.value_a = std::string(fa.value(a));
          ce.value_b = std::string(fb.value(b));
        }
        if (ce.value_a.empty()) ce.blank_a = rs.BlankNote(a, swapped ? c.other_feature : c.feature);
        if (ce.value_b.empty()) ce.blank_b = rs.BlankNote(b, swapped ? c.feature : c.other_feature);
        ce.passed = swapped ? im.Condition(c, b, a, &ce.similarity) : im.Condition(c, a, b, &ce.similarity);
        if (!ce.passed && !IsNumericCompare(c.kind) && !ce.value_a.empty() && !ce.value_b.empty()) {
          ce.similarity = c.kind == CompareKind::kJaroWinkler ? JaroWinkler(ce.value_a, ce.value_b)
                          : c.kind == CompareKind::kTokenSet  ? TokenSetSimilarity(ce.value_a, ce.value_b)
                                                              : EditSimilarity(ce.value_a, ce.value_b);
        }
        *all &= ce.passed;
        *sum += ce.similarity;
        out.push_back(std::move(ce));
      }
      return out;
    };
    bool all = true;
    double sum = 0;
    re.conditions = explain_conditions(false, &all, &sum);
    if (rule.asymmetric) {
      bool all_r = true;
      double sum_r = 0;
      auto reverse = explain_conditions(true, &all_r, &sum_r);
      auto passed = [](const std::vector<ConditionExplanation>& cs) {
        return std::count_if(cs.begin(), cs.end(), [](const ConditionExplanation& c) { return c.passed; });
      };
      bool take = all_r ? (!all || sum_r > sum)
                        : (!all && (passed(reverse) > passed(re.conditions) ||
                                    (passed(reverse) == passed(re.conditions) && sum_r > sum)));
      if (take) {
        re.conditions = std::move(reverse);
        all = all_r;
        sum = sum_r;
        re.swapped = true;
      }
    }
    int ex = im.Exception(rule, a, b);
    if (ex >= 0) re.exception = rule.exceptions[static_cast<size_t>(ex)].field;
    bool guards_hold = true;
    for (const auto& g : rule.guards) {
      re.guards.push_back(im.ExplainGuard(g, a, b));
      guards_hold &= re.guards.back().passed;
    }
    re.guard_failed = !guards_hold;
    re.matched = re.applies && all && ex < 0 && guards_hold;
    re.score = rule.conditions.empty() ? 0 : sum / static_cast<double>(rule.conditions.size());
    if (re.matched && !e.matched && !(im.probabilistic && rule.source < 0)) {
      e.matched = true;
      e.matched_by = re.rule;
    }
    e.rules.push_back(std::move(re));
  }
  if (im.probabilistic && model_) {
    size_t nc = im.comparisons.size();
    std::vector<uint8_t> lv(nc);
    std::vector<double> tv(nc);
    im.Vector(a, b, lv.data(), tv.data());
    e.contributions = model_->Explain(lv.data(), tv.data());
    e.match_weight = model_->MatchWeight(lv.data(), tv.data());
    e.match_probability = FsModel::Probability(e.match_weight);
    if (!e.matched && e.match_probability >= im.config->probabilistic.threshold) {
      e.matched = true;
      e.matched_by = "probabilistic";
    }
  }
  // unification.guards: a failing one refuses the pair whatever matched it.
  for (const auto& g : im.global_guards) {
    e.guards.push_back(im.ExplainGuard(g, a, b));
    if (!e.guards.back().passed && e.blocked_by_guard.empty()) e.blocked_by_guard = e.guards.back().field;
  }
  if (!e.blocked_by_guard.empty() && e.matched) {
    e.matched = false;
    e.matched_by.clear();
  }
  return e;
}

bool Matcher::Conflicts(RecordId a, RecordId b) const {
  return !impl_->global_guards.empty() && impl_->AnyGuardFails(impl_->global_guards, a, b);
}

bool Matcher::HasGuards() const { return !impl_->global_guards.empty(); }

int Matcher::RuleSource(int rule) const {
  if (rule < 0 || static_cast<size_t>(rule) >= impl_->rules.size()) return -1;
  return impl_->rules[static_cast<size_t>(rule)].source;
}

bool Matcher::HasSortedNeighbourhood() const {
  for (const Slot& s : impl_->slots) {
    if (s.method == BlockingMethod::kSortedNeighbourhood) return true;
  }
  return false;
}

std::vector<int> Matcher::TermFrequencyFeatures() const {
  std::vector<int> out;
  if (!impl_->probabilistic) return out;
  for (const auto& c : impl_->comparisons) {
    if (c.tf) out.push_back(c.feature);
  }
  return out;
}

}  // namespace cdp
