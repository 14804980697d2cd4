#include "catalog/catalog.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <filesystem>

namespace cdp {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_catalog_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/catalog.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(CatalogTest, AppliesMigrationsOnceAndReopens) {
  {
    auto c = Catalog::Open(path_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->schema_version(), Catalog::LatestSchemaVersion());
  }
  auto again = Catalog::Open(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version(), Catalog::LatestSchemaVersion());
}

TEST_F(CatalogTest, RefusesCatalogFromNewerVersion) {
  { ASSERT_TRUE(Catalog::Open(path_).ok()); }
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 0)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto c = Catalog::Open(path_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("newer"), std::string::npos);
}

TEST_F(CatalogTest, StoresAndReplacesTheProject) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto p = ParseProjectYaml(
      "project: demo\nsources:\n  - {name: B, kind: csv, path: b.csv, max_bad_rows: 3}\n"
      "  - {name: A, kind: jsonl, path: a.jsonl}\n",
      "p.yaml", "/base");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*c)->ReplaceProject(*p).ok());
  auto loaded = (*c)->LoadProject();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, *p);  // order of sources kept
  ProjectConfig smaller = *p;
  smaller.sources.pop_back();
  ASSERT_TRUE((*c)->ReplaceProject(smaller).ok());
  EXPECT_EQ((*c)->LoadProject()->sources.size(), 1u);
}

TEST_F(CatalogTest, RecordsRunsAndFindsLastSucceededIngest) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto run = (*c)->BeginRun("ingest");
  ASSERT_TRUE(run.ok());
  SourceIngestRecord ok_rec{*run, "A", "succeeded", 10, 8, 1, 1, 3, "fp1", "", 1, 2};
  SourceIngestRecord failed{*run, "A", "failed", 10, 0, 9, 0, 0, "fp2", "too many bad rows", 3, 4};
  ASSERT_TRUE((*c)->RecordSourceIngest(ok_rec).ok());
  ASSERT_TRUE((*c)->RecordSourceIngest(failed).ok());
  ASSERT_TRUE((*c)->FinishRun(*run, "failed", "A failed", "{}").ok());
  auto last = (*c)->LastSucceededIngest("A");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->fingerprint, "fp1");
  EXPECT_EQ((*last)->generation, 3u);
  EXPECT_FALSE((*c)->LastSucceededIngest("B")->has_value());
  auto runs = (*c)->ListRuns(10);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "failed");
  EXPECT_EQ((*c)->ListSourceIngests(*run)->size(), 2u);
  auto one = (*c)->GetRun(*run);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->error, "A failed");
  EXPECT_EQ((*c)->GetRun(*run + 1).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CatalogTest, OverridesAreUnorderedPairsAndReplaceEachOther) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto id = (*c)->AddMatchOverride(MatchOverrideRecord{0, "B", "2", "A", "1", false, "no", 0});
  ASSERT_TRUE(id.ok());
  auto again = (*c)->AddMatchOverride(MatchOverrideRecord{0, "A", "1", "B", "2", true, "yes", 0});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*id, *again);
  auto list = (*c)->ListMatchOverrides();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].always);
  EXPECT_EQ((*list)[0].source_a, "A");
  EXPECT_TRUE((*c)->RemoveMatchOverride(*id).ok());
  EXPECT_EQ((*c)->RemoveMatchOverride(*id).code(), StatusCode::kNotFound);
}

TEST_F(CatalogTest, IdChangesAreFoundByEitherSide) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto run = (*c)->BeginRun("unify");
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*c)->RecordIdChanges(*run, {{*run, "merge", 5, {7, 17}}, {*run, "split", 9, {9, 12}}}).ok());
  auto for7 = (*c)->ListIdChanges(7);
  ASSERT_TRUE(for7.ok());
  ASSERT_EQ(for7->size(), 1u);
  EXPECT_EQ((*for7)[0].customer_id, 5);
  EXPECT_EQ((*for7)[0].other_ids, (std::vector<int64_t>{7, 17}));
  EXPECT_EQ((*c)->ListIdChanges(1)->size(), 0u);  // 1 is not 17
  EXPECT_EQ((*c)->ListIdChanges(std::nullopt)->size(), 2u);
}

TEST_F(CatalogTest, SegmentsAndTheirHistory) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Cal", "{}", "draft", "[\"x\"]", 0, 0}).ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Cal", "{\"a\":1}", "active", "[]", 0, 0}).ok());
  auto s = (*c)->GetSegment("Cal");
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->status, "active");
  EXPECT_EQ((*s)->definition_json, "{\"a\":1}");
  for (int64_t m : {10, 12, 15}) ASSERT_TRUE((*c)->RecordSegmentCount("Cal", 1, m).ok());
  auto h = (*c)->SegmentHistory("Cal", 2);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].members, 12);
  EXPECT_EQ((*h)[1].members, 15);
  EXPECT_TRUE((*c)->DeleteSegment("Cal").ok());
  EXPECT_EQ((*c)->DeleteSegment("Cal").code(), StatusCode::kNotFound);
  EXPECT_FALSE((*(*c)->GetSegment("Cal")).has_value());
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CatalogTest, ApiKeysAreFoundByPrefixAndRevoked) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ApiKeyRecord k;
  k.name = "etl";
  k.role = "contributor";
  k.prefix = "abcd1234";
  k.secret_hash = std::string(64, 'f');
  k.created_by = "cli";
  auto id = (*c)->AddApiKey(k);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  k.name = "other";
  EXPECT_EQ((*c)->AddApiKey(k).status().code(), StatusCode::kAlreadyExists);  // prefix taken
  k.prefix = "zzzz0000";
  auto id2 = (*c)->AddApiKey(k);
  ASSERT_TRUE(id2.ok());
  EXPECT_GT(*id2, *id);

  auto found = (*c)->FindApiKeyByPrefix("abcd1234");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->name, "etl");
  EXPECT_EQ((*found)->role, "contributor");
  EXPECT_EQ((*found)->secret_hash, std::string(64, 'f'));
  EXPECT_EQ((*found)->created_by, "cli");
  EXPECT_GT((*found)->created_at, 0);
  EXPECT_EQ((*found)->revoked_at, 0);
  EXPECT_EQ((*found)->last_used_at, 0);
  EXPECT_FALSE((*(*c)->FindApiKeyByPrefix("nope")).has_value());

  ASSERT_TRUE((*c)->TouchApiKey(*id, 42).ok());
  ASSERT_TRUE((*c)->RevokeApiKey(*id).ok());
  int64_t revoked_at = (*(*c)->FindApiKeyByPrefix("abcd1234"))->revoked_at;
  EXPECT_GT(revoked_at, 0);
  ASSERT_TRUE((*c)->RevokeApiKey(*id).ok());  // revoking twice keeps the first time
  EXPECT_EQ((*(*c)->FindApiKeyByPrefix("abcd1234"))->revoked_at, revoked_at);
  EXPECT_EQ((*(*c)->FindApiKeyByPrefix("abcd1234"))->last_used_at, 42);
  EXPECT_EQ((*c)->RevokeApiKey(999).code(), StatusCode::kNotFound);
  EXPECT_EQ((*c)->TouchApiKey(999, 1).code(), StatusCode::kNotFound);

  auto list = (*c)->ListApiKeys();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *id);
  EXPECT_GT((*list)[0].revoked_at, 0);
  EXPECT_EQ((*list)[1].revoked_at, 0);
}

TEST_F(CatalogTest, AuditLogListsNewestFirstAndPages) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = (*c)->AppendAudit("cli", "apikey.create", "apikey:" + std::to_string(i), "{\"role\":\"admin\"}");
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  ASSERT_TRUE((*c)->AppendAudit("cli", "x", "y", "").ok());  // empty detail is stored as {}
  auto page = (*c)->ListAudit(3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].action, "x");
  EXPECT_EQ((*page)[0].detail_json, "{}");
  EXPECT_EQ((*page)[1].id, ids[4]);
  EXPECT_EQ((*page)[2].id, ids[3]);
  EXPECT_GT((*page)[1].at, 0);
  auto next = (*c)->ListAudit(10, (*page)[2].id);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 3u);
  EXPECT_EQ((*next)[0].id, ids[2]);
  EXPECT_EQ((*next)[2].id, ids[0]);
  EXPECT_EQ((*next)[2].actor, "cli");
  EXPECT_EQ((*next)[2].target, "apikey:0");
  EXPECT_EQ((*next)[2].detail_json, "{\"role\":\"admin\"}");
}

TEST_F(CatalogTest, UpgradesAVersion3CatalogKeepingItsData) {
  {
    auto c = Catalog::Open(path_);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Cal", "{}", "active", "[]", 0, 0}).ok());
  }
  // Roll the file back to schema 3, as an older cdp left it.
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE api_keys; DROP TABLE audit_log; ALTER TABLE runs DROP COLUMN owner; "
                         "DROP TABLE export_runs; DROP TABLE export_state; DROP TABLE secrets; "
                         "DELETE FROM schema_migrations WHERE version >= 4",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), Catalog::LatestSchemaVersion());
  EXPECT_TRUE((*(*c)->GetSegment("Cal")).has_value());
  EXPECT_TRUE((*c)->ListApiKeys()->empty());
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

TEST_F(CatalogTest, StoresSchedulesAndSearchWithTheProject) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto p = ParseProjectYaml(
      "project: demo\nsources:\n  - {name: A, kind: csv, path: a.csv, schedule: '*/30 * * * *'}\n"
      "  - {name: B, kind: csv, path: b.csv}\n"
      "refresh: {schedule: '0 3 * * *'}\n"
      "search:\n  fields: [LastName, {field: Phone, normalize: phone, weight: 2.5}]\n  filters: [State, Gender]\n",
      "p.yaml", "/base");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*c)->ReplaceProject(*p).ok());
  auto loaded = (*c)->LoadProject();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, *p);
  EXPECT_EQ(loaded->sources[0].schedule, "*/30 * * * *");
  EXPECT_EQ(loaded->refresh_schedule, "0 3 * * *");
  EXPECT_EQ(loaded->search.fields[1].weight, 2.5);

  // The stored forms: the source definition JSON carries its schedule; search is JSON.
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  auto query = [&](const char* sql) {
    std::string out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  EXPECT_NE(query("SELECT definition FROM sources WHERE name = 'A'").find("\"schedule\":\"*/30 * * * *\""),
            std::string::npos);
  EXPECT_EQ(query("SELECT value FROM project WHERE key = 'refresh_schedule'"), "0 3 * * *");
  EXPECT_EQ(query("SELECT value FROM project WHERE key = 'search'"),
            "{\"fields\":[{\"field\":\"LastName\",\"normalize\":\"\",\"weight\":1.0},"
            "{\"field\":\"Phone\",\"normalize\":\"phone\",\"weight\":2.5}],\"filters\":[\"State\",\"Gender\"]}");
  sqlite3_close(db);

  // A project without them (or applied by an older cdp) loads with empty ones.
  ProjectConfig plain = *p;
  plain.refresh_schedule.clear();
  plain.search = SearchConfig();
  plain.sources[0].schedule.clear();
  ASSERT_TRUE((*c)->ReplaceProject(plain).ok());
  EXPECT_EQ(*(*c)->LoadProject(), plain);
}

// A run whose process died without finishing it (kill -9, a crash) reads as
// "interrupted", not "running" forever; the next run records that.
TEST_F(CatalogTest, RunOfADeadProcessIsInterrupted) {
  int64_t live_run = 0;
  {
    auto c = Catalog::Open(path_);
    ASSERT_TRUE(c.ok());
    auto r = (*c)->BeginRun("refresh");
    ASSERT_TRUE(r.ok());
    live_run = *r;
  }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto c = Catalog::Open(path_);
    if (!c.ok() || !(*c)->BeginRun("ingest").ok()) std::_Exit(1);
    std::_Exit(0);  // no FinishRun, as after kill -9
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  auto runs = (*c)->ListRuns(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].kind, "ingest");
  EXPECT_EQ((*runs)[0].status, "interrupted");
  EXPECT_NE((*runs)[0].error.find("ended before it finished"), std::string::npos);
  EXPECT_EQ((*runs)[1].status, "running") << "this process is alive: its run still runs";
  EXPECT_EQ((*c)->GetRun((*runs)[0].id)->status, "interrupted");

  // The next run stores the verdict, so other readers see it too.
  ASSERT_TRUE((*c)->BeginRun("run").ok());
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT status FROM runs WHERE id = ?", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_int64(st, 1, (*runs)[0].id);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "interrupted");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ((*c)->GetRun(live_run)->status, "running");
}

// With no room to grow any file (a full disk, simulated with RLIMIT_FSIZE in a
// child process), the catalog still opens and reads; a write fails cleanly.
TEST_F(CatalogTest, FullDiskStillReads) {
  {
    auto c = Catalog::Open(path_);
    ASSERT_TRUE(c.ok());
    auto r = (*c)->BeginRun("ingest");
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE((*c)->FinishRun(*r, "succeeded", "", "{}").ok());
  }  // the last connection's close removes the -wal and -shm files
  ASSERT_FALSE(std::filesystem::exists(path_ + "-shm"));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
    struct rlimit limit{};
    limit.rlim_cur = limit.rlim_max = 1024;
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(10);
    auto c = Catalog::Open(path_);
    if (!c.ok()) {
      std::fprintf(stderr, "open: %s\n", c.status().ToString().c_str());
      std::_Exit(11);
    }
    auto runs = (*c)->ListRuns(10);
    if (!runs.ok() || runs->size() != 1 || (*runs)[0].status != "succeeded") std::_Exit(12);
    std::string big(64 << 10, 'x');
    auto r = (*c)->BeginRun(big);  // needs room the "disk" does not have
    if (r.ok()) std::_Exit(13);
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setrlimit, 11 open, 12 read, 13 a write succeeded";
  auto c = Catalog::Open(path_);  // and the catalog is intact afterwards
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->ListRuns(10)->size(), 1u);
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// A snapshot of every definition, to compare before and after a change.
std::string DefinitionsOf(Catalog& c) {
  std::string out = EmitProjectYaml(*c.LoadProject());
  auto segments = c.ListSegments();
  for (const auto& s : *segments) out += "\n" + s.name + " " + s.definition_json + " " + s.status;
  return out;
}

ProjectConfig SmallProject(const std::string& name) {
  auto p = ParseProjectYaml("project: " + name + "\nsources:\n  - {name: A, kind: csv, path: a.csv}\n", "p.yaml", "/base");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

TEST_F(CatalogTest, UpdateDefinitionsCommitsProjectAndSegmentsTogether) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  Status s = (*c)->UpdateDefinitions([&](DefinitionsTxn& txn) {
    CDP_RETURN_IF_ERROR(txn.ReplaceProject(SmallProject("one")));
    CDP_RETURN_IF_ERROR(txn.PutSegment(SegmentRecord{"S", "{\"name\":\"S\"}", "active", "[]", 0, 0}));
    // Reads inside the transaction see its writes.
    auto p = txn.LoadProject();
    if (!p.ok() || p->name != "one") return InternalError("project not visible in its transaction");
    auto seg = txn.GetSegment("S");
    if (!seg.ok() || !seg->has_value()) return InternalError("segment not visible in its transaction");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ((*c)->LoadProject()->name, "one");
  EXPECT_EQ((*c)->ListSegments()->size(), 1u);
}

TEST_F(CatalogTest, AFailedChangeLeavesEveryDefinitionAsBefore) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ReplaceProject(SmallProject("before")).ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Old", "{\"name\":\"Old\"}", "active", "[]", 0, 0}).ok());
  const std::string before = DefinitionsOf(**c);
  // An error after the project and a segment were written in the transaction.
  Status s = (*c)->UpdateDefinitions([&](DefinitionsTxn& txn) {
    CDP_RETURN_IF_ERROR(txn.ReplaceProject(SmallProject("after")));
    CDP_RETURN_IF_ERROR(txn.DeleteSegment("Old"));
    CDP_RETURN_IF_ERROR(txn.PutSegment(SegmentRecord{"New", "{\"name\":\"New\"}", "active", "[]", 0, 0}));
    return InvalidArgumentError("relationship 'r' refused");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DefinitionsOf(**c), before);
  // An exception (the server's handlers throw their HTTP errors) rolls back too.
  EXPECT_THROW((void)(*c)->UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
                 (void)txn.ReplaceProject(SmallProject("after"));
                 throw std::runtime_error("handler error");
               }),
               std::runtime_error);
  EXPECT_EQ(DefinitionsOf(**c), before);
  // The catalog is usable afterwards.
  ASSERT_TRUE((*c)->ReplaceProject(SmallProject("later")).ok());
  EXPECT_EQ((*c)->LoadProject()->name, "later");
}

// Fails each write of a change in turn (1st, 2nd, ...) until the change goes
// through: every failed attempt leaves the definitions exactly as they were.
TEST_F(CatalogTest, FaultSweepOverTheWritesOfAChange) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->ReplaceProject(SmallProject("before")).ok());
  ASSERT_TRUE((*c)->PutSegment(SegmentRecord{"Gone", "{}", "active", "[]", 0, 0}).ok());
  const std::string before = DefinitionsOf(**c);
  auto change = [&](DefinitionsTxn& txn) -> Status {
    CDP_RETURN_IF_ERROR(txn.ReplaceProject(SmallProject("after")));
    CDP_RETURN_IF_ERROR(txn.PutSegment(SegmentRecord{"A", "{}", "active", "[]", 0, 0}));
    CDP_RETURN_IF_ERROR(txn.PutSegment(SegmentRecord{"B", "{}", "draft", "[]", 0, 0}));
    return txn.DeleteSegment("Gone");
  };
  int failures = 0;
  for (int n = 1; n < 10; ++n) {
    (*c)->FailDefinitionWriteForTesting(n);
    Status s = (*c)->UpdateDefinitions(change);
    (*c)->FailDefinitionWriteForTesting(0);
    if (s.ok()) break;
    ++failures;
    EXPECT_NE(s.message().find("injected"), std::string::npos) << s.ToString();
    EXPECT_EQ(DefinitionsOf(**c), before) << "after a failure at write " << n;
  }
  EXPECT_EQ(failures, 4);  // one per write
  EXPECT_EQ((*c)->LoadProject()->name, "after");
  std::vector<std::string> names;
  auto segments = (*c)->ListSegments();
  for (const auto& s : *segments) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B"}));
}

// Migration 6: segment texts kept in the project by an older cdp move into
// the segments table unless a segment of that name is there; the project's
// copy is dropped.
TEST_F(CatalogTest, Migration6MovesProjectSegmentTextsIntoTheSegmentsTable) {
  { ASSERT_TRUE(Catalog::Open(path_).ok()); }
  auto roll_back_to_5 = [&] {
    sqlite3* db;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "DELETE FROM schema_migrations WHERE version >= 6; DELETE FROM segments; "
                           "DROP TABLE export_runs; DROP TABLE export_state; DROP TABLE secrets; "
                           "INSERT INTO segments VALUES ('Both', '{\"name\":\"Both\",\"kept\":1}', 'active', '[]', 1, 1); "
                           "INSERT OR REPLACE INTO project VALUES ('segments', '[\"name: Both\\n\", \"name: OnlyInProject\\n\"]')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  };
  roll_back_to_5();
  // Without a reader of segment texts the migration cannot run, and changes nothing.
  auto refused = Catalog::Open(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status().ToString();

  CatalogOptions options;
  options.read_legacy_segment = [](const std::string& text) -> StatusOr<SegmentRecord> {
    std::string name = text.substr(6, text.find('\n') - 6);  // "name: X\n"
    return SegmentRecord{name, "{\"name\":\"" + name + "\"}", "draft", "[]", 0, 0};
  };
  auto c = Catalog::Open(path_, options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), Catalog::LatestSchemaVersion());
  auto segs = (*c)->ListSegments();
  ASSERT_EQ(segs->size(), 2u);
  EXPECT_EQ((*segs)[0].definition_json, "{\"name\":\"Both\",\"kept\":1}");  // the table's copy wins
  EXPECT_EQ((*segs)[1].name, "OnlyInProject");
  EXPECT_EQ((*segs)[1].status, "draft");
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM project WHERE key = 'segments'", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Migration 7: export runs with their progress, per-export state pointers
// and the secret store.
TEST_F(CatalogTest, ExportRunsRecordProgressAndInstallStateWithSuccess) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExportRunRecord run;
  run.export_name = "to_crm";
  run.trigger = "cli";
  run.definition_hash = "h1";
  run.pending_path = "exports/to_crm/pending-1";
  run.state_path = "exports/to_crm/state-1";
  run.delta = true;
  run.batches_total = 3;
  auto id = (*c)->BeginExportRun(run);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  run.id = *id;
  ASSERT_TRUE((*c)->RecordExportBatches(run.id, 2).ok());
  auto runs = (*c)->ListExportRuns("to_crm", 10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "running");  // this process is alive
  EXPECT_EQ((*runs)[0].batches_acknowledged, 2);
  EXPECT_TRUE((*runs)[0].delta);
  EXPECT_EQ((*runs)[0].pending_path, run.pending_path);
  auto none = (*c)->GetExportState("to_crm");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  run.status = "succeeded";
  run.batches_acknowledged = 3;
  run.stats_json = "{\"added\":5}";
  run.finished_at = NowMicros();
  ASSERT_TRUE((*c)->FinishExportRunSucceeded(run, {"to_crm", run.id, run.state_path, 5, 0}).ok());
  auto state = (*c)->GetExportState("to_crm");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->path, "exports/to_crm/state-1");
  EXPECT_EQ((*state)->rows, 5);
  EXPECT_EQ((*state)->run_id, run.id);
  runs = (*c)->ListExportRuns("to_crm", 10);
  EXPECT_EQ((*runs)[0].status, "succeeded");
  EXPECT_EQ((*runs)[0].stats_json, "{\"added\":5}");
  EXPECT_TRUE((*c)->ListExportRuns("other", 10)->empty());
  ASSERT_TRUE((*c)->DeleteExportState("to_crm").ok());
  EXPECT_FALSE((*c)->GetExportState("to_crm")->has_value());
}

TEST_F(CatalogTest, ARunningExportRunOfADeadProcessReadsInterrupted) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ExportRunRecord run;
  run.export_name = "e";
  auto id = (*c)->BeginExportRun(run);
  ASSERT_TRUE(id.ok());
  sqlite3* db;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE export_runs SET owner = 'another-boot:1:1'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto runs = (*c)->ListExportRuns("e", 5);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, "interrupted");
  EXPECT_FALSE((*runs)[0].error.empty());
}

TEST_F(CatalogTest, SecretsAreStoredReplacedListedByNameAndDeleted) {
  auto c = Catalog::Open(path_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->PutSecret("pg", "one").ok());
  ASSERT_TRUE((*c)->PutSecret("pg", "two").ok());
  ASSERT_TRUE((*c)->PutSecret("hook", "h").ok());
  EXPECT_EQ(*(*c)->ListSecretNames(), (std::vector<std::string>{"hook", "pg"}));
  EXPECT_EQ(**(*c)->GetSecret("pg"), "two");
  EXPECT_FALSE((*c)->GetSecret("nope")->has_value());
  ASSERT_TRUE((*c)->DeleteSecret("pg").ok());
  EXPECT_EQ((*c)->DeleteSecret("pg").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cdp
