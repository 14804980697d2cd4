#include "schedule/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/datetime.h"

namespace cdp {
namespace {

constexpr int64_t kMinute = 60 * kMicrosPerSecond;
// 2024-05-01 00:00 UTC.
const int64_t kStart = static_cast<int64_t>(DaysFromCivil(2024, 5, 1)) * kMicrosPerDay;

CronSchedule Cron(const std::string& text) { return *CronSchedule::Parse(text); }

// A fire function that blocks until released; counts calls.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> calls{0};
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::function<void()> Fire() {
    return [this] {
      calls++;
      int now_inside = ++inside;
      int prev = max_inside.load();
      while (now_inside > prev && !max_inside.compare_exchange_weak(prev, now_inside)) {
      }
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [this] { return open; });
      inside--;
    };
  }
  void Open() {
    {
      std::lock_guard<std::mutex> l(mu);
      open = true;
    }
    cv.notify_all();
  }
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerOptions Manual() {
    SchedulerOptions o;
    o.now_micros = [this] { return now_.load(); };
    o.start_thread = false;
    return o;
  }
  std::atomic<int64_t> now_{kStart};
};

TEST_F(SchedulerTest, FiresWhenDueAndComputesTheNextTime) {
  Scheduler s(Manual());
  std::atomic<int> n{0};
  ASSERT_TRUE(s.Set({{"refresh", Cron("*/15 * * * *"), [&] { n++; }}}).ok());
  ASSERT_EQ(s.Jobs().size(), 1u);
  EXPECT_EQ(s.Jobs()[0].next_at, kStart + 15 * kMinute);
  EXPECT_TRUE(s.RunDueForTest(kStart + 14 * kMinute).empty());
  EXPECT_EQ(s.RunDueForTest(kStart + 15 * kMinute), (std::vector<std::string>{"refresh"}));
  s.WaitIdle();
  EXPECT_EQ(n.load(), 1);
  EXPECT_EQ(s.Jobs()[0].next_at, kStart + 30 * kMinute);
  EXPECT_EQ(s.Jobs()[0].last_fired_at, kStart + 15 * kMinute);
  EXPECT_TRUE(s.RunDueForTest(kStart + 15 * kMinute).empty());  // not twice for one time
}

TEST_F(SchedulerTest, MissedFiringsAreNotReplayed) {
  Scheduler s(Manual());
  std::atomic<int> n{0};
  ASSERT_TRUE(s.Set({{"j", Cron("* * * * *"), [&] { n++; }}}).ok());
  // Ten hours pass (the process slept, or was busy): one firing, not 600.
  EXPECT_EQ(s.RunDueForTest(kStart + 600 * kMinute + 30 * kMicrosPerSecond).size(), 1u);
  s.WaitIdle();
  EXPECT_EQ(n.load(), 1);
  EXPECT_EQ(s.Jobs()[0].next_at, kStart + 601 * kMinute);
}

TEST_F(SchedulerTest, NewJobsStartFromNowNotFromThePast) {
  now_ = kStart + 90 * kMinute + 1;
  Scheduler s(Manual());
  ASSERT_TRUE(s.Set({{"daily", Cron("0 0 * * *"), [] {}}}).ok());
  EXPECT_EQ(s.Jobs()[0].next_at, kStart + kMicrosPerDay);  // today's midnight already passed
}

TEST_F(SchedulerTest, ABusyJobIsNotFiredAgainConcurrently) {
  Scheduler s(Manual());
  Gate gate;
  ASSERT_TRUE(s.Set({{"slow", Cron("* * * * *"), gate.Fire()}}).ok());
  EXPECT_EQ(s.RunDueForTest(kStart + kMinute).size(), 1u);
  EXPECT_TRUE(s.RunDueForTest(kStart + 2 * kMinute).empty());  // still running: skipped
  EXPECT_TRUE(s.RunDueForTest(kStart + 3 * kMinute).empty());
  auto jobs = s.Jobs();
  EXPECT_TRUE(jobs[0].running);
  EXPECT_EQ(jobs[0].skipped, 2);
  EXPECT_EQ(jobs[0].next_at, kStart + 4 * kMinute);
  gate.Open();
  s.WaitIdle();
  EXPECT_FALSE(s.Jobs()[0].running);
  EXPECT_EQ(s.RunDueForTest(kStart + 4 * kMinute).size(), 1u);
  s.WaitIdle();
  EXPECT_EQ(gate.calls.load(), 2);
  EXPECT_EQ(gate.max_inside.load(), 1);
}

TEST_F(SchedulerTest, ASlowJobDoesNotDelayOthers) {
  Scheduler s(Manual());
  Gate gate;
  std::atomic<int> fast{0};
  ASSERT_TRUE(s.Set({{"slow", Cron("* * * * *"), gate.Fire()}, {"fast", Cron("* * * * *"), [&] { fast++; }}}).ok());
  s.RunDueForTest(kStart + kMinute);
  // "fast" (listed first: jobs are by name) finishes while "slow" is still blocked.
  while (s.Jobs()[0].running || fast.load() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(s.Jobs()[1].running);
  EXPECT_EQ(s.RunDueForTest(kStart + 2 * kMinute), (std::vector<std::string>{"fast"}));
  gate.Open();
  s.WaitIdle();
  EXPECT_EQ(fast.load(), 2);
  EXPECT_EQ(gate.calls.load(), 1);
}

TEST_F(SchedulerTest, SetKeepsUnchangedJobsAndReschedulesChangedOnes) {
  Scheduler s(Manual());
  ASSERT_TRUE(s.Set({{"a", Cron("0 * * * *"), [] {}}, {"b", Cron("0 * * * *"), [] {}}}).ok());
  now_ = kStart + 30 * kMinute;
  ASSERT_TRUE(s.Set({{"a", Cron("0 * * * *"), [] {}}, {"b", Cron("*/10 * * * *"), [] {}}, {"c", Cron("@daily"), [] {}}}).ok());
  auto jobs = s.Jobs();  // by name
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].next_at, kStart + 60 * kMinute);
  EXPECT_EQ(jobs[1].next_at, kStart + 40 * kMinute);
  EXPECT_EQ(jobs[1].schedule, "*/10 * * * *");
  EXPECT_EQ(jobs[2].next_at, kStart + kMicrosPerDay);
  ASSERT_TRUE(s.Set({}).ok());
  EXPECT_TRUE(s.Jobs().empty());
  EXPECT_TRUE(s.RunDueForTest(kStart + 10 * kMicrosPerDay).empty());
}

TEST_F(SchedulerTest, AJobReplacedWhileRunningIsStillNotDoubled) {
  Scheduler s(Manual());
  Gate gate;
  ASSERT_TRUE(s.Set({{"j", Cron("* * * * *"), gate.Fire()}}).ok());
  s.RunDueForTest(kStart + kMinute);
  ASSERT_TRUE(s.Set({{"j", Cron("*/2 * * * *"), gate.Fire()}}).ok());
  EXPECT_TRUE(s.RunDueForTest(kStart + 2 * kMinute).empty());
  gate.Open();
  s.WaitIdle();
  EXPECT_EQ(gate.max_inside.load(), 1);
}

TEST_F(SchedulerTest, RejectsBadJobLists) {
  Scheduler s(Manual());
  ASSERT_TRUE(s.Set({{"keep", Cron("* * * * *"), [] {}}}).ok());
  EXPECT_EQ(s.Set({{"x", Cron("* * * * *"), [] {}}, {"x", Cron("@daily"), [] {}}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set({{"", Cron("* * * * *"), [] {}}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set({{"nofire", Cron("* * * * *"), nullptr}}).code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(s.Jobs().size(), 1u);
  EXPECT_EQ(s.Jobs()[0].name, "keep");
}

TEST_F(SchedulerTest, AThrowingJobIsRecordedAndFiresAgain) {
  Scheduler s(Manual());
  std::atomic<int> n{0};
  ASSERT_TRUE(s.Set({{"bad", Cron("* * * * *"), [&] {
                       n++;
                       throw std::runtime_error("source unreachable");
                     }}})
                  .ok());
  s.RunDueForTest(kStart + kMinute);
  s.WaitIdle();
  EXPECT_EQ(s.Jobs()[0].last_error, "source unreachable");
  s.RunDueForTest(kStart + 2 * kMinute);
  s.WaitIdle();
  EXPECT_EQ(n.load(), 2);
}

TEST_F(SchedulerTest, TimerThreadFiresOnTheInjectedClockAndStopsPromptly) {
  SchedulerOptions o;
  o.now_micros = [this] { return now_.load(); };
  Scheduler s(o);
  std::mutex mu;
  std::condition_variable cv;
  int fired = 0;
  ASSERT_TRUE(s.Set({{"j", Cron("* * * * *"), [&] {
                       std::lock_guard<std::mutex> l(mu);
                       fired++;
                       cv.notify_all();
                     }}})
                  .ok());
  now_ = kStart + kMinute;  // the timer notices within its maximum wait (1 s)
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return fired == 1; }));
  }
  auto t0 = std::chrono::steady_clock::now();
  s.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  now_ = kStart + 10 * kMinute;
  EXPECT_TRUE(s.RunDueForTest(now_).empty());  // nothing fires after Stop
  s.Stop();                                   // idempotent
}

TEST_F(SchedulerTest, StopWaitsForAFiringInProgress) {
  Scheduler s(Manual());
  std::atomic<bool> finished{false};
  ASSERT_TRUE(s.Set({{"j", Cron("* * * * *"), [&] {
                       std::this_thread::sleep_for(std::chrono::milliseconds(50));
                       finished = true;
                     }}})
                  .ok());
  s.RunDueForTest(kStart + kMinute);
  s.Stop();
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace cdp
