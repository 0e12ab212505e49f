// selector.hpp — Selector: the select() wrapper, not a loop (Server::run is the loop). Keeps
// the master fd_sets (select overwrites its arguments, so each wait works on copies) and
// answers readiness queries for the turn. Owns no descriptors and knows nothing about
// notes; the server drives the phases.
#pragma once

#include <sys/select.h>

#include <cassert>

class Selector {
 public:
  Selector() noexcept;
  // Sets the interest for fd; fd must be < FD_SETSIZE (callers refuse larger ones first).
  void watch(int fd, bool read, bool write) noexcept;
  void forget(int fd) noexcept;
  // Waits at most timeout_ms (0: poll). Returns the number of ready fds, 0 on timeout or
  // EINTR, -1 on a real error (errno set).
  int wait(int timeout_ms) noexcept;
  // Whether the last wait() found fd ready (fd in 0..FD_SETSIZE-1).
  bool readable(int fd) const noexcept {
    assert(fd >= 0 && fd < FD_SETSIZE);
    return FD_ISSET(fd, &ready_read_);
  }
  bool writable(int fd) const noexcept {
    assert(fd >= 0 && fd < FD_SETSIZE);
    return FD_ISSET(fd, &ready_write_);
  }

 private:
  fd_set read_, write_, ready_read_, ready_write_;
  int max_fd_ = -1;
};
