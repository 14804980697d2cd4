#include "common/json_scan.h"

#include <unordered_map>
#include <vector>

namespace cdp {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The 4 hex digits at raw[i..i+4), or -1.
long Hex4(std::string_view raw, size_t i) {
  if (i + 4 > raw.size()) return -1;
  long v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = HexValue(raw[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The text of a JSON string body (between the quotes) with escapes resolved.
// A malformed escape is kept as written (the parser reports it).
std::string Unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out.push_back(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        long cp = Hex4(raw, i + 1);
        if (cp < 0) {
          out.append("\\u");
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          long lo = Hex4(raw, i + 3);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(static_cast<uint32_t>(cp), &out);
        break;
      }
      default: out.push_back(e); break;  // \" \\ \/ and anything else
    }
  }
  return out;
}

struct Frame {
  bool object = false;
  bool expect_key = false;  // object: the next string is a key
  size_t index = 0;         // array: the element being read
  std::string key;          // object: the key whose value is being read
  std::unordered_map<std::string, size_t> keys;  // key -> line, when duplicates are refused
};

std::string PathOf(const std::vector<Frame>& stack, size_t frames) {
  std::string path;
  for (size_t k = 0; k < frames; ++k) {
    const Frame& f = stack[k];
    if (f.object) {
      if (f.expect_key) break;
      if (!path.empty()) path += '.';
      path += f.key;
    } else {
      path += "[" + std::to_string(f.index) + "]";
    }
  }
  return path;
}

// Index of the closing quote of the string opening at text[open], or
// text.size(); counts the newlines inside it in *line, and notes escapes and
// an escaped NUL character (\u0000).
size_t StringEnd(std::string_view text, size_t open, size_t* line, bool* escaped, bool* nul) {
  size_t j = open + 1;
  while (j < text.size() && text[j] != '"') {
    if (text[j] == '\\') {
      *escaped = true;
      if (text.substr(j + 1, 5) == "u0000") *nul = true;
      ++j;
    } else if (text[j] == '\n') {
      ++*line;
    }
    ++j;
  }
  return std::min(j, text.size());
}

}  // namespace

Status ScanJson(std::string_view text, const JsonScanOptions& options) {
  std::vector<Frame> stack;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '\n':
        ++line;
        break;
      case '"': {
        const size_t key_line = line;
        bool escaped = false, nul = false;
        size_t end = StringEnd(text, i, &line, &escaped, &nul);
        if (nul && options.refuse_nul_characters) {
          std::string path = PathOf(stack, stack.size());
          return InvalidArgumentError("line " + std::to_string(key_line) + ": " + (path.empty() ? "" : path + ": ") +
                                      "text contains a NUL character (\\u0000)");
        }
        if (!stack.empty() && stack.back().object && stack.back().expect_key) {
          Frame& f = stack.back();
          std::string_view raw = text.substr(i + 1, end - i - 1);
          f.key = escaped ? Unescape(raw) : std::string(raw);
          if (options.refuse_duplicate_keys) {
            auto [it, inserted] = f.keys.emplace(f.key, key_line);
            if (!inserted) {
              std::string path = PathOf(stack, stack.size() - 1);
              return InvalidArgumentError("line " + std::to_string(key_line) + ": " + (path.empty() ? "" : path + ": ") +
                                          "key '" + f.key + "' appears twice (first on line " +
                                          std::to_string(it->second) + ")");
            }
          }
          f.expect_key = false;
        }
        i = end;
        break;
      }
      case '[':
      case '{':
        if (stack.size() >= options.max_depth) {
          return InvalidArgumentError("line " + std::to_string(line) + ": nested deeper than " +
                                      std::to_string(options.max_depth) + " levels (the limit)");
        }
        stack.emplace_back();
        stack.back().object = text[i] == '{';
        stack.back().expect_key = stack.back().object;
        break;
      case ']':
      case '}':
        if (!stack.empty()) stack.pop_back();
        break;
      case ',':
        if (!stack.empty()) {
          Frame& f = stack.back();
          if (f.object) {
            f.expect_key = true;
          } else {
            ++f.index;
          }
        }
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

bool JsonNestsDeeperThan(std::string_view text, size_t max_depth) {
  size_t opens = 0;
  for (char c : text) opens += static_cast<size_t>(c == '[') + static_cast<size_t>(c == '{');
  if (opens <= max_depth) return false;
  size_t depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t line = 0;
      bool escaped = false, nul = false;
      i = StringEnd(text, i, &line, &escaped, &nul);
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace cdp
