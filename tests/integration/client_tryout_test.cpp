// client_tryout_test.cpp — what the second new-user tryout of the interactive session found
// (notes/prev/tryout-client.md, 7, 7b, 8), driven through a pseudo-terminal: a pager that is
// not less (or is not there), a server that comes back with another store, the paste question
// over a half-typed line, a newline after SIGTERM and a crash, and plain lines (TERM=dumb):
// acknowledgement before the next prompt, refusals worded for a line that is gone, the paste
// question answered by a line. Loopback only; every wait bounded; processes killed by PID.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "pty.hpp"

using namespace harness;

namespace {

constexpr int kWait = 20000;  // ms: generous, the machine is shared

std::vector<std::string> session(uint16_t port) { return with_port({}, port); }

// Twelve lines, as one bracketed paste.
std::string twelve_line_paste() {
  std::string p = "\x1b[200~";
  for (int i = 1; i <= 12; ++i) p += "pasted " + std::to_string(i) + "\n";
  return p + "\x1b[201~";
}

}  // namespace

TEST_CASE("tryout: a pager that opens at the oldest note is followed by the newest notes; one "
          "that can not run is said once and the newest notes are shown here") {
  TempDir dir;
  write_notes_log(dir.path() + "/data", 200, 20);
  ServerProcess s({}, dir.path() + "/data");
  REQUIRE(s.started());
  {
    // `sed -n 1,3p` behaves like more quit on its first page: the oldest notes only.
    PtyChild t(session(s.tcp_port()), {"PAGER=sed -n 1,3p", "NO_COLOR=1"}, 24, 80);
    REQUIRE(t.started());
    CHECK(t.expect("note 1 ", kWait));
    CHECK(t.expect("note 3 ", kWait));
    CHECK(t.expect("note 200 ", kWait));  // the newest, below what the pager showed
    CHECK(t.expect("opened at the oldest: PAGER=less opens at the newest)", kWait));
    CHECK(t.expect("200 notes \u2014 type a note", kWait));
    CHECK(t.out.find("the pager opened at the newest note") == std::string::npos);
    CHECK(t.out.find("note 100 ") == std::string::npos);  // neither paged nor in the tail
    t.type("q\r");
    CHECK(t.wait(kWait) == 0);
  }
  PtyChild t(session(s.tcp_port()), {"PAGER=no-such-pager-here", "NO_COLOR=1"}, 24, 80);
  REQUIRE(t.started());
  CHECK(t.expect("pager 'no-such-pager-here' could not run", kWait));
  CHECK(t.expect("note 200 ", kWait));
  CHECK(t.expect("200 notes \u2014 type a note", kWait));
  CHECK(t.out.find("the pager opened at the newest note") == std::string::npos);
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
}

TEST_CASE("tryout: a server back with another store (seqs restarted) is said, and its new "
          "notes appear live") {
  auto first = std::make_unique<ServerProcess>();
  REQUIRE(first->started());
  const uint16_t port = first->udp_port();
  REQUIRE(run(with_port({"send"}, port), "one\ntwo\nthree\n", kWait).code == 0);
  PtyChild t(session(port), {"PAGER=cat", "NO_COLOR=1", "LANG=C.UTF-8"});
  REQUIRE(t.expect("3 notes \u2014 type a note", kWait));
  REQUIRE(run(with_port({"send", "four"}, port), "", kWait).code == 0);
  REQUIRE(t.expect("four", kWait));  // the live display is up
  t.type("half");
  CHECK(first->stop() == 0);
  first.reset();
  CHECK(t.expect("(live notes: connection to the server lost; reconnecting)", kWait));
  ServerProcess fresh({"--port", std::to_string(port)});  // a new, empty store
  REQUIRE(fresh.started());
  CHECK(t.expect("holds another store now (no notes yet, below #4 shown here)", kWait));
  REQUIRE(run(with_port({"send", "note on the fresh store"}, port), "", kWait).code == 0);
  CHECK(t.expect("note on the fresh store", kWait));
  CHECK(t.expect("note\u203a half", kWait));  // the line being typed is drawn again
  t.type("\x15r\r");  // Ctrl-U, then r: nothing new since that one
  CHECK(t.expect("(no new notes)", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(fresh) == std::vector<std::string>{"note on the fresh store"});
}

TEST_CASE("tryout: the paste question is not drawn over a half-typed line, which comes back") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "NO_COLOR=1", "LANG=C.UTF-8"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type("half typed");
  REQUIRE(t.expect("half typed", kWait));
  t.type(twelve_line_paste());
  REQUIRE(t.expect("send 12 notes? [y/N] ", kWait));
  CHECK(t.out.find("half typed", t.out.rfind("send 12 notes? [y/N] ")) == std::string::npos);
  t.type("n");
  CHECK(t.expect("(12 notes not sent)", kWait));
  CHECK(t.expect("note\u203a half typed", kWait));
  t.type("\r");
  CHECK(t.expect("#1", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"half typed"});
}

TEST_CASE("tryout: after SIGTERM and after a crash the shell's prompt starts on a line of its own") {
  ServerProcess s;
  REQUIRE(s.started());
  for (int sig : {SIGTERM, SIGSEGV}) {
    CAPTURE(sig);
    PtyChild t(session(s.tcp_port()), {"PAGER=cat", "LANG=C.UTF-8", "NO_COLOR=1"});
    REQUIRE(t.expect("type a note", kWait));
    t.type("half then signal");
    REQUIRE(t.expect("half then signal", kWait));
    ::kill(t.pid(), sig);
    CHECK(t.wait(kWait) == (sig == SIGTERM ? 0 : 128 + SIGSEGV));
    size_t last = t.out.rfind("half then signal");
    REQUIRE(last != std::string::npos);
    CHECK(t.out.find('\n', last) != std::string::npos);
  }
}

TEST_CASE("tryout: TERM=dumb: the ack comes before the next prompt; refusals say nothing of a "
          "line to fix") {
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "TERM=dumb"});
  REQUIRE(t.expect("no notes yet \u2014 type a note, or h for help", kWait));
  REQUIRE(t.expect("note", kWait));  // the first prompt (the terminal echoes typing at once)
  t.type("plain line\n");
  REQUIRE(t.expect("#1", kWait));
  size_t echoed = t.out.find("plain line");
  REQUIRE(echoed != std::string::npos);
  std::string between = t.out.substr(echoed, t.out.find("#1", echoed) - echoed);
  // No prompt between the line and its seq (a "(1 pending)" one is right: then it was).
  CHECK_MESSAGE((between.find("note") == std::string::npos ||
                 between.find("pending") != std::string::npos), between);
  t.type("a note far too long for this server\n");
  CHECK(t.expect("note too long (max 20 bytes) (not stored)", kWait));
  t.type("another note too long for it\n");  // the limit is known now: checked here
  CHECK(t.expect("note not sent: note too long (max 20 bytes)", kWait));
  CHECK(t.out.find("back on the line") == std::string::npos);
  CHECK(t.out.find("fix it on the line") == std::string::npos);
  t.type("exit\n");
  CHECK(t.wait(kWait) == 1);  // a note was refused in this session
  CHECK(stored_texts(s) == std::vector<std::string>{"plain line"});
}

TEST_CASE("tryout: TERM=dumb: a long paste asks, and the next line answers (not a note)") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "TERM=dumb"});
  REQUIRE(t.expect("no notes yet", kWait));
  std::string lines;
  for (int i = 1; i <= 12; ++i) lines += "line " + std::to_string(i) + "\n";
  t.type(lines);  // more than 10 lines at once: a paste
  REQUIRE(t.expect("send 12 notes? [y/N]", kWait));
  t.type("y\n");
  CHECK(t.expect("(pasted: 12 notes, one per line)", kWait));
  CHECK(t.expect("#12", kWait));
  t.type(lines);
  REQUIRE(t.expect("send 12 notes? [y/N]", kWait));
  t.type("\n");  // Enter alone: the default, N
  CHECK(t.expect("(12 notes not sent)", kWait));
  t.type("exit\n");
  CHECK(t.wait(kWait) == 0);
  auto texts = stored_texts(s);
  REQUIRE(texts.size() == 12);  // "y" was the answer, not a note
  CHECK(texts.front() == "line 1");
  CHECK(texts.back() == "line 12");
}

TEST_CASE("tryout: a paste while the paste question waits is not lost: N, then it is pasted") {
  ServerProcess s;
  REQUIRE(s.started());
  PtyChild t(session(s.tcp_port()), {"PAGER=cat", "NO_COLOR=1", "LANG=C.UTF-8"});
  REQUIRE(t.expect("no notes yet", kWait));
  t.type(twelve_line_paste());
  REQUIRE(t.expect("send 12 notes? [y/N] ", kWait));
  t.type("\x1b[200~second paste\n\x1b[201~");
  CHECK(t.expect("(12 notes not sent)", kWait));
  CHECK(t.expect("#1", kWait));
  t.type("q\r");
  CHECK(t.wait(kWait) == 0);
  CHECK(stored_texts(s) == std::vector<std::string>{"second paste"});
}

TEST_CASE("tryout: TERM=dumb: leaving with a pending note writes no escape sequence") {
  ServerProcess s;
  REQUIRE(s.started());
  // History from the real server; notes to a UDP socket that never answers.
  Fd sink(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(sink.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(sink.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  PtyChild t({client(), "--tcp-port", std::to_string(s.tcp_port()), "--udp-port",
              std::to_string(ntohs(a.sin_port))},
             {"PAGER=cat", "TERM=dumb", "NO_COLOR=1"});
  REQUIRE(t.expect("no notes yet \u2014 type a note, or h for help", kWait));
  REQUIRE(t.expect("note", kWait));
  t.type("into the void\n");
  CHECK(t.expect("(1 pending)", kWait));
  t.type("exit\n");
  CHECK(t.wait(kWait) == 3);  // left pending, kept in the outbox
  CHECK(t.out.find("kept in") != std::string::npos);
  CHECK(t.out.find("\x1b") == std::string::npos);
}
