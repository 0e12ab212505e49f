// tcp_client.cpp — see tcp_client.hpp.
#include "tcp_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/clock.hpp"
#include "../common/net.hpp"

namespace client {

namespace {

constexpr size_t kReadChunk = 256 << 10;

}  // namespace

std::string endpoint_text(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Fd TcpClient::open_attempt(const SockAddr& a, int& r, std::string& error) {
  Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  r = fd.valid() && ::connect(fd.get(), a.sa(), a.len) == 0 ? 0 : errno;
  if (r != 0 && r != EINPROGRESS) {
    error = a.to_string() + " (TCP): " + std::strerror(r);
    fd.reset();
  }
  return fd;
}

void TcpClient::connected(Fd fd, const std::string& where) {
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = std::move(fd);
  peer_ = where;
}

bool TcpClient::connect(const std::string& host, uint16_t port, int timeout_ms, bool verbose,
                        std::string& error) {
  fd_.reset();
  buf_.clear();
  start_ = scanned_ = 0;
  std::vector<SockAddr> addrs;
  if (!resolve(host, port, SOCK_STREAM, addrs, error)) return false;
  std::string last_error;
  for (const SockAddr& a : addrs) {
    std::string where = a.to_string();
    if (verbose) std::fprintf(stderr, "dailynet: connecting to %s (TCP)\n", where.c_str());
    int r = 0;
    Fd fd = open_attempt(a, r, last_error);
    if (!fd.valid()) continue;
    if (r != 0) {
      pollfd p{fd.get(), POLLOUT, 0};
      int64_t deadline = mono_ms() + timeout_ms;
      int n;
      do {
        n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, deadline - mono_ms())));
      } while (n < 0 && errno == EINTR);
      if (n == 0) {
        last_error = where + " (TCP): no answer within " + std::to_string(timeout_ms / 1000) +
                     " s";
        continue;
      }
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
      if (soerr != 0) {
        last_error = where + " (TCP): " + std::strerror(soerr);
        continue;
      }
    }
    connected(std::move(fd), where);
    if (verbose) std::fprintf(stderr, "dailynet: connected to %s (TCP)\n", peer_.c_str());
    return true;
  }
  error = "cannot connect to " + last_error;
  return false;
}

TcpClient::Connect TcpClient::start_connect(const std::vector<SockAddr>& addrs,
                                            std::string& error) {
  fd_.reset();
  buf_.clear();
  start_ = scanned_ = 0;
  addrs_ = addrs;
  error = "no address";
  return try_from(0, error);
}

// error: in, the last failure so far; out, the reason when every address failed.
TcpClient::Connect TcpClient::try_from(size_t i, std::string& error) {
  std::string last_error = error;
  for (trying_ = i; trying_ < addrs_.size(); ++trying_) {
    int r = 0;
    Fd fd = open_attempt(addrs_[trying_], r, last_error);
    if (!fd.valid()) continue;
    if (r == 0) {
      connected(std::move(fd), addrs_[trying_].to_string());
      return Connect::done;
    }
    fd_ = std::move(fd);  // in progress: the caller polls it for POLLOUT
    return Connect::pending;
  }
  error = "cannot connect to " + last_error;
  return Connect::failed;
}

TcpClient::Connect TcpClient::finish_connect(std::string& error) {
  if (!fd_.valid() || trying_ >= addrs_.size()) {
    error = "cannot connect: no connection in progress";
    return Connect::failed;
  }
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
  if (soerr == 0) {
    connected(std::move(fd_), addrs_[trying_].to_string());
    return Connect::done;
  }
  fd_.reset();
  error = addrs_[trying_].to_string() + " (TCP): " + std::strerror(soerr);
  return try_from(trying_ + 1, error);
}

bool TcpClient::send_line(std::string_view line, std::string& error) {
  std::string data(line);
  data += '\n';
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_.get(), POLLOUT, 0};
      if (::poll(&p, 1, 10000) <= 0) {
        error = "cannot send to " + peer_ + " (TCP): timed out";
        return false;
      }
      continue;
    }
    if (n <= 0) {
      error = "cannot send to " + peer_ + " (TCP): " + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool TcpClient::has_buffered_line() const noexcept {
  return buf_.find('\n', start_ + scanned_) != std::string::npos;
}

TcpClient::Read TcpClient::read_line(std::string_view& line, int timeout_ms,
                                     const volatile int* stop) {
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : mono_ms() + timeout_ms;
  while (true) {
    size_t nl = buf_.find('\n', start_ + scanned_);
    if (nl != std::string::npos) {
      line = std::string_view(buf_.data() + start_, nl - start_);
      start_ = nl + 1;
      scanned_ = 0;
      return Read::line;
    }
    scanned_ = buf_.size() - start_;
    if (!fd_.valid()) return Read::closed;
    if (stop && *stop) return Read::interrupted;
    // Compact before reading more: the consumed front goes (the view handed out last is no
    // longer in use, see the header).
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    int wait = timeout_ms < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - mono_ms()));
    if (stop && (wait < 0 || wait > 200)) wait = 200;  // re-check the flag now and then
    pollfd p{fd_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, wait);
    if (n < 0) {
      if (errno == EINTR) continue;
      read_error_ = std::strerror(errno);
      return Read::error;
    }
    if (n == 0) {
      if (timeout_ms >= 0 && mono_ms() >= deadline) return Read::timeout;
      continue;
    }
    size_t old = buf_.size();
    buf_.resize(old + kReadChunk);
    ssize_t got = ::recv(fd_.get(), buf_.data() + old, kReadChunk, 0);
    if (got < 0) {
      buf_.resize(old);
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      read_error_ = std::strerror(errno);
      return Read::error;
    }
    buf_.resize(old + static_cast<size_t>(got));
    if (got == 0) {
      fd_.reset();
      return Read::closed;  // a partial last line is dropped: the server ends every line
    }
  }
}

}  // namespace client
