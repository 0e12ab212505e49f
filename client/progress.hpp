// progress.hpp — a one-line progress report on stderr for long work (issue 7): `send` of a
// large input, `history` into a file or a pipe. Shown only when stderr is a terminal (the
// caller decides), redrawn in place with '\r' at most every 100 ms, and erased at the end
// so that nothing of it is left on the screen. The texts are built by pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "../common/clock.hpp"  // mono_us, which the callers of these texts time with

namespace client {

// "1.5 kB", "12.3 MB" (powers of 1000, one decimal); plain "512 B" below 1000.
std::string human_bytes(uint64_t n);
// "12,345 notes sent, 12,000 acknowledged, 45,678 notes/s" (no rate before any time passed).
std::string send_progress_text(uint64_t sent, uint64_t acked, double seconds);
// "12,345 notes, 1.2 MB received, 3.4 MB/s"
std::string receive_progress_text(uint64_t notes, uint64_t bytes, double seconds);

class ProgressLine {
 public:
  static constexpr int64_t kIntervalUs = 100000;  // at most 10 redraws a second

  // enabled false: every call does nothing. fd: where to draw (stderr); cols: its width, to
  // keep the line from wrapping (0: unknown).
  // An enabled line is the process's active one until destroyed: report() erases it before
  // it writes (clear_progress_line).
  explicit ProgressLine(bool enabled, int fd = 2, int cols = 0);
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  ~ProgressLine();

  bool enabled() const noexcept { return enabled_; }
  bool shown() const noexcept { return shown_; }
  // True when a redraw is allowed at now_us: enabled, and kIntervalUs since the last one
  // (or since start(), for the first).
  bool due(int64_t now_us) const noexcept {
    return enabled_ && now_us - last_us_ >= kIntervalUs;
  }
  // Microseconds until due() (0 when due now); -1 when disabled.
  int64_t until_due(int64_t now_us) const noexcept {
    if (!enabled_) return -1;
    int64_t left = last_us_ + kIntervalUs - now_us;
    return left > 0 ? left : 0;
  }
  // The moment the work starts: the first line is drawn no sooner than kIntervalUs later, so
  // that short work draws nothing.
  void start(int64_t now_us) noexcept { last_us_ = now_us; }
  // Draws text (plain ASCII, ours) over the previous line.
  void show(std::string_view text, int64_t now_us);
  // Erases the line, when one is shown.
  void clear();

 private:
  bool enabled_;
  int fd_;
  int cols_;
  bool shown_ = false;
  int64_t last_us_ = 0;
};

// Erases the active progress line, if one is shown (report() calls it first).
void clear_progress_line();

}  // namespace client
