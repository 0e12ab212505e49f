// tcpdrain.cpp — TCP download meter for scripts/bench.sh (loopback use).
//
//   tcpdrain --to IP:PORT [--cmd LINE] [--conns K] [--repeat R] [--duration SEC]
//            [--idle I] [--fresh] [--discard] [--timeout SEC]
//     Opens I idle connections (each answers one PING, then stays silent and unread) and K
//     active ones. Each active connection sends LINE (default "HISTORY") and reads the reply
//     as fast as it can, up to its "END <count>" line (or an "ERR" line, or EOF), then sends
//     LINE again, R times in all, or until --duration passes (whichever is first); with
//     --fresh each command goes on a new connection (as `dailynet history` does), otherwise
//     on the same one. --discard: the reader drops the bytes in the kernel (recv with
//     MSG_TRUNC, all but the last 64 bytes available) instead of copying them, so readers on
//     the same machine take less CPU from the server, like readers on other hosts. Prints
//     "tcpdrain connected idle=I active=K" once every connection is up, then ONE summary:
//       tcpdrain downloads= bytes= seconds= MBps= lines= errors= idle=
//   tcpdrain --sendfile FILE [--repeat R]
//     The baseline: a tiny server (child process) sends FILE with plain blocking sendfile()
//     on a loopback connection, R times; the same reader reads each to EOF. Same summary.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../common/net.hpp"

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "tcpdrain: %s\n", msg.c_str());
  std::exit(2);
}

constexpr size_t kBuf = 1 << 20;

int connect_to(const SockAddr& a) {
  int fd = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, a.sa(), a.len) != 0) die(std::string("connect: ") + std::strerror(errno));
  return fd;
}

void send_line(int fd, const std::string& line) {
  size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die(std::string("send: ") + std::strerror(errno));
    off += static_cast<size_t>(w);
  }
}

struct Conn {
  int fd = -1;
  bool busy = false;   // a reply is being read
  int done = 0;        // downloads finished
  char tail[64];       // the last bytes seen, to find the END line across reads
  size_t tail_len = 0;
};

// Feeds a chunk; returns 1 when the reply ended with an END line, -1 with an ERR line, 0 if
// it goes on. `lines` gets the END count.
int feed(Conn& c, const char* p, size_t n, uint64_t& lines) {
  // Keep the last 64 bytes of the stream (tail + chunk).
  char joined[128];
  size_t keep = std::min<size_t>(n, 64);
  size_t old = std::min(c.tail_len, sizeof joined - keep);
  std::memcpy(joined, c.tail + (c.tail_len - old), old);
  std::memcpy(joined + old, p + n - keep, keep);
  size_t jl = old + keep;
  size_t nt = std::min<size_t>(jl, 64);
  std::memcpy(c.tail, joined + jl - nt, nt);
  c.tail_len = nt;
  if (jl == 0 || joined[jl - 1] != '\n') return 0;
  size_t b = jl - 1;
  while (b > 0 && joined[b - 1] != '\n') --b;
  std::string_view last(joined + b, jl - 1 - b);
  // A line that starts before what we kept is longer than any END line (<= 24 bytes).
  if (b == 0 && jl >= 64) return 0;
  if (last.substr(0, 4) == "END " || last == "END") {
    lines += std::strtoull(std::string(last.substr(last.size() > 4 ? 4 : last.size())).c_str(),
                           nullptr, 10);
    c.tail_len = 0;
    return 1;
  }
  if (last == "PONG" || last == "BYE") return 1;
  if (last.substr(0, 4) == "ERR ") {
    std::fprintf(stderr, "tcpdrain: server said: %.*s\n", static_cast<int>(last.size()),
                 last.data());
    c.tail_len = 0;
    return -1;
  }
  return 0;
}

int run_sendfile(const std::string& path, int repeat) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 || ::listen(lfd, 16) != 0)
    die(std::string("listen: ") + std::strerror(errno));
  SockAddr a;
  a.len = sizeof a.ss;
  ::getsockname(lfd, a.sa(), &a.len);
  int ffd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ffd < 0) die("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  ::fstat(ffd, &st);
  pid_t child = ::fork();
  if (child == 0) {
    for (int r = 0; r < repeat; ++r) {
      int c = ::accept(lfd, nullptr, nullptr);
      if (c < 0) _exit(1);
      char line[256];
      ssize_t n = ::recv(c, line, sizeof line, 0);  // the command line (ignored)
      (void)n;
      off_t off = 0;
      while (off < st.st_size) {
        ssize_t s = ::sendfile(c, ffd, &off, static_cast<size_t>(st.st_size - off));
        if (s < 0 && errno == EINTR) continue;
        if (s <= 0) _exit(1);
      }
      ::close(c);
    }
    _exit(0);
  }
  ::close(lfd);
  std::vector<char> buf(kBuf);
  uint64_t bytes = 0;
  uint64_t t0 = now_ns();
  for (int r = 0; r < repeat; ++r) {
    int fd = connect_to(a);
    send_line(fd, "HISTORY\n");
    for (;;) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      bytes += static_cast<uint64_t>(n);
    }
    ::close(fd);
  }
  double secs = static_cast<double>(now_ns() - t0) / 1e9;
  int status = 0;
  ::waitpid(child, &status, 0);
  std::printf("tcpdrain downloads=%d bytes=%llu seconds=%.4f MBps=%.1f lines=0 errors=%d idle=0\n",
              repeat, static_cast<unsigned long long>(bytes), secs,
              secs > 0 ? static_cast<double>(bytes) / secs / 1e6 : 0.0,
              (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string to, cmd = "HISTORY", sendfile_path;
  int conns = 1, repeat = 1, idle = 0;
  bool fresh = false, discard = false;
  double duration = 0, timeout = 600;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " wants a value");
      return argv[++i];
    };
    if (a == "--to") to = val();
    else if (a == "--cmd") cmd = val();
    else if (a == "--conns") conns = std::atoi(val().c_str());
    else if (a == "--repeat") repeat = std::atoi(val().c_str());
    else if (a == "--duration") duration = std::strtod(val().c_str(), nullptr);
    else if (a == "--idle") idle = std::atoi(val().c_str());
    else if (a == "--timeout") timeout = std::strtod(val().c_str(), nullptr);
    else if (a == "--sendfile") sendfile_path = val();
    else if (a == "--fresh") fresh = true;
    else if (a == "--discard") discard = true;
    else if (a == "-h" || a == "--help") {
      std::puts(
          "usage: tcpdrain --to IP:PORT [--cmd LINE] [--conns K] [--repeat R] [--duration SEC]\n"
          "                [--idle I] [--fresh] [--discard] [--timeout SEC]\n"
          "       tcpdrain --sendfile FILE [--repeat R]");
      return 0;
    } else die("unknown option " + a);
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (repeat < 1) repeat = 1;
  if (!sendfile_path.empty()) return run_sendfile(sendfile_path, repeat);
  auto ep = parse_endpoint(to);
  if (!ep) die("--to wants IP:PORT");
  if (conns < 0 || idle < 0 || conns + idle > 5000) die("--conns/--idle out of range");
  rlimit rl;
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(conns + idle + 64)) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, static_cast<rlim_t>(conns + idle + 64));
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  // Idle connections first, a few at a time, each proven accepted by a PONG.
  std::vector<int> idle_fds;
  std::vector<char> buf(kBuf);
  for (int k = 0; k < idle;) {
    int step = std::min(50, idle - k);
    std::vector<int> batch;
    for (int j = 0; j < step; ++j) {
      int fd = connect_to(*ep);
      send_line(fd, "PING\n");
      batch.push_back(fd);
    }
    for (int fd : batch) {
      std::string got;
      while (got.find('\n') == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) die("no PONG on an idle connection within 10 s");
        ssize_t n = ::recv(fd, buf.data(), 256, 0);
        if (n <= 0) die("idle connection closed by the server");
        got.append(buf.data(), static_cast<size_t>(n));
      }
      if (got.rfind("PONG", 0) != 0) die("idle connection got: " + got);
      idle_fds.push_back(fd);
    }
    k += step;
  }
  std::vector<Conn> cs(static_cast<size_t>(conns));
  for (Conn& c : cs) c.fd = connect_to(*ep);
  std::printf("tcpdrain connected idle=%d active=%d\n", idle, conns);
  std::fflush(stdout);

  const std::string line = cmd + "\n";
  uint64_t bytes = 0, lines = 0;
  int downloads = 0, errors = 0;
  const uint64_t t0 = now_ns();
  const uint64_t stop_at = duration > 0 ? t0 + static_cast<uint64_t>(duration * 1e9) : UINT64_MAX;
  const uint64_t give_up = t0 + static_cast<uint64_t>(timeout * 1e9);
  for (Conn& c : cs) {
    send_line(c.fd, line);
    c.busy = true;
  }
  std::vector<pollfd> pfds;
  for (;;) {
    pfds.clear();
    for (Conn& c : cs)
      if (c.busy) pfds.push_back({c.fd, POLLIN, 0});
    if (pfds.empty()) break;
    uint64_t now = now_ns();
    if (now > give_up) {
      std::fprintf(stderr, "tcpdrain: --timeout reached with downloads unfinished\n");
      ++errors;
      break;
    }
    int r = ::poll(pfds.data(), pfds.size(), 1000);
    if (r < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
    size_t pi = 0;
    for (Conn& c : cs) {
      if (!c.busy) continue;
      pollfd& p = pfds[pi++];
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      // Read what is there (a few reads per wake-up, so one connection cannot hog).
      for (int k = 0; k < 8 && c.busy; ++k) {
        if (discard) {  // drop all but the last 64 bytes waiting, without copying them
          int avail = 0;
          if (::ioctl(c.fd, FIONREAD, &avail) == 0 && avail > 64) {
            size_t drop = std::min<size_t>(static_cast<size_t>(avail - 64), buf.size());
            ssize_t d = ::recv(c.fd, buf.data(), drop, MSG_TRUNC | MSG_DONTWAIT);
            if (d > 0) {
              bytes += static_cast<uint64_t>(d);
              c.tail_len = 0;  // what follows is not contiguous with the old tail
              continue;
            }
          }
        }
        ssize_t n = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {  // EOF or reset mid-reply
          ++errors;
          c.busy = false;
          break;
        }
        bytes += static_cast<uint64_t>(n);
        int f = feed(c, buf.data(), static_cast<size_t>(n), lines);
        if (f == 0) continue;
        if (f < 0) ++errors;
        ++c.done;
        ++downloads;
        c.busy = false;
        if (f > 0 && c.done < repeat && now_ns() < stop_at) {
          if (fresh) {
            ::close(c.fd);
            c.fd = connect_to(*ep);
          }
          send_line(c.fd, line);
          c.busy = true;
        }
      }
    }
  }
  double secs = static_cast<double>(now_ns() - t0) / 1e9;
  for (Conn& c : cs) ::close(c.fd);
  for (int fd : idle_fds) ::close(fd);
  std::printf("tcpdrain downloads=%d bytes=%llu seconds=%.4f MBps=%.1f lines=%llu errors=%d idle=%d\n",
              downloads, static_cast<unsigned long long>(bytes), secs,
              secs > 0 ? static_cast<double>(bytes) / secs / 1e6 : 0.0,
              static_cast<unsigned long long>(lines), errors, idle);
  return errors ? 1 : 0;
}
