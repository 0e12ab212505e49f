// net_test.cpp — common/net: address formatting (IPv4, IPv6 in brackets), IPv4-mapped
// normalisation, endpoint and FROM-filter parsing, CIDR parsing and matching, numbers.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <string_view>

#include "../../common/net.hpp"

using namespace std::string_view_literals;

namespace {

SockAddr addr(std::string_view ip, uint16_t port = 0) {
  auto a = SockAddr::from_ip(ip, port);
  INFO("ip: ", std::string(ip));
  REQUIRE(a.has_value());
  return *a;
}

Cidr cidr(std::string_view s) {
  auto c = parse_cidr(s);
  INFO("cidr: ", std::string(s));
  REQUIRE(c.has_value());
  return *c;
}

}  // namespace

TEST_CASE("net: SockAddr formats IPv4 and IPv6 with brackets") {
  CHECK(addr("1.2.3.4", 5).to_string() == "1.2.3.4:5");
  CHECK(addr("127.0.0.1", 40522).to_string() == "127.0.0.1:40522");
  CHECK(addr("0.0.0.0", 0).to_string() == "0.0.0.0:0");
  CHECK(addr("255.255.255.255", 65535).to_string() == "255.255.255.255:65535");
  CHECK(addr("::1", 9527).to_string() == "[::1]:9527");
  CHECK(addr("::", 1).to_string() == "[::]:1");
  CHECK(addr("2001:DB8:0:0:0:0:0:1", 80).to_string() == "[2001:db8::1]:80");
  CHECK(addr("fe80::1", 0).to_string() == "[fe80::1]:0");
  CHECK(addr("::1", 9527).ip_string() == "::1");
  CHECK(addr("1.2.3.4", 5).ip_string() == "1.2.3.4");
  CHECK(addr("1.2.3.4", 5).port() == 5);
  CHECK(addr("::1", 65535).port() == 65535);
  CHECK(addr("1.2.3.4").family() == AF_INET);
  CHECK(addr("::1").family() == AF_INET6);
  CHECK(addr("1.2.3.4").len == sizeof(sockaddr_in));
  CHECK(addr("::1").len == sizeof(sockaddr_in6));

  // the longest text fits format()'s 64-byte contract
  SockAddr longest = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
  char buf[64];
  size_t n = longest.format(buf);
  CHECK(std::string(buf, n) == "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  CHECK(n == 47);
  n = addr("10.0.0.1", 7).format(buf);
  CHECK(n == 10);
  CHECK(std::string_view(buf, n) == "10.0.0.1:7");
}

TEST_CASE("net: SockAddr::from_ip refuses what is not an IP literal") {
  for (std::string_view s : {""sv, "1.2.3"sv, "1.2.3.4.5"sv, "256.0.0.1"sv, "localhost"sv,
                             "1.2.3.4 "sv, " 1.2.3.4"sv, "[::1]"sv, "::1::2"sv, "1.2.3.4:5"sv,
                             "0000:0000:0000:0000:0000:0000:0000:0000:0000"sv,
                             "012345678901234567890123456789012345678901234567"sv}) {
    CAPTURE(s);
    CHECK_FALSE(SockAddr::from_ip(s, 1).has_value());
  }
}

TEST_CASE("net: IPv4-mapped IPv6 is normalised to IPv4") {
  SockAddr a = addr("::ffff:10.1.2.3", 7);
  CHECK(a.family() == AF_INET6);
  a.normalize();
  CHECK(a.family() == AF_INET);
  CHECK(a.len == sizeof(sockaddr_in));
  CHECK(a.port() == 7);
  CHECK(a.to_string() == "10.1.2.3:7");
  // plain IPv6 and IPv4 are left alone
  SockAddr v6 = addr("2001:db8::1", 8);
  v6.normalize();
  CHECK(v6.family() == AF_INET6);
  CHECK(v6.to_string() == "[2001:db8::1]:8");
  SockAddr v4 = addr("1.2.3.4", 9);
  v4.normalize();
  CHECK(v4.to_string() == "1.2.3.4:9");
  // ::1 and the IPv4-compatible ::1.2.3.4 are not mapped addresses
  SockAddr compat = addr("::1.2.3.4", 1);
  compat.normalize();
  CHECK(compat.family() == AF_INET6);
}

TEST_CASE("net: parse_endpoint") {
  auto e = parse_endpoint("1.2.3.4:5");
  REQUIRE(e.has_value());
  CHECK(e->to_string() == "1.2.3.4:5");
  e = parse_endpoint("[::1]:9527");
  REQUIRE(e.has_value());
  CHECK(e->family() == AF_INET6);
  CHECK(e->to_string() == "[::1]:9527");
  e = parse_endpoint("[::ffff:1.2.3.4]:5");
  REQUIRE(e.has_value());
  CHECK(e->family() == AF_INET);
  CHECK(e->to_string() == "1.2.3.4:5");
  e = parse_endpoint("127.0.0.1:65535");
  REQUIRE(e.has_value());
  CHECK(e->port() == 65535);
  for (std::string_view s : {""sv, "1.2.3.4"sv, "::1"sv, "[::1]"sv, "1.2.3.4:"sv,
                             "1.2.3.4:65536"sv, "1.2.3.4:-1"sv, "1.2.3.4:x"sv, "[::1]5"sv,
                             "[::1"sv, "::1:5"sv, "host:5"sv, ":5"sv, "[]:5"sv,
                             "1.2.3.4:5:6"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_endpoint(s).has_value());
  }
}

TEST_CASE("net: parse_addr_filter") {
  auto f = parse_addr_filter("1.2.3.4");
  REQUIRE(f.has_value());
  CHECK(f->ip == "1.2.3.4");
  CHECK(f->port == 0);
  CHECK(f->any_port());
  f = parse_addr_filter("1.2.3.4:80");
  REQUIRE(f.has_value());
  CHECK(f->ip == "1.2.3.4");
  CHECK(f->port == 80);
  CHECK_FALSE(f->any_port());
  f = parse_addr_filter("[::1]");
  REQUIRE(f.has_value());
  CHECK(f->ip == "::1");
  CHECK(f->any_port());
  f = parse_addr_filter("::1");
  REQUIRE(f.has_value());
  CHECK(f->ip == "::1");
  CHECK(f->any_port());
  f = parse_addr_filter("[::1]:65535");
  REQUIRE(f.has_value());
  CHECK(f->ip == "::1");
  CHECK(f->port == 65535);
  f = parse_addr_filter("::ffff:1.2.3.4");
  REQUIRE(f.has_value());
  CHECK(f->ip == "1.2.3.4");
  f = parse_addr_filter("[::ffff:1.2.3.4]:9");
  REQUIRE(f.has_value());
  CHECK(f->ip == "1.2.3.4");
  CHECK(f->port == 9);
  f = parse_addr_filter("2001:DB8:0::1");
  REQUIRE(f.has_value());
  CHECK(f->ip == "2001:db8::1");
  // Port 0: an old store may hold notes from 127.0.0.1:0 and CLIENTS prints them; FROM takes
  // every address CLIENTS prints (one client, not "every port").
  f = parse_addr_filter("1.2.3.4:0");
  REQUIRE(f.has_value());
  CHECK(f->port == 0);
  CHECK_FALSE(f->any_port());
  CHECK(parse_addr_filter("1.2.3.4")->any_port());
  CHECK_FALSE(parse_addr_filter("[::1]:0")->any_port());
  for (std::string_view s : {""sv, "1.2.3.4:65536"sv, "host"sv,
                             "1.2.3.4:"sv, "[::1]:"sv, "[::1"sv, "[::1]x"sv, "1.2.3"sv,
                             "[1.2.3.4"sv, "*"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_addr_filter(s).has_value());
  }
}

TEST_CASE("net: parse_cidr") {
  Cidr c = cidr("10.0.0.0/8");
  CHECK(c.family == AF_INET);
  CHECK(c.prefix == 8);
  CHECK(c.bytes[0] == 10);
  c = cidr("10.1.2.3");
  CHECK(c.family == AF_INET);
  CHECK(c.prefix == 32);
  CHECK(c.bytes[3] == 3);
  c = cidr("0.0.0.0/0");
  CHECK(c.prefix == 0);
  c = cidr("fd00::/8");
  CHECK(c.family == AF_INET6);
  CHECK(c.prefix == 8);
  CHECK(c.bytes[0] == 0xfd);
  c = cidr("::1");
  CHECK(c.family == AF_INET6);
  CHECK(c.prefix == 128);
  CHECK(c.bytes[15] == 1);
  c = cidr("[::1]/128");
  CHECK(c.family == AF_INET6);
  CHECK(c.prefix == 128);
  c = cidr("[::1]");
  CHECK(c.prefix == 128);
  // IPv4-mapped: treated as IPv4 with the prefix less 96
  c = cidr("::ffff:10.0.0.0/104");
  CHECK(c.family == AF_INET);
  CHECK(c.prefix == 8);
  CHECK(c.bytes[0] == 10);
  c = cidr("::ffff:10.1.2.3");
  CHECK(c.family == AF_INET);
  CHECK(c.prefix == 32);
  c = cidr("::ffff:0.0.0.0/96");
  CHECK(c.family == AF_INET);
  CHECK(c.prefix == 0);
  for (std::string_view s : {""sv, "/8"sv, "10.0.0.0/"sv, "10.0.0.0/33"sv, "::/129"sv,
                             "10.0.0.0/-1"sv, "10.0.0.0/8x"sv, "10.0.0.0/ 8"sv, "10.0.0/8"sv,
                             "::ffff:10.0.0.0/95"sv, "::ffff:10.0.0.0/129"sv, "host/8"sv,
                             "10.0.0.0/8/8"sv, "[10.0.0.0]x/8"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_cidr(s).has_value());
  }
}

TEST_CASE("net: Cidr::contains at the edge bits") {
  Cidr c = cidr("10.0.0.0/9");
  CHECK(c.contains(addr("10.0.0.0")));
  CHECK(c.contains(addr("10.127.255.255")));
  CHECK_FALSE(c.contains(addr("10.128.0.0")));
  CHECK_FALSE(c.contains(addr("11.0.0.0")));
  CHECK_FALSE(c.contains(addr("9.255.255.255")));

  c = cidr("192.168.1.0/31");
  CHECK(c.contains(addr("192.168.1.0", 1)));
  CHECK(c.contains(addr("192.168.1.1", 2)));
  CHECK_FALSE(c.contains(addr("192.168.1.2")));

  c = cidr("192.168.1.7");  // /32
  CHECK(c.contains(addr("192.168.1.7", 9)));
  CHECK_FALSE(c.contains(addr("192.168.1.6")));
  CHECK_FALSE(c.contains(addr("192.168.1.8")));

  c = cidr("10.9.9.9/8");  // host bits set: only the prefix matters
  CHECK(c.contains(addr("10.0.0.1")));
  CHECK_FALSE(c.contains(addr("11.9.9.9")));

  c = cidr("0.0.0.0/0");
  CHECK(c.contains(addr("1.2.3.4")));
  CHECK(c.contains(addr("255.255.255.255")));
  CHECK_FALSE(c.contains(addr("::1")));

  c = cidr("2001:db8::/33");
  CHECK(c.contains(addr("2001:db8::")));
  CHECK(c.contains(addr("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(c.contains(addr("2001:db8:8000::")));
  CHECK_FALSE(c.contains(addr("2001:db9::")));

  c = cidr("fe80::/127");
  CHECK(c.contains(addr("fe80::")));
  CHECK(c.contains(addr("fe80::1")));
  CHECK_FALSE(c.contains(addr("fe80::2")));

  c = cidr("::/0");
  CHECK(c.contains(addr("::1")));
  CHECK_FALSE(c.contains(addr("1.2.3.4")));

  c = cidr("::1");
  CHECK(c.contains(addr("::1", 5)));
  CHECK_FALSE(c.contains(addr("::2")));
  CHECK_FALSE(c.contains(addr("127.0.0.1")));

  // a mapped CIDR matches normalised IPv4 peers
  c = cidr("::ffff:10.0.0.0/104");
  SockAddr peer = addr("::ffff:10.200.0.1", 5);
  peer.normalize();
  CHECK(c.contains(peer));
  CHECK(c.contains(addr("10.1.1.1")));
  CHECK_FALSE(c.contains(addr("11.1.1.1")));
}

TEST_CASE("net: parse_u64 and parse_port") {
  CHECK(parse_u64("0") == uint64_t{0});
  CHECK(parse_u64("42") == uint64_t{42});
  CHECK(parse_u64("18446744073709551615") == UINT64_MAX);
  CHECK(parse_u64("00000000000000000001") == uint64_t{1});  // 20 digits
  CHECK_FALSE(parse_u64("18446744073709551616").has_value());
  CHECK_FALSE(parse_u64("18446744073709551620").has_value());
  CHECK_FALSE(parse_u64("99999999999999999999").has_value());
  CHECK_FALSE(parse_u64("000000000000000000001").has_value());  // 21 digits
  for (std::string_view s : {""sv, "-1"sv, "+1"sv, " 1"sv, "1 "sv, "1a"sv, "0x10"sv, "1.0"sv}) {
    CAPTURE(s);
    CHECK_FALSE(parse_u64(s).has_value());
  }
  CHECK(parse_port("0") == uint16_t{0});
  CHECK(parse_port("65535") == uint16_t{65535});
  CHECK_FALSE(parse_port("65536").has_value());
  CHECK_FALSE(parse_port("").has_value());
  CHECK_FALSE(parse_port("-1").has_value());
}

TEST_CASE("net: is_loopback") {
  CHECK(is_loopback(addr("127.0.0.1")));
  CHECK(is_loopback(addr("127.255.0.9")));
  CHECK_FALSE(is_loopback(addr("128.0.0.1")));
  CHECK(is_loopback(addr("::1")));
  CHECK_FALSE(is_loopback(addr("::2")));
}
