#include "ingest/header_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdp {
namespace {

using ::testing::HasSubstr;

FieldOverride F(std::string name, std::string source = "") {
  FieldOverride f;
  f.name = std::move(name);
  f.source_field = std::move(source);
  return f;
}

TEST(HeaderCheckTest, DeclaredFieldsInTheHeaderInAnyOrderPass) {
  EXPECT_TRUE(CheckHeaderNamesDeclaredFields("a.csv", {F("Name"), F("Id"), F("Mail", "E-Mail")},
                                             {"Id", "E-Mail", "Name", "Extra"})
                  .ok());
  EXPECT_TRUE(CheckHeaderNamesDeclaredFields("a.csv", {}, {"Id"}).ok());
}

TEST(HeaderCheckTest, AMissingDeclaredFieldShowsBothListsWithTheFirstDifferenceMarked) {
  Status s = CheckHeaderNamesDeclaredFields("/d/contacts.csv", {F("Id"), F("Name"), F("Email"), F("Born")},
                                            {"Id", "Name", "E-Mail", "Born"});
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "/d/contacts.csv: the header does not match the declared fields: declared field 'Email' is not in the "
            "header (did you mean 'E-Mail'?); missing: Email; declared: Id, Name, >>Email<<, Born; header: Id, "
            "Name, >>E-Mail<<, Born. Columns are matched by name: give each declared field the header's name (or "
            "source_field: HEADER NAME)");
  // No look-alike: the header field at the same position is marked when the
  // fields before it agree.
  s = CheckHeaderNamesDeclaredFields("c.csv", {F("Id"), F("Phone"), F("Zip")}, {"Id", "Telephone", "Postcode"});
  EXPECT_THAT(s.message(), HasSubstr("missing: Phone, Zip; declared: Id, >>Phone<<, Zip; header: Id, "
                                     ">>Telephone<<, Postcode"));
  // Case counts: "id" is not "Id".
  s = CheckHeaderNamesDeclaredFields("c.csv", {F("Id")}, {"id", "name"});
  EXPECT_THAT(s.message(), HasSubstr("(did you mean 'id'?)"));
  EXPECT_THAT(s.message(), HasSubstr("if the file has no header line, set header: false"));
}

TEST(HeaderCheckTest, AHeaderLineInAFileReadWithoutOneIsAnError) {
  const std::vector<FieldOverride> declared = {F("Id", "column1"), F("FirstName", "column2"), F("Age", "column4")};
  Status s = CheckNoHeaderLine("p.csv", declared, {"ID", "first_name", "x", " Age "}, 3);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "p.csv: line 3 holds the declared field names (column1 = 'ID', column2 = 'first_name', column4 = ' Age "
            "'): the file starts with a header line; set header: true (and name the fields as the header does)");
  // A data line, a partly matching line, or no declared column: fine.
  EXPECT_TRUE(CheckNoHeaderLine("p.csv", declared, {"1", "Ann", "x", "31"}, 1).ok());
  EXPECT_TRUE(CheckNoHeaderLine("p.csv", declared, {"Id", "Ann", "x", "Age"}, 1).ok());
  EXPECT_TRUE(CheckNoHeaderLine("p.csv", {F("Id"), F("Name", "column")}, {"Id", "Name"}, 1).ok());
  EXPECT_TRUE(CheckNoHeaderLine("p.csv", declared, {}, 1).ok());
  EXPECT_TRUE(CheckNoHeaderLine("p.csv", {F("Id", "column9")}, {"Id"}, 1).ok());
}

}  // namespace
}  // namespace cdp
