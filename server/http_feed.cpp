// http_feed.cpp — see http_feed.hpp.
#include "http_feed.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

bool parse_note_query(const std::vector<std::pair<std::string, std::string>>& params,
                      NoteQuery& q, std::string& error) {
  // The line protocol's own parser checks from/since/last: one set of rules for both.
  std::string line = "HISTORY";
  bool seen_before = false;
  for (const auto& [name, value] : params) {
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7F) {
        error = name + " holds a space or control character";
        return false;
      }
    }
    if (name == "from" || name == "since" || name == "last") {
      line += ' ';
      line += name;
      line += ' ';
      line += value;
    } else if (name == "before") {
      auto n = parse_u64(value);
      if (!n || seen_before) {
        error = seen_before ? "before given twice" : "before wants a seq, not '" + value + "'";
        return false;
      }
      seen_before = true;
      q.before = *n;
    } else if (name == "until" || name == "match") {
      error = name + " is not supported yet";
      return false;
    }
  }
  if (line.size() > kMaxCommandLine) {
    error = "query too long";
    return false;
  }
  ParsedCommand pc = parse_command(line);
  if (!pc.command) {
    error = pc.error.empty() ? "bad query" : pc.error;
    return false;
  }
  q.filters = *pc.command;
  return true;
}

void NoteFeed::start(const NoteQuery& q, const SessionContext& ctx, bool follow) {
  const Store& st = ctx.store;
  const Command& c = q.filters;
  from_ = c.from;
  follow_ = follow;
  before_ = q.before;
  if (!from_) {
    next_ = st.position_after(c.since);
    end_ = st.count();
  } else {
    const std::vector<uint32_t>* list = ctx.index.positions(*from_);
    end_ = list ? list->size() : 0;
    next_ = 0;
    if (list)  // first listed note with seq > since
      next_ = static_cast<uint64_t>(
          std::upper_bound(list->begin(), list->end(), c.since,
                           [&](uint64_t s, uint32_t p) { return s < st.seq_at(p); }) -
          list->begin());
  }
  if (before_) {  // seqs rise with positions: cut the snapshot at the first seq >= before
    uint64_t lo = next_, hi = end_;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (st.seq_at(position(ctx, mid)) < before_) lo = mid + 1; else hi = mid;
    }
    end_ = lo;
  }
  if (c.last && end_ - next_ > *c.last) next_ = end_ - *c.last;
}

uint64_t NoteFeed::position(const SessionContext& ctx, uint64_t i) const noexcept {
  if (!from_) return i;
  return (*ctx.index.positions(*from_))[i];
}

uint64_t NoteFeed::end_pos(const SessionContext& ctx) const noexcept {
  if (!follow_ || before_) return end_;
  if (!from_) return ctx.store.count();
  const std::vector<uint32_t>* list = ctx.index.positions(*from_);
  return list ? list->size() : 0;
}

bool NoteFeed::finished(const SessionContext& ctx) const noexcept {
  return next_ >= end_pos(ctx);
}

uint64_t NoteFeed::backlog_bytes(const SessionContext& ctx) const noexcept {
  uint64_t end = end_pos(ctx);
  if (next_ >= end) return 0;
  const Store& st = ctx.store;
  return st.end_at(position(ctx, end - 1)) - st.offset_at(position(ctx, next_));
}

size_t NoteFeed::read(const SessionContext& ctx, size_t max_bytes, std::string& out, bool& ok) {
  // One pread of a span of notes.log into the shared scratch buffer, then the lines this
  // feed selects are copied out (for FROM, lines that are near each other share a span).
  ok = true;
  const Store& st = ctx.store;
  const uint64_t end = end_pos(ctx);
  if (next_ >= end) return 0;
  std::vector<char>& scratch = ctx.scratch;
  uint64_t first = st.offset_at(position(ctx, next_));
  uint64_t span_end = st.end_at(position(ctx, next_));
  uint64_t j = next_ + 1;
  uint64_t taken = span_end - first;
  while (j < end) {
    uint64_t p = position(ctx, j);
    uint64_t b = st.offset_at(p), e = st.end_at(p);
    if (e - first > scratch.size() || taken + (e - b) > max_bytes) break;
    span_end = e;
    taken += e - b;
    ++j;
  }
  size_t span = static_cast<size_t>(span_end - first);
  if (span > scratch.size()) scratch.resize(span);
  for (size_t got = 0; got < span;) {
    ssize_t n = ::pread(st.log_fd(), scratch.data() + got, span - got,
                        static_cast<off_t>(first + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      return 0;
    }
    got += static_cast<size_t>(n);
  }
  size_t lines = 0;
  for (uint64_t i = next_; i < j; ++i, ++lines) {
    uint64_t p = position(ctx, i);
    out.append(scratch.data() + (st.offset_at(p) - first), st.end_at(p) - st.offset_at(p));
  }
  next_ = j;
  return lines;
}
