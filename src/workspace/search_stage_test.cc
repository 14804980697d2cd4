// The index stage on the Contoso Coffee demo with its enrichments
// (examples/contoso/project.yaml + enrichments.yaml): the enrichments are
// search filters by default (brand and category affinities, engagement
// level), their results and counts agree with the Enrichment_* entities, a
// configured "ENTITY.FIELD" filter replaces the defaults, and a filter naming
// an entity that does not exist fails with a message naming it while the
// index already built keeps serving.
#include "workspace/search_stage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "common/entity_names.h"
#include "search/search_index.h"
#include "workspace/activity_runner.h"
#include "workspace/demo_test_workspace.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

class SearchStageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cdp_search_stage_" + std::to_string(::getpid())));
    DemoWorkspaceOptions options;
    options.examples_dir = std::string(CDP_SOURCE_DIR) + "/examples/contoso";
    options.yaml_files = {"project.yaml", "enrichments.yaml"};
    options.customers = 600;
    options.seed = 11;
    options.keep_segments = false;
    auto demo = MakeDemoWorkspace(dir_->string(), options);
    ASSERT_TRUE(demo.ok()) << demo.status().message();
    ws_ = demo->workspace.release();
  }
  static void TearDownTestSuite() {
    delete ws_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static std::shared_ptr<const Table> Entity(const std::string& name) {
    auto snap = ws_->data().Current();
    EXPECT_TRUE(snap.ok());
    auto t = LoadEntity(*ws_, *snap, name);
    EXPECT_TRUE(t.ok()) << name << ": " << t.status().message();
    return t.ok() ? *t : nullptr;
  }

  // Customer -> the distinct values of `field` over its rows in `entity`.
  static std::map<int64_t, std::set<std::string>> ValuesByCustomer(const std::string& entity, const std::string& field) {
    std::map<int64_t, std::set<std::string>> out;
    auto t = Entity(entity);
    if (!t) return out;
    const Column* id = t->ColumnByName("CustomerId");
    const Column* v = t->ColumnByName(field);
    EXPECT_TRUE(id && v) << entity << "." << field;
    if (!id || !v) return out;
    for (size_t r = 0; r < t->num_rows(); ++r) {
      if (!id->IsNull(r) && !v->IsNull(r) && !v->ValueToString(r).empty()) out[id->Int64At(r)].insert(v->ValueToString(r));
    }
    return out;
  }

  static ProjectConfig Project() {
    auto p = ws_->catalog().LoadProject();
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : ProjectConfig{};
  }

  static SearchResult Search(const SearchIndex& index, std::vector<std::pair<std::string, std::string>> filters) {
    SearchQuery q;
    q.filters = std::move(filters);
    q.limit = 100000;
    auto r = index.Search(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : SearchResult{};
  }

  static fs::path* dir_;
  static Workspace* ws_;
};

fs::path* SearchStageTest::dir_ = nullptr;
Workspace* SearchStageTest::ws_ = nullptr;

TEST_F(SearchStageTest, EnrichmentsAreFiltersByDefaultAndAgreeWithTheirEntities) {
  auto index = SearchIndex::Open(SearchIndexDir(*ws_));
  ASSERT_TRUE(index.ok()) << index.status().message();
  const std::string brand = "Enrichment_BrandAffinity.Value";
  const std::string category = "Enrichment_CategoryAffinity.Value";
  const std::string level = "Enrichment_Engagement.EngagementLevel";
  EXPECT_EQ((*index)->filter_fields(),
            (std::vector<std::string>{"State", "Gender", "LoyaltyTier", brand, category, level, "segment"}));

  auto brands = ValuesByCustomer("Enrichment_BrandAffinity", "Value");
  auto levels = ValuesByCustomer("Enrichment_Engagement", "EngagementLevel");
  ASSERT_GT(brands.size(), 100u);
  // Facet counts over everyone: customers per brand, however many rows.
  std::map<std::string, int64_t> per_brand;
  for (const auto& [id, values] : brands) {
    for (const auto& v : values) ++per_brand[v];
  }
  SearchResult all = Search(**index, {});
  std::map<std::string, int64_t> got;
  for (const auto& fv : all.facets[brand]) got[fv.value] = fv.count;
  EXPECT_EQ(got, per_brand);

  // Two brands OR'ed, AND a High engagement level.
  auto it = per_brand.begin();
  const std::string b1 = it->first, b2 = std::next(it)->first;
  std::set<int64_t> expect;
  for (const auto& [id, values] : brands) {
    if ((values.count(b1) || values.count(b2)) && levels[id].count("High")) expect.insert(id);
  }
  ASSERT_FALSE(expect.empty());
  SearchResult r = Search(**index, {{brand, b1}, {brand, b2}, {level, "High"}});
  std::set<int64_t> ids;
  for (const auto& h : r.hits) ids.insert(h.customer_id);
  EXPECT_EQ(ids, expect);
  EXPECT_EQ(r.total, static_cast<int64_t>(expect.size()));
}

TEST_F(SearchStageTest, ConfiguredFiltersReplaceTheDefaultsAndAnUnknownEntityIsNamed) {
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  ProjectConfig project = Project();
  project.search.filters = {"State", "Enrichment_Engagement.EngagementLevel"};
  auto u = UpdateSearchIndex(*ws_, *snap, project);
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_TRUE(u->updated);
  auto index = SearchIndex::Open(SearchIndexDir(*ws_));
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)->filter_fields(),
            (std::vector<std::string>{"State", "Enrichment_Engagement.EngagementLevel", "segment"}));
  // The same inputs again: nothing to do.
  auto again = UpdateSearchIndex(*ws_, *snap, project);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->updated);

  project.search.filters = {"State", "Enrichment_Mood.Value"};
  auto bad = UpdateSearchIndex(*ws_, *snap, project);
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Enrichment_Mood"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("Enrichment_Engagement"), std::string::npos)
      << "lists the entities there are: " << bad.status().message();
  project.search.filters = {"Enrichment_Engagement.Mood"};
  bad = UpdateSearchIndex(*ws_, *snap, project);
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'Mood' is not a field of Enrichment_Engagement"), std::string::npos)
      << bad.status().message();
  // The index built before keeps serving its filters.
  ASSERT_TRUE((*index)->Reopen().ok());
  EXPECT_EQ((*index)->filter_fields().size(), 3u);
  EXPECT_GT(Search(**index, {{"Enrichment_Engagement.EngagementLevel", "High"}}).total, 0);
}

}  // namespace
}  // namespace cdp
