// ServingGeneration: what the API reads, for one committed data generation,
// loaded once and then immutable. The server swaps in a new one after each
// successful refresh; requests hold a shared_ptr to the one they started
// with, so reads keep serving the last complete generation while a refresh
// writes the next. Entity files are opened when loading, so their data stays
// readable even after the store collects them. Memory grows with what is
// needed, not with the workspace (issue 20): the large entities a card reads
// row by row (UnifiedActivity, the profile sources) are not loaded; a card
// reads their row groups through a cache with a byte budget, found by a
// per-customer row range (UnifiedActivity is stored sorted by customer) and
// by flat sorted (hash, row) indexes of keys instead of node maps of strings.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/project_config.h"
#include "storage/column_file.h"
#include "storage/data_store.h"
#include "table/column.h"

namespace cdp {

class Workspace;

// Rows of a table grouped by customer: rows(customer) in table order. When
// every customer's rows are contiguous (UnifiedActivity, stored sorted by
// customer) only a first row and a count per customer are kept (8 bytes a
// customer, whatever the rows); otherwise a row list (CSR, 4 bytes a row).
class RowsByCustomer {
 public:
  // The rows of one customer: rows [first, first + count) or list[0, count).
  struct Span {
    const uint32_t* list = nullptr;
    uint32_t first = 0;
    uint32_t count = 0;
    size_t size() const { return count; }
    uint32_t operator[](size_t i) const { return list != nullptr ? list[i] : first + static_cast<uint32_t>(i); }
  };
  // Calls visit(row, customer index or -1 for none) for every row, in table
  // order; returns the first error of reading the rows.
  using RowVisitor = std::function<void(uint32_t row, int64_t customer)>;
  using RowScan = std::function<Status(const RowVisitor& visit)>;

  // Groups the rows that `scan` visits among `customers` customers. `scan` is
  // called once, or a second time when a customer's rows are not contiguous.
  // InvalidArgument if it visits more than 2^32 - 1 rows or a customer index
  // out of range; the scan's error otherwise.
  Status Build(size_t customers, const RowScan& scan);
  // The rows of an in-memory table by its int64 `id_field` (CustomerIds),
  // mapped to customer indexes by `index_of` (nullopt: no such customer).
  // A table without that field groups no rows.
  void Build(const Table& table, const std::string& id_field, size_t customers,
             const std::function<std::optional<uint32_t>(int64_t)>& index_of);
  // Rows of customer `index` (dense customer index); empty if out of range.
  Span rows(uint32_t index) const;
  // True when rows are kept as ranges (every customer's rows contiguous).
  bool contiguous() const { return rows_.empty(); }
  // Bytes held by the grouping.
  size_t MemoryUsage() const { return (first_.capacity() + offsets_.capacity() + rows_.capacity()) * sizeof(uint32_t); }

 private:
  std::vector<uint32_t> offsets_;  // size customers + 1: counts as prefix sums
  std::vector<uint32_t> first_;    // per customer: first row (contiguous mode)
  std::vector<uint32_t> rows_;     // row list (non-contiguous mode)
};

// Row indexes of a column of CustomerIds (Customer's). Lookups are one array
// read when the ids are dense (their span at most twice their number plus
// 1,024: the ids unification assigns), else a binary search over the rows in
// id order. At 10M customers the start of `cdp serve` looked up ~60M ids
// (measures, source keys, match pairs, activities) by binary search. Equal
// ids: the lowest row. Nulls are never found. The column must outlive it.
class CustomerIdLookup {
 public:
  void Build(const Column* ids);
  std::optional<uint32_t> IndexOf(int64_t customer_id) const;
  bool direct() const { return !direct_.empty(); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const Column* ids_ = nullptr;
  std::vector<uint32_t> order_;   // rows by id (nulls first); empty when the column is ascending
  int64_t min_ = 0;               // direct_[id - min_] is the row of id, or kNone
  std::vector<uint32_t> direct_;  // empty unless the ids are dense
};

// Decoded row groups of column files, kept while they fit in a byte budget
// and evicted least recently used first. Shared by the request threads of a
// ServingGeneration (thread-safe): concurrent misses on the same row group
// wait for one decode. A row group larger than the budget is decoded for its
// caller and not kept. Memory: the budget, plus the row groups that requests
// still hold after they were evicted (each request holds the few it reads).
class RowGroupCache {
 public:
  explicit RowGroupCache(size_t budget_bytes) : budget_(budget_bytes) {}
  RowGroupCache(const RowGroupCache&) = delete;
  RowGroupCache& operator=(const RowGroupCache&) = delete;

  // Row group `group` of `reader` (all columns). `reader` must outlive the
  // cache. The reader's errors (InvalidArgument for a group out of range,
  // DataLoss naming the file) are returned, not kept.
  StatusOr<std::shared_ptr<const Table>> Get(const ColumnFileReader& reader, size_t group) const;

  size_t budget() const { return budget_; }
  // Bytes of the decoded row groups kept now (<= budget()).
  size_t bytes() const;
  // Row groups kept now; decodes done so far (misses).
  size_t entries() const;
  uint64_t decodes() const;

 private:
  using Key = std::pair<const ColumnFileReader*, size_t>;
  using Loaded = StatusOr<std::shared_ptr<const Table>>;
  struct Entry {
    std::shared_ptr<const Table> table;
    size_t bytes = 0;
    std::list<Key>::iterator lru;
  };
  const size_t budget_;
  mutable std::mutex mu_;
  mutable std::map<Key, Entry> entries_;                       // guarded by mu_
  mutable std::list<Key> lru_;                                 // most recent first; guarded by mu_
  mutable std::map<Key, std::shared_future<Loaded>> loading_;  // guarded by mu_
  mutable size_t bytes_ = 0;                                   // guarded by mu_
  mutable uint64_t decodes_ = 0;                               // guarded by mu_
};

// One row of a decoded row group (the table keeps the row group alive).
struct RowRef {
  std::shared_ptr<const Table> table;
  uint32_t row = 0;
};

// Values built on first use, once: concurrent first callers of a key wait for
// the one build instead of each building it. A failed build is remembered
// (the generation it belongs to is immutable).
template <typename T>
class BuildOnceCache {
 public:
  template <typename Build>  // Build: () -> StatusOr<std::shared_ptr<const T>>
  StatusOr<std::shared_ptr<const T>> Get(const std::string& key, Build build) const {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto& s = slots_[key];
      if (!s) s = std::make_shared<Slot>();
      slot = s;
    }
    std::call_once(slot->once, [&] {
      auto r = build();
      if (r.ok()) {
        slot->value = *std::move(r);
      } else {
        slot->status = r.status();
      }
    });
    if (!slot->status.ok()) return slot->status;
    return slot->value;
  }

 private:
  struct Slot {
    std::once_flag once;
    Status status;
    std::shared_ptr<const T> value;
  };
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<Slot>> slots_;
};

// How a ServingGeneration keeps what it reads on demand.
struct ServingOptions {
  // Byte budget of the decoded row groups kept for cards, timelines and
  // entity pages (UnifiedActivity, profile source records), shared by all
  // requests of a generation. 256 MiB was chosen before measuring the card:
  // a small part (about 4%) of issue 20's 6 GB serving target, and room for
  // a few hundred row groups of a few thousand rows. Cards whose row groups
  // are not kept decode them (the cost grows with the writer's row group
  // size: see server/README.md). 0 keeps nothing (every read decodes).
  size_t row_group_cache_bytes = 256u << 20;
};

class ServingGeneration {
 public:
  // Loads the serving view of `snapshot`: opens every entity file, loads the
  // Customer entity and what customer cards read in whole (CustomerSourceKeys,
  // Customer_Measure, ConflationMatchPairs, Segment_*), groups UnifiedActivity
  // by customer from its CustomerId column alone (its rows are read by row
  // group when a card or timeline needs them), and indexes the profile
  // sources' keys and the Customer's Email and Phone fields for lookups, so
  // the first requests are as fast as the later ones. A snapshot without a
  // Customer entity loads (customers() is null).
  static StatusOr<std::shared_ptr<const ServingGeneration>> Load(Workspace& workspace, const Snapshot& snapshot,
                                                                 const ProjectConfig& project,
                                                                 const ServingOptions& options = {});

  uint64_t generation() const { return snapshot_.generation; }
  const Snapshot& snapshot() const { return snapshot_; }
  const ProjectConfig& project() const { return project_; }
  int64_t loaded_at() const { return loaded_at_; }

  // The whole entity, loaded on first use and kept. NotFound naming it.
  StatusOr<std::shared_ptr<const Table>> Entity(const std::string& name) const;
  // Schema and row count without loading the rows. NotFound naming it.
  StatusOr<std::pair<Schema, uint64_t>> EntityShape(const std::string& name) const;
  std::vector<std::string> EntityNames() const;
  // Rows [offset, offset + limit) of an entity (fewer at its end), read by
  // row group through the cache without loading the whole entity (Customer's
  // from the loaded table). NotFound naming it; DataLoss from the file.
  StatusOr<std::vector<RowRef>> EntityRows(const std::string& name, uint64_t offset, uint64_t limit) const;

  // Customers (null when unification has not run).
  const std::shared_ptr<const Table>& customers() const { return customers_; }
  // Dense index of a CustomerId, or nullopt.
  std::optional<uint32_t> IndexOf(int64_t customer_id) const;
  int64_t CustomerIdAt(uint32_t index) const;

  const std::shared_ptr<const Table>& measures() const { return measures_; }  // Customer_Measure or null
  std::optional<uint32_t> MeasureRowOf(uint32_t customer_index) const;

  const std::shared_ptr<const Table>& source_keys() const { return source_keys_; }
  const RowsByCustomer& source_keys_by_customer() const { return source_keys_by_customer_; }
  const std::shared_ptr<const Table>& match_pairs() const { return match_pairs_; }
  const RowsByCustomer& match_pairs_by_customer() const { return match_pairs_by_customer_; }

  // UnifiedActivity, read on demand. has_activities(): the entity exists.
  bool has_activities() const { return activity_reader_ != nullptr; }
  // Number of UnifiedActivity rows of a customer (0 for an index out of range).
  size_t ActivityCount(uint32_t customer_index) const;
  // The customer's UnifiedActivity rows [from, to) of ActivityCount (stored
  // order: oldest first), read by row group through the cache. DataLoss
  // naming the file if a row group cannot be read.
  StatusOr<std::vector<RowRef>> ActivityRows(uint32_t customer_index, size_t from, size_t to) const;
  // UnifiedActivity rows per Activity name (its Activity column alone, read
  // once per generation, by row group). Empty without UnifiedActivity.
  StatusOr<std::shared_ptr<const std::map<std::string, int64_t>>> ActivityNameCounts() const;

  // Customer index of a source record, or nullopt.
  std::optional<uint32_t> CustomerOfRecord(const std::string& source, const std::string& key) const;
  // The record with key `key` in profile source `source` (the first such row
  // in the source's order), read by row group through the cache; nullopt if
  // there is none. The source's key index is built on first use from its key
  // column alone. NotFound if there is no entity `source`; DataLoss from the file.
  StatusOr<std::optional<RowRef>> SourceRecord(const std::string& source, const std::string& key) const;

  // Segment name -> sorted CustomerIds of its stored members.
  const std::map<std::string, std::vector<int64_t>>& segment_members() const { return segment_members_; }
  // Names of the segments holding the customer.
  std::vector<std::string> SegmentsOf(int64_t customer_id) const;

  // Customer indexes whose `field` (a Customer field) equals `value` after
  // folding (case, spaces; digits only for phone-like fields).
  StatusOr<std::vector<uint32_t>> LookupByField(const std::string& field, const std::string& value) const;

  // The row group cache of this generation (budget and use, for tests and metrics).
  const RowGroupCache& row_group_cache() const { return cache_; }

 private:
  explicit ServingGeneration(const ServingOptions& options) : cache_(options.row_group_cache_bytes) {}
  // The row of `reader` holding file row `row`, through the cache.
  StatusOr<RowRef> ReadRow(const ColumnFileReader& reader, const std::vector<uint64_t>& group_starts,
                           uint64_t row) const;
  const std::vector<uint64_t>& GroupStarts(const std::string& entity) const;

  // Sorted (hash, value) pairs: a flat multimap from 64-bit hashes of text
  // keys to row or customer numbers; callers check the key of each candidate.
  struct HashIndex {
    std::vector<std::pair<uint64_t, uint32_t>> entries;  // sorted
    std::pair<const std::pair<uint64_t, uint32_t>*, const std::pair<uint64_t, uint32_t>*> Find(uint64_t hash) const;
  };
  // A profile source's key index: hashes of its key column's values.
  struct SourceKeys {
    HashIndex index;  // hash(key text) -> row
    int key_column = -1;
  };

  Workspace* workspace_ = nullptr;
  Snapshot snapshot_;
  ProjectConfig project_;
  int64_t loaded_at_ = 0;
  std::map<std::string, std::shared_ptr<ColumnFileReader>> readers_;
  std::map<std::string, std::vector<uint64_t>> group_starts_;  // entity -> first row of each row group, then num_rows
  mutable RowGroupCache cache_;

  std::shared_ptr<const Table> customers_;
  const Column* customer_ids_ = nullptr;  // CustomerId of customers_
  CustomerIdLookup id_lookup_;            // customer indexes by CustomerId
  std::shared_ptr<const Table> measures_;
  std::vector<int32_t> measure_row_;  // per customer index, -1 = none
  std::shared_ptr<const Table> source_keys_;
  RowsByCustomer source_keys_by_customer_;
  HashIndex record_owner_;  // hash(source, key) -> row of source_keys_
  std::shared_ptr<const Table> match_pairs_;
  RowsByCustomer match_pairs_by_customer_;
  const ColumnFileReader* activity_reader_ = nullptr;  // UnifiedActivity, or null
  RowsByCustomer activities_by_customer_;
  std::map<std::string, std::vector<int64_t>> segment_members_;

  BuildOnceCache<Table> loaded_;                                        // entity name
  BuildOnceCache<SourceKeys> source_keys_index_;                        // source name
  BuildOnceCache<HashIndex> field_values_;                              // field -> hash(folded value) -> customer index
  BuildOnceCache<std::map<std::string, int64_t>> activity_name_counts_;  // "" -> counts
};

// Folds a lookup value the way LookupByField does: lower case, trimmed,
// and for phone-like values (mostly digits) the digits only.
std::string FoldLookupValue(std::string_view value);

}  // namespace cdp
