#include "unify/normalize/normalizer.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "unify/normalize/internal/nicknames.h"
#include "unify/normalize/internal/phone.h"

namespace cdp {
namespace {

NormalizerChain Chain(std::vector<std::string> names, NormalizeOptions options = {}) {
  auto chain = NormalizerChain::Create(names, options);
  EXPECT_TRUE(chain.ok()) << chain.status().ToString();
  return *std::move(chain);
}

// A chain without placeholders, to see a normalizer's own output.
NormalizerChain Bare(std::vector<std::string> names) {
  NormalizeOptions options;
  options.default_placeholders = false;
  return Chain(std::move(names), options);
}

TEST(KnownNormalizersTest, ListsAllInDocumentationOrder) {
  std::vector<std::string_view> expected = {"Whitespace",   "Symbols",      "Numerals",     "Lowercase",
                                            "UnicodeToAscii", "Phone",      "PhoneDigits",  "PhoneLast<N>",
                                            "Name",         "Address",      "Organization", "Email",
                                            "EmailProvider"};
  EXPECT_EQ(KnownNormalizers(), expected);
  for (std::string_view name : KnownNormalizers()) {
    std::string concrete(name);
    if (concrete == "PhoneLast<N>") concrete = "PhoneLast7";
    EXPECT_TRUE(NormalizerChain::Create({concrete}, {}).ok()) << name;
  }
}

TEST(NormalizerChainTest, UnknownNameIsInvalidArgumentListingKnownNames) {
  auto chain = NormalizerChain::Create({"Lowercase", "Foo"}, {});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.status().message(),
            "unknown normalizer 'Foo' (known: Whitespace, Symbols, Numerals, Lowercase, "
            "UnicodeToAscii, Phone, PhoneDigits, PhoneLast<N>, Name, Address, Organization, Email, "
            "EmailProvider)");
}

TEST(NormalizerChainTest, BadRegionIsInvalidArgument) {
  NormalizeOptions options;
  options.default_region = "XX";
  auto chain = NormalizerChain::Create({"Phone"}, options);
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(chain.status().message().find("'XX'"), std::string::npos);
  options.default_region = "gb";  // case-insensitive
  EXPECT_TRUE(NormalizerChain::Create({"Phone"}, options).ok());
}

TEST(NormalizerChainTest, EmptyChainTrimsOuterBlanksOnly) {
  NormalizerChain chain = Bare({});
  EXPECT_EQ(chain.Normalize("  Hello  World \t\n"), "Hello  World");
  EXPECT_EQ(chain.Normalize("\u00A0\u3000x\u2003"), "x");
  EXPECT_EQ(chain.Normalize("   "), "");
  EXPECT_EQ(chain.Normalize(""), "");
  EXPECT_TRUE(chain.names().empty());
}

TEST(NormalizerChainTest, StepsComposeInOrder) {
  // Symbols first removes the '-', then Whitespace joins: "ab12".
  EXPECT_EQ(Bare({"Symbols", "Whitespace", "Lowercase"}).Normalize(" A-b 1 2 "), "ab12");
  // UnicodeToAscii before Lowercase and after it agree for these letters.
  EXPECT_EQ(Bare({"UnicodeToAscii", "Lowercase"}).Normalize("JOSÉ Müller"), "jose muller");
  EXPECT_EQ(Bare({"Lowercase", "UnicodeToAscii"}).Normalize("JOSÉ Müller"), "jose muller");
  // Order matters: Whitespace then Symbols keeps no blanks; Symbols alone keeps them.
  EXPECT_EQ(Bare({"Symbols"}).Normalize("a - b"), "a  b");
  EXPECT_EQ(Bare({"Whitespace", "Symbols"}).Normalize("a - b"), "ab");
  EXPECT_EQ(Bare({"Symbols", "Lowercase"}).names(), (std::vector<std::string>{"Symbols", "Lowercase"}));
}

TEST(NormalizerChainTest, OutputBufferIsReusedAndMayAliasInput) {
  NormalizerChain chain = Bare({"Lowercase", "Whitespace"});
  std::string out = "  SOME Value ";
  chain.Normalize(out, &out);
  EXPECT_EQ(out, "somevalue");
  chain.Normalize(std::string_view(out).substr(4), &out);
  EXPECT_EQ(out, "value");
}

TEST(NormalizerChainTest, CopiesShareTheSameBehaviour) {
  std::vector<NormalizerChain> chains;
  chains.push_back(Chain({"Name"}));
  NormalizerChain copy = chains[0];
  chains.push_back(copy);
  EXPECT_EQ(chains[1].Normalize("Bob Smith"), "robert smith");
  EXPECT_EQ(chains[1].names(), std::vector<std::string>{"Name"});
}

TEST(NormalizerChainTest, ConcurrentCallsAgree) {
  NormalizerChain chain = Chain({"Name"});
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string out;
      for (int i = 0; i < 2000; ++i) {
        chain.Normalize("Dr. Bill O'Brien Jr.", &out);
        if (out != "william obrien") ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(WhitespaceTest, RemovesAsciiAndUnicodeBlanks) {
  NormalizerChain chain = Bare({"Whitespace"});
  EXPECT_EQ(chain.Normalize(" 206 555\t0142\n"), "2065550142");
  EXPECT_EQ(chain.Normalize("José\u00A0Müller\u2009李\u3000明"), "JoséMüller李明");
  EXPECT_EQ(chain.Normalize("a\u200Bb"), "ab");
}

TEST(SymbolsTest, RemovesAsciiAndUnicodePunctuationAndSymbols) {
  NormalizerChain chain = Bare({"Symbols"});
  EXPECT_EQ(chain.Normalize("head&shoulders!"), "headshoulders");
  EXPECT_EQ(chain.Normalize(R"(a!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~b)"), "ab");
  EXPECT_EQ(chain.Normalize("«Łukasz» — €5 ©2024 ¿qué? 李・明"), "Łukasz  5 2024 qué 李明");
  EXPECT_EQ(chain.Normalize("José"), "José");                 // precomposed accent kept
  EXPECT_EQ(chain.Normalize("Jose\u0301"), "Jose\u0301");     // combining mark kept
}

TEST(NumeralsTest, ConvertsOtherNumeralSystemsToAsciiDigits) {
  NormalizerChain chain = Bare({"Numerals"});
  EXPECT_EQ(chain.Normalize("１２３"), "123");         // fullwidth
  EXPECT_EQ(chain.Normalize("٠١٢٣٤٥٦٧٨٩"), "0123456789");  // Arabic-Indic
  EXPECT_EQ(chain.Normalize("۴۵"), "45");              // Extended Arabic-Indic
  EXPECT_EQ(chain.Normalize("०९"), "09");              // Devanagari
  EXPECT_EQ(chain.Normalize("𝟘𝟙𝟚"), "012");            // mathematical double-struck
  EXPECT_EQ(chain.Normalize("Henry Ⅷ"), "Henry 8");   // Roman numeral code point
  EXPECT_EQ(chain.Normalize("ⅻ"), "12");
  EXPECT_EQ(chain.Normalize("① ⑳ x²"), "1 20 x2");
  EXPECT_EQ(chain.Normalize("½"), "½");                // not made of digits only
  EXPECT_EQ(chain.Normalize("John D Smith III"), "John D Smith III");  // letters stay letters
}

TEST(LowercaseTest, CaseFoldsUnicode) {
  NormalizerChain chain = Bare({"Lowercase"});
  EXPECT_EQ(chain.Normalize("JOHN Smith"), "john smith");
  EXPECT_EQ(chain.Normalize("JOSÉ MÜLLER"), "josé müller");
  EXPECT_EQ(chain.Normalize("ØYVIND ŁUKASZ"), "øyvind łukasz");
  EXPECT_EQ(chain.Normalize("STRASSE Straße"), "strasse strasse");
  EXPECT_EQ(chain.Normalize("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
  EXPECT_EQ(chain.Normalize("李明"), "李明");
}

TEST(UnicodeToAsciiTest, StripsDiacriticsAndSpellsSpecialLetters) {
  NormalizerChain chain = Bare({"UnicodeToAscii"});
  EXPECT_EQ(chain.Normalize("José Müller"), "Jose Muller");
  EXPECT_EQ(chain.Normalize("Jose\u0301 Mu\u0308ller"), "Jose Muller");  // decomposed input
  EXPECT_EQ(chain.Normalize("Øyvind Łukasz"), "Oyvind Lukasz");
  EXPECT_EQ(chain.Normalize("Straße Æsir Œuvre þorn Đorđe"), "Strasse AEsir OEuvre thorn Dorde");
  EXPECT_EQ(chain.Normalize("François Çelik Ñúñez Ångström"), "Francois Celik Nunez Angstrom");
  EXPECT_EQ(chain.Normalize("ﬁne ＡＢＣ “quoted” O’Brien – x"), "fine ABC \"quoted\" O'Brien - x");
  EXPECT_EQ(chain.Normalize("李明"), "李明");                  // other scripts are kept
  EXPECT_EQ(chain.Normalize("がくせい 김민준"), "がくせい 김민준");  // no mark stripping there
}

TEST(PhoneTest, FormatsValidNumbersAsE164) {
  NormalizerChain chain = Chain({"Phone"});
  EXPECT_EQ(chain.Normalize("(206) 555-0142"), "+12065550142");
  EXPECT_EQ(chain.Normalize("206.555.0142"), "+12065550142");
  EXPECT_EQ(chain.Normalize("+1 206 555 0142"), "+12065550142");
  EXPECT_EQ(chain.Normalize("1-206-555-0142"), "+12065550142");
  EXPECT_EQ(chain.Normalize("206-555-0142 ext. 12"), "+12065550142");
  EXPECT_EQ(chain.Normalize("+44 20 7946 0958"), "+442079460958");
  EXPECT_EQ(chain.Normalize("２０６５５５０１４２"), "+12065550142");  // fullwidth digits
}

// A number libphonenumber calls invalid keeps its digits (the last 10 for US/CA); only fewer
// than 7 digits, or a repeated digit, give "" (with the reason in the outcome).
TEST(PhoneTest, InvalidNumbersFallBackToLenientDigits) {
  NormalizerChain chain = Bare({"Phone"});
  struct Case {
    const char* in;
    const char* out;
    BlankReason blank;
    bool lenient;
  };
  const Case cases[] = {
      {"(206) 555-0142", "+12065550142", BlankReason::kNone, false},   // valid: E.164
      {"555-0142", "5550142", BlankReason::kNone, true},               // too short for the US
      {"123-456-7890", "1234567890", BlankReason::kNone, true},        // no such area code
      {"+1 123 456 7890", "1234567890", BlankReason::kNone, true},     // same digits, same form
      {"1-123-456-7890", "1234567890", BlankReason::kNone, true},
      {"206-555-01425", "0655501425", BlankReason::kNone, true},       // too long: last 10
      {"123-456-7890 ext. 55", "1234567890", BlankReason::kNone, true},  // extension cut
      {"123 456 7890 / 123 456 7891", "1234567890", BlankReason::kNone, true},  // first number
      {"tel: 123.456.7890", "1234567890", BlankReason::kNone, true},
      {"１２３４５６７８９０", "1234567890", BlankReason::kNone, true},  // fullwidth digits
      {"call me", "", BlankReason::kInvalid, false},
      {"12-34", "", BlankReason::kInvalid, false},
      {"911", "", BlankReason::kInvalid, false},
      {"000-000-0000", "", BlankReason::kPlaceholder, false},          // one repeated digit
      {"(999) 999-9999", "", BlankReason::kPlaceholder, false},
      {"+1 206 777 7777", "", BlankReason::kPlaceholder, false},       // last 7 repeated
  };
  for (const Case& c : cases) {
    std::string out;
    NormalizeOutcome outcome = chain.Normalize(c.in, &out);
    EXPECT_EQ(out, c.out) << c.in;
    EXPECT_EQ(outcome.blank, c.blank) << c.in;
    EXPECT_EQ(outcome.lenient, c.lenient) << c.in;
    if (c.blank != BlankReason::kNone) EXPECT_EQ(outcome.step, 0) << c.in;
  }
  std::string out;
  EXPECT_EQ(chain.DescribeBlank(chain.Normalize("12-34", &out)), "invalid phone, fewer than 7 digits");
  EXPECT_EQ(chain.DescribeBlank(chain.Normalize("000-000-0000", &out)), "placeholder phone, one repeated digit");
  EXPECT_EQ(chain.DescribeBlank(chain.Normalize("206-555-0142", &out)), "");
}

TEST(PhoneTest, LenientDigitsFollowTheRegion) {
  NormalizeOptions gb;
  gb.default_region = "GB";
  gb.default_placeholders = false;
  NormalizerChain chain = Chain({"Phone"}, gb);
  // An invalid GB number with its trunk 0 and with the country code: the same last 10 digits.
  EXPECT_EQ(chain.Normalize("020 7946 00"), "020794600");
  EXPECT_EQ(chain.Normalize("0999 123 4567"), chain.Normalize("+44 999 123 4567"));
  auto us = normalize_internal::PhoneNormalizer::Create("US");
  auto de = normalize_internal::PhoneNormalizer::Create("DE");
  ASSERT_TRUE(us.ok() && de.ok());
  EXPECT_EQ(us->lenient_digits(), 10);
  EXPECT_GE(de->lenient_digits(), 10);
}

TEST(PhoneDigitsTest, KeepsAllDigitsOfSevenOrMore) {
  NormalizerChain chain = Bare({"PhoneDigits"});
  EXPECT_EQ(chain.Normalize("+1 (206) 555-0142"), "12065550142");
  EXPECT_EQ(chain.Normalize("206-555-0142 x12"), "2065550142");
  EXPECT_EQ(chain.Normalize("555-0142"), "5550142");
  std::string out;
  EXPECT_EQ(chain.Normalize("555-01", &out).blank, BlankReason::kInvalid);
  EXPECT_EQ(chain.Normalize("1-111-111-1111", &out).blank, BlankReason::kPlaceholder);
}

TEST(PhoneLastTest, KeepsTheLastNDigits) {
  NormalizerChain last7 = Bare({"PhoneLast7"});
  EXPECT_EQ(last7.Normalize("+1 (206) 555-0142"), "5550142");
  EXPECT_EQ(last7.Normalize("555-0142"), "5550142");
  EXPECT_EQ(last7.Normalize("(425) 555-0142 ext 9"), "5550142");
  std::string out;
  NormalizeOutcome outcome = last7.Normalize("55-0142", &out);
  EXPECT_EQ(outcome.blank, BlankReason::kInvalid);
  EXPECT_EQ(last7.DescribeBlank(outcome), "invalid phone, fewer than 7 digits");
  NormalizerChain last10 = Bare({"PhoneLast10"});
  EXPECT_EQ(last10.Normalize("+1 206 555 0142"), "2065550142");
  EXPECT_EQ(last10.DescribeBlank(last10.Normalize("555-0142", &out)), "invalid phone, fewer than 10 digits");
  for (const char* bad : {"PhoneLast3", "PhoneLast16", "PhoneLastX", "PhoneLast"}) {
    auto chain = NormalizerChain::Create({bad}, {});
    EXPECT_FALSE(chain.ok()) << bad;
    EXPECT_EQ(chain.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(NormalizerChain::Create({"PhoneLast16"}, {}).status().message().find("4 to 15"), std::string::npos);
}

TEST(PhoneTest, DefaultRegionAppliesToNationalNumbers) {
  NormalizeOptions options;
  options.default_region = "GB";
  NormalizerChain chain = Chain({"Phone"}, options);
  EXPECT_EQ(chain.Normalize("020 7946 0958"), "+442079460958");
  EXPECT_EQ(chain.Normalize("+1 (206) 555-0142"), "+12065550142");
}

// The layouts the NANP fast path must handle exactly like libphonenumber.
std::vector<std::string> PhoneLayouts() {
  std::vector<std::string> values = {
      "(206) 555-0142", "206-555-0142", "+1 206 555 0142", "2065550142", "206.555.0142",
      "1-206-555-0142", "1 (206) 555-0142", "+1 (206) 555-0142", "+12065550142",
      "12065550142", " 206 555 0142 ", "(206)555-0142", "206-555-0142 x12",
      "206-555-0142 ext. 12", "206-555-0142 ext 12", "+44 20 7946 0958", "+442079460958",
      "+33 1 23 45 67 89", "+49 30 901820", "+2065550142", "+1 206 555 014",
      "000-000-0000", "555-555-5555", "1234567890", "(000) 000-0000", "111-111-1111",
      "911", "1-800-FLOWERS", "1-800-356-9377", "(800) 356-9377", "+1 800 356 9377",
      "206-555-0142-", "(206 555 0142", "206--555--0142", "2-0-6-5-5-5-0-1-4-2",
      "206 555 0142 206 555 0142", "garbage", "", "+", "++12065550142", "+1+2065550142",
      "(+1) 206 555 0142", "1 206 555 0142 1", "206/555/0142", "206 555 0142\t",
      "011 44 20 7946 0958", "0206 555 0142", "21 2065550142", "212-555-0123",
      "246-521-0000", "246-521-9999", "876-606-1234", "876-606-9999", "905-555-0199",
      "(604) 555-0100", "1 (212) 1111-111", "212 155 0123", "1 212 055 0123",
      "２０６５５５０１４２", "(206) 555-0142 (home)", "tel: 206 555 0142"};
  // Random valid-looking and invalid NANP numbers in many layouts.
  std::mt19937 rng(42);
  const char* layouts[] = {"(%s) %s-%s", "%s-%s-%s", "+1 %s %s %s", "%s%s%s", "%s.%s.%s",
                           "1-%s-%s-%s", "1 %s %s %s", "+1%s%s%s", "1%s%s%s", "+1 (%s) %s-%s"};
  for (int i = 0; i < 3000; ++i) {
    char npa[4], nxx[4], line[5], buf[64];
    std::snprintf(npa, sizeof npa, "%03d", static_cast<int>(rng() % 1000));
    std::snprintf(nxx, sizeof nxx, "%03d", static_cast<int>(rng() % 1000));
    std::snprintf(line, sizeof line, "%04d", static_cast<int>(rng() % 10000));
    std::snprintf(buf, sizeof buf, layouts[i % 10], npa, nxx, line);
    values.push_back(buf);
  }
  return values;
}

TEST(PhoneTest, FastPathEqualsLibphonenumber) {
  for (const char* region : {"US", "CA"}) {
    auto phone = normalize_internal::PhoneNormalizer::Create(region);
    ASSERT_TRUE(phone.ok());
    int fast_handled = 0;
    for (const std::string& value : PhoneLayouts()) {
      std::string combined, slow, fast, lenient;
      auto form = phone->Normalize(value, &combined);
      phone->NormalizeWithLibphonenumber(value, &slow);
      if (slow.empty() || form != normalize_internal::PhoneNormalizer::Form::kValid) {
        // Not valid: the lenient digits (or "" for a dummy or too few digits).
        normalize_internal::PhoneNormalizer::Digits(value, 7, phone->lenient_digits(), &lenient);
        EXPECT_EQ(combined, slow.empty() ? lenient : "") << region << " '" << value << "'";
      } else {
        EXPECT_EQ(combined, slow) << region << " '" << value << "'";
      }
      if (phone->NormalizeFast(value, &fast)) {
        ++fast_handled;
        EXPECT_EQ(fast, slow) << region << " '" << value << "'";
      }
    }
    EXPECT_GT(fast_handled, 1500) << "the fast path should take the plain NANP layouts";
  }
  auto gb = normalize_internal::PhoneNormalizer::Create("GB");
  ASSERT_TRUE(gb.ok());
  std::string out;
  EXPECT_FALSE(gb->NormalizeFast("2065550142", &out));
}

TEST(NameTest, LowercasesFoldsAndDropsPunctuation) {
  NormalizerChain chain = Chain({"Name"});
  EXPECT_EQ(chain.Normalize("José  MÜLLER"), "jose muller");
  EXPECT_EQ(chain.Normalize("Øyvind Łukasz"), "oyvind lukasz");
  EXPECT_EQ(chain.Normalize("O'Brien, Mary-Jane"), "obrien mary jane");
  EXPECT_EQ(chain.Normalize("O’Brien"), "obrien");
  EXPECT_EQ(chain.Normalize("李 明"), "李 明");
}

TEST(NameTest, RemovesTitlesAndSuffixes) {
  NormalizerChain chain = Chain({"Name"});
  EXPECT_EQ(chain.Normalize("Dr. John Smith Jr."), "john smith");
  EXPECT_EQ(chain.Normalize("Mrs Jane Doe PhD"), "jane doe");
  EXPECT_EQ(chain.Normalize("Rev. Martin Luther King III"), "martin luther king");
  EXPECT_EQ(chain.Normalize("Smith, Mr. John"), "smith john");
  EXPECT_EQ(chain.Normalize("Md Rahman"), "md rahman");  // a suffix word as the first word stays
  EXPECT_EQ(chain.Normalize("Mr."), "");
}

TEST(NameTest, MapsNicknamesPerToken) {
  NormalizerChain chain = Chain({"Name"});
  EXPECT_EQ(chain.Normalize("Bob"), "robert");
  EXPECT_EQ(chain.Normalize("Bob Smith"), "robert smith");
  EXPECT_EQ(chain.Normalize("BILL gates"), "william gates");
  EXPECT_EQ(chain.Normalize("Peggy Liz Smith"), "margaret elizabeth smith");
  EXPECT_EQ(chain.Normalize("Robert Smith"), "robert smith");
  EXPECT_EQ(chain.Normalize("Alex Smith"), "alex smith");  // ambiguous: not mapped
}

TEST(NicknameTableTest, IsEmbeddedAndLarge) {
  const auto& table = normalize_internal::Nicknames();
  EXPECT_GT(table.size(), 100u);
  EXPECT_EQ(normalize_internal::CanonicalGivenName("bob"), "robert");
  EXPECT_EQ(normalize_internal::CanonicalGivenName("peggy"), "margaret");
  EXPECT_EQ(normalize_internal::CanonicalGivenName("zelda"), "zelda");
  for (const auto& [nickname, name] : table) {
    EXPECT_FALSE(nickname.empty());
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(table.count(name), 0u) << nickname << " -> " << name << " is itself a nickname";
    for (char c : std::string(nickname) + std::string(name)) EXPECT_TRUE(c >= 'a' && c <= 'z') << nickname;
  }
}

TEST(AddressTest, AbbreviatesStreetTypesDirectionalsAndUnits) {
  NormalizerChain chain = Chain({"Address"});
  const std::string expected = "1234 n oak st unit 4b";
  EXPECT_EQ(chain.Normalize("1234 North Oak Street Apt. 4B"), expected);
  EXPECT_EQ(chain.Normalize("1234 N Oak St #4B"), expected);
  EXPECT_EQ(chain.Normalize("1234 N. Oak St., Apt 4B"), expected);
  EXPECT_EQ(chain.Normalize("1234 north oak street, apartment 4b"), expected);
  EXPECT_EQ(chain.Normalize("1234 N Oak St Suite 4B"), expected);
  EXPECT_EQ(chain.Normalize("1234 N Oak St Apt #4B"), expected);
  EXPECT_EQ(chain.Normalize("1234 N Oak St # 4B"), expected);
  EXPECT_EQ(chain.Normalize("500 Northeast Fifth Avenue"), "500 ne 5th ave");
  EXPECT_EQ(chain.Normalize("500 N.E. 5th Ave."), "500 ne 5th ave");
  EXPECT_EQ(chain.Normalize("12 Rue de l'Église"), "12 rue de leglise");
  EXPECT_EQ(chain.Normalize("Münchener Straße 5"), "munchener strasse 5");
}

TEST(OrganizationTest, RemovesLegalFormsAndNoiseWords) {
  NormalizerChain chain = Chain({"Organization"});
  EXPECT_EQ(chain.Normalize("The Contoso Corporation"), "contoso");
  EXPECT_EQ(chain.Normalize("Contoso, Inc."), "contoso");
  EXPECT_EQ(chain.Normalize("CONTOSO LLC"), "contoso");
  EXPECT_EQ(chain.Normalize("Procter & Gamble Co."), "gamble procter");
  EXPECT_EQ(chain.Normalize("Procter and Gamble Company"), "gamble procter");
  EXPECT_EQ(chain.Normalize("Müller GmbH"), "muller");
  EXPECT_EQ(chain.Normalize("Fabrikam Ltd."), chain.Normalize("FABRIKAM LIMITED"));
  EXPECT_EQ(chain.Normalize("McDonald's Corp"), "mcdonalds");
  EXPECT_EQ(chain.Normalize("The Company"), "");
  std::string out;
  NormalizeOutcome outcome = chain.Normalize("The Company", &out);
  EXPECT_EQ(outcome.blank, BlankReason::kInvalid);
  EXPECT_EQ(chain.DescribeBlank(outcome), "no name left without legal forms and generic words");
}

TEST(OrganizationTest, WordOrderAndGenericWordsDoNotMatter) {
  NormalizerChain chain = Chain({"Organization"});
  const std::pair<const char*, const char*> same[] = {
      {"Bel-Air Hotel", "Hotel Bel-Air"},
      {"Hotel Bel Air", "bel air"},
      {"Spago Restaurant", "Spago"},
      {"The Restaurant Spago", "spago"},
      {"Cafe Luna", "Luna Café"},
      {"Bank of America Corp.", "America Bank"},
      {"Acme Holdings Group Inc", "ACME"},
      {"Marriott International, Inc.", "Marriott"},
      {"Joe's Bar & Grill", "Joes"},
      {"Müller AG", "MULLER"},
      {"Ristorante Roma S.p.A.", "Roma Ristorante SPA"},
  };
  for (const auto& [a, b] : same) {
    EXPECT_EQ(chain.Normalize(a), chain.Normalize(b)) << a << " / " << b;
    EXPECT_NE(chain.Normalize(a), "") << a;
  }
  EXPECT_EQ(chain.Normalize("Zeta Alpha Beta"), "alpha beta zeta");  // sorted words
  EXPECT_NE(chain.Normalize("Spago Beverly Hills"), chain.Normalize("Spago"));  // other words count
  EXPECT_EQ(chain.Normalize("Hotel Restaurant"), "");                  // nothing distinctive
}

TEST(EmailTest, TrimsLowercasesAndValidates) {
  NormalizerChain chain = Bare({"Email"});
  EXPECT_EQ(chain.Normalize("  John.Smith@Contoso.COM "), "john.smith@contoso.com");
  EXPECT_EQ(chain.Normalize("JOSÉ@EXAMPLE.ES"), "josé@example.es");
  EXPECT_EQ(chain.Normalize("john.smith+news@gmail.com"), "john.smith+news@gmail.com");
  EXPECT_EQ(chain.Normalize("no-at-sign"), "");
  EXPECT_EQ(chain.Normalize("a@b@c.com"), "");
  EXPECT_EQ(chain.Normalize("@contoso.com"), "");
  EXPECT_EQ(chain.Normalize("john@"), "");
  EXPECT_EQ(chain.Normalize("john smith@contoso.com"), "");
}

TEST(EmailProviderTest, AppliesProviderRules) {
  NormalizerChain chain = Bare({"EmailProvider"});
  EXPECT_EQ(chain.Normalize("John.Smith+news@Gmail.com"), "johnsmith@gmail.com");
  EXPECT_EQ(chain.Normalize("j.o.h.n.smith@googlemail.com"), "johnsmith@gmail.com");
  EXPECT_EQ(chain.Normalize("john.smith+shop@outlook.com"), "john.smith@outlook.com");
  EXPECT_EQ(chain.Normalize("john.smith+x@hotmail.co.uk"), "john.smith@hotmail.co.uk");
  EXPECT_EQ(chain.Normalize("jane+a@icloud.com"), "jane@icloud.com");
  EXPECT_EQ(chain.Normalize("jane-shopping@yahoo.com"), "jane@yahoo.com");
  EXPECT_EQ(chain.Normalize("jane+a@yahoo.com"), "jane+a@yahoo.com");  // Yahoo tags use '-'
  EXPECT_EQ(chain.Normalize("john.smith+x@contoso.com"), "john.smith+x@contoso.com");
  EXPECT_EQ(chain.Normalize("+only@gmail.com"), "");
  EXPECT_EQ(chain.Normalize("not an email"), "");
}

TEST(PlaceholderTest, DefaultPlaceholdersUnderVariousChains) {
  EXPECT_EQ(Chain({"Symbols", "Lowercase"}).Normalize("N/A"), "");
  EXPECT_EQ(Chain({"Symbols", "Lowercase"}).Normalize("NA"), "");
  EXPECT_EQ(Chain({}).Normalize(" Unknown "), "");
  EXPECT_EQ(Chain({"Whitespace"}).Normalize("NULL"), "");
  EXPECT_EQ(Chain({"Phone"}).Normalize("(000) 000-0000"), "");
  EXPECT_EQ(Chain({"Symbols", "Whitespace"}).Normalize("(000) 000-0000"), "");
  EXPECT_EQ(Chain({"Symbols", "Whitespace"}).Normalize("555.555.5555"), "");
  EXPECT_EQ(Chain({"Email"}).Normalize("NoEmail@Example.com"), "");
  EXPECT_EQ(Chain({"EmailProvider"}).Normalize("Test@Test.com"), "");
  EXPECT_EQ(Chain({"Name"}).Normalize("Mr. Unknown"), "");
  EXPECT_EQ(Chain({}).Normalize("1900-01-01"), "");
  EXPECT_EQ(Chain({"Symbols", "Lowercase"}).Normalize("Nancy"), "nancy");
  EXPECT_EQ(Chain({"Lowercase"}).Normalize("Nathan"), "nathan");
}

TEST(PlaceholderTest, CanBeDisabledAndExtended) {
  NormalizeOptions options;
  options.default_placeholders = false;
  EXPECT_EQ(Chain({"Lowercase"}, options).Normalize("Unknown"), "unknown");
  options.extra_placeholders = {"Do Not Use", "N.V.T."};
  NormalizerChain chain = Chain({"Symbols", "Whitespace", "Lowercase"}, options);
  EXPECT_EQ(chain.Normalize("do-not-use"), "");
  EXPECT_EQ(chain.Normalize("nvt"), "");
  EXPECT_EQ(chain.Normalize("n/a"), "na");  // defaults are off
  NormalizeOptions both;
  both.extra_placeholders = {"CUSTOMER"};
  EXPECT_EQ(Chain({"Lowercase"}, both).Normalize("customer"), "");
  EXPECT_EQ(Chain({"Lowercase"}, both).Normalize("n/a"), "");
}

TEST(PlaceholderTest, ComparedCaseInsensitivelyEvenWithoutLowercase) {
  NormalizeOptions options;
  options.default_placeholders = false;
  options.extra_placeholders = {"ÉMPTY"};
  NormalizerChain chain = Chain({"Whitespace"}, options);
  EXPECT_EQ(chain.Normalize("é m p t y"), "");
  EXPECT_EQ(chain.Normalize("EMPTY"), "EMPTY");  // accents still count without UnicodeToAscii
}

// Each added junk value, under the chain it would meet in practice.
TEST(PlaceholderTest, CommonJunkIsBlankedWithItsReason) {
  struct Case {
    std::vector<std::string> chain;
    const char* value;
  };
  const Case cases[] = {
      {{"Email"}, "test@gmail.com"},       // test@ at any domain
      {{"EmailProvider"}, "Test@Hotmail.com"},
      {{"Email"}, "noemail@company.com"},
      {{"Email"}, "no-reply@shop.com"},
      {{"Email"}, "none@none.com"},
      {{"Email"}, "none@none"},
      {{"Email"}, "jane@mail.invalid"},    // a top-level domain that never delivers
      {{"Email"}, "asdf@asdf.com"},
      {{"Symbols", "Lowercase"}, "noemail"},
      {{"Lowercase"}, "asdf"},
      {{"Lowercase"}, "XXX"},
      {{"Symbols", "Lowercase"}, "n.a."},
      {{"Lowercase"}, "n.a."},
      {{}, "-"},
      {{}, "."},
      {{"Phone"}, "0000000000"},
      {{"Phone"}, "1111111111"},
      {{"Phone"}, "123456789"},
      {{"Phone"}, "1234567890"},
      {{"PhoneDigits"}, "123456789"},
      {{"Symbols", "Whitespace"}, "123-456-789"},
      {{"Phone"}, "(000) 000-0000"},
  };
  for (const Case& c : cases) {
    NormalizerChain chain = Chain(c.chain);
    std::string out;
    NormalizeOutcome outcome = chain.Normalize(c.value, &out);
    EXPECT_EQ(out, "") << c.value;
    EXPECT_EQ(outcome.blank, BlankReason::kPlaceholder) << c.value;
  }
  // Real values near the junk stay.
  EXPECT_EQ(Chain({"Email"}).Normalize("tester@gmail.com"), "tester@gmail.com");
  EXPECT_EQ(Chain({"Email"}).Normalize("john@example.com"), "john@example.com");  // test data uses it
  EXPECT_EQ(Chain({"Phone"}).Normalize("206-555-0142"), "+12065550142");
  // A malformed email is invalid, not a placeholder.
  std::string out;
  NormalizerChain email = Chain({"Email"});
  NormalizeOutcome outcome = email.Normalize("john at example", &out);
  EXPECT_EQ(outcome.blank, BlankReason::kInvalid);
  EXPECT_EQ(email.DescribeBlank(outcome), "invalid email");
  EXPECT_EQ(email.DescribeBlank(email.Normalize("test@gmail.com", &out)), "placeholder email");
  // A listed placeholder is reported as such, with no step.
  NormalizerChain lower = Chain({"Lowercase"});
  outcome = lower.Normalize("N/A", &out);
  EXPECT_EQ(outcome.blank, BlankReason::kPlaceholder);
  EXPECT_EQ(outcome.step, -1);
  EXPECT_EQ(lower.DescribeBlank(outcome), "placeholder");
  EXPECT_EQ(lower.Normalize("  ", &out).blank, BlankReason::kNone);  // blank input: nothing to report
  // A listed placeholder that a step rejects first is still reported as a placeholder.
  NormalizerChain phone = Chain({"Phone"});
  outcome = phone.Normalize(" N/A ", &out);
  EXPECT_EQ(outcome.blank, BlankReason::kPlaceholder);
  EXPECT_EQ(phone.DescribeBlank(outcome), "placeholder");
  EXPECT_EQ(email.Normalize("None", &out).blank, BlankReason::kPlaceholder);
}

TEST(PlaceholderTest, DefaultListIsDocumentedShape) {
  std::vector<std::string> defaults = DefaultPlaceholders();
  for (const char* expected : {"unknown", "n/a", "na", "none", "null", "test", "000-000-0000",
                               "555-555-5555", "1234567890", "test@test.com",
                               "noemail@example.com", "no@email.com", "none@none.com",
                               "1900-01-01"}) {
    EXPECT_NE(std::find(defaults.begin(), defaults.end(), expected), defaults.end()) << expected;
  }
}

}  // namespace
}  // namespace cdp
