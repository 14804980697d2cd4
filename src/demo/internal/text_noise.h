// UTF-8 aware string perturbations used to dirty demo records: accent folding, case changes and
// single-edit typos. Only Latin-1 letters are treated specially; other bytes are kept as they are.
// Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "demo/internal/random.h"

namespace cdp::demo_internal {

bool HasNonAscii(std::string_view text);
// Appends `text` with accents removed (José -> Jose, Müller -> Muller, Łukasik -> Lukasik).
void AppendFolded(std::string& out, std::string_view text);
// Appends the folded, lower-cased letters, digits and hyphens of `text` (for email local parts).
void AppendEmailToken(std::string& out, std::string_view text);
void ToUpperInPlace(std::string& text);
void ToLowerInPlace(std::string& text);
// Applies one edit (substitution by a keyboard neighbour, deletion, insertion or transposition)
// at an ASCII letter other than the first; strings shorter than 3 bytes are left alone.
void ApplyTypo(std::string& text, Rng& rng);

}  // namespace cdp::demo_internal
