// Scheduler: fires named jobs on cron schedules from one timer thread. Each
// firing runs on its own worker thread; a job whose previous firing is still
// running is skipped (never run concurrently with itself), and firings missed
// while the process was down or the job was busy are not replayed.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "schedule/cron.h"

namespace cdp {

struct ScheduledJob {
  std::string name;  // unique within a Set
  CronSchedule schedule;
  std::function<void()> fire;
};

// What the scheduler knows about one job (for status pages and tests).
struct ScheduledJobState {
  std::string name;
  std::string schedule;       // cron text
  int64_t next_at = 0;        // microseconds since the epoch
  int64_t last_fired_at = 0;  // 0 if never fired by this process
  bool running = false;
  int64_t skipped = 0;        // firings skipped because the job was still running
  std::string last_error;     // what the last firing threw, if it threw
};

struct SchedulerOptions {
  // The clock (microseconds since the epoch, UTC); default: the system clock.
  std::function<int64_t()> now_micros;
  // false: no timer thread; jobs fire only through RunDueForTest.
  bool start_thread = true;
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Replaces the job list. A job keeping its name and schedule keeps its next
  // firing time; a new or changed one next fires at schedule.Next(now). A
  // firing in progress continues (and still blocks a same-named job from
  // firing until it ends). InvalidArgument for duplicate or empty names or a
  // job without a fire function; the list is then unchanged.
  Status Set(std::vector<ScheduledJob> jobs);

  // Stops the timer (promptly: it waits on a condition variable) and waits for
  // firings in progress to return. Idempotent; no job fires afterwards.
  void Stop();

  // Fires the jobs due at `now` (next_at <= now), as the timer thread would,
  // and returns their names (skipped busy jobs are not included). The firings
  // run on worker threads; WaitIdle waits for them.
  std::vector<std::string> RunDueForTest(int64_t now);
  // Waits until no firing is in progress.
  void WaitIdle();

  std::vector<ScheduledJobState> Jobs() const;

 private:
  struct Entry {
    ScheduledJobState state;
    CronSchedule schedule;
    std::shared_ptr<std::function<void()>> fire;
  };

  void TimerLoop();
  // Fires due entries; returns their names. Requires mu_ held.
  std::vector<std::string> FireDueLocked(int64_t now);
  void ReapWorkersLocked();

  std::function<int64_t()> now_micros_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // timer wake-ups: Set, Stop
  std::condition_variable idle_cv_;  // a firing ended
  std::map<std::string, Entry> jobs_;  // guarded by mu_
  // Names with a firing in progress (may include names no longer in jobs_).
  std::map<std::string, int> running_;  // guarded by mu_
  struct Worker {
    std::thread thread;
    bool done = false;
  };
  std::list<Worker> workers_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread timer_;
};

}  // namespace cdp
