#include "connectors/http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "connectors/http/http_test_server.h"

namespace cdp {
namespace {

// Answers by path: /echo returns the method, a header and the body; /status/N
// answers N; /slow waits 3 s; /drop closes without answering; /big sends
// 100,000 bytes; /headers sets response headers.
TestHttpReply Route(const TestHttpRequest& req) {
  TestHttpReply r;
  if (req.target.rfind("/echo", 0) == 0) {
    r.body = req.method + "|" + req.target + "|" + req.Header("x-test") + "|" + req.Header("content-type") + "|" +
             req.body;
  } else if (req.target.rfind("/status/", 0) == 0) {
    r.status = std::stoi(req.target.substr(8));
    r.body = "status " + req.target.substr(8) + "\nsecond line";
  } else if (req.target == "/slow") {
    r.delay_ms = 3000;
    r.body = "late";
  } else if (req.target == "/drop") {
    r.close_without_response = true;
  } else if (req.target == "/big") {
    r.body.assign(100000, 'x');
  } else if (req.target == "/headers") {
    r.headers = {{"Retry-After", " 7 "}, {"X-Multi", "a"}};
  } else {
    r.status = 404;
  }
  return r;
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start(Route).ok()); }
  HttpClientRequest Req(const std::string& method, const std::string& path) {
    HttpClientRequest r;
    r.method = method;
    r.url = server_.base_url() + path;
    return r;
  }
  TestHttpServer server_;
};

TEST_F(HttpClientTest, PostSendsHeadersAndBodyAndReadsTheResponse) {
  HttpClient client;
  HttpClientRequest req = Req("POST", "/echo?a=1");
  req.headers = {{"X-Test", "hello"}, {"Content-Type", "application/json"}};
  req.body = "{\"k\":1}";
  auto resp = client.Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().message();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "POST|/echo?a=1|hello|application/json|{\"k\":1}");
  EXPECT_EQ(resp->Header("content-length"), std::to_string(resp->body.size()));
  EXPECT_EQ(client.last_failure(), HttpFailure::kNone);
}

TEST_F(HttpClientTest, GetAndPutAndDeleteUseTheirMethods) {
  HttpClient client;
  auto get = client.Send(Req("GET", "/echo"));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "GET|/echo|||");
  HttpClientRequest put = Req("PUT", "/echo");
  put.body = "x";
  auto p = client.Send(put);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->body, "PUT|/echo|||x");
  auto d = client.Send(Req("DELETE", "/echo"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->body, "DELETE|/echo|||");
}

TEST_F(HttpClientTest, HttpErrorStatusesAreResultsNotErrors) {
  HttpClient client;
  for (int status : {400, 404, 429, 500, 503}) {
    auto resp = client.Send(Req("POST", "/status/" + std::to_string(status)));
    ASSERT_TRUE(resp.ok()) << status;
    EXPECT_EQ(resp->status, status);
    EXPECT_EQ(client.last_failure(), HttpFailure::kNone);
  }
  auto resp = client.Send(Req("GET", "/status/503"));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->Summary(), "HTTP 503: status 503 second line");
  EXPECT_EQ(resp->Summary(4), "HTTP 503: stat...");
}

TEST_F(HttpClientTest, ResponseHeadersAreLowerCasedAndTrimmed) {
  HttpClient client;
  auto resp = client.Send(Req("GET", "/headers"));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->Header("retry-after"), "7");
  EXPECT_EQ(resp->Header("x-multi"), "a");
  EXPECT_EQ(resp->Header("absent"), "");
}

TEST_F(HttpClientTest, TimeoutIsAnUnavailableErrorOfKindTimeout) {
  HttpClient client;
  HttpClientRequest req = Req("POST", "/slow");
  req.timeout_ms = 200;
  auto resp = client.Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client.last_failure(), HttpFailure::kTimeout);
  EXPECT_NE(resp.status().message().find("timed out"), std::string::npos) << resp.status().message();
  EXPECT_NE(resp.status().message().find("POST http://127.0.0.1:"), std::string::npos);
  // The same client works again afterwards.
  auto ok = client.Send(Req("GET", "/echo"));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(client.last_failure(), HttpFailure::kNone);
}

TEST_F(HttpClientTest, ConnectionClosedWithoutResponseIsDistinguished) {
  HttpClient client;
  auto resp = client.Send(Req("POST", "/drop"));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client.last_failure(), HttpFailure::kConnectionClosed) << resp.status().message();
}

TEST_F(HttpClientTest, ConnectionRefusedIsAConnectFailure) {
  TestHttpServer other;
  ASSERT_TRUE(other.Start(Route).ok());
  std::string url = other.base_url() + "/echo";
  other.Stop();  // nothing listens on that port any more
  HttpClient client;
  HttpClientRequest req;
  req.url = url;
  auto resp = client.Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client.last_failure(), HttpFailure::kConnect) << resp.status().message();
}

TEST_F(HttpClientTest, BodyOverTheLimitFailsOrIsTruncatedOnRequest) {
  HttpClient client;
  HttpClientRequest req = Req("GET", "/big");
  req.max_response_bytes = 1000;
  auto resp = client.Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(client.last_failure(), HttpFailure::kResponseTooLarge);
  EXPECT_NE(resp.status().message().find("1000 bytes"), std::string::npos) << resp.status().message();

  req.truncate_body = true;
  auto cut = client.Send(req);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_EQ(cut->status, 200);
  EXPECT_TRUE(cut->truncated);
  EXPECT_EQ(cut->body, std::string(1000, 'x'));

  req.max_response_bytes = 200000;
  auto whole = client.Send(req);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->truncated);
  EXPECT_EQ(whole->body.size(), 100000u);
}

TEST_F(HttpClientTest, KeepsTheConnectionForTheNextRequest) {
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    auto resp = client.Send(Req("POST", "/echo"));
    ASSERT_TRUE(resp.ok());
  }
  EXPECT_EQ(server_.connections_accepted(), 1);
  EXPECT_EQ(server_.requests_handled(), 5);
}

TEST_F(HttpClientTest, BadRequestsAreRefusedBeforeSending) {
  HttpClient client;
  HttpClientRequest req = Req("POST", "/echo");
  req.headers = {{"X-Test", "a\r\nX-Injected: 1"}};
  auto r1 = client.Send(req);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r1.status().message().find("X-Injected"), std::string::npos) << "header values stay out of messages";

  req = Req("PATCH", "/echo");
  EXPECT_EQ(client.Send(req).status().code(), StatusCode::kInvalidArgument);
  req = Req("POST", "/echo");
  req.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(client.Send(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client.last_failure(), HttpFailure::kInvalidRequest);
  EXPECT_EQ(server_.requests_handled(), 0);
}

TEST_F(HttpClientTest, ClientsOnSeveralThreadsWorkAtOnce) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client;
      for (int i = 0; i < 10; ++i) {
        HttpClientRequest req = Req("POST", "/echo");
        req.body = std::to_string(t * 100 + i);
        auto resp = client.Send(req);
        if (resp.ok() && resp->body == "POST|/echo|||" + req.body) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST(HttpUrlTest, RedactUrlDropsCredentialsQueryAndFragment) {
  EXPECT_EQ(RedactUrl("https://user:secret@example.com:8443/a/b?password=x#f"), "https://example.com:8443/a/b");
  EXPECT_EQ(RedactUrl("http://example.com?q=1"), "http://example.com");
  EXPECT_EQ(RedactUrl("http://h/p"), "http://h/p");
  EXPECT_EQ(RedactUrl("not a url"), "<invalid URL>");
}

TEST(HttpUrlTest, PercentEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("SELECT 1, 'a'&b=c~_.-"), "SELECT%201%2C%20%27a%27%26b%3Dc~_.-");
  EXPECT_EQ(PercentEncode("é"), "%C3%A9");
}

TEST(HttpUrlTest, ValidateHttpUrlNamesWhatIsWrong) {
  EXPECT_TRUE(ValidateHttpUrl("http://127.0.0.1:8080/hook", "url").ok());
  EXPECT_TRUE(ValidateHttpUrl("HTTPS://example.com", "url").ok());
  Status s = ValidateHttpUrl("ftp://example.com", "connection 'hooks' setting url");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("connection 'hooks' setting url"), std::string::npos);
  EXPECT_NE(s.message().find("http://"), std::string::npos);
  EXPECT_FALSE(ValidateHttpUrl("", "url").ok());
  EXPECT_FALSE(ValidateHttpUrl("http://", "url").ok());
  EXPECT_FALSE(ValidateHttpUrl("http://a b/", "url").ok());
  EXPECT_FALSE(ValidateHttpUrl("example.com/hook", "url").ok());
  EXPECT_FALSE(ValidateHttpUrl("http://h/" + std::string(9000, 'a'), "url").ok());
  // Credentials never appear in the message.
  Status c = ValidateHttpUrl("gopher://u:topsecret@h/", "url");
  EXPECT_EQ(c.message().find("topsecret"), std::string::npos) << c.message();
}

}  // namespace
}  // namespace cdp
