// client_sender_test.cpp — UdpSender against a scripted fake server on loopback: packing,
// the one-datagram start, replies (OK with masks and partial retries, WAIT, ERR), byte-identical
// retransmission, ICMP unreachable and silence. Every wait is bounded.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "../../client/udp_sender.hpp"
#include "../../common/protocol.hpp"

using client::NoteResult;
using client::UdpSender;

namespace {

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A UDP socket on 127.0.0.1 that the test answers by hand.
class FakeServer {
 public:
  FakeServer() {
    fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  uint16_t port() const { return port_; }
  void close() { fd_.reset(); }

  // The next datagram, while the sender is driven; nullopt after timeout_ms.
  std::optional<std::string> recv(UdpSender& s, int timeout_ms = 2000) {
    int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        char buf[9000];
        peer_len_ = sizeof peer_;
        ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0,
                               reinterpret_cast<sockaddr*>(&peer_), &peer_len_);
        if (n >= 0) return std::string(buf, static_cast<size_t>(n));
      }
      s.wait(5);
    }
    return std::nullopt;
  }
  // True when no datagram arrives within ms (the sender driven meanwhile).
  bool quiet(UdpSender& s, int ms) { return !recv(s, ms).has_value(); }
  void reply(const std::string& text) {
    ::sendto(fd_.get(), text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&peer_),
             peer_len_);
  }

 private:
  Fd fd_;
  uint16_t port_ = 0;
  sockaddr_in peer_{};
  socklen_t peer_len_ = 0;
};

struct Collected {
  std::vector<NoteResult> results;
  std::vector<std::string> texts, reasons;
};

UdpSender::Settings fast(size_t window = 4, int timeout_ms = 3000) {
  UdpSender::Settings s;
  s.window = window;
  s.timeout_ms = timeout_ms;
  s.rto_min_ms = 50;
  s.rto_max_ms = 200;
  return s;
}

void collect(UdpSender& s, Collected& c) {
  s.on_result = [&c](const NoteResult& r) {
    c.results.push_back(r);
    c.texts.emplace_back(r.text);
    c.reasons.emplace_back(r.reason);
  };
}

bool drive_until_idle(UdpSender& s, int timeout_ms = 3000) {
  int64_t deadline = now_ms() + timeout_ms;
  while (!s.idle() && s.failure() == UdpSender::Failure::none && now_ms() < deadline) s.wait(5);
  return s.idle();
}

std::string header_of(const std::string& d) { return d.substr(0, d.find('\n') + 1); }

}  // namespace

TEST_CASE("sender: notes packed in one marked datagram, results in order with seqs") {
  FakeServer fs;
  UdpSender s(fast());
  Collected c;
  collect(s, c);
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("one", 11));
  REQUIRE(s.add("two 中文", 12));
  REQUIRE(s.add("three", 13));
  REQUIRE(s.flush());
  auto d = fs.recv(s);
  REQUIRE(d);
  auto m = parse_marked(*d);
  REQUIRE(m);
  CHECK(m->client_id == s.client_id());
  CHECK(m->floor == 1);
  CHECK(m->first == 1);
  REQUIRE(m->notes.size() == 3);
  CHECK(m->notes[1] == "two 中文");
  CHECK(d->substr(d->find('\n') + 1) == "one\ntwo 中文\nthree\n");
  fs.reply("OK 1 3 40\n");
  REQUIRE(drive_until_idle(s));
  REQUIRE(c.results.size() == 3);
  CHECK(c.results[0].seq == 40);
  CHECK(c.results[1].seq == 41);
  CHECK(c.results[2].seq == 42);
  CHECK(c.results[2].tag == 13);
  CHECK(c.texts[1] == "two 中文");
  CHECK(s.counters().acked == 3);
}

TEST_CASE("sender: a refusal mask marks notes refused; the others take the seqs in order") {
  FakeServer fs;
  UdpSender s(fast());
  Collected c;
  collect(s, c);
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  for (const char* t : {"a", "b", "c", "d"}) REQUIRE(s.add(t, 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("OK 1 4 7 a note too long (max 4 bytes)\n");  // bits 1 and 3: "b" and "d"
  REQUIRE(drive_until_idle(s));
  REQUIRE(c.results.size() == 4);
  CHECK(!c.results[0].refused);
  CHECK(c.results[0].seq == 7);
  CHECK(c.results[1].refused);
  CHECK(c.reasons[1] == "note too long (max 4 bytes)");
  CHECK(c.results[2].seq == 8);
  CHECK(c.results[3].refused);
  CHECK(s.counters().refused == 2);
}

TEST_CASE("sender: a partial retry answer leaves the earlier notes' seqs unknown") {
  FakeServer fs;
  UdpSender s(fast());
  Collected c;
  collect(s, c);
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  for (const char* t : {"a", "b", "c"}) REQUIRE(s.add(t, 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("OK 2 2 9\n");  // message 1 was settled before; 2 and 3 stored as 9, 10
  REQUIRE(drive_until_idle(s));
  REQUIRE(c.results.size() == 3);
  CHECK(c.results[0].seq == 0);
  CHECK(!c.results[0].refused);
  CHECK(c.results[1].seq == 9);
  CHECK(c.results[2].seq == 10);
}

TEST_CASE("sender: at most 64 notes and about 8000 bytes per datagram") {
  FakeServer fs;
  UdpSender s(fast(8));
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  // First datagram alone (the server does not know us yet).
  REQUIRE(s.add("hello", 0));
  REQUIRE(s.flush());
  auto d1 = fs.recv(s);
  REQUIRE(d1);
  fs.reply("OK 1 1 1\n");
  REQUIRE(drive_until_idle(s));
  for (int i = 0; i < 100; ++i) REQUIRE(s.add("n" + std::to_string(i), 0));
  REQUIRE(s.flush());
  auto a = fs.recv(s), b = fs.recv(s);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(parse_marked(*a)->notes.size() == 64);
  CHECK(parse_marked(*a)->first == 2);
  CHECK(parse_marked(*b)->notes.size() == 36);
  CHECK(parse_marked(*b)->first == 66);
  fs.reply("OK 2 64 2\n");
  fs.reply("OK 66 36 66\n");
  REQUIRE(drive_until_idle(s));
  std::string big(1000, 'x');
  for (int i = 0; i < 20; ++i) REQUIRE(s.add(big, 0));
  REQUIRE(s.flush());
  size_t total = 0;
  uint64_t next = 102;
  while (total < 20) {
    auto d = fs.recv(s);
    REQUIRE(d);
    CHECK(d->size() <= UdpSender::kPackBytes);
    auto m = parse_marked(*d);
    REQUIRE(m);
    CHECK(m->first == next);
    fs.reply("OK " + std::to_string(m->first) + " " + std::to_string(m->notes.size()) + " " +
             std::to_string(m->first) + "\n");
    total += m->notes.size();
    next += m->notes.size();
  }
  CHECK(drive_until_idle(s));
  // The largest note travels alone, under the server's 8192-byte limit.
  REQUIRE(s.add(std::string(UdpSender::kMaxNote, 'y'), 0));
  REQUIRE(s.flush());
  auto d = fs.recv(s);
  REQUIRE(d);
  CHECK(d->size() <= UdpSender::kMaxDatagram);
}

TEST_CASE("sender: one datagram in flight until the server first answers, then a window") {
  FakeServer fs;
  UdpSender s(fast(4));
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  int added = 0;
  while (added < 64 * 6 && s.add("x", 0)) ++added;
  CHECK(added == 128);  // one datagram in flight, one formed and waiting
  s.flush();
  auto first = fs.recv(s);
  REQUIRE(first);
  CHECK(parse_marked(*first)->first == 1);
  // Nothing else goes out before an answer: a retransmission of the same bytes at most.
  auto again = fs.recv(s, 120);
  if (again) CHECK(*again == *first);
  fs.reply("OK 1 64 1\n");
  // Now the window opens: 4 datagrams in flight without more answers.
  int64_t deadline = now_ms() + 2000;
  while (s.counters().acked < 64 && now_ms() < deadline) s.wait(5);
  while (s.add("y", 0)) ++added;
  CHECK(added == 64 * 5 + 64);  // 4 in flight, plus one full datagram formed
  s.flush();
  std::vector<uint64_t> firsts;
  while (firsts.size() < 4 && now_ms() < deadline) {
    auto d = fs.recv(s, 200);
    if (!d) continue;
    uint64_t f = parse_marked(*d)->first;
    if (firsts.empty() || f > firsts.back()) firsts.push_back(f);
  }
  CHECK(firsts == std::vector<uint64_t>{65, 129, 193, 257});
}

TEST_CASE("sender: a retransmission is byte-identical and carries the floor it was formed with") {
  FakeServer fs;
  UdpSender s(fast(4));
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("first", 0));
  REQUIRE(s.flush());
  auto d = fs.recv(s);
  REQUIRE(d);
  auto again = fs.recv(s, 1000);  // no answer: it comes again after the timeout
  REQUIRE(again);
  CHECK(*again == *d);
  fs.reply("OK 1 1 5\n");
  REQUIRE(drive_until_idle(s));
  CHECK(s.counters().retransmits >= 1);
  // Two datagrams in flight; the second one's floor is the first's message number.
  for (int i = 0; i < 65; ++i) REQUIRE(s.add("n", 0));
  REQUIRE(s.flush());
  auto a = fs.recv(s), b = fs.recv(s);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(header_of(*a).find(" 2 2\n") != std::string::npos);
  CHECK(header_of(*b).find(" 2 66\n") != std::string::npos);
  fs.reply("OK 66 1 80\n");  // the second answered first: nothing is reported out of order
  s.wait(20);
  CHECK(!s.idle());
  auto b2 = fs.recv(s, 1000);  // the first comes again, unchanged
  REQUIRE(b2);
  CHECK(*b2 == *a);
  fs.reply("OK 2 64 16\n");
  CHECK(drive_until_idle(s));
}

TEST_CASE("sender: WAIT makes it go back and resend from that message, unchanged") {
  FakeServer fs;
  UdpSender s(fast(4));
  std::vector<uint64_t> seqs;
  s.on_result = [&](const NoteResult& r) { seqs.push_back(r.seq); };
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("OK 1 1 1\n");
  REQUIRE(drive_until_idle(s));
  for (int i = 0; i < 3 * 64; ++i) REQUIRE(s.add("b", 0));
  REQUIRE(s.flush());
  auto d2 = fs.recv(s), d3 = fs.recv(s), d4 = fs.recv(s);
  REQUIRE(d2);
  REQUIRE(d3);
  REQUIRE(d4);
  // d2 "lost": the server answers d3 and d4 with WAIT 2, takes nothing.
  fs.reply("WAIT 2\n");
  fs.reply("WAIT 2\n");
  auto r2 = fs.recv(s, 100), r3 = fs.recv(s, 100), r4 = fs.recv(s, 100);
  REQUIRE(r2);
  REQUIRE(r3);
  REQUIRE(r4);
  CHECK(*r2 == *d2);
  CHECK(*r3 == *d3);
  CHECK(*r4 == *d4);
  fs.reply("OK 2 64 2\n");
  fs.reply("OK 66 64 66\n");
  fs.reply("OK 130 64 130\n");
  REQUIRE(drive_until_idle(s));
  REQUIRE(seqs.size() == 193);
  for (size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
}

TEST_CASE("sender: ERR <first> backs off and resends; a plain ERR is fatal") {
  FakeServer fs;
  UdpSender s(fast(4));
  Collected c;
  collect(s, c);
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  auto d = fs.recv(s);
  REQUIRE(d);
  int64_t t0 = now_ms();
  fs.reply("ERR 1 rate limited\n");
  auto again = fs.recv(s, 1000);
  REQUIRE(again);
  CHECK(*again == *d);
  CHECK(now_ms() - t0 >= 40);  // backed off (50 ms), not at once
  fs.reply("OK 1 1 3\n");
  REQUIRE(drive_until_idle(s));
  REQUIRE(c.results.size() == 1);
  CHECK(c.results[0].seq == 3);

  REQUIRE(s.add("b", 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("ERR malformed marked datagram\n");
  int64_t deadline = now_ms() + 1000;
  while (s.failure() == UdpSender::Failure::none && now_ms() < deadline) s.wait(10);
  CHECK(s.failure() == UdpSender::Failure::refused_datagram);
  CHECK(s.failure_message().find("malformed marked datagram") != std::string::npos);
}

TEST_CASE("sender: no server on the port is reported at once (ICMP port unreachable)") {
  FakeServer fs;
  uint16_t port = fs.port();
  fs.close();
  UdpSender s(fast(4, 10000));
  std::string err;
  REQUIRE(s.open("127.0.0.1", port, err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  int64_t t0 = now_ms();
  while (s.failure() == UdpSender::Failure::none && now_ms() - t0 < 3000) s.wait(50);
  CHECK(s.failure() == UdpSender::Failure::unreachable);
  CHECK(now_ms() - t0 < 1000);
  CHECK(s.failure_message() == "no server at 127.0.0.1:" + std::to_string(port) +
                                   " (UDP port unreachable)");
}

TEST_CASE("sender: a silent server means no acknowledgement after the timeout") {
  FakeServer fs;
  UdpSender s(fast(4, 400));
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  int64_t t0 = now_ms();
  int sends = 0;
  while (s.failure() == UdpSender::Failure::none && now_ms() - t0 < 3000)
    if (fs.recv(s, 50)) ++sends;
  CHECK(s.failure() == UdpSender::Failure::no_ack);
  CHECK(now_ms() - t0 >= 400);
  CHECK(now_ms() - t0 < 1500);
  CHECK(sends >= 2);
  CHECK(!s.add("more", 0));  // a failed sender takes nothing more
}

TEST_CASE("sender: duplicate answers are ignored; each note is reported once") {
  FakeServer fs;
  UdpSender s(fast(4));
  Collected c;
  collect(s, c);
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("OK 1 1 1\n");
  fs.reply("OK 1 1 1\n");
  fs.reply("garbage\n");
  REQUIRE(drive_until_idle(s));
  for (int i = 0; i < 5; ++i) s.wait(5);
  CHECK(c.results.size() == 1);
}

TEST_CASE("sender: a stale WAIT is ignored; a server that keeps asking for acknowledged "
          "messages ends in no_ack, naming it") {
  FakeServer fs;
  UdpSender s(fast(4, 600));
  std::string err;
  REQUIRE(s.open("127.0.0.1", fs.port(), err));
  REQUIRE(s.add("a", 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("OK 1 1 1\n");
  REQUIRE(drive_until_idle(s));
  REQUIRE(s.add("b", 0));
  REQUIRE(s.flush());
  REQUIRE(fs.recv(s));
  fs.reply("WAIT 1\n");  // late, or duplicated on the way: message 1 is settled
  fs.reply("OK 2 1 2\n");
  REQUIRE(drive_until_idle(s));
  CHECK(s.failure() == UdpSender::Failure::none);
  // Now a server that forgot: it answers every retry with WAIT 1, and never settles 3.
  REQUIRE(s.add("c", 0));
  REQUIRE(s.flush());
  int64_t t0 = now_ms();
  while (s.failure() == UdpSender::Failure::none && now_ms() - t0 < 3000)
    if (fs.recv(s, 50)) fs.reply("WAIT 1\n");
  CHECK(s.failure() == UdpSender::Failure::no_ack);
  CHECK(now_ms() - t0 < 1500);
  CHECK(s.failure_message().find("it keeps asking for message 1, which it had acknowledged") !=
        std::string::npos);
}
