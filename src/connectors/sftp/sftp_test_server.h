// SftpTestServer: a throwaway OpenSSH server (Debian's /usr/sbin/sshd with
// its internal-sftp subsystem) on a free 127.0.0.1 port, in a new temporary
// directory, for tests (library cdp_sftp_testing). It logs in only the user
// running the test, with a key pair it generates. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace cdp {

class SftpTestServer {
 public:
  // Generates a host key and a client key with ssh-keygen into a new
  // temporary directory, writes an sshd_config there (only that key is
  // authorized, public-key login only, internal-sftp, log to a file) and
  // starts `sshd -D -e` on a free loopback port; returns once it accepts
  // connections. As root, creates sshd's privilege separation directory
  // /run/sshd if it is missing (PermitRootLogin prohibit-password lets root
  // log in with the key). The server dies with the test process
  // (PR_SET_PDEATHSIG).
  // Before returning it logs in once with the client key.
  // Errors: FailedPrecondition when sshd or ssh-keygen is missing, or when
  // sshd refuses the user because it takes its account for locked (its own
  // check when it runs without PAM; seen when running as `nobody`); Internal
  // with the log's tail when it does not start or refuses the key.
  static StatusOr<std::unique_ptr<SftpTestServer>> Start();

  // Stops the server and removes the directory.
  ~SftpTestServer();
  SftpTestServer(const SftpTestServer&) = delete;
  SftpTestServer& operator=(const SftpTestServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // The user that logs in (the one running the test).
  const std::string& user() const { return user_; }
  // The temporary directory; files uploaded to upload_directory() are plain
  // local files the test can read.
  const std::string& directory() const { return directory_; }
  std::string upload_directory() const { return directory_ + "/upload"; }
  // The authorized client key (OpenSSH private key text) and its public line.
  const std::string& client_private_key() const { return client_private_key_; }
  const std::string& client_public_key() const { return client_public_key_; }
  // The server's host key: its fingerprint ("SHA256:...") and a known_hosts
  // file holding it for "[127.0.0.1]:<port>".
  const std::string& host_key_sha256() const { return host_key_sha256_; }
  std::string known_hosts_path() const { return directory_ + "/known_hosts"; }

  // A new key pair that the server does not authorize: its private key text.
  StatusOr<std::string> GenerateUnauthorizedKey();

  // The last `max_bytes` of sshd's log.
  std::string LogTail(size_t max_bytes = 4000) const;

  // Stops sshd (SIGTERM, then SIGKILL) and removes the directory. Idempotent.
  Status Stop();

 private:
  SftpTestServer() = default;
  Status Launch();
  Status ProbeLogin();

  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::string user_;
  std::string directory_;
  std::string client_private_key_;
  std::string client_public_key_;
  std::string host_key_sha256_;
  pid_t pid_ = -1;
  int extra_keys_ = 0;
};

}  // namespace cdp
