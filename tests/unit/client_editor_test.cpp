// client_editor_test.cpp — the interactive line editor's pure parts (issue 12): key decoding
// (CSI / SS3 sequences, bracketed paste split over reads, UTF-8 split over reads), paste
// detection without bracketed paste, UTF-8 cursor steps, column widths (CJK, emoji), the
// line buffer's edits, recall, and the layout / redraw of a line that wraps.
#include <doctest/doctest.h>
#include <locale.h>

#include <string>
#include <vector>

#include "../../client/line_editor.hpp"
#include "../support/files.hpp"

using namespace client;

namespace {

std::vector<Key> keys(const std::vector<std::string>& reads, bool flush = false) {
  InputDecoder d;
  std::vector<Key> out;
  for (const auto& r : reads) d.feed(r, out);
  if (flush) d.flush(out);
  return out;
}

std::vector<KeyKind> kinds(const std::vector<Key>& ks) {
  std::vector<KeyKind> v;
  for (const auto& k : ks) v.push_back(k.kind);
  return v;
}

}  // namespace

TEST_CASE("editor: cursor keys as CSI and SS3 sequences, control keys") {
  using K = KeyKind;
  CHECK(kinds(keys({"\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1bOD\x1b[H\x1b[F\x1bOH\x1bOF"})) ==
        std::vector<K>{K::up, K::down, K::right, K::left, K::up, K::left, K::home, K::end,
                       K::home, K::end});
  CHECK(kinds(keys({"\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[3~"})) ==
        std::vector<K>{K::home, K::end, K::home, K::end, K::del});
  CHECK(kinds(keys({"\x1b[1;5C\x1b[1;5D\x1b" "b\x1b" "f"})) ==
        std::vector<K>{K::word_right, K::word_left, K::word_left, K::word_right});
  CHECK(kinds(keys({"\x01\x05\x02\x06\x0b\x15\x17\x0c\x03\x04\x1a\x7f\x08\n\r"})) ==
        std::vector<K>{K::home, K::end, K::left, K::right, K::kill_end, K::kill_start,
                       K::kill_word, K::redraw, K::interrupt, K::eof, K::suspend,
                       K::backspace, K::backspace, K::enter, K::enter});
  CHECK(kinds(keys({"\r\n"})) == std::vector<K>{K::enter});  // CR LF is one Enter
  // An unknown sequence is swallowed whole, never typed as text.
  CHECK(kinds(keys({"\x1b[15~x"})) == std::vector<K>{K::ignored, K::text});
}

TEST_CASE("editor: a sequence or a UTF-8 character split over two reads") {
  auto ks = keys({"\x1b[", "D"});
  REQUIRE(ks.size() == 1);
  CHECK(ks[0].kind == KeyKind::left);
  ks = keys({"\xe4\xbd", "\xa0"});  // 你
  REQUIRE(ks.size() == 1);
  CHECK(ks[0].text == "\xe4\xbd\xa0");
  // A lone ESC is held until input goes quiet, then dropped.
  InputDecoder d;
  std::vector<Key> out;
  d.feed("\x1b", out);
  CHECK(out.empty());
  CHECK(d.holding());
  d.flush(out);
  CHECK(kinds(out) == std::vector<KeyKind>{KeyKind::ignored});
  // An invalid byte is one character of its own.
  ks = keys({"\xff" "a"});
  REQUIRE(ks.size() == 2);
  CHECK(ks[0].text == "\xff");
}

TEST_CASE("editor: bracketed paste arrives whole, markers split anywhere") {
  std::string paste = "Dear diary,\nq\n\x1b[A";
  std::string all = "x\x1b[200~" + paste + "\x1b[201~y";
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    auto ks = keys({all.substr(0, cut), all.substr(cut)});
    REQUIRE(ks.size() == 3);
    CHECK(ks[0].text == "x");
    CHECK(ks[1].kind == KeyKind::paste);
    CHECK(ks[1].text == paste);  // a "q" line and an arrow inside are text, not keys
    CHECK(ks[2].text == "y");
  }
  // A paste of 5,000 bytes over many reads.
  std::string big(5000, 'a');
  InputDecoder d;
  std::vector<Key> out;
  d.feed("\x1b[200~", out);
  for (size_t i = 0; i < big.size(); i += 700) d.feed(big.substr(i, 700), out);
  CHECK(out.empty());
  CHECK(d.in_paste());
  d.feed("\x1b[201~", out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == big);
}

TEST_CASE("editor: several lines in one read look pasted; one typed line does not") {
  CHECK_FALSE(looks_pasted("hello"));
  CHECK_FALSE(looks_pasted("hello\r"));
  CHECK_FALSE(looks_pasted("hello\r\n"));
  CHECK(looks_pasted("a\rb"));
  CHECK(looks_pasted("a\nq\n"));
  CHECK(looks_pasted("a\r\nb\r\n"));
  CHECK_FALSE(looks_pasted("\x1b[200~a\nb\x1b[201~"));
  CHECK(split_pasted_lines("a\r\nb\rc\nd") == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(split_pasted_lines("a\n\nb\n") == std::vector<std::string>{"a", "", "b"});
  CHECK(is_blank("  \t"));
  CHECK(is_blank("\xe3\x80\x80"));  // U+3000 ideographic space
  CHECK_FALSE(is_blank(" a "));
}

TEST_CASE("editor: UTF-8 steps and widths") {
  std::string s = "a\xe4\xbd\xa0\xe5\xa5\xbd\xf0\x9f\x98\x80" "b";  // a你好😀b
  CHECK(next_char(s, 0) == 1);
  CHECK(next_char(s, 1) == 4);
  CHECK(next_char(s, 4) == 7);
  CHECK(next_char(s, 7) == 11);
  CHECK(prev_char(s, 11) == 7);
  CHECK(prev_char(s, 7) == 4);
  CHECK(prev_char(s, 1) == 0);
  CHECK(prev_char("\xff\xff", 2) == 1);
  // Widths, with and without a UTF-8 locale in the C library.
  for (const char* loc : {"C", "C.UTF-8"}) {
    if (!setlocale(LC_CTYPE, loc)) continue;
    CAPTURE(loc);
    CHECK(display_width("abc") == 3);
    CHECK(display_width("\xe4\xbd\xa0\xe5\xa5\xbd") == 4);
    CHECK(display_width("\xf0\x9f\x98\x80") == 2);
    CHECK(display_width("\xc3\xa9") == 1);  // é
    CHECK(display_width("a\tb") == 6);       // the TAB drawn escaped: a\x09b
  }
  setlocale(LC_CTYPE, "C");
}

TEST_CASE("editor: edits by character, Ctrl-K/U/W, Backspace over CJK") {
  LineBuffer b;
  b.insert("\xe4\xbd\xa0\xe5\xa5\xbd");  // 你好
  CHECK(b.cursor() == 6);
  CHECK(b.backspace());
  CHECK(b.text() == "\xe4\xbd\xa0");
  CHECK(b.backspace());
  CHECK(b.text().empty());
  CHECK_FALSE(b.backspace());
  b.set("helo");
  b.left();
  b.insert("l");
  CHECK(b.text() == "hello");
  b.home();
  CHECK(b.del());
  CHECK(b.text() == "ello");
  b.set("one two three");
  b.kill_word();
  CHECK(b.text() == "one two ");
  b.word_left();
  CHECK(b.cursor() == 4);
  b.kill_end();
  CHECK(b.text() == "one ");
  b.set("abc def");
  b.left();
  b.kill_start();
  CHECK(b.text() == "f");
  CHECK(b.cursor() == 0);
  b.end();
  b.word_left();
  CHECK(b.cursor() == 0);
  b.word_right();
  CHECK(b.cursor() == 1);
}

TEST_CASE("editor: Up/Down recall keeps the line being typed as a draft") {
  Recall r(3);
  r.load({"one", "two"});
  r.add("three");
  r.add("three");  // a repeat of the newest is not kept twice
  r.add("   ");    // nor a blank line
  r.add("four");   // bounded: "one" goes
  CHECK(r.entries() == std::vector<std::string>{"two", "three", "four"});
  std::string shown;
  CHECK(r.up("draft", shown));
  CHECK(shown == "four");
  CHECK(r.up(shown, shown));
  CHECK(shown == "three");
  CHECK(r.down(shown));
  CHECK(shown == "four");
  CHECK(r.down(shown));
  CHECK(shown == "draft");
  CHECK_FALSE(r.down(shown));
}

TEST_CASE("editor: layout of a line that wraps, wide characters at the margin") {
  // prompt 6 columns, terminal 10: "abcdefgh" -> row 0 holds 4 characters, row 1 four.
  LineLayout l = layout_line(6, "abcdefgh", 8, 10);
  CHECK(l.end_row == 1);
  CHECK(l.end_col == 4);
  l = layout_line(6, "abcdefgh", 5, 10);  // the cursor on 'f'
  CHECK(l.cursor_row == 1);
  CHECK(l.cursor_col == 1);
  // Exactly full: the end is the start of the next row.
  l = layout_line(6, "abcd", 4, 10);
  CHECK(l.end_row == 1);
  CHECK(l.end_col == 0);
  // A wide character that does not fit in the last column starts the next row.
  setlocale(LC_CTYPE, "C.UTF-8");
  l = layout_line(7, "ab\xe4\xbd\xa0", 2, 10);
  CHECK(l.cursor_row == 1);
  CHECK(l.cursor_col == 0);
  CHECK(l.end_col == 2);
  setlocale(LC_CTYPE, "C");
  // Unknown width never wraps.
  l = layout_line(6, std::string(500, 'x'), 500, 0);
  CHECK(l.end_row == 0);
  CHECK(l.end_col == 506);
}

TEST_CASE("editor: the redraw sequence goes up to the prompt, erases, redraws, places the cursor") {
  std::string out;
  int row = render_line(out, "note> ", 6, "abcdefgh", 5, 10, 0);
  CHECK(row == 1);
  // From row 0: no move up; erase; prompt and text; back up 0 rows (end row 1 = cursor row 1)
  // then column 1.
  CHECK(out == "\r\x1b[Jnote> abcdefgh\r\x1b[1C");
  out.clear();
  row = render_line(out, "note> ", 6, "abcdefgh", 0, 10, 1);  // cursor on 'a'
  CHECK(row == 0);
  CHECK(out == "\r\x1b[1A\x1b[Jnote> abcdefgh\x1b[1A\r\x1b[6C");
  out.clear();
  render_line(out, "note> ", 6, "abcd", 4, 10, 0);  // ends at the margin: onto the next row
  CHECK(out == "\r\x1b[Jnote> abcd\r\n\r");
  out.clear();
  erase_line(out, 2);
  CHECK(out == "\r\x1b[2A\x1b[J");
  // A control character in the line is drawn escaped, never sent to the terminal raw.
  out.clear();
  render_line(out, "> ", 2, "a\x1b" "b", 3, 80, 0);
  CHECK(out.find("\x1b" "b") == std::string::npos);
  CHECK(out.find("a\\x1bb") != std::string::npos);
}

// ---- the outbox's format (state_files.hpp) --------------------------------------------------

#include "../../client/state_files.hpp"

TEST_CASE("outbox: formatted and parsed back; malformed lines and comments skipped") {
  std::vector<OutboxEntry> v = {{"127.0.0.1:9527", 0x9f3c0a5e12b4d6e8ull, 3, "bought milk"},
                                {"[::1]:9527", 1, 4, "two  spaces, and \xe4\xbd\xa0"}};
  std::string text = format_outbox(v);
  CHECK(text.find("127.0.0.1:9527\t9f3c0a5e12b4d6e8\t3\tbought milk\n") != std::string::npos);
  CHECK(parse_outbox(text) == v);
  CHECK(parse_outbox("# comment\nno tabs\na\tnothex0000000000\t1\tx\na\t0000000000000001\t0\tx\n"
                     "a\t0000000000000001\t2\t\nok\t0000000000000001\t2\tfine\n") ==
        std::vector<OutboxEntry>{{"ok", 1, 2, "fine"}});
  CHECK(state_dir([](const char* n) -> const char* {
          return std::string(n) == "XDG_STATE_HOME" ? "/s" : "/home/u";
        }) == "/s/dailynet");
  CHECK(state_dir([](const char* n) -> const char* {
          return std::string(n) == "HOME" ? "/home/u" : nullptr;
        }) == "/home/u/.local/state/dailynet");
  CHECK(state_dir([](const char*) -> const char* { return nullptr; }).empty());
}

TEST_CASE("outbox: added once per server, client id and message; removed by those; 20,000 at once") {
  support::TempDir dir;
  const std::string path = dir.path() + "/outbox";
  std::string error;
  std::vector<OutboxEntry> many;
  for (uint64_t m = 1; m <= 20000; ++m) many.push_back({"127.0.0.1:9527", 7, m, "n" + std::to_string(m)});
  REQUIRE(outbox_add(path, many, error));  // one write (a long paste pending), not quadratic
  // Again, with other texts under the same keys and one new: only the new one is added.
  REQUIRE(outbox_add(path, {{"127.0.0.1:9527", 7, 5, "other text"}, {"127.0.0.1:9527", 8, 5, "x"}},
                     error));
  auto groups = outbox_for(path, "127.0.0.1:9527");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].size() == 20000);
  CHECK(groups[0][4].text == "n5");
  CHECK(groups[1] == std::vector<OutboxEntry>{{"127.0.0.1:9527", 8, 5, "x"}});
  std::vector<OutboxEntry> done(many.begin(), many.begin() + 19999);
  REQUIRE(outbox_remove(path, done, error));
  groups = outbox_for(path, "127.0.0.1:9527");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0] == std::vector<OutboxEntry>{many.back()});
  REQUIRE(outbox_remove(path, {many.back(), {"127.0.0.1:9527", 8, 5, ""}}, error));
  CHECK_FALSE(support::file_exists(path));  // empty: the file goes
}

// ---- what a typed line means (interactive.hpp) ----------------------------------------------

#include "../../client/interactive.hpp"

TEST_CASE("session input: exit and :q leave like q, \\exit sends the word; clear, /find, /today") {
  using K = ReplInput::Kind;
  for (const char* q : {"exit", ":q", " exit "}) CHECK(classify_input(q).kind == K::quit);
  auto e = classify_input("\\exit");
  CHECK(e.kind == K::note);
  CHECK(e.arg == "exit");
  CHECK(classify_input("clear").kind == K::clear);
  CHECK(classify_input("/today").kind == K::today);
  auto f = classify_input("/find  buy milk ");
  CHECK(f.kind == K::find);
  CHECK(f.arg == "buy milk");
  CHECK(classify_input("/find").kind == K::find);
  CHECK(classify_input("/finder").kind == K::unknown);
  CHECK(classify_input("exit now").kind == K::note);
  CHECK(pager_at_newest("less") == "less +G");
  CHECK(pager_at_newest("/usr/bin/less -S") == "/usr/bin/less -S +G");
  CHECK(pager_at_newest("more") == "more");
}
