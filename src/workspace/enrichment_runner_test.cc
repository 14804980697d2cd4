// Third-party enrichment before unification (enrichment_runner.h): the
// source_enrichments stage, the join into unification and its reports.
#include "workspace/enrichment_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/entity_names.h"
#include "config/project_config.h"
#include "workspace/activity_runner.h"
#include "workspace/definitions.h"
#include "workspace/refresh_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// Loyalty members have e-mails but no phone; e-commerce contacts have a phone
// and a work e-mail. The phone-append file (a bought list) gives phones by
// e-mail: Ann's phone is her e-commerce contact's, so the rule SamePhone joins
// them only when the Loyalty records carry the appended phone.
const char* kSources = R"(project: e
sources:
  - name: Loyalty
    kind: csv
    path: loyalty.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
  - name: Shop
    kind: csv
    path: shop.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
      - {name: Phone, semantic: Phone}
  - name: PhoneAppend
    kind: csv
    path: append.csv
    fields:
      - {name: Email, type: string}
      - {name: Phone, type: string}
      - {name: HouseholdSize, type: int64}
unification:
  sources:
    - source: Loyalty
    - source: Shop
  rules:
    - name: SameEmail
      conditions: [{field: Email, normalize: [Email]}]
    - name: SamePhone
      conditions: [{field: Phone, normalize: [Phone]}]
)";

const char* kBefore = R"(enrichments:
  - name: LoyaltyPhones
    kind: third_party
    when: before_unification
    source: Loyalty
    entity: PhoneAppend
    keys: [{field: Email, source_field: Email, match: email}]
    fields:
      - {name: Phone, as: AppendedPhone, semantic: Phone}
      - HouseholdSize
)";

class SourceEnrichmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_source_enrichment_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ / "loyalty.csv") << "Id,Name,Email\n"
                                           "L1,Ann,ann@x.org\n"
                                           "L2,Bob,bob@x.org\n"
                                           "L3,Cat,cat@x.org\n";
    std::ofstream(dir_ / "shop.csv") << "Id,Name,Email,Phone\n"
                                        "S1,Ann,ann@work.example,(206) 555-0101\n"
                                        "S2,Eve,eve@y.org,(206) 555-0102\n";
    // 4 records: Ann and Bob match by e-mail (case and spacing differ), Zed
    // has no Loyalty record, the last has no e-mail: match rate 2 / 4.
    std::ofstream(dir_ / "append.csv") << "Email,Phone,HouseholdSize\n"
                                          " ANN@x.org,+1 206 555 0101,3\n"
                                          "bob@x.org,206.555.0199,2\n"
                                          "zed@x.org,206-555-0177,1\n"
                                          ",206-555-0155,4\n";
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }

  // Applies the project (kSources + `enrichments`) and refreshes.
  RefreshResult ApplyAndRefresh(const std::string& enrichments) {
    auto project = ParseProjectYaml(std::string(kSources) + enrichments, "project.yaml", dir_.string());
    EXPECT_TRUE(project.ok()) << project.status().ToString();
    if (!project.ok()) return {};
    EXPECT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
    RefreshOptions o;
    o.threads = 2;
    o.run_date = 20000;
    auto r = RunRefresh(*ws_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RefreshResult{};
  }

  const StageResult* Stage(const RefreshResult& r, const std::string& name) {
    for (const auto& s : r.stages) {
      if (s.stage.name() == name) return &s;
    }
    return nullptr;
  }

  std::shared_ptr<const Table> Load(const std::string& entity) {
    auto snap = ws_->data().Current();
    EXPECT_TRUE(snap.ok());
    auto t = LoadEntity(*ws_, *snap, entity);
    EXPECT_TRUE(t.ok()) << entity << ": " << t.status().ToString();
    return t.ok() ? *t : std::make_shared<const Table>();
  }

  // Customer rows as field -> text, keyed by e-mail.
  std::map<std::string, std::map<std::string, std::string>> CustomersByEmail() {
    auto t = Load(std::string(kCustomerEntity));
    std::map<std::string, std::map<std::string, std::string>> out;
    const Column* email = t->ColumnByName("Email");
    EXPECT_NE(email, nullptr);
    if (!email) return out;
    for (size_t r = 0; r < t->num_rows(); ++r) {
      auto& row = out[email->IsNull(r) ? "" : std::string(email->StringAt(r))];
      for (size_t c = 0; c < t->num_columns(); ++c) {
        row[t->schema().field(c).name] = t->column(c).IsNull(r) ? "" : t->column(c).ValueToString(r);
      }
    }
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(SourceEnrichmentTest, TwoSourcesBecomeOneCustomerOnlyThroughTheAppendedPhone) {
  // Without the enrichment: 3 Loyalty + 2 Shop records, nothing shared.
  RefreshResult without = ApplyAndRefresh("");
  ASSERT_TRUE(without.ok()) << without.error;
  EXPECT_EQ(Load(std::string(kCustomerEntity))->num_rows(), 5u);
  const StageResult* skipped = Stage(without, "source_enrichments");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->status, "skipped");

  // With it: Loyalty L1 gets Ann's phone, equal to Shop S1's after the Phone
  // normalizer, and the two records become one customer.
  RefreshResult with = ApplyAndRefresh(kBefore);
  ASSERT_TRUE(with.ok()) << with.error;
  ASSERT_GE(with.stages.size(), 3u);
  EXPECT_EQ(with.stages[0].stage.name(), "ingest");
  EXPECT_EQ(with.stages[1].stage.name(), "source_enrichments");
  EXPECT_EQ(with.stages[2].stage.name(), "unify");
  EXPECT_EQ(with.stages[1].status, "succeeded") << with.stages[1].message;
  EXPECT_EQ(with.stages[2].status, "succeeded") << with.stages[2].message;
  EXPECT_EQ(Load(std::string(kCustomerEntity))->num_rows(), 4u);

  auto customers = CustomersByEmail();
  ASSERT_TRUE(customers.count("ann@x.org")) << "no customer with Loyalty's e-mail";
  auto& ann = customers["ann@x.org"];
  // Phone is Loyalty's (first in source priority): the appended value,
  // mapped to the attribute Phone by its semantic type.
  EXPECT_EQ(ann["Phone"], "+1 206 555 0101");
  EXPECT_EQ(ann["HouseholdSize"], "3");  // from the third party, through Loyalty
  EXPECT_EQ(ann["FirstName"], "Ann");
  // Bob got a phone nobody else has: still one customer of his own, enriched.
  ASSERT_TRUE(customers.count("bob@x.org"));
  EXPECT_EQ(customers["bob@x.org"]["HouseholdSize"], "2");
  EXPECT_EQ(customers["bob@x.org"]["Phone"], "206.555.0199");
  // Cat matched no third-party record: no appended values.
  ASSERT_TRUE(customers.count("cat@x.org"));
  EXPECT_EQ(customers["cat@x.org"]["HouseholdSize"], "");

  // Lineage: Ann's customer holds Loyalty:L1 and Shop:S1.
  auto keys = Load(std::string(kSourceKeysEntity));
  std::map<std::string, std::string> customer_of;
  for (size_t r = 0; r < keys->num_rows(); ++r) {
    customer_of[std::string(keys->ColumnByName("Source")->StringAt(r)) + ":" +
                std::string(keys->ColumnByName("SourceKey")->StringAt(r))] =
        keys->ColumnByName("CustomerId")->ValueToString(r);
  }
  EXPECT_EQ(customer_of["Loyalty:L1"], customer_of["Shop:S1"]);
  EXPECT_NE(customer_of["Loyalty:L2"], customer_of["Shop:S2"]);

  // The enrichment entity: keyed by Loyalty's key, one row per matched record.
  auto entity = Load(EnrichmentEntityName("LoyaltyPhones"));
  ASSERT_EQ(entity->num_rows(), 2u);
  EXPECT_EQ(entity->schema().field(0).name, "Id");
  EXPECT_EQ(entity->schema().field(1).name, "MatchedBy");
  EXPECT_EQ(entity->schema().field(2).name, "AppendedPhone");
  EXPECT_EQ(entity->schema().field(2).semantic.name(), "Phone");

  // Nothing changed: the next refresh skips both stages, and the enrichments
  // stage after unification does not claim the entity.
  RefreshOptions o;
  o.threads = 2;
  o.run_date = 20000;
  auto again = RunRefresh(*ws_, o);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->ok()) << again->error;
  EXPECT_EQ(Stage(*again, "source_enrichments")->status, "skipped");
  EXPECT_EQ(Stage(*again, "unify")->status, "skipped");
}

TEST_F(SourceEnrichmentTest, MatchRateInTheStageMessageAndTheList) {
  RefreshResult r = ApplyAndRefresh(kBefore);
  ASSERT_TRUE(r.ok()) << r.error;
  const StageResult* s = Stage(r, "source_enrichments");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->message.find("LoyaltyPhones 50.0% of 4 records matched"), std::string::npos) << s->message;
  EXPECT_EQ(s->rows_in, 4);
  EXPECT_EQ(s->rows_out, 2);

  auto list = ListEnrichments(*ws_);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  const auto& e = (*list)[0];
  EXPECT_EQ(e["when"], "before_unification");
  EXPECT_EQ(e["source"], "Loyalty");
  EXPECT_EQ(e["rows"], 2);
  EXPECT_DOUBLE_EQ(e["match_rate"].get<double>(), 0.5);
  EXPECT_EQ(e["match"]["records"], 4);
  EXPECT_EQ(e["match"]["matched_records"], 2);
  EXPECT_EQ(e["match"]["source_records"], 3);

  // `cdp enrich LoyaltyPhones` runs it alone with the full report.
  auto run = RunEnrichments(*ws_, {"LoyaltyPhones"});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->size(), 1u);
  EXPECT_EQ((*run)[0].details["keys"][0]["matched"], 2);
  EXPECT_EQ((*run)[0].details["keys"][0]["blank"], 1);
  EXPECT_EQ((*run)[0].details["keys"][0]["unmatched"], 1);
}

TEST_F(SourceEnrichmentTest, AFieldOfTheSourceIsFilledOnlyWhereBlank) {
  // Loyalty gets a Phone field: Bob has his own, Ann none. The enrichment
  // writes into Phone: Ann's blank is filled, Bob's value stays.
  std::ofstream(dir_ / "loyalty.csv") << "Id,Name,Email,Phone\n"
                                         "L1,Ann,ann@x.org,\n"
                                         "L2,Bob,bob@x.org,(206) 555-0102\n"
                                         "L3,Cat,cat@x.org,\n";
  std::string sources = kSources;
  sources.replace(sources.find("      - {name: Email, semantic: Email}\n  - name: Shop"),
                  std::string("      - {name: Email, semantic: Email}\n").size(),
                  "      - {name: Email, semantic: Email}\n      - {name: Phone, type: string}\n");
  auto project = ParseProjectYaml(sources +
                                      "enrichments:\n  - name: Fill\n    kind: third_party\n"
                                      "    when: before_unification\n    source: Loyalty\n    entity: PhoneAppend\n"
                                      "    keys: [{field: Email, match: email}]\n    fields: [Phone]\n",
                                  "project.yaml", dir_.string());
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  ASSERT_TRUE(ws_->catalog().ReplaceProject(*project).ok());
  RefreshOptions o;
  o.threads = 2;
  o.run_date = 20000;
  auto r = RunRefresh(*ws_, o);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->ok()) << r->error;
  // Ann + S1 by the filled phone; Bob's own phone is Eve's (S2): Bob + Eve;
  // Cat alone: 3 customers (5 records).
  EXPECT_EQ(Load(std::string(kCustomerEntity))->num_rows(), 3u);
  auto customers = CustomersByEmail();
  ASSERT_TRUE(customers.count("ann@x.org"));
  EXPECT_EQ(customers["ann@x.org"]["Phone"], "+1 206 555 0101");  // Loyalty's, filled
  ASSERT_TRUE(customers.count("bob@x.org"));
  EXPECT_EQ(customers["bob@x.org"]["Phone"], "(206) 555-0102");  // not the appended 206.555.0199
}

TEST_F(SourceEnrichmentTest, BadConfigurationsAreRejectedWithTheEnrichmentAndKey) {
  auto with = [&](const std::string& enrichments) {
    auto p = ParseProjectYaml(std::string(kSources) + enrichments, "project.yaml", dir_.string());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? ValidateEnrichments(*p) : p.status();
  };
  const std::string head = "enrichments:\n  - name: E\n    kind: third_party\n    when: before_unification\n";
  struct Case {
    std::string yaml;
    std::string expected;
  } cases[] = {
      {head + "    source: Nope\n    entity: PhoneAppend\n    keys: [{field: Email, match: email}]\n",
       "enrichment 'E': source: 'Nope' is not a source"},
      {head + "    source: PhoneAppend\n    entity: Shop\n    keys: [{field: Email, match: email}]\n",
       "source: 'PhoneAppend' is not a unification source"},
      {head + "    source: Loyalty\n    entity: Shop\n    keys: [{field: Email, match: email}]\n",
       "entity: 'Shop' is a unification source itself"},
      {head + "    source: Loyalty\n    entity: PhoneAppend\n    keys: [{field: Email, match: email}]\n"
              "    fields: [Phone]\n"
              "  - name: F\n    kind: third_party\n    when: before_unification\n    source: Loyalty\n"
              "    entity: PhoneAppend\n    keys: [{field: Email, match: email}]\n    fields: [Phone]\n",
       "enrichment 'F': fields: 'Phone' is also written into Loyalty by enrichment 'E'"},
  };
  for (const auto& c : cases) {
    Status s = with(c.yaml);
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
  }
  // `cdp apply` refuses them too, and stores nothing.
  {
    auto p = ParseProjectYaml(std::string(kSources) + cases[0].yaml, "project.yaml", dir_.string());
    ASSERT_TRUE(p.ok());
    auto before = ws_->catalog().LoadProject();
    ASSERT_TRUE(before.ok());
    auto applied = ApplyProject(*ws_, *p);
    ASSERT_FALSE(applied.ok());
    EXPECT_NE(applied.status().message().find(cases[0].expected), std::string::npos) << applied.status().message();
    auto after = ws_->catalog().LoadProject();
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->enrichments, before->enrichments);
  }

  // Against the ingested data: an unknown field and a semantic type that
  // would take the source's own attribute fail the stage with the reason.
  struct RunCase {
    std::string yaml;
    std::string expected;
  } run_cases[] = {
      {head + "    source: Loyalty\n    entity: PhoneAppend\n    keys: [{field: Email, source_field: Mail, match: email}]\n",
       "keys: source_field 'Mail' is not a field of Loyalty"},
      {head + "    source: Loyalty\n    entity: PhoneAppend\n    keys: [{field: Email, match: email}]\n"
              "    fields: [Income]\n",
       "fields: 'Income' is not a field of PhoneAppend"},
      {head + "    source: Loyalty\n    entity: PhoneAppend\n    keys: [{field: Email, match: email}]\n"
              "    fields: [{name: Phone, as: Contact, semantic: Person.FirstName}]\n",
       "source Loyalty already has the attribute FirstName"},
  };
  for (const auto& c : run_cases) {
    auto p = ParseProjectYaml(std::string(kSources) + c.yaml, "project.yaml", dir_.string());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(ValidateEnrichments(*p).ok()) << c.yaml;
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*p).ok());
    RefreshOptions o;
    o.threads = 2;
    o.run_date = 20000;
    auto r = RunRefresh(*ws_, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, "failed");
    const StageResult* s = Stage(*r, "source_enrichments");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->status, "failed");
    EXPECT_NE(r->error.find(c.expected), std::string::npos) << r->error;
    // Unification did not run on records without the enrichment's columns.
    const StageResult* unify = Stage(*r, "unify");
    EXPECT_TRUE(unify == nullptr || unify->status != "succeeded") << unify->status;
  }
}

}  // namespace
}  // namespace cdp
