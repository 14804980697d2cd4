#include "unify/record_set.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/datetime.h"
#include "common/parallel.h"
#include "unify/normalize/full_name.h"

namespace cdp {
namespace {

// Text of a cell for normalization: strings as they are, dates ISO, others as printed.
void CellText(const Column& c, size_t row, std::string* out) {
  out->clear();
  if (c.IsNull(row)) return;
  switch (c.type()) {
    case DataType::kString: out->assign(c.StringAt(row)); return;
    case DataType::kDate: *out = FormatDate(c.DateAt(row)); return;
    default: *out = c.ValueToString(row); return;
  }
}

bool NumericType(DataType t) {
  return t == DataType::kInt64 || t == DataType::kDouble || t == DataType::kDate || t == DataType::kTimestamp;
}

// FirstName, MiddleName, LastName: the part of a parsed full name (0, 1, 2), else -1.
int NamePart(std::string_view attribute) {
  if (attribute == "FirstName") return 0;
  if (attribute == "MiddleName") return 1;
  if (attribute == "LastName") return 2;
  return -1;
}

constexpr std::string_view kFullName = "FullName";

double CellNumber(const Column& c, size_t row) {
  switch (c.type()) {
    case DataType::kInt64: return static_cast<double>(c.Int64At(row));
    case DataType::kDouble: return c.DoubleAt(row);
    case DataType::kDate: return c.DateAt(row);
    case DataType::kTimestamp: return std::floor(static_cast<double>(c.TimestampAt(row)) / 86400e6);
    default: return 0;
  }
}

}  // namespace

std::string AttributeOfSemantic(std::string_view semantic) {
  size_t dot = semantic.rfind('.');
  return std::string(dot == std::string_view::npos ? semantic : semantic.substr(dot + 1));
}

int ProfileSource::ColumnOf(std::string_view attribute) const {
  for (size_t i = 0; i < output_names.size(); ++i) {
    if (output_names[i] == attribute) return static_cast<int>(i);
  }
  return -1;
}

StatusOr<std::unique_ptr<RecordSet>> RecordSet::Build(const std::vector<UnifySourceConfig>& configs,
                                                      std::vector<std::shared_ptr<const Table>> tables,
                                                      const RecordSetOptions& options) {
  if (configs.size() != tables.size()) return InternalError("RecordSet::Build: one table per source expected");
  if (configs.size() > 65535) return InvalidArgumentError("too many unification sources");
  std::unique_ptr<RecordSet> rs(new RecordSet());
  rs->options_ = options;
  rs->offsets_.push_back(0);
  size_t total = 0;
  for (const auto& t : tables) total += t->num_rows();
  if (total >= (1ull << 32) - 1) return InvalidArgumentError("more than 4 billion source records");
  for (size_t s = 0; s < configs.size(); ++s) {
    const UnifySourceConfig& cfg = configs[s];
    ProfileSource src;
    src.name = cfg.source;
    src.key_field = cfg.key;
    src.table = tables[s];
    const Schema& schema = src.table->schema();
    std::string where = "unification source '" + cfg.source + "'";
    src.key_column = schema.FieldIndex(cfg.key);
    if (src.key_column < 0) return InvalidArgumentError(where + ": key field '" + cfg.key + "' does not exist");
    // Output names: explicit map, then semantic type, then the field's own name.
    src.output_names.resize(schema.num_fields());
    std::vector<bool> named(schema.num_fields(), false);
    for (const auto& [attribute, field] : cfg.fields) {
      int i = schema.FieldIndex(field);
      if (i < 0) {
        return InvalidArgumentError(where + ": field '" + field + "' (mapped to attribute '" + attribute +
                                    "') does not exist");
      }
      src.output_names[static_cast<size_t>(i)] = attribute;
      named[static_cast<size_t>(i)] = true;
    }
    auto taken = [&](const std::string& name) {
      for (size_t i = 0; i < named.size(); ++i) {
        if (named[i] && src.output_names[i] == name) return true;
      }
      return false;
    };
    for (size_t i = 0; i < schema.num_fields(); ++i) {
      const Field& f = schema.field(i);
      if (named[i] || f.semantic.empty() || !f.semantic.is_known()) continue;
      std::string a = AttributeOfSemantic(f.semantic.name());
      if (taken(a)) continue;
      src.output_names[i] = a;
      named[i] = true;
    }
    for (size_t i = 0; i < schema.num_fields(); ++i) {
      if (named[i]) continue;
      std::string name = schema.field(i).name;
      // A field whose name is already used by a mapped field keeps a source-qualified name.
      if (taken(name)) name = cfg.source + "." + name;
      src.output_names[i] = name;
      named[i] = true;
    }
    rs->sources_.push_back(std::move(src));
    rs->offsets_.push_back(rs->offsets_.back() + static_cast<RecordId>(tables[s]->num_rows()));
  }
  rs->source_of_.resize(total);
  rs->key_offsets_.reserve(total + 1);
  rs->key_offsets_.push_back(0);
  std::string text;
  for (size_t s = 0; s < rs->sources_.size(); ++s) {
    const ProfileSource& src = rs->sources_[s];
    const Column& kc = src.table->column(static_cast<size_t>(src.key_column));
    for (size_t row = 0; row < src.table->num_rows(); ++row) {
      rs->source_of_[rs->offsets_[s] + row] = static_cast<uint16_t>(s);
      CellText(kc, row, &text);
      if (text.empty()) {
        return InvalidArgumentError("unification source '" + src.name + "': row " + std::to_string(row + 1) +
                                    " has an empty key '" + src.key_field + "'");
      }
      rs->key_chars_ += text;
      rs->key_offsets_.push_back(rs->key_chars_.size());
    }
  }
  rs->key_index_.resize(rs->sources_.size());
  for (size_t s = 0; s < rs->sources_.size(); ++s) {
    auto& index = rs->key_index_[s];
    index.reserve(rs->end(s) - rs->first(s));
    for (RecordId r = rs->first(s); r < rs->end(s); ++r) {
      auto [it, inserted] = index.emplace(rs->key(r), r);
      if (!inserted) {
        return InvalidArgumentError("unification source '" + rs->sources_[s].name + "': key '" +
                                    std::string(rs->key(r)) + "' of field '" + rs->sources_[s].key_field +
                                    "' appears more than once (rows " + std::to_string(it->second - rs->first(s) + 1) +
                                    " and " + std::to_string(r - rs->first(s) + 1) + ")");
      }
    }
  }
  return rs;
}

int RecordSet::SourceIndex(std::string_view name) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view RecordSet::key(RecordId r) const {
  return std::string_view(key_chars_.data() + key_offsets_[r], key_offsets_[r + 1] - key_offsets_[r]);
}

int64_t RecordSet::Find(std::string_view source, std::string_view key) const {
  int s = SourceIndex(source);
  if (s < 0) return -1;
  auto it = key_index_[static_cast<size_t>(s)].find(key);
  return it == key_index_[static_cast<size_t>(s)].end() ? -1 : static_cast<int64_t>(it->second);
}

std::string RecordSet::Describe(RecordId r) const {
  return sources_[source_of(r)].name + ":" + std::string(key(r));
}

RecordSet::AttributeSource RecordSet::Resolve(size_t s, std::string_view attribute) const {
  const ProfileSource& src = sources_[s];
  AttributeSource where;
  where.column = src.ColumnOf(attribute);
  if (where.column >= 0) return where;
  const int part = NamePart(attribute);
  if (part < 0) return where;
  where.column = src.ColumnOf(kFullName);
  if (where.column >= 0) where.name_part = part;
  return where;
}

bool RecordSet::DerivedFromFullName(size_t s, std::string_view attribute) const {
  return Resolve(s, attribute).name_part >= 0;
}

void RecordSet::AttributeText(const ProfileSource& src, AttributeSource where, size_t row, std::string* out) {
  out->clear();
  if (where.column < 0) return;
  CellText(src.table->column(static_cast<size_t>(where.column)), row, out);
  if (where.name_part < 0 || out->empty()) return;
  ParsedName name = ParseFullName(*out);
  switch (where.name_part) {
    case 0: out->swap(name.first); break;
    case 1: out->swap(name.middle); break;
    default: out->swap(name.last); break;
  }
}

std::string RecordSet::RawValue(RecordId r, std::string_view attribute) const {
  std::string out;
  AttributeText(sources_[source_of(r)], Resolve(source_of(r), attribute), row_of(r), &out);
  return out;
}

bool RecordSet::IdentifierLike(const std::vector<std::string>& normalize) {
  for (const std::string& n : normalize) {
    if (n == "Phone" || n == "PhoneDigits" || n.rfind("PhoneLast", 0) == 0 || n == "Email" || n == "EmailProvider") {
      return true;
    }
  }
  return false;
}

std::string RecordSet::BlankNote(RecordId r, int feature) const {
  const auto& list = blanks_[static_cast<size_t>(feature)];
  auto it = std::lower_bound(list.begin(), list.end(), r,
                             [](const BlankEntry& e, RecordId id) { return e.record < id; });
  if (it == list.end() || it->record != r) return "";
  const FeatureSpec& spec = feature_specs_[static_cast<size_t>(feature)];
  std::string what;
  if (it->reason == BlankReason::kFrequent) {
    const auto& fv = feature_stats_[static_cast<size_t>(feature)].frequent_values[static_cast<size_t>(it->frequent)];
    what = "frequent value, held by " + std::to_string(fv.second) + " records";
  } else {
    NormalizeOutcome outcome;
    outcome.blank = it->reason;
    outcome.step = it->step;
    for (const auto& [names, chain] : chains_) {
      if (names == spec.normalize) what = chain->DescribeBlank(outcome);
    }
  }
  return what + ": '" + RawValue(r, spec.attribute) + "'";
}

StatusOr<const NormalizerChain*> RecordSet::Chain(const std::vector<std::string>& names) {
  for (const auto& [n, chain] : chains_) {
    if (n == names) return chain.get();
  }
  CDP_ASSIGN_OR_RETURN(NormalizerChain chain, NormalizerChain::Create(names, options_.normalize));
  chains_.emplace_back(names, std::make_unique<NormalizerChain>(std::move(chain)));
  return chains_.back().second.get();
}

StatusOr<int> RecordSet::AddFeature(const FeatureSpec& spec) {
  for (size_t i = 0; i < feature_specs_.size(); ++i) {
    if (feature_specs_[i] == spec) return static_cast<int>(i);
  }
  bool found = false;
  for (size_t s = 0; s < sources_.size(); ++s) {
    const ProfileSource& src = sources_[s];
    AttributeSource where = Resolve(s, spec.attribute);
    int c = where.column;
    if (c < 0) continue;
    found = true;
    DataType t = src.table->schema().field(static_cast<size_t>(c)).type;
    if (spec.numeric && where.name_part >= 0) {
      return InvalidArgumentError("attribute '" + spec.attribute + "' of source '" + src.name +
                                  "' comes from its full name (field '" +
                                  src.table->schema().field(static_cast<size_t>(c)).name +
                                  "'), but date_within/number_within need a number, date or timestamp");
    }
    if (spec.numeric && !NumericType(t)) {
      return InvalidArgumentError("field '" + src.table->schema().field(static_cast<size_t>(c)).name +
                                  "' of source '" + src.name + "' (attribute '" + spec.attribute + "') is " +
                                  std::string(DataTypeName(t)) +
                                  ", but date_within/number_within need a number, date or timestamp");
    }
  }
  if (!found) {
    std::string list;
    for (const auto& src : sources_) list += (list.empty() ? "" : ", ") + src.name;
    return InvalidArgumentError("attribute '" + spec.attribute + "' is not a field of any unification source (" +
                                list + "); map it with unification.sources[].fields or a semantic type");
  }
  if (!spec.numeric) CDP_RETURN_IF_ERROR(Chain(spec.normalize).status());
  feature_specs_.push_back(spec);
  features_.push_back(nullptr);
  feature_stats_.emplace_back();
  blanks_.emplace_back();
  return static_cast<int>(feature_specs_.size() - 1);
}

Status RecordSet::ComputeFeatures() {
  for (size_t i = 0; i < features_.size(); ++i) {
    if (!features_[i]) CDP_RETURN_IF_ERROR(ComputeFeature(static_cast<int>(i)));
  }
  return Status::Ok();
}

Status RecordSet::ComputeFeature(int index) {
  const FeatureSpec& spec = feature_specs_[static_cast<size_t>(index)];
  auto f = std::make_unique<FeatureColumn>();
  size_t n = size();
  if (spec.numeric) {
    f->numbers_.assign(n, 0);
    f->valid_.assign(n, 0);
  }
  // Numeric features check each value's text against the placeholder list
  // (the empty chain: a dummy date such as 1900-01-01 is no birth date), so a
  // date_within guard or level never sees what an exact one blanks.
  const NormalizerChain* chain = nullptr;
  CDP_ASSIGN_OR_RETURN(chain, Chain(spec.numeric ? std::vector<std::string>{} : spec.normalize));
  std::vector<AttributeSource> where;
  for (size_t s = 0; s < sources_.size(); ++s) where.push_back(Resolve(s, spec.attribute));
  // Morsels normalize into their own arenas; concatenated in order afterwards.
  constexpr size_t kGrain = 16384;
  size_t morsels = (n + kGrain - 1) / kGrain;
  std::vector<std::string> arenas(morsels);
  std::vector<std::vector<uint32_t>> lengths(morsels);
  std::vector<FeatureStats> morsel_stats(morsels);
  std::vector<std::vector<BlankEntry>> morsel_blanks(morsels);
  ParallelFor(options_.threads, n, kGrain, [&](size_t begin, size_t end, int) {
    size_t m = begin / kGrain;
    std::string text, norm;
    auto& arena = arenas[m];
    auto& lens = lengths[m];
    FeatureStats& stats = morsel_stats[m];
    lens.reserve(end - begin);
    for (size_t r = begin; r < end; ++r) {
      RecordId id = static_cast<RecordId>(r);
      const ProfileSource& src = sources_[source_of_[r]];
      const AttributeSource at = where[source_of_[r]];
      size_t row = row_of(id);
      if (spec.numeric) {
        lens.push_back(0);
        if (at.column < 0) continue;
        const Column& col = src.table->column(static_cast<size_t>(at.column));
        if (col.IsNull(row)) continue;
        AttributeText(src, at, row, &text);
        if (const NormalizeOutcome outcome = chain->Normalize(text, &norm); outcome.blank != BlankReason::kNone) {
          morsel_blanks[m].push_back(BlankEntry{id, outcome.blank, outcome.step, -1});
          (outcome.blank == BlankReason::kPlaceholder ? stats.blank_placeholder : stats.blank_invalid) += 1;
          ++stats.values;
          continue;
        }
        f->numbers_[r] = CellNumber(col, row);
        f->valid_[r] = 1;
        ++stats.values;
        ++stats.kept;
        continue;
      }
      AttributeText(src, at, row, &text);
      if (text.empty()) {
        lens.push_back(0);
        continue;
      }
      const NormalizeOutcome outcome = chain->Normalize(text, &norm);
      if (outcome.blank != BlankReason::kNone) {
        morsel_blanks[m].push_back(BlankEntry{id, outcome.blank, outcome.step, -1});
        (outcome.blank == BlankReason::kPlaceholder ? stats.blank_placeholder : stats.blank_invalid) += 1;
      }
      if (!norm.empty() || outcome.blank != BlankReason::kNone) ++stats.values;  // else only blanks
      if (!norm.empty()) {
        ++stats.kept;
        if (outcome.lenient) ++stats.lenient;
      }
      arena += norm;
      lens.push_back(static_cast<uint32_t>(norm.size()));
    }
  });
  FeatureStats& stats = feature_stats_[static_cast<size_t>(index)];
  stats = FeatureStats();
  std::vector<BlankEntry>& blanks = blanks_[static_cast<size_t>(index)];
  blanks.clear();
  size_t chars = 0;
  for (size_t m = 0; m < morsels; ++m) {
    chars += arenas[m].size();
    stats.values += morsel_stats[m].values;
    stats.kept += morsel_stats[m].kept;
    stats.lenient += morsel_stats[m].lenient;
    stats.blank_placeholder += morsel_stats[m].blank_placeholder;
    stats.blank_invalid += morsel_stats[m].blank_invalid;
    blanks.insert(blanks.end(), morsel_blanks[m].begin(), morsel_blanks[m].end());
  }
  f->chars_.reserve(chars);
  f->offsets_.reserve(n + 1);
  f->offsets_.push_back(0);
  for (size_t m = 0; m < morsels; ++m) {
    f->chars_ += arenas[m];
    for (uint32_t len : lengths[m]) f->offsets_.push_back(f->offsets_.back() + len);
    std::string().swap(arenas[m]);
  }
  if (!spec.numeric) CDP_RETURN_IF_ERROR(BlankFrequentValues(index, f.get()));
  features_[static_cast<size_t>(index)] = std::move(f);
  return Status::Ok();
}

Status RecordSet::BlankFrequentValues(int index, FeatureColumn* f) {
  const FeatureSpec& spec = feature_specs_[static_cast<size_t>(index)];
  const PlaceholderDetectionConfig& detect = options_.placeholder_detection;
  if (!detect.enabled) return Status::Ok();
  const bool listed =
      std::find(detect.attributes.begin(), detect.attributes.end(), spec.attribute) != detect.attributes.end();
  if (!listed && !IdentifierLike(spec.normalize)) return Status::Ok();
  FeatureStats& stats = feature_stats_[static_cast<size_t>(index)];
  stats.frequency_checked = true;
  const size_t n = size();
  const uint64_t min_records = static_cast<uint64_t>(std::max<int64_t>(detect.min_records, 2));
  if (static_cast<uint64_t>(stats.kept) < min_records) return Status::Ok();
  // Hashes of the kept values, sorted: runs of min_records or more name candidate values
  // (8 bytes per value instead of a hash map of every distinct value).
  std::vector<uint64_t> hashes;
  hashes.reserve(static_cast<size_t>(stats.kept));
  for (size_t r = 0; r < n; ++r) {
    std::string_view v = f->value(static_cast<RecordId>(r));
    if (!v.empty()) hashes.push_back(XXH3_64bits(v.data(), v.size()));
  }
  std::sort(hashes.begin(), hashes.end());
  std::vector<uint64_t> heavy;
  for (size_t i = 0; i < hashes.size();) {
    size_t j = i;
    while (j < hashes.size() && hashes[j] == hashes[i]) ++j;
    if (j - i >= min_records) heavy.push_back(hashes[i]);
    i = j;
  }
  std::vector<uint64_t>().swap(hashes);
  if (heavy.empty()) return Status::Ok();
  // Exact counts of the values behind those hashes (a hash collision only adds a candidate).
  std::unordered_map<std::string_view, uint32_t> counts;
  for (size_t r = 0; r < n; ++r) {
    std::string_view v = f->value(static_cast<RecordId>(r));
    if (!v.empty() && std::binary_search(heavy.begin(), heavy.end(), XXH3_64bits(v.data(), v.size()))) ++counts[v];
  }
  std::vector<std::pair<std::string_view, uint32_t>> frequent;
  for (const auto& [value, count] : counts) {
    if (count >= min_records) frequent.emplace_back(value, count);
  }
  if (frequent.empty()) return Status::Ok();
  std::sort(frequent.begin(), frequent.end(),
            [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  // Keys point into f->chars_, which stays until the rebuilt column replaces it.
  std::unordered_map<std::string_view, int32_t> index_of;
  for (size_t i = 0; i < frequent.size(); ++i) {
    stats.frequent_values.emplace_back(std::string(frequent[i].first), frequent[i].second);
    index_of.emplace(frequent[i].first, static_cast<int32_t>(i));
  }
  // Rebuild the column without them.
  std::vector<BlankEntry> added;
  std::string chars;
  std::vector<uint64_t> offsets;
  chars.reserve(f->chars_.size());
  offsets.reserve(n + 1);
  offsets.push_back(0);
  for (size_t r = 0; r < n; ++r) {
    const RecordId id = static_cast<RecordId>(r);
    std::string_view v = f->value(id);
    if (!v.empty()) {
      auto it = index_of.find(v);
      if (it != index_of.end()) {
        added.push_back(BlankEntry{id, BlankReason::kFrequent, -1, it->second});
        v = {};
      }
    }
    chars.append(v);
    offsets.push_back(chars.size());
  }
  f->chars_.swap(chars);
  f->offsets_.swap(offsets);
  stats.blank_frequent = static_cast<int64_t>(added.size());
  stats.kept -= stats.blank_frequent;
  // Frequent values were kept by the chain, so no record is in both lists.
  std::vector<BlankEntry>& blanks = blanks_[static_cast<size_t>(index)];
  std::vector<BlankEntry> merged;
  merged.reserve(blanks.size() + added.size());
  std::merge(blanks.begin(), blanks.end(), added.begin(), added.end(), std::back_inserter(merged),
             [](const BlankEntry& a, const BlankEntry& b) { return a.record < b.record; });
  blanks.swap(merged);
  return Status::Ok();
}

}  // namespace cdp
