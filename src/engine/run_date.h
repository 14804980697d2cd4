// Whether a measure's values depend on the run date ("today"): a relative
// time window, or a formula that calls days_since. Read from the parsed
// definition, never from its text. Pure functions; thread-safe.
#pragma once

#include <vector>

#include "config/model_config.h"
#include "engine/formula.h"

namespace cdp {

// True when the formula (or any argument below it) calls days_since.
inline bool DependsOnRunDate(const FormulaNode& node) {
  if (node.kind == FormulaNode::Kind::kDaysSince) return true;
  for (const auto& arg : node.args) {
    if (arg && DependsOnRunDate(*arg)) return true;
  }
  return false;
}

// True when the measure's window is relative to the run date (last n units,
// this or last period) or its formula calls days_since. A formula that does
// not parse counts as depending on it (the measures stage reports the error).
inline bool DependsOnRunDate(const MeasureConfig& measure) {
  WindowKind k = measure.window.kind;
  if (k == WindowKind::kLast || k == WindowKind::kThisPeriod || k == WindowKind::kLastPeriod) return true;
  if (measure.formula.empty()) return false;
  auto parsed = ParseFormula(measure.formula);
  return !parsed.ok() || DependsOnRunDate(**parsed);
}

inline bool DependsOnRunDate(const std::vector<MeasureConfig>& measures) {
  for (const auto& m : measures) {
    if (DependsOnRunDate(m)) return true;
  }
  return false;
}

}  // namespace cdp
