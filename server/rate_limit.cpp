// rate_limit.cpp — see rate_limit.hpp.
#include "rate_limit.hpp"

#include <algorithm>
#include <cstring>

bool RateLimiter::take(const SockAddr& from, double n, int64_t now_ms) {
  // Key: the raw IP bytes (family + address), not the port.
  std::string key(1, static_cast<char>(from.family()));
  if (from.family() == AF_INET)
    key.append(reinterpret_cast<const char*>(
                   &reinterpret_cast<const sockaddr_in*>(&from.ss)->sin_addr), 4);
  else
    key.append(reinterpret_cast<const char*>(
                   &reinterpret_cast<const sockaddr_in6*>(&from.ss)->sin6_addr), 16);
  if (buckets_.size() > 100000 && now_ms - last_sweep_ms_ > 1000) {
    // Drop full buckets (idle long enough to refill): they behave like new ones.
    last_sweep_ms_ = now_ms;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double t = it->second.tokens + (now_ms - it->second.at_ms) * rate_ / 1000.0;
      it = t >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + (now_ms - b.at_ms) * rate_ / 1000.0);
    b.at_ms = now_ms;
  }
  if (b.tokens < n) return false;
  b.tokens -= n;
  return true;
}
