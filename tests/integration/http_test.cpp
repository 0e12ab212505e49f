// http_test.cpp — SPEC.md "HTTP: the notebook in a browser" against the real dailynetd over
// raw sockets: telling HTTP from the line protocol (and --http off), the page and its
// assets, /notes, /clients, /stats, HEAD, keep-alive and pipelining, every error status with
// its exact reply, the security headers on each, Host (421) and Origin/Content-Type (403)
// rules, body and head limits, and a slowloris closed by --idle-timeout. POST and SSE are in
// http_post_test.cpp and http_events_test.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "http_client.hpp"

using namespace harness;
using httpc::Conn;

namespace {

void check_security_headers(const httpc::Response& r) {
  CHECK(r.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(r.header("content-security-policy").find("frame-ancestors 'none'") != std::string::npos);
  CHECK(r.header("x-content-type-options") == "nosniff");
  CHECK(r.header("referrer-policy") == "no-referrer");
}

// A request on a new connection; checks the security headers whatever the status.
httpc::Response must_fetch(uint16_t port, const std::string& req, bool head_only = false) {
  auto r = httpc::fetch(port, req, head_only);
  REQUIRE(r.has_value());
  check_security_headers(*r);
  return *r;
}

std::vector<std::string> lines_of(const std::string& body) { return split_lines(body); }

}  // namespace

TEST_CASE("http: the first line decides; the line protocol is untouched; --http off") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  REQUIRE(u.ask("first note") == "OK 1\n");
  // Line protocol, also after empty lines, also for a command that starts like a method.
  Tcp t(s.tcp_port());
  REQUIRE(t.send("\r\n\nPING\nHISTORY\n"));
  CHECK(t.line() == "PONG");
  CHECK(t.until("END").back() == "END 1");
  Tcp t2(s.tcp_port());
  REQUIRE(t2.send("GET\n"));
  CHECK(t2.line()->rfind("ERR", 0) == 0);
  // HTTP after empty lines.
  auto r = must_fetch(s.tcp_port(), "\r\n" + httpc::get("/stats", s.tcp_port()));
  CHECK(r.status == 200);
  // A first line that may become a request line may pass 1024 bytes (up to 8 KiB).
  auto longer = must_fetch(s.tcp_port(), httpc::get("/" + std::string(3000, 'a'), s.tcp_port()));
  CHECK(longer.status == 404);
  // Any other line keeps the 1024-byte limit.
  Tcp t3(s.tcp_port());
  REQUIRE(t3.send("HISTORY " + std::string(1100, 'x')));
  CHECK(t3.line() == "ERR line too long");
  Tcp t5(s.tcp_port());  // capitals alone, no " /": the 1024-byte limit as soon as it passes
  REQUIRE(t5.send(std::string(1100, 'G')));
  CHECK(t5.line() == "ERR line too long");

  ServerProcess off({"--http", "off"});
  REQUIRE(off.started());
  Tcp t4(off.tcp_port());
  REQUIRE(t4.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::optional<std::string> l = t4.line();
  REQUIRE(l);
  CHECK(l->rfind("ERR ", 0) == 0);
  CHECK(l->find("HTTP/1.1") == std::string::npos);
}

TEST_CASE("http: GET / serves the page, its script and style, from this origin only") {
  ServerProcess s;
  REQUIRE(s.started());
  auto page = must_fetch(s.tcp_port(), httpc::get("/", s.tcp_port()));
  CHECK(page.status == 200);
  CHECK(page.header("content-type") == "text/html; charset=utf-8");
  CHECK(page.body.find("<!doctype html>") == 0);
  CHECK(page.body.find("name=\"viewport\"") != std::string::npos);
  CHECK(page.body.find("src=\"/app.js\"") != std::string::npos);
  // No inline script, nothing from another origin.
  CHECK(page.body.find("<script>") == std::string::npos);
  CHECK(page.body.find("src=\"http") == std::string::npos);
  CHECK(page.body.find("href=\"http") == std::string::npos);
  CHECK(page.body.find("//") == std::string::npos);
  auto js = must_fetch(s.tcp_port(), httpc::get("/app.js", s.tcp_port()));
  CHECK(js.status == 200);
  CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
  CHECK(js.body.find("EventSource") != std::string::npos);
  CHECK(js.body.find("innerHTML") == std::string::npos);  // text as text
  CHECK(js.body.find("http://") == std::string::npos);
  CHECK(js.body.find("https://") == std::string::npos);
  auto css = must_fetch(s.tcp_port(), httpc::get("/style.css", s.tcp_port()));
  CHECK(css.status == 200);
  CHECK(css.header("content-type") == "text/css; charset=utf-8");
  CHECK(css.body.find("prefers-color-scheme: dark") != std::string::npos);
  CHECK(css.body.find("url(") == std::string::npos);
  // HEAD: the same head, no body.
  Conn c(s.tcp_port());
  REQUIRE(c.send(httpc::get("/", s.tcp_port(), {}, "HEAD") + httpc::get("/stats", s.tcp_port())));
  auto h = c.response(true);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->header("content-length") == std::to_string(page.body.size()));
  auto next = c.response();  // the pipelined request right after: no body bytes in between
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(next->body.front() == '{');
}

TEST_CASE("http: /notes streams matching notes as JSON lines (from, since, last, before)") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp a(s.udp_port()), b(s.udp_port());
  for (int i = 1; i <= 6; ++i)
    REQUIRE((i % 2 ? a : b).ask("note \"" + std::to_string(i) + "\" <i>") ==
            "OK " + std::to_string(i) + "\n");
  auto all = must_fetch(s.tcp_port(), httpc::get("/notes", s.tcp_port()));
  CHECK(all.status == 200);
  CHECK(all.header("content-type") == "application/x-ndjson; charset=utf-8");
  CHECK(all.header("transfer-encoding") == "chunked");
  auto lines = lines_of(all.body);
  REQUIRE(lines.size() == 6);
  // The shape of `dailynet history --format json`, byte for byte.
  RunResult j = run({client(), "history", "--format", "json", "--port", std::to_string(s.tcp_port())});
  CHECK(j.code == 0);
  CHECK(j.out == all.body);
  CHECK(lines[0].find("\"text\":\"note \\\"1\\\" <i>\"") != std::string::npos);
  std::string from_a = "127.0.0.1:" + std::to_string(a.local_port());
  auto fa = must_fetch(s.tcp_port(), httpc::get("/notes?from=" + from_a + "&since=1", s.tcp_port()));
  REQUIRE(lines_of(fa.body).size() == 2);  // 3 and 5
  CHECK(lines_of(fa.body)[0].rfind("{\"seq\":3,", 0) == 0);
  auto last = must_fetch(s.tcp_port(), httpc::get("/notes?last=2", s.tcp_port()));
  REQUIRE(lines_of(last.body).size() == 2);
  CHECK(lines_of(last.body)[0].rfind("{\"seq\":5,", 0) == 0);
  auto before = must_fetch(s.tcp_port(), httpc::get("/notes?before=4&last=2", s.tcp_port()));
  REQUIRE(lines_of(before.body).size() == 2);
  CHECK(lines_of(before.body)[0].rfind("{\"seq\":2,", 0) == 0);
  // MATCH (decoded: '+' a space, %22 a quote) and TIME bounds, as the line protocol has them.
  auto m = must_fetch(s.tcp_port(), httpc::get("/notes?match=NOTE+%224%22", s.tcp_port()));
  REQUIRE(lines_of(m.body).size() == 1);
  CHECK(lines_of(m.body)[0].rfind("{\"seq\":4,", 0) == 0);
  auto today = must_fetch(s.tcp_port(), httpc::get("/notes?since=2000-01-01&until=2999-01-01&last=1", s.tcp_port()));
  REQUIRE(lines_of(today.body).size() == 1);
  CHECK(lines_of(today.body)[0].rfind("{\"seq\":6,", 0) == 0);
  auto past = must_fetch(s.tcp_port(), httpc::get("/notes?until=2000-01-01T00:00:00.000Z", s.tcp_port()));
  CHECK(past.status == 200);
  CHECK(past.body.empty());
  auto none = must_fetch(s.tcp_port(), httpc::get("/notes?since=6", s.tcp_port()));
  CHECK(none.status == 200);
  CHECK(none.body.empty());
  // Percent-encoding and '+' in the query.
  auto enc = must_fetch(s.tcp_port(), httpc::get("/notes?from=127.0.0.1%3A" +
                                                     std::to_string(a.local_port()) + "&last=+1",
                                                 s.tcp_port()));
  CHECK(enc.status == 400);  // "last  1" is not a count: '+' is a space
  auto enc2 = must_fetch(s.tcp_port(), httpc::get("/notes?from=127.0.0.1%3A" +
                                                      std::to_string(a.local_port()),
                                                  s.tcp_port()));
  CHECK(lines_of(enc2.body).size() == 3);
  // Bad queries: 400 with the reason as JSON.
  for (const char* q : {"since=x", "last=-1", "from=nowhere", "since=%zz", "before=x",
                        "since=1&since=2", "match=", "until=yesterday"}) {
    CAPTURE(q);
    auto bad = must_fetch(s.tcp_port(), httpc::get(std::string("/notes?") + q, s.tcp_port()));
    CHECK(bad.status == 400);
    CHECK(bad.body.rfind("{\"error\":\"", 0) == 0);
  }
  // HTTP/1.0: no chunking, the body ends with the connection.
  auto old = must_fetch(s.tcp_port(), "GET /notes?last=1 HTTP/1.0\r\n\r\n");
  CHECK(old.status == 200);
  CHECK_FALSE(old.has("transfer-encoding"));
  CHECK(lines_of(old.body).size() == 1);
}

TEST_CASE("http: /clients and /stats as JSON; STATS counts HTTP responses by class") {
  ServerProcess s;
  REQUIRE(s.started());
  Udp u(s.udp_port());
  REQUIRE(u.ask("x") == "OK 1\n");
  auto c = must_fetch(s.tcp_port(), httpc::get("/clients", s.tcp_port()));
  CHECK(c.status == 200);
  auto cl = lines_of(c.body);
  REQUIRE(cl.size() == 1);
  CHECK(cl[0].find("\"addr\":\"127.0.0.1:" + std::to_string(u.local_port()) + "\",\"notes\":1,") !=
        std::string::npos);
  must_fetch(s.tcp_port(), httpc::get("/nowhere", s.tcp_port()));
  auto st = must_fetch(s.tcp_port(), httpc::get("/stats", s.tcp_port()));
  CHECK(st.status == 200);
  CHECK(st.header("content-type") == "application/json; charset=utf-8");
  CHECK(st.body.find("\"notes_stored\":1,") != std::string::npos);
  CHECK(st.body.find("\"http_responses_2xx\":1,") != std::string::npos);  // /clients
  CHECK(st.body.find("\"http_responses_4xx\":1,") != std::string::npos);  // /nowhere
  CHECK(stat_value(s.tcp_port(), "http_requests") == 3);
  CHECK(stat_value(s.tcp_port(), "http_events_open") == 0);
}

TEST_CASE("http: keep-alive, pipelined requests answered in order, Connection: close") {
  ServerProcess s;
  REQUIRE(s.started());
  Conn c(s.tcp_port());
  const uint16_t p = s.tcp_port();
  REQUIRE(c.send(httpc::get("/stats", p) + httpc::get("/nope", p) + httpc::get("/notes", p) +
                 httpc::get("/clients", p)));
  auto r1 = c.response(), r2 = c.response(), r3 = c.response(), r4 = c.response();
  REQUIRE((r1 && r2 && r3 && r4));
  CHECK(r1->status == 200);
  CHECK(r2->status == 404);
  CHECK(r3->status == 200);
  CHECK(r4->status == 200);
  CHECK(r1->body.front() == '{');
  // Still open: one more, this time asking to close.
  REQUIRE(c.send(httpc::get("/stats", p, {"Connection: close"})));
  auto r5 = c.response();
  REQUIRE(r5);
  CHECK(r5->header("connection") == "close");
  CHECK(c.closed());
  // HTTP/1.0 closes unless asked to keep alive.
  Conn d(p);
  REQUIRE(d.send("GET /stats HTTP/1.0\r\n\r\n"));
  REQUIRE(d.response());
  CHECK(d.closed());
  Conn e(p);
  REQUIRE(e.send("GET /stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  REQUIRE(e.response());
  REQUIRE(e.send(httpc::get("/stats", p)));
  CHECK(e.response());
}

TEST_CASE("http: error statuses, each with its reply, headers and close rule") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  auto r404 = must_fetch(p, httpc::get("/missing", p));
  CHECK(r404.status == 404);
  CHECK(r404.body == "{\"error\":\"no such page: /missing\"}\n");
  auto r405 = must_fetch(p, httpc::get("/events", p, {}, "DELETE"));
  CHECK(r405.status == 405);
  CHECK(r405.header("allow") == "GET, HEAD");
  auto r405b = must_fetch(p, httpc::get("/notes", p, {}, "PUT"));
  CHECK(r405b.status == 405);
  CHECK(r405b.header("allow") == "GET, HEAD, POST");
  CHECK(must_fetch(p, httpc::get("/", p, {}, "POST")).header("allow") == "GET, HEAD");
  // Malformed: 400 and a close.
  for (const std::string& bad : std::vector<std::string>{std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host
                          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad header\r\n\r\n",
                          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n",
                          "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n"}) {
    CAPTURE(bad);
    Conn c(p);
    REQUIRE(c.send(bad));
    auto r = c.response();
    REQUIRE(r);
    check_security_headers(*r);
    CHECK(r->status == 400);
    CHECK(r->header("connection") == "close");
    CHECK(c.closed());
  }
  // Chunked request bodies: 411.
  auto r411 = must_fetch(p, "POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                            "application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  CHECK(r411.status == 411);
  // Body limit: --max-note 10 -> 276 bytes of JSON (max_note * 2 + 256).
  std::string at = "{\"text\":\"abc\"}";
  at.insert(1, std::string(276 - at.size(), ' '));
  REQUIRE(at.size() == 276);
  CHECK(must_fetch(p, httpc::post(at, p)).status == 201);
  std::string over = " " + at;
  Conn c413(p);
  REQUIRE(c413.send(httpc::post(over, p)));
  auto r413 = c413.response();
  REQUIRE(r413);
  CHECK(r413->status == 413);
  CHECK(r413->body.find("277 bytes") != std::string::npos);
  CHECK(c413.closed());
  // Head limit: 8 KiB of request line and headers -> 431.
  auto r431 = must_fetch(p, httpc::get("/", p, {"X-Pad: " + std::string(9000, 'p')}));
  CHECK(r431.status == 431);
  auto r431b = must_fetch(p, "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n");
  CHECK(r431b.status == 431);
  CHECK(must_fetch(p, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status == 200);
  // Another version on a connection that is already HTTP: 505 (as a first line it is not
  // an HTTP request line, so the line protocol answers it).
  Conn v(p);
  REQUIRE(v.send(httpc::get("/stats", p) + "GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n"));
  REQUIRE(v.response());
  auto r505 = v.response();
  REQUIRE(r505);
  CHECK(r505->status == 505);
  CHECK(v.closed());
  CHECK(stored_texts(s) == std::vector<std::string>{"abc"});
}

TEST_CASE("http: a malformed request after a HEAD gets its 400 body (the HEAD rule is per request)") {
  // The HEAD of one request must not strip the body of the next one's error: a 400 that
  // says Content-Length N and then closes without those N bytes is a truncated response.
  ServerProcess s;
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  const std::pair<std::string, int> cases[] = {
      {"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad header\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505}};
  for (const auto& [bad, status] : cases) {
    CAPTURE(bad);
    Conn c(p);
    REQUIRE(c.send(httpc::get("/stats", p, {}, "HEAD") + bad));
    auto head = c.response(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    auto r = c.response();
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->body.rfind("{\"error\":", 0) == 0);
    CHECK(r->body.size() == std::stoul(r->header("content-length")));
    CHECK(c.closed());
  }
}

TEST_CASE("http: request smuggling shapes are refused whole: exact reply, a close, nothing stored") {
  // Where two parsers could disagree about where a POST ends (RFC 9112 §6.3), the server
  // answers once, closes, and never takes a note out of the ambiguous bytes.
  ServerProcess s;
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  const std::string head = "POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  const std::string note = "{\"text\":\"smuggled\"}";
  const std::string inner = head + "Content-Length: " + std::to_string(note.size()) + "\r\n\r\n" + note;
  struct Case {
    std::string request;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {head + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + inner, 411,
       "Transfer-Encoding is not accepted: send a Content-Length"},
      {head + "Transfer-Encoding: chunked\r\n\r\n" + std::to_string(note.size()) + "\r\n" + note +
           "\r\n0\r\n\r\n", 411, "Transfer-Encoding is not accepted: send a Content-Length"},
      {head + "Content-Length: 0\r\nContent-Length: " + std::to_string(inner.size()) + "\r\n\r\n" +
           inner, 400, "more than one Content-Length"},
      {head + "Content-Length: 0, 0\r\n\r\n" + inner, 400, "malformed Content-Length"},
      {head + "Content-Length: 0\r\n X-Folded: " + std::to_string(inner.size()) + "\r\n\r\n" + inner,
       400, "obsolete header line folding"},
      {head + "Content-Length : 0\r\n\r\n" + inner, 400, "malformed header name (space before ':'?)"},
      {head + "Content-Length: 0\r\nX-Split: a\rContent-Length: 9\r\n\r\n" + inner, 400,
       "control byte in a header"},
      {"POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n" + inner, 400,
       "more than one Host header"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.request);
    Conn conn(p);
    REQUIRE(conn.send(c.request));
    auto r = conn.response();
    REQUIRE(r);
    CHECK(r->status == c.status);
    CHECK(r->body == "{\"error\":\"" + c.error + "\"}\n");
    CHECK(r->header("connection") == "close");
    CHECK(conn.closed());
  }
  CHECK(stored_texts(s).empty());
  CHECK(stat_value(p, "notes_stored") == 0);
}

TEST_CASE("http: Host must be an IP literal, localhost or a --http-host name (else 421)") {
  ServerProcess s({"--http-host", "notes.lan"});
  REQUIRE(s.started());
  const uint16_t p = s.tcp_port();
  auto with_host = [&](const std::string& host, const std::string& path = "/") {
    return must_fetch(p, "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
  };
  for (const std::string& ok : std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + std::to_string(p), "localhost",
                         "LOCALHOST:1", "[::1]:9527", "notes.lan", "Notes.Lan:80", "10.1.2.3"})
    CHECK_MESSAGE(with_host(ok).status == 200, ok);
  for (const std::string& bad : std::vector<std::string>{"evil.example", "evil.example:" + std::to_string(p), "notes.lan.evil",
                          "127.0.0.1.nip.io", "localhost.evil"}) {
    CAPTURE(bad);
    auto r = with_host(bad, "/notes");
    CHECK(r.status == 421);
    CHECK(r.body.find("seq") == std::string::npos);  // nothing else
  }
  auto post = must_fetch(p, "POST /notes HTTP/1.1\r\nHost: evil.example\r\nContent-Type: "
                            "application/json\r\nContent-Length: 12\r\n\r\n{\"text\":\"x\"}");
  CHECK(post.status == 421);
  CHECK(stored_texts(s).empty());
}

TEST_CASE("http: a slowloris is closed by --idle-timeout; --allow applies to HTTP") {
  ServerProcess s({"--idle-timeout", "1", "--allow", "127.0.0.1/32"});
  REQUIRE(s.started());
  Conn slow(s.tcp_port());
  const std::string req = httpc::get("/", s.tcp_port());
  // One byte every 200 ms: bytes keep moving, but the request never completes in time.
  const int64_t t0 = now_ms();
  bool closed = false;
  for (size_t i = 0; i < req.size() - 2 && !closed; ++i) {
    if (!slow.send(req.substr(i, 1))) break;
    closed = slow.closed(200);
  }
  CHECK((closed || slow.closed(3000)));
  CHECK(now_ms() - t0 < 10000);
  CHECK(wait_stat(s.tcp_port(), "tcp_closed_stalled", 1) >= 1);
  // From outside --allow: closed at once, unanswered.
  Tcp other(s.tcp_port(), "127.0.0.1", "127.0.0.2");
  REQUIRE(other.connected());
  other.send(httpc::get("/", s.tcp_port()));
  CHECK(other.closed());
  CHECK(other.line(100) == std::nullopt);
  CHECK(wait_stat(s.tcp_port(), "tcp_refused_not_allowed", 1) == 1);
}
