// interactive.hpp — the pure parts of the interactive session (interactive.cpp), apart so that
// tests can reach them: what a typed line means, and which pager to run.
#pragma once

#include <signal.h>

#include <string>
#include <string_view>

namespace client {

// What a line typed at the prompt asks for.
struct ReplInput {
  enum class Kind {
    empty, note, help, sync, quit, who, from, mine, unknown, bad_from, clear, find, today
  } kind = Kind::empty;
  std::string arg;  // note: its text; from: the address; unknown: the command as typed
};

// h/help/?, r/sync, q/quit/exit/:q, clear and the /-forms (surrounding blanks ignored) are
// commands; a line starting with '\' is a note without that backslash (`\exit` sends
// "exit"); any other non-blank line is a note, sent exactly as typed.
ReplInput classify_input(std::string_view line);

// s without the blanks (spaces, TABs) around it.
std::string trim_blanks(std::string_view s);

// $PAGER, "less" when unset (LESS=FRX unless LESS is set); "" (no pager) when set empty or
// to "cat".
std::string pager_command();
// The command with `+G` added when it runs less, so that it opens at the end: the newest
// note (pager.cpp). Any other pager is returned unchanged: it opens at the top, the oldest
// note, and the caller must not claim otherwise.
std::string pager_at_newest(const std::string& command);
// The last n lines of text (a last line without '\n' counts), whole text when it has fewer.
std::string_view last_lines(std::string_view text, size_t n) noexcept;
// A pager process (`sh -c command`) fed through a pipe, the way git log does it. Owns the
// child and the pipe's write end; finish() (or the destructor) closes and waits. While it
// runs, SIGINT is left to the pager (less uses it) and SIGPIPE is ignored, so quitting the
// pager early costs nothing.
class Pager {
 public:
  Pager() = default;
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;
  ~Pager() { finish(); }

  bool start(const std::string& command);
  bool running() const noexcept { return pid_ > 0; }
  // Writes text to the pager; after the pager has quit, text is dropped. The last
  // kKeepBytes written are kept for tail().
  void write(std::string_view text);
  // Closes the pipe and waits for the pager. False when it could not run (exit 127: the
  // shell found no such command).
  bool finish();
  // The last n lines written (from the kept bytes): the newest notes, to show on the
  // terminal when the pager could not run or opened at the oldest.
  std::string tail(size_t n) const { return std::string(last_lines(kept_, n)); }

  static constexpr size_t kKeepBytes = 256 << 10;

 private:
  int pid_ = -1;
  int fd_ = -1;
  bool broken_ = false;
  std::string kept_;
  struct sigaction old_int_ {}, old_pipe_ {};  // restored by finish()
};

}  // namespace client
