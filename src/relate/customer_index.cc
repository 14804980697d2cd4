#include "relate/customer_index.h"

#include <algorithm>
#include <functional>
#include <map>

namespace cdp {
namespace {

size_t HashKey(std::string_view key) { return std::hash<std::string_view>()(key); }

}  // namespace

CustomerIndex::CustomerIndex() {
  static const std::shared_ptr<const Data> empty = std::make_shared<const Data>();
  d_ = empty;
}

int64_t CustomerIndex::SourceKeys::Find(std::string_view key) const {
  if (slots.empty()) return -1;
  const size_t mask = slots.size() - 1;
  for (size_t s = HashKey(key) & mask;; s = (s + 1) & mask) {
    uint32_t e = slots[s];
    if (e == 0) return -1;
    const Entry& en = entries[e - 1];
    if (en.length == key.size() && std::string_view(arena.data() + en.offset, en.length) == key) return en.customer;
  }
}

StatusOr<CustomerIndex> CustomerIndex::Build(const Table& customer, const Table& source_keys) {
  auto d = std::make_shared<Data>();
  int idc = customer.schema().FieldIndex("CustomerId");
  if (idc < 0 || customer.schema().field(static_cast<size_t>(idc)).type != DataType::kInt64) {
    return DataLossError("entity Customer has no int64 CustomerId field");
  }
  const Column& ids = customer.column(static_cast<size_t>(idc));
  d->ids.reserve(customer.num_rows());
  for (size_t i = 0; i < customer.num_rows(); ++i) d->ids.push_back(ids.Int64At(i));
  if (!std::is_sorted(d->ids.begin(), d->ids.end())) return DataLossError("entity Customer is not in CustomerId order");
  if (d->ids.size() >= UINT32_MAX) return DataLossError("entity Customer has too many rows");
  int c = source_keys.schema().FieldIndex("CustomerId"), s = source_keys.schema().FieldIndex("Source"),
      k = source_keys.schema().FieldIndex("SourceKey");
  if (c < 0 || s < 0 || k < 0) return DataLossError("entity CustomerSourceKeys lacks CustomerId, Source or SourceKey");
  const Column& cc = source_keys.column(static_cast<size_t>(c));
  const Column& sc = source_keys.column(static_cast<size_t>(s));
  const Column& kc = source_keys.column(static_cast<size_t>(k));

  // Entries per source, in row order (so the first of a duplicate wins).
  std::map<std::string, size_t, std::less<>> source_of;
  std::vector<SourceKeys> sources;
  const size_t n = source_keys.num_rows();
  for (size_t i = 0; i < n; ++i) {
    int64_t cid = cc.IsNull(i) ? 0 : cc.Int64At(i);
    auto it = std::lower_bound(d->ids.begin(), d->ids.end(), cid);
    if (cc.IsNull(i) || it == d->ids.end() || *it != cid) {
      return DataLossError("CustomerSourceKeys row " + std::to_string(i + 1) + " names CustomerId " +
                           (cc.IsNull(i) ? std::string("(null)") : std::to_string(cid)) + ", which is not in Customer");
    }
    std::string_view source = sc.IsNull(i) ? std::string_view() : sc.StringAt(i);
    auto [at, fresh] = source_of.try_emplace(std::string(source), sources.size());
    if (fresh) sources.emplace_back().name = std::string(source);
    SourceKeys& sk = sources[at->second];
    std::string_view key = kc.IsNull(i) ? std::string_view() : kc.StringAt(i);
    if (key.size() >= UINT32_MAX) return DataLossError("CustomerSourceKeys row " + std::to_string(i + 1) + ": key too long");
    sk.entries.push_back(Entry{sk.arena.size(), static_cast<uint32_t>(key.size()),
                               static_cast<uint32_t>(it - d->ids.begin())});
    sk.arena.append(key);
  }
  for (SourceKeys& sk : sources) {
    if (sk.entries.size() >= UINT32_MAX / 2) return DataLossError("CustomerSourceKeys has too many rows");
    size_t cap = 16;
    while (cap < 2 * sk.entries.size()) cap <<= 1;
    sk.slots.assign(cap, 0);
    const size_t mask = cap - 1;
    std::vector<Entry> kept;
    kept.reserve(sk.entries.size());
    for (const Entry& en : sk.entries) {
      std::string_view key(sk.arena.data() + en.offset, en.length);
      size_t s = HashKey(key) & mask;
      bool duplicate = false;
      for (; sk.slots[s] != 0; s = (s + 1) & mask) {
        const Entry& other = kept[sk.slots[s] - 1];
        if (other.length == en.length && std::string_view(sk.arena.data() + other.offset, other.length) == key) {
          duplicate = true;
          break;
        }
      }
      if (duplicate) continue;
      kept.push_back(en);
      sk.slots[s] = static_cast<uint32_t>(kept.size());
    }
    sk.entries = std::move(kept);
    sk.entries.shrink_to_fit();
  }
  std::sort(sources.begin(), sources.end(), [](const SourceKeys& a, const SourceKeys& b) { return a.name < b.name; });
  d->sources = std::move(sources);
  CustomerIndex ix;
  ix.d_ = std::move(d);
  return ix;
}

int64_t CustomerIndex::IndexOf(int64_t customer_id) const {
  const std::vector<int64_t>& ids = d_->ids;
  auto it = std::lower_bound(ids.begin(), ids.end(), customer_id);
  if (it == ids.end() || *it != customer_id) return -1;
  return it - ids.begin();
}

int64_t CustomerIndex::IndexOfRecord(std::string_view source, std::string_view key) const {
  const auto& sources = d_->sources;
  auto it = std::lower_bound(sources.begin(), sources.end(), source,
                             [](const SourceKeys& s, std::string_view name) { return s.name < name; });
  if (it == sources.end() || it->name != source) return -1;
  return it->Find(key);
}

std::vector<std::string> CustomerIndex::sources() const {
  std::vector<std::string> out;
  for (const auto& s : d_->sources) out.push_back(s.name);
  return out;
}

size_t CustomerIndex::memory_bytes() const {
  size_t b = d_->ids.capacity() * sizeof(int64_t);
  for (const auto& s : d_->sources) {
    b += s.arena.capacity() + s.entries.capacity() * sizeof(Entry) + s.slots.capacity() * sizeof(uint32_t);
  }
  return b;
}

}  // namespace cdp
