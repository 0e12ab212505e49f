// tcp_listener.cpp — see tcp_listener.hpp.
#include "tcp_listener.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "../common/clock.hpp"
#include "log.hpp"

namespace {
void refuse_busy(int fd) noexcept {
  static const char kBusy[] = "ERR server busy\n";
  ssize_t n = ::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;
}
}  // namespace

bool TcpListener::open(const SockAddr& bind_to, std::string& error) {
  std::string where = bind_to.to_string();
  fd_.reset(::socket(bind_to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    error = "cannot create a TCP socket for " + where + ": " + std::strerror(errno);
    return false;
  }
  int one = 1, off = 0;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind_to.family() == AF_INET6)
    ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (::bind(fd_.get(), bind_to.sa(), bind_to.len) != 0) {
    error = "cannot bind TCP " + where + ": " + std::strerror(errno) +
            (errno == EADDRINUSE ? " (another program has the port; try --port 0)" : "");
    return false;
  }
  if (::listen(fd_.get(), 1024) != 0) {
    error = "cannot listen on TCP " + where + ": " + std::strerror(errno);
    return false;
  }
  local_.len = sizeof local_.ss;
  ::getsockname(fd_.get(), local_.sa(), &local_.len);
  local_.normalize();
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return true;
}

void TcpListener::accept_ready(const Config& cfg, Stats& stats, size_t open_sessions,
                               const OnAccept& on_accept) {
  for (int i = 0; i < kAcceptBudget && fd_.valid(); ++i) {
    SockAddr peer;
    peer.len = sizeof peer.ss;
    int c = ::accept4(fd_.get(), peer.sa(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: the pending connection would keep the listener readable and
        // spin the loop. Give up the spare, take the connection, refuse it, re-arm. (accept4
        // says EMFILE even with nothing pending: then the spare's accept finds EAGAIN.)
        spare_.reset();
        Fd victim(::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        bool took = victim.valid();
        if (took) refuse_busy(victim.get());
        victim.reset();
        spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!took) return;
        ++stats.tcp_accept_errors;
        ++stats.tcp_refused_busy;
        int64_t now = mono_ms();
        if (now - last_emfile_log_ms_ > 1000) {
          last_emfile_log_ms_ = now;
          log_line("out of file descriptors: refusing new TCP connections (raise ulimit -n "
                   "or lower --max-clients)");
        }
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats.tcp_accept_errors;
      return;
    }
    Fd conn(c);
    peer.normalize();
    if (!cfg.allowed(peer)) {
      ++stats.tcp_refused_allow;  // closed at once, unanswered
      continue;
    }
    if (c >= FD_SETSIZE || open_sessions >= static_cast<size_t>(cfg.max_clients)) {
      ++stats.tcp_refused_busy;
      refuse_busy(c);
      log_line("refused " + peer.to_string() + ": server busy (" +
               (c >= FD_SETSIZE ? "descriptor beyond select() range"
                                : "--max-clients " + std::to_string(cfg.max_clients) +
                                      " reached") +
               ")");
      continue;
    }
    // Replies are written whole (a HISTORY's last lines and END may leave in separate
    // sends): without this, END could wait for the peer's delayed ACK.
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++stats.tcp_accepted;
    ++open_sessions;
    on_accept(std::move(conn), peer);
  }
}
