// tty.hpp — the terminal shell of the interactive session: raw mode (termios) with bracketed
// paste on, and the terminal restored on every way out — a normal return, exit(), SIGTERM,
// SIGINT or SIGHUP (through the session's loop), a second SIGTERM (at once), and a crash
// signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: restored, then the signal re-raised).
// Signals reach the loop through a self-pipe (wake_fd) so that poll() never misses one.
// Owns the process's handlers for those signals and SIGTSTP, SIGCONT and SIGWINCH while
// installed; one Tty per process.
#pragma once

#include <termios.h>

namespace client {

class Tty {
 public:
  enum Event : unsigned { kTerminate = 1, kResize = 2, kSuspend = 4, kContinue = 8 };

  Tty() = default;
  Tty(const Tty&) = delete;
  Tty& operator=(const Tty&) = delete;
  ~Tty() { uninstall(); }

  // Installs the signal handlers (and an atexit restore); fd is the terminal (stdin). raw:
  // the terminal is put in raw mode by enter_raw(); false (TERM=dumb): only the handlers.
  bool install(int fd, bool raw);
  void uninstall();
  // Raw mode on: no echo, no line discipline, no signals from keys (Ctrl-C, Ctrl-Z arrive
  // as bytes), CR not turned into LF; output processing kept (\n still starts a line).
  // Bracketed paste on. Does nothing unless installed with raw.
  bool enter_raw();
  // The saved modes back, bracketed paste off. discard_input: what was typed and not read
  // is thrown away (tcflush), so that nothing is left for the shell.
  void leave_raw(bool discard_input = false);
  bool raw() const noexcept;

  // Readable when a signal arrived; take_events() then says which (and drains it).
  int wake_fd() const noexcept;
  unsigned take_events() noexcept;
  // Ctrl-Z: leave raw mode, stop the process (SIGTSTP); on `fg`, raw mode again.
  void suspend();
};

}  // namespace client
