#include "unify/normalize/full_name.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

struct NameCase {
  const char* input;
  ParsedName expected;
};

TEST(ParseFullNameTest, TableOfNames) {
  const NameCase cases[] = {
      {"John Smith", {"John", "", "Smith"}},
      {"  John   Smith  ", {"John", "", "Smith"}},
      {"John Quincy Adams", {"John", "Quincy", "Adams"}},
      {"John Q. Public", {"John", "Q.", "Public"}},
      {"Mary Ann Jane Smith", {"Mary", "Ann Jane", "Smith"}},
      {"Smith, John", {"John", "", "Smith"}},
      {"Smith,John", {"John", "", "Smith"}},
      {"Smith, John Q.", {"John", "Q.", "Smith"}},
      {"Mr. John Smith", {"John", "", "Smith"}},
      {"Mrs Jane Doe", {"Jane", "", "Doe"}},
      {"Dr. Prof. Hans Müller", {"Hans", "", "Müller"}},
      {"John Smith Jr.", {"John", "", "Smith"}},
      {"John Smith Jr", {"John", "", "Smith"}},
      {"John Smith III", {"John", "", "Smith"}},
      {"Jane Doe PhD", {"Jane", "", "Doe"}},
      {"Jane Doe, Ph.D.", {"Jane", "", "Doe"}},
      {"John Smith, Jr.", {"John", "", "Smith"}},
      {"Smith Jr., John", {"John", "", "Smith"}},
      {"Smith, John, Jr.", {"John", "", "Smith"}},
      {"Smith, Dr. John", {"John", "", "Smith"}},
      {"Ludwig van Beethoven", {"Ludwig", "", "van Beethoven"}},
      {"Johannes van der Berg", {"Johannes", "", "van der Berg"}},
      {"Maria de la Cruz", {"Maria", "", "de la Cruz"}},
      {"Juan Carlos de la Vega", {"Juan", "Carlos", "de la Vega"}},
      {"de la Cruz, Maria", {"Maria", "", "de la Cruz"}},
      {"van der Berg, Johannes P.", {"Johannes", "P.", "van der Berg"}},
      {"Patrick O'Brien", {"Patrick", "", "O'Brien"}},
      {"Patrick O' Brien", {"Patrick", "", "O' Brien"}},
      {"Anna Smith-Jones", {"Anna", "", "Smith-Jones"}},
      {"Le Thanh", {"Le", "", "Thanh"}},  // a first word is never a particle
      {"De Niro", {"De", "", "Niro"}},
      {"Al Gore", {"Al", "", "Gore"}},
      {"Madonna", {"Madonna", "", ""}},
      {"Mr. Bean", {"Bean", "", ""}},   // a title is dropped, the one word stays
      {"Mr", {"Mr", "", ""}},           // never the only word
      {"Smith,", {"", "", "Smith"}},
      {", John", {"John", "", ""}},
      {"", {"", "", ""}},
      {"   ", {"", "", ""}},
      {"Md Rahman", {"Md", "", "Rahman"}},  // "Md" first is a name, not a suffix
      {"José Müller", {"José", "", "Müller"}},
  };
  for (const NameCase& c : cases) {
    ParsedName got = ParseFullName(c.input);
    EXPECT_EQ(got.first, c.expected.first) << "'" << c.input << "'";
    EXPECT_EQ(got.middle, c.expected.middle) << "'" << c.input << "'";
    EXPECT_EQ(got.last, c.expected.last) << "'" << c.input << "'";
  }
}

TEST(ParseFullNameTest, VeryLongInputIsCut) {
  std::string long_name = "John " + std::string(5000, 'x');
  ParsedName got = ParseFullName(long_name);
  EXPECT_EQ(got.first, "John");
  EXPECT_EQ(got.last.size(), 995u);
}

}  // namespace
}  // namespace cdp
