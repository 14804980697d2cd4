// The on-disk layout of the search index inside Xapian: value slots, metadata
// keys and how a document's key value is encoded. Shared by the writer
// (search_index_writer.cc) and the reader (snapshot.cc).
#pragma once

#include <xapian.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp::search_internal {

inline constexpr Xapian::valueno kKeySlot = 0;          // EncodeKey(customer id, content hash)
inline constexpr Xapian::valueno kSegmentSlot = 1;      // segment names joined by kListSeparator
// Filter i's value in slot 2 + i: the Customer fields' filters, then the
// related filters' values (joined by kListSeparator).
inline constexpr Xapian::valueno kFirstFilterSlot = 2;
inline constexpr char kListSeparator = '\x1f';
inline constexpr std::string_view kMetaFilters = "cdp.search.filters";  // filter fields joined by '\n'
inline constexpr std::string_view kMetaRelatedFilters = "cdp.search.related_filters";  // related filters joined by '\n'
inline constexpr std::string_view kMetaFormat = "cdp.search.format";
inline constexpr std::string_view kFormatVersion = "1";
// A term's wdf is weight * kWdfPerWeight (at least 1), so field weights count
// in the "nnn" tf-idf scheme (score = sum of wdf * query scale).
inline constexpr double kWdfPerWeight = 10.0;

inline std::string EncodeKey(int64_t customer_id, uint64_t hash) {
  std::string s(16, '\0');
  uint64_t id = static_cast<uint64_t>(customer_id);
  for (int i = 0; i < 8; ++i) {
    s[i] = static_cast<char>(id >> (56 - 8 * i));
    s[8 + i] = static_cast<char>(hash >> (56 - 8 * i));
  }
  return s;
}

inline bool DecodeKey(std::string_view s, int64_t* customer_id, uint64_t* hash) {
  if (s.size() != 16) return false;
  uint64_t id = 0, h = 0;
  for (int i = 0; i < 8; ++i) {
    id = (id << 8) | static_cast<unsigned char>(s[i]);
    h = (h << 8) | static_cast<unsigned char>(s[8 + i]);
  }
  *customer_id = static_cast<int64_t>(id);
  *hash = h;
  return true;
}

// A Xapian exception as a Status: DatabaseLockError -> FailedPrecondition,
// DatabaseCorruptError -> DataLoss, DatabaseNotFoundError -> NotFound, else
// Internal.
Status FromXapian(const Xapian::Error& e, std::string_view what);

}  // namespace cdp::search_internal
