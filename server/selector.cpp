// selector.cpp — see selector.hpp.
#include "selector.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

Selector::Selector() noexcept {
  FD_ZERO(&read_);
  FD_ZERO(&write_);
  FD_ZERO(&ready_read_);
  FD_ZERO(&ready_write_);
}

void Selector::watch(int fd, bool read, bool write) noexcept {
  if (fd < 0 || fd >= FD_SETSIZE) {
    // FD_SET beyond FD_SETSIZE writes past the set: a bug upstream, never a client's doing.
    std::fprintf(stderr, "dailynetd: bug: fd %d outside select()'s range\n", fd);
    std::abort();
  }
  if (read) FD_SET(fd, &read_); else FD_CLR(fd, &read_);
  if (write) FD_SET(fd, &write_); else FD_CLR(fd, &write_);
  if (fd > max_fd_) max_fd_ = fd;
}

void Selector::forget(int fd) noexcept {
  if (fd < 0 || fd >= FD_SETSIZE) return;
  FD_CLR(fd, &read_);
  FD_CLR(fd, &write_);
  FD_CLR(fd, &ready_read_);
  FD_CLR(fd, &ready_write_);
  while (max_fd_ >= 0 && !FD_ISSET(max_fd_, &read_) && !FD_ISSET(max_fd_, &write_)) --max_fd_;
}

int Selector::wait(int timeout_ms) noexcept {
  ready_read_ = read_;
  ready_write_ = write_;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int n = ::select(max_fd_ + 1, &ready_read_, &ready_write_, nullptr, &tv);
  if (n < 0) {
    FD_ZERO(&ready_read_);
    FD_ZERO(&ready_write_);
    return errno == EINTR ? 0 : -1;
  }
  return n;
}
