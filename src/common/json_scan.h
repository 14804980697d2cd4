// A pre-scan of JSON text, without recursion, for what a JSON parser should
// not be trusted with: nesting deeper than a limit (recursive parsers, walks
// and printers overflow the stack on 100,000 levels), an object key given
// twice (parsers keep one of the values silently) and, for definitions, a
// NUL character in text. It looks only at brackets, strings and keys: syntax
// errors are left to the parser. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp {

struct JsonScanOptions {
  size_t max_depth = 64;              // arrays and objects nested deeper are an error
  bool refuse_duplicate_keys = true;  // an object key given twice is an error
  bool refuse_nul_characters = false;  // a \u0000 in a key or text value is an error
};

// OK, or InvalidArgument:
//   "line 3: nested deeper than 64 levels (the limit)"
//   "line 9: rules[0].conditions[1]: key 'op' appears twice (first on line 8)"
//   "line 2: rules[0].entity: text contains a NUL character (\u0000)"
// Keys are compared after unescaping ("a" and "\u0061" are the same key).
Status ScanJson(std::string_view text, const JsonScanOptions& options = {});

// True if arrays and objects in `text` nest deeper than `max_depth`. Cheap for
// the common case: text with at most max_depth opening brackets is not
// scanned further.
bool JsonNestsDeeperThan(std::string_view text, size_t max_depth);

}  // namespace cdp
