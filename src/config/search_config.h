// SearchConfig: which Customer fields the customer search indexes (free text)
// and which it offers as filters with counts per value. Part of ProjectConfig
// (YAML section `search:`); empty lists mean the defaults below.
#pragma once

#include <string>
#include <vector>

namespace cdp {

struct SearchFieldConfig {
  std::string field;        // a Customer field, e.g. "LastName"
  std::string normalize;    // "" (text: case/accents folded), "phone", "email"
  double weight = 1.0;      // relevance weight (> 0)
  bool operator==(const SearchFieldConfig&) const = default;
};

struct SearchConfig {
  // Free-text fields. Default (when empty): every Customer field whose name
  // or semantic type is a person name, email, phone, city or address, plus
  // the source keys (SourceKeys entity).
  std::vector<SearchFieldConfig> fields;
  // Filter fields with counts per value, e.g. State, Gender. Membership in
  // segments is always a filter ("segment").
  std::vector<std::string> filters;
  bool operator==(const SearchConfig&) const = default;
  bool empty() const { return fields.empty() && filters.empty(); }
};

}  // namespace cdp
