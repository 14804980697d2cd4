// PostgresTestServer: a throwaway PostgreSQL server for tests (library
// cdp_postgres_testing). Start() and Stop() are not thread-safe; Exec() and
// Query() open their own connection and may be called from several threads.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

struct PostgresTestServerOptions {
  // pg_hba.conf lines placed before the default "trust everything on
  // 127.0.0.1 and the socket" rules, e.g.
  // "host all secure_user 127.0.0.1/32 scram-sha-256".
  std::vector<std::string> extra_hba_lines;
  // postgresql.conf lines appended after the fixture's own, e.g. "work_mem = '8MB'".
  std::vector<std::string> extra_config;
};

class PostgresTestServer {
 public:
  using Rows = std::vector<std::vector<std::optional<std::string>>>;  // nullopt = NULL

  // Creates a cluster in a new temporary directory (superuser "postgres",
  // UTF8, C locale, fsync off) and starts it listening only on 127.0.0.1 at a
  // free port, its socket inside the directory; returns once it accepts
  // connections. Binaries: $CDP_POSTGRES_BIN_DIR, else the newest
  // /usr/lib/postgresql/<version>/bin, else initdb/pg_ctl on PATH; if none and
  // we are root with apt-get, installs the Debian package `postgresql`.
  // As root, the server runs as the `postgres` system user (PostgreSQL
  // refuses root). The initdb result is cached per server binary and user in
  // /tmp/cdp-pg-cache-<uid>/ (or $CDP_PG_TEMPLATE_CACHE, an absolute path)
  // so later starts only copy it; one process at a time builds it (flock). Should this process
  // die without stopping the server, a watchdog process stops it and removes
  // the directory.
  // Errors: FailedPrecondition when the binaries or the postgres user are
  // missing; Internal when a step fails, with the tail of its log.
  static StatusOr<std::unique_ptr<PostgresTestServer>> Start(const PostgresTestServerOptions& options = {});

  // Stops the server and removes its directory (errors are ignored; call
  // Stop() first to see them).
  ~PostgresTestServer();
  PostgresTestServer(const PostgresTestServer&) = delete;
  PostgresTestServer& operator=(const PostgresTestServer&) = delete;

  // "host=127.0.0.1 port=<port> user=postgres dbname=postgres".
  const std::string& conninfo() const { return conninfo_; }
  // The same for another database (quoted as libpq requires).
  std::string ConnInfoFor(std::string_view database) const;
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& directory() const { return directory_; }

  // Runs one or more ';'-separated statements in `database` as the superuser.
  // Errors: the server's message (FailedPrecondition if it cannot connect,
  // InvalidArgument for a failing statement).
  Status Exec(std::string_view sql, std::string_view database = "postgres") const;
  // Runs one query and returns its rows in text format. Errors as Exec().
  StatusOr<Rows> Query(std::string_view sql, std::string_view database = "postgres") const;

  // The last `max_bytes` of the server log (for diagnosing a failing test).
  std::string LogTail(size_t max_bytes = 4000) const;

  // Stops the server (pg_ctl stop -m fast, then SIGKILL if that fails) and
  // removes the directory. Idempotent. Errors: Internal with the log tail.
  Status Stop();

 private:
  PostgresTestServer() = default;
  // Creates the directory and the cluster (copied from the cached initdb
  // result) and starts the server.
  Status StartCluster(const PostgresTestServerOptions& options);
  void ReleaseWatchdog();

  std::string bin_dir_;
  std::string directory_;  // temporary directory owned by the server's user
  std::string data_dir_;
  std::string log_path_;           // server log
  std::string commands_log_path_;  // output of initdb / pg_ctl / cp
  std::string host_ = "127.0.0.1";
  std::string user_ = "postgres";
  std::string conninfo_;
  int port_ = 0;
  uid_t server_uid_ = 0;
  gid_t server_gid_ = 0;
  bool switch_user_ = false;  // we are root: commands run as server_uid_/server_gid_
  bool running_ = false;
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1;  // write end of the pipe the watchdog waits on
};

}  // namespace cdp
