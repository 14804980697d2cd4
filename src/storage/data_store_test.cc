#include "storage/data_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "storage/test_util.h"

namespace cdp {
namespace {

using testing_util::MakeAllTypesTable;
using testing_util::ScratchDir;
using testing_util::TablesEqual;

Env* env() { return Env::Default(); }

std::unique_ptr<DataStore> OpenStore(const std::string& dir, const DataStoreOptions& options = {}) {
  auto s = DataStore::Open(env(), dir, options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Commits one generation writing each (name, table) pair.
void CommitTables(DataStore& store, const std::vector<std::pair<std::string, Table>>& tables,
                  const std::vector<std::string>& removals = {}) {
  auto w = store.BeginGeneration();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (const auto& [name, table] : tables) {
    auto f = (*w)->WriteEntity(name, table.schema(), R"({"source":"test"})");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(table).ok());
  }
  for (const auto& name : removals) ASSERT_TRUE((*w)->RemoveEntity(name).ok());
  Status s = (*w)->Commit();
  ASSERT_TRUE(s.ok()) << s.ToString();
}

StatusOr<Table> ReadEntity(const DataStore& store, const Snapshot& snap, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto reader, store.OpenEntity(snap, name));
  return reader->ReadAll();
}

std::set<std::string> Files(const std::string& dir) {
  auto children = env()->GetChildren(dir);
  return children.ok() ? std::set<std::string>(children->begin(), children->end()) : std::set<std::string>{};
}

TEST(DataStoreTest, NewStoreIsAtGenerationZeroAndCreatesItsDirectory) {
  ScratchDir dir;
  auto store = OpenStore(dir.Join("workspace/data/"));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->dir(), dir.Join("workspace/data"));
  EXPECT_TRUE(env()->FileExists(dir.Join("workspace/data")));
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->generation, 0u);
  EXPECT_TRUE(snap->entities.empty());
  auto missing = store->OpenEntity(*snap, "eCommerce Contacts");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'eCommerce Contacts'"), std::string::npos);
}

TEST(DataStoreTest, CommitPublishesEntitiesWithTheirMetadata) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table contacts = MakeAllTypesTable(300, 1);
  Table reviews = MakeAllTypesTable(5, 2);
  int64_t before = env()->NowMicros();
  CommitTables(*store, {{"eCommerce Contacts", contacts}, {"Web Reviews — Zoë", reviews}});

  auto snap = store->Current();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->generation, 1u);
  ASSERT_EQ(snap->entities.size(), 2u);
  const EntityInfo& info = snap->entities.at("eCommerce Contacts");
  EXPECT_EQ(info.name, "eCommerce Contacts");
  EXPECT_EQ(info.schema, contacts.schema());
  EXPECT_EQ(info.num_rows, 300u);
  EXPECT_EQ(info.generation, 1u);
  EXPECT_EQ(info.properties_json, R"({"source":"test"})");
  EXPECT_GE(info.written_at_micros, before);
  EXPECT_EQ(info.file.find(' '), std::string::npos) << "file names are generated: " << info.file;
  auto back = ReadEntity(*store, *snap, "eCommerce Contacts");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(TablesEqual(*back, contacts));
  auto back2 = ReadEntity(*store, *snap, "Web Reviews — Zoë");
  ASSERT_TRUE(back2.ok());
  EXPECT_TRUE(TablesEqual(*back2, reviews));

  // A second store object on the same directory sees the same generation.
  auto other = OpenStore(dir.path());
  auto snap2 = other->Current();
  ASSERT_TRUE(snap2.ok());
  EXPECT_EQ(snap2->generation, 1u);
  EXPECT_EQ(snap2->entities.at("Web Reviews — Zoë").num_rows, 5u);
}

TEST(DataStoreTest, EntitiesCarryOverUntilReplacedOrRemoved) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table a1 = MakeAllTypesTable(10, 1), b1 = MakeAllTypesTable(20, 2), a2 = MakeAllTypesTable(30, 3);
  CommitTables(*store, {{"A", a1}, {"B", b1}});
  CommitTables(*store, {{"A", a2}});
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->generation, 2u);
  EXPECT_EQ(snap->entities.at("A").generation, 2u);
  EXPECT_EQ(snap->entities.at("B").generation, 1u);
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *snap, "A"), a2));
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *snap, "B"), b1));

  CommitTables(*store, {}, {"A"});
  snap = store->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->generation, 3u);
  EXPECT_EQ(snap->entities.count("A"), 0u);
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *snap, "B"), b1));
}

TEST(DataStoreTest, ReaderKeepsItsSnapshotAcrossCommits) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table v1 = MakeAllTypesTable(50, 1), v2 = MakeAllTypesTable(60, 2), v3 = MakeAllTypesTable(70, 3);
  CommitTables(*store, {{"Contacts", v1}});
  auto old_snap = store->Current();
  ASSERT_TRUE(old_snap.ok());
  auto open_reader = store->OpenEntity(*old_snap, "Contacts");
  ASSERT_TRUE(open_reader.ok());

  CommitTables(*store, {{"Contacts", v2}}, {});
  CommitTables(*store, {{"Contacts", v3}}, {});
  // Generation 1 is still among the last three: its snapshot reads as before.
  auto again = ReadEntity(*store, *old_snap, "Contacts");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(TablesEqual(*again, v1));
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *store->Current(), "Contacts"), v3));

  // One more commit collects generation 1. A reader opened before keeps
  // working; opening from the stale snapshot says why it cannot.
  CommitTables(*store, {{"Contacts", v2}}, {});
  auto kept = (*open_reader)->ReadAll();
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_TRUE(TablesEqual(*kept, v1));
  auto stale = store->OpenEntity(*old_snap, "Contacts");
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition) << stale.status().ToString();
}

TEST(DataStoreTest, AbandonedWriterLeavesCurrentIntactAndNoFiles) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table v1 = MakeAllTypesTable(40, 1);
  CommitTables(*store, {{"Contacts", v1}});
  const std::set<std::string> files_before = Files(dir.path());
  {
    auto w = store->BeginGeneration();
    ASSERT_TRUE(w.ok());
    auto f = (*w)->WriteEntity("Contacts", v1.schema());
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(MakeAllTypesTable(10, 9)).ok());
    auto g = (*w)->WriteEntity("New One", v1.schema());
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE((*w)->RemoveEntity("Contacts").ok());
    EXPECT_GT(Files(dir.path()).size(), files_before.size());
  }
  EXPECT_EQ(Files(dir.path()), files_before);
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->generation, 1u);
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *snap, "Contacts"), v1));
  // The lock was released: the next writer gets the same generation number.
  auto w = store->BeginGeneration();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->generation(), 2u);
}

TEST(DataStoreTest, FailedCommitDiscardsItsFilesAndKeepsTheBaseGeneration) {
  ScratchDir dir;
  FaultInjectionEnv fenv(env());
  auto store = DataStore::Open(&fenv, dir.path());
  ASSERT_TRUE(store.ok());
  Table v1 = MakeAllTypesTable(40, 1);
  CommitTables(**store, {{"Contacts", v1}});
  const std::set<std::string> files_before = Files(dir.path());
  auto w = (*store)->BeginGeneration();
  ASSERT_TRUE(w.ok());
  auto f = (*w)->WriteEntity("Contacts", v1.schema());
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(MakeAllTypesTable(10, 2)).ok());
  fenv.InjectFault(fenv.mutating_ops() + 3, FaultInjectionEnv::FaultMode::kFailOnce);
  Status s = (*w)->Commit();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("commit of generation 2"), std::string::npos) << s.ToString();
  EXPECT_EQ((*w)->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Files(dir.path()), files_before);
  auto snap = (*store)->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->generation, 1u);
}

TEST(DataStoreTest, OnlyOneWriterAtATime) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  auto first = store->BeginGeneration();
  ASSERT_TRUE(first.ok());
  auto other_store = OpenStore(dir.path());
  auto second = other_store->BeginGeneration();
  ASSERT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another process is writing workspace"), std::string::npos)
      << second.status().ToString();
  ASSERT_TRUE((*first)->Commit().ok());
  auto third = other_store->BeginGeneration();
  ASSERT_TRUE(third.ok()) << "Commit releases the lock";
  EXPECT_EQ((*third)->generation(), 2u);
}

TEST(DataStoreTest, WriterInAnotherProcessHoldsTheLockUntilItDies) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child_store = DataStore::Open(Env::Default(), dir.path());
    auto w = child_store.ok() ? (*child_store)->BeginGeneration() : child_store.status();
    char c = w.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    if (w.ok()) ::pause();
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  EXPECT_EQ(store->BeginGeneration().status().code(), StatusCode::kFailedPrecondition);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  auto w = store->BeginGeneration();
  EXPECT_TRUE(w.ok()) << w.status().ToString();
}

TEST(DataStoreTest, WriteEntityValidatesItsArguments) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  auto w = store->BeginGeneration();
  ASSERT_TRUE(w.ok());
  Schema schema = testing_util::AllTypesSchema();
  EXPECT_EQ((*w)->WriteEntity("", schema).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->WriteEntity("bad \xff name", schema).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*w)->WriteEntity("E", schema, "{not json").status().code(), StatusCode::kInvalidArgument);
  Schema bad_field({{"f\xc3", DataType::kInt64, {}}});
  EXPECT_EQ((*w)->WriteEntity("E", bad_field).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*w)->WriteEntity("E", schema, "").ok());
  EXPECT_EQ((*w)->WriteEntity("E", schema).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*w)->RemoveEntity("Nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ((*w)->WriteEntity("F", schema).status().code(), StatusCode::kFailedPrecondition);
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->entities.at("E").properties_json, "{}");
  EXPECT_EQ(snap->entities.at("E").num_rows, 0u);
}

TEST(DataStoreTest, CommitAcceptsWritersTheCallerAlreadyFinished) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table t = MakeAllTypesTable(10, 1);
  auto w = store->BeginGeneration();
  ASSERT_TRUE(w.ok());
  auto f = (*w)->WriteEntity("T", t.schema());
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(t).ok());
  ASSERT_TRUE((*f)->Finish().ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_TRUE(TablesEqual(*ReadEntity(*store, *store->Current(), "T"), t));
}

TEST(DataStoreTest, GarbageCollectionKeepsTheLastGenerationsFiles) {
  ScratchDir dir;
  DataStoreOptions options;
  options.generations_to_keep = 3;
  auto store = OpenStore(dir.path(), options);
  Table t = MakeAllTypesTable(5, 1);
  CommitTables(*store, {{"A", t}, {"B", t}});  // B stays from generation 1
  for (int g = 2; g <= 6; ++g) CommitTables(*store, {{"A", t}});
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  std::set<std::string> expected = {"CURRENT",          "LOCK",
                                    "MANIFEST-000004",  "MANIFEST-000005",
                                    "MANIFEST-000006",  "000001-0002.cdpc",
                                    "000004-0001.cdpc", "000005-0001.cdpc",
                                    "000006-0001.cdpc"};
  EXPECT_EQ(snap->entities.at("B").file, "000001-0002.cdpc");
  EXPECT_EQ(Files(dir.path()), expected);
}

TEST(DataStoreTest, NextWriterRemovesLeftoversOfACrashedWriter) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table t = MakeAllTypesTable(5, 1);
  CommitTables(*store, {{"A", t}});
  const std::set<std::string> clean = Files(dir.path());
  // What a writer of generation 2 leaves when it dies before switching CURRENT.
  for (const char* name : {"000002-0001.cdpc", "000002-0002.cdpc", "MANIFEST-000002", "CURRENT.tmp"}) {
    ASSERT_TRUE(env()->NewWritableFile(dir.Join(name)).ok());
  }
  ASSERT_TRUE(env()->NewWritableFile(dir.Join("notes.txt")).ok());  // not ours: left alone
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->generation, 1u);
  {
    auto w = store->BeginGeneration();
    ASSERT_TRUE(w.ok());
    std::set<std::string> expected = clean;
    expected.insert("notes.txt");
    EXPECT_EQ(Files(dir.path()), expected);
  }
}

TEST(DataStoreTest, CorruptCurrentIsDataLossNamingTheFile) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  Table t = MakeAllTypesTable(5, 1);
  CommitTables(*store, {{"A", t}});
  CommitTables(*store, {{"A", t}});  // MANIFEST-000001 still exists: a flipped digit must not select it
  const std::string path = dir.Join("CURRENT");
  const std::string good = *env()->ReadFile(path);
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      ASSERT_TRUE(env()->DeleteFile(path).ok());
      auto f = env()->NewWritableFile(path);
      ASSERT_TRUE((*f)->Append(bad).ok());
      ASSERT_TRUE((*f)->Close().ok());
      auto snap = store->Current();
      ASSERT_EQ(snap.status().code(), StatusCode::kDataLoss) << "byte " << i << " mask " << int(mask);
      EXPECT_NE(snap.status().message().find(path), std::string::npos) << snap.status().ToString();
    }
  }
  auto f = env()->NewWritableFile(path);
  ASSERT_TRUE((*f)->Append(good.substr(0, good.size() - 1)).ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(store->Current().status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(env()->DeleteFile(path).ok());
  EXPECT_EQ(store->Current().status().code(), StatusCode::kDataLoss) << "manifests exist without CURRENT";
}

TEST(DataStoreTest, CorruptOrMissingManifestIsDataLossNamingTheFile) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  CommitTables(*store, {{"eCommerce Contacts", MakeAllTypesTable(5, 1)}});
  const std::string path = dir.Join("MANIFEST-000001");
  const std::string good = *env()->ReadFile(path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    ASSERT_TRUE(env()->DeleteFile(path).ok());
    auto f = env()->NewWritableFile(path);
    ASSERT_TRUE((*f)->Append(bad).ok());
    ASSERT_TRUE((*f)->Close().ok());
    auto snap = store->Current();
    ASSERT_EQ(snap.status().code(), StatusCode::kDataLoss) << "byte " << i;
    EXPECT_NE(snap.status().message().find(path), std::string::npos) << snap.status().ToString();
  }
  ASSERT_TRUE(env()->DeleteFile(path).ok());
  auto snap = store->Current();
  EXPECT_EQ(snap.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(snap.status().message().find(path), std::string::npos) << snap.status().ToString();
  EXPECT_EQ(store->BeginGeneration().status().code(), StatusCode::kDataLoss)
      << "no writing on a broken store";
}

TEST(DataStoreTest, MissingOrCorruptEntityFileIsDataLoss) {
  ScratchDir dir;
  auto store = OpenStore(dir.path());
  CommitTables(*store, {{"A", MakeAllTypesTable(5, 1)}, {"B", MakeAllTypesTable(5, 2)}});
  auto snap = store->Current();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(env()->DeleteFile(dir.Join(snap->entities.at("A").file)).ok());
  auto a = store->OpenEntity(*snap, "A");
  EXPECT_EQ(a.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(a.status().message().find("'A'"), std::string::npos) << a.status().ToString();
  // Swap B's file for another valid column file: the manifest disagrees.
  std::string b_path = dir.Join(snap->entities.at("B").file);
  ASSERT_TRUE(env()->DeleteFile(b_path).ok());
  auto w = ColumnFileWriter::Create(env(), b_path, testing_util::AllTypesSchema());
  ASSERT_TRUE((*w)->Append(MakeAllTypesTable(6, 3)).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ(store->OpenEntity(*snap, "B").status().code(), StatusCode::kDataLoss);
}

TEST(DataStoreTest, LargeEntitySpansManyRowGroups) {
  ScratchDir dir;
  DataStoreOptions options;
  options.file_options.row_group_rows = 1000;
  auto store = OpenStore(dir.path(), options);
  Table t = MakeAllTypesTable(10500, 4);
  CommitTables(*store, {{"Big", t}});
  auto snap = store->Current();
  auto reader = store->OpenEntity(*snap, "Big");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->num_row_groups(), 11u);
  EXPECT_TRUE(TablesEqual(*(*reader)->ReadAll(), t));
}

}  // namespace
}  // namespace cdp
