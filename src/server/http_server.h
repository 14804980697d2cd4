// HttpServer: a small HTTP/1.1 front on Boost.Beast/Asio. A few I/O threads
// accept connections and read requests asynchronously, so a slow or idle
// client holds no worker thread; each complete request runs its handler on a
// worker pool, and the response is written back asynchronously. Every phase
// has a bound: a total deadline for a request's header and for its body (not
// per read, so trickled bytes do not extend it), a keep-alive idle timeout, a
// send timeout, header size/count and target length limits, a body limit
// checked from Content-Length before the body is read, and connection caps
// overall and per client address. Bodies over the limit get 413, exceptions
// escaping the handler 500 (the server never dies on a request). JSON error
// bodies have the shape {"error":{"code","message"}}.
// Thread-safe: the handler is called from many worker threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

struct HttpRequest {
  std::string method;                       // "GET", "POST", ...
  std::string path;                         // URL-decoded path, without the query
  std::string raw_target;                   // the request target as sent (not decoded)
  std::multimap<std::string, std::string> query;  // URL-decoded query parameters
  // Names lower-cased; a header sent several times has its values joined
  // with ", " (Authorization, Content-Length, Content-Type, Host and
  // Transfer-Encoding sent twice are refused with 400 before the handler).
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_addr;
  std::vector<std::string> path_params;     // filled by the router ({name} segments, decoded)

  // The first value of query parameter `name`, or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> QueryAll(const std::string& name) const;
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
  std::string Header(const std::string& lower_name) const;
};

// Writes one chunk of a streamed body; false when the client went away or
// did not take the chunk within the send timeout.
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
  int threads = 16;                    // worker threads running handlers (requests handled at once)
  int io_threads = 2;                  // threads reading and writing sockets (asynchronously)
  size_t max_body_bytes = 4 << 20;     // larger request bodies get 413 (from Content-Length, before reading)
  size_t max_header_bytes = 16 << 10;  // request line + headers; larger gets 431
  size_t max_headers = 64;             // more header fields get 431
  size_t max_target_bytes = 8 << 10;   // longer request targets (path + query) get 414
  int header_timeout_ms = 10000;       // total time to receive a request's header, from its first byte
  int body_timeout_ms = 30000;         // total time to receive a request's body
  int keep_alive_timeout_ms = 30000;   // idle time allowed between requests on a connection
  int send_timeout_ms = 30000;         // time for the client to take a response (each chunk when streamed)
  size_t max_connections = 2048;       // open connections; more are answered 503 and closed at once
  size_t max_connections_per_client = 256;  // open connections per client address; likewise
  // Called on an I/O thread with the request's method, path, query and
  // headers before its body is read. A response returned is sent at once and
  // the connection closed (the body is never read); nullopt lets the request
  // through. Must be quick and must not block (no disk, no locks held long).
  std::function<std::optional<HttpResponse>(const HttpRequest&)> screen;
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

  // Listens on host:port and serves `handler`. InvalidArgument for options
  // out of range; Unavailable naming the address if it cannot listen (e.g.
  // the port is taken).
  static StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler);

  int port() const { return port_; }
  // Stops accepting, finishes requests in flight, closes the connections and
  // joins the threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// Decodes %XX and (when `plus_is_space`) '+'.
std::string UrlDecode(std::string_view s, bool plus_is_space);
std::string UrlEncode(std::string_view s);

}  // namespace cdp
