#include "connectors/http/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string_view>

namespace cdp {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what recv returns to `buf`; false on close or error.
bool RecvSome(int fd, std::string& buf) {
  char chunk[64 << 10];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string FormatReply(const TestHttpReply& reply, bool head, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(ReasonPhrase(reply.status)) + "\r\n";
  for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (!head) out += reply.body;
  return out;
}

}  // namespace

std::string TestHttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

TestHttpServer::~TestHttpServer() { Stop(); }

Status TestHttpServer::Start(Handler handler, TestHttpServerOptions options) {
  if (listen_fd_ >= 0 || accept_thread_.joinable()) return FailedPreconditionError("test HTTP server already started");
  handler_ = std::move(handler);
  options_ = options;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError(std::string("test HTTP server: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return UnavailableError("test HTTP server: cannot listen on 127.0.0.1: " + err);
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  stopping_ = false;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void TestHttpServer::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_.exchange(true)) {
      // Already stopping or stopped; fall through to joins (harmless when done).
    }
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<Connection> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    threads.swap(threads_);
  }
  for (auto& c : threads) {
    if (c.thread.joinable()) c.thread.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void TestHttpServer::ReapFinished() {
  for (size_t i = 0; i < threads_.size();) {
    if (threads_[i].done->load()) {
      threads_[i].thread.join();
      threads_[i] = std::move(threads_.back());
      threads_.pop_back();
    } else {
      ++i;
    }
  }
}

void TestHttpServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down (Stop) or a fatal error
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    ReapFinished();
    int64_t id = ++connections_;
    open_fds_.insert(fd);
    auto done = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back(Connection{std::thread([this, fd, id, done] {
                                    Serve(fd, id);
                                    {
                                      std::lock_guard<std::mutex> l2(mu_);
                                      open_fds_.erase(fd);
                                      ::close(fd);
                                    }
                                    done->store(true);
                                  }),
                                  done});
  }
}

bool TestHttpServer::SleepUnlessStopped(int ms) {
  std::unique_lock<std::mutex> l(mu_);
  return !stop_cv_.wait_for(l, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
}

void TestHttpServer::Serve(int fd, int64_t id) {
  std::string buf;
  while (!stopping_) {
    // The header.
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > options_.max_header_bytes) {
        TestHttpReply r{431, {}, "request header too large\n"};
        SendAll(fd, FormatReply(r, false, false));
        return;
      }
      if (!RecvSome(fd, buf)) return;
    }
    std::string_view head(buf.data(), header_end);
    TestHttpRequest req;
    req.connection_id = id;
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) {
      TestHttpReply r{400, {}, "bad request line\n"};
      SendAll(fd, FormatReply(r, false, false));
      return;
    }
    req.method = std::string(request_line.substr(0, sp1));
    req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    bool http10 = request_line.substr(sp2 + 1) == "HTTP/1.0";
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = Lower(Trim(line.substr(0, colon)));
      std::string value(Trim(line.substr(colon + 1)));
      auto [it, inserted] = req.headers.emplace(name, value);
      if (!inserted) it->second += ", " + value;
    }
    std::string connection = Lower(req.Header("connection"));
    bool keep_alive = http10 ? connection == "keep-alive" : connection != "close";
    if (!req.Header("transfer-encoding").empty()) {
      TestHttpReply r{411, {}, "send a Content-Length\n"};
      SendAll(fd, FormatReply(r, false, false));
      return;
    }
    size_t content_length = 0;
    std::string cl = req.Header("content-length");
    if (!cl.empty()) {
      auto [p, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), content_length);
      if (ec != std::errc() || p != cl.data() + cl.size()) {
        TestHttpReply r{400, {}, "bad Content-Length\n"};
        SendAll(fd, FormatReply(r, false, false));
        return;
      }
    }
    if (content_length > options_.max_body_bytes) {
      TestHttpReply r{413, {}, "body too large\n"};
      SendAll(fd, FormatReply(r, false, false));
      return;
    }
    size_t body_start = header_end + 4;
    while (buf.size() - body_start < content_length) {
      if (!RecvSome(fd, buf)) return;
    }
    req.body = buf.substr(body_start, content_length);
    buf.erase(0, body_start + content_length);

    TestHttpReply reply = handler_(req);
    ++requests_;
    if (reply.delay_ms > 0 && !SleepUnlessStopped(reply.delay_ms)) return;
    if (reply.close_without_response) return;
    if (!SendAll(fd, FormatReply(reply, req.method == "HEAD", keep_alive)) || !keep_alive) return;
  }
}

}  // namespace cdp
