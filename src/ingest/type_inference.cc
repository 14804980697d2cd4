#include "ingest/type_inference.h"

#include <algorithm>
#include <unordered_map>

#include "common/datetime.h"

namespace cdp {
namespace {

// Candidate bits.
enum : uint32_t {
  kBool = 1u << 0,
  kInt = 1u << 1,
  kDoubleDot = 1u << 2,
  kDoubleComma = 1u << 3,
  kDateFirst = 4,  // bits 4..8: dates in kDateStyles order
  kTimestampFirst = 9,  // bits 9..13: timestamps in kDateStyles order
};
constexpr DateStyle kDateStyles[5] = {DateStyle::kIso, DateStyle::kMonthDayYear, DateStyle::kDayMonthYear,
                                      DateStyle::kDayMonthYearDot, DateStyle::kCompact};
constexpr int kCompactIndex = 4;
constexpr uint32_t DateBit(int i) { return 1u << (kDateFirst + i); }
constexpr uint32_t TimestampBit(int i) { return 1u << (kTimestampFirst + i); }
constexpr uint32_t kAllDates = 0x1Fu << kDateFirst;
constexpr uint32_t kAllTimestamps = 0x1Fu << kTimestampFirst;
constexpr uint32_t kAllCandidates = kBool | kInt | kDoubleDot | kDoubleComma | kAllDates | kAllTimestamps;

bool IsPlausibleCompactDate(std::string_view t) {
  int32_t days;
  if (t.size() != 8 || !ParseDate(t, DateStyle::kCompact, &days)) return false;
  int year = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
  return year >= 1850 && year <= 2150;
}

int FirstAlive(uint32_t alive, int first_bit, int count) {
  for (int i = 0; i < count; ++i) {
    if (alive & (1u << (first_bit + i))) return i;
  }
  return -1;
}

}  // namespace

TypeInferrer::TypeInferrer(InferenceOptions options) : options_(std::move(options)) {}

void TypeInferrer::AddValue(FieldState* state, std::string_view text) const {
  std::string_view t = TrimAsciiWhitespace(text);
  if (t.empty()) return;
  ++state->non_empty;
  uint32_t alive = state->alive;

  // All digits (with an optional sign)?
  size_t d0 = (t[0] == '+' || t[0] == '-') ? 1 : 0;
  bool digits = d0 < t.size();
  for (size_t i = d0; i < t.size() && digits; ++i) digits = t[i] >= '0' && t[i] <= '9';
  if (digits && t.size() - d0 > 1 && t[d0] == '0') alive &= ~(kInt | kDoubleDot | kDoubleComma);

  if (alive & kBool) {
    bool b;
    if (!ParseBool(t, &b)) alive &= ~kBool;
  }
  if (alive & kInt) {
    int64_t v;
    if (!ParseInt64(t, &v)) {
      alive &= ~kInt;
      if (digits) alive &= ~(kDoubleDot | kDoubleComma);  // too long for int64: an identifier
    }
  }
  if (alive & kDoubleDot) {
    double v;
    if (!ParseDouble(t, &v, false)) alive &= ~kDoubleDot;
  }
  if (alive & kDoubleComma) {
    double v;
    if (!ParseDouble(t, &v, true)) alive &= ~kDoubleComma;
  }
  // Dates are tried in every style even after a failure (counts for overrides).
  // A value that does not start with a digit is no date in any style.
  if (t[0] >= '0' && t[0] <= '9') {
    for (int i = 0; i < 5; ++i) {
      int32_t days;
      bool ok = i == kCompactIndex ? IsPlausibleCompactDate(t) : ParseDate(t, kDateStyles[i], &days);
      if (ok) ++state->date_ok[i];
      int64_t micros;
      ok = ParseTimestamp(t, kDateStyles[i], &micros);
      if (ok && i == kCompactIndex) ok = IsPlausibleCompactDate(t.substr(0, 8));
      if (ok) ++state->timestamp_ok[i];
    }
  }
  for (int i = 0; i < 5; ++i) {
    if (state->date_ok[i] != state->non_empty) alive &= ~DateBit(i);
    if (state->timestamp_ok[i] != state->non_empty) alive &= ~TimestampBit(i);
  }
  state->alive = alive;
}

void TypeInferrer::Add(const RawRecordBatch& batch) {
  const size_t n = batch.num_records();
  size_t error_index = 0;
  for (size_t r = 0; r < n && !done(); ++r) {
    ++records_seen_;
    while (error_index < batch.record_errors.size() && batch.record_errors[error_index].first < r) ++error_index;
    if (error_index < batch.record_errors.size() && batch.record_errors[error_index].first == r) continue;
    const size_t nf = batch.num_fields(r);
    if (fields_.size() < nf) {
      FieldState initial;
      initial.alive = kAllCandidates & ~(options_.decimal_comma ? kDoubleDot : 0u);
      fields_.resize(nf, initial);
    }
    for (size_t f = 0; f < nf; ++f) {
      if (batch.field_is_null(r, f)) continue;
      AddValue(&fields_[f], batch.field(r, f));
    }
  }
}

std::vector<InferredField> TypeInferrer::Finish(const std::vector<std::string>& names) const {
  std::vector<InferredField> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) out.push_back(Resolve(i, names[i], std::nullopt, std::nullopt));
  return out;
}

InferredField TypeInferrer::Resolve(size_t index, const std::string& name, std::optional<DataType> type,
                                    std::optional<ValueFormat> format) const {
  InferredField f;
  f.name = name;
  const FieldState state = index < fields_.size() ? fields_[index] : FieldState{};
  f.non_empty_values = state.non_empty;
  const uint32_t alive = state.non_empty == 0 ? 0u : state.alive;
  f.yyyymmdd_candidate = (alive & DateBit(kCompactIndex)) != 0;
  const bool comma = options_.decimal_comma || (!(alive & kDoubleDot) && (alive & kDoubleComma));

  auto date_format = [&](bool timestamp) {
    ValueFormat vf;
    int first = timestamp ? FirstAlive(alive, kTimestampFirst, 5) : -1;
    if (first < 0) first = FirstAlive(alive, kDateFirst, 5);
    if (first < 0) {  // no style fits every value: take the one that fits most
      const uint32_t* ok = timestamp ? state.timestamp_ok : state.date_ok;
      for (int k = 0; k < 5; ++k) {
        if (ok[k] > 0 && (first < 0 || ok[k] > ok[first])) first = k;
      }
    }
    if (first >= 0) vf.date_style = kDateStyles[first];
    return vf;
  };

  if (type) {
    f.type = *type;
    if (f.type == DataType::kDate) f.format = date_format(false);
    if (f.type == DataType::kTimestamp) f.format = date_format(true);
    if (f.type == DataType::kDouble) f.format.decimal_comma = comma;
    if (format) {
      const bool keep_comma = f.format.decimal_comma;
      f.format = *format;
      f.format.decimal_comma = f.format.decimal_comma || keep_comma;
    }
    return f;
  }
  if (format && (format->date_style != DateStyle::kAuto || format->decimal_comma)) {
    f.format = *format;
    if (format->date_style == DateStyle::kPattern) {
      const bool has_hour =
          format->pattern.find("%H") != std::string::npos || format->pattern.find("%I") != std::string::npos;
      f.type = has_hour ? DataType::kTimestamp : DataType::kDate;
    } else if (format->date_style != DateStyle::kAuto) {
      const int idx = static_cast<int>(std::find(std::begin(kDateStyles), std::end(kDateStyles), format->date_style) -
                                       std::begin(kDateStyles));
      const bool all_dates = state.non_empty == 0 || (idx < 5 && (alive & DateBit(idx)));
      f.type = all_dates ? DataType::kDate : DataType::kTimestamp;
    } else {
      f.type = DataType::kDouble;
    }
    return f;
  }
  if (!options_.infer_types) return f;  // string

  // Inference proper. Compact dates are not chosen here.
  const uint32_t plain_dates = kAllDates & ~DateBit(kCompactIndex);
  const uint32_t plain_timestamps = kAllTimestamps & ~TimestampBit(kCompactIndex);
  if (alive & kBool) {
    f.type = DataType::kBool;
  } else if (alive & kInt) {
    f.type = DataType::kInt64;
  } else if (alive & (kDoubleDot | kDoubleComma)) {
    f.type = DataType::kDouble;
    f.format.decimal_comma = comma;
  } else if (alive & plain_dates) {
    f.type = DataType::kDate;
    f.format.date_style = kDateStyles[FirstAlive(alive & plain_dates, kDateFirst, 5)];
  } else if (alive & plain_timestamps) {
    f.type = DataType::kTimestamp;
    f.format.date_style = kDateStyles[FirstAlive(alive & plain_timestamps, kTimestampFirst, 5)];
  }
  return f;
}

StatusOr<std::vector<InferredField>> InferFieldTypes(RecordReader& reader, const InferenceOptions& options) {
  TypeInferrer inferrer(options);
  RawRecordBatch batch;
  while (!inferrer.done()) {
    const size_t want = std::min<size_t>(4096, options.max_records - inferrer.records_seen());
    CDP_ASSIGN_OR_RETURN(bool more, reader.Next(&batch, want));
    if (!more) break;
    inferrer.Add(batch);
  }
  return inferrer.Finish(reader.field_names());
}

}  // namespace cdp

namespace cdp {

StatusOr<std::vector<FieldSpec>> InferFieldSpecs(const std::vector<std::string>& input_names,
                                                 const std::vector<RawRecordBatch>& sample,
                                                 const std::vector<FieldOverride>& declared,
                                                 const InferenceOptions& options) {
  std::unordered_map<std::string_view, size_t> input_index;
  for (size_t i = 0; i < input_names.size(); ++i) input_index.emplace(input_names[i], i);

  // Validate the declarations and group them by input field.
  std::vector<std::vector<size_t>> declared_for(input_names.size());
  std::vector<std::optional<ValueFormat>> formats(declared.size());
  std::unordered_map<std::string_view, size_t> declared_names;
  for (size_t d = 0; d < declared.size(); ++d) {
    const FieldOverride& o = declared[d];
    if (o.name.empty()) return InvalidArgumentError("declared field " + std::to_string(d + 1) + " has no name");
    const std::string& source = o.source_field.empty() ? o.name : o.source_field;
    auto it = input_index.find(source);
    if (it == input_index.end()) {
      std::string list;
      for (size_t k = 0; k < input_names.size() && k < 50; ++k) list += (k ? ", " : "") + input_names[k];
      if (input_names.size() > 50) list += ", ...";
      if (input_names.empty()) list = "(none)";
      return NotFoundError("declared field '" + source + "' not found in the input; fields are: " + list);
    }
    if (!o.format.empty()) {
      auto f = ParseDateFormat(o.format);
      if (!f.ok()) return f.status().WithContext("field '" + o.name + "'");
      if (f->date_style != DateStyle::kAuto) formats[d] = *f;
    }
    if (!o.semantic.empty() && !IsValidSemanticTypeName(o.semantic)) {
      return InvalidArgumentError("field '" + o.name + "': '" + o.semantic + "' is not a valid semantic type");
    }
    declared_names.emplace(o.name, d);
    declared_for[it->second].push_back(d);
  }

  TypeInferrer inferrer(options);
  for (const RawRecordBatch& batch : sample) {
    if (inferrer.done()) break;
    inferrer.Add(batch);
  }

  std::vector<FieldSpec> specs;
  for (size_t i = 0; i < input_names.size(); ++i) {
    if (declared_for[i].empty()) {
      auto clash = declared_names.find(input_names[i]);
      if (clash != declared_names.end()) {
        const FieldOverride& o = declared[clash->second];
        return InvalidArgumentError("input field '" + input_names[i] + "' has the name of declared field '" + o.name +
                                    "' (source field '" + o.source_field +
                                    "'); declare the input field under another name");
      }
      InferredField f = inferrer.Resolve(i, input_names[i], std::nullopt, std::nullopt);
      FieldSpec spec;
      spec.name = input_names[i];
      spec.source_field = input_names[i];
      spec.type = f.type;
      spec.format = f.format;
      specs.push_back(std::move(spec));
      continue;
    }
    for (size_t d : declared_for[i]) {
      const FieldOverride& o = declared[d];
      std::optional<DataType> type = o.type;
      if (!type && o.standardize != Standardizer::kNone) type = DataType::kString;
      InferredField f = inferrer.Resolve(i, input_names[i], type, formats[d]);
      FieldSpec spec;
      spec.name = o.name;
      spec.source_field = input_names[i];
      spec.type = f.type;
      spec.format = f.format;
      spec.semantic = SemanticType(o.semantic);
      spec.standardize = o.standardize;
      specs.push_back(std::move(spec));
    }
  }
  return specs;
}

}  // namespace cdp
