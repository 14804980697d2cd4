#include "connectors/sftp/sftp_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cdp {
namespace {

namespace fs = std::filesystem;

constexpr char kSshd[] = "/usr/sbin/sshd";
constexpr char kPrivsepDir[] = "/run/sshd";

std::string ErrnoText(int err) { return std::strerror(err); }

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(start);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return start > 0 ? "..." + tail : tail;
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InternalError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool IsExecutable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string FindSshKeygen() {
  for (const char* p : {"/usr/bin/ssh-keygen", "/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"}) {
    if (IsExecutable(p)) return p;
  }
  return "";
}

// Forks and execs argv with stdin from /dev/null and stdout/stderr appended
// to `log_path`. The child gets SIGTERM when this thread exits.
StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return InternalError("cannot open " + log_path + ": " + ErrnoText(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return InternalError("cannot open /dev/null: " + ErrnoText(errno));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static const char* env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    ::close(null_fd);
    return InternalError("fork failed: " + ErrnoText(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(125);
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
    ::execve(args[0], args.data(), const_cast<char* const*>(env));
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  return pid;
}

StatusOr<int> Wait(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return InternalError("waitpid failed: " + ErrnoText(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// ssh-keygen -t ed25519 into `path` (and path.pub).
Status GenerateKey(const std::string& path, const std::string& log_path) {
  const std::string keygen = FindSshKeygen();
  if (keygen.empty()) {
    return FailedPreconditionError("ssh-keygen not found: install the Debian package openssh-client");
  }
  CDP_ASSIGN_OR_RETURN(pid_t pid,
                       Spawn({keygen, "-q", "-t", "ed25519", "-N", "", "-C", "cdp-test", "-f", path}, log_path));
  CDP_ASSIGN_OR_RETURN(int code, Wait(pid));
  if (code != 0) {
    return InternalError("ssh-keygen failed (exit " + std::to_string(code) + "):\n" + FileTail(log_path, 2000));
  }
  return Status::Ok();
}

StatusOr<std::string> Sha256Fingerprint(const std::string& public_key_path) {
  ssh_key key = nullptr;
  if (ssh_pki_import_pubkey_file(public_key_path.c_str(), &key) != SSH_OK) {
    return InternalError("cannot read public key " + public_key_path);
  }
  unsigned char* hash = nullptr;
  size_t length = 0;
  const int rc = ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length);
  ssh_key_free(key);
  if (rc != SSH_OK) return InternalError("cannot hash public key " + public_key_path);
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, length);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return InternalError("cannot format the fingerprint of " + public_key_path);
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

StatusOr<int> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError("socket failed: " + ErrnoText(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int err = errno;
    ::close(fd);
    return InternalError("cannot find a free port on 127.0.0.1: " + ErrnoText(err));
  }
  ::close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

bool Accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

std::string TempBase() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (::geteuid() != 0 && tmpdir != nullptr && tmpdir[0] == '/' && std::strlen(tmpdir) < 80) return tmpdir;
  return "/tmp";
}

}  // namespace

StatusOr<std::unique_ptr<SftpTestServer>> SftpTestServer::Start() {
  if (!IsExecutable(kSshd)) {
    return FailedPreconditionError(std::string(kSshd) +
                                   " not found: install the Debian package openssh-server (scripts/install-deps.sh)");
  }
  std::unique_ptr<SftpTestServer> server(new SftpTestServer());
  {
    struct passwd entry;
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    ::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found);
    if (found == nullptr) return FailedPreconditionError("the user running the tests has no passwd entry");
    server->user_ = found->pw_name;
  }
  std::string pattern = TempBase() + "/cdp-sftp-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return InternalError("cannot create a directory like " + pattern + ": " + ErrnoText(errno));
  }
  server->directory_ = pattern;
  if (Status s = server->Launch(); !s.ok()) {
    (void)server->Stop();
    return s;
  }
  return server;
}

Status SftpTestServer::Launch() {
  const std::string log = directory_ + "/commands.log";
  if (::geteuid() == 0) {
    // sshd as root insists on its (empty, root-owned) privilege separation directory.
    if (::mkdir(kPrivsepDir, 0755) != 0 && errno != EEXIST) {
      return FailedPreconditionError(std::string("sshd needs ") + kPrivsepDir + " and it cannot be created: " +
                                     ErrnoText(errno));
    }
  }
  if (::mkdir((directory_ + "/upload").c_str(), 0755) != 0) {
    return InternalError("cannot create " + directory_ + "/upload: " + ErrnoText(errno));
  }
  CDP_RETURN_IF_ERROR(GenerateKey(directory_ + "/host_key", log));
  CDP_RETURN_IF_ERROR(GenerateKey(directory_ + "/client_key", log));
  CDP_ASSIGN_OR_RETURN(client_private_key_, ReadFile(directory_ + "/client_key"));
  CDP_ASSIGN_OR_RETURN(client_public_key_, ReadFile(directory_ + "/client_key.pub"));
  {
    std::ofstream keys(directory_ + "/authorized_keys");
    keys << client_public_key_;
    if (!keys) return InternalError("cannot write " + directory_ + "/authorized_keys");
  }
  CDP_ASSIGN_OR_RETURN(host_key_sha256_, Sha256Fingerprint(directory_ + "/host_key.pub"));
  CDP_ASSIGN_OR_RETURN(std::string host_public, ReadFile(directory_ + "/host_key.pub"));

  const std::string sshd_log = directory_ + "/sshd.log";
  constexpr int kAttempts = 3;  // another process may take the port between our probe and sshd's bind
  for (int attempt = 1;; ++attempt) {
    CDP_ASSIGN_OR_RETURN(port_, PickFreePort());
    {
      std::ofstream config(directory_ + "/sshd_config", std::ios::trunc);
      config << "# Written by SftpTestServer.\n"
             << "Port " << port_ << "\n"
             << "ListenAddress 127.0.0.1\n"
             << "HostKey " << directory_ << "/host_key\n"
             << "AuthorizedKeysFile " << directory_ << "/authorized_keys\n"
             << "PidFile " << directory_ << "/sshd.pid\n"
             << "AllowUsers " << user_ << "\n"
             << "UsePAM no\n"
             << "StrictModes no\n"
             << "PubkeyAuthentication yes\n"
             << "PasswordAuthentication no\n"
             << "KbdInteractiveAuthentication no\n"
             << "PermitRootLogin prohibit-password\n"
             << "X11Forwarding no\nAllowTcpForwarding no\nAllowAgentForwarding no\nPermitTTY no\n"
             << "UseDNS no\n"
             << "MaxStartups 100\n"
             << "Subsystem sftp internal-sftp\n"
             << "LogLevel VERBOSE\n";
      if (!config) return InternalError("cannot write " + directory_ + "/sshd_config");
    }
    {
      std::ofstream known(directory_ + "/known_hosts", std::ios::trunc);
      known << "[" << host_ << "]:" << port_ << " " << host_public;
      if (!known) return InternalError("cannot write " + directory_ + "/known_hosts");
    }
    const size_t log_mark = fs::exists(sshd_log) ? fs::file_size(sshd_log) : 0;
    CDP_ASSIGN_OR_RETURN(pid_, Spawn({kSshd, "-D", "-e", "-f", directory_ + "/sshd_config"}, sshd_log));
    bool exited = false;
    int exit_code = 0;
    // sshd binds within milliseconds; this bound only ends a hung start.
    for (int i = 0; i < 1500; ++i) {
      if (Accepts(port_)) return ProbeLogin();
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited = true;
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::string new_log = FileTail(sshd_log, 1 << 20);
    new_log = new_log.substr(std::min(log_mark, new_log.size()));
    if (!exited) {
      return InternalError("sshd did not accept connections on 127.0.0.1:" + std::to_string(port_) +
                           " within 30 s; log:\n" + new_log);
    }
    const bool port_taken = new_log.find("Address already in use") != std::string::npos;
    if (!port_taken || attempt == kAttempts) {
      return InternalError("sshd exited with code " + std::to_string(exit_code) + " (config " + directory_ +
                           "/sshd_config); log:\n" + new_log);
    }
  }
}

// Logs in once with the client key, so that a server that will refuse every
// login says why now, once, instead of in each test.
Status SftpTestServer::ProbeLogin() {
  ssh_session s = ssh_new();
  if (s == nullptr) return InternalError("ssh_new failed");
  const unsigned int port = static_cast<unsigned int>(port_);
  const int no = 0;
  ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(s, SSH_OPTIONS_HOST, host_.c_str());
  ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  ssh_options_set(s, SSH_OPTIONS_USER, user_.c_str());
  ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, known_hosts_path().c_str());
  ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, known_hosts_path().c_str());
  Status result;
  ssh_key key = nullptr;
  if (ssh_connect(s) != SSH_OK) {
    result = InternalError(std::string("cannot connect to the test sshd: ") + ssh_get_error(s));
  } else if (ssh_session_is_known_server(s) != SSH_KNOWN_HOSTS_OK) {
    result = InternalError("the test sshd's host key is not the one in " + known_hosts_path());
  } else if (ssh_pki_import_privkey_base64(client_private_key_.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK) {
    result = InternalError("cannot read the generated client key");
  } else if (ssh_userauth_publickey(s, nullptr, key) != SSH_AUTH_SUCCESS) {
    const std::string log = LogTail(3000);
    if (log.find("account is locked") != std::string::npos) {
      result = FailedPreconditionError(
          "sshd refuses user '" + user_ +
          "' because its account is locked in /etc/shadow (sshd checks that when it runs without PAM, as the "
          "test server does); run the tests as root or as a user with an unlocked account");
    } else {
      result = InternalError("the test sshd refused the generated client key; log:\n" + log);
    }
  }
  if (key != nullptr) ssh_key_free(key);
  ssh_disconnect(s);
  ssh_free(s);
  return result;
}

StatusOr<std::string> SftpTestServer::GenerateUnauthorizedKey() {
  const std::string path = directory_ + "/other_key_" + std::to_string(++extra_keys_);
  CDP_RETURN_IF_ERROR(GenerateKey(path, directory_ + "/commands.log"));
  return ReadFile(path);
}

std::string SftpTestServer::LogTail(size_t max_bytes) const {
  return FileTail(directory_ + "/sshd.log", max_bytes);
}

SftpTestServer::~SftpTestServer() { (void)Stop(); }

Status SftpTestServer::Stop() {
  Status result;
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    bool gone = false;
    for (int i = 0; i < 250 && !gone; ++i) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno == ECHILD)) {
        gone = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (!gone) {
      result = InternalError("sshd (pid " + std::to_string(pid_) + ") ignored SIGTERM; killed");
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  if (!directory_.empty()) {
    std::error_code ec;
    fs::remove_all(directory_, ec);
    directory_.clear();
  }
  return result;
}

}  // namespace cdp
