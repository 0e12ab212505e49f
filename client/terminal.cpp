// terminal.cpp — see terminal.hpp.
#include "terminal.hpp"

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "color.hpp"
#include "format.hpp"
#include "progress.hpp"

namespace client {

volatile sig_atomic_t g_interrupts = 0;

namespace {

void on_interrupt(int) { g_interrupts = g_interrupts + 1; }

bool g_report_color = false;

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read() returns EINTR and the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void flush_out(std::string& out) {
  if (out.empty()) return;
  write_all(1, out);
  out.clear();
}

void report(std::string_view message) {
  std::string text = "dailynet: ";
  append_terminal_safe(text, message);  // it may quote the server or a note
  std::string line;
  append_colored(line, g_report_color, kSgrRed, text);  // escaped first, colour around
  line += '\n';
  clear_progress_line();  // a report never lands on the end of a progress line
  write_all(2, line);
}

void set_report_color(bool on) noexcept { g_report_color = on; }

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

void terminal_size(int fd, int& rows, int& cols) {
  winsize w{};
  if (::ioctl(fd, TIOCGWINSZ, &w) == 0) {
    rows = w.ws_row;
    cols = w.ws_col;
  } else {
    rows = cols = 0;
  }
}

bool sleep_ms(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
  return ::nanosleep(&ts, nullptr) == 0;
}

}  // namespace client
