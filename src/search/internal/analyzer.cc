#include "search/internal/analyzer.h"

namespace cdp::search_internal {

namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

std::string Cut(std::string s, size_t max) {
  if (s.size() > max) s.resize(max);
  return s;
}

std::string Digits(std::string_view s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d.push_back(c);
  return d;
}

}  // namespace

std::string FilterTerm(std::string_view field, std::string_view value) {
  std::string t;
  t.reserve(kFilterPrefix.size() + field.size() + 1 + value.size());
  t.append(kFilterPrefix).append(field).push_back(':');
  t.append(value);
  return Cut(std::move(t), kMaxTermBytes);
}

StatusOr<Analyzer> Analyzer::Create() {
  NormalizeOptions plain;
  plain.default_placeholders = false;
  NormalizeOptions with_placeholders;
  CDP_ASSIGN_OR_RETURN(NormalizerChain fold, NormalizerChain::Create({"UnicodeToAscii", "Lowercase"}, plain));
  CDP_ASSIGN_OR_RETURN(NormalizerChain phone, NormalizerChain::Create({"Phone"}, with_placeholders));
  CDP_ASSIGN_OR_RETURN(NormalizerChain email, NormalizerChain::Create({"Email"}, with_placeholders));
  CDP_ASSIGN_OR_RETURN(NormalizerChain lower, NormalizerChain::Create({"Lowercase"}, plain));
  Analyzer a(std::move(fold), std::move(phone), std::move(email), std::move(lower));
  for (const std::string& p : DefaultPlaceholders()) {
    if (p.find('@') != std::string::npos) continue;
    std::string d = Digits(p);
    if (d.size() >= 7 && d.size() + 6 >= p.size()) {  // a phone-like placeholder, not a date
      a.placeholder_phone_digits_.insert(d);
      if (d.size() == 10) a.placeholder_phone_digits_.insert("1" + d);
    }
  }
  return a;
}

std::string Analyzer::Fold(std::string_view text) const { return fold_.Normalize(text); }

void Analyzer::SplitWords(std::string_view folded, std::vector<std::string>* words) {
  std::string cur;
  for (size_t i = 0; i < folded.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(folded[i]);
    if (IsWordByte(c)) {
      cur.push_back(static_cast<char>(c));
    } else if (c == '\'' && !cur.empty() && i + 1 < folded.size() &&
               IsWordByte(static_cast<unsigned char>(folded[i + 1]))) {
      continue;  // O'Brien -> obrien
    } else if (!cur.empty()) {
      words->push_back(Cut(std::move(cur), kMaxTermBytes));
      cur.clear();
    }
  }
  if (!cur.empty()) words->push_back(Cut(std::move(cur), kMaxTermBytes));
}

void Analyzer::Words(std::string_view text, std::vector<std::string>* words) const {
  SplitWords(Fold(text), words);
}

std::string Analyzer::PhoneKey(std::string_view raw) const {
  std::string digits = Digits(raw);
  if (digits.size() < 7 || digits.size() > 20) return "";
  std::string e164 = phone_.Normalize(raw);
  std::string key;
  if (!e164.empty() && e164[0] == '+') {  // valid; an invalid number comes back as bare digits
    key = e164.substr(1);
  } else {
    size_t first = raw.find_first_not_of(" \t");
    bool plus = first != std::string_view::npos && raw[first] == '+';
    if (!plus && digits.size() == 10) {
      key = "1" + digits;
    } else {
      key = digits;
    }
  }
  if (placeholder_phone_digits_.count(key) || placeholder_phone_digits_.count(digits)) return "";
  return key;
}

std::string Analyzer::Email(std::string_view raw) const { return Cut(email_.Normalize(raw), kMaxTermBytes); }

std::string Analyzer::SourceKey(std::string_view raw) const { return Cut(lower_.Normalize(raw), kMaxTermBytes); }

bool Analyzer::IsPhoneToken(std::string_view token) {
  bool digit = false;
  for (char c : token) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '+' && c != '-' && c != '.' && c != '(' && c != ')') {
      return false;
    }
  }
  return digit;
}

size_t Analyzer::CountDigits(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (c >= '0' && c <= '9');
  return n;
}

}  // namespace cdp::search_internal
