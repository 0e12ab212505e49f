// interactive.hpp — the pure parts of the interactive session (interactive.cpp), apart so that
// tests can reach them: what a typed line means, and which pager to run.
#pragma once

#include <string>
#include <string_view>

namespace client {

// What a line typed at the prompt asks for.
struct ReplInput {
  enum class Kind { empty, note, help, sync, quit, who, from, mine, unknown, bad_from } kind =
      Kind::empty;
  std::string arg;  // note: its text; from: the address; unknown: the command as typed
};

// h/help/?, r/sync, q/quit and the /-forms (surrounding blanks ignored) are commands; a line
// starting with '\' is a note without that backslash; any other non-blank line is a note,
// sent exactly as typed.
ReplInput classify_input(std::string_view line);

// $PAGER, "less -FRX" when unset; "" (no pager) when set empty or to "cat".
std::string pager_command();
// Runs `sh -c command` with text on its stdin and waits for it. False when it could not run.
bool run_pager(const std::string& command, std::string_view text);

}  // namespace client
