// Named, composable value normalizers for record matching (customer unification):
// a NormalizerChain turns a raw field value into the form that match rules compare.
// Thread-safe: a NormalizerChain is immutable; its const methods may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

struct NormalizeOptions {
  std::string default_region = "US";            // region for Phone numbers without a country code
  bool default_placeholders = true;             // use DefaultPlaceholders()
  std::vector<std::string> extra_placeholders;  // user-supplied values that never match
};

// The known normalizer names, in documentation order: Whitespace, Symbols, Numerals,
// Lowercase, UnicodeToAscii, Phone, Name, Address, Organization, Email, EmailProvider.
// README.md in this folder states each one's exact behaviour.
std::vector<std::string_view> KnownNormalizers();

// Values that mean "no value" in real customer data: "unknown", "n/a", "none", "null",
// "test", dummy phones ("000-000-0000", "555-555-5555", "1234567890"), dummy emails
// ("test@test.com", "noemail@example.com"), dummy dates ("1900-01-01"), ... (the full
// list is in README.md).
std::vector<std::string> DefaultPlaceholders();

namespace normalize_internal {
struct ChainImpl;
}

// An immutable chain of normalizers applied in order. Cheap to copy.
class NormalizerChain {
 public:
  // `names` are known normalizer names (exact spelling). An empty list only trims outer blanks.
  // Errors (InvalidArgument): an unknown name ("unknown normalizer 'Foo' (known: Whitespace,
  // Symbols, ...)"); a default_region libphonenumber does not know (only checked when the
  // chain contains Phone; the region is case-insensitive, "us" == "US").
  static StatusOr<NormalizerChain> Create(const std::vector<std::string>& names,
                                          const NormalizeOptions& options);

  // The normalized value. "" means "no usable value": blank input, a value a normalizer
  // rejects (an unparseable or invalid phone, an email without a single '@'), or a
  // placeholder: a value whose normalized form equals the normalized form (under this same
  // chain) of any placeholder, compared case-insensitively. Outer blanks of the input and of
  // the result are always trimmed. Invalid UTF-8 bytes are dropped by the Unicode-aware steps.
  std::string Normalize(std::string_view value) const;
  // Same, writing into *out (its buffer is reused: no allocation once it is large enough).
  // `value` may point into *out.
  void Normalize(std::string_view value, std::string* out) const;

  const std::vector<std::string>& names() const;

 private:
  // The steps and the normalized placeholder set never change after Create, so copies share
  // them instead of copying the placeholder strings: chains are stored in vectors and
  // returned by value (StatusOr), and a shared_ptr<const> keeps that a pointer copy.
  explicit NormalizerChain(std::shared_ptr<const normalize_internal::ChainImpl> impl)
      : impl_(std::move(impl)) {}

  std::shared_ptr<const normalize_internal::ChainImpl> impl_;
};

}  // namespace cdp
