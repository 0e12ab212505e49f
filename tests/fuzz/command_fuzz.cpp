// command_fuzz.cpp — libFuzzer target for the TCP side's parsers: parse_command on arbitrary
// lines (exactly one outcome, printable error texts, canonical re-serialisation with
// to_wire() parses to the same command and filters), parse_addr_filter, parse_cidr, parse_time_ms, and parse_note_line
// (when a line parses, append_note_line writes it back byte for byte).
// Build: make build/fuzz/command   Run: build/fuzz/command tests/fuzz/corpus/command
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "../../common/net.hpp"
#include "../../common/protocol.hpp"
#include "fuzz_assert.hpp"

namespace {

bool blank(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  for (char c : s)
    if (c != ' ' && c != '\t') return false;
  return true;
}

std::string filter_text(const AddrFilter& f) {
  bool v6 = f.ip.find(':') != std::string::npos;
  if (f.any_port()) return f.ip;
  return (v6 ? "[" + f.ip + "]" : f.ip) + ":" + std::to_string(f.port);
}

void check_command(std::string_view line) {
  ParsedCommand p = parse_command(line);
  if (p.command) {
    FUZZ_ASSERT(p.error.empty());
  } else if (p.error.empty()) {
    FUZZ_ASSERT(blank(line));
    return;
  } else {
    FUZZ_ASSERT(!blank(line));
    // the error goes on the wire after "ERR ": one line of printable ASCII, bounded
    for (char c : p.error) FUZZ_ASSERT(c >= 0x20 && c < 0x7F);
    FUZZ_ASSERT(p.error.size() <= 120);
    return;
  }
  const Command& c = *p.command;
  using K = Command::Kind;
  if (c.kind != K::history && c.kind != K::follow) FUZZ_ASSERT(c.filters.given == 0);
  if (c.kind != K::clients) FUZZ_ASSERT(!c.hosts);

  // The canonical spelling parses to the same command.
  static const char* names[] = {"HISTORY", "CLIENTS", "FOLLOW", "STATS", "PING", "QUIT"};
  std::string canon = names[static_cast<int>(c.kind)];
  canon += to_wire(c.filters);
  if (c.hosts) canon += " HOSTS";
  ParsedCommand q = parse_command(canon);
  FUZZ_ASSERT(q.command.has_value());
  const Filters &a = c.filters, &b = q.command->filters;
  FUZZ_ASSERT(q.command->kind == c.kind);
  FUZZ_ASSERT(q.command->hosts == c.hosts);
  FUZZ_ASSERT(b.since_seq == a.since_seq && b.since_ms == a.since_ms);
  FUZZ_ASSERT(b.until_ms == a.until_ms && b.last == a.last);
  // a MATCH text keeps everything but a '\r' at the very end (the line terminator)
  FUZZ_ASSERT(b.match == a.match || (!a.match.empty() && a.match.back() == '\r'));
  FUZZ_ASSERT(b.from.has_value() == a.from.has_value());
  if (a.from) {
    FUZZ_ASSERT(b.from->ip == a.from->ip);
    FUZZ_ASSERT(b.from->port == a.from->port);
  }
}

void check_filter(std::string_view s) {
  auto f = parse_addr_filter(s);
  if (!f) return;
  FUZZ_ASSERT(!f->ip.empty());
  auto g = parse_addr_filter(filter_text(*f));  // canonical text is a fixed point
  FUZZ_ASSERT(g.has_value());
  FUZZ_ASSERT(g->ip == f->ip && g->port == f->port);
  FUZZ_ASSERT(SockAddr::from_ip(f->ip, f->port).has_value());
}

void check_cidr(std::string_view s) {
  auto c = parse_cidr(s);
  if (!c) return;
  FUZZ_ASSERT(c->family == AF_INET || c->family == AF_INET6);
  FUZZ_ASSERT(c->prefix >= 0 && c->prefix <= (c->family == AF_INET ? 32 : 128));
  // the network's own address is inside it
  SockAddr a;
  if (c->family == AF_INET) {
    sockaddr_in s4{};
    s4.sin_family = AF_INET;
    std::memcpy(&s4.sin_addr, c->bytes, 4);
    std::memcpy(&a.ss, &s4, sizeof s4);
    a.len = sizeof s4;
  } else {
    sockaddr_in6 s6{};
    s6.sin6_family = AF_INET6;
    std::memcpy(&s6.sin6_addr, c->bytes, 16);
    std::memcpy(&a.ss, &s6, sizeof s6);
    a.len = sizeof s6;
  }
  FUZZ_ASSERT(c->contains(a));
}

void check_time(std::string_view s) {
  auto ms = parse_time_ms(s);
  if (!ms) return;
  FUZZ_ASSERT(*ms >= 0);
  char buf[kTimeLen];
  format_time_ms(*ms, buf);
  FUZZ_ASSERT(std::string_view(buf, kTimeLen) == s);  // one text per instant, no lax dates
}

void check_note_line(std::string_view line) {
  auto n = parse_note_line(line);
  if (!n) return;
  FUZZ_ASSERT(n->seq >= 1);
  auto ms = parse_time_ms(n->time);
  FUZZ_ASSERT(ms.has_value());
  FUZZ_ASSERT(validate_note(n->text, SIZE_MAX).ok());
  FUZZ_ASSERT(parse_endpoint(n->addr).has_value());
  std::string out;
  append_note_line(out, n->seq, *ms, n->addr, n->text);
  FUZZ_ASSERT(out.size() == line.size() + 1 && out.compare(0, line.size(), line) == 0 &&
              out.back() == '\n');  // the line comes back byte for byte
  FUZZ_ASSERT(!addr_ip_part(n->addr).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_command(in);
  check_filter(in);
  check_cidr(in);
  check_time(in);
  check_note_line(in);
  // a line as the session cuts it: up to the first '\n'
  size_t nl = in.find('\n');
  if (nl != std::string_view::npos) {
    check_command(in.substr(0, nl));
    check_note_line(in.substr(0, nl));
  }
  (void)parse_u64(in);
  (void)parse_endpoint(in);
  return 0;
}
