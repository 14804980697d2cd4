#include "unify/normalize/normalizer.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "unify/normalize/internal/phone.h"
#include "unify/normalize/internal/steps.h"

namespace cdp {
namespace normalize_internal {


enum class Step {
  kWhitespace,
  kSymbols,
  kNumerals,
  kLowercase,
  kUnicodeToAscii,
  kPhone,
  kPhoneDigits,
  kPhoneLast,
  kName,
  kAddress,
  kOrganization,
  kEmail,
  kEmailProvider,
};

struct StepName {
  std::string_view name;
  Step step;
};

// Names as listed; PhoneLast<N> is matched by prefix (see ParseStep).
constexpr std::array<StepName, 13> kSteps = {{
    {"Whitespace", Step::kWhitespace},
    {"Symbols", Step::kSymbols},
    {"Numerals", Step::kNumerals},
    {"Lowercase", Step::kLowercase},
    {"UnicodeToAscii", Step::kUnicodeToAscii},
    {"Phone", Step::kPhone},
    {"PhoneDigits", Step::kPhoneDigits},
    {"PhoneLast<N>", Step::kPhoneLast},
    {"Name", Step::kName},
    {"Address", Step::kAddress},
    {"Organization", Step::kOrganization},
    {"Email", Step::kEmail},
    {"EmailProvider", Step::kEmailProvider},
}};

constexpr int kMinPhoneLast = 4, kMaxPhoneLast = 15;

struct StepSpec {
  Step step;
  int digits = 0;  // kPhoneLast: N
};

struct ChainImpl {
  std::vector<std::string> names;
  std::vector<StepSpec> steps;
  std::optional<PhoneNormalizer> phone;  // set when steps contain kPhone
  // Normalized (under this chain) and case-folded placeholders, sorted and unique.
  std::vector<std::string> placeholders;
  // Bit n set when a placeholder has n bytes (bit 63: 63 bytes or more): a cheap first test.
  uint64_t placeholder_lengths = 0;
  // The placeholders as listed, case-folded, sorted: a value a step rejects ("N/A" as a phone)
  // is reported as a placeholder when it is one of them.
  std::vector<std::string> raw_placeholders;
};

namespace {

uint64_t LengthBit(size_t n) { return uint64_t{1} << std::min<size_t>(n, 63); }

enum class StepResult : uint8_t { kOk, kLenient, kPlaceholder };

StepResult FromPhoneForm(PhoneNormalizer::Form form) {
  switch (form) {
    case PhoneNormalizer::Form::kValid: return StepResult::kOk;
    case PhoneNormalizer::Form::kLenient: return StepResult::kLenient;
    case PhoneNormalizer::Form::kPlaceholder: return StepResult::kPlaceholder;
    case PhoneNormalizer::Form::kTooFewDigits: return StepResult::kOk;  // "" tells
  }
  return StepResult::kOk;
}

// Applies one step; an empty *out from a non-empty input means the step rejected it
// (kPlaceholder: as a dummy value).
StepResult ApplyStep(const ChainImpl& chain, const StepSpec& spec, std::string_view in, std::string* out) {
  switch (spec.step) {
    case Step::kWhitespace: RemoveWhitespace(in, out); break;
    case Step::kSymbols: RemoveSymbols(in, out); break;
    case Step::kNumerals: ConvertNumerals(in, out); break;
    case Step::kLowercase: CaseFold(in, out); break;
    case Step::kUnicodeToAscii: FoldToAscii(in, out); break;
    case Step::kPhone: return FromPhoneForm(chain.phone->Normalize(in, out));
    case Step::kPhoneDigits:
      return FromPhoneForm(PhoneNormalizer::Digits(in, PhoneNormalizer::kMinDigits, 0, out));
    case Step::kPhoneLast:
      return FromPhoneForm(PhoneNormalizer::Digits(in, spec.digits, spec.digits, out));
    case Step::kName: NormalizeName(in, out); break;
    case Step::kAddress: NormalizeAddress(in, out); break;
    case Step::kOrganization: NormalizeOrganization(in, out); break;
    case Step::kEmail: return NormalizeEmail(in, out) ? StepResult::kOk : StepResult::kPlaceholder;
    case Step::kEmailProvider:
      return NormalizeEmailProvider(in, out) ? StepResult::kOk : StepResult::kPlaceholder;
  }
  return StepResult::kOk;
}

// Buffers of the chain itself (the steps keep their own): reused by every call on a thread.
std::string& ChainScratch(int which) {
  thread_local std::array<std::string, 2> buffers;
  return buffers[static_cast<size_t>(which)];
}

bool PointsInto(std::string_view value, const std::string& s) {
  const std::less_equal<const char*> le;
  return !value.empty() && le(s.data(), value.data()) && le(value.data(), s.data() + s.size());
}

// The steps applied in order to trimmed `value`, the result trimmed; no placeholder test.
NormalizeOutcome RunSteps(const ChainImpl& chain, std::string_view value, std::string* out) {
  NormalizeOutcome outcome;
  std::string_view current = TrimBlanks(value);
  if (current.empty()) {
    out->clear();
    return outcome;
  }
  if (PointsInto(current, *out)) {
    std::string& copy = ChainScratch(0);
    copy.assign(current);
    current = copy;
  }
  if (chain.steps.empty()) {
    out->assign(current);
    return outcome;
  }
  std::string* target = out;
  std::string* other = &ChainScratch(1);
  for (size_t i = 0; i < chain.steps.size(); ++i) {
    const StepResult result = ApplyStep(chain, chain.steps[i], current, target);
    current = *target;
    std::swap(target, other);
    if (result == StepResult::kLenient) outcome.lenient = true;
    if (current.empty()) {
      outcome.blank = result == StepResult::kPlaceholder ? BlankReason::kPlaceholder : BlankReason::kInvalid;
      outcome.step = static_cast<int8_t>(i);
      break;
    }
  }
  // `other` holds the last result.
  if (other != out) out->swap(*other);
  std::string_view trimmed = TrimBlanks(*out);
  if (trimmed.size() != out->size()) {
    const size_t start = static_cast<size_t>(trimmed.data() - out->data());
    out->erase(start + trimmed.size());
    out->erase(0, start);
  }
  if (out->empty() && outcome.blank == BlankReason::kNone) {
    outcome.blank = BlankReason::kInvalid;  // only blanks were left
    outcome.step = static_cast<int8_t>(chain.steps.size() - 1);
  }
  return outcome;
}

// PhoneLast<N>: N, or 0 when `name` is not of that form.
int PhoneLastDigits(std::string_view name) {
  constexpr std::string_view kPrefix = "PhoneLast";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return 0;
  int n = 0;
  for (char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9' || n > 100) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

void FoldCase(std::string_view in, std::string* out) { CaseFold(in, out); }

bool IsPlaceholder(const ChainImpl& chain, const std::string& normalized) {
  if ((chain.placeholder_lengths & LengthBit(normalized.size())) == 0) {
    // Case folding can change the byte length only for non-ASCII text.
    bool ascii = std::all_of(normalized.begin(), normalized.end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) return false;
  }
  std::string& folded = ChainScratch(0);
  FoldCase(normalized, &folded);
  return std::binary_search(chain.placeholders.begin(), chain.placeholders.end(), folded);
}

}  // namespace
}  // namespace normalize_internal

using normalize_internal::ChainImpl;

std::vector<std::string_view> KnownNormalizers() {
  std::vector<std::string_view> names;
  for (const auto& entry : normalize_internal::kSteps) names.push_back(entry.name);
  return names;
}

std::vector<std::string> DefaultPlaceholders() {
  return {
      // words for "no value"
      "unknown", "unk", "n/a", "na", "n.a.", "none", "nil", "null", "undefined", "not available",
      "not applicable", "not provided", "no name", "noname", "tbd", "tba", "declined",
      "refused", "test", "testing", "asdf", "xxx", "xxxx", "-", "--", "?", ".", "noemail",
      "no email", "none given", "not given", "dummy",
      // dummy phone numbers (Phone also blanks any number whose last 7 digits are one digit)
      "000-000-0000", "111-111-1111", "999-999-9999", "555-555-5555", "123-456-7890",
      "1234567890", "0000000000", "1111111111", "123456789", "0123456789", "987-654-3210",
      "123-4567",
      // dummy email addresses (Email also blanks test@..., noemail@..., ...@example.com, ...)
      "test@test.com", "test@example.com", "noemail@example.com", "no@email.com",
      "none@none.com", "noemail@noemail.com", "email@email.com", "na@na.com",
      "no@no.com", "nobody@nowhere.com",
      // dummy dates (1970-01-01 is left out: people are born that day)
      "1900-01-01", "1899-12-31", "0001-01-01", "0000-00-00", "9999-12-31", "01/01/1900"};
}

StatusOr<NormalizerChain> NormalizerChain::Create(const std::vector<std::string>& names,
                                                  const NormalizeOptions& options) {
  auto impl = std::make_shared<ChainImpl>();
  impl->names = names;
  for (const std::string& name : names) {
    const int last = normalize_internal::PhoneLastDigits(name);
    if (last != 0) {
      if (last < normalize_internal::kMinPhoneLast || last > normalize_internal::kMaxPhoneLast) {
        return InvalidArgumentError("normalizer '" + name + "': PhoneLast<N> keeps the last N digits, N from " +
                                    std::to_string(normalize_internal::kMinPhoneLast) + " to " +
                                    std::to_string(normalize_internal::kMaxPhoneLast) + " (e.g. PhoneLast7)");
      }
      impl->steps.push_back({normalize_internal::Step::kPhoneLast, last});
      continue;
    }
    auto it = std::find_if(normalize_internal::kSteps.begin(), normalize_internal::kSteps.end(),
                           [&](const auto& entry) { return entry.name == name; });
    if (it == normalize_internal::kSteps.end() || it->step == normalize_internal::Step::kPhoneLast) {
      std::string known;
      for (const auto& entry : normalize_internal::kSteps) {
        if (!known.empty()) known += ", ";
        known += entry.name;
      }
      return InvalidArgumentError("unknown normalizer '" + name + "' (known: " + known + ")");
    }
    impl->steps.push_back({it->step, 0});
    if (it->step == normalize_internal::Step::kPhone && !impl->phone) {
      CDP_ASSIGN_OR_RETURN(normalize_internal::PhoneNormalizer phone,
                           normalize_internal::PhoneNormalizer::Create(options.default_region));
      impl->phone.emplace(std::move(phone));
    }
  }

  std::vector<std::string> raw;
  if (options.default_placeholders) raw = DefaultPlaceholders();
  raw.insert(raw.end(), options.extra_placeholders.begin(), options.extra_placeholders.end());
  std::string normalized;
  for (const std::string& placeholder : raw) {
    normalize_internal::RunSteps(*impl, placeholder, &normalized);
    if (normalized.empty()) continue;
    std::string folded;
    normalize_internal::FoldCase(normalized, &folded);
    impl->placeholder_lengths |= normalize_internal::LengthBit(folded.size());
    impl->placeholders.push_back(std::move(folded));
  }
  for (const std::string& placeholder : raw) {
    std::string folded;
    normalize_internal::FoldCase(normalize_internal::TrimBlanks(placeholder), &folded);
    if (!folded.empty()) impl->raw_placeholders.push_back(std::move(folded));
  }
  std::sort(impl->raw_placeholders.begin(), impl->raw_placeholders.end());
  std::sort(impl->placeholders.begin(), impl->placeholders.end());
  impl->placeholders.erase(std::unique(impl->placeholders.begin(), impl->placeholders.end()),
                           impl->placeholders.end());
  return NormalizerChain(std::move(impl));
}

std::string NormalizerChain::Normalize(std::string_view value) const {
  std::string out;
  Normalize(value, &out);
  return out;
}

NormalizeOutcome NormalizerChain::Normalize(std::string_view value, std::string* out) const {
  NormalizeOutcome outcome = normalize_internal::RunSteps(*impl_, value, out);
  if (outcome.blank == BlankReason::kInvalid && !impl_->raw_placeholders.empty()) {
    std::string folded;
    normalize_internal::FoldCase(normalize_internal::TrimBlanks(value), &folded);
    if (std::binary_search(impl_->raw_placeholders.begin(), impl_->raw_placeholders.end(), folded)) {
      outcome.blank = BlankReason::kPlaceholder;
      outcome.step = -1;
    }
  }
  if (!out->empty() && !impl_->placeholders.empty() &&
      normalize_internal::IsPlaceholder(*impl_, *out)) {
    out->clear();
    outcome.blank = BlankReason::kPlaceholder;
    outcome.step = -1;
  }
  return outcome;
}

std::string NormalizerChain::DescribeBlank(const NormalizeOutcome& outcome) const {
  using normalize_internal::Step;
  if (outcome.blank == BlankReason::kNone) return "";
  if (outcome.blank == BlankReason::kFrequent) return "frequent value";
  if (outcome.step < 0 || static_cast<size_t>(outcome.step) >= impl_->steps.size()) return "placeholder";
  const normalize_internal::StepSpec& spec = impl_->steps[static_cast<size_t>(outcome.step)];
  const bool placeholder = outcome.blank == BlankReason::kPlaceholder;
  switch (spec.step) {
    case Step::kPhone:
    case Step::kPhoneDigits:
    case Step::kPhoneLast: {
      if (placeholder) return "placeholder phone, one repeated digit";
      const int need = spec.step == Step::kPhoneLast ? spec.digits : normalize_internal::PhoneNormalizer::kMinDigits;
      return "invalid phone, fewer than " + std::to_string(need) + " digits";
    }
    case Step::kEmail:
    case Step::kEmailProvider: return placeholder ? "placeholder email" : "invalid email";
    case Step::kName: return "no name left without titles and suffixes";
    case Step::kOrganization: return "no name left without legal forms and generic words";
    default: return "nothing left after " + impl_->names[static_cast<size_t>(outcome.step)];
  }
}

std::string_view BlankReasonName(BlankReason reason) {
  switch (reason) {
    case BlankReason::kNone: return "none";
    case BlankReason::kPlaceholder: return "placeholder";
    case BlankReason::kInvalid: return "invalid";
    case BlankReason::kFrequent: return "frequent";
  }
  return "none";
}

const std::vector<std::string>& NormalizerChain::names() const { return impl_->names; }

}  // namespace cdp
