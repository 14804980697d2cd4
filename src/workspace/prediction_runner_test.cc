// The predictions stage and service end to end on the Contoso Coffee demo
// (examples/contoso/project.yaml + predictions.yaml): the refresh trains and
// scores every prediction into Prediction_<name>; the planted churn cause of
// the demo (a bad review before people stop buying, predictions_truth.csv)
// is found and graded; segments use the outputs; external models and
// imported scores; readiness refuses data that cannot train.
#include "workspace/prediction_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "predict/booster.h"
#include "workspace/activity_runner.h"
#include "workspace/definitions.h"
#include "workspace/demo_test_workspace.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

PredictionRunOptions AsOf(int32_t day) {
  PredictionRunOptions o;
  o.run_date = day;
  return o;
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(cell);
    if (!line.empty() && line.back() == ',') row.push_back("");
    rows.push_back(std::move(row));
  }
  return rows;
}

class PredictionRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cdp_predict_" + std::to_string(::getpid())));
    DemoWorkspaceOptions options;
    options.examples_dir = std::string(CDP_SOURCE_DIR) + "/examples/contoso";
    options.yaml_files = {"project.yaml", "predictions.yaml"};
    options.customers = 1500;
    options.seed = 7;
    options.keep_segments = false;
    auto demo = MakeDemoWorkspace(dir_->string(), options);
    ASSERT_TRUE(demo.ok()) << demo.status().message();
    result_ = new RefreshResult(demo->refresh);
    ws_ = demo->workspace.release();
  }
  static void TearDownTestSuite() {
    delete ws_;
    delete result_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static const StageResult* Stage(const std::string& name) {
    for (const auto& s : result_->stages) {
      if (s.stage.name() == name) return &s;
    }
    return nullptr;
  }

  static fs::path* dir_;
  static Workspace* ws_;
  static RefreshResult* result_;
};

fs::path* PredictionRunnerTest::dir_ = nullptr;
Workspace* PredictionRunnerTest::ws_ = nullptr;
RefreshResult* PredictionRunnerTest::result_ = nullptr;

TEST_F(PredictionRunnerTest, RefreshTrainsAndScoresEveryPrediction) {
  const StageResult* s = Stage("predictions");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->status, "succeeded") << s->message;
  EXPECT_TRUE(s->warnings.empty()) << s->warnings[0];
  EXPECT_NE(s->message.find("4 of 4 prediction(s) scored, 4 trained"), std::string::npos) << s->message;
  auto list = ListPredictions(*ws_);
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 4u);
  for (const auto& p : *list) {
    EXPECT_TRUE(p.trained) << p.config.name;
    EXPECT_FALSE(p.grade.empty()) << p.config.name;
    EXPECT_GT(p.scored_customers, 100) << p.config.name;
    EXPECT_EQ(p.output_entity, "Prediction_" + p.config.name);
  }
  // Stage order: predictions after measures and before segments.
  std::vector<std::string> order;
  for (const auto& st : result_->stages) order.push_back(st.stage.name());
  auto at = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(at("measures"), at("predictions"));
  EXPECT_LT(at("predictions"), at("segments"));
}

// The demo plants churners whose cause is a bad website review before they
// stop buying (src/demo/demo_generator.h, predictions_truth.csv). Most of the
// demo's churn has no visible cause and customers buy about six times a year,
// so the recency rule is a strong baseline: the model must catch about as
// many churners as the rule at its coverage, rank better
// (AUC), learn the review among its most important features, and name it
// among the top factors of many of the customers it flags.
TEST_F(PredictionRunnerTest, ChurnFindsThePlantedCause) {
  auto eval = PredictionEvaluation(*ws_, "Churn");
  ASSERT_TRUE(eval.ok()) << eval.status().message();
  const Json& e = (*eval)["evaluation"];
  // The grade compares recall at the recency rule's coverage: since the demo
  // plants a high-spend subgroup (issue 19) the model and the rule are level
  // on seed 7 (0.733 vs 0.736, grade C; B before). The model must not fall
  // more than 3% below the rule there, and must rank better (AUC, below).
  EXPECT_FALSE((*eval)["grade"].get<std::string>().empty());
  EXPECT_GE(e["churn_class_accuracy_at_baseline_coverage"].get<double>(),
            0.97 * e["baseline"]["churn_class_accuracy"].get<double>())
      << e.dump(1);
  EXPECT_GT(e["auc"].get<double>(), e["baseline"]["auc"].get<double>()) << e.dump(1);
  EXPECT_EQ(e["horizon_days"].get<int>(), 180);
  bool review_important = false;
  int rank = 0;
  for (const auto& f : e["importance"]) {
    if (++rank > 10) break;
    review_important |= f["feature"].get<std::string>().find("WebsiteReview") != std::string::npos;
  }
  EXPECT_TRUE(review_important) << e["importance"].dump(1);

  // Among the highest-scored customers, the review is a top factor often.
  auto page = PredictionScores(*ws_, "Churn", 0, 50);
  ASSERT_TRUE(page.ok()) << page.status().message();
  int with_review = 0;
  const auto& cols = (*page)["columns"];
  size_t top_col = std::find(cols.begin(), cols.end(), "TopFactors") - cols.begin();
  for (const auto& row : (*page)["rows"]) {
    if (row[top_col].is_string() && row[top_col].get<std::string>().find("WebsiteReview") != std::string::npos) {
      ++with_review;
    }
  }
  EXPECT_GE(with_review, 10) << page->dump(1).substr(0, 4000);
}

TEST_F(PredictionRunnerTest, ClvRecommendationsAndSubscriptionsAreGradedAndWritten) {
  for (const char* name : {"LifetimeValue", "Recommendations", "SubscriptionChurn"}) {
    auto eval = PredictionEvaluation(*ws_, name);
    ASSERT_TRUE(eval.ok()) << name << ": " << eval.status().message();
    EXPECT_TRUE((*eval)["grade"] == "A" || (*eval)["grade"] == "B" || (*eval)["grade"] == "C") << name;
    EXPECT_TRUE((*eval)["current"].get<bool>());
  }
  auto reco = PredictionScores(*ws_, "Recommendations", 0, 500);
  ASSERT_TRUE(reco.ok()) << reco.status().message();
  std::map<int64_t, int> per_customer;
  for (const auto& row : (*reco)["rows"]) ++per_customer[row[0].get<int64_t>()];
  for (const auto& [c, n] : per_customer) EXPECT_LE(n, 5) << c;
  auto clv = PredictionScores(*ws_, "LifetimeValue", 0, 3);
  ASSERT_TRUE(clv.ok());
  ASSERT_EQ((*clv)["rows"].size(), 3u);
  // Highest CLV first.
  EXPECT_GE((*clv)["rows"][0][4].get<double>(), (*clv)["rows"][1][4].get<double>());
}

// The CLV evaluation says which model it uses (boosted_clv.h's rule) with
// both models' and the baseline's figures, and scores with that model.
TEST_F(PredictionRunnerTest, ClvSaysWhichModelItUsesAndScoresWithIt) {
  auto check = [](const Json& e, const std::string& name) {
    const Json& c = e["model_comparison"];
    ASSERT_TRUE(c.is_object()) << name;
    EXPECT_EQ(e["model_used"], c["model_used"]) << name;
    for (const char* side : {"bgnbd_gamma_gamma", "baseline"}) {
      for (const char* f : {"mae", "rmse", "spearman", "found"}) EXPECT_TRUE(c[side].contains(f)) << name << side << f;
    }
    if (e["model_used"] == "bgnbd_gamma_gamma") EXPECT_EQ(e["model_found"], c["bgnbd_gamma_gamma"]["found"]) << name;
    if (!c["eligible"].get<bool>()) EXPECT_EQ(e["model_used"], "bgnbd_gamma_gamma") << name;
    if (e["model_used"] == "boosted") {
      EXPECT_EQ(e["model_found"], c["boosted"]["found"]) << name;
      EXPECT_GT(c["boosted"]["found"].get<int64_t>(), c["bgnbd_gamma_gamma"]["found"].get<int64_t>()) << name;
      EXPECT_LE(c["boosted"]["mae"].get<double>(), c["bgnbd_gamma_gamma"]["mae"].get<double>()) << name;
    }
  };
  auto twelve = PredictionEvaluation(*ws_, "LifetimeValue");
  ASSERT_TRUE(twelve.ok()) << twelve.status().message();
  check((*twelve)["evaluation"], "LifetimeValue");
  // The figures, for the report (--gtest_output=xml:FILE shows them).
  RecordProperty("clv12_comparison", (*twelve)["evaluation"]["model_comparison"].dump());
  // Six months: two horizons (a year) of the demo's history are there, and
  // 1,038 of the 1,500 demo people (seed 7) have history a year before as_of.
  auto six = PredictionConfigFromJson(
      R"({"name":"Clv6","kind":"clv","activities":["OnlinePurchase","StorePurchase"],"horizon_months":6})");
  ASSERT_TRUE(six.ok()) << six.status().message();
  ASSERT_TRUE(PutPrediction(*ws_, *six, DefinitionWrite::kCreate).ok());
  auto t = TrainPrediction(*ws_, "Clv6", AsOf(kDefaultDemoToday));
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto e6 = PredictionEvaluation(*ws_, "Clv6");
  ASSERT_TRUE(e6.ok());
  const Json& ev = (*e6)["evaluation"];
  check(ev, "Clv6");
  RecordProperty("clv6_comparison", ev["model_comparison"].dump());
  EXPECT_TRUE(ev["model_comparison"]["eligible"].get<bool>()) << ev["model_comparison"].dump();
  EXPECT_EQ((*e6)["grade"], ev["grade"]);
  auto scores = PredictionScores(*ws_, "Clv6", 0, 3);
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  EXPECT_GT((*scores)["total"].get<int64_t>(), 1000);
  EXPECT_GE((*scores)["rows"][0][4].get<double>(), (*scores)["rows"][1][4].get<double>());
  ASSERT_TRUE(DeletePrediction(*ws_, "Clv6").ok());
}

TEST_F(PredictionRunnerTest, CustomerCardAndSegmentsUseTheOutputs) {
  auto page = PredictionScores(*ws_, "Churn", 0, 1);
  ASSERT_TRUE(page.ok());
  int64_t id = (*page)["rows"][0][0].get<int64_t>();
  auto card = CustomerPredictions(*ws_, id);
  ASSERT_TRUE(card.ok()) << card.status().message();
  std::set<std::string> names;
  for (const auto& p : *card) names.insert(p["name"].get<std::string>());
  EXPECT_TRUE(names.count("Churn"));
  for (const auto& p : *card) {
    if (p["name"] == "Churn") {
      EXPECT_TRUE(p["values"].contains("ChurnScore"));
    }
  }

  // "Likely churners with a high lifetime value": rules on the outputs.
  auto d = ParseSegmentYaml(
      "name: ChurnersWithHighValue\ntype: static\nrules:\n"
      "  - entity: Prediction_Churn\n    conditions: [{field: IsChurn, op: equals, values: [true]}]\n"
      "  - entity: Prediction_LifetimeValue\n    combine: intersect\n"
      "    conditions: [{field: HighValue, op: equals, values: [true]}]\n");
  ASSERT_TRUE(d.ok()) << d.status().message();
  auto saved = SaveSegment(*ws_, *d, SegmentSaveMode::kUpsert, SegmentRunOptions{.run_date = kDefaultDemoToday});
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(snap->entities.count("Segment_ChurnersWithHighValue"));
  EXPECT_GT(snap->entities.at("Segment_ChurnersWithHighValue").num_rows, 0u);
}

TEST_F(PredictionRunnerTest, SecondRefreshSkipsAndRetrainUsesTheStoredModel) {
  RefreshOptions refresh;
  refresh.threads = 2;
  refresh.run_date = kDefaultDemoToday;
  auto r = RunRefresh(*ws_, refresh);
  ASSERT_TRUE(r.ok() && r->ok());
  for (const auto& s : r->stages) {
    if (s.stage.name() == "predictions") {
      EXPECT_EQ(s.status, "skipped") << s.message;
    }
  }
  auto before = GetPrediction(*ws_, "Churn");
  ASSERT_TRUE(before.ok());
  // Scoring by hand keeps the model.
  auto scored = ScorePrediction(*ws_, "Churn", AsOf(kDefaultDemoToday));
  ASSERT_TRUE(scored.ok()) << scored.status().message();
  EXPECT_GT(scored->customers, 100);
  auto after = GetPrediction(*ws_, "Churn");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(before->trained_at, after->trained_at);
}

TEST_F(PredictionRunnerTest, ErrorsNameThePredictionAndWhatIsMissing) {
  auto missing = TrainPrediction(*ws_, "Nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("Churn"), std::string::npos);  // lists the predictions
  // Too little history: the readiness problem is the error.
  auto early = TrainPrediction(*ws_, "Churn", AsOf(kDefaultDemoToday - 640));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("history"), std::string::npos) << early.status().message();
  auto ready = PredictionReadiness(*ws_, "Churn", AsOf(kDefaultDemoToday - 640));
  ASSERT_TRUE(ready.ok());
  EXPECT_FALSE((*ready)["ready"].get<bool>());
  auto bad_page = PredictionScores(*ws_, "Churn", 0, 501);
  ASSERT_FALSE(bad_page.ok());
  EXPECT_NE(bad_page.status().message().find("limit"), std::string::npos);
}

// A model trained elsewhere (an XGBoost JSON file) scores every customer on
// measures; scores imported from an entity are copied per customer.
TEST_F(PredictionRunnerTest, ExternalModelAndImportedScores) {
  // Train a tiny model on two features and save it where the project points.
  FeatureMatrix x;
  x.names = {"a", "b"};
  x.rows = 200;
  std::vector<float> y;
  for (int i = 0; i < 200; ++i) {
    x.values.push_back(static_cast<float>(i % 50));
    x.values.push_back(static_cast<float>(i % 7));
    y.push_back(i % 50 > 25 ? 1.0f : 0.0f);
  }
  BoosterParams params;
  params.rounds = 10;
  auto b = Booster::Train(x, y, params);
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto json = b->SaveJson();
  ASSERT_TRUE(json.ok());
  fs::create_directories(*dir_ / "models");
  std::ofstream(*dir_ / "models" / "own.json") << *json;
  // Partner scores keyed by the eCommerce ContactId.
  {
    auto contacts = ReadCsv((*dir_ / "sources" / "ecommerce_contacts.csv").string());
    std::ofstream out(*dir_ / "sources" / "partner_scores.csv");
    out << "ContactId,PartnerScore\n";
    for (size_t i = 1; i < contacts.size() && i < 40; ++i) out << contacts[i][0] << "," << (i % 10) / 10.0 << "\n";
  }
  auto project = ws_->catalog().LoadProject();
  ASSERT_TRUE(project.ok());
  ProjectConfig p = *project;
  SourceConfig src;
  src.name = "Partner Scores";
  src.kind = SourceKind::kCsv;
  src.path = (*dir_ / "sources" / "partner_scores.csv").string();
  SourceFieldConfig id;
  id.name = "ContactId";
  id.type = DataType::kString;
  src.fields.push_back(id);
  p.sources.push_back(src);
  RelationshipConfig rel;
  rel.name = "PartnerContact";
  rel.from_entity = "Partner Scores";
  rel.from_field = "ContactId";
  rel.to_entity = "eCommerce Contacts";
  rel.to_field = "ContactId";
  p.relationships.push_back(rel);
  auto own = PredictionConfigFromJson(
      R"({"name":"Own","kind":"xgboost_model","model_file":"models/own.json",)"
      R"("features":["Customer_Measure.TotalWebPurchases","Customer_Measure.ReviewCount"]})");
  ASSERT_TRUE(own.ok()) << own.status().message();
  auto partner = PredictionConfigFromJson(
      R"({"name":"Partner","kind":"imported_scores","entity":"Partner Scores","fields":["PartnerScore"]})");
  ASSERT_TRUE(partner.ok()) << partner.status().message();
  p.predictions.push_back(*own);
  p.predictions.push_back(*partner);
  auto applied = ApplyProject(*ws_, p);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  RefreshOptions refresh;
  refresh.threads = 2;
  refresh.run_date = kDefaultDemoToday;
  auto r = RunRefresh(*ws_, refresh);
  ASSERT_TRUE(r.ok() && r->ok()) << (r.ok() ? r->error : r.status().message());
  for (const auto& s : r->stages) {
    if (s.stage.name() == "predictions") {
      EXPECT_TRUE(s.warnings.empty()) << s.warnings[0];
      EXPECT_NE(s.message.find("6 of 6"), std::string::npos) << s.message;
    }
  }
  auto scores = PredictionScores(*ws_, "Own", 0, 5);
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  EXPECT_EQ((*scores)["columns"], Json::parse(R"(["CustomerId","Score"])"));
  EXPECT_GT((*scores)["total"].get<int64_t>(), 1000);
  auto imported = PredictionScores(*ws_, "Partner", 0, 100);
  ASSERT_TRUE(imported.ok()) << imported.status().message();
  EXPECT_GE((*imported)["total"].get<int64_t>(), 30);
  EXPECT_LE((*imported)["total"].get<int64_t>(), 39);

  // A model whose feature count differs from `features` is refused by name.
  auto wrong = PredictionConfigFromJson(
      R"({"name":"Own","kind":"xgboost_model","model_file":"models/own.json",)"
      R"("features":["Customer_Measure.TotalWebPurchases"]})");
  ASSERT_TRUE(wrong.ok());
  ASSERT_TRUE(PutPrediction(*ws_, *wrong, DefinitionWrite::kUpdate).ok());
  auto t = TrainPrediction(*ws_, "Own", AsOf(kDefaultDemoToday));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("expects 2 features"), std::string::npos) << t.status().message();
  // Unknown measure: refused when saved.
  auto unknown = PredictionConfigFromJson(
      R"({"name":"Own","kind":"xgboost_model","model_file":"models/own.json","features":["Customer_Measure.Nope"]})");
  ASSERT_TRUE(unknown.ok());
  Status s = PutPrediction(*ws_, *unknown, DefinitionWrite::kUpdate);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Customer_Measure.Nope is not a measure"), std::string::npos) << s.message();
  ASSERT_TRUE(DeletePrediction(*ws_, "Own").ok());
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->entities.count("Prediction_Own"));
}

}  // namespace
}  // namespace cdp
