// main.cpp — dailynetd: command-line options, then Server. Wiring only.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../common/net.hpp"
#include "log.hpp"
#include "server.hpp"

#ifndef DAILYNET_VERSION
#define DAILYNET_VERSION "0.1.0"
#endif

namespace {

const char kUsage[] =
    "usage: dailynetd [options]\n"
    "\n"
    "The dailynet notes server: UDP note intake and TCP history on one port.\n"
    "\n"
    "  --host ADDR           address to bind, IPv4 or IPv6 literal; :: = all, dual stack\n"
    "                        (default 127.0.0.1)\n"
    "  --port N              UDP and TCP port; 0 = any free port (default 9527)\n"
    "  --udp-port N          UDP port alone\n"
    "  --tcp-port N          TCP port alone\n"
    "  --data DIR            store directory, created if missing (default ./dailynet-data)\n"
    "  --fsync MODE          always (OK after fdatasync, group commit; default),\n"
    "                        everysec (OK after write, fdatasync within 1 s), never\n"
    "  --allow CIDR          only these networks may write or read; repeatable (default all)\n"
    "  --max-note BYTES      largest note accepted, 1..60000 (default 4096)\n"
    "  --idle-timeout SEC    close TCP connections idle this long (default 60)\n"
    "  --max-clients N       TCP connections at once, at most 1000 (default 1000)\n"
    "  --rate N              notes per second per source IP; 0 = unlimited (default 0)\n"
    "  --rate-burst N        notes a source may send at once (default max(N, 64))\n"
    "  --repair              move damaged store bytes to a side file and start\n"
    "  -q, --quiet           no log lines on stderr\n"
    "  -h, --help            this text\n"
    "  -V, --version         the version\n"
    "\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM; 1 runtime failure; 2 usage error;\n"
    "3 store locked, damaged or unreadable; 4 address cannot be bound.\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "dailynetd: %s (see dailynetd --help)\n", msg.c_str());
  std::exit(Server::kExitUsage);
}

uint64_t number(const char* opt, const char* v, uint64_t lo, uint64_t hi) {
  auto n = parse_u64(v ? v : "");
  if (!n || *n < lo || *n > hi)
    usage_error(std::string(opt) + " wants a number from " + std::to_string(lo) + " to " +
                std::to_string(hi) + ", not '" + (v ? v : "") + "'");
  return *n;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  enum {
    kHost = 1000, kPort, kUdpPort, kTcpPort, kData, kFsync, kAllow, kMaxNote, kIdle,
    kMaxClients, kRate, kRateBurst, kRepair
  };
  static const option opts[] = {
      {"host", required_argument, nullptr, kHost},
      {"port", required_argument, nullptr, kPort},
      {"udp-port", required_argument, nullptr, kUdpPort},
      {"tcp-port", required_argument, nullptr, kTcpPort},
      {"data", required_argument, nullptr, kData},
      {"fsync", required_argument, nullptr, kFsync},
      {"allow", required_argument, nullptr, kAllow},
      {"max-note", required_argument, nullptr, kMaxNote},
      {"idle-timeout", required_argument, nullptr, kIdle},
      {"max-clients", required_argument, nullptr, kMaxClients},
      {"rate", required_argument, nullptr, kRate},
      {"rate-burst", required_argument, nullptr, kRateBurst},
      {"repair", no_argument, nullptr, kRepair},
      {"quiet", no_argument, nullptr, 'q'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "qhV", opts, nullptr)) != -1) {
    switch (c) {
      case kHost: cfg.host = optarg; break;
      case kPort: cfg.udp_port = cfg.tcp_port = static_cast<uint16_t>(number("--port", optarg, 0, 65535)); break;
      case kUdpPort: cfg.udp_port = static_cast<uint16_t>(number("--udp-port", optarg, 0, 65535)); break;
      case kTcpPort: cfg.tcp_port = static_cast<uint16_t>(number("--tcp-port", optarg, 0, 65535)); break;
      case kData: cfg.data_dir = optarg; break;
      case kFsync: {
        std::string m = optarg;
        if (m == "always") cfg.fsync = FsyncMode::always;
        else if (m == "everysec") cfg.fsync = FsyncMode::everysec;
        else if (m == "never") cfg.fsync = FsyncMode::never;
        else usage_error("--fsync wants always, everysec or never, not '" + m + "'");
        break;
      }
      case kAllow: {
        auto cidr = parse_cidr(optarg);
        if (!cidr) usage_error(std::string("--allow wants a network like 10.0.0.0/8 or fd00::/8, not '") + optarg + "'");
        cfg.allow.push_back(*cidr);
        cfg.allow_text.push_back(optarg);
        break;
      }
      case kMaxNote: cfg.max_note = number("--max-note", optarg, 1, 60000); break;
      case kIdle: cfg.idle_timeout_s = static_cast<int>(number("--idle-timeout", optarg, 1, 86400)); break;
      case kMaxClients: cfg.max_clients = static_cast<int>(number("--max-clients", optarg, 1, 1000)); break;
      case kRate: cfg.rate = static_cast<double>(number("--rate", optarg, 0, 100000000)); break;
      case kRateBurst: cfg.rate_burst = static_cast<double>(number("--rate-burst", optarg, 1, 100000000)); break;
      case kRepair: cfg.repair = true; break;
      case 'q': cfg.quiet = true; break;
      case 'h': std::fputs(kUsage, stdout); return 0;
      case 'V': std::puts("dailynetd " DAILYNET_VERSION); return 0;
      case '?':
      default:
        if (optopt) usage_error(std::string("option -") + static_cast<char>(optopt) + " is unknown or needs a value");
        usage_error(std::string("option ") + argv[optind - 1] + " is unknown or needs a value");
    }
  }
  if (optind < argc) usage_error(std::string("unexpected argument '") + argv[optind] + "'");
  set_log_quiet(cfg.quiet);
  Server server(std::move(cfg));
  std::string error;
  if (int rc = server.start(error); rc != Server::kExitOk) {
    std::fprintf(stderr, "dailynetd: %s\n", error.c_str());
    return rc;
  }
  return server.run();
}
