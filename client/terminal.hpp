// terminal.hpp — the client's process-level I/O helpers: whole writes to stdout, one-line
// failure reports on stderr, the terminal's size, and the SIGINT/SIGTERM flag that commands
// poll so that Ctrl-C ends them cleanly. Owns no descriptors.
#pragma once

#include <signal.h>

#include <string>
#include <string_view>

namespace client {

// Incremented by the SIGINT/SIGTERM handler that install_interrupt_handler() sets.
extern volatile sig_atomic_t g_interrupts;

// SIGINT and SIGTERM bump g_interrupts instead of killing; blocking reads return EINTR (no
// SA_RESTART) so loops can look at the flag.
void install_interrupt_handler();

// Writes all of s to fd (retrying EINTR and partial writes). False on an error (EPIPE when
// SIGPIPE is ignored).
bool write_all(int fd, std::string_view s);
// Writes out to stdout and clears it.
void flush_out(std::string& out);

// "dailynet: <message>\n" on stderr, in one write; the message made terminal-safe. In red
// (around the escaped message) once set_report_color(true) was called.
void report(std::string_view message);
// Turns red reports on or off; callers decide (color_for_fd(2)), the default is off.
void set_report_color(bool on) noexcept;

bool is_terminal(int fd);
// Rows and columns of the terminal on fd; 0 when unknown.
void terminal_size(int fd, int& rows, int& cols);

// Sleeps up to ms, returning early (false) when interrupted by a signal.
bool sleep_ms(int ms);

}  // namespace client
