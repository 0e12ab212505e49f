// protocol_test.cpp — common/protocol: note validation (every rule, byte offsets, the ASCII
// fast path at every alignment), note lines, RFC 3339 times, TCP commands and the official
// client's marked datagrams and replies.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../common/protocol.hpp"

using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

NoteCheck check(std::string_view s, size_t max = 4096) { return validate_note(s, max); }

std::string fmt_time(int64_t ms) {
  char buf[kTimeLen];
  format_time_ms(ms, buf);
  return std::string(buf, kTimeLen);
}

std::string line_of(uint64_t seq, int64_t ms, std::string_view addr, std::string_view text) {
  std::string out;
  append_note_line(out, seq, ms, addr, text);
  return out;
}

// The error of a line that must not parse as a command.
std::string cmd_error(std::string_view line) {
  ParsedCommand p = parse_command(line);
  CHECK_FALSE(p.command.has_value());
  return p.error;
}

Command cmd_ok(std::string_view line) {
  ParsedCommand p = parse_command(line);
  INFO("line: ", std::string(line), " error: ", p.error);
  REQUIRE(p.command.has_value());
  CHECK(p.error.empty());
  return *p.command;
}

const std::string kTry = " (try HISTORY, CLIENTS, FOLLOW, STATS, PING or QUIT)";

}  // namespace

// ---- validate_note -----------------------------------------------------------------------

TEST_CASE("protocol: validate_note refuses the empty note") {
  NoteCheck c = check("");
  CHECK(c.error == NoteError::empty);
  CHECK(c.at == 0);
  CHECK_FALSE(c.ok());
}

TEST_CASE("protocol: validate_note length limit is inclusive") {
  CHECK(check(std::string(10, 'a'), 10).ok());
  NoteCheck c = check(std::string(11, 'a'), 10);
  CHECK(c.error == NoteError::too_long);
  CHECK(c.at == 10);
  CHECK(check("a", 1).ok());
  CHECK(check("ab", 1).error == NoteError::too_long);
  // bytes count, not characters: "é" is two bytes
  CHECK(check("\xC3\xA9", 2).ok());
  CHECK(check("\xC3\xA9", 1).error == NoteError::too_long);
  CHECK(check(std::string(4096, 'x'), 4096).ok());
  CHECK(check(std::string(4097, 'x'), 4096).error == NoteError::too_long);
  // length is checked before content: a too-long bad note is too_long
  CHECK(check(std::string(5, '\x01'), 4).error == NoteError::too_long);
}

TEST_CASE("protocol: validate_note refuses overlong encodings") {
  for (std::string_view s : {"\xC0\x80"sv, "\xC0\xAF"sv, "\xC1\xBF"sv, "\xE0\x80\x80"sv,
                             "\xE0\x80\xAF"sv, "\xE0\x9F\xBF"sv, "\xF0\x80\x80\x80"sv,
                             "\xF0\x8F\xBF\xBF"sv}) {
    CAPTURE(s);
    NoteCheck c = check("ok"s + std::string(s));
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 2);
  }
  // the smallest well-formed values of each length are fine
  CHECK(check("\xC2\xA0").ok());          // U+00A0
  CHECK(check("\xE0\xA0\x80").ok());      // U+0800
  CHECK(check("\xF0\x90\x80\x80").ok());  // U+10000
}

TEST_CASE("protocol: validate_note refuses surrogates and code points above U+10FFFF") {
  for (std::string_view s :
       {"\xED\xA0\x80"sv, "\xED\xAD\xBF"sv, "\xED\xB0\x80"sv, "\xED\xBF\xBF"sv,
        "\xF4\x90\x80\x80"sv, "\xF4\xBF\xBF\xBF"sv}) {
    CAPTURE(s);
    NoteCheck c = check("a"s + std::string(s) + "b");
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 1);
  }
  CHECK(check("\xED\x9F\xBF").ok());      // U+D7FF, just below the surrogates
  CHECK(check("\xEE\x80\x80").ok());      // U+E000, just above
  CHECK(check("\xF4\x8F\xBF\xBF").ok());  // U+10FFFF
}

TEST_CASE("protocol: validate_note refuses sequences truncated at the end") {
  for (std::string_view s : {"\xC3"sv, "\xE2"sv, "\xE2\x82"sv, "\xF0"sv, "\xF0\x9F"sv,
                             "\xF0\x9F\x98"sv}) {
    CAPTURE(s);
    NoteCheck c = check("abc"s + std::string(s));
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 3);
    // and alone
    NoteCheck d = check(s);
    CHECK(d.error == NoteError::bad_utf8);
    CHECK(d.at == 0);
  }
}

TEST_CASE("protocol: validate_note refuses sequences cut short by a non-continuation byte") {
  for (std::string_view s : {"\xC3x"sv, "\xE2\x82x"sv, "\xE2x\xAC"sv, "\xF0\x9F\x98x"sv,
                             "\xF0x\x98\x80"sv, "\xC3\xC3\xA9"sv}) {
    CAPTURE(s);
    NoteCheck c = check("ab"s + std::string(s) + "cd");
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 2);
  }
}

TEST_CASE("protocol: validate_note refuses stray continuation bytes") {
  for (int b = 0x80; b <= 0xBF; ++b) {
    CAPTURE(b);
    std::string s = "xy"s + static_cast<char>(b) + "z";
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 2);
  }
  // one continuation too many after a complete character
  NoteCheck c = check("\xC3\xA9\xA9");
  CHECK(c.error == NoteError::bad_utf8);
  CHECK(c.at == 2);
}

TEST_CASE("protocol: validate_note refuses F5..FF and C0/C1 lead bytes") {
  for (int b : {0xC0, 0xC1, 0xF5, 0xF6, 0xF7, 0xF8, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF}) {
    CAPTURE(b);
    std::string s = "n"s + static_cast<char>(b) + "\x80\x80\x80";
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::bad_utf8);
    CHECK(c.at == 1);
  }
}

TEST_CASE("protocol: validate_note refuses every C0 control, TAB included, and DEL") {
  for (int b = 0; b < 0x20; ++b) {
    CAPTURE(b);
    std::string s = "abc"s + static_cast<char>(b) + "def";
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::control_char);
    CHECK(c.at == 3);
  }
  NoteCheck tab = check("a\tb");
  CHECK(tab.error == NoteError::control_char);
  CHECK(tab.at == 1);
  NoteCheck del = check("a\x7F");
  CHECK(del.error == NoteError::control_char);
  CHECK(del.at == 1);
  // a lone trailing CR stays after strip_one_newline and is refused
  NoteCheck cr = check(strip_one_newline("note\r"));
  CHECK(cr.error == NoteError::control_char);
  CHECK(cr.at == 4);
  // the printable ASCII edges are fine
  CHECK(check(" ").ok());
  CHECK(check("~").ok());
}

TEST_CASE("protocol: validate_note refuses C1 controls U+0080..U+009F") {
  for (int b = 0x80; b <= 0x9F; ++b) {
    CAPTURE(b);
    std::string s = "\xC3\xA9"s + "\xC2" + static_cast<char>(b);
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::control_char);
    CHECK(c.at == 2);
  }
  CHECK(check("\xC2\xA0").ok());  // NBSP, first after C1
  CHECK(check("\xC2\xBF").ok());
}

TEST_CASE("protocol: validate_note refuses line separators and bidi controls") {
  // U+2028, U+2029, U+202A..U+202E
  for (int b = 0xA8; b <= 0xAE; ++b) {
    CAPTURE(b);
    std::string s = "ab"s + "\xE2\x80" + static_cast<char>(b) + "c";
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::display_hazard);
    CHECK(c.at == 2);
  }
  // U+2066..U+2069
  for (int b = 0xA6; b <= 0xA9; ++b) {
    CAPTURE(b);
    std::string s = "\xE6\x97\xA5"s + "\xE2\x81" + static_cast<char>(b);
    NoteCheck c = check(s);
    CHECK(c.error == NoteError::display_hazard);
    CHECK(c.at == 3);
  }
}

TEST_CASE("protocol: validate_note accepts the neighbours of the refused ranges and real text") {
  CHECK(check("\xE2\x80\xA7").ok());  // U+2027
  CHECK(check("\xE2\x80\xAF").ok());  // U+202F narrow no-break space
  CHECK(check("\xE2\x81\xA5").ok());  // U+2065
  CHECK(check("\xE2\x81\xAA").ok());  // U+206A
  CHECK(check("\xE2\x80\x8B").ok());  // U+200B
  CHECK(check("\xE2\x82\xAC 5").ok());  // euro sign
  CHECK(check("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E").ok());  // CJK
  CHECK(check("\xF0\x9F\x98\x80 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD").ok());  // emoji
  CHECK(check("bought milk").ok());
  CHECK(check("caf\xC3\xA9 \xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82").ok());
}

TEST_CASE("protocol: validate_note reports the byte offset of the offending byte") {
  // h é(2) l l o → the control byte is at 6
  NoteCheck c = check("h\xC3\xA9llo\x01");
  CHECK(c.error == NoteError::control_char);
  CHECK(c.at == 6);
  // after CJK (3 bytes each) and an emoji (4)
  c = check("\xE6\x97\xA5\xE6\x9C\xAC\xF0\x9F\x98\x80\xFF");
  CHECK(c.error == NoteError::bad_utf8);
  CHECK(c.at == 10);
  // the first fault wins
  c = check("aaaaaaaaaa\x7F\x80");
  CHECK(c.error == NoteError::control_char);
  CHECK(c.at == 10);
  c = check("aaaaaaaaaa\x80\x7F");
  CHECK(c.error == NoteError::bad_utf8);
  CHECK(c.at == 10);
  c = check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xE2\x80\xA8");
  CHECK(c.error == NoteError::display_hazard);
  CHECK(c.at == 31);
}

TEST_CASE("protocol: validate_note fast path finds a bad byte at every position and length") {
  struct Bad {
    unsigned char byte;
    NoteError error;
  };
  const Bad bads[] = {{0x00, NoteError::control_char}, {0x01, NoteError::control_char},
                      {0x09, NoteError::control_char}, {0x0A, NoteError::control_char},
                      {0x1F, NoteError::control_char}, {0x7F, NoteError::control_char},
                      {0x80, NoteError::bad_utf8},     {0xBF, NoteError::bad_utf8},
                      {0xC0, NoteError::bad_utf8},     {0xFF, NoteError::bad_utf8}};
  int mismatches = 0, cases = 0;
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (const Bad& b : bads) {
        // fillers around the edges of the fast path's ranges: ' ', '~', '0'
        for (char fill : {'a', ' ', '~'}) {
          std::string s(len, fill);
          s[pos] = static_cast<char>(b.byte);
          NoteCheck c = validate_note(s, 4096);
          ++cases;
          if (c.error != b.error || c.at != pos) {
            ++mismatches;
            if (mismatches < 10) {
              INFO("len ", len, " pos ", pos, " byte ", int(b.byte), " fill ", fill);
              CHECK(c.error == b.error);
              CHECK(c.at == pos);
            }
          }
        }
      }
    }
  }
  CHECK(cases == 820 * 10 * 3);
  CHECK(mismatches == 0);
}

TEST_CASE("protocol: validate_note fast path accepts every printable byte at every position") {
  int mismatches = 0;
  for (size_t len = 1; len <= 40; ++len)
    for (size_t pos = 0; pos < len; ++pos)
      for (int b = 0x20; b <= 0x7E; ++b) {
        std::string s(len, 'q');
        s[pos] = static_cast<char>(b);
        if (!validate_note(s, 4096).ok()) ++mismatches;
      }
  CHECK(mismatches == 0);
  // a multi-byte character at every alignment, followed by a control at the end
  for (size_t pos = 0; pos < 32; ++pos) {
    CAPTURE(pos);
    std::string s(pos, 'a');
    s += "\xE2\x82\xAC";
    s += std::string(17, 'b');
    CHECK(validate_note(s, 4096).ok());
    s += '\x1B';
    NoteCheck c = validate_note(s, 4096);
    CHECK(c.error == NoteError::control_char);
    CHECK(c.at == pos + 3 + 17);
  }
}

// ---- strip_one_newline and reasons -------------------------------------------------------

TEST_CASE("protocol: strip_one_newline drops one LF or CRLF and nothing else") {
  CHECK(strip_one_newline("a\n") == "a");
  CHECK(strip_one_newline("a\r\n") == "a");
  CHECK(strip_one_newline("a\n\n") == "a\n");
  CHECK(strip_one_newline("a\r\n\r\n") == "a\r\n");
  CHECK(strip_one_newline("a\r") == "a\r");
  CHECK(strip_one_newline("a\r\r\n") == "a\r");
  CHECK(strip_one_newline("a\n\r") == "a\n\r");
  CHECK(strip_one_newline("\n") == "");
  CHECK(strip_one_newline("\r\n") == "");
  CHECK(strip_one_newline("") == "");
  CHECK(strip_one_newline("a") == "a");
  CHECK(strip_one_newline(" \n") == " ");
}

TEST_CASE("protocol: note_error_reason texts") {
  CHECK(note_error_reason({NoteError::ok, 0}, 4096) == "ok");
  CHECK(note_error_reason({NoteError::empty, 0}, 4096) == "empty note");
  CHECK(note_error_reason({NoteError::too_long, 4096}, 4096) ==
        "note too long (max 4096 bytes)");
  CHECK(note_error_reason({NoteError::too_long, 10}, 10) == "note too long (max 10 bytes)");
  CHECK(note_error_reason({NoteError::bad_utf8, 3}, 4096) == "invalid UTF-8 at byte 3");
  CHECK(note_error_reason({NoteError::control_char, 0}, 4096) ==
        "control character at byte 0");
  CHECK(note_error_reason({NoteError::display_hazard, 17}, 4096) ==
        "line separator or bidi control at byte 17");
  // from real checks
  CHECK(note_error_reason(check("ab\tc"), 4096) == "control character at byte 2");
  CHECK(note_error_reason(check(""), 4096) == "empty note");
  CHECK(note_error_reason(check(std::string(65, 'a'), 64), 64) ==
        "note too long (max 64 bytes)");
  // at most 50 bytes for any offset inside a datagram, so "ERR <reason>\n" fits in 64
  for (NoteError e : {NoteError::bad_utf8, NoteError::control_char, NoteError::display_hazard,
                      NoteError::too_long}) {
    std::string r = note_error_reason({e, 9999999}, 9999999);
    CAPTURE(r);
    CHECK(r.size() <= 50);
    CHECK(4 + r.size() + 1 <= kMaxUdpReply);
  }
}

// ---- times -------------------------------------------------------------------------------

TEST_CASE("protocol: format_time_ms") {
  CHECK(fmt_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(fmt_time(1) == "1970-01-01T00:00:00.001Z");
  CHECK(fmt_time(1709210096789) == "2024-02-29T12:34:56.789Z");  // leap day
  CHECK(fmt_time(951782400000) == "2000-02-29T00:00:00.000Z");   // leap day of a 400-year
  CHECK(fmt_time(4107542400000) == "2100-03-01T00:00:00.000Z");  // 2100 is not leap
  CHECK(fmt_time(1704067199999) == "2023-12-31T23:59:59.999Z");  // end of year
  CHECK(fmt_time(1704067200000) == "2024-01-01T00:00:00.000Z");
  CHECK(fmt_time(1795508130123) == "2026-11-24T08:15:30.123Z");
  CHECK(fmt_time(253402300799999) == "9999-12-31T23:59:59.999Z");
  // millisecond padding
  CHECK(fmt_time(1704067200005) == "2024-01-01T00:00:00.005Z");
  CHECK(fmt_time(1704067200050) == "2024-01-01T00:00:00.050Z");
  CHECK(fmt_time(1704067200500) == "2024-01-01T00:00:00.500Z");
  // before the epoch is clamped to it
  CHECK(fmt_time(-1) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("protocol: parse_time_ms") {
  CHECK(parse_time_ms("1970-01-01T00:00:00.000Z") == 0);
  CHECK(parse_time_ms("2024-02-29T12:34:56.789Z") == 1709210096789);
  CHECK(parse_time_ms("2023-12-31T23:59:59.999Z") == 1704067199999);
  CHECK(parse_time_ms("2026-11-24T08:15:30.123Z") == 1795508130123);
  CHECK(parse_time_ms("2024-01-01T00:00:00.005Z") == 1704067200005);
  CHECK(parse_time_ms("9999-12-31T23:59:59.999Z") == 253402300799999);
}

TEST_CASE("protocol: format_time_ms and parse_time_ms round trip") {
  // a day's worth of odd steps across several years, leap days included
  int bad = 0;
  for (int64_t ms = 0; ms < 4200000000000; ms += 7919993711) {
    std::string s = fmt_time(ms);
    auto back = parse_time_ms(s);
    if (!back || *back != ms) ++bad;
  }
  for (int64_t ms : {int64_t{951782399999}, int64_t{951868799999}, int64_t{1709164800000},
                     int64_t{1709251199999}, int64_t{1709251200000}}) {
    CAPTURE(ms);
    CHECK(parse_time_ms(fmt_time(ms)) == ms);
  }
  CHECK(bad == 0);
}

TEST_CASE("protocol: parse_time_ms refuses malformed times") {
  for (std::string_view s : {
           ""sv,
           "2024-02-29T12:34:56.789"sv,      // no Z
           "2024-02-29T12:34:56.789z"sv,     // lowercase z
           "2024-02-29t12:34:56.789Z"sv,     // lowercase t
           "2024-02-29 12:34:56.789Z"sv,     // space
           "2024-02-29T12:34:56.78Z"sv,      // two millisecond digits
           "2024-02-29T12:34:56.7890Z"sv,    // four
           "2024-02-29T12:34:56Z"sv,         // no fraction
           "2024-02-29T12:34:56,789Z"sv,     // comma
           "2024/02/29T12:34:56.789Z"sv,
           "2024-13-01T00:00:00.000Z"sv,     // month 13
           "2024-00-01T00:00:00.000Z"sv,     // month 0
           "2024-01-00T00:00:00.000Z"sv,     // day 0
           "2024-01-32T00:00:00.000Z"sv,     // day 32
           "2024-01-01T24:00:00.000Z"sv,     // hour 24
           "2024-01-01T00:60:00.000Z"sv,     // minute 60
           "2024-01-01T00:00:61.000Z"sv,     // second 61
           "1969-12-31T23:59:59.999Z"sv,     // before the epoch
           "2024-+1-01T00:00:00.000Z"sv,     // sign
           "2024-01-01T00:00:00.00aZ"sv,
           "x024-01-01T00:00:00.000Z"sv,
           "2024-01-01T00:00:00.000+00:00"sv,
           " 2024-01-01T00:00:00.000Z"sv,
       }) {
    CAPTURE(s);
    CHECK_FALSE(parse_time_ms(s).has_value());
  }
}

TEST_CASE("protocol: parse_time_ms refuses impossible calendar dates") {
  // Regression (fixed in a0728f8): these used to parse and format back as another date, so
  // a note line with such a time did not round-trip (parse_note_line is strict).
  for (std::string_view s : {"2024-02-30T00:00:00.000Z"sv, "2023-02-29T00:00:00.000Z"sv,
                             "2024-04-31T00:00:00.000Z"sv, "2100-02-29T00:00:00.000Z"sv,
                             "2024-01-01T00:00:60.000Z"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_time_ms(s).has_value());
  }
}

// ---- note lines --------------------------------------------------------------------------

TEST_CASE("protocol: append_note_line writes the wire line") {
  CHECK(line_of(7, 1795508130123, "127.0.0.1:40522", "bought milk") ==
        "7\t2026-11-24T08:15:30.123Z\t127.0.0.1:40522\tbought milk\n");
  CHECK(line_of(1, 0, "[::1]:9", "x") == "1\t1970-01-01T00:00:00.000Z\t[::1]:9\tx\n");
  CHECK(line_of(UINT64_MAX, 0, "1.2.3.4:5", "m") ==
        "18446744073709551615\t1970-01-01T00:00:00.000Z\t1.2.3.4:5\tm\n");
  // appends, does not replace
  std::string out = "head\n";
  append_note_line(out, 10, 1, "1.2.3.4:5", "t");
  CHECK(out == "head\n10\t1970-01-01T00:00:00.001Z\t1.2.3.4:5\tt\n");
}

TEST_CASE("protocol: parse_note_line round trip") {
  struct Case {
    uint64_t seq;
    int64_t ms;
    std::string addr, text;
  };
  const Case cases[] = {
      {1, 0, "127.0.0.1:40522", "bought milk"},
      {42, 1709210096789, "[::1]:9527", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
      {UINT64_MAX, 1795508130123, "[2001:db8::1]:65535", std::string(5000, 'z')},
      {9, 253402300799999, "10.0.0.1:0", "a"},
  };
  for (const Case& c : cases) {
    std::string line = line_of(c.seq, c.ms, c.addr, c.text);
    REQUIRE(line.back() == '\n');
    auto n = parse_note_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(n.has_value());
    CHECK(n->seq == c.seq);
    CHECK(parse_time_ms(n->time) == c.ms);
    CHECK(n->addr == c.addr);
    CHECK(n->text == c.text);
    CHECK(line_of(n->seq, *parse_time_ms(n->time), n->addr, n->text) == line);
  }
}

TEST_CASE("protocol: parse_note_line is strict") {
  const std::string t = "2026-11-24T08:15:30.123Z";
  auto bad = [&](const std::string& l) {
    CAPTURE(l);
    CHECK_FALSE(parse_note_line(l).has_value());
  };
  CHECK(parse_note_line("7\t" + t + "\t1.2.3.4:5\tok").has_value());
  // seq
  bad("07\t" + t + "\t1.2.3.4:5\tok");
  bad("0\t" + t + "\t1.2.3.4:5\tok");
  bad("\t" + t + "\t1.2.3.4:5\tok");
  bad("-1\t" + t + "\t1.2.3.4:5\tok");
  bad("+1\t" + t + "\t1.2.3.4:5\tok");
  bad(" 1\t" + t + "\t1.2.3.4:5\tok");
  bad("1 \t" + t + "\t1.2.3.4:5\tok");
  bad("1a\t" + t + "\t1.2.3.4:5\tok");
  bad("18446744073709551616\t" + t + "\t1.2.3.4:5\tok");
  // time
  bad("1\t2026-11-24T08:15:30Z\t1.2.3.4:5\tok");
  bad("1\t2026-11-24 08:15:30.123Z\t1.2.3.4:5\tok");
  bad("1\t\t1.2.3.4:5\tok");
  // address
  bad("1\t" + t + "\t1.2.3.4\tok");
  bad("1\t" + t + "\t[::1]\tok");
  bad("1\t" + t + "\t::1\tok");
  bad("1\t" + t + "\t1.2.3.4:65536\tok");
  bad("1\t" + t + "\t1.2.3.4:\tok");
  bad("1\t" + t + "\tlocalhost:5\tok");
  bad("1\t" + t + "\t\tok");
  bad("1\t" + t + "\t1.2.3.256:5\tok");
  // text
  bad("1\t" + t + "\t1.2.3.4:5\t");
  bad("1\t" + t + "\t1.2.3.4:5\ta\tb");
  bad("1\t" + t + "\t1.2.3.4:5\tok\n");
  bad("1\t" + t + "\t1.2.3.4:5\tok\r");
  bad("1\t" + t + "\t1.2.3.4:5\t\xC3");
  bad("1\t" + t + "\t1.2.3.4:5\t\xE2\x80\xAE");
  // missing fields
  bad("1\t" + t + "\t1.2.3.4:5");
  bad("1\t" + t);
  bad("1");
  bad("");
  bad("1 " + t + " 1.2.3.4:5 ok");
}

TEST_CASE("protocol: addr_ip_part") {
  CHECK(addr_ip_part("1.2.3.4:5") == "1.2.3.4");
  CHECK(addr_ip_part("127.0.0.1:40522") == "127.0.0.1");
  CHECK(addr_ip_part("[::1]:5") == "::1");
  CHECK(addr_ip_part("[2001:db8::1]:65535") == "2001:db8::1");
  CHECK(addr_ip_part("nocolon") == "nocolon");
  CHECK(addr_ip_part("[broken") == "[broken");
  CHECK(addr_ip_part("") == "");
}

// ---- commands ----------------------------------------------------------------------------

TEST_CASE("protocol: parse_command recognises every command in any case") {
  using K = Command::Kind;
  const std::pair<std::string_view, K> words[] = {
      {"HISTORY", K::history}, {"history", K::history}, {"HiStOrY", K::history},
      {"CLIENTS", K::clients}, {"clients", K::clients}, {"FOLLOW", K::follow},
      {"follow", K::follow},   {"STATS", K::stats},     {"Stats", K::stats},
      {"PING", K::ping},       {"ping", K::ping},       {"QUIT", K::quit},
      {"quit", K::quit}};
  for (auto& [w, k] : words) {
    CAPTURE(w);
    Command c = cmd_ok(w);
    CHECK(c.kind == k);
    CHECK_FALSE(c.filters.from.has_value());
    CHECK(c.filters.since_seq == 0);
    CHECK_FALSE(c.filters.last.has_value());
  }
}

TEST_CASE("protocol: parse_command HISTORY options in any order and case") {
  const std::string_view orders[] = {
      "HISTORY FROM 1.2.3.4 SINCE 5 LAST 10", "HISTORY FROM 1.2.3.4 LAST 10 SINCE 5",
      "HISTORY SINCE 5 FROM 1.2.3.4 LAST 10", "HISTORY SINCE 5 LAST 10 FROM 1.2.3.4",
      "HISTORY LAST 10 FROM 1.2.3.4 SINCE 5", "HISTORY LAST 10 SINCE 5 FROM 1.2.3.4",
      "history from 1.2.3.4 since 5 last 10", "History From 1.2.3.4 Since 5 Last 10"};
  for (std::string_view l : orders) {
    CAPTURE(l);
    Command c = cmd_ok(l);
    CHECK(c.kind == Command::Kind::history);
    REQUIRE(c.filters.from.has_value());
    CHECK(c.filters.from->ip == "1.2.3.4");
    CHECK(c.filters.from->port == 0);
    CHECK(c.filters.from->any_port());
    CHECK(c.filters.since_seq == 5);
    REQUIRE(c.filters.last.has_value());
    CHECK(*c.filters.last == 10);
  }
  Command c = cmd_ok("HISTORY LAST 0");
  CHECK(c.filters.last == uint64_t{0});
  c = cmd_ok("HISTORY SINCE 18446744073709551615");
  CHECK(c.filters.since_seq == UINT64_MAX);
  c = cmd_ok("HISTORY FROM 1.2.3.4:80");
  CHECK(c.filters.from->ip == "1.2.3.4");
  CHECK(c.filters.from->port == 80);
  c = cmd_ok("HISTORY FROM [::1]:9527");
  CHECK(c.filters.from->ip == "::1");
  CHECK(c.filters.from->port == 9527);
  c = cmd_ok("HISTORY FROM ::1");
  CHECK(c.filters.from->ip == "::1");
  CHECK(c.filters.from->port == 0);
  c = cmd_ok("HISTORY FROM ::ffff:10.0.0.1");
  CHECK(c.filters.from->ip == "10.0.0.1");
  c = cmd_ok("HISTORY FROM 2001:DB8::1");
  CHECK(c.filters.from->ip == "2001:db8::1");
}

TEST_CASE("protocol: parse_command FOLLOW takes the same filters as HISTORY") {
  Command c = cmd_ok("FOLLOW SINCE 3 FROM 10.0.0.2:7");
  CHECK(c.kind == Command::Kind::follow);
  CHECK(c.filters.since_seq == 3);
  REQUIRE(c.filters.from.has_value());
  CHECK(c.filters.from->ip == "10.0.0.2");
  CHECK(c.filters.from->port == 7);
  CHECK_FALSE(c.filters.last.has_value());
  c = cmd_ok("follow last 5");  // follow --last N: tail -n N -f
  CHECK(c.filters.last == uint64_t{5});
}

TEST_CASE("protocol: parse_command separators, blank lines and a trailing CR") {
  Command c = cmd_ok("HISTORY\tSINCE\t5");
  CHECK(c.filters.since_seq == 5);
  c = cmd_ok("  \t HISTORY   SINCE \t 5 \t ");
  CHECK(c.filters.since_seq == 5);
  c = cmd_ok("HISTORY SINCE 5\r");
  CHECK(c.filters.since_seq == 5);
  CHECK(cmd_ok("PING\r").kind == Command::Kind::ping);
  CHECK(cmd_ok(" ping ").kind == Command::Kind::ping);
  for (std::string_view blank : {""sv, " "sv, "\t"sv, "  \t  "sv, "\r"sv, " \r"sv}) {
    CAPTURE(blank);
    ParsedCommand p = parse_command(blank);
    CHECK_FALSE(p.command.has_value());
    CHECK(p.error.empty());
  }
  // only one CR is dropped
  CHECK(cmd_error("PING\r\r") == "unknown command 'PING?'" + kTry);
}

TEST_CASE("protocol: parse_command errors, exactly") {
  CHECK(cmd_error("HELLO") == "unknown command 'HELLO'" + kTry);
  CHECK(cmd_error("hello world") == "unknown command 'hello'" + kTry);
  CHECK(cmd_error("GET / HTTP/1.1") == "unknown command 'GET'" + kTry);
  CHECK(cmd_error("\x01\x7F\xC3\xA9") == "unknown command '" + std::string(4, '?') + "'" + kTry);
  CHECK(cmd_error(std::string(30, 'A')) == "unknown command '" + std::string(24, 'A') + "...'" +
                                               kTry);
  CHECK(cmd_error(std::string(24, 'B')) == "unknown command '" + std::string(24, 'B') + "'" +
                                               kTry);
  // arguments where none are taken
  CHECK(cmd_error("PING x") == "PING takes no arguments");
  CHECK(cmd_error("ping x") == "PING takes no arguments");
  CHECK(cmd_error("clients all") == "unknown option 'all' for CLIENTS (HOSTS)");
  CHECK(cmd_error("CLIENTS HOSTS HOSTS") == "HOSTS given twice");
  CHECK(cmd_ok("clients hosts").hosts);
  CHECK_FALSE(cmd_ok("CLIENTS").hosts);
  CHECK(cmd_error("STATS now") == "STATS takes no arguments");
  CHECK(cmd_error("Quit now") == "QUIT takes no arguments");
  // duplicates
  CHECK(cmd_error("HISTORY SINCE 1 SINCE 2") == "SINCE given twice");
  CHECK(cmd_error("HISTORY FROM 1.2.3.4 from 1.2.3.5") == "FROM given twice");
  CHECK(cmd_error("HISTORY LAST 1 last 2") == "LAST given twice");
  CHECK(cmd_error("FOLLOW SINCE 1 SINCE 1") == "SINCE given twice");
  // missing values
  CHECK(cmd_error("HISTORY FROM") == "FROM needs an address (IP or IP:PORT)");
  CHECK(cmd_error("HISTORY SINCE") == "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z])");
  CHECK(cmd_error("HISTORY LAST") == "LAST needs a number");
  CHECK(cmd_error("HISTORY SINCE 5 LAST") == "LAST needs a number");
  CHECK(cmd_error("FOLLOW FROM") == "FROM needs an address (IP or IP:PORT)");
  // bad numbers
  CHECK(cmd_error("HISTORY SINCE abc") == "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not 'abc'");
  CHECK(cmd_error("HISTORY LAST -1") == "LAST needs a number, not '-1'");
  CHECK(cmd_error("HISTORY LAST +1") == "LAST needs a number, not '+1'");
  CHECK(cmd_error("HISTORY SINCE 5x") == "SINCE needs a seq or a time (YYYY-MM-DD[THH:MM:SS[.mmm]Z]), not '5x'");
  CHECK(cmd_error("HISTORY SINCE 18446744073709551616") ==
        "SINCE needs a seq or a time, not '18446744073709551616'");
  CHECK(cmd_error("HISTORY LAST 1e3") == "LAST needs a number, not '1e3'");
  // bad addresses
  CHECK(cmd_error("HISTORY FROM nothost") == "bad address 'nothost' for FROM (IP or IP:PORT)");
  CHECK(cmd_error("HISTORY FROM 1.2.3.4:") == "bad address '1.2.3.4:' for FROM (IP or IP:PORT)");
  CHECK(cmd_error("HISTORY FROM 1.2.3.4:65536") ==
        "bad address '1.2.3.4:65536' for FROM (IP or IP:PORT)");
  CHECK(cmd_error("HISTORY FROM 256.1.1.1") == "bad address '256.1.1.1' for FROM (IP or IP:PORT)");
  CHECK(cmd_error("HISTORY FROM [::1]:x") == "bad address '[::1]:x' for FROM (IP or IP:PORT)");
  // unknown options
  CHECK(cmd_error("HISTORY BOGUS 1") ==
        "unknown option 'BOGUS' for HISTORY (FROM, SINCE, UNTIL, LAST, MATCH)");
  CHECK(cmd_error("history since 1 limit 2") ==
        "unknown option 'limit' for HISTORY (FROM, SINCE, UNTIL, LAST, MATCH)");
  CHECK(cmd_error("HISTORY 5") ==
        "unknown option '5' for HISTORY (FROM, SINCE, UNTIL, LAST, MATCH)");
  CHECK(cmd_error("FOLLOW LIMIT 5") == "unknown option 'LIMIT' for FOLLOW (FROM, SINCE, UNTIL, LAST, MATCH)");
}

// ---- marked datagrams --------------------------------------------------------------------

TEST_CASE("protocol: is_marked") {
  CHECK_FALSE(is_marked(""));
  CHECK(is_marked("\x01"));
  CHECK(is_marked("\x01" "DN1 0000000000000001 0 1\nx"));
  CHECK_FALSE(is_marked("a\x01"));
  CHECK_FALSE(is_marked("\x02"));
  // no valid plain note can start with the mark byte
  CHECK(validate_note("\x01" "abc", 4096).error == NoteError::control_char);
}

TEST_CASE("protocol: marked datagram parse and append") {
  const std::string d = "\x01" "DN1 00000000000000ff 3 5\nnote one\nnote two";
  auto m = parse_marked(d);
  REQUIRE(m.has_value());
  CHECK(m->client_id == 0xff);
  CHECK(m->floor == 3);
  CHECK(m->first == 5);
  REQUIRE(m->notes.size() == 2);
  CHECK(m->notes[0] == "note one");
  CHECK(m->notes[1] == "note two");
  // a trailing '\n' after the last note changes nothing
  const std::string d_nl = d + "\n";  // the notes are views into it
  auto m2 = parse_marked(d_nl);
  REQUIRE(m2.has_value());
  REQUIRE(m2->notes.size() == 2);
  CHECK(m2->notes[1] == "note two");

  // append_marked ends every note, the last one too, in '\n'
  std::string out;
  append_marked(out, 0xff, 3, 5, {"note one", "note two"});
  CHECK(out == d_nl);
  out.clear();
  append_marked(out, 0x0123456789abcdefULL, 1, 1, {"x"});
  CHECK(out == "\x01" "DN1 0123456789abcdef 1 1\nx\n");
  out = "keep";
  append_marked(out, 1, 1, 1, {"y"});
  CHECK(out == "keep\x01" "DN1 0000000000000001 1 1\ny\n");
}

TEST_CASE("protocol: marked datagram round trip up to the note limit") {
  std::vector<std::string> texts;
  for (size_t i = 0; i < kMaxMarkedNotes + 1; ++i) texts.push_back("note " + std::to_string(i));
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<std::string_view> max(views.begin(), views.begin() + kMaxMarkedNotes);
  std::string out;
  append_marked(out, UINT64_MAX, 100, 1000, max);
  auto m = parse_marked(out);
  REQUIRE(m.has_value());
  CHECK(m->client_id == UINT64_MAX);
  CHECK(m->floor == 100);
  CHECK(m->first == 1000);
  CHECK(m->notes == max);
  // one more is too many
  out.clear();
  append_marked(out, 1, 1, 1, views);
  CHECK_FALSE(parse_marked(out).has_value());
  CHECK_FALSE(parse_marked(out + "\n").has_value());
}

TEST_CASE("protocol: marked datagram header errors") {
  auto bad = [](const std::string& d) {
    CAPTURE(d);
    CHECK_FALSE(parse_marked(d).has_value());
  };
  CHECK(parse_marked("\x01" "DN1 0000000000000001 5 5\nx").has_value());  // floor == first
  CHECK(parse_marked("\x01" "DN1 1 1 1\nx").has_value());                 // short id
  bad("\x01" "DN1 0000000000000001 6 5\nx");    // floor > first
  bad("\x01" "DN1 0000000000000001 0 0\nx");    // first 0
  bad("\x01" "DN1 0000000000000001 0 1\nx");    // floor 0 (message numbers start at 1)
  bad("\x01" "DN1 000000000000000g 1 1\nx");    // bad hex
  bad("\x01" "DN1 00000000000000001 1 1\nx");   // 17 hex digits
  bad("\x01" "DN1 -1 1 1\nx");
  bad("\x01" "DN1 0000000000000001 x 1\nx");    // bad floor
  bad("\x01" "DN1 0000000000000001 1 1x\nx");   // bad first
  bad("\x01" "DN1 0000000000000001 1 18446744073709551616\nx");
  bad("\x01" "DN2 0000000000000001 1 1\nx");    // wrong magic
  bad("\x01" "dn1 0000000000000001 1 1\nx");
  bad("\x01" "DN1 0000000000000001 1\nx");      // missing field
  bad("\x01" "DN1 0000000000000001 1 1 2\nx");  // extra field
  bad("\x01" "DN1 0000000000000001 1 1");       // no newline after the header
  bad("DN1 0000000000000001 1 1\nx");           // no mark byte
  bad("\x01");
  bad("");
  // message numbers must not overflow: first + count stays representable
  CHECK(parse_marked("\x01" "DN1 1 1 18446744073709551613\na\nb").has_value());
  bad("\x01" "DN1 1 1 18446744073709551614\na\nb");
}

TEST_CASE("protocol: append_marked then parse_marked keeps an empty last note") {
  // Regression (fixed in a0728f8): append_marked of {"a", ""} used to write "...\na",
  // which parses as {"a"}; now every note ends in '\n'.
  std::string out;
  append_marked(out, 1, 1, 1, {"a", ""});
  auto m = parse_marked(out);
  REQUIRE(m.has_value());
  REQUIRE(m->notes.size() == 2);
  CHECK(m->notes[0] == "a");
  CHECK(m->notes[1] == "");
  out.clear();
  append_marked(out, 1, 1, 1, {""});
  m = parse_marked(out);
  REQUIRE(m.has_value());
  REQUIRE(m->notes.size() == 1);
  CHECK(m->notes[0] == "");
}

TEST_CASE("protocol: format_marked_reply") {
  MarkedReply ok{MarkedReply::Kind::ok, 5, 2, 10, 0, ""};
  CHECK(format_marked_reply(ok) == "OK 5 2 10\n");
  ok.reason = "ignored without a mask";
  CHECK(format_marked_reply(ok) == "OK 5 2 10\n");
  MarkedReply mixed{MarkedReply::Kind::ok, 5, 3, 10, 0x5, "empty note"};
  CHECK(format_marked_reply(mixed) == "OK 5 3 10 5 empty note\n");
  MarkedReply all{MarkedReply::Kind::ok, 1, 64, 0, UINT64_MAX, "x"};
  CHECK(format_marked_reply(all) == "OK 1 64 0 ffffffffffffffff x\n");
  CHECK(format_marked_reply({MarkedReply::Kind::wait, 7, 0, 0, 0, ""}) == "WAIT 7\n");
  CHECK(format_marked_reply({MarkedReply::Kind::err, 5, 0, 0, 0, "rate limited"}) ==
        "ERR 5 rate limited\n");
}

TEST_CASE("protocol: format_marked_reply never exceeds 64 bytes") {
  MarkedReply r{MarkedReply::Kind::ok, 123456, 64, 9876543, 0xfedcba9876543210ULL,
                "line separator or bidi control at byte 4095"};
  std::string s = format_marked_reply(r);
  CHECK(s.size() == kMaxUdpReply);
  CHECK(s.back() == '\n');
  CHECK(s == "OK 123456 64 9876543 fedcba9876543210 line separator or bidi co\n");
  MarkedReply e{MarkedReply::Kind::err, UINT64_MAX, 0, 0, 0, std::string(100, 'r')};
  s = format_marked_reply(e);
  CHECK(s.size() == kMaxUdpReply);
  CHECK(s == "ERR 18446744073709551615 " + std::string(38, 'r') + "\n");
  // exactly at the limit: nothing is cut
  MarkedReply fit{MarkedReply::Kind::err, 1, 0, 0, 0, std::string(57, 'f')};
  s = format_marked_reply(fit);
  CHECK(s.size() == 64);
  CHECK(s == "ERR 1 " + std::string(57, 'f') + "\n");
  fit.reason += 'g';
  CHECK(format_marked_reply(fit) == s);
}

TEST_CASE("protocol: parse_marked_reply") {
  auto r = parse_marked_reply("OK 5 2 10\n");
  REQUIRE(r.has_value());
  CHECK(r->kind == MarkedReply::Kind::ok);
  CHECK(r->first == 5);
  CHECK(r->count == 2);
  CHECK(r->seq == 10);
  CHECK(r->refused_mask == 0);
  CHECK(r->reason == "");

  r = parse_marked_reply("OK 5 3 10 5 empty note\n");
  REQUIRE(r.has_value());
  CHECK(r->refused_mask == 5);
  CHECK(r->reason == "empty note");

  r = parse_marked_reply("WAIT 7\n");
  REQUIRE(r.has_value());
  CHECK(r->kind == MarkedReply::Kind::wait);
  CHECK(r->first == 7);

  r = parse_marked_reply("ERR 5 rate limited\n");
  REQUIRE(r.has_value());
  CHECK(r->kind == MarkedReply::Kind::err);
  CHECK(r->first == 5);
  CHECK(r->reason == "rate limited");

  r = parse_marked_reply("ERR malformed marked datagram\n");
  REQUIRE(r.has_value());
  CHECK(r->kind == MarkedReply::Kind::err);
  CHECK(r->first == 0);
  CHECK(r->reason == "malformed marked datagram");

  for (std::string_view s : {""sv, "\n"sv, "OK\n"sv, "OK 1 2\n"sv, "OK a 2 3\n"sv,
                             "OK 1 2 3 zz why\n"sv, "WAIT\n"sv, "WAIT 1 2\n"sv, "WAIT x\n"sv,
                             "HELLO 1 2 3\n"sv, "ok 1 2 3\n"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_marked_reply(s).has_value());
  }
}

TEST_CASE("protocol: marked replies round trip") {
  const MarkedReply replies[] = {
      {MarkedReply::Kind::ok, 1, 1, 1, 0, ""},
      {MarkedReply::Kind::ok, 99, 64, 123456, 0x8000000000000001ULL, "empty note"},
      {MarkedReply::Kind::wait, 42, 0, 0, 0, ""},
      {MarkedReply::Kind::err, 17, 0, 0, 0, "store unavailable"},
      {MarkedReply::Kind::err, 17, 0, 0, 0, ""},
  };
  for (const MarkedReply& r : replies) {
    std::string s = format_marked_reply(r);
    CAPTURE(s);
    auto p = parse_marked_reply(s);
    REQUIRE(p.has_value());
    CHECK(p->kind == r.kind);
    CHECK(p->first == r.first);
    CHECK(p->count == r.count);
    CHECK(p->seq == r.seq);
    CHECK(p->refused_mask == r.refused_mask);
    CHECK(p->reason == r.reason);
  }
}
