// commands.hpp — the subcommands of bin/dailynet, each returning an exit status (ExitCode in
// options.hpp) after printing its one-line failure report on stderr. send.cpp: send;
// queries.cpp: history, clients, follow, stats; interactive.cpp: the REPL.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "options.hpp"

namespace client {

int run_send(const Options& o);
int run_history(const Options& o);
int run_clients(const Options& o);
int run_follow(const Options& o);
int run_stats(const Options& o);
int run_interactive(const Options& o);

// One TCP request: connects to the server, sends `command`, hands each reply line before the
// END line to on_line. Returns kExitOk, or reports the failure (naming the address) and
// returns its exit status: kExitUnreachable for connection trouble, kExitRefused for an ERR.
// After END it sends QUIT and reads the BYE (bounded) before closing, so that the server's
// BYE never meets a closed socket (which the kernel would answer with a reset).
// idle, when given, is called about every 100 ms while no line arrives (progress redraws).
int query(const Options& o, const std::string& command,
          const std::function<void(std::string_view)>& on_line,
          const std::function<void()>& idle = nullptr);

// The HISTORY request line for these filters ("HISTORY SINCE 2026-11-30T00:00:00.000Z MATCH
// milk"), e.g. for the interactive /find and /today:
//   Filters f; f.match = text;                           -> /find TEXT
//   Filters f; f.since_ms = local_midnight_ms(now, 0);   -> /today (when.hpp)
//   query(o, history_request(f), on_line);
std::string history_request(const Filters& f);

// The hint added to "no server" reports.
inline constexpr std::string_view kStartHint =
    "; start one with 'make run' or pass --host/--port";

}  // namespace client
