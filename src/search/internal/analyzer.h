// How values and queries become index terms: the one place that decides
// tokenization and normalization, shared by the indexer and the query side so
// a query is normalized exactly like the data. Immutable after Create;
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "unify/normalize/normalizer.h"

namespace cdp::search_internal {

// Term prefixes (Xapian convention: capital letters; unprefixed terms are
// words of text fields and start with a lower-case letter, a digit or a
// non-ASCII byte).
inline constexpr std::string_view kPhonePrefix = "P";      // P + phone key
inline constexpr std::string_view kEmailPrefix = "E";      // E + whole normalized email
inline constexpr std::string_view kLocalPrefix = "L";      // L + email local part, L + its words
inline constexpr std::string_view kSourceKeyPrefix = "K";  // K + folded source key
inline constexpr std::string_view kFilterPrefix = "X";     // X + field + ':' + value
// Xapian (glass) refuses terms longer than 245 bytes; longer ones are cut.
inline constexpr size_t kMaxTermBytes = 240;

std::string FilterTerm(std::string_view field, std::string_view value);

class Analyzer {
 public:
  static StatusOr<Analyzer> Create();

  // Case and accents folded (UnicodeToAscii, Lowercase).
  std::string Fold(std::string_view text) const;
  // Words of folded `text`: runs of [a-z0-9] and non-ASCII bytes; an
  // apostrophe inside a word is dropped (O'Brien -> obrien).
  static void SplitWords(std::string_view folded, std::vector<std::string>* words);
  // Fold + SplitWords.
  void Words(std::string_view text, std::vector<std::string>* words) const;

  // The key of a phone number: E.164 digits without '+' when libphonenumber
  // accepts it; otherwise its digits, read as a US national number when it has
  // 10 digits (or 11 starting with 1) and no '+'. "" for fewer than 7 digits
  // or a placeholder (000-000-0000, ...). "(555) 123-4567", "555.123.4567" and
  // "+1 555 123 4567" all give "15551234567".
  std::string PhoneKey(std::string_view raw) const;
  // Trimmed, case-folded email with exactly one '@' and both parts non-empty;
  // "" otherwise or for a placeholder.
  std::string Email(std::string_view raw) const;
  // Folded source key (outer blanks trimmed, case folded).
  std::string SourceKey(std::string_view raw) const;

  // Whether `token` (one blank-separated piece of a query) can be part of a
  // phone number: only digits, '+', '-', '.', '(', ')' and at least one digit.
  static bool IsPhoneToken(std::string_view token);
  static size_t CountDigits(std::string_view s);

 private:
  Analyzer(NormalizerChain fold, NormalizerChain phone, NormalizerChain email, NormalizerChain lower)
      : fold_(std::move(fold)), phone_(std::move(phone)), email_(std::move(email)), lower_(std::move(lower)) {}

  NormalizerChain fold_;
  NormalizerChain phone_;
  NormalizerChain email_;
  NormalizerChain lower_;
  std::unordered_set<std::string> placeholder_phone_digits_;
};

}  // namespace cdp::search_internal
