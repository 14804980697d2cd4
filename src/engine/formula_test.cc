#include "engine/formula.h"

#include <gtest/gtest.h>

namespace cdp {
namespace {

std::string Canon(const std::string& text) {
  auto f = ParseFormula(text);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? FormulaToString(**f) : "";
}

std::string ErrorOf(const std::string& text) {
  auto f = ParseFormula(text);
  EXPECT_FALSE(f.ok()) << text;
  return f.ok() ? "" : f.status().message();
}

TEST(FormulaTest, MultiplicationBindsTighterThanAddition) {
  EXPECT_EQ(Canon("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(Canon("a * b + c"), "((a * b) + c)");
  EXPECT_EQ(Canon("(a + b) * c"), "((a + b) * c)");
}

TEST(FormulaTest, SameLevelOperatorsAreLeftAssociative) {
  EXPECT_EQ(Canon("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(Canon("a / b / c"), "((a / b) / c)");
}

TEST(FormulaTest, UnaryMinusAndNumbers) {
  EXPECT_EQ(Canon("-a * 2"), "((-a) * 2)");
  EXPECT_EQ(Canon("--1.5e2"), "(-(-150))");
  EXPECT_EQ(Canon("a - -b"), "(a - (-b))");
}

TEST(FormulaTest, FunctionsAreCaseInsensitiveAndTakeArguments) {
  EXPECT_EQ(Canon("DAYS_SINCE(Last)"), "days_since(Last)");
  EXPECT_EQ(Canon("coalesce(a, b, 0) / 2"), "(coalesce(a, b, 0) / 2)");
}

TEST(FormulaTest, CollectsReferences) {
  auto f = ParseFormula("WebSpend / (WebSpend + StoreSpend) + days_since(Last)");
  ASSERT_TRUE(f.ok());
  std::vector<std::string> refs;
  CollectMeasureReferences(**f, &refs);
  EXPECT_EQ(refs, (std::vector<std::string>{"WebSpend", "WebSpend", "StoreSpend", "Last"}));
}

TEST(FormulaTest, SyntaxErrorsNameThePosition) {
  EXPECT_EQ(ErrorOf("a +"), "at position 4: expected a number, a measure or '(' but found end of formula");
  EXPECT_EQ(ErrorOf("(a + b"), "at position 7: expected ')' (opened at position 1) but found end of formula");
  EXPECT_EQ(ErrorOf("a b"), "at position 3: unexpected 'b'");
  EXPECT_EQ(ErrorOf("a + $"), "at position 5: expected a number, a measure or '(' but found '$'");
  EXPECT_EQ(ErrorOf(""), "the formula is empty");
  EXPECT_EQ(ErrorOf("1.2.3"), "at position 1: '1.2.3' is not a number");
}

TEST(FormulaTest, UnknownFunctionAndArityAreErrors) {
  EXPECT_EQ(ErrorOf("exp(a)"), "at position 1: unknown function 'exp' (functions: days_since, coalesce)");
  EXPECT_EQ(ErrorOf("days_since(a, b)"), "at position 1: days_since takes one argument, got 2");
  EXPECT_EQ(ErrorOf("coalesce(a)"), "at position 1: coalesce takes two or more arguments, got 1");
}

// Found by formula_fuzz: 55e875 was parsed as infinity, printed as "inf"
// and read back as a measure named inf.
TEST(FormulaTest, NumberBeyondTheDoubleRangeIsAnError) {
  EXPECT_EQ(ErrorOf("a - 55e875"), "at position 5: '55e875' is out of range");
  EXPECT_EQ(ErrorOf("1e309"), "at position 1: '1e309' is out of range");
  EXPECT_EQ(Canon("1e308"), "1e+308");
  EXPECT_EQ(Canon("1e-400"), "0");  // underflow is zero, not an error
}

TEST(FormulaTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "a" + std::string(5000, ')');
  EXPECT_NE(ErrorOf(deep).find("nested too deeply"), std::string::npos);
  EXPECT_NE(ErrorOf(std::string(5000, '-') + "a").find("nested too deeply"), std::string::npos);
}

}  // namespace
}  // namespace cdp
