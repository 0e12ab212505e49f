// smoke_test.cpp — the "done when": a note over UDP, then HISTORY over TCP.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace harness;

TEST_CASE("a UDP note is acknowledged and comes back in HISTORY") {
  ServerProcess s;
  REQUIRE(s.started());
  CHECK(s.udp_port() == s.tcp_port());
  Udp u(s.udp_port());
  CHECK(u.ask("hi\n") == "OK 1\n");
  auto lines = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(lines.size() == 2);
  auto f = split_tabs(lines[0]);
  REQUIRE(f.size() == 4);
  CHECK(f[0] == "1");
  CHECK(f[2] == "127.0.0.1:" + std::to_string(u.local_port()));
  CHECK(f[3] == "hi");
  CHECK(lines[1] == "END 1");
}
