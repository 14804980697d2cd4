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
// Email and EmailProvider return false when the address is a placeholder: its local part is
// a word for "no address" (test, noemail, none, noreply, ...) or its domain is reserved for
// examples or dummies (example.com, test.com, none.com, *.invalid, ...); *out is then "".
bool NormalizeEmail(std::string_view in, std::string* out);
bool NormalizeEmailProvider(std::string_view in, std::string* out);

// Whether a lowercase ASCII word (periods removed: "phd", "jr") is a title (mr, dr, ...) or a
// suffix (jr, iii, phd, ...) that Name removes.
bool IsNameTitle(std::string_view word);
bool IsNameSuffix(std::string_view word);

}  // namespace cdp::normalize_internal
