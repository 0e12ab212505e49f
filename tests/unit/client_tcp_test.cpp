// client_tcp_test.cpp — TcpClient's non-blocking connect (start_connect / finish_connect), the
// one the interactive session's live notes use so that a server host that does not answer
// never freezes the line editor: against a listener whose accept queue is full (the kernel
// drops the SYN, as an unreachable host does) it is pending at once, and completes once the
// queue has room; a refused port fails. Loopback sockets; every wait bounded.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../../client/tcp_client.hpp"
#include "../../common/fd.hpp"
#include "../../common/net.hpp"

using client::TcpClient;

namespace {

// A TCP listener on 127.0.0.1 with the given backlog; its address in addr.
Fd listener(int backlog, SockAddr& addr) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  addr = *SockAddr::from_ip("127.0.0.1", 0);
  REQUIRE(::bind(fd.get(), addr.sa(), addr.len) == 0);
  REQUIRE(::listen(fd.get(), backlog) == 0);
  addr.len = sizeof addr.ss;
  REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr.ss), &addr.len) == 0);
  return fd;
}

// Polls c's socket for the end of a pending connect, at most timeout_ms.
bool writable(const TcpClient& c, int timeout_ms) {
  pollfd p{c.fd(), POLLOUT, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

}  // namespace

TEST_CASE("tcp client: a connect the server does not answer is pending at once, then completes") {
  SockAddr addr;
  Fd l = listener(0, addr);
  // Fill the accept queue (backlog 0 holds one); from then on SYNs are dropped.
  std::vector<TcpClient> fill(3);
  std::string error;
  size_t pending_at = fill.size();
  for (size_t i = 0; i < fill.size() && pending_at == fill.size(); ++i) {
    TcpClient::Connect r = fill[i].start_connect({addr}, error);
    REQUIRE(r != TcpClient::Connect::failed);
    if (r == TcpClient::Connect::pending && !writable(fill[i], 300)) pending_at = i;
  }
  REQUIRE_MESSAGE(pending_at < fill.size(), "the kernel never dropped a SYN");
  // Start one more: it must not wait for the handshake.
  TcpClient c;
  CHECK(c.start_connect({addr}, error) == TcpClient::Connect::pending);
  CHECK(c.fd() >= 0);
  // Room in the queue: the SYNs are retried by the kernel and the connections complete.
  for (int i = 0; i < 4; ++i) {
    Fd accepted(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    (void)accepted;  // closed at once: the queue has room again
    if (writable(c, 2500)) break;
  }
  REQUIRE(writable(c, 10000));
  CHECK(c.finish_connect(error) == TcpClient::Connect::done);
  CHECK(c.peer() == addr.to_string());
}

TEST_CASE("tcp client: a non-blocking connect to a closed port fails, naming the address") {
  SockAddr addr;
  {
    Fd l = listener(1, addr);  // a port that was just free, closed again
  }
  TcpClient c;
  std::string error;
  TcpClient::Connect r = c.start_connect({addr}, error);
  if (r == TcpClient::Connect::pending) {
    REQUIRE(writable(c, 10000));
    r = c.finish_connect(error);
  }
  CHECK(r == TcpClient::Connect::failed);
  CHECK(error.find("cannot connect to " + addr.to_string() + " (TCP)") == 0);
  CHECK(c.start_connect({}, error) == TcpClient::Connect::failed);
}
