#include "config/unify_config.h"

#include <gtest/gtest.h>

#include "config/project_config.h"

namespace cdp {
namespace {

const char* kProject = R"yaml(
project: t
sources:
  - {name: A, kind: csv, path: a.csv, primary_key: Id}
  - {name: B, kind: csv, path: b.csv}
unification:
  sources:
    - source: A
      dedup:
        winner: most_recent
        winner_field: CreatedOn
        rules:
          - name: SameEmail
            conditions: [{field: Email, normalize: [Email], compare: exact}]
    - source: B
      key: BId
      fields: {Email: EMail, Phone: Tel}
  rules:
    - name: EmailAndName
      conditions:
        - {field: Email, normalize: [EmailProvider]}
        - {field: FirstName, normalize: [Name], compare: fuzzy, precision: High}
      exceptions: [{field: Email, values: [info@contoso.com]}]
    - name: NameDob
      conditions:
        - {field: LastName, compare: jaro_winkler, threshold: 0.9}
        - {field: DateOfBirth, compare: date_within, days: 2}
      blocking: [{field: LastName, normalize: [Name], method: soundex}, {fields: [FirstName, LastName], method: sorted_neighbourhood, window: 5}]
      guards: [{field: FirstName, normalize: [Name], compare: jaro_winkler, threshold: 0.88}]
      sources: [A, B]
    - name: ZipAndInitial
      conditions: [{field: LastName, compare: jaro_winkler, threshold: 0.9}]
      blocking:
        - key: [PostalCode, {field: FirstName, normalize: [Name], method: prefix, length: 1}]
        - {key: [{field: LastName, method: soundex}, {field: City}], method: sorted_neighbourhood, window: 4}
    - name: SwappedNames
      conditions:
        - {field: DateOfBirth}
        - {field: FirstName, other: LastName, compare: jaro_winkler, threshold: 0.9}
        - {field: LastName, other: FirstName, compare: jaro_winkler, threshold: 0.9}
  probabilistic:
    comparisons:
      - field: FirstName
        normalize: [Name]
        levels: [exact, jaro_winkler 0.92, "fuzzy: 0.7", {compare: jaro_winkler, threshold: 0.9, other: LastName}]
        term_frequency: true
      - {field: DateOfBirth, levels: [exact, {compare: date_within, days: 31}]}
    blocking: [{field: DateOfBirth}]
    prior_rules: [EmailAndName]
    threshold: 0.95
  guards:
    - {field: DateOfBirth, compare: date_within, days: 0}
    - {field: Gender}
  one_record_per_source: [B]
  max_block_size: 500
  placeholders: [unknown@x.com]
  merge:
    default: most_filled
    fields: [{name: Email, policy: most_recent, by: CreatedOn}, {name: Tags, policy: concatenate, separator: "|"}]
    groups: [[Street, City, PostCode]]
    rename: {Telephone: Phone}
    exclude: [CreditCard]
)yaml";

TEST(UnifyConfigTest, ParsesEveryPart) {
  auto p = ParseProjectYaml(kProject, "p.yaml", "/tmp");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const UnifyConfig& u = p->unification;
  ASSERT_EQ(u.sources.size(), 2u);
  EXPECT_EQ(u.sources[0].key, "Id");  // from the source's primary_key
  EXPECT_EQ(u.sources[0].dedup.winner, WinnerPolicy::kMostRecent);
  EXPECT_EQ(u.sources[1].fields[1], (std::pair<std::string, std::string>{"Phone", "Tel"}));
  ASSERT_EQ(u.rules.size(), 4u);
  EXPECT_DOUBLE_EQ(u.rules[0].conditions[1].threshold, 0.8);
  EXPECT_EQ(u.rules[1].conditions[1].compare, CompareKind::kDateWithin);
  EXPECT_EQ(u.rules[1].conditions[1].tolerance, 2);
  EXPECT_EQ(u.rules[1].blocking[1].method, BlockingMethod::kSortedNeighbourhood);
  EXPECT_TRUE(u.rules[0].conditions[0].other.empty());
  EXPECT_EQ(u.rules[3].conditions[1].field, "FirstName");
  EXPECT_EQ(u.rules[3].conditions[1].other, "LastName");
  EXPECT_TRUE(u.rules[3].conditions[1].asymmetric());
  ASSERT_EQ(u.probabilistic.comparisons[0].levels.size(), 4u);
  EXPECT_EQ(u.probabilistic.comparisons[0].levels[3].other, "LastName");
  EXPECT_DOUBLE_EQ(u.probabilistic.comparisons[0].levels[1].threshold, 0.92);
  EXPECT_DOUBLE_EQ(u.probabilistic.comparisons[0].levels[2].threshold, 0.7);
  EXPECT_EQ(u.probabilistic.comparisons[1].levels[1].tolerance, 31);
  EXPECT_EQ(u.max_block_size, 500);
  // Guards: one rule's, and the global ones.
  ASSERT_EQ(u.rules[1].guards.size(), 1u);
  EXPECT_EQ(u.rules[1].guards[0].compare, CompareKind::kJaroWinkler);
  EXPECT_DOUBLE_EQ(u.rules[1].guards[0].threshold, 0.88);
  ASSERT_EQ(u.guards.size(), 2u);
  EXPECT_EQ(u.guards[0].compare, CompareKind::kDateWithin);
  EXPECT_EQ(u.guards[0].tolerance, 0);
  EXPECT_EQ(u.guards[1].field, "Gender");
  EXPECT_EQ(u.guards[1].compare, CompareKind::kExact);
  EXPECT_EQ(u.one_record_per_source, std::vector<std::string>{"B"});
  // Blocking keys as items, each with its own transform.
  const BlockingKeyConfig& zi = u.rules[2].blocking[0];
  ASSERT_EQ(zi.items.size(), 2u);
  EXPECT_EQ(zi.items[0].field, "PostalCode");
  EXPECT_EQ(zi.items[0].method, BlockingMethod::kExact);
  EXPECT_EQ(zi.items[1].method, BlockingMethod::kPrefix);
  EXPECT_EQ(zi.items[1].length, 1);
  EXPECT_EQ(zi.items[1].normalize, std::vector<std::string>{"Name"});
  EXPECT_EQ(zi.method, BlockingMethod::kExact);
  EXPECT_EQ(zi.Items(), zi.items);
  const BlockingKeyConfig& sn = u.rules[2].blocking[1];
  EXPECT_TRUE(sn.sorted_neighbourhood());
  EXPECT_EQ(sn.items[0].method, BlockingMethod::kSoundex);
  // The old form still means one transform for every field.
  const BlockingKeyConfig& old = u.rules[1].blocking[1];
  ASSERT_EQ(old.Items().size(), 2u);
  EXPECT_EQ(old.Items()[1].field, "LastName");
  EXPECT_EQ(old.Items()[1].method, BlockingMethod::kExact);  // sorted_neighbourhood is the key's
  EXPECT_EQ(u.rules[1].blocking[0].Items()[0].method, BlockingMethod::kSoundex);
  EXPECT_EQ(u.merge.default_policy, MergePolicy::kMostFilled);
  EXPECT_EQ(u.merge.fields[1].separator, "|");
}

TEST(UnifyConfigTest, JsonAndYamlRoundTripsAreExact) {
  auto p = ParseProjectYaml(kProject, "p.yaml", "/tmp");
  ASSERT_TRUE(p.ok());
  auto back = UnifyConfigFromJson(UnifyConfigToJson(p->unification));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p->unification);
  auto again = ParseProjectYaml(EmitProjectYaml(*p), "emitted", "/tmp");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->unification, p->unification);
}

void ExpectError(const std::string& unification, const std::string& fragment) {
  std::string yaml = "sources:\n  - {name: A, kind: csv, path: a.csv, primary_key: Id}\n"
                     "  - {name: B, kind: csv, path: b.csv, primary_key: Id}\nunification:\n" +
                     unification;
  auto p = ParseProjectYaml(yaml, "p.yaml", "/tmp");
  ASSERT_FALSE(p.ok()) << unification;
  EXPECT_NE(p.status().message().find(fragment), std::string::npos) << p.status().message();
}

TEST(UnifyConfigTest, ErrorsNameTheSourceRuleAndField) {
  ExpectError("  sources: [A, Nope]\n  rules: [{name: r, conditions: [{field: Email}]}]\n",
              "unification.sources[1]: 'Nope' is not a declared source");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: Email, compare: fuzzy}]}]\n",
              "needs a 'threshold'");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: Email, compare: soundslike}]}]\n",
              "unification.rules[0].conditions[0].compare: unknown comparison 'soundslike'");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: N, compare: fuzzy, threshold: 0.8}]}]\n",
              "rule 'r' has no exact condition");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: N, other: M}]}]\n",
              "rule 'r' has exact conditions only with 'other' (two different fields), which cannot form a blocking key");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: N, other: ''}]}]\n",
              "unification.rules[0].conditions[0].other: must not be empty");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: N, precision: High}]}]\n",
              "only fuzzy, jaro_winkler and token_set");
  ExpectError("  sources: [A, B]\n", "matching several sources needs 'rules'");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: E}]}, {name: r, conditions: [{field: F}]}]\n",
              "rule 'r' is declared twice");
  ExpectError("  sources: [A]\n  merge: {fields: [{name: E, policy: most_recent}]}\n", "needs 'by'");
  ExpectError("  sources: [A]\n  colour: blue\n", "unknown key");
  ExpectError("  sources: [A, B]\n  mode: probabilistic\n", "needs a 'probabilistic' section");
}

TEST(UnifyConfigTest, OneRecordPerSourceTrueListsEverySource) {
  std::string yaml = "sources:\n  - {name: A, kind: csv, path: a.csv, primary_key: Id}\n"
                     "  - {name: B, kind: csv, path: b.csv, primary_key: Id}\nunification:\n"
                     "  sources: [A, B]\n  rules: [{name: r, conditions: [{field: Email}]}]\n"
                     "  one_record_per_source: true\n";
  auto p = ParseProjectYaml(yaml, "p.yaml", "/tmp");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->unification.one_record_per_source, (std::vector<std::string>{"A", "B"}));
}

TEST(UnifyConfigTest, GuardErrorsNameTheGuard) {
  const std::string rules = "  sources: [A, B]\n  rules: [{name: r, conditions: [{field: Email}]";
  ExpectError(rules + ", guards: [{field: FirstName, compare: jaro_winkler}]}]\n",
              "unification.rules[0].guards[0]");
  ExpectError(rules + ", guards: [{field: FirstName, compare: jaro_winkler}]}]\n", "needs a 'threshold'");
  ExpectError(rules + "}]\n  guards: [{field: DateOfBirth, compare: date_within, days: -1}]\n",
              "unification.guards[0].days: expected a number >= 0");
  ExpectError(rules + "}]\n  guards: [{compare: exact}]\n", "unification.guards[0]");
  ExpectError(rules + "}]\n  guards: {field: Gender}\n", "unification.guards: expected a list");
  ExpectError(rules + "}]\n  guards: [{field: Gender, colour: red}]\n", "colour");
  ExpectError(rules + "}]\n  one_record_per_source: [A, C]\n", "'C' is not one of the unification sources");
  ExpectError(rules + "}]\n  one_record_per_source: maybe\n", "expected true, false or a list");
}

TEST(UnifyConfigTest, BlockingItemErrorsNameTheKeyAndItem) {
  const std::string rule = "  sources: [A, B]\n  rules: [{name: r, conditions: [{field: E, compare: fuzzy, "
                           "threshold: 0.8}], blocking: [";
  ExpectError(rule + "{key: [Zip, {field: FirstName, method: prefix}]}]}]\n",
              "unification.rules[0].blocking[0].key[1]: a prefix item needs 'length' > 0");
  ExpectError(rule + "{key: [Zip, {field: FirstName, method: soundx}]}]}]\n",
              "unification.rules[0].blocking[0].key[1].method: unknown blocking method 'soundx'");
  ExpectError(rule + "{key: [Zip, {field: F, method: sorted_neighbourhood}]}]}]\n",
              "applies to a whole key");
  ExpectError(rule + "{key: [Zip], method: prefix, length: 2}]}]\n", "in each item, not beside 'key'");
  ExpectError(rule + "{key: [Zip], method: soundex}]}]\n", "beside 'key' only exact or sorted_neighbourhood");
  ExpectError(rule + "{key: []}]}]\n", "unification.rules[0].blocking[0].key: expected a list of items");
  ExpectError(rule + "{key: [{field: Zip, length: 3}]}]}]\n", "only a prefix item takes a length");
  ExpectError(rule + "{method: prefix, length: 2}]}]\n", "needs 'field', 'fields' or 'key'");
}

TEST(UnifyConfigTest, TokenSetAndPlaceholderDetectionParseAndRoundTrip) {
  std::string yaml = "sources:\n  - {name: A, kind: csv, path: a.csv, primary_key: Id}\n"
                     "  - {name: B, kind: csv, path: b.csv, primary_key: Id}\nunification:\n"
                     "  sources: [A, B]\n"
                     "  rules: [{name: r, conditions: [{field: Zip}, {field: Company, normalize: [Organization], "
                     "compare: token_set, threshold: 0.75}]}]\n"
                     "  placeholder_detection: {min_records: 40, attributes: [LoyaltyCard]}\n";
  auto p = ParseProjectYaml(yaml, "p.yaml", "/tmp");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const MatchConditionConfig& c = p->unification.rules[0].conditions[1];
  EXPECT_EQ(c.compare, CompareKind::kTokenSet);
  EXPECT_DOUBLE_EQ(c.threshold, 0.75);
  EXPECT_EQ(CompareKindName(c.compare), "token_set");
  const PlaceholderDetectionConfig& d = p->unification.placeholder_detection;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.min_records, 40);
  EXPECT_EQ(d.attributes, std::vector<std::string>{"LoyaltyCard"});
  auto back = UnifyConfigFromJson(UnifyConfigToJson(p->unification));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p->unification);
  // Defaults: on, 25 records; `false` turns it off.
  EXPECT_EQ(PlaceholderDetectionConfig().min_records, 25);
  std::string plain = yaml.substr(0, yaml.find("  placeholder_detection"));
  auto off = ParseProjectYaml(plain + "  placeholder_detection: false\n", "p.yaml", "/tmp");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->unification.placeholder_detection.enabled);
  back = UnifyConfigFromJson(UnifyConfigToJson(off->unification));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, off->unification);
  const std::string rule = "  sources: [A, B]\n  rules: [{name: r, conditions: [{field: E}]}]\n";
  ExpectError(rule + "  placeholder_detection: {min_records: 1}\n",
              "unification.placeholder_detection.min_records: expected at least 2");
  ExpectError(rule + "  placeholder_detection: {limit: 3}\n", "limit");
  ExpectError(rule + "  placeholder_detection: often\n", "expected true, false or a mapping");
  ExpectError("  sources: [A, B]\n  rules: [{name: r, conditions: [{field: E}, {field: C, compare: token_set}]}]\n",
              "a token_set comparison needs a 'threshold'");
}

TEST(UnifyConfigTest, HouseholdKeysDefaultParseRoundTripAndErrors) {
  const std::string head =
      "sources:\n  - {name: A, kind: csv, path: a.csv, primary_key: Id}\nunification:\n  sources: [A]\n"
      "  mode: probabilistic\n  probabilistic:\n    comparisons:\n"
      "      - {field: LastName, levels: [exact]}\n      - {field: Phone, levels: [exact]}\n"
      "      - {field: FirstName, levels: [exact]}\n    blocking: [{field: Phone}]\n";
  auto def = ParseProjectYaml(head, "p.yaml", "/tmp");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->unification.probabilistic.household_keys, ProbabilisticConfig::DefaultHouseholdKeys());
  for (const char* keys : {"[]", "[Phone, LastName]"}) {
    auto p = ParseProjectYaml(head + "    household_keys: " + keys + "\n", "p.yaml", "/tmp");
    ASSERT_TRUE(p.ok()) << keys << ": " << p.status().ToString();
    EXPECT_EQ(p->unification.probabilistic.household_keys.size(), std::string(keys) == "[]" ? 0u : 2u);
    auto back = UnifyConfigFromJson(UnifyConfigToJson(p->unification));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->probabilistic.household_keys, p->unification.probabilistic.household_keys) << keys;
  }
  auto bad = ParseProjectYaml(head + "    household_keys: [Phone, Address]\n", "p.yaml", "/tmp");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("household_keys: 'Address' is not the field of a comparison"),
            std::string::npos)
      << bad.status().message();
  auto one = ParseProjectYaml(head + "    household_keys: [Phone]\n", "p.yaml", "/tmp");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("needs at least two comparisons"), std::string::npos);
}

}  // namespace
}  // namespace cdp
