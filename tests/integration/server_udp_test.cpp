// server_udp_test.cpp — UDP note intake against the real dailynetd: plain notes and every
// refusal of SPEC.md (exact reply, nothing stored, no seq taken), oversized datagrams, the
// 64-byte reply cap, marked datagrams (exactly once, also across kill -9), dual stack.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

bool reply_shape_ok(const std::optional<std::string>& r) {
  return r && !r->empty() && r->size() <= 64 && r->back() == '\n' &&
         r->find('\n') == r->size() - 1;
}

// The notes in the store file, after checking that HISTORY returns the same.
std::vector<std::string> stored_checked(const ServerProcess& s) {
  std::vector<std::string> texts = stored_texts(s);
  CHECK(history_texts(s.tcp_port()) == texts);
  return texts;
}

}  // namespace

TEST_CASE("server: UDP plain notes get OK <seq>; one trailing \\n or \\r\\n is dropped") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  CHECK(u.ask("one") == "OK 1\n");
  CHECK(u.ask("two\n") == "OK 2\n");
  CHECK(u.ask("three\r\n") == "OK 3\n");
  // --max-note counts the bytes after the terminator is dropped: exactly 10 is fine.
  CHECK(u.ask("0123456789") == "OK 4\n");
  CHECK(u.ask("0123456789\n") == "OK 5\n");
  CHECK(u.ask("0123456789\r\n") == "OK 6\n");
  CHECK(u.ask("01234567890") == "ERR note too long (max 10 bytes)\n");
  CHECK(u.ask("01234567890\n") == "ERR note too long (max 10 bytes)\n");
  CHECK(u.ask(" spaced ") == "OK 7\n");  // inner and outer spaces are kept as sent
  // Only ONE terminator is dropped: what is left must still be a valid note.
  CHECK(u.ask("four\n\n") == "ERR control character at byte 4\n");
  CHECK(u.ask("five\r\n\r\n") == "ERR control character at byte 4\n");
  CHECK(u.ask("last") == "OK 8\n");
  std::vector<std::string> want = {"one",          "two",          "three",    "0123456789",
                                   "0123456789",   "0123456789",   " spaced ", "last"};
  CHECK(stored_checked(s) == want);
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(h.size() == 9);
  CHECK(h.back() == "END 8");
  CHECK(texts_of(h) == want);
  CHECK(field_of(h, 0) == std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8"});
  CHECK(u.recv(200) == std::nullopt);  // exactly one reply per datagram: none left over
}

TEST_CASE("server: UDP refusals: exact reason, nothing stored, no seq taken") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  struct Case {
    std::string what, payload, reply;
  };
  const std::string utf = "ERR invalid UTF-8 at byte ";
  const std::string ctl = "ERR control character at byte ";
  const std::string haz = "ERR line separator or bidi control at byte ";
  const std::vector<Case> cases = {
      {"empty datagram", "", "ERR empty note\n"},
      {"only \\n", "\n", "ERR empty note\n"},
      {"only \\r\\n", "\r\n", "ERR empty note\n"},
      {"too long", "abcdefghijk", "ERR note too long (max 10 bytes)\n"},
      {"overlong C0 80", "a\xC0\x80", utf + "1\n"},
      {"overlong C1 BF at start", "\xC1\xBF", utf + "0\n"},
      {"overlong E0 80 AF", "a\xE0\x80\xAF", utf + "1\n"},
      {"overlong F0 80 80 AF", "a\xF0\x80\x80\xAF", utf + "1\n"},
      {"surrogate ED A0 80", "a\xED\xA0\x80", utf + "1\n"},
      {"surrogate ED BF BF", "ab\xED\xBF\xBF", utf + "2\n"},
      {"truncated E2 82 at end", "a\xE2\x82", utf + "1\n"},
      {"truncated E2 82 then ASCII", "a\xE2\x82z", utf + "1\n"},
      {"truncated F0 9F 98 at end", "a\xF0\x9F\x98", utf + "1\n"},
      {"stray continuation 80", "a\x80", utf + "1\n"},
      {"F5 lead", "a\xF5\x80\x80\x80", utf + "1\n"},
      {"FF byte", "\xFF", utf + "0\n"},
      {"above U+10FFFF (F4 90)", "a\xF4\x90\x80\x80", utf + "1\n"},
      {"TAB", "a\tb", ctl + "1\n"},
      {"NUL", std::string("a\0b", 3), ctl + "1\n"},
      {"ESC", "a\x1b[31m", ctl + "1\n"},
      {"0x02 first", "\x02x", ctl + "0\n"},
      {"inner \\n", "a\nb", ctl + "1\n"},
      {"inner \\r", "a\rb", ctl + "1\n"},
      {"lone trailing \\r", "ab\r", ctl + "2\n"},
      {"\\r left after one \\r\\n dropped", "ab\r\r\n", ctl + "2\n"},
      {"DEL", "a\x7f", ctl + "1\n"},
      {"C1 NEL C2 85", "a\xC2\x85", ctl + "1\n"},
      {"C1 C2 80", "a\xC2\x80", ctl + "1\n"},
      {"C1 C2 9F", "a\xC2\x9F", ctl + "1\n"},
      {"U+2028", "a\xE2\x80\xA8", haz + "1\n"},
      {"U+2029", "a\xE2\x80\xA9", haz + "1\n"},
      {"U+202A", "a\xE2\x80\xAA", haz + "1\n"},
      {"U+202B", "a\xE2\x80\xAB", haz + "1\n"},
      {"U+202C", "a\xE2\x80\xAC", haz + "1\n"},
      {"U+202D", "a\xE2\x80\xAD", haz + "1\n"},
      {"U+202E", "a\xE2\x80\xAE", haz + "1\n"},
      {"U+2066", "a\xE2\x81\xA6", haz + "1\n"},
      {"U+2067", "a\xE2\x81\xA7", haz + "1\n"},
      {"U+2068", "a\xE2\x81\xA8", haz + "1\n"},
      {"U+2069", "a\xE2\x81\xA9", haz + "1\n"},
  };
  // Neighbours of the refused ranges that are valid notes.
  const std::vector<std::string> fine = {
      "\xC2\xA0",          // U+00A0, just above C1
      "\xE2\x80\xA7",      // U+2027
      "\xE2\x80\xAF",      // U+202F
      "\xE2\x81\xA5",      // U+2065
      "\xE2\x81\xAA",      // U+206A
      "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
      "\xEE\x80\x80",      // U+E000, just above them
      "\xF4\x8F\xBF\xBF",  // U+10FFFF
      "\xF0\x9F\x98\x80",  // an emoji
      "~",
  };
  std::vector<std::string> want_stored;
  uint64_t seq = 0;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    auto r = u.ask(c.payload);
    CHECK(r == c.reply);
    CHECK(reply_shape_ok(r));
    // The next valid note takes the next seq: the refusal took none.
    std::string ok = "ok" + std::to_string(seq + 1);
    CHECK(u.ask(ok) == "OK " + std::to_string(++seq) + "\n");
    want_stored.push_back(ok);
  }
  for (const std::string& f : fine) {
    CAPTURE(f);
    CHECK(u.ask(f) == "OK " + std::to_string(++seq) + "\n");
    want_stored.push_back(f);
  }
  CHECK(stored_checked(s) == want_stored);
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  CHECK(texts_of(h) == want_stored);
  CHECK(h.back() == "END " + std::to_string(seq));
  // Every refusal was counted by reason; none went into the store.
  CHECK(stat_value(s.tcp_port(), "notes_stored") == static_cast<int64_t>(seq));
  CHECK(stat_value(s.tcp_port(), "udp_refused") == static_cast<int64_t>(cases.size()));
  CHECK(stat_value(s.tcp_port(), "udp_refused_empty") == 3);
  CHECK(stat_value(s.tcp_port(), "udp_refused_too_long") == 1);
  CHECK(stat_value(s.tcp_port(), "udp_refused_bad_utf8") == 13);
  CHECK(stat_value(s.tcp_port(), "udp_refused_control_char") == 12);
  CHECK(stat_value(s.tcp_port(), "udp_refused_display_hazard") == 11);
}

TEST_CASE("server: UDP datagrams larger than the receive slot are refused whole") {
  ServerProcess s;  // default --max-note 4096
  REQUIRE(s.started());
  Udp u(s.udp_port());
  CHECK(u.ask(std::string(4096, 'x')) == "OK 1\n");
  CHECK(u.ask(std::string(4096, 'y') + "\r\n") == "OK 2\n");
  auto r = u.ask(std::string(4097, 'z'));
  CHECK(r == "ERR note too long (max 4096 bytes)\n");
  r = u.ask(std::string(20000, 'z'));
  CHECK(r == "ERR datagram too large\n");
  CHECK(reply_shape_ok(r));
  r = u.ask(std::string(65507, 'z'));  // the largest IPv4 UDP payload
  CHECK(r == "ERR datagram too large\n");
  // A marked datagram of several notes past the slot is refused the same way, nothing taken.
  r = u.ask(marked(7, 1, 1, {"short", std::string(20000, 'm')}));
  CHECK(r == "ERR datagram too large\n");
  // One marked note past the slot (the client sends a long note alone): its header is read
  // and that note refused by name, its message number settled (exactly once).
  r = u.ask(marked(8, 1, 1, {std::string(20000, 'm')}));
  CAPTURE(r);
  CHECK((r && r->rfind("OK 1 1 ", 0) == 0 &&
         r->find("note too long (max 4096 bytes)") != std::string::npos));
  CHECK(reply_shape_ok(r));
  CHECK(u.ask("after") == "OK 3\n");
  CHECK(stored_checked(s) ==
        std::vector<std::string>{std::string(4096, 'x'), std::string(4096, 'y'), "after"});
  CHECK(stat_value(s.tcp_port(), "udp_refused_truncated") == 3);
}

TEST_CASE("server: UDP CJK and other multi-byte text round-trips byte for byte") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const std::vector<std::string> notes = {
      "你好，世界", "日本語のメモ：牛乳を買う", "한국어 노트", "emoji 😀 ok", "ÄÖÜ ß café",
      "𠜎𠜱𠝹 (astral CJK)", "עברית and العربية"};
  for (size_t i = 0; i < notes.size(); ++i)
    CHECK(u.ask(notes[i] + "\n") == "OK " + std::to_string(i + 1) + "\n");
  CHECK(stored_checked(s) == notes);
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  CHECK(texts_of(h) == notes);
  // The store file is the wire format: HISTORY sends it byte for byte.
  std::string joined;
  for (size_t i = 0; i + 1 < h.size(); ++i) joined += h[i] + "\n";
  CHECK(joined == read_file(s.store_path()));
}

TEST_CASE("server: every UDP reply is at most 64 bytes, also with the longest numbers") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  // 64 refused notes with a 20-digit message number: the natural reply is longer than 64.
  std::vector<std::string> bad(64, std::string(11, 'x'));
  auto r = u.ask(marked(0xfeedfacecafebeefULL, 18446744073709551000ULL, 18446744073709551000ULL,
                        bad));
  REQUIRE(r);
  CHECK(reply_shape_ok(r));
  CHECK(r->rfind("OK 18446744073709551000 64 0 ffffffffffffffff ", 0) == 0);
  // Long ERR replies too.
  r = u.ask("\x01" + std::string(5000, 'A'));
  CHECK(r == "ERR malformed marked datagram\n");
  CHECK(reply_shape_ok(r));
  CHECK(file_size(s.store_path()) == 0);
  CHECK(history_texts(s.tcp_port()).empty());
}

TEST_CASE("server: marked datagram gets OK <first> <count> <seq>; a byte-identical retry is "
          "answered the same and stored once") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const uint64_t id = 0x0123456789abcdefULL;
  std::string d1 = marked(id, 1, 1, {"alpha", "beta", "gamma"});
  CHECK(u.ask(d1) == "OK 1 3 1\n");
  CHECK(u.ask(d1) == "OK 1 3 1\n");  // lost acknowledgement: the retry
  CHECK(u.ask("plain") == "OK 4\n");
  std::string d2 = marked(id, 4, 4, {"delta"});
  CHECK(u.ask(d2) == "OK 4 1 5\n");
  CHECK(u.ask(d1) == "OK 1 3 1\n");  // a late duplicate of the first one
  CHECK(u.ask(d2) == "OK 4 1 5\n");
  // A retry from another source port (a new socket) is still the same client id.
  Udp u2(s.udp_port());
  CHECK(u2.ask(d2) == "OK 4 1 5\n");
  // The '\n' after the last note is optional (append_marked writes one).
  CHECK(u.ask("\x01" "DN1 0123456789abcdef 5 5\neps") == "OK 5 1 6\n");
  // A datagram that repeats message 5 and adds 6: only 6 is new.
  CHECK(u.ask(marked(id, 5, 5, {"eps", "zeta"})) == "OK 6 1 7\n");
  CHECK(stored_checked(s) ==
        std::vector<std::string>{"alpha", "beta", "gamma", "plain", "delta", "eps", "zeta"});
  CHECK(stat_value(s.tcp_port(), "udp_duplicates_answered") >= 6);
  // Two clients with different ids do not interfere.
  CHECK(u.ask(marked(id + 1, 1, 1, {"other"})) == "OK 1 1 8\n");
}

TEST_CASE("server: marked datagram out of order gets WAIT <next> and is not stored") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const uint64_t id = 0xabcdef0011223344ULL;
  CHECK(u.ask(marked(id, 1, 1, {"m1"})) == "OK 1 1 1\n");
  CHECK(u.ask(marked(id, 1, 3, {"m3"})) == "WAIT 2\n");
  CHECK(u.ask(marked(id, 1, 4, {"m4", "m5"})) == "WAIT 2\n");
  CHECK(stored_checked(s) == std::vector<std::string>{"m1"});
  CHECK(u.ask(marked(id, 2, 2, {"m2", "m3"})) == "OK 2 2 2\n");
  CHECK(u.ask(marked(id, 4, 4, {"m4", "m5"})) == "OK 4 2 4\n");
  CHECK(stored_checked(s) == std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"});
  // The floor moves next up: messages below it are settled on the client's side.
  CHECK(u.ask(marked(id, 10, 10, {"m10"})) == "OK 10 1 6\n");
  // A client the server has never seen starts at its floor: if its first datagram was lost,
  // the second one waits for it instead of skipping it.
  const uint64_t fresh = 0x9999888877776666ULL;
  CHECK(u.ask(marked(fresh, 1, 3, {"f3"})) == "WAIT 1\n");
  CHECK(u.ask(marked(fresh, 1, 1, {"f1", "f2"})) == "OK 1 2 7\n");
  CHECK(u.ask(marked(fresh, 1, 3, {"f3"})) == "OK 3 1 9\n");
  CHECK(stored_checked(s) ==
        std::vector<std::string>{"m1", "m2", "m3", "m4", "m5", "m10", "f1", "f2", "f3"});
  CHECK(stat_value(s.tcp_port(), "udp_out_of_order") == 3);
}

TEST_CASE("server: packed marked datagram with bad notes: mask and reason, the rest stored") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const uint64_t id = 0x1111222233334444ULL;
  auto r = u.ask(marked(id, 1, 1, {"n1", "b\tx", "n2"}));
  CHECK(r == "OK 1 3 1 2 control character at byte 1\n");
  CHECK(reply_shape_ok(r));
  // Bits 2, 4 and 5 (messages 6, 8, 9): mask 34, the first refusal's reason.
  r = u.ask(marked(id, 4, 4, {"n3", "n4", "\xff", "n5", "a\xE2\x80\xA8", "elevenbytes"}));
  CHECK(r == "OK 4 6 3 34 invalid UTF-8 at byte 0\n");
  // An empty note inside a marked datagram is refused like an empty plain one, also last.
  r = u.ask(marked(id, 10, 10, {"n6", "", "n7"}));
  CHECK(r == "OK 10 3 6 2 empty note\n");
  r = u.ask(marked(id, 13, 13, {"n8", ""}));
  CHECK(r == "OK 13 2 8 2 empty note\n");
  CHECK(stored_checked(s) ==
        std::vector<std::string>{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"});
  // A retry is answered with the same seqs, mask and reason (the table keeps the reason).
  auto again = u.ask(marked(id, 1, 1, {"n1", "b\tx", "n2"}));
  CHECK(again == "OK 1 3 1 2 control character at byte 1\n");
  REQUIRE(again);
  auto p = parse_marked_reply(*again);
  REQUIRE(p);
  CHECK(p->kind == MarkedReply::Kind::ok);
  CHECK(p->first == 1);
  CHECK(p->count == 3);
  CHECK(p->seq == 1);
  CHECK(p->refused_mask == 2);
  CHECK(stored_checked(s).size() == 8);
  // All notes refused: nothing stored, seq 0.
  r = u.ask(marked(id, 15, 15, {"\x7f", "", "x\ty"}));
  CHECK(r == "OK 15 3 0 7 control character at byte 0\n");
  CHECK(u.ask("plain") == "OK 9\n");
}

TEST_CASE("server: malformed marked datagrams get ERR malformed marked datagram") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const std::string id = "0123456789abcdef";
  std::vector<std::string> too_many(65, "n");
  const std::vector<std::string> bad = {
      "\x01",
      "\x01\n",
      "\x01" "DN1 " + id + " 1 1",                 // no newline after the header
      "\x01" "DN1 zz 1 1\nnote",                   // id not hex
      "\x01" "DN1 " + id + "00 1 1\nnote",         // id longer than 16 digits
      "\x01" "DN1 " + id + " 2 1\nnote",           // floor above first
      "\x01" "DN1 " + id + " 0 0\nnote",           // message 0
      "\x01" "DN1 " + id + " 1\nnote",             // a field missing
      "\x01" "DN1 " + id + " 1 1 9\nnote",         // a field too many
      "\x01" "DN2 " + id + " 1 1\nnote",           // unknown version
      "\x01" "DN1 " + id + " -1 1\nnote",
      "\x01" "DN1 " + id + " 1 18446744073709551616\nnote",  // 2^64
      marked(5, 1, 1, too_many),                   // 65 notes, the limit is 64
      marked(5, 1, 18446744073709551615ULL, {"a", "b"}),      // numbers would wrap
  };
  for (const std::string& d : bad) {
    CAPTURE(d.substr(0, 40));
    auto r = u.ask(d);
    CHECK(r == "ERR malformed marked datagram\n");
  }
  CHECK(file_size(s.store_path()) == 0);
  CHECK(history_texts(s.tcp_port()).empty());
  CHECK(u.ask(marked(5, 1, 1, std::vector<std::string>(64, "n"))) == "OK 1 64 1\n");
  CHECK(stat_value(s.tcp_port(), "udp_refused_malformed") == static_cast<int64_t>(bad.size()));
}

TEST_CASE("server: a marked retry after kill -9 and restart gets the original seq and is not "
          "stored again") {
  TempDir t;
  const std::string data = t.path() + "/data";
  const uint64_t id = 0x5555aaaa5555aaaaULL;
  std::string d1 = marked(id, 1, 1, {"x1", "x2"});
  std::string d2 = marked(id, 3, 3, {"y1"});
  uint16_t port = 0;
  {
    ServerProcess s1({}, data);
    REQUIRE(s1.started());
    port = s1.udp_port();
    Udp u(port);
    CHECK(u.ask(d1) == "OK 1 2 1\n");
    CHECK(u.ask("plain") == "OK 3\n");
    CHECK(u.ask(d2) == "OK 3 1 4\n");
    CHECK(s1.stop(9) == 128 + 9);
  }
  {
    // Same port (the datagram is retried to where it was sent).
    ServerProcess s2({"--port", std::to_string(port)}, data);
    REQUIRE(s2.started());
    CHECK(s2.udp_port() == port);
    CHECK(s2.start_line().find(" notes=4") != std::string::npos);
    Udp u(port);
    CHECK(u.ask(d2) == "OK 3 1 4\n");
    CHECK(u.ask(d1) == "OK 1 2 1\n");
    CHECK(u.ask(marked(id, 3, 3, {"y1", "y2"})) == "OK 4 1 5\n");
    CHECK(stored_checked(s2) == std::vector<std::string>{"x1", "x2", "plain", "y1", "y2"});
    CHECK(u.ask(marked(id, 4, 6, {"y3"})) == "WAIT 5\n");  // order survives the restart
    CHECK(s2.stop(9) == 128 + 9);
  }
  {
    // And on any new port: the dedupe state is in the store, not tied to the socket.
    ServerProcess s3({}, data);
    REQUIRE(s3.started());
    Udp u(s3.udp_port());
    CHECK(u.ask(d1) == "OK 1 2 1\n");
    CHECK(u.ask(marked(id, 3, 3, {"y1", "y2"})) == "OK 3 2 4\n");
    CHECK(u.ask(marked(id, 5, 5, {"y3"})) == "OK 5 1 6\n");
    CHECK(stored_checked(s3) == std::vector<std::string>{"x1", "x2", "plain", "y1", "y2", "y3"});
  }
}

// Regression: the refused message used to be missing from the table rebuilt at start, and
// the retry was answered "OK 1 3 1" (p2 as seq 3). Fixed in a0728f8.
TEST_CASE("server: a retry after restart of a packed datagram with a refused note keeps its "
          "mask") {
  TempDir t;
  const std::string data = t.path() + "/data";
  const uint64_t id = 0x7777000077770000ULL;
  std::string d = marked(id, 1, 1, {"p1", "bad\x7f", "p2"});
  {
    ServerProcess s1({}, data);
    REQUIRE(s1.started());
    Udp u(s1.udp_port());
    CHECK(u.ask(d) == "OK 1 3 1 2 control character at byte 3\n");
    CHECK(s1.stop(9) == 128 + 9);
  }
  ServerProcess s2({}, data);
  REQUIRE(s2.started());
  Udp u(s2.udp_port());
  auto r = u.ask(d);
  REQUIRE(r);
  auto p = parse_marked_reply(*r);
  REQUIRE(p);
  CAPTURE(*r);
  // p1 is seq 1 and p2 is seq 2: the reply must say note 2 was refused, or the client
  // would think p2 is seq 3.
  CHECK(p->kind == MarkedReply::Kind::ok);
  CHECK(p->first == 1);
  CHECK(p->count == 3);
  CHECK(p->seq == 1);
  CHECK(p->refused_mask == 2);
  CHECK(stored_checked(s2) == std::vector<std::string>{"p1", "p2"});
}

TEST_CASE("server: --host :: is dual stack; IPv4 senders are plain IPv4, IPv6 in brackets") {
  if (!ipv6_loopback_available()) {
    MESSAGE("IPv6 loopback unavailable: skipped");
    return;
  }
  ServerProcess s({"--host", "::"});
  REQUIRE(s.started());
  CHECK(s.start_line().find("udp=[::]:" + std::to_string(s.udp_port())) != std::string::npos);
  Udp u4(s.udp_port(), "127.0.0.1");
  Udp u6(s.udp_port(), "::1");
  CHECK(u4.ask("from v4") == "OK 1\n");
  CHECK(u6.ask("from v6") == "OK 2\n");
  const std::string a4 = "127.0.0.1:" + std::to_string(u4.local_port());
  const std::string a6 = "[::1]:" + std::to_string(u6.local_port());
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(h.size() == 3);
  CHECK(field_of(h, 2) == std::vector<std::string>{a4, a6});
  CHECK(read_file(s.store_path()).find("::ffff:") == std::string::npos);
  CHECK(texts_of(tcp_command(s.tcp_port(), "HISTORY FROM 127.0.0.1")) ==
        std::vector<std::string>{"from v4"});
  CHECK(texts_of(tcp_command(s.tcp_port(), "HISTORY FROM " + a4)) ==
        std::vector<std::string>{"from v4"});
  CHECK(texts_of(tcp_command(s.tcp_port(), "HISTORY FROM ::ffff:127.0.0.1")) ==
        std::vector<std::string>{"from v4"});
  CHECK(texts_of(tcp_command(s.tcp_port(), "HISTORY FROM ::1")) ==
        std::vector<std::string>{"from v6"});
  CHECK(texts_of(tcp_command(s.tcp_port(), "HISTORY FROM " + a6)) ==
        std::vector<std::string>{"from v6"});
  auto c = tcp_command(s.tcp_port(), "CLIENTS");
  REQUIRE(c.size() == 3);
  CHECK(split_tabs(c[0])[0] == a4);
  CHECK(split_tabs(c[1])[0] == a6);
  // TCP over both families reaches the same server.
  Tcp t6(s.tcp_port(), "::1");
  REQUIRE(t6.connected());
  CHECK(t6.send("PING\n"));
  CHECK(t6.line() == "PONG");
  // Listening on every address without --allow is worth a warning that says so.
  CHECK(s.wait_log("warning: listening on :: without --allow"));
  // --allow sees an IPv4 sender as IPv4 on a dual-stack socket too.
  {
    ServerProcess a({"--host", "::", "--allow", "127.0.0.0/8"});
    REQUIRE(a.started());
    Udp v4(a.udp_port(), "127.0.0.1");
    Udp v6(a.udp_port(), "::1");
    CHECK(v4.ask("allowed") == "OK 1\n");
    CHECK(v6.ask("dropped", 300) == std::nullopt);
    CHECK(stored_checked(a) == std::vector<std::string>{"allowed"});
    CHECK(a.log().find("warning") == std::string::npos);
  }
  // And an IPv6 network allows IPv6 senders only.
  ServerProcess b({"--host", "::", "--allow", "::1/128"});
  REQUIRE(b.started());
  Udp w4(b.udp_port(), "127.0.0.1");
  Udp w6(b.udp_port(), "::1");
  CHECK(w4.ask("dropped", 300) == std::nullopt);
  CHECK(w6.ask("allowed") == "OK 1\n");
  Tcp t4(b.tcp_port(), "127.0.0.1");
  CHECK(t4.closed(2000));
  CHECK(t4.line(0) == std::nullopt);
  CHECK(stored_texts(b) == std::vector<std::string>{"allowed"});
}

TEST_CASE("server: notes that arrive together are committed with one write and one fdatasync") {
  ServerProcess s;  // --fsync always
  REQUIRE(s.started());
  Tcp f(s.tcp_port());
  CHECK(f.send("FOLLOW\n"));
  Udp u(s.udp_port());
  CHECK(u.ask("warm-up") == "OK 1\n");
  REQUIRE(f.line());
  int64_t commits0 = stat_value(s.tcp_port(), "store_commits");
  int64_t syncs0 = stat_value(s.tcp_port(), "store_syncs");
  // Hold the server still while 200 datagrams queue up in its socket, then let it go.
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);
  bool sent_all = true;
  for (int i = 0; i < 200; ++i) sent_all = u.send("together " + std::to_string(i)) && sent_all;
  REQUIRE(::kill(s.pid(), SIGCONT) == 0);
  CHECK(sent_all);
  std::vector<std::string> replies;
  for (int i = 0; i < 200; ++i) {
    auto r = u.recv();
    if (!r) break;
    replies.push_back(*r);
  }
  REQUIRE(replies.size() == 200);
  for (size_t i = 0; i < replies.size(); ++i)
    CHECK(replies[i] == "OK " + std::to_string(i + 2) + "\n");
  CHECK(stat_value(s.tcp_port(), "store_commits") == commits0 + 1);
  CHECK(stat_value(s.tcp_port(), "store_syncs") == syncs0 + 1);
  auto all = split_lines(f.read_through("\ttogether 199\n", 5000));
  CHECK(all.size() == 200);
  CHECK(stored_checked(s).size() == 201);
}
