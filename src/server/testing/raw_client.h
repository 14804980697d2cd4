// Raw TCP clients for tests of the HTTP front: connect from a chosen
// loopback source address, send partial requests byte by byte, read one
// response with a receive timeout. Loopback use only; every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <string>
#include <string_view>

#include "server/testing/http_client.h"

namespace cdp::testing {

// A connected socket to 127.0.0.1:port from `source` (any address of
// 127.0.0.0/8), with a receive timeout; -1 on failure.
inline int ConnectFrom(int port, const char* source = "127.0.0.1", int recv_timeout_ms = 5000) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_port = 0;
  inet_pton(AF_INET, source, &src.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct RawResponse {
  int status = 0;  // 0: no response (timeout or closed first)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool closed = false;  // the server closed the connection after it
};

// Reads one response (Content-Length or chunked body; none for a response
// to HEAD) within the socket's receive timeout. Leftover bytes of a next
// response are dropped.
inline RawResponse ReadResponse(int fd, bool head = false) {
  RawResponse out;
  std::string raw;
  char buf[16384];
  auto fill = [&]() {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      out.closed = n == 0;
      return false;
    }
    raw.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t head_end;
  while ((head_end = raw.find("\r\n\r\n")) == std::string::npos) {
    if (raw.size() > (1 << 20) || !fill()) return out;
  }
  if (raw.compare(0, 5, "HTTP/") != 0) return out;
  int status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  out.headers = ParseHeaderLines(raw, head_end);
  std::string rest = raw.substr(head_end + 4);
  if (head) {
    // No body follows.
  } else if (out.headers.count("content-length")) {
    size_t len = std::stoul(out.headers["content-length"]);
    while (rest.size() < len) {
      raw.clear();
      if (!fill()) return out;
      rest += raw;
    }
    out.body = rest.substr(0, len);
  } else if (out.headers["transfer-encoding"] == "chunked") {
    for (int guard = 0; guard < 100000; ++guard) {
      size_t p = 0;
      std::string body;
      bool done = false;
      while (p < rest.size()) {
        size_t eol = rest.find("\r\n", p);
        if (eol == std::string::npos) break;
        size_t n = std::stoul(rest.substr(p, eol - p), nullptr, 16);
        if (n == 0) {
          done = rest.size() >= eol + 4;
          break;
        }
        if (rest.size() < eol + 2 + n + 2) break;
        body += rest.substr(eol + 2, n);
        p = eol + 2 + n + 2;
      }
      if (done) {
        out.body = body;
        break;
      }
      raw.clear();
      if (!fill()) return out;
      rest += raw;
    }
  }
  out.status = status;
  return out;
}

// True when the peer has closed `fd` (EOF or reset) within `wait_ms`.
inline bool PeerClosed(int fd, int wait_ms) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, wait_ms) <= 0) return false;
  char buf[4096];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
  return false;
}

}  // namespace cdp::testing
