#include "predict/transaction_log.h"

#include <cmath>

#include <gtest/gtest.h>

namespace cdp {
namespace {

TEST(TransactionLogTest, SortsByCustomerThenDayAndInternsNames) {
  TransactionLogBuilder builder(3);
  builder.AddTransaction(2, 100, 5.0, "beans");
  builder.AddTransaction(0, 120, 7.5, "mug");
  builder.AddTransaction(0, 110, NAN, "");
  builder.AddTransaction(2, 90, 1.0, "mug");
  builder.AddOther(1, 50, "Review");
  StatusOr<TransactionLog> log = std::move(builder).Build();
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ(log->num_customers(), 3);
  EXPECT_EQ(log->offsets, (std::vector<int64_t>{0, 2, 2, 4}));
  EXPECT_EQ(log->day, (std::vector<int32_t>{110, 120, 90, 100}));
  EXPECT_EQ(log->product[0], -1);
  EXPECT_EQ(log->product_names[log->product[1]], "mug");
  EXPECT_EQ(log->product[1], log->product[2]);
  EXPECT_TRUE(std::isnan(log->amount[0]));
  EXPECT_EQ(log->other_offsets, (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(log->other_type_names[log->other_type[0]], "Review");
  EXPECT_EQ(log->first_day(), 90);
  EXPECT_EQ(log->last_day(), 120);
}

TEST(TransactionLogTest, CustomerOutOfRangeIsAnError) {
  TransactionLogBuilder builder(2);
  builder.AddTransaction(5, 1, 1.0, "x");
  StatusOr<TransactionLog> log = std::move(builder).Build();
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("customer index 5"), std::string::npos);
}

}  // namespace
}  // namespace cdp
