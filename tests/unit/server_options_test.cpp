// server_options_test.cpp — dailynetd's command line (server/options.*): the defaults, every
// option's value reaching Config, every bad value's exact one-line error, unknown options,
// missing values, stray operands, --help/--version, and the usage text built from the table.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../../server/options.hpp"
#include "../support/argv.hpp"

namespace {

ServerOptions parse(std::vector<std::string> args) {
  support::Argv a("dailynetd", std::move(args));
  return parse_server_options(a.argc(), a.argv());
}

Config ok(std::vector<std::string> args) {
  ServerOptions r = parse(std::move(args));
  INFO("error: ", r.error);
  REQUIRE(r.ok());
  CHECK(r.action == ServerAction::run);
  return r.config;
}

std::string error(std::vector<std::string> args) {
  ServerOptions r = parse(std::move(args));
  CHECK_FALSE(r.ok());
  return r.error;
}

}  // namespace

TEST_CASE("server options: defaults as documented") {
  Config c = ok({});
  CHECK(c.host == "127.0.0.1");
  CHECK(c.udp_port == 9527);
  CHECK(c.tcp_port == 9527);
  CHECK(c.data_dir == "./dailynet-data");
  CHECK(c.fsync == FsyncMode::always);
  CHECK(c.allow.empty());
  CHECK(c.max_note == 4096);
  CHECK(c.idle_timeout_s == 60);
  CHECK(c.max_clients == 1000);
  CHECK(c.rate == 0);
  CHECK(c.rate_burst == 0);
  CHECK_FALSE(c.repair);
  CHECK_FALSE(c.quiet);
}

TEST_CASE("server options: every option reaches Config") {
  CHECK(ok({"--host", "::"}).host == "::");
  CHECK(ok({"--host=10.0.0.1"}).host == "10.0.0.1");
  Config p = ok({"--port", "0"});
  CHECK(p.udp_port == 0);
  CHECK(p.tcp_port == 0);
  Config split = ok({"--port", "7000", "--udp-port", "7001"});
  CHECK(split.udp_port == 7001);
  CHECK(split.tcp_port == 7000);
  Config t = ok({"--tcp-port", "65535", "--port", "1"});  // the later one wins
  CHECK(t.udp_port == 1);
  CHECK(t.tcp_port == 1);
  CHECK(ok({"--tcp-port", "65535"}).tcp_port == 65535);
  CHECK(ok({"--data", "/tmp/x y"}).data_dir == "/tmp/x y");
  CHECK(ok({"--fsync", "always"}).fsync == FsyncMode::always);
  CHECK(ok({"--fsync", "everysec"}).fsync == FsyncMode::everysec);
  CHECK(ok({"--fsync", "never"}).fsync == FsyncMode::never);
  Config a = ok({"--allow", "10.0.0.0/8", "--allow", "fd00::/8"});
  REQUIRE(a.allow.size() == 2);
  CHECK(a.allow_text == std::vector<std::string>{"10.0.0.0/8", "fd00::/8"});
  CHECK(a.allowed(*SockAddr::from_ip("10.1.2.3", 1)));
  CHECK_FALSE(a.allowed(*SockAddr::from_ip("11.1.2.3", 1)));
  CHECK(ok({"--max-note", "1"}).max_note == 1);
  CHECK(ok({"--max-note", "60000"}).max_note == 60000);
  CHECK(ok({"--idle-timeout", "86400"}).idle_timeout_s == 86400);
  CHECK(ok({"--max-clients", "1"}).max_clients == 1);
  CHECK(ok({"--rate", "0"}).rate == 0);
  CHECK(ok({"--rate", "100000000"}).rate == 100000000.0);
  CHECK(ok({"--rate-burst", "5"}).rate_burst == 5.0);
  CHECK(ok({"--repair"}).repair);
  CHECK(ok({"--quiet"}).quiet);
  CHECK(ok({"-q"}).quiet);
}

TEST_CASE("server options: bad values name the option, the range and the value") {
  CHECK(error({"--port", "x"}) == "--port wants a number from 0 to 65535, not 'x'");
  CHECK(error({"--port", "65536"}) == "--port wants a number from 0 to 65535, not '65536'");
  CHECK(error({"--port="}) == "--port wants a number from 0 to 65535, not ''");
  CHECK(error({"--udp-port", "-1"}) == "--udp-port wants a number from 0 to 65535, not '-1'");
  CHECK(error({"--tcp-port", "1e3"}) == "--tcp-port wants a number from 0 to 65535, not '1e3'");
  CHECK(error({"--fsync", "sometimes"}) ==
        "--fsync wants always, everysec or never, not 'sometimes'");
  CHECK(error({"--fsync", "ALWAYS"}) == "--fsync wants always, everysec or never, not 'ALWAYS'");
  CHECK(error({"--allow", "1.2.3"}) ==
        "--allow wants a network like 10.0.0.0/8 or fd00::/8, not '1.2.3'");
  CHECK(error({"--allow", "10.0.0.0/33"}) ==
        "--allow wants a network like 10.0.0.0/8 or fd00::/8, not '10.0.0.0/33'");
  CHECK(error({"--max-note", "0"}) == "--max-note wants a number from 1 to 60000, not '0'");
  CHECK(error({"--max-note", "60001"}) ==
        "--max-note wants a number from 1 to 60000, not '60001'");
  CHECK(error({"--idle-timeout", "0"}) ==
        "--idle-timeout wants a number from 1 to 86400, not '0'");
  CHECK(error({"--idle-timeout", "86401"}) ==
        "--idle-timeout wants a number from 1 to 86400, not '86401'");
  CHECK(error({"--max-clients", "1001"}) ==
        "--max-clients wants a number from 1 to 1000, not '1001'");
  CHECK(error({"--max-clients", "0"}) == "--max-clients wants a number from 1 to 1000, not '0'");
  CHECK(error({"--rate", "100000001"}) ==
        "--rate wants a number from 0 to 100000000, not '100000001'");
  CHECK(error({"--rate", "1.5"}) == "--rate wants a number from 0 to 100000000, not '1.5'");
  CHECK(error({"--rate-burst", "0"}) ==
        "--rate-burst wants a number from 1 to 100000000, not '0'");
}

TEST_CASE("server options: unknown options, missing values and operands") {
  CHECK(error({"-x"}) == "option -x is unknown or needs a value");
  CHECK(error({"--bogus"}) == "option --bogus is unknown or needs a value");
  CHECK(error({"--host"}) == "option --host is unknown or needs a value");
  CHECK(error({"--data"}) == "option --data is unknown or needs a value");
  CHECK(error({"extra"}) == "unexpected argument 'extra'");
  CHECK(error({"--port", "1", "two"}) == "unexpected argument 'two'");
  // The first error wins, even with --help after it.
  CHECK(error({"--port", "x", "--help"}) == "--port wants a number from 0 to 65535, not 'x'");
}

TEST_CASE("server options: --help and --version stop parsing") {
  CHECK(parse({"--help"}).action == ServerAction::help);
  CHECK(parse({"-h", "--port", "x"}).action == ServerAction::help);
  CHECK(parse({"-h", "--port", "x"}).ok());
  CHECK(parse({"--version"}).action == ServerAction::version);
  CHECK(parse({"-V"}).action == ServerAction::version);
}

TEST_CASE("server options: the usage text lists every option once, aligned") {
  std::string u = server_usage();
  CHECK(u.rfind("usage: dailynetd [options]\n", 0) == 0);
  for (const char* line :
       {"  --host ADDR           address to bind, IPv4 or IPv6 literal; :: = all, dual stack\n"
        "                        (default 127.0.0.1)\n",
        "  --port N              UDP and TCP port; 0 = any free port (default 9527)\n",
        "  --udp-port N          ", "  --tcp-port N          ", "  --data DIR            ",
        "  --fsync MODE          ", "  --allow CIDR          ", "  --max-note BYTES      ",
        "  --idle-timeout SEC    ", "  --max-clients N       ", "  --rate N              ",
        "  --rate-burst N        ", "  --repair              ", "  -q, --quiet           ",
        "  -h, --help            ", "  -V, --version         "}) {
    INFO(line);
    CHECK(u.find(line) != std::string::npos);
  }
  CHECK(u.find("Exit status: 0 stopped by SIGINT/SIGTERM; 1 runtime failure; 2 usage error;\n"
               "3 store locked, damaged or unreadable; 4 address cannot be bound.\n") !=
        std::string::npos);
}

TEST_CASE("server options: --http on|off and repeatable --http-host (SPEC HTTP)") {
  CHECK(ok({}).http);
  CHECK(ok({}).http_hosts.empty());
  CHECK_FALSE(ok({"--http", "off"}).http);
  CHECK(ok({"--http", "on"}).http);
  CHECK(ok({"--http-host", "notes.lan", "--http-host", "pi-4"}).http_hosts ==
        std::vector<std::string>{"notes.lan", "pi-4"});
  CHECK(error({"--http", "yes"}) == "--http wants on or off, not 'yes'");
  CHECK(error({"--http-host", "a b"}) == "--http-host wants a host name like notes.lan, not 'a b'");
  CHECK(error({"--http-host", ""}).find("--http-host") != std::string::npos);
  CHECK(server_usage().find("  --http on|off         serve HTTP") != std::string::npos);
  CHECK(server_usage().find("  --http-host NAME      ") != std::string::npos);
}
