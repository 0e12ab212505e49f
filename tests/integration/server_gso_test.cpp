// server_gso_test.cpp — the UDP reply path with GSO (issue 15) against the real dailynetd:
// replies of one turn to many peers, of mixed lengths, over IPv4, IPv6 and dual stack, each
// arriving as its own datagram, in each peer's order, never merged or cut; the 64-byte reply
// limit inside a 64-segment GSO message; exactly-once replies to marked datagrams (retries,
// WAIT) in one turn; and the fallback when the kernel refuses UDP_SEGMENT, forced by the test
// switch DAILYNETD_GSO=refuse (and DAILYNETD_GSO=off). Every burst is sent while the server is
// stopped (SIGSTOP), so it is read and answered in one turn: no timing margins.
#include <doctest/doctest.h>

#include <signal.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../../common/protocol.hpp"
#include "harness.hpp"

using namespace harness;

namespace {

struct Peer {
  std::unique_ptr<Udp> udp;
  std::string addr;  // as the store shows it
  std::vector<std::string> sent;
};

Peer peer(const ServerProcess& s, const std::string& host, const std::string& bind_ip) {
  Peer p;
  p.udp = std::make_unique<Udp>(s.udp_port(), host, bind_ip);
  std::string port = std::to_string(p.udp->local_port());
  p.addr = bind_ip.find(':') != std::string::npos ? "[" + bind_ip + "]:" + port
                                                  : bind_ip + ":" + port;
  return p;
}

// Stops the server, lets every peer send its datagrams, lets the server go on.
bool send_while_stopped(const ServerProcess& s, std::vector<Peer>& peers) {
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);
  bool ok = true;
  size_t most = 0;
  for (const Peer& p : peers) most = std::max(most, p.sent.size());
  for (size_t j = 0; j < most; ++j)  // interleaved, as many clients would be
    for (Peer& p : peers)
      if (j < p.sent.size()) ok = p.udp->send(p.sent[j]) && ok;
  REQUIRE(::kill(s.pid(), SIGCONT) == 0);
  return ok;
}

// The store as seq -> (addr, text).
std::map<uint64_t, std::pair<std::string, std::string>> stored_by_seq(const ServerProcess& s) {
  std::map<uint64_t, std::pair<std::string, std::string>> m;
  for (const std::string& line : file_lines(s.store_path())) {
    auto f = split_tabs(line);
    if (f.size() == 4) m[std::stoull(f[0])] = {f[2], f[3]};
  }
  return m;
}

// Receives exactly n replies (each one datagram of at most 64 bytes ending in its only '\n'),
// then checks that nothing more comes.
std::vector<std::string> replies(Udp& u, size_t n) {
  std::vector<std::string> got;
  while (got.size() < n) {
    auto r = u.recv(5000);
    if (!r) break;
    CHECK(r->size() <= 64);
    CHECK(!r->empty());
    CHECK(r->find('\n') == r->size() - 1);
    got.push_back(*r);
  }
  CHECK(got.size() == n);
  CHECK(u.recv(50) == std::nullopt);
  return got;
}

// Each peer sends `per_peer` plain datagrams: most valid ("<tag>-<j>"), some refused for a
// control character or length (replies of other lengths). A refusal is answered as the
// datagram is read, an OK after the turn's commit, so a peer hears its refusals first; the
// OKs come in the order of its notes. Checks one reply per datagram, the exact refusals, seqs
// rising per peer, each OK's seq holding exactly that note from that peer, and every stored
// note acknowledged once.
void burst_and_check(const ServerProcess& s, std::vector<Peer>& peers, int per_peer) {
  for (size_t p = 0; p < peers.size(); ++p)
    for (int j = 0; j < per_peer; ++j)
      peers[p].sent.push_back(j % 7 == 3    ? "bad\ttab"
                              : j % 11 == 5 ? std::string(30, 'x')
                                            : "p" + std::to_string(p) + "-" + std::to_string(j));
  const size_t before = stored_by_seq(s).size();
  REQUIRE(send_while_stopped(s, peers));
  std::vector<std::vector<std::string>> got;
  for (Peer& p : peers) got.push_back(replies(*p.udp, p.sent.size()));
  auto store = stored_by_seq(s);
  std::set<uint64_t> acked;
  int wrong = 0;
  for (size_t p = 0; p < peers.size(); ++p) {
    std::vector<std::string> notes, oks;
    size_t control = 0, too_long = 0;
    for (const std::string& d : peers[p].sent) {
      if (d == "bad\ttab") ++control;
      else if (d.size() == 30) ++too_long;
      else notes.push_back(d);
    }
    for (const std::string& r : got[p]) {
      if (r == "ERR control character at byte 3\n") --control;
      else if (r == "ERR note too long (max 20 bytes)\n") --too_long;
      else if (r.rfind("OK ", 0) == 0) oks.push_back(r);
      else ++wrong;
    }
    wrong += control != 0 || too_long != 0 || oks.size() != notes.size();
    uint64_t last = 0;
    for (size_t j = 0; j < oks.size() && j < notes.size(); ++j) {
      uint64_t seq = std::stoull(oks[j].substr(3));
      wrong += seq <= last || !acked.insert(seq).second;
      last = seq;
      auto it = store.find(seq);
      wrong += it == store.end() || it->second != std::make_pair(peers[p].addr, notes[j]);
    }
  }
  CHECK(wrong == 0);
  CHECK(acked.size() == store.size() - before);
}

struct EnvSwitch {  // DAILYNETD_GSO for the servers started while it lives
  explicit EnvSwitch(const char* v) { ::setenv("DAILYNETD_GSO", v, 1); }
  ~EnvSwitch() { ::unsetenv("DAILYNETD_GSO"); }
};

}  // namespace

TEST_CASE("gso: replies of one turn to many peers, mixed lengths: one each, in order") {
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  std::vector<Peer> peers;
  for (int i = 0; i < 12; ++i)
    peers.push_back(peer(s, "127.0.0.1", "127.0.0." + std::to_string(1 + i % 3)));
  burst_and_check(s, peers, 40);  // seqs cross 9 -> 10 and 99 -> 100: lengths change
  int64_t gso = stat_value(s.tcp_port(), "udp_replies_gso");
  int64_t fallback = stat_value(s.tcp_port(), "udp_gso_fallback");
  MESSAGE("udp_replies_gso " << gso << ", udp_gso_fallback " << fallback);
  CHECK((gso > 0 || fallback == 1));  // a kernel without UDP_SEGMENT falls back
  // a second burst on the same sockets (the send queue and its groups start afresh)
  for (Peer& p : peers) p.sent.clear();
  burst_and_check(s, peers, 20);
}

TEST_CASE("gso: IPv6 peers and IPv4 peers of a dual-stack server") {
  if (!ipv6_loopback_available()) {
    MESSAGE("IPv6 loopback unavailable: skipped");
    return;
  }
  ServerProcess s({"--host", "::", "--max-note", "20"});
  REQUIRE(s.started());
  std::vector<Peer> peers;
  for (int i = 0; i < 4; ++i) peers.push_back(peer(s, "::1", "::1"));
  for (int i = 0; i < 2; ++i) peers.push_back(peer(s, "127.0.0.1", "127.0.0.1"));
  burst_and_check(s, peers, 30);
  int64_t gso = stat_value(s.tcp_port(), "udp_replies_gso");
  CHECK((gso > 0 || stat_value(s.tcp_port(), "udp_gso_fallback") == 1));
  // IPv6 only
  ServerProcess v6({"--host", "::1", "--max-note", "20"});
  REQUIRE(v6.started());
  std::vector<Peer> six;
  for (int i = 0; i < 3; ++i) six.push_back(peer(v6, "::1", "::1"));
  burst_and_check(v6, six, 30);
}

TEST_CASE("gso: the kernel refusing UDP_SEGMENT (forced): fallback for good, counted, logged, "
          "nothing lost") {
  EnvSwitch refuse("refuse");
  ServerProcess s({"--max-note", "20"});
  REQUIRE(s.started());
  CHECK(stat_value(s.tcp_port(), "udp_gso_fallback") == 0);
  std::vector<Peer> peers;
  for (int i = 0; i < 5; ++i) peers.push_back(peer(s, "127.0.0.1", "127.0.0.1"));
  burst_and_check(s, peers, 40);
  CHECK(stat_value(s.tcp_port(), "udp_gso_fallback") == 1);
  CHECK(stat_value(s.tcp_port(), "udp_replies_gso") == 0);
  CHECK(s.wait_log("the kernel refused UDP_SEGMENT"));
  for (Peer& p : peers) p.sent.clear();
  burst_and_check(s, peers, 40);  // and after it, one by one
  CHECK(stat_value(s.tcp_port(), "udp_replies_gso") == 0);
  CHECK(s.log().find("refused UDP_SEGMENT") == s.log().rfind("refused UDP_SEGMENT"));
  EnvSwitch off("off");  // never tried: nothing refused, nothing counted
  ServerProcess o({"--max-note", "20"});
  REQUIRE(o.started());
  std::vector<Peer> more;
  for (int i = 0; i < 3; ++i) more.push_back(peer(o, "127.0.0.1", "127.0.0.1"));
  burst_and_check(o, more, 30);
  CHECK(stat_value(o.tcp_port(), "udp_gso_fallback") == 0);
  CHECK(stat_value(o.tcp_port(), "udp_replies_gso") == 0);
}

TEST_CASE("gso: 64 replies of the 64-byte limit in one turn: 64 datagrams of 64 bytes") {
  ServerProcess s({"--max-note", "10"});
  REQUIRE(s.started());
  std::vector<Peer> peers;
  peers.push_back(peer(s, "127.0.0.1", "127.0.0.1"));
  // 64 refused notes with 20-digit message numbers: each natural reply is longer than 64.
  std::vector<std::string> bad(64, std::string(11, 'x'));
  for (uint64_t id = 1; id <= 64; ++id)
    peers[0].sent.push_back(marked(id, 18446744073709551000ULL, 18446744073709551000ULL, bad));
  REQUIRE(send_while_stopped(s, peers));
  auto got = replies(*peers[0].udp, 64);
  int wrong = 0;
  for (const std::string& r : got)
    wrong += r.size() != 64 || r.rfind("OK 18446744073709551000 64 0 ffffffffffffffff ", 0) != 0;
  CHECK(wrong == 0);
  CHECK(file_size(s.store_path()) == 0);
  int64_t gso = stat_value(s.tcp_port(), "udp_replies_gso");
  CHECK((gso == 64 || stat_value(s.tcp_port(), "udp_gso_fallback") == 1));
}

TEST_CASE("gso: exactly-once replies to marked datagrams, retries and WAIT in one turn") {
  for (std::string mode : {"on", "refuse"}) {
    CAPTURE(mode);
    EnvSwitch sw(mode.c_str());
    ServerProcess s;
    REQUIRE(s.started());
    std::vector<Peer> peers;
    for (int i = 0; i < 3; ++i) peers.push_back(peer(s, "127.0.0.1", "127.0.0.1"));
    for (uint64_t c = 0; c < 3; ++c) {
      const uint64_t id = 0x5000 + c;
      auto d = [&](uint64_t floor, uint64_t first, std::vector<std::string> notes) {
        return marked(id, floor, first, notes);
      };
      std::string n = "c" + std::to_string(c) + "-";
      peers[c].sent = {d(1, 1, {n + "1", n + "2", n + "3"}), d(1, 1, {n + "1", n + "2", n + "3"}),
                       d(1, 4, {n + "4", "bad\ttab"}),        d(1, 7, {n + "7"}),
                       d(1, 4, {n + "4", "bad\ttab"}),        d(4, 6, {n + "6", n + "7"}),
                       d(1, 1, {n + "1", n + "2", n + "3"})};
    }
    REQUIRE(send_while_stopped(s, peers));
    std::vector<std::vector<std::string>> got;
    for (Peer& p : peers) got.push_back(replies(*p.udp, 7));
    auto store = stored_by_seq(s);
    std::multiset<std::string> texts;
    for (auto& [seq, v] : store) texts.insert(v.second);
    CHECK(store.size() == 3 * 6);
    for (size_t c = 0; c < 3; ++c) {
      std::string n = "c" + std::to_string(c) + "-";
      // WAIT is answered as the datagram is read; the others after the commit, in order.
      std::vector<std::string> ok;
      for (const std::string& r : got[c])
        if (r != "WAIT 6\n") ok.push_back(r);
      REQUIRE(ok.size() == 6);
      auto first = parse_marked_reply(ok[0]);
      auto second = parse_marked_reply(ok[2]);
      auto last = parse_marked_reply(ok[4]);
      REQUIRE(first);
      REQUIRE(second);
      REQUIRE(last);
      CHECK(ok[0].rfind("OK 1 3 ", 0) == 0);
      CHECK(ok[1] == ok[0]);  // the retries: the same seqs
      CHECK(ok[5] == ok[0]);
      CHECK(ok[2] == "OK 4 2 " + std::to_string(second->seq) + " 2 control character at byte 3\n");
      CHECK(ok[3] == ok[2]);
      CHECK(ok[4].rfind("OK 6 2 ", 0) == 0);
      for (uint64_t i = 0; i < 3; ++i)
        CHECK(store[first->seq + i] == std::make_pair(peers[c].addr, n + std::to_string(1 + i)));
      CHECK(store[second->seq] == std::make_pair(peers[c].addr, n + "4"));
      CHECK(store[last->seq] == std::make_pair(peers[c].addr, n + "6"));
      CHECK(store[last->seq + 1] == std::make_pair(peers[c].addr, n + "7"));
      for (const char* k : {"1", "2", "3", "4", "6", "7"}) CHECK(texts.count(n + k) == 1);
    }
  }
}
