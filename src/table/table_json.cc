#include "table/table_json.h"

#include <cmath>

namespace cdp {

nlohmann::json ValueToJson(const Column& c, size_t row) {
  if (c.IsNull(row)) return nullptr;
  switch (c.type()) {
    case DataType::kInt64: return c.Int64At(row);
    case DataType::kDouble: {
      double d = c.DoubleAt(row);
      if (!std::isfinite(d)) return c.ValueToString(row);
      return d;
    }
    case DataType::kBool: return c.BoolAt(row);
    default: return c.ValueToString(row);
  }
}

nlohmann::ordered_json RowToJson(const Table& t, size_t row) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (size_t c = 0; c < t.num_columns(); ++c) o[t.schema().field(c).name] = ValueToJson(t.column(c), row);
  return o;
}

}  // namespace cdp
