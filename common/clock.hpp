// clock.hpp — milliseconds: wall clock (note times) and monotonic (timeouts, intervals).
#pragma once

#include <time.h>

#include <cstdint>

inline int64_t clock_ms(clockid_t id) noexcept {
  timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
inline int64_t wall_ms() noexcept { return clock_ms(CLOCK_REALTIME); }
inline int64_t mono_ms() noexcept { return clock_ms(CLOCK_MONOTONIC); }
