// server_files_test.cpp — a running dailynetd whose store files are truncated, replaced
// (mv + a new file) or deleted underneath it (logrotate, copytruncate, a careless rm): it
// stops storing (ERR store unavailable), logs one line naming the file, never sends a byte it
// did not write, and END <count> always counts the lines sent (SPEC "Server and store").
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

// The note lines of a HISTORY reply (raw bytes through "END ...\n") and whether its END
// counts exactly those lines.
struct Reply {
  size_t lines = 0;
  bool end_exact = false;
  bool has_nul = false;
};
Reply parse_reply(const std::string& raw) {
  Reply r;
  r.has_nul = raw.find('\0') != std::string::npos;
  std::vector<std::string> lines = split_lines(raw);
  if (lines.empty() || lines.back().rfind("END ", 0) != 0) return r;
  r.lines = lines.size() - 1;
  r.end_exact = lines.back() == "END " + std::to_string(r.lines);
  for (size_t i = 0; i + 1 < lines.size(); ++i)
    if (split_tabs(lines[i]).size() != 4) r.end_exact = false;  // a cut line
  return r;
}

Reply history(uint16_t port) {
  Tcp t(port);
  REQUIRE(t.send("HISTORY\nPING\n"));  // PONG marks the end of the reply, whatever it holds
  std::string raw = t.read_through("PONG\n", 10000);
  if (raw.size() >= 5 && raw.compare(raw.size() - 5, 5, "PONG\n") == 0) raw.resize(raw.size() - 5);
  return parse_reply(raw);
}

// Sends notes until one is refused with "ERR store unavailable" (bounded); returns how many
// were stored first.
int notes_until_unavailable(uint16_t port) {
  Udp u(port);
  for (int i = 0; i < 20; ++i) {
    auto r = u.ask("after the change " + std::to_string(i));
    if (r == "ERR store unavailable\n") return i;
    if (!r || r->rfind("OK ", 0) != 0) return -1;
  }
  return -1;
}

}  // namespace

TEST_CASE("files: each store file truncated, replaced or removed under a running server") {
  struct Case {
    const char* file;
    const char* action;
    const char* logged;
  };
  const Case cases[] = {
      {"notes.log", "truncate", "notes.log was truncated to 0 bytes"},
      {"notes.log", "replace", "notes.log was replaced by another file"},
      {"notes.log", "remove", "notes.log was removed or moved away"},
      {"notes.chk", "truncate", "notes.chk was truncated to 0 bytes"},
      {"notes.chk", "replace", "notes.chk was replaced by another file"},
      {"notes.chk", "remove", "notes.chk was removed or moved away"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    CAPTURE(c.action);
    TempDir t;
    const std::string data = t.path() + "/data";
    write_notes_log(data, 200);
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(Udp(s.udp_port()).ask("before") == "OK 201\n");
    const std::string path = data + "/" + c.file;
    if (std::string(c.action) == "truncate") {
      REQUIRE(::truncate(path.c_str(), 0) == 0);
    } else if (std::string(c.action) == "replace") {
      REQUIRE(::rename(path.c_str(), (path + ".1").c_str()) == 0);
      write_file(path, "");
    } else {
      REQUIRE(::unlink(path.c_str()) == 0);
    }
    // The next commit finds it: refused, nothing written anywhere.
    CHECK(notes_until_unavailable(s.udp_port()) == 0);
    CHECK(s.wait_log(c.logged));
    CHECK(s.log().find("store unavailable") != std::string::npos);
    CHECK(notes_until_unavailable(s.udp_port()) == 0);  // and stays so
    // Reads go on from what the server wrote: all of it while its file is still there
    // (replaced, removed: the open file keeps it); nothing of a truncated notes.log.
    Reply r = history(s.tcp_port());
    CHECK_FALSE(r.has_nul);
    CHECK(r.end_exact);
    const bool log_gone = std::string(c.file) == "notes.log" &&
                          std::string(c.action) == "truncate";
    CHECK(r.lines == (log_gone ? 0u : 201u));
    // One line, not one per note.
    size_t first = s.log().find(c.logged);
    CHECK(s.log().find(c.logged, first + 1) == std::string::npos);
    CHECK(s.stop(15) == 0);
  }
}

TEST_CASE("files: copytruncate under a running server: no NUL is ever sent, END stays exact") {
  TempDir t;
  const std::string data = t.path() + "/data";
  ServerProcess s({}, data);
  REQUIRE(s.started());
  Udp u(s.udp_port());
  for (int i = 1; i <= 3; ++i)
    CHECK(u.ask("note " + std::to_string(i)) == "OK " + std::to_string(i) + "\n");
  const std::string log = data + "/notes.log";
  write_file(data + "/x", read_file(log));  // cp notes.log x
  REQUIRE(::truncate(log.c_str(), 0) == 0);  // truncate -s 0 notes.log
  // A HISTORY right after the truncation (before any commit noticed it) ends cleanly.
  Reply r = history(s.tcp_port());
  CHECK_FALSE(r.has_nul);
  CHECK(r.end_exact);
  CHECK(r.lines == 0);
  CHECK(u.ask("one more") == "ERR store unavailable\n");
  CHECK(file_size(log) == 0);  // nothing written at the old offset: no hole of NULs
  r = history(s.tcp_port());
  CHECK_FALSE(r.has_nul);
  CHECK(r.end_exact);
  CHECK(r.lines == 0);
  CHECK(s.wait_log("ended early"));
  // A restart applies the start-up rules: notes.chk says three notes were committed.
  CHECK(s.stop(15) == 0);
  ServerProcess again({}, data);
  CHECK_FALSE(again.started());
  CHECK(again.exit_code() == 3);
  CHECK(again.log().find("notes.log is damaged at byte 0") != std::string::npos);
}

TEST_CASE("files: a FOLLOW over a truncated notes.log is closed, logged with file and offset, "
          "counted in tcp_closed_error") {
  // A close that is not the peer's doing (issue 10): one log line naming the peer and the
  // reason, one count in STATS; a peer's own close is neither logged nor counted there.
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  CHECK(u.ask("one") == "OK 1\n");
  CHECK(u.ask("two") == "OK 2\n");
  Tcp quiet(s.tcp_port());
  REQUIRE(quiet.send("PING\n"));
  CHECK(quiet.line() == "PONG");
  quiet.close();  // the peer's close: quiet
  REQUIRE(::truncate(s.store_path().c_str(), 0) == 0);
  Tcp follower(s.tcp_port());
  REQUIRE(follower.send("FOLLOW\n"));
  CHECK(follower.closed(5000));
  CHECK(wait_stat(s.tcp_port(), "tcp_closed_error", 1) == 1);
  CHECK(s.wait_log(": store read failed: notes.log holds fewer bytes than the server wrote"));
  CHECK(s.log().find(" at byte 0 of ") != std::string::npos);
  CHECK(s.log().find("connection reset by peer") == std::string::npos);
  CHECK(stat_value(s.tcp_port(), "tcp_closed_stalled") == 0);
}

TEST_CASE("files: notes.log truncated while a large HISTORY is being sent") {
  TempDir t;
  const std::string data = t.path() + "/data";
  write_notes_log(data, 250000, 60);  // ~24 MB: more than the socket buffers hold
  ServerProcess s({}, data);
  REQUIRE(s.started());
  Tcp reader(s.tcp_port());
  REQUIRE(reader.send("HISTORY\n"));
  // Read a little, so that the reply is in flight, then cut the file to half a line short
  // of its middle.
  std::string got = reader.read_through("\n50\t", 10000);
  REQUIRE(got.size() > 0);
  const std::string log = data + "/notes.log";
  const uint64_t half = file_size(log) / 2 + 7;
  REQUIRE(::truncate(log.c_str(), static_cast<off_t>(half)) == 0);
  got += reader.read_through("\nEND ", 30000);
  got += reader.read_through("\n", 5000);
  Reply r = parse_reply(got);
  CHECK_FALSE(r.has_nul);
  CHECK(r.end_exact);  // every line whole, and END counts them
  CHECK(r.lines >= 50);
  CHECK(r.lines < 250000);
  CHECK(s.wait_log("ended early"));
  CHECK(s.log().find("connection reset by peer") == std::string::npos);
  CHECK(Udp(s.udp_port()).ask("refused") == "ERR store unavailable\n");
}
