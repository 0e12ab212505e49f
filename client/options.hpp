// options.hpp — the client's command line: subcommand, common options (--host, --port,
// --udp-port, --tcp-port, DAILYNET_HOST, DAILYNET_PORT, --format) and each subcommand's own,
// parsed with getopt_long. Options may stand before or after the subcommand. Pure: no I/O,
// so tests/unit/client_options_test.cpp can drive it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../common/filters.hpp"

namespace client {

// Exit status of bin/dailynet (documented in --help and README).
enum ExitCode : int {
  kExitOk = 0,           // everything done, every note acknowledged
  kExitRefused = 1,      // the server (or the local check) refused a note or a request
  kExitUsage = 2,        // bad command line
  kExitNoAck = 3,        // a note was never acknowledged (retries exhausted)
  kExitUnreachable = 4,  // no server at the address, or the connection failed
};

enum class Format { text, tsv, json };

enum class Command { none, send, history, clients, follow, stats, help };

struct Options {
  Command command = Command::none;  // none: interactive on a terminal, else like send
  Command help_topic = Command::none;  // `help CMD` / `CMD --help`
  std::string host = "127.0.0.1";
  uint16_t udp_port = 9527;
  uint16_t tcp_port = 9527;
  Format format = Format::text;
  bool verbose = false;
  bool help = false;
  bool version = false;
  bool no_pager = false;
  bool print_seq = false;
  int timeout_s = 10;  // give up after this long without an acknowledgement / answer
  int window = 32;     // datagrams in flight (send)
  // history/follow: --from, --since, --until, --last, --grep as the server's FILTERS
  // (times already in UTC: --since 2h is resolved against the clock when parsed).
  Filters filters;
  bool hosts = false;    // clients --hosts: one line per IP
  bool numeric = false;  // -n: never turn addresses into names
  std::vector<std::string> args;    // operands after the subcommand (send TEXT...)
};

struct ParseResult {
  Options options;
  std::string error;  // set on a usage error: one line, without the "dailynet: " prefix
  bool ok() const { return error.empty(); }
};

// getenv-like lookup, so tests can supply the environment.
using EnvLookup = std::function<const char*(const char*)>;

// Parses argv. The environment (DAILYNET_HOST, DAILYNET_PORT) is applied first, so the
// command line wins. Resets getopt's state, so it may be called more than once. now_ms
// (UTC) resolves --since today/yesterday/Nm/Nh/Nd; -1 means the wall clock.
ParseResult parse_command_line(int argc, char** argv, const EnvLookup& env,
                               int64_t now_ms = -1);

const char* command_name(Command c) noexcept;
// The --help text for a subcommand (Command::none: the general one).
std::string help_text(Command c);

}  // namespace client
