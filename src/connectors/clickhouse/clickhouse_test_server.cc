#include "connectors/clickhouse/clickhouse_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
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
#include <set>
#include <thread>
#include <vector>

#include "connectors/http/http_client.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

constexpr char kServer[] = "/usr/sbin/clickhouse-server";

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

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// Free ports on 127.0.0.1, distinct (all bound at once, then released).
StatusOr<std::vector<int>> PickFreePorts(size_t count) {
  std::vector<int> fds;
  std::vector<int> ports;
  Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = InternalError("socket failed: " + ErrnoText(errno));
      break;
    }
    fds.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      status = InternalError("cannot find a free port on 127.0.0.1: " + ErrnoText(errno));
      break;
    }
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

std::string TempBase() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/' && std::strlen(tmpdir) < 100) return tmpdir;
  return "/tmp";
}

}  // namespace

StatusOr<std::unique_ptr<ClickHouseTestServer>> ClickHouseTestServer::Start(std::string password) {
  if (::access(kServer, X_OK) != 0) {
    return FailedPreconditionError(std::string(kServer) +
                                   " not found: install the Debian package clickhouse-server "
                                   "(scripts/install-deps.sh)");
  }
  std::unique_ptr<ClickHouseTestServer> server(new ClickHouseTestServer());
  std::string pattern = TempBase() + "/cdp-clickhouse-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return InternalError("cannot create a directory like " + pattern + ": " + ErrnoText(errno));
  }
  server->directory_ = pattern;
  if (Status s = server->Launch(password); !s.ok()) {
    (void)server->Stop();
    return s;
  }
  return server;
}

Status ClickHouseTestServer::Launch(const std::string& password) {
  const std::string& d = directory_;
  for (const char* sub : {"/data", "/tmp", "/user_files", "/format_schemas", "/log"}) {
    if (::mkdir((d + sub).c_str(), 0750) != 0) return InternalError("cannot create " + d + sub + ": " + ErrnoText(errno));
  }
  {
    std::ofstream users(d + "/users.xml", std::ios::trunc);
    users << "<?xml version=\"1.0\"?>\n<yandex>\n"
          << "  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>\n"
          << "  <users>\n"
          << "    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
          << "<profile>default</profile><quota>default</quota></default>\n"
          << "    <" << kPasswordUser << "><password>" << XmlEscape(password) << "</password><networks>"
          << "<ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></"
          << kPasswordUser << ">\n"
          << "  </users>\n"
          << "  <quotas><default></default></quotas>\n</yandex>\n";
    if (!users) return InternalError("cannot write " + d + "/users.xml");
  }
  const std::string out_log = d + "/log/stdout.log";
  constexpr int kAttempts = 3;  // another process may take a port between our probe and the server's bind
  for (int attempt = 1;; ++attempt) {
    CDP_ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(3));
    http_port_ = ports[0];
    {
      std::ofstream config(d + "/config.xml", std::ios::trunc);
      config << "<?xml version=\"1.0\"?>\n<yandex>\n"
             << "  <logger><level>information</level><log>" << d << "/log/server.log</log><errorlog>" << d
             << "/log/error.log</errorlog><size>100M</size><count>1</count><console>0</console></logger>\n"
             << "  <http_port>" << ports[0] << "</http_port>\n"
             << "  <tcp_port>" << ports[1] << "</tcp_port>\n"
             << "  <interserver_http_port>" << ports[2] << "</interserver_http_port>\n"
             << "  <interserver_http_host>127.0.0.1</interserver_http_host>\n"
             << "  <listen_host>127.0.0.1</listen_host>\n"
             << "  <path>" << d << "/data/</path>\n"
             << "  <tmp_path>" << d << "/tmp/</tmp_path>\n"
             << "  <user_files_path>" << d << "/user_files/</user_files_path>\n"
             << "  <format_schema_path>" << d << "/format_schemas/</format_schema_path>\n"
             << "  <users_config>" << d << "/users.xml</users_config>\n"
             << "  <default_profile>default</default_profile>\n"
             << "  <default_database>default</default_database>\n"
             << "  <timezone>UTC</timezone>\n"
             << "  <umask>027</umask>\n"
             << "  <mlock_executable>false</mlock_executable>\n"
             << "  <max_connections>64</max_connections>\n"
             << "  <keep_alive_timeout>3</keep_alive_timeout>\n"
             << "  <max_concurrent_queries>32</max_concurrent_queries>\n"
             << "  <uncompressed_cache_size>67108864</uncompressed_cache_size>\n"
             << "  <mark_cache_size>67108864</mark_cache_size>\n"
             << "</yandex>\n";
      if (!config) return InternalError("cannot write " + d + "/config.xml");
    }
    const size_t mark = fs::exists(out_log) ? fs::file_size(out_log) : 0;
    const size_t error_mark = fs::exists(d + "/log/error.log") ? fs::file_size(d + "/log/error.log") : 0;

    const int log_fd = ::open(out_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) return InternalError("cannot open " + out_log + ": " + ErrnoText(errno));
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const std::string config_arg = "--config-file=" + d + "/config.xml";
    std::vector<char*> args = {const_cast<char*>(kServer), const_cast<char*>(config_arg.c_str()), nullptr};
    static const char* env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "TZ=UTC", nullptr};
    const char* cwd = d.c_str();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      if (null_fd >= 0) ::close(null_fd);
      return InternalError("fork failed: " + ErrnoText(errno));
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(125);
      if ((null_fd >= 0 && ::dup2(null_fd, 0) < 0) || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
      if (::chdir(cwd) != 0) ::_exit(126);
      ::execve(args[0], args.data(), const_cast<char* const*>(env));
      ::_exit(127);
    }
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    pid_ = pid;
    url_ = "http://127.0.0.1:" + std::to_string(http_port_);

    bool exited = false;
    int exit_code = 0;
    HttpClient http;
    // The server needs a second or two; this bound only ends a hung start.
    for (int i = 0; i < 1200; ++i) {
      HttpClientRequest ping;
      ping.method = "GET";
      ping.url = url_ + "/ping";
      ping.connect_timeout_ms = 1000;
      ping.timeout_ms = 2000;
      auto response = http.Send(ping);
      if (response.ok() && response->status == 200 && response->body.rfind("Ok.", 0) == 0) return Status::Ok();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string out = FileTail(out_log, 1 << 20);
    out = out.substr(std::min(mark, out.size()));
    std::string errors = FileTail(d + "/log/error.log", 1 << 20);
    errors = errors.substr(std::min(error_mark, errors.size()));
    const std::string logs = out + errors;
    if (!exited) {
      (void)Stop();
      return InternalError("clickhouse-server did not answer GET /ping on " + url_ + " within a minute; log:\n" +
                           logs.substr(logs.size() > 3000 ? logs.size() - 3000 : 0));
    }
    const bool port_taken = logs.find("Address already in use") != std::string::npos;
    if (!port_taken || attempt == kAttempts) {
      return InternalError("clickhouse-server exited with code " + std::to_string(exit_code) + " (config " + d +
                           "/config.xml); log:\n" + logs.substr(logs.size() > 3000 ? logs.size() - 3000 : 0));
    }
  }
}

StatusOr<std::string> ClickHouseTestServer::Query(std::string_view sql) const {
  HttpClient http;
  HttpClientRequest request;
  request.method = "POST";
  request.url = url_ + "/";
  request.body = std::string(sql);
  request.headers = {{"Content-Type", "text/plain; charset=UTF-8"}};
  request.max_response_bytes = 64u << 20;
  auto response = http.Send(request);
  if (!response.ok()) return UnavailableError("test ClickHouse server: " + response.status().message());
  if (response->status != 200) {
    return InvalidArgumentError("test ClickHouse server: " + response->Summary(500) +
                                " statement: " + std::string(sql.substr(0, 200)));
  }
  return response->body;
}

std::string ClickHouseTestServer::LogTail(size_t max_bytes) const {
  return FileTail(directory_ + "/log/error.log", max_bytes) + FileTail(directory_ + "/log/stdout.log", max_bytes);
}

ClickHouseTestServer::~ClickHouseTestServer() { (void)Stop(); }

Status ClickHouseTestServer::Stop() {
  Status result;
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    bool gone = false;
    for (int i = 0; i < 3000 && !gone; ++i) {  // up to a minute: it finishes queries and merges first
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno == ECHILD)) {
        gone = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (!gone) {
      result = InternalError("clickhouse-server (pid " + std::to_string(pid_) + ") ignored SIGTERM; killed");
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
