// http_session.hpp — HttpSession: the HTTP side of one TCP connection (SPEC.md "HTTP: the
// notebook in a browser"), once its first line was an HTTP request line. It is a protocol
// handler over the TcpSession's buffers: the TcpSession keeps the fd, reads into `in`,
// writes `out`, and applies the idle and stall limits; HttpSession parses requests
// (http_request.hpp), answers them in order, streams /notes and /events from the store as
// `out` drains, and queues POSTed notes for the turn's group commit. Never owns the fd.
//
// States: requests — parses and answers complete requests (pipelined ones in order);
//         notes    — streams a /notes snapshot (chunked, or until close for HTTP/1.0);
//         events   — streams /events for the rest of the connection;
//         commit   — a POST waits for the turn's commit; later requests wait behind it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/buffer.hpp"
#include "../common/net.hpp"
#include "exactly_once.hpp"
#include "../common/filters.hpp"
#include "close_reason.hpp"
#include "history_cursor.hpp"
#include "http_request.hpp"
#include "rate_limit.hpp"

class TcpSession;
struct SessionContext;
struct Config;

// A POSTed note waiting for its commit (after the commit's UDP notes, same write and
// fdatasync). A session that closes before its commit ends is set to nullptr there
// (Server::close_finished): the note is still stored, nobody is answered.
struct HttpPost {
  TcpSession* session = nullptr;
  std::string text;
  std::string addr;  // the TCP peer, "IP:PORT"
  int64_t time_ms = 0;
  uint64_t client_id = 0;  // from the Idempotency-Key; 0 without one
  bool duplicate = false;  // a retry of a key: answered from the table after the commit
};

// What HTTP sessions share with the server (one per server).
struct HttpShared {
  ExactlyOnce& once;
  RateLimiter& rate;
  std::vector<HttpPost> posts;  // waiting for the next commit, in arrival order
};

// The FILTERS of a /notes or /events QUERY (SPEC "HTTP": from, since, until, last, match,
// decoded; plus before=SEQ, the page's "older" button: notes with seq < SEQ). For /events, a
// Last-Event-ID (last_event_id) replaces since and last: the stream resumes after that seq.
// Other parameters are ignored. "" and f filled, or the reason for a 400.
std::string query_filters(const std::vector<std::pair<std::string, std::string>>& params,
                          std::optional<uint64_t> last_event_id, Filters& f);

// The exactly-once client id of an Idempotency-Key (SPEC: 1-64 bytes of [A-Za-z0-9_-]):
// ExactlyOnce::key_client_id(key); its note carries message number 1. nullopt for a key
// that breaks the rule (400).
std::optional<uint64_t> idempotency_id(std::string_view key) noexcept;

class HttpSession {
 public:
  static constexpr int64_t kEventsCommentMs = 15000;  // SSE comment at least this often
  static constexpr int kEventsRetryMs = 2000;         // the browser's reconnect delay

  // owner: the TcpSession whose buffers this handler works on (named in queued POSTs).
  HttpSession(TcpSession* owner, const SockAddr& peer, std::string peer_text);

  // Parses and answers the complete requests in `in` while nothing streams or waits and
  // `out` is under high_water.
  void on_input(SessionContext& ctx, Buffer& in, Buffer& out, size_t high_water,
                int64_t now_ms);
  // Streams more of a /notes or /events response into out, up to high_water, reading at most
  // about read_budget store bytes (a MATCH scan costs what sending costs); SSE comments.
  // Returns the store bytes read.
  size_t produce(SessionContext& ctx, Buffer& out, size_t high_water, size_t read_budget,
                 int64_t now_ms);
  // After the turn's commit: the POST's seq, or 0 with the refusal reason.
  void on_committed(SessionContext& ctx, Buffer& out, uint64_t seq, std::string_view reason);

  bool busy() const noexcept { return state_ != State::requests; }
  bool events() const noexcept { return state_ == State::events; }
  // More output could be produced now (a /notes snapshot not sent yet, new notes for SSE).
  bool can_produce(const SessionContext& ctx) const noexcept;
  // The last response said the connection closes: close once out is sent.
  bool close_after() const noexcept { return close_after_; }
  // Input kept unread at most: a request head plus the largest body.
  static size_t input_limit(const Config& cfg) noexcept;
  static size_t max_body(const Config& cfg) noexcept;
  // Limits beyond the TcpSession's: a request left incomplete for --idle-timeout
  // (slowloris), an SSE backlog over the follower limit. A reason to close, or none.
  CloseReason check(const SessionContext& ctx, int64_t now_ms, bool have_input,
                    uint64_t backlog_limit) const noexcept;

 private:
  enum class State { requests, notes, events, commit };

  void handle(SessionContext& ctx, const http::Request& r, Buffer& out, int64_t now_ms);
  void post_note(SessionContext& ctx, const http::Request& r, Buffer& out, int64_t now_ms);
  void start_feed(SessionContext& ctx, const http::Request& r, Buffer& out, bool events);
  // Status line and headers (security headers always); body_len < 0: no Content-Length.
  void head(SessionContext& ctx, Buffer& out, int status, std::string_view type,
            long long body_len, std::string_view extra = {});
  void respond(SessionContext& ctx, Buffer& out, int status, std::string_view type,
               std::string_view body, std::string_view extra = {});
  void error(SessionContext& ctx, Buffer& out, int status, std::string_view reason,
             bool close = false, std::string_view extra = {});

  TcpSession* owner_;
  SockAddr peer_;
  std::string peer_text_;
  State state_ = State::requests;
  bool close_after_ = false;
  bool head_only_ = false;   // HEAD: headers of the GET, no body
  bool chunked_ = false;     // /notes over HTTP/1.1
  bool keep_alive_ = true;   // of the request being answered
  int64_t partial_since_ms_ = -1;  // when the unfinished request in `in` began arriving
  bool continue_sent_ = false;     // "100 Continue" went out for the unfinished request
  int64_t last_event_ms_ = 0;      // SSE: last bytes produced
  std::optional<HistoryCursor> cursor_;  // the running /notes or /events
};
