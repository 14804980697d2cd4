#include "connectors/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace cdp {
namespace {

constexpr size_t kMaxUrlBytes = 8192;
constexpr size_t kMaxResponseHeaderBytes = 64 << 10;  // all header lines of one response

// curl_global_init is not thread-safe and must run once before any handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Loopback never goes through a proxy (tests' servers, local receivers); the
// user's no_proxy list is kept.
std::string NoProxyList() {
  std::string list = "localhost,127.0.0.1,::1";
  for (const char* var : {"no_proxy", "NO_PROXY"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      list += ",";
      list += v;
      break;
    }
  }
  return list;
}

struct TransferState {
  HttpClientResponse* response = nullptr;
  size_t max_body = 0;
  bool truncate = false;
  bool too_large = false;     // stopped because the body passed the limit
  bool cut = false;           // stopped on purpose after truncating
  size_t header_bytes = 0;
  bool headers_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<TransferState*>(user);
  size_t n = size * nmemb;
  std::string& body = st->response->body;
  if (body.size() + n > st->max_body) {
    if (st->truncate) {
      body.append(data, st->max_body - body.size());
      st->response->truncated = true;
      st->cut = true;
    } else {
      st->too_large = true;
    }
    return 0;  // ends the transfer (CURLE_WRITE_ERROR)
  }
  body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<TransferState*>(user);
  size_t n = size * nmemb;
  st->header_bytes += n;
  if (st->header_bytes > kMaxResponseHeaderBytes) {
    st->headers_too_large = true;
    return 0;
  }
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {  // a new response (after 1xx or a proxy's CONNECT)
    st->response->headers.clear();
    st->header_bytes = n;
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line ending the header
  st->response->headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                     std::string(Trim(line.substr(colon + 1))));
  return n;
}

HttpFailure Classify(CURLcode code, const TransferState& st) {
  if (st.too_large || st.headers_too_large) return HttpFailure::kResponseTooLarge;
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return HttpFailure::kInvalidRequest;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return HttpFailure::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpFailure::kTimeout;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return HttpFailure::kConnectionClosed;
    default:
      return HttpFailure::kOther;
  }
}

}  // namespace

std::string_view HttpFailureName(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::kNone: return "none";
    case HttpFailure::kInvalidRequest: return "invalid request";
    case HttpFailure::kConnect: return "connect failed";
    case HttpFailure::kTimeout: return "timed out";
    case HttpFailure::kConnectionClosed: return "connection closed without a complete response";
    case HttpFailure::kResponseTooLarge: return "response too large";
    case HttpFailure::kOther: return "transfer failed";
  }
  return "transfer failed";
}

std::string HttpClientResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

std::string HttpClientResponse::Summary(size_t max_body_bytes) const {
  std::string out = "HTTP " + std::to_string(status);
  std::string_view b = Trim(body);
  if (b.empty()) return out;
  std::string line;
  for (char c : b.substr(0, max_body_bytes)) {
    line += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  }
  out += ": " + line;
  if (b.size() > max_body_bytes) out += "...";
  return out;
}

HttpClient::HttpClient() {
  InitCurlOnce();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

StatusOr<HttpClientResponse> HttpClient::Send(const HttpClientRequest& request) {
  last_failure_ = HttpFailure::kInvalidRequest;
  const std::string where = request.method + " " + RedactUrl(request.url);
  if (curl_ == nullptr) {
    last_failure_ = HttpFailure::kOther;
    return InternalError(where + ": libcurl could not create a handle");
  }
  CDP_RETURN_IF_ERROR(ValidateHttpUrl(request.url, "request URL"));
  static const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
  if (std::find(std::begin(kMethods), std::end(kMethods), request.method) == std::end(kMethods)) {
    return InvalidArgumentError(where + ": unsupported HTTP method (GET, POST, PUT, DELETE, HEAD)");
  }
  if (request.connect_timeout_ms <= 0 || request.timeout_ms <= 0) {
    return InvalidArgumentError(where + ": timeouts must be positive");
  }
  CURL* h = static_cast<CURL*>(curl_);
  curl_easy_reset(h);  // keeps the connection cache

  curl_slist* header_list = nullptr;
  struct SlistFree {
    curl_slist** l;
    ~SlistFree() { curl_slist_free_all(*l); }
  } free_headers{&header_list};
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreakOrNul(name) || HasLineBreakOrNul(value) ||
        name.find(':') != std::string::npos) {
      return InvalidArgumentError(where + ": header '" + std::string(Trim(name.substr(0, 64))) +
                                  "' has an invalid name or a line break in its value");
    }
    std::string line = name + ": " + value;
    curl_slist* next = curl_slist_append(header_list, line.c_str());
    if (next == nullptr) return InternalError(where + ": out of memory building headers");
    header_list = next;
  }
  bool has_content_type = false;
  for (const auto& h2 : request.headers) has_content_type |= Lower(h2.first) == "content-type";
  // No 100-continue round trip, and no content type the caller did not set
  // (libcurl would send application/x-www-form-urlencoded with a POST body).
  header_list = curl_slist_append(header_list, "Expect:");
  if (!has_content_type) header_list = curl_slist_append(header_list, "Content-Type:");

  HttpClientResponse response;
  TransferState st;
  st.response = &response;
  st.max_body = request.max_response_bytes;
  st.truncate = request.truncate_body;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const std::string no_proxy = NoProxyList();

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "cdp-export/1");
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method == "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
  }

  CURLcode code = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t total_us = 0;
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
  // Unset so the handle holds no pointer into this frame.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);

  if (code == CURLE_WRITE_ERROR && st.cut && status > 0) code = CURLE_OK;  // truncated on purpose
  if (code != CURLE_OK) {
    last_failure_ = Classify(code, st);
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    switch (last_failure_) {
      case HttpFailure::kInvalidRequest:
        return InvalidArgumentError(where + ": " + detail);
      case HttpFailure::kResponseTooLarge:
        return ResourceExhaustedError(
            where + ": the response (HTTP " + std::to_string(status) + ") is larger than the limit of " +
            std::to_string(st.headers_too_large ? kMaxResponseHeaderBytes : request.max_response_bytes) +
            " bytes" + (st.headers_too_large ? " for its header" : ""));
      case HttpFailure::kTimeout:
        return UnavailableError(where + ": timed out (connect " + std::to_string(request.connect_timeout_ms) +
                                " ms, total " + std::to_string(request.timeout_ms) + " ms): " + detail);
      default:
        return UnavailableError(where + ": " + std::string(HttpFailureName(last_failure_)) + ": " + detail);
    }
  }
  response.status = static_cast<int>(status);
  response.elapsed_us = static_cast<int64_t>(total_us);
  last_failure_ = HttpFailure::kNone;
  return response;
}

std::string RedactUrl(std::string_view url) {
  url = url.substr(0, kMaxUrlBytes);
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "<invalid URL>";
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view path;
  if (authority_end != std::string_view::npos && rest[authority_end] == '/') {
    path = rest.substr(authority_end);
    path = path.substr(0, path.find_first_of("?#"));
  }
  return std::string(url.substr(0, scheme_end)) + "://" + std::string(authority) + std::string(path);
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status ValidateHttpUrl(std::string_view url, std::string_view what) {
  std::string w(what);
  if (url.empty()) return InvalidArgumentError(w + " is empty (expected an http:// or https:// URL)");
  if (url.size() > kMaxUrlBytes) {
    return InvalidArgumentError(w + " is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return InvalidArgumentError(w + " holds a space or a control character");
    }
  }
  std::string lower = Lower(url.substr(0, 8));
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0) {
    return InvalidArgumentError(w + " must start with http:// or https:// (got '" + RedactUrl(url) + "')");
  }
  InitCurlOnce();
  CURLU* u = curl_url();
  if (u == nullptr) return InternalError("libcurl could not parse " + w);
  std::string s(url);
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, s.c_str(), 0);
  char* host = nullptr;
  if (rc == CURLUE_OK) rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  bool has_host = rc == CURLUE_OK && host != nullptr && host[0] != '\0';
  curl_free(host);
  curl_url_cleanup(u);
  if (!has_host) {
    return InvalidArgumentError(w + " is not a valid URL with a host ('" + RedactUrl(url) + "'" +
                                (rc != CURLUE_OK ? std::string(": ") + curl_url_strerror(rc) : "") + ")");
  }
  return Status::Ok();
}

}  // namespace cdp
