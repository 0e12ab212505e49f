// interactive.cpp — `dailynet` on a terminal: what a typed line means (classify_input, pure)
// and the entry point; the session itself is session.hpp.
#include <clocale>
#include <string>

#include "../common/net.hpp"
#include "interactive.hpp"
#include "session.hpp"

namespace client {

std::string trim_blanks(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

ReplInput classify_input(std::string_view line) {
  using K = ReplInput::Kind;
  std::string cmd = trim_blanks(line);
  if (cmd.empty()) return {K::empty, {}};
  if (line[0] == '\\') {
    std::string_view note = line.substr(1);
    return note.empty() ? ReplInput{K::empty, {}} : ReplInput{K::note, std::string(note)};
  }
  if (cmd == "q" || cmd == "quit" || cmd == "/quit" || cmd == "exit" || cmd == ":q")
    return {K::quit, {}};
  if (cmd == "h" || cmd == "help" || cmd == "?" || cmd == "/help") return {K::help, {}};
  if (cmd == "r" || cmd == "sync" || cmd == "/sync") return {K::sync, {}};
  if (cmd == "clear") return {K::clear, {}};
  if (cmd == "/who") return {K::who, {}};
  if (cmd == "/mine") return {K::mine, {}};
  if (cmd == "/today") return {K::today, {}};
  if (cmd.rfind("/find", 0) == 0 && (cmd.size() == 5 || cmd[5] == ' ' || cmd[5] == '\t'))
    return {K::find, trim_blanks(std::string_view(cmd).substr(5))};
  if (cmd.rfind("/from", 0) == 0 && (cmd.size() == 5 || cmd[5] == ' ' || cmd[5] == '\t')) {
    std::string addr = trim_blanks(std::string_view(cmd).substr(5));
    if (addr.empty() || !parse_addr_filter(addr)) return {K::bad_from, addr};
    return {K::from, addr};
  }
  if (cmd[0] == '/') return {K::unknown, cmd};
  return {K::note, std::string(line)};
}

int run_interactive(const Options& o) {
  std::setlocale(LC_CTYPE, "");  // wcwidth() of the terminal's characters
  return Session(o).run();
}

}  // namespace client
