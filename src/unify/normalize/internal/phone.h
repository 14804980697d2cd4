// Phone normalization to E.164, the only user of libphonenumber in the project.
// Thread-safe: const methods may be called concurrently (libphonenumber's PhoneNumberUtil is
// thread-safe; the NANP validity memo is a table of relaxed atomics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp::normalize_internal {

class PhoneNormalizer {
 public:
  // `region` is an ISO 3166 region code libphonenumber supports (case-insensitive).
  static StatusOr<PhoneNormalizer> Create(std::string_view region);

  // What Normalize made of a value.
  enum class Form : uint8_t {
    kValid,       // E.164 of a number libphonenumber deems valid
    kLenient,     // not valid: its digits (the last lenient_digits() of them)
    kTooFewDigits,  // fewer than kMinDigits digits: *out is ""
    kPlaceholder,   // its last 7 digits are one repeated digit ("000-000-0000"): *out is ""
  };
  // Digits a lenient form needs.
  static constexpr int kMinDigits = 7;

  // E.164 ("+12065550142") of a valid number; otherwise the lenient form: the value's ASCII
  // digits (those before an extension: a letter, '#', ',', ';', '/' or '|' after 7 digits
  // ends the number), their last lenient_digits() when there are more. Uses the NANP fast
  // path when the region is US or CA and the value has a plain NANP layout, libphonenumber
  // otherwise.
  Form Normalize(std::string_view in, std::string* out) const;

  // The digits of `in` as above (extension cut); `max_digits` > 0 keeps only the last ones.
  // kTooFewDigits when fewer than `min_digits`, kPlaceholder when the last 7 are all equal.
  static Form Digits(std::string_view in, int min_digits, int max_digits, std::string* out);

  // Exposed for tests and the benchmark, both strict (E.164 of a valid number, else ""): the
  // fast path alone (returns false when the value is not one it handles, leaving *out
  // unspecified), and libphonenumber alone.
  bool NormalizeFast(std::string_view in, std::string* out) const;
  void NormalizeWithLibphonenumber(std::string_view in, std::string* out) const;

  const std::string& region() const { return region_; }
  // Digits kept by the lenient form: the longest national significant number among the
  // region's example fixed-line and mobile numbers (10 for US/CA, 10 for GB, 11 for DE/CN),
  // at least 7; so "+1 555 123 4567" and "555-123-4567" agree, as do a national trunk '0'
  // and a country code in front of the same number.
  int lenient_digits() const { return lenient_digits_; }

 private:
  PhoneNormalizer(std::string region, bool nanp, int lenient_digits)
      : region_(std::move(region)), nanp_(nanp), lenient_digits_(lenient_digits) {}

  std::string region_;
  bool nanp_ = false;  // region is US or CA: the fast path applies
  int lenient_digits_ = 10;
};

}  // namespace cdp::normalize_internal
