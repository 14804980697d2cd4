#include "unify/incremental.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <random>
#include <string>
#include <vector>

#include "table/table_json.h"
#include "unify/unifier.h"

namespace cdp {
namespace {

// A small population with deliberately few distinct values (so blocks cross
// a small max_block_size as records come and go) in two sources.
struct Person {
  std::string first, last, email, phone;
  int32_t dob = 0;
};

const char* kFirst[] = {"anna", "bob", "robert", "cathy", "catherine", "dan", "eve", "frank", "gina", "hugo", "ivy"};
const char* kLast[] = {"smith", "smyth", "jones", "brown", "lee", "garcia", "miller", "davis"};

Person RandomPerson(std::mt19937& rng) {
  Person p;
  p.first = kFirst[rng() % std::size(kFirst)];
  p.last = kLast[rng() % std::size(kLast)];
  p.email = (rng() % 5 == 0) ? "" : p.first + "." + std::to_string(rng() % 6) + "@mail.test";
  p.phone = (rng() % 4 == 0) ? "" : "555" + std::to_string(1000000 + rng() % 40);
  p.dob = 7000 + static_cast<int32_t>(rng() % 25);
  return p;
}

// One source as rows: key, FirstName, LastName, Email, Phone, DateOfBirth.
struct Rows {
  std::vector<std::string> keys;
  std::vector<Person> people;
};

std::shared_ptr<const Table> ToTable(const Rows& rows) {
  Schema schema;
  schema.AddField(Field{"Id", DataType::kString, {}});
  schema.AddField(Field{"FirstName", DataType::kString, {}});
  schema.AddField(Field{"LastName", DataType::kString, {}});
  schema.AddField(Field{"Email", DataType::kString, {}});
  schema.AddField(Field{"Phone", DataType::kString, {}});
  schema.AddField(Field{"DateOfBirth", DataType::kDate, {}});
  auto t = std::make_shared<Table>(schema);
  for (size_t i = 0; i < rows.keys.size(); ++i) {
    const Person& p = rows.people[i];
    t->mutable_column(0).AppendString(rows.keys[i]);
    for (size_t c = 1; c <= 4; ++c) {
      const std::string& v = c == 1 ? p.first : c == 2 ? p.last : c == 3 ? p.email : p.phone;
      if (v.empty()) {
        t->mutable_column(c).AppendNull();
      } else {
        t->mutable_column(c).AppendString(v);
      }
    }
    t->mutable_column(5).AppendDate(p.dob);
    t->FinishRow();
  }
  return t;
}

// Random edits: change a field of ~4% of rows, remove ~2%, add ~2%.
void Mutate(Rows* rows, std::mt19937& rng, int* next_key, char prefix) {
  Rows out;
  for (size_t i = 0; i < rows->keys.size(); ++i) {
    uint32_t roll = rng() % 100;
    if (roll < 2) continue;  // removed
    Person p = rows->people[i];
    if (roll < 6) {
      switch (rng() % 4) {
        case 0: p.email = RandomPerson(rng).email; break;
        case 1: p.phone = RandomPerson(rng).phone; break;
        case 2: p.first = RandomPerson(rng).first; break;
        default: p.dob += 1; break;
      }
    }
    out.keys.push_back(rows->keys[i]);
    out.people.push_back(p);
  }
  size_t add = rows->keys.size() / 50 + 1;
  for (size_t i = 0; i < add; ++i) {
    // Often a near copy of an existing record, so new pairs form.
    Person p = !out.people.empty() && rng() % 2 ? out.people[rng() % out.people.size()] : RandomPerson(rng);
    if (rng() % 2) p.first = RandomPerson(rng).first;
    out.keys.push_back(std::string(1, prefix) + std::to_string((*next_key)++));
    out.people.push_back(p);
  }
  *rows = std::move(out);
}

UnifyConfig Config(const std::string& yaml) {
  auto c = ParseUnifyConfig(YAML::Load(yaml), "test.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

const char* kRules = R"(
sources:
  - source: A
    key: Id
    dedup:
      rules:
        - name: SameNameBirth
          conditions: [{field: FirstName, normalize: [Name]}, {field: LastName}, {field: DateOfBirth}]
  - source: B
    key: Id
rules:
  - name: SameEmail
    conditions: [{field: Email, normalize: [Email]}]
  - name: PhoneAndName
    conditions:
      - {field: Phone}
      - {field: FirstName, normalize: [Name], compare: jaro_winkler, threshold: 0.85}
  - name: NameBirth
    conditions:
      - {field: LastName, compare: jaro_winkler, threshold: 0.9}
      - {field: FirstName, normalize: [Name], compare: fuzzy, threshold: 0.8}
      - {field: DateOfBirth, compare: date_within, days: 1}
    blocking:
      - {field: DateOfBirth}
max_block_size: 12
max_cluster_size: 8
)";

const char* kProbabilistic = R"(
sources:
  - {source: A, key: Id}
  - {source: B, key: Id}
mode: probabilistic
rules:
  - name: SameEmailAndName
    conditions: [{field: Email}, {field: LastName}]
probabilistic:
  comparisons:
    - {field: FirstName, normalize: [Name], levels: [exact, jaro_winkler 0.85]}
    - {field: LastName, levels: [exact, jaro_winkler 0.9]}
    - {field: Email, levels: [exact], term_frequency: true}
    - {field: Phone, levels: [exact]}
    - {field: DateOfBirth, levels: [exact, date_within 2]}
  blocking:
    - {field: Email}
    - {field: Phone}
    - {fields: [LastName, DateOfBirth]}
  random_pairs: 20000
max_block_size: 12
max_cluster_size: 8
)";

std::string Dump(const Table& t) {
  std::string out;
  for (size_t r = 0; r < t.num_rows(); ++r) {
    AppendRowJson(&out, t, r);
    out.push_back('\n');
  }
  return out;
}

PreviousLineage LineageFrom(const UnifyResult& r) {
  PreviousLineage prev;
  const Table& t = *r.source_keys;
  for (size_t i = 0; i < t.num_rows(); ++i) {
    prev.Add(t.ColumnByName("Source")->StringAt(i), t.ColumnByName("SourceKey")->StringAt(i),
             t.ColumnByName("CustomerId")->Int64At(i));
  }
  return prev;
}

// Runs `steps` rounds of random edits; after each, an incremental run from
// the previous run's state must equal a full run on the same data.
void Differential(const UnifyConfig& config, uint32_t seed, int steps, bool probabilistic) {
  std::mt19937 rng(seed);
  Rows a, b;
  int next = 0;
  for (int i = 0; i < 300; ++i) {
    Person p = RandomPerson(rng);
    a.keys.push_back("a" + std::to_string(next++));
    a.people.push_back(p);
    if (rng() % 3 == 0) {
      b.keys.push_back("b" + std::to_string(next++));
      b.people.push_back(p);
    }
  }
  std::vector<MatchOverride> overrides;
  UnifyOptions first;
  first.threads = 2;
  first.make_state = true;
  auto prev = Unify(config, {ToTable(a), ToTable(b)}, overrides, PreviousLineage(), first);
  ASSERT_TRUE(prev.ok()) << prev.status().ToString();
  std::optional<FsModel> model = prev->model;
  ASSERT_EQ(probabilistic, model.has_value());
  int incremental_runs = 0;
  for (int step = 0; step < steps; ++step) {
    Mutate(&a, rng, &next, 'a');
    Mutate(&b, rng, &next, 'b');
    std::vector<std::shared_ptr<const Table>> tables = {ToTable(a), ToTable(b)};
    PreviousLineage lineage = LineageFrom(*prev);

    UnifyOptions full;
    full.threads = 2;
    full.make_state = true;
    full.model = model ? &*model : nullptr;
    auto want = Unify(config, tables, overrides, lineage, full);
    ASSERT_TRUE(want.ok()) << want.status().ToString();

    UnifyOptions incr;
    incr.threads = 1;
    incr.make_state = true;
    incr.incremental = true;
    incr.previous_state = &*prev->state;
    incr.incremental_model = model ? &*model : nullptr;
    incr.incremental_max_share = 1.0;
    auto got = Unify(config, tables, overrides, lineage, incr);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const IncrementalStats& st = got->stats.incremental;
    ASSERT_TRUE(st.incremental) << "seed " << seed << " step " << step << ": " << st.full_reason;
    ++incremental_runs;
    EXPECT_GT(st.pairs_carried, 0);
    EXPECT_LT(st.records_compared, got->stats.records_in) << "every record was compared";
    SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
    EXPECT_EQ(Dump(*got->match_pairs), Dump(*want->match_pairs));
    EXPECT_EQ(Dump(*got->source_keys), Dump(*want->source_keys));
    EXPECT_EQ(Dump(*got->customers), Dump(*want->customers));
    ASSERT_EQ(got->dedup.size(), want->dedup.size());
    for (size_t d = 0; d < got->dedup.size(); ++d) EXPECT_EQ(Dump(*got->dedup[d].second), Dump(*want->dedup[d].second));
    // The next step continues from the incremental run's own state.
    prev = std::move(got);
  }
  EXPECT_EQ(incremental_runs, steps);
}

TEST(IncrementalUnifyTest, RulesModeEqualsAFullRunAfterRandomEdits) {
  UnifyConfig config = Config(kRules);
  for (uint32_t seed = 1; seed <= 6; ++seed) Differential(config, seed, 4, false);
}

TEST(IncrementalUnifyTest, ProbabilisticModeWithTheKeptModelEqualsAFullRun) {
  UnifyConfig config = Config(kProbabilistic);
  for (uint32_t seed = 11; seed <= 14; ++seed) Differential(config, seed, 3, true);
}

TEST(IncrementalUnifyTest, GoesFullWhenTheConfigurationChanged) {
  UnifyConfig config = Config(kRules);
  std::mt19937 rng(3);
  Rows a, b;
  for (int i = 0; i < 50; ++i) {
    a.keys.push_back("a" + std::to_string(i));
    a.people.push_back(RandomPerson(rng));
  }
  UnifyOptions first;
  first.make_state = true;
  auto prev = Unify(config, {ToTable(a), ToTable(b)}, {}, PreviousLineage(), first);
  ASSERT_TRUE(prev.ok()) << prev.status().ToString();
  config.rules.pop_back();
  UnifyOptions incr;
  incr.incremental = true;
  incr.previous_state = &*prev->state;
  auto got = Unify(config, {ToTable(a), ToTable(b)}, {}, LineageFrom(*prev), incr);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->stats.incremental.incremental);
  EXPECT_EQ(got->stats.incremental.full_reason, "the unification configuration or model changed");
}

// The marking rules themselves, on a hand-made previous state: k3 changed its
// e-mail, so the other holders of its old value (tf count 3 -> 2) and of its
// new one (1 -> 2) must be compared again; k5 is untouched.
TEST(IncrementalUnifyTest, MarksHoldersOfTermFrequencyValuesWhoseCountChanged) {
  Rows a;
  a.keys = {"k1", "k2", "k3", "k4", "k5"};
  for (const char* e : {"x@m.test", "x@m.test", "y@m.test", "y@m.test", "z@m.test"}) {
    Person p;
    p.email = e;
    a.people.push_back(p);
  }
  UnifySourceConfig source;
  source.source = "A";
  source.key = "Id";
  auto rs = RecordSet::Build({source}, {ToTable(a)}, RecordSetOptions());
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  auto email = (*rs)->AddFeature(FeatureSpec{"Email", {}, false});
  ASSERT_TRUE(email.ok());
  ASSERT_TRUE((*rs)->ComputeFeatures().ok());
  std::vector<uint64_t> features = FeatureHashes(**rs, 1);
  std::vector<std::vector<uint64_t>> no_slots;
  UnifyState prev = MakeUnifyState(**rs, 7, features, no_slots, {*email}, {});
  // Before: k3 held x (x: 3 holders, y: 1).
  prev.tf_values[2] = prev.tf_values[0];
  prev.features[2] ^= 1;
  std::vector<uint8_t> compare;
  IncrementalStats stats;
  std::vector<int64_t> now = MapPreviousRecords(prev, **rs, 1);
  MarkChangedRecords(prev, now, features, &compare, &stats);
  MarkAffectedRecords(prev, now, **rs, no_slots, {*email}, 1000, &compare, &stats);
  EXPECT_EQ(compare, (std::vector<uint8_t>{2, 2, 1, 2, 0}));
  EXPECT_EQ(stats.records_changed, 1);
  EXPECT_EQ(stats.records_tf_changed, 3);
  EXPECT_EQ(stats.records_compared, 4);
}

TEST(IncrementalUnifyTest, StateSurvivesItsTableForm) {
  UnifyConfig config = Config(kRules);
  std::mt19937 rng(5);
  Rows a, b;
  for (int i = 0; i < 40; ++i) {
    a.keys.push_back("a" + std::to_string(i));
    a.people.push_back(RandomPerson(rng));
    b.keys.push_back("b" + std::to_string(i));
    b.people.push_back(a.people.back());  // the same person in both sources: pairs
  }
  UnifyOptions first;
  first.make_state = true;
  auto r = Unify(config, {ToTable(a), ToTable(b)}, {}, PreviousLineage(), first);
  ASSERT_TRUE(r.ok());
  Table t = UnifyStateToTable(*r->state), pairs = UnifyStatePairsToTable(*r->state);
  ASSERT_GT(pairs.num_rows(), 0u);
  auto back = UnifyStateFromTables(t, pairs, r->state->fingerprint);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), r->state->size());
  for (size_t i = 0; i < back->size(); ++i) {
    EXPECT_EQ(back->key(i), r->state->key(i));
    EXPECT_EQ(back->source(i), r->state->source(i));
  }
  EXPECT_EQ(back->key_chars, r->state->key_chars);
  EXPECT_EQ(back->features, r->state->features);
  EXPECT_EQ(back->slot_keys, r->state->slot_keys);
  EXPECT_EQ(back->num_slots, r->state->num_slots);
  ASSERT_EQ(back->pairs.size(), r->state->pairs.size());
  for (size_t i = 0; i < back->pairs.size(); ++i) {
    EXPECT_EQ(back->pairs[i].a, r->state->pairs[i].a);
    EXPECT_EQ(back->pairs[i].rule, r->state->pairs[i].rule);
    EXPECT_EQ(back->pairs[i].strength, r->state->pairs[i].strength);
  }
  Table bad(Schema({Field{"Source", DataType::kString, {}}}));
  auto err = UnifyStateFromTables(bad, pairs, 0);
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("SourceKey"), std::string::npos) << err.status().ToString();
}

}  // namespace
}  // namespace cdp
