// utf8_test.cpp — common/utf8.hpp: the encoder against known bytes; strict decoding (every
// code point round-trips; every 1–3 byte string is accepted exactly when it is the one
// encoding of a non-surrogate code point; 4-byte limits); cursor steps over valid and
// invalid bytes; the refused sets.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "../../common/utf8.hpp"

namespace {

std::string encode(uint32_t cp) {
  std::string s;
  utf8::append(s, cp);
  return s;
}

bool surrogate(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

}  // namespace

TEST_CASE("utf8: append writes the known encodings") {
  CHECK(encode(0x41) == "A");
  CHECK(encode(0xE9) == "\xC3\xA9");
  CHECK(encode(0x7FF) == "\xDF\xBF");
  CHECK(encode(0x4E2D) == "\xE4\xB8\xAD");
  CHECK(encode(0xFFFF) == "\xEF\xBF\xBF");
  CHECK(encode(0x1F600) == "\xF0\x9F\x98\x80");
  CHECK(encode(0x10FFFF) == "\xF4\x8F\xBF\xBF");
}

TEST_CASE("utf8: every scalar value round-trips; surrogates and beyond U+10FFFF do not") {
  size_t bad = 0;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    std::string s = encode(cp);
    utf8::Char c = utf8::decode_at(s, 0);
    bool want = !surrogate(cp);
    if ((c.len != 0) != want || (want && (c.cp != cp || c.len != s.size()))) ++bad;
  }
  CHECK(bad == 0);
  CHECK(utf8::decode_at("\xF4\x90\x80\x80", 0).len == 0);  // U+110000
  CHECK(utf8::decode_at("\xF5\x80\x80\x80", 0).len == 0);
  CHECK(utf8::decode_at("\xFF", 0).len == 0);
}

TEST_CASE("utf8: a 1-3 byte string is valid exactly when it is the shortest encoding") {
  size_t bad = 0;
  for (uint32_t v = 0; v < (1u << 24); ++v) {
    unsigned char b[3] = {static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 8),
                          static_cast<unsigned char>(v)};
    uint32_t cp = 0;
    size_t len = utf8::decode(b, 3, cp);
    bool ok = len != 0 && !surrogate(cp) &&
              encode(cp) == std::string(reinterpret_cast<char*>(b), len);
    if ((len != 0) != ok) ++bad;
    // A truncated copy never decodes to the full length.
    if (len > 1 && utf8::decode(b, len - 1, cp) != 0) ++bad;
  }
  CHECK(bad == 0);
  CHECK(utf8::decode_at("\xC0\xAF", 0).len == 0);          // overlong '/'
  CHECK(utf8::decode_at("\xE0\x80\xAF", 0).len == 0);      // overlong '/'
  CHECK(utf8::decode_at("\xF0\x80\x80\xAF", 0).len == 0);  // overlong '/'
  CHECK(utf8::decode_at("\xED\xA0\x80", 0).len == 0);      // U+D800
  CHECK(utf8::decode_at("\x80", 0).len == 0);              // stray continuation
}

TEST_CASE("utf8: next and prev step by character, one byte over invalid ones") {
  std::string_view s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\xFFz";  // a é 中 😀 \xFF z
  size_t want[] = {0, 1, 3, 6, 10, 11, 12};
  size_t at = 0;
  for (size_t i = 1; i < sizeof want / sizeof want[0]; ++i) {
    at = utf8::next(s, at);
    CHECK(at == want[i]);
    CHECK(utf8::prev(s, at) == want[i - 1]);
  }
  CHECK(utf8::decode_at(s, 6).cp == 0x1F600);
  CHECK(utf8::decode_at(s, 3).cp == 0x4E2D);
  // A lone continuation byte after a complete character is its own step.
  std::string_view t = "\xC3\xA9\x80";
  CHECK(utf8::next(t, 2) == 3);
  CHECK(utf8::prev(t, 3) == 2);
  CHECK(utf8::prev(t, 2) == 0);
}

TEST_CASE("utf8: the control and display-hazard sets of SPEC.md") {
  for (uint32_t cp = 0; cp < 0x20; ++cp) CHECK(utf8::is_control(cp));
  CHECK(utf8::is_control(0x7F));
  CHECK(utf8::is_control(0x80));
  CHECK(utf8::is_control(0x9F));
  CHECK_FALSE(utf8::is_control(' '));
  CHECK_FALSE(utf8::is_control('~'));
  CHECK_FALSE(utf8::is_control(0xA0));
  for (uint32_t cp : {0x2028u, 0x2029u, 0x202Au, 0x202Eu, 0x2066u, 0x2069u})
    CHECK(utf8::is_display_hazard(cp));
  for (uint32_t cp : {0x2027u, 0x202Fu, 0x2065u, 0x206Au, 0x200Fu, 0x41u})
    CHECK_FALSE(utf8::is_display_hazard(cp));
}
