// loadgen.cpp — UDP load generator for scripts/bench.sh (one thread, loopback use).
//
//   loadgen --to IP:PORT [-n N] [--size B] [--rate R] [--sockets S] [--ack]
//           [--watch FILE] [--quiet-ms MS] [--timeout SEC] [--tag TEXT]
//     Sends N unique, valid plain notes of B bytes (one note per datagram) with sendmmsg,
//     round-robin over S connected source sockets (distinct source ports). --rate R paces
//     with a token bucket (R notes/s, bursts of ~200 µs worth); --rate 0 is full speed.
//     --ack reads the replies on the same sockets (recvmmsg) and counts OK / ERR; the ack
//     latency is measured per socket in FIFO order (exact when nothing is lost; with loss
//     it over-estimates). --watch FILE counts the lines appended to FILE after the start:
//     that is "stored", and the time of the last growth ends the stored-rate interval.
//     After the last send it waits until everything is acknowledged / stored, or nothing
//     moved for --quiet-ms, or --timeout passed. Prints ONE summary line:
//       loadgen sent= acked= ok= errors= stored= send_s= elapsed_s= stored_rate= p50_us=
//               p99_us= max_us= offered= achieved=
//
//   loadgen --make-store FILE -n N [--size B] [--sources K]
//     Writes a notes.log in the wire format (SEQ\tTIME\tADDR\tTEXT\n), K client addresses
//     127.0.0.1:40000.. taking turns; the server rebuilds notes.chk from it at start.
//   loadgen --make-lines FILE -n N [--size B] [--tag TEXT]
//     Writes N note lines (what `dailynet send` reads on stdin).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "../../common/protocol.hpp"

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "loadgen: %s\n", msg.c_str());
  std::exit(2);
}

struct Options {
  std::string to;
  uint64_t n = 1000000;
  size_t size = 100;
  double rate = 0;
  int sockets = 1;
  bool ack = false;
  std::string watch;
  int quiet_ms = 1000;
  double timeout_s = 600;
  std::string tag = "t";
  std::string make_store, make_lines;
  int sources = 10;
};

// Note i: "bench <tag> 0000000042 " then a filler of letters up to `size` bytes. Valid
// (printable ASCII), unique per (tag, i), exactly `size` bytes when size >= 32.
void make_note(char* out, size_t size, const std::string& tag, uint64_t i) {
  char head[96];
  int h = std::snprintf(head, sizeof head, "bench %s %010llu ", tag.c_str(),
                        static_cast<unsigned long long>(i));
  size_t hl = std::min(static_cast<size_t>(h), size);
  std::memcpy(out, head, hl);
  for (size_t k = hl; k < size; ++k) out[k] = static_cast<char>('a' + (k + i) % 26);
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd, s.data() + off, s.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die(std::string("write: ") + std::strerror(errno));
    off += static_cast<size_t>(w);
  }
}

int make_store(const Options& o) {
  int fd = ::open(o.make_store.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + o.make_store + ": " + std::strerror(errno));
  std::vector<std::string> addrs;
  for (int k = 0; k < o.sources; ++k) addrs.push_back("127.0.0.1:" + std::to_string(40000 + k));
  std::string buf, note(o.size, 'x');
  int64_t t0 = 1795000000000;  // a fixed day in 2026, 1 ms per note
  for (uint64_t i = 0; i < o.n; ++i) {
    make_note(note.data(), o.size, o.tag, i);
    append_note_line(buf, i + 1, t0 + static_cast<int64_t>(i), addrs[i % addrs.size()], note);
    if (buf.size() > (4u << 20)) {
      write_all(fd, buf);
      buf.clear();
    }
  }
  write_all(fd, buf);
  ::close(fd);
  return 0;
}

int make_lines(const Options& o) {
  int fd = ::open(o.make_lines.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("cannot create " + o.make_lines + ": " + std::strerror(errno));
  std::string buf, note(o.size, 'x');
  for (uint64_t i = 0; i < o.n; ++i) {
    make_note(note.data(), o.size, o.tag, i);
    buf += note;
    buf += '\n';
    if (buf.size() > (4u << 20)) {
      write_all(fd, buf);
      buf.clear();
    }
  }
  write_all(fd, buf);
  ::close(fd);
  return 0;
}

// Counts lines appended to a file since construction.
struct FileWatch {
  int fd = -1;
  uint64_t off = 0, lines = 0;
  std::vector<char> buf = std::vector<char>(1 << 20);
  void open(const std::string& path) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot open --watch " + path + ": " + std::strerror(errno));
    struct stat st;
    ::fstat(fd, &st);
    off = static_cast<uint64_t>(st.st_size);
  }
  // Returns true when lines grew.
  bool poll() {
    if (fd < 0) return false;
    uint64_t before = lines;
    for (;;) {
      ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      off += static_cast<uint64_t>(r);
      const char* p = buf.data();
      const char* e = p + r;
      while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p))))) {
        ++lines;
        ++p;
      }
      if (static_cast<size_t>(r) < buf.size()) break;
    }
    return lines != before;
  }
};

struct Gen {
  const Options& o;
  std::vector<int> fds;
  // Ack latency: per socket FIFO of send times (ns), filled in send order.
  std::vector<std::vector<uint64_t>> sent_at;
  std::vector<size_t> ack_head;
  std::vector<uint32_t> lat_us;
  uint64_t sent = 0, acked = 0, ok = 0, errors = 0;
  uint64_t t_last_ack = 0;
  int rr = 0;
  static constexpr size_t kBatch = 64;
  std::vector<char> notes;  // kBatch slots of o.size bytes
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  char rbuf[kBatch][128];
  mmsghdr rmsgs[kBatch];
  iovec riov[kBatch];

  explicit Gen(const Options& opt) : o(opt) {}

  void open() {
    auto ep = parse_endpoint(o.to);
    if (!ep) die("--to wants IP:PORT, not '" + o.to + "'");
    for (int s = 0; s < o.sockets; ++s) {
      int fd = ::socket(ep->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
      int big = 32 << 20;
      if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
      int sb = 4 << 20;
      if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof sb) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
      if (::connect(fd, ep->sa(), ep->len) != 0) die(std::string("connect: ") + std::strerror(errno));
      fds.push_back(fd);
    }
    notes.resize(kBatch * o.size);
    if (o.ack) {
      sent_at.resize(fds.size());
      for (auto& v : sent_at) v.reserve(o.n / fds.size() + kBatch);
      ack_head.assign(fds.size(), 0);
      lat_us.reserve(o.n);
    }
    for (size_t i = 0; i < kBatch; ++i) {
      riov[i] = {rbuf[i], sizeof rbuf[i]};
      rmsgs[i] = {};
      rmsgs[i].msg_hdr.msg_iov = &riov[i];
      rmsgs[i].msg_hdr.msg_iovlen = 1;
    }
  }

  // Sends up to k notes on the next socket; returns how many went.
  size_t send_batch(size_t k) {
    k = std::min<size_t>({k, kBatch, static_cast<size_t>(o.n - sent)});
    for (size_t i = 0; i < k; ++i) {
      char* p = notes.data() + i * o.size;
      make_note(p, o.size, o.tag, sent + i);
      iov[i] = {p, o.size};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int s = rr;
    rr = (rr + 1) % static_cast<int>(fds.size());
    uint64_t t = now_ns();
    size_t done = 0;
    while (done < k) {
      int r = ::sendmmsg(fds[static_cast<size_t>(s)], msgs + done, static_cast<unsigned>(k - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == ENOBUFS) {
          drain(0);
          continue;
        }
        if (errno == ECONNREFUSED) die("server at " + o.to + " refused (not running?)");
        die(std::string("sendmmsg: ") + std::strerror(errno));
      }
      done += static_cast<size_t>(r);
    }
    if (o.ack)
      for (size_t i = 0; i < k; ++i) sent_at[static_cast<size_t>(s)].push_back(t);
    sent += k;
    return k;
  }

  // Reads every reply waiting (non-blocking) on every socket.
  void drain(int) {
    if (!o.ack) return;
    for (size_t s = 0; s < fds.size(); ++s) {
      for (;;) {
        int r = ::recvmmsg(fds[s], rmsgs, kBatch, MSG_DONTWAIT, nullptr);
        if (r < 0) {
          if (errno == EINTR) continue;
          break;  // EAGAIN (or an ICMP error echo)
        }
        uint64_t t = now_ns();
        for (int i = 0; i < r; ++i) {
          const char* p = rbuf[i];
          size_t len = rmsgs[i].msg_len;
          if (len >= 3 && std::memcmp(p, "OK ", 3) == 0)
            ++ok;
          else
            ++errors;
          ++acked;
          if (ack_head[s] < sent_at[s].size()) {
            uint64_t d = t - sent_at[s][ack_head[s]++];
            lat_us.push_back(static_cast<uint32_t>(std::min<uint64_t>(d / 1000, UINT32_MAX)));
          }
        }
        t_last_ack = t;
        if (r < static_cast<int>(kBatch)) break;
      }
    }
  }

  // Waits up to `ns` for a reply (or just sleeps when not counting acks).
  void wait_for(uint64_t ns) {
    timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
    if (!o.ack) {
      ::nanosleep(&ts, nullptr);
      return;
    }
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back({fd, POLLIN, 0});
    ::ppoll(p.data(), p.size(), &ts, nullptr);
    drain(0);
  }
};

uint32_t percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

int run(const Options& o) {
  ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  Gen g(o);
  g.open();
  FileWatch w;
  if (!o.watch.empty()) w.open(o.watch);
  const uint64_t t0 = now_ns();
  const uint64_t deadline = t0 + static_cast<uint64_t>(o.timeout_s * 1e9);
  if (o.rate <= 0) {
    while (g.sent < o.n && now_ns() < deadline) {
      g.send_batch(Gen::kBatch);
      g.drain(0);
    }
  } else {
    // Token bucket: a burst is ~200 µs of traffic (at least 1, at most 64 notes).
    const double per_ns = o.rate / 1e9;
    const size_t burst = std::clamp<size_t>(static_cast<size_t>(o.rate * 200e-6), 1, Gen::kBatch);
    while (g.sent < o.n) {
      uint64_t now = now_ns();
      if (now >= deadline) break;
      double allowed = static_cast<double>(now - t0) * per_ns + static_cast<double>(burst);
      uint64_t may = static_cast<uint64_t>(std::min<double>(allowed, static_cast<double>(o.n)));
      if (may > g.sent && (may - g.sent >= burst || may == o.n)) {
        g.send_batch(static_cast<size_t>(may - g.sent));
        g.drain(0);
        continue;
      }
      // Sleep until a full burst is due (reading acks meanwhile).
      uint64_t due = t0 + static_cast<uint64_t>(static_cast<double>(g.sent) / per_ns);
      g.wait_for(due > now ? due - now : 0);
    }
  }
  const uint64_t t_send_end = now_ns();
  // Wait for the tail: acks and/or the file, until complete or quiet.
  uint64_t t_last_store = 0, t_last_move = t_send_end;
  const uint64_t quiet = static_cast<uint64_t>(o.quiet_ms) * 1000000ull;
  for (;;) {
    bool acks_done = !o.ack || g.acked >= g.sent;
    bool store_done = o.watch.empty() || w.lines >= g.sent;
    uint64_t before = g.acked;
    if (!acks_done) g.wait_for(1000000);  // 1 ms
    else if (!store_done) {
      timespec ts{0, 1000000};
      ::nanosleep(&ts, nullptr);
    }
    uint64_t now = now_ns();
    if (w.poll()) t_last_store = now, t_last_move = now;
    if (g.acked != before) t_last_move = now;
    acks_done = !o.ack || g.acked >= g.sent;
    store_done = o.watch.empty() || w.lines >= g.sent;
    if (acks_done && store_done) break;
    if (now - t_last_move > quiet || now > deadline + 30000000000ull) break;
  }
  if (!o.watch.empty() && t_last_store == 0) t_last_store = t_send_end;  // stored before we looked
  uint64_t t_end;
  uint64_t stored;
  if (!o.watch.empty()) {
    t_end = std::max(t_last_store, t_send_end);
    stored = w.lines;
  } else if (o.ack) {
    t_end = std::max(g.t_last_ack, t_send_end);
    stored = g.ok;
  } else {
    t_end = t_send_end;
    stored = g.sent;
  }
  double send_s = static_cast<double>(t_send_end - t0) / 1e9;
  double elapsed = static_cast<double>(t_end - t0) / 1e9;
  uint32_t p50 = percentile(g.lat_us, 0.50), p99 = percentile(g.lat_us, 0.99);
  uint32_t mx = g.lat_us.empty() ? 0 : *std::max_element(g.lat_us.begin(), g.lat_us.end());
  std::printf(
      "loadgen sent=%llu acked=%llu ok=%llu errors=%llu stored=%llu send_s=%.4f elapsed_s=%.4f "
      "stored_rate=%.0f p50_us=%u p99_us=%u max_us=%u offered=%.0f achieved=%.0f\n",
      static_cast<unsigned long long>(g.sent), static_cast<unsigned long long>(g.acked),
      static_cast<unsigned long long>(g.ok), static_cast<unsigned long long>(g.errors),
      static_cast<unsigned long long>(stored), send_s, elapsed,
      elapsed > 0 ? static_cast<double>(stored) / elapsed : 0.0, p50, p99, mx, o.rate,
      send_s > 0 ? static_cast<double>(g.sent) / send_s : 0.0);
  return 0;
}

const char kUsage[] =
    "usage: loadgen --to IP:PORT [-n N] [--size B] [--rate R|0] [--sockets S] [--ack]\n"
    "               [--watch FILE] [--quiet-ms MS] [--timeout SEC] [--tag TEXT]\n"
    "       loadgen --make-store FILE -n N [--size B] [--sources K]\n"
    "       loadgen --make-lines FILE -n N [--size B] [--tag TEXT]\n";

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " wants a value");
      return argv[++i];
    };
    if (a == "--to") o.to = val();
    else if (a == "-n") o.n = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--size") o.size = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--rate") o.rate = std::strtod(val().c_str(), nullptr);
    else if (a == "--sockets") o.sockets = std::atoi(val().c_str());
    else if (a == "--ack") o.ack = true;
    else if (a == "--watch") o.watch = val();
    else if (a == "--quiet-ms") o.quiet_ms = std::atoi(val().c_str());
    else if (a == "--timeout") o.timeout_s = std::strtod(val().c_str(), nullptr);
    else if (a == "--tag") o.tag = val();
    else if (a == "--make-store") o.make_store = val();
    else if (a == "--make-lines") o.make_lines = val();
    else if (a == "--sources") o.sources = std::atoi(val().c_str());
    else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      die("unknown option " + a + "\n" + kUsage);
    }
  }
  if (o.size < 32 || o.size > 4096) die("--size wants 32..4096");
  if (o.sockets < 1 || o.sockets > 1000) die("--sockets wants 1..1000");
  if (o.sources < 1) o.sources = 1;
  if (!o.make_store.empty()) return make_store(o);
  if (!o.make_lines.empty()) return make_lines(o);
  if (o.to.empty()) die(std::string("--to is required\n") + kUsage);
  return run(o);
}
