// RecordSet: the profile sources of a unification, as one numbered set of
// records (record = one source row; ids are consecutive per source, in
// unification order), with the attribute mapping of each source and the
// normalized values ("features") that rules compare. A source without
// FirstName/MiddleName/LastName fields but with a FullName gets them from the
// parsed full name. Every value normalization blanks is counted per feature
// and reason (FeatureStats) and explained per record (BlankNote); values held
// by implausibly many records are blanked as placeholders. Immutable once
// built; const methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "config/unify_config.h"
#include "table/column.h"
#include "unify/normalize/normalizer.h"

namespace cdp {

using RecordId = uint32_t;

// One source's rows and how its fields map to unified attributes.
struct ProfileSource {
  std::string name;
  std::string key_field;
  std::shared_ptr<const Table> table;  // shared with the caller, which may keep it
  int key_column = -1;
  // output_names[i]: the unified name of field i (the attribute it is mapped
  // to, or its own name).
  std::vector<std::string> output_names;
  // Column of an attribute in this source, or -1.
  int ColumnOf(std::string_view attribute) const;
};

// Semantic type -> attribute: the part after the last dot ("Person.FirstName" -> "FirstName").
std::string AttributeOfSemantic(std::string_view semantic);

// A (attribute, normalizer chain) pair; each distinct one is computed once.
struct FeatureSpec {
  std::string attribute;
  std::vector<std::string> normalize;
  bool numeric = false;  // date/number comparisons: days since epoch or the number itself
  bool operator==(const FeatureSpec&) const = default;
};

// Normalized string values (or numbers) of one feature for every record.
class FeatureColumn {
 public:
  std::string_view value(RecordId r) const {
    return std::string_view(chars_.data() + offsets_[r], offsets_[r + 1] - offsets_[r]);
  }
  bool empty(RecordId r) const { return offsets_[r] == offsets_[r + 1]; }
  // Numeric features: has_number(r) false when missing.
  bool has_number(RecordId r) const { return !numbers_.empty() && valid_[r]; }
  double number(RecordId r) const { return numbers_[r]; }

 private:
  friend class RecordSet;
  std::vector<uint64_t> offsets_;
  std::string chars_;
  std::vector<double> numbers_;
  std::vector<uint8_t> valid_;
};

// How normalization treated one feature's values (see RecordSet::feature_stats).
struct FeatureStats {
  int64_t values = 0;             // records with a non-blank raw value
  int64_t kept = 0;               // ... whose normalized value is not blank
  int64_t lenient = 0;            // normalized to a lenient form (a phone libphonenumber deems
                                  // invalid), counted before placeholder detection
  int64_t blank_placeholder = 0;  // blanked: a listed placeholder or a dummy a normalizer knows
  int64_t blank_invalid = 0;      // blanked: a normalizer rejected it (too few digits, bad email)
  int64_t blank_frequent = 0;     // blanked: held by placeholder_detection.min_records records or more
  bool frequency_checked = false;  // placeholder detection looked at this feature
  // The values blanked as frequent, with their number of records, most held first.
  std::vector<std::pair<std::string, int64_t>> frequent_values;
  int64_t blanks() const { return blank_placeholder + blank_invalid + blank_frequent; }
};

struct RecordSetOptions {
  NormalizeOptions normalize;
  PlaceholderDetectionConfig placeholder_detection;
  int threads = 0;
};

class RecordSet {
 public:
  // Maps the sources' fields (explicit map, then semantic types, then same
  // name) and checks keys: InvalidArgument naming the source and field for a
  // missing key field, a mapped field that does not exist, or a duplicate or
  // empty key value (with its row).
  static StatusOr<std::unique_ptr<RecordSet>> Build(const std::vector<UnifySourceConfig>& configs,
                                                    std::vector<std::shared_ptr<const Table>> tables,
                                                    const RecordSetOptions& options);

  size_t size() const { return source_of_.size(); }
  size_t num_sources() const { return sources_.size(); }
  const ProfileSource& source(size_t i) const { return sources_[i]; }
  int SourceIndex(std::string_view name) const;
  RecordId first(size_t source) const { return offsets_[source]; }
  RecordId end(size_t source) const { return offsets_[source + 1]; }
  uint16_t source_of(RecordId r) const { return source_of_[r]; }
  size_t row_of(RecordId r) const { return r - offsets_[source_of_[r]]; }
  std::string_view key(RecordId r) const;
  // Record of (source, key), or -1.
  int64_t Find(std::string_view source, std::string_view key) const;
  // "eCommerce Contacts:10001"
  std::string Describe(RecordId r) const;

  // Registers a feature (computed by ComputeFeatures) and returns its index;
  // the same spec twice gives the same index. InvalidArgument when no source
  // has the attribute, or a numeric feature is not a number, date or timestamp.
  StatusOr<int> AddFeature(const FeatureSpec& spec);
  // Computes all registered features not yet computed, on options.threads.
  Status ComputeFeatures();
  const FeatureColumn& feature(int i) const { return *features_[static_cast<size_t>(i)]; }
  const FeatureSpec& feature_spec(int i) const { return feature_specs_[static_cast<size_t>(i)]; }
  int num_features() const { return static_cast<int>(feature_specs_.size()); }
  // The chain for a normalizer list (cached).
  StatusOr<const NormalizerChain*> Chain(const std::vector<std::string>& names);
  const RecordSetOptions& options() const { return options_; }

  // How feature i's values fared (after ComputeFeatures): counts of kept, lenient and blanked
  // values by reason, and the frequent values blanked by placeholder detection.
  const FeatureStats& feature_stats(int i) const { return feature_stats_[static_cast<size_t>(i)]; }
  // Why record r's value of feature i is blank, with the raw value, e.g. "invalid phone, fewer
  // than 7 digits: '12-34'", "placeholder: 'N/A'", "frequent value, held by 812 records:
  // '555-0100'"; "" when the value is not blank or the record has no raw value.
  std::string BlankNote(RecordId r, int feature) const;

  // The raw value of an attribute for a record as text ("" when null or unmapped). FirstName,
  // MiddleName and LastName of a source without such a field but with a FullName are the
  // parts of its parsed full name (ParseFullName).
  std::string RawValue(RecordId r, std::string_view attribute) const;
  // Whether source s takes `attribute` from its FullName field (see RawValue).
  bool DerivedFromFullName(size_t s, std::string_view attribute) const;

  // Feature values whose normalizers include one of these are checked for frequent values:
  // Phone, PhoneDigits, PhoneLast<N>, Email, EmailProvider.
  static bool IdentifierLike(const std::vector<std::string>& normalize);

 private:
  RecordSet() = default;
  Status ComputeFeature(int i);
  // Placeholder detection on a computed feature: blanks the values held by min_records or
  // more records when the feature qualifies (IdentifierLike or a listed attribute).
  Status BlankFrequentValues(int i, FeatureColumn* f);
  // Where source s takes an attribute from: a column, and the part of a parsed full name
  // (0 first, 1 middle, 2 last) or -1 for the column's own value. column -1: nowhere.
  struct AttributeSource {
    int column = -1;
    int name_part = -1;
  };
  AttributeSource Resolve(size_t s, std::string_view attribute) const;
  // The text of an attribute's cell for a row (a full-name part when derived).
  static void AttributeText(const ProfileSource& src, AttributeSource where, size_t row, std::string* out);

  // A blanked value of a feature, for BlankNote.
  struct BlankEntry {
    RecordId record = 0;
    BlankReason reason = BlankReason::kNone;
    int8_t step = -1;       // the chain step that blanked it
    int32_t frequent = -1;  // kFrequent: index in FeatureStats::frequent_values
  };

  RecordSetOptions options_;
  std::vector<ProfileSource> sources_;
  std::vector<RecordId> offsets_;
  std::vector<uint16_t> source_of_;
  std::vector<uint64_t> key_offsets_;
  std::string key_chars_;
  std::vector<std::unordered_map<std::string_view, RecordId>> key_index_;
  std::vector<FeatureSpec> feature_specs_;
  std::vector<std::unique_ptr<FeatureColumn>> features_;
  std::vector<FeatureStats> feature_stats_;
  std::vector<std::vector<BlankEntry>> blanks_;  // per feature, sorted by record
  std::vector<std::pair<std::vector<std::string>, std::unique_ptr<NormalizerChain>>> chains_;
};

}  // namespace cdp
