// options.cpp — see options.hpp. One getopt_long table holds every option; afterwards each
// given option is checked against the subcommand, so `dailynet --from X send` is a usage error
// that names the option, and options may stand anywhere.
#include "options.hpp"

#include <getopt.h>

#include <string_view>

#include "../common/clock.hpp"
#include "../common/net.hpp"
#include "when.hpp"

namespace client {

namespace {

enum Opt : int {
  kOptHost = 1000, kOptPort, kOptUdpPort, kOptTcpPort, kOptFormat, kOptTimeout, kOptPrintSeq,
  kOptWindow, kOptFrom, kOptSince, kOptLast, kOptNoPager, kOptVerbose, kOptHelp, kOptVersion,
  kOptUntil, kOptGrep, kOptHosts, kOptNumeric, kOptEnd
};

// Which subcommands an option applies to (bit per Command value).
constexpr unsigned bit(Command c) { return 1u << static_cast<unsigned>(c); }
constexpr unsigned kAll = 0xFFFFu;
constexpr unsigned kSendLike = bit(Command::none) | bit(Command::send);
constexpr unsigned kQueries = bit(Command::history) | bit(Command::follow) | bit(Command::help);

struct OptInfo {
  int id;
  const char* name;
  unsigned applies;
};

constexpr OptInfo kOptInfo[] = {
    {kOptHost, "--host", kAll},
    {kOptPort, "--port", kAll},
    {kOptUdpPort, "--udp-port", kAll},
    {kOptTcpPort, "--tcp-port", kAll},
    {kOptFormat, "--format",
     bit(Command::none) | bit(Command::history) | bit(Command::follow) |
         bit(Command::clients) | bit(Command::stats) | bit(Command::help)},
    {kOptTimeout, "--timeout", kAll},
    {kOptPrintSeq, "--print-seq", kSendLike | bit(Command::help)},
    {kOptWindow, "--window", kSendLike | bit(Command::help)},
    {kOptFrom, "--from", kQueries | bit(Command::none)},
    {kOptSince, "--since", kQueries | bit(Command::none)},
    {kOptUntil, "--until", kQueries | bit(Command::none)},
    {kOptLast, "--last", kQueries | bit(Command::none)},
    {kOptGrep, "--grep", kQueries | bit(Command::none)},
    {kOptHosts, "--hosts", bit(Command::clients) | bit(Command::help)},
    {kOptNumeric, "-n", kQueries | bit(Command::clients)},
    {kOptNoPager, "--no-pager", bit(Command::none) | bit(Command::help)},
    {kOptVerbose, "--verbose", kAll},
    {kOptHelp, "--help", kAll},
    {kOptVersion, "--version", kAll},
};

const option kLongOptions[] = {
    {"host", required_argument, nullptr, kOptHost},
    {"port", required_argument, nullptr, kOptPort},
    {"udp-port", required_argument, nullptr, kOptUdpPort},
    {"tcp-port", required_argument, nullptr, kOptTcpPort},
    {"format", required_argument, nullptr, kOptFormat},
    {"timeout", required_argument, nullptr, kOptTimeout},
    {"print-seq", no_argument, nullptr, kOptPrintSeq},
    {"window", required_argument, nullptr, kOptWindow},
    {"from", required_argument, nullptr, kOptFrom},
    {"since", required_argument, nullptr, kOptSince},
    {"last", required_argument, nullptr, kOptLast},
    {"until", required_argument, nullptr, kOptUntil},
    {"grep", required_argument, nullptr, kOptGrep},
    {"hosts", no_argument, nullptr, kOptHosts},
    {"numeric", no_argument, nullptr, kOptNumeric},
    {"no-pager", no_argument, nullptr, kOptNoPager},
    {"verbose", no_argument, nullptr, kOptVerbose},
    {"help", no_argument, nullptr, kOptHelp},
    {"version", no_argument, nullptr, kOptVersion},
    {nullptr, 0, nullptr, 0},
};

std::optional<Command> command_from_name(std::string_view s) {
  if (s == "send") return Command::send;
  if (s == "history") return Command::history;
  if (s == "clients") return Command::clients;
  if (s == "follow") return Command::follow;
  if (s == "stats") return Command::stats;
  if (s == "help") return Command::help;
  return std::nullopt;
}

std::optional<uint64_t> number_in(const char* v, uint64_t lo, uint64_t hi) {
  auto n = parse_u64(v ? v : "");
  if (!n || *n < lo || *n > hi) return std::nullopt;
  return n;
}

// "[::1]" -> "::1": an IPv6 literal may be written in brackets, as in a URL or IP:PORT
// form; getaddrinfo wants it bare.
std::string bare_host(std::string_view h) {
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return std::string(h);
}

std::string range_error(const char* what, const char* v, uint64_t lo, uint64_t hi) {
  return std::string(what) + " wants a number from " + std::to_string(lo) + " to " +
         std::to_string(hi) + ", not '" + (v ? v : "") + "'";
}

}  // namespace

const char* command_name(Command c) noexcept {
  switch (c) {
    case Command::none: return "dailynet";
    case Command::send: return "send";
    case Command::history: return "history";
    case Command::clients: return "clients";
    case Command::follow: return "follow";
    case Command::stats: return "stats";
    case Command::help: return "help";
  }
  return "?";
}

ParseResult parse_command_line(int argc, char** argv, const EnvLookup& env, int64_t now_ms) {
  if (now_ms < 0) now_ms = wall_ms();
  ParseResult r;
  Options& o = r.options;
  auto fail = [&r](std::string msg) {
    if (r.error.empty()) r.error = std::move(msg);
  };

  if (const char* h = env("DAILYNET_HOST"); h && *h) o.host = bare_host(h);
  if (const char* p = env("DAILYNET_PORT"); p && *p) {
    auto n = number_in(p, 1, 65535);
    if (!n) {
      fail(range_error("DAILYNET_PORT", p, 1, 65535));
      return r;
    }
    o.udp_port = o.tcp_port = static_cast<uint16_t>(*n);
  }

  bool seen[kOptEnd - kOptHost] = {};
  bool command_set = false;
  // "-" first: operands come back in order as option 1, whatever POSIXLY_CORRECT says; this
  // is what lets options stand before and after the subcommand.
  optind = 0;  // glibc: a full re-initialisation
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "-:hvVn", kLongOptions, nullptr)) != -1) {
    if (c == 'h') c = kOptHelp;
    if (c == 'n') c = kOptNumeric;
    if (c == 'v') c = kOptVerbose;
    if (c == 'V') c = kOptVersion;
    if (c >= kOptHost && c < kOptEnd) {
      // A filter given twice would be one the server refuses (each FILTERS word once), or
      // one silently lost: a usage error here.
      bool filter = c == kOptFrom || c == kOptSince || c == kOptUntil || c == kOptLast ||
                    c == kOptGrep;
      if (filter && seen[c - kOptHost]) {
        for (const OptInfo& info : kOptInfo)
          if (info.id == c) fail(std::string(info.name) + " given twice (each filter once)");
        return r;
      }
      seen[c - kOptHost] = true;
    }
    switch (c) {
      case 1:
        if (!command_set) {
          auto cmd = command_from_name(optarg);
          if (!cmd) {
            fail(std::string("unknown command '") + optarg +
                 "' (commands: send, history, clients, follow, stats, help; to send it as a "
                 "note: dailynet send '" + optarg + "')");
            return r;
          }
          o.command = *cmd;
          command_set = true;
        } else {
          o.args.emplace_back(optarg);
        }
        break;
      case kOptHost:
        o.host = bare_host(optarg);
        if (o.host.empty() || o.host == "[]") fail("--host wants a host name or address");
        break;
      case kOptPort:
      case kOptUdpPort:
      case kOptTcpPort: {
        const char* name = c == kOptPort ? "--port" : c == kOptUdpPort ? "--udp-port"
                                                                       : "--tcp-port";
        auto n = number_in(optarg, 1, 65535);
        if (!n) {
          fail(range_error(name, optarg, 1, 65535));
          break;
        }
        if (c != kOptTcpPort) o.udp_port = static_cast<uint16_t>(*n);
        if (c != kOptUdpPort) o.tcp_port = static_cast<uint16_t>(*n);
        break;
      }
      case kOptFormat: {
        std::string_view f = optarg;
        if (f == "text") o.format = Format::text;
        else if (f == "tsv") o.format = Format::tsv;
        else if (f == "json") o.format = Format::json;
        else fail(std::string("--format wants text, tsv or json, not '") + optarg + "'");
        break;
      }
      case kOptTimeout: {
        auto n = number_in(optarg, 1, 86400);
        if (!n) fail(range_error("--timeout", optarg, 1, 86400));
        else o.timeout_s = static_cast<int>(*n);
        break;
      }
      case kOptPrintSeq: o.print_seq = true; break;
      case kOptWindow: {
        auto n = number_in(optarg, 1, 64);
        if (!n) fail(range_error("--window", optarg, 1, 64));
        else o.window = static_cast<int>(*n);
        break;
      }
      case kOptFrom:
        o.filters.from = parse_addr_filter(optarg);
        if (!o.filters.from)
          fail(std::string("--from wants an address, IP or IP:PORT ([V6]:PORT), not '") +
               optarg + "' (e.g. --from 192.168.1.20)");
        break;
      case kOptSince:
      case kOptUntil: {
        const bool since = c == kOptSince;
        auto w = parse_when(optarg, now_ms, since);
        if (!w) {
          fail(when_error(since ? "--since" : "--until", optarg));
        } else if (w->seq) {
          o.filters.since_seq = *w->seq;
        } else {
          (since ? o.filters.since_ms : o.filters.until_ms) = w->ms;
        }
        break;
      }
      case kOptLast: {
        auto n = parse_u64(optarg);
        if (!n)
          fail(std::string("--last wants a number of notes, not '") + optarg +
               "' (e.g. --last 20)");
        else
          o.filters.last = *n;
        break;
      }
      case kOptGrep:
        if (!*optarg) fail("--grep wants a text to look for, not '' (e.g. --grep plumber)");
        else if (std::string_view(optarg).find('\n') != std::string_view::npos)
          fail("--grep wants one line of text (e.g. --grep plumber)");
        else if (std::string_view(optarg).size() > 900)
          fail("--grep wants at most 900 bytes of text (e.g. --grep plumber)");
        o.filters.match = optarg;
        break;
      case kOptHosts: o.hosts = true; break;
      case kOptNumeric: o.numeric = true; break;
      case kOptNoPager: o.no_pager = true; break;
      case kOptVerbose: o.verbose = true; break;
      case kOptHelp: o.help = true; break;
      case kOptVersion: o.version = true; break;
      case ':':
        fail(std::string("option ") + (optind > 0 && optind <= argc ? argv[optind - 1] : "?") +
             " needs a value");
        break;
      case '?':
      default:
        if (optopt && optopt < 256)
          fail(std::string("unknown option -") + static_cast<char>(optopt));
        else
          fail(std::string("unknown option ") +
               (optind > 0 && optind <= argc ? argv[optind - 1] : "?"));
        break;
    }
    if (!r.error.empty()) return r;
  }
  // After "--": the rest are operands.
  for (int i = optind; i < argc; ++i) {
    if (!command_set) {
      auto cmd = command_from_name(argv[i]);
      if (!cmd) {
        fail(std::string("unknown command '") + argv[i] + "'");
        return r;
      }
      o.command = *cmd;
      command_set = true;
    } else {
      o.args.emplace_back(argv[i]);
    }
  }

  if (o.command == Command::help) {
    o.help = true;
    if (o.args.size() > 1) {
      fail("help takes at most one command");
      return r;
    }
    if (!o.args.empty()) {
      auto t = command_from_name(o.args[0]);
      if (!t) {
        fail("no help for unknown command '" + o.args[0] + "'");
        return r;
      }
      o.help_topic = *t == Command::help ? Command::none : *t;
    }
    return r;
  }
  if (o.help) {
    o.help_topic = o.command;
    return r;  // `CMD --help` shows help whatever else was given
  }
  for (const OptInfo& info : kOptInfo) {
    if (seen[info.id - kOptHost] && !(info.applies & bit(o.command))) {
      fail(std::string("option ") + info.name + " does not apply to " +
           (o.command == Command::none ? std::string("dailynet without a command")
                                       : std::string(command_name(o.command))));
      return r;
    }
  }
  if (!o.args.empty() && o.command != Command::send) {
    fail(std::string("unexpected argument '") + o.args[0] + "' for " + command_name(o.command));
    return r;
  }
  return r;
}

namespace {

const char kExitStatus[] =
    "Exit status:\n"
    "  0  all done: every note acknowledged, every request answered\n"
    "  1  a note or a request was refused (by the server, or by the local check)\n"
    "  2  usage error\n"
    "  3  no acknowledgement or no answer: the server stopped answering, a note may\n"
    "     not be stored (the session: notes left pending in the outbox)\n"
    "  4  server unreachable, or the connection failed\n";

const char kCommon[] =
    "Common options (before or after the command):\n"
    "  --host HOST       server name or address (env DAILYNET_HOST; default 127.0.0.1)\n"
    "  --port N          server port, UDP and TCP (env DAILYNET_PORT; default 9527)\n"
    "  --udp-port N      UDP port alone (notes)\n"
    "  --tcp-port N      TCP port alone (history and queries)\n"
    "  --timeout SEC     give up after SEC seconds in which the server acknowledged\n"
    "                    nothing (default 10)\n"
    "  -v, --verbose     say on stderr which address is used, and what happened\n"
    "  -h, --help        help; `dailynet COMMAND --help` for one command\n"
    "  -V, --version     the version\n";

const char kFormat[] =
    "  --format FMT      text: local time, aligned, for people (default)\n"
    "                    tsv: the wire line SEQ<TAB>TIME<TAB>ADDR<TAB>TEXT, byte for byte\n"
    "                    json: one object per line {\"seq\",\"time\",\"from\",\"text\"}\n";

const char kFilterHelp[] =
    "  --from ADDR       only notes from ADDR: IP (every port of that host) or IP:PORT\n"
    "  --since WHEN      only notes after seq WHEN (digits), or stored at or after WHEN:\n"
    "                    2026-11-30 (local midnight), 2026-11-30T08:15[:30] (local time;\n"
    "                    add Z for UTC), today, yesterday, or 30m, 2h, 7d before now\n"
    "  --until WHEN      only notes stored before WHEN (a date or time, as --since)\n"
    "  --last N          only the last N of the notes that pass the other filters\n"
    "  --grep TEXT       only notes whose text contains TEXT (ASCII letters in any case)\n"
    "  -n, --numeric     show addresses as numbers (no reverse lookup)\n";

const char kFormatClients[] =
    "  --format FMT      text: aligned columns with local times, for people (default)\n"
    "                    tsv: the wire line ADDR<TAB>NOTES<TAB>FIRST<TAB>LAST (--hosts:\n"
    "                    IP<TAB>NOTES<TAB>FIRST<TAB>LAST<TAB>PORTS)\n"
    "                    json: one object per line {\"addr\",\"notes\",\"first\",\"last\"}\n"
    "                    (--hosts: {\"ip\",\"notes\",\"first\",\"last\",\"ports\"})\n";

const char kFormatStats[] =
    "  --format FMT      text: NAME VALUE, aligned, for people (default)\n"
    "                    tsv: NAME<TAB>VALUE, one counter a line\n"
    "                    json: one object of all counters\n";

}  // namespace

namespace {

// One command's page: its head (usage, what it does, its own options), the common options
// and the exit status.
std::string command_page(std::string head, std::string_view own) {
  head += own;
  head += "\n";
  head += kCommon;
  head += "\n";
  head += kExitStatus;
  return head;
}

}  // namespace

std::string help_text(Command c) {
  std::string s;
  switch (c) {
    case Command::none:
    case Command::help:
      s = "usage: dailynet [COMMAND] [options] [TEXT...]\n"
          "\n"
          "A private, networked notebook: one-line notes kept by a dailynetd server.\n"
          "\n"
          "Commands:\n"
          "  (none)            on a terminal: print every note (through $PAGER, opened at\n"
          "                    the newest, when longer than the screen), then a line editor:\n"
          "                    each line is a note, pasted lines too; notes by others appear\n"
          "                    live; h for help, q to quit. Takes the history filters.\n"
          "                    Otherwise like send.\n"
          "  send [TEXT...]    send TEXT as one note, or each line of stdin as a note\n"
          "  history           print notes (--from, --since, --until, --last, --grep)\n"
          "  clients           who wrote how much: one line per client address (--hosts:\n"
          "                    per IP)\n"
          "  follow            print notes, then new ones as they arrive\n"
          "  stats             the server's counters\n"
          "  help [COMMAND]    this text, or one command's\n"
          "\n";
      s += kCommon;
      s += kFormat;
      s += "  --no-pager        (interactive) print the history without a pager\n"
           "\n"
           "Interactive commands: h, help, ? (help); r, sync (notes added since the last one\n"
           "shown); q, quit, exit, :q, end of input (leave); clear; /help /sync /quit /who\n"
           "/from ADDR /mine /find TEXT /today. A line starting with \\ is sent with that\n"
           "backslash removed: \\q sends \"q\", \\exit sends \"exit\". Unacknowledged notes\n"
           "are kept in $XDG_STATE_HOME/dailynet/outbox and sent first by the next run.\n"
           "\n";
      s += kExitStatus;
      return s;
    case Command::send:
      s = "usage: dailynet send [options] [TEXT...]\n"
          "\n"
          "Sends TEXT, the words joined by spaces, as one note; without TEXT, each line of\n"
          "standard input is a note (empty lines skipped, the \\r of a CRLF dropped). Waits\n"
          "until every note is acknowledged. Notes go over UDP, many per datagram, marked so\n"
          "that a retry is stored exactly once and in the order given. Put -- before TEXT\n"
          "that starts with '-'. `cat notes.txt | dailynet` does the same.\n"
          "\n"
          "  --print-seq       print SEQ<TAB>TEXT on stdout for each note once acknowledged\n"
          "                    (SEQ is - when the server acknowledged a retry whose seq it\n"
          "                    no longer remembers)\n"
          "  --window N        datagrams in flight, 1..64 (default 32)\n";
      return command_page(s, "");
    case Command::history:
      s = "usage: dailynet history [--from ADDR] [--since WHEN] [--until WHEN] [--last N]\n"
          "                        [--grep TEXT] [-n] [options]\n"
          "\n"
          "Prints the notes the server holds, oldest first (over TCP), those that pass every\n"
          "filter given. In text output an address that has a name (reverse lookup,\n"
          "/etc/hosts included) is shown as the name; -n shows numbers.\n"
          "\n";
      s += kFilterHelp;
      return command_page(s, kFormat);
    case Command::clients:
      s = "usage: dailynet clients [--hosts] [-n] [options]\n"
          "\n"
          "Prints the attribution index: one line per client address (IP:PORT) with its\n"
          "number of notes and the times of its first and latest, in order of first note.\n"
          "\n"
          "  --hosts           one line per IP instead, with the number of distinct ports\n"
          "  -n, --numeric     show addresses as numbers (no reverse lookup; tsv and json\n"
          "                    never look names up)\n";
      return command_page(s, kFormatClients);
    case Command::follow:
      s = "usage: dailynet follow [--from ADDR] [--since WHEN] [--until WHEN] [--last N]\n"
          "                       [--grep TEXT] [-n] [options]\n"
          "\n"
          "Prints the notes, then each new one that passes the filters as it is stored, until\n"
          "interrupted: `follow --last 20` works like tail -n 20 -f. Every line is flushed at\n"
          "once, also into a pipe. When the connection drops it reconnects (backing off up\n"
          "to 5 s) and resumes after the last note printed.\n"
          "\n";
      s += kFilterHelp;
      return command_page(s, kFormat);
    case Command::stats:
      s = "usage: dailynet stats [options]\n"
          "\n"
          "Prints the server's counters.\n"
          "\n";
      return command_page(s, kFormatStats);
  }
  return s;
}

}  // namespace client
