// HttpClient: the project's one wrapper of libcurl, an HTTP/1.1 client for
// destinations that speak HTTP (webhooks, ClickHouse's HTTP interface). It
// sends one request at a time with a connect timeout and a total timeout,
// keeps the connection open for the next request to the same host, never
// follows redirects, speaks only http and https, and caps the response body.
// A response with any HTTP status (200, 404, 503, ...) is a result; a request
// that got no complete response (refused, timed out, connection dropped) is an
// error Status whose kind is in last_failure(), so callers can tell "the
// server said no" from "the server did not answer".
// Not thread-safe: one HttpClient per thread (they may run at the same time;
// libcurl's global initialization is done once, thread-safely).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cdp {

struct HttpClientRequest {
  std::string method = "POST";  // GET, POST, PUT, DELETE, HEAD
  std::string url;              // http:// or https:// only
  // Sent as given ("Content-Type", "application/json"); names and values may
  // not hold CR or LF. Expect: 100-continue is never sent, nor a
  // Content-Type the caller did not give.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;             // sent for POST/PUT (also when empty)
  int connect_timeout_ms = 10000;  // TCP + TLS connect
  int timeout_ms = 30000;          // the whole request, connect included
  // Larger response bodies fail the request with kResourceExhausted, unless
  // truncate_body: then the body is cut at the limit and `truncated` is set.
  size_t max_response_bytes = 8u << 20;
  bool truncate_body = false;
  // Checks https certificates (off only for tests against self-signed servers).
  bool verify_tls = true;
};

struct HttpClientResponse {
  int status = 0;  // the HTTP status code
  // Response headers in order, names lower-cased, values trimmed (the last
  // response's only, after any 1xx).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool truncated = false;   // body cut at max_response_bytes (truncate_body only)
  int64_t elapsed_us = 0;   // time from sending to the complete response

  // The first value of header `lower_name`, or "" when absent.
  std::string Header(std::string_view lower_name) const;
  // "HTTP 503: <the body's first 200 bytes, one line>" for messages.
  std::string Summary(size_t max_body_bytes = 200) const;
};

// Why a request got no response. kNone after a successful Send.
enum class HttpFailure : uint8_t {
  kNone = 0,
  kInvalidRequest,    // bad URL or scheme, CR/LF in a header, unknown method (InvalidArgument)
  kConnect,           // name not resolved, connection refused, TLS handshake failed (Unavailable)
  kTimeout,           // connect or total timeout reached (Unavailable)
  kConnectionClosed,  // the server closed or reset the connection before a complete response (Unavailable)
  kResponseTooLarge,  // body over max_response_bytes (ResourceExhausted)
  kOther,             // anything else libcurl reports (Unavailable)
};
std::string_view HttpFailureName(HttpFailure failure);

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and waits for the complete response. Errors (see
  // HttpFailure) name the method and the URL without credentials or query
  // (RedactUrl), and what went wrong; they never include header values.
  StatusOr<HttpClientResponse> Send(const HttpClientRequest& request);
  HttpFailure last_failure() const { return last_failure_; }

 private:
  void* curl_ = nullptr;  // CURL*, reused so keep-alive connections are too
  HttpFailure last_failure_ = HttpFailure::kNone;
};

// "scheme://host[:port]/path" of a URL: no user, password, query or fragment
// (for messages and logs).
std::string RedactUrl(std::string_view url);
// Percent-encodes everything but unreserved characters (RFC 3986), for
// query parameters. (Not UrlEncode: server/http_server.h has that name, and
// cdp links both.)
std::string PercentEncode(std::string_view text);
// Checks that `url` is an absolute http:// or https:// URL with a host;
// InvalidArgument naming `what` (e.g. "connection 'hooks' setting url").
Status ValidateHttpUrl(std::string_view url, std::string_view what);

}  // namespace cdp
