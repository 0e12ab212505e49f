// http_events_test.cpp — GET /events (server-sent events) against the real dailynetd
// (SPEC.md "HTTP"): the matching notes, then each new one as it is stored (UDP or POST),
// `id:`/`data:` framing and `retry:`, resume with Last-Event-ID (also across a restart), a
// comment at least every 30 s, never closed for idleness, HEAD, STATS' open-stream gauge,
// and a stalled reader closed once its backlog passes the follower limit.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "http_client.hpp"

using namespace harness;
using httpc::Conn;

namespace {

// The seqs of the "id: N" lines in an SSE text.
std::vector<std::string> ids_of(const std::string& sse) {
  std::vector<std::string> ids;
  for (const std::string& l : split_lines(sse))
    if (l.rfind("id: ", 0) == 0) ids.push_back(l.substr(4));
  return ids;
}

// Opens /events with extra headers; returns the connection after the response head.
std::unique_ptr<Conn> open_events(uint16_t port, const std::string& query = "",
                                  const std::vector<std::string>& extra = {}) {
  auto c = std::make_unique<Conn>(port);
  REQUIRE(c->send(httpc::get("/events" + query, port, extra)));
  auto r = c->response(true);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type") == "text/event-stream; charset=utf-8");
  CHECK(r->header("x-content-type-options") == "nosniff");
  CHECK_FALSE(r->has("content-length"));
  return c;
}

}  // namespace

TEST_CASE("http events: the matching notes, then new ones live; id/data framing; retry") {
  ServerProcess s({"--idle-timeout", "1"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  REQUIRE(u.ask("one") == "OK 1\n");
  REQUIRE(u.ask("two") == "OK 2\n");
  auto c = open_events(s.tcp_port(), "?since=1");
  std::string got = c->read_until("\n\n");
  CHECK(got == "retry: 2000\n\n");
  got = c->read_until("\n\n");
  CHECK(got.rfind("id: 2\ndata: {\"seq\":2,\"time\":\"", 0) == 0);
  CHECK(got.find("\"text\":\"two\"}\n\n") != std::string::npos);
  CHECK(wait_stat(s.tcp_port(), "http_events_open", 1) == 1);
  // Live: a UDP note and a POSTed one arrive as events.
  REQUIRE(u.ask("three") == "OK 3\n");
  got = c->read_until("\n\n", 3000);
  CHECK(ids_of(got) == std::vector<std::string>{"3"});
  auto p = httpc::fetch(s.tcp_port(), httpc::post("{\"text\":\"four\"}", s.tcp_port()));
  REQUIRE(p);
  CHECK(p->status == 201);
  got = c->read_until("\n\n", 3000);
  CHECK(ids_of(got) == std::vector<std::string>{"4"});
  // Never closed for idleness (--idle-timeout 1): still open well after it.
  CHECK_FALSE(c->closed(2500));
  REQUIRE(u.ask("five") == "OK 5\n");
  CHECK(ids_of(c->read_until("\n\n", 3000)) == std::vector<std::string>{"5"});
  // Filters apply to live notes too.
  Udp other(s.udp_port());
  auto f = open_events(s.tcp_port(), "?from=127.0.0.1:" + std::to_string(other.local_port()));
  CHECK(f->read_until("\n\n") == "retry: 2000\n\n");
  REQUIRE(u.ask("not for f") == "OK 6\n");
  REQUIRE(other.ask("for f") == "OK 7\n");
  CHECK(ids_of(f->read_until("\n\n", 3000)) == std::vector<std::string>{"7"});
  CHECK(ids_of(c->read_until("id: 7", 3000)) == std::vector<std::string>{"6", "7"});
  // HEAD: the head only.
  auto h = httpc::fetch(s.tcp_port(), httpc::get("/events", s.tcp_port(), {}, "HEAD"), true);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->header("content-type") == "text/event-stream; charset=utf-8");
}

TEST_CASE("http events: Last-Event-ID resumes after that seq, also after a restart") {
  TempDir dir;
  std::string data = dir.path() + "/store";
  uint16_t port;
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    port = s.tcp_port();
    Udp u(s.udp_port());
    for (int i = 1; i <= 5; ++i) REQUIRE(u.ask("n" + std::to_string(i)));
    auto c = open_events(port, "?since=0", {"Last-Event-ID: 3"});
    CHECK(c->read_until("\n\n") == "retry: 2000\n\n");
    CHECK(ids_of(c->read_until("id: 5\n", 3000)) == std::vector<std::string>{"4", "5"});
    CHECK(s.stop(9) == 137);
    CHECK(c->closed());
    s.keep_data();
  }
  ServerProcess s({}, data);  // restarted on the same store
  REQUIRE(s.started());
  (void)port;
  const uint16_t p2 = s.tcp_port();
  Udp u(s.udp_port());
  REQUIRE(u.ask("n6") == "OK 6\n");
  auto c = open_events(p2, "", {"Last-Event-ID: 5"});
  c->read_until("\n\n");
  CHECK(ids_of(c->read_until("\n\n", 3000)) == std::vector<std::string>{"6"});
  REQUIRE(u.ask("n7") == "OK 7\n");
  CHECK(ids_of(c->read_until("\n\n", 3000)) == std::vector<std::string>{"7"});
  auto bad = httpc::fetch(p2, httpc::get("/events", p2, {"Last-Event-ID: x"}));
  REQUIRE(bad);
  CHECK(bad->status == 400);
  s.keep_data();
}

TEST_CASE("http events: since=N or Last-Event-ID N past the newest seq sends only seq > N") {
  // SPEC: Last-Event-ID resumes after that seq, since=N is exclusive: a tab whose N came from
  // another store (a --data change, a restored backup) must not get seqs 1..N stored later.
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  REQUIRE(u.ask("n1") == "OK 1\n");
  auto q = open_events(s.tcp_port(), "?since=5");
  auto h = open_events(s.tcp_port(), "", {"Last-Event-ID: 5"});
  CHECK(q->read_until("\n\n") == "retry: 2000\n\n");
  CHECK(h->read_until("\n\n") == "retry: 2000\n\n");
  REQUIRE(wait_stat(s.tcp_port(), "http_events_open", 2) == 2);
  for (int i = 2; i <= 7; ++i)
    REQUIRE(u.ask("n" + std::to_string(i)) == "OK " + std::to_string(i) + "\n");
  CHECK(ids_of(q->read_until("id: 7\n", 3000)) == std::vector<std::string>{"6", "7"});
  CHECK(ids_of(h->read_until("id: 7\n", 3000)) == std::vector<std::string>{"6", "7"});
}

TEST_CASE("http events: a comment at least every 30 s keeps proxies from timing out") {
  ServerProcess s;
  REQUIRE(s.started());
  auto c = open_events(s.tcp_port());
  CHECK(c->read_until("\n\n") == "retry: 2000\n\n");
  const int64_t t0 = now_ms();
  std::string got = c->read_until(": keep-alive\n\n", 30000);
  CHECK(got == ": keep-alive\n\n");
  CHECK(now_ms() - t0 <= 30000);
}

TEST_CASE("http events: a reader that stops reading is closed past the follower limit") {
  ServerProcess s({"--fsync", "never", "--max-note", "4000"});
  REQUIRE(s.started());
  Conn c(s.tcp_port());
  int small = 4096;
  ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  REQUIRE(c.send(httpc::get("/events", s.tcp_port())));
  // 24 MiB of notes, sent by the official client in big datagrams; the reader never reads.
  std::string note(3900, 'z');
  std::string input;
  for (int i = 0; i < 6500; ++i) input += note + std::to_string(i) + "\n";
  RunResult r = run({client(), "send", "--port", std::to_string(s.udp_port())}, input, 120000);
  CHECK(r.code == 0);
  CHECK(wait_stat(s.tcp_port(), "tcp_closed_stalled", 1, 20000) >= 1);
  CHECK(s.wait_log("event stream backlog over 16 MiB"));
  CHECK(stat_value(s.tcp_port(), "http_events_open") == 0);
}
