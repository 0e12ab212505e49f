// http_request.cpp — see http_request.hpp. Rules from RFC 9112 (message syntax), kept strict
// where leniency lets two parsers disagree about where a request ends (request smuggling):
// one Content-Length, no Transfer-Encoding, no line folding, no space before ':'.
#include "http_request.hpp"

#include "../common/net.hpp"

namespace http {
namespace {

bool upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
bool digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool target_char(char c) noexcept { return c > 0x20 && c < 0x7F; }

// RFC 9110 tchar: the characters of a header name.
bool tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || upper(c) || digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next line of buf from pos without its terminator ("\n" or "\r\n"); nullopt when no
// '\n' has arrived yet. next is set past the terminator.
std::optional<std::string_view> next_line(std::string_view buf, size_t pos, size_t& next) {
  size_t nl = buf.find('\n', pos);
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view line = buf.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  next = nl + 1;
  return line;
}

// Does the comma-separated token list v contain token (case-insensitive)?
bool has_token(std::string_view v, std::string_view token) noexcept {
  while (!v.empty()) {
    size_t comma = v.find(',');
    if (iequals_ascii(trim(v.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

int hex(char c) noexcept {
  if (digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Parsed fail(int status, std::string why) {
  Parsed p;
  p.status = ParseStatus::error;
  p.error_status = status;
  p.error = std::move(why);
  return p;
}

}  // namespace

bool is_request_line(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  while (i < line.size() && upper(line[i])) ++i;
  if (i == 0 || i >= line.size() || line[i] != ' ') return false;
  size_t t = ++i;
  if (t >= line.size() || line[t] != '/') return false;
  while (i < line.size() && target_char(line[i])) ++i;
  if (i >= line.size() || line[i] != ' ') return false;
  std::string_view version = line.substr(i + 1);
  return version == "HTTP/1.1" || version == "HTTP/1.0";
}

bool may_become_request_line(std::string_view partial) noexcept {
  size_t i = 0;
  while (i < partial.size() && upper(partial[i])) ++i;
  if (i == partial.size()) return true;  // "GE", or nothing yet
  if (i == 0 || partial[i] != ' ') return false;
  if (++i == partial.size()) return true;  // "GET "
  return partial[i] == '/';
}

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const auto& [n, v] : headers)
    if (iequals_ascii(n, name)) return v;
  return std::nullopt;
}

size_t Request::header_count(std::string_view name) const noexcept {
  size_t k = 0;
  for (const auto& h : headers) k += iequals_ascii(h.first, name);
  return k;
}

Parsed parse_request(std::string_view buf, size_t max_body) {
  size_t pos = 0, next = 0;
  // Empty lines before a request are skipped (RFC 9112 §2.2), within the head limit.
  std::optional<std::string_view> line;
  for (;;) {
    line = next_line(buf, pos, next);
    if (!line) {
      if (buf.size() - pos > kMaxHead)
        return fail(431, "request line over " + std::to_string(kMaxHead) + " bytes");
      return {};
    }
    if (!line->empty()) break;
    pos = next;
    if (pos > kMaxHead) return fail(400, "too many empty lines before the request");
  }
  const size_t start = pos;
  Parsed p;
  Request& r = p.request;
  // Request line.
  {
    std::string_view l = *line;
    size_t sp1 = l.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : l.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
    r.method = l.substr(0, sp1);
    r.target = l.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = l.substr(sp2 + 1);
    if (r.method.empty()) return fail(400, "malformed request line");
    for (char c : r.method)
      if (!tchar(c)) return fail(400, "malformed method");
    if (r.target.empty() || r.target[0] != '/')
      return fail(400, "request target must start with '/'");
    for (char c : r.target)
      if (!target_char(c)) return fail(400, "request target holds a space or control byte");
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) ||
        version[6] != '.' || !digit(version[7]))
      return fail(400, "malformed HTTP version");
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
      return fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
    r.minor = version[7] - '0';
    size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string_view::npos) r.query = r.target.substr(q + 1);
  }
  // Header lines, up to the empty line.
  for (;;) {
    if (next - start > kMaxHead)
      return fail(431, "request head over " + std::to_string(kMaxHead) + " bytes");
    pos = next;
    line = next_line(buf, pos, next);
    if (!line) {
      if (buf.size() - start > kMaxHead)
        return fail(431, "request head over " + std::to_string(kMaxHead) + " bytes");
      return {};
    }
    if (line->empty()) break;
    std::string_view l = *line;
    if (l[0] == ' ' || l[0] == '\t') return fail(400, "obsolete header line folding");
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) return fail(400, "header line without ':'");
    std::string_view name = l.substr(0, colon);
    if (name.empty()) return fail(400, "empty header name");
    for (char c : name)
      if (!tchar(c)) return fail(400, "malformed header name (space before ':'?)");
    std::string_view value = trim(l.substr(colon + 1));
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) return fail(400, "control byte in a header");
    }
    if (r.headers.size() >= kMaxHeaders)
      return fail(431, "more than " + std::to_string(kMaxHeaders) + " header fields");
    r.headers.emplace_back(name, value);
  }
  if (next - start > kMaxHead)
    return fail(431, "request head over " + std::to_string(kMaxHead) + " bytes");
  // Framing and connection.
  if (r.header_count("Transfer-Encoding"))
    return fail(411, "Transfer-Encoding is not accepted: send a Content-Length");
  if (size_t n = r.header_count("Content-Length")) {
    if (n > 1) return fail(400, "more than one Content-Length");
    std::string_view v = *r.header("Content-Length");
    if (v.empty() || v.size() > 18) return fail(400, "malformed Content-Length");
    uint64_t len = 0;
    for (char c : v) {
      if (!digit(c)) return fail(400, "malformed Content-Length");
      len = len * 10 + static_cast<uint64_t>(c - '0');
    }
    if (len > max_body)
      return fail(413, "body of " + std::to_string(len) + " bytes is over the limit of " +
                           std::to_string(max_body));
    r.content_length = len;
  }
  size_t hosts = r.header_count("Host");
  if (hosts > 1) return fail(400, "more than one Host header");
  if (hosts == 0 && r.minor == 1) return fail(400, "HTTP/1.1 request without a Host header");
  std::optional<std::string_view> conn = r.header("Connection");
  r.keep_alive = r.minor == 1 ? !(conn && has_token(*conn, "close"))
                              : (conn && has_token(*conn, "keep-alive"));
  if (buf.size() - next < r.content_length) {
    p.head_bytes = next;  // the head is here, the body not yet (Expect: 100-continue)
    return p;
  }
  r.body = buf.substr(next, r.content_length);
  p.consumed = next + r.content_length;
  p.status = ParseStatus::complete;
  return p;
}

Expectation expectation(const Request& r) noexcept {
  std::optional<std::string_view> e = r.header("Expect");
  if (!e || r.minor == 0) return Expectation::none;
  return iequals_ascii(*e, "100-continue") && r.header_count("Expect") == 1
             ? Expectation::continue_100
             : Expectation::unsupported;
}

std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto name = url_decode(part.substr(0, eq));
    auto value = url_decode(eq == std::string_view::npos ? std::string_view()
                                                         : part.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

namespace {

// Splits "host[:port]" / "[v6][:port]" into host (brackets kept) and port text.
bool split_authority(std::string_view a, std::string_view& host, std::string_view& port) {
  port = {};
  if (!a.empty() && a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos) return false;
    host = a.substr(0, close + 1);
    std::string_view rest = a.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    port = rest.substr(1);
  } else {
    size_t colon = a.find(':');
    host = a.substr(0, colon);
    if (colon != std::string_view::npos) port = a.substr(colon + 1);
    if (port.find(':') != std::string_view::npos) return false;
  }
  if (host.empty()) return false;
  if (a.size() > host.size() && port.empty()) return false;  // "host:" with no digits
  for (char c : port)
    if (!digit(c)) return false;
  return port.size() <= 5;
}

}  // namespace

bool host_allowed(std::string_view value, const std::vector<std::string>& names) noexcept {
  std::string_view host, port;
  if (!split_authority(value, host, port)) return false;
  if (host.front() == '[') return SockAddr::from_ip(host.substr(1, host.size() - 2), 0).has_value();
  if (iequals_ascii(host, "localhost")) return true;
  for (const std::string& n : names)
    if (iequals_ascii(host, n)) return true;
  // An IPv4 literal in dotted-quad form only (inet_pton's rules).
  return SockAddr::from_ip(host, 0).has_value() && host.find(':') == std::string_view::npos;
}

bool same_origin(std::string_view origin, std::string_view host_header) noexcept {
  std::string_view default_port;
  if (origin.substr(0, 7) == "http://") {
    origin.remove_prefix(7);
    default_port = "80";
  } else if (origin.substr(0, 8) == "https://") {
    origin.remove_prefix(8);
    default_port = "443";
  } else {
    return false;
  }
  std::string_view oh, op, hh, hp;
  if (!split_authority(origin, oh, op) || !split_authority(host_header, hh, hp)) return false;
  if (op.empty()) op = default_port;
  if (hp.empty()) hp = default_port;
  return iequals_ascii(oh, hh) && op == hp;
}

}  // namespace http
