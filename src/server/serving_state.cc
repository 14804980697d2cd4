#include "server/serving_state.h"

#include <thread>

#include <algorithm>
#include <chrono>
#include <cctype>

#include "catalog/catalog.h"
#include "common/entity_names.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace cdp {
namespace {

std::string RecordKey(std::string_view source, std::string_view key) {
  std::string k(source);
  k.push_back('\x1f');
  k.append(key);
  return k;
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

void RowsByCustomer::Build(const Table& table, const std::string& id_field,
                           const std::unordered_map<int64_t, uint32_t>& index_of) {
  offsets_.assign(index_of.size() + 1, 0);
  rows_.clear();
  const Column* ids = table.ColumnByName(id_field);
  if (ids == nullptr || ids->type() != DataType::kInt64) return;
  std::vector<int64_t> owner(table.num_rows(), -1);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    if (ids->IsNull(r)) continue;
    auto it = index_of.find(ids->Int64At(r));
    if (it == index_of.end()) continue;
    owner[r] = it->second;
    ++offsets_[it->second + 1];
  }
  for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
  rows_.resize(offsets_.back());
  std::vector<uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (size_t r = 0; r < table.num_rows(); ++r) {
    if (owner[r] >= 0) rows_[fill[static_cast<size_t>(owner[r])]++] = static_cast<uint32_t>(r);
  }
}

std::pair<const uint32_t*, const uint32_t*> RowsByCustomer::rows(uint32_t index) const {
  if (index + 1 >= offsets_.size()) return {nullptr, nullptr};
  return {rows_.data() + offsets_[index], rows_.data() + offsets_[index + 1]};
}

StatusOr<std::shared_ptr<const ServingGeneration>> ServingGeneration::Load(Workspace& workspace,
                                                                          const Snapshot& snapshot,
                                                                          const ProjectConfig& project) {
  std::shared_ptr<ServingGeneration> g(new ServingGeneration());
  g->workspace_ = &workspace;
  g->snapshot_ = snapshot;
  g->project_ = project;
  g->loaded_at_ = NowMicros();
  for (const auto& [name, info] : snapshot.entities) {
    CDP_ASSIGN_OR_RETURN(auto reader, workspace.data().OpenEntity(snapshot, name));
    g->readers_[name] = std::shared_ptr<ColumnFileReader>(std::move(reader));
  }
  auto load = [&](const std::string& name) -> StatusOr<std::shared_ptr<const Table>> {
    if (!g->readers_.count(name)) return std::shared_ptr<const Table>();
    return g->Entity(name);
  };
  CDP_ASSIGN_OR_RETURN(g->customers_, load(std::string(kCustomerEntity)));
  if (g->customers_) {
    const Column* ids = g->customers_->ColumnByName("CustomerId");
    if (ids == nullptr || ids->type() != DataType::kInt64) {
      return DataLossError("entity Customer lacks an integer CustomerId field");
    }
    g->customer_ids_ = ids;
    g->index_of_.reserve(ids->size());
    for (size_t r = 0; r < ids->size(); ++r) g->index_of_.emplace(ids->Int64At(r), static_cast<uint32_t>(r));
  }
  CDP_ASSIGN_OR_RETURN(g->measures_, load(std::string(kCustomerMeasureEntity)));
  g->measure_row_.assign(g->index_of_.size(), -1);
  if (g->measures_) {
    const Column* ids = g->measures_->ColumnByName("CustomerId");
    for (size_t r = 0; ids != nullptr && r < ids->size(); ++r) {
      if (ids->IsNull(r)) continue;
      auto it = g->index_of_.find(ids->Int64At(r));
      if (it != g->index_of_.end()) g->measure_row_[it->second] = static_cast<int32_t>(r);
    }
  }
  CDP_ASSIGN_OR_RETURN(g->source_keys_, load(std::string(kSourceKeysEntity)));
  if (g->source_keys_) {
    g->source_keys_by_customer_.Build(*g->source_keys_, "CustomerId", g->index_of_);
    const Column* ids = g->source_keys_->ColumnByName("CustomerId");
    const Column* src = g->source_keys_->ColumnByName("Source");
    const Column* key = g->source_keys_->ColumnByName("SourceKey");
    if (ids && src && key) {
      g->record_owner_.reserve(ids->size());
      for (size_t r = 0; r < ids->size(); ++r) {
        auto it = g->index_of_.find(ids->Int64At(r));
        if (it != g->index_of_.end()) g->record_owner_.emplace(RecordKey(src->StringAt(r), key->StringAt(r)), it->second);
      }
    }
  }
  CDP_ASSIGN_OR_RETURN(g->match_pairs_, load(std::string(kMatchPairsEntity)));
  if (g->match_pairs_) g->match_pairs_by_customer_.Build(*g->match_pairs_, "CustomerId", g->index_of_);
  CDP_ASSIGN_OR_RETURN(g->activities_, load(std::string(kUnifiedActivityEntity)));
  if (g->activities_) g->activities_by_customer_.Build(*g->activities_, "CustomerId", g->index_of_);
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
    warm.emplace_back([&g, name = source.source] { (void)g->SourceRow(name, ""); });
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

std::optional<uint32_t> ServingGeneration::IndexOf(int64_t customer_id) const {
  auto it = index_of_.find(customer_id);
  if (it == index_of_.end()) return std::nullopt;
  return it->second;
}

int64_t ServingGeneration::CustomerIdAt(uint32_t index) const {
  return customer_ids_->Int64At(index);
}

std::optional<uint32_t> ServingGeneration::MeasureRowOf(uint32_t customer_index) const {
  if (customer_index >= measure_row_.size() || measure_row_[customer_index] < 0) return std::nullopt;
  return static_cast<uint32_t>(measure_row_[customer_index]);
}

std::optional<uint32_t> ServingGeneration::CustomerOfRecord(const std::string& source, const std::string& key) const {
  auto it = record_owner_.find(RecordKey(source, key));
  if (it == record_owner_.end()) return std::nullopt;
  return it->second;
}

StatusOr<std::optional<uint32_t>> ServingGeneration::SourceRow(const std::string& source, const std::string& key) const {
  using KeyRows = std::unordered_map<std::string, uint32_t>;
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const KeyRows> rows,
                       source_key_rows_.Get(source, [&]() -> StatusOr<std::shared_ptr<const KeyRows>> {
                         CDP_ASSIGN_OR_RETURN(auto table, Entity(source));
                         std::string key_field = project_.KeyOf(source);
                         const Column* keys = key_field.empty() ? nullptr : table->ColumnByName(key_field);
                         auto m = std::make_shared<KeyRows>();
                         if (keys != nullptr) {
                           m->reserve(table->num_rows());
                           for (size_t r = 0; r < table->num_rows(); ++r) {
                             if (!keys->IsNull(r)) m->emplace(keys->ValueToString(r), static_cast<uint32_t>(r));
                           }
                         }
                         return std::shared_ptr<const KeyRows>(std::move(m));
                       }));
  auto it = rows->find(key);
  if (it == rows->end()) return std::optional<uint32_t>();
  return std::optional<uint32_t>(it->second);
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
  using ValueRows = std::unordered_multimap<std::string, uint32_t>;
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const ValueRows> index,
                       field_values_.Get(field, [&]() -> StatusOr<std::shared_ptr<const ValueRows>> {
                         auto m = std::make_shared<ValueRows>();
                         m->reserve(col->size());
                         for (size_t r = 0; r < col->size(); ++r) {
                           if (!col->IsNull(r)) m->emplace(FoldLookupValue(col->ValueToString(r)), static_cast<uint32_t>(r));
                         }
                         return std::shared_ptr<const ValueRows>(std::move(m));
                       }));
  std::vector<uint32_t> out;
  auto [b, e] = index->equal_range(FoldLookupValue(value));
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cdp
