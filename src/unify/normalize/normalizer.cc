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

constexpr std::array<StepName, 11> kSteps = {{
    {"Whitespace", Step::kWhitespace},
    {"Symbols", Step::kSymbols},
    {"Numerals", Step::kNumerals},
    {"Lowercase", Step::kLowercase},
    {"UnicodeToAscii", Step::kUnicodeToAscii},
    {"Phone", Step::kPhone},
    {"Name", Step::kName},
    {"Address", Step::kAddress},
    {"Organization", Step::kOrganization},
    {"Email", Step::kEmail},
    {"EmailProvider", Step::kEmailProvider},
}};

struct ChainImpl {
  std::vector<std::string> names;
  std::vector<Step> steps;
  std::optional<PhoneNormalizer> phone;  // set when steps contain kPhone
  // Normalized (under this chain) and case-folded placeholders, sorted and unique.
  std::vector<std::string> placeholders;
  // Bit n set when a placeholder has n bytes (bit 63: 63 bytes or more): a cheap first test.
  uint64_t placeholder_lengths = 0;
};

namespace {

uint64_t LengthBit(size_t n) { return uint64_t{1} << std::min<size_t>(n, 63); }

void ApplyStep(const ChainImpl& chain, Step step, std::string_view in, std::string* out) {
  switch (step) {
    case Step::kWhitespace: RemoveWhitespace(in, out); return;
    case Step::kSymbols: RemoveSymbols(in, out); return;
    case Step::kNumerals: ConvertNumerals(in, out); return;
    case Step::kLowercase: CaseFold(in, out); return;
    case Step::kUnicodeToAscii: FoldToAscii(in, out); return;
    case Step::kPhone: chain.phone->Normalize(in, out); return;
    case Step::kName: NormalizeName(in, out); return;
    case Step::kAddress: NormalizeAddress(in, out); return;
    case Step::kOrganization: NormalizeOrganization(in, out); return;
    case Step::kEmail: NormalizeEmail(in, out); return;
    case Step::kEmailProvider: NormalizeEmailProvider(in, out); return;
  }
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
void RunSteps(const ChainImpl& chain, std::string_view value, std::string* out) {
  std::string_view current = TrimBlanks(value);
  if (current.empty()) {
    out->clear();
    return;
  }
  if (PointsInto(current, *out)) {
    std::string& copy = ChainScratch(0);
    copy.assign(current);
    current = copy;
  }
  if (chain.steps.empty()) {
    out->assign(current);
    return;
  }
  std::string* target = out;
  std::string* other = &ChainScratch(1);
  for (Step step : chain.steps) {
    ApplyStep(chain, step, current, target);
    current = *target;
    std::swap(target, other);
    if (current.empty()) break;
  }
  // `other` holds the last result.
  if (other != out) out->swap(*other);
  std::string_view trimmed = TrimBlanks(*out);
  if (trimmed.size() != out->size()) {
    const size_t start = static_cast<size_t>(trimmed.data() - out->data());
    out->erase(start + trimmed.size());
    out->erase(0, start);
  }
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
      "refused", "test", "testing", "asdf", "xxx", "xxxx", "-", "--", "?", ".",
      // dummy phone numbers
      "000-000-0000", "111-111-1111", "999-999-9999", "555-555-5555", "123-456-7890",
      "1234567890", "0000000000",
      // dummy email addresses
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
    auto it = std::find_if(normalize_internal::kSteps.begin(), normalize_internal::kSteps.end(),
                           [&](const auto& entry) { return entry.name == name; });
    if (it == normalize_internal::kSteps.end()) {
      std::string known;
      for (const auto& entry : normalize_internal::kSteps) {
        if (!known.empty()) known += ", ";
        known += entry.name;
      }
      return InvalidArgumentError("unknown normalizer '" + name + "' (known: " + known + ")");
    }
    impl->steps.push_back(it->step);
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

void NormalizerChain::Normalize(std::string_view value, std::string* out) const {
  normalize_internal::RunSteps(*impl_, value, out);
  if (!out->empty() && !impl_->placeholders.empty() &&
      normalize_internal::IsPlaceholder(*impl_, *out)) {
    out->clear();
  }
}

const std::vector<std::string>& NormalizerChain::names() const { return impl_->names; }

}  // namespace cdp
