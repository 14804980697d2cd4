#include "common/status.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("value must be positive, got " + std::to_string(v));
  return v;
}

StatusOr<int> Doubled(int v) {
  CDP_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return x * 2;
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndContext) {
  Status s = DataLossError("checksum mismatch").WithContext("data/x.cdpc");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DataLoss: data/x.cdpc: checksum mismatch");
}

TEST(StatusOrTest, PropagatesErrorsThroughMacro) {
  EXPECT_EQ(*Doubled(4), 8);
  auto bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdp
