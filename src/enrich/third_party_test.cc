#include "enrich/third_party.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cdp {
namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& v) {
  return std::vector<std::string_view>(v.begin(), v.end());
}

ThirdPartyKey Key(std::string name, ThirdPartyKeyKind kind, const std::vector<std::string>& customers,
                  const std::vector<std::string>& records) {
  ThirdPartyKey k;
  k.name = std::move(name);
  k.kind = kind;
  k.customer_values = Views(customers);
  k.record_values = Views(records);
  return k;
}

TEST(ThirdPartyTest, KindNamesAndDefaults) {
  EXPECT_EQ(ThirdPartyKeyKindName(ThirdPartyKeyKind::kPhone), "phone");
  auto k = ParseThirdPartyKeyKind("address");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, ThirdPartyKeyKind::kAddress);
  auto bad = ParseThirdPartyKeyKind("fax");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fax'"), std::string::npos);
  EXPECT_EQ(DefaultThirdPartyNormalizers(ThirdPartyKeyKind::kEmail),
            std::vector<std::string>{"EmailProvider"});
  EXPECT_EQ(DefaultThirdPartyNormalizers(ThirdPartyKeyKind::kPhone), std::vector<std::string>{"Phone"});
  EXPECT_EQ(DefaultThirdPartyNormalizers(ThirdPartyKeyKind::kAddress), std::vector<std::string>{"Address"});
}

TEST(ThirdPartyTest, MaskKeyShowsThreeCharactersAtMost) {
  EXPECT_EQ(MaskKey("bobsmith@gmail.com"), "bob\xE2\x80\xA6");
  EXPECT_EQ(MaskKey(""), "");
  EXPECT_EQ(MaskKey("ab"), "ab\xE2\x80\xA6");
  EXPECT_EQ(MaskKey("\xC3\xA9\xC3\xA9\xE2\x82\xACxyz"),
            "\xC3\xA9\xC3\xA9\xE2\x82\xAC\xE2\x80\xA6");  // éé€xyz -> éé€…
  EXPECT_EQ(MaskKey("+12065550142", 5), "+1206\xE2\x80\xA6");
}

TEST(ThirdPartyTest, NormalizedVariantsMatchAndRateIsExact) {
  std::vector<std::string> cust = {"bob.smith@gmail.com", "alice@example.com", "carol@outlook.com",
                                   "erin@x.org"};
  std::vector<std::string> rec = {"Bob.Smith+x@Gmail.com", "  ALICE@Example.com ", "carol+news@outlook.com",
                                  "dave@elsewhere.com"};
  auto m = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, cust, rec)}, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->customer_of_record, (std::vector<int64_t>{0, 1, 2, -1}));
  EXPECT_EQ(m->record_of_customer, (std::vector<int64_t>{0, 1, 2, -1}));
  EXPECT_EQ(m->key_of_record, (std::vector<int32_t>{0, 0, 0, -1}));
  EXPECT_EQ(m->records, 4);
  EXPECT_EQ(m->matched_records, 3);
  EXPECT_EQ(m->matched_customers, 3);
  EXPECT_EQ(m->unmatched_records, 1);
  EXPECT_EQ(m->match_rate, 0.75);
  EXPECT_EQ(m->customer_coverage, 0.75);
  ASSERT_EQ(m->keys.size(), 1u);
  const ThirdPartyKeyReport& k = m->keys[0];
  EXPECT_EQ(k.normalizers, std::vector<std::string>{"EmailProvider"});
  EXPECT_EQ(k.tried, 4);
  EXPECT_EQ(k.matched, 3);
  EXPECT_EQ(k.unmatched, 1);
  EXPECT_EQ(k.customers_with_key, 4);
  // Only a masked form of the unmatched key is reported.
  EXPECT_EQ(k.unmatched_examples, std::vector<std::string>{"dav\xE2\x80\xA6"});
}

TEST(ThirdPartyTest, PhoneAndAddressVariantsMatch) {
  std::vector<std::string> phones = {"(206) 555-0142", "425.555.0199", ""};
  std::vector<std::string> rec_phones = {"+1 206 555 0142", "", "4255550199"};
  std::vector<std::string> addr = {"1234 North Oak Street Apt. 4B", "", "77 Elm Road"};
  std::vector<std::string> rec_addr = {"", "77 elm rd", "9 Pine Ave"};
  auto m = MatchThirdParty({Key("Phone", ThirdPartyKeyKind::kPhone, phones, rec_phones),
                            Key("Address", ThirdPartyKeyKind::kAddress, addr, rec_addr)},
                           {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->customer_of_record, (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(m->key_of_record, (std::vector<int32_t>{0, 1, 0}));
  EXPECT_EQ(m->keys[0].matched, 2);
  EXPECT_EQ(m->keys[0].blank, 1);
  EXPECT_EQ(m->keys[1].tried, 1);  // only the record the phone did not match
  EXPECT_EQ(m->keys[1].matched, 1);
  EXPECT_EQ(m->match_rate, 1.0);
  // An address variant: unit designators and suffixes.
  std::vector<std::string> a1 = {"1234 North Oak Street Apt. 4B"};
  std::vector<std::string> a2 = {"1234 N Oak St #4B"};
  auto m2 = MatchThirdParty({Key("Address", ThirdPartyKeyKind::kAddress, a1, a2)}, {});
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->matched_records, 1);
}

TEST(ThirdPartyTest, AmbiguousKeysAreCountedAndNotMatched) {
  // Customers 0 and 1 share an e-mail (a household); records 1 and 2 share one.
  std::vector<std::string> emails = {"home@family.com", "Home@Family.com", "x@y.com", "z@y.com"};
  std::vector<std::string> phones = {"206-555-0100", "206-555-0101", "206-555-0102", "206-555-0103"};
  std::vector<std::string> rec_emails = {"home@family.com", "z@y.com", "z@y.com", "x@y.com"};
  std::vector<std::string> rec_phones = {"", "", "206-555-0103", ""};
  auto m = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, emails, rec_emails),
                            Key("Phone", ThirdPartyKeyKind::kPhone, phones, rec_phones)},
                           {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ThirdPartyKeyReport& e = m->keys[0];
  EXPECT_EQ(e.ambiguous_customers, 1);  // record 0: held by customers 0 and 1
  EXPECT_EQ(e.ambiguous_records, 2);    // records 1 and 2
  EXPECT_EQ(e.matched, 1);              // record 3 -> customer 2
  EXPECT_EQ(e.shared_customer_keys, 1);
  EXPECT_EQ(e.customers_with_key, 4);
  // Record 2 is ambiguous by e-mail but its phone is unique: the next key matches it.
  const ThirdPartyKeyReport& p = m->keys[1];
  EXPECT_EQ(p.tried, 3);
  EXPECT_EQ(p.blank, 2);
  EXPECT_EQ(p.matched, 1);
  EXPECT_EQ(m->customer_of_record, (std::vector<int64_t>{-1, -1, 3, 2}));
  EXPECT_EQ(m->key_of_record, (std::vector<int32_t>{-1, -1, 1, 0}));
  EXPECT_EQ(m->record_of_customer, (std::vector<int64_t>{-1, -1, 3, 2}));
  EXPECT_EQ(m->match_rate, 0.5);
}

TEST(ThirdPartyTest, ACustomerTakenByAnEarlierKeyIsNotMatchedAgain) {
  std::vector<std::string> emails = {"a@b.com", "c@d.com"};
  std::vector<std::string> phones = {"206-555-0100", "206-555-0101"};
  std::vector<std::string> rec_emails = {"a@b.com", "other@d.com"};
  std::vector<std::string> rec_phones = {"", "(206) 555-0100"};  // customer 0's phone
  auto m = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, emails, rec_emails),
                            Key("Phone", ThirdPartyKeyKind::kPhone, phones, rec_phones)},
                           {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->customer_of_record, (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(m->keys[1].taken, 1);
  EXPECT_EQ(m->keys[1].matched, 0);
  EXPECT_EQ(m->matched_customers, 1);
}

TEST(ThirdPartyTest, BlankKeysAreCountedByReason) {
  std::vector<std::string> cust = {"", "n/a", "real@person.com"};
  std::vector<std::string> rec = {"", "   ", "n/a", "not-an-email", "test@test.com", "real@person.com"};
  auto m = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, cust, rec)}, {});
  ASSERT_TRUE(m.ok());
  const ThirdPartyKeyReport& k = m->keys[0];
  EXPECT_EQ(k.blank, 5);
  EXPECT_EQ(k.blank_invalid, 1);      // not-an-email
  EXPECT_EQ(k.blank_placeholder, 2);  // n/a, test@test.com
  EXPECT_EQ(k.matched, 1);
  EXPECT_EQ(k.unmatched, 0);
  EXPECT_EQ(k.ambiguous_records, 0);   // blanks are never "shared"
  EXPECT_EQ(k.customers_with_key, 1);  // "" and "n/a" hold no key
  EXPECT_EQ(k.shared_customer_keys, 0);
  EXPECT_EQ(m->match_rate, 1.0 / 6.0);
}

TEST(ThirdPartyTest, TheChainCanBeTheMatchRules) {
  std::vector<std::string> cust = {"bob.smith@gmail.com"};
  std::vector<std::string> rec = {"Bob.Smith+x@Gmail.com"};
  ThirdPartyKey k = Key("Email", ThirdPartyKeyKind::kEmail, cust, rec);
  k.normalizers = {"Email"};  // no provider rules: the +tag stays
  auto m = MatchThirdParty({k}, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->matched_records, 0);
  EXPECT_EQ(m->keys[0].normalizers, std::vector<std::string>{"Email"});
  ThirdPartyMatchOptions o;
  o.max_examples = 0;
  m = MatchThirdParty({k}, o);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->keys[0].unmatched_examples.empty());
}

TEST(ThirdPartyTest, ManyRowsMatchRateExactAndThreadsAgree) {
  // 5,000 customers with distinct e-mails; 4,000 records: every other
  // customer's e-mail in a variant spelling (2,500), plus 1,500 strangers.
  std::vector<std::string> cust, rec;
  for (int i = 0; i < 5000; ++i) cust.push_back("first.last" + std::to_string(i) + "@gmail.com");
  for (int i = 0; i < 5000; i += 2) rec.push_back("First.Last" + std::to_string(i) + "+promo@GMAIL.com");
  for (int i = 0; i < 1500; ++i) rec.push_back("stranger" + std::to_string(i) + "@mail.org");
  ThirdPartyMatchOptions o;
  o.threads = 1;
  auto m1 = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, cust, rec)}, o);
  o.threads = 4;
  auto m4 = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, cust, rec)}, o);
  ASSERT_TRUE(m1.ok());
  ASSERT_TRUE(m4.ok());
  EXPECT_EQ(m1->matched_records, 2500);
  EXPECT_EQ(m1->match_rate, 2500.0 / 4000.0);
  EXPECT_EQ(m1->customer_coverage, 0.5);
  EXPECT_EQ(m1->keys[0].unmatched, 1500);
  EXPECT_EQ(m1->keys[0].unmatched_examples.size(), 5u);
  EXPECT_EQ(m1->customer_of_record, m4->customer_of_record);
  EXPECT_EQ(m1->keys[0].unmatched_examples, m4->keys[0].unmatched_examples);
  for (size_t r = 0; r < 2500; ++r) EXPECT_EQ(m1->customer_of_record[r], static_cast<int64_t>(2 * r));
}

TEST(ThirdPartyTest, NoRecordsOrNoCustomers) {
  std::vector<std::string> none, some = {"a@b.com", "c@d.com"};
  auto m = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, some, none)}, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->records, 0);
  EXPECT_EQ(m->match_rate, 0.0);
  EXPECT_EQ(m->record_of_customer, (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(m->keys[0].customers_with_key, 2);
  auto m2 = MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, none, some)}, {});
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(m2->customer_coverage, 0.0);
  EXPECT_EQ(m2->keys[0].unmatched, 2);
  EXPECT_EQ(m2->customer_of_record, (std::vector<int64_t>{-1, -1}));
}

TEST(ThirdPartyTest, ComposedAddressesMatchAcrossPunctuationAndAbbreviations) {
  std::vector<std::string> cust = {"1234 North Oak Street Apt. 4B, Seattle, WA 98101",
                                   "500 Pine Avenue, Portland"};
  std::vector<std::string> rec = {"1234 N Oak St #4B Seattle WA 98101", "500 Pine Ave Apt 2, Portland"};
  auto m = MatchThirdParty({Key("Address", ThirdPartyKeyKind::kAddress, cust, rec)}, {});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->customer_of_record, (std::vector<int64_t>{0, -1}));  // a different unit is another home
}

TEST(ThirdPartyTest, BadInputsNameTheParameter) {
  std::vector<std::string> c2 = {"a@b.com", "c@d.com"}, c1 = {"a@b.com"}, r1 = {"a@b.com"};
  auto expect_bad = [](const StatusOr<ThirdPartyMatch>& m, const std::string& what) {
    ASSERT_FALSE(m.ok()) << what;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.status().message().find(what), std::string::npos) << m.status().message();
  };
  expect_bad(MatchThirdParty({}, {}), "keys is empty");
  expect_bad(MatchThirdParty({Key("", ThirdPartyKeyKind::kEmail, c1, r1)}, {}), "keys[0] has no name");
  expect_bad(MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, c2, r1),
                              Key("Phone", ThirdPartyKeyKind::kPhone, c1, r1)},
                             {}),
             "'Phone': 1 customer_values, expected 2");
  expect_bad(MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, c1, r1),
                              Key("Phone", ThirdPartyKeyKind::kPhone, c1, c2)},
                             {}),
             "record_values");
  ThirdPartyKey k = Key("Email", ThirdPartyKeyKind::kEmail, c1, r1);
  k.normalizers = {"Foo"};
  expect_bad(MatchThirdParty({k}, {}), "'Foo'");
  expect_bad(MatchThirdParty({k}, {}), "key 'Email'");
  ThirdPartyMatchOptions o;
  o.default_region = "QQ";
  expect_bad(MatchThirdParty({Key("Phone", ThirdPartyKeyKind::kPhone, c1, r1)}, o), "QQ");
  o = {};
  o.max_examples = -1;
  expect_bad(MatchThirdParty({Key("Email", ThirdPartyKeyKind::kEmail, c1, r1)}, o), "max_examples");
  std::vector<ThirdPartyKey> many(17, Key("Email", ThirdPartyKeyKind::kEmail, c1, r1));
  expect_bad(MatchThirdParty(many, {}), "at most 16");
}

}  // namespace
}  // namespace cdp
