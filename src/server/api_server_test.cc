// Integration tests of `cdp serve`: a server on a free loopback port against
// a small Contoso demo workspace, called over real HTTP.
#include "server/api_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "access/api_key_store.h"
#include "demo/demo_generator.h"
#include "export/file_destination.h"
#include "segment/segment_definition.h"
#include "server/testing/contoso_workspace.h"
#include "server/testing/http_client.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::HttpCall;
using testing::HttpResult;

// A gate the refresh thread waits at (before the unify stage) while armed.
struct StageGate {
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, reached = false, open = false;
  bool fail_unify = false;
  Status Before(RefreshStage stage) {
    std::unique_lock<std::mutex> l(mu);
    if (stage == RefreshStage::kUnify && fail_unify) return InternalError("injected unify failure");
    if (stage != RefreshStage::kUnify || !armed) return Status::Ok();
    reached = true;
    cv.notify_all();
    cv.wait(l, [&] { return open; });
    armed = false;
    return Status::Ok();
  }
};

class ApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cdp_server_XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    std::string ws_dir = (*dir_ / "ws").string();
    {
      auto ws = testing::MakeContosoWorkspace(*dir_, {.customers = 300, .seed = 11, .save_segments = true});
      ASSERT_TRUE(ws.ok()) << ws.status().ToString();
      ApiKeyStore keys((*ws)->catalog());
      admin_ = new std::string(keys.Create("test-admin", Role::kAdmin, "test")->key);
      contributor_ = new std::string(keys.Create("test-contributor", Role::kContributor, "test")->key);
      viewer_ = new std::string(keys.Create("test-viewer", Role::kViewer, "test")->key);
      // A files connection for the export routes (cdp registers the kind at startup).
      Status reg = RegisterFileDestinations(DestinationRegistry::Global());
      ASSERT_TRUE(reg.ok() || reg.code() == StatusCode::kAlreadyExists) << reg.ToString();
      auto project = (*ws)->catalog().LoadProject();
      ASSERT_TRUE(project.ok()) << project.status().ToString();
      ConnectionConfig files;
      files.name = "lab_files";
      files.kind = "files";
      files.settings["path"] = (*dir_ / "exports").string();
      project->connections.push_back(files);
      ASSERT_TRUE((*ws)->catalog().ReplaceProject(*project).ok());
    }
    gate_ = new StageGate();
    ApiServerOptions options;
    options.http.port = 0;
    options.http.threads = 8;
    options.http.max_body_bytes = 64 * 1024;
    options.run_schedules = false;
    options.log_requests = false;
    options.refresh_threads = 2;
    options.run_date = kDefaultDemoToday;
    options.before_refresh_stage = [](RefreshStage s) { return gate_->Before(s); };
    auto server = ApiServer::Start(ws_dir, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
    delete admin_;
    delete contributor_;
    delete viewer_;
    delete gate_;
  }

  static HttpResult Call(const std::string& method, const std::string& target, const std::string& key,
                         const std::string& body = "") {
    return HttpCall(server_->port(), method, target, key, body);
  }
  static Json GetJson(const std::string& target, const std::string& key = *admin_) {
    HttpResult r = Call("GET", target, key);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  static int64_t AnyCustomerId() {
    Json page = GetJson("/api/v1/entities/Customer/rows?limit=1");
    return page["items"][0]["CustomerId"].get<int64_t>();
  }
  static Json WaitForRun(int64_t id) {
    for (int i = 0; i < 600; ++i) {
      Json run = GetJson("/api/v1/runs/" + std::to_string(id));
      if (run["status"] != "running") return run;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "run " << id << " did not finish";
    return Json();
  }
  // A concrete path for a route pattern (existing names where needed).
  static std::string Concrete(const Route& r) {
    std::string p = r.pattern;
    auto sub = [&](const std::string& from, const std::string& to) {
      size_t at = p.find(from);
      if (at != std::string::npos) p.replace(at, from.size(), to);
    };
    sub("/customers/{id}", "/customers/" + std::to_string(AnyCustomerId()));
    sub("/entities/{name}", "/entities/Customer");
    sub("/measures/{name}", "/measures/NoSuchMeasure");
    sub("/segments/{name}", "/segments/NoSuchSegmentForAuth");
    sub("/runs/{id}", "/runs/999999");
    sub("/apikeys/{id}", "/apikeys/999999");
    return p;
  }

  static fs::path* dir_;
  static ApiServer* server_;
  static std::string* admin_;
  static std::string* contributor_;
  static std::string* viewer_;
  static StageGate* gate_;
};

fs::path* ApiServerTest::dir_ = nullptr;
ApiServer* ApiServerTest::server_ = nullptr;
std::string* ApiServerTest::admin_ = nullptr;
std::string* ApiServerTest::contributor_ = nullptr;
std::string* ApiServerTest::viewer_ = nullptr;
StageGate* ApiServerTest::gate_ = nullptr;

TEST_F(ApiServerTest, HealthNeedsNoKey) {
  HttpResult r = Call("GET", "/api/v1/health", "");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_GT(j["customers"].get<int64_t>(), 250);
}

TEST_F(ApiServerTest, OpenApiDocumentMatchesTheRoutes) {
  Json doc = GetJson("/api/v1/openapi.json", "");
  ASSERT_TRUE(doc.contains("paths"));
  std::set<std::pair<std::string, std::string>> documented, served;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
      documented.insert({m, path});
    }
  }
  for (const Route& r : server_->routes()) served.insert({r.method, r.pattern});
  EXPECT_EQ(documented, served);
  // Every documented operation is answered by its route (never "no route"
  // or "method not allowed"), and its documented security holds.
  for (const Route& r : server_->routes()) {
    HttpResult res = Call(r.method, Concrete(r), "", r.method == "GET" ? "" : "{}");
    EXPECT_EQ(res.body.find("no_route"), std::string::npos) << r.pattern;
    EXPECT_NE(res.status, 405) << r.method << " " << r.pattern;
    std::string method = r.method;
    for (char& ch : method) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    const Json& op = doc["paths"][r.pattern][method];
    if (r.permission) {
      EXPECT_EQ(res.status, 401) << r.method << " " << r.pattern << ": " << res.body;
      EXPECT_FALSE(op["security"].empty());
      EXPECT_TRUE(op["responses"].contains("401"));
    } else {
      EXPECT_NE(res.status, 401) << r.pattern;
    }
  }
}

TEST_F(ApiServerTest, EveryRouteChecksKeysAndRoles) {
  for (const Route& r : server_->routes()) {
    if (!r.permission) continue;
    std::string target = Concrete(r);
    // Writes get a malformed body: a permitted caller gets 400 (or 404 for
    // the missing names above) and nothing changes.
    std::string body = r.method == "GET" || r.method == "DELETE" ? "" : "{";
    SCOPED_TRACE(r.method + " " + target);
    // No key, a malformed key, a well-formed wrong key: 401.
    EXPECT_EQ(Call(r.method, target, "", body).status, 401);
    EXPECT_EQ(Call(r.method, target, "not-a-key", body).status, 401);
    std::string wrong = *viewer_;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(Call(r.method, target, wrong, body).status, 401);
    // Each role: 403 exactly when the role lacks the permission.
    for (auto [key, role] : {std::pair<std::string*, Role>{viewer_, Role::kViewer},
                             {contributor_, Role::kContributor}, {admin_, Role::kAdmin}}) {
      HttpResult res = Call(r.method, target, *key, body);
      if (Permits(role, *r.permission)) {
        EXPECT_NE(res.status, 403) << RoleName(role) << ": " << res.body;
        EXPECT_NE(res.status, 401) << RoleName(role) << ": " << res.body;
      } else {
        EXPECT_EQ(res.status, 403) << RoleName(role) << ": " << res.body;
        EXPECT_NE(Json::parse(res.body)["error"]["message"].get<std::string>().find(std::string(RoleName(role))), std::string::npos);
      }
    }
  }
}

TEST_F(ApiServerTest, CustomerCardHasProfileMeasuresSegmentsActivitiesAndLineage) {
  // A customer with several source records.
  Json pairs = GetJson("/api/v1/unification/pairs?limit=5");
  ASSERT_FALSE(pairs["items"].empty());
  int64_t id = pairs["items"][0]["customer_id"].get<int64_t>();
  Json card = GetJson("/api/v1/customers/" + std::to_string(id) + "/card", *viewer_);
  EXPECT_EQ(card["customer_id"], id);
  EXPECT_EQ(card["profile"]["CustomerId"], id);
  EXPECT_TRUE(card["measures"].contains("LifetimeSpend"));
  EXPECT_TRUE(card["segments"].is_array());
  ASSERT_GE(card["source_records"].size(), 2u);
  bool matched = false;
  for (const auto& rec : card["source_records"]) {
    EXPECT_TRUE(rec["record"].is_object()) << rec.dump();
    matched |= !rec["matched"].empty();
  }
  EXPECT_TRUE(matched) << card["source_records"].dump();
  // Activities newest first.
  const auto& acts = card["activities"];
  for (size_t i = 1; i < acts.size(); ++i) EXPECT_GE(acts[i - 1]["Timestamp"], acts[i]["Timestamp"]);
  // The segments on the card agree with each segment's members.
  for (const auto& seg : card["segments"]) {
    Json members = GetJson("/api/v1/segments/" + seg.get<std::string>() + "/members?limit=1000");
    bool found = false;
    for (const auto& m : members["items"]) found |= m["CustomerId"] == id;
    EXPECT_TRUE(found) << seg;
  }
  EXPECT_EQ(Call("GET", "/api/v1/customers/987654321/card", *viewer_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/customers/abc/card", *viewer_).status, 400);
}

// A customer's lineage comes from workspace/lineage.h (as `cdp explain`'s),
// and an unknown CustomerId is 404 with the message the CLI gives, for the
// explanation and the timeline alike.
TEST_F(ApiServerTest, CustomerExplainAndUnknownCustomers) {
  Json pairs = GetJson("/api/v1/unification/pairs?limit=1");
  ASSERT_FALSE(pairs["items"].empty());
  int64_t id = pairs["items"][0]["customer_id"].get<int64_t>();
  Json e = GetJson("/api/v1/customers/" + std::to_string(id) + "/explain", *viewer_);
  EXPECT_EQ(e["customer_id"], id);
  EXPECT_EQ(e["profile"]["CustomerId"], id);
  ASSERT_GE(e["records"].size(), 2u);
  ASSERT_FALSE(e["pairs"].empty());
  EXPECT_TRUE(e["pairs"][0].contains("rule")) << e.dump();
  EXPECT_TRUE(e["id_changes"].is_array());
  for (const std::string route : {"explain", "activities"}) {
    HttpResult r = Call("GET", "/api/v1/customers/999999/" + route, *viewer_);
    EXPECT_EQ(r.status, 404) << route << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_EQ(j["error"]["message"], "there is no customer with CustomerId 999999") << route;
  }
}

TEST_F(ApiServerTest, SearchToleratesTyposAndCountsFilterValues) {
  int64_t id = AnyCustomerId();
  Json p = GetJson("/api/v1/customers/" + std::to_string(id));
  std::string last = p.value("LastName", "");
  ASSERT_GE(last.size(), 5u) << p.dump();
  std::string typo = last;
  std::swap(typo[1], typo[2]);  // transposition
  Json r = GetJson("/api/v1/customers/search?q=" + UrlEncode(p.value("FirstName", "") + " " + typo), *viewer_);
  bool found = false;
  for (const auto& it : r["items"]) found |= it["CustomerId"] == id;
  EXPECT_TRUE(found) << typo << " -> " << r.dump();
  // Filter-only search: counts per State add up to the total.
  Json all = GetJson("/api/v1/customers/search?limit=1", *viewer_);
  ASSERT_TRUE(all["facets"].contains("State")) << all.dump();
  int64_t sum = 0;
  std::string some_state;
  for (const auto& v : all["facets"]["State"]) {
    sum += v["count"].get<int64_t>();
    some_state = v["value"];
  }
  EXPECT_LE(sum, all["total"].get<int64_t>());
  Json filtered = GetJson("/api/v1/customers/search?limit=1000&filter=State:" + UrlEncode(some_state), *viewer_);
  for (const auto& it : filtered["items"]) EXPECT_EQ(it["State"], some_state);
  EXPECT_EQ(Call("GET", "/api/v1/customers/search?filter=nocolon", *viewer_).status, 400);
}

TEST_F(ApiServerTest, LookupByEmailAndSourceKey) {
  Json page = GetJson("/api/v1/entities/Customer/rows?limit=50");
  std::string email;
  int64_t id = 0;
  for (const auto& row : page["items"]) {
    if (row.contains("Email") && row["Email"].is_string() && !row["Email"].get<std::string>().empty()) {
      email = row["Email"];
      id = row["CustomerId"];
      break;
    }
  }
  ASSERT_FALSE(email.empty());
  std::string upper = email;
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  Json r = GetJson("/api/v1/customers/lookup?field=Email&value=" + UrlEncode(upper), *viewer_);
  bool found = false;
  for (const auto& it : r["items"]) found |= it["CustomerId"] == id;
  EXPECT_TRUE(found);
  EXPECT_GE(r["total"].get<size_t>(), r["items"].size());
  // The page is capped by limit (1 ... --max-page-size).
  EXPECT_EQ(Call("GET", "/api/v1/customers/lookup?field=Email&value=" + UrlEncode(upper) + "&limit=0", *viewer_).status,
            400);
  Json one = GetJson("/api/v1/customers/lookup?field=Email&value=" + UrlEncode(upper) + "&limit=1", *viewer_);
  EXPECT_EQ(one["items"].size(), 1u);
  Json card = GetJson("/api/v1/customers/" + std::to_string(id) + "/card");
  const auto& rec = card["source_records"][0];
  Json byKey = GetJson("/api/v1/customers/lookup?source=" + UrlEncode(rec["source"].get<std::string>()) + "&key=" +
                       UrlEncode(rec["key"].get<std::string>()));
  EXPECT_EQ(byKey["items"][0]["CustomerId"], id);
  EXPECT_EQ(Call("GET", "/api/v1/customers/lookup?field=Email&value=nobody%40nowhere.example", *viewer_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/customers/lookup?field=NoField&value=x", *viewer_).status, 400);
}

TEST_F(ApiServerTest, QuickSegmentRunsAndMembersMatchExport) {
  HttpResult created = Call("POST", "/api/v1/segments/quick", *contributor_,
                            R"({"name":"ApiCalifornia","entity":"Customer","field":"State","op":"equals","values":["California"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  Json c = Json::parse(created.body);
  EXPECT_EQ(c["status"], "active");
  ASSERT_TRUE(c["run_id"].is_number()) << c.dump();
  Json run = WaitForRun(c["run_id"]);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  server_->WaitForRefreshes();
  Json seg = GetJson("/api/v1/segments/ApiCalifornia");
  ASSERT_TRUE(seg["members"].is_number()) << seg.dump();
  int64_t n = seg["members"];
  Json members = GetJson("/api/v1/segments/ApiCalifornia/members?limit=1000");
  EXPECT_EQ(static_cast<int64_t>(members["items"].size()), n);
  EXPECT_GT(n, 0);  // the demo project stores state names (standardize: state_name)
  for (const auto& m : members["items"]) EXPECT_EQ(m["State"], "California");
  // Paging by cursor walks the same members.
  std::set<int64_t> paged;
  std::string cursor;
  for (int guard = 0; guard < 1000; ++guard) {
    Json pg = GetJson("/api/v1/segments/ApiCalifornia/members?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& m : pg["items"]) paged.insert(m["CustomerId"].get<int64_t>());
    if (pg["next_cursor"].is_null()) break;
    cursor = pg["next_cursor"];
  }
  EXPECT_EQ(static_cast<int64_t>(paged.size()), n);
  HttpResult csv = Call("GET", "/api/v1/segments/ApiCalifornia/export", *viewer_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), n + 1);
  Json hist = GetJson("/api/v1/segments/ApiCalifornia/history");
  ASSERT_FALSE(hist["items"].empty());
  EXPECT_EQ(hist["items"][0]["members"], n);
  Json est = Json::parse(Call("POST", "/api/v1/segments/estimate", *viewer_, seg["definition"].dump()).body);
  EXPECT_EQ(est["members"], n);
  Json inspect = GetJson("/api/v1/segments/ApiCalifornia/inspect");
  EXPECT_EQ(inspect["members"], n);
  // The audit log names the contributor's key and the change.
  Json audit = GetJson("/api/v1/audit?limit=100");
  bool logged = false;
  for (const auto& a : audit["items"]) {
    logged |= a["action"] == "segment.create" && a["target"] == "segment:ApiCalifornia" &&
              a["actor"].get<std::string>().find("test-contributor") != std::string::npos;
  }
  EXPECT_TRUE(logged) << audit.dump();
  EXPECT_EQ(Call("DELETE", "/api/v1/segments/ApiCalifornia", *contributor_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/segments/ApiCalifornia", *viewer_).status, 404);
}

TEST_F(ApiServerTest, BadRequestsGetClearErrors) {
  auto expect = [&](const HttpResult& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r.body;
  };
  expect(Call("POST", "/api/v1/segments/quick", *admin_, "{not json"), 400, "not valid JSON");
  expect(Call("POST", "/api/v1/segments/quick", *admin_, "[1,2]"), 400, "JSON object");
  expect(Call("POST", "/api/v1/segments/quick", *admin_, R"({"name":"X","field":"State","op":"equals","colour":1})"), 400, "colour");
  expect(Call("POST", "/api/v1/segments/quick", *admin_, R"({"name":5,"field":"State","op":"equals"})"), 400, "'name' must be a string");
  expect(Call("POST", "/api/v1/segments/quick", *admin_, R"({"name":"X","field":"State","op":"resembles"})"), 400, "resembles");
  expect(Call("POST", "/api/v1/apikeys", *admin_, R"({"name":"k","role":"root"})"), 400, "role");
  expect(Call("POST", "/api/v1/segments", *admin_, std::string(70 * 1024, ' ')), 413, "larger than the limit");
  expect(Call("GET", "/api/v1/segments/Nope", *viewer_), 404, "Nope");
  expect(Call("GET", "/api/v1/entities/Nope/rows", *viewer_), 404, "Nope");
  expect(Call("GET", "/api/v1/entities/Customer/rows?limit=100000", *viewer_), 400, "limit");
  expect(Call("GET", "/api/v1/entities/Customer/rows?limit=abc", *viewer_), 400, "limit");
  expect(Call("GET", "/api/v1/entities/Customer/rows?cursor=zzz", *viewer_), 400, "cursor");
  expect(Call("GET", "/api/v1/nothing/here", *viewer_), 404, "no API route");
  expect(Call("DELETE", "/api/v1/overview", *admin_), 405, "not allowed");
  expect(Call("GET", "/api/v1/unification/explain?a=Nope:1&b=Nope:2", *viewer_), 400, "SOURCE:KEY");
  expect(Call("PUT", "/api/v1/schedules", *admin_, R"({"refresh":"61 * * * *"})"), 400, "refresh");
  // The server is still healthy after all of that.
  EXPECT_EQ(Call("GET", "/api/v1/health", "").status, 200);
}

// A segment name with a NUL character was saved (as a draft) from the quick
// form and from a definition.
TEST_F(ApiServerTest, SegmentNamesWithNulAreRefused) {
  HttpResult quick = Call("POST", "/api/v1/segments/quick", *admin_,
                          R"({"name":"Big\u0000Spenders","field":"State","op":"equals","values":["CA"]})");
  EXPECT_EQ(quick.status, 400) << quick.body;
  EXPECT_NE(quick.body.find("field 'name' contains a NUL character"), std::string::npos) << quick.body;
  HttpResult full = Call("POST", "/api/v1/segments", *admin_,
                         R"({"name":"Big\u0000Spenders","rules":[{"entity":"Customer","conditions":[{"field":"State","op":"equals","values":["CA"]}]}]})");
  EXPECT_EQ(full.status, 400) << full.body;
  EXPECT_NE(full.body.find("field 'name' contains a NUL character"), std::string::npos) << full.body;
  HttpResult list = Call("GET", "/api/v1/segments", *viewer_);
  EXPECT_EQ(list.body.find("Big"), std::string::npos) << list.body;
  // Measures and the unification configuration sent to the API, likewise.
  HttpResult measure = Call("POST", "/api/v1/measures", *admin_,
                            R"({"name":"Total\u0000Spend","entity":"Customer","function":"count"})");
  EXPECT_EQ(measure.status, 400) << measure.body;
  EXPECT_NE(measure.body.find("field 'name' contains a NUL character"), std::string::npos) << measure.body;
}

TEST_F(ApiServerTest, ApiKeysAreCreatedShownOnceAndRevoked) {
  HttpResult r = Call("POST", "/api/v1/apikeys", *admin_, R"({"name":"temp","role":"viewer"})");
  ASSERT_EQ(r.status, 201) << r.body;
  Json k = Json::parse(r.body);
  std::string key = k["key"];
  EXPECT_EQ(GetJson("/api/v1/me", key)["role"], "viewer");
  Json list = GetJson("/api/v1/apikeys");
  EXPECT_EQ(list.dump().find(key), std::string::npos);  // never shown again
  EXPECT_EQ(Call("POST", "/api/v1/segments/quick", key, R"({"name":"V","field":"State","op":"equals","values":["CA"]})").status, 403);
  ASSERT_EQ(Call("DELETE", "/api/v1/apikeys/" + std::to_string(k["id"].get<int64_t>()), *admin_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/me", key).status, 401);
}

TEST_F(ApiServerTest, ReadsContinueWhileARefreshRunsAndCancelStopsIt) {
  uint64_t gen_before = GetJson("/api/v1/health", "")["generation"];
  int64_t id = AnyCustomerId();
  std::string card_before = Call("GET", "/api/v1/customers/" + std::to_string(id) + "/card", *viewer_).body;
  {
    std::lock_guard<std::mutex> l(gate_->mu);
    gate_->armed = true;
    gate_->reached = gate_->open = false;
  }
  HttpResult start = Call("POST", "/api/v1/runs", *contributor_, R"({"force":true})");
  ASSERT_EQ(start.status, 202) << start.body;
  int64_t run = Json::parse(start.body)["id"];
  {
    std::unique_lock<std::mutex> l(gate_->mu);
    ASSERT_TRUE(gate_->cv.wait_for(l, std::chrono::seconds(60), [&] { return gate_->reached; }));
  }
  // The refresh has ingested and is held before unify: reads are served
  // from the last complete generation, unchanged.
  EXPECT_EQ(GetJson("/api/v1/runs/" + std::to_string(run))["status"], "running");
  EXPECT_TRUE(GetJson("/api/v1/health", "")["refresh_running"].get<bool>());
  for (int i = 0; i < 20; ++i) {
    HttpResult card = Call("GET", "/api/v1/customers/" + std::to_string(id) + "/card", *viewer_);
    ASSERT_EQ(card.status, 200);
    EXPECT_EQ(card.body, card_before);
  }
  EXPECT_EQ(GetJson("/api/v1/health", "")["generation"], gen_before);
  // A second refresh is queued behind this one, not run at once.
  EXPECT_EQ(Call("POST", "/api/v1/runs/" + std::to_string(run) + "/cancel", *viewer_).status, 403);
  ASSERT_EQ(Call("POST", "/api/v1/runs/" + std::to_string(run) + "/cancel", *contributor_).status, 202);
  {
    std::lock_guard<std::mutex> l(gate_->mu);
    gate_->open = true;
  }
  gate_->cv.notify_all();
  Json done = WaitForRun(run);
  EXPECT_EQ(done["status"], "cancelled") << done.dump();
  server_->WaitForRefreshes();
  EXPECT_EQ(Call("GET", "/api/v1/customers/" + std::to_string(id) + "/card", *viewer_).status, 200);
}

TEST_F(ApiServerTest, AFailedStageKeepsServingAndTheNextRunSucceeds) {
  uint64_t customers = GetJson("/api/v1/health", "")["customers"];
  {
    std::lock_guard<std::mutex> l(gate_->mu);
    gate_->fail_unify = true;
  }
  HttpResult start = Call("POST", "/api/v1/runs", *admin_, R"({"force":true})");
  ASSERT_EQ(start.status, 202) << start.body;
  Json failed = WaitForRun(Json::parse(start.body)["id"]);
  server_->WaitForRefreshes();
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("injected unify failure"), std::string::npos) << failed.dump();
  bool unify_failed = false;
  for (const auto& s : failed["stages"]) unify_failed |= s["stage"] == "unify" && s["status"] == "failed";
  EXPECT_TRUE(unify_failed) << failed.dump();
  EXPECT_EQ(GetJson("/api/v1/health", "")["customers"], customers);
  EXPECT_EQ(Call("GET", "/api/v1/customers/" + std::to_string(AnyCustomerId()) + "/card", *viewer_).status, 200);
  {
    std::lock_guard<std::mutex> l(gate_->mu);
    gate_->fail_unify = false;
  }
  HttpResult again = Call("POST", "/api/v1/runs", *admin_, "");
  ASSERT_EQ(again.status, 202) << again.body;
  Json ok = WaitForRun(Json::parse(again.body)["id"]);
  server_->WaitForRefreshes();
  EXPECT_EQ(ok["status"], "succeeded") << ok.dump();
  Json runs = GetJson("/api/v1/runs?limit=5");
  EXPECT_EQ(runs["items"][0]["id"], ok["id"]);
  EXPECT_FALSE(runs["items"][0]["stages"].empty());
}

TEST_F(ApiServerTest, MetricsAndOverview) {
  ASSERT_EQ(Call("GET", "/api/v1/health", "").status, 200);
  HttpResult m = Call("GET", "/api/v1/metrics", *viewer_);
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("cdp_http_requests_total{route=\"/api/v1/health\",status=\"200\"}"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("cdp_customers "), std::string::npos);
  Json o = GetJson("/api/v1/overview", *viewer_);
  EXPECT_GT(o["customers"].get<int64_t>(), 0);
  EXPECT_GT(o["unification_rate"].get<double>(), 0.0);
  EXPECT_FALSE(o["segments"].empty());
  EXPECT_TRUE(o["last_run"].is_object());
}

// The OpenAPI document describes every request body with a real schema
// (no stubs): typed properties, required ⊆ properties, known types, $refs
// that resolve.
TEST_F(ApiServerTest, OpenApiRequestBodiesAreRealSchemas) {
  Json doc = GetJson("/api/v1/openapi.json", "");
  const Json& schemas = doc["components"]["schemas"];
  const std::set<std::string> kTypes = {"string", "integer", "number", "boolean", "array", "object"};
  std::function<void(const Json&, const std::string&)> check = [&](const Json& s, const std::string& where) {
    ASSERT_TRUE(s.is_object()) << where;
    if (s.contains("$ref")) {
      std::string ref = s["$ref"];
      ASSERT_EQ(ref.rfind("#/components/schemas/", 0), 0u) << where;
      EXPECT_TRUE(schemas.contains(ref.substr(21))) << where << " -> " << ref;
      return;
    }
    for (const char* key : {"oneOf", "allOf"}) {
      if (s.contains(key)) {
        for (size_t i = 0; i < s[key].size(); ++i) check(s[key][i], where + "." + key + "[" + std::to_string(i) + "]");
      }
    }
    if (s.contains("type")) {
      std::string type = s["type"];
      EXPECT_TRUE(kTypes.count(type)) << where << ": type " << type;
      if (s.contains("enum")) {
        for (const auto& v : s["enum"]) EXPECT_TRUE(type == "string" ? v.is_string() : true) << where;
      }
      if (type == "array") {
        ASSERT_TRUE(s.contains("items")) << where;
        check(s["items"], where + "[]");
      }
      if (type == "object") {
        const Json props = s.value("properties", Json::object());
        for (const auto& r : s.value("required", Json::array())) EXPECT_TRUE(props.contains(r)) << where << ": required " << r;
        for (const auto& [k, v] : props.items()) check(v, where + "." + k);
        if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) check(s["additionalProperties"], where + ".*");
        EXPECT_TRUE(!props.empty() || s.contains("additionalProperties")) << where << ": an object with nothing said about it";
      }
    } else if (!s.contains("oneOf") && !s.contains("allOf")) {
      // Only "null" ({nullable, enum:[null]}) or a free-form part named as such.
      EXPECT_TRUE(s.contains("enum") || s.contains("description")) << where << ": no type";
    }
    EXPECT_EQ(s.dump().find("see docs/api.md"), std::string::npos) << where;
  };
  for (const auto& [name, s] : schemas.items()) check(s, name);
  int bodies = 0;
  for (const Route& r : server_->routes()) {
    std::string method = r.method;
    for (char& ch : method) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    const Json& op = doc["paths"][r.pattern][method];
    if (!r.body) {
      EXPECT_FALSE(op.contains("requestBody")) << r.pattern;
      continue;
    }
    ++bodies;
    const Json& schema = op["requestBody"]["content"]["application/json"]["schema"];
    ASSERT_TRUE(schema.contains("$ref")) << r.pattern;
    const Json& body = schemas[schema["$ref"].get<std::string>().substr(21)];
    EXPECT_EQ(body["type"], "object") << r.pattern;
    EXPECT_FALSE(body["properties"].empty()) << r.pattern;
    EXPECT_EQ(body["additionalProperties"], false) << r.pattern;
  }
  EXPECT_GE(bodies, 10);
  // Segment operators in the definition schema are the server's table.
  Json ops = GetJson("/api/v1/segment-operators", *viewer_);
  std::set<std::string> names, listed;
  for (const auto& o : ops["operators"]) names.insert(o["name"].get<std::string>());
  for (const auto& v : schemas["FieldCondition"]["properties"]["op"]["enum"]) {
    if (v != "") listed.insert(v.get<std::string>());
  }
  EXPECT_EQ(names, listed);
}

// Each kind of constraint a body schema states is enforced with a 400 that
// names the field.
TEST_F(ApiServerTest, BodiesViolatingTheirSchemaGet400NamingTheField) {
  auto expect = [&](const std::string& method, const std::string& path, const std::string& body, const std::string& needle) {
    HttpResult r = Call(method, path, *admin_, body);
    EXPECT_EQ(r.status, 400) << path << " " << body << ": " << r.body;
    EXPECT_NE(r.body.find(needle), std::string::npos) << body << ": " << r.body;
  };
  // required, type, unknown (nested), enum, length, pattern, range, items, map values.
  expect("POST", "/api/v1/segments/quick", R"({"name":"X","op":"equals"})", "field 'field' is required");
  expect("POST", "/api/v1/runs", R"({"force":"yes"})", "field 'force' must be true or false");
  expect("POST", "/api/v1/segments", R"({"name":"X","rules":[{"entity":"Customer","colour":1}]})", "unknown field 'rules[0].colour'");
  expect("POST", "/api/v1/apikeys", R"({"name":"k","role":"root"})", "field 'role': 'root' is not one of viewer, contributor, admin");
  expect("POST", "/api/v1/apikeys", R"({"name":"","role":"viewer"})", "field 'name' may not be empty");
  expect("POST", "/api/v1/segments/quick", R"({"name":"Customers From California","field":"State","op":"equals","values":["California"]})",
         "field 'name': 'Customers From California' is not valid: a segment name has letters, digits and _");
  expect("POST", "/api/v1/segments/estimate",
         R"({"rules":[{"entity":"Customer","conditions":[{"aggregate":"count","entity":"Online Purchases","window":{"last":0}}]}]})",
         "field 'rules[0].conditions[0].window.last': '0' must be from 1 to 100000");
  expect("POST", "/api/v1/segments/quick", R"({"name":"X","field":"State","op":"in","values":[{}]})", "field 'values[0]' must be");
  expect("PUT", "/api/v1/schedules", R"({"sources":{"eCommerce Contacts":5}})", "field 'sources.eCommerce Contacts' must be a string");
  expect("PUT", "/api/v1/unification", R"({"max_block_size":1})", "field 'max_block_size'");
  expect("POST", "/api/v1/measures", R"({"name":"M","default":"high"})", "field 'default' must be a number");
  // Nothing was saved under the invalid quick-segment name.
  EXPECT_EQ(Call("GET", "/api/v1/segments/Customers%20From%20California", *viewer_).status, 404);
  Json list = GetJson("/api/v1/segments");
  EXPECT_EQ(list.dump().find("Customers From California"), std::string::npos);
  // A run with an empty body is still everything that changed (the body is optional).
  EXPECT_NE(Call("POST", "/api/v1/runs", *viewer_, "").status, 400);
}

// A viewer refused a change is told which permission and role it needs, not
// the route's summary.
TEST_F(ApiServerTest, ForbiddenNamesThePermissionNeeded) {
  HttpResult r = Call("PUT", "/api/v1/schedules", *viewer_, R"({"refresh":"0 3 * * *"})");
  ASSERT_EQ(r.status, 403) << r.body;
  std::string message = Json::parse(r.body)["error"]["message"];
  EXPECT_EQ(message, "the key 'test-viewer' has role viewer, which lacks the permission write_definitions (role contributor or above)");
  EXPECT_EQ(message.find("cron"), std::string::npos);
}

// Attribute measures are columns of Customer_Measure: their values are served
// (they answered 404).
TEST_F(ApiServerTest, AttributeMeasureValuesAreServed) {
  Json page = GetJson("/api/v1/measures/AverageWebPurchase/values?limit=5");
  ASSERT_EQ(page["items"].size(), 5u) << page.dump();
  EXPECT_TRUE(page["items"][0].contains("CustomerId"));
  EXPECT_TRUE(page["items"][0].contains("AverageWebPurchase"));
  EXPECT_EQ(page["total"], GetJson("/api/v1/entities/Customer_Measure/schema")["rows"]);
  EXPECT_EQ(Call("GET", "/api/v1/measures/NoSuchMeasure/values", *viewer_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/measures/CustomerId/values", *viewer_).status, 404);
}

// Accepted pairs are those unify merged or found already together (it
// counted a status string unify never writes, so every rule showed 0).
TEST_F(ApiServerTest, UnificationStatsCountAcceptedPairs) {
  Json stats = GetJson("/api/v1/unification/stats");
  ASSERT_FALSE(stats["rules"].empty()) << stats.dump();
  int64_t accepted = 0, merged = 0;
  for (const auto& r : stats["rules"]) {
    accepted += r["accepted"].get<int64_t>();
    EXPECT_LE(r["accepted"].get<int64_t>(), r["pairs"].get<int64_t>());
    merged += r["by_status"].value("merged", int64_t{0});
    EXPECT_EQ(r["accepted"].get<int64_t>(), r["by_status"].value("merged", int64_t{0}) + r["by_status"].value("redundant", int64_t{0}));
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(merged, 0);
}

TEST_F(ApiServerTest, UnificationEvaluateScoresATruthAndKeepsTheLastEvaluation) {
  // A truth that says every profile is right: the records of each CustomerId are one entity.
  Json keys = GetJson("/api/v1/entities/CustomerSourceKeys/rows?limit=200");
  std::string truth = "source,key,entity\n";
  size_t rows = 0;
  for (const auto& r : keys["items"]) {
    truth += r["Source"].get<std::string>() + "," + r["SourceKey"].get<std::string>() + ",p" +
             std::to_string(r["CustomerId"].get<int64_t>()) + "\n";
    ++rows;
  }
  ASSERT_GT(rows, 10u);
  HttpResult r = Call("POST", "/api/v1/unification/evaluate", *viewer_, Json({{"truth", truth}, {"samples", 3}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  Json e = Json::parse(r.body);
  EXPECT_EQ(e["records"], rows);
  EXPECT_DOUBLE_EQ(e["pairwise"]["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(e["pairwise"]["recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(e["bcubed"]["f1"].get<double>(), 1.0);
  EXPECT_EQ(e["clusters"]["exact"], e["clusters"]["predicted"]);
  EXPECT_LE(e["largest_clusters"].size(), 3u);
  EXPECT_TRUE(e["false_merges"].empty());
  EXPECT_TRUE(e["misses"].empty());
  Json last = GetJson("/api/v1/unification/evaluation", *viewer_);
  EXPECT_EQ(last["pairwise"], e["pairwise"]);
  EXPECT_TRUE(last.contains("evaluated_at"));

  // A bad truth is a 400 naming the line; a body without truth is refused by the schema.
  HttpResult bad = Call("POST", "/api/v1/unification/evaluate", *viewer_,
                        Json({{"truth", "source,key,entity\nNo Such Source,1,a\n"}}).dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("truth:2: 'No Such Source' is not a unification source"), std::string::npos) << bad.body;
  HttpResult missing = Call("POST", "/api/v1/unification/evaluate", *viewer_, "{\"samples\": 2}");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_NE(missing.body.find("truth"), std::string::npos) << missing.body;
  HttpResult range = Call("POST", "/api/v1/unification/evaluate", *viewer_, Json({{"truth", truth}, {"samples", 1000}}).dump());
  EXPECT_EQ(range.status, 400) << range.body;
}

TEST_F(ApiServerTest, ReviewQueueInRulesModeIsEmptyAndRefusesPairsOutsideIt) {
  Json q = GetJson("/api/v1/unification/review?explain=1", *viewer_);
  EXPECT_EQ(q["total"], 0);
  EXPECT_TRUE(q["items"].empty());
  Json keys = GetJson("/api/v1/entities/CustomerSourceKeys/rows?limit=2");
  ASSERT_EQ(keys["items"].size(), 2u);
  std::string a = keys["items"][0]["Source"].get<std::string>() + ":" + keys["items"][0]["SourceKey"].get<std::string>();
  std::string b = keys["items"][1]["Source"].get<std::string>() + ":" + keys["items"][1]["SourceKey"].get<std::string>();
  HttpResult r = Call("POST", "/api/v1/unification/review/accept", *contributor_, Json({{"a", a}, {"b", b}}).dump());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("not in the review queue"), std::string::npos) << r.body;
  HttpResult bad = Call("POST", "/api/v1/unification/review/reject", *contributor_, Json({{"a", "nosource"}, {"b", b}}).dump());
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("is not SOURCE:KEY"), std::string::npos) << bad.body;
  HttpResult extra = Call("POST", "/api/v1/unification/review/accept", *contributor_, Json({{"a", a}, {"b", b}, {"kind", "x"}}).dump());
  EXPECT_EQ(extra.status, 400) << extra.body;
  EXPECT_EQ(Call("POST", "/api/v1/unification/review/accept", *viewer_, Json({{"a", a}, {"b", b}}).dump()).status, 403);
  // Rules mode trains no model.
  EXPECT_EQ(Call("GET", "/api/v1/unification/model", *viewer_).status, 404);
}

TEST_F(ApiServerTest, SegmentOperatorsComeFromTheServer) {
  Json ops = GetJson("/api/v1/segment-operators", *viewer_);
  EXPECT_EQ(ops["types"]["int64"], "number");
  EXPECT_EQ(ops["types"]["timestamp"], "date");
  EXPECT_EQ(ops["aggregates"], Json::array({"count", "sum", "average", "min", "max"}));
  std::map<std::string, Json> by_name;
  for (const auto& o : ops["operators"]) by_name[o["name"]] = o;
  ASSERT_TRUE(by_name.count("between"));
  EXPECT_EQ(by_name["between"]["values"], 2);
  EXPECT_EQ(by_name["in_last"]["value_kind"], "number");
  EXPECT_EQ(by_name["anniversary_within"]["value_kind"], "number");
  EXPECT_TRUE(by_name["on"]["value_kind"].is_null());
  EXPECT_EQ(by_name["in"]["values"], "many");
  EXPECT_EQ(by_name["is_empty"]["values"], 0);
  EXPECT_EQ(by_name["in_last"]["units"], Json::array({"days", "weeks", "months", "quarters", "years"}));
  EXPECT_EQ(by_name["not_equals"]["labels"]["date"], "not on");
  EXPECT_EQ(by_name["greater_equal"]["label"], "greater than or equal to");
  EXPECT_EQ(by_name["contains"]["offered"], Json::array({"text"}));
}

// A small demo workspace refreshed once (no segments saved), with a viewer
// and an admin key, in a temporary directory removed on destruction.
struct SmallWorkspace {
  fs::path dir;
  std::string ws_dir, viewer, admin;
  ProjectConfig project;
  explicit SmallWorkspace(int customers) {
    char tmpl[] = "/tmp/cdp_server_small_XXXXXX";
    dir = mkdtemp(tmpl);
    DemoOptions demo;
    demo.customers = customers;
    demo.seed = 5;
    demo.out_dir = (dir / "sources").string();
    DemoSummary summary;
    EXPECT_TRUE(GenerateContosoDemo(demo, &summary).ok());
    ws_dir = (dir / "ws").string();
    auto ws = Workspace::Init(ws_dir);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = ParseProjectYaml(yaml, "project.yaml", dir.string());
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    project = *parsed;
    EXPECT_TRUE((*ws)->catalog().ReplaceProject(project).ok());
    RefreshOptions o;
    o.run_date = kDefaultDemoToday;
    auto r = RunRefresh(**ws, o);
    EXPECT_TRUE(r.ok() && r->ok()) << (r.ok() ? r->error : r.status().ToString());
    viewer = ApiKeyStore((*ws)->catalog()).Create("viewer", Role::kViewer, "test")->key;
    admin = ApiKeyStore((*ws)->catalog()).Create("admin", Role::kAdmin, "test")->key;
  }
  ~SmallWorkspace() { fs::remove_all(dir); }
};

// A server started after a refresh made without it (`cdp run` while it was
// stopped) brings its search index up to date before serving.
TEST(ApiServerRestartTest, SearchIndexFollowsARefreshMadeWhileStopped) {
  SmallWorkspace small(120);
  ASSERT_FALSE(small.project.segments.empty());
  std::string ws_dir = small.ws_dir, key = small.viewer;
  std::vector<std::string> segment_yaml = small.project.segments;
  ApiServerOptions options;
  options.http.port = 0;
  options.run_schedules = false;
  options.log_requests = false;
  auto search_total = [&](ApiServer& server, const std::string& segment) {
    HttpResult r = HttpCall(server.port(), "GET", "/api/v1/customers/search?limit=1&filter=segment:" + segment, key, "");
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body, nullptr, false).value("total", int64_t{-1});
  };
  auto d = ParseSegmentYaml(segment_yaml[0]);
  ASSERT_TRUE(d.ok());
  {
    auto server = ApiServer::Start(ws_dir, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    EXPECT_EQ(search_total(**server, d->name), 0);
    (*server)->Stop();
  }
  int64_t members = 0;
  {
    auto ws = Workspace::Open(ws_dir);
    ASSERT_TRUE(ws.ok());
    ASSERT_TRUE(SaveSegment(**ws, *d, SegmentSaveMode::kUpsert, SegmentRunOptions()).ok());
    RefreshOptions o;
    o.run_date = kDefaultDemoToday;
    auto r = RunRefresh(**ws, o);
    ASSERT_TRUE(r.ok() && r->ok()) << (r.ok() ? r->error : r.status().ToString());
    auto history = (*ws)->catalog().SegmentHistory(d->name, 1);
    ASSERT_TRUE(history.ok() && !history->empty());
    members = history->front().members;
  }
  ASSERT_GT(members, 0);
  {
    auto server = ApiServer::Start(ws_dir, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    EXPECT_EQ(search_total(**server, d->name), members);
    (*server)->Stop();
  }
}

// Regression: a measure created through the API had no values until someone
// started a refresh. Creating it starts one that computes it.
TEST_F(ApiServerTest, AMeasureCreatedThroughTheApiGetsItsValues) {
  HttpResult created = Call("POST", "/api/v1/measures", *contributor_,
                            R"({"name":"ApiMaxWebPurchase","function":"max","activity":"OnlinePurchase","field":"TotalPrice"})");
  ASSERT_EQ(created.status, 201) << created.body;
  Json c = Json::parse(created.body);
  ASSERT_TRUE(c["run_id"].is_number()) << c.dump();
  EXPECT_EQ(WaitForRun(c["run_id"])["status"], "succeeded");
  server_->WaitForRefreshes();
  Json histogram = GetJson("/api/v1/measures/ApiMaxWebPurchase/histogram");
  EXPECT_GT(histogram["values"].get<int64_t>(), 0) << histogram.dump();
  // A measure naming an activity that does not exist is refused, naming both.
  HttpResult bad = Call("POST", "/api/v1/measures", *contributor_,
                        R"({"name":"Broken","function":"max","activity":"NoSuchActivity","field":"TotalPrice"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("measure 'Broken': activity 'NoSuchActivity' is not defined"), std::string::npos) << bad.body;
  ASSERT_EQ(Call("DELETE", "/api/v1/measures/ApiMaxWebPurchase", *contributor_).status, 200);
  EXPECT_EQ(Call("DELETE", "/api/v1/measures/ApiMaxWebPurchase", *contributor_).status, 404);
  server_->WaitForRefreshes();
}

// Regression: API and UI errors gave CLI advice ("use `cdp segment update`").
TEST_F(ApiServerTest, ErrorsGiveNoCommandLineAdvice) {
  const std::string body = R"({"name":"ApiTwice","entity":"Customer","field":"State","op":"equals","values":["WA"]})";
  ASSERT_EQ(Call("POST", "/api/v1/segments/quick", *contributor_, body).status, 201);
  HttpResult again = Call("POST", "/api/v1/segments/quick", *contributor_, body);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("segment 'ApiTwice' already exists"), std::string::npos) << again.body;
  EXPECT_EQ(again.body.find("cdp "), std::string::npos) << again.body;
  server_->WaitForRefreshes();
  ASSERT_EQ(Call("DELETE", "/api/v1/segments/ApiTwice", *contributor_).status, 200);
}

// A schedule change is one transaction: an unknown segment refuses all of it.
TEST_F(ApiServerTest, AScheduleChangeIsAppliedWholeOrNotAtAll) {
  std::string before = GetJson("/api/v1/schedules")["refresh"];
  HttpResult bad = Call("PUT", "/api/v1/schedules", *admin_,
                        R"({"refresh":"0 5 * * *","segments":{"NoSuchSegment":"0 1 * * *"}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("segments.NoSuchSegment"), std::string::npos) << bad.body;
  EXPECT_EQ(GetJson("/api/v1/schedules")["refresh"], before);
}

// Definition changes from several clients at once lose none.
TEST_F(ApiServerTest, ConcurrentDefinitionChangesFromManyClientsLoseNone) {
  constexpr int kClients = 4, kEach = 3;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string n = std::to_string(t) + "_" + std::to_string(i);
        Json measure = {{"name", "ApiCount" + n}, {"function", "count"}, {"activity", "OnlinePurchase"}};
        if (Call("POST", "/api/v1/measures", *contributor_, measure.dump()).status != 201) ++failures;
        Json seg = {{"name", "ApiState" + n}, {"entity", "Customer"}, {"field", "State"}, {"op", "equals"}, {"values", {n}}};
        if (Call("POST", "/api/v1/segments/quick", *contributor_, seg.dump()).status != 201) ++failures;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(failures.load(), 0);
  server_->WaitForRefreshes();
  std::set<std::string> measures, segments;
  const Json measure_list = GetJson("/api/v1/measures"), segment_list = GetJson("/api/v1/segments");
  for (const auto& m : measure_list["items"]) measures.insert(m["name"].get<std::string>());
  for (const auto& s : segment_list["items"]) segments.insert(s["name"].get<std::string>());
  for (int t = 0; t < kClients; ++t) {
    for (int i = 0; i < kEach; ++i) {
      std::string n = std::to_string(t) + "_" + std::to_string(i);
      EXPECT_TRUE(measures.count("ApiCount" + n)) << n;
      EXPECT_TRUE(segments.count("ApiState" + n)) << n;
      EXPECT_EQ(Call("DELETE", "/api/v1/measures/ApiCount" + n, *contributor_).status, 200);
      EXPECT_EQ(Call("DELETE", "/api/v1/segments/ApiState" + n, *contributor_).status, 200);
    }
  }
  server_->WaitForRefreshes();
}

// Cron schedules for the whole refresh, a source and a dynamic segment are
// set through the API, listed with their next times, and fire refreshes
// limited to what they name.
TEST(ApiServerScheduleTest, SchedulesAreListedAndFireScopedRefreshes) {
  SmallWorkspace small(100);
  const int64_t t0 = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z, a Thursday
  ApiServerOptions options;
  options.http.port = 0;
  options.log_requests = false;
  options.run_schedules = true;
  options.run_date = kDefaultDemoToday;
  options.scheduler.start_thread = false;
  options.scheduler.now_micros = [t0] { return t0; };
  auto server = ApiServer::Start(small.ws_dir, options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto call = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    HttpResult r = HttpCall((*server)->port(), method, target, small.admin, body);
    EXPECT_LT(r.status, 300) << method << " " << target << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  };
  // A dynamic segment to schedule.
  auto d = ParseSegmentYaml(small.project.segments[0]);
  ASSERT_TRUE(d.ok());
  call("POST", "/api/v1/segments", SegmentToJson(*d, -1));
  (*server)->WaitForRefreshes();
  const std::string source = small.project.sources[0].name;
  Json put = {{"refresh", "0 3 * * *"}, {"sources", {{source, "*/15 * * * *"}}}, {"segments", {{d->name, "0 6 * * *"}}}};
  call("PUT", "/api/v1/schedules", put.dump());
  Json got = call("GET", "/api/v1/schedules");
  EXPECT_EQ(got["refresh"], "0 3 * * *");
  EXPECT_EQ(got["sources"][source], "*/15 * * * *");
  EXPECT_EQ(got["segments"][d->name], "0 6 * * *");
  std::map<std::string, std::string> next;
  for (const auto& j : got["jobs"]) next[j["name"].get<std::string>()] = j["next_at"].get<std::string>();
  EXPECT_EQ(next["refresh"].substr(0, 19), "2026-01-01T03:00:00") << got.dump();
  EXPECT_EQ(next["source:" + source].substr(0, 19), "2026-01-01T00:15:00") << got.dump();
  EXPECT_EQ(next["segment:" + d->name].substr(0, 19), "2026-01-01T06:00:00") << got.dump();
  // At 00:15 only the source's schedule is due: its refresh is triggered by it.
  auto fired = (*server)->RunDueSchedulesForTest(t0 + 15 * 60 * 1000000LL);
  ASSERT_EQ(fired, std::vector<std::string>{"source:" + source});
  (*server)->WaitForRefreshes();
  Json runs = call("GET", "/api/v1/runs?limit=1");
  ASSERT_FALSE(runs["items"].empty()) << runs.dump();
  EXPECT_EQ(runs["items"][0]["trigger"], "schedule:source:" + source) << runs.dump();
  EXPECT_EQ(runs["items"][0]["status"], "succeeded") << runs.dump();
  // An invalid cron is refused and changes nothing.
  HttpResult bad = HttpCall((*server)->port(), "PUT", "/api/v1/schedules", small.admin, R"({"refresh":"0 25 * * *"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(call("GET", "/api/v1/schedules")["refresh"], "0 3 * * *");
  (*server)->Stop();
}

// An export whose `when` is a cron text is scheduled by the server (as soon
// as it is created through the API) and each firing runs it, recorded with
// trigger "schedule".
TEST(ApiServerScheduleTest, ExportsWithACronScheduleRunWhenDue) {
  Status reg = RegisterFileDestinations(DestinationRegistry::Global());
  ASSERT_TRUE(reg.ok() || reg.code() == StatusCode::kAlreadyExists) << reg.ToString();
  SmallWorkspace small(100);
  {
    auto ws = Workspace::Open(small.ws_dir);
    ASSERT_TRUE(ws.ok());
    auto project = (*ws)->catalog().LoadProject();
    ASSERT_TRUE(project.ok());
    ConnectionConfig files;
    files.name = "nightly_files";
    files.kind = "files";
    files.settings["path"] = (small.dir / "exports").string();
    project->connections.push_back(files);
    ASSERT_TRUE((*ws)->catalog().ReplaceProject(*project).ok());
  }
  const int64_t t0 = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z
  ApiServerOptions options;
  options.http.port = 0;
  options.log_requests = false;
  options.run_schedules = true;
  options.run_date = kDefaultDemoToday;
  options.scheduler.start_thread = false;
  options.scheduler.now_micros = [t0] { return t0; };
  auto server = ApiServer::Start(small.ws_dir, options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  HttpResult created = HttpCall((*server)->port(), "POST", "/api/v1/exports", small.admin,
                                R"({"name":"NightlyCustomers","connection":"nightly_files","what":{"entity":"Customer"},)"
                                R"("mode":"full","when":"30 2 * * *"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE((*server)->RunDueSchedulesForTest(t0 + 60LL * 1000000).empty());  // 00:01: not due
  auto fired = (*server)->RunDueSchedulesForTest(t0 + (2 * 3600 + 30 * 60) * 1000000LL);
  ASSERT_EQ(fired, std::vector<std::string>{"export:NightlyCustomers"});
  HttpResult history = HttpCall((*server)->port(), "GET", "/api/v1/exports/NightlyCustomers/history", small.admin);
  ASSERT_EQ(history.status, 200) << history.body;
  Json runs = Json::parse(history.body);
  ASSERT_EQ(runs["items"].size(), 1u) << history.body;
  EXPECT_EQ(runs["items"][0]["trigger"], "schedule");
  EXPECT_EQ(runs["items"][0]["status"], "succeeded") << history.body;
  EXPECT_GT(runs["items"][0]["rows_sent"].get<int64_t>(), 0);
  EXPECT_TRUE(fs::exists(small.dir / "exports" / "NightlyCustomers.csv"));
  (*server)->Stop();
}

}  // namespace
}  // namespace cdp

namespace cdp {
namespace {

// Exports through the API: a segment's members to a files connection, run
// now (all members, then no change), history newest first; secrets are
// write-only; bodies the schema refuses name the field.
TEST_F(ApiServerTest, ExportRoutesCreateRunAndNeverEchoSecrets) {
  Json connections = GetJson("/api/v1/connections");
  ASSERT_EQ(connections["items"].size(), 1u) << connections.dump();
  EXPECT_EQ(connections["items"][0]["kind"], "files");
  EXPECT_TRUE(connections["items"][0]["kind_registered"].get<bool>());

  EXPECT_EQ(Call("PUT", "/api/v1/secrets/crm_token", *contributor_, R"({"value":"hunter2-secret"})").status, 403);
  HttpResult put = Call("PUT", "/api/v1/secrets/crm_token", *admin_, R"({"value":"hunter2-secret"})");
  ASSERT_EQ(put.status, 200) << put.body;
  HttpResult secrets = Call("GET", "/api/v1/secrets", *admin_);
  EXPECT_NE(secrets.body.find("crm_token"), std::string::npos) << secrets.body;
  EXPECT_EQ(secrets.body.find("hunter2"), std::string::npos) << secrets.body;
  EXPECT_EQ(put.body.find("hunter2"), std::string::npos) << put.body;

  HttpResult bad = Call("POST", "/api/v1/exports", *admin_, R"({"name":"X","connection":5,"what":{"segment":"S"}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("connection"), std::string::npos) << bad.body;
  HttpResult unknown = Call("POST", "/api/v1/exports", *admin_,
                            R"({"name":"X","connection":"lab_files","what":{"segment":"NoSuchSegment"}})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("NoSuchSegment"), std::string::npos) << unknown.body;

  HttpResult created = Call("POST", "/api/v1/exports", *contributor_,
                            R"({"name":"CaliFiles","connection":"lab_files","what":{"segment":"CustomersFromCalifornia"},)"
                            R"("fields":["CustomerId",{"FirstName":"first_name"}],"mode":"full","when":"manual"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Call("POST", "/api/v1/exports/CaliFiles/run", *viewer_, "{}").status, 403);

  const int64_t members = GetJson("/api/v1/segments/CustomersFromCalifornia")["members"].get<int64_t>();
  ASSERT_GT(members, 0);
  HttpResult run = Call("POST", "/api/v1/exports/CaliFiles/run", *contributor_, "{}");
  ASSERT_EQ(run.status, 200) << run.body;
  Json first = Json::parse(run.body);
  EXPECT_EQ(first["status"], "succeeded") << run.body;
  EXPECT_EQ(first["rows_sent"].get<int64_t>(), members);
  EXPECT_EQ(first["trigger"], "api");
  // The file holds a header and one line per member, with the renamed field.
  std::ifstream in(*dir_ / "exports" / "CaliFiles.csv");
  ASSERT_TRUE(in.good());
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "CustomerId,first_name");
  int64_t lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, members);

  Json history = GetJson("/api/v1/exports/CaliFiles/history?limit=5");
  ASSERT_EQ(history["items"].size(), 1u) << history.dump();
  EXPECT_EQ(history["items"][0]["id"], first["id"]);
  Json listed = GetJson("/api/v1/exports");
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["last_run"]["status"], "succeeded");
  EXPECT_EQ(GetJson("/api/v1/exports/CaliFiles")["state_rows"].get<int64_t>(), members);

  EXPECT_EQ(Call("POST", "/api/v1/exports/NoSuchExport/run", *admin_, "{}").status, 404);
  ASSERT_EQ(Call("DELETE", "/api/v1/exports/CaliFiles", *admin_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/exports/CaliFiles", *admin_).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/secrets/crm_token", *admin_).status, 200);
}

}  // namespace
}  // namespace cdp
