// The customer search index: free-text search over configured Customer fields
// (typo-tolerant names, phone and email in any formatting, source keys) with
// filters and exact per-value counts. Xapian is used only inside this module.
// Thread-safety: SearchIndex::Search and Reopen may be called from many threads
// at once; Update is a writer (one at a time per directory; readers keep
// seeing the previous commit until it finishes).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/search_config.h"
#include "table/column.h"

namespace cdp {

// An entity with rows per customer whose fields can be filters, e.g. an
// enrichment ("Enrichment_BrandAffinity": CustomerId, Value, Level, ...).
// A customer may have several rows: the filter's values for that customer
// are the distinct values of the field over its rows (multi-valued, like
// segment membership).
struct RelatedFilterSource {
  std::shared_ptr<const Table> table;        // CustomerId (int64) + fields
  std::vector<std::string> default_filters;  // its fields offered when `search.filters` is empty
};

// Input of an index update: the serving tables already loaded in memory.
struct SearchIndexInput {
  std::shared_ptr<const Table> customers;    // Customer: CustomerId (int64) + profile fields
  std::shared_ptr<const Table> source_keys;  // CustomerSourceKeys: CustomerId, Source, SourceKey (may be null)
  std::map<std::string, std::vector<int64_t>> segment_members;  // segment name -> CustomerIds
  std::map<std::string, RelatedFilterSource> related;           // entity name -> its rows
  int threads = 0;  // threads building documents (and a first build's shards); 0 = one per core
};

// How a free-text field's values are normalized before indexing (and how a
// query is normalized to match them).
enum class SearchFieldKind {
  kText,   // case and accents folded, split into words; typo-tolerant
  kPhone,  // one key per number: E.164 digits ("(555) 123-4567" == "+1 555 123 4567")
  kEmail,  // case-insensitive whole address, plus its local part and the local part's words
};

struct ResolvedSearchField {
  std::string field;  // Customer field name
  SearchFieldKind kind = SearchFieldKind::kText;
  double weight = 1.0;
  bool operator==(const ResolvedSearchField&) const = default;
};

// A multi-valued filter on a field of a related entity; its name is
// "<entity>.<field>", e.g. "Enrichment_BrandAffinity.Value".
struct RelatedFilter {
  std::string name;
  std::string entity;
  std::string field;
  bool operator==(const RelatedFilter&) const = default;
};

// A SearchConfig checked against the Customer schema, with defaults applied.
struct ResolvedSearchConfig {
  std::vector<ResolvedSearchField> fields;
  bool source_keys = false;          // index CustomerSourceKeys.SourceKey
  std::vector<std::string> filters;  // Customer field names; "segment" is always last
  std::vector<RelatedFilter> related_filters;  // in the order configured
  bool operator==(const ResolvedSearchConfig&) const = default;
};

// The name of the segment-membership filter.
inline constexpr std::string_view kSegmentFilter = "segment";

// "<entity>.<field>" for a related entity's filter, split at the first '.'
// (false when `name` has none).
bool SplitRelatedFilter(std::string_view name, std::string* entity, std::string* field);

// Applies the defaults of an empty SearchConfig and checks a configured one.
// Defaults (names matched case-insensitively, semantic types too): text fields
// are person names (FirstName, LastName, FullName, MiddleName, Name), emails
// (Email*, EMail*), phones (Phone*, Telephone*, Mobile*, Cell*), City, Address*,
// Street*; plus the source keys. Filters: State, Gender and one loyalty/tier
// field (a name containing "tier", else "loyalty" not ending in "id"), plus
// "segment", plus each related entity's default_filters. A configured field
// named "SourceKey"/"SourceKeys" that is not a Customer field means the
// source keys. A configured filter "<entity>.<field>" names a field of a
// related entity (`related`).
// Errors (InvalidArgument, naming the field): a configured field or filter
// that is not in `customer` (or in the related entity it names), an unknown
// normalize, a weight <= 0.
StatusOr<ResolvedSearchConfig> ResolveSearchConfig(const SearchConfig& config, const Schema& customer,
                                                   const std::map<std::string, RelatedFilterSource>& related = {});

struct SearchQuery {
  std::string text;  // free text; empty = filters only
  // (field, value): several values of one field = OR, different fields = AND;
  // field "segment" = membership of the named segment; a related filter
  // ("Enrichment_X.Level") matches a customer with a row of that value.
  // Values match exactly.
  std::vector<std::pair<std::string, std::string>> filters;
  size_t offset = 0;
  size_t limit = 20;
  bool facets = true;
  size_t max_facet_values = 0;  // per facet, the most frequent first; 0 = all
};

struct SearchHit {
  int64_t customer_id;
  double score;  // higher is better; 0 for filter-only queries
};

struct FacetValue {
  std::string value;
  int64_t count;
  bool operator==(const FacetValue&) const = default;
};

struct SearchResult {
  int64_t total = 0;  // exact number of matching customers
  std::vector<SearchHit> hits;
  // Per filter field (incl. "segment" and related filters), counts over the
  // matching set (customers, not rows), sorted by count desc then value;
  // values with a zero count are left out.
  std::map<std::string, std::vector<FacetValue>> facets;
};

struct IndexUpdateStats {
  int64_t added = 0, updated = 0, removed = 0, unchanged = 0;
};

namespace search_internal {
class Snapshot;
}

class SearchIndex {
 public:
  ~SearchIndex();
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Builds or incrementally updates the index in `dir` (created if missing) so
  // it matches `input`: customers whose content is unchanged are left alone,
  // changed ones replaced, missing ones deleted, all in one commit at the end
  // (readers see the old index until then). A first build (no index in `dir`)
  // indexes `input.threads` shards of the customers in parallel and compacts
  // them into one index, which appears in `dir` only when complete; it uses
  // dir/.build and dir/.build.lock while it runs. `progress` receives fractions in
  // [0, 1]. Errors: InvalidArgument naming the field for a configured field not
  // in the Customer table, a Customer table without an int64 CustomerId, a null
  // or duplicate CustomerId, a source-keys table without its columns;
  // FailedPrecondition when another writer holds the index; Internal for a
  // Xapian failure.
  static StatusOr<IndexUpdateStats> Update(const std::string& dir, const SearchConfig& config,
                                           const SearchIndexInput& input,
                                           std::function<void(double)> progress = {});

  // Opens the index in `dir` and loads its in-memory parts (typo vocabulary,
  // facet values). NotFound if there is no index; DataLoss if it is corrupt.
  static StatusOr<std::unique_ptr<SearchIndex>> Open(const std::string& dir);

  // Runs a query against the snapshot last opened. Thread-safe. Errors:
  // InvalidArgument for a filter on a field that is not a filter field.
  StatusOr<SearchResult> Search(const SearchQuery& query) const;

  // Picks up the latest commit (no-op when there is none newer). Thread-safe;
  // searches running meanwhile finish on the previous snapshot.
  Status Reopen();

  // The filter fields of the open snapshot: Customer fields, related
  // filters, "segment" last.
  std::vector<std::string> filter_fields() const;
  // Number of indexed customers in the open snapshot.
  int64_t size() const;

 private:
  explicit SearchIndex(std::string dir) : dir_(std::move(dir)) {}
  std::shared_ptr<const search_internal::Snapshot> snapshot() const;
  // Reopen(), callable from Search when its snapshot was overwritten.
  Status Refresh() const;

  const std::string dir_;
  mutable std::mutex reopen_mu_;  // serializes snapshot rebuilds
  mutable std::mutex mu_;        // guards snapshot_
  mutable std::shared_ptr<const search_internal::Snapshot> snapshot_;  // GUARDED_BY(mu_); shared by running searches
};

}  // namespace cdp
