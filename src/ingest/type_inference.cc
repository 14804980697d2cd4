#include "ingest/type_inference.h"

#include <algorithm>

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
  for (size_t i = 0; i < names.size(); ++i) {
    InferredField f;
    f.name = names[i];
    FieldState state = i < fields_.size() ? fields_[i] : FieldState{};
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

    // Inference without overrides. Compact dates are not chosen here.
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
    } else {
      f.type = DataType::kString;
    }

    auto ov = options_.overrides.find(f.name);
    if (ov != options_.overrides.end() && (ov->second.type || ov->second.format)) {
      const FieldOverride& o = ov->second;
      f.overridden = true;
      if (o.type) {
        f.type = *o.type;
        f.format = ValueFormat{};
        if (f.type == DataType::kDate) f.format = date_format(false);
        if (f.type == DataType::kTimestamp) f.format = date_format(true);
        if (f.type == DataType::kDouble) f.format.decimal_comma = comma;
        if (o.format) f.format = *o.format;
      } else {
        const ValueFormat& vf = *o.format;
        f.format = vf;
        if (vf.date_style == DateStyle::kPattern) {
          bool has_hour = vf.pattern.find("%H") != std::string::npos || vf.pattern.find("%I") != std::string::npos;
          f.type = has_hour ? DataType::kTimestamp : DataType::kDate;
        } else if (vf.date_style != DateStyle::kAuto) {
          const int idx = static_cast<int>(std::find(std::begin(kDateStyles), std::end(kDateStyles), vf.date_style) -
                                           std::begin(kDateStyles));
          const bool all_dates = state.non_empty == 0 || (idx < 5 && (alive & DateBit(idx)));
          f.type = all_dates ? DataType::kDate : DataType::kTimestamp;
        } else if (vf.decimal_comma) {
          f.type = DataType::kDouble;
        }
      }
    } else if (options_.decimal_comma && f.type == DataType::kDouble) {
      f.format.decimal_comma = true;
    }
    out.push_back(std::move(f));
  }
  return out;
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
