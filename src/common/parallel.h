// ParallelFor: splits [0, n) into morsels handed out to `threads` workers
// (the calling thread is one of them). Blocks until all morsels are done.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace cdp {

// fn(begin, end, worker) is called for consecutive morsels of at most `grain`
// items; `worker` is in [0, threads). `threads` <= 0 means one per core.
// fn must be safe to call concurrently for different morsels.
template <typename Fn>
void ParallelFor(int threads, size_t n, size_t grain, Fn&& fn) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (grain == 0) grain = 1;
  size_t morsels = (n + grain - 1) / grain;
  threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(morsels, 1)));
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    for (;;) {
      size_t m = next.fetch_add(1, std::memory_order_relaxed);
      if (m >= morsels) return;
      size_t begin = m * grain;
      fn(begin, std::min(n, begin + grain), worker);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
}

// Number of workers ParallelFor would use for `threads`.
inline int ResolveThreads(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace cdp
