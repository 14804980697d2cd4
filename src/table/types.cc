#include "table/types.h"

#include <algorithm>
#include <cctype>

namespace cdp {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kString: return "string";
    case DataType::kInt64: return "int64";
    case DataType::kDouble: return "double";
    case DataType::kBool: return "bool";
    case DataType::kDate: return "date";
    case DataType::kTimestamp: return "timestamp";
  }
  return "unknown";
}

std::optional<DataType> ParseDataType(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "string" || n == "text" || n == "str") return DataType::kString;
  if (n == "int64" || n == "int" || n == "integer" || n == "long") return DataType::kInt64;
  if (n == "double" || n == "float" || n == "number" || n == "decimal") return DataType::kDouble;
  if (n == "bool" || n == "boolean") return DataType::kBool;
  if (n == "date") return DataType::kDate;
  if (n == "timestamp" || n == "datetime") return DataType::kTimestamp;
  return std::nullopt;
}

const std::vector<std::string_view>& KnownSemanticTypes() {
  static const std::vector<std::string_view> kKnown = {
      SemanticType::kFirstName, SemanticType::kLastName,   SemanticType::kFullName,
      SemanticType::kEmail,     SemanticType::kPhone,      SemanticType::kAddress,
      SemanticType::kCity,      SemanticType::kState,      SemanticType::kPostalCode,
      SemanticType::kCountry,   SemanticType::kDateOfBirth, SemanticType::kGender,
  };
  return kKnown;
}

bool SemanticType::is_known() const {
  const auto& k = KnownSemanticTypes();
  return std::find(k.begin(), k.end(), std::string_view(name_)) != k.end();
}

bool IsValidSemanticTypeName(std::string_view name) {
  if (name.empty()) return false;
  bool part_start = true;
  for (char c : name) {
    if (c == '.') {
      if (part_start) return false;
      part_start = true;
      continue;
    }
    bool alpha = std::isalpha(static_cast<unsigned char>(c));
    bool alnum = alpha || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
    if (part_start ? !alpha : !alnum) return false;
    part_start = false;
  }
  return !part_start;
}

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace cdp
