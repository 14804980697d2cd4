// Named, composable value normalizers for record matching (customer unification):
// a NormalizerChain turns a raw field value into the form that match rules compare.
// Thread-safe: a NormalizerChain is immutable; its const methods may be called concurrently.
#pragma once

#include <cstdint>
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
// Lowercase, UnicodeToAscii, Phone, PhoneDigits, PhoneLast<N>, Name, Address, Organization,
// Email, EmailProvider. "PhoneLast<N>" stands for PhoneLast4 .. PhoneLast15.
// README.md in this folder states each one's exact behaviour.
std::vector<std::string_view> KnownNormalizers();

// Values that mean "no value" in real customer data: "unknown", "n/a", "none", "null",
// "test", dummy phones ("000-000-0000", "555-555-5555", "1234567890"), dummy emails
// ("test@test.com", "noemail@example.com"), dummy dates ("1900-01-01"), ... (the full
// list is in README.md).
std::vector<std::string> DefaultPlaceholders();

// Why a non-blank value normalized to "".
enum class BlankReason : uint8_t {
  kNone = 0,     // not blanked (a value, or a blank input)
  kPlaceholder,  // a listed placeholder, or a dummy pattern a step knows (a phone of one
                 // repeated digit, an email like test@... or ...@example.com)
  kInvalid,      // a step rejected it (a phone with too few digits, a malformed email, an
                 // organization or name made only of words the step removes)
  kFrequent,     // set by RecordSet, never by a chain: a value held by implausibly many records
};
// "placeholder", "invalid", "frequent".
std::string_view BlankReasonName(BlankReason reason);

// What NormalizerChain::Normalize did with one value.
struct NormalizeOutcome {
  BlankReason blank = BlankReason::kNone;
  int8_t step = -1;      // index in names() of the step that blanked it, -1 for a listed placeholder
  bool lenient = false;  // a Phone step kept a number libphonenumber deems invalid, as digits
};

namespace normalize_internal {
struct ChainImpl;
}

// An immutable chain of normalizers applied in order. Cheap to copy.
class NormalizerChain {
 public:
  // `names` are known normalizer names (exact spelling). An empty list only trims outer blanks.
  // Errors (InvalidArgument): PhoneLast<N> with N outside 4..15; an unknown name ("unknown normalizer 'Foo' (known: Whitespace,
  // Symbols, ...)"); a default_region libphonenumber does not know (only checked when the
  // chain contains Phone; the region is case-insensitive, "us" == "US").
  static StatusOr<NormalizerChain> Create(const std::vector<std::string>& names,
                                          const NormalizeOptions& options);

  // The normalized value. "" means "no usable value": blank input, a value a normalizer
  // rejects (a phone with fewer than 7 digits, an email without a single '@'), or a
  // placeholder: a value whose normalized form equals the normalized form (under this same
  // chain) of any placeholder, compared case-insensitively, or a dummy a step recognizes.
  // Outer blanks of the input and of the result are always trimmed. Invalid UTF-8 bytes are
  // dropped by the Unicode-aware steps.
  std::string Normalize(std::string_view value) const;
  // Same, writing into *out (its buffer is reused: no allocation once it is large enough).
  // `value` may point into *out. The outcome says why a non-blank value became "".
  NormalizeOutcome Normalize(std::string_view value, std::string* out) const;

  // A short text for a blank outcome, e.g. "invalid phone, fewer than 7 digits",
  // "placeholder email", "invalid email", "placeholder"; "" for kNone.
  std::string DescribeBlank(const NormalizeOutcome& outcome) const;

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
