// One committed revision of the search index, opened for reading: a pool of
// Xapian::Database handles all pinned to that revision (a Database is not
// thread-safe, so each running search leases its own), plus the in-memory
// parts built at load: customer id and filter values per document (for hits
// and exact facet counts) and the typo vocabulary. Thread-safe.
#pragma once

#include <xapian.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "search/internal/analyzer.h"
#include "search/internal/typo_vocabulary.h"
#include "search/search_index.h"

namespace cdp::search_internal {

// The values of one filter field over the documents of a snapshot.
struct FacetValues {
  std::string field;
  std::vector<std::string> values;  // value id -> value
  std::unordered_map<std::string, uint32_t> ids;
  // Single-valued fields: of_doc[docid] = value id + 1 (0: no value).
  std::vector<uint32_t> of_doc;
  // Multi-valued ("segment", related filters): value ids of docid are ids[offsets[docid] .. offsets[docid + 1]).
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> multi;
  std::vector<int64_t> all_counts;  // counts over every document
  std::vector<std::vector<Xapian::docid>> postings;  // value id -> its documents, ascending
  bool multi_valued() const { return !offsets.empty(); }

  uint32_t Intern(const std::string& v);
};

class Snapshot {
 public:
  // Loads the latest revision in `dir`. NotFound if there is no index there.
  // `db` (optional) is an already opened handle to use.
  static StatusOr<std::shared_ptr<const Snapshot>> Load(const std::string& dir,
                                                        std::unique_ptr<Xapian::Database> db = nullptr);
  ~Snapshot();

  // Throws Xapian::Error (DatabaseModifiedError when the revision was
  // overwritten by later commits: the caller reloads and retries).
  StatusOr<SearchResult> Search(const SearchQuery& query) const;

  Xapian::rev revision() const { return revision_; }
  int64_t doc_count() const { return doc_count_; }
  std::vector<std::string> filter_fields() const;

  const Analyzer& analyzer() const { return *analyzer_; }

  // A handle pinned to revision(); returned to the pool by Release().
  std::unique_ptr<Xapian::Database> Acquire() const;
  void Release(std::unique_ptr<Xapian::Database> db) const;

 private:
  friend class FacetSpy;
  explicit Snapshot(std::string dir) : dir_(std::move(dir)) {}

  // Filter-only queries never touch Xapian: the in-memory postings answer them.
  SearchResult FilterOnly(const std::vector<std::pair<size_t, std::vector<std::string>>>& filters,
                          const SearchQuery& query) const;
  // Facet counts of `counts` (per facet, per value id) as a result.
  void SetFacets(const std::vector<std::vector<int64_t>>* counts, const SearchQuery& query, SearchResult* r) const;
  Xapian::Query TextQuery(const std::string& text) const;
  Xapian::Query TokenQuery(const std::string& token, bool last) const;
  Xapian::Query WordQuery(const std::string& word, bool prefix) const;

  // Adds document d's filter values to counts[facet][value id].
  void CountDoc(Xapian::docid d, std::vector<std::vector<int64_t>>* counts) const;
  // Whether document d holds a value of facet f with ok[value id] set.
  bool Holds(size_t f, const std::vector<uint8_t>& ok, Xapian::docid d) const;

  const std::string dir_;
  const Analyzer* analyzer_ = nullptr;
  Xapian::rev revision_ = 0;
  int64_t doc_count_ = 0;
  std::vector<int64_t> customer_of_doc_;  // docid -> CustomerId
  std::vector<Xapian::docid> docs_;       // every docid, ascending
  std::vector<FacetValues> facets_;       // filter fields, related filters, then "segment"
  size_t singles_ = 0;                    // facets_[0, singles_) are single-valued
  // The filter values of each document side by side (one cache line per
  // document when counting or checking): record d is packed_[d * stride_ ...]:
  // the single-valued facets' value id + 1, then, when there are at most 64
  // segments, the segment bitmask as two words (else facets_.back()'s CSR).
  size_t stride_ = 0;
  bool segment_mask_ = false;
  std::vector<uint32_t> packed_;
  TypoVocabulary vocabulary_;

  mutable std::mutex pool_mu_;
  mutable std::condition_variable pool_cv_;
  mutable std::vector<std::unique_ptr<Xapian::Database>> pool_;  // GUARDED_BY(pool_mu_): idle handles
  mutable size_t handles_ = 0;                                   // GUARDED_BY(pool_mu_): idle + leased
};

// The Analyzer shared by the writer and every snapshot.
const Analyzer& SharedAnalyzer();

}  // namespace cdp::search_internal
