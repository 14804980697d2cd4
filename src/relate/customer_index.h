// CustomerIndex: the dense customer index 0..N-1 of one unification result
// (Customer rows in CustomerId order) and the lineage lookup from a source
// record (source, key) to its customer. Immutable after Build; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "table/column.h"

namespace cdp {

class CustomerIndex {
 public:
  // `customer`: the Customer entity (CustomerId int64, ascending); `source_keys`:
  // CustomerSourceKeys (CustomerId, Source, SourceKey). DataLoss if either
  // lacks those fields or a lineage row names an unknown CustomerId.
  static StatusOr<CustomerIndex> Build(const Table& customer, const Table& source_keys);

  size_t size() const { return ids_.size(); }
  int64_t customer_id(uint32_t index) const { return ids_[index]; }
  // Index of a CustomerId, or -1.
  int64_t IndexOf(int64_t customer_id) const;
  // Index of the customer holding a source record, or -1.
  int64_t IndexOfRecord(std::string_view source, std::string_view key) const;
  // Sources that have lineage rows.
  std::vector<std::string> sources() const;

 private:
  std::vector<int64_t> ids_;  // ascending
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using KeyMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;
  // source -> key -> index
  std::unordered_map<std::string, KeyMap, StringHash, std::equal_to<>> lineage_;
};

}  // namespace cdp
