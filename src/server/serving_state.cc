#include "server/serving_state.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <string_view>
#include <thread>

#include "catalog/catalog.h"
#include "common/entity_names.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace cdp {
namespace {

uint64_t HashText(std::string_view text) { return std::hash<std::string_view>()(text); }

// A source record's hash: source and key with a separator no name holds.
uint64_t RecordHash(std::string_view source, std::string_view key) {
  std::string k(source);
  k.push_back('\x1f');
  k.append(key);
  return HashText(k);
}

// A key value as text (as the card's source_records name it).
std::string KeyText(const Column& c, size_t row) {
  return c.type() == DataType::kString ? std::string(c.StringAt(row)) : c.ValueToString(row);
}

uint64_t KeyHash(const Column& c, size_t row) {
  return c.type() == DataType::kString ? HashText(c.StringAt(row)) : HashText(c.ValueToString(row));
}

}  // namespace

std::string FoldLookupValue(std::string_view value) {
  size_t b = 0, e = value.size();
  while (b < e && isspace(static_cast<unsigned char>(value[b]))) ++b;
  while (e > b && isspace(static_cast<unsigned char>(value[e - 1]))) --e;
  value = value.substr(b, e - b);
  size_t digits = 0;
  for (char c : value) digits += isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  bool phone_like = digits >= 7 && value.find('@') == std::string_view::npos &&
                    std::all_of(value.begin(), value.end(), [](char c) {
                      return isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '(' || c == ')' ||
                             c == '.' || c == ' ' || c == '/';
                    });
  std::string out;
  if (phone_like) {
    for (char c : value) {
      if (isdigit(static_cast<unsigned char>(c))) out.push_back(c);
    }
    // National number: the last ten digits, so +1 555... and (555)... meet.
    if (out.size() > 10) out = out.substr(out.size() - 10);
    return out;
  }
  for (char c : value) out.push_back(static_cast<char>(tolower(static_cast<unsigned char>(c))));
  return out;
}

Status RowsByCustomer::Build(size_t customers, const RowScan& scan) {
  constexpr uint32_t kNone = UINT32_MAX;
  offsets_.assign(customers + 1, 0);
  first_.assign(customers, kNone);
  rows_.clear();
  // Pass 1: counts per customer, first rows, and whether each customer's
  // rows are one run.
  bool contiguous = true;
  int64_t last = -1;
  uint64_t visited = 0;
  bool bad_index = false;
  CDP_RETURN_IF_ERROR(scan([&](uint32_t row, int64_t c) {
    ++visited;
    if (c < 0 || bad_index) {
      last = -1;
      return;
    }
    if (static_cast<uint64_t>(c) >= customers) {
      bad_index = true;
      return;
    }
    if (c != last) {
      if (first_[c] != kNone) contiguous = false;
      else first_[c] = row;
      last = c;
    }
    ++offsets_[c + 1];
  }));
  if (visited >= kNone) {
    return InvalidArgumentError("rows by customer: " + std::to_string(visited) + " rows, at most " +
                                std::to_string(kNone - 1));
  }
  if (bad_index) return InvalidArgumentError("rows by customer: a customer index out of range");
  for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
  if (contiguous) {
    first_.shrink_to_fit();
    return Status::Ok();
  }
  // Pass 2: a row list per customer.
  first_.clear();
  first_.shrink_to_fit();
  rows_.resize(offsets_.back());
  std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  CDP_RETURN_IF_ERROR(scan([&](uint32_t row, int64_t c) {
    if (c >= 0 && static_cast<uint64_t>(c) < customers) rows_[fill[static_cast<size_t>(c)]++] = row;
  }));
  if (rows_.empty()) rows_.push_back(0);  // keep the list mode (rows_ non-empty) even with no rows
  return Status::Ok();
}

void RowsByCustomer::Build(const Table& table, const std::string& id_field, size_t customers,
                           const std::function<std::optional<uint32_t>(int64_t)>& index_of) {
  const Column* ids = table.ColumnByName(id_field);
  Status st = Build(customers, [&](const RowVisitor& visit) -> Status {
    for (size_t r = 0; ids != nullptr && ids->type() == DataType::kInt64 && r < table.num_rows(); ++r) {
      std::optional<uint32_t> c = ids->IsNull(r) ? std::nullopt : index_of(ids->Int64At(r));
      visit(static_cast<uint32_t>(r), c ? static_cast<int64_t>(*c) : -1);
    }
    return Status::Ok();
  });
  if (!st.ok()) {  // more rows than the row numbers hold: group none
    offsets_.assign(customers + 1, 0);
    first_.assign(customers, 0);
    rows_.clear();
  }
}

RowsByCustomer::Span RowsByCustomer::rows(uint32_t index) const {
  if (static_cast<size_t>(index) + 1 >= offsets_.size()) return {};
  Span s;
  s.count = offsets_[index + 1] - offsets_[index];
  if (s.count == 0) return s;
  if (rows_.empty()) {
    s.first = first_[index];
  } else {
    s.list = rows_.data() + offsets_[index];
  }
  return s;
}

StatusOr<std::shared_ptr<const Table>> RowGroupCache::Get(const ColumnFileReader& reader, size_t group) const {
  const Key key(&reader, group);
  std::promise<Loaded> promise;
  {
    std::unique_lock<std::mutex> l(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.table;
    }
    auto pending = loading_.find(key);
    if (pending != loading_.end()) {
      std::shared_future<Loaded> f = pending->second;
      l.unlock();
      return f.get();
    }
    loading_.emplace(key, promise.get_future().share());
    ++decodes_;
  }
  // Waiters get this decode's result; an exception (out of memory) becomes an
  // error so that none of them waits for ever.
  Loaded loaded = [&]() -> Loaded {
    try {
      CDP_ASSIGN_OR_RETURN(Table t, reader.ReadRowGroup(group));
      return std::make_shared<const Table>(std::move(t));
    } catch (const std::exception& e) {
      return ResourceExhaustedError("reading row group " + std::to_string(group) + " of " + reader.path() + ": " +
                                    e.what());
    }
  }();
  {
    std::lock_guard<std::mutex> l(mu_);
    loading_.erase(key);
    if (loaded.ok()) {
      const size_t bytes = (*loaded)->MemoryUsage();
      if (bytes <= budget_) {
        while (bytes_ + bytes > budget_ && !lru_.empty()) {
          auto victim = entries_.find(lru_.back());
          bytes_ -= victim->second.bytes;
          entries_.erase(victim);
          lru_.pop_back();
        }
        lru_.push_front(key);
        entries_.emplace(key, Entry{*loaded, bytes, lru_.begin()});
        bytes_ += bytes;
      }
    }
  }
  promise.set_value(loaded);
  return loaded;
}

size_t RowGroupCache::bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_;
}

size_t RowGroupCache::entries() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

uint64_t RowGroupCache::decodes() const {
  std::lock_guard<std::mutex> l(mu_);
  return decodes_;
}

std::pair<const std::pair<uint64_t, uint32_t>*, const std::pair<uint64_t, uint32_t>*> ServingGeneration::HashIndex::Find(
    uint64_t hash) const {
  auto lo = std::lower_bound(entries.begin(), entries.end(), std::make_pair(hash, uint32_t{0}));
  auto hi = lo;
  while (hi != entries.end() && hi->first == hash) ++hi;
  return {entries.data() + (lo - entries.begin()), entries.data() + (hi - entries.begin())};
}

StatusOr<std::shared_ptr<const ServingGeneration>> ServingGeneration::Load(Workspace& workspace,
                                                                          const Snapshot& snapshot,
                                                                          const ProjectConfig& project,
                                                                          const ServingOptions& options) {
  std::shared_ptr<ServingGeneration> g(new ServingGeneration(options));
  g->workspace_ = &workspace;
  g->snapshot_ = snapshot;
  g->project_ = project;
  g->loaded_at_ = NowMicros();
  for (const auto& [name, info] : snapshot.entities) {
    CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snapshot, name));
    std::vector<uint64_t> starts;
    starts.reserve(reader->num_row_groups() + 1);
    uint64_t row = 0;
    for (size_t i = 0; i < reader->num_row_groups(); ++i) {
      starts.push_back(row);
      row += reader->row_group_num_rows(i);
    }
    starts.push_back(row);
    g->group_starts_[name] = std::move(starts);
    g->readers_[name] = std::shared_ptr<ColumnFileReader>(std::move(reader));
  }
  auto load = [&](const std::string& name) -> StatusOr<std::shared_ptr<const Table>> {
    if (!g->readers_.count(name)) return std::shared_ptr<const Table>();
    return g->Entity(name);
  };
  CDP_ASSIGN_OR_RETURN(g->customers_, load(std::string(kCustomerEntity)));
  size_t customers = 0;
  if (g->customers_) {
    const Column* ids = g->customers_->ColumnByName("CustomerId");
    if (ids == nullptr || ids->type() != DataType::kInt64) {
      return DataLossError("entity Customer lacks an integer CustomerId field");
    }
    g->customer_ids_ = ids;
    customers = ids->size();
    g->id_lookup_.Build(ids);
  }
  auto index_of = [&g](int64_t id) { return g->IndexOf(id); };
  CDP_ASSIGN_OR_RETURN(g->measures_, load(std::string(kCustomerMeasureEntity)));
  g->measure_row_.assign(customers, -1);
  if (g->measures_) {
    const Column* ids = g->measures_->ColumnByName("CustomerId");
    for (size_t r = 0; ids != nullptr && r < ids->size(); ++r) {
      if (ids->IsNull(r)) continue;
      auto c = g->IndexOf(ids->Int64At(r));
      if (c) g->measure_row_[*c] = static_cast<int32_t>(r);
    }
  }
  CDP_ASSIGN_OR_RETURN(g->source_keys_, load(std::string(kSourceKeysEntity)));
  if (g->source_keys_) {
    g->source_keys_by_customer_.Build(*g->source_keys_, "CustomerId", customers, index_of);
    const Column* ids = g->source_keys_->ColumnByName("CustomerId");
    const Column* src = g->source_keys_->ColumnByName("Source");
    const Column* key = g->source_keys_->ColumnByName("SourceKey");
    if (ids && src && key && ids->type() == DataType::kInt64 && src->type() == DataType::kString &&
        key->type() == DataType::kString) {
      auto& e = g->record_owner_.entries;
      e.reserve(ids->size());
      for (size_t r = 0; r < ids->size(); ++r) {
        if (ids->IsNull(r) || src->IsNull(r) || key->IsNull(r) || !g->IndexOf(ids->Int64At(r))) continue;
        e.emplace_back(RecordHash(src->StringAt(r), key->StringAt(r)), static_cast<uint32_t>(r));
      }
      std::sort(e.begin(), e.end());
    }
  }
  CDP_ASSIGN_OR_RETURN(g->match_pairs_, load(std::string(kMatchPairsEntity)));
  if (g->match_pairs_) g->match_pairs_by_customer_.Build(*g->match_pairs_, "CustomerId", customers, index_of);
  if (auto it = g->readers_.find(std::string(kUnifiedActivityEntity)); it != g->readers_.end()) {
    // Grouped from the CustomerId column alone, one row group at a time.
    const ColumnFileReader& reader = *it->second;
    const int id_column = reader.schema().FieldIndex("CustomerId");
    if (id_column < 0 || reader.schema().field(static_cast<size_t>(id_column)).type != DataType::kInt64) {
      return DataLossError("entity UnifiedActivity lacks an integer CustomerId field (" + reader.path() + ")");
    }
    const std::vector<int> columns = {id_column};
    CDP_RETURN_IF_ERROR(g->activities_by_customer_.Build(customers, [&](const RowsByCustomer::RowVisitor& visit) -> Status {
      uint32_t row = 0;
      for (size_t group = 0; group < reader.num_row_groups(); ++group) {
        CDP_ASSIGN_OR_RETURN(Table t, reader.ReadRowGroup(group, &columns));
        const Column& ids = t.column(0);
        int64_t last_id = 0;
        int64_t last_index = -1;
        bool have_last = false;
        for (size_t r = 0; r < ids.size(); ++r, ++row) {
          if (ids.IsNull(r)) {
            visit(row, -1);
            continue;
          }
          const int64_t id = ids.Int64At(r);
          if (!have_last || id != last_id) {  // rows come grouped by CustomerId: one lookup per run
            auto c = g->IndexOf(id);
            last_index = c ? static_cast<int64_t>(*c) : -1;
            last_id = id;
            have_last = true;
          }
          visit(row, last_index);
        }
      }
      return Status::Ok();
    }));
    g->activity_reader_ = it->second.get();
  }
  for (const auto& [name, reader] : g->readers_) {
    ParsedEntityName parsed = ParseEntityName(name);
    if (parsed.kind != EntityKind::kSegment) continue;
    CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
    g->segment_members_[std::string(parsed.subject)] = SegmentMemberIds(t);
  }
  // Warm what the card and lookups read, in parallel; failures are kept by
  // the caches and reported to the requests that need them.
  std::vector<std::thread> warm;
  for (const auto& source : project.unification.sources) {
    warm.emplace_back([&g, name = source.source] { (void)g->SourceRecord(name, ""); });
  }
  if (g->customers_) {
    for (const Field& f : g->customers_->schema().fields()) {
      if (f.semantic.name() == SemanticType::kEmail || f.semantic.name() == SemanticType::kPhone) {
        warm.emplace_back([&g, name = f.name] { (void)g->LookupByField(name, ""); });
      }
    }
  }
  for (auto& t : warm) t.join();
  return std::shared_ptr<const ServingGeneration>(std::move(g));
}

StatusOr<std::shared_ptr<const Table>> ServingGeneration::Entity(const std::string& name) const {
  auto r = readers_.find(name);
  if (r == readers_.end()) return NotFoundError("there is no entity '" + name + "'");
  std::shared_ptr<ColumnFileReader> reader = r->second;
  return loaded_.Get(name, [&]() -> StatusOr<std::shared_ptr<const Table>> {
    CDP_ASSIGN_OR_RETURN(Table t, reader->ReadAll());
    return std::make_shared<const Table>(std::move(t));
  });
}

StatusOr<std::pair<Schema, uint64_t>> ServingGeneration::EntityShape(const std::string& name) const {
  auto r = readers_.find(name);
  if (r == readers_.end()) return NotFoundError("there is no entity '" + name + "'");
  return std::make_pair(r->second->schema(), r->second->num_rows());
}

std::vector<std::string> ServingGeneration::EntityNames() const {
  std::vector<std::string> names;
  for (const auto& [name, r] : readers_) names.push_back(name);
  return names;
}

void CustomerIdLookup::Build(const Column* ids) {
  ids_ = ids;
  order_.clear();
  direct_.clear();
  const size_t n = ids->size();
  bool ascending = true;
  int64_t lo = 0, hi = 0;
  size_t present = 0;
  for (size_t r = 0; r < n; ++r) {
    if (ids->IsNull(r)) {
      ascending = false;
      continue;
    }
    const int64_t id = ids->Int64At(r);
    if (r > 0 && (ids->IsNull(r - 1) || ids->Int64At(r - 1) >= id)) ascending = false;
    lo = present == 0 ? id : std::min(lo, id);
    hi = present == 0 ? id : std::max(hi, id);
    ++present;
  }
  // hi - lo + 1 in unsigned arithmetic is the span even across the int64 range.
  const uint64_t span = present == 0 ? 0 : static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (present > 0 && span != 0 && span <= 2 * static_cast<uint64_t>(present) + 1024) {
    min_ = lo;
    direct_.assign(static_cast<size_t>(span), kNone);
    for (size_t r = 0; r < n; ++r) {
      if (ids->IsNull(r)) continue;
      uint32_t& slot = direct_[static_cast<uint64_t>(ids->Int64At(r)) - static_cast<uint64_t>(lo)];
      if (slot == kNone) slot = static_cast<uint32_t>(r);
    }
    return;
  }
  if (ascending) return;
  order_.resize(n);
  for (size_t r = 0; r < n; ++r) order_[r] = static_cast<uint32_t>(r);
  // Nulls first, as IndexOf's search takes them.
  std::stable_sort(order_.begin(), order_.end(), [ids](uint32_t a, uint32_t b) {
    if (ids->IsNull(a) || ids->IsNull(b)) return ids->IsNull(a) && !ids->IsNull(b);
    return ids->Int64At(a) < ids->Int64At(b);
  });
}

std::optional<uint32_t> CustomerIdLookup::IndexOf(int64_t customer_id) const {
  if (ids_ == nullptr) return std::nullopt;
  if (!direct_.empty()) {
    const uint64_t at = static_cast<uint64_t>(customer_id) - static_cast<uint64_t>(min_);
    if (at >= direct_.size() || direct_[at] == kNone) return std::nullopt;
    return direct_[at];
  }
  const Column& ids = *ids_;
  size_t lo = 0, hi = ids.size();  // first position whose CustomerId >= customer_id
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const uint32_t row = order_.empty() ? static_cast<uint32_t>(mid) : order_[mid];
    if (ids.IsNull(row) || ids.Int64At(row) < customer_id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == ids.size()) return std::nullopt;
  const uint32_t row = order_.empty() ? static_cast<uint32_t>(lo) : order_[lo];
  if (ids.IsNull(row) || ids.Int64At(row) != customer_id) return std::nullopt;
  return row;
}

std::optional<uint32_t> ServingGeneration::IndexOf(int64_t customer_id) const { return id_lookup_.IndexOf(customer_id); }

int64_t ServingGeneration::CustomerIdAt(uint32_t index) const {
  return customer_ids_->Int64At(index);
}

std::optional<uint32_t> ServingGeneration::MeasureRowOf(uint32_t customer_index) const {
  if (customer_index >= measure_row_.size() || measure_row_[customer_index] < 0) return std::nullopt;
  return static_cast<uint32_t>(measure_row_[customer_index]);
}

std::optional<uint32_t> ServingGeneration::CustomerOfRecord(const std::string& source, const std::string& key) const {
  if (!source_keys_) return std::nullopt;
  const Column* ids = source_keys_->ColumnByName("CustomerId");
  const Column* src = source_keys_->ColumnByName("Source");
  const Column* keys = source_keys_->ColumnByName("SourceKey");
  auto [b, e] = record_owner_.Find(RecordHash(source, key));
  for (auto it = b; it != e; ++it) {
    const uint32_t r = it->second;
    if (src->StringAt(r) == source && keys->StringAt(r) == key) return IndexOf(ids->Int64At(r));
  }
  return std::nullopt;
}

const std::vector<uint64_t>& ServingGeneration::GroupStarts(const std::string& entity) const {
  static const std::vector<uint64_t> kNone = {0};
  auto it = group_starts_.find(entity);
  return it == group_starts_.end() ? kNone : it->second;
}

StatusOr<RowRef> ServingGeneration::ReadRow(const ColumnFileReader& reader, const std::vector<uint64_t>& group_starts,
                                            uint64_t row) const {
  // group_starts: first row of each group, then the row count.
  auto next = std::upper_bound(group_starts.begin(), group_starts.end(), row);
  if (row >= group_starts.back() || next == group_starts.begin()) {
    return InvalidArgumentError("row " + std::to_string(row) + " out of range (" + reader.path() + " has " +
                                std::to_string(group_starts.back()) + " rows)");
  }
  const size_t group = static_cast<size_t>(next - group_starts.begin()) - 1;
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const Table> t, cache_.Get(reader, group));
  const uint64_t in_group = row - group_starts[group];
  if (in_group >= t->num_rows()) {
    return DataLossError("column file " + reader.path() + ": row group " + std::to_string(group) + " holds " +
                         std::to_string(t->num_rows()) + " rows, its footer says more");
  }
  return RowRef{std::move(t), static_cast<uint32_t>(in_group)};
}

StatusOr<std::vector<RowRef>> ServingGeneration::EntityRows(const std::string& name, uint64_t offset,
                                                            uint64_t limit) const {
  auto r = readers_.find(name);
  if (r == readers_.end()) return NotFoundError("there is no entity '" + name + "'");
  const uint64_t n = r->second->num_rows();
  const uint64_t end = offset >= n ? offset : offset + std::min(limit, n - offset);
  std::vector<RowRef> out;
  if (name == kCustomerEntity && customers_) {
    for (uint64_t row = offset; row < end; ++row) out.push_back(RowRef{customers_, static_cast<uint32_t>(row)});
    return out;
  }
  const std::vector<uint64_t>& starts = GroupStarts(name);
  for (uint64_t row = offset; row < end; ++row) {
    if (!out.empty() && out.back().row + 1 < out.back().table->num_rows()) {  // same row group as the last row
      out.push_back(RowRef{out.back().table, out.back().row + 1});
      continue;
    }
    CDP_ASSIGN_OR_RETURN(RowRef ref, ReadRow(*r->second, starts, row));
    out.push_back(std::move(ref));
  }
  return out;
}

size_t ServingGeneration::ActivityCount(uint32_t customer_index) const {
  return activity_reader_ == nullptr ? 0 : activities_by_customer_.rows(customer_index).size();
}

StatusOr<std::vector<RowRef>> ServingGeneration::ActivityRows(uint32_t customer_index, size_t from, size_t to) const {
  std::vector<RowRef> out;
  if (activity_reader_ == nullptr) return out;
  RowsByCustomer::Span span = activities_by_customer_.rows(customer_index);
  to = std::min(to, span.size());
  const std::vector<uint64_t>& starts = GroupStarts(std::string(kUnifiedActivityEntity));
  for (size_t i = from; i < to; ++i) {
    const uint32_t row = span[i];
    // Consecutive rows of one row group share its table.
    if (!out.empty() && span[i - 1] + 1 == row && out.back().row + 1 < out.back().table->num_rows()) {
      out.push_back(RowRef{out.back().table, out.back().row + 1});
      continue;
    }
    CDP_ASSIGN_OR_RETURN(RowRef ref, ReadRow(*activity_reader_, starts, row));
    out.push_back(std::move(ref));
  }
  return out;
}

StatusOr<std::shared_ptr<const std::map<std::string, int64_t>>> ServingGeneration::ActivityNameCounts() const {
  using Counts = std::map<std::string, int64_t>;
  return activity_name_counts_.Get("", [&]() -> StatusOr<std::shared_ptr<const Counts>> {
    auto counts = std::make_shared<Counts>();
    if (activity_reader_ == nullptr) return std::shared_ptr<const Counts>(std::move(counts));
    const int column = activity_reader_->schema().FieldIndex("Activity");
    if (column < 0 || activity_reader_->schema().field(static_cast<size_t>(column)).type != DataType::kString) {
      return DataLossError("entity UnifiedActivity lacks a text Activity field (" + activity_reader_->path() + ")");
    }
    const std::vector<int> columns = {column};
    for (size_t group = 0; group < activity_reader_->num_row_groups(); ++group) {
      CDP_ASSIGN_OR_RETURN(Table t, activity_reader_->ReadRowGroup(group, &columns));
      const Column& names = t.column(0);
      // Rows come grouped by customer, so a name repeats in runs: count runs.
      std::string_view run;
      int64_t run_rows = 0;
      for (size_t r = 0; r < names.size(); ++r) {
        std::string_view name = names.StringAt(r);
        if (run_rows > 0 && name == run) {
          ++run_rows;
          continue;
        }
        if (run_rows > 0) (*counts)[std::string(run)] += run_rows;
        run = name;
        run_rows = 1;
      }
      if (run_rows > 0) (*counts)[std::string(run)] += run_rows;
    }
    return std::shared_ptr<const Counts>(std::move(counts));
  });
}

StatusOr<std::optional<RowRef>> ServingGeneration::SourceRecord(const std::string& source, const std::string& key) const {
  auto r = readers_.find(source);
  if (r == readers_.end()) return NotFoundError("there is no entity '" + source + "'");
  const ColumnFileReader& reader = *r->second;
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const SourceKeys> keys,
                       source_keys_index_.Get(source, [&]() -> StatusOr<std::shared_ptr<const SourceKeys>> {
                         auto k = std::make_shared<SourceKeys>();
                         const std::string key_field = project_.KeyOf(source);
                         k->key_column = key_field.empty() ? -1 : reader.schema().FieldIndex(key_field);
                         if (k->key_column < 0) return std::shared_ptr<const SourceKeys>(std::move(k));
                         if (reader.num_rows() >= UINT32_MAX) {
                           return FailedPreconditionError("profile source '" + source + "' has " +
                                                          std::to_string(reader.num_rows()) +
                                                          " rows, more than a card's key index holds");
                         }
                         // The key column alone, one row group at a time.
                         const std::vector<int> columns = {k->key_column};
                         auto& e = k->index.entries;
                         e.reserve(reader.num_rows());
                         uint32_t row = 0;
                         for (size_t group = 0; group < reader.num_row_groups(); ++group) {
                           CDP_ASSIGN_OR_RETURN(Table t, reader.ReadRowGroup(group, &columns));
                           const Column& c = t.column(0);
                           for (size_t i = 0; i < c.size(); ++i, ++row) {
                             if (!c.IsNull(i)) e.emplace_back(KeyHash(c, i), row);
                           }
                         }
                         std::sort(e.begin(), e.end());
                         return std::shared_ptr<const SourceKeys>(std::move(k));
                       }));
  if (keys->key_column < 0) return std::optional<RowRef>();
  const std::vector<uint64_t>& starts = GroupStarts(source);
  auto [b, e] = keys->index.Find(HashText(key));
  for (auto it = b; it != e; ++it) {  // in row order: the first row with the key, as before
    CDP_ASSIGN_OR_RETURN(RowRef ref, ReadRow(reader, starts, it->second));
    const Column& c = ref.table->column(static_cast<size_t>(keys->key_column));
    if (!c.IsNull(ref.row) && KeyText(c, ref.row) == key) return std::optional<RowRef>(std::move(ref));
  }
  return std::optional<RowRef>();
}

std::vector<std::string> ServingGeneration::SegmentsOf(int64_t customer_id) const {
  std::vector<std::string> out;
  for (const auto& [name, members] : segment_members_) {
    if (std::binary_search(members.begin(), members.end(), customer_id)) out.push_back(name);
  }
  return out;
}

StatusOr<std::vector<uint32_t>> ServingGeneration::LookupByField(const std::string& field,
                                                                 const std::string& value) const {
  if (!customers_) return FailedPreconditionError("there are no customers yet: run a refresh first");
  const Column* col = customers_->ColumnByName(field);
  if (col == nullptr) return InvalidArgumentError("field: the Customer entity has no field '" + field + "'");
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const HashIndex> index,
                       field_values_.Get(field, [&]() -> StatusOr<std::shared_ptr<const HashIndex>> {
                         auto m = std::make_shared<HashIndex>();
                         m->entries.reserve(col->size() - col->null_count());
                         for (size_t r = 0; r < col->size(); ++r) {
                           if (!col->IsNull(r)) {
                             m->entries.emplace_back(HashText(FoldLookupValue(col->ValueToString(r))), static_cast<uint32_t>(r));
                           }
                         }
                         std::sort(m->entries.begin(), m->entries.end());
                         return std::shared_ptr<const HashIndex>(std::move(m));
                       }));
  const std::string folded = FoldLookupValue(value);
  std::vector<uint32_t> out;
  auto [b, e] = index->Find(HashText(folded));
  for (auto it = b; it != e; ++it) {
    if (FoldLookupValue(col->ValueToString(it->second)) == folded) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cdp
