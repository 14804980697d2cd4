// The individual normalization steps behind NormalizerChain (see ../README.md for each one's
// exact behaviour). Each step reads `in` and replaces *out's contents; `in` must not point
// into *out. All functions are thread-safe (they only read immutable tables).
#pragma once

#include <string>
#include <string_view>

namespace cdp::normalize_internal {

// Outer blanks (ASCII and Unicode white space) removed.
std::string_view TrimBlanks(std::string_view s);

void RemoveWhitespace(std::string_view in, std::string* out);
void RemoveSymbols(std::string_view in, std::string* out);
void ConvertNumerals(std::string_view in, std::string* out);
void CaseFold(std::string_view in, std::string* out);
void FoldToAscii(std::string_view in, std::string* out);
void NormalizeName(std::string_view in, std::string* out);
void NormalizeAddress(std::string_view in, std::string* out);
void NormalizeOrganization(std::string_view in, std::string* out);
void NormalizeEmail(std::string_view in, std::string* out);
void NormalizeEmailProvider(std::string_view in, std::string* out);

}  // namespace cdp::normalize_internal
