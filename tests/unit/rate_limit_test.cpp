// rate_limit_test.cpp — server/rate_limit: the per-host token bucket: burst, refill with
// explicit now_ms, all-or-nothing takes, hosts apart and ports together, default burst.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <cstring>

#include "../../common/net.hpp"
#include "../../server/rate_limit.hpp"

namespace {

SockAddr at(std::string_view ip, uint16_t port = 1000) {
  auto a = SockAddr::from_ip(ip, port);
  REQUIRE(a.has_value());
  return *a;
}

int take_all(RateLimiter& r, const SockAddr& a, int64_t now, int limit = 1000) {
  int n = 0;
  while (n < limit && r.take(a, 1, now)) ++n;
  return n;
}

}  // namespace

TEST_CASE("rate_limit: enabled and default burst") {
  CHECK_FALSE(RateLimiter(0, 0).enabled());
  CHECK(RateLimiter(1, 0).enabled());
  CHECK(RateLimiter(10, 0).burst() == 64);    // at least a packed datagram's worth
  CHECK(RateLimiter(100, 0).burst() == 100);  // one second's worth
  CHECK(RateLimiter(10, 5).burst() == 5);     // explicit
}

TEST_CASE("rate_limit: burst, then refill over time") {
  RateLimiter r(10, 5);  // 10 per second, bucket of 5
  SockAddr a = at("10.0.0.1");
  CHECK(take_all(r, a, 0) == 5);
  CHECK_FALSE(r.take(a, 1, 0));
  CHECK_FALSE(r.take(a, 1, 99));   // 0.99 tokens
  CHECK(r.take(a, 1, 100));        // one token after 100 ms
  CHECK_FALSE(r.take(a, 1, 100));
  CHECK(take_all(r, a, 350) == 2);  // 2.5 tokens: two whole
  CHECK(r.take(a, 1, 400));         // 0.5 + 0.5
  CHECK_FALSE(r.take(a, 1, 400));
  // a long pause refills only up to the burst
  CHECK(take_all(r, a, 100000) == 5);
}

TEST_CASE("rate_limit: a take is all or nothing") {
  RateLimiter r(10, 5);
  SockAddr a = at("10.0.0.1");
  CHECK_FALSE(r.take(a, 6, 0));  // more than the bucket: refused, nothing taken
  CHECK(r.take(a, 5, 0));
  CHECK_FALSE(r.take(a, 1, 0));
  CHECK_FALSE(r.take(a, 2, 150));  // 1.5 tokens
  CHECK(r.take(a, 1.5, 150));
}

TEST_CASE("rate_limit: ports of a host share a bucket, hosts do not") {
  RateLimiter r(1, 3);
  CHECK(r.take(at("10.0.0.1", 1), 1, 0));
  CHECK(r.take(at("10.0.0.1", 2), 1, 0));
  CHECK(r.take(at("10.0.0.1", 3), 1, 0));
  CHECK_FALSE(r.take(at("10.0.0.1", 4), 1, 0));
  CHECK(take_all(r, at("10.0.0.2", 1), 0) == 3);
  CHECK(take_all(r, at("::1", 1), 0) == 3);
  CHECK(take_all(r, at("::2", 1), 0) == 3);
  CHECK_FALSE(r.take(at("::1", 9), 1, 0));
  CHECK(r.take(at("10.0.0.1", 5), 1, 1000));
}

TEST_CASE("rate_limit: many hosts stay correct when idle buckets are swept") {
  RateLimiter r(1000, 2);
  // more than the sweep threshold of distinct hosts, each emptying its bucket
  for (uint32_t i = 0; i < 100005; ++i) {
    sockaddr_in s4{};
    s4.sin_family = AF_INET;
    s4.sin_addr.s_addr = htonl(0x0A000000u + i);
    SockAddr a;
    std::memcpy(&a.ss, &s4, sizeof s4);
    a.len = sizeof s4;
    r.take(a, 2, 0);
  }
  SockAddr first = at("10.0.0.0");
  CHECK_FALSE(r.take(first, 1, 0));  // still empty at t=0
  // two seconds later everything has refilled; swept or not, each host has its burst
  CHECK(take_all(r, first, 2000) == 2);
  CHECK(take_all(r, at("10.0.0.7"), 2001) == 2);
}
