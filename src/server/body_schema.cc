#include "server/body_schema.h"

#include <algorithm>
#include <cmath>

namespace cdp {
namespace {

using J = nlohmann::ordered_json;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// "field 'x'" or "the body" for messages.
std::string Where(const std::string& path) { return path.empty() ? "the body" : "field '" + path + "'"; }

BodyError Fail(std::string code, const std::string& path, std::string message) {
  return BodyError{std::move(code), path, std::move(message)};
}

// A short rendering of a value for messages (strings quoted, long ones cut).
std::string Shown(const J& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return "'" + s + "'";
}

std::string NumberText(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
  return J(d).dump();
}

}  // namespace

BodySchema BodySchema::String() { return BodySchema(Type::kString); }
BodySchema BodySchema::Integer() { return BodySchema(Type::kInteger); }
BodySchema BodySchema::Number() { return BodySchema(Type::kNumber); }
BodySchema BodySchema::Boolean() { return BodySchema(Type::kBoolean); }
BodySchema BodySchema::Null() { return BodySchema(Type::kNull); }
BodySchema BodySchema::Any() { return BodySchema(Type::kAny); }

BodySchema BodySchema::Array(BodySchema items) {
  BodySchema s(Type::kArray);
  s.items_ = std::make_shared<const BodySchema>(std::move(items));
  return s;
}

BodySchema BodySchema::Object(std::vector<Property> properties) {
  BodySchema s(Type::kObject);
  s.properties_ = std::move(properties);
  return s;
}

BodySchema BodySchema::MapOf(BodySchema values) {
  BodySchema s(Type::kMap);
  s.items_ = std::make_shared<const BodySchema>(std::move(values));
  return s;
}

BodySchema BodySchema::OneOf(std::vector<BodySchema> alternatives, Selector select) {
  BodySchema s(Type::kOneOf);
  for (auto& a : alternatives) s.alternatives_.push_back(std::make_shared<const BodySchema>(std::move(a)));
  s.select_ = std::move(select);
  return s;
}

BodySchema::Property BodySchema::Required(std::string name, BodySchema schema) {
  return Property{std::move(name), std::make_shared<const BodySchema>(std::move(schema)), true};
}
BodySchema::Property BodySchema::Optional(std::string name, BodySchema schema) {
  return Property{std::move(name), std::make_shared<const BodySchema>(std::move(schema)), false};
}

BodySchema BodySchema::Named(std::string name) && {
  name_ = std::move(name);
  return std::move(*this);
}
BodySchema BodySchema::Describe(std::string text) && {
  description_ = std::move(text);
  return std::move(*this);
}
BodySchema BodySchema::Nullable() && {
  nullable_ = true;
  return std::move(*this);
}
BodySchema BodySchema::MinLength(size_t n) && {
  min_length_ = n;
  return std::move(*this);
}
BodySchema BodySchema::MaxLength(size_t n) && {
  max_length_ = n;
  return std::move(*this);
}
BodySchema BodySchema::Pattern(std::string regex, std::string rule, std::function<bool(std::string_view)> matches) && {
  pattern_ = std::move(regex);
  pattern_rule_ = std::move(rule);
  matches_ = std::move(matches);
  return std::move(*this);
}
BodySchema BodySchema::Enum(std::vector<std::string> values) && {
  enum_ = std::move(values);
  return std::move(*this);
}
BodySchema BodySchema::Range(double min, double max) && {
  min_ = min;
  max_ = max;
  return std::move(*this);
}
BodySchema BodySchema::MinItems(size_t n) && {
  min_items_ = n;
  return std::move(*this);
}
BodySchema BodySchema::MaxItems(size_t n) && {
  max_items_ = n;
  return std::move(*this);
}

std::string BodySchema::TypeWord() const {
  switch (type_) {
    case Type::kString: return "a string";
    case Type::kInteger: return "a whole number";
    case Type::kNumber: return "a number";
    case Type::kBoolean: return "true or false";
    case Type::kNull: return "null";
    case Type::kAny: return "any value";
    case Type::kArray: return "an array";
    case Type::kObject:
    case Type::kMap: return "an object";
    case Type::kOneOf: {
      std::vector<std::string> words;
      for (const auto& a : alternatives_) words.push_back(a->description_.empty() ? a->TypeWord() : a->description_);
      return "one of: " + Join(words);
    }
  }
  return "a value";
}

std::optional<BodyError> BodySchema::Validate(const J& value) const { return ValidateAt(value, ""); }

std::optional<BodyError> BodySchema::ValidateAt(const J& v, const std::string& path) const {
  if (v.is_null() && (nullable_ || type_ == Type::kNull)) return std::nullopt;
  auto wrong = [&] { return Fail("wrong_type", path, Where(path) + " must be " + TypeWord()); };
  switch (type_) {
    case Type::kAny:
      return std::nullopt;
    case Type::kNull:
      return wrong();
    case Type::kString: {
      if (!v.is_string()) return wrong();
      const std::string& s = v.get_ref<const std::string&>();
      if (s.find('\0') != std::string::npos) return Fail("invalid_value", path, Where(path) + " contains a NUL character");
      if (min_length_ && s.size() < *min_length_) {
        return Fail("invalid_value", path,
                    *min_length_ == 1 ? Where(path) + " may not be empty"
                                      : Where(path) + " must have at least " + std::to_string(*min_length_) + " characters");
      }
      if (max_length_ && s.size() > *max_length_) {
        return Fail("invalid_value", path, Where(path) + " is longer than " + std::to_string(*max_length_) + " bytes");
      }
      if (!enum_.empty() && std::find(enum_.begin(), enum_.end(), s) == enum_.end()) {
        return Fail("invalid_value", path, Where(path) + ": " + Shown(v) + " is not one of " + Join(enum_));
      }
      if (matches_) {
        if (!matches_(s)) {
          return Fail("invalid_value", path, Where(path) + ": " + Shown(v) + " is not valid: " + pattern_rule_);
        }
      }
      return std::nullopt;
    }
    case Type::kInteger:
    case Type::kNumber: {
      if (!v.is_number() || (type_ == Type::kInteger && !v.is_number_integer())) return wrong();
      double d = v.get<double>();
      if ((min_ && d < *min_) || (max_ && d > *max_) ||
          (type_ == Type::kInteger && v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
        std::string range = min_ && max_ ? "from " + NumberText(*min_) + " to " + NumberText(*max_)
                            : min_       ? "at least " + NumberText(*min_)
                            : max_       ? "at most " + NumberText(*max_)
                                         : "within range";
        return Fail("invalid_value", path, Where(path) + ": " + Shown(v) + " must be " + range);
      }
      return std::nullopt;
    }
    case Type::kBoolean:
      if (!v.is_boolean()) return wrong();
      return std::nullopt;
    case Type::kArray: {
      if (!v.is_array()) return wrong();
      if (min_items_ && v.size() < *min_items_) {
        return Fail("invalid_value", path, Where(path) + " needs at least " + std::to_string(*min_items_) + " item(s)");
      }
      if (max_items_ && v.size() > *max_items_) {
        return Fail("invalid_value", path, Where(path) + " has more than " + std::to_string(*max_items_) + " items");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        if (auto e = items_->ValidateAt(v[i], path + "[" + std::to_string(i) + "]")) return e;
      }
      return std::nullopt;
    }
    case Type::kMap: {
      if (!v.is_object()) return wrong();
      for (const auto& [k, x] : v.items()) {
        if (k.find('\0') != std::string::npos) return Fail("invalid_value", path, Where(path) + " has a key with a NUL character");
        if (auto e = items_->ValidateAt(x, Child(path, k))) return e;
      }
      return std::nullopt;
    }
    case Type::kObject: {
      if (!v.is_object()) return wrong();
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string& k = it.key();  // not a structured binding: clang does not capture those in lambdas
        bool known = std::any_of(properties_.begin(), properties_.end(), [&](const Property& p) { return p.name == k; });
        if (!known) {
          std::vector<std::string> names;
          for (const auto& p : properties_) names.push_back(p.name);
          return Fail("unknown_field", Child(path, k), "unknown field '" + Child(path, k) + "' (expected: " + Join(names) + ")");
        }
      }
      for (const auto& p : properties_) {
        auto it = v.find(p.name);
        std::string child = Child(path, p.name);
        if (it == v.end() || (it->is_null() && p.schema->nullable_ && p.required)) {
          if (p.required) return Fail("missing_field", child, "field '" + child + "' is required");
          continue;
        }
        if (auto e = p.schema->ValidateAt(*it, child)) return e;
      }
      return std::nullopt;
    }
    case Type::kOneOf: {
      int i = select_ ? select_(v) : -1;
      if (i < 0 || static_cast<size_t>(i) >= alternatives_.size()) {
        return Fail("wrong_type", path, Where(path) + " must be " + TypeWord());
      }
      return alternatives_[static_cast<size_t>(i)]->ValidateAt(v, path);
    }
  }
  return wrong();
}

J BodySchema::AsRef(J* components) const {
  if (name_.empty()) return ToJsonSchema(components);
  if (!components->contains(name_)) {
    (*components)[name_] = J::object();  // reserve the name first: schemas may refer to themselves
    // Nullability belongs to the place that refers to the schema, not to it.
    BodySchema plain = *this;
    plain.nullable_ = false;
    (*components)[name_] = plain.ToJsonSchema(components);
  }
  J ref = {{"$ref", "#/components/schemas/" + name_}};
  // OpenAPI 3.0 ignores siblings of $ref: a nullable reference wraps it.
  if (nullable_) return J{{"nullable", true}, {"allOf", J::array({ref})}};
  return ref;
}

J BodySchema::ToJsonSchema(J* components) const {
  J s = J::object();
  switch (type_) {
    case Type::kAny: break;  // {}: any value
    case Type::kString: s["type"] = "string"; break;
    case Type::kInteger: s["type"] = "integer"; break;
    case Type::kNumber: s["type"] = "number"; break;
    case Type::kBoolean: s["type"] = "boolean"; break;
    case Type::kNull:
      s["nullable"] = true;
      s["enum"] = J::array({nullptr});
      break;
    case Type::kArray:
      s["type"] = "array";
      s["items"] = items_->AsRef(components);
      break;
    case Type::kObject: {
      s["type"] = "object";
      J props = J::object();
      J required = J::array();
      for (const auto& p : properties_) {
        props[p.name] = p.schema->AsRef(components);
        if (p.required) required.push_back(p.name);
      }
      s["properties"] = props;
      if (!required.empty()) s["required"] = required;
      s["additionalProperties"] = false;
      break;
    }
    case Type::kMap:
      s["type"] = "object";
      s["additionalProperties"] = items_->AsRef(components);
      break;
    case Type::kOneOf: {
      J alts = J::array();
      for (const auto& a : alternatives_) alts.push_back(a->AsRef(components));
      s["oneOf"] = alts;
      break;
    }
  }
  if (!description_.empty()) s["description"] = description_;
  if (nullable_ && type_ != Type::kNull) s["nullable"] = true;
  if (min_length_) s["minLength"] = *min_length_;
  if (max_length_) s["maxLength"] = *max_length_;
  if (!pattern_.empty()) s["pattern"] = pattern_;
  if (!enum_.empty()) s["enum"] = enum_;
  if (min_) s["minimum"] = *min_;
  if (max_) s["maximum"] = *max_;
  if (min_items_) s["minItems"] = *min_items_;
  if (max_items_) s["maxItems"] = *max_items_;
  return s;
}

}  // namespace cdp
