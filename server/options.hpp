// options.hpp — dailynetd's command line → Config, or a usage error. Pure: no I/O, no exit,
// so tests/unit/server_options_test.cpp drives every option. main.cpp prints and exits.
//
// To add an option: add one row to kOptions in options.cpp (name, argument, help text and
// the function that stores the value into Config); the getopt table and --help follow.
#pragma once

#include <string>

#include "config.hpp"

enum class ServerAction { run, help, version };

struct ServerOptions {
  Config config;
  ServerAction action = ServerAction::run;
  std::string error;  // a usage error: one line, without the "dailynetd: " prefix
  bool ok() const noexcept { return error.empty(); }
};

// Parses argv (getopt_long, long options may be abbreviated as getopt allows). Stops at the
// first error. Resets getopt's state, so it may be called more than once.
ServerOptions parse_server_options(int argc, char** argv);

// The --help text (stdout, exit 0), generated from the option table.
std::string server_usage();
