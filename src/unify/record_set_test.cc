#include "unify/record_set.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

// A string table: fields (name, semantic type) and rows ("" is null).
std::shared_ptr<const Table> StringTable(const std::vector<std::pair<std::string, std::string>>& fields,
                                         const std::vector<std::vector<std::string>>& rows) {
  Schema schema;
  for (const auto& [name, semantic] : fields) schema.AddField(Field{name, DataType::kString, SemanticType(semantic)});
  auto t = std::make_shared<Table>(schema);
  for (const auto& row : rows) {
    for (size_t c = 0; c < fields.size(); ++c) {
      if (row[c].empty()) {
        t->mutable_column(c).AppendNull();
      } else {
        t->mutable_column(c).AppendString(row[c]);
      }
    }
    t->FinishRow();
  }
  return t;
}

UnifySourceConfig Source(const std::string& name, const std::string& key) {
  UnifySourceConfig c;
  c.source = name;
  c.key = key;
  return c;
}

TEST(RecordSetTest, FirstMiddleLastComeFromTheFullNameWhenASourceHasOnlyThat) {
  auto people = StringTable({{"Id", ""}, {"FirstName", ""}, {"LastName", ""}},
                            {{"1", "John", "Smith"}, {"2", "Maria", "de la Cruz"}});
  auto crm = StringTable({{"Id", ""}, {"Name", "Person.FullName"}},
                         {{"A", "Smith, John Q."}, {"B", "Dr. Maria de la Cruz"}, {"C", ""}, {"D", "Cher"}});
  auto rs = RecordSet::Build({Source("People", "Id"), Source("Crm", "Id")}, {people, crm}, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  RecordSet& set = **rs;
  EXPECT_FALSE(set.DerivedFromFullName(0, "FirstName"));  // People has its own fields
  EXPECT_TRUE(set.DerivedFromFullName(1, "FirstName"));
  EXPECT_TRUE(set.DerivedFromFullName(1, "MiddleName"));
  EXPECT_TRUE(set.DerivedFromFullName(1, "LastName"));
  EXPECT_FALSE(set.DerivedFromFullName(1, "Email"));
  const RecordId a = static_cast<RecordId>(set.Find("Crm", "A"));
  const RecordId b = static_cast<RecordId>(set.Find("Crm", "B"));
  const RecordId c = static_cast<RecordId>(set.Find("Crm", "C"));
  const RecordId d = static_cast<RecordId>(set.Find("Crm", "D"));
  EXPECT_EQ(set.RawValue(a, "FirstName"), "John");
  EXPECT_EQ(set.RawValue(a, "MiddleName"), "Q.");
  EXPECT_EQ(set.RawValue(a, "LastName"), "Smith");
  EXPECT_EQ(set.RawValue(b, "LastName"), "de la Cruz");
  EXPECT_EQ(set.RawValue(c, "LastName"), "");
  EXPECT_EQ(set.RawValue(d, "FirstName"), "Cher");
  EXPECT_EQ(set.RawValue(d, "LastName"), "");
  // Features: the same normalized values as the first/last fields of the other source.
  auto first = set.AddFeature(FeatureSpec{"FirstName", {"Name"}, false});
  auto last = set.AddFeature(FeatureSpec{"LastName", {"Name"}, false});
  ASSERT_TRUE(first.ok() && last.ok());
  ASSERT_TRUE(set.ComputeFeatures().ok());
  const RecordId p1 = static_cast<RecordId>(set.Find("People", "1"));
  const RecordId p2 = static_cast<RecordId>(set.Find("People", "2"));
  EXPECT_EQ(set.feature(*first).value(a), set.feature(*first).value(p1));
  EXPECT_EQ(set.feature(*last).value(a), set.feature(*last).value(p1));
  EXPECT_EQ(set.feature(*last).value(b), set.feature(*last).value(p2));
  EXPECT_EQ(set.feature(*last).value(b), "de la cruz");
  EXPECT_TRUE(set.feature(*last).empty(c));
  // A derived name is text: numeric comparisons refuse it, naming the full-name field.
  auto numeric = set.AddFeature(FeatureSpec{"MiddleName", {}, true});
  ASSERT_FALSE(numeric.ok());
  EXPECT_NE(numeric.status().message().find("full name (field 'Name')"), std::string::npos)
      << numeric.status().message();
}

TEST(RecordSetTest, BlankedValuesAreCountedByReasonAndExplainedPerRecord) {
  auto t = StringTable({{"Id", ""}, {"Phone", ""}, {"Email", ""}},
                       {{"1", "(206) 555-0142", "ann@contoso.com"},
                        {"2", "(555) 123-4567", "not an email"},  // invalid phone: lenient digits
                        {"3", "12-34", "test@gmail.com"},        // too few digits; dummy email
                        {"4", "000-000-0000", "N/A"},            // dummy phone; listed placeholder
                        {"5", "", ""},
                        {"6", "   ", "bob@contoso.com"}});
  auto rs = RecordSet::Build({Source("S", "Id")}, {t}, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  RecordSet& set = **rs;
  auto phone = set.AddFeature(FeatureSpec{"Phone", {"Phone"}, false});
  auto email = set.AddFeature(FeatureSpec{"Email", {"Email"}, false});
  ASSERT_TRUE(phone.ok() && email.ok());
  ASSERT_TRUE(set.ComputeFeatures().ok());
  const FeatureStats& ps = set.feature_stats(*phone);
  EXPECT_EQ(ps.values, 4);  // rows 1-4; a null and a blank are no value
  EXPECT_EQ(ps.kept, 2);
  EXPECT_EQ(ps.lenient, 1);
  EXPECT_EQ(ps.blank_invalid, 1);
  EXPECT_EQ(ps.blank_placeholder, 1);
  EXPECT_EQ(ps.blank_frequent, 0);
  EXPECT_TRUE(ps.frequency_checked);
  EXPECT_EQ(set.feature(*phone).value(1), "5551234567");
  const FeatureStats& es = set.feature_stats(*email);
  EXPECT_EQ(es.values, 5);
  EXPECT_EQ(es.kept, 2);
  EXPECT_EQ(es.blank_invalid, 1);
  EXPECT_EQ(es.blank_placeholder, 2);
  EXPECT_EQ(es.blanks(), 3);
  EXPECT_EQ(set.BlankNote(0, *phone), "");
  EXPECT_EQ(set.BlankNote(1, *phone), "");  // lenient, not blank
  EXPECT_EQ(set.BlankNote(2, *phone), "invalid phone, fewer than 7 digits: '12-34'");
  EXPECT_EQ(set.BlankNote(3, *phone), "placeholder phone, one repeated digit: '000-000-0000'");
  EXPECT_EQ(set.BlankNote(4, *phone), "");  // no value at all
  EXPECT_EQ(set.BlankNote(1, *email), "invalid email: 'not an email'");
  EXPECT_EQ(set.BlankNote(2, *email), "placeholder email: 'test@gmail.com'");
  EXPECT_EQ(set.BlankNote(3, *email), "placeholder: 'N/A'");
}

// A dummy birth date is no birth date for a date comparison either: a
// date_within guard or level must not see 1900-01-01 (issue 16: a guard on
// DateOfBirth kept two records of one person apart on it).
TEST(RecordSetTest, NumericFeaturesBlankListedPlaceholders) {
  Schema schema;
  schema.AddField(Field{"Id", DataType::kString, SemanticType()});
  schema.AddField(Field{"DOB", DataType::kDate, SemanticType(std::string(SemanticType::kDateOfBirth))});
  auto t = std::make_shared<Table>(schema);
  const int32_t days[] = {-25567 /* 1900-01-01 */, 1000, 0};
  for (int i = 0; i < 3; ++i) {
    t->mutable_column(0).AppendString("r" + std::to_string(i));
    if (i == 2) {
      t->mutable_column(1).AppendNull();
    } else {
      t->mutable_column(1).AppendDate(days[i]);
    }
    t->FinishRow();
  }
  auto rs = RecordSet::Build({Source("S", "Id")}, {t}, {});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  RecordSet& set = **rs;
  auto dob = set.AddFeature(FeatureSpec{"DateOfBirth", {}, true});
  ASSERT_TRUE(dob.ok()) << dob.status().ToString();
  ASSERT_TRUE(set.ComputeFeatures().ok());
  EXPECT_FALSE(set.feature(*dob).has_number(0));
  EXPECT_TRUE(set.feature(*dob).has_number(1));
  EXPECT_FALSE(set.feature(*dob).has_number(2));
  const FeatureStats& st = set.feature_stats(*dob);
  EXPECT_EQ(st.values, 2);
  EXPECT_EQ(st.kept, 1);
  EXPECT_EQ(st.blank_placeholder, 1);
  EXPECT_EQ(set.BlankNote(0, *dob), "placeholder: '1900-01-01'");
}

// 60 records share one phone (a placeholder typed into a form), 4 share another (a household).
std::shared_ptr<const Table> SharedPhones() {
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 60; ++i) rows.push_back({"p" + std::to_string(i), "(425) 555-0100", "Person" + std::to_string(i)});
  for (int i = 0; i < 4; ++i) rows.push_back({"h" + std::to_string(i), "206-555-0142", "Family"});
  rows.push_back({"x", "+1 425 555 0100", "Other"});
  return StringTable({{"Id", ""}, {"Phone", ""}, {"Name", ""}}, rows);
}

TEST(RecordSetTest, ValuesHeldByTooManyRecordsAreFrequencyPlaceholders) {
  auto rs = RecordSet::Build({Source("S", "Id")}, {SharedPhones()}, {});
  ASSERT_TRUE(rs.ok());
  RecordSet& set = **rs;
  auto phone = set.AddFeature(FeatureSpec{"Phone", {"Phone"}, false});
  auto name = set.AddFeature(FeatureSpec{"Name", {"Lowercase"}, false});
  ASSERT_TRUE(phone.ok() && name.ok());
  ASSERT_TRUE(set.ComputeFeatures().ok());
  const FeatureStats& ps = set.feature_stats(*phone);
  EXPECT_EQ(ps.blank_frequent, 61);  // the 60 and the same number in another layout
  EXPECT_EQ(ps.kept, 4);             // the household keeps its phone
  ASSERT_EQ(ps.frequent_values.size(), 1u);
  EXPECT_EQ(ps.frequent_values[0].first, "+14255550100");
  EXPECT_EQ(ps.frequent_values[0].second, 61);
  const RecordId p0 = static_cast<RecordId>(set.Find("S", "p0"));
  const RecordId h0 = static_cast<RecordId>(set.Find("S", "h0"));
  EXPECT_TRUE(set.feature(*phone).empty(p0));
  EXPECT_EQ(set.feature(*phone).value(h0), "+12065550142");
  EXPECT_EQ(set.BlankNote(p0, *phone), "frequent value, held by 61 records: '(425) 555-0100'");
  // Names are not identifiers: 4 records named "family" are left alone, and so would be 60.
  EXPECT_FALSE(set.feature_stats(*name).frequency_checked);
  EXPECT_EQ(set.feature(*name).value(h0), "family");
}

TEST(RecordSetTest, PlaceholderDetectionFollowsItsOptions) {
  {
    RecordSetOptions off;
    off.placeholder_detection.enabled = false;
    auto rs = RecordSet::Build({Source("S", "Id")}, {SharedPhones()}, off);
    ASSERT_TRUE(rs.ok());
    auto phone = (*rs)->AddFeature(FeatureSpec{"Phone", {"Phone"}, false});
    ASSERT_TRUE(phone.ok() && (*rs)->ComputeFeatures().ok());
    EXPECT_EQ((*rs)->feature_stats(*phone).blank_frequent, 0);
    EXPECT_EQ((*rs)->feature_stats(*phone).kept, 65);
  }
  {
    RecordSetOptions strict;
    strict.placeholder_detection.min_records = 4;  // the household too
    strict.placeholder_detection.attributes = {"Name"};
    auto rs = RecordSet::Build({Source("S", "Id")}, {SharedPhones()}, strict);
    ASSERT_TRUE(rs.ok());
    auto phone = (*rs)->AddFeature(FeatureSpec{"Phone", {"Phone"}, false});
    auto name = (*rs)->AddFeature(FeatureSpec{"Name", {"Lowercase"}, false});
    ASSERT_TRUE(phone.ok() && name.ok() && (*rs)->ComputeFeatures().ok());
    EXPECT_EQ((*rs)->feature_stats(*phone).blank_frequent, 65);
    EXPECT_EQ((*rs)->feature_stats(*phone).frequent_values.size(), 2u);
    EXPECT_EQ((*rs)->feature_stats(*name).blank_frequent, 4);  // listed attribute
  }
}

}  // namespace
}  // namespace cdp
