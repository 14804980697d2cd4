#include "connectors/postgres/postgres_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

namespace cdp {
namespace {

namespace fs = std::filesystem;

// Bump when the initdb arguments change, so cached clusters are rebuilt.
constexpr char kTemplateFormat[] = "initdb-v1";
constexpr char kTemplateMarker[] = "complete";
constexpr char kSuperuser[] = "postgres";

// Who runs initdb / pg_ctl / postgres.
struct Identity {
  uid_t uid;
  gid_t gid;
  bool switch_user;  // setgid/setuid in the child (we are root)
};

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

bool IsExecutableFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

bool HasServerBinaries(const fs::path& dir) {
  return IsExecutableFile(dir / "initdb") && IsExecutableFile(dir / "pg_ctl") &&
         IsExecutableFile(dir / "postgres");
}

void CloseFromThree(int max_fd) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
#endif
  for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
}

void WriteToStderr(const char* text) {
  ssize_t ignored = ::write(2, text, std::strlen(text));
  (void)ignored;
}

// Runs argv (argv[0] an absolute path) with environment `env` in `cwd`,
// stdin from /dev/null and output appended to `log_path`; returns its exit
// code (128 + signal if killed).
StatusOr<int> RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const Identity& who, const std::string& cwd, const std::string& log_path) {
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return InternalError("cannot open " + log_path + ": " + ErrnoText(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return InternalError("cannot open /dev/null: " + ErrnoText(errno));
  }
  {
    std::string banner = "$";
    for (const std::string& a : argv) banner += " " + a;
    banner += "\n";
    ssize_t ignored = ::write(log_fd, banner.data(), banner.size());
    (void)ignored;
  }
  // Everything the child needs is prepared before fork(): between fork and
  // exec only async-signal-safe calls are allowed.
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int max_fd = static_cast<int>(::sysconf(_SC_OPEN_MAX));
  const char* dir = cwd.c_str();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    ::close(null_fd);
    return InternalError("fork failed: " + ErrnoText(err));
  }
  if (pid == 0) {
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
    CloseFromThree(max_fd);
    if (who.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) {
        WriteToStderr("cannot switch to the server's user\n");
        ::_exit(126);
      }
    }
    if (::chdir(dir) != 0) {
      WriteToStderr("cannot change to the working directory\n");
      ::_exit(126);
    }
    ::execve(args[0], args.data(), envp.data());
    WriteToStderr("exec failed\n");
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return InternalError("waitpid failed: " + ErrnoText(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::vector<std::string> CleanEnvironment(const std::string& bin_dir, const std::string& home) {
  return {"PATH=" + bin_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
          "LANG=C", "TZ=UTC", "HOME=" + home};
}

// The newest server binaries: $CDP_POSTGRES_BIN_DIR, /usr/lib/postgresql/*/bin,
// then PATH. Empty when there are none.
StatusOr<std::string> FindBinDir() {
  if (const char* env = std::getenv("CDP_POSTGRES_BIN_DIR"); env != nullptr && *env != '\0') {
    if (HasServerBinaries(env)) return std::string(env);
    return FailedPreconditionError(std::string("CDP_POSTGRES_BIN_DIR=") + env +
                                   " does not hold initdb, pg_ctl and postgres");
  }
  std::error_code ec;
  std::string best;
  double best_version = -1;
  for (const fs::directory_entry& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const double version = std::strtod(name.c_str(), &end);
    if (end == name.c_str() || *end != '\0') continue;
    if (version > best_version && HasServerBinaries(entry.path() / "bin")) {
      best_version = version;
      best = (entry.path() / "bin").string();
    }
  }
  if (!best.empty()) return best;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (dir.empty() || !IsExecutableFile(fs::path(dir) / "pg_ctl")) continue;
      const fs::path real = fs::canonical(fs::path(dir) / "pg_ctl", ec).parent_path();
      if (!ec && HasServerBinaries(real)) return real.string();
      if (HasServerBinaries(dir)) return dir;
    }
  }
  return std::string();
}

StatusOr<std::string> FindOrInstallBinaries() {
  static std::mutex install_mutex;
  std::lock_guard<std::mutex> lock(install_mutex);
  CDP_ASSIGN_OR_RETURN(std::string bin_dir, FindBinDir());
  if (!bin_dir.empty()) return bin_dir;
  const char* kAptGet = "/usr/bin/apt-get";
  if (::geteuid() != 0 || !IsExecutableFile(kAptGet)) {
    return FailedPreconditionError(
        "PostgreSQL server binaries not found (looked in $CDP_POSTGRES_BIN_DIR, /usr/lib/postgresql/*/bin "
        "and "
        "PATH); install the Debian package `postgresql` (scripts/install-deps.sh does)");
  }
  char log_template[] = "/tmp/cdp-pg-install-XXXXXX";
  const int fd = ::mkstemp(log_template);
  if (fd < 0) return InternalError("cannot create an install log in /tmp: " + ErrnoText(errno));
  ::close(fd);
  const std::string log_path = log_template;
  std::vector<std::string> env = CleanEnvironment("/usr/bin", "/root");
  env.push_back("DEBIAN_FRONTEND=noninteractive");
  const Identity root{0, 0, false};
  const std::vector<std::string> install = {
      kAptGet, "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "postgresql"};
  CDP_ASSIGN_OR_RETURN(int exit_code, RunCommand(install, env, root, "/", log_path));
  if (exit_code != 0) {  // the package lists may be missing or stale
    CDP_ASSIGN_OR_RETURN(exit_code, RunCommand({kAptGet, "update", "-q"}, env, root, "/", log_path));
    CDP_ASSIGN_OR_RETURN(exit_code, RunCommand(install, env, root, "/", log_path));
  }
  CDP_ASSIGN_OR_RETURN(bin_dir, FindBinDir());
  if (exit_code != 0 || bin_dir.empty()) {
    return InternalError("installing the Debian package `postgresql` failed (log " + log_path + "):\n" +
                         FileTail(log_path, 3000));
  }
  ::unlink(log_path.c_str());
  return bin_dir;
}

StatusOr<Identity> ServerIdentity() {
  if (::geteuid() != 0) return Identity{::geteuid(), ::getegid(), false};
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  ::getpwnam_r("postgres", &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr || found->pw_uid == 0) {
    return FailedPreconditionError(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` system user to "
        "run "
        "it as (the Debian package `postgresql` creates one)");
  }
  return Identity{found->pw_uid, found->pw_gid, true};
}

// A private directory (mode 0700) owned by the server's user.
Status MakeOwnedDirectory(const std::string& path, const Identity& who) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return InternalError("cannot create " + path + ": " + ErrnoText(errno));
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return InternalError("cannot stat " + path + ": " + ErrnoText(errno));
  if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(path + " exists and is not a directory");
  if (st.st_uid != who.uid) {
    if (!who.switch_user || st.st_uid != ::geteuid() || ::chown(path.c_str(), who.uid, who.gid) != 0) {
      return FailedPreconditionError(path + " belongs to another user; remove it");
    }
  }
  return Status::Ok();
}

StatusOr<std::string> MakeTempDirectory(const std::string& pattern, const Identity& who) {
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    return InternalError("cannot create a directory like " + pattern + ": " + ErrnoText(errno));
  }
  std::string path(name.data());
  if (who.switch_user && ::chown(path.c_str(), who.uid, who.gid) != 0) {
    const int err = errno;
    fs::remove_all(path);
    return InternalError("cannot give " + path + " to the postgres user: " + ErrnoText(err));
  }
  return path;
}

// Where temporary directories go. As root, always /tmp: the server's user must
// be able to reach it. The socket path must stay under ~100 bytes.
std::string TempBase() {
  if (::geteuid() != 0) {
    const char* tmpdir = std::getenv("TMPDIR");
    if (tmpdir != nullptr && tmpdir[0] == '/' && std::strlen(tmpdir) < 60) return tmpdir;
  }
  return "/tmp";
}

std::string CopyCommand() { return IsExecutableFile("/bin/cp") ? "/bin/cp" : "/usr/bin/cp"; }

// The initdb result for these binaries, created once per binary and user and
// reused by every later Start() (also across processes).
StatusOr<std::string> TemplateDataDir(const std::string& bin_dir, const Identity& who,
                                      const std::string& commands_log) {
  const char* cache_override = std::getenv("CDP_PG_TEMPLATE_CACHE");  // tests of the cache itself
  const std::string cache_root = cache_override != nullptr && cache_override[0] == '/'
                                     ? std::string(cache_override)
                                     : "/tmp/cdp-pg-cache-" + std::to_string(who.uid);
  CDP_RETURN_IF_ERROR(MakeOwnedDirectory(cache_root, who));
  struct stat binary;
  if (::stat((bin_dir + "/postgres").c_str(), &binary) != 0) {
    return InternalError("cannot stat " + bin_dir + "/postgres: " + ErrnoText(errno));
  }
  const size_t key = std::hash<std::string>{}(bin_dir + "|" + std::to_string(binary.st_mtime) + "|" +
                                              std::to_string(binary.st_size) + "|" + kTemplateFormat);
  char key_hex[17];
  std::snprintf(key_hex, sizeof(key_hex), "%016zx", key);
  const std::string cached = cache_root + "/" + key_hex;
  std::error_code ec;
  if (fs::exists(cached + "/" + kTemplateMarker, ec)) return cached + "/data";

  // One process at a time builds or repairs the template (an flock held until
  // return, across processes): without it, a second test that finished its own
  // initdb took the first one's complete template for an incomplete leftover
  // and moved it away while a third copied from it.
  const std::string lock_path = cache_root + "/" + key_hex + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return InternalError("cannot open " + lock_path + ": " + ErrnoText(errno));
  struct LockGuard {
    int fd;
    ~LockGuard() { ::close(fd); }  // closing releases the flock
  } guard{lock_fd};
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) return InternalError("cannot lock " + lock_path + ": " + ErrnoText(errno));
  }
  if (fs::exists(cached + "/" + kTemplateMarker, ec)) return cached + "/data";  // built while we waited

  CDP_ASSIGN_OR_RETURN(std::string build, MakeTempDirectory(cache_root + "/build-XXXXXX", who));
  const std::vector<std::string> initdb = {
      bin_dir + "/initdb", "-D",       build + "/data", "-U", kSuperuser, "-A", "trust", "-E", "UTF8",
      "--locale=C",        "--no-sync"};
  auto ran = RunCommand(initdb, CleanEnvironment(bin_dir, build), who, build, commands_log);
  if (!ran.ok() || *ran != 0) {
    fs::remove_all(build, ec);
    if (!ran.ok()) return ran.status();
    return InternalError("initdb failed (exit " + std::to_string(*ran) + "):\n" +
                         FileTail(commands_log, 3000));
  }
  { std::ofstream(build + "/" + kTemplateMarker) << "initdb finished\n"; }
  if (fs::exists(cached, ec)) {  // under the lock and without its marker: an incomplete leftover
    const std::string trash = build + "-stale";
    if (::rename(cached.c_str(), trash.c_str()) == 0) fs::remove_all(trash, ec);
  }
  if (::rename(build.c_str(), cached.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(build, ec);
    return InternalError("cannot install the cluster template " + cached + ": " + ErrnoText(err));
  }
  return cached + "/data";
}

StatusOr<int> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError("socket failed: " + ErrnoText(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
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

// A process that waits for us to say "done" on a pipe; if the pipe closes
// without it (we died), it kills the postmaster and removes the directory.
constexpr char kWatchdogScript[] =
    "if read -r line; then exit 0; fi\n"
    "pid=$(head -n 1 \"$2/postmaster.pid\" 2>/dev/null)\n"
    "case \"$pid\" in ''|*[!0-9]*) ;; *)\n"
    "  kill -QUIT \"$pid\" 2>/dev/null; n=0\n"
    "  while [ -e \"$2/postmaster.pid\" ] && kill -0 \"$pid\" 2>/dev/null && [ $n -lt 50 ]; do\n"
    "    sleep 0.1; n=$((n+1))\n"
    "  done;;\n"
    "esac\n"
    "rm -rf \"$1\"\n";

StatusOr<std::pair<pid_t, int>> StartWatchdog(const std::string& directory, const std::string& data_dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return InternalError("pipe failed: " + ErrnoText(errno));
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const std::vector<std::string> argv = {"/bin/sh",         "-c",      kWatchdogScript,
                                         "cdp-pg-watchdog", directory, data_dir};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char path_env[] = "PATH=/usr/bin:/bin";
  char* envp[] = {path_env, nullptr};
  const int max_fd = static_cast<int>(::sysconf(_SC_OPEN_MAX));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    if (null_fd >= 0) ::close(null_fd);
    return InternalError("fork failed: " + ErrnoText(err));
  }
  if (pid == 0) {
    if (::dup2(fds[0], 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(null_fd, 2) < 0) ::_exit(126);
    CloseFromThree(max_fd);
    ::setsid();  // survive a Ctrl-C aimed at the test's process group
    if (::chdir("/") != 0) ::_exit(126);
    ::execve(args[0], args.data(), envp);
    ::_exit(127);
  }
  ::close(fds[0]);
  if (null_fd >= 0) ::close(null_fd);
  return std::make_pair(pid, fds[1]);
}

// A conninfo value, quoted when it has to be.
std::string QuoteConnValue(std::string_view value) {
  if (!value.empty() && value.find_first_of(" '\\\t\n") == std::string_view::npos) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};

}  // namespace

StatusOr<std::unique_ptr<PostgresTestServer>> PostgresTestServer::Start(
    const PostgresTestServerOptions& options) {
  CDP_ASSIGN_OR_RETURN(std::string bin_dir, FindOrInstallBinaries());
  CDP_ASSIGN_OR_RETURN(Identity who, ServerIdentity());
  std::unique_ptr<PostgresTestServer> server(new PostgresTestServer());
  server->bin_dir_ = std::move(bin_dir);
  server->server_uid_ = who.uid;
  server->server_gid_ = who.gid;
  server->switch_user_ = who.switch_user;
  if (Status started = server->StartCluster(options); !started.ok()) {
    (void)server->Stop();
    return started;
  }
  return server;
}

Status PostgresTestServer::StartCluster(const PostgresTestServerOptions& options) {
  const Identity who{server_uid_, server_gid_, switch_user_};
  CDP_ASSIGN_OR_RETURN(directory_, MakeTempDirectory(TempBase() + "/cdp-pg-XXXXXX", who));
  data_dir_ = directory_ + "/data";
  log_path_ = directory_ + "/server.log";
  commands_log_path_ = directory_ + "/commands.log";
  CDP_ASSIGN_OR_RETURN(std::tie(watchdog_pid_, watchdog_fd_), StartWatchdog(directory_, data_dir_));
  const std::vector<std::string> env = CleanEnvironment(bin_dir_, directory_);
  auto failure = [&](const std::string& what) {
    return InternalError(what + "\n--- commands (" + commands_log_path_ + "):\n" +
                         FileTail(commands_log_path_, 2000) + "\n--- server log:\n" +
                         FileTail(log_path_, 3000));
  };

  CDP_ASSIGN_OR_RETURN(std::string template_data, TemplateDataDir(bin_dir_, who, commands_log_path_));
  CDP_ASSIGN_OR_RETURN(int copied, RunCommand({CopyCommand(), "-a", template_data, data_dir_}, env, who,
                                              directory_, commands_log_path_));
  if (copied != 0) {
    return failure("copying the cluster template " + template_data +
                   " failed (remove that directory to rebuild it)");
  }

  {
    std::ofstream hba(data_dir_ + "/pg_hba.conf", std::ios::trunc);
    hba << "# Written by PostgresTestServer.\n";
    for (const std::string& line : options.extra_hba_lines) hba << line << "\n";
    hba << "local all all trust\nhost all all 127.0.0.1/32 trust\n";
    if (!hba) return failure("cannot write " + data_dir_ + "/pg_hba.conf");
  }
  {
    std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
    conf << "\n# PostgresTestServer\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << directory_ << "'\n"
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
         << "max_connections = 40\nshared_buffers = 32MB\n"
         << "timezone = 'UTC'\nlog_timezone = 'UTC'\n";
    for (const std::string& line : options.extra_config) conf << line << "\n";
    if (!conf) return failure("cannot write " + data_dir_ + "/postgresql.conf");
  }

  // Another process may take the port between our probe and the server's bind.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    CDP_ASSIGN_OR_RETURN(port_, PickFreePort());
    {
      std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
      conf << "port = " << port_ << "\n";  // the last setting wins
      if (!conf) return failure("cannot write " + data_dir_ + "/postgresql.conf");
    }
    const size_t log_mark = fs::exists(log_path_) ? fs::file_size(log_path_) : 0;
    CDP_ASSIGN_OR_RETURN(int exit_code, RunCommand({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l", log_path_,
                                                    "-w", "-t", "60", "start"},
                                                   env, who, directory_, commands_log_path_));
    if (exit_code == 0) break;
    std::string new_log = FileTail(log_path_, 1 << 20);
    new_log = new_log.substr(std::min(log_mark, new_log.size()));
    const bool port_taken = new_log.find("could not bind") != std::string::npos ||
                            new_log.find("Address already in use") != std::string::npos;
    if (!port_taken || attempt == kAttempts) {
      return failure("PostgreSQL server in " + data_dir_ + " did not start (pg_ctl exit " +
                     std::to_string(exit_code) + ")");
    }
  }
  running_ = true;
  conninfo_ = ConnInfoFor("postgres");
  return Status::Ok();
}

PostgresTestServer::~PostgresTestServer() { (void)Stop(); }

std::string PostgresTestServer::ConnInfoFor(std::string_view database) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " user=" + user_ +
         " dbname=" + QuoteConnValue(database);
}

std::string PostgresTestServer::LogTail(size_t max_bytes) const { return FileTail(log_path_, max_bytes); }

Status PostgresTestServer::Stop() {
  Status result;
  if (running_) {
    running_ = false;
    const Identity who{server_uid_, server_gid_, switch_user_};
    auto stopped = RunCommand({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "fast", "-w", "-t", "30", "stop"},
                              CleanEnvironment(bin_dir_, directory_), who, directory_, commands_log_path_);
    if (!stopped.ok() || *stopped != 0) {
      result = InternalError("pg_ctl stop failed for " + data_dir_ + "; killing the postmaster\n" +
                             FileTail(commands_log_path_, 1500) + "\n--- server log:\n" +
                             FileTail(log_path_, 2000));
      std::ifstream pid_file(data_dir_ + "/postmaster.pid");
      long pid = 0;
      if (pid_file >> pid && pid > 1) {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        for (int i = 0; i < 50 && ::kill(static_cast<pid_t>(pid), 0) == 0; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    }
  }
  if (!directory_.empty()) {
    std::error_code ec;
    fs::remove_all(directory_, ec);
    directory_.clear();
  }
  ReleaseWatchdog();
  return result;
}

void PostgresTestServer::ReleaseWatchdog() {
  if (watchdog_fd_ >= 0) {
    ssize_t ignored = ::write(watchdog_fd_, "done\n", 5);
    (void)ignored;
    ::close(watchdog_fd_);
    watchdog_fd_ = -1;
  }
  if (watchdog_pid_ > 0) {
    while (::waitpid(watchdog_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    watchdog_pid_ = -1;
  }
}

Status PostgresTestServer::Exec(std::string_view sql, std::string_view database) const {
  return Query(sql, database).status();
}

StatusOr<PostgresTestServer::Rows> PostgresTestServer::Query(std::string_view sql,
                                                             std::string_view database) const {
  std::unique_ptr<PGconn, PgConnCloser> conn(PQconnectdb(ConnInfoFor(database).c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return FailedPreconditionError("cannot connect to the test server (" + ConnInfoFor(database) +
                                   "): " + (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  const std::string statement(sql);
  std::unique_ptr<PGresult, PgResultClearer> result(PQexec(conn.get(), statement.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string shown = statement.size() > 200 ? statement.substr(0, 200) + "..." : statement;
    return InvalidArgumentError("test server: " + std::string(PQresultErrorMessage(result.get())) +
                                "statement: " + shown);
  }
  Rows rows(PQntuples(result.get()));
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        rows[r].emplace_back(std::nullopt);
      } else {
        rows[r].emplace_back(std::string(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c)));
      }
    }
  }
  return rows;
}

}  // namespace cdp
