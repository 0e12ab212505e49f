// clock.hpp — time for tests: the monotonic clock, and the one way a test waits for
// something: a bounded poll (never a fixed sleep as synchronisation; see brief and STYLE).
#pragma once

#include <unistd.h>

#include <cstdint>

#include "../../common/clock.hpp"

namespace support {

inline int64_t now_ms() noexcept { return mono_ms(); }

// Calls done() every step_ms until it returns true or timeout_ms passed; returns its last
// answer. done() runs at least once, also with timeout_ms 0.
template <typename Pred>
bool wait_until(Pred done, int timeout_ms, int step_ms = 10) {
  const int64_t deadline = now_ms() + timeout_ms;
  while (!done()) {
    if (now_ms() >= deadline) return false;
    ::usleep(static_cast<useconds_t>(step_ms) * 1000);
  }
  return true;
}

}  // namespace support
