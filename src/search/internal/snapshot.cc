#include "search/internal/snapshot.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "common/text.h"
#include "search/internal/index_format.h"

namespace cdp::search_internal {

namespace {

// Query scales: an exact word counts wdf * 1, a completion of the last word
// half, a typo a fraction (so exact matches rank above fuzzy ones).
constexpr double kCompletionScale = 0.5;
constexpr double kTypoScale[3] = {1.0, 0.3, 0.15};
constexpr size_t kMaxTypoCandidates = 8;
constexpr size_t kMaxCompletions = 10;
constexpr size_t kMinCompletionPrefix = 2;

Xapian::Query Scaled(Xapian::Query q, double scale) {
  if (scale == 1.0) return q;
  return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, scale);
}

// Empty parts (Xapian's MatchNothing) are left out of an OR; Callers never
// pass one to an AND. No parts: the empty query.
Xapian::Query Combine(Xapian::Query::op op, const std::vector<Xapian::Query>& parts) {
  std::vector<Xapian::Query> kept;
  for (const auto& p : parts) {
    if (!p.empty()) kept.push_back(p);
  }
  if (kept.empty()) return Xapian::Query();
  if (kept.size() == 1) return kept[0];
  return Xapian::Query(op, kept.begin(), kept.end());
}

bool HasDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// Counts the filter values of every matching document (Enquire calls it for
// each document it considers; with check_at_least = all documents that is the
// whole matching set).
class FacetSpy : public Xapian::MatchSpy {
 public:
  explicit FacetSpy(const Snapshot& s) : s_(s) {
    counts_.resize(s.facets_.size());
    for (size_t f = 0; f < s.facets_.size(); ++f) counts_[f].assign(s.facets_[f].values.size(), 0);
  }
  void operator()(const Xapian::Document& doc, double) override { Count(doc.get_docid()); }
  void Count(Xapian::docid did) { s_.CountDoc(did, &counts_); }
  const std::vector<std::vector<int64_t>>& counts() const { return counts_; }

 private:
  const Snapshot& s_;
  std::vector<std::vector<int64_t>> counts_;
};

const Analyzer& SharedAnalyzer() {
  static const Analyzer* analyzer = [] {
    StatusOr<Analyzer> a = Analyzer::Create();
    if (!a.ok()) std::abort();  // fixed normalizer names: cannot fail
    return new Analyzer(std::move(a).value());
  }();
  return *analyzer;
}

Status FromXapian(const Xapian::Error& e, std::string_view what) {
  std::string msg = std::string(what) + ": " + e.get_type() + ": " + e.get_msg();
  // Xapian::Error has no virtual functions (no dynamic_cast): its type name says.
  std::string_view type = e.get_type();
  if (type == "DatabaseLockError") return FailedPreconditionError(msg + " (another index update is running)");
  if (type == "DatabaseCorruptError") return DataLossError(msg);
  if (type == "DatabaseNotFoundError") return NotFoundError(msg);
  return InternalError(msg);
}

uint32_t FacetValues::Intern(const std::string& v) {
  auto [it, inserted] = ids.emplace(v, static_cast<uint32_t>(values.size()));
  if (inserted) {
    values.push_back(v);
    all_counts.push_back(0);
  }
  return it->second;
}

Snapshot::~Snapshot() = default;

StatusOr<std::shared_ptr<const Snapshot>> Snapshot::Load(const std::string& dir,
                                                         std::unique_ptr<Xapian::Database> db) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return NotFoundError("no search index in " + dir);
  std::shared_ptr<Snapshot> s(new Snapshot(dir));
  s->analyzer_ = &SharedAnalyzer();
  try {
    if (!db) db = std::make_unique<Xapian::Database>(dir);
  } catch (const Xapian::DatabaseOpeningError& e) {
    return NotFoundError("no search index in " + dir + " (" + e.get_msg() + ")");
  }
  // Xapian errors below are left to the caller (it converts them).
  s->revision_ = db->get_revision();
  s->doc_count_ = db->get_doccount();
  Xapian::docid last = db->get_lastdocid();
  s->customer_of_doc_.assign(static_cast<size_t>(last) + 1, 0);
  for (auto it = db->valuestream_begin(kKeySlot); it != db->valuestream_end(kKeySlot); ++it) {
    int64_t id;
    uint64_t hash;
    if (DecodeKey(*it, &id, &hash)) {
      s->customer_of_doc_[it.get_docid()] = id;
      s->docs_.push_back(it.get_docid());
    }
  }

  auto names = [&](std::string_view key) {
    std::vector<std::string> out;
    std::string list = db->get_metadata(std::string(key));
    size_t pos = 0;
    while (pos < list.size()) {
      size_t nl = list.find('\n', pos);
      if (nl == std::string::npos) nl = list.size();
      if (nl > pos) out.push_back(list.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return out;
  };
  const std::vector<std::string> singles_names = names(kMetaFilters);
  const std::vector<std::string> related_names = names(kMetaRelatedFilters);
  for (size_t f = 0; f < singles_names.size(); ++f) {
    FacetValues& fv = s->facets_.emplace_back();
    fv.field = singles_names[f];
    fv.of_doc.assign(static_cast<size_t>(last) + 1, 0);
    Xapian::valueno slot = kFirstFilterSlot + static_cast<Xapian::valueno>(f);
    for (auto it = db->valuestream_begin(slot); it != db->valuestream_end(slot); ++it) {
      uint32_t id = fv.Intern(*it);
      fv.of_doc[it.get_docid()] = id + 1;
      ++fv.all_counts[id];
    }
  }
  // A multi-valued facet from a slot of values joined by kListSeparator.
  auto load_multi = [&](const std::string& field, Xapian::valueno slot) {
    FacetValues fv;
    fv.field = field;
    fv.offsets.assign(static_cast<size_t>(last) + 2, 0);
    Xapian::docid next = 0;  // offsets[0..next] are filled
    for (auto it = db->valuestream_begin(slot); it != db->valuestream_end(slot); ++it) {
      Xapian::docid did = it.get_docid();
      while (next < did) fv.offsets[++next] = static_cast<uint32_t>(fv.multi.size());
      const std::string v = *it;
      size_t p = 0;
      while (p <= v.size()) {
        size_t e = v.find(kListSeparator, p);
        if (e == std::string::npos) e = v.size();
        if (e > p) {
          uint32_t id = fv.Intern(v.substr(p, e - p));
          fv.multi.push_back(id);
          ++fv.all_counts[id];
        }
        p = e + 1;
      }
      fv.offsets[++next] = static_cast<uint32_t>(fv.multi.size());
    }
    while (next + 1 < fv.offsets.size()) fv.offsets[++next] = static_cast<uint32_t>(fv.multi.size());
    s->facets_.push_back(std::move(fv));
  };
  for (size_t f = 0; f < related_names.size(); ++f) {
    load_multi(related_names[f], kFirstFilterSlot + static_cast<Xapian::valueno>(singles_names.size() + f));
  }
  load_multi(std::string(kSegmentFilter), kSegmentSlot);
  const size_t singles = singles_names.size();
  s->singles_ = singles;
  s->segment_mask_ = s->facets_.back().values.size() <= 64;
  s->stride_ = singles + (s->segment_mask_ ? 2 : 0);
  s->packed_.assign(s->stride_ * (static_cast<size_t>(last) + 1), 0);
  for (Xapian::docid d : s->docs_) {
    uint32_t* rec = &s->packed_[d * s->stride_];
    for (size_t f = 0; f < singles; ++f) rec[f] = s->facets_[f].of_doc[d];
    if (s->segment_mask_) {
      const FacetValues& sg = s->facets_.back();
      uint64_t mask = 0;
      for (uint32_t k = sg.offsets[d]; k < sg.offsets[d + 1]; ++k) mask |= uint64_t{1} << sg.multi[k];
      rec[singles] = static_cast<uint32_t>(mask);
      rec[singles + 1] = static_cast<uint32_t>(mask >> 32);
    }
  }
  for (FacetValues& fv : s->facets_) {
    fv.postings.resize(fv.values.size());
    for (size_t v = 0; v < fv.values.size(); ++v) fv.postings[v].reserve(static_cast<size_t>(fv.all_counts[v]));
    for (Xapian::docid d : s->docs_) {
      if (fv.multi_valued()) {
        for (uint32_t k = fv.offsets[d]; k < fv.offsets[d + 1]; ++k) fv.postings[fv.multi[k]].push_back(d);
      } else if (fv.of_doc[d] != 0) {
        fv.postings[fv.of_doc[d] - 1].push_back(d);
      }
    }
  }

  // Vocabulary for typos and completions: the words of text fields (unprefixed
  // terms start at 'a'; capital letters are prefixes), without digits.
  Xapian::TermIterator t = db->allterms_begin();
  t.skip_to("a");
  for (; t != db->allterms_end(); ++t) {
    const std::string term = *t;
    if (term.size() < 3 || HasDigit(term)) continue;
    s->vocabulary_.Add(term, t.get_termfreq());
  }
  s->vocabulary_.Finish();

  s->handles_ = 1;
  s->pool_.push_back(std::move(db));
  return std::shared_ptr<const Snapshot>(std::move(s));
}

void Snapshot::CountDoc(Xapian::docid d, std::vector<std::vector<int64_t>>* counts) const {
  if (static_cast<size_t>(d) * stride_ >= packed_.size() && stride_ > 0) return;
  const uint32_t* rec = packed_.data() + static_cast<size_t>(d) * stride_;
  for (size_t f = 0; f < singles_; ++f) {
    if (rec[f]) ++(*counts)[f][rec[f] - 1];
  }
  const size_t seg = facets_.size() - 1;
  for (size_t f = singles_; f < facets_.size(); ++f) {
    std::vector<int64_t>& c = (*counts)[f];
    if (f == seg && segment_mask_) {
      uint64_t mask = rec[singles_] | (uint64_t{rec[singles_ + 1]} << 32);
      for (; mask; mask &= mask - 1) ++c[static_cast<size_t>(__builtin_ctzll(mask))];
      continue;
    }
    const FacetValues& fv = facets_[f];
    if (static_cast<size_t>(d) + 1 >= fv.offsets.size()) continue;
    for (uint32_t k = fv.offsets[d]; k < fv.offsets[d + 1]; ++k) ++c[fv.multi[k]];
  }
}

bool Snapshot::Holds(size_t f, const std::vector<uint8_t>& ok, Xapian::docid d) const {
  const uint32_t* rec = packed_.data() + static_cast<size_t>(d) * stride_;
  if (f < singles_) return rec[f] != 0 && ok[rec[f] - 1] != 0;
  if (f + 1 == facets_.size() && segment_mask_) {
    uint64_t mask = rec[singles_] | (uint64_t{rec[singles_ + 1]} << 32);
    for (; mask; mask &= mask - 1) {
      if (ok[static_cast<size_t>(__builtin_ctzll(mask))]) return true;
    }
    return false;
  }
  const FacetValues& fv = facets_[f];
  for (uint32_t k = fv.offsets[d]; k < fv.offsets[d + 1]; ++k) {
    if (ok[fv.multi[k]]) return true;
  }
  return false;
}

std::vector<std::string> Snapshot::filter_fields() const {
  std::vector<std::string> out;
  for (const FacetValues& f : facets_) out.push_back(f.field);
  return out;
}

std::unique_ptr<Xapian::Database> Snapshot::Acquire() const {
  std::unique_lock<std::mutex> lock(pool_mu_);
  for (;;) {
    if (!pool_.empty()) {
      std::unique_ptr<Xapian::Database> db = std::move(pool_.back());
      pool_.pop_back();
      return db;
    }
    if (handles_ == 0) throw Xapian::DatabaseModifiedError("every handle of this snapshot is stale");
    lock.unlock();
    // A new handle sees the latest revision: usable only if nothing was
    // committed since this snapshot was loaded.
    auto db = std::make_unique<Xapian::Database>(dir_);
    lock.lock();
    if (db->get_revision() == revision_) {
      ++handles_;
      return db;
    }
    if (pool_.empty()) pool_cv_.wait(lock, [&] { return !pool_.empty() || handles_ == 0; });
  }
}

void Snapshot::Release(std::unique_ptr<Xapian::Database> db) const {
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (db) {
    pool_.push_back(std::move(db));
  } else {
    --handles_;  // a stale handle was dropped
  }
  pool_cv_.notify_one();
}

Xapian::Query Snapshot::WordQuery(const std::string& word, bool prefix) const {
  std::vector<Xapian::Query> alts;
  alts.emplace_back(word);
  alts.emplace_back(std::string(kLocalPrefix) + word);
  if (!HasDigit(word)) {
    std::vector<TypoVocabulary::Candidate> cands;
    vocabulary_.Fuzzy(word, &cands);
    if (cands.size() > kMaxTypoCandidates) cands.resize(kMaxTypoCandidates);
    for (size_t i = 0; i < cands.size(); ++i) {
      // Closer first, then more frequent: a slightly lower scale per rank.
      double scale = kTypoScale[cands[i].distance] * (1.0 - 0.01 * static_cast<double>(i));
      alts.push_back(Scaled(Xapian::Query(std::string(cands[i].word)), scale));
    }
  }
  if (prefix && word.size() >= kMinCompletionPrefix) {
    std::vector<TypoVocabulary::Candidate> cands;
    vocabulary_.Completions(word, kMaxCompletions, &cands);
    for (size_t i = 0; i < cands.size(); ++i) {
      double scale = kCompletionScale * (1.0 - 0.01 * static_cast<double>(i));
      alts.push_back(Scaled(Xapian::Query(std::string(cands[i].word)), scale));
    }
  }
  return Combine(Xapian::Query::OP_OR, alts);
}

Xapian::Query Snapshot::TokenQuery(const std::string& token, bool last) const {
  const Analyzer& an = *analyzer_;
  std::vector<Xapian::Query> alts;
  size_t at = token.find('@');
  if (at != std::string::npos) {
    std::string email = an.Email(token);
    if (!email.empty()) alts.emplace_back(std::string(kEmailPrefix) + email);
    std::string folded = an.Fold(token);
    if (last && folded.size() > at + 1) {
      // Typing an address: the addresses that start with it.
      alts.push_back(Scaled(Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(kEmailPrefix) + folded,
                                          kMaxCompletions, Xapian::Query::WILDCARD_LIMIT_FIRST, Xapian::Query::OP_OR),
                            kCompletionScale));
    }
    std::string local = folded.substr(0, folded.find('@'));
    if (!local.empty()) alts.push_back(Scaled(Xapian::Query(std::string(kLocalPrefix) + local), kCompletionScale));
    return Combine(Xapian::Query::OP_OR, alts);
  }
  std::string key = an.SourceKey(token);
  if (!key.empty()) alts.emplace_back(std::string(kSourceKeyPrefix) + key);
  std::vector<std::string> words;
  an.Words(token, &words);
  std::vector<Xapian::Query> word_queries;
  for (size_t i = 0; i < words.size(); ++i) word_queries.push_back(WordQuery(words[i], last && i + 1 == words.size()));
  if (!word_queries.empty()) alts.push_back(Combine(Xapian::Query::OP_AND, word_queries));
  return Combine(Xapian::Query::OP_OR, alts);
}

Xapian::Query Snapshot::TextQuery(const std::string& text) const {
  const Analyzer& an = *analyzer_;
  std::vector<std::string_view> views = SplitOnWhitespace(text);
  std::vector<std::string> tokens(views.begin(), views.end());
  std::vector<Xapian::Query> groups;
  size_t i = 0;
  while (i < tokens.size()) {
    if (Analyzer::IsPhoneToken(tokens[i])) {
      // A run of phone-like tokens with 7+ digits is one phone number.
      size_t j = i, digits = 0;
      std::string run;
      while (j < tokens.size() && Analyzer::IsPhoneToken(tokens[j])) {
        digits += Analyzer::CountDigits(tokens[j]);
        if (!run.empty()) run.push_back(' ');
        run += tokens[j];
        ++j;
      }
      if (digits >= 7) {
        std::vector<Xapian::Query> alts;
        std::string key = an.PhoneKey(run);
        if (!key.empty()) alts.emplace_back(std::string(kPhonePrefix) + key);
        if (j == i + 1) alts.push_back(TokenQuery(tokens[i], j == tokens.size()));
        groups.push_back(Combine(Xapian::Query::OP_OR, alts));
        i = j;
        continue;
      }
    }
    groups.push_back(TokenQuery(tokens[i], i + 1 == tokens.size()));
    ++i;
  }
  // A group that can match nothing makes the whole query match nothing.
  for (const auto& g : groups) {
    if (g.empty()) return Xapian::Query();
  }
  return Combine(Xapian::Query::OP_AND, groups);
}

StatusOr<SearchResult> Snapshot::Search(const SearchQuery& query) const {
  // Filters: OR within a field, AND across fields.
  std::vector<std::pair<size_t, std::vector<std::string>>> by_field;  // (facet, values)
  for (const auto& [field, value] : query.filters) {
    // [&field]: clang 14 cannot capture a structured binding implicitly.
    auto it = std::find_if(facets_.begin(), facets_.end(),
                           [&field = field](const FacetValues& f) { return f.field == field; });
    if (it == facets_.end()) {
      std::string known;
      for (const auto& f : facets_) known += (known.empty() ? "" : ", ") + f.field;
      return InvalidArgumentError("'" + field + "' is not a search filter (filters: " + known + ")");
    }
    auto f = static_cast<size_t>(it - facets_.begin());
    auto slot = std::find_if(by_field.begin(), by_field.end(), [&](const auto& p) { return p.first == f; });
    if (slot == by_field.end()) slot = by_field.insert(by_field.end(), {f, {}});
    slot->second.push_back(value);
  }
  bool has_text = !SplitOnWhitespace(query.text).empty();
  bool has_filter = !by_field.empty();
  if (!has_text) return FilterOnly(by_field, query);
  Xapian::Query text = TextQuery(query.text);
  if (text.empty()) {  // nothing searchable in the text (e.g. "@"): no match
    SearchResult none;
    if (query.facets) {
      std::vector<std::vector<int64_t>> zero(facets_.size());
      SetFacets(&zero, query, &none);
    }
    return none;
  }
  std::vector<Xapian::Query> filter_parts;
  for (const auto& [f, values] : by_field) {
    std::vector<Xapian::Query> terms;
    for (const auto& v : values) terms.emplace_back(FilterTerm(facets_[f].field, v));
    filter_parts.push_back(Combine(Xapian::Query::OP_OR, terms));
  }
  Xapian::Query q = text;
  if (has_filter) q = Xapian::Query(Xapian::Query::OP_FILTER, text, Combine(Xapian::Query::OP_AND, filter_parts));

  SearchResult result;
  std::unique_ptr<Xapian::Database> db = Acquire();
  struct Lease {  // returns the handle unless an exception left it stale
    const Snapshot& s;
    std::unique_ptr<Xapian::Database>& db;
    bool ok = false;
    ~Lease() { s.Release(ok ? std::move(db) : nullptr); }
  } lease{*this, db};

  Xapian::Enquire enquire(*db);
  enquire.set_query(q);
  enquire.set_weighting_scheme(Xapian::TfIdfWeight("nnn"));
  std::unique_ptr<FacetSpy> spy;
  if (query.facets) {
    spy = std::make_unique<FacetSpy>(*this);
    enquire.add_matchspy(spy.get());
  }
  Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>(query.offset),
                                       static_cast<Xapian::doccount>(query.limit),
                                       static_cast<Xapian::doccount>(doc_count_));
  result.total = static_cast<int64_t>(mset.get_matches_estimated());
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    Xapian::docid did = *it;
    int64_t id = did < customer_of_doc_.size() ? customer_of_doc_[did] : 0;
    result.hits.push_back({id, it.get_weight()});
  }
  lease.ok = true;
  if (query.facets) SetFacets(&spy->counts(), query, &result);
  return result;
}

SearchResult Snapshot::FilterOnly(const std::vector<std::pair<size_t, std::vector<std::string>>>& filters,
                                  const SearchQuery& query) const {
  SearchResult result;
  if (filters.empty()) {  // everyone: totals and counts are known
    result.total = doc_count_;
    for (size_t i = query.offset; i < docs_.size() && i < query.offset + query.limit; ++i) {
      result.hits.push_back({customer_of_doc_[docs_[i]], 0.0});
    }
    if (query.facets) SetFacets(nullptr, query, &result);
    return result;
  }
  // The smallest field's documents (union of its values' postings), kept when
  // every other field holds one of its wanted values (checked on the in-memory
  // values: cheaper than intersecting large postings).
  struct Wanted {
    size_t f;
    const FacetValues* fv;
    std::vector<uint32_t> ids;  // value ids
    std::vector<uint8_t> ok;    // value id -> wanted
    size_t size = 0;            // documents holding a wanted value
  };
  std::vector<Wanted> wanted;
  for (const auto& [f, values] : filters) {
    Wanted w{f, &facets_[f], {}, std::vector<uint8_t>(facets_[f].values.size(), 0)};
    for (const std::string& v : values) {
      auto it = w.fv->ids.find(v);
      if (it == w.fv->ids.end() || w.ok[it->second]) continue;
      w.ok[it->second] = 1;
      w.ids.push_back(it->second);
      w.size += w.fv->postings[it->second].size();
    }
    wanted.push_back(std::move(w));
  }
  std::sort(wanted.begin(), wanted.end(), [](const Wanted& a, const Wanted& b) { return a.size < b.size; });
  std::vector<Xapian::docid> match;
  const Wanted& first = wanted[0];
  for (uint32_t id : first.ids) {
    const auto& p = first.fv->postings[id];
    match.insert(match.end(), p.begin(), p.end());
  }
  if (first.ids.size() > 1) {
    std::sort(match.begin(), match.end());
    match.erase(std::unique(match.begin(), match.end()), match.end());
  }
  if (wanted.size() > 1) {
    size_t out = 0;
    for (Xapian::docid d : match) {
      bool keep = true;
      for (size_t i = 1; i < wanted.size() && keep; ++i) keep = Holds(wanted[i].f, wanted[i].ok, d);
      if (keep) match[out++] = d;
    }
    match.resize(out);
  }
  result.total = static_cast<int64_t>(match.size());
  for (size_t i = query.offset; i < match.size() && i < query.offset + query.limit; ++i) {
    result.hits.push_back({customer_of_doc_[match[i]], 0.0});
  }
  if (query.facets) {
    FacetSpy spy(*this);
    for (Xapian::docid d : match) spy.Count(d);
    SetFacets(&spy.counts(), query, &result);
  }
  return result;
}

void Snapshot::SetFacets(const std::vector<std::vector<int64_t>>* all, const SearchQuery& query,
                         SearchResult* result) const {
  {
    for (size_t f = 0; f < facets_.size(); ++f) {
      const std::vector<int64_t>& counts = all ? (*all)[f] : facets_[f].all_counts;
      std::vector<FacetValue> values;
      for (size_t v = 0; v < counts.size(); ++v) {
        if (counts[v] > 0) values.push_back({facets_[f].values[v], counts[v]});
      }
      auto order = [](const FacetValue& a, const FacetValue& b) {
        return a.count != b.count ? a.count > b.count : a.value < b.value;
      };
      if (query.max_facet_values > 0 && values.size() > query.max_facet_values) {
        std::partial_sort(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(query.max_facet_values),
                          values.end(), order);
        values.resize(query.max_facet_values);
      } else {
        std::sort(values.begin(), values.end(), order);
      }
      result->facets[facets_[f].field] = std::move(values);
    }
  }
}

}  // namespace cdp::search_internal
