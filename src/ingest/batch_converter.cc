#include "ingest/batch_converter.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "common/utf8.h"

namespace cdp {
namespace {

constexpr size_t kMaxRawRecordBytes = 1024;
constexpr size_t kMaxValueBytes = 256;

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string Truncate(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  std::string out(Utf8Prefix(s, max));
  out += "...";
  return out;
}

std::string JoinRecord(const RawRecordBatch& in, size_t r) {
  std::string out;
  const size_t nf = in.num_fields(r);
  for (size_t f = 0; f < nf && out.size() <= kMaxRawRecordBytes; ++f) {
    if (f > 0) out += ',';
    if (in.field_is_null(r, f)) continue;
    std::string_view v = in.field(r, f);
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
      out.append(v);
    } else {
      out += '"';
      for (char c : v) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
  }
  return Truncate(out, kMaxRawRecordBytes);
}

// Scratch for one parsed column of one batch.
struct ParsedColumn {
  std::vector<int64_t> i64;  // int64, timestamp
  std::vector<double> f64;
  std::vector<int32_t> i32;  // date
  std::vector<uint8_t> u8;   // bool
  std::vector<uint8_t> null;
};

// Per-thread buffers reused across Convert calls, so a batch allocates (and
// page-faults) nothing once the buffers have grown.
struct ConvertScratch {
  std::vector<uint8_t> state;
  std::vector<int32_t> fail;
  std::vector<ParsedColumn> parsed;
};
thread_local ConvertScratch tls_scratch;

enum RowState : uint8_t { kRowOk = 0, kRowQuarantined = 1, kRowFiltered = 2 };
constexpr int32_t kFailRecordError = -1;
constexpr int32_t kFailFieldCount = -2;

template <typename T>
bool CompareValues(FilterOp op, const T& v, const T& x) {
  switch (op) {
    case FilterOp::kEquals: return v == x;
    case FilterOp::kNotEquals: return !(v == x);
    case FilterOp::kLess: return v < x;
    case FilterOp::kLessEqual: return v <= x;
    case FilterOp::kGreater: return v > x;
    case FilterOp::kGreaterEqual: return v >= x;
    default: return false;
  }
}

}  // namespace

StatusOr<BatchConverter> BatchConverter::Create(std::vector<FieldSpec> fields, std::vector<RowFilter> filters,
                                                const std::vector<std::string>& input_field_names,
                                                std::string location) {
  BatchConverter c;
  c.location_ = std::move(location);
  c.input_fields_ = input_field_names.size();
  c.input_names_ = input_field_names;
  std::unordered_map<std::string_view, size_t> input_index;
  for (size_t i = 0; i < input_field_names.size(); ++i) input_index.emplace(input_field_names[i], i);

  std::unordered_map<std::string, size_t> output_index;
  std::vector<Field> schema_fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    FieldSpec& f = fields[i];
    if (f.name.empty()) return InvalidArgumentError("field " + std::to_string(i + 1) + " has an empty name");
    if (!output_index.emplace(f.name, i).second) {
      return InvalidArgumentError("field '" + f.name + "' is declared twice");
    }
    if (f.source_field.empty()) f.source_field = f.name;
    if (!f.semantic.empty() && !IsValidSemanticTypeName(f.semantic.name())) {
      return InvalidArgumentError("field '" + f.name + "': '" + f.semantic.name() + "' is not a valid semantic type");
    }
    auto it = input_index.find(f.source_field);
    if (it == input_index.end()) {
      std::string list;
      for (size_t k = 0; k < input_field_names.size() && k < 50; ++k) {
        if (k > 0) list += ", ";
        list += input_field_names[k];
      }
      if (input_field_names.size() > 50) list += ", ...";
      if (input_field_names.empty()) list = "(none)";
      return NotFoundError("field '" + f.source_field + "' not found in " + c.location_ + "; fields are: " + list);
    }
    if (f.standardize != Standardizer::kNone) {
      if (f.type != DataType::kString) {
        return InvalidArgumentError("field '" + f.name + "': standardize '" +
                                    std::string(StandardizerName(f.standardize)) +
                                    "' needs a string field; the field is " + std::string(DataTypeName(f.type)));
      }
      c.any_standardize_ = true;
    }
    c.source_index_.push_back(it->second);
    auto parser = ValueParser::Create(f.type, f.format);
    if (!parser.ok()) return parser.status().WithContext("field '" + f.name + "'");
    c.parsers_.push_back(std::move(parser).value());
    schema_fields.push_back(Field{f.name, f.type, f.semantic});
  }
  c.schema_ = Schema(std::move(schema_fields));

  std::vector<bool> is_filter_field(fields.size(), false);
  for (const RowFilter& rf : filters) {
    auto it = output_index.find(rf.field);
    if (it == output_index.end()) {
      return NotFoundError("filter field '" + rf.field + "' is not a field of " + c.location_);
    }
    const size_t fi = it->second;
    const DataType type = fields[fi].type;
    const std::string what = "filter on field '" + rf.field + "' (" + std::string(FilterOpName(rf.op)) + ")";
    const size_t nv = rf.values.size();
    switch (rf.op) {
      case FilterOp::kIsEmpty:
      case FilterOp::kIsNotEmpty:
        if (nv != 0) return InvalidArgumentError(what + " takes no value");
        break;
      case FilterOp::kIn:
      case FilterOp::kNotIn:
        if (nv == 0) return InvalidArgumentError(what + " needs at least one value");
        break;
      default:
        if (nv != 1) return InvalidArgumentError(what + " needs exactly one value, got " + std::to_string(nv));
    }
    if ((rf.op == FilterOp::kContains || rf.op == FilterOp::kStartsWith) && type != DataType::kString) {
      return InvalidArgumentError(what + " needs a string field; the field is " + std::string(DataTypeName(type)));
    }
    CompiledFilter cf{fi, rf.op, {}};
    const ValueParser& parser = c.parsers_[fi];
    for (const std::string& text : rf.values) {
      FilterValue v;
      bool ok = true;
      switch (type) {
        case DataType::kString: v.s = Standardize(fields[fi].standardize, text).value_or(text); break;
        case DataType::kInt64: ok = parser.ParseInt64(text, &v.i); break;
        case DataType::kDouble: ok = parser.ParseDouble(text, &v.d); break;
        case DataType::kBool: {
          bool b = false;
          ok = parser.ParseBool(text, &b);
          v.i = b;
          break;
        }
        case DataType::kDate: {
          int32_t days = 0;
          ok = parser.ParseDate(text, &days) || ParseDate(text, DateStyle::kIso, &days);
          v.i = days;
          break;
        }
        case DataType::kTimestamp:
          ok = parser.ParseTimestamp(text, &v.i) || ParseTimestamp(text, DateStyle::kIso, &v.i);
          break;
      }
      if (!ok) return InvalidArgumentError(what + ": " + parser.FailureReason(text));
      cf.values.push_back(std::move(v));
    }
    is_filter_field[fi] = true;
    c.filters_.push_back(std::move(cf));
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (is_filter_field[i]) c.parse_order_.push_back(i);
  }
  c.num_filter_fields_ = c.parse_order_.size();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (!is_filter_field[i]) c.parse_order_.push_back(i);
  }
  c.fields_ = std::move(fields);
  return c;
}

Status BatchConverter::Convert(const RawRecordBatch& in, Table* out, std::vector<QuarantinedRecord>* quarantine,
                               ConvertStats* stats) const {
  if (out->num_columns() == 0 && schema_.num_fields() > 0) {
    *out = Table(schema_);
  } else if (!(out->schema() == schema_)) {
    return InvalidArgumentError("output table schema differs from the converter's schema");
  }
  const size_t n = in.num_records();
  const size_t nfields = fields_.size();
  if (in.field_begin.empty() || in.field_begin.back() != in.fields.size() || in.is_null.size() != in.fields.size() ||
      in.line.size() != n) {
    return InvalidArgumentError("malformed record batch from " + in.location +
                                ": field_begin, fields, is_null and line disagree");
  }
  ConvertScratch& scratch = tls_scratch;
  std::vector<uint8_t>& state = scratch.state;
  std::vector<int32_t>& fail = scratch.fail;
  state.assign(n, kRowOk);
  fail.resize(n);

  // 1. Record errors and 2. field counts.
  std::vector<int32_t> error_of_row;
  if (!in.record_errors.empty()) {
    error_of_row.assign(n, -1);
    for (size_t e = 0; e < in.record_errors.size(); ++e) {
      const uint32_t r = in.record_errors[e].first;
      if (r < n) {
        error_of_row[r] = static_cast<int32_t>(e);
        state[r] = kRowQuarantined;
        fail[r] = kFailRecordError;
      }
    }
  }
  if (!in.trailing_fields_optional) {
    for (size_t r = 0; r < n; ++r) {
      if (state[r] == kRowOk && in.field_begin[r + 1] - in.field_begin[r] != input_fields_) {
        state[r] = kRowQuarantined;
        fail[r] = kFailFieldCount;
      }
    }
  }

  const uint32_t* fb = in.field_begin.data();
  const std::string_view* values = in.fields.data();
  const uint8_t* nulls = in.is_null.data();
  // Text of field `src` of row r; false for a null or a missing field.
  auto get = [&](size_t r, size_t src, std::string_view* text) -> bool {
    const size_t b = fb[r];
    if (src >= fb[r + 1] - b || nulls[b + src]) return false;
    *text = values[b + src];
    return true;
  };

  // A uniform batch - every record has exactly input_fields_ fields, none
  // null, no record error - is a dense matrix: field `src` of row r is
  // values[r * input_fields_ + src]. (CSV batches always are.)
  bool uniform = in.record_errors.empty() && in.fields.size() == n * input_fields_ && fb[0] == 0;
  for (size_t r = 1; uniform && r <= n; ++r) uniform = fb[r] == r * input_fields_;
  if (uniform) {
    uint64_t any_null = 0;
    const size_t nv = in.is_null.size();
    size_t i = 0;
    for (; i + 8 <= nv; i += 8) {
      uint64_t w;
      std::memcpy(&w, nulls + i, 8);
      any_null |= w;
    }
    for (; i < nv; ++i) any_null |= nulls[i];
    uniform = any_null == 0;
  }

  // 3./4. Parse the columns (filter fields first) into scratch buffers.
  std::vector<ParsedColumn>& parsed = scratch.parsed;
  if (parsed.size() < nfields) parsed.resize(nfields);
  for (size_t c = 0; c < nfields; ++c) {
    ParsedColumn& pc = parsed[c];
    pc.null.resize(n);
    switch (fields_[c].type) {
      case DataType::kString: break;
      case DataType::kInt64:
      case DataType::kTimestamp: pc.i64.resize(n); break;
      case DataType::kDouble: pc.f64.resize(n); break;
      case DataType::kBool: pc.u8.resize(n); break;
      case DataType::kDate: pc.i32.resize(n); break;
    }
  }
  auto is_blank = [](std::string_view t) { return TrimAsciiWhitespace(t).empty(); };
  // Parses rows [r0, r1) of column c with parse(text, T*) into dst; a value
  // that does not parse (and is not blank) quarantines its row. `dense`: the
  // batch is uniform and these rows are all kRowOk, so no per-row checks.
  // Returns false if a row was quarantined.
  auto parse_rows = [&](size_t c, size_t r0, size_t r1, bool dense, auto* dst, auto&& parse) -> bool {
    uint8_t* null = parsed[c].null.data();
    const size_t src = source_index_[c];
    bool clean = true;
    if (dense) {
      const std::string_view* v = values + r0 * input_fields_ + src;
      for (size_t r = r0; r < r1; ++r, v += input_fields_) {
        const bool ok = parse(*v, &dst[r]);
        null[r] = !ok;
        if (!ok && !is_blank(*v)) {
          state[r] = kRowQuarantined;
          fail[r] = static_cast<int32_t>(c);
          clean = false;
        }
      }
      return clean;
    }
    for (size_t r = r0; r < r1; ++r) {
      std::string_view t;
      null[r] = 1;
      if (state[r] != kRowOk || !get(r, src, &t) || t.empty()) continue;
      if (parse(t, &dst[r])) {
        null[r] = 0;
      } else if (!is_blank(t)) {
        state[r] = kRowQuarantined;
        fail[r] = static_cast<int32_t>(c);
        clean = false;
      }
    }
    return clean;
  };
  auto parse_column = [&](size_t c, size_t r0, size_t r1, bool dense) -> bool {
    ParsedColumn& pc = parsed[c];
    const ValueParser& parser = parsers_[c];
    switch (fields_[c].type) {
      case DataType::kString: {
        const size_t src = source_index_[c];
        if (dense) {
          const std::string_view* v = values + r0 * input_fields_ + src;
          for (size_t r = r0; r < r1; ++r, v += input_fields_) pc.null[r] = v->empty();
        } else {
          for (size_t r = r0; r < r1; ++r) {
            std::string_view t;
            pc.null[r] = !(state[r] == kRowOk && get(r, src, &t) && !t.empty());
          }
        }
        return true;
      }
      case DataType::kInt64:
        return parse_rows(c, r0, r1, dense, pc.i64.data(),
                          [&](std::string_view t, int64_t* o) { return parser.ParseInt64(t, o); });
      case DataType::kDouble:
        return parse_rows(c, r0, r1, dense, pc.f64.data(),
                          [&](std::string_view t, double* o) { return parser.ParseDouble(t, o); });
      case DataType::kBool:
        return parse_rows(c, r0, r1, dense, pc.u8.data(), [&](std::string_view t, uint8_t* o) {
          bool b = false;
          const bool ok = parser.ParseBool(t, &b);
          *o = b;
          return ok;
        });
      case DataType::kDate:
        return parse_rows(c, r0, r1, dense, pc.i32.data(),
                          [&](std::string_view t, int32_t* o) { return parser.ParseDate(t, o); });
      case DataType::kTimestamp:
        return parse_rows(c, r0, r1, dense, pc.i64.data(),
                          [&](std::string_view t, int64_t* o) { return parser.ParseTimestamp(t, o); });
    }
    return true;
  };

  // Filter fields over the whole batch (every row is still kRowOk in a uniform batch).
  bool all_ok = uniform;  // every row is kRowOk
  for (size_t k = 0; k < num_filter_fields_; ++k) all_ok = parse_column(parse_order_[k], 0, n, all_ok) && all_ok;
  for (const CompiledFilter& f : filters_) {
    const ParsedColumn& pc = parsed[f.field];
    const DataType type = fields_[f.field].type;
    const size_t src = source_index_[f.field];
    for (size_t r = 0; r < n; ++r) {
      if (state[r] != kRowOk) continue;
      const bool null = pc.null[r] != 0;
      bool pass;
      if (f.op == FilterOp::kIsEmpty) {
        pass = null;
      } else if (f.op == FilterOp::kIsNotEmpty) {
        pass = !null;
      } else if (null) {
        pass = false;
      } else {
        const bool negate = f.op == FilterOp::kNotIn;
        const FilterOp op = (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) ? FilterOp::kEquals : f.op;
        bool any = false;
        std::string_view text;
        if (type == DataType::kString) {
          get(r, src, &text);
          text = Standardize(fields_[f.field].standardize, text).value_or(text);
        }
        for (const FilterValue& v : f.values) {
          bool m = false;
          switch (type) {
            case DataType::kString:
              if (op == FilterOp::kContains) {
                m = text.find(v.s) != std::string_view::npos;
              } else if (op == FilterOp::kStartsWith) {
                m = text.substr(0, v.s.size()) == v.s;
              } else {
                m = CompareValues<std::string_view>(op, text, v.s);
              }
              break;
            case DataType::kInt64:
            case DataType::kTimestamp: m = CompareValues<int64_t>(op, pc.i64[r], v.i); break;
            case DataType::kDouble: m = CompareValues<double>(op, pc.f64[r], v.d); break;
            case DataType::kBool: m = CompareValues<int64_t>(op, pc.u8[r], v.i); break;
            case DataType::kDate: m = CompareValues<int64_t>(op, pc.i32[r], v.i); break;
          }
          if (m) {
            any = true;
            break;
          }
        }
        pass = negate ? !any : any;
      }
      if (!pass) {
        state[r] = kRowFiltered;
        all_ok = false;
      }
    }
  }
  // The other fields in blocks of rows, so that a block's field views and
  // text stay in cache while each of its columns is parsed.
  constexpr size_t kBlockRows = 256;
  for (size_t r0 = 0; r0 < n; r0 += kBlockRows) {
    const size_t r1 = std::min(n, r0 + kBlockRows);
    bool dense = uniform;
    for (size_t r = r0; dense && r < r1; ++r) dense = state[r] == kRowOk;
    for (size_t k = num_filter_fields_; k < parse_order_.size(); ++k) {
      dense = parse_column(parse_order_[k], r0, r1, dense) && dense;
    }
    all_ok = all_ok && dense;
  }

  // Append the surviving rows.
  size_t converted = 0;
  for (size_t r = 0; r < n; ++r) converted += state[r] == kRowOk;
  if (any_standardize_ && stats->standardize.size() < nfields) stats->standardize.resize(nfields);
  for (size_t c = 0; c < nfields; ++c) {
    Column& col = out->mutable_column(c);
    const ParsedColumn& pc = parsed[c];
    const size_t src = source_index_[c];
    // Sized once for a fresh table; a table that grows over several batches
    // keeps the vectors' geometric growth.
    const bool fresh = col.size() == 0;
    if (fresh) col.Reserve(converted);
    if (const Standardizer std_by = fields_[c].standardize; std_by != Standardizer::kNone) {
      StandardizeCounts& counts = stats->standardize[c];
      for (size_t r = 0; r < n; ++r) {
        if (state[r] != kRowOk) continue;
        std::string_view t;
        if (pc.null[r] || !get(r, src, &t)) {
          col.AppendNull();
          continue;
        }
        std::optional<std::string_view> standard = Standardize(std_by, t);
        if (!standard) {
          ++counts.unknown;
          col.AppendString(t);
        } else {
          counts.standardized += *standard != t;
          col.AppendString(*standard);
        }
      }
      continue;
    }
    if (fields_[c].type == DataType::kString) {
      if (all_ok) {  // every row survives, field src of row r is values[r * input_fields_ + src]
        const std::string_view* v = values + src;
        if (fresh) {
          size_t chars = 0;
          for (size_t r = 0; r < n; ++r) chars += v[r * input_fields_].size();
          col.ReserveChars(chars);
        }
        for (size_t r = 0; r < n; ++r, v += input_fields_) {
          if (v->empty()) {
            col.AppendNull();
          } else {
            col.AppendString(*v);
          }
        }
        continue;
      }
      if (fresh) {
        size_t chars = 0;
        for (size_t r = 0; r < n; ++r) {
          if (state[r] == kRowOk && !pc.null[r]) chars += values[fb[r] + src].size();
        }
        col.ReserveChars(chars);
      }
    } else if (converted == n) {  // every row survives: one bulk append
      switch (fields_[c].type) {
        case DataType::kInt64:
        case DataType::kTimestamp: col.AppendInt64s(pc.i64.data(), pc.null.data(), n); break;
        case DataType::kDouble: col.AppendDoubles(pc.f64.data(), pc.null.data(), n); break;
        case DataType::kBool: col.AppendBools(pc.u8.data(), pc.null.data(), n); break;
        case DataType::kDate: col.AppendDates(pc.i32.data(), pc.null.data(), n); break;
        case DataType::kString: break;
      }
      continue;
    }
    // One typed loop per column.
    auto append_rows = [&](auto&& append_value) {
      for (size_t r = 0; r < n; ++r) {
        if (state[r] != kRowOk) continue;
        if (pc.null[r]) {
          col.AppendNull();
        } else {
          append_value(r);
        }
      }
    };
    switch (fields_[c].type) {
      case DataType::kString:
        append_rows([&](size_t r) {
          std::string_view t;
          get(r, src, &t);
          col.AppendString(t);
        });
        break;
      case DataType::kInt64: append_rows([&](size_t r) { col.AppendInt64(pc.i64[r]); }); break;
      case DataType::kTimestamp: append_rows([&](size_t r) { col.AppendTimestamp(pc.i64[r]); }); break;
      case DataType::kDouble: append_rows([&](size_t r) { col.AppendDouble(pc.f64[r]); }); break;
      case DataType::kBool: append_rows([&](size_t r) { col.AppendBool(pc.u8[r] != 0); }); break;
      case DataType::kDate: append_rows([&](size_t r) { col.AppendDate(pc.i32[r]); }); break;
    }
  }
  for (size_t r = 0; r < converted; ++r) out->FinishRow();

  // Quarantine entries, in input order.
  size_t quarantined = 0;
  size_t filtered = 0;
  for (size_t r = 0; r < n; ++r) {
    if (state[r] == kRowFiltered) ++filtered;
    if (state[r] != kRowQuarantined) continue;
    ++quarantined;
    QuarantinedRecord q;
    q.line = r < in.line.size() ? in.line[r] : 0;
    q.last_line = q.line;
    if (fail[r] == kFailRecordError) {
      const size_t e = static_cast<size_t>(error_of_row[r]);
      q.reason = in.record_errors[e].second;
      if (e < in.record_error_inputs.size()) {
        q.raw_record = in.record_error_inputs[e].raw;
        q.last_line = std::max(q.line, in.record_error_inputs[e].last_line);
      }
    } else if (fail[r] == kFailFieldCount) {
      q.reason = "expected " + std::to_string(input_fields_) + " fields, found " + std::to_string(in.num_fields(r));
      q.raw_record = JoinRecord(in, r);
    } else {
      const size_t c = static_cast<size_t>(fail[r]);
      std::string_view t;
      get(r, source_index_[c], &t);
      q.field = fields_[c].source_field;
      q.value = Truncate(t, kMaxValueBytes);
      q.reason = parsers_[c].FailureReason(t);
      q.raw_record = JoinRecord(in, r);
    }
    quarantine->push_back(std::move(q));
  }
  stats->rows_read += static_cast<int64_t>(n);
  stats->rows_converted += static_cast<int64_t>(converted);
  stats->rows_quarantined += static_cast<int64_t>(quarantined);
  stats->rows_filtered += static_cast<int64_t>(filtered);
  return Status::Ok();
}

}  // namespace cdp
