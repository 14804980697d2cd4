#include "unify/unifier.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

namespace cdp {
namespace {

struct Spec {
  Spec(const char* n, DataType t = DataType::kString, const char* s = "") : name(n), type(t), semantic(s) {}
  std::string name;
  DataType type;
  std::string semantic;
};

// Values as text: "" is null; dates as days since 1970-01-01; int64 as digits.
std::shared_ptr<const Table> MakeTable(const std::vector<Spec>& specs, const std::vector<std::vector<std::string>>& rows) {
  Schema schema;
  for (const auto& s : specs) schema.AddField(Field{s.name, s.type, SemanticType(s.semantic)});
  auto t = std::make_shared<Table>(schema);
  for (const auto& row : rows) {
    for (size_t c = 0; c < specs.size(); ++c) {
      Column& col = t->mutable_column(c);
      const std::string& v = row[c];
      if (v.empty()) {
        col.AppendNull();
      } else if (specs[c].type == DataType::kString) {
        col.AppendString(v);
      } else if (specs[c].type == DataType::kDate) {
        col.AppendDate(std::stoi(v));
      } else {
        col.AppendInt64(std::stoll(v));
      }
    }
    t->FinishRow();
  }
  return t;
}

UnifyConfig Config(const std::string& yaml) {
  auto c = ParseUnifyConfig(YAML::Load(yaml), "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : UnifyConfig();
}

// eCommerce-like and loyalty-like sources.
std::shared_ptr<const Table> Contacts() {
  return MakeTable({{"ContactId"}, {"FirstName", DataType::kString, "Person.FirstName"},
                    {"LastName", DataType::kString, "Person.LastName"}, {"Email", DataType::kString, "Email"},
                    {"Telephone", DataType::kString, "Phone"}, {"City"}, {"Updated", DataType::kInt64}},
                   {{"1", "Robert", "Smith", "bob.smith@gmail.com", "(206) 555-0142", "Seattle", "10"},
                    {"2", "Maria", "Garcia", "maria@example.com", "", "Austin", "20"},
                    {"3", "Test", "User", "test@test.com", "", "", "30"},
                    {"4", "Other", "Person", "test@test.com", "", "", "40"},
                    {"5", "Ann", "Lee", "ann@lee.org", "", "Boston", "50"}});
}

std::shared_ptr<const Table> Loyalty() {
  return MakeTable({{"LoyaltyId"}, {"First"}, {"Last"}, {"EMail"}, {"Phone"}, {"Tier"}, {"Updated", DataType::kInt64}},
                   {{"L1", "Bob", "Smith", "BobSmith@GMAIL.com", "+1 206 555 0142", "Gold", "99"},
                    {"L2", "Maria", "Garcia", "MARIA@example.com ", "512-555-0100", "Silver", "5"},
                    {"L3", "Zed", "Zulu", "zed@z.com", "", "Bronze", "7"}});
}

const char* kBasic = R"(
sources:
  - {source: Contacts, key: ContactId}
  - {source: Loyalty, key: LoyaltyId, fields: {FirstName: First, LastName: Last, Email: EMail, Phone: Phone}}
rules:
  - name: SameEmail
    conditions: [{field: Email, normalize: [EmailProvider]}]
  - name: SamePhoneAndName
    conditions:
      - {field: Phone, normalize: [Phone]}
      - {field: LastName, normalize: [Name]}
)";

std::map<std::string, int64_t> IdsByRecord(const UnifyResult& r) {
  std::map<std::string, int64_t> out;
  const Table& t = *r.source_keys;
  for (size_t i = 0; i < t.num_rows(); ++i) {
    out[std::string(t.column(1).StringAt(i)) + ":" + std::string(t.column(2).StringAt(i))] = t.column(0).Int64At(i);
  }
  return out;
}

TEST(UnifyTest, MatchesAcrossSourcesWithNormalizedValuesAndKeepsUnmatchedRecords) {
  UnifyConfig config = Config(kBasic);
  auto r = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_EQ(ids["Contacts:1"], ids["Loyalty:L1"]);  // gmail dots and case
  EXPECT_EQ(ids["Contacts:2"], ids["Loyalty:L2"]);  // case and blanks
  EXPECT_NE(ids["Contacts:3"], ids["Contacts:4"]);  // placeholder email never matches (and same source)
  EXPECT_EQ(r->stats.profiles_out, 6);
  EXPECT_EQ(r->customers->num_rows(), 6u);
  EXPECT_EQ(r->stats.records_in, 8);
  // Mapped fields merge under the attribute name; unmapped ones flow through.
  const Schema& s = r->customers->schema();
  EXPECT_GE(s.FieldIndex("FirstName"), 0);
  EXPECT_GE(s.FieldIndex("Phone"), 0);  // Telephone via its semantic type, Phone by map
  EXPECT_GE(s.FieldIndex("Tier"), 0);
  EXPECT_GE(s.FieldIndex("LoyaltyId"), 0);
  EXPECT_EQ(s.FieldIndex("Telephone"), -1);
  // Source priority: Contacts first.
  const Column& first = *r->customers->ColumnByName("FirstName");
  const Column& tier = *r->customers->ColumnByName("Tier");
  bool found = false;
  for (size_t i = 0; i < r->customers->num_rows(); ++i) {
    if (r->customers->column(0).Int64At(i) == ids["Contacts:1"]) {
      EXPECT_EQ(first.StringAt(i), "Robert");
      EXPECT_EQ(tier.StringAt(i), "Gold");
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // Pairs record their rule and score.
  const Table& mp = *r->match_pairs;
  ASSERT_EQ(mp.num_rows(), 2u);
  EXPECT_EQ(mp.ColumnByName("Rule")->StringAt(0), "SameEmail");
  EXPECT_DOUBLE_EQ(mp.ColumnByName("Score")->DoubleAt(0), 1.0);
  EXPECT_EQ(mp.ColumnByName("Status")->StringAt(0), "merged");
  ASSERT_EQ(r->stats.rules.size(), 3u);  // two rules and "override"
  EXPECT_EQ(r->stats.rules[0].merges, 2);
}

TEST(UnifyTest, IncludeAllFalseDropsUnmatchedNonPrimaryRecords) {
  UnifyConfig config = Config(std::string(kBasic) + "include_all: false\n");
  auto r = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_TRUE(r.ok());
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids.count("Loyalty:L3"), 0u);
  EXPECT_EQ(ids.count("Contacts:5"), 1u);
  EXPECT_EQ(r->stats.dropped_unmatched, 1);
}

TEST(UnifyTest, StableIdsAcrossRerunsWithAddedAndRemovedRecords) {
  UnifyConfig config = Config(kBasic);
  auto first = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_TRUE(first.ok());
  auto ids1 = IdsByRecord(*first);
  PreviousLineage prev;
  for (const auto& [rec, id] : ids1) {
    size_t colon = rec.find(':');
    prev.Add(rec.substr(0, colon), rec.substr(colon + 1), id);
  }
  // Remove Contacts:2 and add a new contact matching Loyalty:L3.
  auto contacts = MakeTable({{"ContactId"}, {"FirstName", DataType::kString, "Person.FirstName"},
                             {"LastName", DataType::kString, "Person.LastName"}, {"Email", DataType::kString, "Email"},
                             {"Telephone", DataType::kString, "Phone"}, {"City"}, {"Updated", DataType::kInt64}},
                            {{"1", "Robert", "Smith", "bob.smith@gmail.com", "(206) 555-0142", "Seattle", "10"},
                             {"3", "Test", "User", "test@test.com", "", "", "30"},
                             {"4", "Other", "Person", "test@test.com", "", "", "40"},
                             {"5", "Ann", "Lee", "ann@lee.org", "", "Boston", "50"},
                             {"6", "Zed", "Zulu", "zed@z.com", "", "", "60"}});
  auto second = Unify(config, {contacts, Loyalty()}, {}, prev, {});
  ASSERT_TRUE(second.ok());
  auto ids2 = IdsByRecord(*second);
  for (const char* rec : {"Contacts:1", "Loyalty:L1", "Contacts:3", "Contacts:4", "Contacts:5", "Loyalty:L2", "Loyalty:L3"}) {
    EXPECT_EQ(ids2[rec], ids1[rec]) << rec;
  }
  EXPECT_EQ(ids2["Contacts:6"], ids1["Loyalty:L3"]);  // joined an existing profile
  EXPECT_EQ(second->stats.new_ids, 0);
  int64_t max1 = 0;
  for (const auto& [rec, id] : ids1) max1 = std::max(max1, id);
  // A brand-new person gets an id above every previous one.
  auto third = Unify(config, {MakeTable({{"ContactId"}, {"Email", DataType::kString, "Email"}}, {{"99", "new@x.com"}}),
                              Loyalty()},
                     {}, prev, {});
  ASSERT_TRUE(third.ok());
  EXPECT_GT(IdsByRecord(*third)["Contacts:99"], max1);
}

TEST(UnifyTest, NeverMatchOverrideSplitsAWrongMergeAndTheSplitIsRecorded) {
  UnifyConfig config = Config(kBasic);
  auto first = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_TRUE(first.ok());
  auto ids1 = IdsByRecord(*first);
  PreviousLineage prev;
  for (const auto& [rec, id] : ids1) {
    size_t colon = rec.find(':');
    prev.Add(rec.substr(0, colon), rec.substr(colon + 1), id);
  }
  std::vector<MatchOverride> overrides = {{"Contacts", "1", "Loyalty", "L1", false},
                                          {"Contacts", "5", "Loyalty", "L3", true}};
  auto second = Unify(config, {Contacts(), Loyalty()}, overrides, prev, {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto ids2 = IdsByRecord(*second);
  EXPECT_NE(ids2["Contacts:1"], ids2["Loyalty:L1"]);
  EXPECT_EQ(ids2["Contacts:5"], ids2["Loyalty:L3"]);
  EXPECT_EQ(ids2["Contacts:1"], ids1["Contacts:1"]);  // one part keeps the id
  bool split = false, merge = false;
  for (const auto& c : second->id_changes) {
    if (c.kind == "split" && c.customer_id == ids1["Contacts:1"]) split = c.other_ids.size() == 2;
    if (c.kind == "merge") merge = true;
  }
  EXPECT_TRUE(split);
  EXPECT_TRUE(merge);
  EXPECT_EQ(second->stats.overrides_always, 1);
  EXPECT_EQ(second->stats.overrides_never, 1);
  EXPECT_EQ(second->stats.pairs_blocked_by_override, 1);
}

TEST(UnifyTest, GiantBlockIsSkippedWithAWarningNamingTheKey) {
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({std::to_string(i), "shared@family.com"});
  rows.push_back({"100", "a@b.com"});
  rows.push_back({"101", "a@b.com"});
  auto t = MakeTable({{"Id"}, {"Email", DataType::kString, "Email"}}, rows);
  UnifyConfig config = Config(R"(
sources:
  - source: S
    key: Id
    dedup: {rules: [{name: E, conditions: [{field: Email, normalize: [Email]}]}]}
max_block_size: 10
placeholder_detection: false  # else 30 records sharing an email are a placeholder, not a block
)");
  auto r = Unify(config, {t}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->stats.matching.skipped_blocks.size(), 1u);
  EXPECT_EQ(r->stats.matching.skipped_blocks[0].key, "shared@family.com");
  EXPECT_EQ(r->stats.matching.skipped_blocks[0].records, 30);
  EXPECT_NE(r->stats.warnings[0].find("shared@family.com"), std::string::npos);
  EXPECT_EQ(r->stats.profiles_out, 31);
}

// Households: parent and child share phone, e-mail, address and surname, with
// different first names and birth dates (dates as days since 1970-01-01).
std::shared_ptr<const Table> HouseholdCrm() {
  return MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                    {"LastName", DataType::kString, "Person.LastName"}, {"DateOfBirth", DataType::kDate},
                    {"Phone", DataType::kString, "Phone"}, {"Email", DataType::kString, "Email"}, {"PostalCode"}},
                   {{"c1", "John", "Rhodes", "3000", "(206) 555-0142", "rhodes.family@gmail.com", "98101"}});
}
std::shared_ptr<const Table> HouseholdShop() {
  return MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                    {"LastName", DataType::kString, "Person.LastName"}, {"DateOfBirth", DataType::kDate},
                    {"Phone", DataType::kString, "Phone"}, {"Email", DataType::kString, "Email"}, {"PostalCode"}},
                   {{"s1", "Jhon", "Rhodes", "3000", "206-555-0142", "rhodes.family@gmail.com", "98101"},   // John, a typo
                    {"s2", "Emily", "Rhodes", "12500", "206 555 0142", "rhodes.family@gmail.com", "98101"},  // his child
                    {"s3", "Johnny", "Rhodes", "", "206 555 0142", "", "98101"}});  // no birth date: no verdict
}

const char* kHouseholdRules = R"(
sources:
  - {source: Crm, key: Id}
  - {source: Shop, key: Id}
rules:
  - name: PhoneAndPostcode
    conditions: [{field: Phone, normalize: [Phone]}, {field: PostalCode}]
)";

std::string StatusOf(const UnifyResult& r, const std::string& key_b) {
  const Table& mp = *r.match_pairs;
  for (size_t i = 0; i < mp.num_rows(); ++i) {
    if (mp.ColumnByName("KeyB")->StringAt(i) == key_b) return std::string(mp.ColumnByName("Status")->StringAt(i));
  }
  return "";
}

TEST(UnifyGuardsTest, APhoneRuleMergesAHouseholdWithoutGuardsAndNotWithThem) {
  auto without = Unify(Config(kHouseholdRules), {HouseholdCrm(), HouseholdShop()}, {}, {}, {});
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  auto ids = IdsByRecord(*without);
  EXPECT_EQ(ids["Crm:c1"], ids["Shop:s2"]);  // parent and child merged
  EXPECT_EQ(without->stats.profiles_out, 1);

  const std::string guards = std::string(kHouseholdRules) + R"(
guards:
  - {field: DateOfBirth, compare: date_within, days: 0}
  - {field: FirstName, normalize: [Name], compare: jaro_winkler, threshold: 0.88}
)";
  auto with = Unify(Config(guards), {HouseholdCrm(), HouseholdShop()}, {}, {}, {});
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  ids = IdsByRecord(*with);
  EXPECT_EQ(ids["Crm:c1"], ids["Shop:s1"]);  // Jhon ~ John, same birth date
  EXPECT_NE(ids["Crm:c1"], ids["Shop:s2"]);  // Emily, born 26 years later
  EXPECT_EQ(ids["Crm:c1"], ids["Shop:s3"]);  // Johnny ~ John (nickname), no birth date: the empty side never blocks
  EXPECT_EQ(StatusOf(*with, "s2"), "blocked_by_guard");
  EXPECT_EQ(with->stats.pairs_blocked_by_guard, 1);
  EXPECT_EQ(with->stats.rules[0].blocked_by_guard, 1);
  EXPECT_NE(with->stats.ToJson().find("\"pairs_blocked_by_guard\":1"), std::string::npos);

  // Explain shows each guard's verdict with both values.
  auto e = ExplainRecordPair(Config(guards), {HouseholdCrm(), HouseholdShop()}, "Crm", "c1", "Shop", "s2", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->matched);
  EXPECT_EQ(e->blocked_by_guard, "DateOfBirth");
  ASSERT_EQ(e->guards.size(), 2u);
  EXPECT_FALSE(e->guards[0].passed);
  EXPECT_EQ(e->guards[0].value_a, "1978-03-20");
  EXPECT_EQ(e->guards[0].value_b, "2004-03-23");
  EXPECT_FALSE(e->guards[1].passed);
  EXPECT_EQ(e->guards[1].value_b, "emily");
  auto e3 = ExplainRecordPair(Config(guards), {HouseholdCrm(), HouseholdShop()}, "Crm", "c1", "Shop", "s3", nullptr);
  ASSERT_TRUE(e3.ok());
  EXPECT_TRUE(e3->matched);
  EXPECT_TRUE(e3->guards[0].passed);
  EXPECT_EQ(e3->guards[0].note, "a value is missing: no verdict");
}

TEST(UnifyGuardsTest, ARulesOwnGuardsRefuseItsPairsAndAreCountedPerRule) {
  const std::string yaml = std::string(kHouseholdRules) +
                           "    guards: [{field: DateOfBirth, compare: date_within, days: 0}]\n";
  auto r = Unify(Config(yaml), {HouseholdCrm(), HouseholdShop()}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["Crm:c1"], ids["Shop:s1"]);
  EXPECT_NE(ids["Crm:c1"], ids["Shop:s2"]);
  EXPECT_EQ(r->stats.rules[0].guard_refusals, 1);  // the rule refused (c1, s2): no pair at all
  EXPECT_EQ(StatusOf(*r, "s2"), "");
  auto e = ExplainRecordPair(Config(yaml), {HouseholdCrm(), HouseholdShop()}, "Crm", "c1", "Shop", "s2", nullptr);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->rules.size(), 1u);
  EXPECT_TRUE(e->rules[0].guard_failed);
  EXPECT_FALSE(e->rules[0].matched);
  ASSERT_EQ(e->rules[0].guards.size(), 1u);
  EXPECT_FALSE(e->rules[0].guards[0].passed);
}

TEST(UnifyGuardsTest, AChainThroughARecordWithoutBirthDateKeepsConflictingRecordsApart) {
  // a (born 1980) ~ b (no birth date) by e-mail, b ~ c (born 1990) by phone.
  auto one = [](const char* id, const char* dob, const char* email, const char* phone) {
    return MakeTable({{"Id"}, {"DateOfBirth", DataType::kDate}, {"Email", DataType::kString, "Email"},
                      {"Phone", DataType::kString, "Phone"}},
                     {{id, dob, email, phone}});
  };
  UnifyConfig config = Config(R"(
sources: [{source: A, key: Id}, {source: B, key: Id}, {source: C, key: Id}]
rules:
  - {name: SameEmail, conditions: [{field: Email, normalize: [Email]}]}
  - {name: SamePhone, conditions: [{field: Phone, normalize: [Phone]}]}
guards: [{field: DateOfBirth, compare: date_within, days: 0}]
)");
  std::vector<std::shared_ptr<const Table>> tables = {one("a", "3652", "pat@x.org", ""),
                                                      one("b", "", "pat@x.org", "(206) 555-0142"),
                                                      one("c", "7429", "", "206 555 0142")};
  auto r = Unify(config, tables, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["A:a"], ids["B:b"]);
  EXPECT_NE(ids["B:b"], ids["C:c"]);
  EXPECT_EQ(r->stats.profiles_out, 2);
  EXPECT_EQ(r->stats.rules[1].blocked_by_guard, 1);
  config.guards.clear();
  auto chained = Unify(config, tables, {}, {}, {});
  ASSERT_TRUE(chained.ok());
  EXPECT_EQ(chained->stats.profiles_out, 1);
}

TEST(UnifyGuardsTest, OneRecordPerSourceUnlessItsDedupJoinedThem) {
  auto a = MakeTable({{"Id"}, {"Email", DataType::kString, "Email"}, {"Phone", DataType::kString, "Phone"}},
                     {{"a1", "kim@x.org", "(206) 555-0142"}, {"a2", "kim@y.org", "(206) 555-0142"}});
  auto b = MakeTable({{"Id"}, {"Email", DataType::kString, "Email"}, {"Phone", DataType::kString, "Phone"}},
                     {{"b1", "kim@x.org", "206 555 0142"}});
  const std::string base = R"(
rules:
  - {name: SamePhone, conditions: [{field: Phone, normalize: [Phone]}]}
)";
  auto run = [&](const std::string& yaml) {
    auto r = Unify(Config(yaml), {a, b}, {}, {}, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->stats.profiles_out : -1;
  };
  EXPECT_EQ(run("sources: [{source: A, key: Id}, {source: B, key: Id}]" + base), 1);
  auto r = Unify(Config("sources: [{source: A, key: Id}, {source: B, key: Id}]" + base +
                        "one_record_per_source: [A]\n"),
                 {a, b}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.profiles_out, 2);
  EXPECT_EQ(r->stats.pairs_blocked_by_source, 1);
  EXPECT_EQ(r->stats.rules[0].blocked_by_source, 1);
  // B alone limited: no effect (one record of B).
  EXPECT_EQ(run("sources: [{source: A, key: Id}, {source: B, key: Id}]" + base + "one_record_per_source: [B]\n"), 1);
  // A's own dedup rule joins a1 and a2 (same phone): then they may share a profile.
  EXPECT_EQ(run(R"(sources:
  - source: A
    key: Id
    dedup: {rules: [{name: Phone, conditions: [{field: Phone, normalize: [Phone]}]}]}
  - {source: B, key: Id}
one_record_per_source: true
)" + base),
            1);
}

// In probabilistic mode the model scores pairs within a source too: its
// direct verdict on two records of one source joins them under
// one_record_per_source (the option stops chains through other sources, and
// match rules' pairs inside a source, not the model's own dedup). Regression:
// every within-source duplicate the dedup rules missed stayed apart (issue 16,
// gen20k probabilistic_v2 recall 0.73).
TEST(UnifyGuardsTest, OneRecordPerSourceKeepsTheModelsDirectPairsWithinASource) {
  auto people = MakeTable({{"Id"}, {"FirstName"}, {"LastName"}, {"City"}},
                          {{"1", "Robert", "Smith", "Seattle"},
                           {"2", "Robert", "Smith", "Seattle"},
                           {"3", "Maria", "Garcia", "Austin"},
                           {"4", "Maria", "Garcia", "Austin"},
                           {"5", "Ann", "Lee", "Boston"},
                           {"6", "Ann", "Lee", "Boston"},
                           {"7", "Zed", "Smith", "Denver"},
                           {"8", "Amy", "Garcia", "Miami"},
                           {"9", "Bo", "Lee", "Tulsa"}});
  auto config_text = [](const std::string& extra) {
    return R"(
sources: [{source: People, key: Id}]
mode: probabilistic
rules:
  - name: SameNameAndCity
    conditions: [{field: FirstName}, {field: LastName}, {field: City}]
probabilistic:
  comparisons:
    - {field: FirstName, levels: [exact]}
    - {field: LastName, levels: [exact]}
    - {field: City, levels: [exact]}
  blocking: [{field: LastName}]
  training: [{field: LastName}, {field: City}]
  threshold: 0.5
)" + extra;
  };
  auto free = Unify(Config(config_text("")), {people}, {}, {}, {});
  auto limited = Unify(Config(config_text("one_record_per_source: true\n")), {people}, {}, {}, {});
  ASSERT_TRUE(free.ok() && limited.ok()) << free.status().ToString() << limited.status().ToString();
  EXPECT_EQ(limited->stats.profiles_out, free->stats.profiles_out);
  EXPECT_EQ(limited->stats.pairs_blocked_by_source, 0);
  auto ids = IdsByRecord(*limited);
  EXPECT_EQ(ids["People:1"], ids["People:2"]);
  EXPECT_EQ(ids["People:3"], ids["People:4"]);
  EXPECT_NE(ids["People:1"], ids["People:7"]);
}

TEST(UnifyBlockingTest, KeyItemsKeepTheWholePostcodeAndTheFirstInitial) {
  // Zip + first initial: only 98101|j holds more than one record.
  auto t = MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                      {"LastName", DataType::kString, "Person.LastName"}, {"PostalCode"}},
                     {{"1", "John", "Smith", "98101"},
                      {"2", "Jane", "Smith", "98101"},
                      {"3", "Jim", "Smyth", "98101"},
                      {"4", "John", "Smith", "98102"},
                      {"5", "Bob", "Smith", "98101"},
                      {"6", "Jo", "Smith", ""}});
  auto candidates = [&](const std::string& key) {
    UnifyConfig config = Config(R"(
sources:
  - source: S
    key: Id
    dedup:
      rules:
        - name: Surname
          conditions: [{field: LastName, normalize: [Name], compare: jaro_winkler, threshold: 0.8}]
          blocking: [)" + key + "]\n");
    auto r = Unify(config, {t}, {}, {}, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->stats.matching.candidate_pairs : -1;
  };
  // {1, 2, 3}: 3 pairs.
  EXPECT_EQ(candidates("{key: [PostalCode, {field: FirstName, normalize: [Name], method: prefix, length: 1}]}"), 3);
  // The old form cuts every field: 9|j holds 1, 2, 3 and 4: 6 pairs.
  EXPECT_EQ(candidates("{fields: [PostalCode, FirstName], method: prefix, length: 1}"), 6);
  // Phonetic items: soundex(Smith) = soundex(Smyth) within 98101: 1, 2, 3, 5.
  EXPECT_EQ(candidates("{key: [PostalCode, {field: LastName, method: soundex}]}"), 6);
  // The matched pairs are those the key allows: 1~2 and 1~3 and 2~3 (jaro_winkler on surname).
  UnifyConfig config = Config(R"(
sources:
  - source: S
    key: Id
    dedup:
      rules:
        - name: Surname
          conditions: [{field: LastName, normalize: [Name], compare: jaro_winkler, threshold: 0.8}]
          blocking: [{key: [PostalCode, {field: FirstName, method: prefix, length: 1}]}]
)");
  auto r = Unify(config, {t}, {}, {}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stats.profiles_out, 4);  // {1,2,3}, 4, 5, 6
}

TEST(UnifyTest, DedupWinnerPolicies) {
  auto t = MakeTable({{"Id"}, {"Email", DataType::kString, "Email"}, {"City"}, {"Seen", DataType::kInt64}},
                     {{"a", "x@y.com", "", "5"}, {"b", "X@Y.com", "Oslo", "1"}, {"c", "x@y.com", "", "9"}});
  auto run = [&](const std::string& winner) {
    UnifyConfig config = Config("sources:\n  - source: S\n    key: Id\n    dedup:\n      " + winner +
                                "\n      rules: [{name: E, conditions: [{field: Email, normalize: [Email]}]}]\n");
    auto r = Unify(config, {t}, {}, {}, {});
    EXPECT_TRUE(r.ok());
    const Table& d = *r->dedup.at(0).second;
    EXPECT_EQ(r->dedup[0].first, "Dedup_S");
    std::string w;
    for (size_t i = 0; i < d.num_rows(); ++i) {
      EXPECT_EQ(d.column(1).StringAt(i), d.column(1).StringAt(0));  // one group
      EXPECT_EQ(d.column(3).StringAt(i), "S/E");
      if (d.column(2).BoolAt(i)) w += std::string(d.column(0).StringAt(i));
    }
    EXPECT_EQ(r->stats.profiles_out, 1);
    return w;
  };
  EXPECT_EQ(run("winner: most_filled"), "b");
  EXPECT_EQ(run("winner: most_recent\n      winner_field: Seen"), "c");
  EXPECT_EQ(run("winner: least_recent\n      winner_field: Seen"), "b");
}

TEST(UnifyTest, MergePoliciesGroupsRenameAndExclude) {
  UnifyConfig config = Config(std::string(kBasic) + R"(
merge:
  fields:
    - {name: FirstName, policy: most_recent, by: Updated}
    - {name: Email, policy: concatenate, separator: " | "}
    - {name: Tier, policy: source_priority, sources: [Loyalty]}
  groups: [[LastName, City]]
  rename: {Tier: LoyaltyTier}
  exclude: [ContactId]
)");
  auto bad = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_FALSE(bad.ok());  // Tier was renamed: merge.fields must use the output name
  EXPECT_NE(bad.status().message().find("'Tier' is not a field"), std::string::npos) << bad.status().message();
  config.merge.fields[2].name = "LoyaltyTier";
  auto r = Unify(config, {Contacts(), Loyalty()}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Table& c = *r->customers;
  EXPECT_EQ(c.schema().FieldIndex("ContactId"), -1);
  ASSERT_GE(c.schema().FieldIndex("LoyaltyTier"), 0);
  auto ids = IdsByRecord(*r);
  for (size_t i = 0; i < c.num_rows(); ++i) {
    if (c.column(0).Int64At(i) != ids["Contacts:1"]) continue;
    EXPECT_EQ(c.ColumnByName("FirstName")->StringAt(i), "Bob");  // Updated 99 > 10
    EXPECT_EQ(c.ColumnByName("Email")->StringAt(i), "bob.smith@gmail.com | BobSmith@GMAIL.com");
    EXPECT_EQ(c.ColumnByName("City")->StringAt(i), "Seattle");  // with LastName from Contacts
  }
}

TEST(UnifyTest, FuzzyRuleWithPhoneticBlockingAndExplainPair) {
  auto a = MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                      {"LastName", DataType::kString, "Person.LastName"}, {"Dob", DataType::kDate, "Person.DateOfBirth"}},
                     {{"1", "Jonathan", "Smith", "3000"}, {"2", "Maria", "Garcia", "4000"}});
  auto b = MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                      {"LastName", DataType::kString, "Person.LastName"}, {"Dob", DataType::kDate, "Person.DateOfBirth"}},
                     {{"x", "Jonathon", "Smyth", "3001"}, {"y", "Mario", "Garcia", "9000"}});
  UnifyConfig config = Config(R"(
sources: [{source: A, key: Id}, {source: B, key: Id}]
rules:
  - name: NameDob
    conditions:
      - {field: FirstName, normalize: [Name], compare: fuzzy, precision: High}
      - {field: LastName, normalize: [Name], compare: jaro_winkler, threshold: 0.85}
      - {field: DateOfBirth, compare: date_within, days: 2}
    blocking: [{field: LastName, normalize: [Name], method: soundex}]
)");
  auto r = Unify(config, {a, b}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["A:1"], ids["B:x"]);
  EXPECT_NE(ids["A:2"], ids["B:y"]);  // names close but birth dates far apart
  auto e = ExplainRecordPair(config, {a, b}, "A", "2", "B", "y", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->rules.size(), 1u);
  EXPECT_FALSE(e->matched);
  ASSERT_EQ(e->rules[0].conditions.size(), 3u);
  EXPECT_TRUE(e->rules[0].conditions[1].passed);  // garcia == garcia
  EXPECT_FALSE(e->rules[0].conditions[2].passed);
  EXPECT_EQ(e->rules[0].conditions[0].value_a, "maria");
  EXPECT_NEAR(e->rules[0].conditions[0].similarity, 0.8, 1e-9);  // maria / mario: (5-1)/5
  auto m = ExplainRecordPair(config, {a, b}, "A", "1", "B", "x", nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->matched);
  EXPECT_EQ(m->matched_by, "NameDob");
  EXPECT_FALSE(ExplainRecordPair(config, {a, b}, "A", "nope", "B", "x", nullptr).ok());
}

TEST(UnifyTest, RuleExceptionsBlockTheRule) {
  UnifyConfig config = Config(R"(
sources: [{source: A, key: Id}, {source: B, key: Id}]
rules:
  - name: E
    conditions: [{field: Email, normalize: [Email]}]
    exceptions: [{field: Email, normalize: [Email], values: [Info@Contoso.com]}]
)");
  auto a = MakeTable({{"Id"}, {"Email"}}, {{"1", "info@contoso.com"}, {"2", "me@x.com"}});
  auto b = MakeTable({{"Id"}, {"Email"}}, {{"1", "INFO@contoso.com"}, {"2", "me@x.com"}});
  auto r = Unify(config, {a, b}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_NE(ids["A:1"], ids["B:1"]);
  EXPECT_EQ(ids["A:2"], ids["B:2"]);
}

TEST(UnifyTest, ErrorsNameTheRuleSourceAndField) {
  UnifyConfig config = Config(R"(
sources: [{source: A, key: Id}, {source: B, key: Id}]
rules: [{name: R, conditions: [{field: Emial}]}]
)");
  auto a = MakeTable({{"Id"}, {"Email"}}, {{"1", "x"}});
  auto r = Unify(config, {a, a}, {}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unification.rules[0] 'R'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'Emial'"), std::string::npos);
  config.rules[0].conditions[0].field = "Email";
  config.sources[1].key = "Key";
  r = Unify(config, {a, a}, {}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unification source 'B': key field 'Key'"), std::string::npos);
  config.sources[1].key = "Id";
  auto dup = MakeTable({{"Id"}, {"Email"}}, {{"1", "x"}, {"1", "y"}});
  r = Unify(config, {a, dup}, {}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("appears more than once"), std::string::npos);
}

// Regression: in probabilistic mode the prior rules only counted pairs of two
// different sources, so deduplicating a single source failed with "the
// deterministic rules accepted no candidate pair".
TEST(UnifyTest, ProbabilisticModeDeduplicatesASingleSource) {
  auto people = MakeTable({{"Id"}, {"FirstName"}, {"LastName"}, {"City"}},
                          {{"1", "Robert", "Smith", "Seattle"},
                           {"2", "Robert", "Smith", "Seattle"},
                           {"3", "Maria", "Garcia", "Austin"},
                           {"4", "Maria", "Garcia", "Austin"},
                           {"5", "Ann", "Lee", "Boston"},
                           {"6", "Ann", "Lee", "Boston"},
                           {"7", "Zed", "Smith", "Denver"},
                           {"8", "Amy", "Garcia", "Miami"},
                           {"9", "Bo", "Lee", "Tulsa"}});
  UnifyConfig config = Config(R"(
sources: [{source: People, key: Id}]
mode: probabilistic
rules:
  - name: SameNameAndCity
    conditions: [{field: FirstName}, {field: LastName}, {field: City}]
probabilistic:
  comparisons:
    - {field: FirstName, levels: [exact]}
    - {field: LastName, levels: [exact]}
    - {field: City, levels: [exact]}
  blocking: [{field: LastName}]
  training: [{field: LastName}, {field: City}]
  threshold: 0.5
)");
  auto r = Unify(config, {people}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.matching.deterministic_prior_pairs, 3);
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["People:1"], ids["People:2"]);
  EXPECT_EQ(ids["People:3"], ids["People:4"]);
  EXPECT_NE(ids["People:1"], ids["People:7"]);
}

// Regression: swapped fields (given name in the surname field) could only be
// matched by ingesting crosswise copies of the fields, which cannot work when
// deduplicating one source. A condition with `other` compares one record's
// field with the other record's other field; the rule holds when all its
// conditions hold in one orientation.
TEST(UnifyTest, ConditionsWithOtherMatchSwappedFieldsInOneSource) {
  auto people = MakeTable({{"Id"}, {"FirstName"}, {"LastName"}, {"City"}},
                          {{"1", "Robert", "Smith", "Seattle"},
                           {"2", "Smith", "Robert", "Seattle"},    // swapped: same person as 1
                           {"3", "Smith", "Maria", "Seattle"},     // one crosswise pair only
                           {"4", "Robert", "Robert", "Seattle"},   // Robert twice
                           {"5", "Smyth", "Roberto", "Seattle"}});  // swapped, with typos
  UnifyConfig config = Config(R"(
sources:
  - source: People
    key: Id
    dedup:
      rules:
        - name: SwappedNames
          conditions:
            - {field: City}
            - {field: FirstName, other: LastName, compare: jaro_winkler, threshold: 0.85}
            - {field: LastName, other: FirstName, compare: jaro_winkler, threshold: 0.85}
)");
  auto r = Unify(config, {people}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["People:1"], ids["People:2"]);
  EXPECT_EQ(ids["People:1"], ids["People:5"]);
  EXPECT_NE(ids["People:1"], ids["People:3"]);  // Smith~Smith holds, Maria~Robert does not
  EXPECT_NE(ids["People:1"], ids["People:4"]);  // Robert~Robert holds in one orientation, Smith~Robert in none

  auto e = ExplainRecordPair(config, {people}, "People", "2", "People", "1", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->matched);
  EXPECT_EQ(e->record_a, "People:1");
  ASSERT_EQ(e->rules.size(), 1u);
  ASSERT_EQ(e->rules[0].conditions.size(), 3u);
  EXPECT_EQ(e->rules[0].conditions[0].field, "City");
  const ConditionExplanation& c = e->rules[0].conditions[1];
  EXPECT_TRUE(c.passed);
  EXPECT_EQ(c.field, "FirstName ~ LastName");
  EXPECT_EQ(c.value_a, "Robert");
  EXPECT_EQ(c.value_b, "Robert");

  // With a single crosswise condition the orientation matters: record 3's
  // FirstName is record 1's LastName. Explain shows the orientation that held.
  config.sources[0].dedup.rules[0].conditions.pop_back();
  config.sources[0].dedup.rules[0].conditions[1].compare = CompareKind::kExact;
  r = Unify(config, {people}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ids = IdsByRecord(*r);
  EXPECT_EQ(ids["People:1"], ids["People:3"]);
  auto s = ExplainRecordPair(config, {people}, "People", "1", "People", "3", nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matched);
  EXPECT_TRUE(s->rules[0].swapped);
  const ConditionExplanation& sc = s->rules[0].conditions[1];
  EXPECT_EQ(sc.field_a, "LastName");
  EXPECT_EQ(sc.field_b, "FirstName");
  EXPECT_EQ(sc.value_a, "Smith");
  EXPECT_EQ(sc.value_b, "Smith");
}

TEST(UnifyTest, RuleWithOnlyCrosswiseExactConditionsNeedsBlocking) {
  UnifyConfig config = Config(R"(
sources: [{source: A, key: Id}, {source: B, key: Id}]
rules: [{name: R, conditions: [{field: City}]}]
)");
  config.rules[0].conditions[0].other = "Town";  // bypasses the YAML check
  auto a = MakeTable({{"Id"}, {"City"}, {"Town"}}, {{"1", "x", "y"}});
  auto r = Unify(config, {a, a}, {}, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unification.rules[0] 'R': conditions with 'other'"), std::string::npos)
      << r.status().message();
  config.rules[0].blocking.push_back(BlockingKeyConfig{{"City"}, {}, BlockingMethod::kExact, 0, 0, {}});
  auto b = MakeTable({{"Id"}, {"City"}, {"Town"}}, {{"1", "x", "x"}, {"2", "y", "x"}});
  r = Unify(config, {a, b}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["A:1"], ids["B:1"]);  // A's City x == B's Town x, candidates by City
}

// A probabilistic level with `other` holds for swapped values.
TEST(UnifyTest, ProbabilisticLevelWithOtherScoresSwappedValues) {
  auto people = MakeTable({{"Id"}, {"FirstName"}, {"LastName"}, {"City"}},
                          {{"1", "Robert", "Smith", "Seattle"},
                           {"2", "Smith", "Robert", "Seattle"},
                           {"3", "Maria", "Garcia", "Austin"},
                           {"4", "Maria", "Garcia", "Austin"},
                           {"5", "Ann", "Lee", "Boston"},
                           {"6", "Ann", "Lee", "Boston"},
                           {"7", "Zed", "Smith", "Seattle"},
                           {"8", "Amy", "Garcia", "Austin"},
                           {"9", "Bo", "Lee", "Boston"}});
  UnifyConfig config = Config(R"(
sources: [{source: People, key: Id}]
mode: probabilistic
rules:
  - name: SameNameAndCity
    conditions: [{field: FirstName}, {field: LastName}, {field: City}]
probabilistic:
  comparisons:
    - {field: FirstName, levels: [exact, {compare: exact, other: LastName}]}
    - {field: LastName, levels: [exact, {compare: exact, other: FirstName}]}
    - {field: City, levels: [exact]}
  blocking: [{field: City}]
  training: [{field: City}, {field: FirstName}]
  threshold: 0.5
)");
  auto r = Unify(config, {people}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto e = ExplainRecordPair(config, {people}, "People", "1", "People", "2", &*r->model);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->contributions.size(), 3u);
  EXPECT_EQ(e->contributions[0].level, "exact ~ LastName");  // the swapped level, not "else"
  EXPECT_EQ(e->contributions[1].level, "exact ~ FirstName");
}

// A source with only a full name ("Smith, Bob", "Dr. Maria de la Cruz") matches a source with
// first and last name fields: FirstName/LastName come from the parsed full name.
TEST(UnifyTest, FullNameOnlySourceMergesWithFirstAndLastNameSource) {
  auto people = MakeTable({{"Id"}, {"FirstName", DataType::kString, "Person.FirstName"},
                           {"LastName", DataType::kString, "Person.LastName"}, {"City"}},
                          {{"1", "Robert", "Smith", "Seattle"},
                           {"2", "Maria", "de la Cruz", "Austin"},
                           {"3", "Ann", "Lee", "Boston"}});
  auto crm = MakeTable({{"Id"}, {"Name", DataType::kString, "Person.FullName"}, {"City"}},
                       {{"A", "Smith, Bob", "Seattle"},
                        {"B", "Dr. Maria de la Cruz", "Austin"},
                        {"C", "Ann Leigh", "Boston"}});
  UnifyConfig config = Config(R"(
sources:
  - {source: People, key: Id}
  - {source: Crm, key: Id}
rules:
  - name: SameNameAndCity
    conditions:
      - {field: FirstName, normalize: [Name]}
      - {field: LastName, normalize: [Name]}
      - {field: City, normalize: [Lowercase]}
)");
  auto r = Unify(config, {people, crm}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["People:1"], ids["Crm:A"]);  // "Last, First" and a nickname
  EXPECT_EQ(ids["People:2"], ids["Crm:B"]);  // a title dropped, particles kept with the last name
  EXPECT_NE(ids["People:3"], ids["Crm:C"]);  // another last name
  EXPECT_EQ(r->stats.profiles_out, 4);
  auto e = ExplainRecordPair(config, {people, crm}, "People", "2", "Crm", "B", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->rules.size(), 1u);
  EXPECT_EQ(e->rules[0].conditions[1].value_b, "de la cruz");
}

// 50 people with one phone typed into every form: a frequency placeholder, so the phone rule
// links none of them (without detection it would link them all); a pair with a real shared
// phone still links, and explain-pair says why the placeholder phone is blank.
TEST(UnifyTest, FrequencyPlaceholderPhoneLinksNobody) {
  std::vector<std::vector<std::string>> web_rows, shop_rows;
  for (int i = 0; i < 25; ++i) {
    web_rows.push_back({"w" + std::to_string(i), "Web" + std::to_string(i), "(425) 555-0100"});
    shop_rows.push_back({"s" + std::to_string(i), "Shop" + std::to_string(i), "425.555.0100"});
  }
  web_rows.push_back({"w-real", "Jones", "(206) 555-0142"});
  shop_rows.push_back({"s-real", "Jones", "+1 206 555 0142"});
  auto web = MakeTable({{"Id"}, {"LastName"}, {"Phone"}}, web_rows);
  auto shop = MakeTable({{"Id"}, {"LastName"}, {"Phone"}}, shop_rows);
  const std::string yaml = R"(
sources:
  - {source: Web, key: Id}
  - {source: Shop, key: Id}
rules:
  - name: SamePhone
    conditions: [{field: Phone, normalize: [Phone]}]
)";
  UnifyConfig config = Config(yaml);
  auto r = Unify(config, {web, shop}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  std::set<int64_t> distinct;
  for (int i = 0; i < 25; ++i) {
    distinct.insert(ids["Web:w" + std::to_string(i)]);
    distinct.insert(ids["Shop:s" + std::to_string(i)]);
  }
  EXPECT_EQ(distinct.size(), 50u);
  EXPECT_EQ(ids["Web:w-real"], ids["Shop:s-real"]);
  EXPECT_EQ(r->stats.profiles_out, 51);
  auto e = ExplainRecordPair(config, {web, shop}, "Web", "w0", "Shop", "s0", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->matched);
  ASSERT_EQ(e->rules.size(), 1u);
  ASSERT_EQ(e->rules[0].conditions.size(), 1u);
  EXPECT_EQ(e->rules[0].conditions[0].blank_a, "frequent value, held by 50 records: '(425) 555-0100'");
  EXPECT_EQ(e->rules[0].conditions[0].blank_b, "frequent value, held by 50 records: '425.555.0100'");
  // The same data without detection: the phone links all 50 (the cluster cap splits them).
  UnifyConfig off = Config(yaml + "placeholder_detection: false\n");
  auto all = Unify(off, {web, shop}, {}, {}, {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_LT(all->stats.profiles_out, 51);
}

// An invalid phone still links (lenient digits); one with too few digits is blank with a reason.
TEST(UnifyTest, InvalidPhonesMatchOnTheirDigitsAndBlankOnesAreExplained) {
  auto a = MakeTable({{"Id"}, {"Phone"}}, {{"1", "(555) 123-4567"}, {"2", "12-34"}});
  auto b = MakeTable({{"Id"}, {"Phone"}}, {{"x", "555.123.4567"}, {"y", "12-34"}});
  UnifyConfig config = Config(R"(
sources:
  - {source: A, key: Id}
  - {source: B, key: Id}
rules:
  - name: SamePhone
    conditions: [{field: Phone, normalize: [Phone]}]
)");
  auto r = Unify(config, {a, b}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["A:1"], ids["B:x"]);  // libphonenumber calls 555 no area code: digits compare
  EXPECT_NE(ids["A:2"], ids["B:y"]);
  auto e = ExplainRecordPair(config, {a, b}, "A", "2", "B", "y", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->rules[0].conditions[0].blank_a, "invalid phone, fewer than 7 digits: '12-34'");
}

// Organization names in another word order, with a legal form or a generic word added, match
// under Organization + token_set; another business in the same city does not.
TEST(UnifyTest, OrganizationsMatchWhateverTheWordOrderWithTokenSet) {
  auto crm = MakeTable({{"Id"}, {"Company"}, {"City"}},
                       {{"1", "Bel-Air Hotel", "Los Angeles"},
                        {"2", "Spago Restaurant", "Beverly Hills"},
                        {"3", "Acme Plumbing Inc.", "Denver"}});
  auto web = MakeTable({{"Id"}, {"Company"}, {"City"}},
                       {{"a", "Hotel Bel-Air", "Los Angeles"},
                        {"b", "Spago Beverly Hills", "Beverly Hills"},
                        {"c", "Acme Heating LLC", "Denver"}});
  UnifyConfig config = Config(R"(
sources:
  - {source: Crm, key: Id}
  - {source: Web, key: Id}
rules:
  - name: SameCompanyInCity
    conditions:
      - {field: City, normalize: [Lowercase]}
      - {field: Company, normalize: [Organization], compare: token_set, threshold: 1.0}
)");
  auto r = Unify(config, {crm, web}, {}, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto ids = IdsByRecord(*r);
  EXPECT_EQ(ids["Crm:1"], ids["Web:a"]);  // word order
  EXPECT_EQ(ids["Crm:2"], ids["Web:b"]);  // "restaurant" dropped, "beverly hills" added
  EXPECT_NE(ids["Crm:3"], ids["Web:c"]);  // one word of two in common: 0.5
  auto e = ExplainRecordPair(config, {crm, web}, "Crm", "3", "Web", "c", nullptr);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->rules[0].conditions[1].compare, "token_set >= 1.00");
  EXPECT_DOUBLE_EQ(e->rules[0].conditions[1].similarity, 0.5);
}

}  // namespace
}  // namespace cdp
