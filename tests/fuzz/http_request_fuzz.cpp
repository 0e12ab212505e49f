// http_request_fuzz.cpp — libFuzzer target for the HTTP side's pure parts: parse_request on
// arbitrary bytes (exactly one outcome; a complete request's views lie inside the buffer, its
// body is the Content-Length bytes at the end of what it consumed, it parses again alone and
// every shorter prefix is incomplete or refused the same way; refusals use the documented
// statuses), is_request_line / may_become_request_line agree, parse_query never crashes,
// and JSON strings written by append_json_string read back unchanged through
// read_text_member.
// Build: make build/fuzz/http_request   Run: build/fuzz/http_request tests/fuzz/corpus/http_request
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../../server/http_json.hpp"
#include "../../server/http_request.hpp"
#include "fuzz_assert.hpp"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_request(std::string_view buf, size_t max_body) {
  http::Parsed p = http::parse_request(buf, max_body);
  switch (p.status) {
    case http::ParseStatus::incomplete:
      FUZZ_ASSERT(p.error.empty() && p.error_status == 0);
      return;
    case http::ParseStatus::error: {
      int s = p.error_status;
      FUZZ_ASSERT(s == 400 || s == 411 || s == 413 || s == 431 || s == 505);
      FUZZ_ASSERT(!p.error.empty());
      for (char c : p.error) FUZZ_ASSERT(c >= 0x20 && c < 0x7F);
      return;
    }
    case http::ParseStatus::complete:
      break;
  }
  const http::Request& r = p.request;
  FUZZ_ASSERT(p.consumed <= buf.size());
  FUZZ_ASSERT(r.content_length <= max_body);
  FUZZ_ASSERT(r.body.size() == r.content_length);
  FUZZ_ASSERT(r.body.data() + r.body.size() == buf.data() + p.consumed);
  FUZZ_ASSERT(!r.method.empty() && !r.target.empty() && r.target[0] == '/');
  FUZZ_ASSERT(r.minor == 0 || r.minor == 1);
  FUZZ_ASSERT(r.target.substr(0, r.path.size()) == r.path);
  for (std::string_view v : {r.method, r.target, r.path, r.query, r.body})
    FUZZ_ASSERT(inside(v, buf));
  for (const auto& [n, v] : r.headers) FUZZ_ASSERT(inside(n, buf) && inside(v, buf) && !n.empty());
  FUZZ_ASSERT(r.header_count("Transfer-Encoding") == 0 && r.header_count("Host") <= 1);
  // The request alone parses the same; a shorter prefix is never complete.
  http::Parsed again = http::parse_request(buf.substr(0, p.consumed), max_body);
  FUZZ_ASSERT(again.status == http::ParseStatus::complete && again.consumed == p.consumed);
  http::Parsed cut = http::parse_request(buf.substr(0, p.consumed - 1), max_body);
  FUZZ_ASSERT(cut.status == http::ParseStatus::incomplete);
  (void)http::parse_query(r.query);
}

void check_first_line(std::string_view data) {
  std::string_view line = data.substr(0, data.find('\n'));
  if (!http::is_request_line(line)) return;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  for (size_t n = 0; n <= line.size(); n += 1 + n / 4)
    FUZZ_ASSERT(http::may_become_request_line(line.substr(0, n)));
  std::string req = std::string(line) + "\r\nHost: a\r\n\r\n";
  if (req.size() <= http::kMaxHead)
    FUZZ_ASSERT(http::parse_request(req, 0).status == http::ParseStatus::complete);
}

void check_json(std::string_view data) {
  std::string err;
  auto text = http::read_text_member(data, err);
  FUZZ_ASSERT(text.has_value() == err.empty());
  // Whatever append_json_string writes reads back unchanged.
  std::string body = "{\"text\":";
  http::append_json_string(body, data);
  body += "}";
  auto back = http::read_text_member(body, err);
  FUZZ_ASSERT(back && *back == data);
  if (text) {
    std::string again = "{\"x\":null,\"text\":";
    http::append_json_string(again, *text);
    again += "}";
    auto t2 = http::read_text_member(again, err);
    FUZZ_ASSERT(t2 && *t2 == *text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  size_t max_body = size ? data[0] * 4u : 0;
  check_request(s, max_body);
  check_request(s, 1 << 20);
  check_first_line(s);
  check_json(s);
  return 0;
}
