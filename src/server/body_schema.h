// BodySchema: a declarative description of a JSON request body (objects with
// typed properties, strings with length/pattern/enum, numbers with ranges,
// arrays, maps, discriminated alternatives). The same description validates
// a parsed body (errors name the field path) and is emitted as the OpenAPI 3.0
// JSON Schema of the route, so the document cannot drift from the check.
// A built schema is immutable; share it between threads freely.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cdp {

// Why a body does not match its schema: a 400 code ("missing_field",
// "wrong_type", "unknown_field", "invalid_value"), the field path
// ("rules[0].conditions[1].op"; "" for the body itself) and a message that
// names the path.
struct BodyError {
  std::string code;
  std::string path;
  std::string message;
};

class BodySchema {
 public:
  enum class Type { kString, kInteger, kNumber, kBoolean, kNull, kArray, kObject, kMap, kOneOf, kAny };
  struct Property {
    std::string name;
    std::shared_ptr<const BodySchema> schema;
    bool required = false;
  };
  // Chooses the alternative of a OneOf that a value must match (its index),
  // or -1 when none applies (the error then lists the alternatives).
  using Selector = std::function<int(const nlohmann::ordered_json&)>;

  static BodySchema String();
  static BodySchema Integer();
  static BodySchema Number();
  static BodySchema Boolean();
  // Only null (a key that may be given as null but with no other value).
  static BodySchema Null();
  // Any JSON value: a part whose shape only the parser it is passed to checks
  // (say which in Describe).
  static BodySchema Any();
  static BodySchema Array(BodySchema items);
  // An object with exactly these properties (additionalProperties: false).
  static BodySchema Object(std::vector<Property> properties);
  // An object whose keys are free (names) and whose values match `values`.
  static BodySchema MapOf(BodySchema values);
  // Exactly one of `alternatives`, the one `select` picks (a discriminated union).
  static BodySchema OneOf(std::vector<BodySchema> alternatives, Selector select);

  static Property Required(std::string name, BodySchema schema);
  static Property Optional(std::string name, BodySchema schema);

  // Modifiers; each returns the changed schema.
  BodySchema Named(std::string name) &&;       // emitted once under components/schemas, then by $ref
  BodySchema Describe(std::string text) &&;
  BodySchema Nullable() &&;                    // null is accepted and means "not given"
  BodySchema MinLength(size_t n) &&;
  BodySchema MaxLength(size_t n) &&;
  // A string rule: `matches` decides (the module that owns the rule supplies
  // it), `regex` is the same rule as an anchored ECMAScript pattern for the
  // document (body_schema_test checks that the two agree), `rule` says it in
  // words for the error message.
  BodySchema Pattern(std::string regex, std::string rule, std::function<bool(std::string_view)> matches) &&;
  BodySchema Enum(std::vector<std::string> values) &&;
  BodySchema Range(double min, double max) &&;  // integers and numbers, inclusive
  BodySchema MinItems(size_t n) &&;
  BodySchema MaxItems(size_t n) &&;

  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::vector<Property>& properties() const { return properties_; }

  // Checks `value` against the schema; nullopt when it matches. Strings
  // holding a NUL character are refused everywhere.
  std::optional<BodyError> Validate(const nlohmann::ordered_json& value) const;

  // The JSON Schema (OpenAPI 3.0 dialect). Named sub-schemas are added to
  // `components` (components/schemas) and referenced with $ref; a named
  // schema itself is emitted in full (call through a parent or AsRef for $ref).
  nlohmann::ordered_json ToJsonSchema(nlohmann::ordered_json* components) const;
  // {"$ref": ...} for a named schema (adding it to `components`), else ToJsonSchema.
  nlohmann::ordered_json AsRef(nlohmann::ordered_json* components) const;

 private:
  explicit BodySchema(Type t) : type_(t) {}
  std::optional<BodyError> ValidateAt(const nlohmann::ordered_json& value, const std::string& path) const;
  std::string TypeWord() const;  // "a string", "an object", ... for messages

  Type type_;
  std::string name_;
  std::string description_;
  bool nullable_ = false;
  std::optional<size_t> min_length_, max_length_;
  std::string pattern_, pattern_rule_;
  std::function<bool(std::string_view)> matches_;
  std::vector<std::string> enum_;
  std::optional<double> min_, max_;
  std::optional<size_t> min_items_, max_items_;
  // Children are shared: one sub-schema (a condition) is used by several parents.
  std::vector<Property> properties_;               // kObject
  std::shared_ptr<const BodySchema> items_;        // kArray items, kMap values
  std::vector<std::shared_ptr<const BodySchema>> alternatives_;  // kOneOf
  Selector select_;
};

}  // namespace cdp
