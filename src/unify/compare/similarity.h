// String similarity measures used by record matching: Levenshtein distance and
// the Dynamics 365 Customer Insights fuzzy similarity over Unicode code
// points, Jaro-Winkler, and parsing of named fuzzy precisions.
// All functions are pure and thread-safe; strings of up to 64 code points are
// compared without heap allocation.
#pragma once

#include <limits>
#include <string_view>

#include "common/status.h"

namespace cdp {

// Levenshtein distance (insert, delete, substitute, each cost 1) over the
// Unicode code points of UTF-8 input; a byte that is not part of a
// well-formed UTF-8 sequence counts as one unit of its own. With
// max_distance, returns max_distance + 1 as soon as the distance is known to
// exceed it (so a threshold test is cheap); the result is exact whenever it is
// <= max_distance. A negative max_distance is treated as 0.
int EditDistance(std::string_view a, std::string_view b, int max_distance = std::numeric_limits<int>::max());

// Dynamics 365 Customer Insights' fuzzy similarity:
// (len - EditDistance(a, b)) / len with len the larger code-point length.
// 1.0 when a and b are equal (including both empty), 0.0 when exactly one is
// empty.
double EditSimilarity(std::string_view a, std::string_view b);

// True iff EditSimilarity(a, b) >= threshold (false for a NaN threshold),
// computing only a distance bounded by what the threshold allows and
// rejecting on the length difference first. When the result is true and
// similarity is non-null, *similarity receives exactly EditSimilarity(a, b);
// otherwise *similarity is left untouched.
bool EditSimilarityAtLeast(std::string_view a, std::string_view b, double threshold, double* similarity = nullptr);

// Jaro-Winkler similarity over code points: Jaro similarity with match window
// max(len_a, len_b) / 2 - 1 and half the out-of-order matches as
// transpositions, then Winkler's prefix boost j + l * 0.1 * (1 - j) with l the
// common prefix length capped at 4, applied when j > 0.7 (Winkler's boost
// threshold). Both empty -> 1.0, exactly one empty -> 0.0.
double JaroWinkler(std::string_view a, std::string_view b);

// Token-set similarity (the overlap coefficient): |A ∩ B| / min(|A|, |B|) where A and B are
// the sets of distinct words of a and b (words: runs of bytes other than ASCII blanks), so
// word order and repeated words do not matter and a name whose words all appear in the
// other scores 1.0 ("bel air" / "air bel hotel"). Both without words -> 1.0, exactly one ->
// 0.0. Words compare byte for byte: normalize first (Organization, Name, Lowercase).
double TokenSetSimilarity(std::string_view a, std::string_view b);

// Fuzzy precision as Dynamics 365 names it: "Low" 0.30, "Medium" 0.60,
// "High" 0.80, "Exact" 1.00 (case-insensitive), or a decimal number in
// [0, 1] such as "0.75"; surrounding ASCII whitespace is ignored.
// InvalidArgument naming the value and the accepted ones otherwise.
StatusOr<double> ParsePrecision(std::string_view text);

}  // namespace cdp
