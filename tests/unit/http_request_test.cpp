// http_request_test.cpp — server/http_request and server/http_json: telling HTTP from the
// line protocol, one request at a time (partial, complete, pipelined), every refusal with
// its status, keep-alive rules, query decoding, JSON strings out and {"text": ...} in.
#include <doctest/doctest.h>

#include <string>

#include "../../server/http_json.hpp"
#include "../../server/http_session.hpp"
#include "../../server/http_request.hpp"

using http::ParseStatus;

namespace {

http::Parsed parse(std::string_view s, size_t max_body = 1000) {
  return http::parse_request(s, max_body);
}

int status_of(std::string_view s, size_t max_body = 1000) {
  http::Parsed p = parse(s, max_body);
  REQUIRE(p.status == ParseStatus::error);
  CHECK(!p.error.empty());
  return p.error_status;
}

}  // namespace

TEST_CASE("http: request lines are told from line-protocol commands") {
  CHECK(http::is_request_line("GET / HTTP/1.1"));
  CHECK(http::is_request_line("GET /notes?since=5 HTTP/1.0\r"));
  CHECK(http::is_request_line("POST /notes HTTP/1.1"));
  CHECK_FALSE(http::is_request_line("HISTORY"));
  CHECK_FALSE(http::is_request_line("HISTORY FROM 127.0.0.1"));
  CHECK_FALSE(http::is_request_line("get / HTTP/1.1"));     // method in upper case only
  CHECK_FALSE(http::is_request_line("GET notes HTTP/1.1"));  // target starts with '/'
  CHECK_FALSE(http::is_request_line("GET / HTTP/2.0"));
  CHECK_FALSE(http::is_request_line("GET /  HTTP/1.1"));
  CHECK_FALSE(http::is_request_line("GET / HTTP/1.1 x"));
  CHECK(http::may_become_request_line(""));
  CHECK(http::may_become_request_line("GE"));
  CHECK(http::may_become_request_line("GET "));
  CHECK(http::may_become_request_line("GET /aaaa"));
  CHECK_FALSE(http::may_become_request_line("GET x"));
  CHECK_FALSE(http::may_become_request_line("HISTORY FROM"));
  CHECK_FALSE(http::may_become_request_line("history"));
  CHECK_FALSE(http::may_become_request_line(" GET /"));
}

TEST_CASE("http: a complete GET with headers, query and keep-alive") {
  std::string s = "\r\nGET /notes?since=5&match=a+b HTTP/1.1\r\nHost: 127.0.0.1:9527\r\n"
                  "Accept:  */*  \r\nX-Empty:\r\n\r\nGET / HTTP/1.1\r\n";
  http::Parsed p = parse(s);
  REQUIRE(p.status == ParseStatus::complete);
  const http::Request& r = p.request;
  CHECK(r.method == "GET");
  CHECK(r.target == "/notes?since=5&match=a+b");
  CHECK(r.path == "/notes");
  CHECK(r.query == "since=5&match=a+b");
  CHECK(r.minor == 1);
  CHECK(r.keep_alive);
  CHECK(r.header("host") == "127.0.0.1:9527");
  CHECK(r.header("ACCEPT") == "*/*");
  CHECK(r.header("x-empty") == "");
  CHECK_FALSE(r.header("Cookie"));
  CHECK(p.consumed == s.find("GET /", 5));  // the pipelined request stays in the buffer
  CHECK(parse(std::string_view(s).substr(p.consumed)).status == ParseStatus::incomplete);
}

TEST_CASE("http: bare LF line ends, HTTP/1.0 without Host, keep-alive rules") {
  http::Parsed p = parse("GET / HTTP/1.0\n\n");
  REQUIRE(p.status == ParseStatus::complete);
  CHECK(p.request.minor == 0);
  CHECK_FALSE(p.request.keep_alive);
  p = parse("GET / HTTP/1.0\nConnection: Keep-Alive\n\n");
  REQUIRE(p.status == ParseStatus::complete);
  CHECK(p.request.keep_alive);
  p = parse("GET / HTTP/1.1\nHost: x\nConnection: foo, close\n\n");
  REQUIRE(p.status == ParseStatus::complete);
  CHECK_FALSE(p.request.keep_alive);
}

TEST_CASE("http: a body arrives by Content-Length, byte by byte") {
  std::string s = "POST /notes HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\n{\"text\": \"hi\"}X";
  for (size_t n = 0; n < s.size() - 1; ++n)
    CHECK(parse(std::string_view(s).substr(0, n)).status == ParseStatus::incomplete);
  http::Parsed p = parse(s);
  REQUIRE(p.status == ParseStatus::complete);
  CHECK(p.request.body == "{\"text\": \"hi\"}X");
  CHECK(p.consumed == s.size());
}

TEST_CASE("http: refusals and their status codes") {
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400);  // no Host in 1.1
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost a\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTQ/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(status_of("GET x HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(status_of("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 411);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400);
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400);
  // The body limit is known from the head: 413 before the body arrives.
  CHECK(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n") == 413);
  http::Parsed at_limit = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
  CHECK(at_limit.status == ParseStatus::incomplete);
}

TEST_CASE("http: the 8 KiB head limit (431), also while the head is incomplete") {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  std::string fits = head + std::string(http::kMaxHead - head.size() - 4, 'p') + "\r\n\r\n";
  REQUIRE(fits.size() == http::kMaxHead);
  CHECK(parse(fits).status == ParseStatus::complete);
  std::string over = head + std::string(http::kMaxHead - head.size() - 3, 'p') + "\r\n\r\n";
  CHECK(status_of(over) == 431);
  CHECK(status_of(head + std::string(http::kMaxHead, 'p')) == 431);  // no end in sight
  CHECK(status_of("GET /" + std::string(http::kMaxHead, 'a')) == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 0; i < http::kMaxHeaders; ++i) many += "A: b\r\n";
  CHECK(status_of(many + "\r\n") == 431);
}

TEST_CASE("http: query strings decode percent escapes and '+'") {
  CHECK(http::url_decode("a+b%20c%2B%25") == "a b c+%");
  CHECK(http::url_decode("%e5%91%A8") == "\xe5\x91\xa8");
  CHECK_FALSE(http::url_decode("%"));
  CHECK_FALSE(http::url_decode("%4"));
  CHECK_FALSE(http::url_decode("%zz"));
  auto q = http::parse_query("since=5&&match=a+b&flag&from=127.0.0.1%3A9");
  REQUIRE(q);
  REQUIRE(q->size() == 4);
  CHECK((*q)[0] == std::pair<std::string, std::string>("since", "5"));
  CHECK((*q)[1].second == "a b");
  CHECK((*q)[2] == std::pair<std::string, std::string>("flag", ""));
  CHECK((*q)[3].second == "127.0.0.1:9");
  CHECK_FALSE(http::parse_query("a=%G0"));
  CHECK(http::parse_query("")->empty());
}

TEST_CASE("http json: strings are escaped, note lines become objects") {
  std::string out;
  http::append_json_string(out, "a\"b\\c\x01\x7f\xe5\x91\xa8<");
  CHECK(out == "\"a\\\"b\\\\c\\u0001\\u007f\xe5\x91\xa8<\"");
  out.clear();
  CHECK(http::append_note_json(out, "7\t2026-11-24T08:15:30.123Z\t127.0.0.1:1\tsay \"hi\"\n"));
  CHECK(out == "{\"seq\":7,\"time\":\"2026-11-24T08:15:30.123Z\",\"from\":\"127.0.0.1:1\","
               "\"text\":\"say \\\"hi\\\"\"}\n");
  out.clear();
  CHECK_FALSE(http::append_note_json(out, "7\tno fields"));
  CHECK_FALSE(http::append_note_json(out, "x\ta\tb\tc"));
  CHECK(out.empty());
}

TEST_CASE("http json: reading {\"text\": ...}") {
  std::string err;
  CHECK(http::read_text_member(R"({"text": "bought milk"})", err) == "bought milk");
  CHECK(http::read_text_member(" {\"a\":1,\"text\":\"x\\n\",\"b\":null,\"c\":\"s\"} \n", err) == "x\n");
  CHECK(http::read_text_member(R"({"text":"\u00e9\ud83d\ude00\/"})", err) == "\xc3\xa9\xf0\x9f\x98\x80/");
  CHECK(http::read_text_member(R"({"text":""})", err) == "");
  for (const char* bad : {"", "[]", "{}", "{\"text\":1}", "{\"text\":\"a\",\"text\":\"b\"}",
                          "{\"text\":\"a\"", "{\"text\":\"a\"} x", "{\"text\":\"\\ud800\"}",
                          "{\"text\":\"\\udc00\"}", "{\"text\":\"\\q\"}", "{\"text\":\"a\x01\"}",
                          "{\"a\":{}}", "{\"text\" \"a\"}", "{\"text\":\"\\u12\"}"}) {
    CAPTURE(bad);
    err.clear();
    CHECK_FALSE(http::read_text_member(bad, err));
    CHECK(!err.empty());
  }
}

TEST_CASE("http: Host names this server (421 otherwise), Origin must match Host for writes") {
  std::vector<std::string> names = {"notes.lan"};
  for (const char* ok : {"127.0.0.1", "127.0.0.1:9527", "[::1]", "[::1]:80", "localhost",
                         "LocalHost:8080", "notes.lan", "NOTES.LAN:9527", "192.168.1.7:1"})
    CHECK_MESSAGE(http::host_allowed(ok, names), ok);
  for (const char* bad : {"", "evil.example", "evil.example:9527", "notes.lan.evil", "::1",
                          "[::1", "[zz]", "127.0.0.1:", "127.0.0.1:x", "1.2.3", "localhost:1:2",
                          "127.0.0.1:123456", "[::1]x"})
    CHECK_FALSE_MESSAGE(http::host_allowed(bad, names), bad);
  CHECK(http::same_origin("http://127.0.0.1:9527", "127.0.0.1:9527"));
  CHECK(http::same_origin("http://LOCALHOST:9527", "localhost:9527"));
  CHECK(http::same_origin("http://notes.lan", "notes.lan:80"));
  CHECK(http::same_origin("http://[::1]:9", "[::1]:9"));
  CHECK_FALSE(http::same_origin("http://127.0.0.1:9528", "127.0.0.1:9527"));
  CHECK_FALSE(http::same_origin("http://evil.example", "127.0.0.1:9527"));
  CHECK(http::same_origin("https://127.0.0.1:9527", "127.0.0.1:9527"));  // host and port
  CHECK_FALSE(http::same_origin("null", "127.0.0.1:9527"));
  CHECK_FALSE(http::same_origin("ftp://127.0.0.1:9527", "127.0.0.1:9527"));
}

TEST_CASE("http: QUERY parameters become FILTERS; Last-Event-ID replaces since and last") {
  Filters f;
  CHECK(query_filters({{"from", "127.0.0.1:9"}, {"since", "5"}, {"last", "2"}, {"match", "a b"},
                       {"_", "123"}},
                      std::nullopt, f) == "");
  REQUIRE(f.from);
  CHECK(f.from->port == 9);
  CHECK(f.since_seq == 5);
  CHECK(f.last == 2u);
  CHECK(f.match == "a b");
  Filters t;
  CHECK(query_filters({{"since", "2026-11-30"}, {"until", "2026-12-01T00:00:00.000Z"},
                       {"before", "40"}},
                      std::nullopt, t) == "");
  CHECK(t.since_ms.has_value());
  CHECK(t.until_ms.has_value());
  CHECK(t.before_seq == 40);
  Filters r;
  CHECK(query_filters({{"since", "2"}, {"last", "1"}, {"match", "x"}}, 17, r) == "");
  CHECK(r.since_seq == 17);
  CHECK_FALSE(r.last);
  CHECK(r.match == "x");
  Filters bad;
  CHECK(query_filters({{"since", "1"}, {"since", "2"}}, std::nullopt, bad) != "");
  CHECK(query_filters({{"before", "0"}}, std::nullopt, bad) != "");
  CHECK(query_filters({{"last", "x"}}, std::nullopt, bad) != "");
  CHECK(idempotency_id("abc-DEF_09") == ExactlyOnce::key_client_id("abc-DEF_09"));
  CHECK(idempotency_id(std::string(64, 'k')));
  CHECK_FALSE(idempotency_id(std::string(65, 'k')));
  CHECK_FALSE(idempotency_id(""));
  CHECK_FALSE(idempotency_id("a b"));
  CHECK_FALSE(idempotency_id("a/b"));
}
