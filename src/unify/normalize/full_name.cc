#include "unify/normalize/full_name.h"

#include <array>
#include <vector>

#include "unify/normalize/internal/steps.h"

namespace cdp {
namespace {

constexpr size_t kMaxLength = 1000;

// Lowercase ASCII with periods and commas removed: the form titles and suffixes are listed in.
std::string Key(std::string_view word) {
  std::string key;
  key.reserve(word.size());
  for (char c : word) {
    if (c == '.' || c == ',') continue;
    key.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return key;
}

bool IsParticle(std::string_view word) {
  static constexpr std::array<std::string_view, 22> kParticles = {
      "van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos",
      "du",  "la",  "le",  "st",  "ter", "ten", "bin", "ibn", "al", "el", "dem"};
  if (!word.empty() && (word.back() == '\'' || word.back() == '`')) return true;  // "O' Brien"
  const std::string key = Key(word);
  for (std::string_view p : kParticles) {
    if (key == p) return true;
  }
  return false;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Words of `s` (split at blanks), each without trailing commas.
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !IsBlank(s[j])) ++j;
    std::string_view w = s.substr(i, j - i);
    while (!w.empty() && w.back() == ',') w.remove_suffix(1);
    if (!w.empty()) words.push_back(w);
    i = j;
  }
  return words;
}

std::string Join(const std::vector<std::string_view>& words, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (!out.empty()) out.push_back(' ');
    out.append(words[i]);
  }
  return out;
}

void DropTitles(std::vector<std::string_view>* words) {
  size_t n = 0;
  while (n + 1 < words->size() && normalize_internal::IsNameTitle(Key((*words)[n]))) ++n;
  words->erase(words->begin(), words->begin() + static_cast<std::ptrdiff_t>(n));
}

void DropSuffixes(std::vector<std::string_view>* words) {
  while (words->size() > 1 && normalize_internal::IsNameSuffix(Key(words->back()))) words->pop_back();
}

bool AllSuffixes(const std::vector<std::string_view>& words) {
  for (std::string_view w : words) {
    if (!normalize_internal::IsNameSuffix(Key(w))) return false;
  }
  return true;
}

// "First Middle... Last" with titles and suffixes already dropped.
ParsedName NaturalOrder(const std::vector<std::string_view>& words) {
  ParsedName name;
  if (words.empty()) return name;
  name.first = std::string(words[0]);
  if (words.size() == 1) return name;
  size_t last = words.size() - 1;
  while (last > 1 && IsParticle(words[last - 1])) --last;
  name.last = Join(words, last, words.size());
  name.middle = Join(words, 1, last);
  return name;
}

}  // namespace

ParsedName ParseFullName(std::string_view full_name) {
  if (full_name.size() > kMaxLength) full_name = full_name.substr(0, kMaxLength);
  const size_t comma = full_name.find(',');
  if (comma != std::string_view::npos) {
    std::vector<std::string_view> before = Words(full_name.substr(0, comma));
    std::vector<std::string_view> after = Words(full_name.substr(comma + 1));
    if (!before.empty() && !after.empty() && !AllSuffixes(after)) {
      // "Last, First Middle": suffixes may follow either part ("Smith Jr., John", "Smith, John, Jr.").
      DropTitles(&before);
      DropSuffixes(&before);
      DropTitles(&after);
      DropSuffixes(&after);
      ParsedName name;
      name.last = Join(before, 0, before.size());
      name.first = std::string(after[0]);
      name.middle = Join(after, 1, after.size());
      return name;
    }
    if (before.empty()) {  // ", John": no last name written
      DropTitles(&after);
      DropSuffixes(&after);
      return NaturalOrder(after);
    }
    if (after.empty()) {  // "Smith,": a last name alone
      DropTitles(&before);
      DropSuffixes(&before);
      ParsedName name;
      name.last = Join(before, 0, before.size());
      return name;
    }
    // "John Smith, Jr.": the part after the comma is dropped as suffixes.
    full_name = full_name.substr(0, comma);
  }
  std::vector<std::string_view> words = Words(full_name);
  DropTitles(&words);
  DropSuffixes(&words);
  return NaturalOrder(words);
}

}  // namespace cdp
