#include "connectors/postgres/postgres_test_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace cdp {
namespace {

namespace fs = std::filesystem;

// The effective uid of a running process, from /proc.
long ProcessUid(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) == 0) return std::strtol(line.c_str() + 4, nullptr, 10);
  }
  return -1;
}

// True while `pid` runs (a zombie no longer does).
bool IsRunning(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("State:", 0) == 0) return line.find('Z') == std::string::npos;
  }
  return false;
}

TEST(PostgresTestServerTest, ServesOnlyLoopbackAndStopsCleanly) {
  auto server = PostgresTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string directory = (*server)->directory();
  ASSERT_TRUE(fs::exists(directory + "/data/postmaster.pid"));

  auto settings = (*server)->Query(
      "SELECT current_setting('listen_addresses'), current_setting('port'), "
      "current_setting('server_encoding'), current_setting('unix_socket_directories'), current_user");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  ASSERT_EQ(settings->size(), 1u);
  EXPECT_EQ((*settings)[0][0], "127.0.0.1");
  EXPECT_EQ((*settings)[0][1], std::to_string((*server)->port()));
  EXPECT_EQ((*settings)[0][2], "UTF8");
  EXPECT_EQ((*settings)[0][3], directory);
  EXPECT_EQ((*settings)[0][4], "postgres");
  EXPECT_EQ((*server)->conninfo(),
            "host=127.0.0.1 port=" + std::to_string((*server)->port()) + " user=postgres dbname=postgres");

  // PostgreSQL refuses root, so as root the postmaster must run as another user.
  long postmaster_pid = 0;
  std::ifstream(directory + "/data/postmaster.pid") >> postmaster_pid;
  ASSERT_GT(postmaster_pid, 1);
  const long uid = ProcessUid(postmaster_pid);
  if (::geteuid() == 0) {
    EXPECT_NE(uid, 0);
  } else {
    EXPECT_EQ(uid, static_cast<long>(::geteuid()));
  }

  ASSERT_TRUE((*server)->Stop().ok());
  EXPECT_FALSE(fs::exists(directory));
  EXPECT_FALSE((*server)->Exec("SELECT 1").ok());
  EXPECT_TRUE((*server)->Stop().ok()) << "Stop() is idempotent";
}

TEST(PostgresTestServerTest, ExecAndQueryReportServerErrors) {
  auto server = PostgresTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Exec("CREATE DATABASE \"My DB\"").ok());
  ASSERT_TRUE((*server)
                  ->Exec("CREATE TABLE t (a int, b text); INSERT INTO t VALUES (1, NULL), (2, 'x')", "My DB")
                  .ok());
  auto rows = (*server)->Query("SELECT a, b FROM t ORDER BY a", "My DB");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][0], "1");
  EXPECT_EQ((*rows)[0][1], std::nullopt);
  EXPECT_EQ((*rows)[1][1], "x");

  Status bad = (*server)->Exec("SELEC 1");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("syntax error"), std::string::npos) << bad.message();
  EXPECT_EQ((*server)->Exec("SELECT 1", "no_such_db").code(), StatusCode::kFailedPrecondition);
}

TEST(PostgresTestServerTest, StartFailureCarriesTheServerLog) {
  PostgresTestServerOptions options;
  options.extra_config.push_back("shared_buffers = 'lots'");
  auto server = PostgresTestServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInternal);
  EXPECT_NE(server.status().message().find("did not start"), std::string::npos) << server.status().message();
  EXPECT_NE(server.status().message().find("shared_buffers"), std::string::npos) << server.status().message();
}

TEST(PostgresTestServerTest, BinDirOverrideMustHoldTheBinaries) {
  ::setenv("CDP_POSTGRES_BIN_DIR", "/nonexistent/pg/bin", 1);
  auto server = PostgresTestServer::Start();
  ::unsetenv("CDP_POSTGRES_BIN_DIR");
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(server.status().message().find("/nonexistent/pg/bin"), std::string::npos);
}

// A test process that dies without stopping its server must not leave the
// server running nor its directory behind.
TEST(PostgresTestServerTest, WatchdogCleansUpAfterACrashedProcess) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto server = PostgresTestServer::Start();
    std::string report;
    if (server.ok()) {
      long pid = 0;
      std::ifstream((*server)->directory() + "/data/postmaster.pid") >> pid;
      report = (*server)->directory() + "\n" + std::to_string(pid);
    }
    ssize_t ignored = ::write(fds[1], report.data(), report.size());
    (void)ignored;
    ::_exit(server.ok() ? 0 : 1);  // no destructor, like a crash
  }
  ::close(fds[1]);
  std::string report;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof(buffer))) > 0;) report.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const size_t newline = report.find('\n');
  ASSERT_NE(newline, std::string::npos) << report;
  const std::string directory = report.substr(0, newline);
  const long postmaster_pid = std::strtol(report.c_str() + newline + 1, nullptr, 10);
  ASSERT_GT(postmaster_pid, 1);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((fs::exists(directory) || IsRunning(postmaster_pid)) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(fs::exists(directory)) << directory;
  EXPECT_FALSE(IsRunning(postmaster_pid));
}

// Several processes that start servers at once with an empty template cache
// all succeed: one builds the template while the others wait for it, and no
// one moves a complete template away while another copies from it.
TEST(PostgresTestServerTest, ConcurrentFirstStartsShareOneTemplate) {
  const std::string cache = "/tmp/cdp-pg-cache-race-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(cache, ec);
  ASSERT_EQ(::setenv("CDP_PG_TEMPLATE_CACHE", cache.c_str(), 1), 0);
  constexpr int kProcesses = 3;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto server = PostgresTestServer::Start();
      if (!server.ok()) {
        std::fprintf(stderr, "child %d: %s\n", i, server.status().ToString().c_str());
        std::_Exit(1);
      }
      auto rows = (*server)->Query("SELECT 40 + 2");
      const bool good = rows.ok() && rows->size() == 1 && (*rows)[0][0] == "42";
      if (!good) std::fprintf(stderr, "child %d: query failed\n", i);
      const bool stopped = (*server)->Stop().ok();
      std::_Exit(good && stopped ? 0 : 2);
    }
    children.push_back(pid);
  }
  int failures = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  ::unsetenv("CDP_PG_TEMPLATE_CACHE");
  int templates = 0;
  for (const auto& entry : fs::directory_iterator(cache, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "complete")) ++templates;
  }
  fs::remove_all(cache, ec);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(templates, 1) << "one complete template, no leftovers";
}

}  // namespace
}  // namespace cdp
