#include "demo/household_generator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cdp {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// RFC 4180 split of one file into rows of fields (the generator quotes fields with commas).
std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  const std::string text = ReadAll(path);
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field.push_back(c);
    }
  }
  return rows;
}

class HouseholdGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("household_gen_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Dir(const std::string& sub) const { return (dir_ / sub).string(); }
  fs::path dir_;
};

const char* const kFiles[] = {"crm_contacts.csv", "loyalty_members.csv", "webshop_customers.csv", "store_pos.csv",
                              "truth.csv"};

TEST_F(HouseholdGeneratorTest, SameOptionsGiveIdenticalFilesAndAnotherSeedDoesNot) {
  HouseholdOptions o;
  o.people = 1500;
  o.out_dir = Dir("a");
  HouseholdSummary a, b, c;
  ASSERT_TRUE(GenerateHouseholdSources(o, &a).ok());
  o.out_dir = Dir("b");
  ASSERT_TRUE(GenerateHouseholdSources(o, &b).ok());
  o.out_dir = Dir("c");
  o.seed = 2;
  ASSERT_TRUE(GenerateHouseholdSources(o, &c).ok());
  for (const char* f : kFiles) {
    EXPECT_EQ(ReadAll(Dir("a") + "/" + f), ReadAll(Dir("b") + "/" + f)) << f;
    EXPECT_NE(ReadAll(Dir("a") + "/" + f), ReadAll(Dir("c") + "/" + f)) << f;
  }
  EXPECT_EQ(a.people, 1500);
  EXPECT_EQ(a.records, b.records);
}

TEST_F(HouseholdGeneratorTest, TruthListsEveryRecordOnceAndEveryPersonAtLeastOnce) {
  HouseholdOptions o;
  o.people = 3000;
  o.out_dir = Dir("t");
  HouseholdSummary s;
  ASSERT_TRUE(GenerateHouseholdSources(o, &s).ok());
  ASSERT_EQ(s.files.size(), 5u);
  const std::map<std::string, std::string> file_of = {{"CRM", "crm_contacts.csv"},
                                                       {"Loyalty", "loyalty_members.csv"},
                                                       {"WebShop", "webshop_customers.csv"},
                                                       {"POS", "store_pos.csv"}};
  std::set<std::pair<std::string, std::string>> records;
  int64_t total = 0;
  for (const auto& [source, file] : file_of) {
    auto rows = ReadCsv(Dir("t") + "/" + file);
    ASSERT_GE(rows.size(), 2u) << file;
    const size_t width = rows[0].size();
    for (size_t r = 1; r < rows.size(); ++r) {
      ASSERT_EQ(rows[r].size(), width) << file << " row " << r;
      EXPECT_TRUE(records.insert({source, rows[r][0]}).second) << "duplicate key " << source << ":" << rows[r][0];
    }
    total += static_cast<int64_t>(rows.size()) - 1;
  }
  EXPECT_EQ(total, s.records);
  auto truth = ReadCsv(Dir("t") + "/truth.csv");
  ASSERT_EQ(truth[0], (std::vector<std::string>{"source", "key", "entity"}));
  std::set<std::pair<std::string, std::string>> in_truth;
  std::set<int64_t> people;
  for (size_t r = 1; r < truth.size(); ++r) {
    ASSERT_EQ(truth[r].size(), 3u);
    EXPECT_TRUE(records.count({truth[r][0], truth[r][1]})) << truth[r][0] << ":" << truth[r][1];
    EXPECT_TRUE(in_truth.insert({truth[r][0], truth[r][1]}).second);
    const int64_t id = std::stoll(truth[r][2]);
    EXPECT_GE(id, 1);
    EXPECT_LE(id, 3000);
    people.insert(id);
  }
  EXPECT_EQ(in_truth.size(), records.size());
  EXPECT_EQ(static_cast<int64_t>(people.size()), 3000);
  // Several records per person on average, and some people twice in one source.
  EXPECT_GT(static_cast<double>(s.records) / 3000, 1.4);
  std::map<std::pair<std::string, std::string>, int> per_person_source;
  for (size_t r = 1; r < truth.size(); ++r) ++per_person_source[{truth[r][0], truth[r][2]}];
  int dups = 0;
  for (const auto& [k, n] : per_person_source) dups += n > 1;
  EXPECT_GT(dups, 30);
}

// Households: people of one household share the CRM address and usually a surname, while their
// first names or birth dates differ; there are households of several people.
TEST_F(HouseholdGeneratorTest, HouseholdsShareAddressButNotIdentity) {
  HouseholdOptions o;
  o.people = 4000;
  o.noise = 0;  // true values, so the structure can be read back
  o.out_dir = Dir("h");
  HouseholdSummary s;
  ASSERT_TRUE(GenerateHouseholdSources(o, &s).ok());
  EXPECT_GT(s.households, 1500);
  EXPECT_LT(s.households, 3000);
  auto truth = ReadCsv(Dir("h") + "/truth.csv");
  std::map<std::string, std::string> entity_of;  // CRM key -> entity
  for (size_t r = 1; r < truth.size(); ++r) {
    if (truth[r][0] == "CRM") entity_of[truth[r][1]] = truth[r][2];
  }
  auto crm = ReadCsv(Dir("h") + "/crm_contacts.csv");
  ASSERT_EQ(crm[0][1], "FirstName");
  ASSERT_EQ(crm[0][5], "Street");
  ASSERT_EQ(crm[0][8], "Zip");
  ASSERT_EQ(crm[0][9], "DOB");
  // The current address is the same in every record of a person at noise 0 unless they moved;
  // group people by (street number and name, zip) without the street type and unit layout.
  auto address_key = [](const std::vector<std::string>& row) {
    const std::string& street = row[5];
    const size_t sp = street.find(' ');
    std::string number = street.substr(0, sp);
    return number + "|" + row[8].substr(0, 5) + "|" + row[2].substr(0, 3);
  };
  std::map<std::string, std::set<std::string>> people_at;  // address -> entities
  std::map<std::string, std::pair<std::string, std::string>> identity;  // entity -> first, dob
  for (size_t r = 1; r < crm.size(); ++r) {
    const auto& row = crm[r];
    people_at[address_key(row)].insert(entity_of[row[0]]);
    identity[entity_of[row[0]]] = {row[1], row[9]};
  }
  int shared = 0, same_first_and_dob = 0;
  for (const auto& [addr, ids] : people_at) {
    if (ids.size() < 2) continue;
    ++shared;
    std::vector<std::string> v(ids.begin(), ids.end());
    for (size_t i = 0; i < v.size(); ++i) {
      for (size_t j = i + 1; j < v.size(); ++j) {
        if (identity[v[i]] == identity[v[j]]) ++same_first_and_dob;
      }
    }
  }
  EXPECT_GT(shared, 200);  // many addresses hold two or more people of the same surname
  EXPECT_EQ(same_first_and_dob, 0);  // never two people with the same first name and birth date
}

TEST_F(HouseholdGeneratorTest, ChangedFractionRewritesOnlyThatShareOfRecords) {
  HouseholdOptions o;
  o.people = 5000;
  o.out_dir = Dir("base");
  HouseholdSummary base, changed;
  ASSERT_TRUE(GenerateHouseholdSources(o, &base).ok());
  o.out_dir = Dir("changed");
  o.changed_fraction = 0.05;
  ASSERT_TRUE(GenerateHouseholdSources(o, &changed).ok());
  EXPECT_EQ(base.records, changed.records);
  EXPECT_GT(changed.changed_records, base.records * 3 / 100);
  EXPECT_LT(changed.changed_records, base.records * 7 / 100);
  EXPECT_EQ(ReadAll(Dir("base") + "/truth.csv"), ReadAll(Dir("changed") + "/truth.csv"));
  int64_t differing = 0;
  for (int f = 0; f < 4; ++f) {
    auto a = ReadCsv(Dir("base") + "/" + kFiles[f]);
    auto b = ReadCsv(Dir("changed") + "/" + kFiles[f]);
    ASSERT_EQ(a.size(), b.size());
    for (size_t r = 0; r < a.size(); ++r) {
      ASSERT_EQ(a[r][0], b[r][0]);  // same keys in the same order
      differing += a[r] != b[r];
    }
  }
  EXPECT_GT(differing, 0);
  EXPECT_LE(differing, changed.changed_records);
}

TEST_F(HouseholdGeneratorTest, RejectsBadOptions) {
  HouseholdSummary s;
  HouseholdOptions o;
  o.out_dir = Dir("x");
  o.people = 0;
  EXPECT_EQ(GenerateHouseholdSources(o, &s).code(), StatusCode::kInvalidArgument);
  o.people = 10;
  o.noise = 4;
  EXPECT_EQ(GenerateHouseholdSources(o, &s).code(), StatusCode::kInvalidArgument);
  o.noise = 1;
  o.changed_fraction = 1.5;
  EXPECT_EQ(GenerateHouseholdSources(o, &s).code(), StatusCode::kInvalidArgument);
  o.changed_fraction = 0;
  EXPECT_EQ(GenerateHouseholdSources(o, nullptr).code(), StatusCode::kInvalidArgument);
  o.out_dir.clear();
  EXPECT_EQ(GenerateHouseholdSources(o, &s).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdp
