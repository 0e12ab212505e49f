// server_follow_end_test.cpp — how a FOLLOW ends against the real dailynetd: QUIT's "BYE" and
// the close at SIGTERM come after whole note lines, never glued onto half a line where a
// sendfile() stream stopped (SPEC "TCP": FOLLOW streams note lines; QUIT answers BYE). A
// reader with a 4 KiB receive buffer over a 40,000-note store stalls the stream mid-line.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

constexpr uint64_t kNotes = 40000;

// A connected TCP socket to 127.0.0.1:port with a receive buffer of 4 KiB (set before the
// connect, so the window stays small and the server's sendfile() stops early).
Fd small_reader(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int rcvbuf = 4096;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fd.reset();
  return fd;
}

// Reads until the peer closes or timeout_ms pass; at most `limit` bytes when limit > 0.
std::string read_from(int fd, int timeout_ms, size_t limit = 0) {
  std::string got;
  const int64_t deadline = now_ms() + timeout_ms;
  char buf[4096];
  while ((limit == 0 || got.size() < limit) && now_ms() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(deadline - now_ms())) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// A FOLLOW over the whole store on a small_reader, after its first bytes came: the server's
// sendfile() then stands wherever the small window stopped it (mid-line, nearly always).
std::string stalled_follow(uint16_t port, Fd& r) {
  r = small_reader(port);
  REQUIRE(r.valid());
  REQUIRE(::send(r.get(), "FOLLOW\n", 7, MSG_NOSIGNAL) == 7);
  std::string got = read_from(r.get(), 5000, 1);
  REQUIRE(!got.empty());
  return got;
}

// Checks that `lines` are the store's notes 1, 2, ... (write_notes_log's texts), whole.
void check_note_lines(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> f = split_tabs(lines[i]);
    CAPTURE(lines[i]);
    REQUIRE(f.size() == 4);
    CHECK(f[0] == std::to_string(i + 1));
    std::string want = "note " + std::to_string(i + 1) + " ";
    want.append(60 - want.size(), '.');
    CHECK(f[3] == want);
  }
}

}  // namespace

TEST_CASE("server: a FOLLOW stalled mid-line ends on a whole line: QUIT's BYE, SIGTERM's close") {
  TempDir dir;
  write_notes_log(dir.path() + "/store", kNotes);
  ServerProcess s({}, dir.path() + "/store");
  REQUIRE(s.started());
  Fd r;
  std::string got = stalled_follow(s.tcp_port(), r);
  SUBCASE("QUIT: the line is finished, then BYE on a line of its own") {
    REQUIRE(::send(r.get(), "QUIT\n", 5, MSG_NOSIGNAL) == 5);
    got += read_from(r.get(), 15000);
    REQUIRE(got.size() >= 4);
    CHECK(got.substr(got.size() - 4) == "BYE\n");
    CHECK((got.size() == 4 || got[got.size() - 5] == '\n'));
    got.resize(got.size() - 4);
  }
  SUBCASE("SIGTERM: the line is finished, then the close") {
    REQUIRE(::kill(s.pid(), SIGTERM) == 0);
    got += read_from(r.get(), 15000);  // the server closes within its 2 s drain
    CHECK(s.wait_exit() == 0);
    CHECK(got.back() == '\n');
  }
  std::vector<std::string> lines = split_lines(got);
  CHECK(lines.size() < kNotes);  // the stream ended early
  check_note_lines(lines);
}
