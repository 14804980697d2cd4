// ClickHouseTestServer: a throwaway ClickHouse server (Debian's
// /usr/sbin/clickhouse-server, 18.16) on free 127.0.0.1 ports, with its data,
// logs and generated config.xml/users.xml in a new temporary directory, for
// tests (library cdp_clickhouse_testing). Start() and Stop() are not
// thread-safe; Query() may be called from several threads.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp {

class ClickHouseTestServer {
 public:
  // The user besides `default` (no password) that the server knows.
  static constexpr char kPasswordUser[] = "writer";

  // Writes the configuration (listen_host 127.0.0.1, http/tcp/interserver
  // ports picked free, UTC, small caches, users `default` without password
  // and kPasswordUser with `password`) and starts the server; returns once
  // GET /ping answers "Ok.". Runs as the current user, root included (the
  // Debian build does not refuse root; the data directory is ours). The
  // server dies with the test process (PR_SET_PDEATHSIG).
  // Errors: FailedPrecondition when the binary is missing; Internal with the
  // log's tail when it does not start.
  static StatusOr<std::unique_ptr<ClickHouseTestServer>> Start(std::string password = "writer-secret-1");

  // Stops the server and removes the directory.
  ~ClickHouseTestServer();
  ClickHouseTestServer(const ClickHouseTestServer&) = delete;
  ClickHouseTestServer& operator=(const ClickHouseTestServer&) = delete;

  // "http://127.0.0.1:<http port>".
  const std::string& url() const { return url_; }
  int http_port() const { return http_port_; }
  const std::string& directory() const { return directory_; }

  // Runs one statement as `default` and returns the answer's body (ask for
  // FORMAT TabSeparated to read values). Errors: Unavailable when the server
  // does not answer, InvalidArgument with its message for a failing statement.
  StatusOr<std::string> Query(std::string_view sql) const;

  // The last `max_bytes` of the server's error log and stderr.
  std::string LogTail(size_t max_bytes = 4000) const;

  // Stops the server (SIGTERM, then SIGKILL after 60 s) and removes the
  // directory. Idempotent.
  Status Stop();

 private:
  ClickHouseTestServer() = default;
  Status Launch(const std::string& password);

  std::string url_;
  std::string directory_;
  int http_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cdp
