// log.cpp — see log.hpp.
#include "log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "../common/protocol.hpp"

namespace {
bool quiet_ = false;
}

void set_log_quiet(bool quiet) noexcept { quiet_ = quiet; }

void log_line(std::string_view text) noexcept {
  if (quiet_) return;
  timeval tv;
  ::gettimeofday(&tv, nullptr);
  char buf[1024];
  format_time_ms(static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000, buf);
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
