#include "search/search_index.h"

#include <fcntl.h>
#include <unistd.h>
#include <xapian.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "common/parallel.h"
#include "search/internal/analyzer.h"
#include "search/internal/index_format.h"
#include "search/internal/snapshot.h"
#include "storage/env.h"

namespace cdp {

using search_internal::Analyzer;
using search_internal::FromXapian;
using search_internal::Snapshot;

namespace {

constexpr size_t kChunkRows = 16384;

// Compressed sparse rows: the items of row r are items[offsets[r] .. offsets[r + 1]).
struct Csr {
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> items;
};

std::string_view ValueOf(const Column& c, size_t row, std::string* buf) {
  if (c.type() == DataType::kString) return c.StringAt(row);
  *buf = c.ValueToString(row);
  return *buf;
}

// Everything an update needs to index one customer row.
struct IndexPlan {
  ResolvedSearchConfig config;
  const Table* customers = nullptr;
  const Column* ids = nullptr;
  std::vector<const Column*> field_columns;   // parallel to config.fields
  std::vector<const Column*> filter_columns;  // parallel to config.filters without "segment"
  const Column* key_sources = nullptr;        // CustomerSourceKeys.Source
  const Column* key_values = nullptr;         // CustomerSourceKeys.SourceKey
  Csr keys_of_row;                            // source-key rows of each customer row
  std::vector<std::string> segments;          // segment names (sorted)
  Csr segments_of_row;                        // segment ids of each customer row (ascending)
  // Per related filter (parallel to config.related_filters): its column and
  // the related entity's rows of each customer row.
  struct Related {
    const Column* column = nullptr;
    const Csr* rows_of_customer = nullptr;
  };
  std::vector<Related> related;
  std::map<std::string, Csr> related_rows;    // entity -> rows of each customer row
  uint64_t seed = 0;                          // hash of the configuration

  // The distinct non-empty values of related filter `f` for customer `row`,
  // sorted (a value's list separator is read as a space).
  void RelatedValues(size_t f, size_t row, std::vector<std::string>* out) const {
    out->clear();
    const Related& r = related[f];
    std::string buf;
    for (uint32_t k = r.rows_of_customer->offsets[row]; k < r.rows_of_customer->offsets[row + 1]; ++k) {
      uint32_t rr = r.rows_of_customer->items[k];
      if (r.column->IsNull(rr)) continue;
      std::string v(ValueOf(*r.column, rr, &buf));
      if (v.empty()) continue;
      std::replace(v.begin(), v.end(), search_internal::kListSeparator, ' ');
      out->push_back(std::move(v));
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }

  // The canonical content of `row`, hashed to detect changes.
  void Serialize(size_t row, std::string* out) const {
    out->clear();
    std::string buf;
    auto put = [&](std::string_view v) {
      out->append(v);
      out->push_back('\x1e');
    };
    for (const Column* c : field_columns) put(c->IsNull(row) ? std::string_view("\x01") : ValueOf(*c, row, &buf));
    for (const Column* c : filter_columns) put(c->IsNull(row) ? std::string_view("\x01") : ValueOf(*c, row, &buf));
    out->push_back('\x1d');
    if (key_values) {
      std::vector<std::string> keys;
      for (uint32_t k = keys_of_row.offsets[row]; k < keys_of_row.offsets[row + 1]; ++k) {
        uint32_t kr = keys_of_row.items[k];
        std::string s = key_sources->IsNull(kr) ? "" : std::string(ValueOf(*key_sources, kr, &buf));
        s.push_back('\x1f');
        if (!key_values->IsNull(kr)) s += ValueOf(*key_values, kr, &buf);
        keys.push_back(std::move(s));
      }
      std::sort(keys.begin(), keys.end());
      for (const auto& k : keys) put(k);
    }
    out->push_back('\x1d');
    for (uint32_t k = segments_of_row.offsets[row]; k < segments_of_row.offsets[row + 1]; ++k) {
      put(segments[segments_of_row.items[k]]);
    }
    std::vector<std::string> values;
    for (size_t f = 0; f < related.size(); ++f) {
      out->push_back('\x1d');
      RelatedValues(f, row, &values);
      for (const auto& v : values) put(v);
    }
  }

  Xapian::Document Build(size_t row, uint64_t hash, const Analyzer& an) const {
    Xapian::Document doc;
    doc.add_value(search_internal::kKeySlot, search_internal::EncodeKey(ids->Int64At(row), hash));
    std::string buf;
    std::vector<std::string> words;
    for (size_t f = 0; f < field_columns.size(); ++f) {
      const Column& c = *field_columns[f];
      if (c.IsNull(row)) continue;
      std::string_view v = ValueOf(c, row, &buf);
      const ResolvedSearchField& rf = config.fields[f];
      auto wdf = static_cast<Xapian::termcount>(std::max(1.0, std::round(rf.weight * search_internal::kWdfPerWeight)));
      switch (rf.kind) {
        case SearchFieldKind::kText:
          words.clear();
          an.Words(v, &words);
          for (const auto& w : words) doc.add_term(w, wdf);
          break;
        case SearchFieldKind::kPhone: {
          std::string key = an.PhoneKey(v);
          if (!key.empty()) doc.add_term(std::string(search_internal::kPhonePrefix) + key, wdf);
          break;
        }
        case SearchFieldKind::kEmail: {
          std::string email = an.Email(v);
          if (email.empty()) break;
          doc.add_term(std::string(search_internal::kEmailPrefix) + email, wdf);
          std::string local = email.substr(0, email.find('@'));
          doc.add_term(std::string(search_internal::kLocalPrefix) + local, wdf);
          words.clear();
          Analyzer::SplitWords(local, &words);
          for (const auto& w : words) {
            if (w != local) doc.add_term(std::string(search_internal::kLocalPrefix) + w, wdf);
          }
          break;
        }
      }
    }
    if (key_values) {
      auto wdf = static_cast<Xapian::termcount>(search_internal::kWdfPerWeight);
      for (uint32_t k = keys_of_row.offsets[row]; k < keys_of_row.offsets[row + 1]; ++k) {
        uint32_t kr = keys_of_row.items[k];
        if (key_values->IsNull(kr)) continue;
        std::string key = an.SourceKey(ValueOf(*key_values, kr, &buf));
        if (!key.empty()) doc.add_term(std::string(search_internal::kSourceKeyPrefix) + key, wdf);
      }
    }
    for (size_t f = 0; f < filter_columns.size(); ++f) {
      const Column& c = *filter_columns[f];
      if (c.IsNull(row)) continue;
      std::string v(ValueOf(c, row, &buf));
      if (v.empty()) continue;
      doc.add_boolean_term(search_internal::FilterTerm(config.filters[f], v));
      doc.add_value(search_internal::kFirstFilterSlot + static_cast<Xapian::valueno>(f), v);
    }
    std::string seg_value;
    for (uint32_t k = segments_of_row.offsets[row]; k < segments_of_row.offsets[row + 1]; ++k) {
      const std::string& name = segments[segments_of_row.items[k]];
      doc.add_boolean_term(search_internal::FilterTerm(kSegmentFilter, name));
      if (!seg_value.empty()) seg_value.push_back(search_internal::kListSeparator);
      seg_value += name;
    }
    if (!seg_value.empty()) doc.add_value(search_internal::kSegmentSlot, seg_value);
    std::vector<std::string> values;
    for (size_t f = 0; f < related.size(); ++f) {
      RelatedValues(f, row, &values);
      if (values.empty()) continue;
      std::string joined;
      for (const auto& v : values) {
        doc.add_boolean_term(search_internal::FilterTerm(config.related_filters[f].name, v));
        if (!joined.empty()) joined.push_back(search_internal::kListSeparator);
        joined += v;
      }
      doc.add_value(search_internal::kFirstFilterSlot + static_cast<Xapian::valueno>(filter_columns.size() + f), joined);
    }
    return doc;
  }
};

Csr BuildCsr(size_t rows, const std::vector<std::pair<uint32_t, uint32_t>>& pairs) {
  Csr c;
  c.offsets.assign(rows + 1, 0);
  for (const auto& [row, item] : pairs) ++c.offsets[row + 1];
  std::partial_sum(c.offsets.begin(), c.offsets.end(), c.offsets.begin());
  c.items.resize(pairs.size());
  std::vector<uint32_t> fill(c.offsets.begin(), c.offsets.end() - 1);
  for (const auto& [row, item] : pairs) c.items[fill[row]++] = item;
  return c;
}

StatusOr<IndexPlan> MakePlan(const SearchConfig& config, const SearchIndexInput& input,
                             std::unordered_map<int64_t, uint32_t>* row_of) {
  if (!input.customers) return InvalidArgumentError("search index: no Customer table");
  const Table& t = *input.customers;
  if (t.num_rows() >= UINT32_MAX) return InvalidArgumentError("search index: too many customers");
  IndexPlan plan;
  plan.customers = &t;
  CDP_ASSIGN_OR_RETURN(plan.config, ResolveSearchConfig(config, t.schema(), input.related));
  plan.ids = t.ColumnByName("CustomerId");
  if (!plan.ids || plan.ids->type() != DataType::kInt64) {
    return InvalidArgumentError("search index: the Customer table has no int64 field 'CustomerId'");
  }
  for (const auto& f : plan.config.fields) plan.field_columns.push_back(t.ColumnByName(f.field));
  for (const auto& f : plan.config.filters) {
    if (f != kSegmentFilter) plan.filter_columns.push_back(t.ColumnByName(f));
  }

  row_of->reserve(t.num_rows());
  for (size_t r = 0; r < t.num_rows(); ++r) {
    if (plan.ids->IsNull(r)) {
      return InvalidArgumentError("search index: Customer row " + std::to_string(r) + " has a null CustomerId");
    }
    if (!row_of->emplace(plan.ids->Int64At(r), static_cast<uint32_t>(r)).second) {
      return InvalidArgumentError("search index: CustomerId " + std::to_string(plan.ids->Int64At(r)) +
                                  " appears twice in the Customer table");
    }
  }

  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  if (plan.config.source_keys && input.source_keys) {
    const Table& k = *input.source_keys;
    const Column* kid = k.ColumnByName("CustomerId");
    plan.key_sources = k.ColumnByName("Source");
    plan.key_values = k.ColumnByName("SourceKey");
    if (!kid || kid->type() != DataType::kInt64 || !plan.key_sources || !plan.key_values) {
      return InvalidArgumentError(
          "search index: the source-keys table needs CustomerId (int64), Source and SourceKey");
    }
    for (size_t r = 0; r < k.num_rows(); ++r) {
      if (kid->IsNull(r)) continue;
      auto it = row_of->find(kid->Int64At(r));
      if (it != row_of->end()) pairs.emplace_back(it->second, static_cast<uint32_t>(r));
    }
  }
  plan.keys_of_row = BuildCsr(t.num_rows(), pairs);

  pairs.clear();
  for (const auto& [name, members] : input.segment_members) {
    if (name.empty()) continue;
    auto id = static_cast<uint32_t>(plan.segments.size());
    plan.segments.push_back(name);
    for (int64_t m : members) {
      auto it = row_of->find(m);
      if (it != row_of->end()) pairs.emplace_back(it->second, id);
    }
  }
  // Members listed twice count once; ids ascending within a row.
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  plan.segments_of_row = BuildCsr(t.num_rows(), pairs);

  for (const RelatedFilter& rf : plan.config.related_filters) {
    const Table& rt = *input.related.at(rf.entity).table;
    auto [csr, fresh] = plan.related_rows.try_emplace(rf.entity);
    if (fresh) {
      const Column* rid = rt.ColumnByName("CustomerId");
      if (!rid || rid->type() != DataType::kInt64) {
        return InvalidArgumentError("search filter '" + rf.name + "': " + rf.entity +
                                    " has no int64 field 'CustomerId' (it is not kept per customer)");
      }
      if (rt.num_rows() >= UINT32_MAX) return InvalidArgumentError("search index: too many rows in " + rf.entity);
      pairs.clear();
      for (size_t r = 0; r < rt.num_rows(); ++r) {
        if (rid->IsNull(r)) continue;
        auto it = row_of->find(rid->Int64At(r));
        if (it != row_of->end()) pairs.emplace_back(it->second, static_cast<uint32_t>(r));
      }
      csr->second = BuildCsr(t.num_rows(), pairs);
    }
    plan.related.push_back({rt.ColumnByName(rf.field), &csr->second});
  }

  std::string fp(search_internal::kFormatVersion);
  for (const auto& f : plan.config.fields) {
    fp += "|f:" + f.field + ":" + std::to_string(static_cast<int>(f.kind)) + ":" + std::to_string(f.weight);
  }
  fp += plan.config.source_keys ? "|keys" : "|nokeys";
  for (const auto& f : plan.config.filters) fp += "|x:" + f;
  for (const auto& f : plan.config.related_filters) fp += "|r:" + f.name;
  plan.seed = XXH3_64bits(fp.data(), fp.size());
  return plan;
}

// Writes the configuration's metadata (filter names, format) into `db`.
void SetMetadata(Xapian::WritableDatabase& db, const IndexPlan& plan) {
  std::string filters;
  for (const auto& f : plan.config.filters) {
    if (f == kSegmentFilter) continue;
    if (!filters.empty()) filters.push_back('\n');
    filters += f;
  }
  db.set_metadata(std::string(search_internal::kMetaFilters), filters);
  std::string related;
  for (const auto& f : plan.config.related_filters) {
    if (!related.empty()) related.push_back('\n');
    related += f.name;
  }
  db.set_metadata(std::string(search_internal::kMetaRelatedFilters), related);
  db.set_metadata(std::string(search_internal::kMetaFormat), std::string(search_internal::kFormatVersion));
}

// Xapian's glass backend (the 1.4 default, what WritableDatabase creates): a
// directory is a database once its version file exists; the version file
// names the roots of the table files (*.glass), so it is written last.
constexpr char kVersionFile[] = "iamglass";
constexpr char kBuildDir[] = ".build";        // a first build's shards and compacted output, inside the index dir
constexpr char kBuildLock[] = ".build.lock";  // held while a first build runs
constexpr size_t kMinRowsPerShard = 1024;

bool HasDatabase(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / kVersionFile, ec);
}

// fsync of an existing file (the compacted tables Xapian wrote without our
// Env; Env::SyncDir syncs the directory).
Status SyncFile(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("search index: cannot open " + p.string() + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return InternalError("search index: cannot sync " + p.string());
  return Status::Ok();
}

// A first build, when `dir` holds no database: the rows are split into
// `shards` contiguous ranges, each indexed by its own thread into its own
// database under dir/.build (Xapian writes on one thread per database, which
// made the first build of 1M customers take ~50 s on one core), the shards are
// compacted into one database (docids renumbered by one offset per shard, so
// document order is row order, as one writer gives) and its files moved into
// `dir`, the version file last: a build that dies leaves no database in `dir`
// and the next update starts again. A lone shard is moved as it is.
Status BuildFresh(const std::filesystem::path& dir, const IndexPlan& plan, size_t shards, IndexUpdateStats* stats,
                  const std::function<void(double)>& progress) {
  namespace fs = std::filesystem;
  const fs::path build = dir / kBuildDir;
  std::error_code ec;
  fs::remove_all(build, ec);  // a killed build's leftovers
  if (ec || !fs::create_directories(build, ec)) {
    return InternalError("search index: cannot create " + build.string() + (ec ? ": " + ec.message() : ""));
  }
  const Analyzer& an = search_internal::SharedAnalyzer();
  const size_t n = plan.customers->num_rows();
  std::mutex mu;  // guards error, done and progress calls
  std::string error;
  size_t done = 0;
  std::atomic<bool> failed{false};
  ParallelFor(static_cast<int>(shards), shards, 1, [&](size_t s, size_t, int) {
    const size_t begin = n * s / shards, end = n * (s + 1) / shards;
    try {
      // Shards are scratch: only the compacted output must reach the disk.
      Xapian::WritableDatabase db((build / ("shard-" + std::to_string(s))).string(),
                                  Xapian::DB_CREATE | (shards > 1 ? Xapian::DB_NO_SYNC : 0));
      SetMetadata(db, plan);
      std::string content;
      size_t pending = 0;  // rows added since the last progress report
      for (size_t row = begin; row < end && !failed; ++row) {
        plan.Serialize(row, &content);
        db.add_document(plan.Build(row, XXH3_64bits_withSeed(content.data(), content.size(), plan.seed), an));
        if (++pending == 4096 || row + 1 == end) {
          std::lock_guard<std::mutex> lock(mu);
          done += pending;
          pending = 0;
          if (progress) progress(0.9 * static_cast<double>(done) / static_cast<double>(n));
        }
      }
      db.commit();
      db.close();
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failed.exchange(true)) error = ex.what();
    } catch (const Xapian::Error& ex) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failed.exchange(true)) error = ex.get_description();
    }
  });
  auto cleanup = [&] { fs::remove_all(build, ec); };
  if (failed) {
    cleanup();
    return InternalError("search index: building documents: " + error);
  }
  fs::path out = build / "shard-0";
  if (shards > 1) {
    out = build / "compacted";
    try {
      Xapian::Database all;
      for (size_t s = 0; s < shards; ++s) all.add_database(Xapian::Database((build / ("shard-" + std::to_string(s))).string()));
      all.compact(out.string());
    } catch (const Xapian::Error& e) {
      cleanup();
      return FromXapian(e, "search index " + dir.string() + " (compacting the first build)");
    }
    for (const auto& entry : fs::directory_iterator(out, ec)) {
      if (!entry.is_regular_file()) continue;
      Status st = SyncFile(entry.path());
      if (!st.ok()) {
        cleanup();
        return st;
      }
    }
  }
  if (progress) progress(0.95);
  // Table files of an earlier database whose version file is gone would be
  // read under the new version file: removed first.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".glass") fs::remove(entry.path(), ec);
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != kVersionFile && name != "flintlock") files.push_back(entry.path());
  }
  files.push_back(out / kVersionFile);
  for (const fs::path& f : files) {
    fs::rename(f, dir / f.filename(), ec);
    if (ec) {
      cleanup();
      return InternalError("search index: cannot move " + f.string() + " into " + dir.string() + ": " + ec.message());
    }
  }
  CDP_RETURN_IF_ERROR(Env::Default()->SyncDir(dir.string()));
  cleanup();
  stats->added = static_cast<int64_t>(n);
  return Status::Ok();
}

}  // namespace

SearchIndex::~SearchIndex() = default;

StatusOr<IndexUpdateStats> SearchIndex::Update(const std::string& dir, const SearchConfig& config,
                                               const SearchIndexInput& input,
                                               std::function<void(double)> progress) {
  std::unordered_map<int64_t, uint32_t> row_of;
  CDP_ASSIGN_OR_RETURN(IndexPlan plan, MakePlan(config, input, &row_of));
  const Analyzer& an = search_internal::SharedAnalyzer();
  const size_t n = plan.customers->num_rows();
  IndexUpdateStats stats;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError("search index: cannot create " + dir + ": " + ec.message());
  if (!HasDatabase(dir)) {
    StatusOr<std::unique_ptr<FileLock>> lock =
        Env::Default()->LockFile((std::filesystem::path(dir) / kBuildLock).string());
    if (lock.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError("search index " + dir + ": another index update is running");
    }
    if (!lock.ok()) return lock.status();
    // Another writer may have finished a first build before the lock was ours.
    if (!HasDatabase(dir)) {
      const size_t shards = std::clamp<size_t>(n / kMinRowsPerShard, 1, static_cast<size_t>(ResolveThreads(input.threads)));
      CDP_RETURN_IF_ERROR(BuildFresh(dir, plan, shards, &stats, progress));
      if (progress) progress(1.0);
      return stats;
    }
  }
  try {
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OPEN);
    struct Existing {
      Xapian::docid docid;
      uint64_t hash;
      bool seen;
    };
    std::unordered_map<int64_t, Existing> existing;
    existing.reserve(db.get_doccount());
    for (auto it = db.valuestream_begin(search_internal::kKeySlot); it != db.valuestream_end(search_internal::kKeySlot);
         ++it) {
      int64_t id;
      uint64_t hash;
      if (search_internal::DecodeKey(*it, &id, &hash)) existing[id] = {it.get_docid(), hash, false};
    }

    db.begin_transaction();
    SetMetadata(db, plan);

    // Per chunk: hash and build documents in parallel, write them in order.
    enum Action : uint8_t { kUnchanged, kAdd, kReplace };
    std::vector<Action> action(kChunkRows);
    std::vector<uint64_t> hashes(kChunkRows);
    std::vector<Xapian::Document> docs(kChunkRows);
    const int threads = ResolveThreads(input.threads);
    for (size_t begin = 0; begin < n; begin += kChunkRows) {
      size_t len = std::min(kChunkRows, n - begin);
      std::atomic<bool> failed{false};
      std::string error;
      std::mutex error_mu;
      ParallelFor(threads, len, 256, [&](size_t b, size_t e, int) {
        std::string content;
        try {
          for (size_t i = b; i < e; ++i) {
            size_t row = begin + i;
            plan.Serialize(row, &content);
            uint64_t h = XXH3_64bits_withSeed(content.data(), content.size(), plan.seed);
            hashes[i] = h;
            auto it = existing.find(plan.ids->Int64At(row));
            if (it != existing.end() && it->second.hash == h) {
              action[i] = kUnchanged;
              continue;
            }
            action[i] = it == existing.end() ? kAdd : kReplace;
            docs[i] = plan.Build(row, h, an);
          }
        } catch (const std::exception& ex) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!failed.exchange(true)) error = ex.what();
        } catch (const Xapian::Error& ex) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!failed.exchange(true)) error = ex.get_description();
        }
      });
      if (failed) return InternalError("search index: building documents: " + error);
      for (size_t i = 0; i < len; ++i) {
        int64_t id = plan.ids->Int64At(begin + i);
        switch (action[i]) {
          case kUnchanged:
            existing[id].seen = true;
            ++stats.unchanged;
            break;
          case kAdd:
            db.add_document(docs[i]);
            ++stats.added;
            break;
          case kReplace: {
            Existing& ex = existing[id];
            ex.seen = true;
            db.replace_document(ex.docid, docs[i]);
            ++stats.updated;
            break;
          }
        }
        docs[i] = Xapian::Document();
      }
      if (progress) progress(0.95 * static_cast<double>(begin + len) / static_cast<double>(n));
    }
    for (const auto& [id, ex] : existing) {
      if (ex.seen) continue;
      db.delete_document(ex.docid);
      ++stats.removed;
    }
    db.commit_transaction();
    db.close();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search index " + dir);
  }
  if (progress) progress(1.0);
  return stats;
}

StatusOr<std::unique_ptr<SearchIndex>> SearchIndex::Open(const std::string& dir) {
  std::unique_ptr<SearchIndex> index(new SearchIndex(dir));
  try {
    CDP_ASSIGN_OR_RETURN(index->snapshot_, Snapshot::Load(dir));
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search index " + dir);
  }
  return index;
}

std::shared_ptr<const Snapshot> SearchIndex::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

Status SearchIndex::Refresh() const {
  std::lock_guard<std::mutex> lock(reopen_mu_);
  std::shared_ptr<const Snapshot> current = snapshot();
  try {
    auto db = std::make_unique<Xapian::Database>(dir_);
    if (current && db->get_revision() == current->revision()) return Status::Ok();
    CDP_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> next, Snapshot::Load(dir_, std::move(db)));
    std::lock_guard<std::mutex> guard(mu_);
    snapshot_ = std::move(next);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "search index " + dir_);
  }
  return Status::Ok();
}

Status SearchIndex::Reopen() { return Refresh(); }

StatusOr<SearchResult> SearchIndex::Search(const SearchQuery& query) const {
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<const Snapshot> s = snapshot();
    try {
      return s->Search(query);
    } catch (const Xapian::DatabaseModifiedError& e) {
      // Later commits overwrote this snapshot's revision: load the latest, retry.
      if (attempt >= 2) return FromXapian(e, "search index " + dir_);
      CDP_RETURN_IF_ERROR(Refresh());
    } catch (const Xapian::Error& e) {
      return FromXapian(e, "search index " + dir_);
    }
  }
}

std::vector<std::string> SearchIndex::filter_fields() const { return snapshot()->filter_fields(); }

int64_t SearchIndex::size() const { return snapshot()->doc_count(); }

}  // namespace cdp
