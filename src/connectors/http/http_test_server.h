// TestHttpServer: a small real HTTP/1.1 server on a free loopback port, for
// tests of HTTP clients and destinations (the HttpClient's tests, the webhook
// receiver fixture). Each request goes to a handler that says how to answer:
// a response, a response after a delay (to pass a client's timeout), or a
// connection closed without any response. Keep-alive is supported and
// connections are counted. Requests with chunked bodies are answered 411.
// Thread-safe: the handler runs on one thread per connection, so it may be
// called from several threads at once. Stop() (or the destructor) closes
// every connection, also ones in a delay, and joins all threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cdp {

struct TestHttpRequest {
  std::string method;
  std::string target;                         // as sent: path and query
  std::map<std::string, std::string> headers;  // names lower-cased; repeated names joined with ", "
  std::string body;
  int64_t connection_id = 0;  // 1, 2, ... in the order connections were accepted

  std::string Header(const std::string& lower_name) const;
};

struct TestHttpReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added
  std::string body;
  int delay_ms = 0;                   // wait this long before answering
  bool close_without_response = false;  // (after the delay) close the connection, answer nothing
};

struct TestHttpServerOptions {
  size_t max_header_bytes = 64 << 10;  // larger request headers get 431 and the connection is closed
  size_t max_body_bytes = 64 << 20;    // larger bodies get 413 and the connection is closed
};

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpReply(const TestHttpRequest&)>;

  TestHttpServer() = default;
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Listens on 127.0.0.1 on a free port and serves until Stop. Fails when
  // already started or the socket cannot be opened.
  Status Start(Handler handler, TestHttpServerOptions options = {});
  // Idempotent; closes the listening socket and every connection.
  void Stop();

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int64_t connections_accepted() const { return connections_.load(); }
  int64_t requests_handled() const { return requests_.load(); }

 private:
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void AcceptLoop();
  void Serve(int fd, int64_t id);
  // Waits up to `ms` or until Stop; false when stopped.
  bool SleepUnlessStopped(int ms);
  void ReapFinished();  // joins connection threads that ended (under mu_)

  Handler handler_;
  TestHttpServerOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> requests_{0};
  std::mutex mu_;
  std::condition_variable stop_cv_;
  std::set<int> open_fds_;              // GUARDED_BY(mu_)
  std::vector<Connection> threads_;     // GUARDED_BY(mu_)
};

}  // namespace cdp
