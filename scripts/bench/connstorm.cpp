// connstorm.cpp — hostile TCP clients for scripts/hostile.sh (one thread, loopback use).
//
//   connstorm --to IP:PORT --storm N [--rate R] [--hold SEC] [--timeout SEC]
//     N connection attempts, paced at R per second (0: as fast as possible; default 1000),
//     non-blocking, every one kept open until the end; what the server sends is read. After
//     the last attempt it prints "connstorm sent attempts= seconds=" and holds everything
//     for --hold seconds (default 1), then prints the summary:
//       connstorm attempts= connected= kept= busy= closed= failed= pending= seconds=
//     kept: connected, nothing received, still open (accepted, or still in the backlog);
//     busy: "ERR server busy" then a close; closed: closed (or reset) otherwise;
//     failed: the connect failed (e.g. refused); pending: the connect never completed.
//
//   connstorm --to IP:PORT --slowloris S [--stalled T] [--stalled-cmd LINE] [--duration SEC]
//     S "slowloris" connections that each send the start of a command line and nothing
//     more, and T stalled readers (4 KiB receive buffer) that send LINE (default "HISTORY")
//     and never read. Prints "connstorm holding slowloris=S stalled=T" once all are
//     connected and have sent, holds them for --duration seconds (default 10) or until
//     SIGTERM/SIGINT, then ONE line:
//       connstorm done slowloris_open= stalled_open= seconds=
//     (how many of each the server had not closed).
//
// Its own descriptor limit is raised to the hard limit at start. Exit 0 when it ran, 2 on
// a usage error.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop(int) { g_stop = 1; }

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "connstorm: %s\n", msg.c_str());
  std::exit(2);
}

struct Options {
  std::string to;
  long storm = 0;
  double rate = 1000;
  double hold = 1;
  double timeout = 60;
  long slowloris = 0;
  long stalled = 0;
  std::string stalled_cmd = "HISTORY";
  double duration = 10;
};

enum class State { connecting, open, closed, failed };

struct Conn {
  int fd = -1;
  State state = State::connecting;
  std::string got;  // first bytes received (capped)
  bool stalled = false;
  std::string to_send;
};

double number(const char* opt, const char* v) {
  if (!v) die(std::string(opt) + " wants a value");
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (!end || *end || d < 0) die(std::string(opt) + " wants a number, not '" + v + "'");
  return d;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--to" && v) o.to = argv[++i];
    else if (a == "--storm") o.storm = static_cast<long>(number("--storm", v)), ++i;
    else if (a == "--rate") o.rate = number("--rate", v), ++i;
    else if (a == "--hold") o.hold = number("--hold", v), ++i;
    else if (a == "--timeout") o.timeout = number("--timeout", v), ++i;
    else if (a == "--slowloris") o.slowloris = static_cast<long>(number("--slowloris", v)), ++i;
    else if (a == "--stalled") o.stalled = static_cast<long>(number("--stalled", v)), ++i;
    else if (a == "--stalled-cmd" && v) o.stalled_cmd = argv[++i];
    else if (a == "--duration") o.duration = number("--duration", v), ++i;
    else if (a == "-h" || a == "--help") {
      std::puts("usage: connstorm --to IP:PORT --storm N [--rate R] [--hold SEC] [--timeout SEC]\n"
                "       connstorm --to IP:PORT --slowloris S [--stalled T] [--stalled-cmd LINE]"
                " [--duration SEC]\n(see the top of scripts/bench/connstorm.cpp)");
      std::exit(0);
    } else die("unknown option or missing value: " + a);
  }
  if (o.to.empty()) die("--to IP:PORT is required");
  if ((o.storm > 0) == (o.slowloris > 0 || o.stalled > 0))
    die("give either --storm N or --slowloris S [--stalled T]");
  return o;
}

int start_connect(const SockAddr& to, int rcvbuf) {
  int fd = ::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (::connect(fd, to.sa(), to.len) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One round of poll over every connection that can still change; handles what happened.
void pump(std::vector<Conn>& conns, int wait_ms) {
  std::vector<pollfd> p;
  std::vector<size_t> idx;
  p.reserve(conns.size());
  for (size_t i = 0; i < conns.size(); ++i) {
    Conn& c = conns[i];
    if (c.state == State::connecting) p.push_back({c.fd, POLLOUT, 0});
    else if (c.state == State::open && !c.stalled) p.push_back({c.fd, POLLIN, 0});
    else if (c.state == State::open) p.push_back({c.fd, POLLRDHUP, 0});  // never read
    else continue;
    idx.push_back(i);
  }
  if (p.empty()) {
    if (wait_ms > 0) ::poll(nullptr, 0, wait_ms);
    return;
  }
  if (::poll(p.data(), p.size(), wait_ms) <= 0) return;
  for (size_t k = 0; k < p.size(); ++k) {
    if (!p[k].revents) continue;
    Conn& c = conns[idx[k]];
    if (c.state == State::connecting) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) {
        c.state = State::failed;
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      c.state = State::open;
      if (!c.to_send.empty())
        (void)::send(c.fd, c.to_send.data(), c.to_send.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    if (c.stalled) {
      if (p[k].revents & (POLLRDHUP | POLLHUP | POLLERR)) c.state = State::closed;
      continue;
    }
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        if (c.got.size() < 64) c.got.append(buf, std::min<size_t>(static_cast<size_t>(n), 64));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      c.state = State::closed;  // EOF or reset
      break;
    }
  }
}

int run_storm(const Options& o, const SockAddr& to) {
  std::vector<Conn> conns;
  conns.reserve(static_cast<size_t>(o.storm));
  double t0 = now_s();
  double hard_end = t0 + o.timeout;
  long made = 0;
  while (made < o.storm && !g_stop && now_s() < hard_end) {
    double t = now_s();
    long due = o.rate > 0 ? std::min<long>(o.storm, static_cast<long>((t - t0) * o.rate) + 1)
                          : o.storm;
    for (; made < due; ++made) {
      Conn c;
      c.fd = start_connect(to, 0);
      if (c.fd < 0) c.state = State::failed;
      conns.push_back(std::move(c));
    }
    double next = o.rate > 0 ? t0 + static_cast<double>(made) / o.rate : t;
    int wait_ms = static_cast<int>(std::max(0.0, (next - now_s()) * 1000));
    pump(conns, std::min(wait_ms, 10));
  }
  std::printf("connstorm sent attempts=%ld seconds=%.3f\n", made, now_s() - t0);
  std::fflush(stdout);
  double hold_end = std::min(now_s() + o.hold, hard_end);
  while (!g_stop && now_s() < hold_end)
    pump(conns, static_cast<int>(std::max(1.0, std::min(50.0, (hold_end - now_s()) * 1000))));
  pump(conns, 0);
  long connected = 0, kept = 0, busy = 0, closed = 0, failed = 0, pending = 0;
  for (Conn& c : conns) {
    switch (c.state) {
      case State::connecting: ++pending; break;
      case State::failed: ++failed; break;
      case State::open:
        ++connected;
        if (c.got.empty()) ++kept; else ++closed;  // talked but did not close: odd, not kept
        break;
      case State::closed:
        ++connected;
        if (c.got == "ERR server busy\n") ++busy; else ++closed;
        break;
    }
    if (c.fd >= 0) ::close(c.fd);
  }
  std::printf("connstorm attempts=%ld connected=%ld kept=%ld busy=%ld closed=%ld failed=%ld "
              "pending=%ld seconds=%.3f\n",
              made, connected, kept, busy, closed, failed, pending, now_s() - t0);
  return 0;
}

int run_hold(const Options& o, const SockAddr& to) {
  std::vector<Conn> conns;
  double t0 = now_s();
  for (long i = 0; i < o.slowloris + o.stalled; ++i) {
    Conn c;
    c.stalled = i >= o.slowloris;
    c.to_send = c.stalled ? o.stalled_cmd + "\n" : "HISTORY FROM 127.0.0.1";  // no newline
    c.fd = start_connect(to, c.stalled ? 4096 : 0);
    if (c.fd < 0) c.state = State::failed;
    conns.push_back(std::move(c));
  }
  double connect_end = t0 + 10;
  while (!g_stop && now_s() < connect_end &&
         std::any_of(conns.begin(), conns.end(),
                     [](const Conn& c) { return c.state == State::connecting; }))
    pump(conns, 20);
  long ok = std::count_if(conns.begin(), conns.end(),
                          [](const Conn& c) { return c.state == State::open; });
  if (ok != o.slowloris + o.stalled)
    std::fprintf(stderr, "connstorm: only %ld of %ld connections are up\n", ok,
                 o.slowloris + o.stalled);
  std::printf("connstorm holding slowloris=%ld stalled=%ld\n", o.slowloris, o.stalled);
  std::fflush(stdout);
  double end = now_s() + o.duration;
  while (!g_stop && now_s() < end)
    pump(conns, static_cast<int>(std::max(1.0, std::min(100.0, (end - now_s()) * 1000))));
  long lo = 0, so = 0;
  for (Conn& c : conns) {
    if (c.state == State::open) (c.stalled ? so : lo)++;
    if (c.fd >= 0) ::close(c.fd);
  }
  std::printf("connstorm done slowloris_open=%ld stalled_open=%ld seconds=%.3f\n", lo, so,
              now_s() - t0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  auto to = parse_endpoint(o.to);
  if (!to) die("--to wants IP:PORT, not '" + o.to + "'");
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return o.storm > 0 ? run_storm(o, *to) : run_hold(o, *to);
}
