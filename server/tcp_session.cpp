// tcp_session.cpp — see tcp_session.hpp.
#include "tcp_session.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "http_request.hpp"
#include "http_session.hpp"
#include "log.hpp"

namespace {

// HTTP /notes and /events fill the output to this, like HISTORY's kStreamFill (JSON is a
// little longer than the note lines it comes from).
constexpr size_t kHttpFill = 96 << 10;

bool is_quit(std::string_view line) noexcept {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.size() != 4) return false;
  for (size_t i = 0; i < 4; ++i)
    if ((line[i] & ~0x20) != "QUIT"[i]) return false;
  return true;
}

}  // namespace

TcpSession::TcpSession(Fd fd, const SockAddr& peer, int64_t now_ms)
    : fd_(std::move(fd)),
      peer_addr_(peer),
      peer_text_(peer.to_string()),
      last_io_ms_(now_ms),
      last_progress_ms_(now_ms) {}

TcpSession::~TcpSession() = default;

bool TcpSession::wants_read() const noexcept {
  return state_ != State::closing && !peer_eof_ && in_.size() < max_input_;
}

bool TcpSession::following() const noexcept {
  return state_ == State::follow || http_events();
}

bool TcpSession::http_events() const noexcept {
  return state_ == State::http && http_->events();
}

void TcpSession::http_committed(SessionContext& ctx, uint64_t seq, std::string_view reason) {
  if (state_ == State::http) http_->on_committed(ctx, out_, seq, reason);
}

bool TcpSession::detect_http(SessionContext& ctx, int64_t now_ms) {
  // SPEC "HTTP": the first non-empty line decides. Empty lines are skipped as the line
  // protocol skips them; a first line that may still become a request line waits for up to
  // 8 KiB (the HTTP head limit) before the 1024-byte line limit applies.
  std::string_view b = in_.view();
  size_t at = 0;
  while (at < b.size() && (b[at] == '\n' || (b[at] == '\r' && b.substr(at, 2) == "\r\n")))
    at += b[at] == '\n' ? 1 : 2;
  std::string_view rest = b.substr(at);
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    // Only "WORD /..." earns the 8 KiB: a longer run of capitals alone is a line-protocol line.
    bool word_space_slash = rest.find(' ') != std::string_view::npos;
    if (http::may_become_request_line(rest) && rest.size() <= http::kMaxHead &&
        (rest.size() < kMaxCommandLine || word_space_slash))
      return false;
    first_line_ = false;
    return true;
  }
  first_line_ = false;
  if (!http::is_request_line(rest.substr(0, nl))) return true;
  http_ = std::make_unique<HttpSession>(this, peer_addr_, peer_text_);
  max_input_ = HttpSession::input_limit(ctx.cfg);
  state_ = State::http;
  (void)now_ms;
  return true;
}

void TcpSession::on_http_input(SessionContext& ctx, int64_t now_ms) {
  http_->on_input(ctx, in_, out_, kOutputHighWater, now_ms);
  if (http_->busy()) return;
  if (http_->close_after() || (peer_eof_ && out_.size() < kOutputHighWater))
    state_ = State::closing;  // the response says close, or the peer is done: send, close
}

bool TcpSession::wants_write(const SessionContext& ctx) const noexcept {
  if (!out_.empty()) return true;
  if (state_ == State::http) return http_->can_produce(ctx);
  if (state_ == State::history) return true;
  if (state_ == State::follow) return !stream_finished(ctx);
  return false;
}

void TcpSession::on_readable(SessionContext& ctx, int64_t now_ms) {
  size_t read_this_turn = 0;
  while (wants_read() && read_this_turn < kMaxInput) {
    // Into a stack buffer, then only the bytes that came: an idle connection that sent
    // "PING" keeps a few bytes, not a 16 KiB reservation.
    char buf[16 << 10];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(std::string_view(buf, static_cast<size_t>(n)));
      read_this_turn += static_cast<size_t>(n);
      last_io_ms_ = now_ms;
      continue;
    }
    if (n == 0) {
      peer_eof_ = true;
      break;
    }
    const int err = errno;
    const ErrnoKind kind = classify_socket_errno(err);
    if (kind == ErrnoKind::retry) continue;
    if (kind != ErrnoKind::again) {
      socket_failed(err, "recv");
      return;
    }
    break;
  }
  process_lines(ctx, now_ms);
  if (peer_eof_ && state_ == State::commands && in_.view().find('\n') == std::string::npos)
    state_ = State::closing;  // the peer is done: send what is left, then close
}

void TcpSession::process_lines(SessionContext& ctx, int64_t now_ms) {
  if (first_line_ && state_ == State::commands && ctx.cfg.http && !detect_http(ctx, now_ms))
    return;  // undecided: wait for the rest of the first line
  if (state_ == State::http) return on_http_input(ctx, now_ms);
  while ((state_ == State::commands || state_ == State::follow) &&
         out_.size() < kOutputHighWater) {
    std::string_view buf = in_.view();
    size_t nl = buf.find('\n');
    size_t line_len = nl == std::string_view::npos ? buf.size() : nl;
    std::string_view line = buf.substr(0, line_len);
    if (!line.empty() && line.back() == '\r' && nl != std::string_view::npos)
      line.remove_suffix(1);
    // 1024 bytes with no terminator in sight, or a complete line longer than that.
    if (line.size() > kMaxCommandLine ||
        (nl == std::string_view::npos && buf.size() >= kMaxCommandLine)) {
      out_.append("ERR line too long\n");
      close_reason_ = CloseReason::line_too_long;  // the ERR line is still sent
      state_ = State::closing;
      in_.clear();
      return;
    }
    if (nl == std::string_view::npos) return;
    std::string copy(line);  // consume() may reuse the memory line points into
    in_.consume(nl + 1);
    if (state_ == State::follow) {
      if (is_quit(copy)) {
        if (finish_stream_line(ctx)) out_.append("BYE\n");
        state_ = State::closing;
      }
      continue;  // a follower only streams; other lines are ignored
    }
    ParsedCommand pc = parse_command(copy);
    if (!pc.command && pc.error.empty()) continue;  // blank line
    ++ctx.stats.tcp_commands;
    last_progress_ms_ = now_ms;
    if (!pc.command) {
      out_.append("ERR " + pc.error + "\n");
      continue;
    }
    execute(*pc.command, ctx);
  }
}

void TcpSession::execute(const Command& c, SessionContext& ctx) {
  std::string& out = out_.tail();
  switch (c.kind) {
    case Command::Kind::ping:
      out += "PONG\n";
      break;
    case Command::Kind::quit:
      out += "BYE\n";
      state_ = State::closing;
      break;
    case Command::Kind::stats:
      ctx.write_stats(out);
      out += "END\n";
      break;
    case Command::Kind::clients:
      write_clients(c, ctx.index, out);
      break;
    case Command::Kind::history:
    case Command::Kind::follow: {
      const bool follow = c.kind == Command::Kind::follow;
      cursor_.emplace(c.filters,
                      follow ? HistoryCursor::Mode::follow : HistoryCursor::Mode::snapshot,
                      ctx.store, ctx.index);
      state_ = follow ? State::follow : State::history;
      break;
    }
  }
}

void TcpSession::write_clients(const Command& c, const Index& index, std::string& out) const {
  // "ADDR\tNOTES\tFIRST\tLAST\n" per client; with HOSTS "IP\tNOTES\tFIRST\tLAST\tPORTS\n".
  char t[kTimeLen];
  auto row = [&](const std::string& name, uint64_t notes, int64_t first_ms, int64_t last_ms) {
    out += name;
    out += '\t';
    append_u64(out, notes);
    out += '\t';
    format_time_ms(first_ms, t);
    out.append(t, kTimeLen);
    out += '\t';
    format_time_ms(last_ms, t);
    out.append(t, kTimeLen);
  };
  if (c.hosts) {
    for (const Index::Host& h : index.hosts()) {
      row(h.ip, h.notes, h.first_ms, h.last_ms);
      out += '\t';
      append_u64(out, h.ports);
      out += '\n';
    }
  } else {
    for (const Index::Client& cl : index.clients()) {
      row(cl.addr, cl.notes, cl.first_ms, cl.last_ms);
      out += '\n';
    }
  }
  out += "END ";
  append_u64(out, c.hosts ? index.hosts().size() : index.clients().size());
  out += '\n';
}

bool TcpSession::stream_finished(const SessionContext& ctx) const noexcept {
  return !cursor_ || cursor_->at_end(ctx.store, ctx.index);
}

size_t TcpSession::stream(SessionContext& ctx, size_t budget, int64_t now_ms) {
  // No line filter: the whole store, or a long run of adjacent FROM notes (out_ is empty
  // here, so sendfile keeps the order).
  if (cursor_->raw() || cursor_->start_run(ctx.store, ctx.index))
    return stream_raw(ctx, budget, now_ms);
  // Filtered: the cursor scans the store in chunks and the selected lines go to out_, up to
  // kStreamFill (at least one line) so a download stays under 256 KiB of memory with the
  // buffer's growth and compaction.
  constexpr size_t kStreamFill = 96 << 10;
  if (out_.size() >= kStreamFill) return 0;
  std::string& out = out_.tail();
  const size_t before = out.size();
  size_t read = cursor_->produce(ctx.store, ctx.index, ctx.scratch, budget,
                                 kStreamFill - out_.size(),
                                 [&out](std::string_view line) { out.append(line); });
  ctx.stats.tcp_history_bytes += out.size() - before;  // queued now, sent by flush()
  if (cursor_->failed()) store_read_stopped(ctx, cursor_->error());
  if (read > 0) last_progress_ms_ = now_ms;  // a scan that finds little still moves on
  return read;
}

size_t TcpSession::stream_raw(SessionContext& ctx, size_t budget, int64_t now_ms) {
  // Whole lines straight from the page cache: notes.log is already in the wire format.
  // Never past what notes.log still holds of what the server wrote (truncated underneath).
  const uint64_t end = std::min(cursor_->raw_end(ctx.store), ctx.store.readable_end());
  if (cursor_->raw_offset() >= end && end < cursor_->raw_end(ctx.store)) {
    store_read_stopped(ctx, "notes.log holds fewer bytes than the server wrote (truncated "
                            "underneath it)");
    return 0;
  }
  size_t moved_bytes = 0;
  while (cursor_->raw_offset() < end && budget > 0) {
    off_t off = static_cast<off_t>(cursor_->raw_offset());
    size_t want = static_cast<size_t>(std::min<uint64_t>(end - cursor_->raw_offset(), budget));
    ssize_t n = ::sendfile(fd_.get(), ctx.store.log_fd(), &off, want);
    if (n > 0) {
      cursor_->raw_advance(static_cast<uint64_t>(n));
      budget -= static_cast<size_t>(n);
      moved_bytes += static_cast<size_t>(n);
      ctx.stats.tcp_history_bytes += static_cast<uint64_t>(n);
      moved(now_ms);
      continue;
    }
    const ErrnoKind kind = n < 0 ? classify_socket_errno(errno) : ErrnoKind::local;
    if (kind == ErrnoKind::retry) continue;
    if (kind == ErrnoKind::again) break;
    if (kind == ErrnoKind::peer_gone) {
      close_now(CloseReason::peer_reset);
      break;
    }
    // The file, not the peer: it ended early (truncated meanwhile) or could not be read.
    store_read_stopped(ctx, n == 0 ? std::string("notes.log ended early")
                                   : std::string("reading notes.log failed: ") +
                                         std::strerror(errno));
    break;
  }
  return moved_bytes;
}

void TcpSession::store_read_stopped(SessionContext& ctx, const std::string& why) {
  // One log line with file and byte offset; the reply ends cleanly with END counting the
  // lines sent, unless a line was cut in the middle (then only a close is honest), or this
  // is a FOLLOW (no END to send).
  const Store& st = ctx.store;
  const uint64_t at = cursor_->raw() ? cursor_->raw_offset() : 0;
  const bool whole = !cursor_->raw() || at == st.bytes() || st.position_at(at) != st.position_at(at + 1);
  std::string where = cursor_->raw() ? " at byte " + std::to_string(at) + " of " + st.log_path()
                                     : "";
  if (state_ == State::history && whole) {
    cursor_->end_early(st);
    log_line("HISTORY for " + peer_text_ + " ended early" + where + ": " + why + "; END " +
             std::to_string(cursor_->lines()) + " counts the lines sent");
    return;
  }
  close_now(CloseReason::store_read_failed, why + where);
}

bool TcpSession::flush(SessionContext& ctx, size_t& budget, int64_t now_ms) {
  (void)ctx;
  while (!out_.empty() && budget > 0) {
    size_t want = std::min(out_.size(), budget);
    ssize_t n = ::send(fd_.get(), out_.data(), want, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
      budget -= static_cast<size_t>(n);
      moved(now_ms);
      continue;
    }
    const int err = n < 0 ? errno : ECONNRESET;  // (send never returns 0 for a TCP socket)
    const ErrnoKind kind = classify_socket_errno(err);
    if (kind == ErrnoKind::retry) continue;
    if (kind == ErrnoKind::again) return true;
    socket_failed(err, "send");
    return false;
  }
  if (out_.empty()) out_.shrink();
  return true;
}

size_t TcpSession::pump_output(SessionContext& ctx, int64_t now_ms, size_t budget) {
  // A follower that had caught up starts its stall clock when new notes arrive, not before.
  if (caught_up_) last_progress_ms_ = now_ms;
  size_t spent = write_some(ctx, now_ms, budget);
  caught_up_ = (state_ == State::follow && out_.empty() && stream_finished(ctx)) ||
               (http_events() && out_.empty() && !http_->can_produce(ctx));
  return spent;
}

size_t TcpSession::write_some(SessionContext& ctx, int64_t now_ms, const size_t total) {
  size_t budget = total;
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (!flush(ctx, budget, now_ms)) return total - budget;
    if (!out_.empty() || budget == 0) return total - budget;  // socket full, or share spent
    if (state_ == State::http) {
      size_t before = out_.size(), read = 0;
      if (http_->busy())
        read = http_->produce(ctx, out_, kHttpFill, budget, now_ms);
      else if (!in_.empty())
        on_http_input(ctx, now_ms);  // pipelined requests waited for the last response
      budget -= std::min(read, budget);  // a MATCH scan costs what sending costs
      if (read > 0) last_progress_ms_ = now_ms;
      if (out_.size() != before) continue;
      if (read > 0 && budget > 0) continue;
      if (state_ == State::http && !http_->busy() && (http_->close_after() || peer_eof_))
        state_ = State::closing;
      return total - budget;
    }
    if (state_ == State::history || state_ == State::follow) {
      if (stream_finished(ctx)) {
        if (state_ == State::follow) return total - budget;
        out_.append("END " + std::to_string(cursor_->lines()) + "\n");
        state_ = State::commands;
        cursor_.reset();
        process_lines(ctx, now_ms);  // pipelined commands waited for this
        continue;
      }
      size_t before = out_.size();
      size_t sent = stream(ctx, budget, now_ms);
      budget -= std::min(sent, budget);
      if (sent == 0 && out_.size() == before) return total - budget;  // socket full
      continue;
    }
    if (state_ == State::commands && in_.view().find('\n') != std::string_view::npos) {
      process_lines(ctx, now_ms);
      if (!out_.empty()) continue;
    }
    if (state_ == State::commands && peer_eof_ && in_.view().find('\n') == std::string::npos)
      state_ = State::closing;
    return total - budget;
  }
  return total - budget;
}

CloseReason TcpSession::check_timeouts(const SessionContext& ctx,
                                       int64_t now_ms) const noexcept {
  using R = CloseReason;
  const int64_t idle_ms = static_cast<int64_t>(ctx.cfg.idle_timeout_s) * 1000;
  if (state_ == State::closing)
    return now_ms - last_progress_ms_ > 2000 ? R::closing_stalled : R::none;
  if (state_ == State::commands && first_line_ && ctx.cfg.http && !in_.empty() &&
      now_ms - last_progress_ms_ > idle_ms)
    return R::request_incomplete;  // a slowloris before the decision
  if (state_ == State::http) {
    bool pending = !out_.empty() || http_->can_produce(ctx);
    if (pending && now_ms - last_progress_ms_ > idle_ms) return R::output_stalled;
    if (R why = http_->check(ctx, now_ms, !in_.empty(), kFollowBacklogMax); why != R::none)
      return why;
    if (!pending && !http_->busy() && now_ms - last_io_ms_ > idle_ms) return R::idle;
    return R::none;
  }
  bool pending = !out_.empty() || state_ == State::history ||
                 (state_ == State::follow && !stream_finished(ctx));
  if (pending && now_ms - last_progress_ms_ > idle_ms) return R::output_stalled;
  if (state_ == State::follow) {
    // The backlog: bytes of notes stored since FOLLOW began that it has not taken yet.
    if (cursor_ && cursor_->backlog_bytes(ctx.store, ctx.index) > kFollowBacklogMax)
      return R::follower_backlog;
  }
  if (!pending && state_ != State::follow && now_ms - last_io_ms_ > idle_ms) return R::idle;
  return R::none;
}

void TcpSession::begin_shutdown(SessionContext& ctx) {
  if (state_ == State::closing) return;
  finish_stream_line(ctx);
  state_ = State::closing;
}

bool TcpSession::finish_stream_line(SessionContext& ctx) {
  if (!cursor_) return true;
  const size_t before = out_.size();
  const bool ok = cursor_->finish_line(ctx.store, out_.tail());
  ctx.stats.tcp_history_bytes += out_.size() - before;
  if (!ok) {  // half a line and a close is all that is left to say
    close_now(CloseReason::store_read_failed,
              "in the middle of a note line: " + cursor_->error());
  }
  cursor_.reset();  // the stream ends here
  return ok;
}

void TcpSession::close_now(CloseReason why, std::string detail) noexcept {
  state_ = State::closing;
  out_.clear();
  if (close_reason_ != CloseReason::none) return;
  close_reason_ = why;
  close_detail_ = std::move(detail);
}

void TcpSession::socket_failed(int err, const char* call) {
  if (classify_socket_errno(err) == ErrnoKind::peer_gone)
    return close_now(CloseReason::peer_reset);
  close_now(CloseReason::socket_error, std::string(call) + ": " + std::strerror(err));
}

void TcpSession::drain_input() noexcept {
  char buf[16 << 10];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
  }
  ::shutdown(fd_.get(), SHUT_WR);
}
