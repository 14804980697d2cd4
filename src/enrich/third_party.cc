#include "enrich/third_party.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "common/parallel.h"
#include "unify/normalize/normalizer.h"

namespace cdp {

std::string_view ThirdPartyKeyKindName(ThirdPartyKeyKind kind) {
  switch (kind) {
    case ThirdPartyKeyKind::kEmail:
      return "email";
    case ThirdPartyKeyKind::kPhone:
      return "phone";
    case ThirdPartyKeyKind::kAddress:
      return "address";
  }
  return "email";
}

StatusOr<ThirdPartyKeyKind> ParseThirdPartyKeyKind(std::string_view name) {
  for (ThirdPartyKeyKind k :
       {ThirdPartyKeyKind::kEmail, ThirdPartyKeyKind::kPhone, ThirdPartyKeyKind::kAddress}) {
    if (name == ThirdPartyKeyKindName(k)) return k;
  }
  return InvalidArgumentError("third-party match key kind '" + std::string(name.substr(0, 64)) +
                              "' is not one of email, phone, address");
}

std::vector<std::string> DefaultThirdPartyNormalizers(ThirdPartyKeyKind kind) {
  switch (kind) {
    case ThirdPartyKeyKind::kEmail:
      return {"EmailProvider"};
    case ThirdPartyKeyKind::kPhone:
      return {"Phone"};
    case ThirdPartyKeyKind::kAddress:
      return {"Address"};
  }
  return {};
}

std::string MaskKey(std::string_view value, int chars) {
  if (value.empty()) return "";
  size_t end = 0;
  int seen = 0;
  while (end < value.size() && seen < chars) {
    ++end;  // the lead byte, then its continuation bytes
    while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) ++end;
    ++seen;
  }
  return std::string(value.substr(0, end)) + "\xE2\x80\xA6";  // U+2026 HORIZONTAL ELLIPSIS
}

namespace {

constexpr size_t kGrain = 4096;
constexpr size_t kMaxKeys = 16;

// Normalized values and, per value, why it became blank.
struct Normalized {
  std::vector<std::string> keys;
  std::vector<BlankReason> blank;
};

Normalized NormalizeAll(const NormalizerChain& chain, const std::vector<std::string_view>& values,
                        int threads) {
  Normalized out;
  out.keys.resize(values.size());
  out.blank.assign(values.size(), BlankReason::kNone);
  ParallelFor(threads, values.size(), kGrain, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      NormalizeOutcome o = chain.Normalize(values[i], &out.keys[i]);
      out.blank[i] = o.blank;
    }
  });
  return out;
}

}  // namespace

StatusOr<ThirdPartyMatch> MatchThirdParty(const std::vector<ThirdPartyKey>& keys,
                                          const ThirdPartyMatchOptions& options) {
  if (keys.empty())
    return InvalidArgumentError("third-party match: keys is empty (give at least one match key)");
  if (keys.size() > kMaxKeys) {
    return InvalidArgumentError("third-party match: " + std::to_string(keys.size()) + " keys, at most " +
                                std::to_string(kMaxKeys));
  }
  if (options.max_examples < 0 || options.max_examples > 100) {
    return InvalidArgumentError("third-party match option max_examples must be in 0..100, got " +
                                std::to_string(options.max_examples));
  }
  const size_t customers = keys[0].customer_values.size();
  const size_t records = keys[0].record_values.size();
  std::vector<NormalizerChain> chains;
  for (size_t k = 0; k < keys.size(); ++k) {
    const ThirdPartyKey& key = keys[k];
    if (key.name.empty())
      return InvalidArgumentError("third-party match: keys[" + std::to_string(k) + "] has no name");
    if (key.customer_values.size() != customers) {
      return InvalidArgumentError(
          "third-party match key '" + key.name + "': " + std::to_string(key.customer_values.size()) +
          " customer_values, expected " + std::to_string(customers) + " as for key '" + keys[0].name + "'");
    }
    if (key.record_values.size() != records) {
      return InvalidArgumentError(
          "third-party match key '" + key.name + "': " + std::to_string(key.record_values.size()) +
          " record_values, expected " + std::to_string(records) + " as for key '" + keys[0].name + "'");
    }
    NormalizeOptions no;
    no.default_region = options.default_region;
    auto chain = NormalizerChain::Create(
        key.normalizers.empty() ? DefaultThirdPartyNormalizers(key.kind) : key.normalizers, no);
    if (!chain.ok()) return chain.status().WithContext("third-party match key '" + key.name + "'");
    chains.push_back(std::move(chain).value());
  }

  const int threads = ResolveThreads(options.threads);
  ThirdPartyMatch m;
  m.records = static_cast<int64_t>(records);
  m.customers = static_cast<int64_t>(customers);
  m.record_of_customer.assign(customers, -1);
  m.customer_of_record.assign(records, -1);
  m.key_of_record.assign(records, -1);

  constexpr int64_t kNone = -1;
  constexpr int64_t kShared = -2;
  for (size_t k = 0; k < keys.size(); ++k) {
    const ThirdPartyKey& key = keys[k];
    ThirdPartyKeyReport rep;
    rep.name = key.name;
    rep.kind = key.kind;
    rep.normalizers = chains[k].names();

    Normalized cust = NormalizeAll(chains[k], key.customer_values, threads);
    Normalized rec = NormalizeAll(chains[k], key.record_values, threads);

    // Normalized key -> its customer (kNone, or kShared when several hold
    // it) and how many records hold it (all records: a key two records share
    // is ambiguous even when one of them matched earlier). One lookup per
    // row; each record keeps a pointer to its slot (node addresses are stable).
    struct Slot {
      int64_t customer = kNone;
      int64_t records = 0;
    };
    std::unordered_map<std::string_view, Slot> slots;
    slots.reserve(customers + records);
    for (size_t c = 0; c < customers; ++c) {
      const std::string& v = cust.keys[c];
      if (v.empty()) continue;
      ++rep.customers_with_key;
      Slot& s = slots[v];
      if (s.customer == kNone) {
        s.customer = static_cast<int64_t>(c);
      } else if (s.customer != kShared) {
        s.customer = kShared;
        ++rep.shared_customer_keys;
      }
    }
    std::vector<Slot*> slot_of_record(records, nullptr);
    for (size_t r = 0; r < records; ++r) {
      if (rec.keys[r].empty()) continue;
      Slot& s = slots[rec.keys[r]];
      ++s.records;
      slot_of_record[r] = &s;
    }

    for (size_t r = 0; r < records; ++r) {
      if (m.customer_of_record[r] >= 0) continue;
      ++rep.tried;
      const Slot* s = slot_of_record[r];
      if (s == nullptr) {
        ++rep.blank;
        if (rec.blank[r] == BlankReason::kInvalid) ++rep.blank_invalid;
        if (rec.blank[r] == BlankReason::kPlaceholder) ++rep.blank_placeholder;
        continue;
      }
      if (s->records > 1) {
        ++rep.ambiguous_records;
        continue;
      }
      if (s->customer == kNone) {
        ++rep.unmatched;
        if (static_cast<int>(rep.unmatched_examples.size()) < options.max_examples) {
          rep.unmatched_examples.push_back(MaskKey(rec.keys[r]));
        }
        continue;
      }
      if (s->customer == kShared) {
        ++rep.ambiguous_customers;
        continue;
      }
      const size_t c = static_cast<size_t>(s->customer);
      if (m.record_of_customer[c] >= 0) {
        ++rep.taken;
        continue;
      }
      m.record_of_customer[c] = static_cast<int64_t>(r);
      m.customer_of_record[r] = static_cast<int64_t>(c);
      m.key_of_record[r] = static_cast<int32_t>(k);
      ++rep.matched;
    }
    m.matched_records += rep.matched;
    m.keys.push_back(std::move(rep));
  }
  m.matched_customers = m.matched_records;
  m.unmatched_records = m.records - m.matched_records;
  m.match_rate =
      m.records > 0 ? static_cast<double>(m.matched_records) / static_cast<double>(m.records) : 0.0;
  m.customer_coverage =
      m.customers > 0 ? static_cast<double>(m.matched_customers) / static_cast<double>(m.customers) : 0.0;
  return m;
}

}  // namespace cdp
