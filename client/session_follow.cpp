// session_follow.cpp — the interactive session's live notes (session.hpp): one FOLLOW
// connection, opened without blocking the poll() loop (a host that drops SYNs must not freeze
// the editor), resumed after a drop with backoff. Each (re)connection first asks `HISTORY
// LAST 1`: when the server's newest seq is below the newest shown here, the server holds
// another store (a fresh --data, a restored copy: seqs started again), which is said in one
// line, and the live display goes on from that store's newest note instead of waiting for a
// seq it may never reach. Then `FOLLOW SINCE <newest shown>` with the session's filters.
#include <algorithm>

#include "../common/clock.hpp"
#include "../common/net.hpp"
#include "../common/protocol.hpp"
#include "format.hpp"
#include "session.hpp"

namespace client {

namespace {

constexpr int kFollowConnectMs = 5000;  // a connection attempt pending this long is dropped
constexpr int kFollowBackoffMaxMs = 5000;

}  // namespace

std::string_view note_addr(std::string_view line) noexcept {
  size_t t1 = line.find('\t');
  size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
  size_t t3 = t2 == std::string_view::npos ? t2 : line.find('\t', t2 + 1);
  return t3 == std::string_view::npos ? std::string_view() : line.substr(t2 + 1, t3 - t2 - 1);
}

// The session's filters (--from, --grep, ...) for what comes after the newest note shown.
Filters Session::after_shown() const {
  Filters f = o_.filters;
  f.last.reset();
  if (last_shown_ > 0 || !f.since_ms) {
    f.since_seq = last_shown_;
    f.since_ms.reset();
  }
  return f;
}

void Session::open_follow() {
  std::string error;
  if (follow_addrs_.empty() && !resolve(o_.host, o_.tcp_port, SOCK_STREAM, follow_addrs_, error))
    return follow_retry();
  switch (follow_.start_connect(follow_addrs_, error)) {
    case TcpClient::Connect::failed: return follow_retry();
    case TcpClient::Connect::pending:
      follow_state_ = FollowState::connecting;
      follow_deadline_ms_ = mono_ms() + kFollowConnectMs;
      return;
    case TcpClient::Connect::done: return on_follow_connected();
  }
}

// Closed, or never connected: try again after the backoff (100 ms, doubling up to 5 s).
void Session::follow_retry() {
  follow_.close();
  follow_state_ = FollowState::off;
  follow_retry_ms_ = mono_ms() + follow_backoff_ms_;
  follow_backoff_ms_ = std::min(follow_backoff_ms_ * 2, kFollowBackoffMaxMs);
}

void Session::on_follow_event(short revents) {
  if (follow_state_ == FollowState::connecting) {
    if (!revents) {  // no answer to the SYN within kFollowConnectMs
      if (mono_ms() >= follow_deadline_ms_) follow_retry();
      return;
    }
    std::string error;
    switch (follow_.finish_connect(error)) {
      case TcpClient::Connect::failed: return follow_retry();
      case TcpClient::Connect::pending: follow_deadline_ms_ = mono_ms() + kFollowConnectMs; return;
      case TcpClient::Connect::done: return on_follow_connected();
    }
  }
  if (revents) on_follow_readable();
}

void Session::on_follow_connected() {
  std::string error;
  if (!follow_.send_line("HISTORY LAST 1", error)) return follow_retry();
  follow_state_ = FollowState::probing;
  probe_newest_ = 0;
}

// The probe's END: compare the server's newest seq with ours, then FOLLOW.
void Session::on_probe_end() {
  std::string out;
  if (probe_newest_ < last_shown_) {
    std::string where = endpoint_text(o_.host, o_.tcp_port);
    out += dim_text("(live notes: the server at " + where + " holds another store now (" +
                    (probe_newest_ ? "its newest note is #" + std::to_string(probe_newest_)
                                   : std::string("no notes yet")) +
                    ", below #" + std::to_string(last_shown_) +
                    " shown here); its new notes appear from here)") +
           "\n";
    last_shown_ = probe_newest_;
  }
  std::string error;
  if (!follow_.send_line("FOLLOW" + to_wire(after_shown()), error)) {
    if (!out.empty()) above(out);
    return follow_retry();
  }
  follow_state_ = FollowState::following;
  follow_backoff_ms_ = 100;
  if (follow_lost_said_) out += dim_text("(live notes: reconnected)") + "\n";
  follow_lost_said_ = false;
  if (!out.empty()) above(out);
}

void Session::on_follow_readable() {
  std::string out;
  while (follow_state_ == FollowState::probing || follow_state_ == FollowState::following) {
    std::string_view l;
    TcpClient::Read r = follow_.read_line(l, 0);
    if (r == TcpClient::Read::timeout) break;
    if (r != TcpClient::Read::line) {
      follow_retry();
      if (!follow_lost_said_) {
        out += dim_text("(live notes: connection to the server lost; reconnecting)") + "\n";
        follow_lost_said_ = true;
      }
      break;
    }
    if (l.rfind("ERR ", 0) == 0) {
      std::string reason;
      append_terminal_safe(reason, l.substr(4));
      out += dim_text("(live notes refused by the server: " + reason + "; r shows new notes)") + "\n";
      follow_.close();
      follow_state_ = FollowState::dead;
      break;
    }
    auto seq = parse_u64(l.substr(0, l.find('\t')));
    if (follow_state_ == FollowState::probing) {
      if (l == "END" || l.rfind("END ", 0) == 0) on_probe_end();
      else if (seq) probe_newest_ = *seq;
      continue;
    }
    if (seq && *seq <= last_shown_) continue;  // shown already (by r)
    if (seq) last_shown_ = *seq;
    if (note_addr(l) == own_addr_) continue;  // our own note: its "#seq" said it
    printer_.add(l, out);
  }
  printer_.flush(out);
  if (!out.empty()) above(out);
}

}  // namespace client
