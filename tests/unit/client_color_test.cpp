// client_color_test.cpp — the pure parts of the client's terminal output (issue 7): when
// colour is wanted (terminal, text format, NO_COLOR), colour around escaped text, coloured
// note rows that stay aligned and terminal-safe, the progress texts, and the small option
// fixes (--host [::1], the --format help of clients and stats).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../../client/color.hpp"
#include "../../client/format.hpp"
#include "../../client/options.hpp"
#include "../../client/progress.hpp"
#include "../support/argv.hpp"

using namespace client;

namespace {

// s without the SGR sequences the client writes (ESC [ digits m).
std::string strip_sgr(const std::string& s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      if (j < s.size() && s[j] == 'm') {
        i = j;
        continue;
      }
    }
    o += s[i];
  }
  return o;
}

ParseResult parse(std::vector<std::string> args) {
  support::Argv a("dailynet", std::move(args));
  return parse_command_line(a.argc(), a.argv(),
                            [](const char*) -> const char* { return nullptr; });
}

}  // namespace

TEST_CASE("client color: only on a terminal, only for text, never with NO_COLOR set") {
  CHECK(color_wanted(true, Format::text, nullptr));
  CHECK(color_wanted(true, Format::text, ""));  // set but empty: as if unset (no-color.org)
  CHECK_FALSE(color_wanted(true, Format::text, "1"));
  CHECK_FALSE(color_wanted(true, Format::text, "0"));  // any non-empty value
  CHECK_FALSE(color_wanted(false, Format::text, nullptr));
  CHECK_FALSE(color_wanted(true, Format::tsv, nullptr));
  CHECK_FALSE(color_wanted(true, Format::json, nullptr));
}

TEST_CASE("client color: append_colored wraps, or appends plainly when off") {
  std::string s;
  append_colored(s, true, kSgrRed, "refused");
  CHECK(s == "\x1b[31mrefused\x1b[0m");
  s.clear();
  append_colored(s, false, kSgrRed, "refused");
  CHECK(s == "refused");
  s.clear();
  append_colored(s, true, kSgrRed, "");
  CHECK(s.empty());
}

TEST_CASE("client color: coloured note rows keep their alignment, and server escapes stay escaped") {
  const std::vector<std::string> lines = {
      "1\t2026-11-24T08:15:30.123Z\t127.0.0.1:5\tfirst",
      "12\t2026-11-24T08:15:31.000Z\t[::1]:40000\tsecond",
  };
  NotePrinter plain(Format::text, true, 10), colored(Format::text, true, 10);
  colored.set_color(true);
  std::string a, b;
  for (const auto& l : lines) {
    plain.add(l, a);
    colored.add(l, b);
  }
  plain.flush(a);
  colored.flush(b);
  CHECK(a.find('\x1b') == std::string::npos);
  CHECK(b.find(std::string(kSgrYellow) + "12" + std::string(kSgrReset)) != std::string::npos);
  CHECK(b.find(std::string(kSgrCyan) + "[::1]:40000" + std::string(kSgrReset)) != std::string::npos);
  CHECK(strip_sgr(b) == a);  // the same columns, colour aside

  // A line that is not a note, full of escapes: shown escaped, never raw, coloured or not.
  NotePrinter evil(Format::text, true);
  evil.set_color(true);
  std::string e;
  evil.add("garbage\x1b]0;pwned\x07", e);
  CHECK(e == "garbage\\x1b]0;pwned\\x07\n");

  // set_color has no effect on tsv and json.
  NotePrinter tsv(Format::tsv, true), json(Format::json, true);
  tsv.set_color(true);
  json.set_color(true);
  std::string t, j;
  tsv.add(lines[0], t);
  json.add(lines[0], j);
  CHECK(t.find('\x1b') == std::string::npos);
  CHECK(j.find('\x1b') == std::string::npos);
}

TEST_CASE("client color: the clients table, coloured, keeps its columns") {
  const std::vector<std::string> lines = {
      "127.0.0.1:5\t3\t2026-11-24T08:15:30.123Z\t2026-11-24T08:15:31.000Z",
      "evil\x1b[2J\t1\tx\ty",
  };
  std::string a, b, t;
  render_clients(lines, Format::text, true, a);
  render_clients(lines, Format::text, true, b, true);
  render_clients(lines, Format::tsv, false, t, true);
  CHECK(a.find('\x1b') == std::string::npos);
  CHECK(b.find('\x1b') != std::string::npos);
  CHECK(strip_sgr(b) == a);
  CHECK(strip_sgr(b).find('\x1b') == std::string::npos);  // the server's ESC is escaped
  CHECK(t.find("\x1b[3") == std::string::npos);           // tsv: never coloured
}

TEST_CASE("client progress: texts") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(999) == "999 B");
  CHECK(human_bytes(1000) == "1.0 kB");
  CHECK(human_bytes(1234567) == "1.2 MB");
  CHECK(human_bytes(999999) == "1.0 MB");
  CHECK(human_bytes(5000000000ull) == "5.0 GB");
  CHECK(send_progress_text(1, 0, 0) == "1 note sent, 0 acknowledged");
  CHECK(send_progress_text(200000, 150000, 2.0) ==
        "200,000 notes sent, 150,000 acknowledged, 75,000 notes/s");
  CHECK(receive_progress_text(1, 10, 0) == "1 note, 10 B received");
  CHECK(receive_progress_text(12345, 2000000, 2.0) ==
        "12,345 notes, 2.0 MB received, 1.0 MB/s");
}

TEST_CASE("client progress: a disabled line does nothing; an enabled one is due every 100 ms") {
  ProgressLine off(false);
  CHECK_FALSE(off.due(1000000));
  CHECK(off.until_due(0) == -1);
  off.show("x", 0);
  CHECK_FALSE(off.shown());

  ProgressLine on(true, -1);  // fd -1: writes fail quietly; only the timing is tested
  on.start(1000000);
  CHECK_FALSE(on.due(1000000 + 50000));  // short work draws nothing
  CHECK(on.until_due(1000000 + 50000) == 50000);
  CHECK(on.due(1000000 + ProgressLine::kIntervalUs));
  on.show("x", 1100000);
  CHECK(on.shown());
  CHECK_FALSE(on.due(1150000));
  CHECK(on.due(1200000));
  on.clear();
  CHECK_FALSE(on.shown());
}

TEST_CASE("client options: --host [::1] and DAILYNET_HOST=[::1] are the bare IPv6 literal") {
  CHECK(parse({"--host", "[::1]", "history"}).options.host == "::1");
  CHECK(parse({"--host", "::1", "history"}).options.host == "::1");
  CHECK(parse({"--host", "[fe80::1%lo]", "stats"}).options.host == "fe80::1%lo");
  CHECK(parse({"--host", "notes.lan"}).options.host == "notes.lan");
  CHECK_FALSE(parse({"--host", "[]", "history"}).ok());
  CHECK_FALSE(parse({"--host", "", "history"}).ok());

  support::Argv a("dailynet", {"history"});
  auto r = parse_command_line(a.argc(), a.argv(), [](const char* n) -> const char* {
    return std::string(n) == "DAILYNET_HOST" ? "[::1]" : nullptr;
  });
  CHECK(r.options.host == "::1");
}

TEST_CASE("client options: clients and stats describe their own --format output") {
  std::string c = help_text(Command::clients), s = help_text(Command::stats);
  CHECK(c.find("--format") != std::string::npos);
  CHECK(c.find("ADDR<TAB>NOTES<TAB>FIRST<TAB>LAST") != std::string::npos);
  CHECK(c.find("SEQ<TAB>TIME") == std::string::npos);
  CHECK(s.find("--format") != std::string::npos);
  CHECK(s.find("NAME<TAB>VALUE") != std::string::npos);
  CHECK(s.find("SEQ<TAB>TIME") == std::string::npos);
  CHECK(help_text(Command::history).find("SEQ<TAB>TIME<TAB>ADDR<TAB>TEXT") != std::string::npos);
}
