// libFuzzer target of the formula parser (engine/formula.h). Any text must
// parse to InvalidArgument or to a formula whose canonical form
// (FormulaToString) parses to a formula with the same canonical form and the
// same measure references (unless the fully parenthesized form nests
// deeper than the parser allows).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/formula.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "formula_fuzz: %s\n", what.c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = cdp::ParseFormula(text);
  if (!f.ok()) {
    if (f.status().code() != cdp::StatusCode::kInvalidArgument) Fail("not InvalidArgument: " + f.status().ToString());
    return 0;
  }
  std::vector<std::string> refs;
  cdp::CollectMeasureReferences(**f, &refs);
  const std::string canonical = cdp::FormulaToString(**f);
  auto again = cdp::ParseFormula(canonical);
  // The canonical form parenthesizes every operation, so it may nest deeper
  // than the parser's limit when the formula itself did not.
  if (!again.ok() && again.status().message().find("nested too deeply") != std::string::npos) return 0;
  if (!again.ok()) Fail("the canonical form '" + canonical + "' does not parse: " + again.status().ToString());
  const std::string twice = cdp::FormulaToString(**again);
  if (twice != canonical) Fail("canonical form not stable: '" + canonical + "' -> '" + twice + "'");
  std::vector<std::string> refs_again;
  cdp::CollectMeasureReferences(**again, &refs_again);
  if (refs != refs_again) Fail("measure references change through '" + canonical + "'");
  return 0;
}
