// clock.hpp — the only clocks: wall clock in ms (note times, log lines) and monotonic in ms
// or µs (timeouts, intervals, progress rates). Never compare a wall time with a monotonic one.
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
inline int64_t mono_us() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
