#include "insight/rfm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "common/datetime.h"
#include "segment/segment_evaluator.h"
#include "table/column.h"

namespace cdp {
namespace {

constexpr int32_t kAsOf = 20000;  // 2024-10-04

// The grid of rfm.h, written out cell by cell: (R, F) -> group name.
std::string GridGroup(int r, int f) {
  if (r == 5 && f >= 4) return "Champions";
  if ((r == 3 || r == 4) && f >= 4) return "Loyal";
  if (r >= 4 && (f == 2 || f == 3)) return "Potential loyalist";
  if (r == 5 && f == 1) return "New";
  if (r == 4 && f == 1) return "Promising";
  if (r == 3 && f == 3) return "Need attention";
  if (r == 3 && f <= 2) return "About to sleep";
  if (r <= 2 && (f == 3 || f == 4)) return "At risk";
  if (r <= 2 && f == 5) return "Cannot lose them";
  if (r == 2 && f <= 2) return "Hibernating";
  if (r == 1 && f <= 2) return "Lost";
  return "?";
}

// 25 buyers on a 5 x 5 grid of distinct values (customer i: recency rank i / 5,
// frequency rank i % 5) and three customers without transactions (25..27).
RfmInput GridInput() {
  RfmInput in;
  for (int i = 0; i < 25; ++i) {
    const int ri = i / 5, fi = i % 5;
    in.last_day.push_back(kAsOf - ((4 - ri) * 100 + fi));  // ri 4: 0..4 days ago
    in.frequency.push_back(fi * 10 + ri + 1);
    in.monetary.push_back(100.0 * (fi + 1) + ri);
  }
  for (int i = 0; i < 3; ++i) {
    in.last_day.push_back(kNoTransactionDay);
    in.frequency.push_back(0);
    in.monetary.push_back(0);
  }
  return in;
}

const RfmGroup& GroupNamed(const RfmResult& r, const std::string& name) {
  for (const RfmGroup& g : r.groups) {
    if (g.name == name) return g;
  }
  ADD_FAILURE() << "no group " << name;
  return r.groups.front();
}

TEST(RfmTest, DistinctValuesScoreByQuintile) {
  RfmOptions o;
  o.as_of_day = kAsOf;
  auto r = ComputeRfm(GridInput(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->customers, 28);
  EXPECT_EQ(r->customers_with_transactions, 25);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(r->r_score[i], i / 5 + 1) << i;
    EXPECT_EQ(r->f_score[i], i % 5 + 1) << i;
    EXPECT_EQ(r->m_score[i], i % 5 + 1) << i;  // monetary follows frequency here
  }
  for (int i = 25; i < 28; ++i) {
    EXPECT_EQ(r->r_score[i], 0);
    EXPECT_EQ(r->f_score[i], 0);
    EXPECT_EQ(r->m_score[i], 0);
  }
}

TEST(RfmTest, TiesShareTheScoreOfTheShareBelow) {
  // Six one-time buyers, then 2, 3, 4, 5 transactions: 1 + floor(5 * below / 10).
  RfmInput in;
  const int64_t freq[] = {1, 1, 1, 1, 1, 1, 2, 3, 4, 5};
  for (int64_t f : freq) {
    in.last_day.push_back(kAsOf - 1);  // all tied on recency too
    in.frequency.push_back(f);
    in.monetary.push_back(10);
  }
  RfmOptions o;
  o.as_of_day = kAsOf;
  auto r = ComputeRfm(in, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint8_t want[] = {1, 1, 1, 1, 1, 1, 4, 4, 5, 5};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r->f_score[i], want[i]) << i;
    EXPECT_EQ(r->r_score[i], 1) << i;  // nobody has a worse recency
    EXPECT_EQ(r->m_score[i], 1) << i;
  }
}

TEST(RfmTest, GroupsFollowTheGridAndPartitionTheCustomers) {
  RfmOptions o;
  o.as_of_day = kAsOf;
  auto r = ComputeRfm(GridInput(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->groups.size(), 12u);
  EXPECT_EQ(r->groups.back().name, "No transactions");
  std::map<int, std::string> group_of;
  int64_t total = 0;
  for (const RfmGroup& g : r->groups) {
    total += g.size;
    EXPECT_EQ(static_cast<int64_t>(g.members.Count()), g.size) << g.name;
    g.members.ForEach([&](uint32_t c) {
      EXPECT_FALSE(group_of.count(static_cast<int>(c))) << c << " in two groups";
      group_of[static_cast<int>(c)] = g.name;
    });
  }
  EXPECT_EQ(total, 28);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(group_of[i], GridGroup(i / 5 + 1, i % 5 + 1)) << i;
  for (int i = 25; i < 28; ++i) EXPECT_EQ(group_of[i], "No transactions");

  const RfmGroup& champions = GroupNamed(*r, "Champions");
  EXPECT_EQ(champions.size, 2);  // customers 23 and 24
  EXPECT_DOUBLE_EQ(champions.average_spend, (404.0 + 504.0) / 2);
  EXPECT_DOUBLE_EQ(champions.share, 2.0 / 28);
  EXPECT_EQ(champions.rules_text, "last transaction at most 4 days ago and at least 31 transactions");
  const RfmGroup& lost = GroupNamed(*r, "Lost");
  EXPECT_EQ(lost.size, 2);  // customers 0 and 1
  EXPECT_EQ(lost.rules_text, "last transaction at least 400 days ago and at most 15 transactions");
  EXPECT_FALSE(lost.definition.has_value());  // no fields named
}

// Evaluates `d` with the segment evaluator over Customer and Customer_Measure
// (LastPurchase: date, Transactions: int64) built from `in`.
CustomerSet Evaluate(const SegmentDefinition& d, const RfmInput& in, bool zero_for_none) {
  Table customer(Schema({{"CustomerId", DataType::kString, {}}}));
  Table measure(Schema({{"LastPurchase", DataType::kDate, {}}, {"Transactions", DataType::kInt64, {}}}));
  for (size_t i = 0; i < in.last_day.size(); ++i) {
    customer.mutable_column(0).AppendString("C" + std::to_string(i));
    customer.FinishRow();
    if (in.last_day[i] == kNoTransactionDay) {
      measure.mutable_column(0).AppendNull();
      if (zero_for_none) {
        measure.mutable_column(1).AppendInt64(0);
      } else {
        measure.mutable_column(1).AppendNull();
      }
    } else {
      measure.mutable_column(0).AppendDate(in.last_day[i]);
      measure.mutable_column(1).AppendInt64(in.frequency[i]);
    }
    measure.FinishRow();
  }
  SegmentData data;
  data.customer = &customer;
  data.customer_measure = &measure;
  SegmentEvalOptions eo;
  eo.run_date = kAsOf;
  eo.threads = 1;
  auto res = EvaluateSegment(d, data, eo);
  EXPECT_TRUE(res.ok()) << res.status().ToString() << "\n" << SegmentToJson(d);
  return res.ok() ? res->members : CustomerSet();
}

TEST(RfmTest, DefinitionsSelectExactlyTheMembers) {
  for (bool zero_for_none : {false, true}) {
    for (bool ties : {false, true}) {
      RfmInput in = GridInput();
      if (ties) {  // heavy ties: half the buyers bought once, a third on the same day
        for (int i = 0; i < 25; i += 2) in.frequency[i] = 1;
        for (int i = 0; i < 25; i += 3) in.last_day[i] = kAsOf - 50;
      }
      RfmOptions o;
      o.as_of_day = kAsOf;
      o.last_date_field = "LastPurchase";
      o.frequency_field = "Transactions";
      auto r = ComputeRfm(in, o);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const RfmGroup& g : r->groups) {
        if (g.key == "NoTransactions" || g.size == 0) {
          EXPECT_FALSE(g.definition.has_value()) << g.name;
          continue;
        }
        ASSERT_TRUE(g.definition.has_value()) << g.name;
        EXPECT_EQ(g.definition->name, "Rfm_" + g.key);
        EXPECT_TRUE(Evaluate(*g.definition, in, zero_for_none) == g.members)
            << g.name << " ties=" << ties << "\n" << SegmentToJson(*g.definition);
      }
    }
  }
}

TEST(RfmTest, AsOfDefaultsToTheDayAfterTheLastTransaction) {
  RfmInput in = GridInput();
  auto r = ComputeRfm(in, RfmOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->as_of_day, kAsOf + 1);
  EXPECT_EQ(ToJson(*r)["as_of"], FormatDate(kAsOf + 1));
  EXPECT_EQ(ToJson(*r)["groups"].size(), 12u);
}

TEST(RfmTest, FromTransactionsAggregates) {
  std::vector<int64_t> customer = {2, 0, 2, 2};
  std::vector<int32_t> day = {100, 90, 130, 120};
  std::vector<double> amount = {10, 5, std::nan(""), 2.5};
  auto in = RfmInputFromTransactions(4, customer, day, amount);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->last_day, (std::vector<int32_t>{90, kNoTransactionDay, 130, kNoTransactionDay}));
  EXPECT_EQ(in->frequency, (std::vector<int64_t>{1, 0, 3, 0}));
  EXPECT_EQ(in->monetary, (std::vector<double>{5, 0, 12.5, 0}));

  std::vector<int64_t> bad = {0, 4, 1, 1};
  auto e = RfmInputFromTransactions(4, bad, day, amount);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("customer index 4"), std::string::npos) << e.status().ToString();
  std::vector<int32_t> short_day = {1};
  EXPECT_FALSE(RfmInputFromTransactions(4, customer, short_day, amount).ok());
}

TEST(RfmTest, BadInputIsRefusedWithItsName) {
  RfmOptions o;
  RfmInput in = GridInput();
  in.frequency.pop_back();
  EXPECT_FALSE(ComputeRfm(in, o).ok());

  in = GridInput();
  in.frequency[3] = -1;
  auto e = ComputeRfm(in, o);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("customer 3"), std::string::npos);

  in = GridInput();
  in.frequency[26] = 2;  // a count without a day
  EXPECT_FALSE(ComputeRfm(in, o).ok());

  in = GridInput();
  o.last_date_field = "LastPurchase";
  o.frequency_field = "Transactions";
  o.entity = "Purchases";
  e = ComputeRfm(in, o);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("Purchases"), std::string::npos);

  o.entity = "Customer_Measure";
  o.as_of_day = kMaxRunDate + 1;
  EXPECT_FALSE(ComputeRfm(in, o).ok());
}

}  // namespace
}  // namespace cdp
