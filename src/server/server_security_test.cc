// Regression tests of `cdp serve` against hostile requests: paths that try to
// leave the web UI directory, deeply nested or ambiguous JSON bodies on every
// route that takes a body, duplicate credentials, CORS, requests refused
// before their body is read, and the run listing over any stored stats shape.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "access/api_key_store.h"
#include "demo/demo_generator.h"
#include "server/api_server.h"
#include "server/testing/contoso_workspace.h"
#include "server/testing/http_client.h"
#include "server/testing/raw_client.h"
#include "workspace/refresh_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::HttpCall;
using testing::HttpResult;

void WriteFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

class ServerSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cdp_server_sec_XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    ws_dir_ = new std::string((*dir_ / "ws").string());
    {
      auto ws = testing::MakeContosoWorkspace(*dir_, {.customers = 60, .seed = 3});
      ASSERT_TRUE(ws.ok()) << ws.status().ToString();
      // Runs whose stats are not a refresh's object: `cdp segment run`
      // stores an array; damaged rows hold anything.
      for (const char* stats : {R"([{"segment":"A","members":3}])", "not json", R"({"trigger":5,"stages":[{"stage":7}]})",
                                R"({"stages":"none"})", "42"}) {
        auto id = (*ws)->catalog().BeginRun("segment");
        ASSERT_TRUE(id.ok());
        ASSERT_TRUE((*ws)->catalog().FinishRun(*id, "succeeded", "", stats).ok());
        odd_run_ = *id;
      }
      ApiKeyStore keys((*ws)->catalog());
      admin_ = new std::string(keys.Create("sec-admin", Role::kAdmin, "test")->key);
      viewer_ = new std::string(keys.Create("sec-viewer", Role::kViewer, "test")->key);
    }
    // A web UI directory, with symlinks inside it pointing outside, and a
    // secret next to it.
    ui_ = new fs::path(*dir_ / "ui");
    WriteFile(*ui_ / "index.html", "<html>the UI</html>");
    WriteFile(*ui_ / "assets" / "app.js", "console.log('app');");
    WriteFile(*ui_ / "assets" / "a b.css", "body{}");
    WriteFile(*dir_ / "outside" / "secret.txt", "TOPSECRET");
    fs::create_symlink(*dir_ / "outside" / "secret.txt", *ui_ / "leak.txt");
    fs::create_directory_symlink(*dir_ / "outside", *ui_ / "leakdir");
    fs::create_symlink("/etc/passwd", *ui_ / "passwd");
    server_ = Start({"https://app.example"}).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
    delete ws_dir_;
    delete ui_;
    delete admin_;
    delete viewer_;
  }
  static std::unique_ptr<ApiServer> Start(std::vector<std::string> cors) {
    ApiServerOptions options;
    options.http.port = 0;
    options.http.threads = 4;
    options.http.max_body_bytes = 1 << 20;
    options.ui_dir = ui_->string();
    options.run_schedules = false;
    options.log_requests = false;
    options.refresh_threads = 2;
    options.run_date = kDefaultDemoToday;
    options.cors_origins = std::move(cors);
    auto server = ApiServer::Start(*ws_dir_, options);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(*server) : nullptr;
  }
  static HttpResult Call(const std::string& method, const std::string& target, const std::string& key = "",
                         const std::string& body = "", const std::map<std::string, std::string>& headers = {}) {
    return HttpCall(server_->port(), method, target, key, body, headers);
  }
  static std::string ErrorMessage(const HttpResult& r) {
    Json j = Json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("error")) return "";
    return j["error"].value("message", "");
  }

  static fs::path* dir_;
  static fs::path* ui_;
  static std::string* ws_dir_;
  static std::string* admin_;
  static std::string* viewer_;
  static int64_t odd_run_;
  static ApiServer* server_;
};

fs::path* ServerSecurityTest::dir_ = nullptr;
fs::path* ServerSecurityTest::ui_ = nullptr;
std::string* ServerSecurityTest::ws_dir_ = nullptr;
std::string* ServerSecurityTest::admin_ = nullptr;
std::string* ServerSecurityTest::viewer_ = nullptr;
int64_t ServerSecurityTest::odd_run_ = 0;
ApiServer* ServerSecurityTest::server_ = nullptr;

// Finding: `//etc/passwd` and friends were served from outside the UI dir.
TEST_F(ServerSecurityTest, StaticFilesNeverLeaveTheUiDirectory) {
  std::string ws = *ws_dir_;  // an absolute path, e.g. /tmp/cdp_server_sec_x/ws
  std::string ws_enc;
  for (char c : ws) ws_enc += c == '/' ? std::string("%2f") : std::string(1, c);
  const std::vector<std::string> attacks = {
      "//etc/passwd",
      "///etc/passwd",
      "/%2fetc/passwd",
      "/%2Fetc/passwd",
      "/%2F%2Fetc%2Fpasswd",
      "/..%2f..%2f..%2f..%2f..%2fetc/passwd",
      "/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/../../../../../etc/passwd",
      "/assets/../../outside/secret.txt",
      "/./../outside/secret.txt",
      "/%252fetc/passwd",
      "/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
      "/..%252f..%252f..%252fetc/passwd",
      "/..\\..\\..\\..\\etc\\passwd",
      "/%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
      "/..%5c..%5c..%5c..%5cetc/passwd",
      "/%00/etc/passwd",
      "/index.html%00.png",
      "/etc/passwd%00",
      "/leak.txt",
      "/leakdir/secret.txt",
      "/passwd",
      "/" + ws + "/catalog.db",
      "//" + ws.substr(1) + "/catalog.db",
      "/" + ws_enc + "%2fcatalog.db",
      "/../ws/catalog.db",
      "/%2e%2e/ws/catalog.db",
      "/..%2fws%2fcatalog.db",
      "/assets/%2e%2e/%2e%2e/outside/secret.txt",
      "/assets/",
      "/assets",
      "/nonexistent.js",
  };
  for (const std::string& target : attacks) {
    for (const char* method : {"GET", "HEAD"}) {
      HttpResult r = Call(method, target);
      SCOPED_TRACE(std::string(method) + " " + target + " -> " + std::to_string(r.status));
      EXPECT_TRUE(r.status == 400 || r.status == 404) << r.body.substr(0, 200);
      EXPECT_EQ(r.body.find("root:"), std::string::npos);
      EXPECT_EQ(r.body.find("TOPSECRET"), std::string::npos);
      EXPECT_EQ(r.body.find("SQLite format"), std::string::npos);
      EXPECT_EQ(r.body.find("the UI"), std::string::npos);
    }
  }
  // The UI's own files are served.
  HttpResult index = Call("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>the UI</html>");
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(Call("GET", "/index.html").body, "<html>the UI</html>");
  HttpResult js = Call("GET", "/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('app');");
  EXPECT_EQ(Call("GET", "/assets/a%20b.css").body, "body{}");
  EXPECT_EQ(Call("GET", "/api/v1/health").status, 200);
}

// A route for every body-taking route in the table (so a new route is
// covered without editing this test), its {params} filled with "1".
std::string ConcretePath(const std::string& pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      i = pattern.find('}', i);
      out += "1";
    } else {
      out += pattern[i];
    }
  }
  return out;
}

// Finding: a 100,000-level body crashed the server (recursion).
TEST_F(ServerSecurityTest, DeeplyNestedBodiesAreRefusedOnEveryRoute) {
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(50000, '}');
  int routes = 0;
  for (const Route& r : server_->routes()) {
    if (r.method == "GET") continue;
    ++routes;
    std::string target = ConcretePath(r.pattern);
    for (const std::string* body : std::vector<const std::string*>{&arrays, &objects}) {
      HttpResult res = Call(r.method, target, *admin_, *body);
      SCOPED_TRACE(r.method + " " + target);
      EXPECT_TRUE(res.status == 400 || res.status == 413) << res.status << " " << res.body.substr(0, 300);
      EXPECT_NE(ErrorMessage(res).find("64"), std::string::npos) << res.body.substr(0, 300);
      ASSERT_EQ(Call("GET", "/api/v1/health").status, 200) << "the server stopped answering";
    }
  }
  EXPECT_GE(routes, 10);
  // Just over the limit is refused by the dispatcher; at the limit the
  // route parses it (and finds 'name' is not a string).
  auto nested_name = [](int arrays) {
    return "{\"name\":" + std::string(arrays, '[') + std::string(arrays, ']') + ",\"role\":\"viewer\"}";
  };
  HttpResult over = Call("POST", "/api/v1/apikeys", *admin_, nested_name(64));
  EXPECT_EQ(over.status, 400);
  EXPECT_NE(ErrorMessage(over).find("--max-json-depth"), std::string::npos) << over.body;
  HttpResult at = Call("POST", "/api/v1/apikeys", *admin_, nested_name(63));
  EXPECT_EQ(at.status, 400);
  EXPECT_NE(ErrorMessage(at).find("'name' must be a string"), std::string::npos) << at.body;
  // Brackets inside strings do not count.
  std::string in_string = "{\"name\":\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\",\"role\":\"nope\"}";
  HttpResult s = Call("POST", "/api/v1/apikeys", *admin_, in_string);
  EXPECT_EQ(s.status, 400);
  EXPECT_NE(ErrorMessage(s).find("role"), std::string::npos) << s.body;
}

// Finding: 1e999999 answered 500; duplicate keys were silently merged.
TEST_F(ServerSecurityTest, NumbersOutOfRangeAndDuplicateKeysGet400) {
  for (const char* body : {R"({"name":1e999999})", R"({"name":"x","role":"viewer","n":-1e999999})"}) {
    HttpResult r = Call("POST", "/api/v1/apikeys", *admin_, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(ErrorMessage(r).find("out of range"), std::string::npos) << r.body;
  }
  HttpResult est = Call("POST", "/api/v1/segments/estimate", *admin_, R"({"definition":{"rules":[1e999999]}})");
  EXPECT_EQ(est.status, 400) << est.body;
  HttpResult dup = Call("POST", "/api/v1/apikeys", *admin_, R"({"name":"a","role":"viewer","name":"b"})");
  EXPECT_EQ(dup.status, 400) << dup.body;
  EXPECT_NE(ErrorMessage(dup).find("'name'"), std::string::npos) << dup.body;
  HttpResult nested = Call("POST", "/api/v1/segments/estimate", *admin_, R"({"x":{"k":1,"k":2}})");
  EXPECT_EQ(nested.status, 400) << nested.body;
  EXPECT_NE(ErrorMessage(nested).find("'k'"), std::string::npos) << nested.body;
  // The same key in different objects is fine.
  HttpResult ok = Call("POST", "/api/v1/apikeys", *admin_, R"({"name":"dupe-ok","role":"viewer"})");
  EXPECT_EQ(ok.status, 201) << ok.body;
}

// Finding: GET /api/v1/runs answered 500 after `cdp segment run`.
TEST_F(ServerSecurityTest, RunListingAcceptsAnyStoredStats) {
  HttpResult r = Call("GET", "/api/v1/runs?limit=20", *viewer_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  bool found = false;
  for (const auto& run : j["items"]) found |= run["id"] == odd_run_;
  EXPECT_TRUE(found) << r.body;
  EXPECT_EQ(Call("GET", "/api/v1/runs/" + std::to_string(odd_run_), *viewer_).status, 200);
  for (int64_t id = odd_run_ - 4; id <= odd_run_; ++id) {
    HttpResult one = Call("GET", "/api/v1/runs/" + std::to_string(id), *viewer_);
    EXPECT_EQ(one.status, 200) << id << ": " << one.body;
    EXPECT_EQ(Json::parse(one.body)["trigger"], "") << one.body;
  }
  EXPECT_EQ(Call("GET", "/api/v1/overview", *viewer_).status, 200);
}

// Finding: with two Authorization headers the last one won.
TEST_F(ServerSecurityTest, TwoAuthorizationHeadersAreAmbiguous) {
  HttpResult r = Call("GET", "/api/v1/me", *viewer_, "", {{"Authorization", "Bearer " + *admin_}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(ErrorMessage(r).find("authorization"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/v1/me", *viewer_).status, 200);
}

// Finding: a CORS preflight from any origin answered
// Access-Control-Allow-Origin: *.
TEST_F(ServerSecurityTest, CorsIsOffByDefault) {
  auto plain = Start({});
  ASSERT_NE(plain, nullptr);
  for (const char* method : {"OPTIONS", "GET"}) {
    HttpResult r = HttpCall(plain->port(), method, "/api/v1/health", "", "",
                            {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
    for (const auto& [name, value] : r.headers) {
      EXPECT_NE(name.rfind("access-control-", 0), 0u) << method << ": " << name << ": " << value;
    }
  }
  plain->Stop();
}

TEST_F(ServerSecurityTest, CorsAllowsOnlyTheConfiguredOrigins) {
  HttpResult pre = Call("OPTIONS", "/api/v1/segments", "", "",
                        {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(pre.status, 204) << pre.body;
  EXPECT_EQ(pre.headers["access-control-allow-origin"], "https://app.example");
  EXPECT_NE(pre.headers["vary"].find("Origin"), std::string::npos);
  EXPECT_NE(pre.headers["access-control-allow-methods"].find("POST"), std::string::npos);
  EXPECT_NE(pre.headers["access-control-allow-headers"].find("Authorization"), std::string::npos);
  HttpResult get = Call("GET", "/api/v1/me", *viewer_, "", {{"Origin", "https://app.example"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.headers["access-control-allow-origin"], "https://app.example");
  for (const char* origin : {"https://evil.example", "https://app.example.evil", "null", "*"}) {
    HttpResult bad = Call("OPTIONS", "/api/v1/segments", "", "",
                          {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(bad.headers.count("access-control-allow-origin"), 0u) << origin;
    EXPECT_EQ(bad.headers.count("access-control-allow-methods"), 0u) << origin;
    HttpResult g = Call("GET", "/api/v1/health", "", "", {{"Origin", origin}});
    EXPECT_EQ(g.headers.count("access-control-allow-origin"), 0u) << origin;
  }
}

// Unrouted methods and paths, and key-less calls of keyed routes, are
// answered from the header: the announced body is never waited for.
TEST_F(ServerSecurityTest, UnexpectedRequestsAreRefusedBeforeTheirBody) {
  struct Case {
    std::string head;
    int status;
  };
  const std::vector<Case> cases = {
      {"DELETE /api/v1/overview HTTP/1.1", 405},
      {"POST /api/v1/nothing/here HTTP/1.1", 404},
      {"PUT /index.html HTTP/1.1", 405},
      {"POST /api/v1/segments HTTP/1.1", 401},
  };
  for (const Case& c : cases) {
    int fd = testing::ConnectFrom(server_->port(), "127.0.0.1", 5000);
    ASSERT_GE(fd, 0);
    testing::SendAll(fd, c.head + "\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 500000\r\n\r\n");
    testing::RawResponse r = testing::ReadResponse(fd);
    close(fd);
    EXPECT_EQ(r.status, c.status) << c.head << ": " << r.body;
  }
  // A request target over the limit: 414.
  EXPECT_EQ(Call("GET", "/api/v1/health?x=" + std::string(10000, 'a')).status, 414);
}

}  // namespace
}  // namespace cdp
