#include "relate/customer_index.h"

#include <algorithm>

namespace cdp {

StatusOr<CustomerIndex> CustomerIndex::Build(const Table& customer, const Table& source_keys) {
  CustomerIndex ix;
  int idc = customer.schema().FieldIndex("CustomerId");
  if (idc < 0 || customer.schema().field(static_cast<size_t>(idc)).type != DataType::kInt64) {
    return DataLossError("entity Customer has no int64 CustomerId field");
  }
  const Column& ids = customer.column(static_cast<size_t>(idc));
  ix.ids_.reserve(customer.num_rows());
  for (size_t i = 0; i < customer.num_rows(); ++i) ix.ids_.push_back(ids.Int64At(i));
  if (!std::is_sorted(ix.ids_.begin(), ix.ids_.end())) return DataLossError("entity Customer is not in CustomerId order");
  int c = source_keys.schema().FieldIndex("CustomerId"), s = source_keys.schema().FieldIndex("Source"),
      k = source_keys.schema().FieldIndex("SourceKey");
  if (c < 0 || s < 0 || k < 0) return DataLossError("entity CustomerSourceKeys lacks CustomerId, Source or SourceKey");
  const Column& cc = source_keys.column(static_cast<size_t>(c));
  const Column& sc = source_keys.column(static_cast<size_t>(s));
  const Column& kc = source_keys.column(static_cast<size_t>(k));
  for (size_t i = 0; i < source_keys.num_rows(); ++i) {
    int64_t index = ix.IndexOf(cc.Int64At(i));
    if (index < 0) {
      return DataLossError("CustomerSourceKeys row " + std::to_string(i + 1) + " names CustomerId " +
                           std::to_string(cc.Int64At(i)) + ", which is not in Customer");
    }
    ix.lineage_[std::string(sc.StringAt(i))].emplace(std::string(kc.StringAt(i)), static_cast<uint32_t>(index));
  }
  return ix;
}

int64_t CustomerIndex::IndexOf(int64_t customer_id) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), customer_id);
  if (it == ids_.end() || *it != customer_id) return -1;
  return it - ids_.begin();
}

int64_t CustomerIndex::IndexOfRecord(std::string_view source, std::string_view key) const {
  auto s = lineage_.find(source);
  if (s == lineage_.end()) return -1;
  auto k = s->second.find(key);
  return k == s->second.end() ? -1 : static_cast<int64_t>(k->second);
}

std::vector<std::string> CustomerIndex::sources() const {
  std::vector<std::string> out;
  for (const auto& [s, m] : lineage_) out.push_back(s);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cdp
