#include "relate/activity_builder.h"

#include "common/parallel.h"
#include "table/table_json.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

namespace cdp {
namespace {

// One output row before it is built: customer `c`'s rows sit in one bucket
// of the counting sort, so the customer is implied by the position.
struct Staged {
  int64_t time;
  uint32_t activity;
  uint32_t row;
};

bool StagedLess(const Staged& x, const Staged& y) {
  if (x.time != y.time) return x.time < y.time;
  if (x.activity != y.activity) return x.activity < y.activity;
  return x.row < y.row;
}

// An activity's entity and what the builder reads from it.
struct Loaded {
  std::shared_ptr<const Table> table;
  int time = -1, subject = -1, amount = -1, key = -1;
  bool time_is_date = false;
  std::vector<int64_t> customers;  // per row: customer index, or -1 (unlinked or without a time)
  // The Fields JSON: each other column with its `"name":` (after a comma
  // but for the first), in schema order.
  std::vector<std::pair<size_t, std::string>> fields;
  // The columns a chunk reads (subject, amount, key and the Fields columns).
  std::vector<const Column*> read;
};

// The rows of a chunk are in customer order, scattered over the activities'
// entities: each one costs cache misses on every column it reads (validity,
// values or offsets, then characters). Prefetching them a few rows ahead,
// in two stages (the offsets first, then the characters they point at),
// overlaps those misses instead of waiting for each in turn.
constexpr size_t kPrefetchOffsets = 32;
constexpr size_t kPrefetchChars = 16;

void PrefetchCells(const Loaded& l, size_t row) {
  for (const Column* c : l.read) {
    if (c->null_count() > 0) __builtin_prefetch(c->validity().data() + (row >> 6));
    switch (c->type()) {
      case DataType::kString: __builtin_prefetch(c->string_offsets().data() + row); break;
      case DataType::kInt64:
      case DataType::kTimestamp: __builtin_prefetch(c->int64_data().data() + row); break;
      case DataType::kDouble: __builtin_prefetch(c->double_data().data() + row); break;
      case DataType::kDate: __builtin_prefetch(c->date_data().data() + row); break;
      case DataType::kBool: __builtin_prefetch(c->bool_data().data() + row); break;
    }
  }
}

void PrefetchChars(const Loaded& l, size_t row) {
  for (const Column* c : l.read) {
    if (c->type() == DataType::kString) __builtin_prefetch(c->string_chars().data() + c->string_offsets()[row]);
  }
}

// True when `s` has a byte JSON must escape or check (control, '"', '\\',
// non-ASCII), eight bytes at a time.
bool NeedsJsonEscape(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & kHigh) || ((w - 0x20 * kOnes) & kHigh) || has_zero(w ^ (0x22 * kOnes)) || has_zero(w ^ (0x5C * kOnes))) {
      return true;
    }
  }
  for (; i < s.size(); ++i) {
    unsigned char u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == '"' || u == '\\' || u >= 0x80) return true;
  }
  return false;
}

// Whether row `row` of `c` is null, without reading the validity bitmap
// (another cache miss per row) of a column that has no nulls.
bool IsNullCell(const Column& c, size_t row) { return c.null_count() > 0 && c.IsNull(row); }

// AppendValueJson, with the common cases (plain strings, integers) inline.
void AppendFieldJson(std::string* out, const Column& c, size_t row) {
  if (!IsNullCell(c, row)) {
    if (c.type() == DataType::kString) {
      std::string_view v = c.StringAt(row);
      if (!NeedsJsonEscape(v)) {
        out->push_back('"');
        out->append(v);
        out->push_back('"');
        return;
      }
    } else if (c.type() == DataType::kInt64) {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, c.Int64At(row));
      out->append(buf, r.ptr);
      return;
    }
  }
  AppendValueJson(out, c, row);
}

void AppendText(Column& out, const Column& c, size_t row) {
  if (c.type() == DataType::kString) {
    out.AppendString(c.StringAt(row));
  } else {
    out.AppendString(c.ValueToString(row));
  }
}

// Output rows [lo, hi) of the sorted `staged` (customer `c` holds rows
// [offsets[c], offsets[c + 1])).
// `t` is cleared first (keeping its buffers).
void BuildChunk(const ActivityInputs& in, const std::vector<Loaded>& loaded, const std::vector<Staged>& staged,
                const std::vector<uint64_t>& offsets, size_t lo, size_t hi, Table& t) {
  if (t.num_columns() != 9 || !(t.schema() == UnifiedActivitySchema())) t = Table(UnifiedActivitySchema());
  t.Clear();
  const size_t rows = hi - lo;
  for (size_t c = 0; c < t.num_columns(); ++c) t.mutable_column(c).Reserve(rows);
  Column& customer_col = t.mutable_column(0);
  Column& type_col = t.mutable_column(1);
  Column& activity_col = t.mutable_column(2);
  Column& time_col = t.mutable_column(3);
  Column& subject_col = t.mutable_column(4);
  Column& amount_col = t.mutable_column(5);
  Column& entity_col = t.mutable_column(6);
  Column& key_col = t.mutable_column(7);
  Column& fields_col = t.mutable_column(8);
  // The bucket holding row `lo`: the last customer whose first row is <= lo.
  size_t c = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), lo) - offsets.begin()) - 1;
  std::string json;
  for (size_t i = lo; i < hi; ++i) {
    if (i + kPrefetchOffsets < hi) {
      const Staged& ahead = staged[i + kPrefetchOffsets];
      PrefetchCells(loaded[ahead.activity], ahead.row);
    }
    if (i + kPrefetchChars < hi) {
      const Staged& ahead = staged[i + kPrefetchChars];
      PrefetchChars(loaded[ahead.activity], ahead.row);
    }
    while (offsets[c + 1] <= i) ++c;
    const Staged& s = staged[i];
    const ActivityConfig& act = (*in.activities)[s.activity];
    const Loaded& l = loaded[s.activity];
    const Table& src = *l.table;
    customer_col.AppendInt64(in.customers->customer_id(static_cast<uint32_t>(c)));
    type_col.AppendString(act.type);
    activity_col.AppendString(act.name);
    time_col.AppendTimestamp(s.time);
    if (l.subject >= 0 && !IsNullCell(src.column(static_cast<size_t>(l.subject)), s.row)) {
      AppendText(subject_col, src.column(static_cast<size_t>(l.subject)), s.row);
    } else {
      subject_col.AppendNull();
    }
    if (l.amount >= 0 && !IsNullCell(src.column(static_cast<size_t>(l.amount)), s.row)) {
      const Column& ac = src.column(static_cast<size_t>(l.amount));
      amount_col.AppendDouble(ac.type() == DataType::kDouble ? ac.DoubleAt(s.row)
                                                             : static_cast<double>(ac.Int64At(s.row)));
    } else {
      amount_col.AppendNull();
    }
    entity_col.AppendString(act.entity);
    if (l.key >= 0 && !IsNullCell(src.column(static_cast<size_t>(l.key)), s.row)) {
      AppendText(key_col, src.column(static_cast<size_t>(l.key)), s.row);
    } else {
      char buf[16] = {'r', 'o', 'w', ' '};
      auto r = std::to_chars(buf + 4, buf + sizeof buf, static_cast<uint64_t>(s.row) + 1);
      key_col.AppendString(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
    }
    json.assign(1, '{');
    for (const auto& [col, name] : l.fields) {
      json.append(name);
      AppendFieldJson(&json, src.column(col), s.row);
    }
    json.push_back('}');
    fields_col.AppendString(json);
    t.FinishRow();
  }
}

}  // namespace

Schema UnifiedActivitySchema() {
  return Schema({Field{"CustomerId", DataType::kInt64, {}},   Field{"ActivityType", DataType::kString, {}},
                 Field{"Activity", DataType::kString, {}},    Field{"Timestamp", DataType::kTimestamp, {}},
                 Field{"Subject", DataType::kString, {}},     Field{"Amount", DataType::kDouble, {}},
                 Field{"SourceEntity", DataType::kString, {}}, Field{"SourceKey", DataType::kString, {}},
                 Field{"Fields", DataType::kString, {}}});
}

StatusOr<int64_t> BuildUnifiedActivity(const ActivityInputs& in, const ActivityBuildOptions& options,
                                       const ActivityChunkSink& sink, std::vector<ActivityStats>* stats) {
  if (options.chunk_rows == 0) return InvalidArgumentError("activity build: chunk_rows must be at least 1, not 0");
  const int threads = ResolveThreads(options.threads);
  std::vector<Loaded> loaded;
  stats->clear();
  // The fields read of each entity a path goes through (relationship fields
  // and a profile source's key), unless an activity reads it whole. Paths
  // that fail are left out here and reported below, in activity order.
  std::map<std::string, std::vector<std::string>> projected;
  EntityLoader load = in.load;
  if (in.load_fields) {
    for (const ActivityConfig& act : *in.activities) {
      auto path = FindPathToCustomer(act.entity, *in.relationships, in.profile_sources, act.path);
      if (!path.ok()) continue;
      const auto& steps = path->steps;
      for (size_t k = 0; k < steps.size(); ++k) {
        if (steps[k]->to_entity == "Customer") continue;
        auto& fields = projected[steps[k]->to_entity];
        fields.push_back(steps[k]->to_field);
        fields.push_back(k + 1 < steps.size() ? steps[k + 1]->from_field : in.key_of(steps[k]->to_entity));
      }
    }
    for (const ActivityConfig& act : *in.activities) projected.erase(act.entity);
    for (auto& [entity, fields] : projected) {
      std::sort(fields.begin(), fields.end());
      fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
    }
    load = [&](const std::string& entity) -> StatusOr<std::shared_ptr<const Table>> {
      auto it = projected.find(entity);
      return it == projected.end() ? in.load(entity) : in.load_fields(entity, it->second);
    };
  }
  // Rows per customer, for the counting sort.
  std::vector<uint64_t> offsets(in.customers->size() + 1, 0);
  for (uint32_t a = 0; a < in.activities->size(); ++a) {
    const ActivityConfig& act = (*in.activities)[a];
    std::string where = "activity '" + act.name + "'";
    CDP_ASSIGN_OR_RETURN(RelationshipPath path,
                         FindPathToCustomer(act.entity, *in.relationships, in.profile_sources, act.path));
    Loaded l;
    CDP_ASSIGN_OR_RETURN(l.table, in.load(act.entity));
    const Schema& schema = l.table->schema();
    auto field = [&](const std::string& name, const std::string& role) -> StatusOr<int> {
      int i = schema.FieldIndex(name);
      if (i < 0) {
        std::string list;
        for (const auto& f : schema.fields()) list += (list.empty() ? "" : ", ") + f.name;
        return InvalidArgumentError(where + ": " + role + " field '" + name + "' is not a field of '" + act.entity +
                                    "' (fields: " + list + ")");
      }
      return i;
    };
    CDP_ASSIGN_OR_RETURN(l.time, field(act.timestamp, "timestamp"));
    DataType tt = schema.field(static_cast<size_t>(l.time)).type;
    if (tt != DataType::kDate && tt != DataType::kTimestamp) {
      return InvalidArgumentError(where + ": timestamp field '" + act.timestamp + "' is " + std::string(DataTypeName(tt)) +
                                  "; declare it as a date or timestamp (with a format if needed)");
    }
    l.time_is_date = tt == DataType::kDate;
    if (!act.subject.empty()) {
      CDP_ASSIGN_OR_RETURN(l.subject, field(act.subject, "subject"));
    }
    if (!act.amount.empty()) {
      CDP_ASSIGN_OR_RETURN(l.amount, field(act.amount, "amount"));
      DataType at = schema.field(static_cast<size_t>(l.amount)).type;
      if (at != DataType::kDouble && at != DataType::kInt64) {
        return InvalidArgumentError(where + ": amount field '" + act.amount + "' is " + std::string(DataTypeName(at)) +
                                    ", not a number");
      }
    }
    std::string key = in.key_of(act.entity);
    if (!key.empty()) l.key = schema.FieldIndex(key);
    for (size_t c = 0; c < l.table->num_columns(); ++c) {
      int ci = static_cast<int>(c);
      if (ci == l.time || ci == l.subject || ci == l.amount || ci == l.key) continue;
      std::string name = l.fields.empty() ? "" : ",";
      AppendJsonString(&name, schema.field(c).name);
      name.push_back(':');
      l.fields.emplace_back(c, std::move(name));
      l.read.push_back(&l.table->column(c));
    }
    for (int c : {l.subject, l.amount, l.key}) {
      if (c >= 0) l.read.push_back(&l.table->column(static_cast<size_t>(c)));
    }
    ActivityStats st;
    st.activity = act.name;
    st.entity = act.entity;
    auto customers =
        ResolveCustomers(act.entity, *l.table, path, load, in.key_of, *in.customers, &st.relation, threads);
    if (!customers.ok()) return customers.status().WithContext(where);
    l.customers = std::move(*customers);
    const Column& tc = l.table->column(static_cast<size_t>(l.time));
    for (size_t r = 0; r < l.customers.size(); ++r) {
      int64_t c = l.customers[r];
      if (c < 0) continue;
      if (tc.IsNull(r)) {
        ++st.missing_timestamp;
        l.customers[r] = -1;
        continue;
      }
      ++offsets[static_cast<size_t>(c) + 1];
      ++st.rows_out;
    }
    stats->push_back(std::move(st));
    loaded.push_back(std::move(l));
  }
  // Counting sort by customer: rows are placed in activity then row order, so
  // sorting each customer's rows by (time, activity, row) gives the order of
  // one sort of all rows by (customer, time, activity, row).
  for (size_t c = 1; c < offsets.size(); ++c) offsets[c] += offsets[c - 1];
  const size_t total = static_cast<size_t>(offsets.back());
  std::vector<Staged> staged(total);
  {
    std::vector<uint64_t> next(offsets.begin(), offsets.end() - 1);
    for (uint32_t a = 0; a < loaded.size(); ++a) {
      const Loaded& l = loaded[a];
      const Column& tc = l.table->column(static_cast<size_t>(l.time));
      for (size_t r = 0; r < l.customers.size(); ++r) {
        int64_t c = l.customers[r];
        if (c < 0) continue;
        int64_t t = l.time_is_date ? static_cast<int64_t>(tc.DateAt(r)) * 86400000000LL : tc.TimestampAt(r);
        staged[next[static_cast<size_t>(c)]++] = Staged{t, a, static_cast<uint32_t>(r)};
      }
    }
  }
  for (Loaded& l : loaded) std::vector<int64_t>().swap(l.customers);
  ParallelFor(threads, in.customers->size(), 16 * 1024, [&](size_t begin, size_t end, int) {
    for (size_t c = begin; c < end; ++c) {
      auto first = staged.begin() + static_cast<std::ptrdiff_t>(offsets[c]);
      auto last = staged.begin() + static_cast<std::ptrdiff_t>(offsets[c + 1]);
      if (last - first > 1) std::sort(first, last, StagedLess);
    }
  });
  // The chunks, in parallel; the first failure (by chunk index) is returned.
  const size_t chunks = (total + options.chunk_rows - 1) / options.chunk_rows;
  std::atomic<bool> failed{false};
  std::mutex mu;
  size_t failed_chunk = chunks;
  Status failure = Status::Ok();  // guarded by mu
  std::vector<Table> tables(static_cast<size_t>(threads));  // one per worker, reused
  ParallelFor(threads, chunks, 1, [&](size_t begin, size_t end, int worker) {
    for (size_t m = begin; m < end; ++m) {
      if (failed.load(std::memory_order_relaxed)) return;
      size_t lo = m * options.chunk_rows;
      Table& chunk = tables[static_cast<size_t>(worker)];
      BuildChunk(in, loaded, staged, offsets, lo, std::min(total, lo + options.chunk_rows), chunk);
      Status s = sink(m, chunk);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (m < failed_chunk) {
          failed_chunk = m;
          failure = s;
        }
        failed.store(true, std::memory_order_relaxed);
      }
    }
  });
  CDP_RETURN_IF_ERROR(failure);
  return static_cast<int64_t>(total);
}

StatusOr<std::shared_ptr<Table>> BuildUnifiedActivity(const ActivityInputs& in, std::vector<ActivityStats>* stats,
                                                      const ActivityBuildOptions& options) {
  std::mutex mu;
  std::map<size_t, Table> chunks;  // guarded by mu
  auto sink = [&](size_t index, Table& chunk) -> Status {
    std::lock_guard<std::mutex> lock(mu);
    chunks.emplace(index, std::move(chunk));
    chunk = Table(UnifiedActivitySchema());
    return Status::Ok();
  };
  CDP_ASSIGN_OR_RETURN(int64_t rows, BuildUnifiedActivity(in, options, sink, stats));
  auto out = std::make_shared<Table>(UnifiedActivitySchema());
  for (int c = 0; c < 9; ++c) out->mutable_column(static_cast<size_t>(c)).Reserve(static_cast<size_t>(rows));
  for (const auto& [index, chunk] : chunks) CDP_RETURN_IF_ERROR(out->Append(chunk));
  return out;
}

}  // namespace cdp
