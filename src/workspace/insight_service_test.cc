// Segment insights and enrichment end to end on the Contoso Coffee demo
// (examples/contoso/project.yaml + enrichments.yaml) against the demo's
// planted truth (insights_truth.csv, src/demo/demo_generator.h): suggested
// segments recover the high-spend subgroup (Income >= 100,000 and Gold or
// Platinum), the lookalike of the espresso-machine buyers ranks the planted
// espresso lovers above the rest of the pool, brand affinities find the
// planted favourite brands; overlap agrees with the member lists; segment
// lifecycle (membership rules, deactivation, trend). The figures each test
// asks for were set before the first run, from the planted effects' sizes.
#include "workspace/insight_service.h"

#include <gtest/gtest.h>

#include <iostream>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "workspace/activity_runner.h"
#include "workspace/definitions.h"
#include "workspace/demo_test_workspace.h"
#include "workspace/enrichment_runner.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
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

std::shared_ptr<const Table> Entity(Workspace& ws, const std::string& name) {
  auto snap = ws.data().Current();
  EXPECT_TRUE(snap.ok());
  auto t = LoadEntity(ws, *snap, name);
  EXPECT_TRUE(t.ok()) << name << ": " << t.status().message();
  return t.ok() ? *t : nullptr;
}

// AUC of `score` for positives vs negatives (ties count half).
double Auc(const std::vector<std::pair<double, bool>>& scored) {
  std::vector<std::pair<double, bool>> v = scored;
  std::sort(v.begin(), v.end());
  double rank_sum = 0, pos = 0, neg = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].first == v[i].first) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (v[k].second) {
        rank_sum += avg_rank;
        ++pos;
      } else {
        ++neg;
      }
    }
    i = j;
  }
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

class InsightServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cdp_insight_" + std::to_string(::getpid())));
    DemoWorkspaceOptions options;
    options.examples_dir = std::string(CDP_SOURCE_DIR) + "/examples/contoso";
    options.yaml_files = {"project.yaml", "enrichments.yaml"};
    // 6,000 people: about 2.4% are surveyed members of the planted subgroup,
    // enough for a Bonferroni-corrected test over ~15,000 candidate groups.
    options.customers = 6000;
    options.seed = 7;
    auto demo = MakeDemoWorkspace(dir_->string(), options);
    ASSERT_TRUE(demo.ok()) << demo.status().message();
    ws_ = demo->workspace.release();
    LoadTruth();
  }
  static void TearDownTestSuite() {
    delete ws_;
    fs::remove_all(*dir_);
    delete dir_;
    delete truth_;
  }

  struct PersonTruth {
    std::string favourite_brand;
    bool high_spend = false, seed = false, planted = false;
  };
  // CustomerId -> the truth of its person (through truth.csv and CustomerSourceKeys).
  static void LoadTruth() {
    truth_ = new std::map<int64_t, PersonTruth>();
    std::map<std::string, PersonTruth> person;
    for (const auto& row : ReadCsv((*dir_ / "sources" / "insights_truth.csv").string())) {
      ASSERT_GE(row.size(), 5u);
      person[row[0]] = PersonTruth{row[1], row[2] == "1", row[3] == "1", row[4] == "1"};
    }
    std::map<std::pair<std::string, std::string>, std::string> person_of_record;
    const std::map<std::string, std::string> source_name = {
        {"ecommerce_contacts", "eCommerce Contacts"}, {"loyalty_scheme", "Loyalty Scheme"}, {"crm_survey", "CRM Survey"}};
    for (const auto& row : ReadCsv((*dir_ / "sources" / "truth.csv").string())) {
      auto it = source_name.find(row[0]);
      if (it != source_name.end()) person_of_record[{it->second, row[1]}] = row[2];
    }
    auto keys = Entity(*ws_, std::string(kSourceKeysEntity));
    ASSERT_NE(keys, nullptr);
    const Column* id = keys->ColumnByName("CustomerId");
    const Column* source = keys->ColumnByName("Source");
    const Column* key = keys->ColumnByName("SourceKey");
    for (size_t r = 0; r < keys->num_rows(); ++r) {
      auto p = person_of_record.find({std::string(source->StringAt(r)), std::string(key->StringAt(r))});
      if (p == person_of_record.end()) continue;
      truth_->emplace(id->Int64At(r), person[p->second]);  // the first record's person (merges are rare)
    }
  }

  static fs::path* dir_;
  static Workspace* ws_;
  static std::map<int64_t, PersonTruth>* truth_;
};

fs::path* InsightServiceTest::dir_ = nullptr;
Workspace* InsightServiceTest::ws_ = nullptr;
std::map<int64_t, InsightServiceTest::PersonTruth>* InsightServiceTest::truth_ = nullptr;

TEST_F(InsightServiceTest, OverlapAgreesWithTheMemberLists) {
  std::vector<std::string> names = {"CustomersFromCalifornia", "HighValueOnlineCustomers", "SummerPromo"};
  auto j = SegmentOverlap(*ws_, OverlapRequest{names, "LoyaltyTier"});
  ASSERT_TRUE(j.ok()) << j.status().message();
  std::vector<std::set<int64_t>> members;
  for (const auto& n : names) {
    auto t = Entity(*ws_, SegmentEntityName(n));
    ASSERT_NE(t, nullptr);
    auto ids = SegmentMemberIds(*t);
    members.emplace_back(ids.begin(), ids.end());
  }
  for (const auto& p : (*j)["pairs"]) {
    const auto& a = members[p["a"].get<size_t>()];
    const auto& b = members[p["b"].get<size_t>()];
    int64_t shared = 0;
    for (int64_t x : a) shared += b.count(x);
    EXPECT_EQ(p["shared"].get<int64_t>(), shared) << p.dump();
  }
  EXPECT_EQ((*j)["segments"][0]["display_name"], "Customers from California");
  ASSERT_TRUE(j->contains("breakdown"));
  int64_t in_buckets = 0;
  for (const auto& b : (*j)["breakdown"]["buckets"]) in_buckets += b["shared"].get<int64_t>();
  EXPECT_EQ(in_buckets, (*j)["shared_by_all"].get<int64_t>());

  auto bad = SegmentOverlap(*ws_, OverlapRequest{{"CustomersFromCalifornia"}, ""});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto unknown = SegmentOverlap(*ws_, OverlapRequest{{"CustomersFromCalifornia", "Nope"}, ""});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("Nope"), std::string::npos);
  auto attr = SegmentOverlap(*ws_, OverlapRequest{names, "Shoe size"});
  EXPECT_EQ(attr.status().code(), StatusCode::kNotFound);
}

// The planted subgroup's baskets are 2.5x: its average online purchase must
// rank Income and LoyaltyTier first among the differentiators of a segment
// of its members, and the suggestions for AverageWebPurchase must find it.
TEST_F(InsightServiceTest, SuggestedSegmentsRecoverThePlantedHighSpendSubgroup) {
  SuggestRequest request;
  request.target = "AverageWebPurchase";
  request.min_lift = 1.5;
  request.profile_only = true;  // which profiles spend more (a spend measure would say it trivially)
  auto j = SuggestSegments(*ws_, request);
  ASSERT_TRUE(j.ok()) << j.status().message();
  ASSERT_FALSE((*j)["suggestions"].empty()) << j->dump(1).substr(0, 3000);
  const Json& top = (*j)["suggestions"][0];
  std::cout << "top suggestion: " << top["rules_text"].get<std::string>() << ", " << top["size"] << " customers, lift "
            << top["lift"] << "\n";
  std::set<std::string> attributes;
  for (const auto& c : top["conditions"]) attributes.insert(c["attribute"].get<std::string>());
  EXPECT_TRUE(attributes.count("Income")) << top.dump(1);
  EXPECT_TRUE(attributes.count("LoyaltyTier")) << top.dump(1);
  EXPECT_GT(top["lift"].get<double>(), 2.0) << top.dump(1);

  // Saved as a dynamic segment, its rules select exactly the suggestion's customers.
  auto def = ParseSegmentJson(top["definition"].dump());
  ASSERT_TRUE(def.ok()) << def.status().message();
  def->name = "HighSpendSuggestion";
  auto saved = SaveSegmentDefinition(*ws_, *def, SegmentSaveMode::kCreate, DefinitionOptions{});
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  ASSERT_TRUE(saved->saved.evaluation.has_value()) << saved->members.reason;
  EXPECT_EQ(saved->saved.evaluation->members, top["size"].get<int64_t>());

  // The planted members are most of it.
  auto t = Entity(*ws_, SegmentEntityName("HighSpendSuggestion"));
  int64_t planted = 0, known = 0;
  for (int64_t id : SegmentMemberIds(*t)) {
    auto it = truth_->find(id);
    if (it == truth_->end()) continue;
    ++known;
    planted += it->second.high_spend;
  }
  ASSERT_GT(known, 0);
  EXPECT_GT(static_cast<double>(planted) / static_cast<double>(known), 0.6) << planted << " of " << known;

  auto bad = SuggestSegments(*ws_, SuggestRequest{"NoSuchMeasure"});
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST_F(InsightServiceTest, DifferentiatorsRankWhatDefinesTheGroup) {
  auto seg = MakeQuickSegment("GoldOrPlatinum", "Customer", "LoyaltyTier", ConditionOp::kIn,
                              {std::string("Gold"), std::string("Platinum")});
  ASSERT_TRUE(SaveSegmentDefinition(*ws_, seg, SegmentSaveMode::kUpsert, DefinitionOptions{}).ok());
  CompareRequest request;
  request.segment = "GoldOrPlatinum";
  auto j = CompareSegment(*ws_, request);
  ASSERT_TRUE(j.ok()) << j.status().message();
  ASSERT_FALSE((*j)["attributes"].empty());
  EXPECT_EQ((*j)["attributes"][0]["attribute"], "LoyaltyTier") << (*j)["attributes"][0].dump();
  EXPECT_NEAR((*j)["attributes"][0]["score"].get<double>(), 1.0, 0.05);
  // Spend differs too (tier and the planted subgroup drive it): higher mean,
  // a KS distance well above noise.
  bool spend_seen = false;
  for (const auto& a : (*j)["attributes"]) {
    if (a["attribute"] != "AverageWebPurchase") continue;
    spend_seen = true;
    EXPECT_GT(a["segment_mean"].get<double>(), 1.2 * a["base_mean"].get<double>()) << a.dump();
    EXPECT_GT(a["ks_d"].get<double>(), 0.1) << a.dump();
  }
  EXPECT_TRUE(spend_seen);
  request.base = "all";
  auto all = CompareSegment(*ws_, request);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["base_members"].get<int64_t>(), (*j)["base_members"].get<int64_t>() +
                                                       (*j)["segment_members"].get<int64_t>());
  request.limit = 0;
  EXPECT_EQ(CompareSegment(*ws_, request).status().code(), StatusCode::kInvalidArgument);
}

// The espresso-machine buyers are the seed; other espresso lovers are the
// planted look-alikes. Their purchases of espresso products show in the
// category affinity, which the lookalike reads as attributes.
TEST_F(InsightServiceTest, LookalikeRanksThePlantedLookalikesFirst) {
  auto seed = ParseSegmentJson(R"({"name": "EspressoEnthusiasts", "type": "dynamic", "rules": [
      {"entity": "Online Purchases", "conditions": [{"field": "ProductId", "op": "in", "values": ["1002", "1040"]}]},
      {"combine": "union", "entity": "PoS Purchases",
       "conditions": [{"field": "ProductId", "op": "in", "values": ["1002", "1040"]}]}]})");
  ASSERT_TRUE(seed.ok()) << seed.status().message();
  auto saved = SaveSegmentDefinition(*ws_, *seed, SegmentSaveMode::kUpsert, DefinitionOptions{});
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  ASSERT_TRUE(saved->saved.evaluation.has_value()) << saved->members.reason;
  ASSERT_GT(saved->saved.evaluation->members, 30);

  ExpandRequest request;
  request.source = "EspressoEnthusiasts";
  request.output = "EspressoLookalikes";
  request.min_similarity = 0.4;
  auto j = ExpandSegment(*ws_, request);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_TRUE((*j)["saved"].get<bool>());
  EXPECT_GT((*j)["quality"]["auc"].get<double>(), 0.7) << (*j)["quality"].dump();

  // AUC on the truth over the pool (customers outside the seed): similarity,
  // 0 for customers left out.
  std::map<int64_t, double> similarity;
  auto members = Entity(*ws_, SegmentEntityName("EspressoLookalikes"));
  ASSERT_NE(members, nullptr);
  const Column* ids = members->ColumnByName("CustomerId");
  const Column* sim = members->ColumnByName("Similarity");
  ASSERT_NE(sim, nullptr);
  for (size_t r = 0; r < members->num_rows(); ++r) similarity[ids->Int64At(r)] = sim->DoubleAt(r);
  auto seed_members = SegmentMemberIds(*Entity(*ws_, SegmentEntityName("EspressoEnthusiasts")));
  std::set<int64_t> in_seed(seed_members.begin(), seed_members.end());
  std::vector<std::pair<double, bool>> scored;
  for (const auto& [id, t] : *truth_) {
    if (in_seed.count(id)) continue;
    auto it = similarity.find(id);
    scored.emplace_back(it == similarity.end() ? 0.0 : it->second, t.planted);
  }
  const double truth_auc = Auc(scored);
  std::cout << "lookalike: hold-back AUC " << (*j)["quality"]["auc"] << " (baseline " << (*j)["quality"]["baseline_auc"]
            << "), AUC on the planted truth " << truth_auc << ", " << (*j)["members"] << " members\n";
  EXPECT_GT(truth_auc, 0.75);

  // The definition is an expansion segment; a refresh leaves its members.
  auto rec = ws_->catalog().GetSegment("EspressoLookalikes");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  auto def = ParseStoredSegmentJson((*rec)->definition_json);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->type, SegmentType::kExpansion);
  EXPECT_EQ(def->expansion.source, "EspressoEnthusiasts");
  auto run = RunSegments(*ws_, {}, SegmentRunOptions{});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(Entity(*ws_, SegmentEntityName("EspressoLookalikes"))->num_rows(), members->num_rows());

  request.output = "Bad Name";
  EXPECT_EQ(ExpandSegment(*ws_, request).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(InsightServiceTest, BrandAffinitiesFindThePlantedFavouriteBrands) {
  auto t = Entity(*ws_, EnrichmentEntityName("BrandAffinity"));
  ASSERT_NE(t, nullptr);
  const Column* id = t->ColumnByName("CustomerId");
  const Column* value = t->ColumnByName("Value");
  const Column* rank = t->ColumnByName("Rank");
  std::map<int64_t, std::string> top;
  for (size_t r = 0; r < t->num_rows(); ++r) {
    if (rank->Int64At(r) == 1) top[id->Int64At(r)] = std::string(value->StringAt(r));
  }
  int64_t with_brand = 0, found = 0;
  for (const auto& [cid, truth] : *truth_) {
    if (truth.favourite_brand.empty()) continue;
    auto it = top.find(cid);
    if (it == top.end()) continue;  // no purchases
    ++with_brand;
    found += it->second == truth.favourite_brand;
  }
  ASSERT_GT(with_brand, 100);
  std::cout << "brand affinity: top brand = planted favourite for " << found << " of " << with_brand << "\n";
  EXPECT_GT(static_cast<double>(found) / static_cast<double>(with_brand), 0.7) << found << " of " << with_brand;

  // The card shows affinities and engagement.
  auto card = CustomerEnrichments(*ws_, top.begin()->first);
  ASSERT_TRUE(card.ok()) << card.status().message();
  std::set<std::string> kinds;
  for (const auto& e : *card) kinds.insert(e["kind"].get<std::string>());
  EXPECT_TRUE(kinds.count("affinity"));
  EXPECT_TRUE(kinds.count("engagement"));
  EXPECT_EQ(CustomerEnrichments(*ws_, -5).status().code(), StatusCode::kNotFound);

  // Segments read enrichments like any related entity.
  auto seg = ParseSegmentJson(R"({"name": "HighlyEngaged", "rules": [{"entity": "Enrichment_Engagement",
      "conditions": [{"field": "EngagementScore", "op": "greater_equal", "values": [70]}]}]})");
  ASSERT_TRUE(seg.ok());
  auto saved = SaveSegmentDefinition(*ws_, *seg, SegmentSaveMode::kUpsert, DefinitionOptions{});
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  ASSERT_TRUE(saved->saved.evaluation.has_value()) << saved->members.reason;
  EXPECT_GT(saved->saved.evaluation->members, 0);
}

TEST_F(InsightServiceTest, MembershipRulesDeactivationAndTrend) {
  auto seg = ParseSegmentJson(R"({"name": "CaliforniaHighValue", "rules": [
      {"segment": "CustomersFromCalifornia"},
      {"combine": "intersect", "segment": "HighValueOnlineCustomers"}]})");
  ASSERT_TRUE(seg.ok()) << seg.status().message();
  auto saved = SaveSegmentDefinition(*ws_, *seg, SegmentSaveMode::kUpsert, DefinitionOptions{});
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  ASSERT_TRUE(saved->saved.evaluation.has_value()) << saved->members.reason;
  auto ca = SegmentMemberIds(*Entity(*ws_, SegmentEntityName("CustomersFromCalifornia")));
  auto hv = SegmentMemberIds(*Entity(*ws_, SegmentEntityName("HighValueOnlineCustomers")));
  std::vector<int64_t> both;
  std::set_intersection(ca.begin(), ca.end(), hv.begin(), hv.end(), std::back_inserter(both));
  EXPECT_EQ(saved->saved.evaluation->members, static_cast<int64_t>(both.size()));

  // A cycle is refused; an unknown segment is a problem naming it.
  auto self = ParseSegmentJson(R"({"name": "Loop", "rules": [{"segment": "Loop"}]})");
  ASSERT_TRUE(self.ok());
  auto loop = SaveSegmentDefinition(*ws_, *self, SegmentSaveMode::kUpsert, DefinitionOptions{});
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ(loop->saved.record.status, "draft");

  // Deactivated: a run keeps its members; activated again: evaluated.
  ASSERT_TRUE(SetSegmentActive(*ws_, "CaliforniaHighValue", false).ok());
  std::vector<std::string> skipped;
  auto run = RunSegments(*ws_, {}, SegmentRunOptions{}, &skipped);
  ASSERT_TRUE(run.ok()) << run.status().message();
  for (const auto& e : *run) EXPECT_NE(e.name, "CaliforniaHighValue");
  EXPECT_TRUE(std::any_of(skipped.begin(), skipped.end(),
                          [](const std::string& s) { return s.find("CaliforniaHighValue (deactivated)") == 0; }));
  EXPECT_EQ(Entity(*ws_, SegmentEntityName("CaliforniaHighValue"))->num_rows(), both.size());
  EXPECT_EQ(RunSegments(*ws_, {"CaliforniaHighValue"}, SegmentRunOptions{}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(SetSegmentActive(*ws_, "EspressoLookalikes_none", true).code(), StatusCode::kNotFound);
  ASSERT_TRUE(SetSegmentActive(*ws_, "CaliforniaHighValue", true).ok());

  auto trend = SegmentTrend(*ws_, "CustomersFromCalifornia", 30);
  ASSERT_TRUE(trend.ok()) << trend.status().message();
  EXPECT_GE((*trend)["points"].size(), 1u);
  EXPECT_EQ((*trend)["growth"]["members"].get<int64_t>(), static_cast<int64_t>(ca.size()));
  EXPECT_TRUE((*trend)["growth"]["week_ago"].is_null());  // everything was evaluated today
  EXPECT_EQ(SegmentTrend(*ws_, "CustomersFromCalifornia", 0).status().code(), StatusCode::kInvalidArgument);
  auto growth = SegmentGrowth(*ws_);
  ASSERT_TRUE(growth.ok());
  EXPECT_GE(growth->size(), 4u);
}

TEST_F(InsightServiceTest, RfmGroupsCoverEveryCustomer) {
  auto j = RfmSuggestions(*ws_, RfmRequest{});
  ASSERT_TRUE(j.ok()) << j.status().message();
  int64_t total = 0;
  for (const auto& g : (*j)["groups"]) total += g["size"].get<int64_t>();
  EXPECT_EQ(total, (*j)["customers"].get<int64_t>());
  EXPECT_EQ((*j)["activities"], Json::array({"OnlinePurchase", "StorePurchase"}));
  RfmRequest bad;
  bad.activities = {"Nope"};
  EXPECT_EQ(RfmSuggestions(*ws_, bad).status().code(), StatusCode::kNotFound);

  // The demo has no transaction count over both purchase activities: the
  // measures needed to save the groups are listed, and added when asked.
  ASSERT_FALSE(j->contains("measures_added"));
  ASSERT_TRUE(j->contains("measures_to_add")) << j->dump(1).substr(0, 2000);
  EXPECT_EQ((*j)["measures_to_add"].size(), 2u);
  for (const auto& g : (*j)["groups"]) EXPECT_TRUE(g["definition"].is_null());
  RfmRequest add;
  add.add_measures = true;
  auto added = RfmSuggestions(*ws_, add);
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ((*added)["measures_added"], Json::array({"RfmLastTransaction", "RfmTransactions"}));
  EXPECT_FALSE(added->contains("measures_to_add"));
  // Asked again, the project's measures are found by what they compute.
  auto found = RfmSuggestions(*ws_, add);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_FALSE(found->contains("measures_added"));
  EXPECT_EQ((*found)["frequency_measure"], "RfmTransactions");
  // Every non-empty group can be saved and its rules select exactly its members.
  int saved_groups = 0;
  for (const auto& g : (*found)["groups"]) {
    if (g["definition"].is_null()) continue;
    auto def = ParseSegmentJson(g["definition"].dump());
    ASSERT_TRUE(def.ok()) << def.status().message();
    auto saved = SaveSegmentDefinition(*ws_, *def, SegmentSaveMode::kUpsert, DefinitionOptions{});
    ASSERT_TRUE(saved.ok()) << saved.status().message();
    ASSERT_TRUE(saved->saved.evaluation.has_value()) << saved->members.reason;
    EXPECT_EQ(saved->saved.evaluation->members, g["size"].get<int64_t>()) << g.dump(1);
    ++saved_groups;
  }
  EXPECT_GE(saved_groups, 5);
}

// The attributes are kept for the next call on the same generation; a new
// generation is seen at once, and a prediction's explanation columns are not
// attributes.
TEST_F(InsightServiceTest, AttributesFollowTheGenerationAndLeaveOutExplanations) {
  auto names = [](const Json& j) {
    std::set<std::string> out;
    for (const auto& a : j["attributes"]) out.insert(a["entity"].get<std::string>() + "." + a["field"].get<std::string>());
    return out;
  };
  auto before = InsightAttributes(*ws_);
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto again = InsightAttributes(*ws_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*before, *again);
  EXPECT_FALSE(names(*before).count("Prediction_Spend.Score"));

  auto customers = Entity(*ws_, std::string(kCustomerEntity));
  ASSERT_NE(customers, nullptr);
  const Column* id = customers->ColumnByName("CustomerId");
  Table prediction(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Score", DataType::kDouble, {}},
                           Field{"Factor1", DataType::kString, {}}, Field{"Factor1Impact", DataType::kDouble, {}},
                           Field{"Factors", DataType::kString, {}}}));
  for (size_t r = 0; r < customers->num_rows(); ++r) {
    prediction.mutable_column(0).AppendInt64(id->Int64At(r));
    prediction.mutable_column(1).AppendDouble(static_cast<double>(r % 100) / 100.0);
    prediction.mutable_column(2).AppendString(r % 2 ? "spend in the last 90 days" : "days since the last purchase");
    prediction.mutable_column(3).AppendDouble(0.1);
    prediction.mutable_column(4).AppendString(r % 3 ? "few" : "many");
    prediction.FinishRow();
  }
  Status committed = CommitEntities(*ws_, {{"Prediction_Spend", std::move(prediction)}}, {}, "test");
  ASSERT_TRUE(committed.ok()) << committed.message();
  auto after = InsightAttributes(*ws_);
  ASSERT_TRUE(after.ok()) << after.status().message();
  const auto seen = names(*after);
  EXPECT_TRUE(seen.count("Prediction_Spend.Score"));
  EXPECT_TRUE(seen.count("Prediction_Spend.Factors"));  // only Factor<i> and Factor<i>Impact are explanations
  EXPECT_FALSE(seen.count("Prediction_Spend.Factor1"));
  EXPECT_FALSE(seen.count("Prediction_Spend.Factor1Impact"));

  ASSERT_TRUE(CommitEntities(*ws_, {}, {"Prediction_Spend"}, "test").ok());
  auto removed = InsightAttributes(*ws_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(names(*removed), names(*before));
}

}  // namespace
}  // namespace cdp
