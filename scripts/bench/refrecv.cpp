// refrecv.cpp — the reference receiver of scripts/bench.sh: the minimal correct thing that
// does dailynet's plain-datagram job, and so the physical limit it is measured against.
//
//   refrecv [--host IP] [--port N] --out FILE [--batch K] [--max-note B]
//
// Loop: one blocking recvmmsg (up to K datagrams, MSG_WAITFORONE); each datagram is checked
// like a plain dailynet note (one trailing newline dropped, valid UTF-8, no controls, size)
// and becomes the line "SEQ\tTIME\tADDR\tTEXT\n"; the batch's lines go to FILE with ONE
// write; one reply per datagram ("OK <seq>\n" or "ERR <reason>\n") with ONE sendmmsg.
// No fsync, no index, no TCP. SO_RCVBUF as large as the system allows (like dailynetd).
// Prints "refrecv ready udp=IP:PORT" on stdout; SIGINT/SIGTERM: exit 0 with a summary on
// stderr.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../common/net.hpp"
#include "../../common/protocol.hpp"

namespace {

volatile sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "refrecv: %s\n", msg.c_str());
  std::exit(2);
}

int64_t wall_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", out;
  int port = 0;
  size_t batch = 1024, max_note = 4096;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " wants a value");
      return argv[++i];
    };
    if (a == "--host") host = val();
    else if (a == "--port") port = std::atoi(val().c_str());
    else if (a == "--out") out = val();
    else if (a == "--batch") batch = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--max-note") max_note = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "-h" || a == "--help") {
      std::puts("usage: refrecv [--host IP] [--port N] --out FILE [--batch K] [--max-note B]");
      return 0;
    } else die("unknown option " + a);
  }
  if (out.empty()) die("--out FILE is required");
  if (batch < 1 || batch > 4096) die("--batch wants 1..4096");

  auto addr = SockAddr::from_ip(host, static_cast<uint16_t>(port));
  if (!addr) die("bad --host " + host);
  int fd = ::socket(addr->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  for (int want = 64 << 20; want >= (1 << 20); want >>= 1)
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) == 0) break;
  int want = 64 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  int rcvbuf = 0;
  socklen_t sl = sizeof rcvbuf;
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl);
  if (::bind(fd, addr->sa(), addr->len) != 0) die(std::string("bind: ") + std::strerror(errno));
  SockAddr local;
  local.len = sizeof local.ss;
  ::getsockname(fd, local.sa(), &local.len);
  int ofd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (ofd < 0) die("cannot open " + out + ": " + std::strerror(errno));

  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: the blocking recvmmsg returns EINTR
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const size_t slot = max_note + 3;  // note + "\r\n" + 1 to reveal a longer datagram
  std::vector<char> bufs(batch * slot);
  std::vector<SockAddr> peers(batch);
  std::vector<mmsghdr> msgs(batch), rmsgs(batch);
  std::vector<iovec> iov(batch), riov(batch);
  std::vector<std::string> replies(batch);
  std::string lines;
  lines.reserve(batch * 256);
  char addr_text[64];
  uint64_t seq = 0, datagrams = 0, refused = 0, batches = 0;

  std::printf("refrecv ready udp=%s out=%s rcvbuf=%d\n", local.to_string().c_str(), out.c_str(),
              rcvbuf);
  std::fflush(stdout);

  while (!g_stop) {
    for (size_t i = 0; i < batch; ++i) {
      iov[i] = {bufs.data() + i * slot, slot};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i].ss;
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i].ss;
    }
    int got = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(batch), MSG_WAITFORONE, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      die(std::string("recvmmsg: ") + std::strerror(errno));
    }
    ++batches;
    const int64_t now = wall_ms();
    lines.clear();
    for (int i = 0; i < got; ++i) {
      SockAddr& p = peers[static_cast<size_t>(i)];
      p.len = msgs[static_cast<size_t>(i)].msg_hdr.msg_namelen;
      p.normalize();
      size_t len = msgs[static_cast<size_t>(i)].msg_len;
      std::string& r = replies[static_cast<size_t>(i)];
      ++datagrams;
      if ((msgs[static_cast<size_t>(i)].msg_hdr.msg_flags & MSG_TRUNC) || len >= slot) {
        r = "ERR datagram too large\n";
        ++refused;
      } else {
        std::string_view note =
            strip_one_newline(std::string_view(bufs.data() + static_cast<size_t>(i) * slot, len));
        NoteCheck c = validate_note(note, max_note);
        if (!c.ok()) {
          r = "ERR " + note_error_reason(c, max_note) + "\n";
          ++refused;
        } else {
          size_t al = p.format(addr_text);
          append_note_line(lines, ++seq, now, std::string_view(addr_text, al), note);
          char b[32];
          int n = std::snprintf(b, sizeof b, "OK %llu\n", static_cast<unsigned long long>(seq));
          r.assign(b, static_cast<size_t>(n));
        }
      }
      riov[static_cast<size_t>(i)] = {r.data(), r.size()};
      rmsgs[static_cast<size_t>(i)] = {};
      rmsgs[static_cast<size_t>(i)].msg_hdr.msg_iov = &riov[static_cast<size_t>(i)];
      rmsgs[static_cast<size_t>(i)].msg_hdr.msg_iovlen = 1;
      rmsgs[static_cast<size_t>(i)].msg_hdr.msg_name = &p.ss;
      rmsgs[static_cast<size_t>(i)].msg_hdr.msg_namelen = p.len;
    }
    size_t off = 0;  // one write per batch (a short write is finished, not split up front)
    while (off < lines.size()) {
      ssize_t w = ::write(ofd, lines.data() + off, lines.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die(std::string("write: ") + std::strerror(errno));
      off += static_cast<size_t>(w);
    }
    int done = 0;  // one sendmmsg for the batch's replies
    while (done < got) {
      int s = ::sendmmsg(fd, rmsgs.data() + done, static_cast<unsigned>(got - done), 0);
      if (s < 0) {
        if (errno == EINTR) continue;
        ++done;  // that peer is gone: drop its reply
        continue;
      }
      done += s;
    }
  }
  std::fprintf(stderr, "refrecv: %llu datagrams, %llu notes stored, %llu refused, %llu batches\n",
               static_cast<unsigned long long>(datagrams), static_cast<unsigned long long>(seq),
               static_cast<unsigned long long>(refused), static_cast<unsigned long long>(batches));
  return 0;
}
