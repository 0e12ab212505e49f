// client_options_test.cpp — the client's command line: subcommands, options before and after
// them, the environment, per-command checks, usage errors; and what a typed line means in
// the interactive session.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../../client/interactive.hpp"
#include "../../client/options.hpp"
#include "../support/argv.hpp"

using namespace client;

namespace {

ParseResult parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  support::Argv a("dailynet", std::move(args));
  return parse_command_line(a.argc(), a.argv(),
                            [&env](const char* name) -> const char* {
                              auto it = env.find(name);
                              return it == env.end() ? nullptr : it->second.c_str();
                            });
}

}  // namespace

TEST_CASE("options: defaults, and no command") {
  auto r = parse({});
  REQUIRE(r.ok());
  CHECK(r.options.command == Command::none);
  CHECK(r.options.host == "127.0.0.1");
  CHECK(r.options.udp_port == 9527);
  CHECK(r.options.tcp_port == 9527);
  CHECK(r.options.format == Format::text);
  CHECK(r.options.timeout_s == 10);
}

TEST_CASE("options: common options before or after the subcommand") {
  auto a = parse({"--host", "::1", "--port", "7000", "history", "--format", "json"});
  auto b = parse({"history", "--format=json", "--port=7000", "--host", "::1"});
  for (auto* r : {&a, &b}) {
    REQUIRE(r->ok());
    CHECK(r->options.command == Command::history);
    CHECK(r->options.host == "::1");
    CHECK(r->options.udp_port == 7000);
    CHECK(r->options.tcp_port == 7000);
    CHECK(r->options.format == Format::json);
  }
  auto c = parse({"--udp-port", "1", "stats", "--tcp-port", "2"});
  REQUIRE(c.ok());
  CHECK(c.options.udp_port == 1);
  CHECK(c.options.tcp_port == 2);
}

TEST_CASE("options: send joins its words; options may follow them; -- protects text") {
  auto r = parse({"send", "bought", "milk", "--print-seq", "-v"});
  REQUIRE(r.ok());
  CHECK(r.options.command == Command::send);
  CHECK(r.options.args == std::vector<std::string>{"bought", "milk"});
  CHECK(r.options.print_seq);
  CHECK(r.options.verbose);
  auto d = parse({"send", "--", "-5", "degrees", "--help"});
  REQUIRE(d.ok());
  CHECK(d.options.args == std::vector<std::string>{"-5", "degrees", "--help"});
  CHECK(!d.options.help);
}

TEST_CASE("options: the environment, and the command line over it") {
  auto r = parse({"stats"}, {{"DAILYNET_HOST", "10.0.0.7"}, {"DAILYNET_PORT", "6000"}});
  REQUIRE(r.ok());
  CHECK(r.options.host == "10.0.0.7");
  CHECK(r.options.udp_port == 6000);
  CHECK(r.options.tcp_port == 6000);
  auto o = parse({"stats", "--port", "6001"}, {{"DAILYNET_PORT", "6000"}});
  REQUIRE(o.ok());
  CHECK(o.options.udp_port == 6001);
  auto bad = parse({"stats"}, {{"DAILYNET_PORT", "lots"}});
  CHECK(bad.error == "DAILYNET_PORT wants a number from 1 to 65535, not 'lots'");
}

TEST_CASE("options: history filters and their checks") {
  auto r = parse({"history", "--from", "127.0.0.1:4000", "--since", "10", "--last", "5"});
  REQUIRE(r.ok());
  CHECK(r.options.filters.from->ip == "127.0.0.1");
  CHECK(r.options.filters.from->port == 4000);
  CHECK(r.options.filters.since_seq == 10);
  CHECK(*r.options.filters.last == 5);
  CHECK(parse({"history", "--from", "nonsense"}).error ==
        "--from wants an address, IP or IP:PORT ([V6]:PORT), not 'nonsense' "
        "(e.g. --from 192.168.1.20)");
  CHECK(parse({"history", "--since", "-1"}).error ==
        "--since wants a seq, a date or time (local; Z for UTC), today, yesterday or Nm/Nh/Nd, "
        "not '-1' (e.g. --since 2026-11-30, --since 2026-11-30T08:00, --since 2h)");
  CHECK(parse({"follow", "--last", "3"}).options.filters.last == uint64_t{3});
  CHECK(parse({"clients", "--last", "3"}).error == "option --last does not apply to clients");
  CHECK(parse({"send", "--from", "1.2.3.4"}).error == "option --from does not apply to send");
  CHECK(parse({"clients", "--print-seq"}).error == "option --print-seq does not apply to clients");
}

TEST_CASE("options: a filter given twice is a usage error, not one silently lost") {
  const std::vector<std::pair<std::string, std::string>> given = {
      {"--since", "1"}, {"--until", "2026-11-30"}, {"--last", "2"}, {"--grep", "x"},
      {"--from", "10.0.0.1"}};
  for (const auto& [opt, v] : given) {
    CAPTURE(opt);
    auto r = parse({"history", opt, v, opt, v});
    CHECK_FALSE(r.ok());
    CHECK(r.error == opt + " given twice (each filter once)");
  }
  CHECK(parse({"history", "--since", "1", "--until", "2026-11-30"}).ok());  // two filters
}

TEST_CASE("options: usage errors name what is wrong") {
  CHECK(parse({"--port", "0"}).error == "--port wants a number from 1 to 65535, not '0'");
  CHECK(parse({"--port"}).error == "option --port needs a value");
  CHECK(parse({"--bogus"}).error == "unknown option --bogus");
  CHECK(parse({"-x"}).error == "unknown option -x");
  CHECK(parse({"--format", "xml", "history"}).error ==
        "--format wants text, tsv or json, not 'xml'");
  CHECK(parse({"frobnicate"}).error.rfind("unknown command 'frobnicate'", 0) == 0);
  CHECK(parse({"stats", "extra"}).error == "unexpected argument 'extra' for stats");
  CHECK(parse({"send", "--window", "65"}).error == "--window wants a number from 1 to 64, not '65'");
}

TEST_CASE("options: help and version") {
  auto h = parse({"--help"});
  REQUIRE(h.ok());
  CHECK(h.options.help);
  CHECK(h.options.help_topic == Command::none);
  auto hh = parse({"history", "--help"});
  CHECK(hh.options.help);
  CHECK(hh.options.help_topic == Command::history);
  auto hc = parse({"help", "follow"});
  CHECK(hc.options.help);
  CHECK(hc.options.help_topic == Command::follow);
  CHECK(parse({"-V"}).options.version);
  for (Command c : {Command::none, Command::send, Command::history, Command::clients,
                    Command::follow, Command::stats}) {
    std::string t = help_text(c);
    CHECK(t.rfind("usage: dailynet", 0) == 0);
    CHECK(t.find("Exit status:") != std::string::npos);
    CHECK(t.find("4  server unreachable") != std::string::npos);
  }
}

TEST_CASE("interactive input: commands, notes, and the backslash escape") {
  using K = ReplInput::Kind;
  CHECK(classify_input("").kind == K::empty);
  CHECK(classify_input("   ").kind == K::empty);
  for (const char* q : {"q", "quit", "/quit", " q "}) CHECK(classify_input(q).kind == K::quit);
  for (const char* h : {"h", "help", "?", "/help"}) CHECK(classify_input(h).kind == K::help);
  for (const char* r : {"r", "sync", "/sync"}) CHECK(classify_input(r).kind == K::sync);
  CHECK(classify_input("/who").kind == K::who);
  CHECK(classify_input("/mine").kind == K::mine);
  auto f = classify_input("/from 127.0.0.1:5000");
  CHECK(f.kind == K::from);
  CHECK(f.arg == "127.0.0.1:5000");
  CHECK(classify_input("/from").kind == K::bad_from);
  CHECK(classify_input("/from over-there").kind == K::bad_from);
  CHECK(classify_input("/frobnicate").kind == K::unknown);
  auto n = classify_input("bought milk ");
  CHECK(n.kind == K::note);
  CHECK(n.arg == "bought milk ");  // sent exactly as typed
  auto e = classify_input("\\q");
  CHECK(e.kind == K::note);
  CHECK(e.arg == "q");
  CHECK(classify_input("\\/who").arg == "/who");
  CHECK(classify_input("\\\\x").arg == "\\x");
  CHECK(classify_input("quitting time").kind == K::note);
}
