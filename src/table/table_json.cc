#include "table/table_json.h"

#include <charconv>
#include <cmath>

#include "common/utf8.h"

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

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run that needs no escaping in one append.
    size_t j = i;
    while (j < s.size()) {
      unsigned char u = static_cast<unsigned char>(s[j]);
      if (u < 0x20 || u == '"' || u == '\\' || u >= 0x80) break;
      ++j;
    }
    out->append(s.data() + i, j - i);
    if (j == s.size()) break;
    unsigned char u = static_cast<unsigned char>(s[j]);
    if (u >= 0x80) {
      size_t n = Utf8SequenceLength(s, j);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD
        i = j + 1;
      } else {
        out->append(s.data() + j, n);
        i = j + n;
      }
      continue;
    }
    switch (u) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        char buf[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
        out->append(buf, 6);
      }
    }
    i = j + 1;
  }
  out->push_back('"');
}

void AppendValueJson(std::string* out, const Column& c, size_t row) {
  if (c.IsNull(row)) {
    out->append("null");
    return;
  }
  char buf[64];
  switch (c.type()) {
    case DataType::kInt64: {
      auto r = std::to_chars(buf, buf + sizeof buf, c.Int64At(row));
      out->append(buf, r.ptr);
      return;
    }
    case DataType::kBool: out->append(c.BoolAt(row) ? "true" : "false"); return;
    case DataType::kDouble: {
      double d = c.DoubleAt(row);
      if (!std::isfinite(d)) break;  // as text, like ValueToJson
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
      out->append(text);
      if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");  // stays a double
      return;
    }
    case DataType::kString: AppendJsonString(out, c.StringAt(row)); return;
    default: break;
  }
  AppendJsonString(out, c.ValueToString(row));
}

void AppendRowJson(std::string* out, const Table& t, size_t row, std::string_view skip) {
  out->push_back('{');
  bool first = true;
  for (size_t c = 0; c < t.num_columns(); ++c) {
    const std::string& name = t.schema().field(c).name;
    if (!skip.empty() && name == skip) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    AppendValueJson(out, t.column(c), row);
  }
  out->push_back('}');
}

}  // namespace cdp
