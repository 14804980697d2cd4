#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "relate/activity_builder.h"
#include "relate/customer_index.h"
#include "relate/relationship_resolver.h"

namespace cdp {
namespace {

std::shared_ptr<Table> StringTable(const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& rows) {
  Schema s;
  for (const auto& n : names) s.AddField(Field{n, DataType::kString, {}});
  auto t = std::make_shared<Table>(s);
  for (const auto& r : rows) {
    for (size_t c = 0; c < names.size(); ++c) {
      if (r[c].empty()) {
        t->mutable_column(c).AppendNull();
      } else {
        t->mutable_column(c).AppendString(r[c]);
      }
    }
    t->FinishRow();
  }
  return t;
}

RelationshipConfig Rel(const std::string& name, const std::string& fe, const std::string& ff, const std::string& te,
                       const std::string& tf) {
  RelationshipConfig r;
  r.name = name;
  r.from_entity = fe;
  r.from_field = ff;
  r.to_entity = te;
  r.to_field = tf;
  return r;
}

// Customers 10 (Contacts:1, Loyalty:L1) and 20 (Contacts:2).
CustomerIndex Customers() {
  Table customer(Schema({Field{"CustomerId", DataType::kInt64, {}}}));
  for (int64_t id : {10, 20}) {
    customer.mutable_column(0).AppendInt64(id);
    customer.FinishRow();
  }
  Table keys(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Source", DataType::kString, {}},
                     Field{"SourceKey", DataType::kString, {}}}));
  for (auto [id, s, k] : std::vector<std::tuple<int64_t, std::string, std::string>>{
           {10, "Contacts", "1"}, {10, "Loyalty", "L1"}, {20, "Contacts", "2"}}) {
    keys.mutable_column(0).AppendInt64(id);
    keys.mutable_column(1).AppendString(s);
    keys.mutable_column(2).AppendString(k);
    keys.FinishRow();
  }
  auto ix = CustomerIndex::Build(customer, keys);
  EXPECT_TRUE(ix.ok());
  return *ix;
}

TEST(RelationshipPathTest, FindsUniqueMultiHopAndAmbiguousPaths) {
  std::vector<RelationshipConfig> rels = {Rel("LineOrder", "Lines", "OrderId", "Orders", "OrderId"),
                                          Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id"),
                                          Rel("ReviewContact", "Reviews", "UserId", "Contacts", "Id"),
                                          Rel("ReviewCard", "Reviews", "CardId", "Loyalty", "CardId")};
  std::vector<std::string> profiles = {"Contacts", "Loyalty"};
  auto p = FindPathToCustomer("Lines", rels, profiles, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->steps.size(), 2u);
  EXPECT_EQ(p->Describe(), "Lines.OrderId -> Orders.OrderId -> Contacts.Id -> Customer");
  auto amb = FindPathToCustomer("Reviews", rels, profiles, {});
  ASSERT_FALSE(amb.ok());
  EXPECT_NE(amb.status().message().find("[ReviewContact]"), std::string::npos) << amb.status().message();
  EXPECT_NE(amb.status().message().find("[ReviewCard]"), std::string::npos);
  auto chosen = FindPathToCustomer("Reviews", rels, profiles, {"ReviewCard"});
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->steps[0]->name, "ReviewCard");
  auto none = FindPathToCustomer("Visits", rels, profiles, {});
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(FindPathToCustomer("Reviews", rels, profiles, {"LineOrder"}).ok());
  auto self = FindPathToCustomer("Contacts", rels, profiles, {});
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(self->steps.empty());
}

TEST(ResolveCustomersTest, ResolvesThroughLineageAndCountsOrphans) {
  auto orders = StringTable({"OrderId", "ContactId"}, {{"o1", "1"}, {"o2", "2"}, {"o3", "99"}, {"o4", ""}});
  auto lines = StringTable({"LineId", "OrderId"}, {{"a", "o1"}, {"b", "o3"}, {"c", "o2"}, {"d", "o9"}, {"e", ""}});
  auto contacts = StringTable({"Id"}, {{"1"}, {"2"}, {"99"}});  // 99 is in no profile
  std::map<std::string, std::shared_ptr<const Table>> tables = {{"Orders", orders}, {"Contacts", contacts}};
  EntityLoader load = [&](const std::string& e) -> StatusOr<std::shared_ptr<const Table>> { return tables.at(e); };
  std::vector<RelationshipConfig> rels = {Rel("LineOrder", "Lines", "OrderId", "Orders", "OrderId"),
                                          Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Lines", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  CustomerIndex ix = Customers();
  RelationshipStats st;
  auto r = ResolveCustomers("Lines", *lines, *path, load, [](const std::string&) { return std::string("Id"); }, ix, &st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<int64_t>{0, -1, 1, -1, -1}));
  EXPECT_EQ(st.rows, 5);
  EXPECT_EQ(st.linked, 2);
  EXPECT_EQ(st.no_key, 1);
  EXPECT_EQ(st.orphans, 2);
  ASSERT_EQ(st.orphan_examples.size(), 2u);
  EXPECT_EQ(st.orphan_examples[0], "Lines.OrderId = o9");
  EXPECT_EQ(st.orphan_examples[1], "Contacts:99 is in no customer profile");
}

TEST(ResolveCustomersTest, TypeMismatchNamesBothFields) {
  Table reviews(Schema({Field{"UserId", DataType::kInt64, {}}}));
  reviews.mutable_column(0).AppendInt64(1);
  reviews.FinishRow();
  auto contacts = StringTable({"Id"}, {{"1"}});
  EntityLoader load = [&](const std::string&) -> StatusOr<std::shared_ptr<const Table>> { return std::shared_ptr<const Table>(contacts); };
  std::vector<RelationshipConfig> rels = {Rel("ReviewContact", "Reviews", "UserId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Reviews", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  auto r = ResolveCustomers("Reviews", reviews, *path, load, [](const std::string&) { return std::string("Id"); }, Customers(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Reviews.UserId is int64 but Contacts.Id is string"), std::string::npos)
      << r.status().message();
}

TEST(ResolveCustomersTest, TargetKeysMustBeUniqueAndOneToOneMeansOne) {
  auto contacts = StringTable({"Id"}, {{"1"}, {"2"}, {"1"}});
  auto orders = StringTable({"OrderId", "ContactId"}, {{"o1", "1"}, {"o2", "1"}});
  EntityLoader load = [&](const std::string&) -> StatusOr<std::shared_ptr<const Table>> { return std::shared_ptr<const Table>(contacts); };
  std::vector<RelationshipConfig> rels = {Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Orders", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  auto key = [](const std::string&) { return std::string("Id"); };
  auto r = ResolveCustomers("Orders", *orders, *path, load, key, Customers(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Contacts.Id is not unique (value '1' is on rows 1 and 3)"), std::string::npos)
      << r.status().message();
  contacts = StringTable({"Id"}, {{"1"}, {"2"}});
  rels[0].cardinality = Cardinality::kOneToOne;
  path = FindPathToCustomer("Orders", rels, {"Contacts"}, {});
  r = ResolveCustomers("Orders", *orders, *path, load, key, Customers(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is one_to_one, but rows 1 and 2 of Orders both point at Contacts.Id = '1'"),
            std::string::npos)
      << r.status().message();
  rels[0].cardinality = Cardinality::kManyToOne;
  path = FindPathToCustomer("Orders", rels, {"Contacts"}, {});
  EXPECT_TRUE(ResolveCustomers("Orders", *orders, *path, load, key, Customers(), nullptr).ok());
}

TEST(UnifiedActivityTest, LinksSortsByCustomerAndTimeAndKeepsOtherFields) {
  Schema s({Field{"OrderId", DataType::kString, {}}, Field{"ContactId", DataType::kString, {}},
            Field{"At", DataType::kTimestamp, {}}, Field{"Total", DataType::kDouble, {}},
            Field{"Note", DataType::kString, {}}});
  auto orders = std::make_shared<Table>(s);
  auto add = [&](const char* id, const char* contact, int64_t at, double total, const char* note) {
    orders->mutable_column(0).AppendString(id);
    orders->mutable_column(1).AppendString(contact);
    orders->mutable_column(2).AppendTimestamp(at);
    orders->mutable_column(3).AppendDouble(total);
    orders->mutable_column(4).AppendString(note);
    orders->FinishRow();
  };
  add("o1", "2", 300, 5, "x");
  add("o2", "1", 200, 7.5, "say \"hi\"");
  add("o3", "1", 100, 1, "y");
  add("o4", "77", 100, 1, "orphan");
  auto contacts = StringTable({"Id"}, {{"1"}, {"2"}});
  std::map<std::string, std::shared_ptr<const Table>> tables = {{"Orders", orders}, {"Contacts", contacts}};
  std::vector<RelationshipConfig> rels = {Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  ActivityConfig act;
  act.name = "Order";
  act.entity = "Orders";
  act.timestamp = "At";
  act.type = "SalesOrder";
  act.amount = "Total";
  std::vector<ActivityConfig> acts = {act};
  CustomerIndex ix = Customers();
  ActivityInputs in;
  in.activities = &acts;
  in.relationships = &rels;
  in.profile_sources = {"Contacts", "Loyalty"};
  in.key_of = [](const std::string& e) { return std::string(e == "Orders" ? "OrderId" : "Id"); };
  in.load = [&](const std::string& e) -> StatusOr<std::shared_ptr<const Table>> { return tables.at(e); };
  in.customers = &ix;
  std::vector<ActivityStats> stats;
  auto t = BuildUnifiedActivity(in, &stats);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ((*t)->num_rows(), 3u);
  const Table& u = **t;
  EXPECT_EQ(u.column(0).Int64At(0), 10);
  EXPECT_EQ(u.column(7).StringAt(0), "o3");  // customer 10's earliest first
  EXPECT_EQ(u.column(7).StringAt(1), "o2");
  EXPECT_EQ(u.column(0).Int64At(2), 20);
  EXPECT_EQ(u.column(1).StringAt(0), "SalesOrder");
  EXPECT_DOUBLE_EQ(u.column(5).DoubleAt(1), 7.5);
  EXPECT_EQ(u.column(8).StringAt(1), "{\"ContactId\":\"1\",\"Note\":\"say \\\"hi\\\"\"}");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].relation.orphans, 1);
  EXPECT_EQ(stats[0].rows_out, 3);

  acts[0].amount = "Note";
  auto bad = BuildUnifiedActivity(in, &stats);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("activity 'Order': amount field 'Note' is string"), std::string::npos);
  acts[0].amount = "Totl";
  bad = BuildUnifiedActivity(in, &stats);
  EXPECT_NE(bad.status().message().find("amount field 'Totl' is not a field of 'Orders'"), std::string::npos);
}


// Orders -> Contacts with int64 keys (looked up as numbers, not as text):
// orphans and duplicate keys are reported with the numbers' text.
TEST(ResolveCustomersTest, Int64KeysResolveAndReportLikeText) {
  auto int_table = [](const std::vector<std::string>& names, const std::vector<std::vector<int64_t>>& rows) {
    Schema s;
    for (const auto& n : names) s.AddField(Field{n, DataType::kInt64, {}});
    auto t = std::make_shared<Table>(s);
    for (const auto& r : rows) {
      for (size_t c = 0; c < names.size(); ++c) {
        if (r[c] < 0) {
          t->mutable_column(c).AppendNull();
        } else {
          t->mutable_column(c).AppendInt64(r[c]);
        }
      }
      t->FinishRow();
    }
    return t;
  };
  auto orders = int_table({"OrderId", "ContactId"}, {{1, 2}, {2, 1}, {3, 7}, {4, -1}, {5, 2}});
  auto contacts = int_table({"Id"}, {{1}, {2}, {7}});  // 7 is in no profile
  EntityLoader load = [&](const std::string&) -> StatusOr<std::shared_ptr<const Table>> { return std::shared_ptr<const Table>(contacts); };
  std::vector<RelationshipConfig> rels = {Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Orders", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  auto key = [](const std::string&) { return std::string("Id"); };
  RelationshipStats st;
  auto r = ResolveCustomers("Orders", *orders, *path, load, key, Customers(), &st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<int64_t>{1, 0, -1, -1, 1}));
  EXPECT_EQ(st.linked, 3);
  EXPECT_EQ(st.no_key, 1);
  EXPECT_EQ(st.orphans, 1);
  EXPECT_EQ(st.orphan_examples, (std::vector<std::string>{"Contacts:7 is in no customer profile"}));
  orders = int_table({"OrderId", "ContactId"}, {{1, 12}});
  r = ResolveCustomers("Orders", *orders, *path, load, key, Customers(), &st);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(st.orphan_examples, (std::vector<std::string>{"Orders.ContactId = 12"}));
  contacts = int_table({"Id"}, {{1}, {30}, {2}, {30}});
  r = ResolveCustomers("Orders", *orders, *path, load, key, Customers(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Contacts.Id is not unique (value '30' is on rows 2 and 4)"), std::string::npos)
      << r.status().message();
}

// Enough rows for several workers (the lookups run in 64K-row morsels):
// the result and the stats are those of one thread.
TEST(ResolveCustomersTest, ThreadsGiveTheSameResultAndStats) {
  std::vector<std::vector<std::string>> order_rows, contact_rows;
  for (int i = 0; i < 150000; ++i) {
    int k = (i * 7919) % 1200;  // contacts 0..999 exist, 1000.. are orphans
    order_rows.push_back({"o" + std::to_string(i), i % 97 == 0 ? "" : std::to_string(k)});
  }
  for (int i = 0; i < 1000; ++i) contact_rows.push_back({std::to_string(i)});
  auto orders = StringTable({"OrderId", "ContactId"}, order_rows);
  auto contacts = StringTable({"Id"}, contact_rows);
  // Customers: 10 holds contacts 0..499, 20 holds 500..899; 900..999 are in no profile.
  Table customer(Schema({Field{"CustomerId", DataType::kInt64, {}}}));
  for (int64_t id : {10, 20}) {
    customer.mutable_column(0).AppendInt64(id);
    customer.FinishRow();
  }
  Table keys(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Source", DataType::kString, {}},
                     Field{"SourceKey", DataType::kString, {}}}));
  for (int i = 0; i < 900; ++i) {
    keys.mutable_column(0).AppendInt64(i < 500 ? 10 : 20);
    keys.mutable_column(1).AppendString("Contacts");
    keys.mutable_column(2).AppendString(std::to_string(i));
    keys.FinishRow();
  }
  auto ix = CustomerIndex::Build(customer, keys);
  ASSERT_TRUE(ix.ok());
  EntityLoader load = [&](const std::string&) -> StatusOr<std::shared_ptr<const Table>> { return std::shared_ptr<const Table>(contacts); };
  std::vector<RelationshipConfig> rels = {Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Orders", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  auto key = [](const std::string&) { return std::string("Id"); };
  RelationshipStats one, many;
  auto r1 = ResolveCustomers("Orders", *orders, *path, load, key, *ix, &one, 1);
  auto r3 = ResolveCustomers("Orders", *orders, *path, load, key, *ix, &many, 3);
  ASSERT_TRUE(r1.ok() && r3.ok());
  EXPECT_EQ(*r1, *r3);
  EXPECT_EQ(one.linked, many.linked);
  EXPECT_EQ(one.no_key, many.no_key);
  EXPECT_EQ(one.orphans, many.orphans);
  EXPECT_EQ(one.orphan_examples, many.orphan_examples);
  // Independently: row i's contact k links to 10 (k < 500) or 20 (k < 900).
  int64_t linked = 0, no_key = 0;
  for (int i = 0; i < 150000; ++i) {
    int k = (i * 7919) % 1200;
    int64_t want = i % 97 == 0 ? -1 : k < 500 ? 0 : k < 900 ? 1 : -1;
    ASSERT_EQ((*r3)[static_cast<size_t>(i)], want) << i;
    linked += want >= 0;
    no_key += i % 97 == 0;
  }
  EXPECT_EQ(many.linked, linked);
  EXPECT_EQ(many.no_key, no_key);
  EXPECT_EQ(many.orphans, 150000 - linked - no_key);
  // The first five rows whose contact does not exist (step by step along the path).
  EXPECT_EQ(many.orphan_examples,
            (std::vector<std::string>{"Orders.ContactId = 1195", "Orders.ContactId = 1190", "Orders.ContactId = 1185",
                                      "Orders.ContactId = 1180", "Orders.ContactId = 1175"}));
}

// Keys of other types (here dates) are compared by their text, as before.
TEST(ResolveCustomersTest, DateKeysResolveByTheirText) {
  Table visits(Schema({Field{"Day", DataType::kDate, {}}}));
  for (int32_t d : {10, 11, 12}) {
    visits.mutable_column(0).AppendDate(d);
    visits.FinishRow();
  }
  auto days = std::make_shared<Table>(Schema({Field{"Day", DataType::kDate, {}}, Field{"ContactId", DataType::kString, {}}}));
  for (auto [d, c] : std::vector<std::pair<int32_t, const char*>>{{11, "2"}, {10, "1"}}) {
    days->mutable_column(0).AppendDate(d);
    days->mutable_column(1).AppendString(c);
    days->FinishRow();
  }
  auto contacts = StringTable({"Id"}, {{"1"}, {"2"}});
  std::map<std::string, std::shared_ptr<const Table>> tables = {{"Days", days}, {"Contacts", contacts}};
  EntityLoader load = [&](const std::string& e) -> StatusOr<std::shared_ptr<const Table>> { return tables.at(e); };
  std::vector<RelationshipConfig> rels = {Rel("VisitDay", "Visits", "Day", "Days", "Day"),
                                          Rel("DayContact", "Days", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Visits", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  RelationshipStats st;
  auto r = ResolveCustomers("Visits", visits, *path, load, [](const std::string&) { return std::string("Id"); },
                            Customers(), &st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<int64_t>{0, 1, -1}));
  EXPECT_EQ(st.orphan_examples, (std::vector<std::string>{"Visits.Day = 1970-01-13"}));
}

// Many input rows through the same intermediate and profile rows (each of
// those looked up once): every input row is still counted, and an example is
// kept per input row up to five, in input order.
TEST(ResolveCustomersTest, RowsSharingTargetsAreEachCounted) {
  auto orders = StringTable({"OrderId", "ContactId"}, {{"o1", "1"}, {"o2", ""}, {"o3", "99"}, {"o4", "3"}});
  auto contacts = StringTable({"Id", "Name"}, {{"1", "a"}, {"99", "b"}, {"", "c"}});
  auto contacts_by_name = StringTable({"Name"}, {{"a"}, {"b"}, {"c"}});
  (void)contacts_by_name;
  std::vector<std::vector<std::string>> line_rows;
  for (const char* o : {"o1", "o3", "o2", "o1", "o3", "o4", "o3", "o3", "o3", "o9", "o1"}) line_rows.push_back({o});
  auto lines = StringTable({"OrderId"}, line_rows);
  std::map<std::string, std::shared_ptr<const Table>> tables = {{"Orders", orders}, {"Contacts", contacts}};
  EntityLoader load = [&](const std::string& e) -> StatusOr<std::shared_ptr<const Table>> { return tables.at(e); };
  std::vector<RelationshipConfig> rels = {Rel("LineOrder", "Lines", "OrderId", "Orders", "OrderId"),
                                          Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id")};
  auto path = FindPathToCustomer("Lines", rels, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  RelationshipStats st;
  auto r = ResolveCustomers("Lines", *lines, *path, load, [](const std::string&) { return std::string("Id"); },
                            Customers(), &st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<int64_t>{0, -1, -1, 0, -1, -1, -1, -1, -1, -1, 0}));
  EXPECT_EQ(st.rows, 11);
  EXPECT_EQ(st.linked, 3);
  EXPECT_EQ(st.no_key, 0);
  // o2 has no ContactId (an orphan without an example), o4's contact 3 and
  // line o9 have no target, o3's contact 99 is in no profile (5 lines);
  // examples come step by step along the path.
  EXPECT_EQ(st.orphans, 8);
  EXPECT_EQ(st.orphan_examples,
            (std::vector<std::string>{"Lines.OrderId = o9", "Orders.ContactId = 3", "Contacts:99 is in no customer profile",
                                      "Contacts:99 is in no customer profile", "Contacts:99 is in no customer profile"}));
}

// A profile source row without a key is an orphan with its own example.
TEST(ResolveCustomersTest, ProfileRowWithoutKeyIsAnOrphan) {
  auto contacts = StringTable({"Id", "Email"}, {{"1", "a@x"}, {"", "b@x"}, {"2", "c@x"}});
  EntityLoader load = [&](const std::string&) -> StatusOr<std::shared_ptr<const Table>> { return std::shared_ptr<const Table>(contacts); };
  auto path = FindPathToCustomer("Contacts", {}, {"Contacts"}, {});
  ASSERT_TRUE(path.ok());
  RelationshipStats st;
  auto r = ResolveCustomers("Contacts", *contacts, *path, load, [](const std::string&) { return std::string("Id"); },
                            Customers(), &st);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<int64_t>{0, -1, 1}));
  EXPECT_EQ(st.orphans, 1);
  EXPECT_EQ(st.orphan_examples, (std::vector<std::string>{"Contacts.Id is empty"}));
}

// Three activities (a multi-hop one with date times, one on a profile source,
// one straight to Customer.CustomerId), null subjects, amounts, keys and
// times, int64 amounts, ties in time within and across activities.
struct ActivityFixture {
  std::map<std::string, std::shared_ptr<const Table>> tables;
  std::vector<RelationshipConfig> rels;
  std::vector<ActivityConfig> acts;
  CustomerIndex ix = Customers();

  ActivityFixture() {
    auto orders = std::make_shared<Table>(Schema({Field{"OrderId", DataType::kString, {}}, Field{"ContactId", DataType::kString, {}},
                                                  Field{"Day", DataType::kDate, {}}, Field{"Total", DataType::kInt64, {}},
                                                  Field{"Channel", DataType::kString, {}}}));
    auto contacts = std::make_shared<Table>(Schema({Field{"Id", DataType::kString, {}}, Field{"At", DataType::kTimestamp, {}},
                                                    Field{"Score", DataType::kDouble, {}}}));
    auto tickets = std::make_shared<Table>(Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"At", DataType::kTimestamp, {}},
                                                   Field{"Topic", DataType::kInt64, {}}, Field{"Open", DataType::kBool, {}}}));
    auto lines = std::make_shared<Table>(Schema({Field{"LineId", DataType::kString, {}}, Field{"OrderId", DataType::kString, {}},
                                                 Field{"Product", DataType::kString, {}}, Field{"Price", DataType::kDouble, {}}}));
    const int64_t day = 86400000000LL;
    // Orders: o<i> of contact 1 or 2 (every fifth to 99 or empty), day i % 4,
    // totals and channels sometimes null.
    for (int i = 0; i < 40; ++i) {
      orders->mutable_column(0).AppendString("o" + std::to_string(i));
      if (i % 5 == 4) {
        if (i % 10 == 4) orders->mutable_column(1).AppendString("99"); else orders->mutable_column(1).AppendNull();
      } else {
        orders->mutable_column(1).AppendString(i % 2 ? "1" : "2");
      }
      if (i % 13 == 12) orders->mutable_column(2).AppendNull(); else orders->mutable_column(2).AppendDate(i % 4);
      if (i % 3 == 0) orders->mutable_column(3).AppendNull(); else orders->mutable_column(3).AppendInt64(i * 10);
      if (i % 4 == 1) orders->mutable_column(4).AppendNull(); else orders->mutable_column(4).AppendString(i % 2 ? "web" : "st\"ore\n");
      orders->FinishRow();
    }
    for (auto [id, at] : std::vector<std::pair<const char*, int64_t>>{{"1", day}, {"2", 2 * day}, {"99", day}}) {
      contacts->mutable_column(0).AppendString(id);
      contacts->mutable_column(1).AppendTimestamp(at);
      contacts->mutable_column(2).AppendDouble(0.5);
      contacts->FinishRow();
    }
    for (int i = 0; i < 30; ++i) {
      if (i % 7 == 6) tickets->mutable_column(0).AppendInt64(30); else tickets->mutable_column(0).AppendInt64(i % 3 ? 10 : 20);
      tickets->mutable_column(1).AppendTimestamp((i % 5) * day / 2);
      if (i % 2) tickets->mutable_column(2).AppendNull(); else tickets->mutable_column(2).AppendInt64(i);
      tickets->mutable_column(3).AppendBool(i % 3 == 0);
      tickets->FinishRow();
    }
    for (int i = 0; i < 60; ++i) {
      if (i % 11 == 10) lines->mutable_column(0).AppendNull(); else lines->mutable_column(0).AppendString("l" + std::to_string(i));
      lines->mutable_column(1).AppendString("o" + std::to_string((i * 7) % 45));  // o40..o44 are missing
      if (i % 6 == 0) lines->mutable_column(2).AppendNull(); else lines->mutable_column(2).AppendString(i % 2 ? "beans" : "mug");
      lines->mutable_column(3).AppendDouble(i % 9 == 0 ? std::nan("") : 1.25 * i);
      lines->FinishRow();
    }
    tables = {{"Orders", orders}, {"Contacts", contacts}, {"Tickets", tickets}, {"Lines", lines}};
    rels = {Rel("LineOrder", "Lines", "OrderId", "Orders", "OrderId"), Rel("OrderContact", "Orders", "ContactId", "Contacts", "Id"),
            Rel("TicketCustomer", "Tickets", "CustomerId", "Customer", "CustomerId")};
    auto act = [](const char* name, const char* entity, const char* ts, const char* type, const char* subject,
                  const char* amount) {
      ActivityConfig a;
      a.name = name;
      a.entity = entity;
      a.timestamp = ts;
      a.type = type;
      a.subject = subject;
      a.amount = amount;
      return a;
    };
    // Lines have no time field here (a test that uses them adds one).
    acts = {act("Order", "Orders", "Day", "SalesOrder", "Channel", "Total"), act("Signup", "Contacts", "At", "Signup", "", ""),
            act("Ticket", "Tickets", "At", "Case", "Topic", ""), act("Line", "Lines", "At", "Line", "Product", "Price")};
  }

  ActivityInputs Inputs() const {
    ActivityInputs in;
    in.activities = &acts;
    in.relationships = &rels;
    in.profile_sources = {"Contacts", "Loyalty"};
    in.key_of = [](const std::string& e) {
      return std::string(e == "Orders" ? "OrderId" : e == "Lines" ? "LineId" : e == "Contacts" ? "Id" : "");
    };
    in.load = [this](const std::string& e) -> StatusOr<std::shared_ptr<const Table>> {
      auto it = tables.find(e);
      if (it == tables.end()) return NotFoundError("no entity " + e);
      return it->second;
    };
    in.customers = &ix;
    return in;
  }
};

void ExpectSameColumns(const Table& a, const Table& b) {
  ASSERT_EQ(a.num_rows(), b.num_rows());
  ASSERT_EQ(a.num_columns(), b.num_columns());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    const Column& x = a.column(c);
    const Column& y = b.column(c);
    EXPECT_EQ(x.size(), y.size()) << c;
    EXPECT_EQ(x.null_count(), y.null_count()) << c;
    EXPECT_EQ(x.validity(), y.validity()) << c;
    EXPECT_EQ(x.int64_data(), y.int64_data()) << c;
    ASSERT_EQ(x.double_data().size(), y.double_data().size()) << c;
    if (!x.double_data().empty()) {
      EXPECT_EQ(0, std::memcmp(x.double_data().data(), y.double_data().data(), x.double_data().size() * sizeof(double)))
          << c;
    }
    EXPECT_EQ(x.string_offsets(), y.string_offsets()) << c;
    EXPECT_EQ(x.string_chars(), y.string_chars()) << c;
  }
}

TEST(UnifiedActivityTest, ParallelChunkedBuildEqualsSingleThreadedBuild) {
  ActivityFixture f;
  // Lines get a time field (four distinct times: ties on purpose).
  {
    auto lines = std::make_shared<Table>(*f.tables.at("Lines"));
    Schema s = lines->schema();
    auto with_time = std::make_shared<Table>(Schema({s.field(0), s.field(1), s.field(2), s.field(3),
                                                     Field{"At", DataType::kTimestamp, {}}}));
    for (size_t r = 0; r < lines->num_rows(); ++r) {
      for (size_t c = 0; c < 4; ++c) with_time->mutable_column(c).AppendFrom(lines->column(c), r);
      if (r % 17 == 16) with_time->mutable_column(4).AppendNull();
      else with_time->mutable_column(4).AppendTimestamp(static_cast<int64_t>(r % 4) * 43200000000LL);
      with_time->FinishRow();
    }
    f.tables["Lines"] = with_time;
  }
  ActivityInputs in = f.Inputs();
  std::vector<ActivityStats> one_stats;
  ActivityBuildOptions one;
  one.threads = 1;
  one.chunk_rows = 1 << 20;
  auto single = BuildUnifiedActivity(in, &one_stats, one);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  const Table& u = **single;
  ASSERT_GT(u.num_rows(), 60u);

  // The order is (customer, time, activity, row): check it independently.
  std::vector<std::string> activity_names;
  for (const auto& a : f.acts) activity_names.push_back(a.name);
  auto activity_of = [&](size_t r) {
    return static_cast<size_t>(std::find(activity_names.begin(), activity_names.end(), u.column(2).StringAt(r)) -
                               activity_names.begin());
  };
  size_t ties_across = 0, ties_within = 0;
  for (size_t r = 1; r < u.num_rows(); ++r) {
    auto key = [&](size_t i) { return std::make_tuple(u.column(0).Int64At(i), u.column(3).TimestampAt(i), activity_of(i)); };
    ASSERT_LE(key(r - 1), key(r)) << "row " << r;
    if (u.column(0).Int64At(r - 1) == u.column(0).Int64At(r) && u.column(3).TimestampAt(r - 1) == u.column(3).TimestampAt(r)) {
      if (activity_of(r - 1) == activity_of(r)) {
        ++ties_within;
      } else {
        ++ties_across;
      }
    }
  }
  EXPECT_GT(ties_within, 5u);
  EXPECT_GT(ties_across, 2u);
  EXPECT_GT(u.column(4).null_count(), 0u);
  EXPECT_GT(u.column(5).null_count(), 0u);
  // Within a tie of one activity, rows keep their entity order: Orders o<i>
  // of the same customer and day appear with ascending i.
  for (size_t r = 1; r < u.num_rows(); ++r) {
    if (u.column(2).StringAt(r) != "Order" || u.column(2).StringAt(r - 1) != "Order") continue;
    if (u.column(0).Int64At(r) != u.column(0).Int64At(r - 1) || u.column(3).TimestampAt(r) != u.column(3).TimestampAt(r - 1)) continue;
    EXPECT_LT(std::stoi(std::string(u.column(7).StringAt(r - 1)).substr(1)), std::stoi(std::string(u.column(7).StringAt(r)).substr(1)));
  }
  // A line without a LineId is keyed by its row; a null Total stays null.
  bool row_key = false;
  for (size_t r = 0; r < u.num_rows(); ++r) row_key |= u.column(7).StringAt(r) == "row 11";
  EXPECT_TRUE(row_key);

  for (int threads : {2, 3, 8}) {
    for (size_t chunk_rows : {1, 3, 64, 1000}) {
      std::vector<ActivityStats> stats;
      ActivityBuildOptions o;
      o.threads = threads;
      o.chunk_rows = chunk_rows;
      std::mutex mu;
      std::map<size_t, Table> chunks;
      // Odd chunks are taken (the worker gets an empty table back), even ones
      // copied (the worker clears and reuses its table).
      auto rows = BuildUnifiedActivity(in, o, [&](size_t index, Table& chunk) -> Status {
        Table kept(UnifiedActivitySchema());
        if (index % 2) {
          std::swap(kept, chunk);
        } else {
          CDP_RETURN_IF_ERROR(kept.Append(chunk));
        }
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_TRUE(chunks.emplace(index, std::move(kept)).second) << index;
        return Status::Ok();
      }, &stats);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      ASSERT_EQ(static_cast<size_t>(*rows), u.num_rows());
      ASSERT_EQ(chunks.size(), (u.num_rows() + chunk_rows - 1) / chunk_rows);
      Table joined(UnifiedActivitySchema());
      size_t expect_index = 0;
      for (const auto& [index, chunk] : chunks) {
        EXPECT_EQ(index, expect_index++);
        EXPECT_EQ(chunk.num_rows(), std::min(chunk_rows, u.num_rows() - index * chunk_rows));
        ASSERT_TRUE(joined.Append(chunk).ok());
      }
      SCOPED_TRACE("threads " + std::to_string(threads) + ", chunk_rows " + std::to_string(chunk_rows));
      ExpectSameColumns(joined, u);
      ASSERT_EQ(stats.size(), one_stats.size());
      for (size_t a = 0; a < stats.size(); ++a) {
        EXPECT_EQ(stats[a].rows_out, one_stats[a].rows_out);
        EXPECT_EQ(stats[a].missing_timestamp, one_stats[a].missing_timestamp);
        EXPECT_EQ(stats[a].relation.orphans, one_stats[a].relation.orphans);
        EXPECT_EQ(stats[a].relation.orphan_examples, one_stats[a].relation.orphan_examples);
      }
    }
  }
  // The whole-table form with several workers and small chunks is the same too.
  ActivityBuildOptions many;
  many.threads = 4;
  many.chunk_rows = 5;
  std::vector<ActivityStats> stats;
  auto again = BuildUnifiedActivity(in, &stats, many);
  ASSERT_TRUE(again.ok());
  ExpectSameColumns(**again, u);
}

TEST(UnifiedActivityTest, StatsCountOrphansMissingTimesAndRowsOut) {
  ActivityFixture f;
  f.acts.pop_back();  // Lines have no time field
  ActivityInputs in = f.Inputs();
  std::vector<ActivityStats> stats;
  auto t = BuildUnifiedActivity(in, &stats);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(stats.size(), 3u);
  // Orders: 40 rows; 4 with ContactId 99 (in no profile), 4 without; of the
  // 32 linked, o12 and o25 (even: contact 2; odd: 1) have no day... o12 is
  // i % 5 == 2, o25 is i % 5 == 0, both linked; o38 too.
  EXPECT_EQ(stats[0].relation.rows, 40);
  EXPECT_EQ(stats[0].relation.no_key, 4);
  EXPECT_EQ(stats[0].relation.orphans, 4);
  EXPECT_EQ(stats[0].relation.linked, 32);
  EXPECT_EQ(stats[0].missing_timestamp, 3);
  EXPECT_EQ(stats[0].rows_out, 29);
  // Contacts: "99" is in no profile.
  EXPECT_EQ(stats[1].rows_out, 2);
  EXPECT_EQ(stats[1].relation.orphan_examples, (std::vector<std::string>{"Contacts:99 is in no customer profile"}));
  // Tickets: every seventh names CustomerId 30, which does not exist.
  EXPECT_EQ(stats[2].relation.orphans, 4);
  EXPECT_EQ(stats[2].relation.orphan_examples.size(), 4u);
  EXPECT_EQ(stats[2].relation.orphan_examples[0], "Tickets.CustomerId = 30");
  EXPECT_EQ(stats[2].rows_out, 26);
  EXPECT_EQ((*t)->num_rows(), 29u + 2u + 26u);
  // Fields: the columns that are not time, subject, amount or key, as JSON.
  const Table& u = **t;
  bool saw_ticket = false, saw_order = false;
  for (size_t r = 0; r < u.num_rows(); ++r) {
    if (u.column(2).StringAt(r) == "Ticket" && u.column(4).IsNull(r)) {
      EXPECT_TRUE(u.column(8).StringAt(r) == "{\"CustomerId\":10,\"Open\":false}" ||
                  u.column(8).StringAt(r) == "{\"CustomerId\":10,\"Open\":true}" ||
                  u.column(8).StringAt(r) == "{\"CustomerId\":20,\"Open\":false}" ||
                  u.column(8).StringAt(r) == "{\"CustomerId\":20,\"Open\":true}")
          << u.column(8).StringAt(r);
      EXPECT_EQ(u.column(7).StringAt(r).substr(0, 4), "row ");
      saw_ticket = true;
    }
    if (u.column(7).StringAt(r) == "o2") {
      EXPECT_EQ(u.column(4).StringAt(r), "st\"ore\n");
      EXPECT_DOUBLE_EQ(u.column(5).DoubleAt(r), 20.0);
      EXPECT_EQ(u.column(3).TimestampAt(r), 2 * 86400000000LL);
      EXPECT_EQ(u.column(8).StringAt(r), "{\"ContactId\":\"2\"}");
      saw_order = true;
    }
  }
  EXPECT_TRUE(saw_ticket);
  EXPECT_TRUE(saw_order);
}

TEST(UnifiedActivityTest, SinkErrorStopsTheBuildAndChunkRowsMustBePositive) {
  ActivityFixture f;
  f.acts.pop_back();
  ActivityInputs in = f.Inputs();
  std::vector<ActivityStats> stats;
  ActivityBuildOptions o;
  o.threads = 2;
  o.chunk_rows = 4;
  std::atomic<int> calls{0};
  auto r = BuildUnifiedActivity(in, o, [&](size_t index, Table&) -> Status {
    ++calls;
    if (index >= 3) return InternalError("disk full at chunk " + std::to_string(index));
    return Status::Ok();
  }, &stats);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("disk full at chunk"), std::string::npos);
  EXPECT_LT(calls.load(), 15);  // 57 rows are 15 chunks: the build stopped early
  o.chunk_rows = 0;
  r = BuildUnifiedActivity(in, o, [](size_t, Table&) { return Status::Ok(); }, &stats);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("chunk_rows"), std::string::npos);
}

TEST(UnifiedActivityTest, EntitiesOnlyOnThePathAreLoadedWithTheirKeyFields) {
  ActivityFixture f;
  f.acts = {f.acts[2], f.acts[0]};  // Ticket, Order: Contacts only lies on Order's path
  ActivityInputs in = f.Inputs();
  std::vector<ActivityStats> whole_stats;
  auto whole = BuildUnifiedActivity(in, &whole_stats);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  std::vector<std::string> asked;
  auto load_fields = [&](const std::string& e, const std::vector<std::string>& fields) -> StatusOr<std::shared_ptr<const Table>> {
    std::string list = e + ":";
    for (const auto& x : fields) list += " " + x;
    asked.push_back(list);
    const Table& t = *f.tables.at(e);
    Schema s;
    std::vector<int> cols;
    for (const auto& x : fields) {
      int i = t.schema().FieldIndex(x);
      if (i < 0) continue;
      cols.push_back(i);
      s.AddField(t.schema().field(static_cast<size_t>(i)));
    }
    auto out = std::make_shared<Table>(s);
    for (size_t r = 0; r < t.num_rows(); ++r) {
      for (size_t c = 0; c < cols.size(); ++c) out->mutable_column(c).AppendFrom(t.column(static_cast<size_t>(cols[c])), r);
      out->FinishRow();
    }
    return std::shared_ptr<const Table>(out);
  };
  in.load_fields = load_fields;
  std::vector<ActivityStats> stats;
  auto projected = BuildUnifiedActivity(in, &stats);
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ(asked, (std::vector<std::string>{"Contacts: Id"}));
  ExpectSameColumns(**projected, **whole);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].relation.orphan_examples, whole_stats[1].relation.orphan_examples);
  // A relationship field the projection lacks is reported as without it.
  f.rels[1].to_field = "ContactNo";
  in = f.Inputs();
  in.load_fields = load_fields;
  auto bad = BuildUnifiedActivity(in, &stats);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field 'ContactNo' is not a field of 'Contacts'"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace cdp
