// rate_limit.hpp — RateLimiter: --rate, a token bucket per source IP address (all ports of a
// host share one bucket). Bucket size --rate-burst (default: one second's worth, at least 64
// so the official client's packed datagram fits). Bounded: idle buckets are dropped.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "../common/net.hpp"

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) noexcept
      : rate_(rate), burst_(burst > 0 ? burst : (rate > 64 ? rate : 64)) {}
  bool enabled() const noexcept { return rate_ > 0; }
  // Takes n tokens for the source's host if it has them all; false leaves the bucket as is.
  bool take(const SockAddr& from, double n, int64_t now_ms);
  double burst() const noexcept { return burst_; }

 private:
  struct Bucket {
    double tokens;
    int64_t at_ms;
  };
  double rate_, burst_;
  std::unordered_map<std::string, Bucket> buckets_;
  int64_t last_sweep_ms_ = 0;
};
