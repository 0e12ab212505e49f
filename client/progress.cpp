// progress.cpp — see progress.hpp.
#include "progress.hpp"

#include <cstdio>

#include "format.hpp"
#include "terminal.hpp"

namespace client {

namespace {
ProgressLine* g_active = nullptr;  // the enabled line, if any (one at a time)
}  // namespace

ProgressLine::ProgressLine(bool enabled, int fd, int cols)
    : enabled_(enabled), fd_(fd), cols_(cols) {
  if (enabled_) g_active = this;
}

ProgressLine::~ProgressLine() {
  clear();
  if (g_active == this) g_active = nullptr;
}

void clear_progress_line() {
  if (g_active) g_active->clear();
}

std::string human_bytes(uint64_t n) {
  if (n < 1000) return std::to_string(n) + " B";
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(n) / 1000.0;
  size_t u = 0;
  while (v >= 999.95 && u + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string send_progress_text(uint64_t sent, uint64_t acked, double seconds) {
  std::string s = group_thousands(sent) + (sent == 1 ? " note sent, " : " notes sent, ") +
                  group_thousands(acked) + " acknowledged";
  if (seconds > 0)
    s += ", " + group_thousands(static_cast<uint64_t>(static_cast<double>(acked) / seconds)) +
         " notes/s";
  return s;
}

std::string receive_progress_text(uint64_t notes, uint64_t bytes, double seconds) {
  std::string s = group_thousands(notes) + (notes == 1 ? " note, " : " notes, ") +
                  human_bytes(bytes) + " received";
  if (seconds > 0)
    s += ", " + human_bytes(static_cast<uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
  return s;
}

void ProgressLine::show(std::string_view text, int64_t now_us) {
  if (!enabled_) return;
  // Never wider than the terminal: a wrapped line could not be redrawn with '\r'.
  if (cols_ > 1 && text.size() >= static_cast<size_t>(cols_))
    text = text.substr(0, static_cast<size_t>(cols_) - 1);
  std::string line = "\r";
  line.append(text);
  line += "\x1b[K";  // erase what a longer previous line left
  write_all(fd_, line);
  shown_ = true;
  last_us_ = now_us;
}

void ProgressLine::clear() {
  if (!enabled_ || !shown_) return;
  write_all(fd_, "\r\x1b[K");
  shown_ = false;
}

}  // namespace client
