// The compiled form of a MeasureEngine (MeasureEngine::Impl): the sources
// with their shared selections, the compiled measures and the formula
// order. Built by Compile (measure_engine.cc), read by the evaluation
// (measure_evaluation.cc). Internal to engine/. Immutable after Compile.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/formula.h"
#include "engine/internal/filter_compiler.h"
#include "engine/internal/kernels.h"
#include "engine/measure_engine.h"

namespace cdp {
namespace engine_internal {

struct SourceState {
  std::string label;  // "activity 'X'" / "entity 'Y'"
  const EntityByCustomer* rows = nullptr;
  const Table* table = nullptr;  // clustered
  std::vector<Selection> selections;
  std::vector<int> attribute_measures;  // indexes into measures
};

struct CompiledMeasure {
  const MeasureConfig* cfg = nullptr;
  bool is_formula = false;
  int source = -1;
  int field_col = -1;
  DataType field_type = DataType::kString;
  int order_col = -1;  // pick functions: the key column (field for min/max)
  PickRule rule = PickRule::kLess;
  int selection = -1;  // -1: all rows
  std::vector<int> dim_cols;
  DataType result_type = DataType::kDouble;
  std::unique_ptr<FormulaNode> formula;
  int attribute_slot = -1;  // column in MeasureResults::attributes
};

inline bool IsPick(AggregateFunction f) {
  return f == AggregateFunction::kMin || f == AggregateFunction::kMax || f == AggregateFunction::kFirst ||
         f == AggregateFunction::kLast || f == AggregateFunction::kArgMax || f == AggregateFunction::kArgMin;
}

// Per-customer raw outputs of one attribute aggregate.
struct AttributeOut {
  std::vector<double> sum;
  std::vector<int64_t> count;  // rows counted / non-null values / distinct values
  std::vector<int64_t> pos;    // pick: chosen position in the clustered table, -1 none
};

}  // namespace engine_internal

struct MeasureEngine::Impl {
  std::vector<MeasureConfig> configs;  // owned copies; CompiledMeasure::cfg points here
  size_t num_customers = 0;
  int32_t run_date = 0;
  std::vector<engine_internal::SourceState> sources;
  std::vector<engine_internal::CompiledMeasure> measures;
  std::vector<int> formula_order;    // formula measures, dependencies first
  std::vector<int> attribute_slots;  // measure index of each attributes column
  std::map<std::string, int> by_name;

  Status CompileMeasure(size_t i, const MeasureInputs& in, std::map<std::string, int>* source_ids);
  Status CompileFormulas();
  StatusOr<MeasureResults> Evaluate(int threads) const;
  void EvaluateAttributeSource(const engine_internal::SourceState& s, int threads,
                               std::vector<engine_internal::AttributeOut>* outs) const;
  Column FinishAttribute(const engine_internal::CompiledMeasure& m, engine_internal::AttributeOut& out) const;
  void EvaluateFormulas(int threads, std::vector<Column>* cols) const;
  Table EvaluateGrouped(const engine_internal::CompiledMeasure& m, int threads) const;
};

}  // namespace cdp
