#include "relate/activity_builder.h"

#include "table/table_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace cdp {
namespace {

struct Staged {
  int64_t customer;
  int64_t time;
  uint32_t activity;
  uint32_t row;
};

}  // namespace

Schema UnifiedActivitySchema() {
  return Schema({Field{"CustomerId", DataType::kInt64, {}},   Field{"ActivityType", DataType::kString, {}},
                 Field{"Activity", DataType::kString, {}},    Field{"Timestamp", DataType::kTimestamp, {}},
                 Field{"Subject", DataType::kString, {}},     Field{"Amount", DataType::kDouble, {}},
                 Field{"SourceEntity", DataType::kString, {}}, Field{"SourceKey", DataType::kString, {}},
                 Field{"Fields", DataType::kString, {}}});
}

StatusOr<std::shared_ptr<Table>> BuildUnifiedActivity(const ActivityInputs& in, std::vector<ActivityStats>* stats) {
  struct Loaded {
    std::shared_ptr<const Table> table;
    int time = -1, subject = -1, amount = -1, key = -1;
  };
  std::vector<Loaded> loaded;
  std::vector<Staged> staged;
  stats->clear();
  for (uint32_t a = 0; a < in.activities->size(); ++a) {
    const ActivityConfig& act = (*in.activities)[a];
    std::string where = "activity '" + act.name + "'";
    CDP_ASSIGN_OR_RETURN(RelationshipPath path,
                         FindPathToCustomer(act.entity, *in.relationships, in.profile_sources, act.path));
    Loaded l;
    CDP_ASSIGN_OR_RETURN(l.table, in.load(act.entity));
    const Schema& schema = l.table->schema();
    auto field = [&](const std::string& name, const std::string& role) -> StatusOr<int> {
      int i = schema.FieldIndex(name);
      if (i < 0) {
        std::string list;
        for (const auto& f : schema.fields()) list += (list.empty() ? "" : ", ") + f.name;
        return InvalidArgumentError(where + ": " + role + " field '" + name + "' is not a field of '" + act.entity +
                                    "' (fields: " + list + ")");
      }
      return i;
    };
    CDP_ASSIGN_OR_RETURN(l.time, field(act.timestamp, "timestamp"));
    DataType tt = schema.field(static_cast<size_t>(l.time)).type;
    if (tt != DataType::kDate && tt != DataType::kTimestamp) {
      return InvalidArgumentError(where + ": timestamp field '" + act.timestamp + "' is " + std::string(DataTypeName(tt)) +
                                  "; declare it as a date or timestamp (with a format if needed)");
    }
    if (!act.subject.empty()) {
      CDP_ASSIGN_OR_RETURN(l.subject, field(act.subject, "subject"));
    }
    if (!act.amount.empty()) {
      CDP_ASSIGN_OR_RETURN(l.amount, field(act.amount, "amount"));
      DataType at = schema.field(static_cast<size_t>(l.amount)).type;
      if (at != DataType::kDouble && at != DataType::kInt64) {
        return InvalidArgumentError(where + ": amount field '" + act.amount + "' is " + std::string(DataTypeName(at)) +
                                    ", not a number");
      }
    }
    std::string key = in.key_of(act.entity);
    if (!key.empty()) l.key = schema.FieldIndex(key);
    ActivityStats st;
    st.activity = act.name;
    st.entity = act.entity;
    auto customers = ResolveCustomers(act.entity, *l.table, path, in.load, in.key_of, *in.customers, &st.relation);
    if (!customers.ok()) return customers.status().WithContext(where);
    const Column& tc = l.table->column(static_cast<size_t>(l.time));
    for (size_t r = 0; r < l.table->num_rows(); ++r) {
      int64_t c = (*customers)[r];
      if (c < 0) continue;
      if (tc.IsNull(r)) {
        ++st.missing_timestamp;
        continue;
      }
      int64_t t = tt == DataType::kDate ? static_cast<int64_t>(tc.DateAt(r)) * 86400000000LL : tc.TimestampAt(r);
      staged.push_back(Staged{c, t, a, static_cast<uint32_t>(r)});
      ++st.rows_out;
    }
    stats->push_back(std::move(st));
    loaded.push_back(std::move(l));
  }
  std::sort(staged.begin(), staged.end(), [](const Staged& x, const Staged& y) {
    if (x.customer != y.customer) return x.customer < y.customer;
    if (x.time != y.time) return x.time < y.time;
    if (x.activity != y.activity) return x.activity < y.activity;
    return x.row < y.row;
  });
  auto out = std::make_shared<Table>(UnifiedActivitySchema());
  for (int c = 0; c < 9; ++c) out->mutable_column(static_cast<size_t>(c)).Reserve(staged.size());
  std::string json;
  for (const Staged& s : staged) {
    const ActivityConfig& act = (*in.activities)[s.activity];
    const Loaded& l = loaded[s.activity];
    const Table& t = *l.table;
    out->mutable_column(0).AppendInt64(in.customers->customer_id(static_cast<uint32_t>(s.customer)));
    out->mutable_column(1).AppendString(act.type);
    out->mutable_column(2).AppendString(act.name);
    out->mutable_column(3).AppendTimestamp(s.time);
    if (l.subject >= 0 && !t.column(static_cast<size_t>(l.subject)).IsNull(s.row)) {
      const Column& sc = t.column(static_cast<size_t>(l.subject));
      out->mutable_column(4).AppendString(sc.type() == DataType::kString ? std::string(sc.StringAt(s.row)) : sc.ValueToString(s.row));
    } else {
      out->mutable_column(4).AppendNull();
    }
    if (l.amount >= 0 && !t.column(static_cast<size_t>(l.amount)).IsNull(s.row)) {
      const Column& ac = t.column(static_cast<size_t>(l.amount));
      out->mutable_column(5).AppendDouble(ac.type() == DataType::kDouble ? ac.DoubleAt(s.row) : static_cast<double>(ac.Int64At(s.row)));
    } else {
      out->mutable_column(5).AppendNull();
    }
    out->mutable_column(6).AppendString(act.entity);
    if (l.key >= 0 && !t.column(static_cast<size_t>(l.key)).IsNull(s.row)) {
      const Column& kc = t.column(static_cast<size_t>(l.key));
      out->mutable_column(7).AppendString(kc.type() == DataType::kString ? std::string(kc.StringAt(s.row)) : kc.ValueToString(s.row));
    } else {
      out->mutable_column(7).AppendString("row " + std::to_string(s.row + 1));
    }
    json.assign("{");
    bool first = true;
    for (size_t c = 0; c < t.num_columns(); ++c) {
      int ci = static_cast<int>(c);
      if (ci == l.time || ci == l.subject || ci == l.amount || ci == l.key) continue;
      if (!first) json.push_back(',');
      first = false;
      AppendJsonString(&json, t.schema().field(c).name);
      json.push_back(':');
      AppendValueJson(&json, t.column(c), s.row);
    }
    json.push_back('}');
    out->mutable_column(8).AppendString(json);
    out->FinishRow();
  }
  return out;
}

}  // namespace cdp
