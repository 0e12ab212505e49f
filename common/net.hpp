// net.hpp — socket addresses (parse, format, CIDR match) and the client resolver.
// Pure formatting/parsing, plus resolve() over getaddrinfo; owns no descriptor.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text.hpp"  // parse_u64, once declared here

// An IPv4 or IPv6 socket address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), which a
// dual-stack socket reports for IPv4 peers, are turned into plain IPv4 by normalize().
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;

  int family() const noexcept { return ss.ss_family; }
  uint16_t port() const noexcept;
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&ss); }

  void normalize() noexcept;
  std::string ip_string() const;  // "1.2.3.4", "::1"
  std::string to_string() const;  // "1.2.3.4:5", "[::1]:5"
  // Writes to_string() into buf (at least 64 bytes); returns its length. No allocation.
  size_t format(char* buf) const noexcept;

  // An IP literal (v4 or v6, no brackets) plus a port.
  static std::optional<SockAddr> from_ip(std::string_view ip, uint16_t port);
};


// Parses "IP:PORT", "[V6]:PORT" (port required). nullopt when malformed.
std::optional<SockAddr> parse_endpoint(std::string_view s);

// A FROM filter: "IP" (all ports of that host) or "IP:PORT" / "[V6]:PORT" (one client).
// ip is normalized (canonical text, IPv4-mapped shown as IPv4); port 0 means any port.
struct AddrFilter {
  std::string ip;
  uint16_t port = 0;
  bool has_port = false;  // "IP:PORT" (port 0 too: whatever CLIENTS prints, FROM takes)
  bool any_port() const noexcept { return !has_port; }
};
std::optional<AddrFilter> parse_addr_filter(std::string_view s);

// A network "10.0.0.0/8", "fd00::/8" or a single address ("10.1.2.3", "::1").
struct Cidr {
  int family = 0;
  unsigned char bytes[16]{};
  int prefix = 0;
  bool contains(const SockAddr& a) const noexcept;
};
std::optional<Cidr> parse_cidr(std::string_view s);

// Parses a port number 0..65535; nullopt otherwise.
std::optional<uint16_t> parse_port(std::string_view s);

// Resolves host (a name or an IP literal, IPv6 without brackets) and port for socktype
// (SOCK_STREAM or SOCK_DGRAM) with getaddrinfo, and appends the addresses in its order.
// AI_ADDRCONFIG first; when that finds nothing (it hides ::1 on a host with no IPv6 route),
// once more without it. False with a one-line error naming the host otherwise.
bool resolve(const std::string& host, uint16_t port, int socktype, std::vector<SockAddr>& out,
             std::string& error);

bool is_loopback(const SockAddr& a) noexcept;
