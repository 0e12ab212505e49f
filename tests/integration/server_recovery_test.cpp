// server_recovery_test.cpp — start-up on hand-made stores (SPEC "Server and store": a seq is
// never given to two notes, an acknowledged note never silently disappears, recovery and
// repair delete nothing). Each case: the exact outcome (started with which notes, or refused
// naming file and byte offset), every cut byte found in a side file, the next seq never one
// already used.
#include <doctest/doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

// A stopped store of n notes "r1".."rn", one group commit each, each commit at its own
// millisecond (so commits can be told apart by TIME, as on any real server that is not
// flooded).
void make_commits(const std::string& data, int n) {
  ServerProcess s({}, data);
  REQUIRE(s.started());
  Udp u(s.udp_port());
  for (int i = 1; i <= n; ++i) {
    REQUIRE(u.ask("r" + std::to_string(i)) == "OK " + std::to_string(i) + "\n");
    for (int64_t t0 = now_ms(); now_ms() < t0 + 3;) {  // the next commit gets a later TIME
    }
  }
  REQUIRE(s.stop(15) == 0);
}

std::vector<std::string> texts(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i <= to; ++i) v.push_back("r" + std::to_string(i));
  return v;
}

// Starts a server on data that must refuse: exit 3, naming file and byte offset.
void expect_refused(const std::string& data, const std::string& file, uint64_t offset) {
  ServerProcess s({}, data);
  CHECK_FALSE(s.started());
  CHECK(s.exit_code() == 3);
  std::string want = data + "/" + file + " is damaged at byte " + std::to_string(offset) + ":";
  CHECK_MESSAGE(s.log().find(want) != std::string::npos, s.log());
  CHECK(s.log().find("--repair") != std::string::npos);
}

// Everything in the side files named prefix*, concatenated in name order.
std::string side_bytes(const std::string& data, const std::string& prefix) {
  std::string all;
  for (const std::string& name : dir_entries(data, prefix)) all += read_file(data + "/" + name);
  return all;
}

uint64_t offset_of_line(const std::string& path, size_t i) {
  std::string d = read_file(path);
  size_t pos = 0;
  for (size_t k = 0; k < i; ++k) pos = d.find('\n', pos) + 1;
  return pos;
}

}  // namespace

TEST_CASE("recovery: an emptied notes.log (logrotate 'create') is damage; --repair keeps no "
          "seq for reuse") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 3);
  const std::string log = data + "/notes.log", chk = data + "/notes.chk";
  const std::string old_log = read_file(log), old_chk = read_file(chk);
  REQUIRE(::rename(log.c_str(), (log + ".1").c_str()) == 0);
  write_file(log, "");
  expect_refused(data, "notes.log", 0);
  CHECK(read_file(chk) == old_chk);  // a refused start changes nothing
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=0") != std::string::npos);
  CHECK(side_bytes(data, "notes.chk.damaged-") == old_chk);
  CHECK(read_file(log + ".1") == old_log);
  CHECK(Udp(s.udp_port()).ask("after") == "OK 4\n");  // seqs 1..3 were given once
}

TEST_CASE("recovery: notes.log replaced by another store's valid log is damage at byte 0") {
  TempDir t;
  const std::string data = t.path() + "/data", other = t.path() + "/other";
  make_commits(data, 5);
  make_commits(other, 2);
  const std::string foreign = read_file(other + "/notes.log");
  write_file(data + "/notes.log", foreign);
  expect_refused(data, "notes.log", 0);
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=0") != std::string::npos);
  CHECK(side_bytes(data, "notes.log.damaged-") == foreign);  // nothing deleted
  CHECK(Udp(s.udp_port()).ask("after") == "OK 6\n");
}

TEST_CASE("recovery: notes.log replaced by a shorter copy of itself (an old backup) is damage "
          "where the copy ends") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 5);
  const std::string log = data + "/notes.log";
  const uint64_t cut = offset_of_line(log, 3);
  write_file(log, read_file(log).substr(0, cut));
  expect_refused(data, "notes.log", cut);
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(stored_texts(s) == texts(1, 3));
  CHECK(Udp(s.udp_port()).ask("after") == "OK 6\n");
}

TEST_CASE("recovery: notes.chk short by one commit is a torn tail; by more, damage") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 4);
  const std::string log = data + "/notes.log", chk = data + "/notes.chk";
  const std::string all_log = read_file(log), all_chk = read_file(chk);
  REQUIRE(all_chk.size() == 8 * 40);  // a record and a commit mark per commit
  // By two commits: lines of two TIMEs without records.
  write_file(chk, all_chk.substr(0, 4 * 40));
  expect_refused(data, "notes.log", offset_of_line(log, 2));
  // By one commit: indistinguishable from a crash between the two writes of a commit. Cut,
  // to a side file; its seq is not given again.
  write_file(chk, all_chk.substr(0, 6 * 40));
  const uint64_t line4 = offset_of_line(log, 3);
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.start_line().find(" notes=3") != std::string::npos);
  CHECK(s.log().find("torn tail cut at byte " + std::to_string(line4)) != std::string::npos);
  CHECK(side_bytes(data, "notes.log.torn-") == all_log.substr(line4));
  CHECK(Udp(s.udp_port()).ask("after") == "OK 5\n");
}

TEST_CASE("recovery: zeros after the last commit, in either file or both, are a torn tail") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 2);
  const std::string log = data + "/notes.log", chk = data + "/notes.chk";
  const uint64_t log0 = file_size(log), chk0 = file_size(chk);
  const std::string zeros_log(4096, '\0'), zeros_chk(100, '\0');
  write_file(log, read_file(log) + zeros_log);
  write_file(chk, read_file(chk) + zeros_chk);
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(stored_texts(s) == texts(1, 2));
    CHECK(file_size(log) == log0);
    CHECK(file_size(chk) == chk0);
    CHECK(side_bytes(data, "notes.log.torn-") == zeros_log);
    CHECK(side_bytes(data, "notes.chk.torn-") == zeros_chk);
    CHECK(Udp(s.udp_port()).ask("r3") == "OK 3\n");
    REQUIRE(s.stop(15) == 0);
  }
  // The same store started again: clean, nothing more cut, no new side file.
  ServerProcess s({}, data);
  REQUIRE(s.started());
  CHECK(s.log().find("torn") == std::string::npos);
  CHECK(dir_entries(data, "notes.log.torn-").size() == 1);
  CHECK(dir_entries(data, "notes.chk.torn-").size() == 1);
  CHECK(stored_texts(s) == texts(1, 3));
}

TEST_CASE("recovery: both files zero-filled is damage, not an empty store") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 3);
  const std::string log = data + "/notes.log", chk = data + "/notes.chk";
  write_file(log, std::string(file_size(log), '\0'));
  write_file(chk, std::string(file_size(chk), '\0'));
  expect_refused(data, "notes.chk", 0);
}

TEST_CASE("recovery: a line deleted in the middle is damage at its offset; --repair keeps the "
          "rest; two repairs keep both side files") {
  TempDir t;
  const std::string data = t.path() + "/data";
  make_commits(data, 5);
  const std::string log = data + "/notes.log";
  std::string bytes = read_file(log);
  const uint64_t off2 = offset_of_line(log, 1), off3 = offset_of_line(log, 2);
  const std::string line2 = bytes.substr(off2, off3 - off2);
  write_file(log, bytes.erase(off2, line2.size()));
  expect_refused(data, "notes.log", off2);
  {
    ServerProcess s({"--repair"}, data);
    REQUIRE(s.started());
    CHECK(stored_texts(s) == std::vector<std::string>{"r1", "r3", "r4", "r5"});
    REQUIRE(s.stop(15) == 0);
  }
  // Damage another line and repair again, within the same second: a new side file.
  bytes = read_file(log);
  const uint64_t off = offset_of_line(log, 2);  // "r4" now
  bytes[bytes.find("\tr4", off) + 1] = 'X';
  write_file(log, bytes);
  ServerProcess s({"--repair"}, data);
  REQUIRE(s.started());
  CHECK(stored_texts(s) == std::vector<std::string>{"r1", "r3", "r5"});
  // The deleted line left no bytes to move; each repair kept the old notes.chk, and the
  // second did not replace the first's.
  CHECK(dir_entries(data, "notes.chk.damaged-").size() == 2);
  std::string moved = side_bytes(data, "notes.log.damaged-");
  CHECK(moved.find("\tX4") != std::string::npos);
  CHECK(Udp(s.udp_port()).ask("r6") == "OK 6\n");
}
