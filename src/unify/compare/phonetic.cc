#include "unify/compare/phonetic.h"

#include <initializer_list>

#include "unify/compare/internal/text.h"

namespace cdp {
namespace {

using compare_internal::DecodeOne;
using compare_internal::FoldLatinLetter;
using compare_internal::SmallArray;

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

char UpperAscii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool IsUpperLetter(char c) { return c >= 'A' && c <= 'Z'; }

// Soundex digit of an upper-case letter; '0' for vowels (they separate equal
// digits), '-' for H and W (they do not).
char SoundexDigit(char c) {
  static constexpr char kDigits[] = "01230120022455012623010202";
  if (c == 'H' || c == 'W') return '-';
  return kDigits[c - 'A'];
}

// ---------------------------------------------------------------------------
// Double Metaphone

constexpr char kCedilla = '\x01';    // Ç, read as S
constexpr char kSeparator = '\x02';  // a character that is neither letter nor space

bool IsDmLetter(char c) { return IsUpperLetter(c) || c == kCedilla; }

class DoubleMetaphoneEncoder {
 public:
  DoubleMetaphoneEncoder(const char* s, int length, size_t max_length)
      : s_(s), length_(length), last_(length - 1), max_length_(max_length) {
    slavo_germanic_ = Contains("W") || Contains("K") || Contains("CZ") || Contains("WITZ");
    germanic_ = StringAt(0, 4, {"VAN ", "VON "}) || StringAt(0, 3, {"SCH"});
  }

  DoubleMetaphoneCodes Encode();

 private:
  // The character at pos: '\0' before the start, ' ' past the end (the
  // original pads the word with spaces).
  char At(int pos) const {
    if (pos < 0) return '\0';
    return pos < length_ ? s_[pos] : ' ';
  }
  bool StringAt(int start, int len, std::initializer_list<std::string_view> options) const {
    if (start < 0) return false;
    for (std::string_view option : options) {
      bool equal = true;
      for (int k = 0; k < len && equal; ++k) equal = At(start + k) == option[k];
      if (equal) return true;
    }
    return false;
  }
  bool Contains(std::string_view needle) const {
    return std::string_view(s_, static_cast<size_t>(length_)).find(needle) != std::string_view::npos;
  }
  bool IsVowel(int pos) const {
    if (pos < 0 || pos >= length_) return false;
    const char c = s_[pos];
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y';
  }
  void Add(std::string_view both) {
    primary_ += both;
    alternate_ += both;
  }
  void Add(std::string_view main, std::string_view alternate) {
    primary_ += main;
    alternate_ += alternate;
  }
  bool Done() const { return primary_.size() >= max_length_ && alternate_.size() >= max_length_; }

  void EncodeC();
  void EncodeG();
  void EncodeJ();
  void EncodeS();
  void EncodeT();
  void EncodeW();

  const char* s_;
  const int length_;
  const int last_;
  const size_t max_length_;
  bool slavo_germanic_ = false;
  bool germanic_ = false;  // starts with "VAN ", "VON " or "SCH"
  int current_ = 0;
  std::string primary_;
  std::string alternate_;
};

DoubleMetaphoneCodes DoubleMetaphoneEncoder::Encode() {
  // Silent first letter: GN, KN, PN, WR, PS.
  if (StringAt(0, 2, {"GN", "KN", "PN", "WR", "PS"})) current_ = 1;
  // Initial X sounds like Z, coded S: "Xavier".
  if (At(0) == 'X') {
    Add("S");
    current_ = 1;
  }
  while (!Done() && current_ < length_) {
    const char c = At(current_);
    switch (c) {
      case 'A': case 'E': case 'I': case 'O': case 'U': case 'Y':
        if (current_ == 0) Add("A");  // only an initial vowel is coded
        current_ += 1;
        break;
      case 'B':
        Add("P");
        current_ += At(current_ + 1) == 'B' ? 2 : 1;
        break;
      case kCedilla:
        Add("S");
        current_ += 1;
        break;
      case 'C':
        EncodeC();
        break;
      case 'D':
        if (StringAt(current_, 2, {"DG"})) {
          if (StringAt(current_ + 2, 1, {"I", "E", "Y"})) {  // "edge"
            Add("J");
            current_ += 3;
          } else {  // "edgar"
            Add("TK");
            current_ += 2;
          }
        } else {
          Add("T");
          current_ += StringAt(current_, 2, {"DT", "DD"}) ? 2 : 1;
        }
        break;
      case 'F':
        Add("F");
        current_ += At(current_ + 1) == 'F' ? 2 : 1;
        break;
      case 'G':
        EncodeG();
        break;
      case 'H':
        // Kept only when initial or after a vowel, and before a vowel.
        if ((current_ == 0 || IsVowel(current_ - 1)) && IsVowel(current_ + 1)) {
          Add("H");
          current_ += 2;
        } else {
          current_ += 1;
        }
        break;
      case 'J':
        EncodeJ();
        break;
      case 'K':
        Add("K");
        current_ += At(current_ + 1) == 'K' ? 2 : 1;
        break;
      case 'L':
        if (At(current_ + 1) == 'L') {
          // Spanish "-illo", "-illa", "-alle": "cabrillo", "gallegos".
          if ((current_ == length_ - 3 && StringAt(current_ - 1, 4, {"ILLO", "ILLA", "ALLE"})) ||
              ((StringAt(last_ - 1, 2, {"AS", "OS"}) || StringAt(last_, 1, {"A", "O"})) &&
               StringAt(current_ - 1, 4, {"ALLE"}))) {
            Add("L", "");
            current_ += 2;
            break;
          }
          current_ += 2;
        } else {
          current_ += 1;
        }
        Add("L");
        break;
      case 'M':
        // "dumb", "thumb": the B is silent.
        if ((StringAt(current_ - 1, 3, {"UMB"}) && (current_ + 1 == last_ || StringAt(current_ + 2, 2, {"ER"}))) ||
            At(current_ + 1) == 'M') {
          current_ += 2;
        } else {
          current_ += 1;
        }
        Add("M");
        break;
      case 'N':
        Add("N");
        current_ += At(current_ + 1) == 'N' ? 2 : 1;
        break;
      case 'P':
        if (At(current_ + 1) == 'H') {
          Add("F");
          current_ += 2;
          break;
        }
        // "campbell", "raspberry"
        current_ += StringAt(current_ + 1, 1, {"P", "B"}) ? 2 : 1;
        Add("P");
        break;
      case 'Q':
        Add("K");
        current_ += At(current_ + 1) == 'Q' ? 2 : 1;
        break;
      case 'R':
        // French final -IER ("rogier"), but not "hochmeier".
        if (current_ == last_ && !slavo_germanic_ && StringAt(current_ - 2, 2, {"IE"}) &&
            !StringAt(current_ - 4, 2, {"ME", "MA"})) {
          Add("", "R");
        } else {
          Add("R");
        }
        current_ += At(current_ + 1) == 'R' ? 2 : 1;
        break;
      case 'S':
        EncodeS();
        break;
      case 'T':
        EncodeT();
        break;
      case 'V':
        Add("F");
        current_ += At(current_ + 1) == 'V' ? 2 : 1;
        break;
      case 'W':
        EncodeW();
        break;
      case 'X':
        // French final -AUX, -EAUX, -OUX ("breaux") is silent.
        if (!(current_ == last_ && (StringAt(current_ - 3, 3, {"IAU", "EAU"}) || StringAt(current_ - 2, 2, {"AU", "OU"})))) {
          Add("KS");
        }
        current_ += StringAt(current_ + 1, 1, {"C", "X"}) ? 2 : 1;
        break;
      case 'Z':
        if (At(current_ + 1) == 'H') {  // Chinese pinyin "zhao"
          Add("J");
          current_ += 2;
          break;
        }
        if (StringAt(current_ + 1, 2, {"ZO", "ZI", "ZA"}) ||
            (slavo_germanic_ && current_ > 0 && At(current_ - 1) != 'T')) {
          Add("S", "TS");
        } else {
          Add("S");
        }
        current_ += At(current_ + 1) == 'Z' ? 2 : 1;
        break;
      default:  // separators
        current_ += 1;
        break;
    }
  }
  if (primary_.size() > max_length_) primary_.resize(max_length_);
  if (alternate_.size() > max_length_) alternate_.resize(max_length_);
  return {std::move(primary_), std::move(alternate_)};
}

void DoubleMetaphoneEncoder::EncodeC() {
  const int cur = current_;
  // Germanic -ACH- ("bacher", "macher"), not "-achi", "-ache".
  if (cur > 1 && !IsVowel(cur - 2) && StringAt(cur - 1, 3, {"ACH"}) && At(cur + 2) != 'I' &&
      (At(cur + 2) != 'E' || StringAt(cur - 2, 6, {"BACHER", "MACHER"}))) {
    Add("K");
    current_ += 2;
    return;
  }
  if (cur == 0 && StringAt(cur, 6, {"CAESAR"})) {
    Add("S");
    current_ += 2;
    return;
  }
  if (StringAt(cur, 4, {"CHIA"})) {  // Italian "chianti"
    Add("K");
    current_ += 2;
    return;
  }
  if (StringAt(cur, 2, {"CH"})) {
    if (cur > 0 && StringAt(cur, 4, {"CHAE"})) {  // "michael"
      Add("K", "X");
      current_ += 2;
      return;
    }
    // Greek roots at the start: "chemistry", "chorus", "character", "charisma".
    if (cur == 0 && (StringAt(cur + 1, 5, {"HARAC", "HARIS"}) || StringAt(cur + 1, 3, {"HOR", "HYM", "HIA", "HEM"})) &&
        !StringAt(0, 5, {"CHORE"})) {
      Add("K");
      current_ += 2;
      return;
    }
    // Germanic, Greek or otherwise CH for a KH sound: "architect", "orchestra",
    // "orchid", "wachtler", "wechsler" (but not "tichner").
    if (germanic_ || StringAt(cur - 2, 6, {"ORCHES", "ARCHIT", "ORCHID"}) || StringAt(cur + 2, 1, {"T", "S"}) ||
        ((StringAt(cur - 1, 1, {"A", "O", "U", "E"}) || cur == 0) &&
         StringAt(cur + 2, 1, {"L", "R", "N", "M", "B", "H", "F", "V", "W", " "}))) {
      Add("K");
    } else if (cur > 0) {
      if (StringAt(0, 2, {"MC"})) {  // "McHugh"
        Add("K");
      } else {
        Add("X", "K");
      }
    } else {
      Add("X");
    }
    current_ += 2;
    return;
  }
  if (StringAt(cur, 2, {"CZ"}) && !StringAt(cur - 2, 4, {"WICZ"})) {  // "czerny"
    Add("S", "X");
    current_ += 2;
    return;
  }
  if (StringAt(cur + 1, 3, {"CIA"})) {  // "focaccia"
    Add("X");
    current_ += 3;
    return;
  }
  // Double C, but not as in "McClellan".
  if (StringAt(cur, 2, {"CC"}) && !(cur == 1 && At(0) == 'M')) {
    if (StringAt(cur + 2, 1, {"I", "E", "H"}) && !StringAt(cur + 2, 2, {"HU"})) {
      // "accident", "accede", "succeed" vs. Italian "bacci", "bertucci".
      if ((cur == 1 && At(cur - 1) == 'A') || StringAt(cur - 1, 5, {"UCCEE", "UCCES"})) {
        Add("KS");
      } else {
        Add("X");
      }
      current_ += 3;
      return;
    }
    Add("K");  // "bacchus"
    current_ += 2;
    return;
  }
  if (StringAt(cur, 2, {"CK", "CG", "CQ"})) {
    Add("K");
    current_ += 2;
    return;
  }
  if (StringAt(cur, 2, {"CI", "CE", "CY"})) {
    if (StringAt(cur, 3, {"CIO", "CIE", "CIA"})) {  // Italian vs. English
      Add("S", "X");
    } else {
      Add("S");
    }
    current_ += 2;
    return;
  }
  Add("K");
  if (StringAt(cur + 1, 2, {" C", " Q", " G"})) {  // "mac caffrey", "mac gregor"
    current_ += 3;
  } else if (StringAt(cur + 1, 1, {"C", "K", "Q"}) && !StringAt(cur + 1, 2, {"CE", "CI"})) {
    current_ += 2;
  } else {
    current_ += 1;
  }
}

void DoubleMetaphoneEncoder::EncodeG() {
  const int cur = current_;
  if (At(cur + 1) == 'H') {
    if (cur > 0 && !IsVowel(cur - 1)) {
      Add("K");
      current_ += 2;
      return;
    }
    if (cur == 0) {  // "ghislane", "ghiradelli"
      Add(At(cur + 2) == 'I' ? "J" : "K");
      current_ += 2;
      return;
    }
    // Parker's rule: silent after B, H, D ("hugh", "bough", "broughton").
    if ((cur > 1 && StringAt(cur - 2, 1, {"B", "H", "D"})) || (cur > 2 && StringAt(cur - 3, 1, {"B", "H", "D"})) ||
        (cur > 3 && StringAt(cur - 4, 1, {"B", "H"}))) {
      current_ += 2;
      return;
    }
    // "laugh", "McLaughlin", "cough", "gough", "rough", "tough"
    if (cur > 2 && At(cur - 1) == 'U' && StringAt(cur - 3, 1, {"C", "G", "L", "R", "T"})) {
      Add("F");
    } else if (cur > 0 && At(cur - 1) != 'I') {
      Add("K");
    }
    current_ += 2;
    return;
  }
  if (At(cur + 1) == 'N') {
    if (cur == 1 && IsVowel(0) && !slavo_germanic_) {
      Add("KN", "N");
    } else if (!StringAt(cur + 2, 2, {"EY"}) && At(cur + 1) != 'Y' && !slavo_germanic_) {  // not "cagney"
      Add("N", "KN");
    } else {
      Add("KN");
    }
    current_ += 2;
    return;
  }
  if (StringAt(cur + 1, 2, {"LI"}) && !slavo_germanic_) {  // "tagliaro"
    Add("KL", "L");
    current_ += 2;
    return;
  }
  // -GES-, -GEP-, -GEL-, -GIE- ... at the start.
  if (cur == 0 &&
      (At(cur + 1) == 'Y' ||
       StringAt(cur + 1, 2, {"ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER"}))) {
    Add("K", "J");
    current_ += 2;
    return;
  }
  // -GER-, -GY-
  if ((StringAt(cur + 1, 2, {"ER"}) || At(cur + 1) == 'Y') && !StringAt(0, 6, {"DANGER", "RANGER", "MANGER"}) &&
      !StringAt(cur - 1, 1, {"E", "I"}) && !StringAt(cur - 1, 3, {"RGY", "OGY"})) {
    Add("K", "J");
    current_ += 2;
    return;
  }
  // Italian "biaggi"
  if (StringAt(cur + 1, 1, {"E", "I", "Y"}) || StringAt(cur - 1, 4, {"AGGI", "OGGI"})) {
    if (germanic_ || StringAt(cur + 1, 2, {"ET"})) {
      Add("K");
    } else if (StringAt(cur + 1, 4, {"IER "})) {  // French ending
      Add("J");
    } else {
      Add("J", "K");
    }
    current_ += 2;
    return;
  }
  Add("K");
  current_ += At(cur + 1) == 'G' ? 2 : 1;
}

void DoubleMetaphoneEncoder::EncodeJ() {
  const int cur = current_;
  // Spanish: "jose", "san jacinto".
  if (StringAt(cur, 4, {"JOSE"}) || StringAt(0, 4, {"SAN "})) {
    if ((cur == 0 && At(cur + 4) == ' ') || StringAt(0, 4, {"SAN "})) {
      Add("H");
    } else {
      Add("J", "H");
    }
    current_ += 1;
    return;
  }
  if (cur == 0) {
    Add("J", "A");  // "Yankelovich" / "Jankelowicz"
  } else if (IsVowel(cur - 1) && !slavo_germanic_ && (At(cur + 1) == 'A' || At(cur + 1) == 'O')) {
    Add("J", "H");  // Spanish "bajador"
  } else if (cur == last_) {
    Add("J", "");
  } else if (!StringAt(cur + 1, 1, {"L", "T", "K", "S", "N", "M", "B", "Z"}) && !StringAt(cur - 1, 1, {"S", "K", "L"})) {
    Add("J");
  }
  current_ += At(cur + 1) == 'J' ? 2 : 1;
}

void DoubleMetaphoneEncoder::EncodeS() {
  const int cur = current_;
  if (StringAt(cur - 1, 3, {"ISL", "YSL"})) {  // "island", "isle", "carlisle"
    current_ += 1;
    return;
  }
  if (cur == 0 && StringAt(cur, 5, {"SUGAR"})) {
    Add("X", "S");
    current_ += 1;
    return;
  }
  if (StringAt(cur, 2, {"SH"})) {
    Add(StringAt(cur + 1, 4, {"HEIM", "HOEK", "HOLM", "HOLZ"}) ? "S" : "X");  // Germanic
    current_ += 2;
    return;
  }
  if (StringAt(cur, 3, {"SIO", "SIA"}) || StringAt(cur, 4, {"SIAN"})) {  // Italian, Armenian
    if (slavo_germanic_) {
      Add("S");
    } else {
      Add("S", "X");
    }
    current_ += 3;
    return;
  }
  // German and anglicised: "smith" ~ "schmidt", "snider" ~ "schneider"; Slavic -SZ-.
  if ((cur == 0 && StringAt(cur + 1, 1, {"M", "N", "L", "W"})) || StringAt(cur + 1, 1, {"Z"})) {
    Add("S", "X");
    current_ += StringAt(cur + 1, 1, {"Z"}) ? 2 : 1;
    return;
  }
  if (StringAt(cur, 2, {"SC"})) {
    if (At(cur + 2) == 'H') {  // Schlesinger's rule
      if (StringAt(cur + 3, 2, {"OO", "ER", "EN", "UY", "ED", "EM"})) {  // Dutch "school", "schooner"
        if (StringAt(cur + 3, 2, {"ER", "EN"})) {  // "schermerhorn", "schenker"
          Add("X", "SK");
        } else {
          Add("SK");
        }
      } else if (cur == 0 && !IsVowel(3) && At(3) != 'W') {
        Add("X", "S");
      } else {
        Add("X");
      }
      current_ += 3;
      return;
    }
    Add(StringAt(cur + 2, 1, {"I", "E", "Y"}) ? "S" : "SK");
    current_ += 3;
    return;
  }
  if (cur == last_ && StringAt(cur - 2, 2, {"AI", "OI"})) {  // French "resnais", "artois"
    Add("", "S");
  } else {
    Add("S");
  }
  current_ += StringAt(cur + 1, 1, {"S", "Z"}) ? 2 : 1;
}

void DoubleMetaphoneEncoder::EncodeT() {
  const int cur = current_;
  if (StringAt(cur, 4, {"TION"}) || StringAt(cur, 3, {"TIA", "TCH"})) {
    Add("X");
    current_ += 3;
    return;
  }
  if (StringAt(cur, 2, {"TH"}) || StringAt(cur, 3, {"TTH"})) {
    // "thomas", "thames" or Germanic
    if (StringAt(cur + 2, 2, {"OM", "AM"}) || germanic_) {
      Add("T");
    } else {
      Add("0", "T");
    }
    current_ += 2;
    return;
  }
  Add("T");
  current_ += StringAt(cur + 1, 1, {"T", "D"}) ? 2 : 1;
}

void DoubleMetaphoneEncoder::EncodeW() {
  const int cur = current_;
  if (StringAt(cur, 2, {"WR"})) {
    Add("R");
    current_ += 2;
    return;
  }
  if (cur == 0 && (IsVowel(cur + 1) || StringAt(cur, 2, {"WH"}))) {
    if (IsVowel(cur + 1)) {
      Add("A", "F");  // "Wasserman" ~ "Vasserman"
    } else {
      Add("A");  // "Uomo" ~ "Womo"
    }
  }
  // "Arnow" ~ "Arnoff"
  if ((cur == last_ && IsVowel(cur - 1)) || StringAt(cur - 1, 5, {"EWSKI", "EWSKY", "OWSKI", "OWSKY"}) ||
      StringAt(0, 3, {"SCH"})) {
    Add("", "F");
    current_ += 1;
    return;
  }
  if (StringAt(cur, 4, {"WICZ", "WITZ"})) {  // Polish "filipowicz"
    Add("TS", "FX");
    current_ += 4;
    return;
  }
  current_ += 1;
}

}  // namespace

std::string Soundex(std::string_view word) {
  size_t pos = 0;
  while (pos < word.size() && IsAsciiSpace(word[pos])) ++pos;
  std::string code;
  char previous = 0;  // digit of the previous coded letter, '0' after a vowel
  auto add_letter = [&](char letter) {
    if (code.size() >= 4) return;
    const char digit = SoundexDigit(letter);
    if (code.empty()) {
      code.push_back(letter);
      previous = digit == '-' ? 0 : digit;
      return;
    }
    if (digit == '-') return;  // H, W: transparent
    if (digit != '0' && digit != previous) code.push_back(digit);
    previous = digit;
  };
  while (pos < word.size() && !IsAsciiSpace(word[pos]) && code.size() < 4) {
    const char32_t cp = DecodeOne(word, &pos);
    if (cp < 0x80) {
      const char upper = UpperAscii(static_cast<char>(cp));
      if (IsUpperLetter(upper)) add_letter(upper);
    } else {
      for (char letter : FoldLatinLetter(cp)) add_letter(letter);
    }
  }
  if (!code.empty()) code.resize(4, '0');
  return code;
}

DoubleMetaphoneCodes DoubleMetaphone(std::string_view word, size_t max_length) {
  // Folding never makes the text longer than its UTF-8 bytes.
  SmallArray<char, 64> text(word.size());
  int length = 0;
  for (size_t pos = 0; pos < word.size();) {
    const char32_t cp = DecodeOne(word, &pos);
    if (cp < 0x80) {
      text[length++] = UpperAscii(static_cast<char>(cp));
    } else if (cp == 0xC7 || cp == 0xE7) {
      text[length++] = kCedilla;
    } else {
      std::string_view folded = FoldLatinLetter(cp);
      if (folded.empty()) {
        text[length++] = kSeparator;
      } else {
        for (char letter : folded) text[length++] = letter;
      }
    }
  }
  int begin = 0;
  while (begin < length && !IsDmLetter(text[begin])) ++begin;
  while (length > begin && !IsDmLetter(text[length - 1])) --length;
  if (begin == length || max_length == 0) return {};
  DoubleMetaphoneEncoder encoder(text.data() + begin, length - begin, max_length);
  return encoder.Encode();
}

}  // namespace cdp
