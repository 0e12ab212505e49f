// tcp_client.hpp — TcpClient: one TCP connection to the server for HISTORY, CLIENTS, FOLLOW
// and STATS. Resolves the host with getaddrinfo, tries each address in turn (bounded connect),
// sends command lines and reads reply lines with timeouts. Owns its socket (closed on
// destruction); knows nothing of formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../common/fd.hpp"
#include "../common/net.hpp"

namespace client {

// "host:port" for messages; IPv6 literals in brackets.
std::string endpoint_text(const std::string& host, uint16_t port);

class TcpClient {
 public:
  enum class Read { line, timeout, closed, error, interrupted };

  // Connects to host:port, trying each address getaddrinfo returns, each for at most
  // timeout_ms. On failure, error says what failed and where ("cannot connect to ...").
  // verbose: each attempt is reported on stderr.
  bool connect(const std::string& host, uint16_t port, int timeout_ms, bool verbose,
               std::string& error);
  // The same without waiting, for a poll() loop that must not freeze (the interactive
  // session's FOLLOW): tries addrs in turn; done (connected), pending (poll fd() for POLLOUT,
  // then call finish_connect()) or failed (error says why, as connect() does).
  enum class Connect { done, pending, failed };
  Connect start_connect(const std::vector<SockAddr>& addrs, std::string& error);
  // After POLLOUT (or POLLERR/POLLHUP) on a pending connection: done, or the next address is
  // tried (pending again), or failed.
  Connect finish_connect(std::string& error);
  // Sends the whole line plus '\n'.
  bool send_line(std::string_view line, std::string& error);
  // The next line, without '\n' (a '\r' before it is kept: the server never sends one). The
  // view stays valid until the next call. timeout_ms < 0 waits for ever. Stops with
  // Read::interrupted when *stop becomes true (a signal handler's flag).
  Read read_line(std::string_view& line, int timeout_ms, const volatile int* stop = nullptr);
  // Lines already received and complete: read_line() would not block for them.
  bool has_buffered_line() const noexcept;
  // What the last read_line error was (errno text).
  const std::string& read_error() const noexcept { return read_error_; }
  // The address connected to, "IP:PORT".
  const std::string& peer() const noexcept { return peer_; }
  int fd() const noexcept { return fd_.get(); }
  void close() noexcept { fd_.reset(); }

 private:
  // Opens a non-blocking socket for a and starts connecting: r is 0 (connected), or
  // EINPROGRESS, or the errno of a failure (then the Fd is invalid and error says why).
  static Fd open_attempt(const SockAddr& a, int& r, std::string& error);
  Connect try_from(size_t i, std::string& error);  // error: in, the last failure so far
  void connected(Fd fd, const std::string& where);

  Fd fd_;
  std::string peer_;
  std::vector<SockAddr> addrs_;  // start_connect(): the addresses, and the one being tried
  size_t trying_ = 0;
  std::string buf_;
  size_t start_ = 0;  // first unread byte in buf_
  size_t scanned_ = 0;  // bytes from start_ known to hold no '\n'
  std::string read_error_;
};

}  // namespace client
