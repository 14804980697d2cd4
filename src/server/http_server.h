// HttpServer: a small HTTP/1.1 front on civetweb (keep-alive, a worker
// thread pool). It turns each request into an HttpRequest, calls one
// handler, and writes its HttpResponse; bodies over the limit get 413,
// exceptions escaping the handler get 500 (the server never dies on a
// request). JSON error bodies have the shape {"error":{"code","message"}}.
// Thread-safe: the handler is called from many worker threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct mg_context;
struct mg_connection;

namespace cdp {

struct HttpRequest {
  std::string method;                       // "GET", "POST", ...
  std::string path;                         // URL-decoded path, without the query
  std::multimap<std::string, std::string> query;  // URL-decoded query parameters
  std::map<std::string, std::string> headers;     // names lower-cased
  std::string body;
  std::string remote_addr;
  std::vector<std::string> path_params;     // filled by the router ({name} segments, decoded)

  // The first value of query parameter `name`, or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> QueryAll(const std::string& name) const;
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
  std::string Header(const std::string& lower_name) const;
};

// Writes one chunk of a streamed body; false when the client went away.
using ChunkWriter = std::function<bool(std::string_view)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed with chunked encoding instead of `body`.
  std::function<Status(const ChunkWriter&)> stream;

  static HttpResponse Json(int status, std::string body);
  // {"error":{"code":code,"message":message}}
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
  // Maps a Status code to an HTTP status and an error body.
  static HttpResponse FromStatus(const Status& status);
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0 = any free port (see HttpServer::port())
  int threads = 16;                    // civetweb worker threads (connections served at once)
  size_t max_body_bytes = 4 << 20;     // larger request bodies get 413
  // Called once per request after it is answered (method, path, status,
  // microseconds); empty = no request log.
  std::function<void(const HttpRequest&, int status, int64_t micros)> request_log;
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

class HttpServer {
 public:
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port and serves `handler`. Unavailable naming the
  // address if it cannot listen (e.g. the port is taken).
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler);

  int port() const { return port_; }
  // Stops accepting, finishes requests in flight, joins the workers.
  void Stop();

 private:
  HttpServer(HttpServerOptions options, HttpHandler handler) : options_(std::move(options)), handler_(std::move(handler)) {}
  static int OnRequest(mg_connection* conn, void* self);
  void Serve(mg_connection* conn);

  HttpServerOptions options_;
  HttpHandler handler_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

// Decodes %XX and (when `plus_is_space`) '+'.
std::string UrlDecode(std::string_view s, bool plus_is_space);
std::string UrlEncode(std::string_view s);

}  // namespace cdp
