#include "unify/normalize/internal/steps.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "unify/normalize/internal/nicknames.h"

namespace cdp::normalize_internal {
namespace {

// ---------------------------------------------------------------------------------------
// UTF-8 and character classes.

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Decodes the code point at s[*i] and advances *i; -1 (after advancing one byte) for an
// invalid sequence.
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data() + *i);
  utf8proc_int32_t cp = -1;
  utf8proc_ssize_t n = utf8proc_iterate(p, static_cast<utf8proc_ssize_t>(s.size() - *i), &cp);
  if (n <= 0) {
    *i += 1;
    return -1;
  }
  *i += static_cast<size_t>(n);
  return cp;
}

void AppendCodePoint(int32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
    return;
  }
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

bool IsAsciiSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Unicode White_Space plus the invisible ZERO WIDTH SPACE and BOM, which data pasted from the
// web carries.
bool IsSpace(int32_t cp) {
  if (cp < 0x80) return IsAsciiSpace(static_cast<unsigned char>(cp));
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000: case 0x200B: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

utf8proc_category_t Category(int32_t cp) { return utf8proc_category(cp); }

bool IsPunctuationOrSymbol(utf8proc_category_t c) {
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_SO;
}

bool IsMark(utf8proc_category_t c) {
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

// Letters, marks and numbers: the characters that make up words.
bool IsWordCategory(utf8proc_category_t c) {
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

std::string& Scratch(int which) {
  thread_local std::array<std::string, 3> buffers;
  return buffers[static_cast<size_t>(which)];
}

// ---------------------------------------------------------------------------------------
// Numerals.

// Unicode encodes the decimal digits (Nd) of every script as runs of ten code points from 0
// to 9, some runs adjacent (mathematical digits), so a digit's value is its distance from
// the start of its run modulo 10.
int DecimalDigitValue(int32_t cp) {
  int32_t start = cp;
  while (start > 0 && Category(start - 1) == UTF8PROC_CATEGORY_ND) --start;
  return static_cast<int>((cp - start) % 10);
}

// The value of a Unicode Roman numeral code point (U+2160..U+2188), 0 for others.
int RomanNumeralValue(int32_t cp) {
  if (cp >= 0x2160 && cp <= 0x216B) return cp - 0x2160 + 1;
  if (cp >= 0x2170 && cp <= 0x217B) return cp - 0x2170 + 1;
  switch (cp) {
    case 0x216C: case 0x217C: case 0x2186: return 50;
    case 0x216D: case 0x217D: return 100;
    case 0x216E: case 0x217E: return 500;
    case 0x216F: case 0x217F: case 0x2180: return 1000;
    case 0x2181: return 5000;
    case 0x2182: return 10000;
    case 0x2185: return 6;
    case 0x2187: return 50000;
    case 0x2188: return 100000;
    default: return 0;
  }
}

// Other numeric characters (superscripts, circled and fullwidth-compatible numbers): their
// compatibility decomposition when that is made of decimal digits only ("①" -> "1",
// "⑳" -> "20", "²" -> "2"); false when it is not ("½" stays).
bool AppendCompatibilityDigits(int32_t cp, std::string* out) {
  utf8proc_int32_t buf[16];
  int bound = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 16, static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT), &bound);
  if (n <= 0 || n > 16) return false;
  for (utf8proc_ssize_t k = 0; k < n; ++k) {
    if (Category(buf[k]) != UTF8PROC_CATEGORY_ND) return false;
  }
  for (utf8proc_ssize_t k = 0; k < n; ++k) out->push_back(static_cast<char>('0' + DecimalDigitValue(buf[k])));
  return true;
}

// ---------------------------------------------------------------------------------------
// Folding to ASCII.

// Latin, Greek and the compatibility blocks (punctuation, super/subscripts, letterlike,
// number forms, enclosed alphanumerics, ligatures, fullwidth ASCII): the code points whose
// accents are stripped and compatibility forms expanded. Other scripts are left untouched
// (stripping marks there changes letters, e.g. Japanese が -> か; Hangul would decompose).
bool IsFoldable(int32_t cp) {
  return (cp >= 0x80 && cp <= 0x3FF) || (cp >= 0x1E00 && cp <= 0x209F) ||
         (cp >= 0x2100 && cp <= 0x218F) || (cp >= 0x2460 && cp <= 0x24FF) ||
         (cp >= 0xFB00 && cp <= 0xFB06) || (cp >= 0xFF01 && cp <= 0xFF5E);
}

// Latin letters without a decomposition, spelled the way they are usually transliterated,
// and quotes.
const char* SpecialLatin(int32_t cp) {
  switch (cp) {
    case 0xDF: return "ss";   case 0x1E9E: return "SS";
    case 0xE6: return "ae";   case 0xC6: return "AE";
    case 0xF8: return "o";    case 0xD8: return "O";
    case 0x142: return "l";   case 0x141: return "L";
    case 0x111: return "d";   case 0x110: return "D";
    case 0xF0: return "d";    case 0xD0: return "D";
    case 0xFE: return "th";   case 0xDE: return "Th";
    case 0x153: return "oe";  case 0x152: return "OE";
    case 0x131: return "i";
    case 0x127: return "h";   case 0x126: return "H";
    case 0x167: return "t";   case 0x166: return "T";
    case 0x14B: return "n";   case 0x14A: return "N";
    case 0x138: return "k";
    case 0x192: return "f";
    case 0x180: return "b";
    case 0x1B6: return "z";   case 0x1B5: return "Z";
    // typographic quotes that LUMP leaves alone
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0xAB: case 0xBB: return "\"";
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: return "'";
    default: return nullptr;
  }
}

void AppendFolded(int32_t cp, std::string* out) {
  utf8proc_int32_t buf[32];
  int bound = 0;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
                                                      UTF8PROC_STRIPMARK | UTF8PROC_LUMP);
  utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 32, options, &bound);
  if (n < 0 || n > 32) {
    AppendCodePoint(cp, out);
    return;
  }
  for (utf8proc_ssize_t k = 0; k < n; ++k) {
    if (const char* s = SpecialLatin(buf[k])) {
      out->append(s);
    } else {
      AppendCodePoint(buf[k], out);
    }
  }
}

// Case fold then fold to ASCII: the common first step of Name, Address and Organization.
void FoldForMatching(std::string_view in, std::string* out) {
  if (IsAscii(in)) {
    out->resize(in.size());
    for (size_t i = 0; i < in.size(); ++i) (*out)[i] = AsciiLower(in[i]);
    return;
  }
  std::string& folded = Scratch(2);
  CaseFold(in, &folded);
  FoldToAscii(folded, out);
}

// ---------------------------------------------------------------------------------------
// Tokenizing for Name, Address and Organization.

struct TokenRules {
  bool period_joins;    // "N.E." -> "ne" (Address, Organization) vs "J.R." -> "j r" (Name)
  char solo_symbol;     // a symbol kept as its own token ('#' for Address, '&' for Organization)
};

// Writes the words of folded `in` to *out, separated by single spaces: letters, digits and
// marks form words; apostrophes (and periods when rules.period_joins) are dropped inside a
// word; every other character separates words.
void Tokenize(std::string_view in, const TokenRules& rules, std::string* out) {
  out->clear();
  auto separate = [out] {
    if (!out->empty() && out->back() != ' ') out->push_back(' ');
  };
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      ++i;
      if (IsAsciiAlnum(c)) {
        out->push_back(AsciiLower(c));
      } else if (c == '\'' || c == '`' || (c == '.' && rules.period_joins)) {
        // joins: "o'brien" -> "obrien"
      } else if (c == rules.solo_symbol && c != 0) {
        separate();
        out->push_back(c);
        out->push_back(' ');
      } else {
        separate();
      }
      continue;
    }
    const size_t start = i;
    const int32_t cp = NextCodePoint(in, &i);
    if (cp < 0) continue;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) continue;  // typographic apostrophes
    if (IsWordCategory(Category(cp))) {
      out->append(in.substr(start, i - start));
    } else {
      separate();
    }
  }
  if (!out->empty() && out->back() == ' ') out->pop_back();
}

// Calls f(token) for each space-separated token of s.
template <typename F>
void ForEachToken(std::string_view s, F&& f) {
  size_t i = 0;
  while (i < s.size()) {
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    if (end > i) f(s.substr(i, end - i));
    i = end + 1;
  }
}

void AppendToken(std::string_view token, std::string* out) {
  if (!out->empty()) out->push_back(' ');
  out->append(token);
}

using WordSet = std::unordered_set<std::string_view>;
using WordMap = std::unordered_map<std::string_view, std::string_view>;

const WordSet& Titles() {
  static const WordSet set = {
      "mr", "mrs", "ms", "miss", "mx", "mstr", "master", "messrs", "dr", "doctor", "prof",
      "professor", "sir", "dame", "rev", "revd", "reverend", "fr", "hon", "madam", "mme",
      "mlle", "herr", "frau", "sra", "srta", "capt", "sgt"};
  return set;
}

const WordSet& Suffixes() {
  static const WordSet set = {"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv",
                              "phd", "md", "dds", "dmd", "esq", "esquire", "cpa", "rn", "mba",
                              "jd", "dvm", "obe", "mbe", "cbe", "kc", "qc", "ret"};
  return set;
}

// Address words -> USPS abbreviations (Publication 28, appendices B and C); every unit
// designator for a dwelling or suite becomes "unit" so "Apt 4B", "Suite 4B" and "#4B" agree.
const WordMap& AddressWords() {
  static const WordMap map = {
      // directionals
      {"north", "n"}, {"south", "s"}, {"east", "e"}, {"west", "w"}, {"northeast", "ne"},
      {"northwest", "nw"}, {"southeast", "se"}, {"southwest", "sw"},
      // street suffixes
      {"alley", "aly"}, {"allee", "aly"}, {"avenue", "ave"}, {"av", "ave"}, {"aven", "ave"},
      {"avenu", "ave"}, {"avn", "ave"}, {"avnue", "ave"}, {"boulevard", "blvd"},
      {"boul", "blvd"}, {"boulv", "blvd"}, {"bridge", "brg"}, {"branch", "br"},
      {"bypass", "byp"}, {"canyon", "cyn"}, {"causeway", "cswy"}, {"center", "ctr"},
      {"centre", "ctr"}, {"circle", "cir"}, {"circ", "cir"}, {"circl", "cir"}, {"crcl", "cir"},
      {"court", "ct"}, {"courts", "cts"}, {"cove", "cv"}, {"creek", "crk"},
      {"crescent", "cres"}, {"crossing", "xing"}, {"drive", "dr"}, {"driv", "dr"},
      {"drv", "dr"}, {"estate", "est"}, {"estates", "ests"}, {"expressway", "expy"},
      {"extension", "ext"}, {"field", "fld"}, {"fields", "flds"}, {"freeway", "fwy"},
      {"garden", "gdn"}, {"gardens", "gdns"}, {"grove", "grv"}, {"harbor", "hbr"},
      {"heights", "hts"}, {"highway", "hwy"}, {"highwy", "hwy"}, {"hiway", "hwy"},
      {"hiwy", "hwy"}, {"hway", "hwy"}, {"hill", "hl"}, {"hills", "hls"}, {"island", "is"},
      {"junction", "jct"}, {"lake", "lk"}, {"lakes", "lks"}, {"lane", "ln"},
      {"meadow", "mdw"}, {"meadows", "mdws"}, {"mount", "mt"}, {"mountain", "mtn"},
      {"parkway", "pkwy"}, {"parkwy", "pkwy"}, {"pkway", "pkwy"}, {"pky", "pkwy"},
      {"place", "pl"}, {"plaza", "plz"}, {"point", "pt"}, {"ridge", "rdg"}, {"road", "rd"},
      {"route", "rte"}, {"square", "sq"}, {"station", "sta"}, {"street", "st"},
      {"strt", "st"}, {"str", "st"}, {"terrace", "ter"}, {"trail", "trl"},
      {"turnpike", "tpke"}, {"valley", "vly"}, {"view", "vw"}, {"village", "vlg"},
      {"wy", "way"},
      // secondary unit designators
      {"apartment", "unit"}, {"apt", "unit"}, {"suite", "unit"}, {"ste", "unit"},
      {"#", "unit"}, {"building", "bldg"}, {"floor", "fl"}, {"room", "rm"},
      {"department", "dept"}, {"basement", "bsmt"}, {"office", "ofc"}, {"penthouse", "ph"},
      {"space", "spc"}, {"trailer", "trlr"},
      // ordinal words
      {"first", "1st"}, {"second", "2nd"}, {"third", "3rd"}, {"fourth", "4th"},
      {"fifth", "5th"}, {"sixth", "6th"}, {"seventh", "7th"}, {"eighth", "8th"},
      {"ninth", "9th"}, {"tenth", "10th"}, {"eleventh", "11th"}, {"twelfth", "12th"},
      {"thirteenth", "13th"}, {"fourteenth", "14th"}, {"fifteenth", "15th"},
      {"sixteenth", "16th"}, {"seventeenth", "17th"}, {"eighteenth", "18th"},
      {"nineteenth", "19th"}, {"twentieth", "20th"}};
  return map;
}

const WordSet& OrganizationNoise() {
  static const WordSet set = {
      // legal forms
      "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp",
      "plc", "co", "company", "gmbh", "ag", "sa", "sarl", "srl", "spa", "bv", "nv", "pty",
      "pvt", "pte", "kk", "oy", "ab", "as", "kg", "sas",
      // connectives
      "the", "and", "&", "of",
      // generic words: the kind of business, which sources add or leave out at will
      "hotel", "hotels", "restaurant", "restaurants", "cafe", "bistro", "grill", "bar",
      "group", "holding", "holdings", "international"};
  return set;
}

// Local parts and domains of dummy email addresses.
const WordSet& PlaceholderEmailLocalParts() {
  static const WordSet set = {
      "test", "testing", "noemail", "no-email", "no_email", "nomail", "no-mail", "none",
      "noreply", "no-reply", "donotreply", "do-not-reply", "na", "n/a", "null", "nobody",
      "unknown", "asdf", "xxx", "xxxx", "dummy", "fake", "noone", "no"};
  return set;
}
// example.com/.org/.net are left out: test data (and demos) use them for real-looking people.
const WordSet& PlaceholderEmailDomains() {
  static const WordSet set = {"none.com", "noemail.com", "nomail.com", "nowhere.com", "none", "na"};
  return set;
}

bool IsPlaceholderDomain(std::string_view domain) {
  // Every listed domain has at most 11 bytes ("noemail.com") and starts with 'n'.
  if (domain.size() <= 11 && !domain.empty() && domain[0] == 'n' && PlaceholderEmailDomains().count(domain) != 0) {
    return true;
  }
  // RFC 6761 top-level domains that can never deliver mail
  for (std::string_view tld : {".invalid", ".test", ".localhost"}) {
    if (domain.size() > tld.size() && domain.substr(domain.size() - tld.size()) == tld) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Email providers.

// "brand.com", "brand.de", "brand.co.uk", "brand.com.au" ...: the brand's own domains.
bool IsBrandDomain(std::string_view domain, std::string_view brand) {
  if (domain.size() <= brand.size() + 1 || domain.substr(0, brand.size()) != brand ||
      domain[brand.size()] != '.') {
    return false;
  }
  std::string_view tld = domain.substr(brand.size() + 1);
  if (tld == "com" || tld == "net") return true;
  if (tld.size() == 2) return true;
  if (tld.size() == 5 && (tld.substr(0, 3) == "co." || tld.substr(0, 3) == "ne.")) return true;
  if (tld.size() == 6 && tld.substr(0, 4) == "com.") return true;
  return false;
}

enum class TagStyle { kNone, kPlus, kHyphen };

TagStyle ProviderTagStyle(std::string_view domain) {
  static const WordSet plus_domains = {"msn.com", "icloud.com", "me.com", "mac.com",
                                       "protonmail.com", "protonmail.ch", "proton.me", "pm.me",
                                       "fastmail.com", "fastmail.fm", "ya.ru"};
  if (plus_domains.count(domain) != 0 || IsBrandDomain(domain, "outlook") ||
      IsBrandDomain(domain, "hotmail") || IsBrandDomain(domain, "live") ||
      IsBrandDomain(domain, "yandex")) {
    return TagStyle::kPlus;
  }
  if (domain == "ymail.com" || domain == "rocketmail.com" || IsBrandDomain(domain, "yahoo")) {
    return TagStyle::kHyphen;
  }
  return TagStyle::kNone;
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s.front());
    if (c < 0x80) {
      if (!IsAsciiSpace(c)) break;
      s.remove_prefix(1);
      continue;
    }
    size_t i = 0;
    const int32_t cp = NextCodePoint(s, &i);
    if (cp < 0 || !IsSpace(cp)) break;
    s.remove_prefix(i);
  }
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s.back());
    if (c < 0x80) {
      if (!IsAsciiSpace(c)) break;
      s.remove_suffix(1);
      continue;
    }
    size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t i = start;
    const int32_t cp = NextCodePoint(s, &i);
    if (cp < 0 || i != s.size() || !IsSpace(cp)) break;
    s.remove_suffix(s.size() - start);
  }
  return s;
}

void RemoveWhitespace(std::string_view in, std::string* out) {
  out->clear();
  if (IsAscii(in)) {
    for (char c : in) {
      if (!IsAsciiSpace(static_cast<unsigned char>(c))) out->push_back(c);
    }
    return;
  }
  size_t i = 0;
  while (i < in.size()) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(in, &i);
    if (cp >= 0 && !IsSpace(cp)) out->append(in.substr(start, i - start));
  }
}

void RemoveSymbols(std::string_view in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      if (!IsAsciiPunct(c)) out->push_back(c);
      ++i;
      continue;
    }
    const size_t start = i;
    const int32_t cp = NextCodePoint(in, &i);
    if (cp >= 0 && !IsPunctuationOrSymbol(Category(cp))) out->append(in.substr(start, i - start));
  }
}

void ConvertNumerals(std::string_view in, std::string* out) {
  out->clear();
  if (IsAscii(in)) {
    out->append(in);
    return;
  }
  size_t i = 0;
  while (i < in.size()) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(in, &i);
    if (cp < 0) continue;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
      continue;
    }
    const utf8proc_category_t category = Category(cp);
    if (category == UTF8PROC_CATEGORY_ND) {
      out->push_back(static_cast<char>('0' + DecimalDigitValue(cp)));
    } else if (int roman = RomanNumeralValue(cp); roman != 0) {
      out->append(std::to_string(roman));
    } else if ((category == UTF8PROC_CATEGORY_NO || category == UTF8PROC_CATEGORY_NL) &&
               AppendCompatibilityDigits(cp, out)) {
    } else {
      out->append(in.substr(start, i - start));
    }
  }
}

void CaseFold(std::string_view in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      out->push_back(AsciiLower(c));
      ++i;
      continue;
    }
    const int32_t cp = NextCodePoint(in, &i);
    if (cp < 0) continue;
    utf8proc_int32_t buf[8];
    int bound = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 8, UTF8PROC_CASEFOLD, &bound);
    if (n < 0 || n > 8) {
      AppendCodePoint(cp, out);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) AppendCodePoint(buf[k], out);
  }
}

void FoldToAscii(std::string_view in, std::string* out) {
  out->clear();
  if (IsAscii(in)) {
    out->append(in);
    return;
  }
  bool after_foldable = true;  // combining marks after Latin/Greek/ASCII letters are dropped
  size_t i = 0;
  while (i < in.size()) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(in, &i);
    if (cp < 0) continue;
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
      after_foldable = true;
    } else if (IsMark(Category(cp))) {
      if (!after_foldable) out->append(in.substr(start, i - start));
    } else if (IsFoldable(cp)) {
      AppendFolded(cp, out);
      after_foldable = true;
    } else {
      out->append(in.substr(start, i - start));
      after_foldable = false;
    }
  }
}

void NormalizeName(std::string_view in, std::string* out) {
  std::string& folded = Scratch(0);
  std::string& words = Scratch(1);
  FoldForMatching(in, &folded);
  Tokenize(folded, TokenRules{.period_joins = false, .solo_symbol = 0}, &words);
  out->clear();
  const WordSet& titles = Titles();
  const WordSet& suffixes = Suffixes();
  ForEachToken(words, [&](std::string_view token) {
    if (titles.count(token) != 0) return;
    if (!out->empty() && suffixes.count(token) != 0) return;  // "Md Rahman" keeps its "md"
    AppendToken(CanonicalGivenName(token), out);
  });
}

void NormalizeAddress(std::string_view in, std::string* out) {
  std::string& folded = Scratch(0);
  std::string& words = Scratch(1);
  FoldForMatching(in, &folded);
  Tokenize(folded, TokenRules{.period_joins = true, .solo_symbol = '#'}, &words);
  out->clear();
  const WordMap& map = AddressWords();
  bool last_was_unit = false;
  ForEachToken(words, [&](std::string_view token) {
    auto it = map.find(token);
    std::string_view word = it == map.end() ? token : it->second;
    const bool unit = word == "unit";
    if (unit && last_was_unit) return;  // "Apt #4B", "Suite # 4B"
    last_was_unit = unit;
    AppendToken(word, out);
  });
}

void NormalizeOrganization(std::string_view in, std::string* out) {
  std::string& folded = Scratch(0);
  std::string& words = Scratch(1);
  FoldForMatching(in, &folded);
  Tokenize(folded, TokenRules{.period_joins = true, .solo_symbol = '&'}, &words);
  out->clear();
  const WordSet& noise = OrganizationNoise();
  thread_local std::vector<std::string_view> kept;
  kept.clear();
  ForEachToken(words, [&](std::string_view token) {
    if (noise.count(token) == 0) kept.push_back(token);
  });
  // Sorted: "hotel bel-air" and "bel-air hotel" agree whatever the word order.
  std::sort(kept.begin(), kept.end());
  for (std::string_view token : kept) AppendToken(token, out);
}

bool NormalizeEmail(std::string_view in, std::string* out) {
  in = TrimBlanks(in);
  if (IsAscii(in)) {
    out->resize(in.size());
    for (size_t i = 0; i < in.size(); ++i) (*out)[i] = AsciiLower(in[i]);
  } else {
    CaseFold(in, out);
  }
  size_t at = std::string::npos;
  for (size_t i = 0; i < out->size(); ++i) {
    const unsigned char c = static_cast<unsigned char>((*out)[i]);
    if (c <= ' ' || c == 0x7F) {  // blanks or controls inside: not an address
      out->clear();
      return true;
    }
    if (c == '@') {
      if (at != std::string::npos) {
        out->clear();
        return true;
      }
      at = i;
    }
  }
  if (at == std::string::npos || at == 0 || at + 1 == out->size()) {
    out->clear();
    return true;
  }
  const std::string_view email(*out);
  // Cheap tests first: every listed local part has at most 12 bytes ("do-not-reply") and
  // starts with one of a, d, f, n, t, u, x.
  const char first = email[0];
  const bool maybe_local = at <= 12 && (first == 'n' || first == 't' || first == 'd' || first == 'u' ||
                                        first == 'a' || first == 'x' || first == 'f');
  if ((maybe_local && PlaceholderEmailLocalParts().count(email.substr(0, at)) != 0) ||
      IsPlaceholderDomain(email.substr(at + 1))) {
    out->clear();
    return false;
  }
  return true;
}

bool NormalizeEmailProvider(std::string_view in, std::string* out) {
  if (!NormalizeEmail(in, out)) return false;
  if (out->empty()) return true;
  const size_t at = out->find('@');
  std::string_view domain = std::string_view(*out).substr(at + 1);
  const bool gmail = domain == "gmail.com" || domain == "googlemail.com";
  const TagStyle style = gmail ? TagStyle::kPlus : ProviderTagStyle(domain);
  if (style == TagStyle::kNone) return true;
  std::string& email = Scratch(0);
  email.clear();
  const char tag = style == TagStyle::kPlus ? '+' : '-';
  for (size_t i = 0; i < at; ++i) {
    const char c = (*out)[i];
    if (c == tag) break;
    if (gmail && c == '.') continue;
    email.push_back(c);
  }
  if (email.empty()) {
    out->clear();
    return true;
  }
  email.push_back('@');
  email.append(gmail ? std::string_view("gmail.com") : domain);
  out->swap(email);
  return true;
}

bool IsNameTitle(std::string_view word) { return Titles().count(word) != 0; }
bool IsNameSuffix(std::string_view word) { return Suffixes().count(word) != 0; }

}  // namespace cdp::normalize_internal
