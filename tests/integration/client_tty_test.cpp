// client_tty_test.cpp — bin/dailynet on a terminal (issue 7), through a pseudo-terminal:
// colour in the interactive session on a tty and never with NO_COLOR, into a pipe, or for
// tsv/json; progress on a terminal stderr for a large send (200,000 lines) and for history
// into a file, never when stderr is not a terminal; QUIT's BYE read before closing; and
// --host [::1] (skipped without IPv6). Loopback only; every wait is bounded; every process
// started here is killed by its PID.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "pty.hpp"

using namespace harness;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool has_escape(const std::string& s) { return contains(s, "\x1b"); }

// An SGR (colour) sequence: ESC [ digits/semicolons m. The line editor's own cursor
// sequences are not colour.
bool has_sgr(const std::string& s) {
  for (size_t i = s.find("\x1b["); i != std::string::npos; i = s.find("\x1b[", i + 1)) {
    size_t j = i + 2;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';')) ++j;
    if (j < s.size() && s[j] == 'm') return true;
  }
  return false;
}

// True when a socket can be bound to [addr]:0 (IPv6).
bool can_bind6(const char* addr) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  bool ok = ::inet_pton(AF_INET6, addr, &a.sin6_addr) == 1 &&
            ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string many_lines(int n, const std::string& prefix) {
  std::string s;
  s.reserve(static_cast<size_t>(n) * (prefix.size() + 8));
  for (int i = 0; i < n; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

// A one-connection fake server on 127.0.0.1 (a thread): reads the command, answers with
// `lines`, then waits for release() before "END n"; then reads QUIT and answers BYE, and
// records whether the client kept the connection open until the BYE was read.
class FakeHistoryServer {
 public:
  explicit FakeHistoryServer(std::string lines, size_t count)
      : lines_(std::move(lines)), count_(count) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(lfd_, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::pipe2(release_, O_CLOEXEC) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeHistoryServer() {
    release();
    if (thread_.joinable()) thread_.join();
    ::close(lfd_);
    ::close(release_[0]);
  }
  uint16_t port() const { return port_; }
  // Waits (bounded by the thread's own timeouts) until the connection is over, so that the
  // flags below are final.
  void join() {
    release();
    if (thread_.joinable()) thread_.join();
  }
  void release() {
    if (release_[1] >= 0) {
      ::close(release_[1]);
      release_[1] = -1;
    }
  }
  std::atomic<bool> got_quit{false}, open_until_bye{false}, eof_after_bye{false};

 private:
  bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
  }
  std::string read_line(int c, int timeout_ms) {
    std::string l;
    int64_t deadline = now_ms() + timeout_ms;
    char ch;
    while (now_ms() < deadline) {
      if (!wait_readable(c, 100)) continue;
      if (::read(c, &ch, 1) != 1) break;
      if (ch == '\n') return l;
      l += ch;
    }
    return l;
  }
  void write_all(int c, const std::string& s) {
    size_t done = 0;
    while (done < s.size()) {
      ssize_t n = ::send(c, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  void serve() {
    if (!wait_readable(lfd_, 20000)) return;
    int c = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    read_line(c, 5000);  // HISTORY
    write_all(c, lines_);
    wait_readable(release_[0], 30000);  // until the test saw what it wanted (or closed)
    write_all(c, "END " + std::to_string(count_) + "\n");
    if (read_line(c, 5000) == "QUIT") {
      got_quit = true;
      // A client that waits for the BYE has not closed yet: no end of stream within 200 ms
      // (one that closes right after QUIT does so at once, and its socket would answer the
      // BYE with a reset).
      pollfd p{c, POLLRDHUP, 0};
      open_until_bye = ::poll(&p, 1, 200) == 0;
      write_all(c, "BYE\n");
      // A client that read the BYE closes cleanly: EOF, not a reset.
      char buf[64];
      if (wait_readable(c, 5000)) eof_after_bye = ::recv(c, buf, sizeof buf, 0) == 0;
    }
    ::close(c);
  }

  std::string lines_;
  size_t count_;
  int lfd_ = -1;
  int release_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace

// ---- colour ---------------------------------------------------------------------------------

TEST_CASE("client tty: the interactive session is coloured on a terminal, refusals in red") {
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  REQUIRE(run(with_port({"send"}, s.udp_port()), "first note\nsecond note\n").code == 0);
  PtyChild t(with_port({"--no-pager"}, s.tcp_port()), {"TZ=UTC", "PAGER=cat", "TERM=xterm"});
  REQUIRE(t.started());
  CHECK(t.expect("2 notes \u2014 type a note, or h for help"));
  // seq in its colour, sender in another, time and the closing line dim
  CHECK(contains(t.out, "\x1b[33m1\x1b[0m"));
  CHECK(contains(t.out, "\x1b[36m127.0.0.1:"));
  CHECK(contains(t.out, "\x1b[2m2 notes \u2014 type a note, or h for help\x1b[0m"));
  t.type("a note far too long for this server\n");
  CHECK(t.expect("\x1b[31mdailynet: note refused by 127.0.0.1:" + std::to_string(s.udp_port())));
  t.type("\x15short one\n");  // the refused note stays on the line: Ctrl-U clears it
  CHECK(t.expect("#3"));
  t.type("q\n");
  CHECK(t.wait() == 1);  // a note was refused
}

TEST_CASE("client tty: history and clients in text are coloured on a terminal; NO_COLOR wins") {
  ServerProcess s;
  REQUIRE(s.started());
  REQUIRE(run(with_port({"send"}, s.udp_port()), "first note\n").code == 0);
  for (const char* cmd : {"history", "clients"}) {
    CAPTURE(cmd);
    PtyChild t(with_port({cmd, "-n"}, s.tcp_port()), {"TZ=UTC", "TERM=xterm"});
    REQUIRE(t.started());
    CHECK(t.wait() == 0);
    CHECK(contains(t.out, "\x1b[36m127.0.0.1:"));  // the sender in its colour
    PtyChild plain(with_port({cmd, "-n"}, s.tcp_port()), {"TZ=UTC", "TERM=xterm", "NO_COLOR=1"});
    REQUIRE(plain.started());
    CHECK(plain.wait() == 0);
    CHECK(contains(plain.out, "127.0.0.1:"));
    CHECK_MESSAGE(!has_escape(plain.out), plain.out);
  }
}

TEST_CASE("client tty: NO_COLOR=1 turns colour off, even on a terminal") {
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  REQUIRE(run(with_port({"send"}, s.udp_port()), "first note\n").code == 0);
  PtyChild t(with_port({"--no-pager"}, s.tcp_port()), {"TZ=UTC", "PAGER=cat", "NO_COLOR=1"});
  REQUIRE(t.started());
  CHECK(t.expect("1 note \u2014 type a note, or h for help"));
  t.type("a note far too long for this server\n");
  CHECK(t.expect("note refused by"));
  t.type("\x15r\n");  // the refused note stays on the line: Ctrl-U clears it
  CHECK(t.expect("(no new notes)"));
  t.type("q\n");
  CHECK(t.wait() == 1);
  CHECK(contains(t.out, "first note"));
  CHECK_MESSAGE(!has_sgr(t.out), t.out);
}

TEST_CASE("client tty: no colour into a pipe, nor for --format tsv or json") {
  ServerProcess s;
  REQUIRE(s.started());
  REQUIRE(run(with_port({"send"}, s.udp_port()), "first note\nsecond note\n").code == 0);
  // Into a pipe: history in every format, clients, stats; nothing on stderr either.
  for (const char* format : {"text", "tsv", "json"}) {
    auto h = run(with_port({"history", "--format", format}, s.tcp_port()), "", 20000,
                 {"TERM=xterm"});
    CHECK(h.code == 0);
    CHECK(contains(h.out, "second note"));
    CHECK_FALSE(has_escape(h.out));
    CHECK(h.err.empty());
  }
  for (const char* cmd : {"clients", "stats"}) {
    auto r = run(with_port({cmd}, s.tcp_port()));
    CHECK(r.code == 0);
    CHECK_FALSE(r.out.empty());
    CHECK_FALSE(has_escape(r.out));
  }
  // Interactive on a terminal, but in tsv or json: plain.
  for (const char* format : {"tsv", "json"}) {
    PtyChild t(with_port({"--no-pager", "--format", format}, s.tcp_port()),
               {"TZ=UTC", "PAGER=cat", "TERM=xterm"});
    REQUIRE(t.started());
    CHECK(t.expect("notes \u2014 type a note, or h for help"));
    t.type("/who\n");
    CHECK(t.expect("127.0.0.1:"));
    t.type("q\n");
    CHECK(t.wait() == 0);
    CHECK(contains(t.out, "second note"));
    CHECK_MESSAGE(!has_sgr(t.out), t.out);
  }
}

// ---- progress -------------------------------------------------------------------------------

TEST_CASE("client tty: send of 200,000 lines shows progress on a terminal stderr, then erases it") {
  ServerProcess s({"--fsync", "never"});
  REQUIRE(s.started());
  const int n = 200000;
  const std::string input = many_lines(n, "progress note ");
  // stdin is a pipe that stays open until the progress line has shown every note: the test
  // does not depend on how fast the send is.
  int in[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  PtyChild t(with_port({"send"}, s.udp_port()), {"TERM=xterm"}, {in[0], "", ""});
  REQUIRE(t.started());
  ::close(in[0]);
  std::thread writer([&] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t w = ::write(in[1], input.data() + done, input.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
  });
  bool seen = t.expect("200,000 notes sent, 200,000 acknowledged", 60000);
  writer.join();
  ::close(in[1]);
  CHECK_MESSAGE(seen, t.out.substr(t.out.size() > 400 ? t.out.size() - 400 : 0));
  CHECK(t.wait(30000) == 0);
  CHECK(contains(t.out, "\r"));
  // Erased at the end: after the last progress text only the erase sequence.
  size_t last = t.out.rfind("acknowledged");
  REQUIRE(last != std::string::npos);
  CHECK(contains(t.out.substr(last), "\r\x1b[K"));
  CHECK(t.out.substr(t.out.rfind("\r\x1b[K")) == "\r\x1b[K");
  CHECK(harness::stat_value(s.tcp_port(), "udp_notes_accepted") == n);
}

TEST_CASE("client tty: no progress when stderr is not a terminal") {
  ServerProcess s({"--fsync", "never"});
  REQUIRE(s.started());
  const std::string input = many_lines(200000, "quiet note ");
  // stderr into a pipe (harness::run): silent.
  auto r = run(with_port({"send"}, s.udp_port()), input, 60000, {"TERM=xterm"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.empty());
  // stdout on a terminal, stderr into a file: silent too; history likewise.
  TempDir dir;
  const std::string err = dir.path() + "/err", out = dir.path() + "/out";
  PtyChild t(with_port({"history"}, s.tcp_port()), {"TERM=xterm"}, {-1, out, err});
  REQUIRE(t.started());
  CHECK(t.wait(30000) == 0);
  CHECK(read_file(err).empty());
  CHECK(split_lines(read_file(out)).size() == 200000);
  // history onto the terminal itself: the notes, no progress line.
  PtyChild h(with_port({"history", "--last", "3"}, s.tcp_port()), {"TERM=xterm"});
  REQUIRE(h.started());
  CHECK(h.wait(30000) == 0);
  CHECK(contains(h.out, "quiet note 199999"));
  CHECK_FALSE(contains(h.out, "received"));
}

TEST_CASE("client tty: history into a file shows notes and bytes received on a terminal stderr") {
  std::string lines;
  const size_t n = 5000;
  for (size_t i = 1; i <= n; ++i)
    lines += std::to_string(i) + "\t2026-11-24T08:15:30.123Z\t127.0.0.1:5\tnote " +
             std::to_string(i) + "\n";
  FakeHistoryServer server(lines, n);
  TempDir dir;
  const std::string out = dir.path() + "/history.tsv";
  PtyChild t({client(), "history", "--format", "tsv", "--tcp-port", std::to_string(server.port())},
             {"TERM=xterm"}, {-1, out, ""});
  REQUIRE(t.started());
  // The server holds back END until the progress line shows every note received.
  bool seen = t.expect("5,000 notes, ", 20000) && t.expect(" received");
  CHECK_MESSAGE(seen, t.out);
  server.release();
  CHECK(t.wait(20000) == 0);
  CHECK(read_file(out) == lines);
  // Erased at the end; nothing else on the terminal.
  CHECK(t.out.substr(t.out.rfind("\r\x1b[K")) == "\r\x1b[K");
  CHECK_FALSE(contains(t.out, "dailynet:"));
  // QUIT's BYE was read before the connection closed (no reset for the server's BYE).
  server.join();  // the flags are final once the fake server is done (a loaded machine)
  CHECK(server.got_quit);
  CHECK(server.open_until_bye);
  CHECK(server.eof_after_bye);
}

// ---- --host [::1] ----------------------------------------------------------------------------

TEST_CASE("client tty: --host '[::1]' (brackets around an IPv6 literal) works") {
  if (!can_bind6("::1")) {
    MESSAGE("skipped: no IPv6 loopback (::1) on this machine");
    return;
  }
  ServerProcess s({"--host", "::1"});
  REQUIRE(s.started());
  auto send = run({client(), "--host", "[::1]", "--port", std::to_string(s.udp_port()),
                   "--timeout", "5", "send", "over v6 in brackets"});
  CHECK_MESSAGE(send.code == 0, send.err);
  auto h = run({client(), "history", "--host", "[::1]", "--port", std::to_string(s.tcp_port()),
                "--format", "tsv", "--timeout", "5"});
  CHECK_MESSAGE(h.code == 0, h.err);
  CHECK(contains(h.out, "\tover v6 in brackets"));
  auto env = run({client(), "clients", "--port", std::to_string(s.tcp_port()), "--timeout", "5"},
                 "", 20000, {"DAILYNET_HOST=[::1]"});
  CHECK_MESSAGE(env.code == 0, env.err);
  CHECK(contains(env.out, "[::1]:"));
}
