#include "server/http_server.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>

#include <nlohmann/json.hpp>

// Debian's libcivetweb is built with USE_STACK_SIZE=102400: its worker
// threads get 100 KB stacks, which a request that parses the project YAML or
// evaluates a nested segment overflows (always under AddressSanitizer, whose
// frames are several times larger). civetweb offers no run-time option, so
// the server raises small explicit stack sizes to kMinThreadStack for every
// thread in the process: the executable's definition of
// pthread_attr_setstacksize takes precedence over libc's for civetweb's call
// (the dynamic linker searches the executable first) and forwards to libc's.
// Stacks are reserved, not committed: the cost is address space.
extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  constexpr size_t kMinThreadStack = size_t{8} << 20;
  using Fn = int (*)(pthread_attr_t*, size_t);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  if (real == nullptr) return EINVAL;
  return real(attr, size < kMinThreadStack ? kMinThreadStack : size);
}

namespace cdp {
namespace {

std::once_flag g_civetweb_init;

const char* Reason(int status) {
  switch (status) {
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
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
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

bool WriteAll(mg_connection* conn, std::string_view data) {
  while (!data.empty()) {
    int n = mg_write(conn, data.data(), data.size());
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

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

HttpServer::~HttpServer() { Stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  std::call_once(g_civetweb_init, [] { mg_init_library(0); });
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgumentError("--port " + std::to_string(options.port) + " is not a TCP port (0-65535)");
  }
  if (options.threads < 1) return InvalidArgumentError("server threads must be at least 1");
  std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
  std::string host = options.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  std::string listen = host + ":" + std::to_string(options.port);
  std::string threads = std::to_string(options.threads);
  const char* mg_options[] = {"listening_ports", listen.c_str(),
                              "num_threads", threads.c_str(),
                              "enable_keep_alive", "yes",
                              "keep_alive_timeout_ms", "30000",
                              "request_timeout_ms", "30000",
                              "tcp_nodelay", "1",
                              nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  // civetweb logs its own errors (e.g. bind failures) through this callback;
  // swallowing them here keeps stderr for our request log and errors.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  mg_init_data init;
  std::memset(&init, 0, sizeof(init));
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = mg_options;
  mg_error_data err;
  char errtxt[256] = {0};
  std::memset(&err, 0, sizeof(err));
  err.text = errtxt;
  err.text_buffer_size = sizeof(errtxt);
  server->ctx_ = mg_start2(&init, &err);
  if (server->ctx_ == nullptr) {
    return UnavailableError("cannot listen on " + listen + (errtxt[0] ? std::string(": ") + errtxt : std::string()) +
                            " (is the port in use?)");
  }
  mg_set_request_handler(server->ctx_, "/", &HttpServer::OnRequest, server.get());
  mg_server_port ports[4];
  int n = mg_get_server_ports(server->ctx_, 4, ports);
  server->port_ = n > 0 ? ports[0].port : options.port;
  return server;
}

void HttpServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

int HttpServer::OnRequest(mg_connection* conn, void* self) {
  static_cast<HttpServer*>(self)->Serve(conn);
  return 1;  // handled
}

void HttpServer::Serve(mg_connection* conn) {
  auto start = std::chrono::steady_clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  HttpResponse resp;
  try {
    req.method = info->request_method ? info->request_method : "";
    const char* raw = info->local_uri_raw ? info->local_uri_raw : (info->local_uri ? info->local_uri : "/");
    req.path = UrlDecode(raw, false);
    if (info->query_string) ParseQuery(info->query_string, &req.query);
    req.remote_addr = info->remote_addr;
    for (int i = 0; i < info->num_headers; ++i) {
      std::string name = info->http_headers[i].name ? info->http_headers[i].name : "";
      for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      req.headers[name] = info->http_headers[i].value ? info->http_headers[i].value : "";
    }
    bool too_large = false;
    if (info->content_length > static_cast<long long>(options_.max_body_bytes)) {
      too_large = true;
    } else if (info->content_length != 0) {
      char buf[16384];
      for (;;) {
        int n = mg_read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        req.body.append(buf, static_cast<size_t>(n));
        if (req.body.size() > options_.max_body_bytes) {
          too_large = true;
          break;
        }
      }
    }
    if (too_large) {
      resp = HttpResponse::Error(413, "body_too_large",
                                 "request body is larger than the limit of " + std::to_string(options_.max_body_bytes) +
                                     " bytes");
      resp.headers.emplace_back("Connection", "close");
    } else {
      resp = handler_(req);
    }
  } catch (const std::exception& e) {
    resp = HttpResponse::Error(500, "internal", std::string("unexpected error: ") + e.what());
  } catch (...) {
    resp = HttpResponse::Error(500, "internal", "unexpected error");
  }

  std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + Reason(resp.status) + "\r\n";
  head += "Content-Type: " + resp.content_type + "\r\n";
  for (const auto& [k, v] : resp.headers) head += k + ": " + v + "\r\n";
  head += "Cache-Control: no-store\r\n";
  if (resp.stream) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    if (WriteAll(conn, head)) {
      ChunkWriter write = [conn](std::string_view data) {
        if (data.empty()) return true;
        return mg_send_chunk(conn, data.data(), static_cast<unsigned>(data.size())) > 0;
      };
      Status s;
      try {
        s = resp.stream(write);
      } catch (const std::exception& e) {
        s = InternalError(e.what());
      }
      // An error mid-stream cannot change the status line any more: end the
      // body without the terminating chunk so the client sees it truncated.
      if (s.ok()) mg_send_chunk(conn, "", 0);
    }
  } else {
    head += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n\r\n";
    if (req.method == "HEAD") {
      WriteAll(conn, head);
    } else {
      head += resp.body;
      WriteAll(conn, head);
    }
  }
  if (options_.request_log) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    options_.request_log(req, resp.status, micros);
  }
}

}  // namespace cdp
