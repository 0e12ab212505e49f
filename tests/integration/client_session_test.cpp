// client_session_test.cpp — the interactive session done properly (issue 12), driven through a
// pseudo-terminal: long lines typed and pasted (never cut), pasted lines are notes and never
// commands (nothing left for the shell), editing keys, notes by others shown live above a
// half-typed line, a note typed while the server is down stored exactly once when it is back,
// the outbox sent once by the next run, a long history opening at its newest note, the
// terminal restored after SIGTERM and a crash; and `send` against --rate. Loopback only; every
// wait bounded (generous: the machine is loaded); every process killed by its PID.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "pty.hpp"

using namespace harness;

namespace {

constexpr int kWait = 20000;  // ms: generous, the machine is shared

bool raw_mode(int master) {
  termios t{};
  REQUIRE(::tcgetattr(master, &t) == 0);
  return !(t.c_lflag & ICANON) && !(t.c_lflag & ECHO);
}

std::vector<std::string> session(uint16_t port) { return with_port({}, port); }

}  // namespace

TEST_CASE("session: a 4,000-byte typed line and 6,000 bytes of CJK are stored whole") {
  ServerProcess s({"--max-note", "8000"});
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
  REQUIRE(t.started());
  REQUIRE(t.expect("no notes yet", kWait));
  std::string line;
  for (int i = 0; i < 4000; ++i) line += static_cast<char>('a' + i % 26);
  for (size_t i = 0; i < line.size(); i += 500) t.type(line.substr(i, 500));  // typed in pieces
  CHECK(t.expect("[4,000 bytes] note", kWait));
  t.type("\r");
  CHECK(t.expect("#1", kWait));
  std::string cjk;
  for (int i = 0; i < 2000; ++i) cjk += "\xe4\xbd\xa0";  // 你, 6,000 bytes
  for (size_t i = 0; i < cjk.size(); i += 600) t.type(cjk.substr(i, 600));
  t.type("\r");
  CHECK(t.expect("#2", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{line, cjk});
}

TEST_CASE("session: a 5,000-byte bracketed paste is stored whole, or refused as too long and kept") {
  std::string big(5000, 'p');
  {
    ServerProcess s({"--max-note", "8000"});
    REQUIRE(s.started());
    PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
    REQUIRE(t.expect("no notes yet", kWait));
    t.type("\x1b[200~" + big + "\n\x1b[201~");
    CHECK(t.expect("#1", kWait));
    t.type("q\r");
    CHECK(t.wait(kWait) == 0);
    auto got = stored_texts(s);
    CHECK(got.size() == 1);
    size_t first_size = got.empty() ? 0 : got[0].size();
    CHECK_MESSAGE(got == std::vector<std::string>{big}, first_size);
  }
  ServerProcess s;  // --max-note 4096
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("\x1b[200~" + big + "\x1b[201~");  // one line: onto the line being typed
  CHECK(t.expect("[5,000 bytes] note", kWait));
  t.type("\r");
  CHECK(t.expect("note too long (max 4096 bytes); it is back on the line", kWait));
  CHECK(t.expect("[5,000 bytes, max 4,096] note", kWait));  // the line is kept, never cut
  t.type("\r");  // Enter again: refused here, still kept
  CHECK(t.expect("note not sent: note too long (max 4096 bytes)", kWait));
  t.type("\x15");  // Ctrl-U
  t.type("q\r");
  CHECK(t.wait(kWait) == 1);
  CHECK(stored_texts(s).empty());
}

TEST_CASE("session: a 20,000-byte pasted note is stored whole when --max-note allows it") {
  ServerProcess s({"--max-note", "60000"});
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet", kWait));
  std::string big(20000, 'w');
  t.type("\x1b[200~" + big + "\n\x1b[201~");
  CHECK(t.expect("#1", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  auto got = stored_texts(s);
  size_t first_size = got.empty() ? 0 : got[0].size();
  CHECK_MESSAGE(got == std::vector<std::string>{big}, first_size);
}

TEST_CASE("session: pasted lines are notes, a q line too; nothing is left for the shell") {
  ServerProcess s;
  REQUIRE(s.started());
  std::string cmd = client() + " --port " + std::to_string(s.tcp_port()) +
                    "; printf 'after:'; IFS= read -r x; printf '[%s]\\n' \"$x\"";
  PtyChild t({"/bin/sh", "-c", cmd}, {"PAGER=cat"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("\x1b[200~Dear diary,\ntoday was long.\nq\nthe end\n\x1b[201~");
  CHECK(t.expect("(pasted: 4 notes, one per line)", kWait));
  CHECK(t.expect("#4", kWait));
  // Without bracketed paste: several lines in one read are a paste too; blank ones skipped.
  t.type("one\r   \rq\rtwo\r");
  CHECK(t.expect("(1 note of nothing but spaces skipped)", kWait));
  CHECK(t.expect("#7", kWait));
  t.type("r\r");  // the session is still open
  CHECK(t.expect("(no new notes)", kWait));
  t.type("\x04");  // Ctrl-D
  CHECK(t.expect("after:", kWait));
  t.type("z\n");
  CHECK(t.expect("[z]", kWait));  // the shell read only what was typed after the exit
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"Dear diary,", "today was long.", "q",
                                                    "the end", "one", "q", "two"});
}

TEST_CASE("session: Left + insert, Backspace over CJK, Up recall, Ctrl-U, Ctrl-A/E/W") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("helo");
  t.type("\x1b[D");  // Left
  t.type("l\r");
  CHECK(t.expect("#1", kWait));
  t.type("ab\xe4\xbd\xa0\xe5\xa5\xbd");  // ab你好
  t.type("\x7f");
  t.type("\x7f");
  t.type("c\r");
  CHECK(t.expect("#2", kWait));
  t.type("\x1b[A");  // Up: "abc"
  t.type("\x1b[A");  // Up: "hello"
  t.type("\r");
  CHECK(t.expect("#3", kWait));
  t.type("junk");
  t.type("\x15");  // Ctrl-U
  t.type("keep\r");
  CHECK(t.expect("#4", kWait));
  t.type("world");
  t.type("\x01");  // Ctrl-A
  t.type("hello ");
  t.type("\x05");  // Ctrl-E
  t.type(" extra");
  t.type("\x17");  // Ctrl-W: " extra" goes... the word
  t.type("!\r");
  CHECK(t.expect("#5", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) ==
        std::vector<std::string>{"hello", "abc", "hello", "keep", "hello world !"});
  // Up/Down recall is kept across sessions, in a 0600 file.
  struct stat st {};
  REQUIRE(::stat((t.state_dir() + "/dailynet/history").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_file(t.state_dir() + "/dailynet/history").find("keep\n") != std::string::npos);
}

TEST_CASE("session: a note from another client appears above a half-typed line, sent intact") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("half typ");
  CHECK(t.expect("half typ", kWait));
  REQUIRE(run(with_port({"send", "live from elsewhere"}, s.udp_port())).code == 0);
  CHECK(t.expect("live from elsewhere", kWait));
  CHECK(t.expect("note\u203a half typ", kWait));  // drawn again below it
  t.type("ed\r");
  CHECK(t.expect("#2", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"live from elsewhere", "half typed"});
}

TEST_CASE("session: a note typed while the server is down is pending, then stored exactly once") {
  TempDir dir;
  ServerProcess first({}, dir.path());
  REQUIRE(first.started());
  std::string port = std::to_string(first.udp_port());
  PtyChild t(session(first.tcp_port()), {"PAGER=cat", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("before\r");
  REQUIRE(t.expect("#1", kWait));
  CHECK(first.stop() == 0);
  t.type("typed while down\r");
  CHECK(t.expect("(1 pending) note", kWait));
  ServerProcess second({"--port", port}, dir.path());
  REQUIRE(second.started());
  CHECK(t.expect("#2", kWait));
  t.type("after\r");
  CHECK(t.expect("#3", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(second) == std::vector<std::string>{"before", "typed while down", "after"});
}

TEST_CASE("session: a note pending at the end is sent once by the next run, from the outbox") {
  TempDir dir;
  ServerProcess first({}, dir.path());
  REQUIRE(first.started());
  std::string port = std::to_string(first.udp_port());
  TempDir state;
  std::string xdg = "XDG_STATE_HOME=" + state.path();
  {
    PtyChild t(session(first.tcp_port()), {"PAGER=cat", "NO_COLOR=1", xdg});
    REQUIRE(t.expect("no notes yet", kWait));
    CHECK(first.stop() == 0);
    t.type("kept for later\r");
    CHECK(t.expect("(1 pending) note", kWait));
    t.type("\x04");
    CHECK(t.expect("kept in " + state.path() + "/dailynet/outbox", kWait));
    CHECK(t.wait(kWait) == 3);
  }
  struct stat st {};
  REQUIRE(::stat((state.path() + "/dailynet/outbox").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  ServerProcess second({"--port", port}, dir.path());
  REQUIRE(second.started());
  RunResult r = run(with_port({"send", "the next one"}, second.udp_port()), "", kWait, {xdg});
  CHECK(r.code == 0);
  CHECK(r.err.find("1 note left pending by an earlier session stored: #1") != std::string::npos);
  CHECK_FALSE(file_exists(state.path() + "/dailynet/outbox"));
  r = run(with_port({"send", "and another"}, second.udp_port()), "", kWait, {xdg});
  CHECK(r.code == 0);
  CHECK(stored_texts(second) ==
        std::vector<std::string>{"kept for later", "the next one", "and another"});
}

TEST_CASE("session: a pending note survives kill -9 of the client (write-ahead outbox), sent "
          "once by the next run; an acknowledged one leaves the outbox") {
  TempDir dir;
  ServerProcess first({}, dir.path());
  REQUIRE(first.started());
  std::string port = std::to_string(first.udp_port());
  TempDir state;
  std::string xdg = "XDG_STATE_HOME=" + state.path();
  const std::string outbox = state.path() + "/dailynet/outbox";
  {
    PtyChild t(session(first.tcp_port()), {"PAGER=cat", "NO_COLOR=1", xdg});
    REQUIRE(t.expect("no notes yet", kWait));
    CHECK(first.stop() == 0);
    t.type("pending then killed\r");
    CHECK(t.expect("(1 pending) note", kWait));  // written before the count is drawn
    CHECK(file_exists(outbox));
    ::kill(t.pid(), SIGKILL);
    CHECK(t.wait(kWait) != 0);
  }
  ServerProcess second({"--port", port}, dir.path());
  REQUIRE(second.started());
  RunResult r = run(with_port({"send", "the next one"}, second.udp_port()), "", kWait, {xdg});
  CHECK(r.code == 0);
  CHECK(r.err.find("1 note left pending by an earlier session stored: #1") != std::string::npos);
  CHECK_FALSE(file_exists(outbox));
  r = run(with_port({"send", "and another"}, second.udp_port()), "", kWait, {xdg});
  CHECK(r.code == 0);
  CHECK(stored_texts(second) ==
        std::vector<std::string>{"pending then killed", "the next one", "and another"});
  // Pending, then acknowledged while the session runs: the outbox entry goes.
  {
    PtyChild t(session(second.tcp_port()), {"PAGER=cat", "NO_COLOR=1", xdg});
    REQUIRE(t.expect("and another", kWait));
    CHECK(second.stop() == 0);
    t.type("pending then stored\r");
    CHECK(t.expect("(1 pending) note", kWait));
    CHECK(file_exists(outbox));
    ServerProcess fourth({"--port", port}, dir.path());
    REQUIRE(fourth.started());
    CHECK(t.expect("#4", kWait));
    int64_t until = now_ms() + kWait;
    while (file_exists(outbox) && now_ms() < until) ::poll(nullptr, 0, 20);
    CHECK_FALSE(file_exists(outbox));
    t.type("q\r");
    CHECK(t.wait(kWait) == 0);
    CHECK(stored_texts(fourth).size() == 4);
  }
}

TEST_CASE("session: a 5,000-note history opens in less at the newest note") {
  if (std::system("command -v less >/dev/null 2>&1") != 0) {
    MESSAGE("less is not installed (make deps installs it): skipped");
    return;
  }
  TempDir dir;
  write_notes_log(dir.path() + "/data", 5000, 20);
  ServerProcess s({}, dir.path() + "/data");
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"-PAGER", "-LESS"}, 24, 80);
  REQUIRE(t.started());
  CHECK(t.expect("note 5000 ", kWait));
  CHECK(t.out.find("note 1 .") == std::string::npos);  // the oldest page is never drawn
  t.type("q");  // leave less
  CHECK(t.expect("the pager opened at the newest note", kWait));
  CHECK(t.expect("5,000 notes \u2014 type a note", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
}

TEST_CASE("session: the terminal's modes come back after SIGTERM and after a crash") {
  ServerProcess s;
  REQUIRE(s.started());
  for (int sig : {SIGTERM, SIGSEGV}) {
    CAPTURE(sig);
    PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
    REQUIRE(t.expect("type a note", kWait));
    REQUIRE(t.expect("note", kWait));
    CHECK(raw_mode(t.master()));
    t.type("half");
    CHECK(t.expect("half", kWait));
    ::kill(t.pid(), sig);
    int code = t.wait(kWait);
    CHECK(code == (sig == SIGTERM ? 0 : 128 + SIGSEGV));
    CHECK_FALSE(raw_mode(t.master()));
    CHECK(t.out.find("\x1b[?2004l") != std::string::npos);  // bracketed paste off again
  }
}

TEST_CASE("session: --last N for the session; /find and /today through the query filters") {
  ServerProcess s;
  REQUIRE(s.started());
  REQUIRE(run(with_port({"send"}, s.udp_port()), "oldest note\nbuy Milk\nnewest note\n").code == 0);
  PtyChild t(with_port({"--last", "2"}, s.tcp_port()), {"PAGER=cat", "NO_COLOR=1"});
  REQUIRE(t.expect("buy Milk", kWait));
  REQUIRE(t.expect("newest note", kWait));
  REQUIRE(t.expect("2 notes", kWait));
  CHECK(t.out.find("oldest note") == std::string::npos);
  t.type("/find milk\r");
  CHECK(t.expect("(1 note with \"milk\")", kWait));
  t.type("/today\r");
  CHECK(t.expect("(3 notes today)", kWait));
  t.type("/find\r");
  CHECK(t.expect("/find wants a text", kWait));
  t.type(":q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s).size() == 3);
}

TEST_CASE("session: --last 0 shows no notes, now or live; a new note still appears live") {
  ServerProcess s;
  REQUIRE(s.started());
  for (const char* n : {"old one", "old two"})
    REQUIRE(run(with_port({"send", n}, s.udp_port()), "", kWait).code == 0);
  PtyChild t(with_port({"--last", "0"}, s.tcp_port()), {"PAGER=cat", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet selected by the filters", kWait));
  REQUIRE(run(with_port({"send", "fresh one"}, s.udp_port()), "", kWait).code == 0);
  CHECK(t.expect("fresh one", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(t.out.find("old one") == std::string::npos);
  CHECK(t.out.find("old two") == std::string::npos);
}

TEST_CASE("session: TERM=dumb reads plain lines and keeps the other rules") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "TERM=dumb"});
  REQUIRE(t.expect("no notes yet", kWait));
  CHECK_FALSE(raw_mode(t.master()));
  t.type("plain line\n");
  CHECK(t.expect("#1", kWait));
  t.type("exit\n");
  CHECK(t.wait(kWait) == 0);
  CHECK(t.out.find("\x1b[?2004h") == std::string::npos);
  CHECK(stored_texts(s) == std::vector<std::string>{"plain line"});
}

TEST_CASE("send: --rate refusals are backed off, batches shrink, every note gets in") {
  ServerProcess s({"--rate", "2", "--rate-burst", "3"});
  REQUIRE(s.started());
  std::string input;
  for (int i = 1; i <= 10; ++i) input += "rated " + std::to_string(i) + "\n";
  RunResult r = run(with_port({"send"}, s.udp_port()), input, 60000);
  CHECK_MESSAGE(r.code == 0, r.err);
  std::vector<std::string> want;
  for (int i = 1; i <= 10; ++i) want.push_back("rated " + std::to_string(i));
  CHECK(stored_texts(s) == want);
  // A server that keeps refusing for rate (a fake one: a bucket that never refills):
  // "rate limited by ADDR" after --timeout, exit 1, and it is not called "no acknowledgement".
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::atomic<bool> stop{false};
  std::thread refuser([&] {
    char buf[9000];
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0) continue;
      // "\x01DN1 <id> <floor> <first>\n...": answer "ERR <first> rate limited"
      std::string head(buf, static_cast<size_t>(n));
      head = head.substr(0, head.find('\n'));
      std::string first = head.substr(head.rfind(' ') + 1);
      std::string reply = "ERR " + first + " rate limited\n";
      ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  });
  std::string port = std::to_string(ntohs(a.sin_port));
  r = run({client(), "send", "--udp-port", port, "--timeout", "2"}, "a\nb\nc\n", 60000);
  stop = true;
  refuser.join();
  ::close(fd);
  CHECK(r.code == 1);
  CHECK_MESSAGE(r.err.find("rate limited by 127.0.0.1:" + port) != std::string::npos, r.err);
  CHECK(r.err.find("no acknowledgement") == std::string::npos);
}

TEST_CASE("first hour: the start line says where the store is and that it is new; --allow drops "
          "are logged once per host per minute") {
  TempDir t;
  ServerProcess s({"--allow", "127.0.0.2/32"}, t.path() + "/fresh");
  REQUIRE(s.started());
  CHECK(s.start_line().find(" store=" + t.path() + "/fresh/notes.log notes=0 (new store created)") !=
        std::string::npos);
  CHECK(s.wait_log("store " + t.path() + "/fresh/notes.log (new store created): 0 notes"));
  Udp u(s.udp_port());  // from 127.0.0.1: not allowed
  REQUIRE(u.send("first"));
  REQUIRE(u.send("second"));
  CHECK(s.wait_log("dropped UDP from 127.0.0.1:" + std::to_string(u.local_port()) +
                   ": not in --allow"));
  Udp allowed(s.udp_port(), "127.0.0.1", "127.0.0.2");
  CHECK(allowed.ask("from an allowed host") == "OK 1\n");  // the drops were handled before it
  std::string log = s.log();
  size_t lines = 0;
  for (size_t at = log.find("not in --allow"); at != std::string::npos;
       at = log.find("not in --allow", at + 1))
    ++lines;
  CHECK(lines == 1);
}

TEST_CASE("first hour: a frozen server gets the exit status the README documents (3)") {
  ServerProcess s;
  REQUIRE(s.started());
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);  // it still accepts connections, never answers
  RunResult h = run(with_port({"history", "--timeout", "1"}, s.tcp_port()), "", kWait);
  RunResult n = run(with_port({"send", "--timeout", "1", "frozen"}, s.udp_port()), "", kWait);
  ::kill(s.pid(), SIGCONT);
  CHECK(h.code == 3);
  CHECK(h.err.find("no answer from 127.0.0.1:" + std::to_string(s.tcp_port())) !=
        std::string::npos);
  CHECK(n.code == 3);
}

TEST_CASE("first hour: a session waiting for a frozen server says so; keys typed and pasted "
          "meanwhile never reach the shell") {
  ServerProcess s;
  REQUIRE(s.started());
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);  // it still accepts connections, never answers
  std::string cmd = client() + " --port " + std::to_string(s.tcp_port()) +
                    " --timeout 6; printf 'after:'; IFS= read -r x; printf '[%s]\\n' \"$x\"";
  PtyChild t({"/bin/sh", "-c", cmd}, {"PAGER=cat", "NO_COLOR=1"});
  CHECK(t.expect("(waiting for the server at 127.0.0.1:" + std::to_string(s.tcp_port()) +
                     " (TCP)",
                 kWait));
  t.type("typed ahead\r");
  t.type("\x1b[200~pasted\necho PWNED\n\x1b[201~");
  CHECK(t.expect("after:", kWait));
  ::kill(s.pid(), SIGCONT);
  t.type("z\n");
  CHECK(t.expect("[z]", kWait));  // the shell read only what was typed after the exit
  CHECK(t.wait(kWait) == 0);
}

TEST_CASE("first hour: send skips lines of nothing but spaces, and says so on a terminal") {
  ServerProcess s;
  REQUIRE(s.started());
  // stdin from a pipe, stderr on a terminal
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::string input = "one\n   \n\t\ntwo\n";
  REQUIRE(::write(fds[1], input.data(), input.size()) == static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  Redirect r;
  r.stdin_fd = fds[0];
  PtyChild t(with_port({"send"}, s.udp_port()), {}, r);
  ::close(fds[0]);
  CHECK(t.expect("skipped 2 blank lines (nothing but spaces)", kWait));
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"one", "two"});
  RunResult b = run(with_port({"send", "   "}, s.udp_port()));
  CHECK(b.code == 1);
  CHECK(b.err.find("nothing but spaces") != std::string::npos);
  CHECK(stored_texts(s).size() == 2);
}

TEST_CASE("session: a resize redraws the line; Ctrl-Z suspends, fg draws it again") {
  ServerProcess s;
  REQUIRE(s.started());
  // bash -m (below): job control, so that Ctrl-Z stops the client and `fg` brings it back.
  std::string cmd = client() + " --port " + std::to_string(s.tcp_port()) + "; fg";
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "NO_COLOR=1", "LANG=C.UTF-8"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("resized line");
  CHECK(t.expect("resized line", kWait));
  winsize ws{};
  ws.ws_row = 30;
  ws.ws_col = 60;
  REQUIRE(::ioctl(t.master(), TIOCSWINSZ, &ws) == 0);  // the kernel sends SIGWINCH
  CHECK(t.expect("note\u203a resized line", kWait));
  t.type("\r");
  CHECK(t.expect("#1", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  // Ctrl-Z under a shell with job control.
  PtyChild z({"/bin/bash", "--norc", "-m", "-c", cmd}, {"PAGER=cat", "NO_COLOR=1", "LANG=C.UTF-8"});
  REQUIRE(z.expect("1 note", kWait));
  z.type("half");
  CHECK(z.expect("half", kWait));
  z.type("\x1a");  // Ctrl-Z: stopped; the script's `fg` resumes it at once
  CHECK(z.expect("note\u203a half", kWait));  // drawn again after fg
  CHECK(raw_mode(z.master()));
  z.type(" done\r");
  CHECK(z.expect("#2", kWait));
  z.type("q\r");
  CHECK(z.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"resized line", "half done"});
}
