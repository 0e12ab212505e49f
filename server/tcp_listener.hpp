// tcp_listener.hpp — TcpListener: the listening TCP socket. Accepts until EAGAIN (bounded per
// turn), turns away peers outside --allow (closed unanswered) and connections over the limit
// or with a descriptor select() cannot watch ("ERR server busy"), and survives EMFILE with a
// spare descriptor. Owns the listening fd and the spare; hands accepted fds to the server.
#pragma once

#include <functional>
#include <string>

#include "../common/fd.hpp"
#include "../common/net.hpp"
#include "config.hpp"
#include "stats.hpp"

class TcpListener {
 public:
  static constexpr int kAcceptBudget = 64;
  using OnAccept = std::function<void(Fd, const SockAddr&)>;

  bool open(const SockAddr& bind_to, std::string& error);
  int fd() const noexcept { return fd_.get(); }
  const SockAddr& local() const noexcept { return local_; }
  void close() noexcept { fd_.reset(); }

  // open_sessions: how many the server holds now.
  void accept_ready(const Config& cfg, Stats& stats, size_t open_sessions,
                    const OnAccept& on_accept);

 private:
  Fd fd_, spare_;
  SockAddr local_;
  int64_t last_emfile_log_ms_ = 0;
};
