// http_request.hpp — the HTTP/1.1 request side of SPEC.md "HTTP: the notebook in a browser",
// as pure functions over bytes: telling an HTTP request line from a line-protocol command,
// parsing one request (request line, headers, Content-Length body) out of a buffer that may
// hold a partial one or several pipelined ones, and decoding a query string. No I/O, no
// allocation beyond the header list; unit-tested (tests/unit/http_request_test.cpp) and
// fuzzed (tests/fuzz/http_request_fuzz.cpp). http_session.cpp is the I/O shell around it.
//
// A request, as it arrives (CRLF or bare LF line ends; empty lines before it are skipped):
//   "POST /notes HTTP/1.1\r\nHost: 127.0.0.1:9527\r\nContent-Type: application/json\r\n"
//   "Content-Length: 19\r\n\r\n{\"text\": \"hello\"}"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

inline constexpr size_t kMaxHead = 8 << 10;  // request line + headers (SPEC: 431 above it)
inline constexpr size_t kMaxHeaders = 100;   // header fields per request (431 above it)

// ---- telling HTTP from the line protocol (SPEC: the first non-empty line decides) ---------

// True when line (without its terminator; a trailing '\r' is ignored) is an HTTP request
// line: METHOD SP TARGET SP HTTP/1.0|HTTP/1.1, METHOD upper-case letters, TARGET starting
// with '/' and free of spaces and control characters.
bool is_request_line(std::string_view line) noexcept;
// True while partial (a first line without its terminator yet) can still become a request
// line: an upper-case word, one space and '/' (or a prefix of that). Such a line may grow to
// kMaxHead bytes before the server decides; any other line keeps the 1024-byte limit.
bool may_become_request_line(std::string_view partial) noexcept;

// ---- one request --------------------------------------------------------------------------

struct Request {
  std::string_view method;  // "GET", as sent (upper case)
  std::string_view target;  // "/notes?since=5", as sent
  std::string_view path;    // "/notes" (target before '?')
  std::string_view query;   // "since=5" (after '?', may be empty)
  int minor = 1;            // HTTP/1.<minor>: 0 or 1
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // value trimmed
  uint64_t content_length = 0;
  bool keep_alive = true;  // 1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  std::string_view body;   // content_length bytes

  // The first header named name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
  // How many headers are named name.
  size_t header_count(std::string_view name) const noexcept;
};

enum class ParseStatus { incomplete, complete, error };

struct Parsed {
  ParseStatus status = ParseStatus::incomplete;
  Request request;    // complete, or incomplete with head_bytes > 0: views into the buffer
  size_t consumed = 0;  // complete: bytes of this request (skipped empty lines included)
  // incomplete: the bytes of the request head when it is all here and only the body is
  // missing (request then holds the head, body empty), so that an `Expect: 100-continue`
  // can be answered; 0 while the head itself is incomplete.
  size_t head_bytes = 0;
  int error_status = 0;  // error: 400, 411, 413, 431 or 505 (the connection closes after it)
  std::string error;     // error: one line for the person, e.g. "header line without ':'"
};

// Parses the first request in buf. incomplete: more bytes are needed (and buf is under the
// limits); complete: request and consumed are set; error: error_status and error say why.
// max_body is the largest Content-Length accepted (413 above it, as soon as the head is in).
// Refused: a Transfer-Encoding (411: send a Content-Length), several or bad Content-Lengths,
// obsolete line folding, a header without ':' or with space before it, control characters,
// a missing Host in HTTP/1.1, a second Host (400), other HTTP versions (505).
Parsed parse_request(std::string_view buf, size_t max_body);

// What a request's Expect header asks (RFC 9110 §10.1.1): nothing (no header, or HTTP/1.0,
// whose expectations are ignored), `100-continue` (answer "100 Continue" before reading the
// body), or something else (417 Expectation Failed).
enum class Expectation { none, continue_100, unsupported };
Expectation expectation(const Request& r) noexcept;

// ---- query strings --------------------------------------------------------------------------

// Decodes application/x-www-form-urlencoded text: '+' is a space, %XX a byte. nullopt when
// a '%' is not followed by two hex digits.
std::optional<std::string> url_decode(std::string_view s);

// "a=1&b=x+y" -> {("a","1"), ("b","x y")}, names and values decoded, empty pairs skipped, a
// name without '=' has an empty value. nullopt when any part fails to decode.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view q);

// ---- Host and Origin (SPEC: 421 for unknown hosts, 403 for cross-origin writes) -----------

// True when a Host header value names this server: an IPv4 literal, a bracketed IPv6
// literal or `localhost` (any case), each with or without ":PORT", or one of names (the
// --http-host names, compared case-insensitively). Anything else could be a DNS-rebinding
// name pointed at us: 421.
bool host_allowed(std::string_view host, const std::vector<std::string>& names) noexcept;

// True when an Origin header value ("http://HOST[:PORT]") has the same host and port as the
// Host header (host names compared case-insensitively; no port means 80 for http, 443 for
// https). "null" and anything malformed are not the same origin.
bool same_origin(std::string_view origin, std::string_view host) noexcept;

}  // namespace http
