#include "search/search_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "storage/env.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the test temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::path(::testing::TempDir()) /
            ("search_index_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

struct Person {
  int64_t id;
  const char* first;
  const char* last;
  const char* email;
  const char* phone;
  const char* city;
  const char* state;
  const char* gender;
  const char* tier;
};

Schema CustomerSchema() {
  return Schema({{"CustomerId", DataType::kInt64, {}},
                 {"FirstName", DataType::kString, {}},
                 {"LastName", DataType::kString, {}},
                 {"Email", DataType::kString, {}},
                 {"Phone", DataType::kString, {}},
                 {"City", DataType::kString, {}},
                 {"State", DataType::kString, {}},
                 {"Gender", DataType::kString, {}},
                 {"LoyaltyTier", DataType::kString, {}},
                 {"DateOfBirth", DataType::kDate, {}}});
}

std::shared_ptr<Table> Customers(const std::vector<Person>& people) {
  auto t = std::make_shared<Table>(CustomerSchema());
  for (const Person& p : people) {
    t->mutable_column(0).AppendInt64(p.id);
    const char* vals[] = {p.first, p.last, p.email, p.phone, p.city, p.state, p.gender, p.tier};
    for (int c = 0; c < 8; ++c) {
      if (vals[c]) t->mutable_column(c + 1).AppendString(vals[c]); else t->mutable_column(c + 1).AppendNull();
    }
    t->mutable_column(9).AppendNull();
    t->FinishRow();
  }
  return t;
}

std::shared_ptr<Table> SourceKeys(const std::vector<std::tuple<int64_t, const char*, const char*>>& rows) {
  auto t = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}},
                                           {"Source", DataType::kString, {}},
                                           {"SourceKey", DataType::kString, {}}}));
  for (const auto& [id, source, key] : rows) {
    t->mutable_column(0).AppendInt64(id);
    t->mutable_column(1).AppendString(source);
    t->mutable_column(2).AppendString(key);
    t->FinishRow();
  }
  return t;
}

const std::vector<Person>& Lab() {
  static const std::vector<Person> people = {
      {1, "John", "Smith", "John.Smith@Example.com", "(555) 123-4567", "Seattle", "WA", "M", "Gold"},
      {2, "Jon", "Smyth", "jsmyth@mail.com", "206-555-0199", "Tacoma", "WA", "M", "Silver"},
      {3, "Joan", "Smithers", "joan@smithers.org", "+1 425 555 0142", "Portland", "OR", "F", "Gold"},
      {4, "Maria", "García", "maria.garcia@example.com", "312.555.0110", "Chicago", "IL", "F", nullptr},
      {5, "Johnny", "Jackson", "jj@example.com", nullptr, "Jackson", "MS", "M", "Bronze"},
      {6, "Anna", "Jackson", "anna.j@example.com", "555-555-5555", "Seattle", "WA", "F", "Silver"},
      {7, "Seán", "O'Brien", "sean.obrien@example.ie", "+353 1 555 0123", "Dublin", nullptr, "M", "Gold"},
      {8, "Smith", "Johnson", "smith.johnson@example.com", "(773) 555-0187", "Chicago", "IL", "M", "Bronze"},
  };
  return people;
}

SearchIndexInput LabInput() {
  SearchIndexInput in;
  in.customers = Customers(Lab());
  in.source_keys = SourceKeys({{1, "crm", "CRM-0001"}, {1, "pos", "A77K2"}, {2, "crm", "CRM-0002"},
                               {3, "loyalty", "L-3"}, {7, "crm", "CRM-0007"}});
  in.segment_members = {{"VIP", {1, 3, 7}}, {"Churn risk", {2, 3, 6}}, {"Empty", {}}};
  return in;
}

std::vector<int64_t> Ids(const SearchResult& r) {
  std::vector<int64_t> ids;
  for (const auto& h : r.hits) ids.push_back(h.customer_id);
  return ids;
}

std::set<int64_t> IdSet(const SearchResult& r) {
  auto v = Ids(r);
  return {v.begin(), v.end()};
}

class SearchIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stats = SearchIndex::Update(dir_.path(), SearchConfig{}, LabInput());
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto index = SearchIndex::Open(dir_.path());
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(index).value();
  }

  SearchResult Find(const std::string& text, std::vector<std::pair<std::string, std::string>> filters = {}) {
    SearchQuery q;
    q.text = text;
    q.filters = std::move(filters);
    auto r = index_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : SearchResult{};
  }

  TempDir dir_;
  std::unique_ptr<SearchIndex> index_;
};

// --- configuration -----------------------------------------------------------

TEST(ResolveSearchConfigTest, DefaultsPickNamesContactsPlacesAndStandardFilters) {
  auto r = ResolveSearchConfig(SearchConfig{}, CustomerSchema());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<ResolvedSearchField> want = {{"FirstName", SearchFieldKind::kText, 1.0},
                                           {"LastName", SearchFieldKind::kText, 1.0},
                                           {"Email", SearchFieldKind::kEmail, 1.0},
                                           {"Phone", SearchFieldKind::kPhone, 1.0},
                                           {"City", SearchFieldKind::kText, 0.5}};
  EXPECT_EQ(r->fields, want);
  EXPECT_TRUE(r->source_keys);
  EXPECT_EQ(r->filters, (std::vector<std::string>{"State", "Gender", "LoyaltyTier", "segment"}));
}

TEST(ResolveSearchConfigTest, DefaultsMatchNamesCaseInsensitivelyAndBySemanticType) {
  Schema s({{"CustomerId", DataType::kInt64, {}},
            {"fullname", DataType::kString, {}},
            {"EMAIL_ADDRESS", DataType::kString, {}},
            {"MobilePhone", DataType::kString, {}},
            {"Tel", DataType::kString, SemanticType(std::string(SemanticType::kPhone))},
            {"StreetAddress", DataType::kString, {}},
            {"Region", DataType::kString, SemanticType(std::string(SemanticType::kState))},
            {"GENDER", DataType::kString, {}},
            {"LoyaltyId", DataType::kString, {}},
            {"LoyaltyLevel", DataType::kString, {}},
            {"Notes", DataType::kString, {}}});
  auto r = ResolveSearchConfig(SearchConfig{}, s);
  ASSERT_TRUE(r.ok());
  std::vector<ResolvedSearchField> want = {{"fullname", SearchFieldKind::kText, 1.0},
                                           {"EMAIL_ADDRESS", SearchFieldKind::kEmail, 1.0},
                                           {"MobilePhone", SearchFieldKind::kPhone, 1.0},
                                           {"Tel", SearchFieldKind::kPhone, 1.0},
                                           {"StreetAddress", SearchFieldKind::kText, 0.5}};
  EXPECT_EQ(r->fields, want);
  EXPECT_EQ(r->filters, (std::vector<std::string>{"Region", "GENDER", "LoyaltyLevel", "segment"}));
}

TEST(ResolveSearchConfigTest, ConfiguredFieldsAndFiltersAreKeptAndChecked) {
  SearchConfig c;
  c.fields = {{"LastName", "", 3.0}, {"Phone", "phone", 1.0}, {"SourceKeys", "", 1.0}};
  c.filters = {"City", "segment"};
  auto r = ResolveSearchConfig(c, CustomerSchema());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->fields, (std::vector<ResolvedSearchField>{{"LastName", SearchFieldKind::kText, 3.0},
                                                         {"Phone", SearchFieldKind::kPhone, 1.0}}));
  EXPECT_TRUE(r->source_keys);
  EXPECT_EQ(r->filters, (std::vector<std::string>{"City", "segment"}));

  SearchConfig no_keys;
  no_keys.fields = {{"LastName", "", 1.0}};
  EXPECT_FALSE(ResolveSearchConfig(no_keys, CustomerSchema())->source_keys);
}

TEST(ResolveSearchConfigTest, BadConfigurationNamesTheField) {
  SearchConfig c;
  c.fields = {{"Surname", "", 1.0}};
  auto r = ResolveSearchConfig(c, CustomerSchema());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'Surname'"), std::string::npos) << r.status().message();

  c.fields = {{"Phone", "fax", 1.0}};
  r = ResolveSearchConfig(c, CustomerSchema());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("fax"), std::string::npos);

  c.fields = {{"Phone", "phone", 0.0}};
  EXPECT_EQ(ResolveSearchConfig(c, CustomerSchema()).status().code(), StatusCode::kInvalidArgument);

  SearchConfig f;
  f.filters = {"Tier"};
  r = ResolveSearchConfig(f, CustomerSchema());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'Tier'"), std::string::npos);
}

TEST(SearchIndexUpdateTest, ConfiguredFieldMissingFromCustomerIsInvalidArgumentNamingIt) {
  TempDir dir;
  SearchConfig c;
  c.fields = {{"Nickname", "", 1.0}};
  auto r = SearchIndex::Update(dir.path(), c, LabInput());
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Nickname"), std::string::npos);
}

TEST(SearchIndexUpdateTest, DuplicateOrMissingCustomerIdIsInvalidArgument) {
  TempDir dir;
  SearchIndexInput in;
  in.customers = Customers({{1, "A", "B", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
                            {1, "C", "D", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}});
  EXPECT_EQ(SearchIndex::Update(dir.path(), {}, in).status().code(), StatusCode::kInvalidArgument);
  in.customers = std::make_shared<Table>(Schema({{"Name", DataType::kString, {}}}));
  EXPECT_EQ(SearchIndex::Update(dir.path(), {}, in).status().code(), StatusCode::kInvalidArgument);
}

TEST(SearchIndexOpenTest, MissingIndexIsNotFound) {
  TempDir dir;
  EXPECT_EQ(SearchIndex::Open(dir.sub("nowhere")).status().code(), StatusCode::kNotFound);
  fs::create_directories(dir.sub("empty"));
  EXPECT_EQ(SearchIndex::Open(dir.sub("empty")).status().code(), StatusCode::kNotFound);
}

// --- free text -----------------------------------------------------------------

TEST_F(SearchIndexTest, TyposFindTheIntendedPersonFirst) {
  auto r = Find("Jonh Smiht");
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].customer_id, 1);
  r = Find("jon smyth");  // exact words: Jon Smyth, not John Smith
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].customer_id, 2);
  r = Find("Maria Garcia");  // accents folded
  EXPECT_EQ(Ids(r), std::vector<int64_t>{4});
  r = Find("sean o'brien");
  EXPECT_EQ(Ids(r), std::vector<int64_t>{7});
  r = Find("SEAN OBRIEN");
  EXPECT_EQ(Ids(r), std::vector<int64_t>{7});
}

TEST_F(SearchIndexTest, ExactMatchesRankAboveFuzzyOnes) {
  auto r = Find("smith");
  ASSERT_GE(r.hits.size(), 3u);
  // Exact "smith" (1: LastName, 8: FirstName) before Smyth and the completion Smithers.
  std::set<int64_t> top2 = {r.hits[0].customer_id, r.hits[1].customer_id};
  EXPECT_EQ(top2, (std::set<int64_t>{1, 8}));
  EXPECT_GT(r.hits[1].score, r.hits[2].score);
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{1, 2, 3, 8}));
}

TEST_F(SearchIndexTest, LastWordIsCompletedWhileTyping) {
  auto r = Find("joan smi");  // Joan Smithers; John Smith (a typo away) after her
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].customer_id, 3);
  r = Find("jacks");
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{5, 6}));
  // Names weigh more than the city: Johnny Jackson of Jackson first, Anna Jackson second.
  EXPECT_EQ(r.hits[0].customer_id, 5);
}

TEST_F(SearchIndexTest, PhoneNumbersMatchInAnyFormatting) {
  for (const char* q : {"(555) 123-4567", "555.123.4567", "+1 555 123 4567", "5551234567", "1-555-123-4567"}) {
    EXPECT_EQ(Ids(Find(q)), std::vector<int64_t>{1}) << q;
  }
  EXPECT_EQ(Ids(Find("(425) 555-0142")), std::vector<int64_t>{3});
  EXPECT_EQ(Ids(Find("+353 1 555 0123")), std::vector<int64_t>{7});
  // A placeholder phone is not indexed.
  EXPECT_TRUE(Find("555-555-5555").hits.empty());
  // Name and phone together.
  EXPECT_EQ(Ids(Find("smith 555 123 4567")), std::vector<int64_t>{1});
}

TEST_F(SearchIndexTest, EmailsMatchCaseInsensitivelyAndByLocalPart) {
  EXPECT_EQ(Ids(Find("john.smith@example.com")), std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Find("JOHN.SMITH@EXAMPLE.COM")), std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Find("jsmyth")), std::vector<int64_t>{2});      // whole local part
  EXPECT_EQ(Ids(Find("jsmyth@")), std::vector<int64_t>{2});     // typing the address
  EXPECT_EQ(Ids(Find("maria.garcia@exa")), std::vector<int64_t>{4});
  EXPECT_TRUE(Find("nobody@example.com").hits.empty());
}

TEST_F(SearchIndexTest, SourceKeysMatchExactly) {
  EXPECT_EQ(Ids(Find("CRM-0007")), std::vector<int64_t>{7});
  EXPECT_EQ(Ids(Find("crm-0002")), std::vector<int64_t>{2});
  EXPECT_EQ(Ids(Find("A77K2")), std::vector<int64_t>{1});
  EXPECT_EQ(Ids(Find("L-3")), std::vector<int64_t>{3});
}

// --- filters and facets ------------------------------------------------------------

TEST_F(SearchIndexTest, FiltersAreOrWithinAFieldAndAndAcrossFields) {
  auto r = Find("", {{"State", "WA"}, {"State", "OR"}});
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{1, 2, 3, 6}));
  EXPECT_EQ(r.total, 4);
  r = Find("", {{"State", "WA"}, {"State", "OR"}, {"Gender", "F"}});
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{3, 6}));
  r = Find("", {{"segment", "VIP"}, {"LoyaltyTier", "Gold"}});
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{1, 3, 7}));
  r = Find("", {{"segment", "VIP"}, {"segment", "Churn risk"}, {"Gender", "M"}});
  EXPECT_EQ(IdSet(r), (std::set<int64_t>{1, 2, 7}));
  r = Find("smith", {{"State", "IL"}});
  EXPECT_EQ(Ids(r), std::vector<int64_t>{8});
  r = Find("", {{"State", "TX"}});
  EXPECT_EQ(r.total, 0);
}

TEST_F(SearchIndexTest, FacetsCountTheMatchingSet) {
  auto r = Find("", {{"State", "WA"}});
  EXPECT_EQ(r.facets["State"], (std::vector<FacetValue>{{"WA", 3}}));
  EXPECT_EQ(r.facets["Gender"], (std::vector<FacetValue>{{"M", 2}, {"F", 1}}));
  EXPECT_EQ(r.facets["LoyaltyTier"], (std::vector<FacetValue>{{"Silver", 2}, {"Gold", 1}}));
  EXPECT_EQ(r.facets["segment"], (std::vector<FacetValue>{{"Churn risk", 2}, {"VIP", 1}}));

  auto all = Find("");
  EXPECT_EQ(all.total, 8);
  EXPECT_EQ(all.hits.size(), 8u);
  EXPECT_EQ(all.facets["State"],
            (std::vector<FacetValue>{{"WA", 3}, {"IL", 2}, {"MS", 1}, {"OR", 1}}));
  EXPECT_EQ(all.facets["segment"], (std::vector<FacetValue>{{"Churn risk", 3}, {"VIP", 3}}));
}

TEST_F(SearchIndexTest, BlankTextIsFilterOnlyAndUnsearchableTextMatchesNothing) {
  EXPECT_EQ(Find("   ").total, 8);
  EXPECT_EQ(Find("  ", {{"Gender", "F"}}).total, 3);
  for (const char* q : {"@", "!!!", "john @", "zzzzqqq"}) {
    auto r = Find(q);
    EXPECT_EQ(r.total, 0) << q;
    EXPECT_TRUE(r.facets["State"].empty()) << q;
  }
}

TEST_F(SearchIndexTest, UnknownFilterFieldIsInvalidArgument) {
  SearchQuery q;
  q.filters = {{"City", "Seattle"}};
  auto r = index_->Search(q);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("City"), std::string::npos);
  EXPECT_EQ(index_->filter_fields(), (std::vector<std::string>{"State", "Gender", "LoyaltyTier", "segment"}));
}

TEST_F(SearchIndexTest, OffsetAndLimitPageThroughTheMatches) {
  SearchQuery q;
  q.limit = 3;
  std::vector<int64_t> seen;
  for (q.offset = 0; q.offset < 10; q.offset += 3) {
    auto r = index_->Search(q);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->total, 8);
    for (const auto& h : r->hits) seen.push_back(h.customer_id);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

// Random customers: every filter combination's hits and facet counts equal a brute-force count.
TEST(SearchIndexFacetTest, CountsEqualBruteForce) {
  const char* states[] = {"CA", "WA", "OR", "TX", nullptr};
  const char* genders[] = {"F", "M", "X", nullptr};
  const char* tiers[] = {"Gold", "Silver", "Bronze", nullptr};
  const char* firsts[] = {"Ann", "Bob", "Carla", "Dan", "Eve"};
  std::mt19937 rng(7);
  std::vector<Person> people;
  std::vector<std::string> names;
  names.reserve(300);
  for (int i = 0; i < 300; ++i) {
    people.push_back({1000 + i, firsts[rng() % 5], "Doe", nullptr, nullptr, nullptr, states[rng() % 5],
                      genders[rng() % 4], tiers[rng() % 4]});
  }
  SearchIndexInput in;
  in.customers = Customers(people);
  std::map<int64_t, std::set<std::string>> member_of;
  for (const char* seg : {"A", "B", "C"}) {
    auto& m = in.segment_members[seg];
    for (const auto& p : people) {
      if (rng() % 3 == 0) {
        m.push_back(p.id);
        member_of[p.id].insert(seg);
      }
    }
  }
  // A related entity with 0-3 rows per customer, a brand sometimes twice.
  const char* brands[] = {"Aroma", "Bold", "Crema"};
  std::map<int64_t, std::set<std::string>> brands_of;
  auto brand_rows = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}},
                                                    {"Value", DataType::kString, {}},
                                                    {"Level", DataType::kString, {}}}));
  for (const auto& p : people) {
    for (unsigned k = rng() % 4; k > 0; --k) {
      const char* b = brands[rng() % 3];
      brand_rows->mutable_column(0).AppendInt64(p.id);
      brand_rows->mutable_column(1).AppendString(b);
      brand_rows->mutable_column(2).AppendString("High");
      brand_rows->FinishRow();
      brands_of[p.id].insert(b);
    }
  }
  in.related["Enrichment_Brand"] = {brand_rows, {"Value"}};
  const std::string kBrand = "Enrichment_Brand.Value";
  TempDir dir;
  ASSERT_TRUE(SearchIndex::Update(dir.path(), {}, in).ok());
  auto index = SearchIndex::Open(dir.path());
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index.value()->filter_fields(),
            (std::vector<std::string>{"State", "Gender", "LoyaltyTier", kBrand, "segment"}));

  auto value = [&](const Person& p, const std::string& f) -> const char* {
    if (f == "State") return p.state;
    if (f == "Gender") return p.gender;
    return p.tier;
  };
  std::vector<std::vector<std::pair<std::string, std::string>>> filter_sets = {
      {},
      {{"State", "CA"}},
      {{"State", "CA"}, {"State", "TX"}},
      {{"Gender", "F"}, {"LoyaltyTier", "Gold"}},
      {{"segment", "A"}},
      {{"segment", "A"}, {"segment", "C"}, {"State", "WA"}},
      {{"State", "OR"}, {"Gender", "M"}, {"Gender", "X"}, {"LoyaltyTier", "Silver"}, {"segment", "B"}},
      {{kBrand, "Bold"}},
      {{kBrand, "Aroma"}, {kBrand, "Crema"}, {"segment", "B"}},
      {{kBrand, "Crema"}, {"Gender", "F"}},
  };
  for (const std::string text : {"", "ann", "carla doe"}) {
    for (const auto& filters : filter_sets) {
      SearchQuery q;
      q.text = text;
      q.filters = filters;
      q.limit = 1000;
      auto r = index.value()->Search(q);
      ASSERT_TRUE(r.ok());
      std::map<std::string, std::set<std::string>> wanted;
      for (const auto& [f, v] : filters) wanted[f].insert(v);
      std::set<int64_t> expect_ids;
      std::map<std::string, std::map<std::string, int64_t>> expect_counts;
      for (const auto& p : people) {
        if (text == "ann" && std::string(p.first) != "Ann") continue;
        if (text == "carla doe" && std::string(p.first) != "Carla") continue;
        bool ok = true;
        for (const auto& [f, vs] : wanted) {
          if (f == "segment") {
            ok = ok && std::any_of(vs.begin(), vs.end(), [&](const std::string& s) { return member_of[p.id].count(s); });
          } else if (f == kBrand) {
            ok = ok && std::any_of(vs.begin(), vs.end(), [&](const std::string& s) { return brands_of[p.id].count(s); });
          } else {
            const char* v = value(p, f);
            ok = ok && v && vs.count(v);
          }
        }
        if (!ok) continue;
        expect_ids.insert(p.id);
        for (const char* f : {"State", "Gender", "LoyaltyTier"}) {
          if (const char* v = value(p, f)) ++expect_counts[f][v];
        }
        for (const auto& s : member_of[p.id]) ++expect_counts["segment"][s];
        for (const auto& b : brands_of[p.id]) ++expect_counts[kBrand][b];  // customers, not rows
      }
      EXPECT_EQ(IdSet(*r), expect_ids) << text;
      EXPECT_EQ(r->total, static_cast<int64_t>(expect_ids.size()));
      for (const std::string f : {"State", "Gender", "LoyaltyTier", "segment", kBrand.c_str()}) {
        std::map<std::string, int64_t> got;
        for (const auto& fv : r->facets[f]) got[fv.value] = fv.count;
        EXPECT_EQ(got, expect_counts[f]) << "facet " << f << " text '" << text << "'";
        EXPECT_TRUE(std::is_sorted(r->facets[f].begin(), r->facets[f].end(),
                                   [](const FacetValue& a, const FacetValue& b) { return a.count > b.count; }));
      }
    }
  }
}

// --- related filters (enrichments) --------------------------------------------------

std::shared_ptr<Table> Engagement(const std::vector<std::pair<int64_t, const char*>>& rows) {
  auto t = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}},
                                           {"EngagementScore", DataType::kInt64, {}},
                                           {"EngagementLevel", DataType::kString, {}}}));
  for (const auto& [id, level] : rows) {
    t->mutable_column(0).AppendInt64(id);
    t->mutable_column(1).AppendInt64(50);
    if (level) t->mutable_column(2).AppendString(level); else t->mutable_column(2).AppendNull();
    t->FinishRow();
  }
  return t;
}

TEST(ResolveSearchConfigTest, RelatedFiltersAreCheckedAgainstTheirEntity) {
  std::map<std::string, RelatedFilterSource> related;
  related["Enrichment_Engagement"] = {Engagement({}), {"EngagementLevel"}};
  auto d = ResolveSearchConfig(SearchConfig{}, CustomerSchema(), related);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->related_filters.size(), 1u);
  EXPECT_EQ(d->related_filters[0], (RelatedFilter{"Enrichment_Engagement.EngagementLevel", "Enrichment_Engagement",
                                                  "EngagementLevel"}));
  EXPECT_EQ(d->filters.back(), "segment");

  SearchConfig c;
  c.filters = {"State", "Enrichment_Engagement.EngagementScore"};
  auto r = ResolveSearchConfig(c, CustomerSchema(), related);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->filters, (std::vector<std::string>{"State", "segment"}));
  ASSERT_EQ(r->related_filters.size(), 1u);  // configured: the defaults are not added
  EXPECT_EQ(r->related_filters[0].field, "EngagementScore");

  c.filters = {"Enrichment_Engagement.Mood"};
  r = ResolveSearchConfig(c, CustomerSchema(), related);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'Mood' is not a field of Enrichment_Engagement"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("EngagementLevel"), std::string::npos);  // lists the fields

  c.filters = {"Enrichment_Brand.Value"};
  r = ResolveSearchConfig(c, CustomerSchema(), related);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Enrichment_Engagement"), std::string::npos) << r.status().message();

  c.filters = {"Enrichment_Engagement.CustomerId"};
  EXPECT_EQ(ResolveSearchConfig(c, CustomerSchema(), related).status().code(), StatusCode::kInvalidArgument);
}

TEST(SearchIndexRelatedTest, FiltersByEnrichmentValuesAndUpdatesWhenTheyChange) {
  TempDir dir;
  SearchIndexInput in = LabInput();
  in.related["Enrichment_Engagement"] = {Engagement({{1, "High"}, {2, "Low"}, {3, "High"}, {6, nullptr}, {99, "High"}}),
                                         {"EngagementLevel"}};
  const std::string kLevel = "Enrichment_Engagement.EngagementLevel";
  auto first = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto index = SearchIndex::Open(dir.path());
  ASSERT_TRUE(index.ok());
  SearchQuery q;
  q.filters = {{kLevel, "High"}};
  auto r = index.value()->Search(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(IdSet(*r), (std::set<int64_t>{1, 3}));  // 99 is not a customer: ignored
  q.text = "smith";
  q.filters.emplace_back("State", "OR");
  r = index.value()->Search(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(IdSet(*r), (std::set<int64_t>{3}));
  ASSERT_EQ(r->facets[kLevel].size(), 1u);
  EXPECT_EQ(r->facets[kLevel][0], (FacetValue{"High", 1}));

  // Customer 2 becomes High: only that document changes.
  in.related["Enrichment_Engagement"].table = Engagement({{1, "High"}, {2, "High"}, {3, "High"}, {6, nullptr}});
  auto second = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->updated, 1);
  EXPECT_EQ(second->unchanged, static_cast<int64_t>(Lab().size()) - 1);
  ASSERT_TRUE(index.value()->Reopen().ok());
  SearchQuery high;
  high.filters = {{kLevel, "High"}};
  r = index.value()->Search(high);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(IdSet(*r), (std::set<int64_t>{1, 2, 3}));

  // An entity without CustomerId cannot be a filter source.
  auto keyed_by_source = std::make_shared<Table>(Schema({{"MemberId", DataType::kString, {}},
                                                          {"EngagementLevel", DataType::kString, {}}}));
  in.related["Enrichment_Engagement"].table = keyed_by_source;
  auto bad = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("CustomerId"), std::string::npos) << bad.status().message();
}

// --- incremental update ----------------------------------------------------------------

TEST(SearchIndexUpdateTest, IncrementalUpdateTouchesOnlyChangedCustomers) {
  TempDir dir;
  SearchIndexInput in = LabInput();
  auto first = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->added, 8);
  EXPECT_EQ(first->unchanged + first->updated + first->removed, 0);

  auto again = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 8);
  EXPECT_EQ(again->added + again->updated + again->removed, 0);

  auto index = SearchIndex::Open(dir.path());
  ASSERT_TRUE(index.ok());

  // Change 2's last name, move 6 to another segment, drop 4, add 9.
  std::vector<Person> people = Lab();
  people[1].last = "Walker";
  people.erase(people.begin() + 3);
  people.push_back({9, "Zoe", "Quinn", "zq@example.com", "(206) 555-0100", "Spokane", "WA", "F", "Gold"});
  SearchIndexInput next;
  next.customers = Customers(people);
  next.source_keys = in.source_keys;
  next.segment_members = {{"VIP", {1, 3, 7, 6}}, {"Churn risk", {2, 3}}, {"Empty", {}}};
  auto stats = SearchIndex::Update(dir.path(), {}, next);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->added, 1);
  EXPECT_EQ(stats->updated, 2);  // 2 and 6
  EXPECT_EQ(stats->removed, 1);
  EXPECT_EQ(stats->unchanged, 5);

  // The open index sees the old commit until Reopen.
  auto& idx = *index.value();
  SearchQuery q;
  q.text = "zoe quinn";
  EXPECT_TRUE(idx.Search(q)->hits.empty());
  ASSERT_TRUE(idx.Reopen().ok());
  EXPECT_EQ(Ids(*idx.Search(q)), std::vector<int64_t>{9});
  q.text = "jon walker";
  EXPECT_EQ(Ids(*idx.Search(q)), std::vector<int64_t>{2});
  q.text = "smyth";
  EXPECT_TRUE(IdSet(*idx.Search(q)).count(2) == 0);
  q.text = "maria garcia";
  EXPECT_TRUE(idx.Search(q)->hits.empty());
  q.text = "";
  q.filters = {{"segment", "VIP"}};
  EXPECT_EQ(IdSet(*idx.Search(q)), (std::set<int64_t>{1, 3, 6, 7}));
  EXPECT_EQ(idx.size(), 8);

  // A configuration change re-indexes everyone.
  SearchConfig c;
  c.fields = {{"LastName", "", 1.0}};
  auto reconf = SearchIndex::Update(dir.path(), c, next);
  ASSERT_TRUE(reconf.ok());
  EXPECT_EQ(reconf->updated, 8);
  ASSERT_TRUE(idx.Reopen().ok());
  q = SearchQuery{};
  q.text = "zoe";
  EXPECT_TRUE(idx.Search(q)->hits.empty());
  q.text = "quinn";
  EXPECT_EQ(Ids(*idx.Search(q)), std::vector<int64_t>{9});
}

// A population of `n` people with repeated names, e-mails, phones, states,
// segments and 0-2 brand rows each; the strings live in `store`.
SearchIndexInput Population(int n, uint32_t seed, std::deque<std::string>* store) {
  const char* firsts[] = {"Ann", "Bob", "Carla", "Dan", "Eve", "Frank", "Gina", "Hugo", "Iris", "Jon"};
  const char* lasts[] = {"Smith", "Smyth", "Garcia", "Jackson", "Lee", "Nguyen", "Okafor", "Brown"};
  const char* states[] = {"CA", "WA", "OR", "TX", nullptr};
  const char* tiers[] = {"Gold", "Silver", "Bronze", nullptr};
  const char* brands[] = {"Aroma", "Bold", "Crema"};
  std::mt19937 rng(seed);
  std::vector<Person> people;
  auto keep = [&](std::string v) { return store->emplace_back(std::move(v)).c_str(); };
  for (int i = 0; i < n; ++i) {
    const char* first = firsts[rng() % 10];
    const char* last = lasts[rng() % 8];
    const char* email = rng() % 4 == 0 ? nullptr : keep(std::string(first) + "." + last + std::to_string(i) + "@example.com");
    const char* phone = rng() % 3 == 0 ? nullptr : keep("(555) " + std::to_string(100 + rng() % 900) + "-" + std::to_string(1000 + i));
    people.push_back({10000 + i, first, last, email, phone, "Springfield", states[rng() % 5], rng() % 2 ? "F" : "M",
                      tiers[rng() % 4]});
  }
  SearchIndexInput in;
  in.customers = Customers(people);
  for (const char* seg : {"A", "B"}) {
    for (const auto& p : people) {
      if (rng() % 3 == 0) in.segment_members[seg].push_back(p.id);
    }
  }
  auto brand_rows = std::make_shared<Table>(Schema({{"CustomerId", DataType::kInt64, {}}, {"Value", DataType::kString, {}}}));
  for (const auto& p : people) {
    for (unsigned k = rng() % 3; k > 0; --k) {
      brand_rows->mutable_column(0).AppendInt64(p.id);
      brand_rows->mutable_column(1).AppendString(brands[rng() % 3]);
      brand_rows->FinishRow();
    }
  }
  in.related["Enrichment_Brand"] = {brand_rows, {"Value"}};
  return in;
}

// Every query's hits (ids and scores, in order), total and facets.
std::string Answers(const SearchIndex& index) {
  std::vector<SearchQuery> queries;
  for (const char* text : {"ann smith", "smyth", "garcia", "jon", "okafor 555", "carla.lee", "brwn", "hugo ng", ""}) {
    SearchQuery q;
    q.text = text;
    q.limit = 50;
    queries.push_back(q);
    q.filters = {{"State", "WA"}, {"segment", "A"}};
    queries.push_back(q);
    q.filters = {{"Enrichment_Brand.Value", "Bold"}, {"LoyaltyTier", "Gold"}};
    queries.push_back(q);
  }
  std::string out;
  for (const SearchQuery& q : queries) {
    auto r = index.Search(q);
    if (!r.ok()) return r.status().ToString();
    out += "[" + q.text + "] total " + std::to_string(r->total) + ":";
    for (const auto& h : r->hits) out += " " + std::to_string(h.customer_id) + "/" + std::to_string(h.score);
    for (const auto& [field, values] : r->facets) {
      out += " | " + field;
      for (const auto& v : values) out += " " + v.value + "=" + std::to_string(v.count);
    }
    out += "\n";
  }
  return out;
}

// A first build in shards (threads > 1, compacted into one index) answers
// every query exactly as one writer's index does, and both update alike.
TEST(SearchIndexUpdateTest, FirstBuildInShardsAnswersAsOneWriter) {
  std::deque<std::string> store;
  SearchIndexInput in = Population(5000, 3, &store);
  TempDir one, sharded;
  in.threads = 1;
  auto a = SearchIndex::Update(one.path(), {}, in);
  in.threads = 4;  // 5,000 rows: 4 shards
  std::vector<double> progress;
  auto b = SearchIndex::Update(sharded.path(), {}, in, [&](double f) { progress.push_back(f); });
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->added, 5000);
  EXPECT_EQ(b->added, 5000);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  ASSERT_FALSE(progress.empty());
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
  EXPECT_FALSE(fs::exists(fs::path(sharded.path()) / ".build"));  // the shards are gone
  auto ia = SearchIndex::Open(one.path());
  auto ib = SearchIndex::Open(sharded.path());
  ASSERT_TRUE(ia.ok() && ib.ok());
  EXPECT_EQ((*ib)->size(), 5000);
  const std::string answers = Answers(**ia);
  EXPECT_NE(answers.find("total"), std::string::npos);
  EXPECT_EQ(Answers(**ib), answers);

  // An update of the compacted index: another population of overlapping ids.
  std::deque<std::string> store2;
  SearchIndexInput next = Population(4500, 4, &store2);
  next.threads = 2;
  auto ua = SearchIndex::Update(one.path(), {}, next);
  auto ub = SearchIndex::Update(sharded.path(), {}, next);
  ASSERT_TRUE(ua.ok() && ub.ok());
  EXPECT_EQ(ub->removed, 500);
  EXPECT_EQ(ua->added + ua->updated + ua->removed + ua->unchanged, ub->added + ub->updated + ub->removed + ub->unchanged);
  EXPECT_EQ(ua->updated, ub->updated);
  ASSERT_TRUE((*ia)->Reopen().ok());
  ASSERT_TRUE((*ib)->Reopen().ok());
  EXPECT_EQ((*ib)->size(), 4500);
  EXPECT_EQ(Answers(**ib), Answers(**ia));
}

// A first build killed midway leaves shards under .build and may leave table
// files without the version file: there is no index, and the next update
// builds a whole one.
TEST(SearchIndexUpdateTest, AKilledFirstBuildLeavesNoIndexAndTheNextBuildsAWholeOne) {
  TempDir dir;
  fs::create_directories(fs::path(dir.path()) / ".build" / "shard-0");
  for (const char* junk : {".build/shard-0/postlist.glass", "postlist.glass", "termlist.glass"}) {
    std::ofstream(fs::path(dir.path()) / junk) << "half-written";
  }
  EXPECT_EQ(SearchIndex::Open(dir.path()).status().code(), StatusCode::kNotFound);
  std::deque<std::string> store;
  SearchIndexInput in = Population(3000, 5, &store);
  in.threads = 2;
  auto r = SearchIndex::Update(dir.path(), {}, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->added, 3000);
  auto index = SearchIndex::Open(dir.path());
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ((*index)->size(), 3000);
  SearchQuery q;
  q.text = "";
  q.filters = {{"segment", "A"}};
  EXPECT_EQ((*index)->Search(q)->total, static_cast<int64_t>(in.segment_members["A"].size()));
}

// While one first build runs, another writer of the same index is refused.
TEST(SearchIndexUpdateTest, ASecondFirstBuildIsRefusedWhileOneRuns) {
  TempDir dir;
  fs::create_directories(dir.path());
  auto held = Env::Default()->LockFile((fs::path(dir.path()) / ".build.lock").string());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto r = SearchIndex::Update(dir.path(), {}, LabInput());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("another index update is running"), std::string::npos);
  held->reset();
  EXPECT_TRUE(SearchIndex::Update(dir.path(), {}, LabInput()).ok());
}

TEST(SearchIndexUpdateTest, ProgressIsReportedUpToOne) {
  TempDir dir;
  std::vector<double> seen;
  auto r = SearchIndex::Update(dir.path(), {}, LabInput(), [&](double f) { seen.push_back(f); });
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
}

// Searches from several threads while updates commit and the index reopens.
TEST(SearchIndexConcurrencyTest, SearchesRunConcurrentlyWithUpdatesAndReopen) {
  TempDir dir;
  ASSERT_TRUE(SearchIndex::Update(dir.path(), {}, LabInput()).ok());
  auto opened = SearchIndex::Open(dir.path());
  ASSERT_TRUE(opened.ok());
  SearchIndex& index = *opened.value();
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      const char* queries[] = {"jonh smiht", "(555) 123-4567", "", "CRM-0007"};
      while (!stop) {
        SearchQuery q;
        q.text = queries[t];
        auto r = index.Search(q);
        if (!r.ok() || r->hits.empty()) ++failures;
      }
    });
  }
  for (int round = 0; round < 6; ++round) {
    SearchIndexInput in = LabInput();
    in.segment_members["Round"] = {1 + round % 8};
    ASSERT_TRUE(SearchIndex::Update(dir.path(), {}, in).ok());
    ASSERT_TRUE(index.Reopen().ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cdp
