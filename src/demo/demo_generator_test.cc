#include "demo/demo_generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/datetime.h"
#include "demo/internal/output_file.h"
#include "demo/internal/reference_data.h"
#include "demo/internal/text_noise.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Strict RFC 4180 reader: fails on a quote inside an unquoted field, text after a closing quote
// or an unterminated quoted field. Records end with LF (CR LF inside quotes is data).
bool ParseCsv(const std::string& text, std::vector<Row>* rows, std::string* error) {
  rows->clear();
  Row row;
  std::string field;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    field.clear();
    if (text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
          } else {
            ++i;
            closed = true;
            break;
          }
        } else {
          field.push_back(text[i++]);
        }
      }
      if (!closed) {
        *error = "unterminated quoted field in record " + std::to_string(rows->size() + 1);
        return false;
      }
      if (i < n && text[i] != ',' && text[i] != '\n') {
        *error = "text after closing quote in record " + std::to_string(rows->size() + 1);
        return false;
      }
    } else {
      while (i < n && text[i] != ',' && text[i] != '\n') {
        if (text[i] == '"' || text[i] == '\r') {
          *error = "quote or CR in unquoted field in record " + std::to_string(rows->size() + 1);
          return false;
        }
        field.push_back(text[i++]);
      }
    }
    row.push_back(field);
    if (i >= n || text[i] == '\n') {
      rows->push_back(std::move(row));
      row.clear();
      ++i;
    } else {
      ++i;  // the comma
      if (i == n) row.push_back("");
    }
  }
  if (!row.empty()) rows->push_back(std::move(row));
  return true;
}

std::vector<Row> LoadCsv(const fs::path& path) {
  std::vector<Row> rows;
  std::string error;
  EXPECT_TRUE(ParseCsv(ReadFile(path), &rows, &error)) << path << ": " << error;
  return rows;
}

std::vector<nlohmann::json> LoadJsonLines(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + extra >= s.size() + (extra == 0 ? 1 : 0)) return false;
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

uint64_t Fnv1a(const std::string& data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

fs::path FreshDir(const std::string& name) {
  // One directory per process: ctest runs each test case in its own process, possibly in parallel.
  const fs::path dir =
      fs::path(testing::TempDir()) / ("cdp_demo_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

DemoSummary Generate(const fs::path& dir, int64_t customers, uint64_t seed,
                     double noise = kDefaultDemoNoise) {
  DemoOptions options;
  options.customers = customers;
  options.seed = seed;
  options.noise = noise;
  options.out_dir = dir.string();
  DemoSummary summary;
  const Status status = GenerateContosoDemo(options, &summary);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return summary;
}

const std::vector<std::string> kAllFiles = {
    "ecommerce_contacts.csv", "loyalty_scheme.csv",  "online_purchases.csv",
    "pos_purchases.csv",      "website_reviews.csv", "crm_survey.jsonl",
    "subscriptions.csv",      "products.csv",        "truth.csv",
    "predictions_truth.csv",  "insights_truth.csv"};

// One generated data set (N = 2000) shared by the read-only tests.
class DemoDataTest : public testing::Test {
 protected:
  static constexpr int64_t kPeople = 2000;

  static void SetUpTestSuite() {
    dir_ = new fs::path(FreshDir("shared"));
    summary_ = new DemoSummary(Generate(*dir_, kPeople, 7));
    ecommerce_ = new std::vector<Row>(LoadCsv(*dir_ / "ecommerce_contacts.csv"));
    loyalty_ = new std::vector<Row>(LoadCsv(*dir_ / "loyalty_scheme.csv"));
    online_ = new std::vector<Row>(LoadCsv(*dir_ / "online_purchases.csv"));
    store_ = new std::vector<Row>(LoadCsv(*dir_ / "pos_purchases.csv"));
    reviews_ = new std::vector<Row>(LoadCsv(*dir_ / "website_reviews.csv"));
    truth_ = new std::vector<Row>(LoadCsv(*dir_ / "truth.csv"));
    survey_ = new std::vector<nlohmann::json>(LoadJsonLines(*dir_ / "crm_survey.jsonl"));
    subscriptions_ = new std::vector<Row>(LoadCsv(*dir_ / "subscriptions.csv"));
    predictions_ = new std::vector<Row>(LoadCsv(*dir_ / "predictions_truth.csv"));
    products_ = new std::vector<Row>(LoadCsv(*dir_ / "products.csv"));
    insights_ = new std::vector<Row>(LoadCsv(*dir_ / "insights_truth.csv"));
    person_of_ = new std::map<std::pair<std::string, std::string>, int64_t>();
    for (size_t i = 1; i < truth_->size(); ++i) {
      const Row& r = (*truth_)[i];
      (*person_of_)[{r[0], r[1]}] = std::stoll(r[2]);
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete summary_;
    delete ecommerce_;
    delete loyalty_;
    delete online_;
    delete store_;
    delete reviews_;
    delete truth_;
    delete survey_;
    delete subscriptions_;
    delete predictions_;
    delete products_;
    delete insights_;
    delete person_of_;
  }

  static int64_t PersonOf(const std::string& source, const std::string& key) {
    const auto it = person_of_->find({source, key});
    return it == person_of_->end() ? -1 : it->second;
  }

  // Per person: (day, ProductId) of every purchase, online and in store, by day.
  static std::map<int64_t, std::vector<std::pair<int32_t, int>>> PurchasesByPerson();
  // Per person: days of the reviews rated 1 or 2.
  static std::map<int64_t, std::vector<int32_t>> LowReviewDays();
  // predictions_truth.csv by person_id.
  static std::map<int64_t, Row> PlantedTruth();

  // Per source: number of records per person.
  static std::map<int64_t, int> RecordsPerPerson(const std::string& source) {
    std::map<int64_t, int> counts;
    for (size_t i = 1; i < truth_->size(); ++i) {
      if ((*truth_)[i][0] == source) ++counts[std::stoll((*truth_)[i][2])];
    }
    return counts;
  }

  static fs::path* dir_;
  static DemoSummary* summary_;
  static std::vector<Row>* ecommerce_;
  static std::vector<Row>* loyalty_;
  static std::vector<Row>* online_;
  static std::vector<Row>* store_;
  static std::vector<Row>* reviews_;
  static std::vector<Row>* truth_;
  static std::vector<nlohmann::json>* survey_;
  static std::vector<Row>* subscriptions_;
  static std::vector<Row>* predictions_;
  static std::vector<Row>* products_;
  static std::vector<Row>* insights_;
  static std::map<std::pair<std::string, std::string>, int64_t>* person_of_;
};

fs::path* DemoDataTest::dir_ = nullptr;
DemoSummary* DemoDataTest::summary_ = nullptr;
std::vector<Row>* DemoDataTest::ecommerce_ = nullptr;
std::vector<Row>* DemoDataTest::loyalty_ = nullptr;
std::vector<Row>* DemoDataTest::online_ = nullptr;
std::vector<Row>* DemoDataTest::store_ = nullptr;
std::vector<Row>* DemoDataTest::reviews_ = nullptr;
std::vector<Row>* DemoDataTest::truth_ = nullptr;
std::vector<nlohmann::json>* DemoDataTest::survey_ = nullptr;
std::vector<Row>* DemoDataTest::subscriptions_ = nullptr;
std::vector<Row>* DemoDataTest::predictions_ = nullptr;
std::vector<Row>* DemoDataTest::products_ = nullptr;
std::vector<Row>* DemoDataTest::insights_ = nullptr;
std::map<std::pair<std::string, std::string>, int64_t>* DemoDataTest::person_of_ = nullptr;

TEST(DemoGeneratorTest, DefaultTodayIsNovemberFirst2026) {
  EXPECT_EQ(kDefaultDemoToday, DaysFromCivil(2026, 11, 1));
}

TEST(DemoGeneratorTest, SameOptionsGiveIdenticalBytesAndAnotherSeedDiffers) {
  const fs::path a = FreshDir("det_a"), b = FreshDir("det_b"), c = FreshDir("det_c");
  Generate(a, 600, 42);
  Generate(b, 600, 42);
  Generate(c, 600, 43);
  for (const std::string& name : kAllFiles) {
    const std::string bytes_a = ReadFile(a / name);
    ASSERT_FALSE(bytes_a.empty()) << name;
    EXPECT_EQ(Fnv1a(bytes_a), Fnv1a(ReadFile(b / name))) << name;
    if (name == "products.csv") {
      EXPECT_EQ(bytes_a, ReadFile(c / name)) << "the catalogue does not depend on the seed";
    } else {
      EXPECT_NE(Fnv1a(bytes_a), Fnv1a(ReadFile(c / name))) << name;
    }
  }
  for (const auto& dir : {a, b, c}) fs::remove_all(dir);
}

TEST(DemoGeneratorTest, ProgressReportsTheEndOfEveryStage) {
  const fs::path dir = FreshDir("progress");
  DemoOptions options;
  options.customers = 300;
  options.out_dir = dir.string();
  std::vector<std::string> finished;
  options.progress = [&finished](const DemoProgress& p) {
    EXPECT_LE(p.done, p.total);
    if (p.done == p.total && p.total > 0) finished.emplace_back(p.stage);
  };
  DemoSummary summary;
  ASSERT_TRUE(GenerateContosoDemo(options, &summary).ok());
  std::vector<std::string> expected = {"population"};
  expected.insert(expected.end(), kAllFiles.begin(), kAllFiles.end());
  EXPECT_EQ(finished, expected);
  fs::remove_all(dir);
}

TEST(DemoGeneratorTest, InvalidOptionsAreRejected) {
  DemoSummary summary;
  DemoOptions options;
  options.out_dir = FreshDir("invalid").string();
  options.customers = 0;
  EXPECT_EQ(GenerateContosoDemo(options, &summary).code(), StatusCode::kInvalidArgument);
  options.customers = 10;
  options.noise = -1;
  EXPECT_EQ(GenerateContosoDemo(options, &summary).code(), StatusCode::kInvalidArgument);
  options.noise = 1;
  options.today = DaysFromCivil(1980, 1, 1);
  EXPECT_EQ(GenerateContosoDemo(options, &summary).code(), StatusCode::kInvalidArgument);
  options.today = kDefaultDemoToday;
  EXPECT_EQ(GenerateContosoDemo(options, nullptr).code(), StatusCode::kInvalidArgument);
  const std::string dir = options.out_dir;
  options.out_dir.clear();
  EXPECT_EQ(GenerateContosoDemo(options, &summary).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir)) << "nothing is written for invalid options";
}

TEST(DemoGeneratorTest, UnwritableDirectoryIsUnavailable) {
  const fs::path file = FreshDir("not_a_dir");
  std::ofstream(file.string()) << "x";
  DemoOptions options;
  options.customers = 10;
  options.out_dir = (file / "sub").string();
  DemoSummary summary;
  EXPECT_EQ(GenerateContosoDemo(options, &summary).code(), StatusCode::kUnavailable);
  fs::remove_all(file);
}

TEST(DemoGeneratorTest, NoiseZeroGivesCleanRecords) {
  const fs::path dir = FreshDir("clean");
  Generate(dir, 800, 5, 0.0);
  const std::vector<Row> web = LoadCsv(dir / "ecommerce_contacts.csv");
  const std::vector<Row> truth = LoadCsv(dir / "truth.csv");
  std::map<std::pair<std::string, std::string>, int> per_person_source;
  for (size_t i = 1; i < truth.size(); ++i) {
    if (truth[i][0] == "ecommerce_contacts" || truth[i][0] == "loyalty_scheme" ||
        truth[i][0] == "crm_survey") {
      const int seen = ++per_person_source[{truth[i][0], truth[i][2]}];
      EXPECT_EQ(seen, 1) << "duplicate at noise 0";
    }
  }
  for (size_t i = 1; i < web.size(); ++i) {
    EXPECT_FALSE(web[i][4].empty()) << "DateOfBirth";
    EXPECT_FALSE(web[i][6].empty()) << "Email";
    EXPECT_NE(web[i][6], "test@test.com");
    EXPECT_FALSE(web[i][9].empty()) << "StreetAddress";
    EXPECT_EQ(web[i][12], "United States");
  }
  fs::remove_all(dir);
}

TEST_F(DemoDataTest, SummaryListsEveryFileWithItsRowCount) {
  ASSERT_EQ(summary_->files.size(), kAllFiles.size());
  EXPECT_EQ(summary_->people, kPeople);
  for (size_t i = 0; i < kAllFiles.size(); ++i) {
    const DemoFile& f = summary_->files[i];
    EXPECT_EQ(f.name, kAllFiles[i]);
    EXPECT_TRUE(fs::exists(f.path)) << f.path;
    EXPECT_FALSE(fs::exists(f.path + ".tmp"));
    EXPECT_GT(f.rows, 0) << f.name;
  }
  EXPECT_EQ(summary_->files[0].rows, static_cast<int64_t>(ecommerce_->size()) - 1);
  EXPECT_EQ(summary_->files[1].rows, static_cast<int64_t>(loyalty_->size()) - 1);
  EXPECT_EQ(summary_->files[2].rows, static_cast<int64_t>(online_->size()) - 1);
  EXPECT_EQ(summary_->files[3].rows, static_cast<int64_t>(store_->size()) - 1);
  EXPECT_EQ(summary_->files[4].rows, static_cast<int64_t>(reviews_->size()) - 1);
  EXPECT_EQ(summary_->files[5].rows, static_cast<int64_t>(survey_->size()));
  EXPECT_EQ(summary_->files[6].rows, static_cast<int64_t>(subscriptions_->size()) - 1);
  EXPECT_EQ(summary_->files[7].rows, 40);
  EXPECT_EQ(summary_->files[8].rows, static_cast<int64_t>(truth_->size()) - 1);
  EXPECT_EQ(summary_->files[9].rows, kPeople);
  EXPECT_EQ(summary_->files[10].rows, kPeople);
}

TEST_F(DemoDataTest, EveryCsvHasItsHeaderAndColumnCountOnEveryRow) {
  const std::map<std::string, Row> headers = {
      {"ecommerce_contacts.csv",
       {"ContactId", "FirstName", "LastName", "FullName", "DateOfBirth", "Gender", "Email", "Telephone",
        "PostCode", "StreetAddress", "City", "State", "Country", "CreatedOn"}},
      {"loyalty_scheme.csv",
       {"LoyaltyId", "ContactId", "FirstName", "LastName", "FullName", "DateOfBirth", "Gender", "EMail",
        "Telephone", "RewardsPoints", "CreditCard", "CreatedOn"}},
      {"online_purchases.csv",
       {"PurchaseId", "ContactId", "ProductId", "PurchasedOn", "TotalPrice", "ActivityTypeDisplay",
        "Subject"}},
      {"pos_purchases.csv",
       {"PurchaseId", "LoyaltyId", "ProductId", "PurchasedOn", "TotalPrice", "RewardsPointsAdded",
        "ActivityTypeDisplay", "Subject"}},
      {"website_reviews.csv",
       {"ReviewId", "UserId", "ReviewText", "ActivityTypeDisplay", "ReviewRating", "ReviewDate"}},
      {"subscriptions.csv",
       {"SubscriptionId", "ContactId", "StartDate", "EndDate", "IsRecurring", "RecurrenceDays", "Amount"}},
      {"products.csv", {"ProductId", "ProductName", "Category", "Brand", "ListPrice"}},
      {"truth.csv", {"source", "source_key", "person_id"}},
      {"insights_truth.csv",
       {"person_id", "favourite_brand", "in_high_spend_subgroup", "lookalike_seed", "lookalike_planted",
        "favourite_category", "surveyed"}},
      {"predictions_truth.csv",
       {"person_id", "churned", "churn_day", "cause", "favourite_category", "subscription_churned"}},
  };
  for (const auto& [name, header] : headers) {
    const std::string text = ReadFile(*dir_ / name);
    EXPECT_TRUE(IsValidUtf8(text)) << name;
    EXPECT_NE(text.substr(0, 3), "\xEF\xBB\xBF") << name;
    const std::vector<Row> rows = LoadCsv(*dir_ / name);
    ASSERT_GT(rows.size(), 1u) << name;
    EXPECT_EQ(rows[0], header) << name;
    for (size_t i = 1; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), header.size()) << name << " record " << i;
    }
  }
}

TEST_F(DemoDataTest, ReviewsExerciseCsvQuoting) {
  int with_comma = 0, with_quote = 0, with_newline = 0, non_ascii = 0;
  for (size_t i = 1; i < reviews_->size(); ++i) {
    const std::string& text = (*reviews_)[i][2];
    with_comma += text.find(',') != std::string::npos;
    with_quote += text.find('"') != std::string::npos;
    with_newline += text.find('\n') != std::string::npos;
    non_ascii += demo_internal::HasNonAscii(text);
    const int rating = std::stoi((*reviews_)[i][4]);
    EXPECT_GE(rating, 1);
    EXPECT_LE(rating, 5);
    EXPECT_EQ((*reviews_)[i][3], "Website Review");
  }
  EXPECT_GT(with_comma, 0);
  EXPECT_GT(with_quote, 0);
  EXPECT_GT(with_newline, 0);
  EXPECT_GT(non_ascii, 0);
}

TEST_F(DemoDataTest, SurveyLinesHaveTheDocumentedShape) {
  ASSERT_FALSE(survey_->empty());
  std::set<std::string> tiers, satisfaction;
  for (const nlohmann::json& j : *survey_) {
    ASSERT_TRUE(j.is_object());
    EXPECT_TRUE(j["SurveyId"].is_number_integer());
    EXPECT_TRUE(j["SubmittedOn"].is_string());
    EXPECT_TRUE(j["Name"]["First"].is_string());
    EXPECT_TRUE(j["Name"]["Last"].is_string());
    EXPECT_TRUE(j["Email"].is_string() || j["Email"].is_null());
    EXPECT_TRUE(j["Phone"].is_string() || j["Phone"].is_null());
    EXPECT_TRUE(j["Address"]["City"].is_string());
    EXPECT_EQ(j["Address"]["State"].get<std::string>().size(), 2u);
    EXPECT_TRUE(j["Address"].contains("Street"));
    EXPECT_TRUE(j["Address"].contains("PostCode"));
    EXPECT_TRUE(j["Income"].is_number_integer() || j["Income"].is_null());
    EXPECT_TRUE(j["Occupation"].is_string() || j["Occupation"].is_null());
    EXPECT_TRUE(j["EmailSubscriber"].is_boolean());
    tiers.insert(j["LoyaltyTier"].get<std::string>());
    satisfaction.insert(j["CustomerSatisfaction"].get<std::string>());
  }
  EXPECT_EQ(tiers, (std::set<std::string>{"Bronze", "Silver", "Gold", "Platinum"}));
  EXPECT_EQ(satisfaction, (std::set<std::string>{"low", "medium", "high"}));
}

TEST_F(DemoDataTest, TruthCoversEveryRecordExactlyOnceWithUniqueKeys) {
  std::map<std::string, std::vector<std::string>> keys_by_source;
  for (size_t i = 1; i < ecommerce_->size(); ++i)
    keys_by_source["ecommerce_contacts"].push_back((*ecommerce_)[i][0]);
  for (size_t i = 1; i < loyalty_->size(); ++i) keys_by_source["loyalty_scheme"].push_back((*loyalty_)[i][0]);
  for (const auto& j : *survey_)
    keys_by_source["crm_survey"].push_back(std::to_string(j["SurveyId"].get<int64_t>()));
  for (size_t i = 1; i < online_->size(); ++i) keys_by_source["online_purchases"].push_back((*online_)[i][0]);
  for (size_t i = 1; i < store_->size(); ++i) keys_by_source["pos_purchases"].push_back((*store_)[i][0]);
  for (size_t i = 1; i < reviews_->size(); ++i)
    keys_by_source["website_reviews"].push_back((*reviews_)[i][0]);
  for (size_t i = 1; i < subscriptions_->size(); ++i)
    keys_by_source["subscriptions"].push_back((*subscriptions_)[i][0]);

  std::map<std::string, std::multiset<std::string>> truth_keys;
  std::set<int64_t> people_with_profile;
  for (size_t i = 1; i < truth_->size(); ++i) {
    const Row& r = (*truth_)[i];
    truth_keys[r[0]].insert(r[1]);
    const int64_t person = std::stoll(r[2]);
    ASSERT_GE(person, 1);
    ASSERT_LE(person, kPeople);
    if (r[0] == "ecommerce_contacts" || r[0] == "loyalty_scheme" || r[0] == "crm_survey") {
      people_with_profile.insert(person);
    }
  }
  ASSERT_EQ(truth_keys.size(), keys_by_source.size());
  for (const auto& [source, keys] : keys_by_source) {
    const std::set<std::string> unique(keys.begin(), keys.end());
    EXPECT_EQ(unique.size(), keys.size()) << "duplicate key in " << source;
    const std::multiset<std::string> expected(keys.begin(), keys.end());
    EXPECT_EQ(truth_keys[source], expected) << source;
  }
  EXPECT_EQ(people_with_profile.size(), static_cast<size_t>(kPeople)) << "everyone is in some profile source";
}

TEST_F(DemoDataTest, ForeignKeysPointToTheSamePerson) {
  int linked = 0;
  for (size_t i = 1; i < loyalty_->size(); ++i) {
    const Row& r = (*loyalty_)[i];
    if (r[1].empty()) continue;
    ++linked;
    EXPECT_EQ(PersonOf("ecommerce_contacts", r[1]), PersonOf("loyalty_scheme", r[0])) << r[0];
  }
  EXPECT_GT(linked, static_cast<int>(loyalty_->size()) / 3);
  for (size_t i = 1; i < online_->size(); ++i) {
    const Row& r = (*online_)[i];
    EXPECT_EQ(PersonOf("ecommerce_contacts", r[1]), PersonOf("online_purchases", r[0]));
    EXPECT_EQ(r[5], "Online Purchase");
    EXPECT_EQ(r[6].rfind("Bought ", 0), 0u);
  }
  for (size_t i = 1; i < store_->size(); ++i) {
    const Row& r = (*store_)[i];
    EXPECT_EQ(PersonOf("loyalty_scheme", r[1]), PersonOf("pos_purchases", r[0]));
  }
  for (size_t i = 1; i < reviews_->size(); ++i) {
    const Row& r = (*reviews_)[i];
    EXPECT_EQ(PersonOf("ecommerce_contacts", r[1]), PersonOf("website_reviews", r[0]));
  }
}

TEST_F(DemoDataTest, SomePeopleAppearTwiceInOneSource) {
  for (const std::string source : {"ecommerce_contacts", "loyalty_scheme", "crm_survey"}) {
    const auto counts = RecordsPerPerson(source);
    int twice = 0;
    for (const auto& [person, n] : counts) twice += n > 1;
    const double share = static_cast<double>(twice) / static_cast<double>(counts.size());
    EXPECT_GT(share, 0.01) << source;
    EXPECT_LT(share, 0.06) << source;
  }
}

TEST_F(DemoDataTest, ManyPeopleAppearInSeveralSources) {
  std::map<int64_t, std::set<std::string>> sources;
  for (size_t i = 1; i < truth_->size(); ++i) {
    const Row& r = (*truth_)[i];
    if (r[0] == "ecommerce_contacts" || r[0] == "loyalty_scheme" || r[0] == "crm_survey") {
      sources[std::stoll(r[2])].insert(r[0]);
    }
  }
  int several = 0, web = 0, loyal = 0, survey = 0;
  for (const auto& [person, s] : sources) {
    several += s.size() > 1;
    web += s.count("ecommerce_contacts");
    loyal += s.count("loyalty_scheme");
    survey += s.count("crm_survey");
  }
  const double n = static_cast<double>(kPeople);
  EXPECT_NEAR(several / n, 0.55, 0.12);
  EXPECT_NEAR(web / n, 0.72, 0.05);
  EXPECT_NEAR(loyal / n, 0.62, 0.05);
  EXPECT_NEAR(survey / n, 0.42, 0.05);
}

// The lab's segments: AverageWebPurchase > 138, AverageStorePurchase >= 113 (per person).
TEST_F(DemoDataTest, LabSpendThresholdsSelectAMinorityOfBuyers) {
  auto share_above = [](const std::vector<Row>& rows, const std::string& source, double threshold,
                        bool inclusive) {
    std::map<int64_t, std::pair<double, int>> per_person;
    for (size_t i = 1; i < rows.size(); ++i) {
      auto& [sum, n] = per_person[PersonOf(source, rows[i][0])];
      sum += std::stod(rows[i][4]);
      ++n;
    }
    int above = 0;
    for (const auto& [person, agg] : per_person) {
      const double avg = agg.first / agg.second;
      above += inclusive ? avg >= threshold : avg > threshold;
    }
    return static_cast<double>(above) / static_cast<double>(per_person.size());
  };
  const double web = share_above(*online_, "online_purchases", 138, false);
  const double store = share_above(*store_, "pos_purchases", 113, true);
  EXPECT_GT(web, 0.05);
  EXPECT_LT(web, 0.40);
  EXPECT_GT(store, 0.05);
  EXPECT_LT(store, 0.40);
  std::printf("share of web buyers with average > 138: %.1f%%, store buyers >= 113: %.1f%%\n", web * 100,
              store * 100);
}

TEST_F(DemoDataTest, PurchasesFollowTheWindowAndTheSeasons) {
  const int32_t first = kDefaultDemoToday - 730;
  std::map<unsigned, int> per_month;
  for (size_t i = 1; i < online_->size(); ++i) {
    const std::string& ts = (*online_)[i][3];  // YYYY-MM-DDTHH:MM:SSZ
    ASSERT_EQ(ts.size(), 20u);
    const int year = std::stoi(ts.substr(0, 4));
    const unsigned month = static_cast<unsigned>(std::stoi(ts.substr(5, 2)));
    const unsigned day = static_cast<unsigned>(std::stoi(ts.substr(8, 2)));
    const int32_t days = DaysFromCivil(year, month, day);
    EXPECT_GE(days, first);
    EXPECT_LT(days, kDefaultDemoToday);
    ++per_month[month];
  }
  const double winter = (per_month[1] + per_month[2] + per_month[3]) / 3.0;
  const double peaks = (per_month[7] + per_month[12]) / 2.0;
  EXPECT_GT(peaks, winter * 1.3);
}

TEST_F(DemoDataTest, CaliforniaIsASizeableState) {
  std::set<int64_t> people, californians;
  for (size_t i = 1; i < ecommerce_->size(); ++i) {
    const int64_t person = PersonOf("ecommerce_contacts", (*ecommerce_)[i][0]);
    people.insert(person);
    if ((*ecommerce_)[i][11] == "California") californians.insert(person);
  }
  const double share = static_cast<double>(californians.size()) / static_cast<double>(people.size());
  EXPECT_GT(share, 0.09);
  EXPECT_LT(share, 0.18);
  std::printf("California share of web customers: %.1f%%\n", share * 100);
}

TEST_F(DemoDataTest, MillennialsAreASizeableGroup) {
  int known = 0, millennials = 0;
  for (size_t i = 1; i < ecommerce_->size(); ++i) {
    const std::string& dob = (*ecommerce_)[i][4];
    if (dob.empty()) continue;
    ++known;
    const int year = std::stoi(dob.substr(0, 4));
    millennials += year >= 1981 && year <= 1996;
  }
  EXPECT_NEAR(static_cast<double>(millennials) / known, 0.32, 0.08);
}

TEST_F(DemoDataTest, DirtyValuesArePresent) {
  int non_ascii = 0, placeholder_email = 0, placeholder_phone = 0, nickname_pairs = 0;
  std::set<std::string> phone_layouts;
  auto layout_of = [](const std::string& phone) {
    std::string shape;
    for (char c : phone) shape.push_back(c >= '0' && c <= '9' ? '9' : c);
    return shape;
  };
  for (const auto* rows : {ecommerce_, loyalty_}) {
    const bool web = rows == ecommerce_;
    const size_t email = web ? 6 : 7, phone = web ? 7 : 8;
    for (size_t i = 1; i < rows->size(); ++i) {
      const Row& r = (*rows)[i];
      non_ascii += demo_internal::HasNonAscii(r[web ? 1 : 2]) || demo_internal::HasNonAscii(r[web ? 2 : 3]);
      placeholder_email += r[email] == "test@test.com" || r[email] == "noemail@example.com" ||
                           r[email] == "n/a" || r[email] == "none@none.com";
      placeholder_phone +=
          r[phone] == "000-000-0000" || r[phone] == "555-555-5555" || r[phone] == "1234567890";
      phone_layouts.insert(layout_of(r[phone]));
    }
  }
  // Nicknames: the same person under a formal name in one record and a nickname in another.
  std::map<int64_t, std::set<std::string>> first_names;
  for (size_t i = 1; i < ecommerce_->size(); ++i) {
    first_names[PersonOf("ecommerce_contacts", (*ecommerce_)[i][0])].insert((*ecommerce_)[i][1]);
  }
  for (size_t i = 1; i < loyalty_->size(); ++i) {
    first_names[PersonOf("loyalty_scheme", (*loyalty_)[i][0])].insert((*loyalty_)[i][2]);
  }
  std::unordered_map<std::string, std::string> formal_of;
  for (auto names : {demo_internal::FemaleFirstNames(), demo_internal::MaleFirstNames()}) {
    for (const auto& n : names) {
      if (!n.nick1.empty()) formal_of[std::string(n.nick1)] = std::string(n.formal);
    }
  }
  for (const auto& [person, names] : first_names) {
    for (const std::string& name : names) {
      const auto it = formal_of.find(name);
      if (it != formal_of.end() && names.count(it->second)) ++nickname_pairs;
    }
  }
  EXPECT_GT(non_ascii, 0);
  EXPECT_GT(placeholder_email, 0);
  EXPECT_GT(placeholder_phone, 0);
  EXPECT_GT(nickname_pairs, 10);
  EXPECT_GE(phone_layouts.size(), 6u);
}

TEST_F(DemoDataTest, DateFormatsDifferPerSource) {
  for (size_t i = 1; i < ecommerce_->size(); ++i) {
    const std::string& dob = (*ecommerce_)[i][4];
    if (!dob.empty()) {
      ASSERT_EQ(dob.size(), 10u);
      ASSERT_EQ(dob[4], '-');
    }
    ASSERT_EQ((*ecommerce_)[i][13].back(), 'Z');
  }
  for (size_t i = 1; i < loyalty_->size(); ++i) {
    const std::string& dob = (*loyalty_)[i][5];
    if (!dob.empty()) {
      ASSERT_EQ(std::count(dob.begin(), dob.end(), '/'), 2) << dob;
    }
    const std::string& created = (*loyalty_)[i][11];
    ASSERT_TRUE(created.ends_with(" AM") || created.ends_with(" PM")) << created;
  }
  for (size_t i = 1; i < reviews_->size(); ++i) {
    const std::string& date = (*reviews_)[i][5];
    ASSERT_EQ(std::count(date.begin(), date.end(), '.'), 2) << date;
  }
  for (size_t i = 1; i < store_->size(); ++i) {
    ASSERT_EQ((*store_)[i][3].size(), 19u);
    ASSERT_EQ((*store_)[i][3][10], ' ');
  }
}

TEST_F(DemoDataTest, RewardsPointsAddUpFromStorePurchases) {
  std::map<std::string, int64_t> earned;
  for (size_t i = 1; i < store_->size(); ++i) earned[(*store_)[i][1]] += std::stoll((*store_)[i][5]);
  for (size_t i = 1; i < loyalty_->size(); ++i) {
    const int64_t points = std::stoll((*loyalty_)[i][9]);
    EXPECT_GE(points, 100);                              // welcome bonus
    EXPECT_LE(points, 100 + earned[(*loyalty_)[i][0]]);  // minus redemptions
  }
}

// A deliberately simple matcher (exact normalised email; phone + first name; birth date + names;
// ZIP + house number + names) run over the three profile sources. It bounds how hard the default
// noise is: a real matcher with fuzzy comparisons should do better than this baseline.
class BaselineMatcher {
 public:
  struct Record {
    int64_t person = 0;
    std::string first, last, email, phone, zip, house;
    int32_t birth = -1;
  };

  BaselineMatcher() {
    for (auto names : {demo_internal::FemaleFirstNames(), demo_internal::MaleFirstNames()}) {
      for (const auto& n : names) {
        const std::string formal = Name(n.formal);
        canonical_[formal].insert(formal);
        if (!n.nick1.empty()) canonical_[Name(n.nick1)].insert(formal);
        if (!n.nick2.empty()) canonical_[Name(n.nick2)].insert(formal);
      }
    }
  }

  static std::string Name(std::string_view raw) {
    std::string folded, out;
    demo_internal::AppendFolded(folded, raw);
    for (char c : folded) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c >= 'a' && c <= 'z') out.push_back(c);
    }
    return out;
  }
  static std::string Email(std::string raw) {
    while (!raw.empty() && raw.back() == ' ') raw.pop_back();
    for (char& c : raw) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (raw == "test@test.com" || raw == "noemail@example.com" || raw == "none@none.com" || raw == "n/a")
      return "";
    const size_t at = raw.find('@');
    if (at == std::string::npos) return "";
    std::string local = raw.substr(0, at), domain = raw.substr(at + 1);
    const size_t plus = local.find('+');
    if (plus != std::string::npos) local.resize(plus);
    if (domain == "gmail.com") local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
    return local + "@" + domain;
  }
  static std::string Phone(const std::string& raw) {
    std::string digits;
    for (char c : raw) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
    if (digits.size() != 10 || digits == "0000000000" || digits == "5555555555" || digits == "1234567890")
      return "";
    return digits;
  }
  static int EditDistanceAtMostOne(const std::string& a, const std::string& b) {
    if (a == b) return 0;
    const size_t la = a.size(), lb = b.size();
    if ((la > lb ? la - lb : lb - la) > 1) return 2;
    size_t i = 0;
    while (i < la && i < lb && a[i] == b[i]) ++i;
    if (la == lb) {
      if (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a.substr(i + 2) == b.substr(i + 2)) return 1;
      return a.substr(i + 1) == b.substr(i + 1) ? 1 : 2;
    }
    return la > lb ? (a.substr(i + 1) == b.substr(i) ? 1 : 2) : (a.substr(i) == b.substr(i + 1) ? 1 : 2);
  }
  bool FirstCompatible(const std::string& a, const std::string& b) const {
    if (a.empty() || b.empty()) return true;
    if (EditDistanceAtMostOne(a, b) <= 1) return true;
    const auto ia = canonical_.find(a), ib = canonical_.find(b);
    if (ia == canonical_.end() || ib == canonical_.end()) return false;
    for (const std::string& c : ia->second) {
      if (ib->second.count(c)) return true;
    }
    return false;
  }
  static bool LastCompatible(const std::string& a, const std::string& b) {
    return !a.empty() && !b.empty() && EditDistanceAtMostOne(a, b) <= 1;
  }
  bool Match(const Record& a, const Record& b) const {
    if (!a.email.empty() && a.email == b.email) return true;
    const bool first = FirstCompatible(a.first, b.first);
    if (!a.phone.empty() && a.phone == b.phone && first) return true;
    const bool names = first && LastCompatible(a.last, b.last);
    if (a.birth >= 0 && a.birth == b.birth && names) return true;
    if (!a.zip.empty() && a.zip == b.zip && !a.house.empty() && a.house == b.house && names) return true;
    return false;
  }

  void Add(Record r) { records_.push_back(std::move(r)); }

  // Pairwise precision, recall and F1 of the clusters the rules produce.
  void Evaluate(double* precision, double* recall, double* f1) const {
    const size_t n = records_.size();
    std::vector<size_t> parent(n);
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&parent](size_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    std::unordered_map<std::string, std::vector<size_t>> blocks;
    for (size_t i = 0; i < n; ++i) {
      const Record& r = records_[i];
      auto block = [&blocks, i](char kind, const std::string& value) {
        std::string key(1, kind);
        key.append(value);
        blocks[key].push_back(i);
      };
      if (!r.email.empty()) block('e', r.email);
      if (!r.phone.empty()) block('p', r.phone);
      if (r.birth >= 0) block('b', std::to_string(r.birth));
      if (!r.zip.empty() && !r.house.empty()) block('a', r.zip + "/" + r.house);
    }
    for (const auto& [key, members] : blocks) {
      if (members.size() > 200) continue;  // placeholder-like block
      for (size_t x = 0; x < members.size(); ++x) {
        for (size_t y = x + 1; y < members.size(); ++y) {
          if (Match(records_[members[x]], records_[members[y]])) parent[find(members[x])] = find(members[y]);
        }
      }
    }
    std::map<size_t, int64_t> predicted;
    std::map<int64_t, int64_t> actual;
    std::map<std::pair<size_t, int64_t>, int64_t> both;
    for (size_t i = 0; i < n; ++i) {
      ++predicted[find(i)];
      ++actual[records_[i].person];
      ++both[{find(i), records_[i].person}];
    }
    auto pairs = [](int64_t k) { return static_cast<double>(k) * static_cast<double>(k - 1) / 2; };
    double tp = 0, pp = 0, ap = 0;
    for (const auto& [c, k] : both) tp += pairs(k);
    for (const auto& [c, k] : predicted) pp += pairs(k);
    for (const auto& [c, k] : actual) ap += pairs(k);
    *precision = pp > 0 ? tp / pp : 1;
    *recall = ap > 0 ? tp / ap : 1;
    *f1 = 2 * *precision * *recall / (*precision + *recall);
  }

 private:
  std::unordered_map<std::string, std::set<std::string>> canonical_;
  std::vector<Record> records_;
};

int32_t ParseIsoDay(const std::string& s) {
  if (s.size() != 10) return -1;
  return DaysFromCivil(std::stoi(s.substr(0, 4)), static_cast<unsigned>(std::stoi(s.substr(5, 2))),
                       static_cast<unsigned>(std::stoi(s.substr(8, 2))));
}

int32_t ParseUsDay(const std::string& s) {
  const size_t a = s.find('/'), b = s.rfind('/');
  if (a == std::string::npos || a == b) return -1;
  return DaysFromCivil(std::stoi(s.substr(b + 1)), static_cast<unsigned>(std::stoi(s.substr(0, a))),
                       static_cast<unsigned>(std::stoi(s.substr(a + 1, b - a - 1))));
}

// Runs the baseline matcher over the profile sources in `dir`; returns pairwise metrics.
void EvaluateBaseline(const fs::path& dir, double* precision, double* recall, double* f1) {
  std::map<std::pair<std::string, std::string>, int64_t> person_of;
  for (const Row& r : LoadCsv(dir / "truth.csv"))
    person_of[{r[0], r[1]}] = r[2] == "person_id" ? 0 : std::stoll(r[2]);
  BaselineMatcher matcher;
  const int32_t placeholder_birth = DaysFromCivil(1900, 1, 1);
  auto house_of = [](const std::string& street) { return street.substr(0, street.find(' ')); };
  const std::vector<Row> web = LoadCsv(dir / "ecommerce_contacts.csv");
  for (size_t i = 1; i < web.size(); ++i) {
    const Row& r = web[i];
    BaselineMatcher::Record rec;
    rec.person = person_of[{"ecommerce_contacts", r[0]}];
    rec.first = BaselineMatcher::Name(r[1]);
    rec.last = BaselineMatcher::Name(r[2]);
    rec.birth = ParseIsoDay(r[4]);
    if (rec.birth == placeholder_birth) rec.birth = -1;
    rec.email = BaselineMatcher::Email(r[6]);
    rec.phone = BaselineMatcher::Phone(r[7]);
    rec.zip = r[8].substr(0, 5);
    rec.house = house_of(r[9]);
    matcher.Add(std::move(rec));
  }
  const std::vector<Row> loyalty = LoadCsv(dir / "loyalty_scheme.csv");
  for (size_t i = 1; i < loyalty.size(); ++i) {
    const Row& r = loyalty[i];
    BaselineMatcher::Record rec;
    rec.person = person_of[{"loyalty_scheme", r[0]}];
    rec.first = BaselineMatcher::Name(r[2]);
    rec.last = BaselineMatcher::Name(r[3]);
    rec.birth = ParseUsDay(r[5]);
    if (rec.birth == placeholder_birth) rec.birth = -1;
    rec.email = BaselineMatcher::Email(r[7]);
    rec.phone = BaselineMatcher::Phone(r[8]);
    matcher.Add(std::move(rec));
  }
  for (const auto& j : LoadJsonLines(dir / "crm_survey.jsonl")) {
    BaselineMatcher::Record rec;
    rec.person = person_of[{"crm_survey", std::to_string(j["SurveyId"].get<int64_t>())}];
    rec.first = BaselineMatcher::Name(j["Name"]["First"].get<std::string>());
    rec.last = BaselineMatcher::Name(j["Name"]["Last"].get<std::string>());
    if (j["Email"].is_string()) rec.email = BaselineMatcher::Email(j["Email"].get<std::string>());
    if (j["Phone"].is_string()) rec.phone = BaselineMatcher::Phone(j["Phone"].get<std::string>());
    if (j["Address"]["PostCode"].is_string())
      rec.zip = j["Address"]["PostCode"].get<std::string>().substr(0, 5);
    if (j["Address"]["Street"].is_string()) rec.house = house_of(j["Address"]["Street"].get<std::string>());
    matcher.Add(std::move(rec));
  }
  matcher.Evaluate(precision, recall, f1);
}

TEST_F(DemoDataTest, DefaultNoiseKeepsRecordsLinkableByASimpleMatcher) {
  double precision, recall, f1;
  EvaluateBaseline(*dir_, &precision, &recall, &f1);
  std::printf("baseline matcher at default noise: precision %.4f recall %.4f F1 %.4f\n", precision, recall,
              f1);
  EXPECT_GT(precision, 0.95);
  EXPECT_GT(recall, 0.95);
  EXPECT_GT(f1, 0.97);
}

TEST(DemoGeneratorTest, MoreNoiseMakesLinkingHarder) {
  const fs::path dir = FreshDir("noisy");
  Generate(dir, 2000, 7, 2.5);
  double precision, recall, f1;
  EvaluateBaseline(dir, &precision, &recall, &f1);
  std::printf("baseline matcher at noise 2.5: precision %.4f recall %.4f F1 %.4f\n", precision, recall, f1);
  EXPECT_LT(recall, 0.97);
  EXPECT_GT(f1, 0.5);
  fs::remove_all(dir);
}

int32_t ParseDotDay(const std::string& s) {  // D.M.YYYY
  const size_t a = s.find('.'), b = s.rfind('.');
  return DaysFromCivil(std::stoi(s.substr(b + 1)),
                       static_cast<unsigned>(std::stoi(s.substr(a + 1, b - a - 1))),
                       static_cast<unsigned>(std::stoi(s.substr(0, a))));
}

std::map<int64_t, std::vector<std::pair<int32_t, int>>> DemoDataTest::PurchasesByPerson() {
  std::map<int64_t, std::vector<std::pair<int32_t, int>>> out;
  for (size_t i = 1; i < online_->size(); ++i) {
    const Row& r = (*online_)[i];
    out[PersonOf("online_purchases", r[0])].emplace_back(ParseIsoDay(r[3].substr(0, 10)), std::stoi(r[2]));
  }
  for (size_t i = 1; i < store_->size(); ++i) {
    const Row& r = (*store_)[i];
    out[PersonOf("pos_purchases", r[0])].emplace_back(ParseIsoDay(r[3].substr(0, 10)), std::stoi(r[2]));
  }
  for (auto& [person, purchases] : out) std::sort(purchases.begin(), purchases.end());
  return out;
}

std::map<int64_t, std::vector<int32_t>> DemoDataTest::LowReviewDays() {
  std::map<int64_t, std::vector<int32_t>> out;
  for (size_t i = 1; i < reviews_->size(); ++i) {
    const Row& r = (*reviews_)[i];
    if (std::stoi(r[4]) <= 2) out[PersonOf("website_reviews", r[0])].push_back(ParseDotDay(r[5]));
  }
  return out;
}

std::map<int64_t, Row> DemoDataTest::PlantedTruth() {
  std::map<int64_t, Row> out;
  for (size_t i = 1; i < predictions_->size(); ++i)
    out[std::stoll((*predictions_)[i][0])] = (*predictions_)[i];
  return out;
}

TEST_F(DemoDataTest, PredictionsTruthHasOneDocumentedRowPerPerson) {
  ASSERT_EQ(predictions_->size(), static_cast<size_t>(kPeople) + 1);
  const std::set<std::string> categories = {"beans", "espresso", "brewing", "cold_brew", "cups_accessories"};
  std::set<std::string> favourites, causes;
  int churned = 0;
  for (size_t i = 1; i < predictions_->size(); ++i) {
    const Row& r = (*predictions_)[i];
    EXPECT_EQ(r[0], std::to_string(i));
    ASSERT_TRUE(r[1] == "0" || r[1] == "1") << r[1];
    if (r[1] == "1") {
      ++churned;
      const int32_t day = ParseIsoDay(r[2]);
      EXPECT_GE(day, kDefaultDemoToday - 730) << r[2];
      EXPECT_LT(day, kDefaultDemoToday) << r[2];
      EXPECT_TRUE(r[3] == "bad_review" || r[3] == "none") << r[3];
      causes.insert(r[3]);
    } else {
      EXPECT_EQ(r[2], "");
      EXPECT_EQ(r[3], "");
    }
    EXPECT_TRUE(categories.count(r[4])) << r[4];
    favourites.insert(r[4]);
    EXPECT_TRUE(r[5].empty() || r[5] == "0" || r[5] == "1") << r[5];
  }
  EXPECT_EQ(favourites, categories);
  EXPECT_EQ(causes, (std::set<std::string>{"bad_review", "none"}));
  const double share = static_cast<double>(churned) / kPeople;
  EXPECT_GT(share, 0.10);
  EXPECT_LT(share, 0.40);
  std::printf("churners: %.1f%% of people\n", share * 100);
}

TEST_F(DemoDataTest, ChurnersStopBuyingAfterTheirChurnDay) {
  const auto purchases = PurchasesByPerson();
  const auto truth = PlantedTruth();
  int churners = 0, bought_before = 0, after = 0;
  for (const auto& [person, row] : truth) {
    if (row[1] != "1") continue;
    ++churners;
    const int32_t churn_day = ParseIsoDay(row[2]);
    const auto it = purchases.find(person);
    if (it == purchases.end()) continue;
    bought_before += !it->second.empty() && it->second.front().first < churn_day;
    for (const auto& [day, product] : it->second) after += day >= churn_day;
  }
  for (size_t i = 1; i < reviews_->size(); ++i) {
    const Row& row = truth.at(PersonOf("website_reviews", (*reviews_)[i][0]));
    if (row[1] == "1") {
      EXPECT_LT(ParseDotDay((*reviews_)[i][5]), ParseIsoDay(row[2])) << (*reviews_)[i][0];
    }
  }
  EXPECT_EQ(after, 0) << "purchases on or after a churn day";
  ASSERT_GT(churners, 0);
  EXPECT_GT(bought_before, churners * 8 / 10) << "churners were customers before they stopped";
}

TEST_F(DemoDataTest, MostCauseChurnersWroteALowReviewShortlyBefore) {
  const auto low = LowReviewDays();
  const auto truth = PlantedTruth();
  auto low_review_between = [&low](int64_t person, int32_t from, int32_t to) {
    const auto it = low.find(person);
    if (it == low.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [&](int32_t d) { return d >= from && d <= to; });
  };
  int cause = 0, cause_with_review = 0, plain = 0, plain_with_review = 0, low_not_churned = 0;
  for (const auto& [person, row] : truth) {
    if (row[1] == "1") {
      const int32_t churn_day = ParseIsoDay(row[2]);
      if (row[3] == "bad_review") {
        ++cause;
        cause_with_review += low_review_between(person, churn_day - 42, churn_day - 7);
      } else {
        ++plain;
        plain_with_review += low_review_between(person, churn_day - 60, churn_day);
      }
    } else {
      low_not_churned += low.count(person) > 0;
    }
  }
  ASSERT_GT(cause, 20);
  ASSERT_GT(plain, 20);
  EXPECT_GE(cause_with_review, cause * 9 / 10);
  EXPECT_LT(plain_with_review, plain / 10) << "churn without a cause shows no bad review";
  EXPECT_GT(low_not_churned, 0) << "some people with a bad review stay";
  EXPECT_LT(low_not_churned, cause_with_review) << "but they are rarer than those who leave";
  std::printf(
      "cause churners %d (%d with a low review 7-42 days before), plain churners %d, low reviewers "
      "who stay %d\n",
      cause, cause_with_review, plain, low_not_churned);
}

TEST_F(DemoDataTest, ChurnDaysSpreadOverTheHistory) {
  std::vector<int> per_window(8);  // 90-day windows back from today
  for (const auto& [person, row] : PlantedTruth()) {
    if (row[1] != "1") continue;
    const int32_t back = kDefaultDemoToday - 1 - ParseIsoDay(row[2]);
    if (back / 90 < 8) ++per_window[static_cast<size_t>(back / 90)];
  }
  for (size_t w = 0; w < 4; ++w) EXPECT_GE(per_window[w], 10) << "window " << w << " before today";
  for (size_t w = 4; w < 8; ++w) EXPECT_GT(per_window[w], 0) << "window " << w << " before today";
}

TEST_F(DemoDataTest, SubscriptionsHaveTheDocumentedFormatAndRenewals) {
  ASSERT_GT(subscriptions_->size(), 50u);
  std::map<std::string, std::vector<const Row*>> by_contact;
  std::set<int64_t> subscribers;
  for (size_t i = 1; i < subscriptions_->size(); ++i) {
    const Row& r = (*subscriptions_)[i];
    const int64_t person = PersonOf("subscriptions", r[0]);
    ASSERT_GT(person, 0) << r[0];
    EXPECT_EQ(PersonOf("ecommerce_contacts", r[1]), person) << "ContactId " << r[1];
    subscribers.insert(person);
    const int32_t start = ParseIsoDay(r[2]);
    EXPECT_GE(start, kDefaultDemoToday - 730) << r[2];
    EXPECT_LT(start, kDefaultDemoToday) << r[2];
    if (!r[3].empty()) {
      const int32_t end = ParseIsoDay(r[3]);
      EXPECT_GT(end, start) << r[3];
      EXPECT_LT(end, kDefaultDemoToday) << r[3];
    }
    EXPECT_TRUE(r[4] == "true" || r[4] == "false") << r[4];
    EXPECT_TRUE(r[5] == "30" || r[5] == "90" || r[5] == "365") << r[5];
    const size_t dot = r[6].find('.');
    ASSERT_NE(dot, std::string::npos) << r[6];
    EXPECT_EQ(r[6].size() - dot, 3u) << r[6];
    EXPECT_GT(std::stod(r[6]), 0.0) << r[6];
    by_contact[r[1]].push_back(&r);
  }
  int renewals = 0, running = 0, ended = 0;
  for (const auto& [contact, subs] : by_contact) {
    for (size_t i = 0; i + 1 < subs.size(); ++i) {
      ASSERT_FALSE((*subs[i])[3].empty()) << "only the last of a chain runs";
      const int32_t gap = ParseIsoDay((*subs[i + 1])[2]) - ParseIsoDay((*subs[i])[3]);
      EXPECT_GE(gap, 0);
      EXPECT_LE(gap, 30) << "a renewal starts within 30 days of the end";
      ++renewals;
    }
    (*subs.back())[3].empty() ? ++running : ++ended;
  }
  EXPECT_GT(renewals, 10);
  EXPECT_GT(running, 10);
  EXPECT_GT(ended, 10);
  // The truth: churned only when the last one ended; more often after a bad review.
  const auto truth = PlantedTruth();
  const auto low = LowReviewDays();
  int churned[2] = {0, 0}, total[2] = {0, 0};
  for (const auto& [person, row] : truth) {
    EXPECT_EQ(row[5].empty(), subscribers.count(person) == 0) << person;
    if (row[5].empty()) continue;
    const int bad = low.count(person) > 0;
    ++total[bad];
    churned[bad] += row[5] == "1";
  }
  for (const auto& [contact, subs] : by_contact) {
    if (truth.at(PersonOf("ecommerce_contacts", contact))[5] == "1") {
      EXPECT_FALSE((*subs.back())[3].empty()) << "a churned subscription has ended";
    }
  }
  ASSERT_GT(total[0], 20);
  ASSERT_GT(total[1], 10);
  const double rate_bad = static_cast<double>(churned[1]) / total[1];
  const double rate_other = static_cast<double>(churned[0]) / total[0];
  EXPECT_GT(rate_bad, rate_other + 0.15) << "not renewing is planted after bad reviews";
  std::printf("subscription churn: %.2f after a low review, %.2f otherwise\n", rate_bad, rate_other);
}

constexpr int kEspressoBeans = 1008;  // Espresso Roast Beans 1kg

TEST_F(DemoDataTest, PurchasesFollowFavouritesAndComplements) {
  const auto products = demo_internal::Products();
  auto category_of = [&products](int id) {
    return std::string(
        demo_internal::CategoryName(products[static_cast<size_t>(id - products[0].id)].category));
  };
  const auto purchases = PurchasesByPerson();
  const auto truth = PlantedTruth();
  // Favourite categories: a person's purchases concentrate in it.
  std::map<std::string, int> per_category, favourites;
  int in_favourite = 0, all = 0;
  for (const auto& [person, list] : purchases) {
    const std::string& favourite = truth.at(person)[4];
    favourites[favourite] += static_cast<int>(list.size());
    for (const auto& [day, id] : list) {
      ++per_category[category_of(id)];
      in_favourite += category_of(id) == favourite;
      ++all;
    }
  }
  double independent = 0;  // the share expected if purchases ignored favourites
  for (const auto& [category, n] : favourites) {
    independent += static_cast<double>(n) / all * per_category[category] / all;
  }
  const double share = static_cast<double>(in_favourite) / all;
  EXPECT_GT(share, 0.5);
  EXPECT_GT(share, 2 * independent);
  // Complements: espresso machine owners buy espresso roast beans afterwards.
  int owners = 0, owners_then_beans = 0, beans_buyers = 0;
  for (const auto& [person, list] : purchases) {
    beans_buyers +=
        std::any_of(list.begin(), list.end(), [](const auto& p) { return p.second == kEspressoBeans; });
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].second != 1002 && list[i].second != 1040) continue;
      ++owners;
      owners_then_beans += std::any_of(list.begin() + static_cast<std::ptrdiff_t>(i) + 1, list.end(),
                                       [](const auto& p) { return p.second == kEspressoBeans; });
      break;
    }
  }
  ASSERT_GT(owners, 20);
  const double lift = (static_cast<double>(owners_then_beans) / owners) /
                      (static_cast<double>(beans_buyers) / static_cast<double>(purchases.size()));
  EXPECT_GT(lift, 1.5) << "espresso machine, then espresso beans";
  // A personal recommender (the person's own most bought products, then the most purchased)
  // beats the most purchased products on the last month (Success@10).
  const int32_t cutoff = kDefaultDemoToday - 30;
  std::map<int, int> popularity;
  for (const auto& [person, list] : purchases) {
    for (const auto& [day, id] : list) popularity[id] += day < cutoff;
  }
  auto top10 = [](const std::map<int, double>& scores) {
    std::vector<std::pair<double, int>> ranked;
    for (const auto& [id, score] : scores) ranked.emplace_back(-score, id);
    std::sort(ranked.begin(), ranked.end());
    std::set<int> out;
    for (size_t i = 0; i < ranked.size() && i < 10; ++i) out.insert(ranked[i].second);
    return out;
  };
  std::map<int, double> popular_scores;
  for (const auto& [id, n] : popularity) popular_scores[id] = n;
  const std::set<int> popular = top10(popular_scores);
  int buyers = 0, popular_hits = 0, personal_hits = 0;
  for (const auto& [person, list] : purchases) {
    std::map<int, double> scores = popular_scores;
    for (auto& [id, score] : scores) score *= 1e-6;
    std::set<int> last_month;
    bool history = false;
    for (const auto& [day, id] : list) {
      if (day < cutoff) {
        scores[id] += 1;
        history = true;
      } else {
        last_month.insert(id);
      }
    }
    if (!history || last_month.empty()) continue;
    ++buyers;
    const std::set<int> personal = top10(scores);
    popular_hits +=
        std::any_of(last_month.begin(), last_month.end(), [&](int id) { return popular.count(id); });
    personal_hits +=
        std::any_of(last_month.begin(), last_month.end(), [&](int id) { return personal.count(id); });
  }
  ASSERT_GT(buyers, 50);
  const double popular_success = static_cast<double>(popular_hits) / buyers;
  const double personal_success = static_cast<double>(personal_hits) / buyers;
  EXPECT_GT(personal_success, popular_success + 0.1);
  std::printf(
      "favourite share %.2f (independent %.2f), espresso beans lift %.2f, Success@10 personal %.3f "
      "popular %.3f (%d buyers)\n",
      share, independent, lift, personal_success, popular_success, buyers);
}

// products.csv by ProductId.
std::map<int, Row> ProductsById(const std::vector<Row>& products) {
  std::map<int, Row> out;
  for (size_t i = 1; i < products.size(); ++i) out[std::stoi(products[i][0])] = products[i];
  return out;
}

TEST_F(DemoDataTest, ProductCatalogueListsEveryPurchasedProduct) {
  ASSERT_EQ(products_->size(), 41u);
  const std::set<std::string> categories = {"beans",     "espresso",         "brewing",
                                            "cold_brew", "cups_accessories", "gifts"};
  std::set<int> ids;
  std::map<std::string, std::set<std::string>> categories_of_brand;
  std::set<std::string> listed_categories;
  for (size_t i = 1; i < products_->size(); ++i) {
    const Row& r = (*products_)[i];
    EXPECT_TRUE(ids.insert(std::stoi(r[0])).second) << "duplicate ProductId " << r[0];
    EXPECT_FALSE(r[1].empty()) << r[0];
    EXPECT_TRUE(categories.count(r[2])) << r[2];
    listed_categories.insert(r[2]);
    EXPECT_FALSE(r[3].empty()) << r[0];
    EXPECT_GT(std::stod(r[4]), 0.0) << r[4];
    categories_of_brand[r[3]].insert(r[2]);
  }
  EXPECT_EQ(*ids.begin(), 1001);
  EXPECT_EQ(*ids.rbegin(), 1040);
  EXPECT_EQ(listed_categories, categories);
  const std::map<int, Row> by_id = ProductsById(*products_);
  EXPECT_EQ(by_id.at(1025)[1], "Paper Filters, 200 ct") << "a name with a comma is quoted";
  EXPECT_EQ(by_id.at(1002)[2], "espresso");
  // 6 to 8 brands, each spanning at least three categories.
  EXPECT_GE(categories_of_brand.size(), 6u);
  EXPECT_LE(categories_of_brand.size(), 8u);
  for (const auto& [brand, in] : categories_of_brand) EXPECT_GE(in.size(), 3u) << brand;
  // Every purchase refers to a listed product and names it in its Subject.
  for (const auto& [rows, subject] : {std::pair{online_, 6}, std::pair{store_, 7}}) {
    for (size_t i = 1; i < rows->size(); ++i) {
      const Row& r = (*rows)[i];
      const auto it = by_id.find(std::stoi(r[2]));
      ASSERT_NE(it, by_id.end()) << "ProductId " << r[2] << " of purchase " << r[0]
                                 << " is not in products.csv";
      EXPECT_EQ(r[static_cast<size_t>(subject)], "Bought " + it->second[1]) << r[0];
    }
  }
}

std::map<int64_t, Row> ByPersonId(const std::vector<Row>& rows) {
  std::map<int64_t, Row> out;
  for (size_t i = 1; i < rows.size(); ++i) out[std::stoll(rows[i][0])] = rows[i];
  return out;
}

TEST_F(DemoDataTest, InsightsTruthMatchesThePeopleAndTheirPurchases) {
  ASSERT_EQ(insights_->size(), static_cast<size_t>(kPeople) + 1);
  std::set<std::string> brands;
  for (size_t i = 1; i < products_->size(); ++i) brands.insert((*products_)[i][3]);
  std::set<int64_t> surveyed;
  for (size_t i = 1; i < truth_->size(); ++i) {
    if ((*truth_)[i][0] == "crm_survey") surveyed.insert(std::stoll((*truth_)[i][2]));
  }
  const auto planted = PlantedTruth();
  const auto purchases = PurchasesByPerson();
  int lovers = 0, seeds = 0, lookalikes = 0;
  std::set<std::string> loved;
  for (size_t i = 1; i < insights_->size(); ++i) {
    const Row& r = (*insights_)[i];
    const auto person = static_cast<int64_t>(i);
    ASSERT_EQ(r[0], std::to_string(person));
    if (!r[1].empty()) {
      EXPECT_TRUE(brands.count(r[1])) << r[1];
      ++lovers;
      loved.insert(r[1]);
    }
    for (size_t c : {2u, 3u, 4u, 6u}) ASSERT_TRUE(r[c] == "0" || r[c] == "1") << r[c];
    EXPECT_EQ(r[5], planted.at(person)[4]) << "favourite_category as in predictions_truth.csv";
    EXPECT_EQ(r[6] == "1", surveyed.count(person) > 0) << person;
    const auto it = purchases.find(person);
    const bool bought = it != purchases.end() && !it->second.empty();
    const bool machine = bought && std::any_of(it->second.begin(), it->second.end(), [](const auto& p) {
                           return p.second == 1002 || p.second == 1040;
                         });
    EXPECT_EQ(r[3] == "1", machine) << person;
    EXPECT_EQ(r[4] == "1", !machine && bought && r[5] == "espresso") << person;
    if (machine) {
      EXPECT_EQ(r[5], "espresso") << "only espresso lovers buy an espresso machine";
    }
    seeds += r[3] == "1";
    lookalikes += r[4] == "1";
  }
  EXPECT_NEAR(static_cast<double>(lovers) / kPeople, 0.30, 0.04);
  EXPECT_EQ(loved, brands) << "every brand has lovers";
  EXPECT_GT(seeds, 30);
  EXPECT_GT(lookalikes, seeds);
  // The subgroup is exactly the survey's Income >= 100,000 with tier Gold or Platinum.
  const auto insights = ByPersonId(*insights_);
  int answers = 0, in_subgroup = 0;
  for (const auto& j : *survey_) {
    if (j["Income"].is_null()) continue;
    const int64_t person = PersonOf("crm_survey", std::to_string(j["SurveyId"].get<int64_t>()));
    const std::string tier = j["LoyaltyTier"].get<std::string>();
    const bool rule = j["Income"].get<int64_t>() >= 100000 && (tier == "Gold" || tier == "Platinum");
    EXPECT_EQ(insights.at(person)[2] == "1", rule) << "SurveyId " << j["SurveyId"];
    ++answers;
    in_subgroup += rule;
  }
  EXPECT_GT(answers, 500);
  EXPECT_GT(in_subgroup, 20);
  std::printf("brand lovers %d, look-alike seed %d, planted look-alikes %d, surveyed subgroup %d of %d\n",
              lovers, seeds, lookalikes, in_subgroup, answers);
}

TEST_F(DemoDataTest, BrandLoversBuyTheirFavouriteBrandMuchMoreOften) {
  const std::map<int, Row> products = ProductsById(*products_);
  const auto insights = ByPersonId(*insights_);
  // Per brand: purchases of the brand and all purchases, by its lovers and by people with no
  // favourite brand.
  std::map<std::string, std::array<int, 2>> lovers, others;
  std::map<std::string, int> all_others;
  int others_total = 0;
  for (const auto& [person, list] : PurchasesByPerson()) {
    const std::string& favourite = insights.at(person)[1];
    for (const auto& [day, id] : list) {
      const std::string& brand = products.at(id)[3];
      if (favourite.empty()) {
        ++all_others[brand];
        ++others_total;
      } else {
        lovers[favourite][0] += brand == favourite;
        ++lovers[favourite][1];
      }
    }
  }
  ASSERT_EQ(lovers.size(), 6u);
  ASSERT_GT(others_total, 1000);
  for (const auto& [brand, counts] : lovers) {
    ASSERT_GT(counts[1], 100) << brand;
    const double share = static_cast<double>(counts[0]) / counts[1];
    const double baseline = static_cast<double>(all_others[brand]) / others_total;
    EXPECT_GT(share, 0.4) << brand;
    EXPECT_GT(share, 2 * baseline) << brand;
    std::printf("%-20s lovers' share %.2f, others' %.2f\n", brand.c_str(), share, baseline);
  }
}

TEST_F(DemoDataTest, HighSpendSubgroupSpendsMoreThanTwiceAsMuchPerPurchase) {
  const auto insights = ByPersonId(*insights_);
  // By the survey's answers (Income >= 100,000; tier Gold or Platinum), for surveyed people.
  std::map<int64_t, std::pair<bool, bool>> answers;
  for (const auto& j : *survey_) {
    if (j["Income"].is_null()) continue;
    const std::string tier = j["LoyaltyTier"].get<std::string>();
    answers[PersonOf("crm_survey", std::to_string(j["SurveyId"].get<int64_t>()))] = {
        j["Income"].get<int64_t>() >= 100000, tier == "Gold" || tier == "Platinum"};
  }
  double sum[2] = {0, 0};
  int count[2] = {0, 0};
  std::map<std::pair<bool, bool>, std::pair<double, int>> by_answers;
  for (const auto& [rows, source] :
       {std::pair{online_, "online_purchases"}, std::pair{store_, "pos_purchases"}}) {
    for (size_t i = 1; i < rows->size(); ++i) {
      const int64_t person = PersonOf(source, (*rows)[i][0]);
      const double price = std::stod((*rows)[i][4]);
      const int in = insights.at(person)[2] == "1";
      sum[in] += price;
      ++count[in];
      const auto it = answers.find(person);
      if (it != answers.end()) {
        by_answers[it->second].first += price;
        ++by_answers[it->second].second;
      }
    }
  }
  ASSERT_GT(count[1], 100);
  const double subgroup = sum[1] / count[1], rest = sum[0] / count[0];
  EXPECT_GE(subgroup, 2 * rest);
  // The step is crisp: high income alone, or a high tier alone, is not enough.
  ASSERT_EQ(by_answers.size(), 4u);
  for (const auto& [cell, agg] : by_answers) ASSERT_GT(agg.second, 50);
  const double both = by_answers[{true, true}].first / by_answers[{true, true}].second;
  for (const auto& cell : {std::pair{true, false}, std::pair{false, true}, std::pair{false, false}}) {
    EXPECT_GE(both, 2 * by_answers[cell].first / by_answers[cell].second) << cell.first << cell.second;
  }
  std::printf("average purchase: subgroup %.2f, rest %.2f\n", subgroup, rest);
}

TEST_F(DemoDataTest, LookalikesShareTheSeedsEspressoHabit) {
  const std::map<int, Row> products = ProductsById(*products_);
  const auto insights = ByPersonId(*insights_);
  // Share of espresso products among the purchases of the seed, the planted look-alikes and the
  // other buyers.
  int espresso[3] = {0, 0, 0}, all[3] = {0, 0, 0};
  for (const auto& [person, list] : PurchasesByPerson()) {
    const Row& r = insights.at(person);
    const int group = r[3] == "1" ? 0 : r[4] == "1" ? 1 : 2;
    for (const auto& [day, id] : list) {
      espresso[group] += products.at(id)[2] == "espresso";
      ++all[group];
    }
  }
  for (int g = 0; g < 3; ++g) ASSERT_GT(all[g], 100) << g;
  double share[3];
  for (int g = 0; g < 3; ++g) share[g] = static_cast<double>(espresso[g]) / all[g];
  EXPECT_GT(share[1], 0.5 * share[0]) << "look-alikes buy espresso products like the seed";
  EXPECT_GT(share[1], 4 * share[2]) << "and much more than other buyers";
  std::printf("espresso share: seed %.3f, look-alikes %.3f, others %.3f\n", share[0], share[1], share[2]);
}

TEST(DemoGeneratorTest, WithoutPlantedChurnNobodyChurnsAndProfilesStay) {
  const fs::path with = FreshDir("churn_on"), without = FreshDir("churn_off");
  Generate(with, 500, 9);
  DemoOptions options;
  options.customers = 500;
  options.seed = 9;
  options.out_dir = without.string();
  options.plant_churn = false;
  DemoSummary summary;
  ASSERT_TRUE(GenerateContosoDemo(options, &summary).ok());
  for (const std::string name : {"ecommerce_contacts.csv", "crm_survey.jsonl"}) {
    EXPECT_EQ(ReadFile(with / name), ReadFile(without / name)) << name;
  }
  const std::vector<Row> truth = LoadCsv(without / "predictions_truth.csv");
  ASSERT_EQ(truth.size(), 501u);
  for (size_t i = 1; i < truth.size(); ++i) EXPECT_EQ(truth[i][1], "0") << truth[i][0];
  int churned_with = 0;
  for (const Row& r : LoadCsv(with / "predictions_truth.csv")) churned_with += r[1] == "1";
  EXPECT_GT(churned_with, 0);
  for (const auto& dir : {with, without}) fs::remove_all(dir);
}

TEST(DemoFormatTest, CsvFieldsAreQuotedOnlyWhenNeeded) {
  std::string out;
  demo_internal::AppendCsvField(out, "plain");
  out.push_back('|');
  demo_internal::AppendCsvField(out, "a,b");
  out.push_back('|');
  demo_internal::AppendCsvField(out, "say \"hi\"");
  out.push_back('|');
  demo_internal::AppendCsvField(out, "line\nbreak");
  out.push_back('|');
  demo_internal::AppendCsvField(out, "trailing ");
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"line\nbreak\"|\"trailing \"");
}

TEST(DemoFormatTest, DatesAndTimestampsUseTheirLayouts) {
  const int32_t day = DaysFromCivil(2025, 6, 4);
  const int64_t seconds = static_cast<int64_t>(day) * 86400 + 8 * 3600 + 5 * 60 + 9;
  std::string s;
  demo_internal::AppendIsoDate(s, day);
  s.push_back('|');
  demo_internal::AppendUsDate(s, day);
  s.push_back('|');
  demo_internal::AppendDotDate(s, day);
  s.push_back('|');
  demo_internal::AppendIsoTimestamp(s, seconds);
  s.push_back('|');
  demo_internal::AppendSqlTimestamp(s, seconds);
  s.push_back('|');
  demo_internal::AppendUsTimestamp(s, seconds + 12 * 3600);
  s.push_back('|');
  demo_internal::AppendUsTimestamp(s, static_cast<int64_t>(day) * 86400 + 30);
  EXPECT_EQ(s,
            "2025-06-04|6/4/2025|4.6.2025|2025-06-04T08:05:09Z|2025-06-04 08:05:09|6/4/2025 8:05:09 PM|"
            "6/4/2025 12:00:30 AM");
}

TEST(DemoFormatTest, FoldingAndCaseHandleLatin1) {
  std::string folded;
  demo_internal::AppendFolded(folded, "José Müller Nuñez Zoë Łukasik");
  EXPECT_EQ(folded, "Jose Muller Nunez Zoe Lukasik");
  std::string upper = "José Zoë";
  demo_internal::ToUpperInPlace(upper);
  EXPECT_EQ(upper, "JOSÉ ZOË");
  demo_internal::ToLowerInPlace(upper);
  EXPECT_EQ(upper, "josé zoë");
  std::string token;
  demo_internal::AppendEmailToken(token, "O'Brien-St. John");
  EXPECT_EQ(token, "obrien-stjohn");
}

TEST(DemoFormatTest, TypoIsOneEditAndKeepsUtf8Valid) {
  demo_internal::Rng rng(99);
  for (int i = 0; i < 500; ++i) {
    std::string name = "Zoë Müller";
    demo_internal::ApplyTypo(name, rng);
    EXPECT_TRUE(IsValidUtf8(name)) << name;
    EXPECT_NE(name, "Zoë Müller");
    EXPECT_LE(std::max(name.size(), std::string("Zoë Müller").size()) -
                  std::min(name.size(), std::string("Zoë Müller").size()),
              1u);
  }
}

}  // namespace
}  // namespace cdp
