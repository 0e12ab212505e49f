// event_loop.hpp — EventLoop: the select() wrapper. Keeps the master fd_sets (select
// overwrites its arguments, so each wait works on copies) and answers readiness queries for
// the turn. Owns no descriptors and knows nothing about notes; the server drives the phases.
#pragma once

#include <sys/select.h>

class EventLoop {
 public:
  EventLoop() noexcept;
  // Sets the interest for fd; fd must be < FD_SETSIZE (callers refuse larger ones first).
  void watch(int fd, bool read, bool write) noexcept;
  void forget(int fd) noexcept;
  // Waits at most timeout_ms (0: poll). Returns the number of ready fds, 0 on timeout or
  // EINTR, -1 on a real error (errno set).
  int wait(int timeout_ms) noexcept;
  bool readable(int fd) const noexcept { return FD_ISSET(fd, &ready_read_); }
  bool writable(int fd) const noexcept { return FD_ISSET(fd, &ready_write_); }

 private:
  fd_set read_, write_, ready_read_, ready_write_;
  int max_fd_ = -1;
};
