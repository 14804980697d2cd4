// SegmentDefinition: the typed AST of a segment (rules of conditions joined by
// AND, OR groups under AND, rules combined left to right by set operators),
// its JSON/YAML forms and its validation against the available entities.
// Values are data, never code. Value types; thread-compatible.
// Semantics and examples: src/segment/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/entity_names.h"
#include "common/status.h"
#include "config/model_config.h"
#include "table/types.h"

namespace cdp {

// The per-customer entities: row i is customer i.

// static: members frozen when saved; dynamic: evaluated by every refresh;
// expansion: members found by "find similar customers" (a lookalike model
// trained on a source segment, workspace/insight_service.h), frozen when
// saved, with a Similarity per member; it has no rules but `expansion`.
enum class SegmentType { kStatic, kDynamic, kExpansion };
std::string_view SegmentTypeName(SegmentType type);  // "static", "dynamic", "expansion"
enum class SetOperator { kUnion, kIntersect, kExcept };

enum class ConditionOp {
  kNone,  // not chosen yet (a draft); always a validation problem
  // Numbers, strings, dates, booleans (equals / not_equals); ordered types.
  kEquals, kNotEquals, kGreater, kGreaterEqual, kLess, kLessEqual, kBetween, kIn, kNotIn,
  kIsEmpty, kIsNotEmpty,
  // Strings.
  kContains, kNotContains, kStartsWith, kEndsWith,
  // Dates and timestamps (by UTC day).
  kOn, kBefore, kAfter, kOnOrBefore, kOnOrAfter, kInLast, kInNext, kThisPeriod, kLastPeriod,
  kAnniversaryWithin,
  // Booleans.
  kIsTrue, kIsFalse,
};
std::string_view ConditionOpName(ConditionOp op);           // "equals", "in_last", ...
std::optional<ConditionOp> ParseConditionOp(std::string_view name);

// A literal: JSON scalar. Dates are "YYYY-MM-DD" strings.
using SegmentValue = std::variant<std::string, int64_t, double, bool>;
std::string SegmentValueToString(const SegmentValue& v);

// One condition. Two forms:
//  * field condition (`function` unset): `field` of `entity` (empty = the
//    rule's entity; otherwise Customer or Customer_Measure) compared by `op`
//    with `values`;
//  * aggregate condition (`function` set): function(field) over the
//    customer's rows of `entity` (empty = the rule's entity; must be a related
//    entity) that pass `filters` (field conditions on that entity, ANDed) and
//    fall in `window` of `time_field`; `op`/`values` compare the result.
struct Condition {
  std::string entity;
  std::string field;  // aggregate: the aggregated field (empty for count of rows)
  ConditionOp op = ConditionOp::kNone;
  std::vector<SegmentValue> values;
  TimeUnit unit = TimeUnit::kDay;  // in_last / in_next (day..year), this_period / last_period (month, quarter, year)
  bool case_insensitive = false;   // strings
  std::optional<AggregateFunction> function;  // count, sum, average, min, max
  std::vector<Condition> filters;
  TimeWindowConfig window;
  std::string time_field;

  bool is_aggregate() const { return function.has_value(); }
  bool operator==(const Condition&) const = default;
};

// Any of its conditions (nested under the rule's AND).
struct OrGroup {
  std::vector<Condition> any_of;
  bool operator==(const OrGroup&) const = default;
};

using RuleTerm = std::variant<Condition, OrGroup>;

// A group of customers: those with at least one row of `entity` such that
// every term holds on that row (for Customer / Customer_Measure the row is the
// customer). all_records adds no condition: it is how a rule with no
// conditions says "every row".
struct Rule {
  // Membership of another segment: when set, the rule's members are that
  // segment's members (evaluated first in the same run when it is dynamic);
  // entity and conditions must then be empty.
  std::string segment;
  std::string entity;
  bool all_records = false;
  std::vector<RuleTerm> conditions;  // ANDed
  SetOperator combine = SetOperator::kUnion;  // how this rule joins the result so far (ignored for rules[0])
  bool operator==(const Rule&) const = default;
};

// A segment's name names its member entity (Segment_<name>) and its URL, so
// it is an identifier: kSegmentNamePattern, at most kMaxSegmentNameLength
// bytes. kSegmentNameRule says it in words (for messages).
inline constexpr std::string_view kSegmentNamePattern = "^[A-Za-z_][A-Za-z0-9_]*$";
inline constexpr size_t kMaxSegmentNameLength = 128;
inline constexpr std::string_view kSegmentNameRule =
    "letters, digits and _, starting with a letter or _, no spaces, at most 128 characters";
inline bool IsValidSegmentName(std::string_view s) {
  if (s.empty() || s.size() > kMaxSegmentNameLength) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// The settings of an expansion segment ("find similar customers").
struct ExpansionSpec {
  std::string source;            // the source segment
  std::string pool;              // "" = all customers outside the source; else a segment
  double share = 0.2;            // output size as a share of the pool, (0, 1]
  double min_similarity = 0;     // 0, or a threshold in [0.4, 1) that replaces `share`
  bool include_source = false;   // the source's members are members too (similarity 1)
  uint64_t seed = 1;
  bool operator==(const ExpansionSpec&) const = default;
};

struct SegmentDefinition {
  std::string name;  // IsValidSegmentName (a definition with another name is kept as a draft)
  std::string display_name;
  std::string description;
  SegmentType type = SegmentType::kDynamic;
  std::string schedule;  // dynamic only: cron text (5 fields); empty = the workspace default
  // A deactivated dynamic segment keeps its definition and last members but
  // is not evaluated by refreshes and runs, and its exports are skipped.
  bool active = true;
  std::vector<Rule> rules;
  ExpansionSpec expansion;  // type expansion only
  bool operator==(const SegmentDefinition&) const = default;
};

// Limits of a definition's text: size, and objects/lists nested in each other.
inline constexpr size_t kMaxSegmentDefinitionBytes = size_t{1} << 20;
inline constexpr size_t kMaxSegmentDepth = 48;

// Parsing checks shape only (JSON/YAML syntax, key names, value kinds, known
// operator/function/unit names); incomplete definitions parse, so they can be
// kept as drafts. Errors are InvalidArgument naming the path ("rules[0].conditions[1].op: ...").
// Refused before or while the text is parsed, naming line and path: text over
// kMaxSegmentDefinitionBytes or nested deeper than kMaxSegmentDepth, a key
// given twice, YAML anchors and aliases (config/yaml_loader.h); text keys
// (name, entity, field, ...) holding a NUL byte; text that is not UTF-8.
StatusOr<SegmentDefinition> ParseSegmentJson(std::string_view json);
StatusOr<SegmentDefinition> ParseSegmentYaml(std::string_view yaml);
// A definition read back from the catalog (SegmentToJson's output): as
// ParseSegmentJson, without the size and NUL limits, so one saved before they
// existed still loads (a bad name keeps it a draft: see Validate).
StatusOr<SegmentDefinition> ParseStoredSegmentJson(std::string_view json);
// Canonical JSON: ParseSegmentJson(SegmentToJson(d)) == d. indent < 0: one line.
std::string SegmentToJson(const SegmentDefinition& d, int indent = 2);
// Block YAML with the keys of SegmentToJson (`cdp export-config`); text that
// would read as a number, boolean or null is quoted, so
// ParseSegmentYaml(SegmentToYaml(d)) == d.
std::string SegmentToYaml(const SegmentDefinition& d);

// The entities a segment may read, with their fields.
struct SegmentSchema {
  Schema customer;
  std::optional<Schema> customer_measure;
  std::map<std::string, Schema> related;  // entities related to Customer, by name
  // Segments a rule may take the members of (`Rule::segment`), by name.
  std::set<std::string> segments;
};

struct SegmentProblem {
  std::string path;     // "name", "rules[1].conditions[0]", "rules[0].conditions[2].any[1]", ...
  std::string message;  // "field 'Stat' is not a field of Customer (did you mean State?)"
  std::string ToString() const { return path.empty() ? message : path + ": " + message; }
  bool operator==(const SegmentProblem&) const = default;
};

// Every problem that keeps `d` from being evaluated: bad name or schedule,
// no rules, empty rules, unknown entities and fields (with a suggestion),
// operator/type mismatches, wrong number or kind of values (non-numeric value
// for a number, bad date), bad windows. Empty = valid.
std::vector<SegmentProblem> Validate(const SegmentDefinition& d, const SegmentSchema& schema);

// What saving a definition with `problems` makes of it: a valid one is
// active; an invalid dynamic segment is a draft, an invalid static one is
// inactive (neither can be run until fixed).
enum class SegmentState { kActive, kDraft, kInactive };
std::string_view SegmentStateName(SegmentState s);
SegmentState StateAfterSave(const SegmentDefinition& d, const std::vector<SegmentProblem>& problems);

// One problem per line, for messages.
std::string FormatProblems(const std::vector<SegmentProblem>& problems);

// Quick segment from one profile field or measure (entity Customer or
// Customer_Measure): a dynamic segment with one rule of one condition, e.g.
// MakeQuickSegment("CustomersFromCalifornia", "Customer", "State", kEquals, {"California"}).
SegmentDefinition MakeQuickSegment(std::string name, std::string entity, std::string field, ConditionOp op,
                                   std::vector<SegmentValue> values);

}  // namespace cdp
