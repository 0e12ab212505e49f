// net.cpp — address parsing and formatting, and the resolver; see net.hpp.
#include "net.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cassert>
#include <cstring>

uint16_t SockAddr::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

void SockAddr::normalize() noexcept {
  if (family() != AF_INET6) return;
  const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) return;
  sockaddr_in s4{};
  s4.sin_family = AF_INET;
  s4.sin_port = s6->sin6_port;
  std::memcpy(&s4.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
  ss = {};
  std::memcpy(&ss, &s4, sizeof s4);
  len = sizeof s4;
}

std::string SockAddr::ip_string() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else if (family() == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

size_t SockAddr::format(char* out) const noexcept {
  char ip[INET6_ADDRSTRLEN] = "?";
  bool v6 = family() == AF_INET6;
  if (family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, ip, sizeof ip);
  else if (v6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, ip, sizeof ip);
  size_t n = 0;
  if (v6) out[n++] = '[';
  size_t iplen = std::strlen(ip);
  std::memcpy(out + n, ip, iplen);
  n += iplen;
  if (v6) out[n++] = ']';
  out[n++] = ':';
  char digits[8];
  int d = 0;
  unsigned p = port();
  do {
    digits[d++] = static_cast<char>('0' + p % 10);
    p /= 10;
  } while (p);
  while (d) out[n++] = digits[--d];
  return n;
}

std::string SockAddr::to_string() const {
  char buf[64];
  return std::string(buf, format(buf));
}

std::optional<SockAddr> SockAddr::from_ip(std::string_view ip, uint16_t port) {
  if (ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char s[INET6_ADDRSTRLEN];
  std::memcpy(s, ip.data(), ip.size());
  s[ip.size()] = '\0';
  SockAddr a;
  sockaddr_in s4{};
  sockaddr_in6 s6{};
  if (inet_pton(AF_INET, s, &s4.sin_addr) == 1) {
    s4.sin_family = AF_INET;
    s4.sin_port = htons(port);
    std::memcpy(&a.ss, &s4, sizeof s4);
    a.len = sizeof s4;
  } else if (inet_pton(AF_INET6, s, &s6.sin6_addr) == 1) {
    s6.sin6_family = AF_INET6;
    s6.sin6_port = htons(port);
    std::memcpy(&a.ss, &s6, sizeof s6);
    a.len = sizeof s6;
  } else {
    return std::nullopt;
  }
  return a;
}

std::optional<uint16_t> parse_port(std::string_view s) {
  auto v = parse_u64(s);
  if (!v || *v > 65535) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

namespace {

// Splits "IP:PORT" / "[V6]:PORT" / "IP" / "V6" / "[V6]" into ip and optional port text.
bool split_host_port(std::string_view s, std::string_view& ip, std::string_view& port,
                     bool& has_port) {
  has_port = false;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    ip = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    has_port = true;
    return true;
  }
  size_t first = s.find(':');
  if (first != std::string_view::npos && s.find(':', first + 1) == std::string_view::npos) {
    ip = s.substr(0, first);
    port = s.substr(first + 1);
    has_port = true;
    return true;
  }
  ip = s;  // no colon (IPv4) or several (bare IPv6)
  return true;
}

}  // namespace

std::optional<SockAddr> parse_endpoint(std::string_view s) {
  std::string_view ip, port;
  bool has_port;
  if (!split_host_port(s, ip, port, has_port) || !has_port) return std::nullopt;
  auto p = parse_port(port);
  if (!p) return std::nullopt;
  auto a = SockAddr::from_ip(ip, *p);
  if (a) a->normalize();
  return a;
}

std::optional<AddrFilter> parse_addr_filter(std::string_view s) {
  std::string_view ip, port;
  bool has_port;
  if (!split_host_port(s, ip, port, has_port)) return std::nullopt;
  uint16_t p = 0;
  if (has_port) {
    auto pp = parse_port(port);
    if (!pp) return std::nullopt;
    p = *pp;
  }
  auto a = SockAddr::from_ip(ip, 0);
  if (!a) return std::nullopt;
  a->normalize();
  return AddrFilter{a->ip_string(), p, has_port};
}

std::optional<Cidr> parse_cidr(std::string_view s) {
  std::string_view ip = s;
  int prefix = -1;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    ip = s.substr(0, slash);
    auto p = parse_u64(s.substr(slash + 1));
    if (!p || *p > 128) return std::nullopt;
    prefix = static_cast<int>(*p);
  }
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  auto a = SockAddr::from_ip(ip, 0);
  if (!a) return std::nullopt;
  a->normalize();  // ::ffff:10.0.0.0/104 is treated as 10.0.0.0/8
  Cidr c;
  c.family = a->family();
  if (c.family == AF_INET) {
    std::memcpy(c.bytes, &reinterpret_cast<const sockaddr_in*>(&a->ss)->sin_addr, 4);
    bool mapped = ip.find(':') != std::string_view::npos;  // written as ::ffff:a.b.c.d
    if (prefix < 0) {
      prefix = 32;
    } else if (mapped) {
      if (prefix < 96) return std::nullopt;
      prefix -= 96;
    }
    if (prefix > 32) return std::nullopt;
  } else {
    std::memcpy(c.bytes, &reinterpret_cast<const sockaddr_in6*>(&a->ss)->sin6_addr, 16);
    if (prefix < 0) prefix = 128;
  }
  c.prefix = prefix;
  return c;
}

bool Cidr::contains(const SockAddr& a) const noexcept {
  if (a.family() != family) return false;
  const unsigned char* b =
      family == AF_INET
          ? reinterpret_cast<const unsigned char*>(
                &reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr)
          : reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr.s6_addr;
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(b, bytes, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (b[full] & mask) == (bytes[full] & mask);
}

bool is_loopback(const SockAddr& a) noexcept {
  if (a.family() == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr.s_addr) >> 24) == 127;
  if (a.family() == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr);
  return false;
}

bool resolve(const std::string& host, uint16_t port, int socktype, std::vector<SockAddr>& out,
             std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY || rc == EAI_NODATA) {
    hints.ai_flags = AI_NUMERICSERV;
    rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  }
  if (rc != 0) {
    error = "cannot resolve host '" + host + "': " + gai_strerror(rc);
    return false;
  }
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    SockAddr a;
    assert(ai->ai_addrlen <= sizeof a.ss);
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.push_back(a);
  }
  ::freeaddrinfo(res);
  return true;
}
