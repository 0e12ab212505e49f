// client_ipv6_test.cpp — bin/dailynet with host names and IPv6 (issue 7): --host localhost
// (getaddrinfo, each address in turn, -v naming the address used), --host ::1 against a
// server on ::1, and a dual-stack server (--host ::) that shows, filters and lists an IPv4
// client as plain 127.0.0.1:PORT in every format. Cases that need IPv6 skip (with a message)
// when the machine has no ::1. Loopback only; every wait is bounded; servers die by PID.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

using namespace harness;

namespace {

// dailynet --host HOST --port PORT --timeout 5 ARGS...
RunResult dailynet(const std::string& host, uint16_t port, std::vector<std::string> args,
                   const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {client(), "--host", host, "--port", std::to_string(port),
                                   "--timeout", "5"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, "", 20000, env);
}

// True when a socket can be bound to [addr]:0 (IPv6), with IPV6_V6ONLY off for "::".
bool can_bind6(const char* addr) {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int off = 0;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  bool ok = ::inet_pton(AF_INET6, addr, &a.sin6_addr) == 1 &&
            ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The numeric addresses getaddrinfo gives for name, in its order (one per family and address).
std::vector<std::string> resolve(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::vector<std::string> out;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = "";
    const void* p = ai->ai_family == AF_INET
                        ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                        : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    if (::inet_ntop(ai->ai_family, p, buf, sizeof buf)) out.emplace_back(buf);
  }
  ::freeaddrinfo(res);
  return out;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Field i of each tsv line of out.
std::vector<std::string> column(const std::string& out, size_t i) {
  std::vector<std::string> col;
  for (const auto& l : split_lines(out)) {
    auto f = split_tabs(l);
    col.push_back(i < f.size() ? f[i] : std::string("<no field>"));
  }
  return col;
}

// "PREFIX" followed by a port of 1 to 5 digits (no <regex>: GCC 12 warns inside it under
// the sanitizer build, and -Werror makes that fatal).
bool is_addr_with_port(const std::string& s, const std::string& prefix) {
  if (s.compare(0, prefix.size(), prefix) != 0) return false;
  std::string port = s.substr(prefix.size());
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return true;
}
bool is_v4_loop(const std::string& s) { return is_addr_with_port(s, "127.0.0.1:"); }
bool is_v6_loop(const std::string& s) { return is_addr_with_port(s, "[::1]:"); }

}  // namespace

TEST_CASE("unix: --host localhost: the client resolves the name, sends and reads back") {
  ServerProcess s;  // 127.0.0.1
  REQUIRE(s.started());
  const std::string where = "127.0.0.1:" + std::to_string(s.udp_port());

  auto sent = dailynet("localhost", s.udp_port(), {"-v", "send", "--print-seq", "by", "name"});
  CHECK(sent.code == 0);
  CHECK(sent.out == "1\tby name\n");
  // -v says on stderr which address was used.
  CHECK(contains(sent.err, where));

  auto hist = dailynet("localhost", s.tcp_port(), {"-v", "history", "--format", "tsv"});
  CHECK(hist.code == 0);
  CHECK(column(hist.out, 3) == std::vector<std::string>{"by name"});
  CHECK(contains(hist.err, where));

  auto cl = dailynet("localhost", s.tcp_port(), {"clients", "--format", "tsv"});
  CHECK(cl.code == 0);
  CHECK(column(cl.out, 1) == std::vector<std::string>{"1"});

  // The environment names the host too.
  auto env = run({client(), "history", "--format", "tsv", "--timeout", "5"}, "", 20000,
                 {"DAILYNET_HOST=localhost", "DAILYNET_PORT=" + std::to_string(s.tcp_port())});
  CHECK(env.code == 0);
  CHECK(env.out == hist.out);
}

TEST_CASE("unix: --host localhost with both families: the address that answers is used") {
  auto addrs = resolve("localhost");
  bool has4 = false, has6 = false;
  for (const auto& a : addrs) {
    if (a == "127.0.0.1") has4 = true;
    if (a == "::1") has6 = true;
  }
  if (!has4 || !has6 || !can_bind6("::1")) {
    MESSAGE("skipped: localhost does not resolve to both 127.0.0.1 and ::1 here (or no IPv6)");
    return;
  }
  // A server on whichever family getaddrinfo lists second: the client must get past the first.
  std::string first = addrs.front();
  std::string second = first == "::1" ? "127.0.0.1" : "::1";
  ServerProcess s({"--host", second});
  REQUIRE(s.started());
  auto sent = dailynet("localhost", s.udp_port(), {"-v", "send", "--print-seq", "second try"});
  CHECK(sent.code == 0);
  CHECK(sent.out == "1\tsecond try\n");
  auto hist = dailynet("localhost", s.tcp_port(), {"-v", "history", "--format", "tsv"});
  CHECK(hist.code == 0);
  CHECK(column(hist.out, 3) == std::vector<std::string>{"second try"});
  // -v names both: the one tried first, and last the one used.
  const std::string port = std::to_string(s.tcp_port());
  const std::string used = (second == "::1" ? "[::1]:" : "127.0.0.1:") + port;
  const std::string tried = (first == "::1" ? "[::1]:" : "127.0.0.1:") + port;
  for (const std::string& err : {sent.err, hist.err}) {
    CHECK(contains(err, used));
    size_t t = err.rfind(tried);
    CHECK((t == std::string::npos || err.rfind(used) > t));
  }
}

TEST_CASE("unix: --host ::1 against a server on ::1: send, history, clients, --from") {
  if (!can_bind6("::1")) {
    MESSAGE("skipped: no IPv6 loopback (::1) on this machine");
    return;
  }
  ServerProcess s({"--host", "::1"});
  REQUIRE(s.started());
  CHECK(contains(s.start_line(), "udp=[::1]:" + std::to_string(s.udp_port())));
  CHECK(contains(s.start_line(), "tcp=[::1]:" + std::to_string(s.tcp_port())));
  const uint16_t port = s.udp_port();

  auto sent = dailynet("::1", port, {"-v", "send", "--print-seq", "over", "ipv6"});
  CHECK(sent.code == 0);
  CHECK(sent.out == "1\tover ipv6\n");
  CHECK(contains(sent.err, "[::1]:" + std::to_string(port)));

  auto hist = dailynet("::1", port, {"history", "--format", "tsv"});
  CHECK(hist.code == 0);
  auto lines = split_lines(hist.out);
  REQUIRE(lines.size() == 1);
  auto f = split_tabs(lines[0]);
  REQUIRE(f.size() == 4);
  CHECK(f[0] == "1");
  CHECK(is_v6_loop(f[2]));
  CHECK(f[3] == "over ipv6");
  const std::string sender = f[2];

  auto cl = dailynet("::1", port, {"clients", "--format", "tsv"});
  CHECK(cl.code == 0);
  CHECK(column(cl.out, 0) == std::vector<std::string>{sender});

  auto json = dailynet("::1", port, {"history", "--format", "json"});
  CHECK(json.code == 0);
  CHECK(contains(json.out, "\"from\":\"" + sender + "\""));

  CHECK(split_lines(dailynet("::1", port, {"history", "--format", "tsv", "--from", "::1"}).out).size() == 1);
  CHECK(split_lines(dailynet("::1", port, {"history", "--format", "tsv", "--from", sender}).out).size() == 1);
  CHECK(dailynet("::1", port, {"history", "--format", "tsv", "--from", "127.0.0.1"}).out == "");

  auto env = run({client(), "history", "--format", "tsv", "--timeout", "5"}, "", 20000,
                 {"DAILYNET_HOST=::1", "DAILYNET_PORT=" + std::to_string(port)});
  CHECK(env.code == 0);
  CHECK(env.out == hist.out);

  // Nothing on 127.0.0.1 at that port: exit 4, naming the address tried.
  auto v4 = dailynet("127.0.0.1", port, {"history"});
  CHECK(v4.code == 4);
  CHECK(contains(v4.err, "127.0.0.1:" + std::to_string(port)));
}

TEST_CASE("unix: a client on ::1 is refused cleanly by a server on 127.0.0.1 only") {
  if (!can_bind6("::1")) {
    MESSAGE("skipped: no IPv6 loopback (::1) on this machine");
    return;
  }
  ServerProcess s;
  REQUIRE(s.started());
  const std::string where = "[::1]:" + std::to_string(s.udp_port());
  auto sent = dailynet("::1", s.udp_port(), {"send", "nobody there"});
  CHECK(sent.code == 4);
  CHECK(contains(sent.err, where));
  CHECK(split_lines(sent.err).size() == 1);
  auto hist = dailynet("::1", s.tcp_port(), {"history"});
  CHECK(hist.code == 4);
  CHECK(contains(hist.err, where));
  CHECK(stored_texts(s).empty());
}

TEST_CASE("unix: dual-stack server (--host ::): an IPv4 client is plain 127.0.0.1:PORT") {
  if (!can_bind6("::")) {
    MESSAGE("skipped: no IPv6 on this machine, so no dual-stack socket");
    return;
  }
  ServerProcess s({"--host", "::"});
  REQUIRE(s.started());
  CHECK(contains(s.start_line(), "udp=[::]:"));
  const uint16_t port = s.udp_port();

  // A plain datagram from a known IPv4 port, then the client over IPv4, then over IPv6.
  Udp u(port, "127.0.0.1");
  REQUIRE(u.ask("plain v4\n") == std::optional<std::string>("OK 1\n"));
  const std::string raw_sender = "127.0.0.1:" + std::to_string(u.local_port());
  auto v4 = dailynet("127.0.0.1", port, {"send", "--print-seq", "client v4"});
  CHECK(v4.code == 0);
  CHECK(v4.out == "2\tclient v4\n");
  bool have6 = can_bind6("::1");
  if (have6) {
    auto v6 = dailynet("::1", port, {"send", "--print-seq", "client v6"});
    CHECK(v6.code == 0);
    CHECK(v6.out == "3\tclient v6\n");
  }

  // history --format tsv, read over IPv4 and over IPv6: the same lines.
  auto hist = dailynet("127.0.0.1", port, {"history", "--format", "tsv"});
  CHECK(hist.code == 0);
  CHECK_FALSE(contains(hist.out, "::ffff:"));
  auto senders = column(hist.out, 2);
  REQUIRE(senders.size() == (have6 ? 3u : 2u));
  CHECK(senders[0] == raw_sender);
  CHECK(is_v4_loop(senders[1]));
  if (have6) {
    CHECK(is_v6_loop(senders[2]));
    auto hist6 = dailynet("::1", port, {"history", "--format", "tsv"});
    CHECK(hist6.code == 0);
    CHECK(hist6.out == hist.out);
  }

  // clients: one line per IP:PORT in order of first note, IPv4 ones plain.
  auto cl = dailynet("127.0.0.1", port, {"clients", "--format", "tsv"});
  CHECK(cl.code == 0);
  CHECK_FALSE(contains(cl.out, "::ffff:"));
  CHECK(column(cl.out, 0) == senders);
  CHECK(column(cl.out, 1) == std::vector<std::string>(senders.size(), "1"));

  // text and json, and the interactive-style text table: plain IPv4 too.
  auto text = dailynet("127.0.0.1", port, {"history", "--format", "text", "-n"});
  CHECK(text.code == 0);
  CHECK(contains(text.out, raw_sender));
  CHECK_FALSE(contains(text.out, "::ffff:"));
  auto json = dailynet("127.0.0.1", port, {"history", "--format", "json"});
  CHECK(json.code == 0);
  CHECK(contains(json.out, "\"from\":\"" + raw_sender + "\""));
  CHECK_FALSE(contains(json.out, "::ffff:"));
  auto cl_text = dailynet("127.0.0.1", port, {"clients", "-n"});
  CHECK(cl_text.code == 0);
  CHECK(contains(cl_text.out, raw_sender));
  CHECK_FALSE(contains(cl_text.out, "::ffff:"));

  // --from takes the plain IPv4 forms.
  auto from_ip = dailynet("127.0.0.1", port, {"history", "--format", "tsv", "--from", "127.0.0.1"});
  CHECK(from_ip.code == 0);
  CHECK(column(from_ip.out, 3) == std::vector<std::string>{"plain v4", "client v4"});
  auto from_one = dailynet("127.0.0.1", port, {"history", "--format", "tsv", "--from", raw_sender});
  CHECK(column(from_one.out, 3) == std::vector<std::string>{"plain v4"});
  if (have6) {
    auto from6 = dailynet("127.0.0.1", port, {"history", "--format", "tsv", "--from", "::1"});
    CHECK(column(from6.out, 3) == std::vector<std::string>{"client v6"});
  }
}
