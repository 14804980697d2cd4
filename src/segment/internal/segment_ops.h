// Shared by validation and evaluation: literal conversion, date windows and
// anniversaries (the operator table is segment/segment_operators.h). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/datetime.h"
#include "config/model_config.h"
#include "config/time_window.h"
#include "segment/segment_definition.h"
#include "segment/segment_operators.h"
#include "table/types.h"

namespace cdp::segment_internal {

// Literal conversions; nullopt when the value does not fit.
std::optional<double> AsDouble(const SegmentValue& v);    // number or numeric text
std::optional<int64_t> AsInt64(const SegmentValue& v);    // whole number (or whole numeric text)
std::optional<bool> AsBool(const SegmentValue& v);        // bool or "true"/"false"
std::optional<std::string> AsText(const SegmentValue& v); // text or whole number
std::optional<int32_t> AsDate(const SegmentValue& v);     // "YYYY-MM-DD"

// True when the next anniversary (same month and day; Feb 29 -> Feb 28 in
// common years) of `date` on or after `run` is at most `n` days after `run`.
bool AnniversaryWithin(int32_t date, int32_t run, int64_t n);

}  // namespace cdp::segment_internal
