// Evaluation of a compiled MeasureEngine: attribute measures source by
// source in morsels of customers (kernels.h), formulas column-at-a-time,
// customer and business measures by grouping.
#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <unordered_map>

#include "common/datetime.h"
#include "common/parallel.h"
#include "engine/internal/engine_impl.h"

namespace cdp {

using namespace engine_internal;

void MeasureEngine::Impl::EvaluateAttributeSource(const SourceState& s, int threads,
                                                  std::vector<AttributeOut>* outs) const {
  const uint64_t* off = s.rows->offsets.data();
  const Table& t = *s.table;
  for (int mi : s.attribute_measures) {
    const CompiledMeasure& m = measures[mi];
    AttributeOut& o = (*outs)[mi];
    if (IsPick(m.cfg->function)) {
      o.pos.assign(num_customers, -1);
    } else {
      o.count.assign(num_customers, 0);
      if (m.cfg->function == AggregateFunction::kSum || m.cfg->function == AggregateFunction::kAverage)
        o.sum.assign(num_customers, 0);
    }
  }
  const int workers = ResolveThreads(threads);
  struct Scratch {
    std::vector<std::vector<uint8_t>> masks;
    std::vector<int64_t> i64;
    std::vector<double> f64;
    std::vector<int32_t> i32;
    std::vector<uint8_t> u8;
    std::vector<std::string_view> sv;
  };
  std::vector<Scratch> scratch(workers);
  for (auto& sc : scratch) sc.masks.resize(s.selections.size());
  // About 64K rows per morsel keeps a morsel's columns in L2.
  size_t avg = std::max<size_t>(1, s.rows->num_rows() / std::max<size_t>(1, num_customers));
  size_t grain = std::clamp<size_t>(65536 / avg, 256, 65536);
  ParallelFor(threads, num_customers, grain, [&](size_t cb, size_t ce, int worker) {
    Scratch& sc = scratch[worker];
    const size_t rb = off[cb], re = off[ce];
    std::vector<bool> computed(s.selections.size(), false);
    for (int mi : s.attribute_measures) {
      const CompiledMeasure& m = measures[mi];
      AttributeOut& o = (*outs)[mi];
      const uint8_t* mask = nullptr;
      if (m.selection >= 0) {
        if (!computed[m.selection]) {
          s.selections[m.selection].Compute(t, rb, re, &sc.masks[m.selection]);
          computed[m.selection] = true;
        }
        mask = sc.masks[m.selection].data();
      }
      const Column* field = m.field_col >= 0 ? &t.column(m.field_col) : nullptr;
      const uint64_t* fvalid = field && field->null_count() > 0 ? field->validity().data() : nullptr;
      switch (m.cfg->function) {
        case AggregateFunction::kSum:
        case AggregateFunction::kAverage: {
          auto run = [&](const auto* v) {
            using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
            if (mask && fvalid)
              SumKernel<T, true, true>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else if (mask)
              SumKernel<T, true, false>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else if (fvalid)
              SumKernel<T, false, true>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
            else
              SumKernel<T, false, false>(v, fvalid, off, cb, ce, mask, rb, o.sum.data(), o.count.data());
          };
          if (field->type() == DataType::kDouble) {
            run(field->double_data().data());
          } else {
            run(field->int64_data().data());
          }
          break;
        }
        case AggregateFunction::kCount:
          // Count counts rows passing filters and window, whatever the field holds.
          if (mask)
            CountKernel<true, false>(nullptr, off, cb, ce, mask, rb, o.count.data());
          else
            CountKernel<false, false>(nullptr, off, cb, ce, mask, rb, o.count.data());
          break;
        case AggregateFunction::kCountUnique:
          VisitColumn(*field, [&](auto get, auto tag) {
            using K = decltype(tag);
            std::vector<K>* buf;
            if constexpr (std::is_same_v<K, int64_t>)
              buf = &sc.i64;
            else if constexpr (std::is_same_v<K, double>)
              buf = &sc.f64;
            else if constexpr (std::is_same_v<K, int32_t>)
              buf = &sc.i32;
            else if constexpr (std::is_same_v<K, uint8_t>)
              buf = &sc.u8;
            else
              buf = &sc.sv;
            DistinctKernel<K>(get, fvalid, off, cb, ce, mask, rb, o.count.data(), buf);
          });
          break;
        default: {  // pick functions
          const Column& key = t.column(m.order_col);
          const uint64_t* kvalid = key.null_count() > 0 ? key.validity().data() : nullptr;
          const uint64_t* fv = m.order_col == m.field_col ? nullptr : fvalid;
          VisitColumn(key, [&](auto get, auto tag) {
            using K = decltype(tag);
            switch (m.rule) {
              case PickRule::kLess:
                PickKernel<PickRule::kLess, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data());
                break;
              case PickRule::kGreater:
                PickKernel<PickRule::kGreater, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data());
                break;
              case PickRule::kGreaterEqual:
                PickKernel<PickRule::kGreaterEqual, K>(get, kvalid, fv, off, cb, ce, mask, rb, o.pos.data());
                break;
            }
          });
          break;
        }
      }
    }
  });
}

Column MeasureEngine::Impl::FinishAttribute(const CompiledMeasure& m, AttributeOut& o) const {
  const auto def = m.cfg->default_value;
  const size_t n = num_customers;
  if (IsPick(m.cfg->function)) return GatherPicked(sources[m.source].table->column(m.field_col), o.pos, def);
  std::vector<uint8_t> null(n, 0);
  std::vector<double> d;
  switch (m.cfg->function) {
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage: {
      d.resize(n);
      bool avg = m.cfg->function == AggregateFunction::kAverage;
      for (size_t c = 0; c < n; ++c) {
        if (o.count[c] == 0) {
          null[c] = !def;
          d[c] = def ? *def : 0;
        } else {
          d[c] = avg ? o.sum[c] / static_cast<double>(o.count[c]) : o.sum[c];
        }
      }
      return NumericColumn(DataType::kDouble, d, {}, null);
    }
    default: {  // count, count_unique
      for (size_t c = 0; c < n; ++c) {
        if (o.count[c] == 0) {
          null[c] = !def;
          o.count[c] = def ? static_cast<int64_t>(*def) : 0;
        }
      }
      return NumericColumn(DataType::kInt64, d, o.count, null);
    }
  }
}

namespace {

// Values and null flags of a formula over customers [b, e).
struct Vec {
  std::vector<double> v;
  std::vector<uint8_t> null;
};

}  // namespace

void MeasureEngine::Impl::EvaluateFormulas(int threads, std::vector<Column>* cols) const {
  for (int fi : formula_order) {
    const CompiledMeasure& fm = measures[fi];
    std::vector<double> out(num_customers);
    std::vector<uint8_t> out_null(num_customers);
    ParallelFor(threads, num_customers, 16384, [&](size_t b, size_t e, int) {
      const size_t n = e - b;
      std::function<Vec(const FormulaNode&)> eval = [&](const FormulaNode& node) -> Vec {
        Vec r;
        r.v.assign(n, 0);
        r.null.assign(n, 0);
        using K = FormulaNode::Kind;
        switch (node.kind) {
          case K::kNumber:
            std::fill(r.v.begin(), r.v.end(), node.number);
            break;
          case K::kMeasure: {
            const Column& c = (*cols)[measures[by_name.at(node.measure)].attribute_slot];
            for (size_t i = 0; i < n; ++i) {
              if (c.IsNull(b + i)) {
                r.null[i] = 1;
              } else {
                r.v[i] = NumberAt(c, b + i);
              }
            }
            break;
          }
          case K::kDaysSince: {
            const Column& c = (*cols)[measures[by_name.at(node.args[0]->measure)].attribute_slot];
            for (size_t i = 0; i < n; ++i) {
              if (c.IsNull(b + i)) {
                r.null[i] = 1;
              } else {
                int32_t day =
                    c.type() == DataType::kDate ? c.DateAt(b + i) : DayOfMicros(c.TimestampAt(b + i));
                r.v[i] = static_cast<double>(run_date) - static_cast<double>(day);
              }
            }
            break;
          }
          case K::kNegate: {
            r = eval(*node.args[0]);
            for (size_t i = 0; i < n; ++i) r.v[i] = -r.v[i];
            break;
          }
          case K::kCoalesce: {
            r = eval(*node.args[0]);
            for (size_t a = 1; a < node.args.size(); ++a) {
              Vec x = eval(*node.args[a]);
              for (size_t i = 0; i < n; ++i) {
                if (r.null[i] && !x.null[i]) {
                  r.null[i] = 0;
                  r.v[i] = x.v[i];
                }
              }
            }
            break;
          }
          default: {
            Vec x = eval(*node.args[0]);
            Vec y = eval(*node.args[1]);
            for (size_t i = 0; i < n; ++i) {
              r.null[i] = x.null[i] | y.null[i];
              switch (node.kind) {
                case K::kAdd:
                  r.v[i] = x.v[i] + y.v[i];
                  break;
                case K::kSubtract:
                  r.v[i] = x.v[i] - y.v[i];
                  break;
                case K::kMultiply:
                  r.v[i] = x.v[i] * y.v[i];
                  break;
                default:
                  if (y.v[i] == 0) {
                    r.null[i] = 1;
                  } else {
                    r.v[i] = x.v[i] / y.v[i];
                  }
              }
              if (r.null[i]) r.v[i] = 0;
            }
            break;
          }
        }
        return r;
      };
      Vec r = eval(*fm.formula);
      const auto def = fm.cfg->default_value;
      for (size_t i = 0; i < n; ++i) {
        bool null = r.null[i] || !std::isfinite(r.v[i]);
        out_null[b + i] = null && !def;
        out[b + i] = null ? (def ? *def : 0) : r.v[i];
      }
    });
    (*cols)[fm.attribute_slot] = NumericColumn(DataType::kDouble, out, {}, out_null);
  }
}

namespace {

// Aggregate of one group of positions (generic, any order): value, picked
// position or count; `rowid` breaks pick ties by original row order.
struct GroupValue {
  bool null = true;
  double d = 0;
  int64_t i = 0;
  int64_t pos = -1;
};

GroupValue AggregateGroup(const CompiledMeasure& m, const Table& t, const std::vector<uint32_t>& rowid,
                          const uint32_t* pos, size_t n) {
  GroupValue g;
  const Column* field = m.field_col >= 0 ? &t.column(m.field_col) : nullptr;
  switch (m.cfg->function) {
    case AggregateFunction::kCount:
      g.i = static_cast<int64_t>(n);
      g.null = n == 0;
      return g;
    case AggregateFunction::kSum:
    case AggregateFunction::kAverage: {
      double s = 0;
      int64_t k = 0;
      for (size_t j = 0; j < n; ++j) {
        if (field->IsNull(pos[j])) continue;
        s += NumberAt(*field, pos[j]);
        ++k;
      }
      g.null = k == 0;
      g.d = m.cfg->function == AggregateFunction::kSum ? s : (k ? s / static_cast<double>(k) : 0);
      return g;
    }
    case AggregateFunction::kCountUnique: {
      std::vector<std::string> keys;
      for (size_t j = 0; j < n; ++j) {
        if (field->IsNull(pos[j])) continue;
        std::string k;
        AppendKey(*field, pos[j], &k);
        keys.push_back(std::move(k));
      }
      std::sort(keys.begin(), keys.end());
      g.i = std::unique(keys.begin(), keys.end()) - keys.begin();
      g.null = keys.empty();
      return g;
    }
    default: {
      const Column& key = t.column(m.order_col);
      int64_t best = -1;
      for (size_t j = 0; j < n; ++j) {
        size_t p = pos[j];
        if (field->IsNull(p) || key.IsNull(p)) continue;
        if (best < 0) {
          best = static_cast<int64_t>(p);
          continue;
        }
        int c = CompareAt(key, p, best);
        bool take;
        switch (m.rule) {
          case PickRule::kLess:
            take = c < 0 || (c == 0 && rowid[p] < rowid[best]);
            break;
          case PickRule::kGreater:
            take = c > 0 || (c == 0 && rowid[p] < rowid[best]);
            break;
          default:
            take = c > 0 || (c == 0 && rowid[p] > rowid[best]);
            break;
        }
        if (take) best = static_cast<int64_t>(p);
      }
      g.pos = best;
      g.null = best < 0;
      return g;
    }
  }
}

void AppendGroupValue(const CompiledMeasure& m, const Table& t, const GroupValue& g,
                      std::optional<double> def, Column* out) {
  if (g.null) {
    if (def) {
      if (out->type() == DataType::kDouble)
        out->AppendDouble(*def);
      else
        out->AppendInt64(static_cast<int64_t>(*def));
    } else {
      out->AppendNull();
    }
    return;
  }
  if (IsPick(m.cfg->function)) {
    out->AppendFrom(t.column(m.field_col), g.pos);
  } else if (out->type() == DataType::kDouble) {
    out->AppendDouble(g.d);
  } else {
    out->AppendInt64(g.i);
  }
}

}  // namespace

Table MeasureEngine::Impl::EvaluateGrouped(const CompiledMeasure& m, int threads) const {
  const SourceState& s = sources[m.source];
  const Table& t = *s.table;
  const std::vector<uint32_t>& rowid = s.rows->rows;
  const uint64_t* off = s.rows->offsets.data();
  const bool customer = m.cfg->kind == MeasureKind::kCustomer;
  std::vector<Field> fields;
  if (customer) fields.push_back({"CustomerIndex", DataType::kInt64, {}});
  for (int d : m.dim_cols) fields.push_back({t.schema().field(d).name, t.schema().field(d).type, {}});
  fields.push_back({"Value", m.result_type, {}});
  Table out{Schema(fields)};
  auto dims_less = [&](uint32_t a, uint32_t b) {
    for (int d : m.dim_cols) {
      int c = CompareNullable(t.column(d), a, b);
      if (c != 0) return c < 0;
    }
    return false;
  };
  const Selection* sel = m.selection >= 0 ? &s.selections[m.selection] : nullptr;
  if (customer) {
    // Per morsel of customers: selected positions, stably sorted by the
    // dimension values, then one group per run of equal values.
    struct Part {
      std::vector<int64_t> customer;
      std::vector<uint32_t> first;  // representative position
      std::vector<GroupValue> value;
    };
    const size_t grain = 4096;
    const size_t morsels = (num_customers + grain - 1) / grain;
    std::vector<Part> parts(morsels);
    ParallelFor(threads, num_customers, grain, [&](size_t cb, size_t ce, int) {
      Part& part = parts[cb / grain];
      std::vector<uint8_t> mask;
      const size_t rb = off[cb], re = off[ce];
      if (sel) sel->Compute(t, rb, re, &mask);
      std::vector<uint32_t> pos;
      for (size_t c = cb; c < ce; ++c) {
        pos.clear();
        for (size_t p = off[c]; p < off[c + 1]; ++p) {
          if (!sel || mask[p - rb]) pos.push_back(static_cast<uint32_t>(p));
        }
        std::stable_sort(pos.begin(), pos.end(), dims_less);
        for (size_t j = 0; j < pos.size();) {
          size_t k = j + 1;
          while (k < pos.size() && !dims_less(pos[j], pos[k])) ++k;
          part.customer.push_back(static_cast<int64_t>(c));
          part.first.push_back(pos[j]);
          part.value.push_back(AggregateGroup(m, t, rowid, pos.data() + j, k - j));
          j = k;
        }
      }
    });
    for (const Part& part : parts) {
      for (size_t g = 0; g < part.customer.size(); ++g) {
        out.mutable_column(0).AppendInt64(part.customer[g]);
        for (size_t d = 0; d < m.dim_cols.size(); ++d)
          out.mutable_column(1 + d).AppendFrom(t.column(m.dim_cols[d]), part.first[g]);
        AppendGroupValue(m, t, part.value[g], std::nullopt, &out.mutable_column(1 + m.dim_cols.size()));
        out.FinishRow();
      }
    }
    return out;
  }
  // Business: every selected row of every customer; groups by hashing the
  // dimension values, ordered by typed dimension values.
  const size_t total = s.rows->num_rows();
  std::vector<uint8_t> mask;
  if (sel) sel->Compute(t, 0, total, &mask);
  std::unordered_map<std::string, uint32_t> group_of;
  std::vector<std::vector<uint32_t>> groups;
  std::string key;
  for (size_t p = 0; p < total; ++p) {
    if (sel && !mask[p]) continue;
    key.clear();
    for (int d : m.dim_cols) AppendKey(t.column(d), p, &key);
    auto [it, inserted] = group_of.try_emplace(key, static_cast<uint32_t>(groups.size()));
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(static_cast<uint32_t>(p));
  }
  std::vector<size_t> order(groups.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return dims_less(groups[a][0], groups[b][0]); });
  Column& value = out.mutable_column(m.dim_cols.size());
  if (m.dim_cols.empty()) {
    GroupValue g =
        groups.empty() ? GroupValue{} : AggregateGroup(m, t, rowid, groups[0].data(), groups[0].size());
    AppendGroupValue(m, t, g, m.cfg->default_value, &value);
    out.FinishRow();
    return out;
  }
  for (size_t g : order) {
    for (size_t d = 0; d < m.dim_cols.size(); ++d)
      out.mutable_column(d).AppendFrom(t.column(m.dim_cols[d]), groups[g][0]);
    AppendGroupValue(m, t, AggregateGroup(m, t, rowid, groups[g].data(), groups[g].size()),
                     m.cfg->default_value, &value);
    out.FinishRow();
  }
  return out;
}

StatusOr<MeasureResults> MeasureEngine::Impl::Evaluate(int threads) const {
  MeasureResults r;
  std::vector<AttributeOut> outs(measures.size());
  for (const SourceState& s : sources) {
    if (!s.attribute_measures.empty()) EvaluateAttributeSource(s, threads, &outs);
  }
  std::vector<Column> cols(attribute_slots.size());
  std::vector<Field> fields;
  for (size_t slot = 0; slot < attribute_slots.size(); ++slot) {
    const CompiledMeasure& m = measures[attribute_slots[slot]];
    fields.push_back({m.cfg->name, m.result_type, {}});
    if (!m.is_formula) {
      cols[slot] = FinishAttribute(m, outs[attribute_slots[slot]]);
      outs[attribute_slots[slot]] = AttributeOut{};
    }
  }
  EvaluateFormulas(threads, &cols);
  r.attributes = Table(Schema(fields));
  for (size_t slot = 0; slot < cols.size(); ++slot) r.attributes.mutable_column(slot) = std::move(cols[slot]);
  if (cols.empty()) {
    // No attribute measure: an empty table.
  } else {
    CDP_RETURN_IF_ERROR(r.attributes.Validate());
  }
  for (const CompiledMeasure& m : measures) {
    if (m.cfg->kind == MeasureKind::kCustomer) r.customer.emplace(m.cfg->name, EvaluateGrouped(m, threads));
    if (m.cfg->kind == MeasureKind::kBusiness) r.business.emplace(m.cfg->name, EvaluateGrouped(m, threads));
  }
  return r;
}

}  // namespace cdp
