#include "demo/internal/text_noise.h"

#include <algorithm>

namespace cdp::demo_internal {
namespace {

// ASCII base letter of U+00C0..U+00FF (0 for the two symbols in the range).
constexpr char kLatin1Base[65] =
    "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUYTs"
    "aaaaaaaceeeeiiiidnooooo\0ouuuuyty";

// QWERTY neighbours of each lower-case letter, for realistic substitutions.
constexpr std::string_view kNeighbours[26] = {
    "qwsz",   "vghn",  "xdfv", "serfcx", "wsdr", "drtgvc", "ftyhbv", "gyujnb", "ujko",
    "huikmn", "jiolm", "kop",  "njk",    "bhjm", "iklp",   "ol",     "wa",     "edft",
    "awedxz", "rfgy",  "yhji", "cfgb",   "qase", "zsdc",   "tghu",   "asx",
};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

}  // namespace

bool HasNonAscii(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

void AppendFolded(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80 || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const auto next = static_cast<unsigned char>(text[i + 1]);
    if (c == 0xC3 && next >= 0x80 && next <= 0xBF) {
      const char base = kLatin1Base[next - 0x80];
      if (next == 0x86) {
        out.append("AE");
      } else if (next == 0xA6) {
        out.append("ae");
      } else if (next == 0x9F) {
        out.append("ss");
      } else if (base != 0) {
        out.push_back(base);
      } else {
        out.append(text.substr(i, 2));
      }
      ++i;
    } else if (c == 0xC5 && (next == 0x81 || next == 0x82)) {  // Ł ł
      out.push_back(next == 0x81 ? 'L' : 'l');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
}

void AppendEmailToken(std::string& out, std::string_view text) {
  const size_t start = out.size();
  AppendFolded(out, text);
  size_t write = start;
  for (size_t read = start; read < out.size(); ++read) {
    const char c = Lower(out[read]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') out[write++] = c;
  }
  out.resize(write);
}

void ToUpperInPlace(std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    text[i] = Upper(text[i]);
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0xA0 && next <= 0xBE && next != 0xB7) text[i + 1] = static_cast<char>(next - 0x20);
      ++i;
    }
  }
}

void ToLowerInPlace(std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    text[i] = Lower(text[i]);
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97) text[i + 1] = static_cast<char>(next + 0x20);
      ++i;
    }
  }
}

void ApplyTypo(std::string& text, Rng& rng) {
  if (text.size() < 3) return;
  // Candidate positions: ASCII letters after the first byte.
  size_t candidates = 0;
  for (size_t i = 1; i < text.size(); ++i) candidates += IsAsciiLetter(text[i]);
  if (candidates == 0) return;
  size_t pick = rng.Below(static_cast<uint32_t>(candidates));
  size_t pos = 1;
  for (; pos < text.size(); ++pos) {
    if (IsAsciiLetter(text[pos]) && pick-- == 0) break;
  }
  const char original = text[pos];
  const bool upper = original >= 'A' && original <= 'Z';
  const std::string_view near = kNeighbours[Lower(original) - 'a'];
  const char neighbour = near[rng.Below(static_cast<uint32_t>(near.size()))];
  const char replacement = upper ? Upper(neighbour) : neighbour;
  const uint32_t op = rng.Below(100);
  if (op < 40) {
    text[pos] = replacement;
  } else if (op < 60) {
    text.erase(pos, 1);
  } else if (op < 75) {
    text.insert(pos, 1, replacement);
  } else if (pos + 1 < text.size() && IsAsciiLetter(text[pos + 1]) &&
             Lower(text[pos + 1]) != Lower(original)) {
    std::swap(text[pos], text[pos + 1]);
  } else if (pos > 1 && IsAsciiLetter(text[pos - 1]) && Lower(text[pos - 1]) != Lower(original)) {
    std::swap(text[pos - 1], text[pos]);
  } else {
    text[pos] = replacement;
  }
}

}  // namespace cdp::demo_internal
