#include "schedule/scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <set>

namespace cdp {
namespace {

int64_t SystemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The timer re-reads the clock at least this often, so a clock that jumps
// (or an injected one) is followed without a long sleep.
constexpr int64_t kMaxWaitMicros = 1'000'000;

}  // namespace

Scheduler::Scheduler(SchedulerOptions options)
    : now_micros_(options.now_micros ? std::move(options.now_micros) : std::function<int64_t()>(SystemNowMicros)) {
  if (options.start_thread) timer_ = std::thread([this] { TimerLoop(); });
}

Scheduler::~Scheduler() { Stop(); }

Status Scheduler::Set(std::vector<ScheduledJob> jobs) {
  std::set<std::string> names;
  for (const auto& j : jobs) {
    if (j.name.empty()) return InvalidArgumentError("a scheduled job needs a name");
    if (!j.fire) return InvalidArgumentError("scheduled job '" + j.name + "' has nothing to fire");
    if (!names.insert(j.name).second) return InvalidArgumentError("two scheduled jobs are named '" + j.name + "'");
  }
  const int64_t now = now_micros_();
  {
    std::lock_guard<std::mutex> l(mu_);
    std::map<std::string, Entry> next;
    for (auto& j : jobs) {
      Entry e{ScheduledJobState{}, j.schedule, std::make_shared<std::function<void()>>(std::move(j.fire))};
      auto old = jobs_.find(j.name);
      if (old != jobs_.end() && old->second.schedule.text() == j.schedule.text()) {
        e.state = old->second.state;
      } else {
        e.state.name = j.name;
        e.state.schedule = j.schedule.text();
        e.state.next_at = j.schedule.Next(now);
        if (old != jobs_.end()) {
          e.state.last_fired_at = old->second.state.last_fired_at;
          e.state.last_error = old->second.state.last_error;
        }
      }
      next.emplace(j.name, std::move(e));
    }
    jobs_ = std::move(next);
  }
  cv_.notify_all();
  return Status::Ok();
}

void Scheduler::ReapWorkersLocked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done) {
      it->thread.join();  // has returned (or is returning) from its body
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> Scheduler::FireDueLocked(int64_t now) {
  std::vector<std::string> fired;
  if (stopping_) return fired;
  ReapWorkersLocked();
  for (auto& [name, e] : jobs_) {
    if (e.state.next_at > now) continue;
    // Whatever happens, the next firing is the first one after now: missed
    // firings are not replayed.
    e.state.next_at = e.schedule.Next(now);
    if (running_.count(name)) {
      ++e.state.skipped;
      continue;
    }
    running_[name] = 1;
    e.state.last_fired_at = now;
    fired.push_back(name);
    workers_.emplace_back();
    Worker* worker = &workers_.back();
    std::shared_ptr<std::function<void()>> fire = e.fire;
    std::string job = name;
    worker->thread = std::thread([this, worker, fire, job] {
      std::string error;
      try {
        (*fire)();
      } catch (const std::exception& ex) {
        error = ex.what();
      } catch (...) {
        error = "unknown exception";
      }
      std::lock_guard<std::mutex> l(mu_);
      running_.erase(job);
      auto it = jobs_.find(job);
      if (it != jobs_.end()) it->second.state.last_error = error;
      worker->done = true;
      idle_cv_.notify_all();
    });
  }
  return fired;
}

void Scheduler::TimerLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    int64_t now = now_micros_();
    FireDueLocked(now);
    int64_t earliest = CronSchedule::kNever;
    for (const auto& [name, e] : jobs_) earliest = std::min(earliest, e.state.next_at);
    int64_t wait = earliest == CronSchedule::kNever ? kMaxWaitMicros : std::clamp<int64_t>(earliest - now, 0, kMaxWaitMicros);
    if (wait > 0) cv_.wait_for(l, std::chrono::microseconds(wait));
  }
}

std::vector<std::string> Scheduler::RunDueForTest(int64_t now) {
  std::lock_guard<std::mutex> l(mu_);
  return FireDueLocked(now);
}

void Scheduler::WaitIdle() {
  std::unique_lock<std::mutex> l(mu_);
  idle_cv_.wait(l, [this] { return running_.empty(); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  std::list<Worker> workers;
  {
    std::unique_lock<std::mutex> l(mu_);
    idle_cv_.wait(l, [this] { return running_.empty(); });
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

std::vector<ScheduledJobState> Scheduler::Jobs() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<ScheduledJobState> out;
  for (const auto& [name, e] : jobs_) {
    ScheduledJobState s = e.state;
    s.running = running_.count(name) > 0;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cdp
