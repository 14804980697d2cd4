#include "storage/env.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/test_util.h"

namespace cdp {
namespace {

using testing_util::ScratchDir;

Status Write(Env* env, const std::string& path, std::string_view content, bool sync) {
  CDP_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(path));
  CDP_RETURN_IF_ERROR(f->Append(content));
  if (sync) CDP_RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

std::string Read(Env* env, const std::string& path) {
  auto r = env->ReadFile(path);
  return r.ok() ? *r : "<" + r.status().ToString() + ">";
}

TEST(PosixEnvTest, WritesAppendsAndReadsBack) {
  ScratchDir dir;
  Env* env = Env::Default();
  const std::string path = dir.Join("f");
  auto f = env->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append(std::string(100000, 'x')).ok());  // larger than the write buffer
  ASSERT_TRUE((*f)->Append("!").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_TRUE((*f)->Close().ok()) << "closing twice is fine";
  EXPECT_EQ((*f)->Append("late").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Read(env, path), "hello " + std::string(100000, 'x') + "!");
  EXPECT_EQ(env->GetFileSize(path).value(), 100007u);

  auto r = env->NewRandomAccessFile(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->Size(), 100007u);
  char buf[16];
  auto n = (*r)->Read(0, 5, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "hello");
  n = (*r)->Read(100004, 16, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "xx!") << "short read at end of file";
}

TEST(PosixEnvTest, NewWritableFileTruncatesAndDestructorFlushes) {
  ScratchDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(Write(env, dir.Join("f"), "long old content", false).ok());
  {
    auto f = env->NewWritableFile(dir.Join("f"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("new").ok());
  }
  EXPECT_EQ(Read(env, dir.Join("f")), "new");
}

// A large file is made durable in the background while it is written (every
// 32 MiB); appends, Sync and Close stay correct around those syncs, and a file
// destroyed without Close waits for its background sync.
TEST(PosixEnvTest, LargeFileWithBackgroundSyncsReadsBackExactly) {
  ScratchDir dir;
  Env* env = Env::Default();
  std::string block(1 << 20, '\0');
  for (int pass = 0; pass < 2; ++pass) {
    const std::string path = dir.Join("big" + std::to_string(pass));
    {
      auto f = env->NewWritableFile(path);
      ASSERT_TRUE(f.ok());
      for (int i = 0; i < 100; ++i) {
        std::fill(block.begin(), block.end(), static_cast<char>('a' + i % 26));
        ASSERT_TRUE((*f)->Append(block).ok());
        ASSERT_TRUE((*f)->Append("!").ok());
      }
      if (pass == 0) {
        ASSERT_TRUE((*f)->Sync().ok());
        ASSERT_TRUE((*f)->Close().ok());
      }
    }
    auto content = env->ReadFile(path);
    ASSERT_TRUE(content.ok());
    ASSERT_EQ(content->size(), 100u * ((1 << 20) + 1));
    for (int i = 0; i < 100; ++i) {
      const size_t at = static_cast<size_t>(i) * ((1 << 20) + 1);
      ASSERT_EQ((*content)[at], static_cast<char>('a' + i % 26)) << i;
      ASSERT_EQ((*content)[at + (1 << 20)], '!') << i;
    }
  }
}

TEST(PosixEnvTest, MissingFilesAreNotFound) {
  ScratchDir dir;
  Env* env = Env::Default();
  EXPECT_EQ(env->ReadFile(dir.Join("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->NewRandomAccessFile(dir.Join("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->DeleteFile(dir.Join("nope")).code(), StatusCode::kNotFound);
  EXPECT_EQ(env->GetFileSize(dir.Join("nope")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->NewWritableFile(dir.Join("no/such/dir/f")).status().code(), StatusCode::kNotFound);
  Status s = env->RenameFile(dir.Join("nope"), dir.Join("other"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(dir.Join("nope")), std::string::npos) << s.ToString();
  EXPECT_FALSE(env->FileExists(dir.Join("nope")));
}

TEST(PosixEnvTest, RenameReplacesTargetAndDirectoriesCanBeListed) {
  ScratchDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(Write(env, dir.Join("a"), "A", true).ok());
  ASSERT_TRUE(Write(env, dir.Join("b"), "B", true).ok());
  ASSERT_TRUE(env->RenameFile(dir.Join("a"), dir.Join("b")).ok());
  EXPECT_FALSE(env->FileExists(dir.Join("a")));
  EXPECT_EQ(Read(env, dir.Join("b")), "A");
  ASSERT_TRUE(env->CreateDir(dir.Join("sub")).ok());
  ASSERT_TRUE(env->CreateDir(dir.Join("sub")).ok()) << "existing directory is fine";
  EXPECT_EQ(env->CreateDir(dir.Join("x/y")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(env->CreateDir(dir.Join("b")).ok()) << "a file is in the way";
  ASSERT_TRUE(env->SyncDir(dir.path()).ok());
  auto children = env->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  std::sort(children->begin(), children->end());
  EXPECT_EQ(*children, (std::vector<std::string>{"b", "sub"}));
  ASSERT_TRUE(env->RemoveDir(dir.Join("sub")).ok());
  ASSERT_TRUE(env->DeleteFile(dir.Join("b")).ok());
  EXPECT_TRUE(env->GetChildren(dir.path())->empty());
}

TEST(PosixEnvTest, LockIsExclusiveUntilReleased) {
  ScratchDir dir;
  Env* env = Env::Default();
  auto first = env->LockFile(dir.Join("LOCK"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = env->LockFile(dir.Join("LOCK"));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first->reset();
  auto third = env->LockFile(dir.Join("LOCK"));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST(PosixEnvTest, ClockIsWallTime) {
  int64_t now = Env::Default()->NowMicros();
  EXPECT_GT(now, int64_t{1600000000} * 1000000);  // after 2020
}

TEST(DirNameTest, ReturnsTheDirectoryPart) {
  EXPECT_EQ(DirName("/a/b/c"), "/a/b");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("c"), ".");
}

TEST(FaultInjectionEnvTest, FailOnceFailsExactlyTheChosenOperation) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(2, FaultInjectionEnv::FaultMode::kFailOnce);
  auto f = env.NewWritableFile(dir.Join("f"));  // op 0
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((*f)->Append("a").ok());  // op 1
  Status s = (*f)->Append("b");         // op 2
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("injected fault in append " + dir.Join("f")), std::string::npos) << s.ToString();
  EXPECT_TRUE((*f)->Append("c").ok());  // op 3
  EXPECT_TRUE((*f)->Close().ok());      // op 4
  EXPECT_EQ(env.mutating_ops(), 5u);
  EXPECT_EQ(env.faults_injected(), 1u);
  EXPECT_EQ(Read(&env, dir.Join("f")), "ac") << "the failed append had no effect";
}

TEST(FaultInjectionEnvTest, FailFromThenOnFailsEveryLaterOperation) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  env.InjectFault(1, FaultInjectionEnv::FaultMode::kFailFromThenOn);
  EXPECT_TRUE(Write(&env, dir.Join("a"), "x", false).code() == StatusCode::kInternal);
  EXPECT_FALSE(env.RenameFile(dir.Join("a"), dir.Join("b")).ok());
  EXPECT_FALSE(env.DeleteFile(dir.Join("a")).ok());
  EXPECT_FALSE(env.CreateDir(dir.Join("d")).ok());
  EXPECT_FALSE(env.SyncDir(dir.path()).ok());
  EXPECT_TRUE(env.FileExists(dir.Join("a"))) << "reads pass through";
  EXPECT_FALSE(env.FileExists(dir.Join("d")));
  env.ClearFault();
  EXPECT_TRUE(env.CreateDir(dir.Join("d")).ok());
}

TEST(FaultInjectionEnvTest, CrashDropsUnsyncedTails) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  auto f = env.NewWritableFile(dir.Join("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("durable").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*f)->Append(" lost").ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE(Write(&env, dir.Join("never_synced"), "gone", false).ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  EXPECT_EQ(Read(&env, dir.Join("f")), "durable lost");
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_EQ(Read(&env, dir.Join("f")), "durable");
  EXPECT_EQ(Read(&env, dir.Join("never_synced")), "");
}

TEST(FaultInjectionEnvTest, CrashUndoesCreationsWithoutDirectorySync) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Write(&env, dir.Join("kept"), "k", true).ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE(Write(&env, dir.Join("unlinked"), "u", true).ok());
  ASSERT_TRUE(env.CreateDir(dir.Join("sub")).ok());
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_EQ(Read(&env, dir.Join("kept")), "k");
  EXPECT_FALSE(env.FileExists(dir.Join("unlinked")));
  EXPECT_FALSE(env.FileExists(dir.Join("sub")));
}

TEST(FaultInjectionEnvTest, CrashUndoesRenameAndRestoresReplacedFile) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Write(&env, dir.Join("CURRENT"), "old", true).ok());
  ASSERT_TRUE(Write(&env, dir.Join("CURRENT.tmp"), "new", true).ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("CURRENT.tmp"), dir.Join("CURRENT")).ok());
  EXPECT_EQ(Read(&env, dir.Join("CURRENT")), "new");
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_EQ(Read(&env, dir.Join("CURRENT")), "old");
  EXPECT_EQ(Read(&env, dir.Join("CURRENT.tmp")), "new");

  // The same rename followed by a directory sync survives.
  ASSERT_TRUE(env.RenameFile(dir.Join("CURRENT.tmp"), dir.Join("CURRENT")).ok());
  ASSERT_TRUE(env.SyncDir(dir.path() + "/").ok());  // spelled differently, same directory
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_EQ(Read(&env, dir.Join("CURRENT")), "new");
  EXPECT_FALSE(env.FileExists(dir.Join("CURRENT.tmp")));
}

TEST(FaultInjectionEnvTest, CrashRestoresDurableContentOfDeletedFile) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  auto f = env.NewWritableFile(dir.Join("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("synced").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*f)->Append("+unsynced").ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE(env.DeleteFile(dir.Join("f")).ok());
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_EQ(Read(&env, dir.Join("f")), "synced");
}

TEST(FaultInjectionEnvTest, CrashKeepingDirectoryOpsStillDropsUnsyncedData) {
  // The classic lost-file-content case: a rename reached the disk, the data
  // of the renamed file did not.
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(Write(&env, dir.Join("CURRENT"), "old", true).ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE(Write(&env, dir.Join("CURRENT.tmp"), "new", /*sync=*/false).ok());
  ASSERT_TRUE(env.RenameFile(dir.Join("CURRENT.tmp"), dir.Join("CURRENT")).ok());
  ASSERT_TRUE(env.SimulateCrash(/*undo_unsynced_dir_ops=*/false).ok());
  EXPECT_EQ(Read(&env, dir.Join("CURRENT")), "");
}

TEST(FaultInjectionEnvTest, FilesOpenAtCrashAreDeadAndLeakNothing) {
  ScratchDir dir;
  FaultInjectionEnv env(Env::Default());
  auto f = env.NewWritableFile(dir.Join("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(env.SyncDir(dir.path()).ok());
  ASSERT_TRUE((*f)->Append("buffered").ok());
  ASSERT_TRUE(env.SimulateCrash().ok());
  EXPECT_FALSE((*f)->Append("more").ok());
  EXPECT_FALSE((*f)->Sync().ok());
  f->reset();
  EXPECT_EQ(Read(&env, dir.Join("f")), "");
}

}  // namespace
}  // namespace cdp
