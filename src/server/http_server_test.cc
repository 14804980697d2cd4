// Tests of the HTTP front (HttpServer) against raw sockets on loopback: slow
// clients hold no worker and are cut off by total deadlines, connection
// caps per address, header/target/body limits answered before the body is
// read, keep-alive, chunked streaming, exceptions, duplicate credentials.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "server/testing/raw_client.h"

namespace cdp {
namespace {

using testing::ConnectFrom;
using testing::PeerClosed;
using testing::RawResponse;
using testing::ReadResponse;
using testing::SendAll;

// Closes the descriptors it holds.
struct Sockets {
  std::vector<int> fds;
  ~Sockets() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts a server whose handler answers {"ok":true} (and counts calls);
  // /throw throws, /stream streams `stream_chunks_` chunks of 64 KB.
  void StartServer(HttpServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto s = HttpServer::Start(options, [this](HttpRequest& req) {
      ++calls_;
      if (req.path == "/throw") throw std::runtime_error("boom");
      if (req.path == "/stream") {
        HttpResponse r;
        r.content_type = "text/plain";
        r.stream = [this](const ChunkWriter& write) {
          std::string chunk(64 << 10, 'x');
          for (int i = 0; i < stream_chunks_; ++i) {
            if (!write(chunk)) {
              stream_failed_ = true;
              return InternalError("client gone");
            }
          }
          return Status::Ok();
        };
        return r;
      }
      return HttpResponse::Json(200, "{\"ok\":true,\"path\":\"" + req.path + "\",\"body\":" +
                                         std::to_string(req.body.size()) + "}");
    });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  // GET `target` on a new connection from `source`: the response.
  RawResponse Get(const std::string& target, const char* source = "127.0.0.1") {
    int fd = ConnectFrom(server_->port(), source);
    if (fd < 0) return RawResponse();
    SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    RawResponse r = ReadResponse(fd);
    close(fd);
    return r;
  }
  // Sends `request` on a new connection and reads one response.
  RawResponse Exchange(const std::string& request, bool head = false) {
    int fd = ConnectFrom(server_->port());
    if (fd < 0) return RawResponse();
    SendAll(fd, request);
    RawResponse r = ReadResponse(fd, head);
    close(fd);
    return r;
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
  int stream_chunks_ = 4;
  std::atomic<bool> stream_failed_{false};
};

// The slowloris attack: hundreds of connections trickling header bytes.
// They hold no worker thread, each address gets at most its cap of
// connections (the rest 503 at once), other addresses are served at once,
// and the trickling connections are closed by the total header deadline
// although every read brings new bytes.
TEST_F(HttpServerTest, SlowlorisHoldsNoWorkerAndIsCutOffByTheHeaderDeadline) {
  HttpServerOptions o;
  o.threads = 2;
  o.io_threads = 1;
  o.header_timeout_ms = 1000;
  o.max_connections_per_client = 50;
  StartServer(o);
  Sockets slow;
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    int fd = ConnectFrom(server_->port(), "127.0.0.1");
    ASSERT_GE(fd, 0);
    SendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: t\r\n");
    slow.fds.push_back(fd);
  }
  // Another address is served at once.
  RawResponse other = Get("/api/v1/health", "127.0.0.2");
  EXPECT_EQ(other.status, 200) << "a client at another address is starved";
  // The capped address gets 503 at once (not a hang).
  RawResponse capped = Get("/api/v1/health", "127.0.0.1");
  EXPECT_EQ(capped.status, 503);
  // The connections over the cap were answered 503 and closed.
  for (int& fd : slow.fds) {
    if (PeerClosed(fd, 0)) {
      ++refused;
      close(fd);
      fd = -1;
    }
  }
  EXPECT_GE(refused, 100);
  // Trickle one byte every 100 ms on the rest: all are closed by the 1 s
  // header deadline (bounded: 100 rounds).
  size_t open = 0;
  for (int round = 0; round < 100; ++round) {
    open = 0;
    for (int& fd : slow.fds) {
      if (fd < 0) continue;
      if (PeerClosed(fd, 0) || !SendAll(fd, "X")) {
        close(fd);
        fd = -1;
        continue;
      }
      ++open;
    }
    if (open == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(open, 0u) << "trickling connections outlived the header deadline";
  // The address is served again.
  EXPECT_EQ(Get("/api/v1/health", "127.0.0.1").status, 200);
  EXPECT_EQ(calls_.load(), 2);  // the two 200s; the 503 never reached a worker
}

TEST_F(HttpServerTest, ABodyTrickledPastTheBodyDeadlineIsCutOff) {
  HttpServerOptions o;
  o.body_timeout_ms = 500;
  StartServer(o);
  int fd = ConnectFrom(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {  // at most ~10 s
    closed = PeerClosed(fd, 0) || !SendAll(fd, "a");
    if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosed) {
  HttpServerOptions o;
  o.keep_alive_timeout_ms = 300;
  StartServer(o);
  int fd = ConnectFrom(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(ReadResponse(fd).status, 200);
  EXPECT_TRUE(PeerClosed(fd, 10000));
  close(fd);
}

TEST_F(HttpServerTest, TooManyConnectionsInAllGet503) {
  HttpServerOptions o;
  o.max_connections = 5;
  StartServer(o);
  Sockets held;
  for (int i = 0; i < 5; ++i) {
    int fd = ConnectFrom(server_->port(), "127.0.0.3");
    ASSERT_GE(fd, 0);
    held.fds.push_back(fd);
  }
  // Let the server accept them before the probe.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Get("/a", "127.0.0.4").status, 503);
  for (int& fd : held.fds) {
    close(fd);
    fd = -1;
  }
  RawResponse r;
  for (int i = 0; i < 50 && r.status != 200; ++i) {  // the server notices the closes
    r = Get("/a", "127.0.0.4");
    if (r.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  HttpServerOptions o;
  o.max_header_bytes = 4096;
  StartServer(o);
  RawResponse r = Exchange("GET /a HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 431) << r.body;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, TooManyHeadersGet431) {
  HttpServerOptions o;
  o.max_headers = 20;
  StartServer(o);
  std::string req = "GET /a HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 30; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
  RawResponse r = Exchange(req + "\r\n");
  EXPECT_EQ(r.status, 431) << r.body;
  EXPECT_NE(r.body.find("20"), std::string::npos) << r.body;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, LongTargetGets414) {
  HttpServerOptions o;
  o.max_target_bytes = 100;
  StartServer(o);
  EXPECT_EQ(Exchange("GET /" + std::string(200, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n").status, 414);
  EXPECT_EQ(Exchange("GET /a?q=" + std::string(200, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n").status, 414);
  EXPECT_EQ(Get("/" + std::string(50, 'a')).status, 200);
  EXPECT_EQ(calls_.load(), 1);
}

// The limit is checked from Content-Length: 413 comes back although the body
// is never sent.
TEST_F(HttpServerTest, BodyOverTheLimitGets413WithoutReadingIt) {
  HttpServerOptions o;
  o.max_body_bytes = 1000;
  StartServer(o);
  RawResponse r = Exchange("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("1000"), std::string::npos);
  // A chunked body over the limit too (it has no Content-Length).
  std::string chunked = "POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(Exchange(chunked).status, 413);
  EXPECT_EQ(calls_.load(), 0);
  // Within the limit: served.
  RawResponse ok = Exchange("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("\"body\":5"), std::string::npos) << ok.body;
}

// The screen refuses a request from its header: the body is never waited
// for and the handler never runs.
TEST_F(HttpServerTest, TheScreenAnswersBeforeTheBodyIsRead) {
  HttpServerOptions o;
  o.screen = [](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.method == "DELETE") return HttpResponse::Error(405, "method_not_allowed", "no DELETE here");
    return std::nullopt;
  };
  StartServer(o);
  RawResponse r = Exchange("DELETE /a HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_TRUE(r.closed || r.headers["connection"] == "close");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, DuplicateCredentialsAreRefused) {
  StartServer(HttpServerOptions());
  RawResponse r = Exchange("GET /a HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer one\r\nAuthorization: Bearer two\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("authorization"), std::string::npos) << r.body;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, KeepAliveStreamingAndExceptions) {
  StartServer(HttpServerOptions());
  int fd = ConnectFrom(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse a = ReadResponse(fd);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("/one"), std::string::npos);
  SendAll(fd, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse b = ReadResponse(fd);
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(b.body.size(), size_t{4} * (64 << 10));
  SendAll(fd, "GET /throw HTTP/1.1\r\nHost: t\r\n\r\n");
  RawResponse c = ReadResponse(fd);
  EXPECT_EQ(c.status, 500);
  EXPECT_NE(c.body.find("boom"), std::string::npos);
  // Two pipelined requests on the same connection.
  SendAll(fd, "GET /p1 HTTP/1.1\r\nHost: t\r\n\r\nGET /p2 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string both;
  char buf[4096];
  for (int i = 0; i < 100 && both.find("/p2") == std::string::npos; ++i) {  // bounded by the receive timeout
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    both.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(both.find("/p1"), std::string::npos) << both;
  EXPECT_LT(both.find("/p1"), both.find("/p2")) << both;
  close(fd);
  RawResponse head = Exchange("HEAD /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

// A client that never reads a streamed response pins its worker only until
// the send timeout: with one worker, later requests are served.
TEST_F(HttpServerTest, ASlowReaderFreesItsWorkerAfterTheSendTimeout) {
  HttpServerOptions o;
  o.threads = 1;
  o.send_timeout_ms = 500;
  StartServer(o);
  stream_chunks_ = 100000;  // 6.5 GB: far more than the socket buffers hold
  int fd = ConnectFrom(server_->port());
  ASSERT_GE(fd, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  SendAll(fd, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
  // Never read: the worker blocks on the full socket, then gives up.
  for (int i = 0; i < 500 && calls_.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(calls_.load(), 1);  // the stream has the only worker
  RawResponse r = Get("/after");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(stream_failed_.load());
  close(fd);
}

TEST_F(HttpServerTest, StopEndsIdleConnections) {
  StartServer(HttpServerOptions());
  int fd = ConnectFrom(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(ReadResponse(fd).status, 200);
  server_->Stop();
  EXPECT_TRUE(PeerClosed(fd, 5000));
  close(fd);
}

TEST(HttpServerOptionsTest, OutOfRangeOptionsAreRefused) {
  HttpServerOptions o;
  o.port = 0;
  o.io_threads = 0;
  EXPECT_EQ(HttpServer::Start(o, [](HttpRequest&) { return HttpResponse(); }).status().code(),
            StatusCode::kInvalidArgument);
  o.io_threads = 1;
  o.header_timeout_ms = 0;
  EXPECT_EQ(HttpServer::Start(o, [](HttpRequest&) { return HttpResponse(); }).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdp
