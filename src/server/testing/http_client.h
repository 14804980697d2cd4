// A minimal blocking HTTP/1.1 client for tests and benchmarks of the REST
// server: one request per connection (Connection: close), Content-Length
// or chunked responses. Loopback use only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

namespace cdp::testing {

struct HttpResult {
  int status = 0;                              // 0: connection failed
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// The header fields of a response whose head is raw[0, head_end) (the status
// line first), names lower-cased.
inline std::map<std::string, std::string> ParseHeaderLines(const std::string& raw, size_t head_end) {
  std::map<std::string, std::string> headers;
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      headers[name] = line.substr(v);
    }
    pos = eol + 2;
  }
  return headers;
}

inline HttpResult HttpCall(int port, const std::string& method, const std::string& target,
                           const std::string& key = "", const std::string& body = "",
                           const std::map<std::string, std::string>& extra_headers = {}) {
  HttpResult out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
  for (const auto& [k, v] : extra_headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) return out;
  out.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
  out.headers = ParseHeaderLines(raw, head_end);
  std::string rest = raw.substr(head_end + 4);
  if (out.headers["transfer-encoding"] == "chunked") {
    size_t p = 0;
    while (p < rest.size()) {
      size_t eol = rest.find("\r\n", p);
      if (eol == std::string::npos) break;
      size_t n = std::stoul(rest.substr(p, eol - p), nullptr, 16);
      if (n == 0) break;
      out.body += rest.substr(eol + 2, n);
      p = eol + 2 + n + 2;
    }
  } else {
    out.body = rest;
  }
  return out;
}

}  // namespace cdp::testing
