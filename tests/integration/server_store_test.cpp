// server_store_test.cpp — the store against the real dailynetd: the start line, graceful stop,
// restarts (SIGTERM and kill -9, every --fsync mode), recovery of hand-made torn and damaged
// files, --repair, files that are not ours, a lost notes.chk, the single-writer lock.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

// Sends texts as plain notes, expecting seqs first, first+1, ...
void send_notes(uint16_t port, const std::vector<std::string>& texts, uint64_t first = 1) {
  Udp u(port);
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    CHECK(u.ask(texts[i]) == "OK " + std::to_string(first + i) + "\n");
  }
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

// A stopped store of the given notes in dir (created by a server run, SIGTERM).
void make_store(const std::string& data, const std::vector<std::string>& texts) {
  ServerProcess s({}, data);
  REQUIRE(s.started());
  send_notes(s.udp_port(), texts);
  REQUIRE(s.stop(15) == 0);
}

// Byte offset where line i (0-based) of a file starts.
uint64_t line_offset(const std::string& path, size_t i) {
  std::string d = read_file(path);
  size_t pos = 0;
  for (size_t k = 0; k < i; ++k) pos = d.find('\n', pos) + 1;
  return pos;
}

std::vector<std::string> seqs_of(const ServerProcess& s) {
  std::vector<std::string> out;
  for (const std::string& l : file_lines(s.store_path())) out.push_back(split_tabs(l)[0]);
  return out;
}

// The lines of a log that contain word.
std::vector<std::string> log_lines_with(const std::string& log, const std::string& word) {
  std::vector<std::string> out;
  for (const std::string& l : split_lines(log))
    if (l.find(word) != std::string::npos) out.push_back(l);
  return out;
}

bool all_lines_parse(const std::string& path) {
  bool nl;
  for (const std::string& l : file_lines(path, &nl))
    if (!parse_note_line(l)) return false;
  return nl;
}

}  // namespace

TEST_CASE("server: the start line names udp, tcp, store and notes; --data gets its parents") {
  TempDir t;
  const std::string data = t.path() + "/a/b/c";
  ServerProcess s({}, data);
  REQUIRE(s.started());
  const std::string p = std::to_string(s.udp_port());
  CHECK(s.start_line() == "dailynetd ready udp=127.0.0.1:" + p + " tcp=127.0.0.1:" + p +
                              " store=" + data + "/notes.log notes=0 (new store created)");
  CHECK(file_exists(data + "/notes.log"));
  send_notes(s.udp_port(), {"x", "y"});
  CHECK(s.stop(15) == 0);
  ServerProcess s2({"--udp-port", "0", "--tcp-port", "0"}, data);
  REQUIRE(s2.started());
  CHECK(s2.start_line().find(" store=" + data + "/notes.log notes=2") != std::string::npos);
  CHECK(s2.start_line().find("new store created") == std::string::npos);
  CHECK(s2.start_line().rfind("dailynetd ready udp=127.0.0.1:", 0) == 0);
  CHECK(s2.stop(15) == 0);
  // --tcp-port alone: TCP on that port, UDP wherever --port says (0: any free one).
  uint16_t tcp_port = 0;
  {
    Fd probe(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(probe.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&a), &len);
    tcp_port = ntohs(a.sin_port);
  }
  ServerProcess s3({"--tcp-port", std::to_string(tcp_port)}, data);
  REQUIRE(s3.started());
  CHECK(s3.tcp_port() == tcp_port);
  CHECK(s3.start_line().find(" tcp=127.0.0.1:" + std::to_string(tcp_port) + " ") !=
        std::string::npos);
  send_notes(s3.udp_port(), {"z"}, 3);
  auto h = tcp_command(tcp_port, "HISTORY");
  CHECK(h.size() == 4);
}

TEST_CASE("server: a --data path that is a file is refused with exit 3, naming it") {
  TempDir t;
  const std::string path = t.path() + "/not-a-dir";
  write_file(path, "hello\n");
  ServerProcess s({}, path);
  CHECK_FALSE(s.started());
  CHECK(s.exit_code() == 3);
  CHECK(s.log().find(path) != std::string::npos);
  CHECK(read_file(path) == "hello\n");
}

TEST_CASE("server: SIGTERM and SIGINT exit 0 with every note flushed; seqs continue") {
  TempDir t;
  const std::string data = t.path() + "/data";
  {
    ServerProcess s({"--fsync", "never"}, data);
    REQUIRE(s.started());
    send_notes(s.udp_port(), numbered("n", 20));
    CHECK(s.stop(15) == 0);
    CHECK(s.log().find("stopped: 20 notes") != std::string::npos);
    CHECK(file_lines(data + "/notes.log").size() == 20);
    CHECK(all_lines_parse(data + "/notes.log"));
  }
  {
    ServerProcess s({"--fsync", "everysec"}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=20") != std::string::npos);
    send_notes(s.udp_port(), {"n21", "n22"}, 21);
    CHECK(s.stop(2) == 0);  // SIGINT
  }
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=22") != std::string::npos);
  send_notes(s.udp_port(), {"n23"}, 23);
  auto want = numbered("n", 23);
  CHECK(stored_texts(s) == want);
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  CHECK(h.size() == 24);
  CHECK(h.back() == "END 23");
}

TEST_CASE("server: kill -9 loses no acknowledged note in any --fsync mode") {
  for (std::string mode : {"always", "everysec", "never"}) {
    CAPTURE(mode);
    TempDir t;
    const std::string data = t.path() + "/data";
    std::vector<std::string> texts = numbered(mode + "-", 40);
    {
      ServerProcess s({"--fsync", mode}, data);
      REQUIRE(s.started());
      // A burst: the notes arrive together and are committed in groups.
      Udp u(s.udp_port());
      for (const std::string& x : texts) CHECK(u.send(x));
      std::vector<std::string> replies;
      for (size_t i = 0; i < texts.size(); ++i) {
        auto r = u.recv();
        REQUIRE(r);
        replies.push_back(*r);
      }
      for (size_t i = 0; i < texts.size(); ++i)
        CHECK(replies[i] == "OK " + std::to_string(i + 1) + "\n");
      CHECK(s.stop(9) == 128 + 9);
    }
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=40") != std::string::npos);
    CHECK(stored_texts(s) == texts);
    send_notes(s.udp_port(), {"after"}, 41);
  }
}

TEST_CASE("server: a torn last line is cut at start and reported on one stderr line") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("t", 5));
  const std::string log = data + "/notes.log";
  const uint64_t size0 = file_size(log);
  const std::string torn = "6\t2026-01-01T00:00";  // a crash mid-write: no '\n'
  write_file(log, read_file(log) + torn);
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=5") != std::string::npos);
    auto lines = log_lines_with(s.log(), "torn");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find(std::to_string(size0)) != std::string::npos);
    CHECK(lines[0].find(std::to_string(torn.size()) + " bytes") != std::string::npos);
    CHECK(file_size(log) == size0);
    send_notes(s.udp_port(), {"t6"}, 6);
    CHECK(s.stop(15) == 0);
  }
  // A complete line with no check record was never acknowledged: cut the same way, to a
  // side file; its seq is not given again (the next note gets 8), a mark records that.
  const uint64_t size1 = file_size(log);
  std::string extra;
  append_note_line(extra, 7, 1767225600000, "127.0.0.1:9", "never acked");
  write_file(log, read_file(log) + extra);
  // And a partial check record at the end of notes.chk.
  const std::string chk = data + "/notes.chk";
  const uint64_t chk0 = file_size(chk);
  write_file(chk, read_file(chk) + std::string(17, '\x01'));
  ServerProcess s({}, data);
  REQUIRE(s.started());
  auto lines = log_lines_with(s.log(), "torn");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(std::to_string(size1)) != std::string::npos);
  CHECK(lines[0].find(std::to_string(extra.size()) + " bytes") != std::string::npos);
  CHECK(file_size(log) == size1);
  CHECK(file_size(chk) == chk0 + 40);
  CHECK(stored_texts(s) == numbered("t", 6));
  auto side = dir_entries(data, "notes.log.torn-");
  REQUIRE(side.size() == 2);  // the first cut and this one: never replaced
  std::string both = read_file(data + "/" + side[0]) + read_file(data + "/" + side[1]);
  CHECK(both.find(extra) != std::string::npos);
  CHECK(both.find(torn) != std::string::npos);
  auto chk_side = dir_entries(data, "notes.chk.torn-");
  REQUIRE(chk_side.size() == 1);
  CHECK(read_file(data + "/" + chk_side[0]) == std::string(17, '\x01'));
  send_notes(s.udp_port(), {"t7"}, 8);
  CHECK(s.stop(15) == 0);
  // The log lost the end of its last committed line (e.g. power loss under --fsync never):
  // the commit mark says the commit was complete, so this is damage, not a torn tail.
  const uint64_t last_start = line_offset(log, 6);
  const uint64_t size2 = file_size(log);
  REQUIRE(::truncate(log.c_str(), static_cast<off_t>(size2 - 5)) == 0);
  ServerProcess s2({}, data);
  CHECK_FALSE(s2.started());
  CHECK(s2.exit_code() == 3);
  CHECK(s2.log().find("notes.log is damaged at byte " + std::to_string(size2 - 5)) !=
        std::string::npos);
  CHECK(s2.log().find("shorter than its check records say") != std::string::npos);
  ServerProcess s3({"--repair"}, data);
  REQUIRE(s3.started());
  CHECK(s3.start_line().find(" notes=6") != std::string::npos);
  CHECK(file_size(log) == last_start);
  CHECK(stored_texts(s3) == numbered("t", 6));
  send_notes(s3.udp_port(), {"after"}, 9);  // seq 8 was given once: never again
}

TEST_CASE("server: a new store whose first write was cut short starts empty, reporting it") {
  TempDir t;
  const std::string data = t.path() + "/data";
  ::mkdir(data.c_str(), 0755);
  const std::string torn = "1\t2026-01-01T00:0";
  write_file(data + "/notes.log", torn);
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=0") != std::string::npos);
  auto lines = log_lines_with(s.log(), "torn");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(std::to_string(torn.size()) + " bytes") != std::string::npos);
  CHECK(file_size(data + "/notes.log") == 0);
  send_notes(s.udp_port(), {"first"});
}

TEST_CASE("server: damage in the middle stops the start (exit 3, file and offset); --repair "
          "keeps every intact note and moves the damaged bytes to a side file") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("note-", 6));
  const std::string log = data + "/notes.log";
  const uint64_t off3 = line_offset(log, 2);
  std::string bytes = read_file(log);
  const std::string line3 = file_lines(log)[2] + "\n";
  // Flip one byte of note 3's text: the line still looks like a note; the check value differs.
  size_t flip = off3 + line3.find("note-3");
  bytes[flip] = 'N';
  write_file(log, bytes);
  std::string damaged_line3 = bytes.substr(off3, line3.size());
  {
    int64_t t0 = now_ms();
    ServerProcess s({}, data);
    CHECK_FALSE(s.started());
    CHECK(s.exit_code() == 3);
    CHECK(now_ms() - t0 < 3000);
    CHECK(s.log().find(log) != std::string::npos);
    CHECK(s.log().find("byte " + std::to_string(off3)) != std::string::npos);
    CHECK(s.log().find("--repair") != std::string::npos);
  }
  CHECK(read_file(log) == bytes);  // a refused start leaves the file alone
  {
    ServerProcess s({"--repair"}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=5") != std::string::npos);
    auto side = dir_entries(data, "notes.log.damaged-");
    REQUIRE(side.size() == 1);
    CHECK(read_file(data + "/" + side[0]) == damaged_line3);
    CHECK(s.log().find(side[0]) != std::string::npos);
    CHECK(stored_texts(s) ==
          std::vector<std::string>{"note-1", "note-2", "note-4", "note-5", "note-6"});
    CHECK(seqs_of(s) == std::vector<std::string>{"1", "2", "4", "5", "6"});
    send_notes(s.udp_port(), {"note-7"}, 7);  // seqs are never reused
    CHECK(s.stop(15) == 0);
  }
  ServerProcess s({}, data);  // the repaired store starts clean
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=6") != std::string::npos);
  CHECK(log_lines_with(s.log(), "torn").empty());
}

// Regression: repair used to keep only notes whose records matched at their old offsets, so
// every intact note after a shortened line was quarantined. Fixed in a0728f8.
TEST_CASE("server: a truncated middle line is refused; --repair keeps every intact note") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("middle-", 6));
  const std::string log = data + "/notes.log";
  const uint64_t off3 = line_offset(log, 2);
  std::string bytes = read_file(log);
  std::string line3 = file_lines(log)[2] + "\n";
  // Lose 5 bytes in the middle of line 3 (its text "middle-3" becomes "mi3").
  size_t cut_at = off3 + line3.find("middle-3") + 2;
  bytes.erase(cut_at, 5);
  write_file(log, bytes);
  {
    ServerProcess s({}, data);
    CHECK_FALSE(s.started());
    CHECK(s.exit_code() == 3);
    CHECK(s.log().find(log) != std::string::npos);
    CHECK(s.log().find("byte " + std::to_string(off3)) != std::string::npos);
  }
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(stored_texts(s) ==
        std::vector<std::string>{"middle-1", "middle-2", "middle-4", "middle-5", "middle-6"});
  auto side = dir_entries(data, "notes.log.damaged-");
  REQUIRE(side.size() == 1);
  std::string cut_line3 = line3;
  cut_line3.erase(line3.find("middle-3") + 2, 5);
  CHECK(read_file(data + "/" + side[0]) == cut_line3);
}

TEST_CASE("server: a damaged check record is refused at start; --repair keeps the intact note "
          "it described") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("rec-", 4));
  const std::string log = data + "/notes.log", chk = data + "/notes.chk";
  const std::string log_bytes = read_file(log);
  std::string c = read_file(chk);
  REQUIRE(c.size() == 8 * 40);  // one note and its commit mark per send
  c[40 * 4 + 8] ^= 0x01;  // record of seq 3: lowest byte of its offset field
  write_file(chk, c);
  {
    ServerProcess s({}, data);
    CHECK_FALSE(s.started());
    CHECK(s.exit_code() == 3);
    CHECK(s.log().find("byte " + std::to_string(line_offset(log, 2))) != std::string::npos);
  }
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=4") != std::string::npos);
  CHECK(stored_texts(s) == numbered("rec-", 4));
  CHECK(read_file(log) == log_bytes);
  send_notes(s.udp_port(), {"rec-5"}, 5);
}

TEST_CASE("server: garbage appended after the last commit is a torn tail, moved to a side "
          "file") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("g", 3));
  const std::string log = data + "/notes.log";
  const uint64_t size0 = file_size(log);
  // Bytes after the last complete group commit can not have been acknowledged, whatever
  // they hold (SPEC "Server and store").
  const std::string garbage = "garbage line one\nsecond bad line\n\x01\x02\x03\nthird\n";
  write_file(log, read_file(log) + garbage);
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=3") != std::string::npos);
  auto lines = log_lines_with(s.log(), "torn");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("byte " + std::to_string(size0)) != std::string::npos);
  auto side = dir_entries(data, "notes.log.torn-");
  REQUIRE(side.size() == 1);
  CHECK(lines[0].find(side[0]) != std::string::npos);
  CHECK(read_file(data + "/" + side[0]) == garbage);
  CHECK(stored_texts(s) == numbered("g", 3));
  CHECK(file_size(log) == size0);
  send_notes(s.udp_port(), {"g4"}, 4);
}

TEST_CASE("server: an empty notes.log starts with notes=0") {
  TempDir t;
  const std::string data = t.path() + "/data";
  ::mkdir(data.c_str(), 0755);
  write_file(data + "/notes.log", "");
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=0") != std::string::npos);
    send_notes(s.udp_port(), {"first"});
    CHECK(s.stop(15) == 0);
  }
  // Both files empty (a crash right after creating them) is a fresh store as well.
  write_file(data + "/notes.log", "");
  write_file(data + "/notes.chk", "");
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=0") != std::string::npos);
  send_notes(s.udp_port(), {"again"});
}

TEST_CASE("server: a notes.log that is not ours is refused and left untouched") {
  const std::vector<std::string> foreign = {
      "# shopping list\nmilk\neggs\n",
      "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
      std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0", 12),
      "no newline at all",
  };
  for (const std::string& content : foreign) {
    CAPTURE(content.substr(0, 20));
    TempDir t;
    const std::string data = t.path() + "/data";
    ::mkdir(data.c_str(), 0755);
    write_file(data + "/notes.log", content);
    ServerProcess s({}, data);
    CHECK_FALSE(s.started());
    CHECK(s.exit_code() == 3);
    CHECK(s.log().find(data + "/notes.log") != std::string::npos);
    CHECK(s.log().find("byte 0") != std::string::npos);
    CHECK(read_file(data + "/notes.log") == content);
  }
}

TEST_CASE("server: a deleted notes.chk is rebuilt from notes.log and the start says so") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_store(data, numbered("c", 4));
  const uint64_t chk_size = file_size(data + "/notes.chk");
  CHECK(chk_size == 8 * 40);  // a record and a commit mark per send
  REQUIRE(::unlink((data + "/notes.chk").c_str()) == 0);
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(s.start_line().find(" notes=4") != std::string::npos);
    CHECK(s.log().find("notes.chk was missing: rebuilt") != std::string::npos);
    CHECK(file_size(data + "/notes.chk") == 5 * 40);  // 4 records, one mark
    send_notes(s.udp_port(), {"c5"}, 5);
    CHECK(s.stop(15) == 0);
  }
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.log().find("rebuilt") == std::string::npos);
  CHECK(stored_texts(s) == numbered("c", 5));
}

TEST_CASE("server: a second server on the same --data refuses at once, naming the dir, "
          "'locked' and the first server's PID") {
  TempDir t;
  const std::string data = t.path() + "/data";
  ServerProcess first({}, data);
  REQUIRE(first.started());
  send_notes(first.udp_port(), {"mine"});
  int64_t t0 = now_ms();
  {
    ServerProcess second({}, data);
    CHECK_FALSE(second.started());
    CHECK(second.exit_code() == 3);
    CHECK(now_ms() - t0 < 3000);
    std::string log = second.log();
    CAPTURE(log);
    CHECK(log.find(data) != std::string::npos);
    CHECK(log.find("locked") != std::string::npos);
    CHECK(log.find(std::to_string(first.pid())) != std::string::npos);
  }
  // The first one is unharmed, and its store too.
  send_notes(first.udp_port(), {"still mine"}, 2);
  CHECK(first.stop(9) == 128 + 9);
  // The kernel releases the lock of a killed server.
  ServerProcess third({}, data);
  REQUIRE(third.started());
  CHECK(stored_texts(third) == std::vector<std::string>{"mine", "still mine"});
}

TEST_CASE("server: usage errors exit 2; an address in use exits 4") {
  TempDir t;
  const std::string data = t.path() + "/data";
  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
           {"--port", "70000"}, {"--fsync", "sometimes"}, {"--allow", "10.0.0.0/33"},
           {"--max-note", "0"}, {"--bogus"}, {"extra-arg"}, {"--host", "not-an-ip"}}) {
    CAPTURE(bad[0]);
    ServerProcess s(bad, data);
    CHECK_FALSE(s.started());
    CHECK(s.exit_code() == 2);
    CHECK(!s.log().empty());
  }
  // Hold a TCP port, then ask the server for it.
  Fd holder(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(holder.get(), 1) == 0);
  socklen_t len = sizeof a;
  ::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&a), &len);
  const std::string port = std::to_string(ntohs(a.sin_port));
  ServerProcess s({"--port", port}, data);
  CHECK_FALSE(s.started());
  CHECK(s.exit_code() == 4);
  CHECK(s.log().find(port) != std::string::npos);
}
