// main.cpp — dailynet, the client: parse the command line (options.cpp), then dispatch to a
// subcommand (commands.hpp). Wiring only.
#include <cstdlib>
#include <cstdio>

#include "../common/filters.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "terminal.hpp"

#ifndef DAILYNET_VERSION
#define DAILYNET_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  using namespace client;
  ParseResult p = parse_command_line(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!p.ok()) {
    report(p.error + " (see dailynet --help)");
    return kExitUsage;
  }
  const Options& o = p.options;
  if (o.version) {
    std::puts("dailynet " DAILYNET_VERSION);
    return kExitOk;
  }
  if (o.help) {
    std::fputs(help_text(o.help_topic).c_str(), stdout);
    return kExitOk;
  }
  switch (o.command) {
    case Command::none:
      if (is_terminal(0)) return run_interactive(o);
      if (!to_wire(o.filters).empty()) {  // they choose what the session shows; send ignores them
        report("--from, --since, --until, --last and --grep are for the session on a terminal "
               "or for history/follow; stdin is not a terminal, so dailynet would send its lines "
               "(see dailynet --help)");
        return kExitUsage;
      }
      return run_send(o);
    case Command::send: return run_send(o);
    case Command::history: return run_history(o);
    case Command::clients: return run_clients(o);
    case Command::follow: return run_follow(o);
    case Command::stats: return run_stats(o);
    case Command::help: break;
  }
  return kExitOk;
}
