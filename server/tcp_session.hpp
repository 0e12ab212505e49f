// tcp_session.hpp — TcpSession: one TCP connection. Owns its fd (closed on destruction), its
// input and output buffers and, while a HISTORY or FOLLOW runs, a HistoryCursor (which owns
// the position and the filters; the session keeps the framing and the state).
// Does not touch other sessions and never destroys itself: it marks itself closing and the
// server removes it at the end of the turn.
//
// States: commands  — reads lines, answers them in order (pipelining works);
//         history   — streams a snapshot from the store as the socket drains, then END;
//         follow    — streams, then each new matching note; only QUIT is still read;
//         closing   — flushes what is pending (at most a few seconds), then goes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../common/buffer.hpp"
#include "../common/fd.hpp"
#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "close_reason.hpp"
#include "config.hpp"
#include "history_cursor.hpp"
#include "index.hpp"
#include "stats.hpp"
#include "store.hpp"

class HttpSession;
struct HttpShared;

// What a session may see of the server.
struct SessionContext {
  const Config& cfg;
  const Store& store;
  const Index& index;
  Stats& stats;
  std::function<void(std::string&)> write_stats;  // STATS body lines
  std::vector<char>& scratch;                     // shared read buffer (one thread)
  HttpShared* http = nullptr;                     // POST queue etc. (http_session.hpp)
};

class TcpSession {
 public:
  static constexpr size_t kMaxInput = 64 << 10;          // unread input kept at most
  static constexpr size_t kOutputHighWater = 256 << 10;  // stop producing above this
  static constexpr size_t kTurnWriteBudget = 1 << 20;    // bytes one session sends per turn
  static constexpr uint64_t kFollowBacklogMax = 16 << 20;

  TcpSession(Fd fd, const SockAddr& peer, int64_t now_ms);
  ~TcpSession();
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  int fd() const noexcept { return fd_.get(); }
  const std::string& peer() const noexcept { return peer_text_; }
  bool closing() const noexcept { return state_ == State::closing; }
  bool done() const noexcept { return closing() && out_.empty(); }
  // FOLLOW or an HTTP /events stream: fed every turn, never idle-closed.
  bool following() const noexcept;
  // An HTTP /events stream is open on this connection.
  bool http_events() const noexcept;
  // After the turn's commit: the answer to this connection's POST /notes (seq 0: refused
  // with reason).
  void http_committed(SessionContext& ctx, uint64_t seq, std::string_view reason);
  bool wants_read() const noexcept;
  bool wants_write(const SessionContext& ctx) const noexcept;

  // Reads what is there and answers complete command lines.
  void on_readable(SessionContext& ctx, int64_t now_ms);
  // Runs once per turn whether or not the socket is writable: sends pending output, streams
  // more of a HISTORY/FOLLOW (a FOLLOW picks up notes stored this turn), answers commands
  // that waited for a HISTORY's END. At most `budget` bytes are sent or scanned from the
  // store (the server shares one budget per turn among its sessions). Returns the bytes
  // spent.
  size_t pump_output(SessionContext& ctx, int64_t now_ms, size_t budget = kTurnWriteBudget);
  // Idle and stall limits. Returns the reason when the session must go now, else none.
  CloseReason check_timeouts(const SessionContext& ctx, int64_t now_ms) const noexcept;
  // Server stop: answer nothing more, give pending output (and the rest of a note line a
  // FOLLOW or HISTORY stands in) a last chance.
  void begin_shutdown(SessionContext& ctx);
  // Ends the connection at the end of this turn: pending output is dropped, the fd is closed
  // with a FIN (drain_input), never a reset. The first reason given sticks; detail (an errno
  // text, a file and byte offset) goes into the log line.
  void close_now(CloseReason why, std::string detail = {}) noexcept;
  // Before the fd closes: read away unread input, so close() does not send a reset that
  // could destroy the last reply ("ERR line too long") before the peer reads it.
  void drain_input() noexcept;
  CloseReason close_reason() const noexcept { return close_reason_; }
  const std::string& close_detail() const noexcept { return close_detail_; }

 private:
  // http: the first line was an HTTP request line; http_ speaks for the connection.
  enum class State { commands, history, follow, http, closing };

  void process_lines(SessionContext& ctx, int64_t now_ms);
  size_t write_some(SessionContext& ctx, int64_t now_ms, size_t budget);
  void execute(const Command& c, SessionContext& ctx);
  void write_clients(const Command& c, const Index& index, std::string& out) const;
  // Adds stream output (into out_, or straight to the socket with sendfile) within budget.
  // Returns the bytes spent: sent by sendfile, or read from the store for out_.
  size_t stream(SessionContext& ctx, size_t budget, int64_t now_ms);
  size_t stream_raw(SessionContext& ctx, size_t budget, int64_t now_ms);
  // notes.log could not give the rest: log it, end a HISTORY cleanly (exact END count).
  void store_read_stopped(SessionContext& ctx, const std::string& why);
  bool stream_finished(const SessionContext& ctx) const noexcept;
  // Ends a HISTORY or FOLLOW before BYE or a close: a raw stream that stopped mid-line gets
  // the rest of that line queued. False when the store could not give it (the session is
  // closed then with a store read error: a close is the only honest end).
  bool finish_stream_line(SessionContext& ctx);
  // recv/send on the socket failed with err (neither EINTR nor EAGAIN): close_now with
  // peer_reset when the peer is gone, else with socket_error and the errno text.
  void socket_failed(int err, const char* call);
  // Writes out_ to the socket; false when the socket failed (the session is closing).
  bool flush(SessionContext& ctx, size_t& budget, int64_t now_ms);
  void moved(int64_t now_ms) noexcept { last_io_ms_ = last_progress_ms_ = now_ms; }

  Fd fd_;
  SockAddr peer_addr_;
  std::string peer_text_;
  Buffer in_, out_;
  State state_ = State::commands;
  bool peer_eof_ = false;
  CloseReason close_reason_ = CloseReason::none;
  std::string close_detail_;
  int64_t last_io_ms_, last_progress_ms_;
  std::optional<HistoryCursor> cursor_;  // the running HISTORY or FOLLOW
  bool caught_up_ = false;    // FOLLOW: nothing was pending at the end of the last write
  // HTTP (SPEC "HTTP"): decided by the first non-empty line.
  bool first_line_ = true;
  std::unique_ptr<HttpSession> http_;
  size_t max_input_ = kMaxInput;  // HTTP: a head plus the largest POST body
  // Decides HTTP or line protocol from the first line; false while undecided.
  bool detect_http(SessionContext& ctx, int64_t now_ms);
  void on_http_input(SessionContext& ctx, int64_t now_ms);
};
