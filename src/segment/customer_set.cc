// The one place that includes CRoaring.
#include "segment/customer_set.h"

#include <roaring/roaring.h>

#include <new>
#include <utility>

namespace cdp {

namespace {
roaring_bitmap_t* NewBitmap() {
  roaring_bitmap_t* b = roaring_bitmap_create();
  if (!b) throw std::bad_alloc();
  return b;
}
}  // namespace

CustomerSet::CustomerSet() : bitmap_(NewBitmap()) {}
CustomerSet::~CustomerSet() {
  if (bitmap_) roaring_bitmap_free(bitmap_);
}
CustomerSet::CustomerSet(const CustomerSet& other) : bitmap_(roaring_bitmap_copy(other.bitmap_)) {
  if (!bitmap_) throw std::bad_alloc();
}
CustomerSet& CustomerSet::operator=(const CustomerSet& other) {
  if (this != &other) {
    roaring_bitmap_t* copy = roaring_bitmap_copy(other.bitmap_);
    if (!copy) throw std::bad_alloc();
    roaring_bitmap_free(bitmap_);
    bitmap_ = copy;
  }
  return *this;
}
CustomerSet::CustomerSet(CustomerSet&& other) noexcept : bitmap_(std::exchange(other.bitmap_, nullptr)) {
  // A moved-from set stays usable (empty).
  other.bitmap_ = roaring_bitmap_create();
}
CustomerSet& CustomerSet::operator=(CustomerSet&& other) noexcept {
  std::swap(bitmap_, other.bitmap_);
  return *this;
}

CustomerSet CustomerSet::Range(uint32_t begin, uint32_t end) {
  CustomerSet s;
  s.AddRange(begin, end);
  return s;
}

CustomerSet CustomerSet::Of(const std::vector<uint32_t>& customers) {
  CustomerSet s;
  roaring_bitmap_add_many(s.bitmap_, customers.size(), customers.data());
  return s;
}

CustomerSet CustomerSet::FromBits(const std::vector<uint64_t>& words, uint32_t limit) {
  CustomerSet s;
  uint32_t buf[4096];
  size_t n = 0;
  for (size_t w = 0; w < words.size(); ++w) {
    uint64_t bits = words[w];
    while (bits) {
      uint32_t c = static_cast<uint32_t>(w * 64 + static_cast<unsigned>(__builtin_ctzll(bits)));
      bits &= bits - 1;
      if (c >= limit) break;
      buf[n++] = c;
      if (n == 4096) {
        roaring_bitmap_add_many(s.bitmap_, n, buf);
        n = 0;
      }
    }
  }
  if (n) roaring_bitmap_add_many(s.bitmap_, n, buf);
  return s;
}

void CustomerSet::Add(uint32_t customer) { roaring_bitmap_add(bitmap_, customer); }
void CustomerSet::AddRange(uint32_t begin, uint32_t end) {
  if (begin < end) roaring_bitmap_add_range(bitmap_, begin, end);
}
bool CustomerSet::Contains(uint32_t customer) const { return roaring_bitmap_contains(bitmap_, customer); }
uint64_t CustomerSet::Count() const { return roaring_bitmap_get_cardinality(bitmap_); }
void CustomerSet::UnionWith(const CustomerSet& other) { roaring_bitmap_or_inplace(bitmap_, other.bitmap_); }
void CustomerSet::IntersectWith(const CustomerSet& other) { roaring_bitmap_and_inplace(bitmap_, other.bitmap_); }
void CustomerSet::Subtract(const CustomerSet& other) { roaring_bitmap_andnot_inplace(bitmap_, other.bitmap_); }
uint64_t CustomerSet::IntersectionCount(const CustomerSet& other) const {
  return roaring_bitmap_and_cardinality(bitmap_, other.bitmap_);
}

std::vector<uint32_t> CustomerSet::ToVector() const {
  std::vector<uint32_t> out(Count());
  if (!out.empty()) roaring_bitmap_to_uint32_array(bitmap_, out.data());
  return out;
}

void CustomerSet::Optimize() { roaring_bitmap_run_optimize(bitmap_); }

bool CustomerSet::operator==(const CustomerSet& other) const { return roaring_bitmap_equals(bitmap_, other.bitmap_); }

}  // namespace cdp
