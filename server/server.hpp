// server.hpp — Server: wires the pieces together and runs the turn sequence of the one
// select() loop:
//   select → read UDP (bounded) → read TCP, answer commands → accept → commit the turn's notes
//   (one write, one fdatasync under --fsync always) → UDP replies, index, FOLLOW feeds →
//   flush TCP output → close finished sessions → timers (everysec sync, idle limits).
// No reply ever precedes the durability its mode promises: replies are built after commit.
// Owns the store, index, exactly-once table, sockets and sessions.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "exactly_once.hpp"
#include "http_session.hpp"
#include "index.hpp"
#include "rate_limit.hpp"
#include "selector.hpp"
#include "stats.hpp"
#include "store.hpp"
#include "tcp_listener.hpp"
#include "tcp_session.hpp"
#include "udp_intake.hpp"

class Server {
 public:
  explicit Server(Config cfg);
  // Exit codes (also in --help and README).
  static constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitStore = 3,
                       kExitNetwork = 4;
  // Opens the store and sockets; prints the start line. Returns kExitOk, or an exit code with
  // a one-line reason in error.
  int start(std::string& error);
  // Runs until SIGINT/SIGTERM (through the self-pipe), then shuts down cleanly.
  int run();

 private:
  void index_note(const RecoveredNote& n);
  // Store::check_files, logged the first time it fails; false when the store is unavailable.
  bool check_store(int64_t now_ms);
  void turn(int64_t now_ms);
  void on_signals();  // reads the self-pipe: logs SIGHUP/SIGUSR1/SIGUSR2, stops on the rest
  void commit(int64_t now_ms);
  void answer_posts(bool committed, uint64_t first_seq);
  void on_accept(Fd fd, const SockAddr& peer);
  void close_finished();
  void check_timers(int64_t now_ms);
  void write_stats(std::string& out) const;
  void shutdown();
  void update_interest();

  Config cfg_;
  Stats stats_;
  Store store_;
  Index index_;
  ExactlyOnce once_;
  RateLimiter rate_;
  UdpIntake intake_;
  TcpListener listener_;
  Selector selector_;
  std::vector<std::unique_ptr<TcpSession>> sessions_;
  std::vector<char> scratch_;
  HttpShared http_shared_;
  std::vector<NoteToAppend> batch_;  // a turn's UDP notes plus its POSTed ones
  SessionContext ctx_;
  int self_pipe_[2] = {-1, -1};
  bool udp_more_ = false;
  size_t next_writer_ = 0;  // round-robin start of the turn's TCP writes
  bool stopping_ = false;
  int64_t start_ms_ = 0;
  int64_t last_sync_ms_ = 0;
  int64_t last_timer_ms_ = 0;
  int64_t last_store_error_log_ms_ = 0;
  int64_t last_store_check_ms_ = 0;
};
