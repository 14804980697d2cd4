#include "workspace/customer_rows.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>

#include "workspace/activity_runner.h"

namespace cdp {
namespace {

struct CacheEntry {
  std::string file;  // the entity's file in the data directory: a new write is a new file
  int64_t written_at = 0;
  std::shared_ptr<const CustomerRows> rows;
};

class CustomerRowsCache {
 public:
  std::shared_ptr<const CustomerRows> Find(const std::string& key, const EntityInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.file != info.file || it->second.written_at != info.written_at_micros) {
      return nullptr;
    }
    Touch(key);
    return it->second.rows;
  }
  void Put(const std::string& key, const EntityInfo& info, std::shared_ptr<const CustomerRows> rows) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[key] = CacheEntry{info.file, info.written_at_micros, std::move(rows)};
    Touch(key);
    while (entries_.size() > kMaxCachedEntities) {
      entries_.erase(order_.back());
      order_.pop_back();
    }
  }

 private:
  void Touch(const std::string& key) {
    order_.remove(key);
    order_.push_front(key);
  }
  std::mutex mu_;
  std::map<std::string, CacheEntry> entries_;
  std::list<std::string> order_;  // most recently used first
};

CustomerRowsCache& Cache() {
  static CustomerRowsCache* cache = new CustomerRowsCache();
  return *cache;
}

}  // namespace

std::vector<uint32_t> CustomerRows::Of(int64_t customer_id) const {
  auto lo = std::lower_bound(by_customer.begin(), by_customer.end(), std::make_pair(customer_id, uint32_t{0}));
  std::vector<uint32_t> out;
  for (auto it = lo; it != by_customer.end() && it->first == customer_id; ++it) out.push_back(it->second);
  return out;
}

StatusOr<std::shared_ptr<const CustomerRows>> LoadCustomerRows(Workspace& workspace, const Snapshot& snapshot,
                                                               const std::string& entity) {
  auto info = snapshot.entities.find(entity);
  if (info == snapshot.entities.end()) return NotFoundError("there is no entity '" + entity + "'");
  const std::string key = workspace.dir() + '\x1f' + entity;
  if (auto hit = Cache().Find(key, info->second)) return hit;
  CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(workspace, snapshot, entity));
  const Column* ids = table->ColumnByName("CustomerId");
  if (!ids || ids->type() != DataType::kInt64) {
    return FailedPreconditionError("entity '" + entity + "' has no int64 field CustomerId");
  }
  auto rows = std::make_shared<CustomerRows>();
  rows->by_customer.reserve(table->num_rows());
  for (size_t r = 0; r < table->num_rows(); ++r) {
    if (!ids->IsNull(r)) rows->by_customer.emplace_back(ids->Int64At(r), static_cast<uint32_t>(r));
  }
  std::sort(rows->by_customer.begin(), rows->by_customer.end());
  rows->table = std::move(table);
  std::shared_ptr<const CustomerRows> out = std::move(rows);
  Cache().Put(key, info->second, out);
  return out;
}

}  // namespace cdp
