// tcp_session.cpp — see tcp_session.hpp.
#include "tcp_session.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace {

bool is_quit(std::string_view line) noexcept {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.size() != 4) return false;
  for (size_t i = 0; i < 4; ++i)
    if ((line[i] & ~0x20) != "QUIT"[i]) return false;
  return true;
}

void append_u64(std::string& s, uint64_t v) { s += std::to_string(v); }

}  // namespace

TcpSession::TcpSession(Fd fd, const SockAddr& peer, int64_t now_ms)
    : fd_(std::move(fd)),
      peer_addr_(peer),
      peer_text_(peer.to_string()),
      last_io_ms_(now_ms),
      last_progress_ms_(now_ms) {}

bool TcpSession::wants_read() const noexcept {
  return state_ != State::closing && !peer_eof_ && in_.size() < kMaxInput;
}

bool TcpSession::wants_write(const SessionContext& ctx) const noexcept {
  if (!out_.empty()) return true;
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
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      abort("connection reset by peer");
      return;
    }
    break;
  }
  process_lines(ctx, now_ms);
  if (peer_eof_ && state_ == State::commands && in_.view().find('\n') == std::string::npos)
    state_ = State::closing;  // the peer is done: send what is left, then close
}

void TcpSession::process_lines(SessionContext& ctx, int64_t now_ms) {
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
      ++ctx.stats.tcp_closed_line_too_long;
      out_.append("ERR line too long\n");
      close_reason_ = "line too long";
      state_ = State::closing;
      in_.clear();
      return;
    }
    if (nl == std::string_view::npos) return;
    std::string copy(line);  // consume() may reuse the memory line points into
    in_.consume(nl + 1);
    if (state_ == State::follow) {
      if (is_quit(copy)) {
        out_.append("BYE\n");
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
    case Command::Kind::clients: {
      char t1[kTimeLen], t2[kTimeLen];
      for (const Index::Client& cl : ctx.index.clients()) {
        format_time_ms(cl.first_ms, t1);
        format_time_ms(cl.last_ms, t2);
        out += cl.addr;
        out += '\t';
        append_u64(out, cl.notes);
        out += '\t';
        out.append(t1, kTimeLen);
        out += '\t';
        out.append(t2, kTimeLen);
        out += '\n';
      }
      out += "END ";
      append_u64(out, ctx.index.clients().size());
      out += '\n';
      break;
    }
    case Command::Kind::history:
      start_stream(c, ctx, State::history);
      break;
    case Command::Kind::follow:
      start_stream(c, ctx, State::follow);
      break;
  }
}

void TcpSession::start_stream(const Command& c, SessionContext& ctx, State state) {
  const Store& st = ctx.store;
  from_ = c.from;
  if (!from_) {
    pos_ = st.position_after(c.since);
    end_ = st.count();
  } else {
    const std::vector<uint32_t>* list = ctx.index.positions(*from_);
    end_ = list ? list->size() : 0;
    pos_ = 0;
    if (list) {  // first listed note with seq > since
      pos_ = static_cast<uint64_t>(
          std::upper_bound(list->begin(), list->end(), c.since,
                           [&](uint64_t s, uint32_t p) { return s < st.seq_at(p); }) -
          list->begin());
    }
  }
  if (c.last && end_ - pos_ > *c.last) pos_ = end_ - *c.last;
  lines_ = end_ - pos_;
  if (!from_) {
    byte_off_ = pos_ < st.count() ? st.offset_at(pos_) : st.bytes();
    end_ = st.bytes();  // no FROM: the snapshot ends at this byte
  }
  follow_base_ = st.bytes();
  state_ = state;
}

uint64_t TcpSession::stream_end_pos(const SessionContext& ctx) const noexcept {
  if (state_ == State::history) return end_;
  if (!from_) return ctx.store.bytes();
  const std::vector<uint32_t>* list = ctx.index.positions(*from_);
  return list ? list->size() : 0;
}

bool TcpSession::stream_finished(const SessionContext& ctx) const noexcept {
  return (from_ ? pos_ : byte_off_) >= stream_end_pos(ctx);
}

size_t TcpSession::stream(SessionContext& ctx, size_t budget, int64_t now_ms) {
  if (!from_) return stream_range(ctx, budget, now_ms);
  const std::vector<uint32_t>* list = ctx.index.positions(*from_);
  if (list) stream_positions(ctx, *list);
  return 0;
}

size_t TcpSession::stream_range(SessionContext& ctx, size_t budget, int64_t now_ms) {
  // Whole lines straight from the page cache: notes.log is already in the wire format.
  uint64_t end = stream_end_pos(ctx);
  size_t moved_bytes = 0;
  while (byte_off_ < end && budget > 0) {
    off_t off = static_cast<off_t>(byte_off_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(end - byte_off_, budget));
    ssize_t n = ::sendfile(fd_.get(), ctx.store.log_fd(), &off, want);
    if (n > 0) {
      byte_off_ += static_cast<uint64_t>(n);
      budget -= static_cast<size_t>(n);
      moved_bytes += static_cast<size_t>(n);
      ctx.stats.tcp_history_bytes += static_cast<uint64_t>(n);
      moved(now_ms);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    abort(n == 0 ? "store read ended early" : "connection reset by peer");
    break;
  }
  return moved_bytes;
}

void TcpSession::stream_positions(SessionContext& ctx, const std::vector<uint32_t>& list) {
  // Scattered lines: read a span of notes.log into the shared scratch buffer, copy out the
  // lines this filter selects, repeat while the output stays under its high-water mark.
  const Store& st = ctx.store;
  uint64_t limit = state_ == State::history ? end_ : list.size();
  std::vector<char>& scratch = ctx.scratch;
  // Fill to kFromFill at most (at least one line): with the buffer's growth and compaction
  // that keeps a HISTORY FROM download under 256 KiB of memory.
  constexpr size_t kFromFill = 96 << 10;
  while (pos_ < limit && out_.size() < kFromFill) {
    const uint64_t room = kFromFill - out_.size();
    uint64_t first = st.offset_at(list[pos_]);
    uint64_t span_end = st.end_at(list[pos_]);
    uint64_t taken = span_end - first;
    uint64_t j = pos_ + 1;
    while (j < limit) {
      uint64_t b = st.offset_at(list[j]), e = st.end_at(list[j]);
      if (e - first > scratch.size() || taken + (e - b) > room) break;
      span_end = e;
      taken += e - b;
      ++j;
    }
    size_t span = static_cast<size_t>(span_end - first);
    if (span > scratch.size()) scratch.resize(span);
    size_t got = 0;
    while (got < span) {
      ssize_t n = ::pread(st.log_fd(), scratch.data() + got, span - got,
                          static_cast<off_t>(first + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        abort("store read failed");
        return;
      }
      got += static_cast<size_t>(n);
    }
    std::string& out = out_.tail();
    uint64_t run_b = 0, run_e = 0;  // coalesce lines that sit next to each other
    for (uint64_t x = pos_; x < j; ++x) {
      uint64_t b = st.offset_at(list[x]) - first, e = st.end_at(list[x]) - first;
      if (b != run_e) {
        out.append(scratch.data() + run_b, run_e - run_b);
        run_b = b;
      }
      run_e = e;
    }
    out.append(scratch.data() + run_b, run_e - run_b);
    pos_ = j;
  }
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
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    abort("connection reset by peer");
    return false;
  }
  if (out_.empty()) out_.shrink();
  return true;
}

size_t TcpSession::on_writable(SessionContext& ctx, int64_t now_ms, size_t budget) {
  // A follower that had caught up starts its stall clock when new notes arrive, not before.
  if (caught_up_) last_progress_ms_ = now_ms;
  size_t spent = write_some(ctx, now_ms, budget);
  caught_up_ = state_ == State::follow && out_.empty() && stream_finished(ctx);
  return spent;
}

size_t TcpSession::write_some(SessionContext& ctx, int64_t now_ms, const size_t total) {
  size_t budget = total;
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (!flush(ctx, budget, now_ms)) return total - budget;
    if (!out_.empty() || budget == 0) return total - budget;  // socket full, or share spent
    if (state_ == State::history || state_ == State::follow) {
      if (stream_finished(ctx)) {
        if (state_ == State::follow) return total - budget;
        out_.append("END " + std::to_string(lines_) + "\n");
        state_ = State::commands;
        from_.reset();
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

const char* TcpSession::check_timeouts(const SessionContext& ctx,
                                       int64_t now_ms) const noexcept {
  const int64_t idle_ms = static_cast<int64_t>(ctx.cfg.idle_timeout_s) * 1000;
  if (state_ == State::closing) return now_ms - last_progress_ms_ > 2000 ? "closing" : nullptr;
  bool pending = !out_.empty() || state_ == State::history ||
                 (state_ == State::follow && !stream_finished(ctx));
  if (pending && now_ms - last_progress_ms_ > idle_ms) return "output stalled";
  if (state_ == State::follow) {
    // The backlog: bytes of notes stored since FOLLOW began that it has not taken yet (for
    // FROM, the span from its next note to its last one: an upper bound).
    const Store& st = ctx.store;
    uint64_t from = 0, to = 0;
    if (!from_) {
      from = byte_off_;
      to = st.bytes();
    } else if (const std::vector<uint32_t>* list = ctx.index.positions(*from_);
               list && pos_ < list->size()) {
      from = st.offset_at((*list)[pos_]);
      to = st.end_at(list->back());
    }
    from = std::max(from, follow_base_);
    if (to > from && to - from > kFollowBacklogMax) return "follower backlog over 16 MiB";
  }
  if (!pending && state_ != State::follow && now_ms - last_io_ms_ > idle_ms) return "idle";
  return nullptr;
}

void TcpSession::begin_shutdown() noexcept {
  if (state_ != State::closing) state_ = State::closing;
}

void TcpSession::abort(const char* reason) noexcept {
  state_ = State::closing;
  out_.clear();
  if (!close_reason_) close_reason_ = reason;
}

void TcpSession::drain_input() noexcept {
  char buf[16 << 10];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) break;
  }
  ::shutdown(fd_.get(), SHUT_WR);
}
