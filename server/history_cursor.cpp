// history_cursor.cpp — see history_cursor.hpp.
#include "history_cursor.hpp"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

namespace {

uint64_t offset_of(const Store& st, size_t p) noexcept {
  return p < st.count() ? st.offset_at(p) : st.bytes();
}

const Index::Positions kNoPositions;

// Do the listed notes from l[j] on make a run of adjacent notes of kRunBytes or more?
bool long_run_at(const Store& st, const Index::Positions& l, uint64_t j, uint64_t limit) {
  const uint64_t first = st.offset_at(l[j]);
  for (uint64_t k = j + 1; k < limit && l[k] == l[k - 1] + 1; ++k)
    if (st.end_at(l[k]) - first >= HistoryCursor::kRunBytes) return true;
  return false;
}

}  // namespace

HistoryCursor::HistoryCursor(const Filters& f, Mode mode, const Store& st, const Index& idx)
    : mode_(mode), from_(f.from), by_list_(f.from.has_value()), filter_(f) {
  follow_base_ = st.bytes();
  // The store positions [start, end) that can hold a selected note.
  size_t start = st.position_after(f.since_seq), end = st.count();
  if (f.since_ms) start = std::max(start, idx.times().first_possible_at_or_after(*f.since_ms));
  if (f.until_ms && mode == Mode::snapshot)
    end = std::min(end, idx.times().end_of_before(*f.until_ms));
  if (f.before_seq && mode == Mode::snapshot)
    end = std::min(end, st.position_after(f.before_seq - 1));
  start = std::min(start, end);
  uint64_t lo, hi;  // the same range in this cursor's unit
  if (by_list_) {
    const Index::Positions& l = list(idx);
    lo = l.lower_bound(0, l.size(), static_cast<uint32_t>(start));
    hi = l.lower_bound(static_cast<size_t>(lo), l.size(), static_cast<uint32_t>(end));
  } else {
    lo = offset_of(st, start);
    hi = offset_of(st, end);
  }
  if (f.last && filter_.all()) {
    // Positional: the last N positions (bytes need the store's offsets).
    uint64_t n = by_list_ ? hi - lo : end - start;
    if (n > *f.last) {
      if (by_list_)
        lo = hi - *f.last;
      else
        lo = offset_of(st, end - static_cast<size_t>(*f.last));
      n = *f.last;
    }
    planned_ = n;
  } else if (filter_.all()) {
    planned_ = by_list_ ? hi - lo : end - start;
  } else if (f.last) {
    locating_ = *f.last > 0 && hi > lo;
    need_ = *f.last;
    back_ = hi;
    lower_ = lo;
    if (!locating_) lo = hi;  // LAST 0: nothing from the snapshot
  }
  if (by_list_) {
    li_ = lo;
    li_end_ = hi;
  } else {
    byte_off_ = lo;
    end_byte_ = hi;
  }
  since_seq_ = f.since_seq;
  since_pending_ = mode == Mode::follow && f.since_seq > 0 &&
                   st.position_after(f.since_seq) == st.count();  // no stored seq > N yet
}

void HistoryCursor::skip_since(const Store& st, const Index* idx) const noexcept {
  if (!since_pending_) return;
  const size_t p = st.position_after(since_seq_);  // the first note with seq > N, or count()
  if (by_list_) {
    const Index::Positions& l = list(*idx);
    li_ = l.lower_bound(static_cast<size_t>(std::min<uint64_t>(li_, l.size())), l.size(),
                        static_cast<uint32_t>(p));
  } else {
    byte_off_ = std::max(byte_off_, offset_of(st, p));
  }
  if (p < st.count()) since_pending_ = false;  // seqs rise: later notes all pass SINCE
}

const Index::Positions& HistoryCursor::list(const Index& idx) const noexcept {
  const Index::Positions* l = from_ ? idx.positions(*from_) : nullptr;
  return l ? *l : kNoPositions;
}

uint64_t HistoryCursor::list_end(const Index& idx) const noexcept {
  return mode_ == Mode::snapshot ? li_end_ : list(idx).size();
}

bool HistoryCursor::at_end(const Store& st, const Index& idx) const noexcept {
  skip_since(st, &idx);
  if (failed()) return true;
  if (locating_) return false;
  return by_list_ ? li_ >= list_end(idx) : byte_off_ >= range_end(st);
}

uint64_t HistoryCursor::backlog_bytes(const Store& st, const Index& idx) const noexcept {
  skip_since(st, &idx);
  uint64_t from = 0, to = 0;
  if (!by_list_) {
    from = byte_off_;
    to = st.bytes();
  } else if (const Index::Positions& l = list(idx); li_ < l.size()) {
    from = run_end_ ? byte_off_ : st.offset_at(l[li_]);  // a run: the part not sent yet
    to = st.end_at(l.back());
  }
  from = std::max(from, follow_base_);
  return to > from ? to - from : 0;
}

void HistoryCursor::end_early(const Store& st) noexcept {
  // Lines not sent are taken off the planned count (raw path: whole lines up to byte_off_).
  if (run_end_) {  // a FROM run, partly sent: the whole lines of it before byte_off_
    li_ += st.position_at(byte_off_) - run_pos_;
    run_end_ = 0;
  }
  if (filter_.all())
    planned_ -= by_list_ ? li_end_ - li_ : st.position_at(end_byte_) - st.position_at(byte_off_);
  end_byte_ = byte_off_;
  li_end_ = li_;
  locating_ = false;
  mode_ = Mode::snapshot;
  error_.clear();
}

bool HistoryCursor::finish_line(const Store& st, std::string& out) {
  if (!raw() || byte_off_ >= st.bytes()) return true;
  const uint64_t end = offset_of(st, st.position_at(byte_off_));  // the next line start
  if (end == byte_off_) return true;
  const size_t before = out.size(), n = static_cast<size_t>(end - byte_off_);
  out.resize(before + n);
  if (!read_at(st, out.data() + before, n, byte_off_)) {
    out.resize(before);
    return false;
  }
  raw_advance(n);
  return true;
}

bool HistoryCursor::read_at(const Store& st, char* buf, size_t n, uint64_t off) {
  if (off + n > st.readable_end()) {  // never send bytes the server did not write
    error_ = "store read stopped at byte " + std::to_string(off) + " of " + st.log_path() +
             ": the file holds fewer bytes than the server wrote (truncated underneath it)";
    return false;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(st.log_fd(), buf + got, n - got, static_cast<off_t>(off + got));
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    error_ = "store read failed at byte " + std::to_string(off + got) + " of " + st.log_path() +
             ": " + (r == 0 ? "the file ended early" : std::strerror(errno));
    return false;
  }
  return true;
}

size_t HistoryCursor::produce(const Store& st, const Index& idx, std::vector<char>& scratch,
                              size_t read_budget, size_t emit_limit,
                              const std::function<void(std::string_view)>& emit) {
  if (scratch.size() < kChunk) scratch.resize(kChunk);
  skip_since(st, &idx);
  size_t read = 0, emitted = 0;
  while (!failed() && emitted < emit_limit && (read == 0 || read < read_budget)) {
    size_t n;
    if (locating_)
      n = by_list_ ? locate_list_step(st, idx, scratch) : locate_range_step(st, scratch);
    else if (at_end(st, idx))
      break;
    else
      n = by_list_ ? list_step(st, idx, scratch, emit_limit - emitted, emitted, emit)
                   : range_step(st, scratch, emitted, emit);
    if (n == 0) break;
    read += n;
    if (long_run_next_) break;  // the caller may send the run with start_run()
  }
  return read;
}

size_t HistoryCursor::range_step(const Store& st, std::vector<char>& scratch, size_t& emitted,
                                 const std::function<void(std::string_view)>& emit) {
  const uint64_t end = range_end(st);
  size_t span = static_cast<size_t>(std::min<uint64_t>(end - byte_off_, kChunk));
  if (!read_at(st, scratch.data(), span, byte_off_)) return 0;
  std::string_view chunk(scratch.data(), span);
  if (byte_off_ + span < end) {  // keep whole lines; the rest is read next time
    size_t nl = chunk.rfind('\n');
    if (nl == std::string_view::npos) {
      error_ = "store line longer than " + std::to_string(kChunk) + " bytes at byte " +
               std::to_string(byte_off_) + " of " + st.log_path();
      return 0;
    }
    chunk = chunk.substr(0, nl + 1);
  }
  assert(!chunk.empty() && chunk.back() == '\n');  // whole lines only: the store's end is one
  auto take = [&](std::string_view line) {
    emit(line);
    emitted += line.size();
    ++emitted_;
  };
  if (filter_.all()) {
    for (size_t b = 0; b < chunk.size();) {
      size_t e = chunk.find('\n', b) + 1;
      take(chunk.substr(b, e - b));
      b = e;
    }
  } else {
    filter_.each_passing(chunk, take);
  }
  byte_off_ += chunk.size();
  return span;
}

bool HistoryCursor::start_run(const Store& st, const Index& idx) noexcept {
  if (!by_list_ || !filter_.all() || locating_ || run_end_ || failed()) return false;
  skip_since(st, &idx);
  const Index::Positions& l = list(idx);
  const uint64_t limit = std::min<uint64_t>(list_end(idx), l.size());
  if (li_ >= limit) return false;
  const uint64_t first = st.offset_at(l[li_]);
  uint64_t j = li_ + 1;
  while (j < limit && l[j] == l[j - 1] + 1 && st.end_at(l[j]) - first <= kRunMax) ++j;
  const uint64_t end = st.end_at(l[j - 1]);
  if (end - first < kRunBytes) return false;
  byte_off_ = first;
  run_end_ = end;
  run_li_end_ = j;
  run_pos_ = l[li_];
  return true;
}

size_t HistoryCursor::list_step(const Store& st, const Index& idx, std::vector<char>& scratch,
                                size_t emit_room, size_t& emitted,
                                const std::function<void(std::string_view)>& emit) {
  // Scattered lines: ONE pread of the span of notes.log that holds the next listed notes,
  // up to emit_room bytes of them (at least one note) and a span of scratch.size(), then
  // the listed lines are taken from it. The gaps between them (what other clients wrote)
  // are read through while narrower than kMaxGap: on this VM reading a page of the page
  // cache costs less than a second pread, or than mapping it (BENCHMARKS.md, "Sparse
  // history"); a wider gap ends the span, so a sparse client's notes are read alone.
  // A run of adjacent notes long enough for sendfile ends it too (start_run).
  const Index::Positions& l = list(idx);
  const uint64_t limit = std::min<uint64_t>(list_end(idx), l.size());
  long_run_next_ = false;
  const uint64_t first = st.offset_at(l[li_]);
  uint64_t span_end = st.end_at(l[li_]), taken = span_end - first;
  uint64_t j = li_ + 1;
  for (; j < limit; ++j) {
    const uint64_t b = st.offset_at(l[j]), e = st.end_at(l[j]);
    if (e - first > scratch.size() || taken + (e - b) > emit_room || b - span_end > kMaxGap)
      break;
    if (b != span_end && filter_.all() && long_run_at(st, l, j, limit)) {
      long_run_next_ = true;  // sent by sendfile after this span
      break;
    }
    span_end = e;
    taken += e - b;
  }
  const size_t span = static_cast<size_t>(span_end - first);
  assert(span_end > first);  // the list is in store order
  if (span > scratch.size()) scratch.resize(span);  // one note longer than the scratch
  if (!read_at(st, scratch.data(), span, first)) return 0;
  for (uint64_t x = li_; x < j; ++x) {
    const uint64_t b = st.offset_at(l[x]);
    std::string_view line(scratch.data() + (b - first), static_cast<size_t>(st.end_at(l[x]) - b));
    if (!filter_.all() && !filter_.passes(line)) continue;
    emit(line);
    emitted += line.size();
    ++emitted_;
  }
  li_ = j;
  return span;
}

size_t HistoryCursor::locate_range_step(const Store& st, std::vector<char>& scratch) {
  // One chunk backwards from back_: count the passing lines; when they reach need_, the
  // forward stream starts at the need_-th from the chunk's end.
  uint64_t b = back_ > lower_ + kChunk ? back_ - kChunk : lower_;
  size_t span = static_cast<size_t>(back_ - b);
  if (!read_at(st, scratch.data(), span, b)) return 0;
  std::string_view chunk(scratch.data(), span);
  if (b > lower_) {  // the first line may be partial: it belongs to the next chunk back
    size_t nl = chunk.find('\n');
    if (nl == std::string_view::npos) {
      error_ = "store line longer than " + std::to_string(kChunk) + " bytes before byte " +
               std::to_string(back_) + " of " + st.log_path();
      return 0;
    }
    chunk = chunk.substr(nl + 1);
    b += nl + 1;
  }
  uint64_t found = 0;
  filter_.each_passing(chunk, [&](std::string_view) { ++found; });
  if (found >= need_) {
    uint64_t skip = found - need_, k = 0;
    uint64_t start = 0;
    filter_.each_passing(chunk, [&](std::string_view line) {
      if (k++ == skip) start = b + static_cast<uint64_t>(line.data() - chunk.data());
    });
    byte_off_ = start;
    locating_ = false;
  } else {
    need_ -= found;
    back_ = b;
    if (back_ <= lower_) {  // fewer than N in all: send every one
      byte_off_ = lower_;
      locating_ = false;
    }
  }
  return span;
}

size_t HistoryCursor::locate_list_step(const Store& st, const Index& idx,
                                       std::vector<char>& scratch) {
  const Index::Positions& l = list(idx);
  const uint64_t last_end = st.end_at(l[back_ - 1]);
  uint64_t j = back_ - 1;  // lines [j, back_) fit in one read
  while (j > lower_ && last_end - st.offset_at(l[j - 1]) <= scratch.size()) --j;
  const uint64_t first = st.offset_at(l[j]);
  size_t span = static_cast<size_t>(last_end - first);
  if (span > scratch.size()) scratch.resize(span);
  if (!read_at(st, scratch.data(), span, first)) return 0;
  for (uint64_t x = back_; x-- > j;) {
    std::string_view line(scratch.data() + (st.offset_at(l[x]) - first),
                          static_cast<size_t>(st.end_at(l[x]) - st.offset_at(l[x])));
    if (filter_.passes(line) && --need_ == 0) {
      li_ = x;
      locating_ = false;
      return span;
    }
  }
  back_ = j;
  if (back_ <= lower_) {
    li_ = lower_;
    locating_ = false;
  }
  return span;
}
