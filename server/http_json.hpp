// http_json.hpp — the little JSON the HTTP side speaks (SPEC.md "HTTP"), as pure functions:
// writing note objects and strings, and reading the one request body there is,
// {"text": "..."}. No general JSON library: nothing here needs one. Unit-tested in
// tests/unit/http_request_test.cpp, fuzzed with the request parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace http {

// Appends s as a JSON string literal, quotes included: '"', '\' and bytes below 0x20 and
// 0x7F escaped; every other byte as is (stored notes are valid UTF-8 by the store's rules).
void append_json_string(std::string& out, std::string_view s);

// Appends one note as a JSON object line, the shape of `dailynet history --format json`:
//   {"seq":7,"time":"2026-11-24T08:15:30.123Z","from":"127.0.0.1:40522","text":"milk"}\n
// line is a store/wire line "SEQ\tTIME\tADDR\tTEXT" (with or without its '\n'). Returns
// false (appending nothing) when it does not have four fields.
bool append_note_json(std::string& out, std::string_view line);

// The value of the "text" member of a JSON object body like {"text": "bought milk"}:
// escapes decoded (\uXXXX, surrogate pairs joined to UTF-8). Other members may be strings,
// numbers, true, false or null and are ignored. nullopt with a one-line reason in error when
// the body is not such an object, "text" is missing, repeated or not a string, or a string
// holds a raw control byte or a lone surrogate.
std::optional<std::string> read_text_member(std::string_view body, std::string& error);

// One JSON string literal at s[at] (whitespace before it skipped), decoded into out as
// read_text_member decodes "text"; at moves past the closing quote. false with a one-line
// reason in error when there is no well-formed string there (at is then left alone). The
// integration tests read the client's JSON output with it.
bool read_json_string(std::string_view s, size_t& at, std::string& out, std::string& error);

}  // namespace http
