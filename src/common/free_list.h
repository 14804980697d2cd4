// FreeList<T>: objects kept for reuse between threads, so that their buffers
// (and the pages behind them) are not allocated and touched again. Take()
// hands out a kept object or makes one; Put() keeps one, up to a maximum.
// Thread-safe.
#pragma once

#include <cstddef>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

namespace cdp {

template <typename T>
class FreeList {
 public:
  explicit FreeList(size_t max_kept = std::numeric_limits<size_t>::max()) : max_kept_(max_kept) {}
  FreeList(const FreeList&) = delete;
  FreeList& operator=(const FreeList&) = delete;

  // A kept object, or make() when none is kept.
  template <typename Make>
  T Take(Make make) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!kept_.empty()) {
        T t = std::move(kept_.back());
        kept_.pop_back();
        return t;
      }
    }
    return make();
  }

  // Keeps `t` for a later Take(), unless max_kept objects are kept already.
  void Put(T t) {
    std::lock_guard<std::mutex> l(mu_);
    if (kept_.size() < max_kept_) kept_.push_back(std::move(t));
  }

 private:
  const size_t max_kept_;
  std::mutex mu_;
  std::vector<T> kept_;
};

}  // namespace cdp
