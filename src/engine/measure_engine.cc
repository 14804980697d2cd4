#include "engine/measure_engine.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "config/time_window.h"
#include "engine/formula.h"
#include "engine/internal/engine_impl.h"
#include "engine/internal/measure_util.h"

namespace cdp {

using namespace engine_internal;

// ---------------------------------------------------------------- compilation

Status MeasureEngine::Impl::CompileMeasure(size_t i, const MeasureInputs& in, std::map<std::string, int>* source_ids) {
  const MeasureConfig& cfg = *measures[i].cfg;
  CompiledMeasure& m = measures[i];
  if (!cfg.formula.empty()) {
    m.is_formula = true;
    if (cfg.kind != MeasureKind::kAttribute) return MeasureError(cfg, "formula measures are customer attributes (kind: attribute)");
    if (cfg.window.kind != WindowKind::kAllTime) return MeasureError(cfg, "a formula takes no window (put windows on the measures it uses)");
    if (!cfg.dimensions.empty()) return MeasureError(cfg, "a formula takes no dimensions");
    auto f = ParseFormula(cfg.formula);
    if (!f.ok()) return MeasureError(cfg, "formula '" + cfg.formula + "' " + f.status().message());
    m.formula = std::move(f).value();
    m.result_type = DataType::kDouble;
    return Status::Ok();
  }
  // Source.
  const MeasureSource* src = nullptr;
  std::string label;
  if (!cfg.activity.empty() && !cfg.entity.empty()) return MeasureError(cfg, "give exactly one of 'activity' and 'entity'");
  if (!cfg.activity.empty()) {
    auto it = in.activities.find(cfg.activity);
    if (it == in.activities.end()) {
      std::string names;
      for (const auto& [n, _] : in.activities) names += (names.empty() ? "" : ", ") + n;
      return MeasureError(cfg, "activity '" + cfg.activity + "' is not defined (activities: " + names + ")");
    }
    src = &it->second;
    label = Quote(cfg.activity);
  } else if (!cfg.entity.empty()) {
    auto it = in.entities.find(cfg.entity);
    if (it == in.entities.end()) {
      std::string names;
      for (const auto& [n, _] : in.entities) names += (names.empty() ? "" : ", ") + n;
      return MeasureError(cfg, "entity '" + cfg.entity + "' is not available (entities: " + names + ")");
    }
    src = &it->second;
    label = Quote(cfg.entity);
  } else {
    return MeasureError(cfg, "needs 'activity' or 'entity' (or a 'formula')");
  }
  if (src->rows == nullptr || src->rows->clustered == nullptr) return MeasureError(cfg, "source " + label + " has no rows loaded");
  if (src->rows->num_customers != num_customers) {
    return MeasureError(cfg, "source " + label + " was grouped for " + std::to_string(src->rows->num_customers) +
                                 " customers, expected " + std::to_string(num_customers));
  }
  std::string skey = (cfg.activity.empty() ? "e:" : "a:") + (cfg.activity.empty() ? cfg.entity : cfg.activity);
  auto sit = source_ids->find(skey);
  if (sit == source_ids->end()) {
    SourceState s;
    s.label = label;
    s.rows = src->rows;
    s.table = src->rows->clustered.get();
    sources.push_back(std::move(s));
    sit = source_ids->emplace(skey, static_cast<int>(sources.size() - 1)).first;
  }
  m.source = sit->second;
  SourceState& source = sources[m.source];
  const Schema& schema = source.table->schema();
  auto field_index = [&](const std::string& name, const std::string& role) -> StatusOr<int> {
    int k = schema.FieldIndex(name);
    if (k < 0) {
      return MeasureError(cfg, role + "'" + name + "' is not a field of " + label + " (fields: " + FieldList(schema) + ")");
    }
    return k;
  };
  // Field and function.
  const std::string fname(AggregateFunctionName(cfg.function));
  if (!cfg.field.empty()) {
    CDP_ASSIGN_OR_RETURN(m.field_col, field_index(cfg.field, "field "));
    m.field_type = schema.field(m.field_col).type;
  } else if (cfg.function != AggregateFunction::kCount) {
    return MeasureError(cfg, "function '" + fname + "' needs 'field'");
  }
  const std::string ftype(DataTypeName(m.field_type));
  // Time field (windows; First/Last default order).
  const std::string& time_name = cfg.time_field.empty() ? src->time_field : cfg.time_field;
  int time_col = -1;
  if (!time_name.empty()) {
    CDP_ASSIGN_OR_RETURN(time_col, field_index(time_name, "time field "));
  }
  switch (cfg.function) {
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage:
      if (!IsNumber(m.field_type)) {
        return MeasureError(cfg, "function '" + fname + "' needs a number field; '" + cfg.field + "' is a " + ftype);
      }
      m.result_type = DataType::kDouble;
      break;
    case AggregateFunction::kCount:
    case AggregateFunction::kCountUnique: m.result_type = DataType::kInt64; break;
    case AggregateFunction::kMin:
    case AggregateFunction::kMax:
      if (!IsOrdered(m.field_type)) {
        return MeasureError(cfg, "function '" + fname + "' needs a number, date, timestamp or string field; '" + cfg.field + "' is a " + ftype);
      }
      m.order_col = m.field_col;
      m.rule = cfg.function == AggregateFunction::kMin ? PickRule::kLess : PickRule::kGreater;
      m.result_type = m.field_type;
      break;
    case AggregateFunction::kFirst:
    case AggregateFunction::kLast:
    case AggregateFunction::kArgMax:
    case AggregateFunction::kArgMin: {
      if (!cfg.order_by.empty()) {
        CDP_ASSIGN_OR_RETURN(m.order_col, field_index(cfg.order_by, "order_by "));
      } else if (cfg.function == AggregateFunction::kFirst || cfg.function == AggregateFunction::kLast) {
        if (time_col < 0) {
          return MeasureError(cfg, "function '" + fname + "' needs 'order_by' or a time field (" + label + " has none)");
        }
        m.order_col = time_col;
      } else {
        return MeasureError(cfg, "function '" + fname + "' needs 'order_by'");
      }
      DataType ot = schema.field(m.order_col).type;
      if (!IsOrdered(ot)) {
        return MeasureError(cfg, "order_by field '" + schema.field(m.order_col).name + "' is a " + std::string(DataTypeName(ot)) +
                                     "; it needs a number, date, timestamp or string");
      }
      m.rule = cfg.function == AggregateFunction::kLast      ? PickRule::kGreaterEqual
               : cfg.function == AggregateFunction::kArgMax ? PickRule::kGreater
                                                            : PickRule::kLess;
      m.result_type = m.field_type;
      break;
    }
  }
  if (cfg.default_value) {
    double d = *cfg.default_value;
    if (m.result_type == DataType::kInt64 && (d != std::floor(d) || std::fabs(d) > 9e15)) {
      return MeasureError(cfg, "default " + std::to_string(d) + " is not a whole number (the result is an int64)");
    }
    if (!IsNumber(m.result_type)) {
      return MeasureError(cfg, "a default is a number, but the result is a " + std::string(DataTypeName(m.result_type)));
    }
    if (cfg.kind == MeasureKind::kCustomer) return MeasureError(cfg, "a customer measure takes no default (customers without rows have no groups)");
  }
  // Dimensions.
  if (cfg.kind == MeasureKind::kAttribute && !cfg.dimensions.empty()) {
    return MeasureError(cfg, "an attribute measure takes no dimensions (use kind: customer)");
  }
  if (cfg.kind == MeasureKind::kCustomer && cfg.dimensions.empty()) {
    return MeasureError(cfg, "a customer measure needs 'dimensions'");
  }
  for (const auto& d : cfg.dimensions) {
    int k;
    CDP_ASSIGN_OR_RETURN(k, field_index(d, "dimension "));
    if (std::find(m.dim_cols.begin(), m.dim_cols.end(), k) != m.dim_cols.end()) return MeasureError(cfg, "dimension '" + d + "' is listed twice");
    if (d == "Value" || (cfg.kind == MeasureKind::kCustomer && d == "CustomerIndex")) {
      return MeasureError(cfg, "dimension '" + d + "' clashes with an output column name");
    }
    m.dim_cols.push_back(k);
  }
  // Selection.
  Selection sel;
  std::string key;
  for (const auto& fc : cfg.filters) {
    CompiledFilter f;
    CDP_ASSIGN_OR_RETURN(f, CompileFilter(cfg, fc, schema, label));
    sel.filters.push_back(std::move(f));
    key += FilterKey(fc);
  }
  if (cfg.window.kind != WindowKind::kAllTime) {
    if (time_col < 0) {
      return MeasureError(cfg, "a window needs a time field, and " + label + " has none (set 'time_field')");
    }
    DataType tt = schema.field(time_col).type;
    if (!IsTime(tt)) {
      return MeasureError(cfg, "the window's time field '" + time_name + "' is a " + std::string(DataTypeName(tt)) + "; it needs a date or timestamp");
    }
    sel.has_window = true;
    sel.time_col = time_col;
    sel.time_type = tt;
    const DayRange days = WindowDays(cfg.window, run_date);
    sel.lo = days.lo;
    sel.hi = days.hi;
    key += "w" + std::to_string(time_col) + ":" + std::to_string(sel.lo) + ":" + std::to_string(sel.hi);
  }
  if (!key.empty()) {
    sel.key = key;
    int found = -1;
    for (size_t k = 0; k < source.selections.size(); ++k) {
      if (source.selections[k].key == key) found = static_cast<int>(k);
    }
    if (found < 0) {
      source.selections.push_back(std::move(sel));
      found = static_cast<int>(source.selections.size() - 1);
    }
    m.selection = found;
  }
  if (cfg.kind == MeasureKind::kAttribute) source.attribute_measures.push_back(static_cast<int>(i));
  return Status::Ok();
}

Status MeasureEngine::Impl::CompileFormulas() {
  // Type check and dependency order (DFS; 0 = new, 1 = visiting, 2 = done).
  std::vector<int> state(measures.size(), 0);
  std::function<Status(int, std::vector<std::string>&)> visit = [&](int i, std::vector<std::string>& stack) -> Status {
    CompiledMeasure& m = measures[i];
    if (state[i] == 2) return Status::Ok();
    if (state[i] == 1) {
      std::string cycle;
      for (const auto& s : stack) cycle += s + " -> ";
      return MeasureError(*m.cfg, "formula refers to itself through a cycle: " + cycle + m.cfg->name);
    }
    state[i] = 1;
    stack.push_back(m.cfg->name);
    // Type check the tree.
    std::function<Status(const FormulaNode&, bool)> check = [&](const FormulaNode& n, bool time_ok) -> Status {
      if (n.kind == FormulaNode::Kind::kMeasure) {
        auto it = by_name.find(n.measure);
        if (it == by_name.end()) {
          std::string names;
          for (const auto& cm : measures) {
            if (cm.cfg->kind == MeasureKind::kAttribute) names += (names.empty() ? "" : ", ") + cm.cfg->name;
          }
          return MeasureError(*m.cfg, "formula refers to '" + n.measure + "', which is not a measure (attribute measures: " + names + ")");
        }
        const CompiledMeasure& r = measures[it->second];
        if (r.cfg->kind != MeasureKind::kAttribute) {
          return MeasureError(*m.cfg, "formula refers to '" + n.measure + "', a " + std::string(MeasureKindName(r.cfg->kind)) +
                                          " measure; formulas use attribute measures (one value per customer)");
        }
        if (r.is_formula) CDP_RETURN_IF_ERROR(visit(it->second, stack));
        if (time_ok) {
          if (!IsTime(r.result_type)) {
            return MeasureError(*m.cfg, "days_since needs a date or timestamp measure; '" + n.measure + "' is a " +
                                            std::string(DataTypeName(r.result_type)));
          }
        } else if (!IsNumber(r.result_type)) {
          std::string hint = IsTime(r.result_type) ? " (use days_since(" + n.measure + "))" : "";
          return MeasureError(*m.cfg, "formula uses '" + n.measure + "', a " + std::string(DataTypeName(r.result_type)) +
                                          " measure, as a number" + hint);
        }
        return Status::Ok();
      }
      if (time_ok) {
        return MeasureError(*m.cfg, "days_since takes a date or timestamp measure by name (at position " + std::to_string(n.position) + ")");
      }
      bool child_time = n.kind == FormulaNode::Kind::kDaysSince;
      for (const auto& a : n.args) CDP_RETURN_IF_ERROR(check(*a, child_time));
      return Status::Ok();
    };
    CDP_RETURN_IF_ERROR(check(*m.formula, false));
    stack.pop_back();
    state[i] = 2;
    formula_order.push_back(i);
    return Status::Ok();
  };
  for (size_t i = 0; i < measures.size(); ++i) {
    if (!measures[i].is_formula) continue;
    std::vector<std::string> stack;
    CDP_RETURN_IF_ERROR(visit(static_cast<int>(i), stack));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- public interface

MeasureEngine::MeasureEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MeasureEngine::~MeasureEngine() = default;

StatusOr<std::unique_ptr<MeasureEngine>> MeasureEngine::Compile(const std::vector<MeasureConfig>& measures,
                                                                const MeasureInputs& inputs) {
  auto impl = std::make_unique<Impl>();
  impl->num_customers = inputs.num_customers;
  impl->run_date = inputs.run_date;
  impl->configs = measures;
  impl->measures.resize(measures.size());
  for (size_t i = 0; i < measures.size(); ++i) {
    impl->measures[i].cfg = &impl->configs[i];
    if (!impl->by_name.emplace(measures[i].name, static_cast<int>(i)).second) {
      return MeasureError(measures[i], "the name is used by two measures");
    }
  }
  std::map<std::string, int> source_ids;
  for (size_t i = 0; i < measures.size(); ++i) CDP_RETURN_IF_ERROR(impl->CompileMeasure(i, inputs, &source_ids));
  for (size_t i = 0; i < measures.size(); ++i) {
    if (measures[i].kind == MeasureKind::kAttribute) {
      impl->measures[i].attribute_slot = static_cast<int>(impl->attribute_slots.size());
      impl->attribute_slots.push_back(static_cast<int>(i));
    }
  }
  CDP_RETURN_IF_ERROR(impl->CompileFormulas());
  return std::unique_ptr<MeasureEngine>(new MeasureEngine(std::move(impl)));
}

StatusOr<MeasureResults> MeasureEngine::Evaluate(int threads) const { return impl_->Evaluate(threads); }

DataType MeasureEngine::ResultType(const std::string& measure) const {
  auto it = impl_->by_name.find(measure);
  return it == impl_->by_name.end() ? DataType::kDouble : impl_->measures[it->second].result_type;
}

StatusOr<MeasureResults> EvaluateMeasures(const std::vector<MeasureConfig>& measures, const MeasureInputs& inputs,
                                          int threads) {
  CDP_ASSIGN_OR_RETURN(auto engine, MeasureEngine::Compile(measures, inputs));
  return engine->Evaluate(threads);
}

}  // namespace cdp
