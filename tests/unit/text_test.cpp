// text_test.cpp — common/text: decimal and hex numbers written and read as the wire formats
// do, with their limits (no sign, no space, overflow, width).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "../../common/text.hpp"

TEST_CASE("text: append_u64 writes decimal, all of uint64_t") {
  std::string s = "x=";
  append_u64(s, 0);
  s += ',';
  append_u64(s, 42);
  s += ',';
  append_u64(s, UINT64_MAX);
  CHECK(s == "x=0,42,18446744073709551615");
}

TEST_CASE("text: append_hex pads to the width and never truncates") {
  std::string s;
  append_hex(s, 0, 1);
  s += ' ';
  append_hex(s, 0xab, 4);
  s += ' ';
  append_hex(s, 0x0123456789abcdefULL, 16);
  s += ' ';
  append_hex(s, 0x12345, 2);
  CHECK(s == "0 00ab 0123456789abcdef 12345");
}

TEST_CASE("text: parse_u64 takes digits only, up to UINT64_MAX") {
  CHECK(parse_u64("0") == 0u);
  CHECK(parse_u64("007") == 7u);
  CHECK(parse_u64("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_u64("18446744073709551616"));
  CHECK_FALSE(parse_u64("000000000000000000001"));  // 21 digits
  CHECK_FALSE(parse_u64(""));
  CHECK_FALSE(parse_u64("-1"));
  CHECK_FALSE(parse_u64("+1"));
  CHECK_FALSE(parse_u64(" 1"));
  CHECK_FALSE(parse_u64("1 "));
  CHECK_FALSE(parse_u64("1e3"));
}

TEST_CASE("text: parse_hex64 takes 1-16 lower-case hex digits") {
  CHECK(parse_hex64("0") == 0u);
  CHECK(parse_hex64("ff") == 255u);
  CHECK(parse_hex64("0123456789abcdef") == 0x0123456789abcdefULL);
  CHECK(parse_hex64("ffffffffffffffff") == UINT64_MAX);
  CHECK_FALSE(parse_hex64(""));
  CHECK_FALSE(parse_hex64("FF"));
  CHECK_FALSE(parse_hex64("0x1"));
  CHECK_FALSE(parse_hex64("10000000000000000"));  // 17 digits
  std::string s;
  append_hex(s, 0xdeadbeef, 16);
  CHECK(parse_hex64(s) == 0xdeadbeefULL);
}

TEST_CASE("text: iequals_ascii folds A-Z only; fold_ascii leaves other bytes alone") {
  CHECK(iequals_ascii("HISTORY", "history"));
  CHECK(iequals_ascii("Content-Type", "content-TYPE"));
  CHECK(iequals_ascii("", ""));
  CHECK_FALSE(iequals_ascii("QUIT", "QUI"));
  CHECK_FALSE(iequals_ascii("[", "{"));  // 0x5B and 0x7B differ by 32 but are not letters
  CHECK_FALSE(iequals_ascii("\xc3\x89", "\xc3\xa9"));  // É and é: not ASCII, not folded
  for (int c = 0; c < 256; ++c) {
    char ch = static_cast<char>(c);
    CHECK(fold_ascii(ch) == ((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : ch));
  }
}
