// UnifyConfig: the typed `unification:` section of a project YAML file (map,
// deduplicate, match, merge). Value types; thread-compatible. The full YAML
// reference with examples is docs/project-yaml.md#unification.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace cdp {

// How a condition compares the two sides' values (after normalization).
enum class CompareKind {
  kExact,         // normalized values equal
  kFuzzy,         // D365 edit similarity (len - edit distance) / len >= threshold
  kJaroWinkler,   // Jaro-Winkler similarity >= threshold
  kDateWithin,    // dates (or timestamps, by day) at most `tolerance` days apart
  kNumberWithin,  // numbers at most `tolerance` apart
  kTokenSet,      // TokenSetSimilarity (shared words / words of the shorter value) >= threshold
};
std::string_view CompareKindName(CompareKind kind);

// One condition of a rule: the attribute `field` of each record (see
// UnifySourceConfig::fields for how an attribute resolves in a source), or,
// with `other`, one record's `field` against the other record's `other`
// (swapped values: given name in the surname field). A rule with such
// asymmetric conditions is tried in both orientations, (a, b) and (b, a), and
// holds when all its conditions hold in one of them.
struct MatchConditionConfig {
  std::string field;
  std::string other;                   // the other record's attribute; empty: `field`
  std::vector<std::string> normalize;  // normalizer names, applied in order
  CompareKind compare = CompareKind::kExact;
  double threshold = 1.0;              // kFuzzy / kJaroWinkler: minimum similarity in [0, 1]
  double tolerance = 0;                // kDateWithin (days) / kNumberWithin
  bool operator==(const MatchConditionConfig&) const = default;
  // True when the two records' sides use different attributes.
  bool asymmetric() const { return !other.empty() && other != field; }
};

// A rule does not apply to a pair when either record's normalized `field` is one of `values`.
struct MatchExceptionConfig {
  std::string field;
  std::vector<std::string> normalize;
  std::vector<std::string> values;
  bool operator==(const MatchExceptionConfig&) const = default;
};

// How candidate pairs are found for a rule whose conditions are not all
// exact: records sharing a key (exact, prefix, soundex, metaphone) or within
// a window of neighbours when sorted by the key (sorted_neighbourhood).
enum class BlockingMethod { kExact, kPrefix, kSoundex, kMetaphone, kSortedNeighbourhood };
std::string_view BlockingMethodName(BlockingMethod method);

// One part of a blocking key written as a list of items (`key: [...]`): an
// attribute with its own normalizers and transform (method kExact, kPrefix,
// kSoundex or kMetaphone; `length` for kPrefix).
struct BlockingItemConfig {
  std::string field;
  std::vector<std::string> normalize;
  BlockingMethod method = BlockingMethod::kExact;
  int64_t length = 0;
  bool operator==(const BlockingItemConfig&) const = default;
};

// A blocking key, in one of two forms. Old form: `fields` with one
// `normalize`, `method` and `length` applied to every field. Item form
// (`items` non-empty; `fields`, `normalize` and `length` empty): each item has
// its own transform, and `method` is kExact or kSortedNeighbourhood (the key
// as a whole). Items() gives both forms as items.
struct BlockingKeyConfig {
  std::vector<std::string> fields;     // key = these attributes, joined
  std::vector<std::string> normalize;  // applied to every field of the key
  BlockingMethod method = BlockingMethod::kExact;
  int64_t length = 0;                  // kPrefix: characters kept per field
  int64_t window = 0;                  // kSortedNeighbourhood: neighbours compared
  std::vector<BlockingItemConfig> items;
  bool operator==(const BlockingKeyConfig&) const = default;

  // The key's parts: `items`, or one item per field of the old form (with
  // `normalize`, and `method`/`length` unless the method is sorted_neighbourhood).
  std::vector<BlockingItemConfig> Items() const;
  bool sorted_neighbourhood() const { return method == BlockingMethod::kSortedNeighbourhood; }
};

// A guard is written like a condition but means the opposite: a pair may not
// match when BOTH records have a value and the comparison fails (different
// dates of birth, first names beyond a Jaro-Winkler threshold). An empty side
// never blocks. With `other`, the guard also holds when one record's `field`
// passes against the other record's `other` (swapped values).
using MatchGuardConfig = MatchConditionConfig;

// Conditions are ANDed; rules are ORed and tried in order.
struct MatchRuleConfig {
  std::string name;
  std::vector<MatchConditionConfig> conditions;
  std::vector<MatchGuardConfig> guards;  // this rule only; see UnifyConfig::guards for all rules
  std::vector<MatchExceptionConfig> exceptions;
  // Extra blocking keys. A rule with no exact condition needs at least one.
  std::vector<BlockingKeyConfig> blocking;
  // Match rules only: restrict the rule to pairs whose two sources are both listed.
  std::vector<std::string> sources;
  bool operator==(const MatchRuleConfig&) const = default;
};

enum class WinnerPolicy { kMostFilled, kMostRecent, kLeastRecent };
std::string_view WinnerPolicyName(WinnerPolicy policy);

struct DedupConfig {
  std::vector<MatchRuleConfig> rules;  // empty: no deduplication
  WinnerPolicy winner = WinnerPolicy::kMostFilled;
  std::string winner_field;            // kMostRecent / kLeastRecent: a date, timestamp or number field
  bool operator==(const DedupConfig&) const = default;
};

// A profile source taking part in unification.
struct UnifySourceConfig {
  std::string source;  // a source (entity) name
  std::string key;     // its primary key field; default: the source's primary_key
  // Attribute -> field of this source, for attributes whose field has another
  // name here. An attribute otherwise resolves to the field of the same name,
  // then to the field whose semantic type's last part is the attribute
  // (Person.FirstName -> FirstName, Location.PostalCode -> PostalCode, Email).
  std::vector<std::pair<std::string, std::string>> fields;
  DedupConfig dedup;
  bool operator==(const UnifySourceConfig&) const = default;
};

// Probabilistic (Fellegi-Sunter) mode. A level with `other` holds when the
// values are swapped: each record's comparison field against the other
// record's `other` attribute passes.
struct ComparisonLevelConfig {
  CompareKind compare = CompareKind::kExact;
  double threshold = 1.0;
  double tolerance = 0;
  std::string other;
  bool operator==(const ComparisonLevelConfig&) const = default;
};
struct ComparisonConfig {
  std::string field;
  std::vector<std::string> normalize;
  std::vector<ComparisonLevelConfig> levels;  // strongest first; "else" is implicit
  bool term_frequency = false;                // tf adjustment of the first (exact) level
  bool operator==(const ComparisonConfig&) const = default;
};
struct ProbabilisticConfig {
  std::vector<ComparisonConfig> comparisons;
  std::vector<BlockingKeyConfig> blocking;  // candidate pairs
  // Training keys: one EM session per key estimates m on the pairs the key
  // joins, with the comparisons on the key's fields left out. Empty: each
  // entry of `blocking` on its own.
  std::vector<BlockingKeyConfig> training;
  int64_t max_training_pairs = 1000000;  // per session; a larger session is sampled (with `seed`)
  // Strict deterministic rules estimating the all-pairs prior (names of
  // `rules`; empty = all). With no rules the prior is estimated from the data.
  std::vector<std::string> prior_rules;
  double prior_recall = 0.8;       // assumed recall of those rules
  double threshold = 0.95;         // minimum match probability (all-pairs prior) to accept a pair
  // Candidate pairs with a probability in [review_min_probability, threshold)
  // are listed for review, most uncertain first, at most review_limit.
  double review_min_probability = 0.5;
  int64_t review_limit = 1000;
  int64_t random_pairs = 1000000;  // sampled for u-probabilities
  int64_t seed = 1;
  // The pairs each prior rule accepts are labelled matches: m of the comparisons the rule does
  // not use is also estimated from them and averaged with the EM sessions' estimates.
  bool rule_labels = false;
  // EM sessions have a third class for pairs that share the key but are different people (a
  // household's phone, e-mail or address), so m learns the person, not the household.
  bool household_class = false;
  // Comparisons (by field) that members of one household share. Their agreement is scored once,
  // through a household component of the non-match class fitted on the random pairs (see
  // unify/probabilistic/README.md), instead of once per field. The default names the attributes a
  // household shares; the ones not compared are skipped. [] turns the component off.
  std::vector<std::string> household_keys = DefaultHouseholdKeys();
  static std::vector<std::string> DefaultHouseholdKeys() {
    return {"LastName", "Phone", "Email", "Address", "PostalCode"};
  }
  bool operator==(const ProbabilisticConfig&) const = default;
};

enum class MergePolicy { kSourcePriority, kMostRecent, kLeastRecent, kMostFilled, kConcatenate };
std::string_view MergePolicyName(MergePolicy policy);

struct MergeFieldConfig {
  std::string name;                  // output field (an attribute or an unmapped field name)
  MergePolicy policy = MergePolicy::kSourcePriority;
  std::string by;                    // kMostRecent / kLeastRecent: field ordering the records
  std::vector<std::string> sources;  // kSourcePriority: order (default: unification order)
  std::string separator = "; ";      // kConcatenate
  bool operator==(const MergeFieldConfig&) const = default;
};
struct MergeConfig {
  MergePolicy default_policy = MergePolicy::kSourcePriority;
  std::string default_by;            // for a most/least recent default policy
  std::vector<MergeFieldConfig> fields;
  // Fields taken together from the one record that wins the group's first field.
  std::vector<std::vector<std::string>> groups;
  std::vector<std::pair<std::string, std::string>> rename;  // field -> output name
  std::vector<std::string> exclude;
  bool operator==(const MergeConfig&) const = default;
};

enum class UnifyMode { kRules, kProbabilistic };

// Values held by implausibly many records are placeholders ("+15555550100" typed into every
// form): they are blanked for matching like listed placeholders, counted and reported. Applies
// to features normalized with Phone, PhoneDigits, PhoneLast<N>, Email or EmailProvider, and to
// the listed `attributes` under any normalization.
struct PlaceholderDetectionConfig {
  bool enabled = true;
  // A value held by this many records (all sources together) or more is a placeholder: a
  // household shares a phone or an email among 2-6 people with a few records each, a
  // placeholder is held by dozens or thousands.
  int64_t min_records = 25;
  std::vector<std::string> attributes;
  bool operator==(const PlaceholderDetectionConfig&) const = default;
};

struct UnifyConfig {
  // Profile sources in match order; the first is the primary.
  std::vector<UnifySourceConfig> sources;
  UnifyMode mode = UnifyMode::kRules;
  std::vector<MatchRuleConfig> rules;
  ProbabilisticConfig probabilistic;
  // Guards of every match rule, every dedup rule and every probabilistic pair.
  // They also hold across clusters: two clusters are not joined when a record
  // of one conflicts with a record of the other.
  std::vector<MatchGuardConfig> guards;
  // Sources of which a profile holds at most one record (YAML `true`: every
  // source), unless that source's own dedup rules joined the records.
  std::vector<std::string> one_record_per_source;
  bool include_all = true;           // unmatched records become single-record profiles
  int64_t max_block_size = 1000;     // larger blocks are skipped with a warning
  // A union of two clusters that would exceed this is refused (and the pairs
  // marked split_by_cap), strongest pairs first, so that clusters never grow
  // past it; see docs/project-yaml.md#clustering.
  int64_t max_cluster_size = 50;
  std::string default_region = "US"; // phone numbers without a country code
  bool default_placeholders = true;
  std::vector<std::string> placeholders;  // values that never match, besides the defaults
  PlaceholderDetectionConfig placeholder_detection;
  MergeConfig merge;
  bool operator==(const UnifyConfig&) const = default;

  bool empty() const { return sources.empty(); }
  const UnifySourceConfig* FindSource(std::string_view name) const;
};

// Parses the `unification:` node; `path` prefixes error locations
// ("project.yaml:40: unification.rules[0].conditions[1].compare: ...").
StatusOr<UnifyConfig> ParseUnifyConfig(const YAML::Node& node, const std::string& origin);
// JSON form (catalog, API). UnifyConfigFromJson(UnifyConfigToJson(c)) == c.
std::string UnifyConfigToJson(const UnifyConfig& config);
StatusOr<UnifyConfig> UnifyConfigFromJson(const std::string& json);

}  // namespace cdp
