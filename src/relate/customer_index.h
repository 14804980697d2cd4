// CustomerIndex: the dense customer index 0..N-1 of one unification result
// (Customer rows in CustomerId order) and the lineage lookup from a source
// record (source, key) to its customer. Immutable after Build; thread-safe.
// Copies are cheap: they share the built data (a refresh's stages share one
// index per generation, workspace/activity_runner.h LoadCustomerIndex).
//
// Layout: the lineage keys of each source in one byte arena with an
// open-addressing hash table of entry numbers (linear probing, load <= 1/2),
// instead of a node-based map of std::string: at 1M customers (1.8M lineage
// rows) the node map took ~20% of a measures run to build.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/column.h"

namespace cdp {

class CustomerIndex {
 public:
  CustomerIndex();

  // `customer`: the Customer entity (CustomerId int64, ascending); `source_keys`:
  // CustomerSourceKeys (CustomerId, Source, SourceKey). DataLoss if either
  // lacks those fields or a lineage row names an unknown CustomerId. A
  // (source, key) listed twice keeps its first customer.
  static StatusOr<CustomerIndex> Build(const Table& customer, const Table& source_keys);

  size_t size() const { return d_->ids.size(); }
  int64_t customer_id(uint32_t index) const { return d_->ids[index]; }
  // Index of a CustomerId, or -1.
  int64_t IndexOf(int64_t customer_id) const;
  // Index of the customer holding a source record, or -1.
  int64_t IndexOfRecord(std::string_view source, std::string_view key) const;
  // Sources that have lineage rows, sorted.
  std::vector<std::string> sources() const;
  // Bytes held by the index (ids, keys, tables).
  size_t memory_bytes() const;

 private:
  struct Entry {
    uint64_t offset;  // of the key in `arena`
    uint32_t length;
    uint32_t customer;
  };
  struct SourceKeys {
    std::string name;
    std::string arena;
    std::vector<Entry> entries;
    std::vector<uint32_t> slots;  // entry number + 1; 0 = empty; size a power of two
    int64_t Find(std::string_view key) const;
  };
  struct Data {
    std::vector<int64_t> ids;          // ascending
    std::vector<SourceKeys> sources;   // sorted by name
  };
  std::shared_ptr<const Data> d_;
};

}  // namespace cdp
