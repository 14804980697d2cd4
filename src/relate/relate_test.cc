#include <gtest/gtest.h>

#include <map>

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

}  // namespace
}  // namespace cdp
