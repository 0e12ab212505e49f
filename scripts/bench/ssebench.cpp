// ssebench.cpp — server-sent events delivery latency for scripts/http_bench.sh (one thread,
// loopback use).
//
//   ssebench --to IP:PORT [--streams S] [--rate R] [--seconds T] [--warmup W]
//     Opens S connections with "GET /events?since=LAST" (LAST: the store's last seq at
//     start), then sends plain UDP notes at R notes/s for T seconds (paced in 1 ms steps),
//     each note's text "sse <send time in ns>" (CLOCK_MONOTONIC), and reads every stream as
//     fast as it can. For every event on every stream the latency is the time it was read
//     minus the send time in its text; the first W seconds are left out (streams settling).
//     Then it waits up to 10 s for the streams to catch up. Prints ONE summary line:
//       ssebench streams= rate= sent= expected= received= p50_ms= p99_ms= max_ms= closed=
//     expected = notes sent after the warm-up × streams; received counts their events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int64_t mono_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

sockaddr_in parse_to(const char* s) {
  std::string t = s;
  size_t colon = t.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::atoi(t.c_str() + colon + 1)));
  if (colon == std::string::npos || ::inet_pton(AF_INET, t.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "ssebench: --to wants IPv4:PORT, not '%s'\n", s);
    std::exit(2);
  }
  return a;
}

// The last seq the server holds, from GET /stats ("last_seq":N).
uint64_t last_seq(const sockaddr_in& to) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    std::perror("ssebench: connect");
    std::exit(1);
  }
  std::string req = "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", got;
  (void)!::write(fd, req.data(), req.size());
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t at = got.find("\"last_seq\":");
  return at == std::string::npos ? 0 : std::strtoull(got.c_str() + at + 11, nullptr, 10);
}

struct Stream {
  int fd = -1;
  std::string buf;
  bool closed = false;
};

}  // namespace

int main(int argc, char** argv) {
  const char* to_text = nullptr;
  int streams = 100;
  double rate = 10000, seconds = 10, warmup = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--to") to_text = argv[i + 1];
    else if (k == "--streams") streams = std::atoi(argv[i + 1]);
    else if (k == "--rate") rate = std::atof(argv[i + 1]);
    else if (k == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (k == "--warmup") warmup = std::atof(argv[i + 1]);
    else { std::fprintf(stderr, "ssebench: unknown option %s\n", argv[i]); return 2; }
  }
  if (!to_text) { std::fprintf(stderr, "usage: ssebench --to IP:PORT [--streams S] [--rate R] [--seconds T] [--warmup W]\n"); return 2; }
  sockaddr_in to = parse_to(to_text);
  uint64_t since = last_seq(to);
  std::vector<Stream> ss(static_cast<size_t>(streams));
  std::string req = "GET /events?since=" + std::to_string(since) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (Stream& s : ss) {
    s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      std::perror("ssebench: connect");
      return 1;
    }
    (void)!::write(s.fd, req.data(), req.size());
  }
  int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ::connect(udp, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  std::vector<pollfd> pfds(ss.size());
  for (size_t i = 0; i < ss.size(); ++i) pfds[i] = {ss[i].fd, POLLIN, 0};
  std::vector<double> lat_ms;
  lat_ms.reserve(static_cast<size_t>(rate * seconds * streams));
  const int64_t t0 = mono_ns(), t_end = t0 + static_cast<int64_t>(seconds * 1e9);
  const int64_t t_warm = t0 + static_cast<int64_t>(warmup * 1e9);
  uint64_t sent = 0, counted_sent = 0, received = 0;
  int64_t drain_until = 0;
  char buf[1 << 16];
  for (;;) {
    int64_t now = mono_ns();
    if (now < t_end) {  // pace: the notes due by now
      uint64_t due = static_cast<uint64_t>((now - t0) / 1e9 * rate);
      while (sent < due) {
        char note[64];
        int n = std::snprintf(note, sizeof note, "sse %lld", static_cast<long long>(mono_ns()));
        if (::send(udp, note, static_cast<size_t>(n), 0) < 0) break;
        ++sent;
        if (now >= t_warm) ++counted_sent;
      }
      while (::recv(udp, buf, sizeof buf, MSG_DONTWAIT) > 0) {
      }
    } else if (drain_until == 0) {
      drain_until = now + 10000000000LL;
    }
    if (drain_until && (now > drain_until || received >= counted_sent * ss.size())) break;
    if (::poll(pfds.data(), pfds.size(), 1) < 0) break;
    for (size_t i = 0; i < ss.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Stream& s = ss[i];
      ssize_t n = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          s.closed = true;
          pfds[i].fd = -1;
        }
        continue;
      }
      const int64_t t_read = mono_ns();
      s.buf.append(buf, static_cast<size_t>(n));
      size_t pos = 0, hit;
      while ((hit = s.buf.find("\"text\":\"sse ", pos)) != std::string::npos) {
        size_t end = s.buf.find('"', hit + 12);
        if (end == std::string::npos) break;
        int64_t t_sent = std::strtoll(s.buf.c_str() + hit + 12, nullptr, 10);
        if (t_sent >= t_warm) {
          ++received;
          lat_ms.push_back(static_cast<double>(t_read - t_sent) / 1e6);
        }
        pos = end;
      }
      s.buf.erase(0, pos);
      if (s.buf.size() > (1 << 20)) s.buf.erase(0, s.buf.size() - 4096);
    }
  }
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double p) {
    return lat_ms.empty() ? 0.0 : lat_ms[std::min(lat_ms.size() - 1, static_cast<size_t>(p * static_cast<double>(lat_ms.size())))];
  };
  int closed = 0;
  for (const Stream& s : ss) closed += s.closed;
  std::printf("ssebench streams=%d rate=%.0f sent=%llu expected=%llu received=%llu p50_ms=%.2f "
              "p99_ms=%.2f max_ms=%.2f closed=%d\n",
              streams, rate, static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(counted_sent * ss.size()),
              static_cast<unsigned long long>(received), pct(0.5), pct(0.99),
              lat_ms.empty() ? 0.0 : lat_ms.back(), closed);
  return 0;
}
