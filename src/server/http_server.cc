#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace cdp {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ParseQuery(std::string_view q, std::multimap<std::string, std::string>* out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = UrlDecode(part.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : UrlDecode(part.substr(eq + 1), true);
    out->emplace(std::move(key), std::move(value));
  }
}

// The status line and headers of `resp` (the body follows, or chunks).
std::string ResponseHead(const HttpResponse& resp, bool keep_alive) {
  std::string head;
  head.reserve(160 + resp.body.size());
  head += "HTTP/1.1 ";
  head += std::to_string(resp.status);
  head += ' ';
  head += Reason(resp.status);
  head += "\r\nContent-Type: ";
  head += resp.content_type;
  head += "\r\n";
  for (const auto& [k, v] : resp.headers) {
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  head += "Cache-Control: no-store\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  if (resp.stream) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
  } else {
    head += "Content-Length: ";
    head += std::to_string(resp.body.size());
    head += "\r\n\r\n";
  }
  return head;
}

// Headers a request may carry once: a second copy is ambiguous (which
// credentials, which length?) and is refused with 400.
bool IsSingletonHeader(std::string_view lower) {
  return lower == "authorization" || lower == "content-length" || lower == "content-type" || lower == "host" ||
         lower == "transfer-encoding";
}

// Runs handlers: a fixed set of threads created with an explicit 8 MB stack
// (deep enough for a request that parses the project YAML or evaluates a
// nested segment under AddressSanitizer, whose frames are several times
// larger). Thread-safe.
class WorkerPool {
 public:
  static constexpr size_t kStackBytes = size_t{8} << 20;

  // Starts `n` threads; false if a thread cannot be created.
  bool Start(int n) {
    for (int i = 0; i < n; ++i) {
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setstacksize(&attr, kStackBytes);
      pthread_t t;
      int rc = pthread_create(&t, &attr, &WorkerPool::Main, this);
      pthread_attr_destroy(&attr);
      if (rc != 0) return false;
      threads_.push_back(t);
    }
    return true;
  }
  // Queues `task`; false (and `task` dropped) once Shutdown has begun.
  bool Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return false;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }
  // Runs the tasks already queued, then joins the threads. Idempotent.
  void Shutdown() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (pthread_t t : threads_) pthread_join(t, nullptr);
    threads_.clear();
  }

 private:
  static void* Main(void* self) {
    static_cast<WorkerPool*>(self)->Loop();
    return nullptr;
  }
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<pthread_t> threads_;
};

class Connection;

}  // namespace

// The server's state shared by its connections.
struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  WorkerPool workers;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  // Open connections, overall and per client address. Declared before the
  // I/O objects: connections release their counts when the last handler
  // holding them is destroyed.
  std::mutex conn_mu;
  size_t open = 0;                                                  // guarded by conn_mu
  std::unordered_map<std::string, size_t> per_client;               // guarded by conn_mu
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;  // guarded by conn_mu

  net::io_context ioc{options.io_threads};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> io_threads;

  Impl(HttpServerOptions o, HttpHandler h) : options(std::move(o)), handler(std::move(h)) {}

  // Counts a new connection from `addr`; false when a cap is reached.
  bool Admit(const std::string& addr) {
    std::lock_guard<std::mutex> l(conn_mu);
    size_t& n = per_client[addr];
    if (open >= options.max_connections || n >= options.max_connections_per_client) {
      if (n == 0) per_client.erase(addr);
      return false;
    }
    ++open;
    ++n;
    return true;
  }
  // Registers an admitted connection (so Stop can close it); false when the
  // server is stopping.
  bool Register(Connection* c, std::weak_ptr<Connection> w) {
    std::lock_guard<std::mutex> l(conn_mu);
    live.emplace(c, std::move(w));
    return !stopping;
  }
  void Release(Connection* c, const std::string& addr) {
    std::lock_guard<std::mutex> l(conn_mu);
    live.erase(c);
    --open;
    auto it = per_client.find(addr);
    if (it != per_client.end() && --it->second == 0) per_client.erase(it);
  }

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

namespace {

// One client connection: reads requests one after the other (keep-alive),
// hands each to the worker pool, and writes its response. Lives as long as
// an operation on it is pending (shared_ptr held by the handlers). All socket
// operations run on the connection's strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl* server, tcp::socket socket, std::string addr)
      : server_(server), opt_(server->options), stream_(std::move(socket)), addr_(std::move(addr)) {}
  ~Connection() { server_->Release(this, addr_); }

  void Start() {
    if (!server_->Register(this, weak_from_this())) return Close();
    ReadHeader();
  }

  net::any_io_executor executor() { return stream_.get_executor(); }
  // Closes the socket: pending operations end with an error. On the strand.
  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxDrainBytes = 256 << 10;

  // Waits up to the keep-alive timeout for the next request's first bytes.
  void WaitForNextRequest() {
    if (server_->stopping) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined: already here
    stream_.expires_after(std::chrono::milliseconds(opt_.keep_alive_timeout_ms));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  // Reads a request's header within the header deadline (total, from now).
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(opt_.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(opt_.max_body_bytes);
    req_ = HttpRequest();
    if (buffer_.size() > 0) {
      // Fast path (keep-alive): the whole header is often here already.
      beast::error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec ? ec != http::error::need_more : parser_->is_header_done()) return OnHeader(ec);
    }
    stream_.expires_after(std::chrono::milliseconds(opt_.header_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnHeader(ec);
    });
  }

  void OnHeader(beast::error_code ec) {
    start_ = Clock::now();
    if (ec == http::error::header_limit) {
      return Refuse(HttpResponse::Error(431, "header_too_large",
                                        "the request header is larger than the limit of " +
                                            std::to_string(opt_.max_header_bytes) + " bytes"));
    }
    if (ec == http::error::body_limit) return RefuseBodyTooLarge();
    if (ec) {
      // Timeout, the client went away, or not HTTP.
      if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == net::error::eof ||
          ec == net::error::operation_aborted || ec == net::error::connection_reset) {
        return Close();
      }
      return Refuse(HttpResponse::Error(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }
    auto& msg = parser_->get();
    std::string_view target(msg.target().data(), msg.target().size());
    if (target.size() > opt_.max_target_bytes) {
      return Refuse(HttpResponse::Error(414, "target_too_long",
                                        "the request target is longer than the limit of " +
                                            std::to_string(opt_.max_target_bytes) + " bytes"));
    }
    size_t count = 0;
    for (const auto& f : msg) {
      if (++count > opt_.max_headers) {
        return Refuse(HttpResponse::Error(431, "too_many_headers",
                                          "the request has more than " + std::to_string(opt_.max_headers) +
                                              " header fields"));
      }
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, inserted] = req_.headers.emplace(name, std::string(f.value()));
      if (!inserted) {
        if (IsSingletonHeader(name)) {
          return Refuse(HttpResponse::Error(400, "duplicate_header",
                                            "the header '" + name + "' is sent more than once (ambiguous)"));
        }
        it->second += ", ";
        it->second += std::string_view(f.value().data(), f.value().size());
      }
    }
    req_.method = std::string(msg.method_string());
    req_.raw_target = std::string(target);
    size_t qm = target.find('?');
    req_.path = UrlDecode(target.substr(0, qm), false);
    if (qm != std::string_view::npos) ParseQuery(target.substr(qm + 1), &req_.query);
    req_.remote_addr = addr_;
    keep_alive_ = msg.keep_alive();
    if (auto len = parser_->content_length(); len && *len > opt_.max_body_bytes) return RefuseBodyTooLarge();
    if (opt_.screen) {
      std::optional<HttpResponse> early;
      try {
        early = opt_.screen(req_);
      } catch (...) {
        early = HttpResponse::Error(500, "internal", "unexpected error while screening the request");
      }
      if (early) return Refuse(std::move(*early));
    }
    if (parser_->is_done()) return Dispatch();
    if (beast::iequals(msg[http::field::expect], "100-continue")) {
      write_buf_ = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(std::chrono::milliseconds(opt_.send_timeout_ms));
      net::async_write(stream_, net::buffer(write_buf_), [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  // Reads the body within the body deadline (total, from now).
  void ReadBody() {
    stream_.expires_after(std::chrono::milliseconds(opt_.body_timeout_ms));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->RefuseBodyTooLarge();
      if (ec) return self->Close();
      self->Dispatch();
    });
  }

  void RefuseBodyTooLarge() {
    Refuse(HttpResponse::Error(413, "body_too_large",
                               "request body is larger than the limit of " + std::to_string(opt_.max_body_bytes) +
                                   " bytes"));
  }

  // Answers `resp` without running the handler and closes the connection
  // (whatever is left of the request is not read).
  void Refuse(HttpResponse resp) {
    keep_alive_ = false;
    resp.stream = nullptr;
    status_ = resp.status;
    std::string out = ResponseHead(resp, false);
    if (req_.method != "HEAD") out += resp.body;
    Send(std::move(out), true);
  }

  // Runs the handler on the worker pool.
  void Dispatch() {
    req_.body = std::move(parser_->get().body());
    parser_.reset();
    stream_.expires_never();
    if (server_->stopping || !server_->workers.Submit([self = shared_from_this()] { self->RunHandler(); })) Close();
  }

  // On a worker thread.
  void RunHandler() {
    HttpResponse resp;
    try {
      resp = server_->handler(req_);
    } catch (const std::exception& e) {
      resp = HttpResponse::Error(500, "internal", std::string("unexpected error: ") + e.what());
    } catch (...) {
      resp = HttpResponse::Error(500, "internal", "unexpected error");
    }
    status_ = resp.status;
    if (server_->stopping) keep_alive_ = false;
    if (!resp.stream) {
      std::string out = ResponseHead(resp, keep_alive_);
      if (req_.method != "HEAD") out += resp.body;
      net::post(stream_.get_executor(), [self = shared_from_this(), out = std::move(out)]() mutable {
        self->Send(std::move(out), !self->keep_alive_);
      });
      return;
    }
    bool ok = WriteFromWorker(ResponseHead(resp, keep_alive_));
    if (ok) {
      ChunkWriter write = [this](std::string_view data) {
        if (data.empty()) return true;
        char size[24];
        snprintf(size, sizeof size, "%zx\r\n", data.size());
        std::string chunk;
        chunk.reserve(data.size() + 32);
        chunk += size;
        chunk += data;
        chunk += "\r\n";
        return WriteFromWorker(std::move(chunk));
      };
      Status s;
      try {
        s = resp.stream(write);
      } catch (const std::exception& e) {
        s = InternalError(e.what());
      } catch (...) {
        s = InternalError("unexpected error");
      }
      // An error mid-stream cannot change the status line any more: end the
      // body without the terminating chunk so the client sees it truncated.
      ok = s.ok() && WriteFromWorker("0\r\n\r\n");
    }
    bool keep = ok && keep_alive_;
    net::post(stream_.get_executor(), [self = shared_from_this(), keep] {
      self->Log();
      if (keep) return self->WaitForNextRequest();
      self->CloseGracefully();
    });
  }

  // Writes `data` from a worker thread: the write runs on the strand, the
  // worker waits for it (at most the send timeout). False on error/timeout.
  bool WriteFromWorker(std::string data) {
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> result = done->get_future();
    net::post(stream_.get_executor(), [self = shared_from_this(), data = std::move(data), done]() mutable {
      self->write_buf_ = std::move(data);
      self->stream_.expires_after(std::chrono::milliseconds(self->opt_.send_timeout_ms));
      net::async_write(self->stream_, net::buffer(self->write_buf_), [done](beast::error_code ec, size_t) {
        done->set_value(!ec);
      });
    });
    try {
      return result.get();
    } catch (const std::future_error&) {
      return false;  // the I/O loop went away (server stopped)
    }
  }

  // On the strand: writes `out` within the send timeout, then reads the next
  // request or closes.
  void Send(std::string out, bool close_after) {
    write_buf_ = std::move(out);
    stream_.expires_after(std::chrono::milliseconds(opt_.send_timeout_ms));
    net::async_write(stream_, net::buffer(write_buf_),
                     [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                       self->Log();
                       if (ec) return self->Close();
                       if (close_after || self->server_->stopping) return self->CloseGracefully();
                       self->WaitForNextRequest();
                     });
  }

  void Log() {
    if (!opt_.request_log || status_ == 0) return;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    try {
      opt_.request_log(req_, status_, micros);
    } catch (...) {
    }
    status_ = 0;
  }

  // Ends the connection after a response: stops sending, then reads and
  // discards what the client still sends (a refused body, at most
  // kMaxDrainBytes, for at most a second) so closing does not reset the
  // connection before the client has read the response.
  void CloseGracefully() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(std::chrono::seconds(1));
    Drain();
  }
  void Drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxDrainBytes) return self->Close();
      self->buffer_.commit(n);
      self->Drain();
    });
  }

  HttpServer::Impl* server_;
  const HttpServerOptions& opt_;
  beast::tcp_stream stream_;
  std::string addr_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest req_;
  bool keep_alive_ = true;
  int status_ = 0;  // of the response being written (0: none to log)
  Clock::time_point start_;
  std::string write_buf_;
  size_t drained_ = 0;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // Out of file descriptors or similar: try again shortly instead of
    // spinning.
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e && !stopping) Accept();
    });
    return;
  }
  beast::error_code e;
  auto remote = socket.remote_endpoint(e);
  std::string addr = e ? std::string("unknown") : remote.address().to_string();
  if (!Admit(addr)) {
    // Over a cap: a best-effort 503 without waiting for the client, then
    // close at once.
    HttpResponse r = HttpResponse::Error(503, "too_many_connections",
                                         "too many open connections (from " + addr + " or in all); try again later");
    std::string out = ResponseHead(r, false) + r.body;
    (void)::send(socket.native_handle(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    socket.close(e);
  } else {
    socket.set_option(tcp::no_delay(true), e);
    std::make_shared<Connection>(this, std::move(socket), std::move(addr))->Start();
  }
  Accept();
}

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string HttpRequest::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::vector<std::string> HttpRequest::QueryAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [b, e] = query.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Error(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", {{"code", code}, {"message", message}}}};
  return Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse HttpResponse::FromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return Json(200, "{}");
    case StatusCode::kInvalidArgument: return Error(400, "invalid_argument", status.message());
    case StatusCode::kNotFound: return Error(404, "not_found", status.message());
    case StatusCode::kAlreadyExists: return Error(409, "already_exists", status.message());
    case StatusCode::kFailedPrecondition: return Error(409, "failed_precondition", status.message());
    case StatusCode::kUnauthenticated: return Error(401, "unauthenticated", status.message());
    case StatusCode::kPermissionDenied: return Error(403, "permission_denied", status.message());
    case StatusCode::kResourceExhausted: return Error(429, "resource_exhausted", status.message());
    case StatusCode::kUnavailable: return Error(503, "unavailable", status.message());
    case StatusCode::kCancelled: return Error(409, "cancelled", status.message());
    case StatusCode::kDataLoss: return Error(500, "data_loss", status.message());
    case StatusCode::kInternal: return Error(500, "internal", status.message());
  }
  return Error(500, "internal", status.message());
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgumentError("--port " + std::to_string(options.port) + " is not a TCP port (0-65535)");
  }
  if (options.threads < 1) return InvalidArgumentError("server threads must be at least 1");
  if (options.io_threads < 1) return InvalidArgumentError("server I/O threads must be at least 1");
  if (options.max_connections < 1 || options.max_connections_per_client < 1) {
    return InvalidArgumentError("the connection limits must be at least 1");
  }
  if (options.header_timeout_ms < 1 || options.body_timeout_ms < 1 || options.keep_alive_timeout_ms < 1 ||
      options.send_timeout_ms < 1) {
    return InvalidArgumentError("the server timeouts must be positive");
  }
  if (options.max_header_bytes < 256 || options.max_headers < 1 || options.max_target_bytes < 16) {
    return InvalidArgumentError("the header limits are too small (header bytes >= 256, headers >= 1, target >= 16)");
  }
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  // Never accept more connections than there are file descriptors for.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur > 128 &&
      impl->options.max_connections > nofile.rlim_cur - 64) {
    impl->options.max_connections = nofile.rlim_cur - 64;
  }
  std::string host = options.host;
  std::string shown = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(options.port);
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto endpoints = resolver.resolve(host, std::to_string(options.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) return UnavailableError("cannot listen on " + shown + ": " + ec.message());
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acc = impl->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + shown + ": " + ec.message() + " (is the port in use?)");
  int port = acc.local_endpoint(ec).port();
  if (!impl->workers.Start(options.threads)) {
    impl->workers.Shutdown();
    return UnavailableError("cannot start the server's worker threads");
  }
  impl->Accept();
  for (int i = 0; i < options.io_threads; ++i) impl->io_threads.emplace_back([io = &impl->ioc] { io->run(); });
  auto server = std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
  server->port_ = port;
  return server;
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->stopping = true;
  // Stop accepting; requests in flight finish (their responses are written
  // while the I/O threads still run); then drop the idle connections.
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->accept_retry.cancel();
  });
  impl_->workers.Shutdown();
  // The connections are collected under the lock and closed outside it: the
  // last reference to one may be dropped here, and its destructor takes the
  // lock (Release) — under the lock that deadlocked Stop.
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> l(impl_->conn_mu);
    for (auto& [ptr, weak] : impl_->live) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) net::post(c->executor(), [c] { c->Close(); });
  open.clear();
  // The I/O threads return once every connection has ended.
  for (auto& t : impl_->io_threads) t.join();
  impl_->io_threads.clear();
}

}  // namespace cdp
