// server_signal_test.cpp — what the world does to a running dailynetd besides sending notes:
// SIGHUP/SIGUSR1/SIGUSR2 (logged, ignored), a LOCK left by a killed server (taken, said so),
// datagrams from source port 0 (dropped and counted, never stored; raw socket, root only),
// and FROM taking every address CLIENTS prints (SPEC "Server and store").
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace harness;

TEST_CASE("signals: SIGHUP, SIGUSR1 and SIGUSR2 are logged in one line each and ignored") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  CHECK(u.ask("before") == "OK 1\n");
  const std::pair<int, const char*> sigs[] = {
      {SIGHUP, "SIGHUP"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}};
  for (auto [sig, name] : sigs) {
    CAPTURE(name);
    REQUIRE(::kill(s.pid(), sig) == 0);
    CHECK(s.wait_log(std::string(name) + " received and ignored"));
    CHECK(s.running());
  }
  CHECK(u.ask("after") == "OK 2\n");
  CHECK(tcp_command(s.tcp_port(), "PING") == std::vector<std::string>{"PONG"});
  std::string log = s.log();
  for (auto [sig, name] : sigs) {
    size_t first = log.find(name);
    CHECK(log.find(name, first + 1) == std::string::npos);  // one line each
  }
  CHECK(s.stop(SIGTERM) == 0);
}

TEST_CASE("signals: a LOCK naming a PID that is gone is taken, and the start says so") {
  TempDir t;
  const std::string data = t.path() + "/data";
  {
    ServerProcess first({}, data);
    REQUIRE(first.started());
    CHECK(Udp(first.udp_port()).ask("kept") == "OK 1\n");
    CHECK(first.stop(9) == 128 + 9);  // leaves its PID in LOCK
  }
  CHECK(read_file(data + "/LOCK").size() > 1);
  {
    ServerProcess second({}, data);
    REQUIRE(second.started());
    CHECK(second.wait_log("LOCK named pid"));
    CHECK(second.log().find("taking it") != std::string::npos);
    CHECK(stored_texts(second) == std::vector<std::string>{"kept"});
    CHECK(second.stop(SIGTERM) == 0);
  }
  // A clean stop leaves no PID behind: the next start has nothing to say about LOCK.
  CHECK(read_file(data + "/LOCK").empty());
  ServerProcess third({}, data);
  REQUIRE(third.started());
  CHECK(third.log().find("LOCK named") == std::string::npos);
}

namespace {

// One UDP datagram from 127.0.0.1 source port 0 to port, through a raw socket. False when
// raw sockets are not permitted (not root).
bool send_from_port_zero(uint16_t port, const std::string& payload) {
  Fd raw(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!raw.valid()) return false;
  std::string pkt(sizeof(udphdr), '\0');
  udphdr h{};
  h.source = 0;
  h.dest = htons(port);
  h.len = htons(static_cast<uint16_t>(sizeof(udphdr) + payload.size()));
  h.check = 0;  // no checksum (allowed for UDP over IPv4)
  std::memcpy(pkt.data(), &h, sizeof h);
  pkt += payload;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::sendto(raw.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
                  sizeof to) == static_cast<ssize_t>(pkt.size());
}

}  // namespace

TEST_CASE("udp: a datagram from source port 0 is dropped and counted, never stored") {
  ServerProcess s;
  REQUIRE(s.started());
  if (::geteuid() != 0) {
    MESSAGE("skipped: sending from source port 0 needs a raw socket (run as root)");
    return;
  }
  REQUIRE(send_from_port_zero(s.udp_port(), "nobody can answer me"));
  CHECK(wait_stat(s.tcp_port(), "udp_dropped_port_zero", 1) == 1);
  CHECK(stat_value(s.tcp_port(), "notes_stored") == 0);
  CHECK(stat_value(s.tcp_port(), "udp_datagrams_received") == 0);
  CHECK(tcp_command(s.tcp_port(), "CLIENTS") == std::vector<std::string>{"END 0"});
  // The next note still gets seq 1.
  CHECK(Udp(s.udp_port()).ask("first real") == "OK 1\n");
}

TEST_CASE("tcp: FROM takes every address CLIENTS prints, port 0 included") {
  ServerProcess s;
  REQUIRE(s.started());
  CHECK(Udp(s.udp_port()).ask("one") == "OK 1\n");
  for (const std::string& line : tcp_command(s.tcp_port(), "CLIENTS")) {
    if (line.rfind("END", 0) == 0) continue;
    std::string addr = split_tabs(line)[0];
    CAPTURE(addr);
    CHECK(tcp_command(s.tcp_port(), "HISTORY FROM " + addr).back() == "END 1");
  }
  // An old store may hold notes from port 0 (stored before such datagrams were dropped).
  CHECK(tcp_command(s.tcp_port(), "HISTORY FROM 127.0.0.1:0") ==
        std::vector<std::string>{"END 0"});
  CHECK(tcp_command(s.tcp_port(), "HISTORY FROM [::1]:0") ==
        std::vector<std::string>{"END 0"});
}

TEST_CASE("tcp: a note stored from port 0 by an older server is listed and selected by FROM") {
  TempDir t;
  const std::string data = t.path() + "/data";
  write_notes_log(data, 1);
  std::string log = read_file(data + "/notes.log");
  log += "2\t2026-11-24T08:15:30.123Z\t127.0.0.1:0\tfrom port zero\n";
  write_file(data + "/notes.log", log);
  ServerProcess s({}, data);
  REQUIRE(s.started());
  std::vector<std::string> clients = tcp_command(s.tcp_port(), "CLIENTS");
  REQUIRE(clients.size() == 3);
  CHECK(split_tabs(clients[1])[0] == "127.0.0.1:0");
  std::vector<std::string> h = tcp_command(s.tcp_port(), "HISTORY FROM 127.0.0.1:0");
  CHECK(texts_of(h) == std::vector<std::string>{"from port zero"});
  CHECK(h.back() == "END 1");
}
