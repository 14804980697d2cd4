// ServingGeneration: what the API reads, for one committed data generation,
// loaded once and then immutable. The server swaps in a new one after each
// successful refresh; requests hold a shared_ptr to the one they started
// with, so reads keep serving the last complete generation while a refresh
// writes the next. Entity files are opened when loading, so their data stays
// readable even after the store collects them. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "config/project_config.h"
#include "storage/column_file.h"
#include "storage/data_store.h"
#include "table/column.h"

namespace cdp {

class Workspace;

// Rows of a table grouped by a CustomerId column: rows_of(customer) in
// table order.
class RowsByCustomer {
 public:
  void Build(const Table& table, const std::string& id_field,
             const std::unordered_map<int64_t, uint32_t>& index_of);
  // Row numbers of customer `index` (dense customer index).
  std::pair<const uint32_t*, const uint32_t*> rows(uint32_t index) const;

 private:
  std::vector<uint32_t> offsets_;  // size customers + 1
  std::vector<uint32_t> rows_;
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

class ServingGeneration {
 public:
  // Loads the serving view of `snapshot`: opens every entity file, loads the
  // Customer entity and what customer cards read (CustomerSourceKeys,
  // Customer_Measure, UnifiedActivity, ConflationMatchPairs, Segment_*), and
  // indexes the profile sources by key and the Customer's Email and Phone
  // fields for lookups, so the first requests are as fast as the later ones.
  // A snapshot without a Customer entity loads (customers() is null).
  static StatusOr<std::shared_ptr<const ServingGeneration>> Load(Workspace& workspace, const Snapshot& snapshot,
                                                                 const ProjectConfig& project);

  uint64_t generation() const { return snapshot_.generation; }
  const Snapshot& snapshot() const { return snapshot_; }
  const ProjectConfig& project() const { return project_; }
  int64_t loaded_at() const { return loaded_at_; }

  // The whole entity, loaded on first use and kept. NotFound naming it.
  StatusOr<std::shared_ptr<const Table>> Entity(const std::string& name) const;
  // Schema and row count without loading the rows. NotFound naming it.
  StatusOr<std::pair<Schema, uint64_t>> EntityShape(const std::string& name) const;
  std::vector<std::string> EntityNames() const;

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
  const std::shared_ptr<const Table>& activities() const { return activities_; }
  const RowsByCustomer& activities_by_customer() const { return activities_by_customer_; }

  // Customer index of a source record, or nullopt.
  std::optional<uint32_t> CustomerOfRecord(const std::string& source, const std::string& key) const;
  // Row of a source record in its source entity (loaded and indexed on first use).
  StatusOr<std::optional<uint32_t>> SourceRow(const std::string& source, const std::string& key) const;

  // Segment name -> sorted CustomerIds of its stored members.
  const std::map<std::string, std::vector<int64_t>>& segment_members() const { return segment_members_; }
  // Names of the segments holding the customer.
  std::vector<std::string> SegmentsOf(int64_t customer_id) const;

  // Customer indexes whose `field` (a Customer field) equals `value` after
  // folding (case, spaces; digits only for phone-like fields).
  StatusOr<std::vector<uint32_t>> LookupByField(const std::string& field, const std::string& value) const;

 private:
  ServingGeneration() = default;

  Workspace* workspace_ = nullptr;
  Snapshot snapshot_;
  ProjectConfig project_;
  int64_t loaded_at_ = 0;
  std::map<std::string, std::shared_ptr<ColumnFileReader>> readers_;

  std::shared_ptr<const Table> customers_;
  const Column* customer_ids_ = nullptr;  // CustomerId of customers_
  std::unordered_map<int64_t, uint32_t> index_of_;
  std::shared_ptr<const Table> measures_;
  std::vector<int32_t> measure_row_;  // per customer index, -1 = none
  std::shared_ptr<const Table> source_keys_;
  RowsByCustomer source_keys_by_customer_;
  std::unordered_map<std::string, uint32_t> record_owner_;  // "source\x1fkey" -> customer index
  std::shared_ptr<const Table> match_pairs_;
  RowsByCustomer match_pairs_by_customer_;
  std::shared_ptr<const Table> activities_;
  RowsByCustomer activities_by_customer_;
  std::map<std::string, std::vector<int64_t>> segment_members_;

  BuildOnceCache<Table> loaded_;                                                  // entity name
  BuildOnceCache<std::unordered_map<std::string, uint32_t>> source_key_rows_;     // source -> key -> row
  BuildOnceCache<std::unordered_multimap<std::string, uint32_t>> field_values_;  // field -> folded value -> index
};

// Folds a lookup value the way LookupByField does: lower case, trimmed,
// and for phone-like values (mostly digits) the digits only.
std::string FoldLookupValue(std::string_view value);

}  // namespace cdp
