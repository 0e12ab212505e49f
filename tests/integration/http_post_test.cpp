// http_post_test.cpp — POST /notes against the real dailynetd (SPEC.md "HTTP"): 201 with the
// seq after the commit, attribution to the TCP peer, the UDP refusal reasons for refused
// notes with nothing stored, the 403 write rules (Content-Type, Origin), malformed bodies,
// Idempotency-Key retries (same turn, later, after a restart and after kill -9),
// durability (kill -9 right after the 201: the note is there), and SIGTERM committing every
// POST it received.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "http_client.hpp"

using namespace harness;
using httpc::Conn;

namespace {

httpc::Response post(uint16_t port, const std::string& body,
                     const std::vector<std::string>& extra = {}) {
  auto r = httpc::fetch(port, httpc::post(body, port, extra));
  REQUIRE(r.has_value());
  CHECK(r->header("x-content-type-options") == "nosniff");
  return *r;
}

std::string text_body(const std::string& text) { return "{\"text\": \"" + text + "\"}"; }

}  // namespace

TEST_CASE("http POST: 201 with the seq, stored under the TCP peer's address, seen by HISTORY") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  REQUIRE(u.ask("by udp") == "OK 1\n");
  Conn c(s.tcp_port());
  REQUIRE(c.send(httpc::post(text_body("from the web <img src=x onerror=alert(1)>\\n"), s.tcp_port())));
  auto r = c.response();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->header("content-type") == "application/json; charset=utf-8");
  CHECK(r->body == "{\"seq\":2}\n");
  auto h = tcp_command(s.tcp_port(), "HISTORY");
  REQUIRE(h.size() == 3);
  auto f = split_tabs(h[1]);
  CHECK(f[0] == "2");
  CHECK(f[3] == "from the web <img src=x onerror=alert(1)>");  // one trailing \n dropped
  // The address is the TCP peer's IP:PORT.
  sockaddr_in local{};
  socklen_t len = sizeof local;
  REQUIRE(::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len) == 0);
  CHECK(f[2] == "127.0.0.1:" + std::to_string(ntohs(local.sin_port)));
  // Keep-alive: a second POST on the same connection.
  REQUIRE(c.send(httpc::post(text_body("second"), s.tcp_port())));
  auto r2 = c.response();
  REQUIRE(r2);
  CHECK(r2->body == "{\"seq\":3}\n");
  CHECK(stat_value(s.tcp_port(), "http_notes_stored") == 2);
  // Pipelined POSTs are answered in order, each after its commit.
  REQUIRE(c.send(httpc::post(text_body("p1"), s.tcp_port()) + httpc::get("/notes?since=3", s.tcp_port()) +
                 httpc::post(text_body("p2"), s.tcp_port())));
  auto a = c.response(), b = c.response(), d = c.response();
  REQUIRE((a && b && d));
  CHECK(a->body == "{\"seq\":4}\n");
  CHECK(b->body.find("\"text\":\"p1\"") != std::string::npos);
  CHECK(d->body == "{\"seq\":5}\n");
}

TEST_CASE("http POST: refused notes get the UDP reason, and nothing is stored") {
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  Udp u(s.udp_port());
  struct Case {
    std::string json_text;  // inside the JSON string
    std::string udp_note;   // the same note as a datagram
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"\\n", "\n"},
      {"tab\\there", "tab\there"},
      {"cr at end\\r", "cr at end\r"},
      {std::string(21, 'x'), std::string(21, 'x')},
      {"bidi \\u202e x", "bidi \xe2\x80\xae x"},
      {"bad \xff utf8", "bad \xff utf8"},
      {"nul \\u0000", std::string("nul \0", 5)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.json_text);
    auto r = post(s.tcp_port(), text_body(c.json_text));
    auto udp = u.ask(c.udp_note);
    REQUIRE(udp);
    REQUIRE(udp->rfind("ERR ", 0) == 0);
    std::string reason = udp->substr(4, udp->size() - 5);
    CHECK(r.status == 422);
    CHECK(r.body == "{\"error\":\"" + reason + "\"}\n");
  }
  // Malformed bodies: 400.
  for (const std::string& bad : std::vector<std::string>{std::string("not json"), std::string("{\"text\": 5}"),
                          std::string("{\"note\": \"x\"}"), std::string("{\"text\": \"x\"")}) {
    CAPTURE(bad);
    auto r = post(s.tcp_port(), bad);
    CHECK(r.status == 400);
    CHECK(r.body.rfind("{\"error\":\"malformed body: ", 0) == 0);
  }
  CHECK(stored_texts(s).empty());
  CHECK(stat_value(s.tcp_port(), "notes_stored") == 0);
}

TEST_CASE("http POST: writes need Content-Type: application/json and a same-origin Origin") {
  ServerProcess s;
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  const std::string body = text_body("x");
  auto raw = [&](const std::vector<std::string>& headers) {
    std::string req = "POST /notes HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(p) + "\r\n";
    for (const std::string& h : headers) req += h + "\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto r = httpc::fetch(p, req);
    REQUIRE(r);
    CHECK(r->header("content-security-policy").find("default-src 'self'") != std::string::npos);
    return *r;
  };
  CHECK(raw({}).status == 403);
  CHECK(raw({"Content-Type: text/plain"}).status == 403);
  CHECK(raw({"Content-Type: application/x-www-form-urlencoded"}).status == 403);
  CHECK(raw({"Content-Type: application/json", "Origin: http://evil.example"}).status == 403);
  CHECK(raw({"Content-Type: application/json", "Origin: http://127.0.0.1:1"}).status == 403);
  CHECK(raw({"Content-Type: application/json", "Origin: null"}).status == 403);
  CHECK(raw({"Content-Type: application/json", "Origin: http://evil.example"}).body ==
        "{\"error\":\"cross-origin write refused: Origin differs from Host\"}\n");
  CHECK(stored_texts(s).empty());
  CHECK(raw({"Content-Type: application/json; charset=utf-8",
             "Origin: http://127.0.0.1:" + std::to_string(p)}).status == 201);
  CHECK(raw({"Content-Type: Application/JSON"}).status == 201);
  CHECK(stored_texts(s).size() == 2);
}

TEST_CASE("http POST: Idempotency-Key: one note per key, before and after a restart") {
  TempDir dir;
  std::string data = dir.path() + "/store";
  uint16_t port = 0;
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    port = s.tcp_port();
    auto r1 = post(port, text_body("once"), {"Idempotency-Key: k-1_A"});
    CHECK(r1.status == 201);
    CHECK(r1.body == "{\"seq\":1}\n");
    // A retry, whatever its body, gets the original answer; nothing new is stored.
    CHECK(post(port, text_body("once"), {"Idempotency-Key: k-1_A"}).body == "{\"seq\":1}\n");
    CHECK(post(port, "garbage", {"Idempotency-Key: k-1_A"}).body == "{\"seq\":1}\n");
    CHECK(post(port, text_body("other"), {"Idempotency-Key: k-2"}).body == "{\"seq\":2}\n");
    // Two requests with one key in one turn (pipelined): stored once.
    Conn c(port);
    REQUIRE(c.send(httpc::post(text_body("twin"), port, {"Idempotency-Key: twin"}) +
                   httpc::post(text_body("twin"), port, {"Idempotency-Key: twin"})));
    auto a = c.response(), b = c.response();
    REQUIRE((a && b));
    CHECK(a->body == "{\"seq\":3}\n");
    CHECK(b->body == "{\"seq\":3}\n");
    // A refused note does not use up its key.
    CHECK(post(port, text_body("bad\\u0001"), {"Idempotency-Key: later"}).status == 422);
    CHECK(post(port, text_body("fixed"), {"Idempotency-Key: later"}).body == "{\"seq\":4}\n");
    // Keys outside 1-64 of [A-Za-z0-9_-]: 400, nothing stored.
    for (const std::string& bad : std::vector<std::string>{std::string("has space"), std::string(65, 'k'), std::string("a/b"),
                            std::string("")}) {
      CAPTURE(bad);
      auto r = post(port, text_body("never"), {"Idempotency-Key: " + bad});
      CHECK(r.status == 400);
      CHECK(r.body.find("Idempotency-Key") != std::string::npos);
    }
    CHECK(post(port, text_body("never"), {"Idempotency-Key: a", "Idempotency-Key: b"}).status == 400);
    CHECK(stored_texts(s) == std::vector<std::string>{"once", "other", "twin", "fixed"});
    CHECK(s.stop() == 0);
    s.keep_data();
  }
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    CHECK(post(s.tcp_port(), text_body("once"), {"Idempotency-Key: k-1_A"}).body == "{\"seq\":1}\n");
    CHECK(post(s.tcp_port(), text_body("twin"), {"Idempotency-Key: twin"}).body == "{\"seq\":3}\n");
    CHECK(post(s.tcp_port(), text_body("new"), {"Idempotency-Key: k-3"}).body == "{\"seq\":5}\n");
    CHECK(stored_texts(s).size() == 5);
    s.keep_data();
  }
}

TEST_CASE("http POST: kill -9 right after the 201 loses nothing; a retry after it gets the seq") {
  TempDir dir;
  std::string data = dir.path() + "/store";
  std::vector<std::string> acked;
  {
    ServerProcess s({}, data);
    REQUIRE(s.started());
    Conn c(s.tcp_port());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(c.send(httpc::post(text_body("durable " + std::to_string(i)), s.tcp_port(),
                                 {"Idempotency-Key: d" + std::to_string(i)})));
      auto r = c.response();
      REQUIRE(r);
      REQUIRE(r->status == 201);
      acked.push_back(r->body);
    }
    CHECK(s.stop(9) == 128 + 9);  // right after the last 201
    s.keep_data();
  }
  ServerProcess s({}, data);
  REQUIRE(s.started());
  auto texts = stored_texts(s);
  REQUIRE(texts.size() == 20);
  for (int i = 0; i < 20; ++i) {
    CHECK(texts[static_cast<size_t>(i)] == "durable " + std::to_string(i));
    CHECK(post(s.tcp_port(), text_body("durable " + std::to_string(i)),
               {"Idempotency-Key: d" + std::to_string(i)}).body == acked[static_cast<size_t>(i)]);
  }
  CHECK(stored_texts(s).size() == 20);
  s.keep_data();
}

TEST_CASE("http POST: SIGTERM commits every POST received, also those pipelined behind others") {
  // SPEC "SIGTERM/SIGINT: ... commit what was received". A POST pipelined behind another is
  // parsed only once the one before it is answered, in a turn's output phase after that
  // turn's commit; when that turn is the last one (SIGTERM seen), it must still be committed
  // and answered at stop, not dropped. SIGSTOP holds the server while all three POSTs and
  // SIGTERM arrive, so whichever turn first sees the signal, POSTs are still waiting behind.
  ServerProcess s;
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  Conn c(p);
  REQUIRE(c.send(httpc::get("/stats", p)));  // accepted and HTTP before the server stops
  REQUIRE(c.response());
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);
  REQUIRE(c.send(httpc::post(text_body("one"), p) + httpc::post(text_body("two"), p) +
                 httpc::post(text_body("three"), p)));
  // Wait (bounded) until the server's kernel has every byte: nothing left unacknowledged.
  int unacked = -1;
  for (int64_t end = now_ms() + 5000; now_ms() < end;) {
    REQUIRE(::ioctl(c.fd(), SIOCOUTQ, &unacked) == 0);
    if (unacked == 0) break;
    ::usleep(2000);
  }
  REQUIRE(unacked == 0);
  REQUIRE(::kill(s.pid(), SIGTERM) == 0);
  REQUIRE(::kill(s.pid(), SIGCONT) == 0);
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    auto r = c.response();
    if (!r) break;
    CHECK(r->status == 201);
    bodies.push_back(r->body);
  }
  CHECK(s.wait_exit() == 0);
  CHECK(bodies == std::vector<std::string>{"{\"seq\":1}\n", "{\"seq\":2}\n", "{\"seq\":3}\n"});
  CHECK(stored_texts(s) == std::vector<std::string>{"one", "two", "three"});
}

TEST_CASE("http POST: Expect: 100-continue gets 100 Continue before the body; other "
          "expectations 417, nothing stored; HTTP/1.0 ignores it (RFC 9110 10.1.1)") {
  ServerProcess s;
  REQUIRE(s.started());
  const std::string body = text_body("after the interim response");
  const std::string request = httpc::post(body, s.tcp_port(), {"Expect: 100-continue"});
  const std::string head = request.substr(0, request.size() - body.size());
  // The head alone: the server answers "100 Continue" and waits for the body.
  Conn c(s.tcp_port());
  REQUIRE(c.send(head));
  CHECK(c.read_until("\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(c.send(body));
  auto r = c.response();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->body == "{\"seq\":1}\n");
  // Keep-alive: the next request on the same connection gets its own 100 Continue.
  const std::string body2 = text_body("second");
  const std::string req2 = httpc::post(body2, s.tcp_port(), {"Expect: 100-Continue"});
  REQUIRE(c.send(req2.substr(0, req2.size() - body2.size())));
  CHECK(c.read_until("\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(c.send(body2));
  auto r2 = c.response();
  REQUIRE(r2);
  CHECK(r2->status == 201);
  // HTTP/1.0: the expectation is ignored, so the first thing back is the final response.
  std::string v10 = head;
  v10.replace(v10.find("HTTP/1.1"), 8, "HTTP/1.0");
  Conn old(s.tcp_port());
  REQUIRE(old.send(v10));
  REQUIRE(old.send(body));
  auto r3 = old.response();
  REQUIRE(r3);
  CHECK(r3->status == 201);
  // Any other expectation: 417 at once (the body is never waited for), then a close.
  Conn odd(s.tcp_port());
  REQUIRE(odd.send(httpc::get("/notes", s.tcp_port(),
                              {"Content-Type: application/json", "Content-Length: 40",
                               "Expect: 200-ok"}, "POST")));
  auto r4 = odd.response();
  REQUIRE(r4);
  CHECK(r4->status == 417);
  CHECK(r4->header("connection") == "close");
  CHECK(r4->body.find("only Expect: 100-continue") != std::string::npos);
  CHECK(odd.closed());
  CHECK(stored_texts(s) == std::vector<std::string>{"after the interim response", "second",
                                                    "after the interim response"});
}
