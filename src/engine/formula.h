// Formula measures: a small arithmetic language over other attribute
// measures, parsed to a typed AST (never evaluated as code). Grammar:
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER | MEASURE | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
//   FUNC    := days_since (one argument: a date/timestamp measure)
//            | coalesce (two or more arguments: the first non-null)
// Value types; thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

struct FormulaNode {
  enum class Kind { kNumber, kMeasure, kNegate, kAdd, kSubtract, kMultiply, kDivide, kDaysSince, kCoalesce };
  Kind kind = Kind::kNumber;
  double number = 0;       // kNumber
  std::string measure;     // kMeasure
  size_t position = 0;     // 1-based character position in the text, for messages
  std::vector<std::unique_ptr<FormulaNode>> args;
};

// Parses `text`. Errors: InvalidArgument "at position P: ..." for an
// unexpected character or token, a number beyond the double range, a
// missing ')', an unknown function or a wrong number of arguments.
StatusOr<std::unique_ptr<FormulaNode>> ParseFormula(std::string_view text);

// Names of the measures the formula refers to, in order of appearance.
void CollectMeasureReferences(const FormulaNode& node, std::vector<std::string>* out);

// The formula written back in canonical, fully parenthesized form (tests).
std::string FormulaToString(const FormulaNode& node);

}  // namespace cdp
