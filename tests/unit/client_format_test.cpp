// client_format_test.cpp — what the client prints: terminal-safe escaping, JSON strings,
// note lines in text/tsv/json, CLIENTS and STATS renderings; and stdin line splitting.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "../../client/format.hpp"
#include "../../client/line_reader.hpp"

using namespace client;

namespace {

std::string safe(std::string_view s) {
  std::string o;
  append_terminal_safe(o, s);
  return o;
}
std::string json(std::string_view s) {
  std::string o;
  append_json_string(o, s);
  return o;
}

const char kLine[] = "7\t2026-11-24T08:15:30.123Z\t127.0.0.1:40522\tbought \"milk\" \\ 牛奶";

}  // namespace

TEST_CASE("format: terminal-safe text shows control bytes instead of sending them") {
  CHECK(safe("plain text 中文 😀") == "plain text 中文 😀");
  CHECK(safe("\x1b[31mred") == "\\x1b[31mred");
  CHECK(safe("a\tb\r\n\x7f") == "a\\x09b\\x0d\\x0a\\x7f");
  CHECK(safe("\xc2\x9b" "2J") == "\\u{009b}2J");              // C1 CSI
  CHECK(safe("x\xe2\x80\xae" "y") == "x\\u{202e}y");          // right-to-left override
  CHECK(safe("\xe2\x80\xa8") == "\\u{2028}");
  CHECK(safe("\xff\xc3") == "\\xff\\xc3");                    // invalid UTF-8
  CHECK(safe("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // a surrogate
  CHECK(terminal_safe("中文 ok"));
  CHECK(!terminal_safe("a\x1b"));
  CHECK(!terminal_safe("\xe2\x81\xa6"));
}

TEST_CASE("format: JSON strings escape quotes, backslashes and controls; UTF-8 passes") {
  CHECK(json("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json("\n\t\x01\x7f") == "\"\\n\\t\\u0001\\u007f\"");
  CHECK(json("中文") == "\"中文\"");
  CHECK(json("\xe2\x80\xa9") == "\"\\u2029\"");
  CHECK(json("\xff") == "\"\\ufffd\"");
}

TEST_CASE("format: tsv is the wire line, byte for byte") {
  NotePrinter p(Format::tsv, false);
  std::string out;
  CHECK(p.add(kLine, out) == 7);
  CHECK(out == std::string(kLine) + "\n");
  // A line that is not a note line passes unchanged into a pipe, escaped to a terminal.
  out.clear();
  CHECK(p.add("junk\x1b", out) == 0);
  CHECK(out == "junk\x1b\n");
  NotePrinter t(Format::tsv, true);
  out.clear();
  t.add("junk\x1b\tmore", out);
  CHECK(out == "junk\\x1b\tmore\n");
}

TEST_CASE("format: json is one object per line with seq, time, from, text") {
  NotePrinter p(Format::json, false);
  std::string out;
  p.add(kLine, out);
  CHECK(out ==
        "{\"seq\":7,\"time\":\"2026-11-24T08:15:30.123Z\",\"from\":\"127.0.0.1:40522\","
        "\"text\":\"bought \\\"milk\\\" \\\\ 牛奶\"}\n");
  out.clear();
  CHECK(p.add("not a note", out) == 0);
  CHECK(out.empty());
  CHECK(p.notes() == 1);
  CHECK(p.last_seq() == 7);
}

TEST_CASE("format: text is local time, aligned columns") {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  CHECK(local_time("2026-11-24T08:15:30.123Z") == "2026-11-24 08:15:30");
  CHECK(local_time("yesterday\x1b") == "yesterday\\x1b");
  NotePrinter p(Format::text, true, 10);
  std::string out;
  p.add("9\t2026-11-24T08:15:30.123Z\t127.0.0.1:5\tshort", out);
  p.add("10\t2026-11-24T08:15:31.000Z\t[::1]:40000\tlonger one", out);
  CHECK(out.empty());  // held until the widths are known
  p.flush(out);
  CHECK(out ==
        "2026-11-24 08:15:30   9  127.0.0.1:5  short\n"
        "2026-11-24 08:15:31  10  [::1]:40000  longer one\n");
  out.clear();
  p.add("11\t2026-11-24T08:15:32.000Z\t127.0.0.1:5\tafter", out);  // streams now
  CHECK(out == "2026-11-24 08:15:32  11  127.0.0.1:5  after\n");
  ::unsetenv("TZ");
  ::tzset();
}

TEST_CASE("format: thousands") {
  CHECK(group_thousands(0) == "0");
  CHECK(group_thousands(30) == "30");
  CHECK(group_thousands(999) == "999");
  CHECK(group_thousands(12345) == "12,345");
  CHECK(group_thousands(123456) == "123,456");
  CHECK(group_thousands(1024) == "1,024");
  CHECK(group_thousands(1234567) == "1,234,567");
}

TEST_CASE("format: clients and stats in each format") {
  std::vector<std::string> clients = {
      "127.0.0.1:5000\t3\t2026-11-24T08:15:30.123Z\t2026-11-24T08:16:30.123Z"};
  std::string out;
  render_clients(clients, Format::tsv, false, out);
  CHECK(out == clients[0] + "\n");
  out.clear();
  render_clients(clients, Format::json, false, out);
  CHECK(out ==
        "{\"addr\":\"127.0.0.1:5000\",\"notes\":3,\"first\":\"2026-11-24T08:15:30.123Z\","
        "\"last\":\"2026-11-24T08:16:30.123Z\"}\n");
  // No notes yet (clients --hosts on an empty store): one line saying so, never a bare
  // heading that names the wrong column (CLIENT for --hosts).
  out.clear();
  render_clients({}, Format::text, true, out);
  CHECK(out == "no notes yet\n");
  for (Format f : {Format::tsv, Format::json}) {
    out.clear();
    render_clients({}, f, false, out);
    CHECK(out.empty());
  }
  std::vector<std::string> stats = {"notes_stored 12", "last_seq 12"};
  out.clear();
  render_stats(stats, Format::json, false, out);
  CHECK(out == "{\"notes_stored\":12,\"last_seq\":12}\n");
  out.clear();
  render_stats(stats, Format::tsv, false, out);
  CHECK(out == "notes_stored\t12\nlast_seq\t12\n");
  out.clear();
  render_stats(stats, Format::text, true, out);
  CHECK(out == "notes_stored  12\nlast_seq      12\n");
}

TEST_CASE("line reader: lines, a last line without newline, over-long lines cut") {
  char path[] = "/tmp/dailynet-test-linereader-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::string data = "one\ntwo\r\n\n";
  data += std::string(LineReader::kCapacity + 10, 'x');
  data += "\nlast";
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::lseek(fd, 0, SEEK_SET);
  LineReader r(fd);
  std::vector<std::string> lines;
  std::string_view l;
  for (int guard = 0; guard < 100 && !r.eof(); ++guard) {
    while (r.next(l)) lines.emplace_back(l.size() > 20 ? "LONG" + std::to_string(l.size()) : l);
    r.fill();
  }
  while (r.next(l)) lines.emplace_back(l);
  ::close(fd);
  ::unlink(path);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "one");
  CHECK(lines[1] == "two\r");  // send drops the \r
  CHECK(lines[2] == "");
  CHECK(lines[3].rfind("LONG", 0) == 0);
  CHECK(lines[4] == "last");
}
