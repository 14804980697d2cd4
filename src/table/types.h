// Data types and semantic types of entity fields. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdp {

// Physical type of a column. Dates are days since 1970-01-01 (int32);
// timestamps are microseconds since 1970-01-01T00:00:00Z (int64).
enum class DataType : uint8_t {
  kString = 0,
  kInt64 = 1,
  kDouble = 2,
  kBool = 3,
  kDate = 4,
  kTimestamp = 5,
};

// "string", "int64", "double", "bool", "date", "timestamp".
std::string_view DataTypeName(DataType type);
// Accepts the names above plus aliases (int, integer, float, number, boolean,
// datetime, text). Case-insensitive.
std::optional<DataType> ParseDataType(std::string_view name);

// What a field means, independent of its physical type: used by mapping and
// matching. Known names are listed by KnownSemanticTypes(); a custom semantic
// type is any other dotted identifier, e.g. "Custom.LoyaltyTier".
class SemanticType {
 public:
  SemanticType() = default;
  explicit SemanticType(std::string name) : name_(std::move(name)) {}

  static inline constexpr std::string_view kFirstName = "Person.FirstName";
  static inline constexpr std::string_view kLastName = "Person.LastName";
  static inline constexpr std::string_view kFullName = "Person.FullName";
  static inline constexpr std::string_view kEmail = "Email";
  static inline constexpr std::string_view kPhone = "Phone";
  static inline constexpr std::string_view kAddress = "Location.Address";
  static inline constexpr std::string_view kCity = "Location.City";
  static inline constexpr std::string_view kState = "Location.State";
  static inline constexpr std::string_view kPostalCode = "Location.PostalCode";
  static inline constexpr std::string_view kCountry = "Location.Country";
  static inline constexpr std::string_view kDateOfBirth = "Person.DateOfBirth";
  static inline constexpr std::string_view kGender = "Person.Gender";

  bool empty() const { return name_.empty(); }
  const std::string& name() const { return name_; }
  bool is_known() const;
  bool operator==(const SemanticType& o) const { return name_ == o.name_; }

 private:
  std::string name_;
};

const std::vector<std::string_view>& KnownSemanticTypes();
// True for a known name or a custom dotted identifier ([A-Za-z][A-Za-z0-9_]* parts).
bool IsValidSemanticTypeName(std::string_view name);

struct Field {
  std::string name;
  DataType type = DataType::kString;
  SemanticType semantic;
  bool operator==(const Field& o) const {
    return name == o.name && type == o.type && semantic == o.semantic;
  }
};

// Ordered list of fields with unique names.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  size_t num_fields() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  const std::vector<Field>& fields() const { return fields_; }
  void AddField(Field f) { fields_.push_back(std::move(f)); }
  // Index of the field named `name`, or -1.
  int FieldIndex(std::string_view name) const;
  bool operator==(const Schema& o) const { return fields_ == o.fields_; }

 private:
  std::vector<Field> fields_;
};

}  // namespace cdp
