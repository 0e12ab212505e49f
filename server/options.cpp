// options.cpp — see options.hpp. One table, kOptions, holds every option: its name, its
// argument, its --help text and how it sets Config. The getopt_long table and the usage text
// are built from it, so an option can not be parsed without being documented.
#include "options.hpp"

#include <getopt.h>

#include <algorithm>
#include <cassert>
#include <string_view>
#include <vector>

#include "../common/net.hpp"

namespace {

// Stores value into out and returns "", or returns a usage error.
using Apply = std::string (*)(ServerOptions& out, const char* value);

struct OptionSpec {
  const char* name;  // long name, without "--"
  char short_name;   // 0: none
  const char* arg;   // nullptr: a flag without a value
  const char* help;  // lines after the first are indented under it
  Apply apply;
};

// A number in [lo, hi], or an error naming the option.
std::string number(const char* opt, const char* v, uint64_t lo, uint64_t hi, uint64_t& out) {
  auto n = parse_u64(v ? v : "");
  if (!n || *n < lo || *n > hi)
    return std::string(opt) + " wants a number from " + std::to_string(lo) + " to " +
           std::to_string(hi) + ", not '" + (v ? v : "") + "'";
  out = *n;
  return {};
}

std::string port(const char* opt, const char* v, uint16_t& out) {
  uint64_t n = 0;
  std::string e = number(opt, v, 0, 65535, n);
  out = static_cast<uint16_t>(n);
  return e;
}

template <typename T>
std::string bounded(const char* opt, const char* v, uint64_t lo, uint64_t hi, T& out) {
  uint64_t n = 0;
  std::string e = number(opt, v, lo, hi, n);
  if (e.empty()) out = static_cast<T>(n);
  return e;
}

const OptionSpec kOptions[] = {
    {"host", 0, "ADDR",
     "address to bind, IPv4 or IPv6 literal; :: = all, dual stack\n(default 127.0.0.1)",
     [](ServerOptions& o, const char* v) {
       o.config.host = v;
       return std::string();
     }},
    {"port", 0, "N", "UDP and TCP port; 0 = any free port (default 9527)",
     [](ServerOptions& o, const char* v) {
       std::string e = port("--port", v, o.config.udp_port);
       o.config.tcp_port = o.config.udp_port;
       return e;
     }},
    {"udp-port", 0, "N", "UDP port alone",
     [](ServerOptions& o, const char* v) { return port("--udp-port", v, o.config.udp_port); }},
    {"tcp-port", 0, "N", "TCP port alone",
     [](ServerOptions& o, const char* v) { return port("--tcp-port", v, o.config.tcp_port); }},
    {"data", 0, "DIR", "store directory, created if missing (default ./dailynet-data)",
     [](ServerOptions& o, const char* v) {
       o.config.data_dir = v;
       return std::string();
     }},
    {"fsync", 0, "MODE",
     "always (OK after fdatasync, group commit; default),\n"
     "everysec (OK after write, fdatasync within 1 s), never",
     [](ServerOptions& o, const char* v) {
       std::string_view m = v;
       if (m == "always") o.config.fsync = FsyncMode::always;
       else if (m == "everysec") o.config.fsync = FsyncMode::everysec;
       else if (m == "never") o.config.fsync = FsyncMode::never;
       else return "--fsync wants always, everysec or never, not '" + std::string(m) + "'";
       return std::string();
     }},
    {"allow", 0, "CIDR", "only these networks may write or read; repeatable (default all)",
     [](ServerOptions& o, const char* v) {
       auto cidr = parse_cidr(v);
       if (!cidr)
         return "--allow wants a network like 10.0.0.0/8 or fd00::/8, not '" + std::string(v) +
                "'";
       o.config.allow.push_back(*cidr);
       o.config.allow_text.push_back(v);
       return std::string();
     }},
    {"max-note", 0, "BYTES", "largest note accepted, 1..60000 (default 4096)",
     [](ServerOptions& o, const char* v) {
       return bounded("--max-note", v, 1, 60000, o.config.max_note);
     }},
    {"idle-timeout", 0, "SEC", "close TCP connections idle this long (default 60)",
     [](ServerOptions& o, const char* v) {
       return bounded("--idle-timeout", v, 1, 86400, o.config.idle_timeout_s);
     }},
    {"max-clients", 0, "N", "TCP connections at once, at most 1000 (default 1000)",
     [](ServerOptions& o, const char* v) {
       return bounded("--max-clients", v, 1, 1000, o.config.max_clients);
     }},
    {"rate", 0, "N", "notes per second per source IP; 0 = unlimited (default 0)",
     [](ServerOptions& o, const char* v) {
       return bounded("--rate", v, 0, 100000000, o.config.rate);
     }},
    {"rate-burst", 0, "N", "notes a source may send at once (default max(N, 64))",
     [](ServerOptions& o, const char* v) {
       return bounded("--rate-burst", v, 1, 100000000, o.config.rate_burst);
     }},
    {"http", 0, "on|off", "serve HTTP (the notebook page) on the TCP port too (default on)",
     [](ServerOptions& o, const char* v) {
       std::string_view s = v;
       if (s != "on" && s != "off") return "--http wants on or off, not '" + std::string(s) + "'";
       o.config.http = s == "on";
       return std::string();
     }},
    {"http-host", 0, "NAME",
     "a host name the HTTP side answers to, besides IP literals\nand localhost; repeatable",
     [](ServerOptions& o, const char* v) {
       std::string_view s = v;
       bool ok = !s.empty() && s.size() <= 253;
       for (char ch : s)
         ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.');
       if (!ok) return "--http-host wants a host name like notes.lan, not '" + std::string(s) + "'";
       o.config.http_hosts.emplace_back(s);
       return std::string();
     }},
    {"repair", 0, nullptr, "move damaged store bytes to a side file and start",
     [](ServerOptions& o, const char*) {
       o.config.repair = true;
       return std::string();
     }},
    {"quiet", 'q', nullptr, "no log lines on stderr",
     [](ServerOptions& o, const char*) {
       o.config.quiet = true;
       return std::string();
     }},
    {"help", 'h', nullptr, "this text",
     [](ServerOptions& o, const char*) {
       o.action = ServerAction::help;
       return std::string();
     }},
    {"version", 'V', nullptr, "the version",
     [](ServerOptions& o, const char*) {
       o.action = ServerAction::version;
       return std::string();
     }},
};
constexpr int kCount = static_cast<int>(sizeof kOptions / sizeof kOptions[0]);
constexpr int kLongBase = 1000;  // getopt value of kOptions[i] without a short name: base + i

// The option's index in kOptions for a getopt_long return value, or -1.
int find(int c) {
  if (c >= kLongBase && c < kLongBase + kCount) return c - kLongBase;
  for (int i = 0; i < kCount; ++i)
    if (kOptions[i].short_name && kOptions[i].short_name == c) return i;
  return -1;
}

}  // namespace

std::string server_usage() {
  constexpr size_t kHelpColumn = 24;
  std::string s =
      "usage: dailynetd [options]\n"
      "\n"
      "The dailynet notes server: UDP note intake and TCP history on one port.\n"
      "\n";
  for (const OptionSpec& o : kOptions) {
    std::string head = "  ";
    if (o.short_name) head += std::string("-") + o.short_name + ", ";
    head += std::string("--") + o.name;
    if (o.arg) head += std::string(" ") + o.arg;
    head.resize(std::max(head.size() + 1, kHelpColumn), ' ');
    s += head;
    for (const char* p = o.help; *p; ++p) {
      s += *p;
      if (*p == '\n') s.append(kHelpColumn, ' ');
    }
    s += '\n';
  }
  s += "\n"
       "Exit status: 0 stopped by SIGINT/SIGTERM; 1 runtime failure; 2 usage error;\n"
       "3 store locked, damaged or unreadable; 4 address cannot be bound.\n";
  return s;
}

ServerOptions parse_server_options(int argc, char** argv) {
  ServerOptions out;
  std::string shorts;
  std::vector<option> longs;
  for (int i = 0; i < kCount; ++i) {
    const OptionSpec& o = kOptions[i];
    int val = o.short_name ? o.short_name : kLongBase + i;
    longs.push_back({o.name, o.arg ? required_argument : no_argument, nullptr, val});
    if (o.short_name) shorts += o.arg ? std::string{o.short_name, ':'} : std::string{o.short_name};
  }
  longs.push_back({nullptr, 0, nullptr, 0});
  optind = 0;  // glibc: a full reset, so the parser can run more than once
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, shorts.c_str(), longs.data(), nullptr)) != -1) {
    int i = find(c);
    if (i < 0) {
      if (optopt && optopt < kLongBase)
        out.error = std::string("option -") + static_cast<char>(optopt) +
                    " is unknown or needs a value";
      else
        out.error = std::string("option ") + argv[optind - 1] + " is unknown or needs a value";
      return out;
    }
    assert(!kOptions[i].arg || optarg);  // getopt guarantees a required argument
    out.error = kOptions[i].apply(out, optarg);
    if (!out.ok() || out.action != ServerAction::run) return out;
  }
  if (optind < argc) out.error = std::string("unexpected argument '") + argv[optind] + "'";
  return out;
}
