// log.cpp — see log.hpp.
#include "log.hpp"

#include <unistd.h>

#include <cstring>
#include <string>

#include "../common/clock.hpp"
#include "../common/protocol.hpp"

namespace {
bool quiet_ = false;
}

void set_log_quiet(bool quiet) noexcept { quiet_ = quiet; }

void log_line(std::string_view text) noexcept {
  if (quiet_) return;
  char buf[1024];
  format_time_ms(wall_ms(), buf);
  size_t n = kTimeLen;
  const char* tag = " dailynetd: ";
  std::memcpy(buf + n, tag, std::strlen(tag));
  n += std::strlen(tag);
  size_t len = std::min(text.size(), sizeof buf - n - 1);
  std::memcpy(buf + n, text.data(), len);
  n += len;
  buf[n++] = '\n';
  ssize_t w = ::write(STDERR_FILENO, buf, n);
  (void)w;
}
