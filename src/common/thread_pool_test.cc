#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>

namespace cdp {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> sum{0};
  {
    ThreadPool pool(2);
    for (int i = 1; i <= 1000; ++i) pool.Submit([&sum, i] { sum += i; });
  }
  EXPECT_EQ(sum.load(), 500500);
}

}  // namespace
}  // namespace cdp
