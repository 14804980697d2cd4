// Integration tests of the insight and enrichment routes (routes_insights.cc):
// a server on a free loopback port against a small Contoso demo workspace
// with the lab's three segments, called over real HTTP. The algorithms are
// tested in src/insight, src/enrich and the workspace services; these pin
// down the API: roles, bodies, parameters, status codes, that the answers
// agree with the segments the API serves (an overlap's shared count is the
// intersection of the members pages), that a saved expansion is served at
// once, and that errors give no command-line advice.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "access/api_key_store.h"
#include "server/api_server.h"
#include "server/testing/contoso_workspace.h"
#include "server/testing/http_client.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::HttpCall;
using testing::HttpResult;

constexpr const char* kCalifornia = "CustomersFromCalifornia";
constexpr const char* kHighValue = "HighValueOnlineCustomers";
constexpr const char* kSummer = "SummerPromo";

class InsightRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cdp_insightroutes_XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    {
      auto ws = testing::MakeContosoWorkspace(*dir_, {.customers = 300, .seed = 11, .save_segments = true});
      ASSERT_TRUE(ws.ok()) << ws.status().ToString();
      ApiKeyStore keys((*ws)->catalog());
      admin_ = new std::string(keys.Create("test-admin", Role::kAdmin, "test")->key);
      contributor_ = new std::string(keys.Create("test-contributor", Role::kContributor, "test")->key);
      viewer_ = new std::string(keys.Create("test-viewer", Role::kViewer, "test")->key);
    }
    ApiServerOptions options;
    options.http.port = 0;
    options.http.threads = 4;
    options.run_schedules = false;
    options.log_requests = false;
    options.refresh_threads = 2;
    options.run_date = kDefaultDemoToday;
    auto server = ApiServer::Start((*dir_ / "ws").string(), options);
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
  }

  static HttpResult Call(const std::string& method, const std::string& target, const std::string& key,
                         const std::string& body = "") {
    return HttpCall(server_->port(), method, target, key, body);
  }
  static Json GetJson(const std::string& target, const std::string& key = *viewer_) {
    HttpResult r = Call("GET", target, key);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  static Json PostJson(const std::string& target, const std::string& body, const std::string& key = *viewer_) {
    HttpResult r = Call("POST", target, key, body);
    EXPECT_EQ(r.status, 200) << target << " " << body << ": " << r.body;
    return Json::parse(r.body, nullptr, false);
  }
  // `status` whose message contains `needle` and no command-line advice.
  static void ExpectError(int status, const std::string& method, const std::string& target, const std::string& body,
                          const std::string& needle, const std::string& key = *admin_) {
    HttpResult r = Call(method, target, key, body);
    EXPECT_EQ(r.status, status) << method << " " << target << " " << body << ": " << r.body;
    EXPECT_NE(r.body.find(needle), std::string::npos) << method << " " << target << " " << body << ": " << r.body;
    EXPECT_EQ(r.body.find("cdp "), std::string::npos) << "no command-line advice: " << r.body;
  }
  // Every member's CustomerId, read page by page from the members route.
  static std::set<int64_t> Members(const std::string& segment) {
    std::set<int64_t> out;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      Json j = GetJson("/api/v1/segments/" + segment + "/members?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const auto& row : j["items"]) out.insert(row["CustomerId"].get<int64_t>());
      if (!j.contains("next_cursor") || j["next_cursor"].is_null()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    return out;
  }
  static int64_t Shared(const std::set<int64_t>& a, const std::set<int64_t>& b) {
    std::vector<int64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    return static_cast<int64_t>(both.size());
  }
  static std::set<std::string> AuditActions() {
    std::set<std::string> out;
    Json audit = GetJson("/api/v1/audit?limit=200", *admin_);
    for (const auto& e : audit["items"]) out.insert(e.value("action", ""));
    return out;
  }
  // The attributes list: the service's array, or an object holding it.
  static Json AttributeList(const Json& j) {
    if (j.is_array()) return j;
    for (const char* key : {"attributes", "items"}) {
      if (j.contains(key) && j[key].is_array()) return j[key];
    }
    return Json::array();
  }

  static fs::path* dir_;
  static ApiServer* server_;
  static std::string* admin_;
  static std::string* contributor_;
  static std::string* viewer_;
};

fs::path* InsightRoutesTest::dir_ = nullptr;
ApiServer* InsightRoutesTest::server_ = nullptr;
std::string* InsightRoutesTest::admin_ = nullptr;
std::string* InsightRoutesTest::contributor_ = nullptr;
std::string* InsightRoutesTest::viewer_ = nullptr;

// A viewer reads an overlap; its counts are the intersections of the members
// the API serves, the matrix's diagonal is each segment's size, and the
// shares are the shared count over each side.
TEST_F(InsightRoutesTest, OverlapAgreesWithTheServedMembers) {
  const std::set<int64_t> california = Members(kCalifornia), high = Members(kHighValue), summer = Members(kSummer);
  ASSERT_FALSE(california.empty());
  ASSERT_FALSE(high.empty());
  Json o = PostJson("/api/v1/insights/overlap",
                    std::string(R"({"segments":[")") + kCalifornia + "\",\"" + kHighValue + "\",\"" + kSummer + "\"]}");
  ASSERT_TRUE(o["segments"].is_array()) << o.dump();
  ASSERT_EQ(o["segments"].size(), 3u);
  const std::vector<const std::set<int64_t>*> sets = {&california, &high, &summer};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(o["segments"][i]["members"].get<int64_t>(), static_cast<int64_t>(sets[i]->size())) << o.dump();
    for (size_t j = 0; j < 3; ++j) {
      const int64_t want = i == j ? static_cast<int64_t>(sets[i]->size()) : Shared(*sets[i], *sets[j]);
      EXPECT_EQ(o["matrix"][i][j].get<int64_t>(), want) << i << "," << j << ": " << o["matrix"].dump();
    }
  }
  ASSERT_EQ(o["pairs"].size(), 3u) << o.dump();
  for (const auto& p : o["pairs"]) {
    // a and b index the segments (a_name and b_name name them).
    const std::string a = p.contains("a_name") ? p["a_name"].get<std::string>() : p["a"].get<std::string>();
    const std::string b = p.contains("b_name") ? p["b_name"].get<std::string>() : p["b"].get<std::string>();
    auto set_of = [&](const std::string& n) { return n == kCalifornia ? &california : n == kHighValue ? &high : &summer; };
    const int64_t shared = Shared(*set_of(a), *set_of(b));
    EXPECT_EQ(p["shared"].get<int64_t>(), shared) << p.dump();
    EXPECT_NEAR(p["share_of_a"].get<double>(), static_cast<double>(shared) / set_of(a)->size(), 1e-9) << p.dump();
    EXPECT_NEAR(p["share_of_b"].get<double>(), static_cast<double>(shared) / set_of(b)->size(), 1e-9) << p.dump();
  }
  std::vector<int64_t> all;
  std::set<int64_t> ch;
  std::set_intersection(california.begin(), california.end(), high.begin(), high.end(), std::inserter(ch, ch.end()));
  std::set_intersection(ch.begin(), ch.end(), summer.begin(), summer.end(), std::back_inserter(all));
  EXPECT_EQ(o.value("shared_by_all", o.value("all_shared", int64_t{-1})), static_cast<int64_t>(all.size())) << o.dump();

  // A breakdown of the shared members by an attribute sums to the shared count.
  Json b = PostJson("/api/v1/insights/overlap",
                    std::string(R"({"segments":[")") + kCalifornia + "\",\"" + kHighValue + R"("],"breakdown":"Gender"})");
  ASSERT_TRUE(b.contains("breakdown")) << b.dump();
  int64_t sum = 0;
  for (const auto& bucket : b["breakdown"]["buckets"]) sum += bucket["shared"].get<int64_t>();
  EXPECT_EQ(sum, Shared(california, high)) << b["breakdown"].dump();
}

// Overlap and compare take 2..200 segments, known names, a limit in range;
// each refusal names the field or parameter, before any work.
TEST_F(InsightRoutesTest, BadOverlapAndCompareRequestsNameTheProblem) {
  ExpectError(400, "POST", "/api/v1/insights/overlap", std::string(R"({"segments":[")") + kCalifornia + "\"]}", "'segments'");
  std::string many = R"({"segments":[)";
  for (int i = 0; i < 201; ++i) many += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
  many += "]}";
  ExpectError(400, "POST", "/api/v1/insights/overlap", many, "'segments'");
  ExpectError(400, "POST", "/api/v1/insights/overlap", R"({"segments":"A,B"})", "'segments'");
  ExpectError(400, "POST", "/api/v1/insights/overlap",
              std::string(R"({"segments":[")") + kCalifornia + "\",\"" + kHighValue + R"("],"colour":1})", "unknown field 'colour'");
  ExpectError(404, "POST", "/api/v1/insights/overlap", std::string(R"({"segments":[")") + kCalifornia + R"(","NoSuchSegment"]})",
              "NoSuchSegment");
  ExpectError(404, "POST", "/api/v1/insights/overlap",
              std::string(R"({"segments":[")") + kCalifornia + "\",\"" + kHighValue + R"("],"breakdown":"NoSuchAttribute"})",
              "NoSuchAttribute");
  ExpectError(400, "POST", "/api/v1/insights/compare", R"({"base":"x"})", "'segment'");
  ExpectError(400, "POST", "/api/v1/insights/compare", std::string(R"({"segment":")") + kHighValue + R"(","limit":0})", "'limit'");
  ExpectError(404, "POST", "/api/v1/insights/compare", R"({"segment":"NoSuchSegment"})", "NoSuchSegment");
  ExpectError(404, "POST", "/api/v1/insights/compare", std::string(R"({"segment":")") + kHighValue + R"(","base":"NoSuchBase"})",
              "NoSuchBase");
  ExpectError(400, "GET", std::string("/api/v1/segments/") + kHighValue + "/differentiators?limit=1001", "",
              "parameter 'limit' must be between 1 and 1000");
  ExpectError(400, "GET", std::string("/api/v1/segments/") + kHighValue + "/differentiators?limit=many", "", "parameter 'limit'");
  ExpectError(404, "GET", "/api/v1/segments/NoSuchSegment/differentiators", "", "NoSuchSegment");
}

// Differentiators of the high-value segment (AverageWebPurchase > 138)
// against everyone rank that measure near the top; scores are in [0, 1],
// high first; the GET and the POST agree; a base segment is honoured.
TEST_F(InsightRoutesTest, DifferentiatorsRankTheDefiningMeasureHigh) {
  Json d = GetJson(std::string("/api/v1/segments/") + kHighValue + "/differentiators?limit=10");
  ASSERT_TRUE(d["attributes"].is_array()) << d.dump();
  ASSERT_FALSE(d["attributes"].empty()) << d.dump();
  EXPECT_LE(d["attributes"].size(), 10u);
  EXPECT_EQ(d["segment_members"].get<int64_t>(), static_cast<int64_t>(Members(kHighValue).size()));
  double previous = 2;
  int rank_of_measure = -1;
  for (size_t i = 0; i < d["attributes"].size(); ++i) {
    const Json& a = d["attributes"][i];
    const double score = a["score"].get<double>();
    EXPECT_GE(score, 0.0) << a.dump();
    EXPECT_LE(score, 1.0) << a.dump();
    EXPECT_LE(score, previous) << "ranked high first";
    previous = score;
    if (a.value("attribute", a.value("name", "")).find("AverageWebPurchase") != std::string::npos && rank_of_measure < 0) {
      rank_of_measure = static_cast<int>(i);
    }
  }
  EXPECT_GE(rank_of_measure, 0) << "AverageWebPurchase among the top 10: " << d["attributes"].dump();
  EXPECT_LT(rank_of_measure, 3) << d["attributes"].dump();

  Json post = PostJson("/api/v1/insights/compare", std::string(R"({"segment":")") + kHighValue + R"(","limit":10})");
  EXPECT_EQ(post["attributes"], d["attributes"]);
  Json based = PostJson("/api/v1/insights/compare",
                        std::string(R"({"segment":")") + kHighValue + R"(","base":")" + kCalifornia + R"(","limit":5})");
  EXPECT_EQ(based["base_members"].get<int64_t>(), static_cast<int64_t>(Members(kCalifornia).size())) << based.dump();
}

// Find similar customers: a viewer is refused; a preview writes nothing; a
// save writes an expansion segment whose members are served at once and
// equal the reported count; both are audited. Options out of range are 400.
TEST_F(InsightRoutesTest, ExpandPreviewsThenSavesAServedExpansionSegment) {
  const std::string preview_body = std::string(R"({"source":")") + kHighValue + R"(","output":"ApiSimilar","save":false})";
  ExpectError(403, "POST", "/api/v1/insights/expand", preview_body, "write_definitions", *viewer_);
  Json preview = PostJson("/api/v1/insights/expand", preview_body, *contributor_);
  EXPECT_FALSE(preview["saved"].get<bool>()) << preview.dump();
  ASSERT_TRUE(preview.contains("quality")) << preview.dump();
  const double auc = preview["quality"]["auc"].get<double>();
  EXPECT_GE(auc, 0.0);
  EXPECT_LE(auc, 1.0);
  EXPECT_TRUE(preview["quality"].contains("verdict")) << preview.dump();
  EXPECT_TRUE(preview["bands"].is_array()) << preview.dump();
  EXPECT_TRUE(preview["drivers"].is_array()) << preview.dump();
  const int64_t pool = preview["pool_size"].get<int64_t>();
  EXPECT_EQ(pool, GetJson("/api/v1/overview")["customers"].get<int64_t>() - static_cast<int64_t>(Members(kHighValue).size()))
      << "the default pool is everyone outside the source";
  EXPECT_EQ(Call("GET", "/api/v1/segments/ApiSimilar", *viewer_).status, 404) << "a preview saves nothing";

  HttpResult saved = Call("POST", "/api/v1/insights/expand", *contributor_,
                          std::string(R"({"source":")") + kHighValue + R"(","output":"ApiSimilar","display_name":"Similar, API","share":0.1})");
  ASSERT_EQ(saved.status, 200) << saved.body;
  Json s = Json::parse(saved.body);
  EXPECT_TRUE(s["saved"].get<bool>());
  EXPECT_EQ(s["segment"], "ApiSimilar");
  const int64_t members = s["members"].get<int64_t>();
  EXPECT_GT(members, 0);
  EXPECT_LE(members, (pool + 9) / 10 + 1) << "about a tenth of the pool";
  Json seg = GetJson("/api/v1/segments/ApiSimilar");
  EXPECT_EQ(seg["type"], "expansion") << seg.dump();
  EXPECT_EQ(seg["members"].get<int64_t>(), members) << "served at once: " << seg.dump();
  const std::set<int64_t> similar = Members("ApiSimilar");
  EXPECT_EQ(static_cast<int64_t>(similar.size()), members);
  EXPECT_EQ(Shared(similar, Members(kHighValue)), 0) << "the source is left out unless asked";
  EXPECT_TRUE(AuditActions().count("segment.expand"));

  ExpectError(400, "POST", "/api/v1/insights/expand", std::string(R"({"source":")") + kHighValue + R"(","share":1.5})", "'share'",
              *contributor_);
  ExpectError(400, "POST", "/api/v1/insights/expand", std::string(R"({"source":")") + kHighValue + R"(","share":0,"save":false})",
              "share", *contributor_);
  ExpectError(400, "POST", "/api/v1/insights/expand",
              std::string(R"({"source":")") + kHighValue + R"(","min_similarity":0.2,"save":false})", "min_similarity", *contributor_);
  ExpectError(400, "POST", "/api/v1/insights/expand", R"({"pool":"x"})", "'source'", *contributor_);
  ExpectError(400, "POST", "/api/v1/insights/expand", std::string(R"({"source":")") + kHighValue + R"(","save":"yes"})", "'save'",
              *contributor_);
  ExpectError(404, "POST", "/api/v1/insights/expand", R"({"source":"NoSuchSegment","save":false})", "NoSuchSegment", *contributor_);
  ASSERT_EQ(Call("DELETE", "/api/v1/segments/ApiSimilar", *contributor_).status, 200);
}

// Suggestions for a numeric measure: each card has rules in words, a size,
// a lift of at least the asked minimum and a definition that the segment API
// saves as it is (a dynamic segment). RFM groups are listed. Bad targets and
// options are refused naming them.
TEST_F(InsightRoutesTest, SuggestionsSaveAsSegmentsAndRfmGroupsAreListed) {
  Json s = PostJson("/api/v1/insights/suggest", R"({"target":"LifetimeSpend","min_lift":1.2,"max_suggestions":5})");
  ASSERT_TRUE(s["suggestions"].is_array()) << s.dump();
  EXPECT_LE(s["suggestions"].size(), 5u);
  EXPECT_EQ(s["target"], "LifetimeSpend");
  for (const auto& card : s["suggestions"]) {
    EXPECT_FALSE(card["rules_text"].get<std::string>().empty()) << card.dump();
    EXPECT_GT(card["size"].get<int64_t>(), 0) << card.dump();
    EXPECT_GE(card["lift"].get<double>(), 1.2 - 1e-9) << card.dump();
    EXPECT_TRUE(card["definition"].is_object()) << card.dump();
  }
  if (!s["suggestions"].empty()) {
    Json def = s["suggestions"][0]["definition"];
    def["name"] = "ApiSuggested";
    HttpResult created = Call("POST", "/api/v1/segments", *contributor_, def.dump());
    ASSERT_EQ(created.status, 201) << created.body << " for " << def.dump();
    EXPECT_EQ(Json::parse(created.body)["status"], "active") << created.body;
    server_->WaitForRefreshes();
    EXPECT_EQ(GetJson("/api/v1/segments/ApiSuggested")["members"].get<int64_t>(), s["suggestions"][0]["size"].get<int64_t>())
        << "the saved rules select the suggested group";
    ASSERT_EQ(Call("DELETE", "/api/v1/segments/ApiSuggested", *contributor_).status, 200);
  }
  ExpectError(404, "POST", "/api/v1/insights/suggest", R"({"target":"NoSuchAttribute"})", "NoSuchAttribute");
  ExpectError(400, "POST", "/api/v1/insights/suggest", R"({"target":"LifetimeSpend","max_suggestions":0})", "'max_suggestions'");
  ExpectError(400, "POST", "/api/v1/insights/suggest", R"({"target":"LifetimeSpend","min_lift":0.5})", "'min_lift'");
  ExpectError(400, "POST", "/api/v1/insights/suggest", R"({"value":"Gold"})", "'target'");

  Json rfm = GetJson("/api/v1/insights/rfm");
  ASSERT_TRUE(rfm["groups"].is_array()) << rfm.dump();
  EXPECT_FALSE(rfm["groups"].empty()) << rfm.dump();
  int64_t in_groups = 0;
  for (const auto& g : rfm["groups"]) {
    EXPECT_FALSE(g["name"].get<std::string>().empty());
    in_groups += g["size"].get<int64_t>();
  }
  EXPECT_EQ(in_groups, rfm["customers"].get<int64_t>()) << "every customer in one group: " << rfm.dump();
  EXPECT_GT(rfm["customers_with_transactions"].get<int64_t>(), 0) << rfm.dump();
  EXPECT_EQ(GetJson("/api/v1/insights/rfm?as_of=2026-10-01")["groups"].is_array(), true);
  ExpectError(400, "GET", "/api/v1/insights/rfm?as_of=2026-02-30", "", "parameter 'as_of'");
  ExpectError(400, "GET", "/api/v1/insights/rfm?as_of=yesterday", "", "parameter 'as_of'");
  ExpectError(404, "GET", "/api/v1/insights/rfm?last_date_measure=NoSuchMeasure&frequency_measure=ReviewCount", "",
              "NoSuchMeasure");
  ExpectError(404, "GET", "/api/v1/insights/rfm?activity=NoSuchActivity", "", "NoSuchActivity");

  Json attributes = AttributeList(GetJson("/api/v1/insights/attributes"));
  ASSERT_FALSE(attributes.empty());
  bool lifetime = false;
  for (const auto& a : attributes) {
    const std::string kind = a["kind"];
    EXPECT_TRUE(kind == "numeric" || kind == "categorical") << a.dump();
    if (a["name"].get<std::string>().find("LifetimeSpend") != std::string::npos) lifetime = kind == "numeric";
  }
  EXPECT_TRUE(lifetime) << "LifetimeSpend is a numeric attribute: " << attributes.dump();
}

// Trend, growth, activate and deactivate: the trend's last point is the
// served count; growth lists every segment with its members; a viewer may not
// deactivate; a contributor may (twice: idempotent), and activate again.
TEST_F(InsightRoutesTest, TrendGrowthAndActivation) {
  const int64_t california = static_cast<int64_t>(Members(kCalifornia).size());
  Json t = GetJson(std::string("/api/v1/segments/") + kCalifornia + "/trend?days=365");
  ASSERT_TRUE(t["points"].is_array()) << t.dump();
  ASSERT_FALSE(t["points"].empty()) << t.dump();
  EXPECT_EQ(t["points"].back()["members"].get<int64_t>(), california) << t.dump();
  EXPECT_TRUE(t.contains("growth")) << t.dump();
  ExpectError(400, "GET", std::string("/api/v1/segments/") + kCalifornia + "/trend?days=0", "", "parameter 'days'");
  ExpectError(400, "GET", std::string("/api/v1/segments/") + kCalifornia + "/trend?days=3651", "", "parameter 'days'");
  ExpectError(400, "GET", std::string("/api/v1/segments/") + kCalifornia + "/trend?days=week", "", "parameter 'days'");
  ExpectError(404, "GET", "/api/v1/segments/NoSuchSegment/trend", "", "NoSuchSegment");

  Json growth = GetJson("/api/v1/segment-growth");
  std::set<std::string> listed;
  for (const auto& g : growth["items"]) {
    listed.insert(g["name"].get<std::string>());
    if (g["name"] == kCalifornia) {
      EXPECT_EQ(g["members"].get<int64_t>(), california) << g.dump();
    }
  }
  for (const char* name : {kCalifornia, kHighValue, kSummer}) EXPECT_TRUE(listed.count(name)) << name << ": " << growth.dump();

  const std::string deactivate = std::string("/api/v1/segments/") + kSummer + "/deactivate";
  const std::string activate = std::string("/api/v1/segments/") + kSummer + "/activate";
  ExpectError(403, "POST", deactivate, "", "write_definitions", *viewer_);
  HttpResult off = Call("POST", deactivate, *contributor_);
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_FALSE(Json::parse(off.body)["active"].get<bool>());
  EXPECT_EQ(Call("POST", deactivate, *contributor_).status, 200) << "idempotent";
  Json seg = GetJson(std::string("/api/v1/segments/") + kSummer);
  EXPECT_FALSE(seg["definition"].value("active", true)) << seg.dump();
  const Json growth_after = GetJson("/api/v1/segment-growth");  // kept: the loop reads into it
  for (const auto& g : growth_after["items"]) {
    if (g["name"] == kSummer) {
      EXPECT_FALSE(g["active"].get<bool>()) << g.dump();
    }
  }
  HttpResult on = Call("POST", activate, *contributor_);
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(Json::parse(on.body)["active"].get<bool>());
  seg = GetJson(std::string("/api/v1/segments/") + kSummer);
  EXPECT_TRUE(seg["definition"].value("active", true)) << seg.dump();
  EXPECT_EQ(seg["status"], "active") << seg.dump();
  std::set<std::string> actions = AuditActions();
  EXPECT_TRUE(actions.count("segment.deactivate"));
  EXPECT_TRUE(actions.count("segment.activate"));
  ExpectError(404, "POST", "/api/v1/segments/NoSuchSegment/deactivate", "", "NoSuchSegment", *contributor_);

  // A static segment has no evaluation to switch off: 409.
  HttpResult made = Call("POST", "/api/v1/segments/quick", *contributor_,
                         R"({"name":"ApiStatic","entity":"Customer","field":"State","op":"equals","values":["Texas"],"static":true})");
  ASSERT_EQ(made.status, 201) << made.body;
  server_->WaitForRefreshes();
  ExpectError(409, "POST", "/api/v1/segments/ApiStatic/deactivate", "", "ApiStatic", *contributor_);
  ASSERT_EQ(Call("DELETE", "/api/v1/segments/ApiStatic", *contributor_).status, 200);
}

// Enrichments: listed for a viewer; a run needs a contributor; an unknown
// name is 404 and the body is checked; a customer's values come from their
// own route and the card, and an unknown or malformed id is refused.
TEST_F(InsightRoutesTest, EnrichmentsListRunAndCustomerValues) {
  Json list = GetJson("/api/v1/enrichments");
  ASSERT_TRUE(list["items"].is_array()) << list.dump();
  ExpectError(403, "POST", "/api/v1/enrichments/run", "{}", "run_refresh", *viewer_);
  ExpectError(404, "POST", "/api/v1/enrichments/run", R"({"names":["NoSuchEnrichment"]})", "NoSuchEnrichment", *contributor_);
  ExpectError(400, "POST", "/api/v1/enrichments/run", R"({"names":"all"})", "'names'", *contributor_);
  ExpectError(400, "POST", "/api/v1/enrichments/run", R"({"as_of":"2026-13-01"})", "'as_of'", *contributor_);
  ExpectError(400, "POST", "/api/v1/enrichments/run", R"({"full":true})", "unknown field 'full'", *contributor_);

  const int64_t someone = *Members(kCalifornia).begin();
  if (!list["items"].empty()) {
    HttpResult ran = Call("POST", "/api/v1/enrichments/run", *contributor_, "");  // the body is optional
    ASSERT_EQ(ran.status, 200) << ran.body;
    Json reports = Json::parse(ran.body)["items"];
    EXPECT_EQ(reports.size(), list["items"].size()) << ran.body;
    EXPECT_TRUE(AuditActions().count("enrichment.run"));
    Json mine = GetJson("/api/v1/customers/" + std::to_string(someone) + "/enrichments");
    Json card = GetJson("/api/v1/customers/" + std::to_string(someone) + "/card");
    EXPECT_EQ(card["enrichments"], mine["items"]) << "the card shows the same values";
  } else {
    EXPECT_EQ(GetJson("/api/v1/customers/" + std::to_string(someone) + "/card")["enrichments"], Json::array());
  }
  ExpectError(400, "GET", "/api/v1/customers/abc/enrichments", "", "'abc'");
  ExpectError(404, "GET", "/api/v1/customers/987654321987/enrichments", "", "987654321987");
}

}  // namespace
}  // namespace cdp
