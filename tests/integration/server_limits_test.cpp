// server_limits_test.cpp — limits and failure behaviour (issue 6, as far as the server has
// them): idle timeout, --max-clients, stalled HISTORY and FOLLOW readers, --allow, --rate,
// running out of descriptors, and a disk that refuses appends (RLIMIT_FSIZE, a full tmpfs).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

// Sets the soft limit of a running process (prlimit(2)), up to its hard limit, which is left
// alone so the limit can be raised again without CAP_SYS_RESOURCE.
template <typename Resource>
bool set_limit(pid_t pid, Resource resource, rlim_t value) {
  rlimit old{};
  if (::prlimit(pid, resource, nullptr, &old) != 0) return false;
  rlimit r{std::min(value, old.rlim_max), old.rlim_max};
  return ::prlimit(pid, resource, &r, nullptr) == 0;
}

// Reads whatever t has received until nothing arrives for 20 ms (bounded: 100 rounds).
void drain(Tcp& t) {
  for (int i = 0; i < 100; ++i)
    if (t.read_through(std::string("\x01\x02"), 20).empty()) return;
}

// Every line of the store parses as a note line and the file ends in '\n'.
bool store_intact(const std::string& path, size_t* count = nullptr) {
  bool nl;
  auto lines = file_lines(path, &nl);
  if (count) *count = lines.size();
  for (const std::string& l : lines)
    if (!parse_note_line(l)) return false;
  return nl;
}

// A tmpfs mounted for the test, unmounted (lazily) on destruction.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    ::mkdir(dir.c_str(), 0755);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// The notes in the store file, after checking that HISTORY returns the same.
std::vector<std::string> stored_checked(const ServerProcess& s) {
  std::vector<std::string> texts = stored_texts(s);
  CHECK(history_texts(s.tcp_port()) == texts);
  return texts;
}

}  // namespace

TEST_CASE("server: --idle-timeout closes an idle connection; a talking one and a follower stay") {
  ServerProcess s({"--idle-timeout", "1"});
  REQUIRE(s.started());
  int64_t t0 = now_ms();
  Tcp idle(s.tcp_port()), talker(s.tcp_port()), follower(s.tcp_port());
  CHECK(follower.send("FOLLOW\n"));
  int64_t closed_at = -1;
  while (now_ms() - t0 < 5000) {
    if (idle.closed(250)) {
      closed_at = now_ms();
      break;
    }
    CHECK(talker.send("PING\n"));
    CHECK(talker.line() == "PONG");
  }
  REQUIRE(closed_at > 0);
  CHECK(closed_at - t0 >= 900);
  CHECK(idle.line(0) == std::nullopt);  // closed without a word
  // Another second and a half: the talker keeps talking, the follower just waits.
  int64_t until = now_ms() + 1500;
  while (now_ms() < until) {
    CHECK(follower.line(250) == std::nullopt);
    CHECK(talker.send("PING\n"));
    CHECK(talker.line() == "PONG");
  }
  Udp u(s.udp_port());
  CHECK(u.ask("wake up") == "OK 1\n");
  auto l = follower.line();
  REQUIRE(l);
  CHECK(split_tabs(*l).back() == "wake up");
  CHECK(stat_value(s.tcp_port(), "tcp_closed_idle") == 1);
  CHECK(s.wait_log(": idle"));
}

TEST_CASE("server: --max-clients 3: the 4th connection gets ERR server busy and is closed") {
  ServerProcess s({"--max-clients", "3"});
  REQUIRE(s.started());
  std::vector<std::unique_ptr<Tcp>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<Tcp>(s.tcp_port()));
    CHECK(conns.back()->send("PING\n"));
    CHECK(conns.back()->line() == "PONG");
  }
  {
    Tcp fourth(s.tcp_port());
    CHECK(fourth.line() == "ERR server busy");
    CHECK(fourth.closed());
  }
  {
    Tcp fifth(s.tcp_port());
    CHECK(fifth.line() == "ERR server busy");
    CHECK(fifth.closed());
  }
  CHECK(s.wait_log("server busy (--max-clients 3 reached)"));
  Udp u(s.udp_port());
  CHECK(u.ask("udp is not limited") == "OK 1\n");
  // The three keep working; when one leaves, a new connection fits again.
  for (auto& c : conns) {
    CHECK(c->send("PING\n"));
    CHECK(c->line() == "PONG");
  }
  CHECK(conns[0]->send("QUIT\n"));
  CHECK(conns[0]->line() == "BYE");
  CHECK(conns[0]->closed());
  bool got_in = false;
  for (int64_t deadline = now_ms() + 3000; !got_in && now_ms() < deadline;) {
    Tcp again(s.tcp_port());
    CHECK(again.send("STATS\n"));
    auto lines = again.until("END");
    got_in = !lines.empty() && lines[0].rfind("notes_stored", 0) == 0;
    if (got_in) {
      CHECK(std::find(lines.begin(), lines.end(), "tcp_refused_busy 2") != lines.end());
    } else {
      CHECK(lines == std::vector<std::string>{"ERR server busy"});
    }
  }
  CHECK(got_in);
}

TEST_CASE("server: --allow: sources outside get no UDP reply, nothing stored, TCP closed at once") {
  {
    ServerProcess s({"--allow", "10.0.0.0/8"});
    REQUIRE(s.started());
    Udp u(s.udp_port());
    CHECK(u.ask("stranger", 500) == std::nullopt);
    CHECK(u.ask(marked(9, 1, 1, {"marked stranger"}), 200) == std::nullopt);
    CHECK(u.ask(std::string(20000, 'x'), 200) == std::nullopt);  // not even an ERR
    Tcp t(s.tcp_port());
    REQUIRE(t.connected());
    CHECK(t.closed(2000));
    CHECK(t.line(0) == std::nullopt);
    CHECK(file_size(s.store_path()) == 0);
  }
  {
    // Allow 127.0.0.2 only (and a network that is not here): 127.0.0.1 is a stranger.
    ServerProcess s({"--allow", "10.0.0.0/8", "--allow", "127.0.0.2/32"});
    REQUIRE(s.started());
    Udp out(s.udp_port());
    Udp in(s.udp_port(), "127.0.0.1", "127.0.0.2");
    CHECK(out.ask("from .1", 500) == std::nullopt);
    CHECK(in.ask("from .2") == "OK 1\n");
    CHECK(out.ask("from .1 again", 200) == std::nullopt);
    Tcp t_out(s.tcp_port());
    CHECK(t_out.send("HISTORY\n"));
    CHECK(t_out.closed(2000));
    CHECK(t_out.line(0) == std::nullopt);
    Tcp t_in(s.tcp_port(), "127.0.0.1", "127.0.0.2");
    CHECK(t_in.send("HISTORY\n"));
    auto h = t_in.until("END");
    REQUIRE(h.size() == 2);
    CHECK(split_tabs(h[0]).back() == "from .2");
    CHECK(h[1] == "END 1");
    CHECK(t_in.send("STATS\n"));
    auto st = t_in.until("END");
    CHECK(std::find(st.begin(), st.end(), "udp_dropped_not_allowed 2") != st.end());
    CHECK(std::find(st.begin(), st.end(), "tcp_refused_not_allowed 1") != st.end());
    CHECK(std::find(st.begin(), st.end(), "udp_datagrams_received 1") != st.end());
    CHECK(stored_texts(s) == std::vector<std::string>{"from .2"});  // .1 may not read
  }
  {
    ServerProcess s({"--allow", "127.0.0.0/8"});
    REQUIRE(s.started());
    Udp a(s.udp_port()), b(s.udp_port(), "127.0.0.1", "127.0.0.2");
    CHECK(a.ask("one") == "OK 1\n");
    CHECK(b.ask("two") == "OK 2\n");
    Tcp t(s.tcp_port());
    CHECK(t.send("PING\n"));
    CHECK(t.line() == "PONG");
    CHECK(stat_value(s.tcp_port(), "udp_dropped_not_allowed") == 0);
  }
}

TEST_CASE("server: --rate 5 --rate-burst 5: the 6th quick note gets ERR rate limited") {
  ServerProcess s({"--rate", "5", "--rate-burst", "5"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  for (int i = 1; i <= 6; ++i) CHECK(u.send("quick " + std::to_string(i)));
  std::vector<std::string> replies;
  for (int i = 0; i < 6; ++i) {
    auto r = u.recv();
    REQUIRE(r);
    replies.push_back(*r);
  }
  std::sort(replies.begin(), replies.end());
  CHECK(replies == std::vector<std::string>{"ERR rate limited\n", "OK 1\n", "OK 2\n", "OK 3\n",
                                            "OK 4\n", "OK 5\n"});
  CHECK(stored_checked(s) ==
        std::vector<std::string>{"quick 1", "quick 2", "quick 3", "quick 4", "quick 5"});
  // The bucket is per source address, not per port: a new socket on 127.0.0.1 shares it.
  Udp same_host(s.udp_port());
  CHECK(same_host.ask("same host") == "ERR rate limited\n");
  // Another source address has its own bucket.
  Udp other(s.udp_port(), "127.0.0.1", "127.0.0.2");
  CHECK(other.ask("elsewhere") == "OK 6\n");
  // A marked datagram over the rate: nothing taken, "ERR <first> rate limited".
  std::string m = marked(42, 1, 1, {"m1", "m2", "m3", "m4", "m5"});
  CHECK(u.ask(m) == "ERR 1 rate limited\n");
  CHECK(stored_checked(s).size() == 6);
  // The bucket refills at 5 per second: the same note goes through soon.
  std::optional<std::string> r;
  for (int64_t deadline = now_ms() + 3000; now_ms() < deadline;) {
    r = u.ask("later");
    if (r != "ERR rate limited\n") break;
    u.recv(100);  // paces the retries (returns nothing: every reply was read)
  }
  CHECK(r == "OK 7\n");
  CHECK(stat_value(s.tcp_port(), "udp_refused_rate_limited") >= 3);
}

TEST_CASE("server: a failed append (RLIMIT_FSIZE) gets ERR store unavailable, leaves nothing "
          "partial, reads go on, writing resumes when the fault clears") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const std::string pad(400, 'p');
  for (int i = 1; i <= 3; ++i)
    CHECK(u.ask(pad + std::to_string(i)) == "OK " + std::to_string(i) + "\n");
  const std::string log = s.store_path();
  // Room for about two more notes (each line is ~450 bytes).
  REQUIRE(set_limit(s.pid(), RLIMIT_FSIZE, file_size(log) + 1000));
  uint64_t seq = 3;
  std::optional<std::string> r;
  for (int i = 0; i < 10; ++i) {
    r = u.ask(pad + std::to_string(seq + 1));
    if (r != "OK " + std::to_string(seq + 1) + "\n") break;
    ++seq;
  }
  CHECK(r == "ERR store unavailable\n");
  CHECK(seq >= 4);
  size_t count = 0;
  CHECK(store_intact(log, &count));
  CHECK(count == seq);
  CHECK(file_size(s.data_dir() + "/notes.chk") == 80 * seq);  // a record and a mark each
  // A burst arriving together fails together; a marked datagram gets "ERR <first> ...".
  for (int i = 0; i < 5; ++i) CHECK(u.send(pad + "burst"));
  for (int i = 0; i < 5; ++i) CHECK(u.recv() == "ERR store unavailable\n");
  std::string m = marked(77, 1, 1, {pad + "marked 1", pad + "marked 2"});
  CHECK(u.ask(m) == "ERR 1 store unavailable\n");
  CHECK(store_intact(log, &count));
  CHECK(count == seq);
  CHECK(s.wait_log("store unavailable"));
  // Reads keep working.
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(!h.empty());
  CHECK(h.back() == "END " + std::to_string(seq));
  CHECK(tcp_command(s.tcp_port(), "CLIENTS").size() == 2);
  CHECK(stat_value(s.tcp_port(), "store_append_failures") >= 3);
  CHECK(stat_value(s.tcp_port(), "udp_refused_store_unavailable") >= 7);
  // The fault clears: the next note, and the marked retry, are stored (once).
  REQUIRE(set_limit(s.pid(), RLIMIT_FSIZE, RLIM_INFINITY));
  CHECK(u.ask("back") == "OK " + std::to_string(seq + 1) + "\n");
  CHECK(u.ask(m) == "OK 1 2 " + std::to_string(seq + 2) + "\n");
  CHECK(u.ask(m) == "OK 1 2 " + std::to_string(seq + 2) + "\n");
  CHECK(store_intact(log, &count));
  CHECK(count == seq + 3);
  CHECK(s.stop(9) == 128 + 9);
  // And the store the fault left behind starts clean.
  ServerProcess again({}, s.data_dir());
  REQUIRE(again.started());
  CHECK(again.start_line().find(" notes=" + std::to_string(seq + 3)) != std::string::npos);
  CHECK(again.log().find("torn") == std::string::npos);
}

TEST_CASE("server: a full disk (small tmpfs) gets ERR store unavailable, nothing partial, "
          "writing resumes when space is freed") {
  if (::geteuid() != 0) {
    MESSAGE("not root: tmpfs case skipped (RLIMIT_FSIZE case covers the same path)");
    return;
  }
  TempDir t;
  TmpfsMount mnt(t.path() + "/mnt", "256k");
  if (!mnt.mounted()) {
    MESSAGE("cannot mount a tmpfs here: skipped");
    return;
  }
  const std::string data = t.path() + "/mnt/data";
  ServerProcess s({}, data);
  REQUIRE(s.started());
  Udp u(s.udp_port());
  const std::string big(4000, 'b');
  CHECK(u.ask(big + "1") == "OK 1\n");
  // Fill the file system.
  const std::string filler = t.path() + "/mnt/filler";
  {
    Fd f(::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    REQUIRE(f.valid());
    std::string chunk(4096, 'f');
    while (::write(f.get(), chunk.data(), chunk.size()) > 0) {
    }
  }
  uint64_t seq = 1;
  std::optional<std::string> r;
  for (int i = 0; i < 10; ++i) {
    r = u.ask(big + std::to_string(seq + 1));
    if (r != "OK " + std::to_string(seq + 1) + "\n") break;
    ++seq;
  }
  CHECK(r == "ERR store unavailable\n");
  size_t count = 0;
  CHECK(store_intact(s.store_path(), &count));
  CHECK(count == seq);
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(!h.empty());
  CHECK(h.back() == "END " + std::to_string(seq));
  CHECK(s.wait_log("store unavailable"));
  REQUIRE(::unlink(filler.c_str()) == 0);
  CHECK(u.ask(big + "after") == "OK " + std::to_string(seq + 1) + "\n");
  CHECK(store_intact(s.store_path(), &count));
  CHECK(count == seq + 1);
  CHECK(s.stop(9) == 128 + 9);
}

TEST_CASE("server: a HISTORY reader that stalls is closed after --idle-timeout without "
          "progress, and counted") {
  TempDir t;
  const std::string data = t.path() + "/data";
  write_notes_log(data, 100000, 100);  // ~15 MB: more than the socket buffers hold
  ServerProcess s({"--idle-timeout", "1"}, data);
  REQUIRE(s.started());
  Tcp h(s.tcp_port());
  CHECK(h.send("HISTORY\n"));
  int64_t t0 = now_ms();
  CHECK(s.wait_log("output stalled", 6000));
  CHECK(now_ms() - t0 < 6000);
  CHECK(stat_value(s.tcp_port(), "tcp_closed_stalled") == 1);
  Udp u(s.udp_port());
  CHECK(u.ask("still here") == "OK 100001\n");
}

TEST_CASE("server: a follower that stops reading is closed when its backlog passes the hard "
          "limit") {
  ServerProcess s({"--fsync", "never"});
  REQUIRE(s.started());
  Tcp f(s.tcp_port());
  CHECK(f.send("FOLLOW\n"));
  Tcp reader(s.tcp_port());  // a follower that does read, for contrast
  CHECK(reader.send("FOLLOW\n"));
  Udp u(s.udp_port());
  const std::string note(4000, 'F');
  uint64_t seq = 0;
  bool closed = false;
  // At most ~48 MB: 16 MiB of backlog plus whatever the kernel buffers hold.
  for (int batch = 0; batch < 120 && !closed; ++batch) {
    for (int i = 0; i < 100; ++i) CHECK(u.send(note));
    for (int i = 0; i < 100; ++i) {
      auto r = u.recv();
      REQUIRE(r);
      CHECK(*r == "OK " + std::to_string(++seq) + "\n");
    }
    drain(reader);
    closed = s.log().find("follower backlog") != std::string::npos;
  }
  CHECK(closed);
  CHECK(wait_stat(s.tcp_port(), "tcp_closed_stalled", 1) == 1);
  // The reading follower is still there and gets the next note.
  CHECK(u.ask("after") == "OK " + std::to_string(seq + 1) + "\n");
  std::string tail = reader.read_through("\tafter\n", 10000);
  CHECK(tail.size() >= 6);
  CHECK(tail.substr(tail.size() - 6) == "after\n");
}

TEST_CASE("server: out of descriptors: new connections get ERR server busy, the loop does not "
          "spin, existing clients are served") {
  ServerProcess s;
  REQUIRE(s.started());
  Tcp first(s.tcp_port());
  CHECK(first.send("PING\n"));
  CHECK(first.line() == "PONG");
  REQUIRE(set_limit(s.pid(), RLIMIT_NOFILE, 24));
  std::vector<std::unique_ptr<Tcp>> conns;
  int busy = 0;
  for (int i = 0; i < 40; ++i) {
    conns.push_back(std::make_unique<Tcp>(s.tcp_port()));
    CHECK(conns.back()->send("PING\n"));
    auto l = conns.back()->line();
    if (l == "ERR server busy") ++busy;
    else CHECK(l == "PONG");
  }
  CHECK(busy > 0);
  CHECK(s.wait_log("out of file descriptors"));
  // Leave a few connection attempts pending and measure the server's CPU for half a second.
  std::vector<std::unique_ptr<Tcp>> more;
  for (int i = 0; i < 5; ++i) more.push_back(std::make_unique<Tcp>(s.tcp_port()));
  int64_t c0 = cpu_ticks(s.pid());
  int64_t t0 = now_ms();
  CHECK(first.line(500) == std::nullopt);
  int64_t used = cpu_ticks(s.pid()) - c0;
  int64_t ticks = (now_ms() - t0) * ::sysconf(_SC_CLK_TCK) / 1000;
  MESSAGE("server CPU while out of descriptors: " << used << " of " << ticks << " ticks");
  CHECK(used * 5 < ticks);  // under 20%
  CHECK(first.send("PING\n"));
  CHECK(first.line() == "PONG");
  Udp u(s.udp_port());
  CHECK(u.ask("still writing") == "OK 1\n");
}
