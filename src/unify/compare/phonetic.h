// Phonetic codes of names for record matching: American Soundex and Lawrence
// Philips' Double Metaphone. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cdp {

// American Soundex of the first word of `word` (the text up to the first ASCII
// whitespace after leading whitespace). Latin accented letters of
// U+00C0..U+017F are folded first (é -> e, ß -> ss, Æ -> AE); every other
// non-letter inside the word (apostrophe, hyphen, digit, other scripts) is
// skipped as if absent. Examples: "Robert" -> "R163", "Tymczak" -> "T522",
// "Pfister" -> "P236", "O'Hara" -> "O600". "" when the word has no letter.
std::string Soundex(std::string_view word);

struct DoubleMetaphoneCodes {
  std::string primary;
  std::string alternate;  // equals primary when the name has no alternative reading
  bool operator==(const DoubleMetaphoneCodes&) const = default;
};

// Double Metaphone (Lawrence Philips, C/C++ Users Journal, June 2000) of the
// whole input, as in the original: letters are upper-cased, Latin accented
// letters folded (Ç reads as S, Ñ as N, é as E...), other characters kept as
// separators so that rules like "VAN "/"SAN " apply; leading and trailing
// non-letters are ignored. Codes are truncated to max_length (default 4).
// Examples: "Smith" -> {"SM0", "XMT"}, "Schmidt" -> {"XMT", "SMT"},
// "Xavier" -> {"SF", "SFR"}. Both codes "" for input with no letter.
DoubleMetaphoneCodes DoubleMetaphone(std::string_view word, size_t max_length = 4);

}  // namespace cdp
