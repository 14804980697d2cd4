// Internal helpers of the compare module: UTF-8 decoding into a small inline
// buffer and folding of Latin accented letters. Not part of the public API.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cdp::compare_internal {

// Code points above this value stand for one invalid UTF-8 byte each:
// kInvalidByteBase + byte. They never equal a valid code point.
inline constexpr char32_t kInvalidByteBase = 0x110000;

// A contiguous array of T that lives inline up to N elements and on the heap
// beyond. Not copyable.
template <typename T, size_t N>
class SmallArray {
 public:
  explicit SmallArray(size_t size) : size_(size) {
    if (size > N) {
      heap_ = std::make_unique_for_overwrite<T[]>(size);
      data_ = heap_.get();
    }
  }
  SmallArray(const SmallArray&) = delete;
  SmallArray& operator=(const SmallArray&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  void resize_down(size_t size) { size_ = size; }  // size <= capacity
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  T inline_[N];
  std::unique_ptr<T[]> heap_;
  T* data_ = inline_;
  size_t size_;
};

// True when every byte is below 0x80.
bool IsAscii(std::string_view s);

// Decodes one code point at s[*pos] and advances *pos. A byte that does not
// start a well-formed sequence (overlong, surrogate, > U+10FFFF, truncated)
// decodes to kInvalidByteBase + byte and advances by one byte.
char32_t DecodeOne(std::string_view s, size_t* pos);

// Number of units DecodeOne yields for s.
size_t CountCodePoints(std::string_view s);

// The code points of a UTF-8 string, inline up to 64 of them.
class CodePoints {
 public:
  static constexpr size_t kInline = 64;
  explicit CodePoints(std::string_view utf8);
  CodePoints(const CodePoints&) = delete;
  CodePoints& operator=(const CodePoints&) = delete;

  const char32_t* data() const { return cps_.data(); }
  int size() const { return static_cast<int>(cps_.size()); }

 private:
  SmallArray<char32_t, kInline> cps_;
};

// Upper-case ASCII spelling of a Latin letter from U+00C0..U+017F with its
// diacritics removed ("É" -> "E", "ß" -> "SS", "Æ" -> "AE", "Ł" -> "L"); ""
// for any other code point (including × and ÷).
std::string_view FoldLatinLetter(char32_t cp);

}  // namespace cdp::compare_internal
