// text.hpp — numbers as text, the way the wire formats write and read them: decimal and
// lower-case hex, no signs, no spaces, no locale; and ASCII case folding for keywords and
// HTTP header names. Pure; shared by server, client and tests (tests/unit/text_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Appends v in decimal ("0", "18446744073709551615"). No allocation beyond out's growth.
void append_u64(std::string& out, uint64_t v);

// Appends v in lower-case hex, zero-padded to at least min_width digits (1..16):
// append_hex(out, 0xab, 4) appends "00ab".
void append_hex(std::string& out, uint64_t v, int min_width);

// A decimal unsigned 64-bit number, digits only (no sign, no spaces, at least one digit);
// nullopt otherwise or on overflow.
std::optional<uint64_t> parse_u64(std::string_view s) noexcept;

// 1 to 16 lower-case hex digits, as append_hex writes them; nullopt otherwise.
std::optional<uint64_t> parse_hex64(std::string_view s) noexcept;

// ASCII case-fold of one byte: 'A'..'Z' to 'a'..'z', every other byte unchanged.
inline char fold_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// ASCII case-insensitive equality: command words and keywords (SPEC "TCP"), HTTP header names
// and tokens. Bytes outside A-Z/a-z must match exactly.
bool iequals_ascii(std::string_view a, std::string_view b) noexcept;
