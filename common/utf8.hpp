// utf8.hpp — UTF-8 as dailynet accepts it, one code point at a time, and the code points a
// note may not hold (SPEC.md "UDP": control characters and display hazards). Pure and
// header-only: the note validator's loop inlines the decoder. Used by the server's note
// validation (common/protocol.cpp), the client's terminal/JSON escaping (client/format.cpp)
// and the line editor's cursor steps. Unit tests: tests/unit/utf8_test.cpp.
//
// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800–DFFF), nothing past
// U+10FFFF, no truncated sequence. Bytes that fail are "invalid" (length 0), never guessed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace utf8 {

inline bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }

// Decodes the sequence at p (n >= 1 bytes readable). Returns its length (1–4) and sets cp,
// or returns 0 when the bytes at p do not start a valid sequence (cp is then unspecified).
inline size_t decode(const unsigned char* p, size_t n, uint32_t& cp) noexcept {
  const unsigned char c = p[0];
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {  // C0, C1 would be overlong
    if (n < 2 || !is_continuation(p[1])) return 0;
    cp = (c & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !is_continuation(p[1]) || !is_continuation(p[2])) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    cp = (c & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !is_continuation(p[1]) || !is_continuation(p[2]) || !is_continuation(p[3]))
      return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // past U+10FFFF
    cp = (c & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
    return 4;
  }
  return 0;  // a stray continuation byte, or F5..FF
}

struct Char {
  uint32_t cp = 0;  // the code point; meaningless when len == 0
  size_t len = 0;   // bytes it takes, 1–4; 0 when the bytes at that offset are invalid
};

// The code point starting at byte offset at (at < s.size()).
inline Char decode_at(std::string_view s, size_t at) noexcept {
  Char ch;
  ch.len = decode(reinterpret_cast<const unsigned char*>(s.data()) + at, s.size() - at, ch.cp);
  return ch;
}

// The offset of the character after the one at `at` (at < s.size()): at + its length, or
// at + 1 over an invalid byte (so a cursor never stops inside a valid sequence).
inline size_t next(std::string_view s, size_t at) noexcept {
  size_t len = decode_at(s, at).len;
  return at + (len ? len : 1);
}

// The offset of the character that ends at `at` (0 < at <= s.size()): the start of the valid
// sequence of 2–4 bytes ending exactly there, else at - 1. For an `at` that next() reached,
// next(s, prev(s, at)) == at.
inline size_t prev(std::string_view s, size_t at) noexcept {
  for (size_t k = 2; k <= 4 && k <= at; ++k)
    if (decode_at(s, at - k).len == k) return at - k;
  return at - 1;
}

// Appends the encoding of cp (a scalar value: at most U+10FFFF, not a surrogate).
inline void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | cp >> 6);
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | cp >> 12);
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | cp >> 18);
    out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// C0 (TAB included), DEL and C1: refused in notes, escaped on terminals.
inline bool is_control(uint32_t cp) noexcept { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// Refused in notes as display hazards (SPEC.md "Precise points"): the line and paragraph
// separators U+2028/2029 and the bidirectional embeddings, overrides and isolates
// U+202A–202E, U+2066–2069, which reorder or break a notebook read in a terminal.
inline bool is_display_hazard(uint32_t cp) noexcept {
  return cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace utf8
