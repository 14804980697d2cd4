#include "unify/compare/phonetic.h"

#include <string>

#include <gtest/gtest.h>

namespace cdp {
namespace {

TEST(Soundex, StandardExamples) {
  EXPECT_EQ(Soundex("Robert"), "R163");
  EXPECT_EQ(Soundex("Rupert"), "R163");
  EXPECT_EQ(Soundex("Rubin"), "R150");
  EXPECT_EQ(Soundex("Ashcraft"), "A261");  // H does not separate S and C
  EXPECT_EQ(Soundex("Ashcroft"), "A261");
  EXPECT_EQ(Soundex("Tymczak"), "T522");   // vowel separates Z and K
  EXPECT_EQ(Soundex("Pfister"), "P236");   // F shares the first letter's digit
  EXPECT_EQ(Soundex("Honeyman"), "H555");
  EXPECT_EQ(Soundex("Lee"), "L000");
  EXPECT_EQ(Soundex("Gutierrez"), "G362");
  EXPECT_EQ(Soundex("Jackson"), "J250");
}

TEST(Soundex, IsCaseInsensitiveAndUsesTheFirstWord) {
  EXPECT_EQ(Soundex("robert"), "R163");
  EXPECT_EQ(Soundex("  ROBERT smith"), "R163");
  EXPECT_EQ(Soundex("O'Hara"), "O600");        // apostrophe skipped
  EXPECT_EQ(Soundex("Smith-Jones"), "S532");   // hyphen skipped inside the word
}

TEST(Soundex, FoldsLatinAccents) {
  EXPECT_EQ(Soundex("José"), Soundex("Jose"));
  EXPECT_EQ(Soundex("Müller"), "M460");
  EXPECT_EQ(Soundex("Łukasz"), Soundex("Lukasz"));
  EXPECT_EQ(Soundex("Émile"), "E540");
  EXPECT_EQ(Soundex("Strauß"), Soundex("Strauss"));
}

TEST(Soundex, EmptyWithoutLetters) {
  EXPECT_EQ(Soundex(""), "");
  EXPECT_EQ(Soundex("   "), "");
  EXPECT_EQ(Soundex("1234"), "");
  EXPECT_EQ(Soundex("中文"), "");
  EXPECT_EQ(Soundex(" 42 Robert"), "");  // the first word has no letter
}

struct DmCase {
  const char* name;
  const char* primary;
  const char* alternate;
};

// Expected codes follow Philips' published rules (checked by hand for the
// first block, e.g. Thompson: TH before OM -> T, M, P, S = "TMPS").
TEST(DoubleMetaphone, KnownNames) {
  const DmCase kCases[] = {
      {"Smith", "SM0", "XMT"},
      {"Schmidt", "XMT", "SMT"},
      {"Thompson", "TMPS", "TMPS"},
      {"Jose", "HS", "HS"},
      {"Xavier", "SF", "SFR"},
      {"Caesar", "SSR", "SSR"},
      {"Charles", "XRLS", "XRLS"},
      {"Knight", "NT", "NT"},
      {"Wright", "RT", "RT"},
      {"Philip", "FLP", "FLP"},
      {"Gough", "KF", "KF"},
      {"Tough", "TF", "TF"},
      {"Hugh", "H", "H"},
      {"Cabrillo", "KPRL", "KPR"},
      {"Gallegos", "KLKS", "KKS"},
      {"Michael", "MKL", "MXL"},
      {"Chris", "KRS", "KRS"},
      {"Ghislane", "JLN", "JLN"},
      {"Campbell", "KMPL", "KMPL"},
      {"Richard", "RXRT", "RKRT"},
      {"Katherine", "K0RN", "KTRN"},
      {"Maurice", "MRS", "MRS"},
      {"Aubrey", "APR", "APR"},
      {"Jankelowicz", "JNKL", "ANKL"},
      {"Czerny", "SRN", "XRN"},
      {"Bacchus", "PKS", "PKS"},
      {"Bertucci", "PRTX", "PRTX"},
      {"Focaccia", "FKX", "FKX"},
      {"McHugh", "MK", "MK"},
      {"Zhao", "J", "J"},
      {"Rogier", "RJ", "RJR"},
      {"Womo", "AM", "FM"},
      {"Arnow", "ARN", "ARNF"},
      {"Filipowicz", "FLPT", "FLPF"},
      {"Schlesinger", "XLSN", "SLSN"},
      {"School", "SKL", "SKL"},
      {"Island", "ALNT", "ALNT"},
      {"Sugar", "XKR", "SKR"},
      {"Edge", "AJ", "AJ"},
      {"Edgar", "ATKR", "ATKR"},
      {"Tagliaro", "TKLR", "TLR"},
      {"Biaggi", "PJ", "PK"},
      {"Breaux", "PR", "PR"},
      {"Dumb", "TM", "TM"},
      {"Thomas", "TMS", "TMS"},
      {"Accident", "AKST", "AKST"},
      {"Ghiradelli", "JRTL", "JRTL"},
      {"Chianti", "KNT", "KNT"},
      {"Orchestra", "ARKS", "ARKS"},
      {"Wachtler", "AKTL", "FKTL"},
      {"Schermerhorn", "XRMR", "SKRM"},
      {"Snider", "SNTR", "XNTR"},
      {"Schneider", "XNTR", "SNTR"},
      {"Wasserman", "ASRM", "FSRM"},
      {"Vasserman", "FSRM", "FSRM"},
      {"Laugh", "LF", "LF"},
      {"McLaughlin", "MKLF", "MKLF"},
      {"Cagney", "KKN", "KKN"},
      {"Gnome", "NM", "NM"},
      {"Jimenez", "JMNS", "AMNS"},
      {"San Jacinto", "SNHS", "SNHS"},
      {"Van Gogh", "FNKK", "FNKK"},
      {"Yankelovich", "ANKL", "ANKL"},
      {"Heidi", "HT", "HT"},
      {"Resnais", "RSN", "RSNS"},
      {"Artois", "ART", "ARTS"},
      {"Hochmeier", "HKMR", "HKMR"},
      {"Danger", "TNJR", "TNKR"},
      {"Ranger", "RNJR", "RNKR"},
      {"Gerald", "KRLT", "JRLT"},
      {"Gibson", "KPSN", "JPSN"},
      {"Manger", "MNJR", "MNKR"},
      {"Succeed", "SKST", "SKST"},
      {"Bellocchio", "PLX", "PLX"},
      {"McClellan", "MKLL", "MKLL"},  // C after M skips the second C: one K
      {"Mac Gregor", "MKRK", "MKRK"},
      {"Hargrove", "HRKR", "HRKR"},
      {"Ignacio", "AKNS", "ANX"},
      {"Dijkstra", "TKST", "TKST"},
      {"Kowalski", "KLSK", "KLSK"},
      {"O'Brien", "APRN", "APRN"},
      {"Smith-Jones", "SM0J", "XMTJ"},
      {"Wong", "ANK", "FNK"},
      {"Nguyen", "NKN", "NKN"},
      {"Xiong", "SNK", "SNK"},
      {"Aaron", "ARN", "ARN"},
      {"Carlisle", "KRLL", "KRLL"},
      {"Bough", "P", "P"},
      {"Broughton", "PRTN", "PRTN"},
      {"Cough", "KF", "KF"},
      {"Rough", "RF", "RF"},
      {"Thumbail", "0MPL", "TMPL"},
      {"Through", "0R", "TR"},
      {"Schwein", "XN", "XFN"},
      {"Geoff", "JF", "KF"},
      {"Steven", "STFN", "STFN"},
      {"Bryce", "PRS", "PRS"},
  };
  for (const DmCase& c : kCases) {
    const DoubleMetaphoneCodes codes = DoubleMetaphone(c.name);
    EXPECT_EQ(codes.primary, c.primary) << c.name;
    EXPECT_EQ(codes.alternate, c.alternate) << c.name;
  }
}

TEST(DoubleMetaphone, FoldsAccentsWithCedillaAsS) {
  EXPECT_EQ(DoubleMetaphone("François"), (DoubleMetaphoneCodes{"FRNS", "FRNS"}));
  EXPECT_EQ(DoubleMetaphone("Peña"), (DoubleMetaphoneCodes{"PN", "PN"}));
  EXPECT_EQ(DoubleMetaphone("Müller"), (DoubleMetaphoneCodes{"MLR", "MLR"}));
  EXPECT_EQ(DoubleMetaphone("José"), DoubleMetaphone("Jose"));
}

TEST(DoubleMetaphone, IsCaseInsensitiveAndIgnoresOuterNonLetters) {
  EXPECT_EQ(DoubleMetaphone("smith"), DoubleMetaphone("SMITH"));
  EXPECT_EQ(DoubleMetaphone("  Smith. "), DoubleMetaphone("Smith"));
}

TEST(DoubleMetaphone, MaxLengthTruncates) {
  EXPECT_EQ(DoubleMetaphone("Schermerhorn", 4), (DoubleMetaphoneCodes{"XRMR", "SKRM"}));
  EXPECT_EQ(DoubleMetaphone("Schermerhorn", 8), (DoubleMetaphoneCodes{"XRMRRN", "SKRMRRN"}));
  EXPECT_EQ(DoubleMetaphone("Thompson", 6), (DoubleMetaphoneCodes{"TMPSN", "TMPSN"}));
  EXPECT_EQ(DoubleMetaphone("Smith", 1), (DoubleMetaphoneCodes{"S", "X"}));
  EXPECT_EQ(DoubleMetaphone("Smith", 0), (DoubleMetaphoneCodes{"", ""}));
}

TEST(DoubleMetaphone, EmptyWithoutLetters) {
  EXPECT_EQ(DoubleMetaphone(""), (DoubleMetaphoneCodes{"", ""}));
  EXPECT_EQ(DoubleMetaphone(" - 42 "), (DoubleMetaphoneCodes{"", ""}));
  EXPECT_EQ(DoubleMetaphone("中文"), (DoubleMetaphoneCodes{"", ""}));
}

TEST(DoubleMetaphone, LongInputDoesNotOverflow) {
  const std::string long_name(500, 'b');
  EXPECT_EQ(DoubleMetaphone(long_name).primary, "PPPP");
  EXPECT_EQ(DoubleMetaphone(std::string(300, 'A') + "\xC3\xA6", 1000).primary, "A");
}

}  // namespace
}  // namespace cdp
