// harness.hpp — what integration tests need to drive the real binaries: a server process on
// free loopback ports with a temporary store (killed by PID, always), UDP and TCP peers with
// bounded waits, and a runner for client commands. No fixed sleeps: every wait is a bounded
// poll.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../../common/fd.hpp"
#include "../support/clock.hpp"
#include "../support/files.hpp"

namespace harness {

// $BIN_DIR/name (BIN_DIR defaults to "bin").
std::string bin_path(const std::string& name);
// Files, temp directories and the clock live in tests/support/, shared with the unit tests.
using support::dir_entries;
using support::file_exists;
using support::file_lines;
using support::file_size;
using support::now_ms;
using support::read_file;
using support::remove_tree;
using support::split_lines;
using support::temp_dir;
using support::TempDir;
using support::write_file;

// Runs in the forked server child once its stdin (/dev/null), stdout and stderr (files) are in
// place, just before exec: descriptor limits, inherited fillers (server_hostile_test.cpp).
// Returning false makes the child exit 125.
using ChildSetup = std::function<bool()>;

class ServerProcess {
 public:
  // Starts bin/dailynetd --port 0 --data DIR (a new temp dir unless given) plus extra args and
  // waits (at most 10 s) for its start line. started() is false if it exited or never said
  // ready; exit_code() and log() tell why. setup, if given, runs in the child before exec.
  explicit ServerProcess(std::vector<std::string> extra = {}, std::string data_dir = "",
                         ChildSetup setup = {});
  ~ServerProcess();  // SIGKILL by PID if still running; removes a temp dir it created
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return started_; }
  pid_t pid() const { return pid_; }
  uint16_t udp_port() const { return udp_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string store_path() const { return data_dir_ + "/notes.log"; }
  const std::string& start_line() const { return start_line_; }
  std::string log() const;  // everything it wrote to stderr so far
  // Waits (bounded) until the log contains text.
  bool wait_log(const std::string& text, int timeout_ms = 5000) const;
  // Sends sig and waits (bounded) for exit; returns the exit code, -1 on timeout (then it is
  // killed), 128+N if killed by signal N.
  int stop(int sig = 15, int timeout_ms = 5000);
  // Waits for an exit that was expected (e.g. a refused start).
  int wait_exit(int timeout_ms = 5000);
  bool running();
  int exit_code() const { return exit_code_; }
  // Keep the data dir after destruction (for a restart on the same store).
  void keep_data() { own_dir_ = false; }

 private:
  pid_t pid_ = -1;
  bool started_ = false;
  bool own_dir_ = false;
  int exit_code_ = -1;
  uint16_t udp_port_ = 0, tcp_port_ = 0;
  std::string data_dir_, out_path_, err_path_, start_line_;
};

// A UDP socket connected to 127.0.0.1:port.
class Udp {
 public:
  explicit Udp(uint16_t port, const std::string& host = "127.0.0.1");
  // Same, sending from bind_ip (e.g. "127.0.0.2": any 127/8 address is local on Linux).
  Udp(uint16_t port, const std::string& host, const std::string& bind_ip);
  bool send(const std::string& payload);
  std::optional<std::string> recv(int timeout_ms = 2000);
  // send + recv
  std::optional<std::string> ask(const std::string& payload, int timeout_ms = 2000);
  uint16_t local_port() const;
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
};

// A TCP connection to 127.0.0.1:port.
class Tcp {
 public:
  explicit Tcp(uint16_t port, const std::string& host = "127.0.0.1");
  // Same, connecting from bind_ip.
  Tcp(uint16_t port, const std::string& host, const std::string& bind_ip);
  bool connected() const { return fd_.valid(); }
  bool send(const std::string& data);
  // One line without '\n'; nullopt on timeout or close.
  std::optional<std::string> line(int timeout_ms = 3000);
  // Lines up to and including the first that starts with end_prefix ("END").
  std::vector<std::string> until(const std::string& end_prefix, int timeout_ms = 5000);
  // True if the server closes the connection within timeout (after any pending data).
  bool closed(int timeout_ms = 3000);
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }
  // Raw bytes up to and including the first `marker` (buffered ones first); on timeout or
  // close, everything received so far. Fast for large streams (no per-line copying).
  std::string read_through(const std::string& marker, int timeout_ms = 10000);
  // Up to n raw bytes (buffered ones first); fewer when the timeout passes or the peer
  // closes (SIZE_MAX: everything until the close).
  std::string take(size_t n, int timeout_ms = 10000);
  bool at_eof() const { return eof_ && buf_.empty(); }

 private:
  bool fill(int timeout_ms);
  Fd fd_;
  std::string buf_;
  bool eof_ = false;
};

// Sends one command and collects lines through the END line.
std::vector<std::string> tcp_command(uint16_t port, const std::string& command,
                                     int timeout_ms = 5000);
// The text of the notes in the store file, in order (field 4 of each line).
std::vector<std::string> stored_texts(const ServerProcess& s);

// A marked datagram (the official client's format, common/protocol.hpp) of these notes.
std::string marked(uint64_t id, uint64_t floor, uint64_t first,
                   const std::vector<std::string>& notes);
// Field i of each note line (4 tab-separated fields); END and other lines skipped.
std::vector<std::string> field_of(const std::vector<std::string>& lines, size_t i);
// The text (field 3) of each note line.
std::vector<std::string> texts_of(const std::vector<std::string>& lines);
// Sends one command on t and collects its lines through END.
std::vector<std::string> ask(Tcp& t, const std::string& cmd, int timeout_ms = 5000);

// True when a UDP socket can bind ::1 (tests of IPv6 skip themselves otherwise).
bool ipv6_loopback_available();

// utime + stime of a process, in clock ticks (/proc/PID/stat); -1 if unreadable.
int64_t cpu_ticks(pid_t pid);
// bin/dailynet, and a dailynet command line ending in --port PORT.
std::string client();
std::vector<std::string> with_port(std::vector<std::string> args, uint16_t port);

struct RunResult {
  int code = -1;  // exit code; 128+N if killed by signal N; -1 if timed out (then killed)
  std::string out, err;
};
// Runs argv (argv[0] a path) with the given stdin and environment additions, bounded.
RunResult run(const std::vector<std::string>& argv, const std::string& input = "",
              int timeout_ms = 20000, const std::vector<std::string>& env = {});

std::vector<std::string> split_tabs(const std::string& s);

// ---- added for the server tests ----------------------------------------------------------

// STATS over a new connection: (name, value) pairs in order; empty when STATS failed.
std::vector<std::pair<std::string, std::string>> stats_lines(uint16_t port);
// One STATS counter as a number; -1 when missing.
int64_t stat_value(uint16_t port, const std::string& name);
// Polls (bounded) until the STATS counter reaches at least want; returns the last value.
int64_t wait_stat(uint16_t port, const std::string& name, int64_t want, int timeout_ms = 3000);

// The texts (field 4) of the notes a HISTORY over a new connection returns, in order; with
// "<bad END>" appended when the reply did not end in "END <number of note lines>".
std::vector<std::string> history_texts(uint16_t port);

// Writes dir/notes.log (dir created; its parent must exist) with n note lines: seqs 1..n,
// senders 127.0.0.1:40000..40009, texts "note <seq> " padded with '.' to text_len bytes.
// No notes.chk: the server rebuilds it at start. Returns the file's size.
uint64_t write_notes_log(const std::string& dir, uint64_t n, size_t text_len = 60);

}  // namespace harness
