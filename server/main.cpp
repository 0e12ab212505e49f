// main.cpp — dailynetd: options (options.hpp), then Server. Wiring only: every rule lives in a
// file that tests can reach.
#include <cstdio>
#include <string>

#include "log.hpp"
#include "options.hpp"
#include "server.hpp"

#ifndef DAILYNET_VERSION
#define DAILYNET_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  ServerOptions opts = parse_server_options(argc, argv);
  if (!opts.ok()) {
    std::fprintf(stderr, "dailynetd: %s (see dailynetd --help)\n", opts.error.c_str());
    return Server::kExitUsage;
  }
  if (opts.action == ServerAction::help) {
    std::fputs(server_usage().c_str(), stdout);
    return Server::kExitOk;
  }
  if (opts.action == ServerAction::version) {
    std::puts("dailynetd " DAILYNET_VERSION);
    return Server::kExitOk;
  }
  set_log_quiet(opts.config.quiet);
  Server server(std::move(opts.config));
  std::string error;
  if (int rc = server.start(error); rc != Server::kExitOk) {
    std::fprintf(stderr, "dailynetd: %s\n", error.c_str());
    return rc;
  }
  return server.run();
}
