// ServingGeneration reads UnifiedActivity and the profile sources by row
// group on demand: the rows it serves must equal the entity's rows, for
// customers in different row groups, with the cache within its budget.
#include "server/serving_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "access/api_key_store.h"
#include "common/entity_names.h"
#include "server/api_server.h"
#include "server/testing/contoso_workspace.h"
#include "server/testing/http_client.h"
#include "table/table_json.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string RowText(const Table& t, size_t row) { return RowToJson(t, row).dump(); }

// A column file of `rows` rows (Id int64, Name string) in row groups of `group_rows`.
std::unique_ptr<ColumnFileReader> WriteFile(const fs::path& path, size_t rows, size_t group_rows) {
  Schema schema;
  schema.AddField(Field{"Id", DataType::kInt64});
  schema.AddField(Field{"Name", DataType::kString});
  ColumnFileOptions options;
  options.row_group_rows = group_rows;
  auto w = ColumnFileWriter::Create(Env::Default(), path.string(), schema, options);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  Table t(schema);
  for (size_t r = 0; r < rows; ++r) {
    t.mutable_column(0).AppendInt64(static_cast<int64_t>(r));
    t.mutable_column(1).AppendString("name-" + std::to_string(r * 7));
    t.FinishRow();
  }
  EXPECT_TRUE((*w)->Append(t).ok());
  EXPECT_TRUE((*w)->Finish().ok());
  auto r = ColumnFileReader::Open(Env::Default(), path.string());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cdp_serving_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(RowGroupCacheTest, ReturnsEachRowGroupAndStaysWithinItsBudget) {
  TempDir dir;
  auto reader = WriteFile(dir.path() / "f.cdpc", 100, 8);
  ASSERT_EQ(reader->num_row_groups(), 13u);
  auto one = reader->ReadRowGroup(0);
  ASSERT_TRUE(one.ok());
  const size_t group_bytes = one->MemoryUsage();
  RowGroupCache cache(3 * group_bytes);  // three groups of 8 rows fit, not four
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t g = 0; g < reader->num_row_groups(); ++g) {
      auto got = cache.Get(*reader, g);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      auto want = reader->ReadRowGroup(g);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ((*got)->num_rows(), want->num_rows());
      for (size_t r = 0; r < want->num_rows(); ++r) EXPECT_EQ(RowText(**got, r), RowText(*want, r));
      EXPECT_LE(cache.bytes(), cache.budget());
      EXPECT_LE(cache.entries(), 3u);
    }
  }
  // Least recently used goes first: the last three groups are kept, so
  // reading them again decodes nothing.
  const uint64_t decodes = cache.decodes();
  for (size_t g = 10; g < 13; ++g) ASSERT_TRUE(cache.Get(*reader, g).ok());
  EXPECT_EQ(cache.decodes(), decodes);
  ASSERT_TRUE(cache.Get(*reader, 0).ok());
  EXPECT_EQ(cache.decodes(), decodes + 1);

  auto bad = cache.Get(*reader, 13);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
}

TEST(RowGroupCacheTest, ZeroBudgetKeepsNothingAndStillReads) {
  TempDir dir;
  auto reader = WriteFile(dir.path() / "f.cdpc", 20, 8);
  RowGroupCache cache(0);
  auto got = cache.Get(*reader, 2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->num_rows(), 4u);
  EXPECT_EQ((*got)->column(0).Int64At(0), 16);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(RowGroupCacheTest, ConcurrentReadersGetTheSameRowsWithinTheBudget) {
  TempDir dir;
  auto reader = WriteFile(dir.path() / "f.cdpc", 400, 16);
  auto one = reader->ReadRowGroup(0);
  ASSERT_TRUE(one.ok());
  RowGroupCache cache(4 * one->MemoryUsage());
  std::vector<std::thread> threads;
  std::vector<int> wrong(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const size_t g = static_cast<size_t>((i * 7 + t * 3) % 25);
        auto got = cache.Get(*reader, g);
        if (!got.ok() || (*got)->num_rows() != 16 || (*got)->column(0).Int64At(5) != static_cast<int64_t>(g * 16 + 5)) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
  EXPECT_LE(cache.bytes(), cache.budget());
  EXPECT_LE(cache.entries(), 4u);
}

// Every lookup equals a reference map's (lowest row of an id; nulls never
// found), on dense and sparse ids, in order and shuffled, with nulls,
// duplicates and ids at the ends of the int64 range.
TEST(CustomerIdLookupTest, FindsTheLowestRowOfEachIdWhetherDirectOrSearched) {
  std::mt19937_64 rng(11);
  struct Case {
    const char* name;
    std::vector<std::optional<int64_t>> ids;
    bool direct;
  };
  std::vector<Case> cases;
  {
    Case dense{"dense ascending", {}, true};
    for (int64_t i = 1; i <= 5000; ++i) dense.ids.push_back(i);
    cases.push_back(dense);
    Case shuffled = dense;
    shuffled.name = "dense shuffled, nulls, duplicates, gaps";
    std::shuffle(shuffled.ids.begin(), shuffled.ids.end(), rng);
    for (int k = 0; k < 50; ++k) shuffled.ids[rng() % shuffled.ids.size()] = std::nullopt;
    for (int k = 0; k < 50; ++k) shuffled.ids[rng() % shuffled.ids.size()] = shuffled.ids[rng() % shuffled.ids.size()];
    cases.push_back(shuffled);
    Case sparse{"sparse ascending", {}, false};
    for (int64_t i = 0; i < 5000; ++i) sparse.ids.push_back(i * 1000 - 7);
    cases.push_back(sparse);
    Case wild{"sparse shuffled with the int64 ends", sparse.ids, false};
    wild.ids.push_back(std::numeric_limits<int64_t>::max());
    wild.ids.push_back(std::numeric_limits<int64_t>::min());
    wild.ids.push_back(std::nullopt);
    wild.ids.push_back(wild.ids[17]);
    std::shuffle(wild.ids.begin(), wild.ids.end(), rng);
    cases.push_back(wild);
    cases.push_back(Case{"the two ends only", {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}, false});
    cases.push_back(Case{"empty", {}, false});
  }
  for (const Case& c : cases) {
    Column col(DataType::kInt64);
    std::map<int64_t, uint32_t> reference;
    for (size_t r = 0; r < c.ids.size(); ++r) {
      if (!c.ids[r]) {
        col.AppendNull();
        continue;
      }
      col.AppendInt64(*c.ids[r]);
      reference.emplace(*c.ids[r], static_cast<uint32_t>(r));  // keeps the lowest row
    }
    CustomerIdLookup lookup;
    lookup.Build(&col);
    EXPECT_EQ(lookup.direct(), c.direct) << c.name;
    for (const auto& [id, row] : reference) EXPECT_EQ(lookup.IndexOf(id), std::optional<uint32_t>(row)) << c.name << " " << id;
    for (int64_t probe : {int64_t{0}, int64_t{-8}, int64_t{5001}, int64_t{999}, std::numeric_limits<int64_t>::max() - 1,
                          std::numeric_limits<int64_t>::min() + 1}) {
      if (!reference.count(probe)) EXPECT_FALSE(lookup.IndexOf(probe).has_value()) << c.name << " " << probe;
    }
  }
}

TEST(RowsByCustomerTest, KeepsRangesForContiguousRowsAndListsOtherwise) {
  auto scan_of = [](std::vector<int64_t> owners) {
    return [owners](const RowsByCustomer::RowVisitor& visit) -> Status {
      for (size_t r = 0; r < owners.size(); ++r) visit(static_cast<uint32_t>(r), owners[r]);
      return Status::Ok();
    };
  };
  auto rows_of = [](const RowsByCustomer& g, uint32_t c) {
    std::vector<uint32_t> out;
    RowsByCustomer::Span s = g.rows(c);
    for (size_t i = 0; i < s.size(); ++i) out.push_back(s[i]);
    return out;
  };
  RowsByCustomer sorted;
  ASSERT_TRUE(sorted.Build(4, scan_of({2, 2, 0, -1, 3, 3, 3})).ok());
  EXPECT_TRUE(sorted.contiguous());
  EXPECT_EQ(rows_of(sorted, 0), (std::vector<uint32_t>{2}));
  EXPECT_EQ(rows_of(sorted, 1), (std::vector<uint32_t>{}));
  EXPECT_EQ(rows_of(sorted, 2), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(rows_of(sorted, 3), (std::vector<uint32_t>{4, 5, 6}));
  EXPECT_EQ(rows_of(sorted, 4), (std::vector<uint32_t>{}));  // out of range

  RowsByCustomer mixed;
  ASSERT_TRUE(mixed.Build(3, scan_of({1, 0, 1, 2, 0})).ok());
  EXPECT_FALSE(mixed.contiguous());
  EXPECT_EQ(rows_of(mixed, 0), (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(rows_of(mixed, 1), (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(rows_of(mixed, 2), (std::vector<uint32_t>{3}));

  RowsByCustomer bad;
  EXPECT_EQ(bad.Build(2, scan_of({0, 5})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.Build(2, [](const RowsByCustomer::RowVisitor&) { return DataLossError("unreadable"); }).code(),
            StatusCode::kDataLoss);
}

// A refreshed Contoso workspace whose UnifiedActivity and profile sources are
// rewritten with row groups of 7 rows, so that customers' rows fall in many
// row groups and some customers' rows span two.
class ServingGenerationTest : public ::testing::Test {
 protected:
  static constexpr size_t kGroupRows = 7;

  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto ws = testing::MakeContosoWorkspace(dir_->path(), {.customers = 60, .seed = 5});
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    auto project = (*ws)->catalog().LoadProject();
    ASSERT_TRUE(project.ok());
    std::vector<std::string> names = {std::string(kUnifiedActivityEntity)};
    for (const auto& s : project->unification.sources) names.push_back(s.source);
    auto snap = (*ws)->data().Current();
    ASSERT_TRUE(snap.ok());
    auto gen = (*ws)->data().BeginGeneration();
    ASSERT_TRUE(gen.ok()) << gen.status().ToString();
    ColumnFileOptions options;
    options.row_group_rows = kGroupRows;
    for (const std::string& name : names) {
      auto r = (*ws)->data().OpenEntity(*snap, name);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto all = (*r)->ReadAll();
      ASSERT_TRUE(all.ok());
      auto w = (*gen)->WriteEntity(name, (*r)->schema(), snap->entities.at(name).properties_json, options);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      ASSERT_TRUE((*w)->Append(*all).ok());
    }
    ASSERT_TRUE((*gen)->Commit().ok());
    viewer_ = new std::string(ApiKeyStore((*ws)->catalog()).Create("viewer", Role::kViewer, "test")->key);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete viewer_;
  }
  std::string ws_dir() const { return (dir_->path() / "ws").string(); }

  static TempDir* dir_;
  static std::string* viewer_;
};
TempDir* ServingGenerationTest::dir_ = nullptr;
std::string* ServingGenerationTest::viewer_ = nullptr;

// The UnifiedActivity rows of each CustomerId, in stored order.
std::map<int64_t, std::vector<size_t>> RowsById(const Table& t) {
  std::map<int64_t, std::vector<size_t>> out;
  const Column* ids = t.ColumnByName("CustomerId");
  for (size_t r = 0; r < t.num_rows(); ++r) out[ids->Int64At(r)].push_back(r);
  return out;
}

TEST_F(ServingGenerationTest, ActivityRowsAndSourceRecordsEqualTheEntitiesRowsWithinASmallCache) {
  auto ws = Workspace::Open(ws_dir());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto snap = (*ws)->data().Current();
  ASSERT_TRUE(snap.ok());
  auto project = (*ws)->catalog().LoadProject();
  ASSERT_TRUE(project.ok());
  auto act_reader = (*ws)->data().OpenEntity(*snap, std::string(kUnifiedActivityEntity));
  ASSERT_TRUE(act_reader.ok());
  ASSERT_GT((*act_reader)->num_row_groups(), 10u);
  auto activities = (*act_reader)->ReadAll();
  ASSERT_TRUE(activities.ok());
  auto group_bytes = (*act_reader)->ReadRowGroup(0);
  ASSERT_TRUE(group_bytes.ok());

  ServingOptions options;
  options.row_group_cache_bytes = 3 * group_bytes->MemoryUsage();  // a few row groups of 7 rows
  auto g = ServingGeneration::Load(**ws, *snap, *project, options);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const ServingGeneration& gen = **g;
  ASSERT_TRUE(gen.has_activities());

  // Every customer's activities, whole and as a tail, equal its rows.
  std::map<int64_t, std::vector<size_t>> by_id = RowsById(*activities);
  size_t spanning = 0, with_rows = 0;
  std::set<size_t> first_groups;
  for (uint32_t idx = 0; idx < gen.customers()->num_rows(); ++idx) {
    const int64_t id = gen.CustomerIdAt(idx);
    const std::vector<size_t>& want = by_id[id];
    ASSERT_EQ(gen.ActivityCount(idx), want.size()) << "customer " << id;
    auto got = gen.ActivityRows(idx, 0, want.size());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(RowText(*(*got)[i].table, (*got)[i].row), RowText(*activities, want[i])) << "customer " << id << " row " << i;
    }
    if (!want.empty()) {
      ++with_rows;
      first_groups.insert(want.front() / kGroupRows);
      if (want.front() / kGroupRows != want.back() / kGroupRows) ++spanning;
      auto tail = gen.ActivityRows(idx, want.size() - 1, want.size() + 5);  // `to` past the end is cut
      ASSERT_TRUE(tail.ok());
      ASSERT_EQ(tail->size(), 1u);
      EXPECT_EQ(RowText(*(*tail)[0].table, (*tail)[0].row), RowText(*activities, want.back()));
    }
    EXPECT_LE(gen.row_group_cache().bytes(), gen.row_group_cache().budget());
  }
  EXPECT_GT(with_rows, 20u);
  EXPECT_GT(first_groups.size(), 10u);  // customers in many different row groups
  EXPECT_GT(spanning, 0u);              // and some across two of them
  EXPECT_LE(gen.row_group_cache().entries(), 3u);

  // Activity names counted from the Activity column alone.
  auto counts = gen.ActivityNameCounts();
  ASSERT_TRUE(counts.ok());
  std::map<std::string, int64_t> want_counts;
  const Column* names = activities->ColumnByName("Activity");
  for (size_t r = 0; r < names->size(); ++r) ++want_counts[std::string(names->StringAt(r))];
  EXPECT_EQ(**counts, want_counts);

  // Every source record of CustomerSourceKeys: the first row with its key in
  // its source, and its owner.
  const Table& keys = *gen.source_keys();
  std::map<std::string, std::shared_ptr<const Table>> sources;
  for (size_t r = 0; r < keys.num_rows(); ++r) {
    const std::string source(keys.ColumnByName("Source")->StringAt(r));
    const std::string key(keys.ColumnByName("SourceKey")->StringAt(r));
    EXPECT_EQ(gen.CustomerOfRecord(source, key), gen.IndexOf(keys.ColumnByName("CustomerId")->Int64At(r)));
    if (!sources.count(source)) {
      auto reader = (*ws)->data().OpenEntity(*snap, source);
      ASSERT_TRUE(reader.ok()) << source;
      auto t = (*reader)->ReadAll();
      ASSERT_TRUE(t.ok());
      sources[source] = std::make_shared<const Table>(std::move(t).value());
    }
    const Table& t = *sources[source];
    const Column* key_col = t.ColumnByName(project->KeyOf(source));
    ASSERT_NE(key_col, nullptr) << source;
    std::optional<size_t> want;
    for (size_t s = 0; s < t.num_rows() && !want; ++s) {
      if (!key_col->IsNull(s) && key_col->ValueToString(s) == key) want = s;
    }
    auto got = gen.SourceRecord(source, key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->has_value(), want.has_value()) << source << ":" << key;
    if (want) EXPECT_EQ(RowText(*(*got)->table, (*got)->row), RowText(t, *want)) << source << ":" << key;
    EXPECT_LE(gen.row_group_cache().bytes(), gen.row_group_cache().budget());
  }
  EXPECT_FALSE(gen.CustomerOfRecord("no such source", "1").has_value());
  auto none = gen.SourceRecord(sources.begin()->first, "no such key");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(gen.SourceRecord("no such source", "1").status().code(), StatusCode::kNotFound);

  // Entity pages read by row group equal the entity's rows.
  auto page = gen.EntityRows(std::string(kUnifiedActivityEntity), 5, 11);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 11u);
  for (size_t i = 0; i < page->size(); ++i) EXPECT_EQ(RowText(*(*page)[i].table, (*page)[i].row), RowText(*activities, 5 + i));
  auto past = gen.EntityRows(std::string(kUnifiedActivityEntity), activities->num_rows() - 2, 50);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->size(), 2u);
  EXPECT_EQ(gen.EntityRows("NoSuchEntity", 0, 1).status().code(), StatusCode::kNotFound);
}

TEST_F(ServingGenerationTest, LookupByFieldFindsTheCustomersWithTheFoldedValue) {
  auto ws = Workspace::Open(ws_dir());
  ASSERT_TRUE(ws.ok());
  auto snap = (*ws)->data().Current();
  auto project = (*ws)->catalog().LoadProject();
  ASSERT_TRUE(snap.ok() && project.ok());
  auto g = ServingGeneration::Load(**ws, *snap, *project);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Table& customers = *(*g)->customers();
  size_t checked = 0;
  for (const std::string field : {"Email", "Phone"}) {
    const Column* col = customers.ColumnByName(field);
    if (col == nullptr) continue;
    for (size_t r = 0; r < customers.num_rows(); r += 5) {
      if (col->IsNull(r)) continue;
      const std::string value = col->ValueToString(r);
      std::vector<uint32_t> want;
      for (size_t s = 0; s < customers.num_rows(); ++s) {
        if (!col->IsNull(s) && FoldLookupValue(col->ValueToString(s)) == FoldLookupValue(value)) want.push_back(static_cast<uint32_t>(s));
      }
      auto got = (*g)->LookupByField(field, "  " + value + " ");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, want) << field << " " << value;
      ++checked;
    }
    auto none = (*g)->LookupByField(field, "nobody@nowhere.invalid");
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
  }
  EXPECT_GT(checked, 5u);
  EXPECT_EQ((*g)->LookupByField("NoSuchField", "x").status().code(), StatusCode::kInvalidArgument);
}

// A Customer entity not in CustomerId order (written by an older unify, or
// another tool) is indexed by a sorted permutation: every id finds its row.
TEST_F(ServingGenerationTest, CustomersNotInIdOrderAreFoundByTheirIds) {
  const fs::path copy = dir_->path() / "ws-reversed";
  fs::copy(ws_dir(), copy, fs::copy_options::recursive);
  auto ws = Workspace::Open(copy.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto snap = (*ws)->data().Current();
  ASSERT_TRUE(snap.ok());
  {
    auto reader = (*ws)->data().OpenEntity(*snap, std::string(kCustomerEntity));
    ASSERT_TRUE(reader.ok());
    auto all = reader.value()->ReadAll();
    ASSERT_TRUE(all.ok());
    Table reversed(all->schema());
    for (size_t r = all->num_rows(); r > 0; --r) {
      for (size_t c = 0; c < all->num_columns(); ++c) reversed.mutable_column(c).AppendFrom(all->column(c), r - 1);
      reversed.FinishRow();
    }
    auto gen = (*ws)->data().BeginGeneration();
    ASSERT_TRUE(gen.ok());
    auto w = (*gen)->WriteEntity(std::string(kCustomerEntity), reversed.schema(),
                                 snap->entities.at(std::string(kCustomerEntity)).properties_json);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(reversed).ok());
    ASSERT_TRUE((*gen)->Commit().ok());
  }
  snap = (*ws)->data().Current();
  ASSERT_TRUE(snap.ok());
  auto project = (*ws)->catalog().LoadProject();
  ASSERT_TRUE(project.ok());
  auto g = ServingGeneration::Load(**ws, *snap, *project);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Table& customers = *(*g)->customers();
  const Column* ids = customers.ColumnByName("CustomerId");
  ASSERT_GT(customers.num_rows(), 2u);
  ASSERT_GT(ids->Int64At(0), ids->Int64At(1));  // descending now
  auto act = (*ws)->data().OpenEntity(*snap, std::string(kUnifiedActivityEntity));
  ASSERT_TRUE(act.ok());
  auto activities = act.value()->ReadAll();
  ASSERT_TRUE(activities.ok());
  std::map<int64_t, std::vector<size_t>> by_id = RowsById(*activities);
  for (uint32_t r = 0; r < customers.num_rows(); ++r) {
    const int64_t id = ids->Int64At(r);
    EXPECT_EQ((*g)->IndexOf(id), std::optional<uint32_t>(r)) << "customer " << id;
    EXPECT_EQ((*g)->CustomerIdAt(r), id);
    EXPECT_EQ((*g)->ActivityCount(r), by_id[id].size()) << "customer " << id;
    auto m = (*g)->MeasureRowOf(r);
    if (m) EXPECT_EQ((*g)->measures()->ColumnByName("CustomerId")->Int64At(*m), id);
  }
  EXPECT_FALSE((*g)->IndexOf(ids->Int64At(0) + 1000000).has_value());
  EXPECT_FALSE((*g)->IndexOf(-5).has_value());
}

// The card's and the timeline's activities over HTTP: the customer's
// UnifiedActivity rows (newest first, without CustomerId, Fields as an object).
TEST_F(ServingGenerationTest, CardAndTimelineActivitiesAreTheCustomersRowsNewestFirst) {
  ApiServerOptions options;
  options.http.port = 0;
  options.http.threads = 4;
  options.run_schedules = false;
  options.log_requests = false;
  options.run_date = kDefaultDemoToday;
  auto server = ApiServer::Start(ws_dir(), options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto ws = Workspace::Open(ws_dir());
  ASSERT_TRUE(ws.ok());
  auto snap = (*ws)->data().Current();
  ASSERT_TRUE(snap.ok());
  auto reader = (*ws)->data().OpenEntity(*snap, std::string(kUnifiedActivityEntity));
  ASSERT_TRUE(reader.ok());
  auto activities = (*reader)->ReadAll();
  ASSERT_TRUE(activities.ok());
  auto expected = [&](size_t row) {
    Json j = Json::object();
    for (size_t c = 0; c < activities->num_columns(); ++c) {
      const std::string& name = activities->schema().field(c).name;
      if (name == "CustomerId") continue;
      const Column& col = activities->column(c);
      j[name] = name == "Fields" && !col.IsNull(row) ? Json::parse(col.StringAt(row)) : ValueToJson(col, row);
    }
    return j;
  };
  std::map<int64_t, std::vector<size_t>> by_id = RowsById(*activities);
  int checked = 0;
  for (const auto& [id, rows] : by_id) {
    if (checked++ % 3 != 0) continue;  // every third customer: several row groups, some spanning two
    auto card = testing::HttpCall((*server)->port(), "GET", "/api/v1/customers/" + std::to_string(id) + "/card?activities=4", *viewer_);
    ASSERT_EQ(card.status, 200) << card.body;
    Json want_card = Json::array();
    for (size_t i = rows.size(); i > 0 && want_card.size() < 4; --i) want_card.push_back(expected(rows[i - 1]));
    EXPECT_EQ(Json::parse(card.body)["activities"], want_card) << "customer " << id;

    auto timeline = testing::HttpCall((*server)->port(), "GET", "/api/v1/customers/" + std::to_string(id) + "/activities?limit=1000", *viewer_);
    ASSERT_EQ(timeline.status, 200) << timeline.body;
    Json want_timeline = Json::array();
    for (size_t i = rows.size(); i > 0; --i) want_timeline.push_back(expected(rows[i - 1]));
    Json got = Json::parse(timeline.body);
    EXPECT_EQ(got["items"], want_timeline) << "customer " << id;
    EXPECT_EQ(got["total"], rows.size());
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
}  // namespace cdp
