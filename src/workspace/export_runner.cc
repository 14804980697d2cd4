#include "workspace/export_runner.h"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <unordered_map>

#include "common/entity_names.h"
#include "common/value_text.h"
#include "export/export_value.h"
#include "workspace/activity_runner.h"
#include "workspace/linked_entities.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxSecretBytes = 64 * 1024;
constexpr size_t kMaxResponseSamples = 10;
constexpr char kPendingMagic[] = "CDPEXPORTRUN1\n";
constexpr char kStateMagic[] = "CDPEXPORTSTATE1\n";

// ------------------------------------------------------------ small helpers

std::string Hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string NameList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// Binary encoding of the pending and state files: little-endian integers,
// length-prefixed strings, an xxh3 checksum of everything before it at the end.
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

class Reader {
 public:
  Reader(std::string_view data) : data_(data) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > data_.size()) return false;
    *v = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool U32(uint32_t* v) {
    if (pos_ + 4 > data_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (pos_ + 8 > data_.size()) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool String(std::string* s) {
    uint32_t n;
    if (!U32(&n) || pos_ + n > data_.size()) return false;
    s->assign(data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

void AppendChecksum(std::string* out) { PutU64(out, XXH3_64bits(out->data(), out->size())); }

// The content without its magic and checksum, or DataLoss naming the file.
StatusOr<std::string_view> CheckedBody(const std::string& content, std::string_view magic, const std::string& path) {
  if (content.size() < magic.size() + 8 || content.compare(0, magic.size(), magic) != 0) {
    return DataLossError("export file '" + path + "' is not an export file of this version");
  }
  std::string_view all(content);
  Reader tail(all.substr(all.size() - 8));
  uint64_t sum = 0;
  tail.U64(&sum);
  if (XXH3_64bits(content.data(), content.size() - 8) != sum) {
    return DataLossError("export file '" + path + "' is damaged (checksum mismatch)");
  }
  return all.substr(magic.size(), all.size() - magic.size() - 8);
}

// -------------------------------------------------------------- the row set

// What one run sends: the schema, rows in key order, their key texts.
struct RowSet {
  ExportSchema schema;
  DataType key_type = DataType::kString;
  std::vector<std::string> keys;  // one per row
  std::vector<ExportRow> rows;
  std::vector<uint64_t> hashes;   // one per row: the row's values (and the schema)
  int64_t excluded_no_consent = 0;
};

// Key order: numbers numerically (CustomerId), other keys by bytes.
bool KeyLess(DataType type, const std::string& a, const std::string& b) {
  if (type == DataType::kInt64) {
    int64_t x = 0, y = 0;
    bool okx = ParseInteger(a, &x), oky = ParseInteger(b, &y);
    if (okx && oky) return x < y;
    if (okx != oky) return okx;
  } else if (type == DataType::kDouble) {
    double x = 0, y = 0;
    if (ParseNumber(a, &x) && ParseNumber(b, &y) && x != y) return x < y;
  }
  return a < b;
}

uint64_t SchemaHash(const ExportSchema& schema) {
  std::string text;
  for (const auto& f : schema.fields) text += f.name + "\x1f" + std::string(DataTypeName(f.type)) + "\x1e";
  text += std::to_string(schema.key_field);
  return XXH3_64bits(text.data(), text.size());
}

uint64_t RowHash(uint64_t schema_hash, const std::vector<std::optional<std::string>>& values) {
  // One state per thread, reset per row (creating one per row cost a
  // malloc and free for each of a million rows).
  thread_local std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(),
                                                                                   XXH3_freeState);
  XXH3_state_t* st = state.get();
  XXH3_64bits_reset_withSeed(st, schema_hash);
  for (const auto& v : values) {
    uint8_t present = v ? 1 : 0;
    XXH3_64bits_update(st, &present, 1);
    if (v) {
      uint64_t n = v->size();
      XXH3_64bits_update(st, &n, sizeof(n));
      XXH3_64bits_update(st, v->data(), v->size());
    }
  }
  return XXH3_64bits_digest(st);
}

// The columns an export may read: the entity's, and for a segment (or the
// Customer entity) Customer_Measure's measures too, row-aligned with Customer.
struct SourceColumns {
  std::shared_ptr<const Table> table;
  std::shared_ptr<const Table> measures;  // may be null
  std::vector<std::string> names;
  const Column* Find(const std::string& name, DataType* type) const {
    if (const Column* c = table->ColumnByName(name)) {
      for (size_t i = 0; i < table->num_columns(); ++i) {
        if (table->schema().field(i).name == name) *type = table->schema().field(i).type;
      }
      return c;
    }
    if (measures) {
      for (size_t i = 1; i < measures->num_columns(); ++i) {
        if (measures->schema().field(i).name == name) {
          *type = measures->schema().field(i).type;
          return &measures->column(i);
        }
      }
    }
    return nullptr;
  }
};

// Column names a definition may use (for validation without reading data).
std::vector<std::string> AvailableFields(const Snapshot& snap, const std::string& entity, bool with_measures) {
  std::vector<std::string> out;
  auto it = snap.entities.find(entity);
  if (it == snap.entities.end()) return out;
  for (const auto& f : it->second.schema.fields()) out.push_back(f.name);
  if (with_measures) {
    auto m = snap.entities.find(std::string(kCustomerMeasureEntity));
    if (m != snap.entities.end()) {
      const auto& fs = m->second.schema.fields();
      for (size_t i = 1; i < fs.size(); ++i) out.push_back(fs[i].name);
    }
  }
  return out;
}

// The CustomerIds that have granted consent for `purpose`: per customer the
// latest consent row of that purpose (by date_field, then entity order) decides.
StatusOr<std::set<int64_t>> ConsentedCustomers(Workspace& ws, const ProjectConfig& project, const Snapshot& snap,
                                               const std::string& purpose, const std::string& owner) {
  const ConsentConfig& c = project.consent;
  if (c.empty()) {
    return FailedPreconditionError(owner + ": purpose '" + purpose +
                                   "' needs a 'consent:' section in the project (the entity holding consents)");
  }
  CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(ws, snap, c.entity));
  auto col = [&](const std::string& f, const char* what) -> StatusOr<const Column*> {
    const Column* x = table->ColumnByName(f);
    if (!x) {
      std::vector<std::string> names;
      for (const auto& fld : table->schema().fields()) names.push_back(fld.name);
      return FailedPreconditionError("consent: " + std::string(what) + " '" + f + "' is not a field of '" + c.entity +
                                     "' (fields: " + NameList(names) + ")");
    }
    return x;
  };
  CDP_ASSIGN_OR_RETURN(const Column* purpose_col, col(c.purpose_field, "purpose_field"));
  CDP_ASSIGN_OR_RETURN(const Column* status_col, col(c.status_field, "status_field"));
  const Column* date_col = nullptr;
  if (!c.date_field.empty()) {
    CDP_ASSIGN_OR_RETURN(date_col, col(c.date_field, "date_field"));
  }
  std::set<std::string> granted;
  for (const auto& g : c.granted_values) granted.insert(Lower(g));

  // Row -> CustomerId.
  std::vector<int64_t> customer_of_row(table->num_rows(), -1);
  std::unique_ptr<LinkedEntities> linked;
  if (!c.customer_field.empty()) {
    CDP_ASSIGN_OR_RETURN(const Column* id_col, col(c.customer_field, "customer_field"));
    for (size_t r = 0; r < table->num_rows(); ++r) {
      if (id_col->IsNull(r)) continue;
      if (id_col->type() == DataType::kInt64) {
        customer_of_row[r] = id_col->Int64At(r);
      } else {
        int64_t v;
        if (ParseInteger(id_col->ValueToString(r), &v)) customer_of_row[r] = v;
      }
    }
  } else {
    CDP_ASSIGN_OR_RETURN(linked, LinkedEntities::Open(ws, project));
    CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, linked->Group(c.entity));
    // The grouped rows index the same (current) table.
    if (g->table->num_rows() != table->num_rows()) return InternalError("consent: the entity changed while reading it");
    for (size_t cust = 0; cust + 1 < g->offsets.size(); ++cust) {
      for (uint64_t p = g->offsets[cust]; p < g->offsets[cust + 1]; ++p) {
        customer_of_row[g->rows[p]] = linked->customers().customer_id(static_cast<uint32_t>(cust));
      }
    }
  }
  auto date_less = [&](size_t a, size_t b) {  // is row a's date before row b's?
    if (!date_col) return false;
    if (date_col->IsNull(a) || date_col->IsNull(b)) return date_col->IsNull(a) && !date_col->IsNull(b);
    switch (date_col->type()) {
      case DataType::kInt64:
      case DataType::kTimestamp: return date_col->Int64At(a) < date_col->Int64At(b);
      case DataType::kDate: return date_col->DateAt(a) < date_col->DateAt(b);
      case DataType::kDouble: return date_col->DoubleAt(a) < date_col->DoubleAt(b);
      default: return date_col->ValueToString(a) < date_col->ValueToString(b);
    }
  };
  std::unordered_map<int64_t, size_t> latest;  // customer -> row
  for (size_t r = 0; r < table->num_rows(); ++r) {
    if (customer_of_row[r] < 0 || purpose_col->IsNull(r)) continue;
    if (purpose_col->ValueToString(r) != purpose) continue;
    auto [it, inserted] = latest.emplace(customer_of_row[r], r);
    if (!inserted && !date_less(r, it->second)) it->second = r;  // later or equal date, later row: wins
  }
  std::set<int64_t> out;
  for (const auto& [cust, r] : latest) {
    if (!status_col->IsNull(r) && granted.count(Lower(status_col->ValueToString(r)))) out.insert(cust);
  }
  return out;
}

// What a run reads: the rows of an export's entity (or a member set), the
// fields, the key, and the consent purpose.
struct RowSpec {
  std::string owner;           // "export 'X'" / "trigger 'X'", for messages
  std::string entity;          // the table read
  bool with_measures = false;  // Customer_Measure columns available
  std::optional<std::vector<int64_t>> members;  // Customer rows of these CustomerIds only
  std::vector<ExportFieldConfig> fields;        // empty = all of the entity's own fields
  std::string key;
  std::string purpose;
  // Triggers: an "Event" field after the key, filled per row by the caller.
  bool event_field = false;
};

StatusOr<RowSet> BuildRows(Workspace& ws, const ProjectConfig& project, const Snapshot& snap, const RowSpec& spec) {
  RowSet out;
  SourceColumns src;
  CDP_ASSIGN_OR_RETURN(src.table, LoadEntity(ws, snap, spec.entity));
  if (spec.with_measures && snap.entities.count(std::string(kCustomerMeasureEntity))) {
    CDP_ASSIGN_OR_RETURN(src.measures, LoadEntity(ws, snap, std::string(kCustomerMeasureEntity)));
    if (src.measures->num_rows() != src.table->num_rows()) src.measures.reset();
  }
  std::vector<ExportFieldConfig> fields = spec.fields;
  if (fields.empty()) {
    for (const auto& f : src.table->schema().fields()) fields.push_back({f.name, ""});
  }
  // The key is always sent: first, when the fields do not list it.
  bool has_key = false;
  for (const auto& f : fields) has_key |= f.field == spec.key;
  if (!has_key) fields.insert(fields.begin(), ExportFieldConfig{spec.key, ""});
  std::vector<const Column*> cols;
  for (const auto& f : fields) {
    DataType type = DataType::kString;
    const Column* c = src.Find(f.field, &type);
    if (!c) {
      return InvalidArgumentError(spec.owner + ", fields: '" + f.field + "' is not a field of " + spec.entity +
                                  " (fields: " + NameList(AvailableFields(snap, spec.entity, spec.with_measures)) + ")");
    }
    if (f.field == spec.key) {
      out.schema.key_field = out.schema.fields.size();
      out.key_type = type;
    }
    out.schema.fields.push_back({f.output_name(), type});
    cols.push_back(c);
    if (spec.event_field && f.field == spec.key) out.schema.fields.push_back({"Event", DataType::kString});
  }
  const size_t key_col = out.schema.key_field;

  // Rows to read.
  std::vector<size_t> rows;
  if (spec.members) {
    const Column* ids = src.table->ColumnByName("CustomerId");
    if (!ids || ids->type() != DataType::kInt64) return InternalError(spec.entity + " has no CustomerId column");
    const auto& data = ids->int64_data();
    for (int64_t id : *spec.members) {
      auto it = std::lower_bound(data.begin(), data.end(), id);
      if (it != data.end() && *it == id) rows.push_back(static_cast<size_t>(it - data.begin()));
    }
  } else {
    rows.resize(src.table->num_rows());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  }
  if (!spec.purpose.empty()) {
    const Column* ids = src.table->ColumnByName("CustomerId");
    if (!ids || ids->type() != DataType::kInt64) {
      return InvalidArgumentError(spec.owner + ", purpose: '" + spec.entity +
                                  "' has no CustomerId field, so consent cannot be checked");
    }
    CDP_ASSIGN_OR_RETURN(std::set<int64_t> ok, ConsentedCustomers(ws, project, snap, spec.purpose, spec.owner));
    std::vector<size_t> kept;
    for (size_t r : rows) {
      if (!ids->IsNull(r) && ok.count(ids->Int64At(r))) {
        kept.push_back(r);
      } else {
        ++out.excluded_no_consent;
      }
    }
    rows = std::move(kept);
  }

  // Format, key, hash.
  const uint64_t schema_hash = SchemaHash(out.schema);
  std::vector<std::pair<std::string, size_t>> order;  // key, index into out.rows
  out.rows.reserve(rows.size());
  for (size_t r : rows) {
    ExportRow row;
    row.values.reserve(out.schema.fields.size());
    for (size_t k = 0; k < cols.size(); ++k) {
      row.values.push_back(FormatExportValue(*cols[k], r));
      if (spec.event_field && k == key_col) row.values.push_back(std::nullopt);
    }
    const auto& key = row.values[key_col];
    if (!key) {
      return InvalidArgumentError(spec.owner + ", key: a row of " + spec.entity + " has no value in key field '" +
                                  spec.key + "'");
    }
    order.emplace_back(*key, out.rows.size());
    out.rows.push_back(std::move(row));
  }
  // Integer keys (CustomerId) are parsed once, not at every comparison.
  std::vector<int64_t> numeric;
  if (out.key_type == DataType::kInt64) {
    numeric.reserve(order.size());
    for (const auto& [key, i] : order) {
      int64_t x = 0;
      if (!ParseInteger(key, &x)) {
        numeric.clear();
        break;
      }
      numeric.push_back(x);
    }
  }
  if (!numeric.empty() && numeric.size() == order.size()) {
    std::vector<size_t> perm(order.size());
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::sort(perm.begin(), perm.end(), [&](size_t a, size_t b) {
      return numeric[a] != numeric[b] ? numeric[a] < numeric[b] : order[a].first < order[b].first;
    });
    std::vector<std::pair<std::string, size_t>> sorted_order;
    sorted_order.reserve(order.size());
    for (size_t i : perm) sorted_order.push_back(std::move(order[i]));
    order = std::move(sorted_order);
  } else {
    std::sort(order.begin(), order.end(),
              [&](const auto& a, const auto& b) { return KeyLess(out.key_type, a.first, b.first); });
  }
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i].first == order[i - 1].first) {
      return InvalidArgumentError(spec.owner + ", key: the value '" + order[i].first + "' of key field '" + spec.key +
                                  "' is on more than one row of " + spec.entity + "; choose a unique key");
    }
  }
  std::vector<ExportRow> sorted;
  sorted.reserve(order.size());
  out.keys.reserve(order.size());
  out.hashes.reserve(order.size());
  for (auto& [key, i] : order) {
    out.hashes.push_back(RowHash(schema_hash, out.rows[i].values));
    out.keys.push_back(std::move(key));
    sorted.push_back(std::move(out.rows[i]));
  }
  out.rows = std::move(sorted);
  return out;
}

// ------------------------------------------------------------ state files

using StateMap = std::unordered_map<std::string, uint64_t>;

std::string EncodeState(const std::vector<std::string>& keys, const std::vector<uint64_t>& hashes) {
  std::string out(kStateMagic);
  PutU64(&out, keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    PutString(&out, keys[i]);
    PutU64(&out, hashes[i]);
  }
  AppendChecksum(&out);
  return out;
}

StatusOr<StateMap> ReadState(Workspace& ws, const std::string& rel) {
  const std::string path = ws.dir() + "/" + rel;
  CDP_ASSIGN_OR_RETURN(std::string content, ws.env()->ReadFile(path));
  CDP_ASSIGN_OR_RETURN(std::string_view body, CheckedBody(content, kStateMagic, path));
  Reader r(body);
  uint64_t n = 0;
  if (!r.U64(&n)) return DataLossError("export state '" + path + "' is truncated");
  StateMap out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1u << 24)));
  for (uint64_t i = 0; i < n; ++i) {
    std::string key;
    uint64_t h;
    if (!r.String(&key) || !r.U64(&h)) return DataLossError("export state '" + path + "' is truncated");
    out.emplace(std::move(key), h);
  }
  return out;
}

// ------------------------------------------------------------ pending files

// What a run sends, materialized before the first attempt.
struct PendingRun {
  bool delta = false;
  std::string target;
  ExportSchema schema;
  int64_t batch_size = 1000;
  std::map<std::string, std::string> options;
  std::vector<ExportRow> rows;
  // Counts for the report.
  int64_t added = 0, changed = 0, removed = 0, unchanged = 0, excluded_no_consent = 0;
  int64_t state_rows = 0;
  int64_t batches() const { return rows.empty() ? 0 : (static_cast<int64_t>(rows.size()) + batch_size - 1) / batch_size; }
};

std::string EncodePending(const PendingRun& p) {
  Json h;
  h["delta"] = p.delta;
  h["target"] = p.target;
  Json fields = Json::array();
  for (const auto& f : p.schema.fields) fields.push_back({{"name", f.name}, {"type", std::string(DataTypeName(f.type))}});
  h["fields"] = fields;
  h["key_field"] = p.schema.key_field;
  h["batch_size"] = p.batch_size;
  h["options"] = p.options;
  h["counts"] = {{"added", p.added},         {"changed", p.changed},
                 {"removed", p.removed},     {"unchanged", p.unchanged},
                 {"excluded_no_consent", p.excluded_no_consent}, {"state_rows", p.state_rows}};
  std::string out(kPendingMagic);
  PutString(&out, h.dump());
  PutU64(&out, p.rows.size());
  for (const auto& row : p.rows) {
    out.push_back(static_cast<char>(row.change));
    PutU32(&out, static_cast<uint32_t>(row.values.size()));
    for (const auto& v : row.values) {
      out.push_back(v ? 1 : 0);
      if (v) PutString(&out, *v);
    }
  }
  AppendChecksum(&out);
  return out;
}

StatusOr<PendingRun> ReadPending(Workspace& ws, const std::string& rel) {
  const std::string path = ws.dir() + "/" + rel;
  CDP_ASSIGN_OR_RETURN(std::string content, ws.env()->ReadFile(path));
  CDP_ASSIGN_OR_RETURN(std::string_view body, CheckedBody(content, kPendingMagic, path));
  auto bad = [&] { return DataLossError("pending export run '" + path + "' is damaged"); };
  Reader r(body);
  std::string header;
  if (!r.String(&header)) return bad();
  Json h = Json::parse(header, nullptr, false);
  if (!h.is_object()) return bad();
  PendingRun p;
  try {
    p.delta = h.at("delta").get<bool>();
    p.target = h.at("target").get<std::string>();
    for (const auto& f : h.at("fields")) {
      auto type = ParseDataType(f.at("name").is_string() ? f.at("type").get<std::string>() : "");
      if (!type) return bad();
      p.schema.fields.push_back({f.at("name").get<std::string>(), *type});
    }
    p.schema.key_field = h.at("key_field").get<size_t>();
    p.batch_size = h.at("batch_size").get<int64_t>();
    p.options = h.at("options").get<std::map<std::string, std::string>>();
    const auto& c = h.at("counts");
    p.added = c.at("added").get<int64_t>();
    p.changed = c.at("changed").get<int64_t>();
    p.removed = c.at("removed").get<int64_t>();
    p.unchanged = c.at("unchanged").get<int64_t>();
    p.excluded_no_consent = c.at("excluded_no_consent").get<int64_t>();
    p.state_rows = c.at("state_rows").get<int64_t>();
  } catch (const std::exception&) {
    return bad();
  }
  if (p.batch_size < 1) return bad();
  uint64_t n = 0;
  if (!r.U64(&n)) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    ExportRow row;
    uint8_t change;
    uint32_t nv;
    if (!r.U8(&change) || change > 2 || !r.U32(&nv) || nv != p.schema.fields.size()) return bad();
    row.change = static_cast<RowChange>(change);
    for (uint32_t k = 0; k < nv; ++k) {
      uint8_t present;
      if (!r.U8(&present)) return bad();
      if (present) {
        std::string v;
        if (!r.String(&v)) return bad();
        row.values.push_back(std::move(v));
      } else {
        row.values.push_back(std::nullopt);
      }
    }
    p.rows.push_back(std::move(row));
  }
  if (!r.done()) return bad();
  return p;
}

// ------------------------------------------------------------ definitions

// One thing the runner runs: an export or a trigger, resolved to what it reads.
struct Runnable {
  std::string name;
  std::string kind;  // "export" / "trigger"
  std::string connection;
  bool full_mode = false;  // an export with mode: full
  std::string target;
  int64_t batch_size = 1000;
  std::map<std::string, std::string> options;
  std::string definition_json;
  const TriggerConfig* trigger = nullptr;
  const ExportConfig* export_def = nullptr;
  std::string Owner() const { return kind + " '" + name + "'"; }
};

Runnable FromExport(const ExportConfig& e) {
  Runnable r;
  r.name = e.name;
  r.kind = "export";
  r.connection = e.connection;
  r.full_mode = e.mode == ExportMode::kFull;
  r.target = e.Target();
  r.batch_size = e.batch_size;
  r.options = e.options;
  r.definition_json = ExportConfigToJson(e);
  r.export_def = &e;
  return r;
}

Runnable FromTrigger(const TriggerConfig& t) {
  Runnable r;
  r.name = t.name;
  r.kind = "trigger";
  r.connection = t.connection;
  r.target = t.Target();
  r.batch_size = t.batch_size;
  r.options = t.options;
  r.definition_json = TriggersToJson({t});
  r.trigger = &t;
  return r;
}

// The directory of an export's files in the workspace (relative).
std::string ExportDir(const Runnable& r) {
  std::string safe;
  for (char c : r.name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
  if (safe.size() > 40) safe.resize(40);
  std::string id = r.kind + "\x1f" + r.name;
  return "export_runs/" + r.kind + "-" + safe + "-" + Hex64(XXH3_64bits(id.data(), id.size())).substr(0, 8);
}

Status EnsureDir(Workspace& ws, const std::string& rel) {
  std::string path = ws.dir();
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    path += "/" + rel.substr(start, slash - start);
    CDP_RETURN_IF_ERROR(ws.env()->CreateDir(path));
    start = slash + 1;
  }
  return Status::Ok();
}

// The hash that ties a pending run to what produced it: the definition, the
// connection's kind and settings (a changed one supersedes the pending run).
std::string DefinitionHash(const Runnable& r, const ProjectConfig& project) {
  std::string text = r.kind + "\x1f" + r.definition_json;
  if (const ConnectionConfig* c = project.FindConnection(r.connection)) text += "\x1f" + ConnectionsToJson({*c});
  return Hex64(XXH3_64bits(text.data(), text.size()));
}

// ------------------------------------------------------------ reports

ExportRunReport ReportOf(const ExportRunRecord& rec) {
  ExportRunReport r;
  r.id = rec.id;
  r.export_name = rec.export_name;
  r.kind = rec.kind;
  // Triggers' runs are recorded as "trigger:<name>" (their own namespace); reports name the trigger.
  if (r.kind == "trigger" && r.export_name.rfind("trigger:", 0) == 0) r.export_name = r.export_name.substr(8);
  r.status = rec.status;
  r.trigger = rec.trigger;
  r.delta = rec.delta;
  r.attempt = rec.attempt;
  r.batches_total = rec.batches_total;
  r.batches_acknowledged = rec.batches_acknowledged;
  r.error = rec.error;
  r.started_at = rec.started_at;
  r.finished_at = rec.finished_at;
  Json s = Json::parse(rec.stats_json, nullptr, false);
  if (s.is_object()) {
    r.rows_total = s.value("rows_total", int64_t{0});
    r.rows_sent = s.value("rows_sent", int64_t{0});
    r.added = s.value("added", int64_t{0});
    r.changed = s.value("changed", int64_t{0});
    r.removed = s.value("removed", int64_t{0});
    r.unchanged = s.value("unchanged", int64_t{0});
    r.excluded_no_consent = s.value("excluded_no_consent", int64_t{0});
    r.failures = s.value("failures", int64_t{0});
    r.duration_micros = s.value("duration_micros", int64_t{0});
    if (s.contains("response_samples") && s["response_samples"].is_array()) {
      for (const auto& v : s["response_samples"]) {
        if (v.is_string()) r.response_samples.push_back(v.get<std::string>());
      }
    }
  }
  if (r.finished_at && !r.duration_micros) r.duration_micros = r.finished_at - r.started_at;
  return r;
}

std::string StatsOf(const ExportRunReport& r) {
  Json s;
  s["rows_total"] = r.rows_total;
  s["rows_sent"] = r.rows_sent;
  s["added"] = r.added;
  s["changed"] = r.changed;
  s["removed"] = r.removed;
  s["unchanged"] = r.unchanged;
  s["excluded_no_consent"] = r.excluded_no_consent;
  s["failures"] = r.failures;
  s["duration_micros"] = r.duration_micros;
  s["response_samples"] = r.response_samples;
  return s.dump();
}

// ------------------------------------------------------------ running

const DestinationRegistry& RegistryOf(const ExportRunOptions& o) {
  return o.registry ? *o.registry : DestinationRegistry::Global();
}

// One attempt of a recorded run: sends its pending rows and, when the
// destination committed, records success and installs the run's state.
StatusOr<ExportRunReport> Attempt(Workspace& ws, const ProjectConfig& project, const Runnable& def,
                                  ExportRunRecord rec, const ExportRunOptions& options) {
  const int64_t t0 = NowMicros();
  ExportRunReport report = ReportOf(rec);
  auto fail = [&](const Status& why) -> StatusOr<ExportRunReport> {
    rec.status = "failed";
    rec.error = std::string(why.message());
    rec.finished_at = NowMicros();
    report.status = rec.status;
    report.error = rec.error;
    report.finished_at = rec.finished_at;
    report.failures += 1;
    report.duration_micros += rec.finished_at - t0;
    rec.stats_json = StatsOf(report);
    CDP_RETURN_IF_ERROR(ws.catalog().UpdateExportRun(rec));
    return ReportOf(rec);
  };
  CDP_ASSIGN_OR_RETURN(PendingRun pending, ReadPending(ws, rec.pending_path));
  const ConnectionConfig* conn = project.FindConnection(def.connection);
  if (!conn) return fail(FailedPreconditionError(def.Owner() + ": connection '" + def.connection + "' is not declared"));
  auto kind = RegistryOf(options).Find(conn->kind);
  if (!kind.ok()) return fail(kind.status().WithContext("connection '" + conn->name + "'"));
  auto resolved = ResolveConnection(ws, *conn);
  if (!resolved.ok()) return fail(resolved.status());
  if (Status s = (*kind)->validate(*resolved); !s.ok()) return fail(s);
  if ((*kind)->validate_options) {
    if (Status s = (*kind)->validate_options(*resolved, pending.options); !s.ok()) return fail(s.WithContext(def.Owner()));
  } else if (!pending.options.empty()) {
    return fail(InvalidArgumentError(def.Owner() + ", options: destinations of kind '" + conn->kind + "' take no options"));
  }
  ExportRunInfo info;
  info.export_name = def.name;
  info.export_run_id = rec.id;
  info.attempt = rec.attempt;
  info.delta = pending.delta;
  info.target = pending.target;
  info.schema = pending.schema;
  info.total_rows = static_cast<int64_t>(pending.rows.size());
  info.started_at = rec.started_at;
  info.options = pending.options;
  info.resume_from_batch = (*kind)->durable_batches ? std::min(rec.batches_acknowledged, pending.batches()) : 0;
  rec.status = "running";
  rec.error.clear();
  rec.finished_at = 0;
  rec.batches_total = pending.batches();
  if (!(*kind)->durable_batches) rec.batches_acknowledged = 0;
  CDP_RETURN_IF_ERROR(ws.catalog().UpdateExportRun(rec));
  auto session = (*kind)->begin(*resolved, info);
  if (!session.ok()) return fail(session.status());
  std::unique_ptr<DestinationSession> dest = std::move(*session);
  const int64_t total = pending.batches();
  for (int64_t seq = info.resume_from_batch; seq < total; ++seq) {
    ExportBatch batch;
    batch.sequence = seq;
    batch.idempotency_key = def.name + ":" + std::to_string(rec.id) + ":" + std::to_string(seq);
    const size_t from = static_cast<size_t>(seq * pending.batch_size);
    const size_t to = std::min(pending.rows.size(), from + static_cast<size_t>(pending.batch_size));
    batch.rows.assign(std::make_move_iterator(pending.rows.begin() + static_cast<std::ptrdiff_t>(from)),
                      std::make_move_iterator(pending.rows.begin() + static_cast<std::ptrdiff_t>(to)));
    Status s = options.before_batch ? options.before_batch(seq) : Status::Ok();
    if (s.ok()) s = dest->Write(batch);
    if (!s.ok()) {
      report.rows_sent = dest->rows_delivered();
      report.response_samples = dest->response_samples();
      dest->Abort();
      return fail(s.WithContext(def.Owner() + ", batch " + std::to_string(seq)));
    }
    rec.batches_acknowledged = seq + 1;
    CDP_RETURN_IF_ERROR(ws.catalog().RecordExportBatches(rec.id, rec.batches_acknowledged));
    if (options.progress) options.progress(seq + 1, total);
  }
  report.rows_sent = dest->rows_delivered();
  report.response_samples = dest->response_samples();
  if (report.response_samples.size() > kMaxResponseSamples) report.response_samples.resize(kMaxResponseSamples);
  if (Status s = dest->Commit(); !s.ok()) {
    dest->Abort();
    return fail(s.WithContext(def.Owner() + ", commit"));
  }
  rec.status = "succeeded";
  rec.finished_at = NowMicros();
  rec.batches_acknowledged = total;
  report.duration_micros += rec.finished_at - t0;
  rec.stats_json = StatsOf(report);
  ExportStateRecord state{def.kind + ":" + def.name, rec.id, rec.state_path, pending.state_rows, 0};
  CDP_RETURN_IF_ERROR(ws.catalog().FinishExportRunSucceeded(rec, state));
  // The pending rows are delivered; older states are no longer pointed to.
  (void)ws.env()->DeleteFile(ws.dir() + "/" + rec.pending_path);
  return ReportOf(rec);
}

// Removes state and pending files of `dir` that no run needs any more.
void CleanUp(Workspace& ws, const std::string& dir, const std::string& keep_state) {
  auto children = ws.env()->GetChildren(ws.dir() + "/" + dir);
  if (!children.ok()) return;
  for (const auto& c : *children) {
    const std::string rel = dir + "/" + c;
    if (rel == keep_state || c == "lock") continue;
    if (c.rfind("state-", 0) == 0 || c.rfind("pending-", 0) == 0) (void)ws.env()->DeleteFile(ws.dir() + "/" + rel);
  }
}

// The rows a runnable sends now, with the change of each.
StatusOr<PendingRun> Prepare(Workspace& ws, const ProjectConfig& project, const Runnable& def, bool full,
                             const std::optional<ExportStateRecord>& state, std::vector<std::string>* keys,
                             std::vector<uint64_t>* hashes) {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, ws.data().Current());
  RowSpec spec;
  spec.owner = def.Owner();
  std::set<int64_t> measure_members;
  if (def.export_def) {
    const ExportConfig& e = *def.export_def;
    spec.fields = e.fields;
    spec.key = e.KeyField();
    spec.purpose = e.purpose;
    if (!e.segment.empty()) {
      const std::string seg = SegmentEntityName(e.segment);
      if (!snap.entities.count(seg)) {
        return FailedPreconditionError(def.Owner() + ": segment '" + e.segment +
                                       "' has no members yet (a refresh, or `cdp segment run`, evaluates it)");
      }
      CDP_ASSIGN_OR_RETURN(auto members, LoadEntity(ws, snap, seg));
      std::vector<int64_t> ids;
      const Column* c = members->ColumnByName("CustomerId");
      if (c && c->type() == DataType::kInt64) {
        for (size_t i = 0; i < members->num_rows(); ++i) {
          if (!c->IsNull(i)) ids.push_back(c->Int64At(i));
        }
      }
      std::sort(ids.begin(), ids.end());
      spec.members = std::move(ids);
      spec.entity = std::string(kCustomerEntity);
      spec.with_measures = true;
    } else {
      spec.entity = e.entity;
      spec.with_measures = e.entity == kCustomerEntity;
    }
  } else {
    const TriggerConfig& t = *def.trigger;
    spec.entity = std::string(kCustomerEntity);
    spec.with_measures = true;
    spec.key = "CustomerId";
    spec.fields = t.fields.empty() ? std::vector<ExportFieldConfig>{{"CustomerId", ""}} : t.fields;
    spec.purpose = t.purpose;
    spec.event_field = true;
    std::vector<int64_t> ids;
    if (!t.segment.empty()) {
      const std::string seg = SegmentEntityName(t.segment);
      if (!snap.entities.count(seg)) {
        return FailedPreconditionError(def.Owner() + ": segment '" + t.segment + "' has no members yet");
      }
      CDP_ASSIGN_OR_RETURN(auto members, LoadEntity(ws, snap, seg));
      const Column* c = members->ColumnByName("CustomerId");
      if (c && c->type() == DataType::kInt64) {
        for (size_t i = 0; i < members->num_rows(); ++i) {
          if (!c->IsNull(i)) ids.push_back(c->Int64At(i));
        }
      }
    } else {
      CDP_ASSIGN_OR_RETURN(auto measures, LoadEntity(ws, snap, std::string(kCustomerMeasureEntity)));
      const Column* idc = measures->ColumnByName("CustomerId");
      const Column* mc = measures->ColumnByName(t.measure);
      if (!idc || !mc) {
        return FailedPreconditionError(def.Owner() + ": measure '" + t.measure + "' has no values in " +
                                       std::string(kCustomerMeasureEntity) + " yet");
      }
      for (size_t i = 0; i < measures->num_rows(); ++i) {
        if (mc->IsNull(i) || idc->IsNull(i)) continue;
        double v = 0;
        if (mc->type() == DataType::kDouble) {
          v = mc->DoubleAt(i);
        } else if (mc->type() == DataType::kInt64) {
          v = static_cast<double>(mc->Int64At(i));
        } else if (!ParseNumber(mc->ValueToString(i), &v)) {
          continue;
        }
        if (v > *t.above) ids.push_back(idc->Int64At(i));
      }
    }
    std::sort(ids.begin(), ids.end());
    spec.members = std::move(ids);
  }
  CDP_ASSIGN_OR_RETURN(RowSet set, BuildRows(ws, project, snap, spec));

  PendingRun p;
  p.target = def.target;
  p.schema = set.schema;
  p.batch_size = def.batch_size;
  p.options = def.options;
  p.excluded_no_consent = set.excluded_no_consent;
  p.state_rows = static_cast<int64_t>(set.rows.size());
  const bool is_trigger = def.trigger != nullptr;
  // Triggers remember membership only: a member whose fields change sends no event.
  if (is_trigger) std::fill(set.hashes.begin(), set.hashes.end(), 0);
  *keys = set.keys;
  *hashes = set.hashes;

  StateMap old;
  const bool use_state = state.has_value() && (is_trigger || (!full && !def.full_mode));
  if (use_state) {
    auto loaded = ReadState(ws, state->path);
    if (!loaded.ok()) {
      return loaded.status().WithContext(def.Owner() + ": the state of its last successful run (run with --full to start over)");
    }
    old = std::move(*loaded);
  }
  if (!use_state && !is_trigger) {
    // The whole set; the destination replaces what it holds.
    p.delta = false;
    p.added = static_cast<int64_t>(set.rows.size());
    for (auto& row : set.rows) row.change = RowChange::kAdded;
    p.rows = std::move(set.rows);
    return p;
  }
  p.delta = true;
  const size_t key_field = set.schema.key_field;
  const size_t event_field = key_field + 1;  // triggers
  const auto& events = is_trigger ? def.trigger->events : std::vector<std::string>{};
  const bool segment_trigger = is_trigger && !def.trigger->segment.empty();
  const std::string enter_event = segment_trigger ? "entered" : "crossed_above";
  const std::string exit_event = segment_trigger ? "exited" : "crossed_below";
  auto wants = [&](const std::string& ev) { return std::find(events.begin(), events.end(), ev) != events.end(); };
  // Changes in key order: current rows (added, changed) merged with removed keys.
  std::vector<std::pair<std::string, ExportRow>> removed;
  {
    std::unordered_map<std::string, size_t> current;
    current.reserve(set.keys.size());
    for (size_t i = 0; i < set.keys.size(); ++i) current.emplace(set.keys[i], i);
    for (const auto& [key, h] : old) {
      if (current.count(key)) continue;
      ++p.removed;
      ExportRow row;
      row.values.assign(set.schema.fields.size(), std::nullopt);
      row.values[key_field] = key;
      if (is_trigger) {
        if (!wants(exit_event)) continue;
        row.change = RowChange::kAdded;  // an event is a new row
        row.values[event_field] = exit_event;
      } else {
        row.change = RowChange::kRemoved;
      }
      removed.emplace_back(key, std::move(row));
    }
  }
  std::sort(removed.begin(), removed.end(),
            [&](const auto& a, const auto& b) { return KeyLess(set.key_type, a.first, b.first); });
  size_t ri = 0;
  for (size_t i = 0; i < set.rows.size(); ++i) {
    while (ri < removed.size() && KeyLess(set.key_type, removed[ri].first, set.keys[i])) {
      p.rows.push_back(std::move(removed[ri++].second));
    }
    auto it = old.find(set.keys[i]);
    ExportRow& row = set.rows[i];
    if (it == old.end()) {
      ++p.added;
      if (is_trigger) {
        if (!wants(enter_event)) continue;
        row.values[event_field] = enter_event;
      }
      row.change = RowChange::kAdded;
    } else if (it->second != set.hashes[i]) {
      ++p.changed;
      row.change = RowChange::kChanged;
    } else {
      ++p.unchanged;
      continue;
    }
    p.rows.push_back(std::move(row));
  }
  while (ri < removed.size()) p.rows.push_back(std::move(removed[ri++].second));
  return p;
}

// Runs (or resumes, then runs) one export or trigger.
StatusOr<ExportRunReport> RunRunnable(Workspace& ws, const ProjectConfig& project, const Runnable& def,
                                      const ExportRunOptions& options) {
  const std::string dir = ExportDir(def);
  CDP_RETURN_IF_ERROR(EnsureDir(ws, dir));
  auto lock = ws.env()->LockFile(ws.dir() + "/" + dir + "/lock");
  if (!lock.ok()) {
    return FailedPreconditionError(def.Owner() + " is already running (in this or another process)");
  }
  const std::string history_name = def.kind == "trigger" ? "trigger:" + def.name : def.name;
  const std::string state_name = def.kind + ":" + def.name;
  const std::string hash = DefinitionHash(def, project);
  std::optional<int64_t> resumed;
  bool full = options.full;

  // 1. An unfinished earlier run: resume it, or mark it superseded.
  CDP_ASSIGN_OR_RETURN(auto last, ws.catalog().ListExportRuns(history_name, 1));
  if (!last.empty()) {
    ExportRunRecord rec = last[0];
    const bool unfinished = rec.status == "running" || rec.status == "interrupted" || rec.status == "failed";
    if (unfinished && !rec.pending_path.empty() && ws.env()->FileExists(ws.dir() + "/" + rec.pending_path)) {
      if (options.full || rec.definition_hash != hash) {
        rec.status = "superseded";
        rec.error = options.full ? "replaced by a full run before it was resumed"
                                 : "its definition changed before it was resumed";
        rec.finished_at = NowMicros();
        CDP_RETURN_IF_ERROR(ws.catalog().UpdateExportRun(rec));
        // Batches it had delivered may stay at the destination (a webhook
        // receiver keeps what it acknowledged), and the last successful
        // state never saw them: only a full run leaves the destination
        // exactly right. (A transactional kind rolled them back; a full run
        // there only costs more rows.)
        if (rec.batches_acknowledged > 0) full = true;
      } else {
        ExportRunReport before = ReportOf(rec);
        rec.attempt += 1;
        rec.trigger = options.trigger;
        CDP_ASSIGN_OR_RETURN(ExportRunReport r, Attempt(ws, project, def, rec, options));
        if (r.status != "succeeded") return r;
        resumed = r.id;
      }
    }
  }

  // 2. A new run: what changed since the last successful one.
  CDP_ASSIGN_OR_RETURN(auto state, ws.catalog().GetExportState(state_name));
  std::vector<std::string> keys;
  std::vector<uint64_t> hashes;
  const int64_t prepare_start = NowMicros();
  CDP_ASSIGN_OR_RETURN(PendingRun pending, Prepare(ws, project, def, full, state, &keys, &hashes));
  ExportRunRecord rec;
  rec.export_name = history_name;
  rec.kind = def.kind;
  rec.trigger = options.trigger;
  rec.definition_hash = hash;
  rec.delta = pending.delta;
  rec.batches_total = pending.batches();
  rec.started_at = prepare_start;
  ExportRunReport counts;
  counts.duration_micros = NowMicros() - prepare_start;  // reading, formatting, comparing; attempts add theirs
  counts.rows_total = static_cast<int64_t>(pending.rows.size());
  counts.added = pending.added;
  counts.changed = pending.changed;
  counts.removed = pending.removed;
  counts.unchanged = pending.unchanged;
  counts.excluded_no_consent = pending.excluded_no_consent;
  rec.stats_json = StatsOf(counts);
  CDP_ASSIGN_OR_RETURN(rec.id, ws.catalog().BeginExportRun(rec));

  if (pending.delta && pending.rows.empty() && state.has_value()) {
    // Nothing to send: the destination already holds the set (or a trigger's
    // changes are events it does not send). Only the state may move.
    rec.status = "succeeded";
    counts.duration_micros = NowMicros() - rec.started_at;
    if (pending.added + pending.changed + pending.removed == 0) {
      rec.finished_at = NowMicros();
      rec.state_path = state->path;
      rec.stats_json = StatsOf(counts);
      CDP_RETURN_IF_ERROR(ws.catalog().UpdateExportRun(rec));
    } else {
      rec.state_path = dir + "/state-" + std::to_string(rec.id);
      CDP_RETURN_IF_ERROR(ReplaceFileAtomically(ws.env(), ws.dir() + "/" + rec.state_path, EncodeState(keys, hashes)));
      rec.finished_at = NowMicros();
      rec.stats_json = StatsOf(counts);
      CDP_RETURN_IF_ERROR(ws.catalog().FinishExportRunSucceeded(rec, {state_name, rec.id, rec.state_path, pending.state_rows, 0}));
      CleanUp(ws, dir, rec.state_path);
    }
    ExportRunReport r = ReportOf(rec);
    r.resumed_run = resumed;
    return r;
  }
  // Materialize the rows and the state the run installs, then send.
  rec.pending_path = dir + "/pending-" + std::to_string(rec.id);
  rec.state_path = dir + "/state-" + std::to_string(rec.id);
  CDP_RETURN_IF_ERROR(ReplaceFileAtomically(ws.env(), ws.dir() + "/" + rec.state_path, EncodeState(keys, hashes)));
  CDP_RETURN_IF_ERROR(ReplaceFileAtomically(ws.env(), ws.dir() + "/" + rec.pending_path, EncodePending(pending)));
  // The attempt reads the rows back from the pending file (as a resumed one
  // does): what is held here is no longer needed.
  std::vector<std::string>().swap(keys);
  std::vector<uint64_t>().swap(hashes);
  std::vector<ExportRow>().swap(pending.rows);
  counts.duration_micros = NowMicros() - prepare_start;
  rec.stats_json = StatsOf(counts);
  CDP_RETURN_IF_ERROR(ws.catalog().UpdateExportRun(rec));
  CDP_ASSIGN_OR_RETURN(ExportRunReport r, Attempt(ws, project, def, rec, options));
  if (r.status == "succeeded") CleanUp(ws, dir, rec.state_path);
  r.resumed_run = resumed;
  return r;
}

std::optional<ExportRunReport> LastRun(Workspace& ws, const std::string& history_name) {
  auto runs = ws.catalog().ListExportRuns(history_name, 1);
  if (!runs.ok() || runs->empty()) return std::nullopt;
  return ReportOf((*runs)[0]);
}

Json FieldsJson(const std::vector<ExportFieldConfig>& fields) {
  Json a = Json::array();
  for (const auto& f : fields) a.push_back({{"field", f.field}, {"as", f.output_name()}});
  return a;
}

}  // namespace

// ------------------------------------------------------------------ JSON

Json ToJson(const ConnectionInfo& info) {
  Json secrets = Json::array();
  for (const auto& s : info.secrets) {
    secrets.push_back({{"key", s.key}, {"from", s.from}, {"reference", s.reference}, {"is_set", s.is_set}});
  }
  return {{"name", info.definition.name},       {"kind", info.definition.kind},
          {"settings", info.definition.settings}, {"secrets", secrets},
          {"kind_registered", info.kind_registered}, {"used_by", info.exports}};
}

Json ToJson(const ConnectionCheck& check) {
  return {{"name", check.name}, {"ok", check.ok}, {"message", check.message}};
}

Json ToJson(const ExportRunReport& r) {
  Json j = {{"id", r.id},
            {"export", r.export_name},
            {"kind", r.kind},
            {"status", r.status},
            {"trigger", r.trigger},
            {"delta", r.delta},
            {"attempt", r.attempt},
            {"rows_total", r.rows_total},
            {"rows_sent", r.rows_sent},
            {"added", r.added},
            {"changed", r.changed},
            {"removed", r.removed},
            {"unchanged", r.unchanged},
            {"excluded_no_consent", r.excluded_no_consent},
            {"batches_total", r.batches_total},
            {"batches_acknowledged", r.batches_acknowledged},
            {"failures", r.failures},
            {"error", r.error},
            {"response_samples", r.response_samples},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"seconds", static_cast<double>(r.duration_micros) / 1e6}};
  if (r.resumed_run) j["resumed_run"] = *r.resumed_run;
  return j;
}

Json ToJson(const ExportInfo& info) {
  const ExportConfig& e = info.definition;
  Json j = Json::parse(ExportConfigToJson(e));
  j["key"] = e.KeyField();
  j["target"] = e.Target();
  j["batch_size"] = e.batch_size;
  j["output_fields"] = FieldsJson(e.fields);
  j["state_rows"] = info.state_rows;
  j["last_run"] = info.last_run ? ToJson(*info.last_run) : Json(nullptr);
  return j;
}

Json ToJson(const TriggerInfo& info) {
  Json j = Json::parse(TriggersToJson({info.definition}))[0];
  j["last_run"] = info.last_run ? ToJson(*info.last_run) : Json(nullptr);
  return j;
}

// ------------------------------------------------------------- connections

StatusOr<ResolvedConnection> ResolveConnection(Workspace& workspace, const ConnectionConfig& connection) {
  ResolvedConnection r;
  r.name = connection.name;
  r.kind = connection.kind;
  r.settings = connection.settings;
  if (connection.kind == "files" && !r.settings.count("base_dir")) {
    // The files kind reads a relative `path` against the project file's
    // directory, as source paths are (export/file_destination.h).
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
    if (!project.base_dir.empty()) r.settings["base_dir"] = project.base_dir;
  }
  for (const auto& [key, ref] : connection.secrets) {
    if (!ref.env.empty()) {
      const char* v = std::getenv(ref.env.c_str());
      if (!v) {
        return FailedPreconditionError("connection '" + connection.name + "', secret '" + key +
                                       "': the environment variable " + ref.env + " is not set");
      }
      r.secrets[key] = v;
    } else {
      CDP_ASSIGN_OR_RETURN(auto v, workspace.catalog().GetSecret(ref.secret));
      if (!v) {
        return FailedPreconditionError("connection '" + connection.name + "', secret '" + key + "': no secret named '" +
                                       ref.secret + "' is stored (set it with `cdp secret set " + ref.secret + "`)");
      }
      r.secrets[key] = std::move(*v);
    }
  }
  return r;
}

StatusOr<std::vector<ConnectionInfo>> ListConnections(Workspace& workspace, const DestinationRegistry& registry) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(std::vector<std::string> stored, workspace.catalog().ListSecretNames());
  std::set<std::string> stored_set(stored.begin(), stored.end());
  std::vector<ConnectionInfo> out;
  for (const auto& c : project.connections) {
    ConnectionInfo info;
    info.definition = c;
    info.kind_registered = registry.Find(c.kind).ok();
    for (const auto& [key, ref] : c.secrets) {
      ConnectionSecretInfo s;
      s.key = key;
      s.from = ref.env.empty() ? "secret" : "env";
      s.reference = ref.env.empty() ? ref.secret : ref.env;
      s.is_set = ref.env.empty() ? stored_set.count(ref.secret) > 0 : std::getenv(ref.env.c_str()) != nullptr;
      info.secrets.push_back(std::move(s));
    }
    for (const auto& e : project.exports) {
      if (e.connection == c.name) info.exports.push_back(e.name);
    }
    for (const auto& t : project.triggers) {
      if (t.connection == c.name) info.exports.push_back("trigger:" + t.name);
    }
    out.push_back(std::move(info));
  }
  return out;
}

StatusOr<ConnectionCheck> CheckConnection(Workspace& workspace, const std::string& name,
                                          const DestinationRegistry& registry) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  const ConnectionConfig* c = project.FindConnection(name);
  if (!c) {
    std::vector<std::string> names;
    for (const auto& x : project.connections) names.push_back(x.name);
    return NotFoundError("no connection named '" + name + "' (connections: " + NameList(names) + ")");
  }
  ConnectionCheck out;
  out.name = name;
  auto attempt = [&]() -> Status {
    CDP_ASSIGN_OR_RETURN(const DestinationKind* kind, registry.Find(c->kind));
    CDP_ASSIGN_OR_RETURN(ResolvedConnection resolved, ResolveConnection(workspace, *c));
    CDP_RETURN_IF_ERROR(kind->validate(resolved));
    if (kind->check) CDP_RETURN_IF_ERROR(kind->check(resolved));
    return Status::Ok();
  };
  Status s = attempt();
  out.ok = s.ok();
  out.message = s.ok() ? "reachable" : std::string(s.message());
  return out;
}

Status SetSecret(Workspace& workspace, const std::string& name, const std::string& value) {
  if (name.empty() || name.size() > 200) return InvalidArgumentError("a secret needs a name of 1 to 200 characters");
  if (value.empty()) return InvalidArgumentError("secret '" + name + "': the value is empty");
  if (value.size() > kMaxSecretBytes) return InvalidArgumentError("secret '" + name + "': the value is longer than 64 KiB");
  return workspace.catalog().PutSecret(name, value);
}

Status DeleteSecret(Workspace& workspace, const std::string& name) { return workspace.catalog().DeleteSecret(name); }

StatusOr<std::vector<std::string>> ListSecretNames(Workspace& workspace) {
  return workspace.catalog().ListSecretNames();
}

// ------------------------------------------------------------------ exports

StatusOr<std::vector<ExportInfo>> ListExports(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  std::vector<ExportInfo> out;
  for (const auto& e : project.exports) {
    ExportInfo info;
    info.definition = e;
    info.last_run = LastRun(workspace, e.name);
    CDP_ASSIGN_OR_RETURN(auto state, workspace.catalog().GetExportState("export:" + e.name));
    if (state) info.state_rows = state->rows;
    out.push_back(std::move(info));
  }
  return out;
}

StatusOr<ExportInfo> GetExport(Workspace& workspace, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto all, ListExports(workspace));
  std::vector<std::string> names;
  for (auto& e : all) {
    if (e.definition.name == name) return std::move(e);
    names.push_back(e.definition.name);
  }
  return NotFoundError("no export named '" + name + "' (exports: " + NameList(names) + ")");
}

Status ValidateActivation(const ProjectConfig& project, const std::vector<std::string>& segments,
                          const Snapshot& data, const DestinationRegistry& registry) {
  std::vector<std::string> problems;
  std::vector<std::string> connection_names;
  for (const auto& c : project.connections) {
    connection_names.push_back(c.name);
    if (!registry.Find(c.kind).ok()) {
      problems.push_back("connection '" + c.name + "', kind: '" + c.kind + "' is not a destination kind of this program (kinds: " +
                         NameList(registry.Kinds()) + ")");
    }
  }
  const std::set<std::string> segment_set(segments.begin(), segments.end());
  std::vector<std::string> entity_names;
  for (const auto& s : project.sources) entity_names.push_back(s.name);
  for (const auto& [n, info] : data.entities) {
    if (!IsInternalEntity(n) && !project.FindSource(n)) entity_names.push_back(n);
  }
  auto check_fields = [&](const std::string& owner, const std::string& entity, bool with_measures,
                          const std::vector<ExportFieldConfig>& fields, const std::string& key) {
    std::vector<std::string> available = AvailableFields(data, entity, with_measures);
    if (available.empty()) return;  // not there yet: checked when it runs
    std::set<std::string> set(available.begin(), available.end());
    for (const auto& f : fields) {
      if (!set.count(f.field)) {
        problems.push_back(owner + ", fields: '" + f.field + "' is not a field of " + entity + " (fields: " +
                           NameList(available) + ")");
      }
    }
    if (!key.empty() && !set.count(key)) {
      problems.push_back(owner + ", key: '" + key + "' is not a field of " + entity + " (fields: " + NameList(available) + ")");
    }
  };
  auto check_options = [&](const std::string& owner, const std::string& connection,
                           const std::map<std::string, std::string>& options) {
    const ConnectionConfig* c = project.FindConnection(connection);
    if (!c) {
      problems.push_back(owner + ", connection: '" + connection + "' is not a declared connection (connections: " +
                         NameList(connection_names) + ")");
      return;
    }
    auto kind = registry.Find(c->kind);
    if (!kind.ok()) return;  // reported with the connection
    ResolvedConnection settings_only;
    settings_only.name = c->name;
    settings_only.kind = c->kind;
    settings_only.settings = c->settings;
    if (c->kind == "files" && !project.base_dir.empty()) settings_only.settings.emplace("base_dir", project.base_dir);
    if ((*kind)->validate_options) {
      Status s = (*kind)->validate_options(settings_only, options);
      if (!s.ok()) problems.push_back(owner + ", options: " + std::string(s.message()));
    } else if (!options.empty()) {
      problems.push_back(owner + ", options: destinations of kind '" + c->kind + "' take no options");
    }
  };
  auto check_purpose = [&](const std::string& owner, const std::string& purpose) {
    if (!purpose.empty() && project.consent.empty()) {
      problems.push_back(owner + ", purpose: '" + purpose + "' needs a 'consent:' section (the entity holding consents)");
    }
  };
  for (const auto& e : project.exports) {
    const std::string owner = "export '" + e.name + "'";
    check_options(owner, e.connection, e.options);
    check_purpose(owner, e.purpose);
    if (!e.segment.empty()) {
      if (!segment_set.count(e.segment)) {
        problems.push_back(owner + ", what.segment: '" + e.segment + "' is not a segment (segments: " + NameList(segments) + ")");
      }
      check_fields(owner, std::string(kCustomerEntity), true, e.fields, e.KeyField());
    } else {
      bool known = std::find(entity_names.begin(), entity_names.end(), e.entity) != entity_names.end() ||
                   e.entity == kCustomerEntity || e.entity == kUnifiedActivityEntity;
      if (!known) {
        problems.push_back(owner + ", what.entity: '" + e.entity + "' is not an entity (entities: " + NameList(entity_names) + ")");
        continue;
      }
      check_fields(owner, e.entity, e.entity == kCustomerEntity, e.fields, e.KeyField());
    }
  }
  std::set<std::string> measures;
  for (const auto& m : project.measures) measures.insert(m.name);
  for (const auto& t : project.triggers) {
    const std::string owner = "trigger '" + t.name + "'";
    check_options(owner, t.connection, t.options);
    check_purpose(owner, t.purpose);
    if (!t.segment.empty() && !segment_set.count(t.segment)) {
      problems.push_back(owner + ", on.segment: '" + t.segment + "' is not a segment (segments: " + NameList(segments) + ")");
    }
    if (!t.measure.empty() && !measures.count(t.measure)) {
      problems.push_back(owner + ", on.measure: '" + t.measure + "' is not a measure (measures: " +
                         NameList(std::vector<std::string>(measures.begin(), measures.end())) + ")");
    }
    check_fields(owner, std::string(kCustomerEntity), true, t.fields, "");
  }
  if (!project.consent.empty()) {
    const ConsentConfig& c = project.consent;
    std::vector<std::string> available = AvailableFields(data, c.entity, false);
    if (!project.FindSource(c.entity) && available.empty() && c.entity != kCustomerEntity) {
      problems.push_back("consent, entity: '" + c.entity + "' is not an entity (entities: " + NameList(entity_names) + ")");
    } else if (!available.empty()) {
      std::set<std::string> set(available.begin(), available.end());
      for (const auto& [key, f] : std::vector<std::pair<std::string, std::string>>{{"customer_field", c.customer_field},
                                                                                 {"purpose_field", c.purpose_field},
                                                                                 {"status_field", c.status_field},
                                                                                 {"date_field", c.date_field},
                                                                                 {"source_field", c.source_field}}) {
        if (!f.empty() && !set.count(f)) {
          problems.push_back("consent, " + key + ": '" + f + "' is not a field of " + c.entity + " (fields: " +
                             NameList(available) + ")");
        }
      }
    }
  }
  if (problems.empty()) return Status::Ok();
  std::string msg;
  for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
  return InvalidArgumentError(msg);
}

Status PutExport(Workspace& workspace, const ExportConfig& definition, DefinitionWrite write,
                 const DestinationRegistry& registry) {
  CDP_ASSIGN_OR_RETURN(Snapshot data, workspace.data().Current());
  return workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, txn.LoadProject());
    auto it = std::find_if(project.exports.begin(), project.exports.end(),
                           [&](const ExportConfig& e) { return e.name == definition.name; });
    if (write == DefinitionWrite::kCreate && it != project.exports.end()) {
      return AlreadyExistsError("an export named '" + definition.name + "' already exists");
    }
    if (write == DefinitionWrite::kUpdate && it == project.exports.end()) {
      return NotFoundError("no export named '" + definition.name + "'");
    }
    if (it == project.exports.end()) {
      project.exports.push_back(definition);
    } else {
      *it = definition;
    }
    CDP_RETURN_IF_ERROR(CheckConnectionReferences(project.connections, project.exports, project.triggers, "export"));
    CDP_ASSIGN_OR_RETURN(auto segs, txn.ListSegments());
    std::vector<std::string> segment_names;
    for (const auto& s : segs) segment_names.push_back(s.name);
    CDP_RETURN_IF_ERROR(ValidateActivation(project, segment_names, data, registry));
    return txn.ReplaceProject(project);
  });
}

Status DeleteExport(Workspace& workspace, const std::string& name) {
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, txn.LoadProject());
    auto it = std::find_if(project.exports.begin(), project.exports.end(),
                           [&](const ExportConfig& e) { return e.name == name; });
    if (it == project.exports.end()) return NotFoundError("no export named '" + name + "'");
    project.exports.erase(it);
    return txn.ReplaceProject(project);
  }));
  return workspace.catalog().DeleteExportState("export:" + name);
}

StatusOr<ExportRunReport> RunExport(Workspace& workspace, const std::string& name, const ExportRunOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  const ExportConfig* e = project.FindExport(name);
  if (!e) {
    std::vector<std::string> names;
    for (const auto& x : project.exports) names.push_back(x.name);
    return NotFoundError("no export named '" + name + "' (exports: " + NameList(names) + ")");
  }
  return RunRunnable(workspace, project, FromExport(*e), options);
}

StatusOr<ExportRunReport> RunTrigger(Workspace& workspace, const std::string& name, const ExportRunOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  const TriggerConfig* t = project.FindTrigger(name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& x : project.triggers) names.push_back(x.name);
    return NotFoundError("no trigger named '" + name + "' (triggers: " + NameList(names) + ")");
  }
  return RunRunnable(workspace, project, FromTrigger(*t), options);
}

StatusOr<std::vector<ExportRunReport>> ExportHistory(Workspace& workspace, const std::string& name, int limit) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  std::string history_name = name;
  if (!project.FindExport(name) && project.FindTrigger(name)) history_name = "trigger:" + name;
  CDP_ASSIGN_OR_RETURN(auto runs, workspace.catalog().ListExportRuns(history_name, limit));
  if (runs.empty() && !project.FindExport(name) && !project.FindTrigger(name)) {
    return NotFoundError("no export or trigger named '" + name + "'");
  }
  std::vector<ExportRunReport> out;
  for (const auto& r : runs) out.push_back(ReportOf(r));
  return out;
}

StatusOr<std::vector<TriggerInfo>> ListTriggers(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  std::vector<TriggerInfo> out;
  for (const auto& t : project.triggers) out.push_back({t, LastRun(workspace, "trigger:" + t.name)});
  return out;
}

// ------------------------------------------------------------------- stage

StageDescriptor ExportsStage() {
  StageDescriptor d;
  d.name = "exports";
  d.runs_in_segment_refresh = true;
  d.not_applicable = [](const StageContext& c) -> StatusOr<std::optional<std::string>> {
    bool any = !c.project.triggers.empty();
    for (const auto& e : c.project.exports) any |= e.when == "refresh";
    if (!any) return std::optional<std::string>("no exports run after a refresh");
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    if (!snap.entities.count(std::string(kCustomerEntity))) return std::optional<std::string>("no Customer yet");
    return std::optional<std::string>();
  };
  // What the exports read, and which of them have a run to finish.
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    in.AddDefinition("connections", ConnectionsToJson(c.project.connections));
    in.AddDefinition("consent", ConsentToJson(c.project.consent));
    in.AddEntity(snap, std::string(kCustomerEntity));
    in.AddEntity(snap, std::string(kCustomerMeasureEntity));
    if (!c.project.consent.empty()) in.AddEntity(snap, c.project.consent.entity);
    for (const auto& e : c.project.exports) {
      if (e.when != "refresh") continue;
      in.AddDefinition("export " + e.name, ExportConfigToJson(e));
      in.AddEntity(snap, e.segment.empty() ? e.entity : SegmentEntityName(e.segment));
    }
    for (const auto& t : c.project.triggers) {
      in.AddDefinition("trigger " + t.name, TriggersToJson({t}));
      if (!t.segment.empty()) in.AddEntity(snap, SegmentEntityName(t.segment));
    }
    return in;
  };
  d.is_output = [](const StageContext&, const std::string&) { return false; };
  // An export or trigger whose last run did not finish is never current: the
  // next refresh runs the stage again, which resumes it.
  d.external_outputs = [](const StageContext& c) -> StatusOr<std::map<std::string, std::string>> {
    std::map<std::string, std::string> out;
    auto add = [&](const std::string& history) -> Status {
      CDP_ASSIGN_OR_RETURN(auto runs, c.workspace.catalog().ListExportRuns(history, 1));
      bool done = runs.empty() || runs[0].status == "succeeded" || runs[0].status == "superseded";
      out["export run " + history] = done ? "done" : "unfinished at " + std::to_string(NowMicros());
      return Status::Ok();
    };
    for (const auto& e : c.project.exports) {
      if (e.when == "refresh") CDP_RETURN_IF_ERROR(add(e.name));
    }
    for (const auto& t : c.project.triggers) CDP_RETURN_IF_ERROR(add("trigger:" + t.name));
    return out;
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    std::vector<Runnable> todo;
    for (const auto& e : c.project.exports) {
      if (e.when == "refresh") todo.push_back(FromExport(e));
    }
    for (const auto& t : c.project.triggers) todo.push_back(FromTrigger(t));
    int ok = 0, failed = 0;
    for (size_t i = 0; i < todo.size(); ++i) {
      if (c.cancelled()) {
        r->status = "cancelled";
        r->message = "cancelled after " + std::to_string(i) + " of " + std::to_string(todo.size());
        return Status::Ok();
      }
      c.progress(static_cast<double>(i) / static_cast<double>(todo.size()), todo[i].Owner());
      ExportRunOptions options;
      options.trigger = "refresh";
      auto report = RunRunnable(c.workspace, c.project, todo[i], options);
      if (!report.ok()) {
        ++failed;
        r->warnings.push_back(todo[i].Owner() + ": " + report.status().ToString());
        continue;
      }
      if (report->status != "succeeded") {
        ++failed;
        r->warnings.push_back(todo[i].Owner() + ": run " + std::to_string(report->id) + " " + report->status + ": " +
                              report->error + " (resumed by the next refresh or `cdp export run`)");
        continue;
      }
      ++ok;
      r->rows_in += report->rows_total + report->unchanged;
      r->rows_out += report->rows_sent;
    }
    r->message = std::to_string(ok) + " succeeded, " + std::to_string(failed) + " failed";
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
