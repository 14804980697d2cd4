// CustomerSet: a set of dense customer indexes (a compressed bitmap; CRoaring
// underneath, which callers never see). Value type: copies are deep.
// Thread-compatible: concurrent const use is safe.
#pragma once

#include <cstdint>
#include <vector>

struct roaring_bitmap_s;

namespace cdp {

class CustomerSet {
 public:
  CustomerSet();
  ~CustomerSet();
  CustomerSet(const CustomerSet& other);
  CustomerSet& operator=(const CustomerSet& other);
  CustomerSet(CustomerSet&& other) noexcept;
  CustomerSet& operator=(CustomerSet&& other) noexcept;

  // Customers [begin, end).
  static CustomerSet Range(uint32_t begin, uint32_t end);
  static CustomerSet Of(const std::vector<uint32_t>& customers);
  // Customers whose bit is set in `words` (bit i of word w = customer 64w+i),
  // for customers below `limit`.
  static CustomerSet FromBits(const std::vector<uint64_t>& words, uint32_t limit);

  void Add(uint32_t customer);
  void AddRange(uint32_t begin, uint32_t end);  // [begin, end)
  bool Contains(uint32_t customer) const;
  uint64_t Count() const;
  bool empty() const { return Count() == 0; }

  void UnionWith(const CustomerSet& other);
  void IntersectWith(const CustomerSet& other);
  void Subtract(const CustomerSet& other);
  // |this AND other|, without building the intersection.
  uint64_t IntersectionCount(const CustomerSet& other) const;

  // Ascending customer indexes.
  std::vector<uint32_t> ToVector() const;
  // Calls fn(customer) in ascending order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t c : ToVector()) fn(c);
  }
  // Compresses runs; call once a set is final.
  void Optimize();

  bool operator==(const CustomerSet& other) const;

 private:
  roaring_bitmap_s* bitmap_;
};

}  // namespace cdp
