#include "engine/formula.h"

#include <cctype>
#include <cmath>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "common/value_text.h"

namespace cdp {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  StatusOr<std::unique_ptr<FormulaNode>> Parse() {
    SkipSpace();
    if (i_ == s_.size()) return InvalidArgumentError("the formula is empty");
    auto e = Expr();
    if (!e.ok()) return e;
    SkipSpace();
    if (i_ != s_.size()) return Error("unexpected " + Describe());
    return e;
  }

 private:
  using NodeOr = StatusOr<std::unique_ptr<FormulaNode>>;

  Status Error(const std::string& what) const {
    return InvalidArgumentError("at position " + std::to_string(i_ + 1) + ": " + what);
  }
  std::string Describe() const {
    if (i_ >= s_.size()) return "end of formula";
    return "'" + std::string(1, s_[i_]) + "'";
  }
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool Accept(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static std::unique_ptr<FormulaNode> Make(FormulaNode::Kind k, size_t pos) {
    auto n = std::make_unique<FormulaNode>();
    n->kind = k;
    n->position = pos;
    return n;
  }
  static std::unique_ptr<FormulaNode> Binary(FormulaNode::Kind k, size_t pos, std::unique_ptr<FormulaNode> a,
                                             std::unique_ptr<FormulaNode> b) {
    auto n = Make(k, pos);
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return n;
  }

  NodeOr Expr() {
    if (++depth_ > kMaxDepth) return Error("the formula is nested too deeply");
    auto left = Term();
    if (!left.ok()) return left;
    std::unique_ptr<FormulaNode> acc = std::move(left).value();
    for (;;) {
      SkipSpace();
      size_t pos = i_ + 1;
      FormulaNode::Kind k;
      if (Accept('+')) {
        k = FormulaNode::Kind::kAdd;
      } else if (Accept('-')) {
        k = FormulaNode::Kind::kSubtract;
      } else {
        break;
      }
      auto right = Term();
      if (!right.ok()) return right;
      acc = Binary(k, pos, std::move(acc), std::move(right).value());
    }
    --depth_;
    return acc;
  }

  NodeOr Term() {
    auto left = Unary();
    if (!left.ok()) return left;
    std::unique_ptr<FormulaNode> acc = std::move(left).value();
    for (;;) {
      SkipSpace();
      size_t pos = i_ + 1;
      FormulaNode::Kind k;
      if (Accept('*')) {
        k = FormulaNode::Kind::kMultiply;
      } else if (Accept('/')) {
        k = FormulaNode::Kind::kDivide;
      } else {
        break;
      }
      auto right = Unary();
      if (!right.ok()) return right;
      acc = Binary(k, pos, std::move(acc), std::move(right).value());
    }
    return acc;
  }

  NodeOr Unary() {
    SkipSpace();
    size_t pos = i_ + 1;
    if (Accept('-')) {
      if (++depth_ > kMaxDepth) return Error("the formula is nested too deeply");
      auto a = Unary();
      --depth_;
      if (!a.ok()) return a;
      auto n = Make(FormulaNode::Kind::kNegate, pos);
      n->args.push_back(std::move(a).value());
      return n;
    }
    return Primary();
  }

  NodeOr Primary() {
    SkipSpace();
    if (i_ >= s_.size()) return Error("expected a number, a measure or '(' but found end of formula");
    size_t start = i_;
    char c = s_[i_];
    if (c == '(') {
      ++i_;
      auto e = Expr();
      if (!e.ok()) return e;
      if (!Accept(')')) return Error("expected ')' (opened at position " + std::to_string(start + 1) + ") but found " + Describe());
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t j = i_;
      while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.')) ++j;
      if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
        size_t k = j + 1;
        if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
        if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
          while (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) ++k;
          j = k;
        }
      }
      std::string tok(s_.substr(i_, j - i_));
      double v;
      bool out_of_range;
      if (!ParseNumber(tok, &v, &out_of_range)) {
        // (A literal beyond the double range is refused: as infinity it would
        // print as "inf", which reads back as a measure name.)
        return Error("'" + tok + "' " + (out_of_range ? "is out of range" : "is not a number"));
      }
      i_ = j;
      auto n = Make(FormulaNode::Kind::kNumber, start + 1);
      n->number = v;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
      std::string name(s_.substr(i_, j - i_));
      i_ = j;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == '(') {
        std::string lower;
        for (char ch : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        FormulaNode::Kind k;
        if (lower == "days_since") {
          k = FormulaNode::Kind::kDaysSince;
        } else if (lower == "coalesce") {
          k = FormulaNode::Kind::kCoalesce;
        } else {
          i_ = start;
          return Error("unknown function '" + name + "' (functions: days_since, coalesce)");
        }
        ++i_;
        auto n = Make(k, start + 1);
        for (;;) {
          auto a = Expr();
          if (!a.ok()) return a;
          n->args.push_back(std::move(a).value());
          if (Accept(',')) continue;
          if (Accept(')')) break;
          return Error("expected ',' or ')' in the arguments of " + name + " but found " + Describe());
        }
        if (k == FormulaNode::Kind::kDaysSince && n->args.size() != 1) {
          i_ = start;
          return Error("days_since takes one argument, got " + std::to_string(n->args.size()));
        }
        if (k == FormulaNode::Kind::kCoalesce && n->args.size() < 2) {
          i_ = start;
          return Error("coalesce takes two or more arguments, got " + std::to_string(n->args.size()));
        }
        return n;
      }
      auto n = Make(FormulaNode::Kind::kMeasure, start + 1);
      n->measure = std::move(name);
      return n;
    }
    return Error("expected a number, a measure or '(' but found " + Describe());
  }

  static constexpr int kMaxDepth = 200;
  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<FormulaNode>> ParseFormula(std::string_view text) { return Parser(text).Parse(); }

void CollectMeasureReferences(const FormulaNode& node, std::vector<std::string>* out) {
  if (node.kind == FormulaNode::Kind::kMeasure) out->push_back(node.measure);
  for (const auto& a : node.args) CollectMeasureReferences(*a, out);
}

std::string FormulaToString(const FormulaNode& node) {
  using K = FormulaNode::Kind;
  switch (node.kind) {
    case K::kNumber: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", node.number);
      return buf;
    }
    case K::kMeasure: return node.measure;
    case K::kNegate: return "(-" + FormulaToString(*node.args[0]) + ")";
    case K::kAdd:
    case K::kSubtract:
    case K::kMultiply:
    case K::kDivide: {
      const char* op = node.kind == K::kAdd ? " + " : node.kind == K::kSubtract ? " - " : node.kind == K::kMultiply ? " * " : " / ";
      return "(" + FormulaToString(*node.args[0]) + op + FormulaToString(*node.args[1]) + ")";
    }
    case K::kDaysSince:
    case K::kCoalesce: {
      std::string s = node.kind == K::kDaysSince ? "days_since(" : "coalesce(";
      for (size_t i = 0; i < node.args.size(); ++i) s += (i ? ", " : "") + FormulaToString(*node.args[i]);
      return s + ")";
    }
  }
  return "";
}

}  // namespace cdp
