// Integration tests of the predictions routes (routes_predictions.cc): a
// server on a free loopback port against a small Contoso demo workspace,
// called over real HTTP. The models themselves are tested in src/predict and
// workspace/prediction_runner_test.cc; these pin down the API: roles, bodies,
// status codes, paging, audit, and that a run's scores are served at once
// (the customer card included).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

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

// A transactional churn model over the demo's purchases.
constexpr const char* kChurnBody =
    R"({"name":"ApiChurn","display_name":"Churn, API test","kind":"transactional_churn",
        "activities":["OnlinePurchase","StorePurchase"],"window_days":90})";

class PredictionRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cdp_predroutes_XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    {
      auto ws = testing::MakeContosoWorkspace(*dir_, {.customers = 300, .seed = 11});
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
  // 400 whose message contains `needle`.
  static void Expect400(const std::string& method, const std::string& target, const std::string& body,
                        const std::string& needle) {
    HttpResult r = Call(method, target, *admin_, body);
    EXPECT_EQ(r.status, 400) << method << " " << target << " " << body << ": " << r.body;
    EXPECT_NE(r.body.find(needle), std::string::npos) << body << ": " << r.body;
  }
  static std::set<std::string> AuditActions() {
    std::set<std::string> out;
    Json audit = GetJson("/api/v1/audit?limit=200", *admin_);
    for (const auto& e : audit["items"]) out.insert(e.value("action", ""));
    return out;
  }

  static fs::path* dir_;
  static ApiServer* server_;
  static std::string* admin_;
  static std::string* contributor_;
  static std::string* viewer_;
};

fs::path* PredictionRoutesTest::dir_ = nullptr;
ApiServer* PredictionRoutesTest::server_ = nullptr;
std::string* PredictionRoutesTest::admin_ = nullptr;
std::string* PredictionRoutesTest::contributor_ = nullptr;
std::string* PredictionRoutesTest::viewer_ = nullptr;

// The whole life of a prediction through the API: created by a contributor
// (a viewer is refused), checked for readiness, trained (graded), its
// evaluation read, its scores paged in a stable order, served on the customer
// card, scored again, and deleted; every change and run is audited.
TEST_F(PredictionRoutesTest, CreateTrainEvaluatePageScoresAndDelete) {
  EXPECT_EQ(Call("POST", "/api/v1/predictions", *viewer_, kChurnBody).status, 403);
  HttpResult created = Call("POST", "/api/v1/predictions", *contributor_, kChurnBody);
  ASSERT_EQ(created.status, 201) << created.body;
  Json info = Json::parse(created.body);
  EXPECT_EQ(info["name"], "ApiChurn");
  EXPECT_EQ(info["kind"], "transactional_churn");
  EXPECT_EQ(info["output_entity"], "Prediction_ApiChurn");
  EXPECT_FALSE(info["trained"].get<bool>());
  EXPECT_EQ(Call("POST", "/api/v1/predictions", *contributor_, kChurnBody).status, 409) << "created twice";

  bool listed = false;
  Json list = GetJson("/api/v1/predictions");
  for (const auto& p : list["items"]) listed |= p["name"] == "ApiChurn";
  EXPECT_TRUE(listed);

  // Not trained yet: no evaluation, nothing to score with; the errors give no
  // command-line advice (as every API error).
  HttpResult no_evaluation = Call("GET", "/api/v1/predictions/ApiChurn/evaluation", *viewer_);
  EXPECT_EQ(no_evaluation.status, 404);
  EXPECT_EQ(no_evaluation.body.find("cdp "), std::string::npos) << no_evaluation.body;
  HttpResult no_model = Call("POST", "/api/v1/predictions/ApiChurn/score", *contributor_, "{}");
  EXPECT_EQ(no_model.status, 409);
  EXPECT_EQ(no_model.body.find("cdp "), std::string::npos) << no_model.body;

  Json readiness = GetJson("/api/v1/predictions/ApiChurn/readiness");
  ASSERT_TRUE(readiness.contains("ready")) << readiness.dump();
  EXPECT_TRUE(readiness["problems"].is_array());
  ASSERT_TRUE(readiness["ready"].get<bool>()) << readiness.dump();

  EXPECT_EQ(Call("POST", "/api/v1/predictions/ApiChurn/train", *viewer_, "{}").status, 403);
  HttpResult trained = Call("POST", "/api/v1/predictions/ApiChurn/train", *contributor_, "");  // the body is optional
  ASSERT_EQ(trained.status, 200) << trained.body;
  Json report = Json::parse(trained.body);
  const std::string grade = report["grade"];
  EXPECT_TRUE(grade == "A" || grade == "B" || grade == "C") << trained.body;

  info = GetJson("/api/v1/predictions/ApiChurn");
  EXPECT_TRUE(info["trained"].get<bool>());
  EXPECT_EQ(info["grade"], grade);
  const int64_t scored = info["scored_customers"].get<int64_t>();
  EXPECT_GT(scored, 0);

  // The stored evaluation: its grade, and the score histogram (under "charts"
  // as prediction_runner.h documents it, or in the model's own "evaluation").
  const Json evaluation = GetJson("/api/v1/predictions/ApiChurn/evaluation");
  ASSERT_TRUE(evaluation.is_object());
  EXPECT_EQ(evaluation.value("grade", ""), grade) << evaluation.dump();
  const Json& charts = evaluation.contains("charts") && evaluation.at("charts").is_object() ? evaluation.at("charts")
                       : evaluation.contains("evaluation")                                   ? evaluation.at("evaluation")
                                                                                            : evaluation;
  ASSERT_TRUE(charts.contains("histogram")) << evaluation.dump();
  EXPECT_FALSE(charts.at("histogram").empty());

  // Pages: the default, then two pages that join into one larger page.
  Json first = GetJson("/api/v1/predictions/ApiChurn/scores");
  EXPECT_EQ(first["total"].get<int64_t>(), scored);
  EXPECT_EQ(first["rows"].size(), std::min<size_t>(50, static_cast<size_t>(scored)));
  Json ten = GetJson("/api/v1/predictions/ApiChurn/scores?offset=0&limit=10");
  Json a = GetJson("/api/v1/predictions/ApiChurn/scores?offset=0&limit=5");
  Json b = GetJson("/api/v1/predictions/ApiChurn/scores?offset=5&limit=5");
  ASSERT_EQ(ten["rows"].size(), 10u);
  ASSERT_EQ(a["rows"].size(), 5u);
  ASSERT_EQ(b["rows"].size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a["rows"][i], ten["rows"][i]);
    EXPECT_EQ(b["rows"][i], ten["rows"][i + 5]);
  }
  const Json& columns = ten["columns"];
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  const int id_col = column("CustomerId"), score_col = column("ChurnScore");
  ASSERT_GE(id_col, 0) << columns.dump();
  ASSERT_GE(score_col, 0) << columns.dump();
  for (size_t i = 1; i < ten["rows"].size(); ++i) {
    EXPECT_GE(ten["rows"][i - 1][score_col].get<double>(), ten["rows"][i][score_col].get<double>()) << "highest first";
  }
  Json past = GetJson("/api/v1/predictions/ApiChurn/scores?offset=" + std::to_string(scored) + "&limit=5");
  EXPECT_TRUE(past["rows"].empty());

  // The top customer's card shows the same score (the run's generation is served).
  const int64_t top = ten["rows"][0][id_col].get<int64_t>();
  Json card = GetJson("/api/v1/customers/" + std::to_string(top) + "/card");
  ASSERT_TRUE(card["predictions"].is_array()) << card.dump();
  bool on_card = false;
  for (const auto& p : card["predictions"]) {
    if (p["name"] != "ApiChurn") continue;
    on_card = true;
    EXPECT_NEAR(p["values"]["ChurnScore"].get<double>(), ten["rows"][0][score_col].get<double>(), 1e-6) << p.dump();
    EXPECT_TRUE(p["values"].contains("TopFactors")) << p.dump();
  }
  EXPECT_TRUE(on_card) << card["predictions"].dump();
  // The scores are an ordinary entity, served at once.
  EXPECT_EQ(GetJson("/api/v1/entities/Prediction_ApiChurn/schema")["rows"].get<int64_t>(), scored);

  HttpResult rescored = Call("POST", "/api/v1/predictions/ApiChurn/score", *contributor_, R"({"as_of":"2026-10-31"})");
  ASSERT_EQ(rescored.status, 200) << rescored.body;
  EXPECT_EQ(Json::parse(rescored.body)["output_entity"], "Prediction_ApiChurn");

  // Replacing the definition drops the model.
  HttpResult replaced = Call("PUT", "/api/v1/predictions/ApiChurn", *contributor_,
                             R"({"kind":"transactional_churn","activities":["OnlinePurchase"],"window_days":60})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_FALSE(Json::parse(replaced.body)["trained"].get<bool>());

  std::set<std::string> actions = AuditActions();
  for (const char* a : {"prediction.create", "prediction.train", "prediction.score", "prediction.update"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
  EXPECT_EQ(Call("DELETE", "/api/v1/predictions/ApiChurn", *viewer_).status, 403);
  ASSERT_EQ(Call("DELETE", "/api/v1/predictions/ApiChurn", *contributor_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/predictions/ApiChurn", *viewer_).status, 404);
  EXPECT_TRUE(AuditActions().count("prediction.delete"));
}

// Bodies are checked by the schema before any work (unknown keys, types,
// ranges, kinds), then by the prediction parser and the project (names the
// key); paging and dates are checked naming the parameter.
TEST_F(PredictionRoutesTest, BadBodiesAndParametersGet400NamingTheProblem) {
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"clv","colour":"red"})", "unknown field 'colour'");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"clv","subscriptions":{"entity":"S","colour":1}})",
            "unknown field 'subscriptions.colour'");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"crystal_ball"})", "field 'kind'");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X"})", "field 'kind' is required");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"transactional_churn","window_days":"ninety"})",
            "field 'window_days' must be");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"transactional_churn","window_days":3})",
            "field 'window_days'");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"product_recommendations","count":1000})", "field 'count'");
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"product_recommendations","algorithm":"magic"})",
            "field 'algorithm'");
  Expect400("POST", "/api/v1/predictions", R"({"kind":"clv","activities":["OnlinePurchase"]})", "'name'");
  // The project check: an activity that does not exist is named.
  Expect400("POST", "/api/v1/predictions", R"({"name":"X","kind":"clv","activities":["NoSuchActivity"]})", "NoSuchActivity");
  EXPECT_EQ(Call("GET", "/api/v1/predictions/X", *viewer_).status, 404) << "nothing was saved";
  // PUT: the path names the prediction; another name in the body is refused; an unknown one is 404.
  Expect400("PUT", "/api/v1/predictions/NoSuchPrediction", R"({"name":"Other","kind":"clv","activities":["OnlinePurchase"]})",
            "differs from the path");
  EXPECT_EQ(Call("PUT", "/api/v1/predictions/NoSuchPrediction", *admin_, R"({"kind":"clv","activities":["OnlinePurchase"]})").status,
            404);
  // Unknown predictions.
  for (const char* target : {"/api/v1/predictions/NoSuchPrediction", "/api/v1/predictions/NoSuchPrediction/readiness",
                             "/api/v1/predictions/NoSuchPrediction/evaluation", "/api/v1/predictions/NoSuchPrediction/scores"}) {
    EXPECT_EQ(Call("GET", target, *viewer_).status, 404) << target;
  }
  EXPECT_EQ(Call("POST", "/api/v1/predictions/NoSuchPrediction/train", *admin_, "{}").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/predictions/NoSuchPrediction", *admin_).status, 404);
  // Runs: a date that is not one; paging parameters out of range.
  Expect400("POST", "/api/v1/predictions/NoSuchPrediction/train", R"({"as_of":"2026-02-30"})", "'as_of'");
  Expect400("POST", "/api/v1/predictions/NoSuchPrediction/train", R"({"as_of":"yesterday"})", "'as_of'");
  Expect400("POST", "/api/v1/predictions/NoSuchPrediction/score", R"({"full":true})", "unknown field 'full'");
  Expect400("GET", "/api/v1/predictions/NoSuchPrediction/scores?limit=501", "", "parameter 'limit' must be between 1 and 500");
  Expect400("GET", "/api/v1/predictions/NoSuchPrediction/scores?limit=0", "", "parameter 'limit'");
  Expect400("GET", "/api/v1/predictions/NoSuchPrediction/scores?offset=-1", "", "parameter 'offset'");
  Expect400("GET", "/api/v1/predictions/NoSuchPrediction/scores?offset=ten", "", "parameter 'offset' must be an integer");
}

}  // namespace
}  // namespace cdp
