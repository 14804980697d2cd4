#include "unify/normalize/internal/phone.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>

#include <phonenumbers/phonenumberutil.h>

#include "unify/normalize/internal/steps.h"

namespace cdp::normalize_internal {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber refuses longer inputs (kMaxInputStringLength); the fast path must too.
constexpr size_t kMaxInputLength = 250;

// Validity of NANP numbers depends on their first seven digits (NPA, NXX and the first line
// digit: libphonenumber's metadata for all +1 regions splits ranges no finer; e.g. 246-521-x
// is valid for some x only). The memo holds 0 = not computed, 1 = valid, 2 = invalid per
// NPA [2-9]xx, NXX [2-9]xx and digit: 800 * 800 * 10 entries. It is filled lazily by asking
// libphonenumber for the first number seen with each prefix; racing writers store the same
// value, so relaxed atomics suffice. (Checked against libphonenumber 8.12: ten line numbers
// for each of the 640,000 NPA-NXX pairs agree except in three pairs, which the seventh digit
// decides; normalizer_test compares the fast path with libphonenumber on random numbers.)
constexpr size_t kMemoSize = 800 * 800 * 10;

std::atomic<uint8_t>* ValidityMemo() {
  static const std::unique_ptr<std::atomic<uint8_t>[]> memo =
      std::make_unique<std::atomic<uint8_t>[]>(kMemoSize);
  return memo.get();
}

// libphonenumber's verdict for the +1 number with these ten national digits, which is what
// Parse(digits, "US" or "CA") followed by IsValidNumber gives (a ten-digit national number
// NPA [2-9]xx NXX [2-9]xx parses to country code 1 and exactly those digits). IsValidNumber
// tries the +1 regions in order, the US first; asking for the US alone is about 3x cheaper,
// so that is tried first and the full check only runs for non-US or invalid numbers.
bool LibphonenumberValid(const char* national10) {
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  uint64_t national = 0;
  for (int i = 0; i < 10; ++i) national = national * 10 + static_cast<uint64_t>(national10[i] - '0');
  PhoneNumber number;
  number.set_country_code(1);
  number.set_national_number(national);
  return util->IsValidNumberForRegion(number, "US") || util->IsValidNumber(number);
}

}  // namespace

StatusOr<PhoneNormalizer> PhoneNormalizer::Create(std::string_view region) {
  std::string upper(region);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  std::set<std::string> supported;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
  if (supported.count(upper) == 0) {
    return InvalidArgumentError("unknown phone region '" + std::string(region) +
                                "' (expected an ISO 3166 code such as US, CA, GB, DE)");
  }
  const bool nanp = upper == "US" || upper == "CA";
  // The lenient form keeps as many digits as the region's longest example number has.
  int lenient = kMinDigits;
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  for (auto type : {PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE}) {
    PhoneNumber example;
    if (!util->GetExampleNumberForType(upper, type, &example)) continue;
    std::string nsn;
    util->GetNationalSignificantNumber(example, &nsn);
    lenient = std::max(lenient, static_cast<int>(nsn.size()));
  }
  return PhoneNormalizer(std::move(upper), nanp, lenient);
}

PhoneNormalizer::Form PhoneNormalizer::Digits(std::string_view in, int min_digits, int max_digits,
                                              std::string* out) {
  out->clear();
  if (in.size() > kMaxInputLength) in = in.substr(0, kMaxInputLength);
  bool ascii = true;
  for (char c : in) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  thread_local std::string converted;
  if (!ascii) {  // digits of other scripts (fullwidth, Arabic-Indic) count too
    ConvertNumerals(in, &converted);
    in = converted;
  }
  for (char c : in) {
    if (c >= '0' && c <= '9') {
      out->push_back(c);
      continue;
    }
    // After a whole number, a letter or a list separator starts an extension or a second number.
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (out->size() >= static_cast<size_t>(kMinDigits) &&
        (letter || c == '#' || c == ',' || c == ';' || c == '/' || c == '|')) {
      break;
    }
  }
  if (out->size() < static_cast<size_t>(std::max(min_digits, 1))) {
    out->clear();
    return Form::kTooFewDigits;
  }
  if (max_digits > 0 && out->size() > static_cast<size_t>(max_digits)) {
    out->erase(0, out->size() - static_cast<size_t>(max_digits));
  }
  if (out->size() >= 7) {
    const size_t start = out->size() - 7;
    if (out->find_first_not_of((*out)[start], start) == std::string::npos) {
      out->clear();
      return Form::kPlaceholder;
    }
  }
  return Form::kLenient;
}

PhoneNormalizer::Form PhoneNormalizer::Normalize(std::string_view in, std::string* out) const {
  if (!(nanp_ && NormalizeFast(in, out))) NormalizeWithLibphonenumber(in, out);
  if (out->empty()) return Digits(in, kMinDigits, lenient_digits_, out);
  // A valid number made of one repeated digit ("+1 222 222 2222") is still a dummy.
  const size_t start = out->size() >= 8 ? out->size() - 7 : 0;
  if (start > 0 && out->find_first_not_of((*out)[start], start) == std::string::npos) {
    out->clear();
    return Form::kPlaceholder;
  }
  return Form::kValid;
}

bool PhoneNormalizer::NormalizeFast(std::string_view in, std::string* out) const {
  if (!nanp_ || in.size() > kMaxInputLength) return false;
  char digits[11];
  int n = 0;
  bool plus = false;
  for (char c : in) {
    if (c >= '0' && c <= '9') {
      if (n == 11) return false;
      digits[n++] = c;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      continue;
    } else if (c == '+' && n == 0 && !plus) {
      plus = true;
    } else {
      return false;  // letters (extensions), other punctuation, non-ASCII: libphonenumber decides
    }
  }
  const char* national;
  if (n == 11 && digits[0] == '1') {
    national = digits + 1;
  } else if (n == 10 && !plus) {
    national = digits;
  } else {
    return false;
  }
  if (national[0] < '2' || national[3] < '2') return false;  // not NPA [2-9]xx NXX [2-9]xx
  const size_t npa = static_cast<size_t>((national[0] - '0') * 100 + (national[1] - '0') * 10 + (national[2] - '0'));
  const size_t nxx = static_cast<size_t>((national[3] - '0') * 100 + (national[4] - '0') * 10 + (national[5] - '0'));
  const size_t index = ((npa - 200) * 800 + (nxx - 200)) * 10 + static_cast<size_t>(national[6] - '0');
  std::atomic<uint8_t>& slot = ValidityMemo()[index];
  uint8_t state = slot.load(std::memory_order_relaxed);
  if (state == 0) {
    state = LibphonenumberValid(national) ? 1 : 2;
    slot.store(state, std::memory_order_relaxed);
  }
  out->clear();
  if (state == 1) {
    out->append("+1", 2);
    out->append(national, 10);
  }
  return true;
}

void PhoneNormalizer::NormalizeWithLibphonenumber(std::string_view in, std::string* out) const {
  out->clear();
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util->Parse(std::string(in), region_, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return;
  if (!util->IsValidNumber(number)) return;
  util->Format(number, PhoneNumberUtil::E164, out);
}

}  // namespace cdp::normalize_internal
