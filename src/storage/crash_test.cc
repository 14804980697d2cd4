// Crash safety of DataStore commits: injected faults and simulated power
// loss at every mutating operation of a commit, and real SIGKILLs of a
// process that commits in a loop. After any crash the store must open at the
// previous or the new generation with exactly that generation's data, and
// accept the next commit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "storage/data_store.h"
#include "storage/test_util.h"

namespace cdp {
namespace {

using testing_util::MakeAllTypesTable;
using testing_util::ScratchDir;
using testing_util::TablesEqual;

// The content of entity `name` as written in generation `g`.
Table EntityContent(const std::string& name, uint64_t g) {
  uint64_t seed = std::hash<std::string>()(name) ^ (g * 0x9E3779B97F4A7C15ull);
  return MakeAllTypesTable(40 + (g * 37) % 90, seed);
}

// The scripted history: which entities generation g writes and removes.
struct Step {
  std::vector<std::string> write;
  std::vector<std::string> remove;
};
Step Script(uint64_t g) {
  switch (g) {
    case 1:
      return {{"eCommerce Contacts", "Loyalty Members"}, {}};
    case 2:
      return {{"eCommerce Contacts", "POS Transactions"}, {}};
    case 3:
      return {{"eCommerce Contacts"}, {}};
    case 4:
      return {{"eCommerce Contacts"}, {"POS Transactions"}};
    case 5:
      return {{"eCommerce Contacts", "Web Reviews"}, {"Loyalty Members"}};
    default:
      // Later generations (the kill test): rewrite one entity each time and
      // another every third generation.
      if (g % 3 == 0) return {{"eCommerce Contacts", "Web Reviews"}, {}};
      return {{"eCommerce Contacts"}, {}};
  }
}

// Entity name -> generation that wrote its current content, after generation g.
std::map<std::string, uint64_t> ExpectedEntities(uint64_t g) {
  std::map<std::string, uint64_t> out;
  for (uint64_t k = 1; k <= g; ++k) {
    Step s = Script(k);
    for (const auto& n : s.write) out[n] = k;
    for (const auto& n : s.remove) out.erase(n);
  }
  return out;
}

Status CommitScripted(DataStore& store, const ColumnFileOptions& file_options = {}) {
  CDP_ASSIGN_OR_RETURN(auto w, store.BeginGeneration());
  const uint64_t g = w->generation();
  Step s = Script(g);
  for (const auto& name : s.write) {
    Table t = EntityContent(name, g);
    CDP_ASSIGN_OR_RETURN(ColumnFileWriter * f,
                         w->WriteEntity(name, t.schema(), "{\"g\":" + std::to_string(g) + "}"));
    CDP_RETURN_IF_ERROR(f->Append(t));
  }
  for (const auto& name : s.remove) CDP_RETURN_IF_ERROR(w->RemoveEntity(name));
  return w->Commit();
}

// Checks that `store` is at a generation of the script with exactly its
// data; returns that generation.
uint64_t VerifyStore(const DataStore& store) {
  auto snap = store.Current();
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return 0;
  auto expected = ExpectedEntities(snap->generation);
  std::map<std::string, uint64_t> actual;
  for (const auto& [name, info] : snap->entities) actual[name] = info.generation;
  EXPECT_EQ(actual, expected) << "generation " << snap->generation;
  for (const auto& [name, info] : snap->entities) {
    auto reader = store.OpenEntity(*snap, name);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) continue;
    auto table = (*reader)->ReadAll();
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (table.ok()) {
      EXPECT_TRUE(TablesEqual(*table, EntityContent(name, info.generation)))
          << name << " in generation " << snap->generation;
    }
    EXPECT_EQ(info.properties_json, "{\"g\":" + std::to_string(info.generation) + "}");
  }
  return snap->generation;
}

// Files of `dir` the store does not need: everything but CURRENT, LOCK, the
// manifests of the last three generations and the entity files they use.
std::set<std::string> Garbage(const std::string& dir, uint64_t current) {
  std::set<std::string> files;
  auto children = Env::Default()->GetChildren(dir);
  EXPECT_TRUE(children.ok());
  if (children.ok()) files.insert(children->begin(), children->end());
  files.erase("CURRENT");
  files.erase("LOCK");
  char name[64];
  for (uint64_t g = current; g >= 1 && g + 3 > current; --g) {
    std::snprintf(name, sizeof(name), "MANIFEST-%06llu", static_cast<unsigned long long>(g));
    files.erase(name);
    for (const auto& [entity, written_in] : ExpectedEntities(g)) {
      const auto& order = Script(written_in).write;
      size_t seq = std::find(order.begin(), order.end(), entity) - order.begin() + 1;
      std::snprintf(name, sizeof(name), "%06llu-%04zu.cdpc", static_cast<unsigned long long>(written_in),
                    seq);
      files.erase(name);
    }
  }
  return files;
}

struct CrashCase {
  FaultInjectionEnv::FaultMode mode;
  bool crash;
  bool undo_dir_ops;
};

// For every mutating operation k of the commit of generation 5: make k fail
// (and, per `c`, everything after it, then lose what was not durable), then
// reopen with the plain Env and check the store.
void RunCommitFaultSweep(const CrashCase& c) {
  ColumnFileOptions file_options;
  file_options.row_group_rows = 32;  // several row groups per entity: more operations to hit
  DataStoreOptions options;
  options.file_options = file_options;

  // Generations 1-4, committed once and copied for every case.
  ScratchDir base;
  {
    auto store = DataStore::Open(Env::Default(), base.path(), options);
    ASSERT_TRUE(store.ok());
    for (int g = 1; g <= 4; ++g) ASSERT_TRUE(CommitScripted(**store).ok());
  }
  auto fresh_copy = [&base](const ScratchDir& dir) {
    std::filesystem::copy(base.path(), dir.path(), std::filesystem::copy_options::recursive);
  };

  // Count the operations of an undisturbed commit of generation 5.
  uint64_t total_ops = 0;
  {
    ScratchDir dir;
    fresh_copy(dir);
    FaultInjectionEnv fenv(Env::Default());
    auto store = DataStore::Open(&fenv, dir.path(), options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(CommitScripted(**store).ok());
    total_ops = fenv.mutating_ops();
  }
  ASSERT_GT(total_ops, 20u);

  int saw_old = 0, saw_new = 0;
  for (uint64_t k = 0; k <= total_ops; ++k) {
    SCOPED_TRACE("fault at operation " + std::to_string(k) + " of " + std::to_string(total_ops));
    ScratchDir dir;
    fresh_copy(dir);
    FaultInjectionEnv fenv(Env::Default());
    Status commit;
    {
      auto store = DataStore::Open(&fenv, dir.path(), options);
      ASSERT_TRUE(store.ok());
      fenv.InjectFault(k, c.mode);
      commit = CommitScripted(**store);  // the writer is destroyed inside
      // Faults after the switch (in garbage collection) do not fail the commit.
      if (fenv.faults_injected() == 0) {
        EXPECT_TRUE(commit.ok()) << commit.ToString();
      }
      if (c.crash) {
        ASSERT_TRUE(fenv.SimulateCrash(c.undo_dir_ops).ok());
      }
      fenv.ClearFault();
    }
    auto store = DataStore::Open(Env::Default(), dir.path(), options);
    ASSERT_TRUE(store.ok());
    uint64_t g = VerifyStore(**store);
    EXPECT_TRUE(g == 4 || g == 5) << "generation " << g;
    if (commit.ok()) {
      EXPECT_EQ(g, 5u) << "a successful commit is durable";
    }
    (g == 5 ? saw_new : saw_old)++;
    // The store accepts the next commit, and it cleans up after the crash.
    Status next = CommitScripted(**store);
    ASSERT_TRUE(next.ok()) << next.ToString();
    EXPECT_EQ(VerifyStore(**store), g + 1);
    auto garbage = Garbage(dir.path(), g + 1);
    EXPECT_TRUE(garbage.empty()) << "leftover: " << *garbage.begin();
  }
  EXPECT_GT(saw_old, 0);
  EXPECT_GT(saw_new, 0);
}

TEST(CrashTest, PowerLossAtEveryOperationOfACommitKeepsAGoodGeneration) {
  RunCommitFaultSweep({FaultInjectionEnv::FaultMode::kFailFromThenOn, /*crash=*/true, /*undo_dir_ops=*/true});
}

TEST(CrashTest, PowerLossThatKeepsDirectoryChangesKeepsAGoodGeneration) {
  // A file system that persisted every rename and creation but no unsynced
  // data: CURRENT must never point to a manifest whose bytes were lost.
  RunCommitFaultSweep(
      {FaultInjectionEnv::FaultMode::kFailFromThenOn, /*crash=*/true, /*undo_dir_ops=*/false});
}

TEST(CrashTest, ProcessDeathAtEveryOperationOfACommitKeepsAGoodGeneration) {
  // The process dies (no more operations) but the OS keeps its page cache.
  RunCommitFaultSweep(
      {FaultInjectionEnv::FaultMode::kFailFromThenOn, /*crash=*/false, /*undo_dir_ops=*/false});
}

TEST(CrashTest, TransientErrorAtEveryOperationOfACommitKeepsAGoodGeneration) {
  RunCommitFaultSweep({FaultInjectionEnv::FaultMode::kFailOnce, /*crash=*/false, /*undo_dir_ops=*/false});
}

// Child process: commits scripted generations forever, reporting each
// committed generation number on `fd`; ~0 on error. Never returns.
[[noreturn]] void CommitLoop(const std::string& dir, int fd) {
  auto store = DataStore::Open(Env::Default(), dir);
  for (;;) {
    uint64_t report = ~uint64_t{0};
    Status s = store.ok() ? CommitScripted(**store) : store.status();
    if (s.ok()) {
      auto snap = (*store)->Current();
      if (snap.ok()) report = snap->generation;
    }
    if (::write(fd, &report, sizeof(report)) != sizeof(report) || report == ~uint64_t{0}) ::_exit(1);
  }
}

TEST(CrashTest, KillDashNineDuringCommitsLeavesACommittedGeneration) {
  ScratchDir dir;
  std::mt19937 rng(42);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int iterations = 0;
  int killed_mid_commit = 0;  // the store was ahead of the last report
  uint64_t last_reported = 0;
  while (iterations < 40 && (iterations < 10 || std::chrono::steady_clock::now() < deadline)) {
    ++iterations;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      CommitLoop(dir.path(), fds[1]);
    }
    ::close(fds[1]);
    // Wait for the child's first commit, then let it run into a random
    // point of a later one (a commit takes a few to a few tens of ms).
    uint64_t report;
    ASSERT_EQ(::read(fds[0], &report, sizeof(report)), static_cast<ssize_t>(sizeof(report)));
    ASSERT_NE(report, ~uint64_t{0}) << "the child failed to commit";
    last_reported = report;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    while (::read(fds[0], &report, sizeof(report)) == sizeof(report)) {
      ASSERT_NE(report, ~uint64_t{0}) << "the child failed to commit";
      last_reported = report;
    }
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the child exited by itself";

    auto store = DataStore::Open(Env::Default(), dir.path());
    ASSERT_TRUE(store.ok());
    uint64_t g = VerifyStore(**store);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "after iteration " << iterations;
    EXPECT_GE(g, last_reported) << "a reported commit was lost";
    EXPECT_LE(g, last_reported + 1);
    if (g > last_reported) ++killed_mid_commit;
    last_reported = g;
  }
  // The parent commits on top of whatever the last child left.
  auto store = DataStore::Open(Env::Default(), dir.path());
  ASSERT_TRUE(store.ok());
  Status s = CommitScripted(**store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(VerifyStore(**store), last_reported + 1);
  auto garbage = Garbage(dir.path(), last_reported + 1);
  EXPECT_TRUE(garbage.empty()) << "leftover: " << *garbage.begin();
  EXPECT_GT(last_reported, 10u) << "the children committed too little to test anything";
  std::printf(
      "[          ] %d kills, %d after a commit's rename but before it reported, reached generation %llu\n",
      iterations, killed_mid_commit, static_cast<unsigned long long>(last_reported + 1));
}

}  // namespace
}  // namespace cdp
