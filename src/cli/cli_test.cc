// End-to-end tests of the `cdp` binary: what a user types and what they see.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "cli/testing/run_cdp.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Result = cdp::testing::CdpResult;
using cdp::testing::CdpBin;

Result RunCdp(const std::string& args) { return cdp::testing::RunCdp(args); }

Json RunJson(const std::string& args) {
  std::string out = cdp::testing::RunCdp(args + " --json", /*stdout_only=*/true).out;
  Json j = Json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << args << " printed: " << out;
  return j;
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_cli_XXXXXX";
    dir_ = mkdtemp(tmpl);
    ws_ = (dir_ / "ws").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void ApplyProject(const std::string& yaml) {
    WriteFile(dir_ / "project.yaml", yaml);
    Result r = RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string());
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  fs::path dir_;
  std::string ws_;
};

const char* kContacts =
    "ContactId,FirstName,DateOfBirth,Spend,Subscriber\n"
    "1,Abbie,1990-04-01,12.5,yes\n"
    "2,\"Moss, Jr.\",1985-12-31,7,no\n"
    "3,Bob,not a date,3,yes\n"
    "4,\"Multi\nLine\",2001-02-03,1,true\n";

const char* kProject =
    "project: t\n"
    "sources:\n"
    "  - name: Contacts\n"
    "    kind: csv\n"
    "    path: contacts.csv\n"
    "    max_bad_rows: 1\n"  // its one bad row of four (the default 5% would fail it)
    "    primary_key: ContactId\n"
    "    fields:\n"
    "      - {name: DateOfBirth, type: date, semantic: Person.DateOfBirth}\n"
    "      - {name: FirstName, semantic: Person.FirstName}\n"
    "  - name: Survey\n"
    "    kind: jsonl\n"
    "    path: survey.jsonl\n";

TEST_F(CliTest, IngestsTypesQuarantinesAndShows) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteFile(dir_ / "contacts.csv", kContacts);
  WriteFile(dir_ / "survey.jsonl",
            "{\"Id\": 1, \"Name\": {\"First\": \"Ann\"}, \"Tier\": \"Gold\"}\n{\"Id\": 2, \"Tier\": null}\n");
  ApplyProject(kProject);

  Json ingest = RunJson("ingest -w " + ws_);
  ASSERT_TRUE(ingest["ok"].get<bool>()) << ingest.dump();
  const Json& c = ingest["sources"][0];
  EXPECT_EQ(c["source"], "Contacts");
  EXPECT_EQ(c["rows_read"], 4);
  EXPECT_EQ(c["rows_stored"], 3);
  EXPECT_EQ(c["rows_quarantined"], 1);
  EXPECT_EQ(ingest["sources"][1]["rows_stored"], 2);

  Json show = RunJson("show -w " + ws_ + " Contacts --limit 10");
  ASSERT_EQ(show["rows"].size(), 3u);
  EXPECT_EQ(show["rows"][1]["FirstName"], "Moss, Jr.");
  EXPECT_EQ(show["rows"][2]["FirstName"], "Multi\nLine");
  EXPECT_EQ(show["rows"][0]["DateOfBirth"], "1990-04-01");
  EXPECT_EQ(show["rows"][0]["Spend"], 12.5);
  EXPECT_EQ(show["rows"][0]["Subscriber"], true);
  bool found_semantic = false;
  for (const auto& f : show["fields"]) {
    if (f["name"] == "DateOfBirth") {
      EXPECT_EQ(f["type"], "date");
      EXPECT_EQ(f["semantic"], "Person.DateOfBirth");
      found_semantic = true;
    }
  }
  EXPECT_TRUE(found_semantic);

  Json q = RunJson("quarantine -w " + ws_ + " Contacts");
  ASSERT_EQ(q["rows"].size(), 1u);
  EXPECT_EQ(q["rows"][0]["Line"], 4);
  EXPECT_EQ(q["rows"][0]["Field"], "DateOfBirth");
  EXPECT_EQ(q["rows"][0]["Value"], "not a date");

  Json survey = RunJson("show -w " + ws_ + " Survey");
  EXPECT_EQ(survey["rows"][0]["Name.First"], "Ann");

  Json entities = RunJson("entities -w " + ws_);
  ASSERT_EQ(entities["entities"].size(), 2u);  // quarantine entities are internal
  EXPECT_EQ(entities["entities"][0]["name"], "Contacts");
  EXPECT_EQ(entities["entities"][0]["quarantined"], 1);

  Result text = RunCdp("quarantine -w " + ws_ + " Contacts");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("not a date"), std::string::npos) << text.out;
}

TEST_F(CliTest, SkipsUnchangedSourcesAndReingestsChangedOnes) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteFile(dir_ / "contacts.csv", kContacts);
  WriteFile(dir_ / "survey.jsonl", "{\"Id\": 1}\n");
  ApplyProject(kProject);
  ASSERT_TRUE(RunJson("ingest -w " + ws_)["ok"].get<bool>());
  Json again = RunJson("ingest -w " + ws_);
  EXPECT_EQ(again["sources"][0]["status"], "skipped");
  EXPECT_NE(again["sources"][0]["message"].get<std::string>().find("unchanged"), std::string::npos);
  EXPECT_EQ(again["sources"][0]["rows_stored"], 3);

  WriteFile(dir_ / "contacts.csv", std::string(kContacts) + "5,New,2000-01-01,1,no\n");
  Json changed = RunJson("ingest -w " + ws_ + " Contacts");
  ASSERT_EQ(changed["sources"].size(), 1u);
  EXPECT_EQ(changed["sources"][0]["status"], "succeeded");
  EXPECT_EQ(changed["sources"][0]["rows_stored"], 4);
  EXPECT_EQ(RunJson("ingest -w " + ws_ + " Contacts --force")["sources"][0]["status"], "succeeded");
}

TEST_F(CliTest, TooManyBadRowsFailsAndKeepsPreviousData) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  WriteFile(dir_ / "contacts.csv", kContacts);
  WriteFile(dir_ / "survey.jsonl", "{\"Id\": 1}\n");
  ApplyProject(kProject);  // max_bad_rows: 1
  ASSERT_TRUE(RunJson("ingest -w " + ws_)["ok"].get<bool>());

  WriteFile(dir_ / "contacts.csv", std::string(kContacts) + "9,X,31/31/2020,1,no\n10,Y,2020-01-01,abc,no\n");
  Result r = RunCdp("ingest -w " + ws_ + " Contacts");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("max_bad_rows"), std::string::npos) << r.out;
  Json show = RunJson("show -w " + ws_ + " Contacts");
  EXPECT_EQ(show["total_rows"], 3) << "previous good data must stay current";
  EXPECT_EQ(RunJson("quarantine -w " + ws_ + " Contacts")["rows"].size(), 1u);
}

TEST_F(CliTest, UsageErrorsExitWithTwoAndFailuresWithOne) {
  EXPECT_EQ(RunCdp("").exit_code, 2);
  EXPECT_EQ(RunCdp("frobnicate").exit_code, 2);
  EXPECT_EQ(RunCdp("show").exit_code, 2);
  Result r = RunCdp("entities -w " + (dir_ / "nope").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cdp init"), std::string::npos) << r.out;
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  EXPECT_EQ(RunCdp("init " + ws_).exit_code, 1);
  WriteFile(dir_ / "bad.yaml", "sources:\n  - {name: A, kind: csv, path: a.csv, delimeter: x}\n");
  Result bad = RunCdp("apply -w " + ws_ + " " + (dir_ / "bad.yaml").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad.yaml:2"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("delimeter"), std::string::npos) << bad.out;
  Result missing = RunCdp("ingest -w " + ws_ + " Nope");
  EXPECT_EQ(missing.exit_code, 1);
}

TEST_F(CliTest, ExportConfigRoundTrips) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ApplyProject(kProject);
  Result out = RunCdp("export-config -w " + ws_ + " -o " + (dir_ / "exported.yaml").string());
  ASSERT_EQ(out.exit_code, 0) << out.out;
  ASSERT_EQ(RunCdp("apply -w " + ws_ + " " + (dir_ / "exported.yaml").string()).exit_code, 0);
  Result again = RunCdp("export-config -w " + ws_);
  std::ifstream f(dir_ / "exported.yaml");
  std::string first((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(again.out, first);
  EXPECT_NE(first.find("Person.DateOfBirth"), std::string::npos);
}

// A real `kill -9` of `cdp ingest` at many points: the previous generation
// stays readable with its data, and the next ingest succeeds.
TEST_F(CliTest, KillNineDuringIngestKeepsPreviousGeneration) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  {
    std::ofstream f(dir_ / "contacts.csv");
    f << "ContactId,FirstName,DateOfBirth,Spend,Subscriber\n";
    for (int i = 0; i < 300000; ++i) f << i << ",Name" << i << ",1990-01-01," << i % 100 << ".5,yes\n";
  }
  WriteFile(dir_ / "survey.jsonl", "{\"Id\": 1}\n");
  ApplyProject(kProject);
  ASSERT_TRUE(RunJson("ingest -w " + ws_)["ok"].get<bool>());
  std::mt19937 rng(7);
  int killed = 0;
  for (int round = 0; round < 8; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      execl(CdpBin().c_str(), "cdp", "ingest", "-w", ws_.c_str(), "Contacts", "--force", nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 600));
    if (kill(pid, SIGKILL) == 0) ++killed;
    int status;
    waitpid(pid, &status, 0);
    Json show = RunJson("show -w " + ws_ + " Contacts --limit 2");
    ASSERT_EQ(show["total_rows"], 300000) << "round " << round;
    EXPECT_EQ(show["rows"][1]["FirstName"], "Name1");
  }
  EXPECT_GT(killed, 0);
  Json after = RunJson("ingest -w " + ws_ + " Contacts --force");
  EXPECT_TRUE(after["ok"].get<bool>()) << after.dump();
}

}  // namespace

namespace cdp {
namespace {

const char* kUnifyProject = R"(project: u
sources:
  - name: Shop
    kind: csv
    path: shop.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: First, semantic: Person.FirstName}
      - {name: Last, semantic: Person.LastName}
      - {name: Email, semantic: Email}
  - name: Club
    kind: csv
    path: club.csv
    primary_key: CardId
    fields:
      - {name: CardId, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Mail, semantic: Email}
      - {name: Tier}
unification:
  sources: [Shop, Club]
  rules:
    - name: SameEmail
      conditions:
        - {field: Email, normalize: [EmailProvider]}
)";

TEST_F(CliTest, UnifyExplainOverrideAndStableIds) {
  WriteFile(dir_ / "shop.csv",
            "Id,First,Last,Email\n1,Robert,Smith,bob.smith@gmail.com\n2,Ann,Lee,ann@lee.org\n3,Tom,Ray,test@test.com\n");
  WriteFile(dir_ / "club.csv",
            "CardId,Name,Mail,Tier\nC1,Bob,BobSmith+coffee@gmail.com,Gold\nC2,Anne,ANN@lee.org,Silver\nC3,Tim,test@test.com,Bronze\n");
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ApplyProject(kUnifyProject);
  // Before any ingest, unify explains what is missing.
  Result early = RunCdp("unify -w " + ws_);
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.out.find("'Shop' has not been ingested"), std::string::npos) << early.out;

  // `run` ingests and unifies.
  Result run = RunCdp("run -w " + ws_);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("profiles out 4"), std::string::npos) << run.out;

  Json keys = RunJson("show CustomerSourceKeys -w " + ws_ + " --limit -1");
  std::map<std::string, int64_t> id;
  for (const auto& row : keys["rows"]) id[row["Source"].get<std::string>() + ":" + row["SourceKey"].get<std::string>()] = row["CustomerId"];
  ASSERT_EQ(id.size(), 6u) << keys.dump();
  EXPECT_EQ(id["Shop:1"], id["Club:C1"]);
  EXPECT_EQ(id["Shop:2"], id["Club:C2"]);
  EXPECT_NE(id["Shop:3"], id["Club:C3"]);  // a placeholder email never matches

  // explain: the profile, its records and each condition's comparison.
  Result ex = RunCdp("explain " + std::to_string(id["Shop:1"]) + " -w " + ws_);
  ASSERT_EQ(ex.exit_code, 0) << ex.out;
  EXPECT_NE(ex.out.find("Club:C1"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("rule SameEmail"), std::string::npos) << ex.out;
  EXPECT_NE(ex.out.find("bobsmith@gmail.com"), std::string::npos) << ex.out;  // normalized value
  Json exj = RunJson("explain " + std::to_string(id["Shop:1"]) + " -w " + ws_);
  EXPECT_EQ(exj["records"].size(), 2u);
  EXPECT_EQ(exj["pairs"][0]["explanation"]["rules"][0]["conditions"][0]["passed"], true);
  // One existence check (workspace/lineage.h): explain and timeline of an
  // unknown id fail alike (timeline used to print "0 activities").
  Result unknown_explain = RunCdp("explain 999999 -w " + ws_);
  Result unknown_timeline = RunCdp("timeline 999999 -w " + ws_);
  EXPECT_EQ(unknown_explain.exit_code, 1) << unknown_explain.out;
  EXPECT_EQ(unknown_timeline.exit_code, 1) << unknown_timeline.out;
  EXPECT_NE(unknown_explain.out.find("there is no customer with CustomerId 999999"), std::string::npos)
      << unknown_explain.out;
  EXPECT_EQ(unknown_explain.out, unknown_timeline.out);

  // explain-pair shows a non-match too.
  Json pair = RunJson("explain-pair Shop:3 Club:C3 -w " + ws_);
  EXPECT_EQ(pair["matched"], false);
  EXPECT_EQ(pair["rules"][0]["conditions"][0]["a"], "");  // the placeholder normalizes to nothing
  Result bad = RunCdp("explain-pair Nope:1 Club:C3 -w " + ws_);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("not SOURCE:KEY"), std::string::npos);

  // A never-match override splits the wrong merge on the next run, recorded as a split.
  Result add = RunCdp("override add Shop:2 Club:C2 --never --note \"different people\" -w " + ws_);
  ASSERT_EQ(add.exit_code, 0) << add.out;
  EXPECT_EQ(RunCdp("override add Shop:2 Club:C2 -w " + ws_).exit_code, 1);  // needs --always or --never
  Json unified = RunJson("unify -w " + ws_);
  EXPECT_EQ(unified["profiles_out"], 5);
  EXPECT_EQ(unified["ids"]["kept"], 4);
  EXPECT_EQ(unified["ids"]["new"], 1);
  ASSERT_EQ(unified["id_changes"].size(), 1u) << unified.dump();
  EXPECT_EQ(unified["id_changes"][0]["kind"], "split");
  EXPECT_EQ(unified["id_changes"][0]["customer_id"], id["Shop:2"]);
  Json keys2 = RunJson("show CustomerSourceKeys -w " + ws_ + " --limit -1");
  std::map<std::string, int64_t> id2;
  for (const auto& row : keys2["rows"]) id2[row["Source"].get<std::string>() + ":" + row["SourceKey"].get<std::string>()] = row["CustomerId"];
  EXPECT_EQ(id2["Shop:1"], id["Shop:1"]);  // untouched profiles keep their ids
  EXPECT_EQ(id2["Shop:2"], id["Shop:2"]);
  EXPECT_NE(id2["Club:C2"], id2["Shop:2"]);
  Result ex2 = RunCdp("explain " + std::to_string(id["Shop:2"]) + " -w " + ws_);
  EXPECT_NE(ex2.out.find("split"), std::string::npos) << ex2.out;

  // Overrides import from a table; errors name the line; list and remove.
  WriteFile(dir_ / "ov.csv", "source_a,key_a,source_b,key_b,kind\nShop,3,Club,C3,always\n");
  ASSERT_EQ(RunCdp("override import " + (dir_ / "ov.csv").string() + " -w " + ws_).exit_code, 0);
  WriteFile(dir_ / "bad.csv", "source_a,key_a,source_b,key_b,kind\nShop,3,Club,C3,maybe\n");
  Result bad_import = RunCdp("override import " + (dir_ / "bad.csv").string() + " -w " + ws_);
  EXPECT_EQ(bad_import.exit_code, 1);
  EXPECT_NE(bad_import.out.find("bad.csv:2: kind"), std::string::npos) << bad_import.out;
  Json list = RunJson("override list -w " + ws_);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(RunJson("unify -w " + ws_)["profiles_out"], 4);  // Shop:3 + Club:C3 always match
  EXPECT_EQ(RunCdp("override remove " + std::to_string(list[0]["id"].get<int64_t>()) + " -w " + ws_).exit_code, 0);
  EXPECT_EQ(RunCdp("override remove 12345 -w " + ws_).exit_code, 1);

  // Preview writes nothing.
  Json before = RunJson("entities -w " + ws_);
  Json preview = RunJson("unify --preview -w " + ws_);
  EXPECT_EQ(preview["generation"], 0);
  EXPECT_EQ(RunJson("entities -w " + ws_).dump(), before.dump());
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CliTest, ActivitiesLinkThroughLineageAndTimelineFilters) {
  WriteFile(dir_ / "shop.csv", "Id,First,Email\n1,Robert,bob@x.com\n2,Ann,ann@x.com\n");
  WriteFile(dir_ / "club.csv", "CardId,Name,Mail\nC1,Bob,BOB@x.com\n");
  WriteFile(dir_ / "orders.csv",
            "OrderId,ShopId,At,Total\nA,1,2026-01-05T10:00:00Z,10.5\nB,2,2026-02-01T00:00:00Z,3\nC,9,2026-03-01T00:00:00Z,1\n");
  WriteFile(dir_ / "visits.csv", "VisitId,CardId,Day\nV1,C1,2026-01-01\nV2,C1,2026-04-01\n");
  std::string project = std::string(R"(project: a
sources:
  - {name: Shop, kind: csv, path: shop.csv, primary_key: Id, fields: [{name: Id, type: string}, {name: Email, semantic: Email}]}
  - {name: Club, kind: csv, path: club.csv, primary_key: CardId, fields: [{name: Mail, semantic: Email}]}
  - {name: Orders, kind: csv, path: orders.csv, primary_key: OrderId, fields: [{name: ShopId, type: string}, {name: At, type: timestamp}]}
  - {name: Visits, kind: csv, path: visits.csv, primary_key: VisitId, fields: [{name: Day, type: date}]}
unification:
  sources: [Shop, Club]
  rules: [{name: E, conditions: [{field: Email, normalize: [Email]}]}]
relationships:
  - {name: OrderShop, from: {entity: Orders, field: ShopId}, to: {entity: Shop, field: Id}}
  - {name: VisitCard, from: {entity: Visits, field: CardId}, to: {entity: Club, field: CardId}}
activities:
  - {name: Order, entity: Orders, timestamp: At, type: SalesOrder, amount: Total}
  - {name: Visit, entity: Visits, timestamp: Day, type: WebVisit}
)");
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ApplyProject(project);
  Result run = RunCdp("run -w " + ws_);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("4 rows in UnifiedActivity"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("orphan Orders.ShopId = 9"), std::string::npos) << run.out;
  Json keys = RunJson("show CustomerSourceKeys -w " + ws_);
  int64_t bob = -1;
  for (const auto& row : keys["rows"]) {
    if (row["Source"] == "Club") bob = row["CustomerId"];
  }
  // Bob's order (via Shop) and visits (via Club) form one timeline.
  Json tl = RunJson("timeline " + std::to_string(bob) + " -w " + ws_);
  ASSERT_EQ(tl["activities"].size(), 3u) << tl.dump();
  EXPECT_EQ(tl["activities"][0]["Activity"], "Visit");
  EXPECT_EQ(tl["activities"][1]["SourceKey"], "A");
  EXPECT_EQ(tl["activities"][1]["Amount"], 10.5);
  EXPECT_EQ(tl["activities"][1]["Fields"]["ShopId"], "1");
  EXPECT_EQ(RunJson("timeline " + std::to_string(bob) + " --type WebVisit -w " + ws_)["activities"].size(), 2u);
  EXPECT_EQ(RunJson("timeline " + std::to_string(bob) + " --from 2026-01-02 --to 2026-03-31 -w " + ws_)["activities"].size(), 1u);
  EXPECT_EQ(RunJson("timeline " + std::to_string(bob) + " --limit 1 -w " + ws_)["activities"][0]["SourceKey"], "V2");
  EXPECT_EQ(RunCdp("timeline 1 --from 2026-13-01 -w " + ws_).exit_code, 1);
  // Ids that name no customer and reversed ranges are errors, not empty timelines.
  Result negative = RunCdp("timeline -1 -w " + ws_);
  EXPECT_NE(negative.exit_code, 0) << negative.out;
  EXPECT_NE(negative.out.find("positive"), std::string::npos) << negative.out;
  Result unknown = RunCdp("timeline 999999 -w " + ws_);
  EXPECT_EQ(unknown.exit_code, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("no customer with CustomerId 999999"), std::string::npos) << unknown.out;
  Result reversed = RunCdp("timeline " + std::to_string(bob) + " --from 2026-03-31 --to 2026-01-02 -w " + ws_);
  EXPECT_EQ(reversed.exit_code, 1) << reversed.out;
  EXPECT_NE(reversed.out.find("reversed"), std::string::npos) << reversed.out;

  // A relationship between fields of different types is refused by apply
  // (it used to be accepted and fail at `cdp activities`), naming both.
  std::string bad = project;
  bad.replace(bad.find("{name: ShopId, type: string}"), std::string("{name: ShopId, type: string}").size(), "{name: ShopId, type: int64}");
  WriteFile(dir_ / "bad.yaml", bad);
  Result refused = RunCdp("apply -w " + ws_ + " " + (dir_ / "bad.yaml").string());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("Orders.ShopId is int64 but Shop.Id is string"), std::string::npos) << refused.out;
  EXPECT_EQ(RunCdp("activities -w " + ws_).exit_code, 0);  // the applied definitions are still the good ones
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// RFM groups need two measures to be saved: the command says so, adds them
// when asked, and saves a group whose rules select exactly its members; a
// suggestion is saved by its rank.
TEST_F(CliTest, RfmAndSuggestedGroupsAreSavedAsSegments) {
  ASSERT_EQ(RunCdp("demo generate --customers 600 --seed 7 --out " + (dir_ / "sources").string()).exit_code, 0);
  {
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    WriteFile(dir_ / "project.yaml", yaml);
  }
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ASSERT_EQ(RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string()).exit_code, 0);
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);

  Result listed = RunCdp("segment rfm -w " + ws_);
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  EXPECT_NE(listed.out.find("--add-measures"), std::string::npos) << listed.out;
  Result refused = RunCdp("segment rfm -w " + ws_ + " --save Champions");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("run with --add-measures"), std::string::npos) << refused.out;
  Result unknown = RunCdp("segment rfm -w " + ws_ + " --save Nope");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("there is no RFM group 'Nope'"), std::string::npos) << unknown.out;

  Json rfm = RunJson("segment rfm -w " + ws_ + " --add-measures");
  EXPECT_EQ(rfm["measures_added"], Json::array({"RfmLastTransaction", "RfmTransactions"})) << rfm.dump();
  std::string group;
  int64_t size = 0;
  for (const auto& g : rfm["groups"]) {
    if (!g["definition"].is_null() && g["size"].get<int64_t>() > 0) {
      group = g["key"].get<std::string>();
      size = g["size"].get<int64_t>();
      break;
    }
  }
  ASSERT_FALSE(group.empty()) << rfm.dump();
  Result saved = RunCdp("segment rfm -w " + ws_ + " --save " + group + " --as RfmPick");
  ASSERT_EQ(saved.exit_code, 0) << saved.out;
  EXPECT_NE(saved.out.find("saved dynamic segment RfmPick: " + std::to_string(size) + " members"), std::string::npos)
      << saved.out;

  Json suggestions = RunJson("segment suggest -w " + ws_ + " --target LifetimeSpend");
  if (!suggestions["suggestions"].empty()) {
    const int64_t want = suggestions["suggestions"][0]["size"].get<int64_t>();
    Result top = RunCdp("segment suggest -w " + ws_ + " --target LifetimeSpend --save 1 --as TopSuggestion");
    ASSERT_EQ(top.exit_code, 0) << top.out;
    EXPECT_NE(top.out.find("saved dynamic segment TopSuggestion: " + std::to_string(want) + " members"),
              std::string::npos)
        << top.out;
  }
  Result rank = RunCdp("segment suggest -w " + ws_ + " --target LifetimeSpend --save 999");
  EXPECT_EQ(rank.exit_code, 1);
  EXPECT_NE(rank.out.find("is not a suggestion's rank"), std::string::npos) << rank.out;
}

TEST_F(CliTest, ProbabilisticModeStoresAndExplainsItsModel) {
  ASSERT_EQ(RunCdp("demo generate --customers 400 --seed 7 --out " + (dir_ / "sources").string()).exit_code, 0);
  {
    // The bench's probabilistic demo project, with fewer random pairs to keep the test quick.
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/bench/unify_accuracy/contoso_probabilistic.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = yaml.find("\n  probabilistic:\n");
    ASSERT_NE(at, std::string::npos);
    yaml.insert(at + std::string("\n  probabilistic:\n").size(), "    random_pairs: 20000\n");
    WriteFile(dir_ / "project.yaml", yaml);
  }
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ASSERT_EQ(RunCdp("apply -w " + ws_ + " " + (dir_ / "project.yaml").string()).exit_code, 0);
  ASSERT_EQ(RunCdp("ingest -w " + ws_).exit_code, 0);
  Result none = RunCdp("explain-model -w " + ws_);
  EXPECT_EQ(none.exit_code, 1);
  Json u = RunJson("unify -w " + ws_);
  EXPECT_GT(u["prior_rule_pairs"].get<int64_t>(), 0) << u.dump();
  EXPECT_LT(u["profiles_out"].get<int64_t>(), u["records_in"].get<int64_t>());
  Result model = RunCdp("explain-model -w " + ws_);
  ASSERT_EQ(model.exit_code, 0) << model.out;
  EXPECT_NE(model.out.find("FirstName"), std::string::npos) << model.out;
  Json mj = RunJson("explain-model -w " + ws_);
  ASSERT_TRUE(mj.contains("comparisons")) << mj.dump();
  EXPECT_GT(mj["prior"].get<double>(), 0);
  // Any pair of a merged profile is explained with per-comparison weights.
  Json pairs = RunJson("show ConflationMatchPairs -w " + ws_ + " --limit 1");
  ASSERT_EQ(pairs["rows"].size(), 1u);
  const auto& p = pairs["rows"][0];
  Json e = RunJson("explain-pair \"" + p["SourceA"].get<std::string>() + ":" + p["KeyA"].get<std::string>() + "\" \"" +
                   p["SourceB"].get<std::string>() + ":" + p["KeyB"].get<std::string>() + "\" -w " + ws_);
  EXPECT_EQ(e["matched"], true) << e.dump();
  EXPECT_FALSE(e["comparisons"].empty());
  EXPECT_GT(e["match_probability"].get<double>(), 0.5);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CliTest, MeasuresRunAfterActivitiesAndNameBadFields) {
  WriteFile(dir_ / "shop.csv", "Id,First\n1,Robert\n2,Ann\n3,Zoe\n");
  WriteFile(dir_ / "orders.csv",
            "OrderId,ShopId,At,Total,Product\n"
            "A,1,2026-10-30T10:00:00Z,10,tea\nB,1,2026-06-01T00:00:00Z,30,coffee\nC,2,2026-10-31T00:00:00Z,5,tea\n"
            "D,2,2026-10-01T00:00:00Z,7,tea\n");
  std::string project = R"(project: m
sources:
  - {name: Shop, kind: csv, path: shop.csv, primary_key: Id, fields: [{name: Id, type: string}]}
  - {name: Orders, kind: csv, path: orders.csv, primary_key: OrderId, fields: [{name: ShopId, type: string}, {name: At, type: timestamp}, {name: Total, type: double}]}
unification:
  sources: [Shop]
relationships:
  - {name: OrderShop, from: {entity: Orders, field: ShopId}, to: {entity: Shop, field: Id}}
activities:
  - {name: Order, entity: Orders, timestamp: At, type: SalesOrder, amount: Total}
measures:
  - {name: Spend, function: sum, activity: Order, field: Total, default: 0}
  - {name: Spend30, function: sum, activity: Order, field: Total, window: {last: 30, unit: days}}
  - {name: AvgOrder, function: average, activity: Order, field: Total}
  - {name: Share30, formula: Spend30 / Spend}
  - {name: TeaSpend, kind: customer, function: sum, activity: Order, field: Total, dimensions: [Product]}
  - {name: Revenue, kind: business, function: sum, activity: Order, field: Total}
)";
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ApplyProject(project);
  Result run = RunCdp("run -w " + ws_);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("Measures run"), std::string::npos) << run.out;
  Json m = RunJson("measures -w " + ws_ + " --as-of 2026-11-01");
  ASSERT_EQ(m["customers"], 3);
  // A run date out of range is refused before anything is written.
  Json runs_before = RunJson("runs -w " + ws_);
  Result ancient = RunCdp("measures -w " + ws_ + " --as-of 0000-01-01");
  EXPECT_EQ(ancient.exit_code, 1) << ancient.out;
  EXPECT_NE(ancient.out.find("outside the supported range"), std::string::npos) << ancient.out;
  EXPECT_EQ(RunCdp("segment run -w " + ws_ + " --as-of 0000-01-01").exit_code, 1);
  EXPECT_EQ(RunJson("runs -w " + ws_).size(), runs_before.size()) << "no run was recorded";
  Json spend = RunJson("measures Spend -w " + ws_ + " --as-of 2026-11-01");
  std::map<int64_t, double> by_id;
  for (const auto& row : spend["rows"]) by_id[row["CustomerId"]] = row["Spend"];
  Json keys = RunJson("show CustomerSourceKeys -w " + ws_);
  std::map<std::string, int64_t> id;
  for (const auto& row : keys["rows"]) id[row["SourceKey"]] = row["CustomerId"];
  EXPECT_EQ(by_id[id["1"]], 40);
  EXPECT_EQ(by_id[id["2"]], 12);
  EXPECT_EQ(by_id[id["3"]], 0);  // the default for a customer without orders
  Json cm = RunJson("show Customer_Measure -w " + ws_ + " --limit -1");
  for (const auto& row : cm["rows"]) {
    if (row["CustomerId"] == id["1"]) {
      EXPECT_EQ(row["Spend30"], 10);  // the June order is outside the window
      EXPECT_DOUBLE_EQ(row["Share30"].get<double>(), 0.25);
      EXPECT_EQ(row["AvgOrder"], 20);
    }
    if (row["CustomerId"] == id["3"]) EXPECT_TRUE(row["AvgOrder"].is_null());
  }
  Json entities = RunJson("entities -w " + ws_);
  std::string names = entities.dump();
  EXPECT_NE(names.find("Measure_TeaSpend"), std::string::npos);
  EXPECT_NE(names.find("BusinessMeasure_Revenue"), std::string::npos);
  Json revenue = RunJson("measures Revenue -w " + ws_);
  EXPECT_EQ(revenue["rows"][0]["Value"], 52);

  // A definition naming a field the data lacks is refused by apply, naming the measure and the field; nothing is written.
  std::string bad = project;
  bad.replace(bad.find("field: Total, default: 0"), std::string("field: Total, default: 0").size(), "field: Totl, default: 0");
  WriteFile(dir_ / "bad.yaml", bad);
  Result err = RunCdp("apply -w " + ws_ + " " + (dir_ / "bad.yaml").string());
  EXPECT_EQ(err.exit_code, 1);
  EXPECT_NE(err.out.find("measure 'Spend'"), std::string::npos) << err.out;
  EXPECT_NE(err.out.find("Totl"), std::string::npos) << err.out;
  EXPECT_EQ(RunJson("show Customer_Measure -w " + ws_ + " --limit -1")["rows"].size(), 3u);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CliTest, SegmentsQuickFileDraftStaticDynamicHistoryAndExport) {
  WriteFile(dir_ / "people.csv",
            "Id,Name,State,Born\n1,Ann,California,1985-03-01\n2,Bob,Texas,1990-07-04\n3,Cy,California,1950-01-01\n");
  WriteFile(dir_ / "orders.csv", "OrderId,PersonId,At,Total\nA,1,2026-10-30T10:00:00Z,200\nB,2,2026-10-01T00:00:00Z,50\n");
  std::string project = R"(project: s
sources:
  - {name: People, kind: csv, path: people.csv, primary_key: Id, fields: [{name: Id, type: string}, {name: Born, type: date}]}
  - {name: Orders, kind: csv, path: orders.csv, primary_key: OrderId, fields: [{name: PersonId, type: string}, {name: At, type: timestamp}, {name: Total, type: double}]}
unification:
  sources: [People]
relationships:
  - {name: OrderPerson, from: {entity: Orders, field: PersonId}, to: {entity: People, field: Id}}
activities:
  - {name: Order, entity: Orders, timestamp: At, type: SalesOrder, amount: Total}
measures:
  - {name: AvgOrder, function: average, activity: Order, field: Total}
)";
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  ApplyProject(project);
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);

  // Quick segments from a profile field and from a measure.
  ASSERT_EQ(RunCdp("segment create Cal --field State --op equals --value California -w " + ws_).exit_code, 0);
  Json big = RunJson("segment create BigSpenders --entity Customer_Measure --field AvgOrder --op greater --value 100 -w " + ws_);
  EXPECT_EQ(big["status"], "active");
  EXPECT_EQ(RunCdp("segment create Cal --field State --op equals --value Texas -w " + ws_).exit_code, 1);  // exists

  // A file definition with an invalid field is saved as a draft with its problems; running it is refused.
  WriteFile(dir_ / "draft.yaml", "name: Young\nrules:\n  - entity: Customer\n    conditions:\n      - {field: Bornn, op: after, values: [1980-01-01]}\n");
  // A definition file over 1 MiB is refused unread, naming the file.
  WriteFile(dir_ / "huge.yaml", "name: Huge\n# " + std::string(size_t{2} << 20, 'x') + "\n");
  Result huge = RunCdp("segment create --file " + (dir_ / "huge.yaml").string() + " -w " + ws_);
  EXPECT_EQ(huge.exit_code, 1) << huge.out;
  EXPECT_NE(huge.out.find("huge.yaml: a segment definition file may hold at most"), std::string::npos) << huge.out;
  Json draft = RunJson("segment create --file " + (dir_ / "draft.yaml").string() + " -w " + ws_);
  EXPECT_EQ(draft["status"], "draft");
  ASSERT_EQ(draft["problems"].size(), 1u);
  EXPECT_NE(draft["problems"][0].get<std::string>().find("Bornn"), std::string::npos);
  Result refused = RunCdp("segment run Young -w " + ws_);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("draft"), std::string::npos) << refused.out;
  WriteFile(dir_ / "draft.yaml", "name: Young\nrules:\n  - entity: Customer\n    conditions:\n      - {field: Born, op: after, values: [1980-01-01]}\n");
  EXPECT_EQ(RunJson("segment update --file " + (dir_ / "draft.yaml").string() + " -w " + ws_)["status"], "active");

  // A static segment is frozen at creation.
  Json frozen = RunJson("segment create CalFrozen --field State --op equals --value California --static -w " + ws_);
  EXPECT_EQ(frozen["members"], 2);

  Json run1 = RunJson("segment run -w " + ws_);
  std::map<std::string, int64_t> counts;
  for (const auto& s : run1["segments"]) counts[s["name"]] = s["members"];
  EXPECT_EQ(counts["Cal"], 2);
  EXPECT_EQ(counts["BigSpenders"], 1);
  EXPECT_EQ(counts["Young"], 2);
  EXPECT_EQ(counts.count("CalFrozen"), 0u);  // static: not re-evaluated
  EXPECT_EQ(RunCdp("segment run CalFrozen -w " + ws_).exit_code, 1);

  // New data: the dynamic segment follows, the static one keeps its members; history grows.
  WriteFile(dir_ / "people.csv",
            "Id,Name,State,Born\n1,Ann,California,1985-03-01\n2,Bob,Texas,1990-07-04\n3,Cy,California,1950-01-01\n4,Di,California,2000-02-02\n");
  ASSERT_EQ(RunCdp("run -w " + ws_).exit_code, 0);
  Json show = RunJson("segment show Cal -w " + ws_);
  EXPECT_EQ(show["members"], 3);
  // Evaluated when created (a new dynamic segment has members at once), by `segment run`, by `run`.
  ASSERT_EQ(show["history"].size(), 3u);
  EXPECT_EQ(show["history"][0]["members"], 2);
  EXPECT_EQ(show["history"][1]["members"], 2);
  EXPECT_EQ(show["history"][2]["members"], 3);
  EXPECT_EQ(show["rules"][0]["members"], 3);
  EXPECT_EQ(show["preview"].size(), 3u);
  EXPECT_EQ(RunJson("segment show CalFrozen -w " + ws_)["members"], 2);

  // Export every member, CSV and JSON Lines.
  fs::path csv = dir_ / "cal.csv";
  ASSERT_EQ(RunCdp("segment members Cal --format csv --out " + csv.string() + " -w " + ws_).exit_code, 0);
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_NE(header.find("CustomerId"), std::string::npos);
  EXPECT_NE(header.find("AvgOrder"), std::string::npos);
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 3);
  Result jsonl = RunCdp("segment members BigSpenders --format jsonl -w " + ws_);
  ASSERT_EQ(jsonl.exit_code, 0);
  Json member = Json::parse(jsonl.out.substr(0, jsonl.out.find('\n')));
  EXPECT_EQ(member["Name"], "Ann");
  EXPECT_EQ(RunCdp("segment members Cal --format xml -w " + ws_).exit_code, 1);
  // The same from a definition file, without saving it.
  WriteFile(dir_ / "adhoc.yaml", "name: BigOrders\nrules:\n  - entity: Orders\n    conditions:\n      - {field: Total, op: greater, values: [100]}\n");
  Result adhoc = RunCdp("segment members --file " + (dir_ / "adhoc.yaml").string() + " --format jsonl -w " + ws_);
  ASSERT_EQ(adhoc.exit_code, 0) << adhoc.out;
  EXPECT_EQ(Json::parse(adhoc.out.substr(0, adhoc.out.find('\n')))["Name"], "Ann");
  EXPECT_EQ(std::count(adhoc.out.begin(), adhoc.out.end(), '\n'), 1);

  Json list = RunJson("segment list -w " + ws_);
  EXPECT_EQ(list.size(), 4u);
  EXPECT_EQ(RunCdp("segment delete Young -w " + ws_).exit_code, 0);
  EXPECT_EQ(RunJson("segment list -w " + ws_).size(), 3u);
  EXPECT_EQ(RunCdp("segment delete Young -w " + ws_).exit_code, 1);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// The audit log rows (actor|action|target), oldest first, read with the sqlite3 shell.
std::vector<std::string> AuditRows(const std::string& ws) {
  std::string cmd = "sqlite3 " + ws + "/catalog.db 'SELECT actor, action, target FROM audit_log ORDER BY id' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  std::vector<std::string> rows;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) rows.push_back(out.substr(start, nl - start));
  return rows;
}

TEST_F(CliTest, ApiKeysAreCreatedOnceListedWithoutSecretsAndRevoked) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  Json created = RunJson("apikey create --role admin --name ops -w " + ws_);
  ASSERT_TRUE(created.is_object()) << created.dump();
  const std::string key = created["key"];
  EXPECT_EQ(created["name"], "ops");
  EXPECT_EQ(created["role"], "admin");
  ASSERT_EQ(key.size(), 45u) << key;
  EXPECT_EQ(key.substr(0, 4), "cdp_");

  Result text = RunCdp("apikey create --role viewer -w " + ws_);
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("shown only this once"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\ncdp_"), std::string::npos) << text.out;

  Json list = RunJson("apikey list -w " + ws_);
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "ops");
  EXPECT_EQ(list[0]["status"], "active");
  EXPECT_EQ(list[0]["created_by"], "cli");
  EXPECT_EQ(list[0]["prefix"], key.substr(4, 8));
  EXPECT_EQ(list[1]["name"], "viewer");  // the role is the default name
  EXPECT_EQ(list[1]["role"], "viewer");
  EXPECT_EQ(list.dump().find(key.substr(13)), std::string::npos);  // no secret
  Result table = RunCdp("apikey list -w " + ws_);
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("ops"), std::string::npos);
  EXPECT_EQ(table.out.find(key.substr(13)), std::string::npos);

  const std::string id = std::to_string(created["id"].get<int64_t>());
  Result revoke = RunCdp("apikey revoke " + id + " -w " + ws_);
  ASSERT_EQ(revoke.exit_code, 0) << revoke.out;
  list = RunJson("apikey list -w " + ws_);
  EXPECT_EQ(list[0]["status"], "revoked");
  EXPECT_FALSE(list[0]["revoked_at"].is_null());

  Result unknown = RunCdp("apikey revoke 999 -w " + ws_);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("NotFound"), std::string::npos) << unknown.out;
  EXPECT_EQ(RunCdp("apikey create --role root -w " + ws_).exit_code, 2);
  EXPECT_EQ(RunCdp("apikey create -w " + ws_).exit_code, 2);  // --role is required

  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no sqlite3 shell to read the audit log";
  std::vector<std::string> audit = AuditRows(ws_);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0], "cli|apikey.create|apikey:" + id);
  EXPECT_EQ(audit[2], "cli|apikey.revoke|apikey:" + id);
}

TEST_F(CliTest, ShowFormatStreamsEveryRowAsCsvOrJsonLines) {
  ASSERT_EQ(RunCdp("init " + ws_).exit_code, 0);
  std::string contacts = "ContactId,FirstName,DateOfBirth,Spend,Subscriber\n";
  for (int i = 1; i <= 50; ++i) {
    contacts += std::to_string(i) + ",\"Name, \"\"" + std::to_string(i) + "\"\"\",1990-04-01,437.66,yes\n";
  }
  WriteFile(dir_ / "contacts.csv", contacts);
  WriteFile(dir_ / "survey.jsonl", "{\"Id\": 1}\n");
  ApplyProject(kProject);
  ASSERT_EQ(RunCdp("ingest -w " + ws_).exit_code, 0);

  // Every row, not the 20 of the table view; RFC 4180 quoting; 437.66 as typed.
  Result csv = cdp::testing::RunCdp("show -w " + ws_ + " Contacts --format csv", /*stdout_only=*/true);
  ASSERT_EQ(csv.exit_code, 0) << csv.out;
  std::vector<std::string> lines;
  std::istringstream in(csv.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 51u) << csv.out;
  EXPECT_NE(lines[0].find("ContactId"), std::string::npos);
  EXPECT_NE(lines[1].find("\"Name, \"\"1\"\"\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(",437.66,"), std::string::npos) << lines[1];

  Result jsonl = cdp::testing::RunCdp("show -w " + ws_ + " Contacts --format jsonl --limit 3", /*stdout_only=*/true);
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.out;
  std::istringstream jin(jsonl.out);
  int n = 0;
  for (std::string line; std::getline(jin, line); ++n) {
    Json j = Json::parse(line);
    EXPECT_EQ(j["FirstName"], "Name, \"" + std::to_string(n + 1) + "\"");
    EXPECT_EQ(j["Spend"], 437.66);
  }
  EXPECT_EQ(n, 3);

  EXPECT_EQ(RunCdp("show -w " + ws_ + " Contacts --format xml").exit_code, 2);
  Result missing = RunCdp("show -w " + ws_ + " Nope --format csv");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("no entity 'Nope'"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace cdp
