// server.hpp — Server: wires the pieces together and runs the turn sequence of the one
// select() loop:
//   select → read UDP (bounded) → read TCP, answer commands → accept → commit the notes
//   (one write per file; under --fsync always the fdatasyncs run on the sync thread while
//   the next turns read on, and the commit ends in the first turn after they returned) →
//   UDP replies, index, FOLLOW feeds of the ended commit → flush TCP output → close finished
//   sessions → timers (everysec sync, idle limits).
// No reply ever precedes the durability its mode promises: replies are built when the commit
// ends, and a commit in flight is not visible to HISTORY/FOLLOW (store.hpp).
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
  // The group commit, pipelined under --fsync always: commit() ends the commit in flight
  // once its fdatasyncs returned (finish_commit: index, replies, POST answers, FOLLOW sees
  // it) and starts the next with everything read since (start_commit). Under everysec/never
  // start_commit finishes at once.
  void commit(int64_t now_ms, int64_t wall);
  void start_commit(int64_t now_ms, int64_t wall);
  void finish_commit(int64_t now_ms);
  void store_refused(const std::string& error, size_t notes, int64_t now_ms);
  void answer_posts(bool committed, uint64_t first_seq);  // of posts_in_flight_
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
  std::vector<NoteToAppend> batch_;  // a commit's UDP notes plus its POSTed ones
  // The commit being made (in flight under --fsync always).
  std::vector<HttpPost> posts_in_flight_;
  std::string commit_addrs_;                 // its notes' addresses, end to end
  std::vector<uint32_t> commit_addr_ends_;   // one per note
  int64_t commit_time_ms_ = 0;
  uint64_t commit_first_seq_ = 0;
  size_t commit_first_pos_ = 0;
  size_t commit_udp_notes_ = 0;
  bool commit_ok_ = true;
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
