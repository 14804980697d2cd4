// Phone normalization to E.164, the only user of libphonenumber in the project.
// Thread-safe: const methods may be called concurrently (libphonenumber's PhoneNumberUtil is
// thread-safe; the NANP validity memo is a table of relaxed atomics).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace cdp::normalize_internal {

class PhoneNormalizer {
 public:
  // `region` is an ISO 3166 region code libphonenumber supports (case-insensitive).
  static StatusOr<PhoneNormalizer> Create(std::string_view region);

  // E.164 ("+12065550142") of a valid number, "" otherwise. Uses the NANP fast path when the
  // region is US or CA and the value has a plain NANP layout, libphonenumber otherwise.
  void Normalize(std::string_view in, std::string* out) const;

  // Exposed for tests and the benchmark: the fast path alone (returns false when the value is
  // not one it handles, leaving *out unspecified), and libphonenumber alone.
  bool NormalizeFast(std::string_view in, std::string* out) const;
  void NormalizeWithLibphonenumber(std::string_view in, std::string* out) const;

  const std::string& region() const { return region_; }

 private:
  explicit PhoneNormalizer(std::string region, bool nanp) : region_(std::move(region)), nanp_(nanp) {}

  std::string region_;
  bool nanp_ = false;  // region is US or CA: the fast path applies
};

}  // namespace cdp::normalize_internal
