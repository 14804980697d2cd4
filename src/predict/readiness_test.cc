#include "predict/readiness.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/datetime.h"

namespace cdp {
namespace {

const int32_t kAsOf = DaysFromCivil(2024, 1, 1);

// `customers` customers buying every `every` days from `history` days before
// kAsOf; the first `stopped` of them stop one window (90 days) before kAsOf.
// `no_amount`/`no_product`: every k-th row lacks it (0: none).
TransactionLog MakeLog(int customers, int history, int every, int stopped, int no_amount_every = 0,
                       int no_product_every = 0, int extra_profiles = 0) {
  TransactionLogBuilder b(customers + extra_profiles);
  int row = 0;
  for (int c = 0; c < customers; ++c) {
    int last = c < stopped ? kAsOf - 91 : kAsOf - 1;
    for (int d = kAsOf - history; d <= last; d += every) {
      ++row;
      double amount = (no_amount_every > 0 && row % no_amount_every == 0) ? std::nan("") : 10.0;
      std::string product = (no_product_every > 0 && row % no_product_every == 0) ? "" : "coffee";
      b.AddTransaction(c, d, amount, product);
    }
  }
  b.AddTransaction(0, kAsOf + 5, 1.0, "after");  // after the as-of date: never read
  return std::move(b).Build().value();
}

bool HasProblem(const ReadinessReport& r, const std::string& start) {
  for (const auto& p : r.problems) {
    if (p.rfind(start, 0) == 0) return true;
  }
  return false;
}

std::string All(const ReadinessReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p + "\n";
  return s;
}

ReadinessRequirements Strict() {
  ReadinessRequirements req;
  req.needs_amount = true;
  req.needs_product = true;
  req.min_positive = 5;
  req.min_repeat_customers = 10;
  return req;
}

TEST(ReadinessTest, GoodDataHasNoProblemsAndTheFigures) {
  ReadinessReport r = AssessReadiness(MakeLog(60, 200, 10, 6, 0, 0, 3), kAsOf, Strict());
  EXPECT_TRUE(r.ready) << All(r);
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.profiles, 63);
  EXPECT_EQ(r.customers_with_transactions, 60);
  EXPECT_EQ(r.first_day, kAsOf - 200);
  EXPECT_EQ(r.last_day, kAsOf - 10);  // the last row on the 10-day grid before kAsOf
  EXPECT_EQ(r.history_days, 200);
  EXPECT_EQ(r.positives, 6);
  EXPECT_EQ(r.repeat_customers, 60);
  EXPECT_EQ(r.median_transactions_per_customer, 20);  // 54 customers with 20 rows, 6 with 11
  EXPECT_EQ(r.transactions, 54 * 20 + 6 * 11);        // the row after kAsOf is not counted
  auto j = r.ToJson();
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["first_day"], FormatDate(kAsOf - 200));
}

TEST(ReadinessTest, ShortHistory) {
  ReadinessReport r = AssessReadiness(MakeLog(60, 120, 10, 0), kAsOf, ReadinessRequirements());
  EXPECT_FALSE(r.ready);
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_EQ(r.problems[0], "needs at least two windows of history (180 days); the data cover 120 days");
  ReadinessRequirements one;
  one.min_windows = 1;
  EXPECT_TRUE(AssessReadiness(MakeLog(60, 120, 10, 0), kAsOf, one).ready);
}

TEST(ReadinessTest, TooFewCustomers) {
  ReadinessReport r = AssessReadiness(MakeLog(12, 200, 10, 0, 0, 0, 40), kAsOf, ReadinessRequirements());
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_EQ(r.problems[0], "only 12 customers have transactions; at least 50 are needed");
  EXPECT_EQ(r.profiles, 52);
}

TEST(ReadinessTest, MissingAmountsOnlyWhenNeeded) {
  TransactionLog log = MakeLog(60, 200, 10, 6, 3);  // a third of the rows without amount
  ReadinessReport r = AssessReadiness(log, kAsOf, Strict());
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_EQ(r.problems[0], "33% of transactions have no amount; at most 10% may be missing");
  ReadinessRequirements no_amount = Strict();
  no_amount.needs_amount = false;
  EXPECT_TRUE(AssessReadiness(log, kAsOf, no_amount).ready);
}

TEST(ReadinessTest, MissingProducts) {
  ReadinessReport r = AssessReadiness(MakeLog(60, 200, 10, 6, 0, 2), kAsOf, Strict());
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_EQ(r.problems[0], "50% of transactions have no product; at most 10% may be missing");
}

TEST(ReadinessTest, TooFewPositivesAndRepeatCustomers) {
  // Every customer buys once (every > history): no repeats; nobody stopped.
  ReadinessReport r = AssessReadiness(MakeLog(60, 200, 1000, 0), kAsOf, Strict());
  EXPECT_TRUE(HasProblem(r, "only 0 customers have transactions on two or more days; at least 10")) << All(r);
  EXPECT_FALSE(HasProblem(r, "only 0 customers stopped"));  // they all bought before the last window only
  EXPECT_EQ(r.positives, 60);
  ReadinessReport active = AssessReadiness(MakeLog(60, 200, 10, 2), kAsOf, Strict());
  ASSERT_EQ(active.problems.size(), 1u) << All(active);
  EXPECT_EQ(active.problems[0], "only 2 customers stopped buying in the last window (90 days); at least 5 are needed");
}

TEST(ReadinessTest, StaleDataAndNoData) {
  // Everyone stopped a window ago and the log is otherwise fine: stale.
  TransactionLog log = MakeLog(60, 400, 10, 60);
  ReadinessReport r = AssessReadiness(log, kAsOf + 3, ReadinessRequirements());  // newest: kAsOf - 100
  ASSERT_EQ(r.problems.size(), 1u) << All(r);
  EXPECT_EQ(r.problems[0].rfind("the newest transaction (", 0), 0u) << r.problems[0];
  EXPECT_NE(r.problems[0].find("more than one window (90 days)"), std::string::npos);
  EXPECT_FALSE(HasProblem(AssessReadiness(log, kAsOf - 60, ReadinessRequirements()), "the newest transaction"));

  ReadinessReport empty = AssessReadiness(MakeLog(0, 200, 10, 0, 0, 0, 5), kAsOf, ReadinessRequirements());
  EXPECT_TRUE(HasProblem(empty, "there are no transactions before 2024-01-01")) << All(empty);
  EXPECT_EQ(empty.first_day, 0);
  EXPECT_EQ(empty.last_day, -1);
  ReadinessReport none = AssessReadiness(TransactionLog(), kAsOf, ReadinessRequirements());
  EXPECT_EQ(none.problems, std::vector<std::string>{"there are no customer profiles"});
  ReadinessRequirements bad;
  bad.window_days = 0;
  EXPECT_TRUE(HasProblem(AssessReadiness(MakeLog(60, 200, 10, 0), kAsOf, bad), "window_days must be positive (got 0)"));
}

}  // namespace
}  // namespace cdp
